//! Graceful shutdown: stop accepting, drain in-flight requests up to the deadline.

use std::time::{Duration, Instant};

use crate::common::{APP, POLICY, gateway, send, upstream};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_drains_a_slow_request() {
    let up = upstream().await;
    let gw = gateway(POLICY, &up.url(), |g| {
        g.timeouts.shutdown_grace = Duration::from_secs(5)
    })
    .await;
    let addr = gw.local_addr();
    let inflight =
        tokio::spawn(async move { send(addr, "GET", "/__slow?ms=1000", &[("origin", APP)]).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    let report = gw.shutdown().await;
    let s = inflight.await.unwrap();
    assert_eq!(s.status, 200);
    assert_eq!(&s.body[..], b"slow");
    assert_eq!(s.one("access-control-allow-origin"), Some(APP));
    assert!(report.drained, "{report:?}");
    assert!(
        t.elapsed() >= Duration::from_millis(700),
        "{:?}",
        t.elapsed()
    );
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "still accepting after shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_deadline_closes_what_is_left() {
    let up = upstream().await;
    let gw = gateway(POLICY, &up.url(), |g| {
        g.timeouts.shutdown_grace = Duration::from_millis(200)
    })
    .await;
    let addr = gw.local_addr();
    let stuck = tokio::spawn(async move {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .unwrap();
        tokio::spawn(conn);
        let req = http::Request::get("/__hang")
            .header("host", addr.to_string())
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap();
        sender.send_request(req).await.is_err()
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let t = Instant::now();
    let report = gw.shutdown().await;
    assert!(!report.drained);
    assert_eq!(report.forced_connections, 1);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(
        stuck.await.unwrap(),
        "the hanging request should have been cut"
    );
}
