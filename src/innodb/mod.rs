//! On-disk InnoDB structures, each in the module named as InnoDB names it.
//!
//! Layouts come from the public InnoDB sources (MySQL `storage/innobase`,
//! MariaDB `storage/innobase`: `fil0types.h`, `fil0fil.h`, `fsp0types.h`,
//! `page0types.h`, `buf0checksum.cc`, `page0zip.cc`) and the InnoDB
//! documentation; the code is our own.

pub mod btree;
pub mod checksum;
pub mod deferred;
pub mod dict;
pub mod fil;
pub mod frm;
pub mod fsp;
pub mod lob;
pub mod lob_seek;
pub mod page_compressed;
pub mod page_header;
pub mod page_zip;
pub mod record;
pub mod redo;
pub mod repair;
pub mod rows;
pub mod sdi;
pub mod types;
pub use types::json;
pub mod undo;
