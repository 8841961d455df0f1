//! Listeners, connections, limits and the gateway's lifecycle (bind → serve → drain).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use corsguard::{GatewaySettings, PolicyHandle};
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
use crate::refusals::{
    LogLimiter, REFUSAL_LINES_PER_SECOND, REFUSAL_LOG_BYTES, RefusalLog, RefusedRequest, unix,
};
use crate::reload::Reloader;
use crate::upstream::{Routes, UpstreamClient};

/// Connections beyond `limits.max_connections` that still get a 503 answer (more are
/// closed without one).
const OVERLOAD_ANSWERS: usize = 64;

/// Connections the admin listener serves at once (scrapers, probes, an operator's
/// browser); more are closed at accept.
const ADMIN_CONNECTIONS: usize = 64;

/// State shared by every connection of one gateway.
pub(crate) struct Shared {
    pub(crate) policy: PolicyHandle,
    pub(crate) settings: GatewaySettings,
    pub(crate) routes: Routes,
    pub(crate) client: UpstreamClient,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) refusals: RefusalLog,
    pub(crate) log_limiter: LogLimiter,
    pub(crate) normalizer: Normalizer,
    pub(crate) scheme: &'static str,
    pub(crate) explain_endpoint: bool,
    pub(crate) started_at: SystemTime,
    /// Version and load time of the policy, as last observed.
    pub(crate) loaded: Arc<Mutex<(u64, SystemTime)>>,
    pub(crate) ready: AtomicBool,
    /// Cancelled when draining starts: closes WebSocket tunnels.
    pub(crate) tunnels: CancellationToken,
    /// WebSocket tunnels.
    pub(crate) tracker: TaskTracker,
    pub(crate) reloader: Option<Arc<Reloader>>,
    builder: auto::Builder<TokioExecutor>,
    overload_builder: auto::Builder<TokioExecutor>,
}

impl Shared {
    /// The active policy's version and when it was loaded (a policy swapped in through the
    /// handle directly is dated when first observed here).
    pub(crate) fn policy_loaded(&self) -> (u64, SystemTime) {
        let v = self.policy.version();
        let mut l = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if l.0 != v {
            *l = (v, SystemTime::now());
        }
        self.metrics.set_policy(l.0, unix(l.1));
        *l
    }
}

/// A connection's place under `limits.max_connections`: while it lives, the connection
/// counts as open (gauge and permit). A WebSocket tunnel takes it over from the connection
/// it was upgraded from, so tunnels stay under the limit.
pub(crate) struct ConnSlot {
    _permit: OwnedSemaphorePermit,
    metrics: Arc<Metrics>,
}

impl ConnSlot {
    fn new(permit: OwnedSemaphorePermit, metrics: Arc<Metrics>) -> Self {
        metrics.connection_opened();
        ConnSlot {
            _permit: permit,
            metrics,
        }
    }
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        self.metrics.connection_closed();
    }
}

/// Per-connection activity: the idle timeout, the first-request deadline, the send
/// (progress) timeout, and the connection's slot.
pub(crate) struct ConnActivity {
    start: Instant,
    in_flight: AtomicUsize,
    last_ms: AtomicU64,
    /// Set by the first request (until then `client_header_read` bounds the connection).
    requested: AtomicBool,
    /// Response bodies being streamed now.
    streaming: AtomicUsize,
    /// When a response body last moved.
    progress_ms: AtomicU64,
    slot: Mutex<Option<ConnSlot>>,
}

impl ConnActivity {
    fn new(slot: ConnSlot) -> Arc<Self> {
        Arc::new(ConnActivity {
            start: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_ms: AtomicU64::new(0),
            requested: AtomicBool::new(false),
            streaming: AtomicUsize::new(0),
            progress_ms: AtomicU64::new(0),
            slot: Mutex::new(Some(slot)),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn idle_for(&self) -> Option<Duration> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let last = self.last_ms.load(Ordering::Acquire);
        Some(Duration::from_millis(self.now_ms().saturating_sub(last)))
    }

    /// How long the streaming responses have made no progress (`None`: none streams).
    fn stalled_for(&self) -> Option<Duration> {
        if self.streaming.load(Ordering::Acquire) == 0 {
            return None;
        }
        let last = self.progress_ms.load(Ordering::Acquire);
        Some(Duration::from_millis(self.now_ms().saturating_sub(last)))
    }

    /// Takes the connection's slot (for a WebSocket tunnel).
    pub(crate) fn take_slot(&self) -> Option<ConnSlot> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// Held while a request (including its response body) is in flight.
pub(crate) struct ActiveGuard(Arc<ConnActivity>);

impl ActiveGuard {
    pub(crate) fn new(a: Arc<ConnActivity>) -> Self {
        a.in_flight.fetch_add(1, Ordering::AcqRel);
        a.requested.store(true, Ordering::Release);
        ActiveGuard(a)
    }

    pub(crate) fn activity(&self) -> &Arc<ConnActivity> {
        &self.0
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.last_ms.store(self.0.now_ms(), Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Held while a response body streams: its frames are the connection's progress.
pub(crate) struct StreamGuard {
    active: ActiveGuard,
    _upstream: Option<OwnedSemaphorePermit>,
}

impl StreamGuard {
    pub(crate) fn new(active: ActiveGuard, upstream: Option<OwnedSemaphorePermit>) -> Self {
        let a = &active.0;
        a.progress_ms.store(a.now_ms(), Ordering::Release);
        a.streaming.fetch_add(1, Ordering::AcqRel);
        StreamGuard {
            active,
            _upstream: upstream,
        }
    }

    /// A frame moved.
    pub(crate) fn progress(&self) {
        let a = &self.active.0;
        a.progress_ms.store(a.now_ms(), Ordering::Release);
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.active.0.streaming.fetch_sub(1, Ordering::AcqRel);
    }
}

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

/// Stops a running gateway (cheap to clone, usable from any task).
///
/// ```no_run
/// # async fn f(running: corsguard_gateway::RunningGateway) {
/// let stop = running.shutdown_handle();
/// tokio::spawn(async move { stop.shutdown() });
/// running.wait().await;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    token: CancellationToken,
}

impl ShutdownHandle {
    /// Starts a graceful shutdown: stop accepting, drain in-flight requests up to
    /// `timeouts.shutdown_grace`, then stop.
    pub fn shutdown(&self) {
        self.token.cancel();
    }

    /// `true` once shutdown has started.
    pub fn is_shutting_down(&self) -> bool {
        self.token.is_cancelled()
    }
}

/// How a shutdown went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// `true` if every in-flight request finished within the grace period.
    pub drained: bool,
    /// Connections still open when the grace period ran out (closed forcibly).
    pub forced_connections: u64,
    /// `true` when the gateway stopped because its serving task failed (panicked), not
    /// because a shutdown was asked for: a supervisor should see a failure.
    pub failed: bool,
}

/// A gateway that is serving. Dropping it does not stop it; call
/// [`RunningGateway::shutdown`] (or use the [`ShutdownHandle`]).
pub struct RunningGateway {
    local_addr: SocketAddr,
    admin_addr: Option<SocketAddr>,
    shared: Arc<Shared>,
    handle: ShutdownHandle,
    task: tokio::task::JoinHandle<ShutdownReport>,
}

impl std::fmt::Debug for RunningGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningGateway")
            .field("local_addr", &self.local_addr)
            .field("admin_addr", &self.admin_addr)
            .finish_non_exhaustive()
    }
}

impl RunningGateway {
    /// The address the gateway listens on (the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The admin listener's address, if enabled.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }

    /// `http://addr` or `https://addr`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.shared.scheme, self.local_addr)
    }

    /// `http://admin-addr`, if enabled.
    pub fn admin_url(&self) -> Option<String> {
        self.admin_addr.map(|a| format!("http://{a}"))
    }

    /// The live policy handle (`replace` swaps the policy for new requests).
    pub fn policy(&self) -> &PolicyHandle {
        &self.shared.policy
    }

    /// The gateway's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// The last refused requests with their traces, newest first.
    pub fn refused_requests(&self) -> Vec<RefusedRequest> {
        self.shared.refusals.snapshot()
    }

    /// Re-reads the policy file now (what SIGHUP does). Errors when the gateway was not
    /// configured from a file or when the new file is invalid (the running policy stays).
    pub fn reload(&self) -> Result<u64, Error> {
        match &self.shared.reloader {
            Some(r) => Ok(r.reload("api")?),
            None => Err(Error::Io {
                context: "reload".into(),
                source: std::io::Error::other("the gateway was not started from a policy file"),
            }),
        }
    }

    /// A handle that can stop the gateway from elsewhere.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.handle.clone()
    }

    /// Starts a graceful shutdown and waits for it to finish.
    pub async fn shutdown(self) -> ShutdownReport {
        self.handle.shutdown();
        self.wait().await
    }

    /// Waits until the gateway has stopped (after a shutdown was requested by a signal or
    /// a [`ShutdownHandle`]).
    pub async fn wait(self) -> ShutdownReport {
        report_of(self.task.await)
    }
}

/// The report of the serving task's end: a task that panicked (or was cancelled) is a
/// failure, never an orderly stop.
fn report_of(r: Result<ShutdownReport, tokio::task::JoinError>) -> ShutdownReport {
    match r {
        Ok(report) => report,
        Err(e) => {
            tracing::error!("the gateway's serving task failed: {e}");
            ShutdownReport {
                drained: false,
                forced_connections: 0,
                failed: true,
            }
        }
    }
}

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
        Ok(RunningGateway {
            local_addr,
            admin_addr,
            shared,
            handle: ShutdownHandle { token: shutdown },
            task,
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicked_serving_task_is_reported_as_a_failure() {
        let task = tokio::spawn(async {
            if std::hint::black_box(true) {
                panic!("boom");
            }
            ShutdownReport {
                drained: true,
                forced_connections: 0,
                failed: false,
            }
        });
        let report = report_of(task.await);
        assert!(report.failed && !report.drained);
        let ok = report_of(Ok(ShutdownReport {
            drained: true,
            forced_connections: 0,
            failed: false,
        }));
        assert!(!ok.failed);
    }
}
