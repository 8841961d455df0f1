//! The gateway over real HTTP on loopback: behaviour tables, proxying, limits, reload,
//! shutdown, WebSocket, admin, TLS/h2c. (Streaming memory is measured in its own test
//! binary, `tests/streaming.rs`, so that no other test shares the process.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod admin;
mod behaviour;
mod common;
mod hostile;
mod proxy;
mod reload;
mod shutdown;
mod tls;
mod websocket;
