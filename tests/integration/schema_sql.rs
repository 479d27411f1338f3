//! `CREATE TABLE` files: the fixtures' MariaDB `SHOW CREATE TABLE` output,
//! the sakila mysqldump files and the full sakila schema (views, triggers,
//! procedures with DELIMITER).

use crate::common;

use salvage::schema::sql::{
    parse_create_tables, parse_create_tables_with, parse_schema_lenient, SqlOptions,
};
use salvage::schema::{Charset, ColumnType, IndexField, RowFormat, SchemaSource, TableDef};

fn table<'a>(tables: &'a [TableDef], q: &str) -> &'a TableDef {
    tables
        .iter()
        .find(|t| t.qualified() == q)
        .unwrap_or_else(|| panic!("no table {q}"))
}

fn col_names(t: &TableDef) -> Vec<&str> {
    t.columns.iter().map(|c| c.name.as_str()).collect()
}

fn cols(fields: &[IndexField]) -> Vec<String> {
    fields
        .iter()
        .map(|f| match f {
            IndexField::Column { col, prefix_len } => match prefix_len {
                Some(p) => format!("{col}({p})"),
                None => col.to_string(),
            },
            IndexField::RowId => "ROW_ID".into(),
            IndexField::TrxId => "TRX_ID".into(),
            IndexField::RollPtr => "ROLL_PTR".into(),
            IndexField::DroppedColumn { col } => format!("dropped{col}"),
        })
        .collect()
}

fn main_schema() -> Vec<TableDef> {
    let sql = std::fs::read_to_string(common::fixtures().join("main/truth/schema.sql")).unwrap();
    parse_create_tables(&sql, None).unwrap()
}

#[test]
fn mariadb_fixture_schema_every_table() {
    let tables = main_schema();
    let names: Vec<String> = tables.iter().map(|t| t.qualified()).collect();
    assert_eq!(tables.len(), 26, "{names:?}");
    for t in &tables {
        assert_eq!(t.source, SchemaSource::UserSql);
        assert!(t
            .create_sql
            .as_deref()
            .unwrap()
            .starts_with("CREATE TABLE `"));
    }
    // Row formats, including KEY_BLOCK_SIZE and `PAGE_COMPRESSED`='1'.
    let rf = |q: &str| table(&tables, q).row_format;
    assert_eq!(rf("types.t_redundant"), Some(RowFormat::Redundant));
    assert_eq!(rf("types.t_compact"), Some(RowFormat::Compact));
    assert_eq!(rf("types.t_dynamic"), Some(RowFormat::Dynamic));
    assert_eq!(rf("types.t_compressed_8"), Some(RowFormat::Compressed));
    assert_eq!(rf("types.t_page_compressed"), Some(RowFormat::Dynamic));
    assert_eq!(rf("shop.users"), None);
}

#[test]
fn mariadb_types_table() {
    let tables = main_schema();
    let t = table(&tables, "types.t_page_compressed");
    assert_eq!(t.columns.len(), 38);
    let ty = |n: &str| {
        let c = t.columns.iter().find(|c| c.name == n).unwrap();
        (c.ty.clone(), c.charset, c.nullable)
    };
    use ColumnType as T;
    assert_eq!(
        ty("id"),
        (T::Int { unsigned: false }, Charset::Binary, false)
    );
    assert_eq!(ty("c_tinyint").0, T::TinyInt { unsigned: false });
    assert_eq!(ty("c_utinyint").0, T::TinyInt { unsigned: true });
    assert_eq!(ty("c_usmallint").0, T::SmallInt { unsigned: true });
    assert_eq!(ty("c_umediumint").0, T::MediumInt { unsigned: true });
    assert_eq!(ty("c_uint").0, T::Int { unsigned: true });
    assert_eq!(ty("c_ubigint").0, T::BigInt { unsigned: true });
    assert_eq!(ty("c_bigint").0, T::BigInt { unsigned: false });
    assert_eq!(
        ty("c_decimal").0,
        T::Decimal {
            precision: 20,
            scale: 6
        }
    );
    assert_eq!(
        ty("c_decimal0").0,
        T::Decimal {
            precision: 10,
            scale: 0
        }
    );
    assert_eq!(
        ty("c_decimal65").0,
        T::Decimal {
            precision: 65,
            scale: 30
        }
    );
    assert_eq!(ty("c_float").0, T::Float);
    assert_eq!(ty("c_double").0, T::Double);
    assert_eq!(ty("c_date").0, T::Date);
    assert_eq!(
        ty("c_datetime").0,
        T::DateTime {
            fsp: 0,
            old_format: false
        }
    );
    assert_eq!(
        ty("c_datetime3").0,
        T::DateTime {
            fsp: 3,
            old_format: false
        }
    );
    assert_eq!(
        ty("c_datetime6").0,
        T::DateTime {
            fsp: 6,
            old_format: false
        }
    );
    assert_eq!(
        ty("c_timestamp").0,
        T::Timestamp {
            fsp: 0,
            old_format: false
        }
    );
    assert_eq!(
        ty("c_timestamp6").0,
        T::Timestamp {
            fsp: 6,
            old_format: false
        }
    );
    assert_eq!(
        ty("c_time6").0,
        T::Time {
            fsp: 6,
            old_format: false
        }
    );
    assert_eq!(ty("c_year").0, T::Year);
    assert_eq!(ty("c_char"), (T::Char { len: 10 }, Charset::Utf8mb4, true));
    assert_eq!(
        ty("c_varchar"),
        (T::VarChar { len: 200 }, Charset::Utf8mb4, true)
    );
    assert_eq!(ty("c_text"), (T::Text, Charset::Utf8mb4, true));
    assert_eq!(
        ty("c_binary"),
        (T::Binary { len: 8 }, Charset::Binary, true)
    );
    assert_eq!(
        ty("c_varbinary"),
        (T::VarBinary { len: 64 }, Charset::Binary, true)
    );
    assert_eq!(ty("c_blob"), (T::Blob, Charset::Binary, true));
    assert_eq!(ty("c_bit1").0, T::Bit { bits: 1 });
    assert_eq!(ty("c_bit64").0, T::Bit { bits: 64 });
    assert_eq!(
        ty("c_enum"),
        (
            T::Enum {
                members: vec!["red".into(), "green".into(), "blue".into(), "紫色".into()]
            },
            Charset::Utf8mb4,
            true
        )
    );
    assert_eq!(
        ty("c_set").0,
        T::Set {
            members: vec!["a".into(), "b".into(), "c".into(), "d".into()]
        }
    );
    // MariaDB JSON is LONGTEXT with a CHECK constraint.
    assert_eq!(ty("c_json"), (T::Text, Charset::Utf8mb4, true));
    assert_eq!(ty("c_geometry").0, T::Geometry);
    assert_eq!(ty("c_point").0, T::Geometry);
    // id, TRX_ID, ROLL_PTR, then the 37 other columns.
    assert_eq!(t.n_key_fields, 1);
    assert_eq!(t.clustered.len(), 40);
    assert_eq!(&cols(&t.clustered)[..4], ["0", "TRX_ID", "ROLL_PTR", "1"]);
}

#[test]
fn mariadb_shop_keys_and_charsets() {
    let tables = main_schema();
    // No primary key, no unique index: DB_ROW_ID.
    let ev = table(&tables, "shop.events");
    assert_eq!(col_names(ev), ["ts", "kind", "payload"]);
    assert_eq!(
        cols(&ev.clustered),
        ["ROW_ID", "TRX_ID", "ROLL_PTR", "0", "1", "2"]
    );
    assert_eq!(
        ev.columns[0].ty,
        ColumnType::DateTime {
            fsp: 3,
            old_format: false
        }
    );
    // Composite primary key on a partitioned table.
    let logs = table(&tables, "shop.logs");
    assert_eq!(
        cols(&logs.clustered),
        ["0", "1", "TRX_ID", "ROLL_PTR", "2", "3"]
    );
    assert_eq!(logs.n_key_fields, 2);
    assert_eq!(
        logs.columns[2].ty,
        ColumnType::Enum {
            members: vec!["debug".into(), "info".into(), "warn".into(), "error".into()]
        }
    );
    let orders = table(&tables, "shop.orders");
    assert_eq!(
        cols(&orders.clustered),
        ["0", "1", "TRX_ID", "ROLL_PTR", "2", "3", "4"]
    );
    assert_eq!(
        orders.columns[2].ty,
        ColumnType::Decimal {
            precision: 10,
            scale: 2
        }
    );
    // VARCHAR primary key.
    let products = table(&tables, "shop.products");
    assert_eq!(cols(&products.clustered)[..3], ["0", "TRX_ID", "ROLL_PTR"]);
    assert_eq!(products.columns[0].ty, ColumnType::VarChar { len: 32 });
    // Column charset overrides the table's.
    let sessions = table(&tables, "shop.sessions");
    assert_eq!(sessions.columns[0].charset, Charset::Ascii);
    assert_eq!(sessions.columns[0].ty, ColumnType::Char { len: 32 });
    assert_eq!(sessions.columns[2].charset, Charset::Utf8mb4);
    assert_eq!(
        sessions.columns[3].ty,
        ColumnType::Timestamp {
            fsp: 0,
            old_format: false
        }
    );
    let users = table(&tables, "shop.users");
    assert_eq!(
        col_names(users),
        [
            "id",
            "email",
            "name",
            "age",
            "balance",
            "score",
            "created_at",
            "last_login",
            "status",
            "bio"
        ]
    );
    assert_eq!(
        users.columns[7].ty,
        ColumnType::Timestamp {
            fsp: 3,
            old_format: false
        }
    );
    // Table charsets.
    for (q, cs) in [
        ("charsets.cs_gbk", Charset::Gbk),
        ("charsets.cs_latin1", Charset::Latin1),
        ("charsets.cs_utf8mb3", Charset::Utf8mb3),
        ("charsets.cs_utf8mb4", Charset::Utf8mb4),
    ] {
        let t = table(&tables, q);
        assert_eq!(t.columns[1].charset, cs, "{q}");
        assert_eq!(t.columns[1].ty, ColumnType::Char { len: 20 });
        assert_eq!(t.columns[4].ty, ColumnType::VarChar { len: 3000 });
    }
    let b = table(&tables, "charsets.cs_binary");
    assert_eq!(b.columns[1].ty, ColumnType::Binary { len: 20 });
    assert_eq!(b.columns[3].ty, ColumnType::Blob);
    assert!(b.columns.iter().all(|c| c.charset == Charset::Binary));
}

#[test]
fn every_fixture_instance_schema_parses() {
    let mut n = 0;
    for inst in [
        "main", "demo", "p4k", "p8k", "p32k", "p64k", "crc32", "crash",
    ] {
        let p = common::fixtures().join(inst).join("truth/schema.sql");
        let sql = std::fs::read_to_string(&p).unwrap();
        let tables = parse_create_tables(&sql, None).unwrap_or_else(|e| panic!("{inst}: {e}"));
        assert!(!tables.is_empty(), "{inst}");
        n += tables.len();
    }
    let lost = std::fs::read_to_string(common::fixtures().join("main/lost/schema.sql")).unwrap();
    let lost = parse_create_tables(&lost, None).unwrap();
    assert!(!lost.is_empty());
    assert!(n > 26);
}

fn sakila_dir() -> std::path::PathBuf {
    common::corpus().join("twindb__undrop-for-innodb/sakila")
}

#[test]
fn sakila_mysqldump_files() {
    let mut all = Vec::new();
    for p in common::files_with_ext(&sakila_dir(), ".sql") {
        let sql = std::fs::read_to_string(&p).unwrap();
        let t = parse_create_tables(&sql, Some("sakila"))
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert_eq!(t.len(), 1, "{}", p.display());
        all.extend(t);
    }
    assert_eq!(all.len(), 15);
    let film = table(&all, "sakila.film");
    assert_eq!(
        col_names(film),
        [
            "film_id",
            "title",
            "description",
            "release_year",
            "language_id",
            "original_language_id",
            "rental_duration",
            "rental_rate",
            "length",
            "replacement_cost",
            "rating",
            "special_features",
            "last_update"
        ]
    );
    assert_eq!(film.columns[0].ty, ColumnType::SmallInt { unsigned: true });
    assert!(!film.columns[0].nullable);
    assert_eq!(film.columns[1].charset, Charset::Utf8mb3);
    assert_eq!(film.columns[2].ty, ColumnType::Text);
    assert_eq!(film.columns[3].ty, ColumnType::Year);
    assert_eq!(
        film.columns[7].ty,
        ColumnType::Decimal {
            precision: 4,
            scale: 2
        }
    );
    assert_eq!(
        film.columns[11].ty,
        ColumnType::Set {
            members: vec![
                "Trailers".into(),
                "Commentaries".into(),
                "Deleted Scenes".into(),
                "Behind the Scenes".into()
            ]
        }
    );
    assert_eq!(
        film.columns[12].ty,
        ColumnType::Timestamp {
            fsp: 0,
            old_format: false
        }
    );
    // film_actor: composite key (actor_id, film_id).
    let fa = table(&all, "sakila.film_actor");
    assert_eq!(cols(&fa.clustered), ["0", "1", "TRX_ID", "ROLL_PTR", "2"]);
}

#[test]
fn sakila_full_schema_with_views_and_triggers() {
    let f = std::fs::File::open(sakila_dir().join("sakila-db.tar.gz")).unwrap();
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(f));
    let mut sql = String::new();
    let mut data = String::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        if e.path().unwrap().ends_with("sakila-schema.sql") {
            std::io::Read::read_to_string(&mut e, &mut sql).unwrap();
        } else if e.path().unwrap().ends_with("sakila-data.sql") {
            let mut raw = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut raw).unwrap();
            data = String::from_utf8_lossy(&raw).into_owned();
        }
    }
    // Megabytes of INSERTs: no tables, no errors, and fast (linear).
    assert!(data.len() > 3_000_000);
    let t0 = std::time::Instant::now();
    let (t, e) = parse_schema_lenient(&data, None, &SqlOptions::default());
    assert!(t.is_empty() && e.is_empty());
    assert!(t0.elapsed().as_secs() < 5, "{:?}", t0.elapsed());
    assert!(sql.contains("DELIMITER"));
    let tables = parse_create_tables_with(&sql, None, &SqlOptions::mysql8()).unwrap();
    let names: Vec<String> = tables.iter().map(|t| t.qualified()).collect();
    assert_eq!(tables.len(), 16, "{names:?}");
    assert!(tables.iter().all(|t| t.db == "sakila"), "{names:?}");
    let ft = table(&tables, "sakila.film_text");
    // FULLTEXT: InnoDB's hidden FTS_DOC_ID is stored last.
    assert_eq!(
        col_names(ft),
        ["film_id", "title", "description", "FTS_DOC_ID"]
    );
    assert_eq!(ft.columns[3].ty, ColumnType::BigInt { unsigned: true });
    assert_eq!(ft.columns[2].ty, ColumnType::Text);
    assert_eq!(ft.row_format, None);
    let addr = table(&tables, "sakila.address");
    assert_eq!(addr.columns[4].ty, ColumnType::SmallInt { unsigned: true });
    assert_eq!(addr.columns[1].charset, Charset::Utf8mb3);
}

#[test]
fn mariadb_and_mysql_specific_syntax() {
    let sql = r#"
CREATE DATABASE `d1` /*!40100 DEFAULT CHARACTER SET gbk */;
USE d1;
CREATE TABLE t1 (
  a int NOT NULL,
  b varchar(10),
  c text,
  d int INVISIBLE,
  e int AS (a + 1) VIRTUAL,
  f int AS (a + 2) PERSISTENT,
  g int GENERATED ALWAYS AS (a * 2) STORED,
  h int WITHOUT SYSTEM VERSIONING,
  i char(4) CHARACTER SET binary,
  j json,
  k varchar(5) COLLATE latin1_bin,
  l inet6,
  m uuid,
  n int(5) unsigned zerofill,
  o double precision,
  p float(30),
  q bool,
  r point NOT NULL /*!80003 SRID 4326 */,
  s bigint SIGNED,
  UNIQUE KEY (b),
  UNIQUE KEY uk (a, k)
) ENGINE=InnoDB `PAGE_COMPRESSED`='ON' `PAGE_COMPRESSION_LEVEL`=9 KEY_BLOCK_SIZE=4 STATS_PERSISTENT=0
/*!50100 PARTITION BY HASH (a) PARTITIONS 4 */;
CREATE TABLE `other`.`t2` (`x` varchar(20) NOT NULL, `y` blob, PRIMARY KEY (`x`(5)), KEY (y(10)));
CREATE TABLE t3 (x int primary key, y int) CHARSET=latin1;
CREATE TABLE t4 LIKE t3;
INSERT INTO t3 VALUES (1, 2);
"#;
    let tables = parse_create_tables(sql, Some("dflt")).unwrap();
    assert_eq!(tables.len(), 3);
    let t1 = table(&tables, "d1.t1");
    assert_eq!(t1.row_format, Some(RowFormat::Compressed));
    let c = |n: &str| t1.columns.iter().find(|c| c.name == n).unwrap();
    assert_eq!(c("b").charset, Charset::Gbk);
    assert_eq!(c("c").ty, ColumnType::Text);
    assert!(c("e").is_virtual);
    assert!(!c("f").is_virtual);
    assert!(!c("g").is_virtual);
    assert_eq!(c("i").ty, ColumnType::Binary { len: 4 });
    assert_eq!(c("j").ty, ColumnType::Text);
    assert_eq!(c("j").charset, Charset::Utf8mb4);
    assert_eq!(c("k").charset, Charset::Latin1);
    assert_eq!(c("l").ty, ColumnType::Binary { len: 16 });
    assert_eq!(c("m").ty, ColumnType::Binary { len: 16 });
    assert_eq!(c("n").ty, ColumnType::Int { unsigned: true });
    assert_eq!(c("o").ty, ColumnType::Double);
    assert_eq!(c("p").ty, ColumnType::Double);
    assert_eq!(c("q").ty, ColumnType::TinyInt { unsigned: false });
    assert_eq!(c("r").ty, ColumnType::Geometry);
    assert_eq!(c("s").ty, ColumnType::BigInt { unsigned: false });
    // b is nullable, so the first all-NOT-NULL unique key (a, k)? k is nullable too: DB_ROW_ID.
    assert_eq!(t1.clustered[0], IndexField::RowId);
    // The virtual column is not stored.
    assert!(!t1.clustered.contains(&IndexField::Column {
        col: 4,
        prefix_len: None
    }));

    let t2 = table(&tables, "other.t2");
    // Prefix in characters x mbmaxlen (`other` has no CREATE DATABASE: latin1).
    assert_eq!(
        t2.clustered,
        vec![
            IndexField::Column {
                col: 0,
                prefix_len: Some(5)
            },
            IndexField::TrxId,
            IndexField::RollPtr,
            IndexField::Column {
                col: 0,
                prefix_len: None
            },
            IndexField::Column {
                col: 1,
                prefix_len: None
            },
        ]
    );
    let t3 = table(&tables, "d1.t3");
    assert_eq!(cols(&t3.clustered), ["0", "TRX_ID", "ROLL_PTR", "1"]);

    // MySQL 8: json is binary JSON.
    let t =
        parse_create_tables_with("create table j (a json)", None, &SqlOptions::mysql8()).unwrap();
    assert_eq!(t[0].columns[0].ty, ColumnType::Json);
    assert_eq!(t[0].db, "");
}

#[test]
fn unique_not_null_key_becomes_clustered() {
    let sql = "CREATE TABLE u (a int, b int NOT NULL, c varchar(3) NOT NULL, UNIQUE KEY (a), UNIQUE KEY (c, b));";
    let t = parse_create_tables(sql, None).unwrap();
    assert_eq!(cols(&t[0].clustered), ["2", "1", "TRX_ID", "ROLL_PTR", "0"]);
    assert_eq!(t[0].n_key_fields, 2);
}

#[test]
fn bad_statements_are_reported_not_fatal() {
    let sql = "CREATE TABLE ok1 (a int);\nCREATE TABLE bad (a frobnicate(3));\nCREATE TABLE bad2 (a int, PRIMARY KEY (zz));\nCREATE TABLE ok2 (b int);\nCREATE TABLE trunc (a int";
    let sql = format!("{sql};\nCREATE TABLE comp (a int, b blob COMPRESSED)");
    let (tables, errors) = parse_schema_lenient(&sql, None, &SqlOptions::default());
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["ok1", "ok2"]);
    assert_eq!(errors.len(), 4, "{errors:?}");
    // Column compression is refused, not guessed.
    assert!(
        errors[3].to_string().contains("COMPRESSED"),
        "{}",
        errors[3]
    );
    assert!(errors[0].to_string().contains("line 2"), "{}", errors[0]);
    assert!(parse_create_tables(&sql, None).is_err());
}

mod hostile {
    use super::*;
    use proptest::prelude::*;

    fn corpus_sql() -> String {
        let mut s =
            std::fs::read_to_string(common::fixtures().join("main/truth/schema.sql")).unwrap();
        s.truncate(6000);
        s.push_str(
            "\nCREATE TABLE x (a int AS (((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))) VIRTUAL);\n\
             DELIMITER ;;\n/*!50003 CREATE TRIGGER t BEFORE INSERT ON x FOR EACH ROW SET @a = 1 */;;\nDELIMITER ;\n",
        );
        s
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

        /// Byte flips, inserted quotes/parentheses and truncation: tables or
        /// errors, never a panic.
        #[test]
        fn mutated_sql_never_panics(
            muts in proptest::collection::vec((0usize..7000, prop::sample::select(vec![b'(', b')', b'\'', b'`', b'"', b';', b',', b'\\', b'*', b'/', b'-', 0xFF, b' '])), 1..12),
            cut in 0usize..7000,
        ) {
            let mut b = corpus_sql().into_bytes();
            for &(off, c) in &muts {
                let n = b.len();
                b[off % n] = c;
            }
            b.truncate(cut.max(1).min(b.len()));
            let s = String::from_utf8_lossy(&b);
            let _ = parse_schema_lenient(&s, Some("d"), &SqlOptions::default());
            let _ = parse_schema_lenient(&s, None, &SqlOptions::mysql8());
        }
    }
}

/// MariaDB 10.11 SHOW CREATE TABLE output of system-versioned tables; the
/// expected layouts are what the server's own .frm files say (row_end
/// appended to the primary key, implicit row_start/row_end stored last).
#[test]
fn mariadb_system_versioning() {
    let sql = "CREATE TABLE `v4` (
  `id` int(11) NOT NULL,
  `x` int(11) DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci WITH SYSTEM VERSIONING;
CREATE TABLE `v7` (
  `id` int(11) NOT NULL,
  `x` int(11) DEFAULT NULL,
  `s` timestamp(6) GENERATED ALWAYS AS ROW START,
  `e` timestamp(6) GENERATED ALWAYS AS ROW END,
  PRIMARY KEY (`id`,`e`),
  UNIQUE KEY `x` (`x`,`e`),
  PERIOD FOR SYSTEM_TIME (`s`, `e`)
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci WITH SYSTEM VERSIONING;";
    let t = parse_create_tables(sql, Some("x")).unwrap();
    assert_eq!(col_names(&t[0]), ["id", "x", "row_start", "row_end"]);
    assert_eq!(
        cols(&t[0].clustered),
        ["0", "3", "TRX_ID", "ROLL_PTR", "1", "2"]
    );
    assert_eq!(
        t[0].columns[3].ty,
        ColumnType::Timestamp {
            fsp: 6,
            old_format: false
        }
    );
    assert!(!t[0].columns[2].nullable);
    assert_eq!(col_names(&t[1]), ["id", "x", "s", "e"]);
    assert_eq!(
        cols(&t[1].clustered),
        ["0", "3", "TRX_ID", "ROLL_PTR", "1", "2"]
    );
    assert!(t[1].columns[2..]
        .iter()
        .all(|c| !c.nullable && !c.is_virtual));
}
