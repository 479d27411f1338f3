//! Writers of recovered data: CSV per table (the exact convention of
//! DESIGN.md: `<table>.csv`, `.deleted.csv`, `.uncertain.csv`, `.partial.csv`),
//! `schema.sql`, `load.sql` and `report.json`.

pub mod csv;
pub mod flush;
pub mod html;
pub mod sql;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::innodb::deferred::Deferred;
use crate::innodb::lob::PageSource;
use crate::innodb::rows::Value;
use crate::recover::emit::{Kind, Out, RowSink};
use crate::recover::{Recovery, TableRecovery};

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

/// Bytes of one streamed value between two progress reports.
pub const VALUE_STEP: u64 = 16 << 20;

/// The CSV files of each table, written as its rows arrive
/// (`<db>/<table>.csv`, `.deleted.csv`, and `.uncertain.csv` /
/// `.partial.csv` when they have rows); nothing for a table with no pages
/// and no rows. `written` gets the number of rows of each batch written.
pub struct CsvSink<'a> {
    out: PathBuf,
    files: [Option<BufWriter<flush::Flushed>>; 4],
    flusher: flush::Flusher,
    visible: Vec<bool>,
    written: &'a (dyn Fn(usize) + Sync),
    /// Bytes of the one value being streamed, every [`VALUE_STEP`], and 0
    /// when it ends: a BLOB of gigabytes takes seconds with no row done.
    value_bytes: &'a (dyn Fn(u64) + Sync),
    buf: Vec<Vec<u8>>,
    /// The visible columns, each with whether its text never needs quotes
    /// (numbers, dates, times).
    shown: Vec<(usize, bool)>,
}

impl<'a> CsvSink<'a> {
    pub fn new(out: &Path, written: &'a (dyn Fn(usize) + Sync)) -> CsvSink<'a> {
        CsvSink {
            out: out.to_path_buf(),
            files: Default::default(),
            flusher: flush::Flusher::new(),
            visible: Vec::new(),
            written,
            value_bytes: &|_| {},
            buf: Vec::new(),
            shown: Vec::new(),
        }
    }

    /// Reports the progress of a long value streamed into the CSV to
    /// `value_bytes` (bytes so far, every [`VALUE_STEP`]; 0 when it ends).
    pub fn on_value(mut self, value_bytes: &'a (dyn Fn(u64) + Sync)) -> CsvSink<'a> {
        self.value_bytes = value_bytes;
        self
    }

    /// The open file of `kind`, created with its header on first use.
    fn file(
        &mut self,
        t: &TableRecovery,
        kind: Kind,
    ) -> io::Result<&mut BufWriter<flush::Flushed>> {
        let slot = kind as usize;
        if self.files[slot].is_none() {
            let suffix = match kind {
                Kind::Live => ".csv",
                Kind::Deleted => ".deleted.csv",
                Kind::Uncertain => ".uncertain.csv",
                Kind::Partial => ".partial.csv",
            };
            std::fs::create_dir_all(self.out.join(path_component(&t.db)))?;
            let path = table_path(&self.out, &t.db, &t.table, suffix);
            let f = File::create(&path)?;
            // Blocks of formatted rows as long as the buffer bypass it (no
            // copy); the header and streamed rows are gathered in it.
            let mut w = BufWriter::with_capacity(128 << 10, self.flusher.file(f, path));
            let mut head = Vec::new();
            // Hidden and virtual columns are decoded but not written.
            let header = t
                .def
                .columns
                .iter()
                .filter(|c| c.is_visible())
                .map(|c| Some(c.name.as_str()));
            csv::write_record(&mut head, header);
            w.write_all(&head)?;
            self.files[slot] = Some(w);
        }
        Ok(self.files[slot].as_mut().expect("opened"))
    }
}

impl CsvSink<'_> {
    /// Writes `rows` (none with a deferred value) as blocks formatted in
    /// parallel and written in order: the bytes do not depend on the
    /// threads.
    fn formatted(&mut self, t: &TableRecovery, kind: Kind, rows: &[Out<'_>]) -> io::Result<()> {
        const BLOCK: usize = 2048;
        if rows.is_empty() {
            return Ok(());
        }
        let shown = &self.shown;
        let blocks = rows.len().div_ceil(BLOCK);
        self.buf.resize_with(blocks.max(self.buf.len()), Vec::new);
        self.buf[..blocks]
            .par_iter_mut()
            .zip(rows.par_chunks(BLOCK))
            .for_each(|(buf, chunk)| {
                buf.clear();
                for o in chunk {
                    csv::write_row(buf, &o.values, o.nulled, shown);
                }
            });
        let mut buf = std::mem::take(&mut self.buf);
        let w = self.file(t, kind);
        let r = w.and_then(|w| buf[..blocks].iter().try_for_each(|b| w.write_all(b)));
        // Buffers of one huge batch are not kept.
        buf.truncate(64);
        self.buf = buf;
        r
    }

    /// Writes row `o`, streaming its deferred values from `pages`.
    fn streamed(
        &mut self,
        t: &TableRecovery,
        kind: Kind,
        o: &Out<'_>,
        pages: &dyn PageSource,
    ) -> io::Result<()> {
        let visible = std::mem::take(&mut self.visible);
        let report = self.value_bytes;
        let w = self.file(t, kind);
        let r = w.and_then(|w| {
            let mut field = Vec::new();
            let shown = o.iter().zip(&visible).filter(|(_, &v)| v).map(|(x, _)| x);
            for (i, v) in shown.enumerate() {
                field.clear();
                if i > 0 {
                    field.push(b',');
                }
                match v {
                    Some(Value::Deferred(d)) => {
                        w.write_all(&field)?;
                        field.clear();
                        write_deferred(d, pages, w, report)?;
                    }
                    Some(Value::Text(s)) => csv::write_field(&mut field, Some(s)),
                    None => csv::write_field(&mut field, None),
                }
                w.write_all(&field)?;
            }
            w.write_all(b"\n")
        });
        self.visible = visible;
        r
    }
}

/// The CSV field of deferred value `d`, streamed from `pages` into `w`;
/// `report` gets the bytes written every [`VALUE_STEP`], and 0 at the end
/// if it got any.
fn write_deferred(
    d: &Deferred,
    pages: &dyn PageSource,
    w: &mut impl Write,
    report: &dyn Fn(u64),
) -> io::Result<()> {
    let (mut n, mut shown) = (0u64, 0u64);
    d.write_csv(pages, &mut |b| {
        n += b.len() as u64;
        if n - shown >= VALUE_STEP {
            shown = n;
            report(n);
        }
        w.write_all(b)
    })?;
    if shown > 0 {
        report(0);
    }
    Ok(())
}

impl RowSink for CsvSink<'_> {
    fn begin(&mut self, t: &TableRecovery) -> io::Result<()> {
        self.files = Default::default();
        self.visible = t.def.columns.iter().map(|c| c.is_visible()).collect();
        self.shown = t
            .def
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_visible())
            .map(|(i, c)| (i, csv::never_quoted(&c.ty)))
            .collect();
        Ok(())
    }

    fn rows(
        &mut self,
        t: &TableRecovery,
        kind: Kind,
        rows: &[Out<'_>],
        pages: &dyn PageSource,
    ) -> io::Result<()> {
        // A row with a deferred value is streamed on its own; the rows
        // between such rows go in parallel blocks.
        let mut start = 0;
        for (i, o) in rows.iter().enumerate() {
            if o.values.has_deferred() {
                self.formatted(t, kind, &rows[start..i])?;
                self.streamed(t, kind, o, pages)?;
                start = i + 1;
            }
        }
        self.formatted(t, kind, &rows[start..])?;
        (self.written)(rows.len());
        Ok(())
    }

    fn end(&mut self, t: &mut TableRecovery) -> io::Result<()> {
        let any = t.rows_written + t.deleted_rows + t.uncertain_rows + t.partial_rows;
        if t.leaf_pages > 0 || any > 0 {
            self.file(t, Kind::Live)?;
            self.file(t, Kind::Deleted)?;
        }
        for f in self.files.iter_mut().flatten() {
            f.flush()?;
        }
        self.files = Default::default();
        Ok(())
    }
}

/// `schema.sql`, `load.sql` and `report.json` of a recovery (its tables'
/// CSV files are written by [`CsvSink`]).
pub fn write_reports(out: &Path, rec: &Recovery) -> io::Result<()> {
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("schema.sql"), sql::schema_sql(rec))?;
    std::fs::write(out.join("load.sql"), sql::load_sql(rec))?;
    let mut report = serde_json::to_vec_pretty(rec).map_err(io::Error::other)?;
    report.push(b'\n');
    std::fs::write(out.join("report.json"), report)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::Mutex;

    use crate::innodb::deferred::Form;
    use crate::innodb::fil::FIL_NULL;
    use crate::innodb::lob::tests::{blob_page, chain, r, Map};
    use crate::schema::{Charset, Column, ColumnType};

    #[test]
    fn a_long_streamed_value_reports_its_progress() {
        // 20 MiB of BLOB in 4 KiB pages: 40 MiB of hex.
        let data: Vec<u8> = (0..20u32 << 20).map(|i| (i * 7 + i / 4099) as u8).collect();
        let src = chain(&data, 4000);
        let col = Column::new("b", ColumnType::Blob, true, Charset::Binary);
        let d = Deferred::check(b"", r(5, data.len() as u64), &col, Form::Hex, &src).unwrap();
        let reports = Mutex::new(Vec::new());
        let mut out = Vec::new();
        write_deferred(&d, &src, &mut out, &|n| reports.lock().unwrap().push(n)).unwrap();
        assert_eq!(out.len(), 2 + 2 * data.len());
        assert_eq!(&out[..2], b"0x");
        assert_eq!(out[2..10], *b"00070e15");
        let reports = reports.into_inner().unwrap();
        // 16 and 32 MiB of the 40 MiB field, then the end.
        assert_eq!(reports.len(), 3, "{reports:?}");
        assert!(reports[0] >= VALUE_STEP && reports[0] < VALUE_STEP + (1 << 20));
        assert!(reports[1] >= 2 * VALUE_STEP && reports[1] < 2 * VALUE_STEP + (1 << 20));
        assert_eq!(reports[2], 0);
        // A short value reports nothing.
        let src = Map(HashMap::from([(5, blob_page(5, &data[..100], FIL_NULL))]));
        let short = Deferred::check(b"", r(5, 100), &col, Form::Hex, &src).unwrap();
        let reports = Mutex::new(Vec::new());
        write_deferred(&short, &src, &mut Vec::new(), &|n| {
            reports.lock().unwrap().push(n)
        })
        .unwrap();
        assert!(reports.into_inner().unwrap().is_empty());
    }
}
