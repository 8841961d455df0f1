//! A configured `expose_headers` name is never dropped silently: it is sent in
//! `Access-Control-Expose-Headers`, or the policy carries a warning (or an error) that names
//! it and says why.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use corsguard::Policy;
use corsguard::adapter::RequestHead;

fn aceh(p: &Policy) -> String {
    let o = http::HeaderValue::from_static("https://app.example.com");
    let mut h = RequestHead::new("GET", "/");
    h.push_header(&http::header::ORIGIN, &o);
    let d = p.decide(&h);
    d.headers()
        .find(|(n, _)| n == "access-control-expose-headers")
        .map(|(_, v)| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[test]
fn every_expose_name_is_sent_or_warned_about() {
    let lists: &[&[&str]] = &[
        &["x-request-id", "X-Trace-Id"],
        &["content-type", "x-a"],
        &["Content-Length", "cache-control", "x-a", "x-a"],
        &["*", "x-a"],
        &["etag", "x-b", "X-B"],
    ];
    for creds in [false, true] {
        for list in lists {
            if creds && list.contains(&"*") {
                continue; // an error, checked by the validation table
            }
            let names: Vec<String> = list.iter().map(|s| format!("'{s}'")).collect();
            let yaml = format!(
                "defaults: {{allow_origins: ['https://app.example.com'], allow_credentials: {creds}, expose_headers: [{}]}}",
                names.join(", ")
            );
            let p = Policy::from_yaml_str(&yaml).unwrap();
            let sent = aceh(&p).to_ascii_lowercase();
            let sent: Vec<&str> = sent.split(',').map(str::trim).collect();
            for name in *list {
                let lower = name.to_ascii_lowercase();
                let exposed = sent.contains(&lower.as_str()) || sent.contains(&"*");
                let warned = p.warnings().iter().any(|w| {
                    w.message
                        .to_ascii_lowercase()
                        .contains(&format!("`{lower}`"))
                        || (w.code == "expose-wildcard-absorbs" && list.contains(&"*"))
                });
                assert!(
                    exposed || warned,
                    "{yaml}: `{name}` was dropped silently (sent: {sent:?}, warnings: {:?})",
                    p.warnings()
                );
            }
        }
    }
}
