//! The portable SHA-256 compression function (FIPS 180-4, section 6.2.2),
//! for every CPU without the SHA extensions (aarch64, older x86).
//!
//! Written for speed without `unsafe`: the message schedule is a ring of
//! 16 words filled as the rounds need them (so every index is a constant
//! or masked with 15, and the compiler drops the bounds checks), the 64
//! rounds are unrolled eight at a time by renaming the working variables
//! instead of moving them, and Ch / Maj take their cheaper equivalent forms.

use super::K;

/// Applies the compression function to each 64-byte block in turn.
pub fn compress(state: &mut [u32; 8], blocks: &[[u8; 64]]) {
    for block in blocks {
        one(state, block);
    }
}

// The functions of FIPS 180-4, 4.1.2.
#[inline(always)]
fn big_sigma0(x: u32) -> u32 {
    x.rotate_right(2) ^ x.rotate_right(13) ^ x.rotate_right(22)
}
#[inline(always)]
fn big_sigma1(x: u32) -> u32 {
    x.rotate_right(6) ^ x.rotate_right(11) ^ x.rotate_right(25)
}
#[inline(always)]
fn small_sigma0(x: u32) -> u32 {
    x.rotate_right(7) ^ x.rotate_right(18) ^ (x >> 3)
}
#[inline(always)]
fn small_sigma1(x: u32) -> u32 {
    x.rotate_right(17) ^ x.rotate_right(19) ^ (x >> 10)
}
/// Ch(x, y, z) = (x AND y) XOR (NOT x AND z), as one AND and two XORs.
#[inline(always)]
fn ch(x: u32, y: u32, z: u32) -> u32 {
    z ^ (x & (y ^ z))
}
/// Maj(x, y, z): the majority of each bit, as (x AND y) OR (z AND (x OR y)).
#[inline(always)]
fn maj(x: u32, y: u32, z: u32) -> u32 {
    (x & y) | (z & (x | y))
}

fn one(state: &mut [u32; 8], block: &[u8; 64]) {
    let mut w = [0u32; 16];
    for (w, b) in w.iter_mut().zip(block.as_chunks::<4>().0) {
        *w = u32::from_be_bytes(*b);
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;

    // Round `i` with the working variables named in their round-`i` roles;
    // the next round passes them shifted by one place, so nothing moves.
    // From round 16 on, W[i] replaces W[i-16] in the ring.
    macro_rules! round {
        ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $i:expr) => {{
            let i: usize = $i;
            if i >= 16 {
                w[i & 15] = small_sigma1(w[(i - 2) & 15])
                    .wrapping_add(w[(i - 7) & 15])
                    .wrapping_add(small_sigma0(w[(i - 15) & 15]))
                    .wrapping_add(w[i & 15]);
            }
            let t1 = $h
                .wrapping_add(big_sigma1($e))
                .wrapping_add(ch($e, $f, $g))
                .wrapping_add(K[i & 63])
                .wrapping_add(w[i & 15]);
            $d = $d.wrapping_add(t1);
            $h = t1.wrapping_add(big_sigma0($a)).wrapping_add(maj($a, $b, $c));
        }};
    }
    // Eight rounds bring the names back to where they started.
    macro_rules! eight {
        ($i:expr) => {{
            round!(a, b, c, d, e, f, g, h, $i);
            round!(h, a, b, c, d, e, f, g, $i + 1);
            round!(g, h, a, b, c, d, e, f, $i + 2);
            round!(f, g, h, a, b, c, d, e, $i + 3);
            round!(e, f, g, h, a, b, c, d, $i + 4);
            round!(d, e, f, g, h, a, b, c, $i + 5);
            round!(c, d, e, f, g, h, a, b, $i + 6);
            round!(b, c, d, e, f, g, h, a, $i + 7);
        }};
    }
    eight!(0);
    eight!(8);
    eight!(16);
    eight!(24);
    eight!(32);
    eight!(40);
    eight!(48);
    eight!(56);

    for (s, v) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
        *s = s.wrapping_add(v);
    }
}
