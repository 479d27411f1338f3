//! The first 12 KiB of `ib_logfile0` in the MariaDB 10.8+ format
//! (`log0log.h` `log_t`, `log0recv.cc` `recv_sys_t::find_checkpoint`):
//!
//! * block 0 (512 bytes): format `0x50687973` ("Phys"; bit 31 set when the
//!   log is encrypted), 4 zero bytes, the first LSN of the file (8 bytes at
//!   8), the creator string (32 bytes at 16, e.g. "MariaDB 10.11.19"),
//!   encryption parameters, CRC-32C of bytes 0..508 at 508;
//! * checkpoint blocks at 4096 and 8192 (64 bytes used): checkpoint LSN,
//!   end LSN (where the FILE_CHECKPOINT mini-transaction is), 44 zero
//!   bytes, CRC-32C of bytes 0..60 at 60. The newest valid one wins;
//! * the circular log from 12288 ([`START_OFFSET`]) to the end of the file.

use crate::bytes::{be_u32, be_u64, slice};
use crate::innodb::checksum::crc32c;

/// Format tag of the 10.8+ log ("Phys").
pub const FORMAT_10_8: u32 = 0x5068_7973;
/// Format tag of the 10.5-10.7 log ("PHYS", 512-byte blocks).
pub const FORMAT_10_5: u32 = 0x5048_5953;
/// Bit set in the format of an encrypted log.
pub const FORMAT_ENCRYPTED: u32 = 1 << 31;
/// The two checkpoint blocks.
pub const CHECKPOINT_1: u64 = 4096;
pub const CHECKPOINT_2: u64 = 8192;
/// Where the log records start.
pub const START_OFFSET: u64 = 12288;
const CREATOR: usize = 16;
const CREATOR_END: usize = 48;

/// What block 0 says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogHeader {
    pub format: u32,
    pub first_lsn: u64,
    pub creator: String,
    pub encrypted: bool,
}

/// Why a log cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("not a redo log header (format 0x{0:08x})")]
    NotLog(u32),
    #[error("redo log header checksum fails")]
    Checksum,
    #[error("MariaDB 10.5-10.7 redo log format (512-byte blocks) is not supported")]
    Format105,
    #[error("the redo log is encrypted (innodb_encrypt_log=ON)")]
    Encrypted,
    #[error("invalid redo log header: {0}")]
    Invalid(&'static str),
    #[error("no valid checkpoint block")]
    NoCheckpoint,
}

/// Parses block 0 (`b` holds at least its 512 bytes).
pub fn parse_header(b: &[u8]) -> Result<LogHeader, HeaderError> {
    let format = be_u32(b, 0).ok_or(HeaderError::Invalid("short"))?;
    let base = format & !FORMAT_ENCRYPTED;
    if base != FORMAT_10_8 && base != FORMAT_10_5 {
        return Err(HeaderError::NotLog(format));
    }
    let block = slice(b, 0, 512).ok_or(HeaderError::Invalid("short"))?;
    if crc32c(&block[..508]) != be_u32(block, 508).unwrap_or(0) {
        return Err(HeaderError::Checksum);
    }
    if base == FORMAT_10_5 {
        return Err(HeaderError::Format105);
    }
    if be_u32(block, 4) != Some(0) {
        return Err(HeaderError::Invalid("reserved bytes 4..8 not zero"));
    }
    let first_lsn = be_u64(block, 8).unwrap_or(0);
    if first_lsn < START_OFFSET {
        return Err(HeaderError::Invalid("first LSN below 12288"));
    }
    let c = &block[CREATOR..CREATOR_END];
    let n = c.iter().position(|&x| x == 0).unwrap_or(c.len());
    let creator = String::from_utf8_lossy(&c[..n]).into_owned();
    // Encryption parameters follow the creator when the log is encrypted.
    let encrypted = format & FORMAT_ENCRYPTED != 0 || be_u32(block, CREATOR_END) != Some(0);
    Ok(LogHeader {
        format,
        first_lsn,
        creator,
        encrypted,
    })
}

/// A valid checkpoint block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Recovery starts here.
    pub lsn: u64,
    /// LSN of the FILE_CHECKPOINT mini-transaction written with it.
    pub end_lsn: u64,
    /// File offset of the block (4096 or 8192).
    pub at: u64,
}

/// Parses one checkpoint block (`b` holds its 64 bytes).
pub fn parse_checkpoint(b: &[u8], at: u64, first_lsn: u64) -> Option<Checkpoint> {
    let block = slice(b, 0, 64)?;
    let lsn = be_u64(block, 0)?;
    let end_lsn = be_u64(block, 8)?;
    if lsn < first_lsn || end_lsn < lsn || block[16..60].iter().any(|&x| x != 0) {
        return None;
    }
    (crc32c(&block[..60]) == be_u32(block, 60)?).then_some(Checkpoint { lsn, end_lsn, at })
}

/// The newest valid checkpoint of the two (the later block wins a tie, as
/// in `find_checkpoint`).
pub fn newest_checkpoint(
    block1: &[u8],
    block2: &[u8],
    first_lsn: u64,
) -> Result<Checkpoint, HeaderError> {
    let a = parse_checkpoint(block1, CHECKPOINT_1, first_lsn);
    let b = parse_checkpoint(block2, CHECKPOINT_2, first_lsn);
    match (a, b) {
        (Some(a), Some(b)) => Ok(if b.lsn >= a.lsn { b } else { a }),
        (Some(x), None) | (None, Some(x)) => Ok(x),
        (None, None) => Err(HeaderError::NoCheckpoint),
    }
}

/// Whether `b` starts with a 10.5+ log header whose checksum holds: the
/// carver's test for a redo log whose file is lost.
pub fn looks_like_log(b: &[u8]) -> bool {
    matches!(
        be_u32(b, 0).map(|f| f & !FORMAT_ENCRYPTED),
        Some(FORMAT_10_8 | FORMAT_10_5)
    ) && slice(b, 0, 512).is_some_and(|h| crc32c(&h[..508]) == be_u32(h, 508).unwrap_or(0))
}
