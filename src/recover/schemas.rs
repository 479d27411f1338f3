//! Stage 2: table definitions, one per table name, strongest source first:
//! MySQL 8 SDI inside each tablespace, then the definitions the user gave
//! (`--schema` CREATE TABLEs and `.frm` files; the CLI adds a lone `.ibd`'s
//! `.frm` there), then the InnoDB data dictionary of the system tablespace
//! (MySQL 5.x, MariaDB) for the tables no other source names — with the
//! exact types of a `.frm` carved from the image when its columns match.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use super::index::collect_index;
use super::indexes::{InstantRoots, Leaves};
use super::RecoverOptions;
use crate::carve::pages::StorePages;
use crate::innodb::lob::PageSource;
use crate::innodb::{dict, frm, sdi};
use crate::schema::{SchemaSource, TableDef};

/// The table definitions recovery works from.
pub(super) struct Schemas {
    /// One definition per table name.
    pub defs: Vec<TableDef>,
    /// The InnoDB data dictionary (empty without a system tablespace).
    pub dictionary: Vec<dict::DictTable>,
    /// Columns whose type the dictionary alone can only guess, by
    /// `db.table`, for the tables defined by the dictionary alone.
    pub uncertain: BTreeMap<String, Vec<usize>>,
    /// Schema sources that could not be read.
    pub errors: Vec<String>,
}

/// Gathers the definitions of the tables the user asked for.
pub(super) fn gather(src: &StorePages, leaves: &Leaves, opts: &RecoverOptions) -> Schemas {
    let mut errors = Vec::new();
    let mut defs = sdi_schemas(src, &mut errors);
    defs.extend(opts.user_schemas.iter().cloned());
    defs.sort_by_key(|d| (d.source, d.qualified()));
    let mut seen = BTreeSet::new();
    defs.retain(|d| seen.insert(d.qualified()));
    defs.retain(|d| wanted(opts, &d.db, &d.name));

    let dictionary = read_dictionary(src, leaves);
    let mut uncertain = BTreeMap::new();
    if !dictionary.is_empty() {
        let frms = carved_frms(src);
        temporal_formats_from_frms(&mut defs, &dictionary, &frms);
        add_dictionary_tables(&mut defs, &mut uncertain, &dictionary, &frms, opts);
    }
    Schemas {
        defs,
        dictionary,
        uncertain,
        errors,
    }
}

/// The tables of every MySQL 8 tablespace's SDI.
fn sdi_schemas(src: &StorePages, errors: &mut Vec<String>) -> Vec<TableDef> {
    let mut defs = Vec::new();
    let sdi_spaces = src.store.spaces();
    for space in sdi_spaces.iter().filter(|s| s.format == "mysql8-sdi") {
        let page = |n: u32| src.page(space.space_id, n);
        match sdi::tables_from_tablespace(page) {
            Ok(ts) => defs.extend(ts),
            Err(e) => errors.push(format!("SDI of space {}: {e}", space.space_id)),
        }
    }
    defs
}

/// Whether `--table` asks for `db.name` (all tables when it is not given).
fn wanted(opts: &RecoverOptions, db: &str, name: &str) -> bool {
    opts.only.is_empty()
        || opts
            .only
            .iter()
            .any(|o| *o == format!("{db}.{name}") || o == name)
}

/// Adds the dictionary's user tables that no stronger source defines (a
/// partitioned table once, by its base name).
fn add_dictionary_tables(
    defs: &mut Vec<TableDef>,
    uncertain: &mut BTreeMap<String, Vec<usize>>,
    dictionary: &[dict::DictTable],
    frms: &[TableDef],
    opts: &RecoverOptions,
) {
    let named: BTreeSet<String> = defs.iter().map(|d| d.qualified()).collect();
    for t in dictionary {
        let (db, name) = t.db_and_name();
        let base = partition_base(&name);
        if named.contains(&format!("{db}.{base}"))
            || db == "SYS"
            || db.is_empty()
            || t.clustered().is_none()
            || !wanted(opts, &db, base)
        {
            continue;
        }
        let d = dictionary_def(t, base, frms);
        if !defs.iter().any(|x| x.qualified() == d.qualified()) {
            if d.source == SchemaSource::Dictionary {
                uncertain.insert(d.qualified(), dict::uncertain_columns(t));
            }
            defs.push(d);
        }
    }
}

/// A CREATE TABLE cannot say whether a TIME, DATETIME or TIMESTAMP column
/// is stored in the MySQL 5.6 format or in an older one (MariaDB's
/// `mysql56_temporal_format=OFF`, MySQL 5.5), and at most fsp the sizes
/// agree. For each `--schema` table the dictionary names, the `.frm`
/// carved for that dictionary entry (same columns, temporal storage as the
/// dictionary has it) says which: its columns' formats are taken.
fn temporal_formats_from_frms(
    defs: &mut [TableDef],
    dictionary: &[dict::DictTable],
    frms: &[TableDef],
) {
    for d in defs
        .iter_mut()
        .filter(|d| d.source == SchemaSource::UserSql)
    {
        let Some(t) = dictionary.iter().find(|t| {
            let (db, name) = t.db_and_name();
            db == d.db && partition_base(&name) == d.name
        }) else {
            continue;
        };
        let Some(f) = frm_for(t, frms) else {
            continue;
        };
        for c in d.columns.iter_mut() {
            let Some(fc) = f
                .columns
                .iter()
                .find(|x| x.name.eq_ignore_ascii_case(&c.name))
            else {
                continue;
            };
            use crate::schema::ColumnType as T;
            match (&mut c.ty, &fc.ty) {
                (
                    T::Time { fsp, old_format },
                    T::Time {
                        fsp: f2,
                        old_format: o2,
                    },
                )
                | (
                    T::DateTime { fsp, old_format },
                    T::DateTime {
                        fsp: f2,
                        old_format: o2,
                    },
                )
                | (
                    T::Timestamp { fsp, old_format },
                    T::Timestamp {
                        fsp: f2,
                        old_format: o2,
                    },
                ) if *fsp == *f2 => {
                    *old_format = *o2;
                }
                _ => {}
            }
        }
    }
}

/// The definition of dictionary table `t` (partition or table `base`):
/// the dictionary's own, or a carved `.frm`'s with the dictionary's ids.
fn dictionary_def(t: &dict::DictTable, base: &str, frms: &[TableDef]) -> TableDef {
    let dict_def = dict::to_tabledef(t);
    let mut d = match frm_for(t, frms) {
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
    d
}

/// Reads the system tables SYS_TABLES..SYS_FIELDS from the system tablespace.
fn read_dictionary(src: &StorePages, leaves: &Leaves) -> Vec<dict::DictTable> {
    let sys = dict::system_tables();
    let mut rows = dict::SysRows::default();
    for (i, def) in sys.iter().enumerate() {
        let Some(pages) = leaves.get(&(0, def.index_id.unwrap_or(0))) else {
            continue;
        };
        let t = collect_index(def, pages, &InstantRoots::new(), src);
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

/// Table definitions from `.frm` files found by signature (MySQL 5.x,
/// MariaDB). A `.frm` does not hold its table's name.
fn carved_frms(src: &StorePages) -> Vec<TableDef> {
    const MAX_FRM: usize = 1 << 20;
    let mut out: Vec<TableDef> = src
        .store
        .frm_offsets
        .par_iter()
        .filter_map(|&off| {
            let b = src.image.bytes(off, MAX_FRM);
            frm::parse_frm(&b).ok().map(|(d, _)| d)
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

/// `logs` for a partition `logs#P#p2016` (MariaDB, MySQL 5.x) or `logs#p#p2016` (MySQL 8).
pub(super) fn partition_base(name: &str) -> &str {
    name.split_once("#P#")
        .or_else(|| name.split_once("#p#"))
        .map_or(name, |(b, _)| b)
}
