//! Shared test helpers: an actix-web server on a loopback ephemeral port (`serve!`), the
//! testkit's app as a default service, and an exact HTTP/1.1 client (hyper's connection
//! API: every header line is sent as given, `Host` included, and every response line is
//! observed).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use corsguard_testkit::app_response;

/// A running actix-web server (one worker); stopped when dropped.
pub(crate) struct Server {
    pub addr: SocketAddr,
    pub handle: ServerHandle,
}

impl Server {
    /// `http://127.0.0.1:PORT`, the server's own origin (`{self}` in the tables).
    pub(crate) fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // sends the stop command at once; the returned future only waits for completion
        drop(self.handle.stop(false));
    }
}

/// Starts `HttpServer::new($factory)` on `127.0.0.1:0` with one worker, inside the current
/// actix `System`; evaluates to a [`Server`].
macro_rules! serve {
    ($factory:expr) => {{
        let server = actix_web::HttpServer::new($factory)
            .workers(1)
            .disable_signals()
            .bind(("127.0.0.1", 0))
            .unwrap();
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        common::Server { addr, handle }
    }};
}

/// The testkit's app (`corsguard_testkit::app_response`) as an actix-web handler.
pub(crate) async fn testkit_app(req: HttpRequest) -> HttpResponse {
    let (status, extra) = app_response(
        req.headers()
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap_or(""))),
    );
    let mut res = HttpResponse::build(StatusCode::from_u16(status).unwrap());
    for (n, v) in extra {
        res.append_header((n, v));
    }
    res.body("app")
}

#[allow(unused_imports)]
pub(crate) use corsguard_testkit::client::{REQUEST_TIMEOUT, all, lines, one, send, send_case};
