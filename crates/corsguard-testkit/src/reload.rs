//! The hot-reload scenario shared by the middleware suites (feature `reload`): two policies
//! that differ in every CORS header, the requests that tell them apart, and what each policy
//! answers (computed by the engine), so a response mixing the two is caught.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use corsguard::adapter::RequestHead;
use corsguard::{Policy, PolicyHandle};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

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

/// The expected answers of both policies to the six distinct requests; panics if a request
/// cannot tell the policies apart (the test would prove nothing).
pub fn answers(a: &Policy, b: &Policy) -> Vec<(Answer, Answer)> {
    let answers: Vec<(Answer, Answer)> = (0..6).map(|i| (expected(a, i), expected(b, i))).collect();
    for (i, (x, y)) in answers.iter().enumerate() {
        assert_ne!(x, y, "request {i} cannot tell the policies apart");
    }
    answers
}

/// Runs the scenario against a server at `addr` whose CORS layer reads `handle` (currently
/// holding `a`): swaps `handle` between `b` and `a` up to [`SWAPS`] times while [`TASKS`]
/// keep-alive clients send [`REQUESTS_PER_TASK`] requests each, and asserts that every
/// response is exactly one policy's answer, that both policies answered, and that every swap
/// produced a new version.
pub async fn run(addr: SocketAddr, handle: &PolicyHandle, a: Policy, b: Policy) {
    let answers = Arc::new(answers(&a, &b));
    let done = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (handle, done) = (handle.clone(), done.clone());
        tokio::spawn(async move {
            let mut swaps = 0;
            while swaps < SWAPS && !done.load(Ordering::SeqCst) {
                handle.replace(if swaps.is_multiple_of(2) {
                    b.clone()
                } else {
                    a.clone()
                });
                swaps += 1;
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            swaps
        })
    };

    let seen_a = Arc::new(AtomicUsize::new(0));
    let seen_b = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for t in 0..TASKS {
        let (answers, seen_a, seen_b) = (answers.clone(), seen_a.clone(), seen_b.clone());
        clients.push(tokio::spawn(async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            for n in 0..REQUESTS_PER_TASK {
                let i = t + n;
                let (method, lines) = request(i);
                let mut req = Request::builder()
                    .method(method)
                    .uri("/items")
                    .header("host", addr.to_string());
                for (name, value) in lines {
                    req = req.header(name, value);
                }
                sender.ready().await.unwrap();
                let res = tokio::time::timeout(
                    crate::client::REQUEST_TIMEOUT,
                    sender.send_request(req.body(Empty::<Bytes>::new()).unwrap()),
                )
                .await
                .unwrap()
                .unwrap();
                let got = cors_part(res.status().as_u16(), res.headers());
                res.into_body().collect().await.unwrap();
                let (ans_a, ans_b) = &answers[i % 6];
                if got == *ans_a {
                    seen_a.fetch_add(1, Ordering::SeqCst);
                } else if got == *ans_b {
                    seen_b.fetch_add(1, Ordering::SeqCst);
                } else {
                    panic!(
                        "request {i}: answer matches neither policy\n  got: {got:?}\n  A:   {ans_a:?}\n  B:   {ans_b:?}"
                    );
                }
            }
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let swaps = swapper.await.unwrap();
    let (na, nb) = (seen_a.load(Ordering::SeqCst), seen_b.load(Ordering::SeqCst));
    assert_eq!(na + nb, TASKS * REQUESTS_PER_TASK);
    assert!(swaps > 0, "no swap happened");
    assert!(
        na > 0 && nb > 0,
        "both policies must have answered (A {na}, B {nb}, {swaps} swaps)"
    );
    assert_eq!(handle.version(), 1 + swaps as u64);
}
