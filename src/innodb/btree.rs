//! The leaf level of a B-tree, as its pages link to each other.
//!
//! Every page of one B-tree level sits in a doubly linked list in key order
//! (`FIL_PAGE_PREV` / `FIL_PAGE_NEXT`; `FIL_NULL` at both ends). A page the
//! tree frees or merges away is unlinked from that list first, so when the
//! list runs whole from its leftmost page to its rightmost, it is exactly
//! the set of leaves the root reaches, in key order; a leaf page outside it
//! is no longer part of the index.
//!
//! Source (facts only): MySQL/MariaDB `btr0btr.cc` (btr_level_list_remove,
//! btr_page_split_and_insert, btr_compress), `fil0fil.h` (FIL_NULL).

use std::collections::HashMap;

use crate::innodb::fil::FIL_NULL;

/// One leaf page as the tree saw it last: its number and its neighbours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafLinks {
    pub page_no: u32,
    pub prev: u32,
    pub next: u32,
    /// No damaged copy of the page is newer than this one: its links are
    /// the page's last word. Links from an older copy may be out of date.
    pub trusted: bool,
}

/// Which leaf pages are part of the index.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LeafLevel {
    /// The leaf pages of the index: in key order when `broken` is `None`,
    /// else in page-number order.
    pub pages: Vec<u32>,
    /// Pages left out: off the whole list, or disowned by both of the
    /// neighbours they name.
    pub left_out: Vec<u32>,
    /// Why the list could not be followed end to end.
    pub broken: Option<String>,
    /// Page numbers a kept page names as its neighbour that are not among
    /// the leaves given: leaf pages known to be missing.
    pub missing: Vec<u32>,
}

/// Sorts `leaves` into those still in the index and those left out.
///
/// When the list runs whole through trusted pages, the list is the index.
/// When it does not, a page is left out only on firm evidence: a trusted
/// neighbour it names links elsewhere, to a page that (trusted too) links
/// back, or to nothing. Everything else is kept.
pub fn leaf_level(leaves: &[LeafLinks]) -> LeafLevel {
    let by_no: HashMap<u32, LeafLinks> = leaves.iter().map(|l| (l.page_no, *l)).collect();
    let broken = match leaf_chain(leaves) {
        LeafChain::Whole(order) => match order.iter().find(|n| !by_no[n].trusted) {
            None => {
                let on: std::collections::HashSet<u32> = order.iter().copied().collect();
                let mut left_out: Vec<u32> =
                    by_no.keys().filter(|n| !on.contains(n)).copied().collect();
                left_out.sort_unstable();
                return LeafLevel {
                    pages: order,
                    left_out,
                    broken: None,
                    missing: Vec::new(),
                };
            }
            Some(n) => format!("leaf page {n} has a newer damaged copy"),
        },
        LeafChain::Broken(why) => why,
    };
    let trusted = |n: u32| by_no.get(&n).filter(|l| l.trusted);
    let disowned = |l: &LeafLinks| {
        let left = l.prev != FIL_NULL
            && trusted(l.prev).is_some_and(|x| {
                x.next != l.page_no
                    && (x.next == FIL_NULL || trusted(x.next).is_some_and(|q| q.prev == x.page_no))
            });
        let right = l.next != FIL_NULL
            && trusted(l.next).is_some_and(|y| {
                y.prev != l.page_no
                    && (y.prev == FIL_NULL || trusted(y.prev).is_some_and(|q| q.next == y.page_no))
            });
        left || right
    };
    let mut out = LeafLevel {
        broken: Some(broken),
        ..LeafLevel::default()
    };
    let mut sorted: Vec<&LeafLinks> = by_no.values().collect();
    sorted.sort_unstable_by_key(|l| l.page_no);
    for l in sorted {
        if disowned(l) {
            out.left_out.push(l.page_no);
        } else {
            out.pages.push(l.page_no);
            for n in [l.prev, l.next] {
                if n != FIL_NULL && !by_no.contains_key(&n) {
                    out.missing.push(n);
                }
            }
        }
    }
    out.missing.sort_unstable();
    out.missing.dedup();
    out
}

/// The leaf level of one index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeafChain {
    /// The list runs whole from the leftmost leaf to the rightmost: the
    /// page numbers in key order.
    Whole(Vec<u32>),
    /// The list cannot be followed end to end; why, for the report.
    Broken(String),
}

/// Follows the leaf list through `leaves` (one entry per page number, the
/// newest copy of each). Bounded by the number of entries; never panics.
pub fn leaf_chain(leaves: &[LeafLinks]) -> LeafChain {
    let mut by_no: HashMap<u32, LeafLinks> = HashMap::with_capacity(leaves.len());
    for l in leaves {
        if by_no.insert(l.page_no, *l).is_some() {
            return LeafChain::Broken(format!("two newest copies of leaf page {}", l.page_no));
        }
    }
    let mut starts: Vec<u32> = leaves
        .iter()
        .filter(|l| l.prev == FIL_NULL)
        .map(|l| l.page_no)
        .collect();
    starts.sort_unstable();
    let start = match starts.as_slice() {
        [one] => *one,
        [] => {
            return LeafChain::Broken(
                "no leftmost leaf page (every leaf has a previous page)".into(),
            )
        }
        many => {
            return LeafChain::Broken(format!(
                "{} leaf pages claim to be leftmost (pages {})",
                many.len(),
                list(many)
            ))
        }
    };
    let mut order = Vec::with_capacity(leaves.len());
    let mut cur = by_no[&start];
    loop {
        order.push(cur.page_no);
        if cur.next == FIL_NULL {
            break;
        }
        if order.len() >= by_no.len() {
            return LeafChain::Broken(format!(
                "the leaf list loops back after page {}",
                cur.page_no
            ));
        }
        let Some(next) = by_no.get(&cur.next) else {
            return LeafChain::Broken(format!(
                "leaf page {} (next of page {}) was not found",
                cur.next, cur.page_no
            ));
        };
        if next.prev != cur.page_no {
            return LeafChain::Broken(format!(
                "leaf page {} points back to page {}, not to page {}",
                next.page_no, next.prev, cur.page_no
            ));
        }
        cur = *next;
    }
    LeafChain::Whole(order)
}

fn list(pages: &[u32]) -> String {
    let mut s: Vec<String> = pages.iter().take(5).map(|p| p.to_string()).collect();
    if pages.len() > 5 {
        s.push("...".into());
    }
    s.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(page_no: u32, prev: u32, next: u32) -> LeafLinks {
        LeafLinks {
            page_no,
            prev,
            next,
            trusted: true,
        }
    }

    #[test]
    fn level_whole_keeps_key_order_and_leaves_out_the_rest() {
        let leaves = [l(3, FIL_NULL, 4), l(4, 3, 9), l(7, 4, 9), l(9, 4, FIL_NULL)];
        let lv = leaf_level(&leaves);
        assert_eq!(lv.pages, vec![3, 4, 9]);
        assert_eq!(lv.left_out, vec![7]);
        assert_eq!(lv.broken, None);
    }

    #[test]
    fn level_broken_leaves_out_only_disowned_pages() {
        // Page 5 is lost; page 7 was merged into 4 (4 and 9 link to each
        // other); page 12 was merged into 11, now the rightmost.
        let leaves = [
            l(3, FIL_NULL, 4),
            l(4, 3, 9),
            l(7, 4, 9),
            l(9, 4, 5),
            l(6, 5, 11),
            l(11, 6, FIL_NULL),
            l(12, 11, FIL_NULL),
        ];
        let lv = leaf_level(&leaves);
        assert_eq!(lv.pages, vec![3, 4, 6, 9, 11]);
        assert_eq!(lv.left_out, vec![7, 12]);
        assert_eq!(lv.missing, vec![5]);
        assert!(lv.broken.unwrap().contains("leaf page 5"));
    }

    #[test]
    fn untrusted_links_prove_nothing() {
        // Page 4's good copy is older than a damaged one: its link to 9
        // may predate page 7, so 7 stays, and the whole list is not trusted.
        let mut four = l(4, 3, 9);
        four.trusted = false;
        let leaves = [l(3, FIL_NULL, 4), four, l(7, 4, 9), l(9, 4, FIL_NULL)];
        let lv = leaf_level(&leaves);
        assert_eq!(lv.pages, vec![3, 4, 7, 9]);
        assert!(lv.left_out.is_empty());
        assert!(lv.broken.unwrap().contains("newer damaged copy"));
    }

    #[test]
    fn whole_list_in_key_order_whatever_the_page_numbers() {
        let leaves = [l(9, 4, FIL_NULL), l(4, 3, 9), l(3, FIL_NULL, 4)];
        assert_eq!(leaf_chain(&leaves), LeafChain::Whole(vec![3, 4, 9]));
        assert_eq!(
            leaf_chain(&[l(3, FIL_NULL, FIL_NULL)]),
            LeafChain::Whole(vec![3])
        );
    }

    #[test]
    fn a_page_outside_the_list_is_left_out() {
        // Page 7 was merged away: its neighbours skip it, its own links are stale.
        let leaves = [l(3, FIL_NULL, 4), l(4, 3, 9), l(7, 4, 9), l(9, 4, FIL_NULL)];
        assert_eq!(leaf_chain(&leaves), LeafChain::Whole(vec![3, 4, 9]));
    }

    #[test]
    fn broken_lists_say_why() {
        let missing = [l(3, FIL_NULL, 4), l(9, 4, FIL_NULL)];
        let LeafChain::Broken(why) = leaf_chain(&missing) else {
            panic!()
        };
        assert!(why.contains("leaf page 4"), "{why}");
        let stale = [l(3, FIL_NULL, 9), l(4, 3, 9), l(9, 4, FIL_NULL)];
        let LeafChain::Broken(why) = leaf_chain(&stale) else {
            panic!()
        };
        assert!(why.contains("points back"), "{why}");
        let two = [l(3, FIL_NULL, FIL_NULL), l(5, FIL_NULL, FIL_NULL)];
        assert!(matches!(leaf_chain(&two), LeafChain::Broken(_)));
        let looped = [l(3, FIL_NULL, 4), l(4, 3, 5), l(5, 4, 4)];
        assert!(matches!(leaf_chain(&looped), LeafChain::Broken(_)));
        let cycle = [l(3, 5, 4), l(4, 3, 5), l(5, 4, 3)];
        assert!(matches!(leaf_chain(&cycle), LeafChain::Broken(_)));
        assert!(matches!(leaf_chain(&[]), LeafChain::Broken(_)));
    }
}
