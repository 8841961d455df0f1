//! `corsguard demo` starts, serves all three origins, and the demo page's fetches give the
//! documented results at the HTTP level (the same requests the page sends, with the same
//! Origin). The real-browser run belongs to the browser tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

struct Demo {
    child: Child,
    frontend: String,
    untrusted: String,
    gateway: String,
    admin: String,
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn url_after(lines: &[String], label: &str) -> String {
    let line = lines
        .iter()
        .find(|l| l.contains(label))
        .unwrap_or_else(|| panic!("no `{label}` line in {lines:?}"));
    let start = line.find("http://").unwrap();
    line[start..].trim().trim_end_matches('/').to_string()
}

fn start_demo() -> Demo {
    let mut child = Command::new(env!("CARGO_BIN_EXE_corsguard"))
        .arg("demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut lines = Vec::new();
    while !lines.iter().any(|l: &String| l.contains("demo API")) {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(l) => lines.push(l),
            Err(_) => panic!("demo did not print its URLs: {lines:?}"),
        }
    }
    Demo {
        frontend: url_after(&lines, "trusted origin)"),
        untrusted: url_after(&lines, "untrusted origin)"),
        gateway: url_after(&lines, "gateway (API origin)"),
        admin: url_after(&lines, "admin page"),
        child,
    }
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn explain(c: &reqwest::Client, d: &Demo, query: &str) -> serde_json::Value {
    let r = c
        .get(format!("{}/__corsguard/explain?{query}", d.gateway))
        .header("origin", &d.untrusted)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "access-control-allow-origin"), Some("*"));
    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
}

#[test]
fn demo_serves_three_origins_and_the_documented_results() {
    let mut d = start_demo();
    assert!(d.frontend.starts_with("http://127.0.0.1:"));
    assert!(d.untrusted.starts_with("http://localhost:"));
    assert!(d.gateway.starts_with("http://127.0.0.1:"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let (front, untrusted, gw) = (d.frontend.clone(), d.untrusted.clone(), d.gateway.clone());

        // The page, from both origins (localhost resolves to the loopback listener).
        for origin in [&front, &untrusted] {
            let r = c.get(format!("{origin}/")).send().await.unwrap();
            assert_eq!(r.status(), 200);
            let html = r.text().await.unwrap();
            for needle in ["\"allowed-get\"", "\"allowed-credentialed-put\"", "\"refused-origin\"", "\"refused-header\"", "document.title = \"done\"", "\"result-\" + c.id", &gw] {
                assert!(html.contains(needle), "page lacks {needle}");
            }
        }

        // allowed-get
        let r = c.get(format!("{gw}/api/items")).header("origin", &front).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "access-control-allow-origin"), Some(front.as_str()), "the API's own `*` must be replaced");
        assert_eq!(header(&r, "access-control-allow-credentials"), Some("true"));
        assert_eq!(header(&r, "access-control-expose-headers"), Some("x-request-id"));
        assert_eq!(header(&r, "vary"), Some("Accept-Encoding, Origin"));

        // allowed-credentialed-put: preflight answered by the gateway (the API would say 401)
        let p = c
            .request(reqwest::Method::OPTIONS, format!("{gw}/api/profile"))
            .header("origin", &front)
            .header("access-control-request-method", "PUT")
            .header("access-control-request-headers", "content-type,x-demo-token")
            .send()
            .await
            .unwrap();
        assert_eq!(p.status(), 204);
        assert_eq!(header(&p, "access-control-allow-origin"), Some(front.as_str()));
        assert_eq!(header(&p, "access-control-allow-credentials"), Some("true"));
        assert_eq!(header(&p, "access-control-allow-methods"), Some("GET,PUT"));
        assert_eq!(header(&p, "access-control-allow-headers"), Some("content-type,x-demo-token"));
        let login = c.get(format!("{gw}/api/profile")).header("origin", &front).send().await.unwrap();
        let cookie = header(&login, "set-cookie").unwrap().split(';').next().unwrap().to_string();
        assert!(cookie.starts_with("demo_session="));
        let put = c
            .put(format!("{gw}/api/profile"))
            .header("origin", &front)
            .header("cookie", &cookie)
            .header("content-type", "application/json")
            .header("x-demo-token", "42")
            .body(r#"{"theme":"dark"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(put.status(), 200);
        assert_eq!(header(&put, "access-control-allow-origin"), Some(front.as_str()));
        assert_eq!(header(&put, "access-control-allow-credentials"), Some("true"));
        let body: serde_json::Value = serde_json::from_slice(&put.bytes().await.unwrap()).unwrap();
        assert_eq!(body["session_cookie"], true);
        assert_eq!(body["x_demo_token"], "42");

        // refused-origin: the untrusted origin gets no CORS headers (the API's `*` removed)
        let r = c.get(format!("{gw}/api/items")).header("origin", &untrusted).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(header(&r, "access-control-allow-origin"), None);
        assert_eq!(header(&r, "vary"), Some("Accept-Encoding, Origin"));

        // refused-header: the preflight does not allow X-Not-Allowed
        let p = c
            .request(reqwest::Method::OPTIONS, format!("{gw}/api/items"))
            .header("origin", &front)
            .header("access-control-request-method", "PUT")
            .header("access-control-request-headers", "x-not-allowed")
            .send()
            .await
            .unwrap();
        assert_eq!(p.status(), 204);
        assert!(!header(&p, "access-control-allow-headers").unwrap_or("").contains("x-not-allowed"));

        // The explanations the page shows.
        let enc = |s: &str| s.replace(':', "%3A").replace('/', "%2F");
        let x = explain(&c, &d, &format!("origin={}&method=GET&path=/api/items", enc(&front))).await;
        assert_eq!(x["outcome"], "allowed");
        let x = explain(&c, &d, &format!("origin={}&method=PUT&path=/api/profile&headers=content-type,x-demo-token&credentials=include", enc(&front))).await;
        assert_eq!(x["outcome"], "allowed", "{x}");
        let x = explain(&c, &d, &format!("origin={}&method=GET&path=/api/items", enc(&untrusted))).await;
        assert_eq!(x["outcome"], "blocked");
        assert_eq!(x["actual"]["refusal"], "origin-not-allowed");
        assert!(x["fix"].as_str().unwrap().contains(&untrusted));
        let x = explain(&c, &d, &format!("origin={}&method=PUT&path=/api/items&headers=x-not-allowed", enc(&front))).await;
        assert_eq!(x["outcome"], "blocked");
        assert_eq!(x["blocked_at"], "preflight");
        assert!(x["fix"].as_str().unwrap().contains("x-not-allowed"));

        // The admin page lists the refusals.
        let html = c.get(format!("{}/", d.admin)).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("origin-not-allowed") && html.contains("header-not-allowed"));
    });

    // Ctrl-C: graceful stop, exit 0.
    let pid = d.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    for _ in 0..100 {
        if let Some(status) = d.child.try_wait().unwrap() {
            assert!(status.success(), "demo exited with {status}");
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("demo did not stop within 10 s of SIGINT");
}

#[test]
fn print_policy_shows_the_documented_example() {
    let out = Command::new(env!("CARGO_BIN_EXE_corsguard"))
        .args(["demo", "--print-policy"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for key in [
        "allow_origins",
        "allow_credentials",
        "max_age",
        "gateway:",
        "upstream",
        "admin_listen",
        "check_origin",
        "max_body_bytes",
    ] {
        assert!(text.contains(key), "{key} not documented");
    }
}
