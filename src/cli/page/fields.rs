//! The text below the dump: the FIL header and trailer, the index page
//! header, the records (with their rows when a table layout fits) and the
//! verdict of every checksum algorithm.

use std::fmt::Write as _;

use salvage::bytes::{be_u16, be_u32, be_u64};
use salvage::innodb::checksum;
use salvage::innodb::fil::{self, FilHeader, BUF_NO_CHECKSUM_MAGIC, FIL_NULL, FIL_PAGE_DATA};
use salvage::innodb::fsp::{sizes_from_flags, FspHeader};
use salvage::innodb::page_header::*;
use salvage::innodb::rows::{PageText, RecordOrigin, Value};
use salvage::schema::TableDef;

use super::regions::Rec;

fn link(v: u32) -> String {
    if v == FIL_NULL {
        "FIL_NULL".to_string()
    } else {
        v.to_string()
    }
}

/// The FIL header and trailer of `page`.
pub fn fil_fields(out: &mut String, page: &[u8], full_crc32: bool) {
    let Some(h) = FilHeader::parse(page) else {
        let _ = writeln!(out, "FIL header: page shorter than 38 bytes");
        return;
    };
    let n = page.len();
    let _ = writeln!(out, "FIL header");
    let _ = writeln!(out, "  checksum      0x{:08x}", h.checksum);
    let _ = writeln!(out, "  page no       {}", h.page_no);
    let _ = writeln!(out, "  prev          {}", link(h.prev));
    let _ = writeln!(out, "  next          {}", link(h.next));
    let _ = writeln!(out, "  LSN           {}", h.lsn);
    let _ = writeln!(
        out,
        "  type          {} ({})",
        fil::type_name(h.page_type),
        h.page_type
    );
    let _ = writeln!(
        out,
        "  flush LSN     {} (0x{:016x})",
        h.flush_lsn, h.flush_lsn
    );
    let _ = writeln!(out, "  space id      {}", h.space_id);
    let _ = writeln!(out, "FIL trailer");
    // (label, offset from the end) of the trailer's two words.
    let words = if full_crc32 {
        [("LSN low      ", 8), ("checksum     ", 4)]
    } else {
        [("old checksum ", 8), ("LSN low      ", 4)]
    };
    for (label, back) in words {
        let v = n.checked_sub(back).and_then(|at| be_u32(page, at));
        let _ = writeln!(out, "  {label} 0x{:08x}", v.unwrap_or(0));
    }
}

/// The index page header (PAGE_HEADER) fields.
pub fn page_header_fields(out: &mut String, page: &[u8]) {
    let h = FIL_PAGE_DATA;
    let u16_at = |o: usize| be_u16(page, h + o).unwrap_or(0);
    let n_heap = u16_at(PAGE_N_HEAP);
    let direction = match u16_at(PAGE_DIRECTION) {
        1 => "left",
        2 => "right",
        3 => "same_rec",
        4 => "same_page",
        5 => "no_direction",
        _ => "?",
    };
    let _ = writeln!(out, "page header");
    let _ = writeln!(out, "  n_dir_slots   {}", u16_at(PAGE_N_DIR_SLOTS));
    let _ = writeln!(out, "  heap_top      {}", u16_at(PAGE_HEAP_TOP));
    let _ = writeln!(out, "  n_heap        {}", n_heap & 0x7FFF);
    let _ = writeln!(
        out,
        "  format        {}",
        if n_heap & 0x8000 != 0 {
            "COMPACT (new-style records)"
        } else {
            "REDUNDANT"
        }
    );
    let _ = writeln!(out, "  free          {}", u16_at(PAGE_FREE));
    let _ = writeln!(out, "  garbage       {}", u16_at(PAGE_GARBAGE));
    let _ = writeln!(out, "  last_insert   {}", u16_at(PAGE_LAST_INSERT));
    let _ = writeln!(
        out,
        "  direction     {direction} ({})",
        u16_at(PAGE_DIRECTION)
    );
    let _ = writeln!(out, "  n_direction   {}", u16_at(PAGE_N_DIRECTION));
    let _ = writeln!(out, "  n_recs        {}", u16_at(PAGE_N_RECS));
    let _ = writeln!(
        out,
        "  max_trx_id    {}",
        be_u64(page, h + PAGE_MAX_TRX_ID).unwrap_or(0)
    );
    let _ = writeln!(out, "  level         {}", u16_at(PAGE_LEVEL));
    let _ = writeln!(
        out,
        "  index_id      {}",
        be_u64(page, h + PAGE_INDEX_ID).unwrap_or(0)
    );
}

/// The records, one line each, with the decoded row when `rows` has it.
pub fn records(
    out: &mut String,
    recs: &[Rec],
    broken: &[String],
    rows: Option<(&TableDef, &PageText)>,
) {
    let _ = writeln!(
        out,
        "records ({} on the record list, {} on the free list)",
        recs.iter().filter(|r| !r.free).count(),
        recs.iter().filter(|r| r.free).count()
    );
    for b in broken {
        let _ = writeln!(out, "  list broken: {b}");
    }
    if let Some((t, _)) = rows {
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        let _ = writeln!(out, "  rows as {} ({})", t.qualified(), names.join(", "));
    }
    for r in recs {
        let h = &r.header;
        let what = if r.free { "free record" } else { "record" };
        let _ = write!(
            out,
            "  {what} {:>3}  heap {:>3}  offset {:>5}  {}  next {:>5}",
            r.number,
            h.heap_no,
            h.origin,
            if h.deleted() { "deleted" } else { "       " },
            h.next
        );
        if let Some((_, text)) = rows {
            let want = if r.free {
                RecordOrigin::Free
            } else {
                RecordOrigin::Live
            };
            match text
                .records
                .iter()
                .position(|x| x.offset as usize == h.origin && x.origin == want)
            {
                Some(i) => {
                    let vals: Vec<String> = text
                        .values
                        .row(i)
                        .iter()
                        .map(|v| match v {
                            None => "NULL".to_string(),
                            Some(Value::Text(s)) => format!("{s:?}"),
                            Some(Value::Deferred(d)) => {
                                format!("<off-page, {} bytes>", d.extern_ref.len)
                            }
                        })
                        .collect();
                    let _ = write!(out, "  ({})", vals.join(", "));
                    for f in text.failures(i) {
                        let _ = write!(out, " [column {} failed: {}]", f.column, f.reason);
                    }
                }
                None => {
                    let _ = write!(out, "  (not decoded)");
                }
            }
        }
        out.push('\n');
    }
}

fn verdict(stored: u32, computed: u32) -> String {
    format!(
        "stored 0x{stored:08x} computed 0x{computed:08x} {}",
        if stored == computed {
            "✓ match"
        } else {
            "✗"
        }
    )
}

/// Every checksum algorithm on `page` (the physical page the checksum
/// covers). `zip`: a ROW_FORMAT=COMPRESSED page (no trailer).
pub fn checksums(out: &mut String, page: &[u8], zip: bool) {
    let n = page.len();
    if n < 1024 {
        let _ = writeln!(out, "  page too short for a checksum ({n} bytes)");
        return;
    }
    let stored = be_u32(page, 0).unwrap_or(0);
    if zip {
        let (crc, adler) = checksum::zip_checksums(page);
        let _ = writeln!(out, "  crc32 (compressed page)   {}", verdict(stored, crc));
        let _ = writeln!(
            out,
            "  innodb (adler32)          {}",
            verdict(stored, adler)
        );
        let _ = writeln!(
            out,
            "  none                      {}",
            verdict(stored, BUF_NO_CHECKSUM_MAGIC)
        );
        return;
    }
    let trailer = be_u32(page, n - 8).unwrap_or(0);
    let crc = checksum::crc32_page(page);
    let _ = writeln!(out, "  crc32 header              {}", verdict(stored, crc));
    let _ = writeln!(out, "  crc32 trailer             {}", verdict(trailer, crc));
    let _ = writeln!(
        out,
        "  innodb header             {}",
        verdict(stored, checksum::innodb_new(page))
    );
    let _ = writeln!(
        out,
        "  innodb trailer            {}",
        verdict(trailer, checksum::innodb_old(page))
    );
    let _ = writeln!(
        out,
        "  full_crc32                {}",
        verdict(be_u32(page, n - 4).unwrap_or(0), checksum::full_crc32(page))
    );
    let _ = writeln!(
        out,
        "  none header / trailer     {} / {}",
        if stored == BUF_NO_CHECKSUM_MAGIC {
            "✓ 0xdeadbeef"
        } else {
            "✗"
        },
        if trailer == BUF_NO_CHECKSUM_MAGIC {
            "✓ 0xdeadbeef"
        } else {
            "✗"
        }
    );
}

/// The FSP header of a tablespace's page 0.
pub fn fsp_fields(out: &mut String, page: &[u8]) {
    let Some(h) = FspHeader::parse(page) else {
        return;
    };
    let _ = writeln!(out, "FSP header");
    let _ = writeln!(out, "  space id      {}", h.space_id);
    let _ = writeln!(out, "  size          {} pages", h.size_pages);
    let _ = writeln!(out, "  free limit    {}", h.free_limit);
    let sizes = sizes_from_flags(h.flags).map_or("invalid".to_string(), |s| {
        format!(
            "page size {}{}{}",
            s.logical,
            s.zip.map_or(String::new(), |z| format!(", compressed {z}")),
            if s.full_crc32 { ", full_crc32" } else { "" }
        )
    });
    let _ = writeln!(out, "  flags         0x{:08x} ({sizes})", h.flags);
}
