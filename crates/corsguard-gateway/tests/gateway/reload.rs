//! Hot reload under load: the policy file is rewritten 20 times (valid and invalid
//! alternately) while requests run; none fails and every response matches one policy.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use corsguard_gateway::{Gateway, GatewayConfig};

use crate::common::{APP, scratch, upstream};

fn valid(k: usize) -> String {
    format!(
        "defaults:\n  allow_origins: ['{APP}']\n  allow_methods: [PUT]\n  allow_headers: [x-v{k}]\n  expose_headers: [x-v{k}]\n  max_age: {}\n",
        100 + k
    )
}

fn invalid(k: usize) -> String {
    format!("defaults:\n  allow_origins: ['{APP}/']\n  max_age: -{k}\n  allowed_methods: [PUT]\n")
}

/// Writes like an editor does: a temporary file, then a rename over the target.
fn write_atomic(path: &Path, text: &str) {
    let tmp = path.with_file_name(".corsguard.yaml.tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[derive(Default)]
struct Tally {
    ok: usize,
    failures: Vec<String>,
    versions: BTreeSet<usize>,
}

/// The `k` of `x-v{k}`.
fn k_of(v: &str) -> Option<usize> {
    v.strip_prefix("x-v")?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_reload_under_load_never_fails_a_request() {
    let up = upstream().await;
    let dir = scratch("reload");
    let file = dir.join("corsguard.yaml");
    write_atomic(&file, &valid(0));
    let config = GatewayConfig::from_file(&file)
        .unwrap()
        .listen("127.0.0.1:0".parse().unwrap())
        .upstream(&up.url())
        .unwrap()
        .reload_debounce(Duration::from_millis(40));
    let gw = Gateway::bind(config).await.unwrap();
    let base = gw.url();
    let stop = Arc::new(AtomicBool::new(false));

    let mut workers = Vec::new();
    for w in 0..4 {
        let base = base.clone();
        let stop = stop.clone();
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut t = Tally::default();
            let started = Instant::now();
            let mut i = 0usize;
            // Bounded: at most 20 000 requests or 30 s per worker.
            while !stop.load(Ordering::Relaxed)
                && i < 20_000
                && started.elapsed() < Duration::from_secs(30)
            {
                i += 1;
                let preflight = (i + w).is_multiple_of(2);
                let req = if preflight {
                    client
                        .request(reqwest::Method::OPTIONS, format!("{base}/x"))
                        .header("origin", APP)
                        .header("access-control-request-method", "PUT")
                } else {
                    client.get(format!("{base}/x")).header("origin", APP)
                };
                let resp = match req.send().await {
                    Ok(r) => r,
                    Err(e) => {
                        t.failures.push(format!("request error: {e}"));
                        continue;
                    }
                };
                let status = resp.status().as_u16();
                let h = resp.headers().clone();
                let _ = resp.bytes().await;
                let get = |n: &str| h.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
                let acao = get("access-control-allow-origin");
                if acao.as_deref() != Some(APP) {
                    t.failures.push(format!("status {status}, ACAO {acao:?}"));
                    continue;
                }
                if preflight {
                    let k = get("access-control-allow-headers")
                        .as_deref()
                        .and_then(k_of);
                    let age = get("access-control-max-age");
                    match k {
                        Some(k) if status == 204 && age == Some((100 + k).to_string()) => {
                            t.versions.insert(k);
                            t.ok += 1;
                        }
                        _ => t
                            .failures
                            .push(format!("inconsistent preflight: {status} {h:?}")),
                    }
                } else {
                    match get("access-control-expose-headers")
                        .as_deref()
                        .and_then(k_of)
                    {
                        Some(k) if status == 200 => {
                            t.versions.insert(k);
                            t.ok += 1;
                        }
                        _ => t
                            .failures
                            .push(format!("inconsistent actual: {status} {h:?}")),
                    }
                }
            }
            t
        }));
    }

    for i in 1..=20usize {
        tokio::time::sleep(Duration::from_millis(120)).await;
        if !i.is_multiple_of(2) {
            write_atomic(&file, &invalid(i));
        } else {
            write_atomic(&file, &valid(i));
        }
    }
    // Wait (bounded) until the last valid version is active.
    let deadline = Instant::now() + Duration::from_secs(10);
    while gw.policy().load().defaults_summary().expose_headers != ["x-v20"] {
        assert!(
            Instant::now() < deadline,
            "the last valid file was never loaded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, Ordering::Relaxed);

    let mut total = Tally::default();
    for w in workers {
        let t = w.await.unwrap();
        total.ok += t.ok;
        total.failures.extend(t.failures);
        total.versions.extend(t.versions);
    }
    let (ok, failed) = gw.metrics().reloads();
    eprintln!(
        "hot reload: {} requests ok, versions seen {:?}, reloads ok {ok} failed {failed}",
        total.ok, total.versions
    );
    assert!(
        total.failures.is_empty(),
        "{} failures, first: {:?}",
        total.failures.len(),
        total.failures.first()
    );
    assert!(total.ok > 100, "only {} requests", total.ok);
    assert!(
        total.versions.iter().all(|k| k.is_multiple_of(2)),
        "an invalid file became active: {:?}",
        total.versions
    );
    assert!(total.versions.contains(&0) && total.versions.contains(&20));
    assert!(total.versions.len() >= 3, "{:?}", total.versions);
    assert!(ok >= 3 && failed >= 3, "reloads ok {ok}, failed {failed}");
    assert_eq!(gw.policy().version(), 1 + ok);
    let metrics = gw.metrics().render();
    assert!(metrics.contains(&format!(
        "corsguard_reloads_total{{result=\"failed\"}} {failed}\n"
    )));
    assert!(metrics.contains(&format!("corsguard_policy_version {}\n", 1 + ok)));

    // An explicit reload of an invalid file reports the diagnostics and keeps the policy.
    write_atomic(&file, &invalid(99));
    let before = gw.policy().version();
    let err = gw.reload().unwrap_err().to_string();
    assert!(
        err.contains("max_age") || err.contains("allowed_methods"),
        "{err}"
    );
    assert_eq!(gw.policy().version(), before);
    gw.shutdown().await;
    let _ = std::fs::remove_dir_all(dir);
}
