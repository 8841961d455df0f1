//! `corsguard export caddy` in a real Caddy: every behaviour table's policy is exported as a
//! complete JSON configuration (loopback port, the shared test app as upstream), checked with
//! `caddy validate`, run with `caddy run`, and every row of `tests/cases/*.yaml` is sent over
//! raw HTTP/1.1 and checked with the shared testkit (`corsguard_testkit::engine`).
//!
//! Caddy must be installed (`/usr/bin/caddy`, as `scripts/test` ensures); set
//! `CORSGUARD_SKIP_CADDY=1` to skip explicitly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod engines;

#[test]
fn caddy_passes_the_behaviour_tables() {
    if let Some(checked) = engines::run_behaviour_tables(engines::Target::Caddy) {
        assert!(checked >= 110, "only {checked} rows passed in Caddy");
    }
}
