//! Group descriptors: where each block group's inode table is.
//!
//! The primary table follows the superblock (block `s_first_data_block + 1`);
//! a copy follows every backup superblock (sparse_super groups; with
//! meta_bg, each descriptor block lives in the first, second and last group
//! of its meta group). Each descriptor is taken from the primary when it is
//! in range and its checksum holds; when only its checksum fails, from the
//! primary too (with a note) unless most of the table failed, in which case
//! a backup copy where it holds is preferred; a descriptor out of range comes
//! from the first backup copy where it is good. A group 0 with
//! no usable descriptor anywhere is found by searching for the root inode
//! ([`super::rebuild`]); with flex_bg its neighbours' tables follow it.
//!
//! Layout: `struct ext4_group_desc` in fs/ext4/ext4.h, Documentation/
//! filesystems/ext4/group_descr.rst.

use super::csum;
use super::superblock::{
    Superblock, INCOMPAT_64BIT, INCOMPAT_FLEX_BG, INCOMPAT_META_BG, RO_COMPAT_GDT_CSUM,
};
use super::{rebuild, Ext4, Group};
use crate::bytes::{le_u16, le_u32};

/// bg_flags: the inode table and bitmap are not initialised.
const BG_INODE_UNINIT: u16 = 0x1;
/// Offset of bg_checksum.
const CHECKSUM_AT: usize = 0x1E;
/// How many backup copies of the table are tried.
const MAX_COPIES: usize = 16;
/// Up to this many bad descriptors get a note each; more get one summary.
const NOTE_EACH: usize = 8;

/// The descriptor fields this reader uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Desc {
    pub block_bitmap: u64,
    pub inode_bitmap: u64,
    pub inode_table: u64,
    pub flags: u16,
}

impl Desc {
    /// Decodes `ds` bytes (the high halves only with `is64` and 64-byte
    /// descriptors).
    pub fn parse(b: &[u8], ds: usize, is64: bool) -> Option<Desc> {
        if b.len() < ds || ds < 32 {
            return None;
        }
        let hi = |o: usize| -> u64 {
            if is64 && ds >= 64 {
                u64::from(le_u32(b, o).unwrap_or(0)) << 32
            } else {
                0
            }
        };
        Some(Desc {
            block_bitmap: u64::from(le_u32(b, 0x0)?) | hi(0x20),
            inode_bitmap: u64::from(le_u32(b, 0x4)?) | hi(0x24),
            inode_table: u64::from(le_u32(b, 0x8)?) | hi(0x28),
            flags: le_u16(b, 0x12)?,
        })
    }

    /// Bitmaps and inode table inside the filesystem, past the superblock.
    pub fn in_range(&self, sb: &Superblock) -> bool {
        let lo = u64::from(sb.first_data_block) + 1;
        let n = sb.blocks_count;
        let ok = |b: u64| b >= lo && b < n;
        ok(self.block_bitmap)
            && ok(self.inode_bitmap)
            && ok(self.inode_table)
            && self.inode_table + sb.itable_blocks() <= n
    }
}

/// Whether descriptor `raw` of group `g` carries a matching checksum;
/// `None` when the filesystem keeps none.
fn checksum_ok(fs: &Ext4, g: u64, raw: &[u8]) -> Option<bool> {
    let ds = usize::from(fs.sb.desc_size);
    let stored = le_u16(raw, CHECKSUM_AT)?;
    let head = raw.get(..CHECKSUM_AT)?;
    let tail = raw.get(CHECKSUM_AT + 2..ds).unwrap_or(&[]);
    let group = (g as u32).to_le_bytes();
    if let Some(seed) = fs.seed {
        let crc = csum::crc32c_parts(seed, &[&group, head, &[0, 0], tail]);
        return Some(crc as u16 == stored);
    }
    if fs.sb.has_ro_compat(RO_COMPAT_GDT_CSUM) {
        let mut crc = csum::crc16(!0, &fs.sb.uuid);
        crc = csum::crc16(crc, &group);
        crc = csum::crc16(crc, head);
        if fs.sb.has_incompat(INCOMPAT_64BIT) {
            crc = csum::crc16(crc, tail);
        }
        return Some(crc == stored);
    }
    None
}

/// Descriptors per block.
fn per_block(sb: &Superblock) -> u64 {
    u64::from(sb.block_size()) / u64::from(sb.desc_size)
}

/// Whether group `g`'s descriptor lives in a meta_bg meta group.
fn in_meta_bg(sb: &Superblock, g: u64) -> bool {
    sb.has_incompat(INCOMPAT_META_BG) && g / per_block(sb) >= u64::from(sb.first_meta_bg)
}

/// The filesystem-relative byte offsets of group `g`'s descriptor: the
/// primary first, then the backup copies (at most [`MAX_COPIES`]).
fn locations(sb: &Superblock, g: u64) -> Vec<u64> {
    let bs = u64::from(sb.block_size());
    let ds = u64::from(sb.desc_size);
    let n = sb.group_count();
    if in_meta_bg(sb, g) {
        let dpb = per_block(sb);
        let first = g / dpb * dpb;
        let within = (g % dpb) * ds;
        let mut hosts = vec![first, first + 1, first + dpb - 1];
        hosts.dedup();
        return hosts
            .into_iter()
            .filter(|&h| h < n)
            .map(|h| (sb.group_first_block(h) + u64::from(sb.has_super(h))) * bs + within)
            .collect();
    }
    let table = |host: u64| (sb.group_first_block(host) + 1) * bs + g * ds;
    let mut out = vec![table(0)];
    out.extend(
        (1..n)
            .filter(|&h| sb.has_super(h))
            .take(MAX_COPIES)
            .map(table),
    );
    out
}

/// One descriptor copy, judged.
enum Verdict {
    /// In range, checksum holds or is not kept.
    Good(Desc, bool),
    /// In range, checksum fails.
    CsumBad(Desc),
    /// Out of range (zeroed, garbage) or outside the image.
    Bad,
}

fn judge(fs: &Ext4, g: u64, rel: u64) -> Verdict {
    let ds = usize::from(fs.sb.desc_size);
    if rel.saturating_add(ds as u64) > fs.len {
        return Verdict::Bad;
    }
    let raw = fs.image.bytes(fs.start + rel, ds);
    let Some(d) = Desc::parse(&raw, ds, fs.sb.has_incompat(INCOMPAT_64BIT)) else {
        return Verdict::Bad;
    };
    if !d.in_range(&fs.sb) {
        return Verdict::Bad;
    }
    match checksum_ok(fs, g, &raw) {
        Some(false) => Verdict::CsumBad(d),
        Some(true) => Verdict::Good(d, true),
        None => Verdict::Good(d, false),
    }
}

/// The inode table of every group (`None`: no usable descriptor).
pub(super) fn load(fs: &Ext4) -> Vec<Option<Group>> {
    let n = fs.sb.group_count();
    let mut out: Vec<Option<Group>> = vec![None; n as usize];
    // Groups whose primary descriptor is unusable, with the primary when
    // only its checksum failed.
    let mut pending: Vec<(u64, Option<Desc>)> = Vec::new();
    for g in 0..n {
        let locs = primary_location(&fs.sb, g);
        match judge(fs, g, locs) {
            Verdict::Good(d, csum_holds) => {
                out[g as usize] = Some(Group {
                    itable: d.inode_table,
                    uninit: csum_holds && d.flags & BG_INODE_UNINIT != 0,
                })
            }
            Verdict::CsumBad(d) => pending.push((g, Some(d))),
            Verdict::Bad => pending.push((g, None)),
        }
    }
    if pending.is_empty() {
        return out;
    }
    let primary_at = fs.start + primary_location(&fs.sb, 0);
    if pending.len() <= NOTE_EACH {
        for (g, d) in &pending {
            let why = if d.is_some() {
                "checksum mismatch"
            } else {
                "fields out of range (zeroed or damaged)"
            };
            fs.notes.push(
                format!("ext4 group descriptor {g}"),
                fs.start + primary_location(&fs.sb, *g),
                why,
            );
        }
    } else {
        fs.notes.push(
            "ext4 group descriptor table",
            primary_at,
            format!(
                "{} of {} descriptors unusable (checksum mismatch, or zeroed/damaged)",
                pending.len(),
                n
            ),
        );
    }
    // A few checksum failures: those descriptors are used as they are. Most
    // of the table failing: the backup copies are preferred.
    if pending.len() * 2 <= n as usize {
        use_in_range(&mut out, &mut pending);
    }
    // Backup copies, each tried for the groups still unresolved.
    for copy in 1..=MAX_COPIES {
        if pending.is_empty() {
            break;
        }
        let mut any_copy = false;
        let mut taken: Option<(u64, u64)> = None; // (first offset, count)
        pending.retain(|&(g, _)| {
            let Some(&rel) = locations(&fs.sb, g).get(copy) else {
                return true;
            };
            any_copy = true;
            let Verdict::Good(d, _) = judge(fs, g, rel) else {
                return true;
            };
            out[g as usize] = Some(Group {
                itable: d.inode_table,
                uninit: false,
            });
            let t = taken.get_or_insert((fs.start + rel, 0));
            t.1 += 1;
            false
        });
        if let Some((at, count)) = taken {
            fs.notes.push(
                "ext4 backup group descriptors",
                at,
                format!("{count} descriptor(s) taken from this backup copy"),
            );
        }
        if !any_copy {
            break;
        }
    }
    // Primaries whose only fault is the checksum.
    use_in_range(&mut out, &mut pending);
    if pending.first().is_some_and(|&(g, _)| g == 0) {
        if let Some(itable) = rebuild::find_inode_table(fs) {
            out[0] = Some(Group {
                itable,
                uninit: false,
            });
            pending.remove(0);
            fs.notes.push(
                "ext4 inode table of group 0",
                fs.start + itable * fs.bs(),
                format!(
                    "no usable copy; inode table found at block {itable} by its root directory inode"
                ),
            );
        }
    }
    guess_flex_neighbours(fs, &mut out, &mut pending);
    if !pending.is_empty() {
        let list: Vec<String> = pending.iter().take(8).map(|(g, _)| g.to_string()).collect();
        fs.notes.push(
            "ext4 group descriptors",
            primary_at,
            format!(
                "{} group(s) without a usable descriptor ({}{}): their inodes cannot be read",
                pending.len(),
                list.join(", "),
                if pending.len() > 8 { ", ..." } else { "" }
            ),
        );
    }
    out
}

/// Takes the pending descriptors whose fields are in range (only their
/// checksum failed) as they are.
fn use_in_range(out: &mut [Option<Group>], pending: &mut Vec<(u64, Option<Desc>)>) {
    pending.retain(|&(g, d)| match d {
        Some(d) => {
            out[g as usize] = Some(Group {
                itable: d.inode_table,
                uninit: false,
            });
            false
        }
        None => true,
    });
}

fn primary_location(sb: &Superblock, g: u64) -> u64 {
    if in_meta_bg(sb, g) {
        locations(sb, g)[0]
    } else {
        (sb.group_first_block(0) + 1) * u64::from(sb.block_size()) + g * u64::from(sb.desc_size)
    }
}

/// With flex_bg, mke2fs lays the inode tables of a flex group end to end:
/// a group with no descriptor left gets the table its known neighbour in the
/// same flex group implies.
fn guess_flex_neighbours(
    fs: &Ext4,
    out: &mut [Option<Group>],
    pending: &mut Vec<(u64, Option<Desc>)>,
) {
    if !fs.sb.has_incompat(INCOMPAT_FLEX_BG) || pending.is_empty() {
        return;
    }
    let flex = 1u64 << fs.sb.log_groups_per_flex.min(31);
    let step = fs.sb.itable_blocks();
    pending.retain(|&(g, _)| {
        let base = g / flex * flex;
        let known = (base..base + flex)
            .filter(|&k| k != g)
            .find_map(|k| out.get(k as usize).copied().flatten().map(|grp| (k, grp)));
        let Some((k, grp)) = known else {
            return true;
        };
        let itable = if g > k {
            grp.itable + (g - k) * step
        } else {
            match grp.itable.checked_sub((k - g) * step) {
                Some(t) => t,
                None => return true,
            }
        };
        if itable + step > fs.sb.blocks_count {
            return true;
        }
        out[g as usize] = Some(Group {
            itable,
            uninit: false,
        });
        fs.notes.push(
            format!("ext4 inode table of group {g}"),
            fs.start + itable * fs.bs(),
            format!("no usable copy; inode table assumed at block {itable} (flex_bg layout of group {k})"),
        );
        false
    });
}
