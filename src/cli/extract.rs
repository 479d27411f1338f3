//! `salvage extract`: copies files out of the image's filesystems byte-exact
//! (holes as zeros), like `icat` / `tsk_recover`. Directories are copied
//! recursively; symlinks are recreated; names that would leave the output
//! directory (`..`, `/`) are refused.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use salvage::image::Image;
use salvage::layout::files::{self, Found};
use salvage::layout::fs::{FileKind, Inode};
use salvage::layout::{self, Volume};

use super::{ls, progress, Fatal, FsImageArgs};

/// One copied file, as `--json` prints it.
#[derive(Serialize)]
struct Copied {
    path: String,
    out: String,
    #[serde(rename = "type")]
    kind: FileKind,
    size: u64,
    error: Option<String>,
    /// Something to know about a copy that succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

pub fn run(
    args: &FsImageArgs,
    paths: &[String],
    out: &Path,
    json: bool,
) -> Result<ExitCode, Fatal> {
    let image = args.image_args().open()?;
    let layout = layout::open(&image);
    ls::warn_notes(&layout);
    let mut resolved = Vec::new();
    for p in paths {
        let (vi, inode) = layout
            .resolve(&image, p)
            .map_err(|e| Fatal(format!("{p}: {e}")))?;
        let shown = p.split_once(':').map_or(p.as_str(), |(_, r)| r).to_string();
        resolved.push((vi, inode, shown));
    }
    let single_file = resolved.len() == 1 && resolved[0].1.kind != FileKind::Dir && !out.is_dir();
    let total: u64 = resolved.iter().map(|r| r.1.size).sum();
    let bar = progress::bytes(total, "extracting");
    let mut done = Vec::new();
    let mut failed = 0usize;
    for (vi, inode, shown) in &resolved {
        let vol = &layout.volumes[*vi];
        if single_file {
            done.push(copy_one(&image, inode, shown, out));
            continue;
        }
        fs::create_dir_all(out).map_err(|e| Fatal(format!("{}: {e}", out.display())))?;
        let base = Path::new(shown.as_str())
            .file_name()
            .map(Path::new)
            .unwrap_or(Path::new("root"));
        let dest = out.join(base);
        done.push(copy_one(&image, inode, shown, &dest));
        if inode.kind == FileKind::Dir {
            copy_tree(&image, vol, inode, shown, &dest, &mut done, &bar);
            set_times(&dest, inode);
        }
    }
    bar.finish_and_clear();
    let mut stdout = BufWriter::new(io::stdout().lock());
    for c in &done {
        if let Some(e) = &c.error {
            failed += 1;
            eprintln!("warning: {}: {e}", c.path);
        }
        if let Some(n) = &c.note {
            eprintln!("warning: {}: {n}", c.path);
        }
    }
    if json {
        serde_json::to_writer_pretty(&mut stdout, &done)?;
        writeln!(stdout)?;
    } else {
        let files = done.iter().filter(|c| c.error.is_none()).count();
        let bytes: u64 = done
            .iter()
            .filter(|c| c.error.is_none())
            .map(|c| c.size)
            .sum();
        writeln!(
            stdout,
            "extracted {files} entries ({bytes} bytes) to {}{}",
            out.display(),
            if failed > 0 {
                format!(", {failed} failed")
            } else {
                String::new()
            }
        )?;
    }
    stdout.flush()?;
    Ok(if done.iter().any(|c| c.error.is_none()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn copy_tree(
    image: &Image,
    vol: &Volume,
    dir: &Inode,
    shown: &str,
    dest: &Path,
    done: &mut Vec<Copied>,
    bar: &indicatif::ProgressBar,
) {
    let mut dirs: Vec<(PathBuf, Inode)> = Vec::new();
    let mut unreadable = Vec::new();
    files::walk(
        vol.fs.as_ref(),
        dir,
        shown.as_bytes(),
        true,
        false,
        &mut |f: &Found| {
            let Some(rel) = relative(&f.path, shown.as_bytes()) else {
                done.push(failed(
                    f,
                    dest,
                    "a name that would leave the output directory",
                ));
                return;
            };
            let target = dest.join(rel);
            match &f.inode {
                Ok(inode) => {
                    let c = copy_one(image, inode, &files::lossy(&f.path), &target);
                    bar.inc(c.size);
                    if inode.kind == FileKind::Dir {
                        dirs.push((target, inode.clone()));
                    }
                    done.push(c);
                }
                Err(e) => done.push(failed(f, &target, &e.to_string())),
            }
        },
        &mut |p, e| {
            unreadable.push(Copied {
                path: files::lossy(p),
                out: String::new(),
                kind: FileKind::Dir,
                size: 0,
                error: Some(format!("directory unreadable: {e}")),
                note: None,
            })
        },
    );
    done.extend(unreadable);
    // Directory times last: writing into a directory changes its mtime.
    for (d, inode) in dirs.iter().rev() {
        set_times(d, inode);
    }
}

fn failed(f: &Found, out: &Path, why: &str) -> Copied {
    Copied {
        path: files::lossy(&f.path),
        out: out.display().to_string(),
        kind: f.entry.kind.unwrap_or(FileKind::Unknown),
        size: 0,
        error: Some(why.to_string()),
        note: None,
    }
}

/// `path` below `base`, as a relative path of safe components.
fn relative(path: &[u8], base: &[u8]) -> Option<PathBuf> {
    let rest = path.strip_prefix(base)?;
    let mut out = PathBuf::new();
    for part in rest.split(|&b| b == b'/').filter(|p| !p.is_empty()) {
        if part == b"." || part == b".." || part.contains(&0) {
            return None;
        }
        out.push(OsStr::from_bytes(part));
    }
    Some(out)
}

fn copy_one(image: &Image, inode: &Inode, shown: &str, dest: &Path) -> Copied {
    let mut c = Copied {
        path: shown.to_string(),
        out: dest.display().to_string(),
        kind: inode.kind,
        size: 0,
        error: None,
        note: None,
    };
    let r = match inode.kind {
        FileKind::Dir => fs::create_dir_all(dest),
        FileKind::Regular => (|| {
            let mut f = BufWriter::with_capacity(1 << 20, File::create(dest)?);
            let mut buf = vec![0u8; 1 << 20];
            let mut nonzero = false;
            while c.size < inode.size {
                let n = files::read_at(image, inode, c.size, &mut buf);
                if n == 0 {
                    break;
                }
                nonzero = nonzero || buf[..n].iter().any(|&b| b != 0);
                f.write_all(&buf[..n])?;
                c.size += n as u64;
            }
            if !nonzero && c.size > 0 && !inode.extents.is_empty() {
                c.note = Some(format!(
                    "all {} bytes read as zeros: its data blocks may have been wiped",
                    c.size
                ));
            }
            f.flush()?;
            drop(f);
            set_times(dest, inode);
            fs::set_permissions(
                dest,
                fs::Permissions::from_mode(u32::from(inode.mode & 0o7777)),
            )
        })(),
        FileKind::Symlink => {
            let target = files::symlink_target(image, inode);
            c.size = target.len() as u64;
            let _ = fs::remove_file(dest);
            std::os::unix::fs::symlink(OsStr::from_bytes(&target), dest)
        }
        other => Err(io::Error::other(format!(
            "{} not copied (a {:?}, not a regular file)",
            shown, other
        ))),
    };
    if let Err(e) = r {
        c.error = Some(e.to_string());
    }
    c
}

fn set_times(dest: &Path, inode: &Inode) {
    let t = if inode.mtime >= 0 {
        SystemTime::UNIX_EPOCH
            + Duration::new(inode.mtime as u64, inode.mtime_nsec.min(999_999_999))
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs(inode.mtime.unsigned_abs())
    };
    if let Ok(f) = File::options().read(true).open(dest) {
        let _ = f.set_modified(t);
    }
}
