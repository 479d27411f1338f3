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
/// (2 pages)`; `at least` the pages when the rows say more than the pages
/// the links name hold.
pub fn range_words(t: &TableRecovery, r: &LostRange) -> String {
    let per_page = if t.leaf_pages > 0 {
        (t.rows_written + t.partial_rows) as f64 / t.leaf_pages as f64
    } else {
        0.0
    };
    let more = per_page > 0.0 && r.rows_estimate as f64 > 1.5 * r.pages as f64 * per_page;
    format!(
        "about {} lost {} ({}{})",
        plural(r.rows_estimate, "row", "rows"),
        where_words(t, r),
        if more { "at least " } else { "" },
        plural(r.pages, "page", "pages")
    )
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
    h.push_str("<ul class=\"lost\">");
    for r in &t.lost_key_ranges[..shown.min(OPEN)] {
        let _ = write!(h, "<li>{}</li>", esc(&range_words(t, r)));
    }
    h.push_str("</ul>");
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
            "<p class=\"sub\">and {} more in report.json</p>",
            plural(left as u64, "key range", "key ranges")
        );
    }
}
