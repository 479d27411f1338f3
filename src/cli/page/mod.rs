//! `salvage page`: one InnoDB page, inspected. A hexyl-style dump with the
//! page's regions shaded and named ([`dump`], [`regions`]), then its
//! decoded header fields, its records (as rows with `--schema`, or picked by
//! `--space`/`--page` in a tablespace with MySQL 8 SDI) and the
//! verdict of every checksum algorithm ([`fields`]).
//!
//! The page is the one at a byte offset of the image (found by the
//! carver's own detector, so a sparse, repaired or compressed page reads as
//! the scan reads it), or a copy of (space, page no) from a carve of the
//! whole image.

mod dump;
mod fields;
mod load;
mod regions;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use owo_colors::{OwoColorize, Stream};

use salvage::carve::pages::{is_zip, StorePages};
use salvage::carve::{Reason, Status};
use salvage::image::Image;
use salvage::innodb::checksum::ChecksumKind;
use salvage::innodb::fil::{self, FilHeader};
use salvage::innodb::lob::PageSource;
use salvage::innodb::record::{walk_free, walk_records, PageGeom};
use salvage::innodb::rows::{decode_leaf_page_text, decode_unproven_page_text, PageText};
use salvage::innodb::sdi;
use salvage::schema::sql::{parse_schema_lenient, SqlOptions};
use salvage::schema::{Charset, ColumnType, TableDef};

use super::{Fatal, ImageArgs};
use load::{at_offset, from_store, image_offset, Shown};
use regions::Rec;

/// What `salvage page` was asked.
#[derive(clap::Args, Debug, Clone)]
pub struct PageArgs {
    /// Disk image, block device, or a single .ibd / ibdata1 file.
    pub image: PathBuf,
    /// Byte offset of the page in the image (0x.., K, M, G suffixes).
    #[arg(value_parser = super::parse_size, required_unless_present = "page")]
    pub offset: Option<u64>,
    /// Tablespace id (with --page): carve the image and show a copy of that page.
    #[arg(long, requires = "page", conflicts_with = "offset")]
    pub space: Option<u32>,
    /// Page number in the tablespace (with --space).
    #[arg(long, requires = "space")]
    pub page: Option<u32>,
    /// Which copy of the page (0 = the best: good before damaged, newest first).
    #[arg(long, default_value_t = 0, requires = "page")]
    pub copy: usize,
    /// Page size when it cannot be detected (no trailer, not a page).
    #[arg(long, value_parser = super::parse_size)]
    pub size: Option<u64>,
    /// CREATE TABLE statements: show the records of a leaf page as rows
    /// (the table whose layout fits the page best, or --table). Without
    /// it, a page picked by --space/--page uses its tablespace's MySQL 8
    /// SDI when there is one.
    #[arg(long)]
    pub schema: Option<PathBuf>,
    /// With --schema: the table to decode with (`name` or `db.name`).
    #[arg(long, requires = "schema")]
    pub table: Option<String>,
    /// Read with pread instead of mapping the image.
    #[arg(long)]
    pub no_mmap: bool,
}

pub fn run(args: &PageArgs) -> Result<ExitCode, Fatal> {
    let color = format!("{}", "x".if_supports_color(Stream::Stdout, |t| t.red())) != "x";
    let image_args = ImageArgs {
        image: args.image.clone(),
        no_mmap: args.no_mmap,
        offset: 0,
        length: None,
        threads: None,
        backing: None,
        no_layout: false,
        redo: None,
        no_redo: false,
        repair_bursts: false,
    };
    let mut schema = load_schema(args)?;
    let carved;
    let image;
    let shown = match (args.offset, args.space, args.page) {
        (Some(off), _, _) => {
            image = image_args.open()?;
            at_offset(&image, off, args.size)?
        }
        (None, Some(space), Some(page_no)) => {
            let (img, _, c) = super::scan::carve_image(&image_args)?;
            image = img;
            carved = c;
            if schema.is_empty() {
                // The tablespace's own definitions (MySQL 8 SDI), when it has them.
                let src = StorePages::new(&image, &carved.store);
                schema = sdi::tables_from_tablespace(|n| src.page(space, n)).unwrap_or_default();
            }
            from_store(
                &image,
                &carved.store,
                &carved.files,
                space,
                page_no,
                args.copy,
            )?
        }
        _ => return Err(Fatal("give an OFFSET, or --space and --page".into())),
    };
    let text = render(&image, &shown, &schema, color);
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn load_schema(args: &PageArgs) -> Result<Vec<TableDef>, Fatal> {
    let Some(path) = &args.schema else {
        return Ok(Vec::new());
    };
    let sql = std::fs::read_to_string(path)
        .map_err(|e| Fatal(format!("cannot read {}: {e}", path.display())))?;
    let (mut tables, _) = parse_schema_lenient(&sql, None, &SqlOptions::default());
    if let Some(want) = &args.table {
        tables.retain(|t| t.qualified() == *want || t.name == *want);
        if tables.is_empty() {
            return Err(Fatal(format!("no table {want} in {}", path.display())));
        }
    }
    Ok(tables)
}

/// The table of `schema` that fits a leaf page best (most records decoded
/// whole, no layout error), judged first with the heap accounted for (as
/// a good page is read), then without (as a damaged page is read). The
/// records of a page not proven by its checksum are read as `recover`
/// reads them: [`decode_unproven_page_text`].
fn decode_rows<'t>(
    page: &[u8],
    schema: &'t [TableDef],
    proven: bool,
    src: &dyn PageSource,
) -> Option<(&'t TableDef, PageText)> {
    let pick = |strict: bool| {
        let mut best: Option<((usize, usize), &'t TableDef, PageText)> = None;
        for t in schema {
            let text = if strict {
                decode_leaf_page_text(page, t, src)
            } else {
                decode_unproven_page_text(page, t, src)
            };
            if text.error.is_some() || text.heap_mismatch.is_some() {
                continue;
            }
            let whole = (0..text.records.len()).filter(|&i| text.is_full(i)).count();
            if whole == 0 && !text.records.is_empty() {
                continue;
            }
            // Ties go to the table with fewer columns that take any bytes.
            let score = (whole, usize::MAX - lax_columns(t));
            if best.as_ref().is_none_or(|b| score > b.0) {
                best = Some((score, t, text));
            }
        }
        best.map(|(_, t, text)| (t, text))
    };
    match pick(true) {
        Some((t, _)) if !proven => Some((t, decode_unproven_page_text(page, t, src))),
        Some(fit) => Some(fit),
        None if !proven => pick(false),
        None => None,
    }
}

/// Columns whose values any bytes decode to (binary strings, BLOBs,
/// latin1 text).
fn lax_columns(t: &TableDef) -> usize {
    t.columns
        .iter()
        .filter(|c| {
            matches!(
                c.ty,
                ColumnType::Binary { .. } | ColumnType::VarBinary { .. } | ColumnType::Blob
            ) || matches!(c.charset, Charset::Binary | Charset::Latin1)
        })
        .count()
}

fn render(image: &Image, s: &Shown, schema: &[TableDef], color: bool) -> String {
    let page = &s.page;
    let hdr = FilHeader::parse(page);
    let page_type = hdr.map_or(0, |h| h.page_type);
    let mut head = String::new();
    let at = image_offset(image, s.offset);
    let status = s.rec.map_or("not a page".to_string(), |r| {
        if r.phys_size == 0 {
            r.status.as_str().to_string()
        } else {
            format!("{} ({})", r.status.as_str(), r.checksum.as_str())
        }
    });
    head.push_str(&format!(
        "offset {at} (0x{at:x}): space {} page {}, {}, {} bytes{}, {status}\n",
        hdr.map_or(0, |h| h.space_id),
        hdr.map_or(0, |h| h.page_no),
        fil::type_name(page_type),
        page.len(),
        s.rec
            .filter(|r| r.phys_size != 0 && r.phys_size as usize != page.len())
            .map_or(String::new(), |r| format!(" ({} on disk)", r.phys_size)),
    ));
    if let Some(t) = s.rec.and_then(|r| r.reason_text()) {
        head.push_str(&format!("  {t}\n"));
    }
    for n in &s.notes {
        head.push_str(n);
        head.push('\n');
    }
    // Records of an index page.
    let geom = PageGeom::parse(page);
    let mut recs = Vec::new();
    let mut broken = Vec::new();
    if let Some(g) = &geom {
        for (free, w) in [(false, walk_records(page, g)), (true, walk_free(page, g))] {
            for (i, h) in w.headers.iter().enumerate() {
                recs.push(Rec {
                    header: *h,
                    free,
                    number: i + 1,
                });
            }
            if let Some(b) = w.broken {
                broken.push(format!(
                    "{} list: {b}",
                    if free { "free" } else { "record" }
                ));
            }
        }
    }
    let proven = s.rec.is_some_and(|r| r.status != Status::Damaged);
    let rows = match &geom {
        Some(g) if g.level == 0 && !schema.is_empty() => {
            decode_rows(page, schema, proven, s.source.as_ref())
        }
        _ => None,
    };
    let regions = regions::regions(
        page,
        page_type,
        hdr.map_or(0, |h| h.page_no),
        geom.as_ref(),
        &recs,
        rows.as_ref().map(|(t, _)| *t),
    );
    let marks: Vec<dump::Mark> = match s.rec.map(|r| r.reason) {
        Some(Reason::Repaired { at, len, old, new }) if s.rec.is_some_and(|r| !is_zip(&r)) => (0
            ..usize::from(len.min(2)))
            .map(|k| dump::Mark {
                at: at as usize + k,
                note: format!(
                    "repaired byte {}: 0x{:02x} on disk, 0x{:02x} by the checksum",
                    at as usize + k,
                    old[k],
                    new[k]
                ),
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut p = dump::Painter::new(color);
    p.plain(&head);
    dump::dump(&mut p, page, &regions, &marks);
    let mut out = p.finish();
    out.push('\n');
    let full_crc32 = s.rec.is_some_and(|r| r.checksum == ChecksumKind::FullCrc32);
    fields::fil_fields(&mut out, page, full_crc32);
    if page_type == fil::FIL_PAGE_TYPE_FSP_HDR {
        fields::fsp_fields(&mut out, page);
    }
    if geom.is_some() {
        fields::page_header_fields(&mut out, page);
        fields::records(
            &mut out,
            &recs,
            &broken,
            rows.as_ref().map(|(t, text)| (*t, text)),
        );
    }
    let zip = s.rec.is_some_and(|r| r.phys_size != 0 && is_zip(&r));
    out.push_str(&format!(
        "checksums{}\n",
        if zip {
            format!(" (ROW_FORMAT=COMPRESSED page of {} bytes)", s.checked.len())
        } else {
            String::new()
        }
    ));
    if s.rec
        .is_some_and(|r| r.checksum == ChecksumKind::Compressed)
    {
        out.push_str(
            "  page_compressed: verified by its own format (it inflates); shown inflated\n",
        );
    } else {
        fields::checksums(&mut out, &s.checked, zip);
    }
    if let (Some(disk), Some(Reason::Repaired { at, len, old, new })) =
        (&s.on_disk, s.rec.map(|r| r.reason))
    {
        let n = usize::from(len.min(2));
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        out.push_str(&format!(
            "repaired: {n} byte(s) at page offset {at} (image offset {}): 0x{} on disk, 0x{} by the checksum (marked reversed in the dump)\n",
            image_offset(image, s.offset + u64::from(at)),
            hex(&old[..n]),
            hex(&new[..n])
        ));
        out.push_str("checksums of the bytes on disk\n");
        fields::checksums(&mut out, disk, zip);
    }
    out
}
