//! Compares a recovered directory with a fixture's ground truth.
//!
//! Both directories hold `<db>/<table>.csv` (and `<db>/<table>.deleted.csv`) in the CSV
//! convention of `DESIGN.md`. Every truth file is compared with the recovered file of the
//! same relative path, **as multisets of rows**:
//!
//! * `matched` = rows present in both (counted with multiplicity);
//! * `recall` = matched / truth rows, `precision` = matched / recovered rows
//!   (an empty side counts as 100 %; a missing recovered file is 0 recall);
//! * unmatched recovered rows are paired with unmatched truth rows by the primary-key
//!   columns of the truth's `schema.sql` (the first column when the table has no primary
//!   key): a paired row is *wrong* and each column that differs is counted by name; an
//!   unpaired one is *extra* (invented).
//!
//! Values are compared as text, except `FLOAT` columns (parsed and compared as `f32`) and
//! `DOUBLE` columns (compared as `f64`), whose types come from the truth's `schema.sql`
//! (`SHOW CREATE TABLE` output). `\N` unquoted is NULL; `"\N"` quoted is the two-character
//! string, so fields are split by a small RFC 4180 reader that remembers quoting (the
//! `csv` crate does not say whether a field was quoted).

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs;
use std::io;
use std::path::Path;

/// How a column's values are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ColumnKind {
    /// Exact text.
    Text,
    /// `FLOAT`: parsed as `f32`.
    Float,
    /// `DOUBLE`: parsed as `f64`.
    Double,
}

/// A table's columns and primary key, from `SHOW CREATE TABLE`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TableSchema {
    /// Column names and comparison kinds, in table order.
    pub columns: Vec<(String, ColumnKind)>,
    /// Primary-key column names (empty when the table has none).
    pub primary_key: Vec<String>,
}

/// The score of one truth file.
#[derive(Debug, Clone, Serialize)]
pub struct TableScore {
    /// `db.table`.
    pub table: String,
    /// True for `<table>.deleted.csv`.
    pub deleted: bool,
    /// Path relative to the truth directory.
    pub file: String,
    /// False when the recovered directory has no such file.
    pub recovered_file: bool,
    /// Rows in the truth file.
    pub truth_rows: usize,
    /// Rows in the recovered file.
    pub recovered_rows: usize,
    /// Rows in both (multiset intersection).
    pub matched_rows: usize,
    /// Unmatched recovered rows whose key matches an unmatched truth row.
    pub wrong_rows: usize,
    /// Unmatched recovered rows with no truth row of the same key.
    pub extra_rows: usize,
    /// Truth rows with no recovered row at all (neither matched nor wrong).
    pub missing_rows: usize,
    /// matched / truth rows (1.0 when the truth is empty).
    pub recall: f64,
    /// matched / recovered rows (1.0 when nothing was recovered).
    pub precision: f64,
    /// Column name → number of wrong rows in which it differs.
    pub differing_columns: BTreeMap<String, usize>,
}

/// The score of a whole recovered directory.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ScoreReport {
    /// One entry per truth file, sorted by path.
    pub tables: Vec<TableScore>,
    /// Sum of truth rows.
    pub truth_rows: usize,
    /// Sum of recovered rows (of the files that have a truth counterpart).
    pub recovered_rows: usize,
    /// Sum of matched rows.
    pub matched_rows: usize,
    /// Sum of wrong rows.
    pub wrong_rows: usize,
    /// Sum of extra rows.
    pub extra_rows: usize,
    /// matched / truth rows over all tables.
    pub recall: f64,
    /// matched / recovered rows over all tables.
    pub precision: f64,
}

impl ScoreReport {
    /// The score of `db.table` (live rows, not the `.deleted.csv` file).
    pub fn table(&self, name: &str) -> Option<&TableScore> {
        self.tables.iter().find(|t| t.table == name && !t.deleted)
    }

    /// The score of `db.table.deleted.csv`.
    pub fn deleted_table(&self, name: &str) -> Option<&TableScore> {
        self.tables.iter().find(|t| t.table == name && t.deleted)
    }
}

/// `12345` → `12,345`.
fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for TableScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = if self.deleted {
            format!("{} (deleted)", self.table)
        } else {
            self.table.clone()
        };
        write!(
            f,
            "{}: {} of {} ({:.2} %), {} wrong",
            name,
            thousands(self.matched_rows),
            thousands(self.truth_rows),
            self.recall * 100.0,
            thousands(self.wrong_rows)
        )?;
        if self.extra_rows > 0 {
            write!(f, ", {} extra", thousands(self.extra_rows))?;
        }
        if !self.recovered_file {
            write!(f, ", no recovered file")?;
        }
        if !self.differing_columns.is_empty() {
            let cols: Vec<String> = self
                .differing_columns
                .iter()
                .map(|(c, n)| format!("{c} ×{n}"))
                .collect();
            write!(f, " [differs: {}]", cols.join(", "))?;
        }
        Ok(())
    }
}

impl fmt::Display for ScoreReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for t in &self.tables {
            writeln!(f, "{t}")?;
        }
        write!(
            f,
            "total: {} of {} ({:.2} %), {} wrong, {} extra, precision {:.2} %",
            thousands(self.matched_rows),
            thousands(self.truth_rows),
            self.recall * 100.0,
            thousands(self.wrong_rows),
            thousands(self.extra_rows),
            self.precision * 100.0
        )
    }
}

/// One CSV field: `None` is NULL (an unquoted `\N`).
pub type Field = Option<String>;

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Parses CSV text (RFC 4180, LF or CRLF line ends) into records, keeping NULL apart from
/// the quoted string `"\N"`. The header is the first record.
pub fn parse_csv(text: &str) -> io::Result<Vec<Vec<Field>>> {
    let b = text.as_bytes();
    let mut records = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let mut rec: Vec<Field> = Vec::new();
        loop {
            // one field starting at i
            if i < b.len() && b[i] == b'"' {
                let mut s = Vec::new();
                i += 1;
                loop {
                    if i >= b.len() {
                        return Err(invalid("unterminated quoted field".into()));
                    }
                    if b[i] == b'"' {
                        if i + 1 < b.len() && b[i + 1] == b'"' {
                            s.push(b'"');
                            i += 2;
                        } else {
                            i += 1;
                            break;
                        }
                    } else {
                        s.push(b[i]);
                        i += 1;
                    }
                }
                rec.push(Some(String::from_utf8_lossy(&s).into_owned()));
            } else {
                let start = i;
                while i < b.len() && b[i] != b',' && b[i] != b'\n' && b[i] != b'\r' {
                    i += 1;
                }
                let raw = &text[start..i];
                rec.push(if raw == "\\N" {
                    None
                } else {
                    Some(raw.to_string())
                });
            }
            if i < b.len() && b[i] == b',' {
                i += 1;
                continue;
            }
            // end of record
            if i < b.len() && b[i] == b'\r' {
                i += 1;
            }
            if i < b.len() && b[i] == b'\n' {
                i += 1;
            } else if i < b.len() {
                return Err(invalid(format!("unexpected byte after field at {i}")));
            }
            break;
        }
        records.push(rec);
    }
    Ok(records)
}

/// Parses `schema.sql` (the `SHOW CREATE TABLE` output of every table, with `USE db;`
/// statements) into `db.table` → schema.
pub fn parse_schema(sql: &str) -> HashMap<String, TableSchema> {
    let mut out = HashMap::new();
    let mut db = String::new();
    let mut cur: Option<(String, TableSchema)> = None;
    let ident = |s: &str| -> Option<String> {
        let s = s.trim_start();
        let rest = s.strip_prefix('`')?;
        let end = rest.find('`')?;
        Some(rest[..end].to_string())
    };
    for line in sql.lines() {
        let t = line.trim();
        if let Some((name, mut schema)) = cur.take() {
            if t.starts_with(')') {
                out.insert(name, schema);
                continue;
            }
            if t.starts_with('`') {
                if let Some(col) = ident(t) {
                    let ty = t[col.len() + 2..].trim_start().to_ascii_lowercase();
                    let kind = if ty.starts_with("float") {
                        ColumnKind::Float
                    } else if ty.starts_with("double") || ty.starts_with("real") {
                        ColumnKind::Double
                    } else {
                        ColumnKind::Text
                    };
                    schema.columns.push((col, kind));
                }
            } else if let Some(rest) = t.strip_prefix("PRIMARY KEY") {
                schema.primary_key = rest
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .map(|s| s.to_string())
                    .collect();
            }
            cur = Some((name, schema));
            continue;
        }
        if let Some(rest) = t.strip_prefix("USE ") {
            if let Some(d) = ident(rest) {
                db = d;
            }
        } else if let Some(rest) = t.strip_prefix("CREATE TABLE ") {
            let rest = rest.trim_start_matches("IF NOT EXISTS ");
            if let Some(first) = ident(rest) {
                let after = &rest.trim_start()[first.len() + 2..];
                let name = match after.strip_prefix('.').and_then(ident) {
                    Some(second) => format!("{first}.{second}"),
                    None => format!("{db}.{first}"),
                };
                cur = Some((name, TableSchema::default()));
            }
        }
    }
    out
}

/// A value normalised for comparison (floats by their bits, -0 as 0).
fn normalise(v: &Field, kind: ColumnKind) -> Field {
    let s = v.as_ref()?;
    Some(match kind {
        ColumnKind::Text => s.clone(),
        ColumnKind::Float => match s.trim().parse::<f32>() {
            Ok(x) => format!("f32:{:08x}", if x == 0.0 { 0 } else { x.to_bits() }),
            Err(_) => s.clone(),
        },
        ColumnKind::Double => match s.trim().parse::<f64>() {
            Ok(x) => format!("f64:{:016x}", if x == 0.0 { 0 } else { x.to_bits() }),
            Err(_) => s.clone(),
        },
    })
}

type Row = Vec<Field>;

/// Reads a CSV file as (header, rows); rows are rearranged into `columns` order (a column
/// the file lacks reads as a marker that matches nothing) and normalised.
fn read_rows(path: &Path, columns: &[(String, ColumnKind)]) -> io::Result<Vec<Row>> {
    let text = fs::read_to_string(path)?;
    let mut recs = parse_csv(&text)?;
    if recs.is_empty() {
        return Ok(Vec::new());
    }
    let header: Vec<String> = recs
        .remove(0)
        .into_iter()
        .map(|f| f.unwrap_or_default())
        .collect();
    let idx: Vec<Option<usize>> = columns
        .iter()
        .map(|(c, _)| header.iter().position(|h| h == c))
        .collect();
    Ok(recs
        .into_iter()
        .map(|r| {
            idx.iter()
                .zip(columns)
                .map(|(i, (_, kind))| match i {
                    Some(i) => match r.get(*i) {
                        Some(v) => normalise(v, *kind),
                        None => Some("\u{0}<short row>".into()),
                    },
                    None => Some("\u{0}<missing column>".into()),
                })
                .collect()
        })
        .collect())
}

/// Scores one truth file against one recovered file (which may be absent).
pub fn score_file(
    table: &str,
    deleted: bool,
    rel: &str,
    truth: &Path,
    recovered: &Path,
    schema: Option<&TableSchema>,
) -> io::Result<TableScore> {
    // columns: from the truth header; kinds from the schema when known
    let text = fs::read_to_string(truth)?;
    let header: Vec<String> = parse_csv(text.lines().next().unwrap_or(""))?
        .into_iter()
        .next()
        .unwrap_or_default()
        .into_iter()
        .map(|f| f.unwrap_or_default())
        .collect();
    let columns: Vec<(String, ColumnKind)> = header
        .iter()
        .map(|c| {
            let kind = schema
                .and_then(|s| s.columns.iter().find(|(n, _)| n == c))
                .map(|(_, k)| *k)
                .unwrap_or(ColumnKind::Text);
            (c.clone(), kind)
        })
        .collect();
    let truth_rows = read_rows(truth, &columns)?;
    let recovered_file = recovered.is_file();
    let rec_rows = if recovered_file {
        read_rows(recovered, &columns)?
    } else {
        Vec::new()
    };

    // multiset intersection
    let mut counts: HashMap<&Row, isize> = HashMap::new();
    for r in &truth_rows {
        *counts.entry(r).or_default() += 1;
    }
    let mut matched = 0;
    let mut unmatched_rec: Vec<&Row> = Vec::new();
    for r in &rec_rows {
        match counts.get_mut(r) {
            Some(c) if *c > 0 => {
                *c -= 1;
                matched += 1;
            }
            _ => unmatched_rec.push(r),
        }
    }
    // unmatched truth rows, grouped by key
    let key_idx: Vec<usize> = match schema {
        Some(s) if !s.primary_key.is_empty() => s
            .primary_key
            .iter()
            .filter_map(|k| columns.iter().position(|(c, _)| c == k))
            .collect(),
        _ => vec![0],
    };
    let key_of = |r: &Row| -> Vec<Field> { key_idx.iter().map(|&i| r[i].clone()).collect() };
    let mut by_key: HashMap<Vec<Field>, Vec<&Row>> = HashMap::new();
    let mut seen: HashMap<&Row, isize> = HashMap::new();
    for r in &truth_rows {
        let left = counts.get(r).copied().unwrap_or(0);
        let used = seen.entry(r).or_default();
        if *used < left {
            *used += 1;
            by_key.entry(key_of(r)).or_default().push(r);
        }
    }
    let mut wrong = 0;
    let mut extra = 0;
    let mut differing: BTreeMap<String, usize> = BTreeMap::new();
    for r in unmatched_rec {
        match by_key.get_mut(&key_of(r)).and_then(|v| v.pop()) {
            Some(t) => {
                wrong += 1;
                for (i, (c, _)) in columns.iter().enumerate() {
                    if t[i] != r[i] {
                        *differing.entry(c.clone()).or_default() += 1;
                    }
                }
            }
            None => extra += 1,
        }
    }
    let n_truth = truth_rows.len();
    let n_rec = rec_rows.len();
    Ok(TableScore {
        table: table.to_string(),
        deleted,
        file: rel.to_string(),
        recovered_file,
        truth_rows: n_truth,
        recovered_rows: n_rec,
        matched_rows: matched,
        wrong_rows: wrong,
        extra_rows: extra,
        missing_rows: n_truth - matched - wrong,
        recall: ratio(matched, n_truth),
        precision: ratio(matched, n_rec),
        differing_columns: differing,
    })
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

/// Compares every truth table `<db>/<table>.csv` (and `.deleted.csv`) under `truth` with the
/// file of the same relative path under `recovered`.
pub fn score_dirs(recovered: &Path, truth: &Path) -> io::Result<ScoreReport> {
    let schema = match fs::read_to_string(truth.join("schema.sql")) {
        Ok(s) => parse_schema(&s),
        Err(e) if e.kind() == io::ErrorKind::NotFound => HashMap::new(),
        Err(e) => return Err(e),
    };
    let mut files = Vec::new();
    let mut dbs: Vec<_> = fs::read_dir(truth)?.collect::<Result<Vec<_>, _>>()?;
    dbs.sort_by_key(|e| e.file_name());
    for db in dbs {
        if !db.file_type()?.is_dir() {
            continue;
        }
        let db_name = db.file_name().to_string_lossy().into_owned();
        let mut tables: Vec<_> = fs::read_dir(db.path())?.collect::<Result<Vec<_>, _>>()?;
        tables.sort_by_key(|e| e.file_name());
        for t in tables {
            let fname = t.file_name().to_string_lossy().into_owned();
            let (table, deleted) = if let Some(s) = fname.strip_suffix(".deleted.csv") {
                (s.to_string(), true)
            } else if fname.ends_with(".partial.csv") {
                continue;
            } else if let Some(s) = fname.strip_suffix(".csv") {
                (s.to_string(), false)
            } else {
                continue;
            };
            files.push((db_name.clone(), table, deleted, fname));
        }
    }
    let mut report = ScoreReport::default();
    for (db, table, deleted, fname) in files {
        let rel = format!("{db}/{fname}");
        let name = format!("{db}.{table}");
        let s = score_file(
            &name,
            deleted,
            &rel,
            &truth.join(&db).join(&fname),
            &recovered.join(&db).join(&fname),
            schema.get(&name),
        )?;
        report.truth_rows += s.truth_rows;
        report.recovered_rows += s.recovered_rows;
        report.matched_rows += s.matched_rows;
        report.wrong_rows += s.wrong_rows;
        report.extra_rows += s.extra_rows;
        report.tables.push(s);
    }
    report.recall = ratio(report.matched_rows, report.truth_rows);
    report.precision = ratio(report.matched_rows, report.recovered_rows);
    Ok(report)
}
