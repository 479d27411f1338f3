//! Finding the page to show: at a byte offset (the carver's detector
//! decides what is there), or a copy of (space, page no) from a carve.

use std::borrow::Cow;

use salvage::carve::detect::{detect, Detection, Scratch, MAX_PAGE};
use salvage::carve::follow::FileIndex;
use salvage::carve::pages::{is_zip, page_bytes_sized, StorePages};
use salvage::carve::store::PageStore;
use salvage::carve::{PageRecord, Reason, Status};
use salvage::image::Image;
use salvage::innodb::fil::FilHeader;
use salvage::innodb::lob::{NoPages, PageSource};
use salvage::innodb::repair::Fix;

use crate::cli::Fatal;

/// The page to show and how it was found.
pub struct Shown<'a> {
    /// Image offset of the page's first byte.
    pub offset: u64,
    /// What the detector or the carver concluded (`None`: not a page).
    pub rec: Option<PageRecord>,
    /// The logical page (shown and decoded).
    pub page: Vec<u8>,
    /// The physical page its checksum covers, and the on-disk bytes when
    /// they differ (a repaired page).
    pub checked: Vec<u8>,
    pub on_disk: Option<Vec<u8>>,
    pub notes: Vec<String>,
    pub source: Box<dyn PageSource + 'a>,
}

/// The page at `off`: what the carver's detector finds there.
pub fn at_offset(image: &Image, off: u64, size: Option<u64>) -> Result<Shown<'static>, Fatal> {
    if off >= image.size() {
        return Err(Fatal(format!(
            "offset {off} (0x{off:x}) is past the end of the image ({} bytes)",
            image.size()
        )));
    }
    let w = image.bytes(off, MAX_PAGE);
    let mut notes = Vec::new();
    let forced = size.map(|s| s as usize);
    if let Some(s) = forced {
        if !(1024..=MAX_PAGE).contains(&s) {
            return Err(Fatal(format!("--size {s}: a page is 1 KiB to 64 KiB")));
        }
    }
    let rec = match detect(&w, off, &mut Scratch::default()) {
        Some(Detection::Page(r)) => Some(r),
        Some(Detection::Candidate(c)) => Some(c.rec),
        None => None,
    };
    let (rec, page) = match rec {
        Some(r) if r.phys_size != 0 => {
            let logical = forced.map(|s| s as u32);
            let page = page_bytes_sized(image, &r, logical)
                .map(Cow::into_owned)
                .unwrap_or_else(|| w[..(r.phys_size as usize).min(w.len())].to_vec());
            (Some(r), page)
        }
        Some(r) => {
            let s = forced.unwrap_or(16384);
            notes.push(format!(
                "no trailer where a page would end: damaged or continued elsewhere; shown as {s} bytes{}",
                if forced.is_some() { "" } else { " (give --size)" }
            ));
            (Some(r), w[..s.min(w.len())].to_vec())
        }
        None => match forced {
            Some(s) => {
                notes.push(format!(
                    "offset {off} (0x{off:x}): not recognised as an InnoDB page; {s} bytes shown"
                ));
                (None, w[..s.min(w.len())].to_vec())
            }
            None => {
                return Err(Fatal(format!(
                    "offset {off} (0x{off:x}): no InnoDB page there (no known page type with a \
                     matching trailer or checksum); give --size to dump the bytes anyway"
                )))
            }
        },
    };
    if page.len() < 1024 {
        return Err(Fatal(format!(
            "offset {off} (0x{off:x}): only {} bytes to the end of the image",
            page.len()
        )));
    }
    if let (true, Some(h)) = (
        rec.is_some_and(|r| r.status == Status::Damaged),
        FilHeader::parse(&page),
    ) {
        // The carver reads a page of a fragmented file through the file's
        // block map: its bytes are not all here.
        notes.push(format!(
            "a page of a fragmented file reads whole only through its file: try --space {} --page {}",
            h.space_id, h.page_no
        ));
    }
    let (checked, on_disk) = physical(image, off, rec.as_ref(), &page);
    Ok(Shown {
        offset: off,
        rec,
        page,
        checked,
        on_disk,
        notes,
        source: Box::new(NoPages),
    })
}

/// The physical bytes the checksum covers (the repair applied, the zero
/// blocks put back) and the bytes on disk when they differ.
fn physical(
    image: &Image,
    off: u64,
    rec: Option<&PageRecord>,
    page: &[u8],
) -> (Vec<u8>, Option<Vec<u8>>) {
    let Some(r) = rec.filter(|r| r.phys_size != 0) else {
        return (page.to_vec(), None);
    };
    let disk = image.bytes(off, r.phys_size as usize).into_owned();
    match (r.status, r.reason) {
        (Status::Repaired, Reason::Repaired { at, len, old, new }) => {
            let mut fixed = disk.clone();
            let fix = Fix {
                at: at as usize,
                len,
                old,
                new,
            };
            fix.apply(&mut fixed);
            (fixed, Some(disk))
        }
        (Status::Reassembled, _) if !is_zip(r) => (page.to_vec(), None),
        _ => (disk, None),
    }
}

pub fn from_store<'a>(
    image: &'a Image,
    store: &'a PageStore,
    files: &FileIndex,
    space: u32,
    page_no: u32,
    k: usize,
) -> Result<Shown<'a>, Fatal> {
    let copies: Vec<&PageRecord> = store.copies(space, page_no).collect();
    if copies.is_empty() {
        return Err(Fatal(format!(
            "no copy of space {space} page {page_no} on the image"
        )));
    }
    let Some(&r) = copies.get(k) else {
        return Err(Fatal(format!(
            "space {space} page {page_no} has {} copies (0..{}); --copy {k} is not one",
            copies.len(),
            copies.len() - 1
        )));
    };
    let src = StorePages::new(image, store);
    let page = src.bytes(r).map(Cow::into_owned).ok_or_else(|| {
        Fatal(format!(
            "space {space} page {page_no}: bytes at offset {} unreadable",
            r.offset
        ))
    })?;
    let mut notes = vec![format!(
        "copy {k} of {} of space {space} page {page_no} (0 = best: good before damaged, newest first):",
        copies.len()
    )];
    for (i, c) in copies.iter().enumerate() {
        notes.push(format!(
            "  {} copy {i}: offset {} LSN {} {}{}{}",
            if i == k { "▶" } else { " " },
            image_offset(image, c.offset),
            c.lsn,
            c.status.as_str(),
            c.reason_text().map_or(String::new(), |t| format!(" ({t})")),
            files
                .page_file(c)
                .map_or(String::new(), |(f, n)| format!(", {} page {n}", f.path))
        ));
    }
    let (checked, on_disk) = physical(image, r.offset, Some(r), &page);
    Ok(Shown {
        offset: r.offset,
        rec: Some(*r),
        page,
        checked,
        on_disk,
        notes,
        source: Box::new(src),
    })
}

/// The image offset of a (possibly virtual: read through a file's block
/// map) offset's first byte.
pub fn image_offset(image: &Image, off: u64) -> u64 {
    match image.overlay() {
        Some(o) if off >= o.base => o.runs(off, 1).first().map_or(off, |r| r.0),
        _ => off,
    }
}
