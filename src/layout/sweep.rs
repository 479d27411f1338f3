//! The fallback when no partition table is usable: find filesystems by their
//! superblocks (primary or backup/secondary), whose own fields say where the
//! filesystem they belong to starts.
//!
//! The image's data ranges (holes of a sparse file are skipped) are read in
//! 8 MiB windows and every 512-byte position is offered to each [`Finder`];
//! a hit names a filesystem start. Hits vote: the backup superblocks of one
//! filesystem all name the same start. A start is accepted with two votes or
//! with its primary superblock (a small ext4 has no backups at all).
//!
//! A superblock copy inside a filesystem (the journal logs the primary
//! superblock's block) names a wrong start with one vote. Such copies carry
//! the volume UUID of the filesystem they came from, so of the candidates
//! that share a UUID, only those with two votes are kept, or else the first
//! in image order (a copy always lies after the start of its filesystem).

use std::collections::BTreeMap;

use super::fs::Note;
use super::{Partition, Scheme};
use crate::bytes::array;
use crate::image::Image;

/// Bytes read per window.
const WINDOW: u64 = 8 << 20;
/// Bytes past a window's last position that a finder may look at (an XFS
/// superblock sector is at most 32 KiB).
const OVERLAP: u64 = 64 << 10;
/// Positions offered to the finders are multiples of this.
const STEP: u64 = 512;

/// Recognises one filesystem's superblocks.
#[derive(Clone, Copy)]
pub struct Finder {
    /// "ext4", "xfs": the partition's type name when found.
    pub kind: &'static str,
    /// Given the bytes at a 512-byte aligned image offset and that offset,
    /// the start of the filesystem whose superblock (primary or backup) is
    /// there.
    pub hit: fn(&[u8], u64) -> Option<u64>,
    /// Offset of the primary superblock from the filesystem start.
    pub primary_at: u64,
    /// Offset of the 16-byte volume UUID within the superblock.
    pub uuid_at: Option<usize>,
}

/// The finders of the filesystems `open_fs` reads. The UUID offsets are
/// `s_uuid` of the ext4 superblock and `sb_uuid` of the XFS one.
const FINDERS: [Finder; 2] = [
    Finder {
        kind: "ext4",
        hit: super::ext4::sweep_hit,
        primary_at: 1024,
        uuid_at: Some(0x68),
    },
    Finder {
        kind: "xfs",
        hit: super::xfs::sweep_hit,
        primary_at: 0,
        uuid_at: Some(0x20),
    },
];

/// Filesystems found by signature, as partitions of scheme `Sweep`.
pub fn find(image: &Image, notes: &mut Vec<Note>) -> Vec<Partition> {
    find_with(image, &FINDERS, notes)
}

/// A filesystem start named by one or more superblocks.
struct Candidate {
    finder: usize,
    votes: u32,
    /// Offset of the primary superblock, if it was one of the hits.
    primary: Option<u64>,
    first_hit: u64,
    last_hit: u64,
    uuid: Option<[u8; 16]>,
}

/// Whether the bytes at a 512-byte position may hold a superblock that a
/// finder of [`find`] recognises: its magic is there (`s_magic` 0xEF53 at
/// 0x38 of an ext4 superblock, "XFSB" at 0 of an XFS one). The carving pass
/// notes such positions, so that the sweep need not read the image again
/// ([`find_at`]).
pub fn may_hit(b: &[u8]) -> bool {
    b.get(..4) == Some(b"XFSB".as_slice()) || b.get(0x38..0x3A) == Some([0x53, 0xEF].as_slice())
}

/// [`find`], offering only `positions` (512-byte aligned image offsets) to
/// the finders: the same result as [`find`] when `positions` holds every
/// position of the image's data ranges where [`may_hit`] holds.
pub fn find_at(image: &Image, positions: &[u64], notes: &mut Vec<Note>) -> Vec<Partition> {
    let mut positions = positions.to_vec();
    positions.sort_unstable();
    positions.dedup();
    let mut hits = Vec::new();
    for &at in &positions {
        let b = image.bytes(at, (OVERLAP + STEP) as usize);
        offer(&FINDERS, &b, at, &mut hits);
    }
    let cands = count(&FINDERS, hits);
    finish(image, &FINDERS, &cands, notes)
}

/// The sweep with the given finders.
pub fn find_with(image: &Image, finders: &[Finder], notes: &mut Vec<Note>) -> Vec<Partition> {
    let cands = scan(image, finders);
    finish(image, finders, &cands, notes)
}

/// The partitions of the accepted candidates, with a note for each.
fn finish(
    image: &Image,
    finders: &[Finder],
    cands: &BTreeMap<Key, Candidate>,
    notes: &mut Vec<Note>,
) -> Vec<Partition> {
    let accepted = accept(cands);
    let size = image.size();
    let mut out = Vec::new();
    for (i, &(start, fi)) in accepted.iter().enumerate() {
        let c = &cands[&(start, fi)];
        // The filesystem reaches at least its last superblock: a start
        // accepted before that is a filesystem image inside this one.
        let end = accepted
            .iter()
            .map(|&(s, _)| s)
            .find(|&s| s > c.last_hit)
            .unwrap_or(size);
        let kind = finders[c.finder].kind;
        let (which, at) = match c.primary {
            Some(p) => ("primary", p),
            None => ("backup", c.first_hit),
        };
        notes.push(Note {
            structure: format!("{kind} superblock"),
            offset: at,
            message: format!(
                "no partition table; filesystem found by its {which} superblock at offset {at}: \
                 starts at offset {start} ({} superblock(s) agree)",
                c.votes
            ),
        });
        out.push(Partition {
            number: i as u32 + 1,
            start,
            len: end - start,
            scheme: Scheme::Sweep,
            type_name: kind.into(),
            name: None,
        });
    }
    out
}

/// A candidate's key: (filesystem start, finder index).
type Key = (u64, usize);

/// Every hit of every finder, counted by (start, finder). The windows are
/// read in parallel (on the current rayon pool) and their hits counted in
/// image order, so the result does not depend on the thread count.
fn scan(image: &Image, finders: &[Finder]) -> BTreeMap<Key, Candidate> {
    use rayon::prelude::*;
    if finders.is_empty() {
        return BTreeMap::new();
    }
    let size = image.size();
    let mut windows: Vec<(u64, u64)> = Vec::new();
    let mut done = 0u64; // everything below has been offered
    for (from, to) in image.data_ranges(0, size) {
        let mut pos = (from / STEP * STEP).max(done);
        let to = to.min(size);
        while pos < to {
            let n = WINDOW.min(to - pos);
            windows.push((pos, n));
            pos += n;
            // Stay on the 512-byte grid even if a range ended off it.
            pos = pos.div_ceil(STEP) * STEP;
        }
        done = done.max(pos);
    }
    let hits: Vec<Vec<Hit>> = windows
        .par_iter()
        .map(|&(pos, n)| window_hits(image, finders, pos, n))
        .collect();
    count(finders, hits.into_iter().flatten())
}

/// Counts hits (in image order) by (start, finder).
fn count(finders: &[Finder], hits: impl IntoIterator<Item = Hit>) -> BTreeMap<Key, Candidate> {
    let mut cands: BTreeMap<Key, Candidate> = BTreeMap::new();
    for h in hits {
        let f = &finders[h.finder];
        let primary = h.at - h.start == f.primary_at;
        let c = cands.entry((h.start, h.finder)).or_insert(Candidate {
            finder: h.finder,
            votes: 0,
            primary: None,
            first_hit: h.at,
            last_hit: h.at,
            uuid: h.uuid,
        });
        c.votes += 1;
        c.last_hit = h.at;
        if primary && c.primary.is_none() {
            c.primary = Some(h.at);
            c.uuid = h.uuid;
        }
    }
    cands
}

/// One superblock seen at `at`, naming a filesystem start.
struct Hit {
    at: u64,
    finder: usize,
    start: u64,
    uuid: Option<[u8; 16]>,
}

/// The hits at the positions `pos..pos+n` (reading up to [`OVERLAP`] past),
/// in image order. The window's mapped pages are released after.
fn window_hits(image: &Image, finders: &[Finder], pos: u64, n: u64) -> Vec<Hit> {
    let mut out = Vec::new();
    image.prefetch(pos, (n + OVERLAP) as usize);
    let w = image.bytes(pos, (n + OVERLAP) as usize);
    let mut p = 0usize;
    while (p as u64) < n && p < w.len() {
        offer(finders, &w[p..], pos + p as u64, &mut out);
        p += STEP as usize;
    }
    drop(w);
    image.release(pos, n as usize);
    out
}

/// Offers the bytes `b` at image offset `at` to every finder.
fn offer(finders: &[Finder], b: &[u8], at: u64, out: &mut Vec<Hit>) {
    for (fi, f) in finders.iter().enumerate() {
        let Some(start) = (f.hit)(b, at) else {
            continue;
        };
        if start > at {
            continue;
        }
        let uuid = f.uuid_at.and_then(|u| array::<16>(b, u));
        out.push(Hit {
            at,
            finder: fi,
            start,
            uuid,
        });
    }
}

/// The accepted (start, finder) keys in image order.
fn accept(cands: &BTreeMap<Key, Candidate>) -> Vec<Key> {
    // Group by finder and UUID; a candidate without a UUID is its own group.
    let mut groups: BTreeMap<(usize, [u8; 16]), Vec<Key>> = BTreeMap::new();
    let mut out = Vec::new();
    for (&key, c) in cands {
        match c.uuid {
            Some(u) => groups.entry((c.finder, u)).or_default().push(key),
            None if c.votes >= 2 || c.primary.is_some() => out.push(key),
            None => {}
        }
    }
    for keys in groups.values() {
        let strong: Vec<_> = keys.iter().filter(|k| cands[k].votes >= 2).collect();
        if !strong.is_empty() {
            out.extend(strong);
            continue;
        }
        // Keys are in start order: the first is the real start, the rest
        // copies inside it. Accept it if it is the primary or if other
        // superblocks of the same volume were seen at all.
        let first = keys[0];
        if cands[&first].primary.is_some() || keys.len() >= 2 {
            out.push(first);
        }
    }
    out.sort_unstable();
    // Two finders claiming one start: the one with more votes.
    let mut kept: Vec<Key> = Vec::new();
    for key in out {
        match kept.last_mut() {
            Some(last) if last.0 == key.0 => {
                if cands[&key].votes > cands[last].votes {
                    *last = key;
                }
            }
            _ => kept.push(key),
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::le_u64;
    use crate::image::ReadMode;
    use std::os::unix::fs::FileExt;
    use std::path::Path;
    use std::process::Command;

    const MIB: u64 = 1 << 20;

    /// A made-up 1 KiB superblock: "SWEEPTST", its distance from the
    /// filesystem start (u64 LE), a 16-byte UUID, and "SWEEPEND" at its end
    /// (so one 512 bytes before a window's end needs the overlap).
    fn test_hit(b: &[u8], at: u64) -> Option<u64> {
        if b.get(..8)? != b"SWEEPTST" || b.get(1016..1024)? != b"SWEEPEND" {
            return None;
        }
        at.checked_sub(le_u64(b, 8)?)
    }

    const TEST: [Finder; 1] = [Finder {
        kind: "test",
        hit: test_hit,
        primary_at: 0,
        uuid_at: Some(16),
    }];

    fn sb(rel: u64, uuid: u8) -> [u8; 1024] {
        let mut b = [uuid; 1024];
        b[..8].copy_from_slice(b"SWEEPTST");
        b[1016..].copy_from_slice(b"SWEEPEND");
        b[8..16].copy_from_slice(&rel.to_le_bytes());
        b
    }

    fn open(p: &Path, mode: ReadMode) -> Image {
        Image::open(p, mode).unwrap()
    }

    fn summary(parts: &[Partition]) -> Vec<(u32, u64, u64, String)> {
        parts
            .iter()
            .map(|p| {
                assert_eq!(p.scheme, Scheme::Sweep);
                (p.number, p.start, p.len, p.type_name.clone())
            })
            .collect()
    }

    /// Superblocks of a 40 MiB disk: (absolute offset, distance from the
    /// start it names, uuid byte).
    const LAYOUT: [(u64, u64, u8); 9] = [
        // A at 1 MiB: primary and three backups, two of them crossing the
        // end of an 8 MiB window (when the disk is one data range).
        (MIB, 0, 0xA),
        (3 * MIB, 2 * MIB, 0xA),
        (8 * MIB - 512, 7 * MIB - 512, 0xA),
        (16 * MIB - 512, 15 * MIB - 512, 0xA),
        // A copy of A's primary inside A (a journal): same UUID, one vote.
        (2 * MIB, 0, 0xA),
        // N at 5 MiB, a filesystem image inside A: primary and a backup.
        (5 * MIB, 0, 0x4E),
        (6 * MIB, MIB, 0x4E),
        // B at 20 MiB: its primary only.
        (20 * MIB, 0, 0xB),
        // D: a lone backup naming 28 MiB, no primary: not enough.
        (30 * MIB, 2 * MIB, 0xD),
    ];

    fn want() -> Vec<(u32, u64, u64, String)> {
        vec![
            // A reaches its last backup (16 MiB), past N's start.
            (1, MIB, 19 * MIB, "test".into()),
            (2, 5 * MIB, 15 * MIB, "test".into()),
            (3, 20 * MIB, 20 * MIB, "test".into()),
        ]
    }

    fn write_layout(p: &Path, fill: Option<u8>) {
        let f = std::fs::File::create(p).unwrap();
        f.set_len(40 * MIB).unwrap();
        if let Some(x) = fill {
            let chunk = vec![x; MIB as usize];
            for i in 0..40 {
                f.write_all_at(&chunk, i * MIB).unwrap();
            }
        }
        for (at, rel, uuid) in LAYOUT {
            f.write_all_at(&sb(rel, uuid), at).unwrap();
        }
        // A superblock off the grid and one naming a start before the image.
        f.write_all_at(&sb(0, 0xE), 33 * MIB + 100).unwrap();
        f.write_all_at(&sb(40 * MIB, 0xF), 34 * MIB).unwrap();
    }

    #[test]
    fn votes_copies_and_windows() {
        let dir = tempfile::tempdir().unwrap();
        for fill in [None, Some(0x11)] {
            let p = dir.path().join("disk.img");
            write_layout(&p, fill);
            for mode in [ReadMode::Mmap, ReadMode::Pread] {
                let image = open(&p, mode);
                if fill.is_none() {
                    // The sparse file: only a few data ranges to read.
                    let r = image.data_ranges(0, image.size());
                    assert!(r.iter().map(|(a, b)| b - a).sum::<u64>() < MIB, "{r:?}");
                }
                let mut notes = Vec::new();
                let parts = find_with(&image, &TEST, &mut notes);
                assert_eq!(summary(&parts), want(), "fill {fill:?} {mode:?}");
                assert_eq!(notes.len(), 3);
                assert_eq!(notes[0].offset, MIB);
                assert!(
                    notes[0]
                        .message
                        .contains("primary superblock at offset 1048576")
                        && notes[0].message.contains("(4 superblock(s) agree)"),
                    "{}",
                    notes[0]
                );
            }
        }
    }

    #[test]
    fn lone_backup_with_a_copy_gives_the_first_start() {
        // The primary gone; one backup and a journal copy of the primary.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("disk.img");
        let f = std::fs::File::create(&p).unwrap();
        f.set_len(16 * MIB).unwrap();
        f.write_all_at(&sb(4 * MIB, 0xA), 5 * MIB).unwrap();
        f.write_all_at(&sb(0, 0xA), 3 * MIB).unwrap();
        let mut notes = Vec::new();
        let parts = find_with(&open(&p, ReadMode::Mmap), &TEST, &mut notes);
        assert_eq!(summary(&parts), vec![(1, MIB, 15 * MIB, "test".into())]);
        assert!(notes[0]
            .message
            .contains("backup superblock at offset 5242880"));
    }

    #[test]
    fn nothing_found() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("empty.img");
        std::fs::File::create(&p).unwrap().set_len(MIB).unwrap();
        let mut notes = Vec::new();
        assert!(find(&open(&p, ReadMode::Mmap), &mut notes).is_empty());
        assert!(notes.is_empty());
        let p = dir.path().join("zero.img");
        std::fs::File::create(&p).unwrap();
        assert!(find(&open(&p, ReadMode::Pread), &mut notes).is_empty());
    }

    /// The committed fixture with both GPT copies zeroed: its ext4 (one block
    /// group, so the primary superblock alone) is found at 1 MiB.
    #[test]
    fn fixture_gpt_zeroed() {
        let dir = tempfile::tempdir().unwrap();
        let p = crate::layout::gpt::tests::fixture(dir.path(), Some("gpt-zeroed.json"));
        let image = open(&p, ReadMode::Mmap);
        let mut notes = Vec::new();
        let parts = find(&image, &mut notes);
        let size = image.size();
        assert_eq!(
            summary(&parts),
            vec![(1, 1048576, size - 1048576, "ext4".into())]
        );
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].offset, 1048576 + 1024);
        same_via_carve(&image);
        // The whole layout stage takes the same path.
        let layout = crate::layout::open(&image);
        assert_eq!(layout.partitions, parts);
        assert_eq!(layout.volumes.len(), 1);
        assert_eq!(layout.volumes[0].fs.kind(), "ext4");
    }

    /// The other committed disks with both GPT copies zeroed: XFS (AG 0 and
    /// its secondaries vote) and the fragmented ext4, each at 1 MiB.
    #[test]
    fn fixtures_xfs_and_fragmented_gpt_zeroed() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/images");
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(root.join("MANIFEST.json")).unwrap()).unwrap();
        for (recipe, name, kind) in [
            ("fsdamage/xfs-gpt-zeroed.json", "main-xfs", "xfs"),
            (
                "fsdamage/frag-gpt-zeroed.json",
                "main-ext4-fragmented",
                "ext4",
            ),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let p = crate::layout::gpt::tests::from_recipe(dir.path(), recipe);
            let image = open(&p, ReadMode::Mmap);
            let start = m[name]["partition_offset"].as_u64().unwrap();
            assert_eq!(image.size(), m[name]["disk_bytes"].as_u64().unwrap());
            let mut notes = Vec::new();
            assert!(crate::layout::gpt::read(&image, &mut notes).is_none());
            assert!(crate::layout::mbr::read(&image, &mut notes).is_none());
            let mut notes = Vec::new();
            let parts = find(&image, &mut notes);
            assert_eq!(
                summary(&parts),
                vec![(1, start, image.size() - start, kind.into())],
                "{recipe}"
            );
            assert!(
                notes[0].message.contains("primary superblock"),
                "{}",
                notes[0]
            );
            same_via_carve(&image);
            let layout = crate::layout::open(&image);
            // XFS: `open` finds it first as a whole-image filesystem (the
            // XFS reader locates the start by its secondaries), so the
            // sweep is not reached; ext4 takes the sweep.
            if kind == "ext4" {
                assert_eq!(layout.partitions, parts);
            }
            assert_eq!(layout.volumes.len(), 1);
            assert_eq!(layout.volumes[0].fs.kind(), kind);
        }
    }

    /// The sweep fed by the carving pass's superblock positions finds the
    /// same partitions and notes as the sweep that reads the image itself.
    fn same_via_carve(image: &Image) {
        let mut notes = Vec::new();
        let parts = find(image, &mut notes);
        let range = crate::carve::scan::ScanRange {
            start: 0,
            end: image.size(),
        };
        let raw = crate::carve::scan::scan(image, range, &|_| {});
        let mut notes2 = Vec::new();
        let parts2 = find_at(image, &raw.superblock_offsets, &mut notes2);
        assert_eq!(parts2, parts);
        assert_eq!(notes2, notes);
    }

    fn run(cmd: &str, args: &[&str]) -> String {
        let out = Command::new(cmd).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{cmd} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Copies the data of file `from` into `to` at `at`, holes left sparse.
    fn place(from: &Path, to: &std::fs::File, at: u64) {
        let src = open(from, ReadMode::Pread);
        for (a, b) in src.data_ranges(0, src.size()) {
            to.write_all_at(&src.bytes(a, (b - a) as usize), at + a)
                .unwrap();
        }
    }

    /// No table: an ext4 with backups (1 KiB blocks, 8 MiB groups) at 1 MiB
    /// and an XFS at 70 MiB, made by mkfs; the votes are the superblock
    /// counts dumpe2fs and xfs_db give.
    #[test]
    fn mkfs_ext4_and_xfs_without_table() {
        let dir = tempfile::tempdir().unwrap();
        let e = dir.path().join("e.img");
        std::fs::File::create(&e)
            .unwrap()
            .set_len(64 * MIB)
            .unwrap();
        run(
            "mkfs.ext4",
            &["-q", "-F", "-b", "1024", e.to_str().unwrap()],
        );
        let backups = run("dumpe2fs", &[e.to_str().unwrap()])
            .lines()
            .filter(|l| l.contains("Backup superblock at"))
            .count() as u32;
        assert!(backups >= 3, "{backups}");
        let x = dir.path().join("x.img");
        std::fs::File::create(&x)
            .unwrap()
            .set_len(300 * MIB)
            .unwrap();
        run("mkfs.xfs", &["-q", "-f", x.to_str().unwrap()]);
        let agcount: u32 = run(
            "xfs_db",
            &["-r", "-c", "sb 0", "-c", "p agcount", x.to_str().unwrap()],
        )
        .trim()
        .strip_prefix("agcount = ")
        .unwrap()
        .parse()
        .unwrap();

        let p = dir.path().join("disk.img");
        let f = std::fs::File::create(&p).unwrap();
        f.set_len(380 * MIB).unwrap();
        place(&e, &f, MIB);
        place(&x, &f, 70 * MIB);
        drop(f);
        let image = open(&p, ReadMode::Mmap);
        let mut notes = Vec::new();
        let parts = find(&image, &mut notes);
        assert_eq!(
            summary(&parts),
            vec![
                (1, MIB, 69 * MIB, "ext4".into()),
                (2, 70 * MIB, 310 * MIB, "xfs".into()),
            ]
        );
        assert!(
            notes[0]
                .message
                .contains(&format!("({} superblock(s) agree)", backups + 1)),
            "{}",
            notes[0]
        );
        assert!(
            notes[1]
                .message
                .contains(&format!("({agcount} superblock(s) agree)")),
            "{}",
            notes[1]
        );
        same_via_carve(&image);

        // The primaries zeroed: the backups alone still agree on the starts.
        let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        f.write_all_at(&[0u8; 1024], MIB + 1024).unwrap();
        f.write_all_at(&[0u8; 512], 70 * MIB).unwrap();
        drop(f);
        let image = open(&p, ReadMode::Pread);
        let mut notes = Vec::new();
        let parts = find(&image, &mut notes);
        assert_eq!(
            summary(&parts),
            vec![
                (1, MIB, 69 * MIB, "ext4".into()),
                (2, 70 * MIB, 310 * MIB, "xfs".into()),
            ]
        );
        assert!(
            notes
                .iter()
                .all(|n| n.message.contains("backup superblock")),
            "{notes:?}"
        );
        same_via_carve(&image);
    }
}
