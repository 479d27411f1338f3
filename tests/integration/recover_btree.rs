//! Which leaf pages are still part of the index: the extent descriptors'
//! free bits, and the leaf list from the leftmost leaf to the rightmost.
//! On a real MariaDB `users.ibd` (19,980 live rows; one leaf page freed
//! after deletes), with and without the descriptor page.

use crate::common;

use std::path::Path;

use salvage::score::score_dirs;

const PAGE: usize = 16384;

fn recover(file: &Path, out: &Path) -> serde_json::Value {
    let schema = common::fixtures().join("main/truth/schema.sql");
    let schema = schema.to_str().unwrap();
    common::recover_with(file, out, &["--schema", schema, "--table", "shop.users"], 0);
    serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap()
}

/// (matched live, truth live, recovered live, matched deleted, truth deleted).
fn score(out: &Path, truth: &Path) -> (usize, usize, usize, usize, usize) {
    let r = score_dirs(out, truth).unwrap();
    let live = r
        .tables
        .iter()
        .find(|t| t.table == "shop.users" && !t.deleted)
        .unwrap();
    let del = r
        .tables
        .iter()
        .find(|t| t.table == "shop.users" && t.deleted)
        .unwrap();
    (
        live.matched_rows,
        live.truth_rows,
        live.recovered_rows,
        del.matched_rows,
        del.truth_rows,
    )
}

fn notes(report: &serde_json::Value) -> String {
    report["tables"][0]["notes"].to_string()
}

#[test]
fn freed_leaf_is_not_live_with_or_without_the_extent_descriptors() {
    let data = common::unpack_datadir("main");
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth");
    std::fs::create_dir_all(truth.join("shop")).unwrap();
    let src = common::fixtures().join("main/truth");
    for f in ["schema.sql", "shop/users.csv", "shop/users.deleted.csv"] {
        std::fs::copy(src.join(f), truth.join(f)).unwrap();
    }
    let ibd = std::fs::read(data.path().join("shop/users.ibd")).unwrap();

    // Intact: the descriptor page marks one leaf page free.
    let intact = dir.path().join("users.ibd");
    std::fs::write(&intact, &ibd).unwrap();
    let out = dir.path().join("intact");
    let report = recover(&intact, &out);
    assert!(notes(&report).contains("marked free"), "{}", notes(&report));
    let base = score(&out, &truth);
    eprintln!("intact: {base:?}");
    assert_eq!((base.0, base.1, base.2), (19_980, 19_980, 19_980));
    assert!(base.3 > 0, "deleted rows come back");

    // Page 0 (the extent descriptors) zeroed: the freed page's neighbours
    // no longer link to it, so its records still count as deleted, and
    // every live row is still there, once.
    let mut no_xdes = ibd.clone();
    no_xdes[..PAGE].fill(0);
    let file = dir.path().join("users-no-xdes.ibd");
    std::fs::write(&file, &no_xdes).unwrap();
    let out = dir.path().join("no-xdes");
    let report = recover(&file, &out);
    let n = notes(&report);
    assert!(n.contains("no longer on the index's leaf list"), "{n}");
    assert!(!n.contains("marked free"), "{n}");
    assert_eq!(score(&out, &truth), base);
    assert_eq!(
        std::fs::read(out.join("shop/users.csv")).unwrap(),
        std::fs::read(dir.path().join("intact/shop/users.csv")).unwrap()
    );

    // A leaf page in the middle of the list lost as well: the list is
    // broken, so every leaf page found is used, and the rows of the lost
    // page are all that is missing.
    let leaf = (3..ibd.len() / PAGE)
        .find(|&n| {
            let p = &ibd[n * PAGE..(n + 1) * PAGE];
            let prev = u32::from_be_bytes(p[8..12].try_into().unwrap());
            let next = u32::from_be_bytes(p[12..16].try_into().unwrap());
            let ty = u16::from_be_bytes(p[24..26].try_into().unwrap());
            let level = u16::from_be_bytes(p[64..66].try_into().unwrap());
            ty == 17855 && level == 0 && prev != u32::MAX && next != u32::MAX && n > 40
        })
        .unwrap();
    let lost_recs = u16::from_be_bytes(ibd[leaf * PAGE + 54..leaf * PAGE + 56].try_into().unwrap());
    let mut holed = no_xdes;
    holed[leaf * PAGE..(leaf + 1) * PAGE].fill(0);
    let file = dir.path().join("users-holed.ibd");
    std::fs::write(&file, &holed).unwrap();
    let out = dir.path().join("holed");
    let report = recover(&file, &out);
    let n = notes(&report);
    assert!(n.contains("cannot be followed"), "{n}");
    assert_eq!(report["tables"][0]["leaf_pages_missing"], 1);
    let s = score(&out, &truth);
    eprintln!("page {leaf} ({lost_recs} records) lost: {s:?}");
    // Exactly the lost page's rows are missing, none is wrong, and the
    // merged-away page's records still count as deleted (its neighbours
    // link to each other, not to it).
    let lost = lost_recs as usize;
    assert_eq!(s, (19_980 - lost, 19_980, 19_980 - lost, base.3, base.4));
}

/// ROW_FORMAT=COMPRESSED tablespaces: one descriptor page per zip-size
/// pages, extents of the logical page size. On real files of every
/// KEY_BLOCK_SIZE, no page holding an index page is read as free, and the
/// unused pages past the used ones are.
#[test]
fn extent_descriptors_of_compressed_tablespaces() {
    use salvage::innodb::fsp::{free_pages_in_xdes, sizes_from_flags, FspHeader};
    let data = common::unpack_datadir("main");
    for kbs in [1, 2, 4, 8, 16] {
        let f = data.path().join(format!("types/t_compressed_{kbs}.ibd"));
        let b = std::fs::read(&f).unwrap();
        let zip = kbs * 1024;
        let h = FspHeader::parse(&b[..zip]).unwrap();
        let sizes = sizes_from_flags(h.flags).unwrap();
        assert_eq!(sizes.zip, Some(zip as u32));
        let free = free_pages_in_xdes(&b[..zip], 0, zip as u32, sizes.logical).unwrap();
        let n_pages = b.len() / zip;
        let mut index_pages = 0;
        for n in 0..n_pages {
            let p = &b[n * zip..(n + 1) * zip];
            if u16::from_be_bytes([p[24], p[25]]) == 17855 {
                index_pages += 1;
                assert!(
                    !free.contains(&(n as u32)),
                    "{kbs}K: index page {n} read as free"
                );
            }
        }
        assert!(index_pages > 0);
        // Pages past the last one in use, up to the free limit, are free.
        let last_used = (0..n_pages)
            .rev()
            .find(|&n| b[n * zip..(n + 1) * zip].iter().any(|&x| x != 0))
            .unwrap() as u32;
        let tail: Vec<u32> = (last_used + 1..h.free_limit.min(64)).collect();
        assert!(
            tail.iter().all(|n| free.contains(n)),
            "{kbs}K: {tail:?} not all free in {free:?}"
        );
        eprintln!(
            "{kbs}K: {n_pages} pages, {index_pages} index pages, free limit {}, {} free",
            h.free_limit,
            free.len()
        );
    }
}
