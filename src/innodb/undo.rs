//! Transactions still active at a crash, from the rollback segments
//! (`trx0sys.h`, `trx0rseg.h`, `trx0undo.h`; MariaDB 10.3+ layout).
//!
//! The TRX_SYS page (space 0, page 5) lists up to 128 rollback segments
//! (space id, page number at 56 + 8 i). Each rollback segment header page
//! has `page_size / 16` undo slots (page numbers at 72 + 4 j, FIL_NULL when
//! free). A used slot points at the header page of an undo log segment:
//! TRX_UNDO_STATE at 56 (1 = active, 5 = prepared) and TRX_UNDO_LAST_LOG
//! at 58, the offset of the newest undo log header on the page, whose
//! first 8 bytes are its transaction id. A committed transaction's undo
//! log leaves its slot (moved to the history list, cached, or freed), so
//! the ids found active here are the transactions that had not committed
//! when the server stopped: their changes are in the pages (and in the
//! redone pages) but would be rolled back by the server.

use std::collections::{BTreeSet, HashSet};

use crate::bytes::{be_u16, be_u32, be_u64};
use crate::innodb::fil::{FIL_NULL, FIL_PAGE_DATA, FIL_PAGE_UNDO_LOG};
use crate::innodb::lob::PageSource;

const TRX_SYS_PAGE: u32 = 5;
const TRX_SYS_RSEGS: usize = FIL_PAGE_DATA + 18;
const TRX_SYS_N_RSEGS: usize = 128;
const TRX_RSEG_UNDO_SLOTS: usize = FIL_PAGE_DATA + 34;
const TRX_UNDO_SEG_HDR: usize = FIL_PAGE_DATA + 18;
const TRX_UNDO_STATE: usize = TRX_UNDO_SEG_HDR;
const TRX_UNDO_LAST_LOG: usize = TRX_UNDO_SEG_HDR + 2;
/// TRX_UNDO_ACTIVE and TRX_UNDO_PREPARED: not committed.
const ACTIVE: u16 = 1;
const PREPARED: u16 = 5;

/// The ids of the transactions whose undo log is active (or XA-prepared)
/// in the rollback segments of `src`. Empty when the TRX_SYS page is not
/// there. Bounded by the 128 x (page size / 16) slots.
pub fn active_transactions(src: &impl PageSource) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    let Some(sys) = src.page(0, TRX_SYS_PAGE) else {
        return out;
    };
    let mut seen: HashSet<(u32, u32)> = HashSet::new();
    for i in 0..TRX_SYS_N_RSEGS {
        let at = TRX_SYS_RSEGS + 8 * i;
        let (Some(space), Some(page)) = (be_u32(&sys, at), be_u32(&sys, at + 4)) else {
            break;
        };
        if page == FIL_NULL || page == 0 || !seen.insert((space, page)) {
            continue;
        }
        let Some(rseg) = src.page(space, page) else {
            continue;
        };
        let n_slots = rseg.len() / 16;
        for j in 0..n_slots {
            let Some(undo_page) = be_u32(&rseg, TRX_RSEG_UNDO_SLOTS + 4 * j) else {
                break;
            };
            if undo_page == FIL_NULL || undo_page == 0 {
                continue;
            }
            let Some(u) = src.page(space, undo_page) else {
                continue;
            };
            if be_u16(&u, 24) != Some(FIL_PAGE_UNDO_LOG) {
                continue;
            }
            let state = be_u16(&u, TRX_UNDO_STATE);
            if state != Some(ACTIVE) && state != Some(PREPARED) {
                continue;
            }
            let Some(last) = be_u16(&u, TRX_UNDO_LAST_LOG).map(usize::from) else {
                continue;
            };
            if last < TRX_UNDO_SEG_HDR + 30 || last + 8 > u.len() {
                continue;
            }
            if let Some(id) = be_u64(&u, last).filter(|&id| id != 0) {
                out.insert(id);
            }
        }
    }
    out
}
