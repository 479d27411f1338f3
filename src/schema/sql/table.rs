//! Stage 2: one `CREATE TABLE` cut into its name, its parenthesised body
//! and its trailing options.
//!
//! Table options are read here, up to `PARTITION BY` (sqlparser does not
//! know MariaDB's `PAGE_COMPRESSED` and friends): `[DEFAULT] CHARSET`,
//! `COLLATE`, `ROW_FORMAT`, and `KEY_BLOCK_SIZE` (which alone means
//! `ROW_FORMAT=COMPRESSED`). Index definitions matter only for their
//! column lists (`name(10)` is a prefix of 10 characters for character
//! types, InnoDB stores bytes). The clustered index is the primary key,
//! else the first UNIQUE index of NOT NULL stored columns without
//! prefixes, else `DB_ROW_ID`. InnoDB adds a hidden `FTS_DOC_ID` for a
//! FULLTEXT index (unless the table has one), and MariaDB's `WITH SYSTEM
//! VERSIONING` without period columns adds hidden `row_start` / `row_end`;
//! the row-end column is appended to the primary key and every unique key.

use super::column::column;
use super::lex::{matching_paren, split_commas, Stmt, Tok, Token};
use super::SqlOptions;
use crate::schema::charset;
use crate::schema::{Charset, Column, ColumnType, RowFormat, SchemaError, SchemaSource, TableDef};

/// `[DEFAULT] CHARSET|CHARACTER SET [=] x` and `[DEFAULT] COLLATE [=] x` in a
/// list of options: (charset, charset of the collation).
pub(super) fn charset_options(toks: &[Token]) -> (Option<Charset>, Option<Charset>) {
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

/// Index columns by position in the table, with prefix lengths.
type KeyParts = Vec<(usize, Option<u32>)>;

struct KeyDef {
    primary: bool,
    unique: bool,
    cols: Vec<(String, Option<u32>)>,
}

pub(super) fn create_table(
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
