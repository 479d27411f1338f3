//! Pages → tables → rows: the one place that orchestrates recovery.
//!
//! [`recover`] runs the stages in order, one module each:
//!
//! 1. `indexes`: the carved pages by index — the leaf pages of every
//!    B-tree index, and each index's root after MariaDB instant ALTER.
//! 2. `schemas`: table definitions, strongest source first — MySQL 8 SDI
//!    inside each tablespace, the user's `CREATE TABLE`s and `.frm` files
//!    (`--schema`), then the InnoDB data dictionary (with a carved `.frm`'s
//!    exact types when its columns match).
//! 3. `placement`: each table tied to its clustered index (one per
//!    partition) — by (space id, index id) or dictionary name when the
//!    schema source knows them, else by trying the table's layout on the
//!    leaf pages of every index nobody claimed and keeping the index whose
//!    records decode cleanly.
//! 4. `tables`: the rows of each placed table: per index, `leaf_pages`
//!    picks the page copies to decode and which of them are still in the
//!    index, `rows` decodes them, `classify` sorts the records into
//!    live, deleted and partial rows; partitions are merged.
//! 5. `unclaimed`: what nothing used — tables without pages, indexes with
//!    records but no schema — for the report.

pub mod emit;
mod index;
mod indexes;
pub use index::lost;
mod placement;
mod schemas;
pub mod sources;
pub mod spaces;
mod tables;
mod unclaimed;

use serde::Serialize;

use crate::carve::follow::FileIndex;
use crate::carve::pages::StorePages;
use crate::carve::store::{IndexSummary, PageStore};
use crate::image::Image;
use crate::innodb::rows::{RowView, TextRows};
use crate::schema::{SchemaSource, TableDef};

/// What the user asked for.
#[derive(Debug, Default, Clone)]
pub struct RecoverOptions {
    /// Table definitions from `--schema` files.
    pub user_schemas: Vec<TableDef>,
    /// Only these tables (`db.table`); empty = all.
    pub only: Vec<String>,
    /// The table a lone `.ibd` image is named after: the first to try on
    /// its indexes when no schema source ties them.
    pub file_table: Option<String>,
    /// `(db, table)` by space id, from the paths of the tablespace files
    /// ([`sources::space_names`]): a table is tried first on the indexes of
    /// the file named after it.
    pub space_names: std::collections::BTreeMap<u32, (String, String)>,
    /// How much memory the decoding may hold, and where rows go past it.
    pub memory: Memory,
}

/// The memory recovery may use for decoded pages and rows waiting to be
/// written (`--max-memory`), and the directory where rows that do not
/// fit wait (the output directory). What stays for the whole run is per
/// page copy (the page store, the key range of each page) and per record
/// that is not live (keys that decide deleted and uncertain rows); the
/// limit bounds everything that grows with the rows.
#[derive(Debug, Clone)]
pub struct Memory {
    pub limit: usize,
    pub spill_dir: std::path::PathBuf,
}

impl Default for Memory {
    fn default() -> Memory {
        Memory {
            limit: 1 << 30,
            spill_dir: std::env::temp_dir(),
        }
    }
}

impl Memory {
    /// Decoded page copies kept between passes (a sixteenth of the limit).
    /// Small: the first pass reads most pages' keys alone at a fraction of
    /// a full decode, while memory the process touches for the first time
    /// costs a page fault per 4 KiB (1 M rows: 0.37-0.44 s with a 4 MiB
    /// cache, 0.48-0.60 s with 64 MiB).
    fn cache_bytes(&self) -> usize {
        self.limit / 16
    }

    /// Page copies decoded at once, at `per_page` bytes each decoded: an
    /// eighth of the limit (their rows formatted for the CSV take about as
    /// much again), 8 to 4,096.
    fn batch_pages(&self, per_page: usize) -> usize {
        (self.limit / 8 / per_page.max(1024)).clamp(8, 4096)
    }

    /// Keys of the records that are not live held before they go to a
    /// file: a sixteenth of the limit, at least 1 MiB (each run of the file
    /// is read through its own buffer when they are merged, so runs must
    /// not be tiny: 1 GB of keys at the least makes 1,000 runs).
    fn keys_bytes(&self) -> usize {
        (self.limit / 16).max(1 << 20)
    }

    /// Deleted or uncertain rows decided before they are read and written:
    /// their (copy, record) pairs and places in the spool take about 40
    /// bytes a row, a 256th of the limit in all (at least 4,096 rows).
    fn rest_rows(&self) -> usize {
        (self.limit / 256 / 40).max(4096)
    }

    /// Deleted and uncertain rows held before they go to a file (1/8).
    fn spool_bytes(&self) -> usize {
        self.limit / 8
    }

    /// Off-page values longer than this are proven when decoded and
    /// streamed when written, never held whole: 1/1024 of the limit, 64 KiB
    /// to 4 MiB (a leaf page refers to at most a few hundred of them).
    fn defer_values_over(&self) -> u64 {
        (self.limit / 1024).clamp(64 << 10, 4 << 20) as u64
    }
}

/// A row of a [`TableRecovery`]: record `rec` of its decoded page `page`
/// ([`TableRecovery::values`] gives the values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RowRef {
    pub page: u32,
    pub rec: u32,
}

/// A row with columns that could not be decoded (written as NULL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartialRow {
    pub row: RowRef,
    /// (column name, why it failed).
    pub failed: Vec<(String, String)>,
}

/// Where a table's uncertain rows came from (each row counted once).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UncertainFrom {
    /// Records read from pages that fail their checksum (not repairable).
    pub unproven_pages: usize,
    /// Records only on older or freed page copies, whose key falls where
    /// the live leaf pages are lost.
    pub stale_copies: usize,
    /// Rows (or deletes) of transactions still active at the crash.
    pub active_transactions: usize,
}

impl UncertainFrom {
    fn add(&mut self, o: &UncertainFrom) {
        self.unproven_pages += o.unproven_pages;
        self.stale_copies += o.stale_copies;
        self.active_transactions += o.active_transactions;
    }
}

/// The rows of `<table>.csv` by how their page copy was proven.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RowsFrom {
    /// The copy's checksum holds as found.
    pub intact_pages: usize,
    /// The checksum holds once a sparse file's zero blocks are put back.
    pub reassembled_pages: usize,
    /// Repaired from the checksum's syndrome (one damaged byte or burst).
    pub repaired_pages: usize,
    /// Brought up to date by the redo log.
    pub redone_pages: usize,
}

impl RowsFrom {
    fn count(&mut self, s: crate::carve::Status) {
        use crate::carve::Status;
        match s {
            Status::Ok | Status::Damaged => self.intact_pages += 1,
            Status::Reassembled => self.reassembled_pages += 1,
            Status::Repaired => self.repaired_pages += 1,
            Status::Redone => self.redone_pages += 1,
        }
    }
}

/// Everything recovered for one table.
#[derive(Debug, Clone, Serialize)]
pub struct TableRecovery {
    #[serde(skip)]
    pub def: TableDef,
    pub db: String,
    pub table: String,
    pub source: SchemaSource,
    pub space_id: Option<u32>,
    pub index_id: Option<u64>,
    /// Decoded values of the table's pages (all rows below point into them;
    /// each decoded record is in at most one of the lists).
    #[serde(skip)]
    pub pages: Vec<TextRows>,
    #[serde(skip)]
    pub rows: Vec<RowRef>,
    #[serde(skip)]
    pub deleted: Vec<RowRef>,
    #[serde(skip)]
    pub partial: Vec<PartialRow>,
    /// Rows found that nothing proves live or deleted.
    #[serde(skip)]
    pub uncertain: Vec<RowRef>,
    pub rows_written: usize,
    pub deleted_rows: usize,
    pub partial_rows: usize,
    /// Rows in `<table>.uncertain.csv`.
    pub uncertain_rows: usize,
    /// Why those rows are uncertain.
    pub uncertain_from: UncertainFrom,
    /// How the pages of the rows in `<table>.csv` were proven.
    pub rows_from: RowsFrom,
    /// Distinct leaf pages with at least one good copy.
    pub leaf_pages: usize,
    /// Leaf pages found only damaged.
    pub leaf_pages_damaged: usize,
    /// Leaf pages a neighbour names that were not found at all.
    pub leaf_pages_missing: usize,
    /// Rows estimated lost: the lost key ranges' estimates, and the leaf
    /// pages damaged or missing outside them times the live rows per good
    /// leaf page (`None`: no good leaf page to measure).
    pub rows_lost_estimate: Option<u64>,
    /// The key columns, as `lost_key_ranges` names their values.
    pub key_columns: Vec<String>,
    /// Where in the key the lost leaf pages were (the first 1,000).
    pub lost_key_ranges: Vec<lost::LostRange>,
    /// Lost key ranges in all.
    pub lost_key_ranges_total: usize,
    /// The lost leaf pages placed in those ranges, and their rows.
    #[serde(skip)]
    pub lost_placed: lost::Placed,
    /// Records that failed the structural checks of their page.
    pub records_skipped: usize,
    /// Where the table's pages came from (file, carved, both).
    pub pages_from: sources::PagesFrom,
    pub notes: Vec<String>,
}

impl TableRecovery {
    /// The values of one row, in column order (`None` = NULL).
    pub fn values(&self, r: RowRef) -> RowView<'_> {
        self.pages[r.page as usize].row(r.rec as usize)
    }

    /// The rows of the lost key ranges (from their neighbours), and the
    /// leaf pages found only damaged or not at all outside them times the
    /// live rows per good leaf page (`None` when those pages are left and
    /// no leaf page is good to measure by).
    pub fn lost_estimate(&self) -> Option<u64> {
        let bad = (self.leaf_pages_damaged + self.leaf_pages_missing) as u64;
        let rest = bad.saturating_sub(self.lost_placed.pages);
        if rest == 0 {
            return Some(self.lost_placed.rows);
        }
        if self.leaf_pages == 0 {
            return None;
        }
        let live = (self.rows_written + self.partial_rows) as f64;
        Some(self.lost_placed.rows + (rest as f64 * live / self.leaf_pages as f64).round() as u64)
    }

    /// Nothing recovered yet for `def`, without notes.
    fn empty(def: &TableDef) -> TableRecovery {
        TableRecovery {
            def: def.clone(),
            db: def.db.clone(),
            table: def.name.clone(),
            source: def.source,
            space_id: def.space_id,
            index_id: def.index_id,
            pages: Vec::new(),
            rows: Vec::new(),
            deleted: Vec::new(),
            partial: Vec::new(),
            uncertain: Vec::new(),
            rows_written: 0,
            deleted_rows: 0,
            partial_rows: 0,
            uncertain_rows: 0,
            uncertain_from: UncertainFrom::default(),
            rows_from: RowsFrom::default(),
            leaf_pages: 0,
            leaf_pages_damaged: 0,
            leaf_pages_missing: 0,
            rows_lost_estimate: Some(0),
            key_columns: lost::key_columns(def),
            lost_key_ranges: Vec::new(),
            lost_key_ranges_total: 0,
            lost_placed: Default::default(),
            records_skipped: 0,
            pages_from: Default::default(),
            notes: Vec::new(),
        }
    }
}

/// Progress of the decoding: leaf page copies decoded of the total the
/// placed tables have (reported to `f` as they finish, from any thread).
pub(crate) struct Tick<'a> {
    done: std::sync::atomic::AtomicUsize,
    total: std::sync::atomic::AtomicUsize,
    f: &'a (dyn Fn(usize, usize) + Sync),
}

impl<'a> Tick<'a> {
    fn new(total: usize, f: &'a (dyn Fn(usize, usize) + Sync)) -> Tick<'a> {
        f(0, total);
        Tick {
            done: Default::default(),
            total: total.into(),
            f,
        }
    }

    /// No report (the dictionary's own tables).
    fn none() -> Tick<'static> {
        Tick {
            done: Default::default(),
            total: Default::default(),
            f: &|_, _| {},
        }
    }

    /// `n` more page copies done.
    fn pages(&self, n: usize) {
        let done = self.done.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
        let total = self.total.load(std::sync::atomic::Ordering::Relaxed);
        (self.f)(done.min(total), total);
    }

    /// `n` more page copies to do (copies read again in pass 3).
    fn more(&self, n: usize) {
        self.total
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// The total counted `assumed` copies for some work that takes
    /// `actual`: set it right (pass 2 decodes the newest copies again,
    /// counted as every copy until the survey knows which).
    fn correct(&self, assumed: usize, actual: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        let _ = self.total.fetch_update(Relaxed, Relaxed, |t| {
            Some((t + actual).saturating_sub(assumed))
        });
        let (done, total) = (self.done.load(Relaxed), self.total.load(Relaxed));
        (self.f)(done.min(total), total);
    }
}

/// The version of `report.json` (docs/report.md): raised when a field
/// changes meaning or goes away; new fields do not change it.
pub const REPORT_VERSION: u32 = 1;

/// What was read: the image and its layout (set by the caller).
#[derive(Debug, Clone, Serialize)]
pub struct ImageReport {
    pub path: String,
    /// Bytes (a qcow2 image's virtual size).
    pub size: u64,
    /// `raw` or `qcow2`.
    pub format: &'static str,
    /// Partitions and filesystems found, and their state.
    pub layout: crate::layout::Summary,
    /// Damaged candidates dropped because they cannot be pages.
    pub rejected_candidates: usize,
    /// SHA-256 of every byte of the image (`--hash`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// Seconds each stage took (set by the caller).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Seconds {
    /// Layout, scan, repair and redo: the page store built.
    pub carve: f64,
    /// Schemas, decoding and the CSV files written.
    pub recover: f64,
}

/// The result of a recovery.
#[derive(Debug, Clone, Serialize)]
pub struct Recovery {
    /// [`REPORT_VERSION`].
    pub version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageReport>,
    pub tables: Vec<TableRecovery>,
    /// Indexes with leaf records that no schema claimed: pass their table's
    /// CREATE TABLE with `--schema`.
    pub unknown_indexes: Vec<IndexSummary>,
    /// Schemas that could not be tied to any pages.
    pub tables_without_pages: Vec<String>,
    pub schema_errors: Vec<String>,
    /// The redo log applied before recovery, if one was found (set by the
    /// caller from [`crate::carve::Carved::redo`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redo: Option<crate::carve::redo::RedoReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<Seconds>,
    /// Every tablespace with a page found: pages found, expected, not found.
    pub tablespaces: Vec<spaces::SpaceReport>,
    /// Damaged page copies (the first 10,000, in image order).
    pub damaged_pages: Vec<spaces::DamagedPage>,
    /// Damaged page copies in all.
    pub damaged_pages_total: usize,
}

/// Runs recovery on a carved image, every row kept in memory (in each
/// table's [`TableRecovery::pages`] and row lists). Deterministic: the same
/// image gives the same result with any number of threads. `progress` gets
/// (leaf page copies decoded, copies to decode) as the decoding goes.
pub fn recover(
    image: &Image,
    store: &PageStore,
    files: &FileIndex,
    opts: &RecoverOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Recovery {
    let mut keep = emit::Collector::default();
    recover_into(image, store, files, opts, progress, &mut keep)
        .expect("the in-memory sink does not fail")
}

/// [`recover`], handing each table's rows to `sink` as they are sorted,
/// in bounded batches ([`RecoverOptions::memory`]): the tables in the
/// result carry counts and notes, not rows. Stops at the sink's first
/// error.
pub fn recover_into(
    image: &Image,
    store: &PageStore,
    files: &FileIndex,
    opts: &RecoverOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
    sink: &mut dyn emit::RowSink,
) -> std::io::Result<Recovery> {
    let src = StorePages {
        image,
        store,
        defer_values_over: Some(opts.memory.defer_values_over()),
    };
    let indexes = indexes::Indexes::of(store);
    let schemas = schemas::gather(&src, &indexes.leaves, opts);
    let placement = placement::place(&schemas, &indexes.leaves, &src, opts);
    // Transactions active at the crash (their undo logs still active): the
    // server would roll them back, so their rows prove nothing.
    let active: std::collections::HashSet<u64> = crate::innodb::undo::active_transactions(&src)
        .into_iter()
        .collect();
    let mut tables = tables::recover_placed(
        &placement,
        &schemas,
        &indexes,
        &src,
        &active,
        &opts.memory,
        progress,
        sink,
    )?;
    sources::attribute(&mut tables, &placement, &indexes, files);
    let (damaged_pages, damaged_pages_total) = spaces::damaged_pages(&src);
    Ok(Recovery {
        tablespaces: spaces::space_reports(&src, files),
        damaged_pages,
        damaged_pages_total,
        version: REPORT_VERSION,
        image: None,
        seconds: None,
        tables_without_pages: unclaimed::tables_without_pages(&tables),
        unknown_indexes: unclaimed::unknown_indexes(
            store,
            &indexes.leaves,
            &placement.claimed,
            &schemas.dictionary,
        ),
        tables,
        schema_errors: schemas.errors,
        redo: None,
    })
}
