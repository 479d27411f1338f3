//! Pass 2 of an index (`recover_index`): the newest copies, in groups whose
//! key ranges overlap, in key order, a batch of groups decoded while the
//! one before is written. Each group's live and partial rows are picked
//! (`classify::pick_live`) and written at once; the keys they claim are
//! marked among the other records (`others::Claims`), so that pass 3 writes
//! none of those keys' other versions.

use rayon::prelude::*;

use std::collections::HashMap;
use std::ops::Range;

use super::classify::{pick_live, Picked};
use super::copy::Found;
use super::others::{Claimed, Claims};
use super::survey::Survey;
use super::{decoded, Reader};
use crate::innodb::rows::PageText;
use crate::recover::emit::{Emit, Kind, Out};
use crate::recover::{RowRef, TableRecovery};

/// What pass 2 leaves for pass 3.
pub(super) struct Live {
    /// Which of the other records' keys a live row claims.
    pub claimed: Claimed,
    /// Records of the newest copies that no live row claims (older
    /// versions on a newer page), with their keys.
    pub late: Vec<(Box<[u8]>, Found<'static>)>,
    /// Rows of transactions active at the crash.
    pub active: Vec<RowRef>,
    /// Copies surveyed from their keys alone whose full decode differs:
    /// their survey again ([`Survey::amend`]).
    pub amends: Vec<(usize, Survey)>,
}

/// Writes the live and partial rows of `groups` (copy indexes, in key
/// order); `None` when the other records' claims cannot be kept.
pub(super) fn write(
    r: &Reader,
    s: &Survey,
    groups: &[Vec<usize>],
    t: &mut TableRecovery,
    emit: &mut Emit,
) -> Option<Live> {
    let batches = batches(groups, r.batch);
    let mut claims = emit.ok(Claims::new(&s.others))?;
    let mut late: Vec<(Box<[u8]>, Found<'static>)> = Vec::new();
    let mut active: Vec<RowRef> = Vec::new();
    let mut amends: Vec<(usize, Survey)> = Vec::new();
    let load = |b: &Range<usize>| -> (HashMap<usize, PageText>, Vec<(usize, Survey)>) {
        let want: Vec<usize> = groups[b.clone()]
            .iter()
            .flatten()
            .copied()
            .filter(|i| !s.cache.contains_key(i))
            .collect();
        let decoded: Vec<(usize, PageText, Option<Survey>)> = want
            .par_iter()
            .map(|&i| {
                let text = (r.decode)(i);
                let again = if s.meta[i].lean {
                    s.recheck(i, &text, r.order)
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
                let text = |i: usize| decoded(s, &fresh, i);
                let mut picked = Picked::default();
                for group in &groups[b.clone()] {
                    let members: Vec<_> = group.iter().map(|&i| (i, &s.meta[i], text(i))).collect();
                    pick_live(&members, r.ev, &mut picked);
                }
                r.tick.pages(groups[b.clone()].iter().map(Vec::len).sum());
                emit.ok(claims.mark(&picked.claimed));
                for f in &picked.unclaimed {
                    late.push((f.key.into(), Found { key: &[], ..*f }));
                }
                active.extend_from_slice(&picked.active);
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
    Some(Live {
        claimed: claims.done(),
        late,
        active,
        amends,
    })
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
