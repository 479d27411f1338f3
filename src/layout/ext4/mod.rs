//! ext4 (and ext2/ext3) read-only and damage-tolerant.
//!
//! One module per on-disk structure:
//!
//! * [`superblock`] — the superblock, its backups, and [`sweep_hit`] for the
//!   partition sweep;
//! * [`group`] — group descriptors (primary table, backup copies);
//! * [`rebuild`] — when neither a superblock nor a descriptor copy survives:
//!   the layout found again from the descriptor table and the root directory;
//! * [`inode`] — inodes, their checksums, inline data;
//! * [`extent`] — extent trees and ext2/ext3 indirect block maps;
//! * [`dir`] — directory blocks (linear, htree leaves, inline), deleted
//!   entries in the slack.
//!
//! Opening tries the primary superblock, then backups, then a rebuild.
//! Checksums (crc32c with metadata_csum, crc16 with gdt_csum) are verified,
//! and a failure is a [`Note`], never a refusal: the structure is still used
//! when its fields are in range.

mod csum;
mod dir;
mod extent;
mod group;
mod inode;
mod rebuild;
mod superblock;
#[cfg(test)]
mod tests;

use std::borrow::Cow;

use super::fs::{DirEntry, Filesystem, FsError, Inode, Note, Notes};
use crate::image::Image;
use superblock::Superblock;

pub use superblock::sweep_hit;

/// Where one group's inode table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Group {
    /// First block of the inode table.
    itable: u64,
    /// The group's inodes were never initialised (INODE_UNINIT in a
    /// descriptor whose checksum holds): none of them is in use.
    uninit: bool,
}

/// An ext2/3/4 filesystem on the image.
pub struct Ext4<'a> {
    image: &'a Image,
    /// Absolute image offset of the filesystem.
    start: u64,
    /// Its length, clipped to the image.
    len: u64,
    sb: Superblock,
    groups: Vec<Option<Group>>,
    /// The metadata_csum seed, when checksums are verified.
    seed: Option<u32>,
    kind: &'static str,
    notes: Notes,
}

impl<'a> Ext4<'a> {
    /// Opens the filesystem at absolute offset `start` (`len` bytes, clipped
    /// to the image). Fails only when no superblock can be found or rebuilt.
    pub fn open(image: &'a Image, start: u64, len: u64) -> Result<Ext4<'a>, FsError> {
        let len = len.min(image.size().saturating_sub(start));
        let notes = Notes::default();
        let primary_at = start + 1024;
        let raw = image.bytes(primary_at, superblock::SB_SIZE);
        let (sb, rebuilt_kind) = match Superblock::parse(&raw) {
            Ok(sb) => {
                if sb.metadata_csum() && !sb.checksum_ok(&raw) {
                    notes.push(
                        "ext4 superblock",
                        primary_at,
                        "checksum mismatch (fields are sane; used)",
                    );
                }
                (sb, None)
            }
            Err(why) => {
                // A filesystem made over an old ext4 keeps the old backups:
                // another filesystem's signature at the start wins.
                if let Some(other) = other_signature(image, start) {
                    return Err(FsError::new(
                        "ext4 superblock",
                        primary_at,
                        format!("{why}; the partition holds {other}"),
                    ));
                }
                if let Some(b) = superblock::find_backup(image, start, len) {
                    notes.push(
                        "ext4 superblock",
                        primary_at,
                        format!(
                            "primary unusable ({why}); using the backup superblock of group {} \
                             at offset {}",
                            b.group, b.offset
                        ),
                    );
                    if b.sb.metadata_csum() {
                        let raw = image.bytes(b.offset, superblock::SB_SIZE);
                        if !b.sb.checksum_ok(&raw) {
                            notes.push(
                                "ext4 backup superblock",
                                b.offset,
                                "checksum mismatch (fields are sane; used)",
                            );
                        }
                    }
                    (b.sb, None)
                } else if let Some(r) = rebuild::guess(image, start, len) {
                    notes.push(
                        "ext4 superblock",
                        primary_at,
                        format!("{why}; {}", r.message),
                    );
                    (r.sb, Some(r.kind))
                } else {
                    return Err(FsError::new(
                        "ext4 superblock",
                        primary_at,
                        format!("{why}; no backup superblock found"),
                    ));
                }
            }
        };
        if sb.has_incompat(superblock::INCOMPAT_JOURNAL_DEV) {
            return Err(FsError::new(
                "ext4 superblock",
                primary_at,
                "an external journal device, not a filesystem",
            ));
        }
        if sb.has_incompat(superblock::INCOMPAT_RECOVER) {
            notes.push(
                "ext4 superblock",
                primary_at,
                "the journal needs recovery: the newest metadata may be only in the journal",
            );
        }
        let seed = sb.metadata_csum().then(|| sb.csum_seed());
        let kind = rebuilt_kind.unwrap_or_else(|| sb.kind());
        let mut fs = Ext4 {
            image,
            start,
            len,
            sb,
            groups: Vec::new(),
            seed,
            kind,
            notes,
        };
        fs.groups = group::load(&fs);
        Ok(fs)
    }

    fn bs(&self) -> u64 {
        u64::from(self.sb.block_size())
    }

    /// Absolute image offset of filesystem block `blk`, when the block lies
    /// inside the filesystem and the image.
    fn block_at(&self, blk: u64) -> Option<u64> {
        if blk >= self.sb.blocks_count {
            return None;
        }
        let rel = blk.checked_mul(self.bs())?;
        (rel.checked_add(self.bs())? <= self.len).then_some(self.start + rel)
    }

    /// The bytes of block `blk`, when it is wholly inside the image.
    fn read_block(&self, blk: u64) -> Option<Cow<'a, [u8]>> {
        let at = self.block_at(blk)?;
        let b = self.image.bytes(at, self.bs() as usize);
        (b.len() as u64 == self.bs()).then_some(b)
    }
}

/// Another filesystem's superblock at `start`, if any (XFS, btrfs).
fn other_signature(image: &Image, start: u64) -> Option<&'static str> {
    if image.bytes(start, 4)[..] == *b"XFSB" {
        return Some("an XFS superblock");
    }
    if image.bytes(start + 0x10040, 8)[..] == *b"_BHRfS_M" {
        return Some("a btrfs superblock");
    }
    None
}

impl Filesystem for Ext4<'_> {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn label(&self) -> Option<String> {
        self.sb.label()
    }

    fn root(&self) -> u64 {
        2
    }

    fn block_size(&self) -> u32 {
        self.sb.block_size()
    }

    fn inode(&self, ino: u64) -> Result<Inode, FsError> {
        let (raw, at) = self.raw_inode(ino)?;
        inode::decode(self, ino, &raw, at)
    }

    fn read_dir(&self, dir: &Inode, deleted: bool) -> Result<Vec<DirEntry>, FsError> {
        dir::read_dir(self, dir, deleted)
    }

    fn notes(&self) -> Vec<Note> {
        self.notes.all()
    }
}
