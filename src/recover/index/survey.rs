//! Part of stage 4 (`rows`), the first pass over an index: every page copy
//! chosen by `leaf_pages` decoded once, in bounded batches, and reduced to
//! what must be known across pages before any row can be written:
//!
//! * for each newest copy, the range of its live keys (first and last in
//!   byte order), so that copies whose ranges overlap are sorted together
//!   (`groups`) and everything else is written page by page; with its
//!   live count and first and last live key in list order, for the key
//!   ranges of lost pages (`lost`);
//! * for each copy that proves absence (`Cover`), its first and last key
//!   in index order;
//! * every record that is not a live candidate (older copies, free lists,
//!   delete-marked, unproven pages): key, version and where it is, in
//!   [`Others`] (in a file past its share of the memory limit) — these
//!   decide the deleted and uncertain rows.
//!
//! Decoded copies are kept while they fit the cache's share of the memory
//! limit, so a table that fits is decoded once; the rest are decoded again
//! when their rows are written, so here a page of plain records has only
//! its keys read (`decode_leaf_page_key_probe`; [`Survey::recheck`] and
//! [`Survey::amend`] correct what that read could not prove).

use std::collections::HashMap;

use rayon::prelude::*;

use super::classify::{CoverPage, KeyOrder, OwnedSpan};
use super::copy::{candidate, decode_copy, found, CopyMeta};
use super::leaf_pages::Role;
use super::others::Others;
use crate::carve::pages::StorePages;
use crate::carve::PageRecord;
use crate::innodb::rows::PageText;
use crate::recover::{Memory, Tick};
use crate::schema::TableDef;

/// What the first pass keeps of one newest copy with live candidates.
pub(super) struct Range {
    /// The copy (index into the copies).
    pub copy: usize,
    /// First and last candidate key, in byte order.
    pub lo: Box<[u8]>,
    pub hi: Box<[u8]>,
    /// First and last candidate on the page's record list (index order,
    /// whatever the collation), when not `lo` and `hi`.
    pub ends: Option<Box<OwnedSpan>>,
    /// Live candidates on the copy.
    pub n: u32,
}

impl Range {
    /// First and last candidate key in index order (the page's record
    /// list order): the keys a lost neighbour page sits next to.
    pub fn first_last(&self) -> (&[u8], &[u8]) {
        match &self.ends {
            Some(e) => (&e.0, &e.1),
            None => (&self.lo, &self.hi),
        }
    }
}

/// The first pass's result for one index.
pub(super) struct Survey {
    pub meta: Vec<CopyMeta>,
    pub ranges: Vec<Range>,
    pub cover: Vec<CoverPage>,
    /// The records that are not live candidates.
    pub others: Others,
    /// Decoded copies kept (by copy index), within the cache's share.
    pub cache: HashMap<usize, PageText>,
    /// Records on the newest copies that failed the structural checks.
    pub records_skipped: usize,
    /// Copies whose record heap the definition does not fill: (copy,
    /// bytes left over), in copy order.
    pub misfits: Vec<(usize, i64)>,
    /// Bytes a copy takes decoded, on average.
    pub per_page: usize,
    /// Copies with records in `others`: about as many as pass 3 reads
    /// again (fewer when live rows claim them all, more when a copy's rows
    /// fall in several chunks).
    pub with_others: usize,
}

impl Survey {
    /// Nothing surveyed yet.
    pub fn empty() -> Survey {
        Survey {
            meta: Vec::new(),
            ranges: Vec::new(),
            cover: Vec::new(),
            others: Others::in_memory(),
            cache: HashMap::new(),
            records_skipped: 0,
            misfits: Vec::new(),
            per_page: 0,
            with_others: 0,
        }
    }
}

/// Decodes `copies` (read as `def`) in batches and keeps what decides
/// across pages.
pub(super) fn survey(
    copies: &[(&PageRecord, Role)],
    def: &TableDef,
    src: &StorePages,
    mem: &Memory,
    order: Option<&KeyOrder>,
    tick: &Tick,
) -> Survey {
    let mut s = Survey::empty();
    s.others = Others::new(mem.keys_bytes(), &mem.spill_dir);
    s.meta.reserve(copies.len());
    let mut cached = 0usize;
    // Decoded bytes per copy: guessed from the page size until measured.
    let guess = 3 * copies
        .first()
        .map_or(16384, |(p, _)| p.logical_size as usize);
    // (bytes, copies) of the copies decoded whole.
    let (mut full_bytes, mut full) = (0usize, 0usize);
    let mut i = 0;
    while i < copies.len() {
        let per_page = full_bytes.checked_div(full).unwrap_or(guess);
        let end = (i + mem.batch_pages(per_page)).min(copies.len());
        // Copies that will not fit the cache are decoded again to be
        // written: here their live candidates' keys are enough.
        let keys_only = cached + (end - i) * per_page > mem.cache_bytes();
        // Each copy summarized where it is decoded; the parts appended in
        // copy order (the same pushes, in the same order, as one by one).
        let base = i;
        let decoded: Vec<(CopyMeta, PageText, Survey)> = copies[i..end]
            .par_iter()
            .enumerate()
            .map(|(k, &(p, role))| {
                let (meta, text) = decode_copy(p, role, def, src, keys_only);
                let mut part = Survey::empty();
                part.summarize(base + k, &meta, &text, order);
                tick.pages(1);
                (meta, text, part)
            })
            .collect();
        for (meta, text, part) in decoded {
            s.absorb(part);
            s.meta.push(meta);
            let bytes = text.heap_bytes();
            if !keys_only {
                full_bytes += bytes;
                full += 1;
            }
            if !keys_only && !text.records.is_empty() && cached + bytes <= mem.cache_bytes() {
                cached += bytes;
                s.cache.insert(i, text);
            }
            i += 1;
        }
    }
    s.per_page = full_bytes.checked_div(full).unwrap_or(guess);
    s
}

impl Survey {
    /// Appends the survey of later copies.
    fn absorb(&mut self, part: Survey) {
        self.records_skipped += part.records_skipped;
        self.misfits.extend(part.misfits);
        self.others.append(&part.others);
        self.with_others += part.with_others;
        self.ranges.extend(part.ranges);
        self.cover.extend(part.cover);
    }

    /// What the full decode `text` of copy `i`, surveyed from its keys
    /// alone ([`CopyMeta::lean`]), tells differently: `None` when it has the
    /// same records (every listed record read whole, the heap accounted
    /// for), else its own survey, for [`Survey::amend`].
    pub fn recheck(&self, i: usize, text: &PageText, order: Option<&KeyOrder>) -> Option<Survey> {
        let lean_n = self
            .ranges
            .binary_search_by_key(&i, |r| r.copy)
            .map_or(0, |k| self.ranges[k].n as usize);
        let same = text.skipped_live == 0
            && text.heap_mismatch.is_none()
            && text.metadata.is_none()
            && text.records.len() == lean_n;
        if same {
            return None;
        }
        let mut part = Survey::empty();
        part.summarize(i, &self.meta[i], text, order);
        Some(part)
    }

    /// Replaces what the first pass kept of copy `i` by `part`, the survey
    /// of its full decode ([`Survey::recheck`]).
    pub fn amend(&mut self, i: usize, part: Survey) {
        self.ranges.retain(|r| r.copy != i);
        self.cover.retain(|c| c.copy != i);
        // A lean copy has only plain listed records: all live candidates.
        debug_assert!(part.others.len() == 0);
        let Survey {
            ranges,
            cover,
            misfits,
            records_skipped,
            ..
        } = part;
        for r in ranges {
            let at = self.ranges.partition_point(|x| x.copy < r.copy);
            self.ranges.insert(at, r);
        }
        for c in cover {
            let at = self.cover.partition_point(|x| x.copy < c.copy);
            self.cover.insert(at, c);
        }
        for m in misfits {
            let at = self.misfits.partition_point(|x| x.0 < m.0);
            self.misfits.insert(at, m);
        }
        self.records_skipped += records_skipped;
    }

    /// Keeps what copy `i` tells across pages.
    fn summarize(&mut self, i: usize, meta: &CopyMeta, text: &PageText, order: Option<&KeyOrder>) {
        let newest = matches!(meta.role, Role::Newest { .. });
        if newest {
            self.records_skipped += text.skipped_live;
        }
        self.misfits.extend(text.heap_mismatch.map(|d| (i, d)));
        let mut range: Option<(&[u8], &[u8])> = None;
        // First and last candidate in list order, and how many.
        let mut ends: Option<(&[u8], &[u8])> = None;
        let mut n = 0u32;
        let before = self.others.len();
        for j in 0..text.records.len() {
            let r = &text.records[j];
            let key = text.key(j);
            if candidate(meta.role, r) {
                range = Some(match range {
                    None => (key, key),
                    Some((lo, hi)) => (lo.min(key), hi.max(key)),
                });
                ends = Some((ends.map_or(key, |e| e.0), key));
                n += 1;
                continue;
            }
            self.others.push(key, found(i, meta, text, j));
        }
        self.with_others += usize::from(self.others.len() > before);
        if let (Some((lo, hi)), Some((first, last))) = (range, ends) {
            self.ranges.push(Range {
                copy: i,
                lo: lo.into(),
                hi: hi.into(),
                ends: (first != lo || last != hi).then(|| Box::new((first.into(), last.into()))),
                n,
            });
        }
        if let (Some(ord), Role::Newest { covers: true }) = (order, meta.role) {
            self.cover.push(CoverPage {
                copy: i,
                page_no: meta.page_no,
                prev: meta.prev,
                next: meta.next,
                span: ord.span(text),
            });
        }
    }
}

/// The newest copies with live candidates, in groups whose key ranges
/// overlap (a key on two copies is in one group), groups in key order and
/// the copies of a group in copy order.
pub(super) fn groups(ranges: &[Range]) -> Vec<Vec<usize>> {
    let mut by_lo: Vec<&Range> = ranges.iter().collect();
    by_lo.sort_by(|a, b| a.lo.cmp(&b.lo).then(a.copy.cmp(&b.copy)));
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut hi: Option<&[u8]> = None;
    for r in by_lo {
        match hi {
            Some(h) if *r.lo <= *h => {
                out.last_mut().expect("a group").push(r.copy);
                if *r.hi > *h {
                    hi = Some(&r.hi);
                }
            }
            _ => {
                out.push(vec![r.copy]);
                hi = Some(&r.hi);
            }
        }
    }
    for g in &mut out {
        g.sort_unstable();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(copy: usize, lo: &[u8], hi: &[u8]) -> Range {
        Range {
            copy,
            lo: lo.into(),
            hi: hi.into(),
            ends: None,
            n: 1,
        }
    }

    #[test]
    fn copies_whose_key_ranges_overlap_are_one_group() {
        let ranges = [
            range(0, b"m", b"p"),
            range(1, b"a", b"c"),
            range(2, b"d", b"f"),
            // Shares its first key with copy 2's last: same group.
            range(3, b"f", b"h"),
            // Inside copy 0's range.
            range(4, b"n", b"n"),
            range(5, b"q", b"z"),
        ];
        assert_eq!(
            groups(&ranges),
            vec![vec![1], vec![2, 3], vec![0, 4], vec![5]]
        );
        assert!(groups(&[]).is_empty());
    }
}
