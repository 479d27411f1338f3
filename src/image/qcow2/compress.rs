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
/// written. The compressed extent of a qcow2 cluster is rounded up to whole
/// sectors, so bytes after the frame are ignored; a frame that would give
/// more than `dst` holds is an error, never a bigger allocation.
pub(super) fn decompress_zstd(src: &[u8], dst: &mut [u8]) -> Result<usize, String> {
    use std::io::Read;
    let mut d = zstd::stream::read::Decoder::with_buffer(src)
        .map_err(|e| format!("bad zstd frame ({e})"))?
        .single_frame();
    let mut n = 0;
    while n < dst.len() {
        match d.read(&mut dst[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) => return Err(format!("bad zstd frame ({e})")),
        }
    }
    Ok(n)
}
