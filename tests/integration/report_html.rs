//! `OUT/report.html`: recovered from the damaged demo disk and from the
//! `holes5` damage recipe on the modern ext4 image, checked in plain Rust
//! (balanced tags, the summary sentence with report.json's numbers, a map
//! cell of every kind the image holds, every damaged page `salvage scan`
//! lists, nothing fetched from elsewhere) and then loaded in headless
//! Chromium from a file:// URL (the DOM has the summary and the map, and
//! the console is silent).

use std::path::Path;
use std::process::Command;

use super::common;

/// Recovers `img` into `out` and returns (report.html, report.json).
fn recover(img: &Path, out: &Path) -> (String, serde_json::Value) {
    common::recover_with(img, out, &[] as &[&str], 0);
    let html = std::fs::read_to_string(out.join("report.html")).expect("report.html written");
    let json = std::fs::read(out.join("report.json")).unwrap();
    (html, serde_json::from_slice(&json).unwrap())
}

/// `salvage scan IMAGE --json`.
fn scan(img: &Path) -> serde_json::Value {
    let o = assert_cmd::Command::cargo_bin("salvage")
        .unwrap()
        .arg("scan")
        .arg(img)
        .arg("--json")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// `1,234`.
fn num(n: u64) -> String {
    let s = n.to_string();
    let mut o = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            o.push(',');
        }
        o.push(c);
    }
    o
}

/// Checks that every tag the report opens is closed in order (void
/// elements and `<!DOCTYPE>` aside; `<style>` and `<title>` hold text).
fn assert_balanced(html: &str) {
    const VOID: [&str; 6] = ["meta", "br", "img", "input", "link", "hr"];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("unterminated tag");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack
                .pop()
                .unwrap_or_else(|| panic!("</{name}> with nothing open"));
            assert_eq!(open, name.trim(), "</{name}> closes <{open}>");
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        assert!(!name.is_empty(), "odd tag <{tag}>");
        assert!(!tag.contains('<'), "'<' inside tag <{tag}>");
        if VOID.contains(&name.as_str()) || tag.ends_with('/') {
            continue;
        }
        if name == "style" {
            // CSS text, up to its end tag.
            let e = rest.find("</style>").expect("</style>");
            assert!(!rest[..e].contains('<'), "markup inside <style>");
            rest = &rest[e + "</style>".len()..];
            continue;
        }
        stack.push(name);
    }
    assert!(stack.is_empty(), "left open: {stack:?}");
}

/// No `src`, `href` or CSS `url(` pointing at the network, and the CSP
/// that forbids fetching anything.
fn assert_self_contained(html: &str) {
    assert!(html.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:\">"
    ));
    for attr in ["src=", "href=", "url("] {
        for (i, _) in html.match_indices(attr) {
            let v = html[i + attr.len()..].trim_start_matches(['"', '\'']);
            assert!(
                !v.starts_with("http://") && !v.starts_with("https://") && !v.starts_with("//"),
                "network reference: {}",
                &html[i..(i + 80).min(html.len())]
            );
        }
    }
    assert!(!html.contains("<script"), "no script needed");
    assert!(!html.contains("<link"), "no linked resource");
}

/// A key of report.json as the report shows it: an integer with
/// thousands separators (the damaged tables of these fixtures have an
/// integer key).
fn key_shown(k: &str) -> String {
    match k.parse::<i64>() {
        Ok(n) if n < 0 => format!("-{}", num(n.unsigned_abs())),
        Ok(n) => num(n as u64),
        Err(_) => k.to_string(),
    }
}

/// Where a lost key range of report.json is, in words: `between id 1,680
/// and 1,940`.
fn where_words(t: &serde_json::Value, r: &serde_json::Value) -> String {
    let cols: Vec<&str> = t["key_columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let name = if cols.len() == 1 {
        cols[0].to_string()
    } else {
        format!("({})", cols.join(", "))
    };
    match (r["after"].as_str(), r["before"].as_str()) {
        (Some(a), Some(b)) => format!("between {name} {} and {}", key_shown(a), key_shown(b)),
        (None, Some(b)) => format!("before {name} {}", key_shown(b)),
        (Some(a), None) => format!("after {name} {}", key_shown(a)),
        (None, None) => "somewhere in the table".to_string(),
    }
}

/// The summary sentence report.json's numbers give: `N of M tables
/// complete; users 83.3 %: about 491 rows lost in 4 pages, between id …;
/// …` (the key range named for the table with most rows lost).
fn expected_sentence(rep: &serde_json::Value) -> String {
    let tables = rep["tables"].as_array().unwrap();
    let u = |t: &serde_json::Value, k: &str| t[k].as_u64().unwrap();
    // The table with most rows lost (the first of equals).
    let mut worst: Option<(usize, u64)> = None;
    for (i, t) in tables.iter().enumerate() {
        let lost = t["rows_lost_estimate"].as_u64().unwrap_or(0);
        let bad = u(t, "leaf_pages_damaged") + u(t, "leaf_pages_missing");
        if bad > 0 && lost > 0 && worst.is_none_or(|(_, w)| lost > w) {
            worst = Some((i, lost));
        }
    }
    let names: Vec<String> = tables
        .iter()
        .map(|t| {
            let name = t["table"].as_str().unwrap();
            let same = tables
                .iter()
                .filter(|o| o["table"].as_str() == Some(name))
                .count();
            if same > 1 {
                format!("{}.{name}", t["db"].as_str().unwrap())
            } else {
                name.to_string()
            }
        })
        .collect();
    let (mut done, mut gone) = (0, 0);
    let mut parts = Vec::new();
    for (i, (t, name)) in tables.iter().zip(&names).enumerate() {
        let bad = u(t, "leaf_pages_damaged") + u(t, "leaf_pages_missing");
        let partial = u(t, "partial_rows");
        let rows = [
            "rows_written",
            "deleted_rows",
            "uncertain_rows",
            "partial_rows",
        ];
        if u(t, "leaf_pages") + bad + rows.iter().map(|k| u(t, k)).sum::<u64>() == 0 {
            gone += 1;
            continue;
        }
        if bad == 0 && partial == 0 {
            done += 1;
            continue;
        }
        let mut s = name.clone();
        let live = u(t, "rows_written") + partial;
        if bad > 0 {
            // report.json's estimate: the lost key ranges' rows, and the
            // bad pages outside them times live rows per good leaf.
            let lost = u(t, "rows_lost_estimate");
            let ranges = t["lost_key_ranges"].as_array().unwrap();
            let placed: u64 = ranges.iter().map(|r| u(r, "pages")).sum();
            let rows: u64 = ranges.iter().map(|r| u(r, "rows_estimate")).sum();
            let per_page = live as f64 / u(t, "leaf_pages") as f64;
            let rest = bad.saturating_sub(placed);
            assert_eq!(lost, rows + (rest as f64 * per_page).round() as u64);
            let pct = 100.0 * live as f64 / (live + lost) as f64;
            s += &format!(
                " {pct:.1} %: about {} row{} lost in {bad} page{}",
                num(lost),
                if lost == 1 { "" } else { "s" },
                if bad == 1 { "" } else { "s" }
            );
            if worst.is_some_and(|(w, _)| w == i) && !ranges.is_empty() {
                // The range with most rows (the first of equals).
                let mut most = &ranges[0];
                for r in ranges {
                    if u(r, "rows_estimate") > u(most, "rows_estimate") {
                        most = r;
                    }
                }
                if ranges.len() == 1 {
                    s += &format!(", {}", where_words(t, most));
                } else {
                    s += &format!(
                        ", in {} key ranges, the most {}",
                        ranges.len(),
                        where_words(t, most)
                    );
                }
            }
        }
        if partial > 0 {
            s += &format!(
                "{} {partial} row{} with columns that could not be decoded",
                if bad > 0 { ";" } else { ":" },
                if partial == 1 { "" } else { "s" }
            );
        }
        let unc = u(t, "uncertain_rows");
        if unc > 0 && bad > 0 {
            s += &format!(
                " ({} row{} uncertain)",
                num(unc),
                if unc == 1 { "" } else { "s" }
            );
        }
        parts.push(s);
    }
    let mut out = format!("{done} of {} tables complete", tables.len() - gone);
    for p in parts {
        out += "; ";
        out += &p;
    }
    if gone > 0 {
        out += &format!(
            "; no page found of {gone} more table{}",
            if gone == 1 { "" } else { "s" }
        );
    }
    out
}

/// The image section: report.json's path, size, format, partitions,
/// filesystems and seconds.
fn assert_image_section(html: &str, rep: &serde_json::Value) {
    let at = html
        .find("<section id=\"image\">")
        .expect("an image section");
    let sec = &html[at..at + html[at..].find("</section>").unwrap()];
    let img = &rep["image"];
    assert!(sec.contains(&format!(
        "<tr><th>path</th><td><span class=\"mono\">{}</span></td></tr>",
        img["path"].as_str().unwrap()
    )));
    assert!(sec.contains(&format!(
        "({} bytes), {}</td>",
        num(img["size"].as_u64().unwrap()),
        img["format"].as_str().unwrap()
    )));
    let p = &img["layout"]["partitions"][0];
    assert!(sec.contains(&format!(
        "<tr><th>partitions</th><td>1: {} MiB at 1 MiB (1,048,576 bytes), {}, {}",
        p["len"].as_u64().unwrap() >> 20,
        p["scheme"].as_str().unwrap(),
        p["type_name"].as_str().unwrap()
    )));
    let f = &img["layout"]["filesystems"][0];
    assert!(sec.contains(&format!(
        "<tr><th>filesystems</th><td>{} on partition 1, 4 KiB blocks",
        f["kind"].as_str().unwrap()
    )));
    let s = &rep["seconds"];
    assert!(sec.contains(&format!(
        "<tr><th>time</th><td>{:.2} s finding pages",
        s["carve"].as_f64().unwrap()
    )));
    assert!(sec.contains(&format!(
        "{:.2} s recovering rows",
        s["recover"].as_f64().unwrap()
    )));
    assert_eq!(sec.contains("SHA-256"), img.get("sha256").is_some());
    assert!(
        at < html.find("<section id=\"summary\">").unwrap(),
        "near the top"
    );
}

/// Each table's row: its name, then the rows of `.csv`, `.deleted.csv`,
/// `.uncertain.csv`, `.partial.csv` and its leaf pages.
fn assert_table_rows(html: &str, rep: &serde_json::Value) {
    for t in rep["tables"].as_array().unwrap() {
        let u = |k: &str| num(t[k].as_u64().unwrap());
        let head = format!(
            "title=\"{}.{}\">",
            t["db"].as_str().unwrap(),
            t["table"].as_str().unwrap()
        );
        let at = html
            .find(&head)
            .unwrap_or_else(|| panic!("no row for {head}"));
        let row = &html[at..at + html[at..].find("</tr>").unwrap()];
        let cells = format!(
            "</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            u("rows_written"),
            u("deleted_rows"),
            u("uncertain_rows"),
            u("partial_rows"),
            u("leaf_pages"),
            u("leaf_pages_damaged"),
            u("leaf_pages_missing")
        );
        assert!(row.contains(&cells), "{head}: {row}");
    }
}

/// The `class` of every rect of the map.
fn rect_classes(html: &str) -> Vec<String> {
    let svg = &html[html.find("<svg").expect("an svg")..html.find("</svg>").unwrap()];
    svg.match_indices("<rect ")
        .map(|(i, _)| {
            let r = &svg[i..];
            let c = r.find("class=\"").unwrap() + 7;
            r[c..c + r[c..].find('"').unwrap()].to_string()
        })
        .collect()
}

/// A cell of each kind the image holds: from `salvage scan --json`'s page
/// statuses, and each table with good leaf pages in its legend colour.
fn assert_map(html: &str, rep: &serde_json::Value, scanned: &serde_json::Value) {
    let classes = rect_classes(html);
    assert!(classes.len() <= 4096, "{} cells", classes.len());
    let has = |want: &[&str]| {
        classes
            .iter()
            .any(|c| c.split(' ').any(|k| want.contains(&k)))
    };
    let total = |k: &str| -> u64 {
        scanned["tablespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t[k].as_u64().unwrap())
            .sum()
    };
    assert!(total("ok") > 0);
    assert!(has(&["ko"]), "other InnoDB pages");
    assert!(has(&["ke"]), "no page found");
    if total("damaged") > 0 {
        assert!(has(&["kd"]), "damaged");
    }
    if total("repaired") > 0 {
        assert!(has(&["kr", "xr"]), "repaired");
    }
    if total("reassembled") > 0 {
        assert!(has(&["ka", "xa"]), "reassembled");
    }
    // Each table with good leaf pages: the legend's swatch colour is the
    // fill of a class some cell has.
    let style = &html[html.find("<svg").unwrap()..];
    let style = &style[..style.find("</style>").unwrap()];
    let mut tables = 0;
    for t in rep["tables"].as_array().unwrap() {
        if t["leaf_pages"].as_u64().unwrap() == 0 {
            continue;
        }
        let name = t["table"].as_str().unwrap();
        let Some(at) = html.find(&format!("></span>{name} (")) else {
            continue; // a table sharing a hue (more than 40 on the map)
        };
        let sw = &html[..at];
        let colour = &sw[sw.rfind("background:").unwrap() + 11..sw.rfind('"').unwrap()];
        let rule = format!("{{fill:{colour}}}");
        let r = style
            .find(&rule)
            .unwrap_or_else(|| panic!("{name}: no {rule}"));
        let class = &style[style[..r].rfind('.').unwrap() + 1..r];
        assert!(has(&[class]), "{name}: no cell of class {class}");
        tables += 1;
    }
    assert!(tables >= 5, "{tables} tables on the map");
}

/// Every damaged page `salvage scan` lists is in the damage list.
fn assert_damage_list(html: &str, scanned: &serde_json::Value) {
    let damaged = scanned["damaged"].as_array().unwrap();
    for d in damaged {
        let off = d["offset"].as_u64().unwrap();
        let row = format!(
            "<td class=\"o\">0x{off:x}</td><td>{}</td><td>{}</td>",
            d["space_id"], d["page_no"]
        );
        assert!(html.contains(&row), "damaged page at {off} not listed");
    }
    if damaged.is_empty() {
        assert!(html.contains("No damaged page found."));
    }
}

/// `chromium --headless --dump-dom file://…`: (DOM, stderr).
fn chromium_dom(file: &Path, profile: &Path) -> (String, String) {
    let o = Command::new("timeout")
        .arg("120")
        .arg("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", file.display()))
        .output();
    let o = match o {
        Ok(o) => o,
        Err(e) => panic!(
            "cannot run chromium ({e}); scripts/test.sh installs it (apt-get install chromium)"
        ),
    };
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(
        o.status.success(),
        "chromium failed ({:?}); scripts/test.sh installs it (apt-get install chromium): {err}",
        o.status
    );
    (String::from_utf8_lossy(&o.stdout).to_string(), err)
}

/// Console messages, blocked loads and network errors chromium logged.
fn console_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            ["CONSOLE", "Uncaught", "Refused to", "violates", "ERR_"]
                .iter()
                .any(|k| l.contains(k))
        })
        .collect()
}

fn assert_in_chromium(dir: &Path, html_path: &Path, sentence: &str) {
    assert!(
        Command::new("chromium").arg("--version").output().is_ok(),
        "chromium is not installed: scripts/test.sh installs it (apt-get install chromium)"
    );
    let (dom, err) = chromium_dom(html_path, &dir.join("profile"));
    assert!(dom.contains(sentence), "DOM lacks the summary: {sentence}");
    assert!(dom.contains("<svg"), "DOM lacks the map");
    assert!(dom.contains("<rect"), "DOM lacks the cells");
    let bad = console_errors(&err);
    assert!(bad.is_empty(), "console: {bad:#?}");
}

#[test]
fn demo_disk_report() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("demo.img");
    std::fs::write(&img, common::unzstd("demo.img.zst")).unwrap();
    // A schema of a table the disk does not hold: listed, not complete.
    let nowhere = dir.path().join("nowhere.sql");
    std::fs::write(
        &nowhere,
        "CREATE TABLE nowhere (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE=InnoDB;\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    common::recover_with(
        &img,
        &out,
        &[std::ffi::OsStr::new("--schema"), nowhere.as_os_str()],
        0,
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let rep: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_balanced(&html);
    assert_self_contained(&html);
    let sentence = expected_sentence(&rep);
    assert!(
        sentence.ends_with("; no page found of 1 more table"),
        "{sentence}"
    );
    assert!(html.contains(">nowhere</td><td>0</td><td>0</td><td>0</td><td>0</td><td>0</td>"));
    // The demo disk: users lost 4 leaf pages, the other tables are whole.
    assert!(
        sentence.starts_with(
            "10 of 11 tables complete; users 82.0 %: about 540 rows lost in 4 pages, \
             in 2 key ranges, the most between id 2,210 and 2,493"
        ),
        "{sentence}"
    );
    // Under the users bar, its two lost key ranges (ids 1,681–1,939 and
    // 2,211–2,492 of the truth are not in users.csv; report_json checks).
    let users = &html[html.find("title=\"shop.users\"").unwrap()..];
    let users = &users[..users.find("</table>").unwrap()];
    assert!(
        users.contains(
            "<ul class=\"lost\"><li>about 259 rows lost between id 1,680 and 1,940 (2 pages)</li>\
             <li>about 281 rows lost between id 2,210 and 2,493 (2 pages)</li></ul>"
        ),
        "{users}"
    );
    assert_image_section(&html, &rep);
    assert!(
        html.contains(&format!("<p class=\"lead\">{sentence}. ")),
        "{sentence}"
    );
    assert!(html.contains(">users</td><td>2,456</td><td>13</td>"));
    assert_table_rows(&html, &rep);
    let scanned = scan(&img);
    assert_map(&html, &rep, &scanned);
    assert_damage_list(&html, &scanned);
    assert!(html.len() < 1 << 20, "{} bytes", html.len());
    assert_in_chromium(dir.path(), &out.join("report.html"), &sentence);

    // The detector sees what the CSP blocks: the same report with an image
    // from the network logs a console message.
    let bad = html.replacen("<h1>", "<img src=\"http://example.invalid/x.png\"><h1>", 1);
    let bad_path = dir.path().join("bad.html");
    std::fs::write(&bad_path, bad).unwrap();
    let (_, err) = chromium_dom(&bad_path, &dir.path().join("profile2"));
    assert!(
        console_errors(&err)
            .iter()
            .any(|l| l.contains("example.invalid")),
        "a blocked image is not reported: {err}"
    );
}

#[test]
fn holes_recipe_report() {
    let dir = tempfile::tempdir().unwrap();
    let recipe: serde_json::Value = serde_json::from_slice(
        &std::fs::read(common::fixtures().join("images/damage/holes5.json")).unwrap(),
    )
    .unwrap();
    let mut bytes = common::unzstd(recipe["base"].as_str().unwrap());
    common::apply_damage(&mut bytes, &recipe);
    let img = dir.path().join("holes5.img");
    std::fs::write(&img, bytes).unwrap();
    let out = dir.path().join("out");
    let (html, rep) = recover(&img, &out);
    assert_balanced(&html);
    assert_self_contained(&html);
    let sentence = expected_sentence(&rep);
    assert!(
        html.contains(&format!("<p class=\"lead\">{sentence}. ")),
        "{sentence}"
    );
    assert_table_rows(&html, &rep);
    assert_image_section(&html, &rep);
    // Four key ranges of users lost; the two between pages that hold more
    // rows than the pages the links name say "at least".
    assert!(
        sentence.contains(
            "users 91.4 %: about 1,718 rows lost in 8 pages, in 4 key ranges, \
             the most between id 16,609 and 17,274 (111 rows uncertain)"
        ),
        "{sentence}"
    );
    for words in [
        "about 269 rows lost between id 7,160 and 7,431 (2 pages; 37 of them in .uncertain.csv)",
        "about 533 rows lost between id 11,880 and 12,416 (at least 2 pages; 36 of them in .uncertain.csv)",
        "about 10 rows lost before id 27 (1 page)",
    ] {
        assert!(html.contains(&format!("<li>{words}</li>")), "{words}");
    }
    // More than three ranges: the fourth is folded.
    assert!(html.contains(
        "<details><summary>1 more lost key ranges</summary><ul class=\"lost\">\
         <li>about 662 rows lost between id 16,609 and 17,274 (at least 2 pages; 38 of them in .uncertain.csv)</li>"
    ));
    let scanned = scan(&img);
    // The holes cut pages: some are found damaged.
    assert!(!scanned["damaged"].as_array().unwrap().is_empty());
    assert_map(&html, &rep, &scanned);
    assert_damage_list(&html, &scanned);
    assert_in_chromium(dir.path(), &out.join("report.html"), &sentence);
}
