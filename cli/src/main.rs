//! `localkms`: the KMS operations of the library as a command-line tool on a key
//! store (an SQLite file or a PostgreSQL URL), and `store copy` between stores.
//! One command is one API call; it prints one JSON document with the service's
//! field names on standard output, or the service's error on standard error with
//! an exit status per error class (see docs/cli.md).

#![forbid(unsafe_code)]

mod cli;
mod commands;
mod input;
mod location;
mod open;
mod output;
mod store_copy;

use std::process::ExitCode;

use clap::FromArgMatches;
use localkms::Error;

fn main() -> ExitCode {
    // Usage errors exit 2 and --help / --version exit 0, from clap itself.
    let mut matches = cli::command().get_matches();
    let parsed = cli::Cli::from_arg_matches_mut(&mut matches).unwrap_or_else(|e| e.exit());
    let document = match commands::run(parsed.command) {
        Ok(document) => document,
        Err(error) => return ExitCode::from(output::report_error(&error)),
    };
    match output::print_document(&document) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(output::report_error(&Error::internal(format!(
            "The answer cannot be written to standard output: {e}."
        )))),
    }
}
