//! Test-only: what the two Envoy-based control planes make of `corsguard export gateway-api`
//! and `corsguard export istio`, as a static Envoy bootstrap that `export_k8s_envoy.rs` runs
//! in the real Envoy. Kubernetes cannot run here, so this file does the control plane's
//! job: it parses the YAML the export printed (not the policy) and builds the listener, the
//! routes and the per-route `CorsPolicy` the way each translator does. Only the parts that
//! decide a CORS header or status are translated; anything else a control plane adds
//! (stats, access logs, xDS, TLS) is left out.
//!
//! Envoy Gateway (`HTTPRoute` with the `CORS` filter), after envoyproxy/gateway:
//! - `internal/gatewayapi/filters.go` (`processCORSFilter`) and `securitypolicy.go`
//!   (`wildcard2regex`): an origin with a `*` becomes a `safe_regex` with `.` → `\.` and
//!   `*` → `.*` (so `*` alone is `.*`), any other origin an `exact` match; `maxAge` is
//!   seconds (the CRD defaults it to 5);
//! - `internal/xds/translator/cors.go` (`patchRoute`, `patchHCM`): the `envoy.filters.http.cors`
//!   filter first in the chain, a per-route `CorsPolicy` with the methods and headers joined
//!   with `", "` (a list containing `*` becomes `*`), `max_age` as seconds,
//!   `allow_credentials` always set, `forward_not_matching_preflights: false`;
//! - `internal/xds/translator/route.go` (`buildXdsRouteMatch`): `PathPrefix /` → `prefix: /`,
//!   any other `PathPrefix` → `path_separated_prefix` without its trailing `/`,
//!   `RegularExpression` → RE2 `safe_regex` (full match);
//! - `internal/gatewayapi/sort.go` (`XdsIRRoutes.Less`): the routes of a virtual host ordered
//!   Exact, then RegularExpression, then PathPrefix, longer values first, then by route name
//!   (`httproute/NS/NAME/rule/I/match/J/HOST`) descending; one virtual host per hostname
//!   (`*` for routes without one), the most specific domain winning, ports ignored.
//!
//! Istio (`VirtualService` with `corsPolicy`), after istio/istio
//! `pilot/pkg/networking/core/route/route.go` (`TranslateRouteMatch`,
//! `TranslateHeadersOperations`, `TranslateCORSPolicy`): the `http[]` routes in order, one
//! Envoy route per `match[]` entry (`uri` exact → `path`, prefix → `prefix`, regex →
//! `safe_regex`; `authority` → a `:authority` header matcher); `headers.response` set →
//! `OVERWRITE_IF_EXISTS_OR_ADD`, add → `APPEND_IF_EXISTS_OR_ADD`, remove →
//! `response_headers_to_remove`; `corsPolicy` origins → `allow_origin_string_match`
//! (exact/prefix/safe_regex), methods and headers joined with `","`, `maxAge` as whole
//! seconds, `allowCredentials` as given, `unmatchedPreflights: IGNORE` →
//! `forward_not_matching_preflights: false` (else `true`), `filter_enabled` 100%.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::net::SocketAddr;

use serde_json::{Value, json};

/// The filter name both control planes give Envoy's CORS filter.
const CORS: &str = "envoy.filters.http.cors";

/// One Envoy virtual host: its domains and routes, in match order.
#[derive(Debug)]
pub(crate) struct VirtualHost {
    /// `domains` (`*` for any host).
    pub domains: Vec<String>,
    /// The routes (`envoy.config.route.v3.Route` as JSON).
    pub routes: Vec<Value>,
}

/// The YAML documents an export printed, as JSON values.
pub(crate) fn documents(text: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text)
        .unwrap_or_else(|e| panic!("the export is not YAML: {e}\n{text}"))
        .into_iter()
        .filter(|v| !v.is_null())
        .collect()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

fn safe_regex(re: &str) -> Value {
    json!({ "safe_regex": { "regex": re } })
}

/// Envoy Gateway's `wildcard2regex` (internal/gatewayapi/securitypolicy.go).
pub(crate) fn wildcard2regex(origin: &str) -> String {
    origin.replace('.', "\\.").replace('*', ".*")
}

/// `CorsPolicy` for an `HTTPRoute` rule's `cors:` block, as Envoy Gateway builds it.
fn gateway_api_cors(cors: &Value) -> Value {
    let origins: Vec<Value> = strs(&cors["allowOrigins"])
        .iter()
        .map(|o| {
            if o.contains('*') {
                safe_regex(&wildcard2regex(o))
            } else {
                json!({ "exact": o })
            }
        })
        .collect();
    // cors.go: Envoy takes only a lone `*` as "any", so a list with `*` becomes `*`.
    let joined = |key: &str| {
        let list = strs(&cors[key]);
        if list.iter().any(|m| m == "*") {
            "*".to_owned()
        } else {
            list.join(", ")
        }
    };
    let max_age = cors["maxAge"].as_i64().unwrap_or(5);
    json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
        "allow_origin_string_match": origins,
        "allow_methods": joined("allowMethods"),
        "allow_headers": joined("allowHeaders"),
        "expose_headers": strs(&cors["exposeHeaders"]).join(", "),
        "max_age": max_age.to_string(),
        "allow_credentials": cors["allowCredentials"].as_bool().unwrap_or(false),
        "forward_not_matching_preflights": false,
    })
}

/// One Envoy Gateway IR route: what `sort.go` orders by, and the xDS route.
struct GatewayRoute {
    /// 3 Exact, 2 RegularExpression, 1 PathPrefix.
    kind: u8,
    value_len: usize,
    name: String,
    route: Value,
}

fn gateway_api_match(path: &Value) -> (u8, usize, Value) {
    let kind = path["type"].as_str().unwrap_or("PathPrefix");
    let value = path["value"].as_str().unwrap_or("/");
    let m = match kind {
        "Exact" => json!({ "path": value }),
        "RegularExpression" => safe_regex(value),
        _ if value == "/" => json!({ "prefix": "/" }),
        _ => json!({ "path_separated_prefix": value.trim_end_matches('/') }),
    };
    let rank = match kind {
        "Exact" => 3,
        "RegularExpression" => 2,
        _ => 1,
    };
    (rank, value.len(), m)
}

/// The virtual hosts Envoy Gateway builds for the `HTTPRoute` documents of `export`, every
/// backend being `cluster`.
pub(crate) fn gateway_api(export: &str, cluster: &str) -> Vec<VirtualHost> {
    let mut hosts: Vec<(String, Vec<GatewayRoute>)> = Vec::new();
    for doc in documents(export) {
        assert_eq!(doc["kind"], "HTTPRoute", "not an HTTPRoute: {doc}");
        let name = doc["metadata"]["name"].as_str().unwrap();
        let ns = doc["metadata"]["namespace"].as_str().unwrap_or("default");
        let mut hostnames = strs(&doc["spec"]["hostnames"]);
        if hostnames.is_empty() {
            hostnames.push("*".into());
        }
        for host in &hostnames {
            let routes = match hosts.iter_mut().find(|(h, _)| h == host) {
                Some((_, r)) => r,
                None => {
                    hosts.push((host.clone(), Vec::new()));
                    &mut hosts.last_mut().unwrap().1
                }
            };
            for (i, rule) in doc["spec"]["rules"].as_array().unwrap().iter().enumerate() {
                let cors = rule["filters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|f| f["type"] == "CORS")
                    .map(|f| gateway_api_cors(&f["cors"]));
                let default_match = vec![json!({ "path": { "type": "PathPrefix", "value": "/" } })];
                let matches = rule["matches"].as_array().unwrap_or(&default_match);
                for (j, m) in matches.iter().enumerate() {
                    let (kind, value_len, path) = gateway_api_match(&m["path"]);
                    let route_name = format!("httproute/{ns}/{name}/rule/{i}/match/{j}/{host}");
                    let mut route = json!({
                        "name": route_name,
                        "match": path,
                        "route": { "cluster": cluster },
                    });
                    if let Some(c) = &cors {
                        route["typed_per_filter_config"] = json!({ CORS: c });
                    }
                    routes.push(GatewayRoute {
                        kind,
                        value_len,
                        name: route_name,
                        route,
                    });
                }
            }
        }
    }
    hosts
        .into_iter()
        .map(|(host, mut routes)| {
            // sort.go sorts descending by (type, length, name).
            routes.sort_by(|a, b| {
                b.kind
                    .cmp(&a.kind)
                    .then(b.value_len.cmp(&a.value_len))
                    .then_with(|| b.name.cmp(&a.name))
            });
            VirtualHost {
                domains: vec![host],
                routes: routes.into_iter().map(|r| r.route).collect(),
            }
        })
        .collect()
}

/// An Istio `StringMatch` as an Envoy `StringMatcher` (`util.ConvertToEnvoyMatch`).
fn istio_string_match(m: &Value) -> Value {
    if let Some(s) = m["exact"].as_str() {
        json!({ "exact": s })
    } else if let Some(s) = m["prefix"].as_str() {
        json!({ "prefix": s })
    } else if let Some(s) = m["regex"].as_str() {
        safe_regex(s)
    } else {
        panic!("not a StringMatch: {m}")
    }
}

/// `CorsPolicy` for a `corsPolicy`, as istiod's `TranslateCORSPolicy` builds it.
fn istio_cors(c: &Value) -> Value {
    let origins: Vec<Value> = c["allowOrigins"]
        .as_array()
        .into_iter()
        .flatten()
        .map(istio_string_match)
        .collect();
    let mut out = json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy",
        "allow_origin_string_match": origins,
        "allow_methods": strs(&c["allowMethods"]).join(","),
        "allow_headers": strs(&c["allowHeaders"]).join(","),
        "expose_headers": strs(&c["exposeHeaders"]).join(","),
        "forward_not_matching_preflights": c["unmatchedPreflights"] != "IGNORE",
        "filter_enabled": { "default_value": { "numerator": 100, "denominator": "HUNDRED" } },
    });
    if let Some(age) = c["maxAge"].as_str() {
        out["max_age"] = json!(whole_seconds(age).to_string());
    }
    if let Some(b) = c["allowCredentials"].as_bool() {
        out["allow_credentials"] = json!(b);
    }
    out
}

/// `durationpb.GetSeconds()` of the durations the export writes (`600s`, `1h`, `90m`).
fn whole_seconds(d: &str) -> u64 {
    let (num, unit) = d.split_at(d.find(|c: char| !c.is_ascii_digit()).unwrap_or(d.len()));
    let n: u64 = num.parse().unwrap_or_else(|_| panic!("duration `{d}`"));
    match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "ms" => n / 1000,
        _ => panic!("duration `{d}`: unit not handled by this test"),
    }
}

/// `headers.response` as route fields (`TranslateHeadersOperations`).
fn istio_response_headers(route: &mut Value, h: &Value) {
    let remove = strs(&h["remove"]);
    if !remove.is_empty() {
        route["response_headers_to_remove"] = json!(remove);
    }
    let mut add = Vec::new();
    for (key, action) in [
        ("set", "OVERWRITE_IF_EXISTS_OR_ADD"),
        ("add", "APPEND_IF_EXISTS_OR_ADD"),
    ] {
        let mut pairs: Vec<(&String, &Value)> = h[key].as_object().into_iter().flatten().collect();
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        for (k, v) in pairs {
            add.push(json!({
                "header": { "key": k, "value": v.as_str().unwrap() },
                "append_action": action,
            }));
        }
    }
    if !add.is_empty() {
        route["response_headers_to_add"] = json!(add);
    }
}

/// The virtual host istiod builds for the `VirtualService` of `export` (one gateway server
/// for its `hosts`), every destination being `cluster`.
pub(crate) fn istio(export: &str, cluster: &str) -> Vec<VirtualHost> {
    let docs = documents(export);
    assert_eq!(docs.len(), 1, "one VirtualService expected");
    let vs = &docs[0];
    assert_eq!(vs["kind"], "VirtualService");
    let mut routes = Vec::new();
    for http in vs["spec"]["http"].as_array().unwrap() {
        let any = vec![Value::Null];
        let matches = http["match"].as_array().unwrap_or(&any);
        for m in matches {
            let mut rm = json!({ "prefix": "/" });
            if let Some(uri) = m.get("uri") {
                rm = if let Some(p) = uri["exact"].as_str() {
                    json!({ "path": p })
                } else if let Some(p) = uri["prefix"].as_str() {
                    json!({ "prefix": p })
                } else {
                    safe_regex(uri["regex"].as_str().unwrap())
                };
            }
            rm["case_sensitive"] = json!(true);
            if let Some(a) = m.get("authority") {
                rm["headers"] =
                    json!([{ "name": ":authority", "string_match": istio_string_match(a) }]);
            }
            let mut route = json!({
                "name": http["name"],
                "match": rm,
                "route": { "cluster": cluster },
            });
            if let Some(c) = http.get("corsPolicy") {
                route["typed_per_filter_config"] = json!({ CORS: istio_cors(c) });
            }
            if let Some(h) = http.get("headers").and_then(|h| h.get("response")) {
                istio_response_headers(&mut route, h);
            }
            routes.push(route);
        }
    }
    vec![VirtualHost {
        domains: strs(&vs["spec"]["hosts"]),
        routes,
    }]
}

/// A complete bootstrap: one loopback listener on `port` with the CORS filter then the
/// router, `vhosts`, and the cluster `app` to `upstream`. `hcm` adds connection-manager
/// fields (path normalisation, as each control plane sets it). `delayed_close_timeout: 0s`
/// only makes the one-request connections of the runner close at once (no header or status
/// depends on it).
pub(crate) fn bootstrap(
    vhosts: &[VirtualHost],
    hcm: Value,
    port: u16,
    upstream: SocketAddr,
) -> String {
    let vhosts: Vec<Value> = vhosts
        .iter()
        .enumerate()
        .map(|(i, v)| json!({ "name": format!("vhost-{i}"), "domains": v.domains, "routes": v.routes }))
        .collect();
    let mut manager = json!({
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "k8s",
        "delayed_close_timeout": "0s",
        "route_config": { "name": "k8s", "virtual_hosts": vhosts },
        "http_filters": [
            { "name": CORS, "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors" } },
            { "name": "envoy.filters.http.router", "typed_config": { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } },
        ],
    });
    for (k, v) in hcm.as_object().into_iter().flatten() {
        manager[k] = v.clone();
    }
    let config = json!({
        "static_resources": {
            "listeners": [{
                "name": "k8s",
                "address": { "socket_address": { "address": "127.0.0.1", "port_value": port } },
                "filter_chains": [{ "filters": [{
                    "name": "envoy.filters.network.http_connection_manager",
                    "typed_config": manager,
                }] }],
            }],
            "clusters": [{
                "name": "app",
                "type": "STATIC",
                "connect_timeout": "1s",
                "load_assignment": { "cluster_name": "app", "endpoints": [{ "lb_endpoints": [{ "endpoint": { "address": {
                    "socket_address": { "address": upstream.ip().to_string(), "port_value": upstream.port() },
                } } }] }] },
            }],
        },
    });
    serde_json::to_string_pretty(&config).unwrap()
}
