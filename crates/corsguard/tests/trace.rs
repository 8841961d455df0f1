//! `Policy::explain`: the trace's reason and fix describe the refusal the decision reports
//! (the first check that failed), even when later checks fail too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use corsguard::adapter::RequestHead;
use corsguard::{Policy, Refusal};

fn policy() -> Policy {
    Policy::from_yaml_str(
        "defaults:\n  allow_origins: [https://app.example.com]\n  allow_methods: [GET, PUT]\n  allow_headers: [content-type]\n",
    )
    .unwrap()
}

fn preflight(method: &str, headers: &str) -> RequestHead<'static> {
    let mut h = RequestHead::new("OPTIONS", "/x");
    h.push_header_bytes("origin", b"https://app.example.com");
    h.push_header_bytes(
        "access-control-request-method",
        method.to_owned().leak().as_bytes(),
    );
    if !headers.is_empty() {
        h.push_header_bytes(
            "access-control-request-headers",
            headers.to_owned().leak().as_bytes(),
        );
    }
    h
}

#[test]
fn a_method_and_a_header_refused_report_the_method_with_its_fix() {
    let (d, t) = policy().explain(&preflight("DELETE", "x-foo"));
    assert_eq!(d.refusal(), Some(Refusal::MethodNotAllowed));
    assert_eq!(t.refusal, Some(Refusal::MethodNotAllowed));
    assert_eq!(t.reason, "method `DELETE` is not allowed");
    assert_eq!(
        t.fix.as_ref().unwrap().change,
        "add `DELETE` to defaults.allow_methods"
    );
    // Both failing steps are still in the trace.
    let failed: Vec<&str> = t
        .steps
        .iter()
        .filter(|s| s.passed == Some(false))
        .map(|s| s.check.as_str())
        .collect();
    assert_eq!(failed, ["method", "headers"]);
}

#[test]
fn a_header_refused_alone_reports_the_header() {
    let (d, t) = policy().explain(&preflight("PUT", "x-foo"));
    assert_eq!(d.refusal(), Some(Refusal::HeaderNotAllowed));
    assert_eq!(t.reason, "request header `x-foo` is not allowed");
    assert_eq!(
        t.fix.as_ref().unwrap().change,
        "add `x-foo` to defaults.allow_headers"
    );
}
