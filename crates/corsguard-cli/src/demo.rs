//! `corsguard demo` (being written).

use std::process::ExitCode;

/// Arguments of `corsguard demo`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> ExitCode {
    eprintln!("corsguard demo: not available in this build yet");
    ExitCode::from(2)
}
