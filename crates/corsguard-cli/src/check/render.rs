//! Rendering of configuration diagnostics: rustc-style reports through miette (the source line
//! underlined, the config path as label, code, message, hint) and a stable JSON form.

use std::fmt;
use std::io::IsTerminal;

use corsguard::{Diagnostic, Severity, SourceKind};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SpanContents,
};
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

/// Lines of context shown above and below a diagnostic's span.
const CONTEXT_LINES: usize = 1;

/// The longest line (in bytes) shown in a snippet. A longer one (a minified, one-line policy)
/// is not shown: its diagnostic names `file:line:col` instead. Printing it would write the
/// whole line per diagnostic, and miette cannot pad a label past column 65,535 (it panics).
const MAX_SNIPPET_LINE: usize = 1024;

/// A config file's text and where its lines start, indexed once for all its diagnostics.
///
/// Lines end as miette ends them (`\n`, `\r\n` or a lone `\r`), so that a snippet cut from
/// the text renders exactly as it would from the whole file.
#[derive(Debug)]
pub struct SourceText<'t> {
    name: &'t str,
    text: &'t str,
    /// Byte offset of every line's first byte; the first is 0.
    line_starts: Vec<usize>,
}

impl<'t> SourceText<'t> {
    /// Indexes `text`, named `name` in snippet headers.
    pub fn new(name: &'t str, text: &'t str) -> SourceText<'t> {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            let ends_line = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
            if ends_line {
                line_starts.push(i + 1);
            }
        }
        SourceText {
            name,
            text,
            line_starts,
        }
    }

    /// The 0-based line holding byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    /// The first byte of line `line`, or the end of the text past the last line.
    fn line_start(&self, line: usize) -> usize {
        self.line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len())
            .min(self.text.len())
    }

    /// The lines around `start..end` (`before` above, `after` below): their first line and
    /// byte range. Only these are handed to miette, so rendering a diagnostic costs its
    /// snippet, not the file.
    fn window(
        &self,
        start: usize,
        end: usize,
        before: usize,
        after: usize,
    ) -> (usize, std::ops::Range<usize>) {
        let start = start.min(self.text.len());
        let end = end.clamp(start, self.text.len());
        // One line more each way than asked: miette counts a span that ends with a line
        // break as reaching into the next line, and extra lines it does not need change
        // nothing (it stops reading at the lines it shows).
        let first = self.line_of(start).saturating_sub(before + 1);
        let last = self.line_of(end.saturating_sub(1).max(start)) + after + 1;
        (
            first,
            self.line_start(first)..self.line_start(last.saturating_add(1)),
        )
    }

    /// Whether the snippet of `start..end` has a line too long to show.
    fn has_long_line(&self, start: usize, end: usize) -> bool {
        let (first, bytes) = self.window(start, end, CONTEXT_LINES, CONTEXT_LINES);
        let mut line = first;
        let mut line_start = bytes.start;
        while line_start < bytes.end {
            let next = self.line_start(line + 1).min(bytes.end);
            if next - line_start > MAX_SNIPPET_LINE {
                return true;
            }
            line += 1;
            line_start = next;
        }
        false
    }
}

impl SourceCode for SourceText<'_> {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let (first, bytes) = self.window(
            span.offset(),
            span.offset() + span.len(),
            context_lines_before,
            context_lines_after,
        );
        let window = self
            .text
            .get(bytes.clone())
            .ok_or(MietteError::OutOfBounds)?;
        // miette's own reading of the window, which starts at a line start: the same data,
        // column and offsets as from the whole text, with lines counted from the window.
        let local =
            miette::SourceSpan::new(span.offset().saturating_sub(bytes.start).into(), span.len());
        let inner = window.read_span(&local, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_owned(),
            inner.data(),
            miette::SourceSpan::new(
                (inner.span().offset() + bytes.start).into(),
                inner.span().len(),
            ),
            inner.line() + first,
            inner.column(),
            inner.line_count() + first,
        )))
    }
}

/// One diagnostic as miette sees it.
struct Report<'a> {
    diag: &'a Diagnostic,
    source: Option<&'a SourceText<'a>>,
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
            (SourceKind::Text { .. }, None)
                if self.diag.location.span.is_none() && self.diag.location.path.is_empty() =>
            {
                f.write_str(&self.diag.message)
            }
            // A position whose line is too long to show: named instead.
            (SourceKind::Text { name }, None) => match self.diag.location.span {
                Some(s) if self.diag.location.path.is_empty() => {
                    write!(f, "{name}:{}:{}: {}", s.line, s.column, self.diag.message)
                }
                Some(_) => write!(f, "{}: {}", self.diag.location, self.diag.message),
                None => write!(
                    f,
                    "{name}: {}: {}",
                    self.diag.location.path, self.diag.message
                ),
            },
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
                _ => "warning",
            }
        };
        Some(Box::new(format!("{sev}[{}]", self.diag.code)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            _ if self.denied => miette::Severity::Error,
            _ => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diag
            .hint
            .as_ref()
            .map(|h| Box::new(h.clone()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.map(|s| s as &dyn miette::SourceCode)
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
/// in the message instead. Indexes `text` per call: for many diagnostics of one file, index
/// it once with [`SourceText::new`] and call [`render_in`].
pub fn render(
    diag: &Diagnostic,
    file_name: &str,
    text: Option<&str>,
    style: Style,
    denied: bool,
) -> String {
    let source = text.map(|t| SourceText::new(file_name, t));
    render_in(diag, source.as_ref(), style, denied)
}

/// Renders one diagnostic rustc-style from an indexed source (see [`render`]).
pub fn render_in(
    diag: &Diagnostic,
    text: Option<&SourceText<'_>>,
    style: Style,
    denied: bool,
) -> String {
    let source = match (&diag.location.source, diag.location.span, text) {
        (SourceKind::Text { .. }, Some(s), Some(t)) if !t.has_long_line(s.start, s.end) => Some(t),
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
        .with_context_lines(CONTEXT_LINES);
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
            code: d.code.as_str().to_owned(),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use corsguard::{Location, SourceSpan};
    use miette::NamedSource;

    /// A report that hands miette the whole text, as rendering did before snippets.
    struct WholeText<'a> {
        report: Report<'a>,
        whole: NamedSource<String>,
    }

    impl fmt::Debug for WholeText<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Debug::fmt(&self.report, f)
        }
    }

    impl fmt::Display for WholeText<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            fmt::Display::fmt(&self.report, f)
        }
    }

    impl std::error::Error for WholeText<'_> {}

    impl miette::Diagnostic for WholeText<'_> {
        fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
            self.report.code()
        }
        fn severity(&self) -> Option<miette::Severity> {
            self.report.severity()
        }
        fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
            self.report.help()
        }
        fn source_code(&self) -> Option<&dyn miette::SourceCode> {
            Some(&self.whole)
        }
        fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
            self.report.labels()
        }
    }

    fn handler() -> GraphicalReportHandler {
        GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false)
            .with_context_lines(CONTEXT_LINES)
    }

    /// A snippet cut from the indexed text renders byte for byte as from the whole text, for
    /// spans anywhere (first and last line, across lines, empty, at the end) and with every
    /// line ending miette knows.
    #[test]
    fn snippets_render_as_from_the_whole_text() {
        let texts = [
            "a: 1\n",
            "defaults:\n  allow_origins: ['https://a.example/']\n  max_age: 10\npaths:\n  - path: /x\n",
            "a: 1\r\nb: [x,\r\n  y]\r\nc: 3",
            "one\rtwo\rthree\n\nfour",
            "\n\n\nx: 'é→😀'\n\n",
        ];
        let style = Style {
            color: false,
            width: 100,
        };
        let mut checked = 0;
        for text in texts {
            let indexed = SourceText::new("f.yaml", text);
            let starts = (0..=text.len()).filter(|&i| text.is_char_boundary(i));
            for start in starts {
                for len in [0, 1, 2, 5, 12, text.len()] {
                    let end = (start + len).min(text.len());
                    if !text.is_char_boundary(end) {
                        continue;
                    }
                    let mut location = Location::new(
                        SourceKind::Text {
                            name: "f.yaml".into(),
                        },
                        "defaults.x",
                    );
                    location.span = Some(SourceSpan::locate(text, start..end));
                    let diag = Diagnostic::new(
                        Severity::Error,
                        corsguard::Code::Tool("test"),
                        "m",
                        location,
                    )
                    .with_hint("h");
                    let ours = render_in(&diag, Some(&indexed), style, false);
                    let mut whole = String::new();
                    let report = WholeText {
                        report: Report {
                            diag: &diag,
                            source: Some(&indexed),
                            denied: false,
                        },
                        whole: NamedSource::new("f.yaml", text.to_owned()),
                    };
                    handler().render_report(&mut whole, &report).unwrap();
                    assert_eq!(ours, whole, "{text:?} {start}..{end}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 300, "{checked}");
    }

    /// A diagnostic on a line too long to show names its position instead of panicking in
    /// miette (columns past 65,535) or printing the line.
    #[test]
    fn a_position_on_a_very_long_line_is_named_not_shown() {
        let head = format!(
            "defaults: {{allow_origins: [{}",
            "'https://a.example', ".repeat(4000)
        );
        let text = format!("{head}'https://b.example/']}}\n");
        let start = head.len();
        let mut location = Location::new(
            SourceKind::Text {
                name: "f.yaml".into(),
            },
            "defaults.allow_origins[4000]",
        );
        location.span = Some(SourceSpan::locate(&text, start..start + 21));
        let diag = Diagnostic::new(
            Severity::Error,
            corsguard::Code::OriginTrailingSlash,
            "trailing slash",
            location,
        );
        let style = Style {
            color: false,
            width: 100,
        };
        let out = render(&diag, "f.yaml", Some(&text), style, false);
        assert!(
            out.contains(&format!(
                "f.yaml:1:{}: defaults.allow_origins[4000]: trailing slash",
                start + 1
            )),
            "{out}"
        );
        assert!(out.len() < 500, "{out}");
    }
}
