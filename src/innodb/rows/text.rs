//! What a decoded leaf page is: its rows and their values, in the shapes the
//! callers read ([`PageText`], [`TextRows`], [`RowView`], and the owned
//! [`Row`]s of [`PageRows`]).
//!
//! The values of all records of a page share one text buffer; a [`Cell`]
//! per value gives its range, NULL, or a [`Deferred`] value. No on-disk
//! format here: these are the crate's own in-memory containers, filled by
//! `values.rs` (each value through [`put_value`], which decodes it with
//! [`crate::innodb::types`]) and the page walk in `mod.rs`.

use crate::innodb::deferred::Deferred;
use crate::innodb::types::decode_value_into;
use crate::schema::Column;

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
    ///
    /// [`TableDef::columns`]: crate::schema::TableDef::columns
    pub column: usize,
    pub reason: String,
}

/// One decoded record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Values in [`TableDef::columns`] order; `None` = NULL (also for the
    /// columns listed in `failed`).
    ///
    /// [`TableDef::columns`]: crate::schema::TableDef::columns
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
    /// The stored default of each column (index into
    /// [`TableDef::columns`](crate::schema::TableDef::columns)):
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
pub(super) struct Cell {
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
    pub(super) ncols: usize,
    nrows: usize,
    text: String,
    pub(super) cells: Vec<Cell>,
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
    pub(super) fn put_deferred(&mut self, cell: usize, d: Deferred) {
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
    pub(super) fn push_null_row(&mut self) -> usize {
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
    ///
    /// [`PageSource::defer_values_over`]: crate::innodb::lob::PageSource::defer_values_over
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
    pub(super) key_end: u32,
    /// End of this record's failures in the page's failure list.
    pub(super) fail_end: u32,
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
///
/// [`decode_leaf_page`]: super::decode_leaf_page
#[derive(Debug, Clone, Default)]
pub struct PageText {
    /// Values of record `i` are `values.row(i)`.
    pub values: TextRows,
    pub records: Vec<RecordInfo>,
    pub(super) keys: Vec<u8>,
    pub(super) failures: Vec<ColumnFailure>,
    /// The text of `values` while the page is decoded, as bytes (checked
    /// to be UTF-8 once, when it moves into `values`: [`PageText::finish`]).
    pub(super) raw: Vec<u8>,
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
    pub(super) fn push_key_field(&mut self, b: &[u8]) {
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
    pub(super) fn mark(&self) -> Mark {
        Mark {
            rows: self.records.len(),
            text: self.raw.len(),
            deferred: self.values.deferred.len(),
            keys: self.keys.len(),
            failures: self.failures.len(),
        }
    }

    /// The page is decoded: its text moves into `values`.
    pub(super) fn finish(mut self) -> PageText {
        self.values.text = crate::innodb::types::into_string(std::mem::take(&mut self.raw));
        self
    }

    /// Removes every record from `m` on.
    pub(super) fn rollback(&mut self, m: Mark) {
        self.records.truncate(m.rows);
        self.values.truncate(m.rows, m.deferred);
        self.raw.truncate(m.text);
        self.keys.truncate(m.keys);
        self.failures.truncate(m.failures);
    }
}

/// The sizes of a [`PageText`]'s buffers at one point.
#[derive(Debug, Clone, Copy)]
pub(super) struct Mark {
    pub(super) rows: usize,
    text: usize,
    deferred: usize,
    keys: usize,
    failures: usize,
}

/// Decodes one value into the page's text and points `cell` at it.
#[inline]
pub(super) fn put_value(
    out: &mut PageText,
    cell: usize,
    col: &Column,
    b: &[u8],
) -> Result<(), String> {
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
