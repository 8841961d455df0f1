//! `corsguard explain`: scenarios against `tests/fixtures/explain/api.yaml`, each asserting the
//! exact verdict, Chromium's console message and the proposed fix (with its warning), plus
//! the steps and the JSON form.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use serde_json::Value;

const POLICY: &str = "tests/fixtures/explain/api.yaml";
const API: &str = "https://api.example.com";
const APP: &str = "https://app.example.com";

struct Run {
    code: i32,
    out: String,
}

impl Run {
    fn line(&self, prefix: &str) -> Option<&str> {
        self.out.lines().find_map(|l| l.strip_prefix(prefix))
    }
    fn verdict(&self) -> &str {
        self.line("Verdict: ")
            .unwrap_or_else(|| panic!("no verdict in:\n{}", self.out))
    }
    fn console(&self) -> Option<&str> {
        self.line("Console: ")
    }
    fn fix(&self) -> Option<&str> {
        self.line("Fix: ")
    }
    fn warning(&self) -> Option<&str> {
        self.line("  warning: ")
    }
}

fn explain(args: &[&str]) -> Run {
    explain_with(POLICY, args)
}

fn explain_with(policy: &str, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_corsguard"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(["explain", "--config", policy])
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap(),
        out: String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap(),
    }
}

fn blocked_by(url: &str, origin: &str, tail: &str) -> String {
    format!(
        "Access to fetch at '{url}' from origin '{origin}' has been blocked by CORS policy: {tail}"
    )
}

const NO_ACAO: &str =
    "No 'Access-Control-Allow-Origin' header is present on the requested resource.";
const PREFLIGHT: &str = "Response to preflight request doesn't pass access control check: ";

#[test]
fn s01_simple_get_from_an_allowed_origin() {
    let r = explain(&["--origin", APP, "--url", &format!("{API}/v1/items")]);
    assert_eq!((r.code, r.verdict()), (0, "allowed"));
    assert!(
        r.out
            .contains("1. No preflight: a simple request (CORS-safelisted method and headers)"),
        "{}",
        r.out
    );
    assert!(
        r.out
            .contains("       access-control-allow-origin: https://app.example.com\n"),
        "{}",
        r.out
    );
    assert_eq!(r.console(), None);
}

#[test]
fn s02_credentialed_put_with_a_custom_header() {
    let url = format!("{API}/v1/items");
    let r = explain(&[
        "--origin",
        APP,
        "--url",
        &url,
        "--method",
        "PUT",
        "--header",
        "X-Trace-Id: 1",
        "--credentials",
        "include",
    ]);
    assert_eq!((r.code, r.verdict()), (0, "allowed"));
    for needle in [
        "1. Preflight needed:\n   - method PUT is not a CORS-safelisted method (GET, HEAD, POST)\n   - header x-trace-id is not a CORS-safelisted request-header\n",
        "     OPTIONS /v1/items (never with cookies)\n     Accept: */*\n     Access-Control-Request-Method: PUT\n     Access-Control-Request-Headers: x-trace-id\n     Origin: https://app.example.com\n",
        "     [pass] method: `PUT` allowed by allow_methods [GET, POST, PUT, DELETE, PATCH]\n",
        "4. The browser checks the preflight: passed\n",
        "   Chromium caches this preflight for 600 s\n",
        "     PUT /v1/items (with cookies)\n",
        "       access-control-allow-credentials: true\n",
        "7. The browser checks the request: passed\n   script can read: (no header of this response)\n",
    ] {
        assert!(r.out.contains(needle), "missing {needle:?} in:\n{}", r.out);
    }
}

#[test]
fn s03_refused_origin_simple_request() {
    let url = format!("{API}/v1/items");
    let r = explain(&["--origin", "https://evil.example", "--url", &url]);
    assert_eq!(
        (r.code, r.verdict()),
        (1, "BLOCKED (MissingAllowOriginHeader)")
    );
    assert_eq!(
        r.console().unwrap(),
        blocked_by(&url, "https://evil.example", NO_ACAO)
    );
    assert_eq!(
        r.fix(),
        Some("add `https://evil.example` to defaults.allow_origins")
    );
    assert_eq!(r.warning(), None);
}

#[test]
fn s04_refused_origin_preflighted_request() {
    let url = format!("{API}/v1/items/7");
    let r = explain(&[
        "--origin",
        "https://evil.example",
        "--url",
        &url,
        "--method",
        "DELETE",
    ]);
    assert_eq!(
        (r.code, r.verdict()),
        (1, "BLOCKED (PreflightMissingAllowOriginHeader)")
    );
    assert_eq!(
        r.console().unwrap(),
        blocked_by(
            &url,
            "https://evil.example",
            &format!("{PREFLIGHT}{NO_ACAO}")
        )
    );
    assert_eq!(
        r.fix(),
        Some("add `https://evil.example` to defaults.allow_origins")
    );
    assert!(r.out.contains("     [FAIL] origin: `https://evil.example` matches none of the 3 entries of defaults.allow_origins\n"), "{}", r.out);
}

#[test]
fn s05_method_not_allowed() {
    let url = format!("{API}/v1/items");
    let r = explain(&["--origin", APP, "--url", &url, "--method", "PURGE"]);
    assert_eq!(
        (r.code, r.verdict()),
        (1, "BLOCKED (MethodDisallowedByPreflightResponse)")
    );
    assert_eq!(
        r.console().unwrap(),
        blocked_by(
            &url,
            APP,
            "Method PURGE is not allowed by Access-Control-Allow-Methods in preflight response."
        )
    );
    assert_eq!(r.fix(), Some("add `PURGE` to defaults.allow_methods"));
}

#[test]
fn s06_lower_case_method_is_not_normalised() {
    let url = format!("{API}/v1/items");
    let r = explain(&["--origin", APP, "--url", &url, "--method", "patch"]);
    assert_eq!(r.verdict(), "BLOCKED (MethodDisallowedByPreflightResponse)");
    assert_eq!(
        r.console().unwrap(),
        blocked_by(
            &url,
            APP,
            "Method patch is not allowed by Access-Control-Allow-Methods in preflight response."
        )
    );
    assert_eq!(r.fix(), Some("add `patch` to defaults.allow_methods"));
    assert_eq!(
        r.warning(),
        Some(
            "`PATCH` is allowed, but the page sent `patch`: methods are case-sensitive; fixing the page's fetch() call is better"
        )
    );
}

#[test]
fn s07_header_not_allowed_first_in_acrh_order() {
    let url = format!("{API}/v1/items");
    let r = explain(&[
        "--origin", APP, "--url", &url, "-H", "X-Foo: 1", "-H", "X-Bar: 2",
    ]);
    assert_eq!(r.verdict(), "BLOCKED (HeaderDisallowedByPreflightResponse)");
    assert!(
        r.out
            .contains("     Access-Control-Request-Headers: x-bar,x-foo\n"),
        "{}",
        r.out
    );
    assert_eq!(
        r.console().unwrap(),
        blocked_by(
            &url,
            APP,
            "Request header field x-bar is not allowed by Access-Control-Allow-Headers in preflight response."
        )
    );
    // Every header the request needs, not only the first the browser complains about.
    assert_eq!(
        r.fix(),
        Some("add `x-bar`, `x-foo` to defaults.allow_headers")
    );
}

#[test]
fn s08_json_content_type_needs_a_preflight_and_is_allowed() {
    let r = explain(&[
        "--origin",
        APP,
        "--url",
        &format!("{API}/v1/items"),
        "--method",
        "POST",
        "-H",
        "Content-Type: application/json",
    ]);
    assert_eq!((r.code, r.verdict()), (0, "allowed"));
    assert!(r.out.contains("   - Content-Type 'application/json' has essence application/json, not application/x-www-form-urlencoded, multipart/form-data or text/plain\n"), "{}", r.out);
}

#[test]
fn s09_text_plain_post_needs_no_preflight() {
    let r = explain(&[
        "--origin",
        APP,
        "--url",
        &format!("{API}/v1/items"),
        "--method",
        "POST",
        "-H",
        "Content-Type: text/plain;charset=UTF-8",
    ]);
    assert_eq!(r.verdict(), "allowed");
    assert!(r.out.contains("1. No preflight"), "{}", r.out);
    assert!(!r.out.contains("OPTIONS"), "{}", r.out);
}

#[test]
fn s10_credentials_include_but_the_rule_does_not_allow_credentials() {
    let url = format!("{API}/anon/x");
    let r = explain(&["--origin", APP, "--url", &url, "--credentials", "include"]);
    assert_eq!(
        (r.code, r.verdict()),
        (1, "BLOCKED (InvalidAllowCredentials)")
    );
    assert_eq!(
        r.console().unwrap(),
        blocked_by(
            &url,
            APP,
            "The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true' when the request's credentials mode is 'include'."
        )
    );
    assert!(
        r.out
            .contains("Note: the policy allowed this request; the browser blocks it anyway\n")
    );
    assert_eq!(
        r.fix(),
        Some(
            "set paths[1].allow_credentials: true (or, if this request needs no cookies, use credentials: 'same-origin' in the fetch() call)"
        )
    );
    assert_eq!(
        r.warning(),
        Some(
            "paths[1].allow_origins also admits `https://*.example.org`, `http://localhost:*`: every origin they match could then make credentialed requests; paths[1].allow_origins has plain-http origins, which corsguard refuses with credentials unless allow_insecure_origins_with_credentials: true"
        )
    );
}

#[test]
fn s11_credentials_include_against_a_wildcard_origin() {
    let url = format!("{API}/public/logo.png");
    let r = explain(&["--origin", APP, "--url", &url, "--credentials", "include"]);
    assert_eq!(r.verdict(), "BLOCKED (WildcardOriginNotAllowed)");
    assert_eq!(
        r.console().unwrap(),
        blocked_by(
            &url,
            APP,
            "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'."
        )
    );
    assert_eq!(
        r.fix(),
        Some(
            "replace `*` in paths[0].allow_origins with `https://app.example.com` and set paths[0].allow_credentials: true"
        )
    );
    assert_eq!(
        r.warning(),
        Some(
            "do not make corsguard reflect every origin with credentials instead: any website could then read your users' data; list only the origins you trust"
        )
    );
}

#[test]
fn s12_wildcard_headers_never_cover_authorization() {
    let url = format!("{API}/public/x");
    let r = explain(&[
        "--origin",
        APP,
        "--url",
        &url,
        "-H",
        "Authorization: Bearer t",
        "-H",
        "X-Foo: 1",
    ]);
    assert_eq!(r.verdict(), "BLOCKED (HeaderDisallowedByPreflightResponse)");
    assert!(
        r.out
            .contains("       access-control-allow-headers: x-foo\n"),
        "{}",
        r.out
    );
    assert_eq!(
        r.console().unwrap(),
        blocked_by(
            &url,
            APP,
            "Request header field authorization is not allowed by Access-Control-Allow-Headers in preflight response."
        )
    );
    assert_eq!(
        r.fix(),
        Some("add `authorization` to paths[0].allow_headers")
    );
}

#[test]
fn s13_wildcard_headers_allow_custom_headers() {
    let r = explain(&[
        "--origin",
        "https://anyone.example",
        "--url",
        &format!("{API}/public/x"),
        "-H",
        "X-Foo: 1",
        "--method",
        "PUT",
    ]);
    assert_eq!((r.code, r.verdict()), (0, "allowed"));
    assert!(r.out.contains("       access-control-allow-origin: *\n       access-control-allow-methods: GET,POST,PUT,DELETE,PATCH\n       access-control-allow-headers: *\n"), "{}", r.out);
}

#[test]
fn s14_null_origin() {
    let url = format!("{API}/v1/items");
    let r = explain(&["--origin", "null", "--url", &url]);
    assert_eq!(r.verdict(), "BLOCKED (MissingAllowOriginHeader)");
    assert_eq!(r.console().unwrap(), blocked_by(&url, "null", NO_ACAO));
    assert_eq!(r.fix(), Some("set defaults.allow_null_origin: true"));
    assert_eq!(
        r.warning(),
        Some(
            "any sandboxed iframe, data: URL or redirected request sends `Origin: null`; allowing it is almost never safe"
        )
    );
}

#[test]
fn s15_cors_false_path() {
    let url = format!("{API}/legacy/report");
    let r = explain(&["--origin", APP, "--url", &url]);
    assert_eq!(r.verdict(), "BLOCKED (MissingAllowOriginHeader)");
    assert_eq!(r.console().unwrap(), blocked_by(&url, APP, NO_ACAO));
    assert_eq!(
        r.fix(),
        Some(
            "remove `cors: false` from paths[2] (path prefix /legacy/), so that corsguard answers CORS there (or make the application send the CORS headers itself)"
        )
    );
}

#[test]
fn s16_cors_false_path_with_an_application_that_answers_cors_itself() {
    let r = explain(&[
        "--origin",
        APP,
        "--url",
        &format!("{API}/legacy/report"),
        "--app-header",
        "Access-Control-Allow-Origin: https://app.example.com",
    ]);
    assert_eq!((r.code, r.verdict()), (0, "allowed"));
    assert!(
        r.out
            .contains("     verdict: passthrough: CORS disabled for this path (`cors: false`)\n"),
        "{}",
        r.out
    );
}

#[test]
fn s17_shadow_mode() {
    let url = format!("{API}/trial/x");
    let r = explain(&["--origin", APP, "--url", &url]);
    assert_eq!(r.verdict(), "BLOCKED (MissingAllowOriginHeader)");
    assert_eq!(
        r.fix(),
        Some("set paths[3].mode: enforce (in shadow mode corsguard only records what it would do)")
    );
}

#[test]
fn s18_forced_allow_origin() {
    let url = format!("{API}/static/app.js");
    let r = explain(&["--origin", APP, "--url", &url]);
    assert_eq!(r.verdict(), "BLOCKED (AllowOriginMismatch)");
    assert_eq!(
        r.console().unwrap(),
        blocked_by(
            &url,
            APP,
            "The 'Access-Control-Allow-Origin' header has a value 'https://cdn.example.com' that is not equal to the supplied origin. Have the server send the header with a valid value."
        )
    );
    assert_eq!(
        r.fix(),
        Some(
            "paths[4].forced_allow_origin answers `https://cdn.example.com` to every origin: remove it and add `https://app.example.com` to paths[4].allow_origins"
        )
    );
    let r = explain(&["--origin", "https://cdn.example.com", "--url", &url]);
    assert_eq!(r.verdict(), "allowed");
}

#[test]
fn s19_passed_through_preflight_answered_404_by_the_application() {
    let url = format!("{API}/hooks/x");
    let r = explain(&[
        "--origin",
        APP,
        "--url",
        &url,
        "--method",
        "PUT",
        "--app-status",
        "404",
    ]);
    assert_eq!(r.verdict(), "BLOCKED (PreflightInvalidStatus)");
    assert_eq!(
        r.console().unwrap(),
        blocked_by(
            &url,
            APP,
            &format!("{PREFLIGHT}It does not have HTTP ok status.")
        )
    );
    assert_eq!(
        r.fix(),
        Some(
            "paths[5] forwards preflights to the application (preflight.passthrough), which answered 404: remove preflight.passthrough so that corsguard answers, or make the application answer OPTIONS with a 2xx status"
        )
    );
}

#[test]
fn s20_forbid_mode_answers_403_without_cors_headers() {
    let url = format!("{API}/strict/x");
    let r = explain(&["--origin", APP, "--url", &url, "--method", "PURGE"]);
    assert_eq!(r.verdict(), "BLOCKED (PreflightMissingAllowOriginHeader)");
    assert!(r.out.contains("     → 403 from corsguard:\n"), "{}", r.out);
    assert_eq!(
        r.console().unwrap(),
        blocked_by(&url, APP, &format!("{PREFLIGHT}{NO_ACAO}"))
    );
    assert_eq!(r.fix(), Some("add `PURGE` to paths[6].allow_methods"));
}

#[test]
fn s21_application_errors_keep_their_cors_headers() {
    let r = explain(&[
        "--origin",
        APP,
        "--url",
        &format!("{API}/v1/items"),
        "--app-status",
        "500",
    ]);
    assert_eq!((r.code, r.verdict()), (0, "allowed"));
    assert!(r.out.contains("     → the application's 500 response:\n       access-control-allow-origin: https://app.example.com\n"), "{}", r.out);
}

#[test]
fn s22_same_origin_request() {
    let r = explain(&[
        "--origin",
        API,
        "--url",
        &format!("{API}/v1/items"),
        "--method",
        "DELETE",
        "--credentials",
        "include",
    ]);
    assert_eq!((r.code, r.verdict()), (0, "allowed"));
    assert!(
        r.out
            .contains("1. Same-origin request: CORS does not apply, no preflight\n"),
        "{}",
        r.out
    );
}

#[test]
fn s23_forbidden_method_throws() {
    let r = explain(&[
        "--origin",
        APP,
        "--url",
        &format!("{API}/v1/items"),
        "--method",
        "TRACE",
    ]);
    assert_eq!((r.code, r.verdict()), (1, "BLOCKED (TypeError)"));
    assert_eq!(
        r.line("Script: "),
        Some("TypeError: Failed to fetch ('TRACE' HTTP method is unsupported.)")
    );
    assert_eq!(r.fix(), Some("no policy change allows this request"));
}

#[test]
fn s24_forbidden_header_is_dropped_not_sent() {
    let r = explain(&[
        "--origin",
        APP,
        "--url",
        &format!("{API}/v1/items"),
        "-H",
        "Cookie: a=b",
    ]);
    assert_eq!(r.verdict(), "allowed");
    assert!(
        r.out.contains(
            "  not sent: Cookie: a forbidden request header: fetch() silently drops it\n"
        ),
        "{}",
        r.out
    );
    assert!(r.out.contains("1. No preflight"), "{}", r.out);
}

#[test]
fn s25_subdomain_and_any_port_patterns() {
    let r = explain(&[
        "--origin",
        "https://a.b.example.org",
        "--url",
        &format!("{API}/v1/items"),
        "--method",
        "PUT",
        "--credentials",
        "include",
    ]);
    assert_eq!(r.verdict(), "allowed");
    let r = explain(&[
        "--origin",
        "http://localhost:5173",
        "--url",
        &format!("{API}/v1/items"),
        "--credentials",
        "include",
    ]);
    assert_eq!(r.verdict(), "allowed");
    let url = format!("{API}/v1/items");
    let r = explain(&["--origin", "https://example.org", "--url", &url]);
    assert_eq!(r.verdict(), "BLOCKED (MissingAllowOriginHeader)");
    assert_eq!(
        r.fix(),
        Some("add `https://example.org` to defaults.allow_origins")
    );
}

#[test]
fn s26_max_age_above_the_browser_caps() {
    let r = explain(&[
        "--origin",
        APP,
        "--url",
        &format!("{API}/cached/x"),
        "--method",
        "PUT",
    ]);
    assert_eq!(r.verdict(), "allowed");
    assert!(
        r.out.contains("   Chromium caches this preflight for 7200 s (Access-Control-Max-Age 86400 is capped at 7200; Safari caps at 600)\n"),
        "{}",
        r.out
    );
}

#[test]
fn json_report() {
    let out = Command::new(env!("CARGO_BIN_EXE_corsguard"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "explain",
            "-c",
            POLICY,
            "--origin",
            APP,
            "--url",
            "https://api.example.com/anon/x",
            "--credentials",
            "include",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "blocked");
    assert_eq!(v["cors_error"], "InvalidAllowCredentials");
    assert_eq!(v["policy_allowed"], true);
    assert_eq!(v["preflight_needed"], false);
    assert_eq!(
        v["fix"]["change"],
        "set paths[1].allow_credentials: true (or, if this request needs no cookies, use credentials: 'same-origin' in the fetch() call)"
    );
    assert_eq!(v["exchanges"].as_array().unwrap().len(), 1);
    assert_eq!(v["exchanges"][0]["policy"]["rule"], "paths[1]");
    assert_eq!(v["exchanges"][0]["policy"]["verdict"], "allowed");
    assert_eq!(v["exchanges"][0]["request"]["method"], "GET");
    assert_eq!(
        v["exchanges"][0]["failure"]["cors_error"],
        "InvalidAllowCredentials"
    );
    assert_eq!(
        v["console_message"],
        "Access to fetch at 'https://api.example.com/anon/x' from origin 'https://app.example.com' has been blocked by CORS policy: The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true' when the request's credentials mode is 'include'."
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(explain(&["--origin", APP, "--url", "not a url"]).code, 2);
    assert_eq!(
        explain(&[
            "--origin",
            APP,
            "--url",
            "https://api.example.com/",
            "-H",
            "no-colon"
        ])
        .code,
        2
    );
    let out = Command::new(env!("CARGO_BIN_EXE_corsguard"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args([
            "explain",
            "-c",
            "tests/fixtures/check/unknown-key.yaml",
            "--origin",
            APP,
            "--url",
            "https://api.example.com/",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[unknown-key]"));
}

/// A cross-site form POST (`--mode no-cors`, cookies included): the browser sends
/// `Sec-Fetch-Site: cross-site` itself, the CSRF check refuses it with 403 before the
/// application runs, and explain says so although the browser raises no error.
#[test]
fn a_cross_site_form_post_is_refused_by_csrf() {
    const CSRF: &str = "tests/fixtures/explain/csrf.yaml";
    let post = |origin: &str, url: &str| {
        explain_with(
            CSRF,
            &[
                "--origin",
                origin,
                "--url",
                url,
                "--method",
                "POST",
                "--mode",
                "no-cors",
                "--credentials",
                "include",
            ],
        )
    };
    let r = post("https://evil.example", &format!("{API}/transfer"));
    assert_eq!(r.code, 1, "{}", r.out);
    assert!(
        r.out.contains("     Sec-Fetch-Site: cross-site\n"),
        "{}",
        r.out
    );
    assert!(
        r.out.contains("       x-corsguard-csrf: csrf-cross-site\n"),
        "{}",
        r.out
    );
    assert_eq!(
        r.line("CSRF: "),
        Some(
            "refused with 403: the application never ran (csrf-cross-site: Sec-Fetch-Site: cross-site, and the Origin is not trusted)"
        ),
        "{}",
        r.out
    );
    assert!(
        r.verdict().starts_with("REFUSED by the server (CSRF)"),
        "{}",
        r.out
    );

    // A sibling subdomain is same-site, which is not trusted unless allow_same_site.
    let r = post("https://blog.example.com", &format!("{API}/transfer"));
    assert!(
        r.out.contains("     Sec-Fetch-Site: same-site\n"),
        "{}",
        r.out
    );
    assert!(
        r.line("CSRF: ")
            .is_some_and(|l| l.contains("csrf-same-site")),
        "{}",
        r.out
    );

    // Plain http: browsers send no Sec-Fetch-*; the Origin is judged against the host.
    let r = post("https://evil.example", "http://api.example.com/transfer");
    assert!(!r.out.contains("     Sec-Fetch-Site: "), "{}", r.out);
    assert!(
        r.line("CSRF: ")
            .is_some_and(|l| l.contains("csrf-untrusted-origin")),
        "{}",
        r.out
    );

    // The allowed page passes; a bypass rule passes; report mode reports.
    for (origin, path) in [(APP, "/transfer"), ("https://evil.example", "/webhooks/x")] {
        let r = post(origin, &format!("{API}{path}"));
        assert_eq!((r.code, r.line("CSRF: ")), (0, None), "{}", r.out);
        assert_eq!(r.verdict(), "allowed");
    }
    let r = post("https://evil.example", &format!("{API}/report/x"));
    assert_eq!(r.code, 0, "{}", r.out);
    assert!(
        r.line("CSRF: ")
            .is_some_and(|l| l.starts_with("would be refused (report mode")),
        "{}",
        r.out
    );
}

// Local Network Access (Chromium ≥ 142) and CORP/COEP: blocks no CORS header changes.

#[test]
fn s27_public_page_to_loopback_is_blocked_by_lna_before_anything_is_sent() {
    let url = "http://127.0.0.1:8080/v1/items";
    let r = explain(&["--origin", APP, "--url", url]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.verdict(),
        "BLOCKED by Local Network Access (LocalNetworkAccessPermissionDenied), not by the server's CORS answer"
    );
    assert_eq!(
        r.console(),
        Some(
            blocked_by(
                url,
                APP,
                "Permission was denied for this request to access the `loopback` address space."
            )
            .as_str()
        )
    );
    assert!(
        r.fix()
            .unwrap()
            .starts_with("no server header fixes a Local Network Access block")
    );
    assert!(
        r.out
            .contains("the user grants `loopback-network` to https://app.example.com")
    );
    assert!(r.out.contains("LoopbackNetworkAllowedForUrls"));
    assert!(
        !r.out.contains("The browser sends"),
        "nothing is sent:\n{}",
        r.out
    );
    // Granted: the request goes on to the CORS checks, which the policy passes.
    let r = explain(&["--origin", APP, "--url", url, "--lna-permission", "granted"]);
    assert_eq!((r.code, r.verdict()), (0, "allowed"));
    assert!(
        r.out
            .contains("the `loopback-network` permission (granted)")
    );
}

#[test]
fn s28_resolve_and_overrides_decide_the_address_space() {
    let url = format!("{API}/v1/items");
    // a name is public unless told otherwise
    assert_eq!(explain(&["--origin", APP, "--url", &url]).code, 0);
    let r = explain(&[
        "--origin",
        APP,
        "--url",
        &url,
        "--resolve",
        "api.example.com=192.168.1.5",
    ]);
    assert_eq!(r.code, 1);
    assert!(
        r.console()
            .unwrap()
            .ends_with("access the `local` address space.")
    );
    assert!(r.out.contains("resolves to 192.168.1.5"));
    // CGNAT counts as local, unless the enterprise override says public
    let args = [
        "--origin",
        APP,
        "--url",
        &url,
        "--resolve",
        "api.example.com=100.100.1.1",
    ];
    assert_eq!(explain(&args).code, 1);
    let mut with_override = args.to_vec();
    with_override.extend(["--ip-address-space-override", "100.64.0.0/10=public"]);
    assert_eq!(explain(&with_override).code, 0);
    let bad = explain(&[
        "--origin",
        APP,
        "--url",
        &url,
        "--resolve",
        "api.example.com",
    ]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.out
            .contains("--resolve `api.example.com`: write HOST=IP")
    );
}

#[test]
fn s29_insecure_page_iframe_and_target_address_space() {
    let url = "http://10.0.0.7/status";
    let r = explain(&[
        "--origin",
        "http://intranet.example.com",
        "--url",
        url,
        "--lna-permission",
        "granted",
    ]);
    assert_eq!(r.code, 1);
    assert!(r.verdict().contains("(InsecureLocalNetwork)"));
    assert!(r.out.contains("serve the page from a secure context"));
    let iframe = [
        "--origin",
        APP,
        "--url",
        url,
        "--lna-permission",
        "granted",
        "--iframe-in",
        "https://portal.example.org",
    ];
    let r = explain(&iframe);
    assert_eq!(r.code, 1);
    assert!(r.out.contains("<iframe allow=\"local-network-access\">"));
    let mut allowed = iframe.to_vec();
    allowed.extend(["--iframe-allow", "local-network-access"]);
    assert_eq!(explain(&allowed).verdict(), "allowed");
    let r = explain(&[
        "--origin",
        APP,
        "--url",
        url,
        "--lna-permission",
        "granted",
        "--target-address-space",
        "loopback",
    ]);
    assert!(r.verdict().contains("(InvalidLocalNetworkAccess)"));
    assert!(r.console().unwrap().ends_with(
        "Request had a target IP address space of `loopback` yet the resource is in address space `local`."
    ));
}

#[test]
fn s30_coep_page_loading_an_image_without_corp_is_blocked_by_corp_not_cors() {
    let args = [
        "--origin",
        APP,
        "--url",
        "https://cdn.example.net/logo.png",
        "--mode",
        "no-cors",
        "--destination",
        "image",
        "--page-header",
        "Cross-Origin-Embedder-Policy: require-corp",
    ];
    let r = explain(&args);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.verdict(),
        "BLOCKED by CORP/COEP (corp-not-same-origin-after-defaulted-to-same-origin-by-coep), not by CORS"
    );
    assert_eq!(
        r.console(),
        Some(
            "Failed to load resource: net::ERR_BLOCKED_BY_RESPONSE.NotSameOriginAfterDefaultedToSameOriginByCoep"
        )
    );
    assert!(
        r.out
            .contains("send `Cross-Origin-Resource-Policy: cross-origin` on this response")
    );
    assert!(r.out.contains("<img src crossorigin>"));
    assert!(r.out.contains("Sec-Fetch-Dest: image"));
    let mut with_corp = args.to_vec();
    with_corp.extend(["--app-header", "Cross-Origin-Resource-Policy: cross-origin"]);
    assert_eq!(explain(&with_corp).verdict(), "allowed");
    // credentialless: no CORP needed, and no cookies sent
    let mut cl = args.to_vec();
    cl[9] = "Cross-Origin-Embedder-Policy: credentialless";
    cl.extend(["--credentials", "include"]);
    let r = explain(&cl);
    assert_eq!(r.verdict(), "allowed");
    assert!(r.out.contains("(without cookies)"));
    // same-origin CORP without COEP: blocked too; the CORS alternative needs an allowed origin
    let r = explain(&[
        "--origin",
        "https://evil.example",
        "--url",
        "https://cdn.example.net/x.js",
        "--mode",
        "no-cors",
        "--destination",
        "script",
        "--app-header",
        "Cross-Origin-Resource-Policy: same-origin",
    ]);
    assert!(r.verdict().contains("(corp-not-same-origin)"));
    assert!(
        r.out
            .contains("the policy must then allow https://evil.example: it does not today")
    );
}

#[test]
fn s31_iframe_under_coep_needs_corp_and_its_own_coep() {
    let base = [
        "--origin",
        APP,
        "--url",
        "https://widgets.example.net/embed",
        "--destination",
        "iframe",
        "--page-header",
        "Cross-Origin-Embedder-Policy: require-corp",
        "--app-header",
        "Cross-Origin-Resource-Policy: cross-origin",
    ];
    let r = explain(&base);
    assert!(
        r.verdict()
            .contains("(coep-frame-resource-needs-coep-header)"),
        "{}",
        r.out
    );
    assert!(
        r.out
            .contains("the iframe's document must itself send Cross-Origin-Embedder-Policy")
    );
    let mut both = base.to_vec();
    both.extend(["--app-header", "Cross-Origin-Embedder-Policy: require-corp"]);
    assert_eq!(explain(&both).verdict(), "allowed");
}

#[test]
fn lna_and_corp_in_json() {
    let r = explain(&[
        "--origin",
        APP,
        "--url",
        "http://[::1]:9/x",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(v["cors_error"], "LocalNetworkAccessPermissionDenied");
    assert_eq!(v["local_network"]["target"]["space"], "loopback");
    assert_eq!(v["local_network"]["permission"], "loopback-network");
    assert_eq!(v["local_network"]["permission_state"], "prompt");
    assert_eq!(v["exchanges"].as_array().unwrap().len(), 0);
    let r = explain(&[
        "--origin",
        APP,
        "--url",
        "https://cdn.example.net/i",
        "--mode",
        "no-cors",
        "--destination",
        "image",
        "--app-header",
        "Cross-Origin-Resource-Policy: same-site",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(v["blocked_by_response"]["reason"], "CorpNotSameSite");
    assert_eq!(v["blocked_by_response"]["corp"], "same-site");
    assert_eq!(v["cors_error"], Value::Null);
}

/// A fix lists every change the request needs, and is printed only once the simulation,
/// re-run against the policy with the changes applied, lets the request through.
#[test]
fn the_fix_lists_every_change_the_request_needs() {
    const GET_PUT: &str = "tests/fixtures/explain/get-put.yaml";
    let url = format!("{API}/x");
    let r = explain_with(
        GET_PUT,
        &[
            "--origin", APP, "--url", &url, "-X", "DELETE", "-H", "X-Foo: 1",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.out);
    assert_eq!(
        r.fix(),
        Some("add `DELETE` to defaults.allow_methods; add `x-foo` to defaults.allow_headers"),
        "{}",
        r.out
    );
    assert!(
        r.out.contains(
            "  checked: with these changes the browser allows the request (simulation re-run)\n"
        ),
        "{}",
        r.out
    );
}

#[test]
fn the_fix_covers_origin_credentials_method_and_headers_together() {
    const GET_PUT: &str = "tests/fixtures/explain/get-put.yaml";
    let r = explain_with(
        GET_PUT,
        &[
            "--origin",
            "https://admin.example.com",
            "--url",
            &format!("{API}/x"),
            "-X",
            "DELETE",
            "-H",
            "X-Foo: 1",
            "-H",
            "X-Bar: 2",
            "--credentials",
            "include",
        ],
    );
    assert_eq!(
        r.fix(),
        Some(
            "add `https://admin.example.com` to defaults.allow_origins; set defaults.allow_credentials: true (or, if this request needs no cookies, use credentials: 'same-origin' in the fetch() call); add `DELETE` to defaults.allow_methods; add `x-bar`, `x-foo` to defaults.allow_headers"
        ),
        "{}",
        r.out
    );
    assert!(r.out.contains("  checked: with these changes"), "{}", r.out);
}

/// A change the policy would refuse to load is not a fix: say why instead.
#[test]
fn a_fix_that_makes_the_policy_invalid_is_not_printed() {
    let r = explain(&[
        "--origin",
        "http://intranet.example",
        "--url",
        &format!("{API}/v1/items"),
    ]);
    assert_eq!(
        r.fix(),
        Some("no policy change allows this request"),
        "{}",
        r.out
    );
    let why = r.line("  why: ").unwrap();
    assert!(
        why.starts_with("`add `http://intranet.example` to defaults.allow_origins` would make the policy invalid: `http://intranet.example` is not https"),
        "{why}"
    );
}

#[test]
fn json_fix_lists_the_changes() {
    const GET_PUT: &str = "tests/fixtures/explain/get-put.yaml";
    let out = Command::new(env!("CARGO_BIN_EXE_corsguard"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["explain", "--config", GET_PUT, "--origin", APP, "--url"])
        .arg(format!("{API}/x"))
        .args(["-X", "DELETE", "-H", "X-Foo: 1", "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["fix"]["changes"],
        serde_json::json!([
            {"change": "add `DELETE` to defaults.allow_methods"},
            {"change": "add `x-foo` to defaults.allow_headers"}
        ])
    );
    assert_eq!(v["no_fix"], Value::Null);
}
