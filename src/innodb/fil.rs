//! The FIL header (first 38 bytes of every page) and trailer (last 8 bytes).
//!
//! Sources: MySQL `storage/innobase/include/fil0types.h`, MariaDB
//! `storage/innobase/include/fil0fil.h` (full_crc32 and page_compressed).

use crate::bytes::{be_u16, be_u32, be_u64};

/// Checksum (or, before MySQL 4.0.14, space id). Unused by full_crc32.
pub const FIL_PAGE_SPACE_OR_CHKSUM: usize = 0;
/// Page number within its tablespace.
pub const FIL_PAGE_OFFSET: usize = 4;
pub const FIL_PAGE_PREV: usize = 8;
pub const FIL_PAGE_NEXT: usize = 12;
/// LSN of the newest change to the page (8 bytes).
pub const FIL_PAGE_LSN: usize = 16;
/// Page type (2 bytes).
pub const FIL_PAGE_TYPE: usize = 24;
/// Flush LSN on page 0 of ibdata1; key version / compression algorithm elsewhere.
pub const FIL_PAGE_FILE_FLUSH_LSN: usize = 26;
/// Space id (4 bytes).
pub const FIL_PAGE_SPACE_ID: usize = 34;
/// Start of the page body.
pub const FIL_PAGE_DATA: usize = 38;
/// Trailer size: old-style checksum (4) + low 32 bits of the LSN (4).
pub const FIL_PAGE_DATA_END: usize = 8;
/// full_crc32 pages end with the low LSN (at size-8) and the CRC-32C (at size-4).
pub const FIL_PAGE_FCRC32_END_LSN: usize = 8;
pub const FIL_PAGE_FCRC32_CHECKSUM: usize = 4;

/// `0xDEADBEEF` in a checksum field: innodb_checksum_algorithm=none.
pub const BUF_NO_CHECKSUM_MAGIC: u32 = 0xDEAD_BEEF;
/// "No page" in page links.
pub const FIL_NULL: u32 = 0xFFFF_FFFF;

// Page types (FIL_PAGE_TYPE).
pub const FIL_PAGE_TYPE_ALLOCATED: u16 = 0;
pub const FIL_PAGE_UNDO_LOG: u16 = 2;
pub const FIL_PAGE_INODE: u16 = 3;
pub const FIL_PAGE_IBUF_FREE_LIST: u16 = 4;
pub const FIL_PAGE_IBUF_BITMAP: u16 = 5;
pub const FIL_PAGE_TYPE_SYS: u16 = 6;
pub const FIL_PAGE_TYPE_TRX_SYS: u16 = 7;
pub const FIL_PAGE_TYPE_FSP_HDR: u16 = 8;
pub const FIL_PAGE_TYPE_XDES: u16 = 9;
pub const FIL_PAGE_TYPE_BLOB: u16 = 10;
pub const FIL_PAGE_TYPE_ZBLOB: u16 = 11;
pub const FIL_PAGE_TYPE_ZBLOB2: u16 = 12;
pub const FIL_PAGE_TYPE_UNKNOWN: u16 = 13;
/// MySQL 5.7+: 14..=17 (transparent compression / encryption). MariaDB: 18 is
/// FIL_PAGE_TYPE_INSTANT (clustered root after instant ADD), MySQL: SDI_BLOB.
pub const FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB: u16 = 18;
pub const FIL_PAGE_SDI_ZBLOB: u16 = 19;
pub const FIL_PAGE_TYPE_LOB_INDEX: u16 = 22;
pub const FIL_PAGE_TYPE_LOB_DATA: u16 = 23;
pub const FIL_PAGE_TYPE_LOB_FIRST: u16 = 24;
pub const FIL_PAGE_TYPE_ZLOB_FIRST: u16 = 25;
/// Last of MySQL's small type numbers (ZLOB_FRAG_ENTRY).
pub const FIL_PAGE_TYPE_LAST_SMALL: u16 = 29;
pub const FIL_PAGE_SDI: u16 = 17853;
pub const FIL_PAGE_RTREE: u16 = 17854;
pub const FIL_PAGE_INDEX: u16 = 17855;
/// MariaDB page_compressed (not full_crc32).
pub const FIL_PAGE_PAGE_COMPRESSED: u16 = 34354;
pub const FIL_PAGE_PAGE_COMPRESSED_ENCRYPTED: u16 = 37401;
/// MariaDB full_crc32 page_compressed: bit 15 set, the rest holds size >> 8.
pub const FIL_PAGE_COMPRESS_FCRC32_MARKER: u16 = 1 << 15;

/// Whether `t` is a page type some InnoDB version writes (uncompressed
/// header). full_crc32 page_compressed types are handled separately.
pub const fn is_known_type(t: u16) -> bool {
    matches!(
        t,
        0..=FIL_PAGE_TYPE_LAST_SMALL
            | FIL_PAGE_SDI
            | FIL_PAGE_RTREE
            | FIL_PAGE_INDEX
            | FIL_PAGE_PAGE_COMPRESSED
            | FIL_PAGE_PAGE_COMPRESSED_ENCRYPTED
    ) && t != 1
}

/// A 64 Ki-entry bitmap of [`is_known_type`], for the scanner's inner loop.
pub static KNOWN_TYPE: [u64; 1024] = {
    let mut bits = [0u64; 1024];
    let mut t: u32 = 0;
    while t < 65536 {
        if is_known_type(t as u16) {
            bits[(t >> 6) as usize] |= 1 << (t & 63);
        }
        t += 1;
    }
    bits
};

#[inline(always)]
pub fn known_type(t: u16) -> bool {
    KNOWN_TYPE[(t >> 6) as usize] >> (t & 63) & 1 != 0
}

/// Human name of a page type, as InnoDB's tools print it.
pub fn type_name(t: u16) -> &'static str {
    match t {
        0 => "ALLOCATED",
        2 => "UNDO_LOG",
        3 => "INODE",
        4 => "IBUF_FREE_LIST",
        5 => "IBUF_BITMAP",
        6 => "SYS",
        7 => "TRX_SYS",
        8 => "FSP_HDR",
        9 => "XDES",
        10 => "BLOB",
        11 => "ZBLOB",
        12 => "ZBLOB2",
        13 => "UNKNOWN",
        14 => "COMPRESSED",
        15 => "ENCRYPTED",
        16 => "COMPRESSED_AND_ENCRYPTED",
        17 => "ENCRYPTED_RTREE",
        18 => "SDI_BLOB/INSTANT",
        19 => "SDI_ZBLOB",
        20 => "LEGACY_DBLWR",
        21 => "RSEG_ARRAY",
        22 => "LOB_INDEX",
        23 => "LOB_DATA",
        24 => "LOB_FIRST",
        25 => "ZLOB_FIRST",
        26 => "ZLOB_DATA",
        27 => "ZLOB_INDEX",
        28 => "ZLOB_FRAG",
        29 => "ZLOB_FRAG_ENTRY",
        FIL_PAGE_SDI => "SDI",
        FIL_PAGE_RTREE => "RTREE",
        FIL_PAGE_INDEX => "INDEX",
        FIL_PAGE_PAGE_COMPRESSED => "PAGE_COMPRESSED",
        FIL_PAGE_PAGE_COMPRESSED_ENCRYPTED => "PAGE_COMPRESSED_ENCRYPTED",
        t if t & FIL_PAGE_COMPRESS_FCRC32_MARKER != 0 => "PAGE_COMPRESSED",
        _ => "?",
    }
}

/// The FIL header fields of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilHeader {
    pub checksum: u32,
    pub page_no: u32,
    pub prev: u32,
    pub next: u32,
    pub lsn: u64,
    pub page_type: u16,
    pub flush_lsn: u64,
    pub space_id: u32,
}

impl FilHeader {
    /// Reads the header; `None` when fewer than 38 bytes are given.
    pub fn parse(b: &[u8]) -> Option<FilHeader> {
        Some(FilHeader {
            checksum: be_u32(b, FIL_PAGE_SPACE_OR_CHKSUM)?,
            page_no: be_u32(b, FIL_PAGE_OFFSET)?,
            prev: be_u32(b, FIL_PAGE_PREV)?,
            next: be_u32(b, FIL_PAGE_NEXT)?,
            lsn: be_u64(b, FIL_PAGE_LSN)?,
            page_type: be_u16(b, FIL_PAGE_TYPE)?,
            flush_lsn: be_u64(b, FIL_PAGE_FILE_FLUSH_LSN)?,
            space_id: be_u32(b, FIL_PAGE_SPACE_ID)?,
        })
    }
}
