//! The redo log applied like crash recovery, on the two crash fixtures
//! (MariaDB 10.11 killed with SIGKILL; truth = the server's own crash
//! recovery on a second copy, see fixtures/README.md):
//!
//! * `crash`: a load of 20-row transactions; every row of the table is
//!   only in `ib_logfile0` (the data file has none of them);
//! * `crash-update`: the data files hold version 0 of every row of four
//!   tables (REDUNDANT, COMPACT, DYNAMIC, COMPRESSED); 400
//!   committed transactions of UPDATEs (and INSERTs, DELETEs) are only in
//!   the log; one more transaction was left open (ACTIVE_TRX.txt).
//!
//! Each is read three ways: an ext4 image made by `mke2fs -d` (the log
//! found by its name), the plain files laid out in one image with the log
//! given by `--redo`, and the plain files with the log among them (found by
//! carving its header). Every row of the truth comes back in `<table>.csv`
//! and no row there is older than the truth's. Damaged logs: a flipped byte
//! in the middle, a log naming pages that are not there.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use salvage::carve::redo::RedoOptions;
use salvage::carve::scan::ScanRange;
use salvage::image::{Image, ReadMode};
use salvage::score::{parse_csv, Field};

use crate::common;

/// Rows of a CSV by their first column (the primary key `id`).
fn rows_by_id(path: &Path) -> (Vec<String>, BTreeMap<i64, Vec<Field>>) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return (Vec::new(), BTreeMap::new());
    };
    let mut recs = parse_csv(&text).unwrap();
    let header: Vec<String> = recs.remove(0).into_iter().map(|f| f.unwrap()).collect();
    let mut out = BTreeMap::new();
    for r in recs {
        let id: i64 = r[0].as_deref().unwrap().parse().unwrap();
        assert!(
            out.insert(id, r).is_none(),
            "{}: id {id} twice",
            path.display()
        );
    }
    (header, out)
}

/// The open transaction of `crash-update`: its id and the row ids it changed.
fn active_trx() -> (u64, BTreeSet<i64>) {
    let t =
        std::fs::read_to_string(common::fixtures().join("crash-update/ACTIVE_TRX.txt")).unwrap();
    let mut id = 0;
    let mut rows = BTreeSet::new();
    for line in t.lines() {
        if let Some(v) = line.strip_prefix("trx_id ") {
            id = v.parse().unwrap();
        }
        if let Some(v) = line.strip_prefix("t_dynamic ids ") {
            rows = v.split(',').map(|x| x.parse().unwrap()).collect();
        }
    }
    (id, rows)
}

/// Compares a recovery with the truth of `instance`: every truth row in
/// `<table>.csv` exactly, no row there older (a smaller `version` /
/// missing), except the rows the open transaction changed, which may only
/// be in `<table>.uncertain.csv` or carry its uncommitted mark. Returns
/// the problems found.
fn compare(out: &Path, instance: &str) -> Vec<String> {
    let truth_dir = common::fixtures().join(instance).join("truth");
    let (_, open_rows) = active_trx();
    let mut problems = Vec::new();
    let mut tables = 0;
    for db in std::fs::read_dir(&truth_dir).unwrap() {
        let db = db.unwrap().path();
        if !db.is_dir() {
            continue;
        }
        for t in common::files_with_ext(&db, ".csv") {
            let name = t.file_name().unwrap().to_string_lossy().to_string();
            let rel = PathBuf::from(db.file_name().unwrap()).join(&name);
            let (header, truth) = rows_by_id(&t);
            let (_, got) = rows_by_id(&out.join(&rel));
            let uncertain_name = name.replace(".csv", ".uncertain.csv");
            let (_, uncertain) =
                rows_by_id(&out.join(db.file_name().unwrap()).join(uncertain_name));
            let version = header.iter().position(|h| h == "version");
            let is_open = |id: i64| {
                instance == "crash-update" && name == "t_dynamic.csv" && open_rows.contains(&id)
            };
            tables += 1;
            for (id, row) in &truth {
                match got.get(id) {
                    Some(g) if g == row => {}
                    Some(g) if is_open(*id) => {
                        let note = header.iter().position(|h| h == "note").unwrap();
                        if g[note].as_deref() != Some("uncommitted change") {
                            problems.push(format!("{rel:?} id {id}: {g:?}, truth {row:?}"));
                        }
                    }
                    None if is_open(*id) && uncertain.contains_key(id) => {}
                    Some(g) => problems.push(format!("{rel:?} id {id}: {g:?}, truth {row:?}")),
                    None => problems.push(format!("{rel:?} id {id} missing")),
                }
            }
            for (id, g) in &got {
                match (truth.get(id), version) {
                    (None, _) => problems.push(format!("{rel:?} id {id} not in the truth: {g:?}")),
                    (Some(row), Some(v)) => {
                        let a: i64 = g[v].as_deref().unwrap().parse().unwrap();
                        let b: i64 = row[v].as_deref().unwrap().parse().unwrap();
                        if a < b {
                            problems.push(format!("{rel:?} id {id}: older version {a} < {b}"));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    assert!(tables > 0, "no truth tables for {instance}");
    problems
}

/// `report.json`'s `redo` object.
fn redo_report(out: &Path) -> serde_json::Value {
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    r["redo"].clone()
}

/// The checkpoint LSN and the end of the log as the header and a full
/// parse of the real file say (the library's reader, checked against the
/// header bytes in the unit tests).
fn log_bounds(log: &Path) -> (u64, u64) {
    let bytes = std::fs::read(log).unwrap();
    let (_, cp) = salvage::innodb::redo::replay::open(&bytes).unwrap();
    let o =
        salvage::innodb::redo::replay(&bytes, &NoBase, &salvage::innodb::redo::Options::default())
            .unwrap();
    (cp.lsn, o.summary.end_lsn)
}

struct NoBase;
impl salvage::innodb::redo::BasePages for NoBase {
    fn lookup(&self, _: u32, _: u32) -> salvage::innodb::redo::Lookup {
        salvage::innodb::redo::Lookup::Missing
    }
    fn space_format(&self, _: u32) -> Option<(usize, salvage::innodb::redo::PageFormat)> {
        None
    }
}

fn mke2fs(data: &Path, img: &Path, size: &str) {
    let o = std::process::Command::new("mke2fs")
        .args(["-q", "-F", "-t", "ext4", "-b", "4096", "-d"])
        .arg(data)
        .arg(img)
        .arg(size)
        .output()
        .expect("mke2fs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The three ways of reading `instance`; each recovery compared with the truth.
fn check_instance(instance: &str, ext4_size: &str) {
    let data = common::unpack_datadir(instance);
    let dir = tempfile::tempdir().unwrap();
    let log = data.path().join("ib_logfile0");
    let (cp_lsn, end_lsn) = log_bounds(&log);
    assert!(
        end_lsn > cp_lsn,
        "{instance}: the log has records after its checkpoint"
    );
    let mut problems = Vec::new();

    // 1. ext4 made by mke2fs -d: the log found as /ib_logfile0.
    let ext4 = dir.path().join("ext4.img");
    mke2fs(data.path(), &ext4, ext4_size);
    let out = dir.path().join("ext4");
    common::recover_with(&ext4, &out, &[] as &[&str], 0);
    let r = redo_report(&out);
    assert_eq!(r["log"], "image:/ib_logfile0", "{r}");
    assert_eq!(r["checkpoint_lsn"], cp_lsn, "{r}");
    assert_eq!(r["end_lsn"], end_lsn, "{r}");
    assert!(r["records"].as_u64().unwrap() > 1000, "{r}");
    assert!(r["pages_redone"].as_u64().unwrap() > 10, "{r}");
    problems.extend(
        compare(&out, instance)
            .into_iter()
            .map(|p| format!("ext4: {p}")),
    );

    // Without the log the same image gives stale or missing rows: the
    // fixture does need the redo log.
    let out0 = dir.path().join("ext4-no-redo");
    common::recover_with(
        &ext4,
        &out0,
        &["--no-redo"],
        if instance == "crash" { 1 } else { 0 },
    );
    assert!(redo_report(&out0).is_null());
    assert!(
        !compare(&out0, instance).is_empty(),
        "{instance}: --no-redo already matches the truth"
    );

    // 2. The plain files, the log given separately.
    let plain = tempfile::tempdir().unwrap();
    copy_dir(data.path(), plain.path(), &["ib_logfile0"]);
    let img = dir.path().join("plain.img");
    common::lay_out(plain.path(), &img);
    let out = dir.path().join("plain");
    common::recover_with(&img, &out, &["--redo", log.to_str().unwrap()], 0);
    let r = redo_report(&out);
    assert_eq!(r["log"], log.display().to_string());
    assert_eq!(r["end_lsn"], end_lsn, "{r}");
    problems.extend(
        compare(&out, instance)
            .into_iter()
            .map(|p| format!("plain: {p}")),
    );

    // 3. The plain files with the log among them: found by its header.
    let img = dir.path().join("carved.img");
    common::lay_out(data.path(), &img);
    let out = dir.path().join("carved");
    common::recover_with(&img, &out, &[] as &[&str], 0);
    let r = redo_report(&out);
    assert!(r["log"].as_str().unwrap().starts_with("carved at "), "{r}");
    assert_eq!(r["end_lsn"], end_lsn, "{r}");
    problems.extend(
        compare(&out, instance)
            .into_iter()
            .map(|p| format!("carved: {p}")),
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn copy_dir(from: &Path, to: &Path, skip: &[&str]) {
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if skip.contains(&name.as_str()) {
            continue;
        }
        if p.is_dir() {
            std::fs::create_dir_all(to.join(&name)).unwrap();
            copy_dir(&p, &to.join(&name), skip);
        } else {
            std::fs::copy(&p, to.join(&name)).unwrap();
        }
    }
}

#[test]
fn crash_every_committed_row_from_the_log() {
    check_instance("crash", "64M");
}

#[test]
fn crash_update_no_row_older_than_the_truth() {
    check_instance("crash-update", "160M");
}

/// Carves the plain files of `instance` with the library (log applied from
/// `log`), for the tests below.
fn carve_with_log(data: &Path, log: Option<&Path>, img: &Path) -> (Image, salvage::carve::Carved) {
    common::lay_out(data, img);
    let image = Image::open(img, ReadMode::Mmap).unwrap();
    let range = ScanRange {
        start: 0,
        end: image.size(),
    };
    let opts = RedoOptions {
        enabled: log.is_some(),
        log_file: log.map(Path::to_path_buf),
    };
    let carved = salvage::carve::carve_disk_with(&image, range, false, &opts, &|_| {});
    (image, carved)
}

#[test]
fn active_transaction_found_in_the_redone_undo_pages() {
    let data = common::unpack_datadir("crash-update");
    let log = data.path().join("ib_logfile0");
    let plain = tempfile::tempdir().unwrap();
    copy_dir(data.path(), plain.path(), &["ib_logfile0"]);
    let dir = tempfile::tempdir().unwrap();
    let (want, _) = active_trx();
    let (image, carved) = carve_with_log(plain.path(), Some(&log), &dir.path().join("a.img"));
    let src = salvage::carve::pages::StorePages::new(&image, &carved.store);
    let active = salvage::innodb::undo::active_transactions(&src);
    assert_eq!(active, BTreeSet::from([want]));
    // The data files alone do not know it: its undo log is only in the log.
    let (image, carved) = carve_with_log(plain.path(), None, &dir.path().join("b.img"));
    let src = salvage::carve::pages::StorePages::new(&image, &carved.store);
    assert!(!salvage::innodb::undo::active_transactions(&src).contains(&want));
}

#[test]
fn flipped_byte_in_the_middle_stops_there_with_a_warning() {
    let data = common::unpack_datadir("crash");
    let log = data.path().join("ib_logfile0");
    let (cp, end) = log_bounds(&log);
    let mut bytes = std::fs::read(&log).unwrap();
    // first_lsn is 12288 in the fixture (a fresh log): LSN l is at offset l.
    assert_eq!(&bytes[8..16], &12288u64.to_be_bytes());
    let mid = (cp + end) / 2;
    bytes[mid as usize] ^= 0x20;
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("ib_logfile0.bad");
    std::fs::write(&bad, &bytes).unwrap();
    let plain = tempfile::tempdir().unwrap();
    copy_dir(data.path(), plain.path(), &["ib_logfile0"]);
    let img = dir.path().join("plain.img");
    common::lay_out(plain.path(), &img);
    let out = dir.path().join("out");
    let o = common::recover_with(&img, &out, &["--redo", bad.to_str().unwrap()], 0);
    let r = redo_report(&out);
    let stop = r["end_lsn"].as_u64().unwrap();
    assert!(stop > cp && stop <= mid && stop > mid - 70_000, "{r}");
    assert_eq!(r["end"], "damaged mini-transaction", "{r}");
    let w = r["warnings"].to_string();
    assert!(
        w.contains(&format!("LSN {stop}")) && w.contains(&format!("offset {stop}")),
        "{w}"
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("redo log damaged"), "{stderr}");
    // The part before the damage is used: rows committed before it.
    let (_, got) = rows_by_id(&out.join("crash/load.csv"));
    let (_, truth) = rows_by_id(&common::fixtures().join("crash/truth/crash/load.csv"));
    assert!(
        got.len() > 100 && got.len() < truth.len(),
        "{} rows",
        got.len()
    );
    for (id, row) in &got {
        assert_eq!(truth.get(id), Some(row), "id {id}");
    }
}

#[test]
fn log_naming_pages_that_are_not_there() {
    // The fixture's tarball leaves out mysql/*.ibd: the log's records for
    // spaces 1 and 2 (mysql.innodb_table_stats, innodb_index_stats) name
    // pages the image does not have and that the log does not create.
    // Without crash/load.ibd as well, space 5's pages exist only as far as
    // the log creates them (it has INIT_PAGE for each: the table was
    // created after the checkpoint).
    let data = common::unpack_datadir("crash");
    let log = data.path().join("ib_logfile0");
    let only = tempfile::tempdir().unwrap();
    std::fs::copy(data.path().join("ibdata1"), only.path().join("ibdata1")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_, carved) = carve_with_log(only.path(), Some(&log), &dir.path().join("a.img"));
    let r = carved.redo.expect("a redo report");
    assert!(r.error.is_none(), "{r:?}");
    assert_eq!(r.summary.pages_skipped, 2, "{r:?}");
    assert!(
        r.summary
            .warnings
            .iter()
            .any(|w| w.contains("not in the image") && w.contains("1:3, 2:3")),
        "{:?}",
        r.summary.warnings
    );
    // The rest is used: the system tablespace's pages are redone, and the
    // pages of space 5 that the log creates are there, all redone.
    let redone = |s: u32| {
        carved
            .store
            .pages
            .iter()
            .filter(|p| p.space_id == s && p.status.as_str() == "redone")
            .count()
    };
    assert!(redone(0) > 10, "{}", redone(0));
    assert!(redone(5) > 10, "{}", redone(5));
    assert!(carved
        .store
        .pages
        .iter()
        .filter(|p| p.space_id == 5)
        .all(|p| p.status.as_str() == "redone"));
}
