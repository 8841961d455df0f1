//! The allow-list matcher: finds which configured entry admits a request's `Origin`.
//!
//! Matching is byte-exact (the request origin is never lower-cased or otherwise normalised):
//!
//! - exact origins live in a hash map keyed by their bytes, so a lookup costs one hash of the
//!   origin whatever the number of entries;
//! - wildcard entries (`*.` subdomains and/or `:*` ports) live in a trie keyed on the
//!   **reversed host labels** (`com` → `example` → `app`), so a lookup walks at most one node
//!   per label of the request's host, whatever the number of entries;
//! - regex entries are tried last, in configuration order.
//!
//! `find` allocates nothing: map lookups borrow the request bytes, and the origin is parsed
//! into sub-slices. (Regex matching borrows a per-thread cache from the `regex` crate's pool,
//! which is allocated on the first use in a thread only.)

use std::collections::HashMap;

/// The allow-list's hash maps: foldhash (hashbrown's default: fast on short keys, seeded per
/// process). Keys come from the configuration; request bytes are only looked up.
type Map<V> = HashMap<Box<[u8]>, V, foldhash::fast::RandomState>;

use super::{HostPattern, MAX_ORIGIN_LEN, OriginPattern, PortPattern};

/// Matches request origins against a compiled allow-list.
#[derive(Debug, Clone, Default)]
pub(crate) struct OriginMatcher {
    /// Exact serialized origins → smallest entry index.
    exact: Map<usize>,
    /// Wildcard trie; `nodes[0]` is the root (present only when there are wildcard entries).
    nodes: Vec<Node>,
    /// Regex entries with their index, in configuration order.
    regexes: Vec<(usize, regex::Regex)>,
    /// The smallest index of a wildcard entry (`usize::MAX` when there is none): an exact
    /// match before it makes the trie walk pointless.
    first_wildcard: usize,
}

/// One node of the reversed-label trie: the host suffix spelled by the path from the root.
#[derive(Debug, Clone, Default)]
struct Node {
    /// Child nodes by the next label to the left.
    children: Map<usize>,
    /// `*.<suffix>` entries: match hosts with at least one more label on the left.
    subdomains: Vec<Leaf>,
    /// Entries whose host is exactly this suffix.
    exact_host: Vec<Leaf>,
}

/// The scheme and port part of a wildcard entry, with its index in the allow-list.
#[derive(Debug, Clone)]
struct Leaf {
    /// Lower-case scheme.
    scheme: Box<[u8]>,
    /// Port rule.
    port: PortPattern,
    /// Index of the entry in the slice given to [`OriginMatcher::new`].
    index: usize,
}

impl Leaf {
    /// `true` when the request's scheme and port satisfy this entry.
    fn admits(&self, origin: &RequestOrigin<'_>) -> bool {
        *self.scheme == *origin.scheme
            && match self.port {
                PortPattern::Default => origin.port.is_none(),
                PortPattern::Exact(p) => origin.port == Some(p),
                PortPattern::Any => true,
            }
    }
}

/// A request origin split into borrowed parts.
#[derive(Debug)]
struct RequestOrigin<'a> {
    /// Scheme bytes (before `://`).
    scheme: &'a [u8],
    /// Host bytes (a domain or IPv4 address, or a bracketed IPv6 address).
    host: &'a [u8],
    /// Explicit port, validated (1..=65535, no leading zero, not the scheme's default).
    port: Option<u16>,
}

impl OriginMatcher {
    /// Compiles the matcher from an allow-list. [`OriginPattern::Any`] and
    /// [`OriginPattern::Null`] entries are ignored (the caller handles them).
    pub(crate) fn new(patterns: &[OriginPattern]) -> OriginMatcher {
        let mut m = OriginMatcher {
            first_wildcard: usize::MAX,
            ..OriginMatcher::default()
        };
        for (index, pattern) in patterns.iter().enumerate() {
            match pattern {
                OriginPattern::Any | OriginPattern::Null => {}
                OriginPattern::Exact(s) => {
                    m.exact
                        .entry(s.as_bytes().to_vec().into_boxed_slice())
                        .or_insert(index);
                }
                OriginPattern::Wildcard { scheme, host, port } => {
                    m.insert_wildcard(scheme, host, *port, index);
                }
                OriginPattern::Regex(r) => m.regexes.push((index, r.clone())),
            }
        }
        m
    }

    /// Adds a wildcard entry to the trie.
    fn insert_wildcard(
        &mut self,
        scheme: &str,
        host: &HostPattern,
        port: PortPattern,
        index: usize,
    ) {
        if self.nodes.is_empty() {
            self.nodes.push(Node::default());
        }
        self.first_wildcard = self.first_wildcard.min(index);
        let (text, subdomains) = match host {
            HostPattern::Exact(h) => (h.as_str(), false),
            HostPattern::Subdomains(b) => (b.as_str(), true),
        };
        let mut node = 0;
        for label in text.as_bytes().rsplit(|b| *b == b'.') {
            let next_id = self.nodes.len();
            let Some(current) = self.nodes.get_mut(node) else {
                return;
            };
            let child = *current
                .children
                .entry(label.to_vec().into_boxed_slice())
                .or_insert(next_id);
            if child == next_id {
                self.nodes.push(Node::default());
            }
            node = child;
        }
        let Some(target) = self.nodes.get_mut(node) else {
            return;
        };
        let list = if subdomains {
            &mut target.subdomains
        } else {
            &mut target.exact_host
        };
        // Entries are inserted in index order: an identical (scheme, port) pair already present
        // has the smaller index, so the new one is redundant.
        if !list
            .iter()
            .any(|l| *l.scheme == *scheme.as_bytes() && l.port == port)
        {
            list.push(Leaf {
                scheme: scheme.as_bytes().into(),
                port,
                index,
            });
        }
    }

    /// The index (into the slice given to [`OriginMatcher::new`]) of the first entry that
    /// admits `origin`, or `None`.
    ///
    /// `origin` is the raw `Origin` header value. It is compared byte for byte, never
    /// normalised: `https://EXAMPLE.com`, `https://example.com.`, `https://example.com/`,
    /// `https://example.com:443`, `null` and anything longer than [`MAX_ORIGIN_LEN`] never
    /// match an entry for `https://example.com`. Allocates nothing.
    pub(crate) fn find(&self, origin: &[u8]) -> Option<usize> {
        if origin.len() > MAX_ORIGIN_LEN {
            return None;
        }
        let mut best = self.exact.get(origin).copied();
        if !self.nodes.is_empty()
            && best.is_none_or(|b| b > self.first_wildcard)
            && let Some(parsed) = parse_request_origin(origin)
            && let Some(i) = self.find_wildcard(&parsed)
        {
            best = Some(best.map_or(i, |b| b.min(i)));
        }
        if !self.regexes.is_empty()
            && let Ok(text) = std::str::from_utf8(origin)
        {
            for (index, regex) in &self.regexes {
                if best.is_some_and(|b| b < *index) {
                    break;
                }
                if regex.is_match(text) {
                    best = Some(*index);
                    break;
                }
            }
        }
        best
    }

    /// Walks the trie along the request host's labels, right to left.
    fn find_wildcard(&self, origin: &RequestOrigin<'_>) -> Option<usize> {
        let mut best: Option<usize> = None;
        let mut consider = |leaves: &[Leaf]| {
            for leaf in leaves {
                if leaf.admits(origin) {
                    best = Some(best.map_or(leaf.index, |b| b.min(leaf.index)));
                }
            }
        };
        let host = origin.host;
        let mut node = self.nodes.first()?;
        let mut end = host.len();
        while let Some(unconsumed) = host.get(..end) {
            let start = unconsumed
                .iter()
                .rposition(|b| *b == b'.')
                .map_or(0, |dot| dot + 1);
            let Some(child) = unconsumed
                .get(start..)
                .and_then(|label| node.children.get(label))
                .and_then(|c| self.nodes.get(*c))
            else {
                break;
            };
            node = child;
            if start == 0 {
                consider(&node.exact_host);
                break;
            }
            // At least one label remains on the left (hosts are validated to have no empty
            // labels), so subdomain entries rooted here apply.
            consider(&node.subdomains);
            end = start - 1;
        }
        best
    }
}

/// Parses `scheme "://" host [":" port]` strictly enough for the trie: the host is a bracketed
/// IPv6 literal, or bytes `a-z 0-9 - _ .` with no empty label (one trailing dot allowed); the
/// port is 1..=65535 without a leading zero and not the scheme's default; nothing follows.
fn parse_request_origin(origin: &[u8]) -> Option<RequestOrigin<'_>> {
    // A scheme never holds ':', so the first one must start "://".
    let sep = origin.iter().position(|b| *b == b':')?;
    let scheme = origin.get(..sep)?;
    let rest = origin.get(sep..)?.strip_prefix(b"://")?;
    if scheme.is_empty() {
        return None;
    }
    let host_end = if rest.first() == Some(&b'[') {
        rest.iter().position(|b| *b == b']')? + 1
    } else {
        // One pass: host bytes, no empty label (a leading dot or two dots in a row); a
        // single trailing dot is allowed.
        let mut end = rest.len();
        let mut at_label_start = true;
        for (i, b) in rest.iter().enumerate() {
            if *b == b'.' {
                if at_label_start {
                    return None;
                }
                at_label_start = true;
            } else if is_host_byte(*b) {
                at_label_start = false;
            } else {
                end = i;
                break;
            }
        }
        if end == 0 {
            return None;
        }
        end
    };
    let host = rest.get(..host_end)?;
    let port = match rest.get(host_end..)? {
        [] => None,
        [b':', digits @ ..] => Some(parse_port(digits)?),
        _ => return None,
    };
    if port.is_some() && port == default_port(scheme) {
        return None;
    }
    Some(RequestOrigin { scheme, host, port })
}

/// Bytes allowed in a (lower-case, ASCII) domain or IPv4 host.
fn is_host_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
}

/// Parses 1–5 decimal digits without a leading zero into 1..=65535.
fn parse_port(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 || digits.first() == Some(&b'0') {
        return None;
    }
    let mut value: u32 = 0;
    for d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(d - b'0');
    }
    u16::try_from(value).ok()
}

/// The default port of the schemes that have one; browsers never send it.
fn default_port(scheme: &[u8]) -> Option<u16> {
    match scheme {
        b"http" | b"ws" => Some(80),
        b"https" | b"wss" => Some(443),
        b"ftp" => Some(21),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::origin::{parse_pattern, parse_regex_entry};
    use proptest::prelude::*;

    /// Parses every entry (panicking on a rejected one) and builds the matcher.
    fn compile(entries: &[&str]) -> (Vec<OriginPattern>, OriginMatcher) {
        let patterns: Vec<OriginPattern> = entries
            .iter()
            .map(|e| {
                let (p, problems) = parse_pattern(e);
                p.unwrap_or_else(|| panic!("{e:?}: {problems:?}"))
            })
            .collect();
        let matcher = OriginMatcher::new(&patterns);
        (patterns, matcher)
    }

    #[test]
    fn request_origins_are_split_strictly() {
        let parts = |o: &str| {
            parse_request_origin(o.as_bytes()).map(|r| {
                (
                    String::from_utf8(r.scheme.to_vec()).unwrap(),
                    String::from_utf8(r.host.to_vec()).unwrap(),
                    r.port,
                )
            })
        };
        assert_eq!(
            parts("https://a.b.example:8443"),
            Some(("https".into(), "a.b.example".into(), Some(8443)))
        );
        assert_eq!(
            parts("https://a.example."),
            Some(("https".into(), "a.example.".into(), None))
        );
        assert_eq!(
            parts("http://[::1]:8080"),
            Some(("http".into(), "[::1]".into(), Some(8080)))
        );
        for bad in [
            "https://.a.example",
            "https://a..example",
            "https://a.example..",
            "https://.",
            "https://",
            "://a.example",
            "https:/a.example",
            "a:b://c.example",
            "https://A.example",
            "https://a.example/",
            "https://a.example:443",
            "https://a.example:0",
            "https://a.example:08443",
        ] {
            assert_eq!(parts(bad), None, "{bad:?}");
        }
    }

    /// Asserts which origins are admitted (with the index of the entry) and which are not.
    fn check(entries: &[&str], admitted: &[(&str, usize)], refused: &[&str]) {
        let (_, m) = compile(entries);
        for (origin, index) in admitted {
            assert_eq!(
                m.find(origin.as_bytes()),
                Some(*index),
                "{origin:?} against {entries:?}"
            );
        }
        for origin in refused {
            assert_eq!(
                m.find(origin.as_bytes()),
                None,
                "{origin:?} must not match {entries:?}"
            );
        }
    }

    /// GHSA-vhxv-fg4m-p2w8: entries sharing a suffix must not admit concatenations.
    #[test]
    fn ghsa_vhxv_fg4m_p2w8_no_suffix_sharing_confusion() {
        check(
            &["https://foo.com", "https://bar.com"],
            &[("https://foo.com", 0), ("https://bar.com", 1)],
            &[
                "https://barfoo.com",
                "https://foobar.com",
                "https://fooba.com",
                "https://oo.com",
                "https://o.com",
                "https://foo.comm",
                "https://bar.co",
            ],
        );
        // The same with wildcard entries, which go through the trie.
        check(
            &[
                "https://*.foo.com",
                "https://*.bar.com",
                "https://foo.com:*",
            ],
            &[
                ("https://a.foo.com", 0),
                ("https://a.bar.com", 1),
                ("https://foo.com:8080", 2),
            ],
            &[
                "https://barfoo.com",
                "https://foobar.com",
                "https://a.barfoo.com",
                "https://a.foobar.com",
                "https://afoo.com",
                "https://bar.com",
                "https://barfoo.com:8080",
            ],
        );
    }

    /// jub0bs/cors#12: the nine-pattern set admits exactly what it should.
    #[test]
    fn jub0bs_issue_12_nine_patterns() {
        let entries = [
            "https://*.example.net",
            "https://*.example.org",
            "https://*.example.com",
            "https://example.net:8080",
            "https://example.org:8080",
            "https://example.com:8080",
            "https://example.net",
            "https://example.org",
            "https://example.com",
        ];
        let mut admitted = Vec::new();
        for (i, tld) in ["net", "org", "com"].iter().enumerate() {
            admitted.push((format!("https://foo.example.{tld}"), i));
            admitted.push((format!("https://a.b.example.{tld}"), i));
            admitted.push((format!("https://example.{tld}:8080"), i + 3));
            admitted.push((format!("https://example.{tld}"), i + 6));
        }
        let admitted: Vec<(&str, usize)> = admitted.iter().map(|(o, i)| (o.as_str(), *i)).collect();
        let mut refused = Vec::new();
        for tld in ["net", "org", "com"] {
            refused.push(format!("https://foo.example.{tld}:8080"));
            refused.push(format!("https://example.{tld}:9090"));
            refused.push(format!("https://example.{tld}:443"));
            refused.push(format!("http://example.{tld}"));
            refused.push(format!("http://foo.example.{tld}"));
            refused.push(format!("https://.example.{tld}"));
            refused.push(format!("https://fooexample.{tld}"));
            refused.push(format!("https://example.{tld}."));
        }
        refused.push("https://example.edu".into());
        refused.push("https://foo.example.edu".into());
        let refused: Vec<&str> = refused.iter().map(String::as_str).collect();
        check(&entries, &admitted, &refused);
    }

    /// Look-alike, non-canonical, over-long and non-UTF-8 origins never match.
    #[test]
    fn attack_strings_never_match() {
        let long = format!("https://{}.example.com", "a".repeat(2048));
        let just_over = format!("https://{}.example.com", "a".repeat(MAX_ORIGIN_LEN));
        let (_, m) = compile(&["https://example.com", "https://*.example.com"]);
        let attacks: Vec<&[u8]> = vec![
            b"https://evilexample.com",
            b"https://example.com.evil.net",
            b"https://a.example.com.evil.net",
            b"https://EXAMPLE.com",
            b"https://Example.com",
            b"HTTPS://example.com",
            b"https://A.example.com",
            b"https://example.com.",
            b"https://example.com/",
            b"https://example.com:443",
            b"https://example.com:",
            b"https://xn--exmple-cua.com",
            b"https://example.com\0",
            b"https://example.com\xff",
            b"https://\xff.example.com",
            b"https://a\xc3\xa4.example.com",
            b" https://example.com",
            b"https://example.com ",
            b"null",
            b"",
            b"https://",
            b"https://.example.com",
            b"https://a..example.com",
            b"https://user@example.com",
            b"https://a.example.com@evil.net",
            b"http://example.com",
            b"https://example.com:0",
            b"https://example.com:65536",
            b"https://example.com:08080",
            long.as_bytes(),
            just_over.as_bytes(),
        ];
        for a in attacks {
            assert_eq!(m.find(a), None, "{:?}", String::from_utf8_lossy(a));
        }
        assert_eq!(m.find(b"https://example.com"), Some(0));
        assert_eq!(m.find(b"https://a.example.com"), Some(1));
        assert_eq!(m.find(b"https://a-b_c.d.example.com"), Some(1));
    }

    /// The length guard comes before the exact lookup.
    #[test]
    fn length_limit_applies_to_exact_entries_too() {
        // A (hypothetical) exact entry longer than the limit is never matched.
        let long = format!("https://{}", "a".repeat(MAX_ORIGIN_LEN));
        let m = OriginMatcher::new(&[OriginPattern::Exact(long.clone())]);
        assert_eq!(m.find(long.as_bytes()), None);
    }

    /// `*` and `null` entries are ignored by `find`.
    #[test]
    fn any_and_null_are_left_to_the_caller() {
        let (_, m) = compile(&["*", "null", "https://a.example"]);
        assert_eq!(m.find(b"null"), None);
        assert_eq!(m.find(b"https://b.example"), None);
        assert_eq!(m.find(b"https://a.example"), Some(2));
        assert_eq!(OriginMatcher::new(&[]).find(b"https://a.example"), None);
    }

    /// Default, exact and any-port rules, and strict request-port parsing.
    #[test]
    fn port_rules() {
        check(
            &[
                "http://localhost:*",
                "https://*.example.com:8443",
                "http://[::1]:*",
                "http://127.0.0.1:*",
            ],
            &[
                ("http://localhost", 0),
                ("http://localhost:3000", 0),
                ("http://localhost:1", 0),
                ("http://localhost:65535", 0),
                ("https://a.example.com:8443", 1),
                ("http://[::1]", 2),
                ("http://[::1]:8080", 2),
                ("http://127.0.0.1", 3),
                ("http://127.0.0.1:5173", 3),
            ],
            &[
                "http://localhost:80",
                "http://localhost:0",
                "http://localhost:65536",
                "http://localhost:03000",
                "http://localhost:",
                "http://localhost:3000/",
                "http://localhost:-1",
                "http://localhost:3000x",
                "http://localhost:123456",
                "https://localhost",
                "http://a.localhost:3000",
                "https://a.example.com",
                "https://a.example.com:443",
                "https://a.example.com:08443",
                "https://a.example.com:8444",
                "https://example.com:8443",
                "http://[::1]:80",
                "http://[::1]x",
                "http://[::2]",
                "http://[::1",
                "http://127.0.0.2",
                "http://1.127.0.0.1",
            ],
        );
    }

    /// When several entries match, the first one in the list is reported.
    #[test]
    fn smallest_index_wins() {
        check(
            &[
                "https://*.example.com:*",
                "https://a.example.com",
                "https://*.a.example.com",
                "https://b.example.com:*",
            ],
            &[
                ("https://a.example.com", 0),
                ("https://x.a.example.com", 0),
                ("https://b.example.com:9", 0),
            ],
            &["https://example.com"],
        );
        check(
            &[
                "https://b.example.com:*",
                "https://*.a.example.com",
                "https://a.example.com",
                "https://*.example.com:*",
            ],
            &[
                ("https://a.example.com", 2),
                ("https://x.a.example.com", 1),
                ("https://b.example.com:9", 0),
                ("https://c.example.com", 3),
            ],
            &["https://example.com"],
        );
        // Duplicates keep their first index.
        check(
            &[
                "https://a.example",
                "https://*.example",
                "https://a.example",
                "https://*.example",
            ],
            &[("https://a.example", 0), ("https://b.example", 1)],
            &[],
        );
    }

    /// A fully-qualified (trailing-dot) origin is a different origin.
    #[test]
    fn trailing_dot_entries_are_distinct() {
        check(
            &["https://example.com.", "https://*.example.org."],
            &[("https://example.com.", 0), ("https://a.example.org.", 1)],
            &[
                "https://example.com",
                "https://a.example.org",
                "https://example.org.",
                "https://a.example.org..",
            ],
        );
    }

    /// Non-http schemes (extensions, custom apps) match like any other.
    #[test]
    fn non_http_schemes() {
        check(
            &[
                "chrome-extension://abcdef",
                "connector://localhost",
                "tauri://*.localhost:*",
            ],
            &[
                ("chrome-extension://abcdef", 0),
                ("connector://localhost", 1),
                ("tauri://app.localhost", 2),
                ("tauri://app.localhost:80", 2),
            ],
            &[
                "chrome-extension://abcdefg",
                "https://abcdef",
                "tauri://localhost",
                "connector://localhost:1",
            ],
        );
    }

    /// Regex entries: configuration order, smallest index overall, UTF-8 only.
    #[test]
    fn regex_entries_are_tried_last_and_in_order() {
        let regex = |s: &str| parse_regex_entry(s).0.unwrap();
        let patterns = vec![
            regex(r"^https://[a-z]+\.one\.example$"),
            parse_pattern("https://a.two.example").0.unwrap(),
            regex(r"^https://.*\.two\.example$"),
            regex(r"^https://a\.one\.example$"),
            parse_pattern("https://*.one.example").0.unwrap(),
        ];
        let m = OriginMatcher::new(&patterns);
        assert_eq!(m.find(b"https://a.one.example"), Some(0));
        assert_eq!(m.find(b"https://a.two.example"), Some(1));
        assert_eq!(m.find(b"https://b.two.example"), Some(2));
        assert_eq!(m.find(b"https://1.one.example"), Some(4));
        assert_eq!(m.find(b"https://b.one.example\xff"), None);
        assert_eq!(m.find(b"https://b.three.example"), None);
    }

    /// A deliberately naive reference: string formatting and a linear scan over canonical
    /// entries. Returns the index of the first matching entry.
    fn naive_find(canonical: &[String], origin: &str) -> Option<usize> {
        canonical.iter().position(|p| naive_matches(p, origin))
    }

    /// Does one canonical entry admit `origin`?
    fn naive_matches(pattern: &str, origin: &str) -> bool {
        if !pattern.contains('*') {
            return pattern == origin;
        }
        let (scheme, rest) = pattern.split_once("://").unwrap();
        let Some(origin_rest) = origin.strip_prefix(&format!("{scheme}://")) else {
            return false;
        };
        let (host_pattern, port_pattern) = if rest.starts_with('[') {
            let (h, p) = rest.split_once(']').unwrap();
            (format!("{h}]"), p.strip_prefix(':'))
        } else {
            match rest.split_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (rest.to_string(), None),
            }
        };
        let default = match scheme {
            "http" | "ws" => Some(80),
            "https" | "wss" => Some(443),
            "ftp" => Some(21),
            _ => None,
        };
        let valid_port = |p: &str| {
            !p.starts_with('0')
                && p.len() <= 5
                && p.chars().all(|c| c.is_ascii_digit())
                && p.parse::<u32>()
                    .is_ok_and(|v| (1..=65535).contains(&v) && Some(v) != default)
        };
        let mut hosts: Vec<&str> = Vec::new();
        match port_pattern {
            None => hosts.push(origin_rest),
            Some("*") => {
                hosts.push(origin_rest);
                if let Some((h, p)) = origin_rest.rsplit_once(':')
                    && valid_port(p)
                {
                    hosts.push(h);
                }
            }
            Some(p) => {
                if let Some(h) = origin_rest.strip_suffix(&format!(":{p}")) {
                    hosts.push(h);
                }
            }
        }
        hosts
            .into_iter()
            .any(|host| match host_pattern.strip_prefix("*.") {
                None => host == host_pattern,
                Some(base) => match host.strip_suffix(&format!(".{base}")) {
                    Some(prefix) => prefix.split('.').all(|label| {
                        !label.is_empty()
                            && label.chars().all(|c| {
                                c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'
                            })
                    }),
                    None => false,
                },
            })
    }

    /// A small alphabet, so that generated origins often hit generated entries.
    const LABELS: &[&str] = &["a", "b", "ab", "com", "xn--bcher-kva", "c_d", "e-f"];

    /// `1..=max` labels from [`LABELS`], joined with dots.
    fn host(max: usize) -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(LABELS), 1..=max).prop_map(|l| l.join("."))
    }

    /// Allow-list entries over the alphabet: exact, subdomain or IP hosts; ports none, 8080,
    /// 443 or `*`.
    fn entry() -> impl Strategy<Value = String> {
        (
            prop::sample::select(&["http", "https"][..]),
            prop_oneof![
                4 => host(3),
                3 => host(2).prop_map(|h| format!("*.{h}")),
                1 => Just("127.0.0.1".to_string()),
                1 => Just("[::1]".to_string()),
                1 => host(2).prop_map(|h| format!("{h}.")),
            ],
            prop::sample::select(&["", ":8080", ":443", ":*"][..]),
        )
            .prop_map(|(s, h, p)| format!("{s}://{h}{p}"))
    }

    /// A mutation applied to a generated origin.
    #[derive(Debug, Clone)]
    enum Mutation {
        /// Unchanged.
        None,
        /// Upper-case scheme.
        UpperScheme,
        /// One host label in upper case.
        UpperLabel(usize),
        /// A trailing dot.
        TrailingDot,
        /// One more label on the left.
        ExtraLabel(&'static str),
        /// A leading dot (empty label).
        LeadingDot,
        /// Replace the port text.
        Port(&'static str),
        /// A trailing slash.
        Slash,
        /// Remove the leftmost label.
        DropFirstLabel,
    }

    /// Mutations, weighted towards none and port changes.
    fn mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            6 => Just(Mutation::None),
            1 => Just(Mutation::UpperScheme),
            1 => (0usize..4).prop_map(Mutation::UpperLabel),
            1 => Just(Mutation::TrailingDot),
            2 => prop::sample::select(LABELS).prop_map(Mutation::ExtraLabel),
            1 => Just(Mutation::LeadingDot),
            3 => prop::sample::select(
                &["", ":8080", ":443", ":80", ":9090", ":08080", ":0", ":65536", ":", ":65535"][..]
            )
            .prop_map(Mutation::Port),
            1 => Just(Mutation::Slash),
            1 => Just(Mutation::DropFirstLabel),
        ]
    }

    /// Builds an origin from scheme, host and port text, then mutates it.
    fn mutate(scheme: &str, host: &str, port: &str, m: &Mutation) -> String {
        let (mut scheme, mut host, mut port) =
            (scheme.to_string(), host.to_string(), port.to_string());
        let mut suffix = "";
        match m {
            Mutation::None => {}
            Mutation::UpperScheme => scheme = scheme.to_uppercase(),
            Mutation::UpperLabel(i) => {
                let mut labels: Vec<String> = host.split('.').map(str::to_string).collect();
                let n = labels.len();
                if let Some(l) = labels.get_mut(i % n) {
                    *l = l.to_uppercase();
                }
                host = labels.join(".");
            }
            Mutation::TrailingDot => host.push('.'),
            Mutation::ExtraLabel(l) => host = format!("{l}.{host}"),
            Mutation::LeadingDot => host = format!(".{host}"),
            Mutation::Port(p) => port = (*p).to_string(),
            Mutation::Slash => suffix = "/",
            Mutation::DropFirstLabel => {
                if let Some((_, rest)) = host.split_once('.') {
                    host = rest.to_string();
                }
            }
        }
        format!("{scheme}://{host}{port}{suffix}")
    }

    /// An origin derived from one of the canonical entries (filling in `*.` and `:*`), or
    /// built from the alphabet; then mutated.
    fn origin_for(canonical: Vec<String>) -> impl Strategy<Value = (Vec<String>, String)> {
        let n = canonical.len().max(1);
        (
            0..n,
            host(2),
            prop::sample::select(&["", ":8080", ":443", ":80", ":3000"][..]),
            prop::bool::weighted(0.7),
            prop::sample::select(&["http", "https"][..]),
            host(4),
            mutation(),
        )
            .prop_map(move |(i, fill, any_port, derived, scheme, free_host, m)| {
                let origin = match canonical.get(i) {
                    Some(p) if derived => {
                        let (s, rest) = p.split_once("://").unwrap_or(("https", p));
                        let (h, port) = if rest.starts_with('[') {
                            let (h, after) = rest.split_once(']').unwrap_or((rest, ""));
                            (format!("{h}]"), after.to_string())
                        } else {
                            match rest.split_once(':') {
                                Some((h, p)) => (h.to_string(), format!(":{p}")),
                                None => (rest.to_string(), String::new()),
                            }
                        };
                        let h = match h.strip_prefix("*.") {
                            Some(base) => format!("{fill}.{base}"),
                            None => h,
                        };
                        let port = if port == ":*" {
                            any_port.to_string()
                        } else {
                            port
                        };
                        mutate(s, &h, &port, &m)
                    }
                    _ => mutate(scheme, &free_host, any_port, &m),
                };
                (canonical.clone(), origin)
            })
    }

    /// Pattern sets (canonical texts of the entries that parse) with an origin to test.
    fn scenario() -> impl Strategy<Value = (Vec<String>, String)> {
        prop::collection::vec(entry(), 0..12)
            .prop_map(|entries| {
                entries
                    .iter()
                    .filter_map(|e| parse_pattern(e).0)
                    .map(|p| p.canonical())
                    .collect::<Vec<_>>()
            })
            .prop_flat_map(origin_for)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// The fast matcher agrees with the naive reference, including on which entry matches.
        #[test]
        fn matcher_agrees_with_naive_reference((canonical, origin) in scenario()) {
            let patterns: Vec<OriginPattern> =
                canonical.iter().map(|c| parse_pattern(c).0.unwrap()).collect();
            let m = OriginMatcher::new(&patterns);
            prop_assert_eq!(m.find(origin.as_bytes()), naive_find(&canonical, &origin),
                "origin {:?} against {:?}", origin, canonical);
        }

        /// Arbitrary bytes never panic and never match a set of lower-case entries when they
        /// contain an upper-case letter.
        #[test]
        fn arbitrary_bytes(origin in prop::collection::vec(any::<u8>(), 0..400)) {
            let (_, m) = compile(&["https://a.example", "https://*.a.example:*", "http://[::1]:*"]);
            let found = m.find(&origin);
            if origin.iter().any(u8::is_ascii_uppercase) || origin.len() > MAX_ORIGIN_LEN {
                prop_assert_eq!(found, None);
            }
        }
    }

    /// The property-test generator is not vacuous.
    #[test]
    fn property_generators_hit_matches() {
        // Guard against a vacuous property test: the scenario generator must produce a fair
        // share of matching origins.
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let mut runner = TestRunner::deterministic();
        let strategy = scenario();
        let (mut hits, mut total) = (0, 0);
        for _ in 0..1000 {
            let (canonical, origin) = strategy.new_tree(&mut runner).unwrap().current();
            total += 1;
            if naive_find(&canonical, &origin).is_some() {
                hits += 1;
            }
        }
        assert!(
            hits * 4 > total,
            "only {hits}/{total} generated origins match"
        );
        assert!(
            hits * 10 < total * 9,
            "{hits}/{total} generated origins match"
        );
    }
}
