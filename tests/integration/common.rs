//! Helpers shared by the integration tests.

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

/// A small deterministic PRNG (xorshift64*), so generated images are the
/// same on every run and machine.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn fill(&mut self, buf: &mut [u8]) {
        let mut chunks = buf.chunks_exact_mut(8);
        for c in &mut chunks {
            c.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        let v = self.next_u64().to_le_bytes();
        let r = chunks.into_remainder();
        let n = r.len();
        r.copy_from_slice(&v[..n]);
    }
}

/// The (offset, space, page no, type, size, checksum, status) of every page
/// a scan of `path` finds, shifted by `base`: what a scan of an image that
/// holds the file at `base` must find.
pub fn page_keys(
    store: &PageStore,
    base: u64,
) -> Vec<(u64, u32, u32, u16, u32, &'static str, &'static str)> {
    store
        .pages
        .iter()
        .map(|p| {
            (
                p.offset + base,
                p.space_id,
                p.page_no,
                p.page_type,
                p.phys_size,
                p.checksum.as_str(),
                p.status.as_str(),
            )
        })
        .collect()
}

/// A deterministic pick of corpus tablespaces of every server version.
pub fn corpus_sample(n: usize, seed: u64) -> Vec<PathBuf> {
    let mut all = files_with_ext(&corpus(), ".ibd");
    all.retain(|p| {
        std::fs::metadata(p)
            .map(|m| m.len() <= 4 << 20)
            .unwrap_or(false)
    });
    let mut rng = Rng(seed);
    let mut out = Vec::new();
    while out.len() < n && !all.is_empty() {
        let i = rng.below(all.len() as u64) as usize;
        out.push(all.swap_remove(i));
    }
    out
}

/// Writes an image of `size` bytes of random filler with `files` placed at
/// random 512-byte-aligned (deliberately not page-aligned) offsets, none
/// overlapping. Returns the offsets chosen.
pub fn build_embedded_image(path: &Path, size: u64, files: &[Vec<u8>], seed: u64) -> Vec<u64> {
    use std::io::{Seek, SeekFrom, Write};
    let mut rng = Rng(seed);
    let mut f = std::fs::File::create(path).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut written = 0u64;
    while written < size {
        let n = (size - written).min(buf.len() as u64) as usize;
        rng.fill(&mut buf[..n]);
        f.write_all(&buf[..n]).unwrap();
        written += n as u64;
    }
    // In order, each after a random gap of at least 64 KiB, at a 512-byte
    // (half the time not 4 KiB-aligned) offset.
    let total: u64 = files.iter().map(|d| d.len() as u64 + 65536 + 4096).sum();
    assert!(
        total <= size,
        "{total} bytes of files do not fit a {size}-byte image"
    );
    let slack = (size - total) / (files.len() as u64 + 1);
    let mut offsets = Vec::new();
    let mut pos = 0u64;
    for data in files {
        let gap = 65536 + rng.below(slack.max(1));
        let mut off = (pos + gap).div_ceil(4096) * 4096;
        if rng.below(2) == 0 {
            off += 512 * (1 + rng.below(7));
        }
        f.seek(SeekFrom::Start(off)).unwrap();
        f.write_all(data).unwrap();
        offsets.push(off);
        pos = off + data.len() as u64;
    }
    f.flush().unwrap();
    offsets
}

/// Unpacks `fixtures/<instance>/datadir.tar.zst` (a MariaDB data directory
/// written by scripts/make-fixtures.sh) into a temporary directory.
pub fn unpack_datadir(instance: &str) -> tempfile::TempDir {
    let src = fixtures().join(instance).join("datadir.tar.zst");
    let f = std::fs::File::open(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
    let dir = tempfile::Builder::new()
        .prefix("salvage-datadir")
        .tempdir()
        .unwrap();
    let dec = zstd::stream::read::Decoder::new(f).unwrap();
    tar::Archive::new(dec).unpack(dir.path()).unwrap();
    dir
}

/// The InnoDB data files of an unpacked data directory (ibdata*, undo*, *.ibd).
pub fn innodb_files(dir: &Path) -> Vec<PathBuf> {
    let mut v = files_with_ext(dir, ".ibd");
    for name in ["ibdata1", "undo001", "undo002", "undo003"] {
        let p = dir.join(name);
        if p.exists() {
            v.push(p);
        }
    }
    v.sort();
    v
}

/// Decompresses a committed `.zst` fixture into memory.
pub fn unzstd(rel: &str) -> Vec<u8> {
    let p = fixtures().join(rel);
    let f = std::fs::File::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    zstd::stream::decode_all(f).unwrap()
}

/// The damage recipe `fixtures/<rel>` (for [`apply_damage`]).
pub fn recipe(rel: &str) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(fixtures().join(rel)).unwrap()).unwrap()
}

/// The fixture image `image` (`fixtures/<image>`, zstd) with the damage
/// recipe `recipe_rel` applied.
pub fn damaged(image: &str, recipe_rel: &str) -> Vec<u8> {
    let mut img = unzstd(image);
    apply_damage(&mut img, &recipe(recipe_rel));
    img
}

/// Applies a damage recipe (`fixtures/images/damage/*.json`: zero, xor and
/// truncate operations at disk offsets) to an image in memory. Returns the
/// byte ranges the recipe touched.
pub fn apply_damage(img: &mut Vec<u8>, recipe: &serde_json::Value) -> Vec<(u64, u64)> {
    let mut touched = Vec::new();
    for op in recipe["ops"].as_array().expect("ops") {
        let off = op["offset"]
            .as_u64()
            .or_else(|| op["len"].as_u64().map(|_| 0))
            .unwrap_or(0);
        match op["op"].as_str().expect("op") {
            "zero" => {
                let len = op["len"].as_u64().unwrap();
                let end = (off + len).min(img.len() as u64);
                img[off as usize..end as usize].fill(0);
                touched.push((off, off + len));
            }
            "xor" => {
                let v = op["value"].as_u64().unwrap() as u8;
                img[off as usize] ^= v;
                touched.push((off, off + 1));
            }
            "truncate" => {
                let len = op["len"]
                    .as_u64()
                    .or(op["size"].as_u64())
                    .or(op["offset"].as_u64())
                    .unwrap();
                img.truncate(len as usize);
                touched.push((len, u64::MAX));
            }
            other => panic!("unknown damage op {other}"),
        }
    }
    touched
}

/// Every file of an unpacked data directory, each starting on a 64 KiB
/// boundary, in one image.
pub fn lay_out(datadir: &Path, img: &Path) {
    let mut files = Vec::new();
    let mut stack = vec![datadir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut out = Vec::new();
    for f in files {
        out.extend(std::fs::read(&f).unwrap());
        out.resize(out.len().div_ceil(65536) * 65536, 0);
    }
    std::fs::write(img, out).unwrap();
}

/// Runs `salvage recover IMAGE -o OUT ARGS...` and asserts its exit code
/// (stderr shown when it differs).
pub fn recover_with<S: AsRef<std::ffi::OsStr>>(
    img: &Path,
    out: &Path,
    args: &[S],
    code: i32,
) -> std::process::Output {
    let o = assert_cmd::Command::cargo_bin("salvage")
        .unwrap()
        .arg("recover")
        .arg(img)
        .arg("-o")
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// The bytes of an output file as two runs of the same recovery must agree
/// on: `report.json` without the seconds each stage took, `report.html`
/// without its row of them.
pub fn comparable(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.file_name().is_some_and(|n| n == "report.json") {
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        if let Some(o) = v.as_object_mut() {
            o.remove("seconds");
        }
        return serde_json::to_vec_pretty(&v).unwrap();
    }
    if path.file_name().is_some_and(|n| n == "report.html") {
        // The seconds each stage took, one row of the Image section.
        let text = String::from_utf8(bytes).unwrap();
        let kept: Vec<&str> = text
            .split_inclusive('\n')
            .filter(|l| !l.starts_with("<tr><th>time</th>"))
            .collect();
        return kept.concat().into_bytes();
    }
    bytes
}

/// Runs `python3 scripts/fixtures/<script> ARGS...`, a helper that starts a
/// real MariaDB server, and asserts it succeeded. Fails loudly when
/// mariadbd is missing (scripts/test.sh installs it), never skips.
pub fn mariadb_script<S: AsRef<std::ffi::OsStr>>(script: &str, args: &[S]) {
    assert!(
        std::process::Command::new("mariadbd")
            .arg("--version")
            .output()
            .is_ok(),
        "mariadbd is required (scripts/test.sh installs mariadb-server)"
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scripts/fixtures")
        .join(script);
    let st = std::process::Command::new("python3")
        .arg(path)
        .args(args)
        .status()
        .unwrap();
    assert!(st.success(), "{script} failed");
}
