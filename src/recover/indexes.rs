//! Stage 1: the carved pages by index — the leaf pages of every B-tree
//! index and the root of each index after MariaDB instant ALTER — and the
//! FIL header fields of one page copy, read without decoding the page.

use std::borrow::Cow;
use std::collections::BTreeMap;

use crate::bytes::be_u32;
use crate::carve::pages::page_bytes;
use crate::carve::store::PageStore;
use crate::carve::{PageRecord, Status};
use crate::image::Image;
use crate::innodb::checksum::ChecksumKind;
use crate::innodb::fil;

/// An index: (space id, index id).
pub(super) type IndexKey = (u32, u64);

/// The root page of each index after MariaDB instant ALTER.
pub(super) type InstantRoots<'a> = BTreeMap<IndexKey, &'a PageRecord>;

/// The leaf pages (every copy found) of each B-tree index.
pub(super) type Leaves<'a> = BTreeMap<IndexKey, Vec<&'a PageRecord>>;

/// The pages of a store by index.
pub(super) struct Indexes<'a> {
    pub leaves: Leaves<'a>,
    pub roots: InstantRoots<'a>,
}

impl<'a> Indexes<'a> {
    pub fn of(store: &'a PageStore) -> Self {
        Indexes {
            leaves: leaves(store),
            roots: instant_roots(store),
        }
    }
}

/// MariaDB instant ALTER roots (type INSTANT), newest good copy per index.
fn instant_roots(store: &PageStore) -> InstantRoots<'_> {
    let mut roots = InstantRoots::new();
    for p in store.pages.iter().filter(|p| {
        p.is_index()
            && p.page_type == fil::FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB
            && p.status != Status::Damaged
    }) {
        let e = roots.entry((p.space_id, p.index_id)).or_insert(p);
        if p.lsn > e.lsn {
            *e = p;
        }
    }
    roots
}

/// Leaf pages of every index.
fn leaves(store: &PageStore) -> Leaves<'_> {
    let mut leaves = Leaves::new();
    for p in &store.pages {
        if p.is_index() && p.level == 0 && is_btree(p) {
            leaves.entry((p.space_id, p.index_id)).or_default().push(p);
        }
    }
    leaves
}

/// B-tree pages (INDEX, MariaDB's instant root), not SDI or R-tree pages.
pub(super) fn is_btree(p: &PageRecord) -> bool {
    matches!(
        p.page_type,
        fil::FIL_PAGE_INDEX | fil::FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB
    )
}

/// The first `len` logical bytes of a page copy: read in place when the
/// page is stored whole, else the materialised page.
pub(super) fn page_head<'a>(image: &'a Image, p: &PageRecord, len: usize) -> Option<Cow<'a, [u8]>> {
    if p.status == Status::Ok && p.checksum != ChecksumKind::Compressed {
        Some(image.bytes(p.offset, len))
    } else {
        page_bytes(image, p)
    }
}

/// FIL_PAGE_PREV and FIL_PAGE_NEXT of a page copy.
pub(super) fn fil_links(image: &Image, p: &PageRecord) -> Option<(u32, u32)> {
    let b = page_head(image, p, fil::FIL_PAGE_NEXT + 4)?;
    Some((
        be_u32(&b, fil::FIL_PAGE_PREV)?,
        be_u32(&b, fil::FIL_PAGE_NEXT)?,
    ))
}
