//! Part of stage 4 (`rows`): the records of an index that are not live
//! candidates (older copies, free lists, delete-marked records, unproven
//! pages), kept until they are decided, with memory bounded by a limit.
//!
//! Records come in the order the survey finds them and are read back in
//! key order (byte order of the key; records of one key in the order they
//! were found), as one stream, as often as needed. Up to the limit they
//! stay in memory; past it, what is held is sorted and written as a run to
//! a temporary file in the given directory (the output directory), and the
//! stream merges the runs. The file is removed when the store is dropped.
//!
//! A run holds records found after every record of the runs before it, so
//! among records of one key the earlier run comes first, and the held
//! records (found last) after every run's. A record in a run: key length
//! (u32 LE), key, page LSN (u64), copy and record (u32 each), DB_TRX_ID
//! (u64) and one byte of flags (complete, listed, delete-marked, role).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::copy::Found;
use super::leaf_pages::Role;
use crate::recover::RowRef;

/// A record held in memory: its key in [`Others::keys`] (`rec.key` is
/// left empty).
#[derive(Debug, Clone, Copy)]
struct Held {
    key_start: usize,
    key_len: u32,
    rec: Found<'static>,
}

/// The records that are not live candidates of one index.
pub(super) struct Others {
    /// Records not in a file run, in the order found; sorted by key (and
    /// order found) once [`Others::finish`]ed.
    held: Vec<Held>,
    /// Keys of `held`, back to back.
    keys: Vec<u8>,
    /// Records stored.
    len: u64,
    /// Bytes held before they go to a run (`usize::MAX`: never).
    limit: usize,
    dir: PathBuf,
    file: Option<Spill>,
    /// The file could not be written (then nothing more is kept).
    failed: Option<io::Error>,
    finished: bool,
}

/// The temporary file and its runs.
struct Spill {
    path: PathBuf,
    out: BufWriter<File>,
    /// (offset, length) of each run.
    runs: Vec<(u64, u64)>,
    end: u64,
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Bytes a held record takes, besides its key.
const HELD: usize = std::mem::size_of::<Held>();

impl Others {
    /// An empty store: in memory up to `limit` bytes, then in runs in a
    /// file in `dir`.
    pub fn new(limit: usize, dir: &Path) -> Others {
        Others {
            held: Vec::new(),
            keys: Vec::new(),
            len: 0,
            limit,
            dir: dir.to_path_buf(),
            file: None,
            failed: None,
            finished: false,
        }
    }

    /// A store that never leaves memory.
    pub fn in_memory() -> Others {
        Others::new(usize::MAX, Path::new(""))
    }

    /// Records stored.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether some records went to the file.
    #[cfg(test)]
    pub fn spilled(&self) -> bool {
        self.file.is_some()
    }

    /// Stores `rec` with key `key` (after every record stored before).
    pub fn push(&mut self, key: &[u8], rec: Found<'_>) {
        debug_assert!(!self.finished);
        if self.failed.is_some() {
            return;
        }
        self.held.push(Held {
            key_start: self.keys.len(),
            key_len: key.len() as u32,
            rec: Found { key: &[], ..rec },
        });
        self.keys.extend_from_slice(key);
        self.len += 1;
        if self.held.len() * HELD + self.keys.len() > self.limit {
            if let Err(e) = self.spill() {
                // Reported by `finish`; nothing more is kept.
                self.failed.get_or_insert(e);
                self.limit = usize::MAX;
                self.held.clear();
                self.keys.clear();
            }
        }
    }

    /// Stores every record of `other` after those stored here.
    pub fn append(&mut self, other: &Others) {
        for h in &other.held {
            self.push(other.key(h), h.rec);
        }
    }

    fn key(&self, h: &Held) -> &[u8] {
        key_of(&self.keys, h)
    }

    /// Sorts what is held by key, stably (the order found breaks ties).
    fn sort_held(&mut self) {
        let keys = &self.keys;
        self.held
            .sort_by(|a, b| key_of(keys, a).cmp(key_of(keys, b)));
    }

    /// Writes what is held as one sorted run.
    fn spill(&mut self) -> io::Result<()> {
        if self.file.is_none() {
            std::fs::create_dir_all(&self.dir)?;
            static N: AtomicUsize = AtomicUsize::new(0);
            let path = self.dir.join(format!(
                ".salvage-keys-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let f = File::options()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)?;
            self.file = Some(Spill {
                path,
                out: BufWriter::with_capacity(1 << 20, f),
                runs: Vec::new(),
                end: 0,
            });
        }
        self.sort_held();
        let spill = self.file.as_mut().expect("a file");
        let start = spill.end;
        let mut buf = Vec::with_capacity(64);
        for h in &self.held {
            buf.clear();
            encode(&mut buf, key_of(&self.keys, h), &h.rec);
            spill.out.write_all(&buf)?;
            spill.end += buf.len() as u64;
        }
        spill.runs.push((start, spill.end - start));
        self.held.clear();
        self.keys.clear();
        Ok(())
    }

    /// Ends storing: what is held is sorted, the file's runs flushed; the
    /// error that kept records from the file, if one did.
    pub fn finish(&mut self) -> io::Result<()> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        self.sort_held();
        if let Some(s) = &mut self.file {
            s.out.flush()?;
        }
        Ok(())
    }

    /// Every record in key order (records of one key in the order found),
    /// merged from the runs; [`Others::finish`] first.
    pub fn stream(&self) -> io::Result<Stream<'_>> {
        debug_assert!(self.finished);
        let mut runs = Vec::new();
        if let Some(s) = &self.file {
            // Read buffers share a sixteenth of the limit: 4 KiB to 1 MiB each.
            let cap = (self.limit / 16 / s.runs.len().max(1)).clamp(4 << 10, 1 << 20);
            for &(off, len) in &s.runs {
                let file = s.out.get_ref();
                runs.push(BufReader::with_capacity(
                    cap,
                    Run {
                        file,
                        off,
                        end: off + len,
                    },
                ));
            }
        }
        let mut st = Stream {
            others: self,
            runs,
            held: 0,
            heads: BinaryHeap::new(),
        };
        for r in 0..st.runs.len() {
            if let Some(h) = st.read_run(r, Vec::new())? {
                st.heads.push(Reverse(h));
            }
        }
        if let Some(h) = st.read_held(Vec::new()) {
            st.heads.push(Reverse(h));
        }
        Ok(st)
    }

    /// Calls `f` with every record's key and record, in key order.
    pub fn each(&self, f: &mut dyn FnMut(&[u8], &Found<'static>)) -> io::Result<()> {
        let mut s = self.stream()?;
        let mut key = Vec::new();
        while let Some(rec) = s.next(&mut key)? {
            f(&key, &rec);
        }
        Ok(())
    }
}

fn key_of<'a>(keys: &'a [u8], h: &Held) -> &'a [u8] {
    &keys[h.key_start..h.key_start + h.key_len as usize]
}

/// Appends record `rec` (key `key`) as a run stores it.
fn encode(buf: &mut Vec<u8>, key: &[u8], rec: &Found) {
    buf.extend_from_slice(&(key.len() as u32).to_le_bytes());
    buf.extend_from_slice(key);
    buf.extend_from_slice(&rec.lsn.to_le_bytes());
    buf.extend_from_slice(&rec.at.page.to_le_bytes());
    buf.extend_from_slice(&rec.at.rec.to_le_bytes());
    buf.extend_from_slice(&rec.trx_id.to_le_bytes());
    let role = match rec.role {
        Role::Newest { covers: false } => 0,
        Role::Newest { covers: true } => 1,
        Role::Stale => 2,
        Role::Unproven => 3,
    };
    let flags =
        rec.full as u8 | (rec.listed as u8) << 1 | (rec.delete_marked as u8) << 2 | role << 3;
    buf.push(flags);
}

/// The longest key a run may hold: a record of the largest page (64 KiB).
const MAX_KEY: usize = 1 << 16;

/// Bytes after the key of a record in a run.
const TAIL: usize = 8 + 4 + 4 + 8 + 1;

/// The inverse of [`encode`] for the bytes after the key.
fn decode(t: &[u8; TAIL]) -> Found<'static> {
    let u64_at = |i: usize| u64::from_le_bytes(t[i..i + 8].try_into().expect("8 bytes"));
    let u32_at = |i: usize| u32::from_le_bytes(t[i..i + 4].try_into().expect("4 bytes"));
    let flags = t[TAIL - 1];
    let role = match flags >> 3 {
        0 => Role::Newest { covers: false },
        1 => Role::Newest { covers: true },
        2 => Role::Stale,
        _ => Role::Unproven,
    };
    Found {
        key: &[],
        lsn: u64_at(0),
        at: RowRef {
            page: u32_at(8),
            rec: u32_at(12),
        },
        trx_id: u64_at(16),
        full: flags & 1 != 0,
        listed: flags & 2 != 0,
        delete_marked: flags & 4 != 0,
        role,
    }
}

/// One run of the file, read from its offset.
struct Run<'a> {
    file: &'a File,
    off: u64,
    end: u64,
}

impl Read for Run<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.end - self.off) as usize;
        let n = self.file.read_at(&mut buf[..n], self.off)?;
        self.off += n as u64;
        Ok(n)
    }
}

/// The next record of one source: compared by key, then source (the
/// order the records were found in, see the module's comment).
struct Head {
    key: Vec<u8>,
    rec: Found<'static>,
    /// The run it comes from (`usize::MAX`: the held records).
    src: usize,
}

impl PartialEq for Head {
    fn eq(&self, o: &Head) -> bool {
        (&self.key, self.src) == (&o.key, o.src)
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, o: &Head) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Head {
    fn cmp(&self, o: &Head) -> std::cmp::Ordering {
        self.key.cmp(&o.key).then(self.src.cmp(&o.src))
    }
}

/// The records of an [`Others`] in key order.
pub(super) struct Stream<'a> {
    others: &'a Others,
    runs: Vec<BufReader<Run<'a>>>,
    /// Next held record.
    held: usize,
    heads: BinaryHeap<Reverse<Head>>,
}

impl Stream<'_> {
    /// The next record, its key in `key` (replaced).
    pub fn next(&mut self, key: &mut Vec<u8>) -> io::Result<Option<Found<'static>>> {
        let Some(Reverse(mut h)) = self.heads.pop() else {
            return Ok(None);
        };
        std::mem::swap(key, &mut h.key);
        let rec = h.rec;
        let next = if h.src == usize::MAX {
            self.read_held(h.key)
        } else {
            self.read_run(h.src, h.key)?
        };
        if let Some(n) = next {
            self.heads.push(Reverse(n));
        }
        Ok(Some(rec))
    }

    fn read_held(&mut self, mut key: Vec<u8>) -> Option<Head> {
        let o = self.others;
        let h = o.held.get(self.held)?;
        key.clear();
        key.extend_from_slice(o.key(h));
        let head = Head {
            key,
            rec: h.rec,
            src: usize::MAX,
        };
        self.held += 1;
        Some(head)
    }

    fn read_run(&mut self, r: usize, mut key: Vec<u8>) -> io::Result<Option<Head>> {
        let run = &mut self.runs[r];
        if run.fill_buf()?.is_empty() {
            return Ok(None);
        }
        let mut n = [0u8; 4];
        run.read_exact(&mut n)?;
        // A key is a page's record's: never near this (the file is ours,
        // but a length it does not hold must not size an allocation).
        let n = u32::from_le_bytes(n) as usize;
        if n > MAX_KEY {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("temporary key file: a key of {n} bytes"),
            ));
        }
        key.clear();
        key.resize(n, 0);
        run.read_exact(&mut key)?;
        let mut tail = [0u8; TAIL];
        run.read_exact(&mut tail)?;
        Ok(Some(Head {
            key,
            rec: decode(&tail),
            src: r,
        }))
    }
}

/// Which records of an [`Others`] stream are claimed (by position in the
/// stream), marked by keys that come in key order.
pub(super) struct Claims<'a> {
    stream: Stream<'a>,
    /// The stream's next record and its key.
    cur: Option<(Vec<u8>, Found<'static>)>,
    pos: u64,
    bits: Vec<u64>,
}

impl<'a> Claims<'a> {
    pub fn new(others: &'a Others) -> io::Result<Claims<'a>> {
        let mut stream = others.stream()?;
        let mut key = Vec::new();
        let cur = stream.next(&mut key)?.map(|r| (key, r));
        Ok(Claims {
            stream,
            cur,
            pos: 0,
            bits: vec![0; others.len().div_ceil(64) as usize],
        })
    }

    /// Marks the records whose key is among `keys`: sorted, and after
    /// every key marked before (the live keys come in key order, batch
    /// after batch).
    pub fn mark(&mut self, keys: &[&[u8]]) -> io::Result<()> {
        for &k in keys {
            while let Some((key, _)) = &self.cur {
                match key.as_slice().cmp(k) {
                    std::cmp::Ordering::Greater => break,
                    o => {
                        if o.is_eq() {
                            self.bits[(self.pos / 64) as usize] |= 1 << (self.pos % 64);
                        }
                        self.advance()?;
                    }
                }
            }
        }
        Ok(())
    }

    fn advance(&mut self) -> io::Result<()> {
        let mut key = match self.cur.take() {
            Some((k, _)) => k,
            None => return Ok(()),
        };
        self.cur = self.stream.next(&mut key)?.map(|r| (key, r));
        self.pos += 1;
        Ok(())
    }

    /// The marks, by position in the stream.
    pub fn done(self) -> Claimed {
        Claimed(self.bits)
    }
}

/// Positions in an [`Others`] stream that a live row claims.
pub(super) struct Claimed(Vec<u64>);

impl Claimed {
    pub fn get(&self, pos: u64) -> bool {
        self.0
            .get((pos / 64) as usize)
            .is_some_and(|w| w & 1 << (pos % 64) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(i: u32, role: Role) -> Found<'static> {
        Found {
            key: &[],
            lsn: 1000 + i as u64,
            at: RowRef {
                page: i,
                rec: i * 3,
            },
            full: i.is_multiple_of(2),
            trx_id: u64::MAX - i as u64,
            listed: i.is_multiple_of(3),
            delete_marked: i.is_multiple_of(5),
            role,
        }
    }

    const ROLES: [Role; 4] = [
        Role::Newest { covers: false },
        Role::Newest { covers: true },
        Role::Stale,
        Role::Unproven,
    ];

    /// (key, record) of every record of `o`'s stream.
    fn streamed(o: &Others) -> Vec<(Vec<u8>, String)> {
        let mut out = Vec::new();
        o.each(&mut |k, r| out.push((k.to_vec(), format!("{r:?}"))))
            .unwrap();
        out
    }

    #[test]
    fn records_come_back_in_key_order_then_as_found_in_memory_and_from_runs() {
        let dir = tempfile::tempdir().unwrap();
        // Keys with repeats, of several lengths, pushed out of order.
        let keys: Vec<Vec<u8>> = (0..500u32)
            .map(|i| {
                let k = (i * 7919) % 97;
                let mut key = vec![0, 0, 0, (k % 3) as u8 + 1];
                key.extend(std::iter::repeat_n(k as u8, (k % 3) as usize + 1));
                key
            })
            .collect();
        let mut want: Vec<(Vec<u8>, String)> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.clone(), format!("{:?}", rec(i as u32, ROLES[i % 4]))))
            .collect();
        // Stable: the order found breaks ties.
        want.sort_by(|a, b| a.0.cmp(&b.0));
        for limit in [usize::MAX, 0, 1000, 20_000] {
            let mut o = Others::new(limit, dir.path());
            for (i, k) in keys.iter().enumerate() {
                o.push(k, rec(i as u32, ROLES[i % 4]));
            }
            o.finish().unwrap();
            assert_eq!(o.len(), 500);
            assert_eq!(o.spilled(), limit != usize::MAX, "limit {limit}");
            assert_eq!(streamed(&o), want, "limit {limit}");
            // A second stream reads the same.
            assert_eq!(streamed(&o), want, "limit {limit}, again");
        }
        // The files are gone with their stores.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn claims_mark_the_positions_of_their_keys() {
        let dir = tempfile::tempdir().unwrap();
        let k = |b: u8| vec![0, 0, 0, 1, b];
        for limit in [usize::MAX, 0] {
            let mut o = Others::new(limit, dir.path());
            for (i, b) in [5u8, 1, 3, 5, 9, 3].into_iter().enumerate() {
                o.push(&k(b), rec(i as u32, Role::Stale));
            }
            o.finish().unwrap();
            // Stream: 1 3 3 5 5 9.
            let mut c = Claims::new(&o).unwrap();
            let (k2, k3, k5, k9) = (k(2), k(3), k(5), k(9));
            c.mark(&[&k2, &k3]).unwrap();
            c.mark(&[]).unwrap();
            c.mark(&[&k5]).unwrap();
            let claimed = c.done();
            let got: Vec<bool> = (0..7).map(|p| claimed.get(p)).collect();
            assert_eq!(got, [false, true, true, true, true, false, false]);
            let mut c = Claims::new(&o).unwrap();
            c.mark(&[&k9]).unwrap();
            assert!(c.done().get(5));
        }
    }

    #[test]
    fn an_unwritable_directory_fails_at_finish() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"").unwrap();
        let mut o = Others::new(0, &file.join("sub"));
        o.push(b"k", rec(0, Role::Stale));
        assert!(o.finish().is_err());
    }
}
