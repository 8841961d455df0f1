//! Splitting an entry into its parts: the scheme (or its absence, or a malformed `://`), the
//! parts a serialized origin never has (path, query, fragment, user information), and the
//! authority's host and port text, which `host` and `port` then check.

use std::net::Ipv6Addr;
use std::ops::ControlFlow;

use super::host::analyze_host;
use super::ip::ipv6_host;
use super::port::{analyze_port, default_port};
use super::{Analysis, Found, analyze, quote};
use crate::Code;
use crate::origin::{HostPattern, OriginPattern, PortPattern, is_loopback_host};

/// Longest accepted scheme (RFC 3986 sets no limit; 64 covers every real one).
const MAX_SCHEME_LEN: usize = 64;

/// `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )` (RFC 3986 §3.1), either case.
fn is_scheme_syntax(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// An entry without `://`: a missing scheme (`example.com`, `localhost:3000`,
/// `//example.com`) or a malformed separator (`https:example.com`, `https:/example.com`).
pub(super) fn analyze_schemeless(input: &str, shown: &str) -> Analysis {
    let looks_like_port = |r: &str| {
        r.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'*')
    };
    let bad_separator = |s: &str, r: &str| {
        (
            Found::fixable(
                Code::OriginInvalidScheme,
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
                    Code::OriginInvalidScheme,
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
                    Code::OriginMissingScheme,
                    format!("origin `{shown}` has no scheme; browsers always send one"),
                    "add the scheme",
                ),
                format!("{scheme}://{rest}"),
            )
        }
    };
    let sub = analyze(&candidate, shown);
    // A candidate that is too long says nothing about the original value.
    if sub.found.iter().any(|f| f.code == Code::OriginTooLong) {
        return Analysis::fatal(
            finding.code,
            finding.message,
            "write it as `scheme://host[:port]`",
        );
    }
    sub.with_prefix_finding(finding)
}

/// An entry of the form `scheme://rest`.
pub(super) fn analyze_with_scheme(scheme: &str, rest: &str, shown: &str) -> Analysis {
    let mut found = Vec::new();
    let scheme = match check_scheme(scheme, shown, &mut found) {
        ControlFlow::Continue(scheme) => scheme,
        ControlFlow::Break(done) => return done,
    };
    let authority = strip_path_query_fragment(rest, shown, &mut found);
    let authority = strip_userinfo(authority, shown, &mut found);
    let (host_text, port_text) = match split_authority(authority, &scheme, shown, &mut found) {
        ControlFlow::Continue(parts) => parts,
        ControlFlow::Break(done) => return done,
    };
    let host = analyze_host(host_text, shown, &mut found);
    let port = analyze_port(port_text, &scheme, shown, &mut found);
    let fatal = found.iter().any(|f| !f.fixable);
    match (host, port) {
        (Some(host), Some(port)) if !fatal => {
            Analysis::from_findings(found, Some(build(scheme, host, port)))
        }
        _ => Analysis::from_findings(found, None),
    }
}

/// Checks the scheme, pushing its fixable problems. Continues with the lower-case scheme
/// (`https` for an empty one), or breaks with the analysis of an unusable one.
fn check_scheme(
    scheme: &str,
    shown: &str,
    found: &mut Vec<Found>,
) -> ControlFlow<Analysis, String> {
    let scheme_lower = scheme.to_ascii_lowercase();
    if scheme.is_empty() {
        found.push(Found::fixable(
            Code::OriginMissingScheme,
            format!("origin `{shown}` has an empty scheme"),
            "add the scheme",
        ));
    } else if !is_scheme_syntax(scheme) || scheme.len() > MAX_SCHEME_LEN {
        return ControlFlow::Break(Analysis::fatal(
            Code::OriginInvalidScheme,
            format!("origin `{shown}` has an invalid scheme `{}`", quote(scheme)),
            "a scheme is a letter followed by letters, digits, `+`, `-` or `.` (at most 64), such as `https`",
        ));
    } else if scheme_lower == "file" {
        return ControlFlow::Break(Analysis::fatal(
            Code::OriginFileScheme,
            format!("origin `{shown}` uses the `file` scheme"),
            "pages loaded from `file:` URLs send `Origin: null`; serve them over http(s) instead",
        ));
    } else if scheme != scheme_lower {
        found.push(Found::fixable(
            Code::OriginUppercase,
            format!(
                "origin `{shown}` has upper-case letters; browsers send the scheme and host in \
                 lower case"
            ),
            "write it in lower case",
        ));
    }
    ControlFlow::Continue(if scheme.is_empty() {
        "https".to_string()
    } else {
        scheme_lower
    })
}

/// Cuts the fragment, query and path off `scheme://rest`, pushing a fixable problem for each;
/// returns what precedes them (the authority).
fn strip_path_query_fragment<'a>(rest: &'a str, shown: &str, found: &mut Vec<Found>) -> &'a str {
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
            Code::OriginTrailingSlash,
            format!("origin `{shown}` ends with a slash; a serialized origin has no path"),
            "remove the trailing slash",
        )),
        Some(p) => found.push(Found::fixable(
            Code::OriginPath,
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
            Code::OriginQuery,
            format!("origin `{shown}` has a query (`?…`); a serialized origin has none"),
            "remove the query",
        ));
    }
    if fragment.is_some() {
        found.push(Found::fixable(
            Code::OriginFragment,
            format!("origin `{shown}` has a fragment (`#…`); a serialized origin has none"),
            "remove the fragment",
        ));
    }

    authority
}

/// Cuts user information (`user:pw@`) off the authority, pushing a fixable problem.
fn strip_userinfo<'a>(authority: &'a str, shown: &str, found: &mut Vec<Found>) -> &'a str {
    match authority.rsplit_once('@') {
        Some((_, after)) => {
            found.push(Found::fixable(
                Code::OriginUserinfo,
                format!(
                    "origin `{shown}` has user information (`…@`); a serialized origin has none"
                ),
                "remove the user information",
            ));
            after
        }
        None => authority,
    }
}

/// Splits the authority into host and port text. Breaks with the analysis when the split
/// already decides it: a misplaced `[`, or an IPv6 address without brackets (fixable, so the
/// findings so far are taken along).
fn split_authority<'a>(
    authority: &'a str,
    scheme: &str,
    shown: &str,
    found: &mut Vec<Found>,
) -> ControlFlow<Analysis, (&'a str, Option<&'a str>)> {
    if authority.starts_with('[') {
        split_bracketed(authority, shown)
    } else if authority.contains('[') {
        ControlFlow::Break(if authority.starts_with("*.[") {
            Analysis::fatal(
                Code::OriginWildcardPosition,
                format!("origin `{shown}` puts `*.` in front of an IP address"),
                "IP addresses have no subdomains; list the address itself",
            )
        } else {
            Analysis::fatal(
                Code::OriginInvalidHost,
                format!("origin `{shown}` has a `[` inside its host"),
                "write it as `scheme://host[:port]`; IPv6 hosts go in brackets",
            )
        })
    } else if authority.matches(':').count() > 1 {
        ControlFlow::Break(unbracketed_ipv6(
            authority,
            scheme,
            shown,
            std::mem::take(found),
        ))
    } else {
        ControlFlow::Continue(match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        })
    }
}

/// Splits `[ipv6]` or `[ipv6]:port`.
fn split_bracketed<'a>(
    authority: &'a str,
    shown: &str,
) -> ControlFlow<Analysis, (&'a str, Option<&'a str>)> {
    match authority.find(']') {
        Some(i) => {
            // `]` is ASCII, so `i + 1` is a character boundary.
            let (h, after) = authority.split_at_checked(i + 1).unwrap_or((authority, ""));
            if after.is_empty() {
                ControlFlow::Continue((h, None))
            } else if let Some(p) = after.strip_prefix(':') {
                ControlFlow::Continue((h, Some(p)))
            } else {
                ControlFlow::Break(Analysis::fatal(
                    Code::OriginInvalidHost,
                    format!(
                        "origin `{shown}` has unexpected text `{}` after its IPv6 address",
                        quote(after)
                    ),
                    "write it as `scheme://[ipv6]:port`",
                ))
            }
        }
        None => ControlFlow::Break(Analysis::fatal(
            Code::OriginInvalidIp,
            format!("origin `{shown}` has an unclosed `[`"),
            "write an IPv6 host in brackets, e.g. `http://[::1]:8080`",
        )),
    }
}

/// An authority with several `:` and no brackets: an IPv6 address missing its brackets
/// (fixable, appended to `found`), or an invalid host.
fn unbracketed_ipv6(authority: &str, scheme: &str, shown: &str, mut found: Vec<Found>) -> Analysis {
    match authority.parse::<Ipv6Addr>() {
        Ok(addr) => {
            found.push(Found::fixable(
                Code::OriginInvalidIp,
                format!("origin `{shown}` has an IPv6 address without brackets"),
                "write IPv6 hosts in brackets",
            ));
            let host = HostPattern::Exact(ipv6_host(addr));
            Analysis::from_findings(
                found,
                Some(build(scheme.to_string(), host, PortPattern::Default)),
            )
        }
        Err(_) => Analysis::fatal(
            Code::OriginInvalidHost,
            format!("origin `{shown}` has several `:` in its host"),
            "write it as `scheme://host[:port]`; IPv6 hosts go in brackets",
        ),
    }
}

/// Assembles a pattern from its validated, canonical parts.
pub(super) fn build(scheme: String, host: HostPattern, port: PortPattern) -> OriginPattern {
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
