//! TLS with ALPN h2 (reqwest), and h2c with prior knowledge (hyper client).

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};

use crate::common::{APP, POLICY, gateway, scratch, upstream};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_alpn_h2_and_http11() {
    let up = upstream().await;
    let dir = scratch("tls");
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_pem = ck.cert.pem();
    std::fs::write(dir.join("cert.pem"), &cert_pem).unwrap();
    std::fs::write(dir.join("key.pem"), ck.signing_key.serialize_pem()).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let gw = gateway(POLICY, &up.url(), |g| {
        g.tls = Some(corsguard::gateway::TlsSettings { cert, key })
    })
    .await;
    assert!(gw.url().starts_with("https://"));
    let port = gw.local_addr().port();
    let root = reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap();

    let h2 = reqwest::Client::builder()
        .add_root_certificate(root.clone())
        .resolve("localhost", gw.local_addr())
        .build()
        .unwrap();
    let r = h2
        .get(format!("https://localhost:{port}/v1/items"))
        .header("origin", APP)
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), http::Version::HTTP_2, "ALPN should pick h2");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], APP);
    assert_eq!(r.headers()["access-control-allow-credentials"], "true");
    assert_eq!(r.text().await.unwrap(), "app");
    let p = h2
        .request(
            reqwest::Method::OPTIONS,
            format!("https://localhost:{port}/v1/items"),
        )
        .header("origin", APP)
        .header("access-control-request-method", "PUT")
        .send()
        .await
        .unwrap();
    assert_eq!(p.status(), 204);
    assert_eq!(p.headers()["access-control-allow-methods"], "GET,PUT");

    let h1 = reqwest::Client::builder()
        .add_root_certificate(root)
        .resolve("localhost", gw.local_addr())
        .http1_only()
        .build()
        .unwrap();
    let r = h1
        .get(format!("https://localhost:{port}/"))
        .header("origin", APP)
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), http::Version::HTTP_11);
    assert_eq!(r.headers()["access-control-allow-origin"], APP);
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2c_with_prior_knowledge() {
    let up = upstream().await;
    let gw = gateway(POLICY, &up.url(), |_| {}).await;
    let stream = tokio::net::TcpStream::connect(gw.local_addr())
        .await
        .unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let uri = format!("http://{}/v1/items", gw.local_addr());
    for _ in 0..3 {
        let req = http::Request::get(&uri)
            .header("origin", APP)
            .header("x-app-header", "vary: Accept-Encoding")
            .body(Empty::<Bytes>::new())
            .unwrap();
        sender.ready().await.unwrap();
        let resp = sender.send_request(req).await.unwrap();
        assert_eq!(resp.version(), http::Version::HTTP_2);
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["access-control-allow-origin"], APP);
        assert_eq!(resp.headers()["vary"], "Accept-Encoding, Origin");
        assert_eq!(resp.into_body().collect().await.unwrap().to_bytes(), "app");
    }
    let req = http::Request::builder()
        .method("OPTIONS")
        .uri(&uri)
        .header("origin", APP)
        .header("access-control-request-method", "PUT")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(resp.headers()["access-control-max-age"], "600");
    assert_eq!(up.hits(), 3);
    gw.shutdown().await;
}
