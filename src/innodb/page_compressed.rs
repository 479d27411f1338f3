//! MariaDB PAGE_COMPRESSED pages (`page_compressed=1` tables).
//!
//! Two formats (MariaDB `fil0pagecompress.cc`):
//! * full_crc32 (10.5+): FIL_PAGE_TYPE = 0x8000 | (physical size >> 8); the
//!   compressed stream starts at byte 26 (FIL_PAGE_COMP_ALGO); the page ends
//!   with a CRC-32C of everything before it at `size - 4`.
//! * older: FIL_PAGE_TYPE = 34354, checksum field 0xDEADBEEF, algorithm in
//!   bytes 32..34 (bytes 26..32 zero), payload length at 38..40, payload
//!   from byte 40. No checksum: it is verified by decompressing.

use std::io::Read;

use crate::bytes::{be_u16, be_u32, slice};
use crate::innodb::fil::{BUF_NO_CHECKSUM_MAGIC, FIL_PAGE_COMPRESS_FCRC32_MARKER, FIL_PAGE_DATA};

pub const FIL_PAGE_COMP_ALGO: usize = 26;
pub const PAGE_ZLIB_ALGORITHM: u16 = 1;

/// Physical size of a full_crc32 page_compressed page from its type field.
pub fn fcrc32_physical_size(page_type: u16) -> Option<usize> {
    if page_type & FIL_PAGE_COMPRESS_FCRC32_MARKER == 0 {
        return None;
    }
    let size = ((page_type & !FIL_PAGE_COMPRESS_FCRC32_MARKER) as usize) << 8;
    (256..65536).contains(&size).then_some(size)
}

/// For an older-format page_compressed page: (algorithm, payload length).
pub fn legacy_header(page: &[u8]) -> Option<(u16, usize)> {
    if be_u32(page, 0)? != BUF_NO_CHECKSUM_MAGIC {
        return None;
    }
    if slice(page, FIL_PAGE_COMP_ALGO, 6)? != [0u8; 6] {
        return None;
    }
    let algo = be_u16(page, FIL_PAGE_COMP_ALGO + 6)?;
    let len = be_u16(page, FIL_PAGE_DATA)? as usize;
    if !(1..=6).contains(&algo) || len == 0 {
        return None;
    }
    Some((algo, len))
}

/// Inflates a zlib stream into at most 64 KiB. Returns the output when the
/// stream is complete and valid (its Adler-32 checks), else `None`.
pub fn inflate(stream: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(16384);
    let mut d = flate2::read::ZlibDecoder::new(stream).take(65536 + 1);
    d.read_to_end(&mut out).ok()?;
    if out.len() > 65536 {
        return None;
    }
    Some(out)
}
