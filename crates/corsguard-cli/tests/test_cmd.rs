//! `corsguard test`: true expectations pass and false ones fail with the browser's reason and
//! a checked fix, the JSON shape, located errors for invalid files, the `--init` round trip,
//! and `--url-base` replaying the same file against `corsguard serve`, against an axum
//! server with the corsguard-tower middleware, and against every edge engine running
//! `corsguard export` of the example policy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod engines;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use corsguard_testkit::engine::{TempDir, start_upstream};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_corsguard");
const EXAMPLE: &str = "examples/corsguard-test.yaml";
const WRONG: &str = "crates/corsguard-cli/tests/fixtures/test/wrong.yaml";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

struct Run {
    code: i32,
    out: String,
    err: String,
}

fn test(args: &[&str]) -> Run {
    let out = Command::new(BIN)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("http_proxy", "http://127.0.0.1:9")
        .arg("test")
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap(),
        out: String::from_utf8(out.stdout).unwrap(),
        err: String::from_utf8(out.stderr).unwrap(),
    }
}

fn json(args: &[&str]) -> (i32, Value) {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    let r = test(&a);
    let v = serde_json::from_str(&r.out).unwrap_or_else(|e| panic!("{e}: {}{}", r.out, r.err));
    (r.code, v)
}

#[test]
fn true_expectations_pass() {
    let r = test(&[EXAMPLE]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(
        r.out
            .starts_with("examples/corsguard-test.yaml (policy examples/corsguard.yaml)\n  pass  app can PUT with a trace id (allowed)\n"),
        "{}",
        r.out
    );
    assert_eq!(r.out.matches("\n  pass  ").count(), 7, "{}", r.out);
    assert!(r.out.ends_with("\nok: 7 cases passed\n"), "{}", r.out);
}

#[test]
fn false_expectations_fail_with_what_the_browser_does_why_and_the_fix() {
    let r = test(&[WRONG]);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    for needle in [
        "  FAIL  partner can PATCH with a custom header: expected allowed, the browser blocks it\n        PreflightMissingAllowOriginHeader: Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource.\n",
        "        Fix: add `https://partner.example` to defaults.allow_origins; add `PATCH` to defaults.allow_methods; add `x-foo` to defaults.allow_headers\n          checked: with these changes the browser allows the request (simulation re-run)\n",
        "  FAIL  any subdomain is refused: expected blocked, the browser allows it\n        rule defaults: `https://evil.example.com` matched defaults.allow_origins[1] `https://*.example.com`\n",
        "  FAIL  the console names the header: the browser blocks it, but the console message does not contain \"Request header field x-bar\"\n        HeaderDisallowedByPreflightResponse: Request header field x-foo is not allowed",
        "  FAIL  a forbidden method cannot be fixed: expected allowed, the browser blocks it\n        fetch() throws a TypeError: 'CONNECT' HTTP method is unsupported.\n",
        "        Fix: no policy change allows this request\n          why: fetch() throws before sending anything",
    ] {
        assert!(r.out.contains(needle), "missing {needle:?} in:\n{}", r.out);
    }
    assert!(
        r.out.ends_with("\nFAILED: 4 of 4 cases failed, 0 passed\n"),
        "{}",
        r.out
    );
}

/// The documented JSON shape (docs/cli.md): exactly these keys.
#[test]
fn json_shape() {
    let (code, v) = json(&[WRONG, EXAMPLE]);
    assert_eq!(code, 1);
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(keys(&v), ["failed", "files", "passed"]);
    assert_eq!(
        (v["passed"].as_u64(), v["failed"].as_u64()),
        (Some(7), Some(4))
    );
    let file = &v["files"][0];
    assert_eq!(keys(file), ["cases", "file", "policy", "url_base"]);
    assert_eq!(file["url_base"], Value::Null);
    let case = &file["cases"][0];
    assert_eq!(
        keys(case),
        [
            "console",
            "console_message",
            "cors_error",
            "expect",
            "findings",
            "fix",
            "got",
            "model",
            "name",
            "no_fix",
            "passed",
            "reason",
            "url"
        ]
    );
    assert_eq!(case["expect"], "allowed");
    assert_eq!(case["got"], "blocked");
    assert_eq!(case["passed"], false);
    assert_eq!(case["cors_error"], "PreflightMissingAllowOriginHeader");
    assert_eq!(
        case["fix"]["changes"][1]["change"],
        "add `PATCH` to defaults.allow_methods"
    );
    assert_eq!(v["files"][1]["cases"][0]["passed"], true);
}

#[test]
fn invalid_files_are_located_errors_and_exit_2() {
    let dir = TempDir::new("test-cmd-invalid");
    let unknown = dir.write(
        "unknown.yaml",
        "cases:\n  - name: a typo\n    origin: https://app.example.com\n    url: https://api.example.com/v1/items\n    expct: allowed\n",
    );
    let r = test(&[
        unknown.to_str().unwrap(),
        "--config",
        "examples/corsguard.yaml",
    ]);
    assert_eq!(r.code, 2, "{}{}", r.out, r.err);
    assert!(r.err.contains("error[test-unknown-key]"), "{}", r.err);
    assert!(r.err.contains("unknown field `expct`"), "{}", r.err);
    assert!(r.err.contains("unknown.yaml:5:5]"), "{}", r.err);
    assert_eq!(r.out, "");

    let bad = dir.write(
        "bad.yaml",
        "cases:\n  - name: not an origin\n    origin: app.example.com\n    url: https://api.example.com/\n    expect: allowed\n  - name: wrong value\n    origin: https://app.example.com\n    url: https://api.example.com/\n    expect: maybe\n",
    );
    let r = test(&[bad.to_str().unwrap(), "--config", "examples/corsguard.yaml"]);
    assert_eq!(r.code, 2, "{}{}", r.out, r.err);
    assert!(r.err.contains("bad.yaml:9:13]"), "{}", r.err);

    let origin = dir.write(
        "origin.yaml",
        "cases:\n  - name: not an origin\n    origin: app.example.com\n    url: https://api.example.com/\n    expect: allowed\n",
    );
    let r = test(&[
        origin.to_str().unwrap(),
        "--config",
        "examples/corsguard.yaml",
    ]);
    assert_eq!(r.code, 2, "{}{}", r.out, r.err);
    assert!(r.err.contains("error[test-case-invalid]"), "{}", r.err);
    assert!(r.err.contains("origin.yaml:3:13]"), "{}", r.err);

    // No policy: neither `policy:` nor --config.
    let r = test(&[origin.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    let ok = dir.write(
        "ok.yaml",
        "cases:\n  - name: app reads\n    origin: https://app.example.com\n    url: https://api.example.com/\n    expect: allowed\n",
    );
    let r = test(&[ok.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("names no policy"), "{}", r.err);
    let r = test(&[ok.to_str().unwrap(), "--config", "examples/corsguard.yaml"]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    // An invalid policy is exit 2 too, with check's diagnostics.
    let policy = dir.write("p.yaml", "defaults: {max_age: -1}\n");
    let r = test(&[ok.to_str().unwrap(), "--config", policy.to_str().unwrap()]);
    assert_eq!(r.code, 2);
    assert!(r.err.contains("max_age"), "{}", r.err);
    // Usage.
    assert_eq!(test(&[]).code, 2);
    assert_eq!(test(&[EXAMPLE, "--url-base", "ftp://x"]).code, 2);
}

/// `--init` writes one allowed and one refused case per rule, and the file passes as written.
#[test]
fn init_round_trip() {
    let dir = TempDir::new("test-cmd-init");
    for policy in [
        "examples/corsguard.yaml",
        "crates/corsguard-cli/tests/fixtures/explain/api.yaml",
        "crates/corsguard-cli/tests/fixtures/explain/csrf.yaml",
    ] {
        let target = dir.path().join(format!(
            "{}-test.yaml",
            Path::new(policy).file_stem().unwrap().to_str().unwrap()
        ));
        let r = test(&["--init", "--config", policy, target.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}{}", r.out, r.err);
        let text = std::fs::read_to_string(&target).unwrap();
        let (code, v) = json(&[target.to_str().unwrap()]);
        assert_eq!(code, 0, "{policy}:\n{text}\n{v:#}");
        let cases = v["files"][0]["cases"].as_array().unwrap();
        let count = |e: &str| cases.iter().filter(|c| c["expect"] == e).count();
        let rules = text.matches("\n  - name: ").count() + text.matches("\n  # ").count();
        assert!(count("allowed") >= 1 && count("blocked") >= 1, "{text}");
        assert!(rules >= 2, "{text}");
        // Refusing to overwrite.
        let again = test(&["--init", "--config", policy, target.to_str().unwrap()]);
        assert_eq!(again.code, 2);
    }
    // The example policy: every rule has its refused case, and the allowed ones where CORS is on.
    let text = std::fs::read_to_string(dir.path().join("corsguard-test.yaml")).unwrap();
    for rule in ["paths[0]", "paths[1]", "defaults"] {
        assert!(
            text.contains(&format!("cannot read ({rule}"))
                || text.contains(&format!("cannot send credentials ({rule}")),
            "{rule}: {text}"
        );
    }
    assert!(text.contains("can PUT (defaults: every path)"), "{text}");
    assert!(
        text.contains(
            "# paths[1] (path prefix /health): no request is allowed here (`cors: false`"
        ),
        "{text}"
    );
    // To stdout, naming the policy as given.
    let r = test(&["--init", "--config", "examples/corsguard.yaml"]);
    assert_eq!(r.code, 0);
    assert!(
        r.out
            .contains("\npolicy: \"examples/corsguard.yaml\"\ncases:\n"),
        "{}",
        r.out
    );
    assert_eq!(test(&["--init"]).code, 2);
}

/// A `corsguard serve` child, killed (by its PID) on drop.
struct Gateway {
    child: Child,
    url: String,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn gateway(policy: &str, upstream: SocketAddr) -> Gateway {
    let mut child = Command::new(BIN)
        .current_dir(root())
        .args([
            "serve",
            "--no-watch",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            &format!("http://{upstream}"),
            "--config",
            policy,
        ])
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let line = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    let url = line
        .strip_prefix("corsguard gateway listening on ")
        .unwrap_or_else(|| panic!("{line}"))
        .to_owned();
    Gateway { child, url }
}

#[test]
fn url_base_replays_the_file_against_the_gateway() {
    let g = gateway("examples/corsguard.yaml", start_upstream());
    let r = test(&[EXAMPLE, "--url-base", &g.url]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(
        r.out.starts_with(&format!(
            "examples/corsguard-test.yaml (policy examples/corsguard.yaml, live at {})\n",
            g.url
        )),
        "{}",
        r.out
    );
    assert!(r.out.ends_with("\nok: 7 cases passed\n"), "{}", r.out);

    let (code, v) = json(&[WRONG, "--url-base", &g.url]);
    assert_eq!(code, 1);
    let cases = v["files"][0]["cases"].as_array().unwrap();
    let first = &cases[0];
    assert_eq!(first["url"], format!("{}/v1/items/7", g.url));
    assert_eq!(
        (&first["got"], &first["model"]),
        (&Value::from("blocked"), &Value::from("blocked"))
    );
    assert_eq!(first["cors_error"], "PreflightMissingAllowOriginHeader");
    assert!(
        first["fix"]["change"]
            .as_str()
            .unwrap()
            .starts_with("add `https://partner.example` to defaults.allow_origins;"),
        "{first:#}"
    );
    assert_eq!(cases[1]["got"], "allowed");

    // A server that does not do what the policy says: the gateway runs another policy.
    let other = TempDir::new("test-cmd-other");
    let strict = other.write(
        "strict.yaml",
        "defaults:\n  allow_origins: ['https://app.example.com']\n  allow_methods: [GET]\n",
    );
    let g = gateway(strict.to_str().unwrap(), start_upstream());
    let r = test(&[EXAMPLE, "--url-base", &g.url]);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    assert!(
        r.out.contains(
            "  FAIL  app can PUT with a trace id: expected allowed, the browser blocks it\n"
        ),
        "{}",
        r.out
    );
    assert!(
        r.out.contains(
            "the policy allows it (offline model): the server does not answer as the policy says"
        ),
        "{}",
        r.out
    );
}

/// An axum app behind the corsguard-tower middleware, on a loopback port, for the life of
/// the test process.
fn middleware_server(policy: &Path) -> String {
    use axum::Router;
    use axum::body::Body;
    use axum::http::{HeaderMap, Response};

    let policy = corsguard::Policy::from_file(policy).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = Router::new()
                .fallback(|headers: HeaderMap| async move {
                    let (status, extra) = corsguard_testkit::app_response(
                        headers
                            .iter()
                            .map(|(n, v)| (n.as_str(), v.to_str().unwrap_or(""))),
                    );
                    let mut res = Response::builder().status(status);
                    for (n, v) in extra {
                        res = res.header(n, v);
                    }
                    res.body(Body::from("app")).unwrap()
                })
                .layer(corsguard_tower::CorsLayer::new(policy));
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{addr}")
}

#[test]
fn url_base_replays_the_file_against_the_tower_middleware() {
    let base = middleware_server(&root().join("examples/corsguard.yaml"));
    let r = test(&[EXAMPLE, "--url-base", &base]);
    assert_eq!(r.code, 0, "{}{}", r.out, r.err);
    assert!(r.out.ends_with("\nok: 7 cases passed\n"), "{}", r.out);
    let r = test(&[WRONG, "--url-base", &base]);
    assert_eq!(r.code, 1);
    assert!(
        r.out.contains("\nFAILED: 4 of 4 cases failed, 0 passed\n"),
        "{}",
        r.out
    );
}

#[test]
fn an_unreachable_server_fails_every_case_plainly() {
    let port = corsguard_testkit::engine::free_port();
    let r = test(&[
        EXAMPLE,
        "--url-base",
        &format!("http://127.0.0.1:{port}"),
        "--timeout",
        "2",
    ]);
    assert_eq!(r.code, 1, "{}{}", r.out, r.err);
    assert!(
        r.out
            .contains("  FAIL  app can PUT with a trace id: expected allowed, no answer\n"),
        "{}",
        r.out
    );
    assert!(r.out.contains("cannot connect"), "{}", r.out);
}

/// The example file, replayed against each engine running the export of its policy: what
/// the policy promises holds at the edge too (each case as the browser judges the live
/// answer).
#[test]
fn url_base_replays_the_file_against_every_exported_engine() {
    let upstream = start_upstream();
    for target in engines::ALL {
        let Some(bin) = target.binary() else {
            continue;
        };
        let running = engines::start(
            target,
            &bin,
            &root().join("examples/corsguard.yaml"),
            upstream,
        );
        let base = format!("http://{}", running.engine.self_host());
        let r = test(&[EXAMPLE, "--url-base", &base]);
        assert_eq!(
            r.code,
            0,
            "{}: {}{}\n--- export warnings\n{}",
            target.name(),
            r.out,
            r.err,
            running.export.warnings
        );
        assert!(r.out.ends_with("\nok: 7 cases passed\n"), "{}", r.out);
    }
}
