//! Pages read through the files that hold them.
//!
//! The raw pass finds every page whose bytes lie together on the disk. A
//! page of a fragmented tablespace file that straddles two fragments (or an
//! ext4 extent-tree block) is not together anywhere on the disk, but it is
//! in the file. This stage:
//!
//! 1. picks the InnoDB files from the layout (by name, or because their
//!    first page is an FSP header page),
//! 2. attaches them to the image as virtual address space
//!    ([`crate::image::overlay`]) and scans only the windows around each
//!    fragment boundary, so the cost is bounded by the number of fragments,
//!    not the size of the files,
//! 3. keeps the pages found there that really straddle a boundary, and drops
//!    the raw pass's broken halves of those same pages,
//! 4. keeps, for every page found, which file and file page it is
//!    ([`FileIndex`]), so `scan` and `recover` can name files.

use serde::Serialize;

use crate::carve::detect::MAX_PAGE;
use crate::carve::scan::{self, ScanOutput};
use crate::carve::{PageRecord, Status};
use crate::image::overlay::{FileRuns, Overlay};
use crate::image::{Image, SECTOR};
use crate::innodb::fil;
use crate::layout::files::{self, Found};
use crate::layout::Layout;

/// A file of the filesystem that holds (or may hold) InnoDB pages.
#[derive(Debug, Clone, Serialize)]
pub struct TablespaceFile {
    /// Path in its filesystem, from `/`.
    pub path: String,
    pub partition: u32,
    pub fs: &'static str,
    pub inode: u64,
    pub size: u64,
    /// Fragments: runs of the file that are not physically adjacent.
    pub fragments: usize,
    /// Space id from the file's first page, when it reads as one.
    pub space_id: Option<u32>,
    #[serde(skip)]
    pub runs: Vec<(u64, u64, u64)>,
}

/// Names InnoDB uses for its files.
fn innodb_name(name: &[u8]) -> bool {
    name.ends_with(b".ibd")
        || name.ends_with(b".ibu")
        || name.starts_with(b"ibdata")
        || name.starts_with(b"undo")
        || name == b"mysql.ibd"
        || name.starts_with(b"ibtmp")
}

/// Every InnoDB file of every filesystem in the layout.
pub fn innodb_files(layout: &Layout, image: &Image) -> Vec<TablespaceFile> {
    let mut out = Vec::new();
    files::each_regular_file(layout, &mut |vol, f: &Found, inode| {
        if inode.size < 1024 || inode.inline.is_some() {
            return;
        }
        let mut head = [0u8; 64];
        files::read_at(image, inode, 0, &mut head);
        let fsp = crate::bytes::be_u32(&head, fil::FIL_PAGE_OFFSET) == Some(0)
            && crate::bytes::be_u16(&head, fil::FIL_PAGE_TYPE) == Some(fil::FIL_PAGE_TYPE_FSP_HDR);
        if !fsp && !innodb_name(&f.entry.name) {
            return;
        }
        let runs = files::runs(inode, 0, inode.size);
        let fragments = runs
            .windows(2)
            .filter(|w| w[0].1.saturating_add(w[0].2) != w[1].1)
            .count()
            + 1;
        out.push(TablespaceFile {
            path: files::lossy(&f.path),
            partition: vol.partition.number,
            fs: vol.fs.kind(),
            inode: inode.ino,
            size: inode.size,
            fragments,
            space_id: fsp
                .then(|| crate::bytes::be_u32(&head, fil::FIL_PAGE_SPACE_ID))
                .flatten(),
            runs,
        });
    });
    out
}

/// Where each page of the store lies in the files: the reverse block map.
#[derive(Debug, Default)]
pub struct FileIndex {
    pub files: Vec<TablespaceFile>,
    /// `(image_offset, len, file index, file_offset)`, sorted by image offset.
    extents: Vec<(u64, u64, u32, u64)>,
    /// Virtual start of each file (see [`Overlay`]), when attached.
    virt_starts: Vec<u64>,
    virt_base: u64,
    /// File index by the space id its first page names (the first such file).
    by_space: std::collections::BTreeMap<u32, usize>,
}

impl FileIndex {
    pub fn new(files: Vec<TablespaceFile>, overlay: Option<&Overlay>) -> FileIndex {
        let mut extents = Vec::new();
        for (i, f) in files.iter().enumerate() {
            for &(fo, io, l) in &f.runs {
                extents.push((io, l, i as u32, fo));
            }
        }
        extents.sort_unstable();
        let mut by_space = std::collections::BTreeMap::new();
        for (i, f) in files.iter().enumerate() {
            if let Some(s) = f.space_id {
                by_space.entry(s).or_insert(i);
            }
        }
        FileIndex {
            by_space,
            files,
            extents,
            virt_starts: overlay.map(|o| o.starts.clone()).unwrap_or_default(),
            virt_base: overlay.map_or(u64::MAX, |o| o.base),
        }
    }

    /// The file and byte offset in it of image (or virtual) offset `off`.
    pub fn locate(&self, off: u64) -> Option<(usize, u64)> {
        if off >= self.virt_base {
            let i = self
                .virt_starts
                .partition_point(|&s| s <= off)
                .checked_sub(1)?;
            let fo = off - self.virt_starts[i];
            return (fo < self.files[i].size).then_some((i, fo));
        }
        let k = self
            .extents
            .partition_point(|e| e.0 <= off)
            .checked_sub(1)?;
        let (io, l, i, fo) = self.extents[k];
        (off < io.saturating_add(l)).then_some((i as usize, fo.saturating_add(off - io)))
    }

    /// `(path, file page number)` of a page copy, when a file holds it.
    pub fn page_file(&self, p: &PageRecord) -> Option<(&TablespaceFile, u64)> {
        let (i, fo) = self.locate(p.offset)?;
        let size = file_size(p);
        (size != 0).then(|| (&self.files[i], fo / u64::from(size)))
    }

    /// The file whose first page names `space_id`.
    pub fn file_of_space(&self, space_id: u32) -> Option<&TablespaceFile> {
        self.by_space.get(&space_id).map(|&i| &self.files[i])
    }

    /// Whether offset `off` was read through a file's block map (not found
    /// in place on the disk).
    pub fn is_virtual(&self, off: u64) -> bool {
        off >= self.virt_base
    }
}

/// The bytes a page copy takes in its file: a sparse page found on disk is
/// shorter there by the zero blocks the carver put back.
fn file_size(p: &PageRecord) -> u32 {
    match p.reason {
        crate::carve::Reason::Holes { mask, granularity } => {
            p.phys_size + mask.count_ones() * granularity
        }
        _ if p.phys_size == 0 => p.logical_size,
        _ => p.phys_size,
    }
}

/// The windows of virtual address space to scan: around every place where a
/// file's next byte is not the physically next byte (a fragment boundary or
/// a hole), `MAX_PAGE` bytes either side. `(chunk_start, chunk_end, window_end)`.
pub fn boundary_windows(files: &[TablespaceFile], overlay: &Overlay) -> Vec<(u64, u64, u64)> {
    let max = MAX_PAGE as u64;
    let mut out: Vec<(u64, u64, u64)> = Vec::new();
    for (f, &vstart) in files.iter().zip(&overlay.starts) {
        let mut boundaries = Vec::new();
        let mut prev_end: Option<(u64, u64)> = None; // (file end, image end)
        for &(fo, io, l) in &f.runs {
            match prev_end {
                Some((fe, ie)) if fe == fo && ie == io => {}
                Some(_) => boundaries.push(fo),
                None if fo > 0 => boundaries.push(fo),
                None => {}
            }
            prev_end = Some((fo.saturating_add(l), io.saturating_add(l)));
        }
        if let Some((fe, _)) = prev_end {
            if fe < f.size {
                boundaries.push(fe);
            }
        }
        for b in boundaries {
            // Pages start on the sector grid of the file.
            let s = b.saturating_sub(max) / SECTOR * SECTOR;
            let (c0, c1, end) = (vstart + s, vstart + b, vstart + (b + max).min(f.size));
            match out.last_mut() {
                Some(last) if last.1 >= c0 && last.0 <= c0 => {
                    last.1 = last.1.max(c1);
                    last.2 = last.2.max(end);
                }
                _ => out.push((c0, c1, end)),
            }
        }
    }
    out
}

/// Whether the page at virtual `off` lies in one physical run (then the raw
/// pass found it in place, and this copy is the same bytes).
fn contiguous(overlay: &Overlay, off: u64, len: u32) -> bool {
    let runs = overlay.runs(off, len as usize);
    runs.len() == 1 && runs[0].2 == len as usize
}

/// Scans the boundary windows of the attached files and merges what only
/// they hold into `raw`: straddling pages are added, and the raw pass's
/// broken halves of those same pages (same space, page and LSN) dropped.
pub fn merge_file_pages(
    image: &Image,
    overlay: &Overlay,
    files: &[TablespaceFile],
    raw: &mut ScanOutput,
) {
    let windows = boundary_windows(files, overlay);
    if windows.is_empty() {
        return;
    }
    let found = scan::scan_windows(image, &windows, &|_| {});
    let good = |p: &PageRecord| p.status != Status::Damaged;
    let straddling: Vec<PageRecord> = found
        .pages
        .into_iter()
        .filter(|p| !contiguous(overlay, p.offset, p.phys_size))
        .collect();
    // The raw pass's broken halves of these pages (same space, page and
    // LSN) are dropped: the whole page is here.
    let mut healed: Vec<(u32, u32, u64)> = straddling
        .iter()
        .filter(|p| good(p))
        .map(|p| (p.space_id, p.page_no, p.lsn))
        .collect();
    healed.sort_unstable();
    healed.dedup();
    // A sparse page the raw pass already reassembled in place (its first
    // byte where the file's is) is the same copy: not added twice.
    let mut in_place: Vec<(u32, u32, u64, u64)> = raw
        .pages
        .iter()
        .filter(|p| good(p))
        .map(|p| (p.space_id, p.page_no, p.lsn, p.offset))
        .collect();
    in_place.sort_unstable();
    let first_byte = |off: u64| overlay.runs(off, 1).first().map_or(off, |r| r.0);
    let mut added: Vec<PageRecord> = straddling
        .into_iter()
        .filter(|p| {
            in_place
                .binary_search(&(p.space_id, p.page_no, p.lsn, first_byte(p.offset)))
                .is_err()
        })
        .collect();
    added.sort_by_key(|p| p.offset);
    added.dedup_by_key(|p| p.offset);
    let is_healed = |p: &PageRecord| {
        healed
            .binary_search(&(p.space_id, p.page_no, p.lsn))
            .is_ok()
    };
    raw.pages.retain(|p| good(p) || !is_healed(p));
    raw.candidates.retain(|c| !is_healed(&c.rec));
    raw.pages.extend(added);
    raw.pages.sort_by_key(|p| p.offset);
    raw.candidates.extend(
        found
            .candidates
            .into_iter()
            .filter(|c| !contiguous(overlay, c.rec.offset, MAX_PAGE as u32) && !is_healed(&c.rec)),
    );
    raw.candidates.sort_by_key(|c| c.rec.offset);
    raw.bytes_scanned += found.bytes_scanned;
}

/// Attaches every InnoDB file of the layout to the image and returns their
/// index (empty when the image has no readable filesystem).
pub fn attach(image: &Image, layout: &Layout) -> Vec<TablespaceFile> {
    let files = innodb_files(layout, image);
    let runs = files
        .iter()
        .map(|f| FileRuns {
            size: f.size,
            runs: f.runs.clone(),
        })
        .collect();
    image.attach_files(runs);
    files
}
