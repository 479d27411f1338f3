//! Off-page MySQL binary JSON deferred, never assembled, on real
//! tablespaces: ../shared/corpus/KernelMaker__ibdNinja (MySQL 8.0.40,
//! 8.4.8, 9.6.0), `json_partial` (two ~10 KB documents), `json_partial_large`
//! (~48 KB over several LOB index entries and data pages),
//! `json_partial_purged`, and `type_test` (a JSON column in the record).
//! Each leaf page is decoded twice through the library: every value
//! assembled, and with values over 1 KiB deferred; a deferred JSON value's
//! streamed CSV field must be the whole value's field byte for byte.

use std::borrow::Cow;

use crate::common;
use crate::rows_schema::leaf_chain;

use salvage::export::csv::write_field;
use salvage::innodb::deferred::Form;
use salvage::innodb::lob::{read_extern, PageSource};
use salvage::innodb::rows::{decode_leaf_page_text, PageText, Value};
use salvage::innodb::sdi::tables_from_file_bytes;
use salvage::schema::{ColumnType, TableDef};

const PAGE: usize = 16384;

/// The pages of a tablespace file; values over `over` bytes deferred.
struct Pages<'a> {
    data: &'a [u8],
    over: Option<u64>,
}

impl PageSource for Pages<'_> {
    fn page(&self, _space_id: u32, page_no: u32) -> Option<Cow<'_, [u8]>> {
        let s = (page_no as usize).checked_mul(PAGE)?;
        self.data.get(s..s + PAGE).map(Cow::Borrowed)
    }

    fn defer_values_over(&self) -> Option<u64> {
        self.over
    }
}

fn fixture(version: &str, table: &str) -> Vec<u8> {
    let p = common::corpus().join(format!(
        "KernelMaker__ibdNinja/tests/{version}/fixtures/{table}.ibd"
    ));
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The first bytes of the first off-page value of field `name` in the
/// golden dump `expected/<table>_parse_page_4_records.txt` (ibdNinja's
/// hex of the LOB data, cut after 256 bytes).
fn golden_lob_prefix(version: &str, table: &str, name: &str) -> Vec<u8> {
    let p = common::corpus().join(format!(
        "KernelMaker__ibdNinja/tests/{version}/expected/{table}_parse_page_4_records.txt"
    ));
    let text = std::fs::read_to_string(&p).unwrap();
    let field = text
        .split("[FIELD")
        .find(|f| f.contains(&format!("Name  : {name}\n")))
        .unwrap_or_else(|| panic!("{}: no field {name}", p.display()));
    let lob = field.split("[LOB DATA").nth(1).unwrap();
    let mut out = Vec::new();
    for line in lob.lines().skip(1) {
        let line = line.trim();
        if line.starts_with('[') || line.is_empty() {
            break;
        }
        out.extend(
            line.split_whitespace()
                .map(|h| u8::from_str_radix(h, 16).unwrap()),
        );
    }
    out
}

/// Every JSON value of the table's leaf pages, decoded whole and with
/// values over 1 KiB deferred: the same rows, the same failures, and each
/// deferred value's streamed field equal to the whole value's. Returns the
/// whole text of the deferred values and their off-page bytes.
fn check_table(version: &str, table: &str) -> Vec<(String, Vec<u8>)> {
    let data = fixture(version, table);
    let mut defs = tables_from_file_bytes(&data).unwrap();
    assert_eq!(defs.len(), 1, "{version}/{table}");
    let t: TableDef = defs.remove(0);
    let whole_src = Pages {
        data: &data,
        over: None,
    };
    let defer_src = Pages {
        data: &data,
        over: Some(1024),
    };
    let mut deferred = Vec::new();
    let leaves = leaf_chain(&data, PAGE, t.index_id.unwrap());
    assert!(!leaves.is_empty());
    for n in leaves {
        let page = &data[n as usize * PAGE..][..PAGE];
        let whole: PageText = decode_leaf_page_text(page, &t, &whole_src);
        let def: PageText = decode_leaf_page_text(page, &t, &defer_src);
        assert!(
            whole.error.is_none(),
            "{version}/{table}: {:?}",
            whole.error
        );
        assert_eq!(whole.values.len(), def.values.len());
        for r in 0..whole.values.len() {
            assert_eq!(whole.failures(r), def.failures(r), "{version}/{table}");
            let (w, d) = (whole.values.row(r), def.values.row(r));
            for c in 0..t.columns.len() {
                match (w.get(c), d.get(c)) {
                    (Some(Value::Text(text)), Some(Value::Deferred(dv))) => {
                        assert_eq!(t.columns[c].ty, ColumnType::Json);
                        assert_eq!(dv.form, Form::Json);
                        let mut streamed = Vec::new();
                        dv.write_csv(&defer_src, &mut |b| {
                            streamed.extend_from_slice(b);
                            Ok(())
                        })
                        .unwrap();
                        let mut want = Vec::new();
                        write_field(&mut want, Some(text));
                        assert!(
                            streamed == want,
                            "{version}/{table} row {r} column {c}: streamed field differs"
                        );
                        assert_eq!(dv.text(&defer_src).unwrap(), text);
                        let bytes = read_extern(&dv.extern_ref, &defer_src).unwrap();
                        deferred.push((text.to_string(), bytes));
                    }
                    (Some(Value::Text(a)), Some(Value::Text(b))) => assert_eq!(a, b),
                    (None, None) => {}
                    (a, b) => panic!("{version}/{table} row {r} column {c}: {a:?} / {b:?}"),
                }
            }
        }
    }
    deferred
}

#[test]
fn deferred_json_streams_the_field_of_the_whole_value() {
    for version in ["8.0", "8.4", "9.0"] {
        let p = check_table(version, "json_partial");
        assert_eq!(p.len(), 2, "{version}: doc1 and doc2 deferred");
        // doc1 as the 13_json_partial_update.sql INSERT and the partial
        // updates of the generator (payload 'M' * 10000; the comment in
        // corpus_recover.rs), keys in MySQL's order (length, then bytes).
        assert!(p[0].0.contains(
            "\"numbers\": [0, 1, -1, 255, -128, 65535, 100000, 2147483647, -2147483648, \
             4294967295, 9999999999], \"payload\": \"MMMM"
        ));
        assert_eq!(p[0].0.matches('M').count(), 10_000);
        let large = check_table(version, "json_partial_large");
        assert_eq!(large.len(), 1);
        assert!(large[0].1.len() > 48_000, "{}", large[0].1.len());
        assert!(large[0]
            .0
            .contains(&format!("\"chunk_b\": \"{}\"", "B".repeat(12000))));
        if version != "9.0" {
            let purged = check_table(version, "json_partial_purged");
            assert_eq!(purged.len(), 1);
            let (text, bytes) = &purged[0];
            assert_eq!(
                *text,
                format!(
                    "{{\"status\": \"active\", \"counter\": 1, \"payload\": \"{}\"}}",
                    "Z".repeat(10000)
                )
            );
            // The off-page bytes behind it are those of the golden dump.
            let golden = golden_lob_prefix(version, "json_partial_purged", "doc");
            assert_eq!(golden.len(), 256);
            assert_eq!(&bytes[..256], &golden[..]);
            let golden = golden_lob_prefix(version, "json_partial", "doc1");
            assert_eq!(&p[0].1[..256], &golden[..]);
        }
        // JSON in the record: nothing deferred, the same text.
        assert!(check_table(version, "type_test").is_empty());
    }
}
