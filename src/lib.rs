//! `salvage` recovers MySQL/MariaDB InnoDB tables from damaged disk images.
//!
//! The crate mirrors the recovery pipeline (see `../shared/DESIGN.md`):
//!
//! ```text
//! image ──► layout ──► carve ──► page store ──► tables ──► rows ──► CSV / report
//! ```
//!
//! * [`image`]  — the input, mapped read-only (or read with `pread`), bounded reads.
//! * [`bytes`]  — the one module that indexes untrusted bytes.
//! * [`innodb`] — on-disk InnoDB structures: FIL header/trailer, checksums, page types.
//! * [`carve`]  — the parallel scanner and the page store it fills.
//! * [`score`]  — compares a recovered directory with a fixture's ground truth.
//!
//! Parsers take byte slices; damage is data (counted, reported, skipped), never a panic.

pub mod bytes;
pub mod carve;
pub mod export;
pub mod image;
pub mod innodb;
pub mod layout;
pub mod recover;
pub mod schema;
pub mod score;
#[cfg(test)]
mod testutil;
