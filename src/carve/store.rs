//! The page store: every page copy the carver found, in image order, with
//! look-ups by (space id, page no) and summaries per tablespace and index.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::carve::detect::{Candidate, PAGE_SIZES};
use crate::carve::scan::ScanOutput;
use crate::carve::{PageRecord, Reason, Status};
use crate::innodb::checksum::ChecksumKind;
use crate::innodb::fil;

/// All pages found, plus what could not be read.
#[derive(Debug, Default)]
pub struct PageStore {
    /// Every copy, sorted by image offset.
    pub pages: Vec<PageRecord>,
    /// Indices into `pages` sorted by (space id, page no, newest first).
    by_id: Vec<u32>,
    pub unreadable: Vec<(u64, u64)>,
    pub bytes_scanned: u64,
    /// Offsets of `.frm` files found by signature.
    pub frm_offsets: Vec<u64>,
    /// Damaged candidates dropped because they cannot be pages
    /// ([`super::plausible`]).
    pub rejected: usize,
}

impl PageStore {
    /// Builds the store from a scan: resolves orphan headers against the
    /// page sizes of their tablespaces, then indexes.
    pub fn build(scan: ScanOutput) -> PageStore {
        let ScanOutput {
            mut pages,
            candidates,
            unreadable,
            bytes_scanned,
            frm_offsets,
            redo_offsets: _,
            superblock_offsets: _,
        } = scan;
        let resolved = resolve_candidates(&pages, &candidates);
        if !resolved.is_empty() {
            pages.extend(resolved);
            pages.sort_by_key(|p| p.offset);
        }
        let by_id = index_by_id(&pages);
        PageStore {
            pages,
            by_id,
            unreadable,
            bytes_scanned,
            frm_offsets,
            rejected: 0,
        }
    }

    /// Keeps the copies `keep` accepts (re-indexing); returns how many were
    /// dropped, which are added to [`PageStore::rejected`].
    pub fn retain(&mut self, keep: impl Fn(&PageRecord) -> bool) -> usize {
        let before = self.pages.len();
        self.pages.retain(|p| keep(p));
        let dropped = before - self.pages.len();
        if dropped > 0 {
            self.by_id = index_by_id(&self.pages);
            self.rejected += dropped;
        }
        dropped
    }

    /// Adds copies made after the scan (the pages the redo log brought up
    /// to date, at virtual offsets above the image) and re-indexes.
    pub fn add_pages(&mut self, extra: Vec<PageRecord>) {
        if extra.is_empty() {
            return;
        }
        self.pages.extend(extra);
        self.pages.sort_by_key(|p| p.offset);
        self.by_id = index_by_id(&self.pages);
    }

    /// All copies of one page, best first (good before damaged, then newest).
    pub fn copies(&self, space_id: u32, page_no: u32) -> impl Iterator<Item = &PageRecord> {
        let key = (space_id, page_no);
        let start = self.by_id.partition_point(|&i| {
            let p = &self.pages[i as usize];
            (p.space_id, p.page_no) < key
        });
        self.by_id[start..]
            .iter()
            .map(|&i| &self.pages[i as usize])
            .take_while(move |p| (p.space_id, p.page_no) == key)
    }

    /// The best copy of each distinct (space, page no), in key order.
    pub fn best_copies(&self) -> impl Iterator<Item = &PageRecord> {
        let mut last: Option<(u32, u32)> = None;
        self.by_id.iter().filter_map(move |&i| {
            let p = &self.pages[i as usize];
            let key = (p.space_id, p.page_no);
            if last == Some(key) {
                None
            } else {
                last = Some(key);
                Some(p)
            }
        })
    }

    pub fn spaces(&self) -> Vec<SpaceSummary> {
        let mut map: BTreeMap<u32, SpaceSummary> = BTreeMap::new();
        for p in &self.pages {
            let s = map
                .entry(p.space_id)
                .or_insert_with(|| SpaceSummary::new(p.space_id));
            s.copies += 1;
            match p.status {
                Status::Ok => s.ok += 1,
                Status::Reassembled => s.reassembled += 1,
                Status::Damaged => s.damaged += 1,
                Status::Repaired => s.repaired += 1,
                Status::Redone => s.redone += 1,
            }
            *s.checksums.entry(p.checksum.as_str()).or_default() += 1;
            if p.logical_size != 0 {
                *s.logical_sizes.entry(p.logical_size).or_default() += 1;
            }
            if p.phys_size != p.logical_size
                && p.checksum != ChecksumKind::Compressed
                && p.status != Status::Reassembled
            {
                *s.physical_sizes.entry(p.phys_size).or_default() += 1;
            }
            if p.page_type == fil::FIL_PAGE_SDI {
                s.sdi = true;
            }
        }
        for p in self.best_copies() {
            let s = map.get_mut(&p.space_id).expect("space seen above");
            s.pages += 1;
            s.max_page_no = s.max_page_no.max(p.page_no);
            *s.page_types.entry(fil::type_name(p.page_type)).or_default() += 1;
        }
        let mut v: Vec<SpaceSummary> = map.into_values().collect();
        for s in v.iter_mut() {
            s.finish();
        }
        v
    }

    pub fn indexes(&self) -> Vec<IndexSummary> {
        let mut map: BTreeMap<(u32, u64), IndexSummary> = BTreeMap::new();
        for p in self.best_copies().filter(|p| p.is_index()) {
            let s = map.entry((p.space_id, p.index_id)).or_insert(IndexSummary {
                space_id: p.space_id,
                index_id: p.index_id,
                pages: 0,
                leaf_pages: 0,
                records: 0,
                levels: 0,
                damaged_pages: 0,
            });
            s.pages += 1;
            s.levels = s.levels.max(p.level as u32 + 1);
            if p.level == 0 {
                s.leaf_pages += 1;
                s.records += p.n_recs as u64;
            }
            if p.status == Status::Damaged {
                s.damaged_pages += 1;
            }
        }
        map.into_values().collect()
    }

    pub fn damaged(&self) -> impl Iterator<Item = &PageRecord> {
        self.pages.iter().filter(|p| p.status == Status::Damaged)
    }
}

/// Indices of `pages` by (space id, page no, best first).
fn index_by_id(pages: &[PageRecord]) -> Vec<u32> {
    let mut by_id: Vec<u32> = (0..pages.len() as u32).collect();
    by_id.sort_by(|&a, &b| {
        let (x, y) = (&pages[a as usize], &pages[b as usize]);
        (x.space_id, x.page_no, rank(y), y.lsn, x.offset).cmp(&(
            y.space_id,
            y.page_no,
            rank(x),
            x.lsn,
            y.offset,
        ))
    });
    by_id
}

/// Good copies sort before damaged ones.
fn rank(p: &PageRecord) -> u8 {
    match p.status {
        // A repaired copy is proven by its checksum like an intact one, and
        // a redone copy is the newest state of its page: the LSN decides.
        Status::Ok | Status::Redone | Status::Repaired => 2,
        Status::Reassembled => 1,
        Status::Damaged => 0,
    }
}

/// Per-tablespace summary for `salvage scan`.
#[derive(Debug, Clone, Serialize)]
pub struct SpaceSummary {
    pub space_id: u32,
    /// Logical page size in bytes (0 when unknown).
    pub page_size: u32,
    /// ROW_FORMAT=COMPRESSED physical page size, when the space is compressed.
    pub zip_size: Option<u32>,
    /// "mariadb-full_crc32", "mysql8-sdi" or "classic" (MySQL 5.x / MariaDB < 10.5 format).
    pub format: &'static str,
    /// Distinct page numbers found.
    pub pages: u64,
    /// Page copies found (a page may be in the image more than once).
    pub copies: u64,
    pub ok: u64,
    pub reassembled: u64,
    pub damaged: u64,
    /// Copies repaired from their checksum's syndrome.
    pub repaired: u64,
    /// Copies brought up to date by the redo log.
    pub redone: u64,
    pub max_page_no: u32,
    /// Distinct pages by type name.
    pub page_types: BTreeMap<&'static str, u64>,
    pub checksums: BTreeMap<&'static str, u64>,
    #[serde(skip)]
    logical_sizes: BTreeMap<u32, u64>,
    #[serde(skip)]
    physical_sizes: BTreeMap<u32, u64>,
    #[serde(skip)]
    sdi: bool,
}

impl SpaceSummary {
    fn new(space_id: u32) -> SpaceSummary {
        SpaceSummary {
            space_id,
            page_size: 0,
            zip_size: None,
            format: "classic",
            pages: 0,
            copies: 0,
            ok: 0,
            reassembled: 0,
            damaged: 0,
            repaired: 0,
            redone: 0,
            max_page_no: 0,
            page_types: BTreeMap::new(),
            checksums: BTreeMap::new(),
            logical_sizes: BTreeMap::new(),
            physical_sizes: BTreeMap::new(),
            sdi: false,
        }
    }

    fn finish(&mut self) {
        let most =
            |m: &BTreeMap<u32, u64>| m.iter().max_by_key(|(k, v)| (**v, **k)).map(|(k, _)| *k);
        self.page_size = most(&self.logical_sizes).unwrap_or(0);
        self.zip_size = most(&self.physical_sizes).filter(|&z| z < self.page_size.max(16384));
        let fcrc = self.checksums.get("full_crc32").copied().unwrap_or(0);
        self.format = if fcrc > 0 {
            "mariadb-full_crc32"
        } else if self.sdi {
            "mysql8-sdi"
        } else {
            "classic"
        };
    }
}

/// Per-index summary for `salvage scan`.
#[derive(Debug, Clone, Serialize)]
pub struct IndexSummary {
    pub space_id: u32,
    pub index_id: u64,
    pub pages: u64,
    pub leaf_pages: u64,
    /// Records on leaf pages (PAGE_N_RECS of the best copy of each).
    pub records: u64,
    pub levels: u32,
    pub damaged_pages: u64,
}

/// Keeps the candidates (pages no checksum confirms) that fit a tablespace
/// known from verified pages: same page size, a slot that overlaps no
/// verified page. Headers without a trailer become torn pages.
fn resolve_candidates(pages: &[PageRecord], candidates: &[Candidate]) -> Vec<PageRecord> {
    if candidates.is_empty() {
        return Vec::new();
    }
    // Page size and format of each space, from its verified pages.
    let mut sizes: BTreeMap<u32, BTreeMap<(u32, bool), u64>> = BTreeMap::new();
    for p in pages {
        if p.logical_size != 0 && p.logical_size == p.phys_size || p.status == Status::Reassembled {
            let f = p.checksum == ChecksumKind::FullCrc32;
            *sizes
                .entry(p.space_id)
                .or_default()
                .entry((p.logical_size, f))
                .or_default() += 1;
        }
    }
    let mut out: Vec<PageRecord> = Vec::new();
    let mut last_end = 0u64;
    for c in candidates.iter().filter(|c| !c.zip) {
        let r = c.rec;
        let Some(&(size, fcrc32)) = sizes
            .get(&r.space_id)
            .and_then(|m| m.iter().max_by_key(|(_, n)| **n).map(|(k, _)| k))
        else {
            continue;
        };
        let Some(i) = PAGE_SIZES.iter().position(|&s| s as u32 == size) else {
            continue;
        };
        if r.phys_size != 0
            && (r.phys_size != size || (r.checksum == ChecksumKind::FullCrc32) != fcrc32)
        {
            continue;
        }
        let (start, end) = (r.offset, r.offset + size as u64);
        if start < last_end || overlaps(pages, start, end) {
            continue;
        }
        let mut rec = r;
        if r.phys_size == 0 {
            let trailer = if fcrc32 {
                c.fcrc32_trailer[i]
            } else {
                c.classic_trailer[i]
            };
            rec.phys_size = size;
            rec.logical_size = size;
            rec.checksum = if fcrc32 {
                ChecksumKind::FullCrc32
            } else {
                ChecksumKind::Crc32c
            };
            let lsn_low = r.lsn as u32;
            rec.reason = if trailer == lsn_low {
                Reason::BadChecksum
            } else if trailer != 0 && trailer < lsn_low && lsn_low - trailer < 1 << 30 {
                // An older LSN of the same page: the write was torn.
                Reason::Torn {
                    trailer_lsn_low: trailer,
                }
            } else {
                Reason::NoTrailer { found: trailer }
            };
        }
        last_end = end;
        out.push(rec);
    }
    out
}

fn overlaps(pages: &[PageRecord], start: u64, end: u64) -> bool {
    let i = pages.partition_point(|p| p.offset < end);
    // Verified pages never overlap each other: the last one starting before
    // `end` is the only one that can reach into the slot.
    pages[..i]
        .last()
        .is_some_and(|p| p.offset + p.phys_size.max(1) as u64 > start)
}
