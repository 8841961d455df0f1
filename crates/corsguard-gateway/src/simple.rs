//! A minimal HTTP/1.1 + h2c server loop for the admin listener and the demo servers.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::body::GatewayBody;

/// A boxed response future.
pub(crate) type ResponseFuture = Pin<Box<dyn Future<Output = Response<GatewayBody>> + Send>>;

/// A request handler.
pub(crate) type Handler =
    Arc<dyn Fn(Request<Incoming>, SocketAddr) -> ResponseFuture + Send + Sync>;

/// Bounds of a small listener (the admin listener): the gateway listener's header timeout,
/// a connection cap, and a connection lifetime.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ListenerLimits {
    /// `timeouts.client_header_read`.
    pub(crate) header_read: Duration,
    /// Connections open at once; more are closed at accept.
    pub(crate) max_connections: usize,
    /// A connection is closed (gracefully) after this long, whatever it does.
    pub(crate) lifetime: Duration,
}

/// Serves `listener` until `stop` is cancelled; open connections are then closed gracefully
/// (tracked by `tracker`).
pub(crate) async fn serve(
    listener: TcpListener,
    handler: Handler,
    limits: ListenerLimits,
    stop: CancellationToken,
    tracker: TaskTracker,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let (stream, peer) = tokio::select! {
            _ = stop.cancelled() => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "admin listener at its connection cap: closing");
            drop(stream);
            continue;
        };
        let handler = handler.clone();
        let stop = stop.clone();
        tracker.spawn(async move {
            let _permit = permit;
            let _ = stream.set_nodelay(true);
            let svc = service_fn(move |req| {
                let fut = handler(req, peer);
                async move { Ok::<_, Infallible>(fut.await) }
            });
            let mut builder = auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read);
            builder.http2().timer(TokioTimer::new());
            let conn = builder.serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stop.cancelled() => conn.as_mut().graceful_shutdown(),
                _ = tokio::time::sleep(limits.lifetime) => conn.as_mut().graceful_shutdown(),
            }
            let _ = tokio::time::timeout(Duration::from_secs(5), conn).await;
        });
    }
}

/// Binds `addr`, mapping the error.
pub(crate) async fn bind(addr: SocketAddr) -> Result<TcpListener, crate::Error> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| crate::Error::Bind { addr, source })
}

/// Builds a response; falls back to a bare 500 if the parts are invalid (they never are:
/// every caller passes static names and checked values).
pub(crate) fn response(
    status: u16,
    headers: &[(&str, &str)],
    body: impl Into<bytes::Bytes>,
) -> Response<GatewayBody> {
    let mut b = Response::builder().status(status);
    for (n, v) in headers {
        b = b.header(*n, *v);
    }
    b.body(crate::body::full(body)).unwrap_or_else(|_| {
        let mut r = Response::new(crate::body::empty());
        *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}
