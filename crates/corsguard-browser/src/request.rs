//! The request a page makes: [`BrowserRequest`], its modes, method normalization, origins,
//! and the header list the browser actually sends (forbidden headers dropped, values
//! normalized).

use std::fmt;

use serde::Serialize;
use url::Url;

use super::safelist;

/// A request's credentials mode (`#concept-request-credentials-mode`); `fetch()`'s default is
/// [`CredentialsMode::SameOrigin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CredentialsMode {
    /// `credentials: 'omit'`: never send cookies or HTTP authentication.
    Omit,
    /// `credentials: 'same-origin'`: send them to the page's own origin only.
    #[default]
    SameOrigin,
    /// `credentials: 'include'`: always send them; a cross-origin response must then carry
    /// `Access-Control-Allow-Credentials: true` and no `*` wildcards apply.
    Include,
}

impl CredentialsMode {
    /// The value as written in `fetch()` (`omit`, `same-origin`, `include`).
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialsMode::Omit => "omit",
            CredentialsMode::SameOrigin => "same-origin",
            CredentialsMode::Include => "include",
        }
    }
}

/// A request's mode (`#concept-request-mode`); `fetch()`'s default is [`RequestMode::Cors`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RequestMode {
    /// `mode: 'cors'`: cross-origin requests use the CORS protocol.
    #[default]
    Cors,
    /// `mode: 'no-cors'`: no preflight, no CORS check; a cross-origin response is opaque.
    /// Only GET, HEAD and POST are allowed and only no-CORS-safelisted headers are kept.
    NoCors,
    /// `mode: 'same-origin'`: a cross-origin request fails (`DisallowedByMode`).
    SameOrigin,
    /// A navigation: not subject to CORS.
    Navigate,
}

impl RequestMode {
    /// The value as written in `fetch()` and in `Sec-Fetch-Mode`.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestMode::Cors => "cors",
            RequestMode::NoCors => "no-cors",
            RequestMode::SameOrigin => "same-origin",
            RequestMode::Navigate => "navigate",
        }
    }
}

/// Who initiates the request. Only matters for the CORS protocol exceptions (cors-protocol.md
/// §3.5): `Content-Type`s such as `application/csp-report` are sent without a preflight when the
/// user agent itself sends a report, but a script `fetch()` with the same `Content-Type` is
/// preflighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Initiator {
    /// Page script (`fetch()`).
    #[default]
    Script,
    /// A user-agent-initiated report (CSP, Expect-CT, XSS auditor, OCSP).
    UserAgentReport,
}

/// A request a page would make: the input of every analysis in this module.
///
/// Fields are plain strings so that anything (a CLI flag, a JSON test case, a `fetch()` call
/// read from a HAR file) can be turned into one; the analyses parse them on demand. Use
/// [`BrowserRequest::validate`] to learn whether `fetch()` would throw before sending anything.
///
/// ```
/// use corsguard_browser::{BrowserRequest, CredentialsMode};
///
/// let req = BrowserRequest::new("http://127.0.0.1:18081", "http://127.0.0.1:18082/api")
///     .method("patch")
///     .header("X-Foo", "1")
///     .credentials(CredentialsMode::Include);
/// assert_eq!(req.normalized_method(), "patch"); // only the six well-known methods are upper-cased
/// assert!(req.is_cross_origin());
/// assert_eq!(req.serialized_origin(), "http://127.0.0.1:18081");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrowserRequest {
    /// The page's origin, e.g. `http://127.0.0.1:18081`, or `null` for an opaque origin
    /// (sandboxed iframe, `data:` document). A page URL is accepted too; only its origin counts.
    pub page_origin: String,
    /// The URL passed to `fetch()` (absolute).
    pub url: String,
    /// The method as written by the script; see [`BrowserRequest::normalized_method`].
    pub method: String,
    /// Headers set by the script, in order. Repeated names are combined with `, ` as Chromium
    /// does before the CORS checks.
    pub headers: Vec<(String, String)>,
    /// Credentials mode.
    pub credentials: CredentialsMode,
    /// Request mode.
    pub mode: RequestMode,
    /// Who initiates the request (script or user-agent report).
    pub initiator: Initiator,
    /// The use-CORS-preflight flag (e.g. XHR upload listeners): preflight even a simple request.
    pub use_cors_preflight: bool,
    /// Set once a redirect chain has gone cross-origin and then to yet another origin
    /// (`#concept-request-tainted-origin`): the origin then serializes as `null`.
    pub tainted_origin: bool,
    /// The request's destination (`fetch()`: empty; `<img>`: image, …). CORP applies to
    /// `no-cors` subresources and, under COEP, to `<iframe>` navigations.
    pub destination: crate::corp::Destination,
    /// The page's `Cross-Origin-Embedder-Policy`.
    pub embedder_policy: crate::corp::EmbedderPolicy,
    /// What the browser knows about the network, for Local Network Access.
    pub network: crate::lna::NetworkContext,
}

impl BrowserRequest {
    /// A `GET` with no script headers, `credentials: 'same-origin'`, `mode: 'cors'` (the
    /// `fetch()` defaults).
    pub fn new(page_origin: impl Into<String>, url: impl Into<String>) -> Self {
        BrowserRequest {
            page_origin: page_origin.into(),
            url: url.into(),
            method: "GET".to_owned(),
            headers: Vec::new(),
            credentials: CredentialsMode::default(),
            mode: RequestMode::default(),
            initiator: Initiator::default(),
            use_cors_preflight: false,
            tainted_origin: false,
            destination: crate::corp::Destination::default(),
            embedder_policy: crate::corp::EmbedderPolicy::default(),
            network: crate::lna::NetworkContext::default(),
        }
    }

    /// Sets the destination (`<img>` → [`Destination::Image`](crate::Destination), …).
    pub fn destination(mut self, destination: crate::corp::Destination) -> Self {
        self.destination = destination;
        self
    }

    /// Sets the page's `Cross-Origin-Embedder-Policy`.
    pub fn embedder_policy(mut self, coep: crate::corp::EmbedderPolicy) -> Self {
        self.embedder_policy = coep;
        self
    }

    /// Sets the network context (name resolution, address-space overrides, the LNA permission,
    /// the frame, `targetAddressSpace`).
    pub fn network(mut self, network: crate::lna::NetworkContext) -> Self {
        self.network = network;
        self
    }

    /// Sets the method (as the script writes it; normalization happens later).
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = method.into();
        self
    }

    /// Appends a script-set header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the credentials mode.
    pub fn credentials(mut self, credentials: CredentialsMode) -> Self {
        self.credentials = credentials;
        self
    }

    /// Sets the request mode.
    pub fn mode(mut self, mode: RequestMode) -> Self {
        self.mode = mode;
        self
    }

    /// Sets the initiator.
    pub fn initiator(mut self, initiator: Initiator) -> Self {
        self.initiator = initiator;
        self
    }

    /// Sets the use-CORS-preflight flag.
    pub fn force_preflight(mut self, force: bool) -> Self {
        self.use_cors_preflight = force;
        self
    }

    /// Marks the origin as redirect-tainted (serializes as `null`).
    pub fn tainted(mut self, tainted: bool) -> Self {
        self.tainted_origin = tainted;
        self
    }

    /// The method after `#concept-method-normalize`: a case-insensitive match for `DELETE`,
    /// `GET`, `HEAD`, `OPTIONS`, `POST` or `PUT` is upper-cased, anything else is kept
    /// byte-for-byte (`patch` stays `patch`).
    pub fn normalized_method(&self) -> String {
        normalize_method(&self.method)
    }

    /// The page's origin serialized per the HTML/URL standards (`http://host[:port]`,
    /// punycode, default port omitted), or `null` when it is opaque or unparsable.
    pub fn page_origin_serialized(&self) -> String {
        tuple_origin(&self.page_origin)
            .map(|o| o.ascii_serialization())
            .unwrap_or_else(|| "null".to_owned())
    }

    /// The request's origin as sent in `Origin` and compared with ACAO
    /// (`#serializing-a-request-origin`): `null` when tainted or opaque.
    pub fn serialized_origin(&self) -> String {
        if self.tainted_origin {
            "null".to_owned()
        } else {
            self.page_origin_serialized()
        }
    }

    /// The target URL's origin, serialized (`null` for opaque, e.g. `data:`); `None` if the URL
    /// does not parse.
    pub fn url_origin_serialized(&self) -> Option<String> {
        Url::parse(&self.url)
            .ok()
            .map(|u| u.origin().ascii_serialization())
    }

    /// Whether the target URL is cross-origin to the page. An opaque page origin is
    /// cross-origin to everything; an unparsable URL counts as cross-origin.
    pub fn is_cross_origin(&self) -> bool {
        !same_origin_str(&self.page_origin, &self.url)
    }

    /// The `Sec-Fetch-Site` value Chromium sends (Fetch Metadata): `same-origin`,
    /// `same-site` (same scheme and registrable domain) or `cross-site` (an opaque or
    /// redirect-tainted origin included); `None` for a target that is not potentially
    /// trustworthy (plain `http:` other than loopback), where browsers send no `Sec-Fetch-*`.
    ///
    /// ```
    /// use corsguard_browser::BrowserRequest;
    /// let site = |page: &str, url: &str| BrowserRequest::new(page, url).sec_fetch_site();
    /// assert_eq!(site("https://a.example.com", "https://a.example.com/x"), Some("same-origin"));
    /// assert_eq!(site("https://blog.example.com", "https://api.example.com/x"), Some("same-site"));
    /// assert_eq!(site("https://evil.example", "https://api.example.com/x"), Some("cross-site"));
    /// assert_eq!(site("https://evil.example", "http://api.example.com/x"), None);
    /// ```
    pub fn sec_fetch_site(&self) -> Option<&'static str> {
        let url = Url::parse(&self.url).ok()?;
        if !is_potentially_trustworthy(&url) {
            return None;
        }
        if self.tainted_origin {
            return Some("cross-site");
        }
        let Some(page) = tuple_origin(&self.page_origin) else {
            return Some("cross-site");
        };
        if page == url.origin() {
            return Some("same-origin");
        }
        let page_url = Url::parse(&self.page_origin).ok();
        let same_site = page_url.as_ref().is_some_and(|p| {
            p.scheme() == url.scheme()
                && match (p.host_str(), url.host_str()) {
                    (Some(a), Some(b)) => site_of(a) == site_of(b),
                    _ => false,
                }
        });
        Some(if same_site { "same-site" } else { "cross-site" })
    }

    /// The CORS flag: CORS mode and (cross-origin or tainted). When set, preflights may be
    /// needed and every response is CORS-checked.
    pub fn cors_flag(&self) -> bool {
        self.mode == RequestMode::Cors && (self.tainted_origin || self.is_cross_origin())
    }

    /// Whether the CORS checks treat the request as credentialed: credentials mode `include`
    /// (`#concept-cors-check`). Only then is ACAC required and `*` no longer a wildcard.
    pub fn is_credentialed(&self) -> bool {
        self.credentials == CredentialsMode::Include
    }

    /// Whether cookies / HTTP authentication would be attached to the actual request:
    /// `include`, or `same-origin` for a same-origin, untainted request. Preflights never carry
    /// them.
    pub fn credentials_included(&self) -> bool {
        match self.credentials {
            // COEP `credentialless`: cross-origin no-cors requests go without credentials.
            CredentialsMode::Include
                if self.mode == RequestMode::NoCors
                    && self.embedder_policy == crate::corp::EmbedderPolicy::Credentialless =>
            {
                !self.tainted_origin && !self.is_cross_origin()
            }
            CredentialsMode::Include => true,
            CredentialsMode::SameOrigin => !self.tainted_origin && !self.is_cross_origin(),
            CredentialsMode::Omit => false,
        }
    }

    /// Checks what `fetch()` checks before sending anything, returning the `TypeError` it
    /// would throw: unparsable URL, URL with credentials, invalid or forbidden method, invalid
    /// header name or value, a non-safelisted method in `no-cors` mode.
    ///
    /// ```
    /// use corsguard_browser::{BrowserRequest, FetchErrorKind};
    ///
    /// let err = BrowserRequest::new("http://a.test", "http://b.test/").method("TRACE")
    ///     .validate().unwrap_err();
    /// assert_eq!(err.kind, FetchErrorKind::ForbiddenMethod);
    /// ```
    pub fn validate(&self) -> Result<(), FetchError> {
        if self.page_origin != "null" && Url::parse(&self.page_origin).is_err() {
            return Err(FetchError::new(
                FetchErrorKind::InvalidPageOrigin,
                format!("Invalid page origin '{}'.", self.page_origin),
            ));
        }
        let url = Url::parse(&self.url).map_err(|e| {
            FetchError::new(
                FetchErrorKind::InvalidUrl,
                format!("Failed to parse URL from {} ({e}).", self.url),
            )
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::new(
                FetchErrorKind::UrlWithCredentials,
                format!(
                    "Request cannot be constructed from a URL that includes credentials: {}",
                    self.url
                ),
            ));
        }
        if !safelist::is_token(&self.method) {
            return Err(FetchError::new(
                FetchErrorKind::InvalidMethod,
                format!("'{}' is not a valid HTTP method.", self.method),
            ));
        }
        let method = self.normalized_method();
        if safelist::is_forbidden_method(&method) {
            return Err(FetchError::new(
                FetchErrorKind::ForbiddenMethod,
                format!("'{method}' HTTP method is unsupported."),
            ));
        }
        if self.mode == RequestMode::NoCors && !safelist::is_cors_safelisted_method(&method) {
            return Err(FetchError::new(
                FetchErrorKind::MethodNotAllowedInNoCors,
                format!("'{method}' is unsupported in no-cors mode."),
            ));
        }
        for (name, value) in &self.headers {
            if !safelist::is_token(name) {
                return Err(FetchError::new(
                    FetchErrorKind::InvalidHeader,
                    format!("Invalid name: '{name}'"),
                ));
            }
            let value = normalize_header_value(value);
            if value.bytes().any(|b| b == 0 || b == b'\n' || b == b'\r') {
                return Err(FetchError::new(
                    FetchErrorKind::InvalidHeader,
                    format!("Invalid value for header '{name}'"),
                ));
            }
        }
        Ok(())
    }
}

/// What kind of `TypeError` `fetch()` throws (or which network error ends the fetch) before
/// any CORS check applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum FetchErrorKind {
    /// The page origin is neither `null` nor a parsable URL/origin.
    InvalidPageOrigin,
    /// The request URL does not parse.
    InvalidUrl,
    /// The request URL contains `user:pass@`.
    UrlWithCredentials,
    /// The method is not a token.
    InvalidMethod,
    /// `CONNECT`, `TRACE` or `TRACK`.
    ForbiddenMethod,
    /// A method other than GET/HEAD/POST with `mode: 'no-cors'`.
    MethodNotAllowedInNoCors,
    /// A header name is not a token, or a value contains NUL/CR/LF.
    InvalidHeader,
    /// More than 20 redirects (`net::ERR_TOO_MANY_REDIRECTS`).
    TooManyRedirects,
    /// A redirect whose `Location` does not parse (`net::ERR_INVALID_REDIRECT`).
    InvalidRedirect,
}

/// A failure that is not a CORS failure: `fetch()` rejects with a `TypeError` but Chromium
/// reports no `corsError`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchError {
    /// What went wrong.
    pub kind: FetchErrorKind,
    /// A human-readable message (close to Chromium's wording where it has one).
    pub message: String,
}

impl FetchError {
    /// Builds an error.
    pub fn new(kind: FetchErrorKind, message: impl Into<String>) -> Self {
        FetchError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FetchError {}

/// Why a script-set header is not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum DropReason {
    /// A forbidden request-header (`#forbidden-request-header`): `fetch()` silently ignores it.
    Forbidden,
    /// `mode: 'no-cors'` keeps only no-CORS-safelisted headers (`Accept`, `Accept-Language`,
    /// `Content-Language`, `Content-Type` with safelisted values).
    NoCorsMode,
    /// Not a valid header name or value (`fetch()` would throw; see
    /// [`BrowserRequest::validate`]).
    Invalid,
}

/// A script-set header the browser does not send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DroppedHeader {
    /// The header name as written.
    pub name: String,
    /// Why it is dropped.
    pub reason: DropReason,
}

/// The header list as the network layer sees it: values normalized, forbidden headers
/// dropped, same-name headers combined with `, ` (first spelling of the name kept).
#[derive(Debug, Clone, Default)]
pub(crate) struct PreparedHeaders {
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) dropped: Vec<DroppedHeader>,
}

impl PreparedHeaders {
    pub(crate) fn has(&self, lower_name: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(lower_name))
    }
}

pub(crate) fn prepare_headers(req: &BrowserRequest) -> PreparedHeaders {
    let mut out = PreparedHeaders::default();
    for (name, value) in &req.headers {
        let value = normalize_header_value(value);
        if !safelist::is_token(name) || value.bytes().any(|b| b == 0 || b == b'\n' || b == b'\r') {
            out.dropped.push(DroppedHeader {
                name: name.clone(),
                reason: DropReason::Invalid,
            });
            continue;
        }
        if safelist::is_forbidden_request_header(name, value) {
            out.dropped.push(DroppedHeader {
                name: name.clone(),
                reason: DropReason::Forbidden,
            });
            continue;
        }
        if req.mode == RequestMode::NoCors
            && !safelist::is_no_cors_safelisted_request_header(name, value)
        {
            out.dropped.push(DroppedHeader {
                name: name.clone(),
                reason: DropReason::NoCorsMode,
            });
            continue;
        }
        match out
            .headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some((_, existing)) => {
                existing.push_str(", ");
                existing.push_str(value);
            }
            None => out.headers.push((name.clone(), value.to_owned())),
        }
    }
    out
}

/// `#concept-method-normalize`.
pub(crate) fn normalize_method(method: &str) -> String {
    const NORMALIZED: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
    NORMALIZED
        .iter()
        .find(|m| m.eq_ignore_ascii_case(method))
        .map(|m| (*m).to_owned())
        .unwrap_or_else(|| method.to_owned())
}

/// `#concept-header-value-normalize`: strip leading and trailing HTTP whitespace bytes.
pub(crate) fn normalize_header_value(value: &str) -> &str {
    value.trim_matches(|c| matches!(c, '\t' | '\n' | '\r' | ' '))
}

/// The tuple origin of `s` (an origin or a URL); `None` for `null`, opaque or unparsable.
/// A URL browsers treat as a secure context target: `https:`/`wss:`, or a loopback host.
pub(crate) fn is_potentially_trustworthy(u: &Url) -> bool {
    matches!(u.scheme(), "https" | "wss")
        || match u.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
            None => false,
        }
}

/// A host's site: its registrable domain (public suffix + one label), else the host itself
/// (IP addresses, `localhost`, bare public suffixes).
pub(crate) fn site_of(host: &str) -> &str {
    psl::domain_str(host).unwrap_or(host)
}

pub(crate) fn tuple_origin(s: &str) -> Option<url::Origin> {
    if s == "null" {
        return None;
    }
    let origin = Url::parse(s).ok()?.origin();
    origin.is_tuple().then_some(origin)
}

/// Whether `a` and `b` (origins or URLs) are same origin; opaque origins never are.
pub(crate) fn same_origin_str(a: &str, b: &str) -> bool {
    match (tuple_origin(a), tuple_origin(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

/// The URL as Chromium prints it (`KURL::GetString`), falling back to the input.
pub(crate) fn display_url(url: &str) -> String {
    Url::parse(url).map_or_else(|_| url.to_owned(), |u| u.to_string())
}
