//! The MBR partition table, with extended and logical partitions.
//!
//! Sector 0 ends with the signature 0x55 0xAA at byte 510 and holds four
//! 16-byte entries at byte 446: status (0x00 or 0x80), CHS start, type, CHS
//! end, first LBA and sector count (both little-endian 32-bit). An extended
//! partition (type 0x05, 0x0F or 0x85) starts a chain of EBRs: each holds a
//! logical partition (first LBA relative to that EBR) and a link to the next
//! EBR (first LBA relative to the extended partition's start). Logical
//! partitions are numbered from 5 in chain order, as Linux does; the extended
//! partition itself is a container and not listed.
//!
//! A boot sector of a bare filesystem is not an MBR: all four status bytes
//! must be 0x00 or 0x80 and at least one entry must have a type, a start and
//! a length. A disk whose only entry is the protective 0xEE of a GPT gives
//! `None`, so that a GPT disk whose GPT copies are both gone falls to the
//! sweep rather than to one partition spanning the disk.

use std::collections::HashSet;

use super::fs::Note;
use super::{Partition, Scheme};
use crate::bytes::{le_u32, slice};
use crate::image::Image;

/// MBR and EBR sectors are 512 bytes whatever the disk's sector size.
const SECTOR: u64 = 512;
const TABLE: usize = 446;
const PROTECTIVE: u8 = 0xEE;
/// At most this many logical partitions are read from one disk.
const MAX_LOGICAL: usize = 128;
/// At most this many EBRs are visited (empty EBRs hold no partition).
const MAX_EBRS: usize = 2 * MAX_LOGICAL;

/// One 16-byte table entry.
#[derive(Debug, Clone, Copy)]
struct Entry {
    status: u8,
    kind: u8,
    /// First sector, relative to whatever the table's kind says.
    first: u32,
    sectors: u32,
}

impl Entry {
    fn is_extended(&self) -> bool {
        matches!(self.kind, 0x05 | 0x0F | 0x85)
    }
    fn is_empty(&self) -> bool {
        self.kind == 0 || self.sectors == 0
    }
}

/// The four entries of a sector with the 0x55AA signature.
fn table(b: &[u8]) -> Option<[Entry; 4]> {
    if slice(b, 510, 2)? != [0x55, 0xAA] {
        return None;
    }
    let entry = |i: usize| -> Option<Entry> {
        let e = slice(b, TABLE + 16 * i, 16)?;
        Some(Entry {
            status: e[0],
            kind: e[4],
            first: le_u32(e, 8)?,
            sectors: le_u32(e, 12)?,
        })
    };
    Some([entry(0)?, entry(1)?, entry(2)?, entry(3)?])
}

/// The partitions of the MBR; `None` when sector 0 holds no MBR.
pub fn read(image: &Image, notes: &mut Vec<Note>) -> Option<Vec<Partition>> {
    let b = image.bytes(0, SECTOR as usize);
    let entries = table(&b)?;
    if entries.iter().any(|e| e.status != 0x00 && e.status != 0x80) {
        return None;
    }
    if !entries.iter().any(|e| !e.is_empty() && e.first != 0) {
        return None;
    }
    if entries.iter().all(|e| e.is_empty() || e.kind == PROTECTIVE) {
        notes.push(Note {
            structure: "MBR".into(),
            offset: 0,
            message:
                "only a protective entry (type 0xee): a GPT disk whose GPT copies are unusable"
                    .into(),
        });
        return None;
    }
    let size = image.size();
    let mut out = Vec::new();
    let mut visited = HashSet::new();
    let mut next_logical = 5u32;
    for (i, e) in entries.iter().enumerate() {
        if e.is_empty() || e.kind == PROTECTIVE {
            continue;
        }
        let at = (TABLE + 16 * i) as u64;
        let structure = format!("MBR partition entry {}", i + 1);
        if e.is_extended() {
            if u64::from(e.first) * SECTOR >= size {
                notes.push(Note {
                    structure,
                    offset: at,
                    message: format!(
                        "extended partition starts at offset {}, past the end of the image ({size} bytes); its logical partitions are lost",
                        u64::from(e.first) * SECTOR
                    ),
                });
                continue;
            }
            logicals(image, e, &mut next_logical, &mut visited, &mut out, notes);
            continue;
        }
        let first = u64::from(e.first);
        if let Some(p) = partition(size, i as u32 + 1, first, e, &structure, at, notes) {
            out.push(p);
        }
    }
    Some(out)
}

/// A partition from an entry, clipped to the image; `None` (with a note)
/// when it starts past the end.
fn partition(
    size: u64,
    number: u32,
    first_lba: u64,
    e: &Entry,
    structure: &str,
    at: u64,
    notes: &mut Vec<Note>,
) -> Option<Partition> {
    let start = first_lba * SECTOR;
    let mut end = start + u64::from(e.sectors) * SECTOR;
    if start >= size {
        notes.push(Note {
            structure: structure.into(),
            offset: at,
            message: format!(
                "starts at offset {start}, past the end of the image ({size} bytes); skipped"
            ),
        });
        return None;
    }
    if end > size {
        notes.push(Note {
            structure: structure.into(),
            offset: at,
            message: format!(
                "ends at offset {end}, past the end of the image ({size} bytes); clipped"
            ),
        });
        end = size;
    }
    Some(Partition {
        number,
        start,
        len: end - start,
        scheme: Scheme::Mbr,
        type_name: format!("0x{:02x}", e.kind),
        name: None,
    })
}

/// Follows the EBR chain of the extended partition `ext`, appending its
/// logical partitions to `out`. The chain ends at an EBR with no link, an
/// EBR seen before (a loop), a sector without the signature, or the caps.
fn logicals(
    image: &Image,
    ext: &Entry,
    next_number: &mut u32,
    visited: &mut HashSet<u64>,
    out: &mut Vec<Partition>,
    notes: &mut Vec<Note>,
) {
    let size = image.size();
    let base = u64::from(ext.first);
    let mut ebr = base;
    for _ in 0..MAX_EBRS {
        let at = ebr * SECTOR;
        if *next_number as usize - 5 >= MAX_LOGICAL {
            notes.push(Note {
                structure: "EBR".into(),
                offset: at,
                message: format!(
                    "more than {MAX_LOGICAL} logical partitions; the rest are not read"
                ),
            });
            return;
        }
        if !visited.insert(ebr) {
            notes.push(Note {
                structure: "EBR".into(),
                offset: at,
                message: "the EBR chain loops back to an EBR already read; stopped".into(),
            });
            return;
        }
        if at + SECTOR > size {
            notes.push(Note {
                structure: "EBR".into(),
                offset: at,
                message: format!("lies past the end of the image ({size} bytes); chain stopped"),
            });
            return;
        }
        let b = image.bytes(at, SECTOR as usize);
        let Some(entries) = table(&b) else {
            notes.push(Note {
                structure: "EBR".into(),
                offset: at,
                message: "no 0x55AA signature; chain stopped".into(),
            });
            return;
        };
        let (data, link) = (entries[0], entries[1]);
        if !data.is_empty() && !data.is_extended() {
            let structure = format!("EBR logical partition {}", *next_number);
            if let Some(p) = partition(
                size,
                *next_number,
                ebr + u64::from(data.first),
                &data,
                &structure,
                at + TABLE as u64,
                notes,
            ) {
                out.push(p);
            }
            *next_number += 1;
        }
        if link.is_empty() || !link.is_extended() {
            return;
        }
        ebr = base + u64::from(link.first);
    }
    notes.push(Note {
        structure: "EBR".into(),
        offset: ebr * SECTOR,
        message: format!("more than {MAX_EBRS} EBRs in the chain; the rest are not read"),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::ReadMode;
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};

    fn sparse(path: &Path, size: u64) {
        std::fs::File::create(path).unwrap().set_len(size).unwrap();
    }

    fn run(cmd: &str, args: &[&str], stdin: &str) -> String {
        let mut child = Command::new(cmd)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{cmd}: {e}"));
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{cmd} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn patch(p: &Path, off: u64, bytes: &[u8]) {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
        f.write_all_at(bytes, off).unwrap();
    }

    fn read(p: &Path) -> (Option<Vec<Partition>>, Vec<Note>) {
        let image = Image::open(p, ReadMode::Mmap).unwrap();
        let mut notes = Vec::new();
        let r = super::read(&image, &mut notes);
        (r, notes)
    }

    /// 64 MiB: two primaries, an extended partition holding three logicals.
    const SCRIPT: &str = "label: dos
start=2048, size=16384, type=83, bootable
start=18432, size=8192, type=82
start=26624, type=5
start=28672, size=10000, type=83
size=20000, type=8e
size=4096, type=7
";

    fn disk(dir: &Path) -> PathBuf {
        let p = dir.join("mbr.img");
        sparse(&p, 64 << 20);
        run("sfdisk", &[p.to_str().unwrap()], SCRIPT);
        p
    }

    /// (number, start, len, type) of every non-extended partition `sfdisk -J` lists.
    fn sfdisk_json(p: &Path) -> Vec<(u32, u64, u64, String)> {
        let out = run("sfdisk", &["-J", p.to_str().unwrap()], "");
        let j: serde_json::Value = serde_json::from_str(&out).unwrap();
        let mut v = Vec::new();
        for part in j["partitiontable"]["partitions"].as_array().unwrap() {
            let ty = part["type"].as_str().unwrap();
            if ["5", "f", "85"].contains(&ty) {
                continue;
            }
            let node = part["node"].as_str().unwrap();
            let n: u32 = node.rsplit("img").next().unwrap().parse().unwrap();
            let sectors = |k: &str| part[k].as_u64().unwrap() * 512;
            v.push((
                n,
                sectors("start"),
                sectors("size"),
                format!("0x{:0>2}", ty),
            ));
        }
        v
    }

    fn summary(parts: &[Partition]) -> Vec<(u32, u64, u64, String)> {
        parts
            .iter()
            .map(|p| (p.number, p.start, p.len, p.type_name.clone()))
            .collect()
    }

    /// The EBR offsets of the chain, followed by hand.
    fn ebrs(p: &Path) -> Vec<u64> {
        let b = std::fs::read(p).unwrap();
        let base = 26624u64;
        let mut out = vec![base * 512];
        loop {
            let at = *out.last().unwrap() as usize;
            let next = le_u32(&b, at + TABLE + 16 + 8).unwrap();
            if next == 0 {
                return out;
            }
            out.push((base + u64::from(next)) * 512);
        }
    }

    #[test]
    fn sfdisk_primaries_and_logicals() {
        let dir = tempfile::tempdir().unwrap();
        let p = disk(dir.path());
        let (parts, notes) = read(&p);
        let parts = parts.unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        let want = sfdisk_json(&p);
        assert_eq!(summary(&parts), want);
        // And the values of the script.
        let s = |n, a: u64, b: u64, t: &str| (n, a * 512, b * 512, t.to_string());
        assert_eq!(
            summary(&parts),
            vec![
                s(1, 2048, 16384, "0x83"),
                s(2, 18432, 8192, "0x82"),
                s(5, 28672, 10000, "0x83"),
                s(6, 40960, 20000, "0x8e"),
                s(7, 63488, 4096, "0x07"),
            ]
        );
        assert!(parts
            .iter()
            .all(|p| p.scheme == Scheme::Mbr && p.name.is_none()));
        assert_eq!(ebrs(&p).len(), 3);
    }

    #[test]
    fn ebr_loop_terminates() {
        let dir = tempfile::tempdir().unwrap();
        let p = disk(dir.path());
        let chain = ebrs(&p);
        // The last EBR links back to the first (relative LBA 0).
        let link = chain[2] + TABLE as u64 + 16;
        patch(&p, link + 4, &[0x05]);
        patch(&p, link + 8, &0u32.to_le_bytes());
        patch(&p, link + 12, &100u32.to_le_bytes());
        let (parts, notes) = read(&p);
        let parts = parts.unwrap();
        assert_eq!(summary(&parts).len(), 5);
        assert_eq!(parts[4].number, 7);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].offset, chain[0]);
        assert!(notes[0].message.contains("loops"), "{}", notes[0]);

        // A self-link on the first EBR.
        let link = chain[0] + TABLE as u64 + 16;
        patch(&p, link + 8, &0u32.to_le_bytes());
        let (parts, notes) = read(&p);
        assert_eq!(
            parts.unwrap().iter().map(|p| p.number).collect::<Vec<_>>(),
            [1, 2, 5]
        );
        assert_eq!(notes.len(), 1, "{notes:?}");
    }

    #[test]
    fn entries_past_the_image() {
        let dir = tempfile::tempdir().unwrap();
        let p = disk(dir.path());
        let chain = ebrs(&p);
        // Primary 2 moved past the end of the disk.
        patch(&p, TABLE as u64 + 16 + 8, &200_000u32.to_le_bytes());
        // Cut the disk at 25 MiB: logical 6 (40960 + 20000 sectors) is
        // clipped, the third EBR (at sector 61440) is gone.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(25 << 20)
            .unwrap();
        let (parts, notes) = read(&p);
        let parts = parts.unwrap();
        assert_eq!(
            summary(&parts),
            vec![
                (1, 2048 * 512, 16384 * 512, "0x83".to_string()),
                (5, 28672 * 512, 10000 * 512, "0x83".to_string()),
                (6, 40960 * 512, (25 << 20) - 40960 * 512, "0x8e".to_string()),
            ]
        );
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(
            notes[0].structure == "MBR partition entry 2" && notes[0].message.contains("skipped")
        );
        assert!(
            notes[1].structure == "EBR logical partition 6" && notes[1].message.contains("clipped")
        );
        assert_eq!(notes[1].offset, chain[1] + TABLE as u64);
        assert!(notes[2].offset == chain[2] && notes[2].message.contains("past the end"));

        // All four entries pointing far outside: no panic, nothing listed.
        for i in 0..4u64 {
            let e = TABLE as u64 + 16 * i;
            patch(&p, e + 4, &[0x83]);
            patch(&p, e + 8, &u32::MAX.to_le_bytes());
            patch(&p, e + 12, &u32::MAX.to_le_bytes());
        }
        let (parts, notes) = read(&p);
        assert_eq!(parts.unwrap(), vec![]);
        assert_eq!(notes.len(), 4);
    }

    #[test]
    fn not_an_mbr() {
        let dir = tempfile::tempdir().unwrap();
        // A bare ext4: the first 1024 bytes are zero.
        let p = dir.path().join("ext4.img");
        sparse(&p, 8 << 20);
        run("mkfs.ext4", &["-q", "-F", p.to_str().unwrap()], "");
        assert_eq!(read(&p), (None, vec![]));
        // A bare XFS: "XFSB" at 0.
        let p = dir.path().join("xfs.img");
        sparse(&p, 300 << 20);
        run("mkfs.xfs", &["-q", "-f", p.to_str().unwrap()], "");
        assert_eq!(&std::fs::read(&p).unwrap()[..4], b"XFSB");
        assert_eq!(read(&p), (None, vec![]));
        // A real table with a bad status byte is no MBR either; with the
        // signature gone, neither.
        let p = disk(dir.path());
        patch(&p, TABLE as u64 + 48, &[0x12]);
        assert_eq!(read(&p), (None, vec![]));
        patch(&p, TABLE as u64 + 48, &[0x00]);
        assert!(read(&p).0.is_some());
        patch(&p, 510, &[0x55, 0x00]);
        assert_eq!(read(&p), (None, vec![]));
    }

    #[test]
    fn hybrid_keeps_the_other_entries() {
        let dir = tempfile::tempdir().unwrap();
        let p = disk(dir.path());
        patch(&p, TABLE as u64 + 16 + 4, &[PROTECTIVE]);
        let (parts, notes) = read(&p);
        let n: Vec<u32> = parts.unwrap().iter().map(|p| p.number).collect();
        assert_eq!(n, [1, 5, 6, 7]);
        assert!(notes.is_empty());
    }

    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        /// A 1 MiB disk whose table, EBRs included, lies in sectors 0..34.
        fn base() -> &'static Vec<u8> {
            static BASE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
            BASE.get_or_init(|| {
                let dir = tempfile::tempdir().unwrap();
                let p = dir.path().join("small.img");
                sparse(&p, 1 << 20);
                run(
                    "sfdisk",
                    &[p.to_str().unwrap()],
                    "label: dos\nstart=1, size=3, type=83\nstart=4, size=2000, type=5\n\
                     start=6, size=10, type=83\nstart=18, size=10, type=83\n\
                     start=30, size=3, type=82\n",
                );
                let b = std::fs::read(&p).unwrap();
                let image = Image::open(&p, ReadMode::Mmap).unwrap();
                let parts = super::super::read(&image, &mut Vec::new()).unwrap();
                assert_eq!(
                    parts.iter().map(|p| p.number).collect::<Vec<_>>(),
                    [1, 5, 6, 7]
                );
                b
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            #[test]
            fn mutated_tables_never_panic(
                edits in proptest::collection::vec((0usize..34 * 512, any::<u8>()), 0..48),
                links in proptest::collection::vec((0usize..34, 0u32..40), 0..4),
                cut in proptest::option::of(0usize..(1 << 20)),
            ) {
                let mut img = base().clone();
                for (o, v) in edits { img[o] = v; }
                // EBR links redirected anywhere in the first sectors (loops).
                for (s, to) in links {
                    let at = s * 512 + TABLE + 16;
                    img[at + 4] = 0x05;
                    img[at + 8..at + 12].copy_from_slice(&to.to_le_bytes());
                    img[at + 12..at + 16].copy_from_slice(&1u32.to_le_bytes());
                    img[s * 512 + 510] = 0x55;
                    img[s * 512 + 511] = 0xAA;
                }
                if let Some(c) = cut { img.truncate(c); }
                let dir = tempfile::tempdir().unwrap();
                let p = dir.path().join("f.img");
                std::fs::write(&p, &img).unwrap();
                let image = Image::open(&p, ReadMode::Mmap).unwrap();
                let size = image.size();
                let mut notes = Vec::new();
                if let Some(parts) = super::super::read(&image, &mut notes) {
                    prop_assert!(parts.len() <= 4 + MAX_LOGICAL);
                    for part in parts {
                        prop_assert!(part.start < size && part.len > 0 && part.start + part.len <= size);
                    }
                }
            }
        }
    }
}
