//! The MBR partition table, with extended and logical partitions.

use super::fs::Note;
use super::Partition;
use crate::image::Image;

/// The partitions of the MBR; `None` when sector 0 holds no MBR.
pub fn read(_image: &Image, _notes: &mut Vec<Note>) -> Option<Vec<Partition>> {
    None
}
