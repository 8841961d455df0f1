//! The policy as the exporters see it: each rule's matcher, hosts and effective CORS options,
//! with the header values corsguard precomputes (`Access-Control-Allow-Methods` etc.) rebuilt
//! the way the engine builds them, so that every target renders the same bytes.

use corsguard::{Mode, OnReject, Policy, RuleSummary};

/// How a rule matches the request path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathMatch {
    /// Every path (a rule with only `hosts:`).
    All,
    /// Segment-aware prefix: `/api` matches `/api` and `/api/x`, not `/apix`; a prefix ending
    /// in `/` matches anything below it.
    Prefix(String),
    /// A glob (`*` within a segment, `**` across segments, `?` one character).
    Glob(String),
    /// A regular expression searched in the path (Rust `regex` syntax).
    Regex(String),
}

impl PathMatch {
    fn parse(described: &str) -> Option<PathMatch> {
        if described == "every path" {
            Some(PathMatch::All)
        } else if let Some(p) = described.strip_prefix("path prefix ") {
            Some(PathMatch::Prefix(p.to_owned()))
        } else if let Some(g) = described.strip_prefix("glob ") {
            Some(PathMatch::Glob(g.to_owned()))
        } else {
            described
                .strip_prefix("regex ")
                .map(|r| PathMatch::Regex(r.to_owned()))
        }
    }

    /// The path matcher as one anchored regular expression over the path (PCRE/RE2/Rust
    /// compatible): what corsguard's matcher accepts.
    pub fn to_regex(&self) -> String {
        match self {
            PathMatch::All => "^".into(),
            PathMatch::Prefix(p) if p.ends_with('/') => format!("^{}", escape_regex(p)),
            PathMatch::Prefix(p) => format!("^{}(?:/|$)", escape_regex(p)),
            PathMatch::Glob(g) => glob_regex(g),
            PathMatch::Regex(r) => r.clone(),
        }
    }

    /// How the rule is written in the policy.
    pub fn describe(&self) -> String {
        match self {
            PathMatch::All => "every path".into(),
            PathMatch::Prefix(p) => format!("path: {p}"),
            PathMatch::Glob(g) => format!("glob: {g}"),
            PathMatch::Regex(r) => format!("regex: {r}"),
        }
    }
}

/// The engine's glob translation (`validate.rs`), reproduced with a portable escape.
fn glob_regex(g: &str) -> String {
    let mut re = String::from("^");
    let mut chars = g.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                re.push_str(".*");
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            c => re.push_str(&escape_regex(&c.to_string())),
        }
    }
    re.push('$');
    re
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
    fn parse(s: &str) -> HostPattern {
        match s.strip_prefix("*.") {
            Some(b) => HostPattern::Subdomains(b.to_ascii_lowercase()),
            None => HostPattern::Exact(s.to_ascii_lowercase()),
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
    fn parse(canonical: &str) -> OriginEntry {
        if let Some(r) = canonical.strip_prefix("regex ") {
            return OriginEntry::Regex(r.to_owned());
        }
        if !canonical.contains('*') {
            return OriginEntry::Exact(canonical.to_owned());
        }
        let (scheme, rest) = canonical.split_once("://").unwrap_or(("", canonical));
        let (host, port) = split_host_port(rest);
        let (subdomains, host) = match host.strip_prefix("*.") {
            Some(b) => (true, b),
            None => (false, host),
        };
        let port = match port {
            None => PortPattern::Default,
            Some("*") => PortPattern::Any,
            Some(p) => PortPattern::Exact(p.to_owned()),
        };
        OriginEntry::Wildcard {
            scheme: scheme.to_owned(),
            subdomains,
            host: host.to_owned(),
            port,
        }
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

fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if s.starts_with('[') {
        match s.find(']') {
            Some(i) => {
                let (h, rest) = s.split_at(i + 1);
                (h, rest.strip_prefix(':'))
            }
            None => (s, None),
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    }
}

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
    fn of(s: &RuleSummary) -> CorsModel {
        let any_origin = s.allow_origins.iter().any(|o| o == "*");
        let origins: Vec<OriginEntry> = s
            .allow_origins
            .iter()
            .filter(|o| *o != "*" && *o != "null")
            .map(|o| OriginEntry::parse(o))
            .collect();
        let methods_any = s.allow_methods.iter().any(|m| m == "*");
        let methods: Vec<String> = s
            .allow_methods
            .iter()
            .filter(|m| *m != "*")
            .cloned()
            .collect();
        let headers_any = s.allow_headers.iter().any(|h| h == "*");
        let headers: Vec<String> = s
            .allow_headers
            .iter()
            .filter(|h| *h != "*")
            .map(|h| h.to_ascii_lowercase())
            .collect();
        let authorization_listed = headers.iter().any(|h| h == "authorization");
        let credentials = s.allow_credentials;
        let constant_acao = s
            .forced_allow_origin
            .clone()
            .or_else(|| (any_origin && !credentials).then(|| "*".to_owned()));
        let acam = if methods_any {
            (!credentials).then(|| "*".to_owned())
        } else if methods.is_empty() {
            None
        } else {
            Some(methods.join(","))
        };
        let acah = if headers_any {
            if credentials {
                None
            } else if authorization_listed {
                Some("*,authorization".to_owned())
            } else {
                Some("*".to_owned())
            }
        } else if headers.is_empty() {
            None
        } else {
            let mut sorted = headers.clone();
            sorted.sort();
            Some(sorted.join(","))
        };
        let aceh = (!s.expose_headers.is_empty()).then(|| s.expose_headers.join(","));
        CorsModel {
            origins,
            any_origin,
            allow_null: s.allow_null_origin,
            methods_any,
            methods,
            headers_any,
            headers,
            authorization_listed,
            credentials,
            private_network: s.allow_private_network,
            skip_same_origin: s.skip_same_origin,
            preflight_status: s.preflight_status,
            passthrough: s.preflight_passthrough,
            on_reject: s.on_reject,
            mode: s.mode,
            constant_acao,
            acam,
            acah,
            aceh,
            acma: s.max_age.map(|m| m.to_string()),
        }
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
        let summaries = policy.summaries();
        let mut rules = Vec::with_capacity(summaries.len());
        for (i, s) in summaries.iter().enumerate() {
            let is_defaults = s.name == "defaults";
            let path = PathMatch::parse(&s.matcher)
                .ok_or_else(|| format!("{}: unknown matcher `{}`", s.name, s.matcher))?;
            rules.push(RuleModel {
                name: s.name.clone(),
                id: if is_defaults {
                    "d".into()
                } else {
                    format!("p{i}")
                },
                path,
                hosts: s.hosts.iter().map(|h| HostPattern::parse(h)).collect(),
                upstream: s.upstream.clone(),
                cors: s.cors.then(|| CorsModel::of(s)),
                csrf: s.csrf.as_ref().map(|c| CsrfModel {
                    enforce: c.mode == corsguard::CsrfMode::Enforce,
                    trusted: c
                        .trusted_origins
                        .iter()
                        .map(|o| OriginEntry::parse(o))
                        .collect(),
                    allow_same_site: c.allow_same_site,
                }),
            });
        }
        Ok(PolicyModel {
            rules,
            gateway_upstream: policy.gateway().and_then(|g| g.upstream.clone()),
            has_gateway: policy.gateway().is_some(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn origin_entries_become_anchored_regexes() {
        let re = |s: &str| regex::Regex::new(&OriginEntry::parse(s).to_regex()).unwrap();
        let sub = re("https://*.example.org");
        assert!(sub.is_match("https://a.b.example.org"));
        assert!(!sub.is_match("https://example.org"));
        assert!(!sub.is_match("https://a.example.org.evil.net"));
        assert!(!sub.is_match("https://A.example.org"));
        let port = OriginEntry::parse("http://localhost:*").to_regex();
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
        let glob = re(PathMatch::Glob("/v*/items/**".into()));
        assert!(glob.is_match("/v2/items/a/b"));
        assert!(!glob.is_match("/v2/x/items/a"));
    }

    #[test]
    fn host_patterns_nest() {
        let e = HostPattern::parse("a.tenant.test");
        let w = HostPattern::parse("*.tenant.test");
        assert!(e.within(&w) && !w.within(&e));
        assert!(HostPattern::parse("*.x.tenant.test").within(&w));
        assert!(!HostPattern::parse("tenant.test").within(&w));
    }
}
