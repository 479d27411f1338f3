//! The integration tests of `salvage`, as one test binary (one compile and
//! one link instead of one per file): each module is a former
//! `tests/<name>.rs`, and tests are named `<module>::<test>`, so
//! `cargo test --release --test integration rows_mariadb::` runs one group.
//!
//! All tests run as threads of this one process. A test therefore never
//! changes process-wide state (environment variables, the current
//! directory, rayon's global pool) and keeps what it writes in its own
//! `tempfile` directory. MariaDB servers are started by the Python helpers
//! under `scripts/fixtures/`, each on a private data directory and unix
//! socket inside the calling test's temp dir, with networking off, so two at
//! once never share a port or socket. Data loaded once per process lives in
//! `OnceLock` statics, which are safe to share between threads.

// Shared helpers; not every test uses every one.
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod rows_schema;

mod carve_images;
mod carve_mariadb;
mod carve_synthetic;
mod cli_scan;
mod corpus_recover;
mod corpus_scan;
mod fs_view;
mod json_deferred;
mod load_sql;
mod memory;
mod page_cmd;
mod progress;
mod recover_btree;
mod recover_cli;
mod recover_files;
mod recover_instances;
mod recover_mariadb;
mod recover_workload;
mod redo;
mod repair;
mod report_html;
mod report_json;
mod rows_compressed;
mod rows_corpus;
mod rows_edges;
mod rows_hostile;
mod rows_mariadb;
mod rows_mysql8;
mod rows_sakila;
mod schema_frm;
mod schema_sdi;
mod schema_sql;
mod score;
