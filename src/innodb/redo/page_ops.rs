//! The page operations of EXTENDED records, as crash recovery performs
//! them: index page creation (`page0page.cc` `page_create_low`), record
//! insert and delete on ROW_FORMAT=REDUNDANT and COMPACT/DYNAMIC pages
//! (`page0cur.cc` `page_apply_insert_redundant`,
//! `page_apply_insert_dynamic`, `page_apply_delete_redundant`,
//! `page_apply_delete_dynamic`, with the page directory upkeep of
//! `page_dir_split_slot` / `page_dir_balance_slot` and `page_mem_free`),
//! undo page initialisation and append (`trx0undo.cc`
//! `trx_undo_page_init`, `log0recv.cc` `undo_append`).
//!
//! Every operation first checks that the page is consistent where it will
//! touch it (as InnoDB does before applying); any read or write outside the
//! page is an error, never a panic. An error leaves the page partly
//! changed only where InnoDB would too (checks come before changes).

use crate::bytes::be_u16;
use crate::innodb::fil::{FIL_PAGE_INDEX, FIL_PAGE_RTREE, FIL_PAGE_TYPE, FIL_PAGE_UNDO_LOG};

/// Why an operation was not applied.
pub type OpError = &'static str;
type R<T> = Result<T, OpError>;

const PH: usize = 38; // PAGE_HEADER
const N_DIR_SLOTS: usize = PH;
const HEAP_TOP: usize = PH + 2;
const N_HEAP: usize = PH + 4;
const FREE: usize = PH + 6;
const GARBAGE: usize = PH + 8;
const LAST_INSERT: usize = PH + 10;
const DIRECTION_B: usize = PH + 13;
const N_DIRECTION: usize = PH + 14;
const N_RECS: usize = PH + 16;
const LEVEL: usize = PH + 26;
/// PAGE_HEADER_PRIV_END: the header fields page creation resets.
const PRIV_END: usize = 26;
const PAGE_DATA: usize = PH + 36 + 20;

const NEW_INFIMUM: usize = 99;
const NEW_SUPREMUM: usize = 112;
const NEW_SUPREMUM_END: usize = 120;
const OLD_INFIMUM: usize = 101;
const OLD_SUPREMUM: usize = 116;
const OLD_SUPREMUM_END: usize = 125;

/// FIL_PAGE_DATA_END: the directory ends this far before the page end.
const PAGE_DIR: usize = 8;
const SLOT_MAX_OWNED: u32 = 8;
const SLOT_MIN_OWNED: u32 = 4;
const NEW_EXTRA: usize = 5;
const OLD_EXTRA: usize = 6;
const MAX_N_FIELDS: usize = 1023;

const NO_DIRECTION: u8 = 5;
const LEFT: u8 = 1;
const RIGHT: u8 = 2;

const INF_SUP_REDUNDANT: [u8; 31] = [
    0x08, 0x01, 0x00, 0x00, 0x03, 0x00, 0x74, b'i', b'n', b'f', b'i', b'm', b'u', b'm', 0, 0x09,
    0x01, 0x00, 0x08, 0x03, 0x00, 0x00, b's', b'u', b'p', b'r', b'e', b'm', b'u', b'm', 0,
];
const INF_SUP_COMPACT: [u8; 26] = [
    0x01, 0x00, 0x02, 0x00, 0x0d, b'i', b'n', b'f', b'i', b'm', b'u', b'm', 0, 0x01, 0x00, 0x0b,
    0x00, 0x00, b's', b'u', b'p', b'r', b'e', b'm', b'u', b'm',
];

/// Bounds-checked access to a page frame.
struct P<'a>(&'a mut [u8]);

impl P<'_> {
    fn r1(&self, o: usize) -> R<u8> {
        self.0.get(o).copied().ok_or("offset outside the page")
    }
    fn r2(&self, o: usize) -> R<usize> {
        be_u16(self.0, o)
            .map(usize::from)
            .ok_or("offset outside the page")
    }
    fn w1(&mut self, o: usize, v: u8) -> R<()> {
        *self.0.get_mut(o).ok_or("offset outside the page")? = v;
        Ok(())
    }
    fn w2(&mut self, o: usize, v: usize) -> R<()> {
        self.0
            .get_mut(o..o + 2)
            .ok_or("offset outside the page")?
            .copy_from_slice(&(v as u16).to_be_bytes());
        Ok(())
    }
    fn copy_within(&mut self, src: usize, len: usize, dst: usize) -> R<()> {
        let n = self.0.len();
        if src.checked_add(len).is_none_or(|e| e > n) || dst.checked_add(len).is_none_or(|e| e > n)
        {
            return Err("copy outside the page");
        }
        self.0.copy_within(src..src + len, dst);
        Ok(())
    }
    fn put(&mut self, dst: usize, data: &[u8]) -> R<()> {
        self.0
            .get_mut(dst..dst.checked_add(data.len()).ok_or("copy outside the page")?)
            .ok_or("copy outside the page")?
            .copy_from_slice(data);
        Ok(())
    }
    fn zero(&mut self, from: usize, to: usize) -> R<()> {
        self.0
            .get_mut(from..to)
            .ok_or("range outside the page")?
            .fill(0);
        Ok(())
    }
    fn size(&self) -> usize {
        self.0.len()
    }
    fn is_comp(&self) -> R<bool> {
        Ok(self.r2(N_HEAP)? & 0x8000 != 0)
    }
    fn is_leaf(&self) -> R<bool> {
        Ok(self.r2(LEVEL)? == 0)
    }
    fn index_page(&self) -> bool {
        matches!(
            be_u16(self.0, FIL_PAGE_TYPE),
            Some(FIL_PAGE_INDEX | FIL_PAGE_RTREE)
        )
    }
    /// Directory slot `n` (0 = infimum's).
    fn slot(&self, n: usize) -> R<usize> {
        self.size()
            .checked_sub(PAGE_DIR + 2 * (n + 1))
            .ok_or("directory slot outside the page")
    }
    fn n_owned(&self, rec: usize, comp: bool) -> R<u32> {
        let at = rec
            .checked_sub(if comp { 5 } else { 6 })
            .ok_or("record header")?;
        Ok((self.r1(at)? & 0x0f) as u32)
    }
    fn set_n_owned(&mut self, rec: usize, n: u32, comp: bool) -> R<()> {
        let at = rec
            .checked_sub(if comp { 5 } else { 6 })
            .ok_or("record header")?;
        let b = self.r1(at)?;
        self.w1(at, (b & !0x0f) | (n as u8 & 0x0f))
    }
    /// The successor of `rec` (0 when none).
    fn next(&self, rec: usize, comp: bool) -> R<usize> {
        let f = self.r2(rec.checked_sub(2).ok_or("record header")?)?;
        if comp {
            if f == 0 {
                return Ok(0);
            }
            Ok((rec + f) & (self.size() - 1))
        } else {
            Ok(f)
        }
    }
    fn heap_no_new(&self, rec: usize) -> R<usize> {
        Ok(self.r2(rec.checked_sub(4).ok_or("record header")?)? >> 3)
    }
    fn heap_no_old(&self, rec: usize) -> R<usize> {
        Ok(self.r2(rec.checked_sub(5).ok_or("record header")?)? >> 3)
    }
}

/// Old-style header fields read from any byte buffer (the page, or a
/// record header being built).
fn old_n_fields(b: &[u8], rec: usize) -> R<usize> {
    let v = be_u16(b, rec.checked_sub(4).ok_or("record header")?).ok_or("record header")?;
    Ok(((v & 0x7fe) >> 1) as usize)
}
fn old_short(b: &[u8], rec: usize) -> R<bool> {
    let v = b
        .get(rec.checked_sub(3).ok_or("record header")?)
        .ok_or("record header")?;
    Ok(v & 1 != 0)
}
/// `rec_get_data_size_old`: the end offset of the last field.
fn old_data_size(b: &[u8], rec: usize) -> R<usize> {
    let n = old_n_fields(b, rec)?;
    if n == 0 {
        return Ok(0);
    }
    if old_short(b, rec)? {
        let at = rec.checked_sub(OLD_EXTRA + n).ok_or("record header")?;
        Ok((*b.get(at).ok_or("record header")? & 0x7f) as usize)
    } else {
        let at = rec.checked_sub(OLD_EXTRA + 2 * n).ok_or("record header")?;
        Ok((be_u16(b, at).ok_or("record header")? & 0x3fff) as usize)
    }
}

/// `page_create_low`: an empty index page of either format.
pub fn page_create(page: &mut [u8], comp: bool) -> R<()> {
    let mut p = P(page);
    let size = p.size();
    if size < 4096 {
        return Err("page too small");
    }
    p.w2(FIL_PAGE_TYPE, FIL_PAGE_INDEX as usize)?;
    p.zero(PH, PH + PRIV_END)?;
    p.w1(N_DIR_SLOTS + 1, 2)?;
    p.w1(DIRECTION_B, NO_DIRECTION)?;
    let (inf, sup, end) = if comp {
        p.w1(N_HEAP, 0x80)?;
        p.put(PAGE_DATA, &INF_SUP_COMPACT)?;
        (NEW_INFIMUM, NEW_SUPREMUM, NEW_SUPREMUM_END)
    } else {
        p.put(PAGE_DATA, &INF_SUP_REDUNDANT)?;
        (OLD_INFIMUM, OLD_SUPREMUM, OLD_SUPREMUM_END)
    };
    p.w1(N_HEAP + 1, 2)?;
    p.w1(HEAP_TOP + 1, end as u8)?;
    p.zero(end, size - PAGE_DIR)?;
    p.w1(size - PAGE_DIR - 4 + 1, sup as u8)?;
    p.w1(size - PAGE_DIR - 2 + 1, inf as u8)?;
    Ok(())
}

/// `trx_undo_page_init`: an empty undo log page (the undo segment header
/// at 56..86 is kept).
pub fn undo_init(page: &mut [u8]) -> R<()> {
    let mut p = P(page);
    let size = p.size();
    p.w2(FIL_PAGE_TYPE, FIL_PAGE_UNDO_LOG as usize)?;
    p.w2(PH, 0)?;
    p.w2(PH + 2, PH + 18)?;
    p.w2(PH + 4, PH + 18)?;
    // TRX_UNDO_PAGE_NODE: both list pointers FIL_NULL:0.
    for at in [PH + 6, PH + 12] {
        p.put(at, &[0xff, 0xff, 0xff, 0xff, 0, 0])?;
    }
    p.zero(PH + 18 + 30, size.saturating_sub(PAGE_DIR))
}

/// `undo_append`: one undo record at TRX_UNDO_PAGE_FREE, framed by the
/// next and previous record offsets.
pub fn undo_append(page: &mut [u8], data: &[u8]) -> R<()> {
    let mut p = P(page);
    let size = p.size();
    let free = p.r2(PH + 4)?;
    if free < PH + 18 || free + data.len() + 6 >= size - PAGE_DIR {
        return Err("undo page free offset");
    }
    let new_free = free + 4 + data.len();
    p.w2(PH + 4, new_free)?;
    p.w2(free, new_free)?;
    p.put(free + 2, data)?;
    p.w2(free + 2 + data.len(), free)
}

/// `page_dir_split_slot`: the slot at byte `slot` owns 9 records; a new
/// slot takes the lower half.
fn split_slot(p: &mut P<'_>, slot: usize, comp: bool) -> R<()> {
    let n_owned = SLOT_MAX_OWNED + 1;
    let mut rec = p.r2(slot + 2)?;
    for _ in 0..n_owned / 2 {
        rec = p.next(rec, comp)?;
    }
    let n_slots = p.r2(N_DIR_SLOTS)?;
    let last = p
        .size()
        .checked_sub(PAGE_DIR + 2 + 2 * n_slots)
        .ok_or("directory")?;
    if slot < last || last < NEW_SUPREMUM_END {
        return Err("directory");
    }
    p.copy_within(last + 2, slot - last, last)?;
    p.w2(N_DIR_SLOTS, n_slots + 1)?;
    p.w2(slot, rec)?;
    let half = n_owned / 2;
    p.set_n_owned(rec, half, comp)?;
    let up = p.r2(slot - 2)?;
    p.set_n_owned(up, n_owned - half, comp)
}

/// `page_dir_balance_slot`: slot `s` owns too few records; merge it with
/// the next one or take one record over from it.
fn balance_slot(p: &mut P<'_>, s: usize, comp: bool) -> R<()> {
    let n_slots = p.r2(N_DIR_SLOTS)?;
    if s == 0 || s + 1 >= n_slots {
        return Ok(());
    }
    let slot = p.slot(s)?;
    let up_rec = p.r2(slot - 2)?;
    let slot_rec = p.r2(slot)?;
    let up_n = p.n_owned(up_rec, comp)?;
    if up_n <= SLOT_MIN_OWNED {
        p.set_n_owned(slot_rec, 0, comp)?;
        p.set_n_owned(up_rec, up_n + SLOT_MIN_OWNED - 1, comp)?;
        let last = p.slot(n_slots - 1)?;
        p.copy_within(last, slot - last, last + 2)?;
        p.w2(last, 0)?;
        return p.w2(N_DIR_SLOTS, n_slots - 1);
    }
    p.set_n_owned(slot_rec, 0, comp)?;
    let new_rec = p.next(slot_rec, comp)?;
    p.set_n_owned(new_rec, SLOT_MIN_OWNED, comp)?;
    p.set_n_owned(up_rec, up_n - 1, comp)?;
    p.w2(slot, new_rec)
}

/// Finds the directory slot pointing at `owner` (never slot 0).
fn owner_slot(p: &P<'_>, n_slots: usize, owner: usize) -> R<usize> {
    let first = p.slot(0)?;
    let mut s = p.slot(n_slots - 1)?;
    while p.r2(s)? != owner {
        s += 2;
        if s >= first {
            return Err("no directory slot owns the record");
        }
    }
    Ok(s)
}

/// The record that owns `rec` (the first with n_owned != 0 from it on) and
/// its n_owned; `bound` limits the walk.
fn find_owner(
    p: &P<'_>,
    rec: usize,
    comp: bool,
    bound: usize,
    ok: impl Fn(usize) -> bool,
) -> R<(usize, u32)> {
    let mut owner = rec;
    let mut left = bound;
    loop {
        let n = p.n_owned(owner, comp)?;
        if n != 0 {
            return Ok((owner, n));
        }
        owner = p.next(owner, comp)?;
        if !ok(owner) {
            return Err("record list leaves the heap");
        }
        if left == 0 {
            return Err("record list loops");
        }
        left -= 1;
    }
}

/// PAGE_DIRECTION / PAGE_N_DIRECTION after an insert between `prev` and
/// `next` (not on R-tree pages).
fn update_direction(p: &mut P<'_>, last_insert: usize, prev: usize, next: usize) -> R<()> {
    if p.r1(FIL_PAGE_TYPE + 1)? == FIL_PAGE_RTREE as u8 {
        return Ok(());
    }
    let dir = p.r1(DIRECTION_B)?;
    let n_dir = p.r2(N_DIRECTION)?;
    let (d, n) = if last_insert == 0 {
        (NO_DIRECTION, 0)
    } else if last_insert == prev && dir & 7 != LEFT {
        (RIGHT, n_dir + 1)
    } else if last_insert == next && dir & 7 != RIGHT {
        (LEFT, n_dir + 1)
    } else {
        (NO_DIRECTION, 0)
    };
    p.w1(DIRECTION_B, (dir & !7) | d)?;
    p.w2(N_DIRECTION, n)
}

/// INSERT_HEAP_DYNAMIC / INSERT_REUSE_DYNAMIC.
#[allow(clippy::too_many_arguments)]
pub fn insert_dynamic(
    page: &mut [u8],
    page_no: u32,
    reuse: bool,
    prev: usize,
    shift: usize,
    enc_hdr_l: usize,
    hdr_c: usize,
    data_c: usize,
    data: &[u8],
) -> R<()> {
    let mut p = P(page);
    let size = p.size();
    let n_slots = p.r2(N_DIR_SLOTS)?;
    let mut h = p.r2(N_HEAP)?;
    let lit = enc_hdr_l >> 3;
    if n_slots < 2
        || h < (2 | 0x8000)
        || (h & 0x7fff) >= size / NEW_EXTRA
        || (h & 0x7fff) < n_slots
        || !p.index_page()
        || crate::bytes::be_u32(p.0, 4) != Some(page_no)
        || p.r2(NEW_SUPREMUM - 2)? != 0
        || (enc_hdr_l & 4 != 0 && !p.is_leaf()?)
        || lit > data.len()
    {
        return Err("page header");
    }
    let last_slot = p.slot(n_slots - 1)?;
    let heap_bot = NEW_SUPREMUM_END;
    let heap_top = p.r2(HEAP_TOP)?;
    if heap_bot > heap_top || heap_top > last_slot {
        return Err("heap top");
    }
    if p.r2(last_slot)? != NEW_SUPREMUM || p.r2(p.slot(0)?)? != NEW_INFIMUM {
        return Err("directory ends");
    }
    let in_heap = |r: usize| heap_bot + NEW_EXTRA <= r && r <= heap_top;
    let prev_rec = (NEW_INFIMUM + prev) & 0xffff;
    if prev != 0 && !in_heap(prev_rec) {
        return Err("predecessor");
    }
    let next_rec = (prev_rec + p.r2(prev_rec - 2)?) & 0xffff;
    if next_rec != NEW_SUPREMUM && !in_heap(next_rec) {
        return Err("successor");
    }
    let (owner_rec, n_owned) = find_owner(&p, next_rec, true, SLOT_MAX_OWNED as usize, |r| {
        r == NEW_SUPREMUM || in_heap(r)
    })?;
    if n_owned > SLOT_MAX_OWNED {
        return Err("n_owned");
    }
    let owner_slot = owner_slot(&p, n_slots, owner_rec)?;
    if prev_rec < NEW_EXTRA + hdr_c {
        return Err("common header bytes");
    }
    let extra_size = NEW_EXTRA + hdr_c + lit;
    let data_size = data_c + data.len() - lit;
    let mut buf;
    if reuse {
        let free_rec = p.r2(FREE)?;
        if !in_heap(free_rec) {
            return Err("PAGE_FREE");
        }
        buf = free_rec.checked_sub(extra_size).ok_or("PAGE_FREE")?;
        if shift & 1 != 0 {
            buf = buf.checked_sub(shift >> 1).ok_or("shift")?;
        } else {
            buf += shift >> 1;
        }
        if heap_bot > buf || buf + extra_size + data_size > heap_top {
            return Err("reused space");
        }
        let garbage = p.r2(GARBAGE)?;
        if garbage < extra_size + data_size {
            return Err("PAGE_GARBAGE");
        }
        let mut n = p.r2(free_rec - 2)?;
        if n != 0 {
            n = (n + free_rec) & 0xffff;
            if n < NEW_SUPREMUM_END + NEW_EXTRA || heap_top < n {
                return Err("PAGE_FREE list");
            }
        }
        p.w2(FREE, n)?;
        p.w2(GARBAGE, garbage - (extra_size + data_size))?;
        h = p.heap_no_new(free_rec)?;
    } else {
        if heap_top + extra_size + data_size > last_slot {
            return Err("no room on the heap");
        }
        p.w2(N_HEAP, h + 1)?;
        h &= 0x7fff;
        p.w2(HEAP_TOP, heap_top + extra_size + data_size)?;
        buf = heap_top;
    }
    p.put(buf, &data[..lit])?;
    buf += lit;
    p.copy_within(prev_rec - NEW_EXTRA - hdr_c, hdr_c, buf)?;
    buf += hdr_c;
    p.w1(buf, ((enc_hdr_l & 3) << 4) as u8)?;
    p.w1(buf + 1, (h >> 5) as u8)?;
    let mut low = (h & 31) << 3;
    if p.is_leaf()? {
        low |= enc_hdr_l & 4;
    } else {
        low |= 1;
    }
    p.w1(buf + 2, low as u8)?;
    buf += 5;
    p.w2(buf - 2, next_rec.wrapping_sub(buf) & 0xffff)?;
    let last_insert = p.r2(LAST_INSERT)?;
    p.w2(LAST_INSERT, buf)?;
    p.w2(prev_rec - 2, buf.wrapping_sub(prev_rec) & 0xffff)?;
    p.copy_within(prev_rec, data_c, buf)?;
    p.put(buf + data_c, &data[lit..])?;
    p.set_n_owned(owner_rec, n_owned + 1, true)?;
    update_direction(&mut p, last_insert, prev_rec, next_rec)?;
    let n_recs = p.r2(N_RECS)?;
    p.w2(N_RECS, n_recs + 1)?;
    if n_owned == SLOT_MAX_OWNED {
        split_slot(&mut p, owner_slot, true)?;
    }
    Ok(())
}

/// INSERT_HEAP_REDUNDANT / INSERT_REUSE_REDUNDANT.
#[allow(clippy::too_many_arguments)]
pub fn insert_redundant(
    page: &mut [u8],
    page_no: u32,
    reuse: bool,
    prev: usize,
    enc_hdr: usize,
    hdr_c: usize,
    data_c: usize,
    data: &[u8],
) -> R<()> {
    let mut p = P(page);
    let size = p.size();
    let n_slots = p.r2(N_DIR_SLOTS)?;
    let h = p.r2(N_HEAP)?;
    if n_slots < 2
        || h < n_slots
        || h < 2
        || h >= size / OLD_EXTRA
        || !p.index_page()
        || crate::bytes::be_u32(p.0, 4) != Some(page_no)
        || p.r2(OLD_SUPREMUM - 2)? != 0
    {
        return Err("page header");
    }
    let last_slot = p.slot(n_slots - 1)?;
    let heap_bot = OLD_SUPREMUM_END;
    let heap_top = p.r2(HEAP_TOP)?;
    if heap_bot > heap_top || heap_top > last_slot {
        return Err("heap top");
    }
    if p.r2(last_slot)? != OLD_SUPREMUM || p.r2(p.slot(0)?)? != OLD_INFIMUM {
        return Err("directory ends");
    }
    let prev_rec = OLD_INFIMUM + prev;
    if prev != 0 && (heap_bot + OLD_EXTRA + 1 > prev_rec || prev_rec > heap_top) {
        return Err("predecessor");
    }
    let pn_fields = old_n_fields(p.0, prev_rec)?;
    if pn_fields == 0 || pn_fields > MAX_N_FIELDS {
        return Err("predecessor fields");
    }
    let pextra = OLD_EXTRA
        + if old_short(p.0, prev_rec)? {
            pn_fields
        } else {
            2 * pn_fields
        };
    if prev_rec != OLD_INFIMUM && prev_rec < heap_bot + pextra {
        return Err("predecessor header");
    }
    if hdr_c != 0 && prev_rec < heap_bot + hdr_c {
        return Err("common header bytes");
    }
    if prev_rec + old_data_size(p.0, prev_rec)? > heap_top {
        return Err("predecessor data");
    }
    let next_rec = p.r2(prev_rec - 2)?;
    let in_heap = |r: usize| heap_bot + OLD_EXTRA <= r && r <= heap_top;
    if next_rec != OLD_SUPREMUM && !in_heap(next_rec) {
        return Err("successor");
    }
    let short = (enc_hdr >> 2) & 1 != 0;
    let n_fields = (enc_hdr >> 3) + 1;
    if n_fields > MAX_N_FIELDS {
        return Err("field count");
    }
    let extra_size = OLD_EXTRA + if short { n_fields } else { 2 * n_fields };
    let hdr_c = hdr_c + OLD_EXTRA;
    if hdr_c > extra_size || extra_size - hdr_c > data.len() {
        return Err("header bytes");
    }
    let (owner_rec, n_owned) = find_owner(&p, next_rec, false, SLOT_MAX_OWNED as usize, |r| {
        r == OLD_SUPREMUM || in_heap(r)
    })?;
    if n_owned > SLOT_MAX_OWNED {
        return Err("n_owned");
    }
    let owner_slot = owner_slot(&p, n_slots, owner_rec)?;
    // The new record's header, built aside: origin at `extra_size`.
    let mut hdr = vec![0u8; extra_size];
    hdr[..extra_size - hdr_c].copy_from_slice(&data[..extra_size - hdr_c]);
    let from = prev_rec.checked_sub(hdr_c).ok_or("common header bytes")?;
    hdr[extra_size - hdr_c..].copy_from_slice(p.0.get(from..prev_rec).ok_or("header")?);
    let o = extra_size;
    // info bits from the log, n_owned 0
    hdr[o - 6] = ((enc_hdr & 3) << 4) as u8;
    hdr[o - 3] = (hdr[o - 3] & !1) | u8::from(short);
    let nf = u16::from_be_bytes([hdr[o - 4], hdr[o - 3]]);
    let nf = (nf & !0x7fe) | ((n_fields as u16) << 1);
    hdr[o - 4..o - 2].copy_from_slice(&nf.to_be_bytes());
    let data_size = old_data_size(&hdr, o)?;
    if data_c > data_size || extra_size - hdr_c + data_size - data_c != data.len() {
        return Err("record length");
    }
    let set_heap_no = |hdr: &mut [u8], heap_no: usize| {
        let v = u16::from_be_bytes([hdr[o - 5], hdr[o - 4]]);
        let v = (v & !0xfff8) | ((heap_no as u16) << 3);
        hdr[o - 5..o - 3].copy_from_slice(&v.to_be_bytes());
    };
    let mut buf;
    if reuse {
        let free_rec = p.r2(FREE)?;
        if !in_heap(free_rec) {
            return Err("PAGE_FREE");
        }
        let fn_fields = old_n_fields(p.0, free_rec)?;
        let fextra = OLD_EXTRA
            + if old_short(p.0, free_rec)? {
                fn_fields
            } else {
                2 * fn_fields
            };
        if free_rec < heap_bot + fextra {
            return Err("free record header");
        }
        let fdata = old_data_size(p.0, free_rec)?;
        if free_rec + fdata > heap_top || extra_size + data_size > fextra + fdata {
            return Err("free record size");
        }
        let garbage = p.r2(GARBAGE)?;
        if garbage < fextra + fdata {
            return Err("PAGE_GARBAGE");
        }
        buf = free_rec - fextra;
        let next_free = p.r2(free_rec - 2)?;
        if next_free != 0 && (next_free < heap_bot + OLD_EXTRA + 1 || heap_top < next_free) {
            return Err("PAGE_FREE list");
        }
        p.w2(GARBAGE, garbage - extra_size - data_size)?;
        set_heap_no(&mut hdr, p.heap_no_old(free_rec)?);
        p.w2(FREE, next_free)?;
    } else {
        if heap_top + extra_size + data_size > last_slot {
            return Err("no room on the heap");
        }
        set_heap_no(&mut hdr, h);
        p.w2(N_HEAP, h + 1)?;
        p.w2(HEAP_TOP, heap_top + extra_size + data_size)?;
        buf = heap_top;
    }
    let last_insert = p.r2(LAST_INSERT)?;
    p.put(buf, &hdr)?;
    buf += extra_size;
    p.w2(LAST_INSERT, buf)?;
    p.w2(prev_rec - 2, buf)?;
    p.copy_within(prev_rec, data_c, buf)?;
    p.put(buf + data_c, &data[extra_size - hdr_c..])?;
    p.set_n_owned(owner_rec, n_owned + 1, false)?;
    update_direction(&mut p, last_insert, prev_rec, next_rec)?;
    let n_recs = p.r2(N_RECS)?;
    p.w2(N_RECS, n_recs + 1)?;
    if n_owned == SLOT_MAX_OWNED {
        split_slot(&mut p, owner_slot, false)?;
    }
    Ok(())
}

/// `page_mem_free`: the deleted record goes to PAGE_FREE, or PAGE_HEAP_TOP
/// shrinks when it was the last one allocated.
fn mem_free(p: &mut P<'_>, rec: usize, data_size: usize, extra_size: usize) -> R<()> {
    let free = p.r2(FREE)?;
    let n_heap = p.r2(N_HEAP)?.wrapping_sub(1) & 0xffff;
    let comp = n_heap & 0x8000 != 0;
    let top_no = if comp {
        p.heap_no_new(rec)? | 0x8000
    } else {
        p.heap_no_old(rec)?
    };
    let deleting_top = n_heap == top_no;
    let start = rec.checked_sub(extra_size).ok_or("record header")?;
    if deleting_top {
        let heap_top = p.r2(HEAP_TOP)?;
        let savings = heap_top
            .checked_sub(rec + data_size)
            .ok_or("record past the heap top")?;
        p.w2(HEAP_TOP, start)?;
        p.w2(N_HEAP, n_heap)?;
        if savings != 0 {
            let g = p.r2(GARBAGE)?;
            p.w2(GARBAGE, g.wrapping_sub(savings))?;
        }
    } else {
        p.w2(FREE, rec)?;
        let g = p.r2(GARBAGE)?;
        p.w2(GARBAGE, g + extra_size + data_size)?;
    }
    p.w2(LAST_INSERT, 0)?;
    let n = p.r2(N_RECS)?;
    p.w2(N_RECS, n.wrapping_sub(1))?;
    let end = rec + data_size;
    if deleting_top {
        p.zero(start, end)
    } else {
        let next = if free == 0 {
            0
        } else if comp {
            free.wrapping_sub(rec) & 0xffff
        } else {
            free
        };
        p.w2(rec - 2, next)?;
        p.zero(rec, end)
    }
}

/// DELETE_ROW_FORMAT_REDUNDANT: delete the successor of `prev`.
pub fn delete_redundant(page: &mut [u8], page_no: u32, prev: usize) -> R<()> {
    let mut p = P(page);
    let n_slots = p.r2(N_DIR_SLOTS)?;
    let n_recs = p.r2(N_RECS)?;
    if n_recs == 0
        || n_slots < 2
        || !p.index_page()
        || crate::bytes::be_u32(p.0, 4) != Some(page_no)
        || p.r2(OLD_SUPREMUM - 2)? != 0
        || p.is_comp()?
    {
        return Err("page header");
    }
    let slot = p.slot(n_slots - 1)?;
    let prev_rec = OLD_INFIMUM + prev;
    if prev_rec > slot {
        return Err("predecessor");
    }
    let rec = p.r2(prev_rec - 2)?;
    if rec < OLD_SUPREMUM_END + OLD_EXTRA || slot < rec {
        return Err("record");
    }
    let nf = old_n_fields(p.0, rec)?;
    let extra_size = OLD_EXTRA + nf * if old_short(p.0, rec)? { 1 } else { 2 };
    let data_size = old_data_size(p.0, rec)?;
    if rec < OLD_SUPREMUM_END + extra_size || slot < rec + data_size {
        return Err("record size");
    }
    let next = p.r2(rec - 2)?;
    if next != OLD_SUPREMUM && (next < OLD_SUPREMUM_END + OLD_EXTRA || slot < next) {
        return Err("successor");
    }
    let ok = |n: usize| n == OLD_SUPREMUM || (n >= OLD_SUPREMUM_END + OLD_EXTRA && n <= slot);
    let (mut s, owned) = find_owner(&p, rec, false, n_recs, ok)?;
    let owned = owned - 1;
    let first = p.slot(0)?;
    let mut sl = slot;
    while p.r2(sl)? != s {
        sl += 2;
        if sl >= first {
            return Err("no directory slot owns the record");
        }
    }
    if rec == s {
        s = prev_rec;
        p.w2(sl, s)?;
    }
    p.copy_within(rec - 2, 2, prev_rec - 2)?;
    p.set_n_owned(s, owned, false)?;
    mem_free(&mut p, rec, data_size, extra_size)?;
    if owned < SLOT_MIN_OWNED {
        balance_slot(&mut p, (first - sl) / 2, false)?;
    }
    Ok(())
}

/// DELETE_ROW_FORMAT_DYNAMIC: delete the successor of `prev`, whose header
/// is `hdr_size` + 5 bytes and data `data_size` bytes.
pub fn delete_dynamic(
    page: &mut [u8],
    page_no: u32,
    prev: usize,
    hdr_size: usize,
    data_size: usize,
) -> R<()> {
    let mut p = P(page);
    let n_slots = p.r2(N_DIR_SLOTS)?;
    let n_recs = p.r2(N_RECS)?;
    if n_recs == 0
        || n_slots < 2
        || !p.index_page()
        || crate::bytes::be_u32(p.0, 4) != Some(page_no)
        || p.r2(NEW_SUPREMUM - 2)? != 0
        || !p.is_comp()?
    {
        return Err("page header");
    }
    let slot = p.slot(n_slots - 1)?;
    let prev_rec = (NEW_INFIMUM + prev) & 0xffff;
    if prev_rec > slot {
        return Err("predecessor");
    }
    let rec = (prev_rec + p.r2(prev_rec - 2)?) & 0xffff;
    if rec < NEW_SUPREMUM_END + NEW_EXTRA || slot < rec {
        return Err("record");
    }
    let extra_size = NEW_EXTRA + hdr_size;
    if rec < NEW_SUPREMUM_END + extra_size || slot < rec + data_size {
        return Err("record size");
    }
    let next = (rec + p.r2(rec - 2)?) & 0xffff;
    if next != NEW_SUPREMUM && (next < NEW_SUPREMUM_END + NEW_EXTRA || slot < next) {
        return Err("successor");
    }
    let ok = |n: usize| n == NEW_SUPREMUM || (n >= NEW_SUPREMUM_END + NEW_EXTRA && n <= slot);
    let (mut s, owned) = find_owner(&p, rec, true, n_recs, ok)?;
    let owned = owned - 1;
    let first = p.slot(0)?;
    let mut sl = slot;
    while p.r2(sl)? != s {
        sl += 2;
        if sl >= first {
            return Err("no directory slot owns the record");
        }
    }
    if rec == s {
        s = prev_rec;
        p.w2(sl, s)?;
    }
    p.w2(prev_rec - 2, next.wrapping_sub(prev_rec) & 0xffff)?;
    p.set_n_owned(s, owned, true)?;
    mem_free(&mut p, rec, data_size, extra_size)?;
    if owned < SLOT_MIN_OWNED {
        balance_slot(&mut p, (first - sl) / 2, true)?;
    }
    Ok(())
}
