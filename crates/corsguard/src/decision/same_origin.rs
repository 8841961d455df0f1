//! Same-origin requests: an `Origin` naming the request's own scheme, host and port is not
//! cross-origin.

use super::RequestHead;
use crate::policy::CorsRule;
use crate::trace::Tracer;

impl RequestHead<'_> {
    /// `scheme://host[:port]` of the request itself equals `Origin`?
    pub(crate) fn is_same_origin(&self, origin: &[u8]) -> bool {
        let Some(host) = self.host else {
            return false;
        };
        // Behind a server that does not tell the scheme (origin-form request targets), an
        // Origin naming our own host and port over http or https is still us.
        let (scheme, rest) = match self.scheme {
            Some(s) => (
                s,
                origin
                    .strip_prefix(s.as_bytes())
                    .and_then(|r| r.strip_prefix(b"://")),
            ),
            None => match origin.strip_prefix(b"https://") {
                Some(r) => ("https", Some(r)),
                None => ("http", origin.strip_prefix(b"http://")),
            },
        };
        let Some(rest) = rest else {
            return false;
        };
        let default_port = match scheme {
            "http" | "ws" => ":80",
            "https" | "wss" => ":443",
            _ => "",
        };
        let host = if !default_port.is_empty() {
            host.strip_suffix(default_port).unwrap_or(host)
        } else {
            host
        };
        rest.eq_ignore_ascii_case(host.as_bytes()) && !rest.iter().any(u8::is_ascii_uppercase)
    }
}

/// The same-origin step: with `skip_same_origin`, a single `Origin` line naming the
/// request's own origin is not cross-origin, and is passed through.
#[inline]
pub(super) fn skip<T: Tracer>(
    c: &CorsRule,
    req: &RequestHead<'_>,
    origin: &[u8],
    t: &mut T,
) -> bool {
    if c.skip_same_origin && req.origin_lines == 1 && req.is_same_origin(origin) {
        t.step("same-origin", Some(true), || {
            "Origin equals the request's own origin: not cross-origin, passed through".into()
        });
        return true;
    }
    false
}
