//! SHA-256 against the standard's test vectors (FIPS 180-4 examples, NIST
//! CSRC), the two engines against each other, and against `sha256sum`.

use proptest::prelude::*;

use super::{of_image, Engine, Sha256};
use crate::image::{Image, ReadMode};
use crate::testutil::{pattern, run};

/// The engines this CPU runs (the portable one everywhere).
fn engines() -> Vec<Engine> {
    [Engine::Portable, Engine::ShaNi]
        .into_iter()
        .filter(|e| e.runs_here())
        .collect()
}

fn hash(engine: Engine, parts: &[&[u8]]) -> String {
    let mut s = Sha256::with_engine(engine);
    for p in parts {
        s.update(p);
    }
    s.hex()
}

#[test]
fn standard_test_vectors() {
    let two = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    let four = b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    let million = vec![b'a'; 1_000_000];
    let vectors: [(&[u8], &str); 5] = [
        (
            b"",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            b"abc",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        // 448 bits: the padding needs a second block.
        (
            two,
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        ),
        // 896 bits.
        (
            four,
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
        ),
        (
            &million,
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
        ),
    ];
    let engines = engines();
    if cfg!(target_arch = "x86_64")
        && std::fs::read_to_string("/proc/cpuinfo")
            .is_ok_and(|c| c.split_whitespace().any(|f| f == "sha_ni"))
    {
        // The fast path really is under test on a CPU that has it.
        assert!(engines.contains(&Engine::ShaNi));
    }
    for e in engines {
        for (msg, want) in vectors {
            assert_eq!(hash(e, &[msg]), want, "{e:?}, {} bytes", msg.len());
        }
        // The same bytes in uneven pieces.
        assert_eq!(hash(e, &[&two[..3], &two[3..50], &two[50..]]), vectors[2].1);
        assert_eq!(
            hash(e, &[&million[..1], &million[1..64_001], &million[64_001..]]),
            vectors[4].1
        );
    }
}

/// A digest's raw bytes are the hex digits' value.
#[test]
fn digest_bytes() {
    let d = Sha256::with_engine(Engine::Portable);
    let mut want = [0u8; 32];
    let hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    for (i, w) in want.iter_mut().enumerate() {
        *w = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    assert_eq!(d.digest(), want);
}

proptest! {
    /// Every length around the padding's block boundaries, fed whole or in
    /// two pieces: both engines agree.
    #[test]
    fn engines_agree(seed in any::<u64>(), len in 0usize..1000, cut in 0usize..1000) {
        let data = pattern(seed, len);
        let cut = cut.min(len);
        let want = hash(Engine::Portable, &[&data]);
        prop_assert_eq!(&hash(Engine::Portable, &[&data[..cut], &data[cut..]]), &want);
        for e in engines() {
            prop_assert_eq!(&hash(e, &[&data]), &want);
            prop_assert_eq!(&hash(e, &[&data[..cut], &data[cut..]]), &want);
        }
    }
}

/// Several MiB, whole and in uneven pieces, both engines, and what
/// coreutils' `sha256sum` says of the same bytes.
#[test]
fn multi_mib_matches_sha256sum() {
    let data = pattern(7, (5 << 20) + 13);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("data");
    std::fs::write(&p, &data).unwrap();
    let sum = run(std::process::Command::new("sha256sum").arg(&p));
    let want = sum.split_whitespace().next().unwrap();
    let cuts = [
        0,
        1,
        63,
        64,
        65,
        4096 + 7,
        1 << 20,
        (3 << 20) + 1,
        data.len(),
    ];
    for e in engines() {
        assert_eq!(hash(e, &[&data]), want, "{e:?}");
        let pieces: Vec<&[u8]> = cuts.windows(2).map(|w| &data[w[0]..w[1]]).collect();
        assert_eq!(hash(e, &pieces), want, "{e:?} in pieces");
    }
}

/// `of_image` over a file of several pieces plus a tail, mapped and read,
/// gives `sha256sum`'s digest and reports progress up to the size.
#[test]
fn of_image_matches_sha256sum() {
    let data = pattern(11, (2 * super::PIECE as usize) + 4096 + 5);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("img");
    std::fs::write(&p, &data).unwrap();
    let sum = run(std::process::Command::new("sha256sum").arg(&p));
    let want = sum.split_whitespace().next().unwrap();
    for mode in [ReadMode::Mmap, ReadMode::Pread] {
        let image = Image::open(&p, mode).unwrap();
        let done = std::cell::RefCell::new(Vec::new());
        assert_eq!(of_image(&image, &|d| done.borrow_mut().push(d)), want);
        let step = match mode {
            ReadMode::Mmap => super::PIECE,
            ReadMode::Pread => super::READ_PIECE,
        };
        let mut want_done: Vec<u64> = (1..=data.len() as u64 / step).map(|i| i * step).collect();
        want_done.push(data.len() as u64);
        assert_eq!(done.into_inner(), want_done, "{mode:?}");
    }
    // An empty image hashes as the empty message.
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    let image = Image::open(&empty, ReadMode::Mmap).unwrap();
    assert_eq!(
        of_image(&image, &|_| ()),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

/// Throughput of each engine on 256 MiB in memory (no I/O); prints MB/s.
/// `cargo test --release --lib sha256::tests::throughput -- --ignored --nocapture`
#[test]
#[ignore]
fn throughput() {
    let data = pattern(3, 256 << 20);
    for e in engines() {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let t = std::time::Instant::now();
            let h = hash(e, &[&data]);
            best = best.min(t.elapsed().as_secs_f64());
            std::hint::black_box(h);
        }
        println!(
            "sha256 {:>8}: {:7.0} MB/s (best of 3, 256 MiB in memory)",
            e.name(),
            data.len() as f64 / best / 1e6
        );
    }
}

/// `of_image` on a 1 GiB file, mapped and read, from the page cache and
/// from the disk (the file's cached pages dropped first), beside a plain
/// `read` of the same file; prints MB/s. `SALVAGE_SHA256=portable` for the
/// portable engine.
/// `cargo test --release --lib sha256::tests::of_image_throughput -- --ignored --nocapture`
#[test]
#[ignore]
fn of_image_throughput() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("img");
    let len = 1usize << 30;
    {
        let f = std::fs::File::create(&p).unwrap();
        let mut w = std::io::BufWriter::new(&f);
        for i in 0..len >> 26 {
            std::io::Write::write_all(&mut w, &pattern(i as u64, 1 << 26)).unwrap();
        }
        drop(w);
        f.sync_all().unwrap();
    }
    let drop_cache = || {
        let f = std::fs::File::open(&p).unwrap();
        rustix::fs::fadvise(&f, 0, None, rustix::fs::Advice::DontNeed).unwrap();
    };
    let mbs = |t: std::time::Instant| len as f64 / t.elapsed().as_secs_f64() / 1e6;
    println!("engine: {}", super::Engine::best().name());
    for cold in [false, true] {
        let place = if cold { "disk" } else { "page cache" };
        if cold {
            drop_cache();
        }
        let t = std::time::Instant::now();
        let mut f = std::fs::File::open(&p).unwrap();
        let mut buf = vec![0u8; 128 << 10];
        while f.read(&mut buf).unwrap() > 0 {}
        println!("read(128 KiB) from {place}: {:6.0} MB/s", mbs(t));
        for mode in [ReadMode::Mmap, ReadMode::Pread] {
            if cold {
                drop_cache();
            }
            let image = Image::open(&p, mode).unwrap();
            let t = std::time::Instant::now();
            std::hint::black_box(of_image(&image, &|_| ()));
            println!("of_image {mode:?} from {place}: {:6.0} MB/s", mbs(t));
        }
    }
}
