//! Page checksums.
//!
//! Sources: MySQL `storage/innobase/buf/buf0checksum.cc` (crc32, innodb
//! fold, none), `page/page0zip.cc` (`page_zip_calc_checksum`), MariaDB
//! `buf0buf.cc` (full_crc32: CRC-32C of all but the last 4 bytes).

use crate::innodb::fil::{
    FIL_PAGE_DATA, FIL_PAGE_DATA_END, FIL_PAGE_FCRC32_CHECKSUM, FIL_PAGE_FILE_FLUSH_LSN,
    FIL_PAGE_LSN, FIL_PAGE_OFFSET, FIL_PAGE_SPACE_ID, FIL_PAGE_TYPE,
};

/// CRC-32C (Castagnoli), as InnoDB's `ut_crc32`: the hardware instruction
/// where the CPU has it (SSE 4.2, ARMv8 CRC), slice-by-8 tables elsewhere.
pub fn crc32c(data: &[u8]) -> u32 {
    crc32c::crc32c(data)
}

/// Continues a CRC-32C over more bytes.
pub fn crc32c_append(crc: u32, data: &[u8]) -> u32 {
    crc32c::crc32c_append(crc, data)
}

/// The checksum kinds the carver recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChecksumKind {
    Crc32c,
    Innodb,
    None,
    FullCrc32,
    /// MariaDB page_compressed: verified by its own format.
    Compressed,
}

impl ChecksumKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChecksumKind::Crc32c => "crc32c",
            ChecksumKind::Innodb => "innodb",
            ChecksumKind::None => "none",
            ChecksumKind::FullCrc32 => "full_crc32",
            ChecksumKind::Compressed => "compressed",
        }
    }
}

/// `buf_calc_page_crc32`: CRC-32C of bytes 4..26 XOR CRC-32C of the body
/// (38 .. size-8).
pub fn crc32_page(page: &[u8]) -> u32 {
    let n = page.len();
    crc32c(&page[FIL_PAGE_OFFSET..FIL_PAGE_FILE_FLUSH_LSN])
        ^ crc32c(&page[FIL_PAGE_DATA..n - FIL_PAGE_DATA_END])
}

const UT_HASH_RANDOM_MASK: u64 = 1_463_735_687;
const UT_HASH_RANDOM_MASK2: u64 = 1_653_893_711;

#[inline(always)]
fn fold_pair(n1: u64, n2: u64) -> u64 {
    ((((n1 ^ n2 ^ UT_HASH_RANDOM_MASK2) << 8).wrapping_add(n1)) ^ UT_HASH_RANDOM_MASK)
        .wrapping_add(n2)
}

fn fold_binary(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |f, &x| fold_pair(f, x as u64))
}

/// `buf_calc_page_new_checksum`: the legacy "innodb" checksum at offset 0.
pub fn innodb_new(page: &[u8]) -> u32 {
    let n = page.len();
    (fold_binary(&page[FIL_PAGE_OFFSET..FIL_PAGE_FILE_FLUSH_LSN])
        .wrapping_add(fold_binary(&page[FIL_PAGE_DATA..n - FIL_PAGE_DATA_END]))
        & 0xFFFF_FFFF) as u32
}

/// `buf_calc_page_old_checksum`: the legacy checksum in the trailer.
pub fn innodb_old(page: &[u8]) -> u32 {
    (fold_binary(&page[..FIL_PAGE_FILE_FLUSH_LSN]) & 0xFFFF_FFFF) as u32
}

/// MariaDB full_crc32: CRC-32C of everything but the last 4 bytes.
pub fn full_crc32(page: &[u8]) -> u32 {
    crc32c(&page[..page.len() - FIL_PAGE_FCRC32_CHECKSUM])
}

/// Adler-32 with InnoDB's zero start (`adler32(0L, ...)`, not zlib's 1).
#[derive(Clone, Copy)]
pub struct Adler {
    a: u32,
    b: u32,
}

impl Adler {
    pub fn zero() -> Adler {
        Adler { a: 0, b: 0 }
    }
    pub fn update(&mut self, data: &[u8]) {
        const MOD: u32 = 65521;
        for chunk in data.chunks(5552) {
            for &x in chunk {
                self.a += x as u32;
                self.b += self.a;
            }
            self.a %= MOD;
            self.b %= MOD;
        }
    }
    pub fn value(&self) -> u32 {
        (self.b << 16) | self.a
    }
}

/// Checksums of a ROW_FORMAT=COMPRESSED page (`page_zip_calc_checksum`:
/// bytes 4..16, 24..26 and 34..size) at each physical size 1, 2, 4, 8,
/// 16 KiB, computed in one pass: returns the first size whose
/// crc32c or innodb (adler32) checksum equals the stored one.
pub fn zip_match(page_upto_16k: &[u8], stored: u32) -> Option<(u32, ChecksumKind)> {
    let p = page_upto_16k;
    if p.len() < 1024 {
        return None;
    }
    let mut crc_head = crc32c(&p[FIL_PAGE_OFFSET..FIL_PAGE_LSN]);
    crc_head ^= crc32c(&p[FIL_PAGE_TYPE..FIL_PAGE_TYPE + 2]);
    let mut adler = Adler::zero();
    adler.update(&p[FIL_PAGE_OFFSET..FIL_PAGE_LSN]);
    adler.update(&p[FIL_PAGE_TYPE..FIL_PAGE_TYPE + 2]);
    let mut running = 0u32;
    let mut done = FIL_PAGE_SPACE_ID;
    for size in [1024usize, 2048, 4096, 8192, 16384] {
        if size > p.len() {
            break;
        }
        running = crc32c_append(running, &p[done..size]);
        adler.update(&p[done..size]);
        done = size;
        if crc_head ^ running == stored {
            return Some((size as u32, ChecksumKind::Crc32c));
        }
        if adler.value() == stored {
            return Some((size as u32, ChecksumKind::Innodb));
        }
    }
    None
}

/// The crc32c and innodb (adler32) checksums of a whole ROW_FORMAT=COMPRESSED
/// page of exactly `page.len()` bytes.
pub fn zip_checksums(page: &[u8]) -> (u32, u32) {
    let crc = crc32c(&page[FIL_PAGE_OFFSET..FIL_PAGE_LSN])
        ^ crc32c(&page[FIL_PAGE_TYPE..FIL_PAGE_TYPE + 2])
        ^ crc32c(&page[FIL_PAGE_SPACE_ID..]);
    let mut adler = Adler::zero();
    adler.update(&page[FIL_PAGE_OFFSET..FIL_PAGE_LSN]);
    adler.update(&page[FIL_PAGE_TYPE..FIL_PAGE_TYPE + 2]);
    adler.update(&page[FIL_PAGE_SPACE_ID..]);
    (crc, adler.value())
}

/// Checks an uncompressed page with the classic trailer (not full_crc32).
/// Returns the matching kind, or `None` when no algorithm matches.
pub fn classic_match(page: &[u8]) -> Option<ChecksumKind> {
    let n = page.len();
    let stored = u32::from_be_bytes(page[0..4].try_into().ok()?);
    let stored_old = u32::from_be_bytes(page[n - 8..n - 4].try_into().ok()?);
    if stored == crate::innodb::fil::BUF_NO_CHECKSUM_MAGIC {
        return Some(ChecksumKind::None);
    }
    if stored == crc32_page(page) {
        return Some(ChecksumKind::Crc32c);
    }
    // innodb: the cheap trailer fold first, then the full-page one.
    if stored_old == innodb_old(page) && stored == innodb_new(page) {
        return Some(ChecksumKind::Innodb);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
    }

    #[test]
    fn adler_matches_zlib_when_started_at_one() {
        // zlib's adler32("Wikipedia") = 0x11E60398, which starts from a=1.
        let mut a = Adler { a: 1, b: 0 };
        a.update(b"Wikipedia");
        assert_eq!(a.value(), 0x11E6_0398);
    }
}
