//! Translation between actix-web's types (on `http` 0.2) and the engine (on `http` 1): the
//! request head going in (header bytes, no copies), the decision's headers going out
//! (ARCHITECTURE.md, adapter contract step 4).

use actix_web::HttpResponse;
use actix_web::body::BoxBody;
use actix_web::dev::ServiceRequest;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use corsguard::adapter::{Decision, OWNED_HEADERS, RequestHead, vary_merge};

/// The request headers CORS reads. `Access-Control-Request-Private-Network` is read once
/// (its first line), like the engine's `RequestHead::from_components`.
const REPEATABLE: [&str; 3] = [
    "origin",
    "access-control-request-method",
    "access-control-request-headers",
];
const ACRPN: &str = "access-control-request-private-network";
const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// Builds the engine's view of `req`. `scheme` is the client's scheme
/// (`ConnectionInfo::scheme`), borrowed from the caller.
pub(crate) fn request_head<'r>(req: &'r ServiceRequest, scheme: &'r str) -> RequestHead<'r> {
    let uri = req.uri();
    let host = uri
        .authority()
        .map(|a| a.as_str())
        .map(|a| a.rsplit_once('@').map_or(a, |(_, h)| h))
        .or_else(|| {
            req.headers()
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
        });
    let path = req.path();
    let mut head = RequestHead::new(
        req.method().as_str(),
        if path.is_empty() { "/" } else { path },
    )
    .with_host(host)
    .with_scheme(Some(scheme));
    let headers = req.headers();
    for name in REPEATABLE {
        for v in headers.get_all(name) {
            head.push_header_bytes(name, v.as_bytes());
        }
    }
    if let Some(v) = headers.get(ACRPN) {
        head.push_header_bytes(ACRPN, v.as_bytes());
    }
    // The CSRF check reads Sec-Fetch-Site (every line: several are refused), only for the
    // methods it checks.
    if !corsguard::csrf_safe_method(req.method().as_str()) {
        for v in headers.get_all(SEC_FETCH_SITE) {
            head.push_header_bytes(SEC_FETCH_SITE, v.as_bytes());
        }
    }
    head
}

/// Writes `decision` into actix response headers: removes the app's CORS headers (enforced
/// rules), sets the decision's (replacing, never appending), merges `Vary` into one line.
/// The complete answer for `Action::Respond`: the decision's status, body, CORS headers and
/// `Vary` ([`apply`]), then the engine's other answer headers (`respond_headers`: a CSRF
/// refusal's `X-Corsguard-Csrf`, the body's content type). actix writes `Content-Length`.
pub(crate) fn respond(decision: &Decision, status: u16) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
    let mut res = HttpResponse::with_body(status, BoxBody::new(decision.body()));
    let headers = res.headers_mut();
    apply(decision, headers);
    for (name, value) in decision.respond_headers() {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.insert(name, value);
        }
    }
    res
}

pub(crate) fn apply(decision: &Decision, headers: &mut HeaderMap) {
    if decision.owns_cors_headers() {
        for name in &OWNED_HEADERS {
            headers.remove(name.as_str());
        }
    }
    for (name, value) in decision.headers() {
        // Both conversions accept every value the engine produces (same grammar in http
        // 0.2 and 1); a failure would only skip that header.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.insert(name, value);
        }
    }
    let merged = vary_merge(
        headers.get_all(header::VARY).map(HeaderValue::as_bytes),
        decision.vary_tokens(),
    );
    if let Some(vary) = merged
        && let Ok(vary) = HeaderValue::from_bytes(vary.as_bytes())
    {
        headers.insert(header::VARY, vary);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn policy() -> corsguard::Policy {
        corsguard::Policy::builder()
            .allow_origin("https://a.example")
            .allow_methods(["PUT"])
            .allow_credentials(true)
            .build()
            .unwrap()
    }

    #[test]
    fn head_reads_every_cors_header_line() {
        let req = TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/x/y")
            .insert_header(("host", "api.example:8080"))
            .append_header(("origin", "https://a.example"))
            .append_header(("access-control-request-method", "PUT"))
            .append_header(("access-control-request-headers", "a"))
            .append_header(("access-control-request-headers", "b"))
            .to_srv_request();
        let head = request_head(&req, "https");
        assert_eq!(head.method(), "OPTIONS");
        assert_eq!(head.path(), "/x/y");
        assert_eq!(head.host(), Some("api.example:8080"));
        assert_eq!(head.scheme(), Some("https"));
        assert_eq!(head.origin(), Some(&b"https://a.example"[..]));
        assert_eq!(head.request_method(), Some(&b"PUT"[..]));
        assert_eq!(head.request_header_lines(), [&b"a"[..], &b"b"[..]]);
    }

    #[test]
    fn apply_replaces_app_cors_headers_and_merges_vary() {
        let o = http::HeaderValue::from_static("https://a.example");
        let mut head = RequestHead::new("GET", "/");
        head.push_header(&http::header::ORIGIN, &o);
        let d = policy().decide(&head);

        let mut h = HeaderMap::new();
        h.append(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.append(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("https://b.example"),
        );
        h.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        h.append(header::VARY, HeaderValue::from_static("cookie"));
        apply(&d, &mut h);
        let acao: Vec<_> = h.get_all(header::ACCESS_CONTROL_ALLOW_ORIGIN).collect();
        assert_eq!(acao, [&HeaderValue::from_static("https://a.example")]);
        assert_eq!(
            h.get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).unwrap(),
            "true"
        );
        let vary: Vec<_> = h.get_all(header::VARY).collect();
        assert_eq!(
            vary,
            [&HeaderValue::from_static("Accept-Encoding, cookie, Origin")]
        );
    }
}
