//! Command-line parsing and dispatch. Exit codes: 0 found something,
//! 1 ran to the end but found (recovered) nothing, 2 error. A closed pipe on
//! stdout ends the program quietly.

mod extract;
mod ls;
mod page;
mod progress;
mod recover;
mod scan;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "salvage",
    version,
    about = "Recover MySQL/MariaDB InnoDB tables from damaged disk images"
)]
pub struct Cli {
    /// When to colour output: auto (a terminal without NO_COLOR), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Options shared by every command that reads an image.
#[derive(clap::Args, Debug, Clone)]
pub struct ImageArgs {
    /// Disk image, block device, or a single .ibd / ibdata1 file.
    pub image: PathBuf,
    /// Read with pread instead of mapping the image (for failing devices,
    /// where a mapped read of a bad sector kills the process).
    #[arg(long)]
    pub no_mmap: bool,
    /// Start of the byte range to scan (accepts 0x.., K, M, G, T suffixes).
    #[arg(long, value_parser = parse_size, default_value = "0")]
    pub offset: u64,
    /// Length of the byte range to scan (default: to the end of the image).
    #[arg(long, value_parser = parse_size)]
    pub length: Option<u64>,
    /// Worker threads (default: one per core).
    #[arg(short = 't', long)]
    pub threads: Option<usize>,
    /// The backing file of a qcow2 image (its unallocated clusters are read
    /// from it; without it they read as zeros).
    #[arg(long)]
    pub backing: Option<PathBuf>,
    /// Carve the raw bytes only: do not read partitions and filesystems
    /// (no file names, and pages split across file fragments stay split).
    #[arg(long)]
    pub no_layout: bool,
    /// A redo log (ib_logfile0) to apply to the pages found, when it is not
    /// in the image (by default a log in the image is found and applied).
    #[arg(long, value_name = "FILE")]
    pub redo: Option<PathBuf>,
    /// Do not apply any redo log: the pages as the image has them.
    #[arg(long, conflicts_with = "redo")]
    pub no_redo: bool,
    /// Also repair pages whose checksum a 2-byte burst explains (a single
    /// damaged byte is always repaired). Off by default: two separate
    /// damaged bytes fit some burst on about one page in eight.
    #[arg(long)]
    pub repair_bursts: bool,
}

impl ImageArgs {
    /// What `--redo` / `--no-redo` ask for.
    pub fn redo_options(&self) -> salvage::carve::redo::RedoOptions {
        salvage::carve::redo::RedoOptions {
            enabled: !self.no_redo,
            log_file: self.redo.clone(),
        }
    }

    /// Opens the image read-only (qcow2 detected by its magic).
    pub fn open(&self) -> Result<salvage::image::Image, Fatal> {
        let mode = if self.no_mmap {
            salvage::image::ReadMode::Pread
        } else {
            salvage::image::ReadMode::Mmap
        };
        let image = salvage::image::Image::open_with(&self.image, mode, self.backing.as_deref())?;
        if let Some(q) = image.qcow2() {
            if self.backing.is_none() {
                if let Some(name) = q.backing_name() {
                    eprintln!(
                        "warning: {} has a backing file ({name}); without --backing its \
                         unallocated clusters read as zeros",
                        self.image.display()
                    );
                }
            }
        }
        Ok(image)
    }
}

/// Options of the filesystem commands (`ls`, `extract`).
#[derive(clap::Args, Debug, Clone)]
pub struct FsImageArgs {
    /// Disk image, block device, partition image or qcow2 file.
    pub image: PathBuf,
    /// Read with pread instead of mapping the image.
    #[arg(long)]
    pub no_mmap: bool,
    /// The backing file of a qcow2 image.
    #[arg(long)]
    pub backing: Option<PathBuf>,
}

impl FsImageArgs {
    pub fn image_args(&self) -> ImageArgs {
        ImageArgs {
            image: self.image.clone(),
            no_mmap: self.no_mmap,
            offset: 0,
            length: None,
            threads: None,
            backing: self.backing.clone(),
            no_layout: false,
            redo: None,
            no_redo: false,
            repair_bursts: false,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Show what is on the image: tablespaces, indexes, damaged pages. Writes nothing.
    Scan {
        #[command(flatten)]
        image: ImageArgs,
        /// Machine-readable output (one JSON document).
        #[arg(long)]
        json: bool,
        /// Print every page found as one JSON object per line, in image order.
        #[arg(long, conflicts_with = "json")]
        list_pages: bool,
        /// Print time, throughput and peak memory to stderr at the end.
        #[arg(long)]
        stats: bool,
    },
    /// List files of the image's filesystems (ext4, XFS), like `ls` / `fls`.
    /// PATH may name a partition: `p2:/var/lib/mysql`.
    Ls {
        #[command(flatten)]
        image: FsImageArgs,
        /// Directory or file to list (default: the root of every filesystem).
        path: Option<String>,
        /// Long format: type, mode, links, owner, size, mtime, inode.
        #[arg(short = 'l', long)]
        long: bool,
        /// Recurse into directories.
        #[arg(short = 'r', long)]
        recursive: bool,
        /// Also list deleted entries still in directory blocks.
        #[arg(long)]
        deleted: bool,
        /// Machine-readable output (one JSON document).
        #[arg(long)]
        json: bool,
    },
    /// Copy files out of the image's filesystems byte-exact (holes as zeros);
    /// a directory is copied recursively.
    Extract {
        #[command(flatten)]
        image: FsImageArgs,
        /// Files or directories to copy (`/var/lib/mysql`, `p1:/etc/my.cnf`).
        #[arg(required = true)]
        paths: Vec<String>,
        /// Output directory, or output file when one regular file is copied
        /// and OUT is not an existing directory.
        #[arg(short = 'o', long = "out")]
        out: PathBuf,
        /// Print what was copied as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Compare a recovered directory with a ground-truth directory (fixtures):
    /// recall and precision per table.
    Score {
        /// The recovered directory (`salvage recover -o` output).
        recovered: PathBuf,
        /// The truth directory (`<db>/<table>.csv`, `schema.sql`).
        truth: PathBuf,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Recover tables: CSV per table, schema.sql, load.sql and report.json in OUT.
    Recover {
        #[command(flatten)]
        image: ImageArgs,
        /// Output directory (created; existing files in it are replaced).
        #[arg(short = 'o', long = "out")]
        out: PathBuf,
        /// A file of CREATE TABLE statements (mysqldump output works as it is),
        /// for tables whose schema is not on the image. Repeatable.
        #[arg(long = "schema")]
        schemas: Vec<PathBuf>,
        /// Recover only this table (`db.table`). Repeatable.
        #[arg(long = "table")]
        tables: Vec<String>,
        /// Database name for CREATE TABLEs in --schema files that name none.
        #[arg(long)]
        db: Option<String>,
        /// Print the report as JSON on stdout instead of a summary.
        #[arg(long)]
        json: bool,
        /// Memory for decoded pages and rows waiting to be written (K, M, G
        /// suffixes; default: a sixteenth of the machine's RAM, 64M to 256M).
        /// Rows past it wait in a temporary file in OUT.
        #[arg(long, value_parser = parse_size)]
        max_memory: Option<u64>,
        /// Also compute the SHA-256 of the whole image for the report (reads
        /// every byte once more).
        #[arg(long)]
        hash: bool,
    },
    /// Inspect one InnoDB page: a hexyl-style dump with its regions named,
    /// its header fields, records (rows with --schema) and checksums.
    Page(page::PageArgs),
}

/// Parses `123`, `0x1000`, `4K`, `16M`, `2G`, `1T` (binary units).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() && !s.starts_with("0x") => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return Err(format!("unknown size suffix in {s:?}")),
            };
            (&s[..i], m)
        }
        _ => (s, 1),
    };
    let n = if let Some(h) = num.strip_prefix("0x") {
        u64::from_str_radix(h, 16)
    } else {
        num.parse::<u64>()
    }
    .map_err(|e| format!("bad size {s:?}: {e}"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} overflows"))
}

/// A failure that ends the run with exit code 2.
#[derive(Debug)]
pub struct Fatal(pub String);

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Fatal {
        Fatal(e.to_string())
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.color {
        ColorChoice::Always => owo_colors::set_override(true),
        ColorChoice::Never => owo_colors::set_override(false),
        ColorChoice::Auto => {}
    }
    let result = match &cli.command {
        Command::Scan {
            image,
            json,
            list_pages,
            stats,
        } => scan::run(image, *json, *list_pages, *stats),
        Command::Ls {
            image,
            path,
            long,
            recursive,
            deleted,
            json,
        } => ls::run(
            image,
            path.as_deref(),
            ls::Options {
                long: *long,
                recursive: *recursive,
                deleted: *deleted,
                json: *json,
            },
        ),
        Command::Extract {
            image,
            paths,
            out,
            json,
        } => extract::run(image, paths, out, *json),
        Command::Score {
            recovered,
            truth,
            json,
        } => score(recovered, truth, *json),
        Command::Recover {
            image,
            out,
            schemas,
            tables,
            db,
            json,
            max_memory,
            hash,
        } => recover::run(
            image,
            out,
            schemas,
            tables,
            db.as_deref(),
            *json,
            *max_memory,
            *hash,
        ),
        Command::Page(args) => page::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "salvage: error: {}", e.0);
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &Fatal) -> bool {
    e.0.contains("Broken pipe") || e.0.contains("os error 32")
}

fn score(
    recovered: &std::path::Path,
    truth: &std::path::Path,
    json: bool,
) -> Result<ExitCode, Fatal> {
    let report = salvage::score::score_dirs(recovered, truth).map_err(|e| {
        Fatal(format!(
            "cannot score {} against {}: {e}",
            recovered.display(),
            truth.display()
        ))
    })?;
    let mut out = io::stdout().lock();
    if json {
        serde_json::to_writer_pretty(&mut out, &report)?;
        writeln!(out)?;
    } else {
        write!(out, "{report}")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Peak resident memory of this process in bytes (VmHWM), where Linux tells.
pub fn peak_rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Builds the rayon pool for `-t`.
pub fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool, Fatal> {
    let n = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    Ok(rayon::ThreadPoolBuilder::new().num_threads(n).build()?)
}
