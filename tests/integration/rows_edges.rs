//! Boundary values of every temporal type come back exactly, in every row
//! format: the `edges` instance (scripts/fixtures/edges.py) holds DATE,
//! YEAR, TIME(0..6), DATETIME(0..6) and TIMESTAMP(0..6) minimums and
//! maximums at every fsp, zero dates, negative times under one second,
//! sign and carry boundaries, NULLs, and a primary key of TIME(3) and
//! DATETIME(2), in REDUNDANT, COMPACT, DYNAMIC, COMPRESSED (KEY_BLOCK_SIZE
//! 1-16, filled by inserts and rebuilt) and PAGE_COMPRESSED tables; `edges`
//! in the MySQL 5.6 temporal formats, `edges_old` in MariaDB's older ones
//! (`mysql56_temporal_format=OFF`).
//! Recovered from the data files laid out in a raw image and from an ext4
//! image made by `mke2fs -d`, with and without the truth's CREATE TABLEs,
//! and from the `edges_old` tablespaces alone (no dictionary, no `.frm`)
//! with their CREATE TABLEs: every table equals the server's dump row for
//! row, and no row is partial.

use crate::common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;

/// The data lines (header first) of a CSV without embedded newlines.
fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(str::to_string)
        .collect()
}

/// Compares every truth table with the recovered one, line for line (as
/// sorted multisets), and names the differing columns of the first rows
/// that differ. Returns the problems found.
fn compare(out: &Path, truth: &Path, label: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for t in common::files_with_ext(truth, ".csv") {
        let rel = t.strip_prefix(truth).unwrap();
        let want = lines(&t);
        let got_path = out.join(rel);
        if !got_path.exists() {
            problems.push(format!("{label} {}: no recovered file", rel.display()));
            continue;
        }
        let got = lines(&got_path);
        assert_eq!(
            got.first(),
            want.first(),
            "{label} {}: header",
            rel.display()
        );
        let header: Vec<&str> = want[0].split(',').collect();
        let mut w: Vec<&String> = want[1..].iter().collect();
        let mut g: Vec<&String> = got[1..].iter().collect();
        w.sort();
        g.sort();
        if w == g {
            continue;
        }
        let mut count: BTreeMap<&str, i64> = BTreeMap::new();
        for l in &w {
            *count.entry(l.as_str()).or_default() += 1;
        }
        for l in &g {
            *count.entry(l.as_str()).or_default() -= 1;
        }
        let missing: Vec<&str> = count.iter().filter(|e| *e.1 > 0).map(|e| *e.0).collect();
        let extra: Vec<&str> = count.iter().filter(|e| *e.1 < 0).map(|e| *e.0).collect();
        let mut msg = format!(
            "{label} {}: {} truth rows, {} recovered, {} missing, {} not in the truth",
            rel.display(),
            w.len(),
            g.len(),
            missing.len(),
            extra.len()
        );
        // Pair rows by the key (kt, kdt, id) and show the differing columns.
        let key = |l: &str| l.splitn(4, ',').take(3).collect::<Vec<_>>().join(",");
        for m in missing.iter().take(6) {
            match extra.iter().find(|e| key(e) == key(m)) {
                Some(e) => {
                    let diffs: Vec<String> = m
                        .split(',')
                        .zip(e.split(','))
                        .enumerate()
                        .filter(|(_, (a, b))| a != b)
                        .map(|(i, (a, b))| format!("{}: {a} -> {b}", header[i]))
                        .collect();
                    msg += &format!("\n  row {}: {}", key(m), diffs.join("; "));
                }
                None => msg += &format!("\n  missing {m}"),
            }
        }
        for e in extra
            .iter()
            .filter(|e| !missing.iter().any(|m| key(m) == key(e)))
            .take(3)
        {
            msg += &format!("\n  extra {e}");
        }
        problems.push(msg);
    }
    // Nothing partial, nothing deleted: every row decoded whole. (Only the
    // truth's databases: the system tablespace also holds MariaDB's own.)
    for ext in [".partial.csv", ".deleted.csv"] {
        for p in ["edges", "edges_old"]
            .iter()
            .flat_map(|db| common::files_with_ext(&out.join(db), ext))
        {
            let n = lines(&p).len().saturating_sub(1);
            if n > 0 {
                problems.push(format!(
                    "{label} {}: {n} rows\n  {}",
                    p.strip_prefix(out).unwrap().display(),
                    lines(&p)
                        .iter()
                        .skip(1)
                        .take(3)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("\n  ")
                ));
            }
        }
    }
    problems
}

/// `compare`, on the tables of database `db` only.
fn compare_db(out: &Path, truth: &Path, db: &str, label: &str) -> Vec<String> {
    let only = tempfile::tempdir().unwrap();
    copy_dir(&truth.join(db), &only.path().join(db));
    compare(out, only.path(), label)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
    }
}

fn check_image(img: &Path, base: &Path, what: &str) {
    let truth = common::fixtures().join("edges/truth");
    let schema = truth.join("schema.sql");
    let mut problems = Vec::new();
    for (label, extra) in [
        ("no-schema", vec![]),
        ("schema", vec!["--schema", schema.to_str().unwrap()]),
    ] {
        let out = base.join(format!("{what}-{label}"));
        common::recover_with(img, &out, &extra, 0);
        problems.extend(compare(&out, &truth, &format!("{what} {label}")));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn raw_files_every_value_exact() {
    let data = common::unpack_datadir("edges");
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("disk.img");
    common::lay_out(data.path(), &img);
    check_image(&img, dir.path(), "raw");
}

#[test]
fn ext4_every_value_exact() {
    let data = common::unpack_datadir("edges");
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("ext4.img");
    let o = std::process::Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext4", "-b", "4096", "-d"])
        .arg(data.path())
        .arg(&img)
        .arg("32M")
        .output()
        .expect("mke2fs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    check_image(&img, dir.path(), "ext4");
}

/// Without the system tablespace and the `.frm` files nothing says the
/// `edges_old` tables keep the pre-5.6 formats: the CREATE TABLEs name
/// `time(3)`, `datetime(6)`... and recovery finds the formats by trying
/// them on the records.
#[test]
fn old_formats_without_dictionary_or_frm() {
    let data = common::unpack_datadir("edges");
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    copy_dir(&data.path().join("edges_old"), &files);
    for f in common::files_with_ext(&files, ".frm") {
        std::fs::remove_file(f).unwrap();
    }
    let img = dir.path().join("disk.img");
    common::lay_out(&files, &img);
    let truth = common::fixtures().join("edges/truth");
    let all = std::fs::read_to_string(truth.join("schema.sql")).unwrap();
    let at = all
        .find("CREATE DATABASE IF NOT EXISTS `edges_old`")
        .unwrap();
    let schema = dir.path().join("schema.sql");
    std::fs::write(&schema, &all[at..]).unwrap();
    let out = dir.path().join("out");
    common::recover_with(&img, &out, &[OsStr::new("--schema"), schema.as_os_str()], 0);
    let problems = compare_db(&out, &truth, "edges_old", "edges_old alone");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
