//! Hot reload under load: a `PolicyHandle` is swapped 200 times between two policies while
//! 8 clients send 200 requests each over keep-alive connections. Every response must be
//! exactly one policy's answer: the two policies differ in every CORS header (allowed
//! origins, methods, expose list, credentials, max-age), so a response mixing them is
//! caught.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::Request;
use bytes::Bytes;
use corsguard::{Policy, PolicyHandle};
use corsguard_tower::CorsLayer;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use corsguard_testkit::reload::{
    Answer, POLICY_A, POLICY_B, REQUESTS_PER_TASK, SWAPS, TASKS, cors_part, expected, request,
};

#[test]
fn every_response_comes_from_exactly_one_policy_while_swapping() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let a = Policy::from_yaml_str(POLICY_A).unwrap();
        let b = Policy::from_yaml_str(POLICY_B).unwrap();
        let answers: Vec<(Answer, Answer)> =
            (0..6).map(|i| (expected(&a, i), expected(&b, i))).collect();
        for (i, (x, y)) in answers.iter().enumerate() {
            assert_ne!(x, y, "request {i} cannot tell the policies apart");
        }
        let answers = Arc::new(answers);

        let handle = PolicyHandle::new(a.clone());
        let app = Router::new()
            .fallback(|| async { "app" })
            .layer(CorsLayer::from_handle(handle.clone()));
        let server = common::serve(app).await;

        let done = Arc::new(AtomicBool::new(false));
        let swapper = {
            let (handle, done) = (handle.clone(), done.clone());
            tokio::spawn(async move {
                let mut swaps = 0;
                while swaps < SWAPS && !done.load(Ordering::SeqCst) {
                    handle.replace(if swaps.is_multiple_of(2) { b.clone() } else { a.clone() });
                    swaps += 1;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                swaps
            })
        };

        let seen_a = Arc::new(AtomicUsize::new(0));
        let seen_b = Arc::new(AtomicUsize::new(0));
        let mut clients = Vec::new();
        for t in 0..TASKS {
            let (answers, seen_a, seen_b) = (answers.clone(), seen_a.clone(), seen_b.clone());
            let addr = server.addr;
            clients.push(tokio::spawn(async move {
                let stream = TcpStream::connect(addr).await.unwrap();
                let (mut sender, conn) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream))
                        .await
                        .unwrap();
                tokio::spawn(conn);
                for n in 0..REQUESTS_PER_TASK {
                    let i = t + n;
                    let (method, lines) = request(i);
                    let mut req = Request::builder()
                        .method(method)
                        .uri("/items")
                        .header("host", addr.to_string());
                    for (name, value) in lines {
                        req = req.header(name, value);
                    }
                    sender.ready().await.unwrap();
                    let res = tokio::time::timeout(
                        common::REQUEST_TIMEOUT,
                        sender.send_request(req.body(Empty::<Bytes>::new()).unwrap()),
                    )
                    .await
                    .unwrap()
                    .unwrap();
                    let got = cors_part(res.status().as_u16(), res.headers());
                    res.into_body().collect().await.unwrap();
                    let (ans_a, ans_b) = &answers[i % 6];
                    if got == *ans_a {
                        seen_a.fetch_add(1, Ordering::SeqCst);
                    } else if got == *ans_b {
                        seen_b.fetch_add(1, Ordering::SeqCst);
                    } else {
                        panic!(
                            "request {i}: answer matches neither policy\n  got: {got:?}\n  A:   {ans_a:?}\n  B:   {ans_b:?}"
                        );
                    }
                }
            }));
        }
        for c in clients {
            c.await.unwrap();
        }
        done.store(true, Ordering::SeqCst);
        let swaps = swapper.await.unwrap();
        let (na, nb) = (seen_a.load(Ordering::SeqCst), seen_b.load(Ordering::SeqCst));
        assert_eq!(na + nb, TASKS * REQUESTS_PER_TASK);
        assert!(swaps > 0, "no swap happened");
        assert!(
            na > 0 && nb > 0,
            "both policies must have answered (A {na}, B {nb}, {swaps} swaps)"
        );
        assert_eq!(handle.version(), 1 + swaps as u64);
    });
}
