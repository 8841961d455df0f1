//! One row per validation rule: the config, and the exact code, severity, location and a
//! message fragment of the diagnostic it must produce.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use corsguard::{Diagnostic, Policy, Severity, SourceKind};

struct Row {
    yaml: &'static str,
    code: &'static str,
    severity: Severity,
    path: &'static str,
    message: &'static str,
    hint: Option<&'static str>,
}

const E: Severity = Severity::Error;
const W: Severity = Severity::Warning;

fn row(
    yaml: &'static str,
    code: &'static str,
    severity: Severity,
    path: &'static str,
    message: &'static str,
    hint: Option<&'static str>,
) -> Row {
    Row {
        yaml,
        code,
        severity,
        path,
        message,
        hint,
    }
}

fn diagnostics(yaml: &str) -> Vec<Diagnostic> {
    match Policy::from_yaml_str(yaml) {
        Ok(p) => p.warnings().to_vec(),
        Err(e) => e.diagnostics().to_vec(),
    }
}

#[test]
fn every_rule_reports_code_location_message_and_hint() {
    let ok = "allow_origins: ['https://ok.example']";
    let _ = ok;
    let rows = vec![
        row(
            "defaults:\n  allowed_origins: ['https://a.example']\n  allow_origins: ['https://a.example']\n",
            "unknown-key",
            E,
            "defaults.allowed_origins",
            "unknown key `allowed_origins`",
            Some("did you mean `allow_origins`?"),
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  forced_allow_origin_value: '*'\n",
            "unknown-key",
            E,
            "defaults.forced_allow_origin_value",
            "unknown key",
            Some("did you mean `forced_allow_origin`?"),
        ),
        row(
            "default:\n  allow_origins: ['https://a.example']\n",
            "unknown-key",
            E,
            "default",
            "unknown key `default`",
            Some("did you mean `defaults`?"),
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  allow_credentials: 'yes'\n",
            "type-mismatch",
            E,
            "defaults.allow_credentials",
            "must be a boolean",
            None,
        ),
        row(
            "defaults:\n  allow_origins: https://a.example\n",
            "type-mismatch",
            E,
            "defaults.allow_origins",
            "must be a list of origins",
            Some("write a list: ['https://a.example']"),
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  allow_methods: 'GET, PUT'\n",
            "type-mismatch",
            E,
            "defaults.allow_methods",
            "must be a list",
            Some("write a list: ['GET', 'PUT']"),
        ),
        row("defaults: [\n", "syntax", E, "", "YAML syntax error", None),
        row(
            "defaults:\n  allow_origins: ['https://a.example/']\n",
            "origin-trailing-slash",
            E,
            "defaults.allow_origins[0]",
            "https://a.example/",
            Some("https://a.example"),
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example/api']\n",
            "origin-path",
            E,
            "defaults.allow_origins[0]",
            "https://a.example/api",
            Some("https://a.example"),
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example?x=1']\n",
            "origin-query",
            E,
            "defaults.allow_origins[0]",
            "https://a.example?x=1",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example#top']\n",
            "origin-fragment",
            E,
            "defaults.allow_origins[0]",
            "https://a.example#top",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://user:pw@a.example']\n",
            "origin-userinfo",
            E,
            "defaults.allow_origins[0]",
            "user:pw@a.example",
            Some("https://a.example"),
        ),
        row(
            "defaults:\n  allow_origins: ['https://App.Example.com']\n",
            "origin-uppercase",
            E,
            "defaults.allow_origins[0]",
            "https://App.Example.com",
            Some("https://app.example.com"),
        ),
        row(
            "defaults:\n  allow_origins: ['https://bücher.example']\n",
            "origin-unicode-host",
            E,
            "defaults.allow_origins[0]",
            "bücher.example",
            Some("https://xn--bcher-kva.example"),
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example:443']\n",
            "origin-default-port",
            E,
            "defaults.allow_origins[0]",
            "443",
            Some("https://a.example"),
        ),
        row(
            "defaults:\n  allow_origins: ['http://a.example:80']\n",
            "origin-default-port",
            E,
            "defaults.allow_origins[0]",
            "80",
            Some("http://a.example"),
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example:70000']\n",
            "origin-port-range",
            E,
            "defaults.allow_origins[0]",
            "70000",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['a.example']\n",
            "origin-missing-scheme",
            E,
            "defaults.allow_origins[0]",
            "a.example",
            Some("https://a.example"),
        ),
        row(
            "defaults:\n  allow_origins: ['null']\n",
            "origin-null",
            E,
            "defaults.allow_origins[0]",
            "`null` is not a safe allow-list entry",
            Some("allow_null_origin: true"),
        ),
        row(
            "defaults:\n  allow_origins: ['file:///home/me']\n",
            "origin-file-scheme",
            E,
            "defaults.allow_origins[0]",
            "file",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.*.example']\n",
            "origin-wildcard-position",
            E,
            "defaults.allow_origins[0]",
            "https://a.*.example",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://*example.com']\n",
            "origin-wildcard-position",
            E,
            "defaults.allow_origins[0]",
            "https://*example.com",
            None,
        ),
        row(
            "defaults:\n  allow_origins: [{regex: '^(https$'}]\n",
            "regex-invalid",
            E,
            "defaults.allow_origins[0].regex",
            "",
            None,
        ),
        row(
            "defaults:\n  allow_origins: [{regex: 'https://a\\.example'}]\n",
            "regex-unanchored",
            E,
            "defaults.allow_origins[0].regex",
            "",
            Some("^https://a\\.example$"),
        ),
        row(
            "defaults:\n  allow_origins: [{regex: '^https://a.example$'}]\n",
            "regex-unescaped-dot",
            W,
            "defaults.allow_origins[0].regex",
            "",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['*']\n  allow_credentials: true\n",
            "origin-wildcard-credentials",
            E,
            "defaults.allow_origins[0]",
            "cannot be combined with `allow_credentials: true`",
            Some("list the origins you trust"),
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\npaths:\n  - path: /x\n    allow_origins: ['*']\n",
            "origins-ok-placeholder",
            W,
            "",
            "",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['*']\npaths:\n  - path: /x\n    allow_credentials: true\n",
            "origin-wildcard-credentials",
            E,
            "paths[0].allow_credentials",
            "in paths[0]",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['http://a.example']\n  allow_credentials: true\n",
            "origin-insecure-credentials",
            E,
            "defaults.allow_origins[0]",
            "`http://a.example` is not https",
            Some("https://a.example"),
        ),
        row(
            "defaults:\n  allow_origins: ['https://*.github.io']\n  allow_credentials: true\n",
            "origin-public-suffix-credentials",
            E,
            "defaults.allow_origins[0]",
            "github.io",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://*.co.uk']\n  allow_credentials: true\n",
            "origin-public-suffix-credentials",
            E,
            "defaults.allow_origins[0]",
            "co.uk",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  allow_methods: ['résumé']\n",
            "method-invalid",
            E,
            "defaults.allow_methods[0]",
            "résumé",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  allow_methods: [GET, TRACE]\n",
            "method-forbidden",
            E,
            "defaults.allow_methods[1]",
            "TRACE",
            Some("remove it"),
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  allow_methods: [connect]\n",
            "method-forbidden",
            E,
            "defaults.allow_methods[0]",
            "connect",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  allow_methods: [put]\n",
            "method-normalized",
            W,
            "defaults.allow_methods[0]",
            "`PUT`",
            Some("write `PUT`"),
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  allow_methods: [patch]\n",
            "method-case",
            W,
            "defaults.allow_methods[0]",
            "case-sensitive",
            Some("did you mean `PATCH`?"),
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  allow_methods: [PUT, PUT]\n",
            "method-duplicate",
            W,
            "defaults.allow_methods[1]",
            "PUT",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  allow_headers: ['x foo']\n",
            "header-invalid",
            E,
            "defaults.allow_headers[0]",
            "x foo",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  allow_headers: [Cookie]\n",
            "header-forbidden",
            E,
            "defaults.allow_headers[0]",
            "Cookie",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  allow_headers: [Origin]\n",
            "header-forbidden",
            E,
            "defaults.allow_headers[0]",
            "Origin",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  allow_headers: [sec-fetch-mode]\n",
            "header-forbidden",
            E,
            "defaults.allow_headers[0]",
            "sec-fetch-mode",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  allow_headers: [Proxy-Authorization]\n",
            "header-forbidden",
            E,
            "defaults.allow_headers[0]",
            "Proxy-Authorization",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  allow_headers: [access-control-allow-origin]\n",
            "header-response-name",
            E,
            "defaults.allow_headers[0]",
            "response",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  allow_headers: [X-Foo, x-foo]\n",
            "header-duplicate",
            W,
            "defaults.allow_headers[1]",
            "x-foo",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  allow_headers: ['*', x-foo]\n",
            "header-wildcard-absorbs",
            W,
            "defaults.allow_headers",
            "except Authorization",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  expose_headers: [Set-Cookie]\n",
            "expose-set-cookie",
            E,
            "defaults.expose_headers[0]",
            "Set-Cookie",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  allow_credentials: true\n  expose_headers: ['*']\n",
            "expose-wildcard-credentials",
            E,
            "defaults.expose_headers[0]",
            "credentialed",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  expose_headers: [content-type]\n",
            "expose-safelisted",
            W,
            "defaults.expose_headers[0]",
            "always readable",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  max_age: -1\n",
            "max-age-range",
            E,
            "defaults.max_age",
            "out of range",
            Some("use 0 to disable"),
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  max_age: 86401\n",
            "max-age-range",
            E,
            "defaults.max_age",
            "86401",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  max_age: 10000\n",
            "max-age-chromium-cap",
            W,
            "defaults.max_age",
            "7200",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  max_age: 3600\n",
            "max-age-safari-cap",
            W,
            "defaults.max_age",
            "600",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example', 'https://a.example']\n",
            "origin-duplicate",
            W,
            "defaults.allow_origins[1]",
            "more than once",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example', '*']\n",
            "origin-wildcard-absorbs",
            W,
            "defaults.allow_origins[1]",
            "no effect",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  preflight: {status: 301}\n",
            "preflight-status",
            E,
            "defaults.preflight.status",
            "301",
            Some("204"),
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  on_reject: drop\n",
            "invalid-value",
            E,
            "defaults.on_reject",
            "drop",
            Some("omit"),
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\n  forced_allow_origin: 'https://*.a.example'\n",
            "forced-origin-invalid",
            E,
            "defaults.forced_allow_origin",
            "one exact origin",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\npaths:\n  - path: /api/\n  - path: /api/v1/\n",
            "rule-unreachable",
            W,
            "paths[1].path",
            "paths[1] can never apply",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\npaths:\n  - regex: '^/(v1'\n",
            "path-regex-invalid",
            E,
            "paths[0].regex",
            "invalid path regex",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\npaths:\n  - regex: '/v1/'\n",
            "path-regex-unanchored",
            W,
            "paths[0].regex",
            "not anchored",
            Some("^/v1/"),
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\npaths:\n  - path: api\n",
            "path-prefix-invalid",
            E,
            "paths[0].path",
            "must start with `/`",
            Some("/api"),
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\npaths:\n  - allow_credentials: true\n",
            "rule-missing-matcher",
            E,
            "paths[0]",
            "needs `path`",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\npaths:\n  - path: /a\n    glob: /b\n",
            "rule-multiple-matchers",
            E,
            "paths[0]",
            "one matcher",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\npaths:\n  - path: /a\n    hosts: ['https://api.example']\n",
            "host-invalid",
            E,
            "paths[0].hosts[0]",
            "https://api.example",
            None,
        ),
        row(
            "defaults:\n  allow_methods: [GET]\n",
            "origins-missing",
            E,
            "defaults.allow_origins",
            "no rule allows any origin",
            Some("CORS_ALLOWED_ORIGINS"),
        ),
        // An allow-list written empty is a deny-all policy: it loads, with a warning.
        row(
            "defaults:\n  allow_origins: []\n  allow_methods: [GET]\n",
            "origins-empty",
            W,
            "defaults.allow_origins",
            "no origin is allowed; every cross-origin request will be refused",
            Some("allow_origins: ['https://app.example.com']"),
        ),
        row(
            "defaults:\n  allow_origins:\n",
            "origins-empty",
            W,
            "defaults.allow_origins",
            "no origin is allowed; every cross-origin request will be refused",
            None,
        ),
        row(
            "paths:\n  - path: /api/\n    allow_origins: []\n",
            "origins-empty",
            W,
            "paths[0].allow_origins",
            "no origin is allowed",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\ngateway:\n  listen: localhost\n",
            "gateway-invalid-address",
            E,
            "gateway.listen",
            "localhost",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\ngateway:\n  upstream: ftp://x\n",
            "gateway-invalid-upstream",
            E,
            "gateway.upstream",
            "ftp",
            None,
        ),
        row(
            "defaults:\n  allow_origins: ['https://a.example']\ngateway:\n  timeouts: {connect: soon}\n",
            "gateway-invalid-duration",
            E,
            "gateway.timeouts.connect",
            "duration",
            None,
        ),
    ];
    let mut failures = Vec::new();
    for r in rows.iter().filter(|r| r.code != "origins-ok-placeholder") {
        let ds = diagnostics(r.yaml);
        let found = ds
            .iter()
            .find(|d| d.code == r.code && d.location.path == r.path);
        match found {
            None => failures.push(format!(
                "{:?}: expected {} at `{}`, got {:?}",
                r.yaml,
                r.code,
                r.path,
                ds.iter()
                    .map(|d| (d.code, d.location.path.clone()))
                    .collect::<Vec<_>>()
            )),
            Some(d) => {
                if d.severity != r.severity {
                    failures.push(format!("{}: severity {:?}", r.code, d.severity));
                }
                if !d.message.contains(r.message) {
                    failures.push(format!(
                        "{}: message {:?} lacks {:?}",
                        r.code, d.message, r.message
                    ));
                }
                if let Some(h) = r.hint
                    && !d.hint.as_deref().unwrap_or("").contains(h)
                {
                    failures.push(format!("{}: hint {:?} lacks {:?}", r.code, d.hint, h));
                }
                if !matches!(d.location.source, SourceKind::Text { .. })
                    || (d.location.span.is_none() && r.code != "origins-missing")
                {
                    failures.push(format!("{}: no source span in {:?}", r.code, d.location));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn all_errors_are_reported_at_once_with_line_and_column() {
    let yaml = "defaults:\n  allow_origins: ['https://a.example/', '*']\n  allow_credentials: true\n  max_age: -5\n  allow_methods: [TRACE]\n";
    let err = Policy::from_yaml_str(yaml).unwrap_err();
    let codes: Vec<&str> = err.errors().map(|d| d.code.as_str()).collect();
    for c in [
        "origin-trailing-slash",
        "origin-wildcard-credentials",
        "max-age-range",
        "method-forbidden",
    ] {
        assert!(codes.contains(&c), "{c} missing from {codes:?}");
    }
    let slash = err
        .diagnostics()
        .iter()
        .find(|d| d.code == "origin-trailing-slash")
        .unwrap();
    let span = slash.location.span.unwrap();
    assert_eq!((span.line, span.column), (2, 19));
    assert_eq!(&yaml[span.start..span.end], "'https://a.example/'");
    assert_eq!(err.source_text(), Some(yaml));
}

#[test]
fn toml_diagnostics_point_into_the_toml() {
    let toml = "[defaults]\nallow_origins = [\"https://a.example\"]\nmax_age = 99999\n\n[[paths]]\npath = \"/x\"\nallow_methodz = [\"PUT\"]\n";
    let err = Policy::load().toml(toml).build().unwrap_err();
    let max = err
        .diagnostics()
        .iter()
        .find(|d| d.code == "max-age-range")
        .unwrap();
    assert_eq!(max.location.path, "defaults.max_age");
    assert_eq!(max.location.span.unwrap().line, 3);
    let unk = err
        .diagnostics()
        .iter()
        .find(|d| d.code == "unknown-key")
        .unwrap();
    assert_eq!(unk.location.path, "paths[0].allow_methodz");
    assert_eq!(unk.location.span.unwrap().line, 7);
    assert_eq!(unk.hint.as_deref(), Some("did you mean `allow_methods`?"));
}

fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn env_values_are_validated_and_errors_name_the_variable() {
    let err = Policy::load()
        .env_vars(env(&[
            (
                "CORS_ALLOWED_ORIGINS",
                "https://a.example/,https://b.example",
            ),
            ("CORSGUARD_MAX_AGE", "ten"),
        ]))
        .build()
        .unwrap_err();
    let slash = err
        .diagnostics()
        .iter()
        .find(|d| d.code == "origin-trailing-slash")
        .unwrap();
    assert_eq!(
        slash.location.source,
        SourceKind::Env {
            var: "CORS_ALLOWED_ORIGINS".into()
        }
    );
    assert_eq!(slash.location.path, "defaults.allow_origins[0]");
    let int = err
        .diagnostics()
        .iter()
        .find(|d| d.code == "env-invalid-int")
        .unwrap();
    assert_eq!(
        int.location.source,
        SourceKind::Env {
            var: "CORSGUARD_MAX_AGE".into()
        }
    );
    assert!(int.to_string().contains("env CORSGUARD_MAX_AGE"));

    let err = Policy::load()
        .env_vars(env(&[
            ("CORS_ORIGIN_WHITELIST", "https://a.example"),
            ("CORSGUARD_ALLOW_CREDENTIALS", "maybe"),
        ]))
        .build()
        .unwrap_err();
    assert_eq!(err.diagnostics()[0].code, "env-invalid-bool");

    let err = Policy::load().env_vars(env(&[])).build().unwrap_err();
    assert_eq!(err.diagnostics()[0].code, "origins-missing");
    assert_eq!(err.diagnostics()[0].severity, Severity::Error);
    assert!(
        err.diagnostics()[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("CORS_ALLOWED_ORIGINS")
    );
}

#[test]
fn env_lists_accept_commas_whitespace_and_json() {
    for v in [
        "https://a.example,https://b.example",
        "https://a.example https://b.example",
        "  https://a.example,\n https://b.example ",
        r#"["https://a.example", "https://b.example"]"#,
    ] {
        let p = Policy::load()
            .env_vars(env(&[("CORS_ALLOWED_ORIGINS", v)]))
            .build()
            .unwrap();
        assert_eq!(
            p.defaults_summary().allow_origins,
            ["https://a.example", "https://b.example"],
            "{v}"
        );
    }
    let p = Policy::load()
        .env_vars(env(&[
            ("CORS_ORIGIN_WHITELIST", "https://old.example"),
            ("CORSGUARD_ALLOW_CREDENTIALS", "true"),
            ("CORSGUARD_MAX_AGE", "600"),
            ("CORSGUARD_ALLOW_METHODS", "GET,PUT"),
            ("CORSGUARD_ON_REJECT", "forbid"),
            ("CORSGUARD_PREFLIGHT_STATUS", "200"),
            ("CORSGUARD_ALOW_HEADERS", "x"),
        ]))
        .build()
        .unwrap();
    let s = p.defaults_summary();
    assert_eq!(s.allow_origins, ["https://old.example"]);
    assert!(s.allow_credentials);
    assert_eq!(s.max_age, Some(600));
    assert_eq!(s.allow_methods, ["GET", "PUT"]);
    assert_eq!(s.on_reject, corsguard::OnReject::Forbid);
    assert_eq!(s.preflight_status, 200);
    let w = p
        .warnings()
        .iter()
        .find(|d| d.code == "env-unknown")
        .unwrap();
    assert_eq!(
        w.hint.as_deref(),
        Some("did you mean CORSGUARD_ALLOW_HEADERS?")
    );
}

#[test]
fn env_overrides_file_defaults_but_not_path_rules() {
    let dir = std::env::temp_dir().join(format!("corsguard-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("p.yaml");
    std::fs::write(&f, "defaults:\n  allow_origins: ['https://file.example']\n  max_age: 60\npaths:\n  - path: /x\n    allow_origins: ['https://x.example']\n").unwrap();
    let p = Policy::load()
        .file(&f)
        .env_vars(env(&[("CORS_ALLOWED_ORIGINS", "https://env.example")]))
        .build()
        .unwrap();
    let s = p.summaries();
    assert_eq!(s[0].allow_origins, ["https://x.example"]);
    assert_eq!(s[1].allow_origins, ["https://env.example"]);
    assert_eq!(s[1].max_age, Some(60));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn examples_load_and_yaml_equals_toml() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let y = Policy::from_file(root.join("corsguard.yaml")).unwrap();
    let t = Policy::from_file(root.join("corsguard.toml")).unwrap();
    assert!(y.warnings().is_empty(), "{:?}", y.warnings());
    assert_eq!(y.summaries(), t.summaries());
}

#[test]
fn file_errors_are_diagnostics_not_panics() {
    let e = Policy::from_file("/nonexistent/corsguard.yaml").unwrap_err();
    assert_eq!(e.diagnostics()[0].code, "io");
    let e = Policy::from_file("corsguard.json").unwrap_err();
    assert_eq!(e.diagnostics()[0].code, "unknown-extension");
}

#[test]
fn explicit_false_and_empty_lists_override_defaults() {
    let p = Policy::from_yaml_str("defaults:\n  allow_origins: ['https://a.example']\n  allow_credentials: true\n  allow_headers: [x-a]\npaths:\n  - path: /x\n    allow_credentials: false\n    allow_headers: []\n").unwrap();
    let s = &p.summaries()[0];
    assert!(!s.allow_credentials);
    assert!(s.allow_headers.is_empty());
    assert_eq!(s.allow_origins, ["https://a.example"]);
}

/// `allow_origins: []` or `CORS_ALLOWED_ORIGINS=` set to nothing: a valid deny-all policy
/// (django-cors-headers, Nelmio and express accept it), with one warning.
#[test]
fn an_empty_allow_list_is_a_deny_all_policy_with_a_warning() {
    let from_file = Policy::from_yaml_str("defaults:\n  allow_origins: []\n").unwrap();
    for value in ["", "  ", ",", "[]"] {
        let from_env = Policy::load()
            .env_vars(env(&[("CORS_ALLOWED_ORIGINS", value)]))
            .build()
            .unwrap_or_else(|e| panic!("CORS_ALLOWED_ORIGINS={value:?}: {e}"));
        let [w] = from_env.warnings() else {
            panic!("{value:?}: {:?}", from_env.warnings());
        };
        assert_eq!(
            (w.code.as_str(), w.severity),
            ("origins-empty", Severity::Warning)
        );
        assert_eq!(
            w.location.source,
            SourceKind::Env {
                var: "CORS_ALLOWED_ORIGINS".into()
            }
        );
        assert_eq!(w.location.path, "defaults.allow_origins");
        assert!(!from_env.origin_allowed("/", None, b"https://a.example"));
    }
    let [w] = from_file.warnings() else {
        panic!("{:?}", from_file.warnings());
    };
    assert_eq!(
        w.to_string(),
        "warning[origins-empty]: <yaml>:2:18: defaults.allow_origins: no origin is allowed; every cross-origin request will be refused (hint: list the origins that may call this API, e.g. `allow_origins: ['https://app.example.com']`; keep it empty only to refuse every cross-origin request)"
    );
    for origin in ["https://a.example", "null", "http://localhost:3000"] {
        assert!(
            !from_file.origin_allowed("/", None, origin.as_bytes()),
            "{origin}"
        );
    }
}
