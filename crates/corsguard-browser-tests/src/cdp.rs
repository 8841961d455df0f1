//! A small raw Chrome DevTools Protocol (CDP) client over a WebSocket.
//!
//! Why raw CDP (tokio-tungstenite + `serde_json::Value`) and not chromiumoxide: **protocol
//! drift**. chromiumoxide deserializes every message into types generated from a pinned
//! protocol snapshot (about Chromium 145); against Debian's Chromium 156 every
//! `Network.requestWillBeSentExtraInfo` fails with "data did not match any variant of untagged
//! enum Message", and that class of error recurs with every browser upgrade (chromiumoxide
//! issues #167, #229, #243, #266, #335). This suite needs about fifteen stable methods and
//! five events; keeping messages as untyped JSON means a newer Chromium cannot break parsing,
//! `corsError` stays an open string (its enum changes between versions), and there is no 111k
//! line generated crate to build. See `shared/docs/browser-testing.md` §7.2 and §10.
//!
//! Model: one browser process per suite ([`Browser::launch`]), one fresh browser context per
//! case ([`Browser::new_page`]: `Target.createBrowserContext` → `Target.createTarget` →
//! `Target.attachToTarget{flatten:true}`), with `Network`, `Log`, `Audits`, `Runtime` and
//! `Page` enabled. Child targets (out-of-process iframes such as a sandboxed `srcdoc` frame)
//! are auto-attached and their events are filed under the page that owns them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

/// Where Debian installs Chromium (override with `CORSGUARD_CHROMIUM`).
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The launch flags of browser-testing.md §2 (a fresh `--user-data-dir` and
/// `--remote-debugging-port=0` are added by [`Browser::launch`]). Never
/// `--disable-web-security`: it switches CORS off.
pub const BASE_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// Default timeout of one CDP command.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// How long Chromium may take to print `DevTools listening on ws://…`.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(30);

/// CDP domains enabled on every page (and auto-attached child target).
const DOMAINS: [&str; 5] = [
    "Network.enable",
    "Log.enable",
    "Audits.enable",
    "Runtime.enable",
    "Page.enable",
];

/// Errors of the CDP client.
#[derive(Debug, thiserror::Error)]
pub enum CdpError {
    /// Chromium could not be started or did not expose a DevTools endpoint.
    #[error(
        "cannot start Chromium ({path}): {reason}\n\
         Install it with `apt-get install -y chromium`, point CORSGUARD_CHROMIUM at a binary, \
         or skip the browser suite explicitly with CORSGUARD_SKIP_BROWSER=1."
    )]
    Launch {
        /// The executable tried.
        path: String,
        /// What went wrong (includes the relevant stderr lines).
        reason: String,
    },
    /// The WebSocket failed or closed.
    #[error("CDP connection: {0}")]
    Connection(String),
    /// A command got no answer in time.
    #[error("CDP {method} timed out after {timeout:?}")]
    Timeout {
        /// The method.
        method: String,
        /// The timeout.
        timeout: Duration,
    },
    /// The browser answered with an error object (or an exception for `Runtime.evaluate`).
    #[error("CDP {method} failed: {message}")]
    Protocol {
        /// The method.
        method: String,
        /// The error text.
        message: String,
    },
}

type Pending = HashMap<u64, oneshot::Sender<Result<Value, String>>>;

/// State shared by the client handles and the reader task.
struct Shared {
    out: mpsc::UnboundedSender<Message>,
    next_id: AtomicU64,
    pending: Mutex<Pending>,
    /// Events by root session id (`""` = browser-level events).
    events: Mutex<HashMap<String, Vec<Value>>>,
    /// Child session id → root (page) session id.
    parents: Mutex<HashMap<String, String>>,
    /// Root session id → child targets whose domains are enabled.
    adopted: Mutex<HashMap<String, usize>>,
    notify: Notify,
    closed: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    fn root_of(&self, session: &str) -> String {
        let parents = lock(&self.parents);
        let mut s = session.to_owned();
        // Bounded: nesting depth of frames is small; guard against cycles anyway.
        for _ in 0..16 {
            match parents.get(&s) {
                Some(p) => s = p.clone(),
                None => break,
            }
        }
        s
    }

    async fn call(
        self: &Arc<Self>,
        session: Option<&str>,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, CdpError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(CdpError::Connection("browser connection is closed".into()));
        }
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let (Some(s), Some(obj)) = (session, msg.as_object_mut()) {
            obj.insert("sessionId".into(), Value::String(s.to_owned()));
        }
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id, tx);
        if self.out.send(Message::text(msg.to_string())).is_err() {
            lock(&self.pending).remove(&id);
            return Err(CdpError::Connection("writer task has stopped".into()));
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err(message))) => Err(CdpError::Protocol {
                method: method.to_owned(),
                message,
            }),
            Ok(Err(_)) => Err(CdpError::Connection(format!(
                "connection closed while waiting for {method}"
            ))),
            Err(_) => {
                lock(&self.pending).remove(&id);
                Err(CdpError::Timeout {
                    method: method.to_owned(),
                    timeout,
                })
            }
        }
    }

    /// Enables the domains on an auto-attached child target, then lets it run.
    async fn adopt_child(self: Arc<Self>, child: String) {
        for m in DOMAINS {
            // Workers do not support every domain; ignore such errors.
            let _ = self.call(Some(&child), m, json!({}), COMMAND_TIMEOUT).await;
        }
        let _ = self
            .call(
                Some(&child),
                "Target.setAutoAttach",
                json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true}),
                COMMAND_TIMEOUT,
            )
            .await;
        let _ = self
            .call(
                Some(&child),
                "Runtime.runIfWaitingForDebugger",
                json!({}),
                COMMAND_TIMEOUT,
            )
            .await;
        let root = self.root_of(&child);
        *lock(&self.adopted).entry(root).or_default() += 1;
        self.notify.notify_waiters();
    }

    fn on_message(self: &Arc<Self>, text: &str) {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return;
        };
        if let Some(id) = v.get("id").and_then(Value::as_u64) {
            if let Some(tx) = lock(&self.pending).remove(&id) {
                let r = match v.get("error") {
                    Some(e) => Err(e
                        .get("message")
                        .and_then(Value::as_str)
                        .map_or_else(|| e.to_string(), str::to_owned)),
                    None => Ok(v.get("result").cloned().unwrap_or(Value::Null)),
                };
                let _ = tx.send(r);
            }
            return;
        }
        let Some(method) = v.get("method").and_then(Value::as_str) else {
            return;
        };
        let session = v.get("sessionId").and_then(Value::as_str).unwrap_or("");
        let root = self.root_of(session);
        if method == "Target.attachedToTarget"
            && !session.is_empty()
            && let Some(child) = v
                .pointer("/params/sessionId")
                .and_then(Value::as_str)
                .map(str::to_owned)
        {
            lock(&self.parents).insert(child.clone(), root.clone());
            tokio::spawn(Arc::clone(self).adopt_child(child));
        }
        lock(&self.events).entry(root).or_default().push(v);
        self.notify.notify_waiters();
    }

    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        lock(&self.pending).clear();
        self.notify.notify_waiters();
    }
}

/// A running headless Chromium and its CDP connection. Killed on drop.
pub struct Browser {
    shared: Arc<Shared>,
    child: Child,
    ws_url: String,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    // Dropped after the process is killed (field order), removing the profile.
    _profile: tempfile::TempDir,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("ws_url", &self.ws_url)
            .finish_non_exhaustive()
    }
}

impl Browser {
    /// The executable to run: `CORSGUARD_CHROMIUM` or [`CHROMIUM`].
    pub fn executable() -> PathBuf {
        std::env::var_os("CORSGUARD_CHROMIUM")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(CHROMIUM))
    }

    /// Starts Chromium with [`BASE_FLAGS`], a fresh profile and `--remote-debugging-port=0`,
    /// reads `DevTools listening on ws://…` from stderr (the Debian wrapper's shell and D-Bus
    /// noise is ignored) and connects.
    pub async fn launch() -> Result<Browser, CdpError> {
        Self::launch_with(&[]).await
    }

    /// [`Browser::launch`] with extra command-line flags (e.g.
    /// `--ip-address-space-overrides=…`, `--host-resolver-rules=…`).
    pub async fn launch_with(extra: &[String]) -> Result<Browser, CdpError> {
        let exe = Self::executable();
        let path = exe.display().to_string();
        let fail = |reason: String| CdpError::Launch {
            path: path.clone(),
            reason,
        };
        if !exe.exists() {
            return Err(fail("the executable does not exist".into()));
        }
        let profile = tempfile::Builder::new()
            .prefix("corsguard-chromium-")
            .tempdir()
            .map_err(|e| fail(format!("cannot create a profile directory: {e}")))?;
        let mut child = Command::new(&exe)
            .args(BASE_FLAGS)
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("--remote-debugging-port=0")
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| fail(format!("spawn failed: {e}")))?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| fail("no stderr pipe".into()))?;
        let mut lines = BufReader::new(stderr).lines();
        let mut seen: Vec<String> = Vec::new();
        let found = tokio::time::timeout(LAUNCH_TIMEOUT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("DevTools listening on")
                    && let Some(i) = line.find("ws://")
                {
                    return line.get(i..).map(|s| s.trim().to_owned());
                }
                if seen.len() < 60 {
                    seen.push(line);
                }
            }
            None
        })
        .await;
        let ws_url = match found {
            Ok(Some(url)) => url,
            Ok(None) => {
                let status = child
                    .try_wait()
                    .ok()
                    .flatten()
                    .map_or_else(|| "stderr closed".to_owned(), |s| s.to_string());
                return Err(fail(format!(
                    "it exited ({status}) without a DevTools endpoint; stderr:\n{}",
                    relevant(&seen)
                )));
            }
            Err(_) => {
                return Err(fail(format!(
                    "no `DevTools listening on` line within {LAUNCH_TIMEOUT:?}; stderr:\n{}",
                    relevant(&seen)
                )));
            }
        };
        // Keep draining stderr so Chromium never blocks on a full pipe.
        let drain = tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

        let (ws, _) = tokio_tungstenite::connect_async(ws_url.as_str())
            .await
            .map_err(|e| fail(format!("WebSocket connect to {ws_url} failed: {e}")))?;
        let (mut sink, mut stream) = ws.split();
        let (out, mut out_rx) = mpsc::unbounded_channel::<Message>();
        let shared = Arc::new(Shared {
            out,
            next_id: AtomicU64::new(1),
            pending: Mutex::new(HashMap::new()),
            events: Mutex::new(HashMap::new()),
            parents: Mutex::new(HashMap::new()),
            adopted: Mutex::new(HashMap::new()),
            notify: Notify::new(),
            closed: AtomicBool::new(false),
        });
        let writer = tokio::spawn(async move {
            while let Some(msg) = out_rx.recv().await {
                if sink.send(msg).await.is_err() {
                    break;
                }
            }
        });
        let reader_shared = Arc::clone(&shared);
        let reader = tokio::spawn(async move {
            while let Some(msg) = stream.next().await {
                match msg {
                    Ok(Message::Text(t)) => reader_shared.on_message(t.as_str()),
                    Ok(Message::Close(_)) | Err(_) => break,
                    Ok(_) => {}
                }
            }
            reader_shared.close();
        });
        Ok(Browser {
            shared,
            child,
            ws_url,
            tasks: vec![drain, writer, reader],
            _profile: profile,
        })
    }

    /// The browser's DevTools WebSocket URL.
    pub fn ws_url(&self) -> &str {
        &self.ws_url
    }

    /// `Browser.getVersion` (product string, protocol version, user agent).
    pub async fn version(&self) -> Result<Value, CdpError> {
        self.shared
            .call(None, "Browser.getVersion", json!({}), COMMAND_TIMEOUT)
            .await
    }

    /// A fresh browser context (empty cookie jar, HTTP cache and preflight cache) with one
    /// `about:blank` page, attached in flatten mode with `Network`, `Log`, `Audits`,
    /// `Runtime` and `Page` enabled, and child targets auto-attached.
    pub async fn new_page(&self) -> Result<Page, CdpError> {
        let s = &self.shared;
        let ctx = s
            .call(
                None,
                "Target.createBrowserContext",
                json!({"disposeOnDetach": true}),
                COMMAND_TIMEOUT,
            )
            .await?;
        let context_id = str_field(&ctx, "browserContextId", "Target.createBrowserContext")?;
        let mut page = Page {
            shared: Arc::clone(s),
            context_id,
            session_id: String::new(),
            disposed: false,
        };
        let target = s
            .call(
                None,
                "Target.createTarget",
                json!({"url": "about:blank", "browserContextId": page.context_id}),
                COMMAND_TIMEOUT,
            )
            .await?;
        let target_id = str_field(&target, "targetId", "Target.createTarget")?;
        let attached = s
            .call(
                None,
                "Target.attachToTarget",
                json!({"targetId": target_id, "flatten": true}),
                COMMAND_TIMEOUT,
            )
            .await?;
        page.session_id = str_field(&attached, "sessionId", "Target.attachToTarget")?;
        for m in DOMAINS {
            page.call(m, json!({})).await?;
        }
        page.call(
            "Target.setAutoAttach",
            json!({"autoAttach": true, "waitForDebuggerOnStart": true, "flatten": true}),
        )
        .await?;
        Ok(page)
    }

    /// Closes the browser politely (`Browser.close`), waiting up to 5 s before killing it.
    pub async fn close(mut self) {
        let _ = self
            .shared
            .call(None, "Browser.close", json!({}), Duration::from_secs(2))
            .await;
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.start_kill();
            let _ = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        for t in &self.tasks {
            t.abort();
        }
        self.shared.close();
    }
}

/// One page in its own browser context. Dispose it with [`Page::close`]; dropping it
/// disposes the context without waiting.
pub struct Page {
    shared: Arc<Shared>,
    context_id: String,
    session_id: String,
    disposed: bool,
}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page")
            .field("context_id", &self.context_id)
            .field("session_id", &self.session_id)
            .finish_non_exhaustive()
    }
}

impl Page {
    /// Sets a permission (`Browser.setPermission`, e.g. `loopback-network`: `granted` or
    /// `denied`) for `origin` in this page's browser context. Such an override bypasses
    /// Permissions-Policy checks (observed in Chromium 156).
    pub async fn set_permission(
        &self,
        name: &str,
        setting: &str,
        origin: &str,
    ) -> Result<Value, CdpError> {
        self.shared
            .call(
                None,
                "Browser.setPermission",
                json!({
                    "permission": {"name": name},
                    "setting": setting,
                    "origin": origin,
                    "browserContextId": self.context_id,
                }),
                COMMAND_TIMEOUT,
            )
            .await
    }

    /// Sends a command to this page's session.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, CdpError> {
        self.call_with_timeout(method, params, COMMAND_TIMEOUT)
            .await
    }

    /// Sends a command to this page's session with an explicit timeout.
    pub async fn call_with_timeout(
        &self,
        method: &str,
        params: Value,
        timeout: Duration,
    ) -> Result<Value, CdpError> {
        self.shared
            .call(Some(&self.session_id), method, params, timeout)
            .await
    }

    /// `Page.navigate`; fails when Chromium reports an `errorText`.
    pub async fn navigate(&self, url: &str) -> Result<(), CdpError> {
        let r = self.call("Page.navigate", json!({"url": url})).await?;
        match r.get("errorText").and_then(Value::as_str) {
            Some(e) if !e.is_empty() => Err(CdpError::Protocol {
                method: "Page.navigate".into(),
                message: format!("{url}: {e}"),
            }),
            _ => Ok(()),
        }
    }

    /// `Runtime.evaluate` with `awaitPromise` and `returnByValue`: the (awaited) value of
    /// `expression`, or the exception text.
    pub async fn evaluate(&self, expression: &str, timeout: Duration) -> Result<Value, CdpError> {
        let r = self
            .call_with_timeout(
                "Runtime.evaluate",
                json!({"expression": expression, "awaitPromise": true, "returnByValue": true}),
                timeout,
            )
            .await?;
        if let Some(ex) = r.get("exceptionDetails") {
            let text = ex
                .pointer("/exception/description")
                .or_else(|| ex.pointer("/exception/value"))
                .or_else(|| ex.get("text"))
                .map_or_else(
                    || ex.to_string(),
                    |v| v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                );
            return Err(CdpError::Protocol {
                method: "Runtime.evaluate".into(),
                message: text,
            });
        }
        Ok(r.pointer("/result/value").cloned().unwrap_or(Value::Null))
    }

    /// Every event received so far for this page (and its child targets), in order.
    pub fn events(&self) -> Vec<Value> {
        lock(&self.shared.events)
            .get(&self.session_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Waits until `pred` holds for the collected events, or `timeout` passes; returns
    /// whether it held.
    pub async fn wait_for(&self, timeout: Duration, pred: impl Fn(&[Value]) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.notify.notified();
            if pred(&self.events()) {
                return true;
            }
            if self.shared.closed.load(Ordering::SeqCst) {
                return false;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return pred(&self.events());
            }
        }
    }

    /// How many auto-attached child targets (e.g. an out-of-process iframe) have their CDP
    /// domains enabled. Chromium 156 does not pause such an iframe for the debugger
    /// (`waitingForDebugger: false`), so a page whose iframe fetches must wait for this before
    /// letting the iframe start, or its network events are lost.
    pub fn adopted_children(&self) -> usize {
        lock(&self.shared.adopted)
            .get(&self.session_id)
            .copied()
            .unwrap_or(0)
    }

    /// Waits until at least `n` child targets are adopted, or `timeout` passes; returns
    /// whether they were.
    pub async fn wait_for_children(&self, n: usize, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.notify.notified();
            if self.adopted_children() >= n {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.adopted_children() >= n;
            }
        }
    }

    /// `Page.captureScreenshot` as PNG bytes.
    pub async fn screenshot_png(&self) -> Result<Vec<u8>, CdpError> {
        let r = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await?;
        let data = str_field(&r, "data", "Page.captureScreenshot")?;
        base64_decode(&data).ok_or_else(|| CdpError::Protocol {
            method: "Page.captureScreenshot".into(),
            message: "invalid base64 data".into(),
        })
    }

    /// Disposes the page's browser context (cookies, caches and all).
    pub async fn close(mut self) -> Result<(), CdpError> {
        self.disposed = true;
        lock(&self.shared.events).remove(&self.session_id);
        lock(&self.shared.adopted).remove(&self.session_id);
        self.shared
            .call(
                None,
                "Target.disposeBrowserContext",
                json!({"browserContextId": self.context_id}),
                COMMAND_TIMEOUT,
            )
            .await
            .map(|_| ())
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        if !self.disposed {
            lock(&self.shared.events).remove(&self.session_id);
            lock(&self.shared.adopted).remove(&self.session_id);
            let id = self.shared.next_id.fetch_add(1, Ordering::SeqCst);
            let msg = json!({"id": id, "method": "Target.disposeBrowserContext",
                             "params": {"browserContextId": self.context_id}});
            let _ = self.shared.out.send(Message::text(msg.to_string()));
        }
    }
}

fn str_field(v: &Value, field: &str, method: &str) -> Result<String, CdpError> {
    v.get(field)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| CdpError::Protocol {
            method: method.to_owned(),
            message: format!("no `{field}` in {v}"),
        })
}

/// The stderr lines worth showing when the launch fails: not the Debian wrapper's `[:`
/// complaint nor D-Bus chatter.
fn relevant(lines: &[String]) -> String {
    let keep: Vec<&str> = lines
        .iter()
        .map(String::as_str)
        .filter(|l| {
            !l.contains("unexpected operator") && !l.contains("dbus") && !l.contains("D-Bus")
        })
        .collect();
    if keep.is_empty() {
        lines.join("\n")
    } else {
        keep.join("\n")
    }
}

/// Standard base64 (with padding) decoding, for screenshots.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }
    let bytes: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    for chunk in bytes.chunks(4) {
        let pad = chunk.iter().rev().take_while(|&&b| b == b'=').count();
        let mut n: u32 = 0;
        for (i, &c) in chunk.iter().enumerate() {
            let v = if c == b'=' && i >= chunk.len() - pad {
                0
            } else {
                val(c)?
            };
            n = (n << 6) | v;
        }
        n <<= 6 * (4 - chunk.len() as u32);
        let got = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let keep = chunk.len().saturating_sub(1).saturating_sub(pad);
        out.extend_from_slice(got.get(..keep).unwrap_or(&[]));
    }
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::base64_decode;

    #[test]
    fn base64_round_trips_known_values() {
        assert_eq!(base64_decode("aGVsbG8=").as_deref(), Some(&b"hello"[..]));
        assert_eq!(base64_decode("aGVsbG8h").as_deref(), Some(&b"hello!"[..]));
        assert_eq!(base64_decode("aGk=").as_deref(), Some(&b"hi"[..]));
        assert_eq!(
            base64_decode("iVBORw0KGgo=").as_deref(),
            Some(&b"\x89PNG\r\n\x1a\n"[..])
        );
        assert!(base64_decode("a$==").is_none());
    }
}
