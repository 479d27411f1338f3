//! The InnoDB data dictionary of MySQL 5.x and MariaDB: the system tables
//! SYS_TABLES, SYS_COLUMNS, SYS_INDEXES and SYS_FIELDS, stored as REDUNDANT
//! clustered indexes with fixed index ids 1..4 in the system tablespace.
//!
//! It names every table (`db/table`), its space id, its columns with
//! InnoDB-level types, and its indexes with their ids and root pages. It
//! lacks DECIMAL precision/scale, ENUM/SET members and DATETIME vs
//! TIMESTAMP: exact values need a `.frm` or the user's CREATE TABLE.
//!
//! Sources (facts only): MySQL/MariaDB `dict0boot.cc` (system table layouts,
//! DICT_TABLES_ID..DICT_FIELDS_ID), `data0type.h` (mtype, prtype flags),
//! `dict0load.cc` (reading the records).

use std::collections::BTreeMap;

use crate::schema::{Charset, Column, ColumnType, RowFormat, SchemaSource, TableDef};

/// Index ids of the clustered indexes of the system tables.
pub const DICT_TABLES_ID: u64 = 1;
pub const DICT_COLUMNS_ID: u64 = 2;
pub const DICT_INDEXES_ID: u64 = 3;
pub const DICT_FIELDS_ID: u64 = 4;

// mtype values (data0type.h).
pub const DATA_VARCHAR: u32 = 1;
pub const DATA_CHAR: u32 = 2;
pub const DATA_FIXBINARY: u32 = 3;
pub const DATA_BINARY: u32 = 4;
pub const DATA_BLOB: u32 = 5;
pub const DATA_INT: u32 = 6;
pub const DATA_SYS: u32 = 8;
pub const DATA_FLOAT: u32 = 9;
pub const DATA_DOUBLE: u32 = 10;
pub const DATA_DECIMAL: u32 = 11;
pub const DATA_VARMYSQL: u32 = 12;
pub const DATA_MYSQL: u32 = 13;
pub const DATA_GEOMETRY: u32 = 14;
// prtype flags.
pub const DATA_NOT_NULL: u32 = 256;
pub const DATA_UNSIGNED: u32 = 512;
pub const DATA_BINARY_TYPE: u32 = 1024;
/// SYS_INDEXES.TYPE bit of the clustered index.
pub const DICT_CLUSTERED: u32 = 1;
/// SYS_COLUMNS.PRTYPE bit of a virtual column (MySQL 5.7 / MariaDB 10.2+).
pub const DATA_VIRTUAL: u32 = 8192;

fn int(name: &str, bytes: u32) -> Column {
    let ty = if bytes == 8 {
        ColumnType::BigInt { unsigned: true }
    } else {
        ColumnType::Int { unsigned: true }
    };
    Column::new(name, ty, true, Charset::Binary)
}

fn text(name: &str) -> Column {
    Column::new(
        name,
        ColumnType::VarChar { len: 255 },
        true,
        Charset::Utf8mb3,
    )
}

fn sys_table(name: &str, index_id: u64, columns: Vec<Column>, n_key: usize) -> TableDef {
    let pk: Vec<(usize, Option<u32>)> = (0..n_key).map(|i| (i, None)).collect();
    let (clustered, n_key_fields) = TableDef::default_clustered(&columns, &pk);
    TableDef {
        db: "SYS".into(),
        name: name.into(),
        columns,
        dropped_columns: Vec::new(),
        clustered,
        n_key_fields,
        row_format: Some(RowFormat::Redundant),
        space_id: Some(0),
        index_id: Some(index_id),
        source: SchemaSource::Dictionary,
        current_row_version: 0,
        instant_cols_before: None,
        create_sql: None,
    }
}

/// The four system tables, as record layouts.
pub fn system_tables() -> [TableDef; 4] {
    [
        sys_table(
            "SYS_TABLES",
            DICT_TABLES_ID,
            vec![
                text("NAME"),
                int("ID", 8),
                int("N_COLS", 4),
                int("TYPE", 4),
                int("MIX_ID", 8),
                int("MIX_LEN", 4),
                text("CLUSTER_NAME"),
                int("SPACE", 4),
            ],
            1,
        ),
        sys_table(
            "SYS_COLUMNS",
            DICT_COLUMNS_ID,
            vec![
                int("TABLE_ID", 8),
                int("POS", 4),
                text("NAME"),
                int("MTYPE", 4),
                int("PRTYPE", 4),
                int("LEN", 4),
                int("PREC", 4),
            ],
            2,
        ),
        sys_table(
            "SYS_INDEXES",
            DICT_INDEXES_ID,
            vec![
                int("TABLE_ID", 8),
                int("ID", 8),
                text("NAME"),
                int("N_FIELDS", 4),
                int("TYPE", 4),
                int("SPACE", 4),
                int("PAGE_NO", 4),
                int("MERGE_THRESHOLD", 4),
            ],
            2,
        ),
        sys_table(
            "SYS_FIELDS",
            DICT_FIELDS_ID,
            vec![int("INDEX_ID", 8), int("POS", 4), text("COL_NAME")],
            2,
        ),
    ]
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DictColumn {
    pub pos: u32,
    pub name: String,
    pub mtype: u32,
    pub prtype: u32,
    pub len: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DictIndex {
    pub id: u64,
    pub name: String,
    pub n_fields: u32,
    pub kind: u32,
    pub space: u32,
    pub page_no: u32,
    /// SYS_FIELDS column names in order (a prefix length in the high bits of POS is ignored).
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DictTable {
    /// `db/table` as InnoDB stores it (file-name-encoded).
    pub name: String,
    pub id: u64,
    pub n_cols: u32,
    pub flags: u32,
    pub space: u32,
    pub columns: Vec<DictColumn>,
    pub indexes: Vec<DictIndex>,
}

impl DictTable {
    /// (database, table), decoding MySQL's file-name encoding (`@0024` = `$`).
    pub fn db_and_name(&self) -> (String, String) {
        let (db, t) = self.name.split_once('/').unwrap_or(("", &self.name));
        (
            crate::innodb::frm::decode_filename(db),
            crate::innodb::frm::decode_filename(t),
        )
    }

    /// The clustered index: the one flagged DICT_CLUSTERED, else the lowest id.
    pub fn clustered(&self) -> Option<&DictIndex> {
        self.indexes
            .iter()
            .find(|i| i.kind & DICT_CLUSTERED != 0)
            .or_else(|| self.indexes.iter().min_by_key(|i| i.id))
    }
}

/// Rows of the four system tables, as decoded text values.
#[derive(Debug, Default)]
pub struct SysRows {
    pub tables: Vec<Vec<Option<String>>>,
    pub columns: Vec<Vec<Option<String>>>,
    pub indexes: Vec<Vec<Option<String>>>,
    pub fields: Vec<Vec<Option<String>>>,
}

fn num(v: &[Option<String>], i: usize) -> Option<u64> {
    v.get(i)?.as_deref()?.parse().ok()
}

fn txt(v: &[Option<String>], i: usize) -> Option<String> {
    v.get(i)?.clone()
}

/// Assembles the dictionary from the system tables' rows.
pub fn build(rows: &SysRows) -> Vec<DictTable> {
    let mut fields: BTreeMap<u64, Vec<(u64, String)>> = BTreeMap::new();
    for r in &rows.fields {
        if let (Some(ix), Some(pos), Some(name)) = (num(r, 0), num(r, 1), txt(r, 2)) {
            fields.entry(ix).or_default().push((pos, name));
        }
    }
    let mut indexes: BTreeMap<u64, Vec<DictIndex>> = BTreeMap::new();
    for r in &rows.indexes {
        let (Some(table_id), Some(id), Some(name)) = (num(r, 0), num(r, 1), txt(r, 2)) else {
            continue;
        };
        let mut f = fields.get(&id).cloned().unwrap_or_default();
        f.sort();
        indexes.entry(table_id).or_default().push(DictIndex {
            id,
            name,
            n_fields: num(r, 3).unwrap_or(0) as u32,
            kind: num(r, 4).unwrap_or(0) as u32,
            space: num(r, 5).unwrap_or(0) as u32,
            page_no: num(r, 6).unwrap_or(0) as u32,
            fields: f.into_iter().map(|(_, n)| n).collect(),
        });
    }
    let mut columns: BTreeMap<u64, Vec<DictColumn>> = BTreeMap::new();
    for r in &rows.columns {
        let (Some(table_id), Some(pos), Some(name)) = (num(r, 0), num(r, 1), txt(r, 2)) else {
            continue;
        };
        columns.entry(table_id).or_default().push(DictColumn {
            pos: pos as u32,
            name,
            mtype: num(r, 3).unwrap_or(0) as u32,
            prtype: num(r, 4).unwrap_or(0) as u32,
            len: num(r, 5).unwrap_or(0) as u32,
        });
    }
    let mut out = Vec::new();
    for r in &rows.tables {
        let (Some(name), Some(id)) = (txt(r, 0), num(r, 1)) else {
            continue;
        };
        let mut cols = columns.remove(&id).unwrap_or_default();
        cols.sort_by_key(|c| c.pos);
        let mut idx = indexes.remove(&id).unwrap_or_default();
        idx.sort_by_key(|i| i.id);
        out.push(DictTable {
            name,
            id,
            n_cols: num(r, 2).unwrap_or(0) as u32,
            flags: num(r, 3).unwrap_or(0) as u32,
            space: num(r, 7).unwrap_or(0) as u32,
            columns: cols,
            indexes: idx,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// A column type from InnoDB's (mtype, prtype, len), as far as they tell.
/// `None` for types the dictionary cannot describe well enough to decode.
fn column_type(c: &DictColumn) -> Option<(ColumnType, Charset)> {
    let mysql_type = c.prtype & 0xFF;
    let unsigned = c.prtype & DATA_UNSIGNED != 0;
    let binary = c.prtype & DATA_BINARY_TYPE != 0;
    let coll = (c.prtype >> 16) & 0x7FFF;
    let cs = if binary || coll == 63 {
        Charset::Binary
    } else {
        crate::schema::charset::from_collation_id(coll)
    };
    let t = match c.mtype {
        DATA_INT => match (mysql_type, c.len) {
            (13, _) => ColumnType::Year,
            (12, 8) => ColumnType::DateTime {
                fsp: 0,
                old_format: true,
            },
            (7, 4) => ColumnType::Timestamp {
                fsp: 0,
                old_format: true,
            },
            (11, 3) => ColumnType::Time {
                fsp: 0,
                old_format: true,
            },
            (_, 1) => ColumnType::TinyInt { unsigned },
            (_, 2) => ColumnType::SmallInt { unsigned },
            (_, 3) => match mysql_type {
                10 | 14 => ColumnType::Date,
                _ => ColumnType::MediumInt { unsigned },
            },
            (_, 4) => ColumnType::Int { unsigned },
            (_, 8) => ColumnType::BigInt { unsigned },
            _ => return None,
        },
        DATA_FLOAT => ColumnType::Float,
        DATA_DOUBLE => ColumnType::Double,
        DATA_FIXBINARY => match mysql_type {
            // DATETIME2 / TIMESTAMP2 / TIME2 (MariaDB keeps the old type
            // codes for them): fsp from the stored length, which cannot
            // tell an odd fsp from the next even one.
            12 | 18 => ColumnType::DateTime {
                fsp: fsp(c.len, 5)?,
                old_format: false,
            },
            7 | 17 => ColumnType::Timestamp {
                fsp: fsp(c.len, 4)?,
                old_format: false,
            },
            11 | 19 => ColumnType::Time {
                fsp: fsp(c.len, 3)?,
                old_format: false,
            },
            16 => ColumnType::Bit { bits: c.len * 8 },
            14 | 10 if c.len == 3 => ColumnType::Date,
            _ => ColumnType::Binary { len: c.len },
        },
        DATA_BINARY => ColumnType::VarBinary { len: c.len },
        DATA_CHAR | DATA_MYSQL => ColumnType::Char {
            len: c.len / cs.mbmaxlen().max(1),
        },
        DATA_VARCHAR | DATA_VARMYSQL => {
            if cs == Charset::Binary {
                ColumnType::VarBinary { len: c.len }
            } else {
                ColumnType::VarChar {
                    len: c.len / cs.mbmaxlen().max(1),
                }
            }
        }
        DATA_BLOB => {
            if cs == Charset::Binary {
                ColumnType::Blob
            } else {
                ColumnType::Text
            }
        }
        DATA_GEOMETRY => ColumnType::Geometry,
        // DECIMAL (no precision/scale), ENUM/SET (no members) need a .frm.
        _ => return None,
    };
    Some((t, cs))
}

fn fsp(len: u32, base: u32) -> Option<u32> {
    match len.checked_sub(base)? {
        0 => Some(0),
        1 => Some(2),
        2 => Some(4),
        3 => Some(6),
        _ => None,
    }
}

/// A table definition from the dictionary alone (InnoDB-level types; a
/// column whose type needs the `.frm` is decoded as raw bytes).
pub fn to_tabledef(t: &DictTable) -> TableDef {
    let (db, name) = t.db_and_name();
    let mut columns = Vec::new();
    for c in &t.columns {
        let (ty, cs) =
            column_type(c).unwrap_or((ColumnType::VarBinary { len: c.len }, Charset::Binary));
        let mut col = Column::new(&c.name, ty, c.prtype & DATA_NOT_NULL == 0, cs);
        col.is_virtual = c.prtype & DATA_VIRTUAL != 0;
        columns.push(col);
    }
    let clustered = t.clustered();
    let pk: Vec<(usize, Option<u32>)> = clustered
        .filter(|i| i.name != "GEN_CLUST_INDEX")
        .map(|i| {
            i.fields
                .iter()
                .filter_map(|f| columns.iter().position(|c| &c.name == f).map(|p| (p, None)))
                .collect()
        })
        .unwrap_or_default();
    let (clustered_fields, n_key_fields) = TableDef::default_clustered(&columns, &pk);
    let compact = t.n_cols & 0x8000_0000 != 0;
    let row_format = if !compact {
        RowFormat::Redundant
    } else if t.flags & 0x1E != 0 {
        RowFormat::Compressed
    } else if t.flags & 0x20 != 0 {
        RowFormat::Dynamic
    } else {
        RowFormat::Compact
    };
    TableDef {
        db,
        name,
        columns,
        dropped_columns: Vec::new(),
        clustered: clustered_fields,
        n_key_fields,
        row_format: Some(row_format),
        space_id: Some(t.space),
        index_id: clustered.map(|i| i.id),
        source: SchemaSource::Dictionary,
        current_row_version: 0,
        instant_cols_before: None,
        create_sql: None,
    }
}

/// Columns whose values the dictionary alone cannot give exactly: DECIMAL
/// (no precision/scale), ENUM/SET (no members), fractional seconds of odd
/// precision (the stored length is the same for fsp 1 and 2), and any type
/// it does not describe. Their values are written as partial rows.
pub fn uncertain_columns(t: &DictTable) -> Vec<usize> {
    t.columns
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            let base = match c.prtype & 0xFF {
                12 | 18 => 5,
                7 | 17 => 4,
                11 | 19 => 3,
                _ => 0,
            };
            let fractional = c.mtype == DATA_FIXBINARY && base != 0 && c.len != base;
            // ENUM and SET are stored as integers under MYSQL_TYPE_STRING.
            let enum_or_set = c.mtype == DATA_INT && matches!(c.prtype & 0xFF, 247 | 248 | 254);
            let decimal = matches!(c.prtype & 0xFF, 0 | 246);
            column_type(c).is_none() || fractional || enum_or_set || decimal
        })
        .map(|(i, _)| i)
        .collect()
}

/// Whether `def`'s fields can be tied to the dictionary entry: same column
/// names in the same order, ignoring virtual columns, and every temporal
/// column stored as the dictionary says (the pre-5.6 fsp-0 integers as
/// DATA_INT, the others as DATA_FIXBINARY, of the same length), so that a
/// table made with MariaDB's `mysql56_temporal_format=OFF` is not read with
/// the `.frm` of a same-named table in the 5.6 formats, or the reverse.
pub fn same_columns(def: &TableDef, t: &DictTable) -> bool {
    let a: Vec<&Column> = def.columns.iter().filter(|c| !c.is_virtual).collect();
    let b: Vec<&DictColumn> = t
        .columns
        .iter()
        .filter(|c| c.prtype & DATA_VIRTUAL == 0)
        .collect();
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, y)| x.name.eq_ignore_ascii_case(&y.name) && same_temporal_storage(x, y))
}

/// A temporal column's storage agrees with the dictionary's (mtype, len);
/// true for every other column.
fn same_temporal_storage(c: &Column, d: &DictColumn) -> bool {
    let old_integer = match c.ty {
        ColumnType::Time { fsp, old_format }
        | ColumnType::DateTime { fsp, old_format }
        | ColumnType::Timestamp { fsp, old_format } => old_format && fsp == 0,
        _ => return true,
    };
    let mtype = if old_integer {
        DATA_INT
    } else {
        DATA_FIXBINARY
    };
    d.mtype == mtype
        && crate::innodb::types::fixed_len(c, true).is_some_and(|n| n as u64 == u64::from(d.len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(cols: Vec<Column>) -> TableDef {
        TableDef {
            db: "edges".into(),
            name: "t".into(),
            columns: cols,
            dropped_columns: Vec::new(),
            clustered: Vec::new(),
            n_key_fields: 0,
            row_format: None,
            space_id: None,
            index_id: None,
            source: SchemaSource::Frm,
            current_row_version: 0,
            instant_cols_before: None,
            create_sql: None,
        }
    }

    fn dict_col(name: &str, mtype: u32, len: u32) -> DictColumn {
        DictColumn {
            pos: 0,
            name: name.into(),
            mtype,
            prtype: 11,
            len,
        }
    }

    /// A `.frm` fits a dictionary entry only when its temporal columns are
    /// stored as the dictionary says (lengths from MariaDB 10.11's
    /// SYS_COLUMNS for TIME(0) and TIME(5), fixtures/edges).
    #[test]
    fn same_columns_compares_temporal_storage() {
        let time = |name, fsp, old_format| {
            Column::new(
                name,
                ColumnType::Time { fsp, old_format },
                true,
                Charset::Binary,
            )
        };
        let table = |cols| DictTable {
            name: "edges/t".into(),
            id: 1,
            n_cols: 2,
            flags: 0,
            space: 1,
            columns: cols,
            indexes: Vec::new(),
        };
        // 5.6 formats: TIME2(0) 3 bytes, TIME2(5) 6 bytes, both FIXBINARY.
        let new = table(vec![
            dict_col("t0", DATA_FIXBINARY, 3),
            dict_col("t5", DATA_FIXBINARY, 6),
        ]);
        // mysql56_temporal_format=OFF: TIME(0) a 3-byte integer, hires TIME(5) 5 bytes.
        let old = table(vec![
            dict_col("t0", DATA_INT, 3),
            dict_col("t5", DATA_FIXBINARY, 5),
        ]);
        let frm_new = def(vec![time("t0", 0, false), time("t5", 5, false)]);
        let frm_old = def(vec![time("t0", 0, true), time("t5", 5, true)]);
        assert!(same_columns(&frm_new, &new));
        assert!(same_columns(&frm_old, &old));
        assert!(!same_columns(&frm_new, &old));
        assert!(!same_columns(&frm_old, &new));
        let renamed = def(vec![time("a", 0, false), time("t5", 5, false)]);
        assert!(!same_columns(&renamed, &new));
    }
}
