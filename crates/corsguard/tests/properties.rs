//! Property tests over the public API: for random policies and hostile requests, no decision
//! ever yields two ACAO values, ACAC with `ACAO: *`, or an ACAO for an origin the policy does
//! not allow; attack strings are never allowed; nothing panics on arbitrary header bytes or
//! config text.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use corsguard::Policy;
use corsguard::adapter::{Action, RequestHead};
use http::{HeaderMap, HeaderValue};
use proptest::prelude::*;

const PATTERNS: &[&str] = &[
    "https://example.com",
    "https://app.example.com",
    "https://*.example.com",
    "http://localhost:*",
    "https://*.example.org:*",
    "https://example.com:8443",
    "http://[::1]:3000",
];

fn policy_strategy() -> impl Strategy<Value = (Vec<&'static str>, bool, bool, bool)> {
    (
        proptest::sample::subsequence(PATTERNS, 1..PATTERNS.len()),
        any::<bool>(), // credentials
        any::<bool>(), // methods any
        any::<bool>(), // forbid
    )
}

fn build(origins: &[&str], creds: bool, any_methods: bool, forbid: bool) -> Policy {
    let mut b = Policy::builder()
        .allow_origins(origins.iter().copied())
        .allow_credentials(creds)
        .allow_headers(["x-a", "content-type"])
        .expose_headers(["x-id"]);
    b = if any_methods {
        b.allow_methods(["*"])
    } else {
        b.allow_methods(["PUT", "DELETE"])
    };
    if forbid {
        b = b.on_reject(corsguard::OnReject::Forbid);
    }
    b.build().unwrap()
}

fn origin_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Well-formed candidates near the patterns.
        (
            prop::sample::select(vec!["http", "https", "HTTPS", "ws"]),
            prop::sample::select(vec![
                "example.com",
                "app.example.com",
                "a.b.example.com",
                "EXAMPLE.com",
                "example.com.",
                "evilexample.com",
                "example.com.evil.net",
                "xn--exmple-cua.com",
                "localhost",
                "example.org",
                "x.example.org",
                "[::1]",
                "127.0.0.1"
            ]),
            prop::sample::select(vec![
                "", ":8443", ":443", ":80", ":3000", ":0", ":65536", ":08443", "/", "/path", ":"
            ]),
        )
            .prop_map(|(s, h, p)| format!("{s}://{h}{p}").into_bytes()),
        Just(b"null".to_vec()),
        Just(vec![b'a'; 2048]),
        // Arbitrary bytes that a header value can carry.
        prop::collection::vec(
            prop_oneof![0x20u8..0x7f, 0x80u8..=0xff, Just(b'\t')],
            0..400
        ),
    ]
}

fn acrh_strategy() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        Just(None),
        Just(Some(b"x-a,content-type".to_vec())),
        Just(Some(vec![b','; 1024])),
        Just(Some(b"authorization".to_vec())),
        prop::collection::vec(prop_oneof![0x20u8..0x7f, Just(b',')], 0..300).prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn decisions_never_leak_or_duplicate(
        (origins, creds, any_methods, forbid) in policy_strategy(),
        origin in origin_strategy(),
        second_origin in any::<bool>(),
        preflight in any::<bool>(),
        acrm in prop::sample::select(vec!["PUT", "GET", "patch", "GET, DELETE", "DELETE"]),
        acrh in acrh_strategy(),
        app_acao in prop::sample::select(vec![None, Some("*"), Some("https://evil.example")]),
        app_acao_twice in any::<bool>(),
    ) {
        let policy = build(&origins, creds, any_methods, forbid);
        let Ok(origin_v) = HeaderValue::from_bytes(&origin) else { return Ok(()); };
        let mut req = HeaderMap::new();
        req.append(http::header::ORIGIN, origin_v.clone());
        if second_origin {
            req.append(http::header::ORIGIN, HeaderValue::from_static("https://example.com"));
        }
        let method = if preflight { http::Method::OPTIONS } else { http::Method::GET };
        if preflight {
            req.insert(http::header::ACCESS_CONTROL_REQUEST_METHOD, HeaderValue::from_str(acrm).unwrap());
            if let Some(h) = &acrh
                && let Ok(v) = HeaderValue::from_bytes(h) {
                    req.insert(http::header::ACCESS_CONTROL_REQUEST_HEADERS, v);
                }
        }
        let uri: http::Uri = "/x".parse().unwrap();
        let head = RequestHead::from_components(&method, &uri, &req);
        let d = policy.decide(&head);

        let mut resp = HeaderMap::new();
        if let Some(a) = app_acao {
            resp.append(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static(a));
            if app_acao_twice {
                resp.append(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static(a));
            }
        }
        let headers = match d.action() {
            Action::Respond(_) => d.response_parts().unwrap().1,
            _ => { d.apply(&mut resp); resp }
        };
        let acao: Vec<&HeaderValue> = headers.get_all(http::header::ACCESS_CONTROL_ALLOW_ORIGIN).iter().collect();
        prop_assert!(acao.len() <= 1, "two ACAO values: {:?}", acao);
        if let Some(v) = acao.first() {
            prop_assert!(v.as_bytes() != b"*" || !headers.contains_key(http::header::ACCESS_CONTROL_ALLOW_CREDENTIALS));
            prop_assert_eq!(v.as_bytes(), origin.as_slice(), "ACAO must echo the request's origin");
            prop_assert!(!second_origin, "ACAO despite two Origin lines");
            prop_assert!(policy.origin_allowed("/x", None, &origin), "ACAO for an origin the policy does not allow: {}", String::from_utf8_lossy(&origin));
        }
        // Attack strings are never allowed.
        let o = String::from_utf8_lossy(&origin);
        for bad in ["EXAMPLE", "example.com.", "evilexample", "example.com.evil", "xn--", "null"] {
            if o.contains(bad) {
                prop_assert!(acao.is_empty(), "attack origin {} allowed", o);
            }
        }
        if d.refusal().is_some() || acao.is_empty() {
            for h in ["access-control-allow-credentials", "access-control-allow-methods", "access-control-allow-headers", "access-control-expose-headers", "access-control-max-age"] {
                prop_assert!(!headers.contains_key(h) || !acao.is_empty(), "{} leaked to a refused origin", h);
            }
        }
        if let Some(m) = headers.get(http::header::ACCESS_CONTROL_ALLOW_METHODS) {
            prop_assert!(!m.as_bytes().contains(&b' ') || m.as_bytes() == b"*", "ACAM reflected a list: {:?}", m);
        }
    }

    #[test]
    fn arbitrary_config_text_never_panics(text in "[ -~\n]{0,300}") {
        let _ = Policy::from_yaml_str(&text);
        let _ = Policy::load().toml(&text).build();
    }
}

#[test]
fn hostile_acrh_costs_bounded_work() {
    let p = Policy::builder()
        .allow_origin("https://a.example")
        .allow_methods(["PUT"])
        .allow_headers(["x-a"])
        .build()
        .unwrap();
    let big = ",".repeat(1 << 20);
    let v = HeaderValue::from_str(&big).unwrap();
    let o = HeaderValue::from_static("https://a.example");
    let m = HeaderValue::from_static("PUT");
    let mut head = RequestHead::new("OPTIONS", "/");
    head.push_header(&http::header::ORIGIN, &o);
    head.push_header(&http::header::ACCESS_CONTROL_REQUEST_METHOD, &m);
    for _ in 0..1000 {
        head.push_header(&http::header::ACCESS_CONTROL_REQUEST_HEADERS, &v);
    }
    // 1000 lines of 1 MiB of commas: refused by the line cap before any byte is scanned; a
    // single 1 MiB line is refused by the byte cap. (Costs are measured in benches/decide.rs.)
    let d = p.decide(&head);
    assert_eq!(
        d.refusal(),
        Some(corsguard::Refusal::MalformedRequestHeaders)
    );
    let mut one = RequestHead::new("OPTIONS", "/");
    one.push_header(&http::header::ORIGIN, &o);
    one.push_header(&http::header::ACCESS_CONTROL_REQUEST_METHOD, &m);
    one.push_header(&http::header::ACCESS_CONTROL_REQUEST_HEADERS, &v);
    assert_eq!(
        p.decide(&one).refusal(),
        Some(corsguard::Refusal::MalformedRequestHeaders)
    );
    // The refused preflight still names the allowed list so the browser can say why.
    let (_, h) = p.decide(&one).response_parts().unwrap();
    assert_eq!(h["access-control-allow-headers"], "x-a");
}
