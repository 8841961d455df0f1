//! # corsguard
//!
//! A CORS policy engine that follows the WHATWG Fetch standard: one policy, written once in
//! YAML, TOML, environment variables or code, validated with precise diagnostics, and
//! enforced identically by every adapter (tower/axum, actix-web, the `corsguard serve`
//! gateway).
//!
//! ```
//! use corsguard::Policy;
//! use corsguard::adapter::{Action, RequestHead};
//!
//! let policy = Policy::from_yaml_str(r#"
//! defaults:
//!   allow_origins: ['https://app.example.com', 'https://*.example.org']
//!   allow_methods: [GET, PUT]
//!   allow_headers: [content-type, x-trace-id]
//!   allow_credentials: true
//!   max_age: 600
//! "#)?;
//!
//! let origin = http::HeaderValue::from_static("https://app.example.com");
//! let acrm = http::HeaderValue::from_static("PUT");
//! let mut head = RequestHead::new("OPTIONS", "/v1/items");
//! head.push_header(&http::header::ORIGIN, &origin);
//! head.push_header(&http::header::ACCESS_CONTROL_REQUEST_METHOD, &acrm);
//!
//! let decision = policy.decide(&head);
//! assert_eq!(decision.action(), Action::Respond(http::StatusCode::NO_CONTENT));
//! let (_, headers) = decision.response_parts().unwrap();
//! assert_eq!(headers["access-control-allow-origin"], "https://app.example.com");
//! assert_eq!(headers["access-control-allow-credentials"], "true");
//! assert_eq!(headers["vary"], "Origin");
//! # Ok::<(), corsguard::ConfigErrors>(())
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod builder;
mod clip;
mod code;
mod config;
mod csrf;
mod decision;
mod diagnostic;
pub mod fetch;
mod handle;
mod headers;
mod load;
mod origin;
mod policy;
pub mod rules;
mod trace;
mod validate;

/// What an adapter (a middleware, a proxy) needs beyond [`Policy`]: the request view it
/// builds, the decision it applies, and the policy source it is constructed from.
///
/// ```
/// use corsguard::Policy;
/// use corsguard::adapter::{Action, RequestHead};
///
/// let policy = Policy::from_yaml_str("defaults: {allow_origins: ['https://a.example']}")?;
/// let req = http::Request::options("/x")
///     .header("origin", "https://a.example")
///     .header("access-control-request-method", "GET")
///     .body(())?;
/// let decision = policy.decide(&RequestHead::from_request(&req));
/// assert_eq!(decision.action(), Action::Respond(http::StatusCode::NO_CONTENT));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub mod adapter {
    pub use crate::decision::{
        Action, Decision, OWNED_HEADERS, OriginTrust, RequestHead, RequestKind, UntrustedOrigin,
        vary_merge,
    };
    pub use crate::handle::{PolicySource, Versioned};
}

/// The settings of the `gateway:` section, which the engine reads and locates with the rest
/// of the file and `corsguard-gateway` (`corsguard serve`) uses; an application behind a
/// middleware never needs them.
///
/// ```
/// let p = corsguard::Policy::from_yaml_str(
///     "defaults: {allow_origins: ['https://a.example']}\ngateway: {listen: '127.0.0.1:8080', upstream: 'http://127.0.0.1:9000'}",
/// )?;
/// let g: &corsguard::gateway::GatewaySettings = p.gateway().unwrap();
/// assert_eq!(g.upstream.as_deref(), Some("http://127.0.0.1:9000"));
/// # Ok::<(), corsguard::ConfigErrors>(())
/// ```
pub mod gateway {
    pub use crate::config::gateway::{
        EncodedSlashes, GatewaySettings, Http2Settings, Limits, NormalizeSettings, Timeouts,
        TlsSettings, WebSocketSettings, parse_duration,
    };
}

pub use builder::{PathRule, PolicyBuilder};
pub use clip::{Clipped, SHOWN_BYTES};
pub use code::Code;
pub use config::Format;
pub use config::raw::{Mode, OnReject};
pub use config::{DEFAULT_MAX_CONFIG_BYTES, read_config_file};
pub use csrf::{Csrf, CsrfMode, CsrfPass, CsrfRefusal, CsrfSummary, CsrfVerdict, csrf_safe_method};
pub use decision::Refusal;
pub use diagnostic::{
    ConfigErrors, Diagnostic, Location, Severity, SourceKind, SourceSpan, did_you_mean,
};
pub use handle::PolicyHandle;
pub use load::Load;
pub use origin::MAX_ORIGIN_LEN;
pub use policy::{Policy, RuleSummary};
pub use trace::{Fix, Trace, TraceStep};
