//! Arbitrary `CORS_ALLOWED_ORIGINS` / `CORSGUARD_*` values, alone or over a seed policy:
//! never panics, every diagnostic located (naming the variable or a path).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &[
    "CORS_ALLOWED_ORIGINS",
    "CORS_ORIGIN_WHITELIST",
    "CORSGUARD_ALLOW_ORIGINS",
    "CORSGUARD_ALLOW_METHODS",
    "CORSGUARD_ALLOW_HEADERS",
    "CORSGUARD_EXPOSE_HEADERS",
    "CORSGUARD_ALLOW_CREDENTIALS",
    "CORSGUARD_MAX_AGE",
    "CORSGUARD_ALLOW_PRIVATE_NETWORK",
    "CORSGUARD_ALLOW_NULL_ORIGIN",
    "CORSGUARD_SKIP_SAME_ORIGIN",
    "CORSGUARD_FORCED_ALLOW_ORIGIN",
    "CORSGUARD_PREFLIGHT_STATUS",
    "CORSGUARD_PREFLIGHT_PASSTHROUGH",
    "CORSGUARD_ON_REJECT",
    "CORSGUARD_MODE",
    "CORSGUARD_ALLOW_INSECURE_ORIGINS_WITH_CREDENTIALS",
    "CORSGUARD_ALLOW_PUBLIC_SUFFIX_WILDCARDS_WITH_CREDENTIALS",
    "CORSGUARD_LOG",
    "CORSGUARD_ALLOW_ORIGIN",
    "PATH",
];

#[derive(Debug, Arbitrary)]
struct Input {
    /// A seed policy file under the overrides, or none (env only).
    base: Option<u8>,
    vars: Vec<(u8, String)>,
    /// A variable with an arbitrary name.
    other: Option<(String, String)>,
}

fuzz_target!(|input: Input| {
    let mut vars: Vec<(String, String)> = input
        .vars
        .iter()
        .take(8)
        .map(|(n, v)| (corsguard_fuzz::pick(NAMES, *n).to_owned(), v.clone()))
        .collect();
    if let Some((n, v)) = &input.other {
        vars.push((n.clone(), v.clone()));
    }
    match input.base {
        None => match corsguard::Policy::load().env_vars(vars.clone()).build() {
            Ok(p) => {
                corsguard_fuzz::check_located(p.warnings(), 0, Some(&vars));
                corsguard_fuzz::exercise(&p);
            }
            Err(e) => {
                assert!(
                    e.errors().next().is_some(),
                    "a failed load without an error"
                );
                let len = e.source_text().map_or(0, str::len);
                corsguard_fuzz::check_located(e.diagnostics(), len, Some(&vars));
                let _ = e.to_string();
            }
        },
        Some(i) => {
            let seeds = corsguard_fuzz::SEED_POLICIES;
            let (_, text) = seeds[usize::from(i) % seeds.len()];
            corsguard_fuzz::load_and_check(text, corsguard::Format::Yaml, Some(&vars));
        }
    }
});
