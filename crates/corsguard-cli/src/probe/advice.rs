//! What to change when a probed request is blocked. With `--config POLICY` (the policy the
//! server is meant to run), the fix is computed and checked like `corsguard explain`'s: the
//! browser model re-run against the policy with the fix applied (the server itself cannot be
//! re-run). Without a policy, it is advice: every header the server's answers need for this
//! request, in server terms.

use corsguard::Policy;
use corsguard_browser::{BrowserRequest, CorsError, CorsFailure, preflight_plan};
use serde::Serialize;

use crate::explain::{self, fix::CheckedFix};

/// The fix or advice of a blocked probe.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Advice {
    /// With `--config`: the policy's checked fix, as `corsguard explain` gives it.
    pub fix: Option<CheckedFix>,
    /// With `--config`: why no policy change allows the request.
    pub no_fix: Option<String>,
    /// With `--config`: the browser model allows the request under the policy, so the server
    /// does not answer as the policy says.
    pub policy_allows: bool,
    /// Without `--config`: what the server's answers need, one item per header or status.
    pub server_needs: Vec<String>,
}

/// The checked fix under `policy` for `req` (as probed).
pub(crate) fn from_policy(policy: &Policy, req: &BrowserRequest) -> Advice {
    let r = explain::explain(policy, req, 200, &http::HeaderMap::new());
    Advice {
        policy_allows: r.verdict == "allowed",
        fix: r.fix,
        no_fix: r.no_fix,
        server_needs: Vec::new(),
    }
}

/// What the server's answers need for `req`, after the browser's `failure`.
pub(crate) fn for_server(req: &BrowserRequest, failure: &CorsFailure) -> Advice {
    let plan = preflight_plan(req);
    let origin = req.serialized_origin();
    let creds = req.credentials_included();
    let mut needs = Vec::new();
    match failure.cors_error {
        CorsError::PreflightInvalidStatus => {
            needs.push("the preflight (OPTIONS) answer: a 2xx status, before any authentication or routing that rejects it".to_owned());
        }
        CorsError::PreflightDisallowedRedirect => {
            needs.push("the preflight (OPTIONS) answer: at this URL, never a redirect".to_owned());
        }
        _ => {}
    }
    if !matches!(
        failure.cors_error,
        CorsError::CorsDisabledScheme | CorsError::DisallowedByMode
    ) {
        let answers: &[&str] = if plan.needed {
            &["the preflight (OPTIONS) answer", "the response"]
        } else {
            &["the response"]
        };
        for a in answers {
            needs.push(format!(
                "{a}: `Access-Control-Allow-Origin: {origin}` (exactly one, this origin{})",
                if creds { ", never `*`" } else { " or `*`" }
            ));
            if creds {
                needs.push(format!("{a}: `Access-Control-Allow-Credentials: true`"));
            }
        }
        if plan.needed {
            needs.push(format!(
                "the preflight (OPTIONS) answer: `Access-Control-Allow-Methods` listing `{}`",
                plan.access_control_request_method
            ));
            if let Some(h) = &plan.access_control_request_headers {
                needs.push(format!(
                    "the preflight (OPTIONS) answer: `Access-Control-Allow-Headers` listing `{h}`"
                ));
            }
        }
    }
    Advice {
        fix: None,
        no_fix: None,
        policy_allows: false,
        server_needs: needs,
    }
}
