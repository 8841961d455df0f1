//! `corsguard test [--config POLICY] FILE…`: expectations as data. Each file lists requests a
//! page makes and whether the browser must allow or block them ([`file`]); every case runs
//! through the browser model against the policy, as `corsguard explain` runs it ([`run`]), or,
//! with `--url-base`, against a live server, as `corsguard probe` sends it. `--init` writes a
//! starter file from a policy ([`init`]).
//!
//! Exit status: 0 every case passed, 1 a case failed, 2 usage error, invalid file or policy.

pub(crate) mod file;
pub(crate) mod init;
pub(crate) mod render;
pub(crate) mod run;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use corsguard::Policy;

use crate::check;
use crate::check::render::{OutputFormat, Style};
use file::{Invalid, TestFile};
use render::{FileResults, Results};

/// Arguments of `corsguard test`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
A test file:
  policy: corsguard.yaml          # optional, relative to the file; --config overrides it
  cases:
    - name: app can PUT with a trace id
      origin: https://app.example.com
      url: https://api.example.com/v1/items
      method: PUT                 # default GET
      headers: {X-Trace-Id: \"1\"}  # default none
      credentials: include        # omit | same-origin (default) | include
      expect: allowed             # allowed | blocked
      console: \"…\"                # optional: a substring of Chromium's console message

Examples:
  corsguard test corsguard-test.yaml
  corsguard test --config staging.yaml corsguard-test.yaml --format json
  corsguard test corsguard-test.yaml --url-base http://127.0.0.1:8080   # the same cases, live
  corsguard test --init --config corsguard.yaml corsguard-test.yaml      # write a starter

Exit status: 0 every case passed, 1 a case failed, 2 usage error, invalid test file or policy.")]
pub(crate) struct Args {
    /// Test files (YAML). With `--init`: the file to write (stdout without one).
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The policy the cases run against (overrides each file's `policy:`).
    #[arg(long, short = 'c', value_name = "POLICY")]
    pub config: Option<PathBuf>,
    /// Apply environment overrides (`CORS_ALLOWED_ORIGINS`, `CORSGUARD_<OPTION>`) to the
    /// policy first.
    #[arg(long)]
    pub env: bool,
    /// Send every case to this live server instead (the case URL's path and query appended),
    /// the way `corsguard probe` sends it; the policy's prediction and fix are shown beside.
    #[arg(long, value_name = "URL")]
    pub url_base: Option<String>,
    /// Seconds to wait for each response with `--url-base`.
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// Write a starter test file from the policy (`--config`): one allowed and one refused
    /// case per rule.
    #[arg(long)]
    pub init: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
}

/// Loads a policy, printing its diagnostics on failure.
fn policy(path: &Path, env: bool) -> Option<Policy> {
    crate::explain::load_policy(path, env)
}

fn print_invalid(bad: &Invalid) {
    let style = Style::detect_stderr();
    for d in &bad.diagnostics {
        eprint!(
            "{}",
            check::render::render(d, &bad.name, bad.text.as_deref(), style, false)
        );
    }
}

/// Writes the starter file (or prints it).
fn init(args: &Args) -> ExitCode {
    let Some(config) = &args.config else {
        eprintln!("corsguard test --init: name the policy with --config POLICY");
        return ExitCode::from(2);
    };
    let Some(p) = policy(config, args.env) else {
        return ExitCode::from(2);
    };
    match args.files.as_slice() {
        [] => {
            print!("{}", init::starter(&p, &config.display().to_string()));
            ExitCode::SUCCESS
        }
        [target] => {
            if target.exists() {
                eprintln!(
                    "corsguard test --init: {} exists; not overwriting it",
                    target.display()
                );
                return ExitCode::from(2);
            }
            let dir = target.parent().unwrap_or(Path::new(""));
            let reference = init::relative(config, dir).display().to_string();
            match std::fs::write(target, init::starter(&p, &reference)) {
                Ok(()) => {
                    eprintln!("wrote {}", target.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!(
                        "corsguard test --init: cannot write {}: {e}",
                        target.display()
                    );
                    ExitCode::from(2)
                }
            }
        }
        _ => {
            eprintln!("corsguard test --init: write one file at a time");
            ExitCode::from(2)
        }
    }
}

/// `path` with `dir/..` pairs folded, for display (`tests/../examples/p.yaml` →
/// `examples/p.yaml`); the file itself is read through the path as written.
fn lexical(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match (c, out.last()) {
            (Component::CurDir, _) => {}
            (Component::ParentDir, Some(Component::Normal(_))) => {
                out.pop();
            }
            _ => out.push(c),
        }
    }
    out.iter().collect()
}

/// Runs one file's cases.
fn run_file(args: &Args, f: &TestFile) -> Option<FileResults> {
    let Some(path) = args.config.clone().or_else(|| f.policy.clone()) else {
        eprintln!(
            "corsguard test: {} names no policy: add `policy: PATH` to it or pass --config POLICY",
            f.name
        );
        return None;
    };
    let p = policy(&path, args.env)?;
    let cases = f
        .cases
        .iter()
        .map(|c| match &args.url_base {
            Some(base) => run::live(&p, c, base, args.timeout),
            None => run::offline(&p, c),
        })
        .collect();
    Some(FileResults {
        file: f.name.clone(),
        policy: lexical(&path).display().to_string(),
        url_base: args.url_base.clone(),
        cases,
    })
}

/// Runs the command.
pub(crate) fn run(args: Args) -> ExitCode {
    if args.init {
        return init(&args);
    }
    if args.files.is_empty() {
        eprintln!("corsguard test: name at least one test file (or --init to write one)");
        return ExitCode::from(2);
    }
    if let Some(base) = &args.url_base
        && !url::Url::parse(base).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
    {
        eprintln!("corsguard test: --url-base {base} is not an http(s) URL");
        return ExitCode::from(2);
    }
    let loaded: Vec<Result<TestFile, Invalid>> = args.files.iter().map(|f| file::load(f)).collect();
    let mut files = Vec::new();
    for l in &loaded {
        match l {
            Ok(f) => files.push(f),
            Err(bad) => print_invalid(bad),
        }
    }
    if files.len() != loaded.len() {
        return ExitCode::from(2);
    }
    let mut results = Vec::new();
    for f in files {
        match run_file(&args, f) {
            Some(r) => results.push(r),
            None => return ExitCode::from(2),
        }
    }
    let results = Results::new(results);
    match args.format {
        OutputFormat::Json => match serde_json::to_string_pretty(&results) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("corsguard test: {e}");
                return ExitCode::from(2);
            }
        },
        OutputFormat::Human => print!("{}", render::human(&results, Style::detect_stdout())),
    }
    if results.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
