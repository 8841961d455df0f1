//! Layer-order tests over real HTTP: CORS outside auth, outside the router's 404/405,
//! outside error mapping (`HandleErrorLayer`) and catch-panic; handler-set CORS headers;
//! `on_reject: forbid`; shadow mode; nested routers; and the service-level contract
//! (`Err` passes through, `Clone + Send + Sync`, nothing panics in `poll_ready`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use common::{all, lines, one, send, serve};
use corsguard::Policy;
use corsguard_tower::{Cors, CorsLayer};
use tower::{BoxError, ServiceBuilder, ServiceExt};

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

/// An auth middleware that answers 401 unless `Authorization` is present, counting the
/// requests it sees.
async fn auth(counter: Arc<AtomicUsize>, req: Request, next: Next) -> Response {
    counter.fetch_add(1, Ordering::SeqCst);
    if req.headers().contains_key("authorization") {
        next.run(req).await
    } else {
        (StatusCode::UNAUTHORIZED, "log in first").into_response()
    }
}

#[tokio::test]
async fn preflight_skips_auth_and_the_401_carries_acao() {
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let app = Router::new()
        .route(
            "/v1/items",
            get(|| async { "items" }).put(|| async { "put" }),
        )
        .layer(middleware::from_fn(move |req, next| {
            auth(counter.clone(), req, next)
        }))
        .layer(CorsLayer::new(credentialed()));
    let server = serve(app).await;

    // the preflight carries no credentials (browsers never send them on preflights)
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
    assert_eq!(
        seen.load(Ordering::SeqCst),
        0,
        "the preflight reached the auth layer"
    );

    // the actual request without credentials: auth's 401, readable by the page
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
    assert_eq!(seen.load(Ordering::SeqCst), 1);

    // with credentials: the handler answers, with CORS headers
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
    assert_eq!(seen.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn router_404_and_405_still_get_their_preflight_and_cors_headers() {
    let app = Router::new()
        .route("/v1/items", get(|| async { "items" }))
        .layer(CorsLayer::new(credentialed()));
    let server = serve(app).await;

    // no such route: the preflight is still answered
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
    assert_eq!(
        one(&o, "access-control-allow-methods"),
        Some("GET,PUT,DELETE")
    );

    // a route without an OPTIONS handler: axum alone would answer 405
    let (o, _) = send(
        server.addr,
        "OPTIONS",
        "/v1/items",
        None,
        &preflight("PUT", ""),
    )
    .await;
    assert_eq!(o.status, 204);
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));

    // the router's own 404 and 405 carry CORS headers, so the page sees them
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
    let (o, _) = send(
        server.addr,
        "DELETE",
        "/v1/items",
        None,
        &lines(&[("origin", APP)]),
    )
    .await;
    assert_eq!(o.status, 405);
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));
    assert_eq!(one(&o, "access-control-allow-credentials"), Some("true"));

    // a bare OPTIONS (no Access-Control-Request-Method) is not a preflight: the router
    // answers it (405 here), decorated
    let (o, _) = send(
        server.addr,
        "OPTIONS",
        "/v1/items",
        None,
        &lines(&[("origin", APP)]),
    )
    .await;
    assert_eq!(o.status, 405);
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));
    assert!(all(&o, "access-control-allow-methods").is_empty());
}

#[tokio::test]
async fn handler_set_acao_is_replaced_and_its_vary_merged() {
    async fn handler() -> Response {
        let mut res = "hello".into_response();
        let h = res.headers_mut();
        h.append("access-control-allow-origin", HeaderValue::from_static("*"));
        h.append(
            "access-control-allow-origin",
            HeaderValue::from_static("https://other.example"),
        );
        h.append(
            "access-control-allow-credentials",
            HeaderValue::from_static("false"),
        );
        h.append("vary", HeaderValue::from_static("Accept-Encoding"));
        h.append("vary", HeaderValue::from_static("Cookie"));
        res
    }
    let app = Router::new()
        .route("/", get(handler))
        .layer(CorsLayer::new(credentialed()));
    let server = serve(app).await;

    let (o, _) = send(server.addr, "GET", "/", None, &lines(&[("origin", APP)])).await;
    assert_eq!(o.status, 200);
    assert_eq!(all(&o, "access-control-allow-origin"), [APP]);
    assert_eq!(all(&o, "access-control-allow-credentials"), ["true"]);
    assert_eq!(all(&o, "vary"), ["Accept-Encoding, Cookie, Origin"]);

    // a refused origin: the handler's ACAO is removed, its Vary kept
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

#[tokio::test]
async fn forbid_answers_403_without_running_the_handler() {
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let app = Router::new()
        .fallback(move || {
            let r = r.clone();
            async move {
                r.fetch_add(1, Ordering::SeqCst);
                "ran"
            }
        })
        .layer(CorsLayer::new(policy(
            "defaults:
  allow_origins: ['https://app.example.com']
  allow_methods: [PUT]
  on_reject: forbid
",
        )));
    let server = serve(app).await;
    let evil = lines(&[("origin", "https://evil.example")]);

    let (o, body) = send(server.addr, "POST", "/orders", None, &evil).await;
    assert_eq!(o.status, 403);
    assert!(body.is_empty());
    assert!(all(&o, "access-control-allow-origin").is_empty());
    assert_eq!(one(&o, "vary"), Some("Origin"));
    assert_eq!(runs.load(Ordering::SeqCst), 0);

    // a refused preflight (method) is 403 too
    let (o, _) = send(
        server.addr,
        "OPTIONS",
        "/orders",
        None,
        &preflight("DELETE", ""),
    )
    .await;
    assert_eq!(o.status, 403);
    assert_eq!(runs.load(Ordering::SeqCst), 0);

    // allowed and non-CORS requests run the handler
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
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn shadow_mode_changes_no_response() {
    let shadow = policy(
        "defaults:
  allow_origins: ['https://app.example.com']
  allow_methods: [PUT]
  allow_credentials: true
  on_reject: forbid
  mode: shadow
",
    );
    let app = || {
        Router::new()
            .route("/v1/items", get(|| async { "items" }))
            .fallback(common::testkit_app)
    };
    let with = serve(app().layer(CorsLayer::new(shadow))).await;
    let without = serve(app()).await;

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
            o.headers
                .iter()
                .filter(|(n, _)| n != "date")
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(a.status, b.status, "{method} {path}");
        assert_eq!(strip(&a), strip(&b), "{method} {path}");
        assert_eq!(body_a, body_b, "{method} {path}");
    }
}

#[tokio::test]
async fn errors_mapped_inside_the_layer_get_cors_headers() {
    // a fallible stack: timeout → HandleErrorLayer → (outermost) CorsLayer
    let app = Router::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route("/fast", get(|| async { "fast" }))
        .layer(
            ServiceBuilder::new()
                .layer(CorsLayer::new(credentialed()))
                .layer(HandleErrorLayer::new(|e: BoxError| async move {
                    if e.is::<tower::timeout::error::Elapsed>() {
                        (StatusCode::SERVICE_UNAVAILABLE, "timed out")
                    } else {
                        (StatusCode::INTERNAL_SERVER_ERROR, "error")
                    }
                }))
                .timeout(Duration::from_millis(100)),
        );
    let server = serve(app).await;

    let (o, body) = send(
        server.addr,
        "GET",
        "/slow",
        None,
        &lines(&[("origin", APP)]),
    )
    .await;
    assert_eq!(o.status, 503);
    assert_eq!(&body[..], b"timed out");
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));
    assert_eq!(one(&o, "access-control-allow-credentials"), Some("true"));
    assert_eq!(one(&o, "vary"), Some("Origin"));

    let (o, _) = send(
        server.addr,
        "GET",
        "/fast",
        None,
        &lines(&[("origin", APP)]),
    )
    .await;
    assert_eq!(o.status, 200);
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));
}

#[tokio::test]
async fn a_fallible_service_error_mapped_by_handle_error_layer() {
    // a plain tower service that fails: HandleErrorLayer turns its error into a response
    // inside CorsLayer, so that response is decorated like any other
    let failing = tower::service_fn(|req: Request| async move {
        if req.uri().path() == "/fail" {
            Err::<Response, BoxError>("backend down".into())
        } else {
            Ok("ok".into_response())
        }
    });
    let svc = ServiceBuilder::new()
        .layer(CorsLayer::new(credentialed()))
        .layer(HandleErrorLayer::new(|e: BoxError| async move {
            (StatusCode::BAD_GATEWAY, e.to_string())
        }))
        .service(failing);
    let server = serve(Router::new().fallback_service(svc)).await;

    let (o, body) = send(
        server.addr,
        "GET",
        "/fail",
        None,
        &lines(&[("origin", APP)]),
    )
    .await;
    assert_eq!(o.status, 502);
    assert_eq!(&body[..], b"backend down");
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));
    assert_eq!(one(&o, "vary"), Some("Origin"));

    let (o, _) = send(server.addr, "OPTIONS", "/fail", None, &preflight("PUT", "")).await;
    assert_eq!(o.status, 204);
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));
}

#[tokio::test]
async fn an_unmapped_inner_error_passes_through_unchanged() {
    let failing = tower::service_fn(|_req: http::Request<()>| async {
        Err::<http::Response<String>, &'static str>("boom")
    });
    let svc = Cors::new(failing, credentialed());
    let req = http::Request::get("/")
        .header("origin", APP)
        .body(())
        .unwrap();
    assert_eq!(svc.clone().oneshot(req).await.unwrap_err(), "boom");

    // a preflight never calls it, so it succeeds
    let req = http::Request::options("/")
        .header("origin", APP)
        .header("access-control-request-method", "PUT")
        .body(())
        .unwrap();
    let res = svc.oneshot(req).await.unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(res.headers()["access-control-allow-origin"], APP);
}

#[tokio::test]
async fn panics_caught_inside_the_layer_get_cors_headers() {
    let app = Router::new()
        .route(
            "/panic",
            get(|| async {
                if true {
                    panic!("handler bug (expected in this test)");
                }
                "unreachable"
            }),
        )
        .layer(
            ServiceBuilder::new()
                .layer(CorsLayer::new(credentialed()))
                .layer(tower_http::catch_panic::CatchPanicLayer::new()),
        );
    let server = serve(app).await;
    let (o, _) = send(
        server.addr,
        "GET",
        "/panic",
        None,
        &lines(&[("origin", APP)]),
    )
    .await;
    assert_eq!(o.status, 500);
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));
    assert_eq!(one(&o, "vary"), Some("Origin"));
}

#[tokio::test]
async fn path_rules_see_the_full_path_of_nested_routers() {
    let p = policy(
        "defaults:
  allow_origins: ['https://app.example.com']
paths:
  - path: /api/public/
    allow_origins: ['*']
  - path: /api/legacy/
    cors: false
",
    );
    let api = Router::new()
        .route("/public/logo", get(|| async { "logo" }))
        .route("/legacy/x", get(|| async { "legacy" }))
        .route("/items", get(|| async { "items" }));
    let app = Router::new().nest("/api", api).layer(CorsLayer::new(p));
    let server = serve(app).await;

    let evil = lines(&[("origin", "https://evil.example")]);
    let (o, _) = send(server.addr, "GET", "/api/public/logo", None, &evil).await;
    assert_eq!(o.status, 200);
    assert_eq!(one(&o, "access-control-allow-origin"), Some("*"));
    let (o, _) = send(server.addr, "GET", "/api/legacy/x", None, &evil).await;
    assert_eq!(o.status, 200);
    assert!(
        all(&o, "vary").is_empty(),
        "cors: false must leave it alone"
    );
    let (o, _) = send(server.addr, "GET", "/api/items", None, &evil).await;
    assert!(all(&o, "access-control-allow-origin").is_empty());
    assert_eq!(one(&o, "vary"), Some("Origin"));
}

/// The layer matches rules on the path the router routes: a path that names a protected
/// route through dot segments or encoded slashes never gets there under a laxer rule.
#[tokio::test]
async fn dot_segments_and_encoded_slashes_cannot_borrow_a_laxer_rule() {
    let p = policy(
        "defaults:
  allow_origins: ['https://app.example.com']
paths:
  - path: /api/public/
    allow_origins: ['*']
",
    );
    let api = Router::new()
        .route("/public/logo", get(|| async { "logo" }))
        .route("/items", get(|| async { "private items" }));
    let app = Router::new().nest("/api", api).layer(CorsLayer::new(p));
    let server = serve(app).await;
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

#[tokio::test]
async fn host_rules_use_the_host_header() {
    let p = policy(
        "defaults:
  allow_origins: ['https://app.example.com']
paths:
  - hosts: ['*.tenant.test']
    allow_origins: ['https://tenant-app.example.com']
",
    );
    let server = serve(
        Router::new()
            .fallback(common::testkit_app)
            .layer(CorsLayer::new(p)),
    )
    .await;
    let tenant = lines(&[("origin", "https://tenant-app.example.com")]);
    let (o, _) = send(server.addr, "GET", "/", Some("acme.tenant.test"), &tenant).await;
    assert_eq!(
        one(&o, "access-control-allow-origin"),
        Some("https://tenant-app.example.com")
    );
    let (o, _) = send(server.addr, "GET", "/", None, &tenant).await;
    assert!(all(&o, "access-control-allow-origin").is_empty());
}

#[test]
fn layer_and_service_are_clone_send_sync_and_static() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    check::<CorsLayer>();
    check::<Cors<Router>>();
    fn future_is_send<S>()
    where
        S: tower::Service<http::Request<Body>, Response = http::Response<Body>>,
        S::Future: Send,
        corsguard_tower::ResponseFuture<S::Future, Body>: Send,
    {
    }
    future_is_send::<Router>();
}

#[tokio::test]
async fn poll_ready_is_the_inner_services_and_never_panics() {
    let inner = tower::service_fn(|_req: http::Request<()>| async {
        Ok::<_, Infallible>(http::Response::new(String::new()))
    });
    let mut svc = Cors::new(inner, credentialed());
    for _ in 0..3 {
        std::future::poll_fn(|cx| tower::Service::poll_ready(&mut svc, cx))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn wrapping_the_whole_router_answers_before_routing() {
    // `Router::layer` wraps each route and the fallback, so axum's method router may add
    // an `Allow` header to a preflight answer; wrapping the router as one service does not.
    let router = Router::new().route("/v1/items", get(|| async { "items" }));
    let app = tower::Layer::layer(&CorsLayer::new(credentialed()), router);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            axum::ServiceExt::<Request>::into_make_service(app),
        )
        .await
        .unwrap();
    });
    let (o, _) = send(addr, "OPTIONS", "/v1/items", None, &preflight("PUT", "")).await;
    assert_eq!(o.status, 204);
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));
    assert!(all(&o, "allow").is_empty(), "{:?}", o.headers);
    let (o, _) = send(addr, "GET", "/v1/items", None, &lines(&[("origin", APP)])).await;
    assert_eq!(o.status, 200);
    assert_eq!(one(&o, "access-control-allow-origin"), Some(APP));
    task.abort();
}
