//! Table definitions: what a table's rows look like, whatever source the
//! definition came from (MySQL 8 SDI, the InnoDB data dictionary, a `.frm`
//! file, or a user's `CREATE TABLE`). Every schema source produces a
//! [`TableDef`]; the record decoder consumes one. Plain data, no I/O.

use serde::Serialize;

pub mod charset;
pub mod sql;

/// Why a schema source could not give a table definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// A `CREATE TABLE` statement that could not be understood.
    #[error("SQL statement at line {line}{}: {msg}", table.as_deref().map(|t| format!(" (table {t})")).unwrap_or_default())]
    Sql {
        line: usize,
        table: Option<String>,
        msg: String,
    },
    /// Bytes of an on-disk structure (`.frm`, SDI) that are not what they
    /// must be; `offset` is the byte position within that structure.
    #[error("corrupt {what} at byte {offset}: {msg}")]
    Corrupt {
        what: &'static str,
        offset: u64,
        msg: String,
    },
    /// A well-formed definition using something this crate cannot decode.
    #[error("unsupported {what}: {msg}")]
    Unsupported { what: &'static str, msg: String },
}

/// Where a table definition came from, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemaSource {
    /// MySQL 8 serialized dictionary information inside the tablespace.
    Sdi,
    /// The InnoDB data dictionary (SYS_TABLES, SYS_COLUMNS, ...) together with a `.frm`.
    DictionaryAndFrm,
    /// A `.frm` file alone.
    Frm,
    /// The InnoDB data dictionary alone (InnoDB-level types only).
    Dictionary,
    /// A `CREATE TABLE` statement the user supplied (`--schema`).
    UserSql,
}

/// InnoDB row formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum RowFormat {
    Redundant,
    Compact,
    Dynamic,
    Compressed,
}

/// Character sets the decoder knows (MySQL's `latin1` is Windows-1252).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Charset {
    Latin1,
    Utf8mb3,
    Utf8mb4,
    Gbk,
    Ujis,
    Binary,
    /// ascii and other single-byte sets decoded as Windows-1252.
    Ascii,
    Utf16,
    Ucs2,
    Utf32,
    Big5,
    Sjis,
    Euckr,
    Gb2312,
    Gb18030,
    Cp1251,
    /// Anything else, by collation id; decoded lossily as UTF-8.
    Other(u32),
}

impl Charset {
    /// Maximum bytes per character (`mbmaxlen`): CHAR(n) in a multi-byte
    /// charset is stored with variable length in COMPACT/DYNAMIC records.
    pub fn mbmaxlen(self) -> u32 {
        match self {
            Charset::Utf8mb4 | Charset::Utf16 | Charset::Utf32 | Charset::Gb18030 => 4,
            Charset::Utf8mb3 | Charset::Ujis => 3,
            Charset::Gbk
            | Charset::Big5
            | Charset::Sjis
            | Charset::Euckr
            | Charset::Gb2312
            | Charset::Ucs2 => 2,
            _ => 1,
        }
    }
}

/// SQL column types, with what decoding needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ColumnType {
    TinyInt {
        unsigned: bool,
    },
    SmallInt {
        unsigned: bool,
    },
    MediumInt {
        unsigned: bool,
    },
    Int {
        unsigned: bool,
    },
    BigInt {
        unsigned: bool,
    },
    Decimal {
        precision: u32,
        scale: u32,
    },
    Float,
    Double,
    /// BIT(bits).
    Bit {
        bits: u32,
    },
    Year,
    Date,
    /// `fsp` = fractional seconds digits (0..6). `old_format` = the pre-5.6
    /// 8-byte DATETIME / 3-byte TIME / 4-byte TIMESTAMP without fractions.
    DateTime {
        fsp: u32,
        old_format: bool,
    },
    Timestamp {
        fsp: u32,
        old_format: bool,
    },
    Time {
        fsp: u32,
        old_format: bool,
    },
    /// CHAR(len) — `len` in characters.
    Char {
        len: u32,
    },
    VarChar {
        len: u32,
    },
    Binary {
        len: u32,
    },
    VarBinary {
        len: u32,
    },
    /// TINYTEXT/TEXT/MEDIUMTEXT/LONGTEXT (`Blob` with a charset).
    Text,
    /// TINYBLOB/BLOB/MEDIUMBLOB/LONGBLOB.
    Blob,
    Enum {
        members: Vec<String>,
    },
    Set {
        members: Vec<String>,
    },
    /// MySQL 8 binary JSON; MariaDB's JSON is LONGTEXT and is [`ColumnType::Text`].
    Json,
    /// GEOMETRY and its subtypes: stored as SRID + WKB, written as hex.
    Geometry,
    /// MySQL 9 VECTOR(n): written as hex.
    Vector {
        dims: u32,
    },
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
    pub nullable: bool,
    pub charset: Charset,
    /// Virtual generated columns are not stored in the clustered index.
    pub is_virtual: bool,
    /// A stored column InnoDB adds that `SELECT *` does not show (the
    /// FTS_DOC_ID of a FULLTEXT table, MariaDB's implicit row_start /
    /// row_end): decoded, but left out of the CSV and the SQL.
    pub hidden: bool,
    /// Instant ADD COLUMN: the default that rows written before the column
    /// existed take. `Some(None)` = NULL, `Some(Some(bytes))` = the stored
    /// (InnoDB-format) default. `None` = not instantly added.
    pub instant_default: Option<Option<Vec<u8>>>,
    /// MySQL 8.0.29+ row versions: the version that added / dropped it.
    pub version_added: Option<u32>,
    pub version_dropped: Option<u32>,
    /// MySQL 8.0.29+: position of the field in the physical record.
    pub physical_pos: Option<u32>,
}

impl Column {
    /// In the CSV and the SQL: neither hidden nor virtual (a virtual
    /// column is computed by the server, not stored).
    pub fn is_visible(&self) -> bool {
        !self.hidden && !self.is_virtual
    }

    /// A plain stored column.
    pub fn new(name: &str, ty: ColumnType, nullable: bool, charset: Charset) -> Column {
        Column {
            name: name.to_string(),
            ty,
            nullable,
            charset,
            is_virtual: false,
            hidden: false,
            instant_default: None,
            version_added: None,
            version_dropped: None,
            physical_pos: None,
        }
    }
}

/// One field of an index record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IndexField {
    /// A table column (index into [`TableDef::columns`]), with an optional
    /// prefix length in bytes.
    Column { col: usize, prefix_len: Option<u32> },
    /// A column dropped instantly (MySQL 8.0.29+) that old rows still hold
    /// (index into [`TableDef::dropped_columns`]).
    DroppedColumn { col: usize },
    /// DB_ROW_ID (6 bytes), the hidden key of a table without a primary key.
    RowId,
    /// DB_TRX_ID (6 bytes).
    TrxId,
    /// DB_ROLL_PTR (7 bytes).
    RollPtr,
}

/// A table: columns in SQL order and the clustered index's physical field order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableDef {
    pub db: String,
    pub name: String,
    pub columns: Vec<Column>,
    /// Columns dropped by MySQL 8.0.29+ instant DROP that old rows still hold.
    pub dropped_columns: Vec<Column>,
    /// Fields of a clustered-index leaf record, in physical order: key
    /// columns (or DB_ROW_ID), DB_TRX_ID, DB_ROLL_PTR, then the other stored
    /// columns (before any instant reordering).
    pub clustered: Vec<IndexField>,
    /// How many leading fields of `clustered` form the key (the unique prefix).
    pub n_key_fields: usize,
    pub row_format: Option<RowFormat>,
    /// Tablespace and clustered index id when the source knows them.
    pub space_id: Option<u32>,
    pub index_id: Option<u64>,
    pub source: SchemaSource,
    /// MySQL 8.0.29+: the current row version (0 = no instant DROP/ADD versions).
    pub current_row_version: u32,
    /// Number of columns (in `clustered` after the system fields) that existed
    /// before the first instant ADD (MySQL 8.0.12..8.0.28 "instant_col").
    pub instant_cols_before: Option<u32>,
    /// The CREATE TABLE statement, when known or reconstructable.
    pub create_sql: Option<String>,
}

impl TableDef {
    /// `db.name`.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.db, self.name)
    }

    /// Builds the default clustered layout from the primary-key columns (by
    /// index into `columns`; empty = no primary key, DB_ROW_ID): key, then
    /// DB_TRX_ID, DB_ROLL_PTR, then the remaining stored columns in order.
    pub fn default_clustered(
        columns: &[Column],
        pk: &[(usize, Option<u32>)],
    ) -> (Vec<IndexField>, usize) {
        let mut f = Vec::new();
        if pk.is_empty() {
            f.push(IndexField::RowId);
        } else {
            for &(col, prefix_len) in pk {
                f.push(IndexField::Column { col, prefix_len });
            }
        }
        let n_key = f.len();
        f.push(IndexField::TrxId);
        f.push(IndexField::RollPtr);
        for (i, c) in columns.iter().enumerate() {
            if c.is_virtual || pk.iter().any(|&(k, p)| k == i && p.is_none()) {
                continue;
            }
            f.push(IndexField::Column {
                col: i,
                prefix_len: None,
            });
        }
        (f, n_key)
    }
}
