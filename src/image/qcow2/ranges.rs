//! Which virtual ranges may hold data, from the cluster map (and the
//! backing image's own ranges where clusters are unallocated): the scanner
//! reads only these.

use super::l2::Entry;
use super::{Qcow2, L1_DAMAGED};

impl Qcow2 {
    /// Virtual ranges in `start..end` that may hold data, sorted and merged:
    /// allocated, compressed or damaged clusters (damage reads as holes, so
    /// the scanner reports it), and where clusters are unallocated, the
    /// backing image's own data ranges. Zero clusters hold nothing.
    pub fn data_ranges(&self, start: u64, end: u64) -> Vec<(u64, u64)> {
        let end = end.min(self.size);
        if start >= end {
            return Vec::new();
        }
        let c = self.lay.cluster();
        let span = self.span();
        let per = self.lay.l2_entries();
        let mut data = Ranges::default();
        let mut back = Ranges::default();
        let mut v = start - start % c;
        while v < end {
            let i = v / span;
            let t_end = (i + 1).saturating_mul(span).min(end);
            let Some(&l1e) = self.l1.get(i as usize) else {
                back.add(v, end);
                break;
            };
            if l1e == 0 {
                back.add(v, t_end);
            } else if l1e == L1_DAMAGED {
                data.add(v, t_end);
            } else if let Some(t) = self.table(i as usize) {
                while v < t_end {
                    let e = t.entries.get((v / c % per) as usize);
                    let ce = (v + c).min(t_end);
                    match e.copied().unwrap_or(Entry::Damaged) {
                        Entry::Unallocated => back.add(v, ce),
                        Entry::Zero => {}
                        Entry::Data(_) | Entry::Compressed { .. } | Entry::Damaged => {
                            data.add(v, ce)
                        }
                        Entry::Sub { alloc, zero, .. } => {
                            let sub = c / 32;
                            for k in 0..32u32 {
                                let a = v + u64::from(k) * sub;
                                let b = (a + sub).min(ce);
                                if a >= b {
                                    break;
                                }
                                if alloc >> k & 1 != 0 {
                                    data.add(a, b);
                                } else if zero >> k & 1 == 0 {
                                    back.add(a, b);
                                }
                            }
                        }
                    }
                    v = ce;
                }
            }
            v = t_end;
        }
        if let Some(b) = &self.backing {
            let bend = end.min(b.size());
            if start < bend && !back.0.is_empty() {
                let bd = b.data_ranges(start, bend);
                let (mut x, mut y) = (0, 0);
                while x < back.0.len() && y < bd.len() {
                    let (a0, a1) = back.0[x];
                    let (b0, b1) = bd[y];
                    let (lo, hi) = (a0.max(b0), a1.min(b1));
                    if lo < hi {
                        data.0.push((lo, hi));
                    }
                    if a1 < b1 {
                        x += 1;
                    } else {
                        y += 1;
                    }
                }
            }
        }
        data.0.sort_unstable();
        let mut out: Vec<(u64, u64)> = Vec::with_capacity(data.0.len());
        for (a, b) in data.0 {
            let (a, b) = (a.max(start), b.min(end));
            if a >= b {
                continue;
            }
            match out.last_mut() {
                Some(last) if last.1 >= a => last.1 = last.1.max(b),
                _ => out.push((a, b)),
            }
        }
        out
    }
}

/// Sorted ranges, merged as they are added in order.
#[derive(Default)]
struct Ranges(Vec<(u64, u64)>);

impl Ranges {
    fn add(&mut self, a: u64, b: u64) {
        if a >= b {
            return;
        }
        match self.0.last_mut() {
            Some(last) if last.1 == a => last.1 = b,
            _ => self.0.push((a, b)),
        }
    }
}
