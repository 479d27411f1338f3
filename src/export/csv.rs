//! CSV in the exact convention of DESIGN.md: UTF-8, a header row, RFC 4180
//! quoting, LF line endings; NULL is `\N` unquoted, the string `\N` is
//! written `"\N"`, the empty string `""`.

use std::io::{self, Write};
use std::path::Path;

use rayon::prelude::*;

/// Appends one field.
pub fn write_field(out: &mut Vec<u8>, v: Option<&str>) {
    match v {
        None => out.extend_from_slice(b"\\N"),
        Some(s) if needs_quotes(s) => {
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

/// A field that must be quoted: empty, the text `\N`, the word NULL in any
/// case (which LOAD DATA would otherwise read as NULL; load.sql reloads
/// these files), or containing a comma, quote, CR or LF.
fn needs_quotes(s: &str) -> bool {
    let b = s.as_bytes();
    match b.len() {
        0 => true,
        2 if b == b"\\N" => true,
        4 if b.eq_ignore_ascii_case(b"null") => true,
        _ => has_special(b),
    }
}

/// A comma, quote, CR or LF in `b`, tested 8 bytes at a time.
fn has_special(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Non-zero when a byte of `v` is zero (exact as a yes/no answer).
    fn zero_byte(v: u64) -> u64 {
        v.wrapping_sub(ONES) & !v & HIGH
    }
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut a = [0u8; 8];
        a.copy_from_slice(c);
        let w = u64::from_le_bytes(a);
        let hit = zero_byte(w ^ (ONES * u64::from(b',')))
            | zero_byte(w ^ (ONES * u64::from(b'"')))
            | zero_byte(w ^ (ONES * u64::from(b'\r')))
            | zero_byte(w ^ (ONES * u64::from(b'\n')));
        if hit != 0 {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|c| matches!(c, b',' | b'"' | b'\r' | b'\n'))
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

/// Writes a whole file: the header, then `n` rows; `row(i)` gives the values
/// of row `i` in column order (`None` = NULL). Blocks of rows are formatted
/// in parallel on the current rayon pool (while the previous blocks are
/// written) and written in order: the bytes do not depend on the threads.
pub fn write_file<'a, F, R>(path: &Path, header: &[&str], n: usize, row: F) -> io::Result<()>
where
    F: Fn(usize) -> R + Sync,
    R: IntoIterator<Item = Option<&'a str>>,
{
    write_file_with(path, header, n, row, &|_| {})
}

/// [`write_file`], telling `written` each time a block of rows is out.
pub fn write_file_with<'a, F, R>(
    path: &Path,
    header: &[&str],
    n: usize,
    row: F,
    written_rows: &(dyn Fn(usize) + Sync),
) -> io::Result<()>
where
    F: Fn(usize) -> R + Sync,
    R: IntoIterator<Item = Option<&'a str>>,
{
    const BLOCK: usize = 8 << 10;
    let mut f = std::fs::File::create(path)?;
    let mut head = Vec::new();
    write_record(&mut head, header.iter().map(|h| Some(*h)));
    f.write_all(&head)?;
    let format = |(k, mut buf): (usize, Vec<u8>)| {
        buf.clear();
        for i in k * BLOCK..((k + 1) * BLOCK).min(n) {
            write_record(&mut buf, row(i));
        }
        buf
    };
    let blocks = n.div_ceil(BLOCK);
    let per_round = 2 * rayon::current_num_threads().max(1);
    // Buffers are reused: one set is written while the next is filled.
    let mut spare: Vec<Vec<u8>> = Vec::new();
    let mut pending: Vec<Vec<u8>> = Vec::new();
    let mut k = 0;
    while k < blocks {
        let end = (k + per_round).min(blocks);
        let jobs: Vec<(usize, Vec<u8>)> = (k..end)
            .map(|i| (i, spare.pop().unwrap_or_default()))
            .collect();
        let (written, next) = rayon::join(
            || pending.iter().try_for_each(|b| f.write_all(b)),
            || jobs.into_par_iter().map(format).collect::<Vec<_>>(),
        );
        written?;
        let rows: usize = (k..end).map(|b| (n - b * BLOCK).min(BLOCK)).sum();
        spare.append(&mut pending);
        pending = next;
        k = end;
        written_rows(rows);
    }
    for b in &pending {
        f.write_all(b)?;
    }
    f.flush()
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

    #[test]
    fn special_bytes_found_at_every_position() {
        let naive = |b: &[u8]| b.iter().any(|c| matches!(c, b',' | b'"' | b'\r' | b'\n'));
        for len in 0..40 {
            for at in 0..len {
                for special in [b',', b'"', b'\r', b'\n', b'a', 0x80, 0xff, b'+', b'-', 0] {
                    let mut v = vec![b'x'; len];
                    v[at] = special;
                    assert_eq!(has_special(&v), naive(&v), "{v:?}");
                }
            }
        }
        for s in [
            "", "\\N", "nuLL", "NULL", "null", "\\n", "nul", "nulls", "a,b",
        ] {
            assert!(
                needs_quotes(s) == (s != "\\n" && s != "nul" && s != "nulls"),
                "{s}"
            );
        }
    }
}
