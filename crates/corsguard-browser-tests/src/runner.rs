//! Runs one case: resolves its fetches, asks the model (against the live SUT), drives
//! Chromium in a fresh browser context, and collects what each side observed.

use std::collections::BTreeMap;
use std::time::Duration;

use corsguard::Policy;
use corsguard::adapter::{Action, RequestHead};
use corsguard_browser::{
    AddressSpace, AddressSpaceOverride, BrowserRequest, CredentialsMode, Destination,
    EmbedderPolicy, LnaPermission, NetworkContext, PreflightCache, RequestMode, ResponseView,
    SimRequest, Verdict, simulate_with_cache,
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::cases::{Case, Placeholders, Step};
use crate::cdp::{Browser, CdpError};
use crate::fixture::{
    App, AppOutcome, AppRequest, LoggedRequest, READ_RESULT_JS, REPLAY_HEADER, encode_query,
};
use crate::replay::replay;

/// Per-case timeout for the page's fetches.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(10);

/// Timeout of each replayed request.
const REPLAY_TIMEOUT: Duration = Duration::from_secs(10);

/// A fetch with placeholders substituted and the application directives encoded.
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedFetch {
    /// Absolute URL (with `cg=<tag>` and the directives in the query).
    pub url: String,
    /// Method as written.
    pub method: String,
    /// Script headers.
    pub headers: Vec<(String, String)>,
    /// `omit` / `same-origin` / `include`.
    pub credentials: String,
    /// Body.
    pub body: Option<String>,
    /// The response headers the application is told to add (placeholders substituted).
    pub app_headers: Vec<(String, String)>,
    /// `cors` or `no-cors`.
    pub mode: String,
    /// `image` / `script` (an element loads the URL), or `None` for `fetch()`.
    pub destination: Option<String>,
}

/// A case ready to run: its page origin and fetches.
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedCase {
    /// Origin A (`null`-origin cases still load the parent page from here).
    pub page_origin: String,
    /// Sandboxed iframe (opaque origin).
    pub sandbox: bool,
    /// The fetches, in order.
    pub fetches: Vec<ResolvedFetch>,
    /// The log tag.
    pub tag: String,
    /// The page origin's `loopback-network` permission (`granted` / `denied`), if set.
    pub permission: Option<String>,
    /// Headers of the page's own response.
    pub page_headers: Vec<(String, String)>,
    /// What Chromium is told about the network (the suite's launch flags), for the model.
    pub network: NetworkContext,
}

/// Resolves `case` for one run.
pub fn resolve(case: &Case, steps: &[Step], ph: &Placeholders, tag: &str) -> ResolvedCase {
    let fetches = steps
        .iter()
        .map(|s| {
            let f = &s.fetch;
            let mut pairs: Vec<(String, String)> = vec![("cg".into(), tag.to_owned())];
            let mut app_headers = Vec::new();
            if let Some(app) = &f.app {
                if let Some(st) = app.status {
                    pairs.push(("status".into(), st.to_string()));
                }
                for (n, v) in &app.headers {
                    app_headers.push((n.clone(), ph.apply(v)));
                    pairs.push(("h".into(), format!("{n}:{}", ph.apply(v))));
                }
                if let Some(r) = &app.redirect {
                    pairs.push(("redirect".into(), ph.apply(r).replace("{tag}", tag)));
                }
                if let Some(rs) = app.redirect_status {
                    pairs.push(("redirect_status".into(), rs.to_string()));
                }
                if let Some(ms) = app.sleep_ms {
                    pairs.push(("sleep".into(), ms.to_string()));
                }
                if app.drop {
                    pairs.push(("drop".into(), "1".into()));
                }
                if let Some(b) = &app.body {
                    pairs.push(("body".into(), b.clone()));
                }
            }
            let base = ph.apply(&f.url);
            let query = encode_query(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let sep = if base.contains('?') { '&' } else { '?' };
            ResolvedFetch {
                url: format!("{base}{sep}{query}"),
                method: f.method.clone(),
                headers: f
                    .headers
                    .iter()
                    .map(|(n, v)| (n.clone(), ph.apply(v)))
                    .collect(),
                credentials: f
                    .credentials
                    .clone()
                    .unwrap_or_else(|| "same-origin".into()),
                body: f.body.clone(),
                app_headers,
                mode: f.mode.clone().unwrap_or_else(|| "cors".into()),
                destination: f.destination.clone(),
            }
        })
        .collect();
    ResolvedCase {
        page_origin: ph.apply(case.page.as_deref().unwrap_or("{page}")),
        sandbox: case.sandbox,
        fetches,
        tag: tag.to_owned(),
        permission: case.permission.clone(),
        page_headers: case
            .page_headers
            .iter()
            .map(|(n, v)| (n.clone(), ph.apply(v)))
            .collect(),
        network: suite_network(ph, case.permission.as_deref()),
    }
}

/// The Chromium flags of the suite ([`chromium_flags`]) as the model's network context, with
/// the case's permission.
fn suite_network(ph: &Placeholders, permission: Option<&str>) -> NetworkContext {
    NetworkContext {
        resolve: vec![(
            crate::cases::INSECURE_HOST.to_owned(),
            std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        )],
        overrides: vec![AddressSpaceOverride {
            ip: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            port: Some(ph.public_port),
            prefix: None,
            space: AddressSpace::Public,
        }],
        permission: match permission {
            Some("granted") => LnaPermission::Granted,
            Some("denied") => LnaPermission::Denied,
            _ => LnaPermission::Prompt,
        },
        ..NetworkContext::default()
    }
}

/// The extra Chromium flags the suite launches with: the `{public_page}` server counts as
/// `public` (so Local Network Access applies to its fetches of the loopback SUTs), and
/// `{insecure_page}`'s host name resolves to it.
pub fn chromium_flags(public_port: u16) -> Vec<String> {
    vec![
        format!("--ip-address-space-overrides=127.0.0.1:{public_port}=public"),
        format!(
            "--host-resolver-rules=MAP {} 127.0.0.1",
            crate::cases::INSECURE_HOST
        ),
    ]
}

impl ResolvedCase {
    /// The origin the fetches run in (`null` for the sandboxed iframe).
    pub fn request_origin(&self) -> String {
        if self.sandbox {
            "null".into()
        } else {
            self.page_origin.clone()
        }
    }

    /// The page URL that runs the fetches.
    pub fn page_url(&self) -> String {
        let spec = json!({
            "sandbox": self.sandbox,
            "page_headers": self.page_headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
            "fetches": self.fetches.iter().map(|f| json!({
                "url": f.url,
                "method": f.method,
                "headers": f.headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
                "credentials": f.credentials,
                "body": f.body,
                "mode": f.mode,
                "destination": f.destination,
            })).collect::<Vec<_>>(),
        });
        format!(
            "{}/__page?{}",
            self.page_origin,
            encode_query([("spec", spec.to_string().as_str())])
        )
    }

    /// The `corsguard_browser` request for fetch `i`.
    pub fn browser_request(&self, f: &ResolvedFetch) -> BrowserRequest {
        let mut req = BrowserRequest::new(self.request_origin(), f.url.clone())
            .method(f.method.clone())
            .credentials(match f.credentials.as_str() {
                "include" => CredentialsMode::Include,
                "omit" => CredentialsMode::Omit,
                _ => CredentialsMode::SameOrigin,
            });
        for (n, v) in &f.headers {
            req = req.header(n.clone(), v.clone());
        }
        req = req.network(self.network.clone());
        if f.mode == "no-cors" {
            req = req.mode(RequestMode::NoCors);
        }
        if let Some(coep) = self
            .page_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("cross-origin-embedder-policy"))
        {
            req = req.embedder_policy(EmbedderPolicy::parse(&coep.1));
        }
        match f.destination.as_deref() {
            Some("image") => req = req.destination(Destination::Image),
            Some("script") => req = req.destination(Destination::Script),
            // A form submitted into an iframe: a navigation of that iframe (as `explain
            // --destination iframe` models it).
            Some("form") => {
                req = req
                    .mode(RequestMode::Navigate)
                    .destination(Destination::Iframe);
            }
            _ => {}
        }
        // A string body makes fetch() add this (CORS-safelisted) Content-Type.
        if f.body.is_some()
            && !f
                .headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            req = req.header("Content-Type", "text/plain;charset=UTF-8");
        }
        req
    }
}

/// The model's verdicts for the case's fetches, in order, sharing one preflight cache (one
/// browser context), each request answered by the live SUT.
pub fn predict(case: &ResolvedCase) -> Vec<Verdict> {
    let mut cache = PreflightCache::new();
    case.fetches
        .iter()
        .map(|f| {
            let req = case.browser_request(f);
            simulate_with_cache(&req, &mut cache, 0, |sent| replay(sent, REPLAY_TIMEOUT))
        })
        .collect()
}

/// The `corsguard explain` prediction: the same model, with the policy engine (applied per
/// ARCHITECTURE.md's adapter contract around the application, in process) answering
/// requests to the SUT's port, and the plain application answering any other origin.
/// Independent of the SUT. `None` when the case depends on failures only a proxy produces
/// (`drop`, `sleep_ms`).
pub fn predict_engine(
    case: &ResolvedCase,
    steps: &[Step],
    policy: &Policy,
    app: &App,
    sut_port: u16,
) -> Option<Vec<Verdict>> {
    let proxy_only = steps.iter().any(|s| {
        s.fetch
            .app
            .as_ref()
            .is_some_and(|a| a.drop || a.sleep_ms.is_some())
    });
    if proxy_only {
        return None;
    }
    let mut cache = PreflightCache::new();
    Some(
        case.fetches
            .iter()
            .map(|f| {
                let req = case.browser_request(f);
                simulate_with_cache(&req, &mut cache, 0, |sent| {
                    engine_respond(sent, policy, app, sut_port)
                })
            })
            .collect(),
    )
}

fn engine_respond(sent: &SimRequest, policy: &Policy, app: &App, sut_port: u16) -> ResponseView {
    let Ok(url) = url::Url::parse(&sent.url) else {
        return ResponseView::new(0);
    };
    let port = url.port_or_known_default().unwrap_or(80);
    let authority = format!("{}:{port}", url.host_str().unwrap_or(""));
    let mut headers: Vec<(String, String)> = sent
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .collect();
    headers.push(("host".into(), authority));
    headers.push((REPLAY_HEADER.into(), "1".into()));
    let app_req = AppRequest {
        method: sent.method.clone(),
        path: url.path().to_owned(),
        query: url.query().unwrap_or("").to_owned(),
        headers: headers.clone(),
    };
    let app_answer = || match app.respond(&app_req) {
        AppOutcome::Respond {
            status, headers, ..
        } => {
            let mut map = http::HeaderMap::new();
            for (n, v) in headers {
                if let (Ok(n), Ok(v)) = (
                    http::HeaderName::from_bytes(n.as_bytes()),
                    http::HeaderValue::from_str(&v),
                ) {
                    map.append(n, v);
                }
            }
            (
                http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK),
                map,
            )
        }
        AppOutcome::Drop => (http::StatusCode::BAD_GATEWAY, http::HeaderMap::new()),
    };
    if port != sut_port {
        let (status, map) = app_answer();
        return ResponseView::from_parts(status, &map);
    }
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let (Ok(method), Ok(uri)) = (
        http::Method::from_bytes(sent.method.as_bytes()),
        target.parse::<http::Uri>(),
    ) else {
        return ResponseView::new(0);
    };
    let mut map = http::HeaderMap::new();
    for (n, v) in &headers {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(n.as_bytes()),
            http::HeaderValue::from_str(v),
        ) {
            map.append(n, v);
        }
    }
    let decision = policy.decide(&RequestHead::from_components(&method, &uri, &map));
    match decision.action() {
        Action::Respond(_) => {
            let (status, h) = decision.response_parts().unwrap_or_default();
            ResponseView::from_parts(status, &h)
        }
        Action::Forward => {
            let (status, mut h) = app_answer();
            decision.apply(&mut h);
            ResponseView::from_parts(status, &h)
        }
        // PassThrough, and any action a later engine adds.
        _ => {
            let (status, h) = app_answer();
            ResponseView::from_parts(status, &h)
        }
    }
}

/// Runs the real `corsguard explain --format json` for a single-fetch case (no redirect, no
/// proxy-only failure: the CLI's application answers every request the same way). `None`
/// when the case does not fit; `Some(Err)` when the binary fails.
pub async fn predict_cli(
    bin: &std::path::Path,
    policy_file: &std::path::Path,
    case: &ResolvedCase,
    steps: &[Step],
) -> Option<Result<crate::check::CaseView, String>> {
    let [step] = steps else {
        return None;
    };
    let directives = step.fetch.app.clone().unwrap_or_default();
    if directives.redirect.is_some() || directives.drop || directives.sleep_ms.is_some() {
        return None;
    }
    let f = case.fetches.first()?;
    let req = case.browser_request(f);
    let mut cmd = tokio::process::Command::new(bin);
    cmd.arg("explain")
        .arg("--config")
        .arg(policy_file)
        .args([
            "--origin",
            &req.page_origin,
            "--url",
            &req.url,
            "--method",
            &req.method,
        ])
        .args([
            "--credentials",
            req.credentials.as_str(),
            "--format",
            "json",
        ])
        .args([
            "--app-status",
            &directives.status.unwrap_or(200).to_string(),
        ])
        .env("NO_COLOR", "1");
    for (n, v) in &req.headers {
        cmd.arg("--header").arg(format!("{n}: {v}"));
    }
    // The network as Chromium is told about it, and the element / page headers.
    for o in &case.network.overrides {
        let port = o.port.unwrap_or(0);
        cmd.arg("--ip-address-space-override")
            .arg(format!("{}:{port}={}", o.ip, o.space));
    }
    for (host, ip) in &case.network.resolve {
        cmd.arg("--resolve").arg(format!("{host}={ip}"));
    }
    cmd.args(["--lna-permission", req.network.permission.as_str()]);
    if f.mode == "no-cors" {
        cmd.args(["--mode", "no-cors"]);
    }
    match f.destination.as_deref() {
        Some("form") => {
            cmd.args(["--destination", "iframe"]);
        }
        Some(d) => {
            cmd.args(["--destination", d]);
        }
        None => {}
    }
    for (n, v) in &case.page_headers {
        cmd.arg("--page-header").arg(format!("{n}: {v}"));
    }
    // The same (CORS-relevant) response headers the application sends.
    for (n, v) in &f.app_headers {
        cmd.arg("--app-header").arg(format!("{n}: {v}"));
    }
    let out = match cmd.output().await {
        Ok(o) => o,
        Err(e) => return Some(Err(format!("{}: {e}", bin.display()))),
    };
    // Exit status: 0 allowed, 1 blocked, 2 usage error or invalid policy.
    if out.status.code() == Some(2) || out.status.code().is_none() {
        return Some(Err(format!(
            "`corsguard explain` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    Some(
        serde_json::from_slice::<Value>(&out.stdout)
            .map(|v| crate::check::cli_view(&v))
            .map_err(|e| format!("`corsguard explain` printed no JSON report: {e}")),
    )
}

/// What the page's script saw for one fetch.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PageResult {
    /// `fetch()` resolved.
    pub ok: bool,
    /// Status (when resolved).
    pub status: Option<u16>,
    /// `response.type`.
    pub kind: Option<String>,
    /// `response.redirected`.
    pub redirected: Option<bool>,
    /// Readable headers (lower-case names).
    pub headers: BTreeMap<String, String>,
    /// Body text.
    pub body: String,
    /// The `TypeError` text (when rejected).
    pub error: Option<String>,
}

impl PageResult {
    fn from_value(v: &Value) -> PageResult {
        PageResult {
            ok: v.get("ok").and_then(Value::as_bool).unwrap_or(false),
            status: v
                .get("status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok()),
            kind: v.get("type").and_then(Value::as_str).map(str::to_owned),
            redirected: v.get("redirected").and_then(Value::as_bool),
            headers: v
                .get("headers")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                        .collect()
                })
                .unwrap_or_default(),
            body: v
                .get("body")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            error: v.get("error").and_then(Value::as_str).map(str::to_owned),
        }
    }
}

/// A `Network.loadingFailed` with a `corsErrorStatus`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CorsFailureSeen {
    /// The request URL.
    pub url: String,
    /// `corsError`.
    pub cors_error: String,
    /// `failedParameter` (`None` when empty).
    pub failed_parameter: Option<String>,
}

/// A preflight Chromium sent (`initiator.type == "preflight"`).
#[derive(Debug, Clone, Serialize)]
pub struct PreflightSeen {
    /// URL.
    pub url: String,
    /// `Access-Control-Request-Method`.
    pub acrm: Option<String>,
    /// `Access-Control-Request-Headers`.
    pub acrh: Option<String>,
}

/// Everything observed while Chromium ran the case.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Observation {
    /// Per fetch, what the page saw.
    pub results: Vec<PageResult>,
    /// CORS failures, in order.
    pub cors_failures: Vec<CorsFailureSeen>,
    /// Other `loadingFailed` error texts (URL, errorText).
    pub network_errors: Vec<(String, String)>,
    /// Console messages about CORS (`… has been blocked by CORS policy: …`), in order.
    pub console: Vec<String>,
    /// Preflights sent.
    pub preflights: Vec<PreflightSeen>,
    /// `DeprecationIssue` types.
    pub deprecations: Vec<String>,
    /// Requests that reached the application (browser only).
    pub app: Vec<LoggedRequest>,
}

/// Events worth waiting for after the page has its results: CDP events from other processes
/// (network service, out-of-process iframes) and DevTools issues can trail the page's
/// promise. The hints come from the table and the model; they only bound the wait, they are
/// never what is asserted.
#[derive(Debug, Clone, Copy, Default)]
pub struct WaitHints {
    /// A `DeprecationIssue` is expected.
    pub deprecation: bool,
    /// This many preflights are expected.
    pub preflights: usize,
}

/// How long to wait for trailing events.
const SETTLE: Duration = Duration::from_secs(2);

/// Drives Chromium through the case in a fresh browser context, then waits (bounded, see
/// [`WaitHints`]) for trailing events.
pub async fn observe(
    browser: &Browser,
    app: &App,
    case: &ResolvedCase,
    hints: WaitHints,
) -> Result<Observation, CdpError> {
    let page = browser.new_page().await?;
    let run = async {
        if let Some(setting) = &case.permission {
            page.set_permission("loopback-network", setting, &case.page_origin)
                .await?;
        }
        page.navigate(&case.page_url()).await?;
        if case.sandbox {
            // Bounded: if Chromium ever keeps the iframe in process, no child attaches and
            // the parent session sees its requests anyway.
            page.wait_for_children(1, Duration::from_secs(3)).await;
        }
        let value = page.evaluate(READ_RESULT_JS, CASE_TIMEOUT).await?;
        Ok::<Value, CdpError>(value)
    };
    let value = match run.await {
        Ok(v) => v,
        Err(e) => {
            let _ = page.close().await;
            return Err(e);
        }
    };
    let results: Vec<PageResult> = value
        .as_array()
        .map(|a| a.iter().map(PageResult::from_value).collect())
        .unwrap_or_default();
    let failed = results.iter().filter(|r| !r.ok).count();
    page.wait_for(SETTLE, |events| {
        let o = extract(events);
        let loading_failed = o.cors_failures.len() + o.network_errors.len();
        loading_failed >= failed
            && o.console.len() >= o.cors_failures.len()
            && o.preflights.len() >= hints.preflights
            && (!hints.deprecation || !o.deprecations.is_empty())
    })
    .await;
    let events = page.events();
    if std::env::var("CORSGUARD_BROWSER_DUMP").is_ok_and(|v| v == "1") {
        for e in &events {
            let mut line = e.to_string();
            if !line.contains("attachedToTarget") {
                line.truncate(200);
            }
            println!("    event {line}");
        }
    }
    let mut obs = extract(&events);
    let _ = page.close().await;
    obs.results = results;
    obs.app = app.log.for_tag(&case.tag);
    Ok(obs)
}

/// Extracts the interesting facts from a page's CDP events.
pub fn extract(events: &[Value]) -> Observation {
    let mut urls: BTreeMap<String, String> = BTreeMap::new();
    let mut obs = Observation::default();
    for e in events {
        let method = e.get("method").and_then(Value::as_str).unwrap_or("");
        let p = e.get("params").cloned().unwrap_or(Value::Null);
        match method {
            "Network.requestWillBeSent" => {
                let id = p.get("requestId").and_then(Value::as_str).unwrap_or("");
                let url = p
                    .pointer("/request/url")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let is_preflight =
                    p.pointer("/initiator/type").and_then(Value::as_str) == Some("preflight");
                let m = p.pointer("/request/method").and_then(Value::as_str);
                if is_preflight && m == Some("OPTIONS") {
                    let hdr = |name: &str| {
                        p.pointer("/request/headers")
                            .and_then(Value::as_object)
                            .and_then(|h| {
                                h.iter()
                                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                                    .and_then(|(_, v)| v.as_str())
                                    .map(str::to_owned)
                            })
                    };
                    obs.preflights.push(PreflightSeen {
                        url: url.clone(),
                        acrm: hdr("access-control-request-method"),
                        acrh: hdr("access-control-request-headers"),
                    });
                } else {
                    urls.insert(id.to_owned(), url);
                }
            }
            "Network.loadingFailed" => {
                let id = p.get("requestId").and_then(Value::as_str).unwrap_or("");
                let url = urls.get(id).cloned().unwrap_or_default();
                if let Some(status) = p.get("corsErrorStatus") {
                    obs.cors_failures.push(CorsFailureSeen {
                        url,
                        cors_error: status
                            .get("corsError")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                        failed_parameter: status
                            .get("failedParameter")
                            .and_then(Value::as_str)
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned),
                    });
                } else if !url.ends_with("/favicon.ico") {
                    let text = p
                        .get("errorText")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned();
                    obs.network_errors.push((url, text));
                }
            }
            "Log.entryAdded" => {
                let entry = p.get("entry").cloned().unwrap_or(Value::Null);
                let text = entry.get("text").and_then(Value::as_str).unwrap_or("");
                if entry.get("source").and_then(Value::as_str) == Some("javascript")
                    && text.contains("has been blocked by CORS policy")
                {
                    obs.console.push(text.to_owned());
                }
            }
            "Audits.issueAdded" => {
                if p.pointer("/issue/code").and_then(Value::as_str) == Some("DeprecationIssue")
                    && let Some(t) = p
                        .pointer("/issue/details/deprecationIssueDetails/type")
                        .and_then(Value::as_str)
                {
                    obs.deprecations.push(t.to_owned());
                }
            }
            _ => {}
        }
    }
    obs
}
