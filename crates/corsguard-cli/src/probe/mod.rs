//! `corsguard probe URL --origin ORIGIN`: online, against any server. Sends the preflight
//! (when Chromium would) and the actual request exactly as Chromium does (header names,
//! lower-cased sorted `Access-Control-Request-Headers`, `Accept: */*`, `Sec-Fetch-Mode: cors`,
//! no cookies on the preflight, no redirects followed by the HTTP client), runs the browser
//! model on the real responses, and reports the verdict, Chromium's console message and what
//! the browser would not tell: see [`findings`].
//!
//! To find origin reflection and `null` acceptance, the same request is sent again with a
//! random origin and with `Origin: null` (as a preflight when the request needs one, so a
//! non-idempotent request is never repeated); `--no-extra-probes` turns that off.
//!
//! Exit status: 0 allowed, 1 blocked, 2 usage or network error (timeouts, TLS, refused
//! connections are reported plainly).

pub(crate) mod advice;
pub(crate) mod findings;

use std::hash::{BuildHasher, Hasher};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use corsguard_browser::{
    BrowserRequest, FetchErrorKind, PreflightPlan, ResponseView, SimRequest, SimRequestKind, Step,
    preflight_plan, simulate,
};
use serde::Serialize;

use crate::check::render::{OutputFormat, Style};
use crate::explain::{Credentials, parse_header};
use findings::{Finding, Seen};

/// Arguments of `corsguard probe`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  corsguard probe https://api.example.com/v1/items --origin https://app.example.com
  corsguard probe https://api.example.com/v1/items --origin https://app.example.com \\
      --method PUT --header 'Content-Type: application/json' --credentials include --cookie 'session=…'
  corsguard probe https://api.example.com/v1/items/7 --origin https://app.example.com --method DELETE --preflight-only

The actual request is sent too, as the browser would: use --preflight-only for endpoints
with side effects. Exit status: 0 allowed, 1 blocked, 2 usage or network error.")]
pub(crate) struct Args {
    /// The URL the page fetches.
    #[arg(value_name = "URL")]
    pub url: String,
    /// The page's origin (`https://app.example.com`, or `null`).
    #[arg(long, value_name = "ORIGIN")]
    pub origin: String,
    /// The method, as the script writes it.
    #[arg(long, short = 'X', default_value = "GET")]
    pub method: String,
    /// A header the script sets, `Name: value` (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// `fetch()`'s credentials mode.
    #[arg(long, value_enum, default_value_t = Credentials::SameOrigin)]
    pub credentials: Credentials,
    /// Cookies the browser holds for the URL: sent on the actual request when the
    /// credentials mode includes them, never on the preflight.
    #[arg(long, value_name = "COOKIE")]
    pub cookie: Option<String>,
    /// Seconds to wait for each response (connect included).
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// Send only the preflight (if one is needed), not the actual request.
    #[arg(long)]
    pub preflight_only: bool,
    /// Do not send the extra requests with a random origin and with `Origin: null` (nor the
    /// preflight that checks an error answer against the server's usual CORS headers).
    #[arg(long)]
    pub no_extra_probes: bool,
    /// Also GET this path on the same server, expected to fail (`/no-such-page`): its error
    /// response must carry the CORS headers too.
    #[arg(long, value_name = "PATH")]
    pub error_path: Option<String>,
    /// The User-Agent sent (Chromium sends one; some servers route on it).
    #[arg(long, default_value = USER_AGENT, value_name = "UA")]
    pub user_agent: String,
    /// The corsguard policy the server is meant to run: when the request is blocked, the fix
    /// is computed for it and checked with the browser model, as `corsguard explain` does.
    #[arg(long, short = 'c', value_name = "POLICY")]
    pub config: Option<std::path::PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
}

/// The User-Agent a probe sends by default: Chromium 156's, marked as a probe.
pub(crate) const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36 corsguard-probe";

impl Args {
    /// A probe of `url` from `origin` with the command's defaults (GET, `same-origin`
    /// credentials, 10 s timeout, the extra probes on), for callers that probe in bulk.
    pub(crate) fn new(url: impl Into<String>, origin: impl Into<String>) -> Args {
        Args {
            url: url.into(),
            origin: origin.into(),
            method: "GET".to_owned(),
            headers: Vec::new(),
            credentials: Credentials::SameOrigin,
            cookie: None,
            timeout: 10.0,
            preflight_only: false,
            no_extra_probes: false,
            error_path: None,
            user_agent: USER_AGENT.to_owned(),
            config: None,
            format: OutputFormat::Human,
        }
    }
}

/// One request sent and what came back.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Exchange {
    /// Which one: `preflight`, `request`, `probe with a random origin`, …
    pub label: String,
    /// What was sent.
    pub request: SimRequest,
    /// What came back (`None` on a network error).
    pub response: Option<ResponseView>,
    /// The HTTP version of the response.
    pub version: Option<String>,
    /// Milliseconds until the response head.
    pub elapsed_ms: u128,
    /// The browser's failure on this response, if any.
    pub failure: Option<corsguard_browser::CorsFailure>,
}

/// The whole probe (`--format json`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    /// The request as the script makes it.
    pub request: BrowserRequest,
    /// Whether Chromium sends a preflight.
    pub preflight_needed: bool,
    /// Why.
    pub preflight_reasons: Vec<String>,
    /// Requests the browser model made, in order.
    pub exchanges: Vec<Exchange>,
    /// The extra requests (random origin, `null`).
    pub extra_probes: Vec<Exchange>,
    /// `allowed`, `blocked`, `preflight-passed` (with `--preflight-only`) or `error`.
    pub verdict: String,
    /// The CDP `corsError`, when blocked by CORS.
    pub cors_error: Option<String>,
    /// Chromium's console message, when blocked by CORS.
    pub console_message: Option<String>,
    /// A network error or `TypeError`.
    pub error: Option<String>,
    /// What the browser would not tell.
    pub findings: Vec<Finding>,
    /// Header names script can read on the final response.
    pub exposed_headers: Vec<String>,
    /// Where the spec and Chromium 156 differ for this request.
    pub notes: Vec<String>,
    /// When blocked: the checked fix for `--config`'s policy, or what the server's answers
    /// need.
    pub advice: Option<advice::Advice>,
}

struct Sender {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
    timeout: Duration,
}

impl Sender {
    fn send(
        &self,
        sent: &SimRequest,
        cookie: Option<&str>,
    ) -> (Result<(ResponseView, String), String>, u128) {
        let start = Instant::now();
        let result = self.rt.block_on(async {
            let method = reqwest::Method::from_bytes(sent.method.as_bytes())
                .map_err(|e| format!("invalid method `{}`: {e}", sent.method))?;
            let mut b = self.client.request(method, &sent.url);
            for (n, v) in &sent.headers {
                b = b.header(n.as_str(), v.as_str());
            }
            if let Some(c) = cookie.filter(|_| sent.credentials && !sent.is_preflight()) {
                b = b.header("Cookie", c);
            }
            let resp = b
                .send()
                .await
                .map_err(|e| describe_error(&e, &sent.method, &sent.url, self.timeout))?;
            let version = format!("{:?}", resp.version());
            let mut view = ResponseView::new(resp.status().as_u16());
            for (n, v) in resp.headers() {
                view.push_header(
                    n.as_str(),
                    v.as_bytes()
                        .iter()
                        .map(|b| char::from(*b))
                        .collect::<String>(),
                );
            }
            Ok::<_, String>((view, version))
        });
        (result, start.elapsed().as_millis())
    }
}

/// A network error in plain words.
fn describe_error(e: &reqwest::Error, method: &str, url: &str, timeout: Duration) -> String {
    let mut chain = Vec::new();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = src {
        let text = s.to_string();
        if !chain.contains(&text) {
            chain.push(text);
        }
        src = s.source();
    }
    let detail = chain.join(": ");
    let lower = detail.to_ascii_lowercase();
    let what = if e.is_timeout() {
        format!("timed out after {} s", timeout.as_secs_f64())
    } else if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("corrupt message")
        || lower.contains("invalid peer")
    {
        format!("TLS error: {detail}")
    } else if e.is_connect() {
        format!("cannot connect: {detail}")
    } else if detail.is_empty() {
        e.to_string()
    } else {
        detail
    };
    format!("{method} {url} failed: {what}")
}

fn random_origin() -> String {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    format!(
        "https://corsguard-probe-{:012x}.example",
        h.finish() & 0xffff_ffff_ffff
    )
}

/// A request shaped like Chromium's preflight for `req`, to `url`, from `origin`.
fn preflight_to(url: &str, plan: &PreflightPlan, origin: &str) -> SimRequest {
    let mut headers = vec![
        ("Accept".to_owned(), "*/*".to_owned()),
        (
            "Access-Control-Request-Method".to_owned(),
            plan.access_control_request_method.clone(),
        ),
    ];
    if let Some(h) = &plan.access_control_request_headers {
        headers.push(("Access-Control-Request-Headers".to_owned(), h.clone()));
    }
    headers.push(("Origin".to_owned(), origin.to_owned()));
    headers.push(("Sec-Fetch-Mode".to_owned(), "cors".to_owned()));
    headers.push(("Sec-Fetch-Dest".to_owned(), "empty".to_owned()));
    SimRequest {
        kind: SimRequestKind::Preflight,
        method: "OPTIONS".to_owned(),
        url: url.to_owned(),
        headers,
        credentials: false,
    }
}

/// The requests that tell whether error responses lose their CORS headers: `--error-path`
/// (a simple GET of a path expected to fail), and, when the probed URL itself answered an
/// error without CORS headers and no preflight showed what the server sends otherwise, a
/// preflight to the same URL (never a repeat of the actual request).
fn error_probes(
    args: &Args,
    req: &BrowserRequest,
    plan: &PreflightPlan,
    exchanges: &[Exchange],
    sender: &Sender,
) -> Vec<Exchange> {
    let origin = req.serialized_origin();
    let mut out = Vec::new();
    let mut send = |label: String, s: SimRequest| {
        let (result, ms) = sender.send(&s, None);
        let (response, version) = match result {
            Ok((r, v)) => (Some(r), Some(v)),
            Err(_) => (None, None),
        };
        out.push(Exchange {
            label,
            request: s,
            response,
            version,
            elapsed_ms: ms,
            failure: None,
        });
    };
    if let Some(path) = &args.error_path {
        let url = url::Url::parse(&req.url)
            .and_then(|u| u.join(path))
            .map_or_else(|_| req.url.clone(), String::from);
        let mut headers = vec![("Accept".to_owned(), "*/*".to_owned())];
        headers.push(("Origin".to_owned(), origin.clone()));
        headers.push(("Sec-Fetch-Mode".to_owned(), "cors".to_owned()));
        headers.push(("Sec-Fetch-Dest".to_owned(), "empty".to_owned()));
        let s = SimRequest {
            kind: SimRequestKind::Actual,
            method: "GET".to_owned(),
            url,
            headers,
            credentials: false,
        };
        send(format!("{} {path}", findings::ERROR_PATH_PROBE), s);
    }
    let has_cors = |e: &Exchange| {
        e.response
            .as_ref()
            .is_some_and(|r| r.is_ok_status() && r.contains("access-control-allow-origin"))
    };
    let failed_bare = exchanges.last().is_some_and(|e| {
        !e.request.is_preflight()
            && e.response
                .as_ref()
                .is_some_and(|r| r.status >= 400 && !r.contains("access-control-allow-origin"))
    });
    if failed_bare && !args.no_extra_probes && !exchanges.iter().any(has_cors) {
        send(
            findings::REFERENCE_PROBE.to_owned(),
            preflight_to(&req.url, plan, &origin),
        );
    }
    out
}

/// Runs the probe (no output).
pub(crate) fn probe(args: &Args) -> Result<Report, String> {
    let mut req = BrowserRequest::new(args.origin.clone(), args.url.clone())
        .method(args.method.clone())
        .credentials(args.credentials.into())
        // The probe asks the live server about CORS; the page's network is unknown here.
        .network(corsguard_browser::NetworkContext::without_checks());
    for h in &args.headers {
        let (n, v) = parse_header(h).map_err(|e| format!("--header {e}"))?;
        req = req.header(n, v);
    }
    if let Err(e) = req.validate()
        && matches!(
            e.kind,
            FetchErrorKind::InvalidPageOrigin | FetchErrorKind::InvalidUrl
        )
    {
        return Err(e.to_string());
    }
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        return Err(format!(
            "--timeout {} must be a positive number of seconds",
            args.timeout
        ));
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(timeout)
        .connect_timeout(timeout)
        .http1_title_case_headers()
        .user_agent(args.user_agent.clone())
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let sender = Sender {
        rt,
        client,
        timeout,
    };
    let plan = preflight_plan(&req);

    let mut sent: Vec<(SimRequest, Option<ResponseView>, Option<String>, u128)> = Vec::new();
    let mut network_error: Option<String> = None;
    let mut skipped_actual = false;
    let verdict = simulate(&req, |s| {
        if network_error.is_some() {
            return ResponseView::new(0);
        }
        if args.preflight_only && s.kind == SimRequestKind::Actual {
            skipped_actual = true;
            return ResponseView::new(0);
        }
        let (result, ms) = sender.send(s, args.cookie.as_deref());
        // Record what went on the wire, the cookie included.
        let mut wire = s.clone();
        if let Some(c) = args
            .cookie
            .as_deref()
            .filter(|_| s.credentials && !s.is_preflight())
        {
            wire.headers.push(("Cookie".to_owned(), c.to_owned()));
        }
        match result {
            Ok((view, version)) => {
                sent.push((wire, Some(view.clone()), Some(version), ms));
                view
            }
            Err(e) => {
                network_error = Some(e);
                sent.push((wire, None, None, ms));
                ResponseView::new(0)
            }
        }
    });

    // Pair what was sent with the browser's verdict on each response.
    let failures: Vec<Option<corsguard_browser::CorsFailure>> = verdict
        .steps
        .iter()
        .filter_map(|st| match st {
            Step::Preflight { failure, .. } | Step::Request { failure, .. } => {
                Some(failure.clone())
            }
            _ => None,
        })
        .collect();
    let exchanges: Vec<Exchange> = sent
        .iter()
        .enumerate()
        .map(|(i, (s, r, v, ms))| Exchange {
            label: if s.is_preflight() {
                "preflight".into()
            } else {
                "request".into()
            },
            request: s.clone(),
            response: r.clone(),
            version: v.clone(),
            elapsed_ms: *ms,
            failure: if network_error.is_some() {
                None
            } else {
                failures.get(i).cloned().flatten()
            },
        })
        .collect();

    // The extra probes: the same request with a random origin and with `Origin: null`.
    let mut extra = Vec::new();
    if network_error.is_none() && !args.no_extra_probes && !sent.is_empty() {
        let safe = matches!(req.normalized_method().as_str(), "GET" | "HEAD");
        for (label, origin) in [
            (findings::RANDOM_ORIGIN_PROBE, random_origin()),
            (findings::NULL_ORIGIN_PROBE, "null".to_owned()),
        ] {
            if origin == req.serialized_origin() {
                continue;
            }
            let template = if safe && !plan.needed {
                sent.iter().find(|(s, ..)| !s.is_preflight())
            } else {
                None
            };
            let mut s = match template {
                Some((t, ..)) => t.clone(),
                None => preflight_to(&req.url, &plan, &origin),
            };
            for (n, v) in &mut s.headers {
                if n.eq_ignore_ascii_case("origin") {
                    v.clone_from(&origin);
                }
            }
            s.credentials = false;
            let (result, ms) = sender.send(&s, None);
            let (response, version) = match result {
                Ok((r, v)) => (Some(r), Some(v)),
                Err(_) => (None, None),
            };
            extra.push(Exchange {
                label: label.to_owned(),
                request: s,
                response,
                version,
                elapsed_ms: ms,
                failure: None,
            });
        }
    }

    if network_error.is_none() {
        extra.extend(error_probes(args, &req, &plan, &exchanges, &sender));
    }

    let origin = req.serialized_origin();
    let main: Vec<Seen<'_>> = exchanges
        .iter()
        .filter_map(|e| {
            e.response.as_ref().map(|r| Seen {
                label: e.label.clone(),
                preflight: e.request.is_preflight(),
                origin: &origin,
                response: r,
            })
        })
        .collect();
    let extra_seen: Vec<Seen<'_>> = extra
        .iter()
        .filter_map(|e| {
            let o = e.request.header("origin").unwrap_or("");
            e.response.as_ref().map(|r| Seen {
                label: e.label.clone(),
                preflight: e.request.is_preflight(),
                origin: o,
                response: r,
            })
        })
        .collect();
    let random = extra_seen
        .iter()
        .find(|s| s.label == findings::RANDOM_ORIGIN_PROBE);
    let null = extra_seen
        .iter()
        .find(|s| s.label == findings::NULL_ORIGIN_PROBE);
    let mut found = findings::analyze(&main, random, null);
    found.extend(findings::error_without_cors(&main, &extra_seen));
    found.sort_by_key(|f| std::cmp::Reverse(f.level));

    let (verdict_text, cors_error, console, error) = if let Some(e) = &network_error {
        ("error".to_owned(), None, None, Some(e.clone()))
    } else if skipped_actual {
        match &verdict.failure {
            Some(f) if f.preflight => (
                "blocked".to_owned(),
                Some(f.cors_error.as_str().to_owned()),
                Some(f.message()),
                None,
            ),
            _ => ("preflight-passed".to_owned(), None, None, None),
        }
    } else if verdict.allowed {
        ("allowed".to_owned(), None, None, None)
    } else {
        (
            "blocked".to_owned(),
            verdict.cors_error().map(|e| e.as_str().to_owned()),
            verdict.console_message(),
            verdict.error.as_ref().map(ToString::to_string),
        )
    };
    let mut exchanges = exchanges;
    if skipped_actual {
        exchanges.retain(|e| e.request.is_preflight());
    }
    Ok(Report {
        request: req.clone(),
        preflight_needed: plan.needed,
        preflight_reasons: plan.reasons.iter().map(ToString::to_string).collect(),
        exchanges,
        extra_probes: extra,
        verdict: verdict_text,
        cors_error,
        console_message: console,
        error,
        findings: found,
        exposed_headers: verdict.exposed_headers.clone(),
        notes: verdict.notes.iter().map(ToString::to_string).collect(),
        advice: None,
    })
}

/// Runs the command.
pub(crate) fn run(args: Args) -> ExitCode {
    let policy = match &args.config {
        Some(path) => match crate::explain::load_policy(path, false) {
            Some(p) => Some(p),
            None => return ExitCode::from(2),
        },
        None => None,
    };
    let mut report = match probe(&args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("corsguard probe: {e}");
            return ExitCode::from(2);
        }
    };
    if report.verdict == "blocked" {
        let failure = report
            .exchanges
            .iter()
            .rev()
            .find_map(|e| e.failure.as_ref());
        report.advice = match (&policy, failure) {
            (Some(p), _) => Some(advice::from_policy(p, &report.request)),
            (None, Some(f)) => Some(advice::for_server(&report.request, f)),
            (None, None) => None,
        };
    }
    match args.format {
        OutputFormat::Json => match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("corsguard probe: {e}");
                return ExitCode::from(2);
            }
        },
        OutputFormat::Human => print!("{}", render(&report, Style::detect_stdout())),
    }
    match report.verdict.as_str() {
        "allowed" | "preflight-passed" => ExitCode::SUCCESS,
        "blocked" => ExitCode::from(1),
        _ => ExitCode::from(2),
    }
}

fn target(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        },
        Err(_) => url.to_owned(),
    }
}

fn write_exchange(o: &mut String, e: &Exchange, style: Style) {
    use std::fmt::Write as _;
    let dim = anstyle::Style::new().dimmed();
    let _ = writeln!(o, "   > {} {}", e.request.method, target(&e.request.url));
    for (n, v) in &e.request.headers {
        let _ = writeln!(o, "   > {n}: {v}");
    }
    match &e.response {
        Some(r) => {
            let _ = writeln!(
                o,
                "   < {} {}",
                r.status,
                style.paint(
                    dim,
                    &format!(
                        "({} ms, {})",
                        e.elapsed_ms,
                        e.version.as_deref().unwrap_or("?")
                    )
                )
            );
            for (n, v) in &r.headers {
                let lower = n.to_ascii_lowercase();
                if lower.starts_with("access-control-")
                    || matches!(
                        lower.as_str(),
                        "vary" | "location" | "www-authenticate" | "cache-control"
                    )
                {
                    let _ = writeln!(o, "   < {lower}: {v}");
                }
            }
        }
        None => {
            let _ = writeln!(o, "   < (no response)");
        }
    }
}

fn render_advice(o: &mut String, a: &advice::Advice, style: Style) {
    use std::fmt::Write as _;
    let bold = anstyle::Style::new().bold();
    if a.policy_allows {
        let _ = writeln!(
            o,
            "{} under --config's policy the browser model allows this request: the server does not answer as the policy says (is it running this policy, or does a layer in front of it answer instead?)",
            style.paint(bold, "Note:")
        );
    } else if a.fix.is_some() || a.no_fix.is_some() {
        o.push_str(&crate::explain::render_fix(
            a.fix.as_ref(),
            a.no_fix.as_deref(),
            style,
        ));
        let _ = writeln!(
            o,
            "  (for --config's policy, checked with the browser model: the server itself was not re-run)"
        );
    }
    if !a.server_needs.is_empty() {
        let _ = writeln!(
            o,
            "{} for this request, the server's answers need:",
            style.paint(bold, "Advice:")
        );
        for n in &a.server_needs {
            let _ = writeln!(o, "  - {n}");
        }
    }
}

/// The human-readable report.
pub(crate) fn render(r: &Report, style: Style) -> String {
    use std::fmt::Write as _;
    let bold = anstyle::Style::new().bold();
    let green = anstyle::AnsiColor::Green.on_default().bold();
    let red = anstyle::AnsiColor::Red.on_default().bold();
    let yellow = anstyle::AnsiColor::Yellow.on_default().bold();
    let mut o = String::new();
    let req = &r.request;
    let _ = writeln!(
        o,
        "{} {} {}",
        style.paint(bold, "Probe:"),
        req.normalized_method(),
        req.url
    );
    let _ = writeln!(
        o,
        "  from {} (credentials: {})",
        req.serialized_origin(),
        req.credentials.as_str()
    );
    if r.preflight_needed {
        let _ = writeln!(o, "  preflight needed: {}", r.preflight_reasons.join("; "));
    }
    o.push('\n');
    for (i, e) in r.exchanges.iter().enumerate() {
        let _ = writeln!(
            o,
            "{}",
            style.paint(
                bold,
                &format!(
                    "{}. {}",
                    i + 1,
                    if e.request.is_preflight() {
                        "Preflight"
                    } else {
                        "Request"
                    }
                )
            )
        );
        write_exchange(&mut o, e, style);
        if e.response.is_some() {
            match &e.failure {
                Some(f) => {
                    let _ = writeln!(
                        o,
                        "   browser: {} {}: {}",
                        style.paint(red, "FAILED"),
                        f.cors_error.as_str(),
                        f.tail()
                    );
                }
                None => {
                    let _ = writeln!(o, "   browser: {}", style.paint(green, "passed"));
                }
            }
        }
    }
    for e in &r.extra_probes {
        let _ = writeln!(o, "{}", style.paint(bold, &format!("Extra: {}", e.label)));
        write_exchange(&mut o, e, style);
    }
    o.push('\n');
    match r.verdict.as_str() {
        "allowed" => {
            let _ = writeln!(
                o,
                "{} {}",
                style.paint(bold, "Verdict:"),
                style.paint(green, "allowed")
            );
            if !r.exposed_headers.is_empty() {
                let _ = writeln!(o, "  script can read: {}", r.exposed_headers.join(", "));
            }
        }
        "preflight-passed" => {
            let _ = writeln!(
                o,
                "{} {} (the actual request was not sent: --preflight-only)",
                style.paint(bold, "Verdict:"),
                style.paint(green, "preflight passed")
            );
        }
        "error" => {
            let _ = writeln!(
                o,
                "{} {} {}",
                style.paint(bold, "Verdict:"),
                style.paint(red, "ERROR"),
                r.error.as_deref().unwrap_or("")
            );
        }
        _ => {
            let _ = writeln!(
                o,
                "{} {} ({})",
                style.paint(bold, "Verdict:"),
                style.paint(red, "BLOCKED"),
                r.cors_error.as_deref().unwrap_or("TypeError")
            );
            if let Some(m) = &r.console_message {
                let _ = writeln!(o, "{} {m}", style.paint(bold, "Console:"));
            }
            if let Some(e) = &r.error {
                let _ = writeln!(
                    o,
                    "{} TypeError: Failed to fetch ({e})",
                    style.paint(bold, "Script:")
                );
            }
        }
    }
    if let Some(a) = &r.advice {
        render_advice(&mut o, a, style);
    }
    if !r.findings.is_empty() {
        let _ = writeln!(
            o,
            "\n{}",
            style.paint(bold, "Findings (what the browser does not tell you):")
        );
        for f in &r.findings {
            let color = match f.level {
                findings::Level::Error => red,
                findings::Level::Warning => yellow,
                findings::Level::Info => bold,
            };
            let _ = writeln!(
                o,
                "  {}[{}] ({}): {}",
                style.paint(color, f.level.as_str()),
                f.code,
                f.seen_in,
                f.message
            );
        }
    }
    for n in &r.notes {
        let _ = writeln!(o, "{} {n}", style.paint(yellow, "Spec vs Chromium:"));
    }
    o
}
