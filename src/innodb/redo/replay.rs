//! Crash recovery in memory: the log from the checkpoint to its end,
//! mini-transaction by mini-transaction, applied to the pages it names.
//!
//! As `recv_recover_page` does, a page's records are applied only when
//! their mini-transaction started at or after the page's own FIL_PAGE_LSN
//! (an older one is already in the page), on the newest good copy of the
//! page, or on a zero page after INIT_PAGE. The result carries the end LSN
//! of the last mini-transaction applied as its FIL_PAGE_LSN and a fresh
//! checksum. Only touched pages are held, up to [`Options::max_pages`].

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::innodb::redo::apply::{apply, Applied};
use crate::innodb::redo::header::{self, Checkpoint, HeaderError, LogHeader, START_OFFSET};
use crate::innodb::redo::mtr::{self, End, LogSource, Ring};
use crate::innodb::redo::record::{self, Item, FILE_DELETE, FILE_RENAME};

/// A page as the store has it, before the log.
pub struct Base {
    /// The logical page (uncompressed), of its page size.
    pub bytes: Vec<u8>,
    /// Its FIL_PAGE_LSN.
    pub lsn: u64,
    /// How the page is laid out and checksummed.
    pub format: PageFormat,
}

/// The page formats the log is applied to, and the checksum written after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PageFormat {
    /// MariaDB full_crc32 (the 10.5+ default).
    FullCrc32,
    /// The classic layout with the crc32 checksum.
    Crc32,
    /// A ROW_FORMAT=COMPRESSED page (its physical bytes: the log writes to
    /// the compressed frame) with the crc32 or the innodb (adler32)
    /// `page_zip_calc_checksum`.
    ZipCrc32,
    ZipInnodb,
}

impl PageFormat {
    pub fn is_zip(self) -> bool {
        matches!(self, PageFormat::ZipCrc32 | PageFormat::ZipInnodb)
    }
}

/// What the page store has for a page the log names.
pub enum Lookup {
    Page(Base),
    /// No good copy.
    Missing,
    /// A copy in a form the log cannot be applied to (ROW_FORMAT=COMPRESSED).
    Unsupported(&'static str),
}

/// The pages the log is applied to.
pub trait BasePages {
    fn lookup(&self, space: u32, page: u32) -> Lookup;
    /// Page size (physical, for ROW_FORMAT=COMPRESSED) and format of a
    /// tablespace, for pages the log creates from nothing.
    fn space_format(&self, space: u32) -> Option<(usize, PageFormat)>;
}

pub struct Options {
    /// Most pages held in memory at once (each one page size).
    pub max_pages: usize,
    /// How far past a failed mini-transaction to look for a valid one (to
    /// tell a damaged log from its end).
    pub resync_limit: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_pages: 1 << 18,
            resync_limit: 1 << 20,
        }
    }
}

/// What was applied, for the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub creator: String,
    pub log_size: u64,
    pub first_lsn: u64,
    pub checkpoint_lsn: u64,
    /// Where the log ends (the first LSN not applied).
    pub end_lsn: u64,
    /// Why it ends there.
    pub end: &'static str,
    /// Bytes of log read from the checkpoint to the end.
    pub log_bytes: u64,
    pub mtrs: u64,
    /// Page records applied.
    pub records: u64,
    /// Page records already in their page (page LSN newer).
    pub records_already_applied: u64,
    pub pages_redone: u64,
    /// Pages the log names that have no good copy and that it does not
    /// create: their records are left out.
    pub pages_skipped: u64,
    /// Pages whose records could not be applied (the page did not match).
    pub pages_failed: u64,
    pub pages_freed: u64,
    /// Tablespace file names from FILE_MODIFY / FILE_CREATE / FILE_RENAME.
    pub files: BTreeMap<u32, String>,
    pub warnings: Vec<String>,
}

/// A page brought up to date.
pub struct RedonePage {
    pub space: u32,
    pub page: u32,
    pub bytes: Vec<u8>,
    /// FIL_PAGE_LSN of the copy the log was applied to (0: created).
    pub from_lsn: u64,
    pub records: u32,
    pub format: PageFormat,
}

pub struct Outcome {
    pub summary: Summary,
    pub pages: Vec<RedonePage>,
}

const MAX_WARNINGS: usize = 40;

#[derive(Default)]
struct PageState {
    buf: Option<Vec<u8>>,
    base_lsn: u64,
    from_lsn: u64,
    format: Option<PageFormat>,
    records: u32,
    end_lsn: u64,
    missing: bool,
    unsupported: bool,
    skipped: bool,
    failed: bool,
    freed: bool,
}

fn warn(s: &mut Summary, w: String) {
    if s.warnings.len() < MAX_WARNINGS {
        s.warnings.push(w);
    } else if s.warnings.len() == MAX_WARNINGS {
        s.warnings.push("(more warnings left out)".to_string());
    }
}

/// Reads the log header and checkpoint.
pub fn open(src: &dyn LogSource) -> Result<(LogHeader, Checkpoint), HeaderError> {
    let mut head = vec![0u8; START_OFFSET as usize];
    let n = src.read_at(0, &mut head);
    head.truncate(n);
    let h = header::parse_header(&head)?;
    if h.encrypted {
        return Err(HeaderError::Encrypted);
    }
    let b1 = head.get(4096..4096 + 64).unwrap_or(&[]);
    let b2 = head.get(8192..8192 + 64).unwrap_or(&[]);
    let c = header::newest_checkpoint(b1, b2, h.first_lsn)?;
    Ok((h, c))
}

/// Applies the log in `src` to the pages of `base`.
pub fn replay(
    src: &dyn LogSource,
    base: &dyn BasePages,
    opts: &Options,
) -> Result<Outcome, HeaderError> {
    let (h, cp) = open(src)?;
    let mut s = Summary {
        creator: h.creator.clone(),
        log_size: src.size(),
        first_lsn: h.first_lsn,
        checkpoint_lsn: cp.lsn,
        ..Default::default()
    };
    let mut ring = Ring::new(src, h.first_lsn).ok_or(HeaderError::Invalid("log file too short"))?;
    let mut pages: HashMap<(u32, u32), PageState> = HashMap::new();
    let mut lsn = cp.lsn;
    let end = loop {
        let len = match mtr::scan(&mut ring, lsn) {
            Ok(len) => len,
            Err(e) => break e,
        };
        let mtr_end = lsn + (len + mtr::TAIL) as u64;
        let recs = ring.bytes(lsn, len);
        match record::parse(recs, 65536) {
            Err(m) => warn(
                &mut s,
                format!(
                    "redo log: malformed record ({}) in the mini-transaction at LSN {lsn} \
                     (log file offset {}): that mini-transaction is left out",
                    m.what,
                    START_OFFSET + (lsn - h.first_lsn) % ring.capacity() + m.at as u64
                ),
            ),
            Ok(items) => {
                let mut last_offset = 0usize;
                for it in items {
                    match it {
                        Item::Page(r) => {
                            let st = pages
                                .entry((r.space, r.page))
                                .or_insert_with(|| load(base, r.space, r.page));
                            apply_one(&mut s, st, &r, lsn, mtr_end, base, &mut last_offset);
                        }
                        Item::File {
                            op,
                            space,
                            name,
                            name2,
                        } => {
                            let n = if op == FILE_RENAME { name2 } else { Some(name) };
                            match (op, n) {
                                (FILE_DELETE, _) => {
                                    s.files.remove(&space);
                                }
                                (_, Some(n)) => {
                                    s.files
                                        .insert(space, String::from_utf8_lossy(n).into_owned());
                                }
                                _ => {}
                            }
                        }
                        Item::Checkpoint(_) => {}
                    }
                }
            }
        }
        s.mtrs += 1;
        lsn = mtr_end;
        if pages.len() > opts.max_pages {
            warn(
                &mut s,
                format!(
                    "redo log: more than {} pages touched; the log is applied up to LSN {lsn} \
                     only (memory bound)",
                    opts.max_pages
                ),
            );
            break End::Truncated;
        }
    };
    s.end_lsn = lsn;
    s.log_bytes = lsn - cp.lsn;
    s.end = match end {
        End::Empty => "end of the written log",
        End::Sequence => "tail of an earlier pass over the file",
        End::Checksum => "checksum mismatch (torn write at the end)",
        End::Truncated => "end of the readable log",
        End::Malformed => "malformed record length",
    };
    if matches!(end, End::Checksum | End::Malformed | End::Sequence) {
        if let Some(next) = mtr::resync(&mut ring, lsn, opts.resync_limit) {
            let off = ring.offset(lsn);
            let why = s.end;
            warn(
                &mut s,
                format!(
                    "redo log damaged: {} in the mini-transaction at LSN {lsn} (log file offset \
                     {off}); valid log follows at LSN {next}, but recovery stops at the damage, \
                     as InnoDB does: the log after it is not used",
                    why
                ),
            );
            s.end = "damaged mini-transaction";
        }
    }
    let mut out = Vec::new();
    let mut keys: Vec<(u32, u32)> = pages.keys().copied().collect();
    keys.sort_unstable();
    let mut skipped = Vec::new();
    for k in keys {
        let st = pages.remove(&k).expect("key from the map");
        if st.freed {
            s.pages_freed += 1;
        }
        if st.failed {
            s.pages_failed += 1;
            continue;
        }
        if st.skipped {
            s.pages_skipped += 1;
            skipped.push(k);
        }
        let Some(mut buf) = st.buf else { continue };
        if st.records == 0 || st.freed {
            continue;
        }
        let format = st.format.unwrap_or(PageFormat::FullCrc32);
        finish_page(&mut buf, st.end_lsn, format);
        s.pages_redone += 1;
        out.push(RedonePage {
            space: k.0,
            page: k.1,
            bytes: buf,
            from_lsn: st.from_lsn,
            records: st.records,
            format,
        });
    }
    if !skipped.is_empty() {
        let list: Vec<String> = skipped
            .iter()
            .take(10)
            .map(|(a, b)| format!("{a}:{b}"))
            .collect();
        warn(
            &mut s,
            format!(
                "redo log names {} page(s) that are not in the image and that it does not \
                 create; their records are left out (space:page {}{})",
                skipped.len(),
                list.join(", "),
                if skipped.len() > 10 { ", ..." } else { "" }
            ),
        );
    }
    Ok(Outcome {
        summary: s,
        pages: out,
    })
}

fn load(base: &dyn BasePages, space: u32, page: u32) -> PageState {
    match base.lookup(space, page) {
        Lookup::Page(b) => {
            let size = b.bytes.len();
            let min = if b.format.is_zip() { 1024 } else { 4096 };
            if !(min..=65536).contains(&size) || !size.is_power_of_two() {
                return PageState {
                    unsupported: true,
                    ..Default::default()
                };
            }
            PageState {
                base_lsn: b.lsn,
                from_lsn: b.lsn,
                format: Some(b.format),
                buf: Some(b.bytes),
                ..Default::default()
            }
        }
        Lookup::Missing => PageState {
            missing: true,
            ..Default::default()
        },
        Lookup::Unsupported(_) => PageState {
            unsupported: true,
            ..Default::default()
        },
    }
}

fn apply_one(
    s: &mut Summary,
    st: &mut PageState,
    r: &record::PageRec<'_>,
    start_lsn: u64,
    end_lsn: u64,
    base: &dyn BasePages,
    last_offset: &mut usize,
) {
    if st.failed || st.unsupported {
        return;
    }
    if start_lsn < st.base_lsn {
        s.records_already_applied += 1;
        return;
    }
    if r.op == record::INIT_PAGE && st.buf.is_none() {
        let (size, format) = base
            .space_format(r.space)
            .unwrap_or((16384, PageFormat::FullCrc32));
        st.buf = Some(vec![0u8; size]);
        st.format = Some(format);
        st.freed = false;
        st.skipped = false;
    }
    let Some(buf) = st.buf.as_mut() else {
        if st.missing && r.op != record::FREE_PAGE {
            st.skipped = true;
        }
        return;
    };
    let zip = st.format.is_some_and(PageFormat::is_zip);
    match apply(buf, r, last_offset, zip) {
        Ok(Applied::Changed) => {
            st.records += 1;
            st.end_lsn = end_lsn;
            st.freed = false;
            s.records += 1;
        }
        Ok(Applied::Freed) => {
            st.freed = true;
            st.records += 1;
            st.end_lsn = end_lsn;
            s.records += 1;
        }
        Ok(Applied::Ignored) => {}
        Err(e) => {
            st.failed = true;
            warn(
                s,
                format!(
                    "redo log: record for page {}:{} in the mini-transaction at LSN {start_lsn} \
                     not applied ({e}); the page is left as the image has it",
                    r.space, r.page
                ),
            );
        }
    }
}

/// Sets FIL_PAGE_LSN (and the trailer) to `lsn` and recomputes the
/// checksum, as `buf_flush_init_for_writing` does for each format.
pub fn finish_page(page: &mut [u8], lsn: u64, format: PageFormat) {
    use crate::innodb::checksum::{crc32_page, crc32c, zip_checksums};
    let n = page.len();
    page[16..24].copy_from_slice(&lsn.to_be_bytes());
    match format {
        PageFormat::FullCrc32 => {
            page[n - 8..n - 4].copy_from_slice(&(lsn as u32).to_be_bytes());
            let c = crc32c(&page[..n - 4]);
            page[n - 4..].copy_from_slice(&c.to_be_bytes());
        }
        PageFormat::Crc32 => {
            page[n - 8..].copy_from_slice(&lsn.to_be_bytes());
            let c = crc32_page(page).to_be_bytes();
            page[..4].copy_from_slice(&c);
            page[n - 8..n - 4].copy_from_slice(&c);
        }
        PageFormat::ZipCrc32 | PageFormat::ZipInnodb => {
            let (crc, adler) = zip_checksums(page);
            let c = if format == PageFormat::ZipCrc32 {
                crc
            } else {
                adler
            };
            page[..4].copy_from_slice(&c.to_be_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ib_logfile0` of the `crash` fixture (MariaDB 10.11.19 killed with
    /// SIGKILL in the middle of a load).
    fn crash_log() -> Vec<u8> {
        let p =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/crash/datadir.tar.zst");
        let dec = zstd::stream::read::Decoder::new(std::fs::File::open(p).unwrap()).unwrap();
        let mut ar = tar::Archive::new(dec);
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            if e.path().unwrap().to_string_lossy() == "ib_logfile0" {
                let mut v = Vec::new();
                std::io::Read::read_to_end(&mut e, &mut v).unwrap();
                return v;
            }
        }
        panic!("no ib_logfile0 in the crash fixture");
    }

    #[test]
    fn header_and_newest_checkpoint_of_a_real_log() {
        let log = crash_log();
        assert_eq!(log.len(), 4 << 20);
        let (h, cp) = open(&log).unwrap();
        assert_eq!(h.format, header::FORMAT_10_8);
        assert_eq!(h.first_lsn, 12288);
        assert_eq!(h.creator, "MariaDB 10.11.19");
        assert!(!h.encrypted);
        // Block 1 (4096) holds 0xae1a, block 2 (8192) the older 0xad84.
        assert_eq!(cp.lsn, 0xae1a);
        assert_eq!(cp.end_lsn, 0xae1a);
        assert_eq!(cp.at, header::CHECKPOINT_1);
        // A damaged header checksum is refused; a damaged newest checkpoint
        // gives way to the other one.
        let mut bad = log.clone();
        bad[20] ^= 1;
        assert_eq!(open(&bad).unwrap_err(), HeaderError::Checksum);
        let mut bad = log.clone();
        bad[4096 + 3] ^= 1;
        assert_eq!(open(&bad).unwrap().1.lsn, 0xad84);
    }

    #[test]
    fn every_mini_transaction_of_a_real_log_parses() {
        let log = crash_log();
        let (h, cp) = open(&log).unwrap();
        let mut ring = Ring::new(&log, h.first_lsn).unwrap();
        let mut lsn = cp.lsn;
        let mut mtrs = 0;
        let mut kinds = BTreeMap::new();
        let mut files = BTreeMap::new();
        let mut checkpoints = 0;
        let end = loop {
            let len = match mtr::scan(&mut ring, lsn) {
                Ok(l) => l,
                Err(e) => break e,
            };
            for it in record::parse(ring.bytes(lsn, len), 65536).unwrap() {
                match it {
                    Item::Page(r) => *kinds.entry(r.op).or_insert(0u64) += 1,
                    Item::File { space, name, .. } => {
                        files.insert(space, String::from_utf8_lossy(name).into_owned());
                    }
                    Item::Checkpoint(_) => checkpoints += 1,
                }
            }
            mtrs += 1;
            lsn += (len + mtr::TAIL) as u64;
        };
        // The first mini-transaction is the checkpoint's FILE_CHECKPOINT.
        assert!(checkpoints >= 1);
        assert_eq!(end, End::Empty);
        assert_eq!(mtrs, 9245);
        assert_eq!(lsn, 1_056_242);
        assert_eq!(files.get(&5).map(String::as_str), Some("./crash/load.ibd"));
        // A load of inserts: WRITE, EXTENDED (inserts, undo), INIT_PAGE, MEMSET.
        for op in [record::WRITE, record::EXTENDED, record::INIT_PAGE] {
            assert!(kinds.get(&op).copied().unwrap_or(0) > 0, "{kinds:?}");
        }
    }

    /// Pages of pseudo-random bytes (or, with `zero`, the real page-less
    /// case): every operation meets pages that do not fit it.
    struct Junk {
        seed: u64,
    }

    impl BasePages for Junk {
        fn lookup(&self, space: u32, page: u32) -> Lookup {
            let mut x = self.seed ^ ((space as u64) << 32 | page as u64) | 1;
            let mut bytes = vec![0u8; 16384];
            for b in bytes.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            // Some of them look like index pages, to get past the first checks.
            if x.is_multiple_of(2) {
                bytes[24..26].copy_from_slice(&17855u16.to_be_bytes());
                bytes[4..8].copy_from_slice(&page.to_be_bytes());
            }
            bytes[16..24].fill(0);
            Lookup::Page(Base {
                bytes,
                lsn: 0,
                format: if x.is_multiple_of(3) {
                    PageFormat::FullCrc32
                } else {
                    PageFormat::Crc32
                },
            })
        }
        fn space_format(&self, _: u32) -> Option<(usize, PageFormat)> {
            Some((16384, PageFormat::FullCrc32))
        }
    }

    #[test]
    fn junk_pages_and_damaged_logs_never_panic() {
        let log = crash_log();
        // The real log on junk pages: records fail, pages are left out,
        // no panic.
        for seed in 1..4 {
            let o = replay(&log, &Junk { seed }, &Options::default()).unwrap();
            assert!(o.summary.pages_failed > 0);
            assert_eq!(o.summary.end_lsn, 1_056_242);
        }
        // Damaged logs: one byte changed at 300 places after the checkpoint.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..300 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = 0xae1a + (x % (1_056_242 - 0xae1a)) as usize;
            let mut bad = log.clone();
            bad[at] ^= (x >> 32) as u8 | 1;
            let o = replay(&bad, &Junk { seed: x }, &Options::default()).unwrap();
            assert!(o.summary.end_lsn <= at as u64 + 1 || o.summary.end_lsn == 1_056_242);
        }
    }
}
