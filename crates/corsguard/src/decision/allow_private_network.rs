//! The private network step of a legacy PNA preflight:
//! `Access-Control-Request-Private-Network: true`, answered by
//! `Access-Control-Allow-Private-Network: true`.

use super::{HeaderPlan, Refusal, RequestHead};
use crate::headers;
use crate::policy::CorsRule;
use crate::trace::Tracer;

/// Checks a private network access request; when allowed, sets it in `plan`.
#[inline]
pub(super) fn check<T: Tracer>(
    c: &CorsRule,
    req: &RequestHead<'_>,
    plan: &mut HeaderPlan,
    t: &mut T,
) -> Result<(), Refusal> {
    let result = match req.acrpn {
        // `true` with a little OWS: the length is capped before any pass over the bytes.
        Some(v) if v.len() <= 16 && headers::trim_ows(v) == b"true" => {
            if c.private_network {
                plan.acapn = true;
                Ok(())
            } else {
                Err(Refusal::PrivateNetworkNotAllowed)
            }
        }
        _ => Ok(()),
    };
    if req.acrpn.is_some() {
        t.step("private-network", Some(result.is_ok()), || {
            if result.is_ok() {
                "Access-Control-Request-Private-Network: true allowed (allow_private_network)"
                    .into()
            } else {
                "Access-Control-Request-Private-Network: true, but allow_private_network is off"
                    .into()
            }
        });
    }
    result
}
