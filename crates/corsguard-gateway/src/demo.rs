//! `corsguard demo`: a small API, the gateway in front of it with an embedded example policy,
//! and a demo page served from a trusted origin (`http://127.0.0.1:B`) and from an untrusted
//! one (`http://localhost:C`), all on loopback.
//!
//! The page runs four fetches against the gateway and shows each result next to the
//! gateway's explanation (from [`crate::EXPLAIN_PATH`]); it sets `document.title = 'done'`
//! when finished. Results are in elements `#result-<id>` whose text starts with `ALLOWED` or
//! `BLOCKED`:
//!
//! | id | request | on the trusted page | on the untrusted page |
//! |---|---|---|---|
//! | `allowed-get` | `GET /api/items` | ALLOWED | BLOCKED |
//! | `allowed-credentialed-put` | `GET` then `PUT /api/profile`, cookie + `X-Demo-Token` | ALLOWED | BLOCKED |
//! | `refused-origin` | `GET /api/items` from the untrusted origin (in a hidden frame) | BLOCKED | BLOCKED |
//! | `refused-header` | `PUT /api/items` with `X-Not-Allowed` | BLOCKED | BLOCKED |
//!
//! ```no_run
//! # async fn f() -> Result<(), corsguard_gateway::Error> {
//! let demo = corsguard_gateway::demo::start(Default::default()).await?;
//! println!("open {}", demo.urls().frontend);
//! demo.shutdown().await;
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::{Method, header};
use http_body_util::BodyExt;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::GatewayConfig;
use crate::error::Error;
use crate::running::{RunningGateway, ShutdownReport};
use crate::server::Gateway;
use crate::simple::{Handler, bind, response, serve};

/// The embedded example policy, with `{frontend}`, `{listen}`, `{upstream}` and `{admin}`
/// placeholders (see [`policy_text`]). Its comments document every option.
pub const DEMO_POLICY: &str = include_str!("demo/policy.yaml");

/// The demo page; `__CONFIG__` is replaced by a JSON object with the URLs.
const PAGE: &str = include_str!("demo/page.html");

/// Where the demo's servers listen. Port 0 (the default everywhere) picks a free port.
#[derive(Debug, Clone)]
pub struct DemoConfig {
    /// The gateway (the API origin the page calls).
    pub gateway: SocketAddr,
    /// The demo API behind the gateway.
    pub api: SocketAddr,
    /// The trusted frontend origin (`http://127.0.0.1:port`).
    pub frontend: SocketAddr,
    /// The untrusted origin (served as `http://localhost:port`).
    pub untrusted: SocketAddr,
    /// The gateway's admin listener (`None` = off).
    pub admin: Option<SocketAddr>,
}

impl Default for DemoConfig {
    fn default() -> Self {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        DemoConfig {
            gateway: any,
            api: any,
            frontend: any,
            untrusted: any,
            admin: Some(any),
        }
    }
}

/// The URLs of a running demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUrls {
    /// The demo page on the trusted origin, e.g. `http://127.0.0.1:41001`.
    pub frontend: String,
    /// The same page on the untrusted origin, e.g. `http://localhost:41002`.
    pub untrusted: String,
    /// The gateway, e.g. `http://127.0.0.1:41003`.
    pub gateway: String,
    /// The gateway's admin page, if enabled.
    pub admin: Option<String>,
    /// The demo API itself (behind the gateway; browsers never call it directly).
    pub api: String,
}

/// A running demo.
#[derive(Debug)]
pub struct RunningDemo {
    urls: DemoUrls,
    policy_text: String,
    gateway: RunningGateway,
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl RunningDemo {
    /// The URLs to open.
    pub fn urls(&self) -> &DemoUrls {
        &self.urls
    }

    /// The policy the gateway runs (the embedded one with the addresses filled in).
    pub fn policy_text(&self) -> &str {
        &self.policy_text
    }

    /// The gateway.
    pub fn gateway(&self) -> &RunningGateway {
        &self.gateway
    }

    /// Stops the gateway (gracefully) and the demo servers.
    pub async fn shutdown(self) -> ShutdownReport {
        let report = self.gateway.shutdown().await;
        self.stop.cancel();
        self.tasks.close();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), self.tasks.wait()).await;
        report
    }
}

/// Fills in the placeholders of [`DEMO_POLICY`].
///
/// ```
/// let text = corsguard_gateway::demo::policy_text(
///     "http://127.0.0.1:5173",
///     "127.0.0.1:8080".parse().unwrap(),
///     "http://127.0.0.1:9000",
///     None,
/// );
/// let p = corsguard::Policy::from_yaml_str(&text)?;
/// assert_eq!(p.gateway().unwrap().upstream.as_deref(), Some("http://127.0.0.1:9000"));
/// assert!(p.origin_allowed("/api/items", None, b"http://127.0.0.1:5173"));
/// # Ok::<(), corsguard::ConfigErrors>(())
/// ```
pub fn policy_text(
    frontend_origin: &str,
    listen: SocketAddr,
    upstream: &str,
    admin: Option<SocketAddr>,
) -> String {
    let text = DEMO_POLICY
        .replace("{frontend}", frontend_origin)
        .replace("{listen}", &listen.to_string())
        .replace("{upstream}", upstream);
    match admin {
        Some(a) => text.replace("{admin}", &a.to_string()),
        None => text.replace("  admin_listen: '{admin}'\n", ""),
    }
}

fn addr_of(l: &tokio::net::TcpListener) -> Result<SocketAddr, Error> {
    l.local_addr().map_err(|source| Error::Io {
        context: "local address".into(),
        source,
    })
}

/// Starts the demo API, the two page servers and the gateway.
pub async fn start(config: DemoConfig) -> Result<RunningDemo, Error> {
    let stop = CancellationToken::new();
    let tasks = TaskTracker::new();

    let api_l = bind(config.api).await?;
    let front_l = bind(config.frontend).await?;
    let untrusted_l = bind(config.untrusted).await?;
    let api_url = format!("http://{}", addr_of(&api_l)?);
    let frontend = format!("http://127.0.0.1:{}", addr_of(&front_l)?.port());
    let untrusted = format!("http://localhost:{}", addr_of(&untrusted_l)?.port());

    let text = policy_text(&frontend, config.gateway, &api_url, config.admin);
    let policy = corsguard::Policy::from_yaml_str(&text)?;
    let gateway = Gateway::bind(GatewayConfig::new(policy).explain_endpoint(true)).await?;
    let gateway_url = format!("http://127.0.0.1:{}", gateway.local_addr().port());
    let admin_url = gateway
        .admin_addr()
        .map(|a| format!("http://127.0.0.1:{}", a.port()));

    let page_config = serde_json::json!({
        "gateway": gateway_url,
        "trusted": frontend,
        "untrusted": untrusted,
        "admin": admin_url,
    })
    .to_string()
    .replace("</", "<\\/");
    let page: Arc<str> = PAGE.replace("__CONFIG__", &page_config).into();

    // The demo's own servers (loopback only): the same bounds as an admin listener.
    let limits = crate::simple::ListenerLimits {
        header_read: std::time::Duration::from_secs(10),
        max_connections: 256,
        lifetime: std::time::Duration::from_secs(60),
    };
    tasks.spawn(serve(
        api_l,
        api_handler(),
        limits,
        stop.clone(),
        tasks.clone(),
    ));
    tasks.spawn(serve(
        front_l,
        page_handler(page.clone()),
        limits,
        stop.clone(),
        tasks.clone(),
    ));
    tasks.spawn(serve(
        untrusted_l,
        page_handler(page),
        limits,
        stop.clone(),
        tasks.clone(),
    ));

    Ok(RunningDemo {
        urls: DemoUrls {
            frontend,
            untrusted,
            gateway: gateway_url,
            admin: admin_url,
            api: api_url,
        },
        policy_text: text,
        gateway,
        stop,
        tasks,
    })
}

fn page_handler(page: Arc<str>) -> Handler {
    Arc::new(move |req, _| {
        let page = page.clone();
        Box::pin(async move {
            match req.uri().path() {
                "/" | "/index.html" => response(
                    200,
                    &[
                        ("content-type", "text/html; charset=utf-8"),
                        ("cache-control", "no-store"),
                    ],
                    page.to_string(),
                ),
                "/favicon.ico" => response(204, &[], ""),
                _ => response(404, &[("content-type", "text/plain")], "not found\n"),
            }
        })
    })
}

/// The demo API: a deliberately naive legacy service. It answers every response with its
/// own `Access-Control-Allow-Origin: *` (the gateway replaces it), and demands auth on
/// `OPTIONS` (the gateway answers preflights itself, so it never sees them).
fn api_handler() -> Handler {
    let counter = Arc::new(AtomicU64::new(0));
    Arc::new(move |req, _| {
        let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
        Box::pin(async move {
            let rid = n.to_string();
            let mut common = vec![
                ("content-type", "application/json"),
                ("x-request-id", rid.as_str()),
                ("access-control-allow-origin", "*"),
                ("vary", "Accept-Encoding"),
            ];
            let has_session = req
                .headers()
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(|c| {
                    c.split(';')
                        .any(|kv| kv.trim().starts_with("demo_session="))
                });
            let token = req
                .headers()
                .get("x-demo-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let method = req.method().clone();
            let path = req.uri().path().to_owned();
            // Read (and bound) the body so the connection can be reused.
            let body = http_body_util::Limited::new(req.into_body(), 64 * 1024)
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            match (method, path.as_str()) {
                (Method::OPTIONS, _) => response(
                    401,
                    &common,
                    r#"{"error":"authentication required (this API never sees preflights behind corsguard)"}"#,
                ),
                (Method::GET, "/api/items" | "/api/public/items") => response(
                    200,
                    &common,
                    r#"[{"id":1,"name":"apple"},{"id":2,"name":"pear"},{"id":3,"name":"plum"}]"#,
                ),
                (Method::PUT, "/api/items") => response(200, &common, r#"{"updated":true}"#),
                (Method::GET, "/api/profile") => {
                    common.push((
                        "set-cookie",
                        "demo_session=s3cr3t; Path=/; SameSite=Lax; HttpOnly",
                    ));
                    response(
                        200,
                        &common,
                        format!(r#"{{"user":"demo","had_session":{has_session}}}"#),
                    )
                }
                (Method::PUT, "/api/profile") => {
                    let saved = serde_json::from_slice::<serde_json::Value>(&body)
                        .unwrap_or(serde_json::Value::Null);
                    response(
                        200,
                        &common,
                        serde_json::json!({
                            "saved": saved,
                            "session_cookie": has_session,
                            "x_demo_token": token,
                        })
                        .to_string(),
                    )
                }
                _ => response(404, &common, r#"{"error":"not found"}"#),
            }
        })
    })
}
