//! Pass 3 of an index (`recover_index`): the records that are not live
//! rows, decided key by key (`classify::pick_rest`) as the key-ordered
//! stream of `others` gives them, and written as deleted or uncertain rows
//! in chunks: each chunk's rows read copy by copy into a `spool`, then
//! written in key order. The rows of transactions active at the crash come
//! first in the uncertain file.

use rayon::prelude::*;

use std::cell::Cell;
use std::collections::HashMap;

use super::classify::{pick_rest, Cover};
use super::copy::Found;
use super::live::Live;
use super::spool::Spool;
use super::survey::Survey;
use super::{decoded, Reader};
use crate::innodb::rows::PageText;
use crate::recover::emit::{Emit, Kind, Out};
use crate::recover::{Memory, RowRef, TableRecovery};

/// Writes the deleted and uncertain rows of the index pass 2 left `live`;
/// `None` when the output failed.
pub(super) fn write(
    r: &Reader,
    s: &Survey,
    mem: &Memory,
    live: Live,
    t: &mut TableRecovery,
    emit: &mut Emit,
) -> Option<()> {
    let cover = Cover::of(&s.cover, r.order);
    // A key a live row claims is decided: none of its other versions is
    // written.
    let late: Vec<Found> = live
        .late
        .iter()
        .map(|(k, f)| Found { key: k, ..*f })
        .collect();
    // The bar's share of pass 3, known before it starts: the copies with
    // such records (what a chunk reads beyond it is added as it comes).
    let reserved = Cell::new(s.with_others + distinct_pages(&live.active));
    r.tick.more(reserved.get());
    let write = |rows: &[Wanted], kind: Kind, t: &mut TableRecovery, emit: &mut Emit| {
        write_spooled(r, s, mem, &reserved, rows, kind, t, emit);
    };
    // Listed, not delete-marked: the keys decode does not have their values.
    let active: Vec<Wanted> = live.active.iter().map(|&at| (at, false)).collect();
    write(&active, Kind::Uncertain, t, emit);
    // The rest, decided in key order and written in chunks of rows as they
    // come.
    let chunk = mem.rest_rows();
    let (mut deleted, mut uncertain) = (Vec::new(), Vec::new());
    let from = pick_rest(
        &s.others,
        &live.claimed,
        late,
        &cover,
        r.ev,
        &mut |is_deleted, f| {
            let (rows, kind) = match is_deleted {
                true => (&mut deleted, Kind::Deleted),
                false => (&mut uncertain, Kind::Uncertain),
            };
            rows.push((f.at, f.valued_by_keys()));
            if rows.len() >= chunk {
                write(rows, kind, t, emit);
                rows.clear();
            }
        },
    );
    let from = emit.ok(from)?;
    write(&deleted, Kind::Deleted, t, emit);
    write(&uncertain, Kind::Uncertain, t, emit);
    r.tick.pages(reserved.take());
    t.uncertain_from.add(&from);
    t.uncertain_from.active_transactions += live.active.len();
    let by_active = live.active.len() + from.active_transactions;
    if by_active > 0 {
        t.notes.push(format!(
            "{by_active} rows written or deleted by transactions still active at the crash (the server would roll \
             them back; their earlier versions are in the undo log): written as uncertain"
        ));
    }
    Some(())
}

/// A row to write (copy, record), and whether the keys decode of its copy
/// has its values ([`super::copy::Found::valued_by_keys`]).
type Wanted = (RowRef, bool);

/// How many copies the rows `rows` are on.
fn distinct_pages(rows: &[RowRef]) -> usize {
    let mut pages: Vec<u32> = rows.iter().map(|r| r.page).collect();
    pages.sort_unstable();
    pages.dedup();
    pages.len()
}

/// Writes the rows `rows` (copy, record), in that order, as `kind`: read
/// copy by copy into a spool first. The copies read count against
/// `reserved` (copies already in the bar's total, not yet read) first.
#[allow(clippy::too_many_arguments)]
fn write_spooled(
    r: &Reader,
    s: &Survey,
    mem: &Memory,
    reserved: &Cell<usize>,
    rows: &[Wanted],
    kind: Kind,
    t: &mut TableRecovery,
    emit: &mut Emit,
) {
    if rows.is_empty() {
        return;
    }
    let mut spool = Spool::new(rows.len(), mem.spool_bytes(), &mem.spill_dir);
    // (copy, record, slot), by copy.
    let mut by_copy: Vec<(u32, u32, usize)> = rows
        .iter()
        .enumerate()
        .map(|(slot, (r, _))| (r.page, r.rec, slot))
        .collect();
    by_copy.sort_unstable();
    // The copies, each with whether its keys decode has every row wanted.
    let mut copies: Vec<(usize, bool)> = Vec::new();
    for &(c, _, slot) in &by_copy {
        let keys = rows[slot].1;
        match copies.last_mut() {
            Some((last, all)) if *last == c as usize => *all &= keys,
            _ => copies.push((c as usize, keys)),
        }
    }
    // The bar counts the copies read again: from the share reserved for
    // them, the rest added.
    let from_reserve = copies.len().min(reserved.get());
    reserved.set(reserved.get() - from_reserve);
    r.tick.more(copies.len() - from_reserve);
    let mut next = 0;
    for chunk in copies.chunks(r.batch) {
        let fresh: HashMap<usize, PageText> = chunk
            .par_iter()
            .filter(|(i, _)| !s.cache.contains_key(i))
            .map(|&(i, keys)| (i, (r.decode_rows)(i, keys)))
            .collect();
        r.tick.pages(chunk.len());
        let last = chunk.last().expect("a copy").0 as u32;
        while next < by_copy.len() && by_copy[next].0 <= last {
            let (c, rec, slot) = by_copy[next];
            let p = decoded(s, &fresh, c as usize);
            let put = spool.put(slot, p.values.row(rec as usize));
            if emit.ok(put).is_none() {
                return;
            }
            next += 1;
        }
    }
    let ncols = t.def.columns.len();
    let replayed = spool.replay(ncols, 8192, &mut |views| {
        let out: Vec<Out> = views.iter().map(|&values| Out::new(values, &[])).collect();
        emit.rows(t, kind, &out);
    });
    emit.ok(replayed);
}
