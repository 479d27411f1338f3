//! Stage 4, for one index: its rows under one table definition, written
//! as they are found with memory bounded by the page count, not the rows.
//!
//! The table's layout comes first (with MariaDB instant ALTER columns when
//! the index's root says so: `copy::instant_layout`), then the leaf page
//! copies to decode (`leaf_pages`), each read by `copy::decode_copy`.
//! Three passes follow, each in bounded batches decoded in parallel:
//!
//! 1. `survey`: every copy read once, reduced to the key range of each
//!    newest copy and the records that are not live candidates (`others`;
//!    a plain page's keys alone, by the key probe, when it will be decoded
//!    again).
//! 2. `live`: the newest copies, in groups whose key ranges overlap, in key
//!    order: each group's live and partial rows picked
//!    (`classify::pick_live`) and written at once. A probed copy whose full
//!    decode differs from its probe (a record failing its checks, a
//!    definition that does not fit) is surveyed again from that decode.
//!    Then `lost`: where in the key the missing leaf pages were.
//! 3. `rest`: the other records decided (`classify::pick_rest`); the
//!    deleted and uncertain rows read page by page into a `spool`, written
//!    in key order.
//!
//! The output is the same as sorting every record of the index at once.

mod classify;
mod copy;
mod leaf_pages;
mod live;
pub mod lost;
mod others;
mod rest;
mod spool;
mod survey;

use std::collections::{HashMap, HashSet};

use classify::{Evidence, KeyOrder};
use copy::{decode_copy, decode_rows, instant_layout};
use survey::{groups, survey, Survey};

use super::emit::{Collector, Emit};
use super::indexes::InstantRoots;
use super::{Memory, TableRecovery, Tick};
use crate::carve::pages::StorePages;
use crate::carve::PageRecord;
use crate::innodb::rows::PageText;
use crate::schema::TableDef;

/// How passes 2 and 3 read the copies the survey did not keep: decoded
/// again (`decode`; pass 3, which may want only records whose values the
/// keys decode has: `decode_rows`), `batch` at a time, counted in `tick`.
struct Reader<'a> {
    decode: &'a (dyn Fn(usize) -> PageText + Sync),
    decode_rows: &'a (dyn Fn(usize, bool) -> PageText + Sync),
    order: Option<&'a KeyOrder>,
    ev: &'a Evidence<'a>,
    batch: usize,
    tick: &'a Tick<'a>,
}

/// Copy `i` decoded: from the survey's cache, or from `fresh`.
fn decoded<'b>(s: &'b Survey, fresh: &'b HashMap<usize, PageText>, i: usize) -> &'b PageText {
    s.cache.get(&i).or_else(|| fresh.get(&i)).expect("decoded")
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

    // Pass 1.
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
    let decode_some = |i: usize, keys_enough: bool| {
        let (p, role) = leaves.copies[i];
        decode_rows(p, role, &def, src, keys_enough)
    };
    let batch = mem.batch_pages(s.per_page);
    let reader = Reader {
        decode: &decode,
        decode_rows: &decode_some,
        order: order.as_ref(),
        ev: &ev,
        batch,
        tick,
    };

    // Pass 2.
    let Some(mut live) = live::write(&reader, &s, &groups, t, emit) else {
        return;
    };
    // The output failed (or the claims could not be read): the table ends
    // with that error, nothing more to decide.
    if emit.error.is_some() {
        return;
    }
    // Copies whose full decode differs from their keys: their ranges,
    // spans and counts as a full first pass would have kept them (the
    // wider range only joined more copies in a group, which does not
    // change the rows). The lost ranges come from the amended survey.
    for (i, part) in std::mem::take(&mut live.amends) {
        s.amend(i, part);
    }
    let Some(gaps) = emit.ok(lost::gaps(&s, &def)) else {
        return;
    };
    lost::add(t, &gaps, &def);

    // Pass 3.
    if rest::write(&reader, &s, mem, live, t, emit).is_some() {
        notes(&s, t);
    }
}

/// What the survey tells of the records that were not read.
fn notes(s: &Survey, t: &mut TableRecovery) {
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
