//! # corsguard-gateway
//!
//! The reverse proxy behind `corsguard serve`: a CORS gateway in front of an API written in
//! any language. It follows the adapter contract of `ARCHITECTURE.md` exactly:
//!
//! * preflights are answered by the gateway from the policy and never forwarded (unless the
//!   rule says `preflight.passthrough`), so an upstream that demands auth never sees them;
//! * actual requests are proxied with streaming bodies in both directions (HTTP/1.1 keep-alive
//!   and HTTP/2 — h2c, or ALPN `h2` with TLS — towards clients, a pooled HTTP/1.1 client
//!   towards the upstream), hop-by-hop headers removed and `X-Forwarded-For/-Proto/-Host` set;
//! * every `Access-Control-*` header the upstream sends is removed and replaced by the
//!   policy's decision; the upstream's `Vary` is merged;
//! * failures the gateway produces itself (502, 504, 413, 431, 503) carry the CORS headers
//!   the policy gives the request's origin, so browsers show the real status;
//! * WebSocket upgrades are tunnelled, optionally checking the handshake's `Origin`;
//! * the policy is hot-reloaded (SIGHUP, file changes) and the process drains in-flight
//!   requests on SIGTERM/Ctrl-C;
//! * an optional admin listener serves `/healthz`, `/readyz`, `/metrics` (Prometheus text)
//!   and an HTML page with the active policy and the last refused requests with traces.
//!
//! ```no_run
//! use corsguard_gateway::{Gateway, GatewayConfig};
//!
//! # async fn run() -> Result<(), corsguard_gateway::Error> {
//! let policy = corsguard::Policy::from_yaml_str(r#"
//! defaults: { allow_origins: ['https://app.example.com'], allow_credentials: true }
//! gateway: { listen: 127.0.0.1:0, upstream: http://127.0.0.1:9000 }
//! "#)?;
//! let running = Gateway::bind(GatewayConfig::new(policy)).await?;
//! println!("listening on {}", running.url());
//! running.shutdown().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod admin;
mod body;
mod config;
mod conn;
pub mod demo;
mod error;
mod explain;
mod forwarding;
mod metrics;
mod path;
mod proxy;
mod refusals;
mod reload;
mod running;
mod server;
mod simple;
mod state;
mod tls;
mod upstream;
mod websocket;

pub use config::GatewayConfig;
pub use error::Error;
pub use explain::EXPLAIN_PATH;
pub use metrics::Metrics;
pub use refusals::RefusedRequest;
pub use running::{RunningGateway, ShutdownHandle, ShutdownReport};
pub use server::Gateway;
