//! Runs the shared behaviour tables (`tests/cases/*.yaml`) through the actix-web middleware
//! over real HTTP: one `HttpServer` per table on a loopback ephemeral port, the testkit's
//! app as the default service, every row sent with an exact HTTP/1.1 client.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use actix_web::{App, web};
use corsguard::{Format, Policy};
use corsguard_actix::Cors;
use corsguard_testkit::{load_tables, run_all};

#[test]
fn actix_passes_every_behaviour_row_over_http() {
    let system = actix_web::rt::System::new();
    let total: usize = load_tables().iter().map(|t| t.cases.len()).sum();
    let checked = run_all("actix", |table| {
        system.block_on(async {
            let policy = Policy::load()
                .text(&table.policy, &table.name, Format::Yaml)
                .build()
                .unwrap_or_else(|e| panic!("table {}: policy does not load:\n{e}", table.name));
            let cors = Cors::new(policy);
            let server = serve!(move || {
                App::new()
                    .wrap(cors.clone())
                    .default_service(web::to(common::testkit_app))
            });
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
        "every row must pass through actix (none may rely on `unsupported`)"
    );
}
