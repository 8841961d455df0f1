//! Shared test support: a real upstream (the testkit app plus a few test endpoints), a raw
//! HTTP/1.1 client that sends header lines exactly as given, and gateway starters.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use corsguard_gateway::{Gateway, GatewayConfig, RunningGateway};
use http::{HeaderValue, Request, Response};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};

/// When `/__consume` last saw its first body bytes.
pub(crate) static CONSUME_FIRST_BYTE: std::sync::Mutex<Option<std::time::Instant>> =
    std::sync::Mutex::new(None);

pub(crate) type TestBody = UnsyncBoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

pub(crate) fn full(b: impl Into<Bytes>) -> TestBody {
    Full::new(b.into()).map_err(|e| match e {}).boxed_unsync()
}

/// A running test upstream.
pub(crate) struct Upstream {
    pub addr: SocketAddr,
    /// Requests received.
    pub hits: Arc<AtomicUsize>,
}

impl Upstream {
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub(crate) fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

type Extra = Arc<dyn Fn(&Request<Incoming>) -> Option<Response<TestBody>> + Send + Sync>;

/// Starts the upstream: `/__hang` never answers (for 60 s), `/__slow?ms=N` answers after N ms,
/// `/__echo` answers the request headers as JSON, everything else is the testkit app.
pub(crate) async fn upstream() -> Upstream {
    upstream_with(Arc::new(|_| None)).await
}

pub(crate) async fn upstream_with(extra: Extra) -> Upstream {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else { return };
            let h = h.clone();
            let extra = extra.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<Incoming>| {
                    h.fetch_add(1, Ordering::SeqCst);
                    let extra = extra.clone();
                    async move { Ok::<_, Infallible>(app(req, extra).await) }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection_with_upgrades(TokioIo::new(s), svc)
                    .await;
            });
        }
    });
    Upstream { addr, hits }
}

async fn app(req: Request<Incoming>, extra: Extra) -> Response<TestBody> {
    if let Some(r) = extra(&req) {
        return r;
    }
    let path = req.uri().path().to_owned();
    if path == "/__hang" {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    if path == "/__slow" {
        let ms: u64 = req
            .uri()
            .query()
            .and_then(|q| q.strip_prefix("ms="))
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        return Response::new(full("slow"));
    }
    if path == "/__consume" {
        // Counts the body as it streams in; records when the first bytes arrived.
        let mut body = req.into_body();
        let mut n = 0usize;
        while let Some(f) = body.frame().await {
            match f {
                Ok(f) => {
                    if let Some(d) = f.data_ref() {
                        if n == 0 {
                            *CONSUME_FIRST_BYTE.lock().unwrap() = Some(std::time::Instant::now());
                        }
                        n += d.len();
                    }
                }
                Err(_) => return Response::new(full("body error")),
            }
        }
        return Response::new(full(n.to_string()));
    }
    if path == "/__echo" {
        let map: Vec<(String, String)> = req
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut r = Response::new(full(serde_json::to_vec(&map).unwrap()));
        r.headers_mut()
            .insert("content-type", HeaderValue::from_static("application/json"));
        return r;
    }
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let (status, out) =
        corsguard_testkit::app_response(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let mut r = Response::new(full("app"));
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap();
    for (n, v) in out {
        r.headers_mut().append(
            http::HeaderName::from_bytes(n.as_bytes()).unwrap(),
            HeaderValue::from_str(&v).unwrap(),
        );
    }
    r
}

/// A response as seen on the wire.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Seen {
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    pub(crate) fn one(&self, name: &str) -> Option<&str> {
        let a = self.all(name);
        assert!(a.len() <= 1, "{name} appears {} times: {a:?}", a.len());
        a.first().copied()
    }
    pub(crate) fn observed(&self) -> corsguard_testkit::Observed {
        corsguard_testkit::Observed {
            status: self.status,
            headers: self.headers.clone(),
        }
    }
}

/// Sends one HTTP/1.1 request on a fresh connection, header lines exactly as given (a
/// `Host` line is added unless one is given).
pub(crate) async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> Seen {
    send_body(addr, method, path, headers, Bytes::new()).await
}

pub(crate) async fn send_body(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> Seen {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = Request::builder().method(method).uri(path);
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        req = req.header("host", addr.to_string());
    }
    for (n, v) in headers {
        req = req.header(*n, HeaderValue::from_bytes(v.as_bytes()).unwrap());
    }
    let resp = sender
        .send_request(req.body(Full::new(body)).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    Seen {
        status,
        headers,
        body,
    }
}

pub(crate) fn empty_req() -> Empty<Bytes> {
    Empty::new()
}

/// A gateway for `policy` in front of `upstream`, on 127.0.0.1:0.
pub(crate) async fn gateway(
    policy: &str,
    upstream: &str,
    tweak: impl FnOnce(&mut corsguard::gateway::GatewaySettings),
) -> RunningGateway {
    let policy = corsguard::Policy::from_yaml_str(policy).unwrap();
    let mut c = GatewayConfig::new(policy)
        .listen("127.0.0.1:0".parse().unwrap())
        .upstream(upstream)
        .unwrap();
    tweak(c.settings_mut());
    Gateway::bind(c).await.unwrap()
}

pub(crate) const POLICY: &str = r#"
defaults:
  allow_origins: ['https://app.example.com']
  allow_methods: [GET, PUT]
  allow_headers: [content-type, x-trace-id]
  expose_headers: [x-request-id]
  allow_credentials: true
  max_age: 600
"#;

pub(crate) const APP: &str = "https://app.example.com";

/// A unique scratch directory.
pub(crate) fn scratch(name: &str) -> std::path::PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "corsguard-gw-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
