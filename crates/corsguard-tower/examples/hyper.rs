//! A plain hyper 1 server (no framework) with corsguard in front of it.
//!
//! ```text
//! cargo run -p corsguard-tower --example hyper [-- path/to/corsguard.yaml]
//! curl -i http://127.0.0.1:3001/anything -H 'Origin: https://app.example.com'
//! ```
//!
//! The app is a `tower::service_fn`; `CorsLayer` wraps it like any tower service, and
//! `hyper_util`'s `TowerToHyperService` hands the result to hyper's connection builder.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tower::{ServiceBuilder, service_fn};

async fn app(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = format!("{} {}\n", req.method(), req.uri().path());
    Ok(Response::new(Full::new(Bytes::from(body))))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/corsguard.yaml").to_string()
    });
    // `Full<Bytes>` is `Default` (empty), which is what preflight answers are made of.
    let cors = match corsguard_tower::CorsLayer::from_file(&path) {
        Ok(layer) => layer,
        Err(errors) => {
            eprintln!("{errors}");
            std::process::exit(2);
        }
    };
    let service = ServiceBuilder::new().layer(cors).service(service_fn(app));

    let addr = SocketAddr::from(([127, 0, 0, 1], 3001));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{addr}");
    loop {
        let (stream, _) = listener.accept().await?;
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            if let Err(e) = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                eprintln!("connection error: {e}");
            }
        });
    }
}
