//! Body types: the size-limited streaming request body sent upstream, the streaming response
//! body sent to the client (which keeps the connection's activity guard alive until the last
//! byte), and small fixed bodies for the gateway's own answers.
//!
//! Nothing here buffers: each frame is passed on as it arrives, so memory stays bounded by
//! hyper's per-connection buffers whatever the body size.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;

use crate::conn::StreamGuard;

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

/// What went wrong with a client's request body, as seen after the upstream call failed.
pub(crate) const BODY_OK: u8 = 0;
/// Over `limits.max_body_bytes` (→ 413).
pub(crate) const BODY_TOO_LARGE: u8 = 1;
/// The client sent a malformed body or went away mid-body (→ 400, not the upstream's fault).
pub(crate) const BODY_CLIENT_ERROR: u8 = 2;

/// The client's request body, streamed to the upstream, failing once more than `limit`
/// bytes have been seen. `state` tells the proxy why the upstream call failed: the body
/// was too large (413) or the client's side broke (400), rather than the upstream (502).
pub(crate) struct RequestBody {
    inner: Incoming,
    limit: u64,
    remaining: u64,
    state: Arc<AtomicU8>,
}

impl RequestBody {
    pub(crate) fn new(inner: Incoming, limit: u64, state: Arc<AtomicU8>) -> Self {
        RequestBody {
            inner,
            limit,
            remaining: limit,
            state,
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
                        this.state.store(BODY_TOO_LARGE, Ordering::Release);
                        return Poll::Ready(Some(Err(Box::new(BodyTooLarge(this.limit)))));
                    }
                    this.remaining -= n;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.state.store(BODY_CLIENT_ERROR, Ordering::Release);
                Poll::Ready(Some(Err(Box::new(e))))
            }
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

/// A streaming response body that holds its connection's [`StreamGuard`] until it is
/// finished or dropped, and reports every frame as progress (for `timeouts.send`).
pub(crate) struct Tracked<B> {
    inner: B,
    guard: Option<StreamGuard>,
}

impl<B> Tracked<B> {
    pub(crate) fn new(inner: B, guard: StreamGuard) -> Self {
        Tracked {
            inner,
            guard: Some(guard),
        }
    }
}

impl<B> Body for Tracked<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        let r = match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(f))) => {
                if let Some(g) = &this.guard {
                    g.progress();
                }
                Poll::Ready(Some(Ok(f)))
            }
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
