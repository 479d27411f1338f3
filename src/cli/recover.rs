//! `salvage recover`: tables back as CSV.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use owo_colors::{OwoColorize, Stream};

use salvage::export::CsvSink;
use salvage::innodb::frm;
use salvage::recover::{recover_into, ImageReport, Memory, RecoverOptions, Recovery, Seconds};
use salvage::schema::sql::{parse_schema_lenient, SqlOptions};
use salvage::schema::TableDef;

use super::scan::carve_image;
use super::{pool, progress, Fatal, ImageArgs};

#[allow(clippy::too_many_arguments)]
pub fn run(
    args: &ImageArgs,
    out: &Path,
    schemas: &[PathBuf],
    only: &[String],
    db: Option<&str>,
    json: bool,
    max_memory: Option<u64>,
    hash: bool,
) -> Result<ExitCode, Fatal> {
    let mut opts = RecoverOptions {
        only: only.to_vec(),
        memory: Memory {
            limit: max_memory.map_or_else(default_memory, |m| m as usize),
            spill_dir: out.to_path_buf(),
        },
        ..Default::default()
    };
    let mut warnings = Vec::new();
    for f in schemas {
        let bytes = std::fs::read(f)
            .map_err(|e| Fatal(format!("cannot read schema file {}: {e}", f.display())))?;
        if frm::looks_like_frm(&bytes) {
            opts.user_schemas.push(frm_schema(f, &bytes)?);
            continue;
        }
        let sql = String::from_utf8(bytes).map_err(|e| {
            Fatal(format!(
                "schema file {} is neither a .frm nor UTF-8 SQL (invalid UTF-8 at byte {})",
                f.display(),
                e.utf8_error().valid_up_to()
            ))
        })?;
        let (tables, errors) = parse_schema_lenient(&sql, db, &SqlOptions::default());
        if tables.is_empty() {
            return Err(Fatal(format!(
                "no CREATE TABLE could be read from {}{}",
                f.display(),
                errors.first().map(|e| format!(": {e}")).unwrap_or_default()
            )));
        }
        warnings.extend(errors.iter().map(|e| format!("{}: {e}", f.display())));
        opts.user_schemas.extend(tables);
    }
    // A lone `.ibd` with its `.frm` beside it (MySQL 5.x, MariaDB): that
    // is its schema, named by the path, unless --schema names the table.
    if let Some(f) = sibling_frm(&args.image) {
        if let Ok(bytes) = std::fs::read(&f) {
            match frm_schema(&f, &bytes) {
                Ok(t)
                    if !opts
                        .user_schemas
                        .iter()
                        .any(|u| u.qualified() == t.qualified()) =>
                {
                    opts.user_schemas.push(t)
                }
                Ok(_) => {}
                Err(e) => warnings.push(e.0),
            }
        }
    }
    if is_ibd(&args.image) {
        opts.file_table = args
            .image
            .file_stem()
            .map(|s| frm::decode_filename(&s.to_string_lossy()));
    }
    let started = std::time::Instant::now();
    let (image, _range, carved) = carve_image(args)?;
    let carve_secs = started.elapsed().as_secs_f64();
    let store = &carved.store;
    opts.space_names = salvage::recover::sources::space_names(&carved.files);
    let pool = pool(args.threads)?;
    // Each table's CSV files are written as soon as its rows are sorted,
    // and its values dropped: one table's values in memory at a time. On
    // the same pool: -t bounds the CSV formatting too.
    let bar = progress::items(0, "recovering: leaf pages", "pages");
    let value = |n: u64| match n {
        0 => bar.set_message("recovering: leaf pages"),
        n => bar.set_message(format!(
            "recovering: leaf pages (one value, {} so far)",
            indicatif::HumanBytes(n)
        )),
    };
    let mut sink = CsvSink::new(out, &|_| {}).on_value(&value);
    let rec = pool.install(|| {
        recover_into(
            &image,
            store,
            &carved.files,
            &opts,
            &|done, total| moved(&bar, done, total),
            &mut sink,
        )
    });
    bar.finish_and_clear();
    let mut rec = rec.map_err(|e| Fatal(format!("cannot write to {}: {e}", out.display())))?;
    rec.schema_errors.extend(warnings);
    rec.redo = carved.redo.clone();
    rec.seconds = Some(Seconds {
        carve: carve_secs,
        recover: started.elapsed().as_secs_f64() - carve_secs,
    });
    rec.image = Some(ImageReport {
        path: args.image.display().to_string(),
        size: image.size(),
        format: if image.qcow2().is_some() {
            "qcow2"
        } else {
            "raw"
        },
        layout: carved.layout.clone(),
        rejected_candidates: store.rejected,
        sha256: hash.then(|| {
            let bar = progress::bytes(image.size(), "hashing");
            let h = salvage::image::sha256::of_image(&image, &|done| bar.set_position(done));
            bar.finish_and_clear();
            h
        }),
    });
    salvage::export::write_reports(out, &rec)
        .map_err(|e| Fatal(format!("cannot write to {}: {e}", out.display())))?;
    let name = args.image.file_name().unwrap_or(args.image.as_os_str());
    salvage::export::html::write_html(out, &rec, store, image.size(), &name.to_string_lossy())
        .map_err(|e| Fatal(format!("cannot write to {}: {e}", out.display())))?;

    eprintln!("{}", closing_words(&rec, out));

    let stdout = io::stdout();
    let mut w = BufWriter::new(stdout.lock());
    if json {
        serde_json::to_writer_pretty(&mut w, &rec)?;
        w.write_all(b"\n")?;
    } else {
        summary(&mut w, &rec, out)?;
    }
    w.flush()?;
    let recovered: usize = rec
        .tables
        .iter()
        .map(|t| t.rows_written + t.partial_rows)
        .sum();
    Ok(if recovered > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The default `--max-memory`: a sixteenth of the machine's RAM, 64 to
/// 256 MiB. More only spares decoding some pages twice, which costs less
/// than the page faults of holding them (8 M rows: 5.0 s with 64 MiB, 5.4 s
/// with 1 GiB).
fn default_memory() -> usize {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let line = m.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024)
        })
        .unwrap_or(8 << 30);
    (total / 16).clamp(64 << 20, 256 << 20)
}

/// What `recover` ends with on stderr: the report's summary sentence, the
/// rows of the other files, and where the report is.
fn closing_words(rec: &Recovery, out: &Path) -> String {
    let sum = |f: fn(&salvage::recover::TableRecovery) -> usize| -> usize {
        rec.tables.iter().map(f).sum()
    };
    format!(
        "recover: {} Also {} deleted, {} uncertain and {} partial rows. Report: {} (and report.json)",
        salvage::export::html::summary::sentence_text(rec),
        sum(|t| t.deleted_rows),
        sum(|t| t.uncertain_rows),
        sum(|t| t.partial_rows),
        out.join("report.html").display()
    )
}

/// Moves `bar` to `done` of `total`.
fn moved(bar: &indicatif::ProgressBar, done: usize, total: usize) {
    bar.set_length(total as u64);
    bar.set_position(done as u64);
}

fn summary(w: &mut impl Write, rec: &Recovery, out: &Path) -> io::Result<()> {
    for t in &rec.tables {
        let name = format!("{}.{}", t.db, t.table);
        let mut line = format!(
            "{:<40} {:>9} rows  {:>7} deleted  {:>6} partial  {:>6} pages",
            name, t.rows_written, t.deleted_rows, t.partial_rows, t.leaf_pages
        );
        if t.uncertain_rows > 0 {
            line.push_str(&format!("  {} uncertain", t.uncertain_rows));
        }
        if t.leaf_pages_damaged > 0 {
            line.push_str(&format!("  {} pages damaged", t.leaf_pages_damaged));
        }
        if t.leaf_pages_missing > 0 {
            line.push_str(&format!("  {} pages missing", t.leaf_pages_missing));
        }
        if t.leaf_pages == 0 {
            writeln!(
                w,
                "{}",
                line.if_supports_color(Stream::Stdout, |x| x.yellow())
            )?;
        } else {
            writeln!(w, "{line}")?;
        }
    }
    if !rec.unknown_indexes.is_empty() {
        writeln!(
            w,
            "\n{} indexes with records but no schema (pass their CREATE TABLE with --schema):",
            rec.unknown_indexes.len()
        )?;
        for i in &rec.unknown_indexes {
            writeln!(
                w,
                "  space {} index {}: {} leaf pages, {} records",
                i.space_id, i.index_id, i.leaf_pages, i.records
            )?;
        }
    }
    for e in &rec.schema_errors {
        writeln!(w, "schema: {e}")?;
    }
    let rows: usize = rec.tables.iter().map(|t| t.rows_written).sum();
    writeln!(
        w,
        "\n{} rows in {} tables written to {}",
        rows,
        rec.tables.iter().filter(|t| t.rows_written > 0).count(),
        out.display()
    )?;
    Ok(())
}

/// The table a `.frm` file defines, named by its path (`db/table.frm`).
fn frm_schema(f: &Path, bytes: &[u8]) -> Result<TableDef, Fatal> {
    let (db, name) = frm::table_name_from_path(f)
        .ok_or_else(|| Fatal(format!("cannot name the table of {}", f.display())))?;
    frm::parse_frm_named(bytes, &db, &name)
        .map_err(|e| Fatal(format!("{}: not a readable .frm: {e}", f.display())))
}

fn is_ibd(image: &Path) -> bool {
    image
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("ibd"))
}

/// `db/table.frm` beside an image that is `db/table.ibd`.
fn sibling_frm(image: &Path) -> Option<PathBuf> {
    if !is_ibd(image) {
        return None;
    }
    let f = image.with_extension("frm");
    f.is_file().then_some(f)
}
