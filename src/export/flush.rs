//! Output that is written once and read later (a big table's CSV) handed
//! to the disk as it grows and dropped from the page cache.
//!
//! Left alone, the kernel keeps every byte written in its page cache until
//! memory runs short: a 300 GiB recovery would push the image's own pages
//! out, and every new page of cache is memory touched for the first time
//! (on virtual machines that give freed memory back to the host, that is a
//! fault in the host for each 4 KiB). So every [`STEP`] bytes written to a
//! file, a background thread has the disk take them (`fdatasync`) and drops
//! the written part from the cache (`POSIX_FADV_DONTNEED`): the cache holds
//! at most a few steps of each file, and its pages are reused. The writer
//! never waits for the disk; small files are never touched.
//!
//! A write-back error seen by the thread is returned by the file's next
//! write or flush, naming the file (the kernel reports it once, and only to
//! whoever syncs).

use std::fs::File;
use std::io::{self, Write};
use std::num::NonZeroU64;
use std::path::PathBuf;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

/// Bytes written to a file between two requests to the thread.
pub const STEP: u64 = 32 << 20;

/// One request: `file`'s first `upto` bytes are written.
struct Job {
    file: Arc<File>,
    upto: u64,
}

/// The error the thread saw first, with the file it was writing.
type Failure = Arc<Mutex<Option<io::Error>>>;

/// The background thread's end of the files of one run. The thread ends
/// when the flusher and every file made from it are dropped.
pub struct Flusher {
    tx: Sender<(Job, PathBuf, Failure)>,
}

impl Flusher {
    pub fn new() -> Flusher {
        let (tx, rx) = channel();
        // If the thread cannot start, files are only written (the kernel
        // keeps them as it would).
        let _ = std::thread::Builder::new()
            .name("salvage-flush".into())
            .spawn(move || run(rx));
        Flusher { tx }
    }

    /// `file` (just created at `path`) written through the flusher.
    pub fn file(&self, file: File, path: PathBuf) -> Flushed {
        Flushed {
            file: Arc::new(file),
            path,
            written: 0,
            asked: 0,
            tx: self.tx.clone(),
            failure: Arc::new(Mutex::new(None)),
        }
    }
}

impl Default for Flusher {
    fn default() -> Self {
        Flusher::new()
    }
}

/// A file written through a [`Flusher`].
pub struct Flushed {
    file: Arc<File>,
    path: PathBuf,
    written: u64,
    asked: u64,
    tx: Sender<(Job, PathBuf, Failure)>,
    failure: Failure,
}

impl Flushed {
    /// The thread's error, if it saw one.
    fn check(&self) -> io::Result<()> {
        match self.failure.lock().map(|mut f| f.take()) {
            Ok(Some(e)) => Err(e),
            _ => Ok(()),
        }
    }
}

impl Write for Flushed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = (&*self.file).write(buf)?;
        self.written += n as u64;
        if self.written - self.asked >= STEP {
            self.check()?;
            self.asked = self.written;
            let job = Job {
                file: Arc::clone(&self.file),
                upto: self.written,
            };
            // A thread that is gone leaves the file to the kernel.
            let _ = self
                .tx
                .send((job, self.path.clone(), Arc::clone(&self.failure)));
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.check()
    }
}

/// The thread: requests taken in turn, the newest of each file only.
fn run(rx: Receiver<(Job, PathBuf, Failure)>) {
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        jobs.extend(rx.try_iter());
        let mut latest: Vec<(Job, PathBuf, Failure)> = Vec::new();
        for j in jobs {
            match latest
                .iter_mut()
                .find(|l| Arc::ptr_eq(&l.0.file, &j.0.file))
            {
                Some(l) => l.0.upto = l.0.upto.max(j.0.upto),
                None => latest.push(j),
            }
        }
        for (job, path, failure) in latest {
            if let Err(e) = job.file.sync_data() {
                if let Ok(mut f) = failure.lock() {
                    f.get_or_insert(io::Error::new(
                        e.kind(),
                        format!("writing {}: {e}", path.display()),
                    ));
                }
                continue;
            }
            // Advice only: a file system without it keeps the pages.
            let _ = rustix::fs::fadvise(
                &*job.file,
                0,
                NonZeroU64::new(job.upto),
                rustix::fs::Advice::DontNeed,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_written_whole_through_the_flusher() {
        let dir = tempfile::tempdir().unwrap();
        let flusher = Flusher::new();
        let mut expect = Vec::new();
        let mut files = Vec::new();
        for k in 0..2u8 {
            let path = dir.path().join(format!("f{k}"));
            let f = flusher.file(File::create(&path).unwrap(), path.clone());
            files.push((path, f));
        }
        // Interleaved writes of 1 MiB blocks past three steps.
        let blocks = ((3 * STEP) >> 20) as usize + 5;
        for i in 0..blocks {
            let block: Vec<u8> = (0..1 << 20).map(|j| (i * 31 + j * 7) as u8).collect();
            for (k, (_, f)) in files.iter_mut().enumerate() {
                f.write_all(&block[k..]).unwrap();
            }
            expect.push(block);
        }
        drop(flusher);
        for (k, (path, mut f)) in files.into_iter().enumerate() {
            f.flush().unwrap();
            drop(f);
            let got = std::fs::read(&path).unwrap();
            let want: Vec<u8> = expect.iter().flat_map(|b| b[k..].to_vec()).collect();
            assert_eq!(got.len(), want.len());
            assert!(got == want, "file {k} differs");
        }
    }
}
