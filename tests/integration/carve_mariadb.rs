//! The carver on data files written by a real MariaDB 10.11 server
//! (fixtures made by scripts/make-fixtures.sh): full_crc32 and the older
//! crc32 format, page sizes 4 to 64 KiB, ROW_FORMAT=COMPRESSED with every
//! KEY_BLOCK_SIZE, PAGE_COMPRESSED tables.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use salvage::carve::Status;
use salvage::innodb::fil;

/// Every non-empty page slot of every data file is found, at its slot, good.
fn check_instance(instance: &str, page_size: u32, fcrc32: bool) -> BTreeMap<String, u64> {
    let dir = common::unpack_datadir(instance);
    let files = common::innodb_files(dir.path());
    assert!(
        files.len() > 10,
        "{instance}: only {} data files",
        files.len()
    );
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let store = common::carve_file(f, 2);
        let name = f.strip_prefix(dir.path()).unwrap().display().to_string();
        assert!(!store.pages.is_empty(), "{instance}/{name}: no pages");
        // Slot size: the physical size of uncompressed or ROW_FORMAT=COMPRESSED
        // pages; page_compressed pages occupy a logical page slot.
        let zip = store
            .pages
            .iter()
            .find(|p| p.page_no == 0)
            .map(|p| p.phys_size);
        let slot = zip.unwrap_or(page_size) as u64;
        // ibdata1's doublewrite buffer (two extents from page FSP_EXTENT_SIZE)
        // holds copies of pages of any tablespace.
        let extent: u64 = match page_size {
            4096 => 256,
            8192 => 128,
            _ => 64,
        };
        // ROW_FORMAT=COMPRESSED files say so in their FSP flags (page 0).
        let flags = salvage::innodb::fsp::FspHeader::parse(&data)
            .map(|h| h.flags)
            .unwrap();
        let file_zip =
            salvage::innodb::fsp::sizes_from_flags(flags).is_some_and(|s| s.zip.is_some());
        let compressed_ok = |p: &salvage::carve::PageRecord| p.checksum.as_str() == "compressed";
        for p in &store.pages {
            assert_eq!(
                p.status,
                Status::Ok,
                "{instance}/{name} page {} at {}: {:?}",
                p.page_no,
                p.offset,
                p.reason
            );
            let slot_no = p.offset / slot;
            let in_dblwr = name == "ibdata1" && (extent..3 * extent).contains(&slot_no);
            if !in_dblwr {
                assert_eq!(
                    p.offset,
                    p.page_no as u64 * slot,
                    "{instance}/{name}: page {} misplaced",
                    p.page_no
                );
            }
            if !file_zip && !compressed_ok(p) {
                let expect = if fcrc32 { "full_crc32" } else { "crc32c" };
                assert_eq!(
                    p.checksum.as_str(),
                    expect,
                    "{instance}/{name} page {}",
                    p.page_no
                );
            }
            if compressed_ok(p) {
                assert!(p.phys_size < page_size);
                assert_eq!(
                    p.logical_size, page_size,
                    "{instance}/{name}: inflated size"
                );
            }
            let label = format!(
                "{}{}",
                p.checksum.as_str(),
                if p.phys_size != page_size && !compressed_ok(p) {
                    format!("/{}", p.phys_size)
                } else {
                    String::new()
                }
            );
            *kinds.entry(label).or_default() += 1;
        }
        // Non-empty slots whose header claims the slot (page number field).
        let nonempty = data
            .chunks(slot as usize)
            .enumerate()
            .filter(|(i, c)| {
                let claims = c[4..8] == (*i as u32).to_be_bytes();
                let dblwr = name == "ibdata1" && (extent..3 * extent).contains(&(*i as u64));
                c.iter().any(|&b| b != 0) && (claims || dblwr)
            })
            .count();
        assert_eq!(
            store.pages.len(),
            nonempty,
            "{instance}/{name}: pages found vs non-empty slots of {slot} bytes"
        );
        let sizes: BTreeSet<u32> = store.spaces().iter().map(|s| s.page_size).collect();
        assert!(
            sizes.iter().all(|&s| s == page_size || s == 0),
            "{instance}/{name}: page sizes {sizes:?}"
        );
    }
    kinds
}

#[test]
fn main_instance_full_crc32_16k() {
    let kinds = check_instance("main", 16384, true);
    // COMPRESSED tables with every KEY_BLOCK_SIZE, and PAGE_COMPRESSED ones.
    for k in [
        "full_crc32",
        "compressed",
        "crc32c/1024",
        "crc32c/2048",
        "crc32c/4096",
        "crc32c/8192",
    ] {
        assert!(kinds.contains_key(k), "no {k} pages in main: {kinds:?}");
    }
}

#[test]
fn crc32_instance_pre_10_5_format() {
    let kinds = check_instance("crc32", 16384, false);
    for k in ["crc32c", "compressed", "crc32c/1024", "crc32c/8192"] {
        assert!(kinds.contains_key(k), "no {k} pages in crc32: {kinds:?}");
    }
    assert!(!kinds.contains_key("full_crc32"));
}

#[test]
fn every_page_size() {
    for (inst, size) in [
        ("p4k", 4096),
        ("p8k", 8192),
        ("p32k", 32768),
        ("p64k", 65536),
    ] {
        let kinds = check_instance(inst, size, true);
        assert!(
            kinds.get("full_crc32").copied().unwrap_or(0) > 20,
            "{inst}: {kinds:?}"
        );
    }
}

/// All of an instance's files, embedded at random 512-byte offsets in random
/// bytes: every page found at its place, nothing else.
#[test]
fn mariadb_files_found_at_random_offsets() {
    for (inst, seed) in [("main", 21), ("crc32", 22), ("p4k", 23), ("p64k", 24)] {
        let dir = common::unpack_datadir(inst);
        let files = common::innodb_files(dir.path());
        let datas: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
        let total: u64 = datas.iter().map(|d| d.len() as u64).sum();
        let img = dir.path().join("embedded.img");
        let offsets = common::build_embedded_image(&img, total * 2 + (64 << 20), &datas, seed);
        let mut expected = BTreeSet::new();
        for (f, &off) in files.iter().zip(&offsets) {
            expected.extend(common::page_keys(&common::carve_file(f, 1), off));
        }
        let store = common::carve_file(&img, 2);
        let found: BTreeSet<_> = common::page_keys(&store, 0).into_iter().collect();
        let missing: Vec<_> = expected.difference(&found).take(5).collect();
        let extra: Vec<_> = found.difference(&expected).take(5).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{inst}: missing {missing:?}, extra {extra:?}"
        );
        // The index summaries name real index pages.
        assert!(store
            .pages
            .iter()
            .any(|p| p.page_type == fil::FIL_PAGE_INDEX && p.is_index()));
    }
}
