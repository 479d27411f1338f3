//! The records of one mini-transaction (`mtr0types.h`, `log0recv.cc`
//! `recv_sys_t::parse_tail`).
//!
//! First byte: bit 7 `same_page`, bits 6..4 the type, bits 3..0 the length
//! (see [`super::varint::record_len`]). A record with `same_page` = 0 names
//! its page: tablespace id and page number as varints. Records with bit 7
//! set before any page record are file operations (`FILE_CREATE` 0x80,
//! `FILE_DELETE` 0x90, `FILE_RENAME` 0xa0, `FILE_MODIFY` 0xb0,
//! `FILE_CHECKPOINT` 0xf0); after a page record they refer to that page.

use crate::innodb::redo::varint;

pub const FREE_PAGE: u8 = 0x00;
pub const INIT_PAGE: u8 = 0x10;
pub const EXTENDED: u8 = 0x20;
pub const WRITE: u8 = 0x30;
pub const MEMSET: u8 = 0x40;
pub const MEMMOVE: u8 = 0x50;
pub const RESERVED: u8 = 0x60;
pub const OPTION: u8 = 0x70;

pub const FILE_CREATE: u8 = 0x80;
pub const FILE_DELETE: u8 = 0x90;
pub const FILE_RENAME: u8 = 0xa0;
pub const FILE_MODIFY: u8 = 0xb0;
pub const FILE_CHECKPOINT: u8 = 0xf0;

/// A record for one page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRec<'a> {
    pub space: u32,
    pub page: u32,
    /// The type: [`FREE_PAGE`] .. [`OPTION`].
    pub op: u8,
    /// Continues the previous record's page (offsets relative to where it
    /// ended).
    pub same_page: bool,
    /// The bytes after the page id.
    pub body: &'a [u8],
}

/// One record of a mini-transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item<'a> {
    Page(PageRec<'a>),
    /// FILE_CREATE / FILE_DELETE / FILE_MODIFY (`name2` is `None`) or
    /// FILE_RENAME (old name, new name).
    File {
        op: u8,
        space: u32,
        name: &'a [u8],
        name2: Option<&'a [u8]>,
    },
    /// FILE_CHECKPOINT with its LSN (0 for padding).
    Checkpoint(u64),
}

/// A record that does not parse: its byte position in the mini-transaction
/// and what is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed {
    pub at: usize,
    pub what: &'static str,
}

/// Parses the records of a mini-transaction (`recs` = the bytes before its
/// end byte). Every length is checked against the bytes there are.
pub fn parse(recs: &[u8], page_size: usize) -> Result<Vec<Item<'_>>, Malformed> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    let mut page: Option<(u32, u32)> = None;
    while pos < recs.len() {
        let at = pos;
        let bad = |what| Malformed { at, what };
        let b = recs[pos];
        if b <= 1 {
            break;
        }
        let (rlen, head) = varint::record_len(&recs[pos..]).ok_or(bad("record length"))?;
        let start = pos + head;
        let end = start.checked_add(rlen).filter(|&e| e <= recs.len());
        let end = end.ok_or(bad("record runs past the mini-transaction"))?;
        let mut body = &recs[start..end];
        pos = end;
        let op = b & 0x70;
        if b & 0x80 != 0 {
            if let Some((space, pg)) = page {
                if op <= INIT_PAGE {
                    return Err(bad("FREE_PAGE/INIT_PAGE with same_page"));
                }
                out.push(Item::Page(PageRec {
                    space,
                    page: pg,
                    op,
                    same_page: true,
                    body,
                }));
                continue;
            }
        }
        // FILE_CHECKPOINT followed by zero bytes pads the log.
        if b & 0xf0 == FILE_CHECKPOINT && body.iter().all(|&x| x == 0) && body.len() != 10 {
            out.push(Item::Checkpoint(0));
            continue;
        }
        // A page identifier follows.
        let (space, n) = varint::decode(body).ok_or(bad("tablespace id"))?;
        body = &body[n..];
        let (page_no, n) = varint::decode(body).ok_or(bad("page number"))?;
        body = &body[n..];
        if b & 0x80 == 0 {
            if body.len() > page_size {
                return Err(bad("record longer than a page"));
            }
            page = Some((space, page_no));
            out.push(Item::Page(PageRec {
                space,
                page: page_no,
                op,
                same_page: false,
                body,
            }));
            continue;
        }
        if page_no != 0 {
            return Err(bad("file record with a page number"));
        }
        match b & 0xf0 {
            FILE_CHECKPOINT => {
                if body.len() == 8 {
                    let lsn = crate::bytes::be_u64(body, 0).unwrap_or(0);
                    out.push(Item::Checkpoint(lsn));
                } else if body.iter().all(|&x| x == 0) {
                    out.push(Item::Checkpoint(0));
                } else {
                    return Err(bad("FILE_CHECKPOINT length"));
                }
            }
            f @ (FILE_CREATE | FILE_DELETE | FILE_MODIFY | FILE_RENAME) => {
                let nul = body.iter().position(|&x| x == 0);
                let (name, name2) = match (f, nul) {
                    (FILE_RENAME, Some(i)) => (&body[..i], Some(&body[i + 1..])),
                    (FILE_RENAME, None) => return Err(bad("FILE_RENAME without two names")),
                    (_, Some(_)) => return Err(bad("NUL in a file name")),
                    (_, None) => (body, None),
                };
                out.push(Item::File {
                    op: f,
                    space,
                    name,
                    name2,
                });
            }
            _ => return Err(bad("unknown file record")),
        }
    }
    Ok(out)
}
