//! [`Cors`]: the service — translate the request, decide, answer or decorate.

use std::task::{Context, Poll};

use corsguard::adapter::{Action, RequestHead};
use corsguard::{Policy, PolicyHandle};
use http::{Request, Response};
use tower_service::Service;

use crate::future::ResponseFuture;
use corsguard::adapter::PolicySource;

/// The middleware service built by [`CorsLayer`](crate::CorsLayer): wraps an inner service
/// and enforces a corsguard policy on it.
///
/// For every request it builds a [`RequestHead`] from the method, URI and headers (host
/// from the URI authority or the `Host` header), asks the policy for a
/// [`Decision`](corsguard::adapter::Decision), then:
///
/// - [`Action::Respond`]: answers at once with the policy's status, its headers and an empty
///   body (`ResBody::default()`); the inner service is not called (preflights,
///   `on_reject: forbid`, enforced CSRF refusals, whose reason is in the `X-Corsguard-Csrf`
///   header: the body type is the inner service's, so the text of
///   [`Decision::body`](corsguard::adapter::Decision::body) cannot be written into it);
/// - [`Action::Forward`]: calls the inner service and applies the decision to whatever
///   response it returns (2xx, 4xx and 5xx alike);
/// - [`Action::PassThrough`]: calls the inner service and changes nothing (`cors: false`,
///   `mode: shadow`).
///
/// # Errors from the inner service
///
/// An `Err` from the inner service is passed through unchanged: it is not a response, so
/// there is nothing to put CORS headers on, and the browser will report a CORS error
/// instead of your error. Turn errors into responses **inside** the CORS layer, e.g. with
/// axum's `HandleErrorLayer`, so they get CORS headers like every other response:
///
/// ```
/// use std::time::Duration;
/// use axum::{Router, error_handling::HandleErrorLayer, http::StatusCode, routing::get};
/// use corsguard_tower::CorsLayer;
/// use tower::ServiceBuilder;
///
/// let policy = corsguard::Policy::builder().allow_origin("https://app.example.com").build()?;
/// let app: Router = Router::new()
///     .route("/slow", get(|| async { "done" }))
///     .layer(
///         ServiceBuilder::new()
///             .layer(CorsLayer::new(policy)) // outermost: sees every response
///             .layer(HandleErrorLayer::new(|_: tower::BoxError| async {
///                 StatusCode::SERVICE_UNAVAILABLE // becomes a response with CORS headers
///             }))
///             .timeout(Duration::from_secs(10)), // fallible
///     );
/// # Ok::<(), corsguard::ConfigErrors>(())
/// ```
///
/// # Paths
///
/// Path rules (`paths:`) match the path in the request URI as this service receives it.
/// Put the layer on the outermost router (or around the whole server) so it sees the full
/// path; a layer on an axum router that is `nest`ed under `/api` sees the path with `/api`
/// stripped.
#[derive(Debug, Clone)]
pub struct Cors<S> {
    inner: S,
    source: PolicySource,
}

impl<S> Cors<S> {
    /// Wraps `inner` with a fixed policy (the same as `CorsLayer::new(policy).layer(inner)`).
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use tower::ServiceExt;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let policy = corsguard::Policy::builder()
    ///     .allow_origin("https://app.example.com")
    ///     .allow_methods(["PUT"])
    ///     .build()?;
    /// let inner = tower::service_fn(|_req: http::Request<()>| async {
    ///     Ok::<_, Infallible>(http::Response::new(String::from("from the app")))
    /// });
    /// let svc = corsguard_tower::Cors::new(inner, policy);
    /// let preflight = http::Request::options("/items")
    ///     .header("origin", "https://app.example.com")
    ///     .header("access-control-request-method", "PUT")
    ///     .body(())
    ///     .unwrap();
    /// let res = svc.oneshot(preflight).await.unwrap();
    /// assert_eq!(res.status(), 204);
    /// assert_eq!(res.headers()["access-control-allow-methods"], "PUT");
    /// assert_eq!(res.body(), ""); // answered by the policy, the app never ran
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// # }).unwrap();
    /// ```
    pub fn new(inner: S, policy: Policy) -> Self {
        Cors::with_source(inner, PolicySource::new(policy))
    }

    /// Wraps `inner` with the current policy of `handle`, loaded once per request.
    ///
    /// ```
    /// use std::convert::Infallible;
    /// let handle = corsguard::PolicyHandle::new(
    ///     corsguard::Policy::builder().allow_origin("https://a.example").build()?,
    /// );
    /// let inner = tower::service_fn(|_req: http::Request<()>| async {
    ///     Ok::<_, Infallible>(http::Response::new(String::new()))
    /// });
    /// let _svc = corsguard_tower::Cors::from_handle(inner, handle);
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn from_handle(inner: S, handle: PolicyHandle) -> Self {
        Cors::with_source(inner, PolicySource::Handle(handle))
    }

    pub(crate) fn with_source(inner: S, source: PolicySource) -> Self {
        Cors { inner, source }
    }

    /// The inner service.
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
    /// let svc = corsguard_tower::Cors::new(7u8, p);
    /// assert_eq!(*svc.get_ref(), 7);
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
    /// let mut svc = corsguard_tower::Cors::new(7u8, p);
    /// *svc.get_mut() += 1;
    /// assert_eq!(*svc.get_ref(), 8);
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
    /// assert_eq!(corsguard_tower::Cors::new(7u8, p).into_inner(), 7);
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Cors<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        // The head borrows the request; the decision owns what it needs, so the request can
        // move into the inner service afterwards.
        let decision = self.source.decide(&RequestHead::from_request(&req));
        if let Some((status, headers)) = decision.response_parts() {
            // The body type is the inner service's, known only as `Default`: the answer is
            // empty (as tower-http's), and a CSRF refusal names its reason in the
            // `X-Corsguard-Csrf` header instead of a text body.
            let mut res = Response::new(ResBody::default());
            *res.status_mut() = status;
            *res.headers_mut() = headers;
            if !decision.body().is_empty() {
                let h = res.headers_mut();
                h.remove(http::header::CONTENT_TYPE);
                h.insert(
                    http::header::CONTENT_LENGTH,
                    http::HeaderValue::from_static("0"),
                );
            }
            return ResponseFuture::ready(res);
        }
        let decision = match decision.action() {
            Action::Forward => Some(decision),
            // PassThrough, and any action a later engine adds: change nothing.
            _ => None,
        };
        ResponseFuture::inner(self.inner.call(req), decision)
    }
}
