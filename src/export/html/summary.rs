//! The words and numbers of `report.html`: one sentence that says how
//! complete each table is, a table of the rows in each output file with a
//! bar per table, and what could not be tied to a table.
//!
//! "Rows lost" is an estimate ([`TableRecovery::lost_estimate`], as in
//! report.json): for the lost leaf pages the links place in a key range,
//! from the live rows of the pages on either side; for the rest, the
//! pages times the table's live rows per good leaf page. The key ranges
//! are listed under each table ([`super::lost`]) and the largest of the
//! table that lost most is named in the sentence.

use std::fmt::Write as _;

use super::{esc, num, plural, C_DELETED, C_LIVE, C_LOST, C_PARTIAL, C_UNCERTAIN};
use crate::recover::{Recovery, TableRecovery};

/// Tables listed by name in the summary sentence; the rest are counted.
const SENTENCE_CAP: usize = 20;
/// Tables given a row (and bar) in the table of tables.
const TABLE_CAP: usize = 1000;
/// Notes shown per table, and entries per list of [`others`].
const NOTES_CAP: usize = 20;
/// Notes shown for all tables together.
const NOTES_BUDGET: usize = 400;
/// Lost key ranges shown for all tables together.
const RANGES_BUDGET: usize = 2000;
/// Characters of a name shown (longer ones are cut, with `…`).
const NAME_CAP: usize = 80;

/// The name a table is shown by: `table` alone when no other table of the
/// recovery has that name, else `db.table`.
pub fn display_names(rec: &Recovery) -> Vec<String> {
    let mut count = std::collections::HashMap::new();
    for t in &rec.tables {
        *count.entry(t.table.as_str()).or_insert(0usize) += 1;
    }
    rec.tables
        .iter()
        .map(|t| {
            let name = if count[t.table.as_str()] > 1 {
                format!("{}.{}", t.db, t.table)
            } else {
                t.table.clone()
            };
            if name.chars().count() > NAME_CAP {
                name.chars().take(NAME_CAP).chain(['\u{2026}']).collect()
            } else {
                name
            }
        })
        .collect()
}

/// Leaf pages found only damaged or not at all.
pub fn bad_pages(t: &TableRecovery) -> u64 {
    (t.leaf_pages_damaged + t.leaf_pages_missing) as u64
}

/// Complete: no leaf page lost and no row with a column guessed.
pub fn complete(t: &TableRecovery) -> bool {
    bad_pages(t) == 0 && t.partial_rows == 0
}

/// Nothing of the table was found: no leaf page, good or bad, and no row.
pub fn absent(t: &TableRecovery) -> bool {
    t.leaf_pages == 0
        && bad_pages(t) == 0
        && t.rows_written + t.deleted_rows + t.uncertain_rows + t.partial_rows == 0
}

/// Rows recovered as a percentage of those plus the estimated lost ones.
fn percent(t: &TableRecovery, lost: u64) -> f64 {
    let got = (t.rows_written + t.partial_rows) as f64;
    if got + lost as f64 == 0.0 {
        return 100.0;
    }
    100.0 * got / (got + lost as f64)
}

/// A percentage that never rounds an incomplete table up to 100.
fn pct_text(p: f64) -> String {
    if p < 100.0 && p > 99.9 {
        "99.9".to_string()
    } else {
        format!("{p:.1}")
    }
}

/// What is wrong with an incomplete table, in words:
/// `users 98.7 %: about 254 rows lost in 2 pages`; with `range`, where
/// (`, between id 1,680 and 1,940`).
pub fn damage_words(t: &TableRecovery, name: &str, range: bool) -> String {
    let mut s = name.to_string();
    let bad = bad_pages(t);
    match t.lost_estimate() {
        Some(lost) if bad > 0 => {
            let _ = write!(
                s,
                " {} %: about {} lost in {}",
                pct_text(percent(t, lost)),
                plural(lost, "row", "rows"),
                plural(bad, "page", "pages")
            );
            if range {
                s.push_str(&super::lost::sentence_part(t));
            }
        }
        None => {
            let _ = write!(
                s,
                ": no good leaf page, {} damaged or missing (rows lost unknown)",
                plural(bad, "page", "pages")
            );
        }
        Some(_) => {}
    }
    if t.partial_rows > 0 {
        let _ = write!(
            s,
            "{} {} with columns that could not be decoded",
            if bad > 0 { ";" } else { ":" },
            plural(t.partial_rows as u64, "row", "rows")
        );
    }
    if t.uncertain_rows > 0 && bad > 0 {
        let _ = write!(
            s,
            " ({} uncertain)",
            plural(t.uncertain_rows as u64, "row", "rows")
        );
    }
    s
}

/// The summary in words, as plain text: `12 of 14 tables complete; users
/// 98.7 %: about 254 rows lost in 2 pages, between id 1,680 and 1,940; …`
/// (the report's first paragraph, and what `recover` ends with on
/// stderr). The key range is named for the table with most rows lost.
pub fn sentence_text(rec: &Recovery) -> String {
    let mut h = String::new();
    let names = display_names(rec);
    let gone = rec.tables.iter().filter(|t| absent(t)).count() as u64;
    let n = rec.tables.len() as u64 - gone;
    let done = rec
        .tables
        .iter()
        .filter(|t| complete(t) && !absent(t))
        .count() as u64;
    let rows: u64 = rec.tables.iter().map(|t| t.rows_written as u64).sum();
    let _ = write!(
        h,
        "{} of {} complete",
        num(done),
        plural(n, "table", "tables")
    );
    let bad: Vec<usize> = (0..rec.tables.len())
        .filter(|&i| !complete(&rec.tables[i]))
        .collect();
    // The table with most rows lost (the first of equals).
    let worst = bad
        .iter()
        .copied()
        .filter(|&i| rec.tables[i].lost_estimate().unwrap_or(0) > 0)
        .max_by(|&a, &b| {
            let lost = |i: usize| rec.tables[i].lost_estimate().unwrap_or(0);
            lost(a).cmp(&lost(b)).then(b.cmp(&a))
        });
    for &i in bad.iter().take(SENTENCE_CAP) {
        let _ = write!(
            h,
            "; {}",
            damage_words(&rec.tables[i], &names[i], worst == Some(i))
        );
    }
    if bad.len() > SENTENCE_CAP {
        let _ = write!(
            h,
            "; and {} more incomplete {}",
            num((bad.len() - SENTENCE_CAP) as u64),
            if bad.len() - SENTENCE_CAP == 1 {
                "table"
            } else {
                "tables"
            }
        );
    }
    if gone > 0 {
        let _ = write!(
            h,
            "; no page found of {} more {}",
            num(gone),
            if gone == 1 { "table" } else { "tables" }
        );
    }
    let _ = write!(
        h,
        ". {} written to the tables' CSV files.",
        plural(rows, "live row", "live rows")
    );
    h
}

/// The first paragraph: [`sentence_text`], and how rows lost are counted.
pub fn sentence(h: &mut String, rec: &Recovery) {
    let _ = writeln!(h, "<p class=\"lead\">{}</p>", esc(&sentence_text(rec)));
    if rec.tables.iter().any(|t| bad_pages(t) > 0) {
        h.push_str(
            "<p class=\"sub\">Rows lost are an estimate: where the lost leaf pages sit between \
             two good ones, from the rows of those neighbours (and the keys between them), \
             else the pages times the table&#39;s live rows per good leaf page. The rows lost \
             have keys strictly between the two named, which were both recovered. Rows of \
             damaged pages may be among the uncertain rows.</p>\n",
        );
    }
}

/// One `<span>` of a bar, `part` of `total`.
fn segment(h: &mut String, part: u64, total: u64, colour: &str, what: &str) {
    if part == 0 || total == 0 {
        return;
    }
    let w = 100.0 * part as f64 / total as f64;
    let _ = write!(
        h,
        "<span style=\"width:{w:.2}%;background:{colour}\" title=\"{} {what}\"></span>",
        num(part)
    );
}

/// The table of tables: rows per output file, leaf pages, estimated loss
/// and a proportional bar, with each table's notes.
pub fn tables(h: &mut String, rec: &Recovery) {
    if rec.tables.is_empty() {
        h.push_str("<p>No table recovered.</p>\n");
        return;
    }
    let names = display_names(rec);
    let _ = writeln!(
        h,
        "<div class=\"legend\"><span><span class=\"sw\" style=\"background:{C_LIVE}\"></span>\
         recovered (&lt;table&gt;.csv)</span><span><span class=\"sw\" style=\"background:{C_PARTIAL}\">\
         </span>partial (.partial.csv)</span><span><span class=\"sw\" style=\"background:{C_UNCERTAIN}\">\
         </span>uncertain (.uncertain.csv)</span><span><span class=\"sw\" style=\"background:{C_DELETED}\">\
         </span>deleted (.deleted.csv)</span><span><span class=\"sw\" style=\"background:{C_LOST}\">\
         </span>lost (estimate)</span></div>"
    );
    h.push_str(
        "<table>\n<tr><th class=\"n\">table</th><th>.csv</th><th>.deleted.csv</th>\
         <th>.uncertain.csv</th><th>.partial.csv</th><th>leaf pages</th>\
         <th>damaged</th><th>missing</th><th>lost (about)</th><th class=\"n\">rows</th></tr>\n",
    );
    let mut budget = NOTES_BUDGET;
    let mut ranges_budget = RANGES_BUDGET;
    for (t, name) in rec.tables.iter().zip(&names).take(TABLE_CAP) {
        let lost = t.lost_estimate();
        let lost_text = match lost {
            Some(0) => "0".to_string(),
            Some(n) => num(n),
            None => "?".to_string(),
        };
        let _ = write!(
            h,
            "<tr{}><td class=\"n\" title=\"{}.{}\">{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\"><div class=\"bar\">",
            if complete(t) { "" } else { " class=\"bad\"" },
            esc(&t.db),
            esc(&t.table),
            esc(name),
            num(t.rows_written as u64),
            num(t.deleted_rows as u64),
            num(t.uncertain_rows as u64),
            num(t.partial_rows as u64),
            num(t.leaf_pages as u64),
            num(t.leaf_pages_damaged as u64),
            num(t.leaf_pages_missing as u64),
            lost_text,
        );
        let parts = [
            (t.rows_written as u64, C_LIVE, "recovered"),
            (t.partial_rows as u64, C_PARTIAL, "partial"),
            (t.uncertain_rows as u64, C_UNCERTAIN, "uncertain"),
            (t.deleted_rows as u64, C_DELETED, "deleted"),
            (lost.unwrap_or(0), C_LOST, "lost (estimate)"),
        ];
        let total: u64 = parts.iter().map(|p| p.0).sum();
        for (n, c, what) in parts {
            segment(h, n, total, c, what);
        }
        h.push_str("</div></td></tr>\n");
        if !t.lost_key_ranges.is_empty() {
            h.push_str("<tr><td></td><td colspan=\"9\" class=\"r\">");
            super::lost::render(h, t, &mut ranges_budget);
            h.push_str("</td></tr>\n");
        }
        if !t.notes.is_empty() {
            h.push_str("<tr><td></td><td colspan=\"9\" class=\"r\"><ul class=\"notes\">");
            let shown = t.notes.len().min(NOTES_CAP).min(budget);
            budget -= shown;
            for n in &t.notes[..shown] {
                let _ = write!(h, "<li>{}</li>", esc(n));
            }
            if t.notes.len() > shown {
                let _ = write!(
                    h,
                    "<li>{} {} in report.json</li>",
                    if shown > 0 { "and" } else { "notes:" },
                    if shown > 0 {
                        format!("{} more", num((t.notes.len() - shown) as u64))
                    } else {
                        num(t.notes.len() as u64)
                    }
                );
            }
            h.push_str("</ul></td></tr>\n");
        }
    }
    h.push_str("</table>\n");
    if rec.tables.len() > TABLE_CAP {
        let _ = writeln!(
            h,
            "<p>and {} more tables (see report.json)</p>",
            num((rec.tables.len() - TABLE_CAP) as u64)
        );
    }
}

/// A capped `<ul>` of `items` under a heading paragraph.
fn list(h: &mut String, head: &str, items: &[String]) {
    if items.is_empty() {
        return;
    }
    let _ = write!(h, "<p>{head}</p>\n<ul class=\"notes\">");
    for i in items.iter().take(NOTES_CAP) {
        let _ = write!(h, "<li>{}</li>", esc(i));
    }
    if items.len() > NOTES_CAP {
        let _ = write!(
            h,
            "<li>and {} more in report.json</li>",
            num((items.len() - NOTES_CAP) as u64)
        );
    }
    h.push_str("</ul>\n");
}

/// Indexes no schema claimed, schemas without pages, schema errors and the
/// redo log.
pub fn others(h: &mut String, rec: &Recovery) {
    let unknown: Vec<String> = rec
        .unknown_indexes
        .iter()
        .map(|i| {
            format!(
                "space {} index {}: {} leaf pages, {} records",
                i.space_id, i.index_id, i.leaf_pages, i.records
            )
        })
        .collect();
    list(
        h,
        "Indexes with records but no schema (pass their CREATE TABLE with --schema):",
        &unknown,
    );
    list(
        h,
        "Schemas not tied to any pages:",
        &rec.tables_without_pages,
    );
    list(h, "Schema problems:", &rec.schema_errors);
    if let Some(r) = rec.redo.as_ref().filter(|r| r.worth_telling()) {
        let _ = writeln!(h, "<p>{}</p>", esc(&r.line()));
    }
}
