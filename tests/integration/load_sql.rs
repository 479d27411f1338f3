//! load.sql puts a recovery back into a real MariaDB server: the test starts
//! one (scripts/fixtures/load_check.py, a private data directory on a unix
//! socket), runs schema.sql and load.sql, dumps every table in the truth's
//! CSV convention and scores it against the fixture truth.

use crate::common;

use std::path::Path;

use assert_cmd::Command;

/// Runs `out`'s schema.sql and load.sql in a fresh MariaDB server
/// (scripts/fixtures/load_check.py), dumps every table into `dump` in the
/// truth's convention and scores it against `truth`.
fn reload(out: &Path, dump: &Path, truth: &Path) -> salvage::score::ScoreReport {
    common::mariadb_script("load_check.py", &[out, dump]);
    salvage::score::score_dirs(dump, truth).unwrap()
}

#[test]
fn load_sql_reloads_every_table_into_mariadb() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("main.img");
    std::fs::write(&img, common::unzstd("images/main-ext4-modern.img.zst")).unwrap();
    let truth = common::fixtures().join("main/truth");
    let out = dir.path().join("out");
    Command::cargo_bin("salvage")
        .unwrap()
        .arg("recover")
        .arg(&img)
        .arg("-o")
        .arg(&out)
        .arg("--schema")
        .arg(truth.join("schema.sql"))
        .assert()
        .success();
    let score = reload(&out, &dir.path().join("dump"), &truth);
    eprintln!("{score}");
    for t in score.tables.iter().filter(|t| !t.deleted) {
        // A string whose whole text is \N (written "\N") reloads as NULL:
        // LOAD DATA cannot tell it from NULL once the quotes are gone.
        let text = std::fs::read_to_string(truth.join(&t.file)).unwrap();
        let literal_n = text.lines().filter(|l| l.contains("\"\\N\"")).count();
        assert!(
            t.matched_rows + literal_n >= t.truth_rows,
            "{}: {t}",
            t.table
        );
        assert!(t.wrong_rows + t.extra_rows <= literal_n, "{}: {t}", t.table);
    }
}

/// On a disk with lost pages (the `holes5` recipe), the commented-out
/// section of load.sql loads the uncertain rows too: enabled, the server
/// takes every row of `users.csv` and `users.uncertain.csv` without a
/// duplicate key, and every one of them is a live row of the truth.
#[test]
fn load_sql_uncertain_section_loads_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let mut img = common::unzstd("images/main-ext4-modern.img.zst");
    let recipe = common::fixtures().join("images/damage/holes5.json");
    let recipe: serde_json::Value =
        serde_json::from_slice(&std::fs::read(recipe).unwrap()).unwrap();
    common::apply_damage(&mut img, &recipe);
    let path = dir.path().join("holes5.img");
    std::fs::write(&path, &img).unwrap();
    let truth = common::fixtures().join("main/truth");
    let out = dir.path().join("out");
    Command::cargo_bin("salvage")
        .unwrap()
        .arg("recover")
        .arg(&path)
        .arg("-o")
        .arg(&out)
        .arg("--table")
        .arg("shop.users")
        .assert()
        .success();
    let count = |f: &str| {
        csv::Reader::from_path(out.join("shop").join(f))
            .map(|mut r| r.records().count())
            .unwrap_or(0)
    };
    let (live, uncertain) = (count("users.csv"), count("users.uncertain.csv"));
    assert!(
        uncertain > 0,
        "holes5 leaves no uncertain rows of shop.users"
    );
    // Enable the uncertain section: drop the "-- " of its statements.
    let load = std::fs::read_to_string(out.join("load.sql")).unwrap();
    let (head, tail) = load
        .split_once("-- Uncertain rows")
        .expect("load.sql has an uncertain section");
    let enabled: String = tail
        .lines()
        .filter(|l| l.starts_with("-- LOAD") || l.starts_with("--   "))
        .map(|l| l.strip_prefix("-- ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(out.join("load.sql"), format!("{head}{enabled}\n")).unwrap();
    let score = reload(&out, &dir.path().join("dump"), &truth);
    let users = score.table("shop.users").unwrap();
    assert_eq!(users.recovered_rows, live + uncertain, "{users}");
    assert_eq!(users.matched_rows, live + uncertain, "{users}");
    assert_eq!(users.wrong_rows + users.extra_rows, 0, "{users}");
}
