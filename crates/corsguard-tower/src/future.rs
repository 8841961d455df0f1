//! [`ResponseFuture`]: a hand-written future, so no request pays for a `Box::pin`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use corsguard::adapter::Decision;
use http::{Response, StatusCode};
use pin_project_lite::pin_project;

pin_project! {
    /// The response future of [`Cors`](crate::Cors): either a response the policy answered
    /// at once (preflight, `on_reject: forbid`), or the inner service's future plus the
    /// decision to apply to its response.
    ///
    /// You never build one yourself; it is the `Future` type of `Cors<S>` as a
    /// [`tower_service::Service`].
    ///
    /// ```
    /// use std::convert::Infallible;
    /// type Fut = corsguard_tower::ResponseFuture<std::future::Ready<Result<http::Response<String>, Infallible>>, String>;
    /// fn assert_future<F: std::future::Future>() {}
    /// assert_future::<Fut>();
    /// ```
    pub struct ResponseFuture<F, B> {
        #[pin]
        state: State<F, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        /// Answered by the policy; `None` once returned.
        Ready { response: Option<Response<B>> },
        /// Waiting for the inner service; `decision` is `None` for pass-through.
        Inner {
            #[pin]
            future: F,
            decision: Option<Decision>,
        },
    }
}

impl<F, B> ResponseFuture<F, B> {
    pub(crate) fn ready(response: Response<B>) -> Self {
        ResponseFuture {
            state: State::Ready {
                response: Some(response),
            },
        }
    }

    pub(crate) fn inner(future: F, decision: Option<Decision>) -> Self {
        ResponseFuture {
            state: State::Inner { future, decision },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Default,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Ready { response } => {
                Poll::Ready(Ok(response.take().unwrap_or_else(|| {
                    // Polled again after completion: a caller bug. Answer something visible
                    // rather than panicking.
                    tracing::error!(target: "corsguard", "ResponseFuture polled after completion");
                    let mut res = Response::new(B::default());
                    *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                    res
                })))
            }
            StateProj::Inner { future, decision } => match ready!(future.poll(cx)) {
                Ok(mut res) => {
                    if let Some(d) = decision.take() {
                        d.apply(res.headers_mut());
                    }
                    Poll::Ready(Ok(res))
                }
                Err(e) => {
                    if decision.is_some() {
                        tracing::debug!(
                            target: "corsguard",
                            "inner service returned an error: passed through without CORS \
                             headers (map errors to responses inside the CORS layer)"
                        );
                    }
                    Poll::Ready(Err(e))
                }
            },
        }
    }
}
