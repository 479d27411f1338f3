//! Page bytes for the stages after the scan: the logical page of a copy the
//! carver found, whatever form it has on disk.

use std::borrow::Cow;

use crate::carve::detect::assemble;
use crate::carve::store::PageStore;
use crate::carve::{PageRecord, Reason, Status};
use crate::image::Image;
use crate::innodb::checksum::ChecksumKind;
use crate::innodb::lob::PageSource;
use crate::innodb::page_compressed as pc;

/// The logical bytes of one page copy: in place for a whole page, with its
/// zero blocks put back for a reassembled one, inflated for MariaDB
/// PAGE_COMPRESSED. ROW_FORMAT=COMPRESSED pages come back as stored (their
/// physical bytes). `None` when the bytes cannot be had.
pub fn page_bytes<'a>(image: &'a Image, p: &PageRecord) -> Option<Cow<'a, [u8]>> {
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
        (_, _, ChecksumKind::Compressed) => pc::inflate_page(&phys).map(Cow::Owned),
        _ => Some(phys),
    }
}

/// Pages by (space id, page no) from the carved store: the best good copy.
pub struct StorePages<'a> {
    pub image: &'a Image,
    pub store: &'a PageStore,
}

impl PageSource for StorePages<'_> {
    fn page(&self, space_id: u32, page_no: u32) -> Option<Cow<'_, [u8]>> {
        self.store
            .copies(space_id, page_no)
            .filter(|p| p.status != Status::Damaged)
            .find_map(|p| page_bytes(self.image, p))
    }
}
