//! Rendering of configuration diagnostics: rustc-style reports through miette (the source line
//! underlined, the config path as label, code, message, hint) and a stable JSON form.

use std::fmt;
use std::io::IsTerminal;

use corsguard::{Diagnostic, Severity, SourceKind};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use serde::Serialize;

/// Output format shared by the subcommands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum OutputFormat {
    /// Human-readable text (colours only on a terminal, never with `NO_COLOR`).
    #[default]
    Human,
    /// One JSON document on stdout.
    Json,
}

/// Terminal styling decisions, taken once per run.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Emit ANSI colours.
    pub color: bool,
    /// Wrap width for reports.
    pub width: usize,
}

impl Style {
    /// Colours when stderr is a terminal and neither `NO_COLOR` nor `TERM=dumb` is set
    /// (`CLICOLOR_FORCE=1` forces them); width from `COLUMNS`, else 100.
    pub fn detect_stderr() -> Style {
        Style::detect(std::io::stderr().is_terminal())
    }

    /// Like [`Style::detect_stderr`] for stdout.
    pub fn detect_stdout() -> Style {
        Style::detect(std::io::stdout().is_terminal())
    }

    fn detect(is_tty: bool) -> Style {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let color = if var("NO_COLOR").is_some() {
            false
        } else if var("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
            true
        } else {
            is_tty && var("TERM").is_none_or(|t| t != "dumb")
        };
        let width = var("COLUMNS")
            .and_then(|c| c.parse::<usize>().ok())
            .filter(|w| *w >= 40)
            .unwrap_or(100);
        Style { color, width }
    }

    /// Wraps `text` in an ANSI style when colours are on.
    pub fn paint(&self, style: anstyle::Style, text: &str) -> String {
        if self.color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    }
}

/// One diagnostic as miette sees it.
struct Report<'a> {
    diag: &'a Diagnostic,
    source: Option<NamedSource<String>>,
    denied: bool,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diag, f)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.diag.location.source, &self.source) {
            // The snippet header names file:line:col; the message stands alone.
            (SourceKind::Text { .. }, Some(_)) => f.write_str(&self.diag.message),
            // Loader errors (I/O, unknown extension) already name the file.
            (SourceKind::Text { .. }, None) if self.diag.location.path.is_empty() => {
                f.write_str(&self.diag.message)
            }
            (src, _) => {
                let path = &self.diag.location.path;
                if path.is_empty() {
                    write!(f, "{src}: {}", self.diag.message)
                } else {
                    write!(f, "{src}: {path}: {}", self.diag.message)
                }
            }
        }
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        let sev = if self.denied {
            "error (denied warning)"
        } else {
            match self.diag.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            }
        };
        Some(Box::new(format!("{sev}[{}]", self.diag.code)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning if self.denied => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag
            .hint
            .as_ref()
            .map(|h| Box::new(h.clone()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let span = self.diag.location.span?;
        let label = if self.diag.location.path.is_empty() {
            None
        } else {
            Some(self.diag.location.path.clone())
        };
        let len = span.end.saturating_sub(span.start);
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(label, (span.start, len)),
        )))
    }
}

/// Renders one diagnostic rustc-style. `text` is the source the spans point into (the file's
/// text); without it, or for diagnostics from environment variables, the location is named
/// in the message instead.
pub fn render(
    diag: &Diagnostic,
    file_name: &str,
    text: Option<&str>,
    style: Style,
    denied: bool,
) -> String {
    let source = match (&diag.location.source, diag.location.span, text) {
        (SourceKind::Text { .. }, Some(_), Some(t)) => {
            Some(NamedSource::new(file_name, t.to_owned()))
        }
        _ => None,
    };
    let report = Report {
        diag,
        source,
        denied,
    };
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false)
        .with_context_lines(1);
    let mut out = String::new();
    if handler.render_report(&mut out, &report).is_err() {
        // Rendering into a String cannot fail in practice; keep a plain fallback anyway.
        out = format!("{}\n", diag);
    }
    out
}

/// A diagnostic in `--format json`: a flat, stable object.
#[derive(Debug, Clone, Serialize)]
pub struct JsonDiagnostic {
    /// The file checked.
    pub file: String,
    /// `error` or `warning`.
    pub severity: Severity,
    /// Stable kebab-case code.
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
    /// Where the value came from: the file name, or `env VAR`.
    pub source: String,
    /// Config path, e.g. `paths[1].allow_origins[0]`.
    pub path: String,
    /// 1-based line, when the value came from the file.
    pub line: Option<usize>,
    /// 1-based column (characters).
    pub column: Option<usize>,
    /// Byte range in the file.
    pub span: Option<JsonSpan>,
}

/// A byte range.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct JsonSpan {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl JsonDiagnostic {
    /// Flattens an engine diagnostic.
    pub fn new(file: &str, d: &Diagnostic) -> JsonDiagnostic {
        let span = d.location.span;
        JsonDiagnostic {
            file: file.to_owned(),
            severity: d.severity,
            code: d.code.to_owned(),
            message: d.message.clone(),
            hint: d.hint.clone(),
            source: match &d.location.source {
                SourceKind::Text { .. } => file.to_owned(),
                other => other.to_string(),
            },
            path: d.location.path.clone(),
            line: span.map(|s| s.line),
            column: span.map(|s| s.column),
            span: span.map(|s| JsonSpan {
                start: s.start,
                end: s.end,
            }),
        }
    }
}
