//! The raw (unvalidated) configuration model: every value remembers where it came from.

use crate::diagnostic::Location;

/// A value with its location.
#[derive(Debug, Clone)]
pub(crate) struct V<T> {
    pub value: T,
    pub loc: Location,
}

impl<T> V<T> {
    pub(crate) fn new(value: T, loc: Location) -> Self {
        V { value, loc }
    }
}

/// One `allow_origins` entry as written.
#[derive(Debug, Clone)]
pub(crate) enum RawOrigin {
    /// A plain string: `*`, `null`, an origin or a wildcard pattern.
    Text(String),
    /// `{regex: '^…$'}`.
    Regex(String),
}

/// What happens to refused requests.
///
/// ```
/// use corsguard::OnReject;
/// assert_eq!(OnReject::default(), OnReject::Omit);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum OnReject {
    /// Refused requests get no CORS headers; actual requests still reach the app.
    #[default]
    Omit,
    /// Refused preflights and actual requests are answered `403` without CORS headers, and
    /// the app is not called.
    Forbid,
}

/// Whether decisions are enforced.
///
/// ```
/// use corsguard::Mode;
/// assert_eq!(Mode::default(), Mode::Enforce);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Mode {
    /// Decisions change responses.
    #[default]
    Enforce,
    /// Decisions are evaluated, traced and counted, but no response is changed.
    Shadow,
}

/// The option set shared by `defaults:` and each path rule. `None` = not set here.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawOptions {
    pub allow_origins: Option<V<Vec<V<RawOrigin>>>>,
    pub allow_methods: Option<V<Vec<V<String>>>>,
    pub allow_headers: Option<V<Vec<V<String>>>>,
    pub expose_headers: Option<V<Vec<V<String>>>>,
    pub allow_credentials: Option<V<bool>>,
    pub max_age: Option<V<i64>>,
    pub allow_private_network: Option<V<bool>>,
    pub allow_null_origin: Option<V<bool>>,
    pub skip_same_origin: Option<V<bool>>,
    pub forced_allow_origin: Option<V<String>>,
    pub preflight_status: Option<V<i64>>,
    pub preflight_passthrough: Option<V<bool>>,
    pub on_reject: Option<V<OnReject>>,
    pub mode: Option<V<Mode>>,
    pub allow_insecure_origins_with_credentials: Option<V<bool>>,
    pub allow_public_suffix_wildcards_with_credentials: Option<V<bool>>,
    /// `csrf.mode`.
    pub csrf_mode: Option<V<crate::csrf::CsrfMode>>,
    /// `csrf.trusted_origins` (same syntax as `allow_origins`).
    pub csrf_trusted_origins: Option<V<Vec<V<RawOrigin>>>>,
    /// `csrf.allow_same_site`.
    pub csrf_allow_same_site: Option<V<bool>>,
}

macro_rules! overlay_fields {
    ($dst:ident, $src:ident; $($f:ident),*) => {
        $( if $src.$f.is_some() { $dst.$f = $src.$f.clone(); } )*
    };
}

impl RawOptions {
    /// `self` overridden field by field by `more_specific` (an explicit `false` or `[]` wins).
    pub(crate) fn overlay(&self, more_specific: &RawOptions) -> RawOptions {
        let mut out = self.clone();
        overlay_fields!(out, more_specific; allow_origins, allow_methods, allow_headers,
            expose_headers, allow_credentials, max_age, allow_private_network, allow_null_origin,
            skip_same_origin, forced_allow_origin, preflight_status, preflight_passthrough,
            on_reject, mode, allow_insecure_origins_with_credentials,
            allow_public_suffix_wildcards_with_credentials, csrf_mode, csrf_trusted_origins,
            csrf_allow_same_site);
        out
    }
}

/// How a path rule matches the request path.
#[derive(Debug, Clone)]
pub(crate) enum RawPathMatcher {
    Prefix(String),
    Glob(String),
    Regex(String),
    /// No matcher given: matches every path (useful with `hosts:`).
    All,
}

/// One entry of `paths:`.
#[derive(Debug, Clone)]
pub(crate) struct RawRule {
    pub matcher: V<RawPathMatcher>,
    pub hosts: Option<V<Vec<V<String>>>>,
    pub cors: Option<V<bool>>,
    pub upstream: Option<V<String>>,
    pub options: RawOptions,
}

/// A whole configuration as written.
#[derive(Debug, Clone, Default)]
pub(crate) struct RawConfig {
    pub defaults: RawOptions,
    pub paths: Vec<RawRule>,
    pub gateway: Option<crate::config::gateway::RawGateway>,
    /// Where the config came from (for diagnostics about missing values).
    pub source: Option<crate::diagnostic::SourceKind>,
}
