//! Bytes made in memory as extra address space of the image: the pages the
//! redo log brought up to date ([`crate::carve::redo`]). They lie at a
//! fixed virtual offset far above any image and any attached file
//! ([`BASE`]), so every later stage reads them through
//! [`super::Image::bytes`] like pages found on the disk.

/// First virtual offset of the memory region (1 EiB).
pub const BASE: u64 = 1 << 60;

/// The region: `data` at virtual offsets `BASE..BASE + data.len()`.
#[derive(Debug, Default)]
pub struct Memory {
    pub data: Vec<u8>,
}

impl Memory {
    /// The bytes at virtual `off..off+len`, clipped to the region.
    pub fn get(&self, off: u64, len: usize) -> &[u8] {
        let Some(start) = off.checked_sub(BASE).and_then(|s| usize::try_from(s).ok()) else {
            return &[];
        };
        if start >= self.data.len() {
            return &[];
        }
        let end = start.saturating_add(len).min(self.data.len());
        &self.data[start..end]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_clipped_to_the_region() {
        let m = Memory {
            data: vec![1, 2, 3, 4],
        };
        assert_eq!(m.get(BASE + 1, 2), &[2, 3]);
        assert_eq!(m.get(BASE + 3, 10), &[4]);
        assert_eq!(m.get(BASE + 4, 1), &[] as &[u8]);
        assert_eq!(m.get(5, 1), &[] as &[u8]);
    }
}
