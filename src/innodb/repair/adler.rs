//! The Adler-32 (`innodb`) checksum of ROW_FORMAT=COMPRESSED pages: one
//! damaged byte solved in closed form.
//!
//! InnoDB's Adler-32 starts from A = B = 0 over the concatenated segments
//! (`page_zip_calc_checksum`), so over a stream of `m` bytes
//! `A = sum x_i` and `B = sum (m - i) x_i`, both mod 65521. Restoring byte
//! `p` by adding `d` (|d| <= 255) changes A by `d` and B by `d (m - p)`:
//! `d` is read off the A difference, `m - p` is the B difference times the
//! inverse of `d` (65521 is prime). Bursts are not solved: with 16 bits of
//! evidence a 2-byte burst fits hundreds of positions of a page.

use crate::innodb::repair::crc::{Fit, Fits};

const MOD: u64 = 65521;

fn inv(d: u64) -> u64 {
    // Fermat: d^(MOD-2) mod MOD.
    let (mut r, mut b, mut e) = (1u64, d % MOD, MOD - 2);
    while e > 0 {
        if e & 1 == 1 {
            r = r * b % MOD;
        }
        b = b * b % MOD;
        e >>= 1;
    }
    r
}

/// Adds the single-byte fit (if any) of a page whose Adler-32 over
/// `segments` (page offsets, in stream order) is `computed` but `stored` was
/// written.
pub fn solve(
    page: &[u8],
    segments: &[(usize, usize)],
    stored: u32,
    computed: u32,
    fits: &mut Fits,
) {
    let (sa, sb) = ((stored & 0xffff) as u64, (stored >> 16) as u64);
    let (ca, cb) = ((computed & 0xffff) as u64, (computed >> 16) as u64);
    if sa >= MOD || sb >= MOD || stored == computed {
        return;
    }
    let da = (sa + MOD - ca) % MOD;
    let db = (sb + MOD - cb) % MOD;
    // d = new - old in -255..=255, d != 0.
    let d: i64 = if (1..=255).contains(&da) {
        da as i64
    } else if da >= MOD - 255 {
        da as i64 - MOD as i64
    } else {
        return;
    };
    let dm = d.rem_euclid(MOD as i64) as u64;
    let q = db * inv(dm) % MOD; // m - p
    let m: usize = segments.iter().map(|(a, b)| b - a).sum();
    if q == 0 || q as usize > m {
        return;
    }
    let mut p = m - q as usize;
    for &(a, b) in segments {
        if p < b - a {
            let at = a + p;
            let Some(&old) = page.get(at) else { return };
            let new = old as i64 + d;
            if (0..=255).contains(&new) {
                fits.single(Fit {
                    at,
                    len: 1,
                    xor: [old ^ new as u8, 0],
                });
            }
            return;
        }
        p -= b - a;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::innodb::checksum::Adler;

    fn adler(page: &[u8], segs: &[(usize, usize)]) -> u32 {
        let mut a = Adler::zero();
        for &(x, y) in segs {
            a.update(&page[x..y]);
        }
        a.value()
    }

    #[test]
    fn one_byte_solved_in_each_segment() {
        let mut page: Vec<u8> = (0..8192u32).map(|i| (i * 31 + i / 7) as u8).collect();
        let segs = [(4, 16), (24, 26), (34, 8192)];
        let good = adler(&page, &segs);
        for (i, e) in [
            (5usize, 0x40u8),
            (25, 0x01),
            (34, 0xff),
            (8191, 0x3c),
            (4000, 0x81),
        ] {
            page[i] ^= e;
            let mut f = Fits::default();
            solve(&page, &segs, good, adler(&page, &segs), &mut f);
            page[i] ^= e;
            assert_eq!(
                f.singles,
                vec![Fit {
                    at: i,
                    len: 1,
                    xor: [e, 0]
                }],
                "{i}"
            );
        }
    }
}
