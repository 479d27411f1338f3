//! The sakila sample database as MySQL 5.0 (COMPACT), 5.5 (COMPACT),
//! 5.6 (REDUNDANT), 8.0 and 8.4 (DYNAMIC) wrote it (innodb_ruby test data),
//! decoded with definitions from the .frm files (5.x) or the SDI (8.x):
//! every record decodes fully, the row counts are sakila's, and known rows
//! come out exactly.

use crate::common;
use crate::rows_schema::{leaf_chain, FilePages};

use salvage::bytes::{be_u16, be_u64};
use salvage::innodb::fil::{FIL_PAGE_DATA, FIL_PAGE_INDEX, FIL_PAGE_TYPE};
use salvage::innodb::page_header::PAGE_INDEX_ID;
use salvage::innodb::rows::{decode_leaf_page, RecordOrigin, Row};
use salvage::schema::TableDef;

const PAGE: usize = 16384;

/// sakila's row counts (payment and rental are not in the corpus).
const COUNTS: [(&str, usize); 13] = [
    ("actor", 200),
    ("address", 603),
    ("category", 16),
    ("city", 600),
    ("country", 109),
    ("customer", 599),
    ("film", 1000),
    ("film_actor", 5462),
    ("film_category", 1000),
    ("inventory", 4581),
    ("language", 6),
    ("staff", 2),
    ("store", 2),
];

fn live_rows(data: &[u8], table: &TableDef) -> Vec<Row> {
    let src = FilePages {
        data,
        page_size: PAGE,
    };
    let index_id = data
        .chunks_exact(PAGE)
        .filter(|p| be_u16(p, FIL_PAGE_TYPE) == Some(FIL_PAGE_INDEX))
        .filter_map(|p| be_u64(p, FIL_PAGE_DATA + PAGE_INDEX_ID))
        .min()
        .unwrap();
    let mut out = Vec::new();
    for n in leaf_chain(data, PAGE, index_id) {
        let r = decode_leaf_page(&data[n as usize * PAGE..][..PAGE], table, &src);
        assert!(
            r.error.is_none() && r.list_broken.is_none(),
            "{}: {r:?}",
            table.name
        );
        assert_eq!(r.skipped_live, 0, "{}", table.name);
        for row in r.rows {
            if row.origin == RecordOrigin::Live && !row.delete_marked {
                assert!(row.is_full(), "{}: {:?}", table.name, row.failed);
                out.push(row);
            }
        }
    }
    out
}

fn check_version(dir: &str, from_frm: bool) {
    let base = common::corpus()
        .join("jeremycole__innodb_ruby/spec/data/sakila")
        .join(dir)
        .join("sakila");
    let mut total = 0;
    for (name, count) in COUNTS {
        let data = std::fs::read(base.join(format!("{name}.ibd"))).unwrap();
        let table = if from_frm {
            let frm = std::fs::read(base.join(format!("{name}.frm"))).unwrap();
            salvage::innodb::frm::parse_frm_named(&frm, "sakila", name).unwrap()
        } else {
            salvage::innodb::sdi::tables_from_file_bytes(&data)
                .unwrap()
                .into_iter()
                .find(|t| t.name == name)
                .unwrap()
        };
        let rows = live_rows(&data, &table);
        assert_eq!(rows.len(), count, "{dir}/{name}");
        let col = |r: &Row, c: &str| {
            let i = table.columns.iter().position(|x| x.name == c).unwrap();
            r.values[i].clone()
        };
        match name {
            "actor" => {
                assert_eq!(col(&rows[0], "first_name").as_deref(), Some("PENELOPE"));
                assert_eq!(col(&rows[0], "last_name").as_deref(), Some("GUINESS"));
                // last_update is a TIMESTAMP: stored in UTC, and the loading
                // server's time zone is not known, so only its shape is checked.
                assert_eq!(col(&rows[0], "last_update").map(|s| s.len()), Some(19));
            }
            "film" => {
                assert_eq!(col(&rows[0], "title").as_deref(), Some("ACADEMY DINOSAUR"));
                assert_eq!(col(&rows[0], "rental_rate").as_deref(), Some("0.99"));
                assert_eq!(col(&rows[0], "rating").as_deref(), Some("PG"));
                assert_eq!(
                    col(&rows[0], "special_features").as_deref(),
                    Some("Deleted Scenes,Behind the Scenes")
                );
            }
            "language" => {
                let names: Vec<_> = rows.iter().map(|r| col(r, "name").unwrap()).collect();
                assert_eq!(
                    names,
                    ["English", "Italian", "Japanese", "Mandarin", "French", "German"]
                );
            }
            _ => {}
        }
        total += rows.len();
    }
    eprintln!("sakila {dir}: 13 tables, {total} rows, every record fully decoded");
}

#[test]
fn sakila_mysql50_compact_from_frm() {
    check_version("5.0", true);
}

#[test]
fn sakila_mysql55_compact_from_frm() {
    check_version("compact", true);
}

#[test]
fn sakila_mysql56_redundant_from_frm() {
    check_version("redundant", true);
}

#[test]
fn sakila_mysql80_dynamic_from_sdi() {
    check_version("8.0", false);
}

#[test]
fn sakila_mysql84_dynamic_from_sdi() {
    check_version("8.4", false);
}
