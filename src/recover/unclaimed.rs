//! Stage 5: what recovery could not use, for the report — tables whose
//! pages were not found, and indexes with records that no schema claimed
//! (their table's CREATE TABLE is needed).

use std::collections::BTreeSet;

use super::indexes::{IndexKey, Leaves};
use super::TableRecovery;
use crate::carve::store::{IndexSummary, PageStore};
use crate::innodb::dict::DictTable;

/// `db.table` of each table without a leaf page.
pub(super) fn tables_without_pages(tables: &[TableRecovery]) -> Vec<String> {
    tables
        .iter()
        .filter(|t| t.leaf_pages == 0)
        .map(|t| format!("{}.{}", t.db, t.table))
        .collect()
}

/// Indexes with leaf records that no table claimed, other than the
/// internal ones and those the dictionary names.
pub(super) fn unknown_indexes(
    store: &PageStore,
    leaves: &Leaves,
    claimed: &BTreeSet<IndexKey>,
    dictionary: &[DictTable],
) -> Vec<IndexSummary> {
    store
        .indexes()
        .into_iter()
        .filter(|i| {
            i.records > 0
                && !claimed.contains(&(i.space_id, i.index_id))
                && leaves.contains_key(&(i.space_id, i.index_id))
        })
        .filter(|i| !is_internal_index(i))
        .filter(|i| {
            !dictionary.iter().any(|t| {
                t.indexes
                    .iter()
                    .any(|x| x.id == i.index_id && x.space == i.space_id)
            })
        })
        .collect()
}

/// The system tablespace's own indexes (the data dictionary, change buffer)
/// and SDI indexes are not user tables.
fn is_internal_index(i: &IndexSummary) -> bool {
    i.index_id == u64::MAX || (i.space_id == 0 && i.index_id < 16)
}
