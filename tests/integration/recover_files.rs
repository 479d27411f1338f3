//! `salvage recover` reading tablespaces through their files' block maps:
//! on a nearly full ext4 disk whose InnoDB files lie in hundreds of
//! fragments (pages straddle them), every live row comes back, none
//! invented; a qcow2 copy gives the same CSVs as the raw disk.

use crate::common;
use crate::fs_view::{disk, qcow2};

use std::path::Path;

use salvage::score::score_dirs;

fn csvs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for f in common::files_with_ext(dir, ".csv") {
        let rel = f.strip_prefix(dir).unwrap().display().to_string();
        out.push((rel, std::fs::read(&f).unwrap()));
    }
    out.sort();
    out
}

#[test]
fn fragmented_disk_every_live_row_back() {
    let dir = tempfile::tempdir().unwrap();
    let img = disk(dir.path(), "images/main-ext4-fragmented.img.zst", None);
    let truth = common::fixtures().join("main/truth");
    for schema in [true, false] {
        let out = dir.path().join(format!("out-{schema}"));
        let schema_arg = truth.join("schema.sql").display().to_string();
        let args: Vec<&str> = if schema {
            vec!["--schema", &schema_arg]
        } else {
            vec![]
        };
        common::recover_with(&img, &out, &args, 0);
        let r = score_dirs(&out, &truth).unwrap();
        eprintln!("{r}");
        for t in r.tables.iter().filter(|t| !t.deleted) {
            assert_eq!(
                t.matched_rows, t.truth_rows,
                "{} (schema {schema}): {t}",
                t.table
            );
            assert_eq!(t.recovered_rows, t.matched_rows, "{}: extra rows", t.table);
        }
        for t in r.tables.iter().filter(|t| t.deleted) {
            assert_eq!(
                t.recovered_rows, t.matched_rows,
                "{}: invented deleted rows",
                t.table
            );
        }
        // The report says which file each table's pages came from.
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
        let users = report["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == "users" && t["db"] == "shop")
            .unwrap();
        assert_eq!(users["pages_from"]["file"], "/var/lib/mysql/shop/users.ibd");
        assert_eq!(users["pages_from"]["partition"], 1);
        assert_eq!(users["pages_from"]["fs"], "ext4");
        assert!(users["pages_from"]["through_file_map"].as_u64().unwrap() > 50);
        assert_eq!(users["pages_from"]["origin"], "file");
    }
}

#[test]
fn qcow2_copy_recovers_byte_identical_csvs() {
    let dir = tempfile::tempdir().unwrap();
    let img = disk(dir.path(), "images/main-ext4-fragmented.img.zst", None);
    let raw_out = dir.path().join("raw");
    common::recover_with(&img, &raw_out, &[] as &[&str], 0);
    for compressed in [false, true] {
        let q = qcow2(&img, compressed);
        let out = dir.path().join(format!("q{compressed}"));
        common::recover_with(&q, &out, &[] as &[&str], 0);
        let (a, b) = (csvs(&raw_out), csvs(&out));
        assert!(a.len() > 20);
        assert_eq!(
            a.iter().map(|x| &x.0).collect::<Vec<_>>(),
            b.iter().map(|x| &x.0).collect::<Vec<_>>()
        );
        for (x, y) in a.iter().zip(&b) {
            assert!(x.1 == y.1, "{} differs between raw and qcow2", x.0);
        }
    }
}

/// `scan` of the fragmented disk: no page is left damaged (the raw carver
/// alone reports hundreds `no trailer`), and every page of `shop.users`
/// names its file: `users.ibd` at its own page number, or `ibdata1` for the
/// copies in the doublewrite buffer.
#[test]
fn scan_names_the_file_and_file_page_of_every_page() {
    let dir = tempfile::tempdir().unwrap();
    let img = disk(dir.path(), "images/main-ext4-fragmented.img.zst", None);
    let o = assert_cmd::Command::cargo_bin("salvage")
        .unwrap()
        .args(["scan", "--list-pages"])
        .arg(&img)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let mut users = 0;
    for line in String::from_utf8(o.stdout).unwrap().lines() {
        let p: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_ne!(p["status"], "damaged", "{line}");
        if p["space_id"] == 23 {
            if p["file"] == "/var/lib/mysql/shop/users.ibd" {
                users += 1;
                assert_eq!(p["file_page"], p["page_no"], "{line}");
            } else {
                assert_eq!(p["file"], "/var/lib/mysql/ibdata1", "{line}");
            }
        }
    }
    assert!(users > 250, "{users} pages of users.ibd");
}
