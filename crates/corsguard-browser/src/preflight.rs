//! Does a request need a CORS preflight, and what exactly does Chromium send?
//! (`#cors-preflight-fetch` steps 1–5, `#cors-unsafe-request-header-names`, `#http-fetch`.)

use std::fmt;

use serde::Serialize;

use super::notes::SpecNote;
use super::request::{
    BrowserRequest, DroppedHeader, PreparedHeaders, RequestMode, prepare_headers, tuple_origin,
};
use super::safelist::{self, analyze_headers};

/// Why a request is not "simple", i.e. why it needs a preflight when sent cross-origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PreflightReason {
    /// The (normalized) method is not `GET`, `HEAD` or `POST`.
    Method {
        /// The method, as sent in `Access-Control-Request-Method`.
        method: String,
    },
    /// The use-CORS-preflight flag is set (e.g. XHR upload listeners).
    Forced,
    /// The header name is not on the safelist at all.
    HeaderName {
        /// Lower-case name.
        name: String,
    },
    /// A safelist candidate whose value exceeds 128 bytes.
    ValueTooLong {
        /// Lower-case name.
        name: String,
        /// Value length in bytes.
        length: usize,
    },
    /// The value contains a CORS-unsafe request-header byte (`#cors-unsafe-request-header-byte`).
    UnsafeByte {
        /// Lower-case name.
        name: String,
        /// The first offending byte.
        byte: u8,
    },
    /// An `Accept-Language`/`Content-Language` value with a byte outside
    /// `0-9 A-Z a-z SP * , - . ; =`.
    LanguageByte {
        /// Lower-case name.
        name: String,
        /// The first offending byte.
        byte: u8,
    },
    /// A `Content-Type` that does not parse or whose essence is not one of the three.
    ContentType {
        /// The value.
        value: String,
        /// Its essence, when it parses as a MIME type.
        essence: Option<String>,
        /// Whether it is a CORS protocol exception type (exempt only for user-agent reports).
        protocol_exception: bool,
    },
    /// A `Range` that is not a single `bytes=N-` / `bytes=N-M` range.
    Range {
        /// The value.
        value: String,
    },
    /// A client hint Chromium would safelist, but with an implausible value.
    ClientHintValue {
        /// Lower-case name.
        name: String,
        /// The value.
        value: String,
    },
    /// The values of the otherwise-safelisted headers sum to more than 1024 bytes, so all of
    /// them become unsafe.
    Budget {
        /// Total bytes.
        total: usize,
        /// The names that became unsafe (lower-case, sorted).
        names: Vec<String>,
    },
}

impl fmt::Display for PreflightReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PreflightReason::Method { method } => write!(
                f,
                "method {method} is not a CORS-safelisted method (GET, HEAD, POST)"
            ),
            PreflightReason::Forced => f.write_str("the use-CORS-preflight flag is set"),
            PreflightReason::HeaderName { name } => {
                write!(f, "header {name} is not a CORS-safelisted request-header")
            }
            PreflightReason::ValueTooLong { name, length } => write!(
                f,
                "{name} value is {length} bytes, over the {}-byte limit",
                safelist::MAX_SAFELISTED_VALUE_LEN
            ),
            PreflightReason::UnsafeByte { name, byte } => write!(
                f,
                "{name} value contains the CORS-unsafe request-header byte {}",
                describe_byte(*byte)
            ),
            PreflightReason::LanguageByte { name, byte } => write!(
                f,
                "{name} value contains {}, which is not allowed in it",
                describe_byte(*byte)
            ),
            PreflightReason::ContentType {
                value,
                essence,
                protocol_exception,
            } => {
                match essence {
                    Some(e) => write!(
                        f,
                        "Content-Type '{value}' has essence {e}, not \
                         application/x-www-form-urlencoded, multipart/form-data or text/plain"
                    )?,
                    None => write!(f, "Content-Type '{value}' does not parse as a MIME type")?,
                }
                if *protocol_exception {
                    f.write_str(
                        " (a CORS protocol exception exempts it only for user-agent reports)",
                    )?;
                }
                Ok(())
            }
            PreflightReason::Range { value } => write!(
                f,
                "Range '{value}' is not a single bytes=N- or bytes=N-M range"
            ),
            PreflightReason::ClientHintValue { name, value } => write!(
                f,
                "{name} value '{value}' is not a value Chromium safelists for this client hint"
            ),
            PreflightReason::Budget { total, names } => write!(
                f,
                "the safelisted header values total {total} bytes, over the {}-byte budget, \
                 so {} become unsafe",
                safelist::SAFELIST_VALUE_BUDGET,
                names.join(", ")
            ),
        }
    }
}

fn describe_byte(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("0x{b:02X} ('{}')", char::from(b))
    } else {
        format!("0x{b:02X}")
    }
}

/// Whether a simulated request is a preflight or the request itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SimRequestKind {
    /// The `OPTIONS` CORS-preflight request.
    Preflight,
    /// The actual request (or a redirect hop of it).
    Actual,
}

/// A request as it goes on the wire, for a responder (`corsguard explain` feeds it to the
/// policy, `corsguard probe` sends it).
///
/// Headers are those this model determines: `Origin`, the ACRM/ACRH pair of a preflight,
/// `Accept`, `Sec-Fetch-Mode`, `Sec-Fetch-Dest` and the script's headers. Chromium also sends
/// `Sec-Fetch-Site`, `Referer`, `User-Agent` and the like, which do not affect CORS and are not
/// modelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimRequest {
    /// Preflight or actual.
    pub kind: SimRequestKind,
    /// The method on the wire.
    pub method: String,
    /// The URL.
    pub url: String,
    /// Header lines in order.
    pub headers: Vec<(String, String)>,
    /// Whether cookies / HTTP authentication are attached (never for a preflight).
    pub credentials: bool,
}

impl SimRequest {
    /// The first value of `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether this is a preflight.
    pub fn is_preflight(&self) -> bool {
        self.kind == SimRequestKind::Preflight
    }
}

/// The answer of [`preflight_plan`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreflightPlan {
    /// Whether Chromium sends a preflight (ignoring its preflight cache; see
    /// [`needs_preflight_with_cache`](super::needs_preflight_with_cache)).
    pub needed: bool,
    /// Whether the URL is cross-origin to the page (or the origin is tainted).
    pub cross_origin: bool,
    /// Why the request is not simple. Non-empty does not imply `needed`: same-origin and
    /// `no-cors` requests are never preflighted.
    pub reasons: Vec<PreflightReason>,
    /// The normalized method, i.e. the `Access-Control-Request-Method` value.
    pub access_control_request_method: String,
    /// The CORS-unsafe request-header names: lower-case, sorted, de-duplicated.
    pub unsafe_header_names: Vec<String>,
    /// The `Access-Control-Request-Headers` value (names joined with `,`, no space), absent
    /// when no header is unsafe.
    pub access_control_request_headers: Option<String>,
    /// The preflight Chromium sends, when `needed`.
    pub request: Option<SimRequest>,
    /// Script headers the browser does not send.
    pub dropped_headers: Vec<DroppedHeader>,
    /// The CORS protocol exception applied (a user-agent report's `Content-Type`), if any.
    pub protocol_exception: Option<String>,
    /// Where the spec would decide differently (client hints, `Range` edge cases).
    pub notes: Vec<SpecNote>,
}

/// Decides whether Chromium 156 preflights `req`, and builds the preflight it would send.
///
/// The preflight is needed when the request is in CORS mode, cross-origin (or tainted), and
/// its method is not safelisted, some header is CORS-unsafe, or the use-CORS-preflight flag is
/// set. Forbidden headers are dropped first (as `fetch()` does); Chromium's client-hint
/// safelist is applied and noted as a deviation (§15 row 3).
///
/// ```
/// use corsguard_browser::{preflight_plan, BrowserRequest};
///
/// let req = BrowserRequest::new("http://127.0.0.1:18081", "http://127.0.0.1:18082/u")
///     .method("PUT")
///     .header("X-Foo", "1")
///     .header("X-Bar", "2")
///     .header("Content-Type", "application/json");
/// let plan = preflight_plan(&req);
/// assert!(plan.needed);
/// assert_eq!(plan.access_control_request_method, "PUT");
/// assert_eq!(
///     plan.access_control_request_headers.as_deref(),
///     Some("content-type,x-bar,x-foo")
/// );
/// let preflight = plan.request.unwrap();
/// assert_eq!(preflight.method, "OPTIONS");
/// assert_eq!(preflight.header("Origin"), Some("http://127.0.0.1:18081"));
/// assert_eq!(preflight.header("Accept"), Some("*/*"));
/// assert!(!preflight.credentials);
/// ```
pub fn preflight_plan(req: &BrowserRequest) -> PreflightPlan {
    let method = req.normalized_method();
    let prepared = prepare_headers(req);
    let analysis = analyze_headers(&prepared, req.initiator);
    let method_safelisted = safelist::is_cors_safelisted_method(&method);

    let mut reasons = Vec::new();
    if req.use_cors_preflight {
        reasons.push(PreflightReason::Forced);
    }
    if !method_safelisted {
        reasons.push(PreflightReason::Method {
            method: method.clone(),
        });
    }
    reasons.extend(analysis.reasons);

    let cors_flag = req.cors_flag();
    let needed = cors_flag
        && (req.use_cors_preflight || !method_safelisted || !analysis.unsafe_names.is_empty());
    let acrh = (!analysis.unsafe_names.is_empty()).then(|| analysis.unsafe_names.join(","));
    let request = needed.then(|| build_preflight_request(req, &method, acrh.as_deref()));

    PreflightPlan {
        needed,
        cross_origin: req.tainted_origin || req.is_cross_origin(),
        reasons,
        access_control_request_method: method,
        unsafe_header_names: analysis.unsafe_names,
        access_control_request_headers: acrh,
        request,
        dropped_headers: prepared.dropped,
        protocol_exception: analysis.protocol_exception,
        notes: if cors_flag {
            analysis.notes
        } else {
            Vec::new()
        },
    }
}

/// The preflight Chromium sends (`CreatePreflightRequest`): `OPTIONS`, `Accept: */*`, ACRM,
/// ACRH when non-empty, `Origin` (`null` when tainted), `Sec-Fetch-Mode: cors`,
/// `Sec-Fetch-Dest: empty`; credentials mode `omit`.
pub(crate) fn build_preflight_request(
    req: &BrowserRequest,
    method: &str,
    acrh: Option<&str>,
) -> SimRequest {
    let mut headers = vec![
        ("Accept".to_owned(), "*/*".to_owned()),
        (
            "Access-Control-Request-Method".to_owned(),
            method.to_owned(),
        ),
    ];
    if let Some(acrh) = acrh {
        headers.push(("Access-Control-Request-Headers".to_owned(), acrh.to_owned()));
    }
    headers.push(("Origin".to_owned(), req.serialized_origin()));
    push_sec_fetch_site(req, &mut headers);
    headers.push(("Sec-Fetch-Mode".to_owned(), "cors".to_owned()));
    headers.push(("Sec-Fetch-Dest".to_owned(), "empty".to_owned()));
    SimRequest {
        kind: SimRequestKind::Preflight,
        method: "OPTIONS".to_owned(),
        url: req.url.clone(),
        headers,
        credentials: false,
    }
}

/// The actual request on the wire: the script's (prepared) headers, a default
/// `Accept: */*`, `Origin` per `#append-a-request-origin-header`, and the `Sec-Fetch-*` pair.
pub(crate) fn build_actual_request(req: &BrowserRequest, prepared: &PreparedHeaders) -> SimRequest {
    let method = req.normalized_method();
    let mut headers: Vec<(String, String)> = prepared.headers.clone();
    if !prepared.has("accept") {
        headers.push(("Accept".to_owned(), "*/*".to_owned()));
    }
    if let Some(origin) = origin_header(req, &method) {
        headers.push(("Origin".to_owned(), origin));
    }
    push_sec_fetch_site(req, &mut headers);
    headers.push(("Sec-Fetch-Mode".to_owned(), req.mode.as_str().to_owned()));
    let dest = if req.destination != crate::corp::Destination::Empty {
        req.destination.as_str()
    } else if req.mode == RequestMode::Navigate {
        "document"
    } else {
        "empty"
    };
    headers.push(("Sec-Fetch-Dest".to_owned(), dest.to_owned()));
    SimRequest {
        kind: SimRequestKind::Actual,
        method,
        url: req.url.clone(),
        headers,
        credentials: req.credentials_included(),
    }
}

/// `Sec-Fetch-Site`, where browsers send it (what the CSRF check reads).
fn push_sec_fetch_site(req: &BrowserRequest, headers: &mut Vec<(String, String)>) {
    if let Some(site) = req.sec_fetch_site() {
        headers.push(("Sec-Fetch-Site".to_owned(), site.to_owned()));
    }
}

/// `#append-a-request-origin-header` with the default referrer policy
/// (`strict-origin-when-cross-origin`).
fn origin_header(req: &BrowserRequest, method: &str) -> Option<String> {
    let serialized = req.serialized_origin();
    if req.cors_flag() {
        return Some(serialized);
    }
    if method == "GET" || method == "HEAD" {
        return None;
    }
    let downgrade = tuple_origin(&req.page_origin).is_some_and(|o| {
        o.ascii_serialization().starts_with("https:")
            && url::Url::parse(&req.url).is_ok_and(|u| u.scheme() != "https")
    });
    if downgrade && !req.tainted_origin {
        return Some("null".to_owned());
    }
    Some(serialized)
}
