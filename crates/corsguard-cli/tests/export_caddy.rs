//! `corsguard export caddy` in a real Caddy: every behaviour table's policy is exported as a
//! complete JSON configuration (loopback port, the shared test app as upstream), checked with
//! `caddy validate`, run with `caddy run`, and every row of `tests/cases/*.yaml` is sent over
//! raw HTTP/1.1 and checked with the shared testkit (`corsguard_testkit::engine`).
//!
//! Caddy must be installed (`/usr/bin/caddy`, as `scripts/test` ensures); set
//! `CORSGUARD_SKIP_CADDY=1` to skip explicitly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use corsguard_testkit::engine::{
    Engine, TempDir, assert_accepts, engine_binary, export_listening, free_port, run_tables,
    start_upstream,
};

/// `caddy` with its data and config directories inside `dir` (nothing written to `$HOME`).
fn caddy(bin: &Path, dir: &TempDir) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"));
    cmd
}

#[test]
fn caddy_passes_the_behaviour_tables() {
    let Some(bin) = engine_binary("caddy", &["/usr/bin/caddy"], "apt-get install caddy") else {
        return;
    };
    let upstream = start_upstream();
    let mut dirs = Vec::new();
    let checked = run_tables("caddy", |_, policy| {
        let port = free_port();
        let cli = Path::new(env!("CARGO_BIN_EXE_corsguard"));
        let exported = export_listening(cli, "caddy", policy, upstream, port);
        let dir = TempDir::new("caddy");
        let cfg = dir.write("caddy.json", &exported.config);
        assert_accepts(
            caddy(&bin, &dir).args(["validate", "--config"]).arg(&cfg),
            &exported.config,
        );
        let mut cmd = caddy(&bin, &dir);
        cmd.args(["run", "--config"]).arg(&cfg);
        let engine = Engine::spawn(cmd, port, dir.path().join("caddy.log"));
        dirs.push(dir);
        (engine, exported)
    });
    assert!(checked >= 110, "only {checked} rows passed in Caddy");
}
