//! `OUT/report.html`: the damage report readable at a glance. One
//! self-contained file (inline CSS and SVG, no scripts, a Content Security
//! Policy that fetches nothing) that works opened from disk:
//!
//! * what was read: the image, its partitions and filesystems, how long
//!   each stage took ([`image`]);
//! * a summary in words, then per table the rows of each output file, a
//!   bar of recovered / partial / uncertain / deleted / lost rows
//!   ([`summary`]) and the key ranges of the lost rows ([`lost`]);
//! * a map of the disk, coloured by what each byte range holds ([`map`]);
//! * the damaged pages, listed (capped at [`map::LIST_CAP`]).
//!
//! Written by `format!`/`write!` into a `String`; every name and note from
//! the image goes through [`esc`].

pub mod image;
pub mod lost;
pub mod map;
pub mod summary;

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use crate::carve::store::PageStore;
use crate::recover::Recovery;

/// Writes `OUT/report.html` for a recovery of an image of `image_size`
/// bytes named `image_name`, whose pages are in `store`.
pub fn write_html(
    out: &Path,
    rec: &Recovery,
    store: &PageStore,
    image_size: u64,
    image_name: &str,
) -> io::Result<()> {
    std::fs::create_dir_all(out)?;
    std::fs::write(
        out.join("report.html"),
        render(rec, store, image_size, image_name),
    )
}

/// The whole page.
pub fn render(rec: &Recovery, store: &PageStore, image_size: u64, image_name: &str) -> String {
    let survey = map::Survey::of(store, rec, image_size);
    let mut h = String::with_capacity(256 << 10);
    let title = format!("salvage report: {}", esc(image_name));
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{title}</h1>\n"
    );
    let _ = writeln!(
        h,
        "<p class=\"sub\">{} image, {} pages found ({} damaged).</p>",
        bytes_text(image_size),
        num(store.pages.len() as u64),
        num(survey.damaged_total),
    );
    image::render(&mut h, rec);
    h.push_str("<section id=\"summary\">\n<h2>Summary</h2>\n");
    summary::sentence(&mut h, rec);
    summary::tables(&mut h, rec);
    summary::others(&mut h, rec);
    h.push_str("</section>\n<section id=\"map\">\n<h2>Map of the disk</h2>\n");
    survey.render_map(&mut h, rec);
    h.push_str("</section>\n<section id=\"damage\">\n<h2>Damaged pages</h2>\n");
    survey.render_damage(&mut h, rec);
    h.push_str("</section>\n</body>\n</html>\n");
    h
}

const CSS: &str = "\
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;margin:24px auto;max-width:1140px;padding:0 16px}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #ddd}\
.sub{color:#666;margin:0}.lead{font-size:16px}\
table{border-collapse:collapse}td,th{padding:3px 8px;text-align:right;white-space:nowrap}\
th{font-weight:600;border-bottom:1px solid #ccc}td.n,th.n{text-align:left}\
tr.bad td.n{color:#b00}\
.bar{display:flex;width:140px;height:12px;background:#eee;border-radius:2px;overflow:hidden}\
.bar span{display:block;height:12px}\
.sw{display:inline-block;width:12px;height:12px;border-radius:2px;vertical-align:-1px;margin-right:5px;border:1px solid #0002}\
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;margin:8px 0}\
.mono,td.o{font-family:ui-monospace,monospace;font-size:12px}\
td.r{text-align:left;white-space:normal}\
svg{max-width:100%;height:auto}svg rect:hover{stroke:#000;stroke-width:1.5}\
details{margin:6px 0}summary{cursor:pointer}\
ul.notes{margin:4px 0;color:#555}ul.lost{margin:2px 0;color:#b00}\
table.kv th,table.kv td{text-align:left;white-space:normal;vertical-align:top}table.kv th{border:0;color:#555}";

/// Colour of recovered rows in the bars (also used in the legend).
pub(crate) const C_LIVE: &str = "#2e7d32";
pub(crate) const C_PARTIAL: &str = "#9ccc65";
pub(crate) const C_UNCERTAIN: &str = "#fbc02d";
pub(crate) const C_DELETED: &str = "#90a4ae";
pub(crate) const C_LOST: &str = "#d32f2f";

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            // Control characters (other than tab and newline) are not
            // allowed in HTML text.
            c if c.is_control() && c != '\n' && c != '\t' => o.push('\u{fffd}'),
            c => o.push(c),
        }
    }
    o
}

/// A count with thousands separators: `1,234,567`.
pub fn num(n: u64) -> String {
    let s = n.to_string();
    let mut o = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            o.push(',');
        }
        o.push(c);
    }
    o
}

/// A size in binary units: `512 B`, `16 KiB`, `1.5 GiB`.
pub fn bytes_text(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 || v.fract() == 0.0 {
        format!("{} {}", v as u64, UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `n thing` or `n things`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", num(n), if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">O'Neil & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;"
        );
        assert_eq!(esc("a\u{0}b"), "a\u{fffd}b");
    }

    /// A recovery of `n` tables of hostile names, each with many notes
    /// and bad pages: one made by [`crate::recover::recover`] from a
    /// schema and no pages, copied and filled in.
    fn big_recovery(n: usize) -> Recovery {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.img");
        std::fs::write(&path, vec![0u8; 4096]).unwrap();
        let image = crate::image::Image::open(&path, crate::image::ReadMode::Pread).unwrap();
        let (defs, _) = crate::schema::sql::parse_schema_lenient(
            "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10));",
            Some("db"),
            &Default::default(),
        );
        let opts = crate::recover::RecoverOptions {
            user_schemas: defs,
            ..Default::default()
        };
        let mut rec = crate::recover::recover(
            &image,
            &PageStore::default(),
            &Default::default(),
            &opts,
            &|_, _| {},
        );
        let one = rec.tables.pop().expect("the schema's table");
        rec.tables = (0..n)
            .map(|i| {
                let mut t = one.clone();
                t.db = "d<b>".to_string();
                t.table = format!("<script>alert({i})</script>&\"'");
                t.space_id = Some(i as u32 + 1);
                t.index_id = Some(i as u64 + 100);
                t.rows_written = 1000 + i;
                t.deleted_rows = 3;
                t.partial_rows = i % 2;
                t.uncertain_rows = 7;
                t.leaf_pages = 10;
                t.leaf_pages_damaged = 1;
                t.leaf_pages_missing = 2;
                t.notes = vec![format!("<b>note</b> {}", "x".repeat(200)); 50];
                t.lost_key_ranges = (0..1000)
                    .map(|j| crate::recover::lost::LostRange {
                        after: Some(format!("<k>{j}{}", "y".repeat(100))),
                        before: None,
                        pages: 1,
                        rows_estimate: 9,
                        uncertain_rows: 0,
                    })
                    .collect();
                t.lost_key_ranges_total = 5000;
                t
            })
            .collect();
        rec.tables_without_pages = vec!["<i>".to_string(); 500];
        rec.schema_errors = vec!["e".repeat(300); 500];
        rec
    }

    /// A 1 TiB image holding a page every 4 MiB (of every status, of the
    /// tables and not), a hundred thousand damaged.
    fn big_store(tables: u32) -> (PageStore, u64) {
        use crate::carve::{PageRecord, Reason, Status};
        let size = 1u64 << 40;
        let mut store = PageStore::default();
        let statuses = [
            Status::Ok,
            Status::Ok,
            Status::Damaged,
            Status::Repaired,
            Status::Reassembled,
        ];
        let n = (size >> 22) as u32;
        store.pages = (0..n)
            .map(|i| PageRecord {
                offset: (i as u64) << 22,
                lsn: i as u64,
                index_id: (i % tables) as u64 + 100,
                space_id: i % tables + 1,
                page_no: i,
                phys_size: 16384,
                logical_size: 16384,
                page_type: crate::innodb::fil::FIL_PAGE_INDEX,
                level: (i % 7 == 0) as u16,
                n_recs: 10,
                checksum: crate::innodb::checksum::ChecksumKind::Crc32c,
                status: statuses[i as usize % statuses.len()],
                reason: Reason::NoTrailer { found: 0 },
            })
            .collect();
        (store, size)
    }

    #[test]
    fn worst_case_stays_small_and_escaped() {
        let rec = big_recovery(5000);
        let (store, size) = big_store(5000);
        let t = std::time::Instant::now();
        let h = render(&rec, &store, size, "<disk>.img");
        let took = t.elapsed();
        assert!(h.len() < 5 << 20, "{} bytes", h.len());
        assert!(took.as_secs_f64() < 1.0, "{took:?}");
        assert!(!h.contains("<script>") && !h.contains("<b>") && !h.contains("<i>"));
        assert!(h.contains("&lt;script&gt;alert(0)&lt;/script&gt;&amp;&quot;&#39;"));
        assert!(
            h.contains("and 4,000 more tables (see report.json)"),
            "table cap"
        );
        assert!(
            h.contains("; and 4,980 more incomplete tables"),
            "sentence cap"
        );
        assert!(
            h.contains("<li>notes: 50 in report.json</li>"),
            "notes budget"
        );
        // 100 ranges of each of the first 20 tables, then none.
        assert_eq!(h.matches("rows lost after id &lt;k&gt;").count(), 2000);
        assert!(h.contains("<p class=\"sub\">and 4,900 more in report.json</p>"));
        assert!(h.contains("<p class=\"sub\">lost key ranges: 5,000 in report.json</p>"));
        assert!(h.matches("<rect ").count() <= map::MAX_CELLS as usize);
        let damaged = store.damaged().count() as u64;
        assert!(h.contains(&format!(
            "and {} more</p>",
            num(damaged - map::LIST_CAP as u64)
        )));
    }

    #[test]
    fn numbers_and_sizes() {
        assert_eq!(num(0), "0");
        assert_eq!(num(999), "999");
        assert_eq!(num(1000), "1,000");
        assert_eq!(num(39_000_123), "39,000,123");
        assert_eq!(bytes_text(512), "512 B");
        assert_eq!(bytes_text(16384), "16 KiB");
        assert_eq!(bytes_text(1 << 40), "1 TiB");
        assert_eq!(bytes_text(3 << 29), "1.5 GiB");
    }
}
