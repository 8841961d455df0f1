//! One effective option set (the defaults overlaid with a rule's own) → a [`CorsRule`]:
//! the option groups in their own modules, the scalar options here, and the header values
//! every response reuses, built once.

use http::{HeaderValue, StatusCode};

use crate::Code;
use crate::config::raw::{Mode, OnReject, RawOptions};
use crate::headers::NameSet;
use crate::origin::{self, OriginMatcher, OriginPattern};
use crate::policy::CorsRule;

use super::headers::{self, Exposed, RequestHeaders};
use super::methods::{self, Methods};
use super::{Diags, hv, origins, report_pattern_problems};

/// Compiles one effective option set. `rule` names the rule for messages.
pub(super) fn compile_options(o: &RawOptions, rule: &str, d: &mut Diags) -> Option<CorsRule> {
    let credentials = o.allow_credentials.as_ref().is_some_and(|v| v.value);
    let allow_null = o.allow_null_origin.as_ref().is_some_and(|v| v.value);
    let origins = origins::compile(o, rule, credentials, allow_null, d);
    let methods = methods::compile(o, d);
    let req = headers::request(o, d);
    let mut exposed = headers::exposed(o, credentials, d);
    let max_age = max_age(o, d);
    let preflight_status = preflight_status(o, d);
    let constant_acao = constant_acao(o, credentials, origins.any, d);
    let HeaderValues {
        acam,
        acah,
        aceh,
        acma,
    } = header_values(&methods, &req, &exposed, credentials, max_age);
    if exposed.any && !credentials {
        exposed.names = vec!["*".into()];
    }

    let matcher = OriginMatcher::new(&origins.patterns);
    Some(CorsRule {
        origins: origins.patterns,
        matcher,
        any_origin: origins.any,
        allow_null,
        methods_any: methods.any,
        methods: methods.list,
        headers_any: req.any,
        headers: NameSet::new(req.names),
        authorization_listed: req.authorization_listed,
        credentials,
        private_network: o.allow_private_network.as_ref().is_some_and(|v| v.value),
        skip_same_origin: o.skip_same_origin.as_ref().is_none_or(|v| v.value),
        preflight_status,
        passthrough: o.preflight_passthrough.as_ref().is_some_and(|v| v.value),
        on_reject: o.on_reject.as_ref().map_or(OnReject::Omit, |v| v.value),
        mode: o.mode.as_ref().map_or(Mode::Enforce, |v| v.value),
        forced_acao: o.forced_allow_origin.is_some() && constant_acao.is_some(),
        constant_acao,
        acam,
        acah,
        aceh,
        acma,
        expose: exposed.names,
        max_age,
    })
}

/// `max_age`: in range, with the browsers' caps as warnings.
fn max_age(o: &RawOptions, d: &mut Diags) -> Option<u32> {
    let mut max_age = None;
    if let Some(m) = &o.max_age {
        if !(0..=86_400).contains(&m.value) {
            d.error(
                Code::MaxAgeRange,
                &m.loc,
                format!("max_age {} is out of range 0..=86400 seconds", m.value),
                Some(if m.value < 0 {
                    "use 0 to disable preflight caching (negative values are not valid)".into()
                } else {
                    "browsers cap it anyway: Chromium at 7200, Safari at 600".into()
                }),
            );
        } else {
            let v = u32::try_from(m.value).unwrap_or(0);
            if v > 7200 {
                d.warn(
                    Code::MaxAgeChromiumCap,
                    &m.loc,
                    format!("max_age {v} exceeds Chromium's cap of 7200 s (and Safari's 600 s); browsers will use their cap"),
                    Some("use 7200, or 600 to be honoured everywhere".into()),
                );
            } else if v > 600 {
                d.warn(
                    Code::MaxAgeSafariCap,
                    &m.loc,
                    format!("max_age {v} exceeds Safari's cap of 600 s; Safari will re-send preflights after 600 s"),
                    Some("600 is the largest value every browser honours in full".into()),
                );
            }
            max_age = Some(v);
        }
    }

    max_age
}

/// `preflight_status`: 204 (default) or 200.
fn preflight_status(o: &RawOptions, d: &mut Diags) -> StatusCode {
    let mut preflight_status = StatusCode::NO_CONTENT;
    if let Some(s) = &o.preflight_status {
        match s.value {
            200 => preflight_status = StatusCode::OK,
            204 => {}
            other => d.error(
                Code::PreflightStatus,
                &s.loc,
                format!("preflight status {other} is not supported"),
                Some("use 204 (conventional) or 200 (for old clients)".into()),
            ),
        }
    }

    preflight_status
}

/// The `Access-Control-Allow-Origin` every allowed response carries unchanged:
/// `forced_allow_origin`, or `*` for a credential-less `allow_origins: ['*']`.
fn constant_acao(
    o: &RawOptions,
    credentials: bool,
    any_origin: bool,
    d: &mut Diags,
) -> Option<HeaderValue> {
    let mut constant_acao = None;
    if let Some(f) = &o.forced_allow_origin {
        let (pat, problems) = origin::parse_pattern(&f.value);
        match pat {
            Some(OriginPattern::Any) if credentials => d.error(
                Code::ForcedOriginWildcardCredentials,
                &f.loc,
                "`forced_allow_origin: '*'` cannot be combined with credentials".into(),
                None,
            ),
            Some(OriginPattern::Any) | Some(OriginPattern::Exact(_)) => {
                constant_acao = hv(&f.value)
            }
            Some(_) => d.error(
                Code::ForcedOriginInvalid,
                &f.loc,
                format!(
                    "`{}` must be `*` or one exact origin (no patterns)",
                    f.value
                ),
                None,
            ),
            None => report_pattern_problems(&problems, &f.loc, d),
        }
    } else if any_origin && !credentials {
        constant_acao = Some(HeaderValue::from_static("*"));
    }

    constant_acao
}

/// The precomputed header values (built once here, cloned per request).
struct HeaderValues {
    acam: Option<HeaderValue>,
    acah: Option<HeaderValue>,
    aceh: Option<HeaderValue>,
    acma: Option<HeaderValue>,
}

fn header_values(
    methods: &Methods,
    req: &RequestHeaders,
    exposed: &Exposed,
    credentials: bool,
    max_age: Option<u32>,
) -> HeaderValues {
    let acam = if methods.any {
        (!credentials).then(|| HeaderValue::from_static("*"))
    } else if methods.list.is_empty() {
        None
    } else {
        hv(&methods.list.join(","))
    };
    let acah = if req.any {
        if credentials {
            None
        } else if req.authorization_listed {
            Some(HeaderValue::from_static("*,authorization"))
        } else {
            Some(HeaderValue::from_static("*"))
        }
    } else if req.names.is_empty() {
        None
    } else {
        let mut sorted = req.names.clone();
        sorted.sort();
        hv(&sorted.join(","))
    };
    let aceh = if exposed.any {
        (!credentials).then(|| HeaderValue::from_static("*"))
    } else if exposed.names.is_empty() {
        None
    } else {
        hv(&exposed.names.join(","))
    };
    let acma = max_age.and_then(|m| hv(&m.to_string()));

    HeaderValues {
        acam,
        acah,
        aceh,
        acma,
    }
}
