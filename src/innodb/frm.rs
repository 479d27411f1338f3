//! `.frm` files of MySQL 5.x and MariaDB: the server's table definition,
//! which the InnoDB dictionary lacks (DECIMAL scale, ENUM/SET members,
//! DATETIME vs TIMESTAMP, charsets).
//!
//! Layout (MySQL `sql/table.cc` `open_binary_frm`, `sql/unireg.cc`,
//! MariaDB `sql/table.cc` `init_from_binary_frm_image` and its `extra2`
//! section; verified on MariaDB 10.11 and MySQL 5.0/5.5 files):
//!
//! * A 64-byte header: magic `FE 01`, frm version, legacy engine type,
//!   `extra2` length (MariaDB; MySQL writes `//` there), the offset of the
//!   key section, record length, table charset, row format, server version.
//! * At `64 + extra2 length`: the 4-byte offset of the 288-byte *forminfo*,
//!   which counts fields, screens, names, intervals, comments and MariaDB's
//!   virtual-column screen.
//! * After forminfo and the screens: 17 bytes per field (length, record
//!   position, pack flags, charset, interval number, field type), then the
//!   names (`\xff`-separated), the ENUM/SET intervals, comments, vcols.
//! * The key section: count of keys and key parts, 8 bytes per key, 9 per
//!   key part (field number, length), then the key names.
//!
//! A `.frm` does not hold its own name: that comes from its path
//! ([`table_name_from_path`]) or from matching the dictionary.

use std::path::Path;

use crate::bytes::{le_u16, le_u32, slice};
use crate::schema::charset::from_collation_id;
use crate::schema::{Charset, Column, ColumnType, RowFormat, SchemaError, SchemaSource, TableDef};

/// Size of the fixed header.
pub const FRM_HEADER_SIZE: usize = 64;
/// Size of the forminfo block.
pub const FRM_FORMINFO_SIZE: usize = 288;
/// Bytes per field in the field section.
const FIELD_PACK_LENGTH: usize = 17;
/// Caps: a server allows 4096 fields and 64 (MariaDB 128) keys.
const MAX_FIELDS: usize = 4096;
const MAX_KEYS: usize = 1024;
const MAX_KEY_PARTS: usize = 4096;
/// Legacy engine type of InnoDB.
pub const DB_TYPE_INNODB: u8 = 12;

/// Header offsets.
const HDR_FRM_VER: usize = 2;
const HDR_DB_TYPE: usize = 3;
const HDR_EXTRA2_LEN: usize = 4;
const HDR_KEY_OFFSET: usize = 6;
const HDR_KEY_INFO_LEN: usize = 28;
const HDR_CHARSET: usize = 38;
const HDR_ROW_TYPE: usize = 40;
const HDR_CHARSET_HI: usize = 41;
const HDR_MYSQL_VERSION: usize = 51;
const HDR_KEY_BLOCK_SIZE: usize = 62;

/// Forminfo offsets.
const FI_FIELDS: usize = 258;
const FI_SCREENS_LEN: usize = 260;
const FI_NAMES_LEN: usize = 268;
const FI_INTERVALS_LEN: usize = 274;
const FI_COMMENTS_LEN: usize = 284;
const FI_VCOL_LEN: usize = 286;

/// Pack flag bits (`FIELDFLAG_*`).
const FIELDFLAG_DECIMAL: u16 = 1;
const FIELDFLAG_NUMBER: u16 = 2;
const FIELDFLAG_ZEROFILL: u16 = 4;
const FIELDFLAG_INTERVAL: u16 = 256;
const FIELDFLAG_BITFIELD: u16 = 512;
const FIELDFLAG_MAYBE_NULL: u16 = 32768;
const FIELDFLAG_DEC_SHIFT: u16 = 8;
const FIELDFLAG_MAX_DEC: u16 = 63;
/// The key flag that marks a unique key (stored inverted).
const HA_NOSAME: u16 = 1;

/// MariaDB `extra2` section types.
const EXTRA2_FIELD_DATA_TYPE_INFO: u8 = 130;
/// MariaDB virtual-column screen: base header and per-entry header.
const FRM_VCOL_NEW_BASE_SIZE: usize = 16;
const FRM_VCOL_NEW_HEADER_SIZE: usize = 6;
const VCOL_GENERATED_VIRTUAL: u8 = 0;

/// `enum_field_types`.
pub mod field_type {
    pub const DECIMAL: u8 = 0;
    pub const TINY: u8 = 1;
    pub const SHORT: u8 = 2;
    pub const LONG: u8 = 3;
    pub const FLOAT: u8 = 4;
    pub const DOUBLE: u8 = 5;
    pub const TIMESTAMP: u8 = 7;
    pub const LONGLONG: u8 = 8;
    pub const INT24: u8 = 9;
    pub const DATE: u8 = 10;
    pub const TIME: u8 = 11;
    pub const DATETIME: u8 = 12;
    pub const YEAR: u8 = 13;
    pub const NEWDATE: u8 = 14;
    pub const VARCHAR: u8 = 15;
    pub const BIT: u8 = 16;
    pub const TIMESTAMP2: u8 = 17;
    pub const DATETIME2: u8 = 18;
    pub const TIME2: u8 = 19;
    /// MySQL 5.7 JSON (MariaDB 5.2–10.1 used 245 for virtual columns).
    pub const JSON: u8 = 245;
    pub const NEWDECIMAL: u8 = 246;
    pub const ENUM: u8 = 247;
    pub const SET: u8 = 248;
    pub const TINY_BLOB: u8 = 249;
    pub const MEDIUM_BLOB: u8 = 250;
    pub const LONG_BLOB: u8 = 251;
    pub const BLOB: u8 = 252;
    pub const VAR_STRING: u8 = 253;
    pub const STRING: u8 = 254;
    pub const GEOMETRY: u8 = 255;
}

/// What a `.frm` says besides the [`TableDef`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrmInfo {
    /// `MYSQL_VERSION_ID` of the server that wrote it (e.g. 101119, 50535).
    pub mysql_version: u32,
    /// Legacy engine type (12 = InnoDB).
    pub db_type: u8,
    /// The table's default charset.
    pub table_charset: Charset,
    /// Key names in order, with whether each is unique.
    pub keys: Vec<(String, bool)>,
}

fn corrupt(offset: usize, msg: impl Into<String>) -> SchemaError {
    SchemaError::Corrupt {
        what: ".frm",
        offset: offset as u64,
        msg: msg.into(),
    }
}

/// Cheap signature check for carving: magic, a plausible version, engine
/// type and section offsets.
pub fn looks_like_frm(b: &[u8]) -> bool {
    let Some(h) = slice(b, 0, FRM_HEADER_SIZE) else {
        return false;
    };
    if h[0] != 0xFE
        || h[1] != 0x01
        || !(9..=12).contains(&h[HDR_FRM_VER])
        || h[HDR_DB_TYPE] == 0
        || h[HDR_DB_TYPE] > 50
    {
        return false;
    }
    let extra2 = le_u16(h, HDR_EXTRA2_LEN).unwrap_or(0) as usize;
    let key_off = le_u16(h, HDR_KEY_OFFSET).unwrap_or(0) as usize;
    key_off >= FRM_HEADER_SIZE + extra2 && key_off <= 0x10000 && extra2 < 0x8000
}

/// Parses a `.frm`. The table's name and database are left empty; see
/// [`parse_frm_named`].
pub fn parse_frm(b: &[u8]) -> Result<(TableDef, FrmInfo), SchemaError> {
    let h = slice(b, 0, FRM_HEADER_SIZE)
        .ok_or_else(|| corrupt(0, format!("{} bytes, shorter than the header", b.len())))?;
    if h[0] != 0xFE || h[1] != 0x01 {
        return Err(corrupt(0, "no FE 01 magic"));
    }
    let frm_ver = h[HDR_FRM_VER];
    if frm_ver < 9 {
        return Err(SchemaError::Unsupported {
            what: ".frm",
            msg: format!("frm version {frm_ver} (before MySQL 5.0)"),
        });
    }
    let u2 = |off: usize| {
        le_u16(b, off)
            .map(usize::from)
            .ok_or_else(|| corrupt(off, "truncated"))
    };
    let u4 = |off: usize| {
        le_u32(b, off)
            .map(|v| v as usize)
            .ok_or_else(|| corrupt(off, "truncated"))
    };
    let mysql_version = le_u32(h, HDR_MYSQL_VERSION).unwrap_or(0);
    let extra2_len = u2(HDR_EXTRA2_LEN)?;
    let table_cs_id = u32::from(h[HDR_CHARSET]) | (u32::from(h[HDR_CHARSET_HI]) << 8);
    let table_charset = from_collation_id(if table_cs_id == 0 { 8 } else { table_cs_id });

    // MariaDB extra2: per-field data type names (INET6, UUID, ...).
    let mut type_names: Vec<(usize, String)> = Vec::new();
    if extra2_len > 0 && b.get(FRM_HEADER_SIZE) != Some(&b'/') {
        let e2 = slice(b, FRM_HEADER_SIZE, extra2_len)
            .ok_or_else(|| corrupt(FRM_HEADER_SIZE, "extra2 past the end"))?;
        let mut p = 0;
        while p + 3 <= e2.len() {
            let ty = e2[p];
            let mut len = e2[p + 1] as usize;
            p += 2;
            if len == 0 {
                len = le_u16(e2, p).map(usize::from).unwrap_or(0);
                p += 2;
            }
            let Some(data) = slice(e2, p, len) else { break };
            if ty == EXTRA2_FIELD_DATA_TYPE_INFO {
                type_names = field_type_names(data);
            }
            p += len;
        }
    }

    let forminfo = u4(FRM_HEADER_SIZE + extra2_len)?;
    let fi = slice(b, forminfo, FRM_FORMINFO_SIZE)
        .ok_or_else(|| corrupt(forminfo, "forminfo past the end"))?;
    let fi2 = |off: usize| le_u16(fi, off).map(usize::from).unwrap_or(0);
    let n_fields = fi2(FI_FIELDS);
    if n_fields == 0 || n_fields > MAX_FIELDS {
        return Err(corrupt(forminfo + FI_FIELDS, format!("{n_fields} fields")));
    }
    let screens = fi2(FI_SCREENS_LEN);
    let names_len = fi2(FI_NAMES_LEN);
    let int_len = fi2(FI_INTERVALS_LEN);
    let com_len = fi2(FI_COMMENTS_LEN);
    let vcol_len = fi2(FI_VCOL_LEN);
    let fields_at = forminfo + FRM_FORMINFO_SIZE + screens;
    let names_at = fields_at + n_fields * FIELD_PACK_LENGTH;
    let packs = slice(b, fields_at, n_fields * FIELD_PACK_LENGTH)
        .ok_or_else(|| corrupt(fields_at, "field section past the end"))?;
    let names =
        slice(b, names_at, names_len).ok_or_else(|| corrupt(names_at, "names past the end"))?;
    let ints_at = names_at + names_len;
    let ints =
        slice(b, ints_at, int_len).ok_or_else(|| corrupt(ints_at, "intervals past the end"))?;
    let vcol_at = ints_at + int_len + com_len;
    let vcols = slice(b, vcol_at, vcol_len).unwrap_or(&[]);

    // Names: \xff name \xff name ... \xff \0
    let names: Vec<&[u8]> = names
        .strip_prefix(&[0xFF])
        .unwrap_or(names)
        .split(|&c| c == 0xFF)
        .collect();
    if names.len() < n_fields {
        return Err(corrupt(
            names_at,
            format!("{} names for {n_fields} fields", names.len()),
        ));
    }
    let intervals = parse_intervals(ints);
    let virtual_fields = parse_vcols(vcols);

    let mut columns = Vec::with_capacity(n_fields);
    for i in 0..n_fields {
        let at = fields_at + i * FIELD_PACK_LENGTH;
        let f = &packs[i * FIELD_PACK_LENGTH..(i + 1) * FIELD_PACK_LENGTH];
        let name = String::from_utf8_lossy(names[i]).into_owned();
        let length = u32::from(u16::from_le_bytes([f[3], f[4]]));
        let pack = u16::from_le_bytes([f[8], f[9]]);
        let interval_nr = f[12] as usize;
        let ftype = f[13];
        let cs_id = u32::from(f[14]) | (u32::from(f[11]) << 8);
        let ctx = |m: String| corrupt(at, format!("field {i} `{name}`: {m}"));
        let charset = if ftype == field_type::GEOMETRY {
            Charset::Binary
        } else {
            from_collation_id(cs_id)
        };
        let unsigned = pack & FIELDFLAG_DECIMAL == 0 || pack & FIELDFLAG_ZEROFILL != 0;
        let decimals = u32::from((pack >> FIELDFLAG_DEC_SHIFT) & FIELDFLAG_MAX_DEC);
        let mbmax = charset.mbmaxlen().max(1);
        let binary = charset == Charset::Binary;
        let members = |kind: &str| -> Result<Vec<String>, SchemaError> {
            intervals
                .get(interval_nr.wrapping_sub(1))
                .map(|v| v.iter().map(|m| decode_member(m, charset)).collect())
                .ok_or_else(|| ctx(format!("{kind} interval {interval_nr} missing")))
        };
        use field_type as t;
        let ty = match ftype {
            t::TINY => ColumnType::TinyInt { unsigned },
            t::SHORT => ColumnType::SmallInt { unsigned },
            t::INT24 => ColumnType::MediumInt { unsigned },
            t::LONG => ColumnType::Int { unsigned },
            t::LONGLONG => ColumnType::BigInt { unsigned },
            t::NEWDECIMAL => {
                // length = precision + (scale > 0) + (signed)
                let sign =
                    u32::from(pack & FIELDFLAG_DECIMAL != 0 && pack & FIELDFLAG_ZEROFILL == 0);
                let precision = length
                    .saturating_sub(u32::from(decimals > 0))
                    .saturating_sub(sign);
                ColumnType::Decimal {
                    precision: precision.clamp(1, 65),
                    scale: decimals.min(38),
                }
            }
            t::DECIMAL => {
                return Err(SchemaError::Unsupported {
                    what: ".frm",
                    msg: format!("field `{name}`: pre-5.0 DECIMAL"),
                })
            }
            t::FLOAT => ColumnType::Float,
            t::DOUBLE => ColumnType::Double,
            t::BIT => ColumnType::Bit {
                bits: length.clamp(1, 64),
            },
            t::YEAR => ColumnType::Year,
            t::DATE | t::NEWDATE => ColumnType::Date,
            // Old formats; MariaDB 5.3 "hires" ones have a fraction too.
            t::TIMESTAMP => ColumnType::Timestamp {
                fsp: length.saturating_sub(20).min(6),
                old_format: true,
            },
            t::DATETIME => ColumnType::DateTime {
                fsp: length.saturating_sub(20).min(6),
                old_format: true,
            },
            t::TIME => ColumnType::Time {
                fsp: length.saturating_sub(11).min(6),
                old_format: true,
            },
            t::TIMESTAMP2 => ColumnType::Timestamp {
                fsp: length.saturating_sub(20).min(6),
                old_format: false,
            },
            t::DATETIME2 => ColumnType::DateTime {
                fsp: length.saturating_sub(20).min(6),
                old_format: false,
            },
            t::TIME2 => ColumnType::Time {
                fsp: length.saturating_sub(11).min(6),
                old_format: false,
            },
            t::VARCHAR | t::VAR_STRING if binary => ColumnType::VarBinary { len: length },
            t::VARCHAR | t::VAR_STRING => ColumnType::VarChar {
                len: length / mbmax,
            },
            t::STRING | t::ENUM | t::SET
                if pack & FIELDFLAG_INTERVAL != 0 || pack & FIELDFLAG_BITFIELD != 0 =>
            {
                if pack & FIELDFLAG_BITFIELD != 0 && pack & FIELDFLAG_NUMBER == 0 {
                    ColumnType::Set {
                        members: members("SET")?,
                    }
                } else {
                    ColumnType::Enum {
                        members: members("ENUM")?,
                    }
                }
            }
            t::STRING if binary => ColumnType::Binary { len: length },
            t::STRING => ColumnType::Char {
                len: length / mbmax,
            },
            t::ENUM => ColumnType::Enum {
                members: members("ENUM")?,
            },
            t::SET => ColumnType::Set {
                members: members("SET")?,
            },
            t::TINY_BLOB | t::MEDIUM_BLOB | t::LONG_BLOB | t::BLOB if binary => ColumnType::Blob,
            t::TINY_BLOB | t::MEDIUM_BLOB | t::LONG_BLOB | t::BLOB => ColumnType::Text,
            t::GEOMETRY => ColumnType::Geometry,
            t::JSON if (50700..100000).contains(&mysql_version) => ColumnType::Json,
            // MariaDB column compression (VARCHAR_COMPRESSED, BLOB_COMPRESSED).
            140 | 141 => {
                return Err(SchemaError::Unsupported {
                    what: ".frm",
                    msg: format!("field `{name}`: MariaDB column compression"),
                })
            }
            other => return Err(ctx(format!("field type {other}"))),
        };
        // MariaDB data types named in extra2.
        // MariaDB unireg type 24 (TMYSQL_COMPRESSED): column compression.
        if f[10] == 24 && mysql_version >= 100000 {
            return Err(SchemaError::Unsupported {
                what: ".frm",
                msg: format!("field `{name}`: MariaDB column compression"),
            });
        }
        let ty = match type_names
            .iter()
            .find(|(n, _)| *n == i)
            .map(|(_, s)| s.as_str())
        {
            Some("inet6") | Some("uuid") => ColumnType::Binary { len: 16 },
            Some("inet4") => ColumnType::Binary { len: 4 },
            _ => ty,
        };
        let texty = matches!(
            ty,
            ColumnType::Char { .. }
                | ColumnType::VarChar { .. }
                | ColumnType::Text
                | ColumnType::Enum { .. }
                | ColumnType::Set { .. }
        );
        let mut col = Column::new(
            &name,
            ty,
            pack & FIELDFLAG_MAYBE_NULL != 0,
            if texty { charset } else { Charset::Binary },
        );
        col.is_virtual = virtual_fields.contains(&i);
        columns.push(col);
    }

    // Keys.
    let key_at = u2(HDR_KEY_OFFSET)?;
    let key_len = u2(HDR_KEY_INFO_LEN)?;
    let kb =
        slice(b, key_at, key_len).ok_or_else(|| corrupt(key_at, "key section past the end"))?;
    let mut keys: Vec<(bool, Vec<(usize, u32)>)> = Vec::new();
    let mut key_names = Vec::new();
    if key_len >= 6 {
        let (n_keys, n_parts) = if kb[0] & 0x80 != 0 {
            (
                ((kb[1] as usize) << 7) | (kb[0] & 0x7f) as usize,
                le_u16(kb, 2).unwrap_or(0) as usize,
            )
        } else {
            (kb[0] as usize, kb[1] as usize)
        };
        if n_keys > MAX_KEYS || n_parts > MAX_KEY_PARTS {
            return Err(corrupt(
                key_at,
                format!("{n_keys} keys, {n_parts} key parts"),
            ));
        }
        let mut p = 6;
        for k in 0..n_keys {
            let kh = slice(kb, p, 8)
                .ok_or_else(|| corrupt(key_at + p, format!("key {k} past the end")))?;
            let flags = u16::from_le_bytes([kh[0], kh[1]]) ^ HA_NOSAME;
            let parts = kh[4] as usize;
            p += 8;
            let mut v = Vec::with_capacity(parts);
            for _ in 0..parts {
                let kp = slice(kb, p, 9)
                    .ok_or_else(|| corrupt(key_at + p, format!("key {k} part past the end")))?;
                let fieldnr = (u16::from_le_bytes([kp[0], kp[1]]) & 0x3FFF) as usize;
                let len = u32::from(u16::from_le_bytes([kp[7], kp[8]]));
                if fieldnr == 0 || fieldnr > n_fields {
                    return Err(corrupt(
                        key_at + p,
                        format!("key {k} names field {fieldnr}"),
                    ));
                }
                v.push((fieldnr - 1, len));
                p += 9;
            }
            keys.push((flags & HA_NOSAME != 0, v));
        }
        let rest = kb.get(p..).unwrap_or(&[]);
        let rest = rest.strip_prefix(&[0xFF]).unwrap_or(rest);
        for n in rest.split(|&c| c == 0xFF).take(keys.len()) {
            key_names.push(String::from_utf8_lossy(n).into_owned());
        }
    }
    while key_names.len() < keys.len() {
        key_names.push(String::new());
    }

    // Clustered index: PRIMARY, else the first unique key on NOT NULL
    // columns without prefixes (the server sorted keys that way).
    let full_len = |fieldnr: usize| -> u32 {
        let f = &packs[fieldnr * FIELD_PACK_LENGTH..(fieldnr + 1) * FIELD_PACK_LENGTH];
        u32::from(u16::from_le_bytes([f[3], f[4]]))
    };
    let is_prefix = |ci: usize, len: u32| -> bool {
        let c = &columns[ci];
        match c.ty {
            ColumnType::Char { .. }
            | ColumnType::VarChar { .. }
            | ColumnType::Binary { .. }
            | ColumnType::VarBinary { .. } => len < full_len(ci),
            ColumnType::Text | ColumnType::Blob | ColumnType::Geometry | ColumnType::Json => true,
            _ => false,
        }
    };
    let clustered_key = keys
        .iter()
        .zip(&key_names)
        .find(|(_, n)| n.as_str() == "PRIMARY")
        .map(|(k, _)| k)
        .or_else(|| {
            keys.iter().find(|(uniq, parts)| {
                *uniq
                    && !parts.is_empty()
                    && parts
                        .iter()
                        .all(|&(c, l)| !columns[c].nullable && !is_prefix(c, l))
            })
        });
    let mut pk = Vec::new();
    if let Some((_, parts)) = clustered_key {
        for &(c, l) in parts {
            pk.push((c, is_prefix(c, l).then_some(l)));
        }
    }
    let (clustered, n_key_fields) = TableDef::default_clustered(&columns, &pk);
    let row_format = match h[HDR_ROW_TYPE] {
        2 => Some(RowFormat::Dynamic),
        3 => Some(RowFormat::Compressed),
        4 => Some(RowFormat::Redundant),
        5 => Some(RowFormat::Compact),
        _ if le_u16(h, HDR_KEY_BLOCK_SIZE).unwrap_or(0) > 0 => Some(RowFormat::Compressed),
        _ => None,
    };
    let info = FrmInfo {
        mysql_version,
        db_type: h[HDR_DB_TYPE],
        table_charset,
        keys: key_names
            .into_iter()
            .zip(keys.iter().map(|(u, _)| *u))
            .collect(),
    };
    Ok((
        TableDef {
            db: String::new(),
            name: String::new(),
            columns,
            dropped_columns: Vec::new(),
            clustered,
            n_key_fields,
            row_format,
            space_id: None,
            index_id: None,
            source: SchemaSource::Frm,
            current_row_version: 0,
            instant_cols_before: None,
            create_sql: None,
        },
        info,
    ))
}

/// [`parse_frm`] with the table's database and name set.
pub fn parse_frm_named(b: &[u8], db: &str, name: &str) -> Result<TableDef, SchemaError> {
    let (mut t, _) = parse_frm(b)?;
    t.db = db.to_string();
    t.name = name.to_string();
    Ok(t)
}

/// `(db, table)` from a path ending in `db/table.frm`, with MySQL's
/// filename encoding (`@0040` = `@`, `@002d` = `-`) undone.
pub fn table_name_from_path(p: &Path) -> Option<(String, String)> {
    let table = p.file_stem()?.to_str()?;
    let db = p.parent()?.file_name()?.to_str()?;
    Some((decode_filename(db), decode_filename(table)))
}

/// Undoes MySQL's `@XXXX` filename encoding (4 hex digits = a code point).
pub fn decode_filename(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('@') {
        out.push_str(&rest[..i]);
        let hex = rest.get(i + 1..i + 5);
        match hex
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
        {
            Some(c) if hex.is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit())) => {
                out.push(c);
                rest = &rest[i + 5..];
            }
            _ => {
                out.push('@');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The ENUM/SET value lists: each starts with its separator byte and ends
/// with the separator and a NUL.
fn parse_intervals(b: &[u8]) -> Vec<Vec<&[u8]>> {
    let mut out = Vec::new();
    let mut p = 0;
    while p < b.len() && out.len() < MAX_FIELDS {
        let sep = b[p];
        p += 1;
        let mut vals = Vec::new();
        let mut start = p;
        while p < b.len() {
            if b[p] == sep {
                if b.get(p + 1) == Some(&0) {
                    vals.push(&b[start..p]);
                    p += 2;
                    break;
                }
                vals.push(&b[start..p]);
                start = p + 1;
            }
            p += 1;
        }
        out.push(vals);
    }
    out
}

fn decode_member(m: &[u8], cs: Charset) -> String {
    match cs {
        // latin1 member names: bytes as code points (ASCII unchanged).
        Charset::Latin1 | Charset::Ascii => m.iter().map(|&c| c as char).collect(),
        _ => String::from_utf8_lossy(m).into_owned(),
    }
}

/// MariaDB 10.2+ vcol screen: the fields that are VIRTUAL.
fn parse_vcols(b: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut p = FRM_VCOL_NEW_BASE_SIZE;
    while p + FRM_VCOL_NEW_HEADER_SIZE <= b.len() && out.len() < MAX_FIELDS {
        let ty = b[p];
        let field = le_u16(b, p + 1).unwrap_or(0) as usize;
        let expr_len = le_u16(b, p + 3).unwrap_or(0) as usize;
        let name_len = b[p + 5] as usize;
        if ty == VCOL_GENERATED_VIRTUAL {
            out.push(field);
        }
        p += FRM_VCOL_NEW_HEADER_SIZE + expr_len + name_len;
    }
    out
}

/// MariaDB EXTRA2_FIELD_DATA_TYPE_INFO: (field number, type name) pairs,
/// each as a length-encoded integer and a length-prefixed string.
fn field_type_names(b: &[u8]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut p = 0;
    while p < b.len() && out.len() < MAX_FIELDS {
        let (nr, used) = match b[p] {
            n @ 0..=250 => (n as usize, 1),
            252 => (le_u16(b, p + 1).map_or(usize::MAX, usize::from), 3),
            _ => break,
        };
        p += used;
        let Some(&len) = b.get(p) else { break };
        let Some(name) = slice(b, p + 1, len as usize) else {
            break;
        };
        out.push((nr, String::from_utf8_lossy(name).to_ascii_lowercase()));
        p += 1 + len as usize;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames() {
        assert_eq!(decode_filename("my@002dtable"), "my-table");
        assert_eq!(decode_filename("a@b"), "a@b");
        assert_eq!(
            table_name_from_path(Path::new("/x/shop/users.frm")),
            Some(("shop".into(), "users".into()))
        );
    }

    #[test]
    fn intervals() {
        let v = parse_intervals(b"\xffred\xffgreen\xff\x00\xffa\xffb\xff\x00");
        assert_eq!(v, vec![vec![&b"red"[..], b"green"], vec![&b"a"[..], b"b"]]);
    }
}
