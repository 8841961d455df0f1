//! `corsguard check FILE…`: validate policy files and print every diagnostic, rustc-style
//! (file:line:col, the source line underlined, code, message, hint) or as JSON.
//!
//! Exit status: 0 when every file is valid, 1 when a file has errors (or warnings with
//! `--deny-warnings`), 2 on usage errors or unreadable files.

pub mod render;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use corsguard::{ConfigErrors, Diagnostic, Format, Policy, Severity};

use render::{JsonDiagnostic, OutputFormat, Style};

/// Arguments of `corsguard check`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  corsguard check corsguard.yaml
  corsguard check --deny-warnings --format json api.yaml admin.toml
  CORS_ALLOWED_ORIGINS=https://app.example.com corsguard check --env corsguard.yaml

Exit status: 0 valid, 1 errors (or warnings with --deny-warnings), 2 usage error or unreadable file.")]
pub struct Args {
    /// Policy files to validate (`.yaml`, `.yml` or `.toml`).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format: `human` (rustc-style reports on stderr) or `json` (an array on stdout).
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    /// Treat warnings as errors (exit 1 when any file has a warning).
    #[arg(long)]
    pub deny_warnings: bool,
    /// Apply environment overrides (`CORS_ALLOWED_ORIGINS`, `CORSGUARD_<OPTION>`) on top of
    /// each file's `defaults:`, as `corsguard serve` does.
    #[arg(long)]
    pub env: bool,
}

/// A policy file read and validated.
#[derive(Debug)]
pub struct Checked {
    /// The name used in diagnostics (the path as given).
    pub name: String,
    /// The file's text, when it could be read.
    pub text: Option<String>,
    /// The policy, or every diagnostic.
    pub result: Result<Policy, ConfigErrors>,
    /// `true` when the file could not be read or its format is unknown (exit 2).
    pub unreadable: bool,
    /// Warnings about what browsers do with a valid policy ([`browser_warnings`]).
    pub browser_warnings: Vec<Diagnostic>,
}

impl Checked {
    /// Every diagnostic: the errors (with warnings) of a failed load, or the warnings of a
    /// successful one, in source order (diagnostics without a position, such as those about
    /// environment variables, last; ties keep the engine's order).
    pub fn diagnostics(&self) -> Vec<&Diagnostic> {
        let all = match &self.result {
            Ok(p) => p.warnings(),
            Err(e) => e.diagnostics(),
        };
        let mut v: Vec<&Diagnostic> = all.iter().chain(&self.browser_warnings).collect();
        v.sort_by_key(|d| d.location.span.map_or(usize::MAX, |s| s.start));
        v
    }

    /// The text spans point into.
    pub fn source_text(&self) -> Option<&str> {
        match &self.result {
            Err(e) => e.source_text().or(self.text.as_deref()),
            Ok(_) => self.text.as_deref(),
        }
    }
}

/// Reads and validates one policy file; `env` applies the process's environment overrides.
pub fn load(path: &Path, env: bool) -> Checked {
    let name = path.display().to_string();
    let vars: Option<Vec<(String, String)>> = env.then(|| std::env::vars().collect());
    let Some(format) = Format::from_path(path) else {
        // Let the engine produce its `unknown-extension` diagnostic.
        return Checked {
            result: Policy::from_file(path),
            name,
            text: None,
            unreadable: true,
            browser_warnings: Vec::new(),
        };
    };
    // The engine's bounded read: a device, a FIFO or an oversized file is refused with its
    // diagnostic instead of being read without limit.
    match corsguard::read_config_file(path, corsguard::DEFAULT_MAX_CONFIG_BYTES) {
        Ok(text) => {
            let result = {
                let load = Policy::load().text(&text, &name, format);
                match &vars {
                    Some(vars) => load.env_vars(vars.iter().cloned()),
                    None => load,
                }
                .build()
            };
            Checked {
                browser_warnings: result
                    .as_ref()
                    .map(|p| browser_warnings(&name, p))
                    .unwrap_or_default(),
                result,
                name,
                text: Some(text),
                unreadable: false,
            }
        }
        Err(e) => Checked {
            result: Err(e),
            name,
            text: None,
            unreadable: true,
            browser_warnings: Vec::new(),
        },
    }
}

/// The stable code of the warning that `allow_private_network` is obsolete.
pub const PRIVATE_NETWORK_OBSOLETE: corsguard::Code =
    corsguard::Code::Tool("private-network-obsolete");

/// Warnings about what today's browsers do with a valid policy (the engine validates the
/// policy; this is about Chromium ≥ 142): `allow_private_network` answers the Private Network
/// Access preflight, which Local Network Access replaced, so it has no effect there. It is
/// reported where it is set (`defaults`, or a path rule that sets it while `defaults` does
/// not); the option stays valid for older Chromium builds.
pub fn browser_warnings(name: &str, policy: &Policy) -> Vec<Diagnostic> {
    let defaults = policy.defaults_summary().allow_private_network;
    policy
        .summaries()
        .into_iter()
        .filter(|r| r.allow_private_network && (r.name == "defaults" || !defaults))
        .map(|r| {
            Diagnostic::new(
                Severity::Warning,
                PRIVATE_NETWORK_OBSOLETE,
                "no effect on Chrome ≥ 142: Local Network Access replaced the Private Network \
                 Access preflight, and Chromium no longer sends \
                 Access-Control-Request-Private-Network",
                corsguard::Location::new(
                    corsguard::SourceKind::Text {
                        name: name.to_owned(),
                    },
                    format!("{}.allow_private_network", r.name),
                ),
            )
            .with_hint(
                "a public page reaching a private or loopback address now needs the user's \
                 permission, which no response header grants (`corsguard explain` shows the \
                 block and what lifts it); keep the option only for Chromium 138-141",
            )
        })
        .collect()
}

/// Renders every diagnostic of a checked file (human format) into a string.
pub fn render_checked(c: &Checked, style: Style, deny_warnings: bool) -> String {
    let mut out = String::new();
    // Indexed once: rendering costs each diagnostic its snippet, not a pass over the file.
    let source = c.source_text().map(|t| render::SourceText::new(&c.name, t));
    for d in c.diagnostics() {
        let denied = deny_warnings && d.severity == Severity::Warning;
        out.push_str(&render::render_in(d, source.as_ref(), style, denied));
        out.push('\n');
    }
    out
}

/// One summary line: `file: ok`, `file: ok (2 warnings)`, `file: 1 error, 1 warning`.
pub fn summary(c: &Checked, style: Style) -> String {
    let errors = c
        .diagnostics()
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = c.diagnostics().len() - errors;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let bold = anstyle::Style::new().bold();
    if c.unreadable {
        format!("{}: not checked\n", style.paint(bold, &c.name))
    } else if errors == 0 && warnings == 0 {
        let green = anstyle::AnsiColor::Green.on_default().bold();
        format!(
            "{}: {}\n",
            style.paint(bold, &c.name),
            style.paint(green, "ok")
        )
    } else if errors == 0 {
        let yellow = anstyle::AnsiColor::Yellow.on_default().bold();
        format!(
            "{}: {} ({})\n",
            style.paint(bold, &c.name),
            style.paint(yellow, "ok"),
            plural(warnings, "warning")
        )
    } else {
        let red = anstyle::AnsiColor::Red.on_default().bold();
        let mut s = plural(errors, "error");
        if warnings > 0 {
            s.push_str(", ");
            s.push_str(&plural(warnings, "warning"));
        }
        format!("{}: {}\n", style.paint(bold, &c.name), style.paint(red, &s))
    }
    .to_owned()
        + &c.result.as_ref().map(csrf_summary).unwrap_or_default()
}

/// One line saying where CSRF protection is on (nothing when it is off everywhere):
/// `  csrf: enforce on defaults, paths[1]; report on paths[2]; off on paths[0]`.
fn csrf_summary(p: &corsguard::Policy) -> String {
    let rules = p.summaries();
    let mut by_mode: Vec<(&str, Vec<String>)> =
        vec![("enforce", vec![]), ("report", vec![]), ("off", vec![])];
    for r in &rules {
        let mode = r.csrf.as_ref().map_or("off", |c| c.mode.as_str());
        let trusted = r
            .csrf
            .as_ref()
            .filter(|c| !c.trusted_origins.is_empty())
            .map(|c| format!(" (+{} trusted)", c.trusted_origins.len()))
            .unwrap_or_default();
        if let Some((_, names)) = by_mode.iter_mut().find(|(m, _)| *m == mode) {
            names.push(format!("{}{trusted}", r.name));
        }
    }
    if by_mode.iter().take(2).all(|(_, n)| n.is_empty()) {
        return String::new();
    }
    let parts: Vec<String> = by_mode
        .iter()
        .filter(|(_, n)| !n.is_empty())
        .map(|(m, n)| format!("{m} on {}", n.join(", ")))
        .collect();
    format!("  csrf: {}\n", parts.join("; "))
}

/// Runs the command.
pub fn run(args: Args) -> ExitCode {
    let style = Style::detect_stderr();
    let checked: Vec<Checked> = args.files.iter().map(|f| load(f, args.env)).collect();
    let mut status = 0u8;
    for c in &checked {
        let errors = c
            .diagnostics()
            .iter()
            .any(|d| d.severity == Severity::Error);
        let warnings = c
            .diagnostics()
            .iter()
            .any(|d| d.severity == Severity::Warning);
        let file_status = if c.unreadable {
            2
        } else if errors || (args.deny_warnings && warnings) {
            1
        } else {
            0
        };
        status = status.max(file_status);
    }
    match args.format {
        OutputFormat::Json => {
            let all: Vec<JsonDiagnostic> = checked
                .iter()
                .flat_map(|c| {
                    c.diagnostics()
                        .into_iter()
                        .map(|d| JsonDiagnostic::new(&c.name, d))
                        .collect::<Vec<_>>()
                })
                .collect();
            match serde_json::to_string_pretty(&all) {
                Ok(s) => println!("{s}"),
                Err(e) => {
                    eprintln!("corsguard check: cannot serialise diagnostics: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        OutputFormat::Human => {
            let mut out = String::new();
            for c in &checked {
                out.push_str(&render_checked(c, style, args.deny_warnings));
                out.push_str(&summary(c, style));
            }
            eprint!("{out}");
        }
    }
    ExitCode::from(status)
}
