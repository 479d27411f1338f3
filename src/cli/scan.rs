//! `salvage scan`: what is on the image.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use owo_colors::{OwoColorize, Stream};
use serde::Serialize;

use salvage::carve::follow::{FileIndex, TablespaceFile};
use salvage::carve::scan::ScanRange;
use salvage::carve::store::{IndexSummary, PageStore, SpaceSummary};
use salvage::carve::{self, Carved, PageRecord, Status};
use salvage::image::Image;
use salvage::innodb::fil;

use super::{pool, progress, Fatal, ImageArgs};

/// Opens the image, reads its layout and carves the requested range.
pub fn carve_image(args: &ImageArgs) -> Result<(Image, ScanRange, Carved), Fatal> {
    let image = args.open()?;
    let length = args
        .length
        .unwrap_or(image.size().saturating_sub(args.offset));
    image.check_range(args.offset, length)?;
    let range = ScanRange {
        start: args.offset,
        end: args.offset + length,
    };
    salvage::innodb::repair::set_policy(salvage::innodb::repair::Policy {
        bursts: args.repair_bursts,
    });
    let pool = pool(args.threads)?;
    let bar = progress::bytes(length, "scanning");
    let carved = pool.install(|| {
        carve::carve_disk_with(
            &image,
            range,
            !args.no_layout,
            &args.redo_options(),
            &|done| bar.set_position(done),
        )
    });
    bar.finish_and_clear();
    // A log with nothing after its checkpoint (a clean shutdown) is not
    // worth a line.
    if let Some(r) = carved.redo.as_ref().filter(|r| r.worth_telling()) {
        eprintln!("{}", r.line());
        for w in &r.summary.warnings {
            eprintln!(
                "{}: {w}",
                "warning".if_supports_color(Stream::Stderr, |t| t.yellow())
            );
        }
    }
    for (who, n) in &carved.layout.notes {
        eprintln!(
            "{}: {who}: {n}",
            "note".if_supports_color(Stream::Stderr, |t| t.yellow())
        );
    }
    if carved.store.pages.is_empty() {
        if let Some(what) = salvage::image::container_hint(&image.bytes(0, 16)) {
            eprintln!(
                "warning: {} holds no InnoDB pages and looks like {what}",
                args.image.display()
            );
        }
    }
    Ok((image, range, carved))
}

/// One line of `--list-pages` (the field set and order are part of the interface).
#[derive(Serialize)]
struct PageLine<'a> {
    offset: u64,
    space_id: u32,
    page_no: u32,
    page_type: u16,
    page_size: u32,
    lsn: u64,
    checksum: &'a str,
    status: &'a str,
    reason: Option<String>,
    /// The file that holds the page (path in its filesystem), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    /// The page's number in that file (its byte offset / page size).
    #[serde(skip_serializing_if = "Option::is_none")]
    file_page: Option<u64>,
}

impl<'a> PageLine<'a> {
    fn new(p: &'a PageRecord, files: &'a FileIndex, image: &Image) -> Self {
        let at = files.page_file(p);
        PageLine {
            // A page read through a file's block map: where its first byte is.
            offset: physical(image, p.offset),
            file: at.map(|(f, _)| f.path.as_str()),
            file_page: at.map(|(_, n)| n),
            space_id: p.space_id,
            page_no: p.page_no,
            page_type: p.page_type,
            page_size: p.phys_size,
            lsn: p.lsn,
            checksum: p.checksum.as_str(),
            status: p.status.as_str(),
            reason: p.reason_text(),
        }
    }
}

/// The image offset of a (possibly virtual) offset's byte.
fn physical(image: &Image, off: u64) -> u64 {
    match image.overlay() {
        Some(o) if off >= o.base => o.runs(off, 1).first().map_or(off, |r| r.0),
        _ => off,
    }
}

/// A tablespace as `scan --json` lists it: the store's summary and, when a
/// file holds it, the file, partition and filesystem.
#[derive(Serialize)]
struct SpaceLine<'a> {
    #[serde(flatten)]
    summary: SpaceSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a TablespaceFile>,
}

fn space_lines<'a>(store: &PageStore, files: &'a FileIndex) -> Vec<SpaceLine<'a>> {
    store
        .spaces()
        .into_iter()
        .map(|summary| SpaceLine {
            file: files.file_of_space(summary.space_id),
            summary,
        })
        .collect()
}

/// The summary `scan` ends with on stderr, in words: what was found, how
/// it was proven, and what to run next.
fn closing_words(store: &salvage::carve::store::PageStore, image: &Image) -> String {
    use salvage::carve::Status;
    let count = |s: Status| store.pages.iter().filter(|p| p.status == s).count();
    let spaces: std::collections::BTreeSet<u32> = store.pages.iter().map(|p| p.space_id).collect();
    if store.pages.is_empty() {
        return format!(
            "scan: no InnoDB page in {} bytes of {}",
            store.bytes_scanned,
            image.path().display()
        );
    }
    let mut w = format!(
        "scan: {} page copies of {} tablespaces: {} intact",
        store.pages.len(),
        spaces.len(),
        count(Status::Ok)
    );
    for (n, what) in [
        (count(Status::Reassembled), "reassembled from sparse blocks"),
        (count(Status::Repaired), "repaired"),
        (count(Status::Redone), "brought up to date by the redo log"),
        (count(Status::Damaged), "damaged"),
    ] {
        if n > 0 {
            w.push_str(&format!(", {n} {what}"));
        }
    }
    if store.rejected > 0 {
        w.push_str(&format!(
            "; {} look-alikes rejected (not pages)",
            store.rejected
        ));
    }
    w.push_str(&format!(
        ". Next: salvage recover {} -o OUT",
        image.path().display()
    ));
    w
}

/// The `--json` document (schema documented in README.md).
#[derive(Serialize)]
struct ScanReport<'a> {
    image: String,
    image_size: u64,
    range: [u64; 2],
    bytes_scanned: u64,
    pages_found: usize,
    /// Damaged candidates dropped because they cannot be pages (page number
    /// beyond their tablespace, LSN far beyond the newest).
    rejected_candidates: usize,
    layout: &'a salvage::layout::Summary,
    tablespaces: Vec<SpaceLine<'a>>,
    indexes: Vec<IndexSummary>,
    damaged: Vec<PageLine<'a>>,
    unreadable: Vec<[u64; 2]>,
    /// The redo log applied, if one was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    redo: Option<&'a carve::redo::RedoReport>,
}

pub fn run(args: &ImageArgs, json: bool, list_pages: bool, stats: bool) -> Result<ExitCode, Fatal> {
    let started = std::time::Instant::now();
    let (image, range, carved) = carve_image(args)?;
    let store = &carved.store;
    let files = &carved.files;
    if stats {
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "scanned {} of {} bytes in {:.3} s ({:.0} MiB/s), {} pages ({} candidates rejected: not pages), peak memory {} MiB",
            store.bytes_scanned,
            range.end - range.start,
            secs,
            (range.end - range.start) as f64 / (1 << 20) as f64 / secs.max(1e-9),
            store.pages.len(),
            store.rejected,
            super::peak_rss().map_or("?".to_string(), |b| (b >> 20).to_string())
        );
    }
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    if list_pages {
        for p in &store.pages {
            serde_json::to_writer(&mut out, &PageLine::new(p, files, &image))?;
            out.write_all(b"\n")?;
        }
    } else if json {
        let report = ScanReport {
            image: image.path().display().to_string(),
            image_size: image.size(),
            range: [range.start, range.end],
            bytes_scanned: store.bytes_scanned,
            pages_found: store.pages.len(),
            rejected_candidates: store.rejected,
            layout: &carved.layout,
            tablespaces: space_lines(store, files),
            indexes: store.indexes(),
            damaged: store
                .damaged()
                .map(|p| PageLine::new(p, files, &image))
                .collect(),
            unreadable: store.unreadable.iter().map(|&(o, l)| [o, l]).collect(),
            redo: carved.redo.as_ref(),
        };
        serde_json::to_writer_pretty(&mut out, &report)?;
        out.write_all(b"\n")?;
    } else {
        human(&mut out, &image, &carved)?;
    }
    out.flush()?;
    eprintln!("{}", closing_words(store, &image));
    Ok(if store.pages.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn human(out: &mut impl Write, image: &Image, carved: &Carved) -> io::Result<()> {
    let store = &carved.store;
    let spaces = space_lines(store, &carved.files);
    for p in &carved.layout.partitions {
        let fs = carved
            .layout
            .filesystems
            .iter()
            .find(|f| f.partition == p.number)
            .map_or("no filesystem read".to_string(), |f| {
                format!(
                    "{}{}",
                    f.kind,
                    f.label
                        .as_ref()
                        .map(|l| format!(" \"{l}\""))
                        .unwrap_or_default()
                )
            });
        writeln!(
            out,
            "partition {} ({:?}, type {}): offset {} length {}: {fs}",
            p.number, p.scheme, p.type_name, p.start, p.len
        )?;
    }
    let indexes = store.indexes();
    let damaged = store.damaged().count();
    let repaired = store
        .pages
        .iter()
        .filter(|p| p.status == Status::Repaired)
        .count();
    writeln!(
        out,
        "{}: {} bytes scanned, {} page copies in {} tablespaces, {} damaged, {} repaired",
        image
            .path()
            .display()
            .if_supports_color(Stream::Stdout, |t| t.bold()),
        store.bytes_scanned,
        store.pages.len(),
        spaces.len(),
        damaged,
        repaired
    )?;
    if spaces.is_empty() {
        writeln!(out, "no InnoDB pages found")?;
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        format!(
            "{:>10} {:>6} {:>6} {:<19} {:>8} {:>8} {:>8} {:>8} {:>8}  {}",
            "space",
            "page",
            "zip",
            "format",
            "pages",
            "ok",
            "reasm",
            "repaired",
            "damaged",
            "file / types"
        )
        .if_supports_color(Stream::Stdout, |t| t.underline())
    )?;
    for line in &spaces {
        let s = &line.summary;
        let types: Vec<String> = s
            .page_types
            .iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect();
        let dmg = s.damaged.to_string();
        writeln!(
            out,
            "{:>10} {:>6} {:>6} {:<19} {:>8} {:>8} {:>8} {:>8} {:>8}  {}",
            s.space_id,
            kib(s.page_size),
            s.zip_size.map_or("-".to_string(), kib),
            s.format,
            s.pages,
            s.ok,
            s.reassembled,
            s.repaired,
            if s.damaged > 0 {
                dmg.if_supports_color(Stream::Stdout, |t| t.red())
                    .to_string()
            } else {
                dmg
            },
            line.file.map_or(types.join(" "), |f| format!(
                "p{}:{}:{}",
                f.partition, f.fs, f.path
            ))
        )?;
    }
    if !indexes.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            format!(
                "{:>10} {:>12} {:>8} {:>8} {:>10} {:>6} {:>8}",
                "space", "index", "pages", "leaves", "records", "levels", "damaged"
            )
            .if_supports_color(Stream::Stdout, |t| t.underline())
        )?;
        for i in &indexes {
            writeln!(
                out,
                "{:>10} {:>12} {:>8} {:>8} {:>10} {:>6} {:>8}",
                i.space_id, i.index_id, i.pages, i.leaf_pages, i.records, i.levels, i.damaged_pages
            )?;
        }
    }
    if damaged > 0 {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            "damaged pages:".if_supports_color(Stream::Stdout, |t| t.red())
        )?;
        const SHOWN: usize = 20;
        for p in store
            .pages
            .iter()
            .filter(|p| p.status == Status::Damaged)
            .take(SHOWN)
        {
            writeln!(
                out,
                "  offset {:>14} (0x{:x})  space {} page {} {}: {}",
                p.offset,
                p.offset,
                p.space_id,
                p.page_no,
                fil::type_name(p.page_type),
                p.reason_text().unwrap_or_default()
            )?;
        }
        if damaged > SHOWN {
            writeln!(out, "  ... and {} more (see --json)", damaged - SHOWN)?;
        }
    }
    if !store.unreadable.is_empty() {
        writeln!(out)?;
        writeln!(out, "unreadable ranges:")?;
        for (o, l) in &store.unreadable {
            writeln!(out, "  offset {o} length {l}")?;
        }
    }
    Ok(())
}

fn kib(b: u32) -> String {
    if b == 0 {
        "?".to_string()
    } else {
        format!("{}K", b / 1024)
    }
}
