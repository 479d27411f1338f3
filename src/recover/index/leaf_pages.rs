//! Part of stage 4 (`rows`): which copies of an index's leaf pages to decode, and which
//! of them may give live rows.
//!
//! Every good copy is decoded; only the newest good copy of a page still
//! part of the index gives live rows. A page is still part of the index
//! when the extent descriptors do not mark it free, no newer copy of its
//! page number belongs to other data (the page was freed and reused), and
//! it is on the index's leaf list when that list can be followed whole.

use std::collections::{BTreeMap, HashSet};

use crate::carve::pages::StorePages;
use crate::carve::store::PageStore;
use crate::carve::{PageRecord, Status};
use crate::innodb::btree::{leaf_level, LeafLinks};
use crate::innodb::fsp;
use crate::innodb::lob::PageSource;
use crate::recover::indexes::{fil_links, is_btree};

/// What a decoded copy can prove about its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// The newest good copy of a page still in the index: its records are
    /// live. `covers`: no damaged copy of the page is newer, so the page
    /// also proves which keys are absent from its key range.
    Newest { covers: bool },
    /// An older good copy, or a copy of a page no longer in the index.
    Stale,
    /// A damaged copy newer than every good copy of its page (or the only
    /// kind found): its records are found, not proven.
    Unproven,
}

/// The leaf page copies of an index to decode.
pub(super) struct LeafPages<'a> {
    /// Every good copy (newest first within a page number, in page-number
    /// order), then the damaged copies newer than any good one.
    pub copies: Vec<(&'a PageRecord, Role)>,
    /// The leaf level can be followed end to end with no page damaged or
    /// missing: a key absent from it is absent from the index.
    pub complete: bool,
    /// Distinct leaf pages with at least one good copy.
    pub good: usize,
    /// Leaf pages found only damaged.
    pub damaged: usize,
    /// Leaf pages a neighbour names that were not found at all.
    pub missing: usize,
    /// Pages left out of the index, and why.
    pub notes: Vec<String>,
}

/// The copies to decode of the leaf pages `pages` (every copy found of an
/// index's leaf pages).
pub(super) fn select<'a>(pages: &[&'a PageRecord], src: &StorePages) -> LeafPages<'a> {
    let by_no = copies_by_page_no(pages);
    let free = free_pages(pages[0].space_id, src).unwrap_or_default();
    let (links, freed, reused) = leaf_links(&by_no, &free, src);
    let level = leaf_level(&links);
    let mut notes = Vec::new();
    if !level.left_out.is_empty() {
        notes.push(format!(
            "{} leaf pages are no longer on the index's leaf list (merged or freed): their records count as deleted",
            level.left_out.len()
        ));
    }
    if let Some(why) = &level.broken {
        notes.push(format!(
            "the leaf list cannot be followed end to end ({why}): every other leaf page found is used"
        ));
    }
    let missing = level
        .missing
        .iter()
        .filter(|n| !by_no.contains_key(n))
        .count();
    let broken = level.broken.is_some();
    let in_index: HashSet<u32> = level.pages.into_iter().collect();
    let mut out = LeafPages {
        copies: Vec::new(),
        complete: false,
        good: 0,
        damaged: 0,
        missing,
        notes,
    };
    let mut unproven = Vec::new();
    for (no, copies) in &by_no {
        let newest_good_lsn = copies
            .iter()
            .find(|p| p.status != Status::Damaged)
            .map(|p| p.lsn);
        // Damaged copies that may hold a newer state than any good one.
        let newer_damaged: Vec<&PageRecord> = copies
            .iter()
            .filter(|p| p.status == Status::Damaged)
            .filter(|p| newest_good_lsn.is_none_or(|l| p.lsn > l))
            .copied()
            .collect();
        let mut good = copies.iter().filter(|p| p.status != Status::Damaged);
        let Some(&newest) = good.next() else {
            out.damaged += 1;
            unproven.extend(newer_damaged.first().copied());
            continue;
        };
        out.good += 1;
        let role = if in_index.contains(no) {
            Role::Newest {
                covers: newer_damaged.is_empty(),
            }
        } else {
            Role::Stale
        };
        out.copies.push((newest, role));
        out.copies.extend(good.map(|&p| (p, Role::Stale)));
        unproven.extend(newer_damaged.first().copied());
    }
    out.complete = !broken && out.damaged == 0 && out.missing == 0 && unproven.is_empty();
    out.copies
        .extend(unproven.into_iter().map(|p| (p, Role::Unproven)));
    if reused > 0 {
        out.notes.push(format!(
            "{reused} leaf pages were reused since by other data: their records count as deleted"
        ));
    }
    if freed > 0 {
        out.notes.push(format!("{freed} leaf pages marked free in the extent descriptors: their records count as deleted"));
    }
    out
}

/// The copies of each page number, the newest good copy first.
fn copies_by_page_no<'a>(pages: &[&'a PageRecord]) -> BTreeMap<u32, Vec<&'a PageRecord>> {
    let mut by_no: BTreeMap<u32, Vec<&PageRecord>> = BTreeMap::new();
    for p in pages {
        by_no.entry(p.page_no).or_default().push(p);
    }
    for copies in by_no.values_mut() {
        copies.sort_by(|a, b| {
            (b.status != Status::Damaged, b.lsn, a.offset).cmp(&(
                a.status != Status::Damaged,
                a.lsn,
                b.offset,
            ))
        });
    }
    by_no
}

/// The leaf-list links of the newest good copy of each page neither marked
/// free nor reused since, and how many pages were (freed, reused).
fn leaf_links(
    by_no: &BTreeMap<u32, Vec<&PageRecord>>,
    free: &HashSet<u32>,
    src: &StorePages,
) -> (Vec<LeafLinks>, usize, usize) {
    use rayon::prelude::*;
    /// What one page number gives.
    enum Link {
        Freed,
        Reused,
        Links(LeafLinks),
    }
    // Read in parallel (each is a page header read), kept in page order.
    let pages: Vec<(&u32, &Vec<&PageRecord>)> = by_no.iter().collect();
    let found: Vec<Option<Link>> = pages
        .par_iter()
        .map(|&(no, copies)| {
            let newest = copies.iter().find(|p| p.status != Status::Damaged)?;
            if free.contains(no) {
                return Some(Link::Freed);
            }
            if reused_since(src.store, newest) {
                return Some(Link::Reused);
            }
            let (prev, next) = fil_links(src.image, newest)?;
            // Links of an older copy than a damaged one may be out of date.
            let trusted = !copies
                .iter()
                .any(|c| c.status == Status::Damaged && c.lsn > newest.lsn);
            Some(Link::Links(LeafLinks {
                page_no: *no,
                prev,
                next,
                trusted,
            }))
        })
        .collect();
    let (mut freed, mut reused) = (0, 0);
    let mut links = Vec::new();
    for l in found.into_iter().flatten() {
        match l {
            Link::Freed => freed += 1,
            Link::Reused => reused += 1,
            Link::Links(l) => links.push(l),
        }
    }
    (links, freed, reused)
}

/// The pages of a tablespace its extent descriptors mark free (`None` when
/// the descriptor pages are not available).
fn free_pages(space_id: u32, src: &StorePages) -> Option<HashSet<u32>> {
    let page0 = src.page(space_id, 0)?;
    let flags = fsp::FspHeader::parse(&page0)?.flags;
    let size = fsp::sizes_from_flags(flags)?;
    // One descriptor page per physical page size in pages.
    let described = size.zip.unwrap_or(size.logical);
    let free_limit = fsp::FspHeader::parse(&page0)?.free_limit;
    let mut out = HashSet::new();
    let mut base = 0u32;
    while base < free_limit.max(1) {
        let xdes = if base == 0 {
            Some(page0.clone())
        } else {
            src.page(space_id, base)
        };
        let xdes = xdes?;
        out.extend(fsp::free_pages_in_xdes(
            &xdes,
            base,
            described,
            size.logical,
        )?);
        base = base.checked_add(described)?;
    }
    Some(out)
}

/// A newer good copy of the same page number exists that is not a leaf of
/// `p`'s index: the page was freed and reused, and `p` is stale.
fn reused_since(store: &PageStore, p: &PageRecord) -> bool {
    store
        .copies(p.space_id, p.page_no)
        .filter(|c| c.status != Status::Damaged && c.lsn > p.lsn)
        .any(|c| !(c.index_id == p.index_id && c.level == 0 && is_btree(c)))
}
