//! The `corsguard demo` frontend in Chromium: the page runs its fetches against the gateway
//! and must show the allowed ones as `ALLOWED` and the refused ones as `BLOCKED` with the
//! gateway's explanation; the trusted and the untrusted page are screenshotted to
//! `target/browser-artifacts/demo.png` and `demo-untrusted.png`.
//!
//! The demo is started through the library `corsguard demo` runs
//! (`corsguard_gateway::demo::start`). Contract (corsguard-gateway `demo` module docs): the
//! page sets `document.title = 'done'` when its fetches have finished and writes each result
//! into `#result-<id>` (text starting with `ALLOWED` or `BLOCKED`) and the explanation into
//! `#explain-<id>`.
//!
//! Skip only with `CORSGUARD_SKIP_BROWSER=1`; a missing or broken Chromium fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use corsguard_browser_tests::cdp::{Browser, Page};
use corsguard_browser_tests::runner::extract;
use corsguard_browser_tests::suite;
use serde_json::{Value, json};

/// The demo's fetches and what the trusted page must show.
const TRUSTED: [(&str, &str); 4] = [
    ("allowed-get", "ALLOWED"),
    ("allowed-credentialed-put", "ALLOWED"),
    ("refused-origin", "BLOCKED"),
    ("refused-header", "BLOCKED"),
];

/// `target/browser-artifacts` (next to `target/<profile>/deps/<this test>`).
fn artifacts_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let target = exe
        .parent()
        .and_then(|p| p.parent())
        .and_then(|p| p.parent())
        .unwrap()
        .to_path_buf();
    let dir = target.join("browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Loads `url`, waits for `document.title == 'done'`, returns the `#result-*` and
/// `#explain-*` texts by id.
async fn run_page(page: &Page, url: &str) -> (BTreeMap<String, String>, BTreeMap<String, String>) {
    page.call(
        "Emulation.setDeviceMetricsOverride",
        json!({"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": false}),
    )
    .await
    .unwrap();
    page.navigate(url).await.unwrap();
    let done = page
        .evaluate(
            r#"new Promise((resolve) => {
                const t0 = Date.now();
                (function wait() {
                  if (document.title === 'done') resolve(true);
                  else if (Date.now() - t0 > 30000) resolve(false);
                  else setTimeout(wait, 20);
                })();
              })"#,
            Duration::from_secs(35),
        )
        .await
        .unwrap();
    assert_eq!(
        done,
        Value::Bool(true),
        "the demo page at {url} never set document.title = 'done'"
    );
    let texts = page
        .evaluate(
            r#"(() => {
                const out = {};
                for (const el of document.querySelectorAll('[id^="result-"], [id^="explain-"]')) out[el.id] = el.textContent;
                return out;
              })()"#,
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    let mut results = BTreeMap::new();
    let mut explains = BTreeMap::new();
    for (k, v) in texts.as_object().unwrap() {
        let v = v.as_str().unwrap_or("").to_owned();
        if let Some(id) = k.strip_prefix("result-") {
            results.insert(id.to_owned(), v);
        } else if let Some(id) = k.strip_prefix("explain-") {
            explains.insert(id.to_owned(), v);
        }
    }
    (results, explains)
}

async fn screenshot(page: &Page, name: &str) -> PathBuf {
    let png = page.screenshot_png().await.unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let path = artifacts_dir().join(name);
    std::fs::write(&path, png).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_page_shows_allowed_and_blocked_results() {
    if suite::skipped() {
        eprintln!("browser demo test skipped: CORSGUARD_SKIP_BROWSER=1");
        return;
    }
    let browser = Browser::launch().await.unwrap_or_else(|e| panic!("{e}"));
    let demo = corsguard_gateway::demo::start(Default::default())
        .await
        .expect("start the demo");
    let urls = demo.urls().clone();

    // The trusted page: two fetches allowed, two blocked, each with an explanation.
    let page = browser.new_page().await.unwrap();
    let (results, explains) = run_page(&page, &urls.frontend).await;
    let shot = screenshot(&page, "demo.png").await;
    let events = extract(&page.events());
    page.close().await.unwrap();
    for (id, want) in TRUSTED {
        let got = results
            .get(id)
            .unwrap_or_else(|| panic!("no #result-{id} on the demo page; results: {results:?}"));
        assert!(
            got.starts_with(want),
            "#result-{id}: want {want}…, the page shows {got:?}"
        );
        let explain = explains.get(id).map(String::as_str).unwrap_or("");
        assert!(
            explain.starts_with("gateway: ") && !explain.contains("unknown"),
            "#explain-{id} has no explanation from the gateway: {explain:?}"
        );
        if want == "BLOCKED" {
            assert!(
                explain.contains("refused")
                    || explain.contains("blocked")
                    || explain.contains("not allowed"),
                "#explain-{id} does not explain the refusal: {explain:?}"
            );
        }
    }
    // Chromium's own reason for the refused header (the refused origin runs in a frame).
    assert!(
        events
            .cors_failures
            .iter()
            .any(|f| f.cors_error == "HeaderDisallowedByPreflightResponse"
                && f.failed_parameter.as_deref() == Some("x-not-allowed")),
        "Chromium did not report HeaderDisallowedByPreflightResponse(x-not-allowed): {:?}",
        events.cors_failures
    );

    // The untrusted page: everything blocked.
    let page = browser.new_page().await.unwrap();
    let (results, _) = run_page(&page, &urls.untrusted).await;
    screenshot(&page, "demo-untrusted.png").await;
    page.close().await.unwrap();
    for (id, _) in TRUSTED {
        let got = results
            .get(id)
            .unwrap_or_else(|| panic!("no #result-{id} on the untrusted page"));
        assert!(
            got.starts_with("BLOCKED"),
            "untrusted #result-{id}: {got:?}"
        );
    }

    demo.shutdown().await;
    browser.close().await;
    println!("demo screenshot: {}", shot.display());
}
