//! Running one case: offline, the browser model against the policy (what `corsguard explain`
//! does); live (`--url-base`), the same request sent to a server the way `corsguard probe`
//! sends it, judged by the same browser model, with the offline model's prediction and fix
//! beside it.

use corsguard::Policy;
use serde::Serialize;

use super::file::{Case, Expect};
use crate::explain::{self, Report, fix::CheckedFix};
use crate::probe::{self, findings::Finding};

/// What happened to one case.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Outcome {
    /// The case's name.
    pub name: String,
    /// What the file expects.
    pub expect: Expect,
    /// What the browser does (`None`: the live server could not be reached).
    pub got: Option<Expect>,
    /// `got == expect`, and the console message contains `console` when it is given.
    pub passed: bool,
    /// The URL fetched (with `--url-base`, on the live server).
    pub url: String,
    /// The CDP `corsError`, when the browser blocks it.
    pub cors_error: Option<String>,
    /// Chromium's console message, when the browser blocks it.
    pub console_message: Option<String>,
    /// The substring the console message must contain (from the file).
    pub console: Option<String>,
    /// Why the browser does what it does, in one line.
    pub reason: String,
    /// For a request expected allowed but blocked: the checked fix.
    pub fix: Option<CheckedFix>,
    /// For a request expected allowed but blocked: why no configuration change helps.
    pub no_fix: Option<String>,
    /// With `--url-base`: what the offline model predicts under the policy.
    pub model: Option<Expect>,
    /// With `--url-base`: what `corsguard probe` finds in the server's answers.
    pub findings: Vec<Finding>,
}

fn expect_of(allowed: bool) -> Expect {
    if allowed {
        Expect::Allowed
    } else {
        Expect::Blocked
    }
}

/// Whether the request of an explanation gets through: the browser allows it and no
/// enforced CSRF check refused it.
fn allowed(r: &Report) -> bool {
    r.verdict == "allowed" && !r.csrf.as_ref().is_some_and(|c| c.enforced)
}

/// Why the browser (or the server) does what it does, in one line.
fn reason(r: &Report) -> String {
    if let Some(c) = r.csrf.as_ref().filter(|c| c.enforced) {
        return format!(
            "refused by the server's CSRF check with 403 ({}: {}); fix: {}",
            c.code, c.reason, c.fix
        );
    }
    if r.verdict != "allowed" {
        return explain::fix::why_blocked(r);
    }
    if !r.cross_origin {
        return "a same-origin request: CORS does not apply".to_owned();
    }
    let admitted = r.exchanges.last().and_then(|e| {
        e.policy
            .steps
            .iter()
            .find(|s| s.check == "origin" && s.passed == Some(true))
            .map(|s| format!("rule {}: {}", e.policy.rule, s.detail))
    });
    admitted.unwrap_or_else(|| "every check passed".to_owned())
}

fn console_ok(case: &Case, console: Option<&str>) -> bool {
    case.console
        .as_deref()
        .is_none_or(|want| console.is_some_and(|c| c.contains(want)))
}

/// Runs `case` offline against `policy`.
pub(crate) fn offline(policy: &Policy, case: &Case) -> Outcome {
    let r = explain::explain(
        policy,
        &case.request(&case.url),
        200,
        &http::HeaderMap::new(),
    );
    let got = expect_of(allowed(&r));
    let console = r
        .console_message
        .clone()
        .or_else(|| r.fetch_error.as_ref().map(|e| format!("TypeError: {e}")));
    let wants_fix = case.expect == Expect::Allowed && got == Expect::Blocked;
    Outcome {
        name: case.name.clone(),
        expect: case.expect,
        got: Some(got),
        passed: got == case.expect && console_ok(case, console.as_deref()),
        url: case.url.clone(),
        cors_error: r.cors_error.clone(),
        console_message: console,
        console: case.console.clone(),
        reason: reason(&r),
        fix: r.fix.clone().filter(|_| wants_fix),
        no_fix: r.no_fix.clone().filter(|_| wants_fix),
        model: None,
        findings: Vec::new(),
    }
}

/// `base` followed by the path and query of `url`.
pub(crate) fn live_url(base: &str, url: &str) -> String {
    let tail = match url::Url::parse(url) {
        Ok(u) => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        },
        Err(_) => String::new(),
    };
    format!("{}{tail}", base.trim_end_matches('/'))
}

/// Runs `case` against the live server at `base`, with the model's prediction under
/// `policy` beside it (and its checked fix when the model blocks it too).
pub(crate) fn live(policy: &Policy, case: &Case, base: &str, timeout: f64) -> Outcome {
    let model = offline(policy, case);
    let url = live_url(base, &case.url);
    let mut args = probe::Args::new(url.clone(), case.origin.clone());
    args.method.clone_from(&case.method);
    args.headers = case
        .headers
        .iter()
        .map(|(n, v)| format!("{n}: {v}"))
        .collect();
    args.credentials = case.credentials;
    args.timeout = timeout;
    args.no_extra_probes = true;
    let report = match probe::probe(&args) {
        Ok(r) => r,
        Err(e) => return unreachable(case, url, model.got, e),
    };
    let got = match report.verdict.as_str() {
        "allowed" => Expect::Allowed,
        "blocked" => Expect::Blocked,
        _ => {
            let e = report
                .error
                .clone()
                .unwrap_or_else(|| report.verdict.clone());
            return unreachable(case, url, model.got, e);
        }
    };
    let console = report
        .console_message
        .clone()
        .or_else(|| report.error.as_ref().map(|e| format!("TypeError: {e}")));
    let reason = match (got, model.got) {
        (Expect::Blocked, Some(Expect::Allowed)) => format!(
            "{}; the policy allows it (offline model): the server does not answer as the policy says",
            live_failure(&report)
        ),
        (Expect::Blocked, _) => live_failure(&report),
        (Expect::Allowed, _) => "the server's answers pass the browser's checks".to_owned(),
    };
    let wants_fix = case.expect == Expect::Allowed && got == Expect::Blocked;
    Outcome {
        name: case.name.clone(),
        expect: case.expect,
        got: Some(got),
        passed: got == case.expect && console_ok(case, console.as_deref()),
        url,
        cors_error: report.cors_error.clone(),
        console_message: console,
        console: case.console.clone(),
        reason,
        fix: model.fix.filter(|_| wants_fix),
        no_fix: model.no_fix.filter(|_| wants_fix),
        model: model.got,
        findings: report.findings,
    }
}

/// The browser's failure on a live answer, in one line.
fn live_failure(r: &probe::Report) -> String {
    let failure = r.exchanges.iter().rev().find_map(|e| e.failure.as_ref());
    match (failure, &r.error) {
        (Some(f), _) => f.to_string(),
        (None, Some(e)) => format!("fetch() throws a TypeError: {e}"),
        (None, None) => "blocked".to_owned(),
    }
}

fn unreachable(case: &Case, url: String, model: Option<Expect>, error: String) -> Outcome {
    Outcome {
        name: case.name.clone(),
        expect: case.expect,
        got: None,
        passed: false,
        url,
        cors_error: None,
        console_message: None,
        console: case.console.clone(),
        reason: error,
        fix: None,
        no_fix: None,
        model,
        findings: Vec::new(),
    }
}
