//! The admin listener: health, readiness, metrics that move, the admin page.

use crate::common::{APP, POLICY, gateway, send, upstream};

fn metric(text: &str, line_prefix: &str) -> u64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(line_prefix)
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("no metric {line_prefix} in\n{text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_and_the_admin_page_lists_refusals() {
    let up = upstream().await;
    let gw = gateway(POLICY, &up.url(), |g| {
        g.admin_listen = Some("127.0.0.1:0".parse().unwrap())
    })
    .await;
    let a = gw.local_addr();
    let admin = gw.admin_addr().unwrap();

    assert_eq!(send(admin, "GET", "/healthz", &[]).await.status, 200);
    assert_eq!(send(admin, "GET", "/readyz", &[]).await.status, 200);
    let m0 = String::from_utf8(send(admin, "GET", "/metrics", &[]).await.body.to_vec()).unwrap();
    assert_eq!(
        metric(
            &m0,
            "corsguard_requests_total{kind=\"actual\",verdict=\"allowed\"}"
        ),
        0
    );
    assert_eq!(metric(&m0, "corsguard_policy_version"), 1);

    send(a, "GET", "/v1/items", &[("origin", APP)]).await;
    send(a, "GET", "/v1/items", &[("origin", "https://evil.example")]).await;
    send(
        a,
        "GET",
        "/v1/items",
        &[("origin", "https://<b>x</b>.example")],
    )
    .await;
    send(
        a,
        "OPTIONS",
        "/v1/items",
        &[("origin", APP), ("access-control-request-method", "PUT")],
    )
    .await;
    send(
        a,
        "OPTIONS",
        "/v1/items",
        &[
            ("origin", APP),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", "x-evil"),
        ],
    )
    .await;
    send(a, "GET", "/v1/items", &[]).await;

    let m = String::from_utf8(send(admin, "GET", "/metrics", &[]).await.body.to_vec()).unwrap();
    assert_eq!(
        metric(
            &m,
            "corsguard_requests_total{kind=\"actual\",verdict=\"allowed\"}"
        ),
        1
    );
    assert_eq!(
        metric(
            &m,
            "corsguard_requests_total{kind=\"actual\",verdict=\"refused\"}"
        ),
        2
    );
    assert_eq!(
        metric(
            &m,
            "corsguard_requests_total{kind=\"preflight\",verdict=\"allowed\"}"
        ),
        1
    );
    assert_eq!(
        metric(
            &m,
            "corsguard_requests_total{kind=\"preflight\",verdict=\"refused\"}"
        ),
        1
    );
    assert_eq!(
        metric(
            &m,
            "corsguard_requests_total{kind=\"non-cors\",verdict=\"none\"}"
        ),
        1
    );
    assert_eq!(
        metric(
            &m,
            "corsguard_refusals_total{reason=\"origin-not-allowed\"}"
        ),
        2
    );
    assert_eq!(
        metric(
            &m,
            "corsguard_refusals_total{reason=\"header-not-allowed\"}"
        ),
        1
    );
    assert_eq!(metric(&m, "corsguard_upstream_latency_seconds_count"), 4);
    assert_eq!(
        metric(&m, "corsguard_upstream_latency_seconds_bucket{le=\"+Inf\"}"),
        4
    );
    assert_eq!(metric(&m, "corsguard_reloads_total{result=\"ok\"}"), 0);

    send(a, "GET", "/v1/items", &[("origin", APP)]).await;
    let m2 = String::from_utf8(send(admin, "GET", "/metrics", &[]).await.body.to_vec()).unwrap();
    assert_eq!(
        metric(
            &m2,
            "corsguard_requests_total{kind=\"actual\",verdict=\"allowed\"}"
        ),
        2
    );

    let page = send(admin, "GET", "/", &[]).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.one("content-type"), Some("text/html; charset=utf-8"));
    let html = String::from_utf8(page.body.to_vec()).unwrap();
    assert!(html.contains("https://evil.example"), "{html}");
    assert!(html.contains("origin-not-allowed"));
    assert!(html.contains("header-not-allowed"));
    assert!(html.contains("x-evil"));
    assert!(html.contains("Fix:"), "refusals show the engine's fix");
    assert!(
        html.contains("https://&lt;b&gt;x&lt;/b&gt;.example"),
        "origin not escaped"
    );
    assert!(!html.contains("<b>x</b>"));
    assert!(html.contains("id=\"policy-version\">1<"));
    assert!(
        html.contains("https://app.example.com"),
        "active policy shown"
    );
    assert!(!html.contains("src=\"http"), "no external assets");

    let refused: serde_json::Value =
        serde_json::from_slice(&send(admin, "GET", "/refused.json", &[]).await.body).unwrap();
    assert_eq!(refused.as_array().unwrap().len(), 3);
    assert_eq!(refused[0]["refusal"], "header-not-allowed", "newest first");
    assert_eq!(gw.refused_requests().len(), 3);

    let ex = send(
        admin,
        "GET",
        "/explain?origin=https://evil.example&path=/v1",
        &[],
    )
    .await;
    let ex: serde_json::Value = serde_json::from_slice(&ex.body).unwrap();
    assert_eq!(ex["outcome"], "blocked");
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusal_log_is_bounded() {
    let up = upstream().await;
    let policy = corsguard::Policy::from_yaml_str(POLICY).unwrap();
    let config = corsguard_gateway::GatewayConfig::new(policy)
        .listen("127.0.0.1:0".parse().unwrap())
        .upstream(&up.url())
        .unwrap()
        .refusal_log_capacity(5);
    let gw = corsguard_gateway::Gateway::bind(config).await.unwrap();
    for i in 0..12 {
        let o = format!("https://evil{i}.example");
        send(gw.local_addr(), "GET", "/", &[("origin", &o)]).await;
    }
    let r = gw.refused_requests();
    assert_eq!(r.len(), 5);
    assert_eq!(r[0].trace.origin.as_deref(), Some("https://evil11.example"));
    assert_eq!(r[4].trace.origin.as_deref(), Some("https://evil7.example"));
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_endpoint_on_the_gateway_is_opt_in() {
    let up = upstream().await;
    let gw = gateway(POLICY, &up.url(), |_| {}).await;
    let s = send(
        gw.local_addr(),
        "GET",
        "/__corsguard/explain?origin=https://app.example.com",
        &[],
    )
    .await;
    assert_eq!(
        s.body.as_ref(),
        b"app",
        "disabled by default: proxied like any path"
    );
    gw.shutdown().await;

    let policy = corsguard::Policy::from_yaml_str(POLICY).unwrap();
    let config = corsguard_gateway::GatewayConfig::new(policy)
        .listen("127.0.0.1:0".parse().unwrap())
        .upstream(&up.url())
        .unwrap()
        .explain_endpoint(true);
    let gw = corsguard_gateway::Gateway::bind(config).await.unwrap();
    let s = send(
        gw.local_addr(),
        "GET",
        "/__corsguard/explain?origin=https%3A%2F%2Fapp.example.com&method=PUT&headers=x-evil&credentials=include&path=/v1",
        &[("origin", "https://anyone.example")],
    )
    .await;
    assert_eq!(s.status, 200);
    assert_eq!(s.one("access-control-allow-origin"), Some("*"));
    let v: serde_json::Value = serde_json::from_slice(&s.body).unwrap();
    assert_eq!(v["outcome"], "blocked");
    assert_eq!(v["blocked_at"], "preflight");
    assert_eq!(v["preflight"]["refusal"], "header-not-allowed");
    assert!(v["fix"].as_str().unwrap().contains("x-evil"));
    gw.shutdown().await;
}
