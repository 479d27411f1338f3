//! Row decoding on the MariaDB 10.11 fixtures (instance `main`): every live
//! row of the clustered index of each table must equal the truth CSV, value
//! by value (FLOAT/DOUBLE compared numerically when the text differs).

use crate::common;
use crate::rows_schema::{leaf_chain, parse_tables, read_truth_csv, same_number, FilePages};

use std::collections::HashMap;
use std::path::Path;

use salvage::bytes::{be_u16, be_u64};
use salvage::innodb::fil::{FIL_PAGE_DATA, FIL_PAGE_INDEX, FIL_PAGE_TYPE};
use salvage::innodb::page_header::{PAGE_INDEX_ID, PAGE_LEVEL};
use salvage::innodb::rows::{decode_leaf_page, mariadb_instant_layout, RecordOrigin, Row};
use salvage::schema::{ColumnType, IndexField, TableDef};

struct Decoded {
    live: Vec<Row>,
    deleted: Vec<Row>,
    skipped: usize,
}

/// Decodes the leaf pages of the clustered index (rooted at page 3) in key
/// order, after reading MariaDB's instant-ALTER layout when the root has one.
fn decode_file(path: &Path, table: &TableDef, ps: usize) -> Decoded {
    let data = std::fs::read(path).unwrap();
    let src = FilePages {
        data: &data,
        page_size: ps,
    };
    let root = &data[3 * ps..4 * ps];
    let index_id = be_u64(root, FIL_PAGE_DATA + PAGE_INDEX_ID).unwrap();
    let chain = leaf_chain(&data, ps, index_id);
    assert!(!chain.is_empty(), "{}: no leaf chain", table.name);
    let leftmost = &data[chain[0] as usize * ps..][..ps];
    let instant = mariadb_instant_layout(table, root, leftmost, &src)
        .unwrap_or_else(|e| panic!("{}: instant metadata: {e}", table.name));
    let table = instant.as_ref().unwrap_or(table);
    let mut out = Decoded {
        live: Vec::new(),
        deleted: Vec::new(),
        skipped: 0,
    };
    for &n in &chain {
        let page = &data[n as usize * ps..][..ps];
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

/// Decodes every leaf page of the clustered index found anywhere in the
/// file (no B-tree walk).
fn decode_all_pages(path: &Path, table: &TableDef, ps: usize) -> Decoded {
    let data = std::fs::read(path).unwrap();
    let src = FilePages {
        data: &data,
        page_size: ps,
    };
    let root = &data[3 * ps..4 * ps];
    let index_id = be_u64(root, FIL_PAGE_DATA + PAGE_INDEX_ID).unwrap();
    let mut out = Decoded {
        live: Vec::new(),
        deleted: Vec::new(),
        skipped: 0,
    };
    for page in data.chunks_exact(ps) {
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
    // Key: the primary-key columns; without one, the whole row (multiset).
    let key_cols: Vec<usize> = table.clustered[..table.n_key_fields]
        .iter()
        .filter_map(|f| match f {
            IndexField::Column { col, .. } => Some(*col),
            _ => None,
        })
        .collect();
    let key_cols: Vec<usize> = if key_cols.is_empty() {
        (0..table.columns.len()).collect()
    } else {
        key_cols
    };
    let key_of = |v: &[Option<String>]| -> Vec<Option<String>> {
        key_cols.iter().map(|&i| v[i].clone()).collect()
    };
    let mut by_key: HashMap<Vec<Option<String>>, Vec<&Row>> = HashMap::new();
    for r in got {
        by_key.entry(key_of(&r.values)).or_default().push(r);
    }
    let mut n = 0;
    for t in &truth {
        let r = by_key
            .get_mut(&key_of(t))
            .and_then(|v| v.pop())
            .unwrap_or_else(|| panic!("{}: row {:?} missing", table.name, key_of(t)));
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
    run_instance("main", 16384, db, names);
}

fn run_instance(instance: &str, ps: usize, db: &str, names: &[&str]) {
    let dir = common::unpack_datadir(instance);
    let truth = common::fixtures().join(instance).join("truth");
    let schema = std::fs::read_to_string(truth.join("schema.sql")).unwrap();
    let tables = parse_tables(&schema, db);
    for name in names {
        let t = tables
            .iter()
            .find(|t| t.db == db && t.name == *name)
            .unwrap_or_else(|| panic!("{db}.{name} not in schema.sql"));
        let d = decode_file(&dir.path().join(db).join(format!("{name}.ibd")), t, ps);
        if db != "shop" {
            // Every leaf page in the file, reachable or not, gives the same rows.
            let all = decode_all_pages(&dir.path().join(db).join(format!("{name}.ibd")), t, ps);
            assert_eq!(
                all.live.len(),
                d.live.len(),
                "{db}.{name}: unreachable live rows"
            );
        }
        assert_eq!(d.skipped, 0, "{db}.{name}: skipped records");
        let n = compare(t, &d.live, &truth.join(db).join(format!("{name}.csv")));
        eprintln!(
            "{instance} {db}.{name}: {} rows, {n} values exact, {} deleted/purged records",
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

#[test]
fn shop_tables_exact() {
    // products: two instant ADD COLUMNs (one AFTER name: reorder, 10.4+
    // metadata BLOB); reviews: instant DROP COLUMN; events: no primary key;
    // orders: composite key; sessions: ascii CHAR key, TIMESTAMP.
    run(
        "shop",
        &[
            "products", "reviews", "events", "orders", "sessions", "users",
        ],
    );
}

#[test]
fn other_page_sizes_and_crc32_exact() {
    // 4, 8, 32 and 64 KiB pages (full_crc32) and the pre-10.5 crc32 format.
    for (instance, ps) in [
        ("p4k", 4096),
        ("p8k", 8192),
        ("p32k", 32768),
        ("p64k", 65536),
        ("crc32", 16384),
    ] {
        run_instance(
            instance,
            ps,
            "types",
            &["t_redundant", "t_compact", "t_dynamic"],
        );
        run_instance(
            instance,
            ps,
            "charsets",
            &["cs_utf8mb4", "cs_latin1", "cs_gbk"],
        );
        run_instance(instance, ps, "blobs", &["blob_dynamic"]);
        run_instance(
            instance,
            ps,
            "shop",
            &["products", "reviews", "events", "orders", "users"],
        );
    }
}

/// Decoding speed on shop.users (19,980 rows, 10 columns): printed, not
/// asserted (the machine is shared).
#[test]
fn decode_rate_users() {
    let dir = common::unpack_datadir("main");
    let schema = std::fs::read_to_string(common::fixtures().join("main/truth/schema.sql")).unwrap();
    let t = parse_tables(&schema, "shop")
        .into_iter()
        .find(|t| t.name == "users")
        .unwrap();
    let data = std::fs::read(dir.path().join("shop/users.ibd")).unwrap();
    let src = FilePages {
        data: &data,
        page_size: 16384,
    };
    let index_id = be_u64(&data[3 * 16384..], FIL_PAGE_DATA + PAGE_INDEX_ID).unwrap();
    let chain = leaf_chain(&data, 16384, index_id);
    let t0 = std::time::Instant::now();
    let mut n = 0usize;
    for _ in 0..5 {
        for &p in &chain {
            n += decode_leaf_page(&data[p as usize * 16384..][..16384], &t, &src)
                .rows
                .len();
        }
    }
    let s = t0.elapsed().as_secs_f64();
    eprintln!(
        "shop.users: {n} records decoded in {s:.3} s = {:.0} records/s",
        n as f64 / s
    );
}

/// Precision of deleted and purged records: every delete-marked or
/// free-list record decoded from shop.users / shop.orders must be a row the
/// table really held: a deleted row (`*.deleted.csv`) or an older copy of a
/// live row with the same key (left behind by page splits and updates).
#[test]
fn deleted_and_purged_records_are_real_rows() {
    let dir = common::unpack_datadir("main");
    let truth = common::fixtures().join("main/truth");
    let schema = std::fs::read_to_string(truth.join("schema.sql")).unwrap();
    let tables = parse_tables(&schema, "shop");
    for name in ["users", "orders"] {
        let t = tables.iter().find(|t| t.name == name).unwrap();
        let d = decode_file(
            &dir.path().join("shop").join(format!("{name}.ibd")),
            t,
            16384,
        );
        let (_, live) = read_truth_csv(
            &std::fs::read_to_string(truth.join(format!("shop/{name}.csv"))).unwrap(),
        );
        let (_, deleted) = read_truth_csv(
            &std::fs::read_to_string(truth.join(format!("shop/{name}.deleted.csv"))).unwrap(),
        );
        let n_key = t.n_key_fields;
        let key = |v: &[Option<String>]| v[..n_key].to_vec();
        let live_keys: std::collections::HashSet<_> = live.iter().map(|r| key(r)).collect();
        let deleted_rows: std::collections::HashSet<_> = deleted.iter().cloned().collect();
        let (mut exact_deleted, mut stale) = (0, 0);
        for r in &d.deleted {
            assert!(r.is_full(), "{name}: {:?}", r.failed);
            if deleted_rows.contains(&r.values) {
                exact_deleted += 1;
            } else {
                assert!(
                    live_keys.contains(&key(&r.values))
                        || deleted.iter().any(|x| key(x) == key(&r.values)),
                    "{name}: invented record {:?}",
                    r.values
                );
                stale += 1;
            }
        }
        eprintln!(
            "shop.{name}: {} deleted/purged records: {exact_deleted} equal a deleted truth row, {stale} older copies of known keys, 0 invented",
            d.deleted.len()
        );
    }
}

/// The same tables with their definitions read from the `.frm` files
/// (`salvage::innodb::frm`) instead of CREATE TABLE: the contract between
/// the .frm reader and the row decoder.
#[test]
fn frm_definitions_decode_exactly() {
    let dir = common::unpack_datadir("main");
    let truth = common::fixtures().join("main/truth");
    let sets: [(&str, &[&str]); 4] = [
        ("types", &["t_redundant", "t_compact", "t_dynamic"]),
        (
            "charsets",
            &[
                "cs_utf8mb4",
                "cs_utf8mb3",
                "cs_latin1",
                "cs_gbk",
                "cs_binary",
            ],
        ),
        ("blobs", &["blob_redundant", "blob_compact", "blob_dynamic"]),
        (
            "shop",
            &[
                "products", "reviews", "events", "orders", "sessions", "users",
            ],
        ),
    ];
    let mut values = 0;
    for (db, names) in sets {
        for name in names {
            let frm = std::fs::read(dir.path().join(db).join(format!("{name}.frm"))).unwrap();
            let t = salvage::innodb::frm::parse_frm_named(&frm, db, name)
                .unwrap_or_else(|e| panic!("{db}.{name}.frm: {e}"));
            let d = decode_file(&dir.path().join(db).join(format!("{name}.ibd")), &t, 16384);
            assert_eq!(d.skipped, 0, "{db}.{name}");
            values += compare(&t, &d.live, &truth.join(db).join(format!("{name}.csv")));
        }
    }
    eprintln!("17 tables from .frm definitions: {values} values exact");
}

/// The key probe of the first pass reads, on every leaf page of the main
/// instance's tables (all four row formats, composite and string keys,
/// pages with deleted and freed records), the keys a full read gives, in
/// list order, or declines a page that has more than plain records.
#[test]
fn key_probe_reads_the_keys_a_full_read_gives() {
    use salvage::innodb::rows::{decode_leaf_page_key_probe, decode_leaf_page_keys};
    let dir = common::unpack_datadir("main");
    let truth = common::fixtures().join("main/truth");
    let schema = std::fs::read_to_string(truth.join("schema.sql")).unwrap();
    let (mut probed, mut declined, mut keys) = (0, 0, 0);
    for db in ["types", "charsets", "blobs", "shop"] {
        for t in parse_tables(&schema, db) {
            let path = dir.path().join(db).join(format!("{}.ibd", t.name));
            let Ok(data) = std::fs::read(&path) else {
                continue; // partitioned: one file per partition
            };
            let src = FilePages {
                data: &data,
                page_size: 16384,
            };
            let root = &data[3 * 16384..4 * 16384];
            let index_id = be_u64(root, FIL_PAGE_DATA + PAGE_INDEX_ID).unwrap();
            let chain = leaf_chain(&data, 16384, index_id);
            // MariaDB instant ALTER, as the recovery applies it.
            let Some(&first) = chain.first() else {
                continue;
            };
            let leftmost = &data[first as usize * 16384..][..16384];
            let instant = mariadb_instant_layout(&t, root, leftmost, &src).unwrap();
            let t = instant.unwrap_or(t);
            for n in chain {
                let page = &data[n as usize * 16384..][..16384];
                let full = decode_leaf_page_keys(page, &t, &src);
                let Some(p) = decode_leaf_page_key_probe(page, &t) else {
                    declined += 1;
                    continue;
                };
                probed += 1;
                let plain = full.skipped_live == 0
                    && full.heap_mismatch.is_none()
                    && full
                        .records
                        .iter()
                        .all(|r| r.origin == RecordOrigin::Live && !r.delete_marked);
                assert!(
                    plain,
                    "{db}.{} page {n}: probed, not plain: skipped {} heap {:?} records {} probe {}",
                    t.name,
                    full.skipped_live,
                    full.heap_mismatch,
                    full.records.len(),
                    p.records.len()
                );
                assert_eq!(
                    p.records.len(),
                    full.records.len(),
                    "{db}.{} page {n}",
                    t.name
                );
                for j in 0..p.records.len() {
                    assert_eq!(p.key(j), full.key(j), "{db}.{} page {n} record {j}", t.name);
                    assert_eq!(p.records[j].offset, full.records[j].offset);
                    keys += 1;
                }
            }
        }
    }
    eprintln!("{probed} pages probed ({keys} keys), {declined} declined");
    assert!(probed > 100 && keys > 10_000, "{probed} pages, {keys} keys");
    // Pages with delete-marked or freed records, REDUNDANT pages.
    assert!(declined > 10, "{declined} declined");
}
