//! Stage 4: the rows of every placed table, in name order: each of its
//! indexes recovered (`rows`) and a partitioned table's
//! partitions merged into one, with notes on how the table was read. A
//! table defined by the data dictionary alone has the columns whose type
//! is a guess written as NULL, in partial rows.

use std::collections::HashSet;
use std::io;

use super::emit::{Emit, RowSink};
use super::index::recover_index;
use super::indexes::Indexes;
use super::placement::{Placement, Tied};
use super::schemas::Schemas;
use super::{Memory, TableRecovery, Tick};
use crate::carve::pages::StorePages;
use crate::schema::SchemaSource;

/// Recovers every table of `placement`, one at a time, reporting progress
/// per leaf page copy; the rows of each go to `sink` as they are sorted.
#[allow(clippy::too_many_arguments)]
pub(super) fn recover_placed(
    placement: &Placement,
    schemas: &Schemas,
    indexes: &Indexes,
    src: &StorePages,
    active: &HashSet<u64>,
    mem: &Memory,
    progress: &(dyn Fn(usize, usize) + Sync),
    sink: &mut dyn RowSink,
) -> io::Result<Vec<TableRecovery>> {
    let copies: usize = placement
        .tied
        .iter()
        .flat_map(|t| &t.indexes)
        .map(|k| indexes.leaves.get(k).map_or(0, Vec::len))
        .sum();
    // Every copy surveyed, then (about) every copy decoded in pass 2; each
    // index sets its pass 2 right, and adds its pass 3, when it knows them.
    let tick = Tick::new(2 * copies, progress);
    let mut tables: Vec<TableRecovery> = Vec::with_capacity(placement.tied.len());
    for (i, tied) in placement.tied.iter().enumerate() {
        let def = &tied.def;
        let mut t = TableRecovery::empty(def);
        // A table known only from the dictionary: the columns whose type
        // is a guess are written NULL.
        let guessed = if def.source == SchemaSource::Dictionary {
            schemas
                .uncertain
                .get(&def.qualified())
                .cloned()
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let mut emit = Emit::new(sink, src, &t, guessed.clone());
        recover_table(
            i, tied, placement, indexes, src, active, mem, &tick, &mut t, &mut emit,
        );
        if def.source == SchemaSource::Dictionary {
            dictionary_only(&mut t, &guessed, emit.withheld);
        }
        emit.end(&mut t)?;
        t.rows_lost_estimate = t.lost_estimate();
        tables.push(t);
    }
    tables.sort_by(|a, b| (&a.db, &a.table).cmp(&(&b.db, &b.table)));
    Ok(tables)
}

/// Table `i` of the placement, from its indexes (or why it has none).
#[allow(clippy::too_many_arguments)]
fn recover_table(
    i: usize,
    tied: &Tied,
    placement: &Placement,
    indexes: &Indexes,
    src: &StorePages,
    active: &HashSet<u64>,
    mem: &Memory,
    tick: &Tick,
    t: &mut TableRecovery,
    emit: &mut Emit,
) {
    let def = &tied.def;
    if tied.indexes.is_empty() {
        t.notes.push(match placement.tried.get(&i) {
            Some(n) => format!(
                "the records of none of the {n} unclaimed indexes fit this definition: \
                 check that the CREATE TABLE is the one the data was written with \
                 (columns, types, ROW_FORMAT)"
            ),
            None => "no pages of this table's clustered index were found".to_string(),
        });
    } else {
        if tied.indexes.len() > 1 {
            t.notes.push(format!("{} partitions", tied.indexes.len()));
        }
        for k in &tied.indexes {
            let pages = &indexes.leaves[k];
            if tied.indexes.len() == 1 {
                t.space_id = Some(pages[0].space_id);
                t.index_id = Some(pages[0].index_id);
            }
            recover_index(def, pages, &indexes.roots, src, active, mem, tick, t, emit);
        }
    }
    if placement.old_format.contains(&i) {
        t.notes.push(
            "TIME / DATETIME / TIMESTAMP read in the pre-MySQL 5.6.4 formats: the records' sizes fit those"
                .into(),
        );
    }
}

/// A table read with the InnoDB data dictionary's definition alone: notes
/// on its guessed columns (`guessed`, written NULL) and on the deleted or
/// uncertain rows `withheld` for them.
fn dictionary_only(t: &mut TableRecovery, guessed: &[usize], withheld: usize) {
    if !guessed.is_empty() {
        let names: Vec<String> = guessed
            .iter()
            .filter_map(|&i| t.def.columns.get(i).map(|c| c.name.clone()))
            .collect();
        if withheld > 0 {
            t.notes.push(format!(
                "{withheld} deleted or uncertain rows withheld: they need the table's CREATE TABLE too"
            ));
        }
        t.uncertain_from = Default::default();
        t.rows_from = Default::default();
        t.notes.push(format!(
            "columns {} need the table's CREATE TABLE: rows written as partial",
            names.join(", ")
        ));
    }
    t.notes.push(
        "decoded from the InnoDB data dictionary alone: DECIMAL, ENUM, SET and similar columns come out as raw \
         bytes; pass the CREATE TABLE with --schema for exact values"
            .into(),
    );
}
