//! A workload on a real MariaDB server, run at test time
//! (scripts/fixtures/workload.py): shuffled inserts, updates that grow rows,
//! deletes, purge, in every row format. Every live row comes back exactly;
//! every deleted row written is a version the row really had: as it was
//! just before its DELETE, or (when the bytes of that version were cleared:
//! MariaDB clears purged records) a version an UPDATE replaced.

use crate::common;

#[test]
fn updates_deletes_and_purge_in_every_row_format() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("wl");
    common::mariadb_script("workload.py", &[&work]);
    let img = dir.path().join("disk.img");
    common::lay_out(&work.join("data"), &img);
    let truth = work.join("truth");
    // Every version a deleted row had: the last, and the ones updates replaced.
    let versions = dir.path().join("versions");
    std::fs::create_dir_all(versions.join("w")).unwrap();
    for t in ["redundant", "compact", "dynamic", "compressed"] {
        let last = std::fs::read_to_string(truth.join(format!("w/{t}.deleted.csv"))).unwrap();
        let older =
            std::fs::read_to_string(work.join(format!("history/w/{t}.deleted.csv"))).unwrap();
        let body = older.split_once('\n').unwrap().1;
        std::fs::write(versions.join(format!("w/{t}.deleted.csv")), last + body).unwrap();
    }
    for (label, extra) in [
        ("no-schema", vec![]),
        (
            "schema",
            vec![
                "--schema".to_string(),
                truth.join("schema.sql").display().to_string(),
            ],
        ),
    ] {
        let out = dir.path().join(label);
        common::recover_with(&img, &out, &extra, 0);
        let r = salvage::score::score_dirs(&out, &truth).unwrap();
        eprintln!("{label}:\n{r}");
        let any_version = salvage::score::score_dirs(&out, &versions).unwrap();
        for t in any_version.tables.iter().filter(|t| t.deleted) {
            assert_eq!(t.recovered_rows, t.matched_rows, "{label} {t}");
        }
        for t in &r.tables {
            if !t.deleted {
                assert_eq!(
                    (t.matched_rows, t.recovered_rows),
                    (t.truth_rows, t.truth_rows),
                    "{label} {t}"
                );
            }
        }
        // ROW_FORMAT=COMPRESSED pages keep purged records inside their
        // compressed stream: most deleted rows come back there.
        let zip = r
            .tables
            .iter()
            .find(|t| t.table == "w.compressed" && t.deleted)
            .unwrap();
        assert!(zip.matched_rows >= 100, "{label} {zip}");
    }
}
