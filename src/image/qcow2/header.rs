//! The qcow2 header (versions 2 and 3) and its header extensions, from QEMU's
//! docs/interop/qcow2.txt. All fields are big-endian.
//!
//! What cannot be read is an error (unknown version, cluster size outside
//! 512 B..2 MiB, encryption, an external data file, an unknown compression
//! type, unknown incompatible feature bits); what is merely odd (dirty or
//! corrupt bit, a short header, snapshots) is a note and the image is read.

use crate::bytes::{be_u32, be_u64, slice};

/// Header bytes of version 2; version 3 has at least 104.
const V2_LEN: usize = 72;
const V3_LEN: usize = 104;

/// Incompatible feature bits.
const DIRTY: u64 = 1 << 0;
const CORRUPT: u64 = 1 << 1;
const EXTERNAL_DATA: u64 = 1 << 2;
const COMPRESSION_TYPE: u64 = 1 << 3;
const EXTENDED_L2: u64 = 1 << 4;
const KNOWN: u64 = DIRTY | CORRUPT | EXTERNAL_DATA | COMPRESSION_TYPE | EXTENDED_L2;

/// Header extension types.
const EXT_END: u32 = 0;
const EXT_BACKING_FORMAT: u32 = 0xe279_2aca;
const EXT_FEATURE_NAMES: u32 = 0x6803_f857;
const EXT_DATA_FILE: u32 = 0x4441_5441;
/// At most this many extensions are walked (each is at least 8 bytes).
const MAX_EXTENSIONS: usize = 4096;

/// How compressed clusters are compressed (header byte 104).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Compression {
    /// Raw deflate (no zlib header), as QEMU writes it.
    Zlib,
    Zstd,
}

#[derive(Debug)]
pub(super) struct Header {
    pub version: u32,
    pub cluster_bits: u32,
    /// The virtual disk size.
    pub size: u64,
    pub l1_size: u32,
    pub l1_offset: u64,
    pub extended_l2: bool,
    pub compression: Compression,
    /// Where the backing file name is stored, and its length (0: none).
    pub backing_offset: u64,
    pub backing_len: u32,
    pub backing_format: Option<String>,
    pub notes: Vec<String>,
}

/// Parses the header from the first bytes of the file (at least the first
/// cluster when the file has one).
pub(super) fn parse(head: &[u8]) -> Result<Header, String> {
    let field32 = |off: usize| be_u32(head, off).ok_or("the header is truncated");
    let field64 = |off: usize| be_u64(head, off).ok_or("the header is truncated");
    let mut notes = Vec::new();
    let version = field32(4)?;
    if version != 2 && version != 3 {
        return Err(format!("unsupported version {version} (2 and 3 are read)"));
    }
    let backing_offset = field64(8)?;
    let backing_len = field32(16)?;
    let cluster_bits = field32(20)?;
    if !(9..=21).contains(&cluster_bits) {
        return Err(format!(
            "cluster_bits {cluster_bits} at offset 20 is outside 9..=21 (512 B..2 MiB clusters)"
        ));
    }
    let cluster = 1usize << cluster_bits;
    let size = field64(24)?;
    let crypt = field32(32)?;
    if crypt != 0 {
        let how = match crypt {
            1 => "AES",
            2 => "LUKS",
            _ => "unknown",
        };
        return Err(format!(
            "encrypted ({how}, crypt_method {crypt}): salvage cannot decrypt; \
             decrypt first with qemu-img convert --object secret,... -O raw"
        ));
    }
    let l1_size = field32(36)?;
    let l1_offset = field64(40)?;
    let nb_snapshots = field32(60)?;
    if nb_snapshots > 0 {
        notes.push(format!(
            "qcow2: {nb_snapshots} internal snapshot(s) ignored: only the active L1 table \
             (offset {l1_offset:#x}) is read"
        ));
    }
    let mut incompatible = 0;
    let mut header_len = V2_LEN;
    let mut compression = Compression::Zlib;
    if version >= 3 {
        incompatible = field64(72)?;
        let declared = field32(100)? as usize;
        header_len = declared;
        if declared < V3_LEN || !declared.is_multiple_of(8) || declared > cluster {
            notes.push(format!(
                "qcow2: header_length {declared} (offset 100) is invalid; read as {V3_LEN}"
            ));
            header_len = V3_LEN;
        }
        if header_len > V3_LEN {
            match head.get(V3_LEN) {
                Some(0) | None => {}
                Some(1) => compression = Compression::Zstd,
                Some(t) => return Err(format!("unknown compression type {t} (offset 104)")),
            }
        }
        if (incompatible & COMPRESSION_TYPE != 0) != (compression != Compression::Zlib) {
            notes.push(format!(
                "qcow2: the compression-type feature bit (offset 72) and the compression \
                 type field (offset 104, {compression:?}) disagree; the field is used"
            ));
        }
    }
    let ext = extensions(head, header_len, cluster, &mut notes)?;
    if incompatible & !KNOWN != 0 {
        let unknown = incompatible & !KNOWN;
        let named: Vec<String> = (0..64)
            .filter(|b| unknown >> b & 1 != 0)
            .map(
                |b| match ext.feature_names.iter().find(|(bit, _)| *bit == b) {
                    Some((_, name)) => format!("bit {b} ({name})"),
                    None => format!("bit {b}"),
                },
            )
            .collect();
        return Err(format!(
            "unknown incompatible feature(s) {}: convert with qemu-img convert -O raw first",
            named.join(", ")
        ));
    }
    if incompatible & EXTERNAL_DATA != 0 {
        let name = ext.data_file.map(|n| format!(" ({n})")).unwrap_or_default();
        return Err(format!(
            "the guest data lives in an external data file{name}, which salvage does not \
             follow: run salvage on that file (it is a raw image when the qcow2 has \
             data_file_raw set) or convert with qemu-img convert -O raw"
        ));
    }
    if incompatible & DIRTY != 0 {
        notes.push(
            "qcow2: dirty bit set (offset 72; not closed cleanly): refcounts may be stale; the cluster \
             map is read as it is"
                .into(),
        );
    }
    if incompatible & CORRUPT != 0 {
        notes.push(
            "qcow2: corrupt bit set (offset 72; QEMU found inconsistent metadata): read anyway, every \
             entry checked"
                .into(),
        );
    }
    let extended_l2 = incompatible & EXTENDED_L2 != 0;
    if extended_l2 && cluster_bits < 14 {
        return Err(format!(
            "extended L2 entries with {cluster} B clusters (they need at least 16 KiB)"
        ));
    }
    Ok(Header {
        version,
        cluster_bits,
        size,
        l1_size,
        l1_offset,
        extended_l2,
        compression,
        backing_offset,
        backing_len,
        backing_format: ext.backing_format,
        notes,
    })
}

#[derive(Default)]
struct Extensions {
    backing_format: Option<String>,
    data_file: Option<String>,
    /// (bit, name) of incompatible features from the feature name table.
    feature_names: Vec<(u32, String)>,
}

/// Walks the header extensions between the header and the end of the first
/// cluster.
fn extensions(
    head: &[u8],
    start: usize,
    cluster: usize,
    notes: &mut Vec<String>,
) -> Result<Extensions, String> {
    let mut ext = Extensions::default();
    let end = cluster.min(head.len());
    let mut pos = start;
    for _ in 0..MAX_EXTENSIONS {
        let (Some(kind), Some(len)) = (be_u32(head, pos), be_u32(head, pos + 4)) else {
            break;
        };
        if kind == EXT_END {
            break;
        }
        let len = len as usize;
        let Some(data) = slice(head, pos + 8, len).filter(|_| pos + 8 + len <= end) else {
            notes.push(format!(
                "qcow2: header extension {kind:#010x} at offset {pos} ({len} bytes) runs past \
                 the first cluster; later extensions ignored"
            ));
            break;
        };
        let text = || String::from_utf8_lossy(data).into_owned();
        match kind {
            EXT_BACKING_FORMAT => ext.backing_format = Some(text()),
            EXT_DATA_FILE => ext.data_file = Some(text()),
            EXT_FEATURE_NAMES => {
                for entry in data.chunks_exact(48) {
                    if entry[0] == 0 {
                        let name = entry[2..].split(|&b| b == 0).next().unwrap_or(&[]);
                        let name = String::from_utf8_lossy(name).into_owned();
                        ext.feature_names.push((u32::from(entry[1]), name));
                    }
                }
            }
            _ => {}
        }
        pos += 8 + len.div_ceil(8) * 8;
    }
    Ok(ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v3(cluster_bits: u32) -> Vec<u8> {
        let mut h = vec![0u8; 512];
        h[..4].copy_from_slice(b"QFI\xfb");
        h[4..8].copy_from_slice(&3u32.to_be_bytes());
        h[20..24].copy_from_slice(&cluster_bits.to_be_bytes());
        h[24..32].copy_from_slice(&(1u64 << 20).to_be_bytes());
        h[100..104].copy_from_slice(&112u32.to_be_bytes());
        h
    }

    #[test]
    fn refusals_name_the_reason() {
        let mut h = v3(16);
        h[32..36].copy_from_slice(&2u32.to_be_bytes());
        assert!(parse(&h).unwrap_err().contains("LUKS"));
        let mut h = v3(16);
        h[72..80].copy_from_slice(&(1u64 << 9).to_be_bytes());
        // A feature name table naming bit 9.
        h[112..116].copy_from_slice(&EXT_FEATURE_NAMES.to_be_bytes());
        h[116..120].copy_from_slice(&48u32.to_be_bytes());
        h[120] = 0;
        h[121] = 9;
        h[122..126].copy_from_slice(b"warp");
        let e = parse(&h).unwrap_err();
        assert!(e.contains("bit 9 (warp)"), "{e}");
        let mut h = v3(16);
        h[72..80].copy_from_slice(&EXTERNAL_DATA.to_be_bytes());
        assert!(parse(&h).unwrap_err().contains("external data file"));
        let mut h = v3(16);
        h[104] = 7;
        assert!(parse(&h).unwrap_err().contains("compression type 7"));
        assert!(parse(&v3(22)).unwrap_err().contains("cluster_bits 22"));
        assert!(parse(&v3(8)).is_err());
        let mut h = v3(13);
        h[72..80].copy_from_slice(&EXTENDED_L2.to_be_bytes());
        assert!(parse(&h).unwrap_err().contains("extended L2"));
        assert!(parse(&h[..50]).unwrap_err().contains("truncated"));
    }

    #[test]
    fn dirty_and_corrupt_are_notes() {
        let mut h = v3(16);
        h[72..80].copy_from_slice(&(DIRTY | CORRUPT).to_be_bytes());
        h[60..64].copy_from_slice(&2u32.to_be_bytes());
        let p = parse(&h).unwrap();
        assert_eq!(p.notes.len(), 3, "{:?}", p.notes);
        assert_eq!(p.compression, Compression::Zlib);
        assert!(!p.extended_l2);
    }
}
