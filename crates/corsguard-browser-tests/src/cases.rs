//! The case table: `cases/*.yaml`, one file per policy group.
//!
//! ```yaml
//! name: origins
//! description: what the group covers
//! policy: |                      # corsguard YAML; placeholders are substituted (see below)
//!   defaults: { allow_origins: ['{page}'] }
//! only: [gateway]                # optional: SUTs this group runs on (default: all)
//! unsupported: { nginx: why }    # optional: SUTs that cannot express the group
//! cases:
//!   - name: exact origin allowed
//!     page: 'http://app.localhost:{page_port}'   # origin A (default '{page}')
//!     sandbox: false             # run the fetch in a sandboxed srcdoc iframe (Origin: null)
//!     permission: granted        # the page origin's `loopback-network` permission (default: none)
//!     page_headers: { Cross-Origin-Embedder-Policy: require-corp }   # on the page's response
//!     fetch:                     # one fetch …
//!       url: '{sut}/items'
//!       method: PUT              # as the script writes it (`patch` stays lower-case)
//!       headers: { X-Trace-Id: '1' }
//!       credentials: include     # omit | same-origin (default) | include
//!       body: '{"a":1}'
//!       mode: no-cors            # with destination: image | script, an element loads the URL
//!       destination: image      # or script, or form (a real <form> submitted into an iframe)
//!       app: { status: 500, headers: { x-request-id: '42' }, redirect: URL, sleep_ms: 3000, drop: true }
//!     expect:                    # … and what the page must see
//!       ok: true                 # default: true unless cors_error is given
//!       status: 500
//!       headers: { x-request-id: '42' }    # readable through response.headers, exact value
//!       hidden: [set-cookie]     # not readable
//!       body_contains: text
//!       redirected: true
//!       cors_error: PreflightMissingAllowOriginHeader   # CDP corsError
//!       failed_parameter: PUT    # CDP failedParameter
//!       blocked: net::ERR_BLOCKED_BY_RESPONSE.NotSameOrigin   # a CORP/COEP block (errorText)
//!     repeat: 2                  # run the single fetch N times in the same context
//!     steps: [{fetch: …, expect: …}]   # or several fetches in one browser context
//!     preflights: 1              # preflights Chromium sent over the whole case (CDP)
//!     preflight_acrh: 'content-type,x-trace-id'   # ACRH of the (first) preflight
//!     app: { calls: 1, options: 0, cookie: true, origin: 'null' }  # what reached the app
//!     deprecation: AuthorizationCoveredByWildcard   # Audits DeprecationIssue type (and model SpecNote)
//!     chromium_deviation: prose  # where Chromium 156 departs from the spec here
//!     only: [gateway]
//!     unsupported: { nginx: why }
//! ```
//!
//! Placeholders in policies and URLs: `{page}` / `{page_port}` (origin A,
//! `http://127.0.0.1:port`), `{page2}` / `{page2_port}` (a second page server), `{sut}` /
//! `{sut_port}` (origin B, `http://127.0.0.1:port`), `{upstream}` (the plain application the
//! gateway and nginx forward to), `{public_page}` (a page server Chromium counts as `public`,
//! `http://127.0.0.1:port` under `--ip-address-space-overrides`) and `{insecure_page}` (the
//! same server as `http://public.test:port`, not a secure context; Chromium resolves the name
//! to 127.0.0.1 through `--host-resolver-rules`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One file: a policy and the cases run against it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// Group name.
    pub name: String,
    /// What it covers.
    #[serde(default)]
    pub description: String,
    /// The policy (YAML, with placeholders).
    pub policy: String,
    /// SUTs the group runs on (empty = all).
    #[serde(default)]
    pub only: Vec<String>,
    /// SUTs that cannot express the group, with the reason.
    #[serde(default)]
    pub unsupported: BTreeMap<String, String>,
    /// The cases.
    pub cases: Vec<Case>,
    /// The file it came from.
    #[serde(skip)]
    pub file: PathBuf,
}

/// One case.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Case name (unique in its group).
    pub name: String,
    /// The page origin (default `{page}`).
    #[serde(default)]
    pub page: Option<String>,
    /// Run the fetches in a `sandbox="allow-scripts"` srcdoc iframe (opaque origin).
    #[serde(default)]
    pub sandbox: bool,
    /// The page origin's Local Network Access permission (`loopback-network`): `granted` or
    /// `denied`; absent = never asked (headless Chromium treats the prompt as a denial).
    #[serde(default)]
    pub permission: Option<String>,
    /// Headers of the page's own response (e.g. `Cross-Origin-Embedder-Policy`).
    #[serde(default)]
    pub page_headers: BTreeMap<String, String>,
    /// Single-fetch shorthand.
    #[serde(default)]
    pub fetch: Option<Fetch>,
    /// Expectation of the single fetch.
    #[serde(default)]
    pub expect: Option<Expect>,
    /// Run the single fetch this many times in the same context.
    #[serde(default)]
    pub repeat: Option<usize>,
    /// Several fetches in one browser context.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Preflights Chromium sends over the whole case.
    #[serde(default)]
    pub preflights: Option<usize>,
    /// `Access-Control-Request-Headers` of the first preflight.
    #[serde(default)]
    pub preflight_acrh: Option<String>,
    /// What must reach the application.
    #[serde(default)]
    pub app: Option<AppExpect>,
    /// The `DeprecationIssue` type Chromium must report (and the model must note).
    #[serde(default)]
    pub deprecation: Option<String>,
    /// Where Chromium 156 departs from the spec in this case (documentation).
    #[serde(default)]
    pub chromium_deviation: Option<String>,
    /// Free-form notes.
    #[serde(default)]
    pub notes: Option<String>,
    /// SUTs the case runs on (empty = all of the group's).
    #[serde(default)]
    pub only: Vec<String>,
    /// SUTs that cannot express the case, with the reason.
    #[serde(default)]
    pub unsupported: BTreeMap<String, String>,
}

/// One fetch and its expectation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The fetch.
    pub fetch: Fetch,
    /// What the page must see.
    pub expect: Expect,
}

/// A `fetch()` call.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fetch {
    /// URL (placeholders allowed).
    pub url: String,
    /// Method as the script writes it.
    #[serde(default = "default_method")]
    pub method: String,
    /// Script-set headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// `omit`, `same-origin` (default) or `include`.
    #[serde(default)]
    pub credentials: Option<String>,
    /// Request body (a string).
    #[serde(default)]
    pub body: Option<String>,
    /// `cors` (default) or `no-cors`.
    #[serde(default)]
    pub mode: Option<String>,
    /// `image` or `script`: an `<img>` / `<script>` element loads the URL instead of `fetch()`
    /// (`no-cors` unless `mode: cors`, which sets `crossorigin`); `form`: a real `<form>`
    /// with `method` and one hidden field (`data` = `body`) is submitted into an iframe.
    #[serde(default)]
    pub destination: Option<String>,
    /// What the application should answer (encoded into the query string).
    #[serde(default)]
    pub app: Option<AppDirectives>,
}

fn default_method() -> String {
    "GET".to_owned()
}

/// Instructions for the application, carried in the query string (see [`crate::fixture`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppDirectives {
    /// Status.
    #[serde(default)]
    pub status: Option<u16>,
    /// Extra response headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Answer with a redirect to this URL (placeholders allowed).
    #[serde(default)]
    pub redirect: Option<String>,
    /// Redirect status (default 307).
    #[serde(default)]
    pub redirect_status: Option<u16>,
    /// Wait before answering.
    #[serde(default)]
    pub sleep_ms: Option<u64>,
    /// Close the connection without answering.
    #[serde(default)]
    pub drop: bool,
    /// Answer with a loadable body instead of the JSON echo: `png` (a 1×1 image) or `js` (a
    /// script statement), with its content type.
    #[serde(default)]
    pub body: Option<String>,
}

/// What the page must see for one fetch.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Whether `fetch()` resolves (default: `true` unless `cors_error` is set).
    #[serde(default)]
    pub ok: Option<bool>,
    /// The status the page reads.
    #[serde(default)]
    pub status: Option<u16>,
    /// Headers readable through `response.headers`, with their exact values.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Headers that must not be readable.
    #[serde(default)]
    pub hidden: Vec<String>,
    /// A substring of the body.
    #[serde(default)]
    pub body_contains: Option<String>,
    /// `response.redirected`.
    #[serde(default)]
    pub redirected: Option<bool>,
    /// The CDP `corsError`.
    #[serde(default)]
    pub cors_error: Option<String>,
    /// The CDP `failedParameter` (empty = none).
    #[serde(default)]
    pub failed_parameter: Option<String>,
    /// A CORP/COEP block: the `Network.loadingFailed` `errorText`
    /// (`net::ERR_BLOCKED_BY_RESPONSE.…`).
    #[serde(default)]
    pub blocked: Option<String>,
}

impl Expect {
    /// Whether the fetch must resolve.
    pub fn ok(&self) -> bool {
        self.ok
            .unwrap_or(self.cors_error.is_none() && self.blocked.is_none())
    }
}

/// What must reach the application over the whole case (browser requests only).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppExpect {
    /// Requests that reached it (any method).
    #[serde(default)]
    pub calls: Option<usize>,
    /// `OPTIONS` requests that reached it.
    #[serde(default)]
    pub options: Option<usize>,
    /// Whether the last request carried a `Cookie`.
    #[serde(default)]
    pub cookie: Option<bool>,
    /// The `Origin` of the last request (`none` = absent).
    #[serde(default)]
    pub origin: Option<String>,
    /// The method of the last request.
    #[serde(default)]
    pub method: Option<String>,
}

impl Case {
    /// The fetches with their expectations, `fetch`/`expect`/`repeat` expanded.
    pub fn steps(&self) -> Vec<Step> {
        let mut out = Vec::new();
        if let Some(fetch) = &self.fetch {
            let expect = self.expect.clone().unwrap_or_default();
            for _ in 0..self.repeat.unwrap_or(1).max(1) {
                out.push(Step {
                    fetch: fetch.clone(),
                    expect: expect.clone(),
                });
            }
        }
        out.extend(self.steps.iter().cloned());
        out
    }

    /// Whether the case runs on `sut` within `group`; `Err(reason)` when it is declared
    /// unsupported there, `Ok(false)` when it is simply not meant for it.
    pub fn applies_to(&self, group: &Group, sut: &str) -> Result<bool, String> {
        if let Some(why) = group.unsupported.get(sut).or(self.unsupported.get(sut)) {
            return Err(why.clone());
        }
        let listed = |only: &Vec<String>| only.is_empty() || only.iter().any(|s| s == sut);
        Ok(listed(&group.only) && listed(&self.only))
    }
}

/// A table problem.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// Reading failed.
    #[error("{file}: {err}")]
    Io {
        /// File.
        file: PathBuf,
        /// Error.
        err: std::io::Error,
    },
    /// Parsing failed.
    #[error("{file}: {msg}")]
    Parse {
        /// File.
        file: PathBuf,
        /// Message.
        msg: String,
    },
}

/// Loads every `*.yaml` file of `dir`, sorted by name, and checks the tables are well-formed
/// (unique case names, at least one fetch per case).
pub fn load_dir(dir: &Path) -> Result<Vec<Group>, TableError> {
    let io = |err| TableError::Io {
        file: dir.to_owned(),
        err,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut groups = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|err| TableError::Io {
            file: file.clone(),
            err,
        })?;
        let mut group: Group = serde_saphyr::from_str(&text).map_err(|e| TableError::Parse {
            file: file.clone(),
            msg: e.to_string(),
        })?;
        group.file = file.clone();
        let mut names = std::collections::BTreeSet::new();
        for case in &group.cases {
            if !names.insert(case.name.clone()) {
                return Err(TableError::Parse {
                    file,
                    msg: format!("duplicate case name `{}`", case.name),
                });
            }
            if case.steps().is_empty() {
                return Err(TableError::Parse {
                    file,
                    msg: format!("case `{}` has no fetch", case.name),
                });
            }
        }
        groups.push(group);
    }
    Ok(groups)
}

/// The values substituted for placeholders.
#[derive(Debug, Clone, Default)]
pub struct Placeholders {
    /// Origin A's port.
    pub page_port: u16,
    /// The second page server's port.
    pub page2_port: u16,
    /// The SUT's port (0 while the policy is rendered for the SUT's own start).
    pub sut_port: u16,
    /// The plain application's port (upstream of the gateway and nginx).
    pub upstream_port: u16,
    /// The port of the page server Chromium counts as `public`.
    pub public_port: u16,
}

/// The host name Chromium resolves to 127.0.0.1 (`--host-resolver-rules`) for
/// `{insecure_page}`.
pub const INSECURE_HOST: &str = "public.test";

impl Placeholders {
    /// Replaces `{page}`, `{page_port}`, `{page2}`, `{page2_port}`, `{sut}`, `{sut_port}`,
    /// `{upstream}`, `{public_page}`, `{insecure_page}` in `text`.
    pub fn apply(&self, text: &str) -> String {
        text.replace(
            "{public_page}",
            &format!("http://127.0.0.1:{}", self.public_port),
        )
        .replace(
            "{insecure_page}",
            &format!("http://{INSECURE_HOST}:{}", self.public_port),
        )
        .replace("{page}", &format!("http://127.0.0.1:{}", self.page_port))
        .replace("{page_port}", &self.page_port.to_string())
        .replace("{page2}", &format!("http://127.0.0.1:{}", self.page2_port))
        .replace("{page2_port}", &self.page2_port.to_string())
        .replace("{sut}", &format!("http://127.0.0.1:{}", self.sut_port))
        .replace("{sut_port}", &self.sut_port.to_string())
        .replace(
            "{upstream}",
            &format!("http://127.0.0.1:{}", self.upstream_port),
        )
    }
}

/// The directory holding the crate's tables.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cases")
}
