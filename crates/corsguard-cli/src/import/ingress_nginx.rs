//! `corsguard import ingress-nginx`: the CORS annotations of ingress-nginx (retired
//! 2026-03-24), from an `Ingress` manifest (several documents allowed) or a plain map of
//! annotations.
//!
//! ingress-nginx's defaults are unsafe, and each one the import carries over or tightens is
//! warned: `cors-allow-origin` defaults to `*` and `cors-allow-credentials` to `true`
//! (corsguard refuses `*` with credentials: credentials are turned off), `cors-max-age` to
//! 1728000 s (above corsguard's limit: 86400). The other defaults (methods, headers) are
//! written out with a note.
//!
//! One Ingress (or an annotations map) becomes the defaults. With several, each Ingress's
//! `host` × `path` becomes a rule (`cors: false` for Ingresses without `enable-cors`), and the
//! defaults allow no origin.

use serde_json::Value;

use super::k8s::{comma_list, documents, escape, objects};
use super::out::{Doc, MatcherOut, Options, OriginOut, RuleOut};

/// The annotation prefix.
pub const PREFIX: &str = "nginx.ingress.kubernetes.io/";

/// ingress-nginx's `cors-allow-methods` default.
pub const DEFAULT_METHODS: &str = "GET, PUT, POST, DELETE, PATCH, OPTIONS";
/// ingress-nginx's `cors-allow-headers` default.
pub const DEFAULT_HEADERS: &str = "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization";
/// ingress-nginx's `cors-max-age` default (20 days).
pub const DEFAULT_MAX_AGE: i64 = 1_728_000;

const KEYS: [&str; 7] = [
    "enable-cors",
    "cors-allow-origin",
    "cors-allow-methods",
    "cors-allow-headers",
    "cors-expose-headers",
    "cors-allow-credentials",
    "cors-max-age",
];

/// Converts an Ingress manifest or an annotations map.
pub fn convert(text: &str, source: &str) -> Result<Doc, String> {
    let docs = documents(text, source)?;
    let mut doc = Doc::default();
    doc.title.push(format!(
        "Converted by `corsguard import ingress-nginx` from {source}."
    ));
    doc.title
        .push("Review the warnings, then validate with `corsguard check`.".into());
    let ingresses = objects(&docs, "Ingress");
    if ingresses.is_empty() {
        let map = docs
            .iter()
            .map(|d| d.get("annotations").unwrap_or(d))
            .find(|d| {
                d.as_object()
                    .is_some_and(|m| m.keys().any(|k| k.starts_with(PREFIX)))
            })
            .ok_or_else(|| {
                format!("{source}: no `kind: Ingress` object and no map of `{PREFIX}*` annotations")
            })?;
        doc.defaults = annotations(map, "annotations", &mut doc);
        return Ok(doc);
    }
    if let [(name, ing)] = ingresses.as_slice() {
        let a = &ing["metadata"]["annotations"];
        doc.defaults = annotations(a, name, &mut doc);
        if ing["spec"]["rules"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r.get("host").is_some()))
        {
            doc.warn(format!("{name}: ingress-nginx applied these settings to the Ingress's hosts and paths only; corsguard's defaults apply to every request it sees"));
        }
        return Ok(doc);
    }
    doc.defaults.allow_origins = Some(Vec::new());
    doc.defaults.note(
        "allow_origins",
        "requests no Ingress rule matches: ingress-nginx answered them with 404",
    );
    for (name, ing) in &ingresses {
        let a = &ing["metadata"]["annotations"];
        let enabled = a[format!("{PREFIX}enable-cors")] == "true";
        let options = enabled.then(|| annotations(a, name, &mut doc));
        for (host, path, kind) in routes(ing) {
            let matcher = match kind.as_str() {
                "Exact" => MatcherOut::Regex(format!("^{}$", escape(&path))),
                _ => MatcherOut::Prefix(path.clone()),
            };
            doc.paths.push(RuleOut {
                matcher,
                hosts: host.into_iter().collect(),
                cors_off: !enabled,
                options: options.clone().unwrap_or_default(),
                comment: Some(format!("{name}: {kind} {path}")),
            });
        }
    }
    Ok(doc)
}

/// (host, path, pathType) of every `spec.rules[].http.paths[]` of an Ingress.
fn routes(ing: &Value) -> Vec<(Option<String>, String, String)> {
    let mut out = Vec::new();
    for r in ing["spec"]["rules"].as_array().into_iter().flatten() {
        let host = r["host"].as_str().map(str::to_ascii_lowercase);
        for p in r["http"]["paths"].as_array().into_iter().flatten() {
            let path = p["path"].as_str().unwrap_or("/").to_owned();
            let kind = p["pathType"].as_str().unwrap_or("Prefix").to_owned();
            out.push((host.clone(), path, kind));
        }
    }
    out
}

/// The CORS annotations of one Ingress as options (every default written out).
fn annotations(a: &Value, scope: &str, doc: &mut Doc) -> Options {
    let get = |k: &str| a[format!("{PREFIX}{k}")].as_str().map(str::to_owned);
    if let Some(m) = a.as_object() {
        for k in m.keys() {
            if let Some(short) = k.strip_prefix(PREFIX)
                && short.starts_with("cors")
                && !KEYS.contains(&short)
            {
                let hint = corsguard::did_you_mean(short, &KEYS)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                doc.warn(format!(
                    "{scope}: `{k}` is not an ingress-nginx CORS annotation{hint}: ignored"
                ));
            }
        }
    }
    let mut o = Options::default();
    if get("enable-cors").as_deref() != Some("true") {
        doc.warn(format!("{scope}: `{PREFIX}enable-cors` is not \"true\": ingress-nginx sends no CORS headers, so the policy allows no origin (the cors-* annotations are ignored)"));
        o.allow_origins = Some(Vec::new());
        return o;
    }
    let credentials = match get("cors-allow-credentials") {
        Some(v) => v.trim() == "true",
        None => true,
    };
    let origin_text = get("cors-allow-origin");
    let mut origins = Vec::new();
    for s in comma_list(origin_text.as_deref().unwrap_or("*")) {
        if s == "*" {
            origins.push(OriginOut::Plain(s));
        } else if s.starts_with("http://") || s.starts_with("https://") {
            if s.contains("*.") {
                doc.warn(format!("{scope}: origin `{s}`: ingress-nginx matched `*.` wildcards with its own case-insensitive regex; corsguard's `*.` matches one or more DNS labels, in lower case"));
            }
            origins.push(OriginOut::Plain(s.to_ascii_lowercase()));
        } else {
            doc.warn(format!("{scope}: origin `{s}` has no scheme (ingress-nginx expects http(s)://host[:port]): left out; add it with its scheme"));
        }
    }
    let star = origins.contains(&OriginOut::Plain("*".into()));
    if origin_text.is_none() {
        doc.warn(format!("{scope}: `cors-allow-origin` is not set: ingress-nginx's default is `*`, every origin (carried over)"));
    }
    match (star, credentials) {
        (true, true) => {
            let why = if get("cors-allow-credentials").is_none() {
                "`cors-allow-credentials` is not set and defaults to true"
            } else {
                "`cors-allow-credentials` is true"
            };
            doc.warn(format!("{scope}: origin `*` and {why}: any website could make credentialed requests (ingress-nginx's unsafe default). corsguard refuses this combination, so credentials are turned off; list the origins you trust and set allow_credentials: true again"));
            o.allow_credentials = Some(false);
            o.note(
                "allow_credentials",
                "ingress-nginx: credentials were on together with origin `*` (unsafe): see the warnings",
            );
        }
        (false, true) => {
            if get("cors-allow-credentials").is_none() {
                doc.warn(format!("{scope}: `cors-allow-credentials` is not set: ingress-nginx's default is true, so credentialed requests are allowed from the listed origins (carried over; set it to false if clients send no cookies)"));
            }
            o.allow_credentials = Some(true);
        }
        (_, false) => o.allow_credentials = Some(false),
    }
    o.allow_origins = Some(origins);
    if !star {
        doc.warn(format!("{scope}: ingress-nginx forwarded preflights from origins not in the list to the application; corsguard answers them itself"));
    }
    let methods = get("cors-allow-methods");
    if methods.is_none() {
        o.note(
            "allow_methods",
            "ingress-nginx's default cors-allow-methods",
        );
    }
    o.allow_methods = Some(
        comma_list(methods.as_deref().unwrap_or(DEFAULT_METHODS))
            .iter()
            .map(|m| m.to_ascii_uppercase())
            .collect(),
    );
    let headers = get("cors-allow-headers");
    if headers.is_none() {
        o.note(
            "allow_headers",
            "ingress-nginx's default cors-allow-headers",
        );
    }
    o.allow_headers = Some(
        comma_list(headers.as_deref().unwrap_or(DEFAULT_HEADERS))
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect(),
    );
    if let Some(e) = get("cors-expose-headers") {
        let list: Vec<String> = comma_list(&e)
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        if !list.is_empty() {
            o.expose_headers = Some(list);
        }
    }
    let max_age = match get("cors-max-age") {
        None => {
            doc.warn(format!("{scope}: `cors-max-age` is not set: ingress-nginx's default is {DEFAULT_MAX_AGE} s (20 days), above corsguard's limit: set to 86400 (browsers cap it at 7200 anyway)"));
            86_400
        }
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if n > 86_400 => {
                doc.warn(format!("{scope}: cors-max-age {n} is above corsguard's limit of 86400: set to 86400 (browsers cap it at 7200 anyway)"));
                86_400
            }
            Ok(n) => n.max(0),
            Err(_) => {
                doc.warn(format!("{scope}: cors-max-age `{v}` is not a number of seconds: ingress-nginx's default {DEFAULT_MAX_AGE} applies, set to 86400"));
                86_400
            }
        },
    };
    o.max_age = Some(max_age);
    o
}
