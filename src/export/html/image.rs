//! The "Image" section of `report.html`: what report.json's `image` and
//! `seconds` hold, in a few lines — the path, size and format, the SHA-256
//! (with `--hash`), the partitions and filesystems found (and the layout's
//! notes, folded), and the seconds each stage took.

use std::fmt::Write as _;

use super::{bytes_text, esc, num, plural};
use crate::recover::Recovery;

/// Partitions, filesystems and layout notes listed; the rest counted.
const CAP: usize = 16;

/// The section (nothing when the recovery carries no image, as in tests
/// that call the library directly).
pub fn render(h: &mut String, rec: &Recovery) {
    let Some(img) = &rec.image else {
        return;
    };
    h.push_str("<section id=\"image\">\n<h2>Image</h2>\n<table class=\"kv\">\n");
    let row = |h: &mut String, k: &str, v: &str| {
        let _ = writeln!(h, "<tr><th>{k}</th><td>{v}</td></tr>");
    };
    row(
        h,
        "path",
        &format!("<span class=\"mono\">{}</span>", esc(&img.path)),
    );
    row(
        h,
        "size",
        &format!(
            "{} ({}), {}",
            bytes_text(img.size),
            plural(img.size, "byte", "bytes"),
            esc(img.format)
        ),
    );
    if let Some(sum) = &img.sha256 {
        row(
            h,
            "SHA-256",
            &format!("<span class=\"mono\">{}</span>", esc(sum)),
        );
    }
    let l = &img.layout;
    let parts: Vec<String> = l
        .partitions
        .iter()
        .take(CAP)
        .map(|p| {
            let scheme = serde_json::to_value(p.scheme)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let mut s = format!(
                "{}: {} at {} ({} bytes), {}, {}",
                p.number,
                bytes_text(p.len),
                bytes_text(p.start),
                num(p.start),
                scheme,
                p.type_name
            );
            if let Some(n) = p.name.as_deref().filter(|n| !n.is_empty()) {
                let _ = write!(s, ", \u{201c}{n}\u{201d}");
            }
            esc(&s)
        })
        .collect();
    row(
        h,
        "partitions",
        &lines(parts, l.partitions.len(), "none found"),
    );
    let fss: Vec<String> = l
        .filesystems
        .iter()
        .take(CAP)
        .map(|f| {
            let mut s = format!(
                "{} on partition {}, {} blocks",
                f.kind,
                f.partition,
                bytes_text(u64::from(f.block_size))
            );
            if let Some(label) = f.label.as_deref().filter(|n| !n.is_empty()) {
                let _ = write!(s, ", label \u{201c}{label}\u{201d}");
            }
            esc(&s)
        })
        .collect();
    let none = "none found (pages found by scanning the whole image)";
    row(h, "filesystems", &lines(fss, l.filesystems.len(), none));
    if let Some(sec) = &rec.seconds {
        row(
            h,
            "time",
            &format!(
                "{:.2} s finding pages (layout, scan, repair, redo), {:.2} s recovering rows \
                 (schemas, decoding, CSV)",
                sec.carve, sec.recover
            ),
        );
    }
    h.push_str("</table>\n");
    if !l.notes.is_empty() {
        let _ = write!(
            h,
            "<details><summary>{} about the partition tables and filesystems</summary>\
             <ul class=\"notes\">",
            plural(l.notes.len() as u64, "note", "notes")
        );
        for (who, note) in l.notes.iter().take(CAP) {
            let _ = write!(h, "<li>{}: {}</li>", esc(who), esc(&note.to_string()));
        }
        if l.notes.len() > CAP {
            let _ = write!(
                h,
                "<li>and {} more in report.json</li>",
                num((l.notes.len() - CAP) as u64)
            );
        }
        h.push_str("</ul></details>\n");
    }
    h.push_str("</section>\n");
}

/// The first [`CAP`] of `total` items, one a line, "and N more" after them,
/// `none` when there is none.
fn lines(mut shown: Vec<String>, total: usize, none: &str) -> String {
    if total > CAP {
        shown.push(format!("and {} more", num((total - CAP) as u64)));
    }
    if shown.is_empty() {
        shown.push(none.into());
    }
    shown.join("<br>")
}
