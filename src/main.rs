//! The `salvage` command line. Everything here is argument handling and
//! printing; the work is in the library.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
