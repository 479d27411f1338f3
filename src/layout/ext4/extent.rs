//! Where a file's blocks are: ext4 extent trees and ext2/ext3 indirect
//! block maps, turned into [`Extent`]s in absolute image bytes.
//!
//! Extent tree (Documentation/filesystems/ext4/ifork.rst): a 12-byte header
//! (magic 0xF30A, entries, max, depth), then 12-byte index entries (depth >
//! 0: first logical block, child block) or leaf extents (logical block,
//! length — above 32768 an unwritten extent of length - 32768 — and start
//! block). Tree blocks end with a crc32c tail after `max` entries.
//!
//! Block map: i_block[0..12] point at data blocks, [12] at a block of
//! pointers, [13] at a block of pointer blocks, [14] one level deeper.
//!
//! Damage: a node without the magic, at the wrong depth, pointing outside
//! the filesystem or the image, or reached twice (a loop) is skipped with a
//! note; the rest of the map is kept. Depth, node count and extent count
//! are bounded.

use std::collections::HashSet;

use super::csum;
use super::Ext4;
use crate::bytes::{le_u16, le_u32};
use crate::layout::fs::Extent;

const EXTENT_MAGIC: u16 = 0xF30A;
/// The kernel's EXT4_MAX_EXTENT_DEPTH.
const MAX_DEPTH: u16 = 5;
/// Tree blocks read for one inode.
const MAX_NODES: usize = 1 << 16;
/// Extents kept for one inode.
const MAX_EXTENTS: usize = 1 << 20;
/// Pointer blocks read for one block-mapped inode.
const MAX_INDIRECT: usize = 1 << 16;
/// ee_len above this marks an unwritten extent.
const INIT_MAX_LEN: u16 = 32768;

struct Tree<'f, 'a> {
    fs: &'f Ext4<'a>,
    ino: u64,
    /// Per-inode checksum seed (metadata_csum).
    seed: Option<u32>,
    visited: HashSet<u64>,
    nodes: usize,
    out: &'f mut Vec<Extent>,
}

/// Appends the extents of the tree rooted in `iblock` (the inode's 60-byte
/// i_block, at absolute offset `at`) to `out`.
pub(super) fn tree(
    fs: &Ext4,
    ino: u64,
    generation: u32,
    iblock: &[u8],
    at: u64,
    out: &mut Vec<Extent>,
) {
    let mut t = Tree {
        fs,
        ino,
        seed: fs.seed.map(|s| csum::inode_seed(s, ino, generation)),
        visited: HashSet::new(),
        nodes: 0,
        out,
    };
    t.node(iblock, at, None, 0, true);
}

impl Tree<'_, '_> {
    fn note(&self, at: u64, message: String) {
        self.fs.notes.push(
            format!("ext4 extent tree of inode {}", self.ino),
            at,
            message,
        );
    }

    fn node(&mut self, b: &[u8], at: u64, expect: Option<u16>, level: u16, is_root: bool) {
        let (Some(magic), Some(entries), Some(max), Some(depth)) =
            (le_u16(b, 0), le_u16(b, 2), le_u16(b, 4), le_u16(b, 6))
        else {
            return;
        };
        if magic != EXTENT_MAGIC {
            self.note(
                at,
                "no extent header (magic 0xF30A); subtree skipped".into(),
            );
            return;
        }
        if depth > MAX_DEPTH || level > MAX_DEPTH || expect.is_some_and(|d| d != depth) {
            self.note(
                at,
                format!("node depth {depth} where {expect:?} was expected; subtree skipped"),
            );
            return;
        }
        let fit = (b.len().saturating_sub(12) / 12) as u16;
        let mut n = entries;
        if entries > max || max > fit {
            self.note(
                at,
                format!("header says {entries} entries of {max} (room for {fit}); clipped"),
            );
            n = entries.min(fit);
        }
        if !is_root && max <= fit {
            if let Some(seed) = self.seed {
                let tail = 12 + 12 * usize::from(max);
                if let (Some(stored), Some(body)) = (le_u32(b, tail), b.get(..tail)) {
                    if csum::crc32c_raw(seed, body) != stored {
                        self.note(at, "extent block checksum mismatch (used anyway)".into());
                    }
                }
            }
        }
        let bs = self.fs.bs();
        for i in 0..usize::from(n) {
            let e = 12 + 12 * i;
            let entry_at = at + e as u64;
            let (Some(first), Some(w4), Some(w6), Some(w8)) = (
                le_u32(b, e),
                le_u16(b, e + 4),
                le_u16(b, e + 6),
                le_u32(b, e + 8),
            ) else {
                return;
            };
            if depth == 0 {
                let (len, unwritten) = if w4 > INIT_MAX_LEN {
                    (w4 - INIT_MAX_LEN, true)
                } else {
                    (w4, false)
                };
                if len == 0 {
                    continue;
                }
                let start = u64::from(w6) << 32 | u64::from(w8);
                if start == 0 || start + u64::from(len) > self.fs.sb.blocks_count {
                    self.note(
                        entry_at,
                        format!(
                            "extent at block {start} (+{len}) lies outside the filesystem; skipped"
                        ),
                    );
                    continue;
                }
                if self.out.len() >= MAX_EXTENTS {
                    self.note(
                        at,
                        format!("more than {MAX_EXTENTS} extents; the rest skipped"),
                    );
                    return;
                }
                self.out.push(Extent {
                    logical: u64::from(first) * bs,
                    physical: self.fs.start + start * bs,
                    len: u64::from(len) * bs,
                    unwritten,
                });
            } else {
                // Index entry: ei_leaf_lo at +4, ei_leaf_hi at +8.
                let child = u64::from(le_u32(b, e + 4).unwrap_or(0)) | u64::from(w8 & 0xFFFF) << 32;
                let Some(child_at) = self.fs.block_at(child).filter(|_| child != 0) else {
                    self.note(
                        entry_at,
                        format!("index points to block {child}, outside the filesystem or image; subtree skipped"),
                    );
                    continue;
                };
                if !self.visited.insert(child) {
                    self.note(
                        entry_at,
                        format!(
                            "index points to block {child} a second time (loop); subtree skipped"
                        ),
                    );
                    continue;
                }
                if self.nodes >= MAX_NODES {
                    self.note(
                        at,
                        format!("more than {MAX_NODES} tree blocks; the rest skipped"),
                    );
                    return;
                }
                self.nodes += 1;
                let Some(blk) = self.fs.read_block(child) else {
                    continue;
                };
                self.node(&blk, child_at, Some(depth - 1), level + 1, false);
            }
        }
    }
}

struct Map<'f, 'a> {
    fs: &'f Ext4<'a>,
    ino: u64,
    /// Pointers per block.
    per: u64,
    /// Blocks the file's size covers: pointers past it are ignored.
    nblocks: u64,
    visited: HashSet<u64>,
    reads: usize,
    bad_noted: bool,
    out: &'f mut Vec<Extent>,
}

/// Appends the blocks of an ext2/ext3 block map (i_block at absolute offset
/// `at`) covering a file of `size` bytes to `out`, runs of consecutive
/// blocks merged.
pub(super) fn block_map(
    fs: &Ext4,
    ino: u64,
    iblock: &[u8],
    size: u64,
    at: u64,
    out: &mut Vec<Extent>,
) {
    let bs = fs.bs();
    let mut m = Map {
        fs,
        ino,
        per: bs / 4,
        // Bounded so that block * block size never overflows.
        nblocks: size.div_ceil(bs).min(1 << 40),
        visited: HashSet::new(),
        reads: 0,
        bad_noted: false,
        out,
    };
    let ptr = |i: usize| u64::from(le_u32(iblock, 4 * i).unwrap_or(0));
    for i in 0..12 {
        m.data(i as u64, ptr(i), at + 4 * i as u64);
    }
    let mut base = 12u64;
    let mut span = 1u64;
    for (level, slot) in [(1u32, 12usize), (2, 13), (3, 14)] {
        span = span.saturating_mul(m.per);
        m.indirect(ptr(slot), level, base, at + 4 * slot as u64);
        base = base.saturating_add(span);
    }
}

impl Map<'_, '_> {
    fn note(&mut self, at: u64, message: String) {
        self.fs
            .notes
            .push(format!("ext4 block map of inode {}", self.ino), at, message);
    }

    /// A pointer block of `level` (1: pointers to data) whose first entry
    /// maps logical block `base`; the pointer to it is at `ptr_at`.
    fn indirect(&mut self, blk: u64, level: u32, base: u64, ptr_at: u64) {
        if blk == 0 || base >= self.nblocks {
            return;
        }
        let Some(abs) = self.fs.block_at(blk) else {
            self.note(
                ptr_at,
                format!("pointer block {blk} lies outside the filesystem or image; skipped"),
            );
            return;
        };
        if !self.visited.insert(blk) {
            self.note(
                ptr_at,
                format!("pointer block {blk} reached twice (loop); skipped"),
            );
            return;
        }
        if self.reads >= MAX_INDIRECT {
            self.note(
                ptr_at,
                format!("more than {MAX_INDIRECT} pointer blocks; the rest skipped"),
            );
            return;
        }
        self.reads += 1;
        let Some(b) = self.fs.read_block(blk) else {
            return;
        };
        let span = self.per.pow(level - 1);
        for i in 0..self.per {
            let lblk = base + i * span;
            if lblk >= self.nblocks {
                break;
            }
            let p = u64::from(le_u32(&b, 4 * i as usize).unwrap_or(0));
            if p == 0 {
                continue;
            }
            let p_at = abs + 4 * i;
            if level == 1 {
                self.data(lblk, p, p_at);
            } else {
                self.indirect(p, level - 1, lblk, p_at);
            }
        }
    }

    /// Logical block `lblk` is filesystem block `p`.
    fn data(&mut self, lblk: u64, p: u64, ptr_at: u64) {
        if p == 0 || lblk >= self.nblocks {
            return;
        }
        if p >= self.fs.sb.blocks_count {
            if !self.bad_noted {
                self.bad_noted = true;
                self.note(
                    ptr_at,
                    format!("data block {p} lies outside the filesystem; skipped"),
                );
            }
            return;
        }
        let bs = self.fs.bs();
        let (logical, physical) = (lblk * bs, self.fs.start + p * bs);
        if let Some(last) = self.out.last_mut() {
            if last.logical + last.len == logical && last.physical + last.len == physical {
                last.len += bs;
                return;
            }
        }
        if self.out.len() >= MAX_EXTENTS {
            return;
        }
        self.out.push(Extent {
            logical,
            physical,
            len: bs,
            unwritten: false,
        });
    }
}
