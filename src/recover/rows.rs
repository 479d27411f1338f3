//! Stage 4, for one index: its rows under one table definition — the
//! table's layout (with MariaDB instant ALTER columns when the index's root
//! says so), the leaf page copies to decode (`leaf_pages`), decoded in
//! parallel into one buffer of values per page, and their records sorted
//! into rows (`classify`).

use rayon::prelude::*;

use super::classify::classify;
use super::indexes::InstantRoots;
use super::{leaf_pages, TableRecovery};
use crate::bytes::be_u32;
use crate::carve::pages::{page_bytes, StorePages};
use crate::carve::{PageRecord, Status};
use crate::innodb::fil;
use crate::innodb::rows::{decode_leaf_page_text, mariadb_instant_layout, PageText};
use crate::schema::TableDef;

/// One decoded page copy.
pub(super) struct DecodedPage {
    pub text: PageText,
    /// The copy's page LSN.
    pub lsn: u64,
    /// The newest copy of a page still in the index: its records may be live.
    pub newest: bool,
}

/// Everything recovered from the leaf pages `pages` (every copy found of
/// one index's leaf pages) read as table `def`.
pub(super) fn recover_index(
    def: &TableDef,
    pages: &[&PageRecord],
    roots: &InstantRoots,
    src: &StorePages,
) -> TableRecovery {
    let mut t = TableRecovery::empty(def);
    let (space_id, index_id) = (pages[0].space_id, pages[0].index_id);
    t.space_id = Some(space_id);
    t.index_id = Some(index_id);

    let def = match roots.get(&(space_id, index_id)) {
        Some(root) => instant_layout(def, root, pages, src, &mut t.notes),
        None => def.clone(),
    };
    let leaves = leaf_pages::select(pages, src);
    t.leaf_pages = leaves.good;
    t.leaf_pages_damaged = leaves.damaged;
    t.leaf_pages_missing = leaves.missing;
    t.notes.extend(leaves.notes);

    // Each page's values in one buffer; rows are (page, record) pairs.
    let decoded: Vec<DecodedPage> = leaves
        .copies
        .par_iter()
        .map(|&(p, newest)| DecodedPage {
            text: match page_bytes(src.image, p) {
                Some(bytes) => decode_leaf_page_text(&bytes, &def, src),
                None => PageText::default(),
            },
            lsn: p.lsn,
            newest,
        })
        .collect();
    let sorted = classify(&def, &decoded);
    t.rows = sorted.live;
    t.partial = sorted.partial;
    t.deleted = sorted.deleted;
    t.records_skipped = sorted.records_skipped;
    t.notes.extend(sorted.note);
    t.pages = decoded.into_iter().map(|d| d.text.values).collect();
    t.count();
    t
}

/// `def` after MariaDB instant ALTER, as the index's root (a page of type
/// INSTANT) and its leftmost leaf describe it; a note says what was done.
fn instant_layout(
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
