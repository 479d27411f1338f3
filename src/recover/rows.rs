//! Stage 4, for one index: its rows under one table definition — the
//! table's layout (with MariaDB instant ALTER columns when the index's root
//! says so), the leaf page copies to decode (`leaf_pages`), decoded in
//! parallel into one buffer of values per page, and their records sorted
//! into rows (`classify`).

use rayon::prelude::*;

use std::collections::HashSet;

use super::classify::{classify, Evidence};
use super::indexes::InstantRoots;
use super::leaf_pages::{self, Role};
use super::{TableRecovery, Tick};
use crate::bytes::be_u32;
use crate::carve::pages::{page_bytes, StorePages};
use crate::carve::{PageRecord, Status};
use crate::innodb::fil;
use crate::innodb::rows::{
    decode_leaf_page_text, decode_unproven_page_text, mariadb_instant_layout, PageText,
};
use crate::schema::TableDef;

/// One decoded page copy.
pub(super) struct DecodedPage {
    pub text: PageText,
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
}

/// Everything recovered from the leaf pages `pages` (every copy found of
/// one index's leaf pages) read as table `def`.
pub(super) fn recover_index(
    def: &TableDef,
    pages: &[&PageRecord],
    roots: &InstantRoots,
    src: &StorePages,
    active: &HashSet<u64>,
    tick: &Tick,
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
        .map(|&(p, role)| {
            let d = decode_copy(p, role, &def, src);
            tick.pages(1);
            d
        })
        .collect();
    // Copies of the index not decoded (damaged ones older than a good one).
    tick.pages(pages.len().saturating_sub(leaves.copies.len()));
    let ev = Evidence {
        complete: leaves.complete,
        active,
    };
    let sorted = classify(&def, &decoded, &ev);
    t.rows = sorted.live;
    t.partial = sorted.partial;
    t.deleted = sorted.deleted;
    t.uncertain = sorted.uncertain;
    t.uncertain_from = sorted.uncertain_from;
    for r in &t.rows {
        t.rows_from.count(decoded[r.page as usize].status);
    }
    if sorted.uncertain_from.active_transactions > 0 {
        t.notes.push(format!(
            "{} rows written or deleted by transactions still active at the crash (the server would roll \
             them back; their earlier versions are in the undo log): written as uncertain",
            sorted.uncertain_from.active_transactions
        ));
    }
    t.records_skipped = sorted.records_skipped;
    t.notes.extend(sorted.note);
    t.pages = decoded.into_iter().map(|d| d.text.values).collect();
    t.count();
    t
}

/// The records of one copy: a damaged one read as far as it can be
/// ([`decode_unproven_page_text`]).
fn decode_copy(p: &PageRecord, role: Role, def: &TableDef, src: &StorePages) -> DecodedPage {
    let bytes = page_bytes(src.image, p);
    let link = |at| {
        bytes
            .as_deref()
            .and_then(|b| be_u32(b, at))
            .unwrap_or(fil::FIL_NULL)
    };
    let (prev, next) = (link(fil::FIL_PAGE_PREV), link(fil::FIL_PAGE_NEXT));
    let text = match &bytes {
        Some(b) if role == Role::Unproven => decode_unproven_page_text(b, def, src),
        Some(b) => decode_leaf_page_text(b, def, src),
        None => PageText::default(),
    };
    DecodedPage {
        text,
        lsn: p.lsn,
        role,
        page_no: p.page_no,
        prev,
        next,
        status: p.status,
    }
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
