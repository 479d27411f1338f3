//! ROW_FORMAT=COMPRESSED on the MariaDB 10.11 fixtures (instance `main`):
//! `types.t_compressed_{1,2,4,8,16}` (KEY_BLOCK_SIZE 1..16) and
//! `blobs.blob_compressed` (KEY_BLOCK_SIZE 8, 20-200 KB BLOBs in ZBLOB
//! chains). Every leaf page is decompressed with `page_zip::decompress`,
//! decoded with the ordinary row decoder and compared with the truth CSV
//! value by value; the node-pointer pages must point at real pages of the
//! level below. Then the same through the carver (`carve::pages`), and a
//! hostile-input proptest.

use crate::common;
use crate::rows_schema::{parse_tables, read_truth_csv, same_number};

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use proptest::prelude::*;
use salvage::bytes::{be_u16, be_u32, be_u64};
use salvage::carve::pages::{is_zip, page_bytes, StorePages};
use salvage::image::{Image, ReadMode};
use salvage::innodb::fil::{
    FIL_NULL, FIL_PAGE_DATA, FIL_PAGE_INDEX, FIL_PAGE_NEXT, FIL_PAGE_PREV, FIL_PAGE_TYPE,
};
use salvage::innodb::fil::{FIL_PAGE_TYPE_ZBLOB, FIL_PAGE_TYPE_ZBLOB2};
use salvage::innodb::fsp::{sizes_from_flags, FspHeader};
use salvage::innodb::lob::PageSource;
use salvage::innodb::lob::{read_extern, ExternRef};
use salvage::innodb::page_header::{PageHeader, PAGE_INDEX_ID, PAGE_LEVEL};
use salvage::innodb::page_zip::decompress;
use salvage::innodb::rows::{decode_leaf_page, RecordOrigin, Row};
use salvage::schema::{ColumnType, IndexField, RowFormat, TableDef};

/// A ROW_FORMAT=COMPRESSED tablespace file: physical pages of `zip` bytes.
struct ZipFile {
    data: Vec<u8>,
    zip: usize,
    logical: usize,
}

impl ZipFile {
    fn open(path: &Path) -> ZipFile {
        let data = std::fs::read(path).unwrap();
        let flags = FspHeader::parse(&data).unwrap().flags;
        let sizes = sizes_from_flags(flags).unwrap();
        let zip = sizes.zip.expect("a ROW_FORMAT=COMPRESSED tablespace") as usize;
        ZipFile {
            data,
            zip,
            logical: sizes.logical as usize,
        }
    }
    fn n_pages(&self) -> u32 {
        (self.data.len() / self.zip) as u32
    }
    fn phys(&self, n: u32) -> &[u8] {
        &self.data[n as usize * self.zip..][..self.zip]
    }
}

/// Off-page values come from the file's physical pages (ZBLOB/ZBLOB2 are
/// read compressed).
impl PageSource for ZipFile {
    fn page(&self, _space: u32, n: u32) -> Option<Cow<'_, [u8]>> {
        let s = (n as usize).checked_mul(self.zip)?;
        self.data.get(s..s + self.zip).map(Cow::Borrowed)
    }
}

fn is_float(t: &ColumnType) -> bool {
    matches!(t, ColumnType::Float | ColumnType::Double)
}

fn key_cols(table: &TableDef) -> Vec<usize> {
    let k: Vec<usize> = table.clustered[..table.n_key_fields]
        .iter()
        .filter_map(|f| match f {
            IndexField::Column { col, .. } => Some(*col),
            _ => None,
        })
        .collect();
    if k.is_empty() {
        (0..table.columns.len()).collect()
    } else {
        k
    }
}

/// Every truth row must come out exactly once with every value equal
/// (FLOAT/DOUBLE numerically); nothing else may come out. Returns the
/// number of values compared.
fn compare(table: &TableDef, got: &[Row], truth_path: &Path) -> usize {
    let (header, truth) = read_truth_csv(&std::fs::read_to_string(truth_path).unwrap());
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(header, names, "{}: header", table.name);
    for r in got {
        assert!(
            r.is_full(),
            "{}: {:?}: {:?}",
            table.name,
            r.values[0],
            r.failed
        );
    }
    assert_eq!(got.len(), truth.len(), "{}: row count", table.name);
    let keys = key_cols(table);
    let key_of = |v: &[Option<String>]| -> Vec<Option<String>> {
        keys.iter().map(|&i| v[i].clone()).collect()
    };
    let mut by_key: HashMap<Vec<Option<String>>, &Row> = HashMap::new();
    for r in got {
        assert!(
            by_key.insert(key_of(&r.values), r).is_none(),
            "{}: key {:?} twice",
            table.name,
            key_of(&r.values)
        );
    }
    let mut n = 0;
    for t in &truth {
        let r = by_key
            .get(&key_of(t))
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

/// Records off the live list (delete-marked, or on the free list after a
/// page split moved them) must be real rows: each complete one equals the
/// truth row with its key. Returns how many were complete.
fn check_others(table: &TableDef, others: &[Row], truth_path: &Path) -> usize {
    let (_, truth) = read_truth_csv(&std::fs::read_to_string(truth_path).unwrap());
    let keys = key_cols(table);
    let key_of = |v: &[Option<String>]| -> Vec<Option<String>> {
        keys.iter().map(|&i| v[i].clone()).collect()
    };
    let by_key: HashMap<_, _> = truth.iter().map(|t| (key_of(t), t)).collect();
    let mut full = 0;
    for r in others.iter().filter(|r| r.is_full()) {
        let t = by_key
            .get(&key_of(&r.values))
            .unwrap_or_else(|| panic!("{}: invented record {:?}", table.name, r.values));
        for (i, col) in table.columns.iter().enumerate() {
            let (a, b) = (&r.values[i], &t[i]);
            assert!(
                a == b
                    || (is_float(&col.ty)
                        && matches!((a, b), (Some(x), Some(y)) if same_number(x, y))),
                "{}.{}: old copy {:?} differs: {:?} vs {:?}",
                table.name,
                col.name,
                t[0],
                a,
                b
            );
        }
        full += 1;
    }
    full
}

struct Decoded {
    live: Vec<Row>,
    other: Vec<Row>,
    leaf_pages: usize,
    node_pages: usize,
    log_pages: usize,
}

/// Decompresses every index page of the clustered index (the root is page
/// 3): leaf pages are decoded, node-pointer pages checked against the pages
/// they point to.
fn decode_file(f: &ZipFile, table: &TableDef) -> Decoded {
    let index_id = be_u64(f.phys(3), FIL_PAGE_DATA + PAGE_INDEX_ID).unwrap();
    let mut d = Decoded {
        live: Vec::new(),
        other: Vec::new(),
        leaf_pages: 0,
        node_pages: 0,
        log_pages: 0,
    };
    let mut leaves = BTreeSet::new();
    let mut pointed = BTreeSet::new();
    for n in 0..f.n_pages() {
        let p = f.phys(n);
        if be_u16(p, FIL_PAGE_TYPE) != Some(FIL_PAGE_INDEX)
            || be_u64(p, FIL_PAGE_DATA + PAGE_INDEX_ID) != Some(index_id)
        {
            continue;
        }
        let page =
            decompress(p, f.logical).unwrap_or_else(|e| panic!("{}: page {n}: {e}", table.name));
        assert_eq!(page.len(), f.logical);
        // The header the page had is the header it keeps.
        assert_eq!(page[..94], p[..94]);
        let level = be_u16(p, FIL_PAGE_DATA + PAGE_LEVEL).unwrap();
        if level > 0 {
            d.node_pages += 1;
            for child in node_pointers(&page) {
                let c = f.phys(child);
                assert_eq!(
                    be_u64(c, FIL_PAGE_DATA + PAGE_INDEX_ID),
                    Some(index_id),
                    "{}: page {n} points at {child}",
                    table.name
                );
                assert_eq!(
                    be_u16(c, FIL_PAGE_DATA + PAGE_LEVEL),
                    Some(level - 1),
                    "{}: page {n} points at {child}",
                    table.name
                );
                pointed.insert(child);
            }
            continue;
        }
        d.leaf_pages += 1;
        leaves.insert(n);
        // A page whose stream does not end at PAGE_DATA + total: the
        // modification log had records to apply.
        if has_mod_log(p) {
            d.log_pages += 1;
        }
        let r = decode_leaf_page(&page, table, f);
        assert!(r.error.is_none(), "{}: page {n}: {:?}", table.name, r.error);
        assert!(
            r.list_broken.is_none(),
            "{}: page {n}: {:?}",
            table.name,
            r.list_broken
        );
        assert_eq!(r.skipped_live, 0, "{}: page {n}", table.name);
        assert_eq!(
            r.rows
                .iter()
                .filter(|r| r.origin == RecordOrigin::Live)
                .count(),
            PageHeader::parse(&page).unwrap().n_recs as usize,
            "{}: page {n}",
            table.name
        );
        for row in r.rows {
            if row.origin == RecordOrigin::Live && !row.delete_marked {
                d.live.push(row);
            } else {
                d.other.push(row);
            }
        }
    }
    if d.node_pages > 0 {
        assert_eq!(pointed, leaves, "{}: leaves under the root", table.name);
    }
    // The leaf list links the same pages, in both directions.
    for &n in &leaves {
        let p = f.phys(n);
        for (link, back) in [
            (FIL_PAGE_NEXT, FIL_PAGE_PREV),
            (FIL_PAGE_PREV, FIL_PAGE_NEXT),
        ] {
            let m = be_u32(p, link).unwrap();
            if m != FIL_NULL {
                assert!(leaves.contains(&m), "{}: {n} -> {m}", table.name);
                assert_eq!(be_u32(f.phys(m), back), Some(n));
            }
        }
    }
    d
}

/// Child page numbers of the records of a decompressed node-pointer page,
/// in list order. The clustered keys of these tables are one INT NOT NULL:
/// the data of a node pointer is the 4-byte key, then the 4-byte child
/// page number (its header, before the origin, has the null bitmap).
fn node_pointers(page: &[u8]) -> Vec<u32> {
    let mut out = Vec::new();
    let mut rec = 99usize;
    for _ in 0..page.len() {
        let rel = be_u16(page, rec - 2).unwrap() as usize;
        rec = (rec + rel) & 0xffff;
        if rec == 112 {
            break;
        }
        out.push(be_u32(page, rec + 4).unwrap());
    }
    out
}

/// Whether the byte after the zlib stream is not the log's end marker.
fn has_mod_log(p: &[u8]) -> bool {
    let mut d = flate2::Decompress::new(true);
    let mut out = Vec::with_capacity(70000);
    let _ = d.decompress_vec(&p[94..], &mut out, flate2::FlushDecompress::Finish);
    p.get(94 + d.total_in() as usize).is_some_and(|&b| b != 0)
}

fn run(instance: &str, db: &str, names: &[&str]) {
    let dir = common::unpack_datadir(instance);
    let truth = common::fixtures().join(instance).join("truth");
    let schema = std::fs::read_to_string(truth.join("schema.sql")).unwrap();
    let tables = parse_tables(&schema, db);
    for name in names {
        let t = tables
            .iter()
            .find(|t| t.name == *name)
            .unwrap_or_else(|| panic!("{db}.{name} not in schema.sql"));
        assert_eq!(t.row_format, Some(RowFormat::Compressed), "{name}");
        let f = ZipFile::open(&dir.path().join(db).join(format!("{name}.ibd")));
        let d = decode_file(&f, t);
        let csv = truth.join(db).join(format!("{name}.csv"));
        let n = compare(t, &d.live, &csv);
        let full_others = check_others(t, &d.other, &csv);
        eprintln!(
            "{instance} {db}.{name} (KEY_BLOCK_SIZE={}, {} KiB pages): {} leaf + {} node pages ({} with a modification log), {} rows, {n} values exact, {} other records ({full_others} complete, all real)",
            f.zip / 1024,
            f.logical / 1024,
            d.leaf_pages,
            d.node_pages,
            d.log_pages,
            d.live.len(),
            d.other.len()
        );
    }
}

#[test]
fn types_compressed_every_key_block_size_exact() {
    run(
        "main",
        "types",
        &[
            "t_compressed_1",
            "t_compressed_2",
            "t_compressed_4",
            "t_compressed_8",
            "t_compressed_16",
        ],
    );
}

#[test]
fn blob_compressed_zblob_chains_exact() {
    run("main", "blobs", &["blob_compressed"]);
}

/// 4 and 8 KiB logical pages (KEY_BLOCK_SIZE up to the page size) and the
/// pre-10.5 crc32 page format.
#[test]
fn other_page_sizes_and_crc32_exact() {
    run(
        "p4k",
        "types",
        &["t_compressed_1", "t_compressed_2", "t_compressed_4"],
    );
    run(
        "p8k",
        "types",
        &[
            "t_compressed_1",
            "t_compressed_2",
            "t_compressed_4",
            "t_compressed_8",
        ],
    );
    run(
        "crc32",
        "types",
        &[
            "t_compressed_1",
            "t_compressed_2",
            "t_compressed_4",
            "t_compressed_8",
            "t_compressed_16",
        ],
    );
}

/// The carver's path: pages found by scanning the file, materialised by
/// `carve::pages` (`StorePages::bytes` with the logical size from page 0,
/// `page_bytes` with the 16 KiB default), give the same pages and rows;
/// off-page values come through the store.
#[test]
fn carved_pages_decompress_through_the_store() {
    for (instance, db, name) in [
        ("main", "types", "t_compressed_1"),
        ("main", "blobs", "blob_compressed"),
        ("p4k", "types", "t_compressed_2"),
    ] {
        let dir = common::unpack_datadir(instance);
        let truth = common::fixtures().join(instance).join("truth");
        let schema = std::fs::read_to_string(truth.join("schema.sql")).unwrap();
        let t = parse_tables(&schema, db)
            .into_iter()
            .find(|t| t.name == name)
            .unwrap();
        let path = dir.path().join(db).join(format!("{name}.ibd"));
        let f = ZipFile::open(&path);
        let space_id = FspHeader::parse(&f.data).unwrap().space_id;
        let store = common::carve_file(&path, 1);
        let image = Image::open(&path, ReadMode::Mmap).unwrap();
        let src = StorePages::new(&image, &store);
        assert_eq!(src.logical_size(space_id), Some(f.logical as u32));
        let index_id = be_u64(f.phys(3), FIL_PAGE_DATA + PAGE_INDEX_ID).unwrap();
        let mut live = Vec::new();
        let mut index_pages = 0;
        for p in store.best_copies() {
            assert!(
                is_zip(p),
                "{name}: page {} not seen as compressed",
                p.page_no
            );
            let b = src.bytes(p).unwrap();
            if p.page_type != FIL_PAGE_INDEX {
                assert_eq!(&b[..], f.phys(p.page_no), "{name}: page {}", p.page_no);
                continue;
            }
            index_pages += 1;
            assert_eq!(b.len(), f.logical);
            assert_eq!(b[..], decompress(f.phys(p.page_no), f.logical).unwrap()[..]);
            if p.index_id != index_id || p.level != 0 {
                continue;
            }
            let rows = decode_leaf_page(&b, &t, &src);
            assert!(rows.error.is_none() && rows.skipped_live == 0, "{name}");
            // Without the tablespace header: a 16 KiB page, the same rows.
            let d = page_bytes(&image, p).unwrap();
            assert_eq!(d.len(), 16384);
            let rows16 = decode_leaf_page(&d, &t, &src);
            let values = |r: &[Row]| r.iter().map(|r| r.values.clone()).collect::<Vec<_>>();
            assert_eq!(values(&rows.rows), values(&rows16.rows), "{name}");
            live.extend(
                rows.rows
                    .into_iter()
                    .filter(|r| r.origin == RecordOrigin::Live && !r.delete_marked),
            );
        }
        assert!(index_pages >= 1);
        let n = compare(&t, &live, &truth.join(db).join(format!("{name}.csv")));
        eprintln!(
            "{instance} {db}.{name} through the carver: {} rows, {n} values exact",
            live.len()
        );
    }
}

/// Real compressed pages (index pages of every KEY_BLOCK_SIZE, ZBLOB
/// pages), the table of each, and where each index page's modification
/// log starts.
struct Samples {
    index: Vec<(Vec<u8>, usize, usize)>,
    blob_file: Vec<u8>,
    blob_refs: Vec<ExternRef>,
    table: TableDef,
}

fn samples() -> &'static Samples {
    static S: std::sync::OnceLock<Samples> = std::sync::OnceLock::new();
    S.get_or_init(|| {
        let dir = common::unpack_datadir("main");
        let schema =
            std::fs::read_to_string(common::fixtures().join("main/truth/schema.sql")).unwrap();
        let table = parse_tables(&schema, "types")
            .into_iter()
            .find(|t| t.name == "t_compressed_8")
            .unwrap();
        let mut index = Vec::new();
        for kbs in [1, 2, 4, 8, 16] {
            let f = ZipFile::open(&dir.path().join(format!("types/t_compressed_{kbs}.ibd")));
            for n in 0..f.n_pages() {
                let p = f.phys(n);
                if be_u16(p, FIL_PAGE_TYPE) == Some(FIL_PAGE_INDEX) {
                    let mut d = flate2::Decompress::new(true);
                    let mut out = Vec::with_capacity(70000);
                    let _ = d.decompress_vec(&p[94..], &mut out, flate2::FlushDecompress::Finish);
                    index.push((p.to_vec(), f.logical, 94 + d.total_in() as usize));
                }
            }
        }
        let f = ZipFile::open(&dir.path().join("blobs/blob_compressed.ibd"));
        // Every first page of a chain, with a length longer than any value.
        let mut blob_refs = Vec::new();
        for n in 0..f.n_pages() {
            if be_u16(f.phys(n), FIL_PAGE_TYPE) == Some(FIL_PAGE_TYPE_ZBLOB) {
                blob_refs.push(ExternRef {
                    space_id: 0,
                    page_no: n,
                    offset: FIL_PAGE_NEXT as u32,
                    len: 300_000,
                    owner: true,
                    inherited: false,
                });
            }
        }
        assert!(!blob_refs.is_empty());
        Samples {
            index,
            blob_file: f.data,
            blob_refs,
            table,
        }
    })
}

/// Decompressing hostile bytes never panics; whatever it returns is a page
/// of exactly the logical size that the row decoder can walk safely.
fn check_hostile(page: &[u8], logical: usize) {
    if let Ok(out) = decompress(page, logical) {
        assert_eq!(out.len(), logical);
        let _ = decode_leaf_page(&out, &samples().table, &salvage::innodb::lob::NoPages);
    }
}

/// A source of mutated ZBLOB pages.
struct Pages<'a> {
    data: &'a [u8],
    zip: usize,
}

impl PageSource for Pages<'_> {
    fn page(&self, _: u32, n: u32) -> Option<Cow<'_, [u8]>> {
        let s = (n as usize).checked_mul(self.zip)?;
        self.data.get(s..s + self.zip).map(Cow::Borrowed)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(
        size_pow in 10u32..=14,
        logical_pow in 12u32..=16,
        seed in any::<u64>(),
        n_heap in any::<u16>(),
        level in 0u16..3,
    ) {
        let mut page = vec![0u8; 1 << size_pow];
        common::Rng(seed | 1).fill(&mut page);
        // Half the time, a header that passes the first checks.
        if seed & 1 == 0 {
            page[24..26].copy_from_slice(&FIL_PAGE_INDEX.to_be_bytes());
            page[42..44].copy_from_slice(&(n_heap | 0x8000).to_be_bytes());
            page[64..66].copy_from_slice(&level.to_be_bytes());
            page[94..96].copy_from_slice(&[0x78, 0x9c]);
        }
        check_hostile(&page, 1 << logical_pow);
    }

    #[test]
    fn mutated_real_pages_never_panic(
        pick in any::<prop::sample::Index>(),
        muts in prop::collection::vec((0u8..4, any::<u16>(), any::<u8>()), 1..12),
        truncate in prop::option::of(any::<u16>()),
        logical_pow in 12u32..=16,
    ) {
        let s = samples();
        let (orig, logical, log_start) = &s.index[pick.index(s.index.len())];
        let mut page = orig.clone();
        let n = page.len();
        for (region, at, v) in muts {
            // Header, the modification log, the trailer (directory, trx ids,
            // BLOB pointers), anywhere.
            let i = match region {
                0 => 38 + at as usize % 56,
                1 => (log_start + at as usize % 64).min(n - 1),
                2 => n - 1 - at as usize % 256.min(n),
                _ => at as usize % n,
            };
            page[i] = v;
        }
        if let Some(t) = truncate {
            page.truncate(t as usize % (n + 1));
        }
        check_hostile(&page, *logical);
        check_hostile(&page, 1 << logical_pow);
    }

    #[test]
    fn mutated_zblob_chains_never_panic(
        pick in any::<prop::sample::Index>(),
        muts in prop::collection::vec((any::<u32>(), any::<u8>()), 1..16),
        len in 0u64..400_000,
    ) {
        let s = samples();
        let mut data = s.blob_file.clone();
        let n = data.len();
        for (at, v) in muts {
            // Headers (type, next page) and stream starts of the BLOB pages.
            let page = (at as usize >> 8) % (n / 8192);
            data[page * 8192 + (at as usize & 0xff) % 64] = v;
        }
        let mut r = s.blob_refs[pick.index(s.blob_refs.len())];
        r.len = len;
        let src = Pages { data: &data, zip: 8192 };
        if let Ok(v) = read_extern(&r, &src) {
            prop_assert_eq!(v.len() as u64, len);
        }
    }
}

/// The ZBLOB reader on real chains: every first page of a chain gives a
/// value whose length the chain's stream decides, checked by zlib; a
/// wrong length is an error, never a silently cut value.
#[test]
fn zblob_lengths_are_exact() {
    let s = samples();
    let src = Pages {
        data: &s.blob_file,
        zip: 8192,
    };
    for r in &s.blob_refs {
        // Find the true length: the reference of 300,000 bytes is too long.
        let err = read_extern(r, &src).unwrap_err();
        let salvage::innodb::lob::LobError::Short { got, .. } = err else {
            panic!("{err:?}");
        };
        let exact = ExternRef { len: got, ..*r };
        assert_eq!(read_extern(&exact, &src).unwrap().len() as u64, got);
        let shorter = ExternRef { len: got - 1, ..*r };
        assert!(read_extern(&shorter, &src).is_err());
        // A chain that starts on a ZBLOB2 page is not a value's start.
        let mut bad = s.blob_file.clone();
        let at = r.page_no as usize * 8192 + FIL_PAGE_TYPE;
        bad[at..at + 2].copy_from_slice(&FIL_PAGE_TYPE_ZBLOB2.to_be_bytes());
        let src2 = Pages {
            data: &bad,
            zip: 8192,
        };
        assert!(read_extern(&exact, &src2).is_err());
    }
}
