//! Tests on real images: made at test time by `mkfs.xfs -p` (a protofile)
//! from a directory tree and compared with it file by file, cross-checked
//! with `xfs_db` (block maps, directory listings, timestamps), changed with
//! `xfs_db -x`; and the committed fixtures (main-xfs against its datadir
//! tarball, demo-xfs against xfs_db), whole and with AG 0's headers zeroed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{dir, sweep_hit, Xfs};
use crate::image::{Image, ReadMode};
use crate::layout::files;
use crate::layout::fs::{DirEntry, Extent, FileKind, Filesystem, Inode};

use crate::testutil::{pattern, run};

/// `xfs_db -r -c cmd... img` (times printed in UTC); xfs_db must not
/// report a CRC error or corruption in what it read.
fn xfs_db(img: &Path, cmds: &[String]) -> String {
    let mut c = Command::new("xfs_db");
    c.env("TZ", "UTC").arg("-r");
    for cmd in cmds {
        c.arg("-c").arg(cmd);
    }
    let out = c
        .arg(img)
        .output()
        .expect("xfs_db runs (xfsprogs installed?)");
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(
        out.status.success() && !err.contains("crc error") && !err.contains("corrupt"),
        "{c:?}: {err}"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// What one path of the source tree is.
#[derive(Debug, Clone)]
enum Spec {
    Dir {
        perm: u16,
    },
    File {
        data: Vec<u8>,
        perm: u16,
        uid: u32,
        gid: u32,
    },
    Link {
        target: String,
    },
    Fifo,
}

/// The long symlink's target: too long for the inode, stored in a block.
fn long_target() -> String {
    let mut s = String::from("a/b/");
    while s.len() < 1000 {
        s.push_str("a_long_symlink_target_component/");
    }
    s.truncate(1000);
    s
}

fn hundred_name(i: usize) -> String {
    format!("entry_of_the_hundred_dir_number_{i:03}.dat")
}

fn many_name(i: usize) -> String {
    format!("node_dir_entry_{i:05}_padding_name")
}

/// The source tree: nested dirs, directories of 5 (shortform), 100 (leaf)
/// and `many` entries (node, btree fork), a 20 MiB file when `big`, a file
/// with a zero run, symlinks short and long, odd modes and owners, a fifo.
fn tree(big: bool, many: usize) -> BTreeMap<String, Spec> {
    let mut t = BTreeMap::new();
    let dir = |perm| Spec::Dir { perm };
    let file = |data: Vec<u8>, perm| Spec::File {
        data,
        perm,
        uid: 0,
        gid: 0,
    };
    for d in ["a", "a/b", "a/b/c", "a/b/c/d", "five", "hundred", "many"] {
        t.insert(d.to_string(), dir(0o755));
    }
    t.insert("private_dir".into(), dir(0o700));
    t.insert(
        "a/b/c/d/deep.txt".into(),
        file(b"four levels down\n".to_vec(), 0o644),
    );
    for i in 1..=5 {
        t.insert(
            format!("five/f{i}"),
            file(format!("five {i}\n").into_bytes(), 0o644),
        );
    }
    for i in 0..100 {
        t.insert(
            format!("hundred/{}", hundred_name(i)),
            file(format!("hundred {i}\n").into_bytes(), 0o640),
        );
    }
    for i in 0..many {
        t.insert(
            format!("many/{}", many_name(i)),
            file(format!("{i}\n").into_bytes(), 0o644),
        );
    }
    if big {
        t.insert("big20.bin".into(), file(pattern(20, 20 << 20), 0o644));
    }
    let mut zeros = pattern(3, 1 << 20);
    zeros.resize(4 << 20, 0);
    zeros.extend_from_slice(&pattern(4, 12345));
    t.insert("zero_run.bin".into(), file(zeros, 0o644));
    t.insert("empty".into(), file(Vec::new(), 0o644));
    t.insert("setuid.sh".into(), file(b"#!/bin/sh\n".to_vec(), 0o4755));
    t.insert("private_dir/secret".into(), file(pattern(5, 3000), 0o600));
    t.insert(
        "owned.bin".into(),
        Spec::File {
            data: pattern(6, 70_000),
            perm: 0o644,
            uid: 1000,
            gid: 100,
        },
    );
    t.insert(
        "short".into(),
        Spec::Link {
            target: "a/b/c/d/deep.txt".into(),
        },
    );
    t.insert(
        "long".into(),
        Spec::Link {
            target: long_target(),
        },
    );
    t.insert(
        "dirlink".into(),
        Spec::Link {
            target: "a/b".into(),
        },
    );
    t.insert("pipe".into(), Spec::Fifo);
    t
}

/// `u`/`g` flags and octal permissions as a protofile writes them.
fn proto_mode(kind: char, perm: u16) -> String {
    format!(
        "{kind}{}{}{:03o}",
        if perm & 0o4000 != 0 { 'u' } else { '-' },
        if perm & 0o2000 != 0 { 'g' } else { '-' },
        perm & 0o777
    )
}

/// Writes the tree's files under `src` and a protofile for it.
fn write_proto(t: &BTreeMap<String, Spec>, src: &Path, proto: &Path) {
    fn children<'t>(t: &'t BTreeMap<String, Spec>, parent: &str) -> Vec<(&'t String, &'t Spec)> {
        t.iter()
            .filter(|(p, _)| match p.rsplit_once('/') {
                Some((d, _)) => d == parent,
                None => parent.is_empty(),
            })
            .collect()
    }
    fn emit(t: &BTreeMap<String, Spec>, src: &Path, parent: &str, depth: usize, out: &mut String) {
        for (path, spec) in children(t, parent) {
            let name = path.rsplit('/').next().unwrap();
            let ind = " ".repeat(depth);
            match spec {
                Spec::Dir { perm } => {
                    out.push_str(&format!("{ind}{name} {} 0 0\n", proto_mode('d', *perm)));
                    emit(t, src, path, depth + 1, out);
                    out.push_str(&format!("{ind}$\n"));
                }
                Spec::File {
                    data,
                    perm,
                    uid,
                    gid,
                } => {
                    let f = src.join(path.replace('/', "__"));
                    fs::write(&f, data).unwrap();
                    out.push_str(&format!(
                        "{ind}{name} {} {uid} {gid} {}\n",
                        proto_mode('-', *perm),
                        f.display()
                    ));
                }
                Spec::Link { target } => {
                    out.push_str(&format!("{ind}{name} l--777 0 0 {target}\n"));
                }
                Spec::Fifo => out.push_str(&format!("{ind}{name} p--644 0 0\n")),
            }
        }
    }
    fs::create_dir_all(src).unwrap();
    let mut out = String::from("/dev/null\n0 0\nd--755 0 0\n");
    emit(t, src, "", 1, &mut out);
    out.push_str("$\n");
    fs::write(proto, out).unwrap();
}

/// An image made by mkfs.xfs from a tree, and when it was made.
struct Built {
    _dir: tempfile::TempDir,
    img: PathBuf,
    tree: BTreeMap<String, Spec>,
    made: (i64, i64),
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// mkfs.xfs -p of `tree` into a sparse 300 MiB file, with `extra` options.
fn build(tree: BTreeMap<String, Spec>, extra: &[&str]) -> Built {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let proto = dir.path().join("proto");
    write_proto(&tree, &src, &proto);
    let img = dir.path().join("fs.img");
    File::create(&img).unwrap().set_len(300 << 20).unwrap();
    let t0 = now();
    run(Command::new("mkfs.xfs")
        .args(["-q", "-f", "-L", "testvol"])
        .args(extra)
        .arg("-p")
        .arg(&proto)
        .arg(&img));
    let t1 = now();
    Built {
        _dir: dir,
        img,
        tree,
        made: (t0, t1),
    }
}

fn open(path: &Path) -> Image {
    Image::open(path, ReadMode::Mmap).unwrap()
}

/// Every path below the root with its entry and inode.
fn walk_all(fs: &dyn Filesystem, deleted: bool) -> BTreeMap<String, (DirEntry, Inode)> {
    let root = fs.inode(fs.root()).unwrap();
    let mut out = BTreeMap::new();
    files::walk(
        fs,
        &root,
        b"/",
        true,
        deleted,
        &mut |f| {
            let p = String::from_utf8(f.path.clone()).unwrap();
            let inode = f.inode.clone().unwrap_or_else(|e| panic!("{p}: {e}"));
            out.insert(p[1..].to_string(), (f.entry.clone(), inode));
        },
        &mut |p, e| panic!("{}: {e}", String::from_utf8_lossy(p)),
    );
    out
}

fn read_all(image: &Image, inode: &Inode) -> Vec<u8> {
    let mut v = Vec::new();
    files::copy_to(image, inode, &mut v).unwrap();
    v
}

/// `data offset O startblock B (agno/agbno) count C flag F` lines of
/// xfs_db's bmap, as extents in image bytes of a filesystem at `start`.
fn db_bmap(out: &str, bs: u64, agblocks: u64, start: u64) -> Vec<Extent> {
    out.lines()
        .filter(|l| l.starts_with("data offset "))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let (ag, agb) = w[5]
                .trim_matches(|c| c == '(' || c == ')')
                .split_once('/')
                .unwrap();
            let phys = ag.parse::<u64>().unwrap() * agblocks + agb.parse::<u64>().unwrap();
            Extent {
                logical: w[2].parse::<u64>().unwrap() * bs,
                physical: start + phys * bs,
                len: w[7].parse::<u64>().unwrap() * bs,
                unwritten: w[9] == "1",
            }
        })
        .collect()
}

/// The names (with inode numbers) xfs_db's `ls` prints for a directory,
/// `.` and `..` left out.
fn db_ls(out: &str) -> BTreeSet<(Vec<u8>, u64)> {
    let mut set = BTreeSet::new();
    for l in out.lines() {
        let w: Vec<&str> = l.split_whitespace().collect();
        if w.len() < 6 {
            continue;
        }
        let (Ok(ino), Ok(n)) = (w[1].parse::<u64>(), w[4].parse::<usize>()) else {
            continue;
        };
        // The name starts after the fifth column and is n bytes long.
        let mut pos = 0;
        for (i, word) in w.iter().enumerate().take(5) {
            pos = l[pos..].find(word).unwrap() + pos + word.len();
            if i == 4 {
                pos += 1;
            }
        }
        let name = l.as_bytes()[pos..pos + n].to_vec();
        if name != b"." && name != b".." {
            set.insert((name, ino));
        }
    }
    set
}

/// Days from 1970-01-01 to a civil date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `core.mtime.sec = Sun Dec  6 10:57:31 2026` (UTC) and `core.mtime.nsec`.
fn db_mtime(out: &str) -> (i64, u32) {
    let sec = out
        .lines()
        .find_map(|l| l.strip_prefix("core.mtime.sec = "))
        .unwrap();
    let w: Vec<&str> = sec.split_whitespace().collect();
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == w[1])
    .unwrap() as i64
        + 1;
    let hms: Vec<i64> = w[3].split(':').map(|x| x.parse().unwrap()).collect();
    let days = days_from_civil(w[4].parse().unwrap(), month, w[2].parse().unwrap());
    let nsec = out
        .lines()
        .find_map(|l| l.strip_prefix("core.mtime.nsec = "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (days * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2], nsec)
}

/// Compares every file of the image with the tree it was made from.
fn check_against_tree(b: &Built, v5: bool) {
    let image = open(&b.img);
    let fs = Xfs::open(&image, 0, image.size()).unwrap();
    assert_eq!(fs.superblock().is_v5(), v5);
    assert_eq!(fs.label().as_deref(), Some("testvol"));
    let all = walk_all(&fs, false);
    let paths: BTreeSet<&String> = all.keys().collect();
    let want: BTreeSet<&String> = b.tree.keys().collect();
    assert_eq!(paths, want, "names of every directory");
    for (path, spec) in &b.tree {
        let (entry, inode) = &all[path];
        assert_eq!(entry.ino, inode.ino);
        assert!(!entry.deleted && !inode.deleted, "{path}");
        assert!(
            (b.made.0 - 1..=b.made.1 + 1).contains(&inode.mtime),
            "{path}: mtime {} not within the mkfs run {:?}",
            inode.mtime,
            b.made
        );
        if v5 {
            assert_eq!(entry.kind, Some(inode.kind), "{path}: entry type byte");
        } else {
            assert_eq!(entry.kind, None, "{path}: v4 without ftype");
        }
        match spec {
            Spec::Dir { perm } => {
                assert_eq!(inode.kind, FileKind::Dir, "{path}");
                assert_eq!(inode.mode & 0o7777, *perm, "{path}");
            }
            Spec::File {
                data,
                perm,
                uid,
                gid,
            } => {
                assert_eq!(inode.kind, FileKind::Regular, "{path}");
                assert_eq!(inode.mode, 0o100000 | perm, "{path}");
                assert_eq!((inode.uid, inode.gid), (*uid, *gid), "{path}");
                assert_eq!(inode.size, data.len() as u64, "{path}");
                assert!(read_all(&image, inode) == *data, "{path}: content");
                assert_eq!(inode.nlink, 1, "{path}");
            }
            Spec::Link { target } => {
                assert_eq!(inode.kind, FileKind::Symlink, "{path}");
                assert_eq!(inode.size, target.len() as u64, "{path}");
                assert_eq!(
                    files::symlink_target(&image, inode),
                    target.as_bytes(),
                    "{path}"
                );
            }
            Spec::Fifo => {
                assert_eq!(inode.kind, FileKind::Fifo, "{path}");
                assert_eq!(inode.mode, 0o010644, "{path}");
            }
        }
    }
    // Through a symlink in the middle of a path.
    let deep = files::lookup(&fs, &image, "/dirlink/c/d/deep.txt").unwrap();
    assert_eq!(deep.ino, all["a/b/c/d/deep.txt"].1.ino);
    // Nothing legible in the free space of directories that never lost a name.
    assert_eq!(walk_all(&fs, true).len(), all.len());
    // xfsprogs 6.1's mkfs -p writes a v5 remote symlink block without its
    // XSLM header (the kernel always writes one): read bare, with a note.
    let long_block = format!("xfs symlink block of inode {}", all["long"].1.ino);
    let notes: Vec<_> = fs
        .notes()
        .into_iter()
        .filter(|n| !(v5 && n.structure == long_block && n.message.starts_with("no XSLM")))
        .collect();
    assert!(notes.is_empty(), "{notes:?}");

    // xfs_db agrees on formats, block maps, names and times.
    let sb = fs.superblock();
    let (bs, agb) = (u64::from(sb.block_size), u64::from(sb.agblocks));
    let fmt = |p: &str| {
        let out = xfs_db(
            &b.img,
            &[format!("inode {}", all[p].1.ino), "p core.format".into()],
        );
        out.split_whitespace()
            .nth(2)
            .unwrap()
            .parse::<u8>()
            .unwrap()
    };
    assert_eq!(fmt("five"), 1, "five entries: shortform (local)");
    assert_eq!(fmt("hundred"), 2, "100 entries: extents");
    assert!(all["hundred"]
        .1
        .extents
        .iter()
        .any(|x| x.logical == dir::LEAF_OFFSET));
    assert_eq!(fmt("many"), 3, "3000 entries: a bmbt btree fork");
    assert_eq!(fmt("short"), 1, "short symlink: local");
    assert_eq!(fmt("long"), 2, "long symlink: in a block");
    for p in ["many", "hundred", "owned.bin", "zero_run.bin", "long"]
        .into_iter()
        .chain(b.tree.contains_key("big20.bin").then_some("big20.bin"))
    {
        let ino = all[p].1.ino;
        let out = xfs_db(&b.img, &[format!("inode {ino}"), "bmap".into()]);
        assert_eq!(
            all[p].1.extents,
            db_bmap(&out, bs, agb, 0),
            "{p}: block map"
        );
    }
    for d in ["", "five", "hundred", "many", "a/b"] {
        let out = xfs_db(&b.img, &[format!("path /{d}"), "ls".into()]);
        let dir = if d.is_empty() {
            fs.inode(fs.root()).unwrap()
        } else {
            all[d].1.clone()
        };
        let ours: BTreeSet<(Vec<u8>, u64)> = fs
            .read_dir(&dir, false)
            .unwrap()
            .into_iter()
            .map(|e| (e.name, e.ino))
            .collect();
        assert_eq!(ours, db_ls(&out), "/{d}: names");
    }
    for p in ["many", "owned.bin", "long"] {
        let out = xfs_db(
            &b.img,
            &[
                format!("inode {}", all[p].1.ino),
                "p core.mtime.sec core.mtime.nsec".into(),
            ],
        );
        let i = &all[p].1;
        assert_eq!((i.mtime, i.mtime_nsec), db_mtime(&out), "{p}: mtime");
    }
}

#[test]
fn v5_image_matches_its_source_tree() {
    let b = build(tree(true, 3000), &[]);
    check_against_tree(&b, true);
    // sweep_hit on the primary: the filesystem starts at 0.
    let image = open(&b.img);
    assert_eq!(sweep_hit(&image.bytes(0, 4096), 0), Some(0));
    assert_eq!(sweep_hit(&image.bytes(512, 4096), 512), None);
}

#[test]
fn v4_image_matches_its_source_tree() {
    // No CRCs, 256-byte inodes (100-byte v2 core), no type byte in entries.
    let b = build(
        tree(false, 3000),
        &["-m", "crc=0", "-i", "size=256", "-n", "ftype=0"],
    );
    check_against_tree(&b, false);
}

#[test]
fn v5_nrext64_image_matches_its_source_tree() {
    // 64-bit extent counters (di_big_nextents over the v2 padding).
    let b = build(tree(false, 3000), &["-i", "nrext64=1"]);
    let out = xfs_db(&b.img, &["sb 0".into(), "p features_incompat".into()]);
    let incompat = u32::from_str_radix(out.trim().rsplit("0x").next().unwrap(), 16).unwrap();
    assert_ne!(incompat & (1 << 5), 0, "NREXT64 set: {out}");
    check_against_tree(&b, true);
}

/// Rewrites a record of an extents-format inode with xfs_db -x.
fn db_write(img: &Path, cmds: &[String]) {
    let mut c = Command::new("xfs_db");
    c.arg("-x");
    for cmd in cmds {
        c.arg("-c").arg(cmd);
    }
    run(c.arg(img));
}

#[test]
fn holes_and_unwritten_extents() {
    let mut t = BTreeMap::new();
    t.insert(
        "data.bin".to_string(),
        Spec::File {
            data: pattern(9, 5000 * 4096),
            perm: 0o644,
            uid: 0,
            gid: 0,
        },
    );
    let b = build(t, &[]);
    let (ino, start) = {
        let image = open(&b.img);
        let fs = Xfs::open(&image, 0, image.size()).unwrap();
        let i = files::lookup(&fs, &image, "/data.bin").unwrap();
        assert_eq!(i.extents.len(), 1);
        (i.ino, i.extents[0].physical / 4096)
    };
    // Three records: blocks 0-99, 300-499 unwritten (preallocated), 1000-4999;
    // holes between them.
    db_write(
        &b.img,
        &[
            format!("inode {ino}"),
            "write core.nextents 3".into(),
            "write u3.bmx[0].blockcount 100".into(),
            "write u3.bmx[1].startoff 300".into(),
            format!("write u3.bmx[1].startblock {}", start + 300),
            "write u3.bmx[1].blockcount 200".into(),
            "write u3.bmx[1].extentflag 1".into(),
            "write u3.bmx[2].startoff 1000".into(),
            format!("write u3.bmx[2].startblock {}", start + 1000),
            "write u3.bmx[2].blockcount 4000".into(),
        ],
    );
    let image = open(&b.img);
    let fs = Xfs::open(&image, 0, image.size()).unwrap();
    let i = files::lookup(&fs, &image, "/data.bin").unwrap();
    let out = xfs_db(&b.img, &[format!("inode {ino}"), "bmap".into()]);
    let sb = fs.superblock();
    let db = db_bmap(&out, 4096, u64::from(sb.agblocks), 0);
    assert_eq!(db.len(), 3);
    assert_eq!(i.extents, db);
    let Spec::File { data, .. } = &b.tree["data.bin"] else {
        unreachable!()
    };
    let mut want = data.clone();
    want[100 * 4096..1000 * 4096].fill(0);
    let got = read_all(&image, &i);
    assert_eq!(got.len(), want.len());
    assert!(got == want, "holes and unwritten blocks read as zeros");
    // runs() leaves the hole and the unwritten extent out.
    let runs = files::runs(&i, 0, i.size);
    assert_eq!(
        runs.iter().map(|r| (r.0, r.2)).collect::<Vec<_>>(),
        vec![(0, 100 * 4096), (1000 * 4096, 4000 * 4096)]
    );
    assert!(fs.notes().is_empty(), "{:?}", fs.notes());
}

/// A packed bmbt record.
fn bmbt_rec(startoff: u64, startblock: u64, count: u64, unwritten: bool) -> [u8; 16] {
    let l0 = (u64::from(unwritten) << 63) | (startoff << 9) | (startblock >> 43);
    let l1 = (startblock << 21) | count;
    let mut r = [0u8; 16];
    r[..8].copy_from_slice(&l0.to_be_bytes());
    r[8..].copy_from_slice(&l1.to_be_bytes());
    r
}

/// A v5 long-format bmbt block header (`BMA3`), CRC left to [`seal`].
fn bmbt_block(
    level: u16,
    n: u16,
    left: u64,
    right: u64,
    fsb: u64,
    uuid: &[u8],
    owner: u64,
) -> Vec<u8> {
    let mut b = vec![0u8; 4096];
    b[..4].copy_from_slice(b"BMA3");
    b[4..6].copy_from_slice(&level.to_be_bytes());
    b[6..8].copy_from_slice(&n.to_be_bytes());
    b[8..16].copy_from_slice(&left.to_be_bytes());
    b[16..24].copy_from_slice(&right.to_be_bytes());
    b[24..32].copy_from_slice(&(fsb * 8).to_be_bytes()); // 512-byte address (AG 0)
    b[40..56].copy_from_slice(uuid);
    b[56..64].copy_from_slice(&owner.to_be_bytes());
    b
}

/// Sets the little-endian CRC32C at `off` of `b`.
fn seal(b: &mut [u8], off: usize) {
    b[off..off + 4].fill(0);
    let c = crc32c::crc32c(b);
    b[off..off + 4].copy_from_slice(&c.to_le_bytes());
}

#[test]
fn two_level_bmbt_written_by_hand_agrees_with_xfs_db() {
    // mkfs.xfs -p (6.1) cannot write a file of many extents, so a 2-level
    // bmbt is built here over a real file's blocks: 490 extents of 5 blocks
    // every 10 blocks (every 7th unwritten), in two leaves under one node,
    // the node under the inode's root. xfs_db must map it the same way.
    let mut t = BTreeMap::new();
    t.insert(
        "data.bin".to_string(),
        Spec::File {
            data: pattern(11, 5000 * 4096),
            perm: 0o644,
            uid: 0,
            gid: 0,
        },
    );
    let b = build(t, &[]);
    let (ino, ino_off, base, uuid) = {
        let image = open(&b.img);
        let fs = Xfs::open(&image, 0, image.size()).unwrap();
        let i = files::lookup(&fs, &image, "/data.bin").unwrap();
        assert_eq!(i.extents.len(), 1);
        assert!(i.extents[0].physical < fs.superblock().ag_bytes(), "AG 0");
        (
            i.ino,
            fs.ino_offset(i.ino).unwrap(),
            i.extents[0].physical / 4096,
            fs.superblock().uuid,
        )
    };
    let recs: Vec<(u64, u64, u64, bool)> = (0..490u64)
        .map(|i| (10 * i, base + 10 * i, 5, i % 7 == 3))
        .collect();
    let (node, leaves) = (base + 4997, [base + 4998, base + 4999]);
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&b.img)
        .unwrap();
    let null = u64::MAX;
    let leaf_max = (4096 - 72) / 16;
    for (k, chunk) in recs.chunks(245).enumerate() {
        let (left, right) = if k == 0 {
            (null, leaves[1])
        } else {
            (leaves[0], null)
        };
        let mut blk = bmbt_block(0, chunk.len() as u16, left, right, leaves[k], &uuid, ino);
        for (j, r) in chunk.iter().enumerate() {
            blk[72 + 16 * j..88 + 16 * j].copy_from_slice(&bmbt_rec(r.0, r.1, r.2, r.3));
        }
        seal(&mut blk, 64);
        f.write_all_at(&blk, leaves[k] * 4096).unwrap();
    }
    let mut blk = bmbt_block(1, 2, null, null, node, &uuid, ino);
    for k in 0..2 {
        blk[72 + 8 * k..80 + 8 * k].copy_from_slice(&recs[245 * k].0.to_be_bytes());
        let p = 72 + leaf_max * 8 + 8 * k;
        blk[p..p + 8].copy_from_slice(&leaves[k].to_be_bytes());
    }
    seal(&mut blk, 64);
    f.write_all_at(&blk, node * 4096).unwrap();
    // The inode: btree format, 490 extents, root of level 2 with one pointer.
    let mut di = vec![0u8; 512];
    f.read_exact_at(&mut di, ino_off).unwrap();
    assert_eq!(di[82], 0, "no attribute fork");
    di[5] = 3;
    di[76..80].copy_from_slice(&490u32.to_be_bytes());
    let fork = &mut di[176..];
    fork.fill(0);
    fork[..2].copy_from_slice(&2u16.to_be_bytes());
    fork[2..4].copy_from_slice(&1u16.to_be_bytes());
    let root_max = (336 - 4) / 16;
    fork[4 + root_max * 8..12 + root_max * 8].copy_from_slice(&node.to_be_bytes());
    seal(&mut di, 100);
    f.write_all_at(&di, ino_off).unwrap();
    drop(f);

    let out = xfs_db(&b.img, &[format!("inode {ino}"), "bmap".into()]);
    let image = open(&b.img);
    let fs = Xfs::open(&image, 0, image.size()).unwrap();
    let i = fs.inode(ino).unwrap();
    let db = db_bmap(&out, 4096, u64::from(fs.superblock().agblocks), 0);
    assert_eq!(db.len(), 490, "{out}");
    assert_eq!(i.extents, db);
    let Spec::File { data, .. } = &b.tree["data.bin"] else {
        unreachable!()
    };
    let mut want = vec![0u8; data.len()];
    for r in recs.iter().filter(|r| !r.3) {
        let (s, e) = (r.0 as usize * 4096, (r.0 + r.2) as usize * 4096);
        want[s..e].copy_from_slice(&data[s..e]);
    }
    assert!(read_all(&image, &i) == want);
    assert!(fs.notes().is_empty(), "{:?}", fs.notes());
}

/// The byte range of the entry named `name` in directory block `b`.
fn find_entry(b: &[u8], name: &[u8]) -> Option<(usize, usize)> {
    (64..b.len() - 16).step_by(8).find_map(|p| {
        let n = usize::from(b[p + 8]);
        (n == name.len() && &b[p + 9..p + 9 + n] == name).then(|| (p, (12 + n).div_ceil(8) * 8))
    })
}

#[test]
fn removed_names_are_offered_as_deleted() {
    let mut t = tree(false, 0);
    t.retain(|p, _| p == "hundred" || p.starts_with("hundred/"));
    let b = build(t, &[]);
    let image = open(&b.img);
    let fs = Xfs::open(&image, 0, image.size()).unwrap();
    let hundred = files::lookup(&fs, &image, "/hundred").unwrap();
    let before = fs.read_dir(&hundred, false).unwrap();
    let ino_of = |n: &str| before.iter().find(|e| e.name == n.as_bytes()).unwrap().ino;
    let (a, bb, c) = (hundred_name(10), hundred_name(11), hundred_name(50));
    let (ia, ib, ic) = (ino_of(&a), ino_of(&bb), ino_of(&c));
    drop(fs);
    drop(image);
    // Remove three names the way the kernel does (xfs_dir2_data_make_free):
    // 0xffff and the region length over the entry's first 4 bytes, the
    // region's start as the tag in its last 2 bytes; two neighbours merge
    // into one region. The block CRC is updated.
    let blocks: Vec<u64> = hundred
        .extents
        .iter()
        .filter(|x| x.logical < dir::LEAF_OFFSET)
        .flat_map(|x| (0..x.len / 4096).map(move |k| x.physical + k * 4096))
        .collect();
    assert_eq!(blocks.len(), 2, "hundred has two data blocks");
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&b.img)
        .unwrap();
    for at in blocks {
        let mut buf = vec![0u8; 4096];
        f.read_exact_at(&mut buf, at).unwrap();
        let mut changed = false;
        if let (Some(ea), Some(eb)) = (
            find_entry(&buf, a.as_bytes()),
            find_entry(&buf, bb.as_bytes()),
        ) {
            assert_eq!(ea.0 + ea.1, eb.0, "neighbours");
            let len = ea.1 + eb.1;
            buf[ea.0..ea.0 + 2].copy_from_slice(&[0xff, 0xff]);
            buf[ea.0 + 2..ea.0 + 4].copy_from_slice(&(len as u16).to_be_bytes());
            buf[ea.0 + len - 2..ea.0 + len].copy_from_slice(&(ea.0 as u16).to_be_bytes());
            changed = true;
        }
        if let Some(ec) = find_entry(&buf, c.as_bytes()) {
            buf[ec.0..ec.0 + 2].copy_from_slice(&[0xff, 0xff]);
            buf[ec.0 + 2..ec.0 + 4].copy_from_slice(&(ec.1 as u16).to_be_bytes());
            changed = true;
        }
        if changed {
            // The header's three largest free regions, as the verifier wants.
            let mut free = Vec::new();
            let mut p = 64;
            while p < 4096 {
                let len = usize::from(u16::from_be_bytes([buf[p + 2], buf[p + 3]]));
                if buf[p..p + 2] == [0xff, 0xff] {
                    free.push((len, p));
                    p += len;
                } else {
                    p += (12 + usize::from(buf[p + 8])).div_ceil(8) * 8;
                }
            }
            free.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
            free.resize(3, (0, 0));
            for (k, (len, off)) in free.into_iter().take(3).enumerate() {
                buf[48 + 4 * k..50 + 4 * k].copy_from_slice(&(off as u16).to_be_bytes());
                buf[50 + 4 * k..52 + 4 * k].copy_from_slice(&(len as u16).to_be_bytes());
            }
            buf[4..8].fill(0);
            let crc = crc32c::crc32c(&buf);
            buf[4..8].copy_from_slice(&crc.to_le_bytes());
            f.write_all_at(&buf, at).unwrap();
        }
    }
    drop(f);
    let image = open(&b.img);
    let fs = Xfs::open(&image, 0, image.size()).unwrap();
    let hundred = files::lookup(&fs, &image, "/hundred").unwrap();
    let live = fs.read_dir(&hundred, false).unwrap();
    assert_eq!(live.len(), 97);
    // xfs_db no longer sees them either.
    let db = db_ls(&xfs_db(&b.img, &["path /hundred".into(), "ls".into()]));
    assert_eq!(db.len(), 97);
    assert_eq!(
        live.iter()
            .map(|e| (e.name.clone(), e.ino))
            .collect::<BTreeSet<_>>(),
        db
    );
    let all = fs.read_dir(&hundred, true).unwrap();
    let dead: Vec<(String, u64, Option<FileKind>)> = all
        .iter()
        .filter(|e| e.deleted)
        .map(|e| (String::from_utf8(e.name.clone()).unwrap(), e.ino, e.kind))
        .collect();
    let mut want = vec![
        (a.clone(), ia, Some(FileKind::Regular)),
        (bb.clone(), ib, Some(FileKind::Regular)),
        (c.clone(), ic, Some(FileKind::Regular)),
    ];
    let mut got = dead.clone();
    got.sort_by(|x, y| x.0.cmp(&y.0));
    want.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(got, want);
    // Live entries first.
    assert!(all[..97].iter().all(|e| !e.deleted));
    assert!(fs.notes().is_empty(), "{:?}", fs.notes());
}

/// Decompresses a committed fixture image into `dir`.
fn fixture(name: &str, dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/images")
        .join(name);
    let out = dir.join(name.trim_end_matches(".zst"));
    let mut w = File::create(&out).unwrap();
    zstd::stream::copy_decode(File::open(&src).unwrap(), &mut w).unwrap();
    out
}

/// `data` as it reads once image bytes `at..at+len` are zeroed.
fn with_zeroed(data: &[u8], extents: &[Extent], at: u64, len: u64) -> Vec<u8> {
    let mut v = data.to_vec();
    for x in extents {
        let s = x.physical.max(at);
        let e = (x.physical + x.len).min(at + len);
        if s < e {
            let ls = (x.logical + (s - x.physical)).min(v.len() as u64) as usize;
            let le = (x.logical + (e - x.physical)).min(v.len() as u64) as usize;
            v[ls..le].fill(0);
        }
    }
    v
}

/// A copy of `img` with `len` bytes zeroed at `at`.
fn zeroed_copy(img: &Path, at: u64, len: usize) -> PathBuf {
    let out = img.with_extension("zeroed.img");
    fs::copy(img, &out).unwrap();
    let f = OpenOptions::new().write(true).open(&out).unwrap();
    f.write_all_at(&vec![0u8; len], at).unwrap();
    out
}

const PART: u64 = 1 << 20;

/// Every file of /var/lib/mysql by its path below it, with its block map.
fn mysql_files(fs: &dyn Filesystem, image: &Image) -> BTreeMap<String, (Vec<u8>, Vec<Extent>)> {
    let dir = files::lookup(fs, image, "/var/lib/mysql").unwrap();
    let mut out = BTreeMap::new();
    files::walk(
        fs,
        &dir,
        b"",
        true,
        false,
        &mut |f| {
            let inode = f.inode.as_ref().unwrap();
            if inode.kind == FileKind::Regular {
                out.insert(
                    String::from_utf8(f.path[1..].to_vec()).unwrap(),
                    (read_all(image, inode), inode.extents.clone()),
                );
            }
        },
        &mut |p, e| panic!("{}: {e}", String::from_utf8_lossy(p)),
    );
    out
}

#[test]
fn main_fixture_matches_its_datadir_and_survives_zeroed_ag0() {
    let dir = tempfile::tempdir().unwrap();
    let img = fixture("main-xfs.img.zst", dir.path());
    // The truth: the datadir tarball the image was filled from.
    let tarball = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/main/datadir.tar.zst");
    let tar_bytes = zstd::stream::decode_all(File::open(tarball).unwrap()).unwrap();
    let mut truth = BTreeMap::new();
    let mut ar = tar::Archive::new(&tar_bytes[..]);
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let t = e.header().entry_type();
        if t.is_file() || t.is_gnu_sparse() {
            let p = e.path().unwrap().to_string_lossy().into_owned();
            let mut v = Vec::new();
            e.read_to_end(&mut v).unwrap();
            truth.insert(p, v);
        }
    }
    assert!(truth.len() > 40);
    let image = open(&img);
    let len = image.size() - PART - (1 << 20);
    let fs = Xfs::open(&image, PART, len).unwrap();
    assert_eq!(fs.start(), PART);
    assert!(fs.notes().is_empty(), "{:?}", fs.notes());
    let got = mysql_files(&fs, &image);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        truth.keys().collect::<Vec<_>>()
    );
    for (p, v) in &truth {
        assert!(got[p].0 == *v, "{p}");
    }
    drop(fs);
    drop(image);

    // AG 0's superblock, AGF, AGI, AGFL and blocks 1-15 zeroed.
    let z = zeroed_copy(&img, PART, 64 << 10);
    let image = open(&z);
    let fs = Xfs::open(&image, PART, len).unwrap();
    assert_eq!(fs.start(), PART);
    let notes = fs.notes();
    assert!(
        notes
            .iter()
            .any(|n| n.offset == PART && n.message.contains("secondary superblock of AG 1")),
        "{notes:?}"
    );
    let got = mysql_files(&fs, &image);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        truth.keys().collect::<Vec<_>>()
    );
    // Blocks 10-15 held the data of a few small files: those bytes are
    // gone; everything else reads as before.
    let mut hit = 0;
    for (p, v) in &truth {
        let (data, map) = &got[p];
        let want = with_zeroed(v, map, PART, 64 << 10);
        hit += usize::from(want != *v);
        assert!(*data == want, "{p} with AG 0 zeroed");
    }
    assert!(hit >= 1, "some file had data in the zeroed range");
    // Not taken for a filesystem at 0 (the bare-image probe): its copies
    // name 1 MiB, which is the sweep's to find.
    assert!(Xfs::open(&image, 0, image.size()).is_err());
    // The layout stage finds it through the intact GPT.
    let layout = crate::layout::open(&image);
    assert_eq!(layout.volumes.len(), 1);
    assert_eq!(layout.volumes[0].fs.kind(), "xfs");
}

#[test]
fn demo_fixture_agrees_with_xfs_db_and_survives_zeroed_ag0() {
    let dir = tempfile::tempdir().unwrap();
    let img = fixture("demo-xfs.img.zst", dir.path());
    let image = open(&img);
    let len = image.size() - PART - (1 << 20);
    // xfs_db reads the partition as its own file.
    let part = dir.path().join("part.img");
    {
        let mut src = File::open(&img).unwrap();
        src.seek(SeekFrom::Start(PART)).unwrap();
        let mut dst = File::create(&part).unwrap();
        std::io::copy(&mut src.take(len), &mut dst).unwrap();
        dst.flush().unwrap();
    }
    let fs = Xfs::open(&image, PART, len).unwrap();
    assert!(fs.notes().is_empty(), "{:?}", fs.notes());
    let all = walk_all(&fs, false);
    assert!(all.len() > 200, "{}", all.len());
    let sb = fs.superblock().clone();
    let (bs, agb) = (u64::from(sb.block_size), u64::from(sb.agblocks));
    // Block maps of every file and names of every directory, in one xfs_db run.
    let mut cmds = Vec::new();
    let order: Vec<&String> = all.keys().collect();
    for p in &order {
        let i = &all[*p].1;
        cmds.push(format!("inode {}", i.ino));
        cmds.push("p core.size".into());
        if i.kind == FileKind::Regular {
            cmds.push("bmap".into());
        }
        if i.kind == FileKind::Dir {
            cmds.push(format!("path /{p}"));
            cmds.push("ls".into());
        }
    }
    let out = xfs_db(&part, &cmds);
    let sections: Vec<&str> = out.split("core.size = ").skip(1).collect();
    assert_eq!(sections.len(), order.len());
    for (p, sec) in order.iter().zip(sections) {
        let i = &all[*p].1;
        let size: u64 = sec.split_whitespace().next().unwrap().parse().unwrap();
        assert_eq!(i.size, size, "{p}");
        if i.kind == FileKind::Regular {
            assert_eq!(i.extents, db_bmap(sec, bs, agb, PART), "{p}: block map");
            assert_eq!(read_all(&image, i).len() as u64, i.size, "{p}");
        }
        if i.kind == FileKind::Dir {
            let ours: BTreeSet<(Vec<u8>, u64)> = fs
                .read_dir(i, false)
                .unwrap()
                .into_iter()
                .map(|e| (e.name, e.ino))
                .collect();
            assert_eq!(ours, db_ls(sec), "{p}: names");
        }
    }
    let before = mysql_files(&fs, &image);
    assert!(before.keys().any(|k| k.ends_with("users.ibd")));

    // sweep_hit: the primary and every secondary point at the partition start.
    for k in 0..u64::from(sb.agcount) {
        let at = PART + k * sb.ag_bytes();
        assert_eq!(sweep_hit(&image.bytes(at, 8192), at), Some(PART), "AG {k}");
    }
    assert_eq!(sweep_hit(&image.bytes(PART + 512, 8192), PART + 512), None);
    assert_eq!(sweep_hit(&image.bytes(0, 8192), 0), None);
    drop(fs);
    drop(image);

    // A partition image (the filesystem at 0) with AG 0's headers zeroed.
    let zp = zeroed_copy(&part, 0, 64 << 10);
    let pimage = open(&zp);
    let pfs = Xfs::open(&pimage, 0, pimage.size()).unwrap();
    assert_eq!(pfs.start(), 0);
    assert_eq!(walk_all(&pfs, false).len(), all.len());
    drop(pfs);
    drop(pimage);

    let z = zeroed_copy(&img, PART, 64 << 10);
    let image = open(&z);
    let fs = Xfs::open(&image, PART, len).unwrap();
    assert_eq!(fs.start(), PART);
    assert!(fs
        .notes()
        .iter()
        .any(|n| n.message.contains("secondary superblock")));
    let after = mysql_files(&fs, &image);
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    for (p, (v, map)) in &before {
        assert_eq!(after[p].1, *map, "{p}: block map with AG 0 zeroed");
        assert!(
            after[p].0 == with_zeroed(v, map, PART, 64 << 10),
            "{p} with AG 0 zeroed"
        );
    }
    drop(fs);
    drop(image);

    // A primary whose root inode number is damaged (CRC now fails): the
    // secondary that passes its CRC is used instead.
    let f = zeroed_copy(&img, 0, 0);
    {
        let w = OpenOptions::new().write(true).open(&f).unwrap();
        w.write_all_at(&[0x7f], PART + 56 + 6).unwrap();
    }
    let image = open(&f);
    let fs = Xfs::open(&image, PART, len).unwrap();
    assert_eq!(fs.root(), 128);
    let notes = fs.notes();
    assert!(
        notes.iter().any(|n| n
            .message
            .starts_with("CRC mismatch; using the secondary superblock of AG 1")),
        "{notes:?}"
    );
    assert_eq!(mysql_files(&fs, &image).len(), before.len());
}

/// xorshift64 for the damage loop.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Walks everything (deleted entries too), reads the start and a random
/// piece of every file, follows symlinks: must not panic.
fn exercise(image: &Image, start: u64, rng: &mut Rng) -> usize {
    let Ok(fs) = Xfs::open(image, start, image.size() - start) else {
        return 0;
    };
    let Ok(root) = fs.inode(fs.root()) else {
        return 0;
    };
    let mut n = 0;
    let mut buf = vec![0u8; 64 << 10];
    files::walk(
        &fs,
        &root,
        b"/",
        true,
        true,
        &mut |f| {
            n += 1;
            if let Ok(i) = &f.inode {
                files::read_at(image, i, 0, &mut buf);
                let off = rng.below(i.size.max(1));
                files::read_at(image, i, off, &mut buf);
                let _ = files::runs(i, 0, 1 << 30);
                if i.kind == FileKind::Symlink {
                    let _ = files::symlink_target(image, i);
                }
            }
        },
        &mut |_, _| {},
    );
    for p in [
        "/a/b/c/d/deep.txt",
        "/dirlink/c",
        "/many/x",
        "/long/x",
        "/short",
    ] {
        let _ = files::lookup(&fs, image, p);
    }
    let _ = fs.notes();
    n
}

#[test]
fn random_metadata_damage_never_panics() {
    damage_loop(&[], 250, 0x5eed_1234_abcd_0001);
    // v4: no CRCs, v2 inodes, no entry types.
    damage_loop(
        &["-m", "crc=0", "-i", "size=256", "-n", "ftype=0"],
        150,
        0x5eed_1234_abcd_0002,
    );
}

/// `rounds` rounds of random changes to the metadata of an image made with
/// `extra` mkfs options, each followed by a walk and reads of everything,
/// then the image restored.
fn damage_loop(extra: &[&str], rounds: u64, seed: u64) {
    let b = build(tree(false, 3000), extra);
    // Where the metadata is: AG headers, every inode, every directory and
    // symlink block, the bmbt blocks of btree forks.
    let mut regions: Vec<(u64, u64)> = Vec::new();
    {
        let image = open(&b.img);
        let fs = Xfs::open(&image, 0, image.size()).unwrap();
        let sb = fs.superblock().clone();
        for k in 0..u64::from(sb.agcount) {
            regions.push((k * sb.ag_bytes(), 4 * u64::from(sb.sectsize)));
        }
        let all = walk_all(&fs, false);
        let root = fs.inode(fs.root()).unwrap();
        for i in all.values().map(|v| &v.1).chain([&root]) {
            regions.push((fs.ino_offset(i.ino).unwrap(), u64::from(sb.inodesize)));
            if matches!(i.kind, FileKind::Dir | FileKind::Symlink) {
                regions.extend(i.extents.iter().map(|x| (x.physical, x.len)));
            }
        }
        let many = &all["many"].1;
        let out = xfs_db(
            &b.img,
            &[
                format!("inode {}", many.ino),
                if sb.is_v5() {
                    "p u3.bmbt.ptrs"
                } else {
                    "p u.bmbt.ptrs"
                }
                .into(),
            ],
        );
        // "u3.bmbt.ptrs[1-2] = 1:34185 2:34190" (or "[1] = 34185").
        let list = out.split_once(" = ").unwrap().1;
        for w in list.split_whitespace() {
            let fsb: u64 = w.rsplit(':').next().unwrap().parse().unwrap();
            if let Some(off) = fs.fsb_offset(fsb) {
                regions.push((off, u64::from(sb.block_size)));
            }
        }
        assert!(regions.len() > 3000);
        assert_eq!(exercise(&image, 0, &mut Rng(1)), all.len());
    }
    let total: u64 = regions.iter().map(|r| r.1).sum();
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&b.img)
        .unwrap();
    // SALVAGE_FUZZ_ROUNDS / SALVAGE_FUZZ_SEED run a longer or other loop.
    let env = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<u64>().ok());
    let mut rng = Rng(env("SALVAGE_FUZZ_SEED").unwrap_or(seed));
    for round in 0..env("SALVAGE_FUZZ_ROUNDS").unwrap_or(rounds) {
        // 1-16 changes, or on every 25th round a few hundred.
        let count = if round % 25 == 24 {
            300
        } else {
            1 + rng.below(16)
        };
        let mut saved = Vec::new();
        for _ in 0..count {
            let mut pick = rng.below(total);
            let r = regions
                .iter()
                .find(|r| {
                    if pick < r.1 {
                        true
                    } else {
                        pick -= r.1;
                        false
                    }
                })
                .unwrap();
            let at = r.0 + pick;
            let len = match rng.below(4) {
                0 => 512 - (at % 512) as usize,
                _ => 1 + rng.below(8) as usize,
            };
            let mut old = vec![0u8; len];
            f.read_exact_at(&mut old, at).unwrap();
            let new: Vec<u8> = match rng.below(4) {
                0 => vec![0; len],
                1 => vec![0xff; len],
                _ => (0..len).map(|_| rng.next() as u8).collect(),
            };
            f.write_all_at(&new, at).unwrap();
            saved.push((at, old));
        }
        let image = open(&b.img);
        exercise(&image, 0, &mut rng);
        drop(image);
        for (at, old) in saved.into_iter().rev() {
            f.write_all_at(&old, at).unwrap();
        }
    }
    // Restored: everything reads again.
    let image = open(&b.img);
    let fs = Xfs::open(&image, 0, image.size()).unwrap();
    assert_eq!(walk_all(&fs, false).len(), b.tree.len());
}

#[test]
fn shortform_with_8_byte_inode_numbers() {
    // count 2, i8count 2, parent (8 bytes), then entries with 8-byte numbers
    // and a type byte: layout per xfs_da_format.h (no mkfs image of a few
    // hundred MiB reaches inode numbers above 2^32).
    let mut d = vec![2u8, 2];
    d.extend_from_slice(&128u64.to_be_bytes());
    for (name, ino, t) in [(&b"abc"[..], 0x1_0000_0083u64, 1u8), (b"dir", 131, 2)] {
        d.push(name.len() as u8);
        d.extend_from_slice(&[0, 0x60]);
        d.extend_from_slice(name);
        d.push(t);
        d.extend_from_slice(&ino.to_be_bytes());
    }
    let b = build(BTreeMap::new(), &[]);
    let image = open(&b.img);
    let fs = Xfs::open(&image, 0, image.size()).unwrap();
    let mut out = Vec::new();
    dir::shortform(&fs, 128, &d, 0, &mut out);
    // 0x1_0000_0083 lies past this small filesystem's AGs: noted and skipped.
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].name, b"dir");
    assert_eq!((out[0].ino, out[0].kind), (131, Some(FileKind::Dir)));
    assert_eq!(fs.notes().len(), 1);
    // Truncated: ends with a note, no panic.
    let mut out = Vec::new();
    dir::shortform(&fs, 129, &d[..d.len() - 3], 0, &mut out);
    assert!(out.is_empty());
    let notes = fs.notes();
    assert!(
        notes
            .iter()
            .any(|n| n.message.contains("runs past the end")),
        "{notes:?}"
    );
}

#[test]
fn bmbt_record_unpacking() {
    // l0: flag | startoff << 9 | startblock >> 43; l1: startblock << 21 | count.
    let (off, blk, cnt) = (
        0x12_3456_789au64,
        0x7_89ab_cdef_0123u64 & ((1 << 52) - 1),
        0x1f_fffeu64,
    );
    let l0 = (1u64 << 63) | (off << 9) | (blk >> 43);
    let l1 = (blk << 21) | cnt;
    let mut b = l0.to_be_bytes().to_vec();
    b.extend_from_slice(&l1.to_be_bytes());
    let r = super::bmap::decode(&b, 0).unwrap();
    assert_eq!(
        (r.startoff, r.startblock, r.blockcount, r.unwritten),
        (off, blk, cnt, true)
    );
    assert!(super::bmap::decode(&b, 1).is_none());
}

#[test]
fn damaged_bmbt_is_noted_and_skipped() {
    let mut t = tree(false, 3000);
    t.retain(|p, _| p == "many" || p.starts_with("many/"));
    let b = build(t, &[]);
    let (ino_off, leaf_fsb, leaf_off, bs, isz) = {
        let image = open(&b.img);
        let fs = Xfs::open(&image, 0, image.size()).unwrap();
        let many = files::lookup(&fs, &image, "/many").unwrap();
        assert_eq!(fs.read_dir(&many, false).unwrap().len(), 3000);
        let out = xfs_db(&b.img, &[format!("inode {}", many.ino), "p u3.bmbt".into()]);
        assert!(out.contains("u3.bmbt.level = 1"), "{out}");
        let fsb: u64 = out
            .lines()
            .find_map(|l| l.strip_prefix("u3.bmbt.ptrs[1] = "))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let sb = fs.superblock();
        (
            fs.ino_offset(many.ino).unwrap(),
            fsb,
            fs.fsb_offset(fsb).unwrap(),
            u64::from(sb.block_size),
            u64::from(sb.inodesize),
        )
    };
    // The root's only pointer: after maxrecs keys of the fork (no attr fork).
    let fork = ino_off + 176;
    let maxrecs = (isz - 176 - 4) / 16;
    let root_ptr = fork + 4 + maxrecs * 8;
    let f = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&b.img)
        .unwrap();
    let mut saved = vec![0u8; 8];
    f.read_exact_at(&mut saved, root_ptr).unwrap();
    assert_eq!(
        u64::from_be_bytes(saved.clone().try_into().unwrap()),
        leaf_fsb
    );
    let read = || {
        let image = open(&b.img);
        let fs = Xfs::open(&image, 0, image.size()).unwrap();
        let many = files::lookup(&fs, &image, "/many").unwrap();
        let n = fs.read_dir(&many, false).unwrap().len();
        let notes: Vec<String> = fs.notes().iter().map(|n| n.to_string()).collect();
        (n, notes)
    };
    let noted = |what: &str| {
        let (n, notes) = read();
        assert!(notes.iter().any(|n| n.contains(what)), "{what}: {notes:?}");
        n
    };

    // A pointer outside the filesystem.
    f.write_all_at(&(1u64 << 40).to_be_bytes(), root_ptr)
        .unwrap();
    assert_eq!(noted("outside the filesystem"), 0);
    f.write_all_at(&saved, root_ptr).unwrap();

    // The root says 2 levels: its child, a leaf, is not at level 1.
    f.write_all_at(&2u16.to_be_bytes(), fork).unwrap();
    assert_eq!(noted("level 0 where 1 was expected"), 0);

    // ... and the child made a level-1 node pointing at itself: a loop.
    let mut leaf = vec![0u8; bs as usize];
    f.read_exact_at(&mut leaf, leaf_off).unwrap();
    let mut node = leaf.clone();
    node[4..6].copy_from_slice(&1u16.to_be_bytes());
    node[6..8].copy_from_slice(&1u16.to_be_bytes());
    let node_max = (bs as usize - 72) / 16;
    node[72 + node_max * 8..80 + node_max * 8].copy_from_slice(&leaf_fsb.to_be_bytes());
    f.write_all_at(&node, leaf_off).unwrap();
    assert_eq!(noted("visited before"), 0);
    assert_eq!(noted("CRC mismatch"), 0);

    // Restored: all names again.
    f.write_all_at(&leaf, leaf_off).unwrap();
    f.write_all_at(&1u16.to_be_bytes(), fork).unwrap();
    assert_eq!(read(), (3000, Vec::new()));
}
