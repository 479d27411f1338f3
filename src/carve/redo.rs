//! The redo log applied to the carved pages, after the scan: the pages a
//! crashed server had changed but not yet written are brought up to date
//! in memory, the way its own crash recovery would
//! ([`crate::innodb::redo`]).
//!
//! The log is found, in this order: a file given with `--redo`; files named
//! `ib_logfile0` in the image's filesystems; log headers the scan found by
//! their magic and checksum (a log whose file entry is lost, read as if
//! its bytes followed the header contiguously). Of several, the one with
//! the newest checkpoint is used. The redone pages live in the image's
//! memory region ([`crate::image::memory`]) and are added to the page
//! store as copies with status `redone` (newest LSN wins, as always).

use std::collections::HashMap;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use serde::Serialize;

use crate::carve::detect::{detect, Detection, Scratch};
use crate::carve::pages::{is_zip, StorePages};
use crate::carve::store::PageStore;
use crate::carve::{PageRecord, Reason, Status};
use crate::image::{memory, Image};
use crate::innodb::checksum::ChecksumKind;
use crate::innodb::redo::{self, BasePages, LogSource, Lookup, PageFormat, Summary};
use crate::layout::files::{self, Found};
use crate::layout::fs::Inode;
use crate::layout::Layout;

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct RedoOptions {
    /// Apply the redo log at all (`--no-redo` turns it off).
    pub enabled: bool,
    /// A log file given separately (`--redo FILE`).
    pub log_file: Option<PathBuf>,
}

impl Default for RedoOptions {
    fn default() -> RedoOptions {
        RedoOptions {
            enabled: true,
            log_file: None,
        }
    }
}

/// What was done with the redo log, for `scan --json` and report.json.
#[derive(Debug, Clone, Serialize)]
pub struct RedoReport {
    /// Where the log was read: a path, `image:/path/ib_logfile0`, or
    /// `carved at <offset>`.
    pub log: String,
    /// Why the log could not be used, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(flatten)]
    pub summary: Summary,
}

impl RedoReport {
    /// Whether there is anything to tell: records applied, warnings, or
    /// an error.
    pub fn worth_telling(&self) -> bool {
        self.error.is_some() || self.summary.records > 0 || !self.summary.warnings.is_empty()
    }

    /// The one line for stderr.
    pub fn line(&self) -> String {
        if let Some(e) = &self.error {
            return format!("redo log {}: not applied: {e}", self.log);
        }
        let s = &self.summary;
        format!(
            "redo log {}: checkpoint LSN {} to end LSN {} ({} bytes, {} mini-transactions): \
             {} records applied to {} pages, {} pages skipped, {} warnings",
            self.log,
            s.checkpoint_lsn,
            s.end_lsn,
            s.log_bytes,
            s.mtrs,
            s.records,
            s.pages_redone,
            s.pages_skipped + s.pages_failed,
            s.warnings.len()
        )
    }
}

/// A log file on the host.
struct HostFile {
    file: std::fs::File,
    size: u64,
}

impl LogSource for HostFile {
    fn size(&self) -> u64 {
        self.size
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> usize {
        let mut done = 0;
        while done < buf.len() {
            match self.file.read_at(&mut buf[done..], off + done as u64) {
                Ok(0) | Err(_) => break,
                Ok(n) => done += n,
            }
        }
        done
    }
}

/// A log file of the image's filesystem, read through its block map.
struct ImageFile<'a> {
    image: &'a Image,
    inode: Inode,
}

impl LogSource for ImageFile<'_> {
    fn size(&self) -> u64 {
        self.inode.size
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> usize {
        files::read_at(self.image, &self.inode, off, buf)
    }
}

/// A carved log header: the bytes from it to the end of the image.
struct Carved<'a> {
    image: &'a Image,
    start: u64,
}

impl LogSource for Carved<'_> {
    fn size(&self) -> u64 {
        self.image.size().saturating_sub(self.start)
    }
    fn read_at(&self, off: u64, buf: &mut [u8]) -> usize {
        let b = self.image.bytes(self.start.saturating_add(off), buf.len());
        buf[..b.len()].copy_from_slice(&b);
        b.len()
    }
}

/// Files named `ib_logfile0` in the layout's filesystems.
fn log_files(layout: &Layout) -> Vec<(String, Inode)> {
    let mut out = Vec::new();
    files::each_regular_file(layout, &mut |_, f: &Found, inode| {
        if f.entry.name == b"ib_logfile0" && inode.size > redo::header::START_OFFSET {
            out.push((format!("image:{}", files::lossy(&f.path)), inode.clone()));
        }
    });
    out
}

/// The pages of the store as the log's starting point.
struct StoreBase<'a> {
    pages: StorePages<'a>,
    /// Per space: its page size (physical for ROW_FORMAT=COMPRESSED) and
    /// format, from the most common of its good copies.
    formats: HashMap<u32, (usize, PageFormat)>,
}

/// The format a good copy is written in.
fn format_of(p: &PageRecord, space_fcrc32: bool) -> PageFormat {
    match p.checksum {
        ChecksumKind::Innodb if is_zip(p) => PageFormat::ZipInnodb,
        _ if is_zip(p) => PageFormat::ZipCrc32,
        ChecksumKind::FullCrc32 => PageFormat::FullCrc32,
        ChecksumKind::Compressed if space_fcrc32 => PageFormat::FullCrc32,
        _ => PageFormat::Crc32,
    }
}

impl<'a> StoreBase<'a> {
    fn new(image: &'a Image, store: &'a PageStore) -> StoreBase<'a> {
        let mut fcrc: HashMap<u32, bool> = HashMap::new();
        for p in &store.pages {
            if p.checksum == ChecksumKind::FullCrc32 {
                fcrc.insert(p.space_id, true);
            }
        }
        let mut counts: HashMap<u32, HashMap<(usize, PageFormat), u64>> = HashMap::new();
        for p in &store.pages {
            if p.status == Status::Damaged {
                continue;
            }
            let f = format_of(p, fcrc.contains_key(&p.space_id));
            let size = if f.is_zip() {
                p.phys_size
            } else {
                p.logical_size
            };
            if size == 0 {
                continue;
            }
            *counts
                .entry(p.space_id)
                .or_default()
                .entry((size as usize, f))
                .or_default() += 1;
        }
        let formats = counts
            .into_iter()
            .filter_map(|(s, m)| Some((s, m.into_iter().max_by_key(|&(k, n)| (n, k.0))?.0)))
            .collect();
        StoreBase {
            pages: StorePages::new(image, store),
            formats,
        }
    }
}

impl BasePages for StoreBase<'_> {
    fn lookup(&self, space: u32, page: u32) -> Lookup {
        let Some(p) = self
            .pages
            .store
            .copies(space, page)
            .find(|p| p.status != Status::Damaged)
        else {
            return Lookup::Missing;
        };
        let space_fcrc32 = self
            .formats
            .get(&space)
            .is_some_and(|f| f.1 == PageFormat::FullCrc32);
        let format = format_of(p, space_fcrc32);
        let bytes = if format.is_zip() {
            // The log writes to the compressed frame: the bytes as stored
            // (the zero blocks of a sparse copy put back).
            let b = self.pages.image.bytes(p.offset, p.phys_size as usize);
            if b.len() != p.phys_size as usize {
                return Lookup::Missing;
            }
            match (p.status, p.reason) {
                (Status::Reassembled, Reason::Holes { mask, granularity }) => {
                    let g = granularity as usize;
                    if g == 0 {
                        return Lookup::Missing;
                    }
                    let size = (b.len() / g + mask.count_ones() as usize) * g;
                    let mut out = Vec::new();
                    crate::carve::detect::assemble(&b, size, g, mask, &mut out);
                    std::borrow::Cow::Owned(out)
                }
                _ => b,
            }
        } else {
            match self.pages.bytes(p) {
                Some(b) => b,
                None => return Lookup::Missing,
            }
        };
        Lookup::Page(redo::Base {
            lsn: crate::bytes::be_u64(&bytes, 16).unwrap_or(p.lsn),
            bytes: bytes.into_owned(),
            format,
        })
    }
    fn space_format(&self, space: u32) -> Option<(usize, PageFormat)> {
        self.formats.get(&space).copied()
    }
}

/// Finds the redo log, applies it to the pages of `store`, and adds the
/// redone pages to `store` (their bytes in `image`'s memory region).
/// `None` when redo is off or no log was found.
pub fn apply(
    image: &Image,
    layout: Option<&Layout>,
    carved: &[u64],
    store: &mut PageStore,
    opts: &RedoOptions,
) -> Option<RedoReport> {
    if !opts.enabled {
        return None;
    }
    // The candidates, strongest source first.
    let mut sources: Vec<(String, Box<dyn LogSource + '_>)> = Vec::new();
    if let Some(path) = &opts.log_file {
        let name = path.display().to_string();
        match std::fs::File::open(path).and_then(|f| Ok((f.metadata()?.len(), f))) {
            Ok((size, file)) => sources.push((name, Box::new(HostFile { file, size }))),
            Err(e) => {
                return Some(RedoReport {
                    log: name,
                    error: Some(format!("cannot open: {e}")),
                    summary: Summary::default(),
                })
            }
        }
    } else {
        if let Some(layout) = layout {
            for (name, inode) in log_files(layout) {
                sources.push((name, Box::new(ImageFile { image, inode })));
            }
        }
        // Carved headers only when no log file was found.
        if sources.is_empty() {
            for &off in carved.iter().take(16) {
                sources.push((
                    format!("carved at {off}"),
                    Box::new(Carved { image, start: off }),
                ));
            }
        }
    }
    if sources.is_empty() {
        return None;
    }
    // The log with the newest valid checkpoint.
    let mut best: Option<(usize, u64)> = None;
    let mut first_error = None;
    for (i, (_, src)) in sources.iter().enumerate() {
        match redo::replay::open(src.as_ref()) {
            Ok((_, cp)) => {
                if best.is_none_or(|(_, l)| cp.lsn > l) {
                    best = Some((i, cp.lsn));
                }
            }
            Err(e) => {
                first_error.get_or_insert((i, e.to_string()));
            }
        }
    }
    let Some((i, _)) = best else {
        let (i, e) = first_error?;
        return Some(RedoReport {
            log: sources[i].0.clone(),
            error: Some(e),
            summary: Summary::default(),
        });
    };
    let (name, src) = &sources[i];
    let base = StoreBase::new(image, store);
    let outcome = match redo::replay(src.as_ref(), &base, &redo::Options::default()) {
        Ok(o) => o,
        Err(e) => {
            return Some(RedoReport {
                log: name.clone(),
                error: Some(e.to_string()),
                summary: Summary::default(),
            })
        }
    };
    let mut summary = outcome.summary;
    let mut data = Vec::new();
    let mut recs = Vec::new();
    let mut scratch = Scratch::default();
    for p in outcome.pages {
        let off = memory::BASE + data.len() as u64;
        match detect(&p.bytes, off, &mut scratch) {
            Some(Detection::Page(mut r)) if r.status == Status::Ok => {
                r.status = Status::Redone;
                r.reason = Reason::Redo {
                    from_lsn: p.from_lsn,
                    records: p.records,
                };
                data.extend_from_slice(&p.bytes);
                recs.push(r);
            }
            _ => summary.warnings.push(format!(
                "redo: page {}:{} did not verify after the log was applied; left out",
                p.space, p.page
            )),
        }
    }
    summary.pages_redone = recs.len() as u64;
    image.attach_memory(data);
    store.add_pages(recs);
    Some(RedoReport {
        log: name.clone(),
        error: None,
        summary,
    })
}
