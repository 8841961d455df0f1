//! The browser model (`corsguard_browser`) on arbitrary requests, against arbitrary scripted
//! responses or a policy from the pattern alphabet: never panics, a bounded number of
//! round trips, an allowed verdict carries no failure, and a cross-origin CORS-mode fetch
//! never succeeds when no response has an `Access-Control-Allow-Origin`.
#![no_main]

use arbitrary::Arbitrary;
use corsguard_browser::{
    BrowserRequest, CredentialsMode, Initiator, RequestMode, ResponseView, SimRequest,
    answer_with_policy, preflight_plan, simulate,
};
use corsguard_fuzz::{Bytes, PolicySpec, REQUEST_METHODS, REQUEST_ORIGINS, text};
use libfuzzer_sys::fuzz_target;

const URLS: &[&str] = &[
    "https://api.example.com/v1/items",
    "https://app.example.com/same",
    "http://127.0.0.1:8080/x",
    "https://api.example.com:8443/v1/items?q=1",
    "data:text/plain,hi",
    "ftp://files.example/x",
    "https://user:pw@api.example.com/",
];
const REQ_HEADERS: &[&str] = &[
    "Content-Type",
    "Authorization",
    "X-Trace-Id",
    "Accept",
    "Range",
    "Cookie",
    "Accept-Language",
];
const REQ_VALUES: &[&str] = &[
    "application/json",
    "text/plain",
    "Bearer x",
    "bytes=0-1",
    "multipart/form-data; boundary=x",
    "",
];
const RESP_HEADERS: &[&str] = &[
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Max-Age",
    "Access-Control-Expose-Headers",
    "Location",
    "Vary",
    "X-Request-Id",
    "Access-Control-Allow-Private-Network",
];
const RESP_VALUES: &[&str] = &[
    "*",
    "https://app.example.com",
    "true",
    "PUT, DELETE",
    "content-type, authorization",
    "600",
    "https://api.example.com/next",
    "/relative",
    "null",
    "x-request-id",
];
const STATUSES: &[u16] = &[
    200, 204, 301, 302, 303, 307, 308, 400, 403, 500, 0, 199, 999,
];

#[derive(Debug, Arbitrary)]
struct Resp {
    status: u8,
    raw_status: Option<u16>,
    headers: Vec<(Bytes, Bytes)>,
}

#[derive(Debug, Arbitrary)]
enum Responder {
    Scripted(Vec<Resp>),
    Policy(PolicySpec, u8),
}

#[derive(Debug, Arbitrary)]
struct Input {
    page_origin: Bytes,
    url: Bytes,
    method: Bytes,
    headers: Vec<(Bytes, Bytes)>,
    credentials: u8,
    mode: u8,
    script: bool,
    force_preflight: bool,
    tainted: bool,
    responder: Responder,
}

fn s(b: &Bytes, alphabet: &[&'static str]) -> String {
    text(b.bytes(alphabet))
}

fuzz_target!(|input: Input| {
    let mut req = BrowserRequest::new(s(&input.page_origin, REQUEST_ORIGINS), s(&input.url, URLS))
        .method(s(&input.method, REQUEST_METHODS))
        .credentials(match input.credentials % 3 {
            0 => CredentialsMode::Omit,
            1 => CredentialsMode::SameOrigin,
            _ => CredentialsMode::Include,
        })
        .mode(match input.mode % 4 {
            0 => RequestMode::Cors,
            1 => RequestMode::NoCors,
            2 => RequestMode::SameOrigin,
            _ => RequestMode::Navigate,
        })
        .initiator(if input.script {
            Initiator::Script
        } else {
            Initiator::UserAgentReport
        })
        .force_preflight(input.force_preflight)
        .tainted(input.tainted);
    for (n, v) in input.headers.iter().take(8) {
        req = req.header(s(n, REQ_HEADERS), s(v, REQ_VALUES));
    }
    let _ = preflight_plan(&req);
    let _ = req.validate();

    let mut calls = 0usize;
    let verdict = match &input.responder {
        Responder::Scripted(resps) => {
            let resps: Vec<ResponseView> = resps
                .iter()
                .take(6)
                .map(|r| {
                    let status = r
                        .raw_status
                        .unwrap_or(STATUSES[usize::from(r.status) % STATUSES.len()]);
                    let mut v = ResponseView::new(status);
                    for (n, val) in r.headers.iter().take(8) {
                        v.push_header(s(n, RESP_HEADERS), s(val, RESP_VALUES));
                    }
                    v
                })
                .collect();
            let any_acao = resps
                .iter()
                .any(|r| r.contains("access-control-allow-origin"));
            let verdict = simulate(&req, |_sent: &SimRequest| {
                calls += 1;
                match resps.get((calls - 1) % resps.len().max(1)) {
                    Some(r) => r.clone(),
                    None => ResponseView::new(200),
                }
            });
            if req.validate().is_ok() && req.cors_flag() && !any_acao {
                assert!(
                    !verdict.allowed,
                    "a CORS-flag fetch passed without any ACAO: {input:?}\n{verdict:?}"
                );
            }
            verdict
        }
        Responder::Policy(spec, app_status) => {
            let Ok(policy) = spec.policy() else {
                return;
            };
            let status = http::StatusCode::from_u16(
                STATUSES[usize::from(*app_status) % STATUSES.len()].max(200),
            )
            .unwrap_or(http::StatusCode::OK);
            simulate(&req, |sent: &SimRequest| {
                calls += 1;
                answer_with_policy(&policy, sent, status, &http::HeaderMap::new()).response
            })
        }
    };
    assert!(calls <= 64, "{calls} round trips: {input:?}");
    if verdict.allowed {
        assert!(
            verdict.failure.is_none() && verdict.error.is_none(),
            "allowed with a failure: {verdict:?}"
        );
    }
    if let Some(f) = &verdict.failure {
        let _ = f.message();
        let _ = f.console_message(&verdict.final_url, &req.page_origin);
    }
});
