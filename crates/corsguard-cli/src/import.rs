//! `corsguard import` (being written).

use std::process::ExitCode;

/// Arguments of `corsguard import`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> ExitCode {
    eprintln!("corsguard import: not available in this build yet");
    ExitCode::from(2)
}
