//! Hostile input for the row decoder: real leaf pages (COMPACT, DYNAMIC with
//! off-page values, REDUNDANT) with random bytes changed, random pages, and
//! random bytes for every value decoder. Nothing may panic, and every page
//! is decoded in bounded time.

mod common;
#[path = "rows_schema.rs"]
mod rows_schema;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use rows_schema::{parse_tables, FilePages};
use salvage::bytes::{be_u16, be_u64};
use salvage::innodb::fil::{FIL_PAGE_DATA, FIL_PAGE_INDEX, FIL_PAGE_TYPE};
use salvage::innodb::lob::{read_extern, ExternRef, NoPages};
use salvage::innodb::page_header::{PAGE_INDEX_ID, PAGE_LEVEL};
use salvage::innodb::rows::{decode_leaf_page, mariadb_instant_layout};
use salvage::innodb::types::decode_value;
use salvage::schema::TableDef;

const PAGE: usize = 16384;

struct Sample {
    file: Vec<u8>,
    table: TableDef,
    leaves: Vec<usize>,
}

fn load(rel_ibd: &std::path::Path, sql: &str, db: &str, name: &str) -> Sample {
    let file = std::fs::read(rel_ibd).unwrap();
    let table = parse_tables(sql, db)
        .into_iter()
        .find(|t| t.name == name)
        .unwrap();
    let index_id = file
        .chunks_exact(PAGE)
        .filter(|p| be_u16(p, FIL_PAGE_TYPE) == Some(FIL_PAGE_INDEX))
        .filter_map(|p| be_u64(p, FIL_PAGE_DATA + PAGE_INDEX_ID))
        .min()
        .unwrap();
    let leaves = file
        .chunks_exact(PAGE)
        .enumerate()
        .filter(|(_, p)| {
            be_u16(p, FIL_PAGE_TYPE) == Some(FIL_PAGE_INDEX)
                && be_u64(p, FIL_PAGE_DATA + PAGE_INDEX_ID) == Some(index_id)
                && be_u16(p, FIL_PAGE_DATA + PAGE_LEVEL) == Some(0)
        })
        .map(|(i, _)| i)
        .collect();
    Sample {
        file,
        table,
        leaves,
    }
}

/// Real pages: MySQL 8 DYNAMIC with LOBs, MySQL 5.6 COMPACT with BLOB
/// chains, MariaDB REDUNDANT and COMPACT with every type, MariaDB instant.
fn samples() -> &'static Vec<Sample> {
    static S: OnceLock<Vec<Sample>> = OnceLock::new();
    S.get_or_init(|| {
        let suite = common::corpus()
            .join("alibaba__innodb-java-reader/innodb-java-reader/src/test/resources/testsuite");
        let sql =
            std::fs::read_to_string(suite.join("mysql56/column/char/tb04utf8mb4.sql")).unwrap();
        let mut v = vec![
            load(
                &suite.join("mysql80/column/char/tb04utf8mb4.ibd"),
                &sql,
                "t",
                "tb04utf8mb4",
            ),
            load(
                &suite.join("mysql56/column/char/tb04utf8mb4.ibd"),
                &sql,
                "t",
                "tb04utf8mb4",
            ),
        ];
        let dir = common::unpack_datadir("main");
        let schema =
            std::fs::read_to_string(common::fixtures().join("main/truth/schema.sql")).unwrap();
        for (db, name) in [
            ("types", "t_redundant"),
            ("types", "t_compact"),
            ("blobs", "blob_redundant"),
            ("shop", "products"),
        ] {
            v.push(load(
                &dir.path().join(db).join(format!("{name}.ibd")),
                &schema,
                db,
                name,
            ));
        }
        v
    })
}

fn check_page(page: &[u8], s: &Sample, file: &[u8]) {
    let src = FilePages {
        data: file,
        page_size: PAGE,
    };
    let t0 = Instant::now();
    let r = decode_leaf_page(page, &s.table, &src);
    let _ = mariadb_instant_layout(&s.table, page, page, &src);
    assert!(
        t0.elapsed() < Duration::from_secs(2),
        "decode took {:?}",
        t0.elapsed()
    );
    for row in &r.rows {
        assert_eq!(row.values.len(), s.table.columns.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    /// A real leaf page with up to 16 bytes changed (header, directory,
    /// records, lengths, references): decoded without panic.
    #[test]
    fn mutated_real_pages(which in 0usize..6, leaf in 0usize..64,
                          muts in prop::collection::vec((0usize..PAGE, any::<u8>()), 1..16)) {
        let s = &samples()[which];
        let n = s.leaves[leaf % s.leaves.len()];
        let mut file = s.file.clone();
        for &(off, v) in &muts {
            file[n * PAGE + off] = v;
        }
        let page = file[n * PAGE..(n + 1) * PAGE].to_vec();
        check_page(&page, s, &file);
    }

    /// Mutations concentrated in the page header and the first records,
    /// where offsets and lengths live.
    #[test]
    fn mutated_record_headers(which in 0usize..6, leaf in 0usize..64,
                              muts in prop::collection::vec((38usize..600, any::<u8>()), 1..8)) {
        let s = &samples()[which];
        let n = s.leaves[leaf % s.leaves.len()];
        let mut page = s.file[n * PAGE..(n + 1) * PAGE].to_vec();
        for &(off, v) in &muts {
            page[off] = v;
        }
        check_page(&page, s, &s.file);
    }

    /// Random bytes of random length as a page.
    #[test]
    fn random_pages(which in 0usize..6, bytes in prop::collection::vec(any::<u8>(), 0..20000)) {
        let s = &samples()[which];
        check_page(&bytes, s, &s.file);
    }

    /// Random bytes for every column type of the fixture tables.
    #[test]
    fn value_decoders(which in 0usize..6, bytes in prop::collection::vec(any::<u8>(), 0..40)) {
        let s = &samples()[which];
        for c in &s.table.columns {
            let _ = decode_value(c, &bytes);
        }
    }

    /// Random external references into real files.
    #[test]
    fn extern_refs(which in 0usize..6, r in prop::collection::vec(any::<u8>(), 20)) {
        let s = &samples()[which];
        let src = FilePages { data: &s.file, page_size: PAGE };
        let mut r = r;
        // Keep page numbers inside the file half of the time.
        if r[4] & 1 == 0 {
            let pages = (s.file.len() / PAGE) as u32;
            let p = u32::from_be_bytes([r[4], r[5], r[6], r[7]]) % pages;
            r[4..8].copy_from_slice(&p.to_be_bytes());
        }
        if let Some(e) = ExternRef::parse(&r) {
            let _ = read_extern(&e, &src);
            let _ = read_extern(&e, &NoPages);
        }
    }
}
