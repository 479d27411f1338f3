//! ROW_FORMAT=COMPRESSED index pages: the physical (zip) page turned back
//! into the uncompressed COMPACT page InnoDB keeps in its buffer pool, so
//! that the ordinary record walker can read it.
//!
//! Format facts (no code) from MariaDB/MySQL `page/page0zip.cc`,
//! `include/page0zip.h`, `page0zip.ic`, `page0types.h` and `rem0rec.cc`
//! (COMPACT record offsets). A compressed index page of `zip` bytes holds:
//!
//! ```text
//! [0, 94)            FIL header and index page header, stored as they are
//! [94, ..)           zlib stream: first deflate block = the index's field
//!                    encoding (page_zip_fields_encode), then the heap from
//!                    PAGE_ZIP_START in heap order, without the 5 fixed
//!                    header bytes of each record and without what is kept
//!                    uncompressed below
//! [stream end, ..)   modification log (records written since the last
//!                    compression), ended by a zero byte
//! ...                free space
//! [.., dir)          BLOB pointers of existing records (20 bytes each),
//!                    DB_TRX_ID+DB_ROLL_PTR of every record of a clustered
//!                    leaf (13 bytes each) or the child page number of every
//!                    node pointer (4 bytes each), heap order, growing down
//! [dir, zip)         dense directory, 2 bytes per record, from the end of
//!                    the page down: the record list in key order (offset |
//!                    owned 0x4000 | deleted 0x8000), then the free list
//! ```
//!
//! [`decompress`] follows `page_zip_decompress` step by step. Every on-disk
//! number is checked before use: hostile bytes give an error, never a
//! panic, and nothing is allocated by an unchecked size (the output is
//! exactly `logical_size` bytes, the inflated stream at most that plus the
//! field encoding).

use flate2::{Decompress, FlushDecompress, Status};

use crate::bytes::{be_u16, be_u32};
use crate::innodb::fil::{
    FIL_NULL, FIL_PAGE_DATA, FIL_PAGE_INDEX, FIL_PAGE_PREV, FIL_PAGE_RTREE, FIL_PAGE_SDI,
    FIL_PAGE_TYPE,
};
use crate::innodb::page_header::{
    PAGE_HEAP_TOP, PAGE_LEVEL, PAGE_N_DIR_SLOTS, PAGE_N_HEAP, PAGE_N_RECS,
};

/// End of the index page header: the compressed stream starts here.
pub const PAGE_DATA: usize = FIL_PAGE_DATA + 56;
/// First byte after the supremum record: the heap the stream describes.
pub const PAGE_ZIP_START: usize = 120;
const INFIMUM: usize = 99;
const SUPREMUM: usize = 112;
/// REC_N_NEW_EXTRA_BYTES: info/n_owned, heap_no/status, next.
const EXTRA: usize = 5;
/// Page directory trailer (FIL_PAGE_DATA_END).
const PAGE_DIR: usize = 8;
const DIR_SLOT: usize = 2;
const SLOT_MASK: u16 = 0x3fff;
const SLOT_OWNED: u16 = 0x4000;
const SLOT_DEL: u16 = 0x8000;
/// DATA_TRX_ID_LEN + DATA_ROLL_PTR_LEN.
const TRX_ROLL: usize = 13;
const NODE_PTR: usize = 4;
const EXTERN_REF: usize = 20;
/// REC_MAX_N_FIELDS.
const MAX_FIELDS: usize = 1023;
/// DICT_MAX_FIXED_COL_LEN: longer fixed columns are stored as variable.
const MAX_FIXED: usize = 768;
const REC_INFO_MIN_REC: usize = 0x10;
const REC_INFO_DELETED: usize = 0x20;
const STATUS_NODE_PTR: usize = 1;
/// The field encoding is at most (REC_MAX_N_FIELDS + 1) * 2 bytes.
const MAX_FIELD_ENCODING: usize = 4096;

/// Why a compressed page could not be turned into an uncompressed one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZipError {
    #[error("page type {0} is not a compressed index page")]
    NotIndex(u16),
    #[error("{phys}-byte physical page cannot hold a {logical}-byte logical page")]
    Size { phys: usize, logical: usize },
    #[error("zlib stream: {0}")]
    Stream(&'static str),
    #[error("{0}")]
    Corrupt(&'static str),
}

use ZipError::Corrupt;

/// One field of the index as the page encodes it (consecutive NOT NULL
/// fixed-length columns are merged into one field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ZField {
    /// Fixed length, 0 for a variable-length field.
    fixed: usize,
    nullable: bool,
    /// Variable with a maximum over 255 bytes: two-byte lengths, may be
    /// stored off-page.
    big: bool,
}

/// The index description decoded from the start of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ZIndex {
    fields: Vec<ZField>,
    /// Bits in the null bitmap of every record.
    n_nullable: usize,
    /// Leaf page of a clustered index: the field holding DB_TRX_ID and
    /// DB_ROLL_PTR (and possibly more NOT NULL fixed columns after them).
    trx_id_col: Option<usize>,
}

/// Decodes `page_zip_fields_encode` output (`page_zip_fields_decode`).
fn decode_fields(buf: &[u8], leaf: bool) -> Result<ZIndex, ZipError> {
    let mut entries = 0usize;
    let mut b = 0usize;
    while b < buf.len() {
        if buf[b] & 0x80 != 0 {
            b += 1;
        }
        b += 1;
        entries += 1;
    }
    if b > buf.len() || entries == 0 {
        return Err(Corrupt("field encoding ends inside an entry"));
    }
    let n = entries - 1;
    if n > MAX_FIELDS {
        return Err(Corrupt("more fields than a record can have"));
    }
    let mut fields = Vec::with_capacity(n);
    let mut b = 0usize;
    let mut counted_nullable = 0usize;
    for _ in 0..n {
        let v = buf[b] as usize;
        b += 1;
        let f = if v & 0x80 != 0 {
            let v2 = ((v & 0x7f) << 8) | buf[b] as usize;
            b += 1;
            let len = v2 >> 1;
            let nullable = v2 & 1 == 0;
            // A fixed column of length 0 or over 768 bytes is treated as
            // variable-length (dict_index_add_col).
            if len == 0 || len > MAX_FIXED {
                ZField {
                    fixed: 0,
                    nullable,
                    big: len > 255,
                }
            } else {
                ZField {
                    fixed: len,
                    nullable,
                    big: false,
                }
            }
        } else if v >= 126 {
            ZField {
                fixed: 0,
                nullable: v & 1 == 0,
                big: true,
            }
        } else if v <= 1 {
            ZField {
                fixed: 0,
                nullable: v & 1 == 0,
                big: false,
            }
        } else {
            ZField {
                fixed: v >> 1,
                nullable: v & 1 == 0,
                big: false,
            }
        };
        counted_nullable += f.nullable as usize;
        fields.push(f);
    }
    let mut v = buf[b] as usize;
    b += 1;
    if v & 0x80 != 0 {
        v = ((v & 0x7f) << 8) | buf[b] as usize;
    }
    if leaf {
        let trx_id_col = match v {
            0 => None,
            v if v >= n => return Err(Corrupt("DB_TRX_ID position past the last field")),
            v => Some(v),
        };
        Ok(ZIndex {
            fields,
            n_nullable: counted_nullable,
            trx_id_col,
        })
    } else {
        if counted_nullable > v {
            return Err(Corrupt("more nullable fields than the page says"));
        }
        Ok(ZIndex {
            fields,
            n_nullable: v,
            trx_id_col: None,
        })
    }
}

/// End offset (relative to the record origin) of one field.
#[derive(Debug, Clone, Copy, Default)]
struct FieldEnd {
    end: usize,
    ext: bool,
}

/// The field ends of one COMPACT record of `idx`, reading the header bytes
/// before the 5 fixed ones through `back(k)` (k = 0 is the byte just
/// before them, k grows towards lower addresses). Returns the number of
/// those header bytes (null bitmap and lengths).
fn rec_offsets(
    idx: &ZIndex,
    node_ptr: bool,
    back: impl Fn(usize) -> Option<u8>,
    ends: &mut Vec<FieldEnd>,
) -> Result<usize, ZipError> {
    ends.clear();
    let null_bytes = idx.n_nullable.div_ceil(8);
    let mut null_i = 0usize;
    let mut lens = null_bytes;
    let mut offs = 0usize;
    let short = Corrupt("record header outside the page");
    for f in &idx.fields {
        if f.nullable {
            let byte = back(null_i / 8).ok_or(short.clone())?;
            let is_null = byte >> (null_i % 8) & 1 != 0;
            null_i += 1;
            if is_null {
                ends.push(FieldEnd {
                    end: offs,
                    ext: false,
                });
                continue;
            }
        }
        let mut ext = false;
        if f.fixed == 0 {
            let mut len = back(lens).ok_or(short.clone())? as usize;
            lens += 1;
            if f.big && len & 0x80 != 0 {
                len = (len << 8) | back(lens).ok_or(short.clone())? as usize;
                lens += 1;
                ext = len & 0x4000 != 0;
                if ext && node_ptr {
                    return Err(Corrupt("node pointer with an off-page field"));
                }
                len &= 0x3fff;
            }
            offs += len;
        } else {
            offs += f.fixed;
        }
        ends.push(FieldEnd { end: offs, ext });
    }
    if node_ptr {
        offs += NODE_PTR;
        ends.push(FieldEnd {
            end: offs,
            ext: false,
        });
    }
    Ok(lens)
}

fn field_bounds(ends: &[FieldEnd], i: usize) -> (usize, usize) {
    let start = if i == 0 { 0 } else { ends[i - 1].end };
    (start, ends[i].end)
}

fn data_size(ends: &[FieldEnd]) -> usize {
    ends.last().map_or(0, |e| e.end)
}

/// Turns a ROW_FORMAT=COMPRESSED index page (FIL_PAGE_INDEX, RTREE or SDI; the
/// whole physical page, `phys.len()` = KEY_BLOCK_SIZE) into the COMPACT
/// page of `logical_size` bytes that `page_zip_decompress` would produce:
/// header copied, infimum/supremum and the sparse page directory rebuilt,
/// records inflated into their heap positions with their headers (heap
/// number, owned count, delete mark, next pointers) restored, DB_TRX_ID /
/// DB_ROLL_PTR, BLOB pointers and child page numbers put back, the
/// modification log applied, and the free list (purged records still on
/// the page) linked from PAGE_FREE.
pub fn decompress(phys: &[u8], logical_size: usize) -> Result<Vec<u8>, ZipError> {
    let zip = phys.len();
    let logical = logical_size;
    let zip_ok = zip.is_power_of_two() && (1024..=16384).contains(&zip);
    let logical_ok = logical.is_power_of_two() && (4096..=65536).contains(&logical);
    if !zip_ok || !logical_ok || logical < zip {
        return Err(ZipError::Size { phys: zip, logical });
    }
    let rd = |off: usize| be_u16(phys, off).ok_or(Corrupt("short page"));
    let page_type = rd(FIL_PAGE_TYPE)?;
    if !matches!(page_type, FIL_PAGE_INDEX | FIL_PAGE_RTREE | FIL_PAGE_SDI) {
        return Err(ZipError::NotIndex(page_type));
    }
    let h = FIL_PAGE_DATA;
    let n_slots = rd(h + PAGE_N_DIR_SLOTS)? as usize;
    let heap_top = rd(h + PAGE_HEAP_TOP)? as usize;
    let n_heap_raw = rd(h + PAGE_N_HEAP)?;
    let n_recs = rd(h + PAGE_N_RECS)? as usize;
    let leaf = rd(h + PAGE_LEVEL)? == 0;
    let has_prev = be_u32(phys, FIL_PAGE_PREV) != Some(FIL_NULL);
    if n_heap_raw & 0x8000 == 0 {
        return Err(Corrupt("compressed page not in the COMPACT format"));
    }
    let n_heap = (n_heap_raw & 0x7fff) as usize;
    let n_dense = n_heap
        .checked_sub(2)
        .ok_or(Corrupt("heap without infimum and supremum"))?;
    if n_dense * DIR_SLOT >= zip {
        return Err(Corrupt("dense directory larger than the page"));
    }
    if n_recs > n_dense {
        return Err(Corrupt("more records than heap entries"));
    }
    // Low end of the sparse directory: records and heap stay below it.
    let dir_low = logical
        .checked_sub(PAGE_DIR + DIR_SLOT * n_slots)
        .filter(|&d| d > PAGE_ZIP_START)
        .ok_or(Corrupt("page directory larger than the page"))?;
    let dense = |i: usize| -> u16 {
        // i < n_dense and n_dense * 2 < zip: always inside the page.
        u16::from_be_bytes([
            phys[zip - DIR_SLOT * (i + 1)],
            phys[zip - DIR_SLOT * (i + 1) + 1],
        ])
    };

    // Records by address (= heap order), checked: after the system
    // records, below the directory, each once.
    let mut recs: Vec<usize> = Vec::with_capacity(n_dense);
    let mut owned = 0usize;
    for i in 0..n_dense {
        let e = dense(i);
        if i < n_recs {
            owned += (e & SLOT_OWNED != 0) as usize;
        } else if e & !SLOT_MASK != 0 {
            return Err(Corrupt("flags on a free-list directory entry"));
        }
        let off = (e & SLOT_MASK) as usize;
        if off < PAGE_ZIP_START + EXTRA || off >= dir_low {
            return Err(Corrupt("record offset outside the heap"));
        }
        recs.push(off);
    }
    if n_slots != owned + 2 {
        return Err(Corrupt("directory slot count differs from owned records"));
    }
    recs.sort_unstable();
    if recs.windows(2).any(|w| w[0] + EXTRA > w[1]) {
        return Err(Corrupt("records overlap"));
    }

    let mut out = vec![0u8; logical];
    out[..PAGE_DATA].copy_from_slice(&phys[..PAGE_DATA]);

    // Sparse directory: infimum, every owner in list order, supremum.
    let mut slot = logical - PAGE_DIR - DIR_SLOT;
    put16(&mut out, slot, INFIMUM as u16);
    for i in 0..n_recs {
        let e = dense(i);
        if e & SLOT_OWNED != 0 {
            slot -= DIR_SLOT;
            put16(&mut out, slot, e & SLOT_MASK);
        }
    }
    slot -= DIR_SLOT;
    debug_assert_eq!(slot, dir_low);
    put16(&mut out, slot, SUPREMUM as u16);

    // Infimum and supremum.
    out[INFIMUM - EXTRA..INFIMUM - 2].copy_from_slice(&[0x01, 0x00, 0x02]);
    let first = if n_recs == 0 {
        SUPREMUM
    } else {
        (dense(0) & SLOT_MASK) as usize
    };
    set_next(&mut out, INFIMUM, first);
    out[INFIMUM..INFIMUM + 8].copy_from_slice(b"infimum\0");
    out[SUPREMUM - EXTRA + 1..SUPREMUM + 8].copy_from_slice(&[
        0x00, 0x0b, 0x00, 0x00, b's', b'u', b'p', b'r', b'e', b'm', b'u', b'm',
    ]);

    // The index description: the first deflate block of the stream.
    let fields = first_deflate_block(&phys[PAGE_DATA..zip - 1])?;
    let idx = decode_fields(&fields, leaf)?;
    let slot_size = if !leaf {
        DIR_SLOT + NODE_PTR
    } else if idx.trx_id_col.is_some() {
        DIR_SLOT + TRX_ROLL
    } else {
        DIR_SLOT
    };
    let trailer = n_dense * slot_size;
    let input_end = (zip - 1)
        .checked_sub(trailer)
        .filter(|&e| e > PAGE_DATA)
        .ok_or(Corrupt("uncompressed trailer larger than the page"))?;

    // The whole stream, inflated once; the records take it piece by piece.
    let mut d = Decompress::new(true);
    let cap = fields.len() + logical - PAGE_ZIP_START + 1;
    let mut s: Vec<u8> = Vec::with_capacity(cap);
    let input = &phys[PAGE_DATA..input_end];
    loop {
        let done_in = d.total_in() as usize;
        let done_out = s.len();
        let st = d
            .decompress_vec(&input[done_in..], &mut s, FlushDecompress::Finish)
            .map_err(|_| ZipError::Stream("corrupt deflate data"))?;
        match st {
            Status::StreamEnd => break,
            _ if s.len() == s.capacity() => {
                return Err(ZipError::Stream("more data than the page holds"))
            }
            _ if d.total_in() as usize == done_in && s.len() == done_out => {
                return Err(ZipError::Stream("truncated"))
            }
            _ => {}
        }
    }
    if !s.starts_with(&fields) {
        return Err(ZipError::Stream("first block differs"));
    }
    let log_start = PAGE_DATA + d.total_in() as usize;
    let log_end = input_end + 1;

    let mut z = Zip {
        out,
        idx,
        leaf,
        dir_low,
        ends: Vec::new(),
    };
    let status = if leaf { 0 } else { STATUS_NODE_PTR };
    let mut heap_status = (2 << 3) | status;
    z.inflate_records(&s[fields.len()..], &recs, heap_top, &mut heap_status)?;
    let m_end = z.apply_log(phys, log_start, log_end, &recs, &mut heap_status)?;
    if trailer + m_end >= zip {
        return Err(Corrupt("modification log runs into the trailer"));
    }
    let free: Vec<usize> = (n_recs..n_dense)
        .map(|i| (dense(i) & SLOT_MASK) as usize)
        .collect();
    z.restore_uncompressed(phys, &recs, &free, zip - n_dense * DIR_SLOT, m_end)?;

    // Record headers: list order, owners, delete marks, then the free list.
    let out = &mut z.out;
    let mut info = if !leaf && !has_prev {
        REC_INFO_MIN_REC
    } else {
        0
    };
    let mut rec = INFIMUM;
    let mut n_owned = 1usize;
    for i in 0..n_recs {
        let e = dense(i);
        if e & SLOT_DEL != 0 {
            info |= REC_INFO_DELETED;
        }
        if e & SLOT_OWNED != 0 {
            info |= n_owned;
            n_owned = 1;
        } else {
            n_owned += 1;
        }
        let off = (e & SLOT_MASK) as usize;
        set_next(out, rec, off);
        rec = off;
        out[rec - EXTRA] = info as u8;
        info = 0;
    }
    set_next(out, rec, SUPREMUM);
    out[SUPREMUM - EXTRA] = n_owned as u8;
    if n_recs < n_dense {
        let mut rec = free[0];
        out[rec - EXTRA] = 0;
        for &next in &free[1..] {
            set_next(out, rec, next);
            rec = next;
            out[rec - EXTRA] = 0;
        }
        set_next(out, rec, 0);
    }
    Ok(z.out)
}

fn put16(out: &mut [u8], at: usize, v: u16) {
    out[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// `rec_set_next_offs_new`: the next pointer is relative, modulo 64 KiB.
fn set_next(out: &mut [u8], rec: usize, next: usize) {
    let v = if next == 0 {
        0
    } else {
        (next.wrapping_sub(rec) & 0xffff) as u16
    };
    put16(out, rec - 2, v);
}

/// The inflated stream, consumed from the front.
struct Cursor<'a> {
    s: &'a [u8],
    c: usize,
}

impl Cursor<'_> {
    fn avail(&self) -> usize {
        self.s.len() - self.c
    }

    fn rest(&self) -> &[u8] {
        &self.s[self.c..]
    }

    /// Copies the stream's next bytes to `out[*pos..to]`.
    fn take(&mut self, out: &mut [u8], pos: &mut usize, to: usize) -> Result<(), ZipError> {
        let n = to
            .checked_sub(*pos)
            .ok_or(Corrupt("record fields out of order"))?;
        if self.avail() < n {
            return Err(ZipError::Stream("ends inside a record"));
        }
        out[*pos..to].copy_from_slice(&self.s[self.c..self.c + n]);
        self.c += n;
        *pos = to;
        Ok(())
    }
}

/// The page being rebuilt.
struct Zip {
    out: Vec<u8>,
    idx: ZIndex,
    leaf: bool,
    dir_low: usize,
    ends: Vec<FieldEnd>,
}

impl Zip {
    /// Field ends of the record at `rec` from the header bytes on the page.
    fn offsets_on_page(&mut self, rec: usize) -> Result<usize, ZipError> {
        let out = &self.out;
        let mut ends = std::mem::take(&mut self.ends);
        let r = rec_offsets(
            &self.idx,
            !self.leaf,
            |k| {
                rec.checked_sub(EXTRA + 1 + k)
                    .filter(|&i| i >= PAGE_ZIP_START)
                    .map(|i| out[i])
            },
            &mut ends,
        );
        self.ends = ends;
        let _ = r?;
        let end = rec + data_size(&self.ends);
        if end > self.dir_low {
            return Err(Corrupt("record runs into the page directory"));
        }
        Ok(end)
    }

    fn set_heap_no(&mut self, rec: usize, heap_status: usize) {
        put16(&mut self.out, rec - 4, heap_status as u16);
    }

    /// Lays the inflated stream `s` (after the field encoding) over the
    /// heap, as `page_zip_decompress_{node_ptrs,sec,clust}` do.
    fn inflate_records(
        &mut self,
        s: &[u8],
        recs: &[usize],
        heap_top: usize,
        heap_status: &mut usize,
    ) -> Result<(), ZipError> {
        let mut cur = Cursor { s, c: 0 };
        let mut pos = PAGE_ZIP_START;
        let sec = self.leaf && self.idx.trx_id_col.is_none();
        for &rec in recs {
            let start = rec - EXTRA;
            let want = start.checked_sub(pos).ok_or(Corrupt("records overlap"))?;
            let avail = cur.avail();
            // The stream may end before a record: the records after it
            // come from the modification log.
            if !(sec && want == 0) && avail <= want {
                self.out[pos..pos + avail].copy_from_slice(cur.rest());
                if avail == want {
                    self.set_heap_no(rec, *heap_status);
                    *heap_status += 1 << 3;
                }
                return Ok(());
            }
            cur.take(&mut self.out, &mut pos, start)?;
            pos = rec;
            self.set_heap_no(rec, *heap_status);
            *heap_status += 1 << 3;
            if sec {
                continue;
            }
            let end = self.offsets_on_page(rec)?;
            if !self.leaf {
                // Everything but the child page number.
                cur.take(&mut self.out, &mut pos, end - NODE_PTR)?;
                pos = end;
                continue;
            }
            let trx = self.idx.trx_id_col.unwrap_or(0);
            let any_ext = self.ends.iter().any(|e| e.ext);
            for i in 0..self.ends.len() {
                let (fs, fe) = field_bounds(&self.ends, i);
                if i == trx {
                    if fe - fs < TRX_ROLL || self.ends[i].ext {
                        return Err(Corrupt("DB_TRX_ID field too short"));
                    }
                    cur.take(&mut self.out, &mut pos, rec + fs)?;
                    pos = rec + fs + TRX_ROLL;
                } else if any_ext && self.ends[i].ext {
                    if fe - fs < EXTERN_REF {
                        return Err(Corrupt("off-page field shorter than its reference"));
                    }
                    cur.take(&mut self.out, &mut pos, rec + fe - EXTERN_REF)?;
                    pos = rec + fe;
                }
            }
            cur.take(&mut self.out, &mut pos, end)?;
        }
        // Whatever follows the last record up to the heap top.
        let want = heap_top
            .checked_sub(pos)
            .filter(|&w| w <= self.dir_low - pos)
            .ok_or(Corrupt("heap top outside the heap"))?;
        let avail = cur.avail();
        if avail > want {
            return Err(ZipError::Stream("longer than the heap"));
        }
        self.out[pos..pos + avail].copy_from_slice(cur.rest());
        Ok(())
    }

    /// `page_zip_apply_log`: records written since the last compression.
    /// Returns the offset of the log's end marker (m_end).
    fn apply_log(
        &mut self,
        phys: &[u8],
        start: usize,
        end: usize,
        recs: &[usize],
        heap_status: &mut usize,
    ) -> Result<usize, ZipError> {
        let short = || Corrupt("modification log runs past its space");
        let mut p = start;
        loop {
            let byte = |p: usize| -> Result<usize, ZipError> {
                if p < end {
                    Ok(phys[p] as usize)
                } else {
                    Err(short())
                }
            };
            let mut val = byte(p)?;
            p += 1;
            if val == 0 {
                return Ok(p - 1);
            }
            if val & 0x80 != 0 {
                val = ((val & 0x7f) << 8) | byte(p)?;
                p += 1;
                if val == 0 {
                    return Err(Corrupt("modification log entry 0"));
                }
            }
            if p >= end {
                return Err(short());
            }
            let k = val >> 1;
            if k == 0 || k > recs.len() {
                return Err(Corrupt("modification log names no record"));
            }
            let rec = recs[k - 1];
            let hs = ((k + 1) << 3) | (*heap_status & 7);
            if hs > *heap_status {
                return Err(Corrupt("modification log skips a heap number"));
            }
            if hs == *heap_status {
                if val & 1 != 0 {
                    return Err(Corrupt("modification log clears a new record"));
                }
                *heap_status += 1 << 3;
            }
            self.set_heap_no(rec, hs);
            if val & 1 != 0 {
                // The record was deleted: its data bytes were cleared.
                let rec_end = self.offsets_on_page(rec)?;
                self.out[rec..rec_end].fill(0);
                continue;
            }
            // Header bytes, written backwards in the log.
            let mut ends = std::mem::take(&mut self.ends);
            let r = rec_offsets(
                &self.idx,
                hs & STATUS_NODE_PTR != 0,
                |k| p.checked_add(k).filter(|&i| i < end).map(|i| phys[i]),
                &mut ends,
            );
            self.ends = ends;
            let n_extra = r?;
            if (rec - EXTRA)
                .checked_sub(n_extra)
                .is_none_or(|s| s < PAGE_ZIP_START)
            {
                return Err(Corrupt("record header below the heap"));
            }
            let rec_end = rec + data_size(&self.ends);
            if rec_end > self.dir_low {
                return Err(Corrupt("record runs into the page directory"));
            }
            for k in 0..n_extra {
                self.out[rec - EXTRA - 1 - k] = phys[p + k];
            }
            p += n_extra;
            // Data bytes, without what is stored uncompressed.
            let copy = |out: &mut [u8], p: &mut usize, at: usize, n: usize| {
                if *p + n >= end {
                    return Err(short());
                }
                out[at..at + n].copy_from_slice(&phys[*p..*p + n]);
                *p += n;
                Ok(())
            };
            let any_ext = self.ends.iter().any(|e| e.ext);
            if any_ext {
                if !self.leaf {
                    return Err(Corrupt("node pointer with an off-page field"));
                }
                let mut next_out = rec;
                for i in 0..self.ends.len() {
                    let (fs, fe) = field_bounds(&self.ends, i);
                    if Some(i) == self.idx.trx_id_col {
                        let dst = rec + fs;
                        let n = dst
                            .checked_sub(next_out)
                            .ok_or(Corrupt("record fields out of order"))?;
                        if n >= end - p || fe - fs < TRX_ROLL || self.ends[i].ext {
                            return Err(Corrupt("DB_TRX_ID field in the log"));
                        }
                        copy(&mut self.out, &mut p, next_out, n)?;
                        next_out = dst + TRX_ROLL;
                    } else if self.ends[i].ext {
                        if fe - fs < EXTERN_REF {
                            return Err(Corrupt("off-page field shorter than its reference"));
                        }
                        let n = (rec + fe - EXTERN_REF)
                            .checked_sub(next_out)
                            .ok_or(Corrupt("record fields out of order"))?;
                        copy(&mut self.out, &mut p, next_out, n)?;
                        next_out += n + EXTERN_REF;
                    }
                }
                let n = rec_end
                    .checked_sub(next_out)
                    .ok_or(Corrupt("record fields out of order"))?;
                copy(&mut self.out, &mut p, next_out, n)?;
            } else if !self.leaf {
                copy(&mut self.out, &mut p, rec, rec_end - rec - NODE_PTR)?;
            } else if let Some(t) = self.idx.trx_id_col {
                let (fs, fe) = field_bounds(&self.ends, t);
                if p + fs >= end || fe - fs < TRX_ROLL {
                    return Err(Corrupt("DB_TRX_ID field in the log"));
                }
                copy(&mut self.out, &mut p, rec, fs)?;
                let b = rec + fs + TRX_ROLL;
                copy(&mut self.out, &mut p, b, rec_end - b)?;
            } else {
                copy(&mut self.out, &mut p, rec, rec_end - rec)?;
            }
        }
    }

    /// Puts back what the page keeps uncompressed: child page numbers of
    /// node pointers; DB_TRX_ID/DB_ROLL_PTR and BLOB pointers of clustered
    /// leaf records (a record on the free list has its BLOB pointers
    /// cleared).
    fn restore_uncompressed(
        &mut self,
        phys: &[u8],
        recs: &[usize],
        free: &[usize],
        dir_start: usize,
        m_end: usize,
    ) -> Result<(), ZipError> {
        if !self.leaf {
            let mut storage = dir_start;
            for &rec in recs {
                let end = self.offsets_on_page(rec)?;
                storage -= NODE_PTR;
                self.out[end - NODE_PTR..end].copy_from_slice(&phys[storage..storage + NODE_PTR]);
            }
            return Ok(());
        }
        let Some(t) = self.idx.trx_id_col else {
            return Ok(());
        };
        let mut storage = dir_start;
        // dir_start - n_dense * 13 was checked to stay above the stream.
        let mut externs = dir_start - recs.len() * TRX_ROLL;
        for &rec in recs {
            let exists = !free.contains(&rec);
            self.offsets_on_page(rec)?;
            let (fs, fe) = field_bounds(&self.ends, t);
            if fe - fs < TRX_ROLL {
                return Err(Corrupt("DB_TRX_ID field too short"));
            }
            storage -= TRX_ROLL;
            self.out[rec + fs..rec + fs + TRX_ROLL]
                .copy_from_slice(&phys[storage..storage + TRX_ROLL]);
            for i in 0..self.ends.len() {
                if !self.ends[i].ext {
                    continue;
                }
                let (fs, fe) = field_bounds(&self.ends, i);
                if fe - fs < EXTERN_REF {
                    return Err(Corrupt("off-page field shorter than its reference"));
                }
                let dst = rec + fe - EXTERN_REF;
                if exists {
                    externs = externs
                        .checked_sub(EXTERN_REF)
                        .filter(|&e| e >= m_end)
                        .ok_or(Corrupt("BLOB pointers run into the modification log"))?;
                    self.out[dst..dst + EXTERN_REF]
                        .copy_from_slice(&phys[externs..externs + EXTERN_REF]);
                } else {
                    self.out[dst..dst + EXTERN_REF].fill(0);
                }
            }
        }
        Ok(())
    }
}

/// The output of the first deflate block of a zlib stream (what
/// `inflate(Z_BLOCK)` twice returns): on a compressed page, the index's
/// field encoding, written with Z_FULL_FLUSH so that it ends a block.
fn first_deflate_block(z: &[u8]) -> Result<Vec<u8>, ZipError> {
    let (&cmf, &flg) = match z {
        [a, b, ..] => (a, b),
        _ => return Err(ZipError::Stream("no zlib header")),
    };
    if cmf & 0x0f != 8 || cmf >> 4 > 7 || (u16::from(cmf) << 8 | u16::from(flg)) % 31 != 0 {
        return Err(ZipError::Stream("bad zlib header"));
    }
    if flg & 0x20 != 0 {
        return Err(ZipError::Stream("preset dictionary"));
    }
    let mut br = Bits {
        data: &z[2..],
        pos: 0,
        buf: 0,
        cnt: 0,
    };
    let mut out = Vec::new();
    let _final = br.bits(1)?;
    match br.bits(2)? {
        0 => {
            br.buf = 0;
            br.cnt = 0;
            let len = br.byte()? as usize | (br.byte()? as usize) << 8;
            let nlen = br.byte()? as usize | (br.byte()? as usize) << 8;
            if len != !nlen & 0xffff {
                return Err(ZipError::Stream("stored block length"));
            }
            if len > MAX_FIELD_ENCODING {
                return Err(ZipError::Stream("first block too long"));
            }
            for _ in 0..len {
                out.push(br.byte()?);
            }
        }
        1 => {
            let mut l = [0u8; 288];
            l[..144].fill(8);
            l[144..256].fill(9);
            l[256..280].fill(7);
            l[280..].fill(8);
            let lit = Huffman::new(&l)?;
            let dist = Huffman::new(&[5u8; 30])?;
            codes(&mut br, &lit, &dist, &mut out)?;
        }
        2 => {
            let nlen = br.bits(5)? as usize + 257;
            let ndist = br.bits(5)? as usize + 1;
            let ncode = br.bits(4)? as usize + 4;
            if nlen > 286 || ndist > 30 {
                return Err(ZipError::Stream("bad code counts"));
            }
            const ORDER: [usize; 19] = [
                16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
            ];
            let mut cl = [0u8; 19];
            for &o in &ORDER[..ncode] {
                cl[o] = br.bits(3)? as u8;
            }
            let clh = Huffman::new(&cl)?;
            let mut lens = [0u8; 286 + 30];
            let mut i = 0;
            while i < nlen + ndist {
                let sym = clh.decode(&mut br)?;
                let (val, rep) = match sym {
                    0..=15 => (sym as u8, 1),
                    16 => {
                        if i == 0 {
                            return Err(ZipError::Stream("repeat with no length"));
                        }
                        (lens[i - 1], 3 + br.bits(2)? as usize)
                    }
                    17 => (0, 3 + br.bits(3)? as usize),
                    _ => (0, 11 + br.bits(7)? as usize),
                };
                if i + rep > nlen + ndist {
                    return Err(ZipError::Stream("too many lengths"));
                }
                lens[i..i + rep].fill(val);
                i += rep;
            }
            if lens[256] == 0 {
                return Err(ZipError::Stream("no end-of-block code"));
            }
            let lit = Huffman::new(&lens[..nlen])?;
            let dist = Huffman::new(&lens[nlen..nlen + ndist])?;
            codes(&mut br, &lit, &dist, &mut out)?;
        }
        _ => return Err(ZipError::Stream("invalid block type")),
    }
    Ok(out)
}

/// LSB-first bit reader (RFC 1951).
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u32,
    cnt: u32,
}

impl Bits<'_> {
    fn bits(&mut self, n: u32) -> Result<u32, ZipError> {
        while self.cnt < n {
            let b = *self
                .data
                .get(self.pos)
                .ok_or(ZipError::Stream("truncated"))?;
            self.pos += 1;
            self.buf |= u32::from(b) << self.cnt;
            self.cnt += 8;
        }
        let v = self.buf & ((1u32 << n) - 1);
        self.buf >>= n;
        self.cnt -= n;
        Ok(v)
    }

    fn byte(&mut self) -> Result<u8, ZipError> {
        let b = *self
            .data
            .get(self.pos)
            .ok_or(ZipError::Stream("truncated"))?;
        self.pos += 1;
        Ok(b)
    }
}

/// Canonical Huffman code, decoded one bit at a time (small blocks only).
struct Huffman {
    count: [u16; 16],
    symbol: Vec<u16>,
}

impl Huffman {
    fn new(lengths: &[u8]) -> Result<Huffman, ZipError> {
        let mut count = [0u16; 16];
        for &l in lengths {
            count[l as usize] += 1;
        }
        let mut left: i32 = 1;
        for &c in &count[1..] {
            left = (left << 1) - i32::from(c);
            if left < 0 {
                return Err(ZipError::Stream("over-subscribed code"));
            }
        }
        let mut offs = [0u16; 16];
        for l in 1..15 {
            offs[l + 1] = offs[l] + count[l];
        }
        let mut symbol = vec![0u16; lengths.len()];
        for (s, &l) in lengths.iter().enumerate() {
            if l != 0 {
                symbol[offs[l as usize] as usize] = s as u16;
                offs[l as usize] += 1;
            }
        }
        Ok(Huffman { count, symbol })
    }

    fn decode(&self, br: &mut Bits) -> Result<u16, ZipError> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= br.bits(1)? as i32;
            let count = i32::from(self.count[len]);
            if code - count < first {
                return self
                    .symbol
                    .get((index + code - first) as usize)
                    .copied()
                    .ok_or(ZipError::Stream("bad code"));
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        Err(ZipError::Stream("bad code"))
    }
}

const LEN_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LEN_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];

/// Decodes the symbols of one Huffman block into `out` (at most
/// [`MAX_FIELD_ENCODING`] bytes).
fn codes(br: &mut Bits, lit: &Huffman, dist: &Huffman, out: &mut Vec<u8>) -> Result<(), ZipError> {
    loop {
        let sym = lit.decode(br)? as usize;
        if sym < 256 {
            out.push(sym as u8);
        } else if sym == 256 {
            return Ok(());
        } else {
            let i = sym - 257;
            if i >= 29 {
                return Err(ZipError::Stream("bad length code"));
            }
            let len = LEN_BASE[i] as usize + br.bits(u32::from(LEN_EXTRA[i]))? as usize;
            let ds = dist.decode(br)? as usize;
            if ds >= 30 {
                return Err(ZipError::Stream("bad distance code"));
            }
            let d = DIST_BASE[ds] as usize + br.bits(u32::from(DIST_EXTRA[ds]))? as usize;
            if d > out.len() {
                return Err(ZipError::Stream("distance before the start"));
            }
            for _ in 0..len {
                out.push(out[out.len() - d]);
            }
        }
        if out.len() > MAX_FIELD_ENCODING {
            return Err(ZipError::Stream("first block too long"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compress, Compression, FlushCompress};

    /// A zlib stream written as InnoDB writes a page: a first chunk with
    /// Z_FULL_FLUSH, then the rest with Z_FINISH.
    fn two_part_stream(a: &[u8], b: &[u8], level: u32) -> Vec<u8> {
        let mut c = Compress::new(Compression::new(level), true);
        let mut out = Vec::with_capacity(a.len() + b.len() + 1024);
        c.compress_vec(a, &mut out, FlushCompress::Full).unwrap();
        c.compress_vec(b, &mut out, FlushCompress::Finish).unwrap();
        out
    }

    #[test]
    fn first_block_is_the_flushed_part() {
        let fields: Vec<u8> = vec![9, 27, 0, 0, 4, 126, 126, 8, 2, 1];
        let rest: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
        for level in [0, 1, 6, 9] {
            let z = two_part_stream(&fields, &rest, level);
            assert_eq!(first_deflate_block(&z).unwrap(), fields, "level {level}");
        }
        // A longer first part with repeats (dynamic/fixed codes with matches).
        let long: Vec<u8> = (0..300u32).map(|i| (i % 5) as u8 * 2).collect();
        let z = two_part_stream(&long, &rest, 6);
        assert_eq!(first_deflate_block(&z).unwrap(), long);
    }

    #[test]
    fn field_encoding_decodes() {
        // id INT NOT NULL (4), DB_TRX_ID+DB_ROLL_PTR (13, trx column 1),
        // a nullable INT, a nullable VARCHAR(10), a nullable TEXT.
        let idx = decode_fields(&[9, 27, 8, 0, 126, 1], true).unwrap();
        assert_eq!(idx.trx_id_col, Some(1));
        assert_eq!(idx.n_nullable, 3);
        assert_eq!(
            idx.fields[1],
            ZField {
                fixed: 13,
                nullable: false,
                big: false
            }
        );
        assert!(idx.fields[4].big && idx.fields[4].fixed == 0);
        // Trx column past the fields, truncated two-byte entry, empty.
        assert!(decode_fields(&[9, 27, 5], true).is_err());
        assert!(decode_fields(&[9, 0x81], true).is_err());
        assert!(decode_fields(&[], true).is_err());
    }

    #[test]
    fn hostile_sizes_and_types_are_errors() {
        assert!(matches!(
            decompress(&[0u8; 1000], 16384),
            Err(ZipError::Size { .. })
        ));
        assert!(matches!(
            decompress(&[0u8; 8192], 4096),
            Err(ZipError::Size { .. })
        ));
        assert!(matches!(
            decompress(&[0u8; 8192], 16384),
            Err(ZipError::NotIndex(0))
        ));
        let mut p = vec![0u8; 2048];
        p[24..26].copy_from_slice(&FIL_PAGE_INDEX.to_be_bytes());
        p[42..44].copy_from_slice(&0x8002u16.to_be_bytes());
        p[38..40].copy_from_slice(&2u16.to_be_bytes());
        assert!(decompress(&p, 16384).is_err());
    }
}
