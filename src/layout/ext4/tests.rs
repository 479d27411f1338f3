//! Tests on real images: made at test time by mke2fs -d from a directory
//! tree (compared file by file with the tree), changed with debugfs, and
//! the committed fixture with its damage recipes.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::{symlink, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::inode::{flags_and_generation, FL_INDEX};
use super::{sweep_hit, Ext4};
use crate::image::{Image, ReadMode};
use crate::layout::files;
use crate::layout::fs::{FileKind, Filesystem, Inode};

use crate::testutil::{pattern, run};

/// The long symlink's target (over 60 bytes: stored in a block).
const LONG_TARGET: &str =
    "a/b/c/a_target_name_that_is_much_longer_than_sixty_characters_to_force_a_slow_symlink";

/// huge.bin: its size and where its only data is.
const HUGE_LEN: u64 = 5 << 30;
const HUGE_DATA_AT: u64 = 9 << 29;

/// The source tree every image is made from.
fn make_tree(root: &Path) {
    fs::create_dir_all(root.join("a/b/c")).unwrap();
    fs::create_dir_all(root.join("many")).unwrap();
    fs::write(root.join("a/b/c/deep.txt"), b"a file three levels down\n").unwrap();
    fs::write(root.join("a/b/owned.bin"), pattern(1, 10_000)).unwrap();
    std::os::unix::fs::chown(root.join("a/b/owned.bin"), Some(100_000), Some(100_001)).unwrap();
    let mut f = File::create(root.join("sparse.bin")).unwrap();
    f.write_all(&pattern(2, 8192)).unwrap();
    f.seek(SeekFrom::Start((5 << 20) + 100)).unwrap();
    f.write_all(&pattern(3, 5000)).unwrap();
    // Data only past 70 MiB: triple indirect blocks with 1 KiB blocks.
    let mut f = File::create(root.join("far.bin")).unwrap();
    f.seek(SeekFrom::Start(70 << 20)).unwrap();
    f.write_all(&pattern(4, 3000)).unwrap();
    fs::write(root.join("big.bin"), pattern(5, 20 << 20)).unwrap();
    // Over 4 GiB (i_size_high), a little data at 4.5 GiB.
    let mut f = File::create(root.join("huge.bin")).unwrap();
    f.seek(SeekFrom::Start(HUGE_DATA_AT)).unwrap();
    f.write_all(&pattern(6, 4096)).unwrap();
    f.set_len(HUGE_LEN).unwrap();
    symlink(LONG_TARGET, root.join("long_link")).unwrap();
    symlink("a/b", root.join("short_link")).unwrap();
    for i in 0..600 {
        fs::write(
            root.join(format!("many/entry_with_a_longish_name_{i:04}.txt")),
            format!("file {i}\n"),
        )
        .unwrap();
    }
    fs::write(root.join("tiny.txt"), b"tiny\n").unwrap();
    run(Command::new("touch")
        .args(["-h", "-m", "-d", "@1234567890"])
        .arg(root.join("a/b/c/deep.txt")));
}

/// `mke2fs -q -F <args> -d src img size`.
fn mkfs(src: &Path, img: &Path, args: &[&str], size: &str) {
    run(Command::new("mke2fs")
        .args(["-q", "-F"])
        .args(args)
        .arg("-d")
        .arg(src)
        .arg(img)
        .arg(size));
}

/// e2fsck -fyD: indexes (htree) every directory of more than one block.
fn index_dirs(img: &Path) {
    let st = Command::new("e2fsck")
        .args(["-fyD"])
        .arg(img)
        .output()
        .unwrap()
        .status;
    assert!(st.code().is_some_and(|c| c <= 1), "e2fsck -fyD: {st}");
}

fn debugfs_w(img: &Path, request: &str) {
    run(Command::new("debugfs").args(["-w", "-R", request]).arg(img));
}

fn open_image(path: &Path) -> Image {
    Image::open(path, ReadMode::Mmap).unwrap()
}

fn whole(image: &Image) -> Ext4<'_> {
    Ext4::open(image, 0, image.size()).unwrap()
}

fn read_all(image: &Image, inode: &Inode) -> Vec<u8> {
    let mut out = Vec::new();
    files::copy_to(image, inode, &mut out).unwrap();
    out
}

/// Every path under `root`, relative, sorted.
fn source_paths(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for e in fs::read_dir(root.join(&rel)).unwrap() {
            let e = e.unwrap();
            let p = rel.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Names in a directory as the filesystem lists them (live only), sorted.
fn fs_names(fs: &Ext4, dir: &Inode) -> Vec<String> {
    let mut v: Vec<String> = fs
        .read_dir(dir, false)
        .unwrap()
        .into_iter()
        .map(|e| String::from_utf8(e.name).unwrap())
        .collect();
    v.sort();
    v
}

/// Every path of the source tree, read through the filesystem, equals the
/// source: bytes, size, mode, owner, mtime, directory listings.
fn check_against_source(fs: &Ext4, image: &Image, src: &Path) {
    let root = fs.inode(2).unwrap();
    let mut names = fs_names(fs, &root);
    names.retain(|n| n != "lost+found");
    let mut want: Vec<String> = fs::read_dir(src)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    want.sort();
    assert_eq!(names, want);
    for rel in source_paths(src) {
        let path = src.join(&rel);
        let md = fs::symlink_metadata(&path).unwrap();
        let name = rel.to_str().unwrap();
        let inode = files::lookup(fs, image, name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(u32::from(inode.mode), md.mode(), "{name} mode");
        assert_eq!(inode.uid, md.uid(), "{name} uid");
        assert_eq!(inode.gid, md.gid(), "{name} gid");
        assert!(!inode.deleted, "{name}");
        let ft = md.file_type();
        if ft.is_dir() {
            assert_eq!(inode.kind, FileKind::Dir);
            let mut want: Vec<String> = fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            want.sort();
            assert_eq!(fs_names(fs, &inode), want, "{name} listing");
            continue;
        }
        let mut want_size = md.len();
        if want_size == HUGE_LEN && fs.sb.has_incompat(super::superblock::INCOMPAT_INLINE_DATA) {
            // mke2fs -d with inline_data leaves the trailing hole out of
            // i_size (debugfs stat says the same).
            want_size = HUGE_DATA_AT + 4096;
        }
        assert_eq!(inode.size, want_size, "{name} size");
        assert_eq!(inode.mtime, md.mtime(), "{name} mtime");
        if ft.is_symlink() {
            assert_eq!(inode.kind, FileKind::Symlink);
            let target = fs::read_link(&path).unwrap();
            assert_eq!(
                files::symlink_target(image, &inode),
                target.to_str().unwrap().as_bytes(),
                "{name} target"
            );
        } else if md.len() > 1 << 30 {
            // Too big to compare whole: the data and a hole.
            let mut buf = vec![0xAAu8; 8192];
            let n = files::read_at(image, &inode, HUGE_DATA_AT, &mut buf);
            assert_eq!(n as u64, (want_size - HUGE_DATA_AT).min(8192));
            assert_eq!(&buf[..4096], &pattern(6, 4096)[..], "{name} data");
            assert!(buf[4096..n].iter().all(|&b| b == 0), "{name} hole");
            assert_eq!(files::read_at(image, &inode, 4096, &mut buf), 8192);
            assert!(buf.iter().all(|&b| b == 0), "{name} hole");
            assert_eq!(files::read_at(image, &inode, want_size - 10, &mut buf), 10);
        } else {
            assert_eq!(inode.kind, FileKind::Regular);
            assert_eq!(
                read_all(image, &inode),
                fs::read(&path).unwrap(),
                "{name} bytes"
            );
        }
    }
    // The walk meets every path once.
    let mut walked = Vec::new();
    files::walk(
        fs,
        &root,
        b"/",
        true,
        false,
        &mut |f| walked.push(String::from_utf8(f.path.clone()).unwrap()),
        &mut |p, e| panic!("{:?}: {e}", String::from_utf8_lossy(p)),
    );
    walked.retain(|p| !p.starts_with("/lost+found"));
    walked.sort();
    let want: Vec<String> = source_paths(src)
        .iter()
        .map(|p| format!("/{}", p.display()))
        .collect();
    assert_eq!(walked, want);
}

struct Made {
    _tmp: tempfile::TempDir,
    src: PathBuf,
    img: PathBuf,
}

fn made(args: &[&str], size: &str, htree: bool) -> Made {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    make_tree(&src);
    let img = tmp.path().join("fs.img");
    mkfs(&src, &img, args, size);
    if htree {
        index_dirs(&img);
    }
    Made {
        _tmp: tmp,
        src,
        img,
    }
}

fn raw_flags(fs: &Ext4, ino: u64) -> u32 {
    flags_and_generation(&fs.raw_inode(ino).unwrap().0).0
}

#[test]
fn modern_ext4_reads_like_the_source() {
    let m = made(&["-t", "ext4", "-b", "4096"], "48M", true);
    let image = open_image(&m.img);
    let fs = whole(&image);
    assert_eq!(fs.kind(), "ext4");
    assert!(fs.sb.has_incompat(super::superblock::INCOMPAT_64BIT));
    assert!(fs.seed.is_some(), "metadata_csum verified");
    check_against_source(&fs, &image, &m.src);
    let many = files::lookup(&fs, &image, "/many").unwrap();
    assert_ne!(raw_flags(&fs, many.ino) & FL_INDEX, 0, "many/ is an htree");
    assert_eq!(fs.read_dir(&many, false).unwrap().len(), 600);
    // Sparse: the hole is a gap between extents.
    let sparse = files::lookup(&fs, &image, "/sparse.bin").unwrap();
    assert!(sparse.extents.len() >= 2);
    let covered: u64 = sparse.extents.iter().map(|x| x.len).sum();
    assert!(covered < 64 << 10, "holes are not mapped: {covered}");
    let huge = files::lookup(&fs, &image, "/huge.bin").unwrap();
    assert_eq!(huge.size, HUGE_LEN);
    assert_eq!(huge.extents.len(), 1);
    assert_eq!(huge.extents[0].logical, HUGE_DATA_AT);
    let far = files::lookup(&fs, &image, "/far.bin").unwrap();
    assert_eq!(far.extents.len(), 1);
    assert_eq!(far.extents[0].logical, 70 << 20);
    // Short symlink is fast (in the inode), long one is in a block.
    let short = files::lookup(&fs, &image, "/short_link").unwrap();
    assert_eq!(short.inline.as_deref(), Some(&b"a/b"[..]));
    let long = files::lookup(&fs, &image, "/long_link").unwrap();
    assert!(long.inline.is_none() && long.extents.len() == 1);
    let deep = files::lookup(&fs, &image, "/a/b/c/deep.txt").unwrap();
    assert_eq!(deep.mtime, 1_234_567_890);
    // Out of range inode numbers.
    assert!(fs.inode(0).is_err());
    assert!(fs.inode(fs.sb.inode_limit() + 1).is_err());
    assert!(
        fs.inode(fs.sb.inode_limit()).is_err(),
        "last inode is unused (zeros)"
    );
    assert_eq!(fs.notes(), vec![], "a clean image gives no notes");
    // Extents are absolute image offsets: the same file in a partition.
    let raw = fs::read(&m.img).unwrap();
    let part = m.img.with_extension("disk");
    let mut disk = vec![0u8; 1 << 20];
    disk.extend_from_slice(&raw);
    fs::write(&part, &disk).unwrap();
    let dimage = open_image(&part);
    let pfs = Ext4::open(&dimage, 1 << 20, raw.len() as u64).unwrap();
    let big = files::lookup(&pfs, &dimage, "/big.bin").unwrap();
    let big0 = files::lookup(&fs, &image, "/big.bin").unwrap();
    assert_eq!(
        big.extents[0].physical,
        big0.extents[0].physical + (1 << 20)
    );
    assert_eq!(read_all(&dimage, &big), pattern(5, 20 << 20));
    // sweep_hit on the primary superblock.
    assert_eq!(
        sweep_hit(&dimage.bytes((1 << 20) + 1024, 1024), (1 << 20) + 1024),
        Some(1 << 20)
    );
    assert_eq!(
        sweep_hit(&dimage.bytes((1 << 20) + 4096, 1024), (1 << 20) + 4096),
        None
    );
}

#[test]
fn ext4_2018_flavour_reads_like_the_source() {
    let m = made(
        &[
            "-t",
            "ext4",
            "-b",
            "4096",
            "-O",
            "^64bit,^metadata_csum,^metadata_csum_seed,^orphan_file",
        ],
        "48M",
        true,
    );
    let image = open_image(&m.img);
    let fs = whole(&image);
    assert_eq!(fs.kind(), "ext4");
    assert!(fs.seed.is_none());
    assert_eq!(fs.sb.desc_size, 32);
    check_against_source(&fs, &image, &m.src);
    assert_eq!(fs.notes(), vec![]);
}

#[test]
fn ext3_block_maps_read_like_the_source() {
    // 1 KiB blocks: far.bin (70 MiB in) needs the triple indirect block.
    let m = made(&["-t", "ext3", "-b", "1024"], "48M", false);
    let image = open_image(&m.img);
    let fs = whole(&image);
    assert_eq!(fs.kind(), "ext3");
    check_against_source(&fs, &image, &m.src);
    let big = files::lookup(&fs, &image, "/big.bin").unwrap();
    assert_eq!(raw_flags(&fs, big.ino) & super::inode::FL_EXTENTS, 0);
    assert_eq!(read_all(&image, &big), pattern(5, 20 << 20));
    let far = files::lookup(&fs, &image, "/far.bin").unwrap();
    assert_eq!(far.extents.len(), 1, "{:?}", far.extents);
    assert_eq!(far.extents[0].logical, 70 << 20);
    assert_eq!(fs.notes(), vec![]);
}

#[test]
fn inline_data_files_and_dirs() {
    let m = made(
        &["-t", "ext4", "-b", "4096", "-O", "inline_data"],
        "48M",
        false,
    );
    let image = open_image(&m.img);
    let fs = whole(&image);
    check_against_source(&fs, &image, &m.src);
    let tiny = files::lookup(&fs, &image, "/tiny.txt").unwrap();
    assert_eq!(tiny.inline.as_deref(), Some(&b"tiny\n"[..]));
    assert!(tiny.extents.is_empty());
    let c = files::lookup(&fs, &image, "/a/b/c").unwrap();
    assert!(c.inline.is_some(), "a small directory is inline");
    assert_eq!(fs_names(&fs, &c), vec!["deep.txt"]);
    assert_eq!(fs.notes(), vec![]);
}

/// Zeroes `len` bytes at `off` of the file.
fn zero(path: &Path, off: u64, len: usize) {
    let mut f = fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(off)).unwrap();
    f.write_all(&vec![0; len]).unwrap();
}

#[test]
fn one_k_blocks_backup_superblock_and_descriptors() {
    let m = made(&["-t", "ext4", "-b", "1024"], "48M", true);
    {
        let image = open_image(&m.img);
        let fs = whole(&image);
        assert_eq!(fs.block_size(), 1024);
        assert!(fs.sb.group_count() >= 4);
        check_against_source(&fs, &image, &m.src);
        assert_eq!(fs.notes(), vec![]);
        // The backup in group 1 (block 8193) names the same start.
        let at = 8193 * 1024;
        assert_eq!(sweep_hit(&image.bytes(at, 1024), at), Some(0));
        assert_eq!(
            sweep_hit(&image.bytes(at + 5 * 512, 1024), at + 5 * 512),
            None
        );
    }
    // One descriptor's free-blocks count changed: its checksum fails, it is
    // still used (its fields are in range).
    let mut f = fs::OpenOptions::new().write(true).open(&m.img).unwrap();
    f.seek(SeekFrom::Start(2048 + 2 * 64 + 0xC)).unwrap();
    f.write_all(&[0x5A]).unwrap();
    drop(f);
    {
        let image = open_image(&m.img);
        let fs = whole(&image);
        check_against_source(&fs, &image, &m.src);
        let notes = fs.notes();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(notes[0].structure, "ext4 group descriptor 2");
        assert_eq!(notes[0].offset, 2048 + 2 * 64);
        assert!(notes[0].message.contains("checksum"));
    }
    // Primary superblock and the primary descriptor table (block 2) zeroed.
    zero(&m.img, 1024, 1024);
    zero(&m.img, 2048, 1024);
    let image = open_image(&m.img);
    let fs = whole(&image);
    check_against_source(&fs, &image, &m.src);
    let notes = fs.notes();
    assert!(
        notes
            .iter()
            .any(|n| n.message.contains("backup superblock of group 1")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.structure == "ext4 backup group descriptors" && n.offset == 8194 * 1024),
        "{notes:?}"
    );
}

#[test]
fn deleted_files_found_with_their_bytes() {
    // A fixed htree hash seed: which block of /many an entry lands in
    // follows the seed, and an entry first in its block has its inode
    // number cleared by `rm` (nothing left to find). With a random seed
    // that happened now and then.
    let m = made(
        &[
            "-t",
            "ext4",
            "-b",
            "4096",
            "-E",
            "hash_seed=3b1f5c2a-9d4e-4f60-8a7b-2c3d4e5f6071",
        ],
        "48M",
        true,
    );
    debugfs_w(&m.img, "rm /a/b/owned.bin");
    debugfs_w(&m.img, "rm /many/entry_with_a_longish_name_0123.txt");
    let image = open_image(&m.img);
    let fs = whole(&image);
    let b = files::lookup(&fs, &image, "/a/b").unwrap();
    assert_eq!(fs_names(&fs, &b), vec!["c"]);
    let all = fs.read_dir(&b, true).unwrap();
    let gone: Vec<_> = all.iter().filter(|e| e.deleted).collect();
    assert_eq!(gone.len(), 1, "{all:?}");
    assert_eq!(gone[0].name, b"owned.bin");
    assert_eq!(gone[0].kind, Some(FileKind::Regular));
    let inode = fs.inode(gone[0].ino).unwrap();
    assert!(inode.deleted);
    assert_eq!(inode.uid, 100_000);
    assert_eq!(read_all(&image, &inode), pattern(1, 10_000));
    let many = files::lookup(&fs, &image, "/many").unwrap();
    let entries = fs.read_dir(&many, true).unwrap();
    assert_eq!(entries.iter().filter(|e| !e.deleted).count(), 599);
    let dead: Vec<_> = entries.iter().filter(|e| e.deleted).collect();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].name, b"entry_with_a_longish_name_0123.txt");
    let inode = fs.inode(dead[0].ino).unwrap();
    assert!(inode.deleted);
    assert_eq!(read_all(&image, &inode), b"file 123\n");
}

#[test]
fn unwritten_extents_are_flagged_and_read_as_zeros() {
    let m = made(&["-t", "ext4", "-b", "4096"], "48M", false);
    // Inside the file's size, debugfs fallocate leaves the blocks unwritten.
    debugfs_w(&m.img, "sif /tiny.txt size 100000");
    debugfs_w(&m.img, "fallocate /tiny.txt 1 9");
    let image = open_image(&m.img);
    let fs = whole(&image);
    let tiny = files::lookup(&fs, &image, "/tiny.txt").unwrap();
    assert!(
        tiny.extents.iter().any(|x| x.unwritten),
        "{:?}",
        tiny.extents
    );
    assert!(tiny.extents.iter().any(|x| !x.unwritten && x.logical == 0));
    let mut want = b"tiny\n".to_vec();
    want.resize(100_000, 0);
    assert_eq!(read_all(&image, &tiny), want);
}

#[test]
fn mtime_nanoseconds_and_epoch_bits() {
    let m = made(&["-t", "ext4", "-b", "4096"], "48M", false);
    // 123456789 ns << 2, epoch bits 0, then epoch bits 1 (2^32 s later).
    debugfs_w(&m.img, "sif /tiny.txt mtime_extra 0x1d6f3454");
    debugfs_w(&m.img, "sif /a/b/c/deep.txt mtime_extra 0x1d6f3455");
    let image = open_image(&m.img);
    let fs = whole(&image);
    let tiny = files::lookup(&fs, &image, "/tiny.txt").unwrap();
    let md = fs::metadata(m.src.join("tiny.txt")).unwrap();
    assert_eq!((tiny.mtime, tiny.mtime_nsec), (md.mtime(), 123_456_789));
    let deep = files::lookup(&fs, &image, "/a/b/c/deep.txt").unwrap();
    assert_eq!(
        (deep.mtime, deep.mtime_nsec),
        (1_234_567_890 + (1 << 32), 123_456_789)
    );
}

#[test]
fn an_xfs_made_over_an_old_ext4_is_not_ext4() {
    let m = made(&["-t", "ext4", "-b", "1024"], "48M", false);
    // The old backup superblocks stay; the start now says XFS.
    let mut f = fs::OpenOptions::new().write(true).open(&m.img).unwrap();
    let mut head = vec![0u8; 4096];
    head[..4].copy_from_slice(b"XFSB");
    f.write_all(&head).unwrap();
    drop(f);
    let image = open_image(&m.img);
    let err = Ext4::open(&image, 0, image.size()).err().unwrap();
    assert!(err.message.contains("XFS"), "{err}");
}

/// An image whose free space is checkerboarded, then a big file written
/// into it: an extent tree of depth 1 or more.
fn fragmented() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir_all(src.join("fill")).unwrap();
    for i in 0..300 {
        fs::write(
            src.join(format!("fill/f{i:03}")),
            pattern(100 + i, 40 << 10),
        )
        .unwrap();
    }
    let img = tmp.path().join("frag.img");
    mkfs(
        &src,
        &img,
        &["-t", "ext4", "-b", "4096", "-O", "^has_journal"],
        "16M",
    );
    let mut req = String::new();
    for i in (0..300).step_by(2) {
        req.push_str(&format!("rm /fill/f{i:03}\n"));
    }
    let cmds = tmp.path().join("cmds");
    fs::write(&cmds, req).unwrap();
    run(Command::new("debugfs")
        .args(["-w", "-f"])
        .arg(&cmds)
        .arg(&img));
    let content = pattern(7, 5 << 20);
    let big = tmp.path().join("big");
    fs::write(&big, &content).unwrap();
    debugfs_w(&img, &format!("write {} big", big.display()));
    (tmp, img, content)
}

#[test]
fn fragmented_file_with_an_extent_tree() {
    let (_tmp, img, content) = fragmented();
    let image = open_image(&img);
    let fs = whole(&image);
    let big = files::lookup(&fs, &image, "/big").unwrap();
    let (raw, _) = fs.raw_inode(big.ino).unwrap();
    let depth = u16::from_le_bytes([raw[0x28 + 6], raw[0x28 + 7]]);
    assert!(depth >= 1, "depth {depth}");
    assert!(big.extents.len() > 4, "{}", big.extents.len());
    assert_eq!(read_all(&image, &big), content);
    assert_eq!(fs.notes(), vec![]);
}

#[test]
fn damaged_extent_trees_are_skipped_with_notes() {
    let (_tmp, img, content) = fragmented();
    let (ino, inode_at, leaf) = {
        let image = open_image(&img);
        let fs = whole(&image);
        let big = files::lookup(&fs, &image, "/big").unwrap();
        let (raw, at) = fs.raw_inode(big.ino).unwrap();
        let leaf = u32::from_le_bytes(raw[0x28 + 16..0x28 + 20].try_into().unwrap());
        (big.ino, at, u64::from(leaf))
    };
    let mut bytes = fs::read(&img).unwrap();
    // The leaf claims depth 1 and points at itself.
    let l = (leaf * 4096) as usize;
    bytes[l + 6] = 1;
    bytes[l + 12 + 4..l + 12 + 8].copy_from_slice(&(leaf as u32).to_le_bytes());
    let loop_img = img.with_extension("loop");
    fs::write(&loop_img, &bytes).unwrap();
    // A second index entry in the inode pointing past the image.
    let mut bytes = fs::read(&img).unwrap();
    let r = inode_at as usize + 0x28;
    bytes[r + 2] = 2; // entries
    bytes[r + 24..r + 28].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes()); // ei_block
    bytes[r + 28..r + 32].copy_from_slice(&0x00FF_FFFFu32.to_le_bytes()); // ei_leaf_lo
    let out_img = img.with_extension("out");
    fs::write(&out_img, &bytes).unwrap();

    let image = open_image(&loop_img);
    let fs = whole(&image);
    let big = fs.inode(ino).unwrap();
    assert!(big.extents.is_empty());
    assert!(fs
        .notes()
        .iter()
        .any(|n| n.offset == leaf * 4096 && n.message.contains("depth")));
    let image = open_image(&out_img);
    let fs = whole(&image);
    let big = fs.inode(ino).unwrap();
    assert_eq!(read_all(&image, &big), content, "the good subtree is kept");
    let notes = fs.notes();
    assert!(
        notes.iter().any(|n| n.message.contains("outside")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.message.contains("checksum")),
        "{notes:?}"
    );
}

/// The committed fixture and its damage recipes, decompressed.
fn fixture(dir: &Path) -> (PathBuf, Vec<u8>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/images");
    let z = fs::read(root.join("main-ext4-modern.img.zst")).unwrap();
    let bytes = zstd::stream::decode_all(&z[..]).unwrap();
    let path = dir.join("clean.img");
    fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

fn damaged(dir: &Path, clean: &[u8], recipe: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/images/damage");
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(root.join(recipe)).unwrap()).unwrap();
    let mut bytes = clean.to_vec();
    for op in json["ops"].as_array().unwrap() {
        assert_eq!(op["op"], "zero");
        let off = op["offset"].as_u64().unwrap() as usize;
        let len = op["len"].as_u64().unwrap() as usize;
        bytes[off..off + len].fill(0);
    }
    let path = dir.join(recipe.replace(".json", ".img"));
    fs::write(&path, &bytes).unwrap();
    path
}

/// Every file under /var/lib/mysql: path -> (size, crc32c of the bytes).
fn mysql_files(image: &Image) -> (BTreeMap<String, (u64, u32)>, Vec<String>) {
    let fs = Ext4::open(image, 1 << 20, image.size() - (1 << 20)).unwrap();
    let dir = files::lookup(&fs, image, "/var/lib/mysql").unwrap();
    let mut out = BTreeMap::new();
    files::walk(
        &fs,
        &dir,
        b"/var/lib/mysql",
        true,
        false,
        &mut |f| {
            let inode = f.inode.as_ref().unwrap();
            if inode.kind == FileKind::Regular {
                let bytes = read_all(image, inode);
                out.insert(
                    String::from_utf8(f.path.clone()).unwrap(),
                    (inode.size, crc32c::crc32c(&bytes)),
                );
            }
        },
        &mut |p, e| panic!("{:?}: {e}", String::from_utf8_lossy(p)),
    );
    let notes = fs.notes().iter().map(|n| n.to_string()).collect();
    (out, notes)
}

#[test]
fn fixture_reads_the_same_through_superblock_and_descriptor_damage() {
    let tmp = tempfile::tempdir().unwrap();
    let (clean_path, clean) = fixture(tmp.path());
    let image = open_image(&clean_path);
    let (want, notes) = mysql_files(&image);
    assert_eq!(notes, Vec::<String>::new());
    assert!(want.len() > 30, "{}", want.len());
    assert!(want.contains_key("/var/lib/mysql/ibdata1"));
    assert!(want.contains_key("/var/lib/mysql/shop/users.ibd"));
    // The files removed with debugfs rm, still there as deleted entries.
    let fs = Ext4::open(&image, 1 << 20, image.size() - (1 << 20)).unwrap();
    let shop = files::lookup(&fs, &image, "/var/lib/mysql/shop").unwrap();
    let entries = fs.read_dir(&shop, true).unwrap();
    for name in ["old_carts.ibd", "old_carts.frm", "#sql-ib42-1787465245.ibd"] {
        let e = entries
            .iter()
            .find(|e| e.name == name.as_bytes())
            .unwrap_or_else(|| panic!("{name} not found"));
        assert!(e.deleted);
        let inode = fs.inode(e.ino).unwrap();
        assert!(inode.deleted && inode.size > 0 && !inode.extents.is_empty());
    }
    for recipe in ["sb-zeroed.json", "gdt-zeroed.json"] {
        let path = damaged(tmp.path(), &clean, recipe);
        let image = open_image(&path);
        let (got, notes) = mysql_files(&image);
        assert_eq!(got, want, "{recipe}");
        let want_note = match recipe {
            "sb-zeroed.json" => "metadata checksums verified with the UUID of the journal",
            _ => "inode table found at block 40 by its root directory inode",
        };
        assert!(
            notes.iter().any(|n| n.contains(want_note)),
            "{recipe}: {notes:#?}"
        );
    }
}

#[test]
fn random_metadata_damage_never_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir_all(src.join("d/e")).unwrap();
    fs::create_dir_all(src.join("many")).unwrap();
    for i in 0..120 {
        fs::write(
            src.join(format!("many/n{i:03}")),
            pattern(i, (i as usize) * 37),
        )
        .unwrap();
    }
    fs::write(src.join("d/e/f"), pattern(9, 300_000)).unwrap();
    symlink(LONG_TARGET, src.join("d/link")).unwrap();
    let img = tmp.path().join("small.img");
    mkfs(
        &src,
        &img,
        &["-t", "ext4", "-b", "1024", "-O", "^has_journal"],
        "4M",
    );
    index_dirs(&img);
    let clean = fs::read(&img).unwrap();
    // Metadata: superblock, descriptors, bitmaps and inode tables (the
    // first 300 KiB here), and the directory blocks.
    let mut regions: Vec<(usize, usize)> = vec![(1024, 300 << 10)];
    {
        let image = open_image(&img);
        let fs = whole(&image);
        let root = fs.inode(2).unwrap();
        files::walk(
            &fs,
            &root,
            b"/",
            true,
            true,
            &mut |f| {
                if let Ok(i) = &f.inode {
                    if i.kind == FileKind::Dir {
                        for x in &i.extents {
                            regions.push((x.physical as usize, x.len as usize));
                        }
                    }
                }
            },
            &mut |_, _| {},
        );
    }
    let mut x = 0x1234_5678_9ABC_DEF1u64;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let path = tmp.path().join("mutated.img");
    for round in 0..300 {
        let mut bytes = clean.clone();
        let flips = 1 + rnd() % 64;
        for _ in 0..flips {
            let (s, l) = regions[(rnd() % regions.len() as u64) as usize];
            let at = s + (rnd() % l as u64) as usize;
            if at < bytes.len() {
                bytes[at] = rnd() as u8;
            }
        }
        if round % 10 == 0 {
            // Sometimes a whole block of zeros or garbage.
            let (s, l) = regions[(rnd() % regions.len() as u64) as usize];
            let at = (s + (rnd() % l as u64) as usize) & !1023;
            let fill = rnd() as u8;
            bytes[at..(at + 1024).min(clean.len())].fill(fill);
        }
        fs::write(&path, &bytes).unwrap();
        let image = open_image(&path);
        let Ok(fs) = Ext4::open(&image, 0, image.size()) else {
            continue;
        };
        let Ok(root) = fs.inode(2) else {
            continue;
        };
        let mut seen = Vec::new();
        files::walk(
            &fs,
            &root,
            b"/",
            true,
            true,
            &mut |f| {
                if let Ok(i) = &f.inode {
                    seen.push(i.clone());
                }
            },
            &mut |_, _| {},
        );
        for i in &seen {
            let mut buf = vec![0u8; 64 << 10];
            let mut off = 0;
            while off < i.size.min(1 << 20) {
                let n = files::read_at(&image, i, off, &mut buf);
                if n == 0 {
                    break;
                }
                off += n as u64;
            }
        }
        let _ = fs.notes();
    }
}
