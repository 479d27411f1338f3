//! Files as extra address space of the image.
//!
//! A file that its filesystem keeps in many fragments is read through its
//! block map: the overlay places each such file at a *virtual offset* above
//! the end of the image, where its bytes lie in file order. The carver and
//! everything after it read virtual offsets through [`super::Image`] like any
//! other, so a page split across two fragments is one page there. Holes of
//! the file read as zeros.

/// One file's block map: `(file_offset, image_offset, len)` runs in file
/// order, holes left out.
#[derive(Debug, Clone, Default)]
pub struct FileRuns {
    pub size: u64,
    pub runs: Vec<(u64, u64, u64)>,
}

/// Where each attached file lies in the virtual address space.
#[derive(Debug, Default)]
pub struct Overlay {
    /// First virtual offset: above the image, on a 1 GiB boundary.
    pub base: u64,
    /// Virtual start of each file, ascending; `files[i]` starts at `starts[i]`.
    pub starts: Vec<u64>,
    pub files: Vec<FileRuns>,
}

/// Virtual files are placed on this alignment (a whole number of any page size).
const ALIGN: u64 = 1 << 20;

impl Overlay {
    pub fn new(image_size: u64, files: Vec<FileRuns>) -> Overlay {
        let base = (image_size / (1 << 30) + 2) << 30;
        let mut starts = Vec::with_capacity(files.len());
        let mut at = base;
        for f in &files {
            starts.push(at);
            at = at.saturating_add(f.size.div_ceil(ALIGN).max(1).saturating_mul(ALIGN));
        }
        Overlay {
            base,
            starts,
            files,
        }
    }

    /// The virtual end (past the last file).
    pub fn end(&self) -> u64 {
        match (self.starts.last(), self.files.last()) {
            (Some(s), Some(f)) => s + f.size,
            _ => self.base,
        }
    }

    /// The file holding virtual offset `virt` and the offset in it.
    pub fn locate(&self, virt: u64) -> Option<(usize, u64)> {
        let i = self.starts.partition_point(|&s| s <= virt).checked_sub(1)?;
        let off = virt - self.starts[i];
        (off < self.files[i].size).then_some((i, off))
    }

    /// The image runs under virtual bytes `virt..virt+len` (one file only):
    /// `(image_offset, buf_offset, len)`.
    pub fn runs(&self, virt: u64, len: usize) -> Vec<(u64, usize, usize)> {
        let mut out = Vec::new();
        let Some((i, off)) = self.locate(virt) else {
            return out;
        };
        let f = &self.files[i];
        let end = (off + len as u64).min(f.size);
        let first = f.runs.partition_point(|r| r.0.saturating_add(r.2) <= off);
        for &(fo, io, l) in &f.runs[first..] {
            if fo >= end {
                break;
            }
            let s = fo.max(off);
            let e = fo.saturating_add(l).min(end);
            if s < e {
                out.push((
                    io.saturating_add(s - fo),
                    (s - off) as usize,
                    (e - s) as usize,
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_lie_above_the_image_in_file_order() {
        let o = Overlay::new(
            10 << 30,
            vec![
                FileRuns {
                    size: 12288,
                    runs: vec![(0, 8192, 4096), (8192, 0, 4096)],
                },
                FileRuns {
                    size: 100,
                    runs: vec![(0, 4096, 100)],
                },
            ],
        );
        assert_eq!(o.base, 12 << 30);
        assert_eq!(o.locate(o.base + 5), Some((0, 5)));
        assert_eq!(o.locate(o.base + 12288), None);
        assert_eq!(o.locate(o.starts[1] + 99), Some((1, 99)));
        // A read across the hole at 4096..8192: two runs, the hole left out.
        assert_eq!(
            o.runs(o.base + 4000, 5000),
            vec![(8192 + 4000, 0, 96), (0, 4192, 808)]
        );
    }
}
