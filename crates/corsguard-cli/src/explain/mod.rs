//! `corsguard explain`: offline, what a browser (Chromium) does with one `fetch()` under a
//! policy, step by step: is a preflight needed and why, the preflight it sends, what the
//! policy answers (with the engine's trace), the browser's check of that answer, the actual
//! request and response, the verdict, Chromium's console message, and the smallest
//! configuration change that would allow the request (with a warning when it is unsafe).
//!
//! The browser half is `corsguard_browser::simulate`; the server half is `Policy::explain`
//! in front of an application that answers `--app-status` with `--app-header`s.
//!
//! Exit status: 0 allowed, 1 blocked (by the browser, or refused by the server's CSRF check),
//! 2 usage error or invalid policy.

pub(crate) mod fix;
pub(crate) mod network;

use std::path::PathBuf;
use std::process::ExitCode;

use corsguard::{Policy, Trace};
use corsguard_browser::{
    ActualOutcome, BrowserRequest, CredentialsMode, DropReason, FetchErrorKind, PreflightOutcome,
    RequestMode, ResponseView, SimRequest, Step, Verdict, answer_with_policy, preflight_plan,
    simulate,
};
use serde::Serialize;

use crate::check;
use crate::check::render::{OutputFormat, Style};

/// Arguments of `corsguard explain`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  corsguard explain --config corsguard.yaml --origin https://app.example.com \\
      --url https://api.example.com/v1/items --method PUT --header 'X-Trace-Id: 1' --credentials include
  corsguard explain -c corsguard.yaml --origin null --url https://api.example.com/public/logo.png
  corsguard explain -c corsguard.yaml --origin https://app.example.com --url https://api.example.com/x \\
      --app-status 500 --format json

  corsguard explain -c corsguard.yaml --origin https://evil.example --url https://api.example.com/transfer \\
      --method POST --mode no-cors --credentials include      # a cross-site form POST: CSRF

Exit status: 0 the browser allows the request, 1 it blocks it (or the server's CSRF check refuses
it), 2 usage error or invalid policy.")]
pub(crate) struct Args {
    /// The corsguard policy (`.yaml`, `.yml` or `.toml`).
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,
    /// Apply environment overrides (`CORS_ALLOWED_ORIGINS`, `CORSGUARD_<OPTION>`) first.
    #[arg(long)]
    pub env: bool,
    /// The page's origin (`https://app.example.com`, or `null` for a sandboxed iframe or a
    /// `data:`/`file:` page).
    #[arg(long, value_name = "ORIGIN")]
    pub origin: String,
    /// The URL passed to `fetch()` (absolute).
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// The method, as the script writes it (`fetch(url, {method})`).
    #[arg(long, short = 'X', default_value = "GET")]
    pub method: String,
    /// A header the script sets, `Name: value` (repeatable).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// `fetch()`'s credentials mode.
    #[arg(long, value_enum, default_value_t = Credentials::SameOrigin)]
    pub credentials: Credentials,
    /// `fetch()`'s request mode; `no-cors` is also what a `<form method=post>` sends (no
    /// preflight, an opaque response).
    #[arg(long, value_enum, default_value_t = Mode::Cors)]
    pub mode: Mode,
    /// The status the application answers with when corsguard forwards a request.
    #[arg(long, default_value_t = 200, value_name = "STATUS")]
    pub app_status: u16,
    /// A header the application sets on its responses, `Name: value` (repeatable).
    #[arg(long = "app-header", value_name = "NAME: VALUE")]
    pub app_headers: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    /// Local Network Access and CORP/COEP inputs.
    #[command(flatten)]
    pub network: network::NetworkArgs,
}

/// `fetch()`'s request modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// `mode: 'cors'` (the default).
    Cors,
    /// `mode: 'no-cors'`: a simple request, no preflight, an opaque response (a form POST
    /// behaves the same).
    NoCors,
    /// `mode: 'same-origin'`: cross-origin requests fail.
    SameOrigin,
}

impl From<Mode> for RequestMode {
    fn from(m: Mode) -> RequestMode {
        match m {
            Mode::Cors => RequestMode::Cors,
            Mode::NoCors => RequestMode::NoCors,
            Mode::SameOrigin => RequestMode::SameOrigin,
        }
    }
}

/// `fetch()`'s credentials modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Credentials {
    /// Never send cookies.
    Omit,
    /// Send cookies to the page's own origin only (the default).
    SameOrigin,
    /// Always send cookies; the response must allow credentials.
    Include,
}

impl From<Credentials> for CredentialsMode {
    fn from(c: Credentials) -> CredentialsMode {
        match c {
            Credentials::Omit => CredentialsMode::Omit,
            Credentials::SameOrigin => CredentialsMode::SameOrigin,
            Credentials::Include => CredentialsMode::Include,
        }
    }
}

/// Parses `Name: value`.
pub(crate) fn parse_header(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((n, v)) if !n.trim().is_empty() => Ok((n.trim().to_owned(), v.trim().to_owned())),
        _ => Err(format!("`{s}` is not a header: write `Name: value`")),
    }
}

/// One request the browser sent, with the policy's answer.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Exchange {
    /// What the browser sent.
    pub request: SimRequest,
    /// How the policy decided it.
    pub policy: Trace,
    /// What came back (policy answer, or the application's response decorated by it).
    pub response: ResponseView,
    /// Whether the application was called.
    pub app_called: bool,
    /// The browser's check of the response: `None` when it passed.
    pub failure: Option<corsguard_browser::CorsFailure>,
    /// What a passed preflight established.
    pub preflight_outcome: Option<PreflightOutcome>,
    /// What a passed response check established.
    pub outcome: Option<ActualOutcome>,
}

/// The whole explanation (`--format json`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Report {
    /// The request as the script makes it.
    pub request: BrowserRequest,
    /// Whether the URL is cross-origin to the page.
    pub cross_origin: bool,
    /// Whether Chromium sends a preflight.
    pub preflight_needed: bool,
    /// Why the request is not simple.
    pub preflight_reasons: Vec<String>,
    /// Every request sent, with the policy's answer and the browser's check.
    pub exchanges: Vec<Exchange>,
    /// `allowed` or `blocked`.
    pub verdict: &'static str,
    /// The CDP `corsError`, when blocked by CORS.
    pub cors_error: Option<String>,
    /// Chromium's console message, when blocked by CORS.
    pub console_message: Option<String>,
    /// A `TypeError` `fetch()` throws before or outside the CORS checks.
    pub fetch_error: Option<String>,
    /// Every change that allows the request, checked by re-running the simulation with them.
    pub fix: Option<fix::CheckedFix>,
    /// Why no configuration change allows the request (when blocked and `fix` is `None`).
    pub no_fix: Option<String>,
    /// The policy allowed the request but the browser blocks it anyway.
    pub policy_allowed: bool,
    /// The status script reads on the final response (`0` when it is opaque: `no-cors`
    /// across origins); `None` when blocked.
    pub page_status: Option<u16>,
    /// Headers script can read on the final response.
    pub exposed_headers: Vec<String>,
    /// Script headers the browser does not send, with the reason.
    pub dropped_headers: Vec<String>,
    /// Where the spec and Chromium 156 differ for this request.
    pub notes: Vec<String>,
    /// The server's CSRF check refused the request (in `enforce` mode the application never
    /// ran, whatever the browser then does with the answer).
    pub csrf: Option<CsrfReport>,
    /// Local Network Access, when the target is not public (or the request is blocked by it).
    pub local_network: Option<network::LnaReport>,
    /// A block by CORP/COEP (not by CORS).
    pub blocked_by_response: Option<network::CorpReport>,
}

/// A CSRF refusal in an explanation.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CsrfReport {
    /// The refusal's code (`csrf-cross-site`, …).
    pub code: &'static str,
    /// Why.
    pub reason: String,
    /// What would let it through.
    pub fix: &'static str,
    /// `true`: answered 403 without calling the application; `false`: `report` mode.
    pub enforced: bool,
}

/// The CSRF refusal recorded in a trace (its failed `csrf` step), if any.
fn csrf_report(trace: &Trace) -> Option<CsrfReport> {
    let step = trace
        .steps
        .iter()
        .find(|s| s.check == "csrf" && s.passed == Some(false))?;
    let refusal = corsguard::CsrfRefusal::ALL
        .into_iter()
        .find(|r| step.detail.starts_with(r.code()))?;
    Some(CsrfReport {
        code: refusal.code(),
        reason: refusal.to_string(),
        fix: refusal.fix(),
        enforced: step.detail.contains("enforce:"),
    })
}

/// Builds the explanation (no output): the simulation, then the fix, checked by running the
/// same simulation against the policy with the fix applied.
pub(crate) fn explain(
    policy: &Policy,
    req: &BrowserRequest,
    app_status: u16,
    app_headers: &http::HeaderMap,
) -> Report {
    let run = |p: &Policy| simulate_report(p, req, app_status, app_headers);
    with_fix(policy, run(policy), run)
}

/// Adds the checked fix to a simulation's report (`rerun` runs the same simulation under
/// another policy).
pub(crate) fn with_fix(
    policy: &Policy,
    mut report: Report,
    rerun: impl Fn(&Policy) -> Report,
) -> Report {
    if report.verdict != "allowed" {
        match fix::checked(policy, &report, rerun) {
            Ok(f) => report.fix = Some(f),
            Err(why) => report.no_fix = Some(why),
        }
    }
    report
}

/// The simulation of `req` under `policy`, without a fix.
pub(crate) fn simulate_report(
    policy: &Policy,
    req: &BrowserRequest,
    app_status: u16,
    app_headers: &http::HeaderMap,
) -> Report {
    let plan = preflight_plan(req);
    let mut answered: Vec<(Trace, bool)> = Vec::new();
    let verdict: Verdict = simulate(req, |sent| {
        let status = http::StatusCode::from_u16(app_status).unwrap_or(http::StatusCode::OK);
        let a = answer_with_policy(policy, sent, status, app_headers);
        answered.push((a.trace, a.app_called));
        a.response
    });
    let mut answered = answered.into_iter();
    let mut exchanges = Vec::new();
    for step in &verdict.steps {
        let (request, response, failure, pre, out) = match step {
            Step::Preflight {
                request,
                response,
                outcome,
                failure,
            } => (request, response, failure, outcome.clone(), None),
            Step::Request {
                request,
                response,
                outcome,
                failure,
            } => (request, response, failure, None, outcome.clone()),
            // A cache hit sends nothing, and neither does any step a later model adds.
            _ => continue,
        };
        let Some((trace, app_called)) = answered.next() else {
            break;
        };
        exchanges.push(Exchange {
            request: request.clone(),
            policy: trace,
            response: response.clone(),
            app_called,
            failure: failure.clone(),
            preflight_outcome: pre,
            outcome: out,
        });
    }
    let policy_allowed = verdict.failure.is_some()
        && exchanges
            .iter()
            .rev()
            .find(|e| e.failure.is_some())
            .is_some_and(|e| e.policy.verdict == "allowed");
    let mut notes: Vec<String> = verdict.notes.iter().map(ToString::to_string).collect();
    for n in plan.notes.iter().map(ToString::to_string) {
        if !notes.contains(&n) {
            notes.push(n);
        }
    }
    let csrf = exchanges.iter().find_map(|e| csrf_report(&e.policy));
    // Would the same subresource pass in CORS mode (`crossorigin`)? For the CORP fix.
    let cors_allowed = verdict.blocked_by_response.as_ref().map(|_| {
        let cors = req.clone().mode(RequestMode::Cors);
        simulate(&cors, |sent| {
            let status = http::StatusCode::from_u16(app_status).unwrap_or(http::StatusCode::OK);
            answer_with_policy(policy, sent, status, app_headers).response
        })
        .allowed
    });
    Report {
        local_network: network::lna_report(req, verdict.local_network.as_ref()),
        blocked_by_response: network::corp_report(
            verdict.blocked_by_response.as_ref(),
            &req.serialized_origin(),
            cors_allowed,
        ),
        csrf,
        request: req.clone(),
        cross_origin: plan.cross_origin,
        preflight_needed: plan.needed,
        preflight_reasons: plan.reasons.iter().map(ToString::to_string).collect(),
        exchanges,
        verdict: if verdict.allowed {
            "allowed"
        } else {
            "blocked"
        },
        cors_error: verdict.cors_error().map(|e| e.as_str().to_owned()),
        console_message: verdict.console_message(),
        fetch_error: verdict.error.as_ref().map(ToString::to_string),
        fix: None,
        no_fix: None,
        policy_allowed,
        page_status: verdict
            .response
            .as_ref()
            .filter(|_| verdict.allowed)
            .map(|r| r.script_status()),
        exposed_headers: verdict.exposed_headers.clone(),
        dropped_headers: verdict
            .dropped_headers
            .iter()
            .map(|d| {
                let why = match d.reason {
                    DropReason::Forbidden => {
                        "a forbidden request header: fetch() silently drops it"
                    }
                    DropReason::NoCorsMode => "not allowed in no-cors mode",
                    _ => "not a valid header",
                };
                format!("{}: {why}", d.name)
            })
            .collect(),
        notes,
    }
}

/// Loads a policy for a command that runs requests against it; on failure prints its
/// diagnostics (as `corsguard check` does) on stderr and returns `None` (exit 2).
pub(crate) fn load_policy(path: &std::path::Path, env: bool) -> Option<Policy> {
    let checked = check::load(path, env);
    match &checked.result {
        Ok(p) => Some(p.clone()),
        Err(_) => {
            let style = Style::detect_stderr();
            eprint!("{}", check::render_checked(&checked, style, false));
            eprint!("{}", check::summary(&checked, style));
            None
        }
    }
}

/// Runs the command.
pub(crate) fn run(args: Args) -> ExitCode {
    let Some(policy) = load_policy(&args.config, args.env) else {
        return ExitCode::from(2);
    };
    let mut req = BrowserRequest::new(args.origin.clone(), args.url.clone())
        .method(args.method.clone())
        .credentials(args.credentials.into())
        .mode(args.mode.into());
    for h in &args.headers {
        match parse_header(h) {
            Ok((n, v)) => req = req.header(n, v),
            Err(e) => {
                eprintln!("corsguard explain: --header {e}");
                return ExitCode::from(2);
            }
        }
    }
    let mut app_headers = http::HeaderMap::new();
    for h in &args.app_headers {
        let parsed = parse_header(h).and_then(|(n, v)| {
            let name =
                http::HeaderName::from_bytes(n.as_bytes()).map_err(|e| format!("{n}: {e}"))?;
            let value = http::HeaderValue::from_str(&v).map_err(|e| format!("{v}: {e}"))?;
            Ok((name, value))
        });
        match parsed {
            Ok((n, v)) => {
                app_headers.append(n, v);
            }
            Err(e) => {
                eprintln!("corsguard explain: --app-header {e}");
                return ExitCode::from(2);
            }
        }
    }
    let req = match network::apply(&args.network, req) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("corsguard explain: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = req.validate()
        && matches!(
            e.kind,
            FetchErrorKind::InvalidPageOrigin | FetchErrorKind::InvalidUrl
        )
    {
        eprintln!("corsguard explain: {e}");
        return ExitCode::from(2);
    }
    let report = explain(&policy, &req, args.app_status, &app_headers);
    match args.format {
        OutputFormat::Json => match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("corsguard explain: {e}");
                return ExitCode::from(2);
            }
        },
        OutputFormat::Human => print!("{}", render(&report, Style::detect_stdout())),
    }
    let refused_by_csrf = report.csrf.as_ref().is_some_and(|c| c.enforced);
    if report.verdict == "allowed" && !refused_by_csrf {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn path_and_query(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        },
        Err(_) => url.to_owned(),
    }
}

/// The `Fix:` lines: the checked fix with its warnings, or why there is none.
pub(crate) fn render_fix(
    fix: Option<&fix::CheckedFix>,
    no_fix: Option<&str>,
    style: Style,
) -> String {
    use std::fmt::Write as _;
    let bold = anstyle::Style::new().bold();
    let yellow = anstyle::AnsiColor::Yellow.on_default().bold();
    let mut o = String::new();
    match fix {
        Some(fix) => {
            let _ = writeln!(o, "{} {}", style.paint(bold, "Fix:"), fix.change);
            for w in fix.changes.iter().filter_map(|c| c.warning.as_deref()) {
                let _ = writeln!(o, "  {} {w}", style.paint(yellow, "warning:"));
            }
            let what = if fix.changes.len() > 1 {
                "with these changes"
            } else {
                "with this change"
            };
            let _ = writeln!(
                o,
                "  checked: {what} the browser allows the request (simulation re-run)"
            );
        }
        None => {
            let _ = writeln!(
                o,
                "{} no policy change allows this request",
                style.paint(bold, "Fix:")
            );
            if let Some(why) = no_fix {
                let _ = writeln!(o, "  why: {why}");
            }
        }
    }
    o
}

/// The human-readable explanation.
pub(crate) fn render(r: &Report, style: Style) -> String {
    use std::fmt::Write as _;
    let bold = anstyle::Style::new().bold();
    let green = anstyle::AnsiColor::Green.on_default().bold();
    let red = anstyle::AnsiColor::Red.on_default().bold();
    let yellow = anstyle::AnsiColor::Yellow.on_default().bold();
    let dim = anstyle::Style::new().dimmed();
    let mut o = String::new();
    let req = &r.request;
    let _ = writeln!(
        o,
        "{} {} {}",
        style.paint(bold, "Request:"),
        req.normalized_method(),
        req.url
    );
    let _ = writeln!(
        o,
        "  from {} (credentials: {})",
        req.serialized_origin(),
        req.credentials.as_str()
    );
    o.push_str(&network::request_lines(req));
    for (n, v) in &req.headers {
        let _ = writeln!(o, "  script header  {n}: {v}");
    }
    for d in &r.dropped_headers {
        let _ = writeln!(o, "  {} {d}", style.paint(yellow, "not sent:"));
    }
    o.push('\n');
    let mut n = 0;
    let mut step = |o: &mut String, title: String| {
        n += 1;
        let _ = writeln!(o, "{}", style.paint(bold, &format!("{n}. {title}")));
    };
    if let Some(l) = &r.local_network {
        let (title, lines) = network::lna_step(l, req, style);
        step(&mut o, title);
        for line in lines {
            let _ = writeln!(o, "   {line}");
        }
    }
    if let Some(e) = &r.fetch_error
        && r.exchanges.is_empty()
    {
        step(&mut o, "fetch() throws before sending anything".into());
        let _ = writeln!(o, "   TypeError: {e}");
    } else if !r.cross_origin {
        step(
            &mut o,
            "Same-origin request: CORS does not apply, no preflight".into(),
        );
    } else if r.preflight_needed {
        step(&mut o, "Preflight needed:".into());
        for reason in &r.preflight_reasons {
            let _ = writeln!(o, "   - {reason}");
        }
    } else {
        step(
            &mut o,
            "No preflight: a simple request (CORS-safelisted method and headers)".into(),
        );
    }
    for e in &r.exchanges {
        let what = if e.request.is_preflight() {
            "preflight"
        } else {
            "request"
        };
        step(&mut o, format!("The browser sends the {what}:"));
        let cookies = if e.request.is_preflight() {
            " (never with cookies)"
        } else if e.request.credentials {
            " (with cookies)"
        } else {
            " (without cookies)"
        };
        let _ = writeln!(
            o,
            "     {} {}{}",
            e.request.method,
            path_and_query(&e.request.url),
            style.paint(dim, cookies)
        );
        for (hn, hv) in &e.request.headers {
            let _ = writeln!(o, "     {hn}: {hv}");
        }
        step(
            &mut o,
            format!(
                "corsguard answers it (rule {}: {}):",
                e.policy.rule, e.policy.rule_matcher
            ),
        );
        for s in &e.policy.steps {
            let _ = writeln!(o, "     {s}");
        }
        let _ = writeln!(o, "     verdict: {}: {}", e.policy.verdict, e.policy.reason);
        let source = if e.app_called {
            format!("the application's {} response", e.response.status)
        } else {
            format!("{} from corsguard", e.response.status)
        };
        let _ = writeln!(o, "     {} {source}:", style.paint(dim, "→"));
        let mut shown = 0;
        for (hn, hv) in &e.response.headers {
            let lower = hn.to_ascii_lowercase();
            if lower.starts_with("access-control-")
                || lower == "cross-origin-resource-policy"
                || lower == "vary"
                || lower == "location"
                || lower == "x-corsguard-csrf"
            {
                let _ = writeln!(o, "       {lower}: {hv}");
                shown += 1;
            }
        }
        if shown == 0 {
            let _ = writeln!(o, "       (no CORS headers)");
        }
        match &e.failure {
            Some(f) => {
                step(
                    &mut o,
                    format!(
                        "The browser checks the {what}: {}",
                        style.paint(red, "FAILED")
                    ),
                );
                let _ = writeln!(o, "   {}: {}", f.cors_error.as_str(), f.tail());
            }
            None => {
                step(
                    &mut o,
                    format!(
                        "The browser checks the {what}: {}",
                        style.paint(green, "passed")
                    ),
                );
                if let Some(p) = &e.preflight_outcome {
                    if !p.methods.is_empty() {
                        let _ = writeln!(o, "   allowed methods: {}", p.methods.join(", "));
                    }
                    if !p.header_names.is_empty() {
                        let _ = writeln!(o, "   allowed headers: {}", p.header_names.join(", "));
                    }
                    let _ = writeln!(
                        o,
                        "   Chromium caches this preflight for {} s{}",
                        p.max_age.chromium,
                        match &p.max_age.header {
                            Some(h)
                                if h.trim()
                                    .parse::<u64>()
                                    .is_ok_and(|v| v > p.max_age.chromium) =>
                                format!(
                                    " (Access-Control-Max-Age {h} is capped at 7200; Safari caps at 600)"
                                ),
                            None => " (no Access-Control-Max-Age: the default)".to_owned(),
                            _ => String::new(),
                        }
                    );
                }
                if let Some(a) = &e.outcome
                    && a.redirect_location.is_none()
                {
                    let readable = if a.exposed_headers.is_empty() {
                        "(no header of this response)".to_owned()
                    } else {
                        a.exposed_headers.join(", ")
                    };
                    let _ = writeln!(o, "   script can read: {readable}");
                }
            }
        }
    }
    o.push('\n');
    if let Some(c) = &r.csrf {
        let what = if c.enforced {
            "refused with 403: the application never ran"
        } else {
            "would be refused (report mode: logged, the application ran)"
        };
        let _ = writeln!(
            o,
            "{} {what} ({}: {})",
            style.paint(red, "CSRF:"),
            c.code,
            c.reason
        );
        let _ = writeln!(o, "  fix: {}", c.fix);
        let _ = writeln!(
            o,
            "  (browsers set Sec-Fetch-Site and Origin themselves: no page script can change them)"
        );
    }
    if r.verdict == "allowed" && r.csrf.as_ref().is_some_and(|c| c.enforced) {
        let _ = writeln!(
            o,
            "{} {} by the server (CSRF): the browser raises no error (the 403 is {}), but nothing happened",
            style.paint(bold, "Verdict:"),
            style.paint(red, "REFUSED"),
            if r.request.mode == RequestMode::NoCors {
                "opaque to the page"
            } else {
                "readable by the page"
            }
        );
    } else if let Some(block) = network::verdict_block(
        r.local_network.as_ref(),
        r.blocked_by_response.as_ref(),
        r.console_message.as_deref(),
        style,
    ) {
        o.push_str(&block);
    } else if r.verdict == "allowed" {
        let _ = writeln!(
            o,
            "{} {}",
            style.paint(bold, "Verdict:"),
            style.paint(green, "allowed")
        );
    } else {
        let why = r
            .cors_error
            .clone()
            .or_else(|| r.fetch_error.as_ref().map(|_| "TypeError".to_owned()))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "{} {} ({why})",
            style.paint(bold, "Verdict:"),
            style.paint(red, "BLOCKED")
        );
        if let Some(m) = &r.console_message {
            let _ = writeln!(o, "{} {m}", style.paint(bold, "Console:"));
        }
        if let Some(e) = &r.fetch_error {
            let _ = writeln!(
                o,
                "{} TypeError: Failed to fetch ({e})",
                style.paint(bold, "Script:")
            );
        }
        if r.policy_allowed {
            let _ = writeln!(
                o,
                "{} the policy allowed this request; the browser blocks it anyway",
                style.paint(yellow, "Note:")
            );
        }
        o.push_str(&render_fix(r.fix.as_ref(), r.no_fix.as_deref(), style));
    }
    for note in &r.notes {
        let _ = writeln!(o, "{} {note}", style.paint(yellow, "Spec vs Chromium:"));
    }
    o
}
