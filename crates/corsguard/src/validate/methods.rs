//! `allow_methods`: tokens, forbidden methods, the case rules browsers apply.

use crate::Code;
use crate::config::raw::RawOptions;
use crate::headers;

use super::Diags;

/// The compiled `allow_methods` of one option set.
pub(super) struct Methods {
    /// `*` is listed.
    pub(super) any: bool,
    /// The listed methods, as browsers send them (empty when `any`).
    pub(super) list: Vec<String>,
}

/// Compiles `allow_methods` of one effective option set.
pub(super) fn compile(o: &RawOptions, d: &mut Diags) -> Methods {
    let mut methods_any = false;
    let mut methods: Vec<String> = Vec::new();
    if let Some(list) = &o.allow_methods {
        for m in &list.value {
            let v = m.value.trim();
            if v == "*" {
                methods_any = true;
                continue;
            }
            if !headers::is_token(v.as_bytes()) {
                d.error(
                    Code::MethodInvalid,
                    &m.loc,
                    format!("`{v}` is not a valid method name (a token: letters, digits and !#$%&'*+-.^_`|~)"),
                    None,
                );
                continue;
            }
            if headers::is_forbidden_method(v) {
                d.error(
                    Code::MethodForbidden,
                    &m.loc,
                    format!("`{v}` is a forbidden method: browsers never let scripts send it"),
                    Some("remove it".into()),
                );
                continue;
            }
            let v = match headers::normalized_method(v) {
                Some(n) if n != v => {
                    d.warn(
                        Code::MethodNormalized,
                        &m.loc,
                        format!(
                            "browsers upper-case `{v}` before sending it, so it is allowed as `{n}`"
                        ),
                        Some(format!("write `{n}`")),
                    );
                    n.to_string()
                }
                _ => {
                    if v.bytes().any(|b| b.is_ascii_lowercase())
                        && v.bytes().all(|b| !b.is_ascii_uppercase())
                    {
                        d.warn(
                            Code::MethodCase,
                            &m.loc,
                            format!("methods are case-sensitive: `{v}` allows only requests made with exactly `{v}`; `fetch(url, {{method: '{}'}})` sends `{}`", v.to_ascii_uppercase(), v.to_ascii_uppercase()),
                            Some(format!("did you mean `{}`?", v.to_ascii_uppercase())),
                        );
                    }
                    v.to_string()
                }
            };
            if methods.contains(&v) {
                d.warn(
                    Code::MethodDuplicate,
                    &m.loc,
                    format!("`{v}` is listed more than once"),
                    None,
                );
                continue;
            }
            methods.push(v);
        }
        if methods_any && !methods.is_empty() {
            d.warn(
                Code::MethodWildcardAbsorbs,
                &list.loc,
                "`*` allows every method, so the other entries have no effect".into(),
                None,
            );
            methods.clear();
        }
    }

    Methods {
        any: methods_any,
        list: methods,
    }
}
