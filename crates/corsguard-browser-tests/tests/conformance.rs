//! The Chromium conformance suite: every case of `cases/*.yaml` against every system under
//! test, judged three ways (table, Chromium, `corsguard_browser`). A custom harness
//! (`harness = false`) so that one browser process serves the whole suite and each case is
//! reported on its own line.
//!
//! Skip only with `CORSGUARD_SKIP_BROWSER=1`; a missing or broken Chromium fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::ExitCode;

use corsguard_browser_tests::{suite, sut};

fn main() -> ExitCode {
    if suite::skipped() {
        println!("browser conformance suite skipped: CORSGUARD_SKIP_BROWSER=1");
        return ExitCode::SUCCESS;
    }
    let groups = match suite::load_tables() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: case table: {e}");
            return ExitCode::FAILURE;
        }
    };
    let opts = suite::Options::from_env_and_args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let suts = sut::all();
    let result = runtime.block_on(suite::run(&groups, &suts, &opts));
    match result {
        Err(e) => {
            eprintln!("error: the browser suite could not run: {e}");
            ExitCode::FAILURE
        }
        Ok(s) => {
            println!(
                "\nChromium conformance: {} passed, {} failed, {} unsupported; {} distinct cases x SUTs [{}]",
                s.passed,
                s.failed.len(),
                s.unsupported.len(),
                s.distinct_cases,
                s.suts.join(", ")
            );
            for (sut, case, why) in &s.unsupported {
                println!("  unsupported [{sut}] {case}: {why}");
            }
            for f in &s.failed {
                println!("  FAILED {f}");
            }
            if s.failed.is_empty() && s.passed > 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
