//! `corsguard import istio`: the `corsPolicy` of `VirtualService` HTTP routes (Istio's
//! `networking.istio.io` v1, v1beta1 or v1alpha3).
//!
//! How the semantics are carried over:
//! - `http[]` routes are tried in order, as corsguard's rules are.
//! - `uri` matches: `prefix` is a plain string prefix (→ `path:` when it ends with `/`, an
//!   anchored `regex:` otherwise), `exact` → an anchored `regex:`, `regex` is RE2 matched in
//!   full (→ anchored); `{exact: /p}` + `{prefix: /p/}` (what `corsguard export istio` writes)
//!   → `path: /p`.
//! - `authority` matches → `hosts:` where they are a host name or `*.domain`.
//! - Origins: `exact` as is, `prefix` → an anchored `regex:` (warned: it accepts any origin
//!   starting with it), `regex` (RE2, full match) → anchored, the export's own shapes back to
//!   `*.` / `:*` patterns; the deprecated `allowOrigin` list is read as exact origins.
//! - A route without `corsPolicy` → `cors: false`.
//! - `unmatchedPreflights` other than `IGNORE` (Istio's default forwards them): refused
//!   preflights reached the application; corsguard answers them itself (warned).

use serde_json::Value;

use super::k8s::{
    complete, documents, escape, full_match_origin, full_match_path, host_of_authority, objects,
    strings,
};
use super::out::{Doc, MatcherOut, Options, OriginOut, RuleOut};

/// Converts the VirtualServices of a manifest.
pub fn convert(text: &str, source: &str) -> Result<Doc, String> {
    let docs = documents(text, source)?;
    let services = objects(&docs, "VirtualService");
    if services.is_empty() {
        return Err(format!("{source}: no `kind: VirtualService` object"));
    }
    let mut doc = Doc::default();
    doc.title.push(format!(
        "Converted by `corsguard import istio` from {source}."
    ));
    doc.title
        .push("Review the warnings, then validate with `corsguard check`.".into());
    doc.warn("hosts, gateways and route destinations are not converted: where corsguard runs and what it forwards to is configured separately (`gateway.upstream` for `corsguard serve`)");
    let mut rules: Vec<RuleOut> = Vec::new();
    for (name, vs) in &services {
        for (i, route) in vs["spec"]["http"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let scope = format!("{name} http[{i}]");
            let options = match route.get("corsPolicy") {
                Some(c) => Some(cors_policy(c, &scope, &mut doc)),
                None => forced_origin(route),
            };
            let Some(matchers) = matchers(route, &scope, &mut doc) else {
                continue;
            };
            for (matcher, hosts) in matchers {
                rules.push(RuleOut {
                    matcher,
                    hosts,
                    cors_off: options.is_none(),
                    options: options.clone().unwrap_or_default(),
                    comment: Some(scope.clone()),
                });
            }
        }
    }
    // A last catch-all route becomes the defaults.
    let last_is_catch_all = rules
        .last()
        .is_some_and(|r| r.matcher == MatcherOut::Prefix("/".into()) && r.hosts.is_empty());
    match rules.pop() {
        Some(r) if last_is_catch_all && !r.cors_off => doc.defaults = r.options,
        Some(r) => {
            rules.push(r);
            doc.warn("the last route is not a catch-all with a corsPolicy: requests no route matches get 404 from Istio; corsguard's defaults allow no origin there");
            doc.defaults.allow_origins = Some(Vec::new());
        }
        None => doc.defaults.allow_origins = Some(Vec::new()),
    }
    doc.paths = rules;
    Ok(doc)
}

/// The route's matches as (matcher, hosts) rules; `None` when one cannot be converted (the
/// route is then left out, warned).
fn matchers(route: &Value, scope: &str, doc: &mut Doc) -> Option<Vec<(MatcherOut, Vec<String>)>> {
    let list = match route["match"].as_array() {
        Some(m) if !m.is_empty() => m.clone(),
        _ => return Some(vec![(MatcherOut::Prefix("/".into()), Vec::new())]),
    };
    let mut out: Vec<(MatcherOut, Vec<String>)> = Vec::new();
    for m in &list {
        if let Some(other) = m
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .find(|k| !matches!(*k, "uri" | "authority" | "name"))
        {
            doc.warn(format!(
                "{scope}: the match on `{other}` has no corsguard equivalent: the route is left out"
            ));
            return None;
        }
        let hosts = match m.get("authority") {
            None => Vec::new(),
            Some(a) => match authority(a) {
                Some(h) => vec![h],
                None => {
                    doc.warn(format!(
                        "{scope}: authority match {a} has no corsguard equivalent (hosts are exact names or `*.domain`): the route is left out"
                    ));
                    return None;
                }
            },
        };
        let matcher = match m.get("uri") {
            None => MatcherOut::Prefix("/".into()),
            Some(u) => uri(u, scope, doc)?,
        };
        // `{exact: /p}` + `{prefix: /p/}`: corsguard's segment-aware prefix.
        if let (Some((MatcherOut::Regex(prev), prev_hosts)), MatcherOut::Prefix(p)) =
            (out.last(), &matcher)
            && *prev_hosts == hosts
            && p.len() > 1
            && *prev == format!("^{}$", escape(p.trim_end_matches('/')))
        {
            let base = p.trim_end_matches('/').to_owned();
            out.pop();
            out.push((MatcherOut::Prefix(base), hosts));
            continue;
        }
        out.push((matcher, hosts));
    }
    Some(out)
}

fn authority(a: &Value) -> Option<String> {
    if let Some(e) = a["exact"].as_str() {
        return Some(e.to_ascii_lowercase());
    }
    a["regex"].as_str().and_then(host_of_authority)
}

/// A `uri` StringMatch as a matcher.
fn uri(u: &Value, scope: &str, doc: &mut Doc) -> Option<MatcherOut> {
    if let Some(p) = u["prefix"].as_str() {
        return Some(if p.ends_with('/') {
            MatcherOut::Prefix(p.to_owned())
        } else {
            MatcherOut::Regex(format!("^{}", escape(p)))
        });
    }
    if let Some(e) = u["exact"].as_str() {
        return Some(MatcherOut::Regex(format!("^{}$", escape(e))));
    }
    if let Some(r) = u["regex"].as_str() {
        return Some(full_match_path(r));
    }
    doc.warn(format!("{scope}: empty uri match: the route is left out"));
    None
}

/// A `corsPolicy` as options.
fn cors_policy(c: &Value, scope: &str, doc: &mut Doc) -> Options {
    let mut o = Options::default();
    let mut origins: Vec<OriginOut> = Vec::new();
    let deprecated = strings(&c["allowOrigin"]);
    if !deprecated.is_empty() {
        doc.warn(format!(
            "{scope}: `allowOrigin` is deprecated (Istio reads it as exact matches); converted as exact origins"
        ));
    }
    for s in deprecated {
        origins.push(OriginOut::Plain(s));
    }
    for m in c["allowOrigins"].as_array().into_iter().flatten() {
        if let Some(e) = m["exact"].as_str() {
            if e == "null" {
                o.allow_null_origin = Some(true);
            } else {
                origins.push(OriginOut::Plain(e.to_owned()));
            }
        } else if let Some(p) = m["prefix"].as_str() {
            doc.warn(format!(
                "{scope}: origin prefix `{p}` accepts every origin that starts with it (e.g. `{p}.evil.example`): converted to the regex `^{}.*$`; prefer listing the origins",
                escape(p)
            ));
            origins.push(OriginOut::Regex(format!("^{}.*$", escape(p))));
        } else if let Some(r) = m["regex"].as_str() {
            origins.push(full_match_origin(r));
        }
    }
    o.allow_origins = Some(origins);
    let methods = strings(&c["allowMethods"]);
    if !methods.is_empty() {
        o.allow_methods = Some(methods);
    }
    let headers = strings(&c["allowHeaders"]);
    if !headers.is_empty() {
        o.allow_headers = Some(headers.iter().map(|h| h.to_ascii_lowercase()).collect());
    }
    let expose = strings(&c["exposeHeaders"]);
    if !expose.is_empty() {
        o.expose_headers = Some(expose.iter().map(|h| h.to_ascii_lowercase()).collect());
    }
    if let Some(d) = c["maxAge"].as_str() {
        match seconds(d) {
            Some(s) if s > 86_400 => {
                doc.warn(format!("{scope}: maxAge {d} is above corsguard's limit of 86400 s: set to 86400 (browsers cap it at 7200 anyway)"));
                o.max_age = Some(86_400);
            }
            Some(s) => o.max_age = Some(s),
            None => doc.warn(format!(
                "{scope}: maxAge `{d}` is not a whole number of seconds: left out"
            )),
        }
    }
    if c["allowCredentials"] == true {
        o.allow_credentials = Some(true);
    }
    if c["unmatchedPreflights"].as_str().unwrap_or("UNSPECIFIED") != "IGNORE" {
        doc.warn(format!(
            "{scope}: unmatchedPreflights is not IGNORE, so Istio forwarded preflights from origins it does not allow to the application; corsguard answers them itself (set `preflight: {{passthrough: true}}` if the application must see them)"
        ));
    }
    complete(&mut o);
    o
}

/// A route without `corsPolicy` that sets a constant `Access-Control-Allow-Origin` (what
/// `corsguard export istio` writes for `forced_allow_origin`).
fn forced_origin(route: &Value) -> Option<Options> {
    let set = route["headers"]["response"]["set"].as_object()?;
    let value = |name: &str| {
        set.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
    };
    let origin = value("access-control-allow-origin")?;
    let mut o = Options {
        forced_allow_origin: Some(origin.to_owned()),
        ..Options::default()
    };
    if value("access-control-allow-credentials") == Some("true") {
        o.allow_credentials = Some(true);
    }
    if let Some(e) = value("access-control-expose-headers") {
        o.expose_headers = Some(super::k8s::comma_list(e));
    }
    Some(o)
}

/// `600s`, `10m`, `1h` → seconds; `None` for fractions or other units.
fn seconds(d: &str) -> Option<i64> {
    let (num, scale) = if let Some(n) = d.strip_suffix("ms") {
        let ms: i64 = n.parse().ok()?;
        return (ms % 1000 == 0).then_some(ms / 1000);
    } else if let Some(n) = d.strip_suffix('s') {
        (n, 1)
    } else if let Some(n) = d.strip_suffix('m') {
        (n, 60)
    } else if let Some(n) = d.strip_suffix('h') {
        (n, 3600)
    } else {
        return None;
    };
    num.parse::<i64>().ok().map(|n| n * scale)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn durations_become_seconds() {
        assert_eq!(seconds("600s"), Some(600));
        assert_eq!(seconds("2m"), Some(120));
        assert_eq!(seconds("1h"), Some(3600));
        assert_eq!(seconds("2000ms"), Some(2));
        assert_eq!(seconds("1500ms"), None);
        assert_eq!(seconds("1.5s"), None);
    }
}
