//! The XFS superblock (`struct xfs_dsb`, big-endian), one copy at the start
//! of every allocation group: AG 0's is the primary, the others are
//! secondaries written by mkfs and growfs. Only the geometry and feature
//! fields the reader needs are decoded; every field is checked against the
//! others before the copy is trusted.

use crate::bytes::{array, be_u16, be_u32, be_u64};

pub const MAGIC: &[u8; 4] = b"XFSB";
/// Offset of `sb_crc` (little-endian, v5 only).
pub const CRC_OFF: usize = 224;
/// The bytes a superblock copy needs (through `sb_meta_uuid`).
pub const SB_LEN: usize = 264;

/// `sb_versionnum` low bits.
const VERSION_4: u16 = 4;
const VERSION_5: u16 = 5;
const VERSION_NUMBITS: u16 = 0x000f;
/// `sb_versionnum` bit: sb_features2 is valid (v4).
const VERSION_MOREBITS: u16 = 0x8000;
/// `sb_features2`: the directory entries carry a file type byte (v4).
const FEATURES2_FTYPE: u32 = 0x0000_0200;
/// `sb_features_incompat` (v5).
const INCOMPAT_FTYPE: u32 = 1 << 0;
const INCOMPAT_NREXT64: u32 = 1 << 5;

/// A superblock copy whose geometry is self-consistent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superblock {
    pub block_size: u32,
    pub blocklog: u8,
    /// Data blocks in the filesystem.
    pub dblocks: u64,
    pub uuid: [u8; 16],
    pub rootino: u64,
    /// Blocks per allocation group (the last one may be shorter).
    pub agblocks: u32,
    pub agcount: u32,
    /// log2 of `agblocks`, rounded up: the width of the AG block number in
    /// filesystem block and inode numbers.
    pub agblklog: u8,
    pub versionnum: u16,
    pub sectsize: u16,
    pub inodesize: u16,
    pub inopblog: u8,
    pub fname: [u8; 12],
    /// log2 of the directory block size in filesystem blocks.
    pub dirblklog: u8,
    pub features2: u32,
    pub incompat: u32,
}

impl Superblock {
    /// Decodes and checks a copy (magic, sizes and their logs, AG geometry
    /// against the block count). The CRC is checked apart ([`crc_ok`]).
    pub fn parse(b: &[u8]) -> Result<Superblock, String> {
        if b.get(..4) != Some(MAGIC.as_slice()) {
            return Err("no XFSB magic".into());
        }
        if b.len() < SB_LEN {
            return Err("truncated".into());
        }
        let get32 = |off| be_u32(b, off).unwrap_or(0);
        let get16 = |off| be_u16(b, off).unwrap_or(0);
        let byte = |off: usize| b.get(off).copied().unwrap_or(0);
        let sb = Superblock {
            block_size: get32(4),
            blocklog: byte(120),
            dblocks: be_u64(b, 8).unwrap_or(0),
            uuid: array(b, 32).unwrap_or([0; 16]),
            rootino: be_u64(b, 56).unwrap_or(0),
            agblocks: get32(84),
            agcount: get32(88),
            agblklog: byte(124),
            versionnum: get16(100),
            sectsize: get16(102),
            inodesize: get16(104),
            inopblog: byte(123),
            fname: array(b, 108).unwrap_or([0; 12]),
            dirblklog: byte(192),
            features2: get32(200),
            incompat: get32(216),
        };
        let version = sb.versionnum & VERSION_NUMBITS;
        if version != VERSION_4 && version != VERSION_5 {
            return Err(format!("unsupported version {version}"));
        }
        let pow2 = |v: u64, log: u8, lo: u64, hi: u64| {
            v.is_power_of_two() && (lo..=hi).contains(&v) && u32::from(log) < 64 && 1u64 << log == v
        };
        if !pow2(u64::from(sb.block_size), sb.blocklog, 512, 65536) {
            return Err(format!(
                "block size {} (log {})",
                sb.block_size, sb.blocklog
            ));
        }
        if !pow2(u64::from(sb.sectsize), byte(121), 512, 32768)
            || sb.sectsize as u32 > sb.block_size
        {
            return Err(format!("sector size {}", sb.sectsize));
        }
        if !pow2(u64::from(sb.inodesize), byte(122), 256, 2048)
            || u32::from(sb.inodesize) > sb.block_size
        {
            return Err(format!("inode size {}", sb.inodesize));
        }
        let inopblock = sb.block_size / u32::from(sb.inodesize);
        if u32::from(get16(106)) != inopblock
            || u32::from(sb.inopblog) >= 32
            || 1u32 << sb.inopblog != inopblock
        {
            return Err(format!("inodes per block {}", get16(106)));
        }
        if sb.agblocks < 16 || sb.agcount == 0 || sb.agblklog > 31 {
            return Err(format!(
                "AG geometry {} x {} blocks",
                sb.agcount, sb.agblocks
            ));
        }
        // agblklog is log2(agblocks) rounded up.
        let need = 32 - (sb.agblocks - 1).leading_zeros();
        if u32::from(sb.agblklog) != need {
            return Err(format!(
                "agblklog {} for {} blocks per AG",
                sb.agblklog, sb.agblocks
            ));
        }
        let ags = u64::from(sb.agcount);
        let per = u64::from(sb.agblocks);
        if sb.dblocks > ags * per || sb.dblocks <= (ags - 1) * per {
            return Err(format!(
                "{} blocks do not fill {} AGs of {} blocks",
                sb.dblocks, sb.agcount, sb.agblocks
            ));
        }
        // At most 8 EiB (offsets stay below 2^63).
        if sb
            .dblocks
            .checked_mul(u64::from(sb.block_size))
            .is_none_or(|b| b > i64::MAX as u64)
        {
            return Err(format!("{} blocks: larger than 8 EiB", sb.dblocks));
        }
        if u32::from(sb.blocklog) + u32::from(sb.dirblklog) > 16 {
            return Err(format!("directory block log {}", sb.dirblklog));
        }
        Ok(sb)
    }

    /// A v5 (CRC-enabled) filesystem.
    pub fn is_v5(&self) -> bool {
        self.versionnum & VERSION_NUMBITS == VERSION_5
    }

    /// Directory entries carry a file type byte.
    pub fn has_ftype(&self) -> bool {
        if self.is_v5() {
            self.incompat & INCOMPAT_FTYPE != 0
        } else {
            self.versionnum & VERSION_MOREBITS != 0 && self.features2 & FEATURES2_FTYPE != 0
        }
    }

    /// Inodes may carry 64-bit extent counters.
    pub fn has_nrext64(&self) -> bool {
        self.is_v5() && self.incompat & INCOMPAT_NREXT64 != 0
    }

    /// Bytes per directory block.
    pub fn dir_block_size(&self) -> u32 {
        self.block_size << self.dirblklog
    }

    /// The volume label (`sb_fname`), if set.
    pub fn label(&self) -> Option<String> {
        let end = self.fname.iter().position(|&c| c == 0).unwrap_or(12);
        let s = String::from_utf8_lossy(&self.fname[..end])
            .trim()
            .to_string();
        (!s.is_empty()).then_some(s)
    }

    /// Bytes of one allocation group.
    pub fn ag_bytes(&self) -> u64 {
        u64::from(self.agblocks) * u64::from(self.block_size)
    }
}

/// The CRC32C of a v5 metadata structure `b` whose little-endian checksum
/// field sits at `off` (computed with the field zeroed), compared with the
/// stored one. `None` when `b` is too short to hold the field.
pub fn crc_ok(b: &[u8], off: usize) -> Option<bool> {
    let stored = crate::bytes::le_u32(b, off)?;
    let mut c = crc32c::crc32c(&b[..off]);
    c = crc32c::crc32c_append(c, &[0; 4]);
    c = crc32c::crc32c_append(c, &b[off + 4..]);
    Some(c == stored)
}
