//! XFS, v5 (CRC-enabled, today's mkfs default) and v4 (no CRCs), read-only
//! and damage-tolerant (formats from the kernel's `xfs_format.h` and
//! `xfs_da_format.h`).
//!
//! * [`superblock`] — the superblock and CRC32C checks of v5 structures.
//! * [`locate`] — the filesystem's start: the primary superblock, else a
//!   secondary one found by scanning; [`sweep_hit`] for the partition sweep.
//! * [`ag`] — AGF/AGI headers (which AG a superblock copy belongs to).
//! * [`inode`] — the dinode core (v2 100 bytes, v3 176 bytes with CRC).
//! * [`bmap`] — data fork block maps: extent lists and bmbt btrees.
//! * [`dir`] — shortform, block, leaf and node directories.
//! * [`symlink`] — symlink targets stored in blocks.
//!
//! Addresses: a filesystem block number is `(agno << agblklog) | agbno` and
//! lies at byte `(agno * agblocks + agbno) * blocksize` of the filesystem;
//! an inode number adds the inode's slot in its block below the AG block
//! number (`sb_inopblog` bits). Everything returned is in absolute image
//! bytes.

pub mod ag;
pub mod bmap;
pub mod dir;
pub mod inode;
pub mod locate;
pub mod superblock;
pub mod symlink;

#[cfg(test)]
mod tests;

use std::borrow::Cow;

use super::files;
use super::fs::{DirEntry, Extent, FileKind, Filesystem, FsError, Inode, Note, Notes};
use crate::bytes::slice;
use crate::image::Image;
use bmap::Rec;
use inode::Dinode;
use superblock::{crc_ok, Superblock};

pub use locate::sweep_hit;

/// Directory blocks read per directory at most.
const MAX_DIR_BLOCKS: usize = 1 << 20;
/// An XFS filesystem opened on the image.
pub struct Xfs<'a> {
    image: &'a Image,
    /// Absolute image offset of the filesystem (of AG 0).
    start: u64,
    sb: Superblock,
    notes: Notes,
}

impl<'a> Xfs<'a> {
    /// Opens the filesystem at absolute offset `start` (`len` bytes, clipped
    /// to the image). When the primary superblock is unusable (or fails its
    /// CRC), a secondary one whose AG number puts its filesystem at `start`
    /// is searched for and used (noted).
    pub fn open(image: &'a Image, start: u64, len: u64) -> Result<Xfs<'a>, FsError> {
        let size = image.size();
        if start >= size {
            return Err(FsError::new(
                "xfs superblock",
                start,
                "past the end of the image",
            ));
        }
        let len = len.min(size - start);
        let notes = Notes::default();
        let head = image.bytes(start, 32768);
        let (sb, start) = match Superblock::parse(&head) {
            Ok(sb) if sb_crc_ok(&sb, &head) => (sb, start),
            Ok(sb) => {
                // A v5 primary whose CRC fails: a secondary that passes
                // and names the same start is trusted more.
                match locate::secondary(image, start, len) {
                    Some((copy, at, s))
                        if s == start && sb_crc_ok(&copy.sb, &image.bytes(at, 32768)) =>
                    {
                        notes.push(
                            "xfs superblock",
                            start,
                            format!(
                                "CRC mismatch; using the secondary superblock of AG {} at offset {at}",
                                copy.ag
                            ),
                        );
                        (copy.sb, start)
                    }
                    _ => {
                        notes.push(
                            "xfs superblock",
                            start,
                            "CRC mismatch (superblock used anyway)",
                        );
                        (sb, start)
                    }
                }
            }
            Err(why) => match locate::secondary(image, start, len) {
                Some((copy, at, fs_start)) => {
                    if !sb_crc_ok(&copy.sb, &image.bytes(at, 32768)) {
                        notes.push(
                            "xfs superblock",
                            at,
                            "CRC mismatch (secondary superblock used anyway)",
                        );
                    }
                    notes.push(
                        "xfs superblock",
                        start,
                        format!(
                            "primary superblock unusable ({why}); using the secondary superblock of AG {} at offset {at}",
                            copy.ag
                        ),
                    );
                    (copy.sb, fs_start)
                }
                None => {
                    return Err(FsError::new(
                        "xfs superblock",
                        start,
                        format!("{why}; no secondary superblock found"),
                    ))
                }
            },
        };
        let fs_bytes = sb.dblocks.saturating_mul(u64::from(sb.block_size));
        if start.saturating_add(fs_bytes) > size {
            notes.push(
                "xfs superblock",
                start,
                format!(
                    "the filesystem ({fs_bytes} bytes) runs past the end of the image: the rest reads as zeros"
                ),
            );
        }
        Ok(Xfs {
            image,
            start,
            sb,
            notes,
        })
    }

    /// The superblock in use.
    pub fn superblock(&self) -> &Superblock {
        &self.sb
    }

    /// Absolute image offset of the filesystem.
    pub fn start(&self) -> u64 {
        self.start
    }

    fn note(&self, structure: impl Into<String>, offset: u64, message: impl Into<String>) {
        self.notes.push(structure, offset, message);
    }

    /// Image bytes `off..off+len`, clipped to the image.
    fn read(&self, off: u64, len: usize) -> Cow<'a, [u8]> {
        self.image.bytes(off, len)
    }

    /// Absolute offset of filesystem block `fsb`, if it lies in the filesystem.
    fn fsb_offset(&self, fsb: u64) -> Option<u64> {
        let (agno, agbno) = self.split_fsb(fsb)?;
        Some(
            self.start
                + (agno * u64::from(self.sb.agblocks) + agbno) * u64::from(self.sb.block_size),
        )
    }

    /// `(agno, agbno)` of `fsb`, if both are in range.
    fn split_fsb(&self, fsb: u64) -> Option<(u64, u64)> {
        let log = u32::from(self.sb.agblklog);
        let agno = fsb.checked_shr(log)?;
        let agbno = fsb & ((1u64 << log) - 1);
        if agno >= u64::from(self.sb.agcount) || agbno >= u64::from(self.sb.agblocks) {
            return None;
        }
        if agno * u64::from(self.sb.agblocks) + agbno >= self.sb.dblocks {
            return None;
        }
        Some((agno, agbno))
    }

    /// Absolute offset of inode `ino`, if its number lies in the filesystem.
    fn ino_offset(&self, ino: u64) -> Option<u64> {
        let ip = u32::from(self.sb.inopblog);
        let fsb = ino >> ip;
        let slot = ino & ((1u64 << ip) - 1);
        let off = self.fsb_offset(fsb)?;
        Some(off + slot * u64::from(self.sb.inodesize))
    }

    /// Bits an inode number of this filesystem may use.
    fn ino_bits(&self) -> u32 {
        let agno_bits = u32::BITS - (self.sb.agcount - 1).leading_zeros();
        agno_bits + u32::from(self.sb.agblklog) + u32::from(self.sb.inopblog)
    }

    /// The mode of inode `ino`, if its number lies in the filesystem and
    /// it carries the inode magic.
    fn inode_mode(&self, ino: u64) -> Option<u16> {
        let off = self.ino_offset(ino)?;
        let b = self.read(off, 4);
        (crate::bytes::be_u16(&b, 0)? == inode::MAGIC).then(|| crate::bytes::be_u16(&b, 2))?
    }

    /// A record as an extent in image bytes, if its blocks lie in one AG of
    /// the filesystem (else noted at the record and dropped).
    fn extent(&self, r: &Rec, ino: u64) -> Option<Extent> {
        let at = r.at;
        let bs = u64::from(self.sb.block_size);
        let what = || format!("xfs inode {ino}");
        if r.blockcount == 0 {
            return None;
        }
        let Some((agno, agbno)) = self.split_fsb(r.startblock) else {
            self.note(
                what(),
                at,
                format!(
                    "extent at file block {} points to block {} outside the filesystem, skipped",
                    r.startoff, r.startblock
                ),
            );
            return None;
        };
        let ag_end =
            u64::from(self.sb.agblocks).min(self.sb.dblocks - agno * u64::from(self.sb.agblocks));
        if agbno + r.blockcount > ag_end {
            self.note(
                what(),
                at,
                format!(
                    "extent at file block {} ({} blocks from block {}) runs past its AG, skipped",
                    r.startoff, r.blockcount, r.startblock
                ),
            );
            return None;
        }
        let len = r.blockcount * bs;
        let Some(logical) = r
            .startoff
            .checked_mul(bs)
            .filter(|l| l.checked_add(len).is_some_and(|e| e <= i64::MAX as u64))
        else {
            self.note(
                what(),
                at,
                format!(
                    "extent at file block {} lies past 8 EiB, skipped",
                    r.startoff
                ),
            );
            return None;
        };
        Some(Extent {
            logical,
            physical: self.start + (agno * u64::from(self.sb.agblocks) + agbno) * bs,
            len,
            unwritten: r.unwritten,
        })
    }

    /// Bytes `off..off+len` of a fork's logical space through `extents`
    /// (sorted); holes and unwritten ranges read as zeros.
    fn read_logical(&self, extents: &[Extent], off: u64, len: usize) -> Cow<'a, [u8]> {
        let end = off + len as u64;
        let first = extents.partition_point(|x| x.logical.saturating_add(x.len) <= off);
        if let Some(x) = extents.get(first) {
            if x.logical <= off && end <= x.logical + x.len && !x.unwritten {
                let b = self.read(x.physical + (off - x.logical), len);
                if b.len() == len {
                    return b;
                }
            }
        }
        let mut buf = vec![0u8; len];
        for x in &extents[first..] {
            if x.logical >= end {
                break;
            }
            if x.unwritten {
                continue;
            }
            let s = x.logical.max(off);
            let e = x.logical.saturating_add(x.len).min(end);
            if s >= e {
                continue;
            }
            let b = self.read(x.physical + (s - x.logical), (e - s) as usize);
            let at = (s - off) as usize;
            buf[at..at + b.len()].copy_from_slice(&b);
        }
        Cow::Owned(buf)
    }

    /// The image offset of logical byte `off` of a fork, if mapped.
    fn physical(extents: &[Extent], off: u64) -> Option<u64> {
        let i = extents.partition_point(|x| x.logical.saturating_add(x.len) <= off);
        let x = extents.get(i)?;
        (x.logical <= off).then(|| x.physical + (off - x.logical))
    }
}

/// The superblock's CRC holds (always true on v4, which has none).
fn sb_crc_ok(sb: &Superblock, b: &[u8]) -> bool {
    if !sb.is_v5() {
        return true;
    }
    let b = slice(b, 0, usize::from(sb.sectsize)).unwrap_or(b);
    crc_ok(b, superblock::CRC_OFF) != Some(false)
}

impl Filesystem for Xfs<'_> {
    fn kind(&self) -> &'static str {
        "xfs"
    }

    fn label(&self) -> Option<String> {
        self.sb.label()
    }

    fn root(&self) -> u64 {
        self.sb.rootino
    }

    fn block_size(&self) -> u32 {
        self.sb.block_size
    }

    fn inode(&self, ino: u64) -> Result<Inode, FsError> {
        let what = format!("xfs inode {ino}");
        let off = self.ino_offset(ino).ok_or_else(|| {
            FsError::new(&what, self.start, "inode number outside the filesystem")
        })?;
        let isz = usize::from(self.sb.inodesize);
        let b = self.read(off, isz);
        if b.len() < isz {
            return Err(FsError::new(what, off, "past the end of the image"));
        }
        let d = Dinode::parse(&b, self.sb.is_v5()).map_err(|e| FsError::new(&what, off, e))?;
        if !d.version_ok() {
            self.note(
                &what,
                off + 4,
                format!(
                    "inode version {} on a v{} filesystem (read as version {})",
                    d.version_byte,
                    if self.sb.is_v5() { 5 } else { 4 },
                    d.version
                ),
            );
        }
        if d.version == 3 {
            if crc_ok(&b, inode::CRC_OFF) == Some(false) {
                self.note(&what, off, "CRC mismatch (inode used anyway)");
            }
            if d.own_ino != Some(ino) {
                self.note(
                    &what,
                    off + 152,
                    format!(
                        "records inode number {} (inode used anyway)",
                        d.own_ino.unwrap_or(0)
                    ),
                );
            }
        }
        let kind = FileKind::from_mode(d.mode);
        let mut out = Inode {
            ino,
            kind,
            mode: d.mode,
            uid: d.uid,
            gid: d.gid,
            nlink: d.nlink,
            size: d.size,
            mtime: d.mtime,
            mtime_nsec: d.mtime_nsec,
            extents: Vec::new(),
            inline: None,
            deleted: d.mode == 0 || d.nlink == 0,
        };
        if d.size > i64::MAX as u64 {
            self.note(
                &what,
                off + 56,
                format!("impossible size {}, read as 0", d.size),
            );
            out.size = 0;
        }
        let fork = d.data_fork(&b);
        let fork_at = off + d.fork_off as u64;
        let mut recs = Vec::new();
        match d.format {
            inode::FMT_DEV => {}
            inode::FMT_LOCAL => {
                if out.size > fork.len() as u64 {
                    self.note(
                        &what,
                        fork_at,
                        format!(
                            "local data of {} bytes in a fork of {}: the rest reads as zeros",
                            out.size,
                            fork.len()
                        ),
                    );
                }
                let n = (out.size as usize).min(fork.len());
                out.inline = Some(fork[..n].to_vec());
            }
            inode::FMT_EXTENTS => bmap::list(self, ino, fork, d.nextents, fork_at, &mut recs),
            inode::FMT_BTREE => bmap::btree(self, ino, fork, fork_at, &mut recs),
            f => self.note(&what, off + 5, format!("unknown data fork format {f}")),
        }
        if d.realtime && !recs.is_empty() {
            self.note(
                &what,
                off + 90,
                "realtime file: its blocks are on the realtime device, not read",
            );
            recs.clear();
        }
        out.extents = recs.iter().filter_map(|r| self.extent(r, ino)).collect();
        files::normalize(&mut out.extents);
        if kind == FileKind::Symlink && out.inline.is_none() && !out.extents.is_empty() {
            out.inline = Some(symlink::remote(self, ino, &out.extents, out.size));
        }
        Ok(out)
    }

    fn read_dir(&self, dir: &Inode, deleted: bool) -> Result<Vec<DirEntry>, FsError> {
        let at = self.ino_offset(dir.ino).unwrap_or(self.start);
        if dir.kind != FileKind::Dir {
            return Err(FsError::new(
                format!("xfs inode {}", dir.ino),
                at,
                "not a directory",
            ));
        }
        let mut live = Vec::new();
        if let Some(data) = &dir.inline {
            let core = if self.sb.is_v5() {
                inode::CORE_V3
            } else {
                inode::CORE_V2
            };
            dir::shortform(self, dir.ino, data, at + core as u64, &mut live);
            return Ok(live);
        }
        let mut dead = Vec::new();
        let dbs = u64::from(self.sb.dir_block_size());
        let mut blocks: Vec<u64> = Vec::new();
        'extents: for x in &dir.extents {
            if x.logical >= dir::LEAF_OFFSET {
                break;
            }
            let end = x.logical.saturating_add(x.len).min(dir::LEAF_OFFSET);
            let mut b = x.logical / dbs * dbs;
            while b < end {
                if blocks.last() != Some(&b) {
                    if blocks.len() >= MAX_DIR_BLOCKS {
                        self.note(
                            format!("xfs directory inode {}", dir.ino),
                            at,
                            format!("more than {MAX_DIR_BLOCKS} data blocks: the rest skipped"),
                        );
                        break 'extents;
                    }
                    blocks.push(b);
                }
                b += dbs;
            }
        }
        for lb in blocks {
            let Some(phys) = Self::physical(&dir.extents, lb) else {
                continue;
            };
            let b = self.read_logical(&dir.extents, lb, dbs as usize);
            dir::data_block(self, dir.ino, &b, phys, deleted, &mut live, &mut dead);
        }
        dead.retain(|d| !live.iter().any(|l| l.ino == d.ino && l.name == d.name));
        live.extend(dead);
        Ok(live)
    }

    fn notes(&self) -> Vec<Note> {
        self.notes.all()
    }
}
