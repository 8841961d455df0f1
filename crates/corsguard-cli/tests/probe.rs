//! `corsguard probe` against small local servers that misbehave in each way the probe must
//! report (duplicate ACAO, missing Vary, reflecting any origin, credentials with reflection,
//! `null` accepted, 401 and redirect on the preflight, `True` for ACAC, max-age above the
//! caps, errors without CORS headers), plus the exact requests Chromium sends, timeouts,
//! refused connections and TLS errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

const APP: &str = "https://app.example.com";

/// A request as the test server saw it (header names with their original case).
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn origin(&self) -> &str {
        self.header("origin").unwrap_or("")
    }
    fn is_preflight(&self) -> bool {
        self.method == "OPTIONS" && self.header("access-control-request-method").is_some()
    }
}

type Handler = dyn Fn(&Seen) -> (u16, Vec<(&'static str, String)>) + Send + Sync;

struct Server {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// Serves one request per connection on 127.0.0.1:0 (HTTP/1.1, `Connection: close`).
fn serve(
    handler: impl Fn(&Seen) -> (u16, Vec<(&'static str, String)>) + Send + Sync + 'static,
) -> Server {
    serve_with_delay(handler, Duration::ZERO)
}

fn serve_with_delay(
    handler: impl Fn(&Seen) -> (u16, Vec<(&'static str, String)>) + Send + Sync + 'static,
    delay: Duration,
) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let handler: Arc<Handler> = Arc::new(handler);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let handler = handler.clone();
            let log = log.clone();
            std::thread::spawn(move || {
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() || line.is_empty() {
                    return;
                }
                let mut parts = line.split_whitespace();
                let method = parts.next().unwrap_or("").to_owned();
                let target = parts.next().unwrap_or("").to_owned();
                let mut headers = Vec::new();
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                        break;
                    }
                    if let Some((n, v)) = h.trim_end().split_once(':') {
                        headers.push((n.to_owned(), v.trim().to_owned()));
                    }
                }
                let req = Seen {
                    method,
                    target,
                    headers,
                };
                if let Some(len) = req
                    .header("content-length")
                    .and_then(|l| l.parse::<usize>().ok())
                {
                    let mut body = vec![0; len];
                    let _ = reader.read_exact(&mut body);
                }
                log.lock().unwrap().push(req.clone());
                std::thread::sleep(delay);
                let (status, out) = handler(&req);
                let mut resp =
                    format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n");
                for (n, v) in out {
                    resp.push_str(&format!("{n}: {v}\r\n"));
                }
                resp.push_str("\r\n");
                let _ = stream.write_all(resp.as_bytes());
            });
        }
    });
    Server { addr, seen }
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// A correct server: allows APP (with credentials), reflects nothing else, says Vary.
fn correct(r: &Seen) -> (u16, Vec<(&'static str, String)>) {
    let mut h = vec![("Vary", "Origin".to_string())];
    if r.origin() == APP {
        h.push(("Access-Control-Allow-Origin", APP.to_string()));
        h.push(("Access-Control-Allow-Credentials", "true".to_string()));
        if r.is_preflight() {
            h.push((
                "Access-Control-Allow-Methods",
                "GET, PUT, DELETE".to_string(),
            ));
            h.push((
                "Access-Control-Allow-Headers",
                "content-type, x-trace-id".to_string(),
            ));
            h.push(("Access-Control-Max-Age", "600".to_string()));
        }
    }
    (if r.is_preflight() { 204 } else { 200 }, h)
}

fn probe(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_corsguard"))
        .env("NO_COLOR", "1")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("http_proxy", "http://127.0.0.1:9")
        .arg("probe")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn probe_json(args: &[&str]) -> (i32, Value) {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    let (code, out, err) = probe(&a);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, v)
}

fn codes(v: &Value) -> Vec<(String, String, String)> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["level"].as_str().unwrap().to_owned(),
                f["seen_in"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn has(v: &Value, code: &str, level: &str, seen_in: &str) -> bool {
    codes(v).contains(&(code.to_owned(), level.to_owned(), seen_in.to_owned()))
}

#[test]
fn correct_server_is_allowed_without_findings_and_gets_chromium_requests() {
    let s = serve(correct);
    let url = s.url("/v1/items?x=1");
    let (code, out, err) = probe(&[
        &url,
        "--origin",
        APP,
        "--method",
        "PUT",
        "-H",
        "X-Trace-Id: 1",
        "-H",
        "Content-Type: application/json",
        "--credentials",
        "include",
        "--cookie",
        "session=abc",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("\nVerdict: allowed\n"), "{out}");
    assert!(!out.contains("Findings"), "{out}");
    let seen = s.seen();
    // Preflight, request, then the two extra probes as preflights (PUT is never repeated).
    assert_eq!(
        seen.iter().map(|r| r.method.as_str()).collect::<Vec<_>>(),
        ["OPTIONS", "PUT", "OPTIONS", "OPTIONS"]
    );
    let pre = &seen[0];
    assert_eq!(pre.target, "/v1/items?x=1");
    let names: Vec<&str> = pre.headers.iter().map(|(n, _)| n.as_str()).collect();
    for n in [
        "Accept",
        "Access-Control-Request-Method",
        "Access-Control-Request-Headers",
        "Origin",
        "Sec-Fetch-Mode",
        "Sec-Fetch-Dest",
        "User-Agent",
    ] {
        assert!(
            names.contains(&n),
            "{n} missing (or not in Chromium's case) in {names:?}"
        );
    }
    assert_eq!(pre.header("accept"), Some("*/*"));
    assert_eq!(pre.header("access-control-request-method"), Some("PUT"));
    assert_eq!(
        pre.header("access-control-request-headers"),
        Some("content-type,x-trace-id")
    );
    assert_eq!(pre.header("origin"), Some(APP));
    assert_eq!(pre.header("sec-fetch-mode"), Some("cors"));
    assert_eq!(pre.header("cookie"), None, "no cookies on the preflight");
    let actual = &seen[1];
    assert_eq!(actual.header("x-trace-id"), Some("1"));
    assert_eq!(actual.header("content-type"), Some("application/json"));
    assert_eq!(actual.header("cookie"), Some("session=abc"));
    assert_eq!(actual.header("origin"), Some(APP));
    assert!(
        seen[2].origin().starts_with("https://corsguard-probe-"),
        "{:?}",
        seen[2]
    );
    assert_eq!(seen[3].origin(), "null");
}

#[test]
fn duplicate_acao_from_proxy_and_app() {
    let s = serve(|r| {
        let mut h = vec![("Vary", "Origin".to_string())];
        if r.origin() == APP {
            h.push(("Access-Control-Allow-Origin", APP.to_string()));
            h.push(("Access-Control-Allow-Origin", APP.to_string()));
        }
        (200, h)
    });
    let url = s.url("/assets/app.json");
    let (code, v) = probe_json(&[&url, "--origin", APP]);
    assert_eq!(code, 1);
    assert_eq!(v["cors_error"], "MultipleAllowOriginValues");
    assert_eq!(
        v["console_message"],
        format!(
            "Access to fetch at '{url}' from origin '{APP}' has been blocked by CORS policy: The 'Access-Control-Allow-Origin' header contains multiple values '{APP}, {APP}', but only one is allowed. Have the server send the header with a valid value."
        )
    );
    assert!(
        has(&v, "duplicate-acao", "error", "request"),
        "{:?}",
        codes(&v)
    );
}

#[test]
fn missing_vary_on_an_origin_dependent_response() {
    let s = serve(|r| {
        let mut h = Vec::new();
        if r.origin() == APP {
            h.push(("Access-Control-Allow-Origin", APP.to_string()));
        }
        (200, h)
    });
    let (code, v) = probe_json(&[&s.url("/x"), "--origin", APP]);
    assert_eq!((code, v["verdict"].as_str()), (0, Some("allowed")));
    assert!(
        has(&v, "missing-vary-origin", "warning", "request"),
        "{:?}",
        codes(&v)
    );
    // The random-origin probe got no ACAO and no Vary either: also cacheable the wrong way.
    assert!(
        has(
            &v,
            "missing-vary-origin",
            "warning",
            "probe with a random origin"
        ),
        "{:?}",
        codes(&v)
    );
    let (_, out, _) = probe(&[&s.url("/x"), "--origin", APP]);
    assert!(out.contains("warning[missing-vary-origin] (request): this response depends on Origin (Access-Control-Allow-Origin: https://app.example.com) but its Vary does not list Origin"), "{out}");
}

#[test]
fn reflecting_any_origin() {
    let s = serve(|r| {
        (
            200,
            vec![
                ("Access-Control-Allow-Origin", r.origin().to_string()),
                ("Vary", "Origin".into()),
            ],
        )
    });
    let (code, v) = probe_json(&[&s.url("/x"), "--origin", APP]);
    assert_eq!(code, 0);
    assert!(
        has(
            &v,
            "reflects-any-origin",
            "warning",
            "probe with a random origin"
        ),
        "{:?}",
        codes(&v)
    );
    assert!(
        has(
            &v,
            "null-origin-accepted",
            "warning",
            "probe with Origin: null"
        ),
        "{:?}",
        codes(&v)
    );
    assert!(
        !codes(&v).iter().any(|c| c.0 == "missing-vary-origin"),
        "{:?}",
        codes(&v)
    );
}

#[test]
fn reflecting_any_origin_with_credentials() {
    let s = serve(|r| {
        (
            200,
            vec![
                ("Access-Control-Allow-Origin", r.origin().to_string()),
                ("Access-Control-Allow-Credentials", "true".into()),
                ("Vary", "Origin".into()),
            ],
        )
    });
    let (code, v) = probe_json(&[&s.url("/me"), "--origin", APP, "--credentials", "include"]);
    assert_eq!(code, 0);
    assert!(
        has(
            &v,
            "credentials-with-reflected-origin",
            "error",
            "probe with a random origin"
        ),
        "{:?}",
        codes(&v)
    );
    assert!(
        has(
            &v,
            "null-origin-accepted",
            "error",
            "probe with Origin: null"
        ),
        "{:?}",
        codes(&v)
    );
    assert_eq!(v["findings"][0]["level"], "error", "errors first");
}

#[test]
fn preflight_answered_401_by_an_auth_layer() {
    let s = serve(|r| {
        if r.method == "OPTIONS" {
            (
                401,
                vec![("WWW-Authenticate", "Bearer realm=\"api\"".to_string())],
            )
        } else {
            correct(r)
        }
    });
    let url = s.url("/v1/items");
    let (code, v) = probe_json(&[&url, "--origin", APP, "--method", "DELETE"]);
    assert_eq!(code, 1);
    assert_eq!(v["cors_error"], "PreflightMissingAllowOriginHeader");
    assert_eq!(
        v["console_message"],
        format!(
            "Access to fetch at '{url}' from origin '{APP}' has been blocked by CORS policy: Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource."
        )
    );
    assert!(
        has(&v, "preflight-auth", "error", "preflight"),
        "{:?}",
        codes(&v)
    );
    assert!(
        v["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("(WWW-Authenticate: Bearer realm=\"api\")")
    );
    assert_eq!(
        s.seen().iter().filter(|r| r.method == "DELETE").count(),
        0,
        "blocked: the DELETE is never sent"
    );
}

#[test]
fn preflight_with_cors_headers_but_403() {
    let s = serve(|r| {
        let (_, h) = correct(r);
        (if r.method == "OPTIONS" { 403 } else { 200 }, h)
    });
    let (code, v) = probe_json(&[&s.url("/v1/items"), "--origin", APP, "--method", "PUT"]);
    assert_eq!(code, 1);
    assert_eq!(v["cors_error"], "PreflightInvalidStatus");
    assert!(
        has(&v, "preflight-auth", "error", "preflight"),
        "{:?}",
        codes(&v)
    );
}

#[test]
fn preflight_redirected() {
    let s = serve(|r| {
        if r.method == "OPTIONS" && !r.target.ends_with('/') {
            (301, vec![("Location", format!("{}/", r.target))])
        } else {
            correct(r)
        }
    });
    let url = s.url("/v1/items");
    let (code, v) = probe_json(&[&url, "--origin", APP, "--method", "PUT"]);
    assert_eq!(code, 1);
    assert_eq!(v["cors_error"], "PreflightDisallowedRedirect");
    assert_eq!(
        v["console_message"],
        format!(
            "Access to fetch at '{url}' from origin '{APP}' has been blocked by CORS policy: Response to preflight request doesn't pass access control check: Redirect is not allowed for a preflight request."
        )
    );
    assert!(
        has(&v, "preflight-redirected", "error", "preflight"),
        "{:?}",
        codes(&v)
    );
    assert!(
        v["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("301 redirect to `/v1/items/`")
    );
    // The HTTP client itself followed nothing.
    assert_eq!(
        s.seen().iter().filter(|r| r.target == "/v1/items/").count(),
        0
    );
}

#[test]
fn acac_true_with_a_capital_t() {
    let s = serve(|r| {
        let mut h = vec![("Vary", "Origin".to_string())];
        if r.origin() == APP {
            h.push(("Access-Control-Allow-Origin", APP.to_string()));
            h.push(("Access-Control-Allow-Credentials", "True".to_string()));
        }
        (200, h)
    });
    let url = s.url("/me");
    let (code, v) = probe_json(&[&url, "--origin", APP, "--credentials", "include"]);
    assert_eq!(code, 1);
    assert_eq!(v["cors_error"], "InvalidAllowCredentials");
    assert_eq!(
        v["console_message"],
        format!(
            "Access to fetch at '{url}' from origin '{APP}' has been blocked by CORS policy: The value of the 'Access-Control-Allow-Credentials' header in the response is 'True' which must be 'true' when the request's credentials mode is 'include'."
        )
    );
    assert!(
        has(&v, "acac-not-true", "error", "request"),
        "{:?}",
        codes(&v)
    );
}

#[test]
fn max_age_above_the_caps() {
    let s = serve(|r| {
        let (status, mut h) = correct(r);
        for (n, v) in &mut h {
            if *n == "Access-Control-Max-Age" {
                *v = "86400".into();
            }
        }
        (status, h)
    });
    let (code, v) = probe_json(&[&s.url("/v1/items"), "--origin", APP, "--method", "PUT"]);
    assert_eq!(code, 0);
    assert!(
        has(&v, "max-age-above-cap", "warning", "preflight"),
        "{:?}",
        codes(&v)
    );
}

#[test]
fn error_response_without_cors_headers() {
    let s = serve(|r| {
        if r.method == "OPTIONS" {
            correct(r)
        } else {
            (500, vec![])
        }
    });
    let (code, v) = probe_json(&[&s.url("/v1/items"), "--origin", APP, "--method", "PUT"]);
    assert_eq!(code, 1);
    assert_eq!(v["cors_error"], "MissingAllowOriginHeader");
    assert!(
        has(&v, "error-without-cors", "warning", "request"),
        "{:?}",
        codes(&v)
    );
}

#[test]
fn preflight_only_never_sends_the_request() {
    let s = serve(correct);
    let (code, out, _) = probe(&[
        &s.url("/v1/items/7"),
        "--origin",
        APP,
        "--method",
        "DELETE",
        "--preflight-only",
        "--no-extra-probes",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(
            "Verdict: preflight passed (the actual request was not sent: --preflight-only)"
        ),
        "{out}"
    );
    assert_eq!(
        s.seen()
            .iter()
            .map(|r| r.method.as_str())
            .collect::<Vec<_>>(),
        ["OPTIONS"]
    );
}

#[test]
fn timeouts_are_reported_plainly() {
    let s = serve_with_delay(correct, Duration::from_secs(3));
    let url = s.url("/slow");
    let (code, out, _) = probe(&[&url, "--origin", APP, "--timeout", "0.5"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains(&format!(
            "Verdict: ERROR GET {url} failed: timed out after 0.5 s"
        )),
        "{out}"
    );
}

#[test]
fn refused_connections_and_tls_errors_are_reported_plainly() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, out, _) = probe(&[&format!("http://127.0.0.1:{port}/"), "--origin", APP]);
    assert_eq!(code, 2);
    assert!(out.contains("failed: cannot connect"), "{out}");

    // https:// to a server that speaks plain HTTP.
    let s = serve(correct);
    let (code, out, _) = probe(&[
        &format!("https://{}/", s.addr),
        "--origin",
        APP,
        "--timeout",
        "3",
    ]);
    assert_eq!(code, 2);
    assert!(out.contains("failed: TLS error:"), "{out}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(probe(&["not a url", "--origin", APP]).0, 2);
    assert_eq!(
        probe(&["http://127.0.0.1:1/", "--origin", APP, "-H", "nocolon"]).0,
        2
    );
    assert_eq!(
        probe(&["http://127.0.0.1:1/", "--origin", APP, "--timeout", "0"]).0,
        2
    );
}

/// nginx with `add_header` without `always`: CORS headers on 2xx answers, none on errors;
/// preflights answered 204 everywhere (`if ($request_method = OPTIONS) { return 204; }`).
fn nginx_without_always(r: &Seen) -> (u16, Vec<(&'static str, String)>) {
    let status = if r.is_preflight() {
        204
    } else if r.target.starts_with("/missing") || r.target.starts_with("/nope") {
        404
    } else {
        200
    };
    let mut h = vec![("Server", "nginx/1.22.1".to_string())];
    if status < 400 {
        let (_, cors) = correct(r);
        h.extend(cors);
    }
    (status, h)
}

#[test]
fn an_error_without_cors_headers_is_compared_with_a_preflight_to_the_same_url() {
    let s = serve(nginx_without_always);
    let (code, v) = probe_json(&[&s.url("/missing"), "--origin", APP]);
    assert_eq!(code, 1);
    assert_eq!(v["cors_error"], "MissingAllowOriginHeader");
    let extra: Vec<&str> = v["extra_probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["label"].as_str().unwrap())
        .collect();
    assert!(
        extra.contains(&"probe with a preflight to the same URL"),
        "{extra:?}"
    );
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "error-without-cors")
        .unwrap_or_else(|| panic!("{:?}", codes(&v)));
    assert_eq!(
        (&f["level"], &f["seen_in"]),
        (&Value::from("warning"), &Value::from("request"))
    );
    let m = f["message"].as_str().unwrap();
    for needle in [
        "the 404 response has no CORS headers, while the probe with a preflight to the same URL from the same server (204) carries them",
        "this server is nginx/1.22.1: the fix is `always`.",
        "add_header Access-Control-Allow-Origin … always;",
        "Express: `app.use(cors(…))` before the routes",
        "the CORS middleware outermost",
    ] {
        assert!(m.contains(needle), "missing {needle:?} in {m}");
    }
    // The reference preflight is an OPTIONS with the page's origin; the actual request was
    // sent once.
    let seen = s.seen();
    assert_eq!(seen.iter().filter(|r| r.method == "GET").count(), 1 + 2);
    assert!(seen.iter().any(|r| r.is_preflight() && r.origin() == APP));

    // --no-extra-probes: no reference, no finding.
    let (_, v) = probe_json(&[&s.url("/missing"), "--origin", APP, "--no-extra-probes"]);
    assert!(
        !has(&v, "error-without-cors", "warning", "request"),
        "{:?}",
        codes(&v)
    );
}

#[test]
fn error_path_probes_a_path_expected_to_fail() {
    let s = serve(nginx_without_always);
    let (code, v) = probe_json(&[
        &s.url("/v1/items"),
        "--origin",
        APP,
        "--error-path",
        "/nope",
    ]);
    assert_eq!(code, 0, "{v:#}");
    assert!(
        has(
            &v,
            "error-without-cors",
            "warning",
            "probe of the error path /nope"
        ),
        "{:?}",
        codes(&v)
    );
    assert!(
        s.seen()
            .iter()
            .any(|r| r.method == "GET" && r.target == "/nope" && r.origin() == APP),
        "{:?}",
        s.seen()
    );

    // A server whose errors keep their CORS headers: nothing to report.
    let good = serve(|r| {
        let (_, h) = correct(r);
        (if r.target == "/nope" { 404 } else { 200 }, h)
    });
    let (_, v) = probe_json(&[
        &good.url("/v1/items"),
        "--origin",
        APP,
        "--error-path",
        "/nope",
    ]);
    assert!(
        codes(&v).iter().all(|(c, ..)| c != "error-without-cors"),
        "{:?}",
        codes(&v)
    );

    // An error path that does not fail is pointed out.
    let (_, v) = probe_json(&[
        &good.url("/v1/items"),
        "--origin",
        APP,
        "--error-path",
        "/fine",
    ]);
    assert!(
        has(
            &v,
            "error-path-did-not-fail",
            "info",
            "probe of the error path /fine"
        ),
        "{:?}",
        codes(&v)
    );
}

/// Without a policy the advice lists every header the server's answers need; with
/// `--config` the fix is the policy's, checked with the browser model.
#[test]
fn blocked_probes_get_advice_or_a_checked_fix() {
    // Allows GET and PUT with content-type only.
    let s = serve(|r| {
        let mut h = vec![("Vary", "Origin".to_string())];
        if r.origin() == APP {
            h.push(("Access-Control-Allow-Origin", APP.to_string()));
            if r.is_preflight() {
                h.push(("Access-Control-Allow-Methods", "GET, PUT".to_string()));
                h.push(("Access-Control-Allow-Headers", "content-type".to_string()));
            }
        }
        (if r.is_preflight() { 204 } else { 200 }, h)
    });
    let url = s.url("/x");
    let args = [
        &url as &str,
        "--origin",
        APP,
        "-X",
        "DELETE",
        "-H",
        "X-Foo: 1",
        "--no-extra-probes",
    ];
    let (code, out, _) = probe(&args);
    assert_eq!(code, 1);
    assert!(
        out.contains("Advice: for this request, the server's answers need:\n  - the preflight (OPTIONS) answer: `Access-Control-Allow-Origin: https://app.example.com` (exactly one, this origin or `*`)\n  - the response: `Access-Control-Allow-Origin: https://app.example.com` (exactly one, this origin or `*`)\n  - the preflight (OPTIONS) answer: `Access-Control-Allow-Methods` listing `DELETE`\n  - the preflight (OPTIONS) answer: `Access-Control-Allow-Headers` listing `x-foo`\n"),
        "{out}"
    );
    let policy = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/explain/get-put.yaml"
    );
    let mut with = args.to_vec();
    with.extend(["--config", policy]);
    let (code, out, err) = probe(&with);
    assert_eq!(code, 1, "{err}");
    assert!(
        out.contains("Fix: add `DELETE` to defaults.allow_methods; add `x-foo` to defaults.allow_headers\n  checked: with these changes the browser allows the request (simulation re-run)\n  (for --config's policy, checked with the browser model: the server itself was not re-run)\n"),
        "{out}"
    );
    // A policy that allows what the server refuses: the server is not running it.
    let wide = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/explain/api.yaml"
    );
    let (_, out, _) = probe(&[
        &url as &str,
        "--origin",
        APP,
        "-X",
        "DELETE",
        "--no-extra-probes",
        "--config",
        wide,
    ]);
    assert!(
        out.contains("Note: under --config's policy the browser model allows this request: the server does not answer as the policy says"),
        "{out}"
    );
}
