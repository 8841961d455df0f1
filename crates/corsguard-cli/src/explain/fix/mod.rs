//! Fixes that fix: every configuration change a blocked request needs, each re-checked by
//! running the simulation again against the policy with the changes applied.
//!
//! [`checked`] takes the failing step of a simulation, derives one [`change::Change`] from
//! it, applies every change so far to the policy ([`rebuild`], through the engine's public
//! builder), re-runs the same simulation, and repeats until the browser allows the request.
//! A fix is returned only then; otherwise the reason configuration cannot help.

pub(crate) mod change;
pub(crate) mod rebuild;

use corsguard::{Fix, Policy};
use serde::Serialize;

use super::Report;
use change::Change;
use rebuild::RebuildError;

/// How many changes a fix may combine before corsguard gives up (a request needs at most an
/// origin, credentials, a method, its headers and a rule-level switch).
const MAX_CHANGES: usize = 8;

/// A fix that was checked: with all its changes applied, the simulation allows the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct CheckedFix {
    /// Every change, joined with `; ` (one line).
    pub change: String,
    /// The warnings of the changes that weaken security, joined with `; `.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// The changes one by one, in the order a fix lists them (origin, credentials, method,
    /// headers, the rest).
    pub changes: Vec<Fix>,
}

impl CheckedFix {
    fn of(mut changes: Vec<Change>) -> CheckedFix {
        changes.sort_by_key(Change::rank);
        let fixes: Vec<Fix> = changes.into_iter().map(|c| c.fix).collect();
        let warnings: Vec<&str> = fixes.iter().filter_map(|f| f.warning.as_deref()).collect();
        CheckedFix {
            change: fixes
                .iter()
                .map(|f| f.change.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            warning: (!warnings.is_empty()).then(|| warnings.join("; ")),
            changes: fixes,
        }
    }
}

/// Why the browser blocks a request, in one line: its CORS failure, else the `TypeError`
/// `fetch()` throws.
pub(crate) fn blocked_line(
    failure: Option<&corsguard_browser::CorsFailure>,
    error: Option<&dyn std::fmt::Display>,
) -> String {
    match (failure, error) {
        (Some(f), _) => f.to_string(),
        (None, Some(e)) => format!("fetch() throws a TypeError: {e}"),
        (None, None) => "the browser blocks it".to_owned(),
    }
}

/// Why the browser blocks the request in `report`, in one line.
pub(crate) fn why_blocked(report: &Report) -> String {
    let failure = report
        .exchanges
        .iter()
        .rev()
        .find_map(|e| e.failure.as_ref());
    let error = report
        .fetch_error
        .as_ref()
        .map(|e| e as &dyn std::fmt::Display);
    blocked_line(failure, error)
}

/// The fix for the blocked request of `first` (the simulation under `policy`), checked by
/// `rerun`, which runs the same simulation under another policy. `Err` says why no
/// configuration change allows the request.
pub(crate) fn checked(
    policy: &Policy,
    first: &Report,
    rerun: impl Fn(&Policy) -> Report,
) -> Result<CheckedFix, String> {
    if first.exchanges.is_empty()
        && let Some(e) = &first.fetch_error
    {
        return Err(format!(
            "fetch() throws before sending anything ({e}): the page's fetch() call must change"
        ));
    }
    let mut changes: Vec<Change> = Vec::new();
    let mut current = policy.clone();
    let mut report = first.clone();
    while changes.len() < MAX_CHANGES {
        let Some(next) = change::next(&current, &report).filter(|c| !changes.contains(c)) else {
            break;
        };
        if changes.is_empty() {
            rebuild::faithful(policy)
                .map_err(|why| format!("corsguard cannot re-check a fix for this policy: {why}"))?;
        }
        changes.push(next);
        let edits: Vec<_> = changes
            .iter()
            .flat_map(|c| c.edits.iter().map(|e| (c.rule.clone(), e.clone())))
            .collect();
        current = match rebuild::rebuild(policy, &edits) {
            Ok(p) => p,
            Err(RebuildError::Invalid(e)) => {
                let first = e
                    .diagnostics()
                    .iter()
                    .find(|d| d.severity == corsguard::Severity::Error)
                    .map_or_else(String::new, |d| match &d.hint {
                        Some(h) => format!(": {} ({h})", d.message),
                        None => format!(": {}", d.message),
                    });
                return Err(format!(
                    "{} would make the policy invalid{first}",
                    joined(&changes)
                ));
            }
            Err(RebuildError::NotFaithful(why)) => return Err(why),
        };
        report = rerun(&current);
        if report.verdict == "allowed" {
            return Ok(CheckedFix::of(changes));
        }
    }
    Err(if changes.is_empty() {
        why_blocked(&report)
    } else {
        format!(
            "even with {}, the browser still blocks it ({})",
            joined(&changes),
            why_blocked(&report)
        )
    })
}

fn joined(changes: &[Change]) -> String {
    changes
        .iter()
        .map(|c| format!("`{}`", c.fix.change))
        .collect::<Vec<_>>()
        .join(" and ")
}
