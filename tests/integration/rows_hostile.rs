//! Hostile input for the row decoder: real leaf pages (COMPACT, DYNAMIC with
//! off-page values, REDUNDANT) with random bytes changed, random pages, and
//! random bytes for every value decoder. Nothing may panic, and every page
//! is decoded in bounded time.

use crate::common;
use crate::rows_schema::{parse_tables, FilePages};

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use salvage::bytes::{be_u16, be_u64};
use salvage::innodb::fil::{FIL_PAGE_DATA, FIL_PAGE_INDEX, FIL_PAGE_TYPE};
use salvage::innodb::lob::{read_extern, ExternRef, NoPages};
use salvage::innodb::page_header::{PAGE_INDEX_ID, PAGE_LEVEL};
use salvage::innodb::rows::{
    decode_leaf_page, decode_leaf_page_key_probe, decode_leaf_page_keys, mariadb_instant_layout,
    RecordOrigin,
};
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
    // The key probe of the first pass: every listed record that a full
    // read keeps is among the probed ones, with the same key (so a probed
    // key range holds every live key of the page).
    if let Some(p) = decode_leaf_page_key_probe(page, &s.table) {
        let full = decode_leaf_page_keys(page, &s.table, &src);
        let probed: std::collections::HashMap<u32, &[u8]> = (0..p.records.len())
            .map(|j| (p.records[j].offset, p.key(j)))
            .collect();
        for j in 0..full.records.len() {
            if full.records[j].origin == RecordOrigin::Live {
                let at = full.records[j].offset;
                assert_eq!(
                    probed.get(&at).copied(),
                    Some(full.key(j)),
                    "record at {at}"
                );
            }
        }
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

/// Structural damage on a real COMPACT page: a next pointer that loops back
/// and a heap number out of range stop the walk there; the records before
/// the damage are kept, nothing after it is invented.
#[test]
fn broken_record_list_keeps_the_prefix() {
    use salvage::innodb::record::{compact_header, walk_records, PageGeom};
    let s = &samples()[3]; // types.t_compact
    let n = s.leaves[0];
    let page = s.file[n * PAGE..(n + 1) * PAGE].to_vec();
    let g = PageGeom::parse(&page).unwrap();
    let heads = walk_records(&page, &g).headers;
    assert!(heads.len() >= 4, "need a few records");
    let src = FilePages {
        data: &s.file,
        page_size: PAGE,
    };
    let clean = decode_leaf_page(&page, &s.table, &src);
    assert!(clean.list_broken.is_none());

    // 1. The second record's next pointer points at the first record: a loop.
    let mut p = page.clone();
    let (a, b) = (heads[0].origin, heads[1].origin);
    let rel = (a as i64 - b as i64).rem_euclid(65536) as u16;
    p[b - 2..b].copy_from_slice(&rel.to_be_bytes());
    let r = decode_leaf_page(&p, &s.table, &src);
    assert!(
        r.list_broken.as_deref().unwrap().contains("loop"),
        "{:?}",
        r.list_broken
    );
    let live: Vec<_> = r
        .rows
        .iter()
        .filter(|x| x.origin == salvage::innodb::rows::RecordOrigin::Live)
        .collect();
    assert_eq!(live.len(), 2);
    assert_eq!(live[0].values, clean.rows[0].values);
    assert_eq!(live[1].values, clean.rows[1].values);

    // 2. The third record's heap number is beyond PAGE_N_HEAP.
    let mut p = page.clone();
    let c = heads[2].origin;
    let h = compact_header(&p, c).unwrap();
    let v = (0x1FFFu16 << 3) | u16::from(h.status);
    p[c - 4..c - 2].copy_from_slice(&v.to_be_bytes());
    let r = decode_leaf_page(&p, &s.table, &src);
    assert!(r.list_broken.as_deref().unwrap().contains("heap number"));
    assert_eq!(
        r.rows
            .iter()
            .filter(|x| x.origin == salvage::innodb::rows::RecordOrigin::Live)
            .count(),
        2
    );

    // 3. A variable length made larger than the column allows: that record
    //    is skipped, the walk goes on.
    let mut p = page.clone();
    let d = heads[1].origin;
    // Null bitmap of t_compact: 37 nullable columns -> 5 bytes; the first
    // length byte (c_char, CHAR(10) utf8mb4: up to 40 bytes) is next.
    let at = d - 5 - 5 - 1;
    p[at] = 0x7F;
    let r = decode_leaf_page(&p, &s.table, &src);
    assert!(r.list_broken.is_none());
    assert_eq!(
        r.skipped_live + r.rows.iter().filter(|x| !x.is_full()).count(),
        1,
        "{:?}",
        r.skipped_live
    );
}
