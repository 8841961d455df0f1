//! What a decision says: the request's kind, the refusal, the action for the adapter, and
//! the headers it plans to write.

use http::StatusCode;
use http::header::HeaderValue;

use super::vary::VaryFlags;
use crate::csrf::CsrfVerdict;

/// What kind of request this is, per Fetch.
///
/// ```
/// assert_eq!(corsguard::adapter::RequestKind::Preflight.to_string(), "preflight");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RequestKind {
    /// No `Origin` header.
    NonCors,
    /// `Origin` equals the request's own origin (skipped as configured).
    SameOrigin,
    /// `OPTIONS` + `Origin` + `Access-Control-Request-Method`.
    Preflight,
    /// Any other request with `Origin` (including `OPTIONS` without ACRM).
    Actual,
}

impl std::fmt::Display for RequestKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RequestKind::NonCors => "non-cors",
            RequestKind::SameOrigin => "same-origin",
            RequestKind::Preflight => "preflight",
            RequestKind::Actual => "actual",
        })
    }
}

/// Why a request was refused.
///
/// ```
/// assert_eq!(corsguard::Refusal::OriginNotAllowed.code(), "origin-not-allowed");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Refusal {
    /// `Origin` is not in the allow-list.
    OriginNotAllowed,
    /// `Origin: null` and `allow_null_origin` is off.
    NullOrigin,
    /// `Origin` longer than 326 bytes.
    OriginTooLong,
    /// Several `Origin` header lines.
    MultipleOrigins,
    /// The requested method is not allowed.
    MethodNotAllowed,
    /// `Access-Control-Request-Method` is not a single method token (or was sent twice).
    InvalidRequestMethod,
    /// A requested header is not allowed.
    HeaderNotAllowed,
    /// `Access-Control-Request-Headers` is malformed or over the parsing limits.
    MalformedRequestHeaders,
    /// `Access-Control-Request-Private-Network: true` and PNA is off.
    PrivateNetworkNotAllowed,
}

impl Refusal {
    /// A stable kebab-case code (used in logs and metrics labels).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::OriginNotAllowed => "origin-not-allowed",
            Refusal::NullOrigin => "null-origin",
            Refusal::OriginTooLong => "origin-too-long",
            Refusal::MultipleOrigins => "multiple-origins",
            Refusal::MethodNotAllowed => "method-not-allowed",
            Refusal::InvalidRequestMethod => "invalid-request-method",
            Refusal::HeaderNotAllowed => "header-not-allowed",
            Refusal::MalformedRequestHeaders => "malformed-request-headers",
            Refusal::PrivateNetworkNotAllowed => "private-network-not-allowed",
        }
    }

    /// `true` for refusals about the origin (as opposed to method/headers).
    pub fn is_origin(&self) -> bool {
        matches!(
            self,
            Refusal::OriginNotAllowed
                | Refusal::NullOrigin
                | Refusal::OriginTooLong
                | Refusal::MultipleOrigins
        )
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// What the adapter must do with the request.
///
/// ```
/// assert_eq!(corsguard::adapter::Action::Respond(http::StatusCode::NO_CONTENT), corsguard::adapter::Action::Respond(http::StatusCode::NO_CONTENT));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Answer here with this status and an empty body (after [`Decision::apply`]); do not
    /// call the application.
    Respond(StatusCode),
    /// Call the application, then [`Decision::apply`] to whatever response comes back.
    Forward,
    /// Call the application and change nothing (`cors: false` rule, or shadow mode).
    PassThrough,
}

/// The decision for one request: what to do, and which headers to write.
///
/// Owns cheap clones of the policy's precomputed values (reference-counted bytes), so it can
/// outlive the borrowed request and be applied after the application has responded.
#[derive(Debug, Clone)]
#[non_exhaustive]
#[must_use = "a Decision does nothing until applied to a response"]
pub struct Decision {
    pub(crate) kind: RequestKind,
    pub(crate) refusal: Option<Refusal>,
    pub(crate) action: Action,
    pub(crate) rule_index: Option<usize>,
    pub(crate) shadow: bool,
    pub(crate) cors_enabled: bool,
    pub(crate) plan: HeaderPlan,
    pub(crate) csrf: CsrfVerdict,
}

/// The headers a decision writes.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeaderPlan {
    pub(crate) acao: Option<HeaderValue>,
    pub(crate) acac: bool,
    pub(crate) acam: Option<HeaderValue>,
    pub(crate) acah: Option<HeaderValue>,
    pub(crate) acma: Option<HeaderValue>,
    pub(crate) acapn: bool,
    pub(crate) aceh: Option<HeaderValue>,
    pub(crate) vary: VaryFlags,
    /// Remove the application's own CORS headers first.
    pub(crate) owns: bool,
}

impl Decision {
    /// The CSRF outcome (`NotChecked` unless the rule's `csrf.mode` is `enforce` or
    /// `report`). An enforced refusal makes [`Decision::action`] `Respond(403)`, with
    /// [`Decision::body`] naming the reason.
    ///
    /// ```
    /// use corsguard::{CsrfRefusal, CsrfVerdict, Policy};
    /// use corsguard::adapter::RequestHead;
    /// let p = Policy::from_yaml_str("defaults: {allow_origins: ['https://app.example'], csrf: {mode: enforce}}")?;
    /// let mut h = RequestHead::new("POST", "/transfer");
    /// h.push_header_bytes("origin", b"https://evil.example");
    /// h.push_header_bytes("sec-fetch-site", b"cross-site");
    /// let d = p.decide(&h);
    /// assert_eq!(d.csrf(), CsrfVerdict::Refused { refusal: CsrfRefusal::CrossSite, enforced: true });
    /// assert_eq!(d.action(), corsguard::adapter::Action::Respond(http::StatusCode::FORBIDDEN));
    /// assert!(d.body().starts_with("403 Forbidden"));
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn csrf(&self) -> CsrfVerdict {
        self.csrf
    }

    /// The body of an [`Action::Respond`] answer: empty, except for an enforced CSRF
    /// refusal (a short text naming the reason and the fix; `text/plain`).
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
    /// assert!(p.decide(&corsguard::adapter::RequestHead::new("GET", "/")).body().is_empty());
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn body(&self) -> &'static str {
        match self.csrf {
            CsrfVerdict::Refused {
                refusal,
                enforced: true,
            } => refusal.body(),
            _ => "",
        }
    }

    /// `true` when CORS or the CSRF check refused the request (in any mode).
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
    /// assert!(!p.decide(&corsguard::adapter::RequestHead::new("GET", "/")).is_refused());
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn is_refused(&self) -> bool {
        self.refusal.is_some() || self.csrf.refusal().is_some()
    }

    /// The request's kind.
    pub fn kind(&self) -> RequestKind {
        self.kind
    }

    /// What to do.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The refusal, if the request was refused (also reported in shadow mode, where nothing
    /// is enforced).
    pub fn refusal(&self) -> Option<Refusal> {
        self.refusal
    }

    /// `true` for an allowed preflight or actual request.
    pub fn is_allowed(&self) -> bool {
        self.refusal.is_none()
            && matches!(self.kind, RequestKind::Preflight | RequestKind::Actual)
            && self.cors_enabled
    }

    /// `true` if the matching rule is in shadow mode (nothing is enforced).
    pub fn is_shadow(&self) -> bool {
        self.shadow
    }

    /// `false` when the matching rule says `cors: false`.
    pub fn cors_enabled(&self) -> bool {
        self.cors_enabled
    }

    /// Index of the matching path rule (`None` = defaults).
    pub fn rule_index(&self) -> Option<usize> {
        self.rule_index
    }
}
