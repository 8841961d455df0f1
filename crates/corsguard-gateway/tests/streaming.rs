//! Streaming: a 50 MiB upload and a 50 MiB download pass through the gateway without being
//! buffered.
//!
//! Method: this test binary holds only this test, so the process contains exactly the
//! client, the gateway and the upstream. The data is generated on the fly by the sender and
//! only counted by the receiver, so nobody needs to hold it; a sampler thread reads the
//! process's resident set size (`VmRSS` in `/proc/self/status`) every 5 ms, and the peak
//! growth over the baseline must stay far below 50 MiB (limit: 24 MiB). As a second,
//! timing-based proof, the receiver must see the first bytes before the sender has produced
//! the last ones (a buffering proxy would forward only after the whole body arrived).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "gateway/common.rs"]
mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;

const SIZE: u64 = 50 * 1024 * 1024;
const CHUNK: usize = 64 * 1024;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[derive(Default)]
struct Marks {
    upstream_last_chunk_made: Mutex<Option<Instant>>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_mib_up_and_down_with_bounded_memory() {
    let marks = Arc::new(Marks::default());
    let m = marks.clone();
    let up = common::upstream_with(Arc::new(move |req| {
        let m = m.clone();
        match req.uri().path() {
            "/down" => {
                let stream = futures_util::stream::unfold(0u64, move |sent| {
                    let m = m.clone();
                    async move {
                        if sent >= SIZE {
                            return None;
                        }
                        let n = (SIZE - sent).min(CHUNK as u64);
                        if sent + n >= SIZE {
                            *m.upstream_last_chunk_made.lock().unwrap() = Some(Instant::now());
                        }
                        let chunk = Bytes::from(vec![b'd'; n as usize]);
                        Some((
                            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(Frame::data(chunk)),
                            sent + n,
                        ))
                    }
                });
                let mut r = http::Response::new(StreamBody::new(stream).boxed_unsync());
                r.headers_mut()
                    .insert("content-length", SIZE.to_string().parse().unwrap());
                Some(r)
            }
            _ => None,
        }
    }))
    .await;
    let gw = common::gateway(common::POLICY, &up.url(), |g| {
        g.limits.max_body_bytes = 2 * SIZE
    })
    .await;
    let base = gw.url();
    let client = reqwest::Client::new();
    // Warm up (pools, runtime threads, lazy statics), then take the baseline.
    for _ in 0..3 {
        client
            .get(format!("{base}/"))
            .header("origin", common::APP)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
    }
    let baseline = rss_kib();
    let peak = Arc::new(AtomicU64::new(baseline));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };

    // --- upload: the upstream route `/__consume` counts the bytes as they stream in.
    let last_sent = Arc::new(Mutex::new(None::<Instant>));
    let ls = last_sent.clone();
    let chunks = SIZE / CHUNK as u64;
    let body_stream = futures_util::stream::iter(0..chunks).map(move |i| {
        if i + 1 == chunks {
            *ls.lock().unwrap() = Some(Instant::now());
        }
        Ok::<_, std::io::Error>(Bytes::from(vec![b'u'; CHUNK]))
    });
    let t = Instant::now();
    let resp = client
        .put(format!("{base}/__consume"))
        .header("origin", common::APP)
        .header("content-length", SIZE.to_string())
        .body(reqwest::Body::wrap_stream(body_stream))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["access-control-allow-origin"], common::APP);
    assert_eq!(resp.text().await.unwrap(), SIZE.to_string());
    let upload_time = t.elapsed();
    let first_in = common::CONSUME_FIRST_BYTE.lock().unwrap().unwrap();
    let last_out = last_sent.lock().unwrap().unwrap();
    assert!(
        first_in < last_out,
        "the upstream got its first bytes only after the client had sent all of them"
    );

    // --- download
    let t = Instant::now();
    let mut resp = client
        .get(format!("{base}/down"))
        .header("origin", common::APP)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["access-control-allow-origin"], common::APP);
    let mut got = 0u64;
    let mut first_chunk_at = None;
    while let Some(c) = resp.chunk().await.unwrap() {
        first_chunk_at.get_or_insert_with(Instant::now);
        got += c.len() as u64;
    }
    assert_eq!(got, SIZE);
    let download_time = t.elapsed();
    let last_made = marks.upstream_last_chunk_made.lock().unwrap().unwrap();
    assert!(
        first_chunk_at.unwrap() < last_made,
        "the client got its first bytes only after the upstream had produced all of them"
    );

    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let growth_mib = (peak.load(Ordering::Relaxed).saturating_sub(baseline)) as f64 / 1024.0;
    eprintln!(
        "streaming: upload {upload_time:?}, download {download_time:?}, peak RSS growth {growth_mib:.1} MiB (baseline {} MiB)",
        baseline / 1024
    );
    assert!(
        growth_mib < 24.0,
        "peak RSS grew by {growth_mib:.1} MiB: a body was buffered"
    );
    gw.shutdown().await;
}
