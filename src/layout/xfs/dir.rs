//! Directories (version 2 format; v3 adds a CRC header to each block).
//!
//! * Shortform: in the inode's data fork, a header (entry count, count of
//!   8-byte inode numbers, parent) then entries: name length, a 2-byte
//!   offset, the name, the file type byte (with `ftype`), the inode number
//!   (4 bytes, or 8 when the header's i8count is set).
//! * Block, leaf and node: data blocks (`XDB3`/`XD2B` for a single-block
//!   directory, whose hash leaf and tail sit at the block's end;
//!   `XDD3`/`XD2D` in bigger ones) in the first 32 GiB of the directory's
//!   logical space, leaf/node blocks at 32 GiB and free-index blocks at
//!   64 GiB. Only the data blocks hold names, so only they are read.
//!
//! A data block is a header then 8-byte-aligned records: an entry (inode
//! number, name length, name, file type, padding, a 2-byte tag holding the
//! entry's own offset) or an unused region (`0xffff`, its length, ..., the
//! tag). Removing a name turns its entry into an unused region: only the
//! first 4 bytes (the high half of the inode number) and the tag are
//! overwritten, so the name and the low half of the inode number survive
//! until the space is reused. Such remains are offered as deleted entries
//! when they parse cleanly (printable name, type byte in range, tag equal
//! to the offset, an inode that exists and, if in use again, has the
//! recorded type).

use super::superblock::crc_ok;
use super::Xfs;
use crate::bytes::{be_u16, be_u32, be_u64, slice};
use crate::layout::fs::{DirEntry, FileKind};

pub const BLOCK_V3: &[u8; 4] = b"XDB3";
pub const DATA_V3: &[u8; 4] = b"XDD3";
pub const BLOCK_V2: &[u8; 4] = b"XD2B";
pub const DATA_V2: &[u8; 4] = b"XD2D";
/// Start of the leaf/node space in the directory's logical bytes: data
/// blocks live below it.
pub const LEAF_OFFSET: u64 = 1 << 35;
const HDR_V3: usize = 64;
const HDR_V2: usize = 16;
const CRC_OFF: usize = 4;
const BLKNO_OFF: usize = 8;
const OWNER_OFF: usize = 40;
const FREE_TAG: u16 = 0xffff;

/// A directory entry's file type byte.
pub fn kind_of(ftype: u8) -> Option<FileKind> {
    Some(match ftype {
        1 => FileKind::Regular,
        2 => FileKind::Dir,
        3 => FileKind::CharDev,
        4 => FileKind::BlockDev,
        5 => FileKind::Fifo,
        6 => FileKind::Socket,
        7 => FileKind::Symlink,
        _ => return None,
    })
}

fn is_dot(name: &[u8]) -> bool {
    name == b"." || name == b".."
}

/// The entries of a shortform directory whose fork bytes are `data`
/// (`di_size` long), found at image offset `at`.
pub fn shortform(fs: &Xfs, ino: u64, data: &[u8], at: u64, out: &mut Vec<DirEntry>) {
    let what = format!("xfs shortform directory of inode {ino}");
    let (Some(&count), Some(&i8count)) = (data.first(), data.get(1)) else {
        fs.note(what, at, "shorter than its header");
        return;
    };
    let ino_len = if i8count > 0 { 8 } else { 4 };
    let ftype = fs.sb.has_ftype();
    let mut pos = 2 + ino_len;
    for i in 0..count {
        let here = at + pos as u64;
        let Some(&namelen) = data.get(pos) else {
            fs.note(what, here, format!("ends after {i} of {count} entries"));
            return;
        };
        let name_at = pos + 3;
        let n = usize::from(namelen);
        let ino_at = name_at + n + usize::from(ftype);
        let (Some(name), Some(child)) = (
            slice(data, name_at, n),
            if ino_len == 8 {
                be_u64(data, ino_at)
            } else {
                be_u32(data, ino_at).map(u64::from)
            },
        ) else {
            fs.note(
                what,
                here,
                format!("entry {i} of {count} runs past the end"),
            );
            return;
        };
        pos = ino_at + ino_len;
        if n == 0 || name.contains(&b'/') || name.contains(&0) {
            fs.note(
                what,
                here,
                format!("entry {i} has an impossible name, ended here"),
            );
            return;
        }
        if fs.ino_offset(child).is_none() {
            fs.note(
                what.clone(),
                here,
                format!(
                    "entry {:?} points outside the filesystem (inode {child}), skipped",
                    lossy(name)
                ),
            );
            continue;
        }
        let kind = if ftype {
            data.get(name_at + n).and_then(|&t| kind_of(t))
        } else {
            None
        };
        out.push(DirEntry {
            name: name.to_vec(),
            ino: child,
            kind,
            deleted: false,
        });
    }
}

fn lossy(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

/// One directory data block (`b` is the whole directory block, read from
/// image offset `at`): live entries into `live`, and with `deleted` the
/// remains of removed ones into `dead`.
pub fn data_block(
    fs: &Xfs,
    ino: u64,
    b: &[u8],
    at: u64,
    deleted: bool,
    live: &mut Vec<DirEntry>,
    dead: &mut Vec<DirEntry>,
) {
    let what = format!("xfs directory block of inode {ino}");
    let magic = slice(b, 0, 4).unwrap_or(&[]);
    let (hdr, single) = if magic == BLOCK_V3 {
        (HDR_V3, true)
    } else if magic == DATA_V3 {
        (HDR_V3, false)
    } else if magic == BLOCK_V2 {
        (HDR_V2, true)
    } else if magic == DATA_V2 {
        (HDR_V2, false)
    } else {
        fs.note(
            what,
            at,
            "not a directory data block (no XDB3/XDD3/XD2B/XD2D magic), skipped",
        );
        return;
    };
    if hdr == HDR_V3 {
        if crc_ok(b, CRC_OFF) == Some(false) {
            fs.note(what.clone(), at, "CRC mismatch (block used anyway)");
        }
        if be_u64(b, OWNER_OFF) != Some(ino) {
            fs.note(
                what.clone(),
                at + OWNER_OFF as u64,
                "owned by another inode (block used anyway)",
            );
        }
        if be_u64(b, BLKNO_OFF) != Some(at.saturating_sub(fs.start) / 512) {
            fs.note(
                what.clone(),
                at + BLKNO_OFF as u64,
                "records another address (block used anyway)",
            );
        }
    }
    let mut end = b.len();
    if single {
        // The tail (leaf count, stale count) and the hash leaf sit at the end.
        let count = be_u32(b, b.len().saturating_sub(8)).unwrap_or(u32::MAX) as usize;
        let room = b.len().saturating_sub(8 + hdr) / 8;
        if count > room {
            fs.note(
                what.clone(),
                at + (b.len() - 8) as u64,
                format!("block tail counts {count} leaf entries, impossible"),
            );
            end = b.len().saturating_sub(8);
        } else {
            end = b.len() - 8 - count * 8;
        }
    }
    let ftype = fs.sb.has_ftype();
    let mut pos = hdr;
    while pos + 8 <= end {
        if be_u16(b, pos) == Some(FREE_TAG) {
            let len = usize::from(be_u16(b, pos + 2).unwrap_or(0));
            let tag_ok = || be_u16(b, pos + len - 2).map(usize::from) == Some(pos);
            if len >= 8 && len % 8 == 0 && pos + len <= end && tag_ok() {
                if deleted {
                    remains(fs, b, pos, pos + len, ftype, dead);
                }
                pos += len;
                continue;
            }
            fs.note(
                what.clone(),
                at + pos as u64,
                format!("unused region of impossible length {len} (or its tag is wrong)"),
            );
        } else if let Some(e) = entry_at(b, pos, end, ftype) {
            if e.tag_ok {
                if !is_dot(e.name) {
                    if fs.ino_offset(e.ino).is_some() && e.ino != 0 {
                        live.push(DirEntry {
                            name: e.name.to_vec(),
                            ino: e.ino,
                            kind: e.kind,
                            deleted: false,
                        });
                    } else {
                        fs.note(
                            what.clone(),
                            at + pos as u64,
                            format!(
                                "entry {:?} points outside the filesystem (inode {}), skipped",
                                lossy(e.name),
                                e.ino
                            ),
                        );
                    }
                }
                pos += e.size;
                continue;
            }
            fs.note(
                what.clone(),
                at + pos as u64,
                "entry tag does not match its offset",
            );
        } else {
            fs.note(what.clone(), at + pos as u64, "entry of impossible length");
        }
        // Damage at `pos`: go on at the next record that proves its own
        // position (its tag holds its offset).
        match resync(b, pos + 8, end, ftype) {
            Some(p) => pos = p,
            None => return,
        }
    }
}

struct Entry<'b> {
    ino: u64,
    name: &'b [u8],
    kind: Option<FileKind>,
    size: usize,
    tag_ok: bool,
}

/// The bytes an entry with a name of `namelen` takes (8-byte aligned).
fn entry_size(namelen: usize, ftype: bool) -> usize {
    (8 + 1 + namelen + usize::from(ftype) + 2).div_ceil(8) * 8
}

/// A live entry at `pos`, if its length fits before `end` and its name is
/// possible.
fn entry_at(b: &[u8], pos: usize, end: usize, ftype: bool) -> Option<Entry<'_>> {
    let ino = be_u64(b, pos)?;
    let n = usize::from(*b.get(pos + 8)?);
    let size = entry_size(n, ftype);
    if n == 0 || pos + size > end {
        return None;
    }
    let name = slice(b, pos + 9, n)?;
    if name.contains(&b'/') || name.contains(&0) {
        return None;
    }
    let t = if ftype { *b.get(pos + 9 + n)? } else { 0 };
    let tag = usize::from(be_u16(b, pos + size - 2)?);
    Some(Entry {
        ino,
        name,
        kind: kind_of(t),
        size,
        tag_ok: tag == pos,
    })
}

/// The next position from `from` (8-byte steps) where a record's tag holds
/// its own offset.
fn resync(b: &[u8], from: usize, end: usize, ftype: bool) -> Option<usize> {
    let mut p = from.div_ceil(8) * 8;
    while p + 8 <= end {
        if be_u16(b, p) == Some(FREE_TAG) {
            let len = usize::from(be_u16(b, p + 2).unwrap_or(0));
            if len >= 8
                && len % 8 == 0
                && p + len <= end
                && be_u16(b, p + len - 2).map(usize::from) == Some(p)
            {
                return Some(p);
            }
        } else if entry_at(b, p, end, ftype).is_some_and(|e| e.tag_ok) {
            return Some(p);
        }
        p += 8;
    }
    None
}

/// Removed entries still legible in the unused region `start..end`.
fn remains(fs: &Xfs, b: &[u8], start: usize, end: usize, ftype: bool, dead: &mut Vec<DirEntry>) {
    let mut pos = start;
    while pos + 16 <= end {
        if let Some(d) = remain_at(fs, b, pos, start, end, ftype) {
            pos += d.1;
            dead.push(d.0);
        } else {
            pos += 8;
        }
    }
}

fn remain_at(
    fs: &Xfs,
    b: &[u8],
    pos: usize,
    start: usize,
    end: usize,
    ftype: bool,
) -> Option<(DirEntry, usize)> {
    let n = usize::from(*b.get(pos + 8)?);
    let size = entry_size(n, ftype);
    if n == 0 || pos + size > end {
        return None;
    }
    let name = slice(b, pos + 9, n)?;
    if is_dot(name) || !printable(name) {
        return None;
    }
    let t = if ftype { *b.get(pos + 9 + n)? } else { 0 };
    if ftype && kind_of(t).is_none() {
        return None;
    }
    // The tag survives, except at the end of the region, where the
    // region's own tag (its start) replaced it.
    let tag = usize::from(be_u16(b, pos + size - 2)?);
    if tag != pos && !(pos + size == end && tag == start) {
        return None;
    }
    // The high half of the inode number is gone where a free header was
    // written over it (it was 0 unless the filesystem has inode numbers
    // above 2^32, where it cannot be told); otherwise it is still there.
    let hi = be_u32(b, pos)?;
    let lo = u64::from(be_u32(b, pos + 4)?);
    let ino = if be_u16(b, pos) == Some(FREE_TAG) {
        if fs.ino_bits() > 32 {
            return None;
        }
        lo
    } else {
        (u64::from(hi) << 32) | lo
    };
    if ino == 0 {
        return None;
    }
    // The inode exists; if it is in use again, it has the recorded type.
    let mode = fs.inode_mode(ino)?;
    if ftype && mode != 0 && kind_of(t) != Some(FileKind::from_mode(mode)) {
        return None;
    }
    Some((
        DirEntry {
            name: name.to_vec(),
            ino,
            kind: if ftype { kind_of(t) } else { None },
            deleted: true,
        },
        size,
    ))
}

/// A name made of printable characters (UTF-8 without control characters).
fn printable(name: &[u8]) -> bool {
    match std::str::from_utf8(name) {
        Ok(s) => s.chars().all(|c| !c.is_control()) && !s.contains('/'),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_sizes_are_8_aligned() {
        // inumber 8 + namelen 1 + name + ftype + tag 2, rounded up to 8.
        assert_eq!(entry_size(1, true), 16);
        assert_eq!(entry_size(1, false), 16);
        assert_eq!(entry_size(4, true), 16);
        assert_eq!(entry_size(5, true), 24);
        assert_eq!(entry_size(5, false), 16);
        assert_eq!(entry_size(255, true), 272);
    }
}
