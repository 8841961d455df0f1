//! Parsing of configured allow-list entries (`https://app.example.com`, `https://*.example.com`,
//! `http://localhost:*`, `*`, `null`, `{regex: '^…$'}`) into [`OriginPattern`]s.
//!
//! Every problem is reported with a stable code, a message naming the value and, whenever a
//! corrected value exists, a hint that contains it verbatim. Independent problems of one value
//! (upper case *and* a trailing slash, say) are all reported, and every hint then shows the value
//! with all of them fixed.
//!
//! This file holds the entry points, the analysis types and the diagnostic helpers. `scheme`
//! splits an entry into scheme, authority and the parts an origin never has; `host`, `port`
//! and `ip` check the host and port; `regex_entry` analyses the source of `{regex: '…'}`
//! entries.

mod host;
mod ip;
mod port;
mod regex_entry;
mod scheme;
#[cfg(test)]
mod tests;

use super::{MAX_ORIGIN_LEN, OriginPattern, PatternProblem};
use crate::Code;
use crate::diagnostic::Severity;

/// How much of an over-long value is quoted in a message.
const QUOTE_LIMIT: usize = 80;

/// Parses one configured allow-list string.
///
/// Returns the pattern when it is usable, or `None` together with at least one
/// [`Severity::Error`] problem. `null` is returned as [`OriginPattern::Null`]: whether it is
/// permitted is the policy validator's decision.
pub(crate) fn parse_pattern(input: &str) -> (Option<OriginPattern>, Vec<PatternProblem>) {
    let shown = quote(input);
    let analysis = analyze(input, &shown);
    let corrected = analysis.corrected();
    let problems = analysis
        .found
        .into_iter()
        .map(|f| f.into_problem(corrected.as_deref()))
        .collect::<Vec<_>>();
    if problems.is_empty() {
        (analysis.pattern, problems)
    } else {
        (None, problems)
    }
}

/// Parses the source of a `{regex: '…'}` allow-list entry.
///
/// The regex must compile (within a 1 MiB program size limit) and be anchored at both ends
/// (`^…$`; a leading inline-flags group such as `(?i)` may precede the `^`, and every branch
/// of a top-level alternation must be anchored). Unescaped dots between host labels and
/// case-insensitive matching are reported as warnings; the entry is still returned.
pub(crate) fn parse_regex_entry(input: &str) -> (Option<OriginPattern>, Vec<PatternProblem>) {
    let shown = quote(input);
    let regex = match regex_entry::compile(input, &shown) {
        Ok(regex) => regex,
        Err(problem) => return (None, vec![problem]),
    };
    let problems = [
        regex_entry::unanchored(input, &shown),
        regex_entry::unescaped_dots(input, &shown),
        regex_entry::case_insensitive(input, &shown),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>();
    if problems.iter().any(|p| p.severity == Severity::Error) {
        (None, problems)
    } else {
        (Some(OriginPattern::Regex(regex)), problems)
    }
}

/// A problem found during analysis, before its hint is finalised.
#[derive(Debug)]
struct Found {
    /// Stable code.
    code: Code,
    /// What is wrong, naming the value.
    message: String,
    /// `true` when the corrected value no longer has this problem.
    fixable: bool,
    /// What to do; followed by the corrected value when there is one.
    advice: String,
}

impl Found {
    /// A problem that the corrected value fixes.
    fn fixable(code: Code, message: String, advice: impl Into<String>) -> Found {
        Found {
            code,
            message,
            fixable: true,
            advice: advice.into(),
        }
    }

    /// A problem without a mechanical fix.
    fn fatal(code: Code, message: String, advice: impl Into<String>) -> Found {
        Found {
            code,
            message,
            fixable: false,
            advice: advice.into(),
        }
    }

    /// Turns the finding into a [`PatternProblem`], appending the corrected value to the hint
    /// when the problem is fixable and a corrected value exists.
    fn into_problem(self, corrected: Option<&str>) -> PatternProblem {
        let hint = match corrected {
            Some(c) if self.fixable => format!("{}: `{c}`", self.advice),
            _ => self.advice,
        };
        error(self.code, self.message, Some(hint))
    }
}

/// The outcome of analysing one entry.
#[derive(Debug, Default)]
struct Analysis {
    /// Problems, in the order found.
    found: Vec<Found>,
    /// The pattern with every fixable problem fixed (`None` when some problem is not fixable).
    fixed: Option<OriginPattern>,
    /// The pattern, when there is no problem at all.
    pattern: Option<OriginPattern>,
}

impl Analysis {
    /// A clean result.
    fn ok(pattern: OriginPattern) -> Analysis {
        Analysis {
            found: Vec::new(),
            fixed: None,
            pattern: Some(pattern),
        }
    }

    /// A result with a single unfixable problem.
    fn fatal(code: Code, message: String, advice: impl Into<String>) -> Analysis {
        Analysis {
            found: vec![Found::fatal(code, message, advice)],
            fixed: None,
            pattern: None,
        }
    }

    /// A result from findings and the fully fixed pattern (when every finding is fixable).
    /// A code found twice (upper case in the scheme and in the host) is reported once.
    fn from_findings(mut found: Vec<Found>, fixed: Option<OriginPattern>) -> Analysis {
        let mut unique: Vec<Found> = Vec::with_capacity(found.len());
        for f in found.drain(..) {
            match unique.iter_mut().find(|u| u.code == f.code) {
                Some(u) => u.fixable &= f.fixable,
                None => unique.push(f),
            }
        }
        let found = unique;
        if found.is_empty() {
            Analysis {
                found,
                fixed: None,
                pattern: fixed,
            }
        } else {
            let all_fixable = found.iter().all(|f| f.fixable);
            Analysis {
                found,
                fixed: if all_fixable { fixed } else { None },
                pattern: None,
            }
        }
    }

    /// Prepends a fixable finding (a problem the caller already corrected in its input).
    fn with_prefix_finding(mut self, finding: Found) -> Analysis {
        let fixed = self.fixed.take().or_else(|| self.pattern.take());
        self.found.insert(0, finding);
        Analysis::from_findings(self.found, fixed)
    }

    /// The canonical text of the fully corrected value, when every problem is fixable.
    fn corrected(&self) -> Option<String> {
        self.fixed.as_ref().map(OriginPattern::canonical)
    }
}

/// Builds an error-severity problem.
fn error(code: Code, message: String, hint: Option<String>) -> PatternProblem {
    PatternProblem {
        severity: Severity::Error,
        code,
        message,
        hint,
    }
}

/// The value as shown in messages: control and invisible characters escaped, long values
/// shortened.
fn quote(input: &str) -> String {
    let mut out = String::new();
    for (n, c) in input.chars().enumerate() {
        if n == QUOTE_LIMIT {
            out.push('…');
            break;
        }
        // Escape control and invisible characters, but not quotes and backslashes.
        if matches!(c, '\\' | '"' | '\'') {
            out.push(c);
        } else {
            out.extend(c.escape_debug());
        }
    }
    out
}

/// Analyses one entry; `shown` is the original value, quoted for messages.
fn analyze(input: &str, shown: &str) -> Analysis {
    if input.len() > MAX_ORIGIN_LEN {
        return Analysis::fatal(
            Code::OriginTooLong,
            format!(
                "origin `{shown}` is {} bytes long; no origin is longer than {MAX_ORIGIN_LEN} bytes",
                input.len()
            ),
            "check the value: a serialized origin is `scheme://host[:port]`, with a host of at most 253 bytes",
        );
    }
    if input.is_empty() {
        return Analysis::fatal(
            Code::OriginEmpty,
            "an allowed origin is empty".into(),
            "write an origin such as `https://app.example.com`, or remove the entry",
        );
    }
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Analysis::fatal(
            Code::OriginEmpty,
            format!("origin `{shown}` consists only of whitespace"),
            "write an origin such as `https://app.example.com`, or remove the entry",
        );
    }
    if trimmed.contains(char::is_whitespace) || trimmed.contains(',') {
        return several_in_one(trimmed, shown);
    }
    if trimmed.len() != input.len() {
        return analyze(trimmed, shown).with_prefix_finding(Found::fixable(
            Code::OriginWhitespace,
            format!("origin `{shown}` has leading or trailing whitespace"),
            "remove the whitespace",
        ));
    }
    match input {
        "*" => return Analysis::ok(OriginPattern::Any),
        "null" => return Analysis::ok(OriginPattern::Null),
        _ => {}
    }
    if input.eq_ignore_ascii_case("null") {
        return Analysis::from_findings(
            vec![Found::fixable(
                Code::OriginUppercase,
                format!("origin `{shown}` is not lower-case; browsers send exactly `null`"),
                "write it in lower case",
            )],
            Some(OriginPattern::Null),
        );
    }
    match input.find("://") {
        Some(i) => match (input.get(..i), input.get(i + 3..)) {
            (Some(scheme), Some(rest)) => scheme::analyze_with_scheme(scheme, rest, shown),
            _ => Analysis::fatal(
                Code::OriginInvalidScheme,
                format!("origin `{shown}` has no valid scheme"),
                "write it as `scheme://host[:port]`",
            ),
        },
        None => scheme::analyze_schemeless(input, shown),
    }
}

/// A value with interior whitespace or commas: several origins in one string, or garbage.
fn several_in_one(trimmed: &str, shown: &str) -> Analysis {
    let parts: Vec<&str> = trimmed
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|p| !p.is_empty())
        .collect();
    let has_space = trimmed.contains(char::is_whitespace);
    let code = if has_space {
        Code::OriginWhitespace
    } else {
        Code::OriginInvalidHost
    };
    if parts.len() > 1 && parts.iter().all(|p| p.contains("://")) {
        let list = parts
            .iter()
            .map(|p| format!("`{}`", quote(p)))
            .collect::<Vec<_>>()
            .join(", ");
        Analysis::fatal(
            code,
            format!("origin `{shown}` looks like several origins in one entry"),
            format!("list each origin as a separate entry: {list}"),
        )
    } else if has_space {
        Analysis::fatal(
            code,
            format!("origin `{shown}` contains whitespace"),
            "a serialized origin contains no whitespace; remove it",
        )
    } else {
        Analysis::fatal(
            code,
            format!("origin `{shown}` contains a comma"),
            "a host cannot contain `,`; list each origin as a separate entry",
        )
    }
}
