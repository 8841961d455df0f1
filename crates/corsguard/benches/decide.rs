//! corsguard's decision path versus tower-http 0.7's `CorsLayer`, same harness, same run.
//!
//! Both sides do the full per-request work of a middleware: read the request head, decide,
//! call a trivial inner service, write headers into its response. Allocations per request are
//! counted with a counting global allocator (the one `unsafe` in the workspace, bench-only)
//! and printed before the timings.
//!
//! Run: `cargo bench -p corsguard --bench decide`.
#![allow(missing_docs, unsafe_code, clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use corsguard::{Action, Policy, RequestHead};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use http::{HeaderValue, Method, Request, Response};
use tower::{Layer, Service, ServiceExt, service_fn};
use tower_http::cors::{AllowOrigin, CorsLayer};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to `System` unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

type Body = http_body_util::Full<bytes::Bytes>;

fn origins(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("https://app{i}.example.com"))
        .collect()
}

fn ours(n: usize) -> Policy {
    Policy::builder()
        .allow_origins(origins(n))
        .allow_origin("https://*.tenant.example")
        .allow_methods(["GET", "PUT", "DELETE"])
        .allow_headers(["content-type", "x-trace-id"])
        .expose_headers(["x-request-id"])
        .max_age(600)
        .build()
        .expect("valid policy")
}

fn theirs(n: usize) -> CorsLayer {
    let list: Vec<HeaderValue> = origins(n).iter().map(|o| o.parse().unwrap()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(list))
        .allow_methods([Method::GET, Method::PUT, Method::DELETE])
        .allow_headers([http::header::CONTENT_TYPE, "x-trace-id".parse().unwrap()])
        .expose_headers(["x-request-id".parse::<http::HeaderName>().unwrap()])
        .max_age(std::time::Duration::from_secs(600))
}

fn theirs_predicate() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(|o: &HeaderValue, _| {
            o.as_bytes().ends_with(b".tenant.example")
        }))
        .allow_methods([Method::GET, Method::PUT, Method::DELETE])
}

fn inner(_: Request<Body>) -> std::future::Ready<Result<Response<Body>, Infallible>> {
    std::future::ready(Ok(Response::new(Body::default())))
}

/// What a corsguard middleware does per request.
fn run_ours(p: &Policy, req: Request<Body>) -> Response<Body> {
    let d = {
        let head = RequestHead::from_request(&req);
        p.decide(&head)
    };
    match d.action() {
        Action::Respond(status) => {
            let (_, headers) = d.response_parts().unwrap();
            let mut r = Response::new(Body::default());
            *r.status_mut() = status;
            *r.headers_mut() = headers;
            r
        }
        _ => {
            let mut r = inner(req).now_or_never().unwrap().unwrap();
            d.apply(r.headers_mut());
            r
        }
    }
}

fn run_theirs<S>(s: &mut S, r: Request<Body>) -> Response<Body>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
{
    s.ready().now_or_never().unwrap().unwrap();
    s.call(r).now_or_never().unwrap().unwrap()
}

#[derive(Clone, Copy)]
enum Kind {
    NoOrigin,
    Allowed,
    Disallowed,
    Subdomain,
    Preflight,
    PreflightDisallowed,
    HostileAcrh,
}

fn req(kind: Kind, n: usize) -> Request<Body> {
    let last = format!("https://app{}.example.com", n.saturating_sub(1));
    let b = Request::builder().uri("/v1/items");
    let b = match kind {
        Kind::NoOrigin => b,
        Kind::Allowed => b.header("origin", last),
        Kind::Disallowed => b.header("origin", "https://evil.example"),
        Kind::Subdomain => b.header("origin", "https://a.tenant.example"),
        Kind::Preflight => b
            .method("OPTIONS")
            .header("origin", last)
            .header("access-control-request-method", "PUT")
            .header("access-control-request-headers", "content-type,x-trace-id"),
        Kind::PreflightDisallowed => b
            .method("OPTIONS")
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "PUT"),
        Kind::HostileAcrh => b
            .method("OPTIONS")
            .header("origin", last)
            .header("access-control-request-method", "PUT")
            .header("access-control-request-headers", ",".repeat(1024)),
    };
    b.body(Body::default()).unwrap()
}

fn allocs(mut f: impl FnMut()) -> f64 {
    for _ in 0..10 {
        f();
    }
    let before = ALLOCS.load(Ordering::Relaxed);
    for _ in 0..1000 {
        f();
    }
    (ALLOCS.load(Ordering::Relaxed) - before) as f64 / 1000.0
}

const CASES: [(&str, Kind); 7] = [
    ("no_origin_get", Kind::NoOrigin),
    ("allowed_get", Kind::Allowed),
    ("disallowed_get", Kind::Disallowed),
    ("subdomain_get", Kind::Subdomain),
    ("preflight", Kind::Preflight),
    ("preflight_disallowed", Kind::PreflightDisallowed),
    ("preflight_hostile_acrh", Kind::HostileAcrh),
];

fn bench(c: &mut Criterion) {
    // Allocation report (request construction excluded: built outside the counted region).
    println!("allocations per request (corsguard vs tower-http), list of 10 origins:");
    let p = ours(10);
    let mut th = theirs(10).layer(service_fn(inner));
    let mut thp = theirs_predicate().layer(service_fn(inner));
    for (name, kind) in CASES {
        let reqs: Vec<_> = (0..1010).map(|_| req(kind, 10)).collect();
        let mut it = reqs.into_iter();
        let a = allocs(|| {
            black_box(run_ours(&p, it.next().unwrap()));
        });
        let reqs: Vec<_> = (0..1010).map(|_| req(kind, 10)).collect();
        let mut it = reqs.into_iter();
        let b = allocs(|| {
            let r = it.next().unwrap();
            black_box(if matches!(kind, Kind::Subdomain) {
                run_theirs(&mut thp, r)
            } else {
                run_theirs(&mut th, r)
            });
        });
        println!("  {name:<24} corsguard {a:>5.1}   tower-http {b:>5.1}");
    }

    let mut g = c.benchmark_group("cors");
    g.bench_function("baseline/inner_only", |b| {
        b.iter_batched(
            || req(Kind::Allowed, 10),
            |r| black_box(inner(r).now_or_never()),
            BatchSize::SmallInput,
        )
    });
    for (name, kind) in CASES {
        g.bench_function(format!("corsguard/{name}"), |b| {
            b.iter_batched(
                || req(kind, 10),
                |r| black_box(run_ours(&p, r)),
                BatchSize::SmallInput,
            )
        });
        g.bench_function(format!("tower_http/{name}"), |b| {
            b.iter_batched(
                || req(kind, 10),
                |r| {
                    black_box(if matches!(kind, Kind::Subdomain) {
                        run_theirs(&mut thp, r)
                    } else {
                        run_theirs(&mut th, r)
                    })
                },
                BatchSize::SmallInput,
            )
        });
    }
    for n in [1usize, 100, 1000] {
        let p = ours(n);
        let mut th = theirs(n).layer(service_fn(inner));
        g.bench_function(format!("corsguard/allowed_get_list{n}"), |b| {
            b.iter_batched(
                || req(Kind::Allowed, n),
                |r| black_box(run_ours(&p, r)),
                BatchSize::SmallInput,
            )
        });
        g.bench_function(format!("tower_http/allowed_get_list{n}"), |b| {
            b.iter_batched(
                || req(Kind::Allowed, n),
                |r| black_box(run_theirs(&mut th, r)),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
