//! Bounded reads of untrusted bytes.
//!
//! Every other module reads on-disk fields through these helpers, so that an
//! out-of-range read is `None` (or a typed error higher up), never a panic.
//! InnoDB stores integers big-endian; ext4 and XFS differ (little / big).

/// `N` bytes at `off`, or `None` when the slice is too short.
#[inline(always)]
pub fn array<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    let end = off.checked_add(N)?;
    b.get(off..end)?.try_into().ok()
}

#[inline(always)]
pub fn be_u16(b: &[u8], off: usize) -> Option<u16> {
    array::<2>(b, off).map(u16::from_be_bytes)
}

#[inline(always)]
pub fn be_u32(b: &[u8], off: usize) -> Option<u32> {
    array::<4>(b, off).map(u32::from_be_bytes)
}

#[inline(always)]
pub fn be_u64(b: &[u8], off: usize) -> Option<u64> {
    array::<8>(b, off).map(u64::from_be_bytes)
}

#[inline(always)]
pub fn le_u16(b: &[u8], off: usize) -> Option<u16> {
    array::<2>(b, off).map(u16::from_le_bytes)
}

#[inline(always)]
pub fn le_u32(b: &[u8], off: usize) -> Option<u32> {
    array::<4>(b, off).map(u32::from_le_bytes)
}

#[inline(always)]
pub fn le_u64(b: &[u8], off: usize) -> Option<u64> {
    array::<8>(b, off).map(u64::from_le_bytes)
}

/// `len` bytes at `off`, or `None` when out of range.
#[inline(always)]
pub fn slice(b: &[u8], off: usize, len: usize) -> Option<&[u8]> {
    b.get(off..off.checked_add(len)?)
}
