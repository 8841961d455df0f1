//! The browser model (`corsguard_browser`) against the WPT-derived conformance table of
//! cors-protocol.md §12, the console messages of §14, the safelist rules of §3, the max-age and
//! cache behaviour of §7 and the Chromium 156 deviations of §15.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use corsguard_browser::{
    BrowserRequest, CacheLookup, CorsError, CorsFailure, CredentialsMode, Deviation, DropReason,
    FetchErrorKind, Initiator, PreflightCache, PreflightReason, RequestMode, ResponseType,
    ResponseView, SimRequest, Step, check_preflight, check_response, cors_check,
    is_cors_safelisted_request_header, needs_preflight_with_cache, parse_max_age, preflight_plan,
    simulate, simulate_with_cache,
};

/// The page origin of the loopback fixtures.
const O: &str = "http://127.0.0.1:18081";
/// A cross-origin target.
const URL: &str = "http://127.0.0.1:18082/u";

fn req() -> BrowserRequest {
    BrowserRequest::new(O, URL)
}

fn include(r: BrowserRequest) -> BrowserRequest {
    r.credentials(CredentialsMode::Include)
}

fn acao(value: &str) -> ResponseView {
    ResponseView::new(200).with_header("Access-Control-Allow-Origin", value)
}

/// A preflight response that reflects the page origin, with ACAC `true`.
fn preflight_ok() -> ResponseView {
    ResponseView::new(204)
        .with_header("Access-Control-Allow-Origin", O)
        .with_header("Access-Control-Allow-Credentials", "true")
}

fn error_of<T: std::fmt::Debug>(result: Result<T, CorsFailure>) -> (CorsError, Option<String>) {
    let failure = result.expect_err("expected a CORS failure");
    (failure.cors_error, failure.failed_parameter)
}

fn tail_of<T: std::fmt::Debug>(result: Result<T, CorsFailure>) -> String {
    result.expect_err("expected a CORS failure").tail()
}

// ---------------------------------------------------------------------------------------------
// §12 rows 1–7: the CORS check on ACAO / ACAC
// ---------------------------------------------------------------------------------------------

#[test]
fn row01_wildcard_uncredentialed_get_is_shared() {
    let verdict = simulate(&req(), |_| acao("*"));
    assert!(verdict.allowed);
    assert_eq!(verdict.preflights_sent(), 0);
    assert_eq!(
        verdict.response.map(|r| r.response_type),
        Some(ResponseType::Cors)
    );
}

#[test]
fn row02_ows_around_acao_is_trimmed() {
    for value in [" *  ", "\t*", " http://127.0.0.1:18081   \t "] {
        assert!(cors_check(&req(), &acao(value)).is_ok(), "ACAO {value:?}");
    }
}

#[test]
fn row03_acao_not_byte_equal_to_the_serialized_origin_is_blocked() {
    let page = "http://web.example";
    let r = BrowserRequest::new(page, "http://api.example/x");
    let mismatch = [
        "http://web.example/",
        "http://web.example:80",
        "HTTP://WEB.EXAMPLE",
        "http://web.example?",
        "http://web.example#",
        "ftp://web.example",
        "http://sub.web.example",
    ];
    for value in mismatch {
        assert_eq!(
            error_of(cors_check(&r, &acao(value))),
            (CorsError::AllowOriginMismatch, Some(value.to_owned())),
            "ACAO {value:?}"
        );
    }
    for value in ["//web.example", "web.example"] {
        assert_eq!(
            error_of(cors_check(&r, &acao(value))),
            (CorsError::InvalidAllowOriginValue, Some(value.to_owned())),
            "ACAO {value:?}"
        );
    }
}

#[test]
fn row04_lists_and_garbage_in_acao_are_blocked() {
    let r = BrowserRequest::new("http://web.example", "http://api.example/x");
    for value in [
        "http://web.example, *",
        "* http://web.example",
        "*, http://web.example",
        "null http://web.example",
    ] {
        assert_eq!(
            error_of(cors_check(&r, &acao(value))),
            (CorsError::MultipleAllowOriginValues, Some(value.to_owned())),
            "ACAO {value:?}"
        );
    }
    for value in ["**", "\"*\"", "'*'", "-", ""] {
        assert_eq!(
            error_of(cors_check(&r, &acao(value))),
            (CorsError::InvalidAllowOriginValue, Some(value.to_owned())),
            "ACAO {value:?}"
        );
    }
}

#[test]
fn row05_acao_null_matches_only_an_opaque_origin() {
    assert_eq!(
        error_of(cors_check(&req(), &acao("null"))),
        (CorsError::AllowOriginMismatch, Some("null".to_owned()))
    );
    let sandboxed = BrowserRequest::new("null", URL);
    assert_eq!(sandboxed.serialized_origin(), "null");
    assert!(cors_check(&sandboxed, &acao("null")).is_ok());
    assert!(simulate(&sandboxed, |_| acao("null")).allowed);
}

#[test]
fn row06_two_acao_lines_are_blocked_even_when_identical() {
    let cases = [
        ("*", "*", "*, *"),
        (O, O, "http://127.0.0.1:18081, http://127.0.0.1:18081"),
        ("", O, ", http://127.0.0.1:18081"),
    ];
    for (a, b, combined) in cases {
        let resp = acao(a).with_header("access-control-allow-origin", b);
        assert_eq!(
            error_of(cors_check(&req(), &resp)),
            (
                CorsError::MultipleAllowOriginValues,
                Some(combined.to_owned())
            )
        );
    }
    // On a preflight the Preflight-prefixed name is reported.
    let put = req().method("PUT");
    let resp = ResponseView::new(204)
        .with_header("Access-Control-Allow-Origin", O)
        .with_header("Access-Control-Allow-Origin", O)
        .with_header("Access-Control-Allow-Methods", "PUT");
    assert_eq!(
        error_of(check_preflight(&put, &resp)).0,
        CorsError::PreflightMultipleAllowOriginValues
    );
}

#[test]
fn row07_acac_must_be_exactly_true_for_credentialed_requests() {
    let r = include(req());
    for value in ["TRUE", "True", "\"true\"", "false", "1", "0"] {
        let resp = acao(O).with_header("Access-Control-Allow-Credentials", value);
        assert_eq!(
            error_of(cors_check(&r, &resp)),
            (CorsError::InvalidAllowCredentials, Some(value.to_owned())),
            "ACAC {value:?}"
        );
    }
    assert_eq!(
        error_of(cors_check(&r, &acao(O))),
        (CorsError::InvalidAllowCredentials, Some(String::new()))
    );
    let ok = acao(O).with_header("Access-Control-Allow-Credentials", " true ");
    assert!(cors_check(&r, &ok).is_ok());
    // Two ACAC lines combine to `true, true`, which is not `true`.
    let twice = ok
        .clone()
        .with_header("Access-Control-Allow-Credentials", "true");
    assert_eq!(
        error_of(cors_check(&r, &twice)).0,
        CorsError::InvalidAllowCredentials
    );
}

#[test]
fn wildcard_acao_fails_with_credentials_but_acac_is_ignored_without() {
    let with_acac = acao("*").with_header("Access-Control-Allow-Credentials", "true");
    assert_eq!(
        error_of(cors_check(&include(req()), &with_acac)),
        (CorsError::WildcardOriginNotAllowed, None)
    );
    assert!(cors_check(&req(), &with_acac).is_ok());
    assert!(cors_check(&req().credentials(CredentialsMode::Omit), &with_acac).is_ok());
    let preflight = ResponseView::new(204)
        .with_header("Access-Control-Allow-Origin", "*")
        .with_header("Access-Control-Allow-Methods", "PUT");
    assert_eq!(
        error_of(check_preflight(&include(req().method("PUT")), &preflight)).0,
        CorsError::PreflightWildcardOriginNotAllowed
    );
}

// ---------------------------------------------------------------------------------------------
// §12 rows 8–15: ACAM / ACAH matching and wildcards
// ---------------------------------------------------------------------------------------------

#[test]
fn row08_safelisted_method_passes_and_header_names_are_case_insensitive() {
    let r = req().header("X-Test", "1");
    let resp = ResponseView::new(200)
        .with_header("Access-Control-Allow-Origin", "*")
        .with_header("Access-Control-Allow-Methods", "get")
        .with_header("Access-Control-Allow-Headers", "x-test");
    assert!(check_preflight(&r, &resp).is_ok());
}

#[test]
fn row09_to_10_wildcards_work_uncredentialed() {
    let star = ResponseView::new(200)
        .with_header("Access-Control-Allow-Origin", "*")
        .with_header("Access-Control-Allow-Methods", "*");
    assert!(check_preflight(&req().method("SUPER"), &star).is_ok());
    let both = star.with_header("Access-Control-Allow-Headers", "*");
    assert!(check_preflight(&req().method("OK").header("X-Test", "1"), &both).is_ok());
}

#[test]
fn row11_to_12_wildcards_are_literal_with_credentials() {
    let both = preflight_ok()
        .with_header("Access-Control-Allow-Methods", "*")
        .with_header("Access-Control-Allow-Headers", "*");
    assert_eq!(
        error_of(check_preflight(
            &include(req().method("OK").header("X-Test", "1")),
            &both
        )),
        (
            CorsError::MethodDisallowedByPreflightResponse,
            Some("OK".to_owned())
        )
    );
    let methods_only = preflight_ok().with_header("Access-Control-Allow-Methods", "*");
    assert_eq!(
        error_of(check_preflight(
            &include(req().method("PUT")),
            &methods_only
        )),
        (
            CorsError::MethodDisallowedByPreflightResponse,
            Some("PUT".to_owned())
        )
    );
    // A credentialed request whose method is allowed still fails on a header under `*`.
    let listed_method = preflight_ok()
        .with_header("Access-Control-Allow-Methods", "PUT")
        .with_header("Access-Control-Allow-Headers", "*");
    assert_eq!(
        error_of(check_preflight(
            &include(req().method("PUT").header("X-Foo", "1")),
            &listed_method
        )),
        (
            CorsError::HeaderDisallowedByPreflightResponse,
            Some("x-foo".to_owned())
        )
    );
}

#[test]
fn row13_credentialed_put_without_extra_header_passes_acah_star() {
    let resp = preflight_ok()
        .with_header("Access-Control-Allow-Methods", "PUT")
        .with_header("Access-Control-Allow-Headers", "*");
    let outcome = check_preflight(&include(req().method("PUT")), &resp).unwrap();
    assert!(outcome.credentials);
    assert_eq!(outcome.methods, vec!["PUT"]);
}

#[test]
fn row14_literal_star_method_and_header_match_with_credentials() {
    let resp = preflight_ok()
        .with_header("Access-Control-Allow-Methods", "*")
        .with_header("Access-Control-Allow-Headers", "*");
    let r = include(req().method("*").header("*", "1"));
    assert_eq!(
        preflight_plan(&r).access_control_request_headers.as_deref(),
        Some("*")
    );
    assert!(check_preflight(&r, &resp).is_ok());
}

#[test]
fn row15_method_matching_is_case_sensitive() {
    let resp = preflight_ok().with_header("Access-Control-Allow-Methods", "put");
    assert_eq!(
        error_of(check_preflight(&include(req().method("PUT")), &resp)),
        (
            CorsError::MethodDisallowedByPreflightResponse,
            Some("PUT".to_owned())
        )
    );
    // `put` written by the script is normalized to PUT, so ACAM `PUT` allows it.
    let upper = preflight_ok().with_header("Access-Control-Allow-Methods", "PUT");
    assert!(check_preflight(&include(req().method("put")), &upper).is_ok());
}

#[test]
fn patch_is_not_normalized_and_acam_patch_does_not_allow_it() {
    let r = req().method("patch");
    assert_eq!(r.normalized_method(), "patch");
    assert_eq!(req().method("delete").normalized_method(), "DELETE");
    assert_eq!(req().method("Options").normalized_method(), "OPTIONS");
    let plan = preflight_plan(&r);
    assert_eq!(plan.access_control_request_method, "patch");
    assert_eq!(
        plan.request
            .as_ref()
            .and_then(|p| p.header("Access-Control-Request-Method")),
        Some("patch")
    );
    let resp = acao("*").with_header("Access-Control-Allow-Methods", "PATCH");
    let failure = check_preflight(&r, &resp).unwrap_err();
    assert_eq!(failure.failed_parameter.as_deref(), Some("patch"));
    assert_eq!(
        failure.tail(),
        "Method patch is not allowed by Access-Control-Allow-Methods in preflight response."
    );
    let lower = acao("*").with_header("Access-Control-Allow-Methods", "patch");
    assert!(check_preflight(&r, &lower).is_ok());
}

#[test]
fn acah_items_are_trimmed_and_compared_case_insensitively() {
    let r = req()
        .method("PUT")
        .header("x-foo", "1")
        .header("X-BAR", "2");
    let resp = acao(O)
        .with_header("Access-Control-Allow-Methods", "PUT")
        .with_header("Access-Control-Allow-Headers", " X-Foo ,  x-bar ");
    assert_eq!(
        check_preflight(&r, &resp).unwrap().header_names,
        vec!["x-bar", "x-foo"]
    );
    // Several lines and empty elements are fine.
    let split = acao(O)
        .with_header("Access-Control-Allow-Methods", "PUT,,")
        .with_header("Access-Control-Allow-Headers", "x-foo")
        .with_header("Access-Control-Allow-Headers", ",x-bar");
    assert!(check_preflight(&r, &split).is_ok());
}

#[test]
fn first_failing_header_is_reported_in_sorted_acrh_order() {
    let r = req()
        .method("PUT")
        .header("X-Foo", "1")
        .header("X-Bar", "1")
        .header("X-Baz", "1");
    let resp = acao(O)
        .with_header("Access-Control-Allow-Methods", "PUT")
        .with_header("Access-Control-Allow-Headers", "x-bar");
    assert_eq!(
        error_of(check_preflight(&r, &resp)),
        (
            CorsError::HeaderDisallowedByPreflightResponse,
            Some("x-baz".to_owned())
        )
    );
}

#[test]
fn acam_is_checked_before_acah() {
    let r = req().method("DELETE").header("X-Foo", "1");
    let resp = acao(O).with_header("Access-Control-Allow-Methods", "PUT");
    assert_eq!(
        error_of(check_preflight(&r, &resp)).0,
        CorsError::MethodDisallowedByPreflightResponse
    );
}

// ---------------------------------------------------------------------------------------------
// §12 rows 16–21: preflight status, redirects, parsing, max-age
// ---------------------------------------------------------------------------------------------

#[test]
fn row16_only_ok_statuses_pass_a_preflight() {
    let r = req().method("PUT");
    let with_status = |status: u16| {
        let mut resp = acao(O).with_header("Access-Control-Allow-Methods", "PUT");
        resp.status = status;
        resp
    };
    for status in 200..=206 {
        assert!(
            check_preflight(&r, &with_status(status)).is_ok(),
            "status {status}"
        );
    }
    for status in (300..=308).chain(400..=405).chain(501..=505) {
        assert_eq!(
            error_of(check_preflight(&r, &with_status(status))),
            (CorsError::PreflightInvalidStatus, None),
            "status {status}"
        );
    }
}

#[test]
fn preflight_acao_is_checked_before_the_status_like_chromium() {
    let r = req().method("PUT");
    assert_eq!(
        error_of(check_preflight(&r, &ResponseView::new(404))).0,
        CorsError::PreflightMissingAllowOriginHeader
    );
    let mut with_acao = acao(O);
    with_acao.status = 404;
    assert_eq!(
        error_of(check_preflight(&r, &with_acao)).0,
        CorsError::PreflightInvalidStatus
    );
    let mut mismatch = acao("http://other.example");
    mismatch.status = 401;
    assert_eq!(
        error_of(check_preflight(&r, &mismatch)),
        (
            CorsError::PreflightAllowOriginMismatch,
            Some("http://other.example".to_owned())
        )
    );
}

#[test]
fn row17_a_redirected_preflight_is_blocked() {
    let r = req().method("PUT");
    for status in [301, 302, 303, 307, 308] {
        let resp = ResponseView::new(status)
            .with_header("Location", "http://127.0.0.1:18082/elsewhere")
            .with_header("Access-Control-Allow-Origin", "*");
        let failure = check_preflight(&r, &resp).unwrap_err();
        assert_eq!(
            failure.cors_error,
            CorsError::PreflightDisallowedRedirect,
            "{status}"
        );
        assert!(failure.preflight);
    }
}

#[test]
fn row18_redirect_of_a_preflighted_request_needs_acao_and_gets_a_new_preflight() {
    let r = BrowserRequest::new(O, "http://127.0.0.1:18082/r")
        .method("PUT")
        .header("X-Foo", "1");
    let allow = || {
        ResponseView::new(204)
            .with_header("Access-Control-Allow-Origin", O)
            .with_header("Access-Control-Allow-Methods", "PUT")
            .with_header("Access-Control-Allow-Headers", "x-foo")
    };
    // Without ACAO on the 307: blocked.
    let verdict = simulate(&r, |sent| {
        if sent.is_preflight() {
            allow()
        } else {
            ResponseView::new(307).with_header("Location", "/t")
        }
    });
    assert_eq!(
        verdict.cors_error(),
        Some(CorsError::MissingAllowOriginHeader)
    );
    assert_eq!(
        verdict.console_message().unwrap(),
        "Access to fetch at 'http://127.0.0.1:18082/r' from origin 'http://127.0.0.1:18081' has \
         been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the \
         requested resource."
    );

    // With ACAO: followed, and a fresh preflight goes to the target.
    let mut sent_log: Vec<(String, String)> = Vec::new();
    let verdict = simulate(&r, |sent| {
        sent_log.push((sent.method.clone(), sent.url.clone()));
        match (sent.is_preflight(), sent.url.as_str()) {
            (true, _) => allow(),
            (false, "http://127.0.0.1:18082/r") => ResponseView::new(307)
                .with_header("Location", "/t")
                .with_header("Access-Control-Allow-Origin", O),
            (false, _) => acao(O),
        }
    });
    assert!(verdict.allowed);
    assert_eq!(
        sent_log,
        vec![
            ("OPTIONS".to_owned(), "http://127.0.0.1:18082/r".to_owned()),
            ("PUT".to_owned(), "http://127.0.0.1:18082/r".to_owned()),
            ("OPTIONS".to_owned(), "http://127.0.0.1:18082/t".to_owned()),
            ("PUT".to_owned(), "http://127.0.0.1:18082/t".to_owned()),
        ]
    );
    assert_eq!(verdict.final_url, "http://127.0.0.1:18082/t");
}

#[test]
fn redirect_to_a_third_origin_taints_the_origin_to_null() {
    let r = BrowserRequest::new(O, "http://127.0.0.1:18082/r")
        .method("PUT")
        .header("X-Foo", "1");
    let mut origins: Vec<(String, String)> = Vec::new();
    let verdict = simulate(&r, |sent| {
        let origin = sent.header("Origin").unwrap_or_default().to_owned();
        origins.push((sent.url.clone(), origin.clone()));
        let base = ResponseView::new(if sent.is_preflight() { 204 } else { 200 })
            .with_header("Access-Control-Allow-Origin", origin)
            .with_header("Access-Control-Allow-Methods", "PUT")
            .with_header("Access-Control-Allow-Headers", "x-foo");
        if !sent.is_preflight() && sent.url.starts_with("http://127.0.0.1:18082") {
            let mut redirect = base.with_header("Location", "http://localhost:18082/u2");
            redirect.status = 307;
            redirect
        } else {
            base
        }
    });
    assert!(verdict.allowed);
    assert_eq!(
        origins,
        vec![
            ("http://127.0.0.1:18082/r".to_owned(), O.to_owned()),
            ("http://127.0.0.1:18082/r".to_owned(), O.to_owned()),
            ("http://localhost:18082/u2".to_owned(), "null".to_owned()),
            ("http://localhost:18082/u2".to_owned(), "null".to_owned()),
        ]
    );
    // A GET redirected the same way arrives with Origin: null, and ACAO: null succeeds.
    let get = BrowserRequest::new(O, "http://127.0.0.1:18082/u");
    let verdict = simulate(&get, |sent| {
        if sent.url == "http://127.0.0.1:18082/u" {
            ResponseView::new(302)
                .with_header("Location", "http://localhost:18082/u2")
                .with_header("Access-Control-Allow-Origin", O)
        } else {
            assert_eq!(sent.header("Origin"), Some("null"));
            acao("null")
        }
    });
    assert!(verdict.allowed);
}

#[test]
fn row19_unparsable_acam_or_acah_fails_the_preflight() {
    let r = req().method("PUT").header("X-Foo", "1");
    let bad_headers = acao(O)
        .with_header("Access-Control-Allow-Methods", "PUT")
        .with_header(
            "Access-Control-Allow-Headers",
            "x-foo, header name with space",
        );
    assert_eq!(
        error_of(check_preflight(&r, &bad_headers)),
        (CorsError::InvalidAllowHeadersPreflightResponse, None)
    );
    let bad_methods = acao(O)
        .with_header("Access-Control-Allow-Methods", "Bad method name")
        .with_header("Access-Control-Allow-Headers", "header name with space");
    assert_eq!(
        error_of(check_preflight(&r, &bad_methods)),
        (CorsError::InvalidAllowMethodsPreflightResponse, None)
    );
    // Even for a safelisted method: the parse failure wins.
    let forced = req().header("X-Foo", "1");
    let resp = acao(O).with_header("Access-Control-Allow-Methods", "GET;");
    assert_eq!(
        error_of(check_preflight(&forced, &resp)).0,
        CorsError::InvalidAllowMethodsPreflightResponse
    );
}

#[test]
fn row20_max_age_is_capped_at_7200_and_honoured() {
    let r = req().method("PUT");
    let resp = acao("*")
        .with_header("Access-Control-Allow-Methods", "PUT")
        .with_header("Access-Control-Max-Age", "12000");
    let outcome = check_preflight(&r, &resp).unwrap();
    assert_eq!(outcome.max_age.chromium, 7200);
    let mut cache = PreflightCache::new();
    let first = simulate_with_cache(&r, &mut cache, 0, |_| resp.clone());
    let second = simulate_with_cache(&r, &mut cache, 7199, |_| resp.clone());
    let third = simulate_with_cache(&r, &mut cache, 7200, |_| resp.clone());
    assert_eq!(
        (
            first.preflights_sent(),
            second.preflights_sent(),
            third.preflights_sent()
        ),
        (1, 0, 1)
    );
    assert!(matches!(
        second.preflight(),
        Some(Step::PreflightCacheHit { .. })
    ));
}

#[test]
fn row21_max_age_zero_preflights_every_request() {
    let r = req().method("PUT");
    let resp = acao("*")
        .with_header("Access-Control-Allow-Methods", "PUT")
        .with_header("Access-Control-Max-Age", "0");
    let mut cache = PreflightCache::new();
    let total: usize = (0..2)
        .map(|_| simulate_with_cache(&r, &mut cache, 0, |_| resp.clone()).preflights_sent())
        .sum();
    assert_eq!(total, 2);
}

// ---------------------------------------------------------------------------------------------
// §12 rows 22–24 and §3: the safelist, ACRH, the preflight request
// ---------------------------------------------------------------------------------------------

#[test]
fn row22_acrh_is_lower_cased_sorted_deduplicated_without_spaces() {
    let r = req()
        .method("PUT")
        .header("X-Foo", "1")
        .header("Content-Type", "application/json")
        .header("X-Bar", "2")
        .header("x-foo", "3")
        .header("Accept", "text/html");
    let plan = preflight_plan(&r);
    assert_eq!(
        plan.unsafe_header_names,
        vec!["content-type", "x-bar", "x-foo"]
    );
    assert_eq!(
        plan.access_control_request_headers.as_deref(),
        Some("content-type,x-bar,x-foo")
    );

    let only_safelisted = req().method("PUT").header("Accept", "text/html");
    let plan = preflight_plan(&only_safelisted);
    assert!(plan.needed);
    assert_eq!(plan.access_control_request_headers, None);
    assert_eq!(
        plan.request
            .unwrap()
            .header("Access-Control-Request-Headers"),
        None
    );
}

#[test]
fn preflight_request_is_exactly_what_chromium_sends() {
    let plan = preflight_plan(&include(req().method("PUT").header("X-Foo", "1")));
    let preflight = plan.request.unwrap();
    assert_eq!(preflight.method, "OPTIONS");
    assert_eq!(preflight.url, URL);
    assert!(!preflight.credentials, "a preflight never carries cookies");
    assert_eq!(
        preflight.headers,
        vec![
            ("Accept".to_owned(), "*/*".to_owned()),
            ("Access-Control-Request-Method".to_owned(), "PUT".to_owned()),
            (
                "Access-Control-Request-Headers".to_owned(),
                "x-foo".to_owned()
            ),
            ("Origin".to_owned(), O.to_owned()),
            // Loopback is trustworthy, so Fetch Metadata is sent; two ports of one host are
            // the same site.
            ("Sec-Fetch-Site".to_owned(), "same-site".to_owned()),
            ("Sec-Fetch-Mode".to_owned(), "cors".to_owned()),
            ("Sec-Fetch-Dest".to_owned(), "empty".to_owned()),
        ]
    );
    assert_eq!(preflight.header("cookie"), None);
}

#[test]
fn row23_safelisted_requests_are_not_preflighted() {
    for (name, value) in [
        ("Content-Type", "text/plain;garbage"),
        ("Content-Type", "multipart/form-data"),
        ("Content-Type", "text/plain;charset=utf-8"),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Range", "bytes=200-"),
        ("Range", "bytes=100-200"),
        ("Accept-Language", "en-US,en;q=0.9"),
    ] {
        let plan = preflight_plan(&req().method("POST").header(name, value));
        assert!(!plan.needed, "{name}: {value}");
        assert!(plan.reasons.is_empty(), "{name}: {value}");
    }
}

#[test]
fn row24_non_safelisted_values_are_preflighted() {
    let cases = [
        ("Content-Type", "text /plain", "content-type"),
        ("Content-Type", "text/plain,", "content-type"),
        (
            "Content-Type",
            "application/www-form-urlencoded",
            "content-type",
        ),
        ("Content-Type", "multipart/form-data;\"", "content-type"),
        ("Range", "bytes=-200", "range"),
        ("Range", "bytes=100-200,300-400", "range"),
        ("Range", "bytes =100-200", "range"),
        ("Range", "bytes=200-100", "range"),
        ("Last-Event-ID", "abc123", "last-event-id"),
    ];
    for (name, value, acrh) in cases {
        let plan = preflight_plan(&req().header(name, value));
        assert!(plan.needed, "{name}: {value}");
        assert_eq!(
            plan.access_control_request_headers.as_deref(),
            Some(acrh),
            "{name}: {value}"
        );
    }
}

#[test]
fn values_over_128_bytes_are_unsafe() {
    let at_limit = "a".repeat(128);
    let over = "a".repeat(129);
    assert!(!preflight_plan(&req().header("Accept", at_limit.as_str())).needed);
    let plan = preflight_plan(&req().header("Accept", over.as_str()));
    assert_eq!(
        plan.access_control_request_headers.as_deref(),
        Some("accept")
    );
    assert_eq!(
        plan.reasons,
        vec![PreflightReason::ValueTooLong {
            name: "accept".to_owned(),
            length: 129
        }]
    );
    assert_eq!(
        plan.reasons[0].to_string(),
        "accept value is 129 bytes, over the 128-byte limit"
    );
    assert!(!is_cors_safelisted_request_header(
        "Content-Language",
        &"a".repeat(129)
    ));
}

#[test]
fn the_1024_byte_budget_makes_every_safelisted_header_unsafe() {
    let letters = "a".repeat(128);
    let digits = "1".repeat(128);
    let base = req()
        .header("Accept", letters.as_str())
        .header("Accept-Language", letters.as_str())
        .header("Content-Language", letters.as_str())
        .header("DPR", digits.as_str())
        .header("Width", digits.as_str())
        .header("Viewport-Width", digits.as_str())
        .header("RTT", digits.as_str())
        .header("Device-Memory", digits.as_str());
    assert!(
        !preflight_plan(&base).needed,
        "exactly 1024 bytes is within budget"
    );
    let plan = preflight_plan(&base.header("Downlink", "1"));
    assert!(plan.needed);
    assert_eq!(
        plan.access_control_request_headers.as_deref(),
        Some(
            "accept,accept-language,content-language,device-memory,downlink,dpr,rtt,\
             viewport-width,width"
        )
    );
    assert!(matches!(
        plan.reasons.as_slice(),
        [PreflightReason::Budget { total: 1025, .. }]
    ));
}

#[test]
fn cors_unsafe_bytes_make_values_unsafe() {
    for byte in [
        '"', '(', ')', ':', '<', '>', '?', '@', '[', '\\', ']', '{', '}', '\u{7f}', '\u{1}',
    ] {
        let value = format!("text/html{byte}");
        assert!(
            !is_cors_safelisted_request_header("Accept", &value),
            "{byte:?}"
        );
    }
    assert!(is_cors_safelisted_request_header(
        "Accept",
        "text/html;\tq=0.9"
    ));
    let plan = preflight_plan(&req().header("Accept", "a@b"));
    assert_eq!(
        plan.reasons,
        vec![PreflightReason::UnsafeByte {
            name: "accept".to_owned(),
            byte: b'@'
        }]
    );
    let plan = preflight_plan(&req().header("Accept-Language", "en_US"));
    assert_eq!(
        plan.reasons,
        vec![PreflightReason::LanguageByte {
            name: "accept-language".to_owned(),
            byte: b'_'
        }]
    );
}

#[test]
fn range_edge_cases_follow_chromium_with_a_note() {
    let plan = preflight_plan(&req().header("Range", "Bytes=0-"));
    assert!(!plan.needed);
    assert_eq!(plan.notes.len(), 1);
    assert_eq!(plan.notes[0].deviation, Deviation::RangeHeader);
    let huge = format!("bytes={}-", "9".repeat(30));
    let plan = preflight_plan(&req().header("Range", huge.as_str()));
    assert!(plan.needed);
    assert_eq!(plan.notes[0].deviation, Deviation::RangeHeader);
}

#[test]
fn client_hints_are_sent_without_preflight_by_chromium() {
    let plan = preflight_plan(
        &req()
            .header("Save-Data", "on")
            .header("DPR", "2.0")
            .header("ECT", "4g"),
    );
    assert!(!plan.needed);
    let subjects: Vec<&str> = plan.notes.iter().map(|n| n.subject.as_str()).collect();
    assert_eq!(subjects, vec!["save-data", "dpr", "ect"]);
    assert!(
        plan.notes
            .iter()
            .all(|n| n.deviation == Deviation::ChromiumSafelistedHeader)
    );
    // Implausible values are preflighted, with no deviation to report.
    let plan = preflight_plan(&req().header("DPR", "two").header("Save-Data", "off"));
    assert_eq!(
        plan.access_control_request_headers.as_deref(),
        Some("dpr,save-data")
    );
    assert!(plan.notes.is_empty());
}

#[test]
fn forbidden_headers_are_dropped_not_preflighted() {
    let r = req()
        .header("Cookie", "a=b")
        .header("Sec-Foo", "1")
        .header("Proxy-Authorization", "x")
        .header("X-HTTP-Method-Override", "TRACE")
        .header("X-HTTP-Method", "PUT")
        .header("Origin", "http://evil.example");
    let plan = preflight_plan(&r);
    assert_eq!(
        plan.access_control_request_headers.as_deref(),
        Some("x-http-method")
    );
    let dropped: Vec<&str> = plan
        .dropped_headers
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(
        dropped,
        vec![
            "Cookie",
            "Sec-Foo",
            "Proxy-Authorization",
            "X-HTTP-Method-Override",
            "Origin"
        ]
    );
    assert!(
        plan.dropped_headers
            .iter()
            .all(|d| d.reason == DropReason::Forbidden)
    );
}

#[test]
fn protocol_exceptions_apply_to_user_agent_reports_only() {
    let script = req()
        .method("POST")
        .header("Content-Type", "application/csp-report");
    let plan = preflight_plan(&script);
    assert!(plan.needed);
    assert!(matches!(
        plan.reasons.as_slice(),
        [PreflightReason::ContentType {
            protocol_exception: true,
            ..
        }]
    ));
    let report = script.initiator(Initiator::UserAgentReport);
    let plan = preflight_plan(&report);
    assert!(!plan.needed);
    assert_eq!(
        plan.protocol_exception.as_deref(),
        Some("application/csp-report")
    );
}

#[test]
fn same_origin_and_no_cors_requests_are_never_preflighted() {
    let same = BrowserRequest::new(O, "http://127.0.0.1:18081/api")
        .method("PUT")
        .header("X-Foo", "1");
    let plan = preflight_plan(&same);
    assert!(!plan.needed && !plan.cross_origin);
    assert_eq!(plan.reasons.len(), 2, "reasons are still reported");
    let verdict = simulate(&same, |_| {
        ResponseView::new(200).with_header("X-Secret", "1")
    });
    assert!(verdict.allowed);
    assert_eq!(
        verdict.response.as_ref().map(|r| r.response_type),
        Some(ResponseType::Basic)
    );
    assert_eq!(verdict.exposed_headers, vec!["x-secret"]);

    let no_cors = req()
        .mode(RequestMode::NoCors)
        .method("POST")
        .header("X-Foo", "1");
    let plan = preflight_plan(&no_cors);
    assert!(!plan.needed);
    assert_eq!(plan.dropped_headers[0].reason, DropReason::NoCorsMode);
    let verdict = simulate(&no_cors, |sent| {
        assert_eq!(sent.header("X-Foo"), None);
        ResponseView::new(200).with_header("X-Secret", "1")
    });
    assert!(verdict.allowed);
    assert_eq!(
        verdict.response.map(|r| r.response_type),
        Some(ResponseType::Opaque)
    );
    assert!(verdict.exposed_headers.is_empty());
}

#[test]
fn origin_header_on_actual_requests() {
    let mut seen: Vec<Option<String>> = Vec::new();
    let mut record = |r: BrowserRequest| {
        simulate(&r, |sent: &SimRequest| {
            seen.push(sent.header("Origin").map(str::to_owned));
            acao("*")
        });
    };
    record(req());
    record(BrowserRequest::new(O, "http://127.0.0.1:18081/a"));
    record(BrowserRequest::new(O, "http://127.0.0.1:18081/a").method("POST"));
    record(
        BrowserRequest::new("https://secure.example", "http://plain.example/")
            .mode(RequestMode::NoCors)
            .method("POST"),
    );
    assert_eq!(
        seen,
        vec![
            Some(O.to_owned()),
            None,
            Some(O.to_owned()),
            Some("null".to_owned())
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// §12 rows 25–30: exposure, redirects with preflight, preflight identity
// ---------------------------------------------------------------------------------------------

fn exposure_response() -> ResponseView {
    ResponseView::new(200)
        .with_header("Access-Control-Allow-Origin", O)
        .with_header("Access-Control-Allow-Credentials", "true")
        .with_header("Content-Type", "text/plain")
        .with_header("X-Custom", "1")
        .with_header("*", "star")
        .with_header("Set-Cookie", "a=b")
}

#[test]
fn row25_aceh_star_exposes_everything_but_set_cookie_uncredentialed() {
    let resp = exposure_response().with_header("Access-Control-Expose-Headers", "*");
    let outcome = check_response(&req(), &resp).unwrap();
    assert_eq!(
        outcome.exposed_headers,
        vec![
            "*",
            "access-control-allow-credentials",
            "access-control-allow-origin",
            "access-control-expose-headers",
            "content-type",
            "x-custom"
        ]
    );
    assert_eq!(outcome.hidden_headers, vec!["set-cookie"]);
}

#[test]
fn row26_aceh_star_is_literal_with_credentials() {
    let resp = exposure_response().with_header("Access-Control-Expose-Headers", "*");
    let outcome = check_response(&include(req()), &resp).unwrap();
    assert_eq!(outcome.exposed_headers, vec!["*", "content-type"]);
}

#[test]
fn row27_two_aceh_lines_star_and_set_cookie() {
    let resp = exposure_response()
        .with_header("Access-Control-Expose-Headers", "*")
        .with_header("Access-Control-Expose-Headers", "set-cookie");
    let outcome = check_response(&req(), &resp).unwrap();
    assert!(outcome.exposed_headers.contains(&"x-custom".to_owned()));
    assert!(!outcome.exposed_headers.contains(&"set-cookie".to_owned()));
}

#[test]
fn aceh_list_and_parse_failure() {
    let listed =
        exposure_response().with_header("Access-Control-Expose-Headers", "X-Custom, , set-cookie");
    assert_eq!(
        check_response(&include(req()), &listed)
            .unwrap()
            .exposed_headers,
        vec!["content-type", "x-custom"]
    );
    let broken =
        exposure_response().with_header("Access-Control-Expose-Headers", "X-Custom, not valid");
    assert_eq!(
        check_response(&req(), &broken).unwrap().exposed_headers,
        vec!["content-type"]
    );
}

#[test]
fn row28_redirects_get_a_preflight_at_the_target() {
    // The server: `/r` redirects to `target` (with ACAO); the preflight at `target` allows
    // `x-w3c` only when `allow`; everything reflects the request's Origin.
    let server = |target: &'static str, allow: bool| {
        move |sent: &SimRequest| {
            let origin = sent.header("Origin").unwrap_or("none").to_owned();
            if sent.is_preflight() {
                let resp =
                    ResponseView::new(204).with_header("Access-Control-Allow-Origin", origin);
                if allow || !sent.url.ends_with("/t") {
                    resp.with_header("Access-Control-Allow-Headers", "x-w3c")
                } else {
                    resp
                }
            } else if sent.url.ends_with("/r") {
                ResponseView::new(302)
                    .with_header("Location", target)
                    .with_header("Access-Control-Allow-Origin", origin)
            } else {
                ResponseView::new(200).with_header("Access-Control-Allow-Origin", origin)
            }
        }
    };
    let cases = [
        ("http://127.0.0.1:18081/r", "http://127.0.0.1:18082/t", 1, O),
        (
            "http://127.0.0.1:18082/r",
            "http://127.0.0.1:18081/t",
            2,
            "null",
        ),
        (
            "http://127.0.0.1:18082/r",
            "http://localhost:18082/t",
            2,
            "null",
        ),
    ];
    for (start, target, preflights, target_origin) in cases {
        let r = BrowserRequest::new(O, start).header("X-W3C", "1");
        let verdict = simulate(&r, server(target, true));
        assert!(verdict.allowed, "{start} -> {target}");
        assert_eq!(verdict.preflights_sent(), preflights, "{start} -> {target}");
        let Some(Step::Preflight { request, .. }) =
            verdict.steps.iter().rev().find(|s| s.is_preflight())
        else {
            panic!("no preflight at the target");
        };
        assert_eq!(request.url, target);
        assert_eq!(request.header("Origin"), Some(target_origin));

        let verdict = simulate(&r, server(target, false));
        assert_eq!(
            verdict.cors_error(),
            Some(CorsError::HeaderDisallowedByPreflightResponse)
        );
        let failure = verdict.failure.unwrap();
        assert_eq!(failure.failed_parameter.as_deref(), Some("x-w3c"));
        assert_eq!(failure.redirected_from.as_deref(), Some(start));
        assert!(failure.message().starts_with(&format!(
            "Access to fetch at '{target}' (redirected from '{start}') from origin '{O}'"
        )));
    }
}

#[test]
fn row29_only_the_preflight_carries_acrm() {
    let r = req().method("options");
    let plan = preflight_plan(&r);
    assert_eq!(plan.access_control_request_method, "OPTIONS");
    let mut sent_acrm = Vec::new();
    simulate(&r, |sent| {
        sent_acrm.push((
            sent.method.clone(),
            sent.header("Access-Control-Request-Method")
                .map(str::to_owned),
        ));
        acao("*").with_header("Access-Control-Allow-Methods", "OPTIONS")
    });
    assert_eq!(
        sent_acrm,
        vec![
            ("OPTIONS".to_owned(), Some("OPTIONS".to_owned())),
            ("OPTIONS".to_owned(), None),
        ]
    );
}

#[test]
fn row30_preflight_never_carries_credentials_actual_request_does() {
    let r = include(req().method("PUT"));
    let mut credentials = Vec::new();
    simulate(&r, |sent| {
        credentials.push((sent.kind, sent.credentials));
        preflight_ok().with_header("Access-Control-Allow-Methods", "PUT")
    });
    assert_eq!(
        credentials.iter().map(|c| c.1).collect::<Vec<_>>(),
        vec![false, true]
    );
    assert!(
        !req().credentials_included(),
        "same-origin credentials are not sent cross-origin"
    );
    assert!(BrowserRequest::new(O, "http://127.0.0.1:18081/x").credentials_included());
}

// ---------------------------------------------------------------------------------------------
// §14: console messages, asserted exactly
// ---------------------------------------------------------------------------------------------

const PREFIX: &str = "Response to preflight request doesn't pass access control check: ";

#[test]
fn console_message_format() {
    let failure = cors_check(&req(), &ResponseView::new(200)).unwrap_err();
    assert_eq!(
        failure.console_message(URL, O),
        "Access to fetch at 'http://127.0.0.1:18082/u' from origin 'http://127.0.0.1:18081' has \
         been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the \
         requested resource."
    );
    assert_eq!(failure.message(), failure.console_message(URL, O));
}

#[test]
fn message_tails_of_the_actual_response() {
    assert_eq!(
        tail_of(cors_check(&req(), &ResponseView::new(200))),
        "No 'Access-Control-Allow-Origin' header is present on the requested resource."
    );
    assert_eq!(
        tail_of(cors_check(&req(), &acao("http://127.0.0.1:18081/"))),
        "The 'Access-Control-Allow-Origin' header has a value 'http://127.0.0.1:18081/' that is \
         not equal to the supplied origin. Have the server send the header with a valid value."
    );
    assert_eq!(
        tail_of(cors_check(
            &req(),
            &acao(O).with_header("Access-Control-Allow-Origin", O)
        )),
        "The 'Access-Control-Allow-Origin' header contains multiple values \
         'http://127.0.0.1:18081, http://127.0.0.1:18081', but only one is allowed. Have the \
         server send the header with a valid value."
    );
    assert_eq!(
        tail_of(cors_check(&include(req()), &acao("*"))),
        "The value of the 'Access-Control-Allow-Origin' header in the response must not be the \
         wildcard '*' when the request's credentials mode is 'include'."
    );
    assert_eq!(
        tail_of(cors_check(
            &include(req()),
            &acao(O).with_header("Access-Control-Allow-Credentials", "True")
        )),
        "The value of the 'Access-Control-Allow-Credentials' header in the response is 'True' \
         which must be 'true' when the request's credentials mode is 'include'."
    );
    assert_eq!(
        tail_of(cors_check(&req(), &acao("**"))),
        "The 'Access-Control-Allow-Origin' header contains the invalid value '**'. Have the \
         server send the header with a valid value."
    );
}

#[test]
fn message_tails_of_the_preflight() {
    let put = || req().method("PUT");
    assert_eq!(
        tail_of(check_preflight(
            &include(put()),
            &acao(O).with_header("Access-Control-Allow-Methods", "PUT")
        )),
        format!(
            "{PREFIX}The value of the 'Access-Control-Allow-Credentials' header in the response \
             is '' which must be 'true' when the request's credentials mode is 'include'."
        )
    );
    let mut not_found = acao(O);
    not_found.status = 404;
    assert_eq!(
        tail_of(check_preflight(&put(), &not_found)),
        format!("{PREFIX}It does not have HTTP ok status.")
    );
    let redirect = ResponseView::new(302).with_header("Location", "/login");
    assert_eq!(
        tail_of(check_preflight(&put(), &redirect)),
        format!("{PREFIX}Redirect is not allowed for a preflight request.")
    );
    assert_eq!(
        tail_of(check_preflight(&put(), &ResponseView::new(204))),
        format!(
            "{PREFIX}No 'Access-Control-Allow-Origin' header is present on the requested resource."
        )
    );
    assert_eq!(
        tail_of(check_preflight(&include(put()), &acao("*"))),
        format!(
            "{PREFIX}The value of the 'Access-Control-Allow-Origin' header in the response must \
             not be the wildcard '*' when the request's credentials mode is 'include'."
        )
    );
    assert_eq!(
        tail_of(check_preflight(&put(), &acao("http://localhost:18081"))),
        format!(
            "{PREFIX}The 'Access-Control-Allow-Origin' header has a value \
             'http://localhost:18081' that is not equal to the supplied origin. Have the server \
             send the header with a valid value."
        )
    );
    // No prefix on the ACAM/ACAH parse and the method/header failures.
    assert_eq!(
        tail_of(check_preflight(
            &put(),
            &acao(O).with_header("Access-Control-Allow-Methods", "Bad method")
        )),
        "Cannot parse Access-Control-Allow-Methods response header field in preflight response."
    );
    assert_eq!(
        tail_of(check_preflight(
            &put(),
            &acao(O)
                .with_header("Access-Control-Allow-Methods", "PUT")
                .with_header("Access-Control-Allow-Headers", "a b")
        )),
        "Cannot parse Access-Control-Allow-Headers response header field in preflight response."
    );
    assert_eq!(
        tail_of(check_preflight(
            &include(put()),
            &preflight_ok().with_header("Access-Control-Allow-Methods", "*")
        )),
        "Method PUT is not allowed by Access-Control-Allow-Methods in preflight response."
    );
    assert_eq!(
        tail_of(check_preflight(
            &include(put().header("X-Foo", "1")),
            &preflight_ok()
                .with_header("Access-Control-Allow-Methods", "PUT")
                .with_header("Access-Control-Allow-Headers", "*")
        )),
        "Request header field x-foo is not allowed by Access-Control-Allow-Headers in preflight \
         response."
    );
}

#[test]
fn redirect_with_credentials_in_location() {
    let resp = acao("*").with_header("Location", "http://user:pass@127.0.0.1:18082/next");
    let mut resp = resp;
    resp.status = 302;
    let failure = check_response(&req(), &resp).unwrap_err();
    assert_eq!(failure.cors_error, CorsError::RedirectContainsCredentials);
    assert_eq!(
        failure.tail(),
        "Redirect location 'http://user:pass@127.0.0.1:18082/next' contains a username and \
         password, which is disallowed for cross-origin requests."
    );
    // A 3xx of a CORS request needs ACAO itself.
    let bare = ResponseView::new(302).with_header("Location", "/next");
    assert_eq!(
        error_of(check_response(&req(), &bare)).0,
        CorsError::MissingAllowOriginHeader
    );
}

#[test]
fn same_origin_mode_and_scheme_failures() {
    let verdict = simulate(&req().mode(RequestMode::SameOrigin), |_| acao("*"));
    assert_eq!(verdict.cors_error(), Some(CorsError::DisallowedByMode));
    assert!(verdict.steps.is_empty(), "nothing is sent");
    assert_eq!(
        verdict.failure.unwrap().tail(),
        "Cross origin requests are not allowed by request mode."
    );
    let ftp = simulate(&BrowserRequest::new(O, "ftp://127.0.0.1/file"), |_| {
        acao("*")
    });
    assert_eq!(ftp.cors_error(), Some(CorsError::CorsDisabledScheme));
}

#[test]
fn cdp_names_round_trip() {
    for name in [
        "MissingAllowOriginHeader",
        "PreflightInvalidStatus",
        "HeaderDisallowedByPreflightResponse",
        "PreflightInvalidAllowCredentials",
    ] {
        assert_eq!(CorsError::from_cdp(name).map(CorsError::as_str), Some(name));
    }
    // The model predicts the LNA errors (Chromium ≥ 142), never the PNA-era ones.
    assert_eq!(
        CorsError::from_cdp("LocalNetworkAccessPermissionDenied"),
        Some(CorsError::LocalNetworkAccessPermissionDenied)
    );
    assert_eq!(
        CorsError::from_cdp("PreflightMissingAllowPrivateNetwork"),
        None
    );
    assert!(CorsError::PreflightInvalidAllowOriginValue.has_preflight_prefix());
    assert!(!CorsError::MethodDisallowedByPreflightResponse.has_preflight_prefix());
}

// ---------------------------------------------------------------------------------------------
// §15: Authorization under `*`; max-age
// ---------------------------------------------------------------------------------------------

#[test]
fn authorization_under_star_is_allowed_by_chromium_with_a_note() {
    let r = req().header("Authorization", "Bearer x");
    let resp = acao("*").with_header("Access-Control-Allow-Headers", "*");
    let outcome = check_preflight(&r, &resp).unwrap();
    assert!(outcome.authorization_covered_by_wildcard);
    let note = &outcome.notes[0];
    assert_eq!(note.deviation, Deviation::AuthorizationCoveredByWildcard);
    assert_eq!(
        note.devtools_issue.as_deref(),
        Some("AuthorizationCoveredByWildcard")
    );
    assert!(note.spec.contains("HeaderDisallowedByPreflightResponse"));
    assert_eq!(
        note.to_string(),
        "Access-Control-Allow-Headers '*' covering request header 'authorization': the spec says \
         `*` never covers Authorization (#cors-non-wildcard-request-header-name), so the \
         preflight fails with HeaderDisallowedByPreflightResponse for authorization; Chromium \
         currently allows the request and only reports a deprecation warning (DevTools issue \
         AuthorizationCoveredByWildcard)"
    );
    let verdict = simulate(&r, |_| resp.clone());
    assert!(verdict.allowed);
    assert_eq!(verdict.notes.len(), 1);

    // Listed explicitly: no deviation.
    let listed = acao("*").with_header("Access-Control-Allow-Headers", "*, Authorization");
    let outcome = check_preflight(&r, &listed).unwrap();
    assert!(!outcome.authorization_covered_by_wildcard && outcome.notes.is_empty());

    // Credentialed: `*` is literal and Authorization fails.
    let cred = preflight_ok().with_header("Access-Control-Allow-Headers", "*");
    assert_eq!(
        error_of(check_preflight(&include(r.clone()), &cred)),
        (
            CorsError::HeaderDisallowedByPreflightResponse,
            Some("authorization".to_owned())
        )
    );
}

#[test]
fn authorization_under_star_is_never_served_from_the_cache() {
    let r = req().header("Authorization", "Bearer x");
    let resp = acao("*")
        .with_header("Access-Control-Allow-Headers", "*")
        .with_header("Access-Control-Max-Age", "600");
    let mut cache = PreflightCache::new();
    let sent: usize = (0..3)
        .map(|_| simulate_with_cache(&r, &mut cache, 0, |_| resp.clone()).preflights_sent())
        .sum();
    assert_eq!(sent, 3);
}

#[test]
fn max_age_rules() {
    let cases = [
        (None, 5, 5),
        (Some("600"), 600, 600),
        (Some("0"), 0, 0),
        (Some("-1"), 0, 5),
        (Some("12000"), 7200, 7200),
        (Some("abc"), 5, 5),
        (Some("+60"), 60, 5),
        (Some("600, 600"), 5, 5),
        (Some("99999999999999999999"), 5, 7200),
    ];
    for (header, chromium, spec) in cases {
        let max_age = parse_max_age(header);
        assert_eq!(
            (max_age.chromium, max_age.spec),
            (chromium, spec),
            "{header:?}"
        );
        assert_eq!(max_age.note().is_some(), chromium != spec, "{header:?}");
    }
    let note = parse_max_age(Some("-1")).note().unwrap();
    assert_eq!(note.deviation, Deviation::MaxAge);
    assert_eq!(
        note.to_string(),
        "Access-Control-Max-Age '-1': the spec says it is not delta-seconds, so the default of \
         5 s applies; Chromium currently treats it as 0: the preflight is not cached"
    );
    // Repeated ACMA lines combine and fail to parse.
    let resp = acao("*")
        .with_header("Access-Control-Allow-Methods", "PUT")
        .with_header("Access-Control-Max-Age", "600")
        .with_header("Access-Control-Max-Age", "600");
    assert_eq!(
        check_preflight(&req().method("PUT"), &resp)
            .unwrap()
            .max_age
            .chromium,
        5
    );
}

// ---------------------------------------------------------------------------------------------
// §7: the preflight cache, Chromium table
// ---------------------------------------------------------------------------------------------

/// Reflects the origin with credentials, allows PUT, max-age `max_age` (or none).
fn cache_server(max_age: Option<&'static str>) -> impl FnMut(&SimRequest) -> ResponseView {
    move |sent| {
        let mut resp = ResponseView::new(if sent.is_preflight() { 204 } else { 200 })
            .with_header("Access-Control-Allow-Origin", O)
            .with_header("Access-Control-Allow-Credentials", "true")
            .with_header("Access-Control-Allow-Methods", "PUT");
        if let Some(max_age) = max_age {
            resp.push_header("Access-Control-Max-Age", max_age);
        }
        resp
    }
}

#[test]
fn cache_table_max_age_600_credentials_and_new_header() {
    let put = req().method("PUT");
    let mut cache = PreflightCache::new();
    let mut server = cache_server(Some("600"));
    let counts: Vec<usize> = [
        put.clone(),
        put.clone(),
        include(put.clone()),
        put.clone().header("X-New", "1"),
    ]
    .iter()
    .enumerate()
    .map(|(t, r)| simulate_with_cache(r, &mut cache, t as u64, &mut server).preflights_sent())
    .collect();
    assert_eq!(counts, vec![1, 0, 1, 1]);
    let failed = simulate_with_cache(
        &put.clone().header("X-New", "1"),
        &mut cache,
        10,
        &mut server,
    );
    assert_eq!(
        failed.cors_error(),
        Some(CorsError::HeaderDisallowedByPreflightResponse)
    );
    assert_eq!(
        failed.failure.unwrap().failed_parameter.as_deref(),
        Some("x-new")
    );
}

#[test]
fn cache_table_max_age_zero_absent_and_negative() {
    let put = req().method("PUT");
    let run = |max_age: Option<&'static str>, times: &[u64]| -> usize {
        let mut cache = PreflightCache::new();
        let mut server = cache_server(max_age);
        times
            .iter()
            .map(|t| simulate_with_cache(&put, &mut cache, *t, &mut server).preflights_sent())
            .sum()
    };
    assert_eq!(run(Some("0"), &[0, 0]), 2);
    assert_eq!(run(None, &[0, 4]), 1, "default 5 s");
    assert_eq!(run(None, &[0, 5]), 2, "expired after 5 s");
    assert_eq!(run(Some("-1"), &[0, 0]), 2, "Chromium does not cache -1");
}

#[test]
fn cache_disabled_by_devtools_preflights_every_time() {
    let put = req().method("PUT");
    let mut cache = PreflightCache::new();
    cache.set_disabled(true);
    let mut server = cache_server(Some("600"));
    let sent: usize = (0..3)
        .map(|_| simulate_with_cache(&put, &mut cache, 0, &mut server).preflights_sent())
        .sum();
    assert_eq!(sent, 3);
    assert!(cache.is_empty());
}

#[test]
fn cache_key_is_origin_full_url_and_credentials() {
    let mut cache = PreflightCache::new();
    let mut server = cache_server(Some("600"));
    let a = BrowserRequest::new(O, "http://127.0.0.1:18082/u?x=1").method("PUT");
    let b = BrowserRequest::new(O, "http://127.0.0.1:18082/u?x=2").method("PUT");
    simulate_with_cache(&a, &mut cache, 0, &mut server);
    assert!(
        needs_preflight_with_cache(&b, &mut cache, 1),
        "query strings never share entries"
    );
    assert!(!needs_preflight_with_cache(&a, &mut cache, 1));
    let other_page =
        BrowserRequest::new("http://localhost:18081", "http://127.0.0.1:18082/u?x=1").method("PUT");
    assert!(needs_preflight_with_cache(&other_page, &mut cache, 1));

    // A credentialed entry serves uncredentialed requests, not the other way round.
    let mut cache = PreflightCache::new();
    simulate_with_cache(&include(a.clone()), &mut cache, 0, &mut server);
    assert!(!needs_preflight_with_cache(&a, &mut cache, 1));
    assert!(!needs_preflight_with_cache(
        &include(a.clone()),
        &mut cache,
        1
    ));
    let mut cache = PreflightCache::new();
    simulate_with_cache(&a, &mut cache, 0, &mut server);
    assert_eq!(
        cache.lookup(&include(a.clone()), 1),
        CacheLookup::Insufficient
    );
    assert!(cache.is_empty(), "an insufficient entry is removed");
}

#[test]
fn failure_clears_the_entry_for_origin_and_url() {
    let put = req().method("PUT");
    let mut cache = PreflightCache::new();
    let mut server = cache_server(Some("600"));
    simulate_with_cache(&put, &mut cache, 0, &mut server);
    assert_eq!(cache.len(), 1);
    let failed = simulate_with_cache(&put.clone().method("DELETE"), &mut cache, 1, &mut server);
    assert_eq!(
        failed.cors_error(),
        Some(CorsError::MethodDisallowedByPreflightResponse)
    );
    assert!(cache.is_empty());
    assert_eq!(
        simulate_with_cache(&put, &mut cache, 2, &mut server).preflights_sent(),
        1
    );
    cache.clear_for(O, URL);
    assert!(cache.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Validation, redirects limits, serialization
// ---------------------------------------------------------------------------------------------

#[test]
fn fetch_type_errors_send_nothing() {
    let cases = [
        (req().method("CONNECT"), FetchErrorKind::ForbiddenMethod),
        (req().method("tRaCk"), FetchErrorKind::ForbiddenMethod),
        (req().method("BAD METHOD"), FetchErrorKind::InvalidMethod),
        (
            req().mode(RequestMode::NoCors).method("PUT"),
            FetchErrorKind::MethodNotAllowedInNoCors,
        ),
        (
            BrowserRequest::new(O, "http://u:p@127.0.0.1:18082/"),
            FetchErrorKind::UrlWithCredentials,
        ),
        (
            BrowserRequest::new(O, "not a url"),
            FetchErrorKind::InvalidUrl,
        ),
        (req().header("X-Foo", "a\nb"), FetchErrorKind::InvalidHeader),
    ];
    for (r, kind) in cases {
        let mut calls = 0;
        let verdict = simulate(&r, |_| {
            calls += 1;
            acao("*")
        });
        assert_eq!(verdict.error.map(|e| e.kind), Some(kind));
        assert_eq!(calls, 0);
        assert!(!verdict.allowed);
    }
}

#[test]
fn more_than_twenty_redirects_fail() {
    let mut hops = 0;
    let verdict = simulate(&req(), |_| {
        hops += 1;
        ResponseView::new(302)
            .with_header("Location", format!("/hop{hops}"))
            .with_header("Access-Control-Allow-Origin", "*")
    });
    assert_eq!(
        verdict.error.map(|e| e.kind),
        Some(FetchErrorKind::TooManyRedirects)
    );
    assert_eq!(hops, 21);
}

#[test]
fn post_redirected_by_303_becomes_get_without_body_headers() {
    let r = req()
        .method("POST")
        .header("Content-Type", "text/plain")
        .header("Authorization", "x");
    let mut seen = Vec::new();
    let verdict = simulate(&r, |sent| {
        seen.push((
            sent.method.clone(),
            sent.header("Content-Type").is_some(),
            sent.header("Authorization").is_some(),
        ));
        if sent.is_preflight() {
            acao(O).with_header("Access-Control-Allow-Headers", "authorization")
        } else if sent.url.ends_with("/u") {
            ResponseView::new(303)
                .with_header("Location", "http://localhost:18082/v")
                .with_header("Access-Control-Allow-Origin", O)
        } else {
            acao("*")
        }
    });
    assert!(verdict.allowed);
    assert_eq!(
        seen,
        vec![
            ("OPTIONS".to_owned(), false, false),
            ("POST".to_owned(), true, true),
            ("GET".to_owned(), false, false),
        ]
    );
}

#[test]
fn verdict_serializes_with_cdp_names() {
    let verdict = simulate(&req().method("PUT"), |_| ResponseView::new(204));
    let json = serde_json::to_value(&verdict).unwrap();
    assert_eq!(
        json["failure"]["cors_error"],
        "PreflightMissingAllowOriginHeader"
    );
    assert_eq!(json["steps"][0]["step"], "preflight");
    assert_eq!(json["steps"][0]["request"]["method"], "OPTIONS");
    assert_eq!(json["allowed"], false);
}
