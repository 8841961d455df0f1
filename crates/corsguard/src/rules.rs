//! A typed, read-only view of the compiled policy, for the tools that carry it elsewhere
//! (exports to edge engines, `check`, admin pages): every rule in evaluation order with its
//! path and host matchers, its origin patterns as data, and the header values the engine
//! precomputed — so nothing outside the engine parses a summary string or re-derives what the
//! engine compiled.
//!
//! ```
//! use corsguard::rules::{OriginEntry, PathMatch};
//! let p = corsguard::Policy::from_yaml_str(
//!     "defaults: {allow_origins: ['https://*.example.com']}\npaths:\n  - {path: /api/, allow_methods: [GET, PUT]}\n",
//! )?;
//! let rules: Vec<_> = p.rules().collect();
//! assert_eq!(rules[0].path(), PathMatch::Prefix("/api/"));
//! let cors = rules[0].cors().unwrap();
//! assert_eq!(cors.allow_methods_value().unwrap(), "GET,PUT");
//! assert!(matches!(cors.origins().next(), Some(OriginEntry::Wildcard { subdomains: true, host: "example.com", .. })));
//! assert_eq!(rules[1].name(), "defaults");
//! # Ok::<(), corsguard::ConfigErrors>(())
//! ```

use http::HeaderValue;

use crate::config::raw::{Mode, OnReject};
use crate::csrf::CsrfRule;
use crate::origin::{HostPattern, OriginPattern, PortPattern};
use crate::policy::{CorsRule, HostMatcher, PathMatcher, Policy, Rule};

impl Policy {
    /// The rules in evaluation order: the `paths:` entries, then the defaults (which match
    /// every request no path rule matched).
    ///
    /// ```
    /// let p = corsguard::Policy::from_yaml_str("defaults: {allow_origins: ['https://a.example']}")?;
    /// assert_eq!(p.rules().count(), 1);
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn rules(&self) -> impl ExactSizeIterator<Item = RuleView<'_>> + '_ {
        self.inner
            .rules
            .iter()
            .chain(std::iter::once(&self.inner.defaults))
            .map(|rule| RuleView { rule })
            .collect::<Vec<_>>()
            .into_iter()
    }
}

/// One rule of a compiled policy (see [`Policy::rules`]).
#[derive(Debug, Clone, Copy)]
pub struct RuleView<'p> {
    rule: &'p Rule,
}

impl<'p> RuleView<'p> {
    /// `defaults` or `paths[N]`, as diagnostics and traces name it.
    ///
    /// ```
    /// let p = corsguard::Policy::from_yaml_str("defaults: {allow_origins: ['https://a.example']}")?;
    /// assert_eq!(p.rules().next().unwrap().name(), "defaults");
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn name(&self) -> &'p str {
        &self.rule.name
    }

    /// `Some(N)` for `paths[N]`, `None` for the defaults.
    ///
    /// ```
    /// let p = corsguard::Policy::from_yaml_str("defaults: {allow_origins: ['https://a.example']}")?;
    /// assert_eq!(p.rules().next().unwrap().index(), None);
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn index(&self) -> Option<usize> {
        self.rule.index
    }

    /// How the rule matches the request path.
    ///
    /// ```
    /// use corsguard::rules::PathMatch;
    /// let p = corsguard::Policy::from_yaml_str("paths: [{glob: '/v*/items/**', allow_origins: ['https://a.example']}]")?;
    /// let r = p.rules().next().unwrap();
    /// assert_eq!(r.path(), PathMatch::Glob { glob: "/v*/items/**", regex: "^/v[^/]*/items/.*$" });
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn path(&self) -> PathMatch<'p> {
        match &self.rule.matcher {
            PathMatcher::All => PathMatch::All,
            PathMatcher::Prefix(p) => PathMatch::Prefix(p),
            PathMatcher::Glob(g, r) => PathMatch::Glob {
                glob: g,
                regex: r.as_str(),
            },
            PathMatcher::Regex(r) => PathMatch::Regex(r.as_str()),
        }
    }

    /// The `hosts:` entries (empty: any host).
    ///
    /// ```
    /// use corsguard::rules::HostMatch;
    /// let p = corsguard::Policy::from_yaml_str("paths: [{hosts: ['*.tenant.example'], allow_origins: ['https://a.example']}]")?;
    /// let r = p.rules().next().unwrap();
    /// assert_eq!(r.hosts().collect::<Vec<_>>(), [HostMatch::Subdomains("tenant.example")]);
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn hosts(&self) -> impl ExactSizeIterator<Item = HostMatch<'p>> + 'p {
        self.rule.hosts.iter().map(|h| match h {
            HostMatcher::Exact(e) => HostMatch::Exact(e),
            HostMatcher::Subdomains(b) => HostMatch::Subdomains(b),
        })
    }

    /// The rule's own `upstream` (gateway), if any.
    ///
    /// ```
    /// let p = corsguard::Policy::from_yaml_str("defaults: {allow_origins: ['https://a.example']}")?;
    /// assert_eq!(p.rules().next().unwrap().upstream(), None);
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn upstream(&self) -> Option<&'p str> {
        self.rule.upstream.as_deref()
    }

    /// The CORS options, `None` for `cors: false`.
    ///
    /// ```
    /// let p = corsguard::Policy::from_yaml_str("paths: [{path: /raw/, cors: false}]\ndefaults: {allow_origins: ['https://a.example']}")?;
    /// assert!(p.rules().next().unwrap().cors().is_none());
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn cors(&self) -> Option<CorsView<'p>> {
        self.rule.cors.as_ref().map(|rule| CorsView { rule })
    }

    /// The CSRF protection, `None` when `csrf.mode` is `off`.
    ///
    /// ```
    /// let p = corsguard::Policy::from_yaml_str("defaults: {allow_origins: ['https://a.example'], csrf: {mode: report}}")?;
    /// assert!(!p.rules().next().unwrap().csrf().unwrap().enforce());
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn csrf(&self) -> Option<CsrfView<'p>> {
        self.rule.csrf.as_ref().map(|rule| CsrfView { rule })
    }
}

/// How a rule matches the request path ([`RuleView::path`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathMatch<'p> {
    /// Every path (the defaults, or a rule with only `hosts:`).
    All,
    /// Segment-aware prefix: `/api` matches `/api` and `/api/x`, not `/apix`; a prefix ending
    /// in `/` matches everything below it.
    Prefix(&'p str),
    /// A glob and the anchored regular expression (Rust `regex` syntax) the engine runs for it.
    Glob {
        /// As written (`*` within a segment, `**` across segments, `?` one character).
        glob: &'p str,
        /// The engine's translation.
        regex: &'p str,
    },
    /// A regular expression searched in the path (Rust `regex` syntax, as written).
    Regex(&'p str),
}

/// A `hosts:` entry ([`RuleView::hosts`]); hosts compare ASCII case-insensitively, without
/// the port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostMatch<'p> {
    /// Exactly this host (lower case).
    Exact(&'p str),
    /// `*.base`: one or more labels before `base`, never `base` itself.
    Subdomains(&'p str),
}

/// One `allow_origins` (or `csrf.trusted_origins`) entry as compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OriginEntry<'p> {
    /// `*`.
    Any,
    /// `null` (only matched with `allow_null_origin`).
    Null,
    /// One serialized origin in canonical form (`https://app.example.com`), compared
    /// byte for byte.
    Exact(&'p str),
    /// `scheme://[*.]host[:port|:*]`.
    Wildcard {
        /// Lower-case scheme.
        scheme: &'p str,
        /// `true` for `*.host`: one or more labels before `host`.
        subdomains: bool,
        /// The host, or the base of the subdomains (lower case, punycode, or an IP literal).
        host: &'p str,
        /// The port rule.
        port: PortMatch,
    },
    /// `{regex: …}`: an anchored regular expression (Rust `regex` syntax).
    Regex(&'p str),
}

impl<'p> OriginEntry<'p> {
    fn of(p: &'p OriginPattern) -> OriginEntry<'p> {
        match p {
            OriginPattern::Any => OriginEntry::Any,
            OriginPattern::Null => OriginEntry::Null,
            OriginPattern::Exact(s) => OriginEntry::Exact(s),
            OriginPattern::Wildcard { scheme, host, port } => {
                let (subdomains, host) = match host {
                    HostPattern::Exact(h) => (false, h.as_str()),
                    HostPattern::Subdomains(b) => (true, b.as_str()),
                };
                OriginEntry::Wildcard {
                    scheme,
                    subdomains,
                    host,
                    port: match port {
                        PortPattern::Default => PortMatch::Default,
                        PortPattern::Exact(n) => PortMatch::Exact(*n),
                        PortPattern::Any => PortMatch::Any,
                    },
                }
            }
            OriginPattern::Regex(r) => OriginEntry::Regex(r.as_str()),
        }
    }
}

/// The port part of an [`OriginEntry::Wildcard`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PortMatch {
    /// No port (the scheme's default).
    Default,
    /// Exactly this (non-default) port.
    Exact(u16),
    /// `:*`: any valid port, or none.
    Any,
}

/// The CORS options of a rule ([`RuleView::cors`]) and the header values the engine sends.
#[derive(Debug, Clone, Copy)]
pub struct CorsView<'p> {
    rule: &'p CorsRule,
}

impl<'p> CorsView<'p> {
    /// The allow-list as compiled (`*` and `null` included, as [`OriginEntry::Any`] /
    /// [`OriginEntry::Null`]).
    ///
    /// ```
    /// use corsguard::rules::{OriginEntry, PortMatch};
    /// let p = corsguard::Policy::from_yaml_str("defaults: {allow_origins: ['https://a.example', 'https://*.b.example:*']}")?;
    /// let c = p.rules().next().unwrap().cors().unwrap();
    /// assert_eq!(c.origins().collect::<Vec<_>>(), [
    ///     OriginEntry::Exact("https://a.example"),
    ///     OriginEntry::Wildcard { scheme: "https", subdomains: true, host: "b.example", port: PortMatch::Any },
    /// ]);
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn origins(&self) -> impl ExactSizeIterator<Item = OriginEntry<'p>> + 'p {
        self.rule.origins.iter().map(OriginEntry::of)
    }

    /// `allow_origins` contains `*`.
    pub fn any_origin(&self) -> bool {
        self.rule.any_origin
    }

    /// `allow_null_origin`.
    pub fn allow_null_origin(&self) -> bool {
        self.rule.allow_null
    }

    /// `allow_methods` contains `*`.
    pub fn any_method(&self) -> bool {
        self.rule.methods_any
    }

    /// The listed methods (case-sensitive, as written; `*` not included).
    pub fn methods(&self) -> &'p [String] {
        &self.rule.methods
    }

    /// `allow_headers` contains `*`.
    pub fn any_header(&self) -> bool {
        self.rule.headers_any
    }

    /// The listed request headers (lower case; `*` not included).
    pub fn headers(&self) -> &'p [String] {
        self.rule.headers.names()
    }

    /// `authorization` is listed (`*` never covers it).
    pub fn authorization_listed(&self) -> bool {
        self.rule.authorization_listed
    }

    /// `expose_headers`, as written.
    pub fn expose_headers(&self) -> &'p [String] {
        &self.rule.expose
    }

    /// `allow_credentials`.
    pub fn credentials(&self) -> bool {
        self.rule.credentials
    }

    /// `max_age` in seconds.
    pub fn max_age(&self) -> Option<u32> {
        self.rule.max_age
    }

    /// `allow_private_network`.
    pub fn private_network(&self) -> bool {
        self.rule.private_network
    }

    /// `skip_same_origin`.
    pub fn skip_same_origin(&self) -> bool {
        self.rule.skip_same_origin
    }

    /// The status of answered preflights (204 or 200).
    pub fn preflight_status(&self) -> u16 {
        self.rule.preflight_status.as_u16()
    }

    /// `preflight.passthrough`: preflights go to the application.
    pub fn preflight_passthrough(&self) -> bool {
        self.rule.passthrough
    }

    /// `on_reject`.
    pub fn on_reject(&self) -> OnReject {
        self.rule.on_reject
    }

    /// `mode` (enforce or shadow).
    pub fn mode(&self) -> Mode {
        self.rule.mode
    }

    /// A constant `Access-Control-Allow-Origin` the rule sends whatever the origin (`*` for
    /// `allow_origins: ['*']` without credentials, or `forced_allow_origin`); `None` when
    /// the value reflects the request's origin.
    ///
    /// ```
    /// let p = corsguard::Policy::from_yaml_str("defaults: {allow_origins: ['*']}")?;
    /// assert_eq!(p.rules().next().unwrap().cors().unwrap().constant_allow_origin().unwrap(), "*");
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn constant_allow_origin(&self) -> Option<&'p HeaderValue> {
        self.rule.constant_acao.as_ref()
    }

    /// `true` when the constant value is `forced_allow_origin` (not `*`).
    pub fn forced_allow_origin(&self) -> bool {
        self.rule.forced_acao
    }

    /// `Access-Control-Allow-Methods` of an allowed preflight, when it does not reflect the
    /// request (`*` methods with credentials reflect: `None`).
    pub fn allow_methods_value(&self) -> Option<&'p HeaderValue> {
        self.rule.acam.as_ref()
    }

    /// `Access-Control-Allow-Headers` of an allowed preflight, before reflection (`None`
    /// when nothing is listed, or `*` with credentials, which reflects).
    pub fn allow_headers_value(&self) -> Option<&'p HeaderValue> {
        self.rule.acah.as_ref()
    }

    /// `Access-Control-Expose-Headers` of allowed actual responses.
    pub fn expose_headers_value(&self) -> Option<&'p HeaderValue> {
        self.rule.aceh.as_ref()
    }

    /// `Access-Control-Max-Age` of allowed preflights.
    pub fn max_age_value(&self) -> Option<&'p HeaderValue> {
        self.rule.acma.as_ref()
    }
}

/// A rule's CSRF protection ([`RuleView::csrf`]).
#[derive(Debug, Clone, Copy)]
pub struct CsrfView<'p> {
    rule: &'p CsrfRule,
}

impl<'p> CsrfView<'p> {
    /// `true` for `enforce` (403), `false` for `report`.
    pub fn enforce(&self) -> bool {
        self.rule.enforce
    }

    /// `csrf.trusted_origins` as compiled (never `*` or `null`: the policy refuses those).
    ///
    /// ```
    /// use corsguard::rules::OriginEntry;
    /// let p = corsguard::Policy::from_yaml_str(
    ///     "defaults: {allow_origins: ['https://a.example'], csrf: {mode: enforce, trusted_origins: ['https://pay.example']}}",
    /// )?;
    /// let c = p.rules().next().unwrap().csrf().unwrap();
    /// assert_eq!(c.trusted_origins().collect::<Vec<_>>(), [OriginEntry::Exact("https://pay.example")]);
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn trusted_origins(&self) -> impl ExactSizeIterator<Item = OriginEntry<'p>> + 'p {
        self.rule.trusted_patterns.iter().map(OriginEntry::of)
    }

    /// `csrf.allow_same_site`.
    pub fn allow_same_site(&self) -> bool {
        self.rule.allow_same_site
    }
}
