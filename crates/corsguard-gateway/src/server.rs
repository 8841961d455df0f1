//! Listeners, connections, limits and the gateway's lifecycle (bind → serve → drain).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use corsguard::gateway::GatewaySettings;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::GatewayConfig;
use crate::error::Error;
use crate::metrics::Metrics;
use crate::path::Normalizer;
use crate::refusals::{LogLimiter, REFUSAL_LINES_PER_SECOND, REFUSAL_LOG_BYTES, RefusalLog, unix};
use crate::reload::Reloader;
use crate::upstream::Routes;

use crate::conn::{ActiveGuard, ConnActivity, ConnSlot};
use crate::running::{RunningGateway, ShutdownReport};
use crate::state::Shared;

/// Connections beyond `limits.max_connections` that still get a 503 answer (more are
/// closed without one).
const OVERLOAD_ANSWERS: usize = 64;

/// Connections the admin listener serves at once (scrapers, probes, an operator's
/// browser); more are closed at accept.
const ADMIN_CONNECTIONS: usize = 64;

/// Starts gateways.
///
/// ```no_run
/// # async fn f() -> Result<(), corsguard_gateway::Error> {
/// let config = corsguard_gateway::GatewayConfig::from_file_and_env("corsguard.yaml")?
///     .handle_signals(true);
/// let running = corsguard_gateway::Gateway::bind(config).await?;
/// let report = running.wait().await; // until SIGTERM / Ctrl-C, then drain
/// assert!(report.drained);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Gateway;

/// Header lines hyper itself accepts: above the gateway's own `max_request_headers`, so
/// that the gateway, not hyper, answers a head with too many lines (with CORS headers).
pub(crate) fn hyper_max_headers(settings: &GatewaySettings) -> usize {
    settings.limits.max_request_headers.saturating_add(100)
}

fn builders(
    settings: &GatewaySettings,
) -> (auto::Builder<TokioExecutor>, auto::Builder<TokioExecutor>) {
    // hyper's own head limits are only a backstop (answered 431 without CORS headers); the
    // configured limits are enforced by the proxy so that its 431 carries them.
    let backstop = settings
        .limits
        .max_request_header_bytes
        .saturating_mul(2)
        .saturating_add(8192)
        .max(16 * 1024);
    let max_headers = hyper_max_headers(settings);
    // HTTP/2 counts 32 bytes per field on top of name and value (RFC 9113 §6.5.2).
    let h2_list = backstop.saturating_add(max_headers.saturating_mul(32));
    let mut b = auto::Builder::new(TokioExecutor::new());
    b.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.timeouts.client_header_read)
        .max_buf_size(backstop)
        .max_headers(max_headers)
        .keep_alive(true);
    b.http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(settings.http2.max_concurrent_streams)
        .max_header_list_size(u32::try_from(h2_list).unwrap_or(u32::MAX));
    let mut o = auto::Builder::new(TokioExecutor::new());
    o.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.timeouts.client_header_read)
        .max_buf_size(backstop)
        .max_headers(max_headers)
        .keep_alive(false);
    o.http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(settings.http2.max_concurrent_streams);
    (b, o)
}

impl Gateway {
    /// Validates the configuration, binds the listeners (gateway and admin) and starts
    /// serving in the background. Returns once the sockets are bound, so the addresses are
    /// known (bind to port 0 to get free ports).
    pub async fn bind(config: GatewayConfig) -> Result<RunningGateway, Error> {
        config.check()?;
        let settings = config.settings.clone();
        let tls = settings
            .tls
            .as_ref()
            .map(crate::tls::acceptor)
            .transpose()?;
        let listener = crate::simple::bind(settings.listen).await?;
        let local_addr = listener.local_addr().map_err(|source| Error::Io {
            context: "local address".into(),
            source,
        })?;
        let admin_listener = match settings.admin_listen {
            Some(a) => Some(crate::simple::bind(a).await?),
            None => None,
        };
        let admin_addr = match &admin_listener {
            Some(l) => Some(l.local_addr().map_err(|source| Error::Io {
                context: "admin address".into(),
                source,
            })?),
            None => None,
        };
        let client = crate::upstream::client(
            settings.timeouts.connect,
            settings.timeouts.idle,
            settings.limits.max_upstream_connections,
        )?;
        let metrics = Arc::new(Metrics::default());
        let now = SystemTime::now();
        let loaded = Arc::new(Mutex::new((config.policy.version(), now)));
        metrics.set_policy(config.policy.version(), unix(now));
        for w in config.policy.load().warnings() {
            tracing::warn!("{w}");
        }
        let shutdown = CancellationToken::new();
        let reloader = config.config_file.as_ref().map(|path| {
            Arc::new(Reloader::new(
                path.clone(),
                config.env_overrides,
                config.policy.clone(),
                metrics.clone(),
                config.policy.load().gateway().cloned(),
                loaded.clone(),
            ))
        });
        if let Some(r) = &reloader
            && (config.watch || config.handle_signals)
        {
            crate::reload::spawn(
                r.clone(),
                config.watch,
                config.reload_debounce,
                config.handle_signals,
                shutdown.clone(),
            )?;
        }
        if config.handle_signals {
            spawn_signal_handler(shutdown.clone())?;
        }
        let (builder, overload_builder) = builders(&settings);
        let shared = Arc::new(Shared {
            policy: config.policy.clone(),
            routes: Routes::new(
                config.upstream_override.clone(),
                settings.limits.max_upstream_connections,
            ),
            client,
            metrics,
            refusals: RefusalLog::new(config.refusal_log_capacity, REFUSAL_LOG_BYTES),
            log_limiter: LogLimiter::new(REFUSAL_LINES_PER_SECOND),
            normalizer: Normalizer {
                encoded_slashes: settings.normalize.encoded_slashes,
                merge_slashes: settings.normalize.merge_slashes,
            },
            scheme: if tls.is_some() { "https" } else { "http" },
            explain_endpoint: config.explain_endpoint,
            started_at: now,
            loaded,
            ready: AtomicBool::new(true),
            tunnels: CancellationToken::new(),
            tracker: TaskTracker::new(),
            reloader,
            builder,
            overload_builder,
            settings,
        });
        tracing::info!(
            listen = %format!("{}://{local_addr}", shared.scheme),
            admin = ?admin_addr,
            upstream = config.default_upstream().unwrap_or("(per path)"),
            policy_version = shared.policy.version(),
            "corsguard gateway listening"
        );
        let task = tokio::spawn(run(
            shared.clone(),
            listener,
            tls,
            admin_listener,
            shutdown.clone(),
        ));
        Ok(RunningGateway::new(
            local_addr, admin_addr, shared, shutdown, task,
        ))
    }
}

#[cfg(unix)]
fn spawn_signal_handler(shutdown: CancellationToken) -> Result<(), Error> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).map_err(|source| Error::Signal {
        signal: "SIGTERM",
        source,
    })?;
    let mut int = signal(SignalKind::interrupt()).map_err(|source| Error::Signal {
        signal: "SIGINT",
        source,
    })?;
    tokio::spawn(async move {
        let which = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
            _ = shutdown.cancelled() => return,
        };
        tracing::info!(signal = which, "shutting down: draining in-flight requests");
        shutdown.cancel();
    });
    Ok(())
}

#[cfg(not(unix))]
fn spawn_signal_handler(shutdown: CancellationToken) -> Result<(), Error> {
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => shutdown.cancel(),
            _ = shutdown.cancelled() => {}
        }
    });
    Ok(())
}

async fn run(
    shared: Arc<Shared>,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    admin: Option<TcpListener>,
    shutdown: CancellationToken,
) -> ShutdownReport {
    let conns = TaskTracker::new();
    let hard_stop = CancellationToken::new();
    let admin_stop = CancellationToken::new();
    let admin_task = admin.map(|l| {
        let t = &shared.settings.timeouts;
        let limits = crate::simple::ListenerLimits {
            header_read: t.client_header_read,
            max_connections: ADMIN_CONNECTIONS,
            lifetime: t.idle,
        };
        tokio::spawn(crate::simple::serve(
            l,
            crate::admin::handler(shared.clone()),
            limits,
            admin_stop.clone(),
            TaskTracker::new(),
        ))
    });
    let permits = Arc::new(Semaphore::new(shared.settings.limits.max_connections));
    let overload = Arc::new(Semaphore::new(OVERLOAD_ANSWERS));
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        match permits.clone().try_acquire_owned() {
            Ok(permit) => {
                conns.spawn(connection(
                    shared.clone(),
                    stream,
                    peer,
                    tls.clone(),
                    permit,
                    shutdown.clone(),
                    hard_stop.clone(),
                ));
            }
            Err(_) => match overload.clone().try_acquire_owned() {
                Ok(permit) => {
                    tracing::warn!(%peer, "over limits.max_connections: answering 503");
                    conns.spawn(overloaded(
                        shared.clone(),
                        stream,
                        peer,
                        tls.clone(),
                        permit,
                    ));
                }
                Err(_) => drop(stream),
            },
        }
    }
    drop(listener);
    shared.ready.store(false, Ordering::Release);
    shared.tunnels.cancel();
    conns.close();
    shared.tracker.close();
    let grace = shared.settings.timeouts.shutdown_grace;
    let drained = tokio::time::timeout(grace, async {
        conns.wait().await;
        shared.tracker.wait().await;
    })
    .await
    .is_ok();
    let mut forced = 0;
    if !drained {
        forced = u64::try_from(conns.len()).unwrap_or(u64::MAX);
        tracing::warn!(
            connections = forced,
            "shutdown grace period ({grace:?}) over: closing remaining connections"
        );
        hard_stop.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(2), conns.wait()).await;
    }
    admin_stop.cancel();
    if let Some(t) = admin_task {
        let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
    }
    tracing::info!(drained, "corsguard gateway stopped");
    ShutdownReport {
        drained,
        forced_connections: forced,
        failed: false,
    }
}

async fn connection(
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    permit: OwnedSemaphorePermit,
    shutdown: CancellationToken,
    hard_stop: CancellationToken,
) {
    let activity = ConnActivity::new(ConnSlot::new(permit, shared.metrics.clone()));
    match tls {
        Some(acceptor) => {
            let hs = tokio::time::timeout(
                shared.settings.timeouts.client_header_read,
                acceptor.accept(stream),
            )
            .await;
            match hs {
                Ok(Ok(s)) => serve(&shared, s, peer, &activity, &shutdown, &hard_stop).await,
                Ok(Err(e)) => tracing::debug!(%peer, "TLS handshake failed: {e}"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        }
        None => serve(&shared, stream, peer, &activity, &shutdown, &hard_stop).await,
    }
    // Released here unless a WebSocket tunnel took it over.
    drop(activity.take_slot());
}

async fn serve<I>(
    shared: &Arc<Shared>,
    io: I,
    peer: SocketAddr,
    activity: &Arc<ConnActivity>,
    shutdown: &CancellationToken,
    hard_stop: &CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let client = Arc::new(crate::forwarding::Peer::new(
        peer,
        &shared.settings.trusted_proxies,
    ));
    let svc = {
        let shared = shared.clone();
        let activity = activity.clone();
        service_fn(move |req| {
            let shared = shared.clone();
            let peer = client.clone();
            let guard = ActiveGuard::new(activity.clone());
            async move { Ok::<_, Infallible>(crate::proxy::handle(shared, req, peer, guard).await) }
        })
    };
    let conn = shared
        .builder
        .serve_connection_with_upgrades(TokioIo::new(io), svc);
    tokio::pin!(conn);
    let t = &shared.settings.timeouts;
    let shortest = t.idle.min(t.client_header_read).min(t.send);
    let mut tick = tokio::time::interval(
        (shortest / 4).clamp(Duration::from_millis(10), Duration::from_secs(1)),
    );
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut closing = false;
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(%peer, "connection ended: {e}");
                }
                break;
            }
            _ = shutdown.cancelled(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = tick.tick() => {
                // No request head yet (an HTTP/2 preface or a first request line
                // trickling in): bounded by client_header_read, not by idle.
                if !activity.requested.load(Ordering::Acquire)
                    && activity.start.elapsed() >= t.client_header_read
                {
                    tracing::debug!(%peer, "no request within client_header_read: closing");
                    shared.metrics.header_read_timeout();
                    break;
                }
                // A response that moves no byte: the client does not read, or the
                // upstream sends nothing.
                if activity.stalled_for().is_some_and(|d| d >= t.send) {
                    tracing::info!(%peer, "response made no progress for {:?} (timeouts.send): closing the connection", t.send);
                    shared.metrics.send_timeout();
                    break;
                }
                if !closing && activity.idle_for().is_some_and(|d| d >= t.idle) {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
            _ = hard_stop.cancelled() => break,
        }
    }
}

/// A connection over `limits.max_connections`: every request on it is answered 503 (with
/// the CORS headers the policy gives its origin), then the connection is closed.
async fn overloaded(
    shared: Arc<Shared>,
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    permit: OwnedSemaphorePermit,
) {
    let svc = {
        let shared = shared.clone();
        service_fn(move |req| {
            let shared = shared.clone();
            async move { Ok::<_, Infallible>(crate::proxy::overloaded(&shared, req, peer)) }
        })
    };
    let limit = Duration::from_secs(5);
    match tls {
        Some(acceptor) => {
            if let Ok(Ok(s)) = tokio::time::timeout(limit, acceptor.accept(stream)).await {
                let conn = shared
                    .overload_builder
                    .serve_connection(TokioIo::new(s), svc);
                let _ = tokio::time::timeout(limit, conn).await;
            }
        }
        None => {
            let conn = shared
                .overload_builder
                .serve_connection(TokioIo::new(stream), svc);
            let _ = tokio::time::timeout(limit, conn).await;
        }
    }
    drop(permit);
}
