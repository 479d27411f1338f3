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

/// The summary sentence report.json's numbers give: `N of M tables
/// complete; users 83.3 %: about 491 rows lost in 4 pages; …`.
fn expected_sentence(rep: &serde_json::Value) -> String {
    let tables = rep["tables"].as_array().unwrap();
    let u = |t: &serde_json::Value, k: &str| t[k].as_u64().unwrap();
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
    for (t, name) in tables.iter().zip(&names) {
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
            // report.json's estimate: bad pages times live rows per good leaf.
            let lost = u(t, "rows_lost_estimate");
            let per_page = live as f64 / u(t, "leaf_pages") as f64;
            assert_eq!(lost, (bad as f64 * per_page).round() as u64);
            let pct = 100.0 * live as f64 / (live + lost) as f64;
            s += &format!(
                " {pct:.1} %: about {} row{} lost in {bad} page{}",
                num(lost),
                if lost == 1 { "" } else { "s" },
                if bad == 1 { "" } else { "s" }
            );
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
        sentence
            .starts_with("10 of 11 tables complete; users 83.3 %: about 491 rows lost in 4 pages"),
        "{sentence}"
    );
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
    let scanned = scan(&img);
    // The holes cut pages: some are found damaged.
    assert!(!scanned["damaged"].as_array().unwrap().is_empty());
    assert_map(&html, &rep, &scanned);
    assert_damage_list(&html, &scanned);
    assert_in_chromium(dir.path(), &out.join("report.html"), &sentence);
}
