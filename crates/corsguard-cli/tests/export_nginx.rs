//! `corsguard export nginx` in a real nginx: every behaviour table's policy is exported, the
//! output is included in a complete nginx.conf (everything under a temporary prefix, loopback
//! port), nginx proxies to a small hyper upstream running the shared test app, and every row
//! of `tests/cases/*.yaml` is sent over raw HTTP/1.1 and checked with the shared testkit.
//!
//! nginx must be installed (`/usr/sbin/nginx`, as `scripts/test` ensures); set
//! `CORSGUARD_SKIP_NGINX=1` to skip explicitly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use corsguard_testkit::{Observed, Table, app_response, request_headers, run_all};

/// A directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "corsguard-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running nginx, killed on drop.
struct Nginx {
    child: Child,
    port: u16,
    dir: TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_binary() -> Option<PathBuf> {
    let sbin = PathBuf::from("/usr/sbin/nginx");
    if sbin.exists() {
        return Some(sbin);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("nginx"))
            .find(|p| p.exists())
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the shared test app (hyper) on an ephemeral loopback port.
fn start_upstream() -> SocketAddr {
    use http_body_util::Full;
    use hyper::body::Bytes;
    use hyper::service::service_fn;

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(async move {
                    let service =
                        service_fn(|req: hyper::Request<hyper::body::Incoming>| async move {
                            let headers: Vec<(String, String)> = req
                                .headers()
                                .iter()
                                .map(|(n, v)| {
                                    (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())
                                })
                                .collect();
                            let (status, out) =
                                app_response(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
                            let mut resp = hyper::Response::builder().status(status);
                            for (n, v) in out {
                                resp = resp.header(n, v);
                            }
                            Ok::<_, std::convert::Infallible>(
                                resp.body(Full::new(Bytes::from_static(b"app"))).unwrap(),
                            )
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    addr
}

fn export(policy: &Path, upstream: SocketAddr, port: u16) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_corsguard"))
        .args(["export", "nginx", "--config"])
        .arg(policy)
        .args([
            "--upstream",
            &format!("http://{upstream}"),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "export failed: {stderr}");
    (String::from_utf8(out.stdout).unwrap(), stderr)
}

fn start_nginx(bin: &Path, cors_conf: &str, port: u16) -> Nginx {
    let dir = TempDir::new("nginx");
    let d = dir.0.display().to_string();
    for sub in [
        "tmp/body",
        "tmp/proxy",
        "tmp/fastcgi",
        "tmp/uwsgi",
        "tmp/scgi",
        "logs",
    ] {
        std::fs::create_dir_all(dir.0.join(sub)).unwrap();
    }
    std::fs::write(dir.0.join("cors.conf"), cors_conf).unwrap();
    let conf = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/logs/error.log warn;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n    access_log off;\n    client_body_temp_path {d}/tmp/body;\n    proxy_temp_path {d}/tmp/proxy;\n    \
         fastcgi_temp_path {d}/tmp/fastcgi;\n    uwsgi_temp_path {d}/tmp/uwsgi;\n    scgi_temp_path {d}/tmp/scgi;\n    \
         include {d}/cors.conf;\n}}\n"
    );
    std::fs::write(dir.0.join("nginx.conf"), conf).unwrap();
    let test = Command::new(bin)
        .args([
            "-t",
            "-q",
            "-p",
            &d,
            "-e",
            &format!("{d}/logs/error.log"),
            "-c",
        ])
        .arg(dir.0.join("nginx.conf"))
        .output()
        .unwrap();
    let log = std::fs::read_to_string(dir.0.join("logs/error.log")).unwrap_or_default();
    assert!(
        test.status.success(),
        "nginx rejects the exported configuration:\n{}{log}\n--- cors.conf\n{cors_conf}",
        String::from_utf8_lossy(&test.stderr)
    );
    let child = Command::new(bin)
        .args(["-p", &d, "-e", &format!("{d}/logs/error.log"), "-c"])
        .arg(dir.0.join("nginx.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut nginx = Nginx { child, port, dir };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return nginx;
        }
        if let Some(status) = nginx.child.try_wait().unwrap() {
            let log =
                std::fs::read_to_string(nginx.dir.0.join("logs/error.log")).unwrap_or_default();
            panic!("nginx exited ({status}) before listening:\n{log}");
        }
        assert!(
            Instant::now() < deadline,
            "nginx did not listen on port {port} within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends one request over HTTP/1.1 (exact header lines, `Connection: close`) and reads the
/// response head.
fn send(port: u16, method: &str, path: &str, host: &str, headers: &[(String, String)]) -> Observed {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Observed { status, headers }
}

fn run_table(
    bin: &Path,
    upstream: SocketAddr,
    table: &Table,
    exports: &mut Vec<(String, String)>,
) -> (String, Vec<Observed>) {
    let dir = TempDir::new("policy");
    let policy = dir.0.join("policy.yaml");
    std::fs::write(&policy, &table.policy).unwrap();
    let port = free_port();
    let (conf, warnings) = export(&policy, upstream, port);
    exports.push((conf.clone(), warnings));
    let nginx = start_nginx(bin, &conf, port);
    let self_host = format!("127.0.0.1:{}", nginx.port);
    let self_origin = format!("http://{self_host}");
    let observed = table
        .cases
        .iter()
        .map(|case| {
            let host = case
                .request
                .host
                .clone()
                .unwrap_or_else(|| self_host.clone());
            send(
                nginx.port,
                &case.request.method,
                &case.request.path,
                &host,
                &request_headers(case, &self_origin),
            )
        })
        .collect();
    (self_origin, observed)
}

#[test]
fn nginx_passes_the_behaviour_tables() {
    if std::env::var("CORSGUARD_SKIP_NGINX").is_ok_and(|v| v == "1") {
        eprintln!("CORSGUARD_SKIP_NGINX=1: skipping the nginx export test");
        return;
    }
    let bin = nginx_binary().unwrap_or_else(|| {
        panic!("nginx is not installed (looked for /usr/sbin/nginx and nginx on PATH): install it (scripts/test does: apt-get install nginx) or set CORSGUARD_SKIP_NGINX=1 to skip this test")
    });
    let upstream = start_upstream();
    let mut exports = Vec::new();
    let checked = run_all("nginx", |table| {
        run_table(&bin, upstream, table, &mut exports)
    });
    assert!(checked >= 75, "only {checked} rows passed in nginx");

    // Every row nginx cannot satisfy is explained in the export's warnings: its reason quotes
    // the warning.
    let tables = corsguard_testkit::load_tables();
    for (t, (conf, stderr)) in tables.iter().zip(&exports) {
        for c in &t.cases {
            if let Some(reason) = c.unsupported.get("nginx") {
                let quoted = reason.split('`').nth(1).unwrap_or(reason);
                let flat = conf
                    .lines()
                    .map(|l| l.trim_start_matches(['#', ' ', '-']))
                    .collect::<Vec<_>>()
                    .join(" ");
                assert!(
                    stderr.contains(quoted) || flat.contains(quoted),
                    "{} / {}: the unsupported reason must quote an export warning in backquotes; `{quoted}` is not in:\n{stderr}",
                    t.name,
                    c.name
                );
            }
        }
    }
}
