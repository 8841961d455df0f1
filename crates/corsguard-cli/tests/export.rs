//! `corsguard export nginx|envoy`: golden outputs for a policy using every feature
//! (`tests/fixtures/export/policy.*`, regenerate with `UPDATE_SNAPSHOTS=1`), nginx's own
//! syntax check of the nginx output, the Envoy output's structure, warnings on stderr and as
//! comments, and the errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// Every stderr warning also appears in the output's comment block.
fn warnings_are_comments(stderr: &str, text: &str) -> usize {
    let flat = text
        .lines()
        .take_while(|l| l.starts_with('#') || l.is_empty())
        .map(|l| l.trim_start_matches(['#', ' ', '-']).trim_end())
        .collect::<Vec<_>>()
        .join(" ");
    let mut n = 0;
    for line in stderr.lines() {
        let w = line
            .strip_prefix("warning: ")
            .unwrap_or_else(|| panic!("not a warning: {line}"));
        assert!(
            flat.contains(w),
            "warning missing from the output's comments: {w}"
        );
        n += 1;
    }
    n
}

#[test]
fn nginx_golden_output() {
    let out = corsguard(&[
        "export",
        "nginx",
        "--config",
        POLICY,
        "--listen",
        "8080",
        "--server-name",
        "api.example.com",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    golden("policy.nginx.conf", &text);
    assert!(warnings_are_comments(&stderr, &text) >= 8, "{stderr}");
    for needle in [
        "paths[5]: mode: shadow has no nginx equivalent",
        "the `gateway:` section (listen, TLS, timeouts, limits, trusted proxies, WebSocket origin check) is not exported",
        "origin regex `^https://pr-[0-9]+\\.preview\\.example\\.com$` (paths[2], paths[4], defaults) runs as a PCRE in nginx",
    ] {
        assert!(
            stderr.contains(needle),
            "missing warning {needle:?} in:\n{stderr}"
        );
    }
    // Structure: every header repeated in every CORS location, never left to inheritance.
    assert_eq!(
        text.matches("proxy_hide_header Access-Control-Allow-Origin;")
            .count(),
        9,
        "4 enforced rules in the default server, 5 in the tenant server"
    );
    assert!(
        !text.contains("\nserver {\n    add_header"),
        "no server-level add_header"
    );
    assert!(text.contains("    server_name *.tenant.example.com;\n"));
    assert!(
        text.contains("        proxy_pass http://10.0.0.7:8080;\n"),
        "the rule's own upstream"
    );
    assert!(
        text.contains("        if ($corsguard_p2_status = 403) { return 403; }\n"),
        "forbid"
    );
    assert!(
        text.contains(
            "\"~^https://(?:[a-z0-9_-]+\\.)+example\\.org$\" 1;  # https://*.example.org\n"
        )
    );
    assert!(
        !text.contains("if ($request_method"),
        "preflights are decided by maps, not by `if` on the method"
    );
}

#[test]
fn nginx_accepts_the_exported_configuration() {
    if std::env::var("CORSGUARD_SKIP_NGINX").is_ok_and(|v| v == "1") {
        return;
    }
    let bin = ["/usr/sbin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    let Some(bin) = bin else {
        panic!(
            "nginx is not installed (/usr/sbin/nginx): install it or set CORSGUARD_SKIP_NGINX=1"
        );
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = corsguard(&[
        "export",
        "nginx",
        "--config",
        POLICY,
        "--listen",
        &format!("127.0.0.1:{port}"),
    ]);
    let dir = std::env::temp_dir().join(format!("corsguard-export-t-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    std::fs::write(dir.join("cors.conf"), &out.stdout).unwrap();
    let d = dir.display();
    std::fs::write(
        dir.join("nginx.conf"),
        format!("pid {d}/nginx.pid;\nerror_log {d}/logs/error.log;\nevents {{}}\nhttp {{\n  client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d};\n  include {d}/cors.conf;\n}}\n"),
    )
    .unwrap();
    let t = Command::new(bin)
        .args([
            "-t",
            "-p",
            &d.to_string(),
            "-e",
            &format!("{d}/logs/error.log"),
            "-c",
            &format!("{d}/nginx.conf"),
        ])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        t.status.success(),
        "nginx -t: {}",
        String::from_utf8_lossy(&t.stderr)
    );
}

#[test]
fn envoy_golden_output_and_structure() {
    let out = corsguard(&["export", "envoy", "--config", POLICY]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    golden("policy.envoy.yaml", &text);
    warnings_are_comments(&stderr, &text);
    for needle in [
        "Envoy's CORS filter emits no `Vary` (envoy#35873)",
        "paths[2]: on_reject: forbid cannot be expressed: Envoy never answers 403",
        "paths[4]: forced_allow_origin has no CorsPolicy field",
        "`strip_any_host_port: true`",
    ] {
        assert!(
            stderr.contains(needle),
            "missing warning {needle:?} in:\n{stderr}"
        );
    }
    let v: Value = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(v["http_filters"][0]["name"], "envoy.filters.http.cors");
    let hosts = v["route_config"]["virtual_hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts[0]["domains"][0], "*.tenant.example.com");
    let routes = hosts[1]["routes"].as_array().unwrap();
    // public, internal, reports, static, trial, defaults (the tenant rule is host-specific).
    assert_eq!(routes.len(), 6);
    let cors = |r: &Value| r["typed_per_filter_config"]["envoy.filters.http.cors"].clone();
    assert_eq!(routes[0]["match"]["prefix"], "/public/");
    assert_eq!(
        cors(&routes[0])["allow_origin_string_match"][0]["exact"],
        "*"
    );
    assert_eq!(routes[1]["match"]["path_separated_prefix"], "/internal");
    assert!(cors(&routes[1]).is_null(), "cors: false has no policy");
    assert_eq!(
        routes[2]["match"]["safe_regex"]["regex"],
        "^/v[^/]*/reports/.*$"
    );
    assert_eq!(cors(&routes[2])["allow_methods"], "*");
    assert_eq!(
        routes[3]["response_headers_to_add"][0]["header"]["value"],
        "https://cdn.example.com"
    );
    assert_eq!(
        cors(&routes[4])["shadow_enabled"]["default_value"]["numerator"],
        100
    );
    let d = cors(&routes[5]);
    assert_eq!(d["allow_credentials"], true);
    assert_eq!(d["max_age"], "600");
    assert_eq!(d["forward_not_matching_preflights"], false);
    assert_eq!(
        d["allow_origin_string_match"][1]["safe_regex"]["regex"],
        "^https://(?:[a-z0-9_-]+\\.)+example\\.org$"
    );
    assert_eq!(
        routes[5]["response_headers_to_add"][0]["header"]["key"],
        "Vary"
    );
    let clusters = v["clusters"].as_array().unwrap();
    assert_eq!(clusters[0]["name"], "app");
    assert_eq!(clusters[1]["name"], "app_p3");
}

#[test]
fn output_file_and_toml_policies() {
    let dir = std::env::temp_dir().join(format!("corsguard-export-o-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("cors.conf");
    let out = corsguard(&[
        "export",
        "nginx",
        "-c",
        "../../examples/corsguard.toml",
        "--upstream",
        "http://127.0.0.1:9000",
        "-o",
        target.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(&target).unwrap();
    assert!(text.contains("proxy_pass http://127.0.0.1:9000;"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn errors() {
    // No upstream anywhere.
    let out = corsguard(&["export", "nginx", "-c", "../../examples/corsguard.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "error: no upstream to proxy to: pass --upstream URL (or set gateway.upstream)"
        )
    );
    // An upstream with a path.
    let out = corsguard(&[
        "export",
        "nginx",
        "-c",
        "../../examples/corsguard.yaml",
        "--upstream",
        "http://127.0.0.1:9000/api",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has a path (`/api`)"));
    // An invalid policy is reported like `corsguard check`.
    let out = corsguard(&[
        "export",
        "envoy",
        "-c",
        "tests/fixtures/check/wildcard-credentials.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[origin-wildcard-credentials]"));
    assert_eq!(
        corsguard(&["export", "lighttpd", "-c", POLICY])
            .status
            .code(),
        Some(2)
    );
}
