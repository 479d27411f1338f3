//! Stage 3: one column definition, read by `sqlparser` with the MySQL
//! dialect.
//!
//! Attributes sqlparser does not know are removed first (`[WITH|WITHOUT]
//! SYSTEM VERSIONING`, `[IN]VISIBLE`, `REF_SYSTEM_ID`, `SRID`,
//! `COLUMN_FORMAT`, `STORAGE`, engine attributes), and MariaDB's
//! `PERSISTENT` becomes `STORED`. MariaDB column compression (`COMPRESSED`)
//! is refused: its values are zlib data with their own header. A column
//! sqlparser still refuses goes to the plain reader of [`super::types`].

use sqlparser::ast::{
    BinaryLength, CharacterLength, ColumnOption, DataType, ExactNumberInfo,
    GeneratedExpressionMode, ObjectName, ObjectNamePart, Statement,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;

use super::lex::{tokenize, Token};
use super::types::{
    fallback_column, fallback_type, finish, is_text, named_type, with_unsigned, Attrs,
};
use super::SqlOptions;
use crate::schema::charset;
use crate::schema::{Charset, Column, ColumnType};

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
pub(super) fn column(
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
