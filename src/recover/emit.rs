//! Where recovered rows go as they are sorted: a [`RowSink`] gets each
//! table's rows in batches, file by file in output order, while the table
//! is being decoded; nothing needs the whole table in memory.
//!
//! [`Emit`] stands between the stages and the sink: it counts what goes to
//! each file (the counts of [`TableRecovery`]) and applies what the table's
//! schema source demands (a table known only from the InnoDB dictionary has
//! its guessed columns written NULL, as partial rows). [`Collector`] is the
//! sink of the in-memory API ([`super::recover`]): it keeps every row.

use std::borrow::Cow;
use std::io;

use super::{PartialRow, RowRef, TableRecovery};
use crate::innodb::lob::PageSource;
use crate::innodb::rows::{ColumnFailure, RowView, TextRows, Value};

/// The output file a row belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `<table>.csv`: proven live, every column decoded.
    Live,
    /// `<table>.deleted.csv`: proven deleted.
    Deleted,
    /// `<table>.uncertain.csv`: found, nothing proves it live or deleted.
    Uncertain,
    /// `<table>.partial.csv`: live, with columns that could not be decoded.
    Partial,
}

/// One row handed to a sink: its values in column order and, for a partial
/// row, the columns that failed.
#[derive(Clone, Copy)]
pub struct Out<'a> {
    pub values: RowView<'a>,
    pub failed: &'a [ColumnFailure],
    /// Columns to write as NULL whatever `values` holds (sorted).
    pub nulled: &'a [usize],
}

impl<'a> Out<'a> {
    /// A row written as it was decoded.
    pub fn new(values: RowView<'a>, failed: &'a [ColumnFailure]) -> Out<'a> {
        Out {
            values,
            failed,
            nulled: &[],
        }
    }

    /// The values to write, in column order (`None` = NULL).
    pub fn iter(&self) -> impl Iterator<Item = Option<Value<'a>>> + 'a {
        let nulled = self.nulled;
        self.values
            .iter()
            .enumerate()
            .map(move |(c, v)| if nulled.contains(&c) { None } else { v })
    }
}

/// Receives the rows of each table as they are sorted. Calls come in order:
/// `begin`, `rows` any number of times (rows of one kind in output order),
/// `end` with the table's final counts. A [`Value::Deferred`] value is read
/// from `pages` (the pages the rows were decoded from).
pub trait RowSink: Send {
    fn begin(&mut self, t: &TableRecovery) -> io::Result<()>;
    fn rows(
        &mut self,
        t: &TableRecovery,
        kind: Kind,
        rows: &[Out<'_>],
        pages: &dyn PageSource,
    ) -> io::Result<()>;
    fn end(&mut self, t: &mut TableRecovery) -> io::Result<()>;
}

/// The rows of one table on their way to a sink, counted.
pub(super) struct Emit<'s> {
    sink: &'s mut dyn RowSink,
    /// Where the rows' deferred values are.
    pages: &'s (dyn PageSource + Sync),
    /// Columns whose type the schema source only guessed (written NULL, the
    /// row as partial), with the failure each such row carries.
    guessed: Vec<usize>,
    guessed_failures: Vec<ColumnFailure>,
    /// Deleted or uncertain rows withheld (they need the exact types too).
    pub withheld: usize,
    /// The first I/O error of the sink; later rows are dropped.
    pub error: Option<io::Error>,
}

impl<'s> Emit<'s> {
    /// Rows of `t` (decoded from `pages`) to `sink`; `guessed` columns
    /// written NULL.
    pub fn new(
        sink: &'s mut dyn RowSink,
        pages: &'s (dyn PageSource + Sync),
        t: &TableRecovery,
        guessed: Vec<usize>,
    ) -> Emit<'s> {
        let reason =
            "type not known from the InnoDB dictionary alone (pass the CREATE TABLE with --schema)";
        let guessed_failures = guessed
            .iter()
            .map(|&column| ColumnFailure {
                column,
                reason: reason.to_string(),
            })
            .collect();
        let mut guessed = guessed;
        guessed.sort_unstable();
        let mut e = Emit {
            sink,
            pages,
            guessed,
            guessed_failures,
            withheld: 0,
            error: None,
        };
        let r = e.sink.begin(t);
        e.keep(r);
        e
    }

    fn keep(&mut self, r: io::Result<()>) {
        self.ok(r);
    }

    /// `r`'s value, or `None` with its error kept (the first error stays:
    /// later rows are dropped and the table ends with it).
    pub fn ok<T>(&mut self, r: io::Result<T>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.error.get_or_insert(e);
                None
            }
        }
    }

    /// Rows of one kind, in output order; counted in `t`.
    pub fn rows(&mut self, t: &mut TableRecovery, kind: Kind, rows: &[Out<'_>]) {
        if rows.is_empty() || self.error.is_some() {
            return;
        }
        if self.guessed.is_empty() {
            match kind {
                Kind::Live => t.rows_written += rows.len(),
                Kind::Deleted => t.deleted_rows += rows.len(),
                Kind::Uncertain => t.uncertain_rows += rows.len(),
                Kind::Partial => t.partial_rows += rows.len(),
            }
            let r = self.sink.rows(t, kind, rows, self.pages);
            return self.keep(r);
        }
        match kind {
            Kind::Deleted | Kind::Uncertain => self.withheld += rows.len(),
            Kind::Partial => {
                t.partial_rows += rows.len();
                let r = self.sink.rows(t, kind, rows, self.pages);
                self.keep(r);
            }
            Kind::Live => {
                // The guessed columns written NULL, the rows as partial.
                let out: Vec<Out> = rows
                    .iter()
                    .map(|o| Out {
                        values: o.values,
                        failed: &self.guessed_failures,
                        nulled: &self.guessed,
                    })
                    .collect();
                t.partial_rows += out.len();
                let r = self.sink.rows(t, Kind::Partial, &out, self.pages);
                self.keep(r);
            }
        }
    }

    /// The table is done: the sink gets its final counts.
    pub fn end(mut self, t: &mut TableRecovery) -> io::Result<()> {
        if self.error.is_none() {
            let r = self.sink.end(t);
            self.keep(r);
        }
        self.error.map_or(Ok(()), Err)
    }
}

/// The sink of the in-memory API: every row kept, in
/// [`TableRecovery::pages`] and its row lists.
#[derive(Default)]
pub(super) struct Collector {
    pages: Vec<TextRows>,
    rows: Vec<RowRef>,
    deleted: Vec<RowRef>,
    uncertain: Vec<RowRef>,
    partial: Vec<PartialRow>,
}

/// Text a [`TextRows`] of the collector holds before the next is started
/// (its offsets are 32-bit).
const COLLECT_TEXT: usize = 1 << 30;

impl RowSink for Collector {
    fn begin(&mut self, _: &TableRecovery) -> io::Result<()> {
        *self = Collector::default();
        Ok(())
    }

    fn rows(
        &mut self,
        t: &TableRecovery,
        kind: Kind,
        rows: &[Out<'_>],
        pages: &dyn PageSource,
    ) -> io::Result<()> {
        let ncols = t.def.columns.len();
        for o in rows {
            if self
                .pages
                .last()
                .is_none_or(|p| p.heap_bytes() >= COLLECT_TEXT)
            {
                self.pages.push(TextRows::new(ncols));
            }
            let page = self.pages.len() - 1;
            // Deferred values are read whole: this sink keeps every row.
            let text: Vec<Option<Cow<str>>> = o
                .iter()
                .map(|v| match v {
                    None => Ok(None),
                    Some(Value::Text(s)) => Ok(Some(Cow::Borrowed(s))),
                    Some(Value::Deferred(d)) => d
                        .text(pages)
                        .map(|s| Some(Cow::Owned(s)))
                        .map_err(io::Error::other),
                })
                .collect::<io::Result<_>>()?;
            let rec = self.pages[page].push_row(text.iter().map(|v| v.as_deref().map(Value::Text)));
            let at = RowRef {
                page: page as u32,
                rec: rec as u32,
            };
            match kind {
                Kind::Live => self.rows.push(at),
                Kind::Deleted => self.deleted.push(at),
                Kind::Uncertain => self.uncertain.push(at),
                Kind::Partial => self.partial.push(PartialRow {
                    row: at,
                    failed: o
                        .failed
                        .iter()
                        .map(|f| {
                            let name = t
                                .def
                                .columns
                                .get(f.column)
                                .map_or_else(|| f.column.to_string(), |c| c.name.clone());
                            (name, f.reason.clone())
                        })
                        .collect(),
                }),
            }
        }
        Ok(())
    }

    fn end(&mut self, t: &mut TableRecovery) -> io::Result<()> {
        let c = std::mem::take(self);
        t.pages = c.pages;
        t.rows = c.rows;
        t.deleted = c.deleted;
        t.uncertain = c.uncertain;
        t.partial = c.partial;
        Ok(())
    }
}
