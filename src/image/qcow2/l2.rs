//! L1 and L2 entries: where each guest cluster lives in the file, decoded
//! and checked once when a table is loaded.
//!
//! An L2 entry (8 bytes, or 16 with extended L2 entries) is a standard
//! cluster descriptor (host offset in bits 9..55, "reads as zeros" in bit 0
//! for version 3) or, with bit 62, a compressed one (host offset in bits
//! 0..x-1 and the count of extra 512-byte sectors in bits x..61, where
//! x = 62 - (cluster_bits - 8)). Bit 63 (refcount is one) is ignored.
//! Extended entries add a bitmap: bits 0..31 say which of the 32 subclusters
//! are allocated, bits 32..63 which read as zeros.
//!
//! A host offset outside the file, unaligned, or inside the header cluster,
//! the L1 table or an L2 table is damage: that cluster reads as zeros and is
//! reported as a hole.

use crate::bytes::be_u64;

/// Bits 9..55 of a standard descriptor or an L1 entry.
pub(super) const OFFSET_MASK: u64 = 0x00ff_ffff_ffff_fe00;
const COMPRESSED: u64 = 1 << 62;
const ZERO: u64 = 1;

/// One guest cluster, decoded and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Entry {
    /// Reads from the backing file, else zeros.
    Unallocated,
    /// Reads as zeros (not from the backing file).
    Zero,
    /// The cluster's data at this host offset.
    Data(u64),
    /// Compressed data at `host`, at most `len` bytes (clipped to the file).
    Compressed { host: u64, len: u32 },
    /// Extended L2: per subcluster, allocated (at `host` + its offset),
    /// zero, or neither (backing).
    Sub { host: u64, alloc: u32, zero: u32 },
    /// Damaged entry: zeros, reported as a hole.
    Damaged,
}

/// Where the metadata the reader relies on lies in the file.
pub(super) struct Layout {
    pub cluster_bits: u32,
    pub extended: bool,
    /// Bit 0 of a standard descriptor means "zeros" (version 3, not extended).
    pub zero_flag: bool,
    pub file_size: u64,
    /// The L1 table's byte range.
    pub l1: (u64, u64),
    /// Start offsets of the L2 tables the L1 table names, sorted.
    pub l2_starts: Vec<u64>,
}

impl Layout {
    pub fn cluster(&self) -> u64 {
        1 << self.cluster_bits
    }

    /// Bytes per L2 entry.
    pub fn entry_bytes(&self) -> usize {
        if self.extended {
            16
        } else {
            8
        }
    }

    /// Entries per L2 table (one cluster).
    pub fn l2_entries(&self) -> u64 {
        self.cluster() / self.entry_bytes() as u64
    }

    /// Why the host range `a..a+len` cannot hold guest data or an L2
    /// table, if it cannot: it must start in the file and stay out of the
    /// header cluster, the L1 table and (`data`) the L2 tables.
    pub fn bad_host(&self, a: u64, len: u64, data: bool) -> Option<&'static str> {
        let b = a.saturating_add(len);
        if a >= self.file_size {
            return Some("past the end of the file");
        }
        if a < self.cluster() {
            return Some("inside the header cluster");
        }
        if a < self.l1.1 && b > self.l1.0 {
            return Some("inside the L1 table");
        }
        if data {
            let c = self.cluster();
            let i = self
                .l2_starts
                .partition_point(|&s| s.saturating_add(c) <= a);
            if self.l2_starts.get(i).is_some_and(|&s| s < b) {
                return Some("inside an L2 table");
            }
        }
        None
    }
}

/// The damage found in one L2 table, for one note.
#[derive(Default)]
pub(super) struct Damage {
    pub count: u64,
    /// (entry index, host offset, why) of the first damaged entry.
    pub first: Option<(u64, u64, &'static str)>,
    /// Data clusters that run past the end of the file (truncated image).
    pub short: u64,
}

impl Damage {
    fn add(&mut self, i: u64, host: u64, why: &'static str) {
        self.count += 1;
        self.first.get_or_insert((i, host, why));
    }
}

/// Decodes the L2 table `raw` (possibly short: entries past its end are
/// damaged, the table ran past the end of the file).
pub(super) fn decode(raw: &[u8], lay: &Layout, damage: &mut Damage) -> Vec<Entry> {
    let n = lay.l2_entries();
    let eb = lay.entry_bytes();
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        let at = i as usize * eb;
        let Some(word) = be_u64(raw, at) else {
            damage.add(i, 0, "past the end of the file (the L2 table is cut short)");
            out.push(Entry::Damaged);
            continue;
        };
        let bitmap = if lay.extended {
            be_u64(raw, at + 8)
        } else {
            Some(0)
        };
        let Some(bitmap) = bitmap else {
            damage.add(i, 0, "past the end of the file (the L2 table is cut short)");
            out.push(Entry::Damaged);
            continue;
        };
        let e = if word & COMPRESSED != 0 {
            compressed(word, i, lay, damage)
        } else if lay.extended {
            extended(word, bitmap, i, lay, damage)
        } else {
            let host = word & OFFSET_MASK;
            if lay.zero_flag && word & ZERO != 0 {
                Entry::Zero
            } else if host == 0 {
                Entry::Unallocated
            } else {
                data(host, lay.cluster(), i, lay, damage).unwrap_or(Entry::Damaged)
            }
        };
        out.push(e);
    }
    out
}

/// A standard data cluster at `host`, checked; its first `used` bytes are
/// read (all of it, or up to the last allocated subcluster).
fn data(host: u64, used: u64, i: u64, lay: &Layout, damage: &mut Damage) -> Option<Entry> {
    let c = lay.cluster();
    let why = if host & (c - 1) != 0 {
        Some("not aligned to a cluster")
    } else {
        lay.bad_host(host, c, true)
    };
    if let Some(why) = why {
        damage.add(i, host, why);
        return None;
    }
    if host + used > lay.file_size {
        damage.short += 1;
    }
    Some(Entry::Data(host))
}

fn compressed(word: u64, i: u64, lay: &Layout, damage: &mut Damage) -> Entry {
    let x = 62 - (lay.cluster_bits - 8);
    let host = word & ((1u64 << x) - 1);
    let sectors = (word >> x) & ((1u64 << (lay.cluster_bits - 8)) - 1);
    let len = (sectors + 1) * 512 - (host & 511);
    let why = if host == 0 {
        Some("offset 0")
    } else {
        lay.bad_host(host, len.min(lay.file_size.saturating_sub(host)), true)
    };
    if let Some(why) = why {
        damage.add(i, host, why);
        return Entry::Damaged;
    }
    Entry::Compressed {
        host,
        len: len as u32,
    }
}

fn extended(word: u64, bitmap: u64, i: u64, lay: &Layout, damage: &mut Damage) -> Entry {
    let alloc = bitmap as u32;
    let mut zero = (bitmap >> 32) as u32;
    if alloc == 0 {
        return match zero {
            0 => Entry::Unallocated,
            u32::MAX => Entry::Zero,
            _ => Entry::Sub {
                host: 0,
                alloc,
                zero,
            },
        };
    }
    let host = word & OFFSET_MASK;
    if host == 0 {
        damage.add(i, 0, "allocated subclusters without a host offset");
        return Entry::Damaged;
    }
    // QEMU writes only the allocated subclusters: the file may end before
    // the rest of the cluster.
    let used = u64::from(32 - alloc.leading_zeros()) * (lay.cluster() / 32);
    let Some(_) = data(host, used, i, lay, damage) else {
        return Entry::Damaged;
    };
    // A subcluster both allocated and zero is invalid; its data is kept.
    zero &= !alloc;
    if alloc == u32::MAX {
        Entry::Data(host)
    } else {
        Entry::Sub { host, alloc, zero }
    }
}
