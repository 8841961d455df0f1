//! The compiled, immutable policy: an ordered table of path rules over defaults, each rule's
//! header values precomputed once.

use std::path::Path;
use std::sync::Arc;

use http::{HeaderValue, StatusCode};

use crate::Code;
use crate::config::gateway::GatewaySettings;
use crate::config::raw::{Mode, OnReject};
use crate::diagnostic::{ConfigErrors, Diagnostic, Location, Severity, SourceKind};
use crate::headers::NameSet;
use crate::origin::{OriginMatcher, OriginPattern};

/// A validated CORS policy, ready to decide requests.
///
/// Build one from YAML, TOML, environment variables or code; every constructor returns
/// `Result` and none panics. Cloning is cheap (an `Arc`).
///
/// ```
/// use corsguard::Policy;
/// use corsguard::adapter::RequestHead;
/// let policy = Policy::from_yaml_str(r#"
/// defaults:
///   allow_origins: ['https://app.example.com']
///   allow_methods: [GET, PUT]
///   allow_credentials: true
/// paths:
///   - path: /public/
///     allow_origins: ['*']
///     allow_credentials: false
/// "#)?;
/// let origin = http::HeaderValue::from_static("https://app.example.com");
/// let mut req = RequestHead::new("GET", "/v1/items");
/// req.push_header(&http::header::ORIGIN, &origin);
/// let d = policy.decide(&req);
/// assert!(d.is_allowed());
/// # Ok::<(), corsguard::ConfigErrors>(())
/// ```
#[derive(Debug, Clone)]
pub struct Policy {
    pub(crate) inner: Arc<PolicyInner>,
}

#[derive(Debug)]
pub(crate) struct PolicyInner {
    pub(crate) rules: Vec<Rule>,
    pub(crate) defaults: Rule,
    pub(crate) gateway: Option<GatewaySettings>,
    pub(crate) warnings: Vec<Diagnostic>,
}

/// One row of the rule table (or the defaults).
#[derive(Debug)]
pub(crate) struct Rule {
    /// `defaults` or `paths[N]`.
    pub(crate) name: String,
    pub(crate) index: Option<usize>,
    pub(crate) matcher: PathMatcher,
    pub(crate) hosts: Vec<HostMatcher>,
    pub(crate) upstream: Option<String>,
    /// `None` = `cors: false`: requests on this rule are left alone.
    pub(crate) cors: Option<CorsRule>,
    /// `None` = `csrf.mode: off`.
    pub(crate) csrf: Option<crate::csrf::CsrfRule>,
}

/// How a rule matches a request path.
#[derive(Debug)]
pub(crate) enum PathMatcher {
    All,
    /// Segment-aware prefix: `/api` matches `/api` and `/api/x` but not `/apix`;
    /// `/api/` matches anything starting with `/api/`.
    Prefix(String),
    Glob(String, regex::Regex),
    Regex(regex::Regex),
}

impl PathMatcher {
    pub(crate) fn matches(&self, path: &str) -> bool {
        match self {
            PathMatcher::All => true,
            PathMatcher::Prefix(p) => {
                path.starts_with(p.as_str())
                    && (p.ends_with('/')
                        || path.len() == p.len()
                        || path.as_bytes().get(p.len()) == Some(&b'/'))
            }
            PathMatcher::Glob(_, r) | PathMatcher::Regex(r) => r.is_match(path),
        }
    }

    pub(crate) fn describe(&self) -> String {
        match self {
            PathMatcher::All => "every path".into(),
            PathMatcher::Prefix(p) => format!("path prefix {p}"),
            PathMatcher::Glob(g, _) => format!("glob {g}"),
            PathMatcher::Regex(r) => format!("regex {}", r.as_str()),
        }
    }
}

/// A `hosts:` entry.
#[derive(Debug)]
pub(crate) enum HostMatcher {
    Exact(String),
    Subdomains(String),
}

impl HostMatcher {
    /// `host` may carry a port; comparison is ASCII case-insensitive (host names are).
    pub(crate) fn matches(&self, host: &str) -> bool {
        let h = crate::origin::split_host_port(host).0;
        let h = h.strip_suffix('.').unwrap_or(h);
        match self {
            HostMatcher::Exact(e) => h.eq_ignore_ascii_case(e),
            HostMatcher::Subdomains(base) => {
                h.len() > base.len() + 1
                    && h.get(h.len() - base.len()..)
                        .is_some_and(|s| s.eq_ignore_ascii_case(base))
                    && h.as_bytes().get(h.len() - base.len() - 1) == Some(&b'.')
            }
        }
    }
}

/// The CORS part of a rule, with every constant header value prebuilt.
#[derive(Debug)]
pub(crate) struct CorsRule {
    pub(crate) origins: Vec<OriginPattern>,
    pub(crate) matcher: OriginMatcher,
    pub(crate) any_origin: bool,
    pub(crate) allow_null: bool,
    pub(crate) methods_any: bool,
    pub(crate) methods: Vec<String>,
    pub(crate) headers_any: bool,
    pub(crate) headers: NameSet,
    pub(crate) authorization_listed: bool,
    pub(crate) credentials: bool,
    pub(crate) private_network: bool,
    pub(crate) skip_same_origin: bool,
    pub(crate) preflight_status: StatusCode,
    pub(crate) passthrough: bool,
    pub(crate) on_reject: OnReject,
    pub(crate) mode: Mode,
    /// `*` (any origin without credentials) or `forced_allow_origin`.
    pub(crate) constant_acao: Option<HeaderValue>,
    /// `constant_acao` comes from `forced_allow_origin`.
    pub(crate) forced_acao: bool,
    pub(crate) acam: Option<HeaderValue>,
    pub(crate) acah: Option<HeaderValue>,
    pub(crate) aceh: Option<HeaderValue>,
    pub(crate) acma: Option<HeaderValue>,
    pub(crate) expose: Vec<String>,
    pub(crate) max_age: Option<u32>,
}

impl Policy {
    /// Parses and validates a YAML policy.
    ///
    /// ```
    /// let p = corsguard::Policy::from_yaml_str("defaults: {allow_origins: ['https://a.example']}")?;
    /// assert!(p.warnings().is_empty());
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn from_yaml_str(text: &str) -> Result<Policy, ConfigErrors> {
        Policy::load().yaml(text).build()
    }

    /// Reads a `.yaml`/`.yml` or `.toml` file (chosen by extension).
    ///
    /// ```no_run
    /// let p = corsguard::Policy::from_file("corsguard.yaml")?;
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Policy, ConfigErrors> {
        Policy::load().file(path).build()
    }

    /// Builds a policy from environment variables only (`CORS_ALLOWED_ORIGINS`,
    /// `CORS_ORIGIN_WHITELIST`, `CORSGUARD_<OPTION>`).
    ///
    /// ```no_run
    /// // CORS_ALLOWED_ORIGINS="https://a.example,https://b.example" CORSGUARD_MAX_AGE=600
    /// let p = corsguard::Policy::from_env()?;
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn from_env() -> Result<Policy, ConfigErrors> {
        Policy::load().env().build()
    }

    /// Starts a loader: text or a file, with or without environment overrides. The three
    /// constructors above are its common cases.
    ///
    /// ```
    /// let p = corsguard::Policy::load()
    ///     .yaml("defaults: {allow_origins: ['https://a.example']}")
    ///     .env_vars([("CORSGUARD_MAX_AGE".to_string(), "600".to_string())])
    ///     .build()?;
    /// assert_eq!(p.defaults_summary().max_age, Some(600));
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn load<'a>() -> crate::load::Load<'a> {
        crate::load::Load::new()
    }

    /// Starts a builder for a policy written in code.
    ///
    /// ```
    /// let p = corsguard::Policy::builder()
    ///     .allow_origin("https://app.example.com")
    ///     .allow_methods(["GET", "PUT"])
    ///     .allow_credentials(true)
    ///     .build()?;
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn builder() -> crate::builder::PolicyBuilder {
        crate::builder::PolicyBuilder::default()
    }

    /// Warnings found while loading (the policy is usable).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.inner.warnings
    }

    /// The `gateway:` section, when present.
    pub fn gateway(&self) -> Option<&GatewaySettings> {
        self.inner.gateway.as_ref()
    }

    /// Rule names in evaluation order: `paths[0]`, …, then `defaults`.
    pub fn rule_names(&self) -> Vec<String> {
        self.inner
            .rules
            .iter()
            .chain(std::iter::once(&self.inner.defaults))
            .map(|r| r.name.clone())
            .collect()
    }

    /// The `upstream` of path rule `index` (from [`crate::adapter::Decision::rule_index`]).
    pub fn rule_upstream(&self, index: Option<usize>) -> Option<&str> {
        match index {
            Some(i) => self.inner.rules.get(i)?.upstream.as_deref(),
            None => self.inner.defaults.upstream.as_deref(),
        }
    }

    /// A summary of the effective `defaults` (for admin pages and `check`).
    pub fn defaults_summary(&self) -> RuleSummary {
        RuleSummary::of(&self.inner.defaults)
    }

    /// Summaries of every rule, path rules first, then defaults.
    pub fn summaries(&self) -> Vec<RuleSummary> {
        self.inner
            .rules
            .iter()
            .chain(std::iter::once(&self.inner.defaults))
            .map(RuleSummary::of)
            .collect()
    }

    /// Whether `origin` would be allowed on `path` (and `host`): a convenience for WebSocket
    /// `Origin` checks and tools. `null` is allowed only with `allow_null_origin`.
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://*.example.com").build()?;
    /// assert!(p.origin_allowed("/", None, b"https://a.example.com"));
    /// assert!(!p.origin_allowed("/", None, b"https://example.com"));
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn origin_allowed(&self, path: &str, host: Option<&str>, origin: &[u8]) -> bool {
        let rule = self.rule_for(path, host);
        match &rule.cors {
            None => true,
            Some(c) => c.origin_allowed(origin).is_some(),
        }
    }

    pub(crate) fn rule_for(&self, path: &str, host: Option<&str>) -> &Rule {
        self.inner
            .rules
            .iter()
            .find(|r| {
                r.matcher.matches(path)
                    && (r.hosts.is_empty()
                        || host.is_some_and(|h| r.hosts.iter().any(|m| m.matches(h))))
            })
            .unwrap_or(&self.inner.defaults)
    }
}

/// How an origin was admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OriginAdmit {
    Any,
    Null,
    Entry(usize),
}

impl CorsRule {
    pub(crate) fn origin_allowed(&self, origin: &[u8]) -> Option<OriginAdmit> {
        if origin.len() > crate::origin::MAX_ORIGIN_LEN {
            return None;
        }
        if self.any_origin {
            return Some(OriginAdmit::Any);
        }
        if origin == b"null" {
            return self.allow_null.then_some(OriginAdmit::Null);
        }
        self.matcher.find(origin).map(OriginAdmit::Entry)
    }
}

/// A readable summary of one rule's effective options.
///
/// ```
/// let p = corsguard::Policy::builder().allow_origin("https://a.example").max_age(600).build()?;
/// let s = p.defaults_summary();
/// assert_eq!(s.allow_origins, ["https://a.example"]);
/// assert_eq!(s.max_age, Some(600));
/// # Ok::<(), corsguard::ConfigErrors>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleSummary {
    /// `defaults` or `paths[N]`.
    pub name: String,
    /// How the rule matches.
    pub matcher: String,
    /// `hosts:` entries.
    pub hosts: Vec<String>,
    /// `false` when the rule says `cors: false`.
    pub cors: bool,
    /// Canonical allow-list entries.
    pub allow_origins: Vec<String>,
    /// Allowed methods (`*` = any).
    pub allow_methods: Vec<String>,
    /// Allowed request headers, lower-case (`*` = any).
    pub allow_headers: Vec<String>,
    /// Exposed response headers.
    pub expose_headers: Vec<String>,
    /// Credentials allowed.
    pub allow_credentials: bool,
    /// Max-age in seconds.
    pub max_age: Option<u32>,
    /// `null` allowed.
    pub allow_null_origin: bool,
    /// PNA preflights answered.
    pub allow_private_network: bool,
    /// Same-origin requests skipped.
    pub skip_same_origin: bool,
    /// Constant ACAO, if any.
    pub forced_allow_origin: Option<String>,
    /// Preflight status.
    pub preflight_status: u16,
    /// Preflights forwarded to the app.
    pub preflight_passthrough: bool,
    /// Reject mode.
    pub on_reject: OnReject,
    /// Enforce or shadow.
    pub mode: Mode,
    /// Upstream (gateway).
    pub upstream: Option<String>,
    /// CSRF protection (`None` when `csrf.mode` is `off`).
    pub csrf: Option<crate::csrf::CsrfSummary>,
}

impl RuleSummary {
    fn of(r: &Rule) -> RuleSummary {
        let c = r.cors.as_ref();
        RuleSummary {
            name: r.name.clone(),
            matcher: r.matcher.describe(),
            hosts: r
                .hosts
                .iter()
                .map(|h| match h {
                    HostMatcher::Exact(e) => e.clone(),
                    HostMatcher::Subdomains(b) => format!("*.{b}"),
                })
                .collect(),
            cors: c.is_some(),
            allow_origins: c
                .map(|c| c.origins.iter().map(OriginPattern::canonical).collect())
                .unwrap_or_default(),
            allow_methods: c
                .map(|c| {
                    if c.methods_any {
                        vec!["*".into()]
                    } else {
                        c.methods.clone()
                    }
                })
                .unwrap_or_default(),
            allow_headers: c
                .map(|c| {
                    let mut v: Vec<String> = c.headers.names().to_vec();
                    if c.headers_any {
                        v.insert(0, "*".into());
                    }
                    v
                })
                .unwrap_or_default(),
            expose_headers: c.map(|c| c.expose.clone()).unwrap_or_default(),
            allow_credentials: c.is_some_and(|c| c.credentials),
            max_age: c.and_then(|c| c.max_age),
            allow_null_origin: c.is_some_and(|c| c.allow_null),
            allow_private_network: c.is_some_and(|c| c.private_network),
            skip_same_origin: c.is_some_and(|c| c.skip_same_origin),
            forced_allow_origin: c
                .filter(|c| c.forced_acao)
                .and_then(|c| c.constant_acao.as_ref())
                .and_then(|v| v.to_str().ok().map(str::to_owned)),
            preflight_status: c.map_or(204, |c| c.preflight_status.as_u16()),
            preflight_passthrough: c.is_some_and(|c| c.passthrough),
            on_reject: c.map_or(OnReject::Omit, |c| c.on_reject),
            mode: c.map_or(Mode::Enforce, |c| c.mode),
            upstream: r.upstream.clone(),
            csrf: r.csrf.as_ref().map(crate::csrf::CsrfRule::summary),
        }
    }
}

/// Makes an error diagnostic for loader failures (I/O, unknown extension).
pub(crate) fn load_error(
    path: &str,
    code: Code,
    message: String,
    hint: Option<String>,
) -> ConfigErrors {
    ConfigErrors::single(Diagnostic {
        severity: Severity::Error,
        code,
        message,
        hint,
        location: Location::new(
            SourceKind::Text {
                name: path.to_owned(),
            },
            "",
        ),
    })
}
