//! `corsguard export nginx` in a real nginx: every behaviour table's policy is exported, the
//! output is included in a complete nginx.conf (everything under a temporary prefix, loopback
//! port), nginx proxies to the shared test app, and every row of `tests/cases/*.yaml` is sent
//! over raw HTTP/1.1 and checked with the shared testkit (how nginx is started:
//! `engines/mod.rs`).
//!
//! nginx must be installed (`/usr/sbin/nginx`, as `scripts/test` ensures); set
//! `CORSGUARD_SKIP_NGINX=1` to skip explicitly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod engines;

#[test]
fn nginx_passes_the_behaviour_tables() {
    if let Some(checked) = engines::run_behaviour_tables(engines::Target::Nginx) {
        assert!(checked >= 75, "only {checked} rows passed in nginx");
    }
}
