//! Pages → tables → rows: the one place that orchestrates recovery.
//!
//! 1. Schemas, strongest source first: MySQL 8 SDI inside each tablespace,
//!    then the user's `CREATE TABLE`s (`--schema`).
//! 2. Each table is tied to its clustered index: by (space id, index id)
//!    when the schema source knows them, else by trying the table's layout
//!    on the leaf pages of every index nobody claimed and keeping the index
//!    whose records decode cleanly.
//! 3. Rows: the newest good copy of each leaf page gives the live rows
//!    (newest page LSN wins a primary key); delete-marked records, records on
//!    a page's free list and records only on older copies of a page go to
//!    the deleted rows, unless the same key is live. A row with a column that
//!    could not be decoded is partial, never a silently truncated value.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};

use rayon::prelude::*;
use serde::Serialize;

use crate::bytes::{be_u32, be_u64};
use crate::carve::pages::{page_bytes, StorePages};
use crate::carve::store::{IndexSummary, PageStore};
use crate::carve::{PageRecord, Status};
use crate::image::Image;
use crate::innodb::btree::{leaf_level, LeafLinks};
use crate::innodb::checksum::ChecksumKind;
use crate::innodb::fil;
use crate::innodb::lob::PageSource;
use crate::innodb::rows::{
    decode_leaf_page, decode_leaf_page_text, mariadb_instant_layout, PageText, RecordOrigin,
    RowView, TextRows,
};
use crate::innodb::{dict, sdi};
use crate::schema::{ColumnType, SchemaSource, TableDef};

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
}

/// The root page of each index (space id, index id) after MariaDB instant ALTER.
type InstantRoots<'a> = BTreeMap<(u32, u64), &'a PageRecord>;

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
    pub rows_written: usize,
    pub deleted_rows: usize,
    pub partial_rows: usize,
    /// Distinct leaf pages with at least one good copy.
    pub leaf_pages: usize,
    /// Leaf pages found only damaged.
    pub leaf_pages_damaged: usize,
    /// Leaf pages a neighbour names that were not found at all.
    pub leaf_pages_missing: usize,
    /// Records that failed the structural checks of their page.
    pub records_skipped: usize,
    pub notes: Vec<String>,
}

impl TableRecovery {
    /// The values of one row, in column order (`None` = NULL).
    pub fn values(&self, r: RowRef) -> RowView<'_> {
        self.pages[r.page as usize].row(r.rec as usize)
    }

    /// Brings the counts in line with the rows held.
    fn count(&mut self) {
        self.rows_written = self.rows.len();
        self.deleted_rows = self.deleted.len();
        self.partial_rows = self.partial.len();
    }
}

/// The result of a recovery.
#[derive(Debug, Clone, Serialize)]
pub struct Recovery {
    pub tables: Vec<TableRecovery>,
    /// Indexes with leaf records that no schema claimed: pass their table's
    /// CREATE TABLE with `--schema`.
    pub unknown_indexes: Vec<IndexSummary>,
    /// Schemas that could not be tied to any pages.
    pub tables_without_pages: Vec<String>,
    pub schema_errors: Vec<String>,
}

/// Runs recovery on a carved image. Deterministic: the same image gives the
/// same result with any number of threads.
pub fn recover(
    image: &Image,
    store: &PageStore,
    opts: &RecoverOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Recovery {
    let src = StorePages { image, store };
    let mut schema_errors = Vec::new();

    // 1. Schemas, strongest first; one definition per table name.
    let mut defs: Vec<TableDef> = Vec::new();
    for space in store.spaces().iter().filter(|s| s.format == "mysql8-sdi") {
        let page = |n: u32| src.page(space.space_id, n);
        match sdi::tables_from_tablespace(page) {
            Ok(ts) => defs.extend(ts),
            Err(e) => schema_errors.push(format!("SDI of space {}: {e}", space.space_id)),
        }
    }
    defs.extend(opts.user_schemas.iter().cloned());
    defs.sort_by_key(|d| (d.source, d.qualified()));
    let mut seen = BTreeSet::new();
    defs.retain(|d| seen.insert(d.qualified()));
    if !opts.only.is_empty() {
        defs.retain(|d| {
            opts.only
                .iter()
                .any(|o| o == &d.qualified() || o == &d.name)
        });
    }

    // MariaDB instant ALTER roots (type INSTANT), newest good copy per index.
    let mut roots: InstantRoots = InstantRoots::new();
    for p in store.pages.iter().filter(|p| {
        p.is_index()
            && p.page_type == fil::FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB
            && p.status != Status::Damaged
    }) {
        let e = roots.entry((p.space_id, p.index_id)).or_insert(p);
        if p.lsn > e.lsn {
            *e = p;
        }
    }

    // Leaf pages of every index.
    let mut leaves: BTreeMap<(u32, u64), Vec<&PageRecord>> = BTreeMap::new();
    for p in &store.pages {
        if p.is_index() && p.level == 0 && is_btree(p) {
            leaves.entry((p.space_id, p.index_id)).or_default().push(p);
        }
    }

    // The InnoDB data dictionary (MySQL 5.x, MariaDB): names and index ids.
    let dictionary = read_dictionary(image, &src, &leaves);
    let mut uncertain: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let frms = carved_frms(store, image);
    if !dictionary.is_empty() {
        let named: BTreeSet<String> = defs.iter().map(|d| d.qualified()).collect();
        for t in &dictionary {
            let (db, name) = t.db_and_name();
            let base = partition_base(&name);
            if named.contains(&format!("{db}.{base}"))
                || db == "SYS"
                || db.is_empty()
                || t.clustered().is_none()
            {
                continue;
            }
            if !opts.only.is_empty()
                && !opts
                    .only
                    .iter()
                    .any(|o| *o == format!("{db}.{base}") || *o == base)
            {
                continue;
            }
            let dict_def = dict::to_tabledef(t);
            let mut d = match frm_for(t, &frms) {
                // A carved .frm with the same columns: exact types.
                Some(f) => TableDef {
                    db: dict_def.db.clone(),
                    space_id: dict_def.space_id,
                    index_id: dict_def.index_id,
                    row_format: dict_def.row_format.or(f.row_format),
                    source: SchemaSource::DictionaryAndFrm,
                    ..f.clone()
                },
                None => dict_def,
            };
            if d.name != base {
                // A partition: tie the table by name to all its partitions.
                d.name = base.to_string();
                d.index_id = None;
                d.space_id = None;
            }
            if !defs.iter().any(|x| x.qualified() == d.qualified()) {
                if d.source == SchemaSource::Dictionary {
                    uncertain.insert(d.qualified(), dict::uncertain_columns(t));
                }
                defs.push(d);
            }
        }
    }

    // 2. Tie each table to its clustered index (or, for a partitioned
    //    table, one per partition).
    let mut claimed: BTreeSet<(u32, u64)> = BTreeSet::new();
    let mut tied: Vec<(TableDef, Vec<(u32, u64)>)> = Vec::new();
    for d in &defs {
        let mut keys = Vec::new();
        if let Some(ix) = d.index_id {
            keys.push((d.space_id.unwrap_or(u32::MAX), ix));
        } else {
            // By name in the dictionary: the table itself or its partitions.
            for t in &dictionary {
                let (db, name) = t.db_and_name();
                if db == d.db && partition_base(&name) == d.name {
                    if let Some(ix) = t.clustered() {
                        keys.push((t.space, ix.id));
                    }
                }
            }
        }
        keys.retain(|k| leaves.contains_key(k) && !claimed.contains(k));
        claimed.extend(keys.iter().copied());
        tied.push((d.clone(), keys));
    }
    // Tables no source could place: the index whose records fit best, among
    // the indexes the dictionary does not give to another table (and within
    // the table's own tablespace when the dictionary names it).
    let dict_indexes: BTreeSet<(u32, u64)> = dictionary
        .iter()
        .flat_map(|t| t.indexes.iter().map(|i| (i.space, i.id)))
        .collect();
    // Only indexes that can be a clustered index are tried.
    let mut lowest: BTreeMap<u32, u64> = BTreeMap::new();
    for &(space, ix) in leaves.keys().filter(|k| k.1 != u64::MAX) {
        let e = lowest.entry(space).or_insert(ix);
        *e = (*e).min(ix);
    }
    let candidates: Vec<(u32, u64)> = leaves
        .iter()
        .filter(|(k, _)| !claimed.contains(k) && !dict_indexes.contains(k))
        .filter(|(k, pages)| may_be_clustered(pages, lowest.get(&k.0) == Some(&k.1), image))
        .map(|(k, _)| *k)
        .collect();
    // Each table as given, and (when it has temporal columns without
    // fractions) as a MySQL 5.5-era table storing them in the old formats:
    // a CREATE TABLE cannot say which, the records' sizes can.
    let old_variants: Vec<Option<TableDef>> = tied.iter().map(|(d, _)| old_temporal(d)).collect();
    let mut trials: Vec<(usize, bool, (u32, u64))> = Vec::new();
    let mut tried: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, (d, _)) in tied
        .iter()
        .enumerate()
        .filter(|(_, (d, k))| k.is_empty() && d.index_id.is_none())
    {
        let own_space: Option<u32> = dictionary
            .iter()
            .find(|t| {
                let (db, name) = t.db_and_name();
                db == d.db && partition_base(&name) == d.name
            })
            .map(|t| t.space);
        for k in candidates
            .iter()
            .filter(|k| own_space.is_none_or(|s| s == k.0))
        {
            *tried.entry(i).or_default() += 1;
            trials.push((i, false, *k));
            if old_variants[i].is_some() {
                trials.push((i, true, *k));
            }
        }
    }
    let mut fits: Vec<Fit> = trials
        .par_iter()
        .filter_map(|&(i, old, k)| {
            let d = if old {
                old_variants[i].as_ref()?
            } else {
                &tied[i].0
            };
            let named = opts.file_table.as_deref() == Some(d.name.as_str());
            fit(d, &leaves[&k], image, &src).map(|s| (named, s, i, old, k))
        })
        .collect();
    // The best fits are placed first (the table a lone file is named after
    // before any other); each table and each index is placed once.
    fits.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(b.1.partial_cmp(&a.1).unwrap_or(std::cmp::Ordering::Equal))
            .then(a.2.cmp(&b.2))
            .then(a.3.cmp(&b.3))
            .then(a.4.cmp(&b.4))
    });
    let mut placed = BTreeSet::new();
    let mut old_format = BTreeSet::new();
    for (_, _, i, old, k) in fits {
        if placed.contains(&i) || claimed.contains(&k) {
            continue;
        }
        placed.insert(i);
        claimed.insert(k);
        if old {
            if let Some(d) = old_variants[i].clone() {
                tied[i].0 = d;
                old_format.insert(i);
            }
        }
        tied[i].1.push(k);
    }

    // 3. Rows, table by table (pages of a table decoded in parallel).
    let total = tied.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let mut tables: Vec<TableRecovery> = tied
        .iter()
        .enumerate()
        .map(|(i, (def, keys))| {
            let t = if keys.is_empty() {
                let note = match tried.get(&i) {
                    Some(n) => format!(
                        "the records of none of the {n} unclaimed indexes fit this definition: \
                         check that the CREATE TABLE is the one the data was written with \
                         (columns, types, ROW_FORMAT)"
                    ),
                    None => "no pages of this table's clustered index were found".to_string(),
                };
                empty_table(def, &note)
            } else {
                let parts: Vec<TableRecovery> = keys
                    .iter()
                    .map(|k| recover_table(def, &leaves[k], &roots, image, &src))
                    .collect();
                merge_partitions(def, parts)
            };
            let mut t = t;
            if old_format.contains(&i) {
                t.notes.push(
                    "TIME / DATETIME / TIMESTAMP read in the pre-MySQL 5.6.4 formats: the records' sizes fit those"
                        .into(),
                );
            }
            progress(
                done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
                total,
            );
            t
        })
        .collect();
    for t in tables
        .iter_mut()
        .filter(|t| t.source == SchemaSource::Dictionary)
    {
        let cols = uncertain
            .get(&format!("{}.{}", t.db, t.table))
            .cloned()
            .unwrap_or_default();
        if !cols.is_empty() {
            mark_uncertain(t, &cols);
        }
        t.notes.push(
            "decoded from the InnoDB data dictionary alone: DECIMAL, ENUM, SET and similar columns come out as raw \
             bytes; pass the CREATE TABLE with --schema for exact values"
                .into(),
        );
    }
    tables.sort_by(|a, b| (&a.db, &a.table).cmp(&(&b.db, &b.table)));
    let tables_without_pages = tables
        .iter()
        .filter(|t| t.leaf_pages == 0)
        .map(|t| format!("{}.{}", t.db, t.table))
        .collect();
    let unknown_indexes = store
        .indexes()
        .into_iter()
        .filter(|i| {
            i.records > 0
                && !claimed.contains(&(i.space_id, i.index_id))
                && leaves.contains_key(&(i.space_id, i.index_id))
        })
        .filter(|i| !is_internal_index(i))
        .filter(|i| {
            !dictionary.iter().any(|t| {
                t.indexes
                    .iter()
                    .any(|x| x.id == i.index_id && x.space == i.space_id)
            })
        })
        .collect();
    Recovery {
        tables,
        unknown_indexes,
        tables_without_pages,
        schema_errors,
    }
}

/// Table definitions from `.frm` files found by signature (MySQL 5.x,
/// MariaDB). A `.frm` does not hold its table's name.
fn carved_frms(store: &PageStore, image: &Image) -> Vec<TableDef> {
    const MAX_FRM: usize = 1 << 20;
    let mut out: Vec<TableDef> = store
        .frm_offsets
        .par_iter()
        .filter_map(|&off| {
            let b = image.bytes(off, MAX_FRM);
            crate::innodb::frm::parse_frm(&b).ok().map(|(d, _)| d)
        })
        .collect();
    out.dedup();
    out
}

/// The `.frm` definition of a dictionary table: the carved ones with the
/// same column names in the same order, when they all agree on the types.
fn frm_for<'a>(t: &dict::DictTable, frms: &'a [TableDef]) -> Option<&'a TableDef> {
    let matching: Vec<&TableDef> = frms.iter().filter(|f| dict::same_columns(f, t)).collect();
    let first = *matching.first()?;
    matching
        .iter()
        .all(|f| f.columns == first.columns && f.clustered == first.clustered)
        .then_some(first)
}

/// Columns whose type the schema source could only guess: every row that
/// has them goes to the partial rows with those columns NULL.
fn mark_uncertain(t: &mut TableRecovery, cols: &[usize]) {
    let names: Vec<String> = cols
        .iter()
        .filter_map(|&i| t.def.columns.get(i).map(|c| c.name.clone()))
        .collect();
    let reason =
        "type not known from the InnoDB dictionary alone (pass the CREATE TABLE with --schema)"
            .to_string();
    for row in std::mem::take(&mut t.rows) {
        for &i in cols {
            t.pages[row.page as usize].set_null(row.rec as usize, i);
        }
        t.partial.push(PartialRow {
            row,
            failed: names.iter().map(|n| (n.clone(), reason.clone())).collect(),
        });
    }
    let withheld = std::mem::take(&mut t.deleted).len();
    if withheld > 0 {
        t.notes.push(format!(
            "{withheld} deleted rows withheld: they need the table's CREATE TABLE too"
        ));
    }
    t.deleted_rows = 0;
    t.rows_written = 0;
    t.partial_rows = t.partial.len();
    t.notes.push(format!(
        "columns {} need the table's CREATE TABLE: rows written as partial",
        names.join(", ")
    ));
}

/// `logs` for a partition `logs#P#p2016` (MariaDB, MySQL 5.x) or `logs#p#p2016` (MySQL 8).
fn partition_base(name: &str) -> &str {
    name.split_once("#P#")
        .or_else(|| name.split_once("#p#"))
        .map_or(name, |(b, _)| b)
}

/// One table from its partitions' recoveries.
fn merge_partitions(def: &TableDef, mut parts: Vec<TableRecovery>) -> TableRecovery {
    if parts.len() == 1 {
        return parts.pop().expect("one part");
    }
    let mut t = empty_table(def, "");
    t.notes.clear();
    t.notes.push(format!("{} partitions", parts.len()));
    for p in parts {
        let base = t.pages.len() as u32;
        let moved = |r: RowRef| RowRef {
            page: base + r.page,
            rec: r.rec,
        };
        t.rows.extend(p.rows.into_iter().map(moved));
        t.deleted.extend(p.deleted.into_iter().map(moved));
        t.partial.extend(p.partial.into_iter().map(|x| PartialRow {
            row: moved(x.row),
            failed: x.failed,
        }));
        t.pages.extend(p.pages);
        t.leaf_pages += p.leaf_pages;
        t.leaf_pages_damaged += p.leaf_pages_damaged;
        t.leaf_pages_missing += p.leaf_pages_missing;
        t.records_skipped += p.records_skipped;
        t.notes.extend(p.notes);
    }
    t.count();
    t
}

/// Reads the system tables SYS_TABLES..SYS_FIELDS from the system tablespace.
fn read_dictionary(
    image: &Image,
    src: &StorePages,
    leaves: &BTreeMap<(u32, u64), Vec<&PageRecord>>,
) -> Vec<dict::DictTable> {
    let sys = dict::system_tables();
    let mut rows = dict::SysRows::default();
    for (i, def) in sys.iter().enumerate() {
        let Some(pages) = leaves.get(&(0, def.index_id.unwrap_or(0))) else {
            continue;
        };
        let t = recover_table(def, pages, &InstantRoots::new(), image, src);
        let target = match i {
            0 => &mut rows.tables,
            1 => &mut rows.columns,
            2 => &mut rows.indexes,
            _ => &mut rows.fields,
        };
        *target = t.rows.iter().map(|&r| t.values(r).to_values()).collect();
    }
    if rows.tables.is_empty() {
        return Vec::new();
    }
    dict::build(&rows)
}

/// B-tree pages (INDEX, MariaDB's instant root), not SDI or R-tree pages.
fn is_btree(p: &PageRecord) -> bool {
    matches!(
        p.page_type,
        fil::FIL_PAGE_INDEX | fil::FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB
    )
}

/// The system tablespace's own indexes (the data dictionary, change buffer)
/// and SDI indexes are not user tables.
fn is_internal_index(i: &IndexSummary) -> bool {
    i.index_id == u64::MAX || (i.space_id == 0 && i.index_id < 16)
}

/// A table that fits an index's records: (named after the lone file, share
/// of records decoded, table, old temporal formats, index).
type Fit = (bool, f64, usize, bool, (u32, u64));

/// `def` with its TIME / DATETIME / TIMESTAMP columns without fractions in
/// the pre-5.6.4 formats, when it has any.
fn old_temporal(def: &TableDef) -> Option<TableDef> {
    let mut d = def.clone();
    let mut any = false;
    for c in &mut d.columns {
        match &mut c.ty {
            ColumnType::Time { fsp: 0, old_format }
            | ColumnType::DateTime { fsp: 0, old_format }
            | ColumnType::Timestamp { fsp: 0, old_format }
                if !*old_format =>
            {
                *old_format = true;
                any = true;
            }
            _ => {}
        }
    }
    any.then_some(d)
}

/// How well `def` fits the records of these leaf pages: the share of live
/// records that decode completely, when at least one does.
fn fit(def: &TableDef, pages: &[&PageRecord], image: &Image, src: &StorePages) -> Option<f64> {
    let mut sample: Vec<&PageRecord> = pages
        .iter()
        .copied()
        .filter(|p| p.status != Status::Damaged && p.n_recs > 0)
        .collect();
    sample.sort_by_key(|p| (std::cmp::Reverse(p.n_recs), p.offset));
    let (mut total, mut full) = (0usize, 0usize);
    for p in sample.into_iter().take(3) {
        let Some(bytes) = page_bytes(image, p) else {
            continue;
        };
        let pr = decode_leaf_page(&bytes, def, src);
        if pr.error.is_some() {
            return None;
        }
        let live: Vec<_> = pr
            .rows
            .iter()
            .filter(|r| r.origin == RecordOrigin::Live)
            .collect();
        total += live.len() + pr.skipped_live;
        full += live.iter().filter(|r| r.is_full()).count();
    }
    let score = full as f64 / total.max(1) as f64;
    (full > 0 && score >= 0.9).then_some(score)
}

fn empty_table(def: &TableDef, note: &str) -> TableRecovery {
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
        rows_written: 0,
        deleted_rows: 0,
        partial_rows: 0,
        leaf_pages: 0,
        leaf_pages_damaged: 0,
        leaf_pages_missing: 0,
        records_skipped: 0,
        notes: vec![note.to_string()],
    }
}

/// One decoded record, with where it came from.
#[derive(Debug, Clone, Copy)]
struct Found<'a> {
    key: &'a [u8],
    lsn: u64,
    at: RowRef,
    /// Every column decoded.
    full: bool,
    /// DB_TRX_ID: which version of a row is newer.
    trx_id: u64,
    /// On the page's record list (not its free list).
    listed: bool,
}

/// (column name, why it failed) for each failed column of record `rec`.
fn failed_columns(def: &TableDef, page: &PageText, rec: usize) -> Vec<(String, String)> {
    page.failures(rec)
        .iter()
        .map(|f| {
            (
                def.columns
                    .get(f.column)
                    .map_or_else(|| f.column.to_string(), |c| c.name.clone()),
                f.reason.clone(),
            )
        })
        .collect()
}

/// The pages of a tablespace its extent descriptors mark free (`None` when
/// the descriptor pages are not available).
fn free_pages(space_id: u32, src: &StorePages) -> Option<std::collections::HashSet<u32>> {
    let page0 = src.page(space_id, 0)?;
    let flags = crate::innodb::fsp::FspHeader::parse(&page0)?.flags;
    let size = crate::innodb::fsp::sizes_from_flags(flags)?;
    // One descriptor page per physical page size in pages.
    let described = size.zip.unwrap_or(size.logical);
    let free_limit = crate::innodb::fsp::FspHeader::parse(&page0)?.free_limit;
    let mut out = std::collections::HashSet::new();
    let mut base = 0u32;
    while base < free_limit.max(1) {
        let xdes = if base == 0 {
            Some(page0.clone())
        } else {
            src.page(space_id, base)
        };
        let xdes = xdes?;
        out.extend(crate::innodb::fsp::free_pages_in_xdes(
            &xdes,
            base,
            described,
            size.logical,
        )?);
        base = base.checked_add(described)?;
    }
    Some(out)
}

/// A newer good copy of the same page number exists that is not a leaf of
/// `p`'s index: the page was freed and reused, and `p` is stale.
fn reused_since(store: &PageStore, p: &PageRecord) -> bool {
    store
        .copies(p.space_id, p.page_no)
        .filter(|c| c.status != Status::Damaged && c.lsn > p.lsn)
        .any(|c| !(c.index_id == p.index_id && c.level == 0 && is_btree(c)))
}

/// The first `len` logical bytes of a page copy: read in place when the
/// page is stored whole, else the materialised page.
fn page_head<'a>(image: &'a Image, p: &PageRecord, len: usize) -> Option<Cow<'a, [u8]>> {
    if p.status == Status::Ok && p.checksum != ChecksumKind::Compressed {
        Some(image.bytes(p.offset, len))
    } else {
        page_bytes(image, p)
    }
}

/// FIL_PAGE_PREV and FIL_PAGE_NEXT of a page copy.
fn fil_links(image: &Image, p: &PageRecord) -> Option<(u32, u32)> {
    let b = page_head(image, p, fil::FIL_PAGE_NEXT + 4)?;
    Some((
        be_u32(&b, fil::FIL_PAGE_PREV)?,
        be_u32(&b, fil::FIL_PAGE_NEXT)?,
    ))
}

/// Whether an index can be a clustered index, going by PAGE_MAX_TRX_ID:
/// InnoDB sets it only on the pages of secondary indexes (MariaDB also
/// keeps the AUTO_INCREMENT value there on a clustered index's root, so a
/// root page proves nothing unless another index of its tablespace is
/// older, `lowest` = false).
fn may_be_clustered(pages: &[&PageRecord], lowest: bool, image: &Image) -> bool {
    const MAX_TRX: usize = fil::FIL_PAGE_DATA + crate::innodb::page_header::PAGE_MAX_TRX_ID;
    !pages
        .iter()
        .filter(|p| p.status != Status::Damaged)
        .take(16)
        .any(|p| {
            let Some(b) = page_head(image, p, MAX_TRX + 8) else {
                return false;
            };
            let root = be_u32(&b, fil::FIL_PAGE_PREV) == Some(fil::FIL_NULL)
                && be_u32(&b, fil::FIL_PAGE_NEXT) == Some(fil::FIL_NULL);
            be_u64(&b, MAX_TRX).is_some_and(|t| t != 0) && (!root || !lowest)
        })
}

fn recover_table(
    def: &TableDef,
    pages: &[&PageRecord],
    roots: &InstantRoots,
    image: &Image,
    src: &StorePages,
) -> TableRecovery {
    let mut t = empty_table(def, "");
    t.notes.clear();
    let (space_id, index_id) = (pages[0].space_id, pages[0].index_id);
    t.space_id = Some(space_id);
    t.index_id = Some(index_id);

    // MariaDB instant ALTER: the layout comes from the root and the leftmost leaf.
    let mut def = def.clone();
    let layout = roots
        .get(&(space_id, index_id))
        .and_then(|root| mariadb_layout(&def, root, pages, image, src));
    if let Some(layout) = layout {
        match layout {
            Ok(Some(d)) => {
                def = d;
                t.notes.push("MariaDB instant ALTER layout applied".into());
            }
            Ok(None) => {}
            Err(e) => t.notes.push(format!("instant metadata unreadable: {e}")),
        }
    }

    // Copies by page number: the newest good copy first.
    let mut by_no: BTreeMap<u32, Vec<&PageRecord>> = BTreeMap::new();
    for p in pages {
        by_no.entry(p.page_no).or_default().push(p);
    }
    // Leaf pages still part of the index: not marked free by the extent
    // descriptors, not reused since by another page (a newer copy of the
    // same page number that is not a leaf of this index), and on the leaf
    // list when that list is whole. Records elsewhere are not live.
    let free = free_pages(space_id, src).unwrap_or_default();
    let mut freed = 0;
    let mut reused = 0;
    let mut links = Vec::new();
    for (no, copies) in by_no.iter_mut() {
        copies.sort_by(|a, b| {
            (b.status != Status::Damaged, b.lsn, a.offset).cmp(&(
                a.status != Status::Damaged,
                a.lsn,
                b.offset,
            ))
        });
        let Some(newest) = copies.iter().find(|p| p.status != Status::Damaged) else {
            continue;
        };
        if free.contains(no) {
            freed += 1;
        } else if reused_since(src.store, newest) {
            reused += 1;
        } else if let Some((prev, next)) = fil_links(image, newest) {
            // Links of an older copy than a damaged one may be out of date.
            let trusted = !copies
                .iter()
                .any(|c| c.status == Status::Damaged && c.lsn > newest.lsn);
            links.push(LeafLinks {
                page_no: *no,
                prev,
                next,
                trusted,
            });
        }
    }
    let level = leaf_level(&links);
    if !level.left_out.is_empty() {
        t.notes.push(format!(
            "{} leaf pages are no longer on the index's leaf list (merged or freed): their records count as deleted",
            level.left_out.len()
        ));
    }
    if let Some(why) = &level.broken {
        t.notes.push(format!(
            "the leaf list cannot be followed end to end ({why}): every other leaf page found is used"
        ));
    }
    t.leaf_pages_missing = level
        .missing
        .iter()
        .filter(|n| !by_no.contains_key(n))
        .count();
    let in_index: HashSet<u32> = level.pages.into_iter().collect();
    let mut jobs: Vec<(&PageRecord, bool)> = Vec::new();
    for (no, copies) in &by_no {
        let good: Vec<&&PageRecord> = copies
            .iter()
            .filter(|p| p.status != Status::Damaged)
            .collect();
        if good.is_empty() {
            t.leaf_pages_damaged += 1;
            continue;
        }
        t.leaf_pages += 1;
        let live = in_index.contains(no);
        for (i, p) in good.into_iter().enumerate() {
            jobs.push((p, i == 0 && live));
        }
    }
    if reused > 0 {
        t.notes.push(format!(
            "{reused} leaf pages were reused since by other data: their records count as deleted"
        ));
    }
    if freed > 0 {
        t.notes.push(format!("{freed} leaf pages marked free in the extent descriptors: their records count as deleted"));
    }
    // Each page's values in one buffer; rows below are (page, record) pairs.
    let decoded: Vec<(PageText, u64, bool)> = jobs
        .par_iter()
        .map(|&(p, newest)| {
            let text = match page_bytes(image, p) {
                Some(bytes) => decode_leaf_page_text(&bytes, &def, src),
                None => PageText::default(),
            };
            (text, p.lsn, newest)
        })
        .collect();

    // Live rows: newest page LSN wins a key (then a complete row over a
    // partial one). Pages come in page order, which is mostly key order, so
    // the stable sort is close to linear.
    let mut cands: Vec<Found> = Vec::new();
    let mut others: Vec<Found> = Vec::new();
    let mut misfits: Vec<i64> = Vec::new();
    for (i, (page, lsn, newest)) in decoded.iter().enumerate() {
        if *newest {
            t.records_skipped += page.skipped_live;
        }
        misfits.extend(page.heap_mismatch);
        for (j, r) in page.records.iter().enumerate() {
            let f = Found {
                key: page.key(j),
                lsn: *lsn,
                at: RowRef {
                    page: i as u32,
                    rec: j as u32,
                },
                full: page.is_full(j),
                trx_id: r.trx_id.unwrap_or(0),
                listed: r.origin == RecordOrigin::Live,
            };
            if *newest && r.origin == RecordOrigin::Live && !r.delete_marked {
                cands.push(f);
            } else {
                others.push(f);
            }
        }
    }
    cands.sort_by(|a, b| {
        a.key
            .cmp(b.key)
            .then(b.lsn.cmp(&a.lsn))
            .then(b.full.cmp(&a.full))
    });
    let mut live_keys: Vec<&[u8]> = Vec::with_capacity(cands.len());
    for f in cands {
        if live_keys.last() == Some(&f.key) {
            others.push(f);
            continue;
        }
        if f.full {
            t.rows.push(f.at);
        } else {
            t.partial.push(PartialRow {
                row: f.at,
                failed: failed_columns(&def, &decoded[f.at.page as usize].0, f.at.rec as usize),
            });
        }
        live_keys.push(f.key);
    }
    if let Some(first) = misfits.first() {
        t.notes.push(format!(
            "on {} pages the records, sized by this table definition, do not fill the page's record heap \
             ({first:+} bytes on the first): the definition is not the one the rows were written with \
             (a column missing, extra or of another type?), so their records are not written",
            misfits.len()
        ));
    }
    // Deleted: complete, not live under the same key; of the versions of a
    // key, the newest (highest DB_TRX_ID, then page LSN, then the one still
    // on its page's record list: the delete-marked record itself).
    others.sort_by(|a, b| {
        a.key
            .cmp(b.key)
            .then(b.trx_id.cmp(&a.trx_id))
            .then(b.lsn.cmp(&a.lsn))
            .then(b.listed.cmp(&a.listed))
    });
    let mut seen: Option<&[u8]> = None;
    for f in others {
        if seen == Some(f.key) {
            continue;
        }
        seen = Some(f.key);
        if f.full && live_keys.binary_search(&f.key).is_err() {
            t.deleted.push(f.at);
        }
    }
    drop(live_keys);
    t.pages = decoded
        .into_iter()
        .map(|(page, _, _)| page.values)
        .collect();
    t.count();
    t
}

/// MariaDB instant ALTER layout from the clustered index's root (a page of
/// type INSTANT) and its leftmost leaf: `None` when either is missing.
fn mariadb_layout(
    def: &TableDef,
    root: &PageRecord,
    pages: &[&PageRecord],
    image: &Image,
    src: &StorePages,
) -> Option<Result<Option<TableDef>, String>> {
    let root_bytes = page_bytes(image, root)?;
    // The leftmost leaf: no previous page.
    let leftmost = pages
        .iter()
        .filter(|p| p.status != Status::Damaged)
        .filter_map(|p| {
            let b = page_bytes(image, p)?;
            (be_u32(&b, fil::FIL_PAGE_PREV) == Some(fil::FIL_NULL)).then_some((p.lsn, b))
        })
        .max_by_key(|(lsn, _)| *lsn)
        .map(|(_, b)| b)?;
    Some(mariadb_instant_layout(def, &root_bytes, &leftmost, src))
}
