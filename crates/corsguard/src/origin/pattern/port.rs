//! The port of an entry: a number from 1 to 65535 (leading zeros and the scheme's default
//! port are fixable), `*` for any port, or nothing.

use super::{Found, quote};
use crate::Code;
use crate::origin::PortPattern;

/// The default port of the schemes that have one (WHATWG URL "special schemes").
pub(super) fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

/// Validates the port text (after the `:`), pushing problems. `None` when it cannot be fixed.
pub(super) fn analyze_port(
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
            Code::OriginPortRange,
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
            Code::OriginWildcardPosition,
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
            Code::OriginPortRange,
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
            Code::OriginPortRange,
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
            Code::OriginPortRange,
            format!("origin `{shown}` has a port with leading zeros `{text}`"),
            "write the port without leading zeros",
        ));
    }
    if default_port(scheme) == Some(value) {
        found.push(Found::fixable(
            Code::OriginDefaultPort,
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
