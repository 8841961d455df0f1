//! Hot reload under load: a `PolicyHandle` is swapped 200 times between two policies while
//! 8 clients send 200 requests each over keep-alive connections. Every response must be
//! exactly one policy's answer: the two policies differ in every CORS header (allowed
//! origins, methods, expose list, credentials, max-age), so a response mixing them is
//! caught.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use axum::Router;
use corsguard::{Policy, PolicyHandle};
use corsguard_tower::CorsLayer;

use corsguard_testkit::reload::{POLICY_A, POLICY_B};

#[test]
fn every_response_comes_from_exactly_one_policy_while_swapping() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let a = Policy::from_yaml_str(POLICY_A).unwrap();
        let b = Policy::from_yaml_str(POLICY_B).unwrap();

        let handle = PolicyHandle::new(a.clone());
        let app = Router::new()
            .fallback(|| async { "app" })
            .layer(CorsLayer::from_handle(handle.clone()));
        let server = common::serve(app).await;

        corsguard_testkit::reload::run(server.addr, &handle, a, b).await;
    });
}
