//! `salvage scan` from the command line: output formats, determinism across
//! thread counts and read modes, exit codes, byte ranges, huge sparse images.

use crate::common;

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use assert_cmd::Command;

fn salvage() -> Command {
    Command::cargo_bin("salvage").unwrap()
}

fn stdout_of(args: &[&str], img: &Path) -> Vec<u8> {
    let out = salvage().args(args).arg(img).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Not a terminal: no progress bar, only the closing summary in words.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains('\r') && !err.contains('\x1b'),
        "stderr is not a terminal: no progress output expected: {err}"
    );
    assert!(
        err.lines().last().is_some_and(|l| l.starts_with("scan: ")),
        "scan ends with its summary on stderr: {err}"
    );
    out.stdout
}

/// An image with corpus and MariaDB tablespaces at random offsets.
fn mixed_image(dir: &Path) -> (std::path::PathBuf, Vec<u64>) {
    let mut datas: Vec<Vec<u8>> = common::corpus_sample(20, 99)
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect();
    let dd = common::unpack_datadir("p8k");
    for f in common::innodb_files(dd.path()).iter().take(8) {
        datas.push(std::fs::read(f).unwrap());
    }
    let img = dir.join("mixed.img");
    let total: u64 = datas.iter().map(|d| d.len() as u64 + 65536).sum();
    let offs = common::build_embedded_image(&img, 2 * total + (16 << 20), &datas, 5);
    (img, offs)
}

#[test]
fn json_and_list_pages_identical_with_1_and_2_threads_and_without_mmap() {
    let dir = tempfile::tempdir().unwrap();
    let (img, _) = mixed_image(dir.path());
    for mode in [&["--json"][..], &["--list-pages"][..]] {
        let a = stdout_of(&[&["scan", "-t", "1"], mode].concat(), &img);
        let b = stdout_of(&[&["scan", "-t", "2"], mode].concat(), &img);
        let c = stdout_of(&[&["scan", "-t", "2", "--no-mmap"], mode].concat(), &img);
        assert!(a.len() > 1000);
        assert_eq!(a, b, "{mode:?}: -t 1 vs -t 2");
        assert_eq!(a, c, "{mode:?}: mmap vs pread");
    }
}

#[test]
fn list_pages_has_exactly_the_documented_fields() {
    let f = common::corpus().join("KernelMaker__ibdNinja/tests/8.4/fixtures/simple_table.ibd");
    let out = stdout_of(&["scan", "--list-pages"], &f);
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5);
    let v: serde_json::Value = serde_json::from_str(lines[4]).unwrap();
    // Keys in the order they are written.
    let keys: Vec<&str> = lines[4]
        .split('"')
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|w| w[1].starts_with(':'))
        .map(|w| w[0])
        .collect();
    assert_eq!(
        keys,
        [
            "offset",
            "space_id",
            "page_no",
            "page_type",
            "page_size",
            "lsn",
            "checksum",
            "status",
            "reason"
        ]
    );
    assert_eq!(v["offset"], 65536);
    assert_eq!(v["page_no"], 4);
    assert_eq!(v["page_type"], 17855);
    assert_eq!(v["page_size"], 16384);
    assert_eq!(v["checksum"], "crc32c");
    assert_eq!(v["status"], "ok");
    assert!(v["reason"].is_null());
}

#[test]
fn human_output_names_tablespaces_and_indexes() {
    let f = common::corpus().join("KernelMaker__ibdNinja/tests/8.0/fixtures/multi_page.ibd");
    let out = salvage()
        .args(["scan", "--color", "never"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("mysql8-sdi"), "{text}");
    assert!(text.contains("INDEX:12"), "{text}");
    assert!(
        text.contains("500"),
        "leaf records of the clustered index: {text}"
    );
    assert!(!text.contains('\x1b'), "no colour when asked for none");
    // The summary on stderr counts what --json counts.
    let json: serde_json::Value =
        serde_json::from_slice(&stdout_of(&["scan", "--json"], &f)).unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    let spaces = json["tablespaces"].as_array().unwrap().len();
    let want = format!(
        "scan: {} page copies of {spaces} tablespaces: ",
        json["pages_found"]
    );
    assert!(err.starts_with(&want), "{err} / {want}");
}

#[test]
fn exit_codes_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing found: exit 1.
    let noise = dir.path().join("noise.img");
    let mut buf = vec![0u8; 4 << 20];
    common::Rng(1).fill(&mut buf);
    std::fs::write(&noise, &buf).unwrap();
    let out = salvage().arg("scan").arg(&noise).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no InnoDB pages found"));
    // Missing image: exit 2, the path named.
    let out = salvage()
        .args(["scan", "/nonexistent/disk.img"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/disk.img") && err.contains("cannot open"),
        "{err}"
    );
    // A range past the end: exit 2, the offsets named.
    let out = salvage()
        .args(["scan", "--offset", "8M"])
        .arg(&noise)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("8388608"));
    // An empty file is an empty image.
    let empty = dir.path().join("empty.img");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(
        salvage()
            .arg("scan")
            .arg(&empty)
            .output()
            .unwrap()
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn offset_and_length_scan_one_range() {
    let dir = tempfile::tempdir().unwrap();
    let (img, offs) = mixed_image(dir.path());
    let f = common::corpus_sample(20, 99)[0].clone();
    let len = std::fs::metadata(&f).unwrap().len();
    let alone = common::carve_file(&f, 1);
    let out = stdout_of(
        &[
            "scan",
            "--list-pages",
            "--offset",
            &offs[0].to_string(),
            "--length",
            &len.to_string(),
        ],
        &img,
    );
    let found: Vec<u64> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["offset"]
                .as_u64()
                .unwrap()
        })
        .collect();
    let expect: Vec<u64> = alone.pages.iter().map(|p| p.offset + offs[0]).collect();
    assert_eq!(found, expect);
}

/// A 64 GiB sparse image with real pages at scattered offsets: all found,
/// holes skipped, peak memory small.
#[test]
fn sparse_64_gib_image() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("huge.img");
    let mut f = std::fs::File::create(&img).unwrap();
    f.set_len(64 << 30).unwrap();
    let src = std::fs::read(
        common::corpus().join("jeremycole__innodb_ruby/spec/data/sakila/8.4/sakila/film.ibd"),
    )
    .unwrap();
    let pages: Vec<&[u8]> = src
        .chunks(16384)
        .filter(|c| c.iter().any(|&b| b != 0))
        .collect();
    let mut rng = common::Rng(64);
    let mut offsets: Vec<u64> = (0..40)
        .map(|_| rng.below((64u64 << 30) / 512 - 64) * 512)
        .collect();
    offsets.sort();
    offsets.dedup_by(|a, b| *a - *b < 65536);
    for (i, &o) in offsets.iter().enumerate() {
        f.seek(SeekFrom::Start(o)).unwrap();
        f.write_all(pages[i % pages.len()]).unwrap();
    }
    drop(f);
    let out = salvage()
        .args(["scan", "--list-pages", "--stats"])
        .arg(&img)
        .output()
        .unwrap();
    assert!(out.status.success());
    let found: Vec<u64> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["offset"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(found, offsets);
    let err = String::from_utf8(out.stderr).unwrap();
    let peak: u64 = err
        .split("peak memory ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no peak memory in {err:?}"));
    assert!(peak < 200, "peak memory {peak} MiB");
}

/// A compressed image holds no pages: the warning says what it is and
/// what to do, and the exit code says nothing was found.
#[test]
fn compressed_image_is_named() {
    let out = salvage()
        .arg("scan")
        .arg(common::fixtures().join("demo.img.zst"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("zstd-compressed") && err.contains("zstd -d"),
        "{err}"
    );
}
