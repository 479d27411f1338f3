//! CRC-32C syndromes: where one damaged byte (or a 2-byte burst) lies, from
//! the difference between a stored and a computed checksum.
//!
//! CRC-32C is linear over GF(2): for two messages of the same length,
//! `crc(a) ^ crc(b) = crc0(a ^ b)`, where `crc0` is the bare register (no
//! initial value, no final XOR). An error of value `e` at byte `i` of an
//! `n`-byte message is, to `crc0`, the register `e` fed `n - i` zero bytes.
//! Feeding a zero byte ("multiply by x^8 mod P") is invertible, and its
//! inverse costs one table look-up: the top byte of the reflected table is
//! a permutation of 0..=255. So walking the syndrome backwards one byte at a
//! time names, at step `j`, the only error pattern that ends `j` bytes
//! before the message end: a single-byte error when the register is below
//! 2^8, a 2-byte burst when below 2^16. No table per page size is needed:
//! the walk is `n` steps and two 1 KiB tables, for any message length.

/// CRC-32C (Castagnoli), reflected polynomial.
const POLY: u32 = 0x82F6_3B78;

const fn table() -> [u32; 256] {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
}

const fn inverse(t: &[u32; 256]) -> [u8; 256] {
    let mut inv = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        inv[(t[i] >> 24) as usize] = i as u8;
        i += 1;
    }
    inv
}

static T: [u32; 256] = table();
/// `INV[T[j] >> 24] = j`.
static INV: [u8; 256] = inverse(&T);

/// The bare CRC register after one more zero byte.
#[inline(always)]
pub fn shift(c: u32) -> u32 {
    (c >> 8) ^ T[(c & 0xff) as usize]
}

/// The register one zero byte earlier: `unshift(shift(c)) == c`.
#[inline(always)]
pub fn unshift(c: u32) -> u32 {
    let j = INV[(c >> 24) as usize];
    ((c ^ T[j as usize]) << 8) | j as u32
}

/// An error pattern that explains a syndrome: `len` (1 or 2) bytes at page
/// offset `at`, to be XORed with `xor` to restore them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fit {
    pub at: usize,
    pub len: u8,
    pub xor: [u8; 2],
}

/// Fits found so far: single-byte ones and 2-byte bursts, up to
/// [`Fits::KEEP`] of each (`overflow` when more were found).
#[derive(Debug, Default, Clone)]
pub struct Fits {
    pub singles: Vec<Fit>,
    pub bursts: Vec<Fit>,
    pub overflow: bool,
}

impl Fits {
    pub const KEEP: usize = 8;

    pub fn single(&mut self, f: Fit) {
        if self.singles.len() < Self::KEEP {
            self.singles.push(f);
        } else {
            self.overflow = true;
        }
    }

    pub fn burst(&mut self, f: Fit) {
        if self.bursts.len() < Self::KEEP {
            self.bursts.push(f);
        } else {
            self.overflow = true;
        }
    }

    /// The one fit to use among those `good` accepts: the single-byte fit
    /// when it is the only good one; with no single-byte fit good, the
    /// only good burst (when `bursts`). `None` when two are good (or none).
    pub fn unique(&self, bursts: bool, mut good: impl FnMut(&Fit) -> bool) -> Option<Fit> {
        if self.overflow {
            return None;
        }
        let mut one = |v: &[Fit]| -> Result<Option<Fit>, ()> {
            let mut found = None;
            for f in v {
                if good(f) {
                    if found.is_some() {
                        return Err(());
                    }
                    found = Some(*f);
                }
            }
            Ok(found)
        };
        match one(&self.singles) {
            Err(()) => None,
            Ok(Some(f)) => Some(f),
            Ok(None) if bursts => one(&self.bursts).ok().flatten(),
            Ok(None) => None,
        }
    }
}

/// Adds the fits of syndrome `s` (stored ^ computed) for the message
/// segment `start..start + len` of a page whose checksum XORs the bare
/// CRCs of its segments (every CRC-32C InnoDB format is such a sum: the
/// initial value and final XOR cancel between two messages of one length).
pub fn walk(s: u32, start: usize, len: usize, fits: &mut Fits) {
    if s == 0 {
        return;
    }
    let mut u = s;
    for j in 1..=len {
        u = unshift(u);
        if u < 0x100 {
            fits.single(Fit {
                at: start + len - j,
                len: 1,
                xor: [u as u8, 0],
            });
        } else if u < 0x1_0000 && u & 0xff != 0 && j >= 2 {
            fits.burst(Fit {
                at: start + len - j,
                len: 2,
                xor: [u as u8, (u >> 8) as u8],
            });
        }
    }
}

/// Fits for damage in a stored big-endian checksum field at `at`: the
/// bytes where `stored` and `computed` differ, when they are one byte or
/// two adjacent ones.
pub fn field(stored: u32, computed: u32, at: usize, fits: &mut Fits) {
    let d = (stored ^ computed).to_be_bytes();
    let nz: Vec<usize> = (0..4).filter(|&k| d[k] != 0).collect();
    match nz.as_slice() {
        [k] => fits.single(Fit {
            at: at + k,
            len: 1,
            xor: [d[*k], 0],
        }),
        [k, l] if *l == *k + 1 => fits.burst(Fit {
            at: at + k,
            len: 2,
            xor: [d[*k], d[*l]],
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_byte_of_the_table_is_a_permutation() {
        let mut seen = [false; 256];
        for t in T.iter() {
            seen[(t >> 24) as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
        for c in [0u32, 1, 0xdead_beef, 0xffff_ffff, 0x8000_0000] {
            assert_eq!(unshift(shift(c)), c);
            assert_eq!(shift(unshift(c)), c);
        }
    }

    /// The walk names the byte and value of a single error, and a burst,
    /// computed with the real CRC-32C of the crc32c crate.
    #[test]
    fn walk_finds_single_errors_and_bursts() {
        let mut msg: Vec<u8> = (0..5000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        let good = crc32c::crc32c(&msg);
        for (i, e) in [(0usize, 0x01u8), (17, 0x80), (4999, 0xff), (2500, 0x5a)] {
            msg[i] ^= e;
            let mut f = Fits::default();
            walk(good ^ crc32c::crc32c(&msg), 100, msg.len(), &mut f);
            msg[i] ^= e;
            assert!(
                f.singles.contains(&Fit {
                    at: 100 + i,
                    len: 1,
                    xor: [e, 0]
                }),
                "{i}"
            );
        }
        msg[3000] ^= 0x12;
        msg[3001] ^= 0x34;
        let mut f = Fits::default();
        walk(good ^ crc32c::crc32c(&msg), 0, msg.len(), &mut f);
        assert!(f.singles.is_empty());
        assert!(f.bursts.contains(&Fit {
            at: 3000,
            len: 2,
            xor: [0x12, 0x34]
        }));
    }
}
