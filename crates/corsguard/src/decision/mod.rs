//! Classify a request (`#cors-request`, `#cors-preflight-request`), decide it against the
//! matching rule, and render the decision into response headers.
//!
//! One file per concern, in the style of tower-http's `cors` module:
//!
//! - [`request`]: the borrowed view of a request ([`RequestHead`]);
//! - [`outcome`]: what a decision says ([`Decision`], [`Action`], [`Refusal`]);
//! - [`response`]: writing it into a response; [`vary`]: merging `Vary`;
//! - [`same_origin`]: whether the request's `Origin` is its own;
//! - [`trust`]: origin trust ([`Policy::origin_trust`]); [`log`]: refusal log lines.

use http::StatusCode;
use http::header::HeaderValue;

use self::log::log_refusal;
use self::request::MAX_ACRH_LINES;
use self::vary::VaryFlags;
use crate::config::raw::{Mode, OnReject};
use crate::headers::{self, AcrhError};
use crate::policy::{CorsRule, Policy, Rule};
use crate::trace::{NoTrace, Tracer};

/// Longest `Access-Control-Request-Method` considered; longer ones are refused unread.
const MAX_METHOD_LEN: usize = 64;

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
    /// use corsguard::{Policy, RequestHead, Action};
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
        if d.refusal.is_some() {
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
    /// let mut head = corsguard::RequestHead::new("GET", "/");
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
            if d.refusal.is_none() {
                return (d, None);
            }
        }
        let (d, trace) = self.explain(req);
        if debug {
            tracing::debug!(target: "corsguard", kind = %d.kind, rule = %trace.rule, verdict = %trace.verdict, "{trace}");
        }
        log_refusal(req, &d, &trace.reason);
        let keep = debug || d.refusal.is_some();
        (d, keep.then_some(trace))
    }

    /// Decides a request without logging or tracing anything: for callers that account for
    /// refusals themselves (the gateway rate-limits its log lines and keeps its own record;
    /// it writes the same line with [`Decision::log_refusal`]).
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
    /// let o = http::HeaderValue::from_static("https://b.example");
    /// let mut head = corsguard::RequestHead::new("GET", "/");
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
        };
    };
    let mut d = decide_cors(c, req, t);
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

fn decide_cors<T: Tracer>(c: &CorsRule, req: &RequestHead<'_>, t: &mut T) -> Decision {
    let constant = c.constant_acao.is_some();
    let base_vary = if constant {
        VaryFlags::empty()
    } else {
        VaryFlags::ORIGIN
    };
    let mut d = Decision {
        kind: classify(req),
        refusal: None,
        action: Action::Forward,
        rule_index: None,
        shadow: false,
        cors_enabled: true,
        plan: HeaderPlan {
            vary: base_vary,
            owns: true,
            ..HeaderPlan::default()
        },
    };
    t.step("classify", None, || match d.kind {
        RequestKind::NonCors => "no Origin header: not a CORS request".into(),
        RequestKind::Preflight => "OPTIONS with Origin and Access-Control-Request-Method: a CORS preflight".into(),
        RequestKind::Actual if req.method == "OPTIONS" => "OPTIONS without Access-Control-Request-Method: not a preflight, an actual request for the application".into(),
        _ => format!("{} with Origin: an actual CORS request", req.method),
    });
    let Some(origin) = req.origin else {
        constant_headers(c, &mut d.plan);
        return d;
    };

    if c.skip_same_origin && req.origin_lines == 1 && req.is_same_origin(origin) {
        t.step("same-origin", Some(true), || {
            "Origin equals the request's own origin: not cross-origin, passed through".into()
        });
        d.kind = RequestKind::SameOrigin;
        constant_headers(c, &mut d.plan);
        return d;
    }

    // --- origin (constant cost for hostile values)
    let admit = if req.origin_lines > 1 && !c.any_origin {
        Err(Refusal::MultipleOrigins)
    } else if origin.len() > crate::origin::MAX_ORIGIN_LEN && !c.any_origin {
        Err(Refusal::OriginTooLong)
    } else {
        match c.origin_allowed(origin) {
            Some(a) => Ok(a),
            None if origin == b"null" => Err(Refusal::NullOrigin),
            None => Err(Refusal::OriginNotAllowed),
        }
    };
    t.origin(c, origin, &admit);
    let admit = match admit {
        Ok(a) => a,
        Err(r) => return refuse(d, c, r, t),
    };
    let acao = match &c.constant_acao {
        Some(v) => v.clone(),
        None => match (req.origin_value, admit) {
            (Some(v), _) => v.clone(),
            (None, _) => match HeaderValue::from_bytes(origin) {
                Ok(v) => v,
                Err(_) => return refuse(d, c, Refusal::OriginNotAllowed, t),
            },
        },
    };

    if d.kind == RequestKind::Actual {
        d.plan.acao = Some(acao);
        d.plan.acac = c.credentials;
        d.plan.aceh = c.aceh.clone();
        return d;
    }

    // --- preflight
    if c.passthrough {
        t.step("preflight", None, || {
            "preflight.passthrough: forwarded to the application, headers added to its answer"
                .into()
        });
    }
    let vary_acrm = c.on_reject == OnReject::Forbid || (c.methods_any && c.credentials);
    let vary_acrh = c.on_reject == OnReject::Forbid || c.headers_any;
    let vary_acrpn = c.on_reject == OnReject::Forbid || c.private_network;
    if vary_acrm {
        d.plan.vary.insert(VaryFlags::ACRM);
    }
    if vary_acrh {
        d.plan.vary.insert(VaryFlags::ACRH);
    }
    if vary_acrpn {
        d.plan.vary.insert(VaryFlags::ACRPN);
    }
    d.plan.acao = Some(acao);
    d.plan.acac = c.credentials;
    d.plan.acma = c.acma.clone();
    d.plan.acam = c.acam.clone();
    d.plan.acah = c.acah.clone();
    d.action = if c.passthrough {
        Action::Forward
    } else {
        Action::Respond(c.preflight_status)
    };

    // method: a single token, compared byte-exactly (never upper-cased)
    let acrm = req.acrm.unwrap_or_default();
    // Capped before any pass over the bytes: no method is anywhere near this long.
    let method_result =
        if req.acrm_lines != 1 || acrm.len() > MAX_METHOD_LEN || !headers::is_token(acrm) {
            Err(Refusal::InvalidRequestMethod)
        } else if headers::is_safelisted_method(acrm)
            || c.methods_any
            || c.methods.iter().any(|m| m.as_bytes() == acrm)
        {
            Ok(())
        } else {
            Err(Refusal::MethodNotAllowed)
        };
    t.method(c, acrm, &method_result);
    if method_result.is_ok() && c.methods_any && c.credentials {
        // `*` is literal under credentials: reflect the validated single token instead.
        d.plan.acam = req
            .acrm_value
            .cloned()
            .or_else(|| HeaderValue::from_bytes(acrm).ok());
    }

    // headers: bounded, lenient parse
    let lines = req.request_header_lines();
    let mut header_result: Result<(), (Refusal, &[u8])> = Ok(());
    let mut wants_authorization = false;
    let parse = if req.acrh_lines > MAX_ACRH_LINES {
        Err(AcrhError::TooManyLines)
    } else {
        headers::for_each_acrh_name(lines, |name| {
            if name.eq_ignore_ascii_case(b"authorization") {
                wants_authorization = true;
            }
            // `*` never covers Authorization, with or without credentials: it is granted
            // only when listed (Fetch #cors-non-wildcard-request-header-name).
            let ok = if c.headers_any {
                !name.eq_ignore_ascii_case(b"authorization") || c.authorization_listed
            } else {
                c.headers.contains(name)
            };
            if !ok && header_result.is_ok() {
                header_result = Err((Refusal::HeaderNotAllowed, name));
            }
            true
        })
    };
    if let Err(e) = parse {
        header_result = Err((Refusal::MalformedRequestHeaders, e.describe().as_bytes()));
    }
    t.headers(c, lines, &header_result);
    // Only a parsed (so bounded) value is looked at again: a hostile one is never walked.
    if c.headers_any
        && matches!(header_result, Ok(()) | Err((Refusal::HeaderNotAllowed, _)))
        && (c.credentials || (wants_authorization && !c.authorization_listed))
        && lines.iter().any(|l| !headers::trim_ows(l).is_empty())
    {
        // Reflect the allowed requested names: `*` is literal under credentials, and
        // Chromium still lets `*` cover Authorization, which the spec forbids; either way
        // Authorization is reflected only when listed.
        d.plan.acah = reflect_names(lines, |n| {
            c.authorization_listed || !n.eq_ignore_ascii_case(b"authorization")
        });
    }

    // private network access (legacy PNA preflights)
    let pna_result = match req.acrpn {
        // `true` with a little OWS: the length is capped before any pass over the bytes.
        Some(v) if v.len() <= 16 && headers::trim_ows(v) == b"true" => {
            if c.private_network {
                d.plan.acapn = true;
                Ok(())
            } else {
                Err(Refusal::PrivateNetworkNotAllowed)
            }
        }
        _ => Ok(()),
    };
    if req.acrpn.is_some() {
        t.step("private-network", Some(pna_result.is_ok()), || {
            if pna_result.is_ok() {
                "Access-Control-Request-Private-Network: true allowed (allow_private_network)"
                    .into()
            } else {
                "Access-Control-Request-Private-Network: true, but allow_private_network is off"
                    .into()
            }
        });
    }

    let refusal = method_result
        .err()
        .or(header_result.err().map(|(r, _)| r))
        .or(pna_result.err());
    if let Some(r) = refusal {
        d.refusal = Some(r);
        if c.on_reject == OnReject::Forbid {
            d.plan = HeaderPlan {
                vary: d.plan.vary,
                owns: true,
                ..HeaderPlan::default()
            };
            d.action = Action::Respond(StatusCode::FORBIDDEN);
        } else if r == Refusal::InvalidRequestMethod && c.methods_any && c.credentials {
            d.plan.acam = None;
        }
        t.refused(r, c.on_reject);
    }
    d
}

/// `Vary` and constant ACAO/ACAC/ACEH on responses that are not (cross-origin) CORS responses.
fn constant_headers(c: &CorsRule, plan: &mut HeaderPlan) {
    if let Some(v) = &c.constant_acao {
        plan.acao = Some(v.clone());
        plan.acac = c.credentials;
        plan.aceh = c.aceh.clone();
    }
}

fn refuse<T: Tracer>(mut d: Decision, c: &CorsRule, r: Refusal, t: &mut T) -> Decision {
    d.refusal = Some(r);
    if d.kind == RequestKind::Preflight {
        if c.on_reject == OnReject::Forbid {
            d.plan.vary.insert(VaryFlags::ACRM);
            d.plan.vary.insert(VaryFlags::ACRH);
        }
        d.action = match (c.on_reject, c.passthrough) {
            (OnReject::Forbid, _) => Action::Respond(StatusCode::FORBIDDEN),
            (OnReject::Omit, true) => Action::Forward,
            (OnReject::Omit, false) => Action::Respond(c.preflight_status),
        };
    } else if c.on_reject == OnReject::Forbid {
        d.action = Action::Respond(StatusCode::FORBIDDEN);
    }
    if c.on_reject == OnReject::Omit {
        // A constant ACAO goes on every response of the rule.
        constant_headers(c, &mut d.plan);
    }
    t.refused(r, c.on_reject);
    d
}

fn reflect_names(lines: &[&[u8]], keep: impl Fn(&[u8]) -> bool) -> Option<HeaderValue> {
    let mut out: Vec<u8> = Vec::with_capacity(lines.iter().map(|l| l.len()).sum());
    let _ = headers::for_each_acrh_name(lines, |n| {
        if keep(n) {
            if !out.is_empty() {
                out.push(b',');
            }
            out.extend(n.iter().map(u8::to_ascii_lowercase));
        }
        true
    });
    if out.is_empty() {
        None
    } else {
        HeaderValue::from_bytes(&out).ok()
    }
}
