//! Logging: a refused request logs exactly one `info` line (target `corsguard`) with the
//! reason; an allowed one logs its trace at `debug` and nothing at `info`. Events are
//! captured by a process-wide `tracing_subscriber` layer (this test binary only), and
//! requests go over real HTTP to an axum server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use corsguard::Policy;
use corsguard_tower::CorsLayer;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{Layer, Registry};

#[derive(Debug, Clone)]
struct Captured {
    level: Level,
    target: String,
    fields: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Captured>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut s = String::new();
        let _ = write!(s, "{value:?}");
        self.0.insert(field.name().to_string(), s);
    }
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.0.lock().unwrap().push(Captured {
            level: *event.metadata().level(),
            target: event.metadata().target().to_string(),
            fields,
        });
    }
}

fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let c = Capture::default();
        tracing::subscriber::set_global_default(Registry::default().with(c.clone())).unwrap();
        c
    })
}

/// The `corsguard` events whose fields mention `needle`.
fn events_about(needle: &str) -> Vec<Captured> {
    capture()
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|e| e.target == "corsguard" && e.fields.values().any(|v| v.contains(needle)))
        .cloned()
        .collect()
}

async fn server() -> common::Server {
    let policy = Policy::from_yaml_str(
        "defaults: {allow_origins: ['https://app.example.com'], allow_methods: [PUT]}",
    )
    .unwrap();
    common::serve(
        Router::new()
            .fallback(|| async { "app" })
            .layer(CorsLayer::new(policy)),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_request_logs_one_info_line_with_the_reason() {
    capture();
    let server = server().await;
    let origin = "https://refused-1.example";
    let (o, _) = common::send(
        server.addr,
        "GET",
        "/orders",
        None,
        &common::lines(&[("origin", origin)]),
    )
    .await;
    assert_eq!(o.status, 200);

    let info: Vec<Captured> = events_about(origin)
        .into_iter()
        .filter(|e| e.level == Level::INFO)
        .collect();
    assert_eq!(info.len(), 1, "{info:#?}");
    let e = &info[0];
    let message = &e.fields["message"];
    assert!(
        message.starts_with("CORS request refused: ")
            && message.contains(&format!("origin `{origin}` is not allowed")),
        "{message}"
    );
    assert!(!message.contains('\n'), "one line: {message:?}");
    assert_eq!(e.fields["refusal"], "origin-not-allowed");
    assert_eq!(e.fields["path"], "/orders");
    assert_eq!(e.fields["method"], "GET");

    // the full trace went out at debug
    assert!(
        events_about(origin).iter().any(|e| e.level == Level::DEBUG),
        "no debug trace"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_preflight_names_the_method() {
    capture();
    let server = server().await;
    let (o, _) = common::send(
        server.addr,
        "OPTIONS",
        "/orders",
        None,
        &common::lines(&[
            ("origin", "https://app.example.com"),
            ("access-control-request-method", "PATCH"),
        ]),
    )
    .await;
    assert_eq!(o.status, 204);
    let info: Vec<Captured> = events_about("method `PATCH` is not allowed")
        .into_iter()
        .filter(|e| e.level == Level::INFO)
        .collect();
    assert_eq!(info.len(), 1, "{info:#?}");
    assert_eq!(info[0].fields["refusal"], "method-not-allowed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allowed_request_logs_nothing_at_info() {
    capture();
    let server = server().await;
    let (o, _) = common::send(
        server.addr,
        "GET",
        "/allowed-path-for-tracing",
        None,
        &common::lines(&[("origin", "https://app.example.com")]),
    )
    .await;
    assert_eq!(o.status, 200);
    let events = events_about("/allowed-path-for-tracing");
    assert!(events.iter().all(|e| e.level != Level::INFO), "{events:#?}");
    assert!(
        events.iter().any(|e| e.level == Level::DEBUG),
        "the decision's trace must be logged at debug: {events:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attacker_chosen_values_are_cut_in_log_lines() {
    capture();
    let server = server().await;
    let origin = format!("https://{}.refused-long.example", "o".repeat(300));
    let path = format!("/{}", "p".repeat(10_000));
    let acrh = format!("x-{}", "h".repeat(3000));
    let (o, _) = common::send(
        server.addr,
        "OPTIONS",
        &path,
        None,
        &common::lines(&[
            ("origin", "https://app.example.com"),
            ("access-control-request-method", "PUT"),
            ("access-control-request-headers", &acrh),
        ]),
    )
    .await;
    assert_eq!(o.status, 204);
    let (_, _) = common::send(
        server.addr,
        "GET",
        &path,
        None,
        &common::lines(&[("origin", &origin)]),
    )
    .await;
    let lines: Vec<Captured> = capture()
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|e| {
            e.target == "corsguard"
                && e.level == Level::INFO
                && e.fields.values().any(|v| v.contains("pppppppp"))
        })
        .cloned()
        .collect();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    for e in &lines {
        let total: usize = e.fields.values().map(String::len).sum();
        assert!(total < 2048, "a {total}-byte log line: {e:#?}");
        assert!(
            e.fields["path"].ends_with("…(10001 bytes)"),
            "{:?}",
            e.fields["path"]
        );
    }
}
