//! `corsguard export caddy`: the policy as a complete Caddy configuration in Caddy's native
//! JSON (Caddy 2.6 or later).
//!
//! Why JSON and not a Caddyfile: the Caddyfile adapter sorts directives into its own fixed
//! order, wraps them in implicit subroutes and decides by itself when a `header` is deferred,
//! so the order in which the export's header operations run (delete the application's CORS
//! headers, then set corsguard's, then merge `Vary`) would depend on adapter rules; the JSON
//! says exactly which handler wraps which. It also needs no adaptation step (`caddy run
//! --config FILE`). JSON has no comments, and Caddy refuses unknown fields, so the notes
//! (rules, warnings) are the value of a `vars` handler in a first route that never matches.
//!
//! Caddy has no CORS directive. The export picks the rule with one route per rule (an
//! `expression` matcher on the raw request path and the `Host`, in the policy's order, each
//! terminal), sets the request facts as variables (`vars`: the rule's outcome, the CSRF
//! verdict; the first route that matches decides), reflects the requested headers with a `map`
//! handler, and renders each outcome as a route: deferred `headers` handlers remove the
//! application's CORS headers, set corsguard's and merge `Vary`, then `static_response`
//! answers (preflights, `on_reject: forbid`, CSRF refusals) or `reverse_proxy` forwards.
//! Patterns are RE2 (Go `regexp`), matched case-sensitively, as corsguard does.

use corsguard::{Mode, OnReject};
use serde_json::{Map, Value, json};

use super::model::{
    Answer, CORS_HEADERS, CorsModel, CsrfModel, OriginEntry, Outcome, PathMatch, PolicyModel,
    RuleModel, Source, escape_regex,
};
use super::{Export, Warnings, listen_address, proxy_target};

/// Options of the export (listen address, upstream, policy file name).
pub type CaddyOptions = super::EdgeOptions;

const ORIGIN: &str = "{http.request.header.Origin}";
const ACRM: &str = "{http.request.header.Access-Control-Request-Method}";
const ACRH: &str = "{http.request.header.Access-Control-Request-Headers}";
const ACRPN: &str = "{http.request.header.Access-Control-Request-Private-Network}";
const SFS: &str = "{http.request.header.Sec-Fetch-Site}";
const METHOD: &str = "{http.request.method}";
const HOSTPORT: &str = "{http.request.hostport}";
/// The raw request path (the request target up to `?`), set by the first route.
const PATH: &str = "{cg_path}";
/// Token characters (RFC 9110) as an RE2 class body.
const TOKEN: &str = "!#$%&'*+.^_`|~0-9A-Za-z-";
/// Lower-case token characters: the form browsers send header names in.
const LOWER_TOKEN: &str = "!#$%&'*+.^_`|~0-9a-z-";

/// A CEL string literal.
fn lit(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// `<placeholder>.matches('<re>')`.
fn matches(placeholder: &str, re: &str) -> String {
    format!("{placeholder}.matches({})", lit(re))
}

fn expression(cel: &str) -> Value {
    json!({ "expression": cel })
}

/// A route; `None` matches every request.
fn route(matcher: Option<Value>, handle: Vec<Value>, terminal: bool) -> Value {
    let mut r = Map::new();
    if let Some(m) = matcher {
        r.insert("match".into(), json!([m]));
    }
    r.insert("handle".into(), Value::Array(handle));
    if terminal {
        r.insert("terminal".into(), Value::Bool(true));
    }
    Value::Object(r)
}

fn subroute(routes: Vec<Value>) -> Value {
    json!({ "handler": "subroute", "routes": routes })
}

fn set_var(name: &str, value: &str) -> Value {
    json!({ "handler": "vars", name: value })
}

/// Matches while the variable is still unset (or empty): "not decided yet".
fn var_unset(name: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("vars".into(), json!({ name: [""] }));
    m
}

/// Deferred response header operations (run when the response is written, whoever writes it).
fn deferred(ops: Value) -> Value {
    let mut response = match ops {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    response.insert("deferred".into(), Value::Bool(true));
    json!({ "handler": "headers", "response": response })
}

/// An ordered first-match-wins decision: each step sets `var` to its value when its CEL
/// condition holds and no earlier step decided.
fn decision(var: &str, steps: &[(&str, String)]) -> Vec<Value> {
    steps
        .iter()
        .map(|(value, cel)| {
            let mut m = var_unset(var);
            if !cel.is_empty() {
                m.insert("expression".into(), Value::String(cel.clone()));
            }
            route(Some(Value::Object(m)), vec![set_var(var, value)], false)
        })
        .collect()
}

struct Gen<'a> {
    model: &'a PolicyModel,
    opts: &'a CaddyOptions,
    warnings: Warnings,
}

/// Renders the Caddy configuration.
pub fn export(model: &PolicyModel, opts: &CaddyOptions) -> Result<Export, String> {
    let mut g = Gen {
        model,
        opts,
        warnings: Warnings::default(),
    };
    g.check();
    let routes = g.routes()?;
    let comments = g.comments();
    // Caddy's JSON has no comments and refuses unknown fields: the notes travel as a `vars`
    // handler in a route that never matches.
    let notes = route(
        Some(expression("false")),
        vec![json!({ "handler": "vars", "corsguard_export_notes": comments })],
        false,
    );
    let routes: Vec<Value> = std::iter::once(notes).chain(routes).collect();
    let config = json!({
        "admin": { "disabled": true, "config": { "persist": false } },
        "apps": { "http": { "servers": { "corsguard": {
            "listen": [listen_address(&opts.listen)],
            "automatic_https": { "disable": true },
            "routes": routes,
        }}}},
    });
    let mut text = serde_json::to_string_pretty(&config).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(Export {
        text,
        warnings: g.warnings,
    })
}

impl Gen<'_> {
    fn check(&mut self) {
        let enforced: Vec<(String, CorsModel)> = self
            .model
            .rules
            .iter()
            .filter_map(|r| r.cors.clone().map(|c| (r.name.clone(), c)))
            .filter(|(_, c)| c.mode == Mode::Enforce)
            .collect();
        let w = &mut self.warnings;
        if !enforced.is_empty() {
            w.push(
                None,
                "Caddy joins repeated request header lines with `,` before a matcher sees them: two `Origin` or `Sec-Fetch-Site` lines are recognised as such, but so is a single line containing `,` (which browsers never send), and several `Access-Control-Request-Private-Network` lines never count as `true` (corsguard reads the last one)",
            );
            w.push(
                None,
                "the upstream's `Vary` is merged line by line: with several `Vary` lines each one gets the missing tokens (corsguard merges them into one line)",
            );
        }
        for (name, c) in &enforced {
            if c.on_reject == OnReject::Forbid {
                w.push(
                    Some(name),
                    "on_reject: forbid: corsguard's bound of 16 Access-Control-Request-Headers lines is not enforced (Caddy joins them), and its 4096-byte bound is applied to the joined value",
                );
            }
            if c.reflects_headers() {
                w.push(
                    Some(name),
                    "allow_headers: ['*'] reflects Access-Control-Request-Headers only in the form browsers send (lower-case names joined by `,` without spaces); other spellings, which corsguard would normalise, get no reflected Access-Control-Allow-Headers",
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
        super::runtime_gaps(&mut self.warnings, self.model, "Caddy", "RE2");
    }

    /// The notes: what this is, the rules, the warnings.
    fn comments(&self) -> Vec<String> {
        let mut c = vec![
            format!(
                "Generated by `corsguard export caddy` from {}.",
                self.opts.source_name
            ),
            "Re-export instead of editing: the routes below encode corsguard's decisions.".into(),
            "A complete Caddy 2.6+ JSON configuration: `caddy validate --config FILE`, `caddy run --config FILE`.".into(),
            "The admin endpoint and automatic HTTPS are off; add TLS with a `tls_connection_policies` entry.".into(),
            "Rules (first match wins, as in corsguard):".into(),
        ];
        for r in &self.model.rules {
            c.push(format!("  {:<9} {}", r.name, r.summary()));
        }
        if !self.warnings.is_empty() {
            c.push("Warnings (where Caddy differs from corsguard):".into());
            for w in self.warnings.iter() {
                for (i, line) in super::nginx_wrap(&w.to_string(), 92).iter().enumerate() {
                    c.push(format!("  {}{line}", if i == 0 { "- " } else { "  " }));
                }
            }
        }
        c
    }

    fn upstream_of(&self, r: &RuleModel) -> Result<String, String> {
        r.own_upstream()
            .map(str::to_owned)
            .or_else(|| self.opts.upstream.clone())
            .or_else(|| self.model.gateway_upstream.clone())
            .ok_or_else(|| {
                "no upstream to proxy to: pass --upstream URL (or set gateway.upstream)".to_string()
            })
    }

    fn routes(&mut self) -> Result<Vec<Value>, String> {
        let mut routes = vec![route(
            None,
            vec![
                json!({
                    "handler": "map",
                    "source": "{http.request.uri}",
                    "destinations": [PATH],
                    "mappings": [{ "input_regexp": "^([^?]*)", "outputs": ["${1}"] }],
                }),
                // The `vars` matcher sees an unset variable as `<nil>`: start the decisions empty.
                json!({ "handler": "vars", "cg_out": "", "cg_csrf": "" }),
            ],
            false,
        )];
        if self.model.rules.iter().any(|r| r.cors.is_some()) {
            // Header presence (an empty Origin is still an Origin).
            routes.push(route(
                Some(json!({ "header": { "Origin": [] } })),
                vec![set_var("cg_origin", "1")],
                false,
            ));
            routes.push(route(
                Some(json!({
                    "header": { "Origin": [], "Access-Control-Request-Method": [] },
                    "expression": format!("{METHOD} == 'OPTIONS'"),
                })),
                vec![set_var("cg_preflight", "1")],
                false,
            ));
        }
        for r in &self.model.rules {
            let upstream = self.upstream_of(r)?;
            let proxy = reverse_proxy(&upstream).map_err(|e| format!("{}: {e}", r.name))?;
            let body = self.rule(r, &proxy);
            let cel = rule_match(r);
            let matcher = (!cel.is_empty()).then(|| expression(&cel));
            routes.push(route(matcher, vec![subroute(body)], true));
        }
        Ok(routes)
    }

    /// One rule's routes: its CSRF verdict, its outcome, and one route per outcome.
    fn rule(&self, r: &RuleModel, proxy: &Value) -> Vec<Value> {
        let mut routes = Vec::new();
        let csrf = r.csrf.as_ref().filter(|c| c.enforce);
        if let Some(c) = csrf {
            routes.extend(decision("cg_csrf", &csrf_steps(r, c)));
        }
        let forward = with_csrf(csrf.is_some(), proxy.clone());
        match &r.cors {
            Some(c) if c.mode == Mode::Enforce => {
                routes.extend(self.facts(c));
                for (o, a) in c.answers() {
                    let end = match a.status {
                        Some(s) => json!({ "handler": "static_response", "status_code": s }),
                        None => proxy.clone(),
                    };
                    let end = with_csrf(csrf.is_some(), end);
                    routes.push(route(
                        Some(json!({ "vars": { "cg_out": [o.name()] } })),
                        vec![subroute(answer_routes(&a, end))],
                        true,
                    ));
                }
            }
            _ => routes.push(route(None, vec![forward], true)),
        }
        routes
    }

    /// The outcome (`cg_out`) and the reflected values of an enforced rule.
    fn facts(&self, c: &CorsModel) -> Vec<Value> {
        let mut routes = Vec::new();
        if c.reflects_headers() {
            routes.push(route(None, vec![acah_map(c)], false));
        }
        let admitted = origin_admitted(c);
        let pf = "{http.vars.cg_preflight} == '1'";
        let mut steps: Vec<(&str, String)> =
            vec![(Outcome::None.name(), "{http.vars.cg_origin} != '1'".into())];
        if c.skip_same_origin {
            steps.push((Outcome::None.name(), same_origin()));
        }
        steps.push((Outcome::Actual.name(), format!("!({pf}) && ({admitted})")));
        steps.push((Outcome::ActualRefused.name(), format!("!({pf})")));
        steps.push((
            Outcome::PreflightOriginRefused.name(),
            format!("!({admitted})"),
        ));
        if c.on_reject == OnReject::Forbid {
            steps.push((Outcome::PreflightRefused.name(), preflight_refused(c)));
        }
        steps.push((Outcome::Preflight.name(), String::new()));
        routes.extend(decision("cg_out", &steps));
        routes
    }
}

/// The rule's matcher: the raw path and the `Host` (CEL), empty for every request.
fn rule_match(r: &RuleModel) -> String {
    let mut parts = Vec::new();
    if r.path != PathMatch::All {
        parts.push(matches(PATH, &r.path.to_regex()));
    }
    if !r.hosts.is_empty() {
        let hosts: Vec<String> = r
            .hosts
            .iter()
            .map(|h| matches(HOSTPORT, &format!("(?i){}", h.to_regex())))
            .collect();
        parts.push(format!("({})", hosts.join(" || ")));
    }
    parts.join(" && ")
}

/// Is the `Origin` admitted by the rule? (One line, at most 326 bytes, listed.)
fn origin_admitted(c: &CorsModel) -> String {
    if c.any_origin {
        return "true".into();
    }
    let mut alts: Vec<String> = c
        .origins
        .iter()
        .map(|o| matches(ORIGIN, &o.to_re2()))
        .collect();
    if c.allow_null {
        alts.insert(0, format!("{ORIGIN} == 'null'"));
    }
    if alts.is_empty() {
        return "false".into();
    }
    format!(
        "!{ORIGIN}.contains(',') && !{} && ({})",
        matches(ORIGIN, &format!("^.{{{}}}", corsguard::MAX_ORIGIN_LEN + 1)),
        alts.join(" || ")
    )
}

/// `Origin` equals the request's own `scheme://host[:port]` (host lower-cased, the scheme's
/// default port dropped).
fn same_origin() -> String {
    let scheme = "{http.request.scheme}";
    let host = format!("{HOSTPORT}.lowerAscii()");
    format!(
        "{ORIGIN} == {scheme} + '://' + {host} || ({scheme} == 'http' && {ORIGIN} + ':80' == 'http://' + {host}) || ({scheme} == 'https' && {ORIGIN} + ':443' == 'https://' + {host})"
    )
}

/// `on_reject: forbid`: the preflight asks for a method, headers or private network access
/// the rule does not allow (the request's `Access-Control-Request-Headers` lines, joined by
/// Caddy, judged element by element with corsguard's bounds).
fn preflight_refused(c: &CorsModel) -> String {
    let token = matches(ACRM, &format!("^[{TOKEN}]{{1,64}}$"));
    let mut method_ok = vec![token];
    if !c.methods_any {
        let mut allowed: Vec<String> = vec!["GET".into(), "HEAD".into(), "POST".into()];
        for m in &c.methods {
            if !allowed.contains(m) {
                allowed.push(m.clone());
            }
        }
        let list: Vec<String> = allowed.iter().map(|m| lit(m)).collect();
        method_ok.push(format!("{ACRM} in [{}]", list.join(", ")));
    }
    let blank = "e.matches('^[ \\t]*$')";
    let mut bad = vec![
        format!("!({})", method_ok.join(" && ")),
        format!("size({ACRH}) > 4096"),
        format!("{ACRH}.split(',').filter(e, {blank}).size() > 16"),
        format!("{ACRH}.split(',').filter(e, !{blank}).size() > 64"),
        format!(
            "!{ACRH}.split(',').all(e, e.matches({}))",
            lit(&format!("^[ \\t]*[{TOKEN}]*[ \\t]*$"))
        ),
    ];
    if c.headers_any {
        if !c.authorization_listed {
            bad.push(format!(
                "{ACRH}.split(',').exists(e, e.matches('(?i)^[ \\t]*authorization[ \\t]*$'))"
            ));
        }
    } else {
        let names: Vec<String> = c.headers.iter().map(|h| escape_regex(h)).collect();
        let re = format!("(?i)^[ \\t]*(?:{})?[ \\t]*$", names.join("|"));
        bad.push(format!(
            "!{ACRH}.split(',').all(e, e.matches({}))",
            lit(&re)
        ));
    }
    if !c.private_network {
        bad.push(private_network_requested());
    }
    bad.join(" || ")
}

fn private_network_requested() -> String {
    format!(
        "size({ACRPN}) <= 16 && {}",
        matches(ACRPN, "^[ \\t]*true[ \\t]*$")
    )
}

/// `{cg_acah}`: the requested header names in the form browsers send them (lower case,
/// joined by `,`), Authorization dropped unless listed; `*` without credentials when
/// Authorization was not requested.
fn acah_map(c: &CorsModel) -> Value {
    let list = format!("[{LOWER_TOKEN}]+(?:,[{LOWER_TOKEN}]+)*");
    let mut mappings = Vec::new();
    let map = |re: String, out: &str| json!({ "input_regexp": re, "outputs": [out] });
    if !c.authorization_listed {
        mappings.push(map("^authorization$".into(), ""));
        mappings.push(map(format!("^authorization,({list})$"), "${1}"));
        mappings.push(map(format!("^({list}),authorization$"), "${1}"));
        mappings.push(map(
            format!("^({list}),authorization,({list})$"),
            "${1},${2}",
        ));
    }
    let default = if c.credentials {
        mappings.push(map(format!("^({list})$"), "${1}"));
        ""
    } else {
        "*"
    };
    json!({
        "handler": "map",
        "source": ACRH,
        "destinations": ["{cg_acah}"],
        "mappings": mappings,
        "defaults": [default],
    })
}

/// The routes of one outcome: optional reflected headers, then the constant ones, the `Vary`
/// merge and the removal of the application's CORS headers, then `end`. Deferred operations
/// run innermost first: the removal (last listed) before everything listed above it.
fn answer_routes(a: &Answer, end: Value) -> Vec<Value> {
    let mut routes = Vec::new();
    let mut constant = Map::new();
    for (name, src) in CORS_HEADERS.iter().zip(a.headers()) {
        let (value, cel) = match src {
            None => continue,
            Some(Source::Const(v)) => (v, None),
            Some(Source::Origin) => (ORIGIN.to_string(), None),
            Some(Source::RequestMethod) => (
                ACRM.to_string(),
                Some(matches(ACRM, &format!("^[{TOKEN}]{{1,64}}$"))),
            ),
            Some(Source::RequestHeaders) => {
                ("{cg_acah}".to_string(), Some("{cg_acah} != ''".into()))
            }
            Some(Source::PrivateNetworkRequested) => {
                ("true".to_string(), Some(private_network_requested()))
            }
        };
        match cel {
            None => {
                constant.insert((*name).into(), json!([value]));
            }
            Some(cel) => routes.push(route(
                Some(expression(&cel)),
                vec![deferred(json!({ "set": { *name: [value] } }))],
                false,
            )),
        }
    }
    let mut handle = Vec::new();
    if !constant.is_empty() {
        handle.push(deferred(json!({ "set": constant })));
    }
    handle.extend(vary(a));
    handle.push(deferred(json!({ "delete": CORS_HEADERS })));
    handle.push(end);
    routes.push(route(None, handle, true));
    routes
}

/// Merges the answer's `Vary` tokens: appended to each existing `Vary` line unless it names
/// them (case-insensitive) or `*`; a `Vary` line of its own when the response has none.
fn vary(a: &Answer) -> Vec<Value> {
    let tokens = a.vary_tokens();
    if tokens.is_empty() {
        return Vec::new();
    }
    let mut replace = Vec::new();
    for t in &tokens {
        replace.push(json!({ "search_regexp": "^(.*)$", "replace": format!("${{1}}, {t}") }));
        replace.push(json!({
            "search_regexp": format!("(?i)^(.*(?:^|,)[ \\t]*(?:{}|\\*)[ \\t]*(?:,.*)?), {}$", escape_regex(t), escape_regex(t)),
            "replace": "${1}",
        }));
    }
    vec![
        deferred(json!({ "replace": { "Vary": replace } })),
        json!({
            "handler": "headers",
            "response": {
                "require": { "headers": { "Vary": null } },
                "set": { "Vary": [tokens.join(", ")] },
            },
        }),
    ]
}

/// `end`, preceded by the CSRF refusals (403, the reason in the body) when the rule checks.
fn with_csrf(csrf: bool, end: Value) -> Value {
    if !csrf {
        return end;
    }
    let mut routes: Vec<Value> = corsguard::CsrfRefusal::ALL
        .iter()
        .map(|r| {
            route(
                Some(json!({ "vars": { "cg_csrf": [r.code()] } })),
                vec![json!({
                    "handler": "static_response",
                    "status_code": 403,
                    "headers": {
                        "Content-Type": ["text/plain; charset=utf-8"],
                        "X-Corsguard-Csrf": [r.code()],
                    },
                    "body": r.body(),
                })],
                true,
            )
        })
        .collect();
    routes.push(route(None, vec![end], true));
    subroute(routes)
}

/// The CSRF check (Go 1.25's algorithm with the rule's allow-list) as first-match steps:
/// `pass` or the refusal code. Methods and `Sec-Fetch-Site` values compare exactly.
fn csrf_steps(r: &RuleModel, c: &CsrfModel) -> Vec<(&'static str, String)> {
    let listed: Vec<&OriginEntry> = r
        .cors
        .iter()
        .filter(|cors| !cors.any_origin)
        .flat_map(|cors| &cors.origins)
        .chain(&c.trusted)
        .collect();
    let mut steps: Vec<(&'static str, String)> = vec![
        ("pass", format!("{METHOD} in ['GET', 'HEAD', 'OPTIONS']")),
        (
            "csrf-multiple-sec-fetch-site",
            format!("{SFS}.contains(',')"),
        ),
        ("csrf-multiple-origins", format!("{ORIGIN}.contains(',')")),
        ("pass", format!("{SFS} == 'same-origin' || {SFS} == 'none'")),
    ];
    if !listed.is_empty() {
        let alts: Vec<String> = listed
            .iter()
            .map(|o| matches(ORIGIN, &o.to_re2()))
            .collect();
        steps.push((
            "pass",
            format!(
                "{ORIGIN} != 'null' && !{} && ({})",
                matches(ORIGIN, &format!("^.{{{}}}", corsguard::MAX_ORIGIN_LEN + 1)),
                alts.join(" || ")
            ),
        ));
    }
    steps.push((
        if c.allow_same_site {
            "pass"
        } else {
            "csrf-same-site"
        },
        format!("{SFS} == 'same-site'"),
    ));
    steps.push(("csrf-cross-site", format!("{SFS} == 'cross-site'")));
    steps.push(("csrf-unknown-sec-fetch-site", format!("{SFS} != ''")));
    steps.push(("pass", format!("{ORIGIN} == ''")));
    steps.push((
        "pass",
        format!("{ORIGIN} == 'http://' + {HOSTPORT} || {ORIGIN} == 'https://' + {HOSTPORT}"),
    ));
    steps.push(("csrf-untrusted-origin", String::new()));
    steps
}

/// `reverse_proxy` to an upstream URL (TLS with the system roots for `https://`). The
/// request's `Host` is passed on unchanged, as corsguard's gateway does.
fn reverse_proxy(upstream: &str) -> Result<Value, String> {
    let target = proxy_target(upstream)?;
    let url = url::Url::parse(&target).map_err(|e| e.to_string())?;
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let dial = if host.contains(':') {
        format!("[{}]:{port}", host.trim_matches(['[', ']']))
    } else {
        format!("{host}:{port}")
    };
    let mut proxy = json!({ "handler": "reverse_proxy", "upstreams": [{ "dial": dial }] });
    if url.scheme() == "https"
        && let Some(m) = proxy.as_object_mut()
    {
        m.insert(
            "transport".into(),
            json!({ "protocol": "http", "tls": { "server_name": host } }),
        );
    }
    Ok(proxy)
}
