//! `corsguard serve` (being written).

use std::process::ExitCode;

/// Arguments of `corsguard serve`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> ExitCode {
    eprintln!("corsguard serve: not available in this build yet");
    ExitCode::from(2)
}
