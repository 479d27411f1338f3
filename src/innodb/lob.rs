//! Off-page columns: the 20-byte external reference at the end of a field
//! and the page chains it points to.
//!
//! Sources (facts only): MySQL/MariaDB `btr0cur.h` (BTR_EXTERN_* offsets),
//! `btr0cur.cc` (BLOB page header: part length + next page, at the
//! reference's offset; `btr_copy_zblob_prefix`: the ROW_FORMAT=COMPRESSED
//! chain), MySQL 8 `lob0first.h`, `lob0index.h`, `lob0impl.h` (LOB first
//! page, index entries, data pages).
//!
//! Every walk is bounded: a visited set stops loops, the total is capped by
//! the reference's length and by [`MAX_LOB_LEN`], and no buffer is sized
//! from an unchecked on-disk number.

use std::borrow::Cow;
use std::collections::HashSet;

use flate2::{Decompress, FlushDecompress, Status};

use crate::bytes::{be_u16, be_u32, slice};
use crate::innodb::fil::{
    FilHeader, FIL_NULL, FIL_PAGE_DATA, FIL_PAGE_DATA_END, FIL_PAGE_NEXT, FIL_PAGE_TYPE_ALLOCATED,
    FIL_PAGE_TYPE_BLOB, FIL_PAGE_TYPE_LOB_DATA, FIL_PAGE_TYPE_LOB_FIRST, FIL_PAGE_TYPE_LOB_INDEX,
    FIL_PAGE_TYPE_ZBLOB, FIL_PAGE_TYPE_ZBLOB2, FIL_PAGE_TYPE_ZLOB_FIRST,
};

/// Where the off-page pages come from (the page store implements it).
pub trait PageSource {
    /// The newest valid copy of a page, uncompressed, or `None`.
    fn page(&self, space_id: u32, page_no: u32) -> Option<Cow<'_, [u8]>>;

    /// Off-page values longer than this many bytes are not assembled by
    /// the row decoders that honour it (`innodb::deferred`); `None`: every
    /// value is assembled.
    fn defer_values_over(&self) -> Option<u64> {
        None
    }
}

/// A source with no pages (tests, or when off-page data is not wanted).
pub struct NoPages;

impl PageSource for NoPages {
    fn page(&self, _: u32, _: u32) -> Option<Cow<'_, [u8]>> {
        None
    }
}

/// Size of the external reference (`BTR_EXTERN_FIELD_REF_SIZE`).
pub const EXTERN_REF_SIZE: usize = 20;
/// Local prefix stored in the record by REDUNDANT and COMPACT.
pub const LOCAL_PREFIX_ANTELOPE: usize = 768;
/// The largest value we are willing to assemble (4 GiB, LONGBLOB's limit).
pub const MAX_LOB_LEN: u64 = 1 << 32;

const BTR_EXTERN_SPACE_ID: usize = 0;
const BTR_EXTERN_PAGE_NO: usize = 4;
const BTR_EXTERN_OFFSET: usize = 8;
const BTR_EXTERN_LEN: usize = 12;
/// Flags in the first byte of BTR_EXTERN_LEN.
const BTR_EXTERN_OWNER_FLAG: u8 = 0x80;
const BTR_EXTERN_INHERITED_FLAG: u8 = 0x40;

/// BLOB page header, at the reference's offset (normally FIL_PAGE_DATA).
const BTR_BLOB_HDR_PART_LEN: usize = 0;
const BTR_BLOB_HDR_NEXT_PAGE_NO: usize = 4;
const BTR_BLOB_HDR_SIZE: usize = 8;

// MySQL 8 LOB first page (lob0first.h).
const LOB_FIRST_DATA_LEN: usize = FIL_PAGE_DATA + 16;
const LOB_FIRST_INDEX_LIST: usize = FIL_PAGE_DATA + 26;
const LOB_FIRST_PAGE_DATA: usize = FIL_PAGE_DATA + 58;
const LOB_FIRST_N_ENTRIES: usize = 10;
const LOB_INDEX_ENTRY_SIZE: usize = 60;
const LOB_FIRST_DATA_BEGIN: usize =
    LOB_FIRST_PAGE_DATA + LOB_FIRST_N_ENTRIES * LOB_INDEX_ENTRY_SIZE;
// Index entry fields (lob0index.h).
const LOB_ENTRY_NEXT: usize = 6;
const LOB_ENTRY_PAGE_NO: usize = 48;
/// 2 bytes (a LOB page holds less than 64 KiB).
const LOB_ENTRY_DATA_LEN: usize = 52;
// LOB data page (lob0impl.h data_page_t).
const LOB_DATA_DATA_LEN: usize = FIL_PAGE_DATA + 1;
const LOB_DATA_BEGIN: usize = FIL_PAGE_DATA + 11;
// File list base node: length (4), first (page 4 + offset 2), last (6).
const FLST_FIRST: usize = 4;

/// The 20-byte reference to an off-page value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExternRef {
    pub space_id: u32,
    pub page_no: u32,
    pub offset: u32,
    /// Bytes stored off-page (the low 32 bits of the 8-byte length; the
    /// high bits hold flags and are zero otherwise).
    pub len: u64,
    pub owner: bool,
    pub inherited: bool,
}

impl ExternRef {
    /// Parses the last 20 bytes of a field.
    pub fn parse(b: &[u8]) -> Option<ExternRef> {
        let len_hi = be_u32(b, BTR_EXTERN_LEN)?;
        let flags = (len_hi >> 24) as u8;
        Some(ExternRef {
            space_id: be_u32(b, BTR_EXTERN_SPACE_ID)?,
            page_no: be_u32(b, BTR_EXTERN_PAGE_NO)?,
            offset: be_u32(b, BTR_EXTERN_OFFSET)?,
            // Owner (0x80) is *clear* when this record owns the value.
            owner: flags & BTR_EXTERN_OWNER_FLAG == 0,
            inherited: flags & BTR_EXTERN_INHERITED_FLAG != 0,
            len: (u64::from(len_hi & 0x00FF_FFFF) << 32)
                | u64::from(be_u32(b, BTR_EXTERN_LEN + 4)?),
        })
    }

    /// A reference whose length is zero with page 0: written while the value
    /// was being stored (or after it was freed); there is nothing to read.
    pub fn is_null_ref(&self) -> bool {
        self.page_no == 0 && self.len == 0
    }
}

/// Why an off-page value could not be assembled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LobError {
    #[error("off-page length {0} exceeds the {MAX_LOB_LEN} byte limit")]
    TooLong(u64),
    #[error("page {space}:{page} of the off-page chain is missing")]
    MissingPage { space: u32, page: u32 },
    #[error("page {space}:{page} has type {page_type}, not an off-page value page")]
    WrongType {
        space: u32,
        page: u32,
        page_type: u16,
    },
    #[error("page {space}:{page}: {what}")]
    Corrupt {
        space: u32,
        page: u32,
        what: &'static str,
    },
    #[error("off-page chain loops back to page {0}")]
    Loop(u32),
    #[error("off-page chain ended after {got} of {want} bytes")]
    Short { got: u64, want: u64 },
    /// MySQL 8 compressed LOBs (ZLOB_FIRST / ZLOB_INDEX / ZLOB_DATA /
    /// ZLOB_FRAG, `lob0zip.cc`) are not read yet.
    #[error("MySQL 8 compressed LOB (page type {0}) is not supported yet")]
    Compressed(u16),
    #[error("the external reference is empty (value being written or freed)")]
    NullRef,
    /// The reader of [`walk_extern`] asked to stop.
    #[error("stopped by the reader")]
    Stopped,
}

/// Reads the whole off-page part of a value.
pub fn read_extern(r: &ExternRef, pages: &dyn PageSource) -> Result<Vec<u8>, LobError> {
    // Reserve at most a modest amount up front; grow as real data arrives.
    let mut out = Vec::with_capacity(r.len.min(1 << 20) as usize);
    walk_extern(r, pages, &mut |part| {
        out.extend_from_slice(part);
        true
    })?;
    Ok(out)
}

/// The off-page part of a value, part by part, to `part` (which returns
/// `false` to stop the walk: [`LobError::Stopped`]); nothing is held. The
/// parts add up to the reference's length, or the walk ends in the error
/// [`read_extern`] would return, after the parts read before it.
pub fn walk_extern(
    r: &ExternRef,
    pages: &dyn PageSource,
    part: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<(), LobError> {
    walk_extern_at(r, pages, &mut |b, _| part(b))
}

/// Where a part of an off-page value lies ([`walk_extern_at`]): its page
/// and its first byte's offset in that page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartAt {
    pub page_no: u32,
    pub offset: usize,
}

/// [`walk_extern`], each part with where it lies in its page: `Some` for
/// the uncompressed chains (BLOB pages, MySQL 8 LOB first and data pages),
/// whose parts can be read again from their pages in any order; `None` for
/// a part of a ROW_FORMAT=COMPRESSED (zlib) chain, which exists only as the
/// output of decompressing the chain from its start.
pub fn walk_extern_at(
    r: &ExternRef,
    pages: &dyn PageSource,
    part: &mut dyn FnMut(&[u8], Option<PartAt>) -> bool,
) -> Result<(), LobError> {
    if r.len > MAX_LOB_LEN {
        return Err(LobError::TooLong(r.len));
    }
    if r.is_null_ref() {
        return Err(LobError::NullRef);
    }
    let first = pages
        .page(r.space_id, r.page_no)
        .ok_or(LobError::MissingPage {
            space: r.space_id,
            page: r.page_no,
        })?;
    let fil = FilHeader::parse(&first).ok_or(LobError::Corrupt {
        space: r.space_id,
        page: r.page_no,
        what: "short page",
    })?;
    let mut out = Parts { part, got: 0 };
    match fil.page_type {
        // MySQL 5.0 wrote BLOB pages with type 0 (FIL_PAGE_TYPE_BLOB came later).
        FIL_PAGE_TYPE_BLOB | FIL_PAGE_TYPE_ALLOCATED => {
            drop(first);
            read_blob_chain(r, pages, &mut out)
        }
        FIL_PAGE_TYPE_LOB_FIRST => read_lob_first(r, &first, pages, &mut out),
        FIL_PAGE_TYPE_ZBLOB => {
            drop(first);
            read_zblob_chain(r, pages, &mut out)
        }
        FIL_PAGE_TYPE_ZLOB_FIRST => Err(LobError::Compressed(fil.page_type)),
        t => Err(LobError::WrongType {
            space: r.space_id,
            page: r.page_no,
            page_type: t,
        }),
    }?;
    if out.got != r.len {
        return Err(LobError::Short {
            got: out.got,
            want: r.len,
        });
    }
    Ok(())
}

/// Whether the off-page value of `r` can be read at random from its pages
/// ([`walk_extern_at`] gives each part's place): every chain but a
/// ROW_FORMAT=COMPRESSED one. A first page that is missing or unreadable
/// counts as random access (reading it fails the same way either way).
pub fn random_access(r: &ExternRef, pages: &dyn PageSource) -> bool {
    pages
        .page(r.space_id, r.page_no)
        .and_then(|p| FilHeader::parse(&p))
        .is_none_or(|f| f.page_type != FIL_PAGE_TYPE_ZBLOB)
}

/// Where a walk's parts go, and how many bytes went.
struct Parts<'f> {
    part: &'f mut dyn FnMut(&[u8], Option<PartAt>) -> bool,
    got: u64,
}

impl Parts<'_> {
    fn push(&mut self, b: &[u8], at: Option<PartAt>) -> Result<(), LobError> {
        self.got += b.len() as u64;
        if b.is_empty() || (self.part)(b, at) {
            Ok(())
        } else {
            Err(LobError::Stopped)
        }
    }
}

/// The 5.x / MariaDB chain of FIL_PAGE_TYPE_BLOB pages.
fn read_blob_chain(r: &ExternRef, pages: &dyn PageSource, out: &mut Parts) -> Result<(), LobError> {
    let want = r.len;
    let mut visited = HashSet::new();
    let mut page_no = r.page_no;
    let mut offset = r.offset as usize;
    while out.got < want {
        if page_no == FIL_NULL {
            break;
        }
        if !visited.insert(page_no) {
            return Err(LobError::Loop(page_no));
        }
        let space = r.space_id;
        let p = chain_page(pages, space, page_no, |t| {
            t == FIL_PAGE_TYPE_BLOB || t == FIL_PAGE_TYPE_ALLOCATED
        })?;
        let corrupt = |what| LobError::Corrupt {
            space,
            page: page_no,
            what,
        };
        let part = be_u32(&p, offset + BTR_BLOB_HDR_PART_LEN)
            .ok_or(corrupt("BLOB header out of page"))? as usize;
        let next = be_u32(&p, offset + BTR_BLOB_HDR_NEXT_PAGE_NO)
            .ok_or(corrupt("BLOB header out of page"))?;
        let start = offset + BTR_BLOB_HDR_SIZE;
        let end_limit = p.len().saturating_sub(FIL_PAGE_DATA_END);
        if start.checked_add(part).is_none_or(|e| e > end_limit) {
            return Err(corrupt("BLOB part length runs past the page"));
        }
        if out.got + part as u64 > want {
            return Err(corrupt("BLOB parts longer than the reference says"));
        }
        let at = PartAt {
            page_no,
            offset: start,
        };
        out.push(&p[start..start + part], Some(at))?;
        page_no = next;
        offset = FIL_PAGE_DATA;
    }
    Ok(())
}

/// Page `page_no` of an off-page chain: found, of a type `type_ok` accepts,
/// and numbered as asked in its own header.
fn chain_page<'p>(
    pages: &'p dyn PageSource,
    space: u32,
    page_no: u32,
    type_ok: impl Fn(u16) -> bool,
) -> Result<Cow<'p, [u8]>, LobError> {
    let p = pages.page(space, page_no).ok_or(LobError::MissingPage {
        space,
        page: page_no,
    })?;
    let fil = FilHeader::parse(&p).ok_or(LobError::Corrupt {
        space,
        page: page_no,
        what: "short page",
    })?;
    if !type_ok(fil.page_type) {
        return Err(LobError::WrongType {
            space,
            page: page_no,
            page_type: fil.page_type,
        });
    }
    if fil.page_no != page_no {
        return Err(LobError::Corrupt {
            space,
            page: page_no,
            what: "page number in header differs",
        });
    }
    Ok(p)
}

/// The ROW_FORMAT=COMPRESSED chain (MySQL 5.x, MariaDB): one zlib stream
/// spread over a first FIL_PAGE_TYPE_ZBLOB page and ZBLOB2 pages, each
/// physical page (no trailer) holding the next page number at the
/// reference's offset (FIL_PAGE_NEXT) and stream bytes from FIL_PAGE_DATA
/// to its end. As `btr_copy_zblob_prefix`, the value is complete once the
/// reference's length has come out; more output than that is corruption.
fn read_zblob_chain(
    r: &ExternRef,
    pages: &dyn PageSource,
    out: &mut Parts,
) -> Result<(), LobError> {
    let want = r.len;
    let space = r.space_id;
    let mut buf = vec![0u8; 32 * 1024];
    let mut z = Decompress::new(true);
    let mut visited = HashSet::new();
    let mut page_no = r.page_no;
    let mut offset = r.offset as usize;
    let mut expect = FIL_PAGE_TYPE_ZBLOB;
    loop {
        if !visited.insert(page_no) || visited.len() > 1 << 22 {
            return Err(LobError::Loop(page_no));
        }
        let p = chain_page(pages, space, page_no, |t| t == expect)?;
        let corrupt = |what| LobError::Corrupt {
            space,
            page: page_no,
            what,
        };
        let next = be_u32(&p, offset).ok_or(corrupt("next page number out of page"))?;
        let start = if offset == FIL_PAGE_NEXT {
            FIL_PAGE_DATA
        } else {
            offset + 4
        };
        let input = p.get(start..).ok_or(corrupt("stream start out of page"))?;
        let mut used = 0usize;
        let mut ended = false;
        while out.got < want {
            let (in0, out0) = (z.total_in(), z.total_out());
            let st = z
                .decompress(&input[used..], &mut buf, FlushDecompress::None)
                .map_err(|_| corrupt("bad zlib data"))?;
            let consumed = (z.total_in() - in0) as usize;
            let produced = (z.total_out() - out0) as usize;
            used += consumed;
            if out.got + produced as u64 > want {
                return Err(corrupt("compressed BLOB longer than the reference says"));
            }
            out.push(&buf[..produced], None)?;
            if st == Status::StreamEnd {
                ended = true;
                break;
            }
            if consumed == 0 && produced == 0 {
                break; // this page's bytes are used up
            }
        }
        if out.got == want || ended || next == FIL_NULL {
            break;
        }
        page_no = next;
        offset = FIL_PAGE_NEXT;
        expect = FIL_PAGE_TYPE_ZBLOB2;
    }
    Ok(())
}

/// MySQL 8 uncompressed LOB: a first page with a list of index entries, each
/// naming a data page (the first page holds data itself, after its entries).
fn read_lob_first(
    r: &ExternRef,
    first: &[u8],
    pages: &dyn PageSource,
    out: &mut Parts,
) -> Result<(), LobError> {
    let space = r.space_id;
    let want = r.len;
    let corrupt = |page, what| LobError::Corrupt { space, page, what };
    let base = LOB_FIRST_INDEX_LIST;
    let mut node_page =
        be_u32(first, base + FLST_FIRST).ok_or(corrupt(r.page_no, "short first page"))?;
    let mut node_off = be_u16(first, base + FLST_FIRST + 4)
        .ok_or(corrupt(r.page_no, "short first page"))? as usize;
    let mut visited = HashSet::new();
    // Index pages other than the first one, loaded as needed.
    let mut index_page: Option<(u32, Cow<'_, [u8]>)> = None;
    while node_page != FIL_NULL {
        if !visited.insert((node_page, node_off)) || visited.len() > 1 << 22 {
            return Err(LobError::Loop(node_page));
        }
        let entry: &[u8] = if node_page == r.page_no {
            first
        } else {
            if index_page.as_ref().is_none_or(|(n, _)| *n != node_page) {
                let p = pages.page(space, node_page).ok_or(LobError::MissingPage {
                    space,
                    page: node_page,
                })?;
                let t = FilHeader::parse(&p).map(|f| f.page_type).unwrap_or(0);
                if t != FIL_PAGE_TYPE_LOB_INDEX {
                    return Err(LobError::WrongType {
                        space,
                        page: node_page,
                        page_type: t,
                    });
                }
                index_page = Some((node_page, p));
            }
            &index_page
                .as_ref()
                .map(|(_, p)| p)
                .ok_or(corrupt(node_page, "index page"))?[..]
        };
        let e = slice(entry, node_off, LOB_INDEX_ENTRY_SIZE)
            .ok_or(corrupt(node_page, "index entry out of page"))?;
        let data_page = be_u32(e, LOB_ENTRY_PAGE_NO).ok_or(corrupt(node_page, "entry"))?;
        let data_len = be_u16(e, LOB_ENTRY_DATA_LEN).ok_or(corrupt(node_page, "entry"))? as usize;
        let next_page = be_u32(e, LOB_ENTRY_NEXT).ok_or(corrupt(node_page, "entry"))?;
        let next_off = be_u16(e, LOB_ENTRY_NEXT + 4).ok_or(corrupt(node_page, "entry"))? as usize;
        if out.got + data_len as u64 > want {
            return Err(corrupt(
                data_page,
                "LOB parts longer than the reference says",
            ));
        }
        if data_page == r.page_no {
            let stored =
                be_u32(first, LOB_FIRST_DATA_LEN).ok_or(corrupt(data_page, "short"))? as usize;
            if stored != data_len {
                return Err(corrupt(
                    data_page,
                    "first page data length differs from its entry",
                ));
            }
            let d = slice(first, LOB_FIRST_DATA_BEGIN, data_len)
                .ok_or(corrupt(data_page, "data past page end"))?;
            let at = PartAt {
                page_no: data_page,
                offset: LOB_FIRST_DATA_BEGIN,
            };
            out.push(d, Some(at))?;
        } else {
            let p = pages.page(space, data_page).ok_or(LobError::MissingPage {
                space,
                page: data_page,
            })?;
            let t = FilHeader::parse(&p).map(|f| f.page_type).unwrap_or(0);
            if t != FIL_PAGE_TYPE_LOB_DATA {
                return Err(LobError::WrongType {
                    space,
                    page: data_page,
                    page_type: t,
                });
            }
            let stored = be_u32(&p, LOB_DATA_DATA_LEN).ok_or(corrupt(data_page, "short"))? as usize;
            if stored != data_len {
                return Err(corrupt(
                    data_page,
                    "data page length differs from its entry",
                ));
            }
            let end_limit = p.len().saturating_sub(FIL_PAGE_DATA_END);
            if LOB_DATA_BEGIN + data_len > end_limit {
                return Err(corrupt(data_page, "data past page end"));
            }
            let at = PartAt {
                page_no: data_page,
                offset: LOB_DATA_BEGIN,
            };
            out.push(&p[LOB_DATA_BEGIN..LOB_DATA_BEGIN + data_len], Some(at))?;
        }
        node_page = next_page;
        node_off = next_off;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Pages by number (any space).
    pub(crate) struct Map(pub HashMap<u32, Vec<u8>>);
    impl PageSource for Map {
        fn page(&self, _: u32, n: u32) -> Option<Cow<'_, [u8]>> {
            self.0.get(&n).map(|v| Cow::Borrowed(&v[..]))
        }
    }

    /// A 4 KiB FIL_PAGE_TYPE_BLOB page `no` holding `data`, linked to `next`.
    pub(crate) fn blob_page(no: u32, data: &[u8], next: u32) -> Vec<u8> {
        let mut p = vec![0u8; 4096];
        p[4..8].copy_from_slice(&no.to_be_bytes());
        p[24..26].copy_from_slice(&FIL_PAGE_TYPE_BLOB.to_be_bytes());
        p[38..42].copy_from_slice(&(data.len() as u32).to_be_bytes());
        p[42..46].copy_from_slice(&next.to_be_bytes());
        p[46..46 + data.len()].copy_from_slice(data);
        p
    }

    /// FIL_PAGE_TYPE_BLOB pages 5, 6, ... holding `data` in parts of `part`.
    pub(crate) fn chain(data: &[u8], part: usize) -> Map {
        let parts: Vec<&[u8]> = data.chunks(part).collect();
        let mut m = HashMap::new();
        for (i, d) in parts.iter().enumerate() {
            let no = 5 + i as u32;
            let next = if i + 1 == parts.len() {
                FIL_NULL
            } else {
                no + 1
            };
            m.insert(no, blob_page(no, d, next));
        }
        Map(m)
    }

    /// An owned reference of `len` bytes to the chain starting at `page_no`.
    pub(crate) fn r(page_no: u32, len: u64) -> ExternRef {
        ExternRef {
            space_id: 1,
            page_no,
            offset: 38,
            len,
            owner: true,
            inherited: false,
        }
    }

    #[test]
    fn chain_and_loop() {
        let mut m = HashMap::new();
        m.insert(5, blob_page(5, b"hello ", 6));
        m.insert(6, blob_page(6, b"world", FIL_NULL));
        let src = Map(m);
        assert_eq!(read_extern(&r(5, 11), &src).unwrap(), b"hello world");
        assert!(matches!(
            read_extern(&r(5, 12), &src),
            Err(LobError::Short { .. })
        ));
        assert!(read_extern(&r(5, 10), &src).is_err());
        let mut m = HashMap::new();
        m.insert(5, blob_page(5, b"ab", 6));
        m.insert(6, blob_page(6, b"cd", 5));
        assert_eq!(read_extern(&r(5, 100), &Map(m)), Err(LobError::Loop(5)));
        assert!(matches!(
            read_extern(&r(5, MAX_LOB_LEN + 1), &NoPages),
            Err(LobError::TooLong(_))
        ));
    }
}
