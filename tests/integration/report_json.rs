//! `report.json` against golden files: the damaged demo disk and two damage
//! recipes of the main image (holes5: zeroed blocks; bitflip1: one flipped
//! bit in many sectors, repaired). Everything a report holds is compared
//! except what changes from run to run: the image's path (written as
//! `IMAGE`) and the seconds each stage took.
//!
//! After a deliberate change of the report, rewrite the golden files with
//! `SALVAGE_UPDATE_GOLDEN=1 cargo test --release --test integration report_json`
//! and review their diff.

use crate::common;

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

#[test]
fn demo_disk_report_matches_its_golden_file() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("demo.img");
    std::fs::write(&img, common::unzstd("demo.img.zst")).unwrap();
    let r = report(&img, &dir.path().join("out"));
    // Real values, whatever the golden file says: the demo disk's users
    // table lost 4 leaf pages; its rows are the truth's minus those.
    let users = table(&r, "shop.users");
    assert_eq!(users["leaf_pages_missing"], 4);
    assert_eq!(users["rows_written"], 2456);
    let lost = users["rows_lost_estimate"].as_u64().unwrap();
    assert!((400..=600).contains(&lost), "estimate {lost}");
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
        let mut img = common::unzstd("images/main-ext4-modern.img.zst");
        let recipe: serde_json::Value =
            serde_json::from_slice(&std::fs::read(common::fixtures().join(recipe)).unwrap())
                .unwrap();
        common::apply_damage(&mut img, &recipe);
        let path = dir.path().join(format!("{name}.img"));
        std::fs::write(&path, &img).unwrap();
        let r = report(&path, &dir.path().join(name));
        let users = table(&r, "shop.users");
        if name == "bitflip1" {
            assert!(users["rows_from"]["repaired_pages"].as_u64().unwrap() > 0);
        } else {
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
