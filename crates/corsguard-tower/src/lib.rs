//! # corsguard-tower
//!
//! [corsguard] as a [tower](https://docs.rs/tower) layer, for axum, hyper 1 and
//! tonic (gRPC-web). The layer only translates `http` types to the engine and back: every
//! CORS decision is the engine's, so this middleware behaves exactly like the actix-web one
//! and the `corsguard serve` gateway (they all pass the same behaviour tables).
//!
//! ```
//! use axum::{Router, routing::get};
//! use corsguard_tower::CorsLayer;
//!
//! let policy = corsguard::Policy::from_yaml_str(r#"
//! defaults:
//!   allow_origins: ['https://app.example.com']
//!   allow_methods: [GET, PUT, DELETE]
//!   allow_headers: [authorization, content-type]
//!   allow_credentials: true
//!   max_age: 600
//! "#)?;
//! let app: Router = Router::new()
//!     .route("/v1/items", get(|| async { "[]" }))
//!     .layer(CorsLayer::new(policy)); // last = outermost: sees every request
//! # Ok::<(), corsguard::ConfigErrors>(())
//! ```
//!
//! With a file (`CorsLayer::from_file("corsguard.yaml")?`), the environment
//! (`CorsLayer::from_env()?`) or a [`corsguard::PolicyHandle`] for hot reload
//! (`CorsLayer::from_handle(handle)`).
//!
//! # What the layer does
//!
//! - **Preflights** (`OPTIONS` + `Origin` + `Access-Control-Request-Method`) are answered by
//!   the layer with the policy's status and an empty body; they never reach the inner
//!   service (so an auth layer or a router inside cannot answer them with 401/405), unless
//!   the rule sets `preflight.passthrough`. An `OPTIONS` *without*
//!   `Access-Control-Request-Method` is an ordinary request and reaches your app.
//! - **Actual requests** run the inner service; the decision is applied to whatever response
//!   comes back, 2xx, 4xx and 5xx alike. An `Access-Control-Allow-*` header set by the app is
//!   replaced (never duplicated), its `Vary` is kept and merged.
//! - `on_reject: forbid` answers refused requests `403` without calling the inner service;
//!   `mode: shadow` changes no response but still decides and logs.
//! - Decisions are logged through `tracing` (target `corsguard`): the full trace at `debug`,
//!   one line with the reason at `info` for each refused request.
//!
//! # Layer order
//!
//! The CORS layer must be **outside** everything that can produce a response on its own:
//! authentication, the router's 404/405, timeouts and error mapping (`HandleErrorLayer`),
//! catch-panic. An inner service that returns `Err` gets no CORS headers (there is no
//! response yet), so map errors to responses inside the CORS layer; see [`Cors`].
//!
//! With axum, `Router::layer(CorsLayer)` called after the routes, the fallback and the other
//! layers is enough: axum applies it to every route and to the fallback, outside their route
//! layers, so preflights never reach a handler or an auth layer and 404/405 answers are
//! decorated. (axum's method router may add an `Allow` header to a preflight answer for a
//! path that has routes.) To put it around the router as a whole, wrap the router service
//! itself:
//!
//! ```
//! use axum::{Router, extract::Request, routing::get};
//! use tower::Layer as _;
//!
//! let policy = corsguard::Policy::builder().allow_origin("https://app.example.com").build()?;
//! let router = Router::new().route("/v1/items", get(|| async { "[]" }));
//! let app = corsguard_tower::CorsLayer::new(policy).layer(router);
//! // for axum::serve(listener, make_service)
//! let make_service = axum::ServiceExt::<Request>::into_make_service(app);
//! # let _ = make_service;
//! # Ok::<(), corsguard::ConfigErrors>(())
//! ```
//!
//! Path rules match the request path as the layer receives it; put the layer on the
//! outermost router so that a `nest`ed prefix is still part of the path (a layer on a router
//! that is then `nest`ed under `/api` sees paths without `/api`).
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod future;
mod layer;
mod service;

pub use future::ResponseFuture;
pub use layer::CorsLayer;
pub use service::Cors;
