//! MySQL 8 binary JSON → text as MySQL prints it
//! (`{"a": 1, "b": [true, null]}`).
//!
//! Format facts from MySQL `sql-common/json_binary.h` and `json_binary.cc`:
//! a value is a type byte and its data. Objects (0x00 small, 0x01 large)
//! and arrays (0x02, 0x03) hold a little-endian element count and byte
//! size (2 bytes each when small, 4 when large), then for objects one key
//! entry per element (key offset, 2-byte key length), then one value entry
//! per element (type byte, then the value itself for literals and 16-bit
//! integers, and 32-bit ones in a large container, else its offset); every
//! offset counts from the container's count field. Scalars: 0x04 literal
//! (null, true, false), 0x05/0x06 16-bit, 0x07/0x08 32-bit, 0x09/0x0A
//! 64-bit integers (signed/unsigned), 0x0B double, 0x0C UTF-8 string with a
//! 7-bit-per-byte length prefix, 0x0F opaque (MySQL field type, length,
//! data). An empty value is the JSON null the server stores for an empty
//! document.
//!
//! Objects and arrays refer to their elements by offset, so a value is read
//! at random: through [`Bytes`], which `&[u8]` implements with borrowed
//! reads (a value held in memory, [`text_into`]) and
//! `innodb::lob_seek::Seekable` from the pages of an off-page value that is
//! never assembled (`innodb::deferred`). The converter is generic over the
//! byte source and over where the text goes ([`Sink`]): monomorphised, the
//! in-memory path costs what a converter of slices costs. Strings (and
//! opaque data) are read in the pieces the source lends without a copy,
//! UTF-8 checked across piece boundaries; keys (at most 64 KiB) and scalars
//! are read whole.
//!
//! **The text is bounded** by [`max_text`] of the binary size. Nothing
//! requires offsets to grow (MySQL's partial updates, JSON_SET and
//! JSON_REPLACE in place, may leave a value before the entries that point
//! at it), and nothing stops two entries from pointing at the same bytes: a
//! crafted value whose containers point at one child many times, nested
//! up to the depth limit, would have text exponential in its size. The
//! converter refuses once the text written exceeds the bound (checked
//! before each value), so it never writes more than the bound plus one
//! value's own text.

use super::{
    decimal, decimal_bin_size, push_ecma, push_frac, push_hms, push_i64, push_padded, push_str,
    push_ymd, ValueError,
};
use crate::innodb::lob::LobError;

/// Containers nested deeper than this are refused.
const MAX_DEPTH: usize = 100;
/// Opaque DECIMAL and temporal data read whole up to this size (a valid
/// one is at most 2 + 30 bytes); a longer one is an error, found without
/// reading it.
const SMALL_OPAQUE: usize = 256;

/// The longest text a binary JSON value of `n` bytes may have: 8 times its
/// size plus 1 KiB.
///
/// What MySQL writes never comes near. Each byte of the binary form is used
/// once (no entry shares another's bytes), and no part gives more than 6
/// bytes of text per byte: a control character in a string or key is one
/// byte and `\u0001` six; a small array's 3-byte value entry holding an
/// inline literal or 16-bit integer gives at most `-32768, ` (8); a double
/// (3 + 8 bytes) at most 24 characters and the separator; an empty opaque
/// value (entry 3, field type 1, length 1) `"base64:type255:", ` (19 of
/// 5); base64 data 4 characters per 3 bytes; an empty object or array
/// (entry 3, count and size 4) `{}, `. A whole value adds at most 17
/// characters to that (the quotes and prefix of a top-level empty opaque
/// value, 3 bytes). So MySQL's text is at most 6n + 17 bytes
/// (`legit_documents_stay_under_six_times` checks it on random documents);
/// past 8n + 1024 the value points at its own bytes more than once.
pub fn max_text(n: usize) -> u64 {
    (n as u64).saturating_mul(8).saturating_add(1024)
}

/// Why a conversion stopped.
#[derive(Debug)]
pub enum Stop {
    /// The value is not binary JSON (the error converting it whole gives).
    Bad(ValueError),
    /// The byte source could not read its bytes.
    Source(LobError),
    /// The sink asked to stop.
    Sink,
}

impl From<ValueError> for Stop {
    fn from(e: ValueError) -> Stop {
        Stop::Bad(e)
    }
}

/// A binary JSON value's bytes, read at any offset. Callers ask only for
/// ranges inside `0..len()`.
pub trait Bytes {
    /// Bytes in the value.
    fn len(&self) -> usize;

    /// Whether the value has no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `n` bytes at `off`.
    fn get(&mut self, off: usize, n: usize) -> Result<&[u8], Stop>;

    /// At least one (when `n > 0`) and at most `n` bytes at `off`: as many
    /// as can be lent without a copy.
    fn piece(&mut self, off: usize, n: usize) -> Result<&[u8], Stop>;
}

impl Bytes for &[u8] {
    #[inline]
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }

    #[inline]
    fn get(&mut self, off: usize, n: usize) -> Result<&[u8], Stop> {
        crate::bytes::slice(self, off, n).ok_or_else(|| Stop::Bad(json_err("truncated")))
    }

    #[inline]
    fn piece(&mut self, off: usize, n: usize) -> Result<&[u8], Stop> {
        self.get(off, n)
    }
}

/// Where the text goes: appended to [`Sink::buf`], which the converter
/// offers to hand on ([`Sink::flush`]) after each piece of a long string.
pub trait Sink {
    /// The buffer text is appended to.
    fn buf(&mut self) -> &mut Vec<u8>;
    /// Bytes of text written so far (handed on or in the buffer).
    fn written(&self) -> u64;
    /// May hand on the buffer's text; `last`: all of it, the text is done.
    fn flush(&mut self, last: bool) -> Result<(), Stop>;
}

/// The text appended to a `Vec` (the value converted whole).
struct Whole<'a> {
    out: &'a mut Vec<u8>,
    start: usize,
}

impl Sink for Whole<'_> {
    #[inline]
    fn buf(&mut self) -> &mut Vec<u8> {
        self.out
    }

    #[inline]
    fn written(&self) -> u64 {
        (self.out.len() - self.start) as u64
    }

    #[inline]
    fn flush(&mut self, _: bool) -> Result<(), Stop> {
        Ok(())
    }
}

/// Text handed to `emit` in parts of about [`Stream::PART`] bytes (UTF-8,
/// a part may end inside a character); `emit` returns `false` to stop.
pub struct Stream<F: FnMut(&[u8]) -> bool> {
    buf: Vec<u8>,
    done: u64,
    emit: F,
}

impl<F: FnMut(&[u8]) -> bool> Stream<F> {
    const PART: usize = 64 * 1024;

    pub fn new(emit: F) -> Stream<F> {
        Stream {
            buf: Vec::with_capacity(Self::PART + 1024),
            done: 0,
            emit,
        }
    }
}

impl<F: FnMut(&[u8]) -> bool> Sink for Stream<F> {
    fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    fn written(&self) -> u64 {
        self.done + self.buf.len() as u64
    }

    fn flush(&mut self, last: bool) -> Result<(), Stop> {
        if self.buf.is_empty() || (!last && self.buf.len() < Self::PART) {
            return Ok(());
        }
        if !(self.emit)(&self.buf) {
            return Err(Stop::Sink);
        }
        self.done += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
}

/// Appends the text of the binary JSON value `b` to `out` (partial text
/// on error: [`crate::innodb::types::decode_value_into`] cuts it).
pub fn text_into(b: &[u8], out: &mut Vec<u8>) -> Result<(), ValueError> {
    let mut src = b;
    let start = out.len();
    let mut sink = Whole { out, start };
    convert(&mut src, &mut sink).map_err(|s| match s {
        Stop::Bad(e) => e,
        // Neither a slice nor a Vec fails.
        Stop::Source(_) | Stop::Sink => json_err("unreadable"),
    })
}

/// Converts the binary JSON value `src` into `out`, flushed at the end.
pub fn convert<B: Bytes + ?Sized, S: Sink>(src: &mut B, out: &mut S) -> Result<(), Stop> {
    let n = src.len();
    let mut c = Conv {
        src,
        out,
        limit: max_text(n),
        n,
    };
    if n == 0 {
        push_str(c.out.buf(), "null");
    } else {
        let t = c.src.get(0, 1)?[0];
        c.value(t, 1, n, 0)?;
    }
    c.check_bound()?;
    c.out.flush(true)
}

/// A JSON error with `detail`.
fn json_err(detail: &str) -> ValueError {
    ValueError::Range {
        ty: "JSON",
        detail: detail.to_string(),
    }
}

struct Conv<'c, B: ?Sized, S> {
    src: &'c mut B,
    out: &'c mut S,
    limit: u64,
    /// The value's size.
    n: usize,
}

impl<B: Bytes + ?Sized, S: Sink> Conv<'_, B, S> {
    fn check_bound(&self) -> Result<(), Stop> {
        if self.out.written() > self.limit {
            return Err(Stop::Bad(json_err(&format!(
                "text longer than {} bytes, 8 times the {}-byte value and 1 KiB: \
                 its entries point at the same values over and over",
                self.limit, self.n
            ))));
        }
        Ok(())
    }

    /// The `n`-byte little-endian number at `off` of the value `p..e`.
    #[inline]
    fn le(&mut self, p: usize, e: usize, off: usize, n: usize) -> Result<u64, Stop> {
        if off.checked_add(n).is_none_or(|end| end > e - p) {
            return Err(Stop::Bad(json_err("truncated")));
        }
        let s = self.src.get(p + off, n)?;
        Ok(s.iter().rev().fold(0u64, |a, &x| (a << 8) | u64::from(x)))
    }

    /// Variable-length length at `p` (bytes up to `e`): 7 bits per byte,
    /// low bits first, at most 5 bytes. (value, bytes used).
    fn varlen(&mut self, p: usize, e: usize) -> Result<(usize, usize), Stop> {
        let mut v = 0usize;
        for i in 0..5 {
            if p + i >= e {
                return Err(Stop::Bad(json_err("truncated length")));
            }
            let x = self.src.get(p + i, 1)?[0];
            v |= usize::from(x & 0x7F) << (7 * i);
            if x & 0x80 == 0 {
                return Ok((v, i + 1));
            }
        }
        Err(Stop::Bad(json_err("length too long")))
    }

    /// The value of type `t` whose data is `p..e` (an element's data runs
    /// to the end of its container).
    fn value(&mut self, t: u8, p: usize, e: usize, depth: usize) -> Result<(), Stop> {
        if depth > MAX_DEPTH {
            return Err(Stop::Bad(json_err("nesting too deep")));
        }
        self.check_bound()?;
        match t {
            0x00..=0x03 => self.container(t, p, e, depth)?,
            0x04 => {
                let b = if p < e {
                    Some(self.src.get(p, 1)?[0])
                } else {
                    None
                };
                let lit = match b {
                    Some(0) => "null",
                    Some(1) => "true",
                    Some(2) => "false",
                    _ => return Err(Stop::Bad(json_err("bad literal"))),
                };
                push_str(self.out.buf(), lit);
            }
            0x05 => {
                let v = self.le(p, e, 0, 2)? as u16 as i16;
                push_i64(self.out.buf(), i64::from(v));
            }
            0x06 => {
                let v = self.le(p, e, 0, 2)?;
                push_padded(self.out.buf(), v, 1);
            }
            0x07 => {
                let v = self.le(p, e, 0, 4)? as u32 as i32;
                push_i64(self.out.buf(), i64::from(v));
            }
            0x08 => {
                let v = self.le(p, e, 0, 4)?;
                push_padded(self.out.buf(), v, 1);
            }
            0x09 => {
                let v = self.le(p, e, 0, 8)? as i64;
                push_i64(self.out.buf(), v);
            }
            0x0A => {
                let v = self.le(p, e, 0, 8)?;
                push_padded(self.out.buf(), v, 1);
            }
            0x0B => {
                let v = f64::from_bits(self.le(p, e, 0, 8)?);
                if !v.is_finite() {
                    return Err(Stop::Bad(json_err("non-finite double")));
                }
                let out = self.out.buf();
                let start = out.len();
                push_ecma(out, format_args!("{v:e}"));
                if !out[start..].iter().any(|&c| c == b'.' || c == b'e') {
                    push_str(out, ".0");
                }
            }
            0x0C => {
                let (n, l) = self.varlen(p, e)?;
                if l.checked_add(n).is_none_or(|end| end > e - p) {
                    return Err(Stop::Bad(json_err("string past the value")));
                }
                self.string(p + l, n)?;
            }
            0x0F => {
                // Opaque: MySQL field type, length, data.
                if p >= e {
                    return Err(Stop::Bad(json_err("truncated opaque")));
                }
                let ft = self.src.get(p, 1)?[0];
                let (n, l) = self.varlen(p + 1, e)?;
                if (1 + l).checked_add(n).is_none_or(|end| end > e - p) {
                    return Err(Stop::Bad(json_err("opaque past the value")));
                }
                self.opaque(ft, p + 1 + l, n)?;
            }
            _ => return Err(Stop::Bad(json_err("unknown type"))),
        }
        Ok(())
    }

    /// An object or array (type `t`) whose data is `p..e`.
    fn container(&mut self, t: u8, p: usize, e: usize, depth: usize) -> Result<(), Stop> {
        let large = t & 1 == 1;
        let w = if large { 4 } else { 2 };
        let count = self.le(p, e, 0, w)? as usize;
        let size = self.le(p, e, w, w)? as usize;
        if size > e - p || count > size {
            return Err(Stop::Bad(json_err("container larger than its value")));
        }
        let e = p + size;
        let is_obj = t < 2;
        let key_entry = if is_obj { w + 2 } else { 0 };
        let value_entry = 1 + w;
        let header = 2 * w;
        let values_at = header + count * key_entry;
        if values_at.saturating_add(count.saturating_mul(value_entry)) > size {
            return Err(Stop::Bad(json_err("entries past the container")));
        }
        self.out.buf().push(if is_obj { b'{' } else { b'[' });
        for i in 0..count {
            if i > 0 {
                push_str(self.out.buf(), ", ");
            }
            if is_obj {
                let ko = self.le(p, e, header + i * key_entry, w)? as usize;
                let kl = self.le(p, e, header + i * key_entry + w, 2)? as usize;
                if ko.checked_add(kl).is_none_or(|end| end > size) {
                    return Err(Stop::Bad(json_err("key past the container")));
                }
                let k = self.src.get(p + ko, kl)?;
                let out = self.out.buf();
                string_whole(k, out)?;
                push_str(out, ": ");
            }
            let at = values_at + i * value_entry;
            let vt = self.src.get(p + at, 1)?[0];
            let inline = matches!(vt, 0x04..=0x06) || (large && matches!(vt, 0x07 | 0x08));
            if inline {
                self.value(vt, p + at + 1, p + at + 1 + w, depth + 1)?;
            } else {
                let off = self.le(p, e, at + 1, w)? as usize;
                if off > size {
                    return Err(Stop::Bad(json_err("value past the container")));
                }
                self.value(vt, p + off, e, depth + 1)?;
            }
            self.out.flush(false)?;
        }
        self.out.buf().push(if is_obj { b'}' } else { b']' });
        Ok(())
    }

    /// The string of the `n` bytes at `at`, quoted and escaped, read and
    /// written in pieces.
    fn string(&mut self, at: usize, n: usize) -> Result<(), Stop> {
        self.out.buf().push(b'"');
        let mut utf8 = Utf8::default();
        let mut done = 0;
        while done < n {
            let piece = self.src.piece(at + done, n - done)?;
            if piece.is_empty() {
                return Err(Stop::Bad(json_err("truncated")));
            }
            done += piece.len();
            utf8.push(piece, self.out.buf())?;
            self.out.flush(false)?;
        }
        utf8.finish()?;
        self.out.buf().push(b'"');
        Ok(())
    }

    /// An opaque scalar of field type `ft` whose data is the `n` bytes at
    /// `at` ([`opaque_small`]; strings and base64 in pieces).
    fn opaque(&mut self, ft: u8, at: usize, n: usize) -> Result<(), Stop> {
        match ft {
            MYSQL_TYPE_VAR_STRING => self.string(at, n),
            MYSQL_TYPE_NEWDECIMAL
            | MYSQL_TYPE_DATE
            | MYSQL_TYPE_TIME
            | MYSQL_TYPE_DATETIME
            | MYSQL_TYPE_TIMESTAMP => {
                if n <= SMALL_OPAQUE {
                    let d = self.src.get(at, n)?;
                    return Ok(opaque_small(ft, d, self.out.buf())?);
                }
                if ft != MYSQL_TYPE_NEWDECIMAL {
                    return Err(Stop::Bad(temporal_not_8()));
                }
                // Too long for any precision: `decimal`'s length error.
                let ps = self.src.get(at, 2)?;
                let (precision, scale) = (u32::from(ps[0]), u32::from(ps[1]));
                Err(Stop::Bad(match decimal_bin_size(precision, scale) {
                    Some(size) => ValueError::Length {
                        ty: "DECIMAL",
                        expected: size,
                        got: n - 2,
                    },
                    None => ValueError::Range {
                        ty: "DECIMAL",
                        detail: format!("precision {precision} scale {scale}"),
                    },
                }))
            }
            _ => {
                let out = self.out.buf();
                push_str(out, "\"base64:type");
                push_padded(out, u64::from(ft), 1);
                out.push(b':');
                let mut b64 = Base64::default();
                let mut done = 0;
                while done < n {
                    let piece = self.src.piece(at + done, n - done)?;
                    if piece.is_empty() {
                        return Err(Stop::Bad(json_err("truncated")));
                    }
                    done += piece.len();
                    b64.push(piece, self.out.buf());
                    self.out.flush(false)?;
                }
                let out = self.out.buf();
                b64.finish(out);
                out.push(b'"');
                Ok(())
            }
        }
    }
}

/// A whole string (a key), quoted and escaped.
fn string_whole(s: &[u8], out: &mut Vec<u8>) -> Result<(), ValueError> {
    let s = std::str::from_utf8(s).map_err(|_| not_utf8())?;
    out.push(b'"');
    escape(s.as_bytes(), out);
    out.push(b'"');
    Ok(())
}

fn not_utf8() -> ValueError {
    json_err("string is not UTF-8")
}

/// Appends UTF-8 text `b` with `"`, `\` and the control characters
/// escaped as MySQL prints them (`\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`,
/// else `\u00XX` in lowercase hex).
#[inline]
fn escape(b: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        let short: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0C => b"\\f",
            0..0x20 => &[],
            _ => continue,
        };
        out.extend_from_slice(&b[start..i]);
        start = i + 1;
        if short.is_empty() {
            let u = [
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(c >> 4)],
                HEX[usize::from(c & 15)],
            ];
            out.extend_from_slice(&u);
        } else {
            out.extend_from_slice(short);
        }
    }
    out.extend_from_slice(&b[start..]);
}

/// UTF-8 given in pieces, checked and escaped as [`string_whole`] does it
/// whole: a character cut between pieces is held until it is complete.
#[derive(Default)]
struct Utf8 {
    held: [u8; 4],
    /// Bytes of `held` (0 to 3 between calls).
    n: usize,
}

impl Utf8 {
    fn push(&mut self, mut b: &[u8], out: &mut Vec<u8>) -> Result<(), ValueError> {
        if self.n > 0 {
            // A valid lead byte of a cut sequence: its length.
            let need = match self.held[0] {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                _ => 4,
            };
            let take = b.len().min(need - self.n);
            self.held[self.n..self.n + take].copy_from_slice(&b[..take]);
            self.n += take;
            b = &b[take..];
            if self.n < need {
                return Ok(());
            }
            let c = std::str::from_utf8(&self.held[..need]).map_err(|_| not_utf8())?;
            escape(c.as_bytes(), out);
            self.n = 0;
        }
        match std::str::from_utf8(b) {
            Ok(s) => escape(s.as_bytes(), out),
            Err(e) => {
                let (ok, rest) = b.split_at(e.valid_up_to());
                if e.error_len().is_some() {
                    return Err(not_utf8());
                }
                escape(ok, out);
                // A sequence cut by the end of the piece (1 to 3 bytes).
                self.held[..rest.len()].copy_from_slice(rest);
                self.n = rest.len();
            }
        }
        Ok(())
    }

    /// The end of the string: a held, incomplete character is an error.
    fn finish(&self) -> Result<(), ValueError> {
        if self.n > 0 {
            return Err(not_utf8());
        }
        Ok(())
    }
}

// MySQL field types (`enum_field_types`) that opaque JSON scalars carry.
const MYSQL_TYPE_TIMESTAMP: u8 = 7;
const MYSQL_TYPE_DATE: u8 = 10;
const MYSQL_TYPE_TIME: u8 = 11;
const MYSQL_TYPE_DATETIME: u8 = 12;
const MYSQL_TYPE_NEWDECIMAL: u8 = 246;
const MYSQL_TYPE_VAR_STRING: u8 = 253;

fn temporal_not_8() -> ValueError {
    json_err("opaque temporal value is not 8 bytes")
}

/// An opaque DECIMAL or temporal scalar (field type `ft`, data `d`) as
/// MySQL prints it (`wrapper_to_string` in `sql-common/json_dom.cc`):
///
/// * NEWDECIMAL: precision byte, scale byte, then the binary DECIMAL;
///   printed as a number with `scale` fraction digits;
/// * DATE, TIME, DATETIME, TIMESTAMP: the 8-byte little-endian packed
///   temporal value (`Json_datetime::to_packed`, `TIME_to_longlong_packed`);
///   printed quoted with 6 fraction digits (`my_TIME_to_str(.., 6)`), a DATE
///   without time: `"2015-01-15"`, `"23:24:25.000000"`,
///   `"2015-01-15 23:24:25.000000"`; a TIMESTAMP as the stored date and time.
///
/// (VAR_STRING prints as a string; any other type as
/// `"base64:type<ft>:<data in base64>"`, [`Base64`].)
fn opaque_small(ft: u8, d: &[u8], out: &mut Vec<u8>) -> Result<(), ValueError> {
    if ft == MYSQL_TYPE_NEWDECIMAL {
        if d.len() < 2 {
            return Err(json_err("opaque DECIMAL without precision and scale"));
        }
        return decimal(&d[2..], u32::from(d[0]), u32::from(d[1]), out);
    }
    let packed = crate::bytes::array::<8>(d, 0)
        .filter(|_| d.len() == 8)
        .map(i64::from_le_bytes)
        .ok_or_else(temporal_not_8)?;
    out.push(b'"');
    temporal(ft, packed, out)?;
    out.push(b'"');
    Ok(())
}

/// A packed temporal value (`TIME_from_longlong_*_packed` in MySQL's
/// `my_time.cc`): the absolute value holds the microseconds in its low 24
/// bits and above them, for TIME, hours (10 bits), minutes and seconds
/// (6 bits each); for DATE/DATETIME/TIMESTAMP, year * 13 + month (17 bits),
/// day (5), hour (5), minute (6), second (6). Only TIME prints a sign.
/// Values MySQL cannot have written (minute 60, month 13, ...) are errors.
fn temporal(ft: u8, packed: i64, out: &mut Vec<u8>) -> Result<(), ValueError> {
    let neg = packed < 0;
    let v = packed.unsigned_abs();
    let usec = v & 0xFF_FFFF;
    let int = v >> 24;
    let bad = |what: &str| json_err(&format!("opaque {what} out of range"));
    if usec >= 1_000_000 {
        return Err(bad("microseconds"));
    }
    if ft == MYSQL_TYPE_TIME {
        let (h, mi, s) = ((int >> 12) & 0x3FF, (int >> 6) & 63, int & 63);
        if h > 838 || mi > 59 || s > 59 || int >> 22 != 0 {
            return Err(bad("TIME"));
        }
        if neg {
            out.push(b'-');
        }
        push_hms(out, h, mi, s);
        push_frac(out, usec, 6);
        return Ok(());
    }
    let ymd = int >> 17;
    let ym = ymd >> 5;
    let (y, m, d) = (ym / 13, ym % 13, ymd & 31);
    let hms = int & 0x1_FFFF;
    let (h, mi, s) = (hms >> 12, (hms >> 6) & 63, hms & 63);
    if neg || y > 9999 || h > 23 || mi > 59 || s > 59 {
        return Err(bad("date"));
    }
    push_ymd(out, y, m, d);
    if ft != MYSQL_TYPE_DATE {
        out.push(b' ');
        push_hms(out, h, mi, s);
        push_frac(out, usec, 6);
    }
    Ok(())
}

/// MySQL's `base64_encode` (`mysys/base64.cc`) of data given in pieces:
/// standard alphabet with `=` padding and a line break (written here as
/// the JSON escape `\n`) before every group of 4 characters that follows
/// 76 characters on a line.
#[derive(Default)]
struct Base64 {
    line: usize,
    held: [u8; 3],
    /// Bytes of `held` (0 to 2 between calls).
    n: usize,
}

impl Base64 {
    fn push(&mut self, mut b: &[u8], out: &mut Vec<u8>) {
        if self.n > 0 {
            let take = b.len().min(3 - self.n);
            self.held[self.n..self.n + take].copy_from_slice(&b[..take]);
            self.n += take;
            b = &b[take..];
            if self.n < 3 {
                return;
            }
            let h = self.held;
            self.group(&h, out);
            self.n = 0;
        }
        let mut groups = b.chunks_exact(3);
        for g in &mut groups {
            self.group(g, out);
        }
        let rest = groups.remainder();
        self.held[..rest.len()].copy_from_slice(rest);
        self.n = rest.len();
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        if self.n > 0 {
            let h = self.held;
            self.group(&h[..self.n], out);
            self.n = 0;
        }
    }

    /// Four characters for 1 to 3 bytes.
    fn group(&mut self, c: &[u8], out: &mut Vec<u8>) {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        if self.line == 76 {
            push_str(out, "\\n");
            self.line = 0;
        }
        let v = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        out.push(T[(v >> 18) as usize & 63]);
        out.push(T[(v >> 12) as usize & 63]);
        out.push(if c.len() > 1 {
            T[(v >> 6) as usize & 63]
        } else {
            b'='
        });
        out.push(if c.len() > 2 {
            T[v as usize & 63]
        } else {
            b'='
        });
        self.line += 4;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A JSON value to write in MySQL's binary form ([`encode`]).
    #[derive(Debug, Clone)]
    pub(crate) enum J {
        Lit(u8),
        I16(i16),
        U16(u16),
        I32(i32),
        U32(u32),
        I64(i64),
        U64(u64),
        F(f64),
        S(String),
        /// Opaque: field type, data.
        Op(u8, Vec<u8>),
        Arr(Vec<J>),
        Obj(Vec<(String, J)>),
    }

    fn varlen(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let b = (n & 0x7F) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn le(v: u64, w: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(&v.to_le_bytes()[..w]);
    }

    /// The type byte and data of `j`, as `json_binary.cc` writes them
    /// (containers small unless an offset or size needs 4 bytes).
    fn data(j: &J) -> (u8, Vec<u8>) {
        let mut d = Vec::new();
        let t = match j {
            J::Lit(x) => {
                d.push(*x);
                0x04
            }
            J::I16(v) => {
                le(*v as u16 as u64, 2, &mut d);
                0x05
            }
            J::U16(v) => {
                le(u64::from(*v), 2, &mut d);
                0x06
            }
            J::I32(v) => {
                le(*v as u32 as u64, 4, &mut d);
                0x07
            }
            J::U32(v) => {
                le(u64::from(*v), 4, &mut d);
                0x08
            }
            J::I64(v) => {
                le(*v as u64, 8, &mut d);
                0x09
            }
            J::U64(v) => {
                le(*v, 8, &mut d);
                0x0A
            }
            J::F(v) => {
                le(v.to_bits(), 8, &mut d);
                0x0B
            }
            J::S(s) => {
                varlen(s.len(), &mut d);
                d.extend_from_slice(s.as_bytes());
                0x0C
            }
            J::Op(ft, b) => {
                d.push(*ft);
                varlen(b.len(), &mut d);
                d.extend_from_slice(b);
                0x0F
            }
            J::Arr(v) => {
                let items: Vec<(Option<&str>, &J)> = v.iter().map(|j| (None, j)).collect();
                return container(false, &items);
            }
            J::Obj(v) => {
                let items: Vec<(Option<&str>, &J)> =
                    v.iter().map(|(k, j)| (Some(k.as_str()), j)).collect();
                return container(true, &items);
            }
        };
        (t, d)
    }

    fn container(obj: bool, items: &[(Option<&str>, &J)]) -> (u8, Vec<u8>) {
        for large in [false, true] {
            let w = if large { 4 } else { 2 };
            let n = items.len();
            let key_entry = if obj { w + 2 } else { 0 };
            let mut d = Vec::new();
            le(n as u64, w, &mut d);
            le(0, w, &mut d); // size, below
            let mut tail = Vec::new();
            let tail_at = 2 * w + n * (key_entry + 1 + w);
            for (k, _) in items {
                if let Some(k) = k {
                    le((tail_at + tail.len()) as u64, w, &mut d);
                    le(k.len() as u64, 2, &mut d);
                    tail.extend_from_slice(k.as_bytes());
                }
            }
            for (_, j) in items {
                let (t, v) = data(j);
                let inline = matches!(t, 0x04..=0x06) || (large && matches!(t, 0x07 | 0x08));
                d.push(t);
                if inline {
                    d.extend_from_slice(&v);
                    d.resize(d.len() + w - v.len(), 0);
                } else {
                    le((tail_at + tail.len()) as u64, w, &mut d);
                    tail.extend_from_slice(&v);
                }
            }
            d.extend_from_slice(&tail);
            let size = d.len();
            if !large && size > 0xFFFF {
                continue;
            }
            d[w..2 * w].copy_from_slice(&(size as u64).to_le_bytes()[..w]);
            return (if obj { 0 } else { 2 } + u8::from(large), d);
        }
        unreachable!()
    }

    /// `j` in MySQL's binary JSON form (type byte, data).
    pub(crate) fn encode(j: &J) -> Vec<u8> {
        let (t, mut d) = data(j);
        d.insert(0, t);
        d
    }

    /// Strings with control characters, quotes, and 2- to 4-byte UTF-8.
    fn string() -> impl Strategy<Value = String> {
        "[a-z\"\\\\\u{1}\u{8}\t\n\u{1f}é€🎉]{0,40}"
    }

    /// Random documents of every type (no opaque DECIMAL or temporal: their
    /// data has rules of its own).
    pub(crate) fn doc() -> impl Strategy<Value = J> {
        let leaf = prop_oneof![
            (0u8..3).prop_map(J::Lit),
            any::<i16>().prop_map(J::I16),
            any::<u16>().prop_map(J::U16),
            any::<i32>().prop_map(J::I32),
            any::<u32>().prop_map(J::U32),
            any::<i64>().prop_map(J::I64),
            any::<u64>().prop_map(J::U64),
            any::<f64>()
                .prop_filter("finite", |v| v.is_finite())
                .prop_map(J::F),
            string().prop_map(J::S),
            (
                prop_oneof![Just(15u8), Just(252), Just(253), Just(255)],
                proptest::collection::vec(any::<u8>(), 0..200)
            )
                .prop_filter("VAR_STRING data is UTF-8", |(t, d)| {
                    *t != MYSQL_TYPE_VAR_STRING || std::str::from_utf8(d).is_ok()
                })
                .prop_map(|(t, d)| J::Op(t, d)),
        ];
        leaf.prop_recursive(5, 200, 12, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..12).prop_map(J::Arr),
                proptest::collection::vec((string(), inner), 0..12).prop_map(J::Obj),
            ]
        })
    }

    fn json(doc: &[u8]) -> Result<String, ValueError> {
        let mut v = Vec::new();
        text_into(doc, &mut v)?;
        Ok(String::from_utf8(v).unwrap())
    }

    /// `b` read in parts ending at `cuts`: what the pages of a chain lend.
    pub(crate) struct Frag<'a> {
        pub b: &'a [u8],
        pub cuts: Vec<usize>,
        pub scratch: Vec<u8>,
    }

    impl Frag<'_> {
        /// The end of the part holding `off`.
        fn part_end(&self, off: usize) -> usize {
            let i = self.cuts.partition_point(|&c| c <= off);
            self.cuts.get(i).copied().unwrap_or(self.b.len())
        }
    }

    impl Bytes for Frag<'_> {
        fn len(&self) -> usize {
            self.b.len()
        }
        fn get(&mut self, off: usize, n: usize) -> Result<&[u8], Stop> {
            assert!(off + n <= self.b.len(), "read past the value");
            if off + n <= self.part_end(off) {
                return Ok(&self.b[off..off + n]);
            }
            self.scratch.clear();
            self.scratch.extend_from_slice(&self.b[off..off + n]);
            Ok(&self.scratch)
        }
        fn piece(&mut self, off: usize, n: usize) -> Result<&[u8], Stop> {
            assert!(off + n <= self.b.len(), "read past the value");
            let end = (off + n).min(self.part_end(off));
            Ok(&self.b[off..end])
        }
    }

    /// `b` converted through [`Frag`] parts and a [`Stream`]: the text or
    /// the error's message.
    fn streamed(b: &[u8], cuts: &[usize]) -> Result<String, String> {
        let mut cuts: Vec<usize> = cuts.iter().map(|&c| c.min(b.len())).collect();
        cuts.sort_unstable();
        let mut src = Frag {
            b,
            cuts,
            scratch: Vec::new(),
        };
        let mut text = Vec::new();
        let mut parts = 0;
        let r = convert(
            &mut src,
            &mut Stream::new(|t: &[u8]| {
                text.extend_from_slice(t);
                parts += 1;
                true
            }),
        );
        match r {
            Ok(()) => Ok(String::from_utf8(text).unwrap()),
            Err(Stop::Bad(e)) => Err(e.to_string()),
            Err(e) => panic!("{e:?}"),
        }
    }

    /// A JSON "bomb": `levels` nested small arrays, each with `fan`
    /// entries pointing at the same child (an empty array innermost):
    /// about 3 * fan bytes a level, text fan^levels.
    fn bomb(levels: usize, fan: usize) -> Vec<u8> {
        // Data of the innermost: an empty small array (count 0, size 4).
        let mut child: Vec<u8> = vec![0, 0, 4, 0];
        for _ in 0..levels {
            let head = 4 + 3 * fan;
            let mut d = Vec::new();
            le(fan as u64, 2, &mut d);
            le((head + child.len()) as u64, 2, &mut d);
            for _ in 0..fan {
                d.push(0x02);
                le(head as u64, 2, &mut d);
            }
            d.extend_from_slice(&child);
            child = d;
        }
        child.insert(0, 0x02);
        child
    }

    #[test]
    fn a_bomb_is_refused_quickly() {
        let b = bomb(99, 2);
        assert!(b.len() < 1200, "{}", b.len());
        let t = std::time::Instant::now();
        let e = json(&b).unwrap_err().to_string();
        assert!(t.elapsed() < std::time::Duration::from_secs(1));
        let limit = max_text(b.len());
        assert_eq!(
            e,
            format!(
                "JSON: value out of range (text longer than {limit} bytes, 8 times the {}-byte \
                 value and 1 KiB: its entries point at the same values over and over)",
                b.len()
            )
        );
        assert_eq!(streamed(&b, &[7, 100, 101]), Err(e));
        // Two levels of the same shape are a small, valid document.
        assert_eq!(json(&bomb(2, 2)).unwrap(), "[[[], []], [[], []]]");
        // A wide fan of long strings: the same 60 KiB string 1000 times.
        let s = "x".repeat(60_000);
        let mut d = Vec::new();
        let head = 8 + 5 * 1000;
        le(1000, 4, &mut d);
        le((head + 3 + s.len()) as u64, 4, &mut d);
        for _ in 0..1000 {
            d.push(0x0C);
            le(head as u64, 4, &mut d);
        }
        varlen(s.len(), &mut d);
        d.extend_from_slice(s.as_bytes());
        d.insert(0, 0x03);
        let e = json(&d).unwrap_err().to_string();
        assert!(e.contains("point at the same values"), "{e}");
    }

    #[test]
    fn strings_split_anywhere_convert_as_whole() {
        let s = "a\"b\\c\u{1}\n\té€🎉\u{1f}z";
        let doc = encode(&J::S(s.to_string()));
        let whole = json(&doc).unwrap();
        assert_eq!(whole, "\"a\\\"b\\\\c\\u0001\\n\\té€🎉\\u001fz\"");
        for i in 0..=doc.len() {
            for j in i..=doc.len() {
                assert_eq!(streamed(&doc, &[i, j]).as_deref(), Ok(&whole[..]));
            }
        }
        // Bad UTF-8 (a lone continuation byte, a cut 4-byte character, an
        // overlong form) is the same error cut anywhere.
        for bad in [
            &b"ab\x80cd"[..],
            b"ab\xf0\x9f\x8e",
            b"\xc0\xaf",
            b"\xe0\x80\x80",
        ] {
            let mut doc = vec![0x0C, bad.len() as u8];
            doc.extend_from_slice(bad);
            let e = json(&doc).unwrap_err().to_string();
            assert!(e.contains("not UTF-8"), "{e}");
            for i in 0..=doc.len() {
                assert_eq!(streamed(&doc, &[i]), Err(e.clone()));
            }
        }
    }

    #[test]
    fn long_opaque_values_without_reading_them() {
        let mut d = vec![0u8; 300];
        d[0] = 10;
        d[1] = 2;
        let e = json(&encode(&J::Op(MYSQL_TYPE_NEWDECIMAL, d.clone())))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "DECIMAL: expected 5 bytes, got 298");
        d[0] = 70;
        let e = json(&encode(&J::Op(MYSQL_TYPE_NEWDECIMAL, d)))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "DECIMAL: value out of range (precision 70 scale 2)");
        let e = json(&encode(&J::Op(MYSQL_TYPE_DATE, vec![0; 300])))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not 8 bytes"), "{e}");
        // A long base64 value cut anywhere.
        let data: Vec<u8> = (0..=255).cycle().take(1000).collect();
        let doc = encode(&J::Op(254, data));
        let whole = json(&doc).unwrap();
        assert!(whole.starts_with("\"base64:type254:AAECAwQF"));
        for i in (0..doc.len()).step_by(7) {
            assert_eq!(
                streamed(&doc, &[i, i + 1, i + 2]).as_deref(),
                Ok(&whole[..])
            );
        }
    }

    /// Many small values: the text is handed on in parts of about 64 KiB,
    /// never gathered.
    #[test]
    fn many_small_values_stream_in_parts() {
        let doc = encode(&J::Arr(vec![J::I64(i64::MIN); 200_000]));
        let mut src: &[u8] = &doc;
        let (mut parts, mut total, mut largest) = (0, 0, 0);
        let r = convert(
            &mut src,
            &mut Stream::new(|t: &[u8]| {
                parts += 1;
                total += t.len();
                largest = largest.max(t.len());
                true
            }),
        );
        assert!(r.is_ok());
        assert_eq!(total, 2 + 200_000 * 20 + 199_999 * 2);
        assert!(
            parts > 60 && largest < 65 * 1024,
            "{parts} parts, {largest}"
        );
    }

    proptest! {
        /// Random bytes never panic, and their text stays under the bound.
        #[test]
        fn random_bytes_are_bounded(b in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut out = Vec::new();
            if text_into(&b, &mut out).is_ok() {
                prop_assert!(out.len() as u64 <= max_text(b.len()));
            }
        }

        /// Documents made as MySQL makes them: text at most 6 bytes a byte
        /// and 17 (the ratio `max_text` is built on).
        #[test]
        fn legit_documents_stay_under_six_times(j in doc()) {
            let b = encode(&j);
            let t = json(&b).unwrap();
            prop_assert!(t.len() <= 6 * b.len() + 17, "{} bytes, text {}", b.len(), t.len());
        }

        /// A document or random bytes, read in random parts and streamed:
        /// the text of the whole, or its error.
        #[test]
        fn streamed_is_whole(
            j in doc(),
            noise in proptest::collection::vec(any::<u8>(), 0..300),
            which in 0..3u8,
            cuts in proptest::collection::vec(0usize..2000, 0..12),
        ) {
            let b = match which {
                0 => encode(&j),
                1 => noise,
                // A document with a byte changed.
                _ => {
                    let mut b = encode(&j);
                    let i = cuts.first().copied().unwrap_or(0) % b.len();
                    b[i] ^= noise.first().copied().unwrap_or(0x41) | 1;
                    b
                }
            };
            let whole = json(&b).map_err(|e| e.to_string());
            prop_assert_eq!(streamed(&b, &cuts), whole);
        }
    }
    /// Packed DATETIME as MySQL's `TIME_to_longlong_datetime_packed`
    /// computes it (`my_time.cc`): ((year * 13 + month) << 5 | day) << 17
    /// | hour << 12 | minute << 6 | second, shifted left 24 bits, plus the
    /// microseconds; negated for a negative value.
    fn packed_datetime(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64, us: i64) -> i64 {
        let ymd = ((y * 13 + mo) << 5) | d;
        let hms = (h << 12) | (mi << 6) | s;
        (((ymd << 17) | hms) << 24) + us
    }

    /// `TIME_to_longlong_time_packed`: (hour << 12 | minute << 6 | second)
    /// << 24 plus the microseconds, negated for a negative time.
    fn packed_time(neg: bool, h: i64, mi: i64, s: i64, us: i64) -> i64 {
        let v = (((h << 12) | (mi << 6) | s) << 24) + us;
        if neg {
            -v
        } else {
            v
        }
    }

    /// A JSON document that is one opaque scalar (`json_binary.h`: type
    /// 0x0F, the MySQL field type, the data length (7 bits per byte), the
    /// data).
    fn opaque_doc(field_type: u8, data: &[u8]) -> Vec<u8> {
        assert!(data.len() < 128);
        let mut b = vec![0x0F, field_type, data.len() as u8];
        b.extend_from_slice(data);
        b
    }

    // Bytes built from MySQL's documented formats (json_binary.h, my_time.cc
    // TIME_to_longlong_*_packed, Json_datetime::to_packed: the packed value
    // stored little-endian in 8 bytes); the shared corpus has no JSON
    // document holding temporal values. Expected text as MySQL prints it:
    // quoted, `my_TIME_to_str(.., 6)` (DATE without time, others with 6
    // fraction digits), e.g. "2015-01-15 23:24:25.000000".
    #[test]
    fn json_opaque_temporal_values() {
        let date = packed_datetime(2015, 1, 15, 0, 0, 0, 0);
        assert_eq!(
            json(&opaque_doc(MYSQL_TYPE_DATE, &date.to_le_bytes())).unwrap(),
            "\"2015-01-15\""
        );
        let dt = packed_datetime(2015, 1, 15, 23, 24, 25, 0);
        assert_eq!(
            json(&opaque_doc(MYSQL_TYPE_DATETIME, &dt.to_le_bytes())).unwrap(),
            "\"2015-01-15 23:24:25.000000\""
        );
        let ts = packed_datetime(2038, 1, 19, 3, 14, 7, 999_999);
        assert_eq!(
            json(&opaque_doc(MYSQL_TYPE_TIMESTAMP, &ts.to_le_bytes())).unwrap(),
            "\"2038-01-19 03:14:07.999999\""
        );
        let t = packed_time(false, 23, 24, 25, 0);
        assert_eq!(
            json(&opaque_doc(MYSQL_TYPE_TIME, &t.to_le_bytes())).unwrap(),
            "\"23:24:25.000000\""
        );
        let t = packed_time(true, 838, 59, 59, 0);
        assert_eq!(
            json(&opaque_doc(MYSQL_TYPE_TIME, &t.to_le_bytes())).unwrap(),
            "\"-838:59:59.000000\""
        );
        let t = packed_time(true, 0, 0, 1, 500_000);
        assert_eq!(
            json(&opaque_doc(MYSQL_TYPE_TIME, &t.to_le_bytes())).unwrap(),
            "\"-00:00:01.500000\""
        );
        let zero = packed_datetime(0, 0, 0, 0, 0, 0, 0);
        assert_eq!(
            json(&opaque_doc(MYSQL_TYPE_DATETIME, &zero.to_le_bytes())).unwrap(),
            "\"0000-00-00 00:00:00.000000\""
        );
        // Inside an array: JSON_ARRAY(DATE'2015-01-15', TIME'23:24:25').
        // Small array: count, size (2 bytes each), two value entries (type
        // + 2-byte offset), then each opaque value (type, length, data).
        let mut arr = vec![0x02, 2, 0, 0, 0];
        arr.extend_from_slice(&[0x0F, 10, 0, 0x0F, 20, 0]);
        arr.extend_from_slice(&[MYSQL_TYPE_DATE, 8]);
        arr.extend_from_slice(&date.to_le_bytes());
        arr.extend_from_slice(&[MYSQL_TYPE_TIME, 8]);
        arr.extend_from_slice(&packed_time(false, 23, 24, 25, 0).to_le_bytes());
        let size = arr.len() as u16 - 1;
        arr[3..5].copy_from_slice(&size.to_le_bytes());
        assert_eq!(json(&arr).unwrap(), "[\"2015-01-15\", \"23:24:25.000000\"]");
        // Values MySQL cannot have written are errors, never guesses.
        let bad_minute = packed_time(false, 1, 60, 0, 0);
        assert!(json(&opaque_doc(MYSQL_TYPE_TIME, &bad_minute.to_le_bytes())).is_err());
        let bad_usec = packed_datetime(2015, 1, 15, 0, 0, 0, 1_000_000);
        assert!(json(&opaque_doc(MYSQL_TYPE_DATETIME, &bad_usec.to_le_bytes())).is_err());
        assert!(json(&opaque_doc(MYSQL_TYPE_DATE, &date.to_le_bytes()[..7])).is_err());
    }

    // Json_decimal::get_binary: precision byte, scale byte, then the binary
    // DECIMAL(precision, scale); printed as a number with scale digits.
    #[test]
    fn json_opaque_decimal() {
        // 1.50 as DECIMAL(3,2): one byte per group, sign bit set.
        assert_eq!(
            json(&opaque_doc(MYSQL_TYPE_NEWDECIMAL, &[3, 2, 0x81, 0x32])).unwrap(),
            "1.50"
        );
        // -1.50: every byte inverted.
        assert_eq!(
            json(&opaque_doc(MYSQL_TYPE_NEWDECIMAL, &[3, 2, 0x7E, 0xCD])).unwrap(),
            "-1.50"
        );
        assert!(json(&opaque_doc(MYSQL_TYPE_NEWDECIMAL, &[3])).is_err());
        assert!(json(&opaque_doc(MYSQL_TYPE_NEWDECIMAL, &[3, 2, 0x81])).is_err());
    }

    // Other opaque types: "base64:type<N>:<data>" (wrapper_to_string), with
    // mysys base64_encode's line break after 76 characters escaped as \n.
    #[test]
    fn json_opaque_other_types() {
        assert_eq!(
            json(&opaque_doc(15, &[0xca, 0xfe])).unwrap(),
            "\"base64:type15:yv4=\""
        );
        assert_eq!(
            json(&opaque_doc(252, b"abc")).unwrap(),
            "\"base64:type252:YWJj\""
        );
        let long = [0u8; 60];
        let text = json(&opaque_doc(252, &long)).unwrap();
        let body = text
            .strip_prefix("\"base64:type252:")
            .and_then(|t| t.strip_suffix('"'))
            .unwrap();
        assert_eq!(body, format!("{}\\n{}", "A".repeat(76), "A".repeat(4)));
        // VAR_STRING opaque values print as strings.
        assert_eq!(json(&opaque_doc(253, b"a\"b")).unwrap(), "\"a\\\"b\"");
    }
}
