//! The parallel pass: fixed-size chunks (independent of the thread count, so
//! results are identical with 1 thread or many), scanned by rayon with
//! per-thread scratch, merged in image order.
//!
//! A page belongs to the chunk its first byte lies in; the chunk's window
//! reaches [`MAX_PAGE`] bytes past its end, so a page crossing a chunk edge
//! is found exactly once. Holes of a sparse image file (`SEEK_HOLE`) read as
//! zeros and hold no pages: they are skipped.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use crate::carve::detect::{detect, may_be_page, Candidate, Detection, Scratch, MAX_PAGE};
use crate::carve::PageRecord;
use crate::image::{Image, ReadMode, SECTOR};
use crate::layout::sweep::may_hit;

/// Bytes per chunk: big enough to amortise scheduling, small enough to
/// balance two cores and keep a `pread` buffer modest.
pub const CHUNK: u64 = 8 << 20;

/// Which part of the image to scan.
#[derive(Debug, Clone, Copy)]
pub struct ScanRange {
    pub start: u64,
    pub end: u64,
}

/// Everything one pass found, in image order.
#[derive(Debug, Default)]
pub struct ScanOutput {
    pub pages: Vec<PageRecord>,
    /// Pages no checksum confirms, resolved by the page store.
    pub candidates: Vec<Candidate>,
    /// Ranges that could not be read (`--no-mmap` on a failing device).
    pub unreadable: Vec<(u64, u64)>,
    /// Bytes actually examined (holes of a sparse file excluded).
    pub bytes_scanned: u64,
    /// Offsets of what looks like a `.frm` file (table definitions of
    /// MySQL 5.x / MariaDB), noted in the same pass.
    pub frm_offsets: Vec<u64>,
    /// Offsets of redo log file headers (`ib_logfile0`, found by their
    /// magic and checksum), noted in the same pass.
    pub redo_offsets: Vec<u64>,
    /// Positions where a filesystem superblock's magic is
    /// ([`crate::layout::sweep::may_hit`]), noted in the same pass so that
    /// the partition sweep need not read the image again.
    pub superblock_offsets: Vec<u64>,
}

#[derive(Default)]
struct ChunkOut {
    pages: Vec<PageRecord>,
    candidates: Vec<Candidate>,
    unreadable: Vec<(u64, u64)>,
    frms: Vec<u64>,
    logs: Vec<u64>,
    superblocks: Vec<u64>,
}

#[derive(Default)]
struct ThreadState {
    scratch: Scratch,
    buf: Vec<u8>,
}

/// The chunks of `range` that hold data, on the sector grid of `range.start`.
pub fn chunks(image: &Image, range: ScanRange) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for (d0, d1) in image.data_ranges(range.start, range.end) {
        let a = range.start + (d0.saturating_sub(range.start)) / SECTOR * SECTOR;
        let mut c = a;
        while c < d1 {
            let e = (c + CHUNK).min(d1);
            out.push((c, e));
            c = e;
        }
    }
    out
}

/// Scans `range` of `image` on the current rayon pool. `progress` is called
/// with the bytes finished so far, from worker threads.
pub fn scan(image: &Image, range: ScanRange, progress: &(dyn Fn(u64) + Sync)) -> ScanOutput {
    let windows: Vec<(u64, u64, u64)> = chunks(image, range)
        .into_iter()
        .map(|(c0, c1)| (c0, c1, range.end))
        .collect();
    scan_windows(image, &windows, progress)
}

/// Scans windows `(chunk_start, chunk_end, window_end)`: pages that start in
/// `chunk_start..chunk_end` and end by `window_end`, merged in window order.
/// [`scan`] gives the chunks of a range; the fragment boundaries of files
/// read through their block maps are windows too.
pub fn scan_windows(
    image: &Image,
    windows: &[(u64, u64, u64)],
    progress: &(dyn Fn(u64) + Sync),
) -> ScanOutput {
    let done = AtomicU64::new(0);
    let outs: Vec<ChunkOut> = windows
        .par_iter()
        .map_init(ThreadState::default, |st, &(c0, c1, end)| {
            let out = scan_chunk(image, c0, c1, end, st);
            progress(done.fetch_add(c1 - c0, Ordering::Relaxed) + (c1 - c0));
            out
        })
        .collect();
    let mut result = ScanOutput {
        bytes_scanned: windows.iter().map(|w| w.1 - w.0).sum(),
        ..Default::default()
    };
    for o in outs {
        result.pages.extend(o.pages);
        result.candidates.extend(o.candidates);
        result.frm_offsets.extend(o.frms);
        result.redo_offsets.extend(o.logs);
        result.superblock_offsets.extend(o.superblocks);
        for h in o.unreadable {
            match result.unreadable.last_mut() {
                Some((s, l)) if *s + *l == h.0 => *l += h.1,
                _ => result.unreadable.push(h),
            }
        }
    }
    result
}

/// With `pread`, a chunk is read in windows this big (plus the overlap a
/// page may need), so the bytes are scanned while still in cache.
const READ_WINDOW: u64 = 1 << 20;

fn scan_chunk(image: &Image, c0: u64, c1: u64, end: u64, st: &mut ThreadState) -> ChunkOut {
    let mut out = ChunkOut::default();
    let ThreadState { scratch, buf } = st;
    let step = if image.mode() == ReadMode::Mmap {
        image.prefetch(c0, ((c1 + MAX_PAGE as u64).min(end) - c0) as usize);
        c1 - c0
    } else {
        READ_WINDOW
    };
    // A page found near the end of one window may reach into the next:
    // `next` is where scanning resumes, possibly past the window's start.
    let mut next = c0;
    let mut w0 = c0;
    while w0 < c1 {
        let w1 = (w0 + step).min(c1);
        let win_end = (w1 + MAX_PAGE as u64).min(end);
        let data = image.read(w0, (win_end - w0) as usize, buf, &mut out.unreadable);
        let limit = (w1 - w0) as usize;
        let mut p = (next.max(w0) - w0) as usize;
        while p < limit {
            // Most positions of most images start nothing: one table lookup
            // of FIL_PAGE_TYPE, the first byte (a `.frm` starts with 0xFE, a
            // redo log header with 0x50 or 0xD0, an XFS superblock with 'X')
            // and the ext4 magic reject them exactly where `detect`, the
            // header tests and `may_hit` would.
            if let Some(h) = data.get(p..p + 0x3A) {
                let t = u16::from_be_bytes([h[24], h[25]]);
                if !may_be_page(t)
                    && !matches!(h[0], 0xFE | 0x50 | 0xD0 | b'X')
                    && (h[0x38], h[0x39]) != (0x53, 0xEF)
                {
                    p += SECTOR as usize;
                    continue;
                }
            }
            let w = &data[p..data.len().min(p + MAX_PAGE)];
            if may_hit(w) {
                out.superblocks.push(w0 + p as u64);
            }
            if w.first() == Some(&0xFE)
                && w.get(1) == Some(&0x01)
                && crate::innodb::frm::looks_like_frm(w)
            {
                out.frms.push(w0 + p as u64);
            }
            if matches!(w.first(), Some(0x50 | 0xd0))
                && crate::innodb::redo::header::looks_like_log(w)
            {
                out.logs.push(w0 + p as u64);
            }
            match detect(w, w0 + p as u64, scratch) {
                Some(Detection::Page(r)) => {
                    let step = (r.phys_size as usize).div_ceil(SECTOR as usize) * SECTOR as usize;
                    // The positions a page covers are not tried again, but
                    // the sweep needs every superblock magic of the chunk.
                    let mut q = p + SECTOR as usize;
                    while q < p + step && ((w0 + q as u64) < c1) {
                        if data.get(q..).is_some_and(may_hit) {
                            out.superblocks.push(w0 + q as u64);
                        }
                        q += SECTOR as usize;
                    }
                    out.pages.push(r);
                    p += step.max(SECTOR as usize);
                }
                Some(Detection::Candidate(c)) => {
                    out.candidates.push(c);
                    p += SECTOR as usize;
                }
                None => p += SECTOR as usize,
            }
        }
        next = w0 + p as u64;
        w0 = w1;
    }
    // Scanned: the mapped pages of this chunk may go (read again on demand
    // when a page found here is read later), so resident memory does not
    // grow with the image.
    if image.mode() == ReadMode::Mmap {
        image.release(c0, (c1 - c0) as usize);
    }
    // Unreadable ranges past this chunk belong to the next one; windows
    // overlap, so merge what was recorded twice.
    out.unreadable.retain(|&(s, _)| s < c1);
    out.unreadable.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (s, l) in out.unreadable.drain(..) {
        let e = (s + l).min(c1);
        match merged.last_mut() {
            Some((ms, ml)) if s <= *ms + *ml => *ml = (*ml).max(e - *ms),
            _ => merged.push((s, e - s)),
        }
    }
    out.unreadable = merged;
    out
}
