//! The headers step of a preflight: `Access-Control-Request-Headers`, parsed leniently
//! within bounds, answered by `Access-Control-Allow-Headers`.

use http::header::HeaderValue;

use super::request::MAX_ACRH_LINES;
use super::{HeaderPlan, Refusal, RequestHead};
use crate::headers::{self, AcrhError};
use crate::policy::CorsRule;
use crate::trace::Tracer;

/// Checks the requested headers; under `*`, reflects the allowed names in `plan` when `*`
/// would not do (credentials, or Authorization requested but not listed).
#[inline]
pub(super) fn check<T: Tracer>(
    c: &CorsRule,
    req: &RequestHead<'_>,
    plan: &mut HeaderPlan,
    t: &mut T,
) -> Result<(), Refusal> {
    let lines = req.request_header_lines();
    let (result, wants_authorization) = judge(c, req, lines);
    t.headers(c, lines, &result);
    // Only a parsed (so bounded) value is looked at again: a hostile one is never walked.
    if c.headers_any
        && matches!(result, Ok(()) | Err((Refusal::HeaderNotAllowed, _)))
        && (c.credentials || (wants_authorization && !c.authorization_listed))
        && lines.iter().any(|l| !headers::trim_ows(l).is_empty())
    {
        // Reflect the allowed requested names: `*` is literal under credentials, and
        // Chromium still lets `*` cover Authorization, which the spec forbids; either way
        // Authorization is reflected only when listed.
        plan.acah = reflect_names(lines, |n| {
            c.authorization_listed || !n.eq_ignore_ascii_case(b"authorization")
        });
    }
    result.map_err(|(r, _)| r)
}

/// The verdict on the requested names (with the first refused one, or what is malformed),
/// and whether Authorization is among them.
#[inline]
fn judge<'l>(
    c: &CorsRule,
    req: &RequestHead<'_>,
    lines: &[&'l [u8]],
) -> (Result<(), (Refusal, &'l [u8])>, bool) {
    let mut result: Result<(), (Refusal, &[u8])> = Ok(());
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
            if !ok && result.is_ok() {
                result = Err((Refusal::HeaderNotAllowed, name));
            }
            true
        })
    };
    if let Err(e) = parse {
        result = Err((Refusal::MalformedRequestHeaders, e.describe().as_bytes()));
    }
    (result, wants_authorization)
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
