//! Part of stage 4 (`rows`): the decoded records of one index sorted into live, partial
//! and deleted rows, each record in at most one list.
//!
//! The newest good copy of each leaf page still in the index gives the
//! live rows: the newest page LSN wins a primary key (then a complete row
//! over a partial one). Delete-marked records, records on a page's free
//! list and records only on older copies of a page are deleted rows, unless
//! the same key is live; of the versions of a key, only the newest counts.
//! A row with a column that could not be decoded is partial, never a
//! silently truncated value.

use super::rows::DecodedPage;
use super::{PartialRow, RowRef};
use crate::innodb::rows::{PageText, RecordOrigin};
use crate::schema::TableDef;

/// The rows of one index, as (page, record) pairs into its decoded pages.
pub(super) struct Sorted {
    pub live: Vec<RowRef>,
    pub partial: Vec<PartialRow>,
    pub deleted: Vec<RowRef>,
    /// Records on the newest copies that failed the structural checks.
    pub records_skipped: usize,
    /// Pages whose record heap the definition does not fill (none of their
    /// records kept): what that says about the definition.
    pub note: Option<String>,
}

/// One decoded record, with where it came from.
#[derive(Debug, Clone, Copy)]
struct Found<'a> {
    key: &'a [u8],
    lsn: u64,
    at: RowRef,
    /// Every column decoded.
    full: bool,
    /// DB_TRX_ID: which version of a row is newer.
    trx_id: u64,
    /// On the page's record list (not its free list).
    listed: bool,
}

/// Sorts the records of `decoded` (read as `def`) into rows.
pub(super) fn classify(def: &TableDef, decoded: &[DecodedPage]) -> Sorted {
    let mut sorted = Sorted {
        live: Vec::new(),
        partial: Vec::new(),
        deleted: Vec::new(),
        records_skipped: 0,
        note: None,
    };
    let mut candidates: Vec<Found> = Vec::new();
    let mut others: Vec<Found> = Vec::new();
    let mut misfits: Vec<i64> = Vec::new();
    for (i, page) in decoded.iter().enumerate() {
        if page.newest {
            sorted.records_skipped += page.text.skipped_live;
        }
        misfits.extend(page.text.heap_mismatch);
        for (j, r) in page.text.records.iter().enumerate() {
            let f = found(page, i, j);
            if page.newest && r.origin == RecordOrigin::Live && !r.delete_marked {
                candidates.push(f);
            } else {
                others.push(f);
            }
        }
    }
    let live_keys = pick_live(def, decoded, candidates, &mut others, &mut sorted);
    if let Some(first) = misfits.first() {
        sorted.note = Some(format!(
            "on {} pages the records, sized by this table definition, do not fill the page's record heap \
             ({first:+} bytes on the first): the definition is not the one the rows were written with \
             (a column missing, extra or of another type?), so their records are not written",
            misfits.len()
        ));
    }
    sorted.deleted = pick_deleted(others, &live_keys);
    sorted
}

/// Record `j` of page `i`.
fn found(page: &DecodedPage, i: usize, j: usize) -> Found<'_> {
    let r = &page.text.records[j];
    Found {
        key: page.text.key(j),
        lsn: page.lsn,
        at: RowRef {
            page: i as u32,
            rec: j as u32,
        },
        full: page.text.is_full(j),
        trx_id: r.trx_id.unwrap_or(0),
        listed: r.origin == RecordOrigin::Live,
    }
}

/// The live rows among the candidates (into `sorted`), one per key: the
/// newest page LSN wins a key, then a complete row over a partial one; the
/// losers join `others`. Returns the live keys, sorted. Pages come in page
/// order, which is mostly key order, so the stable sort is close to linear.
fn pick_live<'a>(
    def: &TableDef,
    decoded: &[DecodedPage],
    mut candidates: Vec<Found<'a>>,
    others: &mut Vec<Found<'a>>,
    sorted: &mut Sorted,
) -> Vec<&'a [u8]> {
    candidates.sort_by(|a, b| {
        a.key
            .cmp(b.key)
            .then(b.lsn.cmp(&a.lsn))
            .then(b.full.cmp(&a.full))
    });
    let mut live_keys: Vec<&[u8]> = Vec::with_capacity(candidates.len());
    for f in candidates {
        if live_keys.last() == Some(&f.key) {
            others.push(f);
            continue;
        }
        if f.full {
            sorted.live.push(f.at);
        } else {
            sorted.partial.push(PartialRow {
                row: f.at,
                failed: failed_columns(def, &decoded[f.at.page as usize].text, f.at.rec as usize),
            });
        }
        live_keys.push(f.key);
    }
    live_keys
}

/// The deleted rows: complete, not live under the same key; of the
/// versions of a key, the newest (highest DB_TRX_ID, then page LSN, then
/// the one still on its page's record list: the delete-marked record
/// itself).
fn pick_deleted(mut others: Vec<Found>, live_keys: &[&[u8]]) -> Vec<RowRef> {
    others.sort_by(|a, b| {
        a.key
            .cmp(b.key)
            .then(b.trx_id.cmp(&a.trx_id))
            .then(b.lsn.cmp(&a.lsn))
            .then(b.listed.cmp(&a.listed))
    });
    let mut deleted = Vec::new();
    let mut seen: Option<&[u8]> = None;
    for f in others {
        if seen == Some(f.key) {
            continue;
        }
        seen = Some(f.key);
        if f.full && live_keys.binary_search(&f.key).is_err() {
            deleted.push(f.at);
        }
    }
    deleted
}

/// (column name, why it failed) for each failed column of record `rec`.
fn failed_columns(def: &TableDef, page: &PageText, rec: usize) -> Vec<(String, String)> {
    page.failures(rec)
        .iter()
        .map(|f| {
            (
                def.columns
                    .get(f.column)
                    .map_or_else(|| f.column.to_string(), |c| c.name.clone()),
                f.reason.clone(),
            )
        })
        .collect()
}
