//! Is a repaired page consistent? What a checksum alone cannot prove: the
//! header and trailer agree, the links are sane, and an index page's
//! records form one list from the infimum to the supremum.

use crate::bytes::{be_u16, be_u32};
use crate::innodb::fil::{
    self, FIL_PAGE_INDEX, FIL_PAGE_LSN, FIL_PAGE_RTREE, FIL_PAGE_SDI,
    FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB,
};
use crate::innodb::page_compressed as pc;
use crate::innodb::page_header::has_infimum;
use crate::innodb::page_zip;
use crate::innodb::record::{compact_header, redundant_header, walk_records, PageGeom};
use crate::innodb::repair::Format;

/// Logical size assumed for a ROW_FORMAT=COMPRESSED page whose tablespace
/// is not known (the server default).
const DEFAULT_LOGICAL: usize = 16384;

/// Page number, previous and next below 2^26 (or FIL_NULL links).
fn links_sane(page: &[u8]) -> bool {
    let small = |v: Option<u32>| matches!(v, Some(x) if x == fil::FIL_NULL || x < 1 << 26);
    small(be_u32(page, fil::FIL_PAGE_PREV))
        && small(be_u32(page, fil::FIL_PAGE_NEXT))
        && be_u32(page, fil::FIL_PAGE_OFFSET).is_some_and(|x| x < 1 << 26)
}

/// The record list of an uncompressed index page runs from the infimum to
/// the supremum, each record inside the heap and seen once, holds exactly
/// `PAGE_N_RECS` records, and the page directory agrees with it
/// ([`directory_consistent`]). Pages that are not index pages pass.
pub fn records_consistent(page: &[u8]) -> bool {
    let t = be_u16(page, fil::FIL_PAGE_TYPE).unwrap_or(0);
    let index = matches!(t, FIL_PAGE_INDEX | FIL_PAGE_RTREE | FIL_PAGE_SDI);
    let claims_index = index || t == FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB && has_infimum(page);
    let Some(g) = PageGeom::parse(page) else {
        // Type 18 is also MySQL's SDI BLOB page, which has no records.
        return !claims_index;
    };
    if !index && t != FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB {
        return true;
    }
    let w = walk_records(page, &g);
    if w.broken.is_some() || w.headers.len() != usize::from(g.n_recs) {
        return false;
    }
    let mut chain = Vec::with_capacity(w.headers.len() + 2);
    chain.push(g.infimum);
    chain.extend(w.headers.iter().map(|h| h.origin));
    chain.push(g.supremum);
    directory_consistent(page, &g, &chain)
}

/// The page directory agrees with the record list: slot 0 owns the
/// infimum, the last slot the supremum, the slots' owners come in list
/// order, and each owner's `n_owned` is the number of records from the
/// previous owner (exclusive) to it (inclusive).
fn directory_consistent(page: &[u8], g: &PageGeom, chain: &[usize]) -> bool {
    let Some(n_slots) = be_u16(page, fil::FIL_PAGE_DATA).map(usize::from) else {
        return false;
    };
    if n_slots < 2 || n_slots > chain.len() {
        return false;
    }
    let n_owned = |origin: usize| {
        let h = if g.compact {
            compact_header(page, origin)
        } else {
            redundant_header(page, origin)
        };
        h.map(|h| usize::from(h.n_owned))
    };
    let end = page.len() - fil::FIL_PAGE_DATA_END;
    let mut prev: Option<usize> = None;
    let mut pos = 0;
    for k in 0..n_slots {
        let Some(owner) = be_u16(page, end - 2 * (k + 1)).map(usize::from) else {
            return false;
        };
        // The owner's place in the list, after the previous owner's.
        let Some(i) = chain[pos..]
            .iter()
            .position(|&o| o == owner)
            .map(|i| i + pos)
        else {
            return false;
        };
        let owned = match prev {
            None => i + 1,
            Some(p) => i - p,
        };
        if n_owned(owner) != Some(owned) {
            return false;
        }
        prev = Some(i);
        pos = i + 1;
    }
    prev == Some(chain.len() - 1)
}

/// An uncompressed index page's free space (from the heap top to the page
/// directory) is zero on most pages. When all of it is zero but the
/// repaired bytes `at..at + len`, the repair wrote garbage into clean free
/// space: a syndrome that fits by chance, not the damage.
pub fn free_space_agrees(page: &[u8], at: usize, len: usize) -> bool {
    let t = be_u16(page, fil::FIL_PAGE_TYPE).unwrap_or(0);
    if !matches!(
        t,
        FIL_PAGE_INDEX | FIL_PAGE_RTREE | FIL_PAGE_SDI | FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB
    ) {
        return true;
    }
    let Some(g) = PageGeom::parse(page) else {
        return true;
    };
    let Some(n_slots) = be_u16(page, fil::FIL_PAGE_DATA) else {
        return true;
    };
    let Some(dir) = page
        .len()
        .checked_sub(fil::FIL_PAGE_DATA_END + 2 * usize::from(n_slots))
    else {
        return true;
    };
    let end = at.saturating_add(len);
    if at < g.heap_top || end > dir {
        return true;
    }
    let Some(gap) = page.get(g.heap_top..dir) else {
        return true;
    };
    let (a, b) = (at - g.heap_top, end - g.heap_top);
    let rest_zero = gap[..a].iter().chain(&gap[b..]).all(|&x| x == 0);
    !rest_zero || gap[a..b].iter().all(|&x| x == 0)
}

/// Whether a repaired page of `format` is consistent (see the module
/// doc). `logical`: the logical page size of a ROW_FORMAT=COMPRESSED page.
pub fn consistent(page: &[u8], format: Format, logical: Option<usize>) -> bool {
    let n = page.len();
    let Some(t) = be_u16(page, fil::FIL_PAGE_TYPE) else {
        return false;
    };
    if !links_sane(page) {
        return false;
    }
    let lsn_low = be_u32(page, FIL_PAGE_LSN + 4);
    match format {
        Format::FullCrc32 | Format::Crc32 => {
            let trailer = if format == Format::FullCrc32 {
                n - fil::FIL_PAGE_FCRC32_END_LSN
            } else {
                n - 4
            };
            fil::known_type(t)
                && lsn_low.is_some()
                && be_u32(page, trailer) == lsn_low
                && records_consistent(page)
        }
        Format::ZipCrc32 | Format::ZipAdler => {
            if !fil::known_type(t) {
                return false;
            }
            if matches!(t, FIL_PAGE_INDEX | FIL_PAGE_RTREE | FIL_PAGE_SDI) {
                let logical = logical.unwrap_or(DEFAULT_LOGICAL);
                return page_zip::decompress(page, logical).is_ok_and(|p| records_consistent(&p));
            }
            true
        }
        Format::Fcrc32Compressed => match pc::inflate_page(page) {
            Some(p) => links_sane(&p) && records_consistent(&p),
            None => false,
        },
    }
}
