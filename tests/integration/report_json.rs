//! `report.json` against golden files: the damaged demo disk and two damage
//! recipes of the main image (holes5: zeroed blocks; bitflip1: one flipped
//! bit in many sectors, repaired). Everything a report holds is compared
//! except what changes from run to run: the image's path (written as
//! `IMAGE`) and the seconds each stage took.
//!
//! The lost key ranges are checked against the fixtures' truth: every row
//! of the truth missing from the recovered CSV lies strictly inside a
//! reported range, both bounds of every range are recovered rows, and the
//! estimate of a range between two good pages is the truly missing rows
//! within 2 %.
//!
//! After a deliberate change of the report, rewrite the golden files with
//! `SALVAGE_UPDATE_GOLDEN=1 cargo test --release --test integration report_json`
//! and review their diff.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;

/// The report of recovering `img`, with the varying parts replaced.
fn report(img: &Path, out: &Path) -> serde_json::Value {
    common::recover_with(img, out, &["-t", "2"], 0);
    let mut r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(r["version"], 1);
    let secs = r["seconds"].take();
    assert!(secs["carve"].as_f64().unwrap() >= 0.0);
    assert!(secs["recover"].as_f64().unwrap() >= 0.0);
    r.as_object_mut().unwrap().remove("seconds");
    assert_eq!(r["image"]["path"], img.display().to_string());
    r["image"]["path"] = "IMAGE".into();
    r
}

/// Compares `got` with `tests/golden/report/<name>.json` (or rewrites it).
fn golden(name: &str, got: &serde_json::Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/report")
        .join(format!("{name}.json"));
    let text = serde_json::to_string_pretty(got).unwrap() + "\n";
    if std::env::var_os("SALVAGE_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (SALVAGE_UPDATE_GOLDEN=1 writes it)",
            path.display()
        )
    });
    if want != text {
        let line = want
            .lines()
            .zip(text.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(want.lines().count().min(text.lines().count()));
        panic!(
            "{name}: report.json differs from {} from line {}:\n  want: {}\n  got:  {}\n\
             (SALVAGE_UPDATE_GOLDEN=1 rewrites the golden files after a deliberate change)",
            path.display(),
            line + 1,
            want.lines().nth(line).unwrap_or("<end>"),
            text.lines().nth(line).unwrap_or("<end>")
        );
    }
}

/// The table `db.table` of a report.
fn table<'a>(r: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    r["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| {
            format!(
                "{}.{}",
                t["db"].as_str().unwrap(),
                t["table"].as_str().unwrap()
            ) == name
        })
        .unwrap_or_else(|| panic!("no table {name}"))
}

/// The ids (first column, an integer) of a CSV; empty when it is absent.
fn ids(path: &Path) -> BTreeSet<i64> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return BTreeSet::new();
    };
    let (_, rows) = crate::rows_schema::read_truth_csv(&text);
    rows.iter()
        .map(|r| r[0].as_deref().unwrap().parse().unwrap())
        .collect()
}

/// Checks the lost key ranges of `db.table` in report `r` (recovered into
/// `out`) against the truth in `truth/<db>/<table>.csv`; returns each
/// range as (after, before, truly missing rows inside, estimate).
fn check_ranges(
    r: &serde_json::Value,
    out: &Path,
    truth: &Path,
    name: &str,
) -> Vec<(Option<i64>, Option<i64>, usize, u64)> {
    let t = table(r, name);
    let (db, tb) = name.split_once('.').unwrap();
    let want = ids(&truth.join(db).join(format!("{tb}.csv")));
    let got = ids(&out.join(db).join(format!("{tb}.csv")));
    let uncertain = ids(&out.join(db).join(format!("{tb}.uncertain.csv")));
    assert!(!want.is_empty(), "{name}: no truth");
    /// after, before, pages, rows_estimate, uncertain_rows.
    type Range = (Option<i64>, Option<i64>, u64, u64, u64);
    let ranges: Vec<Range> = t["lost_key_ranges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            let k = |f: &str| x[f].as_str().map(|s| s.parse::<i64>().unwrap());
            (
                k("after"),
                k("before"),
                x["pages"].as_u64().unwrap(),
                x["rows_estimate"].as_u64().unwrap(),
                x["uncertain_rows"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        t["lost_key_ranges_total"].as_u64().unwrap() as usize,
        ranges.len()
    );
    let inside = |id: i64, (a, b): (Option<i64>, Option<i64>)| {
        a.is_none_or(|a| id > a) && b.is_none_or(|b| id < b)
    };
    for id in want.difference(&got) {
        assert!(
            ranges.iter().any(|r| inside(*id, (r.0, r.1))),
            "{name}: row {id} is lost outside every range {ranges:?}"
        );
    }
    let mut out_ranges = Vec::new();
    for &(a, b, _, est, found) in &ranges {
        // The range's uncertain rows are those of .uncertain.csv there.
        assert_eq!(
            found as usize,
            uncertain.iter().filter(|&&id| inside(id, (a, b))).count(),
            "{name}: ({a:?}, {b:?}) uncertain rows"
        );
        for bound in [a, b].into_iter().flatten() {
            assert!(got.contains(&bound), "{name}: bound {bound} not recovered");
        }
        let missing = want
            .iter()
            .filter(|&&id| inside(id, (a, b)) && !got.contains(&id))
            .count();
        // Every row of the truth inside a range is lost.
        assert_eq!(
            missing,
            want.iter().filter(|&&id| inside(id, (a, b))).count(),
            "{name}: ({a:?}, {b:?}) holds recovered rows"
        );
        if a.is_some() && b.is_some() {
            let err = (est as f64 - missing as f64).abs();
            assert!(
                err <= (0.02 * missing as f64).max(3.0),
                "{name}: ({a:?}, {b:?}) estimate {est}, {missing} missing"
            );
        }
        out_ranges.push((a, b, missing, est));
    }
    // The links placed every lost page: the table's estimate is the sum.
    let pages: u64 = ranges.iter().map(|r| r.2).sum();
    let bad = t["leaf_pages_damaged"].as_u64().unwrap() + t["leaf_pages_missing"].as_u64().unwrap();
    assert_eq!(pages, bad, "{name}");
    assert_eq!(
        t["rows_lost_estimate"].as_u64().unwrap(),
        ranges.iter().map(|r| r.3).sum::<u64>(),
        "{name}"
    );
    out_ranges
}

#[test]
fn demo_disk_report_matches_its_golden_file() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("demo.img");
    std::fs::write(&img, common::unzstd("demo.img.zst")).unwrap();
    let out = dir.path().join("out");
    let r = report(&img, &out);
    // Real values, whatever the golden file says: the demo disk's users
    // table lost 4 leaf pages; its rows are the truth's minus those.
    let users = table(&r, "shop.users");
    assert_eq!(users["leaf_pages_missing"], 4);
    assert_eq!(users["rows_written"], 2456);
    let lost = users["rows_lost_estimate"].as_u64().unwrap();
    assert!((400..=600).contains(&lost), "estimate {lost}");
    // Two pairs of pages lost: ids 1,681–1,939 and 2,211–2,492 of the
    // truth are missing from users.csv.
    assert_eq!(users["key_columns"], serde_json::json!(["id"]));
    let truth = common::fixtures().join("demo/truth");
    assert_eq!(
        check_ranges(&r, &out, &truth, "shop.users"),
        [
            (Some(1680), Some(1940), 259, 259),
            (Some(2210), Some(2493), 282, 281)
        ]
    );
    // Its tablespace lists the lost pages among those not found.
    let space = r["tablespaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["file"] == "/var/lib/mysql/shop/users.ibd")
        .unwrap();
    assert_eq!(space["pages_expected"], 50);
    let ranges: Vec<[u64; 2]> = space["pages_not_found"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| [r[0].as_u64().unwrap(), r[1].as_u64().unwrap()])
        .collect();
    let holes: u64 = ranges.iter().map(|[a, b]| b - a + 1).sum();
    assert!(holes >= 4, "{ranges:?}");
    assert_eq!(r["image"]["format"], "raw");
    assert_eq!(r["image"]["layout"]["filesystems"][0]["kind"], "ext4");
    golden("demo", &r);
}

#[test]
fn damage_recipe_reports_match_their_golden_files() {
    let dir = tempfile::tempdir().unwrap();
    for (name, recipe) in [
        ("holes5", "images/damage/holes5.json"),
        ("bitflip1", "images/bytedamage/bitflip1.json"),
    ] {
        let img = common::damaged("images/main-ext4-modern.img.zst", recipe);
        let path = dir.path().join(format!("{name}.img"));
        std::fs::write(&path, &img).unwrap();
        let out = dir.path().join(name);
        let r = report(&path, &out);
        let users = table(&r, "shop.users");
        if name == "bitflip1" {
            assert!(users["rows_from"]["repaired_pages"].as_u64().unwrap() > 0);
            // Every page repaired: nothing lost.
            for t in r["tables"].as_array().unwrap() {
                assert_eq!(t["lost_key_ranges_total"], 0, "{}", t["table"]);
            }
        } else {
            let truth = common::fixtures().join("main/truth");
            let ranges = check_ranges(&r, &out, &truth, "shop.users");
            let bounds: Vec<_> = ranges.iter().map(|r| (r.0, r.1, r.2)).collect();
            assert_eq!(
                bounds,
                [
                    (Some(7160), Some(7431), 270),
                    (Some(7555), Some(7810), 254),
                    (Some(11880), Some(12416), 535),
                    (Some(16609), Some(17274), 664)
                ]
            );
            // Rows of three of the ranges found on damaged copies.
            let found: Vec<u64> = users["lost_key_ranges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["uncertain_rows"].as_u64().unwrap())
                .collect();
            assert_eq!(found, [37, 0, 36, 38]);
            // The first leaf page lost: the range is open below.
            assert_eq!(
                check_ranges(&r, &out, &truth, "charsets.cs_binary"),
                [(None, Some(27), 26, 10)]
            );
            assert_eq!(
                check_ranges(&r, &out, &truth, "charsets.cs_utf8mb4"),
                [(Some(5), Some(39), 33, 33)]
            );
            assert!(users["uncertain_rows"].as_u64().unwrap() > 0);
            // The 7 copies `scan` lists as damaged on this image.
            assert_eq!(r["damaged_pages_total"], 7);
            assert_eq!(r["damaged_pages"].as_array().unwrap().len(), 7);
        }
        golden(name, &r);
    }
}

/// `--hash`: the report names the image by its SHA-256, the same digest
/// coreutils' `sha256sum` gives.
#[test]
fn hash_is_the_images_sha256() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("demo.img");
    std::fs::write(&img, common::unzstd("demo.img.zst")).unwrap();
    let out = dir.path().join("out");
    common::recover_with(&img, &out, &["--hash"], 0);
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let sum = std::process::Command::new("sha256sum")
        .arg(&img)
        .output()
        .expect("sha256sum (coreutils)");
    let want = String::from_utf8(sum.stdout).unwrap();
    let want = want.split_whitespace().next().unwrap();
    assert_eq!(r["image"]["sha256"], want);
}

/// Two more recipes of the main image: `bitflip` damages one leaf page of
/// users beyond repair (its rows are read as uncertain, and still counted
/// lost), `first4m-zeroed` takes the first leaf page of a compressed table
/// (a range open below).
#[test]
fn lost_key_ranges_of_a_damaged_page_and_of_a_first_page() {
    let dir = tempfile::tempdir().unwrap();
    let truth = common::fixtures().join("main/truth");
    for (name, db_table, want) in [
        (
            "bitflip",
            "shop.users",
            (Some(10577), Some(10706), 128, 128),
        ),
        (
            "first4m-zeroed",
            "types.t_compressed_8",
            (None, Some(6), 5, 6),
        ),
    ] {
        let img = common::damaged(
            "images/main-ext4-modern.img.zst",
            &format!("images/damage/{name}.json"),
        );
        let path = dir.path().join(format!("{name}.img"));
        std::fs::write(&path, &img).unwrap();
        let out = dir.path().join(name);
        let r = report(&path, &out);
        assert_eq!(check_ranges(&r, &out, &truth, db_table), [want], "{name}");
        if name == "bitflip" {
            let users = table(&r, db_table);
            assert_eq!(users["leaf_pages_damaged"], 1);
            // The damaged page's rows, found but not proven.
            assert_eq!(users["uncertain_rows"], 128);
        }
    }
}
