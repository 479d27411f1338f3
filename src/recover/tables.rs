//! Stage 4: the rows of every placed table, in name order: each of its
//! indexes recovered (`rows`) and a partitioned table's
//! partitions merged into one, with notes on how the table was read. A
//! table defined by the data dictionary alone has the columns whose type
//! is a guess written as NULL, in partial rows.

use std::collections::{BTreeMap, HashSet};

use super::indexes::Indexes;
use super::placement::{Placement, Tied};
use super::rows::recover_index;
use super::schemas::Schemas;
use super::{PartialRow, RowRef, TableRecovery, Tick};
use crate::carve::pages::StorePages;
use crate::schema::{SchemaSource, TableDef};

/// Recovers every table of `placement`, one at a time, reporting progress
/// per leaf page copy; `each` gets every table as soon as it is recovered
/// (it may write its rows and [`TableRecovery::release`] them).
pub(super) fn recover_placed(
    placement: &Placement,
    schemas: &Schemas,
    indexes: &Indexes,
    src: &StorePages,
    active: &HashSet<u64>,
    progress: &(dyn Fn(usize, usize) + Sync),
    each: &mut dyn FnMut(&mut TableRecovery),
) -> Vec<TableRecovery> {
    let total: usize = placement
        .tied
        .iter()
        .flat_map(|t| &t.indexes)
        .map(|k| indexes.leaves.get(k).map_or(0, Vec::len))
        .sum();
    let tick = Tick::new(total, progress);
    let mut tables: Vec<TableRecovery> = Vec::with_capacity(placement.tied.len());
    for (i, tied) in placement.tied.iter().enumerate() {
        let mut t = recover_table(i, tied, placement, indexes, src, active, &tick);
        if t.source == SchemaSource::Dictionary {
            dictionary_only(&mut t, &schemas.uncertain);
        }
        each(&mut t);
        tables.push(t);
    }
    tables.sort_by(|a, b| (&a.db, &a.table).cmp(&(&b.db, &b.table)));
    tables
}

/// Table `i` of the placement, from its indexes (or why it has none).
fn recover_table(
    i: usize,
    tied: &Tied,
    placement: &Placement,
    indexes: &Indexes,
    src: &StorePages,
    active: &HashSet<u64>,
    tick: &Tick,
) -> TableRecovery {
    let def = &tied.def;
    let mut t = if tied.indexes.is_empty() {
        let mut t = TableRecovery::empty(def);
        t.notes.push(match placement.tried.get(&i) {
            Some(n) => format!(
                "the records of none of the {n} unclaimed indexes fit this definition: \
                 check that the CREATE TABLE is the one the data was written with \
                 (columns, types, ROW_FORMAT)"
            ),
            None => "no pages of this table's clustered index were found".to_string(),
        });
        t
    } else {
        let parts: Vec<TableRecovery> = tied
            .indexes
            .iter()
            .map(|k| recover_index(def, &indexes.leaves[k], &indexes.roots, src, active, tick))
            .collect();
        merge_partitions(def, parts)
    };
    if placement.old_format.contains(&i) {
        t.notes.push(
            "TIME / DATETIME / TIMESTAMP read in the pre-MySQL 5.6.4 formats: the records' sizes fit those"
                .into(),
        );
    }
    t
}

/// One table from its partitions' recoveries.
fn merge_partitions(def: &TableDef, mut parts: Vec<TableRecovery>) -> TableRecovery {
    if parts.len() == 1 {
        return parts.pop().expect("one part");
    }
    let mut t = TableRecovery::empty(def);
    t.notes.push(format!("{} partitions", parts.len()));
    for p in parts {
        let base = t.pages.len() as u32;
        let moved = |r: RowRef| RowRef {
            page: base + r.page,
            rec: r.rec,
        };
        t.rows.extend(p.rows.into_iter().map(moved));
        t.deleted.extend(p.deleted.into_iter().map(moved));
        t.uncertain.extend(p.uncertain.into_iter().map(moved));
        t.uncertain_from.add(&p.uncertain_from);
        t.rows_from.add(&p.rows_from);
        t.partial.extend(p.partial.into_iter().map(|x| PartialRow {
            row: moved(x.row),
            failed: x.failed,
        }));
        t.pages.extend(p.pages);
        t.leaf_pages += p.leaf_pages;
        t.leaf_pages_damaged += p.leaf_pages_damaged;
        t.leaf_pages_missing += p.leaf_pages_missing;
        t.records_skipped += p.records_skipped;
        t.notes.extend(p.notes);
    }
    t.count();
    t
}

/// A table read with the InnoDB data dictionary's definition alone: its
/// uncertain columns (`uncertain`, by `db.table`) marked, and a note.
fn dictionary_only(t: &mut TableRecovery, uncertain: &BTreeMap<String, Vec<usize>>) {
    let cols = uncertain
        .get(&format!("{}.{}", t.db, t.table))
        .cloned()
        .unwrap_or_default();
    if !cols.is_empty() {
        mark_uncertain(t, &cols);
    }
    t.notes.push(
        "decoded from the InnoDB data dictionary alone: DECIMAL, ENUM, SET and similar columns come out as raw \
         bytes; pass the CREATE TABLE with --schema for exact values"
            .into(),
    );
}

/// Columns whose type the schema source could only guess: every row that
/// has them goes to the partial rows with those columns NULL.
fn mark_uncertain(t: &mut TableRecovery, cols: &[usize]) {
    let names: Vec<String> = cols
        .iter()
        .filter_map(|&i| t.def.columns.get(i).map(|c| c.name.clone()))
        .collect();
    let reason =
        "type not known from the InnoDB dictionary alone (pass the CREATE TABLE with --schema)"
            .to_string();
    for row in std::mem::take(&mut t.rows) {
        for &i in cols {
            t.pages[row.page as usize].set_null(row.rec as usize, i);
        }
        t.partial.push(PartialRow {
            row,
            failed: names.iter().map(|n| (n.clone(), reason.clone())).collect(),
        });
    }
    let withheld = std::mem::take(&mut t.deleted).len() + std::mem::take(&mut t.uncertain).len();
    if withheld > 0 {
        t.notes.push(format!(
            "{withheld} deleted or uncertain rows withheld: they need the table's CREATE TABLE too"
        ));
    }
    t.deleted_rows = 0;
    t.uncertain_rows = 0;
    t.uncertain_from = Default::default();
    t.rows_from = Default::default();
    t.rows_written = 0;
    t.partial_rows = t.partial.len();
    t.notes.push(format!(
        "columns {} need the table's CREATE TABLE: rows written as partial",
        names.join(", ")
    ));
}
