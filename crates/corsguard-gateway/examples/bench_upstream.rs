//! The upstream of `scripts/bench-gateway`: one single-threaded hyper HTTP/1.1 server that
//! answers every request `200 ok` (keep-alive), so that nginx and `corsguard serve` are
//! measured in front of the same, cheap application.
//!
//! `cargo run --release -p corsguard-gateway --example bench_upstream -- [PORT]` prints the
//! bound address on its first line.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::convert::Infallible;

use bytes::Bytes;
use http::{Response, header};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let l = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        println!("{}", l.local_addr().unwrap());
        loop {
            let Ok((s, _)) = l.accept().await else {
                continue;
            };
            let _ = s.set_nodelay(true);
            tokio::spawn(async move {
                let svc = service_fn(|_req| async {
                    let mut r = Response::new(Full::new(Bytes::from_static(b"ok")));
                    r.headers_mut()
                        .insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
                    Ok::<_, Infallible>(r)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(s), svc)
                    .await;
            });
        }
    });
}
