//! Rows held between being found and being written, in memory up to a
//! limit and past it in a temporary file: the deleted and uncertain rows of
//! an index are decided in key order but read page by page, so their
//! values wait here until they can be written in order.
//!
//! A row is its values, each a 4-byte length (`u32::MAX` for NULL) and
//! the bytes, or `u32::MAX - 1` and the 4-byte index of a deferred value
//! (an off-page value not held: its few bytes of description stay in
//! memory). The file is created in the directory given (the output
//! directory), removed when the spool is dropped.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::innodb::deferred::Deferred;
use crate::innodb::rows::{RowView, TextRows, Value};

const NULL: u32 = u32::MAX;
const DEFERRED: u32 = u32::MAX - 1;

/// Rows stored by slot, read back in slot order.
pub(super) struct Spool {
    /// (offset in the stream, length) of each slot's row; `len == 0` = empty.
    slots: Vec<(u64, u32)>,
    mem: Vec<u8>,
    /// Bytes kept in memory before the rest goes to a file.
    limit: usize,
    dir: PathBuf,
    file: Option<(PathBuf, BufWriter<File>)>,
    /// Bytes in the stream (memory, or file once spilled).
    len: u64,
    deferred: Vec<Deferred>,
}

impl Spool {
    /// `slots` rows, kept in memory up to `limit` bytes, then in a file in
    /// `dir`.
    pub fn new(slots: usize, limit: usize, dir: &Path) -> Spool {
        Spool {
            slots: vec![(0, 0); slots],
            mem: Vec::new(),
            limit,
            dir: dir.to_path_buf(),
            file: None,
            len: 0,
            deferred: Vec::new(),
        }
    }

    /// Whether rows went to a file.
    #[cfg(test)]
    pub fn spilled(&self) -> bool {
        self.file.is_some()
    }

    /// Stores row `values` in `slot`.
    pub fn put(&mut self, slot: usize, values: RowView<'_>) -> io::Result<()> {
        let start = self.mem.len();
        for v in values.iter() {
            match v {
                None => self.mem.extend_from_slice(&NULL.to_le_bytes()),
                Some(Value::Text(s)) => {
                    self.mem.extend_from_slice(&(s.len() as u32).to_le_bytes());
                    self.mem.extend_from_slice(s.as_bytes());
                }
                Some(Value::Deferred(d)) => {
                    self.mem.extend_from_slice(&DEFERRED.to_le_bytes());
                    let i = self.deferred.len() as u32;
                    self.mem.extend_from_slice(&i.to_le_bytes());
                    self.deferred.push(d.clone());
                }
            }
        }
        let n = self.mem.len() - start;
        if let Some(s) = self.slots.get_mut(slot) {
            *s = (self.len, n as u32);
        }
        self.len += n as u64;
        if self.file.is_some() || self.mem.len() > self.limit {
            self.spill()?;
        }
        Ok(())
    }

    /// Moves what is in memory to the file (created on first use).
    fn spill(&mut self) -> io::Result<()> {
        if self.file.is_none() {
            std::fs::create_dir_all(&self.dir)?;
            let path = self.dir.join(format!(
                ".salvage-spool-{}-{:p}",
                std::process::id(),
                self as *const Spool
            ));
            let f = File::options()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)?;
            self.file = Some((path, BufWriter::with_capacity(1 << 20, f)));
        }
        if let Some((_, w)) = &mut self.file {
            w.write_all(&self.mem)?;
        }
        self.mem.clear();
        Ok(())
    }

    /// Every stored row in slot order, `batch` at a time, as views for
    /// `f` (empty slots skipped).
    pub fn replay(
        &mut self,
        ncols: usize,
        batch: usize,
        f: &mut dyn FnMut(&[RowView<'_>]),
    ) -> io::Result<()> {
        if let Some((_, w)) = &mut self.file {
            w.flush()?;
        }
        let mut buf = Vec::new();
        let batch = batch.max(1);
        let mut i = 0;
        while i < self.slots.len() {
            let end = (i + batch).min(self.slots.len());
            let mut rows = TextRows::new(ncols);
            for &(off, len) in &self.slots[i..end] {
                if len == 0 && ncols > 0 {
                    continue;
                }
                let bytes: &[u8] = match &self.file {
                    Some((_, w)) => {
                        buf.resize(len as usize, 0);
                        w.get_ref().read_exact_at(&mut buf, off)?;
                        &buf
                    }
                    None => &self.mem[off as usize..off as usize + len as usize],
                };
                rows.push_row(Fields(bytes, &self.deferred));
            }
            let views: Vec<RowView> = (0..rows.len()).map(|r| rows.row(r)).collect();
            f(&views);
            i = end;
        }
        Ok(())
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        if let Some((path, _)) = self.file.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The values of one stored row (with the spool's deferred values).
struct Fields<'a>(&'a [u8], &'a [Deferred]);

impl<'a> Fields<'a> {
    fn word(&mut self) -> Option<u32> {
        let n = u32::from_le_bytes(self.0.get(..4)?.try_into().ok()?);
        self.0 = &self.0[4..];
        Some(n)
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Option<Value<'a>>;

    fn next(&mut self) -> Option<Option<Value<'a>>> {
        match self.word()? {
            NULL => Some(None),
            DEFERRED => {
                let i = self.word()?;
                Some(self.1.get(i as usize).map(Value::Deferred))
            }
            n => {
                let (s, rest) = self.0.split_at_checked(n as usize)?;
                self.0 = rest;
                // Stored from a &str: always UTF-8.
                Some(std::str::from_utf8(s).ok().map(Value::Text))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replayed(s: &mut Spool) -> Vec<Vec<Option<String>>> {
        let mut out = Vec::new();
        s.replay(3, 2, &mut |rows| {
            out.extend(rows.iter().map(|r| r.to_values()))
        })
        .unwrap();
        out
    }

    #[test]
    fn rows_come_back_in_slot_order_in_memory_and_spilled() {
        let dir = tempfile::tempdir().unwrap();
        let mut src = TextRows::new(3);
        let t = |s| Some(Value::Text(s));
        src.push_row([t("a"), None, t("")]);
        src.push_row([t("b,c"), t("\\N"), None]);
        src.push_row([None, None, None]);
        let want = vec![
            src.row(2).to_values(),
            src.row(0).to_values(),
            src.row(1).to_values(),
        ];
        for limit in [usize::MAX, 0, 10] {
            let mut s = Spool::new(3, limit, dir.path());
            s.put(1, src.row(0)).unwrap();
            s.put(2, src.row(1)).unwrap();
            s.put(0, src.row(2)).unwrap();
            assert_eq!(s.spilled(), limit != usize::MAX);
            assert_eq!(replayed(&mut s), want, "limit {limit}");
        }
        // The spill files are gone with their spools.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn deferred_values_come_back_as_they_went() {
        use crate::innodb::deferred::Form;
        use crate::innodb::lob::ExternRef;
        let dir = tempfile::tempdir().unwrap();
        let d = |page_no| Deferred {
            local: vec![1, 2, 3].into(),
            extern_ref: ExternRef {
                space_id: 9,
                page_no,
                offset: 38,
                len: 1 << 30,
                owner: true,
                inherited: false,
            },
            form: Form::Hex,
            quoted: false,
        };
        let (d1, d2) = (d(100), d(200));
        let mut src = TextRows::new(3);
        src.push_row([Some(Value::Text("a")), Some(Value::Deferred(&d1)), None]);
        src.push_row([Some(Value::Deferred(&d2)), None, Some(Value::Text("b"))]);
        for limit in [usize::MAX, 0] {
            let mut s = Spool::new(2, limit, dir.path());
            s.put(1, src.row(0)).unwrap();
            s.put(0, src.row(1)).unwrap();
            let mut got = Vec::new();
            s.replay(3, 1, &mut |rows| {
                for r in rows {
                    let v: Vec<Option<Value>> = r.iter().collect();
                    got.push(format!("{v:?}"));
                }
            })
            .unwrap();
            let want: Vec<String> = [1, 0]
                .map(|i| format!("{:?}", src.row(i).iter().collect::<Vec<_>>()))
                .to_vec();
            assert_eq!(got, want, "limit {limit}");
        }
    }
}
