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

/// Start of the payload of an older-format page (after its 2-byte length).
pub const LEGACY_PAYLOAD: usize = FIL_PAGE_DATA + 2;

/// The compressed stream of a page_compressed page of either format, whose
/// physical bytes are `phys`.
pub fn stream(phys: &[u8]) -> Option<&[u8]> {
    let t = be_u16(phys, crate::innodb::fil::FIL_PAGE_TYPE)?;
    if let Some(size) = fcrc32_physical_size(t) {
        return phys.get(FIL_PAGE_COMP_ALGO..size.checked_sub(4)?);
    }
    let (_, len) = legacy_header(phys)?;
    phys.get(LEGACY_PAYLOAD..LEGACY_PAYLOAD.checked_add(len)?)
}

/// The logical page of a zlib page_compressed page: the inflated stream is
/// either the whole page or the page after the `FIL_PAGE_DATA` bytes kept
/// in clear. `None` when it does not inflate to a page of a valid size
/// with this page's number.
pub fn inflate_page(phys: &[u8]) -> Option<Vec<u8>> {
    const SIZES: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
    let out = inflate(stream(phys)?)?;
    let page_no = |p: &[u8]| be_u32(p, crate::innodb::fil::FIL_PAGE_OFFSET);
    if SIZES.contains(&out.len()) && page_no(&out) == page_no(phys) {
        return Some(out);
    }
    if SIZES.contains(&(out.len() + FIL_PAGE_DATA)) {
        let mut page = phys.get(..FIL_PAGE_DATA)?.to_vec();
        page.extend_from_slice(&out);
        return Some(page);
    }
    None
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
