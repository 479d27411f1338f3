//! load.sql puts a recovery back into a real MariaDB server: the test starts
//! one (scripts/fixtures/load_check.py, a private data directory on a unix
//! socket), runs schema.sql and load.sql, dumps every table in the truth's
//! CSV convention and scores it against the fixture truth.

use crate::common;

use assert_cmd::Command;

#[test]
fn load_sql_reloads_every_table_into_mariadb() {
    assert!(
        std::process::Command::new("mariadbd")
            .arg("--version")
            .output()
            .is_ok(),
        "mariadbd is required (scripts/test.sh installs mariadb-server)"
    );
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
    let dump = dir.path().join("dump");
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/fixtures/load_check.py");
    let st = std::process::Command::new("python3")
        .arg(script)
        .arg(&out)
        .arg(&dump)
        .status()
        .unwrap();
    assert!(st.success(), "load_check.py failed");
    let score = salvage::score::score_dirs(&dump, &truth).unwrap();
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
