//! The suite driver: every case × every SUT, one browser process, one browser context per
//! case, a summary at the end.
//!
//! Environment:
//! - `CORSGUARD_SKIP_BROWSER=1`: skip (the only way to skip; a missing or broken Chromium
//!   fails the suite);
//! - `CORSGUARD_BROWSER_SUTS=engine-hyper,gateway`: run only these SUTs;
//! - `CORSGUARD_BROWSER_FILTER=text` (or a free argument): run only cases whose
//!   `group/case` name contains the text;
//! - `CORSGUARD_BROWSER_VERBOSE=1`: print every leg of passing cases too;
//! - `CORSGUARD_BROWSER_DUMP=1`: print every CDP event of each case (debugging);
//! - `CORSGUARD_CHROMIUM=/path`: another Chromium binary; `CORSGUARD_BIN=/path`: the
//!   `corsguard` binary for the nginx and Envoy SUTs (default: built with cargo, see
//!   [`crate::sut::corsguard_binary`]).

use std::time::{Duration, Instant};

use crate::cases::{self, Group, Placeholders};
use crate::cdp::Browser;
use crate::check::{chromium_view, compare, model_view, render, table_view};
use crate::fixture::{App, spawn_app_server};
use crate::runner::{
    WaitHints, chromium_flags, observe, predict, predict_cli, predict_engine, resolve,
};
use crate::sut::{SutContext, SystemUnderTest};

/// Result counts.
#[derive(Debug, Default, Clone)]
pub struct Summary {
    /// Cases that agreed three ways.
    pub passed: usize,
    /// Cases with a disagreement or an error.
    pub failed: Vec<String>,
    /// (SUT, group/case, reason) declared unsupported.
    pub unsupported: Vec<(String, String, String)>,
    /// Distinct cases that ran at least once.
    pub distinct_cases: usize,
    /// SUTs that ran.
    pub suts: Vec<String>,
}

/// Options of a run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Substring filter on `group/case`.
    pub filter: Option<String>,
    /// SUT names to run (empty = all).
    pub suts: Vec<String>,
    /// Print passing cases in full.
    pub verbose: bool,
}

impl Options {
    /// From the environment and the test binary's arguments (flags starting with `-` are
    /// ignored, so `cargo test -- --nocapture` works).
    pub fn from_env_and_args() -> Options {
        let mut filter = std::env::var("CORSGUARD_BROWSER_FILTER")
            .ok()
            .filter(|s| !s.is_empty());
        for a in std::env::args().skip(1) {
            if !a.starts_with('-') {
                filter = Some(a);
            }
        }
        let suts = std::env::var("CORSGUARD_BROWSER_SUTS")
            .map(|s| {
                s.split(',')
                    .map(|x| x.trim().to_owned())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        Options {
            filter,
            suts,
            verbose: std::env::var("CORSGUARD_BROWSER_VERBOSE").is_ok_and(|v| v == "1"),
        }
    }
}

/// Whether the suite is explicitly skipped.
pub fn skipped() -> bool {
    std::env::var("CORSGUARD_SKIP_BROWSER").is_ok_and(|v| v == "1")
}

/// Runs the suite; `Err` for setup failures (Chromium cannot start, a table is malformed).
pub async fn run(
    groups: &[Group],
    suts: &[Box<dyn SystemUnderTest>],
    opts: &Options,
) -> Result<Summary, String> {
    let started = Instant::now();
    let app = App::new();
    let io = |e: std::io::Error| format!("fixture server: {e}");
    let page = spawn_app_server(app.clone()).await.map_err(io)?;
    let page2 = spawn_app_server(app.clone()).await.map_err(io)?;
    let upstream = spawn_app_server(app.clone()).await.map_err(io)?;
    // The page server Chromium counts as public (Local Network Access cases).
    let public = spawn_app_server(app.clone()).await.map_err(io)?;
    let browser = Browser::launch_with(&chromium_flags(public.port()))
        .await
        .map_err(|e| e.to_string())?;
    let version = browser
        .version()
        .await
        .map_err(|e| format!("Browser.getVersion: {e}"))?;
    println!(
        "browser: {} (protocol {})",
        version
            .get("product")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("?"),
        version
            .get("protocolVersion")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("?")
    );
    let mut summary = Summary::default();
    let mut distinct = std::collections::BTreeSet::new();

    for sut in suts {
        if !opts.suts.is_empty() && !opts.suts.iter().any(|s| s == sut.name()) {
            continue;
        }
        summary.suts.push(sut.name().to_owned());
        let sut_started = Instant::now();
        let mut ran = 0usize;
        for (gi, group) in groups.iter().enumerate() {
            let mut selected = Vec::new();
            for (ci, case) in group.cases.iter().enumerate() {
                let full = format!("{}/{}", group.name, case.name);
                if opts
                    .filter
                    .as_ref()
                    .is_some_and(|f| !full.contains(f.as_str()))
                {
                    continue;
                }
                match case.applies_to(group, sut.name()) {
                    Ok(true) => selected.push((ci, case)),
                    Ok(false) => {}
                    Err(why) => summary.unsupported.push((sut.name().to_owned(), full, why)),
                }
            }
            if selected.is_empty() {
                continue;
            }
            let mut ph = Placeholders {
                page_port: page.port(),
                page2_port: page2.port(),
                sut_port: 0,
                upstream_port: upstream.port(),
                public_port: public.port(),
            };
            let ctx = SutContext {
                policy_yaml: ph.apply(&group.policy),
                app: app.clone(),
                upstream: upstream.addr,
            };
            let running = match sut.start(&ctx).await {
                Ok(r) => r,
                Err(e) => {
                    for (_, case) in &selected {
                        summary.failed.push(format!(
                            "[{}] {}/{}: the SUT failed to start (see above)",
                            sut.name(),
                            group.name,
                            case.name
                        ));
                    }
                    println!(
                        "FAIL [{}] group {}: the SUT failed to start: {e}",
                        sut.name(),
                        group.name
                    );
                    continue;
                }
            };
            ph.sut_port = running.port;
            let engine_policy = corsguard::Policy::from_yaml_str(&ctx.policy_yaml).ok();
            // The policy as a file, for `corsguard explain` (the cli leg).
            let policy_file = tempfile::Builder::new()
                .prefix("corsguard-policy-")
                .suffix(".yaml")
                .tempfile()
                .and_then(|mut f| {
                    std::io::Write::write_all(&mut f, ctx.policy_yaml.as_bytes()).map(|()| f)
                });
            let cli_bin = tokio::task::spawn_blocking(crate::sut::corsguard_binary)
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r);
            for (ci, case) in selected {
                let full = format!("{}/{}", group.name, case.name);
                distinct.insert(full.clone());
                let tag = format!("{}-{gi}-{ci}", sut.name());
                let t0 = Instant::now();
                let steps = case.steps();
                let resolved = resolve(case, &steps, &ph, &tag);
                let for_model = resolved.clone();
                let verdicts = match tokio::task::spawn_blocking(move || predict(&for_model)).await
                {
                    Ok(v) => v,
                    Err(e) => {
                        summary
                            .failed
                            .push(format!("[{}] {full}: model panicked: {e}", sut.name()));
                        println!("FAIL [{}] {full}: model panicked: {e}", sut.name());
                        continue;
                    }
                };
                let model = model_view(&verdicts);
                let explain = engine_policy
                    .as_ref()
                    .and_then(|p| predict_engine(&resolved, &steps, p, &app, running.port))
                    .map(|v| {
                        let mut view = model_view(&v);
                        // Response headers a server adds on its own (Date, Server, …) are
                        // not the engine's business: readable names are compared with the
                        // live model only.
                        for s in &mut view.steps {
                            s.readable = None;
                        }
                        view
                    });
                let table = table_view(case, &steps);
                let hints = WaitHints {
                    deprecation: [&table.deprecation, &model.deprecation]
                        .into_iter()
                        .any(|d| d.as_deref().is_some_and(|d| !d.is_empty())),
                    preflights: table
                        .preflights
                        .unwrap_or(0)
                        .max(model.preflights.unwrap_or(0)),
                };
                let obs = match observe(&browser, &app, &resolved, hints).await {
                    Ok(o) => o,
                    Err(e) => {
                        summary
                            .failed
                            .push(format!("[{}] {full}: browser: {e}", sut.name()));
                        println!("FAIL [{}] {full}: browser: {e}", sut.name());
                        continue;
                    }
                };
                let chromium = chromium_view(&obs);
                let cli = match (&cli_bin, &policy_file) {
                    (Ok(bin), Ok(file)) => predict_cli(bin, file.path(), &resolved, &steps).await,
                    (Err(e), _) => Some(Err(format!("no corsguard binary: {e}"))),
                    (_, Err(e)) => Some(Err(format!("policy file: {e}"))),
                };
                let cli = match cli {
                    None => None,
                    Some(Ok(v)) => Some(v),
                    Some(Err(e)) => {
                        summary
                            .failed
                            .push(format!("[{}] {full}: corsguard explain: {e}", sut.name()));
                        println!("FAIL [{}] {full}: corsguard explain: {e}", sut.name());
                        continue;
                    }
                };
                let mut predictions: Vec<(&str, &crate::check::CaseView)> = vec![("model", &model)];
                if let Some(e) = &explain {
                    predictions.push(("explain", e));
                }
                if let Some(c) = &cli {
                    predictions.push(("cli", c));
                }
                let disagreements =
                    compare(case, &steps, &obs, &table, &chromium, &predictions, &ph);
                let ms = t0.elapsed().as_millis();
                ran += 1;
                if disagreements.is_empty() {
                    summary.passed += 1;
                    println!("ok   [{}] {full} ({ms} ms)", sut.name());
                    if opts.verbose {
                        print!(
                            "{}",
                            render(&resolved, &obs, &table, &chromium, &predictions, &[])
                        );
                    }
                } else {
                    summary.failed.push(format!("[{}] {full}", sut.name()));
                    println!("FAIL [{}] {full} ({ms} ms)", sut.name());
                    print!(
                        "{}",
                        render(
                            &resolved,
                            &obs,
                            &table,
                            &chromium,
                            &predictions,
                            &disagreements
                        )
                    );
                }
            }
            drop(running);
        }
        println!(
            "-- {}: {ran} cases in {:.1} s",
            sut.name(),
            sut_started.elapsed().as_secs_f64()
        );
    }
    summary.distinct_cases = distinct.len();
    browser.close().await;
    crate::sut::remove_binary_copy();
    println!("total time {:.1} s", started.elapsed().as_secs_f64());
    Ok(summary)
}

/// Loads the crate's tables.
pub fn load_tables() -> Result<Vec<Group>, String> {
    cases::load_dir(&cases::default_dir()).map_err(|e| e.to_string())
}

/// A bounded wait used by SUTs that start external processes.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);
