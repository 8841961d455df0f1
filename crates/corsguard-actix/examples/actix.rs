//! actix-web + corsguard, with hot reload.
//!
//! ```text
//! cargo run -p corsguard-actix --example actix [-- path/to/corsguard.yaml]
//!
//! # a preflight, answered by corsguard (the auth middleware never sees it)
//! curl -i -X OPTIONS http://127.0.0.1:3002/v1/items \
//!      -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: PUT' \
//!      -H 'Access-Control-Request-Headers: authorization, content-type'
//! # the actual request: auth's 401 (an `Err` from a middleware) carries CORS headers
//! curl -i -X PUT http://127.0.0.1:3002/v1/items -H 'Origin: https://app.example.com'
//! # edit the policy file, then: kill -HUP <pid>   (a broken file keeps the running policy)
//! ```
//!
//! The policy is `examples/corsguard.yaml` at the workspace root unless a path is given.

use std::path::PathBuf;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, Error, HttpResponse, HttpServer, error, web};
use corsguard::{Policy, PolicyHandle};
use corsguard_actix::Cors;

/// A stand-in for real authentication: fails with 401 unless `Authorization` is present.
async fn require_auth(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if req.headers().contains_key("authorization") {
        next.call(req).await
    } else {
        Err(error::ErrorUnauthorized("missing credentials\n"))
    }
}

fn policy_path() -> PathBuf {
    std::env::args_os().nth(1).map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../examples/corsguard.yaml"
            ))
        },
        PathBuf::from,
    )
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let path = policy_path();
    let policy = match Policy::from_file(&path) {
        Ok(p) => p,
        Err(errors) => {
            eprintln!("{errors}");
            std::process::exit(2);
        }
    };
    let handle = PolicyHandle::new(policy);
    reload_on_sighup(handle.clone(), path);

    let cors = Cors::from_handle(handle);
    let server = HttpServer::new(move || {
        App::new()
            .service(
                web::scope("/v1")
                    .route(
                        "/items",
                        web::get().to(|| async { HttpResponse::Ok().body("[]\n") }),
                    )
                    .route("/items", web::put().to(|| async { "stored\n" }))
                    .wrap(from_fn(require_auth)),
            )
            .route("/public/logo.svg", web::get().to(|| async { "<svg/>\n" }))
            .route("/health", web::get().to(|| async { "ok\n" }))
            // The last `wrap` is the outermost middleware: it sees every request before
            // routing and auth, and decorates 401/404 and error responses too.
            .wrap(cors.clone())
    })
    .bind(("127.0.0.1", 3002))?;
    println!("listening on http://127.0.0.1:3002");
    server.run().await
}

/// Reloads the policy file on SIGHUP (every worker sees the new policy on its next
/// request). A file with errors is reported and the running policy is kept.
fn reload_on_sighup(handle: PolicyHandle, path: PathBuf) {
    #[cfg(unix)]
    actix_web::rt::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            match handle.reload_file(&path) {
                Ok(version) => println!("policy reloaded (version {version})"),
                Err(errors) => eprintln!("reload failed, keeping the running policy:\n{errors}"),
            }
        }
    });
    #[cfg(not(unix))]
    let _ = (handle, path);
}
