//! `schema.sql` (the recovered CREATE TABLEs) and `load.sql` (reloads every
//! CSV into a live server with LOAD DATA LOCAL INFILE).

use std::fmt::Write;

use crate::export::path_component;
use crate::recover::{Recovery, TableRecovery};
use crate::schema::{Charset, Column, ColumnType, TableDef};

fn ident(s: &str) -> String {
    format!("`{}`", s.replace('`', "``"))
}

fn sql_string(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// A column's SQL type, as CREATE TABLE spells it.
pub fn column_type_sql(c: &Column) -> String {
    let u = |unsigned: bool| if unsigned { " unsigned" } else { "" };
    let fsp = |f: u32| {
        if f > 0 {
            format!("({f})")
        } else {
            String::new()
        }
    };
    let list = |m: &[String]| {
        m.iter()
            .map(|x| sql_string(x))
            .collect::<Vec<_>>()
            .join(",")
    };
    match &c.ty {
        ColumnType::TinyInt { unsigned } => format!("tinyint{}", u(*unsigned)),
        ColumnType::SmallInt { unsigned } => format!("smallint{}", u(*unsigned)),
        ColumnType::MediumInt { unsigned } => format!("mediumint{}", u(*unsigned)),
        ColumnType::Int { unsigned } => format!("int{}", u(*unsigned)),
        ColumnType::BigInt { unsigned } => format!("bigint{}", u(*unsigned)),
        ColumnType::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
        ColumnType::Float => "float".into(),
        ColumnType::Double => "double".into(),
        ColumnType::Bit { bits } => format!("bit({bits})"),
        ColumnType::Year => "year".into(),
        ColumnType::Date => "date".into(),
        ColumnType::DateTime { fsp: f, .. } => format!("datetime{}", fsp(*f)),
        ColumnType::Timestamp { fsp: f, .. } => format!("timestamp{}", fsp(*f)),
        ColumnType::Time { fsp: f, .. } => format!("time{}", fsp(*f)),
        ColumnType::Char { len } => format!("char({len})"),
        ColumnType::VarChar { len } => format!("varchar({len})"),
        ColumnType::Binary { len } => format!("binary({len})"),
        ColumnType::VarBinary { len } => format!("varbinary({len})"),
        ColumnType::Text => "longtext".into(),
        ColumnType::Blob => "longblob".into(),
        ColumnType::Enum { members } => format!("enum({})", list(members)),
        ColumnType::Set { members } => format!("set({})", list(members)),
        ColumnType::Json => "json".into(),
        ColumnType::Geometry => "geometry".into(),
        ColumnType::Vector { dims } => format!("vector({dims})"),
    }
}

fn charset_name(c: Charset) -> Option<&'static str> {
    Some(match c {
        Charset::Latin1 => "latin1",
        Charset::Utf8mb3 => "utf8mb3",
        Charset::Utf8mb4 => "utf8mb4",
        Charset::Gbk => "gbk",
        Charset::Ujis => "ujis",
        Charset::Ascii => "ascii",
        Charset::Big5 => "big5",
        Charset::Sjis => "sjis",
        Charset::Euckr => "euckr",
        Charset::Gb2312 => "gb2312",
        Charset::Gb18030 => "gb18030",
        Charset::Cp1251 => "cp1251",
        Charset::Utf16 => "utf16",
        Charset::Ucs2 => "ucs2",
        Charset::Utf32 => "utf32",
        Charset::Binary | Charset::Other(_) => return None,
    })
}

fn is_text(t: &ColumnType) -> bool {
    matches!(
        t,
        ColumnType::Char { .. }
            | ColumnType::VarChar { .. }
            | ColumnType::Text
            | ColumnType::Enum { .. }
            | ColumnType::Set { .. }
    )
}

/// A CREATE TABLE for a definition that came without one (SDI, dictionary).
pub fn create_table_sql(t: &TableDef) -> String {
    let mut s = format!("CREATE TABLE {}.{} (\n", ident(&t.db), ident(&t.name));
    let cols: Vec<String> = t
        .columns
        .iter()
        .filter(|c| c.is_visible())
        .map(|c| {
            let mut d = format!("  {} {}", ident(&c.name), column_type_sql(c));
            if is_text(&c.ty) {
                if let Some(cs) = charset_name(c.charset) {
                    let _ = write!(d, " CHARACTER SET {cs}");
                }
            }
            if !c.nullable {
                d.push_str(" NOT NULL");
            }
            d
        })
        .collect();
    s.push_str(&cols.join(",\n"));
    let pk: Vec<String> = t.clustered[..t.n_key_fields.min(t.clustered.len())]
        .iter()
        .filter_map(|f| match f {
            crate::schema::IndexField::Column { col, .. } => {
                t.columns.get(*col).map(|c| ident(&c.name))
            }
            _ => None,
        })
        .collect();
    if !pk.is_empty() {
        let _ = write!(s, ",\n  PRIMARY KEY ({})", pk.join(","));
    }
    s.push_str("\n) ENGINE=InnoDB");
    s
}

/// The server's own databases: their tables are written as CSV but left out
/// of schema.sql and load.sql (a new server has them already).
pub fn is_system_db(db: &str) -> bool {
    matches!(
        db.to_ascii_lowercase().as_str(),
        "mysql" | "sys" | "performance_schema" | "information_schema" | ""
    )
}

/// `schema.sql`: every table's CREATE TABLE, databases first.
pub fn schema_sql(rec: &Recovery) -> String {
    let mut s =
        String::from("-- Recovered by salvage. Tables as their schema source described them.\n");
    let tables: Vec<_> = rec.tables.iter().filter(|t| !is_system_db(&t.db)).collect();
    let dbs: std::collections::BTreeSet<&str> = tables.iter().map(|t| t.db.as_str()).collect();
    for db in dbs {
        let _ = writeln!(s, "CREATE DATABASE IF NOT EXISTS {};", ident(db));
    }
    for t in tables {
        let _ = writeln!(s, "\n-- {}.{} (schema from {:?})", t.db, t.table, t.source);
        let create = t
            .def
            .create_sql
            .clone()
            .unwrap_or_else(|| create_table_sql(&t.def));
        let create = qualify(&create, &t.db);
        let _ = writeln!(s, "{};", create.trim_end().trim_end_matches(';'));
    }
    s
}

/// Puts the database name in front of a CREATE TABLE's table name when it
/// has none, so schema.sql can be run as one file.
fn qualify(create: &str, db: &str) -> String {
    let upper = create.to_ascii_uppercase();
    let Some(i) = upper.find("CREATE TABLE") else {
        return create.to_string();
    };
    let mut rest = &create[i + "CREATE TABLE".len()..];
    let mut prefix = create[..i + "CREATE TABLE".len()].to_string();
    let trimmed = rest.trim_start();
    if trimmed.to_ascii_uppercase().starts_with("IF NOT EXISTS") {
        let skip = rest.len() - trimmed.len() + "IF NOT EXISTS".len();
        prefix.push_str(&rest[..skip]);
        rest = &rest[skip..];
    }
    let name_start = rest.len() - rest.trim_start().len();
    let name = rest[name_start..]
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or("");
    if name.contains('.') {
        return create.to_string();
    }
    format!("{prefix} {}.{}", ident(db), &rest[name_start..])
}

/// `load.sql`: LOAD DATA LOCAL INFILE of every CSV, with UNHEX for binary
/// columns and TIMESTAMPs read as UTC. Run it from the output directory
/// (`mariadb --local-infile=1 < load.sql`) after schema.sql.
pub fn load_sql(rec: &Recovery) -> String {
    let mut s = String::from(
        "-- Recovered by salvage. Run from this directory after schema.sql:\n\
         --   mariadb --local-infile=1 < schema.sql && mariadb --local-infile=1 < load.sql\n\
         SET NAMES utf8mb4;\nSET time_zone = '+00:00';\nSET foreign_key_checks = 0;\nSET unique_checks = 0;\n",
    );
    for t in &rec.tables {
        if t.rows_written == 0 || is_system_db(&t.db) {
            continue;
        }
        s.push_str(&load_statement(t, ".csv"));
    }
    let uncertain: Vec<&TableRecovery> = rec
        .tables
        .iter()
        .filter(|t| t.uncertain_rows > 0 && !is_system_db(&t.db))
        .collect();
    if !uncertain.is_empty() {
        s.push_str(
            "\n-- Uncertain rows: found on the disk, but nothing proves them live or deleted\n\
             -- (pages that fail their checksum, old page copies where the live pages are lost,\n\
             -- transactions active at the crash; see report.json). No key is in both files.\n\
             -- To load them too, remove the leading '-- ' of the statements below.\n",
        );
        for t in uncertain {
            for line in load_statement(t, ".uncertain.csv").lines() {
                let _ = writeln!(s, "-- {line}");
            }
        }
    }
    s
}

/// The LOAD DATA statement of one table's CSV file (`suffix`: `.csv`,
/// `.uncertain.csv`).
fn load_statement(t: &TableRecovery, suffix: &str) -> String {
    let mut s = String::new();
    let n_visible = t.def.columns.iter().filter(|c| c.is_visible()).count();
    let vars: Vec<String> = (0..n_visible).map(|i| format!("@c{i}")).collect();
    let sets: Vec<String> = t
        .def
        .columns
        .iter()
        .filter(|c| c.is_visible())
        .enumerate()
        .map(|(i, c)| {
            let v = format!("NULLIF(@c{i}, '\\\\N')");
            let expr = match c.ty {
                ColumnType::Binary { .. }
                | ColumnType::VarBinary { .. }
                | ColumnType::Blob
                | ColumnType::Geometry
                | ColumnType::Vector { .. } => {
                    format!("UNHEX(SUBSTRING({v}, 3))")
                }
                ColumnType::Text | ColumnType::Char { .. } | ColumnType::VarChar { .. }
                    if c.charset == Charset::Binary =>
                {
                    format!("UNHEX(SUBSTRING({v}, 3))")
                }
                ColumnType::Bit { .. } => format!("CAST({v} AS UNSIGNED)"),
                _ => v,
            };
            format!("{} = {expr}", ident(&c.name))
        })
        .collect();
    let file = format!(
        "{}/{}{suffix}",
        path_component(&t.db),
        path_component(&t.table)
    );
    let _ = writeln!(
        s,
        "LOAD DATA LOCAL INFILE {} INTO TABLE {}.{} CHARACTER SET utf8mb4\n  \
         FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY ''\n  \
         LINES TERMINATED BY '\\n' IGNORE 1 LINES\n  ({})\n  SET {};",
        sql_string(&file),
        ident(&t.db),
        ident(&t.table),
        vars.join(", "),
        sets.join(",\n      ")
    );
    s
}
