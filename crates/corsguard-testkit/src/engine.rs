//! Running an exported configuration in a real edge engine (nginx, Envoy, HAProxy, Caddy,
//! Traefik): the shared test app as upstream, the engine as a child process killed on drop,
//! raw HTTP/1.1 requests with exact header lines, and the check that every row an engine
//! declares `unsupported:` is explained by one of the export's warnings (feature `engine`).
//!
//! A runner is three steps: [`start_upstream`] once, then for every table export its policy
//! (the CLI binary, [`export`]), write the engine's configuration under a [`TempDir`] and
//! [`Engine::spawn`] it, and finally [`run_tables`] sends every row and checks it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::{Observed, Table, app_response, load_tables, request_headers, run_all, run_some};

/// How long an engine may take to listen after it was started.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A directory under the system temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates a fresh, empty directory whose name contains `tag`.
    pub fn new(tag: &str) -> TempDir {
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

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// Writes `text` to `name` inside the directory and returns the file's path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A loopback port nobody listens on (bound once, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Finds an executable: the first of `candidates` (absolute paths) that exists, else `name`
/// on `PATH`.
pub fn find_binary(name: &str, candidates: &[&str]) -> Option<PathBuf> {
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join(name))
                    .find(|p| p.is_file())
            })
        })
}

/// The engine's binary, or `None` when `CORSGUARD_SKIP_<ENGINE>=1` asks to skip it. Panics
/// with the install command when it is missing, so a machine without it fails loudly instead
/// of passing silently.
pub fn engine_binary(engine: &str, candidates: &[&str], install: &str) -> Option<PathBuf> {
    let var = format!("CORSGUARD_SKIP_{}", engine.to_ascii_uppercase());
    if std::env::var(&var).is_ok_and(|v| v == "1") {
        eprintln!("{var}=1: skipping the {engine} export test");
        return None;
    }
    let bin = find_binary(engine, candidates);
    Some(bin.unwrap_or_else(|| {
        panic!("{engine} is not installed: install it ({install}; scripts/test does) or set {var}=1 to skip this test")
    }))
}

/// Starts the shared test app ([`app_response`], over hyper) on an ephemeral loopback port,
/// in a thread that lives as long as the test process.
pub fn start_upstream() -> SocketAddr {
    use bytes::Bytes;
    use http_body_util::Full;
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

/// What `corsguard export` printed: the configuration (stdout) and the warnings (stderr).
#[derive(Debug, Clone, Default)]
pub struct Export {
    /// stdout: the configuration (or, with `--output DIR`, whatever the command printed).
    pub config: String,
    /// stderr: the warnings.
    pub warnings: String,
}

/// Runs `corsguard export <args…>` with the CLI binary `bin` (`env!("CARGO_BIN_EXE_corsguard")`)
/// and panics unless it exits 0.
pub fn export(bin: &Path, args: &[&str]) -> Export {
    try_export(bin, args)
        .unwrap_or_else(|err| panic!("corsguard export {} failed: {err}", args.join(" ")))
}

/// [`export`] for a target that may refuse a policy: `Err(stderr)` when the command exits 1
/// (the export's "cannot be expressed faithfully"); panics on any other failure.
pub fn try_export(bin: &Path, args: &[&str]) -> Result<Export, String> {
    let out = Command::new(bin)
        .arg("export")
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let warnings = String::from_utf8(out.stderr).unwrap();
    match out.status.code() {
        Some(0) => Ok(Export {
            config: String::from_utf8(out.stdout).unwrap(),
            warnings,
        }),
        Some(1) => Err(warnings),
        _ => panic!(
            "corsguard export {} crashed ({}): {warnings}",
            args.join(" "),
            out.status
        ),
    }
}

/// Runs `cmd`, a configuration check such as `nginx -t` or `envoy --mode validate`, and
/// panics with its output and the configuration unless it succeeds.
pub fn assert_accepts(mut cmd: impl std::borrow::BorrowMut<Command>, config: &str) {
    let cmd = cmd.borrow_mut();
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} rejects the exported configuration ({}):\n{}{}\n--- configuration\n{config}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running engine, killed (by its PID, the child we started) on drop.
#[derive(Debug)]
pub struct Engine {
    child: Child,
    /// The loopback port it serves the behaviour rows on.
    pub port: u16,
    log: PathBuf,
}

impl Engine {
    /// Starts `cmd` (stdout and stderr go to `log`) and waits until `127.0.0.1:port` accepts
    /// connections; panics with the log when the engine exits or does not listen within
    /// [`START_TIMEOUT`].
    pub fn spawn(mut cmd: Command, port: u16, log: PathBuf) -> Engine {
        let out = std::fs::File::create(&log).unwrap();
        let err = out.try_clone().unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let mut engine = Engine { child, port, log };
        engine.wait_until(&format!("listening on port {port} ({cmd:?})"), |e| {
            TcpStream::connect(("127.0.0.1", e.port)).is_ok()
        });
        engine
    }

    /// Waits until `ready` holds (polled every 20 ms, at most [`START_TIMEOUT`]); for engines
    /// that listen before they have loaded their configuration (Traefik's file provider).
    /// Panics with `what` and the log when it never does or the engine exits.
    pub fn wait_until(&mut self, what: &str, mut ready: impl FnMut(&Engine) -> bool) {
        let deadline = Instant::now() + START_TIMEOUT;
        while !ready(self) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the engine exited ({status}) before {what}:\n{}",
                    self.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "not {what} within {START_TIMEOUT:?}:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What the engine wrote so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The host (`127.0.0.1:port`) and origin (`http://127.0.0.1:port`) rows address it by.
    pub fn self_host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends one request over HTTP/1.1 with exactly these header lines (plus `Host` and
/// `Connection: close`) and reads the response head; lower-case names, in order.
pub fn send(
    port: u16,
    method: &str,
    path: &str,
    host: &str,
    headers: &[(String, String)],
) -> Observed {
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

/// Sends every row of `table` to `engine` (rows without a `host` use the engine's own
/// `127.0.0.1:port`) and returns the engine's origin and the observations, as
/// [`run_all`] wants them.
pub fn send_rows(engine: &Engine, table: &Table) -> (String, Vec<Observed>) {
    let self_host = engine.self_host();
    let self_origin = format!("http://{self_host}");
    let observed = table
        .cases
        .iter()
        .map(|case| {
            let host = case.request.host.as_deref().unwrap_or(&self_host);
            send(
                engine.port,
                &case.request.method,
                &case.request.path,
                host,
                &request_headers(case, &self_origin),
            )
        })
        .collect();
    (self_origin, observed)
}

/// Runs every behaviour table through an engine: `start` gets a table and its policy file
/// (written under a fresh [`TempDir`]), exports it, starts the engine and returns it with the
/// export. Then every row is checked ([`run_all`]), and every row declared unsupported for
/// `engine` must quote (in backquotes) a warning of that table's export
/// ([`assert_unsupported_rows_are_warned`]). Returns the number of rows that passed.
pub fn run_tables(engine: &str, mut start: impl FnMut(&Table, &Path) -> (Engine, Export)) -> usize {
    let mut exports = Vec::new();
    let checked = run_all(engine, |table| {
        let dir = TempDir::new("policy");
        let policy = dir.write("policy.yaml", &table.policy);
        let (running, export) = start(table, &policy);
        exports.push(export);
        send_rows(&running, table)
    });
    assert_unsupported_rows_are_warned(engine, &load_tables(), &exports);
    checked
}

/// [`run_tables`] for an export that refuses some policies (exits 1, e.g. Gateway API without
/// regexes): `start` returns `Err(stderr)` for those ([`try_export`]) and the table is skipped
/// ([`run_some`]). A skipped table must declare the engine in its `refused:` map with a reason
/// that quotes (in backquotes) a text of that stderr, so the engine table can show it as not
/// run, not as passed. Returns the number of rows that passed.
pub fn run_tables_or_refused(
    engine: &str,
    mut start: impl FnMut(&Table, &Path) -> Result<(Engine, Export), String>,
) -> usize {
    let mut exports = Vec::new();
    let mut refusals = Vec::new();
    let checked = run_some(engine, |table| {
        let dir = TempDir::new("policy");
        let policy = dir.write("policy.yaml", &table.policy);
        match start(table, &policy) {
            Ok((running, export)) => {
                exports.push(export);
                Some(send_rows(&running, table))
            }
            Err(stderr) => {
                refusals.push((table.name.clone(), stderr.clone()));
                // Nothing ran: no row of the table may be declared (run_some checks that).
                exports.push(Export::default());
                None
            }
        }
    });
    for t in load_tables() {
        let Some(reason) = t.refused.get(engine) else {
            continue;
        };
        let quoted = reason.split('`').nth(1).unwrap_or(reason);
        let stderr = refusals
            .iter()
            .find(|(name, _)| *name == t.name)
            .map(|(_, e)| e.as_str())
            .unwrap_or_default();
        assert!(
            stderr.contains(quoted),
            "{}: the {engine} refused reason must quote the export's error in backquotes; `{quoted}` is not in:\n{stderr}",
            t.name
        );
    }
    assert_unsupported_rows_are_warned(engine, &load_tables(), &exports);
    checked
}

/// Every row declared `unsupported:` for `engine` quotes, between the first pair of
/// backquotes of its reason, a text that is in its table's export warnings (stderr, or the
/// configuration's comment lines, with `#`/`-`/space prefixes and line breaks flattened).
pub fn assert_unsupported_rows_are_warned(engine: &str, tables: &[Table], exports: &[Export]) {
    assert_eq!(tables.len(), exports.len(), "one export per table");
    for (t, export) in tables.iter().zip(exports) {
        let flat = export
            .config
            .lines()
            .map(|l| l.trim_start_matches(['#', ' ', '-', '/']))
            .collect::<Vec<_>>()
            .join(" ");
        for c in &t.cases {
            let Some(reason) = c.unsupported.get(engine) else {
                continue;
            };
            let quoted = reason.split('`').nth(1).unwrap_or(reason);
            assert!(
                export.warnings.contains(quoted) || flat.contains(quoted),
                "{} / {}: the {engine} unsupported reason must quote an export warning in backquotes; `{quoted}` is not in:\n{}",
                t.name,
                c.name,
                export.warnings
            );
        }
    }
}
