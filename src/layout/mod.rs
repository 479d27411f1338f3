//! The layout stage: partitions and filesystems, so that files can be named,
//! listed, copied out, and read through their own block maps.
//!
//! ```text
//! image ──► partitions (gpt, mbr, or a sweep for superblocks) ──► filesystems (ext4, xfs) ──► files
//! ```
//!
//! * [`gpt`], [`mbr`] — partition tables; GPT falls back to its backup copy.
//! * [`sweep`] — when no table is usable: superblocks (primary or backup)
//!   found by signature, whose positions give the filesystem start.
//! * [`ext4`], [`xfs`] — the filesystem readers; each implements
//!   [`fs::Filesystem`].
//! * [`files`] — what is written once for every filesystem: paths, the
//!   recursive walk, reading a file's bytes through its block map.
//!
//! Everything here is read-only and damage-tolerant: a structure that points
//! outside the image is skipped with a [`fs::Note`] naming it and its offset,
//! and the rest of the disk is still used. The filesystem is a guide for the
//! carver, never a requirement.

pub mod ext4;
pub mod files;
pub mod fs;
pub mod gpt;
pub mod mbr;
pub mod sweep;
pub mod xfs;

use serde::Serialize;

use crate::image::Image;
use fs::{Filesystem, FsError, Note};

/// Where a partition's bounds came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// The primary GPT header and entries.
    Gpt,
    /// The backup GPT at the end of the disk (the primary was damaged).
    GptBackup,
    /// An MBR primary partition or a logical one in an extended partition.
    Mbr,
    /// No usable table: a superblock found by signature gave the start.
    Sweep,
    /// No table: the image itself is the filesystem (a partition image).
    Whole,
}

/// One partition (or the whole image when there is no table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Partition {
    /// 1-based number as the table gives it (MBR logical partitions from 5);
    /// for a sweep, the order found.
    pub number: u32,
    /// Absolute byte offset in the image.
    pub start: u64,
    /// Length in bytes (clipped to the image by the caller when reading).
    pub len: u64,
    pub scheme: Scheme,
    /// The partition type: a GPT type GUID's common name or the GUID, or the
    /// MBR type byte as `0x83`.
    pub type_name: String,
    /// GPT partition name, if any.
    pub name: Option<String>,
}

/// A filesystem found on a partition.
pub struct Volume<'a> {
    pub partition: Partition,
    pub fs: Box<dyn Filesystem + 'a>,
}

impl Volume<'_> {
    /// A short name for messages and JSON: `p1:ext4`.
    pub fn name(&self) -> String {
        format!("p{}:{}", self.partition.number, self.fs.kind())
    }
}

/// Partitions, the filesystems on them, and what was noted on the way.
pub struct Layout<'a> {
    pub partitions: Vec<Partition>,
    pub volumes: Vec<Volume<'a>>,
    pub notes: Vec<Note>,
}

/// Opens the filesystem that starts at `start` (`len` bytes), whichever kind
/// its superblock says (ext4 first, then XFS).
pub fn open_fs<'a>(
    image: &'a Image,
    start: u64,
    len: u64,
) -> Result<Box<dyn Filesystem + 'a>, Vec<FsError>> {
    let mut errs = Vec::new();
    match ext4::Ext4::open(image, start, len) {
        Ok(fs) => return Ok(Box::new(fs)),
        Err(e) => errs.push(e),
    }
    match xfs::Xfs::open(image, start, len) {
        Ok(fs) => return Ok(Box::new(fs)),
        Err(e) => errs.push(e),
    }
    Err(errs)
}

/// Reads the partition tables and opens every filesystem found. Never fails:
/// an image with nothing recognisable gives an empty layout and notes.
pub fn open(image: &Image) -> Layout<'_> {
    open_with(image, None)
}

/// [`open`]; when the image has no partition table, the superblock sweep
/// looks only at `superblock_offsets` if given: every position of the
/// image where [`sweep::may_hit`] holds, noted by the carving pass
/// (`ScanOutput::superblock_offsets`), so the image is not read twice.
pub fn open_with<'a>(image: &'a Image, superblock_offsets: Option<&[u64]>) -> Layout<'a> {
    let mut notes = Vec::new();
    let size = image.size();
    let mut partitions = match gpt::read(image, &mut notes) {
        Some(p) => p,
        None => mbr::read(image, &mut notes).unwrap_or_default(),
    };
    partitions.retain(|p| p.start < size && p.len > 0);
    let mut volumes = Vec::new();
    for p in &partitions {
        let len = p.len.min(size - p.start);
        match open_fs(image, p.start, len) {
            Ok(fs) => volumes.push(Volume {
                partition: p.clone(),
                fs,
            }),
            Err(_) => notes.push(Note {
                structure: format!("partition {}", p.number),
                offset: p.start,
                message: "no ext4 or XFS superblock (primary or backup) found".into(),
            }),
        }
    }
    if volumes.is_empty() {
        // A bare filesystem (partition image) whose primary superblock is
        // there; otherwise a sweep, whose superblock copies say where their
        // filesystems start (at 0 or elsewhere).
        let head = image.bytes(0, 1084);
        let primary_at_0 = head.get(..4) == Some(b"XFSB".as_slice())
            || head.get(1080..1082) == Some([0x53, 0xEF].as_slice());
        if let Some(fs) = primary_at_0.then(|| open_fs(image, 0, size).ok()).flatten() {
            let p = Partition {
                number: 1,
                start: 0,
                len: size,
                scheme: Scheme::Whole,
                type_name: "none".into(),
                name: None,
            };
            partitions = vec![p.clone()];
            volumes.push(Volume { partition: p, fs });
        } else {
            let found = match superblock_offsets {
                Some(at) => sweep::find_at(image, at, &mut notes),
                None => sweep::find(image, &mut notes),
            };
            for p in found {
                let len = p.len.min(size - p.start);
                if let Ok(fs) = open_fs(image, p.start, len) {
                    partitions.push(p.clone());
                    volumes.push(Volume { partition: p, fs });
                }
            }
        }
    }
    Layout {
        partitions,
        volumes,
        notes,
    }
}

/// A filesystem, as reports name it.
#[derive(Debug, Clone, Serialize)]
pub struct FsSummary {
    pub partition: u32,
    pub kind: &'static str,
    pub label: Option<String>,
    pub block_size: u32,
    pub start: u64,
}

/// The layout as owned data, for reports (the [`Layout`] borrows the image).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub partitions: Vec<Partition>,
    pub filesystems: Vec<FsSummary>,
    /// `(who, note)`: "layout" or the volume's name.
    pub notes: Vec<(String, Note)>,
}

impl<'a> Layout<'a> {
    /// What reports say of the layout.
    pub fn summary(&self) -> Summary {
        Summary {
            partitions: self.partitions.clone(),
            filesystems: self
                .volumes
                .iter()
                .map(|v| FsSummary {
                    partition: v.partition.number,
                    kind: v.fs.kind(),
                    label: v.fs.label(),
                    block_size: v.fs.block_size(),
                    start: v.partition.start,
                })
                .collect(),
            notes: self.all_notes(),
        }
    }

    /// Resolves a user's path: `pN:/path` picks partition N, a bare path is
    /// looked up on each filesystem in turn (the first that has it wins).
    /// Returns the volume's index and the inode.
    pub fn resolve(&self, image: &Image, path: &str) -> Result<(usize, fs::Inode), String> {
        let (part, rest) = match path.split_once(':') {
            Some((p, rest)) if p.starts_with('p') && p[1..].parse::<u32>().is_ok() => {
                (Some(p[1..].parse::<u32>().unwrap_or(0)), rest)
            }
            _ => (None, path),
        };
        if self.volumes.is_empty() {
            return Err("no ext4 or XFS filesystem found on the image".into());
        }
        let mut errors = Vec::new();
        for (i, v) in self.volumes.iter().enumerate() {
            if part.is_some_and(|n| n != v.partition.number) {
                continue;
            }
            match files::lookup(v.fs.as_ref(), image, rest) {
                Ok(inode) => return Ok((i, inode)),
                Err(e) => errors.push(format!("{}: {e}", v.name())),
            }
        }
        if errors.is_empty() {
            return Err(format!("no filesystem on partition {}", part.unwrap_or(0)));
        }
        Err(errors.join("; "))
    }

    /// Every note: the partition tables' and each filesystem's.
    pub fn all_notes(&self) -> Vec<(String, Note)> {
        let mut out: Vec<(String, Note)> = self
            .notes
            .iter()
            .map(|n| ("layout".to_string(), n.clone()))
            .collect();
        for v in &self.volumes {
            out.extend(v.fs.notes().into_iter().map(|n| (v.name(), n)));
        }
        out
    }
}
