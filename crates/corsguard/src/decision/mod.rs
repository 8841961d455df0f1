//! Classify a request (`#cors-request`, `#cors-preflight-request`), decide it against the
//! matching rule, and render the decision into response headers.
//!
//! One file per concern, in the style of tower-http's `cors` module:
//!
//! - [`request`]: the borrowed view of a request ([`RequestHead`]);
//! - [`outcome`]: what a decision says ([`Decision`], [`Action`], [`Refusal`]);
//! - [`response`]: writing it into a response; [`vary`]: merging `Vary`;
//! - [`cors`]: the decision of an enabled rule, a sequence of steps: [`same_origin`],
//!   [`allow_origin`], then for a preflight [`allow_methods`], [`allow_headers`] and
//!   [`allow_private_network`];
//! - [`trust`]: origin trust ([`Policy::origin_trust`]); [`log`]: refusal log lines.

use self::log::log_refusal;
use crate::config::raw::Mode;
use crate::csrf::CsrfVerdict;
use crate::policy::{CorsRule, Policy, Rule};
use crate::trace::{NoTrace, Tracer};

mod allow_headers;
mod allow_methods;
mod allow_origin;
mod allow_private_network;
mod cors;
mod log;
mod outcome;
mod request;
mod response;
mod same_origin;
mod trust;
mod vary;

pub(crate) use outcome::HeaderPlan;
pub use outcome::{Action, Decision, Refusal, RequestKind};
pub use request::RequestHead;
pub use response::OWNED_HEADERS;
pub use trust::{OriginTrust, UntrustedOrigin};
pub use vary::vary_merge;

impl Policy {
    /// Decides a request. Allocation-free on the common paths; logs the decision through
    /// `tracing` (debug: full trace; info: one line per refused request).
    ///
    /// ```
    /// use corsguard::Policy;
    /// use corsguard::adapter::{RequestHead, Action};
    /// let p = Policy::builder().allow_origin("https://a.example").build()?;
    /// let head = RequestHead::new("GET", "/");
    /// let d = p.decide(&head);
    /// assert_eq!(d.action(), Action::Forward);
    /// assert_eq!(d.vary_tokens().collect::<Vec<_>>(), ["Origin"]);
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn decide(&self, req: &RequestHead<'_>) -> Decision {
        if tracing::enabled!(target: "corsguard", tracing::Level::DEBUG) {
            return self.decide_logged(req);
        }
        let d = self.decide_with(req, &mut NoTrace);
        if d.is_refused() {
            self.log_refused(req, &d);
        }
        d
    }

    /// The debug-logging path, kept out of line so the common path stays small.
    #[cold]
    #[inline(never)]
    fn decide_logged(&self, req: &RequestHead<'_>) -> Decision {
        self.decide_traced(req).0
    }

    /// One info line per refusal, formatted from the request itself: no trace is built, so
    /// a flood of refused requests costs no more than the log line.
    #[cold]
    #[inline(never)]
    fn log_refused(&self, req: &RequestHead<'_>, d: &Decision) {
        d.log_refusal(req);
    }

    /// Like [`Policy::decide`], and also returns the [`Trace`](crate::Trace) of refused
    /// requests (and of every request when debug logging is on), computed once. For callers
    /// that keep refusals (an admin page's ring buffer) or report them.
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
    /// let o = http::HeaderValue::from_static("https://b.example");
    /// let mut head = corsguard::adapter::RequestHead::new("GET", "/");
    /// head.push_header(&http::header::ORIGIN, &o);
    /// let (d, trace) = p.decide_traced(&head);
    /// assert!(d.refusal().is_some());
    /// assert!(trace.unwrap().reason.contains("https://b.example"));
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn decide_traced(&self, req: &RequestHead<'_>) -> (Decision, Option<crate::Trace>) {
        let debug = tracing::enabled!(target: "corsguard", tracing::Level::DEBUG);
        if !debug {
            let d = self.decide_with(req, &mut NoTrace);
            if !d.is_refused() {
                return (d, None);
            }
        }
        let (d, trace) = self.explain(req);
        if debug {
            tracing::debug!(target: "corsguard", kind = %d.kind, rule = %trace.rule, verdict = %trace.verdict, "{trace}");
        }
        log_refusal(req, &d, &trace.reason);
        let keep = debug || d.is_refused();
        (d, keep.then_some(trace))
    }

    /// Decides a request without logging or tracing anything: for callers that account for
    /// refusals themselves (the gateway rate-limits its log lines and keeps its own record;
    /// it writes the same line with [`Decision::log_refusal`]).
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
    /// let o = http::HeaderValue::from_static("https://b.example");
    /// let mut head = corsguard::adapter::RequestHead::new("GET", "/");
    /// head.push_header(&http::header::ORIGIN, &o);
    /// let d = p.decide_silent(&head);
    /// assert_eq!(d.refusal(), Some(corsguard::Refusal::OriginNotAllowed));
    /// d.log_refusal(&head); // the info line `decide` would have written
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn decide_silent(&self, req: &RequestHead<'_>) -> Decision {
        self.decide_with(req, &mut NoTrace)
    }

    pub(crate) fn decide_with<T: Tracer>(&self, req: &RequestHead<'_>, t: &mut T) -> Decision {
        let rule = self.rule_for(req.path, req.host);
        t.rule(rule);
        decide_rule(rule, req, t)
    }
}

fn decide_rule<T: Tracer>(rule: &Rule, req: &RequestHead<'_>, t: &mut T) -> Decision {
    let mut d = decide_rule_cors(rule, req, t);
    if let Some(csrf) = &rule.csrf {
        apply_csrf(csrf, rule.cors.as_ref(), req, &mut d, t);
    }
    d
}

/// The CSRF step, after CORS: an enforced refusal answers 403 instead of calling the
/// application, with the CORS headers CORS gave this request (so an allowed page can read
/// why). Under `cors: false` or shadow mode CORS writes nothing, and neither does the 403.
fn apply_csrf<T: Tracer>(
    c: &crate::csrf::CsrfRule,
    cors: Option<&CorsRule>,
    req: &RequestHead<'_>,
    d: &mut Decision,
    t: &mut T,
) {
    let v = crate::csrf::check(c, cors, &req.csrf_input());
    t.step("csrf", Some(v.refusal().is_none()), || match v {
        CsrfVerdict::Passed(p) => format!("passed: {p}"),
        CsrfVerdict::Refused { refusal, enforced } => format!(
            "{}: {refusal} ({}); fix: {}",
            refusal.code(),
            if enforced {
                "enforce: answered 403, the application is not called"
            } else {
                "report: logged, the application is called"
            },
            refusal.fix()
        ),
        _ => "not checked".into(),
    });
    d.csrf = v;
    if let CsrfVerdict::Refused { enforced: true, .. } = v {
        if d.action == Action::PassThrough {
            d.plan = HeaderPlan::default();
        }
        d.action = Action::Respond(http::StatusCode::FORBIDDEN);
    }
}

fn decide_rule_cors<T: Tracer>(rule: &Rule, req: &RequestHead<'_>, t: &mut T) -> Decision {
    let Some(c) = &rule.cors else {
        t.step("rule", Some(true), || {
            "`cors: false`: left to the application".into()
        });
        return Decision {
            kind: classify(req),
            refusal: None,
            action: Action::PassThrough,
            rule_index: rule.index,
            shadow: false,
            cors_enabled: false,
            plan: HeaderPlan::default(),
            csrf: CsrfVerdict::NotChecked,
        };
    };
    let mut d = cors::decide_cors(c, req, t);
    d.rule_index = rule.index;
    if c.mode == Mode::Shadow {
        t.step("mode", None, || {
            "shadow mode: decision recorded, response left unchanged".into()
        });
        d.shadow = true;
        d.action = Action::PassThrough;
    }
    d
}

fn classify(req: &RequestHead<'_>) -> RequestKind {
    if req.origin.is_none() {
        RequestKind::NonCors
    } else if req.method == "OPTIONS" && req.acrm.is_some() {
        RequestKind::Preflight
    } else {
        RequestKind::Actual
    }
}
