//! The `atrium` executable; everything lives in the library (`atrium::cli`).

use clap::Parser;

fn main() -> std::process::ExitCode {
    atrium::cli::run(atrium::cli::Cli::parse())
}
