//! Real qcow2 images made at test time by `qemu-img` / `qemu-io` from raw
//! files, read back through [`Image`] and compared byte for byte with the raw
//! file (or with `qemu-img convert -O raw` of the image, for backing chains).

use std::path::{Path, PathBuf};
use std::process::Command;

use rayon::prelude::*;

use crate::image::{Image, ReadMode};

/// A small deterministic generator (xorshift64*).
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

pub(super) fn run(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Raw content of `size` bytes: zeros, with blocks of random bytes, text,
/// byte patterns and tiny unaligned writes at scattered offsets, and data
/// in the last bytes.
pub(super) fn content(size: usize, blocks: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng::new(seed);
    let mut v = vec![0u8; size];
    for b in 0..blocks {
        let len = match b % 4 {
            0 => 1 + r.below(700) as usize,
            1 => 4096 * (1 + r.below(64) as usize),
            _ => 1 + r.below(256 << 10) as usize,
        }
        .min(size);
        let at = r.below((size - len) as u64) as usize;
        let block = &mut v[at..at + len];
        match b % 3 {
            0 => block.iter_mut().for_each(|x| *x = r.next() as u8),
            1 => {
                let text = format!("row {b} of salvage qcow2 test data, seed {seed}; ");
                for (x, t) in block.iter_mut().zip(text.bytes().cycle()) {
                    *x = t;
                }
            }
            _ => {
                let p = r.next() as u8 | 1;
                block.fill(p);
            }
        }
    }
    let tail = size.saturating_sub(3000);
    for (i, x) in v[tail..].iter_mut().enumerate() {
        *x = (i % 251) as u8 + 1;
    }
    v
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Checks every byte of `image` against `expect`: whole-image windows of
/// the carver's sizes on many threads, then random reads; no holes, and
/// every non-zero byte inside `data_ranges`.
pub(super) fn check_same(image: &Image, expect: &[u8], what: &str) {
    assert_eq!(image.size(), expect.len() as u64, "{what}: size");
    assert!(image.qcow2().is_some(), "{what}: read as qcow2");
    for window in [8usize << 20, (1 << 20) + 65536, 4096 + 512] {
        let offs: Vec<usize> = (0..expect.len()).step_by(window).collect();
        offs.par_iter().for_each(|&o| {
            let mut buf = Vec::new();
            let mut holes = Vec::new();
            let got = image.read(o as u64, window, &mut buf, &mut holes);
            let want = &expect[o..(o + window).min(expect.len())];
            assert!(got == want, "{what}: window {window} at {o:#x} differs");
            assert!(holes.is_empty(), "{what}: holes {holes:?}");
        });
    }
    let mut r = Rng::new(expect.len() as u64);
    let mut buf = Vec::new();
    for _ in 0..400 {
        let o = r.below(expect.len() as u64) as usize;
        let max = if r.below(2) == 0 { 3000 } else { 600_000 };
        let len = 1 + r.below(max) as usize;
        let mut holes = Vec::new();
        let got = image.read(o as u64, len, &mut buf, &mut holes);
        assert!(
            got == &expect[o..(o + len).min(expect.len())],
            "{what}: {len} bytes at {o:#x} differ"
        );
        assert!(holes.is_empty());
    }
    // Past the end: nothing.
    assert!(image.bytes(expect.len() as u64, 10).is_empty());
    let ranges = image.data_ranges(0, image.size());
    assert_covers(&ranges, expect, what);
}

/// Every non-zero byte of `expect` lies in `ranges` (sorted, disjoint).
fn assert_covers(ranges: &[(u64, u64)], expect: &[u8], what: &str) {
    for w in ranges.windows(2) {
        assert!(w[0].1 < w[1].0, "{what}: ranges not merged: {w:?}");
    }
    let mut k = 0;
    for (i, &b) in expect.iter().enumerate() {
        if b == 0 {
            continue;
        }
        let i = i as u64;
        while k < ranges.len() && ranges[k].1 <= i {
            k += 1;
        }
        assert!(
            k < ranges.len() && ranges[k].0 <= i,
            "{what}: non-zero byte at {i:#x} outside data_ranges"
        );
    }
}

fn covered(ranges: &[(u64, u64)]) -> u64 {
    ranges.iter().map(|(a, b)| b - a).sum()
}

/// How many guest clusters of each kind the image maps.
fn kinds(q: &super::Qcow2) -> [usize; 6] {
    use super::Entry;
    let mut k = [0; 6];
    let mut cur = None;
    for vc in 0..q.size().div_ceil(q.cluster_size()) {
        k[match q.entry(vc, &mut cur) {
            Entry::Unallocated => 0,
            Entry::Zero => 1,
            Entry::Data(_) => 2,
            Entry::Compressed { .. } => 3,
            Entry::Sub { .. } => 4,
            Entry::Damaged => 5,
        }] += 1;
    }
    k
}

fn open(p: &Path) -> Image {
    Image::open(p, ReadMode::Mmap).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The 64 MiB raw file converted with each supported option set.
#[test]
fn conversions_read_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    let raw_bytes = content(64 << 20, 300, 1);
    let raw = write(dir.path(), "disk.raw", &raw_bytes);
    let raw_s = raw.to_str().unwrap();
    let variants: &[&[&str]] = &[
        &["-o", "compat=0.10"],
        &["-o", "compat=1.1"],
        &["-c", "-o", "compat=0.10"],
        &["-c", "-o", "compat=1.1"],
        &["-o", "cluster_size=512"],
        &["-c", "-o", "cluster_size=512"],
        &["-o", "cluster_size=65536"],
        &["-o", "cluster_size=2M"],
        &["-c", "-o", "cluster_size=2M"],
        &["-o", "extended_l2=on"],
        &["-o", "extended_l2=on,cluster_size=2M"],
        &["-o", "extended_l2=on,cluster_size=16384"],
        &["-c", "-o", "extended_l2=on"],
    ];
    for (n, opts) in variants.iter().enumerate() {
        let q = dir.path().join(format!("v{n}.qcow2"));
        let mut args = vec!["convert", "-f", "raw", "-O", "qcow2"];
        args.extend_from_slice(opts);
        args.extend_from_slice(&[raw_s, q.to_str().unwrap()]);
        run("qemu-img", &args);
        let image = open(&q);
        let what = format!("{opts:?}");
        check_same(&image, &raw_bytes, &what);
        let qc = image.qcow2().unwrap();
        assert!(qc.notes().is_empty(), "{what}: {:?}", qc.notes());
        // The kinds of entries these options produce were all met.
        let [unalloc, _, data, compressed, sub, damaged] = kinds(qc);
        assert_eq!(damaged, 0, "{what}");
        // (2 MiB clusters: each of the 32 holds some data.)
        assert!(unalloc > 0 || qc.cluster_size() == 2 << 20, "{what}");
        assert_eq!(compressed > 0, opts.contains(&"-c"), "{what}");
        assert!(data + sub > 0 || opts.contains(&"-c"), "{what}");
        let extended = opts.iter().any(|o| o.contains("extended"));
        assert_eq!(sub > 0, extended && !opts.contains(&"-c"), "{what}");
        // Sparse: clusters (subclusters) of zeros in the raw file are no data.
        // qemu-img convert allocates in 4 KiB units at least (its -S default).
        let sub = qc.cluster_size() as usize
            / if what.contains("extended") && !what.contains("-c") {
                32
            } else {
                1
            };
        let unit = sub.max(4096);
        let busy = raw_bytes
            .chunks(unit)
            .filter(|ch| ch.iter().any(|&b| b != 0))
            .count();
        let ranges = image.data_ranges(0, image.size());
        let c = covered(&ranges);
        assert!(
            c <= (busy * unit) as u64,
            "{what}: {c} bytes of data ranges"
        );
        // A sub-range is clipped to itself.
        let sub = image.data_ranges(1000, 5 << 20);
        assert!(sub.iter().all(|&(a, b)| a >= 1000 && b <= 5 << 20 && a < b));
        std::fs::remove_file(&q).unwrap();
    }
}

/// zstd-compressed clusters (compression_type=zstd, qemu-img -c) read
/// byte-identical to the raw file, with no hole and no note.
#[test]
fn zstd_clusters_read_like_the_raw_file() {
    let dir = tempfile::tempdir().unwrap();
    let raw_bytes = content(8 << 20, 40, 2);
    let raw = write(dir.path(), "z.raw", &raw_bytes);
    let q = dir.path().join("z.qcow2");
    run(
        "qemu-img",
        &[
            "convert",
            "-c",
            "-f",
            "raw",
            "-O",
            "qcow2",
            "-o",
            "compression_type=zstd",
            raw.to_str().unwrap(),
            q.to_str().unwrap(),
        ],
    );
    let image = open(&q);
    let qc = image.qcow2().unwrap();
    let c = qc.cluster_size() as usize;
    for (i, want) in raw_bytes.chunks(c).enumerate() {
        let mut buf = Vec::new();
        let mut holes = Vec::new();
        let got = image.read((i * c) as u64, c, &mut buf, &mut holes).to_vec();
        assert!(holes.is_empty(), "cluster {i}: {holes:?} {:?}", qc.notes());
        assert_eq!(got, want, "cluster {i}");
    }
    assert!(qc.notes().is_empty(), "{:?}", qc.notes());
}

/// A backing chain: an overlay written by qemu-io (data, zero clusters,
/// partial-cluster writes that copy from the backing file, a discard),
/// larger than its base; compared with `qemu-img convert -O raw` of the
/// overlay.
#[test]
fn backing_chain_matches_qemu() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base_raw = content(16 << 20, 80, 3);
    let raw = write(d, "base.raw", &base_raw);
    for (n, (base_opts, top_opts)) in [
        ("compat=1.1", "compat=1.1"),
        ("compat=0.10", "compat=0.10"),
        ("compat=1.1", "extended_l2=on"),
        ("cluster_size=512", "cluster_size=4096"),
    ]
    .into_iter()
    .enumerate()
    {
        let base = d.join(format!("base{n}.qcow2"));
        let top = d.join(format!("top{n}.qcow2"));
        let flat = d.join(format!("top{n}.raw"));
        let (base_s, top_s) = (base.to_str().unwrap(), top.to_str().unwrap());
        run(
            "qemu-img",
            &[
                "convert",
                "-O",
                "qcow2",
                "-o",
                base_opts,
                raw.to_str().unwrap(),
                base_s,
            ],
        );
        run(
            "qemu-img",
            &[
                "create", "-f", "qcow2", "-o", top_opts, "-b", base_s, "-F", "qcow2", top_s, "24M",
            ],
        );
        run(
            "qemu-io",
            &[
                "-f",
                "qcow2",
                "-c",
                "write -P 0xab 1M 64k",
                "-c",
                "write -z 2M 128k",
                "-c",
                "write -P 0x11 3000k 5k",
                "-c",
                "write -P 0x22 5001k 1k",
                "-c",
                "discard 6M 64k",
                "-c",
                "write -P 0x33 20M 100k",
                "-c",
                "write -P 0x44 16380k 8k",
                top_s,
            ],
        );
        run(
            "qemu-img",
            &["convert", "-O", "raw", top_s, flat.to_str().unwrap()],
        );
        let expect = std::fs::read(&flat).unwrap();
        assert_eq!(expect.len(), 24 << 20);
        let image = Image::open_with(&top, ReadMode::Mmap, Some(&base)).unwrap();
        let what = format!("chain {base_opts} / {top_opts}");
        check_same(&image, &expect, &what);
        let qc = image.qcow2().unwrap();
        // write -z made zero clusters (zero-flagged or all-zero subclusters)
        // where the format has them; version 2 stores written zeros.
        let [_, zero, _, _, sub, _] = kinds(qc);
        assert_eq!(zero > 0, top_opts != "compat=0.10", "{what}");
        assert_eq!(sub > 0, top_opts == "extended_l2=on", "{what}");
        assert_eq!(qc.backing_name().as_deref(), Some(base_s));
        assert_eq!(qc.backing_format().as_deref(), Some("qcow2"));
        assert!(qc.notes().is_empty(), "{what}: {:?}", qc.notes());

        // Without the backing image: the overlay's own clusters only.
        let alone = open(&top);
        let qa = alone.qcow2().unwrap();
        assert!(qa.notes()[0].contains("not given"), "{:?}", qa.notes());
        let got = alone.bytes(0, 24 << 20);
        assert_eq!(
            &got[1 << 20..(1 << 20) + 65536],
            &expect[1 << 20..(1 << 20) + 65536]
        );
        // 8..15 MiB is the base's alone: zeros without it.
        let (a, b) = (8 << 20, 15 << 20);
        assert!(got[a..b].iter().all(|&x| x == 0));
        assert!(expect[a..b] == base_raw[a..b] && base_raw[a..b].iter().any(|&x| x != 0));
        let own = alone.data_ranges(0, alone.size());
        assert!(covered(&own) < 2 << 20, "{what}: {own:?}");
    }
}

/// The committed demo disk (GPT, ext4 with a MariaDB datadir) as qcow2, plain
/// and compressed: byte-identical, and the carver finds the same pages.
#[test]
fn demo_image_as_qcow2() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let zst = std::fs::read(root.join("fixtures/images/demo-ext4-modern.img.zst")).unwrap();
    let raw_bytes = zstd::stream::decode_all(&zst[..]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let raw = write(dir.path(), "demo.img", &raw_bytes);
    let raw_image = open(&raw);
    let full = |i: &Image| crate::carve::scan::ScanRange {
        start: 0,
        end: i.size(),
    };
    let want = crate::carve::carve(&raw_image, full(&raw_image), &|_| {});
    assert!(want.pages.len() > 100, "{} pages", want.pages.len());
    for opts in [
        &["-o", "compat=1.1"][..],
        &["-c"],
        &["-o", "cluster_size=4096"],
    ] {
        let q = dir.path().join("demo.qcow2");
        let mut args = vec!["convert", "-O", "qcow2"];
        args.extend_from_slice(opts);
        args.extend_from_slice(&[raw.to_str().unwrap(), q.to_str().unwrap()]);
        run("qemu-img", &args);
        let image = open(&q);
        check_same(&image, &raw_bytes, &format!("demo {opts:?}"));
        let got = crate::carve::carve(&image, full(&image), &|_| {});
        let key = |s: &crate::carve::store::PageStore| {
            s.pages
                .iter()
                .map(|p| (p.offset, p.space_id, p.page_no, p.lsn, p.status))
                .collect::<Vec<_>>()
        };
        assert_eq!(key(&got), key(&want), "demo {opts:?}: pages");
        assert!(got.unreadable.is_empty());
    }
}
