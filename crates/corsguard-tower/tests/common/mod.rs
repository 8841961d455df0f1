//! Shared test helpers: an axum server on a loopback ephemeral port, the testkit's app as a
//! catch-all handler, and an exact HTTP/1.1 client (hyper's connection API: every header
//! line is sent as given, `Host` included, and every response line is observed).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use corsguard_testkit::app_response;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A running axum server; stopped when dropped.
pub(crate) struct Server {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Server {
    /// `http://127.0.0.1:PORT`, the server's own origin (`{self}` in the tables).
    pub(crate) fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `app` on `127.0.0.1:0`.
pub(crate) async fn serve(app: Router) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Server { addr, task }
}

/// The testkit's app (`corsguard_testkit::app_response`) as an axum handler.
pub(crate) async fn testkit_app(headers: HeaderMap) -> Response<Body> {
    let (status, extra) = app_response(
        headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap_or(""))),
    );
    let mut res = Response::new(Body::from("app"));
    *res.status_mut() = StatusCode::from_u16(status).unwrap();
    for (n, v) in extra {
        res.headers_mut().append(
            HeaderName::from_bytes(n.as_bytes()).unwrap(),
            HeaderValue::from_str(&v).unwrap(),
        );
    }
    res
}

#[allow(unused_imports)]
pub(crate) use corsguard_testkit::client::{REQUEST_TIMEOUT, all, lines, one, send, send_case};
