//! Hostile request values of any size get the right answer; their cost is measured by the
//! `decide` bench (the 1 MiB rows), never timed here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use corsguard::adapter::RequestHead;
use corsguard::{Policy, Refusal};

const MIB: usize = 1 << 20;

fn policy(extra: &str) -> Policy {
    Policy::from_yaml_str(&format!(
        "defaults: {{allow_origins: ['https://app.example.com'], allow_methods: [PUT], {extra}}}"
    ))
    .unwrap()
}

fn preflight(p: &Policy, acrm: &[u8], acrh: &[u8], acrpn: Option<&[u8]>) -> Option<Refusal> {
    let mut h = RequestHead::new("OPTIONS", "/");
    h.push_header_bytes("origin", b"https://app.example.com");
    h.push_header_bytes("access-control-request-method", acrm);
    if !acrh.is_empty() {
        h.push_header_bytes("access-control-request-headers", acrh);
    }
    if let Some(v) = acrpn {
        h.push_header_bytes("access-control-request-private-network", v);
    }
    p.decide(&h).refusal()
}

#[test]
fn megabyte_values_are_refused_or_ignored_correctly() {
    let spaces = vec![b' '; MIB];
    let commas = vec![b','; MIB];
    let letters = vec![b'a'; MIB];
    for extra in [
        "allow_headers: ['*']",
        "allow_headers: ['*'], allow_credentials: true",
        "allow_headers: [x-a]",
    ] {
        let p = policy(extra);
        for acrh in [&spaces, &commas, &letters] {
            assert_eq!(
                preflight(&p, b"PUT", acrh, None),
                Some(Refusal::MalformedRequestHeaders),
                "{extra}"
            );
        }
        assert_eq!(
            preflight(&p, &letters, b"", None),
            Some(Refusal::InvalidRequestMethod)
        );
        assert_eq!(
            preflight(&p, &spaces, b"", None),
            Some(Refusal::InvalidRequestMethod)
        );
        // A huge ACRPN is not `true`: no private network access was asked for.
        assert_eq!(preflight(&p, b"PUT", b"", Some(&spaces)), None);
        assert_eq!(
            preflight(&p, b"PUT", b"", Some(b" true ")),
            Some(Refusal::PrivateNetworkNotAllowed)
        );
        let mut h = RequestHead::new("GET", "/");
        h.push_header_bytes("origin", &letters);
        assert_eq!(p.decide(&h).refusal(), Some(Refusal::OriginTooLong));
    }
}
