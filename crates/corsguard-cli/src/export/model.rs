//! The policy as the exporters see it: each rule's matcher, hosts and effective CORS options,
//! with the header values corsguard precomputes (`Access-Control-Allow-Methods` etc.), read
//! from the engine's typed view of the compiled policy (`corsguard::rules`), so that every
//! target renders the engine's bytes; this module adds only what the targets need on top
//! (regular expressions for their matchers, host nesting).

use corsguard::rules::{self, CorsView, RuleView};
use corsguard::{Mode, OnReject, Policy};

/// How a rule matches the request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    /// Every path (a rule with only `hosts:`).
    All,
    /// Segment-aware prefix: `/api` matches `/api` and `/api/x`, not `/apix`; a prefix ending
    /// in `/` matches anything below it.
    Prefix(String),
    /// A glob (`*` within a segment, `**` across segments, `?` one character), with the
    /// engine's own translation to a regular expression.
    Glob {
        /// As written.
        glob: String,
        /// The anchored regular expression the engine runs.
        regex: String,
    },
    /// A regular expression searched in the path (Rust `regex` syntax).
    Regex(String),
}

impl PathMatch {
    fn of(m: rules::PathMatch<'_>) -> Result<PathMatch, String> {
        Ok(match m {
            rules::PathMatch::All => PathMatch::All,
            rules::PathMatch::Prefix(p) => PathMatch::Prefix(p.to_owned()),
            rules::PathMatch::Glob { glob, regex } => PathMatch::Glob {
                glob: glob.to_owned(),
                regex: regex.to_owned(),
            },
            rules::PathMatch::Regex(r) => PathMatch::Regex(r.to_owned()),
            other => return Err(format!("unknown path matcher {other:?}")),
        })
    }

    /// The path matcher as one anchored regular expression over the path (PCRE/RE2/Rust
    /// compatible): what corsguard's matcher accepts.
    pub fn to_regex(&self) -> String {
        match self {
            PathMatch::All => "^".into(),
            PathMatch::Prefix(p) if p.ends_with('/') => format!("^{}", escape_regex(p)),
            PathMatch::Prefix(p) => format!("^{}(?:/|$)", escape_regex(p)),
            PathMatch::Glob { regex, .. } => regex.clone(),
            PathMatch::Regex(r) => r.clone(),
        }
    }

    /// How the rule is written in the policy.
    pub fn describe(&self) -> String {
        match self {
            PathMatch::All => "every path".into(),
            PathMatch::Prefix(p) => format!("path: {p}"),
            PathMatch::Glob { glob, .. } => format!("glob: {glob}"),
            PathMatch::Regex(r) => format!("regex: {r}"),
        }
    }
}

/// Escapes regex metacharacters (the set shared by PCRE, RE2 and Rust `regex`).
pub fn escape_regex(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A `hosts:` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// Exactly this host (lower case).
    Exact(String),
    /// `*.base`: any subdomain of `base`, never `base` itself.
    Subdomains(String),
}

impl HostPattern {
    fn of(h: rules::HostMatch<'_>) -> Result<HostPattern, String> {
        match h {
            rules::HostMatch::Exact(e) => Ok(HostPattern::Exact(e.to_ascii_lowercase())),
            rules::HostMatch::Subdomains(b) => Ok(HostPattern::Subdomains(b.to_ascii_lowercase())),
            other => Err(format!("unknown host pattern {other:?}")),
        }
    }

    /// As written: `api.example.com` or `*.example.com`.
    pub fn text(&self) -> String {
        match self {
            HostPattern::Exact(h) => h.clone(),
            HostPattern::Subdomains(b) => format!("*.{b}"),
        }
    }

    /// An anchored regular expression over the `Host` header (PCRE and RE2 compatible; apply
    /// it case-insensitively) accepting what corsguard's host matcher accepts: the host with
    /// an optional trailing dot and any port.
    pub fn to_regex(&self) -> String {
        let port = "\\.?(?::[^:]*)?$";
        match self {
            HostPattern::Exact(h) => format!("^{}{port}", escape_regex(h)),
            HostPattern::Subdomains(b) => format!("^.+\\.{}{port}", escape_regex(b)),
        }
    }

    /// Whether every host this pattern matches is also matched by `other`.
    pub fn within(&self, other: &HostPattern) -> bool {
        let under = |name: &str, base: &str| {
            name.len() > base.len() + 1
                && name.ends_with(base)
                && name.as_bytes().get(name.len() - base.len() - 1) == Some(&b'.')
        };
        match (self, other) {
            (HostPattern::Exact(a), HostPattern::Exact(b)) => a == b,
            (HostPattern::Exact(a), HostPattern::Subdomains(b)) => under(a, b),
            (HostPattern::Subdomains(_), HostPattern::Exact(_)) => false,
            (HostPattern::Subdomains(a), HostPattern::Subdomains(b)) => a == b || under(a, b),
        }
    }
}

/// The port part of a wildcard origin entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortPattern {
    /// No port (the scheme's default).
    Default,
    /// Exactly this port.
    Exact(String),
    /// `:*`: any valid port, or none.
    Any,
}

/// One `allow_origins` entry in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginEntry {
    /// One exact serialized origin.
    Exact(String),
    /// `scheme://[*.]host[:port|:*]`.
    Wildcard {
        /// Lower-case scheme.
        scheme: String,
        /// `true` for `*.host` (one or more labels before `host`).
        subdomains: bool,
        /// The host (or the base for subdomains).
        host: String,
        /// The port rule.
        port: PortPattern,
    },
    /// `{regex: …}` (anchored, Rust `regex` syntax).
    Regex(String),
}

impl OriginEntry {
    /// The exporters' form of an engine entry; `None` for `*` and `null` (kept as flags).
    fn of(e: rules::OriginEntry<'_>) -> Result<Option<OriginEntry>, String> {
        Ok(Some(match e {
            rules::OriginEntry::Any | rules::OriginEntry::Null => return Ok(None),
            rules::OriginEntry::Exact(s) => OriginEntry::Exact(s.to_owned()),
            rules::OriginEntry::Regex(r) => OriginEntry::Regex(r.to_owned()),
            rules::OriginEntry::Wildcard {
                scheme,
                subdomains,
                host,
                port,
            } => OriginEntry::Wildcard {
                scheme: scheme.to_owned(),
                subdomains,
                host: host.to_owned(),
                port: match port {
                    rules::PortMatch::Default => PortPattern::Default,
                    rules::PortMatch::Exact(n) => PortPattern::Exact(n.to_string()),
                    rules::PortMatch::Any => PortPattern::Any,
                    other => return Err(format!("unknown port pattern {other:?}")),
                },
            },
            other => return Err(format!("unknown origin entry {other:?}")),
        }))
    }

    fn all<'p>(
        entries: impl Iterator<Item = rules::OriginEntry<'p>>,
    ) -> Result<Vec<OriginEntry>, String> {
        let mut out = Vec::new();
        for e in entries {
            out.extend(OriginEntry::of(e)?);
        }
        Ok(out)
    }

    /// The canonical text (as `corsguard check` shows it).
    pub fn text(&self) -> String {
        match self {
            OriginEntry::Exact(s) => s.clone(),
            OriginEntry::Regex(r) => format!("{{regex: '{r}'}}"),
            OriginEntry::Wildcard {
                scheme,
                subdomains,
                host,
                port,
            } => {
                let star = if *subdomains { "*." } else { "" };
                let port = match port {
                    PortPattern::Default => String::new(),
                    PortPattern::Exact(p) => format!(":{p}"),
                    PortPattern::Any => ":*".into(),
                };
                format!("{scheme}://{star}{host}{port}")
            }
        }
    }

    /// An anchored regular expression accepting exactly the origins corsguard's matcher
    /// accepts for this entry (byte-exact, lower-case hosts, valid non-default ports). PCRE:
    /// excludes the scheme's default port with a lookahead.
    pub fn to_regex(&self) -> String {
        self.regex(true)
    }

    /// Like [`OriginEntry::to_regex`] without lookahead (RE2, for Envoy): `:*` also admits
    /// the scheme's default port spelled out, which browsers never send.
    pub fn to_re2(&self) -> String {
        self.regex(false)
    }

    fn regex(&self, lookahead: bool) -> String {
        match self {
            OriginEntry::Exact(s) => format!("^{}$", escape_regex(s)),
            OriginEntry::Regex(r) => r.clone(),
            OriginEntry::Wildcard {
                scheme,
                subdomains,
                host,
                port,
            } => {
                let labels = if *subdomains {
                    "(?:[a-z0-9_-]+\\.)+"
                } else {
                    ""
                };
                let port = match port {
                    PortPattern::Default => String::new(),
                    PortPattern::Exact(p) => format!(":{}", escape_regex(p)),
                    PortPattern::Any => {
                        let default = match scheme.as_str() {
                            "http" | "ws" => Some("80"),
                            "https" | "wss" => Some("443"),
                            "ftp" => Some("21"),
                            _ => None,
                        };
                        let not_default = default
                            .filter(|_| lookahead)
                            .map_or(String::new(), |d| format!("(?!{d}$)"));
                        format!("(?::{not_default}{PORT_1_65535})?")
                    }
                };
                format!(
                    "^{}://{labels}{}{port}$",
                    escape_regex(scheme),
                    escape_regex(host)
                )
            }
        }
    }
}

/// 1..=65535 without a leading zero.
const PORT_1_65535: &str =
    "(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])";

/// The CORS options of an enabled rule, plus the precomputed header values.
#[derive(Debug, Clone)]
pub struct CorsModel {
    /// Allow-list entries (without `*` and `null`).
    pub origins: Vec<OriginEntry>,
    /// `allow_origins: ['*']`.
    pub any_origin: bool,
    /// `allow_null_origin`.
    pub allow_null: bool,
    /// `allow_methods: ['*']`.
    pub methods_any: bool,
    /// Listed methods (case-sensitive).
    pub methods: Vec<String>,
    /// `allow_headers: ['*']`.
    pub headers_any: bool,
    /// Listed request headers (lower case).
    pub headers: Vec<String>,
    /// `authorization` is listed (it is never covered by `*`).
    pub authorization_listed: bool,
    /// `allow_credentials`.
    pub credentials: bool,
    /// `allow_private_network`.
    pub private_network: bool,
    /// `skip_same_origin`.
    pub skip_same_origin: bool,
    /// The preflight status (204 or 200).
    pub preflight_status: u16,
    /// `preflight.passthrough`.
    pub passthrough: bool,
    /// `on_reject`.
    pub on_reject: OnReject,
    /// `mode`.
    pub mode: Mode,
    /// A constant `Access-Control-Allow-Origin` (`*` for any origin without credentials, or
    /// `forced_allow_origin`).
    pub constant_acao: Option<String>,
    /// `Access-Control-Allow-Methods` as corsguard renders it (before reflection).
    pub acam: Option<String>,
    /// `Access-Control-Allow-Headers` as corsguard renders it (before reflection).
    pub acah: Option<String>,
    /// `Access-Control-Expose-Headers`.
    pub aceh: Option<String>,
    /// `Access-Control-Max-Age`.
    pub acma: Option<String>,
}

impl CorsModel {
    fn of(c: CorsView<'_>) -> Result<CorsModel, String> {
        let text = |v: Option<&http::HeaderValue>| {
            v.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        Ok(CorsModel {
            origins: OriginEntry::all(c.origins())?,
            any_origin: c.any_origin(),
            allow_null: c.allow_null_origin(),
            methods_any: c.any_method(),
            methods: c.methods().to_vec(),
            headers_any: c.any_header(),
            headers: c.headers().to_vec(),
            authorization_listed: c.authorization_listed(),
            credentials: c.credentials(),
            private_network: c.private_network(),
            skip_same_origin: c.skip_same_origin(),
            preflight_status: c.preflight_status(),
            passthrough: c.preflight_passthrough(),
            on_reject: c.on_reject(),
            mode: c.mode(),
            constant_acao: text(c.constant_allow_origin()),
            acam: text(c.allow_methods_value()),
            acah: text(c.allow_headers_value()),
            aceh: text(c.expose_headers_value()),
            acma: text(c.max_age_value()),
        })
    }

    /// `true` when `Access-Control-Allow-Origin` never depends on the request (no `Vary`).
    pub fn constant(&self) -> bool {
        self.constant_acao.is_some()
    }
}

/// The request facts a rule's answer depends on: every decision corsguard takes for an
/// enforced rule falls into one of these, and an exporter renders one answer per outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No `Origin`, or a same-origin request: not cross-origin CORS.
    None,
    /// An actual request from an allowed origin.
    Actual,
    /// An actual request from a refused origin.
    ActualRefused,
    /// A preflight that passes every check.
    Preflight,
    /// A preflight from an allowed origin refused for its method, headers or PNA.
    PreflightRefused,
    /// A preflight from a refused origin.
    PreflightOriginRefused,
}

impl Outcome {
    /// Every outcome, in a stable order.
    pub const ALL: [Outcome; 6] = [
        Outcome::None,
        Outcome::Actual,
        Outcome::ActualRefused,
        Outcome::Preflight,
        Outcome::PreflightRefused,
        Outcome::PreflightOriginRefused,
    ];

    /// A short kebab-case name for generated identifiers (`actual-refused`).
    pub fn name(self) -> &'static str {
        match self {
            Outcome::None => "none",
            Outcome::Actual => "actual",
            Outcome::ActualRefused => "actual-refused",
            Outcome::Preflight => "preflight",
            Outcome::PreflightRefused => "preflight-refused",
            Outcome::PreflightOriginRefused => "preflight-origin-refused",
        }
    }
}

/// Where a response header's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A constant.
    Const(String),
    /// The request's `Origin` (admitted, so one line).
    Origin,
    /// The requested method (`Access-Control-Request-Method`), when it is a single token;
    /// absent otherwise.
    RequestMethod,
    /// The requested header names, reflected (lower case, joined by `,`, Authorization
    /// only when listed); absent when nothing is left, and `*` without credentials when
    /// Authorization was not requested.
    RequestHeaders,
    /// `true` when the request carries `Access-Control-Request-Private-Network: true`;
    /// absent otherwise.
    PrivateNetworkRequested,
}

/// The CORS response headers corsguard owns, in the order [`Answer::headers`] gives them.
pub const CORS_HEADERS: [&str; 7] = [
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Max-Age",
    "Access-Control-Allow-Private-Network",
    "Access-Control-Expose-Headers",
];

/// The `Vary` tokens corsguard may add, in the order of [`Answer::vary`].
pub const VARY_TOKENS: [&str; 4] = [
    "Origin",
    "Access-Control-Request-Method",
    "Access-Control-Request-Headers",
    "Access-Control-Request-Private-Network",
];

/// What corsguard answers for one outcome of one rule (mirrors `decision.rs`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// `Access-Control-Allow-Origin`.
    pub acao: Option<Source>,
    /// `Access-Control-Allow-Credentials: true`.
    pub acac: bool,
    /// `Access-Control-Allow-Methods`.
    pub acam: Option<Source>,
    /// `Access-Control-Allow-Headers`.
    pub acah: Option<Source>,
    /// `Access-Control-Max-Age`.
    pub acma: Option<Source>,
    /// `Access-Control-Allow-Private-Network` ([`Source::PrivateNetworkRequested`]).
    pub acapn: Option<Source>,
    /// `Access-Control-Expose-Headers`.
    pub aceh: Option<Source>,
    /// Which of [`VARY_TOKENS`] the response needs (merged into the application's `Vary`).
    pub vary: [bool; 4],
    /// `Some(status)`: answered without the application; `None`: forwarded to it.
    pub status: Option<u16>,
}

impl Answer {
    /// The value of each of [`CORS_HEADERS`], in that order.
    pub fn headers(&self) -> [Option<Source>; 7] {
        [
            self.acao.clone(),
            self.acac.then(|| Source::Const("true".into())),
            self.acam.clone(),
            self.acah.clone(),
            self.acma.clone(),
            self.acapn.clone(),
            self.aceh.clone(),
        ]
    }

    /// The `Vary` tokens the response needs.
    pub fn vary_tokens(&self) -> Vec<&'static str> {
        VARY_TOKENS
            .iter()
            .zip(self.vary)
            .filter(|(_, on)| *on)
            .map(|(t, _)| *t)
            .collect()
    }
}

impl CorsModel {
    /// What corsguard answers for `o` (mirrors `decide_cors` and `refuse` in `decision.rs`).
    pub fn answer(&self, o: Outcome) -> Answer {
        let c = self;
        let forbid = c.on_reject == OnReject::Forbid;
        let base_vary = !c.constant();
        let origin_value = || match &c.constant_acao {
            Some(v) => Source::Const(v.clone()),
            None => Source::Origin,
        };
        let constant = |a: &mut Answer| {
            if let Some(v) = &c.constant_acao {
                a.acao = Some(Source::Const(v.clone()));
                a.acac = c.credentials;
                a.aceh = c.aceh.clone().map(Source::Const);
            }
        };
        let preflight_action = if c.passthrough {
            None
        } else {
            Some(c.preflight_status)
        };
        let mut a = Answer {
            vary: [base_vary, false, false, false],
            ..Answer::default()
        };
        match o {
            Outcome::None => constant(&mut a),
            Outcome::Actual => {
                a.acao = Some(origin_value());
                a.acac = c.credentials;
                a.aceh = c.aceh.clone().map(Source::Const);
            }
            Outcome::ActualRefused => {
                if forbid {
                    a.status = Some(403);
                } else {
                    constant(&mut a);
                }
            }
            Outcome::PreflightOriginRefused => {
                if forbid {
                    a.vary = [base_vary, true, true, false];
                    a.status = Some(403);
                } else {
                    constant(&mut a);
                    a.status = preflight_action;
                }
            }
            Outcome::Preflight | Outcome::PreflightRefused => {
                a.vary = [
                    base_vary,
                    forbid || (c.methods_any && c.credentials),
                    forbid || c.headers_any,
                    forbid || c.private_network,
                ];
                if forbid && o == Outcome::PreflightRefused {
                    a.status = Some(403);
                    return a;
                }
                a.status = preflight_action;
                a.acao = Some(origin_value());
                a.acac = c.credentials;
                a.acma = c.acma.clone().map(Source::Const);
                a.acam = if c.methods_any && c.credentials {
                    Some(Source::RequestMethod)
                } else {
                    c.acam.clone().map(Source::Const)
                };
                a.acah = if c.reflects_headers() {
                    Some(Source::RequestHeaders)
                } else {
                    c.acah.clone().map(Source::Const)
                };
                if c.private_network {
                    a.acapn = Some(Source::PrivateNetworkRequested);
                }
            }
        }
        a
    }

    /// `allow_headers: ['*']` reflects the request's headers with credentials, and without
    /// credentials when Authorization is requested but not listed.
    pub fn reflects_headers(&self) -> bool {
        self.headers_any && (self.credentials || !self.authorization_listed)
    }

    /// Whether the answer depends on the requested method (`on_reject: forbid` refuses on
    /// it; `allow_methods: ['*']` with credentials reflects it).
    pub fn needs_method_fact(&self) -> bool {
        self.on_reject == OnReject::Forbid || (self.methods_any && self.credentials)
    }

    /// Every outcome with its answer.
    pub fn answers(&self) -> Vec<(Outcome, Answer)> {
        Outcome::ALL.iter().map(|o| (*o, self.answer(*o))).collect()
    }
}

/// One rule (a `paths:` entry or the defaults).
#[derive(Debug, Clone)]
pub struct RuleModel {
    /// `paths[N]` or `defaults`.
    pub name: String,
    /// A short identifier for generated names: `p0`, `p1`, …, `d`.
    pub id: String,
    /// The path matcher (`All` for the defaults).
    pub path: PathMatch,
    /// `hosts:` (empty = any host).
    pub hosts: Vec<HostPattern>,
    /// The rule's `upstream`, if any.
    pub upstream: Option<String>,
    /// `None` for `cors: false`.
    pub cors: Option<CorsModel>,
    /// `None` for `csrf.mode: off`.
    pub csrf: Option<CsrfModel>,
}

impl RuleModel {
    /// The rule's own upstream: a path rule's `upstream`. `None` for the defaults, whose
    /// `upstream` is `gateway.upstream` ([`PolicyModel::gateway_upstream`]), the fallback
    /// after `--upstream`, not an upstream of their own.
    pub fn own_upstream(&self) -> Option<&str> {
        self.upstream.as_deref().filter(|_| self.name != "defaults")
    }

    /// The rule in one line, for the comments of an export: matcher, hosts and what it does
    /// (`path: /api on hosts *.example.com (CORS)`).
    pub fn summary(&self) -> String {
        let what = match &self.cors {
            None => "cors: false",
            Some(c) if c.mode == Mode::Shadow => "mode: shadow",
            Some(_) => "CORS",
        };
        let hosts = if self.hosts.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = self.hosts.iter().map(HostPattern::text).collect();
            format!(" on hosts {}", list.join(", "))
        };
        format!("{}{hosts} ({what})", self.path.describe())
    }
}

/// A rule's CSRF protection, for exports.
#[derive(Debug, Clone)]
pub struct CsrfModel {
    /// `true` for `enforce`, `false` for `report`.
    pub enforce: bool,
    /// `csrf.trusted_origins`.
    pub trusted: Vec<OriginEntry>,
    /// `csrf.allow_same_site`.
    pub allow_same_site: bool,
}

/// Every rule of a policy in evaluation order, the defaults last.
#[derive(Debug, Clone)]
pub struct PolicyModel {
    /// Path rules, then the defaults.
    pub rules: Vec<RuleModel>,
    /// `gateway.upstream`.
    pub gateway_upstream: Option<String>,
    /// Whether a `gateway:` section exists.
    pub has_gateway: bool,
}

impl PolicyModel {
    /// Reads the model out of a compiled policy.
    pub fn of(policy: &Policy) -> Result<PolicyModel, String> {
        let rules = policy
            .rules()
            .map(RuleModel::of)
            .collect::<Result<Vec<_>, String>>()?;
        Ok(PolicyModel {
            rules,
            gateway_upstream: policy.gateway().and_then(|g| g.upstream.clone()),
            has_gateway: policy.gateway().is_some(),
        })
    }
}

impl RuleModel {
    fn of(r: RuleView<'_>) -> Result<RuleModel, String> {
        let at = |e: String| format!("{}: {e}", r.name());
        Ok(RuleModel {
            name: r.name().to_owned(),
            id: r
                .index()
                .map_or_else(|| "d".to_owned(), |i| format!("p{i}")),
            path: PathMatch::of(r.path()).map_err(at)?,
            hosts: r
                .hosts()
                .map(HostPattern::of)
                .collect::<Result<_, _>>()
                .map_err(at)?,
            // The defaults' `upstream` is `gateway.upstream`, the fallback after `--upstream`,
            // not an upstream of their own.
            upstream: r.index().and(r.upstream()).map(str::to_owned),
            cors: r.cors().map(CorsModel::of).transpose().map_err(at)?,
            csrf: r
                .csrf()
                .map(|c| {
                    Ok::<_, String>(CsrfModel {
                        enforce: c.enforce(),
                        trusted: OriginEntry::all(c.trusted_origins())?,
                        allow_same_site: c.allow_same_site(),
                    })
                })
                .transpose()
                .map_err(at)?,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn model(yaml: &str) -> PolicyModel {
        PolicyModel::of(&Policy::from_yaml_str(yaml).unwrap()).unwrap()
    }

    fn origin(entry: &str) -> OriginEntry {
        let m = model(&format!("defaults: {{allow_origins: ['{entry}']}}"));
        m.rules[0].cors.as_ref().unwrap().origins[0].clone()
    }

    #[test]
    fn origin_entries_become_anchored_regexes() {
        let re = |s: &str| regex::Regex::new(&origin(s).to_regex()).unwrap();
        let sub = re("https://*.example.org");
        assert!(sub.is_match("https://a.b.example.org"));
        assert!(!sub.is_match("https://example.org"));
        assert!(!sub.is_match("https://a.example.org.evil.net"));
        assert!(!sub.is_match("https://A.example.org"));
        let port = origin("http://localhost:*").to_regex();
        // Lookahead is PCRE-only; the Rust side checks the rest.
        let port = regex::Regex::new(&port.replace("(?!80$)", "")).unwrap();
        assert!(port.is_match("http://localhost"));
        assert!(port.is_match("http://localhost:3000"));
        assert!(!port.is_match("http://localhost:03000"));
        assert!(!port.is_match("http://localhost:65536"));
        let exact = re("https://app.example.com");
        assert!(exact.is_match("https://app.example.com"));
        assert!(!exact.is_match("https://appxexample.com"));
    }

    #[test]
    fn path_matchers_become_regexes() {
        let re = |p: PathMatch| regex::Regex::new(&p.to_regex()).unwrap();
        let seg = re(PathMatch::Prefix("/internal".into()));
        assert!(seg.is_match("/internal") && seg.is_match("/internal/x"));
        assert!(!seg.is_match("/internalx"));
        let m = model("paths: [{glob: '/v*/items/**', allow_origins: ['https://a.example']}]");
        let glob = re(m.rules[0].path.clone());
        assert!(glob.is_match("/v2/items/a/b"));
        assert!(!glob.is_match("/v2/x/items/a"));
    }

    #[test]
    fn the_model_carries_the_engines_header_values() {
        let m = model(
            "defaults: {allow_origins: ['https://a.example'], allow_methods: [PUT, GET], allow_headers: [X-B, x-a], expose_headers: [x-id], max_age: 60}",
        );
        let c = m.rules[0].cors.as_ref().unwrap();
        assert_eq!(c.acam.as_deref(), Some("PUT,GET"));
        assert_eq!(c.acah.as_deref(), Some("x-a,x-b"));
        assert_eq!(c.aceh.as_deref(), Some("x-id"));
        assert_eq!(c.acma.as_deref(), Some("60"));
        assert_eq!(c.constant_acao, None);
        let any = model("defaults: {allow_origins: ['*']}");
        assert_eq!(
            any.rules[0].cors.as_ref().unwrap().constant_acao.as_deref(),
            Some("*")
        );
    }

    #[test]
    fn host_patterns_nest() {
        let e = HostPattern::Exact("a.tenant.test".into());
        let w = HostPattern::Subdomains("tenant.test".into());
        assert!(e.within(&w) && !w.within(&e));
        assert!(HostPattern::Subdomains("x.tenant.test".into()).within(&w));
        assert!(!HostPattern::Exact("tenant.test".into()).within(&w));
    }
}
