//! The carver on every tablespace of the shared corpus: real files written
//! by MySQL 5.0 to 9.6. Each folder's SOURCE.md gives a histogram of page
//! checksum kinds and page types; scanning must reproduce it exactly, and
//! every page must be found at its place with its own space id and number.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use salvage::carve::Status;
use salvage::innodb::fil;

/// One "Structural check" entry of a SOURCE.md.
struct Expect {
    folder: PathBuf,
    checksums: BTreeMap<String, u64>,
    types: BTreeMap<String, u64>,
}

fn parse_hist(s: &str) -> BTreeMap<String, u64> {
    s.split(", ")
        .filter_map(|kv| {
            let (k, v) = kv.trim().rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect()
}

fn expectations() -> Vec<Expect> {
    let corpus = common::corpus();
    let mut out = Vec::new();
    for src in common::files_with_ext(&corpus, "SOURCE.md") {
        let base = src.parent().unwrap().to_path_buf();
        let text = std::fs::read_to_string(&src).unwrap();
        let Some(section) = text.split("## Structural check").nth(1) else {
            continue;
        };
        let mut cur: Option<Expect> = None;
        for line in section.lines() {
            if line.starts_with("## ") {
                break;
            }
            if let Some(rest) = line.strip_prefix("- `") {
                if let Some(e) = cur.take() {
                    out.push(e);
                }
                let folder = rest.split('`').next().unwrap();
                cur = Some(Expect {
                    folder: base.join(folder),
                    checksums: BTreeMap::new(),
                    types: BTreeMap::new(),
                });
            } else if let Some(e) = cur.as_mut() {
                if let Some(h) = line.trim().strip_prefix("- page checksum kinds (pages): ") {
                    e.checksums = parse_hist(h);
                } else if let Some(h) = line.trim().strip_prefix("- page types (pages): ") {
                    e.types = parse_hist(h);
                }
            }
        }
        out.extend(cur);
    }
    out.retain(|e| !e.checksums.is_empty());
    out
}

/// The files a folder entry covers: its .ibd files, recursively, except
/// those under a deeper folder that has its own entry.
fn folder_files(e: &Expect, all: &[Expect]) -> Vec<PathBuf> {
    common::files_with_ext(&e.folder, ".ibd")
        .into_iter()
        .filter(|f| {
            !all.iter().any(|o| {
                o.folder != e.folder && o.folder.starts_with(&e.folder) && f.starts_with(&o.folder)
            })
        })
        .collect()
}

fn type_label(t: u16) -> String {
    match t {
        18 => "SDI_BLOB|MDB_INSTANT".to_string(),
        t => fil::type_name(t).to_string(),
    }
}

#[test]
fn every_corpus_tablespace_scans_to_its_histogram() {
    let all = expectations();
    assert!(
        all.len() >= 12,
        "expected the corpus SOURCE.md histograms, found {}",
        all.len()
    );
    let mut checked_files = 0;
    for e in &all {
        let files = folder_files(e, &all);
        assert!(!files.is_empty(), "no .ibd under {}", e.folder.display());
        let mut checksums: BTreeMap<String, u64> = BTreeMap::new();
        let mut types: BTreeMap<String, u64> = BTreeMap::new();
        for f in &files {
            let store = common::carve_file(f, 2);
            let size = std::fs::metadata(f).unwrap().len();
            let n_slots = size / 16384;
            let found = store.pages.len() as u64;
            *checksums.entry("empty".into()).or_default() += n_slots - found;
            *types.entry("ALLOCATED".into()).or_default() += n_slots - found;
            let space = store.pages.first().map(|p| p.space_id);
            for p in &store.pages {
                assert_eq!(
                    p.status,
                    Status::Ok,
                    "{}: page at {} is {:?}",
                    f.display(),
                    p.offset,
                    p.reason
                );
                assert_eq!(
                    p.offset,
                    p.page_no as u64 * 16384,
                    "{}: page number vs offset",
                    f.display()
                );
                assert_eq!(Some(p.space_id), space, "{}: mixed space ids", f.display());
                assert_eq!(p.phys_size, 16384);
                *checksums
                    .entry(p.checksum.as_str().to_string())
                    .or_default() += 1;
                *types.entry(type_label(p.page_type)).or_default() += 1;
            }
            checked_files += 1;
        }
        assert_eq!(
            checksums,
            e.checksums,
            "checksum kinds in {}",
            e.folder.display()
        );
        assert_eq!(types, e.types, "page types in {}", e.folder.display());
    }
    assert!(
        checked_files > 200,
        "only {checked_files} corpus files checked"
    );
}

#[test]
fn corpus_index_summaries_count_records() {
    // multi_page.sql inserts 500 rows into a two-level B-tree.
    let f = common::corpus().join("KernelMaker__ibdNinja/tests/8.0/fixtures/multi_page.ibd");
    let store = common::carve_file(Path::new(&f), 1);
    let idx = store.indexes();
    let clustered = idx
        .iter()
        .find(|i| i.levels == 2)
        .expect("a two-level index");
    assert_eq!(clustered.records, 500);
    assert_eq!(clustered.leaf_pages, 11);
}
