//! CSV in the exact convention of DESIGN.md: UTF-8, a header row, RFC 4180
//! quoting, LF line endings; NULL is `\N` unquoted, the string `\N` is
//! written `"\N"`, the empty string `""`.

use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Appends one field.
pub fn write_field(out: &mut Vec<u8>, v: Option<&str>) {
    match v {
        None => out.extend_from_slice(b"\\N"),
        // Also quoted: the word NULL in any case, which LOAD DATA would
        // otherwise read as NULL (load.sql reloads these files).
        Some(s)
            if s.is_empty()
                || s == "\\N"
                || s.eq_ignore_ascii_case("null")
                || s.contains([',', '"', '\r', '\n']) =>
        {
            out.push(b'"');
            for b in s.bytes() {
                if b == b'"' {
                    out.push(b'"');
                }
                out.push(b);
            }
            out.push(b'"');
        }
        Some(s) => out.extend_from_slice(s.as_bytes()),
    }
}

/// Appends one record (fields and the LF).
pub fn write_record<'a>(out: &mut Vec<u8>, fields: impl IntoIterator<Item = Option<&'a str>>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_field(out, f);
    }
    out.push(b'\n');
}

/// Writes a whole file: the header, then the rows.
pub fn write_file(path: &Path, header: &[&str], rows: &[Vec<Option<String>>]) -> io::Result<()> {
    let mut w = BufWriter::new(std::fs::File::create(path)?);
    let mut line = Vec::with_capacity(256);
    write_record(&mut line, header.iter().map(|h| Some(*h)));
    w.write_all(&line)?;
    for r in rows {
        line.clear();
        write_record(&mut line, r.iter().map(|v| v.as_deref()));
        w.write_all(&line)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(v: &[Option<&str>]) -> String {
        let mut out = Vec::new();
        write_record(&mut out, v.iter().copied());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn convention() {
        assert_eq!(
            rec(&[
                None,
                Some(""),
                Some("\\N"),
                Some("a,b"),
                Some("say \"hi\""),
                Some("x\ny"),
                Some("plain")
            ]),
            "\\N,\"\",\"\\N\",\"a,b\",\"say \"\"hi\"\"\",\"x\ny\",plain\n"
        );
    }
}
