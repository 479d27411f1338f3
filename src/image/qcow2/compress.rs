//! Compressed clusters. QEMU writes zlib-type clusters as raw deflate
//! streams (no zlib header; `deflateInit2` with negative window bits) and
//! zstd-type clusters as zstd frames. Either must inflate to exactly one
//! cluster: fewer bytes (a cut stream) or more (a stream not ours) is damage.

use flate2::{Decompress, FlushDecompress};

use super::header::Compression;

/// Inflates one compressed cluster of `cluster` bytes from `src` (which may
/// run past the stream's end: the tail of its last sector belongs to the
/// next compressed cluster).
pub(super) fn decompress(kind: Compression, src: &[u8], cluster: usize) -> Result<Vec<u8>, String> {
    // One byte of room beyond the cluster tells "exactly" from "too much".
    let mut out = vec![0u8; cluster + 1];
    let n = match kind {
        Compression::Zlib => inflate(src, &mut out)?,
        Compression::Zstd => decompress_zstd(src, &mut out)?,
    };
    if n != cluster {
        return Err(if n > cluster {
            format!("decompresses to more than a cluster ({cluster} bytes)")
        } else {
            format!("decompresses to {n} bytes, not a cluster ({cluster})")
        });
    }
    out.truncate(cluster);
    Ok(out)
}

fn inflate(src: &[u8], dst: &mut [u8]) -> Result<usize, String> {
    let mut d = Decompress::new(false);
    d.decompress(src, dst, FlushDecompress::Finish)
        .map_err(|e| format!("bad deflate stream ({e})"))?;
    Ok(d.total_out() as usize)
}

/// Decompresses one zstd frame from `src` into `dst`, returning the bytes
/// written. Not built in: the `zstd` crate is only a dev-dependency of
/// salvage, so zstd-compressed clusters read as holes (with a note).
pub(super) fn decompress_zstd(_src: &[u8], _dst: &mut [u8]) -> Result<usize, String> {
    Err(
        "zstd decompression is not built into salvage; convert the image with \
         qemu-img convert -O raw first"
            .into(),
    )
}
