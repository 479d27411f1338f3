//! `.frm` files: every table of the MariaDB 10.11 fixture instances against
//! their `SHOW CREATE TABLE` truth, and innodb_ruby's sakila `.frm` files
//! (MySQL 5.0 / 5.5) against the sakila mysqldump.

use crate::common;

use std::path::Path;

use proptest::prelude::*;
use salvage::innodb::frm::{looks_like_frm, parse_frm, parse_frm_named, table_name_from_path};
use salvage::schema::sql::parse_create_tables;
use salvage::schema::{ColumnType, IndexField, RowFormat, SchemaSource, TableDef};

fn fields(t: &TableDef) -> Vec<String> {
    t.clustered
        .iter()
        .map(|f| match f {
            IndexField::Column { col, prefix_len } => match prefix_len {
                Some(p) => format!("{}({p})", t.columns[*col].name),
                None => t.columns[*col].name.clone(),
            },
            IndexField::DroppedColumn { col } => format!("dropped{col}"),
            IndexField::RowId => "DB_ROW_ID".into(),
            IndexField::TrxId => "DB_TRX_ID".into(),
            IndexField::RollPtr => "DB_ROLL_PTR".into(),
        })
        .collect()
}

fn assert_same(frm: &TableDef, sql: &TableDef, ctx: &str) {
    let names = |t: &TableDef| t.columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(frm), names(sql), "{ctx}: column names");
    for (a, b) in frm.columns.iter().zip(&sql.columns) {
        assert_eq!(a.ty, b.ty, "{ctx}: type of {}", a.name);
        assert_eq!(a.charset, b.charset, "{ctx}: charset of {}", a.name);
        assert_eq!(a.nullable, b.nullable, "{ctx}: NULL-ness of {}", a.name);
        assert_eq!(a.is_virtual, b.is_virtual, "{ctx}: virtual {}", a.name);
    }
    assert_eq!(fields(frm), fields(sql), "{ctx}: clustered fields");
    assert_eq!(frm.n_key_fields, sql.n_key_fields, "{ctx}: key fields");
}

/// Every .frm of an instance equals its truth schema, with MySQL 5.6+
/// temporal formats (MariaDB 10.11 default).
fn check_instance(inst: &str) -> usize {
    let dir = common::unpack_datadir(inst);
    let sql =
        std::fs::read_to_string(common::fixtures().join(inst).join("truth/schema.sql")).unwrap();
    let truth = parse_create_tables(&sql, None).unwrap();
    let frms = common::files_with_ext(dir.path(), ".frm");
    assert_eq!(frms.len(), truth.len(), "{inst}: one .frm per table");
    for p in &frms {
        let bytes = std::fs::read(p).unwrap();
        assert!(looks_like_frm(&bytes), "{}", p.display());
        let (db, name) = table_name_from_path(p).unwrap();
        let t =
            parse_frm_named(&bytes, &db, &name).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert_eq!(t.source, SchemaSource::Frm);
        let s = truth
            .iter()
            .find(|s| s.db == db && s.name == name)
            .unwrap_or_else(|| panic!("{db}.{name} not in the truth"));
        // The SQL layer's temporal types carry no format; the .frm does.
        let mut f = t.clone();
        for c in &mut f.columns {
            c.ty = match c.ty {
                ColumnType::DateTime { fsp, .. } => ColumnType::DateTime {
                    fsp,
                    old_format: false,
                },
                ColumnType::Timestamp { fsp, .. } => ColumnType::Timestamp {
                    fsp,
                    old_format: false,
                },
                ColumnType::Time { fsp, .. } => ColumnType::Time {
                    fsp,
                    old_format: false,
                },
                ref other => other.clone(),
            };
        }
        assert_same(&f, s, &format!("{inst} {db}.{name}"));
        assert_eq!(t.row_format, s.row_format, "{inst} {db}.{name}: row format");
        assert!(
            !t.columns.iter().any(|c| matches!(
                c.ty,
                ColumnType::DateTime {
                    old_format: true,
                    ..
                } | ColumnType::Timestamp {
                    old_format: true,
                    ..
                } | ColumnType::Time {
                    old_format: true,
                    ..
                }
            )),
            "{db}.{name}: MariaDB 10.11 writes the MySQL 5.6 temporal formats"
        );
    }
    frms.len()
}

#[test]
fn mariadb_main_instance_every_table() {
    assert_eq!(check_instance("main"), 26);
}

#[test]
fn mariadb_small_instances_every_table() {
    let mut n = 0;
    for inst in ["p4k", "p64k", "crc32", "crash"] {
        n += check_instance(inst);
    }
    assert!(n >= 40, "{n}");
}

#[test]
fn mariadb_types_details() {
    let dir = common::unpack_datadir("p8k");
    let bytes = std::fs::read(dir.path().join("types/t_compact.frm")).unwrap();
    let (t, info) = parse_frm(&bytes).unwrap();
    assert!(info.mysql_version >= 101100, "{}", info.mysql_version);
    assert_eq!(info.db_type, 12);
    assert_eq!(info.keys, [("PRIMARY".to_string(), true)]);
    assert_eq!(t.row_format, Some(RowFormat::Compact));
    let c = |n: &str| t.columns.iter().find(|c| c.name == n).unwrap();
    assert_eq!(
        c("c_decimal65").ty,
        ColumnType::Decimal {
            precision: 65,
            scale: 30
        }
    );
    assert_eq!(
        c("c_datetime6").ty,
        ColumnType::DateTime {
            fsp: 6,
            old_format: false
        }
    );
    assert_eq!(
        c("c_time6").ty,
        ColumnType::Time {
            fsp: 6,
            old_format: false
        }
    );
    assert_eq!(
        c("c_enum").ty,
        ColumnType::Enum {
            members: vec!["red".into(), "green".into(), "blue".into(), "紫色".into()]
        }
    );
    assert!(!c("id").nullable);
}

fn sakila_sql() -> Vec<TableDef> {
    let mut all = Vec::new();
    let dir = common::corpus().join("twindb__undrop-for-innodb/sakila");
    for p in common::files_with_ext(&dir, ".sql") {
        all.extend(
            parse_create_tables(&std::fs::read_to_string(&p).unwrap(), Some("sakila")).unwrap(),
        );
    }
    all
}

#[test]
fn sakila_frm_50_compact_redundant() {
    let sql = sakila_sql();
    let mut compared = 0;
    for ver in ["5.0", "compact", "redundant"] {
        let dir = common::corpus().join(format!(
            "jeremycole__innodb_ruby/spec/data/sakila/{ver}/sakila"
        ));
        let frms = common::files_with_ext(&dir, ".frm");
        assert!(frms.len() >= 15, "{ver}");
        for p in &frms {
            let bytes = std::fs::read(p).unwrap();
            assert!(looks_like_frm(&bytes));
            let (db, name) = table_name_from_path(p).unwrap();
            assert_eq!(db, "sakila");
            let t = parse_frm_named(&bytes, &db, &name)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let Some(s) = sql.iter().find(|s| s.name == name) else {
                panic!("{name} not in the sakila dump");
            };
            // MySQL 5.0/5.5 write the old temporal formats; SQL has no format.
            let mut f = t.clone();
            for c in &mut f.columns {
                c.ty = match c.ty {
                    ColumnType::DateTime {
                        fsp,
                        old_format: true,
                    } => ColumnType::DateTime {
                        fsp,
                        old_format: false,
                    },
                    ColumnType::Timestamp {
                        fsp,
                        old_format: true,
                    } => ColumnType::Timestamp {
                        fsp,
                        old_format: false,
                    },
                    ColumnType::Time {
                        fsp,
                        old_format: true,
                    } => ColumnType::Time {
                        fsp,
                        old_format: false,
                    },
                    ref other => other.clone(),
                };
            }
            assert_same(&f, s, &format!("{ver} {name}"));
            compared += 1;
        }
    }
    assert_eq!(compared, 45);
    // MySQL 5.x TIMESTAMP is the old 4-byte format.
    let p =
        common::corpus().join("jeremycole__innodb_ruby/spec/data/sakila/compact/sakila/film.frm");
    let t = parse_frm_named(&std::fs::read(p).unwrap(), "sakila", "film").unwrap();
    assert_eq!(
        t.columns[12].ty,
        ColumnType::Timestamp {
            fsp: 0,
            old_format: true
        }
    );
    assert_eq!(
        t.columns[7].ty,
        ColumnType::Decimal {
            precision: 4,
            scale: 2
        }
    );
}

#[test]
fn not_frm() {
    assert!(!looks_like_frm(b""));
    assert!(!looks_like_frm(&[0u8; 4096]));
    let ibd = std::fs::read(
        common::corpus().join("jeremycole__innodb_ruby/spec/data/sakila/compact/sakila/film.ibd"),
    )
    .unwrap();
    assert!(!looks_like_frm(&ibd));
    assert!(parse_frm(&ibd).is_err());
    assert!(parse_frm(&[0xFE, 0x01, 10, 12]).is_err());
}

fn frm_corpus() -> Vec<Vec<u8>> {
    let dir = common::corpus().join("jeremycole__innodb_ruby/spec/data/sakila/compact/sakila");
    ["film.frm", "staff.frm", "customer.frm"]
        .iter()
        .map(|n| std::fs::read(Path::new(&dir).join(n)).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    /// Mutated and truncated .frm files: an error or a table, never a panic.
    #[test]
    fn mutated_frm_never_panics(muts in proptest::collection::vec((0usize..16384, 1u8..=255), 1..16), which in 0usize..3, cut in 0usize..16384) {
        let mut b = frm_corpus().swap_remove(which);
        // Hit the header, the forminfo and the field section most.
        let hot = [0usize, 0x1000, 0x2000, 0x2120];
        for (i, &(off, x)) in muts.iter().enumerate() {
            let at = if i % 2 == 0 { hot[off % 4] + off % 320 } else { off };
            let n = b.len();
            if let Some(v) = b.get_mut(at % n) {
                *v ^= x;
            }
        }
        let _ = parse_frm(&b);
        let _ = looks_like_frm(&b);
        let _ = parse_frm(&b[..cut.min(b.len())]);
    }
}
