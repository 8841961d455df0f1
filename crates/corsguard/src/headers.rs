//! Header-name and method grammar, the Fetch lists (forbidden, safelisted), and the bounded
//! `Access-Control-Request-Headers` parser.

/// `tchar` of RFC 9110 §5.6.2.
const fn tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// `tchar` as a table: one load per byte on the hot path.
static TCHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = tchar(i as u8);
        i += 1;
    }
    t
};

fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// Whether `s` is an RFC 9110 `token` (`1*tchar`, §5.6.2): the grammar of a method and of a
/// header name.
///
/// ```
/// use corsguard::fetch::is_token;
///
/// assert!(is_token(b"X-Trace-Id"));
/// assert!(is_token(b"PATCH"));
/// assert!(!is_token(b""));
/// assert!(!is_token(b"x trace"));
/// assert!(!is_token("résumé".as_bytes()));
/// ```
pub fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Whether `m` is a [forbidden method](https://fetch.spec.whatwg.org/#forbidden-method):
/// `CONNECT`, `TRACE` or `TRACK`, compared ASCII-case-insensitively. A page cannot send one.
///
/// ```
/// use corsguard::fetch::is_forbidden_method;
///
/// assert!(is_forbidden_method("TRACE"));
/// assert!(is_forbidden_method("connect"));
/// assert!(!is_forbidden_method("PATCH"));
/// ```
pub fn is_forbidden_method(m: &str) -> bool {
    ["CONNECT", "TRACE", "TRACK"]
        .iter()
        .any(|f| f.eq_ignore_ascii_case(m))
}

/// `#cors-safelisted-method` (byte-exact: `get` is not safelisted).
pub(crate) fn is_safelisted_method(m: &[u8]) -> bool {
    matches!(m, b"GET" | b"HEAD" | b"POST")
}

/// Methods the Fetch standard upper-cases when a script passes them (`#concept-method-normalize`).
pub(crate) fn normalized_method(m: &str) -> Option<&'static str> {
    ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]
        .into_iter()
        .find(|n| n.eq_ignore_ascii_case(m))
}

/// Whether `name` is on the Fetch standard's list of
/// [forbidden request-headers](https://fetch.spec.whatwg.org/#forbidden-request-header)
/// (`Cookie`, `Host`, `Origin`, …, and every `Proxy-*` and `Sec-*` name), compared
/// ASCII-case-insensitively: the browser sets these itself, and a script cannot.
///
/// Only the name is checked. The standard also forbids `X-HTTP-Method`,
/// `X-HTTP-Method-Override` and `X-Method-Override` when their value names a
/// [forbidden method](is_forbidden_method); that depends on the value and is left to the
/// caller.
///
/// ```
/// use corsguard::fetch::is_forbidden_request_header;
///
/// assert!(is_forbidden_request_header("cookie"));
/// assert!(is_forbidden_request_header("Sec-Fetch-Mode"));
/// assert!(is_forbidden_request_header("proxy-authorization"));
/// assert!(!is_forbidden_request_header("authorization"));
/// ```
pub fn is_forbidden_request_header(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "accept-charset",
        "accept-encoding",
        "access-control-request-headers",
        "access-control-request-method",
        "connection",
        "content-length",
        "cookie",
        "cookie2",
        "date",
        "dnt",
        "expect",
        "host",
        "keep-alive",
        "origin",
        "referer",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
    ];
    let has_prefix = |prefix: &str| {
        name.as_bytes()
            .get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix.as_bytes()))
    };
    NAMES.iter().any(|n| n.eq_ignore_ascii_case(name)) || has_prefix("proxy-") || has_prefix("sec-")
}

/// CORS response headers, which make no sense as request headers.
pub(crate) fn is_cors_response_header(lower: &str) -> bool {
    lower.starts_with("access-control-allow-")
        || lower == "access-control-max-age"
        || lower == "access-control-expose-headers"
}

/// `#cors-safelisted-response-header-name` (always exposed).
pub(crate) fn is_safelisted_response_header(lower: &str) -> bool {
    matches!(
        lower,
        "cache-control"
            | "content-language"
            | "content-length"
            | "content-type"
            | "expires"
            | "last-modified"
            | "pragma"
    )
}

/// Limits on the work spent parsing `Access-Control-Request-Headers`.
pub(crate) mod limits {
    /// Header lines considered; more lines ⇒ refused.
    pub(crate) const MAX_LINES: usize = 16;
    /// Total bytes over all lines; more ⇒ refused (a browser never sends anywhere near this).
    pub(crate) const MAX_BYTES: usize = 4096;
    /// Empty elements (`a,,b`, empty lines) tolerated in total.
    pub(crate) const MAX_EMPTY: usize = 16;
    /// Names per request.
    pub(crate) const MAX_NAMES: usize = 64;
}

/// Why an ACRH value could not be accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AcrhError {
    TooManyLines,
    TooLong,
    TooManyEmpty,
    TooManyNames,
    /// Byte range (line index, start, end) of the element that is not a token.
    NotAToken(usize, usize, usize),
}

impl AcrhError {
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            AcrhError::TooManyLines => "more than 16 Access-Control-Request-Headers lines",
            AcrhError::TooLong => "Access-Control-Request-Headers longer than 4096 bytes",
            AcrhError::TooManyEmpty => {
                "more than 16 empty elements in Access-Control-Request-Headers"
            }
            AcrhError::TooManyNames => "more than 64 names in Access-Control-Request-Headers",
            AcrhError::NotAToken(..) => {
                "an Access-Control-Request-Headers element is not a header name"
            }
        }
    }
}

/// Calls `f` with each header name of ACRH (trimmed, original case), in order.
///
/// Lenient on optional whitespace, empty elements and several lines (some proxies split
/// ACRH), but every dimension is capped, so a hostile header costs bounded time (rs/cors#170).
/// `f` returns `false` to stop early.
pub(crate) fn for_each_acrh_name<'a>(
    lines: &[&'a [u8]],
    mut f: impl FnMut(&'a [u8]) -> bool,
) -> Result<(), AcrhError> {
    if lines.len() > limits::MAX_LINES {
        return Err(AcrhError::TooManyLines);
    }
    if lines.iter().map(|l| l.len()).sum::<usize>() > limits::MAX_BYTES {
        return Err(AcrhError::TooLong);
    }
    let mut empty = 0usize;
    let mut names = 0usize;
    for (li, line) in lines.iter().enumerate() {
        let mut start = 0usize;
        for (i, piece) in line.split(|&b| b == b',').enumerate() {
            let _ = i;
            let trimmed = trim_ows(piece);
            let piece_start = start;
            start += piece.len() + 1;
            if trimmed.is_empty() {
                empty += 1;
                if empty > limits::MAX_EMPTY {
                    return Err(AcrhError::TooManyEmpty);
                }
                continue;
            }
            if !is_token(trimmed) {
                return Err(AcrhError::NotAToken(
                    li,
                    piece_start,
                    piece_start + piece.len(),
                ));
            }
            names += 1;
            if names > limits::MAX_NAMES {
                return Err(AcrhError::TooManyNames);
            }
            if !f(trimmed) {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Strips spaces and tabs at both ends.
pub(crate) fn trim_ows(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |i| i + 1);
    s.get(start..end).unwrap_or(&[])
}

/// A set of lower-case header names supporting allocation-free case-insensitive lookup.
#[derive(Debug, Clone, Default)]
pub(crate) struct NameSet {
    /// Sorted, de-duplicated, lower-case.
    names: Vec<String>,
    max_len: usize,
}

impl NameSet {
    pub(crate) fn new(mut names: Vec<String>) -> Self {
        for n in &mut names {
            n.make_ascii_lowercase();
        }
        names.sort();
        names.dedup();
        let max_len = names.iter().map(String::len).max().unwrap_or(0);
        NameSet { names, max_len }
    }

    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    /// Case-insensitive membership without allocating.
    pub(crate) fn contains(&self, name: &[u8]) -> bool {
        if name.len() > self.max_len {
            return false;
        }
        // The stored names are lower-case and sorted. Browsers send lower-case names, which
        // are searched as they are; others are lower-cased into a small stack buffer.
        let search = |needle: &[u8]| {
            self.names
                .binary_search_by(|n| n.as_bytes().cmp(needle))
                .is_ok()
        };
        if !name.iter().any(u8::is_ascii_uppercase) {
            return search(name);
        }
        let mut buf = [0u8; 128];
        match buf.get_mut(..name.len()) {
            Some(dst) => {
                for (d, s) in dst.iter_mut().zip(name) {
                    *d = s.to_ascii_lowercase();
                }
                search(dst)
            }
            None => search(&name.to_ascii_lowercase()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(lines: &[&[u8]]) -> Result<Vec<String>, AcrhError> {
        let mut out = Vec::new();
        for_each_acrh_name(lines, |n| {
            out.push(String::from_utf8_lossy(n).into_owned());
            true
        })?;
        Ok(out)
    }

    #[test]
    fn acrh_is_parsed_leniently() {
        assert_eq!(
            names(&[b"x-bar,x-baz,x-foo"]).unwrap(),
            ["x-bar", "x-baz", "x-foo"]
        );
        assert_eq!(names(&[b" x-bar , x-baz ,"]).unwrap(), ["x-bar", "x-baz"]);
        assert_eq!(
            names(&[b"x-bar", b"x-baz,x-foo"]).unwrap(),
            ["x-bar", "x-baz", "x-foo"]
        );
        assert_eq!(names(&[b"\t, , "]).unwrap(), Vec::<String>::new());
        assert!(names(&[b""]).unwrap().is_empty());
    }

    #[test]
    fn acrh_hostile_inputs_are_bounded() {
        let commas = vec![b','; 17];
        assert_eq!(names(&[&commas]), Err(AcrhError::TooManyEmpty));
        let sixteen = vec![b','; 15];
        assert!(names(&[&sixteen]).is_ok());
        let many: Vec<&[u8]> = vec![b"a"; 17];
        assert_eq!(names(&many), Err(AcrhError::TooManyLines));
        let huge = vec![b'a'; 5000];
        assert_eq!(names(&[&huge]), Err(AcrhError::TooLong));
        assert!(matches!(names(&[b"x foo"]), Err(AcrhError::NotAToken(..))));
        let lots = "a,".repeat(65);
        assert_eq!(names(&[lots.as_bytes()]), Err(AcrhError::TooManyNames));
    }

    #[test]
    fn name_set_is_case_insensitive() {
        let s = NameSet::new(vec!["X-Foo".into(), "content-type".into(), "x-foo".into()]);
        assert_eq!(s.names(), ["content-type", "x-foo"]);
        assert!(s.contains(b"X-FOO"));
        assert!(s.contains(b"content-type"));
        assert!(!s.contains(b"x-fo"));
        assert!(!s.contains(&[b'a'; 300]));
    }

    #[test]
    fn grammar() {
        assert!(is_token(b"X-Foo"));
        assert!(!is_token(b"r\xc3\xa9sum\xc3\xa9"));
        assert!(!is_token(b""));
        assert!(is_forbidden_method("trace"));
        assert!(is_forbidden_request_header("sec-fetch-mode"));
        assert!(is_forbidden_request_header("proxy-authorization"));
        assert!(!is_forbidden_request_header("authorization"));
        assert!(is_forbidden_request_header("Content-Length"));
        assert!(is_forbidden_request_header("SEC-CH-UA"));
        assert!(!is_forbidden_request_header("sec"));
        assert!(!is_forbidden_request_header("proxy"));
        assert_eq!(normalized_method("put"), Some("PUT"));
        assert_eq!(normalized_method("patch"), None);
    }
}
