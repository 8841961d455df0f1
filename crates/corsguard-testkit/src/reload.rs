//! The hot-reload scenario shared by the middleware suites (feature `reload`): two policies
//! that differ in every CORS header, the requests that tell them apart, and what each policy
//! answers (computed by the engine), so a response mixing the two is caught.

use corsguard::{Policy, RequestHead};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

/// Policy A.
pub const POLICY_A: &str = "defaults:
  allow_origins: ['https://a.example', 'https://shared.example']
  allow_methods: [PUT]
  expose_headers: [x-from-a]
  max_age: 111
";
/// Policy B.
pub const POLICY_B: &str = "defaults:
  allow_origins: ['https://b.example', 'https://shared.example']
  allow_methods: [DELETE]
  allow_headers: [x-from-b]
  expose_headers: [x-from-b]
  allow_credentials: true
  max_age: 222
";

/// Concurrent clients.
pub const TASKS: usize = 8;
/// Requests per client.
pub const REQUESTS_PER_TASK: usize = 200;
/// Policy swaps.
pub const SWAPS: usize = 200;

/// The request headers of request `i`: origins a/b/shared, preflight or actual.
pub fn request(i: usize) -> (Method, Vec<(&'static str, &'static str)>) {
    let origin = [
        "https://a.example",
        "https://b.example",
        "https://shared.example",
    ][i % 3];
    if (i / 3).is_multiple_of(2) {
        (
            Method::OPTIONS,
            vec![("origin", origin), ("access-control-request-method", "PUT")],
        )
    } else {
        (Method::GET, vec![("origin", origin)])
    }
}

/// The CORS part of a response (status, `access-control-*` and `vary` lines), sorted.
pub type Answer = (u16, Vec<(String, String)>);

/// Extracts the [`Answer`] of a response.
pub fn cors_part(status: u16, headers: &HeaderMap) -> Answer {
    let mut h: Vec<(String, String)> = headers
        .iter()
        .filter(|(n, _)| n.as_str().starts_with("access-control-") || n.as_str() == "vary")
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_string()))
        .collect();
    h.sort();
    (status, h)
}

/// What `policy` answers to request `i` (computed by the engine directly).
pub fn expected(policy: &Policy, i: usize) -> Answer {
    let (method, lines) = request(i);
    let mut headers = HeaderMap::new();
    for (n, v) in &lines {
        headers.append(HeaderName::from_static(n), HeaderValue::from_static(v));
    }
    let uri = Uri::from_static("/items");
    let d = policy.decide(&RequestHead::from_components(&method, &uri, &headers));
    match d.response_parts() {
        Some((status, h)) => cors_part(status.as_u16(), &h),
        None => {
            let mut h = HeaderMap::new();
            d.apply(&mut h);
            cors_part(200, &h)
        }
    }
}
