//! The origin step: admit the `Origin` (at constant cost for hostile values) and choose the
//! `Access-Control-Allow-Origin` value.

use http::header::HeaderValue;

use super::{Refusal, RequestHead};
use crate::policy::CorsRule;
use crate::trace::Tracer;

/// The ACAO value for an admitted `origin` (the constant one, else the request's own line),
/// or why it is refused.
#[inline]
pub(super) fn check<T: Tracer>(
    c: &CorsRule,
    req: &RequestHead<'_>,
    origin: &[u8],
    t: &mut T,
) -> Result<HeaderValue, Refusal> {
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
    admit?;
    match &c.constant_acao {
        Some(v) => Ok(v.clone()),
        None => match req.origin_value {
            Some(v) => Ok(v.clone()),
            None => HeaderValue::from_bytes(origin).map_err(|_| Refusal::OriginNotAllowed),
        },
    }
}
