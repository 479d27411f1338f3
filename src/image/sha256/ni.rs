//! The SHA-256 compression function on the x86 SHA extensions (SHA-NI:
//! `SHA256RNDS2`, `SHA256MSG1`, `SHA256MSG2`), used when the CPU has them.
//!
//! How the instructions fit FIPS 180-4 (from Intel's description of them):
//! * `SHA256RNDS2 cdgh, abef, wk` runs two rounds. The state travels in two
//!   registers, `abef` = (A, B, E, F) and `cdgh` = (C, D, G, H), each listed
//!   from the high 32-bit lane down; `wk` holds W[t]+K[t] in lane 0 and
//!   W[t+1]+K[t+1] in lane 1. It returns the new (A, B, E, F); after two
//!   rounds the new (C, D, G, H) is the old (A, B, E, F), so four rounds are
//!   `cdgh = rnds2(cdgh, abef, wk); abef = rnds2(abef, cdgh, wk >> 64)`.
//! * The schedule, four words at a time, lane 0 the lowest index:
//!   `SHA256MSG1(W[i-16..i-12], W[i-12..i-8])` gives W[j-16] + σ0(W[j-15])
//!   for j = i..i+4; adding W[i-7..i-3] and then
//!   `SHA256MSG2(that, W[i-4..i])` adds σ1(W[j-2]) (it computes W[i+2]
//!   and W[i+3] from the W[i] and W[i+1] it has just made) and so gives
//!   W[i..i+4].
//!
//! The only `unsafe` is the call of [`rounds`] in [`compress`], after the
//! run-time check that the CPU has every feature it is compiled for.

use std::arch::x86_64::{
    __m128i, _mm_add_epi32, _mm_alignr_epi8, _mm_extract_epi32, _mm_set_epi32, _mm_set_epi64x,
    _mm_sha256msg1_epu32, _mm_sha256msg2_epu32, _mm_sha256rnds2_epu32, _mm_shuffle_epi32,
    _mm_shuffle_epi8,
};

use super::K;

/// Whether this CPU has the SHA extensions (and the SSE levels [`rounds`]
/// uses beside them). `is_x86_feature_detected!` caches its answer, so
/// this is cheap to ask on every call.
pub fn available() -> bool {
    is_x86_feature_detected!("sha")
        && is_x86_feature_detected!("sse2")
        && is_x86_feature_detected!("ssse3")
        && is_x86_feature_detected!("sse4.1")
}

/// Applies the compression function to each 64-byte block in turn with
/// the SHA extensions; `false` (and `state` untouched) when the CPU lacks
/// them.
pub fn compress(state: &mut [u32; 8], blocks: &[[u8; 64]]) -> bool {
    if !available() {
        return false;
    }
    // SAFETY: `rounds` is compiled for the features "sha", "sse2",
    // "ssse3" and "sse4.1", and running it on a CPU without one of them
    // would be undefined behaviour (an illegal instruction at best).
    // `available()` has just checked, at run time, that this CPU has all
    // four. Nothing else in `rounds` is unsafe: it takes ordinary
    // references and reads and writes only through them.
    unsafe { rounds(state, blocks) };
    true
}

/// The four big-endian message words at `block[16 * q..16 * q + 16]`,
/// W[4q] in lane 0.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn message(block: &[u8; 64], q: usize) -> __m128i {
    let (words, _) = block.as_chunks::<8>();
    let lo = i64::from_le_bytes(words[2 * q]);
    let hi = i64::from_le_bytes(words[2 * q + 1]);
    // Reverse the bytes within each 32-bit lane: lane byte k takes the
    // source byte named by the mask.
    let swap = _mm_set_epi64x(0x0c0d0e0f_08090a0b, 0x04050607_00010203);
    _mm_shuffle_epi8(_mm_set_epi64x(hi, lo), swap)
}

/// K[4g..4g+4], K[4g] in lane 0.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn constants(g: usize) -> __m128i {
    let k = |i: usize| K[(4 * g + i) & 63] as i32;
    _mm_set_epi32(k(3), k(2), k(1), k(0))
}

/// W[4g..4g+4] of a group g >= 4 from the four groups before it, oldest
/// first.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn schedule(w0: __m128i, w1: __m128i, w2: __m128i, w3: __m128i) -> __m128i {
    // W[j-16] + σ0(W[j-15]).
    let x = _mm_sha256msg1_epu32(w0, w1);
    // + W[j-7]: the top three words of w2 and the bottom one of w3.
    let x = _mm_add_epi32(x, _mm_alignr_epi8::<4>(w3, w2));
    // + σ1(W[j-2]).
    _mm_sha256msg2_epu32(x, w3)
}

/// Rounds 4g..4g+4 with the message words `w` = W[4g..4g+4].
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn four_rounds(abef: &mut __m128i, cdgh: &mut __m128i, w: __m128i, g: usize) {
    let wk = _mm_add_epi32(w, constants(g));
    *cdgh = _mm_sha256rnds2_epu32(*cdgh, *abef, wk);
    *abef = _mm_sha256rnds2_epu32(*abef, *cdgh, _mm_shuffle_epi32::<0x0e>(wk));
}

#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
fn rounds(state: &mut [u32; 8], blocks: &[[u8; 64]]) {
    let [a, b, c, d, e, f, g, h] = state.map(|x| x as i32);
    let mut abef = _mm_set_epi32(a, b, e, f);
    let mut cdgh = _mm_set_epi32(c, d, g, h);
    for block in blocks {
        let (abef0, cdgh0) = (abef, cdgh);
        // The schedule in four registers, each group's words replacing
        // those of four groups before.
        let mut w0 = message(block, 0);
        let mut w1 = message(block, 1);
        let mut w2 = message(block, 2);
        let mut w3 = message(block, 3);
        four_rounds(&mut abef, &mut cdgh, w0, 0);
        four_rounds(&mut abef, &mut cdgh, w1, 1);
        four_rounds(&mut abef, &mut cdgh, w2, 2);
        four_rounds(&mut abef, &mut cdgh, w3, 3);
        for g in [4, 8, 12] {
            w0 = schedule(w0, w1, w2, w3);
            four_rounds(&mut abef, &mut cdgh, w0, g);
            w1 = schedule(w1, w2, w3, w0);
            four_rounds(&mut abef, &mut cdgh, w1, g + 1);
            w2 = schedule(w2, w3, w0, w1);
            four_rounds(&mut abef, &mut cdgh, w2, g + 2);
            w3 = schedule(w3, w0, w1, w2);
            four_rounds(&mut abef, &mut cdgh, w3, g + 3);
        }
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
    }
    *state = [
        _mm_extract_epi32::<3>(abef),
        _mm_extract_epi32::<2>(abef),
        _mm_extract_epi32::<3>(cdgh),
        _mm_extract_epi32::<2>(cdgh),
        _mm_extract_epi32::<1>(abef),
        _mm_extract_epi32::<0>(abef),
        _mm_extract_epi32::<1>(cdgh),
        _mm_extract_epi32::<0>(cdgh),
    ]
    .map(|x| x as u32);
}
