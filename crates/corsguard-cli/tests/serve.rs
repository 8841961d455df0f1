//! `corsguard serve` as a process: `--check`, serving with flag overrides, JSON refusal logs,
//! SIGHUP reload, SIGTERM graceful exit, and the manual-style help.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_corsguard");

fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "corsguard-serve-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A minimal upstream: answers every request `200 ok` with its own `ACAO: *`.
fn tiny_upstream() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { return };
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                let mut b = [0u8; 1024];
                loop {
                    let Ok(n) = s.read(&mut b) else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&b[..n]);
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\naccess-control-allow-origin: *\r\n\r\nok");
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

fn policy(origin: &str) -> String {
    format!(
        "defaults:\n  allow_origins: ['{origin}']\n  allow_credentials: true\ngateway:\n  listen: 127.0.0.1:1\n  timeouts: {{ shutdown_grace: 2s }}\n"
    )
}

fn clean_env(c: &mut Command) -> &mut Command {
    for (k, _) in std::env::vars() {
        if k.starts_with("CORSGUARD_") || k.starts_with("CORS_") || k == "RUST_LOG" {
            c.env_remove(k);
        }
    }
    c
}

#[test]
fn check_validates_and_exits_0_or_1() {
    let dir = scratch("check");
    let good = dir.join("good.yaml");
    std::fs::write(
        &good,
        format!(
            "{}  upstream: http://127.0.0.1:9000\n",
            policy("https://app.example.com")
        ),
    )
    .unwrap();
    let out = clean_env(
        Command::new(BIN)
            .args(["serve", "--check", "--config"])
            .arg(&good),
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("ok") && stdout.contains("upstream: http://127.0.0.1:9000"),
        "{stdout}"
    );

    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "defaults:\n  allowed_origins: ['https://a.example/']\n  max_age: -1\ngateway:\n  listen: nowhere\n").unwrap();
    let out = clean_env(
        Command::new(BIN)
            .args(["serve", "--check", "--config"])
            .arg(&bad),
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("allow_origins")
            && stderr.contains("gateway-invalid-address")
            && stderr.contains("max_age"),
        "{stderr}"
    );

    // A valid policy without any upstream cannot serve.
    let none = dir.join("none.yaml");
    std::fs::write(&none, policy("https://app.example.com")).unwrap();
    let out = clean_env(
        Command::new(BIN)
            .args(["serve", "--check", "--config"])
            .arg(&none),
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no upstream"));
    // ... unless the flag gives one.
    let out = clean_env(
        Command::new(BIN)
            .args([
                "serve",
                "--check",
                "--upstream",
                "http://127.0.0.1:9",
                "--config",
            ])
            .arg(&none),
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{out:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn check_refuses_settings_that_would_crash_after_listening() {
    let dir = scratch("ranges");
    for (n, bad) in [
        "  limits: { max_connections: 9223372036854775807 }\n",
        "  timeouts: { client_header_read: 9223372036854775807 }\n",
        "  timeouts: { idle: 0 }\n",
    ]
    .iter()
    .enumerate()
    {
        let f = dir.join(format!("bad{n}.yaml"));
        std::fs::write(
            &f,
            format!(
                "defaults: {{ allow_origins: ['https://app.example.com'] }}\ngateway:\n  listen: 127.0.0.1:0\n  upstream: http://127.0.0.1:9000\n{bad}"
            ),
        )
        .unwrap();
        for mode in [
            &["serve", "--check", "--config"][..],
            &["serve", "--config"][..],
        ] {
            let out = clean_env(Command::new(BIN).args(mode).arg(&f))
                .stdin(Stdio::null())
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{mode:?} {bad}: {stderr}");
            assert!(stderr.contains("gateway-out-of-range"), "{bad}: {stderr}");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn check_survives_a_closed_stdout() {
    let dir = scratch("pipe");
    let good = dir.join("good.yaml");
    std::fs::write(
        &good,
        format!(
            "{}  upstream: http://127.0.0.1:9000\n",
            policy("https://app.example.com")
        ),
    )
    .unwrap();
    // `corsguard serve --check | head -0`: the reader is gone before the first line.
    let mut child = clean_env(
        Command::new(BIN)
            .args(["serve", "--check", "--config"])
            .arg(&good),
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.status.success(), "{stderr}");
    let _ = std::fs::remove_dir_all(dir);
}

fn get(url: &str, origin: &str) -> (u16, Vec<(String, String)>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (addr, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(a, p)| (a, format!("/{p}")));
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nhost: {addr}\r\norigin: {origin}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let head = text.split("\r\n\r\n").next().unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers)
}

fn acao(h: &[(String, String)]) -> Vec<&str> {
    h.iter()
        .filter(|(n, _)| n == "access-control-allow-origin")
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn serve_overrides_logs_reloads_on_sighup_and_exits_0_on_sigterm() {
    let dir = scratch("run");
    let file = dir.join("corsguard.yaml");
    std::fs::write(&file, policy("https://app.example.com")).unwrap();
    let upstream = tiny_upstream();
    let mut child = clean_env(
        Command::new(BIN)
            .args([
                "serve",
                "--no-watch",
                "--log-format",
                "json",
                "--listen",
                "127.0.0.1:0",
                "--admin-listen",
                "127.0.0.1:0",
                "--upstream",
                &upstream,
                "--config",
            ])
            .arg(&file),
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let stderr = Arc::new(Mutex::new(String::new()));
    {
        let mut e = child.stderr.take().unwrap();
        let stderr = stderr.clone();
        std::thread::spawn(move || {
            let mut b = [0u8; 4096];
            while let Ok(n) = e.read(&mut b) {
                if n == 0 {
                    break;
                }
                stderr
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&b[..n]));
            }
        });
    }
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for l in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(l);
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("no listening line; stderr: {}", stderr.lock().unwrap()));
    let url = line
        .strip_prefix("corsguard gateway listening on ")
        .unwrap()
        .to_string();
    assert!(!url.ends_with(":1"), "--listen must override the file");
    let admin = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(
        admin.starts_with("corsguard admin on http://127.0.0.1:"),
        "{admin}"
    );

    let (s, h) = get(&format!("{url}/v1/items"), "https://app.example.com");
    assert_eq!(s, 200);
    assert_eq!(acao(&h), ["https://app.example.com"]);
    let (s, h) = get(&format!("{url}/v1/items"), "https://new.example.com");
    assert_eq!(s, 200);
    assert!(acao(&h).is_empty());

    // SIGHUP reloads the (rewritten) file.
    std::fs::write(&file, policy("https://new.example.com")).unwrap();
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, h) = get(&format!("{url}/v1/items"), "https://new.example.com");
        if acao(&h) == ["https://new.example.com"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "SIGHUP did not reload; stderr: {}",
            stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // An invalid file on SIGHUP keeps the running policy.
    std::fs::write(&file, "defaults: {max_age: -5}\n").unwrap();
    assert!(
        Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !stderr.lock().unwrap().contains("reload failed") {
        assert!(Instant::now() < deadline, "no reload failure logged");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (_, h) = get(&format!("{url}/v1/items"), "https://new.example.com");
    assert_eq!(acao(&h), ["https://new.example.com"]);

    // SIGTERM: graceful stop, exit 0.
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    std::thread::sleep(Duration::from_millis(100));

    // One JSON line per refused request, with origin, path and reason.
    let logs = stderr.lock().unwrap().clone();
    let refusals: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| {
            v["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("CORS request refused"))
        })
        .collect();
    // (at least the request before the reload; the polling loop may add one more)
    assert!(!refusals.is_empty() && refusals.len() <= 2, "{logs}");
    assert_eq!(refusals[0]["origin"], "https://new.example.com");
    assert_eq!(refusals[0]["path"], "/v1/items");
    assert_eq!(refusals[0]["refusal"], "origin-not-allowed");
    assert!(
        logs.contains("max_age"),
        "every diagnostic of the failed reload is logged: {logs}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn help_reads_like_a_manual() {
    let out = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "Examples:",
        "--config",
        "--listen",
        "--upstream",
        "--admin-listen",
        "--log-format",
        "--check",
        "gateway:",
        "trusted_proxies",
        "SIGHUP",
    ] {
        assert!(help.contains(needle), "serve --help lacks {needle}");
    }
    let out = Command::new(BIN).args(["demo", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("refused-origin") && help.contains("--gateway-port"));
}
