//! The smallest configuration change that lets a blocked request through, with a warning when
//! that change is unsafe.
//!
//! When the policy refused the request, the engine's own [`Fix`] (from its [`Trace`]) is the
//! answer. When the policy allowed it but the browser still blocks (credentials mode
//! `include` without `allow_credentials`, `*` with credentials, `cors: false`, shadow mode, a
//! forced origin, a passed-through preflight answered with an error …), the change is derived
//! here from the browser's verdict and the rule's options.

use corsguard::{Fix, Policy, RuleSummary, Trace};
use corsguard_browser::{CorsError, CorsFailure};

/// What the browser and the policy said at the failing step.
pub struct Failed<'a> {
    /// The browser's failure.
    pub failure: &'a CorsFailure,
    /// The policy's trace for the request the browser rejected, if the policy answered it.
    pub trace: Option<&'a Trace>,
    /// The status of the rejected response.
    pub status: u16,
    /// The page's origin as sent.
    pub origin: &'a str,
}

/// The fix, and whether the policy had allowed what the browser blocked.
pub fn fix(policy: &Policy, f: &Failed<'_>) -> (Option<Fix>, bool) {
    let Some(trace) = f.trace else {
        return (None, false);
    };
    if trace.verdict == "refused"
        && let Some(fix) = &trace.fix
    {
        return (Some(fix.clone()), false);
    }
    let rule = trace.rule.as_str();
    let summary = policy.summaries().into_iter().find(|s| s.name == rule);
    let fix = summary.and_then(|s| derive(&s, trace, f));
    (fix, trace.verdict == "allowed")
}

fn derive(s: &RuleSummary, trace: &Trace, f: &Failed<'_>) -> Option<Fix> {
    let rule = s.name.as_str();
    let param = f.failure.failed_parameter.clone().unwrap_or_default();
    if trace.verdict == "passthrough" && !trace.shadow {
        return Some(Fix {
            change: format!(
                "remove `cors: false` from {rule} ({}), so that corsguard answers CORS there (or make the application send the CORS headers itself)",
                s.matcher
            ),
            warning: None,
        });
    }
    if trace.shadow {
        return Some(Fix {
            change: format!(
                "set {rule}.mode: enforce (in shadow mode corsguard only records what it would do)"
            ),
            warning: None,
        });
    }
    let any = s.allow_origins.iter().any(|o| o == "*");
    match f.failure.cors_error {
        CorsError::WildcardOriginNotAllowed | CorsError::PreflightWildcardOriginNotAllowed => {
            if let Some(forced) = &s.forced_allow_origin {
                return Some(Fix {
                    change: format!(
                        "remove {rule}.forced_allow_origin (`{forced}`), list `{}` in {rule}.allow_origins and set {rule}.allow_credentials: true",
                        f.origin
                    ),
                    warning: None,
                });
            }
            Some(Fix {
                change: if any {
                    format!(
                        "replace `*` in {rule}.allow_origins with `{}` and set {rule}.allow_credentials: true",
                        f.origin
                    )
                } else {
                    format!("set {rule}.allow_credentials: true")
                },
                warning: Some(
                    "do not make corsguard reflect every origin with credentials instead: any website could then read your users' data; list only the origins you trust"
                        .into(),
                ),
            })
        }
        CorsError::InvalidAllowCredentials | CorsError::PreflightInvalidAllowCredentials => {
            if any {
                return Some(Fix {
                    change: format!(
                        "replace `*` in {rule}.allow_origins with `{}` and set {rule}.allow_credentials: true",
                        f.origin
                    ),
                    warning: Some(
                        "reflecting any origin with credentials would let every website read your users' data: list only the origins you trust".into(),
                    ),
                });
            }
            let wide: Vec<String> = s
                .allow_origins
                .iter()
                .filter(|o| o.contains('*') || o.starts_with("regex "))
                .map(|o| format!("`{o}`"))
                .collect();
            let mut warnings = Vec::new();
            if !wide.is_empty() {
                warnings.push(format!(
                    "{rule}.allow_origins also admits {}: every origin they match could then make credentialed requests",
                    wide.join(", ")
                ));
            }
            if s.allow_null_origin {
                warnings.push(format!(
                    "{rule} allows `null`: any sandboxed iframe or data: URL could then make credentialed requests"
                ));
            }
            if s.allow_origins.iter().any(|o| o.starts_with("http://")) {
                warnings.push(format!(
                    "{rule}.allow_origins has plain-http origins, which corsguard refuses with credentials unless allow_insecure_origins_with_credentials: true"
                ));
            }
            Some(Fix {
                change: format!(
                    "set {rule}.allow_credentials: true (or, if this request needs no cookies, use credentials: 'same-origin' in the fetch() call)"
                ),
                warning: (!warnings.is_empty()).then(|| warnings.join("; ")),
            })
        }
        CorsError::AllowOriginMismatch | CorsError::PreflightAllowOriginMismatch
            if s.forced_allow_origin.is_some() =>
        {
            Some(Fix {
                change: format!(
                    "{rule}.forced_allow_origin answers `{param}` to every origin: remove it and add `{}` to {rule}.allow_origins",
                    f.origin
                ),
                warning: None,
            })
        }
        CorsError::PreflightInvalidStatus if s.preflight_passthrough => Some(Fix {
            change: format!(
                "{rule} forwards preflights to the application (preflight.passthrough), which answered {}: remove preflight.passthrough so that corsguard answers, or make the application answer OPTIONS with a 2xx status",
                f.status
            ),
            warning: None,
        }),
        CorsError::MethodDisallowedByPreflightResponse => Some(Fix {
            change: format!("add `{param}` to {rule}.allow_methods"),
            warning: None,
        }),
        CorsError::HeaderDisallowedByPreflightResponse => Some(Fix {
            change: format!("add `{param}` to {rule}.allow_headers"),
            warning: None,
        }),
        CorsError::MissingAllowOriginHeader | CorsError::PreflightMissingAllowOriginHeader => {
            Some(Fix {
                change: format!("add `{}` to {rule}.allow_origins", f.origin),
                warning: None,
            })
        }
        _ => None,
    }
}
