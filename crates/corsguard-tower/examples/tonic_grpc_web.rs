//! A tonic gRPC server that browsers can call through gRPC-web, with corsguard answering
//! the CORS preflights (tonic-web ≥ 0.13 has no CORS of its own).
//!
//! ```text
//! cargo run -p corsguard-tower --example tonic_grpc_web [-- path/to/corsguard.yaml]
//!
//! # the browser's preflight for a gRPC-web call
//! curl -i -X OPTIONS http://127.0.0.1:50051/demo.Greeter/SayHello \
//!      -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: POST' \
//!      -H 'Access-Control-Request-Headers: content-type, x-grpc-web, x-user-agent'
//! # the call itself (a 5-byte gRPC frame header + the message "web")
//! printf '\x00\x00\x00\x00\x03web' | curl -s --data-binary @- -D - -o /dev/null \
//!      http://127.0.0.1:50051/demo.Greeter/SayHello -H 'Origin: https://app.example.com' \
//!      -H 'content-type: application/grpc-web+proto' -H 'x-grpc-web: 1'
//! ```
//!
//! To stay free of `protoc` and prost, the service is written by hand with a raw-bytes codec
//! (the message is the UTF-8 name). With `tonic-build`/`tonic-prost` generated code, replace
//! `Greeter` with `GreeterServer::new(MyGreeter)`; the layers stay the same.
//!
//! The policy is `examples/corsguard.yaml`. gRPC-web needs a few more request and response
//! headers than a JSON API, so they are layered on top of the file's `defaults:` with the
//! same environment overrides `corsguard` understands (`CORSGUARD_ALLOW_HEADERS`, ...).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, BufMut, Bytes};
use corsguard::Policy;
use corsguard_tower::CorsLayer;
use tonic::body::Body;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::server::{Grpc, NamedService};
use tonic::transport::Server;
use tonic::{Status, service::Routes};
use tonic_web::GrpcWebLayer;

/// Headers a gRPC-web client sends (`content-type: application/grpc-web+proto` is not
/// CORS-safelisted, so every call is preflighted) and the trailers-as-headers it must read.
const GRPC_WEB_ENV: [(&str, &str); 2] = [
    (
        "CORSGUARD_ALLOW_HEADERS",
        "authorization,content-type,x-trace-id,x-grpc-web,x-user-agent,grpc-timeout",
    ),
    (
        "CORSGUARD_EXPOSE_HEADERS",
        "x-request-id,grpc-status,grpc-message,grpc-status-details-bin",
    ),
];

/// Passes message bytes through unchanged (stands in for a protobuf codec).
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }
    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = Status;
    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// `demo.Greeter` with one unary method, `SayHello`.
#[derive(Debug, Clone, Copy)]
struct Greeter;

impl NamedService for Greeter {
    const NAME: &'static str = "demo.Greeter";
}

impl tower::Service<http::Request<Body>> for Greeter {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        Box::pin(async move {
            if req.uri().path() != "/demo.Greeter/SayHello" {
                return Ok(Status::unimplemented("no such method").into_http());
            }
            let say_hello = tower::service_fn(|req: tonic::Request<Bytes>| async move {
                let name = String::from_utf8_lossy(req.get_ref()).into_owned();
                Ok::<_, Status>(tonic::Response::new(Bytes::from(format!("Hello, {name}!"))))
            });
            Ok(Grpc::new(RawCodec).unary(say_hello, req).await)
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/corsguard.yaml").to_string()
    });
    let env = GRPC_WEB_ENV.map(|(k, v)| (k.to_string(), v.to_string()));
    let policy = match Policy::load().file(&path).env_vars(env).build() {
        Ok(p) => p,
        Err(errors) => {
            eprintln!("{errors}");
            std::process::exit(2);
        }
    };

    let addr = SocketAddr::from(([127, 0, 0, 1], 50051));
    println!("gRPC (HTTP/2) and gRPC-web (HTTP/1.1) on http://{addr}");
    Server::builder()
        // browsers speak gRPC-web over HTTP/1.1
        .accept_http1(true)
        // outermost: answers preflights before tonic-web or the router see them, and puts
        // CORS headers on every gRPC-web response (including error statuses)
        .layer(CorsLayer::new(policy))
        .layer(GrpcWebLayer::new())
        .add_routes(Routes::new(Greeter))
        .serve(addr)
        .await?;
    Ok(())
}
