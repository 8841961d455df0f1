//! Dev-only: corsguard's behaviour tables (`tests/cases/*.yaml`) and the code that checks an
//! observed response against a row, shared by every runner (engine, tower, actix, gateway,
//! nginx export) so they cannot drift.
//!
//! # Table format
//! ```yaml
//! name: basics
//! policy: |              # a corsguard YAML policy
//!   defaults: { allow_origins: ['https://app.example.com'] }
//! cases:
//!   - name: allowed GET
//!     request:
//!       method: GET                 # default GET
//!       path: /v1/items             # default /
//!       host: api.example.com       # optional Host override; `{self}` in values = the
//!                                   # server's own origin (scheme://host)
//!       headers: { origin: https://app.example.com, access-control-request-headers: [a, b] }
//!     app: { status: 401, headers: { vary: Accept-Encoding } }   # what the app answers
//!     expect:
//!       status: 200                 # number, or "2xx"
//!       app_called: true            # did the request reach the app?
//!       headers: { access-control-allow-origin: https://app.example.com, vary: Origin }
//!       absent: [access-control-allow-credentials]
//!       exact_cors: true            # default: no other access-control-* header may appear
//! ```
//!
//! The app behind every runner is the same tiny program ([`app_response`]): it answers with
//! the status and headers the runner passes in `x-app-status` / `x-app-header` request
//! headers, and marks its responses with `x-app-called: 1`.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "engine")]
pub mod engine;
#[cfg(feature = "reload")]
pub mod reload;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Request header carrying the status the app must answer with.
pub const APP_STATUS: &str = "x-app-status";
/// Request header (repeatable) carrying `name: value` headers the app must add.
pub const APP_HEADER: &str = "x-app-header";
/// Response header the app adds, so runners can tell whether the request reached it.
pub const APP_CALLED: &str = "x-app-called";
/// The host the engine runner uses as the server's own host.
pub const ENGINE_HOST: &str = "api.test";

/// One table file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// Table name.
    pub name: String,
    /// What the table covers.
    #[serde(default)]
    pub description: String,
    /// The policy (YAML text).
    pub policy: String,
    /// The rows.
    pub cases: Vec<Case>,
    /// Runners whose export refuses this table's policy (exits 1), with the reason: the
    /// runner skips the whole table ([`run_some`]), so none of its rows run there. The
    /// reason quotes, between backquotes, a text of the export's error (see
    /// `engine::run_tables_or_refused`).
    #[serde(default)]
    pub refused: BTreeMap<String, String>,
    /// File it was loaded from.
    #[serde(skip)]
    pub file: PathBuf,
}

/// One row.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Row name (unique in its table).
    pub name: String,
    /// The request.
    #[serde(default)]
    pub request: Req,
    /// What the app answers (when reached).
    #[serde(default)]
    pub app: App,
    /// What must come back.
    pub expect: Expect,
    /// Runners that cannot express this row, with the reason: `{nginx: "why"}`.
    #[serde(default)]
    pub unsupported: BTreeMap<String, String>,
}

/// Header values: one line or several.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Lines {
    /// One header line.
    One(String),
    /// Several header lines with the same name.
    Many(Vec<String>),
}

impl Lines {
    /// The lines.
    pub fn lines(&self) -> Vec<&str> {
        match self {
            Lines::One(s) => vec![s.as_str()],
            Lines::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// A request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Req {
    /// Method (default GET).
    #[serde(default = "default_method")]
    pub method: String,
    /// Path (default `/`).
    #[serde(default = "default_path")]
    pub path: String,
    /// Host header override (default: the server's own).
    #[serde(default)]
    pub host: Option<String>,
    /// Headers (lower-case names).
    #[serde(default)]
    pub headers: BTreeMap<String, Lines>,
}

impl Default for Req {
    fn default() -> Self {
        Req {
            method: default_method(),
            path: default_path(),
            host: None,
            headers: BTreeMap::new(),
        }
    }
}

fn default_method() -> String {
    "GET".into()
}
fn default_path() -> String {
    "/".into()
}

/// What the app answers.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// Status (default 200).
    #[serde(default)]
    pub status: Option<u16>,
    /// Extra response headers.
    #[serde(default)]
    pub headers: BTreeMap<String, Lines>,
}

/// Expected status: exact or a class like `2xx`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Status {
    /// Exactly this status.
    Exact(u16),
    /// A class, `2xx`/`4xx`.
    Class(String),
}

impl Status {
    fn matches(&self, s: u16) -> bool {
        match self {
            Status::Exact(e) => *e == s,
            Status::Class(c) => c
                .as_bytes()
                .first()
                .is_some_and(|d| u16::from(d - b'0') == s / 100),
        }
    }
}

/// Expectations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Status.
    pub status: Status,
    /// Whether the app ran.
    pub app_called: bool,
    /// Headers that must be present with exactly these values (Vary compared as a
    /// case-insensitive token set; other list headers compared byte-exactly).
    #[serde(default)]
    pub headers: BTreeMap<String, Lines>,
    /// Headers that must be absent.
    #[serde(default)]
    pub absent: Vec<String>,
    /// No `access-control-*` header other than those in `headers` may appear (default true).
    #[serde(default = "yes")]
    pub exact_cors: bool,
}

fn yes() -> bool {
    true
}

/// A response as a runner observed it.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Status.
    pub status: u16,
    /// Header lines (lower-case names), in order.
    pub headers: Vec<(String, String)>,
}

impl Observed {
    fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Whether the app ran (its marker header is present).
    pub fn app_called(&self) -> bool {
        !self.all(APP_CALLED).is_empty()
    }
}

/// The workspace's `tests/cases` directory.
pub fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/cases")
}

/// Loads every `*.yaml` table, sorted by file name.
pub fn load_tables() -> Vec<Table> {
    load_tables_from(&cases_dir())
}

/// Loads every table in `dir`. Panics with the file name on a malformed table (test code).
pub fn load_tables_from(dir: &Path) -> Vec<Table> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let text =
                std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            let mut t: Table =
                serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            t.file = f;
            t
        })
        .collect()
}

/// Substitutes `{self}` (the server's own origin) in a header value.
pub fn substitute(value: &str, self_origin: &str) -> String {
    value.replace("{self}", self_origin)
}

/// The request headers a runner must send for `case` (including the app instructions),
/// with `{self}` substituted.
pub fn request_headers(case: &Case, self_origin: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (n, v) in &case.request.headers {
        for line in v.lines() {
            out.push((n.clone(), substitute(line, self_origin)));
        }
    }
    if let Some(s) = case.app.status {
        out.push((APP_STATUS.into(), s.to_string()));
    }
    for (n, v) in &case.app.headers {
        for line in v.lines() {
            out.push((APP_HEADER.into(), format!("{n}: {line}")));
        }
    }
    out
}

/// The test app, identical behind every runner: answers the status and headers requested by
/// `x-app-status` / `x-app-header`, adds `x-app-called: 1`, body `app`.
pub fn app_response<'a>(
    request_headers: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> (u16, Vec<(String, String)>) {
    let mut status = 200;
    let mut headers = vec![(APP_CALLED.to_string(), "1".to_string())];
    for (n, v) in request_headers {
        if n.eq_ignore_ascii_case(APP_STATUS) {
            status = v.trim().parse().unwrap_or(200);
        } else if n.eq_ignore_ascii_case(APP_HEADER)
            && let Some((hn, hv)) = v.split_once(':')
        {
            headers.push((hn.trim().to_ascii_lowercase(), hv.trim().to_string()));
        }
    }
    (status, headers)
}

fn vary_tokens(lines: &[&str]) -> Vec<String> {
    let mut t: Vec<String> = lines
        .iter()
        .flat_map(|l| l.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    t.sort();
    t
}

/// Checks one observation against its row; `Err` explains every mismatch.
pub fn check(case: &Case, self_origin: &str, got: &Observed) -> Result<(), String> {
    let mut errs = Vec::new();
    let e = &case.expect;
    if !e.status.matches(got.status) {
        errs.push(format!(
            "status: expected {:?}, got {}",
            e.status, got.status
        ));
    }
    if e.app_called != got.app_called() {
        errs.push(format!(
            "app_called: expected {}, got {}",
            e.app_called,
            got.app_called()
        ));
    }
    for (name, want) in &e.headers {
        let want: Vec<String> = want
            .lines()
            .iter()
            .map(|l| substitute(l, self_origin))
            .collect();
        let have = got.all(name);
        let ok = if name == "vary" {
            let mut w = vary_tokens(&want.iter().map(String::as_str).collect::<Vec<_>>());
            w.dedup();
            let h = vary_tokens(&have);
            w == h && have.len() <= 1
        } else {
            have == want.iter().map(String::as_str).collect::<Vec<_>>()
        };
        if !ok {
            errs.push(format!("{name}: expected {want:?}, got {have:?}"));
        }
    }
    for name in &e.absent {
        let have = got.all(name);
        if !have.is_empty() {
            errs.push(format!("{name}: expected absent, got {have:?}"));
        }
    }
    if e.exact_cors {
        for (n, v) in &got.headers {
            if n.starts_with("access-control-") && !e.headers.contains_key(n.as_str()) {
                errs.push(format!("unexpected header {n}: {v}"));
            }
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("\n      "))
    }
}

/// Runs every table through `exec` (which gets a table and returns one observation per case,
/// in order, skipping none) and panics listing every failing row. Rows declared unsupported
/// for `runner` are still executed and must fail (a declaration that no longer holds is an
/// error, so the declarations are exactly the runner's results). Returns the number of rows
/// that passed.
pub fn run_all(runner: &str, mut exec: impl FnMut(&Table) -> (String, Vec<Observed>)) -> usize {
    run_some(runner, |t| Some(exec(t)))
}

/// [`run_all`] for a runner that cannot run some tables at all (its export refuses their
/// policy): `exec` returns `None` for those, and then the table must declare the runner in
/// `refused:` and none of its rows may declare it `unsupported:` (nothing ran to prove
/// either). A table that runs must not declare it `refused:`. Returns the number of rows
/// that passed.
pub fn run_some(
    runner: &str,
    mut exec: impl FnMut(&Table) -> Option<(String, Vec<Observed>)>,
) -> usize {
    let tables = load_tables();
    assert!(
        !tables.is_empty(),
        "no behaviour tables found in {}",
        cases_dir().display()
    );
    let mut failures = Vec::new();
    let mut checked = 0;
    for t in &tables {
        let Some((self_origin, observed)) = exec(t) else {
            if !t.refused.contains_key(runner) {
                failures.push(format!(
                    "  {}: {runner} cannot run this table (its export refuses the policy): declare `refused: {{{runner}: \"…\"}}`",
                    t.name
                ));
            }
            for c in t
                .cases
                .iter()
                .filter(|c| c.unsupported.contains_key(runner))
            {
                failures.push(format!(
                    "  {} / {}: the table is refused for {runner}, so the row's `unsupported: {runner}` cannot be checked: remove it",
                    t.name, c.name
                ));
            }
            continue;
        };
        if t.refused.contains_key(runner) {
            failures.push(format!(
                "  {}: declared refused for {runner}, but it runs: remove the declaration",
                t.name
            ));
        }
        assert_eq!(
            observed.len(),
            t.cases.len(),
            "runner {runner} returned the wrong number of observations for {}",
            t.name
        );
        for (c, o) in t.cases.iter().zip(&observed) {
            let result = check(c, &self_origin, o);
            match (result, c.unsupported.get(runner)) {
                (Ok(()), None) => checked += 1,
                (Ok(()), Some(_)) => failures.push(format!(
                    "  {} / {}: declared unsupported for {runner}, but it passes: remove the declaration",
                    t.name, c.name
                )),
                (Err(_), Some(_)) => {}
                (Err(e), None) => failures.push(format!(
                    "  {} / {}:\n      {e}\n      observed: {} {:?}",
                    t.name, c.name, o.status, o.headers
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{runner}: {} behaviour rows failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    checked
}
