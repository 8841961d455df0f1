//! Configuration diagnostics: every problem found while loading a policy, with a stable code,
//! a location (config path, source span, env var), a message and a fix hint.
//!
//! The library stays renderer-free: the CLI turns these into rustc-style reports.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// How serious a [`Diagnostic`] is.
///
/// ```
/// use corsguard::Severity;
/// assert!(Severity::Error > Severity::Warning);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
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
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable, kebab-case identifier such as `origin-trailing-slash`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// How to fix it (often the corrected value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Where.
    pub location: Location,
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
