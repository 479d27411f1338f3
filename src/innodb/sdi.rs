//! MySQL 8 serialized dictionary information (SDI): the table definition
//! that every MySQL 8.0+ tablespace carries inside itself.
//!
//! Layout (MySQL `storage/innobase/fsp/fsp0sdi.cc`, `fsp0fsp.cc`
//! `fsp_header_get_sdi_offset`, `utilities/ibd2sdi.cc`, `dict0sdi.cc`;
//! verified on real 8.0.18 … 9.6 tablespaces):
//!
//! * Page 0, after the FSP header, the extent descriptor array and the
//!   encryption info: SDI version (4 bytes, 1) and the SDI root page (4).
//! * The SDI is a B-tree of `FIL_PAGE_SDI` pages (17853) in the COMPACT
//!   record format. A leaf record holds: type (4), id (8), DB_TRX_ID (6),
//!   DB_ROLL_PTR (7), uncompressed length (4), compressed length (4), and
//!   the zlib-compressed JSON, which may be stored externally in a chain of
//!   `FIL_PAGE_SDI_BLOB` pages (18) behind a 20-byte field reference.
//! * The JSON's `dd_object` for `dd_object_type` "Table" is the table:
//!   columns with `dd::enum_column_types` numbers, the hidden `DB_*`
//!   columns and the PRIMARY index elements, whose order is the clustered
//!   record's field order (MySQL 8.0.29+: `physical_pos` of each column).
//!
//! Everything read from the pages is bounds-checked and capped.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::Read;

use serde_json::Value;

use crate::bytes::{be_u16, be_u32, be_u64, slice};
use crate::innodb::fil::{
    FIL_NULL, FIL_PAGE_DATA, FIL_PAGE_NEXT, FIL_PAGE_SDI, FIL_PAGE_TYPE,
    FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB,
};
use crate::innodb::fsp::{sizes_from_flags, FspHeader};
use crate::innodb::page_header::{PageHeader, PAGE_NEW_INFIMUM};
use crate::schema::charset::from_collation_id;
use crate::schema::{
    Charset, Column, ColumnType, IndexField, RowFormat, SchemaError, SchemaSource, TableDef,
};

/// Offset of the FSP header in page 0 and its size.
const FSP_HEADER_OFFSET: usize = FIL_PAGE_DATA;
const FSP_HEADER_SIZE: usize = 112;
/// One extent descriptor.
const XDES_SIZE: usize = 40;
/// `Encryption::INFO_MAX_SIZE`: the encryption info after the descriptors.
const ENCRYPTION_INFO_MAX_SIZE: usize = 115;
/// The SDI version stored in page 0.
pub const SDI_VERSION: u32 = 1;

/// Offsets in an SDI leaf record, from its origin.
const REC_OFF_TYPE: usize = 0;
const REC_OFF_ID: usize = 4;
const REC_OFF_TRX_ID: usize = 12;
const REC_OFF_UNCOMP_LEN: usize = 25;
const REC_OFF_COMP_LEN: usize = 29;
const REC_OFF_DATA: usize = 33;
/// A node pointer record: type, id, child page number.
const REC_OFF_CHILD: usize = 12;
/// COMPACT record header bytes before the origin.
const REC_N_NEW_EXTRA_BYTES: usize = 5;
/// Size of an external field reference.
const BTR_EXTERN_FIELD_REF_SIZE: usize = 20;
/// In a BLOB page, at the reference's offset: part length, next page.
const BTR_BLOB_HDR_SIZE: usize = 8;

/// Caps on what the pages may make us allocate or walk.
pub const MAX_SDI_JSON: u32 = 64 << 20;
const MAX_RECORDS_PER_PAGE: usize = 8192;
const MAX_PAGES: usize = 1 << 16;

/// SDI object types.
pub const SDI_TYPE_TABLE: u32 = 1;
pub const SDI_TYPE_TABLESPACE: u32 = 2;

/// One SDI record, decompressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdiRecord {
    /// 1 = table, 2 = tablespace.
    pub sdi_type: u32,
    pub id: u64,
    pub trx_id: u64,
    /// Delete-marked (an old version left in the page).
    pub deleted: bool,
    /// The JSON text.
    pub json: String,
}

/// Where the SDI root page number is stored in page 0 for a page size.
pub fn sdi_offset(page_size: usize) -> usize {
    // FSP_EXTENT_SIZE: 1 MiB extents below 16 KiB pages, 64 pages above.
    let extent_pages = match page_size {
        4096 => 256,
        8192 => 128,
        _ => 64,
    };
    let xdes_arr_size = page_size / extent_pages;
    FSP_HEADER_OFFSET + FSP_HEADER_SIZE + XDES_SIZE * xdes_arr_size + ENCRYPTION_INFO_MAX_SIZE
}

/// The SDI root page number page 0 names, when the version matches.
pub fn sdi_root_page(page0: &[u8], page_size: usize) -> Option<u32> {
    let off = sdi_offset(page_size);
    let version = be_u32(page0, off)?;
    let root = be_u32(page0, off + 4)?;
    (version == SDI_VERSION && root != 0 && root != FIL_NULL).then_some(root)
}

fn corrupt(what: &'static str, offset: u64, msg: impl Into<String>) -> SchemaError {
    SchemaError::Corrupt {
        what,
        offset,
        msg: msg.into(),
    }
}

/// Reads every SDI record of a tablespace. `page(n)` returns page `n` (of
/// the logical page size) or `None` when it is missing. Records that fail
/// (a missing BLOB page, bad zlib data) are errors in the list; the walk
/// goes on.
pub fn read_sdi<'a, F>(page: F) -> Result<Vec<Result<SdiRecord, SchemaError>>, SchemaError>
where
    F: Fn(u32) -> Option<Cow<'a, [u8]>>,
{
    let p0 = page(0).ok_or_else(|| corrupt("tablespace", 0, "page 0 missing"))?;
    let fsp = FspHeader::parse(&p0).ok_or_else(|| corrupt("FSP header", 0, "page 0 too short"))?;
    let sizes = sizes_from_flags(fsp.flags).ok_or_else(|| {
        corrupt(
            "FSP header",
            (FIL_PAGE_DATA + 16) as u64,
            format!("bad flags {:#x}", fsp.flags),
        )
    })?;
    if sizes.zip.is_some() {
        return Err(SchemaError::Unsupported {
            what: "SDI",
            msg: "ROW_FORMAT=COMPRESSED tablespace".into(),
        });
    }
    let ps = sizes.logical as usize;
    let mut root = sdi_root_page(&p0, ps);
    if root.is_none() {
        // Page 3 is where MySQL puts it; take it when it is an SDI page.
        if page(3).is_some_and(|p| be_u16(&p, FIL_PAGE_TYPE) == Some(FIL_PAGE_SDI)) {
            root = Some(3);
        }
    }
    let root =
        root.ok_or_else(|| corrupt("FSP header", sdi_offset(ps) as u64, "no SDI root page"))?;

    // Down the leftmost path to the leaf level.
    let mut cur = root;
    let mut seen = HashSet::new();
    loop {
        if !seen.insert(cur) || seen.len() > 64 {
            return Err(corrupt("SDI page", cur as u64, "loop in the SDI tree"));
        }
        let p = page(cur).ok_or_else(|| corrupt("SDI page", cur as u64, "page missing"))?;
        check_sdi_page(&p, cur)?;
        let hdr =
            PageHeader::parse(&p).ok_or_else(|| corrupt("SDI page", cur as u64, "short page"))?;
        if hdr.level == 0 {
            break;
        }
        let first = records(&p)
            .into_iter()
            .next()
            .ok_or_else(|| corrupt("SDI page", cur as u64, "empty node page"))?;
        cur = be_u32(&p, first + REC_OFF_CHILD)
            .ok_or_else(|| corrupt("SDI page", cur as u64, "short node pointer"))?;
    }
    // Along the leaf level.
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    while cur != FIL_NULL && seen.len() < MAX_PAGES {
        if !seen.insert(cur) {
            out.push(Err(corrupt(
                "SDI page",
                cur as u64,
                "loop in the leaf list",
            )));
            break;
        }
        let Some(p) = page(cur) else {
            out.push(Err(corrupt("SDI page", cur as u64, "leaf page missing")));
            break;
        };
        if let Err(e) = check_sdi_page(&p, cur) {
            out.push(Err(e));
            break;
        }
        out.extend(leaf_records(&p, &page));
        cur = be_u32(&p, FIL_PAGE_NEXT).unwrap_or(FIL_NULL);
    }
    Ok(out)
}

fn check_sdi_page(p: &[u8], no: u32) -> Result<(), SchemaError> {
    match be_u16(p, FIL_PAGE_TYPE) {
        Some(FIL_PAGE_SDI) => Ok(()),
        t => Err(corrupt(
            "SDI page",
            no as u64,
            format!("page type {t:?} is not SDI"),
        )),
    }
}

/// Origins of the user records of a COMPACT page, in list order (capped,
/// loop-safe).
fn records(p: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let infimum = PAGE_NEW_INFIMUM;
    let supremum = PAGE_NEW_INFIMUM + 13;
    let mut cur = infimum;
    let mut seen = HashSet::new();
    while let Some(rel) = be_u16(p, cur - 2) {
        let next = (cur as u16).wrapping_add(rel) as usize;
        if next == supremum
            || next == 0
            || next >= p.len()
            || !seen.insert(next)
            || out.len() >= MAX_RECORDS_PER_PAGE
        {
            break;
        }
        if next < supremum + REC_N_NEW_EXTRA_BYTES {
            break;
        }
        out.push(next);
        cur = next;
    }
    out
}

/// The records of one SDI leaf page (for example a page the carver found
/// on its own); `page` fetches SDI BLOB pages of the same tablespace.
pub fn leaf_records<'a, F>(p: &[u8], page: &F) -> Vec<Result<SdiRecord, SchemaError>>
where
    F: Fn(u32) -> Option<Cow<'a, [u8]>>,
{
    let page_no = be_u32(p, 4).unwrap_or(0) as u64;
    records(p)
        .into_iter()
        .map(|origin| {
            leaf_record(p, origin, page)
                .map_err(|m| corrupt("SDI record", page_no, format!("at {origin}: {m}")))
        })
        .collect()
}

fn leaf_record<'a, F>(p: &[u8], o: usize, page: &F) -> Result<SdiRecord, String>
where
    F: Fn(u32) -> Option<Cow<'a, [u8]>>,
{
    let info = *p.get(o - REC_N_NEW_EXTRA_BYTES).ok_or("short record")?;
    let deleted = info & 0x20 != 0;
    // The one variable-length field's length, before the 5 header bytes.
    let b1 = *p.get(o - REC_N_NEW_EXTRA_BYTES - 1).ok_or("short record")?;
    let (local_len, external) = if b1 & 0x80 != 0 {
        let b2 = *p.get(o - REC_N_NEW_EXTRA_BYTES - 2).ok_or("short record")?;
        ((((b1 & 0x3f) as usize) << 8) | b2 as usize, b1 & 0x40 != 0)
    } else {
        (b1 as usize, false)
    };
    let sdi_type = be_u32(p, o + REC_OFF_TYPE).ok_or("short record")?;
    let id = be_u64(p, o + REC_OFF_ID).ok_or("short record")?;
    let trx_id = be_u64(p, o + REC_OFF_TRX_ID - 2).ok_or("short record")? & 0xFFFF_FFFF_FFFF;
    let uncomp = be_u32(p, o + REC_OFF_UNCOMP_LEN).ok_or("short record")?;
    let comp = be_u32(p, o + REC_OFF_COMP_LEN).ok_or("short record")?;
    if uncomp > MAX_SDI_JSON || comp > MAX_SDI_JSON {
        return Err(format!("lengths {uncomp}/{comp} over the cap"));
    }
    let local = slice(p, o + REC_OFF_DATA, local_len).ok_or("data runs past the page")?;
    let data: Cow<[u8]> = if external {
        let split = local_len
            .checked_sub(BTR_EXTERN_FIELD_REF_SIZE)
            .ok_or("external field shorter than its reference")?;
        let (prefix, r) = local.split_at(split);
        let ref_page = be_u32(r, 4).ok_or("short reference")?;
        let ref_off = be_u32(r, 8).ok_or("short reference")? as usize;
        let ext_len = (be_u64(r, 12).ok_or("short reference")? & 0xFFFF_FFFF) as usize;
        let total = prefix.len().saturating_add(ext_len);
        if total != comp as usize {
            return Err(format!(
                "external length {total} is not the compressed length {comp}"
            ));
        }
        let mut v = Vec::with_capacity(total);
        v.extend_from_slice(prefix);
        let mut pg = ref_page;
        let mut off = ref_off;
        let mut seen = HashSet::new();
        while v.len() < total {
            if pg == FIL_NULL || !seen.insert(pg) || seen.len() > MAX_PAGES {
                return Err(format!(
                    "BLOB chain ends early at {} of {total} bytes",
                    v.len()
                ));
            }
            let bp = page(pg).ok_or_else(|| format!("SDI BLOB page {pg} missing"))?;
            if be_u16(&bp, FIL_PAGE_TYPE) != Some(FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB) {
                return Err(format!("page {pg} is not an SDI BLOB page"));
            }
            let part = be_u32(&bp, off).ok_or("short BLOB page")? as usize;
            let next = be_u32(&bp, off + 4).ok_or("short BLOB page")?;
            let part = part.min(total - v.len());
            v.extend_from_slice(
                slice(&bp, off + BTR_BLOB_HDR_SIZE, part).ok_or("BLOB part runs past its page")?,
            );
            pg = next;
            off = FIL_PAGE_DATA;
        }
        Cow::Owned(v)
    } else {
        if local_len != comp as usize {
            return Err(format!(
                "stored length {local_len} is not the compressed length {comp}"
            ));
        }
        Cow::Borrowed(local)
    };
    let mut json = Vec::with_capacity(uncomp as usize);
    flate2::read::ZlibDecoder::new(&data[..])
        .take(u64::from(uncomp) + 1)
        .read_to_end(&mut json)
        .map_err(|e| format!("zlib: {e}"))?;
    if json.len() != uncomp as usize {
        return Err(format!("inflated to {} bytes, not {uncomp}", json.len()));
    }
    let json = String::from_utf8(json).map_err(|_| "JSON is not UTF-8".to_string())?;
    Ok(SdiRecord {
        sdi_type,
        id,
        trx_id,
        deleted,
        json,
    })
}

/// Every table the SDI of a tablespace describes (live records only).
pub fn tables_from_tablespace<'a, F>(page: F) -> Result<Vec<TableDef>, SchemaError>
where
    F: Fn(u32) -> Option<Cow<'a, [u8]>>,
{
    let space = page(0)
        .and_then(|p| FspHeader::parse(&p))
        .map(|h| h.space_id);
    let mut out = Vec::new();
    let mut first_err = None;
    for r in read_sdi(page)? {
        match r {
            Ok(r) if r.sdi_type == SDI_TYPE_TABLE && !r.deleted => {
                match table_from_json(&r.json, space) {
                    Ok(t) => out.push(t),
                    Err(e) => {
                        first_err.get_or_insert(e);
                    }
                }
            }
            Ok(_) => {}
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    match (out.is_empty(), first_err) {
        (true, Some(e)) => Err(e),
        _ => Ok(out),
    }
}

/// Every table in the SDI of a whole tablespace file held in memory (an
/// `.ibd` read from disk or extracted from an image); the page size comes
/// from page 0.
pub fn tables_from_file_bytes(file: &[u8]) -> Result<Vec<TableDef>, SchemaError> {
    let flags = FspHeader::parse(file)
        .ok_or_else(|| corrupt("FSP header", 0, "file too short"))?
        .flags;
    let ps = sizes_from_flags(flags)
        .ok_or_else(|| {
            corrupt(
                "FSP header",
                (FIL_PAGE_DATA + 16) as u64,
                format!("bad flags {flags:#x}"),
            )
        })?
        .logical as usize;
    tables_from_tablespace(|n| {
        let start = (n as usize).checked_mul(ps)?;
        file.get(start..start.checked_add(ps)?).map(Cow::Borrowed)
    })
}

// ---------------------------------------------------------------------------
// JSON

/// `dd::enum_column_types` (MySQL `sql/dd/types/column.h`).
pub mod dd_type {
    pub const DECIMAL: u64 = 1;
    pub const TINY: u64 = 2;
    pub const SHORT: u64 = 3;
    pub const LONG: u64 = 4;
    pub const FLOAT: u64 = 5;
    pub const DOUBLE: u64 = 6;
    pub const TYPE_NULL: u64 = 7;
    pub const TIMESTAMP: u64 = 8;
    pub const LONGLONG: u64 = 9;
    pub const INT24: u64 = 10;
    pub const DATE: u64 = 11;
    pub const TIME: u64 = 12;
    pub const DATETIME: u64 = 13;
    pub const YEAR: u64 = 14;
    pub const NEWDATE: u64 = 15;
    pub const VARCHAR: u64 = 16;
    pub const BIT: u64 = 17;
    pub const TIMESTAMP2: u64 = 18;
    pub const DATETIME2: u64 = 19;
    pub const TIME2: u64 = 20;
    pub const NEWDECIMAL: u64 = 21;
    pub const ENUM: u64 = 22;
    pub const SET: u64 = 23;
    pub const TINY_BLOB: u64 = 24;
    pub const MEDIUM_BLOB: u64 = 25;
    pub const LONG_BLOB: u64 = 26;
    pub const BLOB: u64 = 27;
    pub const VAR_STRING: u64 = 28;
    pub const STRING: u64 = 29;
    pub const GEOMETRY: u64 = 30;
    pub const JSON: u64 = 31;
    pub const VECTOR: u64 = 32;
}

/// `dd::Column::enum_hidden_type`.
const HT_HIDDEN_SE: u64 = 2;
const HT_HIDDEN_SQL: u64 = 3;

/// `key=value;` pairs of a `se_private_data` / `options` string.
fn kv(s: &str, key: &str) -> Option<String> {
    s.split(';').find_map(|p| {
        p.split_once('=')
            .filter(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    })
}

fn kv_u64(s: &str, key: &str) -> Option<u64> {
    kv(s, key)?.parse().ok()
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > (MAX_SDI_JSON as usize) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Standard base64 (the ENUM/SET element names).
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b'\n' | b'\r' => continue,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

fn field<'v>(v: &'v Value, k: &str) -> Option<&'v Value> {
    v.get(k)
}
fn u(v: &Value, k: &str) -> Option<u64> {
    field(v, k)?.as_u64()
}
fn b(v: &Value, k: &str) -> bool {
    field(v, k)
        .and_then(|x| x.as_bool().or_else(|| x.as_u64().map(|n| n != 0)))
        .unwrap_or(false)
}
fn s<'v>(v: &'v Value, k: &str) -> &'v str {
    field(v, k).and_then(Value::as_str).unwrap_or("")
}

/// What a serialized column is in the record.
enum Slot {
    Col(usize),
    Dropped(usize),
    RowId,
    TrxId,
    RollPtr,
    /// Not stored (virtual) or not understood.
    None,
}

/// The column type of a dd column.
fn dd_column_type(c: &Value, cs: Charset) -> Result<ColumnType, String> {
    use dd_type as t;
    let ty = u(c, "type").ok_or("column without a type")?;
    let unsigned = b(c, "is_unsigned");
    let char_len = u(c, "char_length").unwrap_or(0);
    let mbmax = u64::from(cs.mbmaxlen().max(1));
    let chars = u32::try_from(char_len / mbmax).unwrap_or(u32::MAX);
    let bytes = u32::try_from(char_len).unwrap_or(u32::MAX);
    let fsp = || u32::try_from(u(c, "datetime_precision").unwrap_or(0).min(6)).unwrap_or(0);
    let members = || -> Result<Vec<String>, String> {
        let els = field(c, "elements")
            .and_then(Value::as_array)
            .ok_or("ENUM/SET without elements")?;
        let mut v: Vec<(u64, String)> = Vec::with_capacity(els.len().min(65536));
        for e in els.iter().take(65536) {
            let raw = base64_decode(s(e, "name")).ok_or("element name is not base64")?;
            v.push((
                u(e, "index").unwrap_or(v.len() as u64 + 1),
                String::from_utf8_lossy(&raw).into_owned(),
            ));
        }
        v.sort_by_key(|(i, _)| *i);
        Ok(v.into_iter().map(|(_, n)| n).collect())
    };
    let binary = cs == Charset::Binary;
    Ok(match ty {
        t::TINY => ColumnType::TinyInt { unsigned },
        t::SHORT => ColumnType::SmallInt { unsigned },
        t::INT24 => ColumnType::MediumInt { unsigned },
        t::LONG => ColumnType::Int { unsigned },
        t::LONGLONG => ColumnType::BigInt { unsigned },
        t::NEWDECIMAL | t::DECIMAL => ColumnType::Decimal {
            precision: u32::try_from(u(c, "numeric_precision").unwrap_or(10).min(65)).unwrap_or(10),
            scale: u32::try_from(u(c, "numeric_scale").unwrap_or(0).min(38)).unwrap_or(0),
        },
        t::FLOAT => ColumnType::Float,
        t::DOUBLE => ColumnType::Double,
        t::BIT => ColumnType::Bit {
            bits: u32::try_from(u(c, "numeric_precision").unwrap_or(char_len).clamp(1, 64))
                .unwrap_or(1),
        },
        t::YEAR => ColumnType::Year,
        t::DATE | t::NEWDATE => ColumnType::Date,
        t::DATETIME => ColumnType::DateTime {
            fsp: 0,
            old_format: true,
        },
        t::DATETIME2 => ColumnType::DateTime {
            fsp: fsp(),
            old_format: false,
        },
        t::TIMESTAMP => ColumnType::Timestamp {
            fsp: 0,
            old_format: true,
        },
        t::TIMESTAMP2 => ColumnType::Timestamp {
            fsp: fsp(),
            old_format: false,
        },
        t::TIME => ColumnType::Time {
            fsp: 0,
            old_format: true,
        },
        t::TIME2 => ColumnType::Time {
            fsp: fsp(),
            old_format: false,
        },
        t::VARCHAR | t::VAR_STRING if binary => ColumnType::VarBinary { len: bytes },
        t::VARCHAR | t::VAR_STRING => ColumnType::VarChar { len: chars },
        t::STRING if binary => ColumnType::Binary { len: bytes },
        t::STRING => ColumnType::Char { len: chars },
        t::TINY_BLOB | t::MEDIUM_BLOB | t::LONG_BLOB | t::BLOB if binary => ColumnType::Blob,
        t::TINY_BLOB | t::MEDIUM_BLOB | t::LONG_BLOB | t::BLOB => ColumnType::Text,
        t::ENUM => ColumnType::Enum {
            members: members()?,
        },
        t::SET => ColumnType::Set {
            members: members()?,
        },
        t::GEOMETRY => ColumnType::Geometry,
        t::JSON => ColumnType::Json,
        t::VECTOR => ColumnType::Vector { dims: bytes / 4 },
        other => return Err(format!("dd column type {other}")),
    })
}

/// A table definition from the JSON of one SDI record. `space_id` picks
/// the partition whose tablespace this is, for partitioned tables.
pub fn table_from_json(json: &str, space_id: Option<u32>) -> Result<TableDef, SchemaError> {
    let bad = |msg: String| corrupt("SDI JSON", 0, msg);
    let v: Value = serde_json::from_str(json).map_err(|e| bad(format!("{e}")))?;
    if s(&v, "dd_object_type") != "Table" {
        return Err(bad(format!(
            "object type {:?} is not Table",
            s(&v, "dd_object_type")
        )));
    }
    let t = field(&v, "dd_object").ok_or_else(|| bad("no dd_object".into()))?;
    let name = s(t, "name").to_string();
    let db = s(t, "schema_ref").to_string();
    let ctx = |msg: String| bad(format!("table {db}.{name}: {msg}"));
    let dd_cols = field(t, "columns")
        .and_then(Value::as_array)
        .ok_or_else(|| ctx("no columns".into()))?;

    // Columns in ordinal order; the serialized index (`column_opx`) maps to a slot.
    let mut order: Vec<usize> = (0..dd_cols.len()).collect();
    order.sort_by_key(|&i| u(&dd_cols[i], "ordinal_position").unwrap_or(i as u64));
    let mut slots: Vec<Slot> = (0..dd_cols.len()).map(|_| Slot::None).collect();
    let mut columns = Vec::new();
    let mut dropped = Vec::new();
    let mut phys: Vec<(u64, usize)> = Vec::new(); // (physical_pos, serialized index)
    let mut max_version = 0u32;
    // InnoDB-added stored columns (FTS_DOC_ID) that the PRIMARY index
    // elements may leave out although every record holds them, last.
    let mut hidden_se: Vec<usize> = Vec::new();
    for &i in &order {
        let c = &dd_cols[i];
        let cname = s(c, "name");
        let hidden = u(c, "hidden").unwrap_or(1);
        let se = s(c, "se_private_data");
        if let Some(p) = kv_u64(se, "physical_pos") {
            phys.push((p, i));
        }
        if hidden == HT_HIDDEN_SE {
            match cname {
                "DB_ROW_ID" => {
                    slots[i] = Slot::RowId;
                    continue;
                }
                "DB_TRX_ID" => {
                    slots[i] = Slot::TrxId;
                    continue;
                }
                "DB_ROLL_PTR" => {
                    slots[i] = Slot::RollPtr;
                    continue;
                }
                _ => {}
            }
        }
        if hidden == HT_HIDDEN_SQL {
            // Functional index parts: virtual, never stored, not user columns.
            continue;
        }
        let is_virtual = b(c, "is_virtual");
        let collation = u32::try_from(u(c, "collation_id").unwrap_or(63)).unwrap_or(63);
        let cs = from_collation_id(collation);
        if hidden == HT_HIDDEN_SE && !is_virtual {
            hidden_se.push(columns.len());
        }
        let ty = if cname == "FTS_DOC_ID" && hidden == HT_HIDDEN_SE {
            ColumnType::BigInt { unsigned: true }
        } else {
            match dd_column_type(c, cs) {
                Ok(ty) => ty,
                Err(m) => return Err(ctx(format!("column `{cname}`: {m}"))),
            }
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
            cname,
            ty,
            b(c, "is_nullable"),
            if texty { cs } else { Charset::Binary },
        );
        col.is_virtual = is_virtual;
        // Added by InnoDB (FTS_DOC_ID): not a column SELECT * shows.
        col.hidden = hidden == HT_HIDDEN_SE;
        col.physical_pos = kv_u64(se, "physical_pos").and_then(|p| u32::try_from(p).ok());
        col.version_added = kv_u64(se, "version_added").and_then(|p| u32::try_from(p).ok());
        col.version_dropped = kv_u64(se, "version_dropped").and_then(|p| u32::try_from(p).ok());
        max_version = max_version
            .max(col.version_added.unwrap_or(0))
            .max(col.version_dropped.unwrap_or(0));
        if kv(se, "default_null").as_deref() == Some("1") {
            col.instant_default = Some(None);
        } else if let Some(h) = kv(se, "default") {
            col.instant_default =
                Some(Some(hex_decode(&h).ok_or_else(|| {
                    ctx(format!("column `{cname}`: bad default {h:?}"))
                })?));
        }
        if col.version_dropped.is_some() {
            slots[i] = Slot::Dropped(dropped.len());
            dropped.push(col);
        } else {
            slots[i] = if is_virtual {
                Slot::None
            } else {
                Slot::Col(columns.len())
            };
            columns.push(col);
        }
    }

    // The PRIMARY index (type 1), or the hidden clustered index of a table
    // without one (the first index, named PRIMARY, hidden).
    let empty = Vec::new();
    let indexes = field(t, "indexes")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let primary = indexes
        .iter()
        .find(|ix| u(ix, "type") == Some(1))
        .or_else(|| indexes.iter().find(|ix| s(ix, "name") == "PRIMARY"))
        .or_else(|| indexes.first())
        .ok_or_else(|| ctx("no clustered index".into()))?;
    let mut clustered = Vec::new();
    let mut n_key = 0;
    let mut elements: Vec<&Value> = field(primary, "elements")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    elements.sort_by_key(|e| u(e, "ordinal_position").unwrap_or(0));
    let mut in_key = true;
    for e in elements {
        let opx = u(e, "column_opx")
            .and_then(|x| usize::try_from(x).ok())
            .filter(|&x| x < dd_cols.len());
        let Some(opx) = opx else {
            return Err(ctx("index element names no column".into()));
        };
        let f = match slots[opx] {
            Slot::Col(ci) => {
                let len = u(e, "length").unwrap_or(u64::from(u32::MAX));
                let full = u(&dd_cols[opx], "char_length").unwrap_or(0);
                let stringy = matches!(
                    columns[ci].ty,
                    ColumnType::Char { .. }
                        | ColumnType::VarChar { .. }
                        | ColumnType::Binary { .. }
                        | ColumnType::VarBinary { .. }
                        | ColumnType::Text
                        | ColumnType::Blob
                );
                let prefix = (in_key && !b(e, "hidden") && stringy && len < full)
                    .then(|| u32::try_from(len).unwrap_or(u32::MAX));
                IndexField::Column {
                    col: ci,
                    prefix_len: prefix,
                }
            }
            Slot::Dropped(di) => IndexField::DroppedColumn { col: di },
            Slot::RowId => IndexField::RowId,
            Slot::TrxId => IndexField::TrxId,
            Slot::RollPtr => IndexField::RollPtr,
            Slot::None => continue,
        };
        if matches!(f, IndexField::TrxId) {
            in_key = false;
        }
        if in_key {
            n_key += 1;
        }
        clustered.push(f);
    }
    for &ci in &hidden_se {
        if ci < columns.len()
            && !clustered
                .iter()
                .any(|f| matches!(f, IndexField::Column { col, .. } if *col == ci))
        {
            clustered.push(IndexField::Column {
                col: ci,
                prefix_len: None,
            });
        }
    }
    if !clustered.contains(&IndexField::TrxId) {
        // InnoDB-internal tables (FTS auxiliary tables) list only their key
        // in the DD; the record is laid out as for any table.
        let key: Vec<(usize, Option<u32>)> = clustered
            .iter()
            .filter_map(|f| match f {
                IndexField::Column { col, prefix_len } => Some((*col, *prefix_len)),
                _ => None,
            })
            .collect();
        if key.len() != clustered.len() {
            return Err(ctx("clustered index without DB_TRX_ID".into()));
        }
        (clustered, n_key) = TableDef::default_clustered(&columns, &key);
    }
    // MySQL 8.0.29+: the record holds the fields in physical_pos order,
    // dropped columns included.
    if !phys.is_empty() {
        phys.sort();
        let mut by_phys = Vec::new();
        for (_, i) in &phys {
            match slots[*i] {
                Slot::Col(ci) => by_phys.push(
                    clustered
                        .iter()
                        .find(|f| matches!(f, IndexField::Column { col, .. } if *col == ci))
                        .cloned()
                        .unwrap_or(IndexField::Column {
                            col: ci,
                            prefix_len: None,
                        }),
                ),
                Slot::Dropped(di) => by_phys.push(IndexField::DroppedColumn { col: di }),
                Slot::RowId => by_phys.push(IndexField::RowId),
                Slot::TrxId => by_phys.push(IndexField::TrxId),
                Slot::RollPtr => by_phys.push(IndexField::RollPtr),
                Slot::None => {}
            }
        }
        // Only when it names every field the index has (a sane SDI).
        if clustered.iter().all(|f| by_phys.contains(f)) {
            clustered = by_phys;
        }
    }

    // Index ids: the partition of this tablespace, else the table's.
    let index_sp = |ix: &Value| -> (Option<u64>, Option<u32>) {
        let sp = s(ix, "se_private_data");
        (
            kv_u64(sp, "id"),
            kv_u64(sp, "space_id").and_then(|x| u32::try_from(x).ok()),
        )
    };
    let (mut index_id, mut space) = index_sp(primary);
    let primary_opx = indexes.iter().position(|ix| std::ptr::eq(ix, primary));
    if let Some(parts) = field(t, "partitions").and_then(Value::as_array) {
        let mut all = Vec::new();
        for p in parts {
            all.push(p);
            if let Some(sub) = field(p, "subpartitions").and_then(Value::as_array) {
                all.extend(sub.iter());
            }
        }
        for p in all {
            let Some(pix) = field(p, "indexes").and_then(Value::as_array) else {
                continue;
            };
            // Partition indexes name their table index by `index_opx`.
            let pi = pix
                .iter()
                .find(|ix| u(ix, "index_opx").and_then(|x| usize::try_from(x).ok()) == primary_opx)
                .or_else(|| pix.first());
            if let Some(pi) = pi {
                let (id, sp) = index_sp(pi);
                if space_id.is_some() && sp == space_id {
                    index_id = id;
                    space = sp;
                    break;
                }
            }
        }
    }
    let row_format = match u(t, "row_format") {
        Some(2) => Some(RowFormat::Dynamic),
        Some(3) => Some(RowFormat::Compressed),
        Some(4) => Some(RowFormat::Redundant),
        Some(5) => Some(RowFormat::Compact),
        _ => None,
    };
    let tse = s(t, "se_private_data");
    let instant_cols_before = kv_u64(tse, "instant_col").and_then(|x| u32::try_from(x).ok());
    Ok(TableDef {
        db,
        name,
        columns,
        dropped_columns: dropped,
        clustered,
        n_key_fields: n_key,
        row_format,
        space_id: space.or(space_id),
        index_id,
        source: SchemaSource::Sdi,
        current_row_version: max_version,
        instant_cols_before,
        create_sql: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(base64_decode("c21hbGw=").unwrap(), b"small");
        assert_eq!(base64_decode("Z3JlZW4=").unwrap(), b"green");
        assert_eq!(base64_decode("Ymx1ZQ==").unwrap(), b"blue");
        assert_eq!(hex_decode("80000000").unwrap(), [0x80, 0, 0, 0]);
        assert_eq!(
            kv("id=169;root=4;space_id=9;", "space_id").as_deref(),
            Some("9")
        );
        assert_eq!(sdi_offset(16384), 10505);
    }
}
