//! The explain endpoint: describe a browser request in the query string, get the engine's
//! traces (preflight, if the browser would send one, and the actual request) and the outcome
//! the browser would see (judged by `corsguard_browser`, the model the Chromium suite
//! checks), as JSON.
//!
//! `GET /__corsguard/explain?origin=…&method=PUT&headers=content-type,x-token&credentials=include&path=/api/x`
//!
//! * `origin` (required), `method` (default `GET`), `path` (default `/`), `host` (default the
//!   request's own host);
//! * `headers`: the names of the headers the script sets (comma-separated); `accept`,
//!   `accept-language` and `content-language` are safelisted, everything else — including
//!   `content-type` unless `content_type` is one of the three form/text types — makes the
//!   browser send a preflight;
//! * `credentials`: `omit`, `same-origin` (default, as `fetch`) or `include`.

use corsguard::{Policy, Trace};
use corsguard_browser::{BrowserRequest, CredentialsMode, SimRequestKind};
use http::Method;
use serde::Serialize;

/// Path of the explain endpoint on the gateway listener (when enabled with
/// [`crate::GatewayConfig::explain_endpoint`]); the admin listener serves it at `/explain`.
pub const EXPLAIN_PATH: &str = "/__corsguard/explain";

/// A request described by the query string.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Described {
    origin: String,
    method: String,
    path: String,
    host: Option<String>,
    headers: Vec<String>,
    credentials: String,
}

/// The endpoint's answer.
#[derive(Debug, Serialize)]
pub(crate) struct Explanation {
    request: Described,
    /// `true` if the browser sends a preflight first.
    preflight_needed: bool,
    /// The preflight's trace, when one is needed.
    preflight: Option<Trace>,
    /// The actual request's trace (absent when the preflight already blocks).
    actual: Option<Trace>,
    /// `allowed` or `blocked` (what the page's `fetch` will see).
    outcome: &'static str,
    /// `preflight` or `actual` when blocked.
    blocked_at: Option<&'static str>,
    /// One line: why.
    reason: String,
    /// For blocked requests: the configuration change that would allow it.
    fix: Option<String>,
    /// The policy version that answered.
    policy_version: u64,
}

/// Parses the query string.
pub(crate) fn parse(query: Option<&str>, default_host: Option<&str>) -> Result<Described, String> {
    let mut d = Described {
        origin: String::new(),
        method: "GET".into(),
        path: "/".into(),
        host: default_host.map(str::to_owned),
        headers: Vec::new(),
        credentials: "same-origin".into(),
    };
    let mut content_type: Option<String> = None;
    for (k, v) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match &*k {
            "origin" => d.origin = v.into_owned(),
            "method" => d.method = v.into_owned(),
            "path" => d.path = v.into_owned(),
            "host" => d.host = Some(v.into_owned()),
            "headers" => {
                d.headers = v
                    .split(',')
                    .map(|h| h.trim().to_ascii_lowercase())
                    .filter(|h| !h.is_empty())
                    .collect()
            }
            "credentials" => d.credentials = v.into_owned(),
            "content_type" => content_type = Some(v.to_ascii_lowercase()),
            _ => {}
        }
    }
    if d.origin.is_empty() {
        return Err("missing `origin` parameter".into());
    }
    if Method::from_bytes(d.method.as_bytes()).is_err() {
        return Err(format!("`{}` is not an HTTP method", d.method));
    }
    if !d.path.starts_with('/') {
        return Err("`path` must start with /".into());
    }
    if !matches!(d.credentials.as_str(), "omit" | "same-origin" | "include") {
        return Err("`credentials` must be omit, same-origin or include".into());
    }
    let simple_ct = content_type.as_deref().is_some_and(|ct| {
        let essence = ct.split(';').next().unwrap_or_default().trim();
        matches!(
            essence,
            "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
        )
    });
    // Keep only the headers that are not CORS-safelisted (#cors-safelisted-request-header).
    d.headers.retain(|h| {
        !(matches!(
            h.as_str(),
            "accept" | "accept-language" | "content-language"
        ) || (h == "content-type" && simple_ct))
    });
    d.headers.sort();
    d.headers.dedup();
    Ok(d)
}

/// The request as the browser model sees it: the page origin, the URL on this gateway, the
/// method, the non-safelisted header names (values do not matter past the safelist, which
/// `parse` already applied) and the credentials mode.
fn browser_request(d: &Described) -> BrowserRequest {
    let url = format!(
        "http://{}{}",
        d.host.as_deref().unwrap_or("gateway.invalid"),
        d.path
    );
    let credentials = match d.credentials.as_str() {
        "include" => CredentialsMode::Include,
        "omit" => CredentialsMode::Omit,
        _ => CredentialsMode::SameOrigin,
    };
    let mut r = BrowserRequest::new(d.origin.clone(), url)
        .method(d.method.clone())
        .credentials(credentials)
        // The endpoint explains the policy's CORS answer; the page's network is unknown.
        .network(corsguard_browser::NetworkContext::without_checks());
    for h in &d.headers {
        r = r.header(h.clone(), "x");
    }
    r
}

/// Runs the described request through the policy, as the browser would send it. A request
/// the browser would not send at all (an invalid origin or URL) is an error, never
/// "allowed".
pub(crate) fn explain(policy: &Policy, version: u64, d: Described) -> Result<Explanation, String> {
    let breq = browser_request(&d);
    let needs_preflight = corsguard_browser::preflight_plan(&breq).needed;
    // The engine answers every request the browser model sends (the app behind it: 200).
    let mut traces: Vec<(bool, Trace)> = Vec::new();
    let verdict = corsguard_browser::simulate(&breq, |sent| {
        let a = corsguard_browser::answer_with_policy(
            policy,
            sent,
            http::StatusCode::OK,
            &http::HeaderMap::new(),
        );
        traces.push((sent.kind == SimRequestKind::Preflight, a.trace));
        a.response
    });
    if let Some(e) = &verdict.error {
        return Err(format!("the browser would not send this request: {e}"));
    }
    let preflight = traces.iter().find(|(p, _)| *p).map(|(_, t)| t.clone());
    let actual = traces
        .iter()
        .rev()
        .find(|(p, _)| !*p)
        .map(|(_, t)| t.clone());
    let blocked = verdict.failure.as_ref().map(|failure| {
        let at = if failure.preflight {
            "preflight"
        } else {
            "actual"
        };
        let trace = if failure.preflight {
            preflight.as_ref()
        } else {
            actual.as_ref()
        };
        let reason = match trace {
            Some(t) if t.refusal.is_some() => t.reason.clone(),
            _ => failure.message(),
        };
        let fix = trace
            .and_then(|t| t.fix.as_ref().map(|f| f.to_string()))
            .or_else(|| {
                (d.credentials == "include" && !failure.preflight).then(|| {
                    format!(
                        "set `allow_credentials: true` on {}",
                        trace.map_or("defaults", |t| t.rule.as_str())
                    )
                })
            });
        (at, reason, fix)
    });
    let (outcome, blocked_at, reason, fix) = match blocked {
        Some((at, reason, fix)) => ("blocked", Some(at), reason, fix),
        None => (
            "allowed",
            None,
            actual
                .as_ref()
                .map(|t| t.reason.clone())
                .unwrap_or_default(),
            None,
        ),
    };
    Ok(Explanation {
        request: d,
        preflight_needed: needs_preflight,
        preflight,
        actual,
        outcome,
        blocked_at,
        reason,
        fix,
        policy_version: version,
    })
}

/// Serialises the answer (or a `{"error": …}` object) as JSON bytes with the status.
pub(crate) fn respond(
    policy: &Policy,
    version: u64,
    query: Option<&str>,
    default_host: Option<&str>,
) -> (http::StatusCode, Vec<u8>) {
    match parse(query, default_host).and_then(|d| explain(policy, version, d)) {
        Ok(e) => match serde_json::to_vec_pretty(&e) {
            Ok(b) => (http::StatusCode::OK, b),
            Err(e) => (
                http::StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({ "error": e.to_string() })
                    .to_string()
                    .into_bytes(),
            ),
        },
        Err(msg) => (
            http::StatusCode::BAD_REQUEST,
            serde_json::json!({ "error": msg }).to_string().into_bytes(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::from_yaml_str(
            "defaults: {allow_origins: ['https://app.example'], allow_methods: [PUT], allow_headers: [x-token], allow_credentials: true}",
        )
        .unwrap()
    }

    fn run(q: &str) -> serde_json::Value {
        let (s, b) = respond(&policy(), 1, Some(q), None);
        assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
        serde_json::from_slice(&b).unwrap()
    }

    #[test]
    fn allowed_credentialed_put() {
        let v = run("origin=https://app.example&method=PUT&headers=x-token&credentials=include");
        assert_eq!(v["outcome"], "allowed");
        assert_eq!(v["preflight_needed"], true);
    }

    #[test]
    fn refused_header_blocks_at_preflight_with_a_fix() {
        let v = run("origin=https://app.example&method=PUT&headers=x-evil");
        assert_eq!(v["outcome"], "blocked");
        assert_eq!(v["blocked_at"], "preflight");
        assert!(v["fix"].as_str().unwrap().contains("x-evil"), "{v}");
    }

    #[test]
    fn refused_origin_blocks_the_actual_request() {
        let v = run("origin=https://evil.example");
        assert_eq!(v["outcome"], "blocked");
        assert_eq!(v["blocked_at"], "actual");
        assert!(v["reason"].as_str().unwrap().contains("evil.example"));
    }

    #[test]
    fn safelisted_content_type_needs_no_preflight() {
        let v = run(
            "origin=https://app.example&method=POST&headers=content-type&content_type=text/plain",
        );
        assert_eq!(v["preflight_needed"], false);
        let (s, _) = respond(&policy(), 1, Some("method=GET"), None);
        assert_eq!(s, 400);
    }

    #[test]
    fn malformed_requests_are_errors_not_allowed() {
        for q in ["origin=evil", "origin=https://evil.com&host=%5B"] {
            let (s, b) = respond(&policy(), 1, Some(q), None);
            let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
            assert_eq!(s, 400, "{q}: {v}");
            assert!(
                v["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{q}: {v}"
            );
            assert!(v.get("outcome").is_none(), "{q}: {v}");
        }
    }
}
