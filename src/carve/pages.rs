//! Page bytes for the stages after the scan: the logical page of a copy the
//! carver found, whatever form it has on disk.

use std::borrow::Cow;

use crate::carve::detect::assemble;
use crate::carve::store::PageStore;
use crate::carve::{PageRecord, Reason, Status};
use crate::image::Image;
use crate::innodb::checksum::ChecksumKind;
use crate::innodb::fil;
use crate::innodb::fsp::{sizes_from_flags, FspHeader};
use crate::innodb::lob::PageSource;
use crate::innodb::page_compressed as pc;
use crate::innodb::page_zip;
use crate::innodb::repair::Fix;

/// Logical page size assumed for a ROW_FORMAT=COMPRESSED page whose
/// tablespace header is not at hand (the server default; record offsets
/// on a compressed page are always below 16 KiB).
pub const DEFAULT_LOGICAL_SIZE: u32 = 16384;

/// Whether a copy is a ROW_FORMAT=COMPRESSED page (its checksum gave its
/// physical size; its logical size is not on the page).
pub fn is_zip(p: &PageRecord) -> bool {
    p.logical_size == 0 && p.checksum != ChecksumKind::Compressed
}

/// Page types stored compressed record by record on a ROW_FORMAT=COMPRESSED
/// page (B-tree, R-tree and MySQL 8 SDI pages).
fn is_zip_index_type(t: u16) -> bool {
    matches!(
        t,
        fil::FIL_PAGE_INDEX | fil::FIL_PAGE_RTREE | fil::FIL_PAGE_SDI
    )
}

/// The logical bytes of one page copy: in place for a whole page, with its
/// zero blocks put back for a reassembled one, inflated for MariaDB
/// PAGE_COMPRESSED. A ROW_FORMAT=COMPRESSED index page is decompressed
/// ([`page_zip::decompress`]) into a page of [`DEFAULT_LOGICAL_SIZE`]
/// bytes (see [`page_bytes_sized`] to give the tablespace's own size);
/// its other pages (BLOB, FSP_HDR, ...) come back as stored, physical
/// bytes. `None` when the bytes cannot be had.
pub fn page_bytes<'a>(image: &'a Image, p: &PageRecord) -> Option<Cow<'a, [u8]>> {
    page_bytes_sized(image, p, None)
}

/// [`page_bytes`] with the logical page size of the copy's tablespace,
/// when known (from its page 0: [`StorePages::logical_size`]), for
/// ROW_FORMAT=COMPRESSED index pages.
pub fn page_bytes_sized<'a>(
    image: &'a Image,
    p: &PageRecord,
    logical: Option<u32>,
) -> Option<Cow<'a, [u8]>> {
    let bytes = stored_bytes(image, p)?;
    if is_zip(p) && is_zip_index_type(p.page_type) {
        let logical = logical.unwrap_or(DEFAULT_LOGICAL_SIZE) as usize;
        return page_zip::decompress(&bytes, logical).ok().map(Cow::Owned);
    }
    Some(bytes)
}

/// The page as it is on disk (zero blocks put back, a repaired byte put
/// back, page_compressed inflated), before any ROW_FORMAT=COMPRESSED
/// decompression.
fn stored_bytes<'a>(image: &'a Image, p: &PageRecord) -> Option<Cow<'a, [u8]>> {
    let phys = image.bytes(p.offset, p.phys_size as usize);
    if phys.len() < p.phys_size as usize {
        return None;
    }
    match (p.status, p.reason, p.checksum) {
        (Status::Reassembled, Reason::Holes { mask, granularity }, _) => {
            let size = if p.logical_size != 0 {
                p.logical_size as usize
            } else {
                // ROW_FORMAT=COMPRESSED: physical blocks plus the holes.
                (p.phys_size as usize / granularity as usize + mask.count_ones() as usize)
                    * granularity as usize
            };
            let mut out = Vec::new();
            assemble(&phys, size, granularity as usize, mask, &mut out);
            Some(Cow::Owned(out))
        }
        (Status::Repaired, Reason::Repaired { at, len, old, new }, kind) => {
            let fix = Fix {
                at: at as usize,
                len,
                old,
                new,
            };
            let mut page = phys.into_owned();
            if !fix.apply(&mut page) {
                return None;
            }
            if kind == ChecksumKind::Compressed {
                pc::inflate_page(&page).map(Cow::Owned)
            } else {
                Some(Cow::Owned(page))
            }
        }
        (_, _, ChecksumKind::Compressed) => pc::inflate_page(&phys).map(Cow::Owned),
        _ => Some(phys),
    }
}

/// Pages by (space id, page no) from the carved store: the best good copy.
pub struct StorePages<'a> {
    pub image: &'a Image,
    pub store: &'a PageStore,
    /// Off-page values longer than this are streamed when written, not
    /// assembled ([`PageSource::defer_values_over`]).
    pub defer_values_over: Option<u64>,
}

impl<'a> StorePages<'a> {
    /// The pages of `store` in `image`, every off-page value assembled.
    pub fn new(image: &'a Image, store: &'a PageStore) -> StorePages<'a> {
        StorePages {
            image,
            store,
            defer_values_over: None,
        }
    }

    /// The logical page size of a tablespace, from the FSP flags of the
    /// best good copy of its page 0.
    pub fn logical_size(&self, space_id: u32) -> Option<u32> {
        let p0 = self
            .store
            .copies(space_id, 0)
            .find(|p| p.status != Status::Damaged)?;
        let b = stored_bytes(self.image, p0)?;
        let h = FspHeader::parse(&b)?;
        if h.space_id != space_id {
            return None;
        }
        Some(sizes_from_flags(h.flags)?.logical)
    }

    /// [`page_bytes`] of one copy, a ROW_FORMAT=COMPRESSED index page
    /// decompressed to its tablespace's logical page size.
    pub fn bytes(&self, p: &PageRecord) -> Option<Cow<'a, [u8]>> {
        let logical = if is_zip(p) && is_zip_index_type(p.page_type) {
            self.logical_size(p.space_id)
        } else {
            None
        };
        page_bytes_sized(self.image, p, logical)
    }
}

impl PageSource for StorePages<'_> {
    fn page(&self, space_id: u32, page_no: u32) -> Option<Cow<'_, [u8]>> {
        self.store
            .copies(space_id, page_no)
            .filter(|p| p.status != Status::Damaged)
            .find_map(|p| self.bytes(p))
    }

    fn defer_values_over(&self) -> Option<u64> {
        self.defer_values_over
    }
}
