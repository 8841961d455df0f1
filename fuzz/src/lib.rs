//! Shared pieces of the fuzz targets: a policy built from a small pattern alphabet
//! ([`PolicySpec`]), a request head with arbitrary bytes ([`HeadSpec`]), and the checks on
//! loader diagnostics.
//!
//! Every collection taken from the fuzzer input is capped, so one input does bounded work.

use arbitrary::Arbitrary;
use corsguard::{
    ConfigErrors, Csrf, CsrfMode, Diagnostic, Format, Mode, OnReject, PathRule, Policy, SourceKind,
};

mod seeds;
pub use seeds::SEED_POLICIES;

/// Allow-list entries: exact, subdomain and port wildcards, IP literals, IDN, `*`, `null`,
/// and a few the loader must reject or warn about.
pub const ORIGINS: &[&str] = &[
    "*",
    "null",
    "https://app.example.com",
    "https://*.example.org",
    "http://localhost:*",
    "https://*.example.com:*",
    "http://127.0.0.1:8080",
    "https://[::1]",
    "http://[::1]:*",
    "https://bücher.example",
    "https://a.b.example.net:8443",
    "https://*.tenant.example.com",
    "https://APP.Example.com/",
    "https://*.com",
    "http://insecure.example",
    "app.example.com",
];
/// Methods (including a lower-case one and `*`).
pub const METHODS: &[&str] = &[
    "GET", "PUT", "DELETE", "PATCH", "POST", "PURGE", "*", "get", "OPTIONS",
];
/// Request headers (including `authorization` in both cases and `*`).
pub const HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "x-trace-id",
    "*",
    "x-api-key",
    "Authorization",
    "X-Trace-Id",
];
/// Exposed headers.
pub const EXPOSE: &[&str] = &["x-request-id", "*", "content-length", "x-total-count"];
/// `max_age` values (some out of range).
pub const MAX_AGES: &[i64] = &[-1, 0, 5, 600, 7200, 86_400, 100_000];
/// Origin regexes (anchored, and not).
pub const ORIGIN_REGEXES: &[&str] = &[
    r"^https://pr-[0-9]+\.preview\.example\.com$",
    r"^https://([a-z]+\.)?example\.net$",
    r"https://unanchored\.example",
];
/// Host patterns for path rules.
pub const HOSTS: &[&str] = &["api.example.com", "*.tenant.example.com", "localhost:8080"];
/// Paths and path patterns.
pub const PATHS: &[&str] = &[
    "/",
    "/v1/",
    "/v1/items",
    "/public/",
    "/v2/reports/x/y",
    "/api/42",
    "/health",
    "//v1/",
];
/// Request origins (allowed by some policy, refused by others, malformed).
pub const REQUEST_ORIGINS: &[&str] = &[
    "https://app.example.com",
    "https://evil.example",
    "https://a.example.org",
    "https://example.org",
    "http://localhost:3000",
    "http://localhost",
    "null",
    "https://APP.example.com",
    "https://api.example.com",
    "http://127.0.0.1:8080",
    "https://x.tenant.example.com",
    "https://pr-12.preview.example.com",
    "https://[::1]",
    "https://app.example.com:443",
    "https://app.example.com.",
    "https://xn--bcher-kva.example",
];

/// Picks from an alphabet by index (wrapping).
pub fn pick<'a>(alphabet: &[&'a str], i: u8) -> &'a str {
    alphabet[usize::from(i) % alphabet.len()]
}

/// Options for one rule (or `defaults`), as indices into the alphabets.
#[derive(Debug, Arbitrary)]
pub struct OptionsSpec {
    origins: Option<Vec<u8>>,
    origin_regex: Option<u8>,
    methods: Option<Vec<u8>>,
    headers: Option<Vec<u8>>,
    expose: Option<Vec<u8>>,
    credentials: Option<bool>,
    max_age: Option<u8>,
    private_network: Option<bool>,
    null_origin: Option<bool>,
    skip_same_origin: Option<bool>,
    preflight_status: Option<bool>,
    preflight_passthrough: Option<bool>,
    forbid: Option<bool>,
    shadow: Option<bool>,
    insecure_credentials: Option<bool>,
    public_suffix_credentials: Option<bool>,
    csrf: Option<CsrfSpec>,
}

/// `csrf:` options: mode (off / enforce / report), `trusted_origins` from [`ORIGINS`],
/// `allow_same_site`.
#[derive(Debug, Arbitrary)]
pub struct CsrfSpec {
    mode: Option<u8>,
    trusted: Option<Vec<u8>>,
    same_site: Option<bool>,
}

impl CsrfSpec {
    fn csrf(&self) -> Csrf {
        let mut c = match self.mode.map(|m| m % 3) {
            Some(0) => Csrf::off(),
            Some(1) => Csrf::enforce(),
            Some(_) => Csrf::report(),
            None => Csrf::mode(CsrfMode::Enforce),
        };
        for o in take(ORIGINS, self.trusted.as_deref().unwrap_or_default(), 4) {
            c = c.trusted_origin(o);
        }
        if let Some(x) = self.same_site {
            c = c.allow_same_site(x);
        }
        c
    }
}

/// A path rule: matcher, hosts, `cors: false`, options.
#[derive(Debug, Arbitrary)]
pub struct RuleSpec {
    matcher: u8,
    pattern: u8,
    hosts: Option<Vec<u8>>,
    cors_off: bool,
    options: OptionsSpec,
}

/// A policy: a seed policy (YAML), or a built one from the alphabets.
#[derive(Debug, Arbitrary)]
pub enum PolicySpec {
    /// One of [`SEED_POLICIES`].
    Seed(u8),
    /// `defaults` plus up to 4 path rules, through [`Policy::builder`].
    Built {
        /// `defaults:`.
        defaults: OptionsSpec,
        /// `paths:`.
        rules: Vec<RuleSpec>,
    },
}

fn take<'a>(alphabet: &[&'a str], idx: &[u8], cap: usize) -> Vec<&'a str> {
    idx.iter().take(cap).map(|&i| pick(alphabet, i)).collect()
}

macro_rules! apply_options {
    ($b:expr, $o:expr) => {{
        let mut b = $b;
        let o: &OptionsSpec = $o;
        if let Some(v) = &o.origins {
            b = b.allow_origins(take(ORIGINS, v, 6));
        }
        if let Some(r) = o.origin_regex {
            b = b.allow_origin_regex(pick(ORIGIN_REGEXES, r));
        }
        if let Some(v) = &o.methods {
            b = b.allow_methods(take(METHODS, v, 6));
        }
        if let Some(v) = &o.headers {
            b = b.allow_headers(take(HEADERS, v, 6));
        }
        if let Some(v) = &o.expose {
            b = b.expose_headers(take(EXPOSE, v, 4));
        }
        if let Some(c) = o.credentials {
            b = b.allow_credentials(c);
        }
        if let Some(m) = o.max_age {
            b = b.max_age(MAX_AGES[usize::from(m) % MAX_AGES.len()]);
        }
        if let Some(x) = o.private_network {
            b = b.allow_private_network(x);
        }
        if let Some(x) = o.null_origin {
            b = b.allow_null_origin(x);
        }
        if let Some(x) = o.skip_same_origin {
            b = b.skip_same_origin(x);
        }
        if let Some(x) = o.preflight_status {
            b = b.preflight_status(if x { 200 } else { 204 });
        }
        if let Some(x) = o.preflight_passthrough {
            b = b.preflight_passthrough(x);
        }
        if let Some(x) = o.forbid {
            b = b.on_reject(if x { OnReject::Forbid } else { OnReject::Omit });
        }
        if let Some(x) = o.shadow {
            b = b.mode(if x { Mode::Shadow } else { Mode::Enforce });
        }
        if let Some(x) = o.insecure_credentials {
            b = b.allow_insecure_origins_with_credentials(x);
        }
        if let Some(x) = o.public_suffix_credentials {
            b = b.allow_public_suffix_wildcards_with_credentials(x);
        }
        if let Some(c) = &o.csrf {
            b = b.csrf(c.csrf());
        }
        b
    }};
}

const PATH_PREFIXES: &[&str] = &["/v1/", "/public/", "/health", "/", "/api"];
const PATH_GLOBS: &[&str] = &["/v*/reports/**", "/**", "/public/*.js", "/*/x"];
const PATH_REGEXES: &[&str] = &[r"^/api/[0-9]+$", r"^/v[12]/", r"/unanchored"];

impl PolicySpec {
    /// Loads or builds the policy (`Err` when the spec is invalid: that is fine).
    pub fn policy(&self) -> Result<Policy, ConfigErrors> {
        match self {
            PolicySpec::Seed(i) => {
                let (_, text) = SEED_POLICIES[usize::from(*i) % SEED_POLICIES.len()];
                Policy::load().text(text, "seed.yaml", Format::Yaml).build()
            }
            PolicySpec::Built { defaults, rules } => {
                let mut b = apply_options!(Policy::builder(), defaults);
                for r in rules.iter().take(4) {
                    let mut rule = match r.matcher % 4 {
                        0 => PathRule::prefix(pick(PATH_PREFIXES, r.pattern)),
                        1 => PathRule::glob(pick(PATH_GLOBS, r.pattern)),
                        2 => PathRule::regex(pick(PATH_REGEXES, r.pattern)),
                        _ => PathRule::any_path(),
                    };
                    if let Some(h) = &r.hosts {
                        rule = rule.hosts(take(HOSTS, h, 3));
                    }
                    if r.cors_off {
                        rule = rule.cors(false);
                    }
                    b = b.path(apply_options!(rule, &r.options));
                }
                b.build()
            }
        }
    }
}

/// A header value: from an alphabet, or arbitrary bytes.
#[derive(Debug, Arbitrary)]
pub enum Bytes {
    /// Index into the target's alphabet.
    Known(u8),
    /// Anything.
    Raw(Vec<u8>),
}

impl Bytes {
    /// The value's bytes.
    pub fn bytes<'a>(&'a self, alphabet: &[&'static str]) -> &'a [u8] {
        match self {
            Bytes::Known(i) => pick(alphabet, *i).as_bytes(),
            Bytes::Raw(v) => v,
        }
    }
}

/// A request head: method, path, Host, and repeated CORS request header lines.
#[derive(Debug, Arbitrary)]
pub struct HeadSpec {
    /// Method: known or arbitrary.
    pub method: Bytes,
    /// Path: known or arbitrary.
    pub path: Bytes,
    /// `Host`.
    pub host: Option<Bytes>,
    /// `https` (true) or `http` (false) or unknown.
    pub scheme: Option<bool>,
    /// `Origin` lines.
    pub origins: Vec<Bytes>,
    /// `Access-Control-Request-Method` lines.
    pub acrm: Vec<Bytes>,
    /// `Access-Control-Request-Headers` lines.
    pub acrh: Vec<Bytes>,
    /// `Access-Control-Request-Private-Network` lines.
    pub acrpn: Vec<Bytes>,
    /// `Sec-Fetch-Site` lines.
    pub sec_fetch_site: Vec<Bytes>,
    /// Push valid values through `push_header` (`HeaderValue`) instead of bytes.
    pub typed: bool,
}

/// Methods a request may use.
pub const REQUEST_METHODS: &[&str] = &[
    "GET", "OPTIONS", "PUT", "POST", "get", "options", "PURGE", "HEAD", "post", "DELETE",
];
/// `Sec-Fetch-Site` values (the four tokens, a wrong case, an unknown one, empty).
pub const SEC_FETCH_SITES: &[&str] = &[
    "same-origin",
    "same-site",
    "cross-site",
    "none",
    "Same-Origin",
    "cross-origin",
    "",
];
/// Request hosts.
pub const REQUEST_HOSTS: &[&str] = &[
    "api.example.com",
    "x.tenant.example.com",
    "localhost:8080",
    "app.example.com",
    "API.example.com:443",
];
/// Request header lists.
pub const REQUEST_HEADER_LISTS: &[&str] = &[
    "content-type",
    "authorization",
    "x-trace-id,content-type",
    "Authorization, X-Trace-Id",
    "x-api-key",
    ",,",
    "",
    "authorization,x-trace-id",
];
/// ACRPN values.
pub const PNA_VALUES: &[&str] = &["true", " true ", "false", "TRUE"];

/// Lossy text of bytes (methods, paths and hosts are `&str` in the API).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Checks that every diagnostic of a failed (or warned) load is located: its span, when
/// present, lies inside the text it points into (the file, or the named variable's value) and
/// has a 1-based line and column; without one, it names a configuration path.
pub fn check_located(
    diagnostics: &[Diagnostic],
    text_len: usize,
    env: Option<&[(String, String)]>,
) {
    for d in diagnostics {
        assert!(
            !d.code.as_str().is_empty(),
            "diagnostic without a code: {d:?}"
        );
        assert!(!d.message.is_empty(), "diagnostic without a message: {d:?}");
        let len = match &d.location.source {
            // A variable that is set: spans point into its value. An unset one is where the
            // fix goes (`origins-missing` names CORS_ALLOWED_ORIGINS): no span, a path.
            SourceKind::Env { var } => {
                let set = env.unwrap_or(&[]).iter().filter(|(n, _)| n == var);
                match set.map(|(_, v)| v.len()).max() {
                    Some(l) => l,
                    None => {
                        assert!(
                            d.location.span.is_none() && !d.location.path.is_empty(),
                            "an unset variable's diagnostic without a path: {d:?}"
                        );
                        0
                    }
                }
            }
            _ => text_len,
        };
        match &d.location.span {
            Some(s) => {
                assert!(
                    s.start <= s.end && s.end <= len,
                    "span out of its text ({len} bytes): {d:?}"
                );
                assert!(s.line >= 1 && s.column >= 1, "0-based position: {d:?}");
            }
            None => assert!(
                !d.location.path.is_empty() || matches!(d.location.source, SourceKind::Env { .. }),
                "diagnostic without a location: {d:?}"
            ),
        }
    }
}

/// Loads `text` as `format`, checks the diagnostics, renders the errors (Display), and on
/// success runs a few requests through the policy.
pub fn load_and_check(text: &str, format: Format, env: Option<&[(String, String)]>) {
    match match env {
        Some(vars) => Policy::load().env_vars(vars.to_vec()),
        None => Policy::load(),
    }
    .text(text, "fuzz", format)
    .build()
    {
        Ok(p) => {
            check_located(p.warnings(), text.len(), env);
            exercise(&p);
        }
        Err(e) => {
            assert!(
                e.errors().next().is_some(),
                "a failed load without an error: {e:?}"
            );
            check_located(e.diagnostics(), text.len(), env);
            let _ = e.to_string();
        }
    }
}

/// A few fixed requests through a loaded policy (no panics; cheap).
pub fn exercise(p: &Policy) {
    let _ = p.summaries();
    for (method, origin, acrm) in [
        ("GET", Some("https://app.example.com"), None),
        ("OPTIONS", Some("https://app.example.com"), Some("PUT")),
        ("OPTIONS", Some("null"), Some("GET")),
        ("GET", None, None),
    ] {
        let mut head = corsguard::adapter::RequestHead::new(method, "/v1/items");
        if let Some(o) = origin {
            head.push_header_bytes("origin", o.as_bytes());
        }
        if let Some(m) = acrm {
            head.push_header_bytes("access-control-request-method", m.as_bytes());
        }
        let d = p.decide(&head);
        let _ = d.response_parts();
    }
}

/// Runs an importer on `text`: never panics; a converted document renders the same YAML
/// twice, and that YAML loads exactly when `convert` said it does.
pub fn check_import(from: corsguard_cli::import::Source, text: &str) {
    let Ok((doc, result)) = corsguard_cli::import::convert(from, text, "fuzz") else {
        return;
    };
    let yaml = doc.render();
    assert_eq!(yaml, doc.render(), "render is not deterministic");
    let again = Policy::load().text(&yaml, "<import>", Format::Yaml).build();
    assert_eq!(
        again.is_ok(),
        result.is_ok(),
        "convert's verdict differs from loading its output:\n{yaml}"
    );
    let Ok(p) = &again else {
        return;
    };
    exercise(p);
    // What the document says is what the YAML means (no text from the source file can
    // escape its quotes or comments and change the policy).
    let summaries = p.summaries();
    assert_eq!(
        summaries.len(),
        doc.paths.len() + 1,
        "rule count differs:\n{yaml}"
    );
    let rules = doc
        .paths
        .iter()
        .map(|r| (&r.options, Some(r)))
        .chain(std::iter::once((&doc.defaults, None)));
    for ((o, r), s) in rules.zip(&summaries) {
        if let Some(r) = r {
            assert_eq!(s.cors, !r.cors_off, "{}: cors differs:\n{yaml}", s.name);
            assert_eq!(
                s.hosts.len(),
                r.hosts.len(),
                "{}: hosts differ:\n{yaml}",
                s.name
            );
            if r.cors_off {
                continue;
            }
        }
        if let Some(c) = o.allow_credentials {
            assert_eq!(
                s.allow_credentials, c,
                "{}: credentials differ:\n{yaml}",
                s.name
            );
        }
        if let Some(m) = o.max_age {
            assert_eq!(
                s.max_age.map(i64::from),
                Some(m),
                "{}: max_age differs:\n{yaml}",
                s.name
            );
        }
        if let Some(l) = &o.allow_origins {
            assert!(
                s.allow_origins.len() <= l.len(),
                "{}: more origins than written:\n{yaml}",
                s.name
            );
        }
    }
}
