//! The host of an entry: the `*.` subdomain wildcard, case, Unicode (to punycode), the
//! allowed characters, and the length and label rules of a domain name. IP addresses are
//! handed to `ip`.

use idna::AsciiDenyList;

use super::ip::{analyze_ipv4, analyze_ipv6, ends_in_number};
use super::{Found, quote};
use crate::Code;
use crate::origin::HostPattern;

/// Longest domain name (in its ASCII form).
const MAX_HOST_LEN: usize = 253;
/// Longest DNS label.
const MAX_LABEL_LEN: usize = 63;

/// Validates the host text (between `://` and the port), pushing problems. Returns the
/// canonical host pattern, or `None` when it cannot be fixed.
pub(super) fn analyze_host(host: &str, shown: &str, found: &mut Vec<Found>) -> Option<HostPattern> {
    if host.is_empty() {
        found.push(Found::fatal(
            Code::OriginInvalidHost,
            format!("origin `{shown}` has no host"),
            "write it as `scheme://host[:port]`",
        ));
        return None;
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return analyze_ipv6(host, inner, shown, found);
    }

    let (subdomains, base) = split_wildcard(host, shown, found)?;
    if base.is_empty() {
        found.push(Found::fatal(
            Code::OriginInvalidHost,
            format!("origin `{shown}` has nothing after `*.`"),
            "name the parent domain, e.g. `*.example.com`",
        ));
        return None;
    }

    let ascii = to_ascii(base, shown, found)?;
    if let Some(bad) = ascii
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')))
    {
        found.push(Found::fatal(
            Code::OriginInvalidHost,
            format!(
                "origin `{shown}` has the character `{}` in its host",
                bad.escape_debug()
            ),
            "a host consists of letters, digits, `-`, `_` and `.`",
        ));
        return None;
    }

    if ends_in_number(&ascii) {
        return analyze_ipv4(ascii, subdomains, shown, found);
    }
    check_domain(ascii, subdomains, shown, found)
}

/// Splits off a leading `*.` (fixing `**.`): `(true, base)` for a subdomain wildcard,
/// `(false, host)` for none, `None` for a `*` anywhere else.
fn split_wildcard<'a>(
    host: &'a str,
    shown: &str,
    found: &mut Vec<Found>,
) -> Option<(bool, &'a str)> {
    if host == "*" {
        found.push(Found::fatal(
            Code::OriginWildcardPosition,
            format!("origin `{shown}` has `*` as its whole host"),
            "write `*` alone to allow every origin, or name the parent domain, e.g. `https://*.example.com`",
        ));
        None
    } else if let Some(base) = host.strip_prefix("*.").filter(|b| !b.contains('*')) {
        Some((true, base))
    } else if let Some(base) = host
        .trim_start_matches('*')
        .strip_prefix('.')
        .filter(|b| host.starts_with("**") && !b.contains('*'))
    {
        found.push(Found::fixable(
            Code::OriginWildcardPosition,
            format!("origin `{shown}` starts with `**.`"),
            "a single `*.` already stands for one or more labels",
        ));
        Some((true, base))
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
            Code::OriginWildcardPosition,
            format!("origin `{shown}` has a `*` in an unsupported position"),
            advice,
        ));
        None
    } else {
        Some((false, host))
    }
}

/// The lower-case ASCII (punycode) form of the host, reporting upper case and Unicode;
/// `None` when it is not a valid internationalized domain name.
fn to_ascii(base: &str, shown: &str, found: &mut Vec<Found>) -> Option<String> {
    if base.bytes().any(|b| b.is_ascii_uppercase()) {
        found.push(Found::fixable(
            Code::OriginUppercase,
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
                    Code::OriginUnicodeHost,
                    message,
                    "write the ASCII (punycode) form",
                ));
                a.into_owned()
            }
            Err(_) => {
                found.push(Found::fatal(
                    Code::OriginInvalidHost,
                    format!("origin `{shown}` has a host that is not a valid internationalized domain name"),
                    "check the host for stray characters",
                ));
                return None;
            }
        }
    };
    Some(ascii)
}

/// Checks a domain name's length, labels and punycode; returns the host pattern.
fn check_domain(
    ascii: String,
    subdomains: bool,
    shown: &str,
    found: &mut Vec<Found>,
) -> Option<HostPattern> {
    let limit = if subdomains {
        MAX_HOST_LEN - 2
    } else {
        MAX_HOST_LEN
    };
    if ascii.len() > limit {
        found.push(Found::fatal(
            Code::OriginInvalidHost,
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
            Code::OriginInvalidHost,
            format!("origin `{shown}` has an empty label (`..`, or a leading or doubled trailing dot) in its host"),
            "remove the extra dot",
        ));
        return None;
    }
    if labels.split('.').any(|l| l.len() > MAX_LABEL_LEN) {
        found.push(Found::fatal(
            Code::OriginInvalidHost,
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
                Code::OriginInvalidPunycode,
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
