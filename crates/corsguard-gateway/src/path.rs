//! The one canonical request path: what rules are matched on, what the WebSocket check sees,
//! and what is forwarded (joined to an upstream's base path). The model is Envoy's
//! `normalize_path` + `merge_slashes` and nginx's URI normalisation:
//!
//! 1. percent-encoded unreserved characters (`ALPHA DIGIT - . _ ~`) are decoded, other
//!    escapes keep their bytes with upper-case hex (RFC 3986 §6.2.2);
//! 2. runs of `/` are merged into one;
//! 3. `.` and `..` segments are removed (RFC 3986 §5.2.4 `remove_dot_segments`).
//!
//! What cannot be made unambiguous is refused (the proxy answers 400): an encoded `/` or
//! `\` (`%2F`, `%5C`: one upstream decodes them, another does not; kept encoded only with
//! `gateway.normalize.encoded_slashes: keep`), a raw `\`, an encoded NUL, a malformed
//! escape, a `..` that would climb above the root, and `.`/`..` segments with `;`
//! parameters (which Java servers treat as dot segments).

use std::borrow::Cow;

use corsguard::gateway::EncodedSlashes;

/// Why a path was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathError {
    /// `%2F` or `%5C` (with `encoded_slashes: reject`).
    EncodedSlash,
    /// A raw `\`.
    Backslash,
    /// `%00`.
    Nul,
    /// `%` not followed by two hex digits.
    BadEscape,
    /// `..` above the root.
    AboveRoot,
    /// `..;x` or `.;x`.
    DotSegmentParameters,
    /// The path does not start with `/`.
    NotAbsolute,
}

impl PathError {
    pub(crate) fn message(self) -> &'static str {
        match self {
            PathError::EncodedSlash => {
                "the request path holds an encoded slash (%2F or %5C), which upstreams read differently"
            }
            PathError::Backslash => "the request path holds a backslash",
            PathError::Nul => "the request path holds an encoded NUL (%00)",
            PathError::BadEscape => "the request path holds a malformed percent-escape",
            PathError::AboveRoot => "the request path climbs above the root with `..`",
            PathError::DotSegmentParameters => {
                "the request path holds a `.` or `..` segment with `;` parameters"
            }
            PathError::NotAbsolute => "the request path does not start with `/`",
        }
    }
}

/// How paths are normalised (from `gateway.normalize`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Normalizer {
    pub(crate) encoded_slashes: EncodedSlashes,
    pub(crate) merge_slashes: bool,
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

impl Normalizer {
    /// The canonical form of `path` (borrowed when it already is canonical).
    pub(crate) fn normalize<'p>(&self, path: &'p str) -> Result<Cow<'p, str>, PathError> {
        let bytes = path.as_bytes();
        if bytes.first() != Some(&b'/') {
            return Err(PathError::NotAbsolute);
        }
        // Fast path: nothing to decode, merge or remove.
        let needs_work = bytes.contains(&b'%')
            || bytes.contains(&b'\\')
            || (self.merge_slashes && path.contains("//"))
            || has_dot_segment(path);
        if !needs_work {
            return Ok(Cow::Borrowed(path));
        }
        // 1. Decode unreserved escapes, refuse the ambiguous ones.
        let mut decoded = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match b {
                b'\\' => return Err(PathError::Backslash),
                b'%' => {
                    let (Some(h), Some(l)) = (
                        bytes.get(i + 1).copied().and_then(hex),
                        bytes.get(i + 2).copied().and_then(hex),
                    ) else {
                        return Err(PathError::BadEscape);
                    };
                    let v = h * 16 + l;
                    match v {
                        0 => return Err(PathError::Nul),
                        b'/' | b'\\' if self.encoded_slashes == EncodedSlashes::Reject => {
                            return Err(PathError::EncodedSlash);
                        }
                        v if unreserved(v) => decoded.push(v),
                        v => decoded.extend_from_slice(&[
                            b'%',
                            HEX[usize::from(v >> 4)],
                            HEX[usize::from(v & 15)],
                        ]),
                    }
                    i += 3;
                }
                b => {
                    decoded.push(b);
                    i += 1;
                }
            }
        }
        // 2-3. Merge slashes, remove dot segments.
        let mut out: Vec<&[u8]> = Vec::new();
        let segments: Vec<&[u8]> = decoded[1..].split(|&b| b == b'/').collect();
        let last = segments.len() - 1;
        let mut trailing = false;
        for (n, seg) in segments.iter().enumerate() {
            let name = seg.split(|&b| b == b';').next().unwrap_or(seg);
            let params = name.len() != seg.len();
            match name {
                b"." | b".." if params => return Err(PathError::DotSegmentParameters),
                b"." => trailing = n == last,
                b".." => {
                    if out.pop().is_none() {
                        return Err(PathError::AboveRoot);
                    }
                    trailing = n == last;
                }
                b"" if self.merge_slashes => trailing = n == last,
                _ => {
                    out.push(seg);
                    trailing = false;
                }
            }
        }
        let mut s = Vec::with_capacity(decoded.len());
        for seg in &out {
            s.push(b'/');
            s.extend_from_slice(seg);
        }
        if trailing || out.is_empty() {
            s.push(b'/');
        }
        // Only ASCII bytes of the input, and upper-case hex, were written.
        let s = String::from_utf8(s).map_err(|_| PathError::BadEscape)?;
        Ok(if s == path {
            Cow::Borrowed(path)
        } else {
            Cow::Owned(s)
        })
    }
}

/// `true` if some segment is `.` or `..` (possibly with `;` parameters).
fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|seg| {
        let name = seg.split(';').next().unwrap_or(seg);
        name == "." || name == ".."
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const N: Normalizer = Normalizer {
        encoded_slashes: EncodedSlashes::Reject,
        merge_slashes: true,
    };

    #[test]
    fn canonical_paths() {
        for (input, want) in [
            ("/", "/"),
            ("/a/b", "/a/b"),
            ("/a/b/", "/a/b/"),
            ("/public/../secret.txt", "/secret.txt"),
            ("/public/%2e%2e/secret.txt", "/secret.txt"),
            ("/public/%2E%2e/secret.txt", "/secret.txt"),
            ("/public/.%2e/secret.txt", "/secret.txt"),
            ("/a/./b/.", "/a/b/"),
            ("/a/b/..", "/a/"),
            ("/a/..", "/"),
            ("//a///b", "/a/b"),
            ("/public//../secret", "/secret"),
            ("/%41%7e%2D", "/A~-"),
            ("/caf%c3%a9", "/caf%C3%A9"),
            ("/a%20b", "/a%20b"),
            ("/%252e%252e/x", "/%252e%252e/x"),
            ("/a;b/c", "/a;b/c"),
            ("/...", "/..."),
        ] {
            assert_eq!(N.normalize(input).as_deref(), Ok(want), "{input}");
        }
    }

    #[test]
    fn ambiguous_paths_are_refused() {
        for (input, err) in [
            ("/public/..%2fsecret.txt", PathError::EncodedSlash),
            ("/public/..%2Fsecret.txt", PathError::EncodedSlash),
            ("/public/..%5csecret.txt", PathError::EncodedSlash),
            ("/public/..\\secret.txt", PathError::Backslash),
            ("/a%00b", PathError::Nul),
            ("/a%2", PathError::BadEscape),
            ("/a%zz", PathError::BadEscape),
            ("/..", PathError::AboveRoot),
            ("/files/%2e%2e/%2e%2e/secret.txt", PathError::AboveRoot),
            ("/public/..;/secret.txt", PathError::DotSegmentParameters),
            ("/public/.;x/secret.txt", PathError::DotSegmentParameters),
            ("*", PathError::NotAbsolute),
            ("a/b", PathError::NotAbsolute),
        ] {
            assert_eq!(N.normalize(input), Err(err), "{input}");
        }
    }

    #[test]
    fn options_keep_encoded_slashes_and_double_slashes() {
        let keep = Normalizer {
            encoded_slashes: EncodedSlashes::Keep,
            merge_slashes: false,
        };
        assert_eq!(keep.normalize("/a%2fb").as_deref(), Ok("/a%2Fb"));
        assert_eq!(keep.normalize("/a//b/../c").as_deref(), Ok("/a//c"));
        assert_eq!(keep.normalize("//a").as_deref(), Ok("//a"));
        assert_eq!(keep.normalize("/..%2f").as_deref(), Ok("/..%2F"));
    }

    #[test]
    fn canonical_input_is_borrowed() {
        assert!(matches!(N.normalize("/v1/items"), Ok(Cow::Borrowed(_))));
        assert!(matches!(N.normalize("/a%20b"), Ok(Cow::Borrowed(_))));
    }
}
