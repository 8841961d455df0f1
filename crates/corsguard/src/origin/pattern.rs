//! TEMPORARY minimal parser (replaced by the full one).
use super::{HostPattern, OriginPattern, PatternProblem, PortPattern};
use crate::diagnostic::Severity;

fn err(code: &'static str, message: String, hint: Option<String>) -> PatternProblem {
    PatternProblem { severity: Severity::Error, code, message, hint }
}

/// Parses one allow-list entry.
pub(crate) fn parse_pattern(input: &str) -> (Option<OriginPattern>, Vec<PatternProblem>) {
    match input {
        "*" => return (Some(OriginPattern::Any), vec![]),
        "null" => return (Some(OriginPattern::Null), vec![]),
        _ => {}
    }
    if input.ends_with('/') {
        return (None, vec![err("origin-trailing-slash", format!("`{input}` has a trailing slash"), Some(format!("write `{}`", input.trim_end_matches('/'))))]);
    }
    let Some((scheme, rest)) = input.split_once("://") else {
        return (None, vec![err("origin-missing-scheme", format!("`{input}` has no scheme"), Some(format!("https://{input}")))]);
    };
    let (host, port) = super::split_host_port(rest);
    if host.contains('*') || port == Some("*") {
        let hp = match host.strip_prefix("*.") { Some(b) => HostPattern::Subdomains(b.into()), None => HostPattern::Exact(host.into()) };
        let pp = match port { None => PortPattern::Default, Some("*") => PortPattern::Any, Some(p) => PortPattern::Exact(p.parse().unwrap_or(0)) };
        return (Some(OriginPattern::Wildcard { scheme: scheme.into(), host: hp, port: pp }), vec![]);
    }
    (Some(OriginPattern::Exact(input.into())), vec![])
}

/// Parses a regex entry.
pub(crate) fn parse_regex_entry(input: &str) -> (Option<OriginPattern>, Vec<PatternProblem>) {
    match regex::Regex::new(input) {
        Ok(r) => (Some(OriginPattern::Regex(r)), vec![]),
        Err(e) => (None, vec![err("regex-invalid", e.to_string(), None)]),
    }
}
