//! Part of stage 4 (`rows`): the decoded records of one index sorted into
//! live, deleted, uncertain and partial rows, each key in at most one list
//! (the strongest claim wins).
//!
//! * **Live**: on the newest good copy of a leaf page still in the index,
//!   not delete-marked; the newest page LSN wins a key, then a complete row
//!   over a partial one. A row with a column that could not be decoded is
//!   partial, never a silently truncated value.
//! * **Deleted**, only when something proves it: the record is
//!   delete-marked in a good copy, or it is on a page's free list (purged),
//!   an older or a freed copy and the live page covering its key range
//!   does not hold it. (A free-list record alone proves nothing: an update
//!   that changes a record's size frees the old version and inserts the
//!   new one, perhaps on another page.)
//! * **Uncertain**: found, but nothing proves it live or deleted: records
//!   on pages that fail their checksum, records only on older or freed
//!   copies whose key falls where the live leaf pages are lost, and rows
//!   of transactions still active at the crash.
//!
//! "Covering" needs keys in index order. Keys whose fields InnoDB stores
//! memcmp-ordered (integers, DECIMAL, the temporal types, binary strings,
//! DB_ROW_ID) are compared as stored; for other keys (strings under a
//! collation) absence is proven only when the whole leaf level is there.
//! Of the versions of a key, the newest (DB_TRX_ID, then page LSN) is
//! written.

use std::cmp::Ordering;
use std::collections::HashSet;

use super::copy::{candidate, found, CopyMeta, Found};
use super::leaf_pages::Role;
use super::others::{Claimed, Others};
use crate::innodb::fil::FIL_NULL;
use crate::innodb::rows::{PageText, RecordOrigin};
use crate::recover::{RowRef, UncertainFrom};
use crate::schema::{Charset, ColumnType, IndexField, TableDef};

/// What the index as a whole tells about absent keys.
pub(super) struct Evidence<'a> {
    /// The leaf level is whole: a key absent from it is absent.
    pub complete: bool,
    /// Transactions whose undo log was still active at the crash.
    pub active: &'a HashSet<u64>,
}

/// The rows a group of newest copies gives, as (copy, record) pairs.
#[derive(Default)]
pub(super) struct Picked<'a> {
    pub live: Vec<RowRef>,
    pub partial: Vec<RowRef>,
    /// Rows of transactions active at the crash (written as uncertain).
    pub active: Vec<RowRef>,
    /// Keys claimed (by a live, partial or active row).
    pub claimed: Vec<&'a [u8]>,
    /// Candidates of keys nobody claimed: they join the other records.
    pub unclaimed: Vec<Found<'a>>,
}

/// The live rows among the candidates of a group of copies whose key
/// ranges overlap (`(copy index, meta, decoded)` in copy order), one per
/// key: the newest page LSN wins a key, then a complete row over a partial
/// one. A winner written by a transaction still active at the crash is
/// uncertain instead. Keys come out in byte order.
pub(super) fn pick_live<'a>(
    group: &[(usize, &CopyMeta, &'a PageText)],
    ev: &Evidence,
    out: &mut Picked<'a>,
) {
    let mut candidates: Vec<Found<'a>> = Vec::new();
    for &(i, meta, text) in group {
        for j in 0..text.records.len() {
            if candidate(meta.role, &text.records[j]) {
                candidates.push(found(i, meta, text, j));
            }
        }
    }
    // Pages come in page order, which is mostly key order, so the stable
    // sort is close to linear.
    candidates.sort_by(|a, b| {
        a.key
            .cmp(b.key)
            .then(b.lsn.cmp(&a.lsn))
            .then(b.full.cmp(&a.full))
    });
    let mut i = 0;
    while i < candidates.len() {
        let key = candidates[i].key;
        let n = candidates[i..].iter().take_while(|f| f.key == key).count();
        let versions = &candidates[i..i + n];
        i += n;
        let winner = versions.iter().find(|f| {
            let active = f.trx_id != 0 && ev.active.contains(&f.trx_id);
            f.full || !active
        });
        let Some(f) = winner else {
            out.unclaimed.extend_from_slice(versions);
            continue;
        };
        out.claimed.push(key);
        if f.trx_id != 0 && ev.active.contains(&f.trx_id) {
            out.active.push(f.at);
        } else if f.full {
            out.live.push(f.at);
        } else {
            out.partial.push(f.at);
        }
    }
}

/// Whether a row [`pick_rest`] gives is deleted (else uncertain).
pub(super) type IsDeleted = bool;

/// The other records of the keys not claimed live (`others` less the
/// `claimed`, then `late`, the live candidates of keys nobody claimed):
/// deleted when a good copy proves it, else uncertain; the newest complete
/// version of each is written. Read from `others` in key order, one key's
/// versions at a time; each row goes to `out` as it is decided, in key
/// order. Returns where the uncertain rows come from.
pub(super) fn pick_rest(
    others: &Others,
    claimed: &Claimed,
    mut late: Vec<Found>,
    cover: &Cover,
    ev: &Evidence,
    out: &mut dyn FnMut(IsDeleted, &Found),
) -> std::io::Result<UncertainFrom> {
    let mut from = UncertainFrom::default();
    late.sort_by(|a, b| a.key.cmp(b.key));
    let mut late = late.into_iter().peekable();
    let mut stream = others.stream()?;
    // The stream's next unclaimed record and its key.
    let mut next_other =
        |key: &mut Vec<u8>, pos: &mut u64| -> std::io::Result<Option<Found<'static>>> {
            while let Some(f) = stream.next(key)? {
                *pos += 1;
                if !claimed.get(*pos - 1) {
                    return Ok(Some(f));
                }
            }
            Ok(None)
        };
    let (mut pos, mut key, mut next_key) = (0u64, Vec::new(), Vec::new());
    let mut other = next_other(&mut next_key, &mut pos)?;
    let mut versions: Vec<Found> = Vec::new();
    loop {
        // The smallest key left, of the stream's and the late ones.
        key.clear();
        match (&other, late.peek()) {
            (None, None) => break,
            (Some(_), Some(l)) if l.key < next_key.as_slice() => key.extend_from_slice(l.key),
            (Some(_), _) => key.extend_from_slice(&next_key),
            (None, Some(l)) => key.extend_from_slice(l.key),
        }
        versions.clear();
        while other.is_some() && next_key == key {
            versions.extend(other.take());
            other = next_other(&mut next_key, &mut pos)?;
        }
        while let Some(l) = late.next_if(|l| l.key == key.as_slice()) {
            versions.push(Found { key: &[], ..l });
        }
        if let Some((deleted, f)) = decide(&key, &mut versions, cover, ev, &mut from) {
            out(deleted, &f);
        }
    }
    Ok(from)
}

/// The row written for one key not claimed live, of its `versions` (in the
/// order found), if one is; an uncertain one counted in `from`.
fn decide(
    key: &[u8],
    versions: &mut [Found],
    cover: &Cover,
    ev: &Evidence,
    from: &mut UncertainFrom,
) -> Option<(IsDeleted, Found<'static>)> {
    versions.sort_by(|a, b| {
        b.trx_id
            .cmp(&a.trx_id)
            .then(b.lsn.cmp(&a.lsn))
            .then(b.listed.cmp(&a.listed))
    });
    let versions = &*versions;
    let proven: Vec<&Found> = versions
        .iter()
        .filter(|f| f.role != Role::Unproven)
        .collect();
    // Deleted by a transaction still active at the crash: rolled back
    // on restart, so not proven deleted.
    let uncommitted = proven
        .iter()
        .find(|f| f.delete_marked)
        .is_some_and(|f| f.trx_id != 0 && ev.active.contains(&f.trx_id));
    // A record on a free list is not proof: an update that changes a
    // record's size frees the old version and inserts the new one,
    // perhaps on a page that is now lost.
    let deleted = !uncommitted
        && !proven.is_empty()
        && (proven.iter().any(|f| f.delete_marked) || ev.complete || cover.covers(key));
    if deleted {
        return proven
            .iter()
            .find(|f| f.full)
            .map(|f| (true, Found { key: &[], ..**f }));
    }
    let f = versions.iter().find(|f| f.full)?;
    if uncommitted {
        from.active_transactions += 1;
    } else if f.role == Role::Unproven {
        from.unproven_pages += 1;
    } else {
        from.stale_copies += 1;
    }
    Some((false, Found { key: &[], ..*f }))
}

/// How keys of an index compare in index order, when their stored bytes
/// do.
pub(super) struct KeyOrder;

impl KeyOrder {
    /// `Some` when every key field of `def` is stored memcmp-ordered.
    pub(super) fn of(def: &TableDef) -> Option<KeyOrder> {
        let key = def.clustered.get(..def.n_key_fields)?;
        let ok = !key.is_empty()
            && key.iter().all(|f| match f {
                IndexField::RowId => true,
                IndexField::Column {
                    col,
                    prefix_len: None,
                } => def
                    .columns
                    .get(*col)
                    .is_some_and(|c| memcmp_ordered(&c.ty, c.charset)),
                _ => false,
            });
        ok.then_some(KeyOrder)
    }

    /// First and last key in index order of the listed records of a page
    /// (`None`: it has none).
    pub(super) fn span(&self, text: &PageText) -> Option<OwnedSpan> {
        let keys = (0..text.records.len())
            .filter(|&j| text.records[j].origin == RecordOrigin::Live)
            .map(|j| text.key(j));
        let span = keys.fold(None, |acc: Option<Span>, k| match acc {
            None => Some((k, k)),
            Some((lo, hi)) => Some((
                if self.cmp(k, lo).is_lt() { k } else { lo },
                if self.cmp(k, hi).is_gt() { k } else { hi },
            )),
        });
        span.map(|(lo, hi)| (lo.into(), hi.into()))
    }

    /// Compares two keys as the index orders them ([`cmp_keys`]).
    fn cmp(&self, a: &[u8], b: &[u8]) -> Ordering {
        cmp_keys(a, b)
    }
}

/// Keys compared field by field (each a 4-byte length and the bytes),
/// bytes first, then length: index order for keys stored memcmp-ordered
/// ([`KeyOrder`]), the byte order of the stored text for keys under a
/// collation (close to it, not exact). Bytes that are not a whole field
/// compare as bytes, after the fields before them.
pub(super) fn cmp_keys(a: &[u8], b: &[u8]) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        match (split_field(x), split_field(y)) {
            (Some((fx, rx)), Some((fy, ry))) => match fx.cmp(fy) {
                Ordering::Equal => (x, y) = (rx, ry),
                o => return o,
            },
            (None, None) => return x.cmp(y),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
        }
    }
}

/// One length-prefixed key field (4-byte big-endian length, the bytes)
/// and the rest.
pub(super) fn split_field(k: &[u8]) -> Option<(&[u8], &[u8])> {
    let n = u32::from_be_bytes(k.get(..4)?.try_into().ok()?) as usize;
    let rest = k.get(4..)?;
    Some((rest.get(..n)?, rest.get(n..)?))
}

/// Types InnoDB stores so that byte order is value order.
fn memcmp_ordered(ty: &ColumnType, cs: Charset) -> bool {
    match ty {
        ColumnType::TinyInt { .. }
        | ColumnType::SmallInt { .. }
        | ColumnType::MediumInt { .. }
        | ColumnType::Int { .. }
        | ColumnType::BigInt { .. }
        | ColumnType::Decimal { .. }
        | ColumnType::Year
        | ColumnType::Date
        | ColumnType::Binary { .. }
        | ColumnType::VarBinary { .. } => true,
        ColumnType::DateTime { old_format, .. }
        | ColumnType::Timestamp { old_format, .. }
        | ColumnType::Time { old_format, .. } => !old_format,
        ColumnType::Char { .. } | ColumnType::VarChar { .. } => cs == Charset::Binary,
        _ => false,
    }
}

/// The first and last key of a page.
type Span<'a> = (&'a [u8], &'a [u8]);

/// A [`Span`] kept after its page is dropped.
pub(super) type OwnedSpan = (Box<[u8]>, Box<[u8]>);

/// A bound of a key range.
#[derive(Clone, Copy)]
enum Bound<'a> {
    Unbounded,
    Included(&'a [u8]),
    Excluded(&'a [u8]),
}

/// A copy that proves which keys its range holds: first and last key of
/// its listed records in index order (`None`: no record).
pub(super) struct CoverPage {
    /// The copy (index into the copies).
    pub copy: usize,
    pub page_no: u32,
    pub prev: u32,
    pub next: u32,
    pub span: Option<OwnedSpan>,
}

/// The key ranges the covering pages (newest good copies in the index, no
/// newer damaged copy) are known to hold whole: from a page's first key
/// (or from the start when it is the first leaf) to the next page's first
/// key when that page covers too, else to its own last key (or the end
/// when it is the last leaf).
pub(super) struct Cover<'a> {
    order: Option<&'a KeyOrder>,
    /// (from, to), sorted by `from`.
    ranges: Vec<(Bound<'a>, Bound<'a>)>,
}

impl<'a> Cover<'a> {
    /// The ranges of the covering copies `pages` (their spans from
    /// [`KeyOrder::span`]).
    pub(super) fn of(pages: &'a [CoverPage], order: Option<&'a KeyOrder>) -> Cover<'a> {
        let mut c = Cover {
            order,
            ranges: Vec::new(),
        };
        let Some(ord) = order else {
            return c;
        };
        // (page no) -> (first key, last key) of each covering page.
        let mut ends: std::collections::HashMap<u32, Option<Span>> =
            std::collections::HashMap::new();
        let mut kept = Vec::new();
        for p in pages {
            let span = p.span.as_ref().map(|(lo, hi)| (&lo[..], &hi[..]));
            // An empty page proves nothing, unless it is the only leaf.
            if span.is_none() && !(p.prev == FIL_NULL && p.next == FIL_NULL) {
                continue;
            }
            ends.insert(p.page_no, span);
            kept.push(p);
        }
        for p in kept {
            let span = ends[&p.page_no];
            let from = match (p.prev, span) {
                (FIL_NULL, _) | (_, None) => Bound::Unbounded,
                (_, Some((lo, _))) => Bound::Included(lo),
            };
            let to = match (p.next, span) {
                (FIL_NULL, _) | (_, None) => Bound::Unbounded,
                (next, Some((_, hi))) => match ends.get(&next) {
                    Some(Some((next_lo, _))) => Bound::Excluded(next_lo),
                    _ => Bound::Included(hi),
                },
            };
            c.ranges.push((from, to));
        }
        c.ranges.sort_by(|a, b| match (a.0, b.0) {
            (Bound::Unbounded, Bound::Unbounded) => Ordering::Equal,
            (Bound::Unbounded, _) => Ordering::Less,
            (_, Bound::Unbounded) => Ordering::Greater,
            (Bound::Included(x) | Bound::Excluded(x), Bound::Included(y) | Bound::Excluded(y)) => {
                ord.cmp(x, y)
            }
        });
        c
    }

    /// Whether a covering page's range holds `key` (so its absence there
    /// proves it is not in the index).
    pub(super) fn covers(&self, key: &[u8]) -> bool {
        let Some(ord) = self.order else {
            return false;
        };
        let starts_at_or_before = |b: &Bound| match b {
            Bound::Unbounded => true,
            Bound::Included(x) => ord.cmp(x, key).is_le(),
            Bound::Excluded(x) => ord.cmp(x, key).is_lt(),
        };
        let ends_after = |b: &Bound| match b {
            Bound::Unbounded => true,
            Bound::Included(x) => ord.cmp(key, x).is_le(),
            Bound::Excluded(x) => ord.cmp(key, x).is_lt(),
        };
        let n = self.ranges.partition_point(|r| starts_at_or_before(&r.0));
        // Ranges of distinct pages do not overlap: the last one starting
        // at or before the key is the only candidate (a few more are
        // checked in case damaged links made two overlap).
        self.ranges[..n]
            .iter()
            .rev()
            .take(4)
            .any(|r| ends_after(&r.1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(fields: &[&[u8]]) -> Vec<u8> {
        let mut k = Vec::new();
        for f in fields {
            k.extend_from_slice(&(f.len() as u32).to_be_bytes());
            k.extend_from_slice(f);
        }
        k
    }

    #[test]
    fn keys_compare_field_by_field_then_by_length() {
        let o = KeyOrder;
        assert!(o.cmp(&key(&[b"\x80\x01"]), &key(&[b"\x80\x02"])).is_lt());
        assert!(o.cmp(&key(&[b"ab"]), &key(&[b"abc"])).is_lt());
        assert!(o
            .cmp(&key(&[b"b", b"\x00"]), &key(&[b"ab", b"\xff"]))
            .is_gt());
        assert!(o.cmp(&key(&[b"a", b"x"]), &key(&[b"a", b"x"])).is_eq());
        // A truncated key never panics.
        let _ = o.cmp(&[0, 0, 0, 9, 1], &key(&[b"a"]));
    }
}
