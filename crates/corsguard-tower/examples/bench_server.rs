//! A load-test target for `scripts/bench-gateway`: an axum app answering `ok` on every path,
//! behind either corsguard's layer or tower-http's `CorsLayer` (same origins, methods,
//! headers, credentials, max-age), or behind no CORS layer at all.
//!
//! `cargo run --release -p corsguard-tower --example bench_server -- corsguard|tower-http|none PORT`
//!
//! With `upstream` as the first argument it is a plain hyper-free axum app without CORS, used
//! as the gateway's upstream.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use axum::Router;
use corsguard::Policy;
use http::{HeaderValue, Method, header};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "corsguard".into());
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let origins: Vec<String> = (0..10)
        .map(|i| format!("https://app{i}.example.com"))
        .collect();
    let app = Router::new().fallback(|| async { "ok" });
    let app = match which.as_str() {
        "corsguard" => {
            let policy = Policy::builder()
                .allow_origins(origins.clone())
                .allow_methods(["GET", "PUT", "DELETE"])
                .allow_headers(["content-type", "x-trace-id"])
                .expose_headers(["x-request-id"])
                .allow_credentials(true)
                .max_age(600)
                .build()
                .expect("valid policy");
            app.layer(corsguard_tower::CorsLayer::new(policy))
        }
        "tower-http" => {
            let list: Vec<HeaderValue> = origins.iter().map(|o| o.parse().unwrap()).collect();
            app.layer(
                tower_http::cors::CorsLayer::new()
                    .allow_origin(tower_http::cors::AllowOrigin::list(list))
                    .allow_methods([Method::GET, Method::PUT, Method::DELETE])
                    .allow_headers([header::CONTENT_TYPE, "x-trace-id".parse().unwrap()])
                    .expose_headers(["x-request-id".parse::<http::HeaderName>().unwrap()])
                    .allow_credentials(true)
                    .max_age(Duration::from_secs(600)),
            )
        }
        _ => app,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    println!("{}", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}
