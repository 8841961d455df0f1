//! One request through the gateway: the adapter contract of `ARCHITECTURE.md` over a
//! reverse proxy.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

use corsguard::{Action, Decision, Policy, RequestHead};
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode, Version};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::body::{self, GatewayBody, RequestBody, Tracked};
use crate::forwarding::{self, ClientView};
use crate::refusals::{RefusedRequest, unix};
use crate::server::{ActiveGuard, Shared};

/// A response the gateway produces itself (limits, upstream failures): a short text body,
/// then the decision's CORS headers, so the browser shows the real status instead of a CORS
/// error.
pub(crate) fn gateway_error(
    shared: &Shared,
    decision: Option<&Decision>,
    status: StatusCode,
    message: &str,
) -> Response<GatewayBody> {
    shared.metrics.record_gateway_response(status.as_u16());
    let mut r = Response::new(body::full(format!("{message}\n")));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        "x-corsguard-error",
        HeaderValue::from_static(match status.as_u16() {
            403 => "websocket-origin",
            413 => "body-too-large",
            431 => "header-too-large",
            502 => "upstream-unavailable",
            503 => "overloaded",
            504 => "upstream-timeout",
            _ => "gateway",
        }),
    );
    if status == StatusCode::SERVICE_UNAVAILABLE {
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if let Some(d) = decision {
        d.apply(h);
    }
    r
}

/// Decides a request with the given policy, counts it and logs refusals into the ring
/// buffer (with the trace, computed only for refused requests).
fn decide(shared: &Shared, policy: &Policy, version: u64, head: &RequestHead<'_>) -> Decision {
    let (d, trace) = policy.decide_traced(head);
    shared.metrics.record_decision(&d);
    if let (Some(refusal), Some(trace)) = (d.refusal(), trace) {
        shared.refusals.push(RefusedRequest {
            at_unix: unix(SystemTime::now()),
            policy_version: version,
            refusal,
            trace,
        });
    }
    d
}

/// The answer on a connection over `limits.max_connections`: 503 with CORS headers.
pub(crate) fn overloaded(
    shared: &Shared,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<GatewayBody> {
    let versioned = shared.policy.load();
    let trusted = forwarding::is_trusted(peer.ip(), &shared.settings.trusted_proxies);
    let view = ClientView::of(req.headers(), req.uri(), shared.scheme, trusted);
    let head = RequestHead::from_components(req.method(), req.uri(), req.headers())
        .with_host(view.host.as_deref())
        .with_scheme(Some(&view.scheme));
    let d = decide(shared, &versioned, versioned.version, &head);
    let mut r = gateway_error(
        shared,
        Some(&d),
        StatusCode::SERVICE_UNAVAILABLE,
        "the gateway is over its connection limit; retry shortly",
    );
    if req.version() < Version::HTTP_2 {
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    r
}

fn explain_endpoint(
    shared: &Shared,
    req: &Request<Incoming>,
    host: Option<&str>,
) -> Response<GatewayBody> {
    let versioned = shared.policy.load();
    if req.method() == http::Method::OPTIONS {
        return crate::simple::response(
            204,
            &[
                ("access-control-allow-origin", "*"),
                ("access-control-allow-methods", "GET"),
                ("access-control-max-age", "600"),
            ],
            "",
        );
    }
    let (status, json) =
        crate::explain::respond(&versioned, versioned.version, req.uri().query(), host);
    crate::simple::response(
        status.as_u16(),
        &[
            ("content-type", "application/json"),
            ("access-control-allow-origin", "*"),
            ("cache-control", "no-store"),
        ],
        json,
    )
}

fn is_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::TimedOut
        {
            return true;
        }
        cur = err.source();
    }
    false
}

/// Handles one request on a gateway connection.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    mut req: Request<Incoming>,
    peer: SocketAddr,
    guard: ActiveGuard,
) -> Response<GatewayBody> {
    let versioned = shared.policy.load();
    let policy: &Policy = &versioned;
    let settings = &shared.settings;
    let trusted = forwarding::is_trusted(peer.ip(), &settings.trusted_proxies);
    let view = ClientView::of(req.headers(), req.uri(), shared.scheme, trusted);

    if shared.explain_endpoint && req.uri().path() == crate::explain::EXPLAIN_PATH {
        return explain_endpoint(&shared, &req, view.host.as_deref());
    }

    // 1-2. RequestHead without copying, one decision per request on one policy version.
    let decision = {
        let head = RequestHead::from_components(req.method(), req.uri(), req.headers())
            .with_host(view.host.as_deref())
            .with_scheme(Some(&view.scheme));
        decide(&shared, policy, versioned.version, &head)
    };

    let (head_size, content_length) = {
        let h = req.headers();
        let line = req.method().as_str().len()
            + req.uri().path_and_query().map_or(1, |p| p.as_str().len())
            + 12;
        let size = h
            .iter()
            .fold(line, |acc, (n, v)| acc + n.as_str().len() + v.len() + 4);
        let cl = h
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        (size, cl)
    };
    if head_size > settings.limits.max_request_header_bytes {
        return gateway_error(
            &shared,
            Some(&decision),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request header fields too large",
        );
    }

    // 3. Respond: preflights (and `on_reject: forbid`) never reach the upstream.
    if let Action::Respond(_) = decision.action()
        && let Some((status, headers)) = decision.response_parts()
    {
        let mut r = Response::new(body::empty());
        *r.status_mut() = status;
        *r.headers_mut() = headers;
        return r;
    }

    let websocket = req.version() == Version::HTTP_11
        && forwarding::is_upgrade(req.headers())
        && forwarding::is_websocket(req.headers());
    if websocket
        && settings.websocket.check_origin
        && let Some(origin) = req.headers().get(header::ORIGIN)
        && !policy.origin_allowed(req.uri().path(), view.host.as_deref(), origin.as_bytes())
    {
        tracing::info!(
            target: "corsguard",
            origin = %String::from_utf8_lossy(origin.as_bytes()),
            path = req.uri().path(),
            "WebSocket handshake refused: origin not allowed (websocket.check_origin)"
        );
        return gateway_error(
            &shared,
            Some(&decision),
            StatusCode::FORBIDDEN,
            "WebSocket handshake refused: origin not allowed",
        );
    }

    let max_body = settings.limits.max_body_bytes;
    if content_length.is_some_and(|n| n > max_body) {
        return gateway_error(
            &shared,
            Some(&decision),
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large",
        );
    }

    let Some(upstream) = shared.routes.resolve(&versioned, decision.rule_index()) else {
        return gateway_error(
            &shared,
            Some(&decision),
            StatusCode::BAD_GATEWAY,
            "no upstream is configured for this path",
        );
    };

    // Forward / PassThrough: call the upstream.
    let client_upgrade = websocket.then(|| hyper::upgrade::on(&mut req));
    let (mut parts, incoming) = req.into_parts();
    let uri = match upstream.uri_for(parts.uri.path_and_query()) {
        Ok(u) => u,
        Err(_) => {
            return gateway_error(
                &shared,
                Some(&decision),
                StatusCode::BAD_REQUEST,
                "request target cannot be forwarded",
            );
        }
    };
    forwarding::strip_hop_by_hop(&mut parts.headers, websocket);
    forwarding::set_forwarded(&mut parts.headers, peer.ip(), trusted, &view);
    if let Ok(h) = HeaderValue::from_str(upstream.authority().as_str()) {
        parts.headers.insert(header::HOST, h);
    }
    parts.uri = uri;
    parts.version = Version::HTTP_11;
    let exceeded = Arc::new(AtomicBool::new(false));
    let upstream_req = Request::from_parts(
        parts,
        RequestBody::new(incoming, max_body, exceeded.clone()),
    );

    let started = Instant::now();
    let result = tokio::time::timeout(
        settings.timeouts.upstream_response,
        shared.client.request(upstream_req),
    )
    .await;
    let mut resp = match result {
        Err(_) => {
            tracing::warn!(upstream = upstream.as_str(), "upstream response timeout");
            return gateway_error(
                &shared,
                Some(&decision),
                StatusCode::GATEWAY_TIMEOUT,
                "the upstream did not answer in time",
            );
        }
        Ok(Err(e)) => {
            if exceeded.load(Ordering::Acquire) {
                return gateway_error(
                    &shared,
                    Some(&decision),
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "request body too large",
                );
            }
            if is_timeout(&e) {
                tracing::warn!(
                    upstream = upstream.as_str(),
                    "upstream connect timeout: {e}"
                );
                return gateway_error(
                    &shared,
                    Some(&decision),
                    StatusCode::GATEWAY_TIMEOUT,
                    "the upstream could not be reached in time",
                );
            }
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                src = s.source();
            }
            tracing::warn!(upstream = upstream.as_str(), "upstream error: {msg}");
            return gateway_error(
                &shared,
                Some(&decision),
                StatusCode::BAD_GATEWAY,
                "the upstream is unavailable",
            );
        }
        Ok(Ok(r)) => r,
    };
    shared.metrics.record_upstream_latency(started.elapsed());

    if let Some(client_upgrade) = client_upgrade
        && resp.status() == StatusCode::SWITCHING_PROTOCOLS
    {
        let upstream_upgrade = hyper::upgrade::on(&mut resp);
        crate::websocket::spawn_tunnel(&shared, client_upgrade, upstream_upgrade);
        let (parts, _) = resp.into_parts();
        return Response::from_parts(parts, body::empty());
    }

    // 3. Forward: replace the upstream's CORS headers with the decision's, merge Vary.
    let (mut parts, upstream_body) = resp.into_parts();
    forwarding::strip_hop_by_hop(&mut parts.headers, false);
    if decision.owns_cors_headers() {
        forwarding::strip_access_control(&mut parts.headers);
    }
    decision.apply(&mut parts.headers);
    Response::from_parts(parts, Tracked::new(upstream_body, guard).boxed_unsync())
}
