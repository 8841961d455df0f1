//! Configuration diagnostics: every problem found while loading a policy, with a stable code,
//! a location (config path, source span, env var), a message and a fix hint.
//!
//! The library stays renderer-free: the CLI turns these into rustc-style reports.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::Code;

/// How serious a [`Diagnostic`] is.
///
/// ```
/// use corsguard::Severity;
/// assert!(Severity::Error > Severity::Warning);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// The policy is usable, but probably not what was meant.
    Warning,
    /// The policy cannot be built.
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// Where a configuration value came from.
///
/// ```
/// use corsguard::SourceKind;
/// let k = SourceKind::Env { var: "CORS_ALLOWED_ORIGINS".into() };
/// assert_eq!(k.to_string(), "env CORS_ALLOWED_ORIGINS");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[non_exhaustive]
pub enum SourceKind {
    /// A YAML or TOML text (a file, or a string passed to `from_yaml_str`).
    Text {
        /// The file name, or `<string>`.
        name: String,
    },
    /// An environment variable.
    Env {
        /// The variable's name.
        var: String,
    },
    /// A call on [`crate::PolicyBuilder`].
    Builder,
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceKind::Text { name } => f.write_str(name),
            SourceKind::Env { var } => write!(f, "env {var}"),
            SourceKind::Builder => f.write_str("builder"),
        }
    }
}

/// A byte range into the source text with its 1-based line and column.
///
/// ```
/// use corsguard::SourceSpan;
/// let s = SourceSpan::locate("a: 1\nbb: 2\n", 5..7);
/// assert_eq!((s.line, s.column), (2, 1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SourceSpan {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// 1-based line of `start`.
    pub line: usize,
    /// 1-based column (in characters) of `start`.
    pub column: usize,
}

impl SourceSpan {
    /// Computes line and column of `range.start` in `text`.
    ///
    /// This scans `text` from its start: fine for one span. Locating many spans of the same
    /// text goes through a line index built once (the config loader does), so that loading
    /// stays linear in the file.
    pub fn locate(text: &str, range: std::ops::Range<usize>) -> SourceSpan {
        let start = range.start.min(text.len());
        let end = range.end.clamp(start, text.len());
        let before = text.get(..start).unwrap_or("");
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text.get(line_start..start).map_or(0, |s| s.chars().count()) + 1;
        SourceSpan {
            start,
            end,
            line,
            column,
        }
    }
}

/// Bytes per block of [`LineIndex`]'s character counts: a column costs at most one block scan.
const BLOCK: usize = 64;

/// The line starts and character counts of one text, built once so that locating a byte
/// offset costs a binary search and a scan of at most [`BLOCK`] bytes, whatever the size of
/// the file and the length of its lines (a one-line flow list of 100,000 origins included).
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    /// Byte offset of the first byte of every line; the first is 0.
    line_starts: Vec<usize>,
    /// Characters before each `BLOCK`-byte block, plus the total at the end.
    block_chars: Vec<usize>,
}

/// A UTF-8 continuation byte (`10xxxxxx`) does not start a character.
fn starts_char(b: u8) -> bool {
    b & 0xC0 != 0x80
}

impl LineIndex {
    /// Indexes `text` in one pass.
    pub(crate) fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        line_starts.extend(
            bytes
                .iter()
                .enumerate()
                .filter(|&(_, &b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        let mut block_chars = Vec::with_capacity(bytes.len() / BLOCK + 2);
        let mut chars = 0;
        for block in bytes.chunks(BLOCK) {
            block_chars.push(chars);
            chars += block.iter().filter(|&&b| starts_char(b)).count();
        }
        block_chars.push(chars);
        LineIndex {
            line_starts,
            block_chars,
        }
    }

    /// Characters in `text[..offset]`.
    fn chars_before(&self, text: &str, offset: usize) -> usize {
        let block = offset / BLOCK;
        let before = self.block_chars.get(block).copied().unwrap_or(0);
        let within = text
            .as_bytes()
            .get(block * BLOCK..offset)
            .map_or(0, |b| b.iter().filter(|&&b| starts_char(b)).count());
        before + within
    }

    /// The same as [`SourceSpan::locate`]`(text, range)`, for the `text` this index was
    /// built from.
    pub(crate) fn locate(&self, text: &str, range: std::ops::Range<usize>) -> SourceSpan {
        let start = range.start.min(text.len());
        let end = range.end.clamp(start, text.len());
        // The number of line starts at or before `start` is its 1-based line (the first
        // start is 0, so it is at least 1).
        let line = self.line_starts.partition_point(|&s| s <= start).max(1);
        let line_start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let column = self.chars_before(text, start) - self.chars_before(text, line_start) + 1;
        SourceSpan {
            start,
            end,
            line,
            column,
        }
    }
}

/// Where in the configuration a diagnostic points.
///
/// ```
/// use corsguard::{Location, SourceKind};
/// let loc = Location::new(SourceKind::Builder, "defaults.allow_origins[0]");
/// assert_eq!(loc.to_string(), "builder: defaults.allow_origins[0]");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The source (file, env var, builder).
    pub source: SourceKind,
    /// The config path, e.g. `paths[2].allow_origins[1]`.
    pub path: String,
    /// The span in the source text, when the value came from text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub span: Option<SourceSpan>,
}

impl Location {
    /// A location without a span.
    pub fn new(source: SourceKind, path: impl Into<String>) -> Location {
        Location {
            source,
            path: path.into(),
            span: None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.source, &self.span) {
            (SourceKind::Text { name }, Some(s)) => {
                write!(f, "{name}:{}:{}: {}", s.line, s.column, self.path)
            }
            (src, _) => write!(f, "{src}: {}", self.path),
        }
    }
}

/// One problem found in a configuration.
///
/// ```
/// use corsguard::Policy;
/// let err = Policy::from_yaml_str("defaults:\n  allow_origins: ['https://a.example/']\n").unwrap_err();
/// let d = &err.diagnostics()[0];
/// assert_eq!(d.code, "origin-trailing-slash");
/// assert_eq!(d.location.path, "defaults.allow_origins[0]");
/// assert!(d.hint.as_deref().unwrap().contains("https://a.example"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// What it is about: a stable [`Code`] (`code.as_str()` is kebab-case, such as
    /// `origin-trailing-slash`).
    pub code: Code,
    /// What is wrong.
    pub message: String,
    /// How to fix it (often the corrected value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Where.
    pub location: Location,
}

impl Diagnostic {
    /// A diagnostic without a hint (for tools that report in the engine's format).
    ///
    /// ```
    /// use corsguard::{Diagnostic, Location, Severity, SourceKind};
    /// let at = Location::new(SourceKind::Text { name: "t.yaml".into() }, "cases[0]");
    /// let d = Diagnostic::new(Severity::Error, corsguard::Code::Tool("case-invalid"), "no url", at).with_hint("add `url:`");
    /// assert_eq!(d.hint.as_deref(), Some("add `url:`"));
    /// ```
    pub fn new(
        severity: Severity,
        code: Code,
        message: impl Into<String>,
        location: Location,
    ) -> Self {
        Diagnostic {
            severity,
            code,
            message: message.into(),
            hint: None,
            location,
        }
    }

    /// The same diagnostic with `hint`.
    ///
    /// ```
    /// use corsguard::{Diagnostic, Location, Severity, SourceKind};
    /// let d = Diagnostic::new(Severity::Warning, corsguard::Code::Tool("w"), "m", Location::new(SourceKind::Builder, ""))
    ///     .with_hint("h");
    /// assert_eq!(d.hint.as_deref(), Some("h"));
    /// ```
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}]: {}: {}",
            self.severity, self.code, self.location, self.message
        )?;
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

/// All the problems of a configuration that could not be turned into a policy.
///
/// Holds every diagnostic found (errors and warnings), never just the first, plus the source
/// text so a renderer can underline spans.
///
/// ```
/// use corsguard::Policy;
/// let err = Policy::from_yaml_str("defaults:\n  allowed_origins: ['*']\n  max_age: 999999\n").unwrap_err();
/// assert_eq!(err.errors().count(), 2);
/// assert!(err.to_string().contains("did you mean `allow_origins`"));
/// ```
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigErrors {
    diagnostics: Vec<Diagnostic>,
    source_text: Option<Arc<str>>,
}

impl ConfigErrors {
    pub(crate) fn new(diagnostics: Vec<Diagnostic>, source_text: Option<Arc<str>>) -> Self {
        ConfigErrors {
            diagnostics,
            source_text,
        }
    }

    /// A single-error value (used for I/O problems and the like).
    pub fn single(diagnostic: Diagnostic) -> Self {
        ConfigErrors {
            diagnostics: vec![diagnostic],
            source_text: None,
        }
    }

    /// Every diagnostic, errors and warnings, in source order.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Only the errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }

    /// The text the diagnostics' spans point into, when there was one.
    pub fn source_text(&self) -> Option<&str> {
        self.source_text.as_deref()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors().count();
        writeln!(
            f,
            "invalid CORS configuration: {n} error{}",
            if n == 1 { "" } else { "s" }
        )?;
        for d in &self.diagnostics {
            writeln!(f, "  {d}")?;
        }
        Ok(())
    }
}

/// Finds the closest candidate to `word` (edit distance ≤ 3), for "did you mean" hints.
///
/// ```
/// assert_eq!(corsguard::did_you_mean("allowed_origins", &["allow_origins", "max_age"]), Some("allow_origins"));
/// assert_eq!(corsguard::did_you_mean("zzz", &["allow_origins"]), None);
/// ```
pub fn did_you_mean<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    let w = word.to_ascii_lowercase();
    candidates
        .iter()
        .map(|c| (levenshtein(&w, &c.to_ascii_lowercase()), *c))
        .filter(|(d, c)| *d <= 3.min(c.len() / 2 + 1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The index agrees with the direct count at every offset, across block and line
    /// boundaries, with multi-byte characters and CRLF line ends.
    #[test]
    fn line_index_agrees_with_locate() {
        let long = format!("x: [{}]\n", "'https://é.example', ".repeat(20));
        let texts = [
            "",
            "\n",
            "a: 1\nbb: 2\n",
            "a: 1\r\nb: 'ü→😀'\r\n\n\nc: [x, y]",
            long.as_str(),
        ];
        for text in texts {
            let index = LineIndex::new(text);
            for start in
                (0..=text.len() + 2).filter(|&i| i > text.len() || text.is_char_boundary(i))
            {
                for end in [start, start + 1, start + 70] {
                    assert_eq!(
                        index.locate(text, start..end),
                        SourceSpan::locate(text, start..end),
                        "{text:?} {start}..{end}"
                    );
                }
            }
        }
    }
}
