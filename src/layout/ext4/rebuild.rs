//! The last resort when no copy of a structure survives: find the layout
//! again from what mke2fs always leaves in the same place.
//!
//! * No superblock at all (a single-group filesystem has no backup): the
//!   descriptor table still sits in the block after the superblock. For
//!   each block size, descriptor size and inode size, descriptor 0's inode
//!   table must hold a root directory inode (inode 2) whose first block
//!   starts with "." and ".." both naming inode 2. The inodes per group come
//!   from the inode bitmap's padding (bits past the last inode are set).
//! * No descriptor for group 0: its inode table is the first block, after
//!   the descriptor table, holding a root directory inode (checked by its
//!   checksum with metadata_csum, else by its directory block).
//!
//! Every result is a guess and says so in a note. The checksum seed came
//! from the lost UUID; an internal journal's superblock keeps a copy, and
//! when the root inode's checksum holds with it, checksums are verified
//! again.

use super::csum;
use super::group::Desc;
use super::inode::{self, FL_EXTENTS, FL_INLINE_DATA};
use super::superblock::{
    Superblock, INCOMPAT_64BIT, INCOMPAT_EXTENTS, INCOMPAT_FILETYPE, MAX_GROUPS,
    RO_COMPAT_GDT_CSUM, RO_COMPAT_METADATA_CSUM, RO_COMPAT_SPARSE_SUPER,
};
use super::Ext4;
use crate::bytes::{array, be_u32, le_u16, le_u32};
use crate::image::Image;

/// What the root directory's inode told.
struct RootInfo {
    /// Directory entries carry a file type byte.
    filetype: bool,
    /// The root uses an extent tree.
    extents: bool,
}

/// A superblock put together without any copy of one.
pub(super) struct Rebuilt {
    pub sb: Superblock,
    pub kind: &'static str,
    pub message: String,
}

/// Whether `raw` (an inode's bytes) is a root directory: a live directory
/// whose first block begins with "." and ".." both naming inode 2.
fn root_dir(image: &Image, start: u64, len: u64, bs: u64, raw: &[u8]) -> Option<RootInfo> {
    let mode = le_u16(raw, 0)?;
    let links = le_u16(raw, 0x1A)?;
    let dtime = le_u32(raw, 0x14)?;
    if mode & 0xF000 != 0x4000 || links < 2 || dtime != 0 {
        return None;
    }
    let flags = le_u32(raw, 0x20)?;
    if flags & FL_INLINE_DATA != 0 {
        // Inline directory: i_block starts with the parent's inode number.
        return (le_u32(raw, 0x28)? == 2).then_some(RootInfo {
            filetype: true,
            extents: false,
        });
    }
    let extents = flags & FL_EXTENTS != 0;
    let blk = if extents {
        first_leaf_block(image, start, len, bs, raw.get(0x28..0x64)?)?
    } else {
        u64::from(le_u32(raw, 0x28)?)
    };
    let rel = blk.checked_mul(bs)?;
    if blk == 0 || rel.checked_add(bs)? > len {
        return None;
    }
    let b = image.bytes(start + rel, 24);
    let dot = le_u32(&b, 0)? == 2 && le_u16(&b, 4)? == 12 && b.get(6)? == &1 && b.get(8)? == &b'.';
    let dotdot = le_u32(&b, 12)? == 2 && b.get(18)? == &2 && b.get(20..22)? == b"..";
    (dot && dotdot).then_some(RootInfo {
        filetype: b.get(7)? == &2,
        extents,
    })
}

/// The first data block of an extent tree rooted in `iblock` (depth 0 or 1).
fn first_leaf_block(image: &Image, start: u64, len: u64, bs: u64, iblock: &[u8]) -> Option<u64> {
    let mut node: Vec<u8> = iblock.to_vec();
    for _ in 0..2 {
        if le_u16(&node, 0)? != 0xF30A || le_u16(&node, 2)? == 0 {
            return None;
        }
        let lo = u64::from(le_u32(&node, 12 + 8)?);
        let hi = u64::from(le_u16(&node, 12 + 6)?);
        match le_u16(&node, 6)? {
            0 => return Some(hi << 32 | lo),
            1 => {
                let child =
                    u64::from(le_u32(&node, 12 + 4)?) | u64::from(le_u16(&node, 12 + 8)?) << 32;
                let rel = child.checked_mul(bs)?;
                if rel.checked_add(bs)? > len {
                    return None;
                }
                node = image.bytes(start + rel, 64).into_owned();
            }
            _ => return None,
        }
    }
    None
}

/// Rebuilds a superblock for the filesystem at `start` from its descriptor
/// table and root directory, when no copy of the superblock is left.
pub(super) fn guess(image: &Image, start: u64, len: u64) -> Option<Rebuilt> {
    for bs in [4096u64, 1024, 2048, 65536] {
        let first = u64::from(bs == 1024);
        let total = len / bs;
        let gdt_rel = (first + 1) * bs;
        if gdt_rel + bs > len {
            continue;
        }
        let gdt = image.bytes(start + gdt_rel, bs as usize);
        for ds in [64usize, 32] {
            let Some(d0) = Desc::parse(&gdt, ds, true) else {
                continue;
            };
            if !desc_plausible(&d0, first, total) {
                continue;
            }
            for isz in [256u64, 128, 512, 1024] {
                if isz > bs {
                    continue;
                }
                let Some(at) = d0.inode_table.checked_mul(bs).map(|a| a + isz) else {
                    continue;
                };
                if at + isz > len {
                    continue;
                }
                let raw = image.bytes(start + at, isz as usize);
                if let Some(root) = root_dir(image, start, len, bs, &raw) {
                    return Some(assemble(image, start, len, bs, first, isz, &d0, root));
                }
            }
        }
    }
    None
}

fn desc_plausible(d: &Desc, first: u64, total: u64) -> bool {
    let ok = |b: u64| b > first && b < total;
    ok(d.block_bitmap)
        && ok(d.inode_bitmap)
        && ok(d.inode_table)
        && d.block_bitmap != d.inode_bitmap
        && d.inode_table != d.block_bitmap
        && d.inode_table != d.inode_bitmap
}

#[allow(clippy::too_many_arguments)]
fn assemble(
    image: &Image,
    start: u64,
    len: u64,
    bs: u64,
    first: u64,
    isz: u64,
    d0: &Desc,
    root: RootInfo,
) -> Rebuilt {
    let total = len / bs;
    let bpg = 8 * bs;
    let max_groups = (total.saturating_sub(first))
        .div_ceil(bpg)
        .clamp(1, MAX_GROUPS);
    let gdt_at = start + (first + 1) * bs;
    // Descriptor size: the one under which more descriptors in a row are
    // plausible (a 64-byte table read as 32-byte has zero high halves as
    // descriptors; a 32-byte table read as 64-byte has nonzero high halves).
    let count = |ds: u64| -> u64 {
        let mut n = 0;
        while n < max_groups {
            let raw = image.bytes(gdt_at + n * ds, ds as usize);
            match Desc::parse(&raw, ds as usize, true) {
                Some(d) if desc_plausible(&d, first, total) => n += 1,
                _ => break,
            }
        }
        n
    };
    let (n64, n32) = (count(64), count(32));
    let (ds, groups) = if n64 >= n32 { (64u64, n64) } else { (32, n32) };
    let groups = groups.max(1);
    let ipb = bs / isz;
    let ipg = ipg_from_bitmap(&image.bytes(start + d0.inode_bitmap * bs, bs as usize))
        .map(|n| n.div_ceil(ipb.max(8)) * ipb.max(8))
        .filter(|&n| n <= 8 * bs)
        .unwrap_or(8 * bs);
    let incompat = if root.filetype { INCOMPAT_FILETYPE } else { 0 }
        | if ds == 64 { INCOMPAT_64BIT } else { 0 }
        | if root.extents { INCOMPAT_EXTENTS } else { 0 };
    let mut sb = Superblock {
        inodes_count: (groups * ipg).min(u64::from(u32::MAX)) as u32,
        blocks_count: total.min(first + groups * bpg),
        first_data_block: first as u32,
        log_block_size: (bs / 1024).trailing_zeros(),
        blocks_per_group: bpg as u32,
        inodes_per_group: ipg as u32,
        rev_level: 1,
        inode_size: isz as u16,
        block_group_nr: 0,
        compat: 0,
        incompat,
        ro_compat: RO_COMPAT_SPARSE_SUPER,
        uuid: [0; 16],
        volume_name: [0; 16],
        reserved_gdt_blocks: 0,
        desc_size: ds as u16,
        first_meta_bg: 0,
        log_groups_per_flex: 0,
        backup_bgs: [0; 2],
        checksum_type: 0,
        checksum_seed: 0,
        checksum: 0,
    };
    // ext3 keeps a journal in inode 8; without extents or 64bit that is the
    // only sign left.
    let kind = if incompat & (INCOMPAT_64BIT | INCOMPAT_EXTENTS) != 0 {
        "ext4"
    } else {
        let raw8 = image.bytes(start + d0.inode_table * bs + 7 * isz, isz as usize);
        let journal = le_u16(&raw8, 0).is_some_and(|m| m & 0xF000 == 0x8000)
            && le_u32(&raw8, 4).is_some_and(|s| s > 0);
        if journal {
            "ext3"
        } else {
            "ext2"
        }
    };
    let checks = match checksums_from_journal(image, start, len, &mut sb, d0.inode_table) {
        Some(what) => format!("{what} verified with the UUID of the journal superblock"),
        None => "checksums not verified".to_string(),
    };
    Rebuilt {
        sb,
        kind,
        message: format!(
            "no superblock copy found; layout rebuilt from the group descriptor table at offset \
             {gdt_at} and the root directory: {bs}-byte blocks, {isz}-byte inodes, {ds}-byte \
             descriptors, {groups} group(s) of {ipg} inodes; {checks}"
        ),
    }
}

/// The checksum seed of ext4 is the crc32c of the filesystem UUID, and an
/// internal journal's superblock keeps a copy of that UUID. When the root
/// inode's crc32c (metadata_csum) or descriptor 0's crc16 (gdt_csum) holds
/// with it, the rebuilt superblock gets the UUID and that feature, so the
/// checksums are verified again. Says which, or `None`.
fn checksums_from_journal(
    image: &Image,
    start: u64,
    len: u64,
    sb: &mut Superblock,
    itable: u64,
) -> Option<&'static str> {
    let bs = u64::from(sb.block_size());
    let isz = u64::from(sb.inode_size);
    let inode_at = |ino: u64| start + itable * bs + (ino - 1) * isz;
    let journal = image.bytes(inode_at(8), isz as usize);
    if le_u16(&journal, 0)? & 0xF000 != 0x8000 {
        return None;
    }
    let iblock = journal.get(0x28..0x64)?;
    let first = if le_u32(&journal, 0x20)? & FL_EXTENTS != 0 {
        first_leaf_block(image, start, len, bs, iblock)?
    } else {
        u64::from(le_u32(iblock, 0)?)
    };
    let rel = first.checked_mul(bs)?;
    if first == 0 || rel.checked_add(1024)? > len {
        return None;
    }
    let jsb = image.bytes(start + rel, 1024);
    // jbd2 superblock: big-endian magic, block type 3 or 4 (v1, v2).
    if be_u32(&jsb, 0)? != 0xC03B_3998 || !matches!(be_u32(&jsb, 4)?, 3 | 4) {
        return None;
    }
    let uuid: [u8; 16] = array(&jsb, 0x30)?;
    let seed = csum::crc32c_raw(!0, &uuid);
    let root = image.bytes(inode_at(2), isz as usize);
    if inode::checksum_ok(seed, 2, &root) == Some(true) {
        sb.uuid = uuid;
        sb.ro_compat |= RO_COMPAT_METADATA_CSUM;
        return Some("metadata checksums");
    }
    let ds = usize::from(sb.desc_size);
    let d0 = image.bytes(start + (u64::from(sb.first_data_block) + 1) * bs, ds);
    let mut crc = csum::crc16(!0, &uuid);
    crc = csum::crc16(crc, &[0; 4]);
    crc = csum::crc16(crc, d0.get(..0x1E)?);
    if ds > 32 {
        crc = csum::crc16(crc, d0.get(0x20..ds)?);
    }
    if crc == le_u16(&d0, 0x1E)? {
        sb.uuid = uuid;
        sb.ro_compat |= RO_COMPAT_GDT_CSUM;
        return Some("group descriptor checksums");
    }
    None
}

/// Inodes per group from an inode bitmap: mke2fs and the kernel set the
/// bits past the last inode of the group, so the highest clear bit is the
/// last inode that could be free. `None` when every bit is set.
fn ipg_from_bitmap(bitmap: &[u8]) -> Option<u64> {
    let byte = bitmap.iter().rposition(|&b| b != 0xFF)?;
    let bit = 7 - bitmap[byte].leading_ones() as u64;
    Some(byte as u64 * 8 + bit + 1)
}

/// The first block of group 0's inode table, found by its root directory
/// inode, for a filesystem whose descriptors for group 0 are all lost.
pub(super) fn find_inode_table(fs: &Ext4) -> Option<u64> {
    let bs = fs.bs();
    let isz = u64::from(fs.sb.inode_size);
    let lo = u64::from(fs.sb.first_data_block) + 1;
    let hi = fs
        .sb
        .blocks_count
        .min(fs.sb.group_first_block(1))
        .min(fs.len / bs);
    for t in lo..hi {
        let at = t * bs + isz;
        if at + isz > fs.len {
            break;
        }
        let raw = fs.image.bytes(fs.start + at, isz as usize);
        if le_u16(&raw, 0).is_none_or(|m| m & 0xF000 != 0x4000) {
            continue;
        }
        let found = match fs.seed {
            Some(seed) => inode::checksum_ok(seed, 2, &raw) == Some(true),
            None => root_dir(fs.image, fs.start, fs.len, bs, &raw).is_some(),
        };
        if found {
            return Some(t);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmap_padding_gives_inodes_per_group() {
        let mut b = vec![0xFFu8; 4096];
        b[20..424].fill(0);
        assert_eq!(ipg_from_bitmap(&b), Some(3392));
        b[423] = 0x7F; // bit 3391 (the group's last inode) clear
        assert_eq!(ipg_from_bitmap(&b), Some(3392));
        b[423] = 0xFE;
        assert_eq!(ipg_from_bitmap(&b), Some(3385));
        assert_eq!(ipg_from_bitmap(&[0xFF; 16]), None);
    }
}
