//! `salvage recover` end to end on every small MariaDB instance (4, 8, 32
//! and 64 KiB pages, the pre-10.5 crc32 format):
//! all the instance's files laid one after another in one raw image, as a
//! carver sees a disk whose filesystem is gone. Tables come back with no
//! --schema (data dictionary + carved .frm) and with the truth's
//! CREATE TABLEs, scored against what the server said it held.

use crate::common;

use std::path::{Path, PathBuf};

use salvage::score::{score_dirs, ScoreReport};

fn recover(img: &Path, out: &Path, extra: &[&str]) -> ScoreReport {
    common::recover_with(img, out, extra, 0);
    let truth = common::fixtures().join(instance_of(out)).join("truth");
    score_dirs(out, &truth).unwrap()
}

fn instance_of(out: &Path) -> String {
    out.parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// Every table exact: all truth rows, nothing else. Deleted rows: every one
/// written is true (purge may have reused the bytes of the others).
fn check_instance(instance: &str) {
    let data = common::unpack_datadir(instance);
    let dir = tempfile::tempdir().unwrap();
    let base: PathBuf = dir.path().join(instance);
    std::fs::create_dir_all(&base).unwrap();
    let img = base.join("disk.img");
    common::lay_out(data.path(), &img);
    let schema = common::fixtures().join(instance).join("truth/schema.sql");
    for (label, extra) in [
        ("no-schema", vec![]),
        ("schema", vec!["--schema", schema.to_str().unwrap()]),
    ] {
        let r = recover(&img, &base.join(label), &extra);
        eprintln!("{instance} {label}:\n{r}");
        for t in &r.tables {
            if t.deleted {
                assert_eq!(t.matched_rows, t.recovered_rows, "{instance} {label} {t}");
                continue;
            }
            assert_eq!(
                (t.matched_rows, t.recovered_rows),
                (t.truth_rows, t.truth_rows),
                "{instance} {label} {}{}: {t}",
                t.table,
                if t.deleted { " (deleted)" } else { "" }
            );
        }
    }
}

#[test]
fn pages_4k() {
    check_instance("p4k");
}

#[test]
fn pages_8k() {
    check_instance("p8k");
}

#[test]
fn pages_32k() {
    check_instance("p32k");
}

#[test]
fn pages_64k() {
    check_instance("p64k");
}

#[test]
fn crc32_pre_10_5_format() {
    check_instance("crc32");
}
