//! `{regex: '…'}` entries: compiling the source within limits, and the text analysis behind
//! the `regex-unanchored`, `regex-unescaped-dot` and `regex-case-insensitive` diagnostics.
//!
//! The analysis scans the source text rather than a parsed `regex-syntax` AST on purpose:
//! the verdicts are pinned as they are, and an AST reads some sources differently from the
//! scan (a class opening with `]` such as `[^]|]`, whitespace and comments under `(?x)`,
//! `(?i)` or `.` inside such a class, an optional anchor such as `^?`), so switching would
//! change those verdicts. The `regex_text_analysis_verdicts_an_ast_would_change` test pins
//! each case.

use regex::{Regex, RegexBuilder};

use super::error;
use crate::Code;
use crate::diagnostic::Severity;
use crate::origin::PatternProblem;

/// Compiled-program size limit for regex entries, so a hostile configuration cannot exhaust
/// memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Longest accepted regex source text.
pub(super) const MAX_REGEX_LEN: usize = 4096;

/// Compiles the source (`shown` is its quoted form): at most [`MAX_REGEX_LEN`] bytes, not
/// blank, within the program size limit. The problem is a `regex-invalid` error.
pub(super) fn compile(input: &str, shown: &str) -> Result<Regex, PatternProblem> {
    if input.len() > MAX_REGEX_LEN {
        return Err(error(
            Code::RegexInvalid,
            format!(
                "origin regex `{shown}` is {} bytes long; at most {MAX_REGEX_LEN} are accepted",
                input.len()
            ),
            Some("list the origins explicitly, or split the regex into several entries".into()),
        ));
    }
    if input.trim().is_empty() {
        return Err(error(
            Code::RegexInvalid,
            "an origin regex is empty (it would match every origin)".into(),
            Some(r"write an anchored regex such as `^https://[a-z0-9-]+\.example\.com$`".into()),
        ));
    }
    RegexBuilder::new(input)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            error(
                Code::RegexInvalid,
                format!("origin regex `{shown}` does not compile"),
                Some(e.to_string()),
            )
        })
}

/// The `regex-unanchored` error, unless every branch is anchored at both ends.
pub(super) fn unanchored(input: &str, shown: &str) -> Option<PatternProblem> {
    if is_anchored(input) {
        return None;
    }
    let anchored = anchored_form(input);
    Some(error(
        Code::RegexUnanchored,
        format!(
            "origin regex `{shown}` is not anchored at both ends (`^…$`), so it also matches \
             any origin that merely contains a match, such as one ending in `.evil.example`"
        ),
        Some(format!("anchor it: `{anchored}`")),
    ))
}

/// The `regex-unescaped-dot` warning, with every such dot escaped in the hint.
pub(super) fn unescaped_dots(input: &str, shown: &str) -> Option<PatternProblem> {
    let dots = unescaped_host_dots(input);
    if dots.is_empty() {
        return None;
    }
    let mut escaped = String::with_capacity(input.len() + dots.len());
    for (i, c) in input.char_indices() {
        if dots.contains(&i) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    Some(PatternProblem {
        severity: Severity::Warning,
        code: Code::RegexUnescapedDot,
        message: format!(
            "origin regex `{shown}` has an unescaped `.` between host labels; it matches any \
             character, so look-alike hosts match too"
        ),
        hint: Some(format!("escape the dot: `{escaped}`")),
    })
}

/// The `regex-case-insensitive` warning; the hint shows the regex without `(?i)` when
/// removing it is enough.
pub(super) fn case_insensitive(input: &str, shown: &str) -> Option<PatternProblem> {
    if !has_case_insensitive_flag(input) {
        return None;
    }
    let without = input.replace("(?i)", "");
    let hint = if without != input && !has_case_insensitive_flag(&without) {
        format!("origins are always lower-case; drop the `i` flag: `{without}`")
    } else {
        "origins are always lower-case; drop the `i` flag".to_string()
    };
    Some(PatternProblem {
        severity: Severity::Warning,
        code: Code::RegexCaseInsensitive,
        message: format!(
            "origin regex `{shown}` matches case-insensitively; browsers only send lower-case \
             origins, and case-insensitive matching invites look-alike hosts"
        ),
        hint: Some(hint),
    })
}

/// Skips leading inline-flag groups such as `(?i)` or `(?x-s)` (not `(?i:…)`).
fn skip_flag_groups(s: &str) -> &str {
    let mut rest = s;
    while let Some(after) = rest.strip_prefix("(?") {
        let end = after
            .find(|c: char| !(c.is_ascii_alphabetic() || c == '-'))
            .unwrap_or(after.len());
        match after.get(end..).and_then(|r| r.strip_prefix(')')) {
            Some(r) => rest = r,
            None => break,
        }
    }
    rest
}

/// `true` when `s` ends with a `$` that is not escaped by a backslash.
fn ends_with_unescaped_dollar(s: &str) -> bool {
    match s.strip_suffix('$') {
        Some(before) => {
            let backslashes = before.bytes().rev().take_while(|b| *b == b'\\').count();
            backslashes % 2 == 0
        }
        None => false,
    }
}

/// Byte offsets of the `|` that separate top-level alternatives (outside groups and classes).
fn top_level_bars(s: &str) -> Vec<usize> {
    let mut bars = Vec::new();
    let mut depth = 0usize;
    let mut class_depth = 0usize;
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '[' => class_depth += 1,
            ']' if class_depth > 0 => class_depth -= 1,
            _ if class_depth > 0 => {}
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '|' if depth == 0 => bars.push(i),
            _ => {}
        }
    }
    bars
}

/// `true` when every top-level alternative starts with `^` (after inline flags) and ends with
/// an unescaped `$`.
pub(super) fn is_anchored(s: &str) -> bool {
    let bars = top_level_bars(s);
    let mut start = 0;
    let mut branches = Vec::with_capacity(bars.len() + 1);
    for b in bars {
        branches.push(s.get(start..b).unwrap_or(""));
        start = b + 1;
    }
    branches.push(s.get(start..).unwrap_or(""));
    branches.iter().enumerate().all(|(i, branch)| {
        let branch = if i == 0 {
            skip_flag_groups(branch)
        } else {
            branch
        };
        // `^?`, `^*` and `^{0,…}` make the anchor optional: the regex then matches
        // anywhere (`^?https://a\.com$` matches `xhttps://a.com`).
        let optional_anchor = matches!(branch.as_bytes().get(1), Some(b'?' | b'*' | b'{'));
        branch.starts_with('^') && !optional_anchor && ends_with_unescaped_dollar(branch)
    })
}

/// The anchored form `^…$` of a regex (wrapping a top-level alternation in a group).
fn anchored_form(s: &str) -> String {
    let body = skip_flag_groups(s);
    let flags = s.get(..s.len() - body.len()).unwrap_or("");
    let mut core = body.strip_prefix('^').unwrap_or(body);
    // An optional anchor (`^?`, `^*`) goes with it.
    core = core
        .strip_prefix('?')
        .or_else(|| core.strip_prefix('*'))
        .filter(|_| body.starts_with('^'))
        .unwrap_or(core);
    if ends_with_unescaped_dollar(core) {
        core = core.strip_suffix('$').unwrap_or(core);
    }
    if top_level_bars(core).is_empty() {
        format!("{flags}^{core}$")
    } else {
        format!("{flags}^(?:{core})$")
    }
}

/// Byte offsets of unescaped `.`s (outside character classes) that sit between host labels:
/// not followed by a quantifier, and next to a letter, digit or `-`.
fn unescaped_host_dots(s: &str) -> Vec<usize> {
    let mut dots = Vec::new();
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut class_depth = 0usize;
    let mut escaped = false;
    let is_label_char =
        |c: Option<&(usize, char)>| c.is_some_and(|(_, c)| c.is_ascii_alphanumeric() || *c == '-');
    for (k, (i, c)) in chars.iter().enumerate() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' => class_depth += 1,
            ']' if class_depth > 0 => class_depth -= 1,
            '.' if class_depth == 0 => {
                let next = chars.get(k + 1);
                let prev = k.checked_sub(1).and_then(|p| chars.get(p));
                let quantified = next.is_some_and(|(_, n)| matches!(n, '*' | '+' | '?' | '{'));
                if !quantified && (is_label_char(next) || is_label_char(prev)) {
                    dots.push(*i);
                }
            }
            _ => {}
        }
    }
    dots
}

/// `true` when the regex turns on case-insensitive matching (`(?i)`, `(?i:…)`, `(?xi)`…).
fn has_case_insensitive_flag(s: &str) -> bool {
    let mut rest = s;
    while let Some(pos) = rest.find("(?") {
        let before = rest.get(..pos).unwrap_or("");
        let escaped = before.bytes().rev().take_while(|b| *b == b'\\').count() % 2 == 1;
        let after = rest.get(pos + 2..).unwrap_or("");
        let flags_len = after
            .find(|c: char| !(c.is_ascii_alphabetic() || c == '-'))
            .unwrap_or(after.len());
        let flags = after.get(..flags_len).unwrap_or("");
        let on = flags.split('-').next().unwrap_or("");
        let terminated = after
            .get(flags_len..)
            .is_some_and(|r| r.starts_with(')') || r.starts_with(':'));
        if !escaped && terminated && on.contains('i') {
            return true;
        }
        rest = after;
    }
    false
}
