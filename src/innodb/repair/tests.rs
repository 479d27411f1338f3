//! Repairs of real pages from the fixtures' data directories (MariaDB
//! 10.11: full_crc32, classic crc32, ROW_FORMAT=COMPRESSED, PAGE_COMPRESSED),
//! each damaged byte by byte, and hostile input.

use std::io::Read;
use std::path::Path;

use super::*;
use crate::innodb::fil::FIL_PAGE_INDEX;

/// One file of `fixtures/<instance>/datadir.tar.zst`.
fn datadir_file(instance: &str, path: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(instance)
        .join("datadir.tar.zst");
    let f = std::fs::File::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut ar = tar::Archive::new(zstd::stream::read::Decoder::new(f).unwrap());
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap() == Path::new(path) {
            let mut v = Vec::new();
            e.read_to_end(&mut v).unwrap();
            return v;
        }
    }
    panic!("{path} not in {}", p.display());
}

/// Pages of `size` bytes of a file whose checksum holds in `format` and
/// whose type is `t` (any type when `None`), with at least `n_recs` records
/// for index pages.
fn pages(file: &[u8], size: usize, format: Format, t: Option<u16>) -> Vec<Vec<u8>> {
    file.chunks_exact(size)
        .filter(|p| verify(p, format))
        .filter(|p| t.is_none_or(|t| be_u16(p, fil::FIL_PAGE_TYPE) == Some(t)))
        .map(|p| p.to_vec())
        .collect()
}

/// Damages `page` at each of `positions` (XOR `e(pos)`, one byte or a
/// burst of `len`), repairs, and returns (repaired right, not repaired,
/// repaired wrong).
fn damage_each(
    page: &[u8],
    format: Format,
    logical: Option<usize>,
    positions: impl Iterator<Item = usize>,
    len: usize,
) -> (usize, usize, usize) {
    let policy = Policy { bursts: len == 2 };
    let (mut right, mut none, mut wrong) = (0, 0, 0);
    let mut buf = Vec::new();
    let mut d = page.to_vec();
    for (k, pos) in positions.enumerate() {
        let e = [(k * 37 % 255 + 1) as u8, (k * 101 % 255 + 1) as u8];
        for (i, x) in e.iter().enumerate().take(len) {
            d[pos + i] ^= x;
        }
        match repair_with(&d, format, logical, policy, &mut buf) {
            None if std::env::var_os("REPAIR_DEBUG").is_some() => {
                eprintln!("not repaired at {pos}");
                none += 1
            }
            Some(fix) if buf == page && fix.at == pos && usize::from(fix.len) == len => right += 1,
            Some(fix) => {
                eprintln!("wrong repair at {pos}: {fix:?}");
                wrong += 1
            }
            None => none += 1,
        }
        d.copy_from_slice(page);
    }
    (right, none, wrong)
}

#[test]
fn full_crc32_index_page_every_byte() {
    let file = datadir_file("main", "shop/users.ibd");
    let leaves = pages(&file, 16384, Format::FullCrc32, Some(FIL_PAGE_INDEX));
    assert!(leaves.len() > 10);
    let page = &leaves[3];
    let (right, none, wrong) = damage_each(page, Format::FullCrc32, None, 0..16384, 1);
    eprintln!("full_crc32 16K: {right} repaired, {none} not, {wrong} wrong");
    assert_eq!(wrong, 0);
    // Not repaired: the type field (an unknown type is no page) and the
    // rare syndrome another byte also fits.
    assert!(right >= 16384 - 40, "{right}");
    // Header LSN, trailer LSN and the stored checksum itself.
    for pos in [20, 23, 16384 - 8, 16384 - 5, 16384 - 4, 16384 - 1] {
        assert_eq!(
            damage_each(page, Format::FullCrc32, None, [pos].into_iter(), 1).0,
            1,
            "{pos}"
        );
    }
}

#[test]
fn full_crc32_bursts_on_real_pages() {
    let file = datadir_file("main", "shop/users.ibd");
    let leaves = pages(&file, 16384, Format::FullCrc32, Some(FIL_PAGE_INDEX));
    let (mut right, mut none, mut wrong) = (0, 0, 0);
    for page in leaves.iter().take(4) {
        let r = damage_each(page, Format::FullCrc32, None, (0..16383).step_by(41), 2);
        right += r.0;
        none += r.1;
        wrong += r.2;
    }
    eprintln!("bursts: {right} repaired, {none} not, {wrong} wrong");
    // A burst's syndrome also fits some single byte of a 16 KiB page about
    // once in a thousand (16 Ki positions x 2^-24), and a single byte is
    // tried first: the 400 patterns here (the syndrome does not depend on
    // the page) have one such, at byte 10127, whose single-byte twin at
    // 8487 passes the checks on all 4 pages.
    assert!(wrong <= 4, "{wrong}");
    // A random syndrome fits some other burst of a 16 KiB page about one
    // time in four: then neither is used.
    assert!(
        right * 100 >= (right + none) * 65,
        "{right} of {}",
        right + none
    );
}

#[test]
fn classic_crc32_pages_every_byte() {
    let file = datadir_file("crc32", "shop/users.ibd");
    let leaves = pages(&file, 16384, Format::Crc32, Some(FIL_PAGE_INDEX));
    assert!(leaves.len() >= 5, "{}", leaves.len());
    let page = &leaves[2];
    let n = 16384;
    // Bytes the crc32 checksum covers, and both stored copies.
    let covered = (0..26).chain(38..n - 8).chain(n - 4..n);
    let (right, none, wrong) = damage_each(page, Format::Crc32, None, covered, 1);
    eprintln!("crc32 16K: {right} repaired, {none} not, {wrong} wrong");
    assert_eq!(wrong, 0);
    assert!(right >= n - 12 - 8 - 40, "{right}");
    // The flush LSN / space id and the second stored copy are outside the
    // checksum: the page is good as it is, nothing to repair.
    let outside = (26..38).chain(n - 8..n - 4);
    let (right, _, wrong) = damage_each(page, Format::Crc32, None, outside, 1);
    assert_eq!((right, wrong), (0, 0));
}

#[test]
fn compressed_crc32_pages_decompress_after_repair() {
    let file = datadir_file("main", "types/t_compressed_8.ibd");
    let zips = pages(&file, 8192, Format::ZipCrc32, Some(FIL_PAGE_INDEX));
    assert!(!zips.is_empty());
    let page = &zips[0];
    let (right, none, wrong) =
        damage_each(page, Format::ZipCrc32, Some(16384), (0..8192).step_by(3), 1);
    eprintln!("zip crc32 8K: {right} repaired, {none} not, {wrong} wrong");
    assert_eq!(wrong, 0);
    // 16..24 (LSN) and 26..34 are outside the checksum.
    assert!(right >= 8192 / 3 - 10, "{right}");
}

#[test]
fn compressed_adler_pages_solved() {
    let file = datadir_file("main", "types/t_compressed_8.ibd");
    let zips = pages(&file, 8192, Format::ZipCrc32, Some(FIL_PAGE_INDEX));
    // The same page as the server writes it with innodb_checksum_algorithm=innodb.
    let mut page = zips[0].clone();
    let a = zip_adler(&page);
    page[..4].copy_from_slice(&a.to_be_bytes());
    assert!(verify(&page, Format::ZipAdler));
    let (right, none, wrong) = damage_each(
        &page,
        Format::ZipAdler,
        Some(16384),
        (0..8192).step_by(5),
        1,
    );
    eprintln!("zip adler 8K: {right} repaired, {none} not, {wrong} wrong");
    assert_eq!(wrong, 0);
    assert!(right >= 8192 / 5 - 10, "{right}");
}

#[test]
fn page_compressed_pages_inflate_after_repair() {
    let file = datadir_file("main", "types/t_page_compressed.ibd");
    let mut n = 0;
    for slot in file.chunks_exact(16384) {
        let Some(size) = be_u16(slot, fil::FIL_PAGE_TYPE).and_then(pc::fcrc32_physical_size) else {
            continue;
        };
        let page = &slot[..size];
        if !verify(page, Format::Fcrc32Compressed) || pc::inflate_page(page).is_none() {
            continue;
        }
        // Not the type field: it gives the size.
        let positions = (0..size).filter(|&p| !(24..26).contains(&p)).step_by(7);
        let (right, none, wrong) = damage_each(page, Format::Fcrc32Compressed, None, positions, 1);
        assert_eq!(wrong, 0);
        assert!(right + 3 >= right + none, "{right} {none}");
        n += 1;
    }
    assert!(n >= 3, "{n}");
}

#[test]
fn hostile_sizes_zero_pages_and_two_errors() {
    // A size no format has: no syndrome table, no repair.
    let odd = vec![0x5au8; 12288];
    assert!(fits(&odd, Format::FullCrc32).is_none());
    assert!(fits(&odd[..5000], Format::Crc32).is_none());
    assert!(fits(&odd[..3000], Format::ZipCrc32).is_none());
    let mut buf = Vec::new();
    assert!(repair(&odd, Format::FullCrc32, None, &mut buf).is_none());
    // All zero: checksum 0 stored, nothing consistent to repair to.
    let zero = vec![0u8; 16384];
    for f in [
        Format::FullCrc32,
        Format::Crc32,
        Format::ZipCrc32,
        Format::ZipAdler,
    ] {
        assert!(repair(&zero, f, None, &mut buf).is_none(), "{f:?}");
        assert!(repair(&zero[..8192], f, None, &mut buf).is_none(), "{f:?}");
    }
    // Two damaged bytes far apart: never a single-byte repair. A burst
    // fits the syndrome alone about one time in five and most such wrong
    // bursts pass every check (they fall on record data): the reason
    // bursts are off unless asked for.
    let file = datadir_file("main", "shop/users.ibd");
    let leaves = pages(&file, 16384, Format::FullCrc32, Some(FIL_PAGE_INDEX));
    let (mut tried, mut by_default, mut with_bursts) = (0, 0, 0);
    for (k, page) in leaves.iter().take(6).enumerate() {
        for i in 0..40usize {
            let (a, b) = (100 + i * 397 % 16000, 200 + (i * 7919 + k) % 16000);
            if a.abs_diff(b) < 2 {
                continue;
            }
            let mut d = page.clone();
            d[a] ^= 0x11 + i as u8;
            d[b] ^= 0x80;
            tried += 1;
            if repair_with(&d, Format::FullCrc32, None, Policy::default(), &mut buf).is_some() {
                by_default += 1;
            }
            let bursts = Policy { bursts: true };
            if let Some(fix) = repair_with(&d, Format::FullCrc32, None, bursts, &mut buf) {
                assert_eq!(fix.len, 2);
                with_bursts += 1;
            }
        }
    }
    eprintln!("two errors: {tried} pages, {by_default} repaired, {with_bursts} with bursts on");
    assert_eq!(by_default, 0, "of {tried}");
    assert!(with_bursts < tried / 3, "{with_bursts} of {tried}");
}

/// The cost of one repair on real pages (median of many), printed:
/// `cargo test --release --lib repair::tests::repair_cost -- --ignored --nocapture`
/// (scripts/bench-repair.sh runs it).
#[test]
#[ignore]
fn repair_cost() {
    let users = datadir_file("main", "shop/users.ibd");
    let classic = datadir_file("crc32", "shop/users.ibd");
    let zip = datadir_file("main", "types/t_compressed_8.ibd");
    let cases = [
        (
            "full_crc32 16K index",
            pages(&users, 16384, Format::FullCrc32, Some(FIL_PAGE_INDEX)),
            Format::FullCrc32,
        ),
        (
            "crc32 16K index",
            pages(&classic, 16384, Format::Crc32, Some(FIL_PAGE_INDEX)),
            Format::Crc32,
        ),
        (
            "compressed 8K index",
            pages(&zip, 8192, Format::ZipCrc32, Some(FIL_PAGE_INDEX)),
            Format::ZipCrc32,
        ),
    ];
    let mut buf = Vec::new();
    for (name, pages, format) in cases {
        let mut times = Vec::new();
        let mut rng = 12345u64;
        for page in pages.iter().cycle().take(400) {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let pos = 38 + (rng >> 33) as usize % (page.len() - 46);
            let mut d = page.clone();
            d[pos] ^= 0x5a;
            let t = std::time::Instant::now();
            let fix = repair(&d, format, Some(16384), &mut buf);
            times.push(t.elapsed().as_secs_f64() * 1e6);
            assert!(fix.is_some(), "{name} {pos}");
        }
        times.sort_by(f64::total_cmp);
        eprintln!(
            "repair {name}: median {:.1} us, 90th percentile {:.1} us ({} repairs)",
            times[times.len() / 2],
            times[times.len() * 9 / 10],
            times.len()
        );
    }
}
