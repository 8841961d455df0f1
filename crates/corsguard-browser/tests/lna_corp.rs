//! Local Network Access and CORP/COEP in the browser model, row by row against what Chromium
//! 156 was observed to do (docs/browser-testing.md; the suite's `11-local-network` and
//! `12-corp-coep` groups check the loopback-reachable rows in Chromium itself).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use corsguard_browser::{
    AddressSpace, AddressSpaceOverride, BlockedReason, BrowserRequest, CorsError, CredentialsMode,
    Destination, Deviation, EmbedderPolicy, Frame, LnaPermission, NetworkContext, RequestMode,
    ResponseView, SpaceSource, check_local_network, ip_address_space, simulate,
};

fn space(ip: &str) -> AddressSpace {
    ip_address_space(ip.parse().unwrap())
}

#[test]
fn address_table_is_chromiums() {
    use AddressSpace::{Local, Loopback, Public};
    let rows = [
        ("127.0.0.1", Loopback),
        ("127.255.255.254", Loopback),
        ("::1", Loopback),
        ("0.0.0.0", Loopback),
        ("::", Loopback),
        ("0.1.2.3", Local),
        ("10.0.0.1", Local),
        ("172.16.0.1", Local),
        ("172.31.255.255", Local),
        ("172.32.0.1", Public),
        ("192.168.0.1", Local),
        ("169.254.1.1", Local),
        ("100.63.255.255", Public),
        ("100.64.0.0", Local),
        ("100.127.255.255", Local),
        ("100.128.0.0", Public),
        ("fc00::1", Local),
        ("fd7a:115c:a1e0::1", Local),
        ("fe80::1", Local),
        ("fec0::1", Local),
        ("2001:db8::1", Local),
        ("3fff::1", Local),
        ("::ffff:192.168.1.1", Local),
        ("::ffff:127.0.0.1", Loopback),
        ("192.0.0.1", Public),
        ("198.18.0.1", Public),
        ("8.8.8.8", Public),
        ("2606:4700::1111", Public),
    ];
    for (ip, want) in rows {
        assert_eq!(space(ip), want, "{ip}");
    }
}

#[test]
fn names_and_overrides() {
    let mut net = NetworkContext::default();
    let c = |net: &NetworkContext, u: &str| net.classify(u).unwrap();
    assert_eq!(
        c(&net, "http://localhost:3000/").space,
        AddressSpace::Loopback
    );
    assert_eq!(
        c(&net, "http://api.localhost./").source,
        SpaceSource::Localhost
    );
    assert_eq!(c(&net, "http://printer.local/").space, AddressSpace::Local);
    assert_eq!(c(&net, "http://[::1]:8080/").space, AddressSpace::Loopback);
    let unknown = c(&net, "https://api.example.com/");
    assert_eq!(
        (unknown.space, unknown.source),
        (AddressSpace::Public, SpaceSource::Assumed)
    );
    assert_eq!(c(&net, "file:///tmp/x.html").space, AddressSpace::Loopback);
    net.resolve
        .push(("API.example.com".into(), "10.1.2.3".parse().unwrap()));
    assert_eq!(
        c(&net, "https://api.example.com/").space,
        AddressSpace::Local
    );
    net.overrides
        .push(AddressSpaceOverride::parse("127.0.0.1:8080=public").unwrap());
    assert_eq!(
        c(&net, "http://127.0.0.1:8080/").space,
        AddressSpace::Public
    );
    assert!(c(&net, "http://127.0.0.1:8080/").overridden);
    assert_eq!(
        c(&net, "http://127.0.0.1:8081/").space,
        AddressSpace::Loopback
    );
    // localhost counts as 127.0.0.1 for overrides, as in Chromium's GetAddressSpaceFromUrl
    assert_eq!(
        c(&net, "http://app.localhost:8080/").space,
        AddressSpace::Public
    );
    let any_port = AddressSpaceOverride::parse("[::1]:0=local").unwrap();
    assert!(any_port.matches("::1".parse().unwrap(), 1));
    let v6 = AddressSpaceOverride::parse("[2001:db8::]/32=public").unwrap();
    assert!(v6.matches("2001:db8::5".parse().unwrap(), 80));
    assert!(!v6.matches("10.0.0.1".parse().unwrap(), 80));
    for bad in [
        "127.0.0.1=nowhere",
        "127.0.0.1:99999=public",
        "10.0.0.0/33=local",
        "x",
    ] {
        assert!(AddressSpaceOverride::parse(bad).is_err(), "{bad}");
    }
}

const PUBLIC_PAGE: &str = "https://app.example.com";

fn fetch_verdict(page: &str, url: &str, net: NetworkContext) -> corsguard_browser::Verdict {
    let req = BrowserRequest::new(page, url).network(net);
    simulate(&req, |_| {
        ResponseView::new(200).with_header("Access-Control-Allow-Origin", "*")
    })
}

#[test]
fn public_to_loopback_without_permission_is_blocked_before_sending() {
    let v = fetch_verdict(
        PUBLIC_PAGE,
        "http://127.0.0.1:8080/api",
        NetworkContext::default(),
    );
    assert!(!v.allowed);
    assert!(v.steps.is_empty(), "nothing reaches the server");
    assert_eq!(
        v.cors_error(),
        Some(CorsError::LocalNetworkAccessPermissionDenied)
    );
    assert_eq!(v.failure.as_ref().unwrap().failed_parameter, None);
    assert_eq!(
        v.console_message().unwrap(),
        "Access to fetch at 'http://127.0.0.1:8080/api' from origin 'https://app.example.com' \
         has been blocked by CORS policy: Permission was denied for this request to access the \
         `loopback` address space."
    );
    let lna = v.local_network.unwrap();
    assert!(lna.gated);
    assert_eq!(lna.permission, Some("loopback-network"));
}

#[test]
fn permission_states() {
    for (perm, allowed) in [
        (LnaPermission::Prompt, false),
        (LnaPermission::Denied, false),
        (LnaPermission::Granted, true),
    ] {
        let net = NetworkContext {
            permission: perm,
            ..NetworkContext::default()
        };
        let v = fetch_verdict(PUBLIC_PAGE, "http://192.168.1.20/", net);
        assert_eq!(v.allowed, allowed, "{perm:?}");
        if !allowed {
            assert!(
                v.console_message()
                    .unwrap()
                    .ends_with("access the `local` address space.")
            );
        }
    }
}

#[test]
fn what_is_not_gated() {
    let net = NetworkContext::default();
    for (page, url) in [
        ("http://127.0.0.1:1", "http://127.0.0.1:2/"), // loopback → loopback
        ("http://10.0.0.5", "http://127.0.0.1:2/"),    // local → loopback (collapsed)
        ("http://10.0.0.5", "http://10.0.0.6/"),       // local → local
        ("https://app.example.com", "https://api.example.com/"), // names: public → public
        ("https://app.example.com", "https://8.8.8.8/"), // public → public
    ] {
        let lna = check_local_network(page, url, &net);
        assert!(!lna.gated && lna.block.is_none(), "{page} → {url}");
    }
}

#[test]
fn insecure_page_is_blocked_even_with_permission() {
    let net = NetworkContext {
        permission: LnaPermission::Granted,
        ..NetworkContext::default()
    };
    let v = fetch_verdict("http://app.example.com", "http://127.0.0.1:9/", net);
    assert_eq!(v.cors_error(), Some(CorsError::InsecureLocalNetwork));
    assert!(v.console_message().unwrap().ends_with(
        "The request client is not a secure context and the resource is in more-private \
         address space `loopback`."
    ));
}

#[test]
fn target_address_space_must_match() {
    let mut net = NetworkContext {
        permission: LnaPermission::Granted,
        target_address_space: Some(AddressSpace::Local),
        ..NetworkContext::default()
    };
    let v = fetch_verdict(PUBLIC_PAGE, "http://127.0.0.1:9/", net.clone());
    assert_eq!(v.cors_error(), Some(CorsError::InvalidLocalNetworkAccess));
    assert!(v.console_message().unwrap().ends_with(
        "Request had a target IP address space of `local` yet the resource is in address space \
         `loopback`."
    ));
    // The mismatch is checked whatever the page's space (Chromium 156: a loopback page too).
    let v = fetch_verdict("http://127.0.0.1:1", "http://127.0.0.1:9/", net.clone());
    assert_eq!(v.cors_error(), Some(CorsError::InvalidLocalNetworkAccess));
    net.target_address_space = Some(AddressSpace::Loopback);
    assert!(fetch_verdict(PUBLIC_PAGE, "http://127.0.0.1:9/", net.clone()).allowed);
    // A name without a resolve entry is taken to be in the declared space.
    net.target_address_space = Some(AddressSpace::Local);
    let v = fetch_verdict(PUBLIC_PAGE, "http://router.example/", net);
    assert!(v.allowed);
    assert_eq!(
        v.local_network.unwrap().target.source,
        SpaceSource::Declared
    );
}

#[test]
fn iframes_need_the_delegation() {
    let net = |allow: &[&str]| NetworkContext {
        permission: LnaPermission::Granted,
        frame: Frame::Iframe {
            top_origin: "https://portal.example.com".into(),
            allow: allow.iter().map(|s| (*s).to_owned()).collect(),
        },
        ..NetworkContext::default()
    };
    let url = "http://127.0.0.1:9/";
    let blocked = check_local_network(PUBLIC_PAGE, url, &net(&[]));
    assert_eq!(
        blocked.block.map(|b| b.cors_error()),
        Some(CorsError::LocalNetworkAccessPermissionDenied)
    );
    for allow in [&["local-network-access"][..], &["loopback-network"], &["*"]] {
        assert!(
            check_local_network(PUBLIC_PAGE, url, &net(allow))
                .block
                .is_none(),
            "{allow:?}"
        );
    }
    // `local-network` delegates local targets, not loopback ones
    assert!(
        check_local_network(PUBLIC_PAGE, url, &net(&["local-network"]))
            .block
            .is_some()
    );
    // a same-origin iframe inherits the permission
    let same = NetworkContext {
        frame: Frame::Iframe {
            top_origin: PUBLIC_PAGE.into(),
            allow: vec![],
        },
        ..net(&[])
    };
    assert!(check_local_network(PUBLIC_PAGE, url, &same).block.is_none());
}

#[test]
fn redirect_into_the_local_network_is_checked_per_hop() {
    let req = BrowserRequest::new(PUBLIC_PAGE, "https://api.example.com/go");
    let v = simulate(&req, |sent| {
        if sent.url.contains("/go") {
            ResponseView::new(302)
                .with_header("Location", "http://192.168.0.1/admin")
                .with_header("Access-Control-Allow-Origin", "*")
        } else {
            ResponseView::new(200).with_header("Access-Control-Allow-Origin", "*")
        }
    });
    assert_eq!(v.steps.len(), 1, "only the public hop was sent");
    assert_eq!(
        v.cors_error(),
        Some(CorsError::LocalNetworkAccessPermissionDenied)
    );
}

fn no_cors(page: &str, url: &str, coep: EmbedderPolicy, dest: Destination) -> BrowserRequest {
    BrowserRequest::new(page, url)
        .mode(if dest.is_navigation() {
            RequestMode::Navigate
        } else {
            RequestMode::NoCors
        })
        .credentials(CredentialsMode::Include)
        .destination(dest)
        .embedder_policy(coep)
}

fn run(
    req: &BrowserRequest,
    corp: Option<&str>,
    extra: &[(&str, &str)],
) -> corsguard_browser::Verdict {
    simulate(req, |_| {
        let mut r = ResponseView::new(200);
        if let Some(c) = corp {
            r.push_header("Cross-Origin-Resource-Policy", c);
        }
        for (n, v) in extra {
            r.push_header(*n, *v);
        }
        r
    })
}

/// The Chromium 156 matrix observed for `<img>` from `http://127.0.0.1:A` to
/// `http://127.0.0.1:B` (same site by the spec, not for Chromium's CORP).
#[test]
fn corp_coep_matrix_for_images() {
    use BlockedReason::*;
    use EmbedderPolicy::*;
    let page = "http://127.0.0.1:18601";
    let url = "http://127.0.0.1:18602/img";
    let rows: [(EmbedderPolicy, Option<&str>, Option<BlockedReason>); 12] = [
        (UnsafeNone, None, None),
        (UnsafeNone, Some("same-origin"), Some(CorpNotSameOrigin)),
        (UnsafeNone, Some("same-site"), Some(CorpNotSameSite)),
        (UnsafeNone, Some("cross-origin"), None),
        (
            RequireCorp,
            None,
            Some(CorpNotSameOriginAfterDefaultedToSameOriginByCoep),
        ),
        (RequireCorp, Some("same-origin"), Some(CorpNotSameOrigin)),
        (RequireCorp, Some("same-site"), Some(CorpNotSameSite)),
        (RequireCorp, Some("cross-origin"), None),
        (Credentialless, None, None),
        (Credentialless, Some("same-origin"), Some(CorpNotSameOrigin)),
        (Credentialless, Some("same-site"), Some(CorpNotSameSite)),
        (Credentialless, Some("cross-origin"), None),
    ];
    for (coep, corp, want) in rows {
        let v = run(&no_cors(page, url, coep, Destination::Image), corp, &[]);
        let got = v.blocked_by_response.as_ref().map(|b| b.reason);
        assert_eq!(got, want, "COEP {coep:?} CORP {corp:?}");
        assert_eq!(v.allowed, want.is_none());
        assert_eq!(v.failure, None, "not a CORS failure");
    }
    let v = run(
        &no_cors(page, url, RequireCorp, Destination::Script),
        None,
        &[],
    );
    let block = v.blocked_by_response.unwrap();
    assert_eq!(
        block.console_message(),
        "Failed to load resource: net::ERR_BLOCKED_BY_RESPONSE.NotSameOriginAfterDefaultedToSameOriginByCoep"
    );
    assert_eq!(
        block.reason.as_cdp(),
        "corp-not-same-origin-after-defaulted-to-same-origin-by-coep"
    );
}

#[test]
fn corp_same_site_on_ip_hosts_is_a_chromium_deviation() {
    let req = no_cors(
        "http://127.0.0.1:1",
        "http://127.0.0.1:2/i",
        EmbedderPolicy::UnsafeNone,
        Destination::Image,
    );
    let v = run(&req, Some("same-site"), &[]);
    assert!(!v.allowed);
    assert!(
        v.notes
            .iter()
            .any(|n| n.deviation == Deviation::CorpSameSiteIpAddress)
    );
    // Names: same registrable domain is same site, an http page never reads an https
    // same-site response.
    let named = |page: &str, url: &str| {
        run(
            &no_cors(page, url, EmbedderPolicy::UnsafeNone, Destination::Image),
            Some("same-site"),
            &[],
        )
        .allowed
    };
    assert!(named(
        "https://www.example.com",
        "https://cdn.example.com/i"
    ));
    assert!(!named(
        "http://www.example.com",
        "https://cdn.example.com/i"
    ));
    assert!(named("https://www.example.com", "http://cdn.example.com/i"));
    assert!(!named(
        "https://www.example.com",
        "https://cdn.example.net/i"
    ));
}

#[test]
fn corp_edge_cases() {
    let page = "https://app.example";
    let img = |coep| no_cors(page, "https://cdn.example/i", coep, Destination::Image);
    // two CORP values combine into a parse error: no header
    assert!(
        run(
            &img(EmbedderPolicy::UnsafeNone),
            Some("same-site, same-origin"),
            &[]
        )
        .allowed
    );
    assert!(
        !run(
            &img(EmbedderPolicy::RequireCorp),
            Some("cross-origin, same-origin"),
            &[]
        )
        .allowed
    );
    // case-sensitive
    assert!(run(&img(EmbedderPolicy::UnsafeNone), Some("Same-Origin"), &[]).allowed);
    // same-origin responses never need CORP
    let own = no_cors(
        page,
        "https://app.example/i",
        EmbedderPolicy::RequireCorp,
        Destination::Image,
    );
    assert!(run(&own, Some("same-origin"), &[]).allowed);
    // cors mode (`crossorigin`) is judged by CORS alone
    let cors = BrowserRequest::new(page, "https://cdn.example/i")
        .destination(Destination::Image)
        .embedder_policy(EmbedderPolicy::RequireCorp);
    let v = simulate(&cors, |_| {
        ResponseView::new(200).with_header("Access-Control-Allow-Origin", "*")
    });
    assert!(v.allowed);
    // credentialless: the cross-origin no-cors request goes without cookies
    let v = run(&img(EmbedderPolicy::Credentialless), None, &[]);
    assert!(v.allowed);
    let corsguard_browser::Step::Request { request, .. } = &v.steps[0] else {
        panic!("a request step");
    };
    assert!(!request.credentials);
    let v = run(&img(EmbedderPolicy::RequireCorp), Some("cross-origin"), &[]);
    let corsguard_browser::Step::Request { request, .. } = &v.steps[0] else {
        panic!("a request step");
    };
    assert!(request.credentials);
}

#[test]
fn iframes_under_coep() {
    use EmbedderPolicy::RequireCorp;
    let frame = no_cors(
        "http://127.0.0.1:1",
        "http://127.0.0.1:2/f",
        RequireCorp,
        Destination::Iframe,
    );
    let reason = |corp, extra: &[(&str, &str)]| {
        run(&frame, corp, extra)
            .blocked_by_response
            .map(|b| b.reason)
    };
    assert_eq!(
        reason(None, &[]),
        Some(BlockedReason::CorpNotSameOriginAfterDefaultedToSameOriginByCoep)
    );
    assert_eq!(
        reason(Some("cross-origin"), &[]),
        Some(BlockedReason::CoepFrameResourceNeedsCoepHeader)
    );
    assert_eq!(
        reason(None, &[("Cross-Origin-Embedder-Policy", "require-corp")]),
        Some(BlockedReason::CorpNotSameOriginAfterDefaultedToSameOriginByCoep)
    );
    assert_eq!(
        reason(
            Some("cross-origin"),
            &[("Cross-Origin-Embedder-Policy", "require-corp")]
        ),
        None
    );
    let block = run(&frame, None, &[]).blocked_by_response.unwrap();
    assert_eq!(block.net_error(), "net::ERR_BLOCKED_BY_RESPONSE");
    // no COEP on the page: an iframe is never blocked by CORP
    let plain = no_cors(
        "http://127.0.0.1:1",
        "http://127.0.0.1:2/f",
        EmbedderPolicy::UnsafeNone,
        Destination::Iframe,
    );
    assert!(run(&plain, Some("same-origin"), &[]).allowed);
}

#[test]
fn checks_can_be_switched_off_for_callers_that_ask_the_server_only() {
    let off = NetworkContext::without_checks();
    let v = fetch_verdict(PUBLIC_PAGE, "http://127.0.0.1:8080/api", off);
    assert!(v.allowed);
    assert!(!v.local_network.unwrap().gated);
}
