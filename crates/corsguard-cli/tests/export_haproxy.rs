//! `corsguard export haproxy` in a real HAProxy: every behaviour table's policy is exported as
//! a complete haproxy.cfg (loopback port, the shared test app as upstream), checked with
//! `haproxy -c`, run in the foreground, and every row of `tests/cases/*.yaml` is sent over raw
//! HTTP/1.1 and checked with the shared testkit (`corsguard_testkit::engine`).
//!
//! HAProxy must be installed (`/usr/sbin/haproxy`, as `scripts/test` ensures); set
//! `CORSGUARD_SKIP_HAPROXY=1` to skip explicitly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use corsguard_testkit::engine::{
    Engine, TempDir, engine_binary, export, free_port, run_tables, start_upstream,
};

#[test]
fn haproxy_passes_the_behaviour_tables() {
    let Some(bin) = engine_binary("haproxy", &["/usr/sbin/haproxy"], "apt-get install haproxy")
    else {
        return;
    };
    let upstream = start_upstream();
    let mut dirs = Vec::new();
    let checked = run_tables("haproxy", |_, policy| {
        let port = free_port();
        let exported = export(
            Path::new(env!("CARGO_BIN_EXE_corsguard")),
            &[
                "haproxy",
                "--config",
                &policy.display().to_string(),
                "--upstream",
                &format!("http://{upstream}"),
                "--listen",
                &format!("127.0.0.1:{port}"),
            ],
        );
        let dir = TempDir::new("haproxy");
        let cfg = dir.write("haproxy.cfg", &exported.config);
        let check = Command::new(&bin)
            .arg("-c")
            .arg("-f")
            .arg(&cfg)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "haproxy rejects the exported configuration:\n{}\n--- haproxy.cfg\n{}",
            String::from_utf8_lossy(&check.stderr),
            exported.config
        );
        let mut cmd = Command::new(&bin);
        cmd.arg("-db").arg("-f").arg(&cfg);
        let engine = Engine::spawn(cmd, port, dir.path().join("haproxy.log"));
        dirs.push(dir);
        (engine, exported)
    });
    assert!(checked >= 110, "only {checked} rows passed in HAProxy");
}
