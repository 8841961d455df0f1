//! One configuration change, derived from the failing step of a simulation: what to write in
//! the policy (the text a user reads, with a warning when the change weakens security) and
//! the same change as [`Edit`]s that [`super::rebuild`] applies to re-check it.
//!
//! When the policy refused the request, the change follows the engine's refusal (and its own
//! [`Fix`] text). When the policy allowed it but the browser still blocks (credentials mode
//! `include` without `allow_credentials`, `*` with credentials, `cors: false`, shadow mode, a
//! forced origin, a passed-through preflight answered with an error …), the change is derived
//! from the browser's verdict and the rule's options.

use corsguard::{Fix, Policy, Refusal, RuleSummary, Trace};
use corsguard_browser::{CorsError, CorsFailure};

use crate::explain::{Exchange, Report};

/// One edit of a rule's effective options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Edit {
    /// Remove `cors: false`.
    EnableCors,
    /// `mode: enforce`.
    Enforce,
    /// Remove `forced_allow_origin`.
    RemoveForcedOrigin,
    /// Remove `*` from `allow_origins` and list this origin.
    ReplaceAnyOrigin(String),
    /// List this origin in `allow_origins`.
    AddOrigin(String),
    /// `allow_null_origin: true`.
    AllowNullOrigin,
    /// `allow_credentials: true`.
    AllowCredentials,
    /// List this method in `allow_methods`.
    AddMethod(String),
    /// List these header names in `allow_headers`.
    AddHeaders(Vec<String>),
    /// Remove `preflight.passthrough`.
    RemovePreflightPassthrough,
    /// `allow_private_network: true`.
    AllowPrivateNetwork,
}

impl Edit {
    /// The order in which a fix lists its changes: who may call, with what credentials,
    /// which method, which headers, then the rest.
    fn rank(&self) -> u8 {
        match self {
            Edit::EnableCors | Edit::Enforce => 0,
            Edit::RemoveForcedOrigin
            | Edit::ReplaceAnyOrigin(_)
            | Edit::AddOrigin(_)
            | Edit::AllowNullOrigin => 1,
            Edit::AllowCredentials => 2,
            Edit::AddMethod(_) => 3,
            Edit::AddHeaders(_) => 4,
            Edit::RemovePreflightPassthrough | Edit::AllowPrivateNetwork => 5,
        }
    }
}

/// A change to one rule: its text and its edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    /// The rule it changes (`defaults`, `paths[N]`).
    pub rule: String,
    /// The edits, applied together.
    pub edits: Vec<Edit>,
    /// What the user reads.
    pub fix: Fix,
}

impl Change {
    fn new(rule: &str, edits: Vec<Edit>, change: String, warning: Option<String>) -> Change {
        Change {
            rule: rule.to_owned(),
            edits,
            fix: Fix::new(change, warning),
        }
    }

    /// Where this change sorts in a fix (see [`Edit`]'s order).
    pub(crate) fn rank(&self) -> u8 {
        self.edits.iter().map(Edit::rank).min().unwrap_or(u8::MAX)
    }
}

/// The next change the request needs under `policy`, from the last failing exchange of
/// `report` (`None`: the failure is not one configuration can change).
pub(crate) fn next(policy: &Policy, report: &Report) -> Option<Change> {
    let failing = report
        .exchanges
        .iter()
        .rev()
        .find(|e| e.failure.is_some())?;
    let failure = failing.failure.as_ref()?;
    let trace = &failing.policy;
    let summary = policy
        .summaries()
        .into_iter()
        .find(|s| s.name == trace.rule)?;
    let origin = report.request.serialized_origin();
    if trace.verdict == "refused"
        && let Some(c) = refused(&summary, trace, failing, &origin)
    {
        return Some(c);
    }
    browser_side(&summary, trace, failure, failing.response.status, &origin)
}

/// The change a refusal of the policy asks for.
fn refused(s: &RuleSummary, trace: &Trace, e: &Exchange, origin: &str) -> Option<Change> {
    let rule = s.name.as_str();
    let engine = trace.fix.clone();
    let from_engine = |edit: Edit| {
        engine
            .clone()
            .map(|f| Change::new(rule, vec![edit], f.change, f.warning))
    };
    match trace.refusal? {
        Refusal::OriginNotAllowed => from_engine(Edit::AddOrigin(origin.to_owned())),
        Refusal::NullOrigin => from_engine(Edit::AllowNullOrigin),
        Refusal::PrivateNetworkNotAllowed => from_engine(Edit::AllowPrivateNetwork),
        Refusal::MethodNotAllowed => {
            // Not the engine's text: a trace refused for its method keeps the fix of the
            // last failed check, which may be a header's.
            let m = e.request.header("access-control-request-method")?;
            Some(add_method(s, m))
        }
        Refusal::HeaderNotAllowed => {
            let requested = e.request.header("access-control-request-headers")?;
            add_headers(s, &missing_headers(s, requested))
        }
        _ => None,
    }
}

/// Lists `m` in the rule's methods; warns when only its case differs from a listed one.
fn add_method(s: &RuleSummary, m: &str) -> Change {
    let upper = m.to_ascii_uppercase();
    let warning = (upper != m && s.allow_methods.contains(&upper)).then(|| {
        format!("`{upper}` is allowed, but the page sent `{m}`: methods are case-sensitive; fixing the page's fetch() call is better")
    });
    Change::new(
        &s.name,
        vec![Edit::AddMethod(m.to_owned())],
        format!("add `{m}` to {}.allow_methods", s.name),
        warning,
    )
}

/// The names of a serialized `Access-Control-Request-Headers` the rule does not list (`*`
/// covers every name but `authorization`).
fn missing_headers(s: &RuleSummary, requested: &str) -> Vec<String> {
    let any = s.allow_headers.iter().any(|h| h == "*");
    requested
        .split(',')
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .filter(|h| {
            let covered = s.allow_headers.contains(h) || (any && h != "authorization");
            !covered
        })
        .collect()
}

fn add_headers(s: &RuleSummary, names: &[String]) -> Option<Change> {
    if names.is_empty() {
        return None;
    }
    let listed: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    Some(Change::new(
        &s.name,
        vec![Edit::AddHeaders(names.to_vec())],
        format!("add {} to {}.allow_headers", listed.join(", "), s.name),
        None,
    ))
}

/// Credentials for `origin` on a rule that answers `*`: list the origin instead.
fn credentials_for(s: &RuleSummary, origin: &str, warning: &str) -> Change {
    let rule = s.name.as_str();
    if s.allow_origins.iter().any(|o| o == "*") {
        return Change::new(
            rule,
            vec![
                Edit::ReplaceAnyOrigin(origin.to_owned()),
                Edit::AllowCredentials,
            ],
            format!(
                "replace `*` in {rule}.allow_origins with `{origin}` and set {rule}.allow_credentials: true"
            ),
            Some(warning.to_owned()),
        );
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
    Change::new(
        rule,
        vec![Edit::AllowCredentials],
        format!(
            "set {rule}.allow_credentials: true (or, if this request needs no cookies, use credentials: 'same-origin' in the fetch() call)"
        ),
        (!warnings.is_empty()).then(|| warnings.join("; ")),
    )
}

const REFLECT_WARNING: &str = "do not make corsguard reflect every origin with credentials instead: any website could then read your users' data; list only the origins you trust";

/// The change for a request the policy let through (or left alone) but the browser blocks.
fn browser_side(
    s: &RuleSummary,
    trace: &Trace,
    f: &CorsFailure,
    status: u16,
    origin: &str,
) -> Option<Change> {
    let rule = s.name.as_str();
    let param = f.failed_parameter.clone().unwrap_or_default();
    if trace.verdict == "passthrough" && !trace.shadow {
        return Some(Change::new(
            rule,
            vec![Edit::EnableCors],
            format!(
                "remove `cors: false` from {rule} ({}), so that corsguard answers CORS there (or make the application send the CORS headers itself)",
                s.matcher
            ),
            None,
        ));
    }
    if trace.shadow {
        return Some(Change::new(
            rule,
            vec![Edit::Enforce],
            format!(
                "set {rule}.mode: enforce (in shadow mode corsguard only records what it would do)"
            ),
            None,
        ));
    }
    match f.cors_error {
        CorsError::WildcardOriginNotAllowed | CorsError::PreflightWildcardOriginNotAllowed => {
            if let Some(forced) = &s.forced_allow_origin {
                return Some(Change::new(
                    rule,
                    vec![
                        Edit::RemoveForcedOrigin,
                        Edit::AddOrigin(origin.to_owned()),
                        Edit::AllowCredentials,
                    ],
                    format!(
                        "remove {rule}.forced_allow_origin (`{forced}`), list `{origin}` in {rule}.allow_origins and set {rule}.allow_credentials: true"
                    ),
                    None,
                ));
            }
            let mut c = credentials_for(s, origin, REFLECT_WARNING);
            if !c
                .edits
                .iter()
                .any(|e| matches!(e, Edit::ReplaceAnyOrigin(_)))
            {
                c.fix.change = format!("set {rule}.allow_credentials: true");
                c.fix.warning = Some(REFLECT_WARNING.to_owned());
            }
            Some(c)
        }
        CorsError::InvalidAllowCredentials | CorsError::PreflightInvalidAllowCredentials => {
            Some(credentials_for(
                s,
                origin,
                "reflecting any origin with credentials would let every website read your users' data: list only the origins you trust",
            ))
        }
        CorsError::AllowOriginMismatch | CorsError::PreflightAllowOriginMismatch
            if s.forced_allow_origin.is_some() =>
        {
            Some(Change::new(
                rule,
                vec![Edit::RemoveForcedOrigin, Edit::AddOrigin(origin.to_owned())],
                format!(
                    "{rule}.forced_allow_origin answers `{param}` to every origin: remove it and add `{origin}` to {rule}.allow_origins"
                ),
                None,
            ))
        }
        CorsError::PreflightInvalidStatus if s.preflight_passthrough => Some(Change::new(
            rule,
            vec![Edit::RemovePreflightPassthrough],
            format!(
                "{rule} forwards preflights to the application (preflight.passthrough), which answered {status}: remove preflight.passthrough so that corsguard answers, or make the application answer OPTIONS with a 2xx status"
            ),
            None,
        )),
        CorsError::MethodDisallowedByPreflightResponse => Some(add_method(s, &param)),
        CorsError::HeaderDisallowedByPreflightResponse => add_headers(s, &[param]),
        CorsError::MissingAllowOriginHeader | CorsError::PreflightMissingAllowOriginHeader => {
            Some(Change::new(
                rule,
                vec![Edit::AddOrigin(origin.to_owned())],
                format!("add `{origin}` to {rule}.allow_origins"),
                None,
            ))
        }
        _ => None,
    }
}
