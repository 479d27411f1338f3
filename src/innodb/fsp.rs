//! The tablespace header (FSP header on page 0) and its flags.
//!
//! Sources: MySQL `fsp0types.h` / `fsp0fsp.h` (FSP_SPACE_FLAGS bit layout),
//! MariaDB `fsp0types.h` (the full_crc32 flags layout, FSP_FLAGS_FCRC32_*).

use crate::bytes::be_u32;
use crate::innodb::fil::FIL_PAGE_DATA;

/// Offsets inside the FSP header, which starts at FIL_PAGE_DATA of page 0.
pub const FSP_SPACE_ID: usize = 0;
pub const FSP_SIZE: usize = 8;
pub const FSP_FREE_LIMIT: usize = 12;
pub const FSP_SPACE_FLAGS: usize = 16;

/// full_crc32 marker bit (MariaDB 10.5+).
pub const FSP_FLAGS_FCRC32_MASK_MARKER: u32 = 1 << 4;
/// MySQL 8: tablespace has SDI.
pub const FSP_FLAGS_MASK_SDI: u32 = 1 << 14;

/// What page 0 says about its tablespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FspHeader {
    pub space_id: u32,
    pub size_pages: u32,
    pub free_limit: u32,
    pub flags: u32,
}

impl FspHeader {
    pub fn parse(page: &[u8]) -> Option<FspHeader> {
        let b = FIL_PAGE_DATA;
        Some(FspHeader {
            space_id: be_u32(page, b + FSP_SPACE_ID)?,
            size_pages: be_u32(page, b + FSP_SIZE)?,
            free_limit: be_u32(page, b + FSP_FREE_LIMIT)?,
            flags: be_u32(page, b + FSP_SPACE_FLAGS)?,
        })
    }
}

/// Page sizes encoded by FSP flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpaceSizes {
    /// Logical (uncompressed) page size in bytes.
    pub logical: u32,
    /// Physical size for ROW_FORMAT=COMPRESSED tablespaces, else `None`.
    pub zip: Option<u32>,
    pub full_crc32: bool,
    pub sdi: bool,
}

/// Decodes page sizes from FSP flags; `None` when the flags are invalid.
pub fn sizes_from_flags(flags: u32) -> Option<SpaceSizes> {
    let ssize_to = |s: u32| -> Option<u32> {
        match s {
            0 => Some(16384), // "original" 16 KiB
            3..=7 => Some(512 << s),
            _ => None,
        }
    };
    if flags & FSP_FLAGS_FCRC32_MASK_MARKER != 0 {
        // MariaDB full_crc32: bits 0..3 page ssize, bit 4 marker, 5..7 algorithm.
        let logical = ssize_to(flags & 0xF)?;
        return Some(SpaceSizes {
            logical,
            zip: None,
            full_crc32: true,
            sdi: false,
        });
    }
    // Classic: bit 0 post-antelope, 1..4 zip ssize, 5 atomic blobs, 6..9 page ssize.
    let zip_ssize = (flags >> 1) & 0xF;
    let page_ssize = (flags >> 6) & 0xF;
    let logical = ssize_to(page_ssize)?;
    let zip = match zip_ssize {
        0 => None,
        1..=5 => Some(512u32 << zip_ssize),
        _ => return None,
    };
    Some(SpaceSizes {
        logical,
        zip,
        full_crc32: false,
        sdi: flags & FSP_FLAGS_MASK_SDI != 0,
    })
}

/// Start of the extent descriptor array on FSP_HDR / XDES pages
/// (FSP_HEADER_OFFSET + FSP_HEADER_SIZE).
pub const XDES_ARR_OFFSET: usize = 38 + 112;
/// Offset of the state and of the page bitmap inside a descriptor.
pub const XDES_STATE: usize = 20;
pub const XDES_BITMAP: usize = 24;
/// Extent states.
pub const XDES_FREE: u32 = 1;

/// Pages per extent for a logical page size (1 MiB extents up to 16 KiB
/// pages, then 64 pages).
pub fn extent_pages(page_size: u32) -> u32 {
    match page_size {
        4096 => 256,
        8192 => 128,
        _ => 64,
    }
}

/// The pages an FSP_HDR / XDES page (page number `base`) marks free. One
/// descriptor page covers `described` pages (the physical page size in
/// pages: the zip size for a ROW_FORMAT=COMPRESSED tablespace) in extents
/// of [`extent_pages`] of the `logical` page size. `None` when the page is
/// too short to hold the array.
///
/// Source (facts only): `fsp0fsp.h` xdes_calc_descriptor_page (descriptor
/// pages every physical-page-size pages), `fsp0types.h` FSP_EXTENT_SIZE
/// (from the logical page size).
pub fn free_pages_in_xdes(
    xdes: &[u8],
    base: u32,
    described: u32,
    logical: u32,
) -> Option<Vec<u32>> {
    let ext = extent_pages(logical);
    let entry = XDES_BITMAP + (ext as usize * 2).div_ceil(8);
    let n_entries = described / ext;
    let mut free = Vec::new();
    for i in 0..n_entries as usize {
        let e = XDES_ARR_OFFSET + i * entry;
        let state = be_u32(xdes, e + XDES_STATE)?;
        let first = base + i as u32 * ext;
        for j in 0..ext {
            let is_free = state == 0 || state == XDES_FREE || {
                let bit = 2 * j as usize;
                let byte = *xdes.get(e + XDES_BITMAP + bit / 8)?;
                byte >> (bit % 8) & 1 == 1
            };
            if is_free {
                free.push(first + j);
            }
        }
    }
    Some(free)
}
