//! Rows of a clustered-index leaf page, decoded to CSV text values.
//!
//! [`decode_leaf_page`] walks the live record list and the free list of one
//! page, parses each record against the table's clustered layout
//! ([`TableDef::clustered`]), follows off-page values through a
//! [`PageSource`], fills instantly added columns from their defaults, and
//! decodes every value with [`crate::innodb::types`]. Plain data in, plain
//! data out: no I/O, no printing.
//!
//! The stages, one file each, in the order a page goes through them:
//! - `layout.rs`: the physical fields of the table's clustered records;
//! - `parse.rs`: one record's fields and where they lie in the page;
//! - `values.rs`: a parsed record's key, values and failures, decoded into
//!   a [`PageText`] (`text.rs`: what a decoded page is);
//! - this file: the page walk (live list, heap accounting, free list) and
//!   the entry points;
//! - `instant.rs`: MariaDB instant ALTER metadata ([`mariadb_instant_layout`]).
//!
//! Page facts: `page0page.h` (PAGE_GARBAGE, the heap between the user
//! records' start and PAGE_HEAP_TOP); the record walks and headers are
//! [`crate::innodb::record`]'s.

mod instant;
mod layout;
mod parse;
mod text;
mod values;

pub use instant::mariadb_instant_layout;
pub use layout::column_spec;
pub use text::{
    ColumnFailure, InstantMetadata, PageError, PageRows, PageText, RecordInfo, RecordOrigin, Row,
    RowView, TextRows, Value,
};

use crate::bytes::be_u16;
use crate::innodb::fil::FIL_PAGE_DATA;
use crate::innodb::lob::PageSource;
use crate::innodb::page_header::PAGE_GARBAGE;
use crate::innodb::record::{
    compact_extra, compact_first_fields_into, walk_free, walk_records, walk_unproven, FieldSpec,
    PageGeom, RecordKind, Specs, REC_STATUS_ORDINARY,
};
use crate::schema::TableDef;
use layout::{layout, n_core_fields, PhysKind};
use parse::Ctx;

/// Decodes every record of one clustered-index leaf page of `table`.
/// Every value is assembled (none deferred, whatever `pages` asks).
pub fn decode_leaf_page(page: &[u8], table: &TableDef, pages: &dyn PageSource) -> PageRows {
    let t = decode_leaf(page, table, pages, Mode::Full, None);
    PageRows {
        rows: t.to_rows(),
        skipped_live: t.skipped_live,
        skipped_free: t.skipped_free,
        list_broken: t.list_broken,
        n_recs_header: t.n_recs_header,
        metadata: t.metadata,
        error: t.error,
    }
}

/// [`decode_leaf_page`] with the values of all records in one buffer; an
/// off-page value longer than [`PageSource::defer_values_over`] is proven
/// but not assembled ([`Value::Deferred`]).
pub fn decode_leaf_page_text(page: &[u8], table: &TableDef, pages: &dyn PageSource) -> PageText {
    decode_leaf(page, table, pages, Mode::Full, pages.defer_values_over())
}

/// The records that can still be read from a leaf page its checksum does
/// not prove (damaged, torn, or with blocks lost): the live list walked
/// from the infimum and, past a broken link, from the page directory's
/// slots ([`walk_unproven`]); each record kept only when its header, links
/// and field lengths are consistent, every column decodes, and none of its
/// bytes lie in an all-zero 512-byte sector (a block that was lost or
/// never written). No free-list records, no heap accounting (the header
/// fields it needs may be the damaged bytes). What comes back is found,
/// not proven: callers write it as uncertain.
pub fn decode_unproven_page_text(
    page: &[u8],
    table: &TableDef,
    pages: &dyn PageSource,
) -> PageText {
    decode_leaf(
        page,
        table,
        pages,
        Mode::Unproven,
        pages.defer_values_over(),
    )
}

/// Whether `start..end` of `page` touches a 512-byte sector that is all zeros.
fn touches_zero_sector(page: &[u8], start: usize, end: usize) -> bool {
    const SECTOR: usize = 512;
    let first = start / SECTOR;
    let last = end.saturating_sub(1) / SECTOR;
    (first..=last).any(|i| {
        page.get(i * SECTOR..((i + 1) * SECTOR).min(page.len()))
            .is_some_and(|b| b.iter().all(|&x| x == 0))
    })
}

/// [`decode_leaf_page_text`] without the values of the live records that
/// are not delete-marked (their rows are all NULL, their keys and headers
/// are read): for a pass that needs only their keys, at a fraction of the
/// cost (no value formatting, no BLOB pages read).
pub fn decode_leaf_page_keys(page: &[u8], table: &TableDef, pages: &dyn PageSource) -> PageText {
    decode_leaf(page, table, pages, Mode::Keys, pages.defer_values_over())
}

/// The keys of a leaf page's listed records, each read from the front of
/// its record alone (the key fields, with the same checks as a full read),
/// in list order: what a first pass needs for key ranges, at a fraction of
/// [`decode_leaf_page_keys`]'s cost. The records are not read whole, so
/// nothing is proven: a record that a full read would reject may be among
/// them (its key still lies where the page's records are), and the heap is
/// not accounted. No values, no transaction ids.
///
/// `None` when the page holds anything else than plain records of the
/// table's own layout (COMPACT, DYNAMIC and COMPRESSED row formats): no
/// record, a free list, a delete-marked, metadata or instant record, a
/// broken list, a key field that cannot be read. Such a page needs the
/// full read.
pub fn decode_leaf_page_key_probe(page: &[u8], table: &TableDef) -> Option<PageText> {
    let g = PageGeom::parse(page)?;
    let redundant = table.row_format == Some(crate::schema::RowFormat::Redundant);
    if g.level != 0 || !g.compact || redundant || g.free != 0 || table.current_row_version > 0 {
        return None;
    }
    let phys = layout(table, true).ok()?;
    let n_core = n_core_fields(table, &phys);
    let specs: Vec<FieldSpec> = phys[..n_core].iter().map(|p| p.spec).collect();
    let specs = Specs::new(&specs);
    let n_key = table.n_key_fields.min(n_core);
    let live = walk_records(page, &g);
    if live.broken.is_some() || live.headers.is_empty() {
        return None;
    }
    let n = live.headers.len();
    let mut out = PageText {
        values: TextRows::new(table.columns.len()),
        ..PageText::default()
    };
    out.n_recs_header = g.n_recs;
    out.records.reserve(n);
    out.keys.reserve(n * 16);
    let mut fields = Vec::with_capacity(n_key);
    for h in &live.headers {
        if h.status != REC_STATUS_ORDINARY || h.deleted() || h.min_rec() {
            return None;
        }
        let extra = compact_extra(page, h, true).ok()?;
        if extra.mariadb_n_fields_rel.is_some()
            || extra.version.is_some()
            || extra.mysql_n_fields.is_some()
        {
            return None;
        }
        fields.clear();
        compact_first_fields_into(page, h, extra.size, specs, n_key, g.heap_top, &mut fields)
            .ok()?;
        for f in &fields {
            out.push_key_field(f.bytes(page).unwrap_or(&[]));
        }
        out.records.push(RecordInfo {
            key_end: out.keys.len() as u32,
            fail_end: 0,
            trx_id: None,
            offset: h.origin as u32,
            heap_no: h.heap_no,
            delete_marked: false,
            origin: RecordOrigin::Live,
        });
    }
    Some(out)
}

/// What [`decode_leaf`] reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Full,
    /// A page its checksum does not prove.
    Unproven,
    /// Keys only for live records not delete-marked.
    Keys,
}

fn decode_leaf(
    page: &[u8],
    table: &TableDef,
    pages: &dyn PageSource,
    mode: Mode,
    defer_over: Option<u64>,
) -> PageText {
    decode_leaf_raw(page, table, pages, mode, defer_over).finish()
}

/// [`decode_leaf`] with the text still in [`PageText::raw`].
fn decode_leaf_raw(
    page: &[u8],
    table: &TableDef,
    pages: &dyn PageSource,
    mode: Mode,
    defer_over: Option<u64>,
) -> PageText {
    let unproven = mode == Mode::Unproven;
    let mut out = PageText {
        values: TextRows::new(table.columns.len()),
        ..PageText::default()
    };
    let Some(g) = PageGeom::parse(page) else {
        out.error = Some(PageError::NotIndex);
        return out;
    };
    out.n_recs_header = g.n_recs;
    if g.level != 0 {
        out.error = Some(PageError::NotLeaf(g.level));
        return out;
    }
    if let Some(rf) = table.row_format {
        let table_compact = rf != crate::schema::RowFormat::Redundant;
        if table_compact != g.compact {
            out.error = Some(PageError::FormatMismatch { page: g.compact });
            return out;
        }
    }
    let phys = match layout(table, g.compact) {
        Ok(p) => p,
        Err(_) => {
            out.error = Some(PageError::NotIndex);
            return out;
        }
    };
    let n_core = n_core_fields(table, &phys);
    let versioned = table.current_row_version > 0;
    let specs: Vec<FieldSpec> = phys.iter().map(|p| p.spec).collect();
    let core = Specs::new(&specs[..n_core.min(specs.len())]);
    let complete = table.columns.iter().enumerate().all(|(i, c)| {
        c.is_virtual
            || phys
                .iter()
                .any(|p| matches!(p.kind, PhysKind::Column { idx, prefix: false, .. } if idx == i))
    });
    let mut ctx = Ctx {
        page,
        g,
        table,
        phys,
        specs: &specs,
        core,
        n_core,
        versioned,
        pages,
        metadata: None,
        defer_over,
        complete,
    };

    let live = if unproven {
        walk_unproven(page, &g)
    } else {
        walk_records(page, &g)
    };
    out.list_broken = live.broken;
    let mut live_spans = Vec::with_capacity(live.headers.len());
    let mut parsed_live = Vec::with_capacity(live.headers.len());
    // The fields of every parsed record, in one list.
    let mut all = Vec::with_capacity(live.headers.len() * ctx.specs.len());
    for h in &live.headers {
        match ctx.parse(h, &mut all) {
            Ok(p) if unproven && touches_zero_sector(page, p.start, p.end) => out.skipped_live += 1,
            Ok(p) => {
                live_spans.push((p.start, p.end));
                if p.kind == RecordKind::Metadata {
                    out.metadata = Some(ctx.metadata_of(&p, &all));
                } else {
                    parsed_live.push(p);
                }
            }
            Err(_) => out.skipped_live += 1,
        }
    }
    ctx.metadata = out.metadata.clone();
    // Every byte of the record heap is a live record or garbage (freed
    // records, counted in PAGE_GARBAGE). When the live records, sized by
    // this table's layout, leave bytes unaccounted for, the layout is not
    // the one the records were written with: nothing on the page is proven.
    if !unproven && out.skipped_live == 0 && out.list_broken.is_none() {
        let live_bytes: usize = live_spans.iter().map(|&(s, e)| e - s).sum();
        let garbage = usize::from(be_u16(page, FIL_PAGE_DATA + PAGE_GARBAGE).unwrap_or(0));
        let heap = g.heap_top.saturating_sub(g.user_start);
        let diff = heap as i64 - (live_bytes + garbage) as i64;
        if diff != 0 {
            out.heap_mismatch = Some(diff);
            out.skipped_live += parsed_live.len();
            return out;
        }
    }
    let mut have = Vec::new();
    // Room for the live records (text about the size of the page), so
    // that the buffers rarely grow.
    let n = parsed_live.len();
    out.records.reserve(n);
    out.values.cells.reserve(n * out.values.ncols);
    out.raw.reserve(page.len());
    out.keys.reserve(n * 16);
    for p in &parsed_live {
        let mark = out.mark();
        let values = mode != Mode::Keys || p.header.deleted();
        ctx.row_into(p, &all, RecordOrigin::Live, values, &mut out, &mut have);
        if unproven && !out.is_full(mark.rows) {
            out.rollback(mark);
            out.skipped_live += 1;
        }
    }
    if unproven {
        return out;
    }

    let free = walk_free(page, &g);
    for h in &free.headers {
        let n_all = all.len();
        let p = match ctx.parse(h, &mut all) {
            Ok(p) if p.kind == RecordKind::Leaf => p,
            _ => {
                all.truncate(n_all);
                out.skipped_free += 1;
                continue;
            }
        };
        // A freed record whose bytes were reused by a live record is gone,
        // and so is one whose data was cleared.
        let (s, e) = (p.start, p.end);
        if live_spans.iter().any(|&(ls, le)| s < le && ls < e) || ctx.cleared(&p) {
            all.truncate(n_all);
            out.skipped_free += 1;
            continue;
        }
        let mark = out.mark();
        ctx.row_into(&p, &all, RecordOrigin::Free, true, &mut out, &mut have);
        all.truncate(n_all);
        if !out.is_full(mark.rows) {
            out.rollback(mark);
            out.skipped_free += 1;
        }
    }
    out
}
