//! [`CorsResponseFuture`]: a hand-written future (no `Box::pin` per request).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use actix_web::Error;
use actix_web::body::EitherBody;
use actix_web::dev::ServiceResponse;
use corsguard::adapter::Decision;
use pin_project_lite::pin_project;

use crate::translate;

pin_project! {
    /// The response future of [`CorsMiddleware`](crate::CorsMiddleware): either the answer
    /// the policy gave at once (preflight, `on_reject: forbid`), or the next service's
    /// future plus the decision to apply to its response.
    ///
    /// The body is `EitherBody<B>`: left for the wrapped service's responses, right
    /// (`BoxBody`) for the middleware's own empty answers. An `Err` from the wrapped service
    /// stays an `Err`; the decision is attached to it with
    /// [`actix_web::Error::add_response_mapper`], so the error response actix-web renders
    /// carries the CORS headers.
    ///
    /// ```
    /// fn assert_future<F: std::future::Future>() {}
    /// assert_future::<corsguard_actix::CorsResponseFuture<
    ///     std::future::Ready<Result<actix_web::dev::ServiceResponse, actix_web::Error>>,
    ///     actix_web::body::BoxBody,
    /// >>();
    /// ```
    pub struct CorsResponseFuture<F, B> {
        #[pin]
        state: State<F, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        /// Answered by the policy; `None` once returned.
        Ready { response: Option<ServiceResponse<EitherBody<B>>> },
        /// Waiting for the next service; `decision` is `None` for pass-through.
        Inner {
            #[pin]
            future: F,
            decision: Option<Decision>,
        },
    }
}

impl<F, B> CorsResponseFuture<F, B> {
    pub(crate) fn ready(response: ServiceResponse<EitherBody<B>>) -> Self {
        CorsResponseFuture {
            state: State::Ready {
                response: Some(response),
            },
        }
    }

    pub(crate) fn inner(future: F, decision: Option<Decision>) -> Self {
        CorsResponseFuture {
            state: State::Inner { future, decision },
        }
    }
}

impl<F, B> Future for CorsResponseFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Ready { response } => Poll::Ready(response.take().ok_or_else(|| {
                // Polled again after completion: a caller bug; an error, not a panic.
                actix_web::error::ErrorInternalServerError(
                    "CorsResponseFuture polled after completion",
                )
            })),
            StateProj::Inner { future, decision } => {
                let result = ready!(future.poll(cx));
                let Some(decision) = decision.take() else {
                    // pass-through: change nothing, not even an error
                    return Poll::Ready(result.map(ServiceResponse::map_into_left_body));
                };
                Poll::Ready(match result {
                    Ok(res) => {
                        let mut res = res.map_into_left_body();
                        translate::apply(&decision, res.headers_mut());
                        Ok(res)
                    }
                    // An inner middleware failed. Its error stays an error (outer middleware
                    // still see it), but the response actix-web renders from it gets the
                    // decision applied. (Turning it into a `ServiceResponse` here is not
                    // possible: that needs the `HttpRequest`, and keeping a clone of it while
                    // the router runs makes actix-web's router panic.)
                    Err(mut e) => {
                        e.add_response_mapper(move |mut res| {
                            translate::apply(&decision, res.headers_mut());
                            res
                        });
                        Err(e)
                    }
                })
            }
        }
    }
}
