//! What the report says of each tablespace and of the damage, from the
//! page store: pages found, how many the tablespace has initialized (its
//! page 0's FSP_FREE_LIMIT, at most FSP_SIZE), the page numbers below that
//! of which no copy was found (as ranges), and the damaged copies.

use serde::Serialize;

use crate::carve::follow::FileIndex;
use crate::carve::pages::StorePages;
use crate::carve::Status;
use crate::innodb::fsp::FspHeader;
use crate::innodb::lob::PageSource;

/// Ranges of missing page numbers listed per tablespace (the rest counted).
const MAX_RANGES: usize = 1000;
/// Damaged copies listed (the rest counted).
const MAX_DAMAGED: usize = 10_000;

/// One tablespace in the report.
#[derive(Debug, Clone, Serialize)]
pub struct SpaceReport {
    pub space_id: u32,
    /// The file of a filesystem that holds it, when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Distinct page numbers with a good copy.
    pub pages_found: u64,
    /// Distinct page numbers found only damaged.
    pub pages_damaged: u64,
    /// Pages the tablespace has initialized, from its page 0 (FSP_FREE_LIMIT,
    /// at most FSP_SIZE); `None` without a good page 0.
    pub pages_expected: Option<u64>,
    /// Page numbers below `pages_expected` with no copy at all, as
    /// inclusive `[first, last]` ranges (free pages never written are among
    /// them: nothing tells them apart from lost ones).
    pub pages_not_found: Vec<[u32; 2]>,
    /// Ranges left out of `pages_not_found` past the first 1,000.
    pub more_ranges: usize,
}

/// One damaged copy in the report.
#[derive(Debug, Clone, Serialize)]
pub struct DamagedPage {
    pub offset: u64,
    pub space_id: u32,
    pub page_no: u32,
    pub reason: Option<String>,
}

/// The tablespaces of the store, by space id.
pub fn space_reports(src: &StorePages, files: &FileIndex) -> Vec<SpaceReport> {
    let mut out: Vec<SpaceReport> = Vec::new();
    let mut last: Option<(u32, u32)> = None;
    // Page numbers with any copy, per space, in order (copies come by id).
    let mut seen: Vec<u32> = Vec::new();
    let flush = |out: &mut Vec<SpaceReport>, seen: &mut Vec<u32>| {
        if let Some(s) = out.last_mut() {
            fill_missing(s, seen);
        }
        seen.clear();
    };
    for p in src.store.best_copies() {
        if last.map(|(s, _)| s) != Some(p.space_id) {
            flush(&mut out, &mut seen);
            out.push(SpaceReport {
                space_id: p.space_id,
                file: files.file_of_space(p.space_id).map(|f| f.path.clone()),
                pages_found: 0,
                pages_damaged: 0,
                pages_expected: expected(src, p.space_id),
                pages_not_found: Vec::new(),
                more_ranges: 0,
            });
        }
        last = Some((p.space_id, p.page_no));
        seen.push(p.page_no);
        let s = out.last_mut().expect("pushed");
        if p.status == Status::Damaged {
            s.pages_damaged += 1;
        } else {
            s.pages_found += 1;
        }
    }
    flush(&mut out, &mut seen);
    out
}

/// Pages initialized, from the newest good page 0 of `space_id`.
fn expected(src: &StorePages, space_id: u32) -> Option<u64> {
    let page0 = src.page(space_id, 0)?;
    let h = FspHeader::parse(&page0).filter(|h| h.space_id == space_id)?;
    Some(u64::from(h.free_limit.min(h.size_pages)))
}

/// The ranges below `s.pages_expected` missing from `seen` (sorted).
fn fill_missing(s: &mut SpaceReport, seen: &[u32]) {
    let Some(n) = s.pages_expected else { return };
    let mut next = 0u64;
    let push = |from: u64, to: u64, s: &mut SpaceReport| {
        if s.pages_not_found.len() < MAX_RANGES {
            s.pages_not_found.push([from as u32, to as u32]);
        } else {
            s.more_ranges += 1;
        }
    };
    for &no in seen {
        let no = u64::from(no);
        if no >= n {
            break;
        }
        if no > next {
            push(next, no - 1, s);
        }
        next = no + 1;
    }
    if next < n {
        push(next, n - 1, s);
    }
}

/// The damaged copies, in image order (at most 10,000) and how many there
/// are in all.
pub fn damaged_pages(src: &StorePages) -> (Vec<DamagedPage>, usize) {
    let all: Vec<_> = src.store.damaged().collect();
    let listed = all
        .iter()
        .take(MAX_DAMAGED)
        .map(|p| DamagedPage {
            offset: p.offset,
            space_id: p.space_id,
            page_no: p.page_no,
            reason: p.reason_text(),
        })
        .collect();
    (listed, all.len())
}
