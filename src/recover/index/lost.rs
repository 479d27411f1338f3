//! Part of stage 4 (`rows`), once per index after the survey: where in the
//! key the lost leaf pages were, and about how many rows they held.
//!
//! A leaf page is lost when no good copy of it was found: only damaged
//! copies (read as uncertain rows, not proven), or none at all while a
//! neighbour's FIL_PAGE_PREV / FIL_PAGE_NEXT names it. Every good leaf
//! page still in the index whose survey kept live keys is a known point
//! of the key sequence: its first and last live key (in its record list's
//! order, which is index order) and how many live rows it holds. In key
//! order, two such pages next to each other that do not link to each
//! other, with a lost page named on either side, bound a gap: the rows
//! lost there have keys after the first page's last key and before the
//! second's first. A lost page before the first or after the last good
//! page leaves the gap open at that end.
//!
//! The pages of a gap are the lost pages the links name: the good
//! neighbours' links, then the links of the damaged copies as long as they
//! lead to pages lost too. A run of three or more pages of which none has
//! a copy counts as its two ends (nothing names the pages between). The
//! rows are the pages times the neighbours' live rows per page (their
//! mean), and never more than the integers between the bounds when the
//! key is one integer column.
//!
//! Nothing here decodes a page again or holds rows: it reads the survey's
//! per-copy summaries ([`Survey::meta`], [`Survey::ranges`]).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::classify::{cmp_keys, split_field};
use super::leaf_pages::Role;
use super::survey::Survey;
use crate::innodb::fil::FIL_NULL;
use crate::innodb::types::{decode_value, hex};
use crate::recover::TableRecovery;
use crate::schema::{ColumnType, IndexField, TableDef};

/// Lost key ranges listed per table (the rest counted).
pub const MAX_RANGES: usize = 1000;
/// Characters of one key field shown (longer ones are cut, with `…`).
const FIELD_CHARS: usize = 100;

/// A key range of lost rows, in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LostRange {
    /// The last live key before the lost pages (`None`: they start the
    /// index), as the CSV writes it (`(a, b)` for a key of more columns).
    pub after: Option<String>,
    /// The first live key after them (`None`: they end the index).
    pub before: Option<String>,
    /// Lost leaf pages there (that the links name).
    pub pages: u64,
    /// Rows estimated lost there.
    pub rows_estimate: u64,
    /// Of the keys there, those found anyway (on damaged copies, older
    /// copies or in a page's free space) and written as uncertain rows:
    /// they count among the rows lost.
    pub uncertain_rows: u64,
}

/// Of a table's lost leaf pages, those placed in a key range and the rows
/// estimated for them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Placed {
    pub pages: u64,
    pub rows: u64,
}

/// One gap of an index, keys still as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Gap {
    pub after: Option<Box<[u8]>>,
    pub before: Option<Box<[u8]>>,
    pub pages: u64,
    pub rows: u64,
    /// Distinct keys found inside on damaged or older copies.
    pub found: u64,
}

/// A page's first and last live key (index order) and its live rows.
type Keys<'a> = (&'a [u8], &'a [u8], u32);

/// A good leaf page still in the index, as the survey kept it.
struct Good<'a> {
    no: u32,
    prev: u32,
    next: u32,
    /// First and last live key and how many live rows (`None`: none).
    keys: Option<Keys<'a>>,
}

/// The gaps of the index the survey `s` read as `def`, in key order.
pub(super) fn gaps(s: &Survey, def: &TableDef) -> std::io::Result<Vec<Gap>> {
    let mut good: HashMap<u32, Good> = HashMap::new();
    let mut has_good: HashSet<u32> = HashSet::new();
    // Links of the damaged copies of pages with no good copy.
    let mut damaged: HashMap<u32, (u32, u32)> = HashMap::new();
    for m in &s.meta {
        match m.role {
            Role::Newest { .. } => {
                has_good.insert(m.page_no);
                good.insert(
                    m.page_no,
                    Good {
                        no: m.page_no,
                        prev: m.prev,
                        next: m.next,
                        keys: None,
                    },
                );
            }
            Role::Stale => {
                has_good.insert(m.page_no);
            }
            Role::Unproven => {
                damaged.insert(m.page_no, (m.prev, m.next));
            }
        }
    }
    damaged.retain(|no, _| !has_good.contains(no));
    for r in &s.ranges {
        let Some(m) = s.meta.get(r.copy) else {
            continue;
        };
        if let Some(g) = good.get_mut(&m.page_no) {
            let (first, last) = r.first_last();
            g.keys = Some((first, last, r.n));
        }
    }
    // Pages with no copy at all that a good page names.
    let known_missing: HashSet<u32> = good
        .values()
        .flat_map(|g| [g.prev, g.next])
        .filter(|&n| n != FIL_NULL && !has_good.contains(&n) && !damaged.contains_key(&n))
        .collect();
    let lost = |n: u32| damaged.contains_key(&n) || known_missing.contains(&n);

    // The first page that is not a good page without keys, from `from`
    // in direction `fwd` (bounded by the good pages).
    let step = |from: u32, fwd: bool| -> u32 {
        let mut cur = from;
        for _ in 0..=good.len() {
            match good.get(&cur) {
                Some(g) if g.keys.is_none() => cur = if fwd { g.next } else { g.prev },
                _ => break,
            }
        }
        cur
    };
    let mut taken: HashSet<u32> = HashSet::new();
    // The lost pages from `start` on in direction `fwd`, through the
    // damaged copies' links, not taken by another gap.
    let mut run = |start: u32, fwd: bool| -> u64 {
        let mut cur = start;
        let mut n = 0;
        while cur != FIL_NULL && lost(cur) && taken.insert(cur) {
            n += 1;
            cur = match damaged.get(&cur) {
                Some(&(prev, next)) => {
                    if fwd {
                        next
                    } else {
                        prev
                    }
                }
                None => break,
            };
        }
        n
    };

    let mut keyed: Vec<(&Good, Keys)> = good.values().filter_map(|g| Some((g, g.keys?))).collect();
    keyed.sort_by(|a, b| {
        cmp_keys(a.1 .0, b.1 .0)
            .then(cmp_keys(a.1 .1, b.1 .1))
            .then(a.0.no.cmp(&b.0.no))
    });
    let ints = int_key(def);
    let mut out = Vec::new();
    // (neighbour before, neighbour after, pages): each neighbour's first
    // key, last key and live rows.
    let mut push = |a: Option<Keys>, b: Option<Keys>, pages: u64| {
        if pages == 0 {
            return;
        }
        let sides: Vec<Keys> = [a, b].into_iter().flatten().collect();
        let mean = sides.iter().map(|k| f64::from(k.2)).sum::<f64>() / sides.len().max(1) as f64;
        let mut rows = (pages as f64 * mean).round() as u64;
        if let (Some(int), Some(a), Some(b)) = (&ints, a, b) {
            rows = int_rows(int, a, b, rows);
        }
        out.push(Gap {
            after: a.map(|k| k.1.into()),
            before: b.map(|k| k.0.into()),
            pages,
            rows,
            found: 0,
        });
    };
    if let Some(&(g, k)) = keyed.first() {
        let pages = run(step(g.prev, false), false);
        push(None, Some(k), pages);
    }
    for w in keyed.windows(2) {
        let ((a, ka), (b, kb)) = (w[0], w[1]);
        let pages = run(step(a.next, true), true) + run(step(b.prev, false), false);
        push(Some(ka), Some(kb), pages);
    }
    if let Some(&(g, k)) = keyed.last() {
        let pages = run(step(g.next, true), true);
        push(Some(k), None, pages);
    }
    count_found(s, &mut out)?;
    Ok(out)
}

/// Counts the distinct keys inside each gap (`gaps` in key order, none
/// overlapping) of the records that are not live candidates (on damaged
/// or older copies, or in a page's free space) and that no good copy
/// marks deleted: those rows are written as uncertain.
fn count_found(s: &Survey, gaps: &mut [Gap]) -> std::io::Result<()> {
    if gaps.is_empty() {
        return Ok(());
    }
    // The stream gives the versions of a key one after another: the key
    // being read, its gap and whether a version is proven deleted.
    let mut cur: Option<(Vec<u8>, usize, bool)> = None;
    let count = |c: Option<(Vec<u8>, usize, bool)>, gaps: &mut [Gap]| {
        if let Some((_, gap, false)) = c {
            gaps[gap].found += 1;
        }
    };
    s.others.each(&mut |key, rec| {
        let deleted = rec.role != Role::Unproven && rec.delete_marked;
        if let Some((k, _, d)) = &mut cur {
            if k.as_slice() == key {
                *d |= deleted;
                return;
            }
        }
        count(cur.take(), gaps);
        // The last gap starting before the key.
        let i =
            gaps.partition_point(|g| g.after.as_deref().is_none_or(|a| cmp_keys(a, key).is_lt()));
        let Some(g) = i.checked_sub(1).map(|i| &gaps[i]) else {
            return;
        };
        if g.before.as_deref().is_none_or(|b| cmp_keys(key, b).is_lt()) {
            cur = Some((key.to_vec(), i - 1, deleted));
        }
    })?;
    count(cur, gaps);
    Ok(())
}

/// The rows lost between neighbours `a` and `b` (first key, last key,
/// live rows) of an integer key, `rows` estimated from the pages: the
/// integers between them at the neighbours' density (keys per integer)
/// when that says more (pages of a run that nothing names), never more
/// than the integers between.
fn int_rows(int: &IntKey, a: (&[u8], &[u8], u32), b: (&[u8], &[u8], u32), rows: u64) -> u64 {
    let (Some(a0), Some(a1), Some(b0), Some(b1)) = (int(a.0), int(a.1), int(b.0), int(b.1)) else {
        return rows;
    };
    let between = (b0 - a1 - 1).max(0);
    let spread = (a1 - a0 + 1) + (b1 - b0 + 1);
    let mut rows = i128::from(rows);
    if spread > 0 {
        let dense = between as f64 * (f64::from(a.2) + f64::from(b.2)) / spread as f64;
        rows = rows.max(dense.round() as i128);
    }
    u64::try_from(rows.min(between)).unwrap_or(0)
}

/// Adds the gaps of one index of `t` (read as `def`) to its lost key
/// ranges.
pub(super) fn add(t: &mut TableRecovery, gaps: &[Gap], def: &TableDef) {
    for g in gaps {
        t.lost_placed.pages += g.pages;
        t.lost_placed.rows += g.rows;
        t.lost_key_ranges_total += 1;
        if t.lost_key_ranges.len() < MAX_RANGES {
            t.lost_key_ranges.push(LostRange {
                after: g.after.as_deref().map(|k| key_text(def, k)),
                before: g.before.as_deref().map(|k| key_text(def, k)),
                pages: g.pages,
                rows_estimate: g.rows,
                uncertain_rows: g.found,
            });
        }
    }
}

/// The names of the key columns of `def` (`DB_ROW_ID` for a table without
/// a primary key).
pub fn key_columns(def: &TableDef) -> Vec<String> {
    def.clustered
        .iter()
        .take(def.n_key_fields)
        .map(|f| match f {
            IndexField::Column { col, .. } => def
                .columns
                .get(*col)
                .map_or_else(|| format!("column {col}"), |c| c.name.clone()),
            IndexField::RowId => "DB_ROW_ID".to_string(),
            IndexField::DroppedColumn { col } => def
                .dropped_columns
                .get(*col)
                .map_or_else(|| format!("dropped column {col}"), |c| c.name.clone()),
            IndexField::TrxId => "DB_TRX_ID".to_string(),
            IndexField::RollPtr => "DB_ROLL_PTR".to_string(),
        })
        .collect()
}

/// A stored key (length-prefixed fields) as text: each field decoded with
/// its column's type as the CSV writes it (hex when it cannot be), more
/// than one field as `(a, b)`.
pub fn key_text(def: &TableDef, key: &[u8]) -> String {
    let mut parts = Vec::new();
    let mut rest = key;
    let mut fields = def.clustered.iter().take(def.n_key_fields);
    while let Some((b, r)) = split_field(rest) {
        rest = r;
        let text = match fields.next() {
            Some(IndexField::Column { col, .. }) => def
                .columns
                .get(*col)
                .and_then(|c| decode_value(c, b).ok())
                .unwrap_or_else(|| hex(b)),
            Some(IndexField::RowId) if b.len() <= 8 => b
                .iter()
                .fold(0u64, |a, &x| (a << 8) | u64::from(x))
                .to_string(),
            _ => hex(b),
        };
        parts.push(cut(text));
    }
    if !rest.is_empty() || parts.is_empty() {
        // Not a key of this layout: all of it as hex.
        return cut(hex(key));
    }
    if parts.len() == 1 {
        parts.pop().unwrap_or_default()
    } else {
        format!("({})", parts.join(", "))
    }
}

/// `s`, cut at [`FIELD_CHARS`] characters.
fn cut(s: String) -> String {
    if s.chars().count() > FIELD_CHARS {
        s.chars().take(FIELD_CHARS).chain(['\u{2026}']).collect()
    } else {
        s
    }
}

/// Whether the key of `def` is one integer column (or DB_ROW_ID): its
/// values are whole numbers.
pub fn is_int_key(def: &TableDef) -> bool {
    int_key(def).is_some()
}

/// A key of one integer column (or DB_ROW_ID) read as a number: how many
/// keys fit between two bounds.
type IntKey = Box<dyn Fn(&[u8]) -> Option<i128>>;

/// [`IntKey`] for `def` when its key is one integer column or DB_ROW_ID.
fn int_key(def: &TableDef) -> Option<IntKey> {
    let [field] = def.clustered.get(..def.n_key_fields)? else {
        return None;
    };
    let col = match field {
        IndexField::RowId => None,
        IndexField::Column {
            col,
            prefix_len: None,
        } => {
            let c = def.columns.get(*col)?;
            match c.ty {
                ColumnType::TinyInt { .. }
                | ColumnType::SmallInt { .. }
                | ColumnType::MediumInt { .. }
                | ColumnType::Int { .. }
                | ColumnType::BigInt { .. } => Some(c.clone()),
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(Box::new(move |k: &[u8]| {
        let (b, _) = split_field(k)?;
        match &col {
            Some(c) => decode_value(c, b).ok()?.parse().ok(),
            None if b.len() <= 8 => Some(i128::from(
                b.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)),
            )),
            None => None,
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recover::index::copy::CopyMeta;
    use crate::recover::index::survey::Range;

    fn key(fields: &[&[u8]]) -> Vec<u8> {
        let mut k = Vec::new();
        for f in fields {
            k.extend_from_slice(&(f.len() as u32).to_be_bytes());
            k.extend_from_slice(f);
        }
        k
    }

    /// An INT key as InnoDB stores it (sign bit flipped, big-endian).
    fn int(v: i32) -> Vec<u8> {
        key(&[&((v as u32) ^ 0x8000_0000).to_be_bytes()])
    }

    fn def(sql: &str) -> TableDef {
        let (mut defs, _) =
            crate::schema::sql::parse_schema_lenient(sql, Some("db"), &Default::default());
        defs.pop().expect("a table")
    }

    fn meta(page_no: u32, prev: u32, next: u32, role: Role) -> CopyMeta {
        CopyMeta {
            lsn: 1,
            role,
            page_no,
            prev,
            next,
            status: crate::carve::Status::Ok,
            lean: false,
        }
    }

    /// A survey of good pages `(page, prev, next, first id, last id, rows)`
    /// and damaged pages `(page, prev, next)`.
    fn survey(good: &[(u32, u32, u32, i32, i32, u32)], damaged: &[(u32, u32, u32)]) -> Survey {
        let mut s = Survey::empty();
        for &(no, prev, next, lo, hi, n) in good {
            s.ranges.push(Range {
                copy: s.meta.len(),
                lo: int(lo).into(),
                hi: int(hi).into(),
                ends: None,
                n,
            });
            s.meta
                .push(meta(no, prev, next, Role::Newest { covers: true }));
        }
        for &(no, prev, next) in damaged {
            s.meta.push(meta(no, prev, next, Role::Unproven));
        }
        s
    }

    const N: u32 = FIL_NULL;

    #[test]
    fn gaps_between_good_pages_with_lost_pages_between() {
        let d = def("CREATE TABLE t (id INT PRIMARY KEY, v TEXT)");
        // 3 → 4 → [5 missing] → 6 → [7 damaged → 8 missing] → 9 (the
        // pages given out of order), and page 2 before 3 missing.
        let mut s = survey(
            &[
                (9, 8, N, 900, 990, 90),
                (3, 2, 4, 100, 199, 100),
                (6, 5, 7, 400, 499, 100),
                (4, 3, 5, 200, 299, 100),
            ],
            &[(7, 6, 8)],
        );
        let g = found_gaps(&mut s, &d);
        let text: Vec<(Option<String>, Option<String>, u64, u64)> = g
            .iter()
            .map(|g| {
                (
                    g.after.as_deref().map(|k| key_text(&d, k)),
                    g.before.as_deref().map(|k| key_text(&d, k)),
                    g.pages,
                    g.rows,
                )
            })
            .collect();
        assert_eq!(
            text,
            vec![
                (None, Some("100".into()), 1, 100),
                (Some("299".into()), Some("400".into()), 1, 100),
                (Some("499".into()), Some("900".into()), 2, 398),
            ]
        );
    }

    /// The gaps of `s`, its other records stored.
    fn found_gaps(s: &mut Survey, d: &TableDef) -> Vec<Gap> {
        s.others.finish().unwrap();
        gaps(s, d).unwrap()
    }

    /// Survey record `rec` of a copy: key `k`, found on a copy of `role`.
    fn other(s: &mut Survey, k: &[u8], role: Role, delete_marked: bool) {
        use crate::recover::index::copy::Found;
        s.others.push(
            k,
            Found {
                key: &[],
                lsn: 1,
                at: crate::recover::RowRef { page: 0, rec: 0 },
                full: true,
                trx_id: 1,
                listed: true,
                delete_marked,
                role,
            },
        );
    }

    #[test]
    fn keys_found_inside_a_gap_are_counted_once() {
        let d = def("CREATE TABLE t (id INT PRIMARY KEY)");
        let mut s = survey(
            &[
                (3, N, 4, 1, 10, 10),
                (5, 4, 6, 21, 30, 10),
                (7, 6, N, 41, 50, 10),
            ],
            &[(4, 3, 5)],
        );
        // Two versions of 12, 15 marked deleted on a good copy, 25 on a
        // good page (no gap there), 33 in the second gap.
        other(&mut s, &int(12), Role::Unproven, false);
        other(&mut s, &int(12), Role::Stale, false);
        other(&mut s, &int(15), Role::Stale, true);
        other(&mut s, &int(25), Role::Stale, false);
        other(&mut s, &int(33), Role::Newest { covers: true }, false);
        let g = found_gaps(&mut s, &d);
        let found: Vec<(u64, u64)> = g.iter().map(|g| (g.pages, g.found)).collect();
        assert_eq!(found, [(1, 1), (1, 1)]);
    }

    #[test]
    fn rows_never_exceed_the_integers_between_the_bounds() {
        let d = def("CREATE TABLE t (id INT PRIMARY KEY)");
        let mut s = survey(&[(3, N, 4, -10, 0, 100), (5, 4, N, 11, 50, 100)], &[]);
        let g = found_gaps(&mut s, &d);
        assert_eq!(g.len(), 1);
        assert_eq!((g[0].pages, g[0].rows), (1, 10));
        assert_eq!(key_text(&d, g[0].after.as_deref().unwrap()), "0");
        assert_eq!(key_text(&d, &int(-10)), "-10");
    }

    #[test]
    fn a_whole_leaf_level_has_no_gap() {
        let d = def("CREATE TABLE t (id INT PRIMARY KEY)");
        let mut s = survey(&[(3, N, 4, 1, 10, 10), (4, 3, N, 11, 20, 10)], &[]);
        assert!(found_gaps(&mut s, &d).is_empty());
    }

    #[test]
    fn keys_as_the_csv_writes_them() {
        let d = def("CREATE TABLE t (a INT, b VARCHAR(10), c INT, PRIMARY KEY (a, b))");
        assert_eq!(key_columns(&d), ["a", "b"]);
        let k = key(&[&[0x80, 0, 4, 0x42], b"x,y"]);
        assert_eq!(key_text(&d, &k), "(1090, x,y)");
        // A field the type cannot hold: hex.
        let k = key(&[&[0x80, 0], b"x"]);
        assert_eq!(key_text(&d, &k), "(0x8000, x)");
        // Not a key at all.
        assert_eq!(key_text(&d, &[0, 0, 0, 9, 1]), "0x0000000901");
        let d = def("CREATE TABLE t (v INT)");
        assert_eq!(key_columns(&d), ["DB_ROW_ID"]);
        assert_eq!(key_text(&d, &key(&[&[0, 0, 0, 0, 1, 2]])), "258");
    }

    #[test]
    fn keys_compare_field_by_field() {
        assert!(cmp_keys(&int(5), &int(300)).is_lt());
        assert!(cmp_keys(&key(&[b"ab"]), &key(&[b"abc"])).is_lt());
        assert!(cmp_keys(&key(&[b"b", b"\x00"]), &key(&[b"ab", b"\xff"])).is_gt());
        let _ = cmp_keys(&[0, 0, 0, 9, 1], &int(1));
    }
}
