//! `corsguard export gateway-api`: an `HTTPRoute` (gateway.networking.k8s.io/v1) with one
//! rule per policy rule, each carrying the `CORS` filter of Gateway API v1.5's Standard
//! channel (GEP-1767). Rules restricted to `hosts:` become extra routes with those
//! `hostnames` (and every host-less rule after them, in order), as the Envoy export does with
//! virtual hosts.
//!
//! The filter decides less than corsguard and cannot say some things at all:
//! - no regular expressions in `allowOrigins`, only `scheme://host[:port]` with a leading
//!   `*.` wildcard, at most 64 entries, no `null`, no "any port" → an error (exit 1);
//! - methods outside the API's enum (`PURGE`) → an error;
//! - `maxAge` has a minimum of 1 and a default of 5 s: the export always sets it, and warns
//!   when corsguard would send no `Access-Control-Max-Age` or `0`;
//! - rule precedence is by match specificity (longest prefix), not list order; regular
//!   expression matches are implementation-specific.
//!
//! Everything else that differs is a warning.

use std::fmt::Write as _;

use corsguard::OnReject;

use super::super::model::{
    CorsModel, HostPattern, OriginEntry, PathMatch, PolicyModel, PortPattern, RuleModel,
};
use super::super::{Export, Warnings};
use super::{ANY_ORIGIN_WITHOUT_ORIGIN, K8sOptions, common_warnings, flow, header, metadata, q};

/// The methods `HTTPMethodWithWildcard` accepts (Gateway API v1.5, `allowMethods` enum).
pub const METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "*",
];

/// `allowOrigins`, `allowHeaders` and `exposeHeaders` take at most this many entries.
pub const MAX_LIST: usize = 64;

/// An `HTTPRoute` takes at most this many rules.
pub const MAX_RULES: usize = 16;

/// The `maxAge` the API applies when the field is absent.
pub const DEFAULT_MAX_AGE: i64 = 5;

/// Renders the `HTTPRoute` document(s).
pub fn export(model: &PolicyModel, opts: &K8sOptions) -> Result<Export, String> {
    let mut w = Warnings::default();
    w.push(
        None,
        "the gateway answers allowed preflights itself with 200 or 204 (implementation-specific; corsguard's preflight status is not exported) and need not check the requested method or headers: the browser enforces the lists",
    );
    w.push(
        None,
        "a preflight from a refused origin is answered by the gateway (Envoy Gateway: 200 with Access-Control-Allow-Methods/-Headers/-Max-Age/-Credentials but no Access-Control-Allow-Origin, so the browser still blocks it); corsguard sends no CORS headers",
    );
    w.push(
        None,
        "whether `Vary: Origin` is sent is implementation-specific (Envoy Gateway sends none, envoy#35873)",
    );
    w.push(
        None,
        "the application's own CORS headers pass through the gateway (corsguard replaces them), also on refused requests",
    );
    common_warnings(model, "Gateway API", &mut w);

    let mut patterns: Vec<HostPattern> = Vec::new();
    for r in &model.rules {
        for h in &r.hosts {
            if !patterns.contains(h) {
                patterns.push(h.clone());
            }
        }
    }
    let mut docs: Vec<(String, Vec<String>, Vec<&RuleModel>)> = Vec::new();
    for p in &patterns {
        let rules: Vec<&RuleModel> = model
            .rules
            .iter()
            .filter(|r| r.hosts.is_empty() || r.hosts.iter().any(|h| p.within(h)))
            .collect();
        let suffix = p.text().replace("*.", "any.").replace('.', "-");
        docs.push((format!("{}-{suffix}", opts.name), vec![p.text()], rules));
    }
    let hostless: Vec<&RuleModel> = model.rules.iter().filter(|r| r.hosts.is_empty()).collect();
    docs.push((opts.name.clone(), opts.hostnames.clone(), hostless));

    let mut body = String::new();
    for (name, hostnames, rules) in &docs {
        if rules.len() > MAX_RULES {
            return Err(format!(
                "an HTTPRoute takes at most {MAX_RULES} rules; `{name}` would need {}: split the policy",
                rules.len()
            ));
        }
        precedence_warnings(rules, &mut w);
        body.push_str("---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n");
        metadata(&mut body, name, opts.namespace.as_deref());
        body.push_str("spec:\n");
        if !opts.parent_refs.is_empty() {
            body.push_str("  parentRefs:\n");
            for p in &opts.parent_refs {
                let _ = writeln!(body, "    - name: {}", q(&p.name));
                if let Some(ns) = &p.namespace {
                    let _ = writeln!(body, "      namespace: {}", q(ns));
                }
                if let Some(s) = &p.section {
                    let _ = writeln!(body, "      sectionName: {}", q(s));
                }
            }
        }
        if !hostnames.is_empty() {
            let _ = writeln!(body, "  hostnames: {}", flow(hostnames));
        }
        body.push_str("  rules:\n");
        for r in rules {
            rule(&mut body, r, opts, &mut w)?;
        }
    }

    let mut out = String::new();
    header(
        &mut out,
        "gateway-api",
        &opts.source_name,
        "HTTPRoute (gateway.networking.k8s.io/v1) with the CORS filter of Gateway API v1.5 (Standard channel). Apply with `kubectl apply -f`.",
        &w,
    );
    if opts.parent_refs.is_empty() {
        out.push_str(
            "# No --parent-ref: the routes attach to no Gateway until you add spec.parentRefs.\n",
        );
    }
    out.push_str(&body);
    Ok(Export {
        text: out,
        warnings: w,
    })
}

/// One `rules[]` entry: the path match, the CORS filter, the backend.
fn rule(
    out: &mut String,
    r: &RuleModel,
    opts: &K8sOptions,
    w: &mut Warnings,
) -> Result<(), String> {
    let (kind, value) = path_match(r, w);
    let _ = writeln!(out, "    # {}: {}", r.name, r.path.describe());
    let _ = writeln!(out, "    - name: {}", q(&rule_name(r)));
    let _ = writeln!(
        out,
        "      matches:\n        - path: {{ type: {kind}, value: {} }}",
        q(&value)
    );
    let filter = match &r.cors {
        Some(c) if c.mode != corsguard::Mode::Shadow => Some(cors_filter(&r.name, c, w)?),
        _ => None,
    };
    match filter {
        Some(f) => {
            out.push_str("      filters:\n        - type: CORS\n          cors:\n");
            out.push_str(&f);
        }
        None => out.push_str("      # no CORS filter: the application's headers pass through\n"),
    }
    let b = &opts.backend;
    let _ = writeln!(out, "      backendRefs:\n        - name: {}", q(&b.name));
    if let Some(ns) = &b.namespace {
        let _ = writeln!(out, "          namespace: {}", q(ns));
    }
    let _ = writeln!(out, "          port: {}", b.port);
    Ok(())
}

/// `paths-0`, `defaults`: a `SectionName`, unique within the route.
fn rule_name(r: &RuleModel) -> String {
    r.name.replace('[', "-").replace(']', "")
}

/// The rule's path as an `HTTPPathMatch` (type, value).
fn path_match(r: &RuleModel, w: &mut Warnings) -> (&'static str, String) {
    match &r.path {
        _ if r.name == "defaults" => ("PathPrefix", "/".into()),
        PathMatch::All => ("PathPrefix", "/".into()),
        PathMatch::Prefix(p) if valid_path_value(p) => {
            if p.ends_with('/') && p.len() > 1 {
                w.push(
                    Some(&r.name),
                    &format!("path `{p}` becomes PathPrefix `{p}`, which Gateway API also matches for `{}` itself (a trailing `/` is ignored); corsguard does not", p.trim_end_matches('/')),
                );
            }
            ("PathPrefix", p.clone())
        }
        PathMatch::Glob { .. } | PathMatch::Prefix(_) => {
            regex_warning(r, w);
            ("RegularExpression", r.path.to_regex())
        }
        PathMatch::Regex(re) => {
            regex_warning(r, w);
            ("RegularExpression", format!(".*(?:{re}).*"))
        }
    }
}

fn regex_warning(r: &RuleModel, w: &mut Warnings) {
    w.push(
        Some(&r.name),
        "the path becomes a RegularExpression match, whose dialect and precedence are implementation-specific (Envoy Gateway: RE2, full match); it is written so that full-match and search dialects both keep corsguard's semantics",
    );
}

/// The CEL rules of `HTTPPathMatch` for `Exact`/`PathPrefix` values.
pub fn valid_path_value(p: &str) -> bool {
    let chars_ok = {
        let b = p.as_bytes();
        let mut i = 0;
        let mut ok = !b.is_empty();
        while ok && i < b.len() {
            let c = b[i];
            if c == b'%' {
                ok = b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
                i += 3;
            } else {
                ok = c.is_ascii_alphanumeric() || b"-/._~!$&'()*+,;=:@".contains(&c);
                i += 1;
            }
        }
        ok
    };
    p.starts_with('/')
        && p.len() <= 1024
        && chars_ok
        && !["//", "/./", "/../", "%2f", "%2F", "#"]
            .iter()
            .any(|s| p.contains(s))
        && !p.ends_with("/..")
        && !p.ends_with("/.")
}

/// Corsguard's first-match order against Gateway API's "longest prefix wins": a later rule
/// whose prefix lies under an earlier one is shadowed in corsguard but preferred by the
/// gateway.
fn precedence_warnings(rules: &[&RuleModel], w: &mut Warnings) {
    let prefix = |r: &RuleModel| match &r.path {
        PathMatch::Prefix(p) if r.name != "defaults" && valid_path_value(p) => Some(p.clone()),
        _ => None,
    };
    let regexes = rules
        .iter()
        .filter(|r| matches!(r.path, PathMatch::Glob { .. } | PathMatch::Regex(_)))
        .count();
    if regexes > 0 && rules.len() > 1 {
        w.push(
            None,
            "Gateway API orders matches by specificity (Exact, then the longest PathPrefix), not by list order, and the precedence of RegularExpression matches is implementation-specific: where a regex or glob rule overlaps another rule, the gateway may pick a different rule than corsguard (which tries them in order)",
        );
    }
    for (i, a) in rules.iter().enumerate() {
        let Some(pa) = prefix(a) else { continue };
        for b in rules.iter().skip(i + 1) {
            let Some(pb) = prefix(b) else { continue };
            let base = pa.trim_end_matches('/');
            let under = pb.len() > pa.len()
                && pb.starts_with(base)
                && pb.as_bytes().get(base.len()) == Some(&b'/');
            if under {
                w.push(
                    Some(&b.name),
                    &format!("corsguard never reaches this rule under `{pa}` ({} comes first), but Gateway API prefers the longer prefix `{pb}`", a.name),
                );
            }
        }
    }
}

/// An origin as a `CORSOrigin` (`http(s)://[*.]host[:port]`), or why it cannot be one.
fn cors_origin(o: &OriginEntry) -> Result<String, String> {
    match o {
        OriginEntry::Regex(r) => Err(format!(
            "origin regex `{r}` cannot be expressed: Gateway API's allowOrigins has no regular expressions (list the origins, or use a `*.` wildcard)"
        )),
        OriginEntry::Exact(s) => {
            if origin_shape_ok(s) {
                Ok(s.clone())
            } else {
                Err(format!(
                    "origin `{s}` cannot be expressed: a CORSOrigin is http(s)://host[:port] with a DNS name or IPv4 address"
                ))
            }
        }
        OriginEntry::Wildcard { port, .. } if *port == PortPattern::Any => Err(format!(
            "origin `{}` cannot be expressed: Gateway API has no \"any port\" pattern (list the ports you use)",
            o.text()
        )),
        OriginEntry::Wildcard { .. } => {
            let t = o.text();
            if origin_shape_ok(&t) {
                Ok(t)
            } else {
                Err(format!(
                    "origin `{t}` cannot be expressed: a CORSOrigin is http(s)://[*.]host[:port]"
                ))
            }
        }
    }
}

/// The `CORSOrigin` pattern of Gateway API v1.5 (see tests/schemas/gateway-api).
fn origin_shape_ok(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    if scheme != "http" && scheme != "https" {
        return false;
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    let port_ok =
        port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    let host = host.strip_prefix("*.").unwrap_or(host);
    let label_ok =
        |l: &str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    port_ok && s.len() <= 253 && host.split('.').all(label_ok)
}

/// The `cors:` block (indented for `filters[].cors`).
fn cors_filter(rule: &str, c: &CorsModel, w: &mut Warnings) -> Result<String, String> {
    let ind = "            ";
    let mut out = String::new();
    if c.constant_acao.is_some() && !c.any_origin {
        return Err(format!(
            "{rule}: forced_allow_origin cannot be expressed: the CORS filter has no constant Access-Control-Allow-Origin"
        ));
    }
    if c.allow_null {
        return Err(format!(
            "{rule}: allow_null_origin cannot be expressed: `null` is not a CORSOrigin"
        ));
    }
    let mut origins = Vec::new();
    if c.any_origin {
        origins.push("*".to_string());
        w.push(
            Some(rule),
            "allow_origins: ['*']: the gateway may echo the request's Origin instead of sending `*`",
        );
        w.push(Some(rule), ANY_ORIGIN_WITHOUT_ORIGIN);
    }
    for o in &c.origins {
        origins.push(cors_origin(o).map_err(|e| format!("{rule}: {e}"))?);
        if matches!(
            o,
            OriginEntry::Wildcard {
                subdomains: true,
                ..
            }
        ) {
            w.push(
                Some(rule),
                "`*.` wildcards: Gateway API's `*` is a greedy left match (Envoy Gateway turns it into `.*`), corsguard's `*.` matches one or more DNS labels",
            );
        }
    }
    if origins.len() > MAX_LIST {
        return Err(format!(
            "{rule}: {} origins, but allowOrigins takes at most {MAX_LIST}",
            origins.len()
        ));
    }
    if !origins.is_empty() {
        let _ = writeln!(out, "{ind}allowOrigins: {}", flow(&origins));
    }
    if c.credentials {
        let _ = writeln!(out, "{ind}allowCredentials: true");
    }
    let methods: Vec<String> = if c.methods_any {
        if !c.credentials {
            w.push(
                Some(rule),
                "allow_methods: ['*']: the gateway may send `*` or reflect the requested method",
            );
        }
        vec!["*".into()]
    } else {
        c.methods.clone()
    };
    if let Some(m) = methods.iter().find(|m| !METHODS.contains(&m.as_str())) {
        return Err(format!(
            "{rule}: method `{m}` cannot be expressed: Gateway API's allowMethods only takes {}",
            METHODS.join(", ")
        ));
    }
    if !methods.is_empty() {
        let _ = writeln!(out, "{ind}allowMethods: {}", flow(&methods));
    }
    let headers: Vec<String> = if c.headers_any {
        w.push(
            Some(rule),
            "allow_headers: ['*']: the gateway may send `*` or reflect Access-Control-Request-Headers, Authorization included (corsguard's `*` never covers Authorization unless it is listed)",
        );
        let mut h = vec!["*".to_string()];
        if c.authorization_listed {
            h.push("authorization".into());
        }
        h
    } else {
        c.headers.clone()
    };
    let expose: Vec<String> = c
        .aceh
        .as_deref()
        .map(|e| e.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    for (what, list) in [("allowHeaders", &headers), ("exposeHeaders", &expose)] {
        if list.len() > MAX_LIST {
            return Err(format!(
                "{rule}: {} entries, but {what} takes at most {MAX_LIST}",
                list.len()
            ));
        }
        if !list.is_empty() {
            let _ = writeln!(out, "{ind}{what}: {}", flow(list));
        }
    }
    let max_age = match c.acma.as_deref().and_then(|m| m.parse::<i64>().ok()) {
        None => {
            w.push(
                Some(rule),
                "no max_age: corsguard sends no Access-Control-Max-Age (browsers cache the preflight for 5 s); Gateway API's default is 5, so the export sets `maxAge: 5` and the gateway sends `Access-Control-Max-Age: 5`",
            );
            DEFAULT_MAX_AGE
        }
        Some(0) => {
            w.push(
                Some(rule),
                "max_age: 0 becomes `maxAge: 1` (Gateway API's minimum): browsers cache the preflight for one second",
            );
            1
        }
        Some(n) => n,
    };
    let _ = writeln!(out, "{ind}maxAge: {max_age}");
    rule_warnings(rule, c, w);
    Ok(out)
}

/// What the filter does differently for this rule, beyond the lists.
fn rule_warnings(rule: &str, c: &CorsModel, w: &mut Warnings) {
    if c.on_reject == OnReject::Forbid {
        w.push(
            Some(rule),
            "on_reject: forbid cannot be expressed: a refused preflight gets 200/204 without CORS headers or 403 (implementation-specific), and refused actual requests still reach the application",
        );
    }
    if c.passthrough {
        w.push(
            Some(rule),
            "preflight.passthrough cannot be expressed: the gateway answers allowed preflights itself",
        );
    }
    if c.private_network {
        w.push(
            Some(rule),
            "allow_private_network cannot be expressed: the gateway sends no Access-Control-Allow-Private-Network",
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn path_values_follow_the_cel_rules() {
        assert!(valid_path_value("/api/v1"));
        assert!(valid_path_value("/a%20b"));
        assert!(!valid_path_value("api"));
        assert!(!valid_path_value("/a//b"));
        assert!(!valid_path_value("/a/../b"));
        assert!(!valid_path_value("/a/%2f"));
        assert!(!valid_path_value("/a/."));
        assert!(!valid_path_value("/a%zz"));
        assert!(!valid_path_value("/a b"));
    }

    #[test]
    fn origins_take_the_cors_origin_shape() {
        assert!(origin_shape_ok("https://app.example.com"));
        assert!(origin_shape_ok("http://127.0.0.1:8080"));
        assert!(origin_shape_ok("https://*.example.org"));
        assert!(!origin_shape_ok("http://[::1]:3000"));
        assert!(!origin_shape_ok("chrome-extension://abc"));
        assert!(!origin_shape_ok("https://a.example.com:123456"));
        let any_port = OriginEntry::Wildcard {
            scheme: "http".into(),
            subdomains: false,
            host: "localhost".into(),
            port: PortPattern::Any,
        };
        assert!(cors_origin(&any_port).unwrap_err().contains("any port"));
    }
}
