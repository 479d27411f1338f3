//! Stage 3, shared by both column readers: a type by its SQL name
//! ([`named_type`]: aliases such as `INT4`, `SERIAL`, `NCHAR`, MariaDB's
//! `INET6`/`UUID`/`INET4` as `BINARY`, `json` as MySQL binary JSON or as
//! MariaDB's utf8mb4 `LONGTEXT`), and a column's charset and NULL-ness
//! ([`finish`]: character types in `CHARACTER SET binary` are binary types).
//!
//! Also the plain reader for a column sqlparser refuses
//! ([`fallback_column`]): its type, then a scan for NOT NULL, CHARACTER
//! SET, COLLATE, PRIMARY KEY / UNIQUE and generated-column markers, so one
//! odd attribute never loses a table.

use super::lex::{matching_paren, split_commas, Tok, Token};
use super::SqlOptions;
use crate::schema::charset;
use crate::schema::{Charset, Column, ColumnType};

/// Column attributes common to both readers.
#[derive(Default)]
pub(super) struct Attrs {
    pub(super) not_null: bool,
    pub(super) charset: Option<Charset>,
    pub(super) collation: Option<Charset>,
    pub(super) is_virtual: bool,
    pub(super) key: Option<bool>,
}

pub(super) fn is_text(ty: &ColumnType) -> bool {
    matches!(
        ty,
        ColumnType::Char { .. }
            | ColumnType::VarChar { .. }
            | ColumnType::Text
            | ColumnType::Enum { .. }
            | ColumnType::Set { .. }
    )
}

pub(super) fn with_unsigned(ty: ColumnType, u: bool) -> ColumnType {
    match ty {
        ColumnType::TinyInt { .. } => ColumnType::TinyInt { unsigned: u },
        ColumnType::SmallInt { .. } => ColumnType::SmallInt { unsigned: u },
        ColumnType::MediumInt { .. } => ColumnType::MediumInt { unsigned: u },
        ColumnType::Int { .. } => ColumnType::Int { unsigned: u },
        ColumnType::BigInt { .. } => ColumnType::BigInt { unsigned: u },
        t => t,
    }
}

fn clamp32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// A type by its SQL name and numeric arguments. Character types come back
/// as text types; [`finish`] turns them binary under `CHARACTER SET binary`.
pub(super) fn named_type(
    tname: &str,
    args: &[u64],
    unsigned: bool,
    opts: &SqlOptions,
    a: &mut Attrs,
) -> Option<ColumnType> {
    let arg = |i: usize| args.get(i).copied();
    Some(match tname {
        "TINYINT" | "INT1" | "BOOL" | "BOOLEAN" => ColumnType::TinyInt { unsigned },
        "SMALLINT" | "INT2" => ColumnType::SmallInt { unsigned },
        "MEDIUMINT" | "INT3" | "MIDDLEINT" => ColumnType::MediumInt { unsigned },
        "INT" | "INTEGER" | "INT4" => ColumnType::Int { unsigned },
        "BIGINT" | "INT8" => ColumnType::BigInt { unsigned },
        "SERIAL" => {
            a.not_null = true;
            ColumnType::BigInt { unsigned: true }
        }
        "DECIMAL" | "NUMERIC" | "DEC" | "FIXED" => ColumnType::Decimal {
            precision: clamp32(arg(0).unwrap_or(10)).min(65),
            scale: clamp32(arg(1).unwrap_or(0)).min(38),
        },
        // FLOAT(p) with p > 24 is a DOUBLE; FLOAT(m,d) stays a FLOAT.
        "FLOAT" if args.len() == 1 && arg(0).unwrap_or(0) > 24 => ColumnType::Double,
        "FLOAT" | "FLOAT4" => ColumnType::Float,
        "DOUBLE" | "REAL" | "FLOAT8" => ColumnType::Double,
        "BIT" => ColumnType::Bit {
            bits: clamp32(arg(0).unwrap_or(1)).clamp(1, 64),
        },
        "YEAR" => ColumnType::Year,
        "DATE" => ColumnType::Date,
        "DATETIME" => ColumnType::DateTime {
            fsp: clamp32(arg(0).unwrap_or(0)).min(6),
            old_format: false,
        },
        "TIMESTAMP" => ColumnType::Timestamp {
            fsp: clamp32(arg(0).unwrap_or(0)).min(6),
            old_format: false,
        },
        "TIME" => ColumnType::Time {
            fsp: clamp32(arg(0).unwrap_or(0)).min(6),
            old_format: false,
        },
        "CHAR" | "CHARACTER" => ColumnType::Char {
            len: clamp32(arg(0).unwrap_or(1)),
        },
        "NCHAR" => {
            a.charset = a.charset.or(Some(Charset::Utf8mb3));
            ColumnType::Char {
                len: clamp32(arg(0).unwrap_or(1)),
            }
        }
        "VARCHAR" | "VARCHAR2" => ColumnType::VarChar {
            len: clamp32(arg(0).unwrap_or(0)),
        },
        "NVARCHAR" | "NCHAR VARCHAR" => {
            a.charset = a.charset.or(Some(Charset::Utf8mb3));
            ColumnType::VarChar {
                len: clamp32(arg(0).unwrap_or(0)),
            }
        }
        "BINARY" => ColumnType::Binary {
            len: clamp32(arg(0).unwrap_or(1)),
        },
        "VARBINARY" => ColumnType::VarBinary {
            len: clamp32(arg(0).unwrap_or(0)),
        },
        "TINYTEXT" | "TEXT" | "MEDIUMTEXT" | "LONGTEXT" | "LONG" => ColumnType::Text,
        "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" => ColumnType::Blob,
        "JSON" if opts.mysql_json => ColumnType::Json,
        "JSON" => {
            // MariaDB: LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin.
            a.charset = a.charset.or(Some(Charset::Utf8mb4));
            ColumnType::Text
        }
        "GEOMETRY" | "POINT" | "LINESTRING" | "POLYGON" | "MULTIPOINT" | "MULTILINESTRING"
        | "MULTIPOLYGON" | "GEOMETRYCOLLECTION" | "GEOMCOLLECTION" => ColumnType::Geometry,
        // MariaDB 10.5+ INET6 = BINARY(16), 10.7+ UUID = BINARY(16), 11.3+ INET4 = BINARY(4).
        "INET6" | "UUID" => ColumnType::Binary { len: 16 },
        "INET4" => ColumnType::Binary { len: 4 },
        "VECTOR" => ColumnType::Vector {
            dims: clamp32(arg(0).unwrap_or(2048)),
        },
        _ => return None,
    })
}

/// The column's charset, NULL-ness; character types in `binary` become
/// binary types.
pub(super) fn finish(
    name: String,
    ty: ColumnType,
    a: Attrs,
    table_cs: Charset,
) -> Result<(Column, Option<bool>), String> {
    let texty = is_text(&ty);
    let cs = if texty {
        a.charset.or(a.collation).unwrap_or(table_cs)
    } else {
        Charset::Binary
    };
    let ty = match (ty, cs) {
        (ColumnType::Char { len }, Charset::Binary) => ColumnType::Binary { len },
        (ColumnType::VarChar { len }, Charset::Binary) => ColumnType::VarBinary { len },
        (ColumnType::Text, Charset::Binary) => ColumnType::Blob,
        (t, _) => t,
    };
    let mut col = Column::new(&name, ty, !a.not_null, cs);
    col.is_virtual = a.is_virtual;
    if a.key == Some(true) {
        col.nullable = false;
    }
    Ok((col, a.key))
}

/// The type at the start of `toks` (`int(10) unsigned`, `enum('a','b')`,
/// `double precision`, `national char(3)`): (type, unsigned).
pub(super) fn fallback_type(toks: &[Token], opts: &SqlOptions) -> Option<(ColumnType, bool)> {
    let mut a = Attrs::default();
    let (ty, u, _) = read_type(toks, opts, &mut a)?;
    Some((ty, u))
}

/// Reads a type at the start of `toks`; returns it, unsigned, and how many
/// tokens it used.
fn read_type(
    toks: &[Token],
    opts: &SqlOptions,
    a: &mut Attrs,
) -> Option<(ColumnType, bool, usize)> {
    let mut k = 0;
    let mut name = toks.first()?.keyword();
    k += 1;
    if name == "NATIONAL" {
        a.charset = Some(Charset::Utf8mb3);
        name = toks.get(k)?.keyword();
        k += 1;
    }
    if (name == "DOUBLE" && toks.get(k).is_some_and(|t| t.is_kw("PRECISION")))
        || ((name == "CHAR" || name == "CHARACTER")
            && toks.get(k).is_some_and(|t| t.is_kw("VARYING")))
    {
        if name != "DOUBLE" {
            name = "VARCHAR".into();
        }
        k += 1;
    }
    if name == "LONG"
        && toks
            .get(k)
            .is_some_and(|t| t.is_kw("VARCHAR") || t.is_kw("VARBINARY"))
    {
        name = if toks[k].is_kw("VARCHAR") {
            "MEDIUMTEXT".into()
        } else {
            "MEDIUMBLOB".into()
        };
        k += 1;
    }
    let mut args = Vec::new();
    let mut members = Vec::new();
    if toks.get(k).is_some_and(|t| t.is_punct('(')) {
        let close = matching_paren(toks, k)?;
        for part in split_commas(&toks[k + 1..close]) {
            match &part[0].tok {
                Tok::Str(s) => members.push(s.clone()),
                Tok::Word(w) => args.push(w.parse::<u64>().unwrap_or(0)),
                _ => {}
            }
        }
        k = close + 1;
    }
    let mut unsigned = false;
    while let Some(t) = toks.get(k) {
        match t.keyword().as_str() {
            "UNSIGNED" | "ZEROFILL" => unsigned = true,
            "SIGNED" => {}
            _ => break,
        }
        k += 1;
    }
    let ty = match name.as_str() {
        "ENUM" => ColumnType::Enum { members },
        "SET" => ColumnType::Set { members },
        n => named_type(n, &args, unsigned, opts, a)?,
    };
    Some((ty, unsigned, k))
}

/// A column sqlparser refused: type, then a scan for NOT NULL, CHARACTER
/// SET, COLLATE, PRIMARY KEY / UNIQUE and generated-column markers.
pub(super) fn fallback_column(
    name: String,
    toks: &[Token],
    table_cs: Charset,
    opts: &SqlOptions,
) -> Result<(Column, Option<bool>), String> {
    let mut a = Attrs::default();
    let (ty, _, used) = read_type(toks, opts, &mut a)
        .ok_or_else(|| format!("column `{name}`: cannot read its type"))?;
    let rest = &toks[used..];
    let mut generated = false;
    let mut stored = false;
    let mut k = 0;
    while k < rest.len() {
        let t = &rest[k];
        if t.is_punct('(') {
            k = matching_paren(rest, k).unwrap_or(rest.len());
            k += 1;
            continue;
        }
        match t.keyword().as_str() {
            "NOT" if rest.get(k + 1).is_some_and(|t| t.is_kw("NULL")) => {
                a.not_null = true;
                k += 1;
            }
            "NULL" => a.not_null = false,
            "DEFAULT" | "COMMENT" => k += 1,
            "CHARSET" => {
                a.charset = rest
                    .get(k + 1)
                    .and_then(|t| t.ident())
                    .and_then(|n| charset::from_name(&n));
                k += 1;
            }
            "CHARACTER" if rest.get(k + 1).is_some_and(|t| t.is_kw("SET")) => {
                a.charset = rest
                    .get(k + 2)
                    .and_then(|t| t.ident())
                    .and_then(|n| charset::from_name(&n));
                k += 2;
            }
            "COLLATE" => {
                a.collation = rest
                    .get(k + 1)
                    .and_then(|t| t.ident())
                    .and_then(|n| charset::from_collation_name(&n));
                k += 1;
            }
            "PRIMARY" => a.key = Some(true),
            "UNIQUE" => a.key = a.key.or(Some(false)),
            // `GENERATED ALWAYS AS ROW START|END` columns are stored.
            "AS" if rest.get(k + 1).is_some_and(|t| t.is_kw("ROW")) => {}
            "AS" => generated = true,
            "STORED" | "PERSISTENT" => stored = true,
            _ => {}
        }
        k += 1;
    }
    a.is_virtual = generated && !stored;
    finish(name, ty, a, table_cs)
}
