//! `corsguard export nginx` in a real nginx: every behaviour table's policy is exported, the
//! output is included in a complete nginx.conf (everything under a temporary prefix, loopback
//! port), nginx proxies to the shared test app, and every row of `tests/cases/*.yaml` is sent
//! over raw HTTP/1.1 and checked with the shared testkit (`corsguard_testkit::engine`).
//!
//! nginx must be installed (`/usr/sbin/nginx`, as `scripts/test` ensures); set
//! `CORSGUARD_SKIP_NGINX=1` to skip explicitly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use corsguard_testkit::engine::{
    Engine, Export, TempDir, engine_binary, export, free_port, run_tables, start_upstream,
};

/// Writes a complete nginx.conf around the exported `cors.conf`, checks it with `nginx -t`
/// and starts nginx in the foreground.
fn start_nginx(bin: &Path, dir: &TempDir, cors_conf: &str, port: u16) -> Engine {
    let d = dir.path().display().to_string();
    for sub in [
        "tmp/body",
        "tmp/proxy",
        "tmp/fastcgi",
        "tmp/uwsgi",
        "tmp/scgi",
        "logs",
    ] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    dir.write("cors.conf", cors_conf);
    let conf = dir.write(
        "nginx.conf",
        &format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/logs/error.log warn;\n\
             events {{ worker_connections 64; }}\n\
             http {{\n    access_log off;\n    client_body_temp_path {d}/tmp/body;\n    proxy_temp_path {d}/tmp/proxy;\n    \
             fastcgi_temp_path {d}/tmp/fastcgi;\n    uwsgi_temp_path {d}/tmp/uwsgi;\n    scgi_temp_path {d}/tmp/scgi;\n    \
             include {d}/cors.conf;\n}}\n"
        ),
    );
    let args = |cmd: &mut Command| {
        cmd.args(["-p", &d, "-e", &format!("{d}/logs/error.log"), "-c"])
            .arg(&conf);
    };
    let mut test = Command::new(bin);
    test.args(["-t", "-q"]);
    args(&mut test);
    let test = test.output().unwrap();
    let log = std::fs::read_to_string(dir.path().join("logs/error.log")).unwrap_or_default();
    assert!(
        test.status.success(),
        "nginx rejects the exported configuration:\n{}{log}\n--- cors.conf\n{cors_conf}",
        String::from_utf8_lossy(&test.stderr)
    );
    let mut cmd = Command::new(bin);
    args(&mut cmd);
    Engine::spawn(cmd, port, dir.path().join("logs/stderr.log"))
}

fn start(
    bin: &Path,
    upstream: SocketAddr,
    policy: &Path,
    dirs: &mut Vec<TempDir>,
) -> (Engine, Export) {
    let port = free_port();
    let exported = export(
        Path::new(env!("CARGO_BIN_EXE_corsguard")),
        &[
            "nginx",
            "--config",
            &policy.display().to_string(),
            "--upstream",
            &format!("http://{upstream}"),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ],
    );
    let dir = TempDir::new("nginx");
    let nginx = start_nginx(bin, &dir, &exported.config, port);
    dirs.push(dir);
    (nginx, exported)
}

#[test]
fn nginx_passes_the_behaviour_tables() {
    let Some(bin) = engine_binary("nginx", &["/usr/sbin/nginx"], "apt-get install nginx") else {
        return;
    };
    let upstream = start_upstream();
    let mut dirs = Vec::new();
    let checked = run_tables("nginx", |_, policy| {
        start(&bin, upstream, policy, &mut dirs)
    });
    assert!(checked >= 75, "only {checked} rows passed in nginx");
}
