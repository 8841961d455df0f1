//! One allow-list entry: parse it (never panics); when accepted, `Policy::origin_allowed`
//! agrees with a naive reference matcher, written from the documented semantics, on origins
//! derived from the canonical entry (and on arbitrary bytes).
#![no_main]

use arbitrary::Arbitrary;
use corsguard::{MAX_ORIGIN_LEN, Policy};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Entry {
    Known(u8),
    /// A known entry with one byte changed.
    Tweaked(u8, u8, u8),
    Raw(String),
}

#[derive(Debug, Arbitrary)]
enum Mutation {
    None,
    Upper,
    Append(u8),
    Prepend(u8),
    DropLast,
    TrailingDot,
    Insert(u8, u8),
}

#[derive(Debug, Arbitrary)]
enum Derived {
    /// The canonical entry with `*.` replaced by `labels.` and `:*` by `:port` (or nothing).
    Fill {
        labels: String,
        port: Option<String>,
        mutation: Mutation,
    },
    Raw(Vec<u8>),
    Known(u8),
}

#[derive(Debug, Arbitrary)]
struct Input {
    entry: Entry,
    derived: Vec<Derived>,
}

/// The scheme's default port (an explicit default port is never sent by browsers).
fn default_port(scheme: &str) -> Option<u32> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

/// Port text → value: 1 to 5 digits, no leading zero, at most 65535.
fn port_value(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 5 || s.starts_with('0') || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u32>().ok().filter(|&v| v <= 65_535)
}

/// A DNS-ish label of a request origin: lower-case letters, digits, `-`, `_`.
fn label_ok(l: &str) -> bool {
    !l.is_empty()
        && l.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The reference matcher; `None` when it has no opinion (`null` entry).
fn reference(canonical: &str, origin: &[u8]) -> Option<bool> {
    if origin.len() > MAX_ORIGIN_LEN {
        return Some(false);
    }
    if canonical == "*" {
        return Some(true);
    }
    if canonical == "null" {
        return None;
    }
    if !canonical.contains('*') {
        return Some(origin == canonical.as_bytes());
    }
    let Ok(origin) = std::str::from_utf8(origin) else {
        return Some(false);
    };
    let (scheme, rest) = canonical.split_once("://")?;
    let (host_pat, any_port, exact_port) = if let Some(h) = rest.strip_suffix(":*") {
        (h, true, None)
    } else if let Some((h, p)) = rest.rsplit_once(':')
        && !h.ends_with(']')
        && !h.contains(']')
        && p.bytes().all(|b| b.is_ascii_digit())
    {
        (h, false, Some(p))
    } else if let Some((h, p)) = rest.rsplit_once("]:") {
        (&rest[..h.len() + 1], false, Some(p))
    } else {
        (rest, false, None)
    };
    let Some((o_scheme, o_rest)) = origin.split_once("://") else {
        return Some(false);
    };
    if o_scheme != scheme {
        return Some(false);
    }
    let (o_host, o_port) = if o_rest.starts_with('[') {
        match o_rest.find(']') {
            Some(i) => {
                let (h, p) = o_rest.split_at(i + 1);
                match p {
                    "" => (h, None),
                    _ => match p.strip_prefix(':') {
                        Some(p) => (h, Some(p)),
                        None => return Some(false),
                    },
                }
            }
            None => return Some(false),
        }
    } else {
        match o_rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (o_rest, None),
        }
    };
    let host_ok = match host_pat.strip_prefix("*.") {
        Some(base) => match o_host.strip_suffix(base).and_then(|p| p.strip_suffix('.')) {
            Some(prefix) => prefix.split('.').all(label_ok),
            None => false,
        },
        None => o_host == host_pat,
    };
    if !host_ok {
        return Some(false);
    }
    let port_ok = match o_port {
        None => exact_port.is_none(),
        Some(p) => match port_value(p) {
            None => false,
            Some(v) if Some(v) == default_port(scheme) => false,
            Some(v) => any_port || exact_port.is_some_and(|e| e == v.to_string()),
        },
    };
    Some(port_ok)
}

fn mutate(mut s: Vec<u8>, m: &Mutation) -> Vec<u8> {
    match m {
        Mutation::None => {}
        Mutation::Upper => s.make_ascii_uppercase(),
        Mutation::Append(b) => s.push(*b),
        Mutation::Prepend(b) => s.insert(0, *b),
        Mutation::DropLast => {
            s.pop();
        }
        Mutation::TrailingDot => s.push(b'.'),
        Mutation::Insert(at, b) => {
            let at = usize::from(*at) % (s.len() + 1);
            s.insert(at, *b);
        }
    }
    s
}

fuzz_target!(|input: Input| {
    let entry = match &input.entry {
        Entry::Known(i) => corsguard_fuzz::pick(corsguard_fuzz::ORIGINS, *i).to_owned(),
        Entry::Tweaked(i, at, b) => {
            let mut v = corsguard_fuzz::pick(corsguard_fuzz::ORIGINS, *i)
                .as_bytes()
                .to_vec();
            let at = usize::from(*at) % v.len();
            v[at] = *b;
            String::from_utf8_lossy(&v).into_owned()
        }
        Entry::Raw(s) => s.clone(),
    };
    let Ok(policy) = Policy::builder().allow_origin(entry.as_str()).build() else {
        return;
    };
    let summary = policy.defaults_summary();
    assert_eq!(
        summary.allow_origins.len(),
        1,
        "one entry in, one out: {entry:?}"
    );
    let canonical = summary.allow_origins[0].clone();
    // The canonical form is accepted again, unchanged.
    let again = Policy::builder()
        .allow_origin(canonical.as_str())
        .build()
        .unwrap_or_else(|e| panic!("canonical {canonical:?} of {entry:?} rejected: {e}"));
    assert_eq!(again.defaults_summary().allow_origins, [canonical.clone()]);

    let mut origins: Vec<Vec<u8>> = vec![canonical.as_bytes().to_vec()];
    for d in input.derived.iter().take(8) {
        origins.push(match d {
            Derived::Fill {
                labels,
                port,
                mutation,
            } => {
                let mut s = canonical.replacen("*.", &format!("{labels}."), 1);
                if let Some(stripped) = s.strip_suffix(":*") {
                    s = match port {
                        Some(p) => format!("{stripped}:{p}"),
                        None => stripped.to_owned(),
                    };
                }
                mutate(s.into_bytes(), mutation)
            }
            Derived::Raw(v) => v.clone(),
            Derived::Known(i) => corsguard_fuzz::pick(corsguard_fuzz::REQUEST_ORIGINS, *i)
                .as_bytes()
                .to_vec(),
        });
    }
    for o in &origins {
        let engine = policy.origin_allowed("/", None, o);
        if let Some(expected) = reference(&canonical, o) {
            assert_eq!(
                engine,
                expected,
                "entry {entry:?} (canonical {canonical:?}), origin {:?}: engine {engine}, reference {expected}",
                String::from_utf8_lossy(o)
            );
        }
    }
});
