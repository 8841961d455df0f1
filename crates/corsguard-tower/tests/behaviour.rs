//! Runs the shared behaviour tables (`tests/cases/*.yaml`) through `CorsLayer` over real
//! HTTP: one axum server per table on a loopback ephemeral port, the testkit's app as the
//! catch-all handler, every row sent with an exact HTTP/1.1 client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::Router;
use corsguard::{Format, Policy};
use corsguard_testkit::{load_tables, run_all};
use corsguard_tower::CorsLayer;

#[test]
fn tower_passes_every_behaviour_row_over_http() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let total: usize = load_tables().iter().map(|t| t.cases.len()).sum();
    let checked = run_all("tower", |table| {
        rt.block_on(async {
            let policy = Policy::load()
                .text(&table.policy, &table.name, Format::Yaml)
                .build()
                .unwrap_or_else(|e| panic!("table {}: policy does not load:\n{e}", table.name));
            let app = Router::new()
                .fallback(common::testkit_app)
                .layer(CorsLayer::new(policy));
            let server = common::serve(app).await;
            let origin = server.origin();
            let mut observed = Vec::with_capacity(table.cases.len());
            for case in &table.cases {
                observed.push(common::send_case(server.addr, case, &origin).await);
            }
            (origin, observed)
        })
    });
    assert_eq!(
        checked, total,
        "every row must pass through tower (none may rely on `unsupported`)"
    );
}
