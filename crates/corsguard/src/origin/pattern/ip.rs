//! IP-address hosts: bracketed IPv6 literals, and hosts whose last label is a number, which
//! browsers parse as IPv4 (`127.1`, `0x7f.0.0.1`, `2130706433`) and send as a dotted quad.
//!
//! The WHATWG IPv4 parser and IPv6 serializer are `url`'s (`url::Host`), the implementation
//! of the URL standard that browsers follow. IPv6 text is parsed by the standard library, as
//! before. Whether a host "ends in a number" stays decided here, see `ends_in_number`.

use std::net::{Ipv4Addr, Ipv6Addr};

use url::Host;

use super::Found;
use crate::Code;
use crate::origin::HostPattern;

/// Validates a bracketed IPv6 host (`inner` is the text between the brackets).
pub(super) fn analyze_ipv6(
    host: &str,
    inner: &str,
    shown: &str,
    found: &mut Vec<Found>,
) -> Option<HostPattern> {
    if inner.contains('*') {
        found.push(Found::fatal(
            Code::OriginWildcardPosition,
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
            Code::OriginInvalidIp,
            format!("origin `{shown}` has an invalid IPv6 address"),
            "write an IPv6 address in brackets, e.g. `http://[::1]:8080`",
        ));
        return None;
    };
    let canonical = ipv6_host(ip);
    if zone.is_some() {
        found.push(Found::fixable(
            Code::OriginInvalidIp,
            format!("origin `{shown}` has an IPv6 zone identifier; origins never carry one"),
            "remove the zone",
        ));
    } else if canonical != host {
        if host.to_ascii_lowercase() == canonical {
            found.push(Found::fixable(
                Code::OriginUppercase,
                format!("origin `{shown}` has upper-case hex digits; browsers send lower case"),
                "write it in lower case",
            ));
        } else {
            found.push(Found::fixable(
                Code::OriginInvalidIp,
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

/// Validates a host that ends in a number (already lower-case ASCII): it must be an IPv4
/// address, written as a dotted quad, and cannot carry a `*.` wildcard.
pub(super) fn analyze_ipv4(
    ascii: String,
    subdomains: bool,
    shown: &str,
    found: &mut Vec<Found>,
) -> Option<HostPattern> {
    if subdomains {
        found.push(Found::fatal(
            Code::OriginWildcardPosition,
            format!("origin `{shown}` puts `*.` in front of an IP address"),
            "IP addresses have no subdomains; list the address itself",
        ));
        return None;
    }
    match whatwg_ipv4(&ascii) {
        Some(ip) if ip.to_string() == ascii => Some(HostPattern::Exact(ascii)),
        Some(ip) => {
            found.push(Found::fixable(
                Code::OriginInvalidIp,
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
                Code::OriginInvalidIp,
                format!("origin `{shown}` has a host that ends in a number but is not an IPv4 address"),
                "write an IPv4 address as four decimal numbers 0–255 (`192.0.2.1`), or a domain whose last label is not numeric",
            ));
            None
        }
    }
}

/// WHATWG URL "ends in a number": the last label (ignoring one trailing dot) is all digits or
/// an IPv4 number (`0x` hexadecimal, `0`-prefixed octal), so the host must be an IPv4 address.
///
/// Kept by hand rather than left to `url::Host::parse`, because the two differ on one edge:
/// a hexadecimal or octal last label too large for a `u64` (`0x10000000000000000`) does not
/// count here, so the host is checked as a domain name, whereas the WHATWG checker counts it
/// and `url` rejects the host as an invalid IPv4 address. Delegating would turn such accepted
/// entries into `origin-invalid-ip` errors (see the `ends_in_number_keeps_its_u64_bound` test).
pub(super) fn ends_in_number(host: &str) -> bool {
    let h = host.strip_suffix('.').unwrap_or(host);
    let last = h.rsplit('.').next().unwrap_or(h);
    (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()))
        || parse_ipv4_number(last).is_some()
}

/// WHATWG URL IPv4 number syntax: decimal, `0x` hexadecimal, or `0`-prefixed octal, with its
/// value when that fits a `u64`.
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
/// what a browser would turn such a host into: `url::Host::parse`, which applies it to a
/// host that ends in a number.
///
/// Called on lower-case ASCII hosts of letters, digits, `-`, `_` and `.`, on which `url`'s
/// domain-to-ASCII step leaves the text as it is (or fails, on a label that is no IPv4
/// number either), so the result is exactly the IPv4 parser's.
pub(super) fn whatwg_ipv4(host: &str) -> Option<Ipv4Addr> {
    match Host::parse(host) {
        Ok(Host::Ipv4(ip)) => Some(ip),
        _ => None,
    }
}

/// The WHATWG URL serialization of an IPv6 host, in brackets: lower-case hex, no leading
/// zeros, the first longest run of two or more zero pieces compressed to `::` (the RFC 5952
/// form, also for IPv4-mapped addresses, which browsers write in hex).
pub(super) fn ipv6_host(ip: Ipv6Addr) -> String {
    Host::<String>::Ipv6(ip).to_string()
}
