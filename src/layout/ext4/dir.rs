//! Directories: linear blocks, htree directories read as linear (their
//! index blocks look like one empty entry spanning the block and are
//! skipped), inline directories, and with `deleted` the entries still
//! readable in the slack after a live entry's own length.
//!
//! An entry (Documentation/filesystems/ext4/directory.rst): inode u32,
//! rec_len u16, name_len u8, file_type u8 (filetype feature), name. Each
//! block of a metadata_csum directory ends with a 12-byte fake entry
//! (inode 0, rec_len 12, name_len 0, type 0xDE) holding the crc32c of the
//! block; htree index blocks keep theirs in a dx_tail after `limit` entries.

use std::collections::HashSet;

use super::csum;
use super::inode::{flags_and_generation, FL_INDEX, I_BLOCK, I_BLOCK_LEN};
use super::superblock::INCOMPAT_FILETYPE;
use super::Ext4;
use crate::bytes::{le_u16, le_u32};
use crate::layout::fs::{DirEntry, FileKind, FsError, Inode};

/// Blocks read for one directory.
const MAX_DIR_BLOCKS: u64 = 1 << 20;
/// Size of the checksum tail entry.
const TAIL_LEN: usize = 12;
/// Where the dx_root's count/limit sit in an htree root block.
const DX_ROOT_COUNT_AT: usize = 32;
/// Where a dx_node's count/limit sit.
const DX_NODE_COUNT_AT: usize = 8;

/// The entries of directory `dir` ("." and ".." left out): live ones in
/// on-disk order, then, with `deleted`, the ones found in slack space.
pub(super) fn read_dir(fs: &Ext4, dir: &Inode, deleted: bool) -> Result<Vec<DirEntry>, FsError> {
    if dir.kind != FileKind::Dir {
        return Err(FsError::new(
            format!("ext4 inode {}", dir.ino),
            0,
            "not a directory",
        ));
    }
    let ((flags, generation), inode_at) = match fs.raw_inode(dir.ino) {
        Ok((raw, at)) => (flags_and_generation(&raw), at),
        Err(_) => ((0, 0), 0),
    };
    let mut p = Parse {
        fs,
        ino: dir.ino,
        filetype: fs.sb.has_incompat(INCOMPAT_FILETYPE),
        deleted,
        htree: flags & FL_INDEX != 0,
        seed: fs.seed.map(|s| csum::inode_seed(s, dir.ino, generation)),
        live: Vec::new(),
        dead: Vec::new(),
    };
    if let Some(data) = &dir.inline {
        // i_block: the parent's inode number, then 56 bytes of entries; the
        // "system.data" attribute value is a second run of entries.
        let iblock_at = inode_at + I_BLOCK as u64;
        if let Some(head) = data.get(4..I_BLOCK_LEN) {
            p.block(head, iblock_at + 4, None);
        }
        if let Some(rest) = data.get(I_BLOCK_LEN..).filter(|r| !r.is_empty()) {
            p.block(rest, iblock_at + I_BLOCK_LEN as u64, None);
        }
    } else {
        let bs = fs.bs();
        let nblocks = dir.size.div_ceil(bs).min(MAX_DIR_BLOCKS);
        'extents: for x in &dir.extents {
            if x.unwritten {
                continue;
            }
            for k in 0..x.len / bs {
                let lblk = x.logical / bs + k;
                if lblk >= nblocks {
                    break 'extents;
                }
                let at = x.physical + k * bs;
                let b = fs.image.bytes(at, bs as usize);
                if (b.len() as u64) < bs {
                    fs.notes.push(
                        format!("ext4 directory block of inode {}", dir.ino),
                        at,
                        "lies outside the image; skipped",
                    );
                    break 'extents;
                }
                p.block(&b, at, Some(lblk));
            }
        }
    }
    Ok(p.finish())
}

struct Parse<'f, 'a> {
    fs: &'f Ext4<'a>,
    ino: u64,
    filetype: bool,
    deleted: bool,
    htree: bool,
    /// The directory's checksum seed (metadata_csum).
    seed: Option<u32>,
    live: Vec<DirEntry>,
    dead: Vec<DirEntry>,
}

/// rec_len as stored, decoded for 64 KiB blocks (where 65536 does not fit).
fn rec_len(raw: u16, block_len: usize) -> usize {
    if block_len < 65536 {
        usize::from(raw)
    } else if raw == 65535 || raw == 0 {
        65536
    } else {
        usize::from(raw & 65532) | usize::from(raw & 3) << 16
    }
}

/// The length an entry with an `name_len`-byte name really needs.
fn real_len(name_len: usize) -> usize {
    (8 + name_len + 3) & !3
}

fn kind_of(ft: u8) -> Option<FileKind> {
    Some(match ft {
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

/// A name a directory could hold (no NUL, no '/', not "." or "..").
fn name_ok(name: &[u8]) -> bool {
    !name.is_empty() && name != b"." && name != b".." && !name.iter().any(|&c| c == 0 || c == b'/')
}

/// Whether an htree index block's dx_tail checksum holds (`None`: no room
/// for a tail, or count/limit unreadable).
fn dx_checksum_ok(b: &[u8], count_at: usize, seed: u32) -> Option<bool> {
    let limit = usize::from(le_u16(b, count_at)?);
    let count = usize::from(le_u16(b, count_at + 2)?);
    let tail = count_at + 8 * limit;
    if count > limit || tail + 8 > b.len() {
        return None;
    }
    let c = csum::crc32c_parts(
        seed,
        &[
            b.get(..count_at + 8 * count)?,
            b.get(tail..tail + 4)?,
            &[0; 4],
        ],
    );
    Some(c == le_u32(b, tail + 4)?)
}

impl Parse<'_, '_> {
    fn note(&self, at: u64, message: impl Into<String>) {
        self.fs.notes.push(
            format!("ext4 directory block of inode {}", self.ino),
            at,
            message,
        );
    }

    /// One directory block at absolute offset `at`; `lblk` is its block
    /// number in the directory (`None` for the inline parts).
    fn block(&mut self, b: &[u8], at: u64, lblk: Option<u64>) {
        let len = b.len();
        let first_rec = le_u16(b, 4).map(|r| rec_len(r, len));
        if self.htree
            && lblk.is_some_and(|l| l > 0)
            && le_u32(b, 0) == Some(0)
            && first_rec == Some(len)
            && b.get(6) == Some(&0)
        {
            // An htree index node: one empty entry spanning the block.
            if let Some(seed) = self.seed {
                if dx_checksum_ok(b, DX_NODE_COUNT_AT, seed) == Some(false) {
                    self.note(at, "htree index block checksum mismatch");
                }
            }
            return;
        }
        let dx_root = self.htree && lblk == Some(0);
        if dx_root {
            // ".." spans the rest of the block; the dx_root hides in it.
            let info_ok = le_u32(b, 24) == Some(0) && b.get(29) == Some(&8);
            if let (Some(seed), true) = (self.seed, info_ok) {
                if dx_checksum_ok(b, DX_ROOT_COUNT_AT, seed) == Some(false) {
                    self.note(at, "htree root block checksum mismatch");
                }
            }
        }
        let has_tail = lblk.is_some()
            && len >= TAIL_LEN
            && le_u32(b, len - TAIL_LEN) == Some(0)
            && le_u16(b, len - TAIL_LEN + 4) == Some(TAIL_LEN as u16)
            && b.get(len - TAIL_LEN + 6..len - TAIL_LEN + 8) == Some(&[0, 0xDE][..]);
        if has_tail && !dx_root {
            if let Some(seed) = self.seed {
                let stored = le_u32(b, len - 4);
                if Some(csum::crc32c_raw(seed, &b[..len - TAIL_LEN])) != stored {
                    self.note(
                        at,
                        "directory block checksum mismatch (entries used anyway)",
                    );
                }
            }
        }
        let end = if has_tail { len - TAIL_LEN } else { len };
        let limit = self.fs.sb.inode_limit();
        let mut off = 0;
        while off < end {
            let (Some(ino), Some(raw_rec), Some(&nl), Some(&ft)) = (
                le_u32(b, off),
                le_u16(b, off + 4),
                b.get(off + 6),
                b.get(off + 7),
            ) else {
                self.note(at + off as u64, "entry header cut by the end of the block");
                return;
            };
            let rec = rec_len(raw_rec, len);
            let nl = usize::from(nl);
            if rec < 12
                || !rec.is_multiple_of(4)
                || off + rec > end
                || 8 + nl > rec
                || (ino != 0 && nl == 0)
                || u64::from(ino) > limit
            {
                self.note(
                    at + off as u64,
                    format!(
                        "impossible entry (inode {ino}, rec_len {rec}, name_len {nl}); rest of the block skipped"
                    ),
                );
                return;
            }
            let name = &b[off + 8..off + 8 + nl];
            let kind = if self.filetype { kind_of(ft) } else { None };
            if ino != 0 {
                if name != b"." && name != b".." {
                    self.live.push(DirEntry {
                        name: name.to_vec(),
                        ino: u64::from(ino),
                        kind,
                        deleted: false,
                    });
                }
            } else if self.deleted && name_ok(name) {
                // The first entry of a block, unlinked: its inode cleared.
                self.dead.push(DirEntry {
                    name: name.to_vec(),
                    ino: 0,
                    kind,
                    deleted: true,
                });
            }
            if self.deleted && !dx_root {
                self.slack(b, off + real_len(nl), off + rec);
            }
            off += rec;
        }
    }

    /// Entries hidden in `from..to` (the slack after a live entry).
    fn slack(&mut self, b: &[u8], mut from: usize, to: usize) {
        while from + 12 <= to {
            match self.deleted_entry(b, from, to) {
                Some((entry, used)) => {
                    self.dead.push(entry);
                    from += used;
                }
                None => from += 4,
            }
        }
    }

    /// A deleted entry at `p`, whole within the block and its name within
    /// the slack ending at `to`; with the length it really takes.
    fn deleted_entry(&self, b: &[u8], p: usize, to: usize) -> Option<(DirEntry, usize)> {
        let ino = le_u32(b, p)?;
        let rec = rec_len(le_u16(b, p + 4)?, b.len());
        let nl = usize::from(*b.get(p + 6)?);
        let ft = *b.get(p + 7)?;
        if nl == 0
            || p + 8 + nl > to
            || !rec.is_multiple_of(4)
            || rec < real_len(nl)
            || p + rec > b.len()
            || u64::from(ino) > self.fs.sb.inode_limit()
        {
            return None;
        }
        let kind = if self.filetype {
            Some(kind_of(ft)?)
        } else {
            None
        };
        let name = b.get(p + 8..p + 8 + nl)?;
        if !name_ok(name) {
            return None;
        }
        Some((
            DirEntry {
                name: name.to_vec(),
                ino: u64::from(ino),
                kind,
                deleted: true,
            },
            real_len(nl),
        ))
    }

    /// Live entries, then the deleted ones that are not copies of a live
    /// entry (htree splits leave moved entries behind) or of each other.
    fn finish(self) -> Vec<DirEntry> {
        let mut seen: HashSet<(Vec<u8>, u64)> =
            self.live.iter().map(|e| (e.name.clone(), e.ino)).collect();
        let mut out = self.live;
        for e in self.dead {
            if seen.insert((e.name.clone(), e.ino)) {
                out.push(e);
            }
        }
        out
    }
}
