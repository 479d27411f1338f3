//! The physical layout of a clustered-index record of a table: which fields
//! a record holds, in which order, and the [`FieldSpec`] (fixed length,
//! nullable, 2-byte lengths) of each, from the [`TableDef`].
//!
//! Format facts: the clustered index holds the key fields, DB_TRX_ID
//! (6 bytes), DB_ROLL_PTR (7 bytes), then the other stored columns (MySQL
//! `dict0dict.cc` dict_index_build_internal_clust; a table without a primary
//! key has DB_ROW_ID (6 bytes) as its key); column lengths by type from
//! [`crate::innodb::types`]. Instant ADD COLUMN: the "core" fields every
//! record holds (MariaDB `dict0mem.h` n_core_fields); MySQL 8.0.29+ row
//! versions (`dict0mem.h` dict_col_t version_added, version_dropped,
//! phy_pos).

use crate::innodb::record::FieldSpec;
use crate::innodb::types::{fixed_len, max_len_and_big};
use crate::schema::{Column, IndexField, TableDef};

/// Physical field of the clustered layout, resolved.
pub(super) struct PhysField<'t> {
    pub(super) spec: FieldSpec,
    pub(super) kind: PhysKind<'t>,
    pub(super) is_key: bool,
}

pub(super) enum PhysKind<'t> {
    Column {
        idx: usize,
        col: &'t Column,
        prefix: bool,
    },
    Dropped(&'t Column),
    RowId,
    TrxId,
    RollPtr,
}

/// The record field a column (or its first `prefix` bytes) takes.
pub fn column_spec(col: &Column, compact: bool, prefix: Option<u32>) -> FieldSpec {
    let (max_len, big) = max_len_and_big(col);
    let mut fixed = fixed_len(col, compact);
    let mut max = max_len.max(fixed.unwrap_or(0) as u64);
    if let Some(p) = prefix {
        fixed = fixed.map(|f| f.min(p as usize));
        max = max.min(u64::from(p));
    }
    FieldSpec {
        fixed_len: fixed,
        nullable: col.nullable,
        big,
        max_len: max,
    }
}

pub(super) fn sys_spec(len: usize) -> FieldSpec {
    FieldSpec {
        fixed_len: Some(len),
        nullable: false,
        big: false,
        max_len: len as u64,
    }
}

pub(super) fn layout<'t>(table: &'t TableDef, compact: bool) -> Result<Vec<PhysField<'t>>, String> {
    let mut out = Vec::with_capacity(table.clustered.len());
    for (i, f) in table.clustered.iter().enumerate() {
        let is_key = i < table.n_key_fields;
        let pf = match *f {
            IndexField::Column { col, prefix_len } => {
                let c = table
                    .columns
                    .get(col)
                    .ok_or_else(|| format!("clustered field {i} names column {col}"))?;
                PhysField {
                    spec: column_spec(c, compact, prefix_len),
                    kind: PhysKind::Column {
                        idx: col,
                        col: c,
                        prefix: prefix_len.is_some(),
                    },
                    is_key,
                }
            }
            IndexField::DroppedColumn { col } => {
                let c = table
                    .dropped_columns
                    .get(col)
                    .ok_or_else(|| format!("clustered field {i} names dropped column {col}"))?;
                PhysField {
                    spec: column_spec(c, compact, None),
                    kind: PhysKind::Dropped(c),
                    is_key,
                }
            }
            IndexField::RowId => PhysField {
                spec: sys_spec(6),
                kind: PhysKind::RowId,
                is_key,
            },
            IndexField::TrxId => PhysField {
                spec: sys_spec(6),
                kind: PhysKind::TrxId,
                is_key,
            },
            IndexField::RollPtr => PhysField {
                spec: sys_spec(7),
                kind: PhysKind::RollPtr,
                is_key,
            },
        };
        out.push(pf);
    }
    Ok(out)
}

fn col_of<'t>(p: &PhysField<'t>) -> Option<&'t Column> {
    match p.kind {
        PhysKind::Column { col, .. } => Some(col),
        PhysKind::Dropped(c) => Some(c),
        _ => None,
    }
}

/// Number of fields every record holds ("core" fields): the fields before
/// the first instantly added column.
pub(super) fn n_core_fields(table: &TableDef, phys: &[PhysField]) -> usize {
    let n_sys = table.n_key_fields + 2;
    if let Some(n) = table.instant_cols_before {
        return (n_sys + n as usize).min(phys.len());
    }
    phys.iter()
        .position(|p| col_of(p).is_some_and(|c| c.instant_default.is_some()) && !p.is_key)
        .unwrap_or(phys.len())
}

/// Physical fields of a MySQL 8.0.29+ record of row version `v`.
pub(super) fn version_fields<'a, 't>(phys: &'a [PhysField<'t>], v: u32) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..phys.len())
        .filter(|&i| match col_of(&phys[i]) {
            Some(c) => c.version_added.unwrap_or(0) <= v && c.version_dropped.is_none_or(|d| d > v),
            None => true,
        })
        .collect();
    idx.sort_by_key(|&i| {
        col_of(&phys[i])
            .and_then(|c| c.physical_pos)
            .map(|p| p as usize)
            .unwrap_or(i)
    });
    idx
}
