//! Origin trust: whether a request's `Origin` is one the policy trusts, not merely one CORS
//! lets read (the gateway's WebSocket origin check).

use super::RequestHead;
use crate::policy::Policy;

/// How far a policy trusts a request's `Origin` ([`Policy::origin_trust`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OriginTrust {
    /// No `Origin` header (not sent by a browser, or a same-origin `GET`).
    NoOrigin,
    /// The request's own origin (scheme, host and port).
    SameOrigin,
    /// An explicit entry of the rule's `allow_origins` matched.
    Listed,
    /// Not trusted, and why.
    Untrusted(UntrustedOrigin),
}

impl OriginTrust {
    /// `true` for [`OriginTrust::Untrusted`].
    ///
    /// ```
    /// assert!(!corsguard::adapter::OriginTrust::NoOrigin.is_untrusted());
    /// ```
    pub fn is_untrusted(self) -> bool {
        matches!(self, OriginTrust::Untrusted(_))
    }
}

/// Why an origin is not trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UntrustedOrigin {
    /// Several `Origin` header lines.
    MultipleOrigins,
    /// The matching rule has `cors: false`.
    CorsDisabled,
    /// `Origin: null` (sandboxed documents, `file:` pages, some redirects).
    Null,
    /// Only `*` admits it (`*` grants reading, never trust).
    OnlyWildcard,
    /// No entry of `allow_origins` matches.
    NotListed,
}

impl UntrustedOrigin {
    /// A short explanation for logs and error bodies.
    ///
    /// ```
    /// assert!(corsguard::adapter::UntrustedOrigin::OnlyWildcard.describe().contains('*'));
    /// ```
    pub fn describe(self) -> &'static str {
        match self {
            UntrustedOrigin::MultipleOrigins => "several Origin header lines",
            UntrustedOrigin::CorsDisabled => {
                "the rule has `cors: false`, so only same-origin requests are trusted"
            }
            UntrustedOrigin::Null => "`null` is never a trusted origin",
            UntrustedOrigin::OnlyWildcard => {
                "only `*` admits it, and `*` never makes an origin trusted: list it explicitly"
            }
            UntrustedOrigin::NotListed => "it matches no entry of allow_origins",
        }
    }
}

impl Policy {
    /// Whether the request's `Origin` is one the policy *trusts*, not merely one CORS lets
    /// read: the request's own origin, or an explicit entry of the matching rule's
    /// `allow_origins`. A bare `*` never makes an origin trusted, `null` is never trusted
    /// (`allow_null_origin` only lets it read), a rule with `cors: false` trusts no other
    /// origin, and several `Origin` lines are never trusted. The gateway's WebSocket
    /// origin check uses this (a handshake carries cookies, so `*` must not admit it).
    ///
    /// ```
    /// use corsguard::Policy;
    /// use corsguard::adapter::{OriginTrust, RequestHead, UntrustedOrigin};
    /// let p = Policy::from_yaml_str(r#"
    /// defaults: { allow_origins: ['https://app.example.com'] }
    /// paths: [{ path: /public/, allow_origins: ['*'] }]
    /// "#)?;
    /// let trust = |path, origin: &'static str| {
    ///     let o = http::HeaderValue::from_static(origin);
    ///     let mut h = RequestHead::new("GET", path).with_host(Some("api.example.com")).with_scheme(Some("https"));
    ///     h.push_header(&http::header::ORIGIN, &o);
    ///     p.origin_trust(&h)
    /// };
    /// assert_eq!(trust("/ws", "https://app.example.com"), OriginTrust::Listed);
    /// assert_eq!(trust("/ws", "https://api.example.com"), OriginTrust::SameOrigin);
    /// assert_eq!(trust("/public/ws", "https://evil.example"), OriginTrust::Untrusted(UntrustedOrigin::OnlyWildcard));
    /// assert_eq!(trust("/ws", "https://evil.example"), OriginTrust::Untrusted(UntrustedOrigin::NotListed));
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn origin_trust(&self, req: &RequestHead<'_>) -> OriginTrust {
        let Some(origin) = req.origin else {
            return OriginTrust::NoOrigin;
        };
        if req.origin_lines > 1 {
            return OriginTrust::Untrusted(UntrustedOrigin::MultipleOrigins);
        }
        if req.is_same_origin(origin) {
            return OriginTrust::SameOrigin;
        }
        let Some(c) = &self.rule_for(req.path, req.host).cors else {
            return OriginTrust::Untrusted(UntrustedOrigin::CorsDisabled);
        };
        if origin == b"null" {
            return OriginTrust::Untrusted(UntrustedOrigin::Null);
        }
        if origin.len() <= crate::origin::MAX_ORIGIN_LEN && c.matcher.find(origin).is_some() {
            return OriginTrust::Listed;
        }
        OriginTrust::Untrusted(if c.any_origin {
            UntrustedOrigin::OnlyWildcard
        } else {
            UntrustedOrigin::NotListed
        })
    }
}
