//! # corsguard-browser
//!
//! The client half of the WHATWG Fetch standard: what a browser (Chromium 156) does with a
//! cross-origin request, as a library. The [`corsguard`] engine is the server half.
//!
//! Given a request a page would make ([`BrowserRequest`]), this crate decides whether a
//! preflight is needed and what it looks like ([`preflight_plan`]), runs the CORS checks on the
//! responses ([`check_preflight`], [`check_response`], [`cors_check`]), predicts Chromium's
//! preflight cache ([`PreflightCache`]) and runs a whole fetch against a responder
//! ([`simulate`]). Failures carry Chromium's CDP `corsError` and console message
//! ([`CorsFailure`]). Where Chromium 156 and the spec disagree, the model predicts Chromium and
//! attaches a [`SpecNote`] (cors-protocol.md §15).
//!
//! It is used by `corsguard explain` and the gateway's explain endpoint (the responder is the
//! policy engine, through [`answer_with_policy`]), `corsguard probe` (the responder is a live
//! server) and the Chromium conformance suite (whose verdicts it must predict). The header
//! and method grammar it shares with the engine comes from [`corsguard::fetch`], so the two
//! halves cannot disagree on it.
//!
//! ```
//! use corsguard_browser::{simulate, BrowserRequest, CredentialsMode, ResponseView};
//!
//! // A credentialed PUT with a custom header, against a server that answers correctly.
//! let req = BrowserRequest::new("https://app.example", "https://api.example/items/1")
//!     .method("PUT")
//!     .header("Content-Type", "application/json")
//!     .credentials(CredentialsMode::Include);
//! let verdict = simulate(&req, |sent| {
//!     let base = ResponseView::new(if sent.is_preflight() { 204 } else { 200 })
//!         .with_header("Access-Control-Allow-Origin", "https://app.example")
//!         .with_header("Access-Control-Allow-Credentials", "true");
//!     if sent.is_preflight() {
//!         assert_eq!(sent.header("Access-Control-Request-Headers"), Some("content-type"));
//!         base.with_header("Access-Control-Allow-Methods", "PUT")
//!             .with_header("Access-Control-Allow-Headers", "Content-Type")
//!     } else {
//!         base
//!     }
//! });
//! assert!(verdict.allowed);
//! assert_eq!(verdict.preflights_sent(), 1);
//! ```
//!
//! The same fetch against a [`corsguard::Policy`] that only allows `GET`: the preflight fails,
//! with the message Chromium prints.
//!
//! ```
//! use corsguard_browser::{answer_with_policy, simulate, BrowserRequest, CorsError};
//!
//! let policy = corsguard::Policy::builder()
//!     .allow_origin("https://app.example")
//!     .allow_methods(["GET"])
//!     .build()?;
//! let req = BrowserRequest::new("https://app.example", "https://api.example/items/1").method("PUT");
//! let verdict = simulate(&req, |sent| {
//!     answer_with_policy(&policy, sent, http::StatusCode::OK, &http::HeaderMap::new()).response
//! });
//! assert!(!verdict.allowed);
//! assert_eq!(verdict.cors_error(), Some(CorsError::MethodDisallowedByPreflightResponse));
//! assert!(verdict.console_message().unwrap().ends_with(
//!     "Method PUT is not allowed by Access-Control-Allow-Methods in preflight response."
//! ));
//! # Ok::<(), corsguard::ConfigErrors>(())
//! ```
//!
//! Beyond CORS, two blocks that no CORS header changes are modelled: **Local Network Access**
//! (Chromium ≥ 142: a public page fetching a local or loopback address needs a permission,
//! from a secure context; [`check_local_network`], with the address table of
//! [`ip_address_space`] and the inputs of [`NetworkContext`]) and **CORP/COEP** on `no-cors`
//! subresources and `<iframe>`s ([`corp_check`]); [`simulate`] runs both.
//!
//! Not modelled: the network partition key of the cache, `Sec-Fetch-Site` / `Referer` /
//! `User-Agent` on the wire, the legacy Private Network Access preflight (Chromium ≥ 138
//! never sends `Access-Control-Request-Private-Network`), mixed-content blocking (an `https`
//! page fetching `http://…`: Chromium blocks it unless the target is potentially
//! trustworthy, or, with an LNA grant, a private IP literal, a `.local` name or a
//! `targetAddressSpace` fetch), LNA for WebSockets/WebTransport and from workers,
//! Document-Isolation-Policy, COEP `report-only`, `Permissions-Policy` headers (only the
//! iframe `allow` attribute is), enterprise policies other than as a granted permission,
//! service workers, `data:` and other non-HTTP(S) fetches (a cross-origin CORS fetch of one
//! is reported as `CorsDisabledScheme`), `redirect: 'manual' | 'error'`, and HTTP-cache
//! revalidation (304/407 exemptions).
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod cache;
mod check;
mod corp;
mod lna;
mod message;
mod notes;
mod policy_answer;
mod preflight;
mod request;
mod response;
mod safelist;
mod simulate;

pub use cache::{
    CacheEntry, CacheLookup, MAX_CACHED_URL_LEN, PreflightCache, needs_preflight_with_cache,
};
pub use check::{
    ActualOutcome, CHROMIUM_MAX_AGE_CAP, DEFAULT_MAX_AGE, MaxAge, PreflightOutcome, ResponseType,
    check_preflight, check_response, cors_check, exposed_header_names, parse_header_list,
    parse_max_age,
};
pub use corp::{BlockedReason, Destination, EmbedderPolicy, ResponseBlock, corp_check};
pub use lna::{
    AddressSpace, AddressSpaceOverride, Classified, Frame, LnaBlock, LnaPermission, LnaVerdict,
    NetworkContext, SpaceSource, check_local_network, ip_address_space, is_secure_context,
};
pub use message::{CorsError, CorsFailure, PREFLIGHT_PREFIX};
pub use notes::{Deviation, SpecNote};
pub use policy_answer::{PolicyAnswer, answer_with_policy};
pub use preflight::{PreflightPlan, PreflightReason, SimRequest, SimRequestKind, preflight_plan};
pub use request::{
    BrowserRequest, CredentialsMode, DropReason, DroppedHeader, FetchError, FetchErrorKind,
    Initiator, RequestMode,
};
pub use response::ResponseView;
pub use safelist::{
    CHROMIUM_ONLY_SAFELISTED_HEADERS, MAX_SAFELISTED_VALUE_LEN, PROTOCOL_EXCEPTION_CONTENT_TYPES,
    SAFELIST_VALUE_BUDGET, SAFELISTED_CONTENT_TYPES, SAFELISTED_RESPONSE_HEADERS,
    is_cors_safelisted_method, is_cors_safelisted_request_header,
    is_cors_unsafe_request_header_byte, is_forbidden_method, is_forbidden_request_header,
    is_forbidden_response_header_name, is_safelisted_response_header_name, mime_essence,
};
pub use simulate::{MAX_REDIRECTS, Step, Verdict, simulate, simulate_with_cache};
