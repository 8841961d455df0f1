//! # corsguard-actix
//!
//! [corsguard] as actix-web middleware. The middleware only translates actix-web
//! types to the engine and back: every CORS decision is the engine's, so it behaves exactly
//! like the tower/axum layer and the `corsguard serve` gateway (they all pass the same
//! behaviour tables).
//!
//! ```
//! use actix_web::{App, HttpResponse, web};
//! use corsguard_actix::Cors;
//!
//! let policy = corsguard::Policy::from_yaml_str(r#"
//! defaults:
//!   allow_origins: ['https://app.example.com']
//!   allow_methods: [GET, PUT, DELETE]
//!   allow_headers: [authorization, content-type]
//!   allow_credentials: true
//!   max_age: 600
//! "#)?;
//! let cors = Cors::new(policy);
//! // `HttpServer::new` calls this factory once per worker: clone the middleware into it
//! let app = move || {
//!     App::new()
//!         .route("/v1/items", web::get().to(|| async { HttpResponse::Ok().body("[]") }))
//!         .wrap(cors.clone()) // the last `wrap` is the outermost: sees every request
//! };
//! # let _ = app;
//! # Ok::<(), corsguard::ConfigErrors>(())
//! ```
//!
//! With a file (`Cors::from_file("corsguard.yaml")?`), the environment (`Cors::from_env()?`)
//! or a [`corsguard::PolicyHandle`] for hot reload (`Cors::from_handle(handle)`).
//!
//! # What the middleware does
//!
//! - **Preflights** (`OPTIONS` + `Origin` + `Access-Control-Request-Method`) are answered by
//!   the middleware with the policy's status and an empty body; they never reach the
//!   services it wraps (so an auth middleware or the router cannot answer them with
//!   401/404), unless the rule sets `preflight.passthrough`. An `OPTIONS` *without*
//!   `Access-Control-Request-Method` is an ordinary request and reaches your handlers.
//! - **Actual requests** run the wrapped service; the decision is applied to whatever
//!   response comes back, 2xx, 4xx and 5xx alike, including responses built from a
//!   handler's `Err` (`ResponseError`). An `Err` from an inner *middleware* stays an `Err`,
//!   but the decision is attached to it (`Error::add_response_mapper`), so the error
//!   response actix-web renders from it is decorated too: the browser shows your 401/500
//!   instead of a CORS error.
//! - An `Access-Control-Allow-*` header set by a handler is replaced (never duplicated), its
//!   `Vary` is kept and merged into one line.
//! - `on_reject: forbid` answers refused requests `403` without calling the handler;
//!   `mode: shadow` changes no response but still decides and logs.
//! - Decisions are logged through `tracing` (target `corsguard`): the full trace at `debug`,
//!   one line with the reason at `info` for each refused request.
//!
//! # Order and paths
//!
//! Register the middleware **outermost**: in actix-web the last `.wrap()` runs first, so
//! call `.wrap(Cors::new(..))` after your auth or logging middleware. It also works on a
//! `web::scope(..)`, for CORS on part of an app only.
//!
//! Path rules (`paths:`) match `req.path()`, the full request path, also inside a scope (a
//! scope does not strip its prefix from it). Host rules use the request URI's authority or
//! the `Host` header (not `Forwarded`/`X-Forwarded-Host`); the scheme for the same-origin
//! check comes from `ConnectionInfo::scheme()`.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod future;
mod middleware;
mod translate;

pub use future::CorsResponseFuture;
pub use middleware::{Cors, CorsMiddleware};
