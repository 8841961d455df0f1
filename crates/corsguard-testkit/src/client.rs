//! An exact HTTP/1.1 test client (hyper's connection API): every header line is sent as
//! given, `Host` included, and every response header line is observed. Shared by the
//! middleware and gateway test suites (feature `client`).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::{Case, Observed, request_headers};

/// Bound on every single request of the tests.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends one request over a fresh connection and observes the response: status, every
/// header line (lower-case names) and the body.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    host: Option<&str>,
    headers: &[(String, String)],
) -> (Observed, Bytes) {
    tokio::time::timeout(
        REQUEST_TIMEOUT,
        send_inner(addr, method, path, host, headers),
    )
    .await
    .unwrap_or_else(|_| panic!("{method} {path}: no answer within {REQUEST_TIMEOUT:?}"))
}

async fn send_inner(
    addr: SocketAddr,
    method: &str,
    path: &str,
    host: Option<&str>,
    headers: &[(String, String)],
) -> (Observed, Bytes) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let conn = tokio::spawn(conn);
    let own_host = addr.to_string();
    let mut req = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(path)
        .header("host", host.unwrap_or(&own_host));
    for (n, v) in headers {
        req = req.header(n.as_str(), v.as_str());
    }
    let req = req.body(Empty::<Bytes>::new()).unwrap();
    let res = sender.send_request(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    drop(sender);
    let _ = conn.await;
    let observed = Observed {
        status: parts.status.as_u16(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    };
    (observed, body)
}

/// Sends a behaviour-table row (its headers, app instructions and Host override).
pub async fn send_case(addr: SocketAddr, case: &Case, self_origin: &str) -> Observed {
    let headers = request_headers(case, self_origin);
    send(
        addr,
        &case.request.method,
        &case.request.path,
        case.request.host.as_deref(),
        &headers,
    )
    .await
    .0
}

/// Builds `(name, value)` header lines from string pairs.
pub fn lines(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// All values of a header in an observation.
pub fn all<'a>(o: &'a Observed, name: &str) -> Vec<&'a str> {
    o.headers
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The single value of a header (panics if it appears more than once).
pub fn one<'a>(o: &'a Observed, name: &str) -> Option<&'a str> {
    let v = all(o, name);
    assert!(v.len() <= 1, "{name} appears {} times: {v:?}", v.len());
    v.first().copied()
}
