//! `corsguard export` (being written).

use std::process::ExitCode;

/// Arguments of `corsguard export`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> ExitCode {
    eprintln!("corsguard export: not available in this build yet");
    ExitCode::from(2)
}
