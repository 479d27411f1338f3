//! `--max-memory`: recovery streams rows within a table, so the output does
//! not depend on the memory it is given, and a table far bigger than the
//! cap comes back exactly while the process stays under it.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Every file under `dir` (relative path → bytes as two runs must agree).
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    common::files_with_ext(dir, "")
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(dir).unwrap().to_path_buf(),
                common::comparable(&p),
            )
        })
        .collect()
}

/// The fixture images: intact, the damaged demo disk, fragmented files, and
/// holes5 (zeroed blocks: damaged pages, uncertain and deleted rows).
fn images(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (name, rel) in [
        ("main.img", "images/main-ext4-modern.img.zst"),
        ("demo.img", "demo.img.zst"),
        ("frag.img", "images/main-ext4-fragmented.img.zst"),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, common::unzstd(rel)).unwrap();
        out.push(p);
    }
    let img = common::damaged(
        "images/main-ext4-modern.img.zst",
        "images/damage/holes5.json",
    );
    let p = dir.join("holes5.img");
    std::fs::write(&p, &img).unwrap();
    out.push(p);
    out
}

/// 64 MiB and the least memory possible (no decoded page kept between
/// passes, 8 pages a batch, every deleted and uncertain row through the
/// spill file) give the same bytes as the default, at 1 and 2 threads.
#[test]
fn fixtures_recover_byte_identical_with_little_memory() {
    let dir = tempfile::tempdir().unwrap();
    for img in images(dir.path()) {
        let base = dir.path().join("default");
        common::recover_with(&img, &base, &["-t", "2"], 0);
        let want = tree(&base);
        let rows: usize = want
            .iter()
            .filter(|(p, _)| p.extension().is_some_and(|e| e == "csv"))
            .map(|(_, b)| b.iter().filter(|&&c| c == b'\n').count())
            .sum();
        assert!(rows > 5_000, "{}: only {rows} CSV lines", img.display());
        for (cap, threads) in [("64M", "2"), ("0", "1"), ("0", "2")] {
            let out = dir.path().join(format!("cap-{cap}-{threads}"));
            common::recover_with(&img, &out, &["--max-memory", cap, "-t", threads], 0);
            let got = tree(&out);
            assert_eq!(
                got.keys().collect::<Vec<_>>(),
                want.keys().collect::<Vec<_>>(),
                "{} --max-memory {cap}: other files (a spill file left behind?)",
                img.display()
            );
            for (p, b) in &want {
                assert!(
                    got[p] == *b,
                    "{} --max-memory {cap} -t {threads}: {} differs",
                    img.display(),
                    p.display()
                );
            }
            std::fs::remove_dir_all(&out).unwrap();
        }
        std::fs::remove_dir_all(&base).unwrap();
    }
}

/// A definition that does not fit: `users` without its `age` column (its
/// records no longer fill their pages: nothing written, a note) and
/// `orders` with `note varchar(12)` (the records with longer notes fail
/// their checks). Under little memory the first pass reads only keys, so
/// these pages pass it and fail only when decoded whole; rows, counts,
/// notes and lost ranges must still be those of the default run.
#[test]
fn a_definition_that_does_not_fit_recovers_the_same_with_little_memory() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("main.img");
    std::fs::write(&img, common::unzstd("images/main-ext4-2018.img.zst")).unwrap();
    let truth = std::fs::read_to_string(common::fixtures().join("main/truth/schema.sql")).unwrap();
    let age = "  `age` tinyint(3) unsigned DEFAULT NULL,\n";
    let note = "  `note` varchar(200) DEFAULT NULL,\n  PRIMARY KEY (`user_id`,`order_no`)";
    assert!(truth.contains(age) && truth.contains(note));
    let wrong = truth.replacen(age, "", 1).replacen(
        note,
        "  `note` varchar(12) DEFAULT NULL,\n  PRIMARY KEY (`user_id`,`order_no`)",
        1,
    );
    let schema = dir.path().join("wrong.sql");
    std::fs::write(&schema, wrong).unwrap();
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let mut args = vec!["--schema", schema.to_str().unwrap()];
        args.extend_from_slice(extra);
        common::recover_with(&img, &out, &args, 0);
        out
    };
    let base = run("default", &["-t", "2"]);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(base.join("report.json")).unwrap()).unwrap();
    let table = |name: &str| {
        report["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == name)
            .unwrap()
            .clone()
    };
    let (users, orders) = (table("users"), table("orders"));
    assert_eq!(users["rows_written"], 0);
    assert!(users["records_skipped"].as_u64().unwrap() > 1000, "{users}");
    assert!(
        users["notes"]
            .to_string()
            .contains("do not fill the page's record heap"),
        "{users}"
    );
    // Notes of up to 12 characters still fit.
    assert!(orders["rows_written"].as_u64().unwrap() > 1000, "{orders}");
    assert!(
        orders["records_skipped"].as_u64().unwrap() > 500,
        "{orders}"
    );
    let want = tree(&base);
    for (cap, threads) in [("0", "1"), ("64K", "2")] {
        let out = run(&format!("cap-{cap}"), &["--max-memory", cap, "-t", threads]);
        let got = tree(&out);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>()
        );
        for (p, b) in &want {
            assert!(got[p] == *b, "--max-memory {cap}: {} differs", p.display());
        }
    }
}

/// Peak RssAnon of a running child (sampled every 5 ms), in bytes.
fn run_sampling(cmd: &mut std::process::Command) -> (std::process::ExitStatus, u64) {
    let mut child = cmd.spawn().unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_path) {
            for l in s.lines() {
                if let Some(v) = l.strip_prefix("RssAnon:") {
                    let kib: u64 = v.trim().trim_end_matches("kB").trim().parse().unwrap_or(0);
                    peak = peak.max(kib * 1024);
                }
            }
        }
        if let Some(st) = child.try_wait().unwrap() {
            return (st, peak);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `salvage recover INPUT --schema WORK/schema.sql --db DB -o OUT
/// --max-memory LIMIT`, which must succeed; its peak RssAnon in bytes.
fn recover_sampled(input: &Path, work: &Path, db: &str, out: &Path, limit: &str) -> u64 {
    let (st, peak) = run_sampling(
        std::process::Command::new(assert_cmd::cargo::cargo_bin("salvage"))
            .arg("recover")
            .arg(input)
            .arg("--schema")
            .arg(work.join("schema.sql"))
            .arg("--db")
            .arg(db)
            .arg("-o")
            .arg(out)
            .arg("--max-memory")
            .arg(limit)
            .stdout(std::process::Stdio::null()),
    );
    assert!(
        st.success(),
        "recover {} --max-memory {limit}",
        input.display()
    );
    peak
}

/// A table made at test time by a real MariaDB (600,000 rows, a 110 MiB
/// tablespace; recovering it whole in memory took 200 MiB), a third of its
/// rows then deleted while a snapshot kept purge away (200,000 records
/// left delete-marked: their keys took 50 MiB before they could go to a
/// file), recovers under `--max-memory 32M` to exactly the rows the server
/// dumps, live and deleted, and the process's anonymous memory stays under
/// the cap. No temporary file is left in the output.
#[test]
fn table_larger_than_the_cap_recovers_exactly_under_it() {
    const CAP: u64 = 32 << 20;
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    common::mariadb_script(
        "big_table.py",
        &[work.as_os_str(), "600000".as_ref(), "3".as_ref()],
    );
    let ibd = work.join("t.ibd");
    assert!(std::fs::metadata(&ibd).unwrap().len() > 3 * CAP);
    let out = dir.path().join("out");
    let peak = recover_sampled(&ibd, &work, "big", &out, "32M");
    for (file, at_least) in [("t.csv", 400_000), ("t.deleted.csv", 200_000)] {
        let got = std::fs::read(out.join("big").join(file)).unwrap();
        let want = std::fs::read(work.join("truth/big").join(file)).unwrap();
        assert!(want.iter().filter(|&&c| c == b'\n').count() > at_least);
        assert!(
            got == want,
            "big.{file} differs from the server's dump ({} vs {} bytes)",
            got.len(),
            want.len()
        );
    }
    assert!(
        peak < CAP,
        "peak anonymous memory {} MiB over the 32 MiB cap",
        peak >> 20
    );
    let left: Vec<PathBuf> = tree(&out)
        .into_keys()
        .filter(|p| p.to_string_lossy().contains(".salvage-"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

/// BLOB and TEXT values far larger than the cap (a 64 MiB LONGBLOB of
/// SHA-256 output, a 16 MiB LONGTEXT with quotes, line breaks and 4-byte
/// characters, latin1 text, a 32 MiB utf32 LONGTEXT of the same characters
/// and a 384,000-byte one, streamed at 32M and held whole at 1G, values of
/// 61 to 110 KB around the streaming threshold; DYNAMIC, COMPACT with its
/// 768-byte prefix, and COMPRESSED zlib chains) made by a real MariaDB:
/// streamed to the CSV, not held, so the process stays under
/// `--max-memory 32M` (holding the BLOB and its hex alone would take
/// 192 MiB, the utf32 text alone 32 MiB), and every value is exact at that
/// cap and at a large one.
#[test]
fn values_larger_than_the_cap_stream_exactly_under_it() {
    const CAP: u64 = 32 << 20;
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    common::mariadb_script("big_blobs.py", &[work.as_os_str(), "64".as_ref()]);
    for (limit, capped) in [("32M", true), ("1G", false)] {
        let out = dir.path().join(format!("out-{limit}"));
        let peak = recover_sampled(&work.join("blobs.img"), &work, "blobs", &out, limit);
        // The CSV left the page cache as it was written (before this test
        // reads it back): at least one 32 MiB step of it is not resident.
        let csv = out.join("blobs/d.csv");
        let size = std::fs::metadata(&csv).unwrap().len();
        let o = std::process::Command::new("fincore")
            .args(["--bytes", "--noheadings", "--output", "RES"])
            .arg(&csv)
            .output()
            .expect("fincore (Debian package util-linux) must be installed");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let resident: u64 = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap();
        assert!(
            size > 64 << 20 && resident + (32 << 20) <= size,
            "blobs/d.csv at {limit}: {resident} of {size} bytes still in the page cache"
        );
        for t in ["d", "c", "z"] {
            let got = std::fs::read(out.join(format!("blobs/{t}.csv"))).unwrap();
            let want = std::fs::read(work.join(format!("truth/blobs/{t}.csv"))).unwrap();
            assert!(
                got == want,
                "blobs.{t} at {limit}: {} bytes, the server's rows {} bytes",
                got.len(),
                want.len()
            );
        }
        if capped {
            assert!(
                peak < CAP,
                "peak anonymous memory {} MiB over the 32 MiB cap",
                peak >> 20
            );
        }
    }
}
