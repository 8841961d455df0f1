//! One request through the gateway: the adapter contract of `ARCHITECTURE.md` over a
//! reverse proxy.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Instant, SystemTime};

use corsguard::adapter::{Action, Decision, OriginTrust, RequestHead};
use corsguard::{Clipped, Policy};
use http::header::{self, HeaderValue};
use http::{Request, Response, StatusCode, Version};
use http_body::Body as _;
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::body::{self, GatewayBody, RequestBody, Tracked};
use crate::conn::{ActiveGuard, StreamGuard};
use crate::forwarding::{self, ClientView, Peer};
use crate::refusals::{Admit, REFUSAL_LINES_PER_SECOND, RefusedRequest, unix};
use crate::state::Shared;
use crate::upstream::Upstream;

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
            400 => "bad-request",
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

/// Decides a request with the given policy and accounts for it: counted in the metrics,
/// and, when refused, one rate-limited log line and an entry (with its trace) in the
/// refusal ring. With debug logging on, the engine logs every decision's full trace itself.
fn decide(shared: &Shared, policy: &Policy, version: u64, head: &RequestHead<'_>) -> Decision {
    if tracing::enabled!(target: "corsguard", tracing::Level::DEBUG) {
        let (d, trace) = policy.decide_traced(head);
        shared.metrics.record_decision(&d);
        if let Some(trace) = trace.filter(|_| d.is_refused()) {
            keep_refusal(shared, version, &d, trace);
        }
        return d;
    }
    let d = policy.decide_silent(head);
    shared.metrics.record_decision(&d);
    if d.is_refused() {
        account_refusal(shared, policy, version, head, &d);
    }
    d
}

#[cold]
#[inline(never)]
fn account_refusal(
    shared: &Shared,
    policy: &Policy,
    version: u64,
    head: &RequestHead<'_>,
    d: &Decision,
) {
    // One budget for the log line and the ring entry (whose trace is the costly part): a
    // flood of refused requests costs no more than allowed traffic, and the ring still
    // shows what is being refused.
    match shared.log_limiter.admit() {
        Admit::Write { suppressed } => {
            if suppressed > 0 {
                tracing::info!(
                    target: "corsguard",
                    suppressed,
                    "{suppressed} refusal log lines not written (limit: {REFUSAL_LINES_PER_SECOND} per second)"
                );
            }
            d.log_refusal(head);
            if shared.refusals.enabled() {
                let (_, trace) = policy.explain(head);
                keep_refusal(shared, version, d, trace);
            }
        }
        Admit::Drop => shared.metrics.refusal_log_lines_dropped(1),
    }
}

fn keep_refusal(shared: &Shared, version: u64, d: &Decision, trace: corsguard::Trace) {
    shared.refusals.push(RefusedRequest {
        at_unix: unix(SystemTime::now()),
        policy_version: version,
        refusal: d.refusal(),
        csrf: d.csrf().refusal(),
        trace,
    });
}

/// Size of a request head as the limit counts it: request line plus `name: value\r\n`
/// per field, and the number of field lines.
fn head_size(req: &Request<Incoming>) -> (usize, usize) {
    let line = req.method().as_str().len()
        + req.uri().path_and_query().map_or(1, |p| p.as_str().len())
        + 12;
    let h = req.headers();
    let size = h
        .iter()
        .fold(line, |acc, (n, v)| acc + n.as_str().len() + v.len() + 4);
    (size, h.len())
}

/// The gateway's own answer to a request refused before its decision was accounted for
/// (a head over the limits, a path that cannot be made canonical): the CORS headers of a
/// silent decision, so the browser shows the real status, and no log line, no trace.
fn refuse_early(
    shared: &Shared,
    req: &Request<Incoming>,
    view: &ClientView,
    status: StatusCode,
    message: &str,
) -> Response<GatewayBody> {
    let versioned = shared.policy.load();
    let head = RequestHead::from_components(req.method(), req.uri(), req.headers())
        .with_host(view.host())
        .with_scheme(Some(&view.scheme));
    let d = versioned.decide_silent(&head);
    gateway_error(shared, Some(&d), status, message)
}

/// Makes the request target canonical in place (see [`crate::path`]): rules, the
/// WebSocket check and forwarding then all see the same path. `Err` holds the reason for
/// a 400.
fn canonical_target(shared: &Shared, req: &mut Request<Incoming>) -> Result<(), &'static str> {
    let uri = req.uri();
    if req.method() == http::Method::CONNECT {
        return Err("CONNECT is not supported: the gateway is a reverse proxy");
    }
    if req.version() < Version::HTTP_2 && uri.scheme().is_some() {
        return Err(
            "absolute-form request targets are not accepted (send the path, and the host in Host)",
        );
    }
    let path = uri.path();
    if path == "*" {
        return if req.method() == http::Method::OPTIONS && uri.query().is_none() {
            Ok(())
        } else {
            Err("`*` is a request target for OPTIONS only")
        };
    }
    let canonical = match shared.normalizer.normalize(path) {
        Ok(std::borrow::Cow::Borrowed(_)) => return Ok(()),
        Ok(std::borrow::Cow::Owned(p)) => p,
        Err(e) => return Err(e.message()),
    };
    let pq = match uri.query() {
        Some(q) => format!("{canonical}?{q}"),
        None => canonical,
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(
        http::uri::PathAndQuery::try_from(pq)
            .map_err(|_| "the request path cannot be made canonical")?,
    );
    *req.uri_mut() =
        http::Uri::from_parts(parts).map_err(|_| "the request path cannot be made canonical")?;
    Ok(())
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
        .with_host(view.host())
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
    peer: Arc<Peer>,
    guard: ActiveGuard,
) -> Response<GatewayBody> {
    let settings = &shared.settings;
    let view = ClientView::of(req.headers(), req.uri(), shared.scheme, peer.trusted);

    // Limits first: a head over them is answered without being decided, logged or kept.
    let (size, lines) = head_size(&req);
    if size > settings.limits.max_request_header_bytes
        || lines > settings.limits.max_request_headers
    {
        return refuse_early(
            &shared,
            &req,
            &view,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "request header fields too large",
        );
    }
    // One canonical path for rules, the WebSocket check and the upstream.
    if let Err(why) = canonical_target(&shared, &mut req) {
        return refuse_early(&shared, &req, &view, StatusCode::BAD_REQUEST, why);
    }

    if shared.explain_endpoint && req.uri().path() == crate::explain::EXPLAIN_PATH {
        return explain_endpoint(&shared, &req, view.host());
    }

    let versioned = shared.policy.load();
    let policy: &Policy = &versioned;
    let websocket = req.version() == Version::HTTP_11
        && forwarding::is_upgrade(req.headers())
        && forwarding::is_websocket(req.headers());

    // 1-2. RequestHead without copying, one decision per request on one policy version.
    let (decision, trust) = {
        let head = RequestHead::from_components(req.method(), req.uri(), req.headers())
            .with_host(view.host())
            .with_scheme(Some(&view.scheme));
        let d = decide(&shared, policy, versioned.version, &head);
        let trust =
            (websocket && settings.websocket.check_origin).then(|| policy.origin_trust(&head));
        (d, trust)
    };

    // 3. Respond: preflights (and `on_reject: forbid`) never reach the upstream.
    if let Action::Respond(_) = decision.action()
        && let Some((status, headers)) = decision.response_parts()
    {
        let text = decision.body();
        let mut r = Response::new(if text.is_empty() {
            body::empty()
        } else {
            body::full(bytes::Bytes::from_static(text.as_bytes()))
        });
        *r.status_mut() = status;
        *r.headers_mut() = headers;
        return r;
    }

    // The Cross-Site WebSocket Hijacking guard: the same origin, or one the rule lists.
    if let Some(OriginTrust::Untrusted(why)) = trust {
        tracing::info!(
            target: "corsguard",
            origin = %Clipped::new(req.headers().get(header::ORIGIN).map_or(&b""[..], |o| o.as_bytes())),
            path = %Clipped::new(req.uri().path().as_bytes()),
            "WebSocket handshake refused (websocket.check_origin): {}",
            why.describe()
        );
        return gateway_error(
            &shared,
            Some(&decision),
            StatusCode::FORBIDDEN,
            "WebSocket handshake refused: origin not allowed",
        );
    }

    let content_length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
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

    // A slot under limits.max_upstream_connections, held until the response body ends.
    let slot = match upstream.slots() {
        Some(sem) => match sem.clone().try_acquire_owned() {
            Ok(p) => Some(p),
            Err(_) => {
                match tokio::time::timeout(settings.timeouts.connect, sem.clone().acquire_owned())
                    .await
                {
                    Ok(Ok(p)) => Some(p),
                    _ => {
                        tracing::warn!(
                            upstream = upstream.as_str(),
                            "limits.max_upstream_connections reached: answering 503"
                        );
                        return gateway_error(
                            &shared,
                            Some(&decision),
                            StatusCode::SERVICE_UNAVAILABLE,
                            "the upstream is at its connection limit; retry shortly",
                        );
                    }
                }
            }
        },
        None => None,
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
    // A body of unknown length (chunked) keeps being chunked upstream, whatever the
    // method: hyper would otherwise send a GET's or HEAD's body as empty.
    let chunked = content_length.is_none()
        && !incoming.is_end_stream()
        && incoming.size_hint().exact().is_none();
    forwarding::strip_hop_by_hop(&mut parts.headers, websocket);
    forwarding::set_forwarded(&mut parts.headers, &peer, &view);
    if chunked {
        parts.headers.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
    }
    parts
        .headers
        .insert(header::HOST, upstream.host_header().clone());
    parts.uri = uri;
    parts.version = Version::HTTP_11;
    let body_state = Arc::new(AtomicU8::new(body::BODY_OK));
    let upstream_req = Request::from_parts(
        parts,
        RequestBody::new(incoming, max_body, body_state.clone()),
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
        Ok(Err(e)) => return upstream_failed(&shared, &decision, &upstream, &body_state, &e),
        Ok(Ok(r)) => r,
    };
    shared.metrics.record_upstream_latency(started.elapsed());

    if let Some(client_upgrade) = client_upgrade
        && resp.status() == StatusCode::SWITCHING_PROTOCOLS
    {
        let upstream_upgrade = hyper::upgrade::on(&mut resp);
        let slots = crate::websocket::TunnelSlots {
            _connection: guard.activity().take_slot(),
            _upstream: slot,
        };
        crate::websocket::spawn_tunnel(&shared, client_upgrade, upstream_upgrade, slots);
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
    let guard = StreamGuard::new(guard, slot);
    Response::from_parts(parts, Tracked::new(upstream_body, guard).boxed_unsync())
}

/// The answer when the upstream call failed: 413 or 400 when the client's body was the
/// cause, 504 for a connect timeout, else 502.
#[cold]
fn upstream_failed(
    shared: &Shared,
    decision: &Decision,
    upstream: &Upstream,
    body_state: &AtomicU8,
    e: &hyper_util::client::legacy::Error,
) -> Response<GatewayBody> {
    match body_state.load(Ordering::Acquire) {
        body::BODY_TOO_LARGE => {
            return gateway_error(
                shared,
                Some(decision),
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large",
            );
        }
        body::BODY_CLIENT_ERROR => {
            tracing::debug!("client request body failed: {e}");
            return gateway_error(
                shared,
                Some(decision),
                StatusCode::BAD_REQUEST,
                "the request body could not be read (malformed or cut short)",
            );
        }
        _ => {}
    }
    if is_timeout(e) {
        tracing::warn!(
            upstream = upstream.as_str(),
            "upstream connect timeout: {e}"
        );
        return gateway_error(
            shared,
            Some(decision),
            StatusCode::GATEWAY_TIMEOUT,
            "the upstream could not be reached in time",
        );
    }
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    tracing::warn!(upstream = upstream.as_str(), "upstream error: {msg}");
    gateway_error(
        shared,
        Some(decision),
        StatusCode::BAD_GATEWAY,
        "the upstream is unavailable",
    )
}
