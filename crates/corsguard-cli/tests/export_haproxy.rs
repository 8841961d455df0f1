//! `corsguard export haproxy` in a real HAProxy: every behaviour table's policy is exported as
//! a complete haproxy.cfg (loopback port, the shared test app as upstream), checked with
//! `haproxy -c`, run in the foreground, and every row of `tests/cases/*.yaml` is sent over raw
//! HTTP/1.1 and checked with the shared testkit (`corsguard_testkit::engine`).
//!
//! HAProxy must be installed (`/usr/sbin/haproxy`, as `scripts/test` ensures); set
//! `CORSGUARD_SKIP_HAPROXY=1` to skip explicitly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod engines;

use corsguard_testkit::engine::{TempDir, send, start_upstream};
use engines::Target;

#[test]
fn haproxy_passes_the_behaviour_tables() {
    if let Some(checked) = engines::run_behaviour_tables(Target::Haproxy) {
        assert!(checked >= 110, "only {checked} rows passed in HAProxy");
    }
}

/// What the behaviour tables do not reach: `Access-Control-Request-Headers` split over lines,
/// in upper case, with whitespace, empty elements and past corsguard's bounds. HAProxy's
/// status and `Access-Control-Allow-Headers` must be what `Policy::decide` gives.
#[test]
fn haproxy_judges_request_headers_as_corsguard_does() {
    let Some(bin) = Target::Haproxy.binary() else {
        return;
    };
    let upstream = start_upstream();
    for policy in [
        "defaults: {allow_origins: ['https://a.example'], allow_methods: [PUT], allow_headers: ['*'], allow_credentials: true}",
        "defaults: {allow_origins: ['https://a.example'], allow_methods: [PUT], allow_headers: [x-a, x-b], on_reject: forbid}",
        "defaults: {allow_origins: ['https://a.example'], allow_methods: [PUT], allow_headers: ['*'], on_reject: forbid}",
    ] {
        let dir = TempDir::new("haproxy-acrh");
        let file = dir.write("policy.yaml", policy);
        let running = engines::start(Target::Haproxy, &bin, &file, upstream);
        let (engine, port) = (&running.engine, running.engine.port);
        let compiled = corsguard::Policy::from_yaml_str(policy).unwrap();
        let many: Vec<String> = (0..17).map(|_| "x-a".to_string()).collect();
        let cases: Vec<Vec<String>> = vec![
            vec!["X-B , ,x-a".into(), "X-C".into()],
            vec!["x-b".into(), " Authorization ".into()],
            vec![format!("x-a{}", ",".repeat(17))],
            vec![format!("x-a{}", ",".repeat(16))],
            vec!["x-a, b@d".into()],
            many,
            vec![String::new()],
        ];
        for lines in cases {
            let mut headers = vec![
                ("origin".to_string(), "https://a.example".to_string()),
                (
                    "access-control-request-method".to_string(),
                    "PUT".to_string(),
                ),
            ];
            let mut head = corsguard::adapter::RequestHead::new("OPTIONS", "/");
            head.push_header_bytes("origin", b"https://a.example");
            head.push_header_bytes("access-control-request-method", b"PUT");
            for l in &lines {
                headers.push(("access-control-request-headers".into(), l.clone()));
                head.push_header_bytes("access-control-request-headers", l.as_bytes());
            }
            let decision = compiled.decide(&head);
            let (status, want) = decision.response_parts().unwrap();
            let want = want
                .get("access-control-allow-headers")
                .map(|v| v.to_str().unwrap().to_string());
            let got = send(port, "OPTIONS", "/", &engine.self_host(), &headers);
            let have: Vec<&str> = got
                .headers
                .iter()
                .filter(|(n, _)| n == "access-control-allow-headers")
                .map(|(_, v)| v.as_str())
                .collect();
            assert_eq!(got.status, status.as_u16(), "{policy}\n{lines:?}");
            assert_eq!(
                have,
                want.as_deref().into_iter().collect::<Vec<_>>(),
                "{policy}\n{lines:?}"
            );
        }
    }
}
