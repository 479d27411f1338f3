//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use salvage::carve::scan::ScanRange;
use salvage::carve::store::PageStore;
use salvage::image::{Image, ReadMode};

/// The shared corpus of real InnoDB files (`../shared/corpus`), which CI has
/// at the same relative path. Missing corpus is a hard failure, never a skip.
pub fn corpus() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    assert!(
        p.is_dir(),
        "the shared corpus is missing at {}",
        p.display()
    );
    p
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Every file under `dir` (recursively) whose name ends with `ext`, sorted.
pub fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Carves a whole file with the library, on a pool of `threads`.
pub fn carve_file(path: &Path, threads: usize) -> PageStore {
    let image = Image::open(path, ReadMode::Mmap).expect("open image");
    let range = ScanRange {
        start: 0,
        end: image.size(),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| salvage::carve::carve(&image, range, &|_| {}))
}
