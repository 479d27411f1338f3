//! XFS (v5, and v4 where cheap).

use super::fs::{DirEntry, Filesystem, FsError, Inode, Note};
use crate::image::Image;

pub struct Xfs<'a> {
    _image: &'a Image,
}

impl<'a> Xfs<'a> {
    pub fn open(_image: &'a Image, start: u64, _len: u64) -> Result<Xfs<'a>, FsError> {
        Err(FsError::new("xfs superblock", start, "not implemented"))
    }
}

impl Filesystem for Xfs<'_> {
    fn kind(&self) -> &'static str {
        "xfs"
    }
    fn label(&self) -> Option<String> {
        None
    }
    fn root(&self) -> u64 {
        128
    }
    fn block_size(&self) -> u32 {
        4096
    }
    fn inode(&self, ino: u64) -> Result<Inode, FsError> {
        Err(FsError::new(
            format!("xfs inode {ino}"),
            0,
            "not implemented",
        ))
    }
    fn read_dir(&self, _dir: &Inode, _deleted: bool) -> Result<Vec<DirEntry>, FsError> {
        Ok(Vec::new())
    }
    fn notes(&self) -> Vec<Note> {
        Vec::new()
    }
}
