//! Records of an index page: headers, field boundaries, and the walks of the
//! record list (infimum → next → supremum) and of the free list (PAGE_FREE).
//!
//! Sources (facts only): MySQL/MariaDB `rem0rec.h`, `rem0rec.cc`
//! (rec_init_offsets, REC_N_NEW_EXTRA_BYTES, REC_INFO_*), `page0page.h`
//! (PAGE_NEW_INFIMUM/SUPREMUM), MariaDB `rem0rec.cc` (REC_STATUS_INSTANT,
//! rec_get_n_add_field), MySQL 8 `rem0lrec.h` / `rec.h` (REC_INFO_INSTANT_FLAG,
//! REC_INFO_VERSION_FLAG).
//!
//! COMPACT ("new-style", also DYNAMIC) record, backwards from its origin:
//!
//! ```text
//!  ... var-lengths | null bitmap | [n_add / n_fields / version] | info+n_owned (1) | heap_no<<3|status (2) | next (2) | origin → data
//! ```
//!
//! REDUNDANT ("old-style") record:
//!
//! ```text
//!  ... field end offsets (1 or 2 bytes each, last field first) | info+n_owned (1) | heap_no<<3|n_fields>>7 .. (2) | n_fields<<1|short (1..) | next (2) | origin
//! ```

use crate::bytes::{be_u16, slice};
use crate::innodb::fil::{
    FIL_PAGE_DATA, FIL_PAGE_DATA_END, FIL_PAGE_TYPE, FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB,
};
use crate::innodb::page_header::{
    PageHeader, PAGE_FREE, PAGE_HEAP_TOP, PAGE_NEW_INFIMUM, PAGE_OLD_INFIMUM,
};

/// Extra bytes of a COMPACT record header.
pub const REC_N_NEW_EXTRA_BYTES: usize = 5;
/// Extra bytes of a REDUNDANT record header.
pub const REC_N_OLD_EXTRA_BYTES: usize = 6;
/// Origins of the system records.
pub const PAGE_NEW_SUPREMUM: usize = PAGE_NEW_INFIMUM + 13;
pub const PAGE_OLD_SUPREMUM: usize = PAGE_OLD_INFIMUM + 15;
/// End of the supremum record: user records start after it.
pub const PAGE_NEW_SUPREMUM_END: usize = PAGE_NEW_SUPREMUM + 8;
pub const PAGE_OLD_SUPREMUM_END: usize = PAGE_OLD_SUPREMUM + 9;

/// Info bits (the high nibble of the info byte).
pub const REC_INFO_MIN_REC_FLAG: u8 = 0x10;
pub const REC_INFO_DELETED_FLAG: u8 = 0x20;
/// MySQL 8.0.29+: the record carries a row version byte.
pub const REC_INFO_VERSION_FLAG: u8 = 0x40;
/// MySQL 8.0.12+: the record carries its field count (instant ADD).
pub const REC_INFO_INSTANT_FLAG: u8 = 0x80;

/// COMPACT record status (low 3 bits of the byte at origin-3).
pub const REC_STATUS_ORDINARY: u8 = 0;
pub const REC_STATUS_NODE_PTR: u8 = 1;
pub const REC_STATUS_INFIMUM: u8 = 2;
pub const REC_STATUS_SUPREMUM: u8 = 3;
/// MariaDB 10.3+: a leaf record with instantly added fields (n_add stored).
pub const REC_STATUS_INSTANT: u8 = 4;

/// The physical field count can never exceed this (REC_MAX_N_FIELDS).
pub const REC_MAX_N_FIELDS: usize = 1023;

/// What kind of record this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// A leaf record holding a row.
    Leaf,
    /// A non-leaf record (key prefix + child page number).
    NodePointer,
    /// MariaDB's instant metadata record (min_rec flag on the leftmost leaf).
    Metadata,
}

/// A record's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecHeader {
    pub origin: usize,
    pub info_bits: u8,
    pub n_owned: u8,
    pub heap_no: u16,
    /// COMPACT status (0..=4); REDUNDANT: derived (0 for user records).
    pub status: u8,
    /// Offset of the next record in the list, 0 for none.
    pub next: usize,
    /// REDUNDANT only: number of fields and the 1-byte-offsets flag.
    pub n_fields_old: u16,
    pub short_offsets: bool,
}

impl RecHeader {
    pub fn deleted(&self) -> bool {
        self.info_bits & REC_INFO_DELETED_FLAG != 0
    }
    pub fn min_rec(&self) -> bool {
        self.info_bits & REC_INFO_MIN_REC_FLAG != 0
    }
}

/// Reads a COMPACT record header at `origin`.
pub fn compact_header(page: &[u8], origin: usize) -> Option<RecHeader> {
    let info = *page.get(origin.checked_sub(5)?)?;
    let hs = be_u16(page, origin.checked_sub(4)?)?;
    let nx = be_u16(page, origin - 2)?;
    let next = if nx == 0 {
        0
    } else {
        (origin + nx as usize) % 65536 % page.len().max(1)
    };
    Some(RecHeader {
        origin,
        info_bits: info & 0xF0,
        n_owned: info & 0x0F,
        heap_no: hs >> 3,
        status: (hs & 7) as u8,
        next,
        n_fields_old: 0,
        short_offsets: false,
    })
}

/// Reads a REDUNDANT record header at `origin`.
pub fn redundant_header(page: &[u8], origin: usize) -> Option<RecHeader> {
    let info = *page.get(origin.checked_sub(6)?)?;
    let heap = be_u16(page, origin - 5)?;
    let nf = be_u16(page, origin - 4)?;
    let next = be_u16(page, origin - 2)? as usize;
    Some(RecHeader {
        origin,
        info_bits: info & 0xF0,
        n_owned: info & 0x0F,
        heap_no: heap >> 3,
        status: 0,
        next,
        n_fields_old: (nf >> 1) & 0x3FF,
        short_offsets: nf & 1 != 0,
    })
}

/// One field of a record, as offsets into the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldPos {
    Null,
    /// Bytes `start..start+len` of the page.
    Inline {
        start: usize,
        len: usize,
    },
    /// Stored off-page: `start..start+len` is the local prefix followed by
    /// the 20-byte external reference.
    External {
        start: usize,
        len: usize,
    },
}

impl FieldPos {
    pub fn bytes<'a>(&self, page: &'a [u8]) -> Option<&'a [u8]> {
        match *self {
            FieldPos::Null => None,
            FieldPos::Inline { start, len } | FieldPos::External { start, len } => {
                slice(page, start, len)
            }
        }
    }
}

/// What the COMPACT parser needs to know about each physical field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// Fixed byte length, or `None` when the length is in the header.
    pub fixed_len: Option<usize>,
    pub nullable: bool,
    /// A "big" column: a length byte with 0x80 set starts a 2-byte length
    /// (which carries the 0x4000 external flag).
    pub big: bool,
    /// Maximum byte length (for sanity checks of inline lengths).
    pub max_len: u64,
}

/// The fields of one record layout, with the size of their null bitmap
/// (one bit per nullable field): counted once for all the records of a
/// page.
#[derive(Debug, Clone, Copy)]
pub struct Specs<'a> {
    fields: &'a [FieldSpec],
    null_bytes: usize,
}

impl<'a> Specs<'a> {
    pub fn new(fields: &'a [FieldSpec]) -> Specs<'a> {
        Specs {
            fields,
            null_bytes: fields.iter().filter(|s| s.nullable).count().div_ceil(8),
        }
    }

    pub fn fields(&self) -> &'a [FieldSpec] {
        self.fields
    }
}

/// Why a record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record at {origin}: header out of the page")]
    Header { origin: usize },
    #[error("record at {origin}: {what}")]
    Bad { origin: usize, what: String },
}

fn bad(origin: usize, what: impl Into<String>) -> RecordError {
    RecordError::Bad {
        origin,
        what: what.into(),
    }
}

/// The extra information some COMPACT records carry before the null bitmap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompactExtra {
    /// MariaDB REC_STATUS_INSTANT: number of fields present.
    pub mariadb_n_fields_rel: Option<usize>,
    /// MySQL 8.0.12+ instant flag: the stored field count.
    pub mysql_n_fields: Option<usize>,
    /// MySQL 8.0.29+ row version.
    pub version: Option<u8>,
    /// Bytes used by this information (the null bitmap starts before them).
    pub size: usize,
}

/// Reads the optional counters between the 5 header bytes and the null
/// bitmap. `mysql_instant_bits` says whether info bits 0x40/0x80 mean
/// MySQL's version/instant flags (false for MariaDB and old MySQL tables).
pub fn compact_extra(
    page: &[u8],
    h: &RecHeader,
    mysql_instant_bits: bool,
) -> Result<CompactExtra, RecordError> {
    let o = h.origin;
    let mut p = o
        .checked_sub(REC_N_NEW_EXTRA_BYTES)
        .ok_or(RecordError::Header { origin: o })?;
    let mut e = CompactExtra {
        mariadb_n_fields_rel: None,
        mysql_n_fields: None,
        version: None,
        size: 0,
    };
    let byte_before = |p: &mut usize| -> Result<u8, RecordError> {
        *p = p.checked_sub(1).ok_or(RecordError::Header { origin: o })?;
        page.get(*p)
            .copied()
            .ok_or(RecordError::Header { origin: o })
    };
    if h.status == REC_STATUS_INSTANT {
        let b0 = byte_before(&mut p)?;
        let n = if b0 < 0x80 {
            usize::from(b0)
        } else {
            let b1 = byte_before(&mut p)?;
            usize::from(b0 & 0x7F) | (usize::from(b1) << 7)
        };
        e.mariadb_n_fields_rel = Some(n);
    } else if mysql_instant_bits && h.info_bits & REC_INFO_VERSION_FLAG != 0 {
        e.version = Some(byte_before(&mut p)?);
    } else if mysql_instant_bits && h.info_bits & REC_INFO_INSTANT_FLAG != 0 {
        let b0 = byte_before(&mut p)?;
        let n = if b0 < 0x80 {
            usize::from(b0)
        } else {
            let b1 = byte_before(&mut p)?;
            (usize::from(b0 & 0x7F) << 8) | usize::from(b1)
        };
        e.mysql_n_fields = Some(n);
    }
    e.size = o - REC_N_NEW_EXTRA_BYTES - p;
    Ok(e)
}

/// A parsed record: header plus field positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    pub header: RecHeader,
    pub fields: Vec<FieldPos>,
    /// First byte of the record (start of its extra bytes) and one past its
    /// last data byte.
    pub start: usize,
    pub end: usize,
}

/// Parses the fields of a COMPACT record whose physical fields are `specs`
/// (exactly the fields this record holds). `extra` from [`compact_extra`].
pub fn compact_fields(
    page: &[u8],
    h: &RecHeader,
    extra_size: usize,
    specs: &[FieldSpec],
    data_limit: usize,
) -> Result<RawRecord, RecordError> {
    let mut fields = Vec::with_capacity(specs.len());
    let specs = Specs::new(specs);
    let (start, end) = compact_fields_into(page, h, extra_size, specs, data_limit, &mut fields)?;
    Ok(RawRecord {
        header: *h,
        fields,
        start,
        end,
    })
}

/// [`compact_fields`] appending the fields to `fields` (left as it was on
/// error); returns the record's first byte and one past its last.
pub fn compact_fields_into(
    page: &[u8],
    h: &RecHeader,
    extra_size: usize,
    specs: Specs<'_>,
    data_limit: usize,
    fields: &mut Vec<FieldPos>,
) -> Result<(usize, usize), RecordError> {
    let n = specs.fields.len();
    compact_first_fields_into(page, h, extra_size, specs, n, data_limit, fields)
}

/// [`compact_fields_into`] for the first `take` of the record's fields
/// `specs` only (a key at the front of the record, read without the rest:
/// the checks of those fields are the same); returns the record's first
/// byte and one past the last byte taken.
pub fn compact_first_fields_into(
    page: &[u8],
    h: &RecHeader,
    extra_size: usize,
    specs: Specs<'_>,
    take: usize,
    data_limit: usize,
    fields: &mut Vec<FieldPos>,
) -> Result<(usize, usize), RecordError> {
    let base = fields.len();
    let r = compact_fields_at(page, h, extra_size, specs, take, data_limit, fields);
    if r.is_err() {
        fields.truncate(base);
    }
    r
}

fn compact_fields_at(
    page: &[u8],
    h: &RecHeader,
    extra_size: usize,
    specs: Specs<'_>,
    take: usize,
    data_limit: usize,
    fields: &mut Vec<FieldPos>,
) -> Result<(usize, usize), RecordError> {
    let o = h.origin;
    let header = || RecordError::Header { origin: o };
    let null_bytes = specs.null_bytes;
    let nulls_end = o
        .checked_sub(REC_N_NEW_EXTRA_BYTES + extra_size)
        .ok_or_else(header)?;
    // Null bitmap: byte nulls_end-1 holds the first 8 nullable fields (bit 0
    // first); the lengths are before it, the first field's last.
    let mut lens = nulls_end.checked_sub(null_bytes).ok_or_else(header)?;
    // The header bytes of this record: the null bitmap and the lengths
    // (checked one by one: a length byte out of the page is an error).
    let nulls = page.get(lens..nulls_end).ok_or_else(header)?;
    let mut nullable_i = 0usize;
    let mut data = o;
    fields.reserve(take);
    for s in &specs.fields[..take.min(specs.fields.len())] {
        if s.nullable {
            let byte = nulls[null_bytes - 1 - nullable_i / 8];
            let is_null = byte >> (nullable_i % 8) & 1 != 0;
            nullable_i += 1;
            if is_null {
                fields.push(FieldPos::Null);
                continue;
            }
        }
        let (len, external) = match s.fixed_len {
            // A fixed length is within the column maximum by definition.
            Some(l) => (l, false),
            None => {
                lens = lens.checked_sub(1).ok_or_else(header)?;
                let b0 = *page.get(lens).ok_or_else(header)?;
                let (len, external) = if s.big && b0 & 0x80 != 0 {
                    lens = lens.checked_sub(1).ok_or_else(header)?;
                    let b1 = *page.get(lens).ok_or_else(header)?;
                    (
                        (usize::from(b0 & 0x3F) << 8) | usize::from(b1),
                        b0 & 0x40 != 0,
                    )
                } else {
                    (usize::from(b0), false)
                };
                if !external && len as u64 > s.max_len {
                    return Err(bad(
                        o,
                        format!("field length {len} above the column maximum {}", s.max_len),
                    ));
                }
                (len, external)
            }
        };
        if external && len < crate::innodb::lob::EXTERN_REF_SIZE {
            return Err(bad(o, "external field shorter than its reference"));
        }
        let end = data
            .checked_add(len)
            .ok_or_else(|| bad(o, "length overflow"))?;
        if end > data_limit {
            return Err(bad(o, "field data runs past the heap"));
        }
        fields.push(if external {
            FieldPos::External { start: data, len }
        } else {
            FieldPos::Inline { start: data, len }
        });
        data = end;
    }
    Ok((lens, data))
}

/// Parses the fields of a REDUNDANT record (field count from its header).
pub fn redundant_fields(
    page: &[u8],
    h: &RecHeader,
    data_limit: usize,
) -> Result<RawRecord, RecordError> {
    let mut fields = Vec::new();
    let (start, end) = redundant_fields_into(page, h, data_limit, &mut fields)?;
    Ok(RawRecord {
        header: *h,
        fields,
        start,
        end,
    })
}

/// [`redundant_fields`] appending the fields to `fields` (left as it was on
/// error); returns the record's first byte and one past its last.
pub fn redundant_fields_into(
    page: &[u8],
    h: &RecHeader,
    data_limit: usize,
    fields: &mut Vec<FieldPos>,
) -> Result<(usize, usize), RecordError> {
    let first = fields.len();
    let r = redundant_fields_at(page, h, data_limit, fields);
    if r.is_err() {
        fields.truncate(first);
    }
    r
}

fn redundant_fields_at(
    page: &[u8],
    h: &RecHeader,
    data_limit: usize,
    fields: &mut Vec<FieldPos>,
) -> Result<(usize, usize), RecordError> {
    let o = h.origin;
    let n = h.n_fields_old as usize;
    if n == 0 || n > REC_MAX_N_FIELDS {
        return Err(bad(o, format!("{n} fields")));
    }
    let w = if h.short_offsets { 1 } else { 2 };
    let base = o
        .checked_sub(REC_N_OLD_EXTRA_BYTES)
        .ok_or(RecordError::Header { origin: o })?;
    let start = base
        .checked_sub(n * w)
        .ok_or(RecordError::Header { origin: o })?;
    fields.reserve(n);
    let mut prev = 0usize;
    for i in 0..n {
        let at = base - (i + 1) * w;
        let (end, null, ext) = if w == 1 {
            let v = *page.get(at).ok_or(RecordError::Header { origin: o })?;
            (usize::from(v & 0x7F), v & 0x80 != 0, false)
        } else {
            let v = be_u16(page, at).ok_or(RecordError::Header { origin: o })?;
            (usize::from(v & 0x3FFF), v & 0x8000 != 0, v & 0x4000 != 0)
        };
        if end < prev {
            return Err(bad(o, format!("field {i} ends at {end} before {prev}")));
        }
        let len = end - prev;
        let s = o + prev;
        if o + end > data_limit {
            return Err(bad(o, "field data runs past the heap"));
        }
        fields.push(if null {
            FieldPos::Null
        } else if ext {
            if len < crate::innodb::lob::EXTERN_REF_SIZE {
                return Err(bad(o, "external field shorter than its reference"));
            }
            FieldPos::External { start: s, len }
        } else {
            FieldPos::Inline { start: s, len }
        });
        prev = end;
    }
    Ok((start, o + prev))
}

/// The page-level facts every walk needs.
#[derive(Debug, Clone, Copy)]
pub struct PageGeom {
    pub compact: bool,
    pub n_heap: u16,
    pub heap_top: usize,
    pub n_recs: u16,
    pub level: u16,
    pub free: usize,
    pub infimum: usize,
    pub supremum: usize,
    /// User records start at or after this offset.
    pub user_start: usize,
}

impl PageGeom {
    pub fn parse(page: &[u8]) -> Option<PageGeom> {
        let ph = PageHeader::parse(page)?;
        let h = FIL_PAGE_DATA;
        let heap_top = be_u16(page, h + PAGE_HEAP_TOP)? as usize;
        let free = be_u16(page, h + PAGE_FREE)? as usize;
        let (infimum, supremum, user_start) = if ph.compact {
            (PAGE_NEW_INFIMUM, PAGE_NEW_SUPREMUM, PAGE_NEW_SUPREMUM_END)
        } else {
            (PAGE_OLD_INFIMUM, PAGE_OLD_SUPREMUM, PAGE_OLD_SUPREMUM_END)
        };
        let size = page.len();
        // The page directory takes at least two slots at the end.
        let dir_start = size.checked_sub(FIL_PAGE_DATA_END + 2 * usize::from(ph.n_dir_slots))?;
        if heap_top < user_start || heap_top > dir_start || ph.n_heap < 2 {
            return None;
        }
        let inf = slice(page, infimum, 8)?;
        let sup = slice(page, supremum, 8)?;
        // MariaDB 10.4+ instant ALTER: the clustered root (FIL_PAGE_TYPE_INSTANT)
        // has zeros in the infimum and zeros + n_core_null_bytes in the supremum.
        let instant_root = be_u16(page, FIL_PAGE_TYPE) == Some(FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB)
            && inf == [0u8; 8]
            && sup[..7] == [0u8; 7];
        if !instant_root && (inf != b"infimum\0" || sup != b"supremum") {
            return None;
        }
        Some(PageGeom {
            compact: ph.compact,
            n_heap: ph.n_heap,
            heap_top,
            n_recs: ph.n_recs,
            level: ph.level,
            free,
            infimum,
            supremum,
            user_start,
        })
    }
}

/// Result of following one list.
#[derive(Debug, Default)]
pub struct ListWalk {
    /// Headers of the user records in list order, each checked: inside the
    /// heap, heap number in range and not seen before.
    pub headers: Vec<RecHeader>,
    /// Why the walk stopped early, if it did.
    pub broken: Option<String>,
}

/// Follows a record list from `first` (an origin, 0 = empty) until the
/// supremum (`until_supremum`) or the end of the list (free list), checking
/// each step. Bounded by `n_heap` steps.
pub fn walk_list(page: &[u8], g: &PageGeom, first: usize, until_supremum: bool) -> ListWalk {
    let mut w = ListWalk::default();
    if until_supremum {
        // Room for the records the header counts (no more than fit in the page).
        w.headers.reserve(
            usize::from(g.n_recs)
                .min(usize::from(g.n_heap))
                .min(page.len() / REC_N_NEW_EXTRA_BYTES),
        );
    }
    let mut seen_heap = vec![false; usize::from(g.n_heap)];
    let mut cur = first;
    let extra = if g.compact {
        REC_N_NEW_EXTRA_BYTES
    } else {
        REC_N_OLD_EXTRA_BYTES
    };
    for _ in 0..=usize::from(g.n_heap) {
        if cur == 0 {
            if until_supremum {
                w.broken = Some("list ends before the supremum".into());
            }
            return w;
        }
        if cur == g.supremum {
            if !until_supremum {
                w.broken = Some("free list reaches the supremum".into());
            }
            return w;
        }
        if cur < g.user_start + extra || cur >= g.heap_top {
            w.broken = Some(format!("next record offset {cur} outside the heap"));
            return w;
        }
        let h = if g.compact {
            compact_header(page, cur)
        } else {
            redundant_header(page, cur)
        };
        let Some(h) = h else {
            w.broken = Some(format!("record header at {cur} unreadable"));
            return w;
        };
        let hn = usize::from(h.heap_no);
        if hn < 2 || hn >= seen_heap.len() {
            w.broken = Some(format!("record at {cur}: heap number {hn} out of range"));
            return w;
        }
        if seen_heap[hn] {
            w.broken = Some(format!(
                "record at {cur}: heap number {hn} seen twice (loop)"
            ));
            return w;
        }
        seen_heap[hn] = true;
        if g.compact && h.status > REC_STATUS_INSTANT {
            w.broken = Some(format!("record at {cur}: status {}", h.status));
            return w;
        }
        if g.compact && (h.status == REC_STATUS_INFIMUM || h.status == REC_STATUS_SUPREMUM) {
            w.broken = Some(format!(
                "record at {cur}: system record status in the user area"
            ));
            return w;
        }
        w.headers.push(h);
        cur = h.next;
    }
    w.broken = Some("list longer than the heap".into());
    w
}

/// The live list: the infimum's successor onwards.
pub fn walk_records(page: &[u8], g: &PageGeom) -> ListWalk {
    let inf = if g.compact {
        compact_header(page, g.infimum)
    } else {
        redundant_header(page, g.infimum)
    };
    match inf {
        Some(h) => walk_list(page, g, h.next, true),
        None => ListWalk {
            headers: Vec::new(),
            broken: Some("infimum unreadable".into()),
        },
    }
}

/// The free (garbage) list from PAGE_FREE.
pub fn walk_free(page: &[u8], g: &PageGeom) -> ListWalk {
    walk_list(page, g, g.free, false)
}

/// Every record reachable on a page that cannot be proven whole (its
/// checksum fails): the live list from the infimum, and then, where a
/// damaged link broke it, the list again from each page directory slot's
/// owner record, so one bad `next` loses only the records up to the next
/// slot. Each record is taken once (by origin), every step checked as in
/// [`walk_list`]; bounded by `n_heap` records in all. `broken` tells why the
/// infimum's walk stopped, if it did.
pub fn walk_unproven(page: &[u8], g: &PageGeom) -> ListWalk {
    let mut out = walk_records(page, g);
    if out.broken.is_none() {
        return out;
    }
    let n_slots = PageHeader::parse(page).map_or(0, |h| usize::from(h.n_dir_slots));
    let dir_end = page.len().saturating_sub(FIL_PAGE_DATA_END);
    let mut seen_heap = vec![false; usize::from(g.n_heap)];
    let mut seen_at = std::collections::HashSet::new();
    for h in &out.headers {
        if let Some(x) = seen_heap.get_mut(usize::from(h.heap_no)) {
            *x = true;
        }
        seen_at.insert(h.origin);
    }
    // Slot 0 (the infimum) is the last two bytes before the trailer.
    let max_slots = n_slots.min(dir_end.saturating_sub(g.heap_top) / 2);
    let extra = if g.compact {
        REC_N_NEW_EXTRA_BYTES
    } else {
        REC_N_OLD_EXTRA_BYTES
    };
    for slot in 1..max_slots {
        let Some(mut cur) = dir_end
            .checked_sub(2 * (slot + 1))
            .and_then(|at| be_u16(page, at))
            .map(usize::from)
        else {
            continue;
        };
        while out.headers.len() < usize::from(g.n_heap) {
            if cur == g.supremum || seen_at.contains(&cur) {
                break;
            }
            if cur < g.user_start + extra || cur >= g.heap_top {
                break;
            }
            let h = if g.compact {
                compact_header(page, cur)
            } else {
                redundant_header(page, cur)
            };
            let Some(h) = h else { break };
            let hn = usize::from(h.heap_no);
            if hn < 2 || hn >= seen_heap.len() || seen_heap[hn] {
                break;
            }
            if g.compact && h.status != REC_STATUS_ORDINARY && h.status != REC_STATUS_NODE_PTR {
                break;
            }
            seen_heap[hn] = true;
            seen_at.insert(cur);
            out.headers.push(h);
            cur = h.next;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_out_of_range_are_none() {
        let page = vec![0u8; 16];
        assert!(compact_header(&page, 2).is_none());
        assert!(redundant_header(&page, 100).is_none());
    }
}
