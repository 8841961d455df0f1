//! The method step of a preflight: `Access-Control-Request-Method` is a single token,
//! compared byte-exactly (never upper-cased), answered by `Access-Control-Allow-Methods`.

use http::header::HeaderValue;

use super::{HeaderPlan, Refusal, RequestHead};
use crate::headers;
use crate::policy::CorsRule;
use crate::trace::Tracer;

/// Longest `Access-Control-Request-Method` considered; longer ones are refused unread.
const MAX_METHOD_LEN: usize = 64;

/// Checks the requested method; under `*` with credentials, reflects it in `plan`.
#[inline]
pub(super) fn check<T: Tracer>(
    c: &CorsRule,
    req: &RequestHead<'_>,
    plan: &mut HeaderPlan,
    t: &mut T,
) -> Result<(), Refusal> {
    let acrm = req.acrm.unwrap_or_default();
    // Capped before any pass over the bytes: no method is anywhere near this long.
    let result = if req.acrm_lines != 1 || acrm.len() > MAX_METHOD_LEN || !headers::is_token(acrm) {
        Err(Refusal::InvalidRequestMethod)
    } else if headers::is_safelisted_method(acrm)
        || c.methods_any
        || c.methods.iter().any(|m| m.as_bytes() == acrm)
    {
        Ok(())
    } else {
        Err(Refusal::MethodNotAllowed)
    };
    t.method(c, acrm, &result);
    if result.is_ok() && c.methods_any && c.credentials {
        // `*` is literal under credentials: reflect the validated single token instead.
        plan.acam = req
            .acrm_value
            .cloned()
            .or_else(|| HeaderValue::from_bytes(acrm).ok());
    }
    result
}
