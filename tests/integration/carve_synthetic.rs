//! The carver on generated images that hold real tablespaces at arbitrary
//! 512-byte offsets inside random filler: every page found where it was
//! put, nothing found anywhere else, damage reported with its reason.

use crate::common;

use std::collections::BTreeSet;

use crate::common::Rng;
use salvage::carve::scan::{scan, ScanRange};
use salvage::carve::{Reason, Status};
use salvage::image::{Image, ReadMode};

fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("salvage-test")
        .tempdir()
        .unwrap()
}

#[test]
fn corpus_tablespaces_found_at_random_offsets() {
    let files = common::corpus_sample(60, 7);
    let datas: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let dir = tmp();
    let img = dir.path().join("embedded.img");
    let offsets = common::build_embedded_image(&img, 192 << 20, &datas, 11);
    let mut expected = BTreeSet::new();
    for (f, &off) in files.iter().zip(&offsets) {
        let alone = common::carve_file(f, 1);
        assert!(!alone.pages.is_empty(), "{} has no pages", f.display());
        expected.extend(common::page_keys(&alone, off));
    }
    for threads in [1, 2] {
        let store = common::carve_file(&img, threads);
        let found: BTreeSet<_> = common::page_keys(&store, 0).into_iter().collect();
        let missing: Vec<_> = expected.difference(&found).take(5).collect();
        let extra: Vec<_> = found.difference(&expected).take(5).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "missing {missing:?}, extra {extra:?}"
        );
        assert_eq!(found.len(), expected.len());
    }
}

/// 1 GiB of random bytes, zeros and text: no page, no damaged page.
#[test]
fn no_false_positives_in_random_zeros_and_text() {
    use std::io::Write;
    let dir = tmp();
    let img = dir.path().join("noise.img");
    let mut f = std::fs::File::create(&img).unwrap();
    let mut rng = Rng(0x5EED);
    let mut buf = vec![0u8; 1 << 20];
    // 448 MiB random.
    for _ in 0..448 {
        rng.fill(&mut buf);
        f.write_all(&buf).unwrap();
    }
    // 128 MiB zeros (written, not a hole).
    buf.fill(0);
    for _ in 0..128 {
        f.write_all(&buf).unwrap();
    }
    // 448 MiB of text: SQL, Markdown and JSON from the corpus, shuffled in 4 KiB pieces.
    let mut text = Vec::new();
    for ext in [".sql", ".md", ".json", ".txt"] {
        for p in common::files_with_ext(&common::corpus(), ext) {
            text.extend(std::fs::read(p).unwrap());
        }
    }
    assert!(text.len() > 1 << 20);
    let mut written = 0usize;
    while written < 448 << 20 {
        let start = rng.below((text.len() - 4096) as u64) as usize;
        f.write_all(&text[start..start + 4096]).unwrap();
        written += 4096;
    }
    f.flush().unwrap();
    drop(f);
    let image = Image::open(&img, ReadMode::Mmap).unwrap();
    assert_eq!(image.size(), 1 << 30);
    let out = scan(
        &image,
        ScanRange {
            start: 0,
            end: 1 << 30,
        },
        &|_| {},
    );
    assert!(
        out.pages.is_empty(),
        "false positives: {:?}",
        &out.pages[..out.pages.len().min(5)]
    );
    let store = salvage::carve::store::PageStore::build(out);
    assert!(store.pages.is_empty());
}

/// One flipped bit in a page body: repaired at that byte where the page
/// has a crc32 checksum, damaged ("bad checksum") under the legacy innodb
/// checksum, which is not repaired. The first 4 KiB of a page replaced by
/// a newer write of it: damaged, torn.
#[test]
fn flipped_bit_and_torn_page_are_damaged_with_reason() {
    let corpus = common::corpus();
    let sources = [
        corpus.join("jeremycole__innodb_ruby/spec/data/sakila/5.7/sakila/film.ibd"),
        corpus.join("alibaba__innodb-java-reader/innodb-java-reader/src/test/resources/testsuite/mysql56/deletion/tb13.ibd"),
        corpus.join("KernelMaker__ibdNinja/tests/9.0/fixtures/multi_page.ibd"),
    ];
    for src in sources {
        let mut data = std::fs::read(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        let alone = common::carve_file(&src, 1);
        let index_pages: Vec<_> = alone
            .pages
            .iter()
            .filter(|p| p.is_index())
            .map(|p| p.page_no)
            .collect();
        assert!(index_pages.len() >= 3, "{}", src.display());
        let flip = index_pages[1] as usize;
        let torn = index_pages[2] as usize;
        // A bit in the middle of the body.
        data[flip * 16384 + 9000] ^= 0x10;
        // A newer write of the torn page's first 4 KiB: higher LSN, changed bytes.
        let t0 = torn * 16384;
        let lsn = u64::from_be_bytes(data[t0 + 16..t0 + 24].try_into().unwrap());
        data[t0 + 16..t0 + 24].copy_from_slice(&(lsn + 12345).to_be_bytes());
        for b in &mut data[t0 + 200..t0 + 300] {
            *b = b.wrapping_add(1);
        }
        let byte = data[flip * 16384 + 9000];
        let dir = tmp();
        let img = dir.path().join("damaged.img");
        let offs = common::build_embedded_image(&img, 16 << 20, &[data], 3);
        let store = common::carve_file(&img, 2);
        let at = |page: usize| {
            store
                .pages
                .iter()
                .find(|p| p.offset == offs[0] + page as u64 * 16384)
        };
        let f = at(flip).unwrap_or_else(|| panic!("{}: flipped page not reported", src.display()));
        let orig = alone
            .pages
            .iter()
            .find(|p| p.page_no as usize == flip)
            .unwrap();
        let want = if orig.checksum == salvage::innodb::checksum::ChecksumKind::Crc32c {
            (
                Status::Repaired,
                Reason::Repaired {
                    at: 9000,
                    len: 1,
                    old: [byte, 0],
                    new: [byte ^ 0x10, 0],
                },
            )
        } else {
            (Status::Damaged, Reason::BadChecksum)
        };
        assert_eq!((f.status, f.reason), want, "{}", src.display());
        assert_eq!(f.page_no as usize, flip);
        let t = at(torn).unwrap_or_else(|| panic!("{}: torn page not reported", src.display()));
        assert_eq!(t.status, Status::Damaged);
        assert_eq!(t.page_no as usize, torn);
        match t.reason {
            Reason::Torn { trailer_lsn_low } => assert_eq!(trailer_lsn_low, lsn as u32),
            r => panic!("{}: torn page reason {r:?}", src.display()),
        }
        assert!(t.reason_text().unwrap().starts_with("torn write"));
        // Every other page is still good.
        let ok = store
            .pages
            .iter()
            .filter(|p| p.status == Status::Ok)
            .count();
        let repaired = usize::from(want.0 == Status::Repaired);
        assert_eq!(ok, alone.pages.len() - 2, "{}", src.display());
        assert_eq!(
            store
                .pages
                .iter()
                .filter(|p| p.status == Status::Repaired)
                .count(),
            repaired
        );
        assert_eq!(store.pages.len(), alone.pages.len());
    }
}

/// Pages lying across the edges of the scanner's chunks are found once.
#[test]
fn pages_across_chunk_edges_found_once() {
    use std::io::{Seek, SeekFrom, Write};
    let src = common::corpus().join("KernelMaker__ibdNinja/tests/8.0/fixtures/multi_page.ibd");
    let data = std::fs::read(&src).unwrap();
    let page = &data[4 * 16384..5 * 16384];
    let dir = tmp();
    let img = dir.path().join("edges.img");
    let mut f = std::fs::File::create(&img).unwrap();
    let chunk = salvage::carve::scan::CHUNK;
    f.set_len(4 * chunk).unwrap();
    let offsets = [
        chunk - 512,
        2 * chunk - 8192,
        3 * chunk - 16384 + 512,
        3 * chunk + 4096 + 512,
    ];
    for &o in &offsets {
        f.seek(SeekFrom::Start(o)).unwrap();
        f.write_all(page).unwrap();
    }
    drop(f);
    for threads in [1, 2] {
        let store = common::carve_file(&img, threads);
        let found: Vec<u64> = store.pages.iter().map(|p| p.offset).collect();
        assert_eq!(found, offsets);
        assert!(store
            .pages
            .iter()
            .all(|p| p.status == Status::Ok && p.page_no == 4));
    }
}

mod hostile {
    use proptest::prelude::*;
    use salvage::carve::detect::{detect, Scratch};

    /// A real page to mutate: page 4 (an INDEX page) of a MySQL 8.0 file.
    fn real_page() -> Vec<u8> {
        let f =
            super::common::corpus().join("KernelMaker__ibdNinja/tests/8.0/fixtures/multi_page.ibd");
        std::fs::read(f).unwrap()[4 * 16384..5 * 16384].to_vec()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Arbitrary bytes of any length at any position: no panic.
        #[test]
        fn detect_never_panics_on_random_bytes(data in proptest::collection::vec(any::<u8>(), 0..70_000)) {
            let mut scratch = Scratch::default();
            let mut p = 0;
            while p < data.len() {
                let _ = detect(&data[p..], p as u64, &mut scratch);
                p += 512;
            }
        }

        /// A real page with bytes overwritten and its end cut anywhere: no
        /// panic, and never a good page unless the bytes are unchanged.
        #[test]
        fn mutated_real_page_is_never_good(edits in proptest::collection::vec((0usize..16384, any::<u8>()), 1..20), cut in 38usize..=16384) {
            let orig = real_page();
            let mut page = orig.clone();
            for (i, v) in edits {
                page[i] = v;
            }
            let w = &page[..cut];
            let mut scratch = Scratch::default();
            if let Some(salvage::carve::detect::Detection::Page(r)) = detect(w, 0, &mut scratch) {
                if r.status != salvage::carve::Status::Damaged {
                    // A repaired page is good once its byte is put back.
                    if let salvage::carve::Reason::Repaired { at, len, new, .. } = r.reason {
                        let at = at as usize;
                        page[at..at + len as usize].copy_from_slice(&new[..len as usize]);
                    }
                    prop_assert_eq!(&page[..r.phys_size as usize], &orig[..r.phys_size as usize]);
                }
            }
        }
    }
}
