//! The CORS check (`#concept-cors-check`), the preflight response checks
//! (`#cors-preflight-fetch`), and what script may read (`#concept-filtered-response-cors`).
//!
//! Check order follows Chromium 156 (`preflight_controller.cc`): a redirect fails first, then
//! the ACAO/ACAC check, then the status (so a 404 without ACAO reports
//! `PreflightMissingAllowOriginHeader`, a 404 with a valid ACAO `PreflightInvalidStatus`), then
//! ACAM/ACAH parsing, then the method, then the headers. The spec requires both the CORS check
//! and an ok status without ordering them, so this is a refinement, not a deviation.

use serde::Serialize;
use url::Url;

use super::message::{CorsError, CorsFailure};
use super::notes::{Deviation, SpecNote};
use super::request::{BrowserRequest, RequestMode, display_url, prepare_headers, same_origin_str};
use super::response::ResponseView;
use super::safelist::{
    self, analyze_headers, is_forbidden_response_header_name, is_safelisted_response_header_name,
    is_token, parse_chromium_int64,
};

/// Chromium's preflight cache cap (`kMaxTimeout`, 2 hours).
pub const CHROMIUM_MAX_AGE_CAP: u64 = 7200;

/// The lifetime of a preflight cache entry when ACMA is absent or invalid.
pub const DEFAULT_MAX_AGE: u64 = 5;

/// The effective `Access-Control-Max-Age` of a preflight response.
///
/// ```
/// use corsguard_browser::parse_max_age;
///
/// assert_eq!(parse_max_age(None).chromium, 5);
/// assert_eq!(parse_max_age(Some("600")).chromium, 600);
/// assert_eq!(parse_max_age(Some("12000")).chromium, 7200);
/// let negative = parse_max_age(Some("-1"));
/// assert_eq!((negative.chromium, negative.spec), (0, 5));
/// assert!(negative.note().is_some());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaxAge {
    /// The (combined) ACMA value, if present.
    pub header: Option<String>,
    /// Seconds Chromium 156 caches the result: absent/unparsable → 5, negative → 0 (not
    /// cached), capped at 7200.
    pub chromium: u64,
    /// Seconds per the spec with Chromium's cap as the imposed limit: absent, not
    /// `delta-seconds` or several values → 5.
    pub spec: u64,
}

impl MaxAge {
    /// A deviation note when Chromium and the spec disagree (e.g. `-1`).
    pub fn note(&self) -> Option<SpecNote> {
        if self.chromium == self.spec {
            return None;
        }
        let subject = self.header.clone().unwrap_or_default();
        let spec = if self.spec == DEFAULT_MAX_AGE && !is_delta_seconds(&subject) {
            format!("it is not delta-seconds, so the default of {DEFAULT_MAX_AGE} s applies")
        } else {
            format!("the preflight is cached for {} s", self.spec)
        };
        let chromium = if self.chromium == 0 {
            "treats it as 0: the preflight is not cached".to_owned()
        } else {
            format!("caches the preflight for {} s", self.chromium)
        };
        Some(SpecNote::new(Deviation::MaxAge, subject, spec, chromium))
    }
}

fn is_delta_seconds(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Reads an `Access-Control-Max-Age` value (already combined with `, ` if repeated) the way
/// Chromium 156 (`ParseAccessControlMaxAge`) and the spec do.
pub fn parse_max_age(value: Option<&str>) -> MaxAge {
    let Some(value) = value else {
        return MaxAge {
            header: None,
            chromium: DEFAULT_MAX_AGE,
            spec: DEFAULT_MAX_AGE,
        };
    };
    let chromium = match parse_chromium_int64(value) {
        None => DEFAULT_MAX_AGE,
        Some(s) if s < 0 => 0,
        Some(s) => u64::try_from(s)
            .unwrap_or(CHROMIUM_MAX_AGE_CAP)
            .min(CHROMIUM_MAX_AGE_CAP),
    };
    let spec = if is_delta_seconds(value) {
        // Any run of digits is valid delta-seconds; values beyond u64 are over the cap anyway.
        value
            .parse::<u64>()
            .unwrap_or(CHROMIUM_MAX_AGE_CAP)
            .min(CHROMIUM_MAX_AGE_CAP)
    } else {
        DEFAULT_MAX_AGE
    };
    MaxAge {
        header: Some(value.to_owned()),
        chromium,
        spec,
    }
}

/// Parses an ACAM/ACAH/ACEH value like Chromium: split on `,`, trim spaces and tabs, skip
/// empty elements; every other item must be a token, else `None` (parse failure).
///
/// ```
/// use corsguard_browser::parse_header_list;
///
/// assert_eq!(parse_header_list(" X-Foo ,  x-bar ,,").unwrap(), vec!["X-Foo", "x-bar"]);
/// assert_eq!(parse_header_list("Bad method"), None);
/// ```
pub fn parse_header_list(value: &str) -> Option<Vec<String>> {
    let mut items = Vec::new();
    for item in value.split(',') {
        let item = item.trim_matches([' ', '\t']);
        if item.is_empty() {
            continue;
        }
        if !is_token(item) {
            return None;
        }
        items.push(item.to_owned());
    }
    Some(items)
}

/// What a successful preflight established (and what Chromium caches).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreflightOutcome {
    /// ACAM items, case preserved, de-duplicated, sorted.
    pub methods: Vec<String>,
    /// ACAH items, lower-cased, de-duplicated, sorted.
    pub header_names: Vec<String>,
    /// Whether the preflight was for a credentialed (`include`) request; such a cache entry
    /// also serves uncredentialed requests, not the other way round.
    pub credentials: bool,
    /// Effective max-age.
    pub max_age: MaxAge,
    /// Chromium let ACAH `*` cover `Authorization` (DevTools `DeprecationIssue`
    /// `AuthorizationCoveredByWildcard`); the spec would have failed the preflight.
    pub authorization_covered_by_wildcard: bool,
    /// Spec/Chromium deviations met on this preflight.
    pub notes: Vec<SpecNote>,
}

/// How script sees a response (`#concept-response-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ResponseType {
    /// Same-origin: every header except `Set-Cookie`/`Set-Cookie2` is readable.
    Basic,
    /// Cross-origin CORS: safelisted headers plus those allowed by ACEH.
    Cors,
    /// `no-cors` cross-origin: status 0, no headers, no body.
    Opaque,
}

/// What the actual response check established.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActualOutcome {
    /// HTTP status.
    pub status: u16,
    /// How script sees the response.
    pub response_type: ResponseType,
    /// The redirect target (resolved) when the response is a redirect the browser follows.
    pub redirect_location: Option<String>,
    /// Header names script can read (`response.headers`), lower-case, sorted. Empty for a
    /// redirect (script never sees it) and for opaque responses.
    pub exposed_headers: Vec<String>,
    /// Header names present but hidden from script, lower-case, sorted.
    pub hidden_headers: Vec<String>,
}

impl ActualOutcome {
    /// The status script reads (`response.status`): the HTTP status, or `0` for an opaque
    /// response (a `no-cors` cross-origin request: a form-like POST reads nothing).
    ///
    /// ```
    /// use corsguard_browser::{check_response, BrowserRequest, RequestMode, ResponseView};
    /// let req = BrowserRequest::new("https://evil.example", "https://api.example/transfer")
    ///     .method("POST")
    ///     .mode(RequestMode::NoCors);
    /// let outcome = check_response(&req, &ResponseView::new(403)).unwrap();
    /// assert_eq!((outcome.status, outcome.script_status()), (403, 0));
    /// ```
    pub fn script_status(&self) -> u16 {
        match self.response_type {
            ResponseType::Opaque => 0,
            _ => self.status,
        }
    }
}

fn fail(
    req: &BrowserRequest,
    error: CorsError,
    param: Option<String>,
    preflight: bool,
) -> CorsFailure {
    CorsFailure {
        cors_error: error,
        failed_parameter: param,
        preflight,
        url: display_url(&req.url),
        redirected_from: None,
        page_origin: req.page_origin_serialized(),
        local_network: None,
    }
}

/// The CORS check (`#concept-cors-check`, Chromium `CheckAccess`) on any response, reporting
/// the non-preflight `corsError` names.
///
/// ACAO is OWS-trimmed per line and repeated lines are combined with `, ` (so two lines always
/// fail). `*` passes only uncredentialed; otherwise ACAO must byte-equal the serialized origin
/// (`null` for an opaque or tainted origin). Chromium then distinguishes: a space or comma →
/// `MultipleAllowOriginValues`; `null` → `AllowOriginMismatch`; not a parsable URL →
/// `InvalidAllowOriginValue`; else `AllowOriginMismatch`. Credentialed requests also need ACAC
/// exactly `true`.
///
/// ```
/// use corsguard_browser::{cors_check, BrowserRequest, CorsError, ResponseView};
///
/// let req = BrowserRequest::new("http://127.0.0.1:18081", "http://127.0.0.1:18082/");
/// let ok = ResponseView::new(200).with_header("Access-Control-Allow-Origin", "\t*");
/// assert!(cors_check(&req, &ok).is_ok());
/// let slash = ResponseView::new(200)
///     .with_header("Access-Control-Allow-Origin", "http://127.0.0.1:18081/");
/// assert_eq!(cors_check(&req, &slash).unwrap_err().cors_error, CorsError::AllowOriginMismatch);
/// ```
pub fn cors_check(req: &BrowserRequest, resp: &ResponseView) -> Result<(), CorsFailure> {
    let acao = resp.get("access-control-allow-origin");
    let credentialed = req.is_credentialed();
    match acao.as_deref() {
        None => {
            return Err(fail(req, CorsError::MissingAllowOriginHeader, None, false));
        }
        Some("*") => {
            let http = Url::parse(&req.url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !credentialed || !http {
                return Ok(());
            }
            return Err(fail(req, CorsError::WildcardOriginNotAllowed, None, false));
        }
        Some(value) if value != req.serialized_origin() => {
            let error = if value.contains([' ', ',']) {
                CorsError::MultipleAllowOriginValues
            } else if value == "null" || Url::parse(value).is_ok() {
                CorsError::AllowOriginMismatch
            } else {
                CorsError::InvalidAllowOriginValue
            };
            return Err(fail(req, error, Some(value.to_owned()), false));
        }
        Some(_) => {}
    }
    if credentialed {
        let acac = resp.get("access-control-allow-credentials");
        if acac.as_deref() != Some("true") {
            return Err(fail(
                req,
                CorsError::InvalidAllowCredentials,
                Some(acac.unwrap_or_default()),
                false,
            ));
        }
    }
    Ok(())
}

/// Checks a preflight response for `req` (`#cors-preflight-fetch` step 7, Chromium
/// `PreflightController`), predicting Chromium 156. Whether a preflight is sent at all is
/// [`preflight_plan`](super::preflight_plan)'s business; this only judges the response.
///
/// - a redirect → `PreflightDisallowedRedirect`;
/// - the CORS check with `Preflight*` error names;
/// - status not 200–299 → `PreflightInvalidStatus`;
/// - ACAM / ACAH items must be tokens → `InvalidAllowMethodsPreflightResponse` /
///   `InvalidAllowHeadersPreflightResponse`;
/// - the method must be listed (case-sensitive), safelisted, or covered by `*` when
///   uncredentialed → `MethodDisallowedByPreflightResponse` (failed parameter: the method);
/// - every CORS-unsafe header name must be listed (case-insensitive) unless ACAH has `*` and
///   the request is uncredentialed → `HeaderDisallowedByPreflightResponse` naming the first
///   failing name in sorted (ACRH) order.
///
/// Deviation (§15 row 1): with ACAH `*`, uncredentialed, `Authorization` sent and not listed,
/// Chromium allows the request and raises `AuthorizationCoveredByWildcard`; the spec fails it.
/// The outcome records a [`SpecNote`].
///
/// ```
/// use corsguard_browser::{check_preflight, BrowserRequest, CorsError, ResponseView};
///
/// let req = BrowserRequest::new("http://127.0.0.1:18081", "http://127.0.0.1:18082/u")
///     .method("PUT")
///     .header("X-Foo", "1")
///     .header("X-Bar", "1");
/// let resp = ResponseView::new(204)
///     .with_header("Access-Control-Allow-Origin", "http://127.0.0.1:18081")
///     .with_header("Access-Control-Allow-Methods", "PUT")
///     .with_header("Access-Control-Allow-Headers", "x-foo");
/// let failure = check_preflight(&req, &resp).unwrap_err();
/// assert_eq!(failure.cors_error, CorsError::HeaderDisallowedByPreflightResponse);
/// assert_eq!(failure.failed_parameter.as_deref(), Some("x-bar"));
/// ```
pub fn check_preflight(
    req: &BrowserRequest,
    resp: &ResponseView,
) -> Result<PreflightOutcome, CorsFailure> {
    if resp.is_redirect() {
        return Err(fail(
            req,
            CorsError::PreflightDisallowedRedirect,
            None,
            true,
        ));
    }
    cors_check(req, resp).map_err(|mut f| {
        f.cors_error = f.cors_error.for_preflight();
        f.preflight = true;
        f
    })?;
    if !resp.is_ok_status() {
        return Err(fail(req, CorsError::PreflightInvalidStatus, None, true));
    }
    let methods = match resp.get("access-control-allow-methods") {
        None => Vec::new(),
        Some(v) => parse_header_list(&v).ok_or_else(|| {
            fail(
                req,
                CorsError::InvalidAllowMethodsPreflightResponse,
                None,
                true,
            )
        })?,
    };
    let header_names: Vec<String> = match resp.get("access-control-allow-headers") {
        None => Vec::new(),
        Some(v) => parse_header_list(&v)
            .ok_or_else(|| {
                fail(
                    req,
                    CorsError::InvalidAllowHeadersPreflightResponse,
                    None,
                    true,
                )
            })?
            .into_iter()
            .map(|h| h.to_ascii_lowercase())
            .collect(),
    };
    let max_age = parse_max_age(resp.get("access-control-max-age").as_deref());
    let credentials = req.is_credentialed();
    let mut outcome = PreflightOutcome {
        methods: sorted_dedup(methods),
        header_names: sorted_dedup(header_names),
        credentials,
        max_age,
        authorization_covered_by_wildcard: false,
        notes: Vec::new(),
    };

    let allowed = Allowed {
        methods: &outcome.methods,
        header_names: &outcome.header_names,
        credentials,
    };
    let method = req.normalized_method();
    if !allowed.allows_method(&method) {
        return Err(fail(
            req,
            CorsError::MethodDisallowedByPreflightResponse,
            Some(method),
            true,
        ));
    }

    let prepared = prepare_headers(req);
    let analysis = analyze_headers(&prepared, req.initiator);
    match allowed.check_headers(&analysis.unsafe_names, prepared.has("authorization")) {
        HeaderCheck::Fail(name) => {
            return Err(fail(
                req,
                CorsError::HeaderDisallowedByPreflightResponse,
                Some(name),
                true,
            ));
        }
        HeaderCheck::AuthorizationCoveredByWildcard => {
            outcome.authorization_covered_by_wildcard = true;
            outcome.notes.push(
                SpecNote::new(
                    Deviation::AuthorizationCoveredByWildcard,
                    "authorization",
                    "`*` never covers Authorization (#cors-non-wildcard-request-header-name), so \
                     the preflight fails with HeaderDisallowedByPreflightResponse for \
                     authorization",
                    "allows the request and only reports a deprecation warning",
                )
                .with_devtools_issue("AuthorizationCoveredByWildcard"),
            );
        }
        HeaderCheck::Pass => {}
    }
    if let Some(note) = outcome.max_age.note() {
        outcome.notes.push(note);
    }
    Ok(outcome)
}

fn sorted_dedup(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v.dedup();
    v
}

/// The allow-lists of a preflight result (fresh or cached), as Chromium's `PreflightResult`
/// holds them.
pub(crate) struct Allowed<'a> {
    pub(crate) methods: &'a [String],
    pub(crate) header_names: &'a [String],
    pub(crate) credentials: bool,
}

pub(crate) enum HeaderCheck {
    Pass,
    AuthorizationCoveredByWildcard,
    Fail(String),
}

impl Allowed<'_> {
    /// Chromium `EnsureAllowedCrossOriginMethod` (spec-conformant mode, as in Chromium 156):
    /// listed (case-sensitive), safelisted, or `*` when uncredentialed.
    pub(crate) fn allows_method(&self, method: &str) -> bool {
        let listed = |m: &str| self.methods.iter().any(|x| x == m);
        listed(method)
            || safelist::is_cors_safelisted_method(method)
            || (!self.credentials && listed("*"))
    }

    /// Chromium `EnsureAllowedCrossOriginHeaders` with non-wildcard request-header support
    /// disabled (Chromium 156 on the network path).
    pub(crate) fn check_headers(
        &self,
        unsafe_names: &[String],
        has_authorization: bool,
    ) -> HeaderCheck {
        let listed = |name: &str| self.header_names.iter().any(|h| h == name);
        if !self.credentials && listed("*") {
            if has_authorization && !listed("authorization") {
                return HeaderCheck::AuthorizationCoveredByWildcard;
            }
            return HeaderCheck::Pass;
        }
        match unsafe_names.iter().find(|n| !listed(n)) {
            Some(name) => HeaderCheck::Fail(name.clone()),
            None => HeaderCheck::Pass,
        }
    }
}

/// Checks an actual response (or a redirect hop) for `req`: the CORS check when the CORS flag
/// is set (non-preflight error names), the redirect-location credentials rule, and what
/// script may read.
///
/// Responses of same-origin requests are `basic`; `no-cors` cross-origin ones are `opaque`;
/// neither is CORS-checked. A 3xx redirect of a CORS request needs ACAO like any response.
///
/// ```
/// use corsguard_browser::{check_response, BrowserRequest, ResponseView};
///
/// let req = BrowserRequest::new("http://127.0.0.1:18081", "http://127.0.0.1:18082/");
/// let resp = ResponseView::new(200)
///     .with_header("Access-Control-Allow-Origin", "*")
///     .with_header("Access-Control-Expose-Headers", "*")
///     .with_header("X-Custom", "1")
///     .with_header("Set-Cookie", "a=b");
/// let outcome = check_response(&req, &resp).unwrap();
/// assert_eq!(outcome.exposed_headers, vec![
///     "access-control-allow-origin", "access-control-expose-headers", "x-custom",
/// ]);
/// assert_eq!(outcome.hidden_headers, vec!["set-cookie"]);
/// ```
pub fn check_response(
    req: &BrowserRequest,
    resp: &ResponseView,
) -> Result<ActualOutcome, CorsFailure> {
    let cors_flag = req.cors_flag();
    if cors_flag {
        cors_check(req, resp)?;
    }
    let redirect_location = if resp.is_redirect() {
        let base = Url::parse(&req.url).ok();
        resp.location()
            .and_then(|l| Url::options().base_url(base.as_ref()).parse(l).ok())
    } else {
        None
    };
    if let Some(location) = &redirect_location {
        let has_credentials = !location.username().is_empty() || location.password().is_some();
        let cross = req.tainted_origin || !same_origin_str(&req.page_origin, location.as_str());
        if req.mode == RequestMode::Cors && has_credentials && (cors_flag || cross) {
            return Err(fail(
                req,
                CorsError::RedirectContainsCredentials,
                Some(location.to_string()),
                false,
            ));
        }
    }
    let response_type = if cors_flag {
        ResponseType::Cors
    } else if req.mode == RequestMode::NoCors && (req.tainted_origin || req.is_cross_origin()) {
        ResponseType::Opaque
    } else {
        ResponseType::Basic
    };
    let (exposed_headers, hidden_headers) = if redirect_location.is_some() {
        (Vec::new(), resp.header_names())
    } else {
        exposed_header_names(req, resp, response_type)
    };
    Ok(ActualOutcome {
        status: resp.status,
        response_type,
        redirect_location: redirect_location.map(|u| u.to_string()),
        exposed_headers,
        hidden_headers,
    })
}

/// Splits the response's header names into (readable by script, hidden), per §4.7:
/// safelisted response headers always; ACEH items; ACEH `*` means every name only for
/// uncredentialed requests (a header literally named `*` otherwise); `Set-Cookie` and
/// `Set-Cookie2` never; an unparsable ACEH exposes only the safelisted names.
pub fn exposed_header_names(
    req: &BrowserRequest,
    resp: &ResponseView,
    response_type: ResponseType,
) -> (Vec<String>, Vec<String>) {
    let names = resp.header_names();
    let listed: Vec<String> = match response_type {
        ResponseType::Opaque => return (Vec::new(), names),
        ResponseType::Basic => {
            return names
                .into_iter()
                .partition(|n| !is_forbidden_response_header_name(n));
        }
        ResponseType::Cors => resp
            .get("access-control-expose-headers")
            .and_then(|v| parse_header_list(&v))
            .unwrap_or_default()
            .into_iter()
            .map(|n| n.to_ascii_lowercase())
            .collect(),
    };
    let all = !req.is_credentialed() && listed.iter().any(|n| n == "*");
    names.into_iter().partition(|n| {
        !is_forbidden_response_header_name(n)
            && (all || is_safelisted_response_header_name(n) || listed.contains(n))
    })
}
