//! Damaged and hostile qcow2 files: entries pointing at metadata or past the
//! end of the file, broken compressed clusters, a cut file, and random bytes
//! in the header and the L1/L2 tables. Reads never panic, damage reads as
//! holes, and the notes name the offsets.

use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;

use super::tests::{content, run};
use crate::image::{Image, ReadMode};

/// A qcow2 file made by qemu-img, with the raw bytes it holds.
struct Made {
    raw: Vec<u8>,
    q: Vec<u8>,
    cluster: u64,
    l1: (u64, u64),
    /// L2 table offsets, in L1 order.
    l2: Vec<u64>,
}

fn be64(b: &[u8], at: u64) -> u64 {
    u64::from_be_bytes(b[at as usize..at as usize + 8].try_into().unwrap())
}

fn make(size: usize, opts: &[&str], seed: u64) -> Made {
    let dir = tempfile::tempdir().unwrap();
    let mut raw = content(size, 30, seed);
    raw[..5000]
        .iter_mut()
        .for_each(|b| *b = b.wrapping_add(7) | 1);
    let rp = dir.path().join("h.raw");
    let qp = dir.path().join("h.qcow2");
    std::fs::write(&rp, &raw).unwrap();
    let mut args = vec!["convert", "-f", "raw", "-O", "qcow2"];
    args.extend_from_slice(opts);
    args.extend_from_slice(&[rp.to_str().unwrap(), qp.to_str().unwrap()]);
    run("qemu-img", &args);
    let q = std::fs::read(&qp).unwrap();
    let cluster = 1u64 << u32::from_be_bytes(q[20..24].try_into().unwrap());
    let l1_size = u64::from(u32::from_be_bytes(q[36..40].try_into().unwrap()));
    let l1_off = be64(&q, 40);
    let l2 = (0..l1_size)
        .map(|i| be64(&q, l1_off + 8 * i) & super::OFFSET_MASK)
        .filter(|&o| o != 0)
        .collect();
    Made {
        raw,
        q,
        cluster,
        l1: (l1_off, l1_off + 8 * l1_size),
        l2,
    }
}

fn open_bytes(dir: &Path, name: &str, bytes: &[u8]) -> Result<Image, crate::image::ImageError> {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    Image::open(&p, ReadMode::Mmap)
}

fn read(image: &Image, off: u64, len: usize) -> (Vec<u8>, Vec<(u64, u64)>) {
    let mut buf = Vec::new();
    let mut holes = Vec::new();
    let got = image.read(off, len, &mut buf, &mut holes).to_vec();
    (got, holes)
}

fn notes(image: &Image) -> Vec<String> {
    image.qcow2().unwrap().notes()
}

fn hex(x: u64) -> String {
    format!("{x:#x}")
}

#[test]
fn l2_entries_pointing_at_metadata_or_past_the_end() {
    let m = make(1 << 20, &["-o", "cluster_size=512"], 11);
    let dir = tempfile::tempdir().unwrap();
    let c = m.cluster;
    let t0 = m.l2[0];
    let mut q = m.q.clone();
    let eof = q.len() as u64;
    // Entry 0 → the L1 table, entry 1 → past the end, entry 2 → another
    // L2 table, entry 3 → its own table.
    let targets = [m.l1.0, eof + 10 * c, m.l2[1], t0];
    for (i, t) in targets.iter().enumerate() {
        let at = (t0 + 8 * i as u64) as usize;
        q[at..at + 8].copy_from_slice(&(t | 1 << 63).to_be_bytes());
    }
    let image = open_bytes(dir.path(), "a.qcow2", &q).unwrap();
    let (got, holes) = read(&image, 0, 64 << 10);
    assert_eq!(holes, vec![(0, 4 * c)]);
    assert!(got[..4 * c as usize].iter().all(|&b| b == 0));
    assert_eq!(&got[4 * c as usize..], &m.raw[4 * c as usize..64 << 10]);
    let n = notes(&image);
    assert_eq!(n.len(), 1, "{n:?}");
    assert!(
        n[0].contains(&hex(t0)) && n[0].contains(&hex(m.l1.0)),
        "{n:?}"
    );
    assert!(n[0].contains("4 damaged entries") && n[0].contains("inside the L1 table"));
    // Damage is data for the scanner (its holes get reported).
    assert_eq!(image.data_ranges(0, c)[0], (0, c));
    // Each reason, alone.
    for (i, (t, why)) in targets
        .iter()
        .zip([
            "inside the L1 table",
            "past the end of the file",
            "inside an L2 table",
            "inside an L2 table",
        ])
        .enumerate()
    {
        let mut q = m.q.clone();
        let at = (t0 + 8 * i as u64) as usize;
        q[at..at + 8].copy_from_slice(&t.to_be_bytes());
        let image = open_bytes(dir.path(), "b.qcow2", &q).unwrap();
        let (_, holes) = read(&image, 0, 1 << 20);
        assert_eq!(holes, vec![(i as u64 * c, c)], "{why}");
        let n = notes(&image);
        assert!(n[0].contains(why) && n[0].contains(&hex(*t)), "{n:?}");
        assert!(n[0].contains(&hex(t0 + 8 * i as u64)), "{n:?}");
    }
}

#[test]
fn l1_entry_pointing_at_the_l1_table_and_a_cut_file() {
    let m = make(1 << 20, &["-o", "cluster_size=512"], 12);
    let dir = tempfile::tempdir().unwrap();
    let c = m.cluster;
    let span = c * (c / 8);
    let mut q = m.q.clone();
    let e1 = m.l1.0 + 8;
    q[e1 as usize..e1 as usize + 8].copy_from_slice(&(m.l1.0 | 1 << 63).to_be_bytes());
    let image = open_bytes(dir.path(), "l1.qcow2", &q).unwrap();
    let n = notes(&image);
    assert!(
        n[0].contains(&hex(e1)) && n[0].contains("inside the L1 table"),
        "{n:?}"
    );
    let (got, holes) = read(&image, 0, 3 * span as usize);
    assert_eq!(holes, vec![(span, span)]);
    assert_eq!(&got[..span as usize], &m.raw[..span as usize]);
    assert_eq!(
        &got[2 * span as usize..],
        &m.raw[2 * span as usize..3 * span as usize]
    );

    // The file cut in the middle of its data: the lost clusters are holes.
    let cut = m.q.len() / 2;
    let image = open_bytes(dir.path(), "cut.qcow2", &m.q[..cut]).unwrap();
    let (got, holes) = read(&image, 0, 1 << 20);
    assert!(!holes.is_empty());
    let mut pos = 0;
    for (a, l) in &holes {
        assert_eq!(&got[pos..*a as usize], &m.raw[pos..*a as usize]);
        assert!(got[*a as usize..(a + l) as usize].iter().all(|&b| b == 0));
        pos = (a + l) as usize;
    }
    assert!(notes(&image)
        .iter()
        .any(|n| n.contains("past the end of the file")));
}

#[test]
fn broken_compressed_clusters() {
    let m = make(1 << 20, &["-c", "-o", "cluster_size=4096"], 13);
    let dir = tempfile::tempdir().unwrap();
    let c = m.cluster;
    let t0 = m.l2[0];
    let x = 62 - (12 - 8);
    let entry = be64(&m.q, t0);
    assert!(entry >> 62 & 1 == 1, "cluster 0 is compressed");
    let host = entry & ((1 << x) - 1);
    // Garbage where the deflate stream was.
    let mut q = m.q.clone();
    q[host as usize..host as usize + 16].fill(0xff);
    let image = open_bytes(dir.path(), "z.qcow2", &q).unwrap();
    let (got, holes) = read(&image, 0, 3 * c as usize);
    assert_eq!(holes, vec![(0, c)]);
    assert_eq!(&got[c as usize..], &m.raw[c as usize..3 * c as usize]);
    let n = notes(&image);
    assert!(
        n[0].contains(&hex(host)) && n[0].contains("deflate"),
        "{n:?}"
    );
    // Read again: the failure is cached, the note not repeated.
    let _ = read(&image, 0, c as usize);
    assert_eq!(notes(&image).len(), 1);

    // A stream cut short (sector count 0: one sector of a longer stream).
    let mut q = m.q.clone();
    let short = entry & !(((1u64 << (12 - 8)) - 1) << x);
    q[t0 as usize..t0 as usize + 8].copy_from_slice(&short.to_be_bytes());
    let image = open_bytes(dir.path(), "s.qcow2", &q).unwrap();
    let (_, holes) = read(&image, 0, c as usize);
    if entry >> x & 15 != 0 {
        assert_eq!(holes, vec![(0, c)]);
        assert!(
            notes(&image)[0].contains("not a cluster"),
            "{:?}",
            notes(&image)
        );
    }

    // A standard descriptor not aligned to the 4 KiB cluster.
    let mut q = m.q.clone();
    let bad = (m.q.len() as u64 / 2) & !4095 | 512;
    q[t0 as usize..t0 as usize + 8].copy_from_slice(&bad.to_be_bytes());
    let image = open_bytes(dir.path(), "u.qcow2", &q).unwrap();
    let (_, holes) = read(&image, 0, c as usize);
    assert_eq!(holes, vec![(0, c)]);
    assert!(notes(&image)[0].contains("not aligned") && notes(&image)[0].contains(&hex(bad)));

    // A compressed descriptor pointing into the header.
    let mut q = m.q.clone();
    let bad = 1u64 << 62 | 100;
    q[t0 as usize..t0 as usize + 8].copy_from_slice(&bad.to_be_bytes());
    let image = open_bytes(dir.path(), "h.qcow2", &q).unwrap();
    let (_, holes) = read(&image, 0, c as usize);
    assert_eq!(holes, vec![(0, c)]);
    assert!(notes(&image)[0].contains("inside the header cluster"));
}

fn bases() -> &'static [Made] {
    static BASES: OnceLock<Vec<Made>> = OnceLock::new();
    BASES.get_or_init(|| {
        vec![
            make(1 << 20, &["-o", "cluster_size=512"], 21),
            make(2 << 20, &["-c", "-o", "cluster_size=4096"], 22),
            make(2 << 20, &["-o", "extended_l2=on,cluster_size=16384"], 23),
            make(1 << 20, &["-o", "compat=0.10,cluster_size=1024"], 24),
        ]
    })
}

/// Reads a damaged image the way the tools do; checks the holes' shape.
fn exercise(image: &Image) {
    let size = image.size();
    let mut pos = 0;
    while pos < size.min(3 << 20) {
        let (got, holes) = read(image, pos, 100_000);
        assert_eq!(got.len() as u64, 100_000.min(size - pos));
        let mut last = pos;
        for &(a, l) in &holes {
            assert!(
                a >= last && l > 0 && a + l <= pos + got.len() as u64,
                "{holes:?}"
            );
            assert!(got[(a - pos) as usize..(a + l - pos) as usize]
                .iter()
                .all(|&b| b == 0));
            last = a + l;
        }
        pos += 100_000;
    }
    for k in 0..8u64 {
        let off = size / 8 * k;
        let (got, _) = read(image, off, 5000);
        assert!(got.len() <= 5000);
    }
    let ranges = image.data_ranges(0, size);
    for w in ranges.windows(2) {
        assert!(w[0].1 < w[1].0);
    }
    // The magic may be gone: then it is a raw image.
    for n in image.qcow2().map(|q| q.notes()).unwrap_or_default() {
        assert!(
            n.contains("0x") || n.contains("offset") || n.contains("not kept"),
            "{n}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    #[test]
    fn random_damage_never_panics(
        which in 0usize..4,
        muts in proptest::collection::vec((0u8..3, any::<u32>(), any::<u8>()), 1..24),
    ) {
        let m = &bases()[which];
        let mut q = m.q.clone();
        for (region, at, val) in muts {
            let pos = match region {
                0 => u64::from(at) % 112,
                1 => m.l1.0 + u64::from(at) % (m.l1.1 - m.l1.0),
                _ => m.l2[at as usize % m.l2.len()] + u64::from(at >> 8) % m.cluster,
            };
            if let Some(b) = q.get_mut(pos as usize) {
                *b = val;
            }
        }
        let dir = tempfile::tempdir().unwrap();
        if let Ok(image) = open_bytes(dir.path(), "p.qcow2", &q) {
            exercise(&image);
        }
    }
}
