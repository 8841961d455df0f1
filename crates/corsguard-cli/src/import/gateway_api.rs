//! `corsguard import gateway-api`: the `CORS` filters of `HTTPRoute`s (Gateway API v1.5).
//!
//! How the semantics are carried over:
//! - Gateway API orders matches by specificity (Exact, then the longest PathPrefix, then the
//!   rest), corsguard by list order: the rules are written in the gateway's order.
//! - `PathPrefix` is segment-aware with a trailing `/` ignored → `path:` without the slash;
//!   `Exact` → an anchored `regex:`; `RegularExpression` (implementation-specific; Envoy
//!   Gateway uses RE2 full match) → an anchored `regex:` (warned), `.*(?:R).*` → `R`.
//! - A rule without a `CORS` filter → `cors: false` (the application's headers pass through).
//! - Routes with `hostnames` → rules with `hosts:` (before the host-less rules: the gateway
//!   prefers the route whose hostname matches); rules repeated from the host-less route are
//!   written once.
//! - `maxAge` absent → 5 (the API's default), written out.
//! - A `PathPrefix: /` rule of a route without hostnames becomes the defaults.

use serde_json::Value;

use super::k8s::{complete, documents, escape, full_match_path, objects, strings};
use super::out::{Doc, MatcherOut, Options, OriginOut, RuleOut};

/// One converted `rules[].matches[]` entry, with the gateway's precedence.
struct Converted {
    precedence: (u8, i64),
    rule: RuleOut,
    catch_all: bool,
}

/// Converts the HTTPRoutes of a manifest.
pub fn convert(text: &str, source: &str) -> Result<Doc, String> {
    let docs = documents(text, source)?;
    let routes = objects(&docs, "HTTPRoute");
    if routes.is_empty() {
        return Err(format!("{source}: no `kind: HTTPRoute` object"));
    }
    let mut doc = Doc::default();
    doc.title.push(format!(
        "Converted by `corsguard import gateway-api` from {source}."
    ));
    doc.title
        .push("Review the warnings, then validate with `corsguard check`.".into());
    doc.warn("parentRefs and backendRefs are not converted: where corsguard runs and what it forwards to is configured separately (`gateway.upstream` for `corsguard serve`)");
    let mut hosted: Vec<RuleOut> = Vec::new();
    let mut hostless: Vec<Converted> = Vec::new();
    for (name, route) in &routes {
        let hostnames = strings(&route["spec"]["hostnames"]);
        let mut converted = Vec::new();
        for (i, rule) in route["spec"]["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let scope = format!("{name} rules[{i}]");
            let options = match cors_filter(rule, &scope, &mut doc) {
                Some(o) => Some(o),
                None if has_filter(rule, "CORS") => continue,
                None => None,
            };
            for m in matches(rule) {
                let Some((precedence, matcher)) = path_matcher(&m, &scope, &mut doc) else {
                    continue;
                };
                let catch_all = matcher == MatcherOut::Prefix("/".into());
                converted.push(Converted {
                    precedence,
                    catch_all,
                    rule: RuleOut {
                        matcher,
                        hosts: hostnames.clone(),
                        cors_off: options.is_none(),
                        options: options.clone().unwrap_or_default(),
                        comment: Some(scope.clone()),
                    },
                });
            }
        }
        // Stable: equal precedence keeps the route's order.
        converted.sort_by_key(|c| c.precedence);
        if hostnames.is_empty() {
            hostless.extend(converted);
        } else {
            hosted.extend(converted.into_iter().map(|c| c.rule));
        }
    }
    hostless.sort_by_key(|c| c.precedence);
    // A host route that repeats a host-less rule (as `corsguard export gateway-api` writes
    // them) needs it once, without hosts.
    hosted.retain(|h| {
        !hostless
            .iter()
            .any(|c| c.rule.matcher == h.matcher && same_options(&c.rule, h))
    });
    let mut paths = hosted;
    let mut defaults = None;
    for c in hostless {
        if c.catch_all && defaults.is_none() {
            defaults = Some(c.rule);
        } else {
            paths.push(c.rule);
        }
    }
    match defaults {
        Some(d) if !d.cors_off => doc.defaults = d.options,
        Some(_) => {
            doc.warn("the catch-all rule has no CORS filter: corsguard's defaults allow no origin and replace the application's CORS headers (add `- path: /` with `cors: false` last to keep them)");
            doc.defaults.allow_origins = Some(Vec::new());
        }
        None => {
            doc.warn("no rule matches every path (PathPrefix `/`): the gateway answers other paths with 404; corsguard's defaults allow no origin there");
            doc.defaults.allow_origins = Some(Vec::new());
        }
    }
    doc.paths = paths;
    Ok(doc)
}

fn same_options(a: &RuleOut, b: &RuleOut) -> bool {
    a.cors_off == b.cors_off && format!("{:?}", a.options) == format!("{:?}", b.options)
}

fn has_filter(rule: &Value, kind: &str) -> bool {
    rule["filters"]
        .as_array()
        .is_some_and(|f| f.iter().any(|f| f["type"] == kind))
}

/// The rule's matches (the API's default, PathPrefix `/`, when there are none).
fn matches(rule: &Value) -> Vec<Value> {
    match rule["matches"].as_array() {
        Some(m) if !m.is_empty() => m.clone(),
        _ => vec![serde_json::json!({})],
    }
}

/// A match's path as a corsguard matcher, with the gateway's precedence (lower first).
fn path_matcher(m: &Value, scope: &str, doc: &mut Doc) -> Option<((u8, i64), MatcherOut)> {
    for other in ["headers", "queryParams", "method"] {
        if m.get(other).is_some() {
            doc.warn(format!(
                "{scope}: the match on `{other}` has no corsguard equivalent: the match is left out"
            ));
            return None;
        }
    }
    let path = &m["path"];
    let kind = path["type"].as_str().unwrap_or("PathPrefix");
    let value = path["value"].as_str().unwrap_or("/");
    let len = i64::try_from(value.len()).unwrap_or(i64::MAX);
    match kind {
        "Exact" => Some(((0, 0), MatcherOut::Regex(format!("^{}$", escape(value))))),
        "PathPrefix" => {
            let trimmed = value.trim_end_matches('/');
            let p = if trimmed.is_empty() { "/" } else { trimmed };
            Some(((1, -len), MatcherOut::Prefix(p.to_owned())))
        }
        "RegularExpression" => {
            doc.warn(format!(
                "{scope}: RegularExpression `{value}` is implementation-specific; read as RE2 with full-match semantics (Envoy Gateway), and placed after the exact and prefix matches"
            ));
            Some(((2, 0), full_match_path(value)))
        }
        other => {
            doc.warn(format!(
                "{scope}: unknown path match type `{other}`: the match is left out"
            ));
            None
        }
    }
}

/// The `CORS` filter of a rule as options; `None` without one (or when it is unusable,
/// which is warned).
fn cors_filter(rule: &Value, scope: &str, doc: &mut Doc) -> Option<Options> {
    let filters = rule["filters"].as_array()?;
    let f = filters.iter().find(|f| f["type"] == "CORS")?;
    let Some(c) = f.get("cors") else {
        doc.warn(format!(
            "{scope}: a CORS filter without `cors:` is invalid (the API server refuses it): the rule is left out"
        ));
        return None;
    };
    let mut o = Options::default();
    let origins = strings(&c["allowOrigins"]);
    o.allow_origins = Some(origins.into_iter().map(OriginOut::Plain).collect());
    if c["allowCredentials"] == true {
        o.allow_credentials = Some(true);
    }
    let methods = strings(&c["allowMethods"]);
    o.allow_methods = Some(methods);
    let headers = strings(&c["allowHeaders"]);
    if !headers.is_empty() {
        if headers.iter().any(|h| h == "*") {
            doc.warn(format!(
                "{scope}: allowHeaders `*` may make the gateway reflect every requested header, Authorization included; corsguard's `*` follows the spec and never covers Authorization: list it if clients send it"
            ));
        }
        o.allow_headers = Some(headers.iter().map(|h| h.to_ascii_lowercase()).collect());
    }
    let expose = strings(&c["exposeHeaders"]);
    if !expose.is_empty() {
        o.expose_headers = Some(expose.iter().map(|h| h.to_ascii_lowercase()).collect());
    }
    match c["maxAge"].as_i64() {
        Some(n) => o.max_age = Some(n.clamp(0, 86_400)),
        None => {
            o.max_age = Some(5);
            o.note("max_age", "Gateway API's default maxAge (5 s), written out");
        }
    }
    if let Some(n) = c["maxAge"].as_i64().filter(|n| *n > 86_400) {
        doc.warn(format!(
            "{scope}: maxAge {n} is above corsguard's limit of 86400: set to 86400 (browsers cap it at 7200 anyway)"
        ));
    }
    complete(&mut o);
    Some(o)
}
