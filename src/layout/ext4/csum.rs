//! The two checksum functions ext4 uses, in the kernel's raw form.
//!
//! * metadata_csum: crc32c (Castagnoli), chained from a seed with no final
//!   inversion, as the kernel's `ext4_chksum` does. The standard CRC-32C of a
//!   buffer is `!raw(!0, buf)`.
//! * gdt_csum (uninit_bg, before metadata_csum): the 16-bit ANSI CRC
//!   (polynomial 0x8005, bit-reflected, no inversion), as `lib/crc16.c`.

/// crc32c continued from `seed` over `data`, without pre/post inversion.
pub(super) fn crc32c_raw(seed: u32, data: &[u8]) -> u32 {
    !crc32c::crc32c_append(!seed, data)
}

/// crc32c over several pieces in a row.
pub(super) fn crc32c_parts(seed: u32, parts: &[&[u8]]) -> u32 {
    parts.iter().fold(seed, |c, p| crc32c_raw(c, p))
}

/// The per-inode seed: the filesystem seed, then the inode number and the
/// inode's generation (both little-endian u32).
pub(super) fn inode_seed(fs_seed: u32, ino: u64, generation: u32) -> u32 {
    crc32c_parts(
        fs_seed,
        &[&(ino as u32).to_le_bytes(), &generation.to_le_bytes()],
    )
}

/// CRC-16 (ANSI, reflected polynomial 0xA001) continued from `crc`.
pub(super) fn crc16(mut crc: u16, data: &[u8]) -> u16 {
    for &b in data {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA001
            } else {
                crc >> 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_raw_is_standard_crc_without_inversion() {
        // The standard CRC-32C check value of "123456789" is 0xE3069283.
        assert_eq!(!crc32c_raw(!0, b"123456789"), 0xE306_9283);
        // Chaining equals one pass.
        let one = crc32c_raw(0x1234_5678, b"hello world");
        let two = crc32c_parts(0x1234_5678, &[b"hello ", b"world"]);
        assert_eq!(one, two);
    }

    #[test]
    fn crc16_check_value() {
        // CRC-16/ARC ("123456789", init 0, reflected 0x8005) is 0xBB3D.
        assert_eq!(crc16(0, b"123456789"), 0xBB3D);
    }
}
