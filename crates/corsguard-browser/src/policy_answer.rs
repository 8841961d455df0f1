//! The server side of a simulated fetch: a [`Policy`] in front of an application answers one
//! request the browser model sends. `corsguard explain` and the gateway's explain endpoint
//! both run [`simulate`](super::simulate) with this as the responder, so they cannot drift.

use http::{HeaderMap, StatusCode};

use super::{ResponseView, SimRequest};
use corsguard::adapter::{Action, RequestHead};
use corsguard::{Policy, Trace};

/// What the policy (and the application behind it) answered.
#[derive(Debug, Clone)]
pub struct PolicyAnswer {
    /// The response the browser receives.
    pub response: ResponseView,
    /// Why the policy answered that way.
    pub trace: Trace,
    /// Whether the request reached the application.
    pub app_called: bool,
}

/// Runs `sent` through `policy`; when the policy forwards it, the application answers
/// `app_status` with `app_headers`, and the decision is applied to that answer.
///
/// ```
/// use corsguard_browser::{BrowserRequest, answer_with_policy, simulate};
/// let policy = corsguard::Policy::builder().allow_origin("https://app.example").allow_methods(["PUT"]).build()?;
/// let req = BrowserRequest::new("https://app.example", "https://api.example/items").method("PUT");
/// let verdict = simulate(&req, |sent| {
///     answer_with_policy(&policy, sent, http::StatusCode::OK, &http::HeaderMap::new()).response
/// });
/// assert!(verdict.allowed);
/// assert_eq!(verdict.preflights_sent(), 1);
/// # Ok::<(), corsguard::ConfigErrors>(())
/// ```
pub fn answer_with_policy(
    policy: &Policy,
    sent: &SimRequest,
    app_status: StatusCode,
    app_headers: &HeaderMap,
) -> PolicyAnswer {
    let parsed = url::Url::parse(&sent.url).ok();
    let path = parsed.as_ref().map_or("/", |u| u.path()).to_owned();
    let host = parsed.as_ref().and_then(|u| {
        u.host_str().map(|h| match u.port() {
            Some(p) => format!("{h}:{p}"),
            None => h.to_owned(),
        })
    });
    let scheme = parsed.as_ref().map(|u| u.scheme().to_owned());
    let mut head = RequestHead::new(&sent.method, &path)
        .with_host(host.as_deref())
        .with_scheme(scheme.as_deref());
    for (n, v) in &sent.headers {
        head.push_header_bytes(n, v.as_bytes());
    }
    let (decision, trace) = policy.explain(&head);
    let (response, app_called) = match decision.action() {
        Action::Respond(_) => match decision.response_parts() {
            Some((s, h)) => (ResponseView::from_parts(s, &h), false),
            None => (ResponseView::new(500), false),
        },
        Action::Forward => {
            let mut h = app_headers.clone();
            decision.apply(&mut h);
            (ResponseView::from_parts(app_status, &h), true)
        }
        // PassThrough, and any action a later engine adds: the application answers alone.
        _ => (ResponseView::from_parts(app_status, app_headers), true),
    };
    PolicyAnswer {
        response,
        trace,
        app_called,
    }
}
