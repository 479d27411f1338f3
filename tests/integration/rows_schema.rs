//! Test helpers for the row decoder: a deliberately small `CREATE TABLE`
//! reader (enough for the fixtures' SHOW CREATE TABLE output and the corpus
//! .sql files), truth-CSV reading in the DESIGN.md convention, and a page
//! source over a tablespace file. Used by the `rows_*` modules; the real
//! schema parser lives in `salvage::schema::sql`.

use std::borrow::Cow;

use salvage::bytes::{be_u16, be_u32, be_u64};
use salvage::innodb::fil::{
    FIL_NULL, FIL_PAGE_DATA, FIL_PAGE_INDEX, FIL_PAGE_NEXT, FIL_PAGE_PREV, FIL_PAGE_TYPE,
    FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB,
};
use salvage::innodb::lob::PageSource;
use salvage::innodb::page_header::{PAGE_INDEX_ID, PAGE_LEVEL};
use salvage::schema::{Charset, Column, ColumnType, RowFormat, SchemaSource, TableDef};

/// Pages of one tablespace file (any space id; page n at n * page_size).
pub struct FilePages<'a> {
    pub data: &'a [u8],
    pub page_size: usize,
}

impl PageSource for FilePages<'_> {
    fn page(&self, _space_id: u32, page_no: u32) -> Option<Cow<'_, [u8]>> {
        let s = (page_no as usize).checked_mul(self.page_size)?;
        self.data.get(s..s + self.page_size).map(Cow::Borrowed)
    }
}

fn charset(name: &str) -> Charset {
    match name.trim_matches('`').to_ascii_lowercase().as_str() {
        "latin1" => Charset::Latin1,
        "utf8" | "utf8mb3" => Charset::Utf8mb3,
        "utf8mb4" => Charset::Utf8mb4,
        "gbk" => Charset::Gbk,
        "ujis" => Charset::Ujis,
        "binary" => Charset::Binary,
        "ascii" => Charset::Ascii,
        "big5" => Charset::Big5,
        "sjis" => Charset::Sjis,
        "gb2312" => Charset::Gb2312,
        "ucs2" => Charset::Ucs2,
        "utf16" => Charset::Utf16,
        "utf32" => Charset::Utf32,
        other => panic!("charset {other}"),
    }
}

/// Splits on top-level commas (outside parentheses and quotes).
fn split_top(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut q: Option<char> = None;
    let mut cur = String::new();
    for c in s.chars() {
        match q {
            Some(qc) => {
                cur.push(c);
                if c == qc {
                    q = None;
                }
            }
            None => match c {
                '\'' | '"' | '`' => {
                    q = Some(c);
                    cur.push(c);
                }
                '(' => {
                    depth += 1;
                    cur.push(c);
                }
                ')' => {
                    depth -= 1;
                    cur.push(c);
                }
                ',' if depth == 0 => {
                    out.push(cur.trim().to_string());
                    cur.clear();
                }
                _ => cur.push(c),
            },
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

fn args(t: &str) -> Vec<String> {
    match (t.find('('), t.rfind(')')) {
        (Some(a), Some(b)) if b > a => split_top(&t[a + 1..b]),
        _ => Vec::new(),
    }
}

fn num_arg(t: &str, i: usize, default: u32) -> u32 {
    args(t)
        .get(i)
        .and_then(|a| a.trim().parse().ok())
        .unwrap_or(default)
}

fn members(t: &str) -> Vec<String> {
    args(t)
        .into_iter()
        .map(|m| m.trim().trim_matches('\'').replace("''", "'"))
        .collect()
}

/// One column definition (`name type attrs...`).
fn column(def: &str, table_cs: Charset) -> Column {
    let def = def.trim();
    let (name, rest) = if let Some(r) = def.strip_prefix('`') {
        let e = r.find('`').unwrap();
        (&r[..e], r[e + 1..].trim())
    } else {
        let e = def.find(char::is_whitespace).unwrap();
        (&def[..e], def[e..].trim())
    };
    // `set ('a')` → `set('a')`.
    let joined;
    let rest = match rest.find('(') {
        Some(p)
            if rest[..p]
                .trim_end()
                .chars()
                .all(|c| c.is_ascii_alphanumeric()) =>
        {
            joined = format!("{}{}", rest[..p].trim_end(), &rest[p..]);
            joined.as_str()
        }
        _ => rest,
    };
    // The type runs to the first space outside parentheses.
    let mut depth = 0;
    let mut q = false;
    let mut end = rest.len();
    for (i, c) in rest.char_indices() {
        match c {
            '\'' => q = !q,
            '(' if !q => depth += 1,
            ')' if !q => depth -= 1,
            c if c.is_whitespace() && depth == 0 && !q => {
                end = i;
                break;
            }
            _ => {}
        }
    }
    let ty_text = &rest[..end];
    let attrs = rest[end..].to_ascii_lowercase();
    let base = ty_text.split('(').next().unwrap().to_ascii_lowercase();
    let unsigned = attrs.contains("unsigned");
    let mut cs = table_cs;
    if let Some(p) = attrs.find("character set ") {
        cs = charset(attrs[p + 14..].split_whitespace().next().unwrap());
    } else if let Some(p) = attrs.find("charset ") {
        cs = charset(attrs[p + 8..].split_whitespace().next().unwrap());
    }
    let fsp = num_arg(ty_text, 0, 0);
    let ty = match base.as_str() {
        "tinyint" | "bool" | "boolean" => ColumnType::TinyInt { unsigned },
        "smallint" => ColumnType::SmallInt { unsigned },
        "mediumint" => ColumnType::MediumInt { unsigned },
        "int" | "integer" => ColumnType::Int { unsigned },
        "bigint" => ColumnType::BigInt { unsigned },
        "decimal" | "numeric" => ColumnType::Decimal {
            precision: num_arg(ty_text, 0, 10),
            scale: num_arg(ty_text, 1, 0),
        },
        "float" | "real" if base == "float" => ColumnType::Float,
        "double" | "real" => ColumnType::Double,
        "bit" => ColumnType::Bit {
            bits: num_arg(ty_text, 0, 1),
        },
        "year" => ColumnType::Year,
        "date" => ColumnType::Date,
        "datetime" => ColumnType::DateTime {
            fsp,
            old_format: false,
        },
        "timestamp" => ColumnType::Timestamp {
            fsp,
            old_format: false,
        },
        "time" => ColumnType::Time {
            fsp,
            old_format: false,
        },
        "char" if cs == Charset::Binary => ColumnType::Binary {
            len: num_arg(ty_text, 0, 1),
        },
        "varchar" if cs == Charset::Binary => ColumnType::VarBinary {
            len: num_arg(ty_text, 0, 1),
        },
        "char" => ColumnType::Char {
            len: num_arg(ty_text, 0, 1),
        },
        "varchar" => ColumnType::VarChar {
            len: num_arg(ty_text, 0, 1),
        },
        "binary" => ColumnType::Binary {
            len: num_arg(ty_text, 0, 1),
        },
        "varbinary" => ColumnType::VarBinary {
            len: num_arg(ty_text, 0, 1),
        },
        "tinytext" | "text" | "mediumtext" | "longtext" if cs == Charset::Binary => {
            ColumnType::Blob
        }
        "tinytext" | "text" | "mediumtext" | "longtext" => ColumnType::Text,
        "tinyblob" | "blob" | "mediumblob" | "longblob" => ColumnType::Blob,
        "enum" => ColumnType::Enum {
            members: members(ty_text),
        },
        "set" => ColumnType::Set {
            members: members(ty_text),
        },
        "json" => ColumnType::Json,
        "geometry" | "point" | "linestring" | "polygon" | "multipoint" | "multilinestring"
        | "multipolygon" | "geometrycollection" => ColumnType::Geometry,
        other => panic!("type {other}"),
    };
    let cs = match ty {
        ColumnType::Binary { .. }
        | ColumnType::VarBinary { .. }
        | ColumnType::Blob
        | ColumnType::Geometry => Charset::Binary,
        _ => cs,
    };
    let nullable = !attrs.contains("not null") && !attrs.contains("primary key");
    Column::new(name, ty, nullable, cs)
}

/// Every `CREATE TABLE` in `sql`. `db` names the database of all of them
/// unless a `USE` statement says otherwise.
pub fn parse_tables(sql: &str, db: &str) -> Vec<TableDef> {
    let mut out = Vec::new();
    let mut cur_db = db.to_string();
    // Drop `-- comments` (the corpus puts them after column definitions).
    let stripped: Vec<&str> = sql
        .lines()
        .map(|l| match l.find("-- ") {
            Some(p) if !l[..p].contains('\'') => &l[..p],
            _ => l,
        })
        .collect();
    let sql = format!("\n{}", stripped.join("\n"));
    let sql = sql.as_str();
    let lower = sql.to_ascii_lowercase();
    let mut pos = 0;
    loop {
        let next_create = lower[pos..].find("\ncreate table").map(|p| p + pos + 1);
        let next_use = lower[pos..].find("\nuse ").map(|p| p + pos);
        if let (Some(u), Some(c)) = (next_use, next_create) {
            if u < c {
                let l = &sql[u + 5..];
                cur_db = l[..l.find(';').unwrap()]
                    .trim()
                    .trim_matches('`')
                    .to_string();
                pos = u + 5;
                continue;
            }
        }
        let Some(c) = next_create else { break };
        let after = &sql[c + 12..];
        let open = after.find('(').unwrap();
        let name = after[..open]
            .trim()
            .trim_start_matches("IF NOT EXISTS")
            .trim()
            .trim_matches('`')
            .to_string();
        // Matching close paren.
        let body_start = open + 1;
        let mut depth = 1;
        let mut q: Option<char> = None;
        let mut close = body_start;
        for (i, ch) in after[body_start..].char_indices() {
            match q {
                Some(qc) if ch == qc => q = None,
                Some(_) => {}
                None => match ch {
                    '\'' | '`' | '"' => q = Some(ch),
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            close = body_start + i;
                            break;
                        }
                    }
                    _ => {}
                },
            }
        }
        let body = &after[body_start..close];
        let tail_end = after[close..]
            .find(';')
            .map(|e| close + e)
            .unwrap_or(after.len());
        let tail = after[close + 1..tail_end].to_ascii_lowercase();
        let table_cs = ["default charset=", "charset="]
            .iter()
            .find_map(|k| tail.find(k).map(|p| &tail[p + k.len()..]))
            .map(|s| {
                charset(
                    s.split(|c: char| c.is_whitespace() || c == ';')
                        .next()
                        .unwrap(),
                )
            })
            .unwrap_or(Charset::Latin1);
        let row_format = tail.find("row_format=").map(|p| {
            match tail[p + 11..].split_whitespace().next().unwrap() {
                "redundant" => RowFormat::Redundant,
                "compact" => RowFormat::Compact,
                "compressed" => RowFormat::Compressed,
                _ => RowFormat::Dynamic,
            }
        });
        let mut columns = Vec::new();
        let mut pk_names: Vec<String> = Vec::new();
        for item in split_top(body) {
            let l = item.to_ascii_lowercase();
            if l.starts_with("primary key") {
                pk_names = args(&item)
                    .iter()
                    .map(|n| {
                        n.trim()
                            .trim_matches('`')
                            .split('(')
                            .next()
                            .unwrap()
                            .to_string()
                    })
                    .collect();
            } else if l.starts_with("key ")
                || l.starts_with("unique")
                || l.starts_with("index")
                || l.starts_with("constraint")
                || l.starts_with("fulltext")
                || l.starts_with("spatial")
                || l.starts_with("check")
            {
            } else {
                if l.contains("primary key") {
                    let n = item.trim().trim_start_matches('`');
                    pk_names.push(n[..n.find(['`', ' ']).unwrap()].to_string());
                }
                columns.push(column(&item, table_cs));
            }
        }
        let pk: Vec<(usize, Option<u32>)> = pk_names
            .iter()
            .map(|n| (columns.iter().position(|c| &c.name == n).unwrap(), None))
            .collect();
        for &(i, _) in &pk {
            columns[i].nullable = false;
        }
        let (clustered, n_key_fields) = TableDef::default_clustered(&columns, &pk);
        out.push(TableDef {
            db: cur_db.clone(),
            name,
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
            create_sql: None,
        });
        pos = c + 12 + close;
    }
    out
}

/// Reads a CSV in the DESIGN.md convention: header + rows, unquoted `\N`
/// = NULL.
pub fn read_truth_csv(text: &str) -> (Vec<String>, Vec<Vec<Option<String>>>) {
    let mut rows: Vec<Vec<Option<String>>> = Vec::new();
    let mut row: Vec<Option<String>> = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut in_q = false;
    let mut chars = text.chars().peekable();
    let mut any = false;
    let finish = |field: &mut String, quoted: &mut bool, row: &mut Vec<Option<String>>| {
        if !*quoted && field == "\\N" {
            row.push(None);
        } else {
            row.push(Some(std::mem::take(field)));
        }
        field.clear();
        *quoted = false;
    };
    while let Some(c) = chars.next() {
        any = true;
        if in_q {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_q = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' => {
                in_q = true;
                quoted = true;
            }
            ',' => finish(&mut field, &mut quoted, &mut row),
            '\n' => {
                finish(&mut field, &mut quoted, &mut row);
                rows.push(std::mem::take(&mut row));
                any = false;
            }
            _ => field.push(c),
        }
    }
    if any {
        finish(&mut field, &mut quoted, &mut row);
        rows.push(row);
    }
    let header = rows
        .remove(0)
        .into_iter()
        .map(|h| h.unwrap_or_default())
        .collect();
    (header, rows)
}

/// Whether two float texts are the same number.
pub fn same_number(a: &str, b: &str) -> bool {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x == y || ((x - y) / x.abs().max(y.abs())).abs() < 1e-7,
        _ => false,
    }
}

/// The leaf pages of an index in key order: the chain of FIL_PAGE_NEXT links
/// from the leftmost leaf, every link confirmed by the next page's
/// FIL_PAGE_PREV (pages freed by merges keep stale links and are left out).
pub fn leaf_chain(data: &[u8], page_size: usize, index_id: u64) -> Vec<u32> {
    let is_leaf = |n: u32| {
        let Some(p) = data.get(n as usize * page_size..(n as usize + 1) * page_size) else {
            return false;
        };
        let t = be_u16(p, FIL_PAGE_TYPE);
        (t == Some(FIL_PAGE_INDEX) || t == Some(FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB))
            && be_u64(p, FIL_PAGE_DATA + PAGE_INDEX_ID) == Some(index_id)
            && be_u16(p, FIL_PAGE_DATA + PAGE_LEVEL) == Some(0)
    };
    let link = |n: u32, off: usize| be_u32(&data[n as usize * page_size..], off).unwrap();
    let n_pages = (data.len() / page_size) as u32;
    let mut best: Vec<u32> = Vec::new();
    for start in (0..n_pages).filter(|&n| is_leaf(n) && link(n, FIL_PAGE_PREV) == FIL_NULL) {
        let mut chain = vec![start];
        let mut cur = start;
        let ok = loop {
            let next = link(cur, FIL_PAGE_NEXT);
            if next == FIL_NULL {
                break true;
            }
            if !is_leaf(next) || link(next, FIL_PAGE_PREV) != cur || chain.len() > n_pages as usize
            {
                break false;
            }
            chain.push(next);
            cur = next;
        };
        if ok && chain.len() > best.len() {
            best = chain;
        }
    }
    best
}
