//! The variable-length integers of the MariaDB 10.5+ redo log
//! (`mtr0log.h`: `mlog_decode_varint`, `mlog_decode_varint_length`) and the
//! length encoding of a record's first byte (`mtr_t::parse_length`).
//!
//! An integer takes 1 to 5 bytes; the count of leading one bits of the
//! first byte says how many follow:
//! `0xxxxxxx` 0..127, `10xxxxxx x` +128, `110xxxxx x x` +16512,
//! `1110xxxx x x x` +2113664, `11110000 x x x x` +270549120.

/// The smallest values of the 2-, 3-, 4- and 5-byte forms.
pub const MIN_2BYTE: u32 = 1 << 7;
pub const MIN_3BYTE: u32 = MIN_2BYTE + (1 << 14);
pub const MIN_4BYTE: u32 = MIN_3BYTE + (1 << 21);
pub const MIN_5BYTE: u32 = MIN_4BYTE + (1 << 28);

/// Bytes an integer whose first byte is `first` takes (1..=9; more than 5
/// is a corrupted value).
#[inline]
pub fn len(first: u8) -> usize {
    1 + first.leading_ones() as usize
}

/// Decodes the integer at the start of `b`: `(value, bytes)`, or `None`
/// when it is reserved, corrupted or cut off.
#[inline]
pub fn decode(b: &[u8]) -> Option<(u32, usize)> {
    let i = *b.first()? as u32;
    let at = |k: usize| b.get(k).map(|&x| x as u32);
    if i < MIN_2BYTE {
        return Some((i, 1));
    }
    if i < 0xc0 {
        return Some((MIN_2BYTE + ((i & 0x3f) << 8 | at(1)?), 2));
    }
    if i < 0xe0 {
        return Some((MIN_3BYTE + ((i & 0x1f) << 16 | at(1)? << 8 | at(2)?), 3));
    }
    if i < 0xf0 {
        let v = (i & 0x0f) << 24 | at(1)? << 16 | at(2)? << 8 | at(3)?;
        return Some((MIN_4BYTE + v, 4));
    }
    if i == 0xf0 {
        let v = at(1)? << 24 | at(2)? << 16 | at(3)? << 8 | at(4)?;
        if v <= !MIN_5BYTE {
            return Some((MIN_5BYTE + v, 5));
        }
    }
    None
}

/// The length of a record from its first byte on: `(bytes after the
/// length field, bytes of the type byte and length field)`. The low 4 bits
/// of the first byte are the length (1..15); 0 means a varint follows whose
/// value + 15 counts the bytes after the type byte, the varint included.
#[inline]
pub fn record_len(b: &[u8]) -> Option<(usize, usize)> {
    let first = *b.first()?;
    let low = (first & 0x0f) as usize;
    if low != 0 {
        return Some((low, 1));
    }
    let (add, n) = decode(b.get(1..)?)?;
    let total = add as usize + 15;
    if total < n {
        return None;
    }
    Some((total - n, 1 + n))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encodes like `mlog_encode_varint`, for the round trip.
    fn encode(i: u32) -> Vec<u8> {
        if i < MIN_2BYTE {
            vec![i as u8]
        } else if i < MIN_3BYTE {
            let v = i - MIN_2BYTE;
            vec![0x80 | (v >> 8) as u8, v as u8]
        } else if i < MIN_4BYTE {
            let v = i - MIN_3BYTE;
            vec![0xc0 | (v >> 16) as u8, (v >> 8) as u8, v as u8]
        } else if i < MIN_5BYTE {
            let v = i - MIN_4BYTE;
            vec![
                0xe0 | (v >> 24) as u8,
                (v >> 16) as u8,
                (v >> 8) as u8,
                v as u8,
            ]
        } else {
            let v = i - MIN_5BYTE;
            let mut o = vec![0xf0];
            o.extend_from_slice(&v.to_be_bytes());
            o
        }
    }

    #[test]
    fn round_trip_at_every_boundary() {
        for v in [
            0,
            127,
            128,
            16511,
            16512,
            2_113_663,
            2_113_664,
            270_549_119,
            270_549_120,
            u32::MAX - 1,
        ] {
            let e = encode(v);
            assert_eq!(len(e[0]), e.len(), "{v}");
            assert_eq!(decode(&e), Some((v, e.len())), "{v}");
        }
        // Reserved first bytes and cut-off values.
        assert_eq!(decode(&[0xf8, 0, 0, 0, 0]), None);
        assert_eq!(decode(&[0x81]), None);
        assert_eq!(decode(&[0xf0, 0xff, 0xff, 0xff, 0xff]), None);
    }

    #[test]
    fn record_lengths() {
        // Short form: 0x36 = WRITE with 6 bytes following.
        assert_eq!(record_len(&[0x36]), Some((6, 1)));
        // Long form: 0x30, then 2 => 17 bytes after the type byte, 1 of
        // them the length byte itself.
        assert_eq!(record_len(&[0x30, 2]), Some((16, 2)));
    }
}
