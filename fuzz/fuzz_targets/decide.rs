//! A policy from the pattern alphabet and a request head with arbitrary bytes, through
//! `Policy::decide`; checks the security invariants on what would be sent:
//!
//! - no `Access-Control-Allow-Origin` for a refused origin, or for an origin the policy does
//!   not allow, or without exactly one `Origin` line; a non-`*` ACAO is the request's origin;
//! - never two ACAO lines (also after `apply` over an application's own CORS headers);
//! - never `Access-Control-Allow-Credentials` with `ACAO: *`;
//! - `Access-Control-Allow-Headers` grants `authorization` only when the rule lists it;
//! - `Vary: Origin` whenever the answer depends on the origin;
//! - CSRF: `GET`/`HEAD`/`OPTIONS` are never refused; one `Sec-Fetch-Site: same-origin` or
//!   `none` line (with at most one `Origin`) always passes; an enforced refusal answers 403
//!   without calling the app and with its text body; a reported one changes nothing the
//!   client sees;
//! - bounded cost (libFuzzer `-timeout`).
#![no_main]

use arbitrary::Arbitrary;
use corsguard::{CsrfVerdict, csrf_safe_method};
use corsguard::adapter::{Action, RequestHead};
use corsguard_fuzz::{
    HeadSpec, PNA_VALUES, PolicySpec, REQUEST_HEADER_LISTS, REQUEST_HOSTS, REQUEST_METHODS,
    REQUEST_ORIGINS, SEC_FETCH_SITES, text,
};
use http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    policy: PolicySpec,
    head: HeadSpec,
    /// The application's own CORS headers (to be replaced, never duplicated).
    app_acao: u8,
}

fuzz_target!(|input: Input| {
    let Ok(policy) = input.policy.policy() else {
        return;
    };
    let h = &input.head;
    let method = text(h.method.bytes(REQUEST_METHODS));
    let path = text(h.path.bytes(corsguard_fuzz::PATHS));
    let host = h.host.as_ref().map(|b| text(b.bytes(REQUEST_HOSTS)));
    let scheme = h.scheme.map(|s| if s { "https" } else { "http" });
    let origins: Vec<&[u8]> = h
        .origins
        .iter()
        .take(4)
        .map(|b| b.bytes(REQUEST_ORIGINS))
        .collect();
    let acrm: Vec<&[u8]> = h
        .acrm
        .iter()
        .take(4)
        .map(|b| b.bytes(corsguard_fuzz::METHODS))
        .collect();
    let acrh: Vec<&[u8]> = h
        .acrh
        .iter()
        .take(20)
        .map(|b| b.bytes(REQUEST_HEADER_LISTS))
        .collect();
    let acrpn: Vec<&[u8]> = h
        .acrpn
        .iter()
        .take(2)
        .map(|b| b.bytes(PNA_VALUES))
        .collect();
    let typed: Vec<(http::HeaderName, HeaderValue)> = if h.typed {
        let mut v = Vec::new();
        for (name, vals) in [
            (header::ORIGIN, &origins),
            (header::ACCESS_CONTROL_REQUEST_METHOD, &acrm),
            (header::ACCESS_CONTROL_REQUEST_HEADERS, &acrh),
        ] {
            for val in vals.iter() {
                if let Ok(hv) = HeaderValue::from_bytes(val) {
                    v.push((name.clone(), hv));
                }
            }
        }
        v
    } else {
        Vec::new()
    };

    let mut head = RequestHead::new(&method, &path)
        .with_host(host.as_deref())
        .with_scheme(scheme);
    let origin_lines;
    if h.typed {
        for (n, v) in &typed {
            head.push_header(n, v);
        }
        origin_lines = typed.iter().filter(|(n, _)| *n == header::ORIGIN).count();
    } else {
        for o in &origins {
            head.push_header_bytes("Origin", o);
        }
        for m in &acrm {
            head.push_header_bytes("access-control-request-method", m);
        }
        for l in &acrh {
            head.push_header_bytes("Access-Control-Request-Headers", l);
        }
        origin_lines = origins.len();
    }
    for p in &acrpn {
        head.push_header_bytes("access-control-request-private-network", p);
    }
    let sec_fetch_site: Vec<&[u8]> = h
        .sec_fetch_site
        .iter()
        .take(3)
        .map(|b| b.bytes(SEC_FETCH_SITES))
        .collect();
    for v in &sec_fetch_site {
        head.push_header_bytes("sec-fetch-site", v);
    }
    let the_origin: Option<Vec<u8>> = head.origin().map(<[u8]>::to_vec);

    let d = policy.decide(&head);
    let headers: Vec<(http::HeaderName, HeaderValue)> =
        d.headers().map(|(n, v)| (n, v.clone())).collect();
    let acao: Vec<&HeaderValue> = headers
        .iter()
        .filter(|(n, _)| *n == header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .map(|(_, v)| v)
        .collect();
    let acac = headers
        .iter()
        .any(|(n, _)| *n == header::ACCESS_CONTROL_ALLOW_CREDENTIALS);
    let ctx = || format!("{input:?}\ndecision {d:?}");

    // One ACAO at most, none for a refused origin.
    assert!(acao.len() <= 1, "two ACAO: {}", ctx());
    if d.refusal().is_some_and(|r| r.is_origin()) {
        assert!(acao.is_empty(), "ACAO for a refused origin: {}", ctx());
    }
    let summaries = policy.summaries();
    let rule = match d.rule_index() {
        Some(i) => &summaries[i],
        None => summaries.last().unwrap_or_else(|| unreachable!()),
    };
    if let Some(v) = acao.first()
        && rule.forced_allow_origin.is_none()
    {
        let origin = the_origin.as_deref().unwrap_or_default();
        if v.as_bytes() == b"*" {
            // A constant `*` (anonymous `allow_origins: ['*']`) may go on every response.
            assert!(!acac, "ACAC with ACAO *: {}", ctx());
        } else {
            assert_eq!(
                origin_lines,
                1,
                "reflected ACAO without exactly one Origin line: {}",
                ctx()
            );
            assert_eq!(
                v.as_bytes(),
                origin,
                "ACAO is not the request's origin: {}",
                ctx()
            );
        }
        if origin_lines == 1 {
            assert!(
                policy.origin_allowed(&path, host.as_deref(), origin),
                "ACAO for an origin origin_allowed refuses: {}",
                ctx()
            );
        }
    }
    // ACAH grants authorization only when listed.
    for (n, v) in &headers {
        if *n == header::ACCESS_CONTROL_ALLOW_HEADERS {
            let v = String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase();
            if v.split(',').any(|t| t.trim() == "authorization") {
                assert!(
                    rule.allow_headers.iter().any(|h| h == "authorization"),
                    "ACAH grants an unlisted authorization: {}",
                    ctx()
                );
            }
        }
    }
    // Vary: Origin when the answer depends on the origin. (In shadow mode CORS writes
    // nothing, also on a CSRF 403, which answers an unsafe method no cache stores.)
    let constant = rule.allow_origins == ["*"] && !rule.allow_credentials;
    if d.action() != Action::PassThrough && rule.cors && !constant && !d.is_shadow() {
        assert!(
            d.vary_tokens().any(|t| t == "Origin"),
            "no Vary: Origin on an origin-dependent answer: {}",
            ctx()
        );
    }
    if !acao.is_empty() && acao[0].as_bytes() != b"*" {
        assert!(
            d.vary_tokens().any(|t| t == "Origin"),
            "reflected ACAO without Vary: {}",
            ctx()
        );
    }
    // CSRF.
    match d.csrf() {
        CsrfVerdict::Refused { refusal, enforced } => {
            assert!(
                !csrf_safe_method(&method),
                "CSRF refusal of a safe method: {}",
                ctx()
            );
            let one_site = matches!(sec_fetch_site.as_slice(), [b"same-origin" | b"none"]);
            assert!(
                !(one_site && origin_lines <= 1),
                "CSRF refusal despite Sec-Fetch-Site {:?}: {}",
                sec_fetch_site,
                ctx()
            );
            if enforced {
                assert_eq!(
                    d.action(),
                    Action::Respond(http::StatusCode::FORBIDDEN),
                    "{}",
                    ctx()
                );
                assert_eq!(d.body(), refusal.body(), "{}", ctx());
            } else {
                assert!(
                    d.body().is_empty(),
                    "a reported refusal has a body: {}",
                    ctx()
                );
            }
        }
        _ => assert!(
            d.body().is_empty(),
            "a body without a CSRF refusal: {}",
            ctx()
        ),
    }
    // Applying over the application's own headers never duplicates an owned header.
    let mut app = HeaderMap::new();
    for i in 0..(input.app_acao % 3) {
        let v = if i == 0 {
            "*"
        } else {
            "https://app-set.example"
        };
        app.append(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static(v),
        );
        app.append(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    app.append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    d.apply(&mut app);
    if d.owns_cors_headers() {
        for name in corsguard::adapter::OWNED_HEADERS.iter() {
            assert!(
                app.get_all(name).iter().count() <= 1,
                "two {name} after apply: {}",
                ctx()
            );
        }
        let n = app
            .get_all(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .iter()
            .count();
        assert_eq!(n, acao.len(), "apply wrote a different ACAO: {}", ctx());
    }
    if let Some((_, h)) = d.response_parts() {
        assert!(
            h.get_all(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .iter()
                .count()
                <= 1
        );
    }
});
