//! `corsguard export istio`: a `VirtualService` (networking.istio.io/v1) with one `http[]`
//! route per policy rule, in corsguard's order (Istio, like corsguard, takes the first route
//! that matches), each with `corsPolicy` and the response-header edits that make Envoy's CORS
//! filter (which Istio programs) answer like corsguard where it can.
//!
//! Istio's `corsPolicy` is Envoy's `CorsPolicy`: origins are `StringMatch`es (exact, prefix,
//! RE2 regex with full-match semantics), methods and headers are joined into the headers
//! Envoy sends, `unmatchedPreflights: IGNORE` makes Envoy answer refused preflights itself.
//! The differences are the Envoy export's (no `Vary`, 200 preflights, no method/header
//! checks, echoed origins) plus what Istio does not expose (`allow_private_network`, shadow
//! mode); each one is a warning.

use std::fmt::Write as _;

use corsguard::OnReject;

use super::super::model::{
    CorsModel, HostPattern, OriginEntry, PathMatch, PolicyModel, PortPattern, RuleModel,
    escape_regex,
};
use super::super::{Export, Warnings};
use super::{ANY_ORIGIN_WITHOUT_ORIGIN, K8sOptions, common_warnings, flow, header, metadata, q};

/// Renders the `VirtualService`.
pub fn export(model: &PolicyModel, opts: &K8sOptions) -> Result<Export, String> {
    let mut w = Warnings::default();
    w.push(
        None,
        "Istio programs Envoy's CORS filter, which emits no `Vary` (envoy#35873): the routes add `Vary: Origin` with headers.response.add, which appends a separate line instead of merging into the application's `Vary`, and is missing on the preflight replies Envoy generates itself",
    );
    w.push(
        None,
        "Envoy answers every allowed preflight itself with 200 (corsguard's preflight status is ignored) and never checks the requested method or headers: the browser enforces the lists",
    );
    w.push(
        None,
        "unmatchedPreflights: IGNORE: Envoy answers a preflight from a refused origin itself with 200 and Access-Control-Allow-Methods/-Headers/-Max-Age/-Credentials but no Access-Control-Allow-Origin (the browser still blocks it); corsguard sends no CORS headers",
    );
    common_warnings(model, "Istio", &mut w);

    let mut body = String::new();
    body.push_str("---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n");
    metadata(&mut body, &opts.name, opts.namespace.as_deref());
    body.push_str("spec:\n");
    let hosts = if opts.hostnames.is_empty() {
        vec!["*".to_string()]
    } else {
        opts.hostnames.clone()
    };
    let _ = writeln!(body, "  hosts: {}", flow(&hosts));
    if !opts.parent_refs.is_empty() {
        let gateways: Vec<String> = opts
            .parent_refs
            .iter()
            .map(|p| match &p.namespace {
                Some(ns) => format!("{ns}/{}", p.name),
                None => p.name.clone(),
            })
            .collect();
        let _ = writeln!(body, "  gateways: {}", flow(&gateways));
    }
    body.push_str("  http:\n");
    for r in &model.rules {
        route(&mut body, r, opts, &mut w);
    }

    let mut out = String::new();
    header(
        &mut out,
        "istio",
        &opts.source_name,
        "VirtualService (networking.istio.io/v1) with corsPolicy per HTTP route (Istio 1.22 or later). Apply with `kubectl apply -f`.",
        &w,
    );
    out.push_str(&body);
    Ok(Export {
        text: out,
        warnings: w,
    })
}

/// One `http[]` route.
fn route(out: &mut String, r: &RuleModel, opts: &K8sOptions, w: &mut Warnings) {
    let _ = writeln!(out, "    # {}: {}", r.name, r.path.describe());
    let _ = writeln!(
        out,
        "    - name: {}",
        q(&r.name.replace('[', "-").replace(']', ""))
    );
    let uris = uri_matches(r, w);
    let authorities: Vec<String> = r.hosts.iter().map(authority_regex).collect();
    if !uris.is_empty() || !authorities.is_empty() {
        out.push_str("      match:\n");
        let uris: Vec<Option<String>> = if uris.is_empty() {
            vec![None]
        } else {
            uris.into_iter().map(Some).collect()
        };
        let auths: Vec<Option<&String>> = if authorities.is_empty() {
            vec![None]
        } else {
            authorities.iter().map(Some).collect()
        };
        for a in &auths {
            for u in &uris {
                let mut parts = Vec::new();
                if let Some(u) = u {
                    parts.push(format!("uri: {{ {u} }}"));
                }
                if let Some(a) = a {
                    parts.push(format!("authority: {{ regex: {} }}", q(a)));
                }
                let _ = writeln!(out, "        - {{ {} }}", parts.join(", "));
            }
        }
    }
    match &r.cors {
        Some(c) if c.mode != corsguard::Mode::Shadow => cors_route(out, &r.name, c, w),
        _ => out.push_str("      # no corsPolicy: the application's headers pass through\n"),
    }
    let b = &opts.backend;
    let host = match &b.namespace {
        Some(ns) => format!("{}.{ns}.svc.cluster.local", b.name),
        None => b.name.clone(),
    };
    let _ = writeln!(
        out,
        "      route:\n        - destination: {{ host: {}, port: {{ number: {} }} }}",
        q(&host),
        b.port
    );
}

/// The rule's path as `uri` StringMatches (OR-ed); empty for every path.
fn uri_matches(r: &RuleModel, w: &mut Warnings) -> Vec<String> {
    match &r.path {
        _ if r.name == "defaults" => Vec::new(),
        PathMatch::All => Vec::new(),
        PathMatch::Prefix(p) if p.ends_with('/') => vec![format!("prefix: {}", q(p))],
        // Segment-aware: the path itself, or anything below it.
        PathMatch::Prefix(p) => vec![
            format!("exact: {}", q(p)),
            format!("prefix: {}", q(&format!("{p}/"))),
        ],
        PathMatch::Glob { .. } => vec![format!("regex: {}", q(&r.path.to_regex()))],
        PathMatch::Regex(re) => {
            w.push(
                Some(&r.name),
                &format!("path regex `{re}` runs as RE2 (full match, wrapped in `.*(?:…).*` to keep corsguard's search semantics)"),
            );
            vec![format!("regex: {}", q(&format!(".*(?:{re}).*")))]
        }
    }
}

/// A `hosts:` entry as an RE2 regex over the authority (the Host header, port optional:
/// corsguard ignores the port).
pub fn authority_regex(h: &HostPattern) -> String {
    match h {
        HostPattern::Exact(h) => format!("{}(?::[0-9]+)?", escape_regex(h)),
        HostPattern::Subdomains(b) => {
            format!("(?:[a-z0-9_-]+\\.)+{}(?::[0-9]+)?", escape_regex(b))
        }
    }
}

/// `corsPolicy` plus the `headers.response` edits (or, for `forced_allow_origin`, only the
/// edits: Istio's corsPolicy has no constant origin).
fn cors_route(out: &mut String, rule: &str, c: &CorsModel, w: &mut Warnings) {
    let forced = c.constant_acao.is_some() && !c.any_origin;
    rule_warnings(rule, c, w);
    if !forced {
        out.push_str("      corsPolicy:\n");
        let mut origins: Vec<String> = Vec::new();
        if c.any_origin {
            origins.push("exact: '*'".into());
        }
        if c.allow_null {
            origins.push("exact: 'null'".into());
        }
        for o in &c.origins {
            origins.push(match o {
                OriginEntry::Exact(s) => format!("exact: {}", q(s)),
                other => format!("regex: {}", q(&other.to_re2())),
            });
        }
        if origins.is_empty() {
            out.push_str("        allowOrigins: []  # no origin is allowed\n");
        } else {
            out.push_str("        allowOrigins:\n");
            for o in &origins {
                let _ = writeln!(out, "          - {o}");
            }
        }
        let methods: Vec<String> = if c.methods_any {
            vec!["*".into()]
        } else {
            c.methods.clone()
        };
        if !methods.is_empty() {
            let _ = writeln!(out, "        allowMethods: {}", flow(&methods));
        }
        // With credentials Envoy reflects Access-Control-Request-Headers for a lone `*` only
        // (`*,authorization` would be sent literally, and browsers read `*` as a name there).
        let headers: Option<Vec<String>> = if c.headers_any && c.credentials {
            Some(vec!["*".to_string()])
        } else {
            c.acah
                .as_deref()
                .map(|h| h.split(',').map(str::to_owned).collect())
        };
        if let Some(h) = headers {
            let _ = writeln!(out, "        allowHeaders: {}", flow(&h));
        }
        if let Some(e) = &c.aceh {
            let list: Vec<String> = e.split(',').map(str::to_owned).collect();
            let _ = writeln!(out, "        exposeHeaders: {}", flow(&list));
        }
        match c.acma.as_deref() {
            Some("0") => w.push(
                Some(rule),
                "max_age: 0 cannot be expressed (Istio's maxAge must be at least 1ms): left out, so no Access-Control-Max-Age is sent and browsers cache the preflight for 5 s",
            ),
            Some(m) => {
                let _ = writeln!(out, "        maxAge: {}", q(&format!("{m}s")));
            }
            None => {}
        }
        if c.credentials {
            out.push_str("        allowCredentials: true\n");
        }
        out.push_str("        unmatchedPreflights: IGNORE\n");
    }
    let mut set: Vec<(String, String)> = Vec::new();
    if forced {
        if let Some(v) = &c.constant_acao {
            set.push(("Access-Control-Allow-Origin".into(), v.clone()));
        }
        if c.credentials {
            set.push(("Access-Control-Allow-Credentials".into(), "true".into()));
        }
        if let Some(e) = &c.aceh {
            set.push(("Access-Control-Expose-Headers".into(), e.clone()));
        }
    }
    out.push_str("      headers:\n        response:\n          remove:\n");
    for h in &corsguard::adapter::OWNED_HEADERS {
        let _ = writeln!(out, "            - {}", h.as_str());
    }
    if !set.is_empty() {
        out.push_str("          set:\n");
        for (k, v) in &set {
            let _ = writeln!(out, "            {k}: {}", q(v));
        }
    }
    if !c.constant() || c.any_origin {
        out.push_str("          add:\n            Vary: 'Origin'\n");
    }
}

/// What Envoy (under Istio) does differently for this rule.
fn rule_warnings(rule: &str, c: &CorsModel, w: &mut Warnings) {
    let forced = c.constant_acao.is_some() && !c.any_origin;
    let mut push = |m: &str| w.push(Some(rule), m);
    if c.on_reject == OnReject::Forbid {
        push(
            "on_reject: forbid cannot be expressed: Envoy never answers 403; refused requests get no CORS headers and still reach the application",
        );
    }
    if c.passthrough {
        push("preflight.passthrough cannot be expressed: Envoy answers allowed preflights itself");
    }
    if c.any_origin {
        push(
            "allow_origins: ['*'] is rendered as an exact `*` match: Envoy then echoes the request's Origin instead of sending `*` (Vary: Origin is added)",
        );
        push(ANY_ORIGIN_WITHOUT_ORIGIN);
    }
    if c.allow_null {
        push("allow_null_origin: rendered as an exact `null` match");
    }
    if c.headers_any && !c.authorization_listed {
        push(
            "allow_headers: ['*']: Envoy reflects Access-Control-Request-Headers including Authorization, which the spec says `*` never covers (corsguard leaves it out)",
        );
    }
    if c.headers_any && c.authorization_listed && c.credentials {
        push(
            "allow_headers: ['*', 'authorization'] with credentials becomes a lone `*` (Envoy reflects every requested header, Authorization included, for a lone `*` only): `corsguard import istio` reads it back as `*`, without Authorization",
        );
    }
    if c.methods_any {
        push(
            "allow_methods: ['*']: Envoy reflects the requested method instead of sending `*`, without checking that it is a single method token",
        );
    }
    if forced {
        push(
            "forced_allow_origin has no corsPolicy field: the route sets the constant Access-Control-Allow-Origin with headers.response.set and preflights reach the application",
        );
    }
    if c.private_network {
        push(
            "allow_private_network cannot be expressed: Istio's corsPolicy has no private-network field, so no Access-Control-Allow-Private-Network is sent",
        );
    }
    if c.origins.iter().any(|o| matches!(o, OriginEntry::Regex(_))) {
        push(
            "origin regexes run as RE2 (full match); corsguard uses Rust `regex` syntax (same family, no look-around)",
        );
    }
    if c.origins.iter().any(|o| {
        matches!(
            o,
            OriginEntry::Wildcard {
                port: PortPattern::Any,
                ..
            }
        )
    }) {
        push(
            "`:*` port patterns also admit the scheme's default port spelled out (RE2 has no look-ahead); browsers never send it",
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn authorities_allow_a_port_and_nothing_else() {
        let re =
            |h: HostPattern| regex::Regex::new(&format!("^(?:{})$", authority_regex(&h))).unwrap();
        let sub = re(HostPattern::Subdomains("tenant.test".into()));
        assert!(sub.is_match("a.tenant.test") && sub.is_match("a.b.tenant.test:8080"));
        assert!(!sub.is_match("tenant.test") && !sub.is_match("a.tenant.test.evil"));
        let exact = re(HostPattern::Exact("api.example.com".into()));
        assert!(exact.is_match("api.example.com:443"));
        assert!(!exact.is_match("apixexample.com"));
    }
}
