//! Hot reload under load: a `PolicyHandle` is swapped 200 times between two policies while
//! 8 clients send 200 requests each over keep-alive connections. Every response must be
//! exactly one policy's answer: the two policies differ in every CORS header (allowed
//! origins, methods, expose list, credentials, max-age), so a response mixing them is
//! caught.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[macro_use]
mod common;

use actix_web::{App, web};
use corsguard::{Policy, PolicyHandle};
use corsguard_actix::Cors;

use corsguard_testkit::reload::{POLICY_A, POLICY_B};

#[test]
fn every_response_comes_from_exactly_one_policy_while_swapping() {
    actix_web::rt::System::new().block_on(async {
        let a = Policy::from_yaml_str(POLICY_A).unwrap();
        let b = Policy::from_yaml_str(POLICY_B).unwrap();

        let handle = PolicyHandle::new(a.clone());
        let cors = Cors::from_handle(handle.clone());
        let server = serve!(move || {
            App::new()
                .default_service(web::to(|| async { "app" }))
                .wrap(cors.clone())
        });

        corsguard_testkit::reload::run(server.addr, &handle, a, b).await;
    });
}
