//! Parsing of configured allow-list entries (`https://app.example.com`, `https://*.example.com`,
//! `http://localhost:*`, `*`, `null`, `{regex: '^…$'}`) into [`OriginPattern`]s.
//!
//! Every problem is reported with a stable code, a message naming the value and, whenever a
//! corrected value exists, a hint that contains it verbatim. Independent problems of one value
//! (upper case *and* a trailing slash, say) are all reported, and every hint then shows the value
//! with all of them fixed.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use idna::AsciiDenyList;
use regex::RegexBuilder;

use super::{
    HostPattern, MAX_ORIGIN_LEN, OriginPattern, PatternProblem, PortPattern, is_loopback_host,
};
use crate::diagnostic::Severity;

/// Longest accepted scheme (RFC 3986 sets no limit; 64 covers every real one).
const MAX_SCHEME_LEN: usize = 64;
/// Longest domain name (in its ASCII form).
const MAX_HOST_LEN: usize = 253;
/// Longest DNS label.
const MAX_LABEL_LEN: usize = 63;
/// Compiled-program size limit for regex entries, so a hostile configuration cannot exhaust
/// memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// Longest accepted regex source text.
const MAX_REGEX_LEN: usize = 4096;
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
    let mut problems = Vec::new();
    if input.len() > MAX_REGEX_LEN {
        problems.push(error(
            "regex-invalid",
            format!(
                "origin regex `{shown}` is {} bytes long; at most {MAX_REGEX_LEN} are accepted",
                input.len()
            ),
            Some("list the origins explicitly, or split the regex into several entries".into()),
        ));
        return (None, problems);
    }
    if input.trim().is_empty() {
        problems.push(error(
            "regex-invalid",
            "an origin regex is empty (it would match every origin)".into(),
            Some(r"write an anchored regex such as `^https://[a-z0-9-]+\.example\.com$`".into()),
        ));
        return (None, problems);
    }
    let regex = match RegexBuilder::new(input)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            problems.push(error(
                "regex-invalid",
                format!("origin regex `{shown}` does not compile"),
                Some(e.to_string()),
            ));
            return (None, problems);
        }
    };
    if !is_anchored(input) {
        let anchored = anchored_form(input);
        problems.push(error(
            "regex-unanchored",
            format!(
                "origin regex `{shown}` is not anchored at both ends (`^…$`), so it also matches \
                 any origin that merely contains a match, such as one ending in `.evil.example`"
            ),
            Some(format!("anchor it: `{anchored}`")),
        ));
    }
    let dots = unescaped_host_dots(input);
    if !dots.is_empty() {
        let mut escaped = String::with_capacity(input.len() + dots.len());
        for (i, c) in input.char_indices() {
            if dots.contains(&i) {
                escaped.push('\\');
            }
            escaped.push(c);
        }
        problems.push(PatternProblem {
            severity: Severity::Warning,
            code: "regex-unescaped-dot",
            message: format!(
                "origin regex `{shown}` has an unescaped `.` between host labels; it matches any \
                 character, so look-alike hosts match too"
            ),
            hint: Some(format!("escape the dot: `{escaped}`")),
        });
    }
    if has_case_insensitive_flag(input) {
        let without = input.replace("(?i)", "");
        let hint = if without != input && !has_case_insensitive_flag(&without) {
            format!("origins are always lower-case; drop the `i` flag: `{without}`")
        } else {
            "origins are always lower-case; drop the `i` flag".to_string()
        };
        problems.push(PatternProblem {
            severity: Severity::Warning,
            code: "regex-case-insensitive",
            message: format!(
                "origin regex `{shown}` matches case-insensitively; browsers only send lower-case \
                 origins, and case-insensitive matching invites look-alike hosts"
            ),
            hint: Some(hint),
        });
    }
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
    code: &'static str,
    /// What is wrong, naming the value.
    message: String,
    /// `true` when the corrected value no longer has this problem.
    fixable: bool,
    /// What to do; followed by the corrected value when there is one.
    advice: String,
}

impl Found {
    /// A problem that the corrected value fixes.
    fn fixable(code: &'static str, message: String, advice: impl Into<String>) -> Found {
        Found {
            code,
            message,
            fixable: true,
            advice: advice.into(),
        }
    }

    /// A problem without a mechanical fix.
    fn fatal(code: &'static str, message: String, advice: impl Into<String>) -> Found {
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
    fn fatal(code: &'static str, message: String, advice: impl Into<String>) -> Analysis {
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
fn error(code: &'static str, message: String, hint: Option<String>) -> PatternProblem {
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

/// The default port of the schemes that have one (WHATWG URL "special schemes").
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

/// `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )` (RFC 3986 §3.1), either case.
fn is_scheme_syntax(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// Analyses one entry; `shown` is the original value, quoted for messages.
fn analyze(input: &str, shown: &str) -> Analysis {
    if input.len() > MAX_ORIGIN_LEN {
        return Analysis::fatal(
            "origin-too-long",
            format!(
                "origin `{shown}` is {} bytes long; no origin is longer than {MAX_ORIGIN_LEN} bytes",
                input.len()
            ),
            "check the value: a serialized origin is `scheme://host[:port]`, with a host of at most 253 bytes",
        );
    }
    if input.is_empty() {
        return Analysis::fatal(
            "origin-empty",
            "an allowed origin is empty".into(),
            "write an origin such as `https://app.example.com`, or remove the entry",
        );
    }
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Analysis::fatal(
            "origin-empty",
            format!("origin `{shown}` consists only of whitespace"),
            "write an origin such as `https://app.example.com`, or remove the entry",
        );
    }
    if trimmed.contains(char::is_whitespace) || trimmed.contains(',') {
        return several_in_one(trimmed, shown);
    }
    if trimmed.len() != input.len() {
        return analyze(trimmed, shown).with_prefix_finding(Found::fixable(
            "origin-whitespace",
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
                "origin-uppercase",
                format!("origin `{shown}` is not lower-case; browsers send exactly `null`"),
                "write it in lower case",
            )],
            Some(OriginPattern::Null),
        );
    }
    match input.find("://") {
        Some(i) => match (input.get(..i), input.get(i + 3..)) {
            (Some(scheme), Some(rest)) => analyze_with_scheme(scheme, rest, shown),
            _ => Analysis::fatal(
                "origin-invalid-scheme",
                format!("origin `{shown}` has no valid scheme"),
                "write it as `scheme://host[:port]`",
            ),
        },
        None => analyze_schemeless(input, shown),
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
        "origin-whitespace"
    } else {
        "origin-invalid-host"
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

/// An entry without `://`: a missing scheme (`example.com`, `localhost:3000`,
/// `//example.com`) or a malformed separator (`https:example.com`, `https:/example.com`).
fn analyze_schemeless(input: &str, shown: &str) -> Analysis {
    let looks_like_port = |r: &str| {
        r.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'*')
    };
    let bad_separator = |s: &str, r: &str| {
        (
            Found::fixable(
                "origin-invalid-scheme",
                format!("origin `{shown}`: the scheme must be followed by `://`"),
                "write it as `scheme://host[:port]`",
            ),
            format!("{s}://{}", r.trim_start_matches(['/', '\\'])),
        )
    };
    let missing_colon = input
        .split_once("//")
        .filter(|(s, _)| default_port(&s.to_ascii_lowercase()).is_some());
    let (finding, candidate) = match (missing_colon, input.split_once(':')) {
        // `https//example.com`: a special scheme whose colon is missing.
        (Some((s, r)), _) => bad_separator(s, r),
        // `https:example.com`, `https:/example.com`, `mailto:x`.
        (None, Some((s, r))) if is_scheme_syntax(s) && !looks_like_port(r) => {
            let lower = s.to_ascii_lowercase();
            if default_port(&lower).is_none() {
                return Analysis::fatal(
                    "origin-invalid-scheme",
                    format!("origin `{shown}` is not of the form `scheme://host[:port]`"),
                    "write it as `scheme://host[:port]`, e.g. `https://app.example.com`",
                );
            }
            bad_separator(s, r)
        }
        _ => {
            let rest = input.strip_prefix("//").unwrap_or(input);
            let host_end = rest.find([':', '/', '?', '#']).unwrap_or(rest.len());
            let host = rest.get(..host_end).unwrap_or(rest);
            let scheme = if is_loopback_host(host) {
                "http"
            } else {
                "https"
            };
            (
                Found::fixable(
                    "origin-missing-scheme",
                    format!("origin `{shown}` has no scheme; browsers always send one"),
                    "add the scheme",
                ),
                format!("{scheme}://{rest}"),
            )
        }
    };
    let sub = analyze(&candidate, shown);
    // A candidate that is too long says nothing about the original value.
    if sub.found.iter().any(|f| f.code == "origin-too-long") {
        return Analysis::fatal(
            finding.code,
            finding.message,
            "write it as `scheme://host[:port]`",
        );
    }
    sub.with_prefix_finding(finding)
}

/// An entry of the form `scheme://rest`.
fn analyze_with_scheme(scheme: &str, rest: &str, shown: &str) -> Analysis {
    let mut found = Vec::new();
    let mut fatal = false;

    // Scheme.
    let scheme_lower = scheme.to_ascii_lowercase();
    if scheme.is_empty() {
        found.push(Found::fixable(
            "origin-missing-scheme",
            format!("origin `{shown}` has an empty scheme"),
            "add the scheme",
        ));
    } else if !is_scheme_syntax(scheme) || scheme.len() > MAX_SCHEME_LEN {
        return Analysis::fatal(
            "origin-invalid-scheme",
            format!("origin `{shown}` has an invalid scheme `{}`", quote(scheme)),
            "a scheme is a letter followed by letters, digits, `+`, `-` or `.` (at most 64), such as `https`",
        );
    } else if scheme_lower == "file" {
        return Analysis::fatal(
            "origin-file-scheme",
            format!("origin `{shown}` uses the `file` scheme"),
            "pages loaded from `file:` URLs send `Origin: null`; serve them over http(s) instead",
        );
    } else if scheme != scheme_lower {
        found.push(Found::fixable(
            "origin-uppercase",
            format!(
                "origin `{shown}` has upper-case letters; browsers send the scheme and host in \
                 lower case"
            ),
            "write it in lower case",
        ));
    }
    let scheme = if scheme.is_empty() {
        "https".to_string()
    } else {
        scheme_lower
    };

    // Fragment, query, path.
    let (before_fragment, fragment) = match rest.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (rest, None),
    };
    let (before_query, query) = match before_fragment.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (before_fragment, None),
    };
    let (authority, path) = match before_query.find('/') {
        Some(i) => (
            before_query.get(..i).unwrap_or(before_query),
            before_query.get(i..),
        ),
        None => (before_query, None),
    };
    match path {
        Some("/") => found.push(Found::fixable(
            "origin-trailing-slash",
            format!("origin `{shown}` ends with a slash; a serialized origin has no path"),
            "remove the trailing slash",
        )),
        Some(p) => found.push(Found::fixable(
            "origin-path",
            format!(
                "origin `{shown}` has a path `{}`; a serialized origin has none",
                quote(p)
            ),
            "remove the path",
        )),
        None => {}
    }
    if query.is_some() {
        found.push(Found::fixable(
            "origin-query",
            format!("origin `{shown}` has a query (`?…`); a serialized origin has none"),
            "remove the query",
        ));
    }
    if fragment.is_some() {
        found.push(Found::fixable(
            "origin-fragment",
            format!("origin `{shown}` has a fragment (`#…`); a serialized origin has none"),
            "remove the fragment",
        ));
    }

    // Userinfo.
    let authority = match authority.rsplit_once('@') {
        Some((_, after)) => {
            found.push(Found::fixable(
                "origin-userinfo",
                format!(
                    "origin `{shown}` has user information (`…@`); a serialized origin has none"
                ),
                "remove the user information",
            ));
            after
        }
        None => authority,
    };

    // Host and port.
    let (host_text, port_text) = if authority.starts_with('[') {
        match authority.find(']') {
            Some(i) => {
                // `]` is ASCII, so `i + 1` is a character boundary.
                let (h, after) = authority.split_at_checked(i + 1).unwrap_or((authority, ""));
                if after.is_empty() {
                    (h, None)
                } else if let Some(p) = after.strip_prefix(':') {
                    (h, Some(p))
                } else {
                    return Analysis::fatal(
                        "origin-invalid-host",
                        format!(
                            "origin `{shown}` has unexpected text `{}` after its IPv6 address",
                            quote(after)
                        ),
                        "write it as `scheme://[ipv6]:port`",
                    );
                }
            }
            None => {
                return Analysis::fatal(
                    "origin-invalid-ip",
                    format!("origin `{shown}` has an unclosed `[`"),
                    "write an IPv6 host in brackets, e.g. `http://[::1]:8080`",
                );
            }
        }
    } else if authority.contains('[') {
        return if authority.starts_with("*.[") {
            Analysis::fatal(
                "origin-wildcard-position",
                format!("origin `{shown}` puts `*.` in front of an IP address"),
                "IP addresses have no subdomains; list the address itself",
            )
        } else {
            Analysis::fatal(
                "origin-invalid-host",
                format!("origin `{shown}` has a `[` inside its host"),
                "write it as `scheme://host[:port]`; IPv6 hosts go in brackets",
            )
        };
    } else if authority.matches(':').count() > 1 {
        return match authority.parse::<Ipv6Addr>() {
            Ok(addr) => {
                found.push(Found::fixable(
                    "origin-invalid-ip",
                    format!("origin `{shown}` has an IPv6 address without brackets"),
                    "write IPv6 hosts in brackets",
                ));
                let host = HostPattern::Exact(format!("[{}]", serialize_ipv6(addr)));
                Analysis::from_findings(found, Some(build(scheme, host, PortPattern::Default)))
            }
            Err(_) => Analysis::fatal(
                "origin-invalid-host",
                format!("origin `{shown}` has several `:` in its host"),
                "write it as `scheme://host[:port]`; IPv6 hosts go in brackets",
            ),
        };
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };

    let host = analyze_host(host_text, shown, &mut found);
    let port = analyze_port(port_text, &scheme, shown, &mut found);
    fatal |= found.iter().any(|f| !f.fixable);
    match (host, port) {
        (Some(host), Some(port)) if !fatal => {
            Analysis::from_findings(found, Some(build(scheme, host, port)))
        }
        _ => Analysis::from_findings(found, None),
    }
}

/// Assembles a pattern from its validated, canonical parts.
fn build(scheme: String, host: HostPattern, port: PortPattern) -> OriginPattern {
    match (host, port) {
        (HostPattern::Exact(h), PortPattern::Default) => {
            OriginPattern::Exact(format!("{scheme}://{h}"))
        }
        (HostPattern::Exact(h), PortPattern::Exact(p)) => {
            OriginPattern::Exact(format!("{scheme}://{h}:{p}"))
        }
        (host, port) => OriginPattern::Wildcard { scheme, host, port },
    }
}

/// Validates the port text (after the `:`), pushing problems. `None` when it cannot be fixed.
fn analyze_port(
    port: Option<&str>,
    scheme: &str,
    shown: &str,
    found: &mut Vec<Found>,
) -> Option<PortPattern> {
    let Some(text) = port else {
        return Some(PortPattern::Default);
    };
    if text.is_empty() {
        found.push(Found::fixable(
            "origin-port-range",
            format!("origin `{shown}` ends with `:` but has no port"),
            "remove the colon",
        ));
        return Some(PortPattern::Default);
    }
    if text == "*" {
        return Some(PortPattern::Any);
    }
    if text.contains('*') {
        found.push(Found::fatal(
            "origin-wildcard-position",
            format!(
                "origin `{shown}` has a partial port wildcard `{}`",
                quote(text)
            ),
            "the port is either a number or `*` (any port, including none)",
        ));
        return None;
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        found.push(Found::fatal(
            "origin-port-range",
            format!("origin `{shown}` has an invalid port `{}`", quote(text)),
            "a port is a decimal number from 1 to 65535, or `*`",
        ));
        return None;
    }
    let digits = text.trim_start_matches('0');
    let value = if digits.len() > 5 {
        None
    } else {
        digits
            .parse::<u32>()
            .ok()
            .and_then(|v| u16::try_from(v).ok())
            .filter(|v| *v != 0)
    };
    let Some(value) = value else {
        found.push(Found::fatal(
            "origin-port-range",
            format!(
                "origin `{shown}` has port `{}`, outside 1–65535",
                quote(text)
            ),
            "a port is a decimal number from 1 to 65535, or `*`",
        ));
        return None;
    };
    if digits.len() != text.len() {
        found.push(Found::fixable(
            "origin-port-range",
            format!("origin `{shown}` has a port with leading zeros `{text}`"),
            "write the port without leading zeros",
        ));
    }
    if default_port(scheme) == Some(value) {
        found.push(Found::fixable(
            "origin-default-port",
            format!(
                "origin `{shown}` spells out {scheme}'s default port {value}; browsers omit it, \
                 so this entry would never match"
            ),
            "remove the port",
        ));
        return Some(PortPattern::Default);
    }
    Some(PortPattern::Exact(value))
}

/// Validates the host text (between `://` and the port), pushing problems. Returns the
/// canonical host pattern, or `None` when it cannot be fixed.
fn analyze_host(host: &str, shown: &str, found: &mut Vec<Found>) -> Option<HostPattern> {
    if host.is_empty() {
        found.push(Found::fatal(
            "origin-invalid-host",
            format!("origin `{shown}` has no host"),
            "write it as `scheme://host[:port]`",
        ));
        return None;
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return analyze_ipv6(host, inner, shown, found);
    }

    // Wildcards.
    let (subdomains, base) = if host == "*" {
        found.push(Found::fatal(
            "origin-wildcard-position",
            format!("origin `{shown}` has `*` as its whole host"),
            "write `*` alone to allow every origin, or name the parent domain, e.g. `https://*.example.com`",
        ));
        return None;
    } else if let Some(base) = host.strip_prefix("*.").filter(|b| !b.contains('*')) {
        (true, base)
    } else if let Some(base) = host
        .trim_start_matches('*')
        .strip_prefix('.')
        .filter(|b| host.starts_with("**") && !b.contains('*'))
    {
        found.push(Found::fixable(
            "origin-wildcard-position",
            format!("origin `{shown}` starts with `**.`"),
            "a single `*.` already stands for one or more labels",
        ));
        (true, base)
    } else if host.contains('*') {
        let advice = if host.starts_with("*.*.") {
            "a single leading `*.` already stands for one or more labels, e.g. `*.example.com`"
        } else if host.starts_with('*') {
            "`*` must be a whole label: `*.example.com` matches the subdomains of `example.com` \
             (list `example.com` separately for the apex)"
        } else {
            "`*` is only allowed as the whole first label (`*.example.com`) or as the whole port \
             (`:*`); list the other hosts separately, or use a `{regex: '^…$'}` entry"
        };
        found.push(Found::fatal(
            "origin-wildcard-position",
            format!("origin `{shown}` has a `*` in an unsupported position"),
            advice,
        ));
        return None;
    } else {
        (false, host)
    };
    if base.is_empty() {
        found.push(Found::fatal(
            "origin-invalid-host",
            format!("origin `{shown}` has nothing after `*.`"),
            "name the parent domain, e.g. `*.example.com`",
        ));
        return None;
    }

    // Case and Unicode.
    if base.bytes().any(|b| b.is_ascii_uppercase()) {
        found.push(Found::fixable(
            "origin-uppercase",
            format!(
                "origin `{shown}` has upper-case letters; browsers send the scheme and host in \
                 lower case"
            ),
            "write it in lower case",
        ));
    }
    let ascii = if base.is_ascii() {
        base.to_ascii_lowercase()
    } else {
        match idna::domain_to_ascii_cow(base.as_bytes(), AsciiDenyList::URL) {
            Ok(a) => {
                let message = if a.split('.').any(|l| l.starts_with("xn--"))
                    || base.split('.').all(|l| !l.is_ascii())
                {
                    format!(
                        "origin `{shown}` has a Unicode host; browsers send its punycode (ASCII) \
                         form"
                    )
                } else {
                    format!(
                        "origin `{shown}` has non-ASCII characters in its host (invisible or \
                         full-width characters, which browsers remove or map to ASCII)"
                    )
                };
                found.push(Found::fixable(
                    "origin-unicode-host",
                    message,
                    "write the ASCII (punycode) form",
                ));
                a.into_owned()
            }
            Err(_) => {
                found.push(Found::fatal(
                    "origin-invalid-host",
                    format!("origin `{shown}` has a host that is not a valid internationalized domain name"),
                    "check the host for stray characters",
                ));
                return None;
            }
        }
    };

    if let Some(bad) = ascii
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')))
    {
        found.push(Found::fatal(
            "origin-invalid-host",
            format!(
                "origin `{shown}` has the character `{}` in its host",
                bad.escape_debug()
            ),
            "a host consists of letters, digits, `-`, `_` and `.`",
        ));
        return None;
    }

    // IPv4 (a host whose last label is a number).
    if ends_in_number(&ascii) {
        if subdomains {
            found.push(Found::fatal(
                "origin-wildcard-position",
                format!("origin `{shown}` puts `*.` in front of an IP address"),
                "IP addresses have no subdomains; list the address itself",
            ));
            return None;
        }
        if ascii
            .parse::<Ipv4Addr>()
            .is_ok_and(|ip| ip.to_string() == ascii)
        {
            return Some(HostPattern::Exact(ascii));
        }
        return match whatwg_ipv4(&ascii) {
            Some(ip) => {
                found.push(Found::fixable(
                    "origin-invalid-ip",
                    format!(
                        "origin `{shown}` has an IPv4 address not written as a dotted quad; \
                         browsers send the dotted-quad form"
                    ),
                    "write the dotted-quad form",
                ));
                Some(HostPattern::Exact(ip.to_string()))
            }
            None => {
                found.push(Found::fatal(
                    "origin-invalid-ip",
                    format!("origin `{shown}` has a host that ends in a number but is not an IPv4 address"),
                    "write an IPv4 address as four decimal numbers 0–255 (`192.0.2.1`), or a domain whose last label is not numeric",
                ));
                None
            }
        };
    }

    // Domain name.
    let limit = if subdomains {
        MAX_HOST_LEN - 2
    } else {
        MAX_HOST_LEN
    };
    if ascii.len() > limit {
        found.push(Found::fatal(
            "origin-invalid-host",
            format!(
                "origin `{shown}` has a host of {} bytes; a domain name has at most {MAX_HOST_LEN}",
                ascii.len()
            ),
            "check the host",
        ));
        return None;
    }
    let labels = ascii.strip_suffix('.').unwrap_or(&ascii);
    if labels.split('.').any(str::is_empty) {
        found.push(Found::fatal(
            "origin-invalid-host",
            format!("origin `{shown}` has an empty label (`..`, or a leading or doubled trailing dot) in its host"),
            "remove the extra dot",
        ));
        return None;
    }
    if labels.split('.').any(|l| l.len() > MAX_LABEL_LEN) {
        found.push(Found::fatal(
            "origin-invalid-host",
            format!("origin `{shown}` has a host label longer than {MAX_LABEL_LEN} bytes"),
            "check the host",
        ));
        return None;
    }
    for label in labels.split('.').filter(|l| l.starts_with("xn--")) {
        let valid = idna::domain_to_ascii_cow(label.as_bytes(), AsciiDenyList::URL)
            .is_ok_and(|a| a == label);
        if !valid {
            found.push(Found::fatal(
                "origin-invalid-punycode",
                format!(
                    "origin `{shown}` has a label `{}` that is not valid punycode",
                    quote(label)
                ),
                "write the Unicode form, or re-encode it with an IDNA tool",
            ));
            return None;
        }
    }
    Some(if subdomains {
        HostPattern::Subdomains(ascii)
    } else {
        HostPattern::Exact(ascii)
    })
}

/// Validates a bracketed IPv6 host (`inner` is the text between the brackets).
fn analyze_ipv6(
    host: &str,
    inner: &str,
    shown: &str,
    found: &mut Vec<Found>,
) -> Option<HostPattern> {
    if inner.contains('*') {
        found.push(Found::fatal(
            "origin-wildcard-position",
            format!("origin `{shown}` has a `*` inside an IPv6 address"),
            "IP addresses cannot be wildcarded; list each address",
        ));
        return None;
    }
    let (address, zone) = match inner.split_once('%') {
        Some((a, z)) => (a, Some(z)),
        None => (inner, None),
    };
    let Ok(ip) = address.parse::<Ipv6Addr>() else {
        found.push(Found::fatal(
            "origin-invalid-ip",
            format!("origin `{shown}` has an invalid IPv6 address"),
            "write an IPv6 address in brackets, e.g. `http://[::1]:8080`",
        ));
        return None;
    };
    let canonical = format!("[{}]", serialize_ipv6(ip));
    if zone.is_some() {
        found.push(Found::fixable(
            "origin-invalid-ip",
            format!("origin `{shown}` has an IPv6 zone identifier; origins never carry one"),
            "remove the zone",
        ));
    } else if canonical != host {
        if host.to_ascii_lowercase() == canonical {
            found.push(Found::fixable(
                "origin-uppercase",
                format!("origin `{shown}` has upper-case hex digits; browsers send lower case"),
                "write it in lower case",
            ));
        } else {
            found.push(Found::fixable(
                "origin-invalid-ip",
                format!(
                    "origin `{shown}` has an IPv6 address not in canonical (RFC 5952) form; \
                     browsers send the canonical form"
                ),
                "write the canonical form",
            ));
        }
    }
    Some(HostPattern::Exact(canonical))
}

/// WHATWG URL "ends in a number": the last label (ignoring one trailing dot) is all digits or
/// a `0x` hexadecimal number, so the host must be an IPv4 address.
fn ends_in_number(host: &str) -> bool {
    let h = host.strip_suffix('.').unwrap_or(host);
    let last = h.rsplit('.').next().unwrap_or(h);
    (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()))
        || parse_ipv4_number(last).is_some()
}

/// WHATWG URL IPv4 number: decimal, `0x` hexadecimal, or `0`-prefixed octal.
fn parse_ipv4_number(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) =
        if let Some(h) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (h, 16)
        } else if part.len() > 1 {
            match part.strip_prefix('0') {
                Some(o) => (o, 8),
                None => (part, 10),
            }
        } else {
            (part, 10)
        };
    if digits.is_empty() {
        return Some(0);
    }
    if !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// The WHATWG URL IPv4 parser (`127.1`, `0x7f.0.0.1`, `2130706433`, `0177.0.0.1`), which is
/// what a browser would turn such a host into.
fn whatwg_ipv4(host: &str) -> Option<Ipv4Addr> {
    let h = host.strip_suffix('.').unwrap_or(host);
    let mut numbers = Vec::with_capacity(4);
    for part in h.split('.') {
        if numbers.len() == 4 {
            return None;
        }
        numbers.push(parse_ipv4_number(part)?);
    }
    let (last, init) = numbers.split_last()?;
    if init.iter().any(|n| *n > 255) {
        return None;
    }
    let width = 4u32.checked_sub(u32::try_from(init.len()).ok()?)?;
    if *last >= 256u64.checked_pow(width)? {
        return None;
    }
    let mut value = *last;
    for (i, n) in init.iter().enumerate() {
        let shift = 8 * (3 - u32::try_from(i).ok()?);
        value += n << shift;
    }
    u32::try_from(value).ok().map(Ipv4Addr::from)
}

/// The WHATWG URL IPv6 serializer: lower-case hex, no leading zeros, the first longest run of
/// two or more zero pieces compressed to `::` (the RFC 5952 form, also for IPv4-mapped
/// addresses, which browsers write in hex).
fn serialize_ipv6(ip: Ipv6Addr) -> String {
    let pieces = ip.segments();
    let mut compress: Option<usize> = None;
    let (mut best_len, mut run_start, mut run_len) = (1usize, 0usize, 0usize);
    for (i, p) in pieces.iter().enumerate() {
        if *p == 0 {
            if run_len == 0 {
                run_start = i;
            }
            run_len += 1;
            if run_len > best_len {
                best_len = run_len;
                compress = Some(run_start);
            }
        } else {
            run_len = 0;
        }
    }
    let mut out = String::new();
    let mut ignore_zero = false;
    for (i, p) in pieces.iter().enumerate() {
        if ignore_zero && *p == 0 {
            continue;
        }
        ignore_zero = false;
        if compress == Some(i) {
            out.push_str(if i == 0 { "::" } else { ":" });
            ignore_zero = true;
            continue;
        }
        let _ = write!(out, "{p:x}");
        if i != 7 {
            out.push(':');
        }
    }
    out
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
fn is_anchored(s: &str) -> bool {
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
        branch.starts_with('^') && ends_with_unescaped_dollar(branch)
    })
}

/// The anchored form `^…$` of a regex (wrapping a top-level alternation in a group).
fn anchored_form(s: &str) -> String {
    let body = skip_flag_groups(s);
    let flags = s.get(..s.len() - body.len()).unwrap_or("");
    let mut core = body.strip_prefix('^').unwrap_or(body);
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

#[cfg(test)]
mod tests;
