//! CSV in the exact convention of DESIGN.md: UTF-8, a header row, RFC 4180
//! quoting, LF line endings; NULL is `\N` unquoted, the string `\N` is
//! written `"\N"`, the empty string `""`.

use crate::innodb::rows::RowView;
use crate::schema::ColumnType;

/// Appends one field.
pub fn write_field(out: &mut Vec<u8>, v: Option<&str>) {
    write_text(out, v.map(str::as_bytes));
}

/// [`write_field`] of UTF-8 text given as bytes.
fn write_text(out: &mut Vec<u8>, v: Option<&[u8]>) {
    match v {
        None => out.extend_from_slice(b"\\N"),
        Some(s) if needs_quotes(s) => {
            out.push(b'"');
            for &b in s {
                if b == b'"' {
                    out.push(b'"');
                }
                out.push(b);
            }
            out.push(b'"');
        }
        Some(s) => out.extend_from_slice(s),
    }
}

/// A field that must be quoted: empty, the text `\N`, the word NULL in any
/// case (which LOAD DATA would otherwise read as NULL; load.sql reloads
/// these files), or containing a comma, quote, CR or LF.
fn needs_quotes(b: &[u8]) -> bool {
    match b.len() {
        0 => true,
        2 if b == b"\\N" => true,
        4 if b.eq_ignore_ascii_case(b"null") => true,
        _ => has_special(b),
    }
}

/// A comma, quote, CR or LF in `b`, tested 8 bytes at a time (the last 8
/// bytes of a longer text once more for its tail).
fn has_special(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Non-zero when a byte of `v` is zero (exact as a yes/no answer).
    fn zero_byte(v: u64) -> u64 {
        v.wrapping_sub(ONES) & !v & HIGH
    }
    let special = |c: &[u8]| {
        let mut a = [0u8; 8];
        a.copy_from_slice(c);
        let w = u64::from_le_bytes(a);
        let hit = zero_byte(w ^ (ONES * u64::from(b',')))
            | zero_byte(w ^ (ONES * u64::from(b'"')))
            | zero_byte(w ^ (ONES * u64::from(b'\r')))
            | zero_byte(w ^ (ONES * u64::from(b'\n')));
        hit != 0
    };
    if b.len() < 8 {
        return b.iter().any(|c| matches!(c, b',' | b'"' | b'\r' | b'\n'));
    }
    let mut chunks = b.chunks_exact(8);
    if chunks.any(special) {
        return true;
    }
    !chunks.remainder().is_empty() && special(&b[b.len() - 8..])
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

/// Appends one row of a table: the columns `shown` (each with whether its
/// text never needs quotes, [`never_quoted`]: such a field is copied as it
/// is) of `row`, those listed in `nulled` as NULL, and the LF. A deferred
/// value is written as NULL (a row holding one is streamed instead).
pub fn write_row(out: &mut Vec<u8>, row: &RowView<'_>, nulled: &[usize], shown: &[(usize, bool)]) {
    for (i, &(c, plain)) in shown.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let v = if nulled.contains(&c) {
            None
        } else {
            row.text_bytes(c)
        };
        match v {
            Some(s) if plain => out.extend_from_slice(s),
            _ => write_text(out, v),
        }
    }
    out.push(b'\n');
}

/// Columns whose every value is written with digits, sign, `.`, `:`, `-`
/// and space only, never empty: their text never needs quotes.
pub fn never_quoted(ty: &ColumnType) -> bool {
    matches!(
        ty,
        ColumnType::TinyInt { .. }
            | ColumnType::SmallInt { .. }
            | ColumnType::MediumInt { .. }
            | ColumnType::Int { .. }
            | ColumnType::BigInt { .. }
            | ColumnType::Decimal { .. }
            | ColumnType::Year
            | ColumnType::Date
            | ColumnType::DateTime { .. }
            | ColumnType::Timestamp { .. }
            | ColumnType::Time { .. }
    )
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
                needs_quotes(s.as_bytes()) == (s != "\\n" && s != "nul" && s != "nulls"),
                "{s}"
            );
        }
    }

    proptest::proptest! {
        /// Every value a `never_quoted` column decodes to needs no quotes.
        #[test]
        fn never_quoted_columns_need_no_quotes(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..16)) {
            use crate::innodb::types::decode_value;
            use crate::schema::{Charset, Column};
            let types = [
                ColumnType::TinyInt { unsigned: false },
                ColumnType::SmallInt { unsigned: true },
                ColumnType::MediumInt { unsigned: false },
                ColumnType::Int { unsigned: false },
                ColumnType::BigInt { unsigned: true },
                ColumnType::BigInt { unsigned: false },
                ColumnType::Decimal { precision: 12, scale: 2 },
                ColumnType::Decimal { precision: 30, scale: 10 },
                ColumnType::Decimal { precision: 5, scale: 0 },
                ColumnType::Year,
                ColumnType::Date,
                ColumnType::DateTime { fsp: 0, old_format: false },
                ColumnType::DateTime { fsp: 6, old_format: false },
                ColumnType::DateTime { fsp: 0, old_format: true },
                ColumnType::DateTime { fsp: 3, old_format: true },
                ColumnType::Timestamp { fsp: 3, old_format: false },
                ColumnType::Timestamp { fsp: 0, old_format: true },
                ColumnType::Time { fsp: 0, old_format: false },
                ColumnType::Time { fsp: 4, old_format: false },
                ColumnType::Time { fsp: 0, old_format: true },
                ColumnType::Time { fsp: 2, old_format: true },
            ];
            for ty in types {
                assert!(never_quoted(&ty));
                let col = Column::new("c", ty, true, Charset::Binary);
                if let Ok(v) = decode_value(&col, &bytes) {
                    proptest::prop_assert!(!needs_quotes(v.as_bytes()), "{:?} -> {v:?}", col.ty);
                }
            }
        }
    }
}
