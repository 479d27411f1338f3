//! Writers of recovered data: CSV per table (the exact convention of
//! DESIGN.md: `<table>.csv`, `.deleted.csv`, `.uncertain.csv`, `.partial.csv`),
//! `schema.sql`, `load.sql` and `report.json`.

pub mod csv;
pub mod sql;

use std::io;
use std::path::{Path, PathBuf};

use crate::recover::{Recovery, RowRef, TableRecovery};

/// A database or table name made safe as one path component.
pub fn path_component(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c == '\0' {
                '_'
            } else {
                c
            }
        })
        .collect();
    match s.as_str() {
        "" => "_".to_string(),
        "." | ".." => s.replace('.', "_"),
        _ => s,
    }
}

/// `OUT/<db>/<table><suffix>`.
pub fn table_path(out: &Path, db: &str, table: &str, suffix: &str) -> PathBuf {
    out.join(path_component(db))
        .join(format!("{}{suffix}", path_component(table)))
}

/// Writes everything for a recovery into `out` (created if missing).
pub fn write_all(out: &Path, rec: &Recovery) -> io::Result<()> {
    write_all_with(out, rec, &|_, _| {})
}

/// Rows [`write_all`] writes to CSV files (live, deleted, uncertain, partial).
pub fn rows_to_write(rec: &Recovery) -> usize {
    rec.tables
        .iter()
        .map(|t| t.rows.len() + t.deleted.len() + t.uncertain.len() + t.partial.len())
        .sum()
}

/// [`write_all`], telling `progress` (rows written, [`rows_to_write`]) as
/// the CSV files fill.
pub fn write_all_with(
    out: &Path,
    rec: &Recovery,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> io::Result<()> {
    let total = rows_to_write(rec);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let tick = |n: usize| {
        let d = done.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
        progress(d.min(total), total);
    };
    for t in &rec.tables {
        write_table(out, t, &tick)?;
    }
    write_reports(out, rec)
}

/// The CSV files of one table (`<db>/<table>.csv`, `.deleted.csv`, and
/// `.uncertain.csv` / `.partial.csv` when they have rows), telling `tick`
/// the rows as they are written. Nothing for a table with no pages and no
/// rows.
pub fn write_table(out: &Path, t: &TableRecovery, tick: &(dyn Fn(usize) + Sync)) -> io::Result<()> {
    std::fs::create_dir_all(out)?;
    if t.leaf_pages == 0 && t.rows.is_empty() && t.deleted.is_empty() && t.uncertain.is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(out.join(path_component(&t.db)))?;
    // Hidden and virtual columns are decoded but not written.
    let visible: Vec<bool> = t.def.columns.iter().map(|c| c.is_visible()).collect();
    let header: Vec<&str> = t
        .def
        .columns
        .iter()
        .filter(|c| c.is_visible())
        .map(|c| c.name.as_str())
        .collect();
    let shown = |r: RowRef| {
        t.values(r)
            .iter()
            .zip(&visible)
            .filter(|(_, &v)| v)
            .map(|(x, _)| x)
    };
    csv::write_file_with(
        &table_path(out, &t.db, &t.table, ".csv"),
        &header,
        t.rows.len(),
        |i| shown(t.rows[i]),
        tick,
    )?;
    csv::write_file_with(
        &table_path(out, &t.db, &t.table, ".deleted.csv"),
        &header,
        t.deleted.len(),
        |i| shown(t.deleted[i]),
        tick,
    )?;
    if !t.uncertain.is_empty() {
        csv::write_file_with(
            &table_path(out, &t.db, &t.table, ".uncertain.csv"),
            &header,
            t.uncertain.len(),
            |i| shown(t.uncertain[i]),
            tick,
        )?;
    }
    if !t.partial.is_empty() {
        csv::write_file_with(
            &table_path(out, &t.db, &t.table, ".partial.csv"),
            &header,
            t.partial.len(),
            |i| shown(t.partial[i].row),
            tick,
        )?;
    }
    Ok(())
}

/// `schema.sql`, `load.sql` and `report.json` of a recovery (its tables'
/// CSV files are written by [`write_table`]).
pub fn write_reports(out: &Path, rec: &Recovery) -> io::Result<()> {
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("schema.sql"), sql::schema_sql(rec))?;
    std::fs::write(out.join("load.sql"), sql::load_sql(rec))?;
    let mut report = serde_json::to_vec_pretty(rec).map_err(io::Error::other)?;
    report.push(b'\n');
    std::fs::write(out.join("report.json"), report)?;
    Ok(())
}
