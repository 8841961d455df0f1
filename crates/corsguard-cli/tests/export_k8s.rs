//! `corsguard export gateway-api|istio`, validated offline: every behaviour table's policy
//! (`tests/cases/*.yaml`) is exported and each document is checked against the vendored
//! schemas in `tests/schemas/` — the OpenAPI part with the `jsonschema` crate, the CEL rules
//! (`cel.yaml`, written down with their source) with one hand-coded checker per rule id. A
//! policy the target cannot express must exit 1 with the error listed here. Deliberately
//! broken documents must fail (the validator is no no-op), and the export of
//! `tests/fixtures/k8s/policy.yaml` is compared with its golden files (`UPDATE_SNAPSHOTS=1`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod k8s_common;

use std::path::{Path, PathBuf};

use k8s_common::{assert_warnings_are_comments, corsguard};

use serde_json::Value;

/// A target's schema and CEL rules.
struct Schema {
    validator: jsonschema::Validator,
    cel: Vec<String>,
}

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/schemas")
}

fn schema(target: &str) -> Schema {
    let (file, cel) = match target {
        "gateway-api" => (
            "gateway-api/httproute-v1.schema.json",
            "gateway-api/cel.yaml",
        ),
        _ => ("istio/virtualservice-v1.schema.json", "istio/cel.yaml"),
    };
    let text = std::fs::read_to_string(schemas_dir().join(file)).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::draft202012::new(&json).unwrap();
    let rules: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(schemas_dir().join(cel)).unwrap()).unwrap();
    let cel = rules["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    Schema { validator, cel }
}

/// Runs `corsguard export TARGET --config FILE EXTRA…`: (exit code, stdout, stderr).
fn export(target: &str, policy: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["export".to_string(), target.into(), "--config".into()];
    args.push(policy.display().to_string());
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    corsguard(&args)
}

/// The YAML documents of an export, as JSON values.
fn documents(text: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text)
        .unwrap_or_else(|e| panic!("the export is not YAML: {e}\n{text}"))
        .into_iter()
        .filter(|v| !v.is_null())
        .collect()
}

/// Every element a `spec.rules[].filters[]`-style path reaches.
fn at<'a>(doc: &'a Value, path: &str) -> Vec<(String, &'a Value)> {
    let mut found = vec![(String::new(), doc)];
    for part in path.split('.') {
        let (key, each) = match part.strip_suffix("[]") {
            Some(k) => (k, true),
            None => (part, false),
        };
        let mut next = Vec::new();
        for (p, v) in found {
            let Some(child) = v.get(key) else { continue };
            let p = format!("{p}/{key}");
            if each {
                for (i, item) in child.as_array().into_iter().flatten().enumerate() {
                    next.push((format!("{p}/{i}"), item));
                }
            } else {
                next.push((p, child));
            }
        }
        found = next;
    }
    found
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

/// Go's `time.ParseDuration` subset Istio accepts, in nanoseconds; `None` if not a duration.
fn duration_ns(s: &str) -> Option<u128> {
    let mut total = 0u128;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.')?;
        let (num, tail) = rest.split_at(digits);
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let scale: f64 = match unit {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        let n: f64 = num.parse().ok()?;
        total += (n * scale) as u128;
        rest = tail;
    }
    Some(total)
}

/// The CEL rule `id` on `doc`: the places where it fails.
fn cel_failures(id: &str, doc: &Value) -> Vec<String> {
    let path_rule = |f: &dyn Fn(&str) -> bool| {
        at(doc, "spec.rules[].matches[].path")
            .into_iter()
            .filter(|(_, m)| {
                let t = m["type"].as_str().unwrap_or("PathPrefix");
                let v = m["value"].as_str().unwrap_or("/");
                matches!(t, "Exact" | "PathPrefix") && !f(v)
            })
            .map(|(p, _)| p)
            .collect::<Vec<_>>()
    };
    let star_alone = |path: &str| {
        at(doc, path)
            .into_iter()
            .filter(|(_, l)| {
                let l = strings(l);
                l.contains(&"*") && l.len() > 1
            })
            .map(|(p, _)| p)
            .collect::<Vec<_>>()
    };
    match id {
        "cors-origins-star-alone" => star_alone("spec.rules[].filters[].cors.allowOrigins"),
        "cors-methods-star-alone" => star_alone("spec.rules[].filters[].cors.allowMethods"),
        "filter-cors-only-for-cors" => at(doc, "spec.rules[].filters[]")
            .into_iter()
            .filter(|(_, f)| f.get("cors").is_some() && f["type"] != "CORS")
            .map(|(p, _)| p)
            .collect(),
        "filter-cors-required" => at(doc, "spec.rules[].filters[]")
            .into_iter()
            .filter(|(_, f)| f.get("cors").is_none() && f["type"] == "CORS")
            .map(|(p, _)| p)
            .collect(),
        "path-absolute" => path_rule(&|v| v.starts_with('/')),
        "path-no-double-slash" => path_rule(&|v| !v.contains("//")),
        "path-no-dot-segment" => path_rule(&|v| !v.contains("/./")),
        "path-no-dot-dot-segment" => path_rule(&|v| !v.contains("/../")),
        "path-no-encoded-slash-lower" => path_rule(&|v| !v.contains("%2f")),
        "path-no-encoded-slash-upper" => path_rule(&|v| !v.contains("%2F")),
        "path-no-fragment" => path_rule(&|v| !v.contains('#')),
        "path-no-trailing-dot-dot" => path_rule(&|v| !v.ends_with("/..")),
        "path-no-trailing-dot" => path_rule(&|v| !v.ends_with("/.")),
        "path-valid-characters" => {
            let re = regex::Regex::new(r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$")
                .unwrap();
            path_rule(&|v| re.is_match(v))
        }
        "rules-total-matches" => {
            let n: usize = at(doc, "spec.rules[]")
                .iter()
                .map(|(_, r)| r["matches"].as_array().map_or(0, Vec::len))
                .sum();
            if n > 128 {
                vec![format!("/spec/rules ({n} matches)")]
            } else {
                Vec::new()
            }
        }
        "backend-service-port" => at(doc, "spec.rules[].backendRefs[]")
            .into_iter()
            .filter(|(_, b)| {
                b["group"].as_str().unwrap_or("").is_empty()
                    && b["kind"].as_str().unwrap_or("Service") == "Service"
                    && b.get("port").is_none()
            })
            .map(|(p, _)| p)
            .collect(),
        "duration-at-least-1ms" => at(doc, "spec.http[].corsPolicy.maxAge")
            .into_iter()
            .filter(|(_, d)| {
                d.as_str()
                    .and_then(duration_ns)
                    .is_none_or(|ns| ns < 1_000_000)
            })
            .map(|(p, _)| p)
            .collect(),
        other => panic!("cel.yaml rule `{other}` has no checker in this test"),
    }
}

/// Every schema error and CEL failure of one document.
fn problems(s: &Schema, doc: &Value) -> Vec<String> {
    let mut out: Vec<String> = s
        .validator
        .iter_errors(doc)
        .map(|e| format!("schema: {} at {}", e, e.instance_path()))
        .collect();
    for id in &s.cel {
        for p in cel_failures(id, doc) {
            out.push(format!("cel {id}: at {p}"));
        }
    }
    out
}

/// Tables the target cannot express, with the error it must give.
fn expected_error(target: &str, table: &str) -> Option<&'static str> {
    match (target, table) {
        ("gateway-api", "credentialed") => Some("Gateway API has no \"any port\" pattern"),
        ("gateway-api", "special-origins") => Some("forced_allow_origin cannot be expressed"),
        _ => None,
    }
}

#[test]
fn every_behaviour_table_exports_valid_documents() {
    let dir = corsguard_testkit::engine::TempDir::new("k8s-schemas");
    for target in ["gateway-api", "istio"] {
        let s = schema(target);
        let mut valid = 0;
        for t in corsguard_testkit::load_tables() {
            let file = dir.write(&format!("{}.yaml", t.name.replace(' ', "-")), &t.policy);
            let (code, out, err) = export(
                target,
                &file,
                &[
                    "--parent-ref",
                    "infra/edge/https",
                    "--backend",
                    "api.shop:8080",
                ],
            );
            if let Some(want) = expected_error(target, &t.name) {
                assert_eq!(code, 1, "{target} {}: expected exit 1\n{err}", t.name);
                assert!(err.contains(want), "{target} {}: {err}", t.name);
                continue;
            }
            assert_eq!(code, 0, "{target} {}: {err}", t.name);
            let docs = documents(&out);
            assert!(!docs.is_empty(), "{target} {}: no document", t.name);
            for d in &docs {
                let p = problems(&s, d);
                assert!(
                    p.is_empty(),
                    "{target} {}: invalid document:\n  {}\n{out}",
                    t.name,
                    p.join("\n  ")
                );
            }
            valid += 1;
        }
        let want = if target == "istio" { 10 } else { 8 };
        assert_eq!(valid, want, "{target}: tables exported and validated");
    }
}

/// Sets `value` at a JSON pointer whose parent exists.
fn set(doc: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    match doc.pointer_mut(parent) {
        Some(Value::Object(o)) => {
            o.insert(key.to_owned(), value);
        }
        Some(Value::Array(a)) => a[key.parse::<usize>().unwrap()] = value,
        _ => panic!("no {parent}"),
    }
}

#[test]
fn broken_documents_fail_validation() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/k8s/policy.yaml");
    let (_, out, err) = export("gateway-api", &fixture, &[]);
    let gw = documents(&out).pop().unwrap_or_else(|| panic!("{err}"));
    let s = schema("gateway-api");
    assert_eq!(problems(&s, &gw), Vec::<String>::new());
    let cors = "/spec/rules/0/filters/0/cors";
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "/allowMethods",
            serde_json::json!(["GET", "PURGE"]),
            "schema",
        ),
        ("/maxAge", serde_json::json!(0), "schema"),
        (
            "/allowOrigins",
            serde_json::json!(["https://a.example", "*"]),
            "cel cors-origins-star-alone",
        ),
        (
            "/allowOrigins",
            serde_json::json!([{"regex": "x"}]),
            "schema",
        ),
        (
            "/allowOrigins",
            serde_json::json!(["https://a.example", "https://a.example"]),
            "schema",
        ),
        (
            "/allowMethods",
            serde_json::json!(["*", "GET"]),
            "cel cors-methods-star-alone",
        ),
        ("/allowHeaders", serde_json::json!(["x y"]), "schema"),
        ("/allowCredentials", serde_json::json!("true"), "schema"),
        (
            "/allowOrigins",
            serde_json::json!(["ftp://a.example"]),
            "schema",
        ),
    ];
    for (field, value, want) in cases {
        let mut d = gw.clone();
        set(&mut d, &format!("{cors}{field}"), value.clone());
        let p = problems(&s, &d);
        assert!(
            p.iter().any(|m| m.starts_with(want)),
            "{field} = {value}: expected a `{want}` failure, got {p:?}"
        );
    }
    let mut d = gw.clone();
    set(
        &mut d,
        "/spec/rules/0/matches/0/path/value",
        serde_json::json!("/a//b"),
    );
    assert!(
        problems(&s, &d)
            .iter()
            .any(|m| m.starts_with("cel path-no-double-slash"))
    );
    let mut d = gw.clone();
    set(
        &mut d,
        "/spec/rules/0/filters/0/type",
        serde_json::json!("URLRewrite"),
    );
    assert!(
        problems(&s, &d)
            .iter()
            .any(|m| m.starts_with("cel filter-cors-only-for-cors"))
    );
    let mut d = gw.clone();
    d["spec"]["rules"][0]["backendRefs"][0]
        .as_object_mut()
        .unwrap()
        .remove("port");
    assert!(
        problems(&s, &d)
            .iter()
            .any(|m| m.starts_with("cel backend-service-port"))
    );
    let mut d = gw.clone();
    d["spec"]["unknownField"] = serde_json::json!(1);
    assert!(problems(&s, &d).iter().any(|m| m.starts_with("schema")));

    let (_, out, _) = export("istio", &fixture, &[]);
    let vs = documents(&out).pop().unwrap();
    let s = schema("istio");
    assert_eq!(problems(&s, &vs), Vec::<String>::new());
    let cors = "/spec/http/0/corsPolicy";
    for (field, value, want) in [
        (
            "/maxAge",
            serde_json::json!("0s"),
            "cel duration-at-least-1ms",
        ),
        (
            "/maxAge",
            serde_json::json!("ten"),
            "cel duration-at-least-1ms",
        ),
        ("/maxAge", serde_json::json!(600), "schema"),
        ("/unmatchedPreflights", serde_json::json!("DROP"), "schema"),
        (
            "/allowOrigins",
            serde_json::json!([{"exact": "a", "regex": "b"}]),
            "schema",
        ),
    ] {
        let mut d = vs.clone();
        set(&mut d, &format!("{cors}{field}"), value.clone());
        let p = problems(&s, &d);
        assert!(
            p.iter().any(|m| m.starts_with(want)),
            "{field} = {value}: expected a `{want}` failure, got {p:?}"
        );
    }
}

#[test]
fn durations_parse_like_go() {
    assert_eq!(duration_ns("600s"), Some(600_000_000_000));
    assert_eq!(duration_ns("1m30s"), Some(90_000_000_000));
    assert_eq!(duration_ns("1.5ms"), Some(1_500_000));
    assert_eq!(duration_ns("10"), None);
    assert_eq!(duration_ns(""), None);
}

/// Compares an export with its golden file (`UPDATE_SNAPSHOTS=1` rewrites it).
fn golden(name: &str, text: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/k8s")
        .join(name);
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, text).unwrap();
    } else {
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("missing {} (UPDATE_SNAPSHOTS=1)", path.display()));
        assert_eq!(text, want, "output differs from {}", path.display());
    }
}

#[test]
fn the_fixture_exports_match_their_golden_files() {
    let fixture = Path::new("tests/fixtures/k8s/policy.yaml");
    let args = [
        "--name",
        "shop-api",
        "--namespace",
        "shop",
        "--parent-ref",
        "infra/edge/https",
        "--backend",
        "api:8080",
        "--hostname",
        "api.example.com",
    ];
    for (target, file) in [
        ("gateway-api", "policy.gateway-api.yaml"),
        ("istio", "policy.istio.yaml"),
    ] {
        let (code, out, err) = export(target, fixture, &args);
        assert_eq!(code, 0, "{err}");
        assert_warnings_are_comments(&out, &err, 8);
        golden(file, &out);
    }
}

#[test]
fn usage_errors_exit_2_and_inexpressible_policies_exit_1() {
    let dir = corsguard_testkit::engine::TempDir::new("k8s-errors");
    let ok = dir.write(
        "ok.yaml",
        "defaults: { allow_origins: ['https://a.example'] }\n",
    );
    for bad in [
        vec!["--backend", "api"],
        vec!["--parent-ref", "a/b/c/d"],
        vec!["--name", "Shop"],
    ] {
        let (code, _, err) = export("gateway-api", &ok, &bad);
        assert_eq!(code, 2, "{bad:?}: {err}");
    }
    for (policy, want) in [
        (
            "defaults: { allow_origins: [{regex: '^https://a\\.example$'}] }\n",
            "has no regular expressions",
        ),
        (
            "defaults: { allow_origins: ['https://a.example'], allow_methods: [PURGE] }\n",
            "method `PURGE` cannot be expressed",
        ),
        (
            "defaults: { allow_origins: ['https://a.example'], allow_null_origin: true }\n",
            "`null` is not a CORSOrigin",
        ),
    ] {
        let f = dir.write("p.yaml", policy);
        let (code, out, err) = export("gateway-api", &f, &[]);
        assert_eq!(code, 1, "{policy}: {err}");
        assert!(err.contains(want), "{policy}: {err}");
        assert!(out.is_empty());
    }
    let many: Vec<String> = (0..65).map(|i| format!("'https://o{i}.example'")).collect();
    let f = dir.write(
        "p.yaml",
        &format!("defaults: {{ allow_origins: [{}] }}\n", many.join(", ")),
    );
    let (code, _, err) = export("gateway-api", &f, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("allowOrigins takes at most 64"), "{err}");
}
