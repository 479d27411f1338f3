//! Allocation group headers. Each AG starts with four sectors: the
//! superblock copy, the AGF (free space, magic `XAGF`), the AGI (inodes,
//! `XAGI`) and the AGFL. Both AGF and AGI begin with the same words: magic,
//! version 1, the AG's own number (`seqno`) and its length in blocks. The
//! reader uses them to learn which AG a superblock copy belongs to (and so
//! where the filesystem starts); the free-space and inode btrees are not
//! needed to read files.

use crate::bytes::be_u32;

pub const AGF_MAGIC: &[u8; 4] = b"XAGF";
pub const AGI_MAGIC: &[u8; 4] = b"XAGI";

/// The shared head of an AGF or AGI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgHeader {
    /// The AG's number.
    pub seqno: u32,
    /// The AG's length in blocks.
    pub length: u32,
}

/// Decodes an AGF or AGI head with `magic` from `b`, checked against the
/// superblock's geometry: the AG exists and has a possible length (every AG
/// but the last is exactly `agblocks` long).
pub fn parse(b: &[u8], magic: &[u8; 4], agcount: u32, agblocks: u32) -> Option<AgHeader> {
    if b.get(..4)? != magic.as_slice() || be_u32(b, 4)? != 1 {
        return None;
    }
    let seqno = be_u32(b, 8)?;
    let length = be_u32(b, 12)?;
    if seqno >= agcount || length == 0 || length > agblocks {
        return None;
    }
    if seqno + 1 < agcount && length != agblocks {
        return None;
    }
    Some(AgHeader { seqno, length })
}
