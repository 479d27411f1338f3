//! The scorer on the committed truth (100 % against itself) and on perturbed copies.

use salvage::score::{parse_csv, parse_schema, score_dirs, ColumnKind};
use std::fs;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every committed truth directory: fixtures/<instance>/truth (and fixtures/main/lost).
fn truth_dirs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir(fixtures()) {
        for e in rd.flatten() {
            for sub in ["truth", "lost"] {
                let t = e.path().join(sub);
                if t.join("schema.sql").is_file() {
                    out.push(t);
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn truth_scores_100_percent_against_itself() {
    let dirs = truth_dirs();
    assert!(!dirs.is_empty(), "no committed truth under fixtures/");
    for t in dirs {
        let r = score_dirs(&t, &t).unwrap();
        assert!(!r.tables.is_empty(), "{}", t.display());
        for s in &r.tables {
            assert_eq!(s.matched_rows, s.truth_rows, "{}: {s}", t.display());
            assert_eq!(s.recovered_rows, s.truth_rows, "{}: {s}", t.display());
            assert_eq!((s.recall, s.precision), (1.0, 1.0), "{s}");
            assert_eq!(
                (s.wrong_rows, s.extra_rows, s.missing_rows),
                (0, 0, 0),
                "{s}"
            );
        }
        assert_eq!(r.recall, 1.0);
        assert_eq!(r.precision, 1.0);
        // schema.sql knows every truth table and its columns
        let schema = parse_schema(&fs::read_to_string(t.join("schema.sql")).unwrap());
        for s in &r.tables {
            let ts = schema
                .get(&s.table)
                .unwrap_or_else(|| panic!("{} not in schema.sql", s.table));
            let text = fs::read_to_string(t.join(&s.file)).unwrap();
            let header = parse_csv(&text).unwrap().remove(0);
            let names: Vec<String> = ts.columns.iter().map(|(n, _)| n.clone()).collect();
            let header: Vec<String> = header.into_iter().map(|f| f.unwrap()).collect();
            assert_eq!(header, names, "{}", s.table);
        }
    }
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

const SCHEMA: &str = "CREATE DATABASE IF NOT EXISTS `d`;\nUSE `d`;\n\n\
CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `name` varchar(20) DEFAULT NULL,\n  \
`f` float DEFAULT NULL,\n  `g` double DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\n\n\
CREATE TABLE `nopk` (\n  `k` varchar(10) NOT NULL,\n  `v` int(11) DEFAULT NULL\n) ENGINE=InnoDB;\n";

#[test]
fn small_perturbed_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let truth = tmp.path().join("truth");
    let rec = tmp.path().join("rec");
    write(&truth, "schema.sql", SCHEMA);
    write(
        &truth,
        "d/t.csv",
        "id,name,f,g\n1,a,1.1,0.1\n2,\\N,0.5,1e-7\n3,\"\\N\",100,2.5\n4,\"\",3.4028235e38,-0\n5,\"x,y\",\\N,\\N\n",
    );
    write(&truth, "d/t.deleted.csv", "id,name,f,g\n9,gone,1,1\n");
    write(&truth, "d/nopk.csv", "k,v\na,1\na,1\nb,2\n");
    let schema = parse_schema(SCHEMA);
    assert_eq!(schema["d.t"].primary_key, vec!["id".to_string()]);
    assert_eq!(schema["d.t"].columns[2].1, ColumnKind::Float);
    assert_eq!(schema["d.t"].columns[3].1, ColumnKind::Double);
    assert!(schema["d.nopk"].primary_key.is_empty());

    // recovered: floats printed differently (same f32/f64), NULL vs "\N" confused in row 2,
    // row 4 missing, row 5 name wrong, a bogus row 7; columns in another order.
    write(
        &rec,
        "d/t.csv",
        "name,id,g,f\na,1,0.1000000000000000055511151231257827,1.100000023841858\n\
         \"\\N\",2,0.0000001,0.5\n\\N,3,2.5,100.0\n\"x;y\",5,\\N,\\N\n\
         bogus,7,1,1\n",
    );
    // nopk: one duplicate lost, an extra "a" row with another value
    write(&rec, "d/nopk.csv", "k,v\na,1\nb,2\na,5\n");
    // no d/t.deleted.csv at all

    let r = score_dirs(&rec, &truth).unwrap();
    assert_eq!(r.tables.len(), 3);

    let t = r.table("d.t").unwrap();
    assert_eq!(t.truth_rows, 5);
    assert_eq!(t.recovered_rows, 5);
    assert_eq!(t.matched_rows, 1); // only row 1 (float/double at their own precision)
    assert_eq!(t.wrong_rows, 3); // rows 2, 3, 5 paired by id
    assert_eq!(t.extra_rows, 1); // id 7
    assert_eq!(t.missing_rows, 1); // id 4
    assert_eq!(t.recall, 0.2);
    assert_eq!(t.precision, 0.2);
    assert_eq!(t.differing_columns.get("name"), Some(&3));
    assert_eq!(t.differing_columns.len(), 1);

    let d = r.deleted_table("d.t").unwrap();
    assert!(!d.recovered_file);
    assert_eq!((d.truth_rows, d.matched_rows, d.recall), (1, 0, 0.0));
    assert_eq!(d.precision, 1.0);

    let n = r.table("d.nopk").unwrap();
    assert_eq!((n.truth_rows, n.recovered_rows, n.matched_rows), (3, 3, 2));
    assert_eq!((n.wrong_rows, n.extra_rows, n.missing_rows), (1, 0, 0));
    assert_eq!(n.differing_columns.get("v"), Some(&1));

    assert_eq!(r.truth_rows, 9);
    assert_eq!(r.recovered_rows, 8);
    assert_eq!(r.matched_rows, 3);
    let text = r.to_string();
    assert!(
        text.contains("d.t: 1 of 5 (20.00 %), 3 wrong, 1 extra [differs: name ×3]"),
        "{text}"
    );
    assert!(
        text.contains("d.t (deleted): 0 of 1 (0.00 %), 0 wrong, no recovered file"),
        "{text}"
    );
    assert!(
        text.contains("d.nopk: 2 of 3 (66.67 %), 1 wrong [differs: v ×1]"),
        "{text}"
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["tables"][0]["table"], "d.nopk");
    assert_eq!(json["matched_rows"], 3);
}

/// A perturbed copy of a real fixture table: drop rows, change a value, add a bogus row.
#[test]
fn perturbed_fixture_table() {
    let truth = fixtures().join("demo/truth");
    if !truth.join("schema.sql").is_file() {
        panic!("fixtures/demo/truth missing; run scripts/make-fixtures.sh");
    }
    let tmp = tempfile::tempdir().unwrap();
    let rec = tmp.path();
    // copy every truth file unchanged, then perturb shop.products and shop.users
    for db in fs::read_dir(&truth).unwrap().flatten() {
        if db.path().is_dir() {
            for f in fs::read_dir(db.path()).unwrap().flatten() {
                let rel = format!(
                    "{}/{}",
                    db.file_name().to_string_lossy(),
                    f.file_name().to_string_lossy()
                );
                write(rec, &rel, &fs::read_to_string(f.path()).unwrap());
            }
        }
    }
    let products = fs::read_to_string(truth.join("shop/products.csv")).unwrap();
    let mut recs = parse_csv(&products).unwrap();
    let n = recs.len() - 1;
    let price = recs[0]
        .iter()
        .position(|f| f.as_deref() == Some("price"))
        .unwrap();
    // drop data rows 1..=3, change the price of data row 10, add a bogus row
    recs.drain(1..=3);
    recs[10 - 3][price] = Some("12345.67".into());
    let mut bogus = recs[1].clone();
    bogus[0] = Some("BOGUS-SKU".into());
    recs.push(bogus);
    let out: Vec<String> = recs
        .iter()
        .map(|r| {
            r.iter()
                .map(|f| match f {
                    None => "\\N".to_string(),
                    Some(s) if s.is_empty() => "\"\"".to_string(),
                    Some(s) => format!("\"{}\"", s.replace('"', "\"\"")),
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    write(rec, "shop/products.csv", &(out.join("\n") + "\n"));
    // FLOAT column `score` of shop.users written with f64 digits still matches
    let users = fs::read_to_string(truth.join("shop/users.csv")).unwrap();
    let mut urecs = parse_csv(&users).unwrap();
    let score = urecs[0]
        .iter()
        .position(|f| f.as_deref() == Some("score"))
        .unwrap();
    for r in urecs.iter_mut().skip(1) {
        if let Some(s) = &r[score] {
            let x: f32 = s.parse().unwrap();
            r[score] = Some(format!("{}", x as f64));
        }
    }
    let out: Vec<String> = urecs
        .iter()
        .map(|r| {
            r.iter()
                .map(|f| match f {
                    None => "\\N".to_string(),
                    Some(s) => format!("\"{}\"", s.replace('"', "\"\"")),
                })
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    write(rec, "shop/users.csv", &(out.join("\n") + "\n"));
    let n_users = urecs.len() - 1;

    let r = score_dirs(rec, &truth).unwrap();
    let p = r.table("shop.products").unwrap();
    assert_eq!(p.truth_rows, n);
    assert_eq!(p.recovered_rows, n - 3 + 1);
    assert_eq!(p.matched_rows, n - 4);
    assert_eq!((p.wrong_rows, p.extra_rows, p.missing_rows), (1, 1, 3));
    assert_eq!(p.differing_columns.get("price"), Some(&1));
    assert_eq!(p.differing_columns.len(), 1);
    assert_eq!(p.recall, (n - 4) as f64 / n as f64);
    assert_eq!(p.precision, (n - 4) as f64 / (n - 2) as f64);
    let u = r.table("shop.users").unwrap();
    assert_eq!((u.truth_rows, u.matched_rows), (n_users, n_users));
    for s in &r.tables {
        if s.table != "shop.products" {
            assert_eq!((s.recall, s.precision), (1.0, 1.0), "{s}");
        }
    }
}
