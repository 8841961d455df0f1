//! Middleware-order tests over real HTTP: CORS outside an auth middleware (which answers
//! 401 with an `Err`), outside the router's 404, handler errors (`ResponseError`), handler-set
//! CORS headers, `on_reject: forbid`, shadow mode, `App::wrap` and `Scope::wrap`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, Error, HttpResponse, error, web};
use common::{all, lines, one, send};
use corsguard::Policy;
use corsguard_actix::Cors;

const APP: &str = "https://app.example.com";

/// Method, path, header lines.
type ShadowRequest = (&'static str, &'static str, Vec<(String, String)>);

fn policy(yaml: &str) -> Policy {
    Policy::from_yaml_str(yaml).unwrap_or_else(|e| panic!("{e}"))
}

fn credentialed() -> Policy {
    policy(
        "defaults:
  allow_origins: ['https://app.example.com']
  allow_methods: [GET, PUT, DELETE]
  allow_headers: [authorization, content-type]
  expose_headers: [x-request-id]
  allow_credentials: true
  max_age: 600
",
    )
}

fn preflight(method: &str, headers: &str) -> Vec<(String, String)> {
    let mut h = lines(&[("origin", APP), ("access-control-request-method", method)]);
    if !headers.is_empty() {
        h.push(("access-control-request-headers".into(), headers.into()));
    }
    h
}

static AUTH_SEEN: AtomicUsize = AtomicUsize::new(0);

/// Auth middleware failing with an `Err` (401) unless `Authorization` is present.
async fn auth(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    AUTH_SEEN.fetch_add(1, Ordering::SeqCst);
    if req.headers().contains_key("authorization") {
        next.call(req).await
    } else {
        Err(error::ErrorUnauthorized("log in first"))
    }
}

#[actix_web::test]
async fn preflight_skips_auth_and_the_401_error_carries_acao() {
    let cors = Cors::new(credentialed());
    let server = serve!(move || {
        App::new()
            .route("/v1/items", web::put().to(|| async { "put" }))
            .wrap(from_fn(auth))
            .wrap(cors.clone())
    });

    let (o, body) = send(
        server.addr,
        "OPTIONS",
        "/v1/items",
        None,
        &preflight("PUT", "authorization,content-type"),
    )
    .await;
    assert_eq!(o.status, 204);
    assert!(body.is_empty());
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));
    assert_eq!(one(&o, "access-control-allow-credentials"), Some("true"));
    assert_eq!(
        one(&o, "access-control-allow-methods"),
        Some("GET,PUT,DELETE")
    );
    assert_eq!(
        one(&o, "access-control-allow-headers"),
        Some("authorization,content-type")
    );
    assert_eq!(one(&o, "access-control-max-age"), Some("600"));
    assert_eq!(one(&o, "vary"), Some("Origin"));
    assert_eq!(
        AUTH_SEEN.load(Ordering::SeqCst),
        0,
        "preflight reached auth"
    );

    // the auth middleware's `Err` becomes its 401 response, decorated
    let (o, body) = send(
        server.addr,
        "PUT",
        "/v1/items",
        None,
        &lines(&[("origin", APP)]),
    )
    .await;
    assert_eq!(o.status, 401);
    assert_eq!(&body[..], b"log in first");
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));
    assert_eq!(one(&o, "access-control-allow-credentials"), Some("true"));
    assert_eq!(
        one(&o, "access-control-expose-headers"),
        Some("x-request-id")
    );
    assert_eq!(one(&o, "vary"), Some("Origin"));
    assert_eq!(AUTH_SEEN.load(Ordering::SeqCst), 1);

    let (o, body) = send(
        server.addr,
        "PUT",
        "/v1/items",
        None,
        &lines(&[("origin", APP), ("authorization", "Bearer t")]),
    )
    .await;
    assert_eq!(o.status, 200);
    assert_eq!(&body[..], b"put");
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));
}

#[actix_web::test]
async fn handler_errors_get_cors_headers() {
    let cors = Cors::new(credentialed());
    let server = serve!(move || {
        App::new()
            .route(
                "/private",
                web::get().to(|| async {
                    Err::<HttpResponse, Error>(error::ErrorUnauthorized("who are you?"))
                }),
            )
            .route(
                "/broken",
                web::get().to(|| async {
                    Err::<HttpResponse, Error>(error::ErrorInternalServerError("db down"))
                }),
            )
            .wrap(cors.clone())
    });
    let (o, body) = send(
        server.addr,
        "GET",
        "/private",
        None,
        &lines(&[("origin", APP)]),
    )
    .await;
    assert_eq!(o.status, 401);
    assert_eq!(&body[..], b"who are you?");
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));
    assert_eq!(one(&o, "access-control-allow-credentials"), Some("true"));
    assert_eq!(one(&o, "vary"), Some("Origin"));
    let (o, _) = send(
        server.addr,
        "GET",
        "/broken",
        None,
        &lines(&[("origin", APP)]),
    )
    .await;
    assert_eq!(o.status, 500);
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));
}

#[actix_web::test]
async fn unrouted_paths_get_their_preflight_and_404_decorated() {
    let cors = Cors::new(credentialed());
    let server = serve!(move || {
        App::new()
            .route("/v1/items", web::get().to(|| async { "items" }))
            .wrap(cors.clone())
    });
    let (o, _) = send(
        server.addr,
        "OPTIONS",
        "/nope",
        None,
        &preflight("DELETE", ""),
    )
    .await;
    assert_eq!(o.status, 204);
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));
    let (o, _) = send(
        server.addr,
        "OPTIONS",
        "/v1/items",
        None,
        &preflight("PUT", ""),
    )
    .await;
    assert_eq!(o.status, 204);
    let (o, _) = send(
        server.addr,
        "GET",
        "/nope",
        None,
        &lines(&[("origin", APP)]),
    )
    .await;
    assert_eq!(o.status, 404);
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));
    assert_eq!(one(&o, "vary"), Some("Origin"));
    // an OPTIONS without Access-Control-Request-Method is the router's business
    let (o, _) = send(
        server.addr,
        "OPTIONS",
        "/v1/items",
        None,
        &lines(&[("origin", APP)]),
    )
    .await;
    assert_eq!(o.status, 404);
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));
    assert!(all(&o, "access-control-allow-methods").is_empty());
}

#[actix_web::test]
async fn handler_set_acao_is_replaced_and_its_vary_merged() {
    let cors = Cors::new(credentialed());
    let server = serve!(move || {
        App::new()
            .route(
                "/",
                web::get().to(|| async {
                    HttpResponse::Ok()
                        .append_header(("access-control-allow-origin", "*"))
                        .append_header(("access-control-allow-origin", "https://other.example"))
                        .append_header(("access-control-allow-credentials", "false"))
                        .append_header(("vary", "Accept-Encoding"))
                        .append_header(("vary", "Cookie"))
                        .body("hello")
                }),
            )
            .wrap(cors.clone())
    });
    let (o, _) = send(server.addr, "GET", "/", None, &lines(&[("origin", APP)])).await;
    assert_eq!(o.status, 200);
    assert_eq!(all(&o, "access-control-allow-origin"), [APP]);
    assert_eq!(all(&o, "access-control-allow-credentials"), ["true"]);
    assert_eq!(all(&o, "vary"), ["Accept-Encoding, Cookie, Origin"]);

    let (o, _) = send(
        server.addr,
        "GET",
        "/",
        None,
        &lines(&[("origin", "https://evil.example")]),
    )
    .await;
    assert!(all(&o, "access-control-allow-origin").is_empty());
    assert!(all(&o, "access-control-allow-credentials").is_empty());
    assert_eq!(all(&o, "vary"), ["Accept-Encoding, Cookie, Origin"]);
}

static FORBID_RUNS: AtomicUsize = AtomicUsize::new(0);

#[actix_web::test]
async fn forbid_answers_403_without_running_the_handler() {
    let cors = Cors::new(policy(
        "defaults:
  allow_origins: ['https://app.example.com']
  allow_methods: [PUT]
  on_reject: forbid
",
    ));
    let server = serve!(move || {
        App::new()
            .default_service(web::to(|| async {
                FORBID_RUNS.fetch_add(1, Ordering::SeqCst);
                "ran"
            }))
            .wrap(cors.clone())
    });
    let evil = lines(&[("origin", "https://evil.example")]);
    let (o, body) = send(server.addr, "POST", "/orders", None, &evil).await;
    assert_eq!(o.status, 403);
    assert!(body.is_empty());
    assert!(all(&o, "access-control-allow-origin").is_empty());
    assert_eq!(one(&o, "vary"), Some("Origin"));
    let (o, _) = send(
        server.addr,
        "OPTIONS",
        "/orders",
        None,
        &preflight("DELETE", ""),
    )
    .await;
    assert_eq!(o.status, 403);
    assert_eq!(FORBID_RUNS.load(Ordering::SeqCst), 0);

    let (o, body) = send(
        server.addr,
        "PUT",
        "/orders",
        None,
        &lines(&[("origin", APP)]),
    )
    .await;
    assert_eq!(o.status, 200);
    assert_eq!(&body[..], b"ran");
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));
    let (o, _) = send(server.addr, "POST", "/orders", None, &[]).await;
    assert_eq!(o.status, 200);
    assert_eq!(FORBID_RUNS.load(Ordering::SeqCst), 2);
}

#[actix_web::test]
async fn shadow_mode_changes_no_response() {
    let cors = Cors::new(policy(
        "defaults:
  allow_origins: ['https://app.example.com']
  allow_methods: [PUT]
  allow_credentials: true
  on_reject: forbid
  mode: shadow
",
    ));
    let with = serve!(move || {
        App::new()
            .route("/v1/items", web::get().to(|| async { "items" }))
            .default_service(web::to(common::testkit_app))
            .wrap(cors.clone())
    });
    let without = serve!(|| {
        App::new()
            .route("/v1/items", web::get().to(|| async { "items" }))
            .default_service(web::to(common::testkit_app))
    });
    let requests: Vec<ShadowRequest> = vec![
        ("GET", "/v1/items", lines(&[("origin", APP)])),
        (
            "GET",
            "/v1/items",
            lines(&[("origin", "https://evil.example")]),
        ),
        (
            "POST",
            "/v1/items",
            lines(&[("origin", "https://evil.example")]),
        ),
        ("OPTIONS", "/v1/items", preflight("PUT", "x-foo")),
        ("OPTIONS", "/other", preflight("DELETE", "")),
        (
            "GET",
            "/other",
            lines(&[
                ("origin", APP),
                ("x-app-header", "access-control-allow-origin: *"),
                ("x-app-header", "vary: Cookie"),
            ]),
        ),
        ("GET", "/v1/items", vec![]),
    ];
    for (method, path, headers) in &requests {
        let (a, body_a) = send(with.addr, method, path, None, headers).await;
        let (b, body_b) = send(without.addr, method, path, None, headers).await;
        let strip = |o: &corsguard_testkit::Observed| {
            let mut h: Vec<_> = o
                .headers
                .iter()
                .filter(|(n, _)| n != "date")
                .cloned()
                .collect();
            h.sort();
            h
        };
        assert_eq!(a.status, b.status, "{method} {path}");
        assert_eq!(strip(&a), strip(&b), "{method} {path}");
        assert_eq!(body_a, body_b, "{method} {path}");
    }
}

/// The middleware matches rules on the path actix routes: a path that names a protected
/// route through dot segments or encoded slashes never gets there under a laxer rule.
#[actix_web::test]
async fn dot_segments_and_encoded_slashes_cannot_borrow_a_laxer_rule() {
    let cors = Cors::new(policy(
        "defaults:
  allow_origins: ['https://app.example.com']
paths:
  - path: /api/public/
    allow_origins: ['*']
",
    ));
    let server = serve!(move || {
        App::new().service(
            web::scope("/api")
                .route("/public/logo", web::get().to(|| async { "logo" }))
                .route("/items", web::get().to(|| async { "private items" }))
                .wrap(cors.clone()),
        )
    });
    let evil = lines(&[("origin", "https://evil.example")]);
    for path in [
        "/api/public/../items",
        "/api/public/%2e%2e/items",
        "/api/public/..%2fitems",
        "/api/public/..%2Fitems",
        "/api/public/%2E%2E%2Fitems",
        "/api/public//../items",
    ] {
        let (o, body) = send(server.addr, "GET", path, None, &evil).await;
        let readable = !all(&o, "access-control-allow-origin").is_empty();
        assert!(
            !(readable && body.as_ref() == b"private items"),
            "{path}: the private route answered under the /api/public/ rule"
        );
    }
}

#[actix_web::test]
async fn scope_wrap_applies_to_the_scope_only_and_sees_the_full_path() {
    let cors = Cors::new(policy(
        "defaults:
  allow_origins: ['https://app.example.com']
  allow_methods: [PUT]
paths:
  - path: /api/public/
    allow_origins: ['*']
",
    ));
    let server = serve!(move || {
        App::new()
            .service(
                web::scope("/api")
                    .route("/public/logo", web::get().to(|| async { "logo" }))
                    .route("/items", web::get().to(|| async { "items" }))
                    .wrap(cors.clone()),
            )
            .route("/health", web::get().to(|| async { "ok" }))
    });
    // the path rule `/api/public/` matches: the scope does not strip its prefix
    let evil = lines(&[("origin", "https://evil.example")]);
    let (o, _) = send(server.addr, "GET", "/api/public/logo", None, &evil).await;
    assert_eq!(o.status, 200);
    assert_eq!(one(&o, "access-control-allow-origin"), Some("*"));
    let (o, _) = send(server.addr, "GET", "/api/items", None, &evil).await;
    assert!(all(&o, "access-control-allow-origin").is_empty());
    assert_eq!(one(&o, "vary"), Some("Origin"));
    let (o, _) = send(
        server.addr,
        "GET",
        "/api/items",
        None,
        &lines(&[("origin", APP)]),
    )
    .await;
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));
    // inside the scope, even an unrouted path gets its preflight answered
    let (o, _) = send(
        server.addr,
        "OPTIONS",
        "/api/nope",
        None,
        &preflight("PUT", ""),
    )
    .await;
    assert_eq!(o.status, 204);
    assert_eq!(one(&o, "access-control-allow-methods"), Some("PUT"));
    // outside the scope: no CORS at all
    let (o, _) = send(
        server.addr,
        "GET",
        "/health",
        None,
        &lines(&[("origin", APP)]),
    )
    .await;
    assert_eq!(o.status, 200);
    assert!(all(&o, "access-control-allow-origin").is_empty());
    assert!(all(&o, "vary").is_empty());
}

#[actix_web::test]
async fn host_rules_use_the_host_header() {
    let cors = Cors::new(policy(
        "defaults:
  allow_origins: ['https://app.example.com']
paths:
  - hosts: ['*.tenant.test']
    allow_origins: ['https://tenant-app.example.com']
",
    ));
    let server = serve!(move || {
        App::new()
            .default_service(web::to(common::testkit_app))
            .wrap(cors.clone())
    });
    let tenant = lines(&[("origin", "https://tenant-app.example.com")]);
    let (o, _) = send(server.addr, "GET", "/", Some("acme.tenant.test"), &tenant).await;
    assert_eq!(
        one(&o, "access-control-allow-origin"),
        Some("https://tenant-app.example.com")
    );
    // X-Forwarded-Host is not the Host
    let mut spoofed = tenant.clone();
    spoofed.push(("x-forwarded-host".into(), "acme.tenant.test".into()));
    let (o, _) = send(server.addr, "GET", "/", None, &spoofed).await;
    assert!(all(&o, "access-control-allow-origin").is_empty());
}

#[test]
fn middleware_is_clone_send_sync_and_static() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    check::<Cors>();
}
