//! Damaged candidates that cannot be pages: bytes elsewhere (a redo log
//! block, a journal, a file's data) whose first bytes happen to look like
//! a FIL header. A damaged copy is kept only when its page number fits its
//! tablespace and its LSN fits the pages that are proven.
//!
//! * The size of a tablespace is the largest FSP_SIZE of its good page-0
//!   copies, else (page 0 lost) one past its largest good page number. A
//!   page number beyond twice that, plus 1,024, is not a page of it (the
//!   margin allows for a file that grew after the copies found were
//!   written).
//! * The LSN of a real page is at most the newest LSN the log reached. A
//!   candidate whose LSN is more than 65,536 times the newest LSN of any
//!   good page (at least 16 MiB) is not a page.
//!
//! A tablespace with no good page at all gives no size bound: its damaged
//! copies are kept.

use std::collections::HashMap;

use super::pages::page_bytes;
use super::store::PageStore;
use super::Status;
use crate::image::Image;
use crate::innodb::fsp::FspHeader;

/// How far beyond the newest good LSN a candidate's may be.
const LSN_FACTOR: u64 = 1 << 16;

/// Removes the damaged copies of `store` that cannot be pages; returns how
/// many.
pub fn reject_impossible(store: &mut PageStore, image: &Image) -> usize {
    let mut size: HashMap<u32, u64> = HashMap::new();
    let mut newest = 0u64;
    for p in store.pages.iter().filter(|p| p.status != Status::Damaged) {
        newest = newest.max(p.lsn);
        let s = size.entry(p.space_id).or_default();
        *s = (*s).max(u64::from(p.page_no) + 1);
        if p.page_no == 0 {
            let fsp = page_bytes(image, p).and_then(|b| FspHeader::parse(&b));
            if let Some(h) = fsp.filter(|h| h.space_id == p.space_id) {
                *s = (*s).max(u64::from(h.size_pages));
            }
        }
    }
    let lsn_limit = newest.max(1 << 24).saturating_mul(LSN_FACTOR);
    store.retain(|p| {
        p.status != Status::Damaged
            || (p.lsn <= lsn_limit
                && size
                    .get(&p.space_id)
                    .is_none_or(|&s| u64::from(p.page_no) < 2 * s + 1024))
    })
}
