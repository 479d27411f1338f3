//! Column values: raw InnoDB field bytes → CSV text (the convention of
//! `DESIGN.md`).
//!
//! Storage formats (facts from MySQL/MariaDB `storage/innobase`
//! `row0mysql.cc` row_mysql_store_col_in_innobase_format, `data0type.h`, and
//! the server's `my_time.cc` / `decimal.c` binary formats):
//!
//! * integers (and ENUM, SET, YEAR, DATE, pre-5.6 DATETIME/TIME/TIMESTAMP)
//!   are big-endian; signed ones have the sign bit flipped;
//! * FLOAT / DOUBLE are little-endian IEEE 754;
//! * DECIMAL, DATETIME2, TIMESTAMP2, TIME2 and BIT are stored as the server
//!   writes them (big-endian, offset encodings);
//! * strings are stored in the column's charset, CHAR padded with spaces.
//!
//! Every decoder checks the length it is given and returns a [`ValueError`]
//! rather than guess.

use crate::schema::{Charset, Column, ColumnType};

/// Why a stored value could not be turned into text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("{ty}: expected {expected} bytes, got {got}")]
    Length {
        ty: &'static str,
        expected: usize,
        got: usize,
    },
    #[error("{ty}: value out of range ({detail})")]
    Range { ty: &'static str, detail: String },
    #[error("ENUM index {index} out of range (1..={members})")]
    EnumIndex { index: u64, members: usize },
    #[error("SET bitmap {bits:#x} has bits beyond its {members} members")]
    SetBits { bits: u64, members: usize },
    #[error("invalid {charset:?} text")]
    Charset { charset: Charset },
    #[error("{0} is not supported")]
    Unsupported(&'static str),
}

type R = Result<String, ValueError>;

fn need(ty: &'static str, b: &[u8], n: usize) -> Result<(), ValueError> {
    if b.len() == n {
        Ok(())
    } else {
        Err(ValueError::Length {
            ty,
            expected: n,
            got: b.len(),
        })
    }
}

fn be_uint(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x))
}

/// Big-endian integer of `b.len()` (1..=8) bytes, InnoDB's signed
/// encoding (sign bit flipped) when `signed`.
fn innodb_int(b: &[u8], signed: bool) -> i128 {
    let raw = be_uint(b);
    if !signed {
        return i128::from(raw);
    }
    let bits = b.len() as u32 * 8;
    let flipped = raw ^ (1u64 << (bits - 1));
    // Sign-extend from `bits`.
    let shift = 64 - bits;
    i128::from(((flipped << shift) as i64) >> shift)
}

/// Fixed byte length of a column in the record, or `None` when it is
/// variable-length. `compact` = COMPACT/DYNAMIC/COMPRESSED, where CHAR in a
/// charset of variable character width is stored variable-length.
pub fn fixed_len(col: &Column, compact: bool) -> Option<usize> {
    let n = match &col.ty {
        ColumnType::TinyInt { .. } => 1,
        ColumnType::SmallInt { .. } => 2,
        ColumnType::MediumInt { .. } => 3,
        ColumnType::Int { .. } => 4,
        ColumnType::BigInt { .. } => 8,
        ColumnType::Float => 4,
        ColumnType::Double => 8,
        ColumnType::Decimal { precision, scale } => decimal_bin_size(*precision, *scale)?,
        ColumnType::Bit { bits } => (*bits as usize).div_ceil(8).max(1),
        ColumnType::Year => 1,
        ColumnType::Date => 3,
        ColumnType::DateTime { fsp, old_format } => {
            if *old_format {
                8
            } else {
                5 + frac_bytes(*fsp)
            }
        }
        ColumnType::Timestamp { fsp, old_format } => {
            if *old_format {
                4
            } else {
                4 + frac_bytes(*fsp)
            }
        }
        ColumnType::Time { fsp, old_format } => {
            if *old_format {
                3
            } else {
                3 + frac_bytes(*fsp)
            }
        }
        ColumnType::Char { len } => {
            let (min, max) = mb_min_max(col.charset);
            if compact && min != max {
                return None;
            }
            (*len as usize).checked_mul(max as usize)?
        }
        ColumnType::Binary { len } => *len as usize,
        ColumnType::Enum { members } => {
            if members.len() > 255 {
                2
            } else {
                1
            }
        }
        ColumnType::Set { members } => set_len(members.len()),
        ColumnType::VarChar { .. }
        | ColumnType::VarBinary { .. }
        | ColumnType::Text
        | ColumnType::Blob
        | ColumnType::Json
        | ColumnType::Geometry
        | ColumnType::Vector { .. } => return None,
    };
    Some(n)
}

/// Maximum byte length of a column's value (InnoDB `col->len`), and whether
/// InnoDB treats it as a "big" column (`DATA_BIG_COL`: 2-byte lengths in
/// COMPACT headers and eligible for off-page storage).
pub fn max_len_and_big(col: &Column) -> (u64, bool) {
    let mb = u64::from(mb_min_max(col.charset).1);
    match &col.ty {
        ColumnType::Text | ColumnType::Blob | ColumnType::Json | ColumnType::Geometry => {
            (u64::from(u32::MAX), true)
        }
        ColumnType::VarChar { len } | ColumnType::Char { len } => {
            let l = u64::from(*len) * mb;
            (l, l > 255)
        }
        ColumnType::VarBinary { len } | ColumnType::Binary { len } => (u64::from(*len), *len > 255),
        ColumnType::Vector { dims } => {
            let l = u64::from(*dims) * 4;
            (l, l > 255)
        }
        _ => {
            let l = fixed_len(col, true).unwrap_or(0) as u64;
            (l, false)
        }
    }
}

/// (mbminlen, mbmaxlen) of a charset.
pub fn mb_min_max(cs: Charset) -> (u32, u32) {
    match cs {
        Charset::Ucs2 => (2, 2),
        Charset::Utf16 => (2, 4),
        Charset::Utf32 => (4, 4),
        c => (1, c.mbmaxlen()),
    }
}

fn set_len(members: usize) -> usize {
    let l = members.div_ceil(8).max(1);
    if l > 4 {
        8
    } else {
        l
    }
}

fn frac_bytes(fsp: u32) -> usize {
    (fsp.min(6) as usize).div_ceil(2)
}

const DIG2BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/// Bytes of MySQL's binary DECIMAL(precision, scale).
pub fn decimal_bin_size(precision: u32, scale: u32) -> Option<usize> {
    if precision > 65 || scale > 38 || scale > precision {
        return None;
    }
    let intg = (precision - scale) as usize;
    let frac = scale as usize;
    Some(intg / 9 * 4 + DIG2BYTES[intg % 9] + frac / 9 * 4 + DIG2BYTES[frac % 9])
}

/// Decodes one non-NULL stored value of `col` to its CSV text.
pub fn decode_value(col: &Column, b: &[u8]) -> R {
    match &col.ty {
        ColumnType::TinyInt { unsigned } => int_text("TINYINT", b, 1, !unsigned),
        ColumnType::SmallInt { unsigned } => int_text("SMALLINT", b, 2, !unsigned),
        ColumnType::MediumInt { unsigned } => int_text("MEDIUMINT", b, 3, !unsigned),
        ColumnType::Int { unsigned } => int_text("INT", b, 4, !unsigned),
        ColumnType::BigInt { unsigned } => int_text("BIGINT", b, 8, !unsigned),
        ColumnType::Decimal { precision, scale } => decimal(b, *precision, *scale),
        ColumnType::Float => {
            need("FLOAT", b, 4)?;
            let v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            if !v.is_finite() {
                return Err(ValueError::Range {
                    ty: "FLOAT",
                    detail: format!("{v}"),
                });
            }
            Ok(ecma_format(&format!("{v:e}")))
        }
        ColumnType::Double => {
            need("DOUBLE", b, 8)?;
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            let v = f64::from_le_bytes(a);
            if !v.is_finite() {
                return Err(ValueError::Range {
                    ty: "DOUBLE",
                    detail: format!("{v}"),
                });
            }
            Ok(ecma_format(&format!("{v:e}")))
        }
        ColumnType::Bit { bits } => {
            let n = (*bits as usize).div_ceil(8).max(1);
            need("BIT", b, n)?;
            let v = be_uint(b);
            if *bits < 64 && v >> bits != 0 {
                return Err(ValueError::Range {
                    ty: "BIT",
                    detail: format!("{v:#x} wider than {bits} bits"),
                });
            }
            Ok(v.to_string())
        }
        ColumnType::Year => {
            need("YEAR", b, 1)?;
            Ok(if b[0] == 0 {
                "0000".to_string()
            } else {
                format!("{:04}", 1900 + u32::from(b[0]))
            })
        }
        ColumnType::Date => {
            need("DATE", b, 3)?;
            let v = be_uint(b) & 0x7F_FFFF;
            let (y, m, d) = (v >> 9, (v >> 5) & 15, v & 31);
            check_ymd("DATE", y, m, d)?;
            Ok(format!("{y:04}-{m:02}-{d:02}"))
        }
        ColumnType::DateTime { fsp, old_format } => {
            if *old_format {
                old_datetime(b)
            } else {
                datetime2(b, *fsp)
            }
        }
        ColumnType::Timestamp { fsp, old_format } => timestamp(b, *fsp, *old_format),
        ColumnType::Time { fsp, old_format } => {
            if *old_format {
                old_time(b)
            } else {
                time2(b, *fsp)
            }
        }
        ColumnType::Char { .. } => {
            let t = trim_char_padding(b, col.charset);
            decode_text(t, col.charset)
        }
        ColumnType::VarChar { .. } | ColumnType::Text => decode_text(b, col.charset),
        ColumnType::Binary { .. }
        | ColumnType::VarBinary { .. }
        | ColumnType::Blob
        | ColumnType::Geometry
        | ColumnType::Vector { .. } => Ok(hex(b)),
        ColumnType::Enum { members } => {
            let n = if members.len() > 255 { 2 } else { 1 };
            need("ENUM", b, n)?;
            let i = be_uint(b);
            if i == 0 {
                // The server's "invalid value" index: it prints ''.
                return Ok(String::new());
            }
            members
                .get((i - 1) as usize)
                .cloned()
                .ok_or(ValueError::EnumIndex {
                    index: i,
                    members: members.len(),
                })
        }
        ColumnType::Set { members } => {
            need("SET", b, set_len(members.len()))?;
            let bits = be_uint(b);
            if members.len() < 64 && bits >> members.len() != 0 {
                return Err(ValueError::SetBits {
                    bits,
                    members: members.len(),
                });
            }
            let v: Vec<&str> = members
                .iter()
                .enumerate()
                .filter(|(i, _)| bits >> i & 1 != 0)
                .map(|(_, m)| m.as_str())
                .collect();
            Ok(v.join(","))
        }
        ColumnType::Json => json_text(b),
    }
}

/// MySQL 8 binary JSON → text as MySQL prints it (`{"a": 1, "b": [true, null]}`).
///
/// Format facts from MySQL `sql-common/json_binary.h` (type byte, then for
/// objects and arrays a little-endian element count and byte size, key
/// entries, value entries with small values inlined; strings with a
/// 7-bit-per-byte length prefix). An empty value is the JSON null the
/// server stores for an empty document.
fn json_text(b: &[u8]) -> R {
    if b.is_empty() {
        return Ok("null".to_string());
    }
    let mut out = String::new();
    json_value(b[0], &b[1..], 0, &mut out)?;
    Ok(out)
}

fn json_err(detail: &str) -> ValueError {
    ValueError::Range {
        ty: "JSON",
        detail: detail.to_string(),
    }
}

fn le(b: &[u8], off: usize, n: usize) -> Result<u64, ValueError> {
    let s = crate::bytes::slice(b, off, n).ok_or_else(|| json_err("truncated"))?;
    Ok(s.iter().rev().fold(0u64, |a, &x| (a << 8) | u64::from(x)))
}

/// Variable-length length: 7 bits per byte, low bits first, at most 5 bytes.
fn json_varlen(b: &[u8]) -> Result<(usize, usize), ValueError> {
    let mut v = 0usize;
    for i in 0..5 {
        let x = *b.get(i).ok_or_else(|| json_err("truncated length"))?;
        v |= usize::from(x & 0x7F) << (7 * i);
        if x & 0x80 == 0 {
            return Ok((v, i + 1));
        }
    }
    Err(json_err("length too long"))
}

fn json_string(s: &[u8], out: &mut String) -> Result<(), ValueError> {
    let s = std::str::from_utf8(s).map_err(|_| json_err("string is not UTF-8"))?;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(())
}

fn json_value(t: u8, b: &[u8], depth: usize, out: &mut String) -> Result<(), ValueError> {
    if depth > 100 {
        return Err(json_err("nesting too deep"));
    }
    match t {
        0x00..=0x03 => {
            let large = t & 1 == 1;
            let w = if large { 4 } else { 2 };
            let count = le(b, 0, w)? as usize;
            let size = le(b, w, w)? as usize;
            if size > b.len() || count > size {
                return Err(json_err("container larger than its value"));
            }
            let b = &b[..size];
            let is_obj = t < 2;
            let key_entry = if is_obj { w + 2 } else { 0 };
            let value_entry = 1 + w;
            let header = 2 * w;
            let values_at = header + count * key_entry;
            if values_at + count * value_entry > size {
                return Err(json_err("entries past the container"));
            }
            out.push(if is_obj { '{' } else { '[' });
            for i in 0..count {
                if i > 0 {
                    out.push_str(", ");
                }
                if is_obj {
                    let ko = le(b, header + i * key_entry, w)? as usize;
                    let kl = le(b, header + i * key_entry + w, 2)? as usize;
                    let k = crate::bytes::slice(b, ko, kl)
                        .ok_or_else(|| json_err("key past the container"))?;
                    json_string(k, out)?;
                    out.push_str(": ");
                }
                let e = values_at + i * value_entry;
                let vt = b[e];
                let inline = matches!(vt, 0x04..=0x06) || (large && matches!(vt, 0x07 | 0x08));
                if inline {
                    json_value(vt, &b[e + 1..e + 1 + w], depth + 1, out)?;
                } else {
                    let off = le(b, e + 1, w)? as usize;
                    let v = b
                        .get(off..)
                        .ok_or_else(|| json_err("value past the container"))?;
                    json_value(vt, v, depth + 1, out)?;
                }
            }
            out.push(if is_obj { '}' } else { ']' });
        }
        0x04 => out.push_str(match b.first() {
            Some(0) => "null",
            Some(1) => "true",
            Some(2) => "false",
            _ => return Err(json_err("bad literal")),
        }),
        0x05 => out.push_str(&(le(b, 0, 2)? as u16 as i16).to_string()),
        0x06 => out.push_str(&le(b, 0, 2)?.to_string()),
        0x07 => out.push_str(&(le(b, 0, 4)? as u32 as i32).to_string()),
        0x08 => out.push_str(&le(b, 0, 4)?.to_string()),
        0x09 => out.push_str(&(le(b, 0, 8)? as i64).to_string()),
        0x0A => out.push_str(&le(b, 0, 8)?.to_string()),
        0x0B => {
            let v = f64::from_bits(le(b, 0, 8)?);
            if !v.is_finite() {
                return Err(json_err("non-finite double"));
            }
            let s = ecma_format(&format!("{v:e}"));
            out.push_str(&s);
            if !s.contains(['.', 'e']) {
                out.push_str(".0");
            }
        }
        0x0C => {
            let (n, l) = json_varlen(b)?;
            let s =
                crate::bytes::slice(b, l, n).ok_or_else(|| json_err("string past the value"))?;
            json_string(s, out)?;
        }
        0x0F => {
            // Opaque: MySQL field type, length, data. DECIMAL is printed as a
            // number; other opaque types are not decoded.
            let ft = *b.first().ok_or_else(|| json_err("truncated opaque"))?;
            let (n, l) = json_varlen(&b[1..])?;
            let d = crate::bytes::slice(b, 1 + l, n)
                .ok_or_else(|| json_err("opaque past the value"))?;
            if ft != 246 || d.len() < 2 {
                return Err(ValueError::Unsupported("JSON opaque value"));
            }
            let (p, sc) = (u32::from(d[0]), u32::from(d[1]));
            out.push_str(&decimal(&d[2..], p, sc)?);
        }
        _ => return Err(json_err("unknown type")),
    }
    Ok(())
}

fn int_text(ty: &'static str, b: &[u8], n: usize, signed: bool) -> R {
    need(ty, b, n)?;
    Ok(innodb_int(b, signed).to_string())
}

/// `0x` + lowercase hex.
pub fn hex(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(2 + 2 * b.len());
    s.push_str("0x");
    for &x in b {
        s.push(H[(x >> 4) as usize] as char);
        s.push(H[(x & 15) as usize] as char);
    }
    s
}

fn trim_char_padding(b: &[u8], cs: Charset) -> &[u8] {
    match cs {
        Charset::Ucs2 | Charset::Utf16 => {
            let mut e = b.len() - b.len() % 2;
            while e >= 2 && b[e - 2] == 0 && b[e - 1] == 0x20 {
                e -= 2;
            }
            &b[..e]
        }
        Charset::Utf32 => {
            let mut e = b.len() - b.len() % 4;
            while e >= 4 && b[e - 4..e] == [0, 0, 0, 0x20] {
                e -= 4;
            }
            &b[..e]
        }
        Charset::Binary => b,
        _ => {
            let mut e = b.len();
            while e > 0 && b[e - 1] == b' ' {
                e -= 1;
            }
            &b[..e]
        }
    }
}

/// Text in `cs` → UTF-8; malformed input is an error, never replaced.
pub fn decode_text(b: &[u8], cs: Charset) -> R {
    use encoding_rs as e;
    let enc = match cs {
        Charset::Utf8mb3 | Charset::Utf8mb4 => {
            return std::str::from_utf8(b)
                .map(str::to_string)
                .map_err(|_| ValueError::Charset { charset: cs });
        }
        Charset::Binary => return Ok(hex(b)),
        Charset::Latin1 | Charset::Ascii => e::WINDOWS_1252,
        Charset::Gbk | Charset::Gb2312 => e::GBK,
        Charset::Gb18030 => e::GB18030,
        Charset::Ujis => e::EUC_JP,
        Charset::Big5 => e::BIG5,
        Charset::Sjis => e::SHIFT_JIS,
        Charset::Euckr => e::EUC_KR,
        Charset::Cp1251 => e::WINDOWS_1251,
        Charset::Ucs2 | Charset::Utf16 => e::UTF_16BE,
        Charset::Utf32 => {
            if !b.len().is_multiple_of(4) {
                return Err(ValueError::Charset { charset: cs });
            }
            return b
                .chunks_exact(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect::<Option<String>>()
                .ok_or(ValueError::Charset { charset: cs });
        }
        Charset::Other(_) => {
            return std::str::from_utf8(b)
                .map(str::to_string)
                .map_err(|_| ValueError::Charset { charset: cs });
        }
    };
    enc.decode_without_bom_handling_and_without_replacement(b)
        .map(|c| c.into_owned())
        .ok_or(ValueError::Charset { charset: cs })
}

/// Rust's shortest round-trip `{:e}` text (`-1.5e-7`) → ECMAScript
/// `Number::toString` layout (without `+` in exponents).
fn ecma_format(e_form: &str) -> String {
    let (neg, rest) = match e_form.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, e_form),
    };
    let (mant, exp) = rest.split_once('e').unwrap_or((rest, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if digits.bytes().all(|d| d == b'0') {
        out.push('0');
        return out;
    }
    let k = digits.len() as i32;
    let n = exp + 1;
    if k <= n && n <= 21 {
        out.push_str(&digits);
        for _ in 0..(n - k) {
            out.push('0');
        }
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        for _ in 0..(-n) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push_str(&(n - 1).to_string());
    }
    out
}

/// MySQL binary DECIMAL → exact text with `scale` fraction digits.
fn decimal(b: &[u8], precision: u32, scale: u32) -> R {
    let size = decimal_bin_size(precision, scale).ok_or(ValueError::Range {
        ty: "DECIMAL",
        detail: format!("precision {precision} scale {scale}"),
    })?;
    need("DECIMAL", b, size)?;
    if size == 0 {
        return Err(ValueError::Length {
            ty: "DECIMAL",
            expected: 1,
            got: 0,
        });
    }
    let mut buf = b.to_vec();
    let negative = buf[0] & 0x80 == 0;
    buf[0] ^= 0x80;
    if negative {
        for x in &mut buf {
            *x = !*x;
        }
    }
    let intg = (precision - scale) as usize;
    let frac = scale as usize;
    let mut pos = 0usize;
    let mut read = |n: usize, digits: usize| -> Result<String, ValueError> {
        let v = be_uint(&buf[pos..pos + n]);
        pos += n;
        let s = format!("{v:0digits$}");
        if s.len() > digits {
            return Err(ValueError::Range {
                ty: "DECIMAL",
                detail: format!("group {v} exceeds {digits} digits"),
            });
        }
        Ok(s)
    };
    let mut int_digits = String::new();
    if !intg.is_multiple_of(9) {
        int_digits.push_str(&read(DIG2BYTES[intg % 9], intg % 9)?);
    }
    for _ in 0..intg / 9 {
        int_digits.push_str(&read(4, 9)?);
    }
    let mut frac_digits = String::new();
    for _ in 0..frac / 9 {
        frac_digits.push_str(&read(4, 9)?);
    }
    if !frac.is_multiple_of(9) {
        frac_digits.push_str(&read(DIG2BYTES[frac % 9], frac % 9)?);
    }
    let int_trim = int_digits.trim_start_matches('0');
    let mut out = String::new();
    let is_zero = int_trim.is_empty() && frac_digits.bytes().all(|d| d == b'0');
    if negative && !is_zero {
        out.push('-');
    }
    out.push_str(if int_trim.is_empty() { "0" } else { int_trim });
    if frac > 0 {
        out.push('.');
        out.push_str(&frac_digits);
    }
    Ok(out)
}

fn check_ymd(ty: &'static str, y: u64, m: u64, d: u64) -> Result<(), ValueError> {
    // The server allows zero dates and zero parts (NO_ZERO_DATE off).
    if y > 9999 || m > 12 || d > 31 {
        return Err(ValueError::Range {
            ty,
            detail: format!("{y}-{m}-{d}"),
        });
    }
    Ok(())
}

fn check_hms(ty: &'static str, h: u64, mi: u64, s: u64) -> Result<(), ValueError> {
    if h > 23 || mi > 59 || s > 59 {
        return Err(ValueError::Range {
            ty,
            detail: format!("{h}:{mi}:{s}"),
        });
    }
    Ok(())
}

fn frac_text(usec: u64, fsp: u32) -> String {
    if fsp == 0 {
        return String::new();
    }
    let fsp = fsp.min(6);
    let v = usec / 10u64.pow(6 - fsp);
    format!(".{:0w$}", v, w = fsp as usize)
}

/// Fractional part of DATETIME2/TIME2/TIMESTAMP2 (big-endian, signed for
/// TIME2) → (value as stored, in units of 10^-fsp rounded to usec scale).
fn read_frac(b: &[u8], fsp: u32, signed: bool) -> Result<i64, ValueError> {
    let v = match fsp {
        0 => 0,
        1 | 2 => {
            let x = i64::from(b[0]);
            let x = if signed && x >= 0x80 { x - 0x100 } else { x };
            x * 10_000
        }
        3 | 4 => {
            let x = be_uint(&b[..2]) as i64;
            let x = if signed && x >= 0x8000 {
                x - 0x10000
            } else {
                x
            };
            x * 100
        }
        5 | 6 => {
            let x = be_uint(&b[..3]) as i64;
            if signed && x >= 0x80_0000 {
                x - 0x100_0000
            } else {
                x
            }
        }
        _ => {
            return Err(ValueError::Range {
                ty: "fsp",
                detail: fsp.to_string(),
            })
        }
    };
    Ok(v)
}

fn datetime2(b: &[u8], fsp: u32) -> R {
    let fsp = fsp.min(6);
    need("DATETIME", b, 5 + frac_bytes(fsp))?;
    let int = be_uint(&b[..5]) as i64 - 0x80_0000_0000;
    let frac = read_frac(&b[5..], fsp, false)?;
    if int < 0 || !(0..1_000_000).contains(&frac) {
        return Err(ValueError::Range {
            ty: "DATETIME",
            detail: format!("packed {int} frac {frac}"),
        });
    }
    let int = int as u64;
    let ymd = int >> 17;
    let ym = ymd >> 5;
    let (y, m, d) = (ym / 13, ym % 13, ymd & 31);
    let hms = int & 0x1_FFFF;
    let (h, mi, s) = (hms >> 12, (hms >> 6) & 63, hms & 63);
    check_ymd("DATETIME", y, m, d)?;
    check_hms("DATETIME", h, mi, s)?;
    Ok(format!(
        "{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}{}",
        frac_text(frac as u64, fsp)
    ))
}

fn old_datetime(b: &[u8]) -> R {
    need("DATETIME", b, 8)?;
    let v = be_uint(b) & 0x7FFF_FFFF_FFFF_FFFF;
    let (date, time) = (v / 1_000_000, v % 1_000_000);
    let (y, m, d) = (date / 10_000, date / 100 % 100, date % 100);
    let (h, mi, s) = (time / 10_000, time / 100 % 100, time % 100);
    check_ymd("DATETIME", y, m, d)?;
    check_hms("DATETIME", h, mi, s)?;
    Ok(format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}"))
}

fn timestamp(b: &[u8], fsp: u32, old: bool) -> R {
    let fsp = if old { 0 } else { fsp.min(6) };
    need("TIMESTAMP", b, 4 + frac_bytes(fsp))?;
    let secs = be_uint(&b[..4]);
    let frac = read_frac(&b[4..], fsp, false)?;
    if !(0..1_000_000).contains(&frac) {
        return Err(ValueError::Range {
            ty: "TIMESTAMP",
            detail: format!("frac {frac}"),
        });
    }
    if secs == 0 && frac == 0 {
        return Ok(format!("0000-00-00 00:00:00{}", frac_text(0, fsp)));
    }
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days as i64);
    Ok(format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}{}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        frac_text(frac as u64, fsp)
    ))
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn time2(b: &[u8], fsp: u32) -> R {
    let fsp = fsp.min(6);
    need("TIME", b, 3 + frac_bytes(fsp))?;
    let packed: i64 = if fsp >= 5 {
        be_uint(&b[..6]) as i64 - 0x8000_0000_0000
    } else {
        let mut int = be_uint(&b[..3]) as i64 - 0x80_0000;
        let mut frac = read_frac(&b[3..], fsp, true)?;
        if int < 0 && frac != 0 {
            int += 1;
            frac -= if fsp <= 2 {
                0x100 * 10_000
            } else {
                0x10000 * 100
            };
        }
        (int << 24) + frac
    };
    let neg = packed < 0;
    let p = packed.unsigned_abs();
    let hms = p >> 24;
    let frac = p & 0xFF_FFFF;
    let (h, mi, s) = ((hms >> 12) & 0x3FF, (hms >> 6) & 63, hms & 63);
    if mi > 59 || s > 59 || frac >= 1_000_000 || h > 838 {
        return Err(ValueError::Range {
            ty: "TIME",
            detail: format!("{h}:{mi}:{s}.{frac}"),
        });
    }
    Ok(format!(
        "{}{h:02}:{mi:02}:{s:02}{}",
        if neg { "-" } else { "" },
        frac_text(frac, fsp)
    ))
}

fn old_time(b: &[u8]) -> R {
    need("TIME", b, 3)?;
    let v = innodb_int(b, true) as i64;
    let neg = v < 0;
    let a = v.unsigned_abs();
    let (h, mi, s) = (a / 10_000, a / 100 % 100, a % 100);
    if mi > 59 || s > 59 || h > 838 {
        return Err(ValueError::Range {
            ty: "TIME",
            detail: v.to_string(),
        });
    }
    Ok(format!(
        "{}{h:02}:{mi:02}:{s:02}",
        if neg { "-" } else { "" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Column;

    fn col(ty: ColumnType) -> Column {
        Column::new("c", ty, true, Charset::Utf8mb4)
    }

    #[test]
    fn ecma() {
        assert_eq!(ecma_format(&format!("{:e}", 1e-7f64)), "1e-7");
        assert_eq!(ecma_format(&format!("{:e}", 1.5e21f64)), "1.5e21");
        assert_eq!(ecma_format(&format!("{:e}", 0.1f64)), "0.1");
        assert_eq!(ecma_format(&format!("{:e}", 100f64)), "100");
        assert_eq!(ecma_format(&format!("{:e}", 0.000001f64)), "0.000001");
        assert_eq!(
            ecma_format(&format!("{:e}", 8600732300000f64)),
            "8600732300000"
        );
        assert_eq!(
            ecma_format(&format!("{:e}", 3.4028235e38f32)),
            "3.4028235e38"
        );
        assert_eq!(ecma_format(&format!("{:e}", -5e-324f64)), "-5e-324");
        assert_eq!(ecma_format(&format!("{:e}", 1e21f64)), "1e21");
        assert_eq!(ecma_format(&format!("{:e}", 123.456f64)), "123.456");
        assert_eq!(ecma_format(&format!("{:e}", 0f64)), "0");
    }

    #[test]
    fn ints() {
        let c = col(ColumnType::Int { unsigned: false });
        assert_eq!(decode_value(&c, &[0x80, 0, 0, 1]).unwrap(), "1");
        assert_eq!(decode_value(&c, &[0x7f, 0xff, 0xff, 0xff]).unwrap(), "-1");
        assert_eq!(decode_value(&c, &[0, 0, 0, 0]).unwrap(), "-2147483648");
        let c = col(ColumnType::BigInt { unsigned: true });
        assert_eq!(
            decode_value(&c, &[0xff; 8]).unwrap(),
            "18446744073709551615"
        );
        assert!(decode_value(&c, &[0xff; 7]).is_err());
    }

    #[test]
    fn decimals() {
        // DECIMAL(10,5) 12345.67890 and -1234.56789 as MySQL stores them.
        let c = col(ColumnType::Decimal {
            precision: 10,
            scale: 5,
        });
        // intg 5 -> 3 bytes, frac 5 -> 3 bytes
        let pos = [0x80, 0x30, 0x39, 0x01, 0x08, 0x2a]; // 12345 . 67850? built below
        let _ = pos;
        let mut b = Vec::new();
        b.extend_from_slice(&12345u32.to_be_bytes()[1..]);
        b.extend_from_slice(&67890u32.to_be_bytes()[1..]);
        b[0] ^= 0x80;
        assert_eq!(decode_value(&c, &b).unwrap(), "12345.67890");
        let neg: Vec<u8> = b.iter().map(|x| !x).collect();
        assert_eq!(decode_value(&c, &neg).unwrap(), "-12345.67890");
    }

    #[test]
    fn days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(24_855), (2038, 1, 19));
    }
}
