//! CSRF configuration: every source (YAML, TOML, env, builder) reads the same options, and
//! bad values are refused with located diagnostics. The decisions themselves are rows of
//! tests/cases/10-csrf.yaml (engine, both middlewares, the gateway and nginx).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use corsguard::adapter::RequestHead;
use corsguard::{Csrf, CsrfMode, CsrfRefusal, CsrfVerdict, PathRule, Policy};

fn codes(e: &corsguard::ConfigErrors) -> Vec<(&'static str, String)> {
    e.diagnostics()
        .iter()
        .map(|d| (d.code.as_str(), d.location.path.clone()))
        .collect()
}

/// A cross-site POST from `origin` on `path`.
fn cross_site_post(p: &Policy, path: &str, origin: &str) -> CsrfVerdict {
    let mut h = RequestHead::new("POST", path).with_host(Some("api.example.com"));
    h.push_header_bytes("origin", origin.as_bytes());
    h.push_header_bytes("sec-fetch-site", b"cross-site");
    p.decide(&h).csrf()
}

const REFUSED: CsrfVerdict = CsrfVerdict::Refused {
    refusal: CsrfRefusal::CrossSite,
    enforced: true,
};

#[test]
fn yaml_toml_env_and_builder_give_the_same_protection() {
    let yaml = Policy::from_yaml_str(
        "defaults:\n  allow_origins: [https://app.example.com]\n  csrf: {mode: enforce, trusted_origins: [https://sso.example.net]}\npaths:\n  - path: /webhooks/\n    csrf: {mode: off}\n",
    )
    .unwrap();
    let toml = Policy::load().toml("[defaults]\nallow_origins = ['https://app.example.com']\ncsrf = { mode = 'enforce', trusted_origins = ['https://sso.example.net'] }\n[[paths]]\npath = '/webhooks/'\ncsrf = { mode = 'off' }\n").build()
    .unwrap();
    let built = Policy::builder()
        .allow_origin("https://app.example.com")
        .csrf(Csrf::enforce().trusted_origin("https://sso.example.net"))
        .path(PathRule::prefix("/webhooks/").csrf(Csrf::off()))
        .build()
        .unwrap();
    let env = Policy::load()
        .env_vars([
            (
                "CORS_ALLOWED_ORIGINS".to_string(),
                "https://app.example.com".to_string(),
            ),
            ("CORSGUARD_CSRF_MODE".to_string(), "enforce".to_string()),
            (
                "CORSGUARD_CSRF_TRUSTED_ORIGINS".to_string(),
                "https://sso.example.net".to_string(),
            ),
        ])
        .build()
        .unwrap();
    for (name, p) in [
        ("yaml", &yaml),
        ("toml", &toml),
        ("builder", &built),
        ("env", &env),
    ] {
        assert_eq!(
            cross_site_post(p, "/transfer", "https://evil.example"),
            REFUSED,
            "{name}"
        );
        assert!(
            matches!(
                cross_site_post(p, "/transfer", "https://sso.example.net"),
                CsrfVerdict::Passed(corsguard::CsrfPass::TrustedOrigin)
            ),
            "{name}"
        );
        let summary = p.summaries().pop().unwrap().csrf.unwrap();
        assert_eq!(summary.mode, CsrfMode::Enforce, "{name}");
        assert_eq!(
            summary.trusted_origins,
            ["https://sso.example.net"],
            "{name}"
        );
    }
    for p in [&yaml, &toml, &built] {
        assert_eq!(
            cross_site_post(p, "/webhooks/x", "https://evil.example"),
            CsrfVerdict::NotChecked
        );
    }
}

#[test]
fn a_rule_overrides_csrf_field_by_field() {
    let p = Policy::from_yaml_str(
        "defaults:\n  allow_origins: [https://app.example.com]\n  csrf: {mode: enforce, allow_same_site: false}\npaths:\n  - path: /sibling/\n    csrf: {allow_same_site: true}\n",
    )
    .unwrap();
    let same_site = |path: &str| {
        let mut h = RequestHead::new("PUT", path);
        h.push_header_bytes("origin", b"https://blog.example.com");
        h.push_header_bytes("sec-fetch-site", b"same-site");
        p.decide(&h).csrf()
    };
    // The mode is inherited from defaults; only allow_same_site changes.
    assert_eq!(
        same_site("/sibling/x"),
        CsrfVerdict::Passed(corsguard::CsrfPass::SameSite)
    );
    assert_eq!(
        same_site("/other"),
        CsrfVerdict::Refused {
            refusal: CsrfRefusal::SameSite,
            enforced: true
        }
    );
}

#[test]
fn csrf_applies_on_a_cors_false_rule_with_trusted_origins_only() {
    let p = Policy::from_yaml_str(
        "defaults:\n  allow_origins: [https://app.example.com]\n  csrf: {mode: enforce}\npaths:\n  - path: /forms/\n    cors: false\n    csrf: {trusted_origins: [https://partner.example]}\n",
    )
    .unwrap();
    assert_eq!(
        cross_site_post(&p, "/forms/a", "https://evil.example"),
        REFUSED
    );
    // cors: false: the rule's allow_origins do not apply, its trusted_origins do.
    assert_eq!(
        cross_site_post(&p, "/forms/a", "https://app.example.com"),
        REFUSED
    );
    assert!(matches!(
        cross_site_post(&p, "/forms/a", "https://partner.example"),
        CsrfVerdict::Passed(_)
    ));
    let d = {
        let mut h = RequestHead::new("POST", "/forms/a");
        h.push_header_bytes("origin", b"https://evil.example");
        h.push_header_bytes("sec-fetch-site", b"cross-site");
        p.decide(&h)
    };
    assert_eq!(
        d.action(),
        corsguard::adapter::Action::Respond(http::StatusCode::FORBIDDEN)
    );
    // No CORS headers under cors: false, but the reason in the body.
    let (_, headers) = d.response_parts().unwrap();
    assert!(
        headers
            .keys()
            .all(|k| !k.as_str().starts_with("access-control-"))
    );
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(
        headers["content-length"],
        d.body().len().to_string().as_str()
    );
}

#[test]
fn report_mode_reports_and_changes_nothing() {
    let p = Policy::from_yaml_str(
        "defaults: {allow_origins: ['https://app.example.com'], csrf: {mode: report}}",
    )
    .unwrap();
    let mut h = RequestHead::new("POST", "/");
    h.push_header_bytes("origin", b"https://evil.example");
    h.push_header_bytes("sec-fetch-site", b"cross-site");
    let d = p.decide(&h);
    assert_eq!(
        d.csrf(),
        CsrfVerdict::Refused {
            refusal: CsrfRefusal::CrossSite,
            enforced: false
        }
    );
    assert_eq!(d.action(), corsguard::adapter::Action::Forward);
    assert!(d.body().is_empty() && d.is_refused());
    let (_, trace) = p.decide_traced(&h);
    let trace = trace.expect("a refusal is traced");
    let step = trace.steps.iter().find(|s| s.check == "csrf").unwrap();
    assert_eq!(step.passed, Some(false));
    assert!(step.detail.contains("csrf-cross-site") && step.detail.contains("report"));
}

#[test]
fn bad_csrf_settings_are_refused_with_locations() {
    let e = Policy::from_yaml_str(
        "defaults:\n  allow_origins: [https://app.example.com]\n  csrf:\n    mode: enforce\n    trusted_origins: ['*', 'null', 'https://ok.example', 'https://bad.example/']\n",
    )
    .unwrap_err();
    let c = codes(&e);
    assert!(
        c.contains(&(
            "csrf-trusted-wildcard",
            "defaults.csrf.trusted_origins[0]".into()
        )),
        "{c:?}"
    );
    assert!(
        c.contains(&(
            "csrf-trusted-null",
            "defaults.csrf.trusted_origins[1]".into()
        )),
        "{c:?}"
    );
    assert!(
        c.iter().any(|(code, path)| code.starts_with("origin-")
            && path == "defaults.csrf.trusted_origins[3]"),
        "{c:?}"
    );

    let e = Policy::from_yaml_str(
        "defaults:\n  allow_origins: [https://app.example.com]\n  csrf: {mode: strict, trust: []}\n",
    )
    .unwrap_err();
    let c = codes(&e);
    assert!(
        c.contains(&("invalid-value", "defaults.csrf.mode".into())),
        "{c:?}"
    );
    assert!(
        c.contains(&("unknown-key", "defaults.csrf.trust".into())),
        "{c:?}"
    );

    let e = Policy::load()
        .env_vars([
            (
                "CORS_ALLOWED_ORIGINS".to_string(),
                "https://app.example.com".to_string(),
            ),
            ("CORSGUARD_CSRF_MODE".to_string(), "on".to_string()),
        ])
        .build()
        .unwrap_err();
    assert!(codes(&e).contains(&("invalid-value", "defaults.csrf.mode".into())));
}

#[test]
fn csrf_under_a_bare_wildcard_warns_that_no_page_is_trusted() {
    let p =
        Policy::from_yaml_str("defaults: {allow_origins: ['*'], csrf: {mode: enforce}}").unwrap();
    let w: Vec<_> = p.warnings().iter().map(|d| d.code.as_str()).collect();
    assert!(w.contains(&"csrf-no-trusted-origin"), "{w:?}");
    // `*` lets every page read, never send.
    assert_eq!(cross_site_post(&p, "/", "https://evil.example"), REFUSED);
    let listed = Policy::from_yaml_str(
        "defaults: {allow_origins: ['https://app.example.com'], csrf: {mode: enforce}}",
    )
    .unwrap();
    assert!(listed.warnings().is_empty());
}
