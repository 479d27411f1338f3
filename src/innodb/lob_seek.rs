//! Random access into an off-page value without assembling it: the chain
//! is walked once ([`walk_extern_at`], the same checks and errors as
//! reading it whole) and only where each part lies is kept (16 bytes a
//! part: 1 MiB for a 1 GiB value of 16 KiB pages). A read at an offset
//! finds its part and lends the bytes from the page [`PageSource::page`]
//! gives (borrowed from a mapped image, or the last few pages kept); only a
//! read that spans two parts is copied.
//!
//! A ROW_FORMAT=COMPRESSED chain (one zlib stream over ZBLOB pages) has no
//! place for its parts: it cannot be read at random
//! ([`crate::innodb::lob::random_access`]), and a value there is assembled.

use std::borrow::Cow;

use crate::innodb::json::{Bytes, Stop};
use crate::innodb::lob::{walk_extern_at, ExternRef, LobError, PageSource};

/// One part of the chain: bytes `at..at + len` of the value, at `offset`
/// in page `page_no`.
#[derive(Debug, Clone, Copy)]
struct Part {
    at: u64,
    page_no: u32,
    offset: u16,
    len: u16,
}

/// Pages kept for reads that come back to them.
const KEPT: usize = 4;

/// An off-page value (its local prefix, then its chain), read at random.
pub struct Seekable<'a> {
    pages: &'a dyn PageSource,
    space_id: u32,
    local: &'a [u8],
    parts: Vec<Part>,
    len: usize,
    /// The last pages read, by number.
    kept: [Option<(u32, Cow<'a, [u8]>)>; KEPT],
    next_kept: usize,
    /// The part the last read was in.
    last: usize,
    scratch: Vec<u8>,
}

impl<'a> Seekable<'a> {
    /// Walks the chain of `r` once (the errors of reading it whole); the
    /// value is `local` followed by it.
    pub fn walk(
        local: &'a [u8],
        r: &ExternRef,
        pages: &'a dyn PageSource,
    ) -> Result<Seekable<'a>, LobError> {
        let mut parts = Vec::new();
        let mut at = local.len() as u64;
        let mut placeless = false;
        let walked = walk_extern_at(r, pages, &mut |b, place| {
            let part = place.and_then(|p| {
                Some(Part {
                    at,
                    page_no: p.page_no,
                    offset: u16::try_from(p.offset).ok()?,
                    len: u16::try_from(b.len()).ok()?,
                })
            });
            match part {
                Some(p) => {
                    parts.push(p);
                    at += b.len() as u64;
                    true
                }
                None => {
                    placeless = true;
                    false
                }
            }
        });
        if placeless {
            return Err(LobError::Corrupt {
                space: r.space_id,
                page: r.page_no,
                what: "a part of the off-page value has no place in a page of 64 KiB or less",
            });
        }
        walked?;
        let len = usize::try_from(at).map_err(|_| LobError::TooLong(r.len))?;
        Ok(Seekable {
            pages,
            space_id: r.space_id,
            local,
            parts,
            len,
            kept: Default::default(),
            next_kept: 0,
            last: 0,
            scratch: Vec::new(),
        })
    }

    /// The index of the part holding byte `off` (past the local prefix).
    fn find(&mut self, off: usize) -> Result<usize, Stop> {
        let off = off as u64;
        let holds = |p: &Part| p.at <= off && off < p.at + u64::from(p.len);
        if self.parts.get(self.last).is_some_and(holds) {
            return Ok(self.last);
        }
        let i = self
            .parts
            .partition_point(|p| p.at + u64::from(p.len) <= off);
        if !self.parts.get(i).is_some_and(holds) {
            return Err(Stop::Source(LobError::Short {
                got: self.len as u64,
                want: off + 1,
            }));
        }
        self.last = i;
        Ok(i)
    }

    /// `n` bytes at `rel` of part `i` (within it), lent from its page.
    fn in_part(&mut self, i: usize, rel: usize, n: usize) -> Result<&[u8], Stop> {
        let p = self.parts[i];
        let slot = match self
            .kept
            .iter()
            .position(|k| k.as_ref().is_some_and(|(no, _)| *no == p.page_no))
        {
            Some(s) => s,
            None => {
                let page = self
                    .pages
                    .page(self.space_id, p.page_no)
                    .ok_or(Stop::Source(LobError::MissingPage {
                        space: self.space_id,
                        page: p.page_no,
                    }))?;
                let s = self.next_kept;
                self.next_kept = (s + 1) % KEPT;
                self.kept[s] = Some((p.page_no, page));
                s
            }
        };
        let page = self.kept[slot].as_ref().map(|(_, b)| &b[..]).unwrap_or(&[]);
        let start = usize::from(p.offset) + rel;
        page.get(start..start + n)
            .ok_or(Stop::Source(LobError::Corrupt {
                space: self.space_id,
                page: p.page_no,
                what: "page shorter than when its chain was walked",
            }))
    }
}

impl Bytes for Seekable<'_> {
    fn len(&self) -> usize {
        self.len
    }

    fn get(&mut self, off: usize, n: usize) -> Result<&[u8], Stop> {
        let end = off.checked_add(n).filter(|&e| e <= self.len);
        let Some(end) = end else {
            return Err(Stop::Source(LobError::Short {
                got: self.len as u64,
                want: off.saturating_add(n) as u64,
            }));
        };
        // Nothing to read (an empty key or opaque value at the very end of
        // the value: `&[u8]` lends it too).
        if n == 0 {
            return Ok(&[]);
        }
        if end <= self.local.len() {
            return Ok(&self.local[off..end]);
        }
        if off >= self.local.len() {
            let i = self.find(off)?;
            let rel = off - self.parts[i].at as usize;
            if rel + n <= usize::from(self.parts[i].len) {
                return self.in_part(i, rel, n);
            }
        }
        // Across parts: copied.
        let mut s = std::mem::take(&mut self.scratch);
        s.clear();
        let mut at = off;
        while at < end {
            let b = self.piece(at, end - at)?;
            at += b.len();
            s.extend_from_slice(b);
        }
        self.scratch = s;
        Ok(&self.scratch)
    }

    fn piece(&mut self, off: usize, n: usize) -> Result<&[u8], Stop> {
        if n == 0 {
            return Ok(&[]);
        }
        if off < self.local.len() {
            let end = off.saturating_add(n).min(self.local.len());
            return Ok(&self.local[off..end]);
        }
        let i = self.find(off)?;
        let rel = off - self.parts[i].at as usize;
        let n = n.min(usize::from(self.parts[i].len) - rel);
        self.in_part(i, rel, n)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::innodb::lob::tests::{chain, r, Map};

    /// A value of `n` bytes: its byte `i` is `i * 7 % 251`.
    fn value(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn reads_at_random_across_local_prefix_and_parts() {
        let v = value(5000);
        let (local, rest) = v.split_at(100);
        let src = chain(rest, 333);
        let mut s = Seekable::walk(local, &r(5, rest.len() as u64), &src).unwrap();
        assert_eq!(s.parts.len(), rest.len().div_ceil(333));
        assert_eq!(Bytes::len(&s), 5000);
        // Backwards and forwards, inside the prefix, across it, inside a
        // part, across several parts, to the last byte.
        for (off, n) in [
            (4990, 10),
            (0, 100),
            (90, 20),
            (433, 333),
            (400, 1000),
            (1234, 1),
            (0, 5000),
            (5000, 0),
            (100, 0),
        ] {
            assert_eq!(s.get(off, n).unwrap(), &v[off..off + n], "{off} {n}");
        }
        // A piece is lent from one part, never past it.
        assert_eq!(s.piece(400, 1000).unwrap(), &v[400..433]);
        assert_eq!(s.piece(50, 1000).unwrap(), &v[50..100]);
        // Past the end: the chain's Short error, not a panic.
        for (off, n) in [(4999, 2), (5000, 1), (usize::MAX, 2)] {
            assert!(matches!(
                s.get(off, n),
                Err(Stop::Source(LobError::Short { got: 5000, .. }))
            ));
        }
        assert!(matches!(
            s.piece(5000, 1),
            Err(Stop::Source(LobError::Short { got: 5000, .. }))
        ));
    }

    /// The pages of `map`, cut to 100 bytes (or gone) once `changed` is set.
    struct Changing {
        map: Map,
        changed: Cell<Option<bool>>,
    }

    impl PageSource for Changing {
        fn page(&self, space: u32, no: u32) -> Option<Cow<'_, [u8]>> {
            let p = self.map.page(space, no)?;
            match self.changed.get() {
                None => Some(p),
                Some(true) => Some(Cow::Owned(p[..100].to_vec())),
                Some(false) => None,
            }
        }
    }

    #[test]
    fn pages_changed_after_the_walk_are_errors() {
        let v = value(3000);
        let src = Changing {
            map: chain(&v, 1000),
            changed: Cell::new(None),
        };
        let mut s = Seekable::walk(&[], &r(5, 3000), &src).unwrap();
        src.changed.set(Some(true));
        assert!(matches!(
            s.get(1500, 10),
            Err(Stop::Source(LobError::Corrupt { page: 6, .. }))
        ));
        src.changed.set(Some(false));
        assert!(matches!(
            s.get(2500, 10),
            Err(Stop::Source(LobError::MissingPage { page: 7, .. }))
        ));
    }
}
