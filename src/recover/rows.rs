//! Stage 4, for one index: its rows under one table definition, written
//! as they are found with memory bounded by the page count, not the rows.
//!
//! The table's layout comes first (with MariaDB instant ALTER columns when
//! the index's root says so), then the leaf page copies to decode
//! (`leaf_pages`). Three passes follow, each in bounded batches decoded in
//! parallel:
//!
//! 1. `survey`: every copy read once, reduced to the key range of each
//!    newest copy and the records that are not live candidates (a plain
//!    page's keys alone, by the key probe, when it will be decoded again).
//! 2. The newest copies, in groups whose key ranges overlap, in key order:
//!    each group's live and partial rows picked (`classify::pick_live`)
//!    and written at once. A probed copy whose full decode differs from
//!    its probe (a record failing its checks, a definition that does not
//!    fit) is surveyed again from that decode before pass 3.
//! 3. The other records decided (`classify::pick_rest`); the deleted and
//!    uncertain rows read page by page into a `spool`, written in key
//!    order.
//!
//! The output is the same as sorting every record of the index at once.

use rayon::prelude::*;

use std::collections::{HashMap, HashSet};

use super::classify::{pick_live, pick_rest, Cover, Evidence, Found, KeyOrder, Picked};
use super::emit::{Collector, Emit, Kind, Out};
use super::indexes::InstantRoots;
use super::leaf_pages::{self, Role};
use super::others::Claims;
use super::spool::Spool;
use super::survey::{groups, survey, Survey};
use super::{Memory, RowRef, TableRecovery, Tick};
use crate::bytes::be_u32;
use crate::carve::pages::{page_bytes, StorePages};
use crate::carve::{PageRecord, Status};
use crate::innodb::fil;
use crate::innodb::rows::{
    decode_leaf_page_key_probe, decode_leaf_page_keys, decode_leaf_page_text,
    decode_unproven_page_text, mariadb_instant_layout, PageText,
};
use crate::schema::TableDef;

/// Where a decoded page copy came from and what it proves.
#[derive(Debug, Clone, Copy)]
pub(super) struct CopyMeta {
    /// The copy's page LSN.
    pub lsn: u64,
    /// What the copy proves about its records.
    pub role: Role,
    pub page_no: u32,
    /// The copy's leaf-list links (FIL_PAGE_PREV / FIL_PAGE_NEXT).
    pub prev: u32,
    pub next: u32,
    /// How the carver proved the copy (intact, reassembled, repaired, redone).
    pub status: Status,
    /// The first pass read only the keys of this copy's records
    /// ([`decode_leaf_page_key_probe`]): its key range may be wider than
    /// its rows', and its full decode is summarized again in pass 2.
    pub lean: bool,
}

/// Everything recovered from the leaf pages `pages` (every copy found of
/// one index's leaf pages) read as table `def`: the rows go to `emit`, the
/// counts and notes into `t`.
#[allow(clippy::too_many_arguments)]
pub(super) fn recover_index(
    def: &TableDef,
    pages: &[&PageRecord],
    roots: &InstantRoots,
    src: &StorePages,
    active: &HashSet<u64>,
    mem: &Memory,
    tick: &Tick,
    t: &mut TableRecovery,
    emit: &mut Emit,
) {
    let (space_id, index_id) = (pages[0].space_id, pages[0].index_id);
    let def = match roots.get(&(space_id, index_id)) {
        Some(root) => instant_layout(def, root, pages, src, &mut t.notes),
        None => def.clone(),
    };
    let leaves = leaf_pages::select(pages, src);
    t.leaf_pages += leaves.good;
    t.leaf_pages_damaged += leaves.damaged;
    t.leaf_pages_missing += leaves.missing;
    t.notes.extend(leaves.notes);
    // Copies of the index not decoded (damaged ones older than a good one).
    tick.pages(pages.len().saturating_sub(leaves.copies.len()));

    let order = KeyOrder::of(&def);
    let mut s = survey(&leaves.copies, &def, src, mem, order.as_ref(), tick);
    let groups = groups(&s.ranges);
    tick.correct(pages.len(), groups.iter().map(Vec::len).sum());
    if emit.ok(s.others.finish()).is_none() {
        return;
    }
    let ev = Evidence {
        complete: leaves.complete,
        active,
    };
    let decode = |i: usize| {
        let (p, role) = leaves.copies[i];
        decode_copy(p, role, &def, src, false).1
    };

    // Pass 2: live and partial rows, group by group, a batch of groups
    // decoded while the one before is written.
    let batch = mem.batch_pages(s.per_page);
    let batches = batches(&groups, batch);
    // Which of the other records' keys a live row claims.
    let Some(mut claims) = emit.ok(Claims::new(&s.others)) else {
        return;
    };
    let mut late: Vec<(Box<[u8]>, Found<'static>)> = Vec::new();
    let mut active_rows: Vec<RowRef> = Vec::new();
    // Copies surveyed from their keys alone whose full decode differs.
    let mut amends: Vec<(usize, Survey)> = Vec::new();
    let load = |b: &std::ops::Range<usize>| -> (HashMap<usize, PageText>, Vec<(usize, Survey)>) {
        let want: Vec<usize> = groups[b.clone()]
            .iter()
            .flatten()
            .copied()
            .filter(|i| !s.cache.contains_key(i))
            .collect();
        let decoded: Vec<(usize, PageText, Option<Survey>)> = want
            .par_iter()
            .map(|&i| {
                let text = decode(i);
                let again = if s.meta[i].lean {
                    s.recheck(i, &text, order.as_ref())
                } else {
                    None
                };
                (i, text, again)
            })
            .collect();
        let mut texts = HashMap::with_capacity(decoded.len());
        let mut again = Vec::new();
        for (i, text, a) in decoded {
            texts.insert(i, text);
            again.extend(a.map(|a| (i, a)));
        }
        (texts, again)
    };
    let (mut fresh, first) = batches.first().map(load).unwrap_or_default();
    amends.extend(first);
    for (k, b) in batches.iter().enumerate() {
        let ((next, again), ()) = rayon::join(
            || batches.get(k + 1).map(load).unwrap_or_default(),
            || {
                let text = |i: usize| s.cache.get(&i).or_else(|| fresh.get(&i)).expect("decoded");
                let mut picked = Picked::default();
                for group in &groups[b.clone()] {
                    let members: Vec<_> = group.iter().map(|&i| (i, &s.meta[i], text(i))).collect();
                    pick_live(&members, &ev, &mut picked);
                }
                tick.pages(groups[b.clone()].iter().map(Vec::len).sum());
                emit.ok(claims.mark(&picked.claimed));
                for f in &picked.unclaimed {
                    late.push((f.key.into(), Found { key: &[], ..*f }));
                }
                active_rows.extend_from_slice(&picked.active);
                for r in &picked.live {
                    t.rows_from.count(s.meta[r.page as usize].status);
                }
                let out = |rows: &[RowRef]| -> Vec<Out> {
                    // One look-up per run of rows of one copy.
                    let mut last: Option<(u32, &PageText)> = None;
                    rows.iter()
                        .map(|r| {
                            let p = match last {
                                Some((page, p)) if page == r.page => p,
                                _ => {
                                    let p = text(r.page as usize);
                                    last = Some((r.page, p));
                                    p
                                }
                            };
                            Out::new(p.values.row(r.rec as usize), p.failures(r.rec as usize))
                        })
                        .collect()
                };
                emit.rows(t, Kind::Live, &out(&picked.live));
                emit.rows(t, Kind::Partial, &out(&picked.partial));
            },
        );
        fresh = next;
        amends.extend(again);
    }
    drop(fresh);
    let claimed = claims.done();
    // The output failed (or the claims could not be read): the table ends
    // with that error, nothing more to decide.
    if emit.error.is_some() {
        return;
    }
    // Copies whose full decode differs from their keys: their ranges,
    // spans and counts as a full first pass would have kept them (the
    // wider range only joined more copies in a group, which does not
    // change the rows). The lost ranges come from the amended survey.
    for (i, part) in amends {
        s.amend(i, part);
    }
    let Some(gaps) = emit.ok(super::lost::gaps(&s, &def)) else {
        return;
    };
    super::lost::add(t, &gaps, &def);

    // Pass 3: deleted and uncertain rows.
    let cover = Cover::of(&s.cover, order.as_ref());
    // A key a live row claims is decided: none of its other versions is
    // written.
    let late: Vec<Found> = late.iter().map(|(k, f)| Found { key: k, ..*f }).collect();
    // The rows of transactions active at the crash come first in the
    // uncertain file; then the rest, decided in key order and written in
    // chunks of rows as they come.
    // The bar's share of pass 3, known before it starts: the copies with
    // such records (what a chunk reads beyond it is added as it comes).
    let reserved = std::cell::Cell::new(s.with_others + distinct_pages(&active_rows));
    tick.more(reserved.get());
    let write = |rows: &[RowRef], kind: Kind, t: &mut TableRecovery, emit: &mut Emit| {
        let again = Reread {
            s: &s,
            decode: &decode,
            mem,
            batch,
            tick,
            reserved: &reserved,
        };
        write_spooled(&again, rows, kind, t, emit);
    };
    write(&active_rows, Kind::Uncertain, t, emit);
    let chunk = mem.rest_rows();
    let (mut deleted, mut uncertain) = (Vec::new(), Vec::new());
    let from = pick_rest(
        &s.others,
        &claimed,
        late,
        &cover,
        &ev,
        &mut |is_deleted, at| {
            let (rows, kind) = match is_deleted {
                true => (&mut deleted, Kind::Deleted),
                false => (&mut uncertain, Kind::Uncertain),
            };
            rows.push(at);
            if rows.len() >= chunk {
                write(rows, kind, t, emit);
                rows.clear();
            }
        },
    );
    let Some(from) = emit.ok(from) else {
        return;
    };
    write(&deleted, Kind::Deleted, t, emit);
    write(&uncertain, Kind::Uncertain, t, emit);
    tick.pages(reserved.take());
    t.uncertain_from.add(&from);
    t.uncertain_from.active_transactions += active_rows.len();
    let by_active = active_rows.len() + from.active_transactions;
    if by_active > 0 {
        t.notes.push(format!(
            "{by_active} rows written or deleted by transactions still active at the crash (the server would roll \
             them back; their earlier versions are in the undo log): written as uncertain"
        ));
    }
    t.records_skipped += s.records_skipped;
    if let Some((_, first)) = s.misfits.first() {
        t.notes.push(format!(
            "on {} pages the records, sized by this table definition, do not fill the page's record heap \
             ({first:+} bytes on the first): the definition is not the one the rows were written with \
             (a column missing, extra or of another type?), so their records are not written",
            s.misfits.len()
        ));
    }
}

/// The groups in batches: whole groups, at least one, up to `pages` page
/// copies.
fn batches(groups: &[Vec<usize>], pages: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut g = 0;
    while g < groups.len() {
        let mut end = g + 1;
        let mut n = groups[g].len();
        while end < groups.len() && n + groups[end].len() <= pages {
            n += groups[end].len();
            end += 1;
        }
        out.push(g..end);
        g = end;
    }
    out
}

/// [`recover_index`] with every row kept in memory (the dictionary's own
/// tables).
pub(super) fn collect_index(
    def: &TableDef,
    pages: &[&PageRecord],
    roots: &InstantRoots,
    src: &StorePages,
) -> TableRecovery {
    let mut t = TableRecovery::empty(def);
    let mut keep = Collector::default();
    let mut emit = Emit::new(&mut keep, src, &t, Vec::new());
    let (active, mem) = (HashSet::new(), Memory::default());
    recover_index(
        def,
        pages,
        roots,
        src,
        &active,
        &mem,
        &Tick::none(),
        &mut t,
        &mut emit,
    );
    // The collector does not fail.
    let _ = emit.end(&mut t);
    t
}

/// How pass 3 reads the copies its rows are on: from the survey's cache
/// or decoded again (`decode`), `batch` at a time, counted in `tick`.
struct Reread<'a> {
    s: &'a Survey,
    decode: &'a (dyn Fn(usize) -> PageText + Sync),
    mem: &'a Memory,
    batch: usize,
    tick: &'a Tick<'a>,
    /// Copies already in the bar's total, not yet read.
    reserved: &'a std::cell::Cell<usize>,
}

/// How many copies the rows `rows` are on.
fn distinct_pages(rows: &[RowRef]) -> usize {
    let mut pages: Vec<u32> = rows.iter().map(|r| r.page).collect();
    pages.sort_unstable();
    pages.dedup();
    pages.len()
}

/// Writes the rows `rows` (copy, record), in that order, as `kind`: read
/// copy by copy into a spool first.
fn write_spooled(r: &Reread, rows: &[RowRef], kind: Kind, t: &mut TableRecovery, emit: &mut Emit) {
    if rows.is_empty() {
        return;
    }
    let Reread {
        s,
        decode,
        mem,
        batch,
        tick,
        reserved,
    } = *r;
    let mut spool = Spool::new(rows.len(), mem.spool_bytes(), &mem.spill_dir);
    // (copy, record, slot), by copy.
    let mut by_copy: Vec<(u32, u32, usize)> = rows
        .iter()
        .enumerate()
        .map(|(slot, r)| (r.page, r.rec, slot))
        .collect();
    by_copy.sort_unstable();
    let copies: Vec<usize> = {
        let mut c: Vec<usize> = by_copy.iter().map(|x| x.0 as usize).collect();
        c.dedup();
        c
    };
    // The bar counts the copies read again: from the share reserved for
    // them, the rest added.
    let from_reserve = copies.len().min(reserved.get());
    reserved.set(reserved.get() - from_reserve);
    tick.more(copies.len() - from_reserve);
    let mut next = 0;
    for chunk in copies.chunks(batch) {
        let want: Vec<usize> = chunk
            .iter()
            .copied()
            .filter(|i| !s.cache.contains_key(i))
            .collect();
        let fresh: HashMap<usize, PageText> = want.par_iter().map(|&i| (i, decode(i))).collect();
        tick.pages(chunk.len());
        let last = *chunk.last().expect("a copy") as u32;
        while next < by_copy.len() && by_copy[next].0 <= last {
            let (c, rec, slot) = by_copy[next];
            let p = s
                .cache
                .get(&(c as usize))
                .or_else(|| fresh.get(&(c as usize)))
                .expect("decoded");
            let put = spool.put(slot, p.values.row(rec as usize));
            if emit.ok(put).is_none() {
                return;
            }
            next += 1;
        }
    }
    let ncols = t.def.columns.len();
    let r = spool.replay(ncols, 8192, &mut |views| {
        let out: Vec<Out> = views.iter().map(|&values| Out::new(values, &[])).collect();
        emit.rows(t, kind, &out);
    });
    emit.ok(r);
}

/// The records of one copy: a damaged one read as far as it can be
/// ([`decode_unproven_page_text`]); with `keys_only`, a newest copy's live
/// candidates without their values: their keys alone when the page has
/// nothing else ([`decode_leaf_page_key_probe`]), else
/// [`decode_leaf_page_keys`].
pub(super) fn decode_copy(
    p: &PageRecord,
    role: Role,
    def: &TableDef,
    src: &StorePages,
    keys_only: bool,
) -> (CopyMeta, PageText) {
    let bytes = page_bytes(src.image, p);
    let link = |at| {
        bytes
            .as_deref()
            .and_then(|b| be_u32(b, at))
            .unwrap_or(fil::FIL_NULL)
    };
    let (prev, next) = (link(fil::FIL_PAGE_PREV), link(fil::FIL_PAGE_NEXT));
    let mut lean = false;
    let text = match &bytes {
        Some(b) if role == Role::Unproven => decode_unproven_page_text(b, def, src),
        Some(b) if keys_only && matches!(role, Role::Newest { .. }) => {
            match decode_leaf_page_key_probe(b, def) {
                Some(t) => {
                    lean = true;
                    t
                }
                None => decode_leaf_page_keys(b, def, src),
            }
        }
        Some(b) => decode_leaf_page_text(b, def, src),
        None => PageText::default(),
    };
    let meta = CopyMeta {
        lsn: p.lsn,
        role,
        page_no: p.page_no,
        prev,
        next,
        status: p.status,
        lean,
    };
    (meta, text)
}

/// `def` after MariaDB instant ALTER, as the index's root (a page of type
/// INSTANT) and its leftmost leaf describe it; a note says what was done.
fn instant_layout(
    def: &TableDef,
    root: &PageRecord,
    pages: &[&PageRecord],
    src: &StorePages,
    notes: &mut Vec<String>,
) -> TableDef {
    match mariadb_layout(def, root, pages, src) {
        Some(Ok(Some(d))) => {
            notes.push("MariaDB instant ALTER layout applied".into());
            d
        }
        Some(Err(e)) => {
            notes.push(format!("instant metadata unreadable: {e}"));
            def.clone()
        }
        Some(Ok(None)) | None => def.clone(),
    }
}

/// MariaDB instant ALTER layout from the clustered index's root (a page of
/// type INSTANT) and its leftmost leaf: `None` when either is missing.
fn mariadb_layout(
    def: &TableDef,
    root: &PageRecord,
    pages: &[&PageRecord],
    src: &StorePages,
) -> Option<Result<Option<TableDef>, String>> {
    let root_bytes = page_bytes(src.image, root)?;
    // The leftmost leaf: no previous page.
    let leftmost = pages
        .iter()
        .filter(|p| p.status != Status::Damaged)
        .filter_map(|p| {
            let b = page_bytes(src.image, p)?;
            (be_u32(&b, fil::FIL_PAGE_PREV) == Some(fil::FIL_NULL)).then_some((p.lsn, b))
        })
        .max_by_key(|(lsn, _)| *lsn)
        .map(|(_, b)| b)?;
    Some(mariadb_instant_layout(def, &root_bytes, &leftmost, src))
}
