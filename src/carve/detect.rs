//! Is there an InnoDB page at this position?
//!
//! The test at each 512-byte position is cheap and ordered by cost:
//! 1. FIL_PAGE_TYPE must be a type some InnoDB writes (a 64 Ki-bit table);
//! 2. for each logical page size, the low 32 bits of the header LSN must
//!    reappear in the trailer (classic: at size-4; full_crc32: at size-8);
//! 3. only then is a checksum computed.
//!
//! Pages without that anchor are tried as ROW_FORMAT=COMPRESSED pages (their
//! checksum tells the physical size), as MariaDB page_compressed pages, and as
//! pages of a sparse file whose all-zero blocks were left out.

use crate::bytes::{be_u16, be_u32, be_u64, slice};
use crate::carve::{PageRecord, Reason, Status};
use crate::innodb::checksum::{self, ChecksumKind};
use crate::innodb::fil::{self, FIL_PAGE_INDEX, FIL_PAGE_RTREE, FIL_PAGE_SDI};
use crate::innodb::page_compressed as pc;
use crate::innodb::page_header::{has_infimum, PageHeader};
use crate::innodb::repair::{self, Fix, Format};

/// Logical page sizes, most common first.
pub const PAGE_SIZES: [usize; 5] = [16384, 4096, 8192, 32768, 65536];
/// The largest page: how far past a position the detector may look.
pub const MAX_PAGE: usize = 65536;
/// Hole granularities tried for sparse pages (file system block sizes).
const HOLE_GRANULARITIES: [usize; 2] = [4096, 1024];
/// Most checksum attempts spent on one sparse candidate.
const SPARSE_BUDGET: usize = 256;

/// The FIL_PAGE_TYPE values [`detect`] looks further at: the known types
/// and the full_crc32 page_compressed ones whose size field is in range.
/// Every other value makes `detect` return `None` at once, so the scanner
/// skips such a position with this one table lookup (1 value in 230 of
/// random bytes passes).
const fn may_be_page_type(t: u16) -> bool {
    if fil::is_known_type(t) {
        return true;
    }
    // pc::fcrc32_physical_size, in a const fn (the unit test checks both agree).
    let size = ((t & !fil::FIL_PAGE_COMPRESS_FCRC32_MARKER) as usize) << 8;
    t & fil::FIL_PAGE_COMPRESS_FCRC32_MARKER != 0 && size >= 256 && size < 65536
}

static MAY_BE_PAGE: [u64; 1024] = {
    let mut bits = [0u64; 1024];
    let mut t: u32 = 0;
    while t < 65536 {
        if may_be_page_type(t as u16) {
            bits[(t >> 6) as usize] |= 1 << (t & 63);
        }
        t += 1;
    }
    bits
};

/// Whether a position whose FIL_PAGE_TYPE bytes are `t` may start a page:
/// when false, [`detect`] returns `None` there.
#[inline(always)]
pub fn may_be_page(t: u16) -> bool {
    MAY_BE_PAGE[(t >> 6) as usize] >> (t & 63) & 1 != 0
}

/// Per-thread scratch space.
#[derive(Default)]
pub struct Scratch {
    page: Vec<u8>,
}

/// A page the checksum does not confirm. Either the trailer LSN matches but
/// no checksum does (`rec.phys_size` set), or a plausible header has no
/// trailer at all (`rec.phys_size` 0). Resolved after the scan, once the
/// page size of its tablespace is known from verified pages: then it is a
/// damaged (or torn) page, or nothing. The scan does not skip over a
/// candidate, so a false one never hides a real page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// The page as it would be recorded (status damaged).
    pub rec: PageRecord,
    /// The 4 bytes where the classic trailer LSN of each of [`PAGE_SIZES`]
    /// would be (size-4), and where the full_crc32 one would be (size-8).
    pub classic_trailer: [u32; 5],
    pub fcrc32_trailer: [u32; 5],
    /// A header that only looks like a ROW_FORMAT=COMPRESSED index page's
    /// (no infimum in clear): kept for repair once the space's compressed
    /// page size is known, never recorded as a damaged page.
    pub zip: bool,
}

pub enum Detection {
    /// A verified page (checksum holds).
    Page(PageRecord),
    Candidate(Candidate),
}

/// Looks for a page starting at `w[0]`, the image offset `offset`.
/// `w` extends up to [`MAX_PAGE`] bytes past the position (less at the end).
#[inline]
pub fn detect(w: &[u8], offset: u64, scratch: &mut Scratch) -> Option<Detection> {
    let t = be_u16(w, fil::FIL_PAGE_TYPE)?;
    if !fil::known_type(t) {
        if t & fil::FIL_PAGE_COMPRESS_FCRC32_MARKER != 0 {
            return fcrc32_compressed(w, offset, t, scratch).map(Detection::Page);
        }
        return None;
    }
    let lsn = be_u64(w, fil::FIL_PAGE_LSN)?;
    let lsn_low = lsn as u32;
    if lsn == 0 && t == 0 {
        return None;
    }
    if t == fil::FIL_PAGE_PAGE_COMPRESSED {
        if let Some(p) = legacy_compressed(w, offset) {
            return Some(Detection::Page(p));
        }
    }

    // Classic and full_crc32 pages: the trailer anchor, then the checksum.
    let mut damaged: Option<(usize, bool)> = None;
    for &size in PAGE_SIZES.iter() {
        let Some(pg) = w.get(..size) else { continue };
        if be_u32(pg, size - 4) == Some(lsn_low) {
            if let Some(kind) = checksum::classic_match(pg) {
                return Some(Detection::Page(record(
                    pg,
                    offset,
                    size,
                    size,
                    kind,
                    Status::Ok,
                    Reason::None,
                )));
            }
            damaged.get_or_insert((size, false));
        }
        if be_u32(pg, size - 8) == Some(lsn_low) {
            if checksum::full_crc32(pg) == be_u32(pg, size - 4)? {
                return Some(Detection::Page(record(
                    pg,
                    offset,
                    size,
                    size,
                    ChecksumKind::FullCrc32,
                    Status::Ok,
                    Reason::None,
                )));
            }
            damaged.get_or_insert((size, true));
        }
    }

    // ROW_FORMAT=COMPRESSED: no trailer; the checksum gives the size.
    let stored = be_u32(w, 0)?;
    if stored != 0 && stored != fil::BUF_NO_CHECKSUM_MAGIC {
        let head = &w[..w.len().min(16384)];
        if let Some((size, kind)) = checksum::zip_match(head, stored) {
            let pg = &w[..size as usize];
            return Some(Detection::Page(record(
                pg,
                offset,
                size as usize,
                0,
                kind,
                Status::Ok,
                Reason::None,
            )));
        }
    }

    if lsn_low == 0 {
        return None;
    }
    if let Some(p) = sparse_zip(w, offset, stored, scratch) {
        return Some(Detection::Page(p));
    }
    // A sparse page is tried before a damaged one: the trailer of the next
    // page of the same mini-transaction (same LSN) can sit where this page's
    // trailer would be if it were whole.
    if t != fil::FIL_PAGE_TYPE_ALLOCATED {
        if let Some(p) = sparse(w, offset, lsn_low, scratch) {
            return Some(Detection::Page(p));
        }
    }
    if let Some((size, fcrc32)) = damaged {
        let pg = &w[..size];
        let format = if fcrc32 {
            Format::FullCrc32
        } else {
            Format::Crc32
        };
        if let Some(fix) = repair::repair(pg, format, None, &mut scratch.page) {
            let kind = if fcrc32 {
                ChecksumKind::FullCrc32
            } else {
                ChecksumKind::Crc32c
            };
            return Some(Detection::Page(record(
                &scratch.page,
                offset,
                size,
                size,
                kind,
                Status::Repaired,
                repaired(fix),
            )));
        }
        let kind = if fcrc32 {
            ChecksumKind::FullCrc32
        } else {
            guess_classic_kind(pg)
        };
        let rec = record(
            pg,
            offset,
            size,
            size,
            kind,
            Status::Damaged,
            Reason::BadChecksum,
        );
        return Some(Detection::Candidate(Candidate {
            rec,
            classic_trailer: [0; 5],
            fcrc32_trailer: [0; 5],
            zip: false,
        }));
    }
    if t == fil::FIL_PAGE_TYPE_ALLOCATED {
        return None;
    }
    let orphan = plausible_orphan(w, t);
    let zip = !orphan && zip_index_header(w, t, stored);
    if orphan || zip {
        let at = |i: usize, back: usize| {
            let s = PAGE_SIZES[i];
            be_u32(w, s - back).unwrap_or(0)
        };
        let kind = ChecksumKind::Crc32c;
        return Some(Detection::Candidate(Candidate {
            rec: record(w, offset, 0, 0, kind, Status::Damaged, Reason::BadChecksum),
            classic_trailer: std::array::from_fn(|i| at(i, 4)),
            fcrc32_trailer: std::array::from_fn(|i| at(i, 8)),
            zip,
        }));
    }
    None
}

/// The reason recorded for a repaired page.
pub(crate) fn repaired(fix: Fix) -> Reason {
    Reason::Repaired {
        at: fix.at as u32,
        len: fix.len,
        old: fix.old,
        new: fix.new,
    }
}

/// A header that could start a ROW_FORMAT=COMPRESSED index page whose
/// checksum fails: an index type, a checksum, no flush LSN, sane links and
/// a COMPACT page header with a sane heap (the records are compressed, so
/// there is no infimum to see).
fn zip_index_header(w: &[u8], t: u16, stored: u32) -> bool {
    if !matches!(t, FIL_PAGE_INDEX | FIL_PAGE_RTREE | FIL_PAGE_SDI)
        || stored == 0
        || stored == fil::BUF_NO_CHECKSUM_MAGIC
        || be_u64(w, fil::FIL_PAGE_FILE_FLUSH_LSN) != Some(0)
        || !plausible_links(w)
    {
        return false;
    }
    PageHeader::parse(w).is_some_and(|h| {
        h.compact
            && h.n_heap >= 2
            && h.n_dir_slots >= 2
            && (h.heap_top as usize) <= 16384
            && h.index_id != 0
            && h.index_id < 1 << 48
            && h.level < 64
    })
}

/// Which classic algorithm a damaged page was most likely written with.
fn guess_classic_kind(pg: &[u8]) -> ChecksumKind {
    let n = pg.len();
    let stored = be_u32(pg, 0).unwrap_or(0);
    let stored_old = be_u32(pg, n - 8).unwrap_or(0);
    if stored == fil::BUF_NO_CHECKSUM_MAGIC {
        ChecksumKind::None
    } else if stored == stored_old {
        // crc32 writes the same value in both fields.
        ChecksumKind::Crc32c
    } else {
        ChecksumKind::Innodb
    }
}

/// A header that could start a page whose trailer was lost: index pages
/// must carry the infimum record; other pages need sane links.
fn plausible_orphan(w: &[u8], t: u16) -> bool {
    if matches!(t, FIL_PAGE_INDEX | FIL_PAGE_RTREE | FIL_PAGE_SDI) {
        return has_infimum(w);
    }
    plausible_links(w)
}

/// Page number, previous and next page below 2^26 (or FIL_NULL links): what
/// a real header has and most random bytes have not.
fn plausible_links(w: &[u8]) -> bool {
    let small = |v: Option<u32>| matches!(v, Some(x) if x == fil::FIL_NULL || x < 1 << 26);
    small(be_u32(w, fil::FIL_PAGE_PREV))
        && small(be_u32(w, fil::FIL_PAGE_NEXT))
        && be_u32(w, fil::FIL_PAGE_OFFSET).is_some_and(|x| x < 1 << 26)
}

/// Builds the record of a page whose bytes are `pg` (the logical page, or
/// the physical one for compressed formats).
pub(crate) fn record(
    pg: &[u8],
    offset: u64,
    phys: usize,
    logical: usize,
    kind: ChecksumKind,
    status: Status,
    reason: Reason,
) -> PageRecord {
    let h = fil::FilHeader::parse(pg);
    let (space_id, page_no, lsn, page_type) = h.map_or((0, 0, 0, 0), |h| {
        (h.space_id, h.page_no, h.lsn, h.page_type)
    });
    let mut r = PageRecord {
        offset,
        lsn,
        index_id: 0,
        space_id,
        page_no,
        phys_size: phys as u32,
        logical_size: logical as u32,
        page_type,
        level: 0,
        n_recs: 0,
        checksum: kind,
        status,
        reason,
    };
    fill_index_info(&mut r, pg);
    r
}

fn fill_index_info(r: &mut PageRecord, pg: &[u8]) {
    let index_type = matches!(r.page_type, FIL_PAGE_INDEX | FIL_PAGE_RTREE | FIL_PAGE_SDI)
        || (r.page_type == fil::FIL_PAGE_TYPE_INSTANT_OR_SDI_BLOB && is_instant_root(pg));
    if !index_type {
        return;
    }
    if let Some(h) = PageHeader::parse(pg) {
        r.index_id = h.index_id;
        r.level = h.level;
        r.n_recs = h.n_recs;
    }
}

/// Type 18 is MySQL's SDI_BLOB or MariaDB's FIL_PAGE_TYPE_INSTANT (the root
/// of a clustered index after instant ALTER, whose infimum and supremum
/// strings MariaDB overwrites). An SDI BLOB page has a 4-byte part length
/// where an index page has PAGE_N_DIR_SLOTS and PAGE_HEAP_TOP, so a page
/// with at least two directory slots and a sane heap is an index page.
fn is_instant_root(pg: &[u8]) -> bool {
    if has_infimum(pg) {
        return true;
    }
    PageHeader::parse(pg).is_some_and(|h| {
        h.n_dir_slots >= 2
            && h.n_heap >= 2
            && (h.heap_top as usize) <= pg.len()
            && h.index_id != 0
            && h.index_id < 1 << 48
            && h.level < 64
    })
}

/// MariaDB full_crc32 page_compressed: size from the type, CRC-32C at the end.
fn fcrc32_compressed(w: &[u8], offset: u64, t: u16, scratch: &mut Scratch) -> Option<PageRecord> {
    let size = pc::fcrc32_physical_size(t)?;
    let mut pg = w.get(..size)?;
    let (mut status, mut reason) = (Status::Ok, Reason::None);
    if checksum::full_crc32(pg) != be_u32(pg, size - 4)? {
        // Repair only under a header that is most likely such a page:
        // sane links, an LSN, a zlib stream header where the stream starts.
        let zlib = match slice(pg, pc::FIL_PAGE_COMP_ALGO, 2) {
            Some(&[a, b]) => a & 0x0f == 8 && (u16::from(a) << 8 | u16::from(b)) % 31 == 0,
            _ => false,
        };
        if !zlib || !plausible_links(pg) || be_u64(pg, fil::FIL_PAGE_LSN) == Some(0) {
            return None;
        }
        let fix = repair::repair(pg, Format::Fcrc32Compressed, None, &mut scratch.page)?;
        pg = &scratch.page;
        status = Status::Repaired;
        reason = repaired(fix);
    }
    let mut r = record(
        pg,
        offset,
        size,
        0,
        ChecksumKind::Compressed,
        status,
        reason,
    );
    // The index header is inside the compressed stream (zlib, the default).
    if let Some(page) = pc::inflate_page(pg) {
        describe_inflated(&mut r, &page);
    }
    Some(r)
}

/// Fills what the inflated page tells: logical size, space id (not in
/// clear in full_crc32 compressed pages), index fields.
fn describe_inflated(r: &mut PageRecord, page: &[u8]) {
    r.logical_size = page.len() as u32;
    if let Some(h) = fil::FilHeader::parse(page) {
        r.space_id = h.space_id;
        r.page_type = h.page_type;
    }
    fill_index_info(r, page);
}

/// MariaDB page_compressed before full_crc32: verified by inflating.
fn legacy_compressed(w: &[u8], offset: u64) -> Option<PageRecord> {
    let (algo, len) = pc::legacy_header(w)?;
    let end = pc::LEGACY_PAYLOAD.checked_add(len)?;
    if end > w.len() {
        return None;
    }
    // Physical extent: header + payload, rounded up to 512 bytes.
    let phys = end.div_ceil(512) * 512;
    if algo != pc::PAGE_ZLIB_ALGORITHM {
        let pg = &w[..phys.min(w.len())];
        let reason = Reason::Unverified { algorithm: algo };
        return Some(record(
            pg,
            offset,
            phys,
            0,
            ChecksumKind::Compressed,
            Status::Damaged,
            reason,
        ));
    }
    let page = pc::inflate_page(&w[..end])?;
    let pg = &w[..phys.min(w.len())];
    let mut r = record(
        pg,
        offset,
        phys,
        0,
        ChecksumKind::Compressed,
        Status::Ok,
        Reason::None,
    );
    describe_inflated(&mut r, &page);
    Some(r)
}

/// A page of a sparse file: some of its all-zero blocks are not on disk, so
/// its other blocks lie together, shorter than a page. Try the missing
/// blocks at each position until a checksum holds.
fn sparse(w: &[u8], offset: u64, lsn_low: u32, scratch: &mut Scratch) -> Option<PageRecord> {
    let mut budget = SPARSE_BUDGET;
    for &size in PAGE_SIZES.iter() {
        for &g in HOLE_GRANULARITIES.iter() {
            let n = size / g;
            if n < 3 {
                continue;
            }
            // m physical blocks: the first holds the header, the last the trailer.
            for m in 2..n {
                let phys = m * g;
                let Some(pw) = w.get(..phys) else { break };
                let classic = be_u32(pw, phys - 4) == Some(lsn_low);
                let fcrc32 = be_u32(pw, phys - 8) == Some(lsn_low);
                if !classic && !fcrc32 {
                    continue;
                }
                let k = n - m; // zero blocks among the n-2 inner positions
                for mask in ZeroSets::new(n - 2, k) {
                    if budget == 0 {
                        return None;
                    }
                    budget -= 1;
                    let holes = mask << 1; // inner positions start at block 1
                    assemble(pw, size, g, holes, &mut scratch.page);
                    let pg = &scratch.page[..];
                    let kind = if classic {
                        checksum::classic_match(pg)
                    } else {
                        None
                    }
                    .or_else(|| {
                        (fcrc32 && Some(checksum::full_crc32(pg)) == be_u32(pg, size - 4))
                            .then_some(ChecksumKind::FullCrc32)
                    });
                    if let Some(kind) = kind {
                        let reason = Reason::Holes {
                            mask: holes,
                            granularity: g as u32,
                        };
                        return Some(record(
                            pg,
                            offset,
                            phys,
                            size,
                            kind,
                            Status::Reassembled,
                            reason,
                        ));
                    }
                }
            }
        }
    }
    None
}

/// A ROW_FORMAT=COMPRESSED page of 8 or 16 KiB with all-zero 4 KiB blocks
/// left out by a sparse file. Without a trailer to anchor it, it is tried
/// only under a header that looks like a compressed page's.
fn sparse_zip(w: &[u8], offset: u64, stored: u32, scratch: &mut Scratch) -> Option<PageRecord> {
    if stored == 0 || stored == fil::BUF_NO_CHECKSUM_MAGIC {
        return None;
    }
    if be_u64(w, fil::FIL_PAGE_FILE_FLUSH_LSN) != Some(0) || !plausible_links(w) {
        return None;
    }
    const G: usize = 4096;
    for size in [8192usize, 16384] {
        let n = size / G;
        let inner = n - 1; // the first block holds the header; any other may be a hole
        for k in 1..=inner {
            let phys = (n - k) * G;
            let Some(pw) = w.get(..phys) else { continue };
            for mask in ZeroSets::new(inner, k) {
                let holes = mask << 1;
                assemble(pw, size, G, holes, &mut scratch.page);
                let (crc, adler) = checksum::zip_checksums(&scratch.page);
                let kind = if crc == stored {
                    ChecksumKind::Crc32c
                } else if adler == stored {
                    ChecksumKind::Innodb
                } else {
                    continue;
                };
                let reason = Reason::Holes {
                    mask: holes,
                    granularity: G as u32,
                };
                let mut r = record(
                    &scratch.page,
                    offset,
                    phys,
                    0,
                    kind,
                    Status::Reassembled,
                    reason,
                );
                r.logical_size = 0;
                return Some(r);
            }
        }
    }
    None
}

/// Lays the physical blocks of `pw` into a `size`-byte page, zero where
/// `holes` has a bit set.
pub(crate) fn assemble(pw: &[u8], size: usize, g: usize, holes: u64, out: &mut Vec<u8>) {
    out.clear();
    out.resize(size, 0);
    let mut src = 0;
    for i in 0..size / g {
        if holes >> i & 1 == 0 {
            out[i * g..(i + 1) * g].copy_from_slice(&pw[src..src + g]);
            src += g;
        }
    }
}

/// Sets of `k` positions among `n` (n <= 62), as bit masks: every
/// combination when there are few, else the ones made of one or two
/// contiguous runs (free space inside an index page is contiguous).
struct ZeroSets {
    items: std::vec::IntoIter<u64>,
}

impl ZeroSets {
    fn new(n: usize, k: usize) -> ZeroSets {
        let mut v = Vec::new();
        if k == 0 || k > n || n > 62 {
            return ZeroSets {
                items: v.into_iter(),
            };
        }
        if binomial(n, k) <= SPARSE_BUDGET as u64 {
            let mut mask: u64 = (1 << k) - 1;
            let limit = 1u64 << n;
            while mask < limit {
                v.push(mask);
                // Gosper's hack: next integer with the same popcount.
                let c = mask & mask.wrapping_neg();
                let r = mask + c;
                mask = (((r ^ mask) >> 2) / c) | r;
            }
        } else {
            let run = |start: usize, len: usize| ((1u64 << len) - 1) << start;
            for s in 0..=n - k {
                v.push(run(s, k));
            }
            'outer: for k1 in 1..k {
                let k2 = k - k1;
                for s1 in 0..n {
                    for s2 in s1 + k1 + 1..n {
                        if s1 + k1 > n || s2 + k2 > n {
                            continue;
                        }
                        v.push(run(s1, k1) | run(s2, k2));
                        if v.len() > SPARSE_BUDGET {
                            break 'outer;
                        }
                    }
                }
            }
        }
        ZeroSets {
            items: v.into_iter(),
        }
    }
}

impl Iterator for ZeroSets {
    type Item = u64;
    fn next(&mut self) -> Option<u64> {
        self.items.next()
    }
}

fn binomial(n: usize, k: usize) -> u64 {
    let k = k.min(n - k);
    let mut r: u64 = 1;
    for i in 0..k {
        r = r.saturating_mul((n - i) as u64) / (i as u64 + 1);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn may_be_page_is_what_detect_looks_at() {
        let mut n = 0;
        for t in 0..=u16::MAX {
            let expect = fil::known_type(t)
                || (t & fil::FIL_PAGE_COMPRESS_FCRC32_MARKER != 0
                    && pc::fcrc32_physical_size(t).is_some());
            assert_eq!(may_be_page(t), expect, "type {t}");
            n += usize::from(expect);
        }
        // The known types (fil.rs) and 255 full_crc32 compressed sizes.
        assert!(n > 255 && n < 300, "{n}");
        // A page of random bytes at a type that cannot start a page: None.
        let mut w = vec![0x5au8; MAX_PAGE];
        w[24..26].copy_from_slice(&0x1234u16.to_be_bytes());
        assert!(!may_be_page(0x1234));
        assert!(detect(&w, 0, &mut Scratch::default()).is_none());
    }

    #[test]
    fn zero_sets_enumerate_all_small_combinations() {
        let v: Vec<u64> = ZeroSets::new(4, 2).collect();
        assert_eq!(v.len(), 6);
        assert!(v.iter().all(|m| m.count_ones() == 2 && *m < 16));
    }

    #[test]
    fn zero_sets_large_fall_back_to_runs() {
        let v: Vec<u64> = ZeroSets::new(62, 20).collect();
        assert!(!v.is_empty() && v.len() <= SPARSE_BUDGET + 1);
        assert!(v.iter().all(|m| m.count_ones() == 20));
    }
}
