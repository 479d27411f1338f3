//! Block maps: the data fork of an inode in extents format (a list of
//! 128-bit packed records in the inode) or btree format (a bmbt root in the
//! inode whose pointers lead to long-format btree blocks, `BMA3` on v5
//! with CRC, owner and own address, `BMAP` on v4).
//!
//! A record (`struct xfs_bmbt_rec`, two big-endian u64 words l0, l1):
//! bit 63 of l0 is the unwritten flag, l0 bits 9..62 the file offset in
//! blocks, l0 bits 0..8 and l1 bits 21..63 the filesystem block, l1 bits
//! 0..20 the length in blocks.
//!
//! The walk is bounded: at most [`MAX_LEVEL`] levels, each block visited
//! once (loops and self-pointers end), at most [`MAX_RECORDS`] records;
//! anything skipped is a note.

use std::collections::HashSet;

use super::superblock::crc_ok;
use super::Xfs;
use crate::bytes::{be_u16, be_u64, slice};

/// Deeper than any real bmbt (9 levels cover 2^54 blocks).
pub const MAX_LEVEL: u16 = 10;
/// Records gathered for one fork at most.
pub const MAX_RECORDS: usize = 1 << 22;

const MAGIC_V5: &[u8; 4] = b"BMA3";
const MAGIC_V4: &[u8; 4] = b"BMAP";
const HDR_V4: usize = 24;
const HDR_V5: usize = 72;
/// Offsets in a v5 long-format block header.
const BLKNO_OFF: usize = 24;
const OWNER_OFF: usize = 56;
const CRC_OFF: usize = 64;

/// One decoded extent record (blocks, not bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rec {
    /// Image offset of the record (for notes).
    pub at: u64,
    pub startoff: u64,
    pub startblock: u64,
    pub blockcount: u64,
    pub unwritten: bool,
}

/// Decodes the 16-byte record at `off` of `b` (`at` is left 0).
pub fn decode(b: &[u8], off: usize) -> Option<Rec> {
    let l0 = be_u64(b, off)?;
    let l1 = be_u64(b, off + 8)?;
    Some(Rec {
        at: 0,
        unwritten: l0 >> 63 != 0,
        startoff: (l0 >> 9) & ((1 << 54) - 1),
        startblock: ((l0 & 0x1ff) << 43) | (l1 >> 21),
        blockcount: l1 & ((1 << 21) - 1),
    })
}

/// The records of an extents-format fork: `nextents` of them, as many as
/// fit in the fork.
pub fn list(fs: &Xfs, ino: u64, fork: &[u8], nextents: u64, at: u64, out: &mut Vec<Rec>) {
    let fit = (fork.len() / 16) as u64;
    if nextents > fit {
        fs.note(
            format!("xfs data fork of inode {ino}"),
            at,
            format!("{nextents} extents do not fit in the data fork ({fit} read)"),
        );
    }
    for i in 0..nextents.min(fit) as usize {
        if let Some(r) = decode(fork, i * 16) {
            out.push(Rec {
                at: at + (i * 16) as u64,
                ..r
            });
        }
    }
}

/// The records of a btree-format fork whose root (`struct xfs_bmdr_block`)
/// is `fork` (at image offset `at`), found by visiting every pointer
/// depth-first. Notes name the pointer or field at fault.
pub fn btree(fs: &Xfs, ino: u64, fork: &[u8], at: u64, out: &mut Vec<Rec>) {
    let what = format!("xfs bmbt root of inode {ino}");
    let (Some(level), Some(numrecs)) = (be_u16(fork, 0), be_u16(fork, 2)) else {
        fs.note(what, at, "truncated");
        return;
    };
    if level == 0 || level > MAX_LEVEL {
        fs.note(what, at, format!("impossible level {level}"));
        return;
    }
    let maxrecs = fork.len().saturating_sub(4) / 16;
    let n = usize::from(numrecs);
    if n > maxrecs {
        fs.note(
            what,
            at + 2,
            format!("{n} pointers, room for {maxrecs}: the rest skipped"),
        );
    }
    let mut walk = Walk {
        fs,
        ino,
        seen: HashSet::new(),
        out,
    };
    for i in 0..n.min(maxrecs) {
        let p = 4 + maxrecs * 8 + i * 8;
        if let Some(ptr) = be_u64(fork, p) {
            walk.visit(ptr, level - 1, at + p as u64);
        }
    }
}

struct Walk<'w, 'a> {
    fs: &'w Xfs<'a>,
    ino: u64,
    seen: HashSet<u64>,
    out: &'w mut Vec<Rec>,
}

impl Walk<'_, '_> {
    /// Visits block `fsb`, expected at `level`, named by the pointer at
    /// image offset `from`.
    fn visit(&mut self, fsb: u64, level: u16, from: u64) {
        let fs = self.fs;
        let what = format!("xfs bmbt block of inode {}", self.ino);
        if self.out.len() >= MAX_RECORDS {
            fs.note(
                what,
                from,
                format!("more than {MAX_RECORDS} extents: the rest skipped"),
            );
            return;
        }
        let Some(off) = fs.fsb_offset(fsb) else {
            fs.note(
                what,
                from,
                format!("pointer to block {fsb} outside the filesystem, skipped"),
            );
            return;
        };
        if !self.seen.insert(fsb) {
            fs.note(
                what,
                from,
                format!("pointer to block {fsb}, visited before (a loop in the btree), skipped"),
            );
            return;
        }
        let bs = fs.sb.block_size as usize;
        let b = fs.read(off, bs);
        if b.len() < bs {
            fs.note(what, off, "past the end of the image");
            return;
        }
        let v5 = fs.sb.is_v5();
        let magic = slice(&b, 0, 4).unwrap_or(&[]);
        let hdr = if magic == MAGIC_V5 {
            HDR_V5
        } else if magic == MAGIC_V4 {
            HDR_V4
        } else {
            fs.note(what, off, "no BMA3/BMAP magic, skipped");
            return;
        };
        if (hdr == HDR_V5) != v5 {
            fs.note(what.clone(), off, "btree block of the other XFS version");
        }
        if hdr == HDR_V5 {
            if crc_ok(&b, CRC_OFF) == Some(false) {
                fs.note(
                    what.clone(),
                    off + CRC_OFF as u64,
                    "CRC mismatch (block used anyway)",
                );
            }
            if be_u64(&b, OWNER_OFF) != Some(self.ino) {
                fs.note(
                    what.clone(),
                    off + OWNER_OFF as u64,
                    "owned by another inode (block used anyway)",
                );
            }
            if be_u64(&b, BLKNO_OFF) != Some((off - fs.start) / 512) {
                fs.note(
                    what.clone(),
                    off + BLKNO_OFF as u64,
                    "records another address (block used anyway)",
                );
            }
        }
        let blevel = be_u16(&b, 4).unwrap_or(u16::MAX);
        if blevel != level {
            fs.note(
                what,
                off + 4,
                format!("level {blevel} where {level} was expected, skipped"),
            );
            return;
        }
        let maxrecs = (bs - hdr) / 16;
        let mut n = usize::from(be_u16(&b, 6).unwrap_or(0));
        if n > maxrecs {
            fs.note(
                what.clone(),
                off + 6,
                format!("{n} records, room for {maxrecs}: the rest skipped"),
            );
            n = maxrecs;
        }
        if level == 0 {
            for i in 0..n {
                if self.out.len() >= MAX_RECORDS {
                    break;
                }
                if let Some(r) = decode(&b, hdr + i * 16) {
                    self.out.push(Rec {
                        at: off + (hdr + i * 16) as u64,
                        ..r
                    });
                }
            }
        } else {
            let ptrs: Vec<(u64, u64)> = (0..n)
                .filter_map(|i| {
                    let p = hdr + maxrecs * 8 + i * 8;
                    be_u64(&b, p).map(|v| (v, off + p as u64))
                })
                .collect();
            drop(b);
            for (p, from) in ptrs {
                self.visit(p, level - 1, from);
            }
        }
    }
}
