//! A minimal HTTP/1.1 + h2c server loop for the admin listener and the demo servers.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::body::GatewayBody;

/// A boxed response future.
pub(crate) type ResponseFuture = Pin<Box<dyn Future<Output = Response<GatewayBody>> + Send>>;

/// A request handler.
pub(crate) type Handler =
    Arc<dyn Fn(Request<Incoming>, SocketAddr) -> ResponseFuture + Send + Sync>;

/// Serves `listener` until `stop` is cancelled; open connections are then closed gracefully
/// (tracked by `tracker`).
pub(crate) async fn serve(
    listener: TcpListener,
    handler: Handler,
    stop: CancellationToken,
    tracker: TaskTracker,
) {
    loop {
        let (stream, peer) = tokio::select! {
            _ = stop.cancelled() => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let handler = handler.clone();
        let stop = stop.clone();
        tracker.spawn(async move {
            let _ = stream.set_nodelay(true);
            let svc = service_fn(move |req| {
                let fut = handler(req, peer);
                async move { Ok::<_, Infallible>(fut.await) }
            });
            let builder = auto::Builder::new(TokioExecutor::new());
            let conn = builder.serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stop.cancelled() => conn.as_mut().graceful_shutdown(),
            }
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), conn).await;
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
