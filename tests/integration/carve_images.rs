//! The carver on disk images shaped like a cloud VM's disk (GPT, one ext4 or
//! XFS partition at 1 MiB, a MariaDB data directory in /var/lib/mysql),
//! written by mke2fs -d / mkfs.xfs -p, which store files sparsely: pages
//! with all-zero 4 KiB blocks come back only by reassembly. Then the same
//! image under every scripted damage.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use salvage::carve::store::PageStore;
use salvage::carve::{PageRecord, Reason, Status};

fn carve_bytes(img: &[u8], threads: usize) -> PageStore {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("img");
    std::fs::write(&p, img).unwrap();
    common::carve_file(&p, threads)
}

fn good(p: &PageRecord) -> bool {
    matches!(p.status, Status::Ok | Status::Reassembled)
}

/// Every page of the data directory (its newest copy) is in the image, with
/// the same LSN, and nothing in the image is damaged.
#[test]
fn main_image_holds_every_page_of_its_datadir() {
    let img = common::unzstd("images/main-ext4-modern.img.zst");
    let store = carve_bytes(&img, 2);
    assert_eq!(store.damaged().count(), 0);
    let reassembled = store
        .pages
        .iter()
        .filter(|p| p.status == Status::Reassembled)
        .count();
    assert!(reassembled > 100, "sparse pages reassembled: {reassembled}");
    let in_image: BTreeMap<(u32, u32), u64> = store
        .best_copies()
        .map(|p| ((p.space_id, p.page_no), p.lsn))
        .collect();
    let dir = common::unpack_datadir("main");
    let mut checked = 0;
    let mut missing = Vec::new();
    for f in common::innodb_files(dir.path()) {
        let alone = common::carve_file(&f, 1);
        for p in alone.best_copies() {
            match in_image.get(&(p.space_id, p.page_no)) {
                Some(&lsn) => assert_eq!(
                    lsn,
                    p.lsn,
                    "{}: space {} page {}",
                    f.display(),
                    p.space_id,
                    p.page_no
                ),
                None => missing.push(format!("{}:{}", p.space_id, p.page_no)),
            }
            checked += 1;
        }
    }
    assert!(checked > 900, "{checked} pages checked");
    // A page whose file blocks are interrupted by an ext4 extent-tree block
    // cannot be carved from contiguous bytes (the file system layer puts it
    // back). Every page missing here is one of those.
    let pages_by_id: BTreeMap<String, Vec<u8>> = common::innodb_files(dir.path())
        .iter()
        .flat_map(|f| {
            let data = std::fs::read(f).unwrap();
            let alone = common::carve_file(f, 1);
            alone
                .pages
                .iter()
                .map(|p| {
                    let (a, b) = (p.offset as usize, (p.offset + p.phys_size as u64) as usize);
                    (format!("{}:{}", p.space_id, p.page_no), data[a..b].to_vec())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    for m in &missing {
        let page = &pages_by_id[m];
        let head = &page[..4096];
        let at = img
            .windows(4096)
            .step_by(512)
            .position(|w| w == head)
            .expect("first block on disk")
            * 512;
        assert_eq!(
            &img[at + 4096..at + 4098],
            &[0x0a, 0xf3],
            "page {m}: next block is not an ext4 extent node"
        );
    }
    assert!(
        missing.len() <= 2,
        "{} of {checked} pages missing: {missing:?}",
        missing.len()
    );
}

/// The older images (2018 ext4 feature set, fragmented files, XFS) hold the
/// demo instance: no damage, every shop table's tablespace present.
#[test]
fn demo_images_scan_clean() {
    let mut counts = Vec::new();
    for name in [
        "demo-ext4-modern",
        "demo-ext4-2018",
        "demo-ext4-fragmented",
        "demo-xfs",
    ] {
        let img = common::unzstd(&format!("images/{name}.img.zst"));
        let store = carve_bytes(&img, 2);
        if name.contains("fragmented") {
            // Pages split across fragments have no trailer where they end.
            for p in store.damaged() {
                assert!(
                    matches!(p.reason, Reason::NoTrailer { .. }),
                    "{name}: {:?}",
                    p.reason
                );
            }
        } else {
            assert_eq!(store.damaged().count(), 0, "{name}");
        }
        let pages: BTreeSet<(u32, u32, u64)> = store
            .best_copies()
            .map(|p| (p.space_id, p.page_no, p.lsn))
            .collect();
        let records: u64 = store.indexes().iter().map(|i| i.records).sum();
        counts.push((name, pages, records));
    }
    // The same data directory on four file systems: the same pages.
    for (name, pages, records) in &counts[1..] {
        assert_eq!(pages, &counts[0].1, "{name} vs {}", counts[0].0);
        assert_eq!(records, &counts[0].2, "{name}");
    }
    // shop.users alone has 2,997 live rows in the demo instance.
    assert!(counts[0].2 > 2997 + 1943, "records {}", counts[0].2);
}

/// Under each scripted damage: every page whose bytes the damage did not
/// change is found exactly as on the clean image; no page whose bytes did
/// change is reported good; nothing good appears that was not there.
#[test]
fn damaged_images_keep_every_untouched_page_and_invent_none() {
    let clean = common::unzstd("images/main-ext4-modern.img.zst");
    let clean_store = carve_bytes(&clean, 2);
    let clean_set: BTreeSet<_> = common::page_keys(&clean_store, 0).into_iter().collect();
    let dir = common::fixtures().join("images/damage");
    let mut recipes: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    recipes.sort();
    assert!(recipes.len() >= 8, "damage recipes: {}", recipes.len());
    for r in recipes {
        let name = r.file_stem().unwrap().to_string_lossy().to_string();
        let recipe: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&r).unwrap()).unwrap();
        let mut img = clean.clone();
        common::apply_damage(&mut img, &recipe);
        let store = carve_bytes(&img, 2);
        let found: BTreeMap<u64, &PageRecord> = store.pages.iter().map(|p| (p.offset, p)).collect();
        let (mut kept, mut changed, mut changed_reported) = (0, 0, 0);
        for p in clean_store.pages.iter() {
            let (a, b) = (p.offset as usize, (p.offset + p.phys_size as u64) as usize);
            let same = b <= img.len() && img[a..b] == clean[a..b];
            let now = found.get(&p.offset);
            if same {
                let now =
                    now.unwrap_or_else(|| panic!("{name}: untouched page at {} lost", p.offset));
                assert_eq!(
                    (now.space_id, now.page_no, now.lsn, now.status),
                    (p.space_id, p.page_no, p.lsn, p.status),
                    "{name}"
                );
                kept += 1;
            } else {
                changed += 1;
                if let Some(now) = now {
                    assert!(
                        !good(now),
                        "{name}: changed page at {} reported good",
                        p.offset
                    );
                    changed_reported += 1;
                }
            }
        }
        for p in store.pages.iter().filter(|p| good(p)) {
            let key = (
                p.offset,
                p.space_id,
                p.page_no,
                p.page_type,
                p.phys_size,
                p.checksum.as_str(),
                p.status.as_str(),
            );
            assert!(clean_set.contains(&key), "{name}: invented page {key:?}");
        }
        eprintln!("{name}: {kept} pages untouched and found, {changed} changed by damage, {changed_reported} of them reported damaged");
    }
}

/// Bytes that only look like a page are not damage: a copy of a real leaf
/// page of the image with its page number moved far beyond its tablespace
/// (and a body byte changed, so no checksum holds), and one with its LSN
/// moved far beyond every page's, are rejected and counted; a copy with
/// three damaged body bytes (not repairable) is still listed as damaged.
#[test]
fn impossible_candidates_are_rejected_not_reported_as_damage() {
    let mut img = common::unzstd("images/main-ext4-modern.img.zst");
    let clean = carve_bytes(&img, 2);
    assert_eq!(clean.rejected, 0);
    let src = clean
        .pages
        .iter()
        .find(|p| p.status == Status::Ok && p.phys_size == 16384 && p.level == 0 && p.n_recs > 20)
        .expect("a 16 KiB leaf page");
    let page = img[src.offset as usize..src.offset as usize + 16384].to_vec();
    // Three free 16 KiB blocks near the end of the partition.
    let free: Vec<usize> = (0..img.len() / 16384)
        .rev()
        .skip(64)
        .filter(|&b| img[b * 16384..(b + 1) * 16384].iter().all(|&x| x == 0))
        .take(3)
        .map(|b| b * 16384)
        .collect();
    assert_eq!(free.len(), 3);
    let mut far_page_no = page.clone();
    far_page_no[4..8].copy_from_slice(&40_000_000u32.to_be_bytes());
    far_page_no[5000] ^= 0x5a;
    let mut far_lsn = page.clone();
    // Four bytes changed: no one-byte repair fits.
    let lsn = u64::from_be_bytes(page[16..24].try_into().unwrap()) ^ (0x0123_4567 << 32);
    far_lsn[16..24].copy_from_slice(&lsn.to_be_bytes());
    let mut damaged = page.clone();
    for at in [3000, 7000, 11000] {
        damaged[at] ^= 0xa5;
    }
    for (at, bytes) in free.iter().zip([&far_page_no, &far_lsn, &damaged]) {
        img[*at..*at + 16384].copy_from_slice(bytes);
    }
    let store = carve_bytes(&img, 2);
    assert_eq!(store.rejected, 2, "two impossible candidates rejected");
    let listed: BTreeSet<u64> = store.damaged().map(|p| p.offset).collect();
    assert!(
        !listed.contains(&(free[0] as u64)),
        "far page number listed"
    );
    assert!(!listed.contains(&(free[1] as u64)), "far LSN listed");
    assert!(listed.contains(&(free[2] as u64)), "real damage not listed");
    assert_eq!(listed.len(), 1, "{listed:?}");
}
