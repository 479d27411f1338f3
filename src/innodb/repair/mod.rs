//! Pages repaired by their own checksum.
//!
//! A page whose checksum fails by one damaged byte (or one 2-byte burst)
//! tells, through the checksum's syndrome, which byte it is and what it
//! was: CRC-32C is linear ([`crc`]), and the Adler-32 of compressed pages
//! can be solved for one byte ([`adler`]). A repair is used only when
//!
//! * exactly one error pattern fits and passes the checks below (a single
//!   byte first; a burst only when no single byte does, because a random
//!   syndrome fits some burst of a 16 KiB page one time in four; and a
//!   byte of a checksum's short header segment and the byte as far from
//!   the end of its long body segment always fit together: the checks tell
//!   which one is right, or neither is used),
//! * for a 2-byte burst, bursts are allowed ([`Policy::bursts`], off by
//!   default): two damaged bytes apart leave a syndrome that one burst
//!   fits alone about one time in five, and nothing on the page tells that
//!   apart from a true burst, so a burst repair is only as sure as the
//!   knowledge that the damage comes in bursts,
//! * the repaired page's checksum holds, and
//! * the repaired page is consistent ([`check`]): header and trailer LSN
//!   agree, page number and links are sane, an index page's record list
//!   runs from the infimum to the supremum with `PAGE_N_RECS` records, a
//!   repair does not write the only non-zero bytes into its free space, a
//!   ROW_FORMAT=COMPRESSED index page decompresses and a PAGE_COMPRESSED
//!   page inflates.
//!
//! Formats: MariaDB full_crc32, classic `crc32` (its two stored copies: a
//! damaged copy is fixed when the other copy and the computed value
//! agree), ROW_FORMAT=COMPRESSED `crc32` and `innodb` (Adler-32), MariaDB
//! full_crc32 PAGE_COMPRESSED. The legacy `innodb` fold checksum of
//! uncompressed pages is not linear and is not repaired.

pub mod adler;
pub mod check;
pub mod crc;

use std::sync::atomic::{AtomicBool, Ordering};

use crate::bytes::{be_u16, be_u32};
use crate::innodb::checksum::{self, Adler};
use crate::innodb::fil::{self, FIL_PAGE_FILE_FLUSH_LSN, FIL_PAGE_LSN, FIL_PAGE_SPACE_ID};
use crate::innodb::page_compressed as pc;
use crc::{Fit, Fits};

/// A checksum format that can be repaired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// MariaDB full_crc32: CRC-32C of `page[..n-4]` stored at `n-4`; the
    /// trailer LSN at `n-8` is inside the checksum.
    FullCrc32,
    /// Classic `crc32`: CRC-32C(4..26) ^ CRC-32C(38..n-8), stored at 0 and
    /// at `n-8`; the trailer LSN at `n-4`.
    Crc32,
    /// ROW_FORMAT=COMPRESSED `crc32` (`page_zip_calc_checksum`).
    ZipCrc32,
    /// ROW_FORMAT=COMPRESSED `innodb` (Adler-32 from zero).
    ZipAdler,
    /// MariaDB full_crc32 PAGE_COMPRESSED: CRC-32C of all but the last 4
    /// bytes, physical size from the page type.
    Fcrc32Compressed,
}

/// What repairs may be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    /// Repair 2-byte bursts (when no single byte fits).
    pub bursts: bool,
}

static BURSTS: AtomicBool = AtomicBool::new(false);

/// Sets the process-wide [`Policy`] the carver uses (bursts off unless
/// asked for: `--repair-bursts`).
pub fn set_policy(p: Policy) {
    BURSTS.store(p.bursts, Ordering::Relaxed);
}

/// The process-wide [`Policy`].
pub fn policy() -> Policy {
    Policy {
        bursts: BURSTS.load(Ordering::Relaxed),
    }
}

/// A repair: `len` bytes at page offset `at` were `old` and are `new`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fix {
    pub at: usize,
    pub len: u8,
    pub old: [u8; 2],
    pub new: [u8; 2],
}

impl Fix {
    fn of(page: &[u8], f: Fit) -> Option<Fix> {
        let n = usize::from(f.len.min(2));
        let bytes = page.get(f.at..f.at.checked_add(n)?)?;
        let mut old = [0u8; 2];
        let mut new = [0u8; 2];
        for k in 0..n {
            old[k] = bytes[k];
            new[k] = bytes[k] ^ f.xor[k];
        }
        Some(Fix {
            at: f.at,
            len: n as u8,
            old,
            new,
        })
    }

    /// Writes the new bytes into `page` (a copy of the damaged page).
    /// `false` when they do not lie inside it.
    pub fn apply(&self, page: &mut [u8]) -> bool {
        let n = usize::from(self.len.min(2));
        match self
            .at
            .checked_add(n)
            .and_then(|end| page.get_mut(self.at..end))
        {
            Some(b) => {
                b.copy_from_slice(&self.new[..n]);
                true
            }
            None => false,
        }
    }
}

/// Page sizes each format can have; anything else is refused.
fn size_ok(page: &[u8], format: Format) -> bool {
    let n = page.len();
    match format {
        Format::FullCrc32 | Format::Crc32 => n.is_power_of_two() && (4096..=65536).contains(&n),
        Format::ZipCrc32 | Format::ZipAdler => n.is_power_of_two() && (1024..=16384).contains(&n),
        Format::Fcrc32Compressed => be_u16(page, fil::FIL_PAGE_TYPE)
            .and_then(pc::fcrc32_physical_size)
            .is_some_and(|s| s == n),
    }
}

/// Segments of a ROW_FORMAT=COMPRESSED page's checksum, in stream order.
fn zip_segments(n: usize) -> [(usize, usize); 3] {
    [
        (fil::FIL_PAGE_OFFSET, FIL_PAGE_LSN),
        (fil::FIL_PAGE_TYPE, FIL_PAGE_FILE_FLUSH_LSN),
        (FIL_PAGE_SPACE_ID, n),
    ]
}

fn zip_crc(page: &[u8]) -> u32 {
    zip_segments(page.len())
        .iter()
        .fold(0, |c, &(a, b)| c ^ checksum::crc32c(&page[a..b]))
}

fn zip_adler(page: &[u8]) -> u32 {
    let mut a = Adler::zero();
    for (x, y) in zip_segments(page.len()) {
        a.update(&page[x..y]);
    }
    a.value()
}

/// Whether the page's checksum holds in `format`.
pub fn verify(page: &[u8], format: Format) -> bool {
    if !size_ok(page, format) {
        return false;
    }
    let n = page.len();
    let stored0 = be_u32(page, 0);
    match format {
        Format::FullCrc32 | Format::Fcrc32Compressed => {
            be_u32(page, n - 4) == Some(checksum::full_crc32(page))
        }
        Format::Crc32 => stored0 == Some(checksum::crc32_page(page)),
        Format::ZipCrc32 => stored0 == Some(zip_crc(page)),
        Format::ZipAdler => stored0 == Some(zip_adler(page)),
    }
}

/// Every error pattern of at most one byte or one 2-byte burst that
/// explains the page's checksum (or, for a classic page whose checksum
/// holds, its trailer LSN). `None` for a size the format cannot have.
pub fn fits(page: &[u8], format: Format) -> Option<Fits> {
    if !size_ok(page, format) {
        return None;
    }
    let n = page.len();
    let mut f = Fits::default();
    let stored0 = be_u32(page, 0)?;
    match format {
        Format::FullCrc32 | Format::Fcrc32Compressed => {
            let stored = be_u32(page, n - 4)?;
            let c = checksum::full_crc32(page);
            crc::walk(stored ^ c, 0, n - 4, &mut f);
            crc::field(stored, c, n - 4, &mut f);
        }
        Format::Crc32 => {
            if stored0 == fil::BUF_NO_CHECKSUM_MAGIC {
                return Some(f);
            }
            let stored1 = be_u32(page, n - 8)?;
            let c = checksum::crc32_page(page);
            if stored0 == c {
                // The checksum holds: only the trailer LSN (outside it) can
                // be what is damaged.
                let lsn_low = be_u32(page, FIL_PAGE_LSN + 4)?;
                crc::field(be_u32(page, n - 4)?, lsn_low, n - 4, &mut f);
            } else if stored0 == stored1 {
                let s = stored0 ^ c;
                crc::walk(s, fil::FIL_PAGE_OFFSET, FIL_PAGE_FILE_FLUSH_LSN - 4, &mut f);
                crc::walk(s, fil::FIL_PAGE_DATA, n - 8 - fil::FIL_PAGE_DATA, &mut f);
            } else if stored1 == c {
                crc::field(stored0, c, 0, &mut f);
            }
        }
        Format::ZipCrc32 => {
            let c = zip_crc(page);
            for (a, b) in zip_segments(n) {
                crc::walk(stored0 ^ c, a, b - a, &mut f);
            }
            crc::field(stored0, c, 0, &mut f);
        }
        Format::ZipAdler => {
            let c = zip_adler(page);
            adler::solve(page, &zip_segments(n), stored0, c, &mut f);
            crc::field(stored0, c, 0, &mut f);
            // A burst in the field is a fit; Adler bursts in the data are
            // not solved, so a field burst is never proven unique.
            f.bursts.clear();
        }
    }
    Some(f)
}

/// Repairs a damaged page: the unique fit of its syndrome, accepted when
/// the repaired page's checksum holds and it is consistent
/// ([`check::consistent`]; `logical` is the logical page size of a
/// ROW_FORMAT=COMPRESSED page when known). `buf` receives the repaired
/// page when a fix is returned. Under the process-wide [`policy`].
pub fn repair(
    page: &[u8],
    format: Format,
    logical: Option<usize>,
    buf: &mut Vec<u8>,
) -> Option<Fix> {
    repair_with(page, format, logical, policy(), buf)
}

/// [`repair`] under `policy`.
pub fn repair_with(
    page: &[u8],
    format: Format,
    logical: Option<usize>,
    policy: Policy,
    buf: &mut Vec<u8>,
) -> Option<Fix> {
    let fits = fits(page, format)?;
    let mut accepted = None;
    let fit = fits.unique(policy.bursts, |f| {
        let Some(fix) = Fix::of(page, *f) else {
            return false;
        };
        buf.clear();
        buf.extend_from_slice(page);
        let ok = fix.apply(buf)
            && verify(buf, format)
            && check::consistent(buf, format, logical)
            && check::free_space_agrees(buf, fix.at, usize::from(fix.len));
        if ok {
            accepted = Some(fix);
        }
        ok
    })?;
    let fix = Fix::of(page, fit)?;
    buf.clear();
    buf.extend_from_slice(page);
    if !fix.apply(buf) || accepted.is_none() {
        return None;
    }
    Some(fix)
}

#[cfg(test)]
mod tests;
