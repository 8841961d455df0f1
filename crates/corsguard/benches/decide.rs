//! Per-request CORS overhead: corsguard versus tower-http 0.7 (`CorsLayer`) and actix-cors 0.7
//! (`Cors`), on the same requests with equivalent policies, in one run.
//!
//! Run everything (about 2 minutes on 2 cores, plus the build) and print the overhead table at the end:
//!
//! ```text
//! cargo bench -p corsguard --bench decide
//! ```
//!
//! Print the table again from the last run's results, without re-running anything:
//!
//! ```text
//! scripts/bench-table            # markdown table on stdout
//! ```
//!
//! Re-run a subset (criterion filter on `<group>/<function>`), then re-print the table; rows
//! not re-run keep their previous numbers:
//!
//! ```text
//! cargo bench -p corsguard --bench decide -- 'decide-preflight'
//! cargo bench -p corsguard --bench decide -- '/corsguard'   # only corsguard's side
//! ```
//!
//! What is measured, per case (one criterion group `decide-<case>` each):
//! - `corsguard`: what a corsguard middleware does: `RequestHead::from_request`, `decide`, then
//!   either answer (preflight / refusal) or call the trivial inner service and `apply`.
//! - `tower-http`: `CorsLayer` around the same trivial inner service (`ready` + `call`).
//! - `inner-alone`: the trivial inner service alone, the baseline of the two above.
//! - `actix-cors`: an actix `App` wrapped in `actix_cors::Cors`, one route, driven in-process
//!   (`actix_web::test::init_service`, then `Service::call` under `SystemRunner::block_on`, a
//!   current-thread actix runtime).
//! - `actix-bare`: the same `App` without CORS, the baseline of `actix-cors`.
//!
//! Overhead = median time − its baseline's median on the same request. Requests are built
//! outside the timed region (batches of 64; 1 MiB header values are shared, not copied); the
//! response is dropped inside it, as a server would. Allocations per request are counted with a
//! counting global allocator (the one `unsafe` in the workspace, bench-only) in a pass before
//! the timings, and written with the case list to `target/criterion/decide-cases.json`, which
//! `scripts/bench-table` joins with criterion's `new/estimates.json` medians.
#![allow(missing_docs, unsafe_code, clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::convert::Infallible;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::dev::{Service as ActixService, ServiceResponse};
use actix_web::http::header as ah;
use actix_web::rt::SystemRunner;
use bytes::Bytes;
use corsguard::Policy;
use corsguard::adapter::{Action, RequestHead};
use criterion::{BatchSize, BenchmarkGroup, Criterion, measurement::WallTime};
use futures_util::FutureExt;
use http::{HeaderName, HeaderValue, Method, Request, Response};
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

const PATH: &str = "/v1/items";
/// Size of the origin list in every case that does not say otherwise.
const LIST: usize = 10;
const MIB: usize = 1 << 20;

// ---------------------------------------------------------------------------------------------
// Cases

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    NoOrigin,
    Allowed,
    Refused,
    Preflight,
    PreflightRefused,
    Subdomain,
    HostileCommas,
    HostileSpaces,
}

struct Case {
    id: &'static str,
    label: &'static str,
    kind: Kind,
    /// Listed exact origins; the allowed request uses the last one (worst case for a list scan).
    n: usize,
    credentials: bool,
    /// Printed under the table: where a peer does not do the same work.
    note: &'static str,
}

const CASES: &[Case] = &[
    Case {
        id: "no-origin-get",
        label: "GET without Origin",
        kind: Kind::NoOrigin,
        n: LIST,
        credentials: false,
        note: "",
    },
    Case {
        id: "allowed-get",
        label: "GET, allowed",
        kind: Kind::Allowed,
        n: LIST,
        credentials: false,
        note: "",
    },
    Case {
        id: "refused-get",
        label: "GET, refused",
        kind: Kind::Refused,
        n: LIST,
        credentials: false,
        note: "tower-http checks its list only; corsguard and actix-cors also try the \
               `*.tenant.example` pattern before refusing",
    },
    Case {
        id: "preflight",
        label: "preflight, allowed",
        kind: Kind::Preflight,
        n: LIST,
        credentials: false,
        note: "tower-http does not check Access-Control-Request-Method/-Headers against its \
               lists (it sends the lists and lets the browser decide)",
    },
    Case {
        id: "preflight-refused",
        label: "preflight, refused origin",
        kind: Kind::PreflightRefused,
        n: LIST,
        credentials: false,
        note: "actix-cors answers 400 with an error body and skips the App's routing, so its \
               overhead is measured against a bare App that does route (see the responses table)",
    },
    Case {
        id: "list-1",
        label: "GET, allowed, 1 origin listed",
        kind: Kind::Allowed,
        n: 1,
        credentials: false,
        note: "",
    },
    Case {
        id: "list-100",
        label: "GET, allowed, 100 origins listed",
        kind: Kind::Allowed,
        n: 100,
        credentials: false,
        note: "",
    },
    Case {
        id: "list-1000",
        label: "GET, allowed, 1,000 origins listed",
        kind: Kind::Allowed,
        n: 1_000,
        credentials: false,
        note: "",
    },
    Case {
        id: "list-10000",
        label: "GET, allowed, 10,000 origins listed",
        kind: Kind::Allowed,
        n: 10_000,
        credentials: false,
        note: "tower-http's `AllowOrigin::list` is a linear scan (the request uses the last origin)",
    },
    Case {
        id: "subdomain-get",
        label: "GET, subdomain pattern `https://*.tenant.example`",
        kind: Kind::Subdomain,
        n: LIST,
        credentials: false,
        note: "tower-http: `AllowOrigin::predicate` (scan of the same list, then an \
               `https://` prefix + `.tenant.example` suffix test); actix-cors: its origin set, \
               then `allowed_origin_fn` with the same test; corsguard: its own pattern matcher",
    },
    Case {
        id: "credentials-get",
        label: "GET, allowed, credentials on",
        kind: Kind::Allowed,
        n: LIST,
        credentials: true,
        note: "",
    },
    Case {
        id: "hostile-commas",
        label: "preflight, 1 MiB ACRH of commas",
        kind: Kind::HostileCommas,
        n: LIST,
        credentials: false,
        note: "tower-http never reads Access-Control-Request-Headers when its allow-list is \
               explicit; actix-cors parses it and answers 400",
    },
    Case {
        id: "hostile-spaces",
        label: "preflight, 1 MiB ACRH of spaces",
        kind: Kind::HostileSpaces,
        n: LIST,
        credentials: false,
        note: "as above",
    },
];

impl Case {
    fn hostile(&self) -> bool {
        matches!(self.kind, Kind::HostileCommas | Kind::HostileSpaces)
    }
}

fn origins(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("https://app{i}.example.com"))
        .collect()
}

/// The `*.tenant.example` test given to tower-http and actix-cors.
fn tenant_subdomain(origin: &[u8]) -> bool {
    origin.starts_with(b"https://")
        && origin.ends_with(b".tenant.example")
        && origin.len() > "https://".len() + ".tenant.example".len()
}

// ---------------------------------------------------------------------------------------------
// Requests: one description per case, turned into an `http` 1.x request (corsguard, tower-http)
// or an actix request (actix-web still uses `http` 0.2's types).

struct Spec {
    preflight: bool,
    headers: Vec<(HeaderName, HeaderValue)>,
    actix_headers: Vec<(ah::HeaderName, ah::HeaderValue)>,
}

fn spec(case: &Case) -> Spec {
    let last = format!("https://app{}.example.com", case.n.saturating_sub(1));
    let refused = "https://evil.example".to_string();
    let (preflight, list): (bool, Vec<(&str, Bytes)>) = match case.kind {
        Kind::NoOrigin => (false, vec![]),
        Kind::Allowed => (false, vec![("origin", last.into())]),
        Kind::Refused => (false, vec![("origin", refused.into())]),
        Kind::Subdomain => (false, vec![("origin", "https://a.tenant.example".into())]),
        Kind::Preflight => (
            true,
            vec![
                ("origin", last.into()),
                ("access-control-request-method", "PUT".into()),
                (
                    "access-control-request-headers",
                    "content-type,x-trace-id".into(),
                ),
            ],
        ),
        Kind::PreflightRefused => (
            true,
            vec![
                ("origin", refused.into()),
                ("access-control-request-method", "PUT".into()),
            ],
        ),
        Kind::HostileCommas | Kind::HostileSpaces => {
            let fill = if case.kind == Kind::HostileCommas {
                b','
            } else {
                b' '
            };
            (
                true,
                vec![
                    ("origin", last.into()),
                    ("access-control-request-method", "PUT".into()),
                    ("access-control-request-headers", vec![fill; MIB].into()),
                ],
            )
        }
    };
    // Built once: clones share the bytes, so a 1 MiB request costs nothing to set up.
    Spec {
        preflight,
        headers: list
            .iter()
            .map(|(n, v)| {
                (
                    HeaderName::from_static(n),
                    HeaderValue::from_maybe_shared(v.clone()).unwrap(),
                )
            })
            .collect(),
        actix_headers: list
            .iter()
            .map(|(n, v)| {
                (
                    ah::HeaderName::from_static(n),
                    ah::HeaderValue::from_maybe_shared(v.clone()).unwrap(),
                )
            })
            .collect(),
    }
}

impl Spec {
    fn http(&self) -> Request<Body> {
        let method = if self.preflight {
            Method::OPTIONS
        } else {
            Method::GET
        };
        let mut b = Request::builder().method(method).uri(PATH);
        for (n, v) in &self.headers {
            b = b.header(n, v.clone());
        }
        b.body(Body::default()).unwrap()
    }

    fn actix_method(&self) -> actix_web::http::Method {
        if self.preflight {
            actix_web::http::Method::OPTIONS
        } else {
            actix_web::http::Method::GET
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The three policies, equivalent: `LIST` (or `n`) exact origins plus `https://*.tenant.example`,
// methods GET/PUT/DELETE, request headers content-type and x-trace-id, exposed x-request-id,
// max-age 600, credentials as the case says.

fn corsguard_policy(case: &Case) -> Policy {
    Policy::builder()
        .allow_origins(origins(case.n))
        .allow_origin("https://*.tenant.example")
        .allow_methods(["GET", "PUT", "DELETE"])
        .allow_headers(["content-type", "x-trace-id"])
        .expose_headers(["x-request-id"])
        .allow_credentials(case.credentials)
        .max_age(600)
        .build()
        .expect("valid policy")
}

fn tower_layer(case: &Case) -> CorsLayer {
    let list: Vec<HeaderValue> = origins(case.n).iter().map(|o| o.parse().unwrap()).collect();
    // tower-http takes either a list or a predicate: the pattern case gets a predicate that
    // scans the same list first, every other case the built-in list.
    let allow = if case.kind == Kind::Subdomain {
        AllowOrigin::predicate(move |o: &HeaderValue, _| {
            list.contains(o) || tenant_subdomain(o.as_bytes())
        })
    } else {
        AllowOrigin::list(list)
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::PUT, Method::DELETE])
        .allow_headers([
            http::header::CONTENT_TYPE,
            HeaderName::from_static("x-trace-id"),
        ])
        .expose_headers([HeaderName::from_static("x-request-id")])
        .allow_credentials(case.credentials)
        .max_age(Duration::from_secs(600))
}

fn actix_cors(case: &Case) -> actix_cors::Cors {
    let mut c = actix_cors::Cors::default();
    for o in origins(case.n) {
        c = c.allowed_origin(&o);
    }
    let c = c
        .allowed_origin_fn(|o, _| tenant_subdomain(o.as_bytes()))
        .allowed_methods(["GET", "PUT", "DELETE"])
        .allowed_headers([ah::CONTENT_TYPE, ah::HeaderName::from_static("x-trace-id")])
        .expose_headers(["x-request-id"])
        .max_age(600);
    if case.credentials {
        c.supports_credentials()
    } else {
        c
    }
}

// ---------------------------------------------------------------------------------------------
// What each side runs per request.

fn inner(_: Request<Body>) -> std::future::Ready<Result<Response<Body>, Infallible>> {
    std::future::ready(Ok(Response::new(Body::default())))
}

fn run_inner(req: Request<Body>) -> Response<Body> {
    inner(req).now_or_never().unwrap().unwrap()
}

/// What a corsguard middleware does per request.
fn run_corsguard(p: &Policy, req: Request<Body>) -> Response<Body> {
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
            let mut r = run_inner(req);
            d.apply(r.headers_mut());
            r
        }
    }
}

fn run_tower<S>(s: &mut S, r: Request<Body>) -> Response<Body>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible>,
{
    s.ready().now_or_never().unwrap().unwrap();
    s.call(r).now_or_never().unwrap().unwrap()
}

fn run_actix<S, R, B>(rt: &SystemRunner, s: &S, r: R) -> ServiceResponse<B>
where
    S: ActixService<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    rt.block_on(s.call(r)).unwrap()
}

async fn handler() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().finish()
}

/// `status` plus `+ACAO` when the response allows the origin.
fn outcome_http<B>(r: &Response<B>) -> String {
    let acao = r
        .headers()
        .contains_key(http::header::ACCESS_CONTROL_ALLOW_ORIGIN);
    format!(
        "{}{}",
        r.status().as_u16(),
        if acao { " +ACAO" } else { "" }
    )
}

fn outcome_actix<B>(r: &ServiceResponse<B>) -> String {
    let acao = r.headers().contains_key(ah::ACCESS_CONTROL_ALLOW_ORIGIN);
    format!(
        "{}{}",
        r.status().as_u16(),
        if acao { " +ACAO" } else { "" }
    )
}

/// Allocations per call of `run` (request built by `make`, outside the counted region; the
/// response is dropped inside it), and the outcome of the first call.
fn count<Q, R>(
    iters: usize,
    mut make: impl FnMut() -> Q,
    mut run: impl FnMut(Q) -> R,
    outcome: impl Fn(&R) -> String,
) -> (f64, String) {
    let first = outcome(&run(make()));
    for _ in 0..10 {
        drop(run(make()));
    }
    let mut total = 0;
    for _ in 0..iters {
        let q = make();
        let before = ALLOCS.load(Ordering::Relaxed);
        drop(black_box(run(q)));
        total += ALLOCS.load(Ordering::Relaxed) - before;
    }
    (total as f64 / iters as f64, first)
}

// ---------------------------------------------------------------------------------------------

const BATCH: BatchSize = BatchSize::NumIterations(64);

fn configure(g: &mut BenchmarkGroup<'_, WallTime>, case: &Case) {
    if case.hostile() {
        // actix-cors takes up to ~1 ms here.
        g.sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1));
    } else {
        g.sample_size(50)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1));
    }
}

fn bench_case(c: &mut Criterion, rt: &SystemRunner, case: &Case) -> serde_json::Value {
    let spec = spec(case);
    let policy = corsguard_policy(case);
    let mut tower = tower_layer(case).layer(service_fn(inner));
    let bare = rt.block_on(actix_web::test::init_service(
        actix_web::App::new().route(PATH, actix_web::web::to(handler)),
    ));
    // A closure, not a method: actix-web does not re-export the request type's name.
    let actix_req = || {
        let mut t = actix_web::test::TestRequest::default()
            .method(spec.actix_method())
            .uri(PATH);
        for (n, v) in &spec.actix_headers {
            t = t.insert_header((n.clone(), v.clone()));
        }
        t.to_request()
    };
    let cors = rt.block_on(actix_web::test::init_service(
        actix_web::App::new()
            .wrap(actix_cors(case))
            .route(PATH, actix_web::web::to(handler)),
    ));

    let iters = if case.hostile() { 50 } else { 500 };
    let inner_a = count(iters, || spec.http(), run_inner, outcome_http);
    let tower_a = count(
        iters,
        || spec.http(),
        |r| run_tower(&mut tower, r),
        outcome_http,
    );
    let ours_a = count(
        iters,
        || spec.http(),
        |r| run_corsguard(&policy, r),
        outcome_http,
    );
    let bare_a = count(iters, actix_req, |r| run_actix(rt, &bare, r), outcome_actix);
    let cors_a = count(iters, actix_req, |r| run_actix(rt, &cors, r), outcome_actix);
    println!(
        "allocations/request {:<20} inner {:>4.1}  tower-http {:>4.1}  corsguard {:>4.1}  \
         actix-bare {:>4.1}  actix-cors {:>4.1}   outcomes: tower-http {}, corsguard {}, actix-cors {}",
        case.id, inner_a.0, tower_a.0, ours_a.0, bare_a.0, cors_a.0, tower_a.1, ours_a.1, cors_a.1
    );

    let mut g = c.benchmark_group(format!("decide-{}", case.id));
    configure(&mut g, case);
    g.bench_function("inner-alone", |b| {
        b.iter_batched(|| spec.http(), |r| drop(black_box(run_inner(r))), BATCH)
    });
    g.bench_function("tower-http", |b| {
        b.iter_batched(
            || spec.http(),
            |r| drop(black_box(run_tower(&mut tower, r))),
            BATCH,
        )
    });
    g.bench_function("corsguard", |b| {
        b.iter_batched(
            || spec.http(),
            |r| drop(black_box(run_corsguard(&policy, r))),
            BATCH,
        )
    });
    g.bench_function("actix-bare", |b| {
        b.iter_batched(
            actix_req,
            |r| drop(black_box(run_actix(rt, &bare, r))),
            BATCH,
        )
    });
    g.bench_function("actix-cors", |b| {
        b.iter_batched(
            actix_req,
            |r| drop(black_box(run_actix(rt, &cors, r))),
            BATCH,
        )
    });
    g.finish();

    serde_json::json!({
        "group": format!("decide-{}", case.id),
        "label": case.label,
        "note": case.note,
        "allocs": {
            "inner-alone": inner_a.0,
            "tower-http": tower_a.0,
            "corsguard": ours_a.0,
            "actix-bare": bare_a.0,
            "actix-cors": cors_a.0,
        },
        "outcome": {
            "inner-alone": inner_a.1,
            "tower-http": tower_a.1,
            "corsguard": ours_a.1,
            "actix-bare": bare_a.1,
            "actix-cors": cors_a.1,
        },
    })
}

/// Where criterion writes (same rules as criterion: `CRITERION_HOME`, `CARGO_TARGET_DIR`,
/// else the workspace's `target/`).
fn criterion_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("CRITERION_HOME") {
        return p.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("criterion")
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let rt = actix_web::rt::System::new();
    let cases: Vec<serde_json::Value> = CASES.iter().map(|k| bench_case(&mut c, &rt, k)).collect();
    c.final_summary();

    // `cargo bench` passes `--bench`; `cargo test --benches` (one quick pass) does not.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let dir = criterion_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let side = dir.join("decide-cases.json");
    std::fs::write(
        &side,
        serde_json::to_string_pretty(&serde_json::json!({ "cases": cases })).unwrap(),
    )
    .unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/bench-table");
    println!();
    match std::process::Command::new(&script).arg(&dir).status() {
        Ok(s) if s.success() => {}
        _ => println!(
            "(could not run {}; results are in {})",
            script.display(),
            dir.display()
        ),
    }
}
