//! The decision of a rule with CORS on, as a short sequence of steps: classify, skip a
//! same-origin request, admit the origin, and for a preflight check the method, the
//! headers and private network access, then apply the refusal, if any.
//!
//! The steps are `#[inline]`: they live in their own files, and are compiled into this one
//! function as if written in it (no call, no indirection; `T` stays monomorphised).

use http::StatusCode;
use http::header::HeaderValue;

use super::vary::VaryFlags;
use super::{Action, Decision, HeaderPlan, Refusal, RequestHead, RequestKind, classify};
use super::{allow_headers, allow_methods, allow_origin, allow_private_network, same_origin};
use crate::config::raw::OnReject;
use crate::policy::CorsRule;
use crate::trace::Tracer;

#[inline]
pub(super) fn decide_cors<T: Tracer>(c: &CorsRule, req: &RequestHead<'_>, t: &mut T) -> Decision {
    let mut d = start(c, req, t);
    let Some(origin) = req.origin else {
        constant_headers(c, &mut d.plan);
        return d;
    };
    if same_origin::skip(c, req, origin, t) {
        d.kind = RequestKind::SameOrigin;
        constant_headers(c, &mut d.plan);
        return d;
    }
    let acao = match allow_origin::check(c, req, origin, t) {
        Ok(v) => v,
        Err(r) => return refuse(d, c, r, t),
    };
    if d.kind == RequestKind::Actual {
        allow_actual(c, &mut d.plan, acao);
        return d;
    }
    allow_preflight(c, &mut d, acao, t);
    let method = allow_methods::check(c, req, &mut d.plan, t);
    let headers = allow_headers::check(c, req, &mut d.plan, t);
    let private_network = allow_private_network::check(c, req, &mut d.plan, t);
    if let Some(r) = method.err().or(headers.err()).or(private_network.err()) {
        refuse_preflight(c, &mut d, r, t);
    }
    d
}

/// The decision before any check: the request's kind, `Vary: Origin` unless the ACAO is
/// constant, and the rule's ownership of the CORS headers.
#[inline]
fn start<T: Tracer>(c: &CorsRule, req: &RequestHead<'_>, t: &mut T) -> Decision {
    let constant = c.constant_acao.is_some();
    let base_vary = if constant {
        VaryFlags::empty()
    } else {
        VaryFlags::ORIGIN
    };
    let d = Decision {
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
        csrf: crate::csrf::CsrfVerdict::NotChecked,
    };
    t.step("classify", None, || match d.kind {
        RequestKind::NonCors => "no Origin header: not a CORS request".into(),
        RequestKind::Preflight => "OPTIONS with Origin and Access-Control-Request-Method: a CORS preflight".into(),
        RequestKind::Actual if req.method == "OPTIONS" => "OPTIONS without Access-Control-Request-Method: not a preflight, an actual request for the application".into(),
        _ => format!("{} with Origin: an actual CORS request", req.method),
    });
    d
}

/// The headers of an allowed actual request.
#[inline]
fn allow_actual(c: &CorsRule, plan: &mut HeaderPlan, acao: HeaderValue) {
    plan.acao = Some(acao);
    plan.acac = c.credentials;
    plan.aceh = c.aceh.clone();
}

/// The headers, `Vary` and action of a preflight whose origin is allowed, before its
/// method, headers and private network access are checked.
#[inline]
fn allow_preflight<T: Tracer>(c: &CorsRule, d: &mut Decision, acao: HeaderValue, t: &mut T) {
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
}

/// `Vary` and constant ACAO/ACAC/ACEH on responses that are not (cross-origin) CORS responses.
#[inline]
fn constant_headers(c: &CorsRule, plan: &mut HeaderPlan) {
    if let Some(v) = &c.constant_acao {
        plan.acao = Some(v.clone());
        plan.acac = c.credentials;
        plan.aceh = c.aceh.clone();
    }
}

/// A request whose origin is refused.
#[inline]
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

/// A preflight from an allowed origin refused for its method, headers or private network
/// access: a bare 403 (`on_reject: forbid`), or the refused item's headers left out.
#[inline]
fn refuse_preflight<T: Tracer>(c: &CorsRule, d: &mut Decision, r: Refusal, t: &mut T) {
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
