//! `Vary`: the request headers a response depends on, and merging them into the
//! application's own `Vary` lines.

use http::header::{self, HeaderMap, HeaderValue};

use crate::headers;

/// Request headers that a response depends on, to be listed in `Vary`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct VaryFlags(u8);

impl VaryFlags {
    pub(crate) const ORIGIN: VaryFlags = VaryFlags(1);
    pub(crate) const ACRM: VaryFlags = VaryFlags(2);
    pub(crate) const ACRH: VaryFlags = VaryFlags(4);
    pub(crate) const ACRPN: VaryFlags = VaryFlags(8);

    pub(crate) const fn empty() -> VaryFlags {
        VaryFlags(0)
    }

    pub(crate) const fn bits(self) -> u8 {
        self.0
    }

    pub(crate) fn insert(&mut self, other: VaryFlags) {
        self.0 |= other.0;
    }
}

/// Static `Vary` values, indexed by [`VaryFlags`] bits.
pub(super) const VARY_VALUES: [&str; 16] = [
    "",
    "Origin",
    "Access-Control-Request-Method",
    "Origin, Access-Control-Request-Method",
    "Access-Control-Request-Headers",
    "Origin, Access-Control-Request-Headers",
    "Access-Control-Request-Method, Access-Control-Request-Headers",
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    "Access-Control-Request-Private-Network",
    "Origin, Access-Control-Request-Private-Network",
    "Access-Control-Request-Method, Access-Control-Request-Private-Network",
    "Origin, Access-Control-Request-Method, Access-Control-Request-Private-Network",
    "Access-Control-Request-Headers, Access-Control-Request-Private-Network",
    "Origin, Access-Control-Request-Headers, Access-Control-Request-Private-Network",
    "Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network",
    "Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network",
];
pub(super) const VARY_TOKENS: [&str; 4] = [
    "Origin",
    "Access-Control-Request-Method",
    "Access-Control-Request-Headers",
    "Access-Control-Request-Private-Network",
];

/// Merges `flags` into the `Vary` header(s) of `headers`, case-insensitively, without
/// duplicates, into a single line.
#[inline]
pub(crate) fn merge_vary(headers: &mut HeaderMap, flags: VaryFlags) {
    if flags.bits() == 0 {
        return;
    }
    // One hash and probe for both cases (no `Vary` yet, or lines to merge with).
    match headers.entry(header::VARY) {
        http::header::Entry::Vacant(e) => {
            if let Some(s) = VARY_VALUES.get(usize::from(flags.bits())) {
                e.insert(HeaderValue::from_static(s));
            }
        }
        http::header::Entry::Occupied(mut e) => {
            let lines: Vec<&[u8]> = e.iter().map(HeaderValue::as_bytes).collect();
            if let Some(v) = merge_vary_values(lines.iter().copied(), flags.bits()) {
                e.insert(v);
            }
        }
    }
}

/// Merges `Vary` lines with the tokens in `bits`; `None` when nothing needs to change.
///
/// Framework adapters with their own header types use this through [`vary_merge`].
pub(crate) fn merge_vary_values<'v>(
    existing: impl Iterator<Item = &'v [u8]> + Clone,
    bits: u8,
) -> Option<HeaderValue> {
    let has = |tok: &str| {
        existing.clone().any(|line| {
            line.split(|&b| b == b',')
                .map(headers::trim_ows)
                .any(|t| t == b"*" || t.eq_ignore_ascii_case(tok.as_bytes()))
        })
    };
    let missing: Vec<&str> = VARY_TOKENS
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, t)| *t)
        .filter(|t| !has(t))
        .collect();
    let lines: Vec<&[u8]> = existing.collect();
    if missing.is_empty() && lines.len() <= 1 {
        return None;
    }
    let mut out: Vec<u8> = Vec::with_capacity(64);
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for tok in lines
        .iter()
        .flat_map(|l| l.split(|&b| b == b','))
        .map(headers::trim_ows)
        .filter(|t| !t.is_empty())
        .chain(missing.iter().map(|t| t.as_bytes()))
    {
        let lower = tok.to_ascii_lowercase();
        if seen.contains(&lower) {
            continue;
        }
        seen.push(lower);
        if !out.is_empty() {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(tok);
    }
    HeaderValue::from_bytes(&out).ok()
}

/// Merges `Vary` header lines (as bytes) with `tokens`, for frameworks whose header map is
/// not `http::HeaderMap`. Returns the single replacement line, or `None` if nothing changes.
///
/// ```
/// let v = corsguard::adapter::vary_merge([&b"accept-encoding"[..]], ["Origin"]).unwrap();
/// assert_eq!(v, "accept-encoding, Origin");
/// assert!(corsguard::adapter::vary_merge([&b"origin"[..]], ["Origin"]).is_none());
/// ```
pub fn vary_merge<'v, 't>(
    existing: impl IntoIterator<Item = &'v [u8]>,
    tokens: impl IntoIterator<Item = &'t str>,
) -> Option<HeaderValue> {
    let lines: Vec<&[u8]> = existing.into_iter().collect();
    let mut bits = 0u8;
    for t in tokens {
        if let Some(i) = VARY_TOKENS.iter().position(|x| x.eq_ignore_ascii_case(t)) {
            bits |= 1 << i;
        }
    }
    if lines.is_empty() {
        return VARY_VALUES
            .get(usize::from(bits))
            .filter(|s| !s.is_empty())
            .map(|s| HeaderValue::from_static(s));
    }
    merge_vary_values(lines.iter().copied(), bits)
}
