//! Row decoding on the MariaDB 10.11 fixtures (instance `main`): every live
//! row of the clustered index of each table must equal the truth CSV, value
//! by value (FLOAT/DOUBLE compared numerically when the text differs).

mod common;
#[path = "rows_schema.rs"]
mod rows_schema;

use std::collections::HashMap;
use std::path::Path;

use rows_schema::{parse_tables, read_truth_csv, same_number, FilePages};
use salvage::bytes::{be_u16, be_u64};
use salvage::innodb::fil::{FIL_PAGE_DATA, FIL_PAGE_INDEX, FIL_PAGE_TYPE};
use salvage::innodb::page_header::{PAGE_INDEX_ID, PAGE_LEVEL};
use salvage::innodb::rows::{decode_leaf_page, RecordOrigin, Row};
use salvage::schema::{ColumnType, TableDef};

const PAGE: usize = 16384;

struct Decoded {
    live: Vec<Row>,
    deleted: Vec<Row>,
    skipped: usize,
}

/// Decodes every leaf page of the clustered index (the index rooted at
/// page 3) of a file-per-table tablespace.
fn decode_file(path: &Path, table: &TableDef) -> Decoded {
    let data = std::fs::read(path).unwrap();
    let src = FilePages {
        data: &data,
        page_size: PAGE,
    };
    let root = &data[3 * PAGE..4 * PAGE];
    let index_id = be_u64(root, FIL_PAGE_DATA + PAGE_INDEX_ID).unwrap();
    let mut out = Decoded {
        live: Vec::new(),
        deleted: Vec::new(),
        skipped: 0,
    };
    for page in data.chunks_exact(PAGE) {
        if be_u16(page, FIL_PAGE_TYPE) != Some(FIL_PAGE_INDEX)
            || be_u64(page, FIL_PAGE_DATA + PAGE_INDEX_ID) != Some(index_id)
            || be_u16(page, FIL_PAGE_DATA + PAGE_LEVEL) != Some(0)
        {
            continue;
        }
        let r = decode_leaf_page(page, table, &src);
        assert!(r.error.is_none(), "{}: {:?}", table.name, r.error);
        assert!(
            r.list_broken.is_none(),
            "{}: {:?}",
            table.name,
            r.list_broken
        );
        out.skipped += r.skipped_live;
        for row in r.rows {
            if row.origin == RecordOrigin::Live && !row.delete_marked {
                out.live.push(row);
            } else {
                out.deleted.push(row);
            }
        }
    }
    out
}

fn is_float(t: &ColumnType) -> bool {
    matches!(t, ColumnType::Float | ColumnType::Double)
}

/// Compares decoded rows with a truth CSV; returns the number of values compared.
fn compare(table: &TableDef, got: &[Row], truth_path: &Path) -> usize {
    let text = std::fs::read_to_string(truth_path).unwrap();
    let (header, truth) = read_truth_csv(&text);
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(header, names, "{}: header", table.name);
    for r in got {
        assert!(
            r.is_full(),
            "{}: row {:?} failed: {:?}",
            table.name,
            r.values.first(),
            r.failed
        );
    }
    assert_eq!(got.len(), truth.len(), "{}: row count", table.name);
    let by_key: HashMap<Option<String>, &Row> =
        got.iter().map(|r| (r.values[0].clone(), r)).collect();
    assert_eq!(by_key.len(), got.len(), "{}: duplicate keys", table.name);
    let mut n = 0;
    for t in &truth {
        let r = by_key
            .get(&t[0])
            .unwrap_or_else(|| panic!("{}: row {:?} missing", table.name, t[0]));
        for (i, col) in table.columns.iter().enumerate() {
            let (a, b) = (&r.values[i], &t[i]);
            let ok = a == b
                || (is_float(&col.ty) && matches!((a, b), (Some(x), Some(y)) if same_number(x, y)));
            assert!(
                ok,
                "{}.{} row {:?}: got {:?}, truth {:?}",
                table.name, col.name, t[0], a, b
            );
            n += 1;
        }
    }
    n
}

fn run(db: &str, names: &[&str]) {
    let dir = common::unpack_datadir("main");
    let truth = common::fixtures().join("main/truth");
    let schema = std::fs::read_to_string(truth.join("schema.sql")).unwrap();
    let tables = parse_tables(&schema, db);
    for name in names {
        let t = tables
            .iter()
            .find(|t| t.db == db && t.name == *name)
            .unwrap_or_else(|| panic!("{db}.{name} not in schema.sql"));
        let d = decode_file(&dir.path().join(db).join(format!("{name}.ibd")), t);
        assert_eq!(d.skipped, 0, "{db}.{name}: skipped records");
        let n = compare(t, &d.live, &truth.join(db).join(format!("{name}.csv")));
        eprintln!(
            "{db}.{name}: {} rows, {n} values exact, {} deleted/purged records",
            d.live.len(),
            d.deleted.len()
        );
    }
}

#[test]
fn types_tables_exact() {
    run("types", &["t_redundant", "t_compact", "t_dynamic"]);
}

#[test]
fn charsets_tables_exact() {
    run(
        "charsets",
        &[
            "cs_utf8mb4",
            "cs_utf8mb3",
            "cs_latin1",
            "cs_gbk",
            "cs_binary",
        ],
    );
}

#[test]
fn blobs_tables_exact() {
    run("blobs", &["blob_redundant", "blob_compact", "blob_dynamic"]);
}
