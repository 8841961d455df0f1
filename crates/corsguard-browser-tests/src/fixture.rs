//! The fixture: the application every system under test wraps (also the upstream of the
//! gateway and of nginx, and the page server of origin A), its request log, the HTTP/1.1
//! server plumbing, and the test page.
//!
//! # The application
//! A query-driven reflector in the style of WPT's handlers (browser-testing.md §5):
//!
//! | query | effect |
//! |---|---|
//! | `status=NNN` | answer with that status (default 200) |
//! | `h=Name:value` (repeatable) | add that response header |
//! | `redirect=URL` | answer `307` with `Location: URL` (`redirect_status=NNN` for another 3xx) |
//! | `sleep=MS` | wait before answering (a gateway timeout turns this into a 504) |
//! | `drop=1` | close the connection without answering (a gateway turns this into a 502) |
//! | `body=png` / `body=js` | a 1×1 PNG (`image/png`) or a script statement (`text/javascript`) instead of the JSON echo, for `<img>` / `<script>` cases |
//! | `cg=TAG` | the case tag: requests are logged under it |
//!
//! It always adds `Cache-Control: no-store` and `X-App-Called: 1`, and answers with a JSON
//! body describing what it received (method, path, whether a cookie came along).
//! `GET /__page?spec=JSON` serves the test page instead (see [`page_html`]).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// Request header the harness's replay client adds, so replays are logged apart from the
/// browser's requests.
pub const REPLAY_HEADER: &str = "x-corsguard-replay";

/// One request as the application saw it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LoggedRequest {
    /// The `cg` query parameter (case tag), if any.
    pub tag: Option<String>,
    /// Method as received.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query string.
    pub query: String,
    /// `Origin`, if present.
    pub origin: Option<String>,
    /// `Access-Control-Request-Method`, if present.
    pub acrm: Option<String>,
    /// `Access-Control-Request-Headers`, if present.
    pub acrh: Option<String>,
    /// `Cookie`, if present.
    pub cookie: Option<String>,
    /// Sent by the harness's replay client rather than the browser.
    pub replay: bool,
    /// The page request (`/__page`).
    pub page: bool,
}

/// The application's request log (shared by every server that runs the application).
#[derive(Debug, Clone, Default)]
pub struct AppLog(Arc<Mutex<Vec<LoggedRequest>>>);

impl AppLog {
    fn lock(&self) -> MutexGuard<'_, Vec<LoggedRequest>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records a request.
    pub fn push(&self, r: LoggedRequest) {
        self.lock().push(r);
    }

    /// Browser requests (not replays, not the page) logged under `tag`.
    pub fn for_tag(&self, tag: &str) -> Vec<LoggedRequest> {
        self.lock()
            .iter()
            .filter(|r| r.tag.as_deref() == Some(tag) && !r.replay && !r.page)
            .cloned()
            .collect()
    }

    /// Everything logged.
    pub fn all(&self) -> Vec<LoggedRequest> {
        self.lock().clone()
    }
}

/// A framework-neutral view of a request, for [`App::respond`].
#[derive(Debug, Clone, Default)]
pub struct AppRequest {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Raw query string (without `?`).
    pub query: String,
    /// Header lines (lower-case names).
    pub headers: Vec<(String, String)>,
}

impl AppRequest {
    /// Builds one from `http` parts.
    pub fn from_parts(parts: &http::request::Parts) -> Self {
        AppRequest {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or("").to_owned(),
            headers: parts
                .headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
        }
    }

    /// First value of a header (name lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Query parameters, decoded.
    pub fn params(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }
}

/// What the application does with a request.
#[derive(Debug, Clone)]
pub enum AppOutcome {
    /// Answer (after `delay`).
    Respond {
        /// Wait this long first.
        delay: Duration,
        /// Status code.
        status: u16,
        /// Header lines.
        headers: Vec<(String, String)>,
        /// Body.
        body: Bytes,
    },
    /// Close the connection without a response.
    Drop,
}

/// The application (stateless apart from its log).
#[derive(Debug, Clone, Default)]
pub struct App {
    /// Its request log.
    pub log: AppLog,
}

impl App {
    /// A new application with an empty log.
    pub fn new() -> Self {
        App::default()
    }

    /// Logs the request and decides the answer (see the module docs).
    pub fn respond(&self, req: &AppRequest) -> AppOutcome {
        let params = req.params();
        let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let page = req.path == "/__page";
        if req.path != "/favicon.ico" {
            self.log.push(LoggedRequest {
                tag: param("cg").map(str::to_owned),
                method: req.method.clone(),
                path: req.path.clone(),
                query: req.query.clone(),
                origin: req.header("origin").map(str::to_owned),
                acrm: req
                    .header("access-control-request-method")
                    .map(str::to_owned),
                acrh: req
                    .header("access-control-request-headers")
                    .map(str::to_owned),
                cookie: req.header("cookie").map(str::to_owned),
                replay: req.header(REPLAY_HEADER).is_some(),
                page,
            });
        }
        if page {
            let spec = param("spec")
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
                .unwrap_or(Value::Null);
            let mut headers: Vec<(String, String)> = vec![
                ("content-type".into(), "text/html; charset=utf-8".into()),
                ("cache-control".into(), "no-store".into()),
            ];
            // The page's own response headers (`Cross-Origin-Embedder-Policy`, …).
            if let Some(extra) = spec.get("page_headers").and_then(Value::as_array) {
                for pair in extra.iter().filter_map(Value::as_array) {
                    if let (Some(n), Some(v)) = (
                        pair.first().and_then(Value::as_str),
                        pair.get(1).and_then(Value::as_str),
                    ) {
                        headers.push((n.to_owned(), v.to_owned()));
                    }
                }
            }
            return AppOutcome::Respond {
                delay: Duration::ZERO,
                status: 200,
                headers,
                body: Bytes::from(page_html(&spec)),
            };
        }
        if req.path == "/favicon.ico" {
            return AppOutcome::Respond {
                delay: Duration::ZERO,
                status: 404,
                headers: Vec::new(),
                body: Bytes::new(),
            };
        }
        if param("drop").is_some() {
            return AppOutcome::Drop;
        }
        let delay = Duration::from_millis(
            param("sleep")
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(0)
                .min(30_000),
        );
        let mut status = param("status")
            .and_then(|s| s.parse::<u16>().ok())
            .unwrap_or(200);
        let mut headers: Vec<(String, String)> = vec![
            ("content-type".into(), "application/json".into()),
            ("cache-control".into(), "no-store".into()),
            ("x-app-called".into(), "1".into()),
        ];
        if let Some(loc) = param("redirect") {
            status = param("redirect_status")
                .and_then(|s| s.parse::<u16>().ok())
                .unwrap_or(307);
            headers.push(("location".into(), loc.to_owned()));
        }
        for (k, v) in &params {
            if k == "h"
                && let Some((name, value)) = v.split_once(':')
            {
                headers.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        let body = json!({
            "app": true,
            "method": req.method,
            "path": req.path,
            "origin": req.header("origin"),
            "cookie": req.header("cookie"),
        });
        let body = match param("body") {
            Some("png") => {
                set_content_type(&mut headers, "image/png");
                Bytes::from_static(PNG_1X1)
            }
            Some("js") => {
                set_content_type(&mut headers, "text/javascript");
                Bytes::from_static(b"window.__loaded = (window.__loaded || 0) + 1;")
            }
            _ => Bytes::from(body.to_string()),
        };
        AppOutcome::Respond {
            delay,
            status,
            headers,
            body,
        }
    }

    /// [`App::respond`], then the waiting, as an `http` response (`Err` = drop the
    /// connection).
    pub async fn serve(&self, req: &AppRequest) -> Result<Response<Full<Bytes>>, Dropped> {
        match self.respond(req) {
            AppOutcome::Drop => Err(Dropped),
            AppOutcome::Respond {
                delay,
                status,
                headers,
                body,
            } => {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                Ok(build_response(status, &headers, body))
            }
        }
    }
}

/// A 1×1 transparent PNG.
const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x01, 0xe2, 0x21, 0xbc, 0x33, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

fn set_content_type(headers: &mut [(String, String)], value: &str) {
    for (n, v) in headers.iter_mut() {
        if n == "content-type" {
            *v = value.to_owned();
        }
    }
}

/// Builds an `http` response; invalid header lines are skipped.
pub fn build_response(
    status: u16,
    headers: &[(String, String)],
    body: Bytes,
) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body));
    *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    for (n, v) in headers {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(n.as_bytes()),
            http::HeaderValue::from_str(v),
        ) {
            resp.headers_mut().append(n, v);
        }
    }
    resp
}

/// The application asked for the connection to be dropped.
#[derive(Debug, Clone, Copy)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for Dropped {}

/// A running server; stops (every connection included) when dropped.
#[derive(Debug)]
pub struct ServerGuard {
    /// Where it listens.
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl ServerGuard {
    /// Wraps a task that serves `addr` (aborted on drop).
    pub fn new(addr: SocketAddr, task: JoinHandle<()>) -> Self {
        ServerGuard { addr, task }
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for ServerGuard {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `127.0.0.1:0`.
pub async fn bind_loopback() -> std::io::Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", 0)).await
}

/// Serves HTTP/1.1 on `listener` with `handler` (one task per connection; an `Err` from the
/// handler closes the connection without a response).
pub fn serve_http1<F, Fut>(listener: TcpListener, handler: F) -> std::io::Result<ServerGuard>
where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<Response<Full<Bytes>>, Dropped>> + Send + 'static,
{
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            while conns.try_join_next().is_some() {}
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let handler = handler.clone();
            conns.spawn(async move {
                let svc = service_fn(&handler);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(ServerGuard::new(addr, task))
}

/// Reads a hyper request into an [`AppRequest`] (the body is consumed and discarded).
pub async fn app_request(req: Request<Incoming>) -> AppRequest {
    let (parts, body) = req.into_parts();
    let _ = body.collect().await;
    AppRequest::from_parts(&parts)
}

/// Runs `app` as a plain HTTP server on `127.0.0.1:0` (page server, upstream).
pub async fn spawn_app_server(app: App) -> std::io::Result<ServerGuard> {
    let listener = bind_loopback().await?;
    serve_http1(listener, move |req| {
        let app = app.clone();
        async move {
            let r = app_request(req).await;
            app.serve(&r).await
        }
    })
}

/// JavaScript that waits for the page's `window.__result` and returns it (for
/// `Runtime.evaluate{awaitPromise:true}`). For a sandboxed-iframe page it first starts the
/// iframe's fetches (`window.__start()`) once the iframe has reported `ready`; the harness
/// evaluates this only after the iframe's CDP target is set up.
pub const READ_RESULT_JS: &str = r#"new Promise((resolve, reject) => {
  const t0 = Date.now();
  (function wait() {
    if (window.__start && window.__ready && !window.__started) { window.__started = true; window.__start(); }
    if (window.__result) { resolve(window.__result); }
    else if (Date.now() - t0 > 9000) { reject(new Error('the page never set window.__result')); }
    else { setTimeout(wait, 5); }
  })();
})"#;

/// The test page for a spec `{sandbox: bool, page_headers: [[n, v]], fetches: [{url, method,
/// headers: [[n, v]], credentials, body, mode, destination}]}` (`page_headers` are sent on the
/// page's response; a `destination` of `image` or `script` loads the URL with that element
/// instead of `fetch()`, and `form` submits a real `<form method=…>` into an iframe): its script runs the fetches one after the other and stores the
/// outcomes (`{ok, status, type, redirected, url, headers, body}` or `{ok: false, error}`)
/// in `window.__result` (a promise).
///
/// With `sandbox`, the fetches run in a `sandbox="allow-scripts"` `srcdoc` iframe (opaque
/// origin, `Origin: null`) that posts `ready` to the parent, waits for `go`
/// (`window.__start()`, see [`READ_RESULT_JS`]) and posts the outcomes back. The handshake
/// exists because Chromium runs such an iframe out of process without pausing it for the
/// debugger: it must not fetch before the harness has enabled `Network` on its target.
pub fn page_html(spec: &Value) -> String {
    // `<` escaped so that no value can close the script element.
    let spec_json = spec.to_string().replace('<', "\\u003c");
    format!(
        r#"<!doctype html>
<html><head><meta charset="utf-8"><title>corsguard case</title></head>
<body>
<pre id="out">running</pre>
<script>
const SPEC = {spec_json};
function loadElement(f) {{
  // An <img> / <script> element: `load` or `error`, nothing readable.
  return new Promise(resolve => {{
    const el = document.createElement(f.destination === 'image' ? 'img' : 'script');
    if (f.mode === 'cors') {{ el.crossOrigin = f.credentials === 'include' ? 'use-credentials' : 'anonymous'; }}
    el.onload = () => resolve({{ ok: true, status: null, type: 'element', headers: {{}}, body: '' }});
    el.onerror = () => resolve({{ ok: false, error: 'error event' }});
    el.src = f.url;
    document.body.appendChild(el);
  }});
}}
function submitForm(f) {{
  // A real <form method=post> submitted into an iframe (a navigation: Sec-Fetch-Mode
  // navigate, Sec-Fetch-Dest iframe); the page reads nothing of the answer.
  return new Promise(resolve => {{
    const name = 'form-target-' + Math.random().toString(36).slice(2);
    const frame = document.createElement('iframe');
    frame.name = name;
    document.body.appendChild(frame);
    frame.onload = () => resolve({{ ok: true, status: null, type: 'element', headers: {{}}, body: '' }});
    const form = document.createElement('form');
    form.method = f.method;
    form.action = f.url;
    form.target = name;
    const field = document.createElement('input');
    field.type = 'hidden';
    field.name = 'data';
    field.value = f.body || '';
    form.appendChild(field);
    document.body.appendChild(form);
    form.submit();
  }});
}}
async function runOne(f) {{
  if (f.destination === 'image' || f.destination === 'script') {{ return loadElement(f); }}
  if (f.destination === 'form') {{ return submitForm(f); }}
  const init = {{ method: f.method, headers: f.headers || [], credentials: f.credentials || 'same-origin', mode: f.mode || 'cors' }};
  if (f.body !== undefined && f.body !== null) {{ init.body = f.body; }}
  try {{
    const r = await fetch(f.url, init);
    const headers = {{}};
    r.headers.forEach((v, k) => {{ headers[k] = v; }});
    let body = '';
    try {{ body = await r.text(); }} catch (e) {{ body = 'BODY-ERROR ' + e; }}
    return {{ ok: true, status: r.status, type: r.type, redirected: r.redirected, url: r.url, headers, body }};
  }} catch (e) {{
    return {{ ok: false, error: String(e) }};
  }}
}}
async function runAll(spec) {{
  const out = [];
  for (const f of spec.fetches) {{ out.push(await runOne(f)); }}
  return out;
}}
function show(r) {{ document.getElementById('out').textContent = JSON.stringify(r, null, 1); return r; }}
if (SPEC.sandbox) {{
  let resolveResult;
  const done = new Promise(resolve => {{ resolveResult = resolve; }});
  window.__result = null;
  window.addEventListener('message', e => {{
    if (e.data === 'ready') {{ window.__ready = true; }} else {{ resolveResult(show(e.data)); }}
  }});
  const frame = document.createElement('iframe');
  frame.setAttribute('sandbox', 'allow-scripts');
  window.__start = () => {{ window.__result = done; frame.contentWindow.postMessage('go', '*'); }};
  frame.srcdoc = '<script>' + loadElement.toString() + '\n' + submitForm.toString() + '\n' + runOne.toString() + '\n' + runAll.toString() + '\n' +
    'const SPEC = ' + JSON.stringify(SPEC) + ';\n' +
    'addEventListener("message", e => {{ if (e.data === "go") runAll(SPEC).then(r => parent.postMessage(r, "*")); }});\n' +
    'parent.postMessage("ready", "*");<' + '/script>';
  document.body.appendChild(frame);
}} else {{
  window.__result = runAll(SPEC).then(show);
}}
</script>
</body></html>
"#
    )
}

/// Query-string encoding of `pairs` (`a=b&c=d`).
pub fn encode_query<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}
