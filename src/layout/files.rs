//! What every filesystem shares once its inodes and directories can be read:
//! path lookup, the recursive walk, and a file's bytes through its block map.

use std::collections::HashSet;
use std::io::{self, Write};

use super::fs::{DirEntry, Extent, FileKind, Filesystem, FsError, Inode};
use crate::image::Image;

/// How deep a walk or a path may go: directory loops in a damaged tree end here.
pub const MAX_DEPTH: usize = 256;
/// How many symlinks a path lookup follows.
const MAX_LINKS: usize = 40;
/// The longest symlink target read.
const MAX_LINK_LEN: u64 = 4096;

/// Resolves `path` (absolute or relative to the root; `.`, `..` and
/// symlinks in the middle are followed, a symlink at the end is not).
pub fn lookup(fs: &dyn Filesystem, image: &Image, path: &str) -> Result<Inode, FsError> {
    let mut links = 0;
    let mut stack: Vec<Inode> = vec![fs.inode(fs.root())?];
    let mut parts: Vec<Vec<u8>> = split(path.as_bytes());
    parts.reverse();
    while let Some(part) = parts.pop() {
        match part.as_slice() {
            b"." => continue,
            b".." => {
                if stack.len() > 1 {
                    stack.pop();
                }
                continue;
            }
            _ => {}
        }
        let dir = stack.last().expect("root stays on the stack");
        if dir.kind != FileKind::Dir {
            return Err(FsError::new(
                format!("inode {}", dir.ino),
                0,
                format!("not a directory (looking up {path})"),
            ));
        }
        let entry = fs
            .read_dir(dir, false)?
            .into_iter()
            .find(|e| e.name == part)
            .ok_or_else(|| {
                FsError::new(
                    format!("directory inode {}", dir.ino),
                    0,
                    format!("no entry {:?} (looking up {path})", lossy(&part)),
                )
            })?;
        let inode = fs.inode(entry.ino)?;
        if inode.kind == FileKind::Symlink && !parts.is_empty() {
            links += 1;
            if links > MAX_LINKS {
                return Err(FsError::new(
                    format!("symlink inode {}", inode.ino),
                    0,
                    "too many levels of symbolic links",
                ));
            }
            let target = symlink_target(image, &inode);
            if target.starts_with(b"/") {
                stack.truncate(1);
            }
            let mut more = split(&target);
            more.reverse();
            parts.extend(more);
            continue;
        }
        stack.push(inode);
        if stack.len() > MAX_DEPTH {
            return Err(FsError::new("path", 0, format!("{path}: too deep")));
        }
    }
    Ok(stack.pop().expect("root stays on the stack"))
}

fn split(path: &[u8]) -> Vec<Vec<u8>> {
    path.split(|&b| b == b'/')
        .filter(|p| !p.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// A name as text for messages (invalid UTF-8 replaced).
pub fn lossy(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

/// One file met by [`walk`].
#[derive(Debug, Clone)]
pub struct Found {
    /// The path from the root, `/`-separated, starting with `/`.
    pub path: Vec<u8>,
    pub entry: DirEntry,
    /// The inode, when it could be read.
    pub inode: Result<Inode, FsError>,
}

/// Walks directory `dir` (recursively with `recursive`), calling `visit`
/// for each entry in directory order, a directory before its contents.
/// A directory is entered once (loops end), at most [`MAX_DEPTH`] deep.
/// Directories that cannot be read are passed to `on_error` and skipped.
pub fn walk(
    fs: &dyn Filesystem,
    dir: &Inode,
    dir_path: &[u8],
    recursive: bool,
    deleted: bool,
    visit: &mut dyn FnMut(&Found),
    on_error: &mut dyn FnMut(&[u8], &FsError),
) {
    let mut seen = HashSet::new();
    seen.insert(dir.ino);
    walk_in(
        fs, dir, dir_path, recursive, deleted, visit, on_error, &mut seen, 0,
    );
}

#[allow(clippy::too_many_arguments)]
fn walk_in(
    fs: &dyn Filesystem,
    dir: &Inode,
    dir_path: &[u8],
    recursive: bool,
    deleted: bool,
    visit: &mut dyn FnMut(&Found),
    on_error: &mut dyn FnMut(&[u8], &FsError),
    seen: &mut HashSet<u64>,
    depth: usize,
) {
    let entries = match fs.read_dir(dir, deleted) {
        Ok(e) => e,
        Err(e) => {
            on_error(dir_path, &e);
            return;
        }
    };
    for entry in entries {
        let mut path = dir_path.to_vec();
        if path.last() != Some(&b'/') {
            path.push(b'/');
        }
        path.extend_from_slice(&entry.name);
        let inode = fs.inode(entry.ino);
        let found = Found { path, entry, inode };
        visit(&found);
        if !recursive || found.entry.deleted || depth + 1 >= MAX_DEPTH {
            continue;
        }
        if let Ok(inode) = &found.inode {
            if inode.kind == FileKind::Dir && seen.insert(inode.ino) {
                walk_in(
                    fs,
                    inode,
                    &found.path,
                    recursive,
                    deleted,
                    visit,
                    on_error,
                    seen,
                    depth + 1,
                );
            }
        }
    }
}

/// The target of a symlink (inline or in its blocks), at most 4 KiB.
pub fn symlink_target(image: &Image, inode: &Inode) -> Vec<u8> {
    let len = inode.size.min(MAX_LINK_LEN) as usize;
    let mut buf = vec![0u8; len];
    read_at(image, inode, 0, &mut buf);
    buf
}

/// Fills `buf` with the file's bytes from `off`: holes and unwritten extents
/// read as zeros, bytes past the end of the file are not read. Returns how
/// many bytes are file content (short at the end of the file).
pub fn read_at(image: &Image, inode: &Inode, off: u64, buf: &mut [u8]) -> usize {
    if off >= inode.size {
        return 0;
    }
    let n = (buf.len() as u64).min(inode.size - off) as usize;
    let buf = &mut buf[..n];
    buf.fill(0);
    if let Some(data) = &inode.inline {
        let s = (off as usize).min(data.len());
        let e = (s + n).min(data.len());
        buf[..e - s].copy_from_slice(&data[s..e]);
        return n;
    }
    let end = off + n as u64;
    // Extents are sorted by logical offset: start at the first that ends after `off`.
    let first = inode
        .extents
        .partition_point(|x| x.logical.saturating_add(x.len) <= off);
    for x in &inode.extents[first..] {
        if x.logical >= end {
            break;
        }
        if x.unwritten {
            continue;
        }
        let s = x.logical.max(off);
        let e = (x.logical.saturating_add(x.len)).min(end);
        if s >= e {
            continue;
        }
        let bytes = image.bytes(x.physical.saturating_add(s - x.logical), (e - s) as usize);
        let at = (s - off) as usize;
        buf[at..at + bytes.len()].copy_from_slice(&bytes);
    }
    n
}

/// Copies the whole file to `out`, in 1 MiB pieces. Returns the bytes written.
pub fn copy_to(image: &Image, inode: &Inode, out: &mut dyn Write) -> io::Result<u64> {
    let mut buf = vec![0u8; 1 << 20];
    let mut off = 0u64;
    while off < inode.size {
        let n = read_at(image, inode, off, &mut buf);
        if n == 0 {
            break;
        }
        out.write_all(&buf[..n])?;
        off += n as u64;
    }
    Ok(off)
}

/// The image runs that hold file bytes `off..off+len`, in file order:
/// `(file_offset, image_offset, len)`; holes are left out.
pub fn runs(inode: &Inode, off: u64, len: u64) -> Vec<(u64, u64, u64)> {
    let end = off.saturating_add(len).min(inode.size);
    let mut out = Vec::new();
    let first = inode
        .extents
        .partition_point(|x| x.logical.saturating_add(x.len) <= off);
    for x in &inode.extents[first..] {
        if x.logical >= end {
            break;
        }
        if x.unwritten {
            continue;
        }
        let s = x.logical.max(off);
        let e = x.logical.saturating_add(x.len).min(end);
        if s < e {
            out.push((s, x.physical.saturating_add(s - x.logical), e - s));
        }
    }
    out
}

/// Sorts a block map and drops what overlaps an earlier extent (a damaged
/// tree may list a range twice): the first claim wins.
pub fn normalize(extents: &mut Vec<Extent>) {
    extents.sort_by_key(|x| x.logical);
    let mut end = 0u64;
    extents.retain_mut(|x| {
        if x.len == 0 {
            return false;
        }
        let xe = x.logical.saturating_add(x.len);
        if xe <= end {
            return false;
        }
        if x.logical < end {
            let cut = end - x.logical;
            x.logical += cut;
            x.physical += cut;
            x.len -= cut;
        }
        end = xe;
        true
    });
}

/// Calls `f` with every regular file (its directory entry and inode) of
/// every filesystem in `layout`, walking each tree once from its root.
pub fn each_regular_file(
    layout: &crate::layout::Layout,
    f: &mut dyn FnMut(&crate::layout::Volume, &Found, &Inode),
) {
    for vol in &layout.volumes {
        let fs = vol.fs.as_ref();
        let Ok(root) = fs.inode(fs.root()) else {
            continue;
        };
        walk(
            fs,
            &root,
            b"/",
            true,
            false,
            &mut |found: &Found| {
                if let Ok(inode) = &found.inode {
                    if inode.kind == FileKind::Regular {
                        f(vol, found, inode);
                    }
                }
            },
            &mut |_, _| {},
        );
    }
}
