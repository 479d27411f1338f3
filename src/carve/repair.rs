//! Orphan headers repaired once their tablespace's page size is known.
//!
//! The scan repairs a damaged page in place when its trailer anchors it
//! ([`crate::carve::detect`]). A page whose damaged byte is in its header
//! or trailer LSN (or any ROW_FORMAT=COMPRESSED page, which has no trailer)
//! is only a header there: a candidate. After the scan, the verified pages
//! tell each tablespace's page size and checksum format; each orphan
//! candidate of such a space is tried once at that size, and a unique,
//! consistent repair ([`crate::innodb::repair`]) makes it a page with
//! status `repaired`.

use std::collections::BTreeMap;

use crate::carve::detect::{self, Candidate, PAGE_SIZES};
use crate::carve::scan::ScanOutput;
use crate::carve::{PageRecord, Status};
use crate::image::Image;
use crate::innodb::checksum::ChecksumKind;
use crate::innodb::fsp::{sizes_from_flags, FspHeader};
use crate::innodb::repair::{self, Format};

/// How the pages of one tablespace are stored, by majority of its
/// verified (or already repaired) pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Shape {
    /// Uncompressed pages of this size, full_crc32 or classic crc32.
    Plain { size: u32, fcrc32: bool },
    /// ROW_FORMAT=COMPRESSED pages of this physical size.
    Zip { size: u32, adler: bool },
}

fn shapes(pages: &[PageRecord]) -> BTreeMap<u32, Shape> {
    let mut votes: BTreeMap<u32, BTreeMap<Shape, u64>> = BTreeMap::new();
    // Pages the scan repaired in place are proven too: they count.
    for p in pages
        .iter()
        .filter(|p| matches!(p.status, Status::Ok | Status::Repaired))
    {
        let shape = match p.checksum {
            ChecksumKind::FullCrc32 | ChecksumKind::Crc32c if p.logical_size == p.phys_size => {
                Shape::Plain {
                    size: p.phys_size,
                    fcrc32: p.checksum == ChecksumKind::FullCrc32,
                }
            }
            ChecksumKind::Crc32c | ChecksumKind::Innodb if p.logical_size == 0 => Shape::Zip {
                size: p.phys_size,
                adler: p.checksum == ChecksumKind::Innodb,
            },
            _ => continue,
        };
        *votes
            .entry(p.space_id)
            .or_default()
            .entry(shape)
            .or_default() += 1;
    }
    votes
        .into_iter()
        .filter_map(|(s, m)| {
            let best = m.into_iter().max_by_key(|&(k, n)| (n, k))?;
            Some((s, best.0))
        })
        .collect()
}

/// The logical page size of a space from its page 0, when found intact.
fn logical_size(image: &Image, pages: &[PageRecord], space_id: u32) -> Option<usize> {
    let p0 = pages
        .iter()
        .find(|p| p.space_id == space_id && p.page_no == 0 && p.status == Status::Ok)?;
    let b = image.bytes(p0.offset, p0.phys_size as usize);
    let h = FspHeader::parse(&b)?;
    (h.space_id == space_id)
        .then(|| sizes_from_flags(h.flags))
        .flatten()
        .map(|s| s.logical as usize)
}

/// Whether `start..end` overlaps a page of `pages` (sorted by offset; found
/// pages never overlap each other, so the last one starting before `end`
/// is the only one that can reach in).
fn overlaps(pages: &[PageRecord], start: u64, end: u64) -> bool {
    let i = pages.partition_point(|p| p.offset < end);
    pages[..i]
        .last()
        .is_some_and(|p| p.offset + u64::from(p.phys_size.max(1)) > start)
}

/// Tries to repair one orphan candidate as a page of `shape`.
fn try_one(
    image: &Image,
    c: &Candidate,
    shape: Shape,
    logical: Option<usize>,
    buf: &mut Vec<u8>,
) -> Option<PageRecord> {
    let (size, format, kind) = match shape {
        Shape::Plain { size, fcrc32: true } => (size, Format::FullCrc32, ChecksumKind::FullCrc32),
        Shape::Plain { size, .. } => (size, Format::Crc32, ChecksumKind::Crc32c),
        Shape::Zip { size, adler: false } => (size, Format::ZipCrc32, ChecksumKind::Crc32c),
        Shape::Zip { size, .. } => (size, Format::ZipAdler, ChecksumKind::Innodb),
    };
    if matches!(shape, Shape::Plain { .. }) && (c.zip || !PAGE_SIZES.contains(&(size as usize))) {
        return None;
    }
    let bytes = image.bytes(c.rec.offset, size as usize);
    if bytes.len() != size as usize {
        return None;
    }
    let fix = repair::repair(&bytes, format, logical, buf)?;
    let logical_field = if matches!(shape, Shape::Plain { .. }) {
        size as usize
    } else {
        0
    };
    let r = detect::record(
        buf,
        c.rec.offset,
        size as usize,
        logical_field,
        kind,
        Status::Repaired,
        detect::repaired(fix),
    );
    // The repaired page must be of the space whose size was used.
    (r.space_id == c.rec.space_id).then_some(r)
}

/// Repairs the orphan candidates (headers without a trailer, or whose
/// trailer anchored at another size than their space's) of spaces whose
/// page size the verified pages tell; each repaired one becomes a page and
/// leaves the candidates. `out.pages` stays sorted by offset.
pub fn repair_orphans(image: &Image, out: &mut ScanOutput) {
    if out.candidates.is_empty() {
        return;
    }
    let shapes = shapes(&out.pages);
    let mut logical: BTreeMap<u32, Option<usize>> = BTreeMap::new();
    let mut found: Vec<PageRecord> = Vec::new();
    let mut buf = Vec::new();
    let mut last_end = 0u64;
    out.candidates.retain(|c| {
        if c.rec.offset < last_end {
            return true;
        }
        let Some(&shape) = shapes.get(&c.rec.space_id) else {
            return true;
        };
        let size = match shape {
            Shape::Plain { size, .. } | Shape::Zip { size, .. } => size,
        };
        // A candidate anchored at its space's own size and format was
        // tried by the scan already; one anchored at another size (the
        // next page of the same mini-transaction has the same LSN in its
        // trailer) is an orphan at this size.
        let fcrc32 = c.rec.checksum == ChecksumKind::FullCrc32;
        if c.rec.phys_size == size && shape == (Shape::Plain { size, fcrc32 }) {
            return true;
        }
        if overlaps(&out.pages, c.rec.offset, c.rec.offset + u64::from(size)) {
            return true;
        }
        let lg = match shape {
            Shape::Zip { .. } => *logical
                .entry(c.rec.space_id)
                .or_insert_with(|| logical_size(image, &out.pages, c.rec.space_id)),
            Shape::Plain { .. } => None,
        };
        match try_one(image, c, shape, lg, &mut buf) {
            Some(r) => {
                last_end = r.offset + u64::from(r.phys_size);
                found.push(r);
                false
            }
            None => true,
        }
    });
    if !found.is_empty() {
        out.pages.extend(found);
        out.pages.sort_by_key(|p| p.offset);
    }
}
