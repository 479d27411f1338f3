//! Stage 3: each table tied to its clustered index (or, for a partitioned
//! table, one per partition).
//!
//! A table is claimed by (space id, index id) when its schema source knows
//! them, else by name through the data dictionary. Tables no source can
//! place are tried on the leaf pages of every index nobody claimed that may
//! be a clustered index (within the table's own tablespace when the
//! dictionary names it), as given and in the pre-5.6.4 temporal formats;
//! the best fits are placed first, each table and each index once.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use super::indexes::{page_head, IndexKey, Leaves};
use super::schemas::{partition_base, Schemas};
use super::RecoverOptions;
use crate::bytes::{be_u32, be_u64};
use crate::carve::pages::{page_bytes, StorePages};
use crate::carve::{PageRecord, Status};
use crate::image::Image;
use crate::innodb::dict::DictTable;
use crate::innodb::fil;
use crate::innodb::rows::{decode_leaf_page_text, RecordOrigin};
use crate::schema::{ColumnType, TableDef};

/// A table and the indexes its rows are read from.
pub(super) struct Tied {
    pub def: TableDef,
    /// Its clustered index, one per partition; empty when none was found.
    pub indexes: Vec<IndexKey>,
}

/// Where every table's rows are.
pub(super) struct Placement {
    /// The tables, in the order of the schemas.
    pub tied: Vec<Tied>,
    /// The indexes given to a table.
    pub claimed: BTreeSet<IndexKey>,
    /// For each table (by position in `tied`) tried on the unclaimed
    /// indexes: how many were tried.
    pub tried: BTreeMap<usize, usize>,
    /// The tables (by position in `tied`) placed with their temporal
    /// columns in the pre-MySQL 5.6.4 formats.
    pub old_format: BTreeSet<usize>,
}

/// A table tried on an index: `tied[table]`, or its old temporal variant.
#[derive(Debug, Clone, Copy)]
struct Trial {
    table: usize,
    old: bool,
    index: IndexKey,
}

/// A trial whose records fit.
#[derive(Debug, Clone, Copy)]
struct Fit {
    /// The table is the one a lone file is named after.
    named: bool,
    /// Share of records decoded.
    score: f64,
    trial: Trial,
}

/// Ties every table of `schemas` to its indexes.
pub(super) fn place(
    schemas: &Schemas,
    leaves: &Leaves,
    src: &StorePages,
    opts: &RecoverOptions,
) -> Placement {
    let (mut tied, mut claimed) = claim_known(schemas, leaves);
    let candidates = candidates(leaves, &claimed, &schemas.dictionary, src.image);
    // Each table as given, and (when it has temporal columns) as a table
    // storing them in the pre-5.6 formats (MySQL 5.5, MariaDB with
    // mysql56_temporal_format=OFF): a CREATE TABLE cannot say which, the
    // records' sizes and values can.
    let old_variants: Vec<Option<TableDef>> = tied.iter().map(|t| old_temporal(&t.def)).collect();
    let (trials, tried) = trials(&tied, &old_variants, &candidates, &schemas.dictionary);
    let fits = fits(&trials, &tied, &old_variants, leaves, src, opts);
    let mut old_format = BTreeSet::new();
    let mut placed = BTreeSet::new();
    for Fit { trial: tr, .. } in fits {
        if placed.contains(&tr.table) || claimed.contains(&tr.index) {
            continue;
        }
        placed.insert(tr.table);
        claimed.insert(tr.index);
        if tr.old {
            if let Some(d) = old_variants[tr.table].clone() {
                tied[tr.table].def = d;
                old_format.insert(tr.table);
            }
        }
        tied[tr.table].indexes.push(tr.index);
    }
    Placement {
        tied,
        claimed,
        tried,
        old_format,
    }
}

/// Each table with the indexes its schema source names: by id, or by name
/// in the dictionary (the table itself or its partitions). The first table
/// to name an index with leaf pages claims it.
fn claim_known(schemas: &Schemas, leaves: &Leaves) -> (Vec<Tied>, BTreeSet<IndexKey>) {
    let mut claimed = BTreeSet::new();
    let mut tied = Vec::new();
    for d in &schemas.defs {
        let mut keys = Vec::new();
        if let Some(ix) = d.index_id {
            keys.push((d.space_id.unwrap_or(u32::MAX), ix));
        } else {
            for t in schemas.dictionary.iter().filter(|t| is_table_of(t, d)) {
                if let Some(ix) = t.clustered() {
                    keys.push((t.space, ix.id));
                }
            }
        }
        keys.retain(|k| leaves.contains_key(k) && !claimed.contains(k));
        claimed.extend(keys.iter().copied());
        tied.push(Tied {
            def: d.clone(),
            indexes: keys,
        });
    }
    (tied, claimed)
}

/// Dictionary table `t` is `d` or one of its partitions.
fn is_table_of(t: &DictTable, d: &TableDef) -> bool {
    let (db, name) = t.db_and_name();
    db == d.db && partition_base(&name) == d.name
}

/// The indexes a table may be tried on: unclaimed, not given by the
/// dictionary to another table, and possibly a clustered index.
fn candidates(
    leaves: &Leaves,
    claimed: &BTreeSet<IndexKey>,
    dictionary: &[DictTable],
    image: &Image,
) -> Vec<IndexKey> {
    let dict_indexes: BTreeSet<IndexKey> = dictionary
        .iter()
        .flat_map(|t| t.indexes.iter().map(|i| (i.space, i.id)))
        .collect();
    let mut lowest: BTreeMap<u32, u64> = BTreeMap::new();
    for &(space, ix) in leaves.keys().filter(|k| k.1 != u64::MAX) {
        let e = lowest.entry(space).or_insert(ix);
        *e = (*e).min(ix);
    }
    leaves
        .iter()
        .filter(|(k, _)| !claimed.contains(k) && !dict_indexes.contains(k))
        .filter(|(k, pages)| may_be_clustered(pages, lowest.get(&k.0) == Some(&k.1), image))
        .map(|(k, _)| *k)
        .collect()
}

/// Every (table, variant, candidate index) to try, for the tables that
/// neither an index id nor the dictionary placed, and how many indexes
/// each is tried on.
fn trials(
    tied: &[Tied],
    old_variants: &[Option<TableDef>],
    candidates: &[IndexKey],
    dictionary: &[DictTable],
) -> (Vec<Trial>, BTreeMap<usize, usize>) {
    let mut trials = Vec::new();
    let mut tried: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, t) in tied
        .iter()
        .enumerate()
        .filter(|(_, t)| t.indexes.is_empty() && t.def.index_id.is_none())
    {
        let own_space: Option<u32> = dictionary
            .iter()
            .find(|dt| is_table_of(dt, &t.def))
            .map(|dt| dt.space);
        for &index in candidates
            .iter()
            .filter(|k| own_space.is_none_or(|s| s == k.0))
        {
            *tried.entry(i).or_default() += 1;
            let trial = Trial {
                table: i,
                old: false,
                index,
            };
            trials.push(trial);
            if old_variants[i].is_some() {
                trials.push(Trial { old: true, ..trial });
            }
        }
    }
    (trials, tried)
}

/// The trials whose records fit, best first (the table a lone file is
/// named after before any other), tried in parallel.
fn fits(
    trials: &[Trial],
    tied: &[Tied],
    old_variants: &[Option<TableDef>],
    leaves: &Leaves,
    src: &StorePages,
    opts: &RecoverOptions,
) -> Vec<Fit> {
    let mut fits: Vec<Fit> = trials
        .par_iter()
        .filter_map(|&trial| {
            let d = if trial.old {
                old_variants[trial.table].as_ref()?
            } else {
                &tied[trial.table].def
            };
            let named = opts.file_table.as_deref() == Some(d.name.as_str())
                || opts
                    .space_names
                    .get(&trial.index.0)
                    .is_some_and(|(db, t)| *t == d.name && (d.db.is_empty() || *db == d.db));
            let score = fit(d, &leaves[&trial.index], src)?;
            Some(Fit {
                named,
                score,
                trial,
            })
        })
        .collect();
    fits.sort_by(|a, b| {
        b.named
            .cmp(&a.named)
            .then(
                b.score
                    .partial_cmp(&a.score)
                    .unwrap_or(std::cmp::Ordering::Equal),
            )
            .then(a.trial.table.cmp(&b.trial.table))
            .then(a.trial.old.cmp(&b.trial.old))
            .then(a.trial.index.cmp(&b.trial.index))
    });
    fits
}

/// `def` with its TIME / DATETIME / TIMESTAMP columns in the pre-5.6
/// formats, when it has any: the integers of MySQL 5.5 without fractions
/// and MariaDB 5.3's "hires" forms with them (`mysql56_temporal_format=OFF`).
/// A CREATE TABLE says neither; the records' sizes and values do.
fn old_temporal(def: &TableDef) -> Option<TableDef> {
    let mut d = def.clone();
    let mut any = false;
    for c in &mut d.columns {
        match &mut c.ty {
            ColumnType::Time { old_format, .. }
            | ColumnType::DateTime { old_format, .. }
            | ColumnType::Timestamp { old_format, .. }
                if !*old_format =>
            {
                *old_format = true;
                any = true;
            }
            _ => {}
        }
    }
    any.then_some(d)
}

/// How well `def` fits the records of these leaf pages: the share of live
/// records that decode completely, when at least one does.
fn fit(def: &TableDef, pages: &[&PageRecord], src: &StorePages) -> Option<f64> {
    let mut sample: Vec<&PageRecord> = pages
        .iter()
        .copied()
        .filter(|p| p.status != Status::Damaged && p.n_recs > 0)
        .collect();
    sample.sort_by_key(|p| (std::cmp::Reverse(p.n_recs), p.offset));
    let (mut total, mut full) = (0usize, 0usize);
    for p in sample.into_iter().take(3) {
        let Some(bytes) = page_bytes(src.image, p) else {
            continue;
        };
        // Values too long to hold are proven, not assembled.
        let pt = decode_leaf_page_text(&bytes, def, src);
        if pt.error.is_some() {
            return None;
        }
        for (i, r) in pt.records.iter().enumerate() {
            if r.origin == RecordOrigin::Live {
                total += 1;
                full += usize::from(pt.is_full(i));
            }
        }
        total += pt.skipped_live;
    }
    let score = full as f64 / total.max(1) as f64;
    (full > 0 && score >= 0.9).then_some(score)
}

/// Whether an index can be a clustered index, going by PAGE_MAX_TRX_ID:
/// InnoDB sets it only on the pages of secondary indexes (MariaDB also
/// keeps the AUTO_INCREMENT value there on a clustered index's root, so a
/// root page proves nothing unless another index of its tablespace is
/// older, `lowest` = false).
fn may_be_clustered(pages: &[&PageRecord], lowest: bool, image: &Image) -> bool {
    const MAX_TRX: usize = fil::FIL_PAGE_DATA + crate::innodb::page_header::PAGE_MAX_TRX_ID;
    !pages
        .iter()
        .filter(|p| p.status != Status::Damaged)
        .take(16)
        .any(|p| {
            let Some(b) = page_head(image, p, MAX_TRX + 8) else {
                return false;
            };
            let root = be_u32(&b, fil::FIL_PAGE_PREV) == Some(fil::FIL_NULL)
                && be_u32(&b, fil::FIL_PAGE_NEXT) == Some(fil::FIL_NULL);
            be_u64(&b, MAX_TRX).is_some_and(|t| t != 0) && (!root || !lowest)
        })
}
