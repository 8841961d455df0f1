//! The request as a decision sees it: a borrowed view of the method, path, host, scheme and
//! the `Origin` and `Access-Control-Request-*` lines, built from `http` types or header by
//! header.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};

use crate::headers;

/// Maximum `Access-Control-Request-Headers` lines kept by [`RequestHead`].
pub(super) const MAX_ACRH_LINES: usize = headers::limits::MAX_LINES;

/// `Access-Control-Request-Private-Network` (not among `http`'s constants).
const ACRPN: HeaderName = HeaderName::from_static("access-control-request-private-network");

/// A borrowed view of what CORS needs from a request: method, path, host, scheme and the
/// `Origin`, `Access-Control-Request-*` header values. Adapters build it without copying.
///
/// ```
/// use corsguard::adapter::RequestHead;
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
    pub(super) method: &'a str,
    pub(super) path: &'a str,
    pub(super) host: Option<&'a str>,
    pub(super) scheme: Option<&'a str>,
    pub(super) origin: Option<&'a [u8]>,
    pub(super) origin_value: Option<&'a HeaderValue>,
    pub(super) origin_lines: u8,
    pub(super) acrm: Option<&'a [u8]>,
    pub(super) acrm_value: Option<&'a HeaderValue>,
    pub(super) acrm_lines: u8,
    acrh: [&'a [u8]; MAX_ACRH_LINES],
    pub(super) acrh_lines: usize,
    pub(super) acrpn: Option<&'a [u8]>,
    pub(super) sec_fetch_site: Option<&'a [u8]>,
    pub(super) sec_fetch_site_lines: u8,
}

impl<'a> RequestHead<'a> {
    /// A head with a method and path, and no headers yet.
    ///
    /// ```
    /// let h = corsguard::adapter::RequestHead::new("GET", "/");
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
    /// let h = corsguard::adapter::RequestHead::new("GET", "/").with_host(Some("api.example.com:8443"));
    /// assert_eq!(h.host(), Some("api.example.com:8443"));
    /// ```
    pub fn with_host(mut self, host: Option<&'a str>) -> Self {
        self.host = host;
        self
    }

    /// Sets the scheme the client used (`http` or `https`), for the same-origin check.
    ///
    /// ```
    /// let h = corsguard::adapter::RequestHead::new("GET", "/").with_scheme(Some("https"));
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
    /// let mut h = corsguard::adapter::RequestHead::new("GET", "/");
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
    /// let mut h = corsguard::adapter::RequestHead::new("OPTIONS", "/");
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
    /// let h = corsguard::adapter::RequestHead::from_parts(&parts);
    /// assert_eq!(h.host(), Some("a.example"));
    /// ```
    pub fn from_parts(parts: &'a http::request::Parts) -> Self {
        Self::from_components(&parts.method, &parts.uri, &parts.headers)
    }

    /// Builds a head from a whole request (see [`RequestHead::from_parts`]).
    ///
    /// ```
    /// let req = http::Request::get("/").body(()).unwrap();
    /// assert_eq!(corsguard::adapter::RequestHead::from_request(&req).method(), "GET");
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
    /// assert_eq!(corsguard::adapter::RequestHead::from_components(&m, &u, &h).path(), "/p");
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
        let unsafe_method =
            !matches!(*method, http::Method::GET | http::Method::HEAD) && !preflight;
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
    /// let mut h = corsguard::adapter::RequestHead::new("POST", "/");
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
}
