//! Proxying: preflights, upstream failures, CORS header replacement, limits, forwarding.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper_util::rt::TokioIo;

use crate::common::{APP, POLICY, gateway, send, send_body, upstream};

fn assert_cors_allowed(s: &crate::common::Seen) {
    assert_eq!(s.one("access-control-allow-origin"), Some(APP), "{s:?}");
    assert_eq!(
        s.one("access-control-allow-credentials"),
        Some("true"),
        "{s:?}"
    );
    assert_eq!(s.one("vary"), Some("Origin"), "{s:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preflights_are_answered_and_never_forwarded() {
    let up = upstream().await;
    let gw = gateway(POLICY, &up.url(), |_| {}).await;
    for origin in [APP, "https://evil.example"] {
        let s = send(
            gw.local_addr(),
            "OPTIONS",
            "/v1/items",
            &[
                ("origin", origin),
                ("access-control-request-method", "PUT"),
                ("authorization", "Bearer x"),
            ],
        )
        .await;
        assert_eq!(s.status, 204);
    }
    assert_eq!(up.hits(), 0, "a preflight reached the upstream");
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_down_is_502_with_cors_headers() {
    // A port that was free a moment ago: connection refused.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let gw = gateway(POLICY, &format!("http://{dead}"), |_| {}).await;
    let s = send(gw.local_addr(), "GET", "/v1/items", &[("origin", APP)]).await;
    assert_eq!(s.status, 502);
    assert_cors_allowed(&s);
    assert_eq!(s.one("x-corsguard-error"), Some("upstream-unavailable"));
    let evil = send(
        gw.local_addr(),
        "GET",
        "/",
        &[("origin", "https://evil.example")],
    )
    .await;
    assert_eq!(evil.status, 502);
    assert!(evil.all("access-control-allow-origin").is_empty());
    assert_eq!(evil.one("vary"), Some("Origin"));
    assert!(
        gw.metrics()
            .render()
            .contains("corsguard_gateway_responses_total{status=\"502\"} 2")
    );
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_hang_is_504_with_cors_headers_after_the_timeout() {
    let up = upstream().await;
    let gw = gateway(POLICY, &up.url(), |g| {
        g.timeouts.upstream_response = Duration::from_millis(300);
    })
    .await;
    let t = Instant::now();
    let s = send(gw.local_addr(), "GET", "/__hang", &[("origin", APP)]).await;
    let took = t.elapsed();
    assert_eq!(s.status, 504);
    assert_cors_allowed(&s);
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_cors_headers_are_replaced_and_vary_merged() {
    let up = upstream().await;
    let gw = gateway(POLICY, &up.url(), |_| {}).await;
    let a = gw.local_addr();
    // one ACAO line from the upstream
    let s = send(
        a,
        "GET",
        "/",
        &[
            ("origin", APP),
            ("x-app-header", "access-control-allow-origin: *"),
        ],
    )
    .await;
    assert_eq!(s.all("access-control-allow-origin"), [APP]);
    // two ACAO lines, a wrong ACAC, an unknown Access-Control-* header, a Vary
    let s = send(
        a,
        "GET",
        "/",
        &[
            ("origin", APP),
            ("x-app-header", "access-control-allow-origin: *"),
            (
                "x-app-header",
                "access-control-allow-origin: https://other.example",
            ),
            ("x-app-header", "access-control-allow-credentials: false"),
            ("x-app-header", "access-control-allow-methods: DELETE"),
            ("x-app-header", "access-control-foo: bar"),
            ("x-app-header", "vary: Accept-Encoding"),
        ],
    )
    .await;
    assert_eq!(s.status, 200);
    assert_eq!(s.all("access-control-allow-origin"), [APP]);
    assert_eq!(s.all("access-control-allow-credentials"), ["true"]);
    assert_eq!(s.all("access-control-expose-headers"), ["x-request-id"]);
    assert!(s.all("access-control-allow-methods").is_empty());
    assert!(s.all("access-control-foo").is_empty());
    assert_eq!(s.all("vary"), ["Accept-Encoding, Origin"]);
    // refused origin: the upstream's ACAO is removed too
    let s = send(
        a,
        "GET",
        "/",
        &[
            ("origin", "https://evil.example"),
            ("x-app-header", "access-control-allow-origin: *"),
        ],
    )
    .await;
    assert!(s.all("access-control-allow-origin").is_empty());
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_over_limit_is_413_with_cors_headers() {
    let up = upstream().await;
    let gw = gateway(POLICY, &up.url(), |g| g.limits.max_body_bytes = 1024).await;
    let a = gw.local_addr();
    // declared length over the limit: refused before the upstream is called
    let s = send_body(
        a,
        "PUT",
        "/__consume",
        &[("origin", APP)],
        Bytes::from(vec![b'x'; 2048]),
    )
    .await;
    assert_eq!(s.status, 413);
    assert_cors_allowed(&s);
    assert_eq!(up.hits(), 0);
    // within the limit
    let s = send_body(
        a,
        "PUT",
        "/__consume",
        &[("origin", APP)],
        Bytes::from(vec![b'x'; 1000]),
    )
    .await;
    assert_eq!(s.status, 200);
    assert_eq!(&s.body[..], b"1000");
    // chunked, no length: cut off while streaming
    let stream = tokio::net::TcpStream::connect(a).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let chunks = (0..8).map(|_| Ok::<_, std::io::Error>(Frame::data(Bytes::from(vec![b'y'; 512]))));
    let body = StreamBody::new(futures_util::stream::iter(chunks));
    let req = http::Request::put("/__consume")
        .header("host", a.to_string())
        .header("origin", APP)
        .body(body)
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(resp.headers()["access-control-allow-origin"], APP);
    let _ = resp.into_body().collect().await;
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_over_limit_is_431_with_cors_headers() {
    let up = upstream().await;
    let gw = gateway(POLICY, &up.url(), |g| {
        g.limits.max_request_header_bytes = 2048
    })
    .await;
    let big = "b".repeat(3000);
    let s = send(
        gw.local_addr(),
        "GET",
        "/",
        &[("origin", APP), ("x-big", &big)],
    )
    .await;
    assert_eq!(s.status, 431);
    assert_cors_allowed(&s);
    assert_eq!(up.hits(), 0);
    let s = send(
        gw.local_addr(),
        "GET",
        "/",
        &[("origin", APP), ("x-small", "s")],
    )
    .await;
    assert_eq!(s.status, 200);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_max_connections_is_503_with_cors_headers() {
    let up = upstream().await;
    let gw = gateway(POLICY, &up.url(), |g| g.limits.max_connections = 1).await;
    // Hold the only slot with an idle connection.
    let hold = tokio::net::TcpStream::connect(gw.local_addr())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let s = send(gw.local_addr(), "GET", "/", &[("origin", APP)]).await;
    assert_eq!(s.status, 503);
    assert_cors_allowed(&s);
    assert_eq!(s.one("retry-after"), Some("1"));
    drop(hold);
    // The slot frees up again.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let s = send(gw.local_addr(), "GET", "/", &[("origin", APP)]).await;
        if s.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "slot never freed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hop_by_hop_removed_and_forwarded_headers_set() {
    let up = upstream().await;
    let gw = gateway(POLICY, &up.url(), |_| {}).await;
    let a = gw.local_addr();
    let s = send(
        a,
        "GET",
        "/__echo?x=1",
        &[
            ("origin", APP),
            ("connection", "x-drop"),
            ("x-drop", "1"),
            ("keep-alive", "timeout=5"),
            ("proxy-connection", "keep-alive"),
            ("te", "trailers"),
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-host", "evil.example"),
            ("forwarded", "for=6.6.6.6"),
            ("x-kept", "yes"),
        ],
    )
    .await;
    assert_eq!(s.status, 200);
    let seen: Vec<(String, String)> = serde_json::from_slice(&s.body).unwrap();
    let get = |n: &str| -> Vec<&str> {
        seen.iter()
            .filter(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    for gone in [
        "x-drop",
        "keep-alive",
        "proxy-connection",
        "te",
        "forwarded",
    ] {
        assert!(
            get(gone).is_empty(),
            "{gone} reached the upstream: {seen:?}"
        );
    }
    assert_eq!(get("x-kept"), ["yes"]);
    assert_eq!(get("x-forwarded-for"), ["127.0.0.1"]);
    assert_eq!(get("x-forwarded-proto"), ["http"]);
    assert_eq!(get("x-forwarded-host"), [a.to_string().as_str()]);
    assert_eq!(get("host"), [up.addr.to_string().as_str()]);
    assert_eq!(get("origin"), [APP]);
    gw.shutdown().await;

    // From a trusted proxy, the chain is extended and the proxy's view believed.
    let gw = gateway(POLICY, &up.url(), |g| {
        g.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()]
    })
    .await;
    let s = send(
        gw.local_addr(),
        "GET",
        "/__echo",
        &[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "api.example.com"),
        ],
    )
    .await;
    let seen: Vec<(String, String)> = serde_json::from_slice(&s.body).unwrap();
    assert!(
        seen.contains(&("x-forwarded-for".into(), "6.6.6.6, 127.0.0.1".into())),
        "{seen:?}"
    );
    assert!(seen.contains(&("x-forwarded-proto".into(), "https".into())));
    assert!(seen.contains(&("x-forwarded-host".into(), "api.example.com".into())));
    // Same-origin detection uses the proxy's view of the client's origin.
    let s = send(
        gw.local_addr(),
        "POST",
        "/",
        &[
            ("origin", "https://api.example.com"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "api.example.com"),
        ],
    )
    .await;
    assert_eq!(s.status, 200);
    assert!(s.all("access-control-allow-origin").is_empty());
    assert_eq!(gw.metrics().requests("same-origin", "none"), 1);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_path_upstreams() {
    let main = upstream().await;
    let other = upstream().await;
    let policy = format!(
        "{POLICY}paths:\n  - path: /other/\n    upstream: {}\n",
        other.url()
    );
    let gw = gateway(&policy, &main.url(), |_| {}).await;
    let s = send(gw.local_addr(), "GET", "/other/x", &[("origin", APP)]).await;
    assert_eq!(s.status, 200);
    assert_eq!(s.one("access-control-allow-origin"), Some(APP));
    assert_eq!((main.hits(), other.hits()), (0, 1));
    send(gw.local_addr(), "GET", "/v1", &[]).await;
    assert_eq!((main.hits(), other.hits()), (1, 1));
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_connections_are_reused_towards_the_client() {
    let up = upstream().await;
    let gw = gateway(POLICY, &up.url(), |_| {}).await;
    let stream = tokio::net::TcpStream::connect(gw.local_addr())
        .await
        .unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    for _ in 0..5 {
        let req = http::Request::get("/")
            .header("host", gw.local_addr().to_string())
            .header("origin", APP)
            .body(http_body_util::Empty::<Bytes>::new())
            .unwrap();
        // The previous exchange must be fully finished before the connection is reused.
        sender.ready().await.unwrap();
        let resp = sender.send_request(req).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["access-control-allow-origin"], APP);
        let _ = resp.into_body().collect().await.unwrap();
    }
    assert!(
        gw.metrics()
            .render()
            .contains("corsguard_connections_total 1\n")
    );
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_client_connections_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let up = upstream().await;
    let gw = gateway(POLICY, &up.url(), |g| {
        g.timeouts.idle = Duration::from_millis(300)
    })
    .await;
    let mut s = tokio::net::TcpStream::connect(gw.local_addr())
        .await
        .unwrap();
    let req = format!(
        "GET / HTTP/1.1\r\nhost: {}\r\norigin: {APP}\r\n\r\n",
        gw.local_addr()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let t = Instant::now();
    let mut all = Vec::new();
    // Reads the response, then EOF once the idle connection is closed by the gateway.
    let r = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut all)).await;
    assert!(r.is_ok(), "idle connection still open after 5 s");
    let text = String::from_utf8_lossy(&all);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        t.elapsed() >= Duration::from_millis(250),
        "{:?}",
        t.elapsed()
    );
    gw.shutdown().await;
}
