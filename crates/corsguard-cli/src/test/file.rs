//! The expectations file of `corsguard test`: `policy:` (optional, relative to the file) and
//! `cases:`, each a request a page makes and what the browser must do with it.
//!
//! ```yaml
//! policy: corsguard.yaml
//! cases:
//!   - name: app can PUT with a trace id
//!     origin: https://app.example.com
//!     url: https://api.example.com/v1/items
//!     method: PUT                  # default GET
//!     headers: {X-Trace-Id: "1"}   # default none
//!     credentials: include         # omit | same-origin (default) | include
//!     expect: allowed              # allowed | blocked
//!     console: "…"                 # optional: a substring of Chromium's console message
//! ```
//!
//! Every problem (unknown keys, wrong types, an origin or URL `fetch()` rejects) is a
//! [`Diagnostic`] located in the file, rendered like `corsguard check` renders a policy's.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use corsguard::{Code, Diagnostic, Location, Severity, SourceKind, SourceSpan};
use corsguard_browser::{BrowserRequest, FetchErrorKind};
use serde::{Deserialize, Deserializer, Serialize};
use serde_saphyr::Spanned;

use crate::explain::Credentials;

/// What the browser must do with a case's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Expect {
    /// The script gets the response.
    Allowed,
    /// The browser blocks it (or the server's CSRF check refuses it).
    Blocked,
}

impl Expect {
    /// `allowed` or `blocked`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Expect::Allowed => "allowed",
            Expect::Blocked => "blocked",
        }
    }
}

/// A header value: YAML may write `X-Trace-Id: 1` unquoted.
#[derive(Debug, Clone)]
struct HeaderValue(String);

impl<'de> Deserialize<'de> for HeaderValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Scalar {
            S(String),
            I(i64),
            F(f64),
            B(bool),
        }
        Ok(HeaderValue(match Scalar::deserialize(d)? {
            Scalar::S(s) => s,
            Scalar::I(i) => i.to_string(),
            Scalar::F(f) => f.to_string(),
            Scalar::B(b) => b.to_string(),
        }))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    policy: Option<Spanned<String>>,
    cases: Vec<RawCase>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    origin: Spanned<String>,
    url: Spanned<String>,
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, HeaderValue>,
    #[serde(default)]
    credentials: Option<CredentialsSpec>,
    expect: Expect,
    #[serde(default)]
    console: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum CredentialsSpec {
    Omit,
    SameOrigin,
    Include,
}

impl From<CredentialsSpec> for Credentials {
    fn from(c: CredentialsSpec) -> Credentials {
        match c {
            CredentialsSpec::Omit => Credentials::Omit,
            CredentialsSpec::SameOrigin => Credentials::SameOrigin,
            CredentialsSpec::Include => Credentials::Include,
        }
    }
}

/// One case, ready to run.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    /// Its name.
    pub name: String,
    /// The page's origin.
    pub origin: String,
    /// The URL the page fetches.
    pub url: String,
    /// The method as the script writes it.
    pub method: String,
    /// The headers the script sets.
    pub headers: Vec<(String, String)>,
    /// `fetch()`'s credentials mode.
    pub credentials: Credentials,
    /// What the browser must do.
    pub expect: Expect,
    /// A substring Chromium's console message must contain.
    pub console: Option<String>,
}

impl Case {
    /// The request as the browser model takes it.
    pub(crate) fn request(&self, url: &str) -> BrowserRequest {
        self.headers.iter().fold(
            BrowserRequest::new(self.origin.clone(), url.to_owned())
                .method(self.method.clone())
                .credentials(self.credentials.into()),
            |r, (n, v)| r.header(n.clone(), v.clone()),
        )
    }
}

/// An expectations file, read and checked.
#[derive(Debug)]
pub(crate) struct TestFile {
    /// The path as given.
    pub name: String,
    /// The policy it names (`policy:`), resolved against the file's directory.
    pub policy: Option<PathBuf>,
    /// The cases, in file order.
    pub cases: Vec<Case>,
}

/// A file that cannot be run: its text (for snippets) and every diagnostic.
#[derive(Debug)]
pub(crate) struct Invalid {
    /// The path as given.
    pub name: String,
    /// The file's text, when it could be read.
    pub text: Option<String>,
    /// What is wrong, located.
    pub diagnostics: Vec<Diagnostic>,
}

fn diagnostic(
    name: &str,
    text: &str,
    code: &'static str,
    path: &str,
    at: Option<serde_saphyr::Location>,
    message: String,
    hint: Option<String>,
) -> Diagnostic {
    let mut location = Location::new(
        SourceKind::Text {
            name: name.to_owned(),
        },
        path,
    );
    location.span = at.and_then(|l| {
        let span = l.span();
        let start = usize::try_from(span.byte_offset()?).ok()?;
        let len = usize::try_from(span.byte_len().unwrap_or(1)).ok()?;
        Some(SourceSpan::locate(text, start..start + len.max(1)))
    });
    let mut d = Diagnostic::new(Severity::Error, Code::Tool(code), message, location);
    d.hint = hint;
    d
}

/// serde-saphyr's message without its ` at line …, column …` suffix (the span says it).
fn plain_message(e: &serde_saphyr::Error) -> String {
    let options = serde_saphyr::render_options! { snippets: serde_saphyr::SnippetMode::Off };
    let text = e.render_with_options(options);
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// Reads and checks one expectations file.
pub(crate) fn load(path: &Path) -> Result<TestFile, Invalid> {
    let name = path.display().to_string();
    let text = match corsguard::read_config_file(path, corsguard::DEFAULT_MAX_CONFIG_BYTES) {
        Ok(t) => t,
        Err(e) => {
            return Err(Invalid {
                name,
                text: None,
                diagnostics: e.diagnostics().to_vec(),
            });
        }
    };
    let raw: RawFile = match serde_saphyr::from_str(&text) {
        Ok(r) => r,
        Err(e) => {
            let message = plain_message(&e);
            let code = if message.starts_with("unknown field") {
                "test-unknown-key"
            } else {
                "test-file-invalid"
            };
            let d = diagnostic(
                &name,
                &text,
                code,
                "",
                e.location(),
                message,
                Some("a test file has `policy:` (optional) and `cases:`, each case `name`, `origin`, `url`, `method`, `headers`, `credentials`, `expect` and `console`".into()),
            );
            return Err(Invalid {
                name,
                diagnostics: vec![d],
                text: Some(text),
            });
        }
    };
    let mut diagnostics = Vec::new();
    let cases = raw
        .cases
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let case = Case {
                name: c.name,
                origin: c.origin.value.clone(),
                url: c.url.value.clone(),
                method: c.method.unwrap_or_else(|| "GET".to_owned()),
                headers: c.headers.into_iter().map(|(n, v)| (n, v.0)).collect(),
                credentials: c.credentials.map_or(Credentials::SameOrigin, Into::into),
                expect: c.expect,
                console: c.console,
            };
            if let Err(e) = case.request(&case.url).validate() {
                let (field, at) = match e.kind {
                    FetchErrorKind::InvalidPageOrigin => ("origin", Some(c.origin.referenced)),
                    FetchErrorKind::InvalidUrl => ("url", Some(c.url.referenced)),
                    _ => ("", None),
                };
                if let Some(at) = at {
                    diagnostics.push(diagnostic(
                        &name,
                        &text,
                        "test-case-invalid",
                        &format!("cases[{i}].{field}"),
                        Some(at),
                        e.to_string(),
                        None,
                    ));
                }
            }
            case
        })
        .collect();
    if !diagnostics.is_empty() {
        return Err(Invalid {
            name,
            text: Some(text),
            diagnostics,
        });
    }
    let dir = path.parent().unwrap_or(Path::new(""));
    Ok(TestFile {
        name,
        policy: raw.policy.map(|p| dir.join(p.value)),
        cases,
    })
}
