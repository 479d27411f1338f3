//! The MariaDB 10.8+ redo log (`ib_logfile0`, format "Phys") and crash
//! recovery from it, in memory, one module per structure:
//!
//! * [`header`]: the file header and the two checkpoint blocks;
//! * [`mtr`]: the circular log area, mini-transaction by mini-transaction,
//!   each checked by its sequence bit and CRC-32C;
//! * [`varint`]: the integer and length encodings of records;
//! * [`record`]: the records of one mini-transaction (page records with
//!   their same-page compression, FILE_* records);
//! * [`apply`] and [`page_ops`]: what a record does to a page (WRITE,
//!   MEMSET, MEMMOVE, INIT_PAGE, FREE_PAGE, and the EXTENDED page and undo
//!   operations);
//! * [`replay`]: the whole log applied to the pages of a page store.
//!
//! Sources: MariaDB `storage/innobase/include/mtr0types.h`, `mtr0log.h`,
//! `log0log.h`, `log/log0recv.cc`, `page/page0cur.cc`, `page/page0page.cc`,
//! `trx/trx0undo.cc`. The code is our own. Not supported: the 10.5-10.7
//! format (512-byte blocks), encrypted logs, MySQL 8's `#innodb_redo/`.
//! ROW_FORMAT=COMPRESSED pages take the log on their compressed bytes (as
//! InnoDB applies it to `page.zip.data`).

pub mod apply;
pub mod header;
pub mod mtr;
pub mod page_ops;
pub mod record;
pub mod replay;
pub mod varint;

pub use mtr::LogSource;
pub use replay::{
    replay, Base, BasePages, Lookup, Options, Outcome, PageFormat, RedonePage, Summary,
};
