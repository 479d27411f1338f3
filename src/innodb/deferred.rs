//! Off-page values too large to hold: a BLOB or TEXT value whose off-page
//! part is longer than the decoder's limit is not assembled. The decoder
//! walks its page chain once to prove it whole and well-formed (the same
//! checks, in the same order, with the same messages as assembling it) and
//! keeps only where it is: a [`Deferred`]. Whoever writes the row walks the
//! chain again and streams the value's CSV text (`0x` + hex, or the text
//! converted to UTF-8 and quoted), so a 1 GiB LONGBLOB never needs 1 GiB of
//! memory, let alone the 2 GiB of its hex.
//!
//! MySQL binary JSON is read at random (objects and arrays point at their
//! elements): its chain is walked into a map of where each part lies
//! ([`Seekable`]) and the whole value converted through it
//! ([`crate::innodb::json`]), once to prove it and once to write it, the
//! text streamed in parts. A JSON value in a ROW_FORMAT=COMPRESSED chain
//! cannot be read at random: it is assembled ([`Form::defers`]).

use encoding_rs::{DecoderResult, Encoding};

use crate::innodb::json::{self, Stop, Stream};
use crate::innodb::lob::{random_access, walk_extern, ExternRef, LobError, PageSource};
use crate::innodb::lob_seek::Seekable;
use crate::innodb::types::ValueError;
use crate::schema::{Charset, Column, ColumnType};

/// How a value's bytes become its CSV text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `0x` + lowercase hex (binary strings, BLOB, GEOMETRY).
    Hex,
    /// Text in this encoding, converted to UTF-8 (malformed = error).
    Text(&'static Encoding),
    /// UTF-32BE text (which encoding_rs lacks), converted to UTF-8.
    Utf32,
    /// MySQL 8 binary JSON, converted to its text ([`crate::innodb::json`]).
    Json,
}

impl Form {
    /// The form of `col`'s values when they can be streamed (their text is
    /// the same converted in parts as whole); `None` otherwise (the short
    /// types).
    pub fn of(col: &Column) -> Option<Form> {
        match col.ty {
            ColumnType::Binary { .. }
            | ColumnType::VarBinary { .. }
            | ColumnType::Blob
            | ColumnType::Geometry
            | ColumnType::Vector { .. } => Some(Form::Hex),
            ColumnType::VarChar { .. } | ColumnType::Text => text_form(col.charset),
            ColumnType::Json => Some(Form::Json),
            _ => None,
        }
    }

    /// Whether a value of this form whose chain is `r` can be deferred: all
    /// but JSON in a ROW_FORMAT=COMPRESSED chain, which cannot be read at
    /// random and is assembled.
    pub fn defers(self, r: &ExternRef, pages: &dyn PageSource) -> bool {
        self != Form::Json || random_access(r, pages)
    }
}

/// The form of text in `cs` (as `types::text_into` converts it).
fn text_form(cs: Charset) -> Option<Form> {
    use encoding_rs as e;
    Some(match cs {
        Charset::Binary => Form::Hex,
        Charset::Utf8mb3 | Charset::Utf8mb4 | Charset::Other(_) => Form::Text(e::UTF_8),
        Charset::Latin1 | Charset::Ascii => Form::Text(e::WINDOWS_1252),
        Charset::Gbk | Charset::Gb2312 => Form::Text(e::GBK),
        Charset::Gb18030 => Form::Text(e::GB18030),
        Charset::Ujis => Form::Text(e::EUC_JP),
        Charset::Big5 => Form::Text(e::BIG5),
        Charset::Sjis => Form::Text(e::SHIFT_JIS),
        Charset::Euckr => Form::Text(e::EUC_KR),
        Charset::Cp1251 => Form::Text(e::WINDOWS_1251),
        Charset::Ucs2 | Charset::Utf16 => Form::Text(e::UTF_16BE),
        Charset::Utf32 => Form::Utf32,
    })
}

/// A proven off-page value, not held: its local prefix and where the rest
/// is. Its CSV text is written by [`Deferred::write_csv`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deferred {
    pub local: Box<[u8]>,
    pub extern_ref: ExternRef,
    pub form: Form,
    /// The text holds a comma, quote, CR or LF: the field is quoted.
    pub quoted: bool,
}

impl Deferred {
    /// Walks the value (`local` then the chain of `r`) once: `Ok` when it
    /// is whole and converts, else the message assembling and decoding it
    /// would have given (a chain error before a charset error, as then).
    pub fn check(
        local: &[u8],
        r: ExternRef,
        col: &Column,
        form: Form,
        pages: &dyn PageSource,
    ) -> Result<Deferred, String> {
        if form == Form::Json {
            return check_json(local, r, pages);
        }
        let mut conv = Converter::new(form);
        let mut bad = false;
        let mut quoting = Quoting::default();
        // Hex is always well-formed and never quoted: only the chain is read.
        let text = form != Form::Hex;
        let mut look = |part: &[u8], last: bool| {
            if text && !bad {
                let r = conv.convert(part, last, &mut |text| {
                    quoting.see(text.as_bytes());
                    true
                });
                bad = r.is_err();
            }
        };
        look(local, false);
        walk_extern(&r, pages, &mut |part| {
            look(part, false);
            true
        })
        .map_err(|e| e.to_string())?;
        look(&[], true);
        if bad {
            return Err(ValueError::Charset {
                charset: col.charset,
            }
            .to_string());
        }
        Ok(Deferred {
            local: local.into(),
            extern_ref: r,
            form,
            quoted: text && quoting.needed(),
        })
    }

    /// Streams the value's CSV field (quoted when it must be) to `out`,
    /// part by part, reading its chain from `pages` again.
    pub fn write_csv(
        &self,
        pages: &dyn PageSource,
        out: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let quoted = self.quoted;
        if quoted {
            out(b"\"")?;
        }
        let mut failed: Option<std::io::Error> = None;
        let mut emit_bytes = |text: &[u8]| -> bool {
            let r = if quoted {
                write_doubling_quotes(text, out)
            } else {
                out(text)
            };
            match r {
                Ok(()) => true,
                Err(e) => {
                    failed = Some(e);
                    false
                }
            }
        };
        let ok = if self.form == Form::Json {
            self.json(pages, |t| emit_bytes(t)).is_ok()
        } else {
            let mut conv = Converter::new(self.form);
            let mut step = |part: &[u8], last: bool, emit: &mut dyn FnMut(&str) -> bool| {
                conv.convert(part, last, emit).is_ok()
            };
            let mut ok = step(&self.local, false, &mut |t| emit_bytes(t.as_bytes()));
            if ok {
                let walked = walk_extern(&self.extern_ref, pages, &mut |part| {
                    step(part, false, &mut |t| emit_bytes(t.as_bytes()))
                });
                ok = walked.is_ok();
            }
            ok && step(&[], true, &mut |t| emit_bytes(t.as_bytes()))
        };
        if let Some(e) = failed {
            return Err(e);
        }
        if !ok {
            // The chain was proven when the row was decoded, from the same
            // pages: only a changed image gets here.
            return Err(std::io::Error::other(format!(
                "off-page value at page {}:{} no longer reads as it did",
                self.extern_ref.space_id, self.extern_ref.page_no
            )));
        }
        if quoted {
            out(b"\"")?;
        }
        Ok(())
    }

    /// The value's text, whole (for callers that keep rows in memory).
    pub fn text(&self, pages: &dyn PageSource) -> Result<String, LobError> {
        if self.form == Form::Json {
            let mut s = Vec::new();
            self.json(pages, |t| {
                s.extend_from_slice(t);
                true
            })?;
            return String::from_utf8(s).map_err(|_| LobError::Stopped);
        }
        let mut s = String::new();
        let mut conv = Converter::new(self.form);
        let mut push = |t: &str| {
            s.push_str(t);
            true
        };
        let mut ok = conv.convert(&self.local, false, &mut push).is_ok();
        walk_extern(&self.extern_ref, pages, &mut |part| {
            ok = ok && conv.convert(part, false, &mut push).is_ok();
            true
        })?;
        ok = ok && conv.convert(&[], true, &mut push).is_ok();
        if !ok {
            return Err(LobError::Stopped);
        }
        Ok(s)
    }
}

impl Deferred {
    /// Converts the JSON value again, its text to `emit` in parts (which
    /// may end inside a character); `emit` returns `false` to stop.
    fn json(
        &self,
        pages: &dyn PageSource,
        emit: impl FnMut(&[u8]) -> bool,
    ) -> Result<(), LobError> {
        stream_json(&self.local, &self.extern_ref, pages, emit).map_err(|e| match e {
            Stop::Source(e) => e,
            // Proven when the row was decoded: a changed image.
            Stop::Bad(_) | Stop::Sink => LobError::Stopped,
        })
    }
}

/// [`Deferred::check`] of a MySQL binary JSON value: the chain walked into
/// a map of its parts, then the value converted through it into a sink
/// that only notes whether the field is quoted (the errors of assembling
/// and converting it whole, in the same order).
fn check_json(local: &[u8], r: ExternRef, pages: &dyn PageSource) -> Result<Deferred, String> {
    let mut quoting = Quoting::default();
    let see = |t: &[u8]| {
        quoting.see(t);
        true
    };
    stream_json(local, &r, pages, see).map_err(|e| match e {
        Stop::Bad(e) => e.to_string(),
        Stop::Source(e) => e.to_string(),
        Stop::Sink => LobError::Stopped.to_string(),
    })?;
    Ok(Deferred {
        local: local.into(),
        extern_ref: r,
        form: Form::Json,
        quoted: quoting.needed(),
    })
}

/// The text of the JSON value `local` + the chain of `r` to `emit` in
/// parts: the chain walked into a map ([`Seekable`]), then the value
/// converted through it.
fn stream_json(
    local: &[u8],
    r: &ExternRef,
    pages: &dyn PageSource,
    emit: impl FnMut(&[u8]) -> bool,
) -> Result<(), Stop> {
    let mut src = Seekable::walk(local, r, pages).map_err(Stop::Source)?;
    json::convert(&mut src, &mut Stream::new(emit))
}

/// Whether a CSV field must be quoted, seen in parts: as
/// `export::csv::write_field` decides it for the whole text (empty, `\N`,
/// `null` in any case, or a comma, quote, CR or LF in it).
#[derive(Default)]
struct Quoting {
    len: u64,
    head: [u8; 4],
    special: bool,
}

impl Quoting {
    fn see(&mut self, b: &[u8]) {
        for (i, &c) in b.iter().take(4).enumerate() {
            if let Some(h) = self.head.get_mut(self.len as usize + i) {
                *h = c;
            }
        }
        self.len += b.len() as u64;
        self.special = self.special || has_special(b);
    }

    fn needed(&self) -> bool {
        self.special
            || match self.len {
                0 => true,
                2 => &self.head[..2] == b"\\N",
                4 => self.head.eq_ignore_ascii_case(b"null"),
                _ => false,
            }
    }
}

/// Writes `b` with every `"` doubled.
fn write_doubling_quotes(
    b: &[u8],
    out: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        if c == b'"' {
            out(&b[start..=i])?;
            start = i; // the quote again
        }
    }
    out(&b[start..])
}

/// A comma, quote, CR or LF.
fn has_special(b: &[u8]) -> bool {
    b.iter().any(|c| matches!(c, b',' | b'"' | b'\r' | b'\n'))
}

/// Converts a value's bytes, given in parts, to its CSV text in parts.
struct Converter {
    form: Form,
    started: bool,
    decoder: Option<encoding_rs::Decoder>,
    utf32: Utf32,
    buf: String,
    hex: Vec<u8>,
}

/// The two lowercase hex digits of each byte.
const HEX_PAIRS: [[u8; 2]; 256] = {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [H[i >> 4], H[i & 15]];
        i += 1;
    }
    t
};

/// Text converted per call to the writer (and the hex buffer's size).
const PART: usize = 64 * 1024;

impl Converter {
    fn new(form: Form) -> Converter {
        Converter {
            form,
            started: false,
            decoder: match form {
                Form::Text(enc) => Some(enc.new_decoder_without_bom_handling()),
                Form::Hex | Form::Utf32 | Form::Json => None,
            },
            utf32: Utf32::default(),
            buf: match form {
                Form::Hex | Form::Json => String::new(),
                Form::Text(_) | Form::Utf32 => String::with_capacity(PART),
            },
            hex: match form {
                Form::Hex => Vec::with_capacity(PART),
                Form::Text(_) | Form::Utf32 | Form::Json => Vec::new(),
            },
        }
    }

    /// Converts `b` (the last part when `last`), handing the text to
    /// `emit` (which returns `false` to stop). `Err` on malformed text or
    /// when stopped.
    fn convert(
        &mut self,
        b: &[u8],
        last: bool,
        emit: &mut dyn FnMut(&str) -> bool,
    ) -> Result<(), ()> {
        match self.form {
            Form::Hex => {
                if !self.started {
                    self.started = true;
                    if !emit("0x") {
                        return Err(());
                    }
                }
                for chunk in b.chunks(PART / 2) {
                    self.hex.clear();
                    for &x in chunk {
                        self.hex.extend_from_slice(&HEX_PAIRS[usize::from(x)]);
                    }
                    // Hex digits: always ASCII.
                    let text = std::str::from_utf8(&self.hex).map_err(|_| ())?;
                    if !emit(text) {
                        return Err(());
                    }
                }
                Ok(())
            }
            Form::Text(_) => {
                let Some(d) = self.decoder.as_mut() else {
                    return Err(());
                };
                let mut input = b;
                loop {
                    self.buf.clear();
                    let (res, read) =
                        d.decode_to_string_without_replacement(input, &mut self.buf, last);
                    input = &input[read..];
                    if !self.buf.is_empty() && !emit(&self.buf) {
                        return Err(());
                    }
                    match res {
                        DecoderResult::InputEmpty => return Ok(()),
                        // Room for at least one more character.
                        DecoderResult::OutputFull => self.buf.reserve(PART),
                        DecoderResult::Malformed(..) => return Err(()),
                    }
                }
            }
            // Converted whole by `json`, never in parts.
            Form::Json => Err(()),
            Form::Utf32 => {
                // PART bytes are at most PART / 4 characters of at most 4
                // bytes of UTF-8 each (and one held over).
                for chunk in b.chunks(PART) {
                    self.buf.clear();
                    self.utf32.push(chunk, &mut self.buf)?;
                    if !self.buf.is_empty() && !emit(&self.buf) {
                        return Err(());
                    }
                }
                if last && self.utf32.held > 0 {
                    return Err(());
                }
                Ok(())
            }
        }
    }
}

/// UTF-32BE given in parts, converted as `types::text_into` converts it
/// whole: a 4-byte code unit may be split between parts; a unit that is
/// no Unicode scalar value (a surrogate, over U+10FFFF), or a partial unit
/// at the end, is malformed.
#[derive(Default)]
struct Utf32 {
    unit: [u8; 4],
    /// Bytes of `unit` given so far (0 to 3 between calls).
    held: usize,
}

impl Utf32 {
    /// Appends the characters completed by `b` to `out`, holding a
    /// partial unit at its end for the next call.
    fn push(&mut self, mut b: &[u8], out: &mut String) -> Result<(), ()> {
        if self.held > 0 {
            let take = b.len().min(4 - self.held);
            self.unit[self.held..self.held + take].copy_from_slice(&b[..take]);
            self.held += take;
            b = &b[take..];
            if self.held < 4 {
                return Ok(());
            }
            self.held = 0;
            out.push(char::from_u32(u32::from_be_bytes(self.unit)).ok_or(())?);
        }
        let mut units = b.chunks_exact(4);
        for u in &mut units {
            out.push(char::from_u32(u32::from_be_bytes([u[0], u[1], u[2], u[3]])).ok_or(())?);
        }
        let rest = units.remainder();
        self.unit[..rest.len()].copy_from_slice(rest);
        self.held = rest.len();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy as _;

    use crate::innodb::lob::read_extern;
    use crate::innodb::lob::tests::{chain, r, Map};

    /// The CSV field `d` streams, read from `src`.
    fn field(d: &Deferred, src: &Map) -> Vec<u8> {
        let mut got = Vec::new();
        d.write_csv(src, &mut |b| {
            got.extend_from_slice(b);
            Ok(())
        })
        .unwrap();
        got
    }
    fn reference(len: usize) -> ExternRef {
        r(5, len as u64)
    }

    #[test]
    fn streamed_field_is_the_field_of_the_whole_value() {
        let text = "naïve, \"quoted\"\n日本 🎉 ".repeat(500);
        let (local, rest) = text.as_bytes().split_at(7);
        let src = chain(rest, 1001);
        let col = Column::new("t", ColumnType::Text, true, Charset::Utf8mb4);
        let d = Deferred::check(
            local,
            reference(rest.len()),
            &col,
            Form::of(&col).unwrap(),
            &src,
        )
        .unwrap();
        assert!(d.quoted);
        let got = field(&d, &src);
        let mut want = Vec::new();
        crate::export::csv::write_field(&mut want, Some(&text));
        assert_eq!(
            String::from_utf8(got).unwrap(),
            String::from_utf8(want).unwrap()
        );
        assert_eq!(d.text(&src).unwrap(), text);
        // A BLOB: hex, never quoted.
        let blob = Column::new("b", ColumnType::Blob, true, Charset::Binary);
        let d = Deferred::check(local, reference(rest.len()), &blob, Form::Hex, &src).unwrap();
        assert!(!d.quoted);
        assert_eq!(
            d.text(&src).unwrap(),
            crate::innodb::types::hex(text.as_bytes())
        );
    }

    #[test]
    fn errors_are_those_of_the_whole_value() {
        let col = Column::new("t", ColumnType::Text, true, Charset::Utf8mb4);
        let form = Form::of(&col).unwrap();
        // A chain one byte short, and malformed text: the chain error wins.
        let bad = [b'a', 0xff, b'b'].repeat(3000);
        let src = chain(&bad, 700);
        let long = reference(bad.len() + 1);
        let whole = read_extern(&long, &src).unwrap_err().to_string();
        assert_eq!(Deferred::check(b"", long, &col, form, &src), Err(whole));
        let charset = ValueError::Charset {
            charset: col.charset,
        }
        .to_string();
        let r = reference(bad.len());
        assert_eq!(Deferred::check(b"", r, &col, form, &src), Err(charset));
        // A missing page.
        let mut src = chain(b"0123456789", 3);
        src.0.remove(&6);
        let whole = read_extern(&reference(10), &src).unwrap_err().to_string();
        assert_eq!(
            Deferred::check(b"", reference(10), &col, form, &src),
            Err(whole)
        );
    }

    fn convert_all(form: Form, parts: &[&[u8]]) -> Result<String, ()> {
        let mut c = Converter::new(form);
        let mut s = String::new();
        for p in parts {
            c.convert(p, false, &mut |t| {
                s.push_str(t);
                true
            })?;
        }
        c.convert(&[], true, &mut |t| {
            s.push_str(t);
            true
        })?;
        Ok(s)
    }

    #[test]
    fn text_split_inside_a_character_converts_as_whole() {
        let text = "naïve, “quoted” 日本 🎉".as_bytes();
        for cut in 0..text.len() {
            let got = convert_all(
                Form::Text(encoding_rs::UTF_8),
                &[&text[..cut], &text[cut..]],
            );
            assert_eq!(got.as_deref(), Ok("naïve, “quoted” 日本 🎉"));
        }
        // A sequence cut short at the end is malformed.
        assert!(convert_all(Form::Text(encoding_rs::UTF_8), &[&text[..text.len() - 1]]).is_err());
        // UTF-16 split between the bytes of a code unit.
        let u16: Vec<u8> = "a,b".encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        let got = convert_all(Form::Text(encoding_rs::UTF_16BE), &[&u16[..1], &u16[1..]]);
        assert_eq!(got.as_deref(), Ok("a,b"));
    }

    #[test]
    fn hex_in_parts() {
        let b: Vec<u8> = (0..=255u8).cycle().take(200_000).collect();
        let got = convert_all(Form::Hex, &[&b[..7], &b[7..]]).unwrap();
        assert_eq!(got, crate::innodb::types::hex(&b));
        assert_eq!(convert_all(Form::Hex, &[]).unwrap(), "0x");
    }

    fn utf32(s: &str) -> Vec<u8> {
        s.chars().flat_map(|c| u32::from(c).to_be_bytes()).collect()
    }

    /// The whole value's text as the row decoder gives it.
    fn utf32_whole(b: &[u8]) -> Result<String, ()> {
        let col = Column::new("u", ColumnType::Text, true, Charset::Utf32);
        crate::innodb::types::decode_value(&col, b).map_err(|_| ())
    }

    /// Valid UTF-32 (ASCII with CSV specials, 2- and 3-byte, astral) and
    /// invalid (over U+10FFFF, a surrogate, a last unit cut short).
    fn utf32_samples() -> Vec<Vec<u8>> {
        let ok = utf32("a,\"é\"\n日🎉\r€\u{10FFFF}");
        let mut over = ok.clone();
        over.splice(8..8, [0, 0x11, 0, 0]);
        let mut surrogate = ok.clone();
        surrogate.splice(4..4, [0, 0, 0xd8, 0x3c]);
        let cut = ok[..ok.len() - 1].to_vec();
        vec![ok, over, surrogate, cut, vec![0, 0, 0]]
    }

    #[test]
    fn utf32_split_anywhere_converts_as_whole() {
        for b in utf32_samples() {
            let want = utf32_whole(&b);
            // Every split into three parts (empty ones included).
            for i in 0..=b.len() {
                for j in i..=b.len() {
                    let got = convert_all(Form::Utf32, &[&b[..i], &b[i..j], &b[j..]]);
                    assert_eq!(got, want, "{b:02x?} cut at {i} and {j}");
                }
            }
        }
        assert_eq!(
            utf32_whole(&utf32_samples()[0]).unwrap(),
            "a,\"é\"\n日🎉\r€\u{10FFFF}"
        );
        assert!(utf32_whole(&utf32_samples()[1]).is_err());
        assert!(utf32_whole(&utf32_samples()[2]).is_err());
        assert!(utf32_whole(&utf32_samples()[3]).is_err());
        assert_eq!(convert_all(Form::Utf32, &[]).as_deref(), Ok(""));
    }

    /// A chain of UTF-32 text: checked, quoted and written as the whole
    /// value's field; a bad unit deep in the chain is the charset error.
    #[test]
    fn utf32_chain_is_the_field_of_the_whole_value() {
        let col = Column::new("u", ColumnType::Text, true, Charset::Utf32);
        let form = Form::of(&col).unwrap();
        assert_eq!(form, Form::Utf32);
        let text = "naïve, \"quoted\"\n日本 🎉 ".repeat(3000);
        let b = utf32(&text);
        // Pages of 1001 bytes: code units split across them.
        let (local, rest) = b.split_at(7);
        let src = chain(rest, 1001);
        let d = Deferred::check(local, reference(rest.len()), &col, form, &src).unwrap();
        assert!(d.quoted);
        let got = field(&d, &src);
        let mut want = Vec::new();
        crate::export::csv::write_field(&mut want, Some(&text));
        assert!(got == want);
        assert_eq!(d.text(&src).unwrap(), text);
        // No special character: not quoted.
        let plain = utf32(&"日本 🎉 ".repeat(3000));
        let src = chain(&plain, 1001);
        let d = Deferred::check(b"", reference(plain.len()), &col, form, &src).unwrap();
        assert!(!d.quoted);
        assert_eq!(d.text(&src).unwrap(), "日本 🎉 ".repeat(3000));
        // A surrogate, and a chain one byte short of whole units.
        let charset = Err(ValueError::Charset {
            charset: Charset::Utf32,
        }
        .to_string());
        let mut bad = b.clone();
        bad.splice(40_000..40_000, [0, 0, 0xdc, 0]);
        let src = chain(&bad, 1001);
        let r = reference(bad.len());
        assert_eq!(Deferred::check(b"", r, &col, form, &src), charset);
        let src = chain(&b[..b.len() - 1], 1001);
        let r = reference(b.len() - 1);
        assert_eq!(Deferred::check(b"", r, &col, form, &src), charset);
    }

    proptest::proptest! {
        /// Random code units (mostly valid, some surrogates and over
        /// U+10FFFF), maybe a partial last unit, cut at random places:
        /// the streamed text is the whole text, or both are errors.
        #[test]
        fn utf32_streamed_is_whole(
            units in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => proptest::prelude::any::<char>().prop_map(u32::from),
                    1 => 0xd800u32..0xe000,
                    1 => 0x11_0000u32..,
                ],
                0..40,
            ),
            tail in 0usize..4,
            cuts in proptest::collection::vec(0usize..200, 0..6),
        ) {
            let mut b: Vec<u8> = units.iter().flat_map(|u| u.to_be_bytes()).collect();
            b.extend(std::iter::repeat_n(0u8, tail));
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(b.len())).collect();
            cuts.sort_unstable();
            let mut parts = Vec::new();
            let mut at = 0;
            for c in cuts.into_iter().chain([b.len()]) {
                parts.push(&b[at..c]);
                at = c;
            }
            proptest::prop_assert_eq!(convert_all(Form::Utf32, &parts), utf32_whole(&b));
        }
    }

    #[test]
    fn quotes_doubled_across_calls() {
        let mut out = Vec::new();
        let mut w = |b: &[u8]| {
            out.extend_from_slice(b);
            Ok(())
        };
        write_doubling_quotes(b"a\"b\"\"", &mut w).unwrap();
        write_doubling_quotes(b"\"", &mut w).unwrap();
        assert_eq!(out, b"a\"\"b\"\"\"\"\"\"");
    }

    fn json_col() -> Column {
        Column::new("j", ColumnType::Json, true, Charset::Utf8mb4)
    }

    /// The CSV field of a JSON value assembled and converted whole, as the
    /// row decoder does it, or its error message.
    fn json_whole(local: &[u8], r: ExternRef, src: &Map) -> Result<Vec<u8>, String> {
        let ext = read_extern(&r, src).map_err(|e| e.to_string())?;
        let v = [local, &ext[..]].concat();
        let t = crate::innodb::types::decode_value(&json_col(), &v).map_err(|e| e.to_string())?;
        let mut f = Vec::new();
        crate::export::csv::write_field(&mut f, Some(&t));
        Ok(f)
    }

    /// The same deferred: proven, then streamed (and its text whole).
    fn json_deferred(local: &[u8], r: ExternRef, src: &Map) -> Result<Vec<u8>, String> {
        let d = Deferred::check(local, r, &json_col(), Form::Json, src)?;
        let f = field(&d, src);
        let text = d.text(src).unwrap();
        let mut want = Vec::new();
        crate::export::csv::write_field(&mut want, Some(&text));
        assert!(f == want, "text() and write_csv differ");
        Ok(f)
    }

    #[test]
    fn json_streamed_field_is_the_field_of_the_whole_value() {
        use crate::innodb::json::tests::{encode, J};
        let long = "naïve, \"quoted\"\n\u{1}日本 🎉 \\".repeat(20_000);
        let doc = J::Obj(vec![
            ("a".into(), J::Arr(vec![J::Lit(1), J::I32(-7), J::F(0.5)])),
            ("long".into(), J::S(long.clone())),
            (
                "z".into(),
                J::Op(15, (0..=255).cycle().take(5000).collect()),
            ),
        ]);
        let b = encode(&doc);
        assert!(b.len() > 0xFFFF, "a large object");
        for (cut, part) in [(0, 1001), (7, 4000), (768, 333)] {
            let (local, rest) = b.split_at(cut);
            let src = chain(rest, part);
            let got = json_deferred(local, reference(rest.len()), &src).unwrap();
            assert!(got == json_whole(local, reference(rest.len()), &src).unwrap());
            let text = String::from_utf8(got).unwrap();
            assert!(text.starts_with(
                "\"{\"\"a\"\": [true, -7, 0.5], \"\"long\"\": \"\"naïve, \\\"\"quoted"
            ));
        }
        // Unquoted: no comma, quote or line break in the text.
        let b = encode(&J::S("x".repeat(5000)));
        let src = chain(&b, 1001);
        let d = Deferred::check(b"", reference(b.len()), &json_col(), Form::Json, &src).unwrap();
        assert!(d.quoted, "a JSON string has quotes");
        let b = encode(&J::Arr(vec![J::I64(1)]));
        let b = [&b[..], &[0u8; 3000][..]].concat();
        let src = chain(&b, 1001);
        let d = Deferred::check(b"", reference(b.len()), &json_col(), Form::Json, &src).unwrap();
        assert!(!d.quoted);
        assert_eq!(field(&d, &src), b"[1]");
        // A literal with 2000 bytes after it: the text `null`, which a
        // field must quote.
        let b = [&[0x04u8, 0][..], &[0u8; 2000][..]].concat();
        let src = chain(&b, 1001);
        assert_eq!(
            json_deferred(b"", reference(b.len()), &src).unwrap(),
            b"\"null\""
        );
        assert_eq!(
            json_whole(b"", reference(b.len()), &src).unwrap(),
            b"\"null\""
        );
    }

    #[test]
    fn json_errors_are_those_of_the_whole_value() {
        use crate::innodb::json::tests::{encode, J};
        let b = encode(&J::Arr(vec![J::S("é".repeat(3000)), J::I64(5)]));
        // A chain one byte short: the chain's error.
        let src = chain(&b, 700);
        let long = reference(b.len() + 1);
        let e = json_whole(b"", long, &src).unwrap_err();
        assert!(e.contains("ended after"), "{e}");
        assert_eq!(json_deferred(b"", long, &src), Err(e));
        // A missing page.
        let mut src = chain(&b, 700);
        src.0.remove(&7);
        let e = json_whole(b"", reference(b.len()), &src).unwrap_err();
        assert!(e.contains("missing"), "{e}");
        assert_eq!(json_deferred(b"", reference(b.len()), &src), Err(e));
        // A character cut by a page boundary, made bad: not UTF-8.
        let mut bad = b.clone();
        bad[700] = b'x';
        let src = chain(&bad, 700);
        let e = json_whole(b"", reference(bad.len()), &src).unwrap_err();
        assert!(e.contains("not UTF-8"), "{e}");
        assert_eq!(json_deferred(b"", reference(bad.len()), &src), Err(e));
    }

    #[test]
    fn json_empty_key_at_the_very_end_is_read_as_whole() {
        use crate::innodb::json::tests::{encode, J};
        let mut b = encode(&J::Obj(vec![
            ("a".into(), J::S("x".repeat(2000))),
            ("".into(), J::Lit(0)),
        ]));
        // The empty key's offset (the second key entry of a small object)
        // set to the container's size: its 0 bytes lie at the value's end.
        assert_eq!(b[0], 0x00);
        let size = (b.len() - 1) as u16;
        b[9..11].copy_from_slice(&size.to_le_bytes());
        let src = chain(&b, 700);
        let whole = json_whole(b"", reference(b.len()), &src).unwrap();
        assert!(whole.ends_with(b"xx\"\", \"\"\"\": null}\""));
        assert_eq!(json_deferred(b"", reference(b.len()), &src), Ok(whole));
    }

    #[test]
    fn json_in_a_compressed_chain_is_assembled() {
        let mut src = chain(b"0123456789", 3);
        assert!(Form::Json.defers(&reference(10), &src));
        src.0.get_mut(&5).unwrap()[24..26]
            .copy_from_slice(&crate::innodb::fil::FIL_PAGE_TYPE_ZBLOB.to_be_bytes());
        assert!(!Form::Json.defers(&reference(10), &src));
        assert!(Form::Hex.defers(&reference(10), &src));
    }

    proptest::proptest! {
        /// Random documents (and some with a byte changed) in chains of
        /// random part sizes after a random local prefix: the streamed field
        /// is the whole value's, or both fail with the same message.
        #[test]
        fn json_streamed_is_whole(
            j in crate::innodb::json::tests::doc(),
            local in 0usize..800,
            part in 1usize..400,
            flip in proptest::option::of((proptest::prelude::any::<usize>(), 1u8..)),
        ) {
            let mut b = crate::innodb::json::tests::encode(&j);
            if let Some((i, x)) = flip {
                let i = i % b.len();
                b[i] ^= x;
            }
            let (local, rest) = b.split_at(local.min(b.len()));
            let src = chain(rest, part);
            let r = reference(rest.len());
            if rest.is_empty() {
                return Ok(());
            }
            proptest::prop_assert_eq!(json_deferred(local, r, &src), json_whole(local, r, &src));
        }
    }
}
