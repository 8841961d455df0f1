//! `allow_headers` and `expose_headers`: header names, with the names browsers never send
//! or never expose.

use crate::Code;
use crate::config::raw::RawOptions;
use crate::headers;

use super::{Diags, closest};

/// The compiled `allow_headers` of one option set.
pub(super) struct RequestHeaders {
    /// `*` is listed.
    pub(super) any: bool,
    /// The listed names, lower-cased (only `authorization` is kept beside `*`).
    pub(super) names: Vec<String>,
    /// `authorization` is listed (the wildcard never covers it).
    pub(super) authorization_listed: bool,
}

/// Compiles `allow_headers` of one effective option set.
pub(super) fn request(o: &RawOptions, d: &mut Diags) -> RequestHeaders {
    let mut headers_any = false;
    let mut header_names: Vec<String> = Vec::new();
    let mut authorization_listed = false;
    if let Some(list) = &o.allow_headers {
        for h in &list.value {
            let v = h.value.trim();
            if v == "*" {
                headers_any = true;
                continue;
            }
            let lower = v.to_ascii_lowercase();
            if !headers::is_token(v.as_bytes()) {
                d.error(
                    Code::HeaderInvalid,
                    &h.loc,
                    format!("`{v}` is not a valid header name"),
                    None,
                );
                continue;
            }
            if headers::is_forbidden_request_header(&lower) {
                d.error(
                    Code::HeaderForbidden,
                    &h.loc,
                    format!("`{v}` is a forbidden request header: browsers set it themselves and never send it in Access-Control-Request-Headers"),
                    Some("remove it".into()),
                );
                continue;
            }
            if headers::is_cors_response_header(&lower) {
                d.error(
                    Code::HeaderResponseName,
                    &h.loc,
                    format!("`{v}` is a CORS *response* header; listing it as an allowed request header is a mistake"),
                    Some("remove it (the browser does not send it)".into()),
                );
                continue;
            }
            if header_names.contains(&lower) {
                d.warn(
                    Code::HeaderDuplicate,
                    &h.loc,
                    format!("`{v}` is listed more than once (names are case-insensitive)"),
                    None,
                );
                continue;
            }
            if lower == "authorization" {
                authorization_listed = true;
            }
            header_names.push(lower);
        }
        if headers_any && header_names.iter().any(|h| h != "authorization") {
            d.warn(
                Code::HeaderWildcardAbsorbs,
                &list.loc,
                "`*` allows every header (except Authorization, which must be listed), so the other entries have no effect".into(),
                None,
            );
            header_names.retain(|h| h == "authorization");
        }
    }

    RequestHeaders {
        any: headers_any,
        names: header_names,
        authorization_listed,
    }
}

/// The compiled `expose_headers` of one option set.
pub(super) struct Exposed {
    /// `*` is listed.
    pub(super) any: bool,
    /// The listed names, lower-cased (empty when `any`).
    pub(super) names: Vec<String>,
}

/// Compiles `expose_headers` of one effective option set.
pub(super) fn exposed(o: &RawOptions, credentials: bool, d: &mut Diags) -> Exposed {
    let mut expose_any = false;
    let mut expose: Vec<String> = Vec::new();
    if let Some(list) = &o.expose_headers {
        for h in &list.value {
            let v = h.value.trim();
            if v == "*" {
                expose_any = true;
                if credentials {
                    let cred_loc = o.allow_credentials.as_ref().map_or(&h.loc, |c| &c.loc);
                    d.error(
                        Code::ExposeWildcardCredentials,
                        closest(&h.loc, cred_loc),
                        "`expose_headers: ['*']` does not work for credentialed requests: browsers then read `*` as a header literally named `*`".into(),
                        Some("list the response headers the client needs".into()),
                    );
                }
                continue;
            }
            let lower = v.to_ascii_lowercase();
            if !headers::is_token(v.as_bytes()) {
                d.error(
                    Code::ExposeInvalid,
                    &h.loc,
                    format!("`{v}` is not a valid header name"),
                    None,
                );
                continue;
            }
            if lower == "set-cookie" || lower == "set-cookie2" {
                d.error(
                    Code::ExposeSetCookie,
                    &h.loc,
                    format!("`{v}` can never be exposed to scripts"),
                    Some("remove it".into()),
                );
                continue;
            }
            if headers::is_safelisted_response_header(&lower) {
                d.warn(
                    Code::ExposeSafelisted,
                    &h.loc,
                    format!("`{v}` is always readable by scripts; listing it has no effect"),
                    Some("remove it".into()),
                );
                continue;
            }
            if expose.contains(&lower) {
                d.warn(
                    Code::ExposeDuplicate,
                    &h.loc,
                    format!("`{v}` is listed more than once"),
                    None,
                );
                continue;
            }
            expose.push(lower);
        }
        if expose_any && !expose.is_empty() {
            d.warn(
                Code::ExposeWildcardAbsorbs,
                &list.loc,
                "`*` exposes every header, so the other entries have no effect".into(),
                None,
            );
            expose.clear();
        }
    }

    Exposed {
        any: expose_any,
        names: expose,
    }
}
