//! Inodes: where one is (group, inode table, index), its fields, its
//! checksum, and where its bytes are (extent tree, block map, inline data,
//! fast symlink).
//!
//! Layout: `struct ext4_inode` in fs/ext4/ext4.h, Documentation/filesystems/
//! ext4/inodes.rst, inline data in inlinedata.rst and the in-inode extended
//! attributes in attributes.rst.

use std::borrow::Cow;

use super::csum;
use super::{extent, Ext4};
use crate::bytes::{le_u16, le_u32, slice};
use crate::layout::files;
use crate::layout::fs::{FileKind, FsError, Inode};

/// i_flags: hashed-btree directory.
pub(super) const FL_INDEX: u32 = 0x1000;
/// i_flags: the inode uses an extent tree.
pub(super) const FL_EXTENTS: u32 = 0x80000;
/// i_flags: the file's bytes are in the inode.
pub(super) const FL_INLINE_DATA: u32 = 0x1000_0000;

/// Offset and size of i_block.
pub(super) const I_BLOCK: usize = 0x28;
pub(super) const I_BLOCK_LEN: usize = 60;
/// The classic inode size; the extra fields follow.
const GOOD_OLD_SIZE: usize = 128;
const CHECKSUM_LO: usize = 0x7C;
const CHECKSUM_HI: usize = 0x82;
/// Magic of the in-inode extended attribute area.
const XATTR_MAGIC: u32 = 0xEA02_0000;
/// Attribute name index 7: "system.", where inline data lives as "data".
const XATTR_SYSTEM: u8 = 7;

impl<'a> Ext4<'a> {
    /// The raw bytes of inode `ino` and their absolute image offset.
    pub(super) fn raw_inode(&self, ino: u64) -> Result<(Cow<'a, [u8]>, u64), FsError> {
        let what = || format!("ext4 inode {ino}");
        if ino == 0 || ino > self.sb.inode_limit() {
            return Err(FsError::new(
                what(),
                self.start + 1024,
                format!(
                    "no such inode (the filesystem has {})",
                    self.sb.inode_limit()
                ),
            ));
        }
        let ipg = u64::from(self.sb.inodes_per_group);
        let (g, idx) = ((ino - 1) / ipg, (ino - 1) % ipg);
        let Some(group) = self.groups.get(g as usize).copied().flatten() else {
            return Err(FsError::new(
                what(),
                self.start + 1024,
                format!("group {g} has no usable group descriptor"),
            ));
        };
        let isz = u64::from(self.sb.inode_size);
        let rel = group.itable * self.bs() + idx * isz;
        let at = self.start + rel;
        if group.uninit {
            return Err(FsError::new(
                what(),
                at,
                format!("group {g}'s inode table was never initialised (INODE_UNINIT)"),
            ));
        }
        if rel + isz > self.len {
            return Err(FsError::new(
                what(),
                at,
                "inode table lies outside the image",
            ));
        }
        let raw = self.image.bytes(at, isz as usize);
        if raw.len() as u64 != isz {
            return Err(FsError::new(
                what(),
                at,
                "inode table lies outside the image",
            ));
        }
        Ok((raw, at))
    }
}

/// i_flags and i_generation of a raw inode.
pub(super) fn flags_and_generation(raw: &[u8]) -> (u32, u32) {
    (
        le_u32(raw, 0x20).unwrap_or(0),
        le_u32(raw, 0x64).unwrap_or(0),
    )
}

/// i_extra_isize when it fits the inode (else 0).
fn extra_isize(raw: &[u8]) -> usize {
    if raw.len() <= GOOD_OLD_SIZE {
        return 0;
    }
    let e = usize::from(le_u16(raw, 0x80).unwrap_or(0));
    if GOOD_OLD_SIZE + e <= raw.len() && e % 4 == 0 {
        e
    } else {
        0
    }
}

/// Whether the inode's metadata_csum checksum holds (`raw` is the whole
/// inode, `s_inode_size` bytes); `None` when too short to tell.
pub(super) fn checksum_ok(seed: u32, ino: u64, raw: &[u8]) -> Option<bool> {
    if raw.len() < GOOD_OLD_SIZE || (raw.len() > GOOD_OLD_SIZE && raw.len() < CHECKSUM_HI + 2) {
        return None;
    }
    let generation = le_u32(raw, 0x64)?;
    let extra = if raw.len() > GOOD_OLD_SIZE {
        usize::from(le_u16(raw, 0x80)?)
    } else {
        0
    };
    let has_hi = raw.len() > GOOD_OLD_SIZE && GOOD_OLD_SIZE + extra >= CHECKSUM_HI + 2;
    let mut c = csum::inode_seed(seed, ino, generation);
    c = csum::crc32c_parts(
        c,
        &[
            &raw[..CHECKSUM_LO],
            &[0, 0],
            &raw[CHECKSUM_LO + 2..GOOD_OLD_SIZE],
        ],
    );
    if raw.len() > GOOD_OLD_SIZE {
        if has_hi {
            c = csum::crc32c_parts(
                c,
                &[
                    &raw[GOOD_OLD_SIZE..CHECKSUM_HI],
                    &[0, 0],
                    &raw[CHECKSUM_HI + 2..],
                ],
            );
        } else {
            c = csum::crc32c_raw(c, &raw[GOOD_OLD_SIZE..]);
        }
    }
    let lo = u32::from(le_u16(raw, CHECKSUM_LO)?);
    Some(if has_hi {
        c == lo | u32::from(le_u16(raw, CHECKSUM_HI)?) << 16
    } else {
        c & 0xFFFF == lo
    })
}

/// The value of the in-inode attribute "system.data" (inline data past
/// i_block), if present.
pub(super) fn inline_xattr(raw: &[u8]) -> Option<&[u8]> {
    let extra = extra_isize(raw);
    if extra == 0 {
        return None;
    }
    let hdr = GOOD_OLD_SIZE + extra;
    if le_u32(raw, hdr)? != XATTR_MAGIC {
        return None;
    }
    let first = hdr + 4;
    let mut p = first;
    // Each entry is at least 16 bytes: the loop ends within the inode.
    while p + 16 <= raw.len() {
        if le_u32(raw, p)? == 0 {
            return None;
        }
        let name_len = usize::from(raw[p]);
        let index = raw[p + 1];
        let value_off = usize::from(le_u16(raw, p + 2)?);
        let value_inum = le_u32(raw, p + 4)?;
        let value_size = le_u32(raw, p + 8)? as usize;
        let name = slice(raw, p + 16, name_len)?;
        if index == XATTR_SYSTEM && name == b"data" && value_inum == 0 {
            return slice(raw, first + value_off, value_size);
        }
        p += (16 + name_len + 3) & !3;
    }
    None
}

/// Decodes inode `ino` from its raw bytes (at absolute offset `at`).
pub(super) fn decode(fs: &Ext4, ino: u64, raw: &[u8], at: u64) -> Result<Inode, FsError> {
    if raw.iter().all(|&b| b == 0) {
        return Err(FsError::new(
            format!("ext4 inode {ino}"),
            at,
            "unused (all zeros)",
        ));
    }
    let u16at = |o: usize| le_u16(raw, o).unwrap_or(0);
    let u32at = |o: usize| le_u32(raw, o).unwrap_or(0);
    if let Some(seed) = fs.seed {
        if checksum_ok(seed, ino, raw) == Some(false) {
            fs.notes.push(
                format!("ext4 inode {ino}"),
                at,
                "checksum mismatch (decoded anyway)",
            );
        }
    }
    let mode = u16at(0x0);
    let kind = FileKind::from_mode(mode);
    let extra = extra_isize(raw);
    let (flags, generation) = flags_and_generation(raw);
    let size = u64::from(u32at(0x4)) | u64::from(u32at(0x6C)) << 32;
    let links = u16at(0x1A);
    let dtime = u32at(0x14);
    let mut mtime = i64::from(u32at(0x10) as i32);
    let mut mtime_nsec = 0;
    if extra >= 0x8C - GOOD_OLD_SIZE {
        let x = u32at(0x88);
        mtime += i64::from(x & 3) << 32;
        mtime_nsec = (x >> 2).min(999_999_999);
    }
    let iblock = slice(raw, I_BLOCK, I_BLOCK_LEN).unwrap_or(&[0; I_BLOCK_LEN]);
    let mut extents = Vec::new();
    let mut inline = None;
    if flags & FL_INLINE_DATA != 0 {
        let mut data = iblock.to_vec();
        if let Some(more) = inline_xattr(raw) {
            data.extend_from_slice(more);
        }
        if kind != FileKind::Dir {
            data.truncate(size.min(data.len() as u64) as usize);
        }
        inline = Some(data);
    } else if kind == FileKind::Symlink && size < I_BLOCK_LEN as u64 {
        // A fast symlink: the target is in i_block (as the kernel decides
        // it, by size alone).
        inline = Some(iblock[..size as usize].to_vec());
    } else if flags & FL_EXTENTS != 0 {
        extent::tree(
            fs,
            ino,
            generation,
            iblock,
            at + I_BLOCK as u64,
            &mut extents,
        );
    } else if matches!(kind, FileKind::Regular | FileKind::Dir | FileKind::Symlink) {
        extent::block_map(fs, ino, iblock, size, at + I_BLOCK as u64, &mut extents);
    }
    files::normalize(&mut extents);
    Ok(Inode {
        ino,
        kind,
        mode,
        uid: u32::from(u16at(0x2)) | u32::from(u16at(0x78)) << 16,
        gid: u32::from(u16at(0x18)) | u32::from(u16at(0x7A)) << 16,
        nlink: u32::from(links),
        size,
        mtime,
        mtime_nsec,
        extents,
        inline,
        deleted: dtime != 0 || links == 0,
    })
}
