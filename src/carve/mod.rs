//! The carver: one parallel pass over the image that finds InnoDB pages
//! wherever they lie, at 512-byte granularity.
//!
//! * [`detect`] decides, for one position, whether a page starts there.
//! * [`scan`] runs `detect` over the image in parallel chunks and merges the
//!   findings in image order (identical with any number of threads).
//! * [`store`] indexes what was found: pages by (space id, page no), index
//!   pages by (space id, index id), tablespace summaries.

pub mod detect;
pub mod follow;
pub mod pages;
pub mod plausible;
pub mod redo;
pub mod repair;
pub mod scan;
pub mod store;

use serde::Serialize;

use crate::innodb::checksum::ChecksumKind;

/// What the carver concluded about one page copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The checksum holds.
    Ok,
    /// The checksum holds once the all-zero blocks a sparse file left out
    /// are put back.
    Reassembled,
    /// Structurally a page, but the checksum fails or header and trailer
    /// disagree. Kept, never treated as good.
    Damaged,
    /// The checksum holds once one damaged byte (or a 2-byte burst), found
    /// from the checksum's syndrome, is put back ([`Reason::Repaired`]).
    /// Counts as good.
    Repaired,
    /// Bytes of a copy brought up to date by the redo log (they are not in
    /// the image as such: the copy lives in the image's memory region).
    /// Counts as good.
    Redone,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Reassembled => "reassembled",
            Status::Damaged => "damaged",
            Status::Repaired => "repaired",
            Status::Redone => "redone",
        }
    }
}

/// Why a page is damaged (or how it was reassembled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    None,
    /// Trailer LSN matches, no checksum algorithm matches.
    BadChecksum,
    /// No trailer where the page would end (the bytes there are no older
    /// LSN): the page continues elsewhere (a fragmented file) or its end was
    /// overwritten.
    NoTrailer {
        found: u32,
    },
    /// Header and trailer LSN disagree and the trailer holds an older LSN:
    /// a torn (partial) write.
    Torn {
        trailer_lsn_low: u32,
    },
    /// Page-compressed with an algorithm we cannot verify.
    Unverified {
        algorithm: u16,
    },
    /// Sparse reassembly: bit i of `mask` set = block i was a zero hole,
    /// blocks of `granularity` bytes.
    Holes {
        mask: u64,
        granularity: u32,
    },
    /// Syndrome repair: `len` (1 or 2) bytes at byte `at` of the physical
    /// page were `old` on disk and are `new` in the repaired page.
    Repaired {
        at: u32,
        len: u8,
        old: [u8; 2],
        new: [u8; 2],
    },
    /// Redo applied: the base copy had LSN `from_lsn`; `records` log
    /// records were applied to it.
    Redo {
        from_lsn: u64,
        records: u32,
    },
}

/// One page copy found in the image. Compact: a 1 TiB image holds tens of
/// millions of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRecord {
    /// Byte offset of the page's first byte in the image.
    pub offset: u64,
    pub lsn: u64,
    /// Index id for INDEX / RTREE / SDI pages, else 0.
    pub index_id: u64,
    pub space_id: u32,
    pub page_no: u32,
    /// Bytes the page occupies in the image.
    pub phys_size: u32,
    /// Logical (uncompressed) page size when known from the page itself, else 0.
    pub logical_size: u32,
    pub page_type: u16,
    /// B-tree level (0 = leaf) for index pages.
    pub level: u16,
    /// PAGE_N_RECS for index pages.
    pub n_recs: u16,
    pub checksum: ChecksumKind,
    pub status: Status,
    pub reason: Reason,
}

impl PageRecord {
    pub fn is_index(&self) -> bool {
        self.index_id != 0
    }

    /// Text for `reason` as `--list-pages` prints it (`None` when ok).
    pub fn reason_text(&self) -> Option<String> {
        match self.reason {
            Reason::None => None,
            Reason::BadChecksum => Some("bad checksum".to_string()),
            Reason::Torn { trailer_lsn_low } => Some(format!(
                "torn write: header LSN low 0x{:08x} != trailer LSN low 0x{:08x}",
                self.lsn as u32, trailer_lsn_low
            )),
            Reason::NoTrailer { found } => Some(format!(
                "no trailer: header LSN low 0x{:08x}, 0x{found:08x} where the trailer would be \
                 (page continues elsewhere, e.g. a fragmented file, or its end was overwritten)",
                self.lsn as u32
            )),
            Reason::Unverified { algorithm } => Some(format!(
                "unverified: page_compressed algorithm {algorithm} not supported"
            )),
            Reason::Holes { mask, granularity } => {
                let blocks: Vec<String> = (0..64)
                    .filter(|i| mask >> i & 1 == 1)
                    .map(|i| i.to_string())
                    .collect();
                Some(format!(
                    "zero {} KiB blocks {} restored",
                    granularity / 1024,
                    blocks.join(",")
                ))
            }
            Reason::Repaired { at, len, old, new } => {
                let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
                let n = (len as usize).min(2);
                Some(format!(
                    "repaired: {n} byte(s) at page offset {at} were 0x{} on disk, 0x{} by the checksum",
                    hex(&old[..n]),
                    hex(&new[..n])
                ))
            }
            Reason::Redo { from_lsn, records } => Some(format!(
                "redo log applied: {records} record(s) on the copy of LSN {from_lsn}"
            )),
        }
    }
}

use crate::image::Image;

/// What a carve of a whole disk gives: the pages, where files hold them, and
/// the partitions and filesystems they were read through.
pub struct Carved {
    pub store: store::PageStore,
    pub files: follow::FileIndex,
    pub layout: crate::layout::Summary,
    /// What the redo log did, when one was found ([`redo`]).
    pub redo: Option<redo::RedoReport>,
}

/// The layout stage, then the carver: partitions and filesystems are read
/// (when `range` is the whole image), InnoDB files attached through their
/// block maps, the image scanned, and the pages that straddle fragments
/// added from the files. Without a readable filesystem, or without
/// `layout`, this is [`carve`].
pub fn carve_disk(
    image: &Image,
    range: scan::ScanRange,
    layout: bool,
    progress: &(dyn Fn(u64) + Sync),
) -> Carved {
    carve_disk_with(
        image,
        range,
        layout,
        &redo::RedoOptions::default(),
        progress,
    )
}

/// [`carve_disk`], then the redo log applied to the pages found
/// ([`redo::apply`]) as `redo_opts` says.
pub fn carve_disk_with(
    image: &Image,
    range: scan::ScanRange,
    layout: bool,
    redo_opts: &redo::RedoOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Carved {
    let whole = range.start == 0 && range.end == image.size();
    // The raw pass first: it also notes where superblock magics are, so a
    // disk without a partition table is not read a second time for them.
    let mut raw = scan::scan(image, range, progress);
    let sb = std::mem::take(&mut raw.superblock_offsets);
    let layout = (whole && layout).then(|| crate::layout::open_with(image, Some(&sb)));
    let (files, summary) = match &layout {
        Some(l) => (follow::attach(image, l), l.summary()),
        None => (Vec::new(), crate::layout::Summary::default()),
    };
    if let Some(overlay) = image.overlay() {
        follow::merge_file_pages(image, overlay, &files, &mut raw);
    }
    repair::repair_orphans(image, &mut raw);
    let index = follow::FileIndex::new(files, image.overlay());
    let carved_logs = std::mem::take(&mut raw.redo_offsets);
    let mut store = store::PageStore::build(raw);
    plausible::reject_impossible(&mut store, image);
    let redo = redo::apply(image, layout.as_ref(), &carved_logs, &mut store, redo_opts);
    Carved {
        store,
        files: index,
        layout: summary,
        redo,
    }
}

/// Scans `range` of `image` on the current rayon pool and builds the page
/// store. `progress` receives the bytes finished so far.
pub fn carve(
    image: &Image,
    range: scan::ScanRange,
    progress: &(dyn Fn(u64) + Sync),
) -> store::PageStore {
    let mut raw = scan::scan(image, range, progress);
    repair::repair_orphans(image, &mut raw);
    let mut store = store::PageStore::build(raw);
    plausible::reject_impossible(&mut store, image);
    store
}

#[cfg(test)]
mod tests {
    /// The page store holds one of these per page copy: keep it compact.
    #[test]
    fn page_record_stays_small() {
        assert!(
            std::mem::size_of::<super::PageRecord>() <= 64,
            "{}",
            std::mem::size_of::<super::PageRecord>()
        );
    }
}
