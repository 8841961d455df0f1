//! `corsguard import ingress-nginx|istio|gateway-api`: the fixtures in `tests/fixtures/k8s/`
//! are converted and compared with their golden files (`<name>.expected.yaml`,
//! `UPDATE_SNAPSHOTS=1` regenerates them), and every behaviour table's policy makes the round
//! trip export → import: the imported policy must give the original's decisions (action,
//! status, CORS headers, `Vary`) on every row of its table, through the engine
//! (`corsguard::Policy`). A row where they differ must be listed in [`DIFFERENCES`] with a
//! text of the export's warnings that explains it, and every listed row must differ (so the
//! list is exactly the round trip's result).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod k8s_common;

use std::path::{Path, PathBuf};

use k8s_common::{assert_warnings_are_comments, corsguard};

use corsguard::Policy;
use corsguard::adapter::{Action, RequestHead};
use corsguard_testkit::{ENGINE_HOST, Table, load_tables, request_headers};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};

/// (target, table, row, a text of the export's warnings): rows whose decision the round trip
/// changes, because the target cannot say what the policy says. Row `*`: every row of the
/// table that differs (for a table about one thing the target lacks).
const DIFFERENCES: &[(&str, &str, &str, &str)] = &[
    (
        "istio",
        "credentialed-star-authorization",
        "listed Authorization is reflected",
        "with credentials becomes a lone `*`",
    ),
    ("gateway-api", "csrf", "*", "csrf is NOT exported"),
    ("istio", "csrf", "*", "csrf is NOT exported"),
    (
        "gateway-api",
        "reject-modes",
        "forbid ",
        "on_reject: forbid cannot be expressed",
    ),
    (
        "istio",
        "reject-modes",
        "forbid ",
        "on_reject: forbid cannot be expressed",
    ),
    (
        "gateway-api",
        "reject-modes",
        "passthrough ",
        "preflight.passthrough cannot be expressed",
    ),
    (
        "istio",
        "reject-modes",
        "passthrough ",
        "preflight.passthrough cannot be expressed",
    ),
    (
        "gateway-api",
        "reject-modes",
        "preflight status 200",
        "corsguard's preflight status is not exported",
    ),
    (
        "istio",
        "reject-modes",
        "preflight status 200",
        "corsguard's preflight status is ignored",
    ),
    (
        "istio",
        "special-origins",
        "private network preflight answered",
        "allow_private_network cannot be expressed",
    ),
];

/// (target, a header line the import adds, a text of the export's warnings): removed from
/// the imported decision before comparing, where the original sends no such header.
const ADDED_HEADERS: &[(&str, &str, &str)] = &[(
    "gateway-api",
    "access-control-max-age: 5",
    "the export sets `maxAge: 5`",
)];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/k8s")
}

fn load(yaml: &str, name: &str) -> Policy {
    Policy::load()
        .text(yaml, name, corsguard::Format::Yaml)
        .build()
        .unwrap_or_else(|e| panic!("{name} does not load:\n{e}\n{yaml}"))
}

/// What a policy decides for one row: action, status, the CORS headers (sorted) and `Vary`.
struct Decided {
    action: String,
    headers: Vec<String>,
    vary: Vec<String>,
}

impl Decided {
    fn text(&self) -> String {
        format!("{} {:?} vary {:?}", self.action, self.headers, self.vary)
    }
}

fn decision(policy: &Policy, table: &Table, row: usize) -> Decided {
    let case = &table.cases[row];
    let self_origin = format!("http://{ENGINE_HOST}");
    let mut headers = HeaderMap::new();
    for (n, v) in request_headers(case, &self_origin) {
        headers.append(
            HeaderName::from_bytes(n.as_bytes()).unwrap(),
            HeaderValue::from_bytes(v.as_bytes()).unwrap(),
        );
    }
    let host = case.request.host.as_deref().unwrap_or(ENGINE_HOST);
    headers.insert(http::header::HOST, HeaderValue::from_str(host).unwrap());
    let method = Method::from_bytes(case.request.method.as_bytes()).unwrap();
    let uri: Uri = case.request.path.parse().unwrap();
    let head = RequestHead::from_components(&method, &uri, &headers).with_scheme(Some("http"));
    let d = policy.decide(&head);
    let action = match d.action() {
        Action::Respond(s) => format!("respond {}", s.as_u16()),
        Action::Forward => "forward".into(),
        Action::PassThrough => "pass through".into(),
        other => format!("{other:?}"),
    };
    let mut headers: Vec<String> = d
        .headers()
        .map(|(n, v)| format!("{n}: {}", v.to_str().unwrap()))
        .collect();
    headers.sort();
    let vary = d.vary_tokens().map(str::to_owned).collect();
    Decided {
        action,
        headers,
        vary,
    }
}

/// A row whose decision differs: (row, original, imported).
type RowDiff = (String, String, String);

/// Every row whose decision differs between the original and the round-tripped policy, as
/// (row, original, imported).
fn round_trip(
    target: &str,
    table: &Table,
    dir: &corsguard_testkit::engine::TempDir,
    added_used: &mut Vec<&'static str>,
) -> Option<(String, Vec<RowDiff>)> {
    let file = dir.write(&format!("{target}-{}.yaml", table.name), &table.policy);
    let (code, exported, warnings) =
        corsguard(&["export", target, "--config", &file.display().to_string()]);
    if code != 0 {
        return None;
    }
    let out = dir.write(&format!("{target}-{}.export.yaml", table.name), &exported);
    let (code, imported, err) = corsguard(&["import", target, &out.display().to_string()]);
    assert_eq!(
        code, 0,
        "{target} {}: the import fails:\n{err}\n{exported}",
        table.name
    );
    let original = load(&table.policy, &table.name);
    let back = load(&imported, &format!("{target} round trip of {}", table.name));
    let diffs = (0..table.cases.len())
        .filter_map(|i| {
            let a = decision(&original, table, i);
            let mut b = decision(&back, table, i);
            for (t, line, why) in ADDED_HEADERS {
                let name = line.split(':').next().unwrap_or(line);
                if *t == target
                    && warnings.contains(why)
                    && !a.headers.iter().any(|h| h.starts_with(name))
                    && b.headers.iter().any(|h| h == *line)
                {
                    b.headers.retain(|h| h != *line);
                    added_used.push(*line);
                }
            }
            let (a, b) = (a.text(), b.text());
            (a != b).then(|| (table.cases[i].name.clone(), a, b))
        })
        .collect();
    Some((warnings, diffs))
}

#[test]
fn exports_round_trip_through_the_imports() {
    let dir = corsguard_testkit::engine::TempDir::new("k8s-round-trip");
    let mut unexplained = Vec::new();
    let mut seen = Vec::new();
    let mut added_used = Vec::new();
    let mut exact = 0;
    let mut tables = 0;
    for target in ["gateway-api", "istio"] {
        for t in load_tables() {
            let Some((warnings, diffs)) = round_trip(target, &t, &dir, &mut added_used) else {
                continue;
            };
            tables += 1;
            if diffs.is_empty() {
                exact += 1;
            }
            for (row, a, b) in diffs {
                let declared = DIFFERENCES.iter().find(|d| {
                    d.0 == target && d.1 == t.name && (d.2 == "*" || row.starts_with(d.2))
                });
                match declared {
                    Some(d) => {
                        assert!(
                            warnings.contains(d.3),
                            "{target} {} / {row}: the reason `{}` is not among the export's warnings:\n{warnings}",
                            t.name,
                            d.3
                        );
                        seen.push((target, t.name.clone(), d.2));
                    }
                    None => unexplained.push(format!(
                        "  {target} {} / {row}:\n    original: {a}\n    imported: {b}",
                        t.name
                    )),
                }
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "round trips that change decisions:\n{}",
        unexplained.join("\n")
    );
    for d in DIFFERENCES {
        assert!(
            seen.iter().any(|s| s.0 == d.0 && s.1 == d.1 && s.2 == d.2),
            "{} {} / {}: declared as a difference, but the round trip keeps the decision",
            d.0,
            d.1,
            d.2
        );
    }
    for (_, line, _) in ADDED_HEADERS {
        assert!(
            added_used.contains(line),
            "`{line}` is never added: remove it from ADDED_HEADERS"
        );
    }
    assert_eq!(tables, 18, "exported tables");
    assert!(exact >= 10, "only {exact} tables round-trip exactly");
}

/// Converts a fixture and compares it with `<stem>.expected.yaml`; returns (yaml, stderr).
fn import(kind: &str, fixture: &str) -> (String, String) {
    let path = fixtures().join(fixture);
    let (code, yaml, err) = corsguard(&["import", kind, &path.display().to_string()]);
    assert_eq!(code, 0, "{err}");
    let stem = Path::new(fixture).file_stem().unwrap().to_str().unwrap();
    let expected = fixtures().join(format!("{stem}.expected.yaml"));
    // The path in the title depends on the checkout.
    let shown = yaml.replace(&fixtures().display().to_string(), "tests/fixtures/k8s");
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(&expected, &shown).unwrap();
    } else {
        let want = std::fs::read_to_string(&expected)
            .unwrap_or_else(|_| panic!("missing {} (UPDATE_SNAPSHOTS=1)", expected.display()));
        assert_eq!(shown, want, "output differs from {}", expected.display());
    }
    assert_warnings_are_comments(&yaml, &err, 6);
    load(&yaml, fixture);
    (yaml, err)
}

#[test]
fn ingress_nginx_defaults_are_warned_and_tightened() {
    let (yaml, err) = import("ingress-nginx", "ingress.yaml");
    assert!(
        err.contains("default is `*`, every origin (carried over)"),
        "{err}"
    );
    assert!(err.contains("credentials are turned off"), "{err}");
    assert!(err.contains("default is 1728000 s (20 days)"), "{err}");
    let p = load(&yaml, "ingress");
    let s = p.defaults_summary();
    assert_eq!(s.allow_origins, ["*"]);
    assert!(!s.allow_credentials);
    assert_eq!(s.max_age, Some(86_400));
    assert!(s.allow_methods.contains(&"PATCH".to_string()));

    let (yaml, err) = import("ingress-nginx", "ingress-annotations.yaml");
    assert!(err.contains("`cors-allow-credentials` is not set"), "{err}");
    assert!(err.contains("did you mean `cors-allow-origin`?"), "{err}");
    assert!(err.contains("`admin.example.com` has no scheme"), "{err}");
    let s = load(&yaml, "annotations").defaults_summary();
    assert_eq!(
        s.allow_origins,
        ["https://app.example.com", "https://*.example.org"]
    );
    assert!(s.allow_credentials);

    let (yaml, _) = import("ingress-nginx", "ingress-multi.yaml");
    let p = load(&yaml, "multi");
    let names = p.rule_names();
    assert_eq!(names.len(), 4, "{names:?}");
    let s = &p.summaries()[0];
    assert_eq!(s.hosts, ["api.example.com"]);
    assert_eq!(s.max_age, Some(3600));
    assert!(!p.summaries()[2].cors, "the web Ingress has no CORS");
}

#[test]
fn istio_and_gateway_api_fixtures_convert() {
    let (yaml, err) = import("istio", "virtualservice.yaml");
    assert!(err.contains("`allowOrigin` is deprecated"), "{err}");
    assert!(err.contains("origin prefix `https://staging.`"), "{err}");
    assert!(err.contains("unmatchedPreflights is not IGNORE"), "{err}");
    let p = load(&yaml, "istio");
    let v1 = &p.summaries()[1];
    assert_eq!(v1.hosts, ["api.example.com"]);
    assert_eq!(v1.max_age, Some(86_400));
    assert!(v1.allow_credentials);
    assert!(!p.summaries()[2].cors);
    assert_eq!(
        p.defaults_summary().allow_origins,
        ["https://app.example.com"]
    );

    let (yaml, err) = import("gateway-api", "httproute.yaml");
    assert!(
        err.contains("RegularExpression `/internal/.*` is implementation-specific"),
        "{err}"
    );
    let p = load(&yaml, "gateway-api");
    let d = p.defaults_summary();
    assert_eq!(d.max_age, Some(5), "Gateway API's default maxAge");
    assert_eq!(
        d.allow_origins,
        ["https://app.example.com", "https://*.example.org"]
    );
    // The gateway's order: Exact, then the longest prefix, then regexes.
    assert_eq!(p.summaries()[0].matcher, "regex ^/healthz$");
    assert_eq!(p.summaries()[1].matcher, "path prefix /public");
}
