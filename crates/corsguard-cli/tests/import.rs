//! `corsguard import nelmio|django`: the Symfony Flex recipe's default `nelmio_cors.yaml` and
//! django settings snippets are converted, compared with the committed expected output
//! (`tests/fixtures/import/*.expected.yaml`; regenerate with `UPDATE_SNAPSHOTS=1`), checked
//! for their warnings, loaded by the engine and exercised with real decisions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use corsguard::adapter::{Action, RequestHead};
use corsguard::{Format, Policy};

fn corsguard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corsguard"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

/// Converts a fixture; compares stdout with `<name>.expected.yaml`; returns (yaml, stderr).
fn import(kind: &str, fixture: &str) -> (String, String) {
    let rel = format!("tests/fixtures/import/{fixture}");
    let out = corsguard(&["import", kind, &rel]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stem = Path::new(fixture).file_stem().unwrap().to_str().unwrap();
    let expected = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(format!("{stem}.expected.yaml"));
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(&expected, &stdout).unwrap();
    } else {
        let want = std::fs::read_to_string(&expected)
            .unwrap_or_else(|_| panic!("missing {} (UPDATE_SNAPSHOTS=1)", expected.display()));
        assert_eq!(stdout, want, "output differs from {}", expected.display());
    }
    // Every warning is on stderr and in the output as a comment.
    for line in stderr.lines() {
        let w = line.strip_prefix("warning: ").expect(line);
        let first_words: String = w.split(' ').take(6).collect::<Vec<_>>().join(" ");
        let flat = stdout
            .lines()
            .filter_map(|l| l.strip_prefix('#'))
            .map(|l| l.trim_start_matches([' ', '-']).trim_end())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            flat.contains(&first_words),
            "warning not in the output: {w}"
        );
    }
    (stdout, stderr)
}

fn load(yaml: &str, env: Option<&[(String, String)]>) -> Policy {
    match env {
        Some(vars) => Policy::load().env_vars(vars.to_vec()),
        None => Policy::load(),
    }
    .text(yaml, "converted.yaml", Format::Yaml)
    .build()
    .unwrap_or_else(|e| panic!("the converted policy does not load:\n{e}\n{yaml}"))
}

/// (status or "forward", headers) for a request.
fn decide(
    p: &Policy,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (String, Vec<(String, String)>) {
    let values: Vec<(http::HeaderName, http::HeaderValue)> = headers
        .iter()
        .map(|(n, v)| (n.parse().unwrap(), http::HeaderValue::from_str(v).unwrap()))
        .collect();
    let mut head = RequestHead::new(method, path)
        .with_host(Some("api.example.com"))
        .with_scheme(Some("https"));
    for (n, v) in &values {
        head.push_header(n, v);
    }
    let d = p.decide(&head);
    let action = match d.action() {
        Action::Respond(s) => s.as_u16().to_string(),
        Action::Forward => "forward".into(),
        Action::PassThrough => "passthrough".into(),
        other => panic!("unknown action {other:?}"),
    };
    let mut h: Vec<(String, String)> = d
        .headers()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let vary: Vec<&str> = d.vary_tokens().collect();
    if !vary.is_empty() {
        h.push(("vary".into(), vary.join(", ")));
    }
    (action, h)
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[test]
fn nelmio_flex_recipe_round_trips() {
    let (yaml, stderr) = import("nelmio", "nelmio_cors.yaml");
    assert!(stderr.contains("%env(CORS_ALLOW_ORIGIN)%"), "{stderr}");
    assert!(
        yaml.contains("# TODO: Nelmio read %env(CORS_ALLOW_ORIGIN)% here"),
        "{yaml}"
    );
    assert!(
        yaml.contains("paths '^/': ~ only applies the defaults"),
        "{yaml}"
    );
    let p = load(&yaml, None);
    assert_eq!(p.rule_names(), ["defaults"]);
    let s = p.defaults_summary();
    assert_eq!(s.allow_origins, ["https://replace-me.invalid"]);
    assert_eq!(
        s.allow_methods,
        ["GET", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"]
    );
    assert_eq!(s.expose_headers, ["link"]);
    assert_eq!(s.max_age, Some(3600));
    assert!(!s.allow_credentials);
    // The placeholder allows nothing…
    let (_, h) = decide(&p, "GET", "/api/x", &[("origin", "http://localhost:8000")]);
    assert_eq!(h, pairs(&[("vary", "Origin")]));
    // …until the environment provides the origins, as the recipe's .env did.
    let env = vec![(
        "CORS_ALLOWED_ORIGINS".to_string(),
        "http://localhost:*, http://127.0.0.1:*".to_string(),
    )];
    let p = load(&yaml, Some(&env));
    let (action, h) = decide(
        &p,
        "OPTIONS",
        "/api/books/1",
        &[
            ("origin", "http://localhost:8000"),
            ("access-control-request-method", "PATCH"),
            (
                "access-control-request-headers",
                "authorization,content-type",
            ),
        ],
    );
    assert_eq!(action, "204");
    assert_eq!(
        h,
        pairs(&[
            ("access-control-allow-origin", "http://localhost:8000"),
            (
                "access-control-allow-methods",
                "GET,OPTIONS,POST,PUT,PATCH,DELETE"
            ),
            ("access-control-allow-headers", "authorization,content-type"),
            ("access-control-max-age", "3600"),
            ("vary", "Origin"),
        ])
    );
    let (_, h) = decide(
        &p,
        "GET",
        "/api/books",
        &[("origin", "http://127.0.0.1:3000")],
    );
    assert_eq!(
        h,
        pairs(&[
            ("access-control-allow-origin", "http://127.0.0.1:3000"),
            ("access-control-expose-headers", "link"),
            ("vary", "Origin"),
        ])
    );
}

#[test]
fn nelmio_legacy_configuration_is_made_safe_and_explained() {
    let (yaml, stderr) = import("nelmio", "nelmio_legacy.yaml");
    for needle in [
        "origin regex `https://app\\.example\\.com` is not anchored at both ends",
        "`allow_origin: '*'` with `allow_credentials: true` makes Nelmio echo every origin with credentials",
        "paths '^/public': `allow_credentials: false` has no effect in Nelmio",
        "host regex `^(api|www)\\.example\\.com$` has no corsguard equivalent",
        "paths 'admin': the key is not anchored with `^`",
        "Nelmio matched path keys case-insensitively",
    ] {
        assert!(
            stderr.contains(needle),
            "missing warning `{needle}` in:\n{stderr}"
        );
    }
    let p = load(&yaml, None);
    assert_eq!(
        p.rule_names(),
        ["paths[0]", "paths[1]", "paths[2]", "paths[3]", "defaults"]
    );
    // Anchored: the suffix attack Nelmio let through is refused now.
    let (_, h) = decide(
        &p,
        "GET",
        "/x",
        &[("origin", "https://app.example.com.evil.net")],
    );
    assert_eq!(h, pairs(&[("vary", "Origin")]));
    let (_, h) = decide(&p, "GET", "/x", &[("origin", "https://app.example.com")]);
    assert_eq!(
        h,
        pairs(&[
            ("access-control-allow-origin", "https://app.example.com"),
            ("access-control-allow-credentials", "true"),
            ("vary", "Origin"),
        ])
    );
    // '^/api/': any origin, never with credentials.
    let (_, h) = decide(&p, "GET", "/api/x", &[("origin", "https://evil.example")]);
    assert_eq!(h, pairs(&[("access-control-allow-origin", "*")]));
    // '^/public': the forced origin, credentials still inherited (array_filter semantics).
    let (_, h) = decide(&p, "GET", "/public/a.js", &[]);
    assert_eq!(
        h,
        pairs(&[
            ("access-control-allow-origin", "https://cdn.example.com"),
            ("access-control-allow-credentials", "true"),
        ])
    );
    let s = &p.summaries()[2];
    assert_eq!(s.hosts, ["admin.example.com", "*.internal.example.com"]);
    assert!(s.allow_private_network && s.skip_same_origin);
}

#[test]
fn django_settings_snippet_round_trips() {
    let (yaml, stderr) = import("django", "settings.py");
    for needle in [
        "origin regex `^https://\\w+\\.preview\\.example\\.com` is used with re.match, which anchors only at the start",
        "CORS_PREFLIGHT_MAX_AGE is unset: django-cors-headers sends its default 86400",
        "`http://staging.example.com` is not https",
        "defaults.allow_headers: `dnt` left out",
    ] {
        assert!(
            stderr.contains(needle),
            "missing warning `{needle}` in:\n{stderr}"
        );
    }
    let p = load(&yaml, None);
    let s = p.defaults_summary();
    assert_eq!(
        s.allow_methods,
        ["DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT", "PURGE"]
    );
    assert_eq!(
        s.allow_headers,
        [
            "accept",
            "authorization",
            "content-type",
            "user-agent",
            "x-csrftoken",
            "x-requested-with",
            "x-trace-id"
        ]
    );
    assert_eq!(s.expose_headers, ["x-request-id"]);
    assert_eq!(s.max_age, Some(86400));
    assert!(s.allow_credentials && !s.allow_private_network);
    // CORS_URLS_REGEX: CORS on /api/ only.
    let (action, h) = decide(
        &p,
        "GET",
        "/api/items",
        &[("origin", "https://app.example.com")],
    );
    assert_eq!(action, "forward");
    assert_eq!(
        h,
        pairs(&[
            ("access-control-allow-origin", "https://app.example.com"),
            ("access-control-allow-credentials", "true"),
            ("access-control-expose-headers", "x-request-id"),
            ("vary", "Origin"),
        ])
    );
    let (action, h) = decide(
        &p,
        "GET",
        "/admin/",
        &[("origin", "https://app.example.com")],
    );
    assert_eq!((action.as_str(), h.len()), ("passthrough", 0));
    // The end-anchored regex.
    let (_, h) = decide(
        &p,
        "GET",
        "/api/x",
        &[("origin", "https://pr1.preview.example.com")],
    );
    assert_eq!(
        h.first().map(|x| x.1.as_str()),
        Some("https://pr1.preview.example.com")
    );
    let (_, h) = decide(
        &p,
        "GET",
        "/api/x",
        &[("origin", "https://pr1.preview.example.com.evil.net")],
    );
    assert_eq!(h, pairs(&[("vary", "Origin")]));
}

#[test]
fn django_allow_all_with_credentials_is_made_safe() {
    let (yaml, stderr) = import("django", "settings_allow_all.py");
    for needle in [
        "`CORS_ALLOWED_ORIGINS_REGEX` is not a django-cors-headers setting (did you mean `CORS_ALLOWED_ORIGIN_REGEXES`?)",
        "`CORS_REPLACE_HTTPS_REFERER` was removed",
        "both `CORS_ALLOW_ALL_ORIGINS` and its old alias `CORS_ORIGIN_ALLOW_ALL` are set",
        "echo every origin with credentials",
        "CORS_PREFLIGHT_MAX_AGE = 172800 is above corsguard's limit",
    ] {
        assert!(
            stderr.contains(needle),
            "missing warning `{needle}` in:\n{stderr}"
        );
    }
    let p = load(&yaml, None);
    let s = p.defaults_summary();
    assert_eq!(s.allow_origins, ["*"]);
    assert!(!s.allow_credentials);
    assert_eq!(s.max_age, Some(86400));
    assert!(s.allow_headers.contains(&"x-api-key".to_string()));
}

#[test]
fn django_runtime_values_become_placeholders() {
    let (yaml, stderr) = import("django", "settings_env.py");
    assert!(stderr.contains("`CORS_ALLOWED_ORIGINS = env.list(\"CORS_ALLOWED_ORIGINS\", default=[])` is computed when Django starts"), "{stderr}");
    assert!(stderr.contains("the flags of re.compile"), "{stderr}");
    assert!(stderr.contains("`cookie` left out"), "{stderr}");
    assert!(
        yaml.contains("CORS_PREFLIGHT_MAX_AGE = 0: no max_age"),
        "{yaml}"
    );
    let p = load(&yaml, None);
    assert_eq!(p.defaults_summary().max_age, None);
    assert!(p.defaults_summary().allow_private_network);
    let env = vec![(
        "CORS_ALLOWED_ORIGINS".to_string(),
        "https://app.example.com".to_string(),
    )];
    let p = load(&yaml, Some(&env));
    let (_, h) = decide(
        &p,
        "GET",
        "/api/x",
        &[("origin", "https://app.example.com")],
    );
    assert_eq!(
        h.first().map(|x| x.1.as_str()),
        Some("https://app.example.com")
    );
    let (action, _) = decide(
        &p,
        "GET",
        "/other",
        &[("origin", "https://app.example.com")],
    );
    assert_eq!(action, "passthrough");
}

#[test]
fn output_file_and_errors() {
    let dir = std::env::temp_dir().join(format!("corsguard-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("out.yaml");
    let out = corsguard(&[
        "import",
        "django",
        "tests/fixtures/import/settings.py",
        "-o",
        target.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(Policy::from_file(&target).is_ok());

    let out = corsguard(&[
        "import",
        "nelmio",
        "tests/fixtures/import/does-not-exist.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "nelmio_cors: [unclosed\n").unwrap();
    let out = corsguard(&["import", "nelmio", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid YAML"));
    let py = dir.join("bad.py");
    std::fs::write(&py, "CORS_ALLOWED_ORIGINS = ['unterminated\n").unwrap();
    let out = corsguard(&["import", "django", py.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unterminated string"));
    assert_eq!(corsguard(&["import", "rails", "x"]).status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `import nelmio zero.yaml`, a symlink to `/dev/zero`, used to read forever while memory
/// grew (the importer read its input without a limit).
#[cfg(unix)]
#[test]
fn import_refuses_a_device_instead_of_reading_it() {
    let dir = std::env::temp_dir().join(format!("corsguard-import-zero-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("nelmio_cors.yaml");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    for kind in ["nelmio", "django"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_corsguard"))
            .args(["import", kind, link.to_str().unwrap()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Bounded: kill a run that reads forever instead of hanging the suite.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                child.kill().unwrap();
                panic!("`corsguard import {kind}` on a link to /dev/zero did not return");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{kind}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.contains("is not a regular file (a character device)"),
            "{kind}: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
