//! `corsguard export haproxy|caddy`: golden outputs for the policy using every feature
//! (`tests/fixtures/export/policy.yaml`, regenerate with `UPDATE_SNAPSHOTS=1`), each engine's
//! own check of the output (`haproxy -c`, `caddy validate`), the warnings on stderr and in the
//! output, and the errors. The behaviour itself is proven in the engines by
//! `export_haproxy.rs` and `export_caddy.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

use corsguard_testkit::engine::{TempDir, assert_accepts, engine_binary};
use serde_json::Value;

const POLICY: &str = "tests/fixtures/export/policy.yaml";

fn corsguard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corsguard"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap()
}

fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/export")
        .join(name);
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {} (UPDATE_SNAPSHOTS=1)", path.display()));
    assert_eq!(actual, want, "output differs from {}", path.display());
}

/// Every stderr line is a warning, and each one is also in `notes` (the output's comments,
/// flattened); returns them.
fn warnings_in(stderr: &str, notes: &str) -> Vec<String> {
    stderr
        .lines()
        .map(|line| {
            let w = line
                .strip_prefix("warning: ")
                .unwrap_or_else(|| panic!("not a warning: {line}"));
            assert!(notes.contains(w), "warning missing from the output: {w}");
            w.to_owned()
        })
        .collect()
}

/// Comment lines wrapped at 92 columns, joined back into one line.
fn flatten<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    lines
        .map(|l| l.trim_start_matches(['#', ' ', '-']).trim_end())
        .collect::<Vec<_>>()
        .join(" ")
}

fn export(target: &str) -> (String, String) {
    let out = corsguard(&[
        "export",
        target,
        "--config",
        POLICY,
        "--listen",
        "127.0.0.1:8080",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn haproxy_golden_output() {
    let (text, stderr) = export("haproxy");
    golden("policy.haproxy.cfg", &text);
    let notes = flatten(text.lines().take_while(|l| l.starts_with('#')));
    let warnings = warnings_in(&stderr, &notes);
    for needle in [
        "paths[5]: mode: shadow has no HAProxy equivalent",
        "origin regex `^https://pr-[0-9]+\\.preview\\.example\\.com$` (paths[2], paths[4], defaults) runs as a PCRE in HAProxy",
        "the `gateway:` section (listen, TLS, timeouts, limits, trusted proxies, WebSocket origin check) is not exported",
    ] {
        assert!(
            warnings.iter().any(|w| w.contains(needle)),
            "missing warning {needle:?} in:\n{stderr}"
        );
    }
    assert!(text.contains("\nfrontend corsguard\n    bind 127.0.0.1:8080\n"));
    assert!(
        text.contains("    use_backend cg_p3_upstream if cg_p3\n"),
        "the rule's own upstream"
    );
    assert!(text.contains(
        "\nbackend cg_p3_upstream\n    # http://10.0.0.7:8080\n    server app 10.0.0.7:8080\n"
    ));
    assert!(text.contains(
        "\nbackend cg_app\n    # http://127.0.0.1:9000\n    server app 127.0.0.1:9000\n"
    ));
    assert!(
        text.contains("http-request return status 403 if cg_p2 cg_o_preflight_refused\n"),
        "on_reject: forbid"
    );
    assert!(text.contains(
        "acl cg_d_listed req.fhdr(origin) -m reg '^https://app\\.example\\.com$' '^https://(?:[a-z0-9_-]+\\.)+example\\.org$'"
    ));
    // The host rule, case-insensitive, any port.
    assert!(
        text.contains(
            "{ req.fhdr(host) -m reg -i '^.+\\.tenant\\.example\\.com\\.?(?::[^:]*)?$' }"
        )
    );
}

#[test]
fn haproxy_accepts_the_exported_configuration() {
    let Some(bin) = engine_binary("haproxy", &["/usr/sbin/haproxy"], "apt-get install haproxy")
    else {
        return;
    };
    let dir = TempDir::new("haproxy-check");
    for upstream in ["http://127.0.0.1:9000", "https://localhost:8443"] {
        let out = corsguard(&[
            "export",
            "haproxy",
            "--config",
            POLICY,
            "--upstream",
            upstream,
        ]);
        assert_eq!(out.status.code(), Some(0));
        let cfg = dir.write("haproxy.cfg", &String::from_utf8(out.stdout).unwrap());
        assert_accepts(Command::new(&bin).arg("-c").arg("-f").arg(&cfg), upstream);
    }
}

#[test]
fn caddy_golden_output() {
    let (text, stderr) = export("caddy");
    golden("policy.caddy.json", &text);
    let v: Value = serde_json::from_str(&text).unwrap();
    let server = &v["apps"]["http"]["servers"]["corsguard"];
    assert_eq!(v["admin"]["disabled"], true);
    assert_eq!(server["automatic_https"]["disable"], true);
    assert_eq!(server["listen"][0], "127.0.0.1:8080");
    let routes = server["routes"].as_array().unwrap();
    let notes_value = &routes[0]["handle"][0]["corsguard_export_notes"];
    assert_eq!(
        routes[0]["match"][0]["expression"], "false",
        "the notes never run"
    );
    let notes = flatten(
        notes_value
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap()),
    );
    let warnings = warnings_in(&stderr, &notes);
    for needle in [
        "paths[5]: mode: shadow has no Caddy equivalent",
        "origin regex `^https://pr-[0-9]+\\.preview\\.example\\.com$` (paths[2], paths[4], defaults) runs as RE2 in Caddy",
        "defaults: `:*` port patterns also admit the scheme's default port spelled out",
    ] {
        assert!(
            warnings.iter().any(|w| w.contains(needle)),
            "missing warning {needle:?} in:\n{stderr}"
        );
    }
    // notes, facts (path, Origin, preflight), then one terminal route per rule, in order.
    assert_eq!(routes.len(), 4 + 7);
    let rule_routes = &routes[4..];
    assert!(rule_routes.iter().all(|r| r["terminal"] == true));
    assert_eq!(
        rule_routes[0]["match"][0]["expression"],
        "{cg_path}.matches('^/public/')"
    );
    assert!(
        rule_routes[6].get("match").is_none(),
        "the defaults match everything"
    );
    let tenant = rule_routes[3].to_string();
    assert!(
        tenant.contains("\"dial\":\"10.0.0.7:8080\""),
        "the rule's own upstream"
    );
    assert!(tenant.contains("{http.request.hostport}.matches('(?i)^.+\\\\\\\\.tenant"));
    let reports = rule_routes[2].to_string();
    assert!(
        reports.contains("\"status_code\":403"),
        "on_reject: forbid answers 403"
    );
}

#[test]
fn caddy_accepts_the_exported_configuration() {
    let Some(bin) = engine_binary("caddy", &["/usr/bin/caddy"], "apt-get install caddy") else {
        return;
    };
    let dir = TempDir::new("caddy-check");
    for upstream in ["http://127.0.0.1:9000", "https://localhost:8443"] {
        let out = corsguard(&[
            "export",
            "caddy",
            "--config",
            POLICY,
            "--upstream",
            upstream,
        ]);
        assert_eq!(out.status.code(), Some(0));
        let cfg = dir.write("caddy.json", &String::from_utf8(out.stdout).unwrap());
        assert_accepts(
            Command::new(&bin)
                .env("HOME", dir.path())
                .env("XDG_DATA_HOME", dir.path().join("data"))
                .env("XDG_CONFIG_HOME", dir.path().join("config"))
                .args(["validate", "--config"])
                .arg(&cfg),
            upstream,
        );
    }
}

#[test]
fn edge_export_errors() {
    let dir = TempDir::new("edge-errors");
    let policy = dir.write(
        "p.yaml",
        "defaults: {allow_origins: ['https://app.example.com']}\n",
    );
    let policy = policy.display().to_string();
    for target in ["haproxy", "caddy"] {
        let out = corsguard(&["export", target, "--config", &policy]);
        assert_eq!(out.status.code(), Some(1), "{target}: no upstream");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("no upstream to proxy to"),
            "{target}"
        );
        let out = corsguard(&[
            "export",
            target,
            "--config",
            &policy,
            "--upstream",
            "http://a.example/api",
        ]);
        assert_eq!(out.status.code(), Some(1), "{target}: upstream with a path");
        let out = corsguard(&["export", target, "--config", "missing.yaml"]);
        assert_eq!(out.status.code(), Some(2), "{target}: no policy");
    }
}

/// `--upstream` replaces `gateway.upstream` for every rule without its own `upstream`, the
/// defaults included (whose summary carries `gateway.upstream` as their upstream).
#[test]
fn upstream_flag_overrides_the_gateway_upstream() {
    for (target, want, gateway) in [
        (
            "haproxy",
            "server app 127.0.0.1:7777",
            "server app 127.0.0.1:9000",
        ),
        (
            "caddy",
            "\"dial\": \"127.0.0.1:7777\"",
            "\"dial\": \"127.0.0.1:9000\"",
        ),
    ] {
        let out = corsguard(&[
            "export",
            target,
            "--config",
            POLICY,
            "--upstream",
            "http://127.0.0.1:7777",
        ]);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(want), "{target}: {want} missing");
        assert!(
            !text.contains(gateway),
            "{target}: gateway.upstream still used"
        );
    }
}
