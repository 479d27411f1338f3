//! The index page header (PAGE_HEADER, right after the FIL header) of INDEX,
//! RTREE and SDI pages.
//!
//! Source: MySQL/MariaDB `storage/innobase/include/page0page.h` (PAGE_*
//! offsets relative to PAGE_HEADER = FIL_PAGE_DATA).

use crate::bytes::{be_u16, be_u64, slice};
use crate::innodb::fil::FIL_PAGE_DATA;

pub const PAGE_N_DIR_SLOTS: usize = 0;
pub const PAGE_HEAP_TOP: usize = 2;
/// Number of records in the heap; bit 15 set means the COMPACT format.
pub const PAGE_N_HEAP: usize = 4;
pub const PAGE_FREE: usize = 6;
pub const PAGE_GARBAGE: usize = 8;
pub const PAGE_LAST_INSERT: usize = 10;
pub const PAGE_DIRECTION: usize = 12;
pub const PAGE_N_DIRECTION: usize = 14;
pub const PAGE_N_RECS: usize = 16;
pub const PAGE_MAX_TRX_ID: usize = 18;
pub const PAGE_LEVEL: usize = 26;
pub const PAGE_INDEX_ID: usize = 28;

/// Offset of the "infimum" string in COMPACT pages (PAGE_NEW_INFIMUM + 0).
pub const PAGE_NEW_INFIMUM: usize = 99;
/// Offset of the "infimum" string in REDUNDANT pages.
pub const PAGE_OLD_INFIMUM: usize = 101;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageHeader {
    pub n_dir_slots: u16,
    pub heap_top: u16,
    pub n_heap: u16,
    pub compact: bool,
    pub n_recs: u16,
    pub level: u16,
    pub index_id: u64,
}

impl PageHeader {
    pub fn parse(page: &[u8]) -> Option<PageHeader> {
        let h = FIL_PAGE_DATA;
        let n_heap_raw = be_u16(page, h + PAGE_N_HEAP)?;
        Some(PageHeader {
            n_dir_slots: be_u16(page, h + PAGE_N_DIR_SLOTS)?,
            heap_top: be_u16(page, h + PAGE_HEAP_TOP)?,
            n_heap: n_heap_raw & 0x7FFF,
            compact: n_heap_raw & 0x8000 != 0,
            n_recs: be_u16(page, h + PAGE_N_RECS)?,
            level: be_u16(page, h + PAGE_LEVEL)?,
            index_id: be_u64(page, h + PAGE_INDEX_ID)?,
        })
    }
}

/// Whether the page carries the infimum/supremum system records where an
/// uncompressed index page has them (COMPACT or REDUNDANT).
pub fn has_infimum(page: &[u8]) -> bool {
    slice(page, PAGE_NEW_INFIMUM, 8) == Some(b"infimum\0")
        || slice(page, PAGE_OLD_INFIMUM, 8) == Some(b"infimum\0")
}
