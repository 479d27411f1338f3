//! What every filesystem reader gives the rest of the pipeline: inodes with
//! their block maps in image coordinates, directory entries, and notes on the
//! damage met on the way. ext4 and XFS implement [`Filesystem`]; path lookup,
//! the recursive walk and reading a file's bytes are written once, here and
//! in [`super::files`].

use std::sync::Mutex;

use serde::Serialize;

/// A file's type, from its mode (or a directory entry's type byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Regular,
    Dir,
    Symlink,
    CharDev,
    BlockDev,
    Fifo,
    Socket,
    Unknown,
}

impl FileKind {
    /// From the `S_IFMT` bits of a POSIX mode (shared by ext4 and XFS).
    pub fn from_mode(mode: u16) -> FileKind {
        match mode & 0o170000 {
            0o100000 => FileKind::Regular,
            0o040000 => FileKind::Dir,
            0o120000 => FileKind::Symlink,
            0o020000 => FileKind::CharDev,
            0o060000 => FileKind::BlockDev,
            0o010000 => FileKind::Fifo,
            0o140000 => FileKind::Socket,
            _ => FileKind::Unknown,
        }
    }

    /// The letter `ls -l` prints.
    pub fn letter(self) -> char {
        match self {
            FileKind::Regular => '-',
            FileKind::Dir => 'd',
            FileKind::Symlink => 'l',
            FileKind::CharDev => 'c',
            FileKind::BlockDev => 'b',
            FileKind::Fifo => 'p',
            FileKind::Socket => 's',
            FileKind::Unknown => '?',
        }
    }
}

/// One run of a file's bytes: file bytes `logical..logical+len` are image
/// bytes `physical..physical+len` (absolute image offsets, partition start
/// included). File ranges no extent covers are holes and read as zeros.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Extent {
    pub logical: u64,
    pub physical: u64,
    pub len: u64,
    /// ext4 "unwritten" (preallocated) extents read as zeros.
    pub unwritten: bool,
}

/// An inode as the filesystem stores it, decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inode {
    pub ino: u64,
    pub kind: FileKind,
    /// The full mode (type and permission bits).
    pub mode: u16,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub size: u64,
    /// Modification time, seconds since the epoch (UTC), and nanoseconds.
    pub mtime: i64,
    pub mtime_nsec: u32,
    /// The block map, sorted by `logical`, non-overlapping; empty for inline
    /// files. Extents past `size` may exist (preallocation) and are clipped
    /// when reading.
    pub extents: Vec<Extent>,
    /// The bytes of a file stored in the inode itself (ext4 inline data, an
    /// XFS local fork, a fast symlink): the whole content, `size` bytes.
    pub inline: Option<Vec<u8>>,
    /// The inode looks deleted (ext4: dtime set or links 0; XFS: mode 0 /
    /// free in the inode btree) but was still readable.
    pub deleted: bool,
}

/// One name in a directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirEntry {
    pub name: Vec<u8>,
    pub ino: u64,
    /// The type the entry itself records, when the filesystem keeps one.
    pub kind: Option<FileKind>,
    /// Found in a directory block's free space (unlinked), not live.
    pub deleted: bool,
}

/// Something the reader met that the user should know about: a checksum
/// that failed (the structure was still used), a backup superblock used, a
/// structure skipped because it points outside the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// The on-disk structure, e.g. "ext4 superblock", "extent tree of inode 12".
    pub structure: String,
    /// Absolute image offset of the structure.
    pub offset: u64,
    pub message: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at offset {} (0x{:x}): {}",
            self.structure, self.offset, self.offset, self.message
        )
    }
}

/// Why a structure could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{structure} at offset {offset} (0x{offset:x}): {message}")]
pub struct FsError {
    pub structure: String,
    pub offset: u64,
    pub message: String,
}

impl FsError {
    pub fn new(structure: impl Into<String>, offset: u64, message: impl Into<String>) -> FsError {
        FsError {
            structure: structure.into(),
            offset,
            message: message.into(),
        }
    }
}

/// Notes collected while reading, shared by the threads that read.
#[derive(Debug, Default)]
pub struct Notes(Mutex<Vec<Note>>);

impl Notes {
    /// Records a note once (the same structure and offset twice is one note).
    pub fn push(&self, structure: impl Into<String>, offset: u64, message: impl Into<String>) {
        let note = Note {
            structure: structure.into(),
            offset,
            message: message.into(),
        };
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if !v
            .iter()
            .any(|n| n.structure == note.structure && n.offset == note.offset)
        {
            v.push(note);
        }
    }

    pub fn all(&self) -> Vec<Note> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A filesystem opened read-only on the image.
pub trait Filesystem: Send + Sync {
    /// "ext4", "ext3", "ext2", "xfs".
    fn kind(&self) -> &'static str;
    /// Volume label, if any.
    fn label(&self) -> Option<String>;
    /// The root directory's inode number.
    fn root(&self) -> u64;
    /// Block size in bytes.
    fn block_size(&self) -> u32;
    /// The inode `ino`, decoded with its block map.
    fn inode(&self, ino: u64) -> Result<Inode, FsError>;
    /// The entries of directory `dir` ("." and ".." left out), live ones
    /// first in on-disk order, then deleted ones still in the blocks when
    /// `deleted` is set.
    fn read_dir(&self, dir: &Inode, deleted: bool) -> Result<Vec<DirEntry>, FsError>;
    /// Damage met so far (checksums that failed, backups used, structures skipped).
    fn notes(&self) -> Vec<Note>;
}
