//! Origins: parsing of configured allow-list entries into canonical patterns, and the matcher
//! that tests a request's `Origin` against them.
//!
//! Matching is byte-exact on the serialized origin (`#origin-header`): configuration is
//! canonicalised (or rejected) at load time, and a request's `Origin` is never lower-cased
//! before comparing, so `https://EXAMPLE.com` never matches `https://example.com`.

mod matcher;
mod pattern;

pub(crate) use matcher::OriginMatcher;
pub(crate) use pattern::{parse_pattern, parse_regex_entry};

use crate::Code;
use crate::diagnostic::Severity;

/// The longest `Origin` value that can match anything: 64 (scheme) + 3 + 253 (host) + 1 + 5
/// (port). Longer values are refused before any parsing, at constant cost.
pub const MAX_ORIGIN_LEN: usize = 326;

/// A compiled allow-list entry.
#[derive(Debug, Clone)]
pub(crate) enum OriginPattern {
    /// `*`: every origin (rendered as a literal `ACAO: *`).
    Any,
    /// `null`: the opaque origin (only with `allow_null_origin`).
    Null,
    /// One exact serialized origin, canonical form (`https://app.example.com`).
    Exact(String),
    /// A pattern with a `*.` subdomain wildcard and/or a `:*` port wildcard.
    Wildcard {
        /// Lower-case scheme, e.g. `https`.
        scheme: String,
        /// Host part.
        host: HostPattern,
        /// Port part.
        port: PortPattern,
    },
    /// An opt-in regex entry `{regex: '^…$'}`, anchored (checked at parse time).
    Regex(regex::Regex),
}

/// Host part of a [`OriginPattern::Wildcard`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HostPattern {
    /// Exactly this host (lower-case ASCII / punycode, or IP literal).
    Exact(String),
    /// `*.base`: one or more labels followed by `.base`; never `base` itself.
    Subdomains(String),
}

/// Port part of a [`OriginPattern::Wildcard`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PortPattern {
    /// No port in the origin (the scheme's default).
    Default,
    /// Exactly this (non-default) port.
    Exact(u16),
    /// `:*`: any port, including the implicit default one.
    Any,
}

/// A problem found while parsing one allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PatternProblem {
    /// Error or warning.
    pub severity: Severity,
    /// Stable code, e.g. `origin-trailing-slash`.
    pub code: Code,
    /// What is wrong, naming the value.
    pub message: String,
    /// How to fix it; when a corrected value exists, the hint contains it verbatim.
    pub hint: Option<String>,
}

impl OriginPattern {
    /// The scheme, for entries that have one.
    pub(crate) fn scheme(&self) -> Option<&str> {
        match self {
            OriginPattern::Exact(s) => s.split("://").next(),
            OriginPattern::Wildcard { scheme, .. } => Some(scheme),
            _ => None,
        }
    }

    /// The host (or subdomain base) for entries that have one.
    pub(crate) fn host(&self) -> Option<&str> {
        match self {
            OriginPattern::Exact(s) => {
                let rest = s.split_once("://")?.1;
                Some(split_host_port(rest).0)
            }
            OriginPattern::Wildcard { host, .. } => Some(match host {
                HostPattern::Exact(h) | HostPattern::Subdomains(h) => h,
            }),
            _ => None,
        }
    }

    /// `true` for `https` entries and for loopback / `localhost` hosts (which browsers treat
    /// as potentially trustworthy). Regex, `*` and `null` entries are not "secure".
    pub(crate) fn is_secure(&self) -> bool {
        match self.scheme() {
            Some("https") | Some("wss") => true,
            Some(_) => self.host().is_some_and(is_loopback_host),
            None => false,
        }
    }

    /// For `*.base` patterns whose base is a public suffix (`com`, `co.uk`, `github.io`):
    /// the base. Such a pattern admits origins controlled by unrelated parties.
    pub(crate) fn public_suffix_base(&self) -> Option<&str> {
        match self {
            OriginPattern::Wildcard {
                host: HostPattern::Subdomains(base),
                ..
            } => {
                let suffix = psl::suffix(base.as_bytes())?;
                (suffix.is_known() && suffix.as_bytes() == base.as_bytes()).then_some(base.as_str())
            }
            _ => None,
        }
    }

    /// The canonical text of the entry, as shown in traces and used to find duplicates.
    pub(crate) fn canonical(&self) -> String {
        match self {
            OriginPattern::Any => "*".into(),
            OriginPattern::Null => "null".into(),
            OriginPattern::Exact(s) => s.clone(),
            OriginPattern::Wildcard { scheme, host, port } => {
                let host = match host {
                    HostPattern::Exact(h) => h.clone(),
                    HostPattern::Subdomains(b) => format!("*.{b}"),
                };
                match port {
                    PortPattern::Default => format!("{scheme}://{host}"),
                    PortPattern::Exact(p) => format!("{scheme}://{host}:{p}"),
                    PortPattern::Any => format!("{scheme}://{host}:*"),
                }
            }
            OriginPattern::Regex(r) => format!("regex {}", r.as_str()),
        }
    }
}

/// Splits `host[:port]` (IPv6 literals in brackets) into host and optional port text.
pub(crate) fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if s.starts_with('[') {
        match s.find(']') {
            Some(i) => {
                let (h, rest) = s.split_at(i + 1);
                (h, rest.strip_prefix(':'))
            }
            None => (s, None),
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    }
}

/// Loopback IPs and RFC 6761 localhost names (`localhost`, `*.localhost`, optional trailing dot).
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let h = host.strip_suffix('.').unwrap_or(host);
    if h == "localhost" || h.ends_with(".localhost") || h == "[::1]" {
        return true;
    }
    h.parse::<std::net::Ipv4Addr>()
        .is_ok_and(|ip| ip.is_loopback())
}
