//! ext4 (and ext2/ext3).

use super::fs::{DirEntry, Filesystem, FsError, Inode, Note};
use crate::image::Image;

pub struct Ext4<'a> {
    _image: &'a Image,
}

impl<'a> Ext4<'a> {
    pub fn open(_image: &'a Image, start: u64, _len: u64) -> Result<Ext4<'a>, FsError> {
        Err(FsError::new(
            "ext4 superblock",
            start + 1024,
            "not implemented",
        ))
    }
}

impl Filesystem for Ext4<'_> {
    fn kind(&self) -> &'static str {
        "ext4"
    }
    fn label(&self) -> Option<String> {
        None
    }
    fn root(&self) -> u64 {
        2
    }
    fn block_size(&self) -> u32 {
        4096
    }
    fn inode(&self, ino: u64) -> Result<Inode, FsError> {
        Err(FsError::new(
            format!("ext4 inode {ino}"),
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
