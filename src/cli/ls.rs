//! `salvage ls`: the files of the image's filesystems, like `ls -l` / `fls`.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use owo_colors::{OwoColorize, Stream};
use serde::Serialize;

use salvage::layout::files::{self, Found};
use salvage::layout::fs::{FileKind, Inode};
use salvage::layout::{self, Layout};

use super::{Fatal, FsImageArgs};

pub struct Options {
    pub long: bool,
    pub recursive: bool,
    pub deleted: bool,
    pub json: bool,
}

/// One listed file, as `--json` prints it.
#[derive(Serialize)]
pub struct Entry {
    pub partition: u32,
    pub fs: &'static str,
    pub path: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: FileKind,
    pub inode: u64,
    pub deleted: bool,
    /// `None` when the inode could not be read (the error is in `error`).
    pub mode: Option<String>,
    pub nlink: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u64>,
    /// Modification time, `YYYY-MM-DD HH:MM:SS` UTC.
    pub mtime: Option<String>,
    pub target: Option<String>,
    pub error: Option<String>,
}

pub fn run(args: &FsImageArgs, path: Option<&str>, opt: Options) -> Result<ExitCode, Fatal> {
    let image = args.image_args().open()?;
    let layout = layout::open(&image);
    warn_notes(&layout);
    let mut out = BufWriter::new(io::stdout().lock());
    let mut n = 0usize;
    let mut first = true;
    if opt.json {
        write!(out, "[")?;
    }
    let mut emit = |e: Entry, out: &mut BufWriter<io::StdoutLock>| -> io::Result<()> {
        n += 1;
        if opt.json {
            if !first {
                write!(out, ",")?;
            }
            first = false;
            writeln!(out)?;
            serde_json::to_writer(&mut *out, &e)?;
            Ok(())
        } else {
            print_entry(out, &e, opt.long)
        }
    };
    let targets: Vec<(usize, Inode, String)> = match path {
        Some(p) => {
            let (vi, inode) = layout.resolve(&image, p).map_err(Fatal)?;
            let shown = p.split_once(':').map_or(p, |(_, r)| r).to_string();
            vec![(vi, inode, shown)]
        }
        None => {
            if layout.volumes.is_empty() {
                return Err(Fatal(format!(
                    "{}: no ext4 or XFS filesystem found (partitions: {})",
                    args.image.display(),
                    layout.partitions.len()
                )));
            }
            let mut v = Vec::new();
            for (i, vol) in layout.volumes.iter().enumerate() {
                let root = vol.fs.inode(vol.fs.root()).map_err(|e| {
                    Fatal(format!("{}: root directory unreadable: {e}", vol.name()))
                })?;
                v.push((i, root, "/".to_string()));
            }
            v
        }
    };
    for (vi, inode, shown) in targets {
        let vol = &layout.volumes[vi];
        let fs = vol.fs.as_ref();
        if inode.kind != FileKind::Dir {
            let name = shown.rsplit('/').next().unwrap_or(&shown).to_string();
            let e = entry(
                vol,
                &image,
                shown.as_bytes(),
                &name,
                inode.ino,
                false,
                Ok(&inode),
            );
            emit(e, &mut out)?;
            continue;
        }
        let mut err = None;
        files::walk(
            fs,
            &inode,
            shown.as_bytes(),
            opt.recursive,
            opt.deleted,
            &mut |f: &Found| {
                if err.is_some() {
                    return;
                }
                let name = files::lossy(&f.entry.name);
                let e = entry(
                    vol,
                    &image,
                    &f.path,
                    &name,
                    f.entry.ino,
                    f.entry.deleted,
                    f.inode.as_ref(),
                );
                if let Err(e) = emit(e, &mut out) {
                    err = Some(e);
                }
            },
            &mut |p, e| eprintln!("warning: {}: {}", files::lossy(p), e),
        );
        if let Some(e) = err {
            return Err(e.into());
        }
    }
    if opt.json {
        writeln!(out, "\n]")?;
    }
    out.flush()?;
    Ok(if n > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Prints the layout's notes (damage met, backups used) on stderr.
pub fn warn_notes(layout: &Layout) {
    for (who, n) in layout.all_notes() {
        eprintln!(
            "{}: {who}: {n}",
            "note".if_supports_color(Stream::Stderr, |t| t.yellow())
        );
    }
}

fn entry(
    vol: &layout::Volume,
    image: &salvage::image::Image,
    path: &[u8],
    name: &str,
    ino: u64,
    deleted: bool,
    inode: Result<&Inode, &salvage::layout::fs::FsError>,
) -> Entry {
    let mut e = Entry {
        partition: vol.partition.number,
        fs: vol.fs.kind(),
        path: files::lossy(path),
        name: name.to_string(),
        kind: FileKind::Unknown,
        inode: ino,
        deleted,
        mode: None,
        nlink: None,
        uid: None,
        gid: None,
        size: None,
        mtime: None,
        target: None,
        error: None,
    };
    match inode {
        Ok(i) => {
            e.kind = i.kind;
            e.deleted |= i.deleted;
            e.mode = Some(mode_string(i.kind, i.mode));
            e.nlink = Some(i.nlink);
            e.uid = Some(i.uid);
            e.gid = Some(i.gid);
            e.size = Some(i.size);
            e.mtime = Some(utc(i.mtime));
            if i.kind == FileKind::Symlink {
                e.target = Some(files::lossy(&files::symlink_target(image, i)));
            }
        }
        Err(err) => e.error = Some(err.to_string()),
    }
    e
}

fn print_entry(out: &mut impl Write, e: &Entry, long: bool) -> io::Result<()> {
    let deleted = if e.deleted { " (deleted)" } else { "" };
    if !long {
        return writeln!(out, "{}{deleted}", e.path);
    }
    let dash = "-".to_string();
    let target = e
        .target
        .as_ref()
        .map(|t| format!(" -> {t}"))
        .unwrap_or_default();
    let line = format!(
        "{} {:>3} {:>5} {:>5} {:>12} {} {:>9} p{}:{} {}{}{}",
        e.mode.as_deref().unwrap_or("??????????"),
        e.nlink.map_or(dash.clone(), |n| n.to_string()),
        e.uid.map_or(dash.clone(), |n| n.to_string()),
        e.gid.map_or(dash.clone(), |n| n.to_string()),
        e.size.map_or(dash.clone(), |n| n.to_string()),
        e.mtime.as_deref().unwrap_or("-------------------"),
        e.inode,
        e.partition,
        e.fs,
        e.path,
        target,
        deleted,
    );
    if e.deleted {
        writeln!(
            out,
            "{}",
            line.if_supports_color(Stream::Stdout, |t| t.red())
        )
    } else {
        writeln!(out, "{line}")
    }
}

/// `drwxr-xr-x` from a kind and mode (setuid/setgid/sticky shown as ls does).
pub fn mode_string(kind: FileKind, mode: u16) -> String {
    let mut s = String::with_capacity(10);
    s.push(kind.letter());
    let bits = [
        (0o400, 'r'),
        (0o200, 'w'),
        (0o100, 'x'),
        (0o040, 'r'),
        (0o020, 'w'),
        (0o010, 'x'),
        (0o004, 'r'),
        (0o002, 'w'),
        (0o001, 'x'),
    ];
    for (i, (bit, c)) in bits.iter().enumerate() {
        let set = mode & bit != 0;
        let special = match i {
            2 => mode & 0o4000 != 0,
            5 => mode & 0o2000 != 0,
            8 => mode & 0o1000 != 0,
            _ => false,
        };
        s.push(match (set, special, i) {
            (true, true, 8) => 't',
            (false, true, 8) => 'T',
            (true, true, _) => 's',
            (false, true, _) => 'S',
            (true, false, _) => *c,
            (false, false, _) => '-',
        });
    }
    s
}

/// Seconds since the epoch as `YYYY-MM-DD HH:MM:SS` (UTC), proleptic Gregorian.
pub fn utc(secs: i64) -> String {
    let (y, m, d) = salvage::innodb::types::civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_times_print_like_ls() {
        assert_eq!(mode_string(FileKind::Dir, 0o40755), "drwxr-xr-x");
        assert_eq!(mode_string(FileKind::Regular, 0o104755), "-rwsr-xr-x");
        assert_eq!(mode_string(FileKind::Dir, 0o41777), "drwxrwxrwt");
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13:20");
        assert_eq!(utc(-1), "1969-12-31 23:59:59");
    }
}
