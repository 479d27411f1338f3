//! The read path: guest clusters mapped to runs of file bytes, zeros, holes,
//! backing-image bytes or inflated clusters, filled into the caller's buffer.
//! Neighbouring clusters of one kind (contiguous in the file, for data) are
//! read with one `pread`.

use std::io;
use std::os::unix::fs::FileExt;

use super::l2::Entry;
use super::notes::Kind;
use super::Qcow2;
use crate::image::SECTOR;

impl Qcow2 {
    /// Fills `buf` with virtual bytes from `off`. Damaged or unreadable parts
    /// read as zeros and are pushed onto `holes` (virtual offset, length).
    pub fn read_at(&self, off: u64, buf: &mut [u8], holes: &mut Vec<(u64, u64)>) {
        let c = self.lay.cluster();
        let mut out = Filler {
            q: self,
            off,
            buf,
            holes,
            run: None,
        };
        let total = out.buf.len();
        let mut cur = None;
        let mut pos = 0usize;
        while pos < total {
            let Some(v) = off.checked_add(pos as u64).filter(|&v| v < self.size) else {
                out.push(Seg::Zero, pos, total - pos);
                break;
            };
            let within = v & (c - 1);
            let n = (c - within).min((total - pos) as u64).min(self.size - v) as usize;
            match self.entry(v / c, &mut cur) {
                Entry::Unallocated => out.push(Seg::Backing, pos, n),
                Entry::Zero => out.push(Seg::Zero, pos, n),
                Entry::Damaged => out.push(Seg::Hole, pos, n),
                Entry::Data(h) => out.push(Seg::Host(h + within), pos, n),
                Entry::Compressed { host, len } => {
                    let w = within as usize;
                    match self.inflated(host, len, v).as_deref() {
                        Some(Some(data)) => {
                            out.flush();
                            out.buf[pos..pos + n].copy_from_slice(&data[w..w + n]);
                        }
                        _ => out.push(Seg::Hole, pos, n),
                    }
                }
                Entry::Sub { host, alloc, zero } => {
                    let sub = c / 32;
                    let mut w = within;
                    let end = within + n as u64;
                    while w < end {
                        let k = (w / sub) as u32;
                        let m = ((k as u64 + 1) * sub).min(end) - w;
                        let seg = if alloc >> k & 1 != 0 {
                            Seg::Host(host + w)
                        } else if zero >> k & 1 != 0 {
                            Seg::Zero
                        } else {
                            Seg::Backing
                        };
                        out.push(seg, pos + (w - within) as usize, m as usize);
                        w += m;
                    }
                }
            }
            pos += n;
        }
        out.flush();
    }
}

/// What a stretch of the caller's buffer is filled from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seg {
    Zero,
    /// Zeros, reported as a hole.
    Hole,
    /// The backing image (zeros without one).
    Backing,
    /// The file, from this host offset.
    Host(u64),
}

/// Fills the caller's buffer in runs: neighbouring clusters of the same kind
/// (and, for the file, contiguous on the host) are read at once.
struct Filler<'a, 'h> {
    q: &'a Qcow2,
    off: u64,
    buf: &'a mut [u8],
    holes: &'h mut Vec<(u64, u64)>,
    /// The pending run: its kind, buffer position and length.
    run: Option<(Seg, usize, usize)>,
}

impl Filler<'_, '_> {
    fn push(&mut self, seg: Seg, pos: usize, len: usize) {
        let seg = match seg {
            Seg::Backing if self.q.backing.is_none() => Seg::Zero,
            s => s,
        };
        if let Some((s, p, l)) = &mut self.run {
            let joins = *p + *l == pos
                && match (*s, seg) {
                    (Seg::Host(a), Seg::Host(b)) => a + *l as u64 == b,
                    (a, b) => a == b,
                };
            if joins {
                *l += len;
                return;
            }
        }
        self.flush();
        self.run = Some((seg, pos, len));
    }

    fn flush(&mut self) {
        let Some((seg, pos, len)) = self.run.take() else {
            return;
        };
        let v = self.off + pos as u64;
        let dst = &mut self.buf[pos..pos + len];
        match seg {
            Seg::Zero => dst.fill(0),
            Seg::Hole => {
                dst.fill(0);
                push_hole(self.holes, v, len as u64);
            }
            Seg::Backing => {
                if let Some(b) = &self.q.backing {
                    let mut tmp = Vec::new();
                    let got = b.read(v, len, &mut tmp, self.holes);
                    dst[..got.len()].copy_from_slice(got);
                    dst[got.len()..].fill(0);
                } else {
                    dst.fill(0);
                }
            }
            Seg::Host(h) => self.q.read_host(h, dst, v, self.holes),
        }
    }
}

impl Qcow2 {
    /// Reads file bytes at `h` into `dst` (virtual offset `v`): bytes past
    /// the end of the file or in sectors that fail to read are zeros and holes.
    fn read_host(&self, h: u64, dst: &mut [u8], v: u64, holes: &mut Vec<(u64, u64)>) {
        let mut done = 0usize;
        while done < dst.len() {
            match self.file.read_at(&mut dst[done..], h + done as u64) {
                Ok(0) => {
                    dst[done..].fill(0);
                    push_hole(holes, v + done as u64, (dst.len() - done) as u64);
                    return;
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.notes.add(Kind::Io, 0, || {
                        format!(
                            "qcow2: read error at file offset {:#x}: {e}",
                            h + done as u64
                        )
                    });
                    // Sector by sector; what stays unreadable is a hole.
                    while done < dst.len() {
                        let at = h + done as u64;
                        let n = ((SECTOR - at % SECTOR) as usize).min(dst.len() - done);
                        let piece = &mut dst[done..done + n];
                        if !matches!(crate::image::read_full(&self.file, piece, at), Ok(())) {
                            piece.fill(0);
                            push_hole(holes, v + done as u64, n as u64);
                        }
                        done += n;
                    }
                    return;
                }
            }
        }
    }
}

fn push_hole(holes: &mut Vec<(u64, u64)>, at: u64, len: u64) {
    match holes.last_mut() {
        Some((s, l)) if *s + *l == at => *l += len,
        _ => holes.push((at, len)),
    }
}
