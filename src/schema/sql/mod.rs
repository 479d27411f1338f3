//! `CREATE TABLE` statements a user supplies (`--schema FILE.sql`):
//! mysqldump output or `SHOW CREATE TABLE` of MySQL and MariaDB, as they are.
//!
//! The file is split into statements by a small lexer that knows quotes,
//! comments, MySQL's executable comments (`/*!50100 ... */`, `/*M!100100 ...*/`)
//! and `DELIMITER`. Only `USE`, `CREATE DATABASE` and `CREATE TABLE` matter;
//! everything else (SET, DROP, INSERT, LOCK, triggers) is skipped.
//!
//! A `CREATE TABLE` is cut into its name, its parenthesised body and its
//! trailing options. Table options and `PARTITION BY` are read here (sqlparser
//! does not know MariaDB's `PAGE_COMPRESSED` and friends), index definitions
//! too (only their column lists matter), and every column definition goes to
//! `sqlparser` with the MySQL dialect, after MariaDB-only attributes are
//! removed. A column sqlparser still refuses is read by a plain fallback
//! (name, type, NULL-ness, charset), so one odd attribute never loses a table.

use sqlparser::ast::{
    BinaryLength, CharacterLength, ColumnOption, DataType, ExactNumberInfo,
    GeneratedExpressionMode, ObjectName, ObjectNamePart, Statement,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;

use super::charset;
use super::{Charset, Column, ColumnType, RowFormat, SchemaError, SchemaSource, TableDef};

/// How to read types whose meaning depends on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlOptions {
    /// The statements come from MySQL 5.7/8.x: `json` is MySQL's binary
    /// JSON ([`ColumnType::Json`]). When false (MariaDB), `json` is an alias
    /// of `LONGTEXT` (utf8mb4, binary collation).
    pub mysql_json: bool,
    /// The server default character set, for tables that name none (and
    /// whose database's `CREATE DATABASE` names none).
    pub default_charset: Charset,
}

impl Default for SqlOptions {
    fn default() -> SqlOptions {
        SqlOptions {
            mysql_json: false,
            default_charset: Charset::Latin1,
        }
    }
}

impl SqlOptions {
    /// MySQL 8 defaults: binary JSON, utf8mb4.
    pub fn mysql8() -> SqlOptions {
        SqlOptions {
            mysql_json: true,
            default_charset: Charset::Utf8mb4,
        }
    }
}

/// Every `CREATE TABLE` of `sql` (MariaDB rules: `json` is text), in file
/// order. Tables without a database qualifier and without a preceding `USE`
/// get `default_db` (or `""`). The first statement that cannot be
/// understood is an error; see [`parse_schema_lenient`] to keep the rest.
pub fn parse_create_tables(
    sql: &str,
    default_db: Option<&str>,
) -> Result<Vec<TableDef>, SchemaError> {
    parse_create_tables_with(sql, default_db, &SqlOptions::default())
}

/// [`parse_create_tables`] with explicit [`SqlOptions`].
pub fn parse_create_tables_with(
    sql: &str,
    default_db: Option<&str>,
    opts: &SqlOptions,
) -> Result<Vec<TableDef>, SchemaError> {
    let (tables, mut errors) = parse_schema_lenient(sql, default_db, opts);
    if errors.is_empty() {
        Ok(tables)
    } else {
        Err(errors.swap_remove(0))
    }
}

/// The database a single-database mysqldump names in its header
/// (`-- Host: localhost    Database: sakila`): mysqldump writes no `USE`
/// for it, so without this its tables would have no database. Empty for
/// `--all-databases` dumps (they have `USE` statements instead).
fn mysqldump_header_db(sql: &str) -> Option<String> {
    sql.lines()
        .take(12)
        .filter_map(|l| l.strip_prefix("-- Host:"))
        .find_map(|l| l.split_once("Database:"))
        .map(|(_, db)| db.trim().to_string())
        .filter(|db| !db.is_empty() && !db.contains(char::is_whitespace))
}

/// Every table that could be read, and an error for each `CREATE TABLE`
/// that could not. A table's database: its qualifier, else the last `USE`,
/// else `default_db`, else the database a mysqldump header names.
pub fn parse_schema_lenient(
    sql: &str,
    default_db: Option<&str>,
    opts: &SqlOptions,
) -> (Vec<TableDef>, Vec<SchemaError>) {
    let mut db = default_db
        .map(str::to_string)
        .or_else(|| mysqldump_header_db(sql))
        .unwrap_or_default();
    let mut db_charsets: Vec<(String, Charset)> = Vec::new();
    let mut tables = Vec::new();
    let mut errors = Vec::new();
    for st in split_statements(sql) {
        let toks = tokenize(&st.code);
        let words: Vec<String> = toks.iter().take(8).map(|t| t.keyword()).collect();
        let w = |i: usize| words.get(i).map(String::as_str).unwrap_or("");
        if w(0) == "USE" {
            if let Some(name) = toks.get(1).and_then(|t| t.ident()) {
                db = name;
            }
            continue;
        }
        if w(0) != "CREATE" {
            continue;
        }
        let mut i = 1;
        if w(i) == "OR" && w(i + 1) == "REPLACE" {
            i += 2;
        }
        if w(i) == "DATABASE" || w(i) == "SCHEMA" {
            i += 1;
            if w(i) == "IF" {
                i += 3;
            }
            if let Some(name) = toks.get(i).and_then(|t| t.ident()) {
                let (cs, coll) = charset_options(&toks[i + 1..]);
                if let Some(c) = cs.or(coll) {
                    db_charsets.retain(|(n, _)| *n != name);
                    db_charsets.push((name, c));
                }
            }
            continue;
        }
        if w(i) == "TEMPORARY" {
            i += 1;
        }
        if w(i) != "TABLE" {
            continue;
        }
        i += 1;
        if w(i) == "IF" {
            i += 3;
        }
        match create_table(&st, &toks, i, &db, &db_charsets, opts) {
            Ok(Some(t)) => tables.push(t),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    (tables, errors)
}

// ---------------------------------------------------------------------------
// Statements

/// One statement: where it starts, its text as written, and its text with
/// comments removed and executable comments opened.
#[derive(Debug)]
struct Stmt {
    line: usize,
    raw: String,
    code: String,
}

fn split_statements(sql: &str) -> Vec<Stmt> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut delim: Vec<u8> = b";".to_vec();
    let mut code: Vec<u8> = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1usize;
    let mut line = 1usize;
    let mut versioned = 0usize;
    // Whether the statement has anything but blanks yet.
    let mut nonblank = false;
    let mut i = 0usize;
    let flush = |code: &mut Vec<u8>, raw: &[u8], line: usize, out: &mut Vec<Stmt>| {
        let c = String::from_utf8_lossy(code).trim().to_string();
        if !c.is_empty() {
            out.push(Stmt {
                line,
                raw: String::from_utf8_lossy(raw).trim().to_string(),
                code: c,
            });
        }
        code.clear();
    };
    while i < b.len() {
        let c = b[i];
        // At the start of a statement: skip blanks, handle DELIMITER.
        if !nonblank {
            if c == b'\n' {
                line += 1;
            }
            if c.is_ascii_whitespace() {
                i += 1;
                start = i;
                start_line = line;
                code.clear();
                continue;
            }
            if b.len() >= i + 10
                && b[i..i + 9].eq_ignore_ascii_case(b"DELIMITER")
                && b[i + 9].is_ascii_whitespace()
            {
                let end = b[i..]
                    .iter()
                    .position(|&x| x == b'\n')
                    .map_or(b.len(), |p| i + p);
                let d = String::from_utf8_lossy(&b[i + 9..end])
                    .trim()
                    .as_bytes()
                    .to_vec();
                if !d.is_empty() {
                    delim = d;
                }
                i = end;
                start = i;
                continue;
            }
            start_line = line;
        }
        match c {
            b'\'' | b'"' | b'`' => {
                let q = c;
                code.push(c);
                nonblank = true;
                i += 1;
                while i < b.len() {
                    let x = b[i];
                    if x == b'\n' {
                        line += 1;
                    }
                    if x == b'\\' && q != b'`' && i + 1 < b.len() {
                        code.push(x);
                        code.push(b[i + 1]);
                        if b[i + 1] == b'\n' {
                            line += 1;
                        }
                        i += 2;
                        continue;
                    }
                    code.push(x);
                    i += 1;
                    if x == q {
                        if i < b.len() && b[i] == q {
                            code.push(q);
                            i += 1;
                            continue;
                        }
                        break;
                    }
                }
                continue;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'-' if b.get(i + 1) == Some(&b'-')
                && b.get(i + 2).is_none_or(|x| x.is_ascii_whitespace()) =>
            {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let exec = match (b.get(i + 2), b.get(i + 3)) {
                    (Some(b'!'), _) => Some(i + 3),
                    (Some(b'M'), Some(b'!')) => Some(i + 4),
                    _ => None,
                };
                if let Some(mut j) = exec {
                    while j < b.len() && b[j].is_ascii_digit() {
                        j += 1;
                    }
                    versioned += 1;
                    code.push(b' ');
                    i = j;
                    continue;
                }
                let mut j = i + 2;
                while j + 1 < b.len() && !(b[j] == b'*' && b[j + 1] == b'/') {
                    if b[j] == b'\n' {
                        line += 1;
                    }
                    j += 1;
                }
                i = (j + 2).min(b.len());
                code.push(b' ');
                continue;
            }
            b'*' if versioned > 0 && b.get(i + 1) == Some(&b'/') => {
                versioned -= 1;
                code.push(b' ');
                i += 2;
                continue;
            }
            b'\n' => line += 1,
            _ => {}
        }
        if b[i..].starts_with(&delim) {
            flush(&mut code, &b[start..i], start_line, &mut out);
            nonblank = false;
            versioned = 0;
            i += delim.len();
            start = i;
            continue;
        }
        code.push(c);
        nonblank |= !c.is_ascii_whitespace();
        i += 1;
    }
    flush(&mut code, &b[start.min(b.len())..], start_line, &mut out);
    out
}

// ---------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// Unquoted word or number.
    Word(String),
    /// Back-quoted identifier.
    Ident(String),
    /// '...' or "..." literal, unescaped.
    Str(String),
    Punct(char),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

impl Token {
    /// Upper-cased unquoted word, or "" for anything else.
    fn keyword(&self) -> String {
        match &self.tok {
            Tok::Word(w) => w.to_ascii_uppercase(),
            _ => String::new(),
        }
    }
    fn is_kw(&self, k: &str) -> bool {
        matches!(&self.tok, Tok::Word(w) if w.eq_ignore_ascii_case(k))
    }
    fn is_punct(&self, c: char) -> bool {
        self.tok == Tok::Punct(c)
    }
    /// The token as a name: a word, a quoted identifier or a string.
    fn ident(&self) -> Option<String> {
        match &self.tok {
            Tok::Word(w) | Tok::Ident(w) | Tok::Str(w) => Some(w.clone()),
            Tok::Punct(_) => None,
        }
    }
}

fn tokenize(s: &str) -> Vec<Token> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        if c == b'\'' || c == b'"' || c == b'`' {
            let q = c;
            let mut v: Vec<u8> = Vec::new();
            i += 1;
            while i < b.len() {
                let x = b[i];
                if x == b'\\' && q != b'`' && i + 1 < b.len() {
                    v.push(match b[i + 1] {
                        b'n' => b'\n',
                        b't' => b'\t',
                        b'r' => b'\r',
                        b'0' => 0,
                        b'Z' => 26,
                        o => o,
                    });
                    i += 2;
                    continue;
                }
                i += 1;
                if x == q {
                    if i < b.len() && b[i] == q {
                        v.push(q);
                        i += 1;
                        continue;
                    }
                    break;
                }
                v.push(x);
            }
            let v = String::from_utf8_lossy(&v).into_owned();
            out.push(Token {
                tok: if q == b'`' {
                    Tok::Ident(v)
                } else {
                    Tok::Str(v)
                },
                start,
                end: i,
            });
            continue;
        }
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 {
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$' || b[i] >= 0x80)
            {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Word(s[start..i].to_string()),
                start,
                end: i,
            });
            continue;
        }
        // `c` is ASCII here, so `i + 1` is a char boundary.
        i += 1;
        out.push(Token {
            tok: Tok::Punct(c as char),
            start,
            end: i,
        });
    }
    out
}

/// Index of the `)` matching the `(` at `open`.
fn matching_paren(toks: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, t) in toks.iter().enumerate().skip(open) {
        if t.is_punct('(') {
            depth += 1;
        } else if t.is_punct(')') {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(k);
            }
        }
    }
    None
}

/// Splits `toks` at top-level commas.
fn split_commas(toks: &[Token]) -> Vec<&[Token]> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut from = 0;
    for (k, t) in toks.iter().enumerate() {
        match &t.tok {
            Tok::Punct('(') => depth += 1,
            Tok::Punct(')') => depth -= 1,
            Tok::Punct(',') if depth == 0 => {
                out.push(&toks[from..k]);
                from = k + 1;
            }
            _ => {}
        }
    }
    out.push(&toks[from..]);
    out.retain(|e| !e.is_empty());
    out
}

/// `[DEFAULT] CHARSET|CHARACTER SET [=] x` and `[DEFAULT] COLLATE [=] x` in a
/// list of options: (charset, charset of the collation).
fn charset_options(toks: &[Token]) -> (Option<Charset>, Option<Charset>) {
    let mut cs = None;
    let mut coll = None;
    let mut k = 0;
    while k < toks.len() {
        let kw = toks[k].keyword();
        let value_at = |mut j: usize| {
            if toks.get(j).is_some_and(|t| t.is_punct('=')) {
                j += 1;
            }
            toks.get(j).and_then(|t| t.ident())
        };
        if kw == "CHARSET" || (kw == "CHARACTER" && toks.get(k + 1).is_some_and(|t| t.is_kw("SET")))
        {
            let j = if kw == "CHARSET" { k + 1 } else { k + 2 };
            if let Some(v) = value_at(j) {
                cs = charset::from_charset_name(&v).or(cs);
            }
        } else if kw == "COLLATE" {
            if let Some(v) = value_at(k + 1) {
                coll = charset::from_collation_name(&v).or(coll);
            }
        } else if kw == "PARTITION" {
            break;
        }
        k += 1;
    }
    (cs, coll)
}

// ---------------------------------------------------------------------------
// CREATE TABLE

/// Index columns by position in the table, with prefix lengths.
type KeyParts = Vec<(usize, Option<u32>)>;

struct KeyDef {
    primary: bool,
    unique: bool,
    cols: Vec<(String, Option<u32>)>,
}

fn create_table(
    st: &Stmt,
    toks: &[Token],
    name_at: usize,
    db: &str,
    db_charsets: &[(String, Charset)],
    opts: &SqlOptions,
) -> Result<Option<TableDef>, SchemaError> {
    let err = |table: Option<&str>, msg: String| SchemaError::Sql {
        line: st.line,
        table: table.map(str::to_string),
        msg,
    };
    // Name: a or a.b
    let mut k = name_at;
    let first = toks
        .get(k)
        .and_then(|t| t.ident())
        .ok_or_else(|| err(None, "no table name".into()))?;
    k += 1;
    let (tdb, tname) = if toks.get(k).is_some_and(|t| t.is_punct('.')) {
        let second = toks
            .get(k + 1)
            .and_then(|t| t.ident())
            .ok_or_else(|| err(Some(&first), "no table name after the database".into()))?;
        k += 2;
        (first, second)
    } else {
        (db.to_string(), first)
    };
    let qual = format!("{tdb}.{tname}");
    let Some(open) = toks.get(k).filter(|t| t.is_punct('(')).map(|_| k) else {
        // CREATE TABLE ... LIKE / AS SELECT: nothing we can use.
        if toks
            .get(k)
            .is_some_and(|t| t.is_kw("LIKE") || t.is_kw("AS") || t.is_kw("SELECT"))
        {
            return Ok(None);
        }
        return Err(err(Some(&qual), "no column list".into()));
    };
    let close = matching_paren(toks, open)
        .ok_or_else(|| err(Some(&qual), "unbalanced parentheses".into()))?;
    let options = &toks[close + 1..];

    // Table options.
    let (tcs, tcoll) = charset_options(options);
    let table_cs = tcs
        .or(tcoll)
        .or_else(|| {
            db_charsets
                .iter()
                .rev()
                .find(|(n, _)| *n == tdb)
                .map(|(_, c)| *c)
        })
        .unwrap_or(opts.default_charset);
    let mut row_format = None;
    let mut key_block_size = false;
    for (j, t) in options.iter().enumerate() {
        if t.is_kw("PARTITION") {
            break;
        }
        let mut v = j + 1;
        if options.get(v).is_some_and(|t| t.is_punct('=')) {
            v += 1;
        }
        let val = options.get(v).and_then(|t| t.ident()).unwrap_or_default();
        if t.is_kw("ROW_FORMAT") {
            row_format = match val.to_ascii_uppercase().as_str() {
                "REDUNDANT" => Some(RowFormat::Redundant),
                "COMPACT" => Some(RowFormat::Compact),
                "DYNAMIC" => Some(RowFormat::Dynamic),
                "COMPRESSED" => Some(RowFormat::Compressed),
                _ => None,
            };
        } else if t.is_kw("KEY_BLOCK_SIZE") && val.parse::<u32>().is_ok_and(|n| n > 0) {
            key_block_size = true;
        }
    }
    if key_block_size && row_format.is_none() {
        row_format = Some(RowFormat::Compressed);
    }

    // Body.
    let mut columns: Vec<Column> = Vec::new();
    let mut keys: Vec<KeyDef> = Vec::new();
    let mut fulltext = false;
    let mut row_end: Option<String> = None;
    for el in split_commas(&toks[open + 1..close]) {
        let kw0 = el[0].keyword();
        let mut e = el;
        if kw0 == "CONSTRAINT" {
            // CONSTRAINT [name] PRIMARY KEY / UNIQUE / FOREIGN KEY / CHECK
            e = if el.get(1).is_some_and(|t| {
                ["PRIMARY", "UNIQUE", "FOREIGN", "CHECK"].contains(&t.keyword().as_str())
            }) {
                &el[1..]
            } else {
                el.get(2..).unwrap_or(&[])
            };
        }
        let kw = e.first().map(|t| t.keyword()).unwrap_or_default();
        match kw.as_str() {
            "PRIMARY" | "UNIQUE" | "KEY" | "INDEX" | "FULLTEXT" | "SPATIAL" | "VECTOR" => {
                let cols = key_columns(e).ok_or_else(|| {
                    err(
                        Some(&qual),
                        format!("cannot read index `{}`", text_of(&st.code, e)),
                    )
                })?;
                fulltext |= kw == "FULLTEXT";
                keys.push(KeyDef {
                    primary: kw == "PRIMARY",
                    unique: kw == "UNIQUE",
                    cols,
                });
            }
            "FOREIGN" | "CHECK" | "PERIOD" => {}
            _ if e.is_empty() => {}
            _ if kw0 == "CONSTRAINT" => {}
            _ => {
                let (mut col, inline_key) =
                    column(&st.code, el, table_cs, opts).map_err(|m| err(Some(&qual), m))?;
                // `GENERATED ALWAYS AS ROW START|END` (MariaDB system
                // versioning): stored, NOT NULL.
                let row_kw = |k: &str| el.windows(2).any(|w| w[0].is_kw("ROW") && w[1].is_kw(k));
                if row_kw("START") || row_kw("END") {
                    col.nullable = false;
                    col.is_virtual = false;
                }
                if row_kw("END") {
                    row_end = Some(col.name.clone());
                }
                if let Some(primary) = inline_key {
                    keys.push(KeyDef {
                        primary,
                        unique: !primary,
                        cols: vec![(col.name.clone(), None)],
                    });
                }
                columns.push(col);
            }
        }
    }
    if columns.is_empty() {
        return Err(err(Some(&qual), "no columns".into()));
    }
    // InnoDB gives a table with a FULLTEXT index a hidden stored column
    // FTS_DOC_ID BIGINT UNSIGNED NOT NULL after the others (as MySQL 8's
    // SDI lists it), unless the table defines it.
    if fulltext
        && !columns
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case("FTS_DOC_ID"))
    {
        let mut c = Column::new(
            "FTS_DOC_ID",
            ColumnType::BigInt { unsigned: true },
            false,
            Charset::Binary,
        );
        c.hidden = true;
        columns.push(c);
    }
    // MariaDB `WITH SYSTEM VERSIONING` without period columns: hidden
    // stored row_start / row_end TIMESTAMP(6) after the others. The end
    // column is appended to the primary key and every unique key.
    let versioned = options
        .iter()
        .take_while(|t| !t.is_kw("PARTITION"))
        .collect::<Vec<_>>()
        .windows(3)
        .any(|w| w[0].is_kw("WITH") && w[1].is_kw("SYSTEM") && w[2].is_kw("VERSIONING"));
    if versioned && row_end.is_none() {
        for n in ["row_start", "row_end"] {
            let mut c = Column::new(
                n,
                ColumnType::Timestamp {
                    fsp: 6,
                    old_format: false,
                },
                false,
                Charset::Binary,
            );
            c.hidden = true;
            columns.push(c);
        }
        row_end = Some("row_end".into());
    }
    if let Some(end) = &row_end {
        for k in keys.iter_mut().filter(|k| k.primary || k.unique) {
            if !k.cols.iter().any(|(n, _)| n.eq_ignore_ascii_case(end)) {
                k.cols.push((end.clone(), None));
            }
        }
    }

    // Clustered index: the primary key, else the first UNIQUE index whose
    // columns are all NOT NULL (no prefixes), else DB_ROW_ID.
    let find = |n: &str| columns.iter().position(|c| c.name.eq_ignore_ascii_case(n));
    let mut resolved: Vec<(bool, bool, KeyParts)> = Vec::new();
    'keys: for kd in &keys {
        let mut v = Vec::new();
        for (n, prefix) in &kd.cols {
            let Some(i) = find(n) else {
                if kd.primary {
                    return Err(err(
                        Some(&qual),
                        format!("primary key names unknown column `{n}`"),
                    ));
                }
                // A secondary index on an expression or unknown column
                // does not matter for the clustered layout.
                continue 'keys;
            };
            v.push((i, *prefix));
        }
        resolved.push((kd.primary, kd.unique, v));
    }
    let pk_chars: Vec<(usize, Option<u32>)> = resolved
        .iter()
        .find(|(p, _, _)| *p)
        .or_else(|| {
            resolved.iter().find(|(_, u, v)| {
                *u && !v.is_empty()
                    && v.iter().all(|&(c, p)| {
                        p.is_none() && !columns[c].nullable && !columns[c].is_virtual
                    })
            })
        })
        .map(|(_, _, v)| v.clone())
        .unwrap_or_default();
    let is_primary = resolved.iter().any(|(p, _, _)| *p);
    let mut pk = Vec::new();
    for (c, prefix) in pk_chars {
        if is_primary {
            columns[c].nullable = false;
        }
        // A prefix counts characters for character types; InnoDB stores bytes.
        let bytes = prefix.map(|n| match columns[c].ty {
            ColumnType::Char { .. } | ColumnType::VarChar { .. } | ColumnType::Text => {
                n.saturating_mul(columns[c].charset.mbmaxlen())
            }
            _ => n,
        });
        // A prefix as long as the column is the whole column.
        let bytes = match (bytes, &columns[c].ty) {
            (Some(n), ColumnType::Char { len } | ColumnType::VarChar { len })
                if n >= len.saturating_mul(columns[c].charset.mbmaxlen()) =>
            {
                None
            }
            (Some(n), ColumnType::Binary { len } | ColumnType::VarBinary { len }) if n >= *len => {
                None
            }
            (b, _) => b,
        };
        if !pk.iter().any(|&(x, _)| x == c) {
            pk.push((c, bytes));
        }
    }
    let (clustered, n_key_fields) = TableDef::default_clustered(&columns, &pk);
    Ok(Some(TableDef {
        db: tdb,
        name: tname,
        columns,
        dropped_columns: Vec::new(),
        clustered,
        n_key_fields,
        row_format,
        space_id: None,
        index_id: None,
        source: SchemaSource::UserSql,
        current_row_version: 0,
        instant_cols_before: None,
        create_sql: Some(st.raw.clone()),
    }))
}

fn text_of<'a>(code: &'a str, el: &[Token]) -> &'a str {
    match (el.first(), el.last()) {
        (Some(a), Some(b)) => code.get(a.start..b.end).unwrap_or(""),
        _ => "",
    }
}

/// The column list of an index definition: `name(10)` gives a prefix.
fn key_columns(e: &[Token]) -> Option<Vec<(String, Option<u32>)>> {
    let open = e.iter().position(|t| t.is_punct('('))?;
    let close = matching_paren(e, open)?;
    let mut out = Vec::new();
    for part in split_commas(&e[open + 1..close]) {
        // Functional key parts `((expr))` have no column.
        let name = match &part[0].tok {
            Tok::Word(w) | Tok::Ident(w) | Tok::Str(w) => w.clone(),
            Tok::Punct(_) => continue,
        };
        let prefix = if part.get(1).is_some_and(|t| t.is_punct('(')) {
            part.get(2)
                .and_then(|t| t.ident())
                .and_then(|n| n.parse::<u32>().ok())
        } else {
            None
        };
        out.push((name, prefix));
    }
    Some(out)
}

/// Attributes sqlparser does not know, removed before it sees a column:
/// (word sequence, whether a `= value` or a value follows).
const STRIP: &[(&[&str], bool)] = &[
    (&["WITHOUT", "SYSTEM", "VERSIONING"], false),
    (&["WITH", "SYSTEM", "VERSIONING"], false),
    (&["COMPRESSED"], false),
    (&["INVISIBLE"], false),
    (&["VISIBLE"], false),
    (&["REF_SYSTEM_ID"], true),
    (&["SRID"], true),
    (&["COLUMN_FORMAT"], true),
    (&["STORAGE"], true),
    (&["SECONDARY_ENGINE_ATTRIBUTE"], true),
    (&["ENGINE_ATTRIBUTE"], true),
];

/// One column definition. Returns the column and, for an inline
/// `PRIMARY KEY` / `UNIQUE`, whether it is primary.
fn column(
    code: &str,
    el: &[Token],
    table_cs: Charset,
    opts: &SqlOptions,
) -> Result<(Column, Option<bool>), String> {
    let name = el[0].ident().ok_or("column without a name")?;
    // Rebuild the definition without the attributes sqlparser refuses.
    let mut keep: Vec<(usize, usize)> = Vec::new();
    let mut k = 0;
    let mut compressed = false;
    'tok: while k < el.len() {
        if k > 0 {
            for (words, has_value) in STRIP {
                if words
                    .iter()
                    .enumerate()
                    .all(|(j, w)| el.get(k + j).is_some_and(|t| t.is_kw(w)))
                {
                    if words[0] == "COMPRESSED" {
                        compressed = true;
                    }
                    k += words.len();
                    if *has_value {
                        if el.get(k).is_some_and(|t| t.is_punct('=')) {
                            k += 1;
                        }
                        k += 1;
                    } else if words[0] == "COMPRESSED" && el.get(k).is_some_and(|t| t.is_punct('='))
                    {
                        k += 2;
                    }
                    continue 'tok;
                }
            }
        }
        let t = &el[k];
        if t.is_kw("PERSISTENT") {
            keep.push((usize::MAX, 0));
        } else {
            keep.push((t.start, t.end));
        }
        k += 1;
    }
    let mut def = String::new();
    for (a, b) in keep {
        if a == usize::MAX {
            def.push_str(" STORED");
        } else {
            def.push(' ');
            def.push_str(code.get(a..b).unwrap_or(""));
        }
    }
    if compressed {
        // MariaDB column compression stores zlib data with its own header:
        // decoding it as plain text would invent values.
        return Err(format!(
            "column `{name}`: MariaDB column compression (COMPRESSED) is not supported"
        ));
    }
    let sql = format!("CREATE TABLE t ({def})");
    match Parser::parse_sql(&MySqlDialect {}, &sql) {
        Ok(stmts) => match stmts.into_iter().next() {
            Some(Statement::CreateTable(ct)) if ct.columns.len() == 1 => {
                let Some(cd) = ct.columns.into_iter().next() else {
                    return Err("no column".into());
                };
                from_sqlparser(name, &cd.data_type, &cd.options, table_cs, opts)
            }
            _ => fallback_column(name, &el[1..], table_cs, opts),
        },
        Err(_) => fallback_column(name, &el[1..], table_cs, opts),
    }
}

fn object_name(o: &ObjectName) -> String {
    o.0.iter()
        .filter_map(|p| match p {
            ObjectNamePart::Identifier(i) => Some(i.value.clone()),
            _ => None,
        })
        .next_back()
        .unwrap_or_default()
}

/// Column attributes common to both readers.
#[derive(Default)]
struct Attrs {
    not_null: bool,
    charset: Option<Charset>,
    collation: Option<Charset>,
    is_virtual: bool,
    key: Option<bool>,
}

fn from_sqlparser(
    name: String,
    dt: &DataType,
    options: &[sqlparser::ast::ColumnOptionDef],
    table_cs: Charset,
    opts: &SqlOptions,
) -> Result<(Column, Option<bool>), String> {
    let mut a = Attrs::default();
    for o in options {
        match &o.option {
            ColumnOption::NotNull => a.not_null = true,
            ColumnOption::Null => a.not_null = false,
            ColumnOption::CharacterSet(n) => a.charset = charset::from_name(&object_name(n)),
            ColumnOption::Collation(n) => {
                a.collation = charset::from_collation_name(&object_name(n))
            }
            ColumnOption::PrimaryKey(_) => a.key = Some(true),
            ColumnOption::Unique(_) => a.key = a.key.or(Some(false)),
            ColumnOption::Generated {
                generation_expr: Some(_),
                generation_expr_mode,
                ..
            } => {
                a.is_virtual =
                    !matches!(generation_expr_mode, Some(GeneratedExpressionMode::Stored));
            }
            _ => {}
        }
    }
    let (base, mut unsigned) = match dt {
        DataType::Zerofill(inner) => (inner.as_ref(), true),
        d => (d, false),
    };
    let (tname, args): (String, Vec<u64>) = match base {
        DataType::Collate(inner, coll) => {
            a.collation = charset::from_collation_name(&object_name(coll));
            return from_sqlparser(name, inner, options, table_cs, opts).map(|(mut c, k)| {
                if a.charset.is_none() {
                    if let Some(cs) = a.collation {
                        if is_text(&c.ty) {
                            c.charset = cs;
                        }
                    }
                }
                (c, k)
            });
        }
        DataType::TinyInt(n) => ("TINYINT".into(), opt(*n)),
        DataType::TinyIntUnsigned(n) => {
            unsigned = true;
            ("TINYINT".into(), opt(*n))
        }
        DataType::SmallInt(n) => ("SMALLINT".into(), opt(*n)),
        DataType::SmallIntUnsigned(n) => {
            unsigned = true;
            ("SMALLINT".into(), opt(*n))
        }
        DataType::MediumInt(n) => ("MEDIUMINT".into(), opt(*n)),
        DataType::MediumIntUnsigned(n) => {
            unsigned = true;
            ("MEDIUMINT".into(), opt(*n))
        }
        DataType::Int(n) | DataType::Integer(n) => ("INT".into(), opt(*n)),
        DataType::IntUnsigned(n) | DataType::IntegerUnsigned(n) => {
            unsigned = true;
            ("INT".into(), opt(*n))
        }
        DataType::BigInt(n) => ("BIGINT".into(), opt(*n)),
        DataType::BigIntUnsigned(n) => {
            unsigned = true;
            ("BIGINT".into(), opt(*n))
        }
        DataType::Decimal(e) | DataType::Numeric(e) | DataType::Dec(e) => {
            ("DECIMAL".into(), exact(e))
        }
        DataType::DecimalUnsigned(e) | DataType::DecUnsigned(e) => ("DECIMAL".into(), exact(e)),
        DataType::Float(e) | DataType::FloatUnsigned(e) => ("FLOAT".into(), exact(e)),
        DataType::Double(_)
        | DataType::DoubleUnsigned(_)
        | DataType::DoublePrecision
        | DataType::DoublePrecisionUnsigned => ("DOUBLE".into(), vec![]),
        DataType::Real | DataType::RealUnsigned | DataType::Float8 | DataType::Float64 => {
            ("DOUBLE".into(), vec![])
        }
        DataType::Float4 | DataType::Float32 => ("FLOAT".into(), vec![]),
        DataType::Bool | DataType::Boolean => ("TINYINT".into(), vec![]),
        DataType::Bit(n) => ("BIT".into(), opt(*n)),
        DataType::Date => ("DATE".into(), vec![]),
        DataType::Datetime(n) => ("DATETIME".into(), opt(*n)),
        DataType::Timestamp(n, _) => ("TIMESTAMP".into(), opt(*n)),
        DataType::Time(n, _) => ("TIME".into(), opt(*n)),
        DataType::Char(l) | DataType::Character(l) => ("CHAR".into(), char_len(l)),
        DataType::Varchar(l) | DataType::CharVarying(l) | DataType::CharacterVarying(l) => {
            ("VARCHAR".into(), char_len(l))
        }
        DataType::Nvarchar(l) => {
            a.charset = a.charset.or(Some(Charset::Utf8mb3));
            ("VARCHAR".into(), char_len(l))
        }
        DataType::Binary(n) => ("BINARY".into(), opt(*n)),
        DataType::Varbinary(l) => (
            "VARBINARY".into(),
            match l {
                Some(BinaryLength::IntegerLength { length }) => vec![*length],
                _ => vec![],
            },
        ),
        DataType::Blob(_) | DataType::TinyBlob | DataType::MediumBlob | DataType::LongBlob => {
            ("BLOB".into(), vec![])
        }
        DataType::Text | DataType::TinyText | DataType::MediumText | DataType::LongText => {
            ("TEXT".into(), vec![])
        }
        DataType::JSON => ("JSON".into(), vec![]),
        DataType::Enum(members, _) => {
            let m = members
                .iter()
                .map(|m| match m {
                    sqlparser::ast::EnumMember::Name(s) => s.clone(),
                    sqlparser::ast::EnumMember::NamedValue(s, _) => s.clone(),
                })
                .collect();
            return finish(name, ColumnType::Enum { members: m }, a, table_cs);
        }
        DataType::Set(members) => {
            return finish(
                name,
                ColumnType::Set {
                    members: members.clone(),
                },
                a,
                table_cs,
            );
        }
        DataType::GeometricType(_) => ("GEOMETRY".into(), vec![]),
        DataType::Custom(n, mods) => (
            object_name(n).to_ascii_uppercase(),
            mods.iter()
                .filter_map(|m| m.to_string().parse::<u64>().ok())
                .collect(),
        ),
        DataType::Unsigned | DataType::UnsignedInteger => {
            unsigned = true;
            ("INT".into(), vec![])
        }
        DataType::Signed | DataType::SignedInteger => ("INT".into(), vec![]),
        other => {
            // Anything else: read it back from its SQL text.
            let text = other.to_string();
            let toks = tokenize(&text);
            return match fallback_type(&toks, opts) {
                Some((ty, u)) => finish(name, with_unsigned(ty, u), a, table_cs),
                None => Err(format!("column `{name}`: unsupported type {text}")),
            };
        }
    };
    if let DataType::Custom(..) = base {
        if unsigned_in_custom(base) {
            unsigned = true;
        }
    }
    let ty = named_type(&tname, &args, unsigned, opts, &mut a)
        .ok_or_else(|| format!("column `{name}`: unsupported type {base}"))?;
    finish(name, ty, a, table_cs)
}

fn unsigned_in_custom(dt: &DataType) -> bool {
    dt.to_string().to_ascii_uppercase().contains("UNSIGNED")
}

fn opt(n: Option<u64>) -> Vec<u64> {
    n.into_iter().collect()
}

fn exact(e: &ExactNumberInfo) -> Vec<u64> {
    match e {
        ExactNumberInfo::None => vec![],
        ExactNumberInfo::Precision(p) => vec![*p],
        ExactNumberInfo::PrecisionAndScale(p, s) => vec![*p, u64::try_from(*s).unwrap_or(0)],
    }
}

fn char_len(l: &Option<CharacterLength>) -> Vec<u64> {
    match l {
        Some(CharacterLength::IntegerLength { length, .. }) => vec![*length],
        _ => vec![],
    }
}

fn is_text(ty: &ColumnType) -> bool {
    matches!(
        ty,
        ColumnType::Char { .. }
            | ColumnType::VarChar { .. }
            | ColumnType::Text
            | ColumnType::Enum { .. }
            | ColumnType::Set { .. }
    )
}

fn with_unsigned(ty: ColumnType, u: bool) -> ColumnType {
    match ty {
        ColumnType::TinyInt { .. } => ColumnType::TinyInt { unsigned: u },
        ColumnType::SmallInt { .. } => ColumnType::SmallInt { unsigned: u },
        ColumnType::MediumInt { .. } => ColumnType::MediumInt { unsigned: u },
        ColumnType::Int { .. } => ColumnType::Int { unsigned: u },
        ColumnType::BigInt { .. } => ColumnType::BigInt { unsigned: u },
        t => t,
    }
}

fn clamp32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// A type by its SQL name and numeric arguments. Character types come back
/// as text types; [`finish`] turns them binary under `CHARACTER SET binary`.
fn named_type(
    tname: &str,
    args: &[u64],
    unsigned: bool,
    opts: &SqlOptions,
    a: &mut Attrs,
) -> Option<ColumnType> {
    let arg = |i: usize| args.get(i).copied();
    Some(match tname {
        "TINYINT" | "INT1" | "BOOL" | "BOOLEAN" => ColumnType::TinyInt { unsigned },
        "SMALLINT" | "INT2" => ColumnType::SmallInt { unsigned },
        "MEDIUMINT" | "INT3" | "MIDDLEINT" => ColumnType::MediumInt { unsigned },
        "INT" | "INTEGER" | "INT4" => ColumnType::Int { unsigned },
        "BIGINT" | "INT8" => ColumnType::BigInt { unsigned },
        "SERIAL" => {
            a.not_null = true;
            ColumnType::BigInt { unsigned: true }
        }
        "DECIMAL" | "NUMERIC" | "DEC" | "FIXED" => ColumnType::Decimal {
            precision: clamp32(arg(0).unwrap_or(10)).min(65),
            scale: clamp32(arg(1).unwrap_or(0)).min(38),
        },
        // FLOAT(p) with p > 24 is a DOUBLE; FLOAT(m,d) stays a FLOAT.
        "FLOAT" if args.len() == 1 && arg(0).unwrap_or(0) > 24 => ColumnType::Double,
        "FLOAT" | "FLOAT4" => ColumnType::Float,
        "DOUBLE" | "REAL" | "FLOAT8" => ColumnType::Double,
        "BIT" => ColumnType::Bit {
            bits: clamp32(arg(0).unwrap_or(1)).clamp(1, 64),
        },
        "YEAR" => ColumnType::Year,
        "DATE" => ColumnType::Date,
        "DATETIME" => ColumnType::DateTime {
            fsp: clamp32(arg(0).unwrap_or(0)).min(6),
            old_format: false,
        },
        "TIMESTAMP" => ColumnType::Timestamp {
            fsp: clamp32(arg(0).unwrap_or(0)).min(6),
            old_format: false,
        },
        "TIME" => ColumnType::Time {
            fsp: clamp32(arg(0).unwrap_or(0)).min(6),
            old_format: false,
        },
        "CHAR" | "CHARACTER" => ColumnType::Char {
            len: clamp32(arg(0).unwrap_or(1)),
        },
        "NCHAR" => {
            a.charset = a.charset.or(Some(Charset::Utf8mb3));
            ColumnType::Char {
                len: clamp32(arg(0).unwrap_or(1)),
            }
        }
        "VARCHAR" | "VARCHAR2" => ColumnType::VarChar {
            len: clamp32(arg(0).unwrap_or(0)),
        },
        "NVARCHAR" | "NCHAR VARCHAR" => {
            a.charset = a.charset.or(Some(Charset::Utf8mb3));
            ColumnType::VarChar {
                len: clamp32(arg(0).unwrap_or(0)),
            }
        }
        "BINARY" => ColumnType::Binary {
            len: clamp32(arg(0).unwrap_or(1)),
        },
        "VARBINARY" => ColumnType::VarBinary {
            len: clamp32(arg(0).unwrap_or(0)),
        },
        "TINYTEXT" | "TEXT" | "MEDIUMTEXT" | "LONGTEXT" | "LONG" => ColumnType::Text,
        "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" => ColumnType::Blob,
        "JSON" if opts.mysql_json => ColumnType::Json,
        "JSON" => {
            // MariaDB: LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin.
            a.charset = a.charset.or(Some(Charset::Utf8mb4));
            ColumnType::Text
        }
        "GEOMETRY" | "POINT" | "LINESTRING" | "POLYGON" | "MULTIPOINT" | "MULTILINESTRING"
        | "MULTIPOLYGON" | "GEOMETRYCOLLECTION" | "GEOMCOLLECTION" => ColumnType::Geometry,
        // MariaDB 10.5+ INET6 = BINARY(16), 10.7+ UUID = BINARY(16), 11.3+ INET4 = BINARY(4).
        "INET6" | "UUID" => ColumnType::Binary { len: 16 },
        "INET4" => ColumnType::Binary { len: 4 },
        "VECTOR" => ColumnType::Vector {
            dims: clamp32(arg(0).unwrap_or(2048)),
        },
        _ => return None,
    })
}

/// The column's charset, NULL-ness; character types in `binary` become
/// binary types.
fn finish(
    name: String,
    ty: ColumnType,
    a: Attrs,
    table_cs: Charset,
) -> Result<(Column, Option<bool>), String> {
    let texty = is_text(&ty);
    let cs = if texty {
        a.charset.or(a.collation).unwrap_or(table_cs)
    } else {
        Charset::Binary
    };
    let ty = match (ty, cs) {
        (ColumnType::Char { len }, Charset::Binary) => ColumnType::Binary { len },
        (ColumnType::VarChar { len }, Charset::Binary) => ColumnType::VarBinary { len },
        (ColumnType::Text, Charset::Binary) => ColumnType::Blob,
        (t, _) => t,
    };
    let mut col = Column::new(&name, ty, !a.not_null, cs);
    col.is_virtual = a.is_virtual;
    if a.key == Some(true) {
        col.nullable = false;
    }
    Ok((col, a.key))
}

/// The type at the start of `toks` (`int(10) unsigned`, `enum('a','b')`,
/// `double precision`, `national char(3)`): (type, unsigned).
fn fallback_type(toks: &[Token], opts: &SqlOptions) -> Option<(ColumnType, bool)> {
    let mut a = Attrs::default();
    let (ty, u, _) = read_type(toks, opts, &mut a)?;
    Some((ty, u))
}

/// Reads a type at the start of `toks`; returns it, unsigned, and how many
/// tokens it used.
fn read_type(
    toks: &[Token],
    opts: &SqlOptions,
    a: &mut Attrs,
) -> Option<(ColumnType, bool, usize)> {
    let mut k = 0;
    let mut name = toks.first()?.keyword();
    k += 1;
    if name == "NATIONAL" {
        a.charset = Some(Charset::Utf8mb3);
        name = toks.get(k)?.keyword();
        k += 1;
    }
    if (name == "DOUBLE" && toks.get(k).is_some_and(|t| t.is_kw("PRECISION")))
        || ((name == "CHAR" || name == "CHARACTER")
            && toks.get(k).is_some_and(|t| t.is_kw("VARYING")))
    {
        if name != "DOUBLE" {
            name = "VARCHAR".into();
        }
        k += 1;
    }
    if name == "LONG"
        && toks
            .get(k)
            .is_some_and(|t| t.is_kw("VARCHAR") || t.is_kw("VARBINARY"))
    {
        name = if toks[k].is_kw("VARCHAR") {
            "MEDIUMTEXT".into()
        } else {
            "MEDIUMBLOB".into()
        };
        k += 1;
    }
    let mut args = Vec::new();
    let mut members = Vec::new();
    if toks.get(k).is_some_and(|t| t.is_punct('(')) {
        let close = matching_paren(toks, k)?;
        for part in split_commas(&toks[k + 1..close]) {
            match &part[0].tok {
                Tok::Str(s) => members.push(s.clone()),
                Tok::Word(w) => args.push(w.parse::<u64>().unwrap_or(0)),
                _ => {}
            }
        }
        k = close + 1;
    }
    let mut unsigned = false;
    while let Some(t) = toks.get(k) {
        match t.keyword().as_str() {
            "UNSIGNED" | "ZEROFILL" => unsigned = true,
            "SIGNED" => {}
            _ => break,
        }
        k += 1;
    }
    let ty = match name.as_str() {
        "ENUM" => ColumnType::Enum { members },
        "SET" => ColumnType::Set { members },
        n => named_type(n, &args, unsigned, opts, a)?,
    };
    Some((ty, unsigned, k))
}

/// A column sqlparser refused: type, then a scan for NOT NULL, CHARACTER
/// SET, COLLATE, PRIMARY KEY / UNIQUE and generated-column markers.
fn fallback_column(
    name: String,
    toks: &[Token],
    table_cs: Charset,
    opts: &SqlOptions,
) -> Result<(Column, Option<bool>), String> {
    let mut a = Attrs::default();
    let (ty, _, used) = read_type(toks, opts, &mut a)
        .ok_or_else(|| format!("column `{name}`: cannot read its type"))?;
    let rest = &toks[used..];
    let mut generated = false;
    let mut stored = false;
    let mut k = 0;
    while k < rest.len() {
        let t = &rest[k];
        if t.is_punct('(') {
            k = matching_paren(rest, k).unwrap_or(rest.len());
            k += 1;
            continue;
        }
        match t.keyword().as_str() {
            "NOT" if rest.get(k + 1).is_some_and(|t| t.is_kw("NULL")) => {
                a.not_null = true;
                k += 1;
            }
            "NULL" => a.not_null = false,
            "DEFAULT" | "COMMENT" => k += 1,
            "CHARSET" => {
                a.charset = rest
                    .get(k + 1)
                    .and_then(|t| t.ident())
                    .and_then(|n| charset::from_name(&n));
                k += 1;
            }
            "CHARACTER" if rest.get(k + 1).is_some_and(|t| t.is_kw("SET")) => {
                a.charset = rest
                    .get(k + 2)
                    .and_then(|t| t.ident())
                    .and_then(|n| charset::from_name(&n));
                k += 2;
            }
            "COLLATE" => {
                a.collation = rest
                    .get(k + 1)
                    .and_then(|t| t.ident())
                    .and_then(|n| charset::from_collation_name(&n));
                k += 1;
            }
            "PRIMARY" => a.key = Some(true),
            "UNIQUE" => a.key = a.key.or(Some(false)),
            // `GENERATED ALWAYS AS ROW START|END` columns are stored.
            "AS" if rest.get(k + 1).is_some_and(|t| t.is_kw("ROW")) => {}
            "AS" => generated = true,
            "STORED" | "PERSISTENT" => stored = true,
            _ => {}
        }
        k += 1;
    }
    a.is_virtual = generated && !stored;
    finish(name, ty, a, table_cs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysqldump_header_names_the_database() {
        let dump = "-- MySQL dump 10.13  Distrib 5.6.19, for Linux (x86_64)\n--\n-- Host: localhost    Database: sakila\n-- ---\nCREATE TABLE `actor` (`actor_id` smallint(5) unsigned NOT NULL, PRIMARY KEY (`actor_id`)) ENGINE=InnoDB;\n";
        let t = parse_create_tables(dump, None).unwrap();
        assert_eq!(t[0].db, "sakila");
        // --db wins over the header; USE wins over both.
        assert_eq!(parse_create_tables(dump, Some("x")).unwrap()[0].db, "x");
        let with_use = dump.replace("CREATE TABLE", "USE other;\nCREATE TABLE");
        assert_eq!(parse_create_tables(&with_use, None).unwrap()[0].db, "other");
        // --all-databases: an empty Database: names none.
        let all = dump.replace("Database: sakila", "Database: ");
        assert_eq!(parse_create_tables(&all, None).unwrap()[0].db, "");
    }

    #[test]
    fn statements_and_comments() {
        let s = "-- c\n/*!40101 SET x=1 */;\nUSE `a;b`;\n# x\nCREATE TABLE t (a int /* ; */ , b varchar(3) DEFAULT ';') ;\nDELIMITER ;;\nCREATE TRIGGER x BEGIN SELECT 1; END ;;\nDELIMITER ;\nSELECT 2;";
        let st = split_statements(s);
        let codes: Vec<&str> = st.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes.len(), 5, "{codes:?}");
        assert_eq!(codes[1], "USE `a;b`");
        assert!(codes[2].starts_with("CREATE TABLE t (a int"));
        assert_eq!(st[2].line, 5);
        assert_eq!(codes[3], "CREATE TRIGGER x BEGIN SELECT 1; END");
    }
}
