//! `salvage recover` from the command line on real files: MySQL 8 tablespaces
//! of the shared corpus (schemas from SDI) and the shipped demo disk.

use crate::common;

use std::path::Path;

use assert_cmd::Command;

fn recover(img: &Path, out: &Path) -> String {
    let o = Command::cargo_bin("salvage")
        .unwrap()
        .arg("recover")
        .arg(img)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Not a terminal: no progress bar, only the closing summary in words,
    // which names the report.
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !err.contains('\r') && !err.contains('\x1b'),
        "no progress output when stderr is not a terminal: {err}"
    );
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("recover: ") && last.contains("report.html"),
        "recover ends with its summary on stderr: {err}"
    );
    String::from_utf8(o.stdout).unwrap()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn mysql8_sdi_tables_with_deleted_rows() {
    let c = common::corpus();
    let dir = tempfile::tempdir().unwrap();
    for v in ["8.0", "8.4", "9.0"] {
        let out = dir.path().join(v);
        recover(
            &c.join(format!(
                "KernelMaker__ibdNinja/tests/{v}/fixtures/with_deletes.ibd"
            )),
            &out,
        );
        let live = read(&out.join("ibdninja_test/with_deletes.csv"));
        let deleted = read(&out.join("ibdninja_test/with_deletes.deleted.csv"));
        assert_eq!(
            deleted,
            "id,name,status\n2,Delete2,2\n4,Delete4,4\n6,Delete6,6\n8,Delete8,8\n10,Delete10,10\n",
            "{v}"
        );
        assert_eq!(live.lines().count(), 6, "{v}: {live}");
        assert!(
            live.lines()
                .skip(1)
                .all(|l| l.split(',').next().unwrap().parse::<u32>().unwrap() % 2 == 1),
            "{v}: {live}"
        );
        let schema = read(&out.join("schema.sql"));
        assert!(
            schema.contains("CREATE TABLE `ibdninja_test`.`with_deletes`"),
            "{schema}"
        );
    }
}

#[test]
fn sakila_actor_from_mysql_8() {
    let dir = tempfile::tempdir().unwrap();
    for v in ["8.0", "8.4"] {
        let out = dir.path().join(v);
        let f = common::corpus().join(format!(
            "jeremycole__innodb_ruby/spec/data/sakila/{v}/sakila/actor.ibd"
        ));
        let summary = recover(&f, &out);
        assert!(summary.contains("sakila.actor"), "{summary}");
        let csv = read(&out.join("sakila/actor.csv"));
        assert_eq!(csv.lines().count(), 201, "{v}");
        assert!(csv.starts_with("actor_id,first_name,last_name,last_update\n1,PENELOPE,GUINESS,2006-02-15 04:34:33\n"), "{v}");
        let report: serde_json::Value =
            serde_json::from_str(&read(&out.join("report.json"))).unwrap();
        assert_eq!(report["tables"][0]["source"], "sdi");
        assert_eq!(report["tables"][0]["rows_written"], 200);
    }
}

/// MySQL 5.0, 5.5 (COMPACT) and 5.6 (REDUNDANT) files with their `.frm`
/// beside them: no --schema needed, the table named by the path. A `.frm`
/// also works as --schema, naming the table by its own path.
#[test]
fn lone_ibd_with_frm_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    for v in ["5.0", "compact", "redundant"] {
        let out = dir.path().join(v);
        let f = common::corpus().join(format!(
            "jeremycole__innodb_ruby/spec/data/sakila/{v}/sakila/actor.ibd"
        ));
        recover(&f, &out);
        let csv = read(&out.join("sakila/actor.csv"));
        assert_eq!(csv.lines().count(), 201, "{v}");
        assert!(
            csv.starts_with("actor_id,first_name,last_name,last_update\n1,PENELOPE,GUINESS,"),
            "{v}: {}",
            &csv[..200]
        );
        assert!(
            csv.ends_with("\n200,THORA,TEMPLE,2006-02-15 01:34:33\n"),
            "{v}"
        );
        let report: serde_json::Value =
            serde_json::from_str(&read(&out.join("report.json"))).unwrap();
        assert_eq!(report["tables"][0]["source"], "frm", "{v}");
    }
    // The .ibd alone under another name, the .frm given with --schema.
    let src = common::corpus().join("jeremycole__innodb_ruby/spec/data/sakila/compact/sakila");
    let lone = dir.path().join("copy.ibd");
    std::fs::copy(src.join("actor.ibd"), &lone).unwrap();
    let out = dir.path().join("with-schema");
    common::recover_with(
        &lone,
        &out,
        &[Path::new("--schema"), &src.join("actor.frm")],
        0,
    );
    assert_eq!(read(&out.join("sakila/actor.csv")).lines().count(), 201);
}

/// The whole sakila schema (16 CREATE TABLEs, from the sakila tarball) and
/// one lone `.ibd`: the file's own table claims its clustered index, no
/// other table is fitted onto its secondary indexes.
#[test]
fn lone_ibd_with_a_whole_schema_dump() {
    let dir = tempfile::tempdir().unwrap();
    let tgz = common::corpus().join("twindb__undrop-for-innodb/sakila/sakila-db.tar.gz");
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(&tgz).unwrap(),
    ));
    let mut schema = String::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().ends_with("sakila-schema.sql") {
            std::io::Read::read_to_string(&mut e, &mut schema).unwrap();
        }
    }
    let sql = dir.path().join("sakila-schema.sql");
    std::fs::write(&sql, schema).unwrap();
    let src = common::corpus().join("jeremycole__innodb_ruby/spec/data/sakila/compact/sakila");
    for (table, rows) in [
        ("film", 1000),
        ("city", 600),
        ("inventory", 4581),
        ("staff", 2),
    ] {
        let lone = dir.path().join(format!("{table}.ibd"));
        std::fs::copy(src.join(format!("{table}.ibd")), &lone).unwrap();
        let out = dir.path().join(table);
        common::recover_with(&lone, &out, &[Path::new("--schema"), &sql], 0);
        let written: Vec<String> = std::fs::read_dir(out.join("sakila"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".csv") && !n.ends_with(".deleted.csv"))
            .collect();
        assert_eq!(written, vec![format!("{table}.csv")], "{table}");
        let csv = read(&out.join(format!("sakila/{table}.csv")));
        assert_eq!(csv.lines().count(), rows + 1, "{table}");
    }
}

/// A CREATE TABLE one column short of the data (sakila 0.8's address on a
/// sakila 1.x file): the records' sizes do not fill their pages under it,
/// so no row is written and the report says why.
#[test]
fn a_schema_that_does_not_fit_writes_no_rows() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let schema = common::corpus().join("twindb__undrop-for-innodb/sakila/address.sql");
    common::recover_with(
        &common::corpus().join("jeremycole__innodb_ruby/spec/data/sakila/5.7/sakila/address.ibd"),
        &out,
        &[Path::new("--schema"), &schema],
        1,
    );
    let report: serde_json::Value = serde_json::from_str(&read(&out.join("report.json"))).unwrap();
    assert_eq!(report["tables"][0]["rows_written"], 0);
    let notes = report["tables"][0]["notes"].to_string();
    assert!(notes.contains("fit this definition"), "{notes}");
}

/// The demo disk (64 KiB holes over 5 % of the partition), no --schema:
/// every row written is a true row; recall pinned.
#[test]
fn demo_disk_without_schema() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("demo.img");
    std::fs::write(&img, common::unzstd("demo.img.zst")).unwrap();
    let out = dir.path().join("out");
    recover(&img, &out);
    let r = salvage::score::score_dirs(&out, &common::fixtures().join("demo/truth")).unwrap();
    eprintln!("{r}");
    assert_eq!(r.wrong_rows + r.extra_rows, 0, "{r}");
    let users = r
        .tables
        .iter()
        .find(|t| t.table == "shop.users" && !t.deleted)
        .unwrap();
    assert_eq!((users.matched_rows, users.truth_rows), (2456, 2997));
    assert_eq!((r.matched_rows, r.truth_rows), (6016, 6609));
}

/// Nothing recoverable: exit 1, and the output still says so.
#[test]
fn nothing_found_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("zeros.img");
    std::fs::write(&img, vec![0u8; 1 << 20]).unwrap();
    let o = Command::cargo_bin("salvage")
        .unwrap()
        .arg("recover")
        .arg(&img)
        .arg("-o")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(dir.path().join("out/report.json").exists());
}
