//! The output of `corsguard test`: one line per case, the reason (and fix) under each
//! failure, a summary line; or one JSON document ([`Results`]).

use std::fmt::Write as _;

use serde::Serialize;

use super::file::Expect;
use super::run::Outcome;
use crate::check::render::Style;
use crate::explain;

/// One file's results.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FileResults {
    /// The expectations file.
    pub file: String,
    /// The policy its cases ran against.
    pub policy: String,
    /// `--url-base`, when the cases ran against a live server.
    pub url_base: Option<String>,
    /// One outcome per case, in file order.
    pub cases: Vec<Outcome>,
}

/// Everything `corsguard test --format json` prints.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Results {
    /// Per file.
    pub files: Vec<FileResults>,
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
}

impl Results {
    /// Counts the outcomes.
    pub(crate) fn new(files: Vec<FileResults>) -> Results {
        let all = || files.iter().flat_map(|f| &f.cases);
        let passed = all().filter(|c| c.passed).count();
        let failed = all().count() - passed;
        Results {
            files,
            passed,
            failed,
        }
    }
}

fn got_text(o: &Outcome) -> &'static str {
    match o.got {
        Some(Expect::Allowed) => "the browser allows it",
        Some(Expect::Blocked) => "the browser blocks it",
        None => "no answer",
    }
}

fn case_lines(out: &mut String, o: &Outcome, style: Style) {
    let green = anstyle::AnsiColor::Green.on_default().bold();
    let red = anstyle::AnsiColor::Red.on_default().bold();
    if o.passed {
        let _ = writeln!(
            out,
            "  {}  {} ({})",
            style.paint(green, "pass"),
            o.name,
            o.expect.as_str()
        );
        return;
    }
    let what = if o.got == Some(o.expect) {
        format!(
            "{}, but the console message does not contain {:?}",
            got_text(o),
            o.console.as_deref().unwrap_or_default()
        )
    } else {
        format!("expected {}, {}", o.expect.as_str(), got_text(o))
    };
    let _ = writeln!(out, "  {}  {}: {what}", style.paint(red, "FAIL"), o.name);
    let pad = "        ";
    let _ = writeln!(out, "{pad}{}", o.reason);
    if let Some(c) = &o.console_message {
        let _ = writeln!(out, "{pad}Console: {c}");
    }
    if o.got == Some(Expect::Blocked) && o.expect == Expect::Allowed {
        for line in explain::render_fix(o.fix.as_ref(), o.no_fix.as_deref(), style).lines() {
            let _ = writeln!(out, "{pad}{line}");
        }
    }
    for f in &o.findings {
        let _ = writeln!(out, "{pad}finding [{}]: {}", f.code, f.message);
    }
}

/// The human-readable report.
pub(crate) fn human(r: &Results, style: Style) -> String {
    let bold = anstyle::Style::new().bold();
    let green = anstyle::AnsiColor::Green.on_default().bold();
    let red = anstyle::AnsiColor::Red.on_default().bold();
    let mut out = String::new();
    for f in &r.files {
        let against = match &f.url_base {
            Some(base) => format!("policy {}, live at {base}", f.policy),
            None => format!("policy {}", f.policy),
        };
        let _ = writeln!(out, "{} ({against})", style.paint(bold, &f.file));
        for o in &f.cases {
            case_lines(&mut out, o, style);
        }
    }
    let total = r.passed + r.failed;
    let cases = if total == 1 { "case" } else { "cases" };
    if r.failed == 0 {
        let _ = writeln!(
            out,
            "\n{}: {total} {cases} passed",
            style.paint(green, "ok")
        );
    } else {
        let _ = writeln!(
            out,
            "\n{}: {} of {total} {cases} failed, {} passed",
            style.paint(red, "FAILED"),
            r.failed,
            r.passed
        );
    }
    out
}
