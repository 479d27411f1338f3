//! The byte regions of one page, for shading and naming in the dump: FIL
//! header and trailer, and what the page type holds in between (for INDEX
//! pages the page header, system records, each record's header and fields,
//! free space and the page directory; FSP header and extent descriptors on
//! FSP_HDR / XDES pages; the BLOB header).
//!
//! Record extents are exact for REDUNDANT pages (the field end offsets are
//! in the record) and for COMPACT pages when a table layout is given;
//! without one, a COMPACT record's header is its 5 fixed bytes and its
//! fields run to the next record's header (its null bitmap and length
//! bytes show as the previous record's fields).

use salvage::bytes::be_u32;
use salvage::innodb::fil::{self, FIL_PAGE_DATA, FIL_PAGE_DATA_END};
use salvage::innodb::fsp::{extent_pages, XDES_ARR_OFFSET, XDES_BITMAP};
use salvage::innodb::record::{
    compact_extra, compact_fields, redundant_fields, FieldSpec, PageGeom, RecHeader,
    REC_N_NEW_EXTRA_BYTES, REC_STATUS_NODE_PTR,
};
use salvage::innodb::rows::column_spec;
use salvage::schema::{IndexField, TableDef};

/// What a region is: picks its shade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Fil,
    PageHeader,
    Fseg,
    System,
    /// A record's header / fields; `alt` alternates between neighbours.
    RecHeader {
        alt: bool,
        free: bool,
    },
    RecFields {
        alt: bool,
        free: bool,
    },
    FreeSpace,
    Directory,
    Body,
    FspHeader,
    Xdes {
        alt: bool,
    },
}

/// `start..end` of the page, named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub start: usize,
    pub end: usize,
    pub name: String,
    pub kind: Kind,
}

/// One user record as the page lists it.
#[derive(Debug, Clone, Copy)]
pub struct Rec {
    pub header: RecHeader,
    /// On the free (purged) list rather than the record list.
    pub free: bool,
    /// Position in its list, from 1.
    pub number: usize,
}

fn push(out: &mut Vec<Region>, start: usize, end: usize, name: String, kind: Kind) {
    if start < end {
        out.push(Region {
            start,
            end,
            name,
            kind,
        });
    }
}

/// The regions of `page` (the page as shown), sorted by start, not
/// overlapping. `geom` and `recs` for index pages, `table` to size COMPACT
/// records exactly.
pub fn regions(
    page: &[u8],
    page_type: u16,
    page_no: u32,
    geom: Option<&PageGeom>,
    recs: &[Rec],
    table: Option<&TableDef>,
) -> Vec<Region> {
    let n = page.len();
    let mut out = Vec::new();
    if n < FIL_PAGE_DATA + FIL_PAGE_DATA_END {
        push(&mut out, 0, n, "FIL header".into(), Kind::Fil);
        return out;
    }
    push(&mut out, 0, FIL_PAGE_DATA, "FIL header".into(), Kind::Fil);
    let body_end = n - FIL_PAGE_DATA_END;
    match (geom, page_type) {
        (Some(g), _) => index_regions(page, g, recs, table, &mut out),
        (None, fil::FIL_PAGE_TYPE_FSP_HDR | fil::FIL_PAGE_TYPE_XDES) => {
            let mut at = FIL_PAGE_DATA;
            if page_type == fil::FIL_PAGE_TYPE_FSP_HDR || page_no == 0 {
                push(
                    &mut out,
                    at,
                    XDES_ARR_OFFSET,
                    "FSP header".into(),
                    Kind::FspHeader,
                );
            } else {
                push(&mut out, at, XDES_ARR_OFFSET, "(unused)".into(), Kind::Body);
            }
            at = XDES_ARR_OFFSET;
            let ext = extent_pages(n as u32) as usize;
            let entry = XDES_BITMAP + (ext * 2).div_ceil(8);
            for i in 0..n / ext {
                let end = at + entry;
                if end > body_end {
                    break;
                }
                let name = if i == 0 {
                    format!("XDES entries ({} of {entry} bytes)", n / ext)
                } else {
                    String::new()
                };
                push(&mut out, at, end, name, Kind::Xdes { alt: i % 2 == 1 });
                at = end;
            }
            push(&mut out, at, body_end, "(unused)".into(), Kind::Body);
        }
        (None, fil::FIL_PAGE_TYPE_BLOB | fil::FIL_PAGE_TYPE_ZBLOB) => {
            let h = FIL_PAGE_DATA + 8;
            push(
                &mut out,
                FIL_PAGE_DATA,
                h,
                "BLOB header".into(),
                Kind::PageHeader,
            );
            let len = be_u32(page, FIL_PAGE_DATA).unwrap_or(0) as usize;
            let data_end = h.saturating_add(len).min(body_end);
            push(&mut out, h, data_end, "BLOB data".into(), Kind::Body);
            push(
                &mut out,
                data_end,
                body_end,
                "(unused)".into(),
                Kind::FreeSpace,
            );
        }
        _ => push(
            &mut out,
            FIL_PAGE_DATA,
            body_end,
            format!("{} body", fil::type_name(page_type)),
            Kind::Body,
        ),
    }
    push(&mut out, body_end, n, "FIL trailer".into(), Kind::Fil);
    out.sort_by_key(|r| r.start);
    // Keep them disjoint whatever the page holds (damaged headers).
    let mut end = 0;
    out.retain_mut(|r| {
        r.start = r.start.max(end);
        if r.start >= r.end {
            return false;
        }
        end = r.end;
        true
    });
    out
}

fn index_regions(
    page: &[u8],
    g: &PageGeom,
    recs: &[Rec],
    table: Option<&TableDef>,
    out: &mut Vec<Region>,
) {
    let n = page.len();
    let h = FIL_PAGE_DATA;
    push(out, h, h + 36, "page header".into(), Kind::PageHeader);
    push(out, h + 36, h + 56, "FSEG headers".into(), Kind::Fseg);
    let sys = h + 56;
    let sup_start = if g.compact {
        g.supremum - 5
    } else {
        g.supremum - 7
    };
    push(out, sys, sup_start, "infimum".into(), Kind::System);
    push(
        out,
        sup_start,
        g.user_start,
        "supremum".into(),
        Kind::System,
    );
    // Each record: header start, origin, end.
    let mut spans: Vec<(usize, usize, usize, &Rec)> = recs
        .iter()
        .filter_map(|r| extent(page, g, r, table).map(|(s, e)| (s, r.header.origin, e, r)))
        .collect();
    spans.sort_by_key(|s| s.1);
    for i in 0..spans.len() {
        let (start, origin, end, r) = spans[i];
        // Without a layout: fields run to the next record's header.
        let end = if end == 0 {
            spans.get(i + 1).map_or(g.heap_top, |s| s.0)
        } else {
            end
        };
        let what = if r.free {
            format!("free record {}", r.number)
        } else {
            format!("record {}", r.number)
        };
        let alt = r.number % 2 == 0;
        let free = r.free;
        push(
            out,
            start,
            origin,
            format!("{what} (header)"),
            Kind::RecHeader { alt, free },
        );
        push(
            out,
            origin,
            end.max(origin),
            format!("{what} (fields)"),
            Kind::RecFields { alt, free },
        );
    }
    let dir = n - FIL_PAGE_DATA_END - 2 * usize::from(dir_slots(page));
    push(out, g.heap_top, dir, "free space".into(), Kind::FreeSpace);
    push(
        out,
        dir,
        n - FIL_PAGE_DATA_END,
        "page directory".into(),
        Kind::Directory,
    );
}

fn dir_slots(page: &[u8]) -> u16 {
    salvage::bytes::be_u16(page, FIL_PAGE_DATA).unwrap_or(0)
}

/// A record's first byte and one past its last (0 when unknown).
fn extent(page: &[u8], g: &PageGeom, r: &Rec, table: Option<&TableDef>) -> Option<(usize, usize)> {
    let h = &r.header;
    if !g.compact {
        return redundant_fields(page, h, g.heap_top)
            .ok()
            .map(|f| (f.start, f.end));
    }
    let fixed = h.origin.checked_sub(REC_N_NEW_EXTRA_BYTES)?;
    let Some(t) = table else {
        return Some((fixed, 0));
    };
    let specs = compact_specs(t, h.status == REC_STATUS_NODE_PTR);
    let exact = compact_extra(page, h, false).ok().and_then(|e| {
        compact_fields(page, h, e.size, &specs, g.heap_top)
            .ok()
            .map(|f| (f.start, f.end))
    });
    Some(exact.unwrap_or((fixed, 0)))
}

/// The physical fields of `t`'s clustered records: leaf records, or node
/// pointers (key fields and the 4-byte child page number).
fn compact_specs(t: &TableDef, node_ptr: bool) -> Vec<FieldSpec> {
    let sys = |len: usize| FieldSpec {
        fixed_len: Some(len),
        nullable: false,
        big: false,
        max_len: len as u64,
    };
    let fields = if node_ptr {
        &t.clustered[..t.n_key_fields.min(t.clustered.len())]
    } else {
        &t.clustered[..]
    };
    let mut specs: Vec<FieldSpec> = fields
        .iter()
        .map(|f| match *f {
            IndexField::Column { col, prefix_len } => match t.columns.get(col) {
                Some(c) => column_spec(c, true, prefix_len),
                None => sys(0),
            },
            IndexField::DroppedColumn { .. } => sys(0),
            IndexField::RowId | IndexField::TrxId => sys(6),
            IndexField::RollPtr => sys(7),
        })
        .collect();
    if node_ptr {
        specs.push(sys(4));
    }
    specs
}
