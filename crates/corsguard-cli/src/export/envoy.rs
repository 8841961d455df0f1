//! `corsguard export envoy`: the CORS filter plus a route configuration whose routes carry a
//! `CorsPolicy` in `typed_per_filter_config`, in corsguard's rule order.
//!
//! Envoy's filter decides less than corsguard: it emits no `Vary`, never validates methods or
//! headers, always answers preflights itself with 200, echoes the origin instead of `*`, and
//! cannot refuse with 403. The export compensates where a route option can (`Vary: Origin` via
//! `response_headers_to_add`, the application's CORS headers removed, refused preflights
//! answered locally with `forward_not_matching_preflights: false`, shadow mode via
//! `shadow_enabled`) and lists the rest as warnings.

use std::fmt::Write as _;

use corsguard::{Mode, OnReject};

use super::model::{CorsModel, HostPattern, OriginEntry, PathMatch, PolicyModel, RuleModel};
use super::{Export, Warnings, proxy_target};

/// Options of the Envoy export.
#[derive(Debug, Clone)]
pub struct EnvoyOptions {
    /// The cluster routes without their own `upstream` send to.
    pub cluster: String,
    /// The default upstream, to generate that cluster (otherwise it must exist).
    pub upstream: Option<String>,
    /// The policy file name, for the header comment.
    pub source_name: String,
}

/// A single-quoted YAML scalar.
fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

const OWNED: [&str; 7] = [
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
    "access-control-allow-private-network",
    "access-control-expose-headers",
];

/// Renders the Envoy configuration.
pub fn export(model: &PolicyModel, opts: &EnvoyOptions) -> Result<Export, String> {
    let mut w = Warnings::default();
    w.push(
        None,
        "Envoy's CORS filter emits no `Vary` (envoy#35873): the routes add `Vary: Origin` with response_headers_to_add, which appends a separate line instead of merging into the application's `Vary`, and is missing on the preflight replies Envoy generates itself",
    );
    w.push(
        None,
        "Envoy answers every allowed preflight itself with 200 (corsguard's preflight status is ignored) and never checks the requested method or headers: the browser enforces the lists",
    );
    if model.rules.iter().any(|r| !r.hosts.is_empty()) {
        w.push(
            None,
            "virtual host domains are compared with the Host header including any port: set `strip_any_host_port: true` in the HTTP connection manager (corsguard ignores the port)",
        );
    }
    if model.has_gateway {
        w.push(
            None,
            "the `gateway:` section (listen, TLS, timeouts, limits, trusted proxies, WebSocket origin check) is not exported",
        );
    }
    for r in model.rules.iter().filter(|r| r.csrf.is_some()) {
        w.push(
            Some(&r.name),
            "csrf is NOT exported: Envoy's CSRF filter (envoy.filters.http.csrf) judges Origin against the host and its additional_origins only, without Sec-Fetch-Site, so it would refuse what corsguard allows and allow what it refuses; unsafe cross-origin requests reach the application unchecked. Keep CSRF in the application (corsguard-tower/-actix) or in `corsguard serve`",
        );
    }
    w.push(
        None,
        "corsguard refuses origins longer than 326 bytes and requests with several `Origin` lines; Envoy matches the value it gets",
    );
    if model
        .rules
        .iter()
        .any(|r| r.cors.as_ref().is_some_and(|c| c.skip_same_origin))
    {
        w.push(
            None,
            "skip_same_origin: Envoy adds CORS headers to same-origin requests whose Origin is allowed (harmless, but not skipped)",
        );
    }
    for r in &model.rules {
        if let PathMatch::Regex(re) = &r.path {
            w.push(
                Some(&r.name),
                &format!("path regex `{re}` runs as RE2 (`safe_regex`, full match, wrapped in `.*(?:…).*` to keep corsguard's search semantics)"),
            );
        }
        let Some(c) = &r.cors else { continue };
        let name = r.name.as_str();
        if c.on_reject == OnReject::Forbid {
            w.push(
                Some(name),
                "on_reject: forbid cannot be expressed: Envoy never answers 403; refused requests get no CORS headers and still reach the application",
            );
        }
        if c.passthrough {
            w.push(
                Some(name),
                "preflight.passthrough cannot be expressed: Envoy answers allowed preflights itself",
            );
        }
        if c.any_origin {
            w.push(
                Some(name),
                "allow_origins: ['*'] is rendered as a `*` matcher: Envoy then echoes the request's Origin instead of sending `*` (Vary: Origin is added)",
            );
        }
        if c.allow_null {
            w.push(
                Some(name),
                "allow_null_origin: rendered as an exact `null` matcher",
            );
        }
        if c.headers_any && !c.authorization_listed {
            w.push(
                Some(name),
                "allow_headers: ['*']: Envoy reflects Access-Control-Request-Headers including Authorization, which the spec says `*` never covers (corsguard leaves it out)",
            );
        }
        if c.methods_any && c.credentials {
            w.push(
                Some(name),
                "allow_methods: ['*'] with credentials: Envoy reflects Access-Control-Request-Method without checking that it is a single method token",
            );
        }
        if c.methods_any && !c.credentials {
            w.push(
                Some(name),
                "allow_methods: ['*']: Envoy reflects the requested method instead of sending `*`",
            );
        }
        if c.constant_acao.is_some() && !c.any_origin {
            w.push(
                Some(name),
                "forced_allow_origin has no CorsPolicy field: the route sets the constant Access-Control-Allow-Origin with response_headers_to_add and preflights reach the application",
            );
        }
        if c.origins.iter().any(|o| matches!(o, OriginEntry::Regex(_))) {
            w.push(
                Some(name),
                "origin regexes run as RE2 (`safe_regex`, full match); corsguard uses Rust `regex` syntax (same family, no look-around)",
            );
        }
        if c.origins.iter().any(|o| {
            matches!(
                o,
                OriginEntry::Wildcard {
                    port: super::model::PortPattern::Any,
                    ..
                }
            )
        }) {
            w.push(
                Some(name),
                "`:*` port patterns also admit the scheme's default port spelled out (RE2 has no look-ahead); browsers never send it",
            );
        }
    }

    let default_upstream = opts
        .upstream
        .clone()
        .or_else(|| model.gateway_upstream.clone());
    let mut clusters: Vec<(String, String)> = Vec::new();
    if let Some(u) = &default_upstream {
        clusters.push((opts.cluster.clone(), proxy_target(u)?));
    }
    let cluster_of = |r: &RuleModel| match &r.upstream {
        Some(_) => format!("{}_{}", opts.cluster, r.id),
        None => opts.cluster.clone(),
    };
    for r in &model.rules {
        if let Some(u) = &r.upstream {
            clusters.push((
                cluster_of(r),
                proxy_target(u).map_err(|e| format!("{}: {e}", r.name))?,
            ));
        }
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Generated by `corsguard export envoy` from {}.",
        opts.source_name
    );
    out.push_str(
        "# A fragment: put `http_filters` into your HTTP connection manager (the CORS filter before\n\
         # the router), and use `route_config` (or merge its virtual hosts) and `clusters`.\n",
    );
    if default_upstream.is_none() {
        let _ = writeln!(
            out,
            "# The cluster `{}` is not generated (no --upstream or gateway.upstream): it must exist.",
            opts.cluster
        );
    }
    out.push_str("#\n# Warnings (where Envoy differs from corsguard):\n");
    for warning in w.iter() {
        for (i, line) in super::nginx_wrap(&warning.to_string(), 92)
            .iter()
            .enumerate()
        {
            let _ = writeln!(out, "#   {}{line}", if i == 0 { "- " } else { "  " });
        }
    }
    out.push_str("\nhttp_filters:\n");
    out.push_str("  - name: envoy.filters.http.cors\n    typed_config:\n      '@type': type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors\n");
    out.push_str("  - name: envoy.filters.http.router\n    typed_config:\n      '@type': type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n");
    out.push_str("\nroute_config:\n  name: corsguard\n  virtual_hosts:\n");

    let mut patterns: Vec<HostPattern> = Vec::new();
    for r in &model.rules {
        for h in &r.hosts {
            if !patterns.contains(h) {
                patterns.push(h.clone());
            }
        }
    }
    for p in &patterns {
        let rules: Vec<&RuleModel> = model
            .rules
            .iter()
            .filter(|r| r.hosts.is_empty() || r.hosts.iter().any(|h| p.within(h)))
            .collect();
        let name = format!(
            "corsguard_{}",
            p.text().replace("*.", "any.").replace('.', "_")
        );
        virtual_host(&mut out, &name, &p.text(), &rules, &cluster_of);
    }
    let rules: Vec<&RuleModel> = model.rules.iter().filter(|r| r.hosts.is_empty()).collect();
    virtual_host(&mut out, "corsguard", "*", &rules, &cluster_of);

    if !clusters.is_empty() {
        out.push_str("\nclusters:\n");
        for (name, target) in &clusters {
            let (scheme, rest) = target.split_once("://").unwrap_or(("http", target));
            let (host, port) = match rest.rsplit_once(':') {
                Some((h, p)) if !h.is_empty() && !rest.ends_with(']') => (h, p.to_owned()),
                _ => (
                    rest,
                    if scheme == "https" {
                        "443".into()
                    } else {
                        "80".into()
                    },
                ),
            };
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let _ = writeln!(out, "  - name: {}", q(name));
            out.push_str("    type: STRICT_DNS\n    connect_timeout: 5s\n");
            let _ = writeln!(
                out,
                "    load_assignment:\n      cluster_name: {}\n      endpoints:\n        - lb_endpoints:\n            - endpoint:\n                address:\n                  socket_address: {{ address: {}, port_value: {port} }}",
                q(name),
                q(host)
            );
            if scheme == "https" {
                let _ = writeln!(
                    out,
                    "    transport_socket:\n      name: envoy.transport_sockets.tls\n      typed_config:\n        '@type': type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext\n        sni: {}",
                    q(host)
                );
            }
        }
    }
    Ok(Export {
        text: out,
        warnings: w,
    })
}

fn virtual_host(
    out: &mut String,
    name: &str,
    domain: &str,
    rules: &[&RuleModel],
    cluster_of: &dyn Fn(&RuleModel) -> String,
) {
    let _ = writeln!(
        out,
        "    - name: {}\n      domains: [{}]\n      routes:",
        q(name),
        q(domain)
    );
    for r in rules {
        let hosts = if r.hosts.is_empty() {
            String::new()
        } else {
            format!(
                ", hosts {}",
                r.hosts
                    .iter()
                    .map(HostPattern::text)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let _ = writeln!(out, "        # {}: {}{hosts}", r.name, r.path.describe());
        let m = match &r.path {
            _ if r.name == "defaults" => "prefix: '/'".to_string(),
            PathMatch::All => "prefix: '/'".to_string(),
            PathMatch::Prefix(p) if p.ends_with('/') => format!("prefix: {}", q(p)),
            PathMatch::Prefix(p) => format!("path_separated_prefix: {}", q(p)),
            PathMatch::Glob { .. } => format!("safe_regex: {{ regex: {} }}", q(&r.path.to_regex())),
            PathMatch::Regex(re) => {
                format!("safe_regex: {{ regex: {} }}", q(&format!(".*(?:{re}).*")))
            }
        };
        let _ = writeln!(out, "        - match: {{ {m} }}");
        let _ = writeln!(out, "          route: {{ cluster: {} }}", q(&cluster_of(r)));
        let Some(c) = &r.cors else {
            out.push_str(
                "          # cors: false: no CorsPolicy, the application's headers pass through\n",
            );
            continue;
        };
        cors_route(out, c);
    }
}

fn cors_route(out: &mut String, c: &CorsModel) {
    let forced = c.constant_acao.is_some() && !c.any_origin;
    if !forced {
        out.push_str("          typed_per_filter_config:\n            envoy.filters.http.cors:\n              '@type': type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy\n              allow_origin_string_match:\n");
        if c.any_origin {
            out.push_str("                - exact: '*'\n");
        }
        if c.allow_null {
            out.push_str("                - exact: 'null'\n");
        }
        for o in &c.origins {
            match o {
                OriginEntry::Exact(s) => {
                    let _ = writeln!(out, "                - exact: {}", q(s));
                }
                other => {
                    let _ = writeln!(
                        out,
                        "                - safe_regex: {{ regex: {} }}  # {}",
                        q(&other.to_re2()),
                        other.text()
                    );
                }
            }
        }
        if c.origins.is_empty() && !c.any_origin && !c.allow_null {
            out.push_str("                - exact: ''  # no origin is allowed\n");
        }
        let methods = if c.methods_any {
            Some("*".to_string())
        } else {
            c.acam.clone()
        };
        if let Some(m) = methods {
            let _ = writeln!(out, "              allow_methods: {}", q(&m));
        }
        let headers = if c.headers_any && c.credentials {
            Some("*".to_string())
        } else {
            c.acah.clone()
        };
        if let Some(h) = headers {
            let _ = writeln!(out, "              allow_headers: {}", q(&h));
        }
        if let Some(e) = &c.aceh {
            let _ = writeln!(out, "              expose_headers: {}", q(e));
        }
        if let Some(m) = &c.acma {
            let _ = writeln!(out, "              max_age: {}", q(m));
        }
        if c.credentials {
            out.push_str("              allow_credentials: true\n");
        }
        if c.private_network {
            out.push_str("              allow_private_network_access: true\n");
        }
        out.push_str("              forward_not_matching_preflights: false\n");
        if c.mode == Mode::Shadow {
            out.push_str("              filter_enabled: { default_value: { numerator: 0, denominator: HUNDRED } }\n              shadow_enabled: { default_value: { numerator: 100, denominator: HUNDRED } }\n");
            return;
        }
    }
    let mut add: Vec<(String, String)> = Vec::new();
    if forced {
        if let Some(v) = &c.constant_acao {
            add.push(("Access-Control-Allow-Origin".into(), v.clone()));
        }
        if c.credentials {
            add.push(("Access-Control-Allow-Credentials".into(), "true".into()));
        }
        if let Some(e) = &c.aceh {
            add.push(("Access-Control-Expose-Headers".into(), e.clone()));
        }
    }
    if !c.constant() || c.any_origin {
        add.push(("Vary".into(), "Origin".into()));
    }
    out.push_str("          response_headers_to_remove:\n");
    for h in OWNED {
        let _ = writeln!(out, "            - {h}");
    }
    if !add.is_empty() {
        out.push_str("          response_headers_to_add:\n");
        for (k, v) in add {
            let action = if k == "Vary" {
                "APPEND_IF_EXISTS_OR_ADD"
            } else {
                "OVERWRITE_IF_EXISTS_OR_ADD"
            };
            let _ = writeln!(
                out,
                "            - header: {{ key: {}, value: {} }}\n              append_action: {action}",
                q(&k),
                q(&v)
            );
        }
    }
}
