//! Rows of a clustered-index leaf page, decoded to CSV text values.
//!
//! [`decode_leaf_page`] walks the live record list and the free list of one
//! page, parses each record against the table's clustered layout
//! ([`TableDef::clustered`]), follows off-page values through a
//! [`PageSource`], fills instantly added columns from their defaults, and
//! decodes every value with [`crate::innodb::types`]. Plain data in, plain
//! data out: no I/O, no printing.

use std::borrow::Cow;

use crate::bytes::be_u16;
use crate::innodb::deferred::{Deferred, Form};
use crate::innodb::fil::FIL_PAGE_DATA;
use crate::innodb::lob::{read_extern, ExternRef, PageSource, EXTERN_REF_SIZE};
use crate::innodb::page_header::PAGE_GARBAGE;
use crate::innodb::record::{
    compact_extra, compact_fields_into, compact_first_fields_into, redundant_fields,
    redundant_fields_into, walk_free, walk_records, walk_unproven, FieldPos, FieldSpec, PageGeom,
    RecHeader, RecordError, RecordKind, Specs, REC_N_NEW_EXTRA_BYTES, REC_STATUS_INSTANT,
    REC_STATUS_NODE_PTR, REC_STATUS_ORDINARY,
};
use crate::innodb::types::{decode_value_into, fixed_len, max_len_and_big};
use crate::schema::{Column, IndexField, TableDef};

/// Where a record was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordOrigin {
    /// On the page's record list (live, possibly delete-marked).
    Live,
    /// On the page's free list: purged, but its bytes still present.
    Free,
}

/// One column that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnFailure {
    /// Index into [`TableDef::columns`].
    pub column: usize,
    pub reason: String,
}

/// One decoded record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Values in [`TableDef::columns`] order; `None` = NULL (also for the
    /// columns listed in `failed`).
    pub values: Vec<Option<String>>,
    /// The columns that failed; empty for a full row.
    pub failed: Vec<ColumnFailure>,
    pub delete_marked: bool,
    pub origin: RecordOrigin,
    /// The raw bytes of the key fields (each prefixed by its 4-byte length),
    /// for deduplication across page copies.
    pub key: Vec<u8>,
    /// DB_TRX_ID, when the layout has it.
    pub trx_id: Option<u64>,
    pub heap_no: u16,
    /// Offset of the record origin in the page.
    pub offset: usize,
}

impl Row {
    /// Every column decoded.
    pub fn is_full(&self) -> bool {
        self.failed.is_empty()
    }
}

/// MariaDB's instant metadata record, when this page holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstantMetadata {
    /// The stored default of each column (index into [`TableDef::columns`]):
    /// `None` = the metadata record does not hold that column,
    /// `Some(None)` = NULL, `Some(Some(bytes))` = the stored value.
    pub defaults: Vec<Option<Option<Vec<u8>>>>,
    /// MariaDB 10.4+ "alter" metadata (instant DROP/reorder): the record
    /// also holds a metadata BLOB with the column mapping.
    pub alter: bool,
}

/// Why a page yields no records at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("not an index page with valid infimum/supremum and heap")]
    NotIndex,
    #[error("not a leaf page (level {0})")]
    NotLeaf(u16),
    #[error("the page's record format (compact={page}) differs from the table's")]
    FormatMismatch { page: bool },
}

/// Everything found on one leaf page.
#[derive(Debug, Clone, Default)]
pub struct PageRows {
    pub rows: Vec<Row>,
    /// Live-list records that failed the structural checks.
    pub skipped_live: usize,
    /// Free-list records that failed the checks (often partly overwritten).
    pub skipped_free: usize,
    /// Why the live list walk stopped early, if it did (records after the
    /// break are lost from this page copy).
    pub list_broken: Option<String>,
    /// PAGE_N_RECS from the header, to compare with what was found.
    pub n_recs_header: u16,
    pub metadata: Option<InstantMetadata>,
    pub error: Option<PageError>,
}

/// Where one value is in [`TextRows::text`], or NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cell {
    start: u32,
    end: u32,
}

const NULL_CELL: Cell = Cell {
    start: u32::MAX,
    end: u32::MAX,
};

/// `start` of a cell holding a [`Deferred`] value (`end` = its index in
/// [`TextRows::deferred`]); text cells end below it.
const DEFERRED_START: u32 = u32::MAX - 1;

/// One non-NULL value of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// Its CSV text.
    Text(&'a str),
    /// An off-page value too large to hold, written by streaming it.
    Deferred(&'a Deferred),
}

impl<'a> Value<'a> {
    /// The text of a [`Value::Text`].
    pub fn text(self) -> Option<&'a str> {
        match self {
            Value::Text(s) => Some(s),
            Value::Deferred(_) => None,
        }
    }
}

/// Decoded text values of many rows in one buffer: no `String` per value.
/// Row `r`, column `c` is a range of `text` (or NULL).
#[derive(Debug, Clone, Default)]
pub struct TextRows {
    ncols: usize,
    nrows: usize,
    text: String,
    cells: Vec<Cell>,
    deferred: Vec<Deferred>,
}

impl TextRows {
    pub fn new(ncols: usize) -> TextRows {
        TextRows {
            ncols,
            ..TextRows::default()
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.nrows
    }

    pub fn is_empty(&self) -> bool {
        self.nrows == 0
    }

    /// Row `r` (panics when out of range, like slice indexing).
    pub fn row(&self, r: usize) -> RowView<'_> {
        assert!(r < self.nrows, "row {r} of {}", self.nrows);
        RowView {
            text: &self.text,
            cells: &self.cells[r * self.ncols..(r + 1) * self.ncols],
            deferred: &self.deferred,
        }
    }

    /// Makes column `c` of row `r` NULL.
    pub fn set_null(&mut self, r: usize, c: usize) {
        if r < self.nrows && c < self.ncols {
            self.cells[r * self.ncols + c] = NULL_CELL;
        }
    }

    /// Appends a row of values (`None` = NULL; missing columns are NULL,
    /// extra ones ignored); returns its index.
    pub fn push_row<'v>(&mut self, values: impl IntoIterator<Item = Option<Value<'v>>>) -> usize {
        let r = self.push_null_row();
        for (c, v) in values.into_iter().take(self.ncols).enumerate() {
            match v {
                None => {}
                Some(Value::Text(v)) => {
                    let start = self.text.len() as u32;
                    self.text.push_str(v);
                    self.cells[r * self.ncols + c] = Cell {
                        start,
                        end: self.text.len() as u32,
                    };
                }
                Some(Value::Deferred(d)) => self.put_deferred(r * self.ncols + c, d.clone()),
            }
        }
        r
    }

    /// Points `cell` at the deferred value `d`.
    fn put_deferred(&mut self, cell: usize, d: Deferred) {
        self.cells[cell] = Cell {
            start: DEFERRED_START,
            end: self.deferred.len() as u32,
        };
        self.deferred.push(d);
    }

    /// Bytes of memory the rows hold (text, cells, deferred values).
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity()
            + self.cells.capacity() * std::mem::size_of::<Cell>()
            + self.deferred.capacity() * std::mem::size_of::<Deferred>()
            + self.deferred.iter().map(|d| d.local.len()).sum::<usize>()
    }

    /// Appends a row of NULLs; returns its index.
    fn push_null_row(&mut self) -> usize {
        self.cells.resize(self.cells.len() + self.ncols, NULL_CELL);
        self.nrows += 1;
        self.nrows - 1
    }

    /// Removes the rows from `nrows` on and the deferred values from
    /// `deferred` on.
    fn truncate(&mut self, nrows: usize, deferred: usize) {
        self.nrows = nrows;
        self.cells.truncate(nrows * self.ncols);
        self.deferred.truncate(deferred);
    }
}

/// One row of a [`TextRows`]: values in column order, `None` = NULL.
#[derive(Debug, Clone, Copy)]
pub struct RowView<'a> {
    text: &'a str,
    cells: &'a [Cell],
    deferred: &'a [Deferred],
}

impl<'a> RowView<'a> {
    /// Number of columns.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The value of column `c`, `None` for NULL (or past the last column).
    pub fn get(&self, c: usize) -> Option<Value<'a>> {
        self.value(*self.cells.get(c)?)
    }

    fn value(&self, cell: Cell) -> Option<Value<'a>> {
        match cell.start {
            u32::MAX => None,
            DEFERRED_START => self.deferred.get(cell.end as usize).map(Value::Deferred),
            s => self
                .text
                .get(s as usize..cell.end as usize)
                .map(Value::Text),
        }
    }

    /// The text of column `c` as bytes (UTF-8); `None` for NULL, a
    /// [`Value::Deferred`], or past the last column.
    pub fn text_bytes(&self, c: usize) -> Option<&'a [u8]> {
        let cell = *self.cells.get(c)?;
        if cell.start >= DEFERRED_START {
            return None;
        }
        self.text
            .as_bytes()
            .get(cell.start as usize..cell.end as usize)
    }

    /// The values in column order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Option<Value<'a>>> + 'a {
        let v = *self;
        self.cells.iter().map(move |&cell| v.value(cell))
    }

    /// Whether a value is [`Value::Deferred`].
    pub fn has_deferred(&self) -> bool {
        !self.deferred.is_empty() && self.cells.iter().any(|c| c.start == DEFERRED_START)
    }

    /// The values as owned strings. Deferred values (made only by a
    /// decoder its page source asks to defer, see
    /// [`PageSource::defer_values_over`]) come out as `None`: read those
    /// with [`Deferred::text`].
    pub fn to_values(&self) -> Vec<Option<String>> {
        self.iter()
            .map(|v| match v {
                Some(Value::Text(s)) => Some(s.to_string()),
                _ => None,
            })
            .collect()
    }
}

impl PartialEq for RowView<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

/// One record of a [`PageText`] (its values are the same row of
/// [`PageText::values`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordInfo {
    /// End of this record's key bytes in the page's key buffer.
    key_end: u32,
    /// End of this record's failures in the page's failure list.
    fail_end: u32,
    /// DB_TRX_ID, when the layout has it.
    pub trx_id: Option<u64>,
    /// Offset of the record origin in the page.
    pub offset: u32,
    pub heap_no: u16,
    pub delete_marked: bool,
    pub origin: RecordOrigin,
}

/// Everything found on one leaf page, with the values of all its records in
/// one [`TextRows`]: what [`decode_leaf_page`] returns, without a `String`
/// per value or a `Vec` per record.
#[derive(Debug, Clone, Default)]
pub struct PageText {
    /// Values of record `i` are `values.row(i)`.
    pub values: TextRows,
    pub records: Vec<RecordInfo>,
    keys: Vec<u8>,
    failures: Vec<ColumnFailure>,
    /// The text of `values` while the page is decoded, as bytes (checked
    /// to be UTF-8 once, when it moves into `values`: [`PageText::finish`]).
    raw: Vec<u8>,
    /// Live-list records that failed the structural checks.
    pub skipped_live: usize,
    /// Free-list records that failed the checks (often partly overwritten).
    pub skipped_free: usize,
    /// Why the live list walk stopped early, if it did.
    pub list_broken: Option<String>,
    /// PAGE_N_RECS from the header.
    pub n_recs_header: u16,
    pub metadata: Option<InstantMetadata>,
    pub error: Option<PageError>,
    /// Bytes of the record heap that the live records, sized by the table's
    /// layout, and PAGE_GARBAGE leave unaccounted for (negative: claimed
    /// twice). `Some` = the layout does not fit; no record was kept.
    pub heap_mismatch: Option<i64>,
}

impl PageText {
    /// Appends one key field of the record being read to the key buffer
    /// (its length as 4 bytes big-endian, then its bytes: see [`key`]).
    ///
    /// [`key`]: PageText::key
    fn push_key_field(&mut self, b: &[u8]) {
        self.keys.extend_from_slice(&(b.len() as u32).to_be_bytes());
        self.keys.extend_from_slice(b);
    }

    /// The raw bytes of record `i`'s key fields (each prefixed by its 4-byte
    /// length), for deduplication across page copies.
    pub fn key(&self, i: usize) -> &[u8] {
        let start = if i == 0 {
            0
        } else {
            self.records[i - 1].key_end
        };
        &self.keys[start as usize..self.records[i].key_end as usize]
    }

    /// The columns of record `i` that failed; empty for a full row.
    pub fn failures(&self, i: usize) -> &[ColumnFailure] {
        let start = if i == 0 {
            0
        } else {
            self.records[i - 1].fail_end
        };
        &self.failures[start as usize..self.records[i].fail_end as usize]
    }

    /// Bytes of memory the page's decoded records hold.
    pub fn heap_bytes(&self) -> usize {
        self.values.heap_bytes()
            + self.records.capacity() * std::mem::size_of::<RecordInfo>()
            + self.keys.capacity()
            + self.failures.capacity() * std::mem::size_of::<ColumnFailure>()
            + self
                .failures
                .iter()
                .map(|f| f.reason.capacity())
                .sum::<usize>()
    }

    /// Every column of record `i` decoded.
    pub fn is_full(&self, i: usize) -> bool {
        self.failures(i).is_empty()
    }

    /// The records as [`Row`]s with owned values.
    pub fn to_rows(&self) -> Vec<Row> {
        (0..self.records.len())
            .map(|i| {
                let r = &self.records[i];
                Row {
                    values: self.values.row(i).to_values(),
                    failed: self.failures(i).to_vec(),
                    delete_marked: r.delete_marked,
                    origin: r.origin,
                    key: self.key(i).to_vec(),
                    trx_id: r.trx_id,
                    heap_no: r.heap_no,
                    offset: r.offset as usize,
                }
            })
            .collect()
    }

    /// Where the next record will start.
    fn mark(&self) -> Mark {
        Mark {
            rows: self.records.len(),
            text: self.raw.len(),
            deferred: self.values.deferred.len(),
            keys: self.keys.len(),
            failures: self.failures.len(),
        }
    }

    /// The page is decoded: its text moves into `values`.
    fn finish(mut self) -> PageText {
        self.values.text = crate::innodb::types::into_string(std::mem::take(&mut self.raw));
        self
    }

    /// Removes every record from `m` on.
    fn rollback(&mut self, m: Mark) {
        self.records.truncate(m.rows);
        self.values.truncate(m.rows, m.deferred);
        self.raw.truncate(m.text);
        self.keys.truncate(m.keys);
        self.failures.truncate(m.failures);
    }
}

/// The sizes of a [`PageText`]'s buffers at one point.
#[derive(Debug, Clone, Copy)]
struct Mark {
    rows: usize,
    text: usize,
    deferred: usize,
    keys: usize,
    failures: usize,
}

/// Physical field of the clustered layout, resolved.
struct PhysField<'t> {
    spec: FieldSpec,
    kind: PhysKind<'t>,
    is_key: bool,
}

enum PhysKind<'t> {
    Column {
        idx: usize,
        col: &'t Column,
        prefix: bool,
    },
    Dropped(&'t Column),
    RowId,
    TrxId,
    RollPtr,
}

/// The record field a column (or its first `prefix` bytes) takes.
pub fn column_spec(col: &Column, compact: bool, prefix: Option<u32>) -> FieldSpec {
    let (max_len, big) = max_len_and_big(col);
    let mut fixed = fixed_len(col, compact);
    let mut max = max_len.max(fixed.unwrap_or(0) as u64);
    if let Some(p) = prefix {
        fixed = fixed.map(|f| f.min(p as usize));
        max = max.min(u64::from(p));
    }
    FieldSpec {
        fixed_len: fixed,
        nullable: col.nullable,
        big,
        max_len: max,
    }
}

fn sys_spec(len: usize) -> FieldSpec {
    FieldSpec {
        fixed_len: Some(len),
        nullable: false,
        big: false,
        max_len: len as u64,
    }
}

fn layout<'t>(table: &'t TableDef, compact: bool) -> Result<Vec<PhysField<'t>>, String> {
    let mut out = Vec::with_capacity(table.clustered.len());
    for (i, f) in table.clustered.iter().enumerate() {
        let is_key = i < table.n_key_fields;
        let pf = match *f {
            IndexField::Column { col, prefix_len } => {
                let c = table
                    .columns
                    .get(col)
                    .ok_or_else(|| format!("clustered field {i} names column {col}"))?;
                PhysField {
                    spec: column_spec(c, compact, prefix_len),
                    kind: PhysKind::Column {
                        idx: col,
                        col: c,
                        prefix: prefix_len.is_some(),
                    },
                    is_key,
                }
            }
            IndexField::DroppedColumn { col } => {
                let c = table
                    .dropped_columns
                    .get(col)
                    .ok_or_else(|| format!("clustered field {i} names dropped column {col}"))?;
                PhysField {
                    spec: column_spec(c, compact, None),
                    kind: PhysKind::Dropped(c),
                    is_key,
                }
            }
            IndexField::RowId => PhysField {
                spec: sys_spec(6),
                kind: PhysKind::RowId,
                is_key,
            },
            IndexField::TrxId => PhysField {
                spec: sys_spec(6),
                kind: PhysKind::TrxId,
                is_key,
            },
            IndexField::RollPtr => PhysField {
                spec: sys_spec(7),
                kind: PhysKind::RollPtr,
                is_key,
            },
        };
        out.push(pf);
    }
    Ok(out)
}

fn col_of<'t>(p: &PhysField<'t>) -> Option<&'t Column> {
    match p.kind {
        PhysKind::Column { col, .. } => Some(col),
        PhysKind::Dropped(c) => Some(c),
        _ => None,
    }
}

/// Number of fields every record holds ("core" fields): the fields before
/// the first instantly added column.
fn n_core_fields(table: &TableDef, phys: &[PhysField]) -> usize {
    let n_sys = table.n_key_fields + 2;
    if let Some(n) = table.instant_cols_before {
        return (n_sys + n as usize).min(phys.len());
    }
    phys.iter()
        .position(|p| col_of(p).is_some_and(|c| c.instant_default.is_some()) && !p.is_key)
        .unwrap_or(phys.len())
}

/// Physical fields of a MySQL 8.0.29+ record of row version `v`.
fn version_fields<'a, 't>(phys: &'a [PhysField<'t>], v: u32) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..phys.len())
        .filter(|&i| match col_of(&phys[i]) {
            Some(c) => c.version_added.unwrap_or(0) <= v && c.version_dropped.is_none_or(|d| d > v),
            None => true,
        })
        .collect();
    idx.sort_by_key(|&i| {
        col_of(&phys[i])
            .and_then(|c| c.physical_pos)
            .map(|p| p as usize)
            .unwrap_or(i)
    });
    idx
}

struct Ctx<'a, 't> {
    page: &'a [u8],
    g: PageGeom,
    table: &'t TableDef,
    phys: Vec<PhysField<'t>>,
    /// `phys[i].spec` for every i.
    specs: &'a [FieldSpec],
    /// The first `n_core` of `specs`: the fields of most records.
    core: Specs<'a>,
    n_core: usize,
    versioned: bool,
    pages: &'a dyn PageSource,
    metadata: Option<InstantMetadata>,
    /// Off-page values longer than this are not assembled ([`Deferred`]).
    defer_over: Option<u64>,
    /// Every column that is not virtual is a whole field of the layout: a
    /// record holding every field of the layout holds every column.
    complete: bool,
}

/// Index into `phys` of each field of a record (`usize::MAX`: MariaDB's
/// metadata BLOB).
enum FieldMap {
    /// Field `k` is physical field `k`, for the first `n` fields.
    Identity(usize),
    Map(Vec<usize>),
}

impl FieldMap {
    fn len(&self) -> usize {
        match self {
            FieldMap::Identity(n) => *n,
            FieldMap::Map(m) => m.len(),
        }
    }

    fn get(&self, k: usize) -> Option<usize> {
        match self {
            FieldMap::Identity(n) => (k < *n).then_some(k),
            FieldMap::Map(m) => m.get(k).copied(),
        }
    }
}

/// A parsed record: which physical fields it holds, and where.
struct Parsed {
    header: RecHeader,
    /// First byte of the record and one past its last data byte.
    start: usize,
    end: usize,
    /// This record's entries of the page's field list.
    fields: std::ops::Range<usize>,
    map: FieldMap,
    kind: RecordKind,
    alter_metadata: bool,
}

impl Parsed {
    /// (field, index into `phys`) of each field, from the page's field list.
    fn fields<'s>(&'s self, all: &'s [FieldPos]) -> impl Iterator<Item = (&'s FieldPos, usize)> {
        all[self.fields.clone()]
            .iter()
            .enumerate()
            .map_while(|(k, f)| Some((f, self.map.get(k)?)))
    }
}

impl Ctx<'_, '_> {
    /// Every data byte of the record is zero: MariaDB clears the data of a
    /// purged record (its header stays). No record version is all zeros:
    /// its DB_ROLL_PTR is never zero.
    fn cleared(&self, p: &Parsed) -> bool {
        self.page
            .get(p.header.origin..p.end)
            .is_some_and(|d| !d.is_empty() && d.iter().all(|&x| x == 0))
    }

    /// Parses the record at `h`, appending its fields to `all`.
    fn parse(&self, h: &RecHeader, all: &mut Vec<FieldPos>) -> Result<Parsed, RecordError> {
        let o = h.origin;
        let bad = |what: String| RecordError::Bad { origin: o, what };
        let limit = self.g.heap_top;
        let first = all.len();
        if !self.g.compact {
            let (start, end) = redundant_fields_into(self.page, h, limit, all)?;
            let n = all.len() - first;
            let min_rec = h.min_rec();
            // MariaDB REDUNDANT metadata record: min_rec flag; with the
            // deleted flag, one extra field (the metadata BLOB).
            let alter = min_rec && h.deleted();
            let n_phys = if alter { n.saturating_sub(1) } else { n };
            if n_phys > self.phys.len() || n_phys < self.n_core.min(self.table.n_key_fields + 2) {
                all.truncate(first);
                return Err(bad(format!("{n} fields, layout has {}", self.phys.len())));
            }
            let map = if alter {
                let mut map: Vec<usize> = (0..n_phys).collect();
                let at = self.table.n_key_fields + 2;
                map.insert(at.min(map.len()), usize::MAX);
                FieldMap::Map(map)
            } else {
                FieldMap::Identity(n_phys)
            };
            let kind = if min_rec {
                RecordKind::Metadata
            } else {
                RecordKind::Leaf
            };
            return Ok(Parsed {
                header: *h,
                start,
                end,
                fields: first..all.len(),
                map,
                kind,
                alter_metadata: alter,
            });
        }
        if h.status == REC_STATUS_NODE_PTR {
            return Err(bad("node pointer record on a leaf page".into()));
        }
        let extra = compact_extra(self.page, h, true)?;
        let mut alter = false;
        let map = if let Some(n_add) = extra.mariadb_n_fields_rel {
            let n = self.n_core + 1 + n_add;
            if h.min_rec() && h.deleted() {
                // 10.4+ alter metadata: the BLOB field follows DB_ROLL_PTR.
                alter = true;
                let n_phys = n - 1;
                if n_phys > self.phys.len() {
                    return Err(bad(format!("metadata with {n} fields")));
                }
                FieldMap::Identity(n_phys)
            } else {
                if n > self.phys.len() {
                    return Err(bad(format!(
                        "instant record with {n} fields, layout has {}",
                        self.phys.len()
                    )));
                }
                FieldMap::Identity(n)
            }
        } else if let Some(v) = extra.version {
            FieldMap::Map(version_fields(&self.phys, u32::from(v)))
        } else if let Some(n) = extra.mysql_n_fields {
            if n > self.phys.len() || n < self.table.n_key_fields + 2 {
                return Err(bad(format!("instant record with {n} fields")));
            }
            FieldMap::Identity(n)
        } else if self.versioned {
            let mut v = version_fields(&self.phys, 0);
            v.truncate(self.n_core);
            FieldMap::Map(v)
        } else {
            FieldMap::Identity(self.n_core)
        };
        let map = match map {
            FieldMap::Map(m) if m.iter().enumerate().all(|(k, &i)| k == i) => {
                FieldMap::Identity(m.len())
            }
            m => m,
        };
        // The specs of the fields this record holds: a prefix of the
        // layout's unless the record's fields are mapped.
        let (map, own_specs) = match map {
            FieldMap::Identity(n) if alter => {
                let mut map: Vec<usize> = (0..n).collect();
                let mut specs: Vec<FieldSpec> = map.iter().map(|&i| self.phys[i].spec).collect();
                let at = (self.table.n_key_fields + 2).min(specs.len());
                // The metadata BLOB reference: 20 bytes with no length byte
                // and no null bit (rec_init_offsets_comp_ordinary).
                specs.insert(at, sys_spec(EXTERN_REF_SIZE));
                map.insert(at, usize::MAX);
                (FieldMap::Map(map), Some(specs))
            }
            FieldMap::Identity(n) => (FieldMap::Identity(n), None),
            FieldMap::Map(m) => {
                let specs = m.iter().map(|&i| self.phys[i].spec).collect();
                (FieldMap::Map(m), Some(specs))
            }
        };
        let specs = match &own_specs {
            Some(s) => Specs::new(s),
            None if map.len() == self.core.fields().len() => self.core,
            None => Specs::new(&self.specs[..map.len()]),
        };
        let (start, end) = compact_fields_into(self.page, h, extra.size, specs, limit, all)?;
        let kind = if h.min_rec() && h.status == REC_STATUS_INSTANT {
            RecordKind::Metadata
        } else {
            RecordKind::Leaf
        };
        Ok(Parsed {
            header: *h,
            start,
            end,
            fields: first..all.len(),
            map,
            kind,
            alter_metadata: alter,
        })
    }

    /// The full bytes of a field (following an off-page reference).
    fn field_bytes(&self, f: &FieldPos) -> Result<Option<Cow<'_, [u8]>>, String> {
        match *f {
            FieldPos::Null => Ok(None),
            FieldPos::Inline { .. } => Ok(f.bytes(self.page).map(Cow::Borrowed)),
            FieldPos::External { .. } => {
                let b = f.bytes(self.page).ok_or("field outside the page")?;
                let (local, r) = b.split_at(b.len() - EXTERN_REF_SIZE);
                let r = ExternRef::parse(r).ok_or("short external reference")?;
                let ext = read_extern(&r, self.pages).map_err(|e| e.to_string())?;
                let mut v = Vec::with_capacity(local.len() + ext.len());
                v.extend_from_slice(local);
                v.extend_from_slice(&ext);
                Ok(Some(Cow::Owned(v)))
            }
        }
    }

    /// An off-page field of `col` longer than the decoder's limit, proven
    /// ([`Deferred::check`]) but not assembled; `None` when the field is
    /// to be read whole.
    fn deferrable(&self, f: &FieldPos, col: &Column) -> Option<Result<Deferred, String>> {
        let limit = self.defer_over?;
        if !matches!(f, FieldPos::External { .. }) {
            return None;
        }
        let form = Form::of(col)?;
        let b = f.bytes(self.page)?;
        let (local, r) = b.split_at(b.len().checked_sub(EXTERN_REF_SIZE)?);
        let r = ExternRef::parse(r)?;
        if (local.len() as u64).saturating_add(r.len) <= limit || !form.defers(&r, self.pages) {
            return None;
        }
        Some(Deferred::check(local, r, col, form, self.pages))
    }

    fn metadata_of(&self, p: &Parsed, all: &[FieldPos]) -> InstantMetadata {
        let mut defaults = vec![None; self.table.columns.len()];
        for (f, pi) in p.fields(all) {
            if let Some(PhysField {
                kind:
                    PhysKind::Column {
                        idx, prefix: false, ..
                    },
                ..
            }) = self.phys.get(pi)
            {
                if let Ok(v) = self.field_bytes(f) {
                    defaults[*idx] = Some(v.map(Cow::into_owned));
                }
            }
        }
        InstantMetadata {
            defaults,
            alter: p.alter_metadata,
        }
    }

    /// Decodes record `p` into `out` (values, key, failures, record info).
    /// `have` is scratch space.
    fn row_into(
        &self,
        p: &Parsed,
        all: &[FieldPos],
        origin: RecordOrigin,
        values: bool,
        out: &mut PageText,
        have: &mut Vec<bool>,
    ) {
        let h = &p.header;
        let ncols = self.table.columns.len();
        // Which columns the record holds, unless it holds every field of a
        // layout that has every column.
        let all_fields = matches!(p.map, FieldMap::Identity(n) if n == self.phys.len());
        let track = values && !(self.complete && all_fields);
        if track {
            have.clear();
            have.resize(ncols, false);
        }
        let r = out.values.push_null_row();
        let base = r * out.values.ncols;
        let mut trx_id = None;
        for (f, pi) in p.fields(all) {
            let Some(pf) = self.phys.get(pi) else {
                continue;
            };
            if pf.is_key {
                out.push_key_field(f.bytes(self.page).unwrap_or(&[]));
            }
            match pf.kind {
                PhysKind::TrxId => {
                    if let Some(b) = f.bytes(self.page) {
                        trx_id = Some(b.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)));
                    }
                }
                PhysKind::Column {
                    idx,
                    col,
                    prefix: false,
                } if values => {
                    if track {
                        have[idx] = true;
                    }
                    let bytes = match *f {
                        FieldPos::Inline { start, len } => {
                            // Most values: decoded from the page in place.
                            if let Some(b) = crate::bytes::slice(self.page, start, len) {
                                if let Err(e) = put_value(out, base + idx, col, b) {
                                    out.failures.push(ColumnFailure {
                                        column: idx,
                                        reason: e,
                                    });
                                }
                                continue;
                            }
                            Ok(None)
                        }
                        FieldPos::Null => Ok(None),
                        FieldPos::External { .. } => {
                            if let Some(d) = self.deferrable(f, col) {
                                match d {
                                    Ok(d) => out.values.put_deferred(base + idx, d),
                                    Err(reason) => out.failures.push(ColumnFailure {
                                        column: idx,
                                        reason,
                                    }),
                                }
                                continue;
                            }
                            self.field_bytes(f)
                        }
                    };
                    match bytes {
                        Ok(None) => {
                            if !col.nullable {
                                out.failures.push(ColumnFailure {
                                    column: idx,
                                    reason: "NULL in a NOT NULL column".into(),
                                });
                            }
                        }
                        Ok(Some(b)) => {
                            if let Err(e) = put_value(out, base + idx, col, &b) {
                                out.failures.push(ColumnFailure {
                                    column: idx,
                                    reason: e,
                                });
                            }
                        }
                        Err(e) => out.failures.push(ColumnFailure {
                            column: idx,
                            reason: e,
                        }),
                    }
                }
                _ => {}
            }
        }
        // Columns the record does not hold: instantly added after it was written.
        for (idx, col) in self.table.columns.iter().enumerate() {
            if !track || have[idx] || col.is_virtual {
                continue;
            }
            let from_meta = || {
                self.metadata
                    .as_ref()
                    .and_then(|m| m.defaults.get(idx))
                    .and_then(Option::as_ref)
            };
            match col.instant_default.as_ref().or_else(from_meta) {
                Some(None) => {}
                Some(Some(b)) => {
                    if let Err(e) = put_value(out, base + idx, col, b) {
                        out.failures.push(ColumnFailure {
                            column: idx,
                            reason: format!("instant default: {e}"),
                        });
                    }
                }
                None => out.failures.push(ColumnFailure {
                    column: idx,
                    reason: "column missing from the record and no instant default known".into(),
                }),
            }
        }
        // Keys and failures of one page, record offsets within a page:
        // all far below 4 GiB.
        out.records.push(RecordInfo {
            key_end: out.keys.len() as u32,
            fail_end: out.failures.len() as u32,
            trx_id,
            offset: h.origin as u32,
            heap_no: h.heap_no,
            delete_marked: h.deleted(),
            origin,
        });
    }
}

/// Decodes one value into the page's text and points `cell` at it.
#[inline]
fn put_value(out: &mut PageText, cell: usize, col: &Column, b: &[u8]) -> Result<(), String> {
    let start = out.raw.len();
    decode_value_into(col, b, &mut out.raw).map_err(|e| e.to_string())?;
    let end = out.raw.len();
    match (u32::try_from(start), u32::try_from(end)) {
        (Ok(start), Ok(end)) if end < DEFERRED_START => {
            out.values.cells[cell] = Cell { start, end };
            Ok(())
        }
        _ => {
            out.raw.truncate(start);
            Err("the page's decoded text exceeds 4 GiB".into())
        }
    }
}

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

/// MariaDB 10.3+ instant ALTER TABLE: the layout of a table's records, read
/// from the clustered index root (`FIL_PAGE_TYPE_INSTANT` with the number of
/// "core" fields in PAGE_INSTANT) and the metadata record on the leftmost
/// leaf page (defaults of instantly added columns; with instant DROP or
/// reorder (10.4+), a BLOB mapping each physical field to a column).
///
/// Returns `Ok(None)` when the root says the table is not instant, or
/// `Ok(Some(def))`: `table` with `clustered` in physical order (dropped
/// columns as [`IndexField::DroppedColumn`]), `instant_cols_before` set to
/// the core field count and each added column's `instant_default`.
///
/// Sources (facts only): MariaDB `btr0cur.cc` btr_cur_instant_init_low,
/// `page0page.h` page_get_instant, `dict0mem.cc` deserialise_columns.
pub fn mariadb_instant_layout(
    table: &TableDef,
    root: &[u8],
    leftmost_leaf: &[u8],
    pages: &dyn PageSource,
) -> Result<Option<TableDef>, String> {
    use crate::bytes::{be_u16, be_u32};
    use crate::innodb::fil::{FIL_PAGE_DATA, FIL_PAGE_TYPE, FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB};
    use crate::innodb::page_header::PAGE_DIRECTION;
    use crate::innodb::record::{compact_header, redundant_header};

    if be_u16(root, FIL_PAGE_TYPE) != Some(FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB) {
        return Ok(None);
    }
    let n_core =
        usize::from(be_u16(root, FIL_PAGE_DATA + PAGE_DIRECTION).ok_or("short root")? >> 3);
    let n_sys = table.n_key_fields + 2;
    if n_core < n_sys || n_core > crate::innodb::record::REC_MAX_N_FIELDS {
        return Err(format!("root says {n_core} core fields"));
    }
    let g = PageGeom::parse(leftmost_leaf).ok_or("leftmost leaf is not an index page")?;
    if g.level != 0 {
        return Err("leftmost leaf is not a leaf".into());
    }
    let inf = if g.compact {
        compact_header(leftmost_leaf, g.infimum)
    } else {
        redundant_header(leftmost_leaf, g.infimum)
    }
    .ok_or("infimum unreadable")?;
    let h = if g.compact {
        compact_header(leftmost_leaf, inf.next)
    } else {
        redundant_header(leftmost_leaf, inf.next)
    }
    .ok_or("first record unreadable")?;
    if !h.min_rec() {
        return Err("first record of the leftmost leaf is not the metadata record".into());
    }
    let mut def = table.clone();
    def.instant_cols_before = Some((n_core - n_sys) as u32);
    if h.deleted() {
        // 10.4+ metadata: find the BLOB reference after DB_ROLL_PTR.
        let phys = layout(table, g.compact)?;
        let blob = if g.compact {
            let extra = compact_extra(leftmost_leaf, &h, false).map_err(|e| e.to_string())?;
            let n_fields = n_core
                + 1
                + extra
                    .mariadb_n_fields_rel
                    .ok_or("metadata without field count")?;
            // The null bitmap size depends on the layout we are looking for:
            // try each and keep the one whose reference leads to a valid map.
            let mut found = None;
            for nb in 0..=n_fields.div_ceil(8) {
                let mut lens = (h.origin - REC_N_NEW_EXTRA_BYTES - extra.size).checked_sub(nb);
                let mut data = 0usize;
                for p in &phys[..table.n_key_fields] {
                    match p.spec.fixed_len {
                        Some(l) => data += l,
                        None => {
                            let Some(l) = lens.and_then(|l| l.checked_sub(1)) else {
                                break;
                            };
                            let b0 = leftmost_leaf.get(l).copied().unwrap_or(0);
                            lens = Some(l);
                            if p.spec.big && b0 & 0x80 != 0 {
                                lens = l.checked_sub(1);
                                let b1 = lens
                                    .and_then(|l| leftmost_leaf.get(l))
                                    .copied()
                                    .unwrap_or(0);
                                data += (usize::from(b0 & 0x3F) << 8) | usize::from(b1);
                            } else {
                                data += usize::from(b0);
                            }
                        }
                    }
                }
                let at = h.origin + data + 13;
                let Some(r) = crate::bytes::slice(leftmost_leaf, at, EXTERN_REF_SIZE)
                    .and_then(ExternRef::parse)
                else {
                    continue;
                };
                if let Ok(b) = read_extern(&r, pages) {
                    if parse_field_map(&b, n_fields - 1 - n_sys).is_some() {
                        found = Some(b);
                        break;
                    }
                }
            }
            found.ok_or("metadata BLOB not found")?
        } else {
            let raw = redundant_fields(leftmost_leaf, &h, g.heap_top).map_err(|e| e.to_string())?;
            let f = raw.fields.get(n_sys).ok_or("metadata record too short")?;
            let FieldPos::External { .. } = f else {
                return Err("metadata BLOB field is not external".into());
            };
            let b = f
                .bytes(leftmost_leaf)
                .ok_or("metadata field outside page")?;
            let r = ExternRef::parse(&b[b.len() - EXTERN_REF_SIZE..]).ok_or("bad reference")?;
            read_extern(&r, pages).map_err(|e| e.to_string())?
        };
        let n_non_pk = be_u32(&blob, 0).ok_or("short metadata BLOB")? as usize;
        let map = parse_field_map(&blob, n_non_pk).ok_or("bad metadata BLOB")?;
        // Stored (non-virtual) columns by dictionary position.
        let stored: Vec<usize> = (0..table.columns.len())
            .filter(|&i| !table.columns[i].is_virtual)
            .collect();
        let mut clustered: Vec<IndexField> = table.clustered[..n_sys].to_vec();
        def.dropped_columns.clear();
        for e in map {
            match e {
                MapEntry::Column(ind) => {
                    let col = *stored
                        .get(ind)
                        .ok_or(format!("metadata names column {ind}"))?;
                    clustered.push(IndexField::Column {
                        col,
                        prefix_len: None,
                    });
                }
                MapEntry::Dropped {
                    not_null,
                    fixed_len,
                    big,
                } => {
                    let ty = match fixed_len {
                        Some(len) => crate::schema::ColumnType::Binary { len },
                        None if big => crate::schema::ColumnType::Blob,
                        None => crate::schema::ColumnType::VarBinary { len: 255 },
                    };
                    let n = def.dropped_columns.len();
                    def.dropped_columns.push(Column::new(
                        &format!("#dropped{n}"),
                        ty,
                        !not_null,
                        crate::schema::Charset::Binary,
                    ));
                    clustered.push(IndexField::DroppedColumn { col: n });
                }
            }
        }
        def.clustered = clustered;
    }
    // Defaults of the added columns, from the metadata record itself.
    let rows = decode_leaf_page(leftmost_leaf, &def, pages);
    let meta = rows.metadata.ok_or("metadata record did not parse")?;
    let phys_cols: Vec<Option<usize>> = def
        .clustered
        .iter()
        .map(|f| match f {
            IndexField::Column {
                col,
                prefix_len: None,
            } => Some(*col),
            _ => None,
        })
        .collect();
    for (pos, c) in phys_cols.iter().enumerate() {
        if let (true, Some(c)) = (pos >= n_core, c) {
            if let Some(d) = meta.defaults.get(*c).cloned().flatten() {
                def.columns[*c].instant_default = Some(d);
            }
        }
    }
    Ok(Some(def))
}

enum MapEntry {
    Column(usize),
    Dropped {
        not_null: bool,
        fixed_len: Option<u32>,
        big: bool,
    },
}

/// The field map of the 10.4+ metadata BLOB: 4-byte count, then 2 bytes per
/// non-key field (0x8000 dropped, 0x4000 NOT NULL, low bits column index or
/// for dropped fields 0 = variable, 1 = variable with 2-byte lengths,
/// n > 1 = fixed n - 1 bytes).
fn parse_field_map(b: &[u8], want: usize) -> Option<Vec<MapEntry>> {
    let n = crate::bytes::be_u32(b, 0)? as usize;
    if n != want || b.len() != 4 + 2 * n {
        return None;
    }
    (0..n)
        .map(|i| {
            let v = crate::bytes::be_u16(b, 4 + 2 * i)?;
            let ind = u32::from(v & 0x3FFF);
            Some(if v & 0x8000 != 0 {
                MapEntry::Dropped {
                    not_null: v & 0x4000 != 0,
                    fixed_len: (ind > 1).then(|| ind - 1),
                    big: ind == 1,
                }
            } else {
                MapEntry::Column(ind as usize)
            })
        })
        .collect()
}
