//! What the reader noticed: one note per damaged or odd structure, keyed by
//! its kind and offset, kept up to a bound (later ones are only counted).

use std::collections::HashSet;
use std::sync::Mutex;

use super::MAX_NOTES;

/// Which structure a note is about (with its offset, the dedup key).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Kind {
    Header,
    L1,
    L2,
    Short,
    Compressed,
    Io,
}

#[derive(Default)]
pub(super) struct NoteList {
    pub(super) list: Vec<String>,
    seen: HashSet<(Kind, u64)>,
    pub(super) dropped: u64,
}

#[derive(Default)]
pub(super) struct Notes(Mutex<NoteList>);

impl Notes {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, NoteList> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the note `text()` once for (`kind`, `at`).
    pub(super) fn add(&self, kind: Kind, at: u64, text: impl FnOnce() -> String) {
        let mut g = self.lock();
        if g.seen.contains(&(kind, at)) {
            return;
        }
        if g.list.len() >= MAX_NOTES {
            // Bounded: later structures are only counted (repeats included).
            g.dropped += 1;
            return;
        }
        if g.seen.insert((kind, at)) {
            g.list.push(text());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Kind, Notes, MAX_NOTES};

    #[test]
    fn once_per_structure_and_bounded() {
        let n = Notes::default();
        for _ in 0..3 {
            n.add(Kind::L2, 0x5000, || "L2 table at 0x5000".into());
        }
        n.add(Kind::L1, 0x5000, || "L1 entry at 0x5000".into());
        assert_eq!(n.lock().list.len(), 2);
        for i in 0..MAX_NOTES as u64 + 5 {
            n.add(Kind::Compressed, i, || format!("cluster at {i:#x}"));
        }
        let g = n.lock();
        assert_eq!(g.list.len(), MAX_NOTES);
        assert_eq!(g.dropped, 7);
    }
}
