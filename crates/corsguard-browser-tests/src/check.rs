//! The three-way check: the table's expectation, Chromium's actual outcome, and
//! `corsguard_browser`'s prediction for the responses the SUT actually produced ("model").
//! Two more prediction legs apply where they can: "explain", the same model with the policy
//! engine (and the application, in process) as the responder, and "cli", the JSON report of
//! the `corsguard explain` binary itself. Any disagreement fails the case and is printed with
//! every leg's value.

use std::fmt::Write as _;

use corsguard_browser::{Deviation, Step as ModelStep, Verdict};
use serde::Serialize;

use crate::cases::{Case, Placeholders, Step};
use crate::runner::{Observation, ResolvedCase};

/// One leg's view of one fetch.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct StepView {
    /// `fetch()` resolved.
    pub ok: Option<bool>,
    /// Status read by the page.
    pub status: Option<u16>,
    /// CDP `corsError`.
    pub cors_error: Option<String>,
    /// CDP `failedParameter` (`""` = none).
    pub failed_parameter: Option<String>,
    /// Readable header names (sorted).
    pub readable: Option<Vec<String>>,
    /// The console message.
    pub console: Option<String>,
    /// A CORP/COEP block: the `errorText` (`net::ERR_BLOCKED_BY_RESPONSE.…`).
    pub blocked: Option<String>,
}

impl std::fmt::Display for StepView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.ok {
            Some(true) => f.write_str("allowed")?,
            Some(false) => f.write_str("blocked")?,
            None => f.write_str("?")?,
        }
        if let Some(s) = self.status {
            write!(f, " {s}")?;
        }
        if let Some(e) = &self.cors_error {
            write!(f, " {e}")?;
            if let Some(p) = self.failed_parameter.as_deref().filter(|p| !p.is_empty()) {
                write!(f, "({p})")?;
            }
        }
        if let Some(r) = &self.readable {
            write!(f, " readable=[{}]", r.join(","))?;
        }
        if let Some(b) = self.blocked.as_deref().filter(|b| !b.is_empty()) {
            write!(f, " {b}")?;
        }
        if let Some(c) = &self.console {
            write!(f, "\n              console: {c}")?;
        }
        Ok(())
    }
}

/// One leg's view of the whole case.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaseView {
    /// Per fetch.
    pub steps: Vec<StepView>,
    /// Preflights sent over the case.
    pub preflights: Option<usize>,
    /// ACRH of the first preflight (`""` = none).
    pub acrh: Option<String>,
    /// Deprecation issue types (`""` = none).
    pub deprecation: Option<String>,
}

/// The table's view.
pub fn table_view(case: &Case, steps: &[Step]) -> CaseView {
    CaseView {
        steps: steps
            .iter()
            .map(|s| StepView {
                ok: Some(s.expect.ok()),
                status: s.expect.status,
                cors_error: s.expect.cors_error.clone(),
                failed_parameter: s.expect.failed_parameter.clone(),
                readable: None,
                console: None,
                blocked: s.expect.blocked.clone(),
            })
            .collect(),
        preflights: case.preflights,
        acrh: case.preflight_acrh.clone(),
        deprecation: case.deprecation.clone(),
    }
}

/// Chromium's view.
pub fn chromium_view(obs: &Observation) -> CaseView {
    let mut failures = obs.cors_failures.iter();
    let mut console = obs.console.iter();
    // An element that failed to load (`error event`) was blocked by the response (CORP/COEP),
    // not by CORS: its `loadingFailed` has no `corsErrorStatus`.
    let mut blocks = obs
        .network_errors
        .iter()
        .filter(|(_, e)| e.starts_with("net::ERR_BLOCKED_BY_RESPONSE"));
    let steps = obs
        .results
        .iter()
        .map(|r| {
            if r.ok {
                StepView {
                    ok: Some(true),
                    status: r.status,
                    cors_error: None,
                    failed_parameter: None,
                    // An element exposes no headers to script: nothing to compare.
                    readable: (r.kind.as_deref() != Some("element"))
                        .then(|| r.headers.keys().cloned().collect()),
                    console: None,
                    blocked: None,
                }
            } else if r.error.as_deref() == Some("error event") {
                StepView {
                    ok: Some(false),
                    blocked: Some(blocks.next().map(|(_, e)| e.clone()).unwrap_or_default()),
                    ..StepView::default()
                }
            } else {
                let failure = failures.next();
                StepView {
                    ok: Some(false),
                    status: None,
                    cors_error: failure.map(|f| f.cors_error.clone()),
                    failed_parameter: failure
                        .map(|f| f.failed_parameter.clone().unwrap_or_default()),
                    readable: None,
                    console: failure.and_then(|_| console.next().cloned()),
                    blocked: Some(String::new()),
                }
            }
        })
        .collect();
    let mut deprecations = obs.deprecations.clone();
    deprecations.sort();
    deprecations.dedup();
    // A preflight Local Network Access stopped at the connection reached no server: CDP
    // still reports its `requestWillBeSent`, but it was not sent.
    let lna_blocked = |url: &str| {
        obs.cors_failures.iter().any(|f| {
            f.url == url
                && corsguard_browser::CorsError::from_cdp(&f.cors_error).is_some_and(|e| {
                    matches!(
                        e,
                        corsguard_browser::CorsError::LocalNetworkAccessPermissionDenied
                            | corsguard_browser::CorsError::InsecureLocalNetwork
                            | corsguard_browser::CorsError::InvalidLocalNetworkAccess
                    )
                })
        })
    };
    let sent: Vec<&crate::runner::PreflightSeen> = obs
        .preflights
        .iter()
        .filter(|p| !lna_blocked(&p.url))
        .collect();
    CaseView {
        steps,
        preflights: Some(sent.len()),
        acrh: Some(
            sent.first()
                .and_then(|p| p.acrh.clone())
                .unwrap_or_default(),
        ),
        deprecation: Some(deprecations.join(",")),
    }
}

/// The model's view.
pub fn model_view(verdicts: &[Verdict]) -> CaseView {
    let steps = verdicts
        .iter()
        .map(|v| {
            if v.allowed {
                StepView {
                    ok: Some(true),
                    status: v.response.as_ref().map(|r| r.script_status()),
                    cors_error: None,
                    failed_parameter: None,
                    readable: Some(v.exposed_headers.clone()),
                    console: None,
                    blocked: None,
                }
            } else {
                StepView {
                    blocked: Some(
                        v.blocked_by_response
                            .as_ref()
                            .map(corsguard_browser::ResponseBlock::net_error)
                            .unwrap_or_default(),
                    ),
                    ok: Some(false),
                    status: None,
                    cors_error: v.cors_error().map(|e| e.as_str().to_owned()),
                    failed_parameter: v
                        .failure
                        .as_ref()
                        .map(|f| f.failed_parameter.clone().unwrap_or_default()),
                    readable: None,
                    console: v.console_message(),
                }
            }
        })
        .collect();
    let acrh = verdicts
        .iter()
        .flat_map(|v| v.steps.iter())
        .find_map(|s| match s {
            ModelStep::Preflight { request, .. } => Some(
                request
                    .header("Access-Control-Request-Headers")
                    .unwrap_or("")
                    .to_owned(),
            ),
            _ => None,
        })
        .unwrap_or_default();
    let wildcard_auth = verdicts.iter().any(|v| {
        v.notes
            .iter()
            .any(|n| n.deviation == Deviation::AuthorizationCoveredByWildcard)
    });
    CaseView {
        steps,
        preflights: Some(verdicts.iter().map(Verdict::preflights_sent).sum()),
        acrh: Some(acrh),
        deprecation: Some(if wildcard_auth {
            "AuthorizationCoveredByWildcard".to_owned()
        } else {
            String::new()
        }),
    }
}

/// The view of `corsguard explain --format json` (one fetch). Readable headers are not
/// compared (a server adds its own); the deprecation issue comes from the preflight outcome's
/// `authorization_covered_by_wildcard`.
pub fn cli_view(report: &serde_json::Value) -> CaseView {
    use serde_json::Value;
    let exchanges = report
        .get("exchanges")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let is_options =
        |e: &Value| e.pointer("/request/method").and_then(Value::as_str) == Some("OPTIONS");
    let allowed = report.get("verdict").and_then(Value::as_str) == Some("allowed");
    let header = |e: &Value, name: &str| -> Option<String> {
        e.pointer("/request/headers")
            .and_then(Value::as_array)?
            .iter()
            .filter_map(Value::as_array)
            .find(|pair| {
                pair.first()
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .and_then(|pair| pair.get(1).and_then(Value::as_str).map(str::to_owned))
    };
    let step = if allowed {
        StepView {
            ok: Some(true),
            status: report
                .get("page_status")
                .and_then(Value::as_u64)
                .and_then(|s| u16::try_from(s).ok()),
            ..StepView::default()
        }
    } else {
        let failure = exchanges
            .iter()
            .rev()
            .find_map(|e| e.get("failure").filter(|f| !f.is_null()));
        StepView {
            ok: Some(false),
            status: None,
            cors_error: report
                .get("cors_error")
                .and_then(Value::as_str)
                .map(str::to_owned),
            failed_parameter: failure.map(|f| {
                f.get("failed_parameter")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            }),
            readable: None,
            console: report
                .get("console_message")
                .and_then(Value::as_str)
                .map(str::to_owned),
            blocked: Some(
                report
                    .pointer("/blocked_by_response/console_message")
                    .and_then(Value::as_str)
                    .map(|m| m.trim_start_matches("Failed to load resource: ").to_owned())
                    .unwrap_or_default(),
            ),
        }
    };
    CaseView {
        steps: vec![step],
        preflights: Some(exchanges.iter().filter(|e| is_options(e)).count()),
        acrh: Some(
            exchanges
                .iter()
                .find(|e| is_options(e))
                .and_then(|e| header(e, "access-control-request-headers"))
                .unwrap_or_default(),
        ),
        deprecation: Some(
            if exchanges.iter().any(|e| {
                e.pointer("/preflight_outcome/authorization_covered_by_wildcard")
                    .and_then(Value::as_bool)
                    == Some(true)
            }) {
                "AuthorizationCoveredByWildcard".to_owned()
            } else {
                String::new()
            },
        ),
    }
}

/// Records a disagreement when the legs that have a value for `field` do not all agree.
fn agree(field: &str, legs: &[(&str, Option<String>)], out: &mut Vec<String>) {
    let present: Vec<&String> = legs.iter().filter_map(|(_, v)| v.as_ref()).collect();
    if present.windows(2).any(|w| w.first() != w.get(1)) {
        let shown: Vec<String> = legs
            .iter()
            .map(|(name, v)| format!("{name}={}", v.as_deref().unwrap_or("-")))
            .collect();
        out.push(format!("{field}: {}", shown.join(" | ")));
    }
}

/// Compares the views (and the table's page/app expectations against what was observed);
/// returns the disagreements. `predictions` are the named prediction legs (`model`, and
/// where they apply `explain` and `cli`); each must agree with the table and with Chromium.
pub fn compare(
    case: &Case,
    steps: &[Step],
    obs: &Observation,
    table: &CaseView,
    chromium: &CaseView,
    predictions: &[(&str, &CaseView)],
    ph: &Placeholders,
) -> Vec<String> {
    let mut out = Vec::new();
    if chromium.steps.len() != steps.len() {
        out.push(format!(
            "the page reported {} results for {} fetches",
            chromium.steps.len(),
            steps.len()
        ));
    }
    for (i, step) in steps.iter().enumerate() {
        let n = i + 1;
        let t = table.steps.get(i).cloned().unwrap_or_default();
        let c = chromium.steps.get(i).cloned().unwrap_or_default();
        let predicted: Vec<(&str, StepView)> = predictions
            .iter()
            .map(|(name, v)| (*name, v.steps.get(i).cloned().unwrap_or_default()))
            .collect();
        let mut views: Vec<(&str, Option<&StepView>, bool)> =
            vec![("table", Some(&t), false), ("chromium", Some(&c), true)];
        views.extend(predicted.iter().map(|(name, v)| (*name, Some(v), true)));
        // `complete` legs always state the corsError/failedParameter of a failure.
        let field = |f: &dyn Fn(&StepView, bool) -> Option<String>| -> Vec<(&str, Option<String>)> {
            views
                .iter()
                .map(|(name, v, complete)| (*name, v.and_then(|v| f(v, *complete))))
                .collect()
        };
        let ok = field(&|v, _| v.ok.map(|x| x.to_string()));
        agree(&format!("fetch {n} ok"), &ok, &mut out);
        let status = field(&|v, _| v.status.map(|x| x.to_string()));
        agree(&format!("fetch {n} status"), &status, &mut out);
        let cors_error = field(&|v, complete| {
            if complete {
                v.ok.and_then(|ok| (!ok).then(|| v.cors_error.clone().unwrap_or_default()))
            } else {
                v.cors_error.clone()
            }
        });
        agree(&format!("fetch {n} corsError"), &cors_error, &mut out);
        let param = field(&|v, complete| {
            if complete {
                v.cors_error.as_ref().and(v.failed_parameter.clone())
            } else {
                v.failed_parameter.clone()
            }
        });
        agree(&format!("fetch {n} failedParameter"), &param, &mut out);
        let readable = field(&|v, _| v.readable.as_ref().map(|x| x.join(",")));
        agree(&format!("fetch {n} readable headers"), &readable, &mut out);
        let console = field(&|v, _| v.console.clone());
        agree(&format!("fetch {n} console"), &console, &mut out);
        let blocked = field(&|v, _| v.blocked.clone());
        agree(&format!("fetch {n} CORP/COEP block"), &blocked, &mut out);

        // Table-only details, judged against what the page saw.
        if let Some(res) = obs.results.get(i) {
            for (name, want) in &step.expect.headers {
                let got = res.headers.get(&name.to_ascii_lowercase());
                if got != Some(want) {
                    out.push(format!(
                        "fetch {n} header {name}: table={want} | page={}",
                        got.map_or("(not readable)", String::as_str)
                    ));
                }
            }
            for name in &step.expect.hidden {
                if let Some(v) = res.headers.get(&name.to_ascii_lowercase()) {
                    out.push(format!(
                        "fetch {n} header {name} must be hidden, page read {v:?}"
                    ));
                }
            }
            if let Some(sub) = &step.expect.body_contains
                && !res.body.contains(sub.as_str())
            {
                out.push(format!(
                    "fetch {n} body: table wants {sub:?} | page read {:?}",
                    res.body
                ));
            }
            if let Some(want) = step.expect.redirected
                && res.redirected != Some(want)
            {
                out.push(format!(
                    "fetch {n} redirected: table={want} | page={:?}",
                    res.redirected
                ));
            }
        }
    }
    let mut legs: Vec<(&str, Option<&CaseView>)> =
        vec![("table", Some(table)), ("chromium", Some(chromium))];
    legs.extend(predictions.iter().map(|(name, v)| (*name, Some(*v))));
    let case_field = |f: &dyn Fn(&CaseView) -> Option<String>| -> Vec<(&str, Option<String>)> {
        legs.iter()
            .map(|(name, v)| (*name, v.and_then(f)))
            .collect()
    };
    agree(
        "preflights",
        &case_field(&|v| v.preflights.map(|x| x.to_string())),
        &mut out,
    );
    agree("preflight ACRH", &case_field(&|v| v.acrh.clone()), &mut out);
    agree(
        "deprecation issue",
        &case_field(&|v| v.deprecation.clone()),
        &mut out,
    );
    if let Some(app) = &case.app {
        let log = &obs.app;
        if let Some(want) = app.calls
            && log.len() != want
        {
            out.push(format!("app calls: table={want} | app log={}", log.len()));
        }
        if let Some(want) = app.options {
            let got = log.iter().filter(|r| r.method == "OPTIONS").count();
            if got != want {
                out.push(format!("app OPTIONS: table={want} | app log={got}"));
            }
        }
        let last = log.last();
        if let Some(want) = app.cookie {
            let got = last.is_some_and(|r| r.cookie.is_some());
            if got != want {
                out.push(format!(
                    "app cookie on last request: table={want} | app log={got} ({:?})",
                    last.and_then(|r| r.cookie.clone())
                ));
            }
        }
        if let Some(want) = app.origin.as_deref().map(|o| ph.apply(o)) {
            let got = last
                .and_then(|r| r.origin.clone())
                .unwrap_or_else(|| "none".into());
            if got != want {
                out.push(format!(
                    "app Origin on last request: table={want} | app log={got}"
                ));
            }
        }
        if let Some(want) = &app.method {
            let got = last.map(|r| r.method.clone()).unwrap_or_default();
            if &got != want {
                out.push(format!(
                    "app method of last request: table={want} | app log={got}"
                ));
            }
        }
    }
    out
}

/// A readable account of a case run: the request, every leg's view, the app log and the
/// disagreements.
pub fn render(
    resolved: &ResolvedCase,
    obs: &Observation,
    table: &CaseView,
    chromium: &CaseView,
    predictions: &[(&str, &CaseView)],
    disagreements: &[String],
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "    page origin: {}", resolved.request_origin());
    for (i, f) in resolved.fetches.iter().enumerate() {
        let _ = writeln!(
            s,
            "    fetch {}: {} {} headers={:?} credentials={}",
            i + 1,
            f.method,
            f.url,
            f.headers,
            f.credentials
        );
        let show = |v: Option<&StepView>| v.map_or_else(|| "-".to_owned(), ToString::to_string);
        let _ = writeln!(s, "      table:    {}", show(table.steps.get(i)));
        let _ = writeln!(s, "      chromium: {}", show(chromium.steps.get(i)));
        for (name, v) in predictions {
            let _ = writeln!(
                s,
                "      {:<9} {}",
                format!("{name}:"),
                show(v.steps.get(i))
            );
        }
        if let Some(r) = obs.results.get(i)
            && let Some(e) = &r.error
        {
            let _ = writeln!(s, "      page error: {e}");
        }
    }
    let mut legs: Vec<(&str, &CaseView)> = vec![("table", table), ("chromium", chromium)];
    legs.extend(predictions.iter().copied());
    let fmt = |f: &dyn Fn(&CaseView) -> Option<String>| {
        legs.iter()
            .map(|(name, v)| format!("{name}={}", f(v).as_deref().unwrap_or("-")))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let _ = writeln!(
        s,
        "    preflights: {}\n    preflight ACRH: {}\n    deprecation: {}",
        fmt(&|v| v.preflights.map(|x| x.to_string())),
        fmt(&|v| v.acrh.clone()),
        fmt(&|v| v.deprecation.clone())
    );
    for (url, e) in &obs.network_errors {
        let _ = writeln!(s, "    network error: {url}: {e}");
    }
    for r in &obs.app {
        let _ = writeln!(
            s,
            "    app saw: {} {}?{} origin={:?} acrh={:?} cookie={:?}",
            r.method, r.path, r.query, r.origin, r.acrh, r.cookie
        );
    }
    for d in disagreements {
        let _ = writeln!(s, "    DISAGREEMENT {d}");
    }
    s
}
