//! `CREATE TABLE` statements a user supplies (`--schema FILE.sql`):
//! mysqldump output or `SHOW CREATE TABLE` of MySQL and MariaDB, as they are.
//!
//! The file is split into statements by a small lexer that knows quotes,
//! comments, MySQL's executable comments (`/*!50100 ... */`, `/*M!100100 ...*/`)
//! and `DELIMITER`. Only `USE`, `CREATE DATABASE` and `CREATE TABLE` matter;
//! everything else (SET, DROP, INSERT, LOCK, triggers) is skipped.
//!
//! A `CREATE TABLE` is cut into its name, its parenthesised body and its
//! trailing options. Table options are read here, up to a `PARTITION BY`,
//! whose clause is not read (sqlparser does not know MariaDB's
//! `PAGE_COMPRESSED` and friends), index definitions
//! too (only their column lists matter), and every column definition goes to
//! `sqlparser` with the MySQL dialect, after MariaDB-only attributes are
//! removed. A column sqlparser still refuses is read by a plain fallback
//! (name, type, NULL-ness, charset), so one odd attribute never loses a table.
//!
//! The stages, one module each:
//! - `lex`: the file into statements, and a statement into tokens;
//! - `table`: a `CREATE TABLE` into name, columns, keys and options;
//! - `column`: one column definition through sqlparser;
//! - `types`: type names, a column's charset and NULL-ness, and the plain
//!   reader for a column sqlparser refuses.

mod column;
mod lex;
mod table;
mod types;

use super::{Charset, SchemaError, TableDef};
use lex::{split_statements, tokenize};
use table::{charset_options, create_table};

/// How to read types whose meaning depends on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqlOptions {
    /// The statements come from MySQL 5.7/8.x: `json` is MySQL's binary
    /// JSON ([`ColumnType::Json`](super::ColumnType::Json)). When false
    /// (MariaDB), `json` is an alias of `LONGTEXT` (utf8mb4, binary
    /// collation).
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
}
