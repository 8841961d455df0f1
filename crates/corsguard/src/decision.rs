//! Classify a request (`#cors-request`, `#cors-preflight-request`), decide it against the
//! matching rule, and render the decision into response headers.

use http::StatusCode;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::config::raw::{Mode, OnReject};
use crate::csrf::{CsrfRefusal, CsrfVerdict};
use crate::headers::{self, AcrhError};
use crate::policy::{CorsRule, Policy, Rule};
use crate::trace::{NoTrace, Tracer};

/// Longest `Access-Control-Request-Method` considered; longer ones are refused unread.
const MAX_METHOD_LEN: usize = 64;

/// Maximum `Access-Control-Request-Headers` lines kept by [`RequestHead`].
const MAX_ACRH_LINES: usize = headers::limits::MAX_LINES;

/// A borrowed view of what CORS needs from a request: method, path, host, scheme and the
/// `Origin`, `Access-Control-Request-*` header values. Adapters build it without copying.
///
/// ```
/// use corsguard::RequestHead;
/// let req = http::Request::builder()
///     .method("OPTIONS")
///     .uri("https://api.example.com/v1/items")
///     .header("origin", "https://app.example.com")
///     .header("access-control-request-method", "PUT")
///     .body(())
///     .unwrap();
/// let head = RequestHead::from_request(&req);
/// assert_eq!(head.path(), "/v1/items");
/// assert_eq!(head.host(), Some("api.example.com"));
/// assert_eq!(head.origin(), Some(&b"https://app.example.com"[..]));
/// ```
#[derive(Debug, Clone)]
pub struct RequestHead<'a> {
    method: &'a str,
    path: &'a str,
    host: Option<&'a str>,
    scheme: Option<&'a str>,
    origin: Option<&'a [u8]>,
    origin_value: Option<&'a HeaderValue>,
    origin_lines: u8,
    acrm: Option<&'a [u8]>,
    acrm_value: Option<&'a HeaderValue>,
    acrm_lines: u8,
    acrh: [&'a [u8]; MAX_ACRH_LINES],
    acrh_lines: usize,
    acrpn: Option<&'a [u8]>,
    sec_fetch_site: Option<&'a [u8]>,
    sec_fetch_site_lines: u8,
}

impl<'a> RequestHead<'a> {
    /// A head with a method and path, and no headers yet.
    ///
    /// ```
    /// let h = corsguard::RequestHead::new("GET", "/");
    /// assert!(h.origin().is_none());
    /// ```
    pub fn new(method: &'a str, path: &'a str) -> Self {
        RequestHead {
            method,
            path,
            host: None,
            scheme: None,
            origin: None,
            origin_value: None,
            origin_lines: 0,
            acrm: None,
            acrm_value: None,
            acrm_lines: 0,
            acrh: [&[]; MAX_ACRH_LINES],
            acrh_lines: 0,
            acrpn: None,
            sec_fetch_site: None,
            sec_fetch_site_lines: 0,
        }
    }

    /// Sets the `Host` (authority, may include a port), used for `hosts:` rules and the
    /// same-origin check.
    ///
    /// ```
    /// let h = corsguard::RequestHead::new("GET", "/").with_host(Some("api.example.com:8443"));
    /// assert_eq!(h.host(), Some("api.example.com:8443"));
    /// ```
    pub fn with_host(mut self, host: Option<&'a str>) -> Self {
        self.host = host;
        self
    }

    /// Sets the scheme the client used (`http` or `https`), for the same-origin check.
    ///
    /// ```
    /// let h = corsguard::RequestHead::new("GET", "/").with_scheme(Some("https"));
    /// assert_eq!(h.scheme(), Some("https"));
    /// ```
    pub fn with_scheme(mut self, scheme: Option<&'a str>) -> Self {
        self.scheme = scheme;
        self
    }

    /// Records a header if it is one CORS cares about (others are ignored). Call once per
    /// header line.
    ///
    /// ```
    /// let v = http::HeaderValue::from_static("https://a.example");
    /// let mut h = corsguard::RequestHead::new("GET", "/");
    /// h.push_header(&http::header::ORIGIN, &v);
    /// assert_eq!(h.origin(), Some(&b"https://a.example"[..]));
    /// ```
    pub fn push_header(&mut self, name: &HeaderName, value: &'a HeaderValue) {
        if *name == header::ORIGIN {
            self.origin_value = Some(value);
        } else if *name == header::ACCESS_CONTROL_REQUEST_METHOD {
            self.acrm_value = Some(value);
        }
        self.push_header_bytes(name.as_str(), value.as_bytes());
    }

    /// Like [`RequestHead::push_header`] for frameworks with their own header types
    /// (`name` compared case-insensitively).
    ///
    /// ```
    /// let mut h = corsguard::RequestHead::new("OPTIONS", "/");
    /// h.push_header_bytes("Access-Control-Request-Headers", b"x-a");
    /// h.push_header_bytes("access-control-request-headers", b"x-b");
    /// assert_eq!(h.request_header_lines().len(), 2);
    /// ```
    pub fn push_header_bytes(&mut self, name: &str, value: &'a [u8]) {
        if name.eq_ignore_ascii_case("origin") {
            self.set_origin_bytes(value);
        } else if name.eq_ignore_ascii_case("access-control-request-method") {
            self.set_acrm(value);
        } else if name.eq_ignore_ascii_case("access-control-request-headers") {
            self.add_acrh(value);
        } else if name.eq_ignore_ascii_case("access-control-request-private-network") {
            self.acrpn = Some(value);
        } else if name.eq_ignore_ascii_case("sec-fetch-site") {
            self.add_sec_fetch_site(value);
        }
    }

    /// Builds a head from `http` parts: host from the URI authority or the `Host` header,
    /// scheme from the URI when absolute.
    ///
    /// ```
    /// let (parts, _) = http::Request::builder().uri("/x").header("host", "a.example").body(()).unwrap().into_parts();
    /// let h = corsguard::RequestHead::from_parts(&parts);
    /// assert_eq!(h.host(), Some("a.example"));
    /// ```
    pub fn from_parts(parts: &'a http::request::Parts) -> Self {
        Self::from_components(&parts.method, &parts.uri, &parts.headers)
    }

    /// Builds a head from a whole request (see [`RequestHead::from_parts`]).
    ///
    /// ```
    /// let req = http::Request::get("/").body(()).unwrap();
    /// assert_eq!(corsguard::RequestHead::from_request(&req).method(), "GET");
    /// ```
    pub fn from_request<B>(req: &'a http::Request<B>) -> Self {
        Self::from_components(req.method(), req.uri(), req.headers())
    }

    /// Builds a head from method, URI and headers. Reads only what a decision uses: the host,
    /// the `Origin` lines, and, for `OPTIONS` requests with an `Origin` (the only possible
    /// preflights), the `Access-Control-Request-*` lines.
    ///
    /// ```
    /// let m = http::Method::GET;
    /// let u: http::Uri = "/p".parse().unwrap();
    /// let h = http::HeaderMap::new();
    /// assert_eq!(corsguard::RequestHead::from_components(&m, &u, &h).path(), "/p");
    /// ```
    pub fn from_components(
        method: &'a http::Method,
        uri: &'a http::Uri,
        headers: &'a HeaderMap,
    ) -> Self {
        let authority = uri
            .authority()
            .map(|a| a.as_str())
            .map(|a| a.rsplit_once('@').map_or(a, |(_, h)| h));
        let path = uri.path();
        let mut head = RequestHead::new(method.as_str(), if path.is_empty() { "/" } else { path })
            .with_host(authority)
            .with_scheme(uri.scheme_str());
        // One pass over the fields instead of a hashed lookup per name: standard names
        // compare as tags, and a request has few fields. Only a preflight (OPTIONS) uses
        // the Access-Control-Request-* fields.
        let preflight = *method == http::Method::OPTIONS;
        // Only an unsafe method is checked for CSRF, so only then is Sec-Fetch-Site read.
        let unsafe_method = !crate::csrf::csrf_safe_method(method.as_str());
        for (name, value) in headers {
            if *name == header::HOST {
                if authority.is_none() && head.host.is_none() {
                    head.host = value.to_str().ok();
                }
            } else if *name == header::ORIGIN {
                head.set_origin(value);
            } else if unsafe_method && name.as_str() == "sec-fetch-site" {
                head.add_sec_fetch_site(value.as_bytes());
            } else if !preflight {
                continue;
            } else if *name == header::ACCESS_CONTROL_REQUEST_METHOD {
                if head.acrm_lines == 0 {
                    head.acrm_value = Some(value);
                }
                head.set_acrm(value.as_bytes());
            } else if *name == header::ACCESS_CONTROL_REQUEST_HEADERS {
                head.add_acrh(value.as_bytes());
            } else if *name == ACRPN && head.acrpn.is_none() {
                head.acrpn = Some(value.as_bytes());
            }
        }
        if head.origin.is_none() {
            // Not a CORS request: nothing else matters (and nothing else is kept).
            head.acrm = None;
            head.acrm_value = None;
            head.acrm_lines = 0;
            head.acrh_lines = 0;
            head.acrpn = None;
        }
        head
    }

    /// One `Origin` line (from an `http` header value, kept for reuse as ACAO).
    fn set_origin(&mut self, value: &'a HeaderValue) {
        if self.origin_lines == 0 {
            self.origin_value = Some(value);
        }
        self.set_origin_bytes(value.as_bytes());
    }

    fn set_origin_bytes(&mut self, value: &'a [u8]) {
        self.origin = Some(value);
        self.origin_lines = self.origin_lines.saturating_add(1);
        if self.origin_lines > 1 || self.origin_value.is_some_and(|v| v.as_bytes() != value) {
            self.origin_value = None;
        }
    }

    fn set_acrm(&mut self, value: &'a [u8]) {
        self.acrm = Some(value);
        self.acrm_lines = self.acrm_lines.saturating_add(1);
        if self.acrm_value.is_some_and(|v| v.as_bytes() != value) {
            self.acrm_value = None;
        }
    }

    fn add_sec_fetch_site(&mut self, value: &'a [u8]) {
        if self.sec_fetch_site_lines == 0 {
            self.sec_fetch_site = Some(value);
        }
        self.sec_fetch_site_lines = self.sec_fetch_site_lines.saturating_add(1);
    }

    /// The first `Sec-Fetch-Site` value (read by [`RequestHead::from_components`] only
    /// for methods other than `GET`, `HEAD` and `OPTIONS`: the CSRF check needs it only there).
    ///
    /// ```
    /// let mut h = corsguard::RequestHead::new("POST", "/");
    /// h.push_header_bytes("Sec-Fetch-Site", b"cross-site");
    /// assert_eq!(h.sec_fetch_site(), Some(&b"cross-site"[..]));
    /// ```
    pub fn sec_fetch_site(&self) -> Option<&'a [u8]> {
        self.sec_fetch_site
    }

    pub(crate) fn csrf_input(&self) -> crate::csrf::CsrfInput<'a> {
        crate::csrf::CsrfInput {
            method: self.method,
            sec_fetch_site: self.sec_fetch_site,
            sec_fetch_site_lines: self.sec_fetch_site_lines,
            origin: self.origin,
            origin_lines: self.origin_lines,
            host: self.host,
        }
    }

    fn add_acrh(&mut self, value: &'a [u8]) {
        if let Some(slot) = self.acrh.get_mut(self.acrh_lines) {
            *slot = value;
        }
        self.acrh_lines = self.acrh_lines.saturating_add(1);
    }

    /// The method.
    pub fn method(&self) -> &'a str {
        self.method
    }
    /// The path.
    pub fn path(&self) -> &'a str {
        self.path
    }
    /// The host (authority), if known.
    pub fn host(&self) -> Option<&'a str> {
        self.host
    }
    /// The scheme, if known.
    pub fn scheme(&self) -> Option<&'a str> {
        self.scheme
    }
    /// The (last) `Origin` value.
    pub fn origin(&self) -> Option<&'a [u8]> {
        self.origin
    }
    /// The `Access-Control-Request-Method` value.
    pub fn request_method(&self) -> Option<&'a [u8]> {
        self.acrm
    }
    /// The `Access-Control-Request-Headers` lines (at most 16 kept).
    pub fn request_header_lines(&self) -> &[&'a [u8]] {
        self.acrh
            .get(..self.acrh_lines.min(MAX_ACRH_LINES))
            .unwrap_or(&[])
    }

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

/// What kind of request this is, per Fetch.
///
/// ```
/// assert_eq!(corsguard::RequestKind::Preflight.to_string(), "preflight");
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
/// assert_eq!(corsguard::Action::Respond(http::StatusCode::NO_CONTENT), corsguard::Action::Respond(http::StatusCode::NO_CONTENT));
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
const VARY_VALUES: [&str; 16] = [
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
const VARY_TOKENS: [&str; 4] = [
    "Origin",
    "Access-Control-Request-Method",
    "Access-Control-Request-Headers",
    "Access-Control-Request-Private-Network",
];

/// The CORS response headers corsguard owns: on an enforced rule, any value the application
/// set for them is replaced by the policy's (never duplicated).
pub const OWNED_HEADERS: [HeaderName; 7] = [
    header::ACCESS_CONTROL_ALLOW_ORIGIN,
    header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
    header::ACCESS_CONTROL_ALLOW_METHODS,
    header::ACCESS_CONTROL_ALLOW_HEADERS,
    header::ACCESS_CONTROL_MAX_AGE,
    header::ACCESS_CONTROL_EXPOSE_HEADERS,
    ACAPN,
];

/// Names the reason of an enforced CSRF refusal on the 403 (every adapter sends it, also
/// those that cannot write the text body).
const X_CORSGUARD_CSRF: HeaderName = HeaderName::from_static("x-corsguard-csrf");

/// `Access-Control-Request-Private-Network` (not among `http`'s constants).
const ACRPN: HeaderName = HeaderName::from_static("access-control-request-private-network");

/// `Access-Control-Allow-Private-Network` (not among `http`'s constants).
const ACAPN: HeaderName = HeaderName::from_static("access-control-allow-private-network");

/// The decision for one request: what to do, and which headers to write.
///
/// Owns cheap clones of the policy's precomputed values (reference-counted bytes), so it can
/// outlive the borrowed request and be applied after the application has responded.
#[derive(Debug, Clone)]
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

static TRUE: HeaderValue = HeaderValue::from_static("true");

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
    /// assert!(!corsguard::OriginTrust::NoOrigin.is_untrusted());
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
    /// assert!(corsguard::UntrustedOrigin::OnlyWildcard.describe().contains('*'));
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

impl Decision {
    /// Writes the info line [`Policy::decide`] writes for a refused request (target
    /// `corsguard`; the origin, path and request headers cut at [`crate::SHOWN_BYTES`]).
    /// Does nothing for a request that was not refused.
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
    /// let head = corsguard::RequestHead::new("GET", "/");
    /// p.decide_silent(&head).log_refusal(&head); // not refused: writes nothing
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    #[cold]
    pub fn log_refusal(&self, req: &RequestHead<'_>) {
        if let Some(r) = self.refusal {
            log_refusal(req, self, &RefusalReason { req, refusal: r });
        }
        if let Some(r) = self.csrf.refusal() {
            log_csrf_refusal(req, self, r);
        }
    }

    /// The CSRF outcome (`NotChecked` unless the rule's `csrf.mode` is `enforce` or
    /// `report`). An enforced refusal makes [`Decision::action`] `Respond(403)`, with
    /// [`Decision::body`] naming the reason.
    ///
    /// ```
    /// use corsguard::{CsrfRefusal, CsrfVerdict, Policy, RequestHead};
    /// let p = Policy::from_yaml_str("defaults: {allow_origins: ['https://app.example'], csrf: {mode: enforce}}")?;
    /// let mut h = RequestHead::new("POST", "/transfer");
    /// h.push_header_bytes("origin", b"https://evil.example");
    /// h.push_header_bytes("sec-fetch-site", b"cross-site");
    /// let d = p.decide(&h);
    /// assert_eq!(d.csrf(), CsrfVerdict::Refused { refusal: CsrfRefusal::CrossSite, enforced: true });
    /// assert_eq!(d.action(), corsguard::Action::Respond(http::StatusCode::FORBIDDEN));
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
    /// assert!(p.decide(&corsguard::RequestHead::new("GET", "/")).body().is_empty());
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
    /// assert!(!p.decide(&corsguard::RequestHead::new("GET", "/")).is_refused());
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

    /// The headers to set (name, value), in a stable order, not counting `Vary`.
    pub fn headers(&self) -> impl Iterator<Item = (HeaderName, &HeaderValue)> {
        let p = &self.plan;
        let on = self.action != Action::PassThrough;
        [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, p.acao.as_ref()),
            (
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                p.acac.then_some(&TRUE),
            ),
            (header::ACCESS_CONTROL_ALLOW_METHODS, p.acam.as_ref()),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, p.acah.as_ref()),
            (header::ACCESS_CONTROL_MAX_AGE, p.acma.as_ref()),
            (ACAPN, p.acapn.then_some(&TRUE)),
            (header::ACCESS_CONTROL_EXPOSE_HEADERS, p.aceh.as_ref()),
        ]
        .into_iter()
        .filter_map(move |(n, v)| if on { v.map(|v| (n, v)) } else { None })
    }

    /// The `Vary` tokens this response needs (merged into any existing `Vary`).
    pub fn vary_tokens(&self) -> impl Iterator<Item = &'static str> {
        let bits = if self.action == Action::PassThrough {
            0
        } else {
            self.plan.vary.bits()
        };
        VARY_TOKENS
            .iter()
            .enumerate()
            .filter(move |(i, _)| bits & (1 << i) != 0)
            .map(|(_, t)| *t)
    }

    /// `true` when the application's own CORS headers must be removed before
    /// [`Decision::headers`] are set (enforced rule).
    pub fn owns_cors_headers(&self) -> bool {
        self.plan.owns && self.action != Action::PassThrough
    }

    /// Writes the decision into a response's headers: removes the application's CORS headers
    /// (on enforced rules), sets ours (never two ACAO lines), merges `Vary`.
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
    /// let origin = http::HeaderValue::from_static("https://a.example");
    /// let mut head = corsguard::RequestHead::new("GET", "/");
    /// head.push_header(&http::header::ORIGIN, &origin);
    /// let mut resp = http::HeaderMap::new();
    /// resp.insert("vary", "Accept-Encoding".parse().unwrap());
    /// resp.append("access-control-allow-origin", "*".parse().unwrap());
    /// p.decide(&head).apply(&mut resp);
    /// assert_eq!(resp.get_all("access-control-allow-origin").iter().count(), 1);
    /// assert_eq!(resp["access-control-allow-origin"], "https://a.example");
    /// assert_eq!(resp["vary"], "Accept-Encoding, Origin");
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn apply(&self, headers: &mut HeaderMap) {
        if self.action == Action::PassThrough {
            return;
        }
        // One pass over the (usually few) response headers is cheaper than seven hashed
        // removals, and a fresh preflight map has nothing to remove at all.
        if self.plan.owns
            && headers
                .keys()
                .any(|k| k.as_str().starts_with("access-control-"))
        {
            for n in &OWNED_HEADERS {
                headers.remove(n);
            }
        }
        self.write(headers);
    }

    /// Sets each planned header directly (no name array to build and filter: this runs on
    /// every request), then merges `Vary`.
    fn write(&self, headers: &mut HeaderMap) {
        let p = &self.plan;
        let mut set = |name: HeaderName, value: Option<&HeaderValue>| {
            if let Some(v) = value {
                headers.insert(name, v.clone());
            }
        };
        set(header::ACCESS_CONTROL_ALLOW_ORIGIN, p.acao.as_ref());
        if p.acac {
            set(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, Some(&TRUE));
        }
        set(header::ACCESS_CONTROL_ALLOW_METHODS, p.acam.as_ref());
        set(header::ACCESS_CONTROL_ALLOW_HEADERS, p.acah.as_ref());
        set(header::ACCESS_CONTROL_MAX_AGE, p.acma.as_ref());
        if p.acapn {
            set(ACAPN, Some(&TRUE));
        }
        set(header::ACCESS_CONTROL_EXPOSE_HEADERS, p.aceh.as_ref());
        merge_vary(headers, p.vary);
    }

    /// Builds the complete response for [`Action::Respond`]: status, `Content-Length: 0`
    /// (except on 204) and the decision's headers.
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").allow_methods(["PUT"]).build()?;
    /// let (o, m) = (http::HeaderValue::from_static("https://a.example"), http::HeaderValue::from_static("PUT"));
    /// let mut head = corsguard::RequestHead::new("OPTIONS", "/");
    /// head.push_header(&http::header::ORIGIN, &o);
    /// head.push_header(&http::header::ACCESS_CONTROL_REQUEST_METHOD, &m);
    /// let d = p.decide(&head);
    /// let resp = d.response_parts().unwrap();
    /// assert_eq!(resp.0, http::StatusCode::NO_CONTENT);
    /// assert_eq!(resp.1["access-control-allow-methods"], "PUT");
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn response_parts(&self) -> Option<(StatusCode, HeaderMap)> {
        let Action::Respond(status) = self.action else {
            return None;
        };
        let mut h = HeaderMap::with_capacity(8);
        // Say how long the body is, except on 204, which must not carry Content-Length
        // (RFC 9110 §8.6).
        let body = self.body();
        if let Some(r) = self.csrf.refusal() {
            h.insert(X_CORSGUARD_CSRF, HeaderValue::from_static(r.code()));
        }
        if !body.is_empty() {
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        } else if status != StatusCode::NO_CONTENT {
            h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        }
        self.write(&mut h);
        Some((status, h))
    }
}

/// Merges `flags` into the `Vary` header(s) of `headers`, case-insensitively, without
/// duplicates, into a single line.
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
/// let v = corsguard::vary_merge([&b"accept-encoding"[..]], ["Origin"]).unwrap();
/// assert_eq!(v, "accept-encoding, Origin");
/// assert!(corsguard::vary_merge([&b"origin"[..]], ["Origin"]).is_none());
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

impl Policy {
    /// Decides a request. Allocation-free on the common paths; logs the decision through
    /// `tracing` (debug: full trace; info: one line per refused request).
    ///
    /// ```
    /// use corsguard::{Policy, RequestHead, Action};
    /// let p = Policy::builder().allow_origin("https://a.example").build()?;
    /// let head = RequestHead::new("GET", "/");
    /// let d = p.decide(&head);
    /// assert_eq!(d.action(), Action::Forward);
    /// assert_eq!(d.vary_tokens().collect::<Vec<_>>(), ["Origin"]);
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn decide(&self, req: &RequestHead<'_>) -> Decision {
        if tracing::enabled!(target: "corsguard", tracing::Level::DEBUG) {
            return self.decide_logged(req);
        }
        let d = self.decide_with(req, &mut NoTrace);
        if d.is_refused() {
            self.log_refused(req, &d);
        }
        d
    }

    /// The debug-logging path, kept out of line so the common path stays small.
    #[cold]
    #[inline(never)]
    fn decide_logged(&self, req: &RequestHead<'_>) -> Decision {
        self.decide_traced(req).0
    }

    /// One info line per refusal, formatted from the request itself: no trace is built, so
    /// a flood of refused requests costs no more than the log line.
    #[cold]
    #[inline(never)]
    fn log_refused(&self, req: &RequestHead<'_>, d: &Decision) {
        d.log_refusal(req);
    }

    /// Like [`Policy::decide`], and also returns the [`Trace`](crate::Trace) of refused
    /// requests (and of every request when debug logging is on), computed once. For callers
    /// that keep refusals (an admin page's ring buffer) or report them.
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
    /// let o = http::HeaderValue::from_static("https://b.example");
    /// let mut head = corsguard::RequestHead::new("GET", "/");
    /// head.push_header(&http::header::ORIGIN, &o);
    /// let (d, trace) = p.decide_traced(&head);
    /// assert!(d.refusal().is_some());
    /// assert!(trace.unwrap().reason.contains("https://b.example"));
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn decide_traced(&self, req: &RequestHead<'_>) -> (Decision, Option<crate::Trace>) {
        let debug = tracing::enabled!(target: "corsguard", tracing::Level::DEBUG);
        if !debug {
            let d = self.decide_with(req, &mut NoTrace);
            if !d.is_refused() {
                return (d, None);
            }
        }
        let (d, trace) = self.explain(req);
        if debug {
            tracing::debug!(target: "corsguard", kind = %d.kind, rule = %trace.rule, verdict = %trace.verdict, "{trace}");
        }
        log_refusal(req, &d, &trace.reason);
        let keep = debug || d.refusal.is_some();
        (d, keep.then_some(trace))
    }

    /// Whether the request's `Origin` is one the policy *trusts*, not merely one CORS lets
    /// read: the request's own origin, or an explicit entry of the matching rule's
    /// `allow_origins`. A bare `*` never makes an origin trusted, `null` is never trusted
    /// (`allow_null_origin` only lets it read), a rule with `cors: false` trusts no other
    /// origin, and several `Origin` lines are never trusted. The gateway's WebSocket
    /// origin check uses this (a handshake carries cookies, so `*` must not admit it).
    ///
    /// ```
    /// use corsguard::{OriginTrust, Policy, RequestHead, UntrustedOrigin};
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

    /// Decides a request without logging or tracing anything: for callers that account for
    /// refusals themselves (the gateway rate-limits its log lines and keeps its own record;
    /// it writes the same line with [`Decision::log_refusal`]).
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
    /// let o = http::HeaderValue::from_static("https://b.example");
    /// let mut head = corsguard::RequestHead::new("GET", "/");
    /// head.push_header(&http::header::ORIGIN, &o);
    /// let d = p.decide_silent(&head);
    /// assert_eq!(d.refusal(), Some(corsguard::Refusal::OriginNotAllowed));
    /// d.log_refusal(&head); // the info line `decide` would have written
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn decide_silent(&self, req: &RequestHead<'_>) -> Decision {
        self.decide_with(req, &mut NoTrace)
    }

    pub(crate) fn decide_with<T: Tracer>(&self, req: &RequestHead<'_>, t: &mut T) -> Decision {
        let rule = self.rule_for(req.path, req.host);
        t.rule(rule);
        decide_rule(rule, req, t)
    }
}

/// The one-line reason of a refusal, written straight from the request's bytes.
struct RefusalReason<'r, 'a> {
    req: &'r RequestHead<'a>,
    refusal: Refusal,
}

impl std::fmt::Display for RefusalReason<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn lossy(b: Option<&[u8]>) -> crate::Clipped<'_> {
            crate::Clipped::new(b.unwrap_or_default())
        }
        match self.refusal {
            Refusal::OriginNotAllowed => {
                write!(f, "origin `{}` is not allowed", lossy(self.req.origin))
            }
            Refusal::NullOrigin => f.write_str("`null` origin refused (allow_null_origin is off)"),
            Refusal::OriginTooLong => f.write_str("Origin over 326 bytes"),
            Refusal::MultipleOrigins => f.write_str("several Origin header lines"),
            Refusal::MethodNotAllowed => {
                write!(f, "method `{}` is not allowed", lossy(self.req.acrm))
            }
            Refusal::InvalidRequestMethod => write!(
                f,
                "Access-Control-Request-Method `{}` is not a single method token",
                lossy(self.req.acrm)
            ),
            Refusal::HeaderNotAllowed => write!(
                f,
                "a requested header is not allowed (Access-Control-Request-Headers: {})",
                AcrhLines(self.req.request_header_lines())
            ),
            Refusal::MalformedRequestHeaders => f.write_str(
                "Access-Control-Request-Headers is malformed or over the parsing limits",
            ),
            Refusal::PrivateNetworkNotAllowed => {
                f.write_str("private network access was requested and allow_private_network is off")
            }
        }
    }
}

/// `Access-Control-Request-Headers` lines joined by ` | `, the whole cut at
/// [`crate::SHOWN_BYTES`] (a few lines of 4 KiB never make a 16 KiB log line).
struct AcrhLines<'r, 'a>(&'r [&'a [u8]]);

impl std::fmt::Display for AcrhLines<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let total: usize = self.0.iter().map(|l| l.len() + 3).sum::<usize>();
        let mut budget = crate::SHOWN_BYTES;
        for (i, line) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            let take = line.len().min(budget);
            budget -= take;
            let head = line.get(..take).unwrap_or(line);
            f.write_str(&String::from_utf8_lossy(head))?;
            if budget == 0 {
                return write!(f, "…({} bytes)", total.saturating_sub(3));
            }
        }
        Ok(())
    }
}

fn log_csrf_refusal(req: &RequestHead<'_>, d: &Decision, r: CsrfRefusal) {
    let enforced = matches!(d.csrf, CsrfVerdict::Refused { enforced: true, .. });
    tracing::info!(
        target: "corsguard",
        origin = %crate::Clipped::new(req.origin.unwrap_or_default()),
        sec_fetch_site = %crate::Clipped::new(req.sec_fetch_site.unwrap_or_default()),
        method = %crate::Clipped::new(req.method.as_bytes()),
        path = %crate::Clipped::new(req.path.as_bytes()),
        refusal = r.code(),
        enforced,
        "cross-origin request refused (CSRF): {r}"
    );
}

fn log_refusal(req: &RequestHead<'_>, d: &Decision, reason: &dyn std::fmt::Display) {
    if let Some(r) = d.refusal {
        tracing::info!(
            target: "corsguard",
            origin = %crate::Clipped::new(req.origin.unwrap_or_default()),
            method = %crate::Clipped::new(req.method.as_bytes()),
            path = %crate::Clipped::new(req.path.as_bytes()),
            refusal = r.code(),
            shadow = d.shadow,
            "CORS request refused: {reason}"
        );
    }
}

fn decide_rule<T: Tracer>(rule: &Rule, req: &RequestHead<'_>, t: &mut T) -> Decision {
    let mut d = decide_rule_cors(rule, req, t);
    if let Some(csrf) = &rule.csrf {
        apply_csrf(csrf, rule.cors.as_ref(), req, &mut d, t);
    }
    d
}

/// The CSRF step, after CORS: an enforced refusal answers 403 instead of calling the
/// application, with the CORS headers CORS gave this request (so an allowed page can read
/// why). Under `cors: false` or shadow mode CORS writes nothing, and neither does the 403.
fn apply_csrf<T: Tracer>(
    c: &crate::csrf::CsrfRule,
    cors: Option<&CorsRule>,
    req: &RequestHead<'_>,
    d: &mut Decision,
    t: &mut T,
) {
    let v = crate::csrf::check(c, cors, &req.csrf_input());
    t.step("csrf", Some(v.refusal().is_none()), || match v {
        CsrfVerdict::Passed(p) => format!("passed: {p}"),
        CsrfVerdict::Refused { refusal, enforced } => format!(
            "{}: {refusal} ({}); fix: {}",
            refusal.code(),
            if enforced {
                "enforce: answered 403, the application is not called"
            } else {
                "report: logged, the application is called"
            },
            refusal.fix()
        ),
        _ => "not checked".into(),
    });
    d.csrf = v;
    if let CsrfVerdict::Refused { enforced: true, .. } = v {
        if d.action == Action::PassThrough {
            d.plan = HeaderPlan::default();
        }
        d.action = Action::Respond(StatusCode::FORBIDDEN);
    }
}

fn decide_rule_cors<T: Tracer>(rule: &Rule, req: &RequestHead<'_>, t: &mut T) -> Decision {
    let Some(c) = &rule.cors else {
        t.step("rule", Some(true), || {
            "`cors: false`: left to the application".into()
        });
        return Decision {
            kind: classify(req),
            refusal: None,
            action: Action::PassThrough,
            rule_index: rule.index,
            shadow: false,
            cors_enabled: false,
            plan: HeaderPlan::default(),
            csrf: CsrfVerdict::NotChecked,
        };
    };
    let mut d = decide_cors(c, req, t);
    d.rule_index = rule.index;
    if c.mode == Mode::Shadow {
        t.step("mode", None, || {
            "shadow mode: decision recorded, response left unchanged".into()
        });
        d.shadow = true;
        d.action = Action::PassThrough;
    }
    d
}

fn classify(req: &RequestHead<'_>) -> RequestKind {
    if req.origin.is_none() {
        RequestKind::NonCors
    } else if req.method == "OPTIONS" && req.acrm.is_some() {
        RequestKind::Preflight
    } else {
        RequestKind::Actual
    }
}

fn decide_cors<T: Tracer>(c: &CorsRule, req: &RequestHead<'_>, t: &mut T) -> Decision {
    let constant = c.constant_acao.is_some();
    let base_vary = if constant {
        VaryFlags::empty()
    } else {
        VaryFlags::ORIGIN
    };
    let mut d = Decision {
        kind: classify(req),
        refusal: None,
        action: Action::Forward,
        rule_index: None,
        shadow: false,
        cors_enabled: true,
        plan: HeaderPlan {
            vary: base_vary,
            owns: true,
            ..HeaderPlan::default()
        },
        csrf: CsrfVerdict::NotChecked,
    };
    t.step("classify", None, || match d.kind {
        RequestKind::NonCors => "no Origin header: not a CORS request".into(),
        RequestKind::Preflight => "OPTIONS with Origin and Access-Control-Request-Method: a CORS preflight".into(),
        RequestKind::Actual if req.method == "OPTIONS" => "OPTIONS without Access-Control-Request-Method: not a preflight, an actual request for the application".into(),
        _ => format!("{} with Origin: an actual CORS request", req.method),
    });
    let Some(origin) = req.origin else {
        constant_headers(c, &mut d.plan);
        return d;
    };

    if c.skip_same_origin && req.origin_lines == 1 && req.is_same_origin(origin) {
        t.step("same-origin", Some(true), || {
            "Origin equals the request's own origin: not cross-origin, passed through".into()
        });
        d.kind = RequestKind::SameOrigin;
        constant_headers(c, &mut d.plan);
        return d;
    }

    // --- origin (constant cost for hostile values)
    let admit = if req.origin_lines > 1 && !c.any_origin {
        Err(Refusal::MultipleOrigins)
    } else if origin.len() > crate::origin::MAX_ORIGIN_LEN && !c.any_origin {
        Err(Refusal::OriginTooLong)
    } else {
        match c.origin_allowed(origin) {
            Some(a) => Ok(a),
            None if origin == b"null" => Err(Refusal::NullOrigin),
            None => Err(Refusal::OriginNotAllowed),
        }
    };
    t.origin(c, origin, &admit);
    let admit = match admit {
        Ok(a) => a,
        Err(r) => return refuse(d, c, r, t),
    };
    let acao = match &c.constant_acao {
        Some(v) => v.clone(),
        None => match (req.origin_value, admit) {
            (Some(v), _) => v.clone(),
            (None, _) => match HeaderValue::from_bytes(origin) {
                Ok(v) => v,
                Err(_) => return refuse(d, c, Refusal::OriginNotAllowed, t),
            },
        },
    };

    if d.kind == RequestKind::Actual {
        d.plan.acao = Some(acao);
        d.plan.acac = c.credentials;
        d.plan.aceh = c.aceh.clone();
        return d;
    }

    // --- preflight
    if c.passthrough {
        t.step("preflight", None, || {
            "preflight.passthrough: forwarded to the application, headers added to its answer"
                .into()
        });
    }
    let vary_acrm = c.on_reject == OnReject::Forbid || (c.methods_any && c.credentials);
    let vary_acrh = c.on_reject == OnReject::Forbid || c.headers_any;
    let vary_acrpn = c.on_reject == OnReject::Forbid || c.private_network;
    if vary_acrm {
        d.plan.vary.insert(VaryFlags::ACRM);
    }
    if vary_acrh {
        d.plan.vary.insert(VaryFlags::ACRH);
    }
    if vary_acrpn {
        d.plan.vary.insert(VaryFlags::ACRPN);
    }
    d.plan.acao = Some(acao);
    d.plan.acac = c.credentials;
    d.plan.acma = c.acma.clone();
    d.plan.acam = c.acam.clone();
    d.plan.acah = c.acah.clone();
    d.action = if c.passthrough {
        Action::Forward
    } else {
        Action::Respond(c.preflight_status)
    };

    // method: a single token, compared byte-exactly (never upper-cased)
    let acrm = req.acrm.unwrap_or_default();
    // Capped before any pass over the bytes: no method is anywhere near this long.
    let method_result =
        if req.acrm_lines != 1 || acrm.len() > MAX_METHOD_LEN || !headers::is_token(acrm) {
            Err(Refusal::InvalidRequestMethod)
        } else if headers::is_safelisted_method(acrm)
            || c.methods_any
            || c.methods.iter().any(|m| m.as_bytes() == acrm)
        {
            Ok(())
        } else {
            Err(Refusal::MethodNotAllowed)
        };
    t.method(c, acrm, &method_result);
    if method_result.is_ok() && c.methods_any && c.credentials {
        // `*` is literal under credentials: reflect the validated single token instead.
        d.plan.acam = req
            .acrm_value
            .cloned()
            .or_else(|| HeaderValue::from_bytes(acrm).ok());
    }

    // headers: bounded, lenient parse
    let lines = req.request_header_lines();
    let mut header_result: Result<(), (Refusal, &[u8])> = Ok(());
    let mut wants_authorization = false;
    let parse = if req.acrh_lines > MAX_ACRH_LINES {
        Err(AcrhError::TooManyLines)
    } else {
        headers::for_each_acrh_name(lines, |name| {
            if name.eq_ignore_ascii_case(b"authorization") {
                wants_authorization = true;
            }
            // `*` never covers Authorization, with or without credentials: it is granted
            // only when listed (Fetch #cors-non-wildcard-request-header-name).
            let ok = if c.headers_any {
                !name.eq_ignore_ascii_case(b"authorization") || c.authorization_listed
            } else {
                c.headers.contains(name)
            };
            if !ok && header_result.is_ok() {
                header_result = Err((Refusal::HeaderNotAllowed, name));
            }
            true
        })
    };
    if let Err(e) = parse {
        header_result = Err((Refusal::MalformedRequestHeaders, e.describe().as_bytes()));
    }
    t.headers(c, lines, &header_result);
    // Only a parsed (so bounded) value is looked at again: a hostile one is never walked.
    if c.headers_any
        && matches!(header_result, Ok(()) | Err((Refusal::HeaderNotAllowed, _)))
        && (c.credentials || (wants_authorization && !c.authorization_listed))
        && lines.iter().any(|l| !headers::trim_ows(l).is_empty())
    {
        // Reflect the allowed requested names: `*` is literal under credentials, and
        // Chromium still lets `*` cover Authorization, which the spec forbids; either way
        // Authorization is reflected only when listed.
        d.plan.acah = reflect_names(lines, |n| {
            c.authorization_listed || !n.eq_ignore_ascii_case(b"authorization")
        });
    }

    // private network access (legacy PNA preflights)
    let pna_result = match req.acrpn {
        // `true` with a little OWS: the length is capped before any pass over the bytes.
        Some(v) if v.len() <= 16 && headers::trim_ows(v) == b"true" => {
            if c.private_network {
                d.plan.acapn = true;
                Ok(())
            } else {
                Err(Refusal::PrivateNetworkNotAllowed)
            }
        }
        _ => Ok(()),
    };
    if req.acrpn.is_some() {
        t.step("private-network", Some(pna_result.is_ok()), || {
            if pna_result.is_ok() {
                "Access-Control-Request-Private-Network: true allowed (allow_private_network)"
                    .into()
            } else {
                "Access-Control-Request-Private-Network: true, but allow_private_network is off"
                    .into()
            }
        });
    }

    let refusal = method_result
        .err()
        .or(header_result.err().map(|(r, _)| r))
        .or(pna_result.err());
    if let Some(r) = refusal {
        d.refusal = Some(r);
        if c.on_reject == OnReject::Forbid {
            d.plan = HeaderPlan {
                vary: d.plan.vary,
                owns: true,
                ..HeaderPlan::default()
            };
            d.action = Action::Respond(StatusCode::FORBIDDEN);
        } else if r == Refusal::InvalidRequestMethod && c.methods_any && c.credentials {
            d.plan.acam = None;
        }
        t.refused(r, c.on_reject);
    }
    d
}

/// `Vary` and constant ACAO/ACAC/ACEH on responses that are not (cross-origin) CORS responses.
fn constant_headers(c: &CorsRule, plan: &mut HeaderPlan) {
    if let Some(v) = &c.constant_acao {
        plan.acao = Some(v.clone());
        plan.acac = c.credentials;
        plan.aceh = c.aceh.clone();
    }
}

fn refuse<T: Tracer>(mut d: Decision, c: &CorsRule, r: Refusal, t: &mut T) -> Decision {
    d.refusal = Some(r);
    if d.kind == RequestKind::Preflight {
        if c.on_reject == OnReject::Forbid {
            d.plan.vary.insert(VaryFlags::ACRM);
            d.plan.vary.insert(VaryFlags::ACRH);
        }
        d.action = match (c.on_reject, c.passthrough) {
            (OnReject::Forbid, _) => Action::Respond(StatusCode::FORBIDDEN),
            (OnReject::Omit, true) => Action::Forward,
            (OnReject::Omit, false) => Action::Respond(c.preflight_status),
        };
    } else if c.on_reject == OnReject::Forbid {
        d.action = Action::Respond(StatusCode::FORBIDDEN);
    }
    if c.on_reject == OnReject::Omit {
        // A constant ACAO goes on every response of the rule.
        constant_headers(c, &mut d.plan);
    }
    t.refused(r, c.on_reject);
    d
}

fn reflect_names(lines: &[&[u8]], keep: impl Fn(&[u8]) -> bool) -> Option<HeaderValue> {
    let mut out: Vec<u8> = Vec::with_capacity(lines.iter().map(|l| l.len()).sum());
    let _ = headers::for_each_acrh_name(lines, |n| {
        if keep(n) {
            if !out.is_empty() {
                out.push(b',');
            }
            out.extend(n.iter().map(u8::to_ascii_lowercase));
        }
        true
    });
    if out.is_empty() {
        None
    } else {
        HeaderValue::from_bytes(&out).ok()
    }
}
