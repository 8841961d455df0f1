//! IP-address hosts: bracketed IPv6 literals, and hosts whose last label is a number, which
//! browsers parse as IPv4 (`127.1`, `0x7f.0.0.1`, `2130706433`) and send as a dotted quad.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::Found;
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
    match whatwg_ipv4(&ascii) {
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
    }
}

/// WHATWG URL "ends in a number": the last label (ignoring one trailing dot) is all digits or
/// a `0x` hexadecimal number, so the host must be an IPv4 address.
pub(super) fn ends_in_number(host: &str) -> bool {
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
pub(super) fn whatwg_ipv4(host: &str) -> Option<Ipv4Addr> {
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
pub(super) fn serialize_ipv6(ip: Ipv6Addr) -> String {
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
