//! MySQL 8 SDI on real tablespaces: ibdNinja (8.0.40, 8.4.8, 9.6.0),
//! innodb-java-reader (8.0.18, with SDI BLOB pages) and innodb_ruby's
//! sakila (8.0, 8.4), compared with the SQL that made the tables.

use crate::common;

use std::borrow::Cow;
use std::path::Path;

use proptest::prelude::*;
use salvage::innodb::sdi::{read_sdi, tables_from_file_bytes, SDI_TYPE_TABLE, SDI_TYPE_TABLESPACE};
use salvage::schema::sql::{parse_create_tables_with, SqlOptions};
use salvage::schema::{Charset, ColumnType, IndexField, RowFormat, SchemaSource, TableDef};

fn sdi_of(p: &Path) -> Vec<TableDef> {
    let bytes = std::fs::read(p).unwrap();
    tables_from_file_bytes(&bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn one(p: &Path) -> TableDef {
    let mut t = sdi_of(p);
    assert_eq!(t.len(), 1, "{}", p.display());
    t.remove(0)
}

fn fields(t: &TableDef) -> Vec<String> {
    t.clustered
        .iter()
        .map(|f| match f {
            IndexField::Column { col, prefix_len } => match prefix_len {
                Some(p) => format!("{}({p})", t.columns[*col].name),
                None => t.columns[*col].name.clone(),
            },
            IndexField::DroppedColumn { col } => {
                format!("dropped:{}", t.dropped_columns[*col].name)
            }
            IndexField::RowId => "DB_ROW_ID".into(),
            IndexField::TrxId => "DB_TRX_ID".into(),
            IndexField::RollPtr => "DB_ROLL_PTR".into(),
        })
        .collect()
}

fn ninja(ver: &str, name: &str) -> std::path::PathBuf {
    common::corpus().join(format!(
        "KernelMaker__ibdNinja/tests/{ver}/fixtures/{name}.ibd"
    ))
}

/// Same columns (names, types, charsets, NULL-ness) and clustered layout.
fn assert_same_shape(sdi: &TableDef, sql: &TableDef, ctx: &str) {
    let names = |t: &TableDef| t.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(sdi), names(sql), "{ctx}: column names");
    for (a, b) in sdi.columns.iter().zip(&sql.columns) {
        assert_eq!(a.ty, b.ty, "{ctx}: type of {}", a.name);
        assert_eq!(a.charset, b.charset, "{ctx}: charset of {}", a.name);
        assert_eq!(a.nullable, b.nullable, "{ctx}: nullability of {}", a.name);
        assert_eq!(a.is_virtual, b.is_virtual, "{ctx}: virtual {}", a.name);
    }
    assert_eq!(fields(sdi), fields(sql), "{ctx}: clustered fields");
    assert_eq!(sdi.n_key_fields, sql.n_key_fields, "{ctx}: key fields");
}

#[test]
fn ibdninja_every_fixture_every_version() {
    let mut n = 0;
    for ver in ["8.0", "8.4", "9.0"] {
        let dir = common::corpus().join(format!("KernelMaker__ibdNinja/tests/{ver}/fixtures"));
        for p in common::files_with_ext(&dir, ".ibd") {
            let t = one(&p);
            let stem = p.file_stem().unwrap().to_str().unwrap();
            assert_eq!(t.name, stem, "{}", p.display());
            assert_eq!(t.db, "ibdninja_test");
            assert_eq!(t.source, SchemaSource::Sdi);
            assert_eq!(t.row_format, Some(RowFormat::Dynamic));
            assert!(
                t.index_id.is_some() && t.space_id.is_some(),
                "{}",
                p.display()
            );
            assert!(t.clustered.contains(&IndexField::TrxId));
            n += 1;
        }
    }
    assert_eq!(n, 14 + 14 + 13);
}

#[test]
fn ibdninja_simple_table_matches_its_sql() {
    let sql = std::fs::read_to_string(
        common::corpus().join("KernelMaker__ibdNinja/tests/8.0/sql/01_simple_table.sql"),
    )
    .unwrap();
    let from_sql =
        parse_create_tables_with(&sql, Some("ibdninja_test"), &SqlOptions::mysql8()).unwrap();
    for ver in ["8.0", "8.4", "9.0"] {
        let t = one(&ninja(ver, "simple_table"));
        assert_eq!(
            fields(&t),
            ["id", "DB_TRX_ID", "DB_ROLL_PTR", "name", "age", "email"]
        );
        assert_eq!(t.columns[1].ty, ColumnType::VarChar { len: 100 });
        assert_eq!(t.columns[1].charset, Charset::Utf8mb4);
        assert_same_shape(&t, &from_sql[0], ver);
    }
    // The index id and space id of the 8.0.40 file.
    let t = one(&ninja("8.0", "simple_table"));
    assert_eq!(t.space_id, Some(2));
    assert_eq!(t.index_id, Some(158));
}

#[test]
fn ibdninja_tables_match_their_create_table() {
    // Tables whose SQL has no ALTER: the SDI must say what CREATE TABLE said.
    let mut compared = 0;
    for ver in ["8.0", "8.4", "9.0"] {
        let sqldir = common::corpus().join(format!("KernelMaker__ibdNinja/tests/{ver}/sql"));
        for p in common::files_with_ext(&sqldir, ".sql") {
            let sql = std::fs::read_to_string(&p).unwrap();
            if sql.to_ascii_uppercase().contains("ALTER TABLE") {
                continue;
            }
            let tables =
                parse_create_tables_with(&sql, Some("ibdninja_test"), &SqlOptions::mysql8())
                    .unwrap();
            for t in tables {
                let ibd = ninja(ver, &t.name);
                if !ibd.exists() {
                    continue;
                }
                let s = one(&ibd);
                assert_same_shape(&s, &t, &format!("{ver} {}", t.name));
                compared += 1;
            }
        }
    }
    assert!(compared >= 25, "{compared}");
}

#[test]
fn ibdninja_no_pk_and_types() {
    let t = one(&ninja("8.0", "nullable_no_pk"));
    assert_eq!(
        fields(&t),
        [
            "DB_ROW_ID",
            "DB_TRX_ID",
            "DB_ROLL_PTR",
            "col1",
            "col2",
            "col3",
            "col4"
        ]
    );
    assert_eq!(t.n_key_fields, 1);
    assert_eq!(t.index_id, Some(165));

    let t = one(&ninja("8.0", "type_test"));
    assert_eq!(t.index_id, Some(170));
    assert_eq!(t.space_id, Some(10));
    let ty = |n: &str| {
        t.columns
            .iter()
            .find(|c| c.name == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    assert_eq!(
        ty("col_mediumint").ty,
        ColumnType::MediumInt { unsigned: false }
    );
    assert_eq!(
        ty("col_decimal_large").ty,
        ColumnType::Decimal {
            precision: 20,
            scale: 5
        }
    );
    assert_eq!(ty("col_bit64").ty, ColumnType::Bit { bits: 64 });
    assert_eq!(ty("col_char_utf8").ty, ColumnType::Char { len: 20 });
    assert_eq!(ty("col_char_utf8").charset, Charset::Utf8mb4);
    assert_eq!(ty("col_char_latin1").charset, Charset::Latin1);
    assert_eq!(ty("col_binary").ty, ColumnType::Binary { len: 10 });
    assert_eq!(ty("col_varbinary").ty, ColumnType::VarBinary { len: 100 });
    assert_eq!(ty("col_text_latin1").ty, ColumnType::Text);
    assert_eq!(ty("col_blob").ty, ColumnType::Blob);
    assert_eq!(
        ty("col_timestamp3").ty,
        ColumnType::Timestamp {
            fsp: 3,
            old_format: false
        }
    );
    assert_eq!(
        ty("col_time6").ty,
        ColumnType::Time {
            fsp: 6,
            old_format: false
        }
    );
    assert_eq!(ty("col_date").ty, ColumnType::Date);
    assert_eq!(ty("col_year").ty, ColumnType::Year);
    assert_eq!(ty("col_point").ty, ColumnType::Geometry);
    assert_eq!(
        ty("col_enum").ty,
        ColumnType::Enum {
            members: vec!["small".into(), "medium".into(), "large".into()]
        }
    );
    assert_eq!(
        ty("col_set").ty,
        ColumnType::Set {
            members: vec!["red".into(), "green".into(), "blue".into()]
        }
    );
    assert_eq!(ty("col_json").ty, ColumnType::Json);
    assert!(ty("col_virtual_int").is_virtual);
    // FULLTEXT: the hidden FTS_DOC_ID is a stored column.
    assert_eq!(ty("FTS_DOC_ID").ty, ColumnType::BigInt { unsigned: true });
    let f = fields(&t);
    assert_eq!(
        f[..4],
        ["col_int", "DB_TRX_ID", "DB_ROLL_PTR", "col_tinyint"]
    );
    assert!(!f.iter().any(|x| x.starts_with("col_virtual")));

    let v = one(&ninja("9.0", "vector_test"));
    assert_eq!(v.columns[2].ty, ColumnType::Vector { dims: 4 });
    assert_eq!(v.columns[3].ty, ColumnType::Vector { dims: 16 });
}

#[test]
fn ibdninja_instant_add_and_drop() {
    let t = one(&ninja("8.0", "instant_add_col"));
    assert_eq!(
        fields(&t),
        [
            "id",
            "DB_TRX_ID",
            "DB_ROLL_PTR",
            "name",
            "value",
            "new_col1",
            "new_col2"
        ]
    );
    let c = |n: &str| t.columns.iter().find(|c| c.name == n).unwrap();
    assert_eq!(
        c("new_col1").instant_default,
        Some(Some(vec![0x80, 0, 0, 0]))
    );
    assert_eq!(
        c("new_col2").instant_default,
        Some(Some(b"default_value".to_vec()))
    );
    assert_eq!(c("new_col2").version_added, Some(2));
    assert_eq!(c("name").physical_pos, Some(3));
    assert_eq!(c("id").instant_default, None);
    assert_eq!(t.current_row_version, 2);

    let t = one(&ninja("8.0", "instant_add_drop"));
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["col_uint", "col_datetime_0", "col_datetime_6"]);
    assert_eq!(t.dropped_columns.len(), 2);
    assert_eq!(t.dropped_columns[0].ty, ColumnType::VarChar { len: 10 });
    assert_eq!(t.dropped_columns[0].version_dropped, Some(3));
    assert_eq!(t.dropped_columns[1].ty, ColumnType::Char { len: 10 });
    assert_eq!(t.dropped_columns[1].version_added, Some(2));
    assert_eq!(t.dropped_columns[1].version_dropped, Some(4));
    assert_eq!(t.columns[2].instant_default, Some(None));
    assert_eq!(t.current_row_version, 4);
    // Physical order: dropped fields stay where they were.
    assert_eq!(
        fields(&t),
        [
            "col_uint",
            "DB_TRX_ID",
            "DB_ROLL_PTR",
            "col_datetime_0",
            "dropped:!hidden!_dropped_v3_p4_col_varchar",
            "col_datetime_6",
            "dropped:!hidden!_dropped_v4_p6_col_char"
        ]
    );
    assert_eq!(t.index_id, Some(169));
}

#[test]
fn ibdninja_upgraded_table_with_seven_row_versions() {
    // Created on 8.0.30, upgraded to 8.0.40, then instant ADD/DROP.
    let t = one(&ninja("8.0", "ddl_test"));
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["id", "original_col1", "verify_column", "data_v3", "data_v5"]
    );
    assert_eq!(t.columns[3].ty, ColumnType::Json);
    assert_eq!(
        t.columns[4].ty,
        ColumnType::Decimal {
            precision: 10,
            scale: 2
        }
    );
    assert_eq!(t.dropped_columns.len(), 3);
    assert_eq!(t.current_row_version, 7);
    assert_eq!(
        fields(&t),
        [
            "id",
            "DB_TRX_ID",
            "DB_ROLL_PTR",
            "original_col1",
            "dropped:!hidden!_dropped_v5_p4_original_col2",
            "verify_column",
            "dropped:!hidden!_dropped_v6_p6_data_v2",
            "data_v3",
            "dropped:!hidden!_dropped_v7_p8_data_v4",
            "data_v5"
        ]
    );
    assert_eq!(t.index_id, Some(157));
}

#[test]
fn java_reader_mysql80_every_file_with_sdi_blob() {
    let dir = common::corpus().join(
        "alibaba__innodb-java-reader/innodb-java-reader/src/test/resources/testsuite/mysql80",
    );
    let files = common::files_with_ext(&dir, ".ibd");
    assert_eq!(files.len(), 25);
    for p in &files {
        let t = one(p);
        assert_eq!(
            t.name,
            p.file_stem().unwrap().to_str().unwrap(),
            "{}",
            p.display()
        );
    }
    // tb25: its table SDI is 21,981 compressed bytes in two SDI BLOB pages.
    let p = dir.join("column/enum/tb25.ibd");
    let bytes = std::fs::read(&p).unwrap();
    let recs = read_sdi(|n| {
        bytes
            .get(n as usize * 16384..(n as usize + 1) * 16384)
            .map(Cow::Borrowed)
    })
    .unwrap();
    let recs: Vec<_> = recs.into_iter().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].sdi_type, SDI_TYPE_TABLE);
    assert_eq!(recs[0].json.len(), 112_450);
    assert_eq!(recs[1].sdi_type, SDI_TYPE_TABLESPACE);
    let t = one(&p);
    assert_eq!(t.space_id, Some(82));
    assert_eq!(
        t.columns[3].ty,
        ColumnType::Enum {
            members: vec!["数据".into(), "存储".into()]
        }
    );
    let ColumnType::Enum { members } = &t.columns[4].ty else {
        panic!("{:?}", t.columns[4].ty)
    };
    assert!(members.len() > 1000, "{}", members.len());
    assert_eq!(members[..3], ["001001", "001004", "001010"]);
    // The 8.0.18 tables against the SQL that made them (in mysql56/).
    let sqldir = common::corpus().join(
        "alibaba__innodb-java-reader/innodb-java-reader/src/test/resources/testsuite/mysql56",
    );
    let mut compared = 0;
    for p in &files {
        let rel = p.strip_prefix(&dir).unwrap().with_extension("sql");
        let sql = match std::fs::read(sqldir.join(&rel)) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => panic!("{}: {e}", rel.display()),
        };
        let Ok(tables) = parse_create_tables_with(&sql, None, &SqlOptions::mysql8()) else {
            continue;
        };
        let Some(st) = tables
            .iter()
            .find(|t| t.name == p.file_stem().unwrap().to_str().unwrap())
        else {
            continue;
        };
        let s = one(p);
        let names = |t: &TableDef| t.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&s), names(st), "{}", rel.display());
        for (a, b) in s.columns.iter().zip(&st.columns) {
            assert_eq!(a.ty, b.ty, "{} {}", rel.display(), a.name);
        }
        assert_eq!(fields(&s), fields(st), "{}", rel.display());
        compared += 1;
    }
    assert!(compared >= 15, "{compared}");
}

#[test]
fn sakila_80_and_84() {
    for ver in ["8.0", "8.4"] {
        let dir = common::corpus().join(format!(
            "jeremycole__innodb_ruby/spec/data/sakila/{ver}/sakila"
        ));
        let mut names = Vec::new();
        for p in common::files_with_ext(&dir, ".ibd") {
            let stem = p.file_stem().unwrap().to_str().unwrap().to_string();
            let tables = sdi_of(&p);
            if stem.starts_with("fts_") {
                continue;
            }
            assert_eq!(tables.len(), 1, "{stem}");
            assert_eq!(tables[0].name, stem);
            assert_eq!(tables[0].db, "sakila");
            names.push(stem);
        }
        // payment and rental are over the corpus size limit.
        assert_eq!(names.len(), 14, "{ver}: {names:?}");
        let film = one(&dir.join("film.ibd"));
        let f = fields(&film);
        assert_eq!(f[..4], ["film_id", "DB_TRX_ID", "DB_ROLL_PTR", "title"]);
        assert_eq!(film.columns[0].ty, ColumnType::SmallInt { unsigned: true });
        assert_eq!(film.columns[3].ty, ColumnType::Year);
        assert_eq!(
            film.columns[7].ty,
            ColumnType::Decimal {
                precision: 4,
                scale: 2
            }
        );
        assert_eq!(
            film.columns[10].ty,
            ColumnType::Enum {
                members: ["G", "PG", "PG-13", "R", "NC-17"]
                    .map(String::from)
                    .to_vec()
            }
        );
        let fa = one(&dir.join("film_actor.ibd"));
        assert_eq!(
            fields(&fa),
            [
                "actor_id",
                "film_id",
                "DB_TRX_ID",
                "DB_ROLL_PTR",
                "last_update"
            ]
        );
        let addr = one(&dir.join("address.ibd"));
        let loc = addr.columns.iter().find(|c| c.name == "location").unwrap();
        assert_eq!(loc.ty, ColumnType::Geometry);
        let staff = one(&dir.join("staff.ibd"));
        let pic = staff.columns.iter().find(|c| c.name == "picture").unwrap();
        assert_eq!(pic.ty, ColumnType::Blob);
    }
}

fn flip(bytes: &mut [u8], muts: &[(usize, u8)], base: usize, span: usize) {
    for &(off, x) in muts {
        let i = base + off % span;
        if let Some(b) = bytes.get_mut(i) {
            *b ^= x;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// Mutated page 0 and SDI pages (root, leaf, BLOB pages): an error or
    /// tables, never a panic.
    #[test]
    fn mutated_sdi_never_panics(muts in proptest::collection::vec((0usize..49152, 1u8..=255), 1..24), which in 0usize..3) {
        let (p, base) = match which {
            0 => (ninja("8.0", "type_test"), 3 * 16384),
            1 => (common::corpus().join("alibaba__innodb-java-reader/innodb-java-reader/src/test/resources/testsuite/mysql80/column/enum/tb25.ibd"), 3 * 16384),
            _ => (ninja("8.0", "instant_add_drop"), 0),
        };
        let mut bytes = std::fs::read(p).unwrap();
        flip(&mut bytes, &muts, base, 3 * 16384);
        let _ = tables_from_file_bytes(&bytes);
        // Truncated files too.
        let cut = muts[0].0 % bytes.len();
        let _ = tables_from_file_bytes(&bytes[..cut]);
    }
}
