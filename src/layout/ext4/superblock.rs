//! The ext4 superblock (1024 bytes at filesystem byte 1024, backups at the
//! start of sparse groups): the fields this reader uses, the sanity checks
//! that decide whether a copy can be trusted, the search for backup copies
//! when the primary is unusable, and [`sweep_hit`] for the partition sweep.
//!
//! Layout from the kernel's Documentation/filesystems/ext4/super.rst and
//! `struct ext4_super_block` in fs/ext4/ext4.h.

use super::csum;
use crate::bytes::{array, le_u16, le_u32};
use crate::image::Image;

pub(super) const MAGIC: u16 = 0xEF53;
pub(super) const SB_SIZE: usize = 1024;

// s_feature_compat
pub(super) const COMPAT_HAS_JOURNAL: u32 = 0x4;
pub(super) const COMPAT_SPARSE_SUPER2: u32 = 0x200;
// s_feature_incompat
pub(super) const INCOMPAT_FILETYPE: u32 = 0x2;
pub(super) const INCOMPAT_RECOVER: u32 = 0x4;
pub(super) const INCOMPAT_JOURNAL_DEV: u32 = 0x8;
pub(super) const INCOMPAT_META_BG: u32 = 0x10;
pub(super) const INCOMPAT_EXTENTS: u32 = 0x40;
pub(super) const INCOMPAT_64BIT: u32 = 0x80;
pub(super) const INCOMPAT_MMP: u32 = 0x100;
pub(super) const INCOMPAT_FLEX_BG: u32 = 0x200;
pub(super) const INCOMPAT_CSUM_SEED: u32 = 0x2000;
pub(super) const INCOMPAT_INLINE_DATA: u32 = 0x8000;
// s_feature_ro_compat
pub(super) const RO_COMPAT_SPARSE_SUPER: u32 = 0x1;
pub(super) const RO_COMPAT_HUGE_FILE: u32 = 0x8;
pub(super) const RO_COMPAT_GDT_CSUM: u32 = 0x10;
pub(super) const RO_COMPAT_DIR_NLINK: u32 = 0x20;
pub(super) const RO_COMPAT_EXTRA_ISIZE: u32 = 0x40;
pub(super) const RO_COMPAT_BIGALLOC: u32 = 0x200;
pub(super) const RO_COMPAT_METADATA_CSUM: u32 = 0x400;

/// Offset of `s_checksum`, the last field.
const CHECKSUM_AT: usize = 0x3FC;
/// The most groups a descriptor table is read for (a 4 KiB-block filesystem
/// of 128 TiB); a superblock claiming more is damaged.
pub(super) const MAX_GROUPS: u64 = 1 << 20;

/// The groups whose backups the search tries (sparse_super: 1 and the powers
/// of 3, 5 and 7), in the order tried.
pub(super) const BACKUP_GROUPS: [u64; 12] = [1, 3, 5, 7, 9, 25, 27, 49, 81, 125, 243, 343];
/// Block sizes the backup search tries (mke2fs puts the groups 8 * block
/// size blocks apart by default).
const BACKUP_BLOCK_SIZES: [u64; 4] = [1024, 2048, 4096, 65536];

/// The superblock fields this reader uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Superblock {
    pub inodes_count: u32,
    pub blocks_count: u64,
    pub first_data_block: u32,
    pub log_block_size: u32,
    pub blocks_per_group: u32,
    pub inodes_per_group: u32,
    pub rev_level: u32,
    pub inode_size: u16,
    pub block_group_nr: u16,
    pub compat: u32,
    pub incompat: u32,
    pub ro_compat: u32,
    pub uuid: [u8; 16],
    pub volume_name: [u8; 16],
    pub reserved_gdt_blocks: u16,
    /// Effective descriptor size: `s_desc_size` with 64bit, else 32.
    pub desc_size: u16,
    pub first_meta_bg: u32,
    pub log_groups_per_flex: u8,
    pub backup_bgs: [u32; 2],
    pub checksum_type: u8,
    pub checksum_seed: u32,
    pub checksum: u32,
}

impl Superblock {
    /// Decodes and sanity-checks a superblock copy. `Err` says what is wrong
    /// (no magic, or a field no mke2fs writes).
    pub fn parse(b: &[u8]) -> Result<Superblock, String> {
        if b.len() < SB_SIZE {
            return Err("truncated".into());
        }
        let u32at = |o: usize| le_u32(b, o).unwrap_or(0);
        let u16at = |o: usize| le_u16(b, o).unwrap_or(0);
        if u16at(0x38) != MAGIC {
            return Err("no ext2/3/4 magic 0xEF53".into());
        }
        let incompat = u32at(0x60);
        let is64 = incompat & INCOMPAT_64BIT != 0;
        let rev_level = u32at(0x4C);
        let sb = Superblock {
            inodes_count: u32at(0x0),
            blocks_count: u64::from(u32at(0x4))
                | if is64 {
                    u64::from(u32at(0x150)) << 32
                } else {
                    0
                },
            first_data_block: u32at(0x14),
            log_block_size: u32at(0x18),
            blocks_per_group: u32at(0x20),
            inodes_per_group: u32at(0x28),
            rev_level,
            inode_size: if rev_level == 0 { 128 } else { u16at(0x58) },
            block_group_nr: u16at(0x5A),
            compat: u32at(0x5C),
            incompat,
            ro_compat: u32at(0x64),
            uuid: array(b, 0x68).unwrap_or([0; 16]),
            volume_name: array(b, 0x78).unwrap_or([0; 16]),
            reserved_gdt_blocks: u16at(0xCE),
            desc_size: if is64 { u16at(0xFE) } else { 32 },
            first_meta_bg: u32at(0x104),
            log_groups_per_flex: b[0x174],
            backup_bgs: [u32at(0x24C), u32at(0x250)],
            checksum_type: b[0x175],
            checksum_seed: u32at(0x270),
            checksum: u32at(CHECKSUM_AT),
        };
        sb.check()?;
        Ok(sb)
    }

    fn check(&self) -> Result<(), String> {
        if self.log_block_size > 6 {
            return Err(format!("log_block_size {} (> 64 KiB)", self.log_block_size));
        }
        let bs = u64::from(self.block_size());
        if self.rev_level > 1 {
            return Err(format!("revision {}", self.rev_level));
        }
        let bpg = u64::from(self.blocks_per_group);
        let bpg_max = if self.ro_compat & RO_COMPAT_BIGALLOC != 0 {
            (8 * bs) << 16
        } else {
            8 * bs
        };
        if bpg < 8 || bpg > bpg_max || bpg % 8 != 0 {
            return Err(format!("blocks_per_group {bpg}"));
        }
        let ipg = u64::from(self.inodes_per_group);
        if ipg == 0 || ipg > 8 * bs {
            return Err(format!("inodes_per_group {ipg}"));
        }
        let isz = u64::from(self.inode_size);
        if isz < 128 || isz > bs || !isz.is_power_of_two() {
            return Err(format!("inode_size {isz}"));
        }
        if self.first_data_block > 1 || (bs > 1024 && self.first_data_block != 0) {
            return Err(format!("first_data_block {}", self.first_data_block));
        }
        if self.blocks_count <= u64::from(self.first_data_block)
            || self
                .blocks_count
                .checked_mul(bs)
                .is_none_or(|b| b > 1 << 62)
        {
            return Err(format!("blocks_count {}", self.blocks_count));
        }
        if self.inodes_count == 0 {
            return Err("inodes_count 0".into());
        }
        let ds = self.desc_size;
        if !(32..=1024).contains(&ds) || !ds.is_power_of_two() {
            return Err(format!("desc_size {ds}"));
        }
        if self.group_count_raw() > MAX_GROUPS {
            return Err(format!("{} groups", self.group_count_raw()));
        }
        Ok(())
    }

    pub fn block_size(&self) -> u32 {
        1024 << self.log_block_size.min(6)
    }

    fn group_count_raw(&self) -> u64 {
        let data = self
            .blocks_count
            .saturating_sub(u64::from(self.first_data_block));
        data.div_ceil(u64::from(self.blocks_per_group.max(1)))
    }

    /// Number of block groups (at least 1, at most [`MAX_GROUPS`]).
    pub fn group_count(&self) -> u64 {
        self.group_count_raw().clamp(1, MAX_GROUPS)
    }

    /// The highest valid inode number.
    pub fn inode_limit(&self) -> u64 {
        let by_groups = self.group_count() * u64::from(self.inodes_per_group);
        u64::from(self.inodes_count).min(by_groups)
    }

    pub fn has_incompat(&self, f: u32) -> bool {
        self.incompat & f != 0
    }

    pub fn has_ro_compat(&self, f: u32) -> bool {
        self.ro_compat & f != 0
    }

    pub fn metadata_csum(&self) -> bool {
        self.has_ro_compat(RO_COMPAT_METADATA_CSUM)
    }

    /// The seed of every metadata_csum checksum but the superblock's own.
    pub fn csum_seed(&self) -> u32 {
        if self.has_incompat(INCOMPAT_CSUM_SEED) {
            self.checksum_seed
        } else {
            csum::crc32c_raw(!0, &self.uuid)
        }
    }

    /// Whether the 1024 bytes `raw` this superblock came from carry a
    /// matching `s_checksum` (only meaningful with metadata_csum).
    pub fn checksum_ok(&self, raw: &[u8]) -> bool {
        raw.get(..CHECKSUM_AT)
            .is_some_and(|b| csum::crc32c_raw(!0, b) == self.checksum)
    }

    /// First block of group `g`.
    pub fn group_first_block(&self, g: u64) -> u64 {
        u64::from(self.first_data_block) + g * u64::from(self.blocks_per_group)
    }

    /// Whether group `g` holds a superblock backup (and so a descriptor
    /// table copy).
    pub fn has_super(&self, g: u64) -> bool {
        if g == 0 {
            return true;
        }
        if self.compat & COMPAT_SPARSE_SUPER2 != 0 {
            return g == u64::from(self.backup_bgs[0]) || g == u64::from(self.backup_bgs[1]);
        }
        if g == 1 || !self.has_ro_compat(RO_COMPAT_SPARSE_SUPER) {
            return true;
        }
        [3u64, 5, 7].iter().any(|&p| is_power_of(g, p))
    }

    /// Blocks an inode table takes.
    pub fn itable_blocks(&self) -> u64 {
        (u64::from(self.inodes_per_group) * u64::from(self.inode_size))
            .div_ceil(u64::from(self.block_size()))
    }

    /// "ext4", "ext3" or "ext2", as blkid would say from the features.
    pub fn kind(&self) -> &'static str {
        let ext4_incompat = INCOMPAT_EXTENTS
            | INCOMPAT_64BIT
            | INCOMPAT_FLEX_BG
            | INCOMPAT_INLINE_DATA
            | INCOMPAT_MMP
            | INCOMPAT_CSUM_SEED;
        let ext4_ro = RO_COMPAT_HUGE_FILE
            | RO_COMPAT_GDT_CSUM
            | RO_COMPAT_DIR_NLINK
            | RO_COMPAT_EXTRA_ISIZE
            | RO_COMPAT_METADATA_CSUM;
        if self.incompat & ext4_incompat != 0 || self.ro_compat & ext4_ro != 0 {
            "ext4"
        } else if self.compat & COMPAT_HAS_JOURNAL != 0 {
            "ext3"
        } else {
            "ext2"
        }
    }

    /// The volume label, up to its first NUL.
    pub fn label(&self) -> Option<String> {
        let end = self.volume_name.iter().position(|&c| c == 0).unwrap_or(16);
        let name = &self.volume_name[..end];
        (!name.is_empty()).then(|| String::from_utf8_lossy(name).into_owned())
    }
}

fn is_power_of(mut n: u64, p: u64) -> bool {
    while n > 1 && n.is_multiple_of(p) {
        n /= p;
    }
    n == 1
}

/// A backup superblock found by [`find_backup`].
pub(super) struct Backup {
    pub sb: Superblock,
    pub group: u64,
    /// Absolute image offset of the copy.
    pub offset: u64,
}

/// Looks for a backup superblock of the filesystem at `start` (`len`
/// bytes): groups 1, 3, 5, 7, 9, 25, ... for each block size, assuming
/// mke2fs's default 8 * block size blocks per group. A copy counts when it
/// is sane, matches the block size and group size it was looked for with,
/// and names its own group in `s_block_group_nr`. Lowest group first.
pub(super) fn find_backup(image: &Image, start: u64, len: u64) -> Option<Backup> {
    for &g in &BACKUP_GROUPS {
        for &bs in &BACKUP_BLOCK_SIZES {
            let bpg = 8 * bs;
            let first = u64::from(bs == 1024);
            let rel = (first + g * bpg) * bs;
            if rel + SB_SIZE as u64 > len {
                continue;
            }
            let raw = image.bytes(start + rel, SB_SIZE);
            let Ok(sb) = Superblock::parse(&raw) else {
                continue;
            };
            if u64::from(sb.block_size()) == bs
                && u64::from(sb.blocks_per_group) == bpg
                && u64::from(sb.block_group_nr) == g
                && u64::from(sb.first_data_block) == first
            {
                return Some(Backup {
                    sb,
                    group: g,
                    offset: start + rel,
                });
            }
        }
    }
    None
}

/// For the partition sweep: if `block` (bytes at absolute image `offset`,
/// 1 KiB or more) is an ext2/3/4 superblock, primary or backup, the
/// absolute offset where its filesystem starts. The magic is tested first,
/// so a miss costs two byte compares.
pub fn sweep_hit(block: &[u8], offset: u64) -> Option<u64> {
    if block.get(0x38) != Some(&0x53) || block.get(0x39) != Some(&0xEF) {
        return None;
    }
    let sb = Superblock::parse(block).ok()?;
    if sb.has_incompat(INCOMPAT_JOURNAL_DEV) {
        return None;
    }
    let g = u64::from(sb.block_group_nr);
    if g >= sb.group_count() {
        return None;
    }
    if g == 0 {
        return offset.checked_sub(SB_SIZE as u64);
    }
    if !sb.has_super(g) {
        return None;
    }
    let rel = sb
        .group_first_block(g)
        .checked_mul(u64::from(sb.block_size()))?;
    offset.checked_sub(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal sane superblock: 4 KiB blocks, 3 groups.
    fn sample(group_nr: u16) -> Vec<u8> {
        let mut b = vec![0u8; 1024];
        b[0..4].copy_from_slice(&(3 * 8192u32).to_le_bytes()); // inodes
        b[4..8].copy_from_slice(&(3 * 32768u32).to_le_bytes()); // blocks
        b[0x18..0x1C].copy_from_slice(&2u32.to_le_bytes()); // 4 KiB
        b[0x20..0x24].copy_from_slice(&32768u32.to_le_bytes());
        b[0x28..0x2C].copy_from_slice(&8192u32.to_le_bytes());
        b[0x38..0x3A].copy_from_slice(&MAGIC.to_le_bytes());
        b[0x4C..0x50].copy_from_slice(&1u32.to_le_bytes());
        b[0x58..0x5A].copy_from_slice(&256u16.to_le_bytes());
        b[0x5A..0x5C].copy_from_slice(&group_nr.to_le_bytes());
        b[0x64..0x68].copy_from_slice(&RO_COMPAT_SPARSE_SUPER.to_le_bytes());
        b
    }

    #[test]
    fn sweep_hit_primary_and_backup() {
        let fs_start = 1 << 20;
        // Primary: 1024 bytes into the filesystem.
        assert_eq!(sweep_hit(&sample(0), fs_start + 1024), Some(fs_start));
        // Backup of group 1: the start of block 32768.
        let at = fs_start + 32768 * 4096;
        assert_eq!(sweep_hit(&sample(1), at), Some(fs_start));
        // Group 2 holds no backup under sparse_super; group 7 is past the end.
        assert_eq!(sweep_hit(&sample(2), at), None);
        assert_eq!(sweep_hit(&sample(7), at), None);
        // A backup that would start before the image.
        assert_eq!(sweep_hit(&sample(1), 4096), None);
        // No magic, or insane fields.
        assert_eq!(sweep_hit(&[0u8; 1024], 1024), None);
        let mut bad = sample(0);
        bad[0x18] = 9;
        assert_eq!(sweep_hit(&bad, 1024), None);
        assert_eq!(sweep_hit(&sample(0)[..512], 1024), None);
    }

    #[test]
    fn sparse_groups() {
        let sb = Superblock::parse(&sample(0)).unwrap();
        let with: Vec<u64> = (0..100).filter(|&g| sb.has_super(g)).collect();
        assert_eq!(with, vec![0, 1, 3, 5, 7, 9, 25, 27, 49, 81]);
    }
}
