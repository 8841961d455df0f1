//! The gateway under hostile traffic, one test per finding of the attack review, over real
//! sockets against a real upstream that decodes and normalises paths the way static servers
//! do. Every test is bounded in time.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderValue, Response};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{APP, TestBody, full, gateway, send, upstream, upstream_with};

const EVIL: &str = "https://evil.example";
const SECRET: &str = "TOP SECRET internal data";

/// `/public/` readable by anyone, `/health` left to the app, `/files/` served from the
/// upstream's `/public` directory, everything else for `APP` only.
fn hostile_policy(up: &str) -> String {
    format!(
        r#"
defaults:
  allow_origins: ['{APP}']
  allow_credentials: true
paths:
  - path: /public/
    allow_origins: ['*']
    allow_credentials: false
  - path: /health
    cors: false
  - path: /files/
    upstream: {up}/public
"#
    )
}

/// Decodes every escape (`%2F` included) and `\` as `/`, then normalises like
/// `posixpath.normpath`: what Python's http.server, many static servers and Windows
/// servers do before they look up a file.
fn decode_like_a_file_server(raw: &str) -> String {
    let mut bytes = Vec::new();
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            bytes.push(v);
            i += 3;
            continue;
        }
        bytes.push(b[i]);
        i += 1;
    }
    let s = String::from_utf8_lossy(&bytes).replace('\\', "/");
    let mut out: Vec<&str> = Vec::new();
    for seg in s.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

/// A file-serving upstream (`/secret.txt`, `/public/a.txt`) that decodes paths; it records
/// every raw path it was sent.
async fn file_server() -> (crate::common::Upstream, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let up = upstream_with(Arc::new(move |req| {
        let raw = req.uri().path().to_owned();
        s.lock().unwrap().push(raw.clone());
        let file = decode_like_a_file_server(&raw);
        let body = match file.as_str() {
            "/secret.txt" => SECRET,
            "/public/a.txt" => "public a",
            _ if raw == "*" => "server options",
            _ => {
                let mut r = Response::new(full("not found"));
                *r.status_mut() = http::StatusCode::NOT_FOUND;
                return Some(r);
            }
        };
        let mut r = Response::new(full(body));
        // A careless upstream that allows everything: the gateway must replace this.
        r.headers_mut()
            .insert("access-control-allow-origin", HeaderValue::from_static("*"));
        Some(r)
    }))
    .await;
    (up, seen)
}

/// A raw response: status, header lines (lower-case names) and body.
#[derive(Debug)]
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    fn body(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `request` as bytes on a fresh connection and reads until the server closes (the
/// request should say `Connection: close`), within 10 s.
async fn raw(addr: SocketAddr, request: &[u8]) -> Raw {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("no end of response within 10 s");
    parse_raw(&buf)
}

fn parse_raw(buf: &[u8]) -> Raw {
    let text = String::from_utf8_lossy(buf);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Raw {
        status,
        headers,
        body: body.as_bytes().to_vec(),
    }
}

fn get(path: &str, origin: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: gw.test\r\nOrigin: {origin}\r\nConnection: close\r\n\r\n")
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_confusion_cannot_pick_a_laxer_rule_or_escape_a_base_path() {
    let (up, seen) = file_server().await;
    let gw = gateway(&hostile_policy(&up.url()), &up.url(), |g| {
        g.websocket.check_origin = true;
    })
    .await;
    let a = gw.local_addr();

    // The plain request: the defaults refuse evil.example.
    let r = raw(a, &get("/secret.txt", EVIL)).await;
    assert_eq!(
        (r.status, r.header("access-control-allow-origin")),
        (200, None)
    );

    // Ambiguous paths are refused with 400 before any rule or upstream sees them.
    for path in [
        "/public/..%2fsecret.txt",
        "/public/..%2Fsecret.txt",
        "/public/..%5csecret.txt",
        "/public/..\\secret.txt",
        "/public/..;/secret.txt",
        "/health/..%2fsecret.txt",
        "/files/%2e%2e/%2e%2e/secret.txt",
        "/files/..%2f..%2fsecret.txt",
        "/public/%00/../secret.txt",
        "/../secret.txt",
    ] {
        let before = seen.lock().unwrap().len();
        let r = raw(a, &get(path, EVIL)).await;
        assert_eq!(r.status, 400, "{path}: {r:?}");
        assert!(!r.body().contains(SECRET), "{path}");
        assert_eq!(r.header("x-corsguard-error"), Some("bad-request"), "{path}");
        assert_eq!(
            seen.lock().unwrap().len(),
            before,
            "{path} reached the upstream"
        );
    }

    // Dot segments and double slashes are resolved first: the rule that judges the request
    // is the rule of the resource the upstream serves, and the upstream gets that path.
    for path in [
        "/public/%2e%2e/secret.txt",
        "/public/%2E%2E/secret.txt",
        "/public/.%2e/secret.txt",
        "/public//../secret.txt",
        "/public/./../secret.txt",
        "/files/%2e%2e/secret.txt",
        "//secret.txt",
    ] {
        let r = raw(a, &get(path, EVIL)).await;
        assert_eq!(r.status, 200, "{path}: {r:?}");
        assert_eq!(r.body(), SECRET, "{path}");
        assert_eq!(
            r.header("access-control-allow-origin"),
            None,
            "{path}: {r:?}"
        );
        assert_eq!(
            seen.lock().unwrap().last().unwrap(),
            "/secret.txt",
            "{path}"
        );
    }

    // Double encoding stays encoded: the upstream decodes once and finds no such file.
    let r = raw(a, &get("/public/%252e%252e/secret.txt", EVIL)).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        seen.lock().unwrap().last().unwrap(),
        "/public/%252e%252e/secret.txt"
    );

    // The /public/ rule still answers for its own files, through the canonical path.
    let r = raw(a, &get("/public/x/../a.txt", EVIL)).await;
    assert_eq!((r.status, r.body().as_str()), (200, "public a"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    // A per-rule base path is joined to the canonical path.
    let r = raw(a, &get("/files/./a.txt", APP)).await;
    assert_eq!(r.status, 404, "{r:?}");
    assert_eq!(seen.lock().unwrap().last().unwrap(), "/public/files/a.txt");

    // The WebSocket origin check is not skipped by the same trick.
    let (status, _) = handshake(a, "/public/..%2fws", "gw.test", &[EVIL]).await;
    assert_eq!(status, 400);

    // Non-origin-form targets: absolute-form and CONNECT are refused; `OPTIONS *` passes.
    let r = raw(
        a,
        b"GET http://evil.example/secret.txt HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 400, "{r:?}");
    let r = raw(
        a,
        b"OPTIONS * HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(
        (r.status, r.body().as_str()),
        (200, "server options"),
        "{r:?}"
    );
    gw.shutdown().await;
}

/// A WebSocket echo server that accepts every handshake.
async fn ws_echo() -> SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(async move {
                let Ok(ws) = tokio_tungstenite::accept_async(s).await else {
                    return;
                };
                let (w, r) = futures_util::StreamExt::split(ws);
                let _ = futures_util::StreamExt::forward(
                    futures_util::StreamExt::filter(r, |m| {
                        std::future::ready(m.as_ref().is_ok_and(|m| m.is_text()))
                    }),
                    w,
                )
                .await;
            });
        }
    });
    addr
}

/// A raw WebSocket handshake on `path`; returns the status and the open stream.
async fn handshake(gw: SocketAddr, path: &str, host: &str, origins: &[&str]) -> (u16, TcpStream) {
    let mut s = TcpStream::connect(gw).await.unwrap();
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n");
    for o in origins {
        req.push_str(&format!("Origin: {o}\r\n"));
    }
    req.push_str(
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n",
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    let read = async {
        while !head.ends_with(b"\r\n\r\n") {
            if s.read(&mut b).await.unwrap_or(0) == 0 {
                break;
            }
            head.push(b[0]);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("no handshake answer");
    (parse_raw(&head).status, s)
}

/// Sends one masked text frame and reads the echo; `false` if the tunnel is gone.
async fn echoes(s: &mut TcpStream, text: &str) -> bool {
    let mut frame = vec![0x81, 0x80 | u8::try_from(text.len()).unwrap(), 0, 0, 0, 0];
    frame.extend_from_slice(text.as_bytes());
    if s.write_all(&frame).await.is_err() {
        return false;
    }
    let mut buf = vec![0u8; 2 + text.len()];
    matches!(
        tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut buf)).await,
        Ok(Ok(_))
    ) && &buf[2..] == text.as_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_tunnels_stay_under_max_connections_and_time_out_when_idle() {
    let up = ws_echo().await;
    let gw = gateway(crate::common::POLICY, &format!("http://{up}"), |g| {
        g.limits.max_connections = 5;
        g.timeouts.tunnel_idle = Duration::from_millis(600);
    })
    .await;
    let a = gw.local_addr();
    let host = a.to_string();
    let mut open = Vec::new();
    let mut refused = 0;
    for _ in 0..10 {
        let (status, s) = handshake(a, "/ws", &host, &[APP]).await;
        match status {
            101 => open.push(s),
            503 | 0 => refused += 1,
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((open.len(), refused), (5, 5));
    assert_eq!(gw.metrics().connections_open(), 5);
    assert!(
        gw.metrics()
            .render()
            .contains("corsguard_websocket_tunnels_open 5")
    );
    for s in &mut open {
        assert!(echoes(s, "hi").await);
    }
    // Idle tunnels are closed after tunnel_idle, and their slots free up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for s in &mut open {
        assert!(
            !echoes(s, "late").await,
            "an idle tunnel outlived tunnel_idle"
        );
    }
    assert_eq!(gw.metrics().connections_open(), 0);
    assert!(
        gw.metrics()
            .render()
            .contains("corsguard_tunnel_idle_timeouts_total 5")
    );
    let (status, mut s) = handshake(a, "/ws", &host, &[APP]).await;
    assert_eq!(status, 101);
    assert!(echoes(&mut s, "again").await);
    gw.shutdown().await;
}

/// An upstream whose `/big` streams 64 MiB.
async fn big_upstream() -> crate::common::Upstream {
    upstream_with(Arc::new(|req| {
        (req.uri().path() == "/big").then(|| {
            let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
            let frames = futures_util::stream::iter((0..1024).map(move |_| {
                Ok::<_, std::convert::Infallible>(http_body::Frame::data(chunk.clone()))
            }));
            let body: TestBody = http_body_util::StreamBody::new(frames)
                .map_err(|e| match e {})
                .boxed_unsync();
            Response::new(body)
        })
    }))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_that_never_reads_is_cut_off_by_the_send_timeout() {
    let up = big_upstream().await;
    let gw = gateway(crate::common::POLICY, &up.url(), |g| {
        g.timeouts.send = Duration::from_millis(500);
    })
    .await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut s = socket.connect(gw.local_addr()).await.unwrap();
    s.write_all(b"GET /big HTTP/1.1\r\nHost: gw.test\r\n\r\n")
        .await
        .unwrap();
    // Never read while the gateway's buffers fill up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        gw.metrics()
            .render()
            .contains("corsguard_send_timeouts_total 1")
    );
    assert_eq!(gw.metrics().connections_open(), 0);
    // What was buffered can still be read, then the connection ends, far short of 64 MiB.
    let mut total = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    let started = Instant::now();
    loop {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => total += n,
            Err(_) => panic!("the connection is still open after the send timeout"),
        }
        assert!(started.elapsed() < Duration::from_secs(10));
    }
    assert!(total < 32 * 1024 * 1024, "{total} bytes");
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_check_origin_agrees_with_the_policy() {
    let up = ws_echo().await;
    let policy = hostile_policy("http://127.0.0.1:9");
    let gw = gateway(&policy, &format!("http://{up}"), |g| {
        g.websocket.check_origin = true;
    })
    .await;
    let a = gw.local_addr();
    let host = a.to_string();
    let own = format!("http://{host}");
    for (path, origins, want) in [
        ("/ws", vec![APP], 101),
        ("/ws", vec![own.as_str()], 101), // same origin: never blocked
        ("/ws", vec![], 101),             // no Origin: not a browser
        ("/ws", vec![EVIL], 403),
        ("/ws", vec!["null"], 403),
        ("/ws", vec![APP, EVIL], 403), // two Origin lines
        ("/ws", vec![EVIL, APP], 403),
        ("/health/ws", vec![EVIL], 403), // cors: false trusts no other origin
        ("/health/ws", vec![own.as_str()], 101),
        ("/public/ws", vec![EVIL], 403), // `*` lets read, never trusts
        ("/public/ws", vec![APP], 403),
    ] {
        let (status, _) = handshake(a, path, &host, &origins).await;
        assert_eq!(status, want, "{path} {origins:?}");
    }
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_h2_connection_cannot_fan_out_past_the_stream_and_upstream_caps() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (f, p) = (in_flight.clone(), peak.clone());
    let up = upstream_with(Arc::new(move |_| {
        let now = f.fetch_add(1, Ordering::SeqCst) + 1;
        p.fetch_max(now, Ordering::SeqCst);
        let f = f.clone();
        let wait = futures_util::stream::once(async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            f.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, std::convert::Infallible>(http_body::Frame::data(Bytes::from_static(b"ok")))
        });
        Some(Response::new(
            http_body_util::StreamBody::new(wait)
                .map_err(|e| match e {})
                .boxed_unsync(),
        ))
    }))
    .await;
    // The default stream cap (100), then a per-upstream cap below it.
    for (per_upstream, bound) in [(1000, 100), (20, 20)] {
        peak.store(0, Ordering::SeqCst);
        let gw = gateway(crate::common::POLICY, &up.url(), |g| {
            g.limits.max_upstream_connections = per_upstream;
        })
        .await;
        let stream = TcpStream::connect(gw.local_addr()).await.unwrap();
        let (sender, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .unwrap();
        tokio::spawn(conn);
        let mut tasks = Vec::new();
        for _ in 0..300 {
            let mut sender = sender.clone();
            let uri = format!("http://{}/x", gw.local_addr());
            tasks.push(tokio::spawn(async move {
                sender.ready().await.unwrap();
                let req = http::Request::get(uri)
                    .header("origin", APP)
                    .body(http_body_util::Empty::<Bytes>::new())
                    .unwrap();
                let r = sender.send_request(req).await.unwrap();
                let status = r.status().as_u16();
                let _ = r.into_body().collect().await;
                status
            }));
        }
        let statuses = tokio::time::timeout(
            Duration::from_secs(30),
            futures_util::future::join_all(tasks),
        )
        .await
        .expect("300 streams did not finish in 30 s");
        assert!(
            statuses.iter().all(|s| matches!(s, Ok(200))),
            "{statuses:?}"
        );
        let seen = peak.load(Ordering::SeqCst);
        assert!(
            seen <= bound,
            "upstream saw {seen} concurrent requests (bound {bound})"
        );
        assert!(seen >= bound / 4, "the cap was not even approached: {seen}");
        gw.shutdown().await;
    }
}

#[test]
fn out_of_range_settings_are_refused_with_a_location() {
    for (yaml, key) in [
        (
            "limits: {max_connections: 9223372036854775807}",
            "gateway.limits.max_connections",
        ),
        (
            "limits: {max_connections: 0}",
            "gateway.limits.max_connections",
        ),
        (
            "limits: {max_request_header_bytes: 10}",
            "gateway.limits.max_request_header_bytes",
        ),
        (
            "limits: {max_request_headers: 100000}",
            "gateway.limits.max_request_headers",
        ),
        (
            "limits: {max_upstream_connections: -1}",
            "gateway.limits.max_upstream_connections",
        ),
        (
            "timeouts: {client_header_read: 9223372036854775807}",
            "gateway.timeouts.client_header_read",
        ),
        ("timeouts: {idle: 0}", "gateway.timeouts.idle"),
        ("timeouts: {send: 2000h}", "gateway.timeouts.send"),
        (
            "http2: {max_concurrent_streams: 0}",
            "gateway.http2.max_concurrent_streams",
        ),
    ] {
        let text = format!("defaults: {{allow_origins: ['{APP}']}}\ngateway:\n  {yaml}\n");
        let err = corsguard::Policy::from_yaml_str(&text).unwrap_err();
        let d = err
            .diagnostics()
            .iter()
            .find(|d| d.location.path == key)
            .unwrap_or_else(|| panic!("{yaml}: {err}"));
        assert_eq!(d.code, "gateway-out-of-range", "{yaml}");
        assert!(d.location.span.is_some(), "{yaml}");
        assert!(
            d.hint.as_deref().unwrap_or_default().contains("between"),
            "{yaml}"
        );
    }
    // The same bounds for settings made in code.
    let p = corsguard::Policy::from_yaml_str(&format!("defaults: {{allow_origins: ['{APP}']}}"))
        .unwrap();
    let mut c = corsguard_gateway::GatewayConfig::new(p)
        .upstream("http://127.0.0.1:9")
        .unwrap();
    c.settings_mut().limits.max_connections = usize::MAX;
    c.settings_mut().timeouts.idle = Duration::ZERO;
    let e = c.check().unwrap_err().to_string();
    assert!(e.contains("max_connections") && e.contains("idle"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_over_the_head_limit_are_neither_decided_nor_kept_and_kept_ones_are_small() {
    let up = upstream().await;
    let gw = with_admin(&up.url(), |_| {}).await;
    let huge = format!("https://{}.example", "a".repeat(30_000));
    for _ in 0..150 {
        let s = send(gw.local_addr(), "GET", "/", &[("origin", &huge)]).await;
        assert_eq!(s.status, 431);
    }
    assert!(gw.refused_requests().is_empty(), "431s were recorded");
    assert_eq!(gw.metrics().requests("actual", "refused"), 0);
    // Refused origins under the limit are kept, each cut to a few hundred bytes.
    let long = format!("https://{}.example", "b".repeat(10_000));
    for _ in 0..150 {
        let s = send(gw.local_addr(), "GET", "/", &[("origin", &long)]).await;
        assert_eq!(s.status, 200);
    }
    let kept = gw.refused_requests();
    assert!(!kept.is_empty());
    for r in &kept {
        let o = r.trace.origin.as_deref().unwrap();
        assert!(o.len() < 400 && o.ends_with("(10016 bytes)"), "{}", o.len());
    }
    let admin = gw.admin_addr().unwrap();
    let page = send(admin, "GET", "/", &[]).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.len() < 1_500_000,
        "admin page is {} bytes",
        page.body.len()
    );
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_header_lines_get_the_gateways_431_with_cors_headers() {
    let up = upstream().await;
    let gw = gateway(crate::common::POLICY, &up.url(), |_| {}).await;
    let mut req =
        format!("GET / HTTP/1.1\r\nHost: gw.test\r\nOrigin: {APP}\r\nConnection: close\r\n");
    for i in 0..101 {
        req.push_str(&format!("X-H{i}: v\r\n"));
    }
    req.push_str("\r\n");
    let r = raw(gw.local_addr(), req.as_bytes()).await;
    assert_eq!(r.status, 431, "{r:?}");
    assert_eq!(r.header("access-control-allow-origin"), Some(APP));
    assert_eq!(r.header("x-corsguard-error"), Some("header-too-large"));
    assert_eq!(up.hits(), 0);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_http2_header_fields_get_the_gateways_431_with_cors_headers() {
    let up = upstream().await;
    let gw = gateway(crate::common::POLICY, &up.url(), |_| {}).await;
    let stream = TcpStream::connect(gw.local_addr()).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let mut req = http::Request::get(format!("http://{}/", gw.local_addr())).header("origin", APP);
    for i in 0..150 {
        req = req.header(format!("x-h{i}"), "v");
    }
    let r = sender
        .send_request(req.body(http_body_util::Empty::<Bytes>::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(r.status(), 431);
    assert_eq!(r.headers()["access-control-allow-origin"], APP);
    assert_eq!(up.hits(), 0);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_listener_has_a_header_timeout_a_cap_and_a_host_check() {
    let up = upstream().await;
    let gw = with_admin(&up.url(), |g| {
        g.timeouts.client_header_read = Duration::from_millis(500);
    })
    .await;
    let admin = gw.admin_addr().unwrap();

    // DNS rebinding: a page on attacker.example that resolves to 127.0.0.1.
    let s = send(
        admin,
        "GET",
        "/refused.json",
        &[("host", "attacker.example:9901")],
    )
    .await;
    assert_eq!(s.status, 421);
    let s = send(admin, "GET", "/refused.json", &[("host", "localhost:9901")]).await;
    assert_eq!(s.status, 200);

    // Slowloris: a head that trickles in is cut at client_header_read.
    let cut = trickle(
        admin,
        b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    )
    .await;
    assert!(cut.is_some_and(|d| d < Duration::from_secs(4)), "{cut:?}");

    gw.shutdown().await;

    // A connection cap: idle connections beyond it are closed at once (default timeouts,
    // so that the idle ones stay open meanwhile).
    let gw = with_admin(&up.url(), |_| {}).await;
    let admin = gw.admin_addr().unwrap();
    let mut idle = Vec::new();
    for _ in 0..64 {
        idle.push(TcpStream::connect(admin).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut extra = TcpStream::connect(admin).await.unwrap();
    let mut one = [0u8; 1];
    let r = tokio::time::timeout(Duration::from_secs(2), extra.read(&mut one)).await;
    assert!(
        matches!(r, Ok(Ok(0) | Err(_))),
        "the 65th connection was kept: {r:?}"
    );
    drop(idle);
    // Once they are gone, the listener answers again.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut s = TcpStream::connect(admin).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), s.read_to_end(&mut buf)).await;
        if parse_raw(&buf).status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the cap never freed up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    gw.shutdown().await;
}

#[test]
fn binding_the_admin_listener_beyond_loopback_warns() {
    let p = corsguard::Policy::from_yaml_str(&format!(
        "defaults: {{allow_origins: ['{APP}']}}\ngateway: {{admin_listen: '0.0.0.0:9901'}}\n"
    ))
    .unwrap();
    assert!(
        p.warnings()
            .iter()
            .any(|w| w.code == "gateway-admin-public"),
        "{:?}",
        p.warnings()
    );
    let p = corsguard::Policy::from_yaml_str(&format!(
        "defaults: {{allow_origins: ['{APP}']}}\ngateway: {{admin_listen: '127.0.0.1:9901'}}\n"
    ))
    .unwrap();
    assert!(p.warnings().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_body_errors_are_400_and_get_bodies_are_forwarded() {
    let up = upstream().await;
    let gw = gateway(crate::common::POLICY, &up.url(), |_| {}).await;
    let a = gw.local_addr();
    // A malformed chunk size is the client's fault, not the upstream's.
    let r = raw(
        a,
        b"POST /__consume HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    )
    .await;
    assert!(matches!(r.status, 400 | 0), "{r:?}");
    let m = gw.metrics().render();
    assert!(
        m.contains("corsguard_gateway_responses_total{status=\"502\"} 0"),
        "{m}"
    );
    // A GET with a chunked body reaches the upstream with its body.
    let r = raw(
        a,
        b"GET /__consume HTTP/1.1\r\nHost: gw.test\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    )
    .await;
    assert_eq!((r.status, r.body().as_str()), (200, "5"), "{r:?}");
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_cannot_strip_end_to_end_headers_and_proxy_credentials_stay_here() {
    let up = upstream().await;
    let gw = gateway(crate::common::POLICY, &up.url(), |_| {}).await;
    let s = send(
        gw.local_addr(),
        "GET",
        "/__echo",
        &[
            (
                "connection",
                "close, origin, authorization, cookie, x-forwarded-for",
            ),
            ("origin", APP),
            ("authorization", "Bearer t"),
            ("cookie", "a=b"),
            ("proxy-authorization", "Basic cHJveHk6c2VjcmV0"),
            ("x-real-ip", "6.6.6.6"),
        ],
    )
    .await;
    let seen: Vec<(String, String)> = serde_json::from_slice(&s.body).unwrap();
    let has = |n: &str| seen.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    assert_eq!(has("origin"), Some(APP));
    assert_eq!(has("authorization"), Some("Bearer t"));
    assert_eq!(has("cookie"), Some("a=b"));
    assert_eq!(has("x-forwarded-for"), Some("127.0.0.1"));
    assert_eq!(has("proxy-authorization"), None);
    assert_eq!(has("x-real-ip"), Some("127.0.0.1"));
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_h2_preface_trickle_is_cut_at_client_header_read() {
    let up = upstream().await;
    let gw = gateway(crate::common::POLICY, &up.url(), |g| {
        g.timeouts.client_header_read = Duration::from_millis(500);
        g.timeouts.idle = Duration::from_secs(30);
    })
    .await;
    let preface: Vec<u8> = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        .iter()
        .copied()
        .cycle()
        .take(60)
        .collect();
    let cut = trickle(gw.local_addr(), &preface).await;
    assert!(cut.is_some_and(|d| d < Duration::from_secs(3)), "{cut:?}");
    gw.shutdown().await;
}

/// Sends `bytes` one every 100 ms; how long until the server closed the connection
/// (`None`: it never did while the bytes lasted).
async fn trickle(addr: SocketAddr, bytes: &[u8]) -> Option<Duration> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    for b in bytes {
        if s.write_all(&[*b]).await.is_err() {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut one = [0u8; 1];
        if let Ok(Ok(0) | Err(_)) =
            tokio::time::timeout(Duration::from_millis(1), s.read(&mut one)).await
        {
            return Some(started.elapsed());
        }
    }
    None
}

/// A gateway for `POLICY` in front of `upstream`, with an admin listener, both on
/// 127.0.0.1:0.
async fn with_admin(
    upstream: &str,
    tweak: impl FnOnce(&mut corsguard::gateway::GatewaySettings),
) -> corsguard_gateway::RunningGateway {
    let policy = corsguard::Policy::from_yaml_str(crate::common::POLICY).unwrap();
    let mut c = corsguard_gateway::GatewayConfig::new(policy)
        .listen("127.0.0.1:0".parse().unwrap())
        .admin_listen(Some("127.0.0.1:0".parse().unwrap()))
        .upstream(upstream)
        .unwrap();
    tweak(c.settings_mut());
    corsguard_gateway::Gateway::bind(c).await.unwrap()
}

/// CSRF in the gateway: the 403 names the reason and the fix in its body and never reaches
/// the upstream, and a bypass rule cannot be borrowed with dot segments
/// (`/webhooks/../transfer` is decided as `/transfer`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csrf_refusals_never_reach_the_upstream_and_bypass_rules_cannot_be_borrowed() {
    let up = upstream().await;
    let policy = format!(
        "defaults:\n  allow_origins: ['{APP}']\n  csrf: {{mode: enforce}}\npaths:\n  - path: /webhooks/\n    csrf: {{mode: off}}\n"
    );
    let gw = gateway(&policy, &up.url(), |_| {}).await;
    let a = gw.local_addr();
    let cross_site = [("origin", EVIL), ("sec-fetch-site", "cross-site")];

    let r = send(a, "POST", "/transfer", &cross_site).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.one("x-corsguard-csrf"), Some("csrf-cross-site"));
    assert_eq!(r.one("content-type"), Some("text/plain; charset=utf-8"));
    let body = String::from_utf8_lossy(&r.body);
    assert!(
        body.contains("csrf-cross-site") && body.contains("Fix: "),
        "{body}"
    );
    assert_eq!(up.hits(), 0, "a refused request reached the upstream");

    for path in ["/webhooks/../transfer", "/webhooks/%2e%2e/transfer"] {
        let r = send(a, "POST", path, &cross_site).await;
        assert_eq!((path, r.status), (path, 403));
    }
    assert_eq!(up.hits(), 0);

    let r = send(a, "POST", "/webhooks/stripe", &cross_site).await;
    assert_eq!(r.status, 200);
    assert_eq!(up.hits(), 1);
    // Kept for the admin page, with the trace's csrf step.
    let kept = gw.refused_requests();
    let last = kept
        .iter()
        .rev()
        .find(|r| r.csrf.is_some())
        .expect("the refusal is kept");
    // evil.example is refused by CORS too; the CSRF refusal is what answered 403.
    assert_eq!(
        (last.code(), last.refusal),
        (
            "csrf-cross-site",
            Some(corsguard::Refusal::OriginNotAllowed)
        )
    );
    assert!(
        last.trace
            .steps
            .iter()
            .any(|s| s.check == "csrf" && s.passed == Some(false))
    );
    // Counted by rule, a label the policy chooses, never the request.
    assert_eq!(gw.metrics().csrf_refusals("defaults", "enforce"), 3);
    assert!(
        gw.metrics()
            .render()
            .contains("corsguard_csrf_refusals_total{rule=\"defaults\",mode=\"enforce\"} 3")
    );
}
