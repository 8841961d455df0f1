//! axum + corsguard, with hot reload.
//!
//! ```text
//! cargo run -p corsguard-tower --example axum [-- path/to/corsguard.yaml]
//!
//! # a preflight, answered by corsguard (the auth layer never sees it)
//! curl -i -X OPTIONS http://127.0.0.1:3000/v1/items \
//!      -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: PUT' \
//!      -H 'Access-Control-Request-Headers: authorization, content-type'
//! # the actual request: auth's 401 carries the CORS headers, so the page can read it
//! curl -i -X PUT http://127.0.0.1:3000/v1/items -H 'Origin: https://app.example.com'
//! # edit the policy file, then: kill -HUP <pid>   (a broken file keeps the running policy)
//! ```
//!
//! The policy is `examples/corsguard.yaml` at the workspace root unless a path is given.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use corsguard::{Policy, PolicyHandle};
use corsguard_tower::CorsLayer;

/// A stand-in for real authentication: 401 unless an `Authorization` header is present.
async fn require_auth(req: Request, next: Next) -> Response {
    if req.headers().contains_key("authorization") {
        next.run(req).await
    } else {
        (StatusCode::UNAUTHORIZED, "missing credentials\n").into_response()
    }
}

fn policy_path() -> PathBuf {
    std::env::args_os().nth(1).map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../examples/corsguard.yaml"
            ))
        },
        PathBuf::from,
    )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let path = policy_path();
    let policy = match Policy::from_file(&path) {
        Ok(p) => p,
        Err(errors) => {
            // every problem of the file at once, with file:line:column
            eprintln!("{errors}");
            std::process::exit(2);
        }
    };
    let handle = PolicyHandle::new(policy);
    reload_on_sighup(handle.clone(), path);

    let api = Router::new()
        .route(
            "/v1/items",
            get(|| async { "[]\n" }).put(|| async { "stored\n" }),
        )
        .route_layer(middleware::from_fn(require_auth));
    let app = Router::new()
        .merge(api)
        .route("/public/logo.svg", get(|| async { "<svg/>\n" }))
        .route("/health", get(|| async { "ok\n" }))
        // Added last, so it is the outermost layer: it sees every request before routing and
        // auth, answers preflights itself, and decorates 401/404/405 responses too.
        .layer(CorsLayer::from_handle(handle));

    let addr: SocketAddr = std::env::var("ADDR")
        .ok()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000)));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}

/// Reloads the policy file on SIGHUP. A file with errors is reported and the running policy
/// is kept.
fn reload_on_sighup(handle: PolicyHandle, path: PathBuf) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            match handle.reload_file(&path) {
                Ok(version) => println!("policy reloaded (version {version})"),
                Err(errors) => eprintln!("reload failed, keeping the running policy:\n{errors}"),
            }
        }
    });
    #[cfg(not(unix))]
    let _ = (handle, path);
}
