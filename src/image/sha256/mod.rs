//! SHA-256 (FIPS 180-4) of the image as it reads (`--hash`), so a report
//! can name exactly what was recovered from. Our own implementation of the
//! standard, checked against its test vectors and against `sha256sum`.
//!
//! Two compression functions, chosen at run time: [`ni`] on x86-64 CPUs with
//! the SHA extensions (its one `unsafe` call follows the feature check), and
//! the portable [`soft`] everywhere else. `SALVAGE_SHA256=portable` in the
//! environment forces the portable one (to measure it, or to rule the other
//! out); both give the same digest.

use std::borrow::Cow;

use super::{Image, ReadMode};

#[cfg(target_arch = "x86_64")]
mod ni;
mod soft;
#[cfg(test)]
mod tests;

/// The round constants, FIPS 180-4 4.2.2.
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// The initial hash value, FIPS 180-4 5.3.3.
const H0: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Which compression function a [`Sha256`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Plain Rust, any CPU.
    Portable,
    /// The x86 SHA extensions; the portable function on a CPU without them.
    ShaNi,
}

impl Engine {
    /// The fastest engine this CPU runs, unless the environment has
    /// `SALVAGE_SHA256=portable` (read once per process).
    pub fn best() -> Engine {
        static PORTABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let portable = *PORTABLE
            .get_or_init(|| std::env::var_os("SALVAGE_SHA256").is_some_and(|v| v == "portable"));
        if !portable && Engine::ShaNi.runs_here() {
            Engine::ShaNi
        } else {
            Engine::Portable
        }
    }

    /// Whether this CPU runs this engine itself (not its fallback).
    pub fn runs_here(self) -> bool {
        match self {
            Engine::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Engine::ShaNi => ni::available(),
            #[cfg(not(target_arch = "x86_64"))]
            Engine::ShaNi => false,
        }
    }

    /// A short name for messages and benchmarks.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Portable => "portable",
            Engine::ShaNi => "sha-ni",
        }
    }

    fn compress(self, state: &mut [u32; 8], blocks: &[[u8; 64]]) {
        #[cfg(target_arch = "x86_64")]
        if self == Engine::ShaNi && ni::compress(state, blocks) {
            return;
        }
        soft::compress(state, blocks)
    }
}

/// An incremental SHA-256.
pub struct Sha256 {
    h: [u32; 8],
    /// The bytes of a block not yet complete: `block[..filled]`.
    block: [u8; 64],
    filled: usize,
    /// Bytes hashed so far (the standard's length, modulo 2^64 bits).
    len: u64,
    engine: Engine,
}

impl Default for Sha256 {
    /// A hash on [`Engine::best`].
    fn default() -> Sha256 {
        Sha256::with_engine(Engine::best())
    }
}

impl Sha256 {
    /// A hash that runs `engine` (see [`Engine::runs_here`]).
    pub fn with_engine(engine: Engine) -> Sha256 {
        Sha256 {
            h: H0,
            block: [0; 64],
            filled: 0,
            len: 0,
            engine,
        }
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Hashes `data` after what came before; whole blocks go straight from
    /// `data` to the compression function, without a copy.
    pub fn update(&mut self, mut data: &[u8]) {
        self.len = self.len.wrapping_add(data.len() as u64);
        if self.filled > 0 {
            let n = (64 - self.filled).min(data.len());
            self.block[self.filled..self.filled + n].copy_from_slice(&data[..n]);
            self.filled += n;
            data = &data[n..];
            if self.filled < 64 {
                return;
            }
            self.engine
                .compress(&mut self.h, std::slice::from_ref(&self.block));
            self.filled = 0;
        }
        let (blocks, rest) = data.as_chunks::<64>();
        self.engine.compress(&mut self.h, blocks);
        self.block[..rest.len()].copy_from_slice(rest);
        self.filled = rest.len();
    }

    /// The 32-byte digest.
    pub fn digest(mut self) -> [u8; 32] {
        // FIPS 180-4 5.1.1: a 1 bit, zeros up to 8 bytes short of a block's
        // end, then the message length in bits, 64-bit big-endian.
        let bits = self.len.wrapping_mul(8);
        let mut tail = [0u8; 128];
        tail[..self.filled].copy_from_slice(&self.block[..self.filled]);
        tail[self.filled] = 0x80;
        let n = if self.filled < 56 { 64 } else { 128 };
        tail[n - 8..n].copy_from_slice(&bits.to_be_bytes());
        self.engine
            .compress(&mut self.h, tail[..n].as_chunks::<64>().0);
        let mut out = [0u8; 32];
        for (o, w) in out.as_chunks_mut::<4>().0.iter_mut().zip(self.h) {
            *o = w.to_be_bytes();
        }
        out
    }

    /// The digest as 64 lowercase hex digits.
    pub fn hex(self) -> String {
        self.digest().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// How much of a mapped image one step maps, hashes and releases.
const PIECE: u64 = 8 << 20;
/// How much of an image without a map one step reads and hashes: a piece
/// that stays in the CPU's cache from the copy to the hash (1.5x faster on
/// 2 GiB than 8 MiB pieces, measured).
const READ_PIECE: u64 = 1 << 20;

/// SHA-256 of every byte of `image` (a qcow2 image: its virtual disk),
/// read front to back in pieces; `progress` gets the bytes done.
///
/// A second thread reads one piece ahead while this one hashes, so a disk
/// is read while the CPU hashes: on a mapped image it maps the next piece
/// (8 MiB) in one call ([`Image::prefetch`]), which also starts its reads
/// from the disk; without a map it reads it (1 MiB) into one of the few
/// buffers that go back and forth. Each piece is unmapped once hashed ([`Image::release`]), so the
/// resident map stays a few pieces whatever the image's size. Sectors that
/// cannot be read hash as the zeros the reader gives for them; the digest
/// stops at a short read (it covers the bytes actually read).
pub fn of_image(image: &Image, progress: &dyn Fn(u64)) -> String {
    let mut s = Sha256::default();
    // At most one piece waits while the reader reads the next.
    let (ready, pieces) = std::sync::mpsc::sync_channel(1);
    // Buffers hashed, back to the reader.
    let (done, spare) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut holes = Vec::new();
            let mut off = 0;
            while off < image.size() {
                let mapped = image.mode() == ReadMode::Mmap;
                let step = if mapped { PIECE } else { READ_PIECE };
                let want = step.min(image.size() - off) as usize;
                let piece = if mapped {
                    image.prefetch(off, want);
                    image.bytes(off, want)
                } else {
                    let mut buf = spare.try_recv().unwrap_or_default();
                    let n = image.read(off, want, &mut buf, &mut holes).len();
                    buf.truncate(n);
                    holes.clear();
                    Cow::Owned(buf)
                };
                if piece.is_empty() {
                    break;
                }
                let n = piece.len() as u64;
                if ready.send((off, piece)).is_err() {
                    break;
                }
                off += n;
            }
        });
        for (off, piece) in pieces {
            s.update(&piece);
            image.release(off, piece.len());
            progress(off + piece.len() as u64);
            if let Cow::Owned(buf) = piece {
                // The reader may have finished: then nothing needs it.
                let _ = done.send(buf);
            }
        }
    });
    s.hex()
}
