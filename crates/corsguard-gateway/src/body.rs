//! Body types: the size-limited streaming request body sent upstream, the streaming response
//! body sent to the client (which keeps the connection's activity guard alive until the last
//! byte), and small fixed bodies for the gateway's own answers.
//!
//! Nothing here buffers: each frame is passed on as it arrives, so memory stays bounded by
//! hyper's per-connection buffers whatever the body size.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;

/// Boxed error of streaming bodies.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of every response the gateway sends.
pub(crate) type GatewayBody = UnsyncBoxBody<Bytes, BoxError>;

/// A fixed body.
pub(crate) fn full(b: impl Into<Bytes>) -> GatewayBody {
    Full::new(b.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// An empty body.
pub(crate) fn empty() -> GatewayBody {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// The request body went over `limits.max_body_bytes`.
#[derive(Debug, thiserror::Error)]
#[error("request body over the {0}-byte limit")]
pub(crate) struct BodyTooLarge(pub(crate) u64);

/// The client's request body, streamed to the upstream, failing once more than `limit`
/// bytes have been seen (the flag lets the proxy answer 413 instead of 502).
pub(crate) struct RequestBody {
    inner: Incoming,
    limit: u64,
    remaining: u64,
    exceeded: Arc<AtomicBool>,
}

impl RequestBody {
    pub(crate) fn new(inner: Incoming, limit: u64, exceeded: Arc<AtomicBool>) -> Self {
        RequestBody {
            inner,
            limit,
            remaining: limit,
            exceeded,
        }
    }
}

impl Body for RequestBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(d) = frame.data_ref() {
                    let n = u64::try_from(d.len()).unwrap_or(u64::MAX);
                    if n > this.remaining {
                        this.exceeded.store(true, Ordering::Release);
                        return Poll::Ready(Some(Err(Box::new(BodyTooLarge(this.limit)))));
                    }
                    this.remaining -= n;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Box::new(e)))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A streaming body that holds `guard` until it is finished or dropped.
pub(crate) struct Tracked<B, G> {
    inner: B,
    guard: Option<G>,
}

impl<B, G> Tracked<B, G> {
    pub(crate) fn new(inner: B, guard: G) -> Self {
        Tracked {
            inner,
            guard: Some(guard),
        }
    }
}

impl<B, G> Body for Tracked<B, G>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
    G: Unpin,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        let r = match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(f))) => Poll::Ready(Some(Ok(f))),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => return Poll::Pending,
        };
        if this.inner.is_end_stream() || matches!(r, Poll::Ready(None) | Poll::Ready(Some(Err(_))))
        {
            this.guard = None;
        }
        r
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
