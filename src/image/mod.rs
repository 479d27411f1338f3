//! The input image: a raw disk image, a block device, a single `.ibd` /
//! `ibdata1` file, or a qcow2 snapshot ([`qcow2`], detected by its magic).
//! Opened read-only and never written.
//!
//! Two ways to read it:
//! * memory-mapped (default): the scanner reads pages in place, no copies;
//! * `pread` (`--no-mmap`): for failing devices, where a mapped read of a bad
//!   sector is a SIGBUS. Sectors that fail to read are zero-filled and recorded
//!   as holes (unreadable ranges), so the run goes on.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

pub mod memory;
pub mod overlay;
pub mod qcow2;
pub mod sha256;

/// The sector size: the granularity of the scan and of unreadable ranges.
pub const SECTOR: u64 = 512;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("cannot open image {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot map image {path}: {source}")]
    Map { path: PathBuf, source: io::Error },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    #[error("{path}: range {offset}+{length} lies outside the image ({size} bytes)")]
    Range {
        path: PathBuf,
        offset: u64,
        length: u64,
        size: u64,
    },
}

/// How to read the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    Mmap,
    Pread,
}

/// A read-only view of the input.
pub struct Image {
    path: PathBuf,
    file: File,
    size: u64,
    map: Option<Mmap>,
    /// Set for a qcow2 image: `size` is its virtual size and every read goes
    /// through its cluster map.
    qcow2: Option<qcow2::Qcow2>,
    /// Files read through their block maps, at virtual offsets above `size`.
    overlay: std::sync::OnceLock<overlay::Overlay>,
    /// Pages made in memory (redo applied), at [`memory::BASE`].
    memory: std::sync::OnceLock<memory::Memory>,
    /// Bytes mapped by small reads since the map was last released.
    touched: std::sync::atomic::AtomicUsize,
}

/// Small reads (pages, headers: random access) map at most this much
/// (counted in the kernel's fault-around blocks of 64 KiB) before the map
/// is released ([`Image::release_all`]): the resident map of recovery stays
/// bounded whatever it reads. Large reads are the scanner's, which releases
/// each chunk itself.
const RELEASE_AFTER: usize = 128 << 20;

impl Image {
    /// Opens `path` read-only. A zero-length file is a valid (empty) image.
    pub fn open(path: &Path, mode: ReadMode) -> Result<Image, ImageError> {
        Image::open_with(path, mode, None)
    }

    /// Opens `path` read-only; a qcow2 image (by its magic) is read through
    /// its cluster map, with `backing` as its backing file when given.
    pub fn open_with(
        path: &Path,
        mode: ReadMode,
        backing: Option<&Path>,
    ) -> Result<Image, ImageError> {
        let file = File::open(path).map_err(|source| ImageError::Open {
            path: path.to_owned(),
            source,
        })?;
        // Block devices report 0 in metadata; seeking to the end works for both.
        let size = {
            use std::io::Seek;
            let mut f = &file;
            f.seek(io::SeekFrom::End(0))
                .map_err(|source| ImageError::Open {
                    path: path.to_owned(),
                    source,
                })?
        };
        let mut magic = [0u8; 4];
        if size >= 4 && read_full(&file, &mut magic, 0).is_ok() && magic == qcow2::MAGIC {
            let backing = match backing {
                Some(b) => Some(Box::new(Image::open_with(b, mode, None)?)),
                None => None,
            };
            let q = qcow2::Qcow2::open(
                file.try_clone().map_err(|source| ImageError::Open {
                    path: path.to_owned(),
                    source,
                })?,
                path,
                backing,
            )?;
            return Ok(Image {
                path: path.to_owned(),
                file,
                size: q.size(),
                map: None,
                qcow2: Some(q),
                overlay: Default::default(),
                memory: Default::default(),
                touched: Default::default(),
            });
        }
        let map = if mode == ReadMode::Mmap && size > 0 {
            // SAFETY: the mapping is read-only and private to this process.
            // The one hazard of mapping a file is that another process may
            // truncate or modify it while mapped; salvage's inputs are images
            // of broken disks that nothing else writes, and the documented
            // remedy for a device that fails reads (SIGBUS) is `--no-mmap`.
            // This, [`Image::release`] and the SHA-NI call in
            // `sha256/ni.rs` are the only `unsafe` in the crate.
            let m = unsafe { memmap2::MmapOptions::new().len(size as usize).map(&file) }.map_err(
                |source| ImageError::Map {
                    path: path.to_owned(),
                    source,
                },
            )?;
            let _ = m.advise(memmap2::Advice::Sequential);
            Some(m)
        } else {
            None
        };
        Ok(Image {
            path: path.to_owned(),
            file,
            size,
            map,
            qcow2: None,
            overlay: Default::default(),
            memory: Default::default(),
            touched: Default::default(),
        })
    }

    /// Places `files` at virtual offsets above the image (once; later calls
    /// are ignored) and returns the overlay that says where each one lies.
    pub fn attach_files(&self, files: Vec<overlay::FileRuns>) -> &overlay::Overlay {
        self.overlay
            .get_or_init(|| overlay::Overlay::new(self.size, files))
    }

    /// The attached files, if any.
    pub fn overlay(&self) -> Option<&overlay::Overlay> {
        self.overlay.get()
    }

    /// Places `data` at [`memory::BASE`] (once; later calls are ignored)
    /// and returns the region.
    pub fn attach_memory(&self, data: Vec<u8>) -> &memory::Memory {
        self.memory.get_or_init(|| memory::Memory { data })
    }

    /// The memory region, if any.
    pub fn memory(&self) -> Option<&memory::Memory> {
        self.memory.get()
    }

    /// Virtual bytes `off..off+len` of an attached file (zeros in its holes;
    /// clipped at the end of the file) or of the memory region.
    fn read_virtual<'a>(&self, off: u64, len: usize, buf: &'a mut Vec<u8>) -> &'a [u8] {
        buf.clear();
        if off >= memory::BASE {
            if let Some(m) = self.memory.get() {
                buf.extend_from_slice(m.get(off, len));
            }
            return &buf[..];
        }
        let Some(o) = self.overlay.get() else {
            return &buf[..];
        };
        let Some((i, foff)) = o.locate(off) else {
            return &buf[..];
        };
        let n = (len as u64).min(o.files[i].size - foff) as usize;
        buf.resize(n, 0);
        for (phys, at, l) in o.runs(off, n) {
            let b = self.bytes(phys, l);
            buf[at..at + b.len()].copy_from_slice(&b);
        }
        &buf[..]
    }

    /// The qcow2 reader when the image is a qcow2 file.
    pub fn qcow2(&self) -> Option<&qcow2::Qcow2> {
        self.qcow2.as_ref()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn mode(&self) -> ReadMode {
        if self.map.is_some() {
            ReadMode::Mmap
        } else {
            ReadMode::Pread
        }
    }

    /// Checks that `offset..offset+length` lies in the image.
    pub fn check_range(&self, offset: u64, length: u64) -> Result<(), ImageError> {
        match offset.checked_add(length) {
            Some(end) if end <= self.size => Ok(()),
            _ => Err(ImageError::Range {
                path: self.path.clone(),
                offset,
                length,
                size: self.size,
            }),
        }
    }

    /// The bytes `off..off+len`, clipped to the end of the image.
    ///
    /// With a map this borrows the mapped bytes. Without, it reads into `buf`;
    /// sectors that cannot be read are zero-filled and pushed onto `holes` as
    /// `(offset, length)`.
    pub fn read<'a>(
        &'a self,
        off: u64,
        len: usize,
        buf: &'a mut Vec<u8>,
        holes: &mut Vec<(u64, u64)>,
    ) -> &'a [u8] {
        if off >= self.size {
            return self.read_virtual(off, len, buf);
        }
        let len = (len as u64).min(self.size - off) as usize;
        if let Some(map) = &self.map {
            let start = off as usize;
            return &map[start..start + len];
        }
        buf.clear();
        buf.resize(len, 0);
        if let Some(q) = &self.qcow2 {
            q.read_at(off, &mut buf[..], holes);
            return &buf[..];
        }
        if read_full(&self.file, &mut buf[..], off).is_err() {
            // Retry sector by sector; record what stays unreadable.
            let mut pos = 0usize;
            while pos < len {
                let n = (SECTOR as usize - ((off as usize + pos) % SECTOR as usize)).min(len - pos);
                if read_full(&self.file, &mut buf[pos..pos + n], off + pos as u64).is_err() {
                    buf[pos..pos + n].fill(0);
                    let at = off + pos as u64;
                    match holes.last_mut() {
                        Some((s, l)) if *s + *l == at => *l += n as u64,
                        _ => holes.push((at, n as u64)),
                    }
                }
                pos += n;
            }
        }
        &buf[..]
    }

    /// The bytes `off..off+len` (clipped to the image), borrowed from the map
    /// or read. Unreadable sectors read as zeros.
    pub fn bytes(&self, off: u64, len: usize) -> std::borrow::Cow<'_, [u8]> {
        if off >= self.size {
            let mut buf = Vec::new();
            let n = self.read_virtual(off, len, &mut buf).len();
            buf.truncate(n);
            return std::borrow::Cow::Owned(buf);
        }
        if let Some(map) = &self.map {
            let start = off.min(self.size) as usize;
            let end = start + len.min(map.len() - start);
            if len < 1 << 20 {
                use std::sync::atomic::Ordering::Relaxed;
                let n = len.max(64 << 10);
                if self.touched.fetch_add(n, Relaxed) + n >= RELEASE_AFTER {
                    self.touched.store(0, Relaxed);
                    self.release_all();
                }
            }
            return std::borrow::Cow::Borrowed(&map[start..end]);
        }
        let mut buf = Vec::new();
        let mut holes = Vec::new();
        let n = self.read(off, len, &mut buf, &mut holes).len();
        buf.truncate(n);
        std::borrow::Cow::Owned(buf)
    }

    /// Asks the kernel to map `off..off+len` in one go (MADV_POPULATE_READ)
    /// before the scanner reads it: far cheaper than one page fault per
    /// 4 KiB. A no-op without a map or on kernels that lack it.
    pub fn prefetch(&self, off: u64, len: usize) {
        if let Some(map) = &self.map {
            let start = off.min(self.size) as usize;
            let len = len.min(map.len() - start);
            let _ = map.advise_range(memmap2::Advice::PopulateRead, start, len);
        }
    }

    /// Tells the kernel that `off..off+len` has been scanned (MADV_DONTNEED):
    /// it unmaps those pages, so the resident mapped memory does not grow
    /// with the image. The bytes stay readable: a later read of the range
    /// maps them again from the file (the page cache, or the disk). A no-op
    /// without a map.
    pub fn release(&self, off: u64, len: usize) {
        let Some(map) = &self.map else { return };
        if off >= self.size {
            return;
        }
        let start = off as usize;
        let len = len.min(map.len() - start);
        if len == 0 {
            return;
        }
        // SAFETY: MADV_DONTNEED on a read-only file mapping (PROT_READ,
        // MAP_SHARED: memmap2's `map`) drops its page table entries only:
        // nothing was ever written through it, so no page holds bytes the
        // file does not, and the next access of an address maps the same
        // file bytes again from the page cache. So a slice borrowed from
        // the map, here or in another thread, keeps reading the same bytes,
        // under the same one assumption as the map itself (above, in
        // `open_with`): nothing else modifies or truncates the file.
        let _ =
            unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, len) };
    }

    /// [`Image::release`] of the whole map: what was read since stops
    /// counting as resident (the kernel skips the parts never mapped, so
    /// this is cheap on a sparse terabyte too).
    pub fn release_all(&self) {
        self.release(0, usize::MAX);
    }

    /// Ranges of the image that may hold data, from `SEEK_DATA`/`SEEK_HOLE`.
    /// Holes of a sparse image file read as zeros and hold no pages, so the
    /// scanner skips them. Where the file system cannot tell, the whole range.
    pub fn data_ranges(&self, start: u64, end: u64) -> Vec<(u64, u64)> {
        use rustix::fs::{seek, SeekFrom};
        if start >= self.size {
            return vec![(start, end)];
        }
        if let Some(q) = &self.qcow2 {
            return q.data_ranges(start, end);
        }
        let mut out = Vec::new();
        let mut pos = start;
        while pos < end {
            let data = match seek(&self.file, SeekFrom::Data(pos)) {
                Ok(d) => d,
                Err(rustix::io::Errno::NXIO) => break, // no data after pos
                Err(_) => return vec![(start, end)],
            };
            if data >= end {
                break;
            }
            let hole = match seek(&self.file, SeekFrom::Hole(data)) {
                Ok(h) => h.min(end),
                Err(_) => end,
            };
            if hole <= data {
                return vec![(start, end)];
            }
            out.push((data, hole));
            pos = hole;
        }
        out
    }
}

fn read_full(file: &File, mut buf: &mut [u8], mut off: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match file.read_at(buf, off) {
            Ok(0) => {
                // Past the end (the image shrank): the rest reads as zeros.
                buf.fill(0);
                return Ok(());
            }
            Ok(n) => {
                buf = &mut buf[n..];
                off += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// What an input that holds no pages may be instead of a raw disk image,
/// from its first bytes: a hint for the user (`None` when nothing is known).
pub fn container_hint(head: &[u8]) -> Option<&'static str> {
    const KINDS: [(&[u8], &str); 5] = [
        (
            b"\x28\xb5\x2f\xfd",
            "a zstd-compressed file: decompress it first (zstd -d)",
        ),
        (
            b"\x1f\x8b",
            "a gzip-compressed file: decompress it first (gzip -d)",
        ),
        (
            b"\xfd7zXZ\x00",
            "an xz-compressed file: decompress it first (xz -d)",
        ),
        (
            b"BZh",
            "a bzip2-compressed file: decompress it first (bzip2 -d)",
        ),
        (
            b"conectix",
            "a VHD disk image: convert it to raw first (qemu-img convert -O raw IN OUT)",
        ),
    ];
    KINDS
        .iter()
        .find(|(magic, _)| head.starts_with(magic))
        .map(|(_, what)| *what)
}

#[cfg(test)]
mod release_tests {
    use super::{Image, ReadMode};

    /// Released pages read back the same bytes, in this thread and while
    /// another thread holds a slice of them.
    #[test]
    fn released_range_reads_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("img");
        let data: Vec<u8> = (0..4u32 << 20)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        std::fs::write(&p, &data).unwrap();
        let image = Image::open(&p, ReadMode::Mmap).unwrap();
        image.prefetch(0, data.len());
        let held = image.bytes(1 << 20, 1 << 20);
        std::thread::scope(|s| {
            s.spawn(|| {
                image.release(0, data.len());
                image.release(4096 * 3 + 100, 12345); // unaligned: rounded to pages
                image.release(data.len() as u64, 10); // past the end: nothing
            });
        });
        assert_eq!(&held[..], &data[1 << 20..2 << 20]);
        assert_eq!(&image.bytes(0, data.len())[..], &data[..]);
        // Without a map it does nothing.
        let pread = Image::open(&p, ReadMode::Pread).unwrap();
        pread.release(0, 4096);
        assert_eq!(&pread.bytes(4000, 200)[..], &data[4000..4200]);
    }
}

#[cfg(test)]
mod hint_tests {
    use super::container_hint;

    #[test]
    fn known_containers_are_named() {
        assert!(container_hint(b"\x28\xb5\x2f\xfd\x04")
            .unwrap()
            .contains("zstd"));
        assert_eq!(container_hint(b""), None);
        assert_eq!(container_hint(&[0u8; 512]), None);
    }
}
