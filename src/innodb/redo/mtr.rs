//! Mini-transactions of the circular log, one after another from the
//! checkpoint (`log0recv.cc` `log_parse_start`).
//!
//! A mini-transaction is a run of records (the first byte of each is never
//! 0 or 1), then one end byte, the *sequence bit* (1 while the log is on
//! an even pass over the file, 0 on an odd one), then the CRC-32C of the
//! records (big-endian, 4 bytes). Its LSNs count bytes of the circular area:
//! the byte of LSN `l` is at file offset `12288 + (l - first_lsn) %
//! (file_size - 12288)`. The end of the log is where this stops holding: a
//! zero byte (never written), an end byte from the previous pass (a tail
//! that was not overwritten), or a checksum that fails (a torn write).

use crate::innodb::checksum::crc32c;
use crate::innodb::redo::header::START_OFFSET;
use crate::innodb::redo::varint;

/// The largest mini-transaction recovery accepts (`recv_sys_t::MTR_SIZE_MAX`).
pub const MTR_SIZE_MAX: usize = 1 << 20;
/// Bytes after the records: the end byte and the CRC-32C.
pub const TAIL: usize = 5;

/// Where the log bytes come from: the file through the image, or memory.
pub trait LogSource {
    /// Size of the log file.
    fn size(&self) -> u64;
    /// Reads `buf.len()` bytes at file offset `off`; returns how many could
    /// be read (short at the end of the file).
    fn read_at(&self, off: u64, buf: &mut [u8]) -> usize;
}

impl LogSource for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> usize {
        let Some(src) = usize::try_from(off).ok().and_then(|o| self.get(o..)) else {
            return 0;
        };
        let n = src.len().min(buf.len());
        buf[..n].copy_from_slice(&src[..n]);
        n
    }
}

impl LogSource for Vec<u8> {
    fn size(&self) -> u64 {
        self.as_slice().size()
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> usize {
        self.as_slice().read_at(off, buf)
    }
}

/// Why the log ends at some LSN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The first byte is 0 or 1: nothing was written here.
    Empty,
    /// The end byte is from another pass over the file.
    Sequence,
    /// The records and end byte look right, the CRC-32C does not match.
    Checksum,
    /// A length runs past the end of the readable log (or past the largest
    /// mini-transaction).
    Truncated,
    /// A length field is malformed.
    Malformed,
}

/// Reads the circular area by LSN through a window of the file.
pub struct Ring<'a> {
    src: &'a dyn LogSource,
    first_lsn: u64,
    capacity: u64,
    buf: Vec<u8>,
    buf_lsn: u64,
}

/// Bytes read from the file at a time.
const WINDOW: usize = 16 << 20;

impl<'a> Ring<'a> {
    /// `None` when the file has no room for a log area.
    pub fn new(src: &'a dyn LogSource, first_lsn: u64) -> Option<Ring<'a>> {
        let capacity = src.size().checked_sub(START_OFFSET).filter(|&c| c > 0)?;
        Some(Ring {
            src,
            first_lsn,
            capacity,
            buf: Vec::new(),
            buf_lsn: 0,
        })
    }

    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// File offset of the byte of `lsn`.
    pub fn offset(&self, lsn: u64) -> u64 {
        START_OFFSET + lsn.saturating_sub(self.first_lsn) % self.capacity
    }

    /// The sequence bit that an end byte at `lsn` must carry.
    pub fn sequence_bit(&self, lsn: u64) -> u8 {
        sequence_bit(self.first_lsn, self.capacity, lsn)
    }

    /// Up to `want` bytes from `lsn` on (fewer at the end of a short file).
    pub fn bytes(&mut self, lsn: u64, want: usize) -> &[u8] {
        let have = lsn >= self.buf_lsn && lsn + want as u64 <= self.buf_lsn + self.buf.len() as u64;
        if !have {
            let cap = usize::try_from(self.capacity).unwrap_or(usize::MAX);
            self.fill(lsn, want.max(WINDOW.min(cap.saturating_add(MTR_SIZE_MAX))));
        }
        let start = (lsn - self.buf_lsn) as usize;
        let end = (start + want).min(self.buf.len());
        &self.buf[start.min(end)..end]
    }

    fn fill(&mut self, lsn: u64, len: usize) {
        self.buf.clear();
        self.buf.resize(len, 0);
        self.buf_lsn = lsn;
        let mut done = 0usize;
        while done < len {
            let l = lsn + done as u64;
            let off = self.offset(l);
            let room = (self.capacity - (off - START_OFFSET)) as usize;
            let n = room.min(len - done);
            let got = self.src.read_at(off, &mut self.buf[done..done + n]);
            done += got;
            if got < n {
                break;
            }
        }
        self.buf.truncate(done);
    }
}

fn sequence_bit(first_lsn: u64, capacity: u64, lsn: u64) -> u8 {
    u8::from((lsn.saturating_sub(first_lsn) / capacity) & 1 == 0)
}

/// Finds the mini-transaction starting at `lsn`: `Ok(records length)` (the
/// whole mini-transaction is that plus [`TAIL`] bytes) when its end byte and
/// checksum hold, else why the log ends here.
pub fn scan(ring: &mut Ring<'_>, lsn: u64) -> Result<usize, End> {
    let (first_lsn, capacity) = (ring.first_lsn, ring.capacity);
    let seq_at = |pos: usize| sequence_bit(first_lsn, capacity, lsn + pos as u64);
    let w = ring.bytes(lsn, MTR_SIZE_MAX + TAIL);
    let first = *w.first().ok_or(End::Truncated)?;
    if first <= 1 {
        return Err(End::Empty);
    }
    let mut pos = 0usize;
    loop {
        if pos >= MTR_SIZE_MAX {
            return Err(End::Truncated);
        }
        let b = *w.get(pos).ok_or(End::Truncated)?;
        if b <= 1 {
            break;
        }
        let (rlen, head) = varint::record_len(&w[pos..]).ok_or(End::Malformed)?;
        pos += head + rlen;
    }
    if w[pos] != seq_at(pos) {
        return Err(End::Sequence);
    }
    let stored = crate::bytes::be_u32(w, pos + 1).ok_or(End::Truncated)?;
    if crc32c(&w[..pos]) != stored {
        return Err(End::Checksum);
    }
    Ok(pos)
}

/// After the log ended at `lsn` with `why`: the LSN of the first valid
/// mini-transaction within `limit` bytes past it, if any. A valid one there
/// means the log did not end but was damaged at `lsn`.
pub fn resync(ring: &mut Ring<'_>, lsn: u64, limit: usize) -> Option<u64> {
    let w = ring.bytes(lsn, limit + MTR_SIZE_MAX + TAIL).to_vec();
    // Cheap pre-check per position before the full scan: a first byte that
    // can start a record, and an end byte with this pass's sequence bit
    // somewhere after it.
    for d in 1..limit.min(w.len()) {
        if w[d] <= 1 {
            continue;
        }
        let at = lsn + d as u64;
        if quick_scan(&w[d..], ring, at).is_some() {
            return Some(at);
        }
    }
    None
}

/// [`scan`] over bytes already in memory (for [`resync`]).
fn quick_scan(w: &[u8], ring: &Ring<'_>, lsn: u64) -> Option<usize> {
    let mut pos = 0usize;
    while pos < MTR_SIZE_MAX {
        let b = *w.get(pos)?;
        if b <= 1 {
            if b != ring.sequence_bit(lsn + pos as u64) || pos == 0 {
                return None;
            }
            let stored = crate::bytes::be_u32(w, pos + 1)?;
            return (crc32c(&w[..pos]) == stored).then_some(pos);
        }
        let (rlen, head) = varint::record_len(&w[pos..])?;
        pos += head + rlen;
    }
    None
}
