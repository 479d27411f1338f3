//! One page record applied to a page frame (`log0recv.cc`
//! `log_phys_t::apply`).
//!
//! WRITE, MEMSET and MEMMOVE carry a byte offset relative to where the
//! previous record for the same page in the same mini-transaction ended
//! (0 for a record that names its page; FIL_PAGE_TYPE after INIT_PAGE and
//! EXTENDED records). The value 1 marks "no same-page record may follow".

use crate::innodb::fil::{FIL_PAGE_OFFSET, FIL_PAGE_PREV, FIL_PAGE_SPACE_ID, FIL_PAGE_TYPE};
use crate::innodb::redo::page_ops;
use crate::innodb::redo::record::{
    PageRec, EXTENDED, FREE_PAGE, INIT_PAGE, MEMMOVE, MEMSET, OPTION, RESERVED, WRITE,
};
use crate::innodb::redo::varint;

/// EXTENDED subtypes (`mrec_ext_t`).
pub const INIT_ROW_FORMAT_REDUNDANT: u8 = 0;
pub const INIT_ROW_FORMAT_DYNAMIC: u8 = 1;
pub const UNDO_INIT: u8 = 2;
pub const UNDO_APPEND: u8 = 3;
pub const INSERT_HEAP_REDUNDANT: u8 = 4;
pub const INSERT_REUSE_REDUNDANT: u8 = 5;
pub const INSERT_HEAP_DYNAMIC: u8 = 6;
pub const INSERT_REUSE_DYNAMIC: u8 = 7;
pub const DELETE_ROW_FORMAT_REDUNDANT: u8 = 8;
pub const DELETE_ROW_FORMAT_DYNAMIC: u8 = 9;
pub const TRIM_PAGES: u8 = 10;

/// What applying a record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The page changed.
    Changed,
    /// FREE_PAGE: the page is free from here on.
    Freed,
    /// Nothing to do (OPTION, TRIM_PAGES).
    Ignored,
}

/// Reads a varint of at most `max` bytes from the front of `b`.
fn take(b: &mut &[u8], max: usize) -> Result<usize, &'static str> {
    let first = *b.first().ok_or("record too short")?;
    if varint::len(first) > max {
        return Err("varint too long");
    }
    let (v, n) = varint::decode(b).ok_or("bad varint")?;
    *b = &b[n..];
    Ok(v as usize)
}

/// Applies `r` to `page` (the page's bytes: of its logical size, or the
/// compressed bytes of a ROW_FORMAT=COMPRESSED page, `zip`).
/// `last_offset` carries the same-page offset between records of one
/// mini-transaction. Errors leave the page as InnoDB's checks would
/// (checked before changed).
pub fn apply(
    page: &mut [u8],
    r: &PageRec<'_>,
    last_offset: &mut usize,
    zip: bool,
) -> Result<Applied, &'static str> {
    let size = page.len();
    if !r.same_page {
        *last_offset = 0;
    }
    let body = r.body;
    match r.op {
        FREE_PAGE => {
            *last_offset = 1;
            return if body.is_empty() {
                Ok(Applied::Freed)
            } else {
                Err("FREE_PAGE with a payload")
            };
        }
        INIT_PAGE => {
            if !body.is_empty() {
                *last_offset = 1;
                return Err("INIT_PAGE with a payload");
            }
            page.fill(0);
            page[FIL_PAGE_OFFSET..FIL_PAGE_OFFSET + 4].copy_from_slice(&r.page.to_be_bytes());
            page[FIL_PAGE_PREV..FIL_PAGE_PREV + 8].fill(0xff);
            page[FIL_PAGE_SPACE_ID..FIL_PAGE_SPACE_ID + 4].copy_from_slice(&r.space.to_be_bytes());
            *last_offset = FIL_PAGE_TYPE;
            return Ok(Applied::Changed);
        }
        OPTION | RESERVED => return Ok(Applied::Ignored),
        _ => {}
    }
    match r.op {
        EXTENDED => {
            if zip {
                *last_offset = 1;
                return Err("EXTENDED record on a ROW_FORMAT=COMPRESSED page");
            }
            let result = extended(page, r.page, body);
            *last_offset = FIL_PAGE_TYPE;
            result
        }
        WRITE | MEMSET | MEMMOVE => {
            if *last_offset == 1 {
                return Err("same-page record after FREE_PAGE or a bad record");
            }
            let mut b = body;
            let off = take(&mut b, 3)?;
            if off >= size {
                return Err("offset past the page");
            }
            let at = *last_offset + off;
            if at < 8 || at >= size {
                return Err("offset outside the page body");
            }
            if r.op == WRITE {
                if b.is_empty() || at + b.len() > size {
                    return Err("WRITE past the page end");
                }
                page[at..at + b.len()].copy_from_slice(b);
                *last_offset = at + b.len();
                return Ok(Applied::Changed);
            }
            let len = take(&mut b, 3)?;
            if at + len > size {
                return Err("length past the page end");
            }
            if r.op == MEMSET {
                if b.is_empty() || b.len() > len {
                    return Err("MEMSET pattern");
                }
                for (i, x) in page[at..at + len].iter_mut().enumerate() {
                    *x = b[i % b.len()];
                }
            } else {
                let s = take(&mut b, 3)?;
                if !b.is_empty() {
                    return Err("MEMMOVE with trailing bytes");
                }
                let src = if s & 1 != 0 {
                    at.checked_sub((s >> 1) + 1).ok_or("MEMMOVE source")?
                } else {
                    at + (s >> 1) + 1
                };
                if src < 8 || src + len > size {
                    return Err("MEMMOVE source outside the page");
                }
                page.copy_within(src..src + len, at);
            }
            *last_offset = at + len;
            Ok(Applied::Changed)
        }
        _ => Err("unknown record type"),
    }
}

fn extended(page: &mut [u8], page_no: u32, body: &[u8]) -> Result<Applied, &'static str> {
    if page_no < 3 {
        return Err("EXTENDED record on page 0, 1 or 2");
    }
    let (&sub, mut b) = body.split_first().ok_or("EXTENDED without subtype")?;
    match sub {
        INIT_ROW_FORMAT_REDUNDANT | INIT_ROW_FORMAT_DYNAMIC => {
            if !b.is_empty() {
                return Err("page create with a payload");
            }
            page_ops::page_create(page, sub == INIT_ROW_FORMAT_DYNAMIC)?;
        }
        UNDO_INIT => {
            if !b.is_empty() {
                return Err("UNDO_INIT with a payload");
            }
            page_ops::undo_init(page)?;
        }
        UNDO_APPEND => {
            if b.len() <= 2 {
                return Err("UNDO_APPEND too short");
            }
            page_ops::undo_append(page, b)?;
        }
        INSERT_HEAP_REDUNDANT
        | INSERT_REUSE_REDUNDANT
        | INSERT_HEAP_DYNAMIC
        | INSERT_REUSE_DYNAMIC => {
            let reuse = sub & 1 != 0;
            let prev = take(&mut b, 3)?;
            if sub & 2 != 0 {
                let shift = if reuse { take(&mut b, 3)? } else { 0 };
                let enc_hdr_l = take(&mut b, 3)?;
                let hdr_c = take(&mut b, 2)?;
                let data_c = take(&mut b, 3)?;
                page_ops::insert_dynamic(
                    page, page_no, reuse, prev, shift, enc_hdr_l, hdr_c, data_c, b,
                )?;
            } else {
                let header = take(&mut b, 2)?;
                let hdr_c = take(&mut b, 2)?;
                let data_c = take(&mut b, 2)?;
                page_ops::insert_redundant(page, page_no, reuse, prev, header, hdr_c, data_c, b)?;
            }
        }
        DELETE_ROW_FORMAT_REDUNDANT => {
            let prev = take(&mut b, 3)?;
            if !b.is_empty() {
                return Err("delete with trailing bytes");
            }
            page_ops::delete_redundant(page, page_no, prev)?;
        }
        DELETE_ROW_FORMAT_DYNAMIC => {
            let prev = take(&mut b, 3)?;
            let hdr_size = take(&mut b, 2)?;
            let data_size = take(&mut b, 3)?;
            if !b.is_empty() {
                return Err("delete with trailing bytes");
            }
            page_ops::delete_dynamic(page, page_no, prev, hdr_size, data_size)?;
        }
        TRIM_PAGES => return Ok(Applied::Ignored),
        _ => return Err("unknown EXTENDED subtype"),
    }
    Ok(Applied::Changed)
}
