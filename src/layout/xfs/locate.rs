//! Where an XFS filesystem starts. Normally its primary superblock sits at
//! the partition start. When AG 0's header sectors are damaged, a secondary
//! superblock (one per AG, same geometry and root inode) still says it: a
//! copy at image offset `o` that belongs to AG `k` (the AGF or AGI right
//! after it records `k` as its `seqno`) puts the start at
//! `o - k * agblocks * blocksize`.
//!
//! Secondaries are searched at every sector of the first [`SCAN_LIMIT`]
//! bytes of the partition, then at the AG boundaries mkfs would have chosen
//! for the partition's size (a quarter of the blocks per AG, or a power of
//! two for larger filesystems).

use super::ag::{self, AGF_MAGIC, AGI_MAGIC};
use super::superblock::{Superblock, MAGIC, SB_LEN};
use crate::image::Image;

/// Bytes of the partition scanned sector by sector for a secondary.
pub const SCAN_LIMIT: u64 = 1 << 30;
const SECTOR: u64 = 512;
/// Read size while scanning (plus room for the sectors after a hit).
const CHUNK: u64 = 1 << 20;
/// Largest sector size: the AGF/AGI of a copy lie within this much after it.
const TAIL: usize = 2 * 32768;

/// A superblock copy and the AG it belongs to.
#[derive(Debug, Clone)]
pub struct Copy {
    pub sb: Superblock,
    /// The AG number its AGF (or AGI) records.
    pub ag: u32,
}

/// Decodes the superblock copy at the start of `b` and the AG number from
/// the AGF (or, if that is damaged, the AGI) in the sectors after it.
pub fn copy_at(b: &[u8]) -> Option<Copy> {
    if b.get(..4)? != MAGIC.as_slice() {
        return None;
    }
    let sb = Superblock::parse(b).ok()?;
    let ss = usize::from(sb.sectsize);
    let head = |n: usize, magic| {
        let h = b.get(n * ss..)?;
        ag::parse(h, magic, sb.agcount, sb.agblocks)
    };
    let ag = head(1, AGF_MAGIC).or_else(|| head(2, AGI_MAGIC))?.seqno;
    Some(Copy { sb, ag })
}

/// The start of the filesystem a copy at absolute `offset` belongs to.
fn start_of(c: &Copy, offset: u64) -> Option<u64> {
    offset.checked_sub(u64::from(c.ag) * c.sb.ag_bytes())
}

/// A secondary superblock for the filesystem that starts at `start` (a
/// partition of `len` bytes) and whose primary is unusable: the first copy
/// found whose AG number puts its filesystem's start exactly there. (A
/// filesystem starting elsewhere is the partition sweep's to find, with
/// [`sweep_hit`].) Returns the copy, its offset and the start.
pub fn secondary(image: &Image, start: u64, len: u64) -> Option<(Copy, u64, u64)> {
    let consider = |c: Copy, at: u64| -> Option<(Copy, u64, u64)> {
        (start_of(&c, at)? == start).then_some((c, at, start))
    };
    // Every sector of the first SCAN_LIMIT bytes that hold data (holes of a
    // sparse image read as zeros and hold no superblock).
    let scan_end = start + len.min(SCAN_LIMIT);
    for (d0, d1) in image.data_ranges(start, scan_end) {
        let mut pos = start + (d0.saturating_sub(start)) / SECTOR * SECTOR;
        while pos < d1 {
            let want = (d1 - pos).min(CHUNK);
            let buf = image.bytes(pos, want as usize + TAIL);
            let mut o = 0usize;
            while (o as u64) < want && o + 4 <= buf.len() {
                let at = pos + o as u64;
                if &buf[o..o + 4] == MAGIC && at != start {
                    if let Some(c) = copy_at(&buf[o..]) {
                        if let Some(hit) = consider(c, at) {
                            return Some(hit);
                        }
                    }
                }
                o += SECTOR as usize;
            }
            pos += want;
        }
    }
    // Beyond: where mkfs puts AG boundaries for this size.
    for rel in guesses(len) {
        let at = start + rel;
        let buf = image.bytes(at, SB_LEN.max(TAIL));
        if let Some(c) = copy_at(&buf) {
            if let Some(hit) = consider(c, at) {
                return Some(hit);
            }
        }
    }
    None
}

/// Offsets past [`SCAN_LIMIT`] where AG 1..3 would start: mkfs's default
/// divides a device of under 4 TiB into 4 AGs (more on multi-disk setups),
/// larger ones into AGs of 1 TiB; other counts and power-of-two sizes are
/// cheap to try too.
fn guesses(len: u64) -> Vec<u64> {
    let mut out = Vec::new();
    for log in 9..=16u32 {
        let bs = 1u64 << log;
        let blocks = len / bs;
        for n in 2..=64u64 {
            // AG size rounded down or (mkfs's choice) up.
            for per in [blocks / n, blocks.div_ceil(n)] {
                for k in 1..=3u64.min(n - 1) {
                    out.push(per * bs * k);
                }
            }
        }
    }
    for log in 24..=40u32 {
        for k in 1..=3u64 {
            out.push(k << log);
        }
    }
    out.retain(|&r| r >= SCAN_LIMIT && r < len && r % SECTOR == 0);
    out.sort_unstable();
    out.dedup();
    out
}

/// For the partition sweep: if `block` (bytes at absolute image `offset`;
/// at least one sector more than the superblock's sector size, so that the
/// AGF after it can be read) is an XFS superblock, primary or secondary,
/// the absolute offset where its filesystem starts. The magic is tested
/// first.
pub fn sweep_hit(block: &[u8], offset: u64) -> Option<u64> {
    if block.get(..4)? != MAGIC.as_slice() {
        return None;
    }
    let c = copy_at(block)?;
    start_of(&c, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_hit_mkfs_default_geometry() {
        // 100 GiB partition, 4 KiB blocks, 4 AGs of 25 GiB.
        let len = 100u64 << 30;
        let g = guesses(len);
        assert!(g.contains(&(25 << 30)));
        // 10 GiB + 1 block: mkfs rounds the AG size up.
        let g = guesses((10 << 30) + 4096);
        assert!(g.contains(&(((10 << 30) / 4096 / 4 + 1) * 4096)));
        assert!(g.iter().all(|&r| r >= SCAN_LIMIT && r < len));
        // 8 TiB: AGs of 1 TiB.
        assert!(guesses(8 << 40).contains(&(1 << 40)));
    }
}
