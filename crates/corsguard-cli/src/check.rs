//! `corsguard check` (being written).

use std::process::ExitCode;

/// Arguments of `corsguard check`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> ExitCode {
    eprintln!("corsguard check: not available in this build yet");
    ExitCode::from(2)
}
