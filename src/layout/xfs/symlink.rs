//! Symlink targets too long for the inode's literal area, stored in
//! filesystem blocks (at most 1024 bytes). On v5 each block starts with a
//! 56-byte header (`struct xfs_dsymlink_hdr`: magic `XSLM`, offset and
//! length of this block's piece, CRC32C, UUID, owner inode, own address,
//! LSN); v4 blocks hold the bare target.

use super::superblock::crc_ok;
use super::Xfs;
use crate::bytes::{be_u32, be_u64, slice};
use crate::layout::fs::Extent;

/// The longest target read (XFS allows 1024 bytes).
pub const MAX_TARGET: u64 = 4096;
const MAGIC: &[u8; 4] = b"XSLM";
const HDR: usize = 56;
const CRC_OFF: usize = 12;
const OWNER_OFF: usize = 32;

/// The target of symlink `ino` stored in the blocks of `extents` (`size`
/// bytes, at most [`MAX_TARGET`] read).
pub fn remote(fs: &Xfs, ino: u64, extents: &[Extent], size: u64) -> Vec<u8> {
    let bs = fs.sb.block_size as usize;
    let want = size.min(MAX_TARGET) as usize;
    let v5 = fs.sb.is_v5();
    let mut out = Vec::with_capacity(want);
    let mut lb = 0u64;
    while out.len() < want && lb < 64 {
        let off = lb * bs as u64;
        let b = fs.read_logical(extents, off, bs);
        let at = Xfs::physical(extents, off).unwrap_or(fs.start);
        let left = want - out.len();
        let header = v5 && b.get(..4) == Some(MAGIC.as_slice());
        if header {
            let what = format!("xfs symlink block of inode {ino}");
            if crc_ok(&b, CRC_OFF) == Some(false) {
                fs.note(what.clone(), at, "CRC mismatch (block used anyway)");
            }
            if be_u64(&b, OWNER_OFF) != Some(ino) {
                fs.note(
                    what,
                    at + OWNER_OFF as u64,
                    "owned by another inode (block used anyway)",
                );
            }
            let bytes = be_u32(&b, 8).map_or(usize::MAX, |v| v as usize);
            let n = left.min(bs - HDR).min(bytes);
            if n == 0 {
                break;
            }
            out.extend_from_slice(slice(&b, HDR, n).unwrap_or(&[]));
        } else {
            if v5 {
                // mkfs.xfs -p of xfsprogs 6.1 writes v5 remote symlinks
                // without the header; the kernel writes it.
                fs.note(
                    format!("xfs symlink block of inode {ino}"),
                    at,
                    "no XSLM header: read as a bare target",
                );
            }
            out.extend_from_slice(&b[..left.min(bs)]);
        }
        lb += 1;
    }
    out
}
