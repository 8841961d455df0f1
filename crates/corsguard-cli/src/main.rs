//! `corsguard`: the CORS gateway and the tools that explain what the browser will do.
//!
//! Each subcommand lives in its own module with its own `Args` and `run`.

mod demo;
mod explain;
mod probe;
mod serve;
mod test;

use corsguard_cli::{check, export, import};

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// corsguard — one CORS policy, validated, explained and enforced.
///
/// A policy is a YAML or TOML file (`defaults:` plus an ordered `paths:` list); environment
/// variables (`CORS_ALLOWED_ORIGINS`, `CORSGUARD_<OPTION>`) can override its defaults.
#[derive(Debug, Parser)]
#[command(name = "corsguard", version, about, long_about = None, after_long_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  corsguard demo                                    # gateway + demo API + demo pages on loopback
  corsguard check corsguard.yaml                    # validate, rustc-style diagnostics
  corsguard explain --config corsguard.yaml --origin https://app.example.com \\
      --url https://api.example.com/v1/items --method PUT --header 'X-Trace-Id: 1' --credentials include
  corsguard probe https://api.example.com/v1/items --origin https://app.example.com --method PUT
  corsguard test corsguard-test.yaml                # expectations as data, checked against the policy
  corsguard serve --config corsguard.yaml --listen 127.0.0.1:8080 --upstream http://127.0.0.1:9000
  corsguard export nginx --config corsguard.yaml > cors.conf
  corsguard import django settings.py > corsguard.yaml";

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the CORS gateway (reverse proxy) in front of an upstream API.
    Serve(serve::Args),
    /// Start a self-contained demo: an API, the gateway in front of it, and demo pages.
    Demo(demo::Args),
    /// Validate policy files and print diagnostics.
    Check(check::Args),
    /// Explain offline what a browser will do with a request under a policy.
    Explain(explain::Args),
    /// Send a request like Chromium would to any server and diagnose its CORS answers.
    Probe(probe::Args),
    /// Check expectations (request → allowed or blocked) against a policy, offline or live.
    Test(test::Args),
    /// Emit an equivalent configuration for nginx or Envoy.
    Export(export::Args),
    /// Convert a NelmioCorsBundle or django-cors-headers configuration to corsguard YAML.
    Import(import::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(a) => serve::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Check(a) => check::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Probe(a) => probe::run(a),
        Command::Test(a) => test::run(a),
        Command::Export(a) => export::run(a),
        Command::Import(a) => import::run(a),
    }
}
