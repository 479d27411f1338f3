//! One leaf page copy read as the index's table definition: its records
//! and values ([`decode_copy`]), what the copy proves ([`CopyMeta`]), and
//! each record as the passes weigh it ([`Found`]). The table definition
//! itself first gets MariaDB's instant ALTER layout when the index's root
//! says so ([`instant_layout`]).

use super::leaf_pages::Role;
use crate::bytes::be_u32;
use crate::carve::pages::{page_bytes, StorePages};
use crate::carve::{PageRecord, Status};
use crate::innodb::fil;
use crate::innodb::rows::{
    decode_leaf_page_key_probe, decode_leaf_page_keys, decode_leaf_page_text,
    decode_unproven_page_text, mariadb_instant_layout, PageText, RecordInfo, RecordOrigin,
};
use crate::recover::RowRef;
use crate::schema::TableDef;

/// Where a decoded page copy came from and what it proves.
#[derive(Debug, Clone, Copy)]
pub(super) struct CopyMeta {
    /// The copy's page LSN.
    pub lsn: u64,
    /// What the copy proves about its records.
    pub role: Role,
    pub page_no: u32,
    /// The copy's leaf-list links (FIL_PAGE_PREV / FIL_PAGE_NEXT).
    pub prev: u32,
    pub next: u32,
    /// How the carver proved the copy (intact, reassembled, repaired, redone).
    pub status: Status,
    /// The first pass read only the keys of this copy's records
    /// ([`decode_leaf_page_key_probe`]): its key range may be wider than
    /// its rows', and its full decode is summarized again in pass 2.
    pub lean: bool,
}

/// A record that may be a live row: listed, not delete-marked, on the
/// newest good copy of a page still in the index.
pub(super) fn candidate(role: Role, r: &RecordInfo) -> bool {
    matches!(role, Role::Newest { .. }) && r.origin == RecordOrigin::Live && !r.delete_marked
}

/// One decoded record, with where it came from.
#[derive(Debug, Clone, Copy)]
pub(super) struct Found<'a> {
    pub key: &'a [u8],
    pub lsn: u64,
    pub at: RowRef,
    /// Every column decoded.
    pub full: bool,
    /// DB_TRX_ID: which version of a row is newer.
    pub trx_id: u64,
    /// On the page's record list (not its free list).
    pub listed: bool,
    pub delete_marked: bool,
    pub role: Role,
}

impl Found<'_> {
    /// The record's values are read by [`decode_leaf_page_keys`] too: it
    /// is delete-marked or on the free list (that decode leaves out only
    /// the values of listed records not delete-marked).
    pub(super) fn valued_by_keys(&self) -> bool {
        self.delete_marked || !self.listed
    }
}

/// Record `j` of copy `i`.
pub(super) fn found<'a>(i: usize, meta: &CopyMeta, text: &'a PageText, j: usize) -> Found<'a> {
    let r = &text.records[j];
    Found {
        key: text.key(j),
        lsn: meta.lsn,
        at: RowRef {
            page: i as u32,
            rec: j as u32,
        },
        full: text.is_full(j),
        trx_id: r.trx_id.unwrap_or(0),
        listed: r.origin == RecordOrigin::Live,
        delete_marked: r.delete_marked,
        role: meta.role,
    }
}

/// The records of one copy: a damaged one read as far as it can be
/// ([`decode_unproven_page_text`]); with `keys_only`, a newest copy's live
/// candidates without their values: their keys alone when the page has
/// nothing else ([`decode_leaf_page_key_probe`]), else
/// [`decode_leaf_page_keys`].
pub(super) fn decode_copy(
    p: &PageRecord,
    role: Role,
    def: &TableDef,
    src: &StorePages,
    keys_only: bool,
) -> (CopyMeta, PageText) {
    let bytes = page_bytes(src.image, p);
    let link = |at| {
        bytes
            .as_deref()
            .and_then(|b| be_u32(b, at))
            .unwrap_or(fil::FIL_NULL)
    };
    let (prev, next) = (link(fil::FIL_PAGE_PREV), link(fil::FIL_PAGE_NEXT));
    let mut lean = false;
    let text = match &bytes {
        Some(b) if role == Role::Unproven => decode_unproven_page_text(b, def, src),
        Some(b) if keys_only && matches!(role, Role::Newest { .. }) => {
            match decode_leaf_page_key_probe(b, def) {
                Some(t) => {
                    lean = true;
                    t
                }
                None => decode_leaf_page_keys(b, def, src),
            }
        }
        Some(b) => decode_leaf_page_text(b, def, src),
        None => PageText::default(),
    };
    let meta = CopyMeta {
        lsn: p.lsn,
        role,
        page_no: p.page_no,
        prev,
        next,
        status: p.status,
        lean,
    };
    (meta, text)
}

/// Copy `p` decoded for some of its records' values (pass 3). With
/// `keys_enough` (every record wanted is one [`Found::valued_by_keys`]) a
/// newest copy is read by [`decode_leaf_page_keys`]: every record parsed
/// and checked as a full decode does (the same records, in the same order),
/// but the values of the live rows around them not formatted. Otherwise,
/// the full decode.
pub(super) fn decode_rows(
    p: &PageRecord,
    role: Role,
    def: &TableDef,
    src: &StorePages,
    keys_enough: bool,
) -> PageText {
    if keys_enough && matches!(role, Role::Newest { .. }) {
        if let Some(b) = page_bytes(src.image, p) {
            return decode_leaf_page_keys(&b, def, src);
        }
    }
    decode_copy(p, role, def, src, false).1
}

/// `def` after MariaDB instant ALTER, as the index's root (a page of type
/// INSTANT) and its leftmost leaf describe it; a note says what was done.
pub(super) fn instant_layout(
    def: &TableDef,
    root: &PageRecord,
    pages: &[&PageRecord],
    src: &StorePages,
    notes: &mut Vec<String>,
) -> TableDef {
    match mariadb_layout(def, root, pages, src) {
        Some(Ok(Some(d))) => {
            notes.push("MariaDB instant ALTER layout applied".into());
            d
        }
        Some(Err(e)) => {
            notes.push(format!("instant metadata unreadable: {e}"));
            def.clone()
        }
        Some(Ok(None)) | None => def.clone(),
    }
}

/// MariaDB instant ALTER layout from the clustered index's root (a page of
/// type INSTANT) and its leftmost leaf: `None` when either is missing.
fn mariadb_layout(
    def: &TableDef,
    root: &PageRecord,
    pages: &[&PageRecord],
    src: &StorePages,
) -> Option<Result<Option<TableDef>, String>> {
    let root_bytes = page_bytes(src.image, root)?;
    // The leftmost leaf: no previous page.
    let leftmost = pages
        .iter()
        .filter(|p| p.status != Status::Damaged)
        .filter_map(|p| {
            let b = page_bytes(src.image, p)?;
            (be_u32(&b, fil::FIL_PAGE_PREV) == Some(fil::FIL_NULL)).then_some((p.lsn, b))
        })
        .max_by_key(|(lsn, _)| *lsn)
        .map(|(_, b)| b)?;
    Some(mariadb_instant_layout(def, &root_bytes, &leftmost, src))
}
