//! The on-disk inode (`struct xfs_dinode`, big-endian): a core of 100 bytes
//! (inode versions 1 and 2, v4 filesystems) or 176 bytes (version 3, v5
//! filesystems, with a CRC32C over the whole inode, its own number and the
//! filesystem UUID), then the literal area split at `di_forkoff` into the
//! data fork and the attribute fork.
//!
//! Timestamps are either signed 32-bit seconds and nanoseconds since the
//! Unix epoch, or (version 3 with the `BIGTIME` inode flag) an unsigned
//! 64-bit count of nanoseconds since 1901-12-13 20:45:52 UTC, the smallest
//! 32-bit time. Extent counts are 32-bit in `di_nextents`, or 64-bit in
//! `di_big_nextents` (over the v2 padding) with the `NREXT64` inode flag.

use crate::bytes::{be_u16, be_u32, be_u64, slice};

pub const MAGIC: u16 = 0x494e; // "IN"
/// Core sizes by inode version.
pub const CORE_V2: usize = 100;
pub const CORE_V3: usize = 176;
/// Offset of `di_crc` (little-endian, version 3).
pub const CRC_OFF: usize = 100;

/// `di_format` values.
pub const FMT_DEV: u8 = 0;
pub const FMT_LOCAL: u8 = 1;
pub const FMT_EXTENTS: u8 = 2;
pub const FMT_BTREE: u8 = 3;

/// `di_flags`: the file's blocks live on the realtime device.
const DIFLAG_REALTIME: u16 = 1 << 0;
/// `di_flags2` bits.
const DIFLAG2_BIGTIME: u64 = 1 << 3;
const DIFLAG2_NREXT64: u64 = 1 << 4;

/// Seconds from the bigtime epoch (1901-12-13) to the Unix epoch: -(i32::MIN).
const BIGTIME_EPOCH_OFFSET: i64 = 1 << 31;

/// The decoded core of one inode and its data fork bytes.
#[derive(Debug, Clone)]
pub struct Dinode {
    pub mode: u16,
    /// The inode version the core was read as (3 on v5, else 1 or 2).
    pub version: u8,
    /// The inode's own version byte.
    pub version_byte: u8,
    pub format: u8,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub size: u64,
    pub mtime: i64,
    pub mtime_nsec: u32,
    /// Extent records in the data fork (or the bmbt), as the inode counts them.
    pub nextents: u64,
    pub realtime: bool,
    /// Version 3: the inode number the inode says it has.
    pub own_ino: Option<u64>,
    /// Byte range of the data fork within the inode buffer.
    pub fork_off: usize,
    pub fork_len: usize,
}

impl Dinode {
    /// Decodes the inode in `b` (the whole `inodesize` bytes) with the core
    /// layout of the filesystem's version (v3 on a v5 filesystem, else
    /// v1/v2), whatever the inode's own version byte says (see
    /// [`Dinode::version_ok`]). Fails when the magic or the fork geometry is
    /// impossible.
    pub fn parse(b: &[u8], v5: bool) -> Result<Dinode, String> {
        if be_u16(b, 0) != Some(MAGIC) {
            return Err("no IN magic".into());
        }
        let byte = b.get(4).copied().unwrap_or(0);
        let (version, core) = if v5 {
            (3, CORE_V3)
        } else if byte == 1 {
            (1, CORE_V2)
        } else {
            (2, CORE_V2)
        };
        if b.len() <= core {
            return Err(format!("inode of {} bytes", b.len()));
        }
        let get32 = |off| be_u32(b, off).unwrap_or(0);
        let flags2 = if version == 3 {
            be_u64(b, 120).unwrap_or(0)
        } else {
            0
        };
        let (mtime, mtime_nsec) = if flags2 & DIFLAG2_BIGTIME != 0 {
            let t = be_u64(b, 40).unwrap_or(0);
            let secs = (t / 1_000_000_000) as i64 - BIGTIME_EPOCH_OFFSET;
            (secs, (t % 1_000_000_000) as u32)
        } else {
            (i64::from(get32(40) as i32), get32(44).min(999_999_999))
        };
        let nextents = if flags2 & DIFLAG2_NREXT64 != 0 {
            be_u64(b, 24).unwrap_or(0)
        } else {
            u64::from(get32(76))
        };
        let nlink = if version == 1 {
            u32::from(be_u16(b, 6).unwrap_or(0))
        } else {
            get32(16)
        };
        let forkoff = usize::from(b.get(82).copied().unwrap_or(0)) * 8;
        let literal = b.len() - core;
        let fork_len = if forkoff == 0 { literal } else { forkoff };
        if fork_len > literal {
            return Err(format!("attribute fork offset {forkoff} past the inode"));
        }
        Ok(Dinode {
            mode: be_u16(b, 2).unwrap_or(0),
            version,
            version_byte: byte,
            format: b.get(5).copied().unwrap_or(0),
            uid: get32(8),
            gid: get32(12),
            nlink,
            size: be_u64(b, 56).unwrap_or(0),
            mtime,
            mtime_nsec,
            nextents,
            realtime: be_u16(b, 90).unwrap_or(0) & DIFLAG_REALTIME != 0,
            own_ino: (version == 3).then(|| be_u64(b, 152).unwrap_or(0)),
            fork_off: core,
            fork_len,
        })
    }

    /// The version byte agrees with the layout it was read with.
    pub fn version_ok(&self) -> bool {
        self.version_byte == self.version
    }

    /// The data fork bytes of the inode buffer `b` this was parsed from.
    pub fn data_fork<'b>(&self, b: &'b [u8]) -> &'b [u8] {
        slice(b, self.fork_off, self.fork_len).unwrap_or(&[])
    }
}
