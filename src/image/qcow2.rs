//! qcow2 images (QEMU's docs/interop/qcow2.txt), read in place through their
//! cluster map: nothing is converted or decompressed to disk.
//!
//! Read: versions 2 and 3, clusters of 512 B..2 MiB, the active L1 table and
//! its L2 tables (standard, "reads as zeros", compressed and extended
//! entries with 32 subclusters), deflate-compressed clusters, and a backing
//! image for unallocated clusters (given by the caller; its name is
//! [`Qcow2::backing_name`]). Internal snapshots are ignored: only the active
//! L1 table is read. Refcounts, bitmaps and the snapshot table are not used.
//!
//! Refused at open with a clear error: encryption, external data files,
//! unknown incompatible features, an L1 table over 32 MiB (QEMU's own limit).
//! zstd-compressed clusters (compression type 1, QEMU 5.1+) are inflated
//! like zlib ones ([`compress::decompress_zstd`]).
//!
//! Damage (entries pointing outside the file, at the header, the L1 table or
//! an L2 table; compressed data that does not inflate to one cluster; a file
//! cut short) reads as zeros, is pushed onto the caller's holes and is
//! recorded once per structure in [`Qcow2::notes`], with its offset.
//!
//! `read_at` runs on many threads at once: the file is read with `pread`,
//! the L1 table stays in memory, and L2 tables and inflated clusters go
//! through two small bounded caches (together at most 64 MiB).

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Image, ImageError};

mod cache;
mod compress;
mod header;
mod l2;
mod notes;
mod ranges;
mod read;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_hostile;

use cache::Cache;
use header::Compression;
use l2::{Entry, Layout, OFFSET_MASK};
use notes::{Kind, Notes};

/// The first four bytes of a qcow2 file.
pub const MAGIC: [u8; 4] = *b"QFI\xfb";

/// The largest L1 table read (QEMU's implementation limit).
const MAX_L1_BYTES: u64 = 32 << 20;
/// The header and its extensions lie in the first cluster (at most 2 MiB).
const MAX_HEAD: u64 = 2 << 20;
/// Cache budgets: decoded L2 tables, inflated clusters.
const L2_CACHE_BYTES: usize = 32 << 20;
const L2_CACHE_ENTRIES: usize = 4096;
const CLUSTER_CACHE_BYTES: usize = 32 << 20;
const CLUSTER_CACHE_ENTRIES: usize = 1024;
/// Notes kept (one per damaged structure); the rest are counted.
const MAX_NOTES: usize = 1000;

/// An L1 slot whose L2 table cannot be used.
const L1_DAMAGED: u64 = u64::MAX;

/// A loaded L2 table: its entries, decoded and checked.
struct L2Table {
    entries: Vec<Entry>,
}

pub struct Qcow2 {
    path: PathBuf,
    file: File,
    size: u64,
    compression: Compression,
    lay: Layout,
    /// L2 table offset per L1 slot: 0 unallocated, [`L1_DAMAGED`] unusable.
    l1: Vec<u64>,
    l2_cache: Cache<L2Table>,
    /// Inflated compressed clusters by host offset; `None`: damaged.
    clusters: Cache<Option<Vec<u8>>>,
    backing: Option<Box<Image>>,
    backing_name: Option<String>,
    backing_format: Option<String>,
    notes: Notes,
}

impl Qcow2 {
    /// Reads the header and the L1 table of the qcow2 file `file`.
    pub fn open(file: File, path: &Path, backing: Option<Box<Image>>) -> Result<Qcow2, ImageError> {
        let fmt = |message: String| ImageError::Format {
            path: path.to_owned(),
            message: format!("qcow2: {message}"),
        };
        let io_err = |source: io::Error| ImageError::Open {
            path: path.to_owned(),
            source,
        };
        let file_size = {
            use std::io::Seek;
            (&file).seek(io::SeekFrom::End(0)).map_err(io_err)?
        };
        let mut head = vec![0u8; file_size.min(MAX_HEAD) as usize];
        super::read_full(&file, &mut head, 0).map_err(io_err)?;
        let h = header::parse(&head).map_err(fmt)?;
        let notes = Notes::default();
        for n in &h.notes {
            notes.add(Kind::Header, 0, || n.clone());
        }
        let cluster = 1u64 << h.cluster_bits;

        let backing_name = if h.backing_offset != 0 && h.backing_len > 0 {
            if h.backing_len > 1023 {
                notes.add(Kind::Header, 16, || {
                    format!(
                        "qcow2: backing file name length {} (offset 16) is over 1023; ignored",
                        h.backing_len
                    )
                });
                None
            } else {
                let mut name = vec![0u8; h.backing_len as usize];
                match super::read_full(&file, &mut name, h.backing_offset) {
                    Ok(()) => Some(String::from_utf8_lossy(&name).into_owned()),
                    Err(_) => None,
                }
            }
        } else {
            None
        };
        match (&backing_name, &backing) {
            (Some(name), None) => notes.add(Kind::Header, 8, || {
                format!(
                    "qcow2: backing file {name:?} (named at offset {:#x}) not given: its \
                     clusters read as zeros (open it with a backing image, or qemu-img \
                     convert -O raw)",
                    h.backing_offset
                )
            }),
            (None, Some(_)) => notes.add(Kind::Header, 8, || {
                "qcow2: a backing image was given but the header names none (offset 8 \
                 is 0); it is used for unallocated clusters"
                    .into()
            }),
            _ => {}
        }

        // The L1 table, capped by what the virtual size needs.
        let mut lay = Layout {
            cluster_bits: h.cluster_bits,
            extended: h.extended_l2,
            zero_flag: h.version >= 3 && !h.extended_l2,
            file_size,
            l1: (0, 0),
            l2_starts: Vec::new(),
        };
        let span = cluster * lay.l2_entries();
        let needed = h.size.div_ceil(span);
        let declared = u64::from(h.l1_size);
        if declared * 8 > MAX_L1_BYTES {
            return Err(fmt(format!(
                "L1 table of {declared} entries (offset 36) is over {} MiB",
                MAX_L1_BYTES >> 20
            )));
        }
        if declared < needed {
            notes.add(Kind::Header, 36, || {
                format!(
                    "qcow2: the L1 table has {declared} entries (offset 36), the virtual size needs \
                     {needed}: the rest is unallocated"
                )
            });
        }
        let n = declared.min(needed);
        let l1_off = h.l1_offset;
        if n > 0 && l1_off >= file_size {
            return Err(fmt(format!(
                "the L1 table (offset {l1_off:#x}) lies past the end of the file \
                 ({file_size} bytes): no cluster can be found"
            )));
        }
        if l1_off % cluster != 0 {
            notes.add(Kind::Header, 40, || {
                format!("qcow2: the L1 table offset {l1_off:#x} is not cluster-aligned")
            });
        }
        lay.l1 = (l1_off, l1_off.saturating_add(declared * 8));
        // Only what the file holds is read; entries past its end are lost.
        let mut raw = vec![0u8; (n * 8).min(file_size.saturating_sub(l1_off)) as usize];
        let got = read_upto(&file, &mut raw, l1_off).map_err(io_err)? as u64 / 8;
        if got < n {
            notes.add(Kind::Header, l1_off, || {
                format!(
                    "qcow2: the L1 table at {l1_off:#x} is cut short by the end of the file: \
                     {} of {n} entries are lost",
                    n - got
                )
            });
        }
        let mut l1 = vec![L1_DAMAGED; n as usize];
        for (i, e) in raw.chunks_exact(8).enumerate() {
            let at = l1_off + i as u64 * 8;
            let word = u64::from_be_bytes(e.try_into().unwrap_or_default());
            let off = word & OFFSET_MASK;
            if off == 0 {
                l1[i] = 0;
                continue;
            }
            let why = if !off.is_multiple_of(cluster) {
                Some("not aligned to a cluster")
            } else {
                lay.bad_host(off, cluster, false)
            };
            if let Some(why) = why {
                notes.add(Kind::L1, at, || {
                    format!(
                        "qcow2: L1 entry {i} (at {at:#x}) names an L2 table at {off:#x}, {why}: \
                         virtual {:#x}..{:#x} reads as zeros",
                        i as u64 * span,
                        (i as u64 + 1) * span
                    )
                });
            } else {
                l1[i] = off;
            }
        }
        lay.l2_starts = l1
            .iter()
            .copied()
            .filter(|&o| o != 0 && o != L1_DAMAGED)
            .collect();
        lay.l2_starts.sort_unstable();
        lay.l2_starts.dedup();

        Ok(Qcow2 {
            path: path.to_owned(),
            file,
            size: h.size,
            compression: h.compression,
            lay,
            l1,
            l2_cache: Cache::new(L2_CACHE_BYTES, L2_CACHE_ENTRIES),
            clusters: Cache::new(CLUSTER_CACHE_BYTES, CLUSTER_CACHE_ENTRIES),
            backing,
            backing_name,
            backing_format: h.backing_format,
            notes,
        })
    }

    /// The virtual disk size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The cluster size in bytes.
    pub fn cluster_size(&self) -> u64 {
        self.lay.cluster()
    }

    /// The backing file name stored in the header, if any (as written: often
    /// relative to the image's directory).
    pub fn backing_name(&self) -> Option<String> {
        self.backing_name.clone()
    }

    /// The backing file's format from the header extension, if any.
    pub fn backing_format(&self) -> Option<String> {
        self.backing_format.clone()
    }

    /// What was odd or damaged, each naming its offset in the qcow2 file (or
    /// the virtual offset), once per structure.
    pub fn notes(&self) -> Vec<String> {
        let g = self.notes.lock();
        let mut v = g.list.clone();
        if g.dropped > 0 {
            v.push(format!(
                "qcow2: {} further reports of damage not kept",
                g.dropped
            ));
        }
        v
    }

    /// Bytes of guest address space one L1 entry covers.
    fn span(&self) -> u64 {
        self.lay.cluster() * self.lay.l2_entries()
    }

    /// The L2 table of L1 slot `i` (`None`: unallocated slot).
    fn table(&self, i: usize) -> Option<Arc<L2Table>> {
        let off = *self.l1.get(i)?;
        if off == 0 {
            return None;
        }
        if off == L1_DAMAGED {
            return Some(Arc::new(L2Table {
                entries: Vec::new(),
            }));
        }
        if let Some(t) = self.l2_cache.get(off) {
            return Some(t);
        }
        let mut raw = vec![0u8; self.lay.cluster() as usize];
        let got = match read_upto(&self.file, &mut raw, off) {
            Ok(n) => n,
            Err(e) => {
                self.notes.add(Kind::L2, off, || {
                    format!("qcow2: the L2 table at {off:#x} cannot be read ({e})")
                });
                0
            }
        };
        let mut damage = l2::Damage::default();
        let entries = l2::decode(&raw[..got], &self.lay, &mut damage);
        let span = self.span();
        let c = self.lay.cluster();
        if let Some((e, host, why)) = damage.first {
            let eb = self.lay.entry_bytes() as u64;
            self.notes.add(Kind::L2, off, || {
                let v = i as u64 * span + e * c;
                format!(
                    "qcow2: L2 table at {off:#x}: {} damaged entr{}, the first (entry {e} at \
                     {:#x}, virtual {v:#x}) points at {host:#x}, {why}: read as zeros",
                    damage.count,
                    if damage.count == 1 { "y" } else { "ies" },
                    off + e * eb
                )
            });
        }
        if damage.short > 0 {
            self.notes.add(Kind::Short, off, || {
                format!(
                    "qcow2: L2 table at {off:#x}: {} data cluster(s) run past the end of the \
                     file ({} bytes): the missing part reads as zeros",
                    damage.short, self.lay.file_size
                )
            });
        }
        let bytes = entries.len() * std::mem::size_of::<Entry>() + 64;
        Some(self.l2_cache.insert(off, L2Table { entries }, bytes))
    }

    /// The entry of guest cluster `vc`, reusing `cur` (the last table) when
    /// it covers `vc`.
    fn entry(&self, vc: u64, cur: &mut Option<(u64, Option<Arc<L2Table>>)>) -> Entry {
        let per = self.lay.l2_entries();
        let i = vc / per;
        if i >= self.l1.len() as u64 {
            return Entry::Unallocated;
        }
        let t = match cur {
            Some((ci, t)) if *ci == i => t,
            _ => &mut cur.insert((i, self.table(i as usize))).1,
        };
        match t {
            None => Entry::Unallocated,
            Some(t) => t
                .entries
                .get((vc % per) as usize)
                .copied()
                .unwrap_or(Entry::Damaged),
        }
    }

    /// The inflated compressed cluster at `host` (`None`: damaged, noted).
    fn inflated(&self, host: u64, len: u32, v: u64) -> Option<Arc<Option<Vec<u8>>>> {
        if let Some(c) = self.clusters.get(host) {
            return Some(c);
        }
        let c = self.lay.cluster() as usize;
        let len = (u64::from(len)).min(self.lay.file_size.saturating_sub(host)) as usize;
        let mut src = vec![0u8; len];
        let result = match read_upto(&self.file, &mut src, host) {
            Ok(n) => compress::decompress(self.compression, &src[..n], c),
            Err(e) => Err(format!("cannot be read ({e})")),
        };
        let value = match result {
            Ok(data) => Some(data),
            Err(why) => {
                let vc = v & !(c as u64 - 1);
                self.notes.add(Kind::Compressed, host, || {
                    format!(
                        "qcow2: compressed cluster at {host:#x} (virtual {vc:#x}) {why}: \
                         read as zeros"
                    )
                });
                None
            }
        };
        let bytes = value.as_ref().map_or(64, |d| d.len() + 64);
        Some(self.clusters.insert(host, value, bytes))
    }
}

impl std::fmt::Debug for Qcow2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Qcow2")
            .field("path", &self.path)
            .field("size", &self.size)
            .field("cluster", &self.lay.cluster())
            .finish()
    }
}

/// Reads up to `buf.len()` bytes at `off`; returns how many (fewer at the
/// end of the file). The rest of `buf` is zeroed.
fn read_upto(file: &File, buf: &mut [u8], off: u64) -> io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], off.saturating_add(done as u64)) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf[done..].fill(0);
    Ok(done)
}
