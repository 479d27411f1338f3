//! The lost key ranges of `report.html`, in words: under a table's bar,
//! `about 259 rows lost between id 1,680 and 1,940 (2 pages)` for each
//! range report.json lists (`lost_key_ranges`), the first few open and the
//! rest folded in a `<details>`; and the range the summary sentence names
//! for the table that lost most.
//!
//! The bounds are the live keys on either side of the lost pages (both
//! recovered, in the table's CSV): the lost rows lie strictly between
//! them. Keys are the CSV's text; an integer key gets thousands
//! separators.

use std::fmt::Write as _;

use super::{esc, num, plural};
use crate::recover::lost::{is_int_key, LostRange};
use crate::recover::TableRecovery;

/// Ranges shown open under a table; the rest are folded.
const OPEN: usize = 3;
/// Ranges shown per table; the rest are counted.
const PER_TABLE: usize = 100;

/// The key columns as named in words: `id`, `(order_id, line)`.
fn key_name(t: &TableRecovery) -> String {
    match t.key_columns.as_slice() {
        [one] => one.clone(),
        many => format!("({})", many.join(", ")),
    }
}

/// A key as shown: the CSV's text, with thousands separators when the key
/// is one integer column.
fn key_shown(t: &TableRecovery, k: &str) -> String {
    let (sign, digits) = match k.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", k),
    };
    let whole = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    match digits.parse::<u64>() {
        Ok(n) if whole && is_int_key(&t.def) => format!("{sign}{}", num(n)),
        _ => k.to_string(),
    }
}

/// Where a range is: `between id 1,680 and 1,940`, `before id 27`,
/// `after id 9,000`.
pub fn where_words(t: &TableRecovery, r: &LostRange) -> String {
    let name = key_name(t);
    match (&r.after, &r.before) {
        (Some(a), Some(b)) => format!("between {name} {} and {}", key_shown(t, a), key_shown(t, b)),
        (None, Some(b)) => format!("before {name} {}", key_shown(t, b)),
        (Some(a), None) => format!("after {name} {}", key_shown(t, a)),
        (None, None) => "somewhere in the table".to_string(),
    }
}

/// One range in words: `about 259 rows lost between id 1,680 and 1,940
/// (2 pages; 37 of them in .uncertain.csv)`; `at least` the pages when
/// the rows say more than the pages the links name hold.
pub fn range_words(t: &TableRecovery, r: &LostRange) -> String {
    let per_page = if t.leaf_pages > 0 {
        (t.rows_written + t.partial_rows) as f64 / t.leaf_pages as f64
    } else {
        0.0
    };
    let more = per_page > 0.0 && r.rows_estimate as f64 > 1.5 * r.pages as f64 * per_page;
    let mut s = format!(
        "about {} lost {} ({}{}",
        plural(r.rows_estimate, "row", "rows"),
        where_words(t, r),
        if more { "at least " } else { "" },
        plural(r.pages, "page", "pages")
    );
    if r.uncertain_rows > 0 {
        let _ = write!(s, "; {} of them in .uncertain.csv", num(r.uncertain_rows));
    }
    s.push(')');
    s
}

/// The range of `t` that lost most rows, for the summary sentence:
/// `, between id 1,680 and 1,940` (one range) or `, in 2 key ranges, the
/// most between id 2,210 and 2,493`.
pub fn sentence_part(t: &TableRecovery) -> String {
    let Some(worst) = t.lost_key_ranges.iter().max_by(|a, b| {
        // The first of equals.
        a.rows_estimate
            .cmp(&b.rows_estimate)
            .then(std::cmp::Ordering::Greater)
    }) else {
        return String::new();
    };
    if t.lost_key_ranges_total == 1 {
        format!(", {}", where_words(t, worst))
    } else {
        format!(
            ", in {} key ranges, the most {}",
            num(t.lost_key_ranges_total as u64),
            where_words(t, worst)
        )
    }
}

/// The ranges of `t` as a list in a table cell (nothing when it has
/// none), at most `budget` of them (counted down).
pub fn render(h: &mut String, t: &TableRecovery, budget: &mut usize) {
    if t.lost_key_ranges.is_empty() {
        return;
    }
    let shown = t.lost_key_ranges.len().min(PER_TABLE).min(*budget);
    *budget -= shown;
    if shown > 0 {
        h.push_str("<ul class=\"lost\">");
        for r in &t.lost_key_ranges[..shown.min(OPEN)] {
            let _ = write!(h, "<li>{}</li>", esc(&range_words(t, r)));
        }
        h.push_str("</ul>");
    }
    if shown > OPEN {
        let _ = write!(
            h,
            "<details><summary>{} more lost key ranges</summary><ul class=\"lost\">",
            num((shown - OPEN) as u64)
        );
        for r in &t.lost_key_ranges[OPEN..shown] {
            let _ = write!(h, "<li>{}</li>", esc(&range_words(t, r)));
        }
        h.push_str("</ul></details>");
    }
    let left = t.lost_key_ranges_total - shown;
    if left > 0 {
        let _ = write!(
            h,
            "<p class=\"sub\">{} {} in report.json</p>",
            if shown > 0 { "and" } else { "lost key ranges:" },
            if shown > 0 {
                format!("{} more", num(left as u64))
            } else {
                num(left as u64)
            }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table of `key` columns (an INT key when it is `id`), 10 leaf
    /// pages of 100 rows.
    fn table(key: &[&str]) -> TableRecovery {
        let sql = if key == ["id"] {
            "CREATE TABLE t (id INT PRIMARY KEY, v INT)".to_string()
        } else {
            format!(
                "CREATE TABLE t ({}, v INT, PRIMARY KEY ({}))",
                key.iter()
                    .map(|k| format!("{k} VARCHAR(20)"))
                    .collect::<Vec<_>>()
                    .join(", "),
                key.join(", ")
            )
        };
        let (defs, _) =
            crate::schema::sql::parse_schema_lenient(&sql, Some("db"), &Default::default());
        // A recovery of the table from an image with no page.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.img");
        std::fs::write(&path, vec![0u8; 4096]).unwrap();
        let image = crate::image::Image::open(&path, crate::image::ReadMode::Pread).unwrap();
        let opts = crate::recover::RecoverOptions {
            user_schemas: defs,
            ..Default::default()
        };
        let store = crate::carve::store::PageStore::default();
        let mut rec =
            crate::recover::recover(&image, &store, &Default::default(), &opts, &|_, _| {});
        let mut t = rec.tables.pop().expect("the table");
        assert_eq!(t.key_columns, key);
        t.rows_written = 1000;
        t.leaf_pages = 10;
        t
    }

    fn range(after: Option<&str>, before: Option<&str>, pages: u64, rows: u64) -> LostRange {
        LostRange {
            after: after.map(str::to_string),
            before: before.map(str::to_string),
            pages,
            rows_estimate: rows,
            uncertain_rows: 0,
        }
    }

    #[test]
    fn ranges_in_words() {
        let t = table(&["id"]);
        assert_eq!(
            range_words(&t, &range(Some("1089"), Some("1341"), 2, 251)),
            "about 251 rows lost between id 1,089 and 1,341 (2 pages)"
        );
        assert_eq!(
            range_words(&t, &range(None, Some("-12345"), 1, 1)),
            "about 1 row lost before id -12,345 (1 page)"
        );
        let mut r = range(Some("10577"), Some("10706"), 1, 128);
        r.uncertain_rows = 128;
        assert_eq!(
            range_words(&t, &r),
            "about 128 rows lost between id 10,577 and 10,706 (1 page; 128 of them in .uncertain.csv)"
        );
        // More rows than 2 pages of 100 hold: the links named only the ends.
        assert_eq!(
            range_words(&t, &range(Some("7"), None, 2, 400)),
            "about 400 rows lost after id 7 (at least 2 pages)"
        );
        // Not an integer key: the text as it is.
        let t = table(&["a", "b"]);
        assert_eq!(
            where_words(&t, &range(Some("(1000, x)"), Some("(1000, y)"), 1, 5)),
            "between (a, b) (1000, x) and (1000, y)"
        );
    }

    #[test]
    fn the_sentence_names_the_largest_range() {
        let mut t = table(&["id"]);
        t.lost_key_ranges = vec![
            range(Some("1"), Some("100"), 1, 98),
            range(Some("200"), Some("400"), 2, 199),
            range(Some("500"), Some("700"), 2, 199),
        ];
        t.lost_key_ranges_total = 3;
        assert_eq!(
            sentence_part(&t),
            ", in 3 key ranges, the most between id 200 and 400"
        );
        t.lost_key_ranges.truncate(1);
        t.lost_key_ranges_total = 1;
        assert_eq!(sentence_part(&t), ", between id 1 and 100");
        t.lost_key_ranges.clear();
        t.lost_key_ranges_total = 0;
        assert_eq!(sentence_part(&t), "");
    }
}
