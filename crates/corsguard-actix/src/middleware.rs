//! [`Cors`] (the `Transform`) and [`CorsMiddleware`] (the `Service`).

use std::future::{Ready, ready};
use std::path::Path;

use actix_web::Error;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use corsguard::adapter::{Action, PolicySource};
use corsguard::{ConfigErrors, Policy, PolicyHandle};

use crate::future::CorsResponseFuture;
use crate::translate;

/// corsguard as actix-web middleware: use it with [`App::wrap`](actix_web::App::wrap) or
/// [`Scope::wrap`](actix_web::Scope::wrap).
///
/// Cheap to clone (an `Arc` or a [`PolicyHandle`]) and `Send + Sync`, so one value can be
/// cloned into every worker's `App`. Never panics, neither when built nor when serving.
///
/// ```
/// use actix_web::{App, HttpResponse, web};
/// use corsguard_actix::Cors;
///
/// let cors = Cors::new(
///     corsguard::Policy::builder()
///         .allow_origin("https://app.example.com")
///         .allow_methods(["GET", "POST"])
///         .build()?,
/// );
/// let app = App::new()
///     .service(
///         web::scope("/api")
///             .route("/items", web::get().to(|| async { HttpResponse::Ok().finish() }))
///             .wrap(cors), // CORS on /api only
///     )
///     .route("/health", web::get().to(|| async { HttpResponse::Ok().finish() }));
/// # let _ = app;
/// # Ok::<(), corsguard::ConfigErrors>(())
/// ```
#[derive(Debug, Clone)]
pub struct Cors {
    source: PolicySource,
}

impl Cors {
    /// Middleware enforcing `policy` (built with [`Policy::builder`], or loaded from text, a
    /// file or the environment). The policy's warnings, if any, are logged at `warn`.
    ///
    /// ```
    /// let policy = corsguard::Policy::from_yaml_str(
    ///     "defaults: {allow_origins: ['https://app.example.com'], max_age: 600}",
    /// )?;
    /// let cors = corsguard_actix::Cors::new(policy);
    /// assert!(cors.handle().is_none());
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn new(policy: Policy) -> Self {
        Cors {
            source: PolicySource::new(policy),
        }
    }

    /// Middleware reading the current policy of `handle` once per request (hot reload):
    /// replace the handle's policy and the next request uses the new one, in every worker.
    ///
    /// ```
    /// use corsguard::{Policy, PolicyHandle};
    /// let handle = PolicyHandle::new(Policy::builder().allow_origin("https://a.example").build()?);
    /// let cors = corsguard_actix::Cors::from_handle(handle.clone());
    /// handle.replace(Policy::builder().allow_origin("https://b.example").build()?);
    /// assert_eq!(cors.handle().map(|h| h.version()), Some(2));
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn from_handle(handle: PolicyHandle) -> Self {
        Cors {
            source: PolicySource::Handle(handle),
        }
    }

    /// Loads a `.yaml`/`.yml` or `.toml` policy file (see [`Policy::from_file`]); every
    /// problem of the file is reported at once.
    ///
    /// ```no_run
    /// let cors = corsguard_actix::Cors::from_file("corsguard.yaml")?;
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigErrors> {
        Policy::from_file(path).map(Self::new)
    }

    /// Builds the policy from environment variables (`CORS_ALLOWED_ORIGINS`,
    /// `CORSGUARD_<OPTION>`; see [`Policy::from_env`]).
    ///
    /// ```no_run
    /// // CORS_ALLOWED_ORIGINS="https://app.example.com" CORSGUARD_MAX_AGE=600
    /// let cors = corsguard_actix::Cors::from_env()?;
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn from_env() -> Result<Self, ConfigErrors> {
        Policy::from_env().map(Self::new)
    }

    /// The policy handle, when built with [`Cors::from_handle`].
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
    /// assert!(corsguard_actix::Cors::new(p).handle().is_none());
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn handle(&self) -> Option<&PolicyHandle> {
        self.source.handle()
    }
}

impl From<Policy> for Cors {
    fn from(policy: Policy) -> Self {
        Cors::new(policy)
    }
}

impl From<PolicyHandle> for Cors {
    fn from(handle: PolicyHandle) -> Self {
        Cors::from_handle(handle)
    }
}

impl<S, B> Transform<S, ServiceRequest> for Cors
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = CorsMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<CorsMiddleware<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(CorsMiddleware {
            service,
            source: self.source.clone(),
        }))
    }
}

/// The service [`Cors`] wraps around the next service (you do not build it yourself).
///
/// Per request: builds a [`corsguard::adapter::RequestHead`] from the method, the full path, the
/// host (URI authority or `Host` header), the scheme and the CORS request headers; asks the
/// policy for a decision; then answers at once ([`Action::Respond`]), or calls the next
/// service and decorates its response ([`Action::Forward`]), or calls it and changes
/// nothing ([`Action::PassThrough`]).
///
/// ```
/// use actix_web::{App, HttpResponse, test, web};
/// # actix_web::rt::System::new().block_on(async {
/// let policy = corsguard::Policy::builder().allow_origin("https://app.example.com").build()?;
/// let app = test::init_service(
///     App::new()
///         .default_service(web::to(|| async { HttpResponse::Unauthorized().finish() }))
///         .wrap(corsguard_actix::Cors::new(policy)),
/// )
/// .await;
/// let req = test::TestRequest::get()
///     .uri("/anything")
///     .insert_header(("origin", "https://app.example.com"))
///     .to_request();
/// let res = test::call_service(&app, req).await;
/// assert_eq!(res.status(), 401);
/// assert_eq!(
///     res.headers().get("access-control-allow-origin").unwrap(),
///     "https://app.example.com",
/// );
/// # Ok::<(), corsguard::ConfigErrors>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct CorsMiddleware<S> {
    service: S,
    source: PolicySource,
}

impl<S, B> Service<ServiceRequest> for CorsMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = CorsResponseFuture<S::Future, B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let decision = {
            let info = req.connection_info();
            self.source
                .decide(&translate::request_head(&req, info.scheme()))
        };
        match decision.action() {
            Action::Respond(status) => {
                let res = translate::respond(&decision, status.as_u16());
                CorsResponseFuture::ready(req.into_response(res).map_into_right_body())
            }
            Action::Forward => CorsResponseFuture::inner(self.service.call(req), Some(decision)),
            // PassThrough, and any action a later engine adds: change nothing.
            _ => CorsResponseFuture::inner(self.service.call(req), None),
        }
    }
}
