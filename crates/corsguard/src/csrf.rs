//! Cross-origin request forgery protection from the same policy: Go 1.25's
//! `CrossOriginProtection` algorithm (`Sec-Fetch-Site`, then `Origin` against the request's
//! authority), extended with the rule's own allow-list and `csrf.trusted_origins`.
//!
//! CORS decides what a cross-origin page may *read*; this decides whether a cross-origin page
//! may *send* a state-changing request at all (a form `POST`, a `fetch` in `no-cors` mode).

use std::fmt;

use crate::Code;
use crate::config::raw::{RawOptions, RawOrigin};
use crate::origin::{self, OriginMatcher, OriginPattern};
use crate::policy::CorsRule;
use crate::validate::Diags;

/// Whether a rule checks requests for cross-origin forgery (`csrf.mode`).
///
/// ```
/// assert_eq!(corsguard::CsrfMode::default(), corsguard::CsrfMode::Off);
/// assert_eq!(corsguard::CsrfMode::Report.as_str(), "report");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum CsrfMode {
    /// No check (the default).
    #[default]
    Off,
    /// Refused requests are answered `403`; the application is never called.
    Enforce,
    /// Refused requests are logged and counted, and reach the application unchanged.
    Report,
}

impl CsrfMode {
    /// Parses the configuration spelling.
    pub(crate) fn parse(s: &str) -> Option<CsrfMode> {
        match s {
            "off" => Some(CsrfMode::Off),
            "enforce" => Some(CsrfMode::Enforce),
            "report" => Some(CsrfMode::Report),
            _ => None,
        }
    }

    /// The configuration spelling (`off`, `enforce`, `report`).
    ///
    /// ```
    /// assert_eq!(corsguard::CsrfMode::Enforce.as_str(), "enforce");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            CsrfMode::Off => "off",
            CsrfMode::Enforce => "enforce",
            CsrfMode::Report => "report",
        }
    }
}

/// The `csrf:` options of a rule, for [`crate::PolicyBuilder::csrf`] and
/// [`crate::PathRule::csrf`]. Fields left unset are inherited from `defaults`, as in a file.
///
/// ```
/// let p = corsguard::Policy::builder()
///     .allow_origin("https://app.example.com")
///     .csrf(corsguard::Csrf::enforce().trusted_origin("https://sso.example.com"))
///     .path(corsguard::PathRule::prefix("/webhooks/").csrf(corsguard::Csrf::off()))
///     .build()?;
/// assert_eq!(p.rule_names(), ["paths[0]", "defaults"]);
/// # Ok::<(), corsguard::ConfigErrors>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Csrf {
    pub(crate) mode: Option<CsrfMode>,
    pub(crate) trusted_origins: Option<Vec<String>>,
    pub(crate) allow_same_site: Option<bool>,
}

impl Csrf {
    /// `mode: enforce`.
    ///
    /// ```
    /// let _ = corsguard::Csrf::enforce();
    /// ```
    pub fn enforce() -> Csrf {
        Csrf::mode(CsrfMode::Enforce)
    }

    /// `mode: report`.
    ///
    /// ```
    /// let _ = corsguard::Csrf::report();
    /// ```
    pub fn report() -> Csrf {
        Csrf::mode(CsrfMode::Report)
    }

    /// `mode: off` (a bypass rule).
    ///
    /// ```
    /// let _ = corsguard::Csrf::off();
    /// ```
    pub fn off() -> Csrf {
        Csrf::mode(CsrfMode::Off)
    }

    /// Only the mode set; everything else inherited.
    ///
    /// ```
    /// let _ = corsguard::Csrf::mode(corsguard::CsrfMode::Report);
    /// ```
    pub fn mode(mode: CsrfMode) -> Csrf {
        Csrf {
            mode: Some(mode),
            ..Csrf::default()
        }
    }

    /// Adds a `trusted_origins` entry (same syntax as `allow_origins`; never `*` or `null`).
    /// Trusted origins may send unsafe requests; they get no CORS read access.
    ///
    /// ```
    /// let _ = corsguard::Csrf::enforce().trusted_origin("https://*.partner.example");
    /// ```
    pub fn trusted_origin(mut self, origin: impl Into<String>) -> Csrf {
        self.trusted_origins
            .get_or_insert_with(Vec::new)
            .push(origin.into());
        self
    }

    /// `allow_same_site`: `Sec-Fetch-Site: same-site` passes (sibling subdomains).
    ///
    /// ```
    /// let _ = corsguard::Csrf::enforce().allow_same_site(true);
    /// ```
    pub fn allow_same_site(mut self, yes: bool) -> Csrf {
        self.allow_same_site = Some(yes);
        self
    }
}

/// Why a request passed the CSRF check.
///
/// ```
/// assert_eq!(corsguard::CsrfPass::SafeMethod.to_string(), "GET, HEAD and OPTIONS are never checked");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CsrfPass {
    /// `GET`, `HEAD` or `OPTIONS`.
    SafeMethod,
    /// `Sec-Fetch-Site: same-origin`.
    SameOrigin,
    /// `Sec-Fetch-Site: none` (typed in the address bar, a bookmark).
    UserInitiated,
    /// `Origin` is listed in the rule's `allow_origins` (not through `*`).
    AllowedOrigin,
    /// `Origin` is listed in `csrf.trusted_origins`.
    TrustedOrigin,
    /// `Sec-Fetch-Site: same-site` with `allow_same_site: true`.
    SameSite,
    /// Neither `Sec-Fetch-Site` nor `Origin`: not a browser's cross-origin request.
    NoBrowserHeaders,
    /// No `Sec-Fetch-Site` (an older browser) and `Origin` names the request's own host.
    OriginMatchesHost,
}

impl fmt::Display for CsrfPass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CsrfPass::SafeMethod => "GET, HEAD and OPTIONS are never checked",
            CsrfPass::SameOrigin => "Sec-Fetch-Site: same-origin",
            CsrfPass::UserInitiated => "Sec-Fetch-Site: none (the user started it)",
            CsrfPass::AllowedOrigin => "the Origin is listed in allow_origins",
            CsrfPass::TrustedOrigin => "the Origin is listed in csrf.trusted_origins",
            CsrfPass::SameSite => "Sec-Fetch-Site: same-site, and allow_same_site is on",
            CsrfPass::NoBrowserHeaders => {
                "no Sec-Fetch-Site and no Origin: not a cross-origin browser request"
            }
            CsrfPass::OriginMatchesHost => {
                "no Sec-Fetch-Site, and the Origin names the request's own host"
            }
        })
    }
}

/// Why a request failed the CSRF check.
///
/// ```
/// assert_eq!(corsguard::CsrfRefusal::CrossSite.code(), "csrf-cross-site");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CsrfRefusal {
    /// `Sec-Fetch-Site: cross-site` from an untrusted origin.
    CrossSite,
    /// `Sec-Fetch-Site: same-site` without `allow_same_site`.
    SameSite,
    /// A `Sec-Fetch-Site` value browsers do not send.
    UnknownSecFetchSite,
    /// Several `Sec-Fetch-Site` lines.
    MultipleSecFetchSite,
    /// Several `Origin` lines.
    MultipleOrigins,
    /// No `Sec-Fetch-Site` (an older browser) and an `Origin` that is not the request's own
    /// host, `null`, or not `http`/`https`.
    UntrustedOrigin,
}

impl CsrfRefusal {
    /// A stable code for logs, metrics and error bodies.
    ///
    /// ```
    /// assert_eq!(corsguard::CsrfRefusal::UntrustedOrigin.code(), "csrf-untrusted-origin");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            CsrfRefusal::CrossSite => "csrf-cross-site",
            CsrfRefusal::SameSite => "csrf-same-site",
            CsrfRefusal::UnknownSecFetchSite => "csrf-unknown-sec-fetch-site",
            CsrfRefusal::MultipleSecFetchSite => "csrf-multiple-sec-fetch-site",
            CsrfRefusal::MultipleOrigins => "csrf-multiple-origins",
            CsrfRefusal::UntrustedOrigin => "csrf-untrusted-origin",
        }
    }

    /// The fix to suggest.
    ///
    /// ```
    /// assert!(corsguard::CsrfRefusal::SameSite.fix().contains("allow_same_site"));
    /// ```
    pub fn fix(self) -> &'static str {
        match self {
            CsrfRefusal::CrossSite | CsrfRefusal::UntrustedOrigin => {
                "if this page is yours, list its origin in allow_origins (or csrf.trusted_origins to let it send without reading); for a server-to-server endpoint, add a rule with `csrf: {mode: off}`"
            }
            CsrfRefusal::SameSite => {
                "set `csrf: {allow_same_site: true}` to trust every page of this site, or list the page's origin in csrf.trusted_origins"
            }
            CsrfRefusal::UnknownSecFetchSite
            | CsrfRefusal::MultipleSecFetchSite
            | CsrfRefusal::MultipleOrigins => {
                "browsers never send this; a proxy or client is rewriting the request headers"
            }
        }
    }

    /// Every refusal, for exports that render one answer per reason.
    ///
    /// ```
    /// assert_eq!(corsguard::CsrfRefusal::ALL.len(), 6);
    /// ```
    pub const ALL: [CsrfRefusal; 6] = [
        CsrfRefusal::CrossSite,
        CsrfRefusal::SameSite,
        CsrfRefusal::UnknownSecFetchSite,
        CsrfRefusal::MultipleSecFetchSite,
        CsrfRefusal::MultipleOrigins,
        CsrfRefusal::UntrustedOrigin,
    ];

    /// The text body of the `403` an enforced refusal answers (`text/plain`).
    ///
    /// ```
    /// assert!(corsguard::CsrfRefusal::CrossSite.body().contains("csrf-cross-site"));
    /// ```
    pub fn body(self) -> &'static str {
        match self {
            CsrfRefusal::CrossSite => {
                "403 Forbidden: cross-origin request refused (csrf-cross-site): a page of another site sent this unsafe request, and its origin is not trusted.\nFix: list the page's origin in allow_origins or csrf.trusted_origins, or give a server-to-server endpoint a rule with `csrf: {mode: off}`.\n"
            }
            CsrfRefusal::SameSite => {
                "403 Forbidden: cross-origin request refused (csrf-same-site): a page of a sibling subdomain sent this unsafe request, and same-site pages are not trusted.\nFix: set `csrf: {allow_same_site: true}`, or list the page's origin in csrf.trusted_origins.\n"
            }
            CsrfRefusal::UnknownSecFetchSite => {
                "403 Forbidden: cross-origin request refused (csrf-unknown-sec-fetch-site): the Sec-Fetch-Site value is not one browsers send.\n"
            }
            CsrfRefusal::MultipleSecFetchSite => {
                "403 Forbidden: cross-origin request refused (csrf-multiple-sec-fetch-site): several Sec-Fetch-Site lines.\n"
            }
            CsrfRefusal::MultipleOrigins => {
                "403 Forbidden: cross-origin request refused (csrf-multiple-origins): several Origin lines.\n"
            }
            CsrfRefusal::UntrustedOrigin => {
                "403 Forbidden: cross-origin request refused (csrf-untrusted-origin): the Origin is neither this host nor a trusted origin.\nFix: list the page's origin in allow_origins or csrf.trusted_origins, or give a server-to-server endpoint a rule with `csrf: {mode: off}`.\n"
            }
        }
    }
}

impl fmt::Display for CsrfRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CsrfRefusal::CrossSite => "Sec-Fetch-Site: cross-site, and the Origin is not trusted",
            CsrfRefusal::SameSite => {
                "Sec-Fetch-Site: same-site, the Origin is not trusted and allow_same_site is off"
            }
            CsrfRefusal::UnknownSecFetchSite => "a Sec-Fetch-Site value browsers never send",
            CsrfRefusal::MultipleSecFetchSite => "several Sec-Fetch-Site lines",
            CsrfRefusal::MultipleOrigins => "several Origin lines",
            CsrfRefusal::UntrustedOrigin => {
                "no Sec-Fetch-Site, and the Origin is neither the request's host nor trusted"
            }
        })
    }
}

/// The CSRF outcome of a request ([`crate::adapter::Decision::csrf`]).
///
/// ```
/// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
/// let d = p.decide(&corsguard::adapter::RequestHead::new("POST", "/"));
/// assert_eq!(d.csrf(), corsguard::CsrfVerdict::NotChecked);
/// # Ok::<(), corsguard::ConfigErrors>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum CsrfVerdict {
    /// The rule's `csrf.mode` is `off`.
    NotChecked,
    /// Checked and passed.
    Passed(CsrfPass),
    /// Checked and refused (answered `403` in `enforce` mode; only reported in `report`).
    Refused {
        /// Why.
        refusal: CsrfRefusal,
        /// `true` in `enforce` mode.
        enforced: bool,
    },
}

impl CsrfVerdict {
    /// The refusal, in either mode.
    ///
    /// ```
    /// assert_eq!(corsguard::CsrfVerdict::NotChecked.refusal(), None);
    /// ```
    pub fn refusal(self) -> Option<CsrfRefusal> {
        match self {
            CsrfVerdict::Refused { refusal, .. } => Some(refusal),
            _ => None,
        }
    }
}

/// `GET`, `HEAD` and `OPTIONS` (case-sensitive): the methods the CSRF check never refuses,
/// so adapters need not read `Sec-Fetch-Site` for them.
///
/// ```
/// assert!(corsguard::csrf_safe_method("GET") && !corsguard::csrf_safe_method("get"));
/// ```
pub fn csrf_safe_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS")
}

/// A rule's compiled `csrf:` options (present when the mode is `enforce` or `report`).
#[derive(Debug)]
pub(crate) struct CsrfRule {
    pub(crate) enforce: bool,
    pub(crate) trusted: OriginMatcher,
    /// The `trusted_origins` entries as compiled (summaries, [`crate::rules::CsrfView`]).
    pub(crate) trusted_patterns: Vec<OriginPattern>,
    pub(crate) allow_same_site: bool,
}

/// A rule's CSRF settings as compiled ([`crate::RuleSummary::csrf`]).
///
/// ```
/// let p = corsguard::Policy::from_yaml_str(
///     "defaults: {allow_origins: ['https://a.example'], csrf: {mode: report, trusted_origins: ['https://b.example']}}",
/// )?;
/// let s = p.summaries().pop().unwrap().csrf.unwrap();
/// assert_eq!(s.mode, corsguard::CsrfMode::Report);
/// assert_eq!(s.trusted_origins, ["https://b.example"]);
/// # Ok::<(), corsguard::ConfigErrors>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct CsrfSummary {
    /// `enforce` or `report` (a rule with `off` has no summary).
    pub mode: CsrfMode,
    /// Canonical `trusted_origins` entries.
    pub trusted_origins: Vec<String>,
    /// `allow_same_site`.
    pub allow_same_site: bool,
}

impl CsrfRule {
    pub(crate) fn summary(&self) -> CsrfSummary {
        CsrfSummary {
            mode: if self.enforce {
                CsrfMode::Enforce
            } else {
                CsrfMode::Report
            },
            trusted_origins: self
                .trusted_patterns
                .iter()
                .map(OriginPattern::canonical)
                .collect(),
            allow_same_site: self.allow_same_site,
        }
    }
}

/// What the check reads from the request.
pub(crate) struct CsrfInput<'a> {
    pub(crate) method: &'a str,
    pub(crate) sec_fetch_site: Option<&'a [u8]>,
    pub(crate) sec_fetch_site_lines: u8,
    pub(crate) origin: Option<&'a [u8]>,
    pub(crate) origin_lines: u8,
    /// The request's authority: an absolute-form target's, else the `Host` header.
    pub(crate) host: Option<&'a str>,
}

/// Go 1.25's algorithm with the policy's allow-list (the issue's steps 1–6).
pub(crate) fn check(c: &CsrfRule, cors: Option<&CorsRule>, req: &CsrfInput<'_>) -> CsrfVerdict {
    let refuse = |refusal| CsrfVerdict::Refused {
        refusal,
        enforced: c.enforce,
    };
    // 1. Safe methods (case-sensitive: `get` and `TRACE` are checked).
    if csrf_safe_method(req.method) {
        return CsrfVerdict::Passed(CsrfPass::SafeMethod);
    }
    if req.sec_fetch_site_lines > 1 {
        return refuse(CsrfRefusal::MultipleSecFetchSite);
    }
    if req.origin_lines > 1 {
        return refuse(CsrfRefusal::MultipleOrigins);
    }
    // Empty values count as absent.
    let site = req.sec_fetch_site.filter(|v| !v.is_empty());
    let origin = req.origin.filter(|v| !v.is_empty());
    // 2. The browser says it is us (values compared exactly: browsers send lower case).
    match site {
        Some(b"same-origin") => return CsrfVerdict::Passed(CsrfPass::SameOrigin),
        Some(b"none") => return CsrfVerdict::Passed(CsrfPass::UserInitiated),
        _ => {}
    }
    // 3. An origin the policy trusts: listed explicitly (never through `*`, never `null`).
    if let Some(o) = origin
        && o != b"null"
        && o.len() <= origin::MAX_ORIGIN_LEN
    {
        if cors.is_some_and(|r| r.matcher.find(o).is_some()) {
            return CsrfVerdict::Passed(CsrfPass::AllowedOrigin);
        }
        if c.trusted.find(o).is_some() {
            return CsrfVerdict::Passed(CsrfPass::TrustedOrigin);
        }
    }
    match site {
        // 4.
        Some(b"same-site") if c.allow_same_site => CsrfVerdict::Passed(CsrfPass::SameSite),
        // 5.
        Some(b"same-site") => refuse(CsrfRefusal::SameSite),
        Some(b"cross-site") => refuse(CsrfRefusal::CrossSite),
        Some(_) => refuse(CsrfRefusal::UnknownSecFetchSite),
        // 6. An older browser: Origin against the request's own authority, exactly.
        None => match origin {
            None => CsrfVerdict::Passed(CsrfPass::NoBrowserHeaders),
            Some(o) => {
                let authority = o
                    .strip_prefix(b"https://")
                    .or_else(|| o.strip_prefix(b"http://"));
                if authority.is_some_and(|a| req.host.is_some_and(|h| h.as_bytes() == a)) {
                    CsrfVerdict::Passed(CsrfPass::OriginMatchesHost)
                } else {
                    refuse(CsrfRefusal::UntrustedOrigin)
                }
            }
        },
    }
}

/// Compiles a rule's merged `csrf:` options; `None` when the mode is `off`.
pub(crate) fn compile(
    o: &RawOptions,
    cors: Option<&CorsRule>,
    rule: &str,
    d: &mut Diags,
) -> Option<CsrfRule> {
    let mode = o.csrf_mode.as_ref().map_or(CsrfMode::Off, |m| m.value);
    let mut patterns: Vec<OriginPattern> = Vec::new();
    if let Some(list) = &o.csrf_trusted_origins {
        for entry in &list.value {
            let (pat, problems) = match &entry.value {
                RawOrigin::Text(s) => origin::parse_pattern(s),
                RawOrigin::Regex(s) => origin::parse_regex_entry(s),
            };
            crate::validate::report_pattern_problems(&problems, &entry.loc, d);
            match pat {
                Some(OriginPattern::Any) => d.error(
                    Code::CsrfTrustedWildcard,
                    &entry.loc,
                    format!("in {rule}, `*` cannot be a trusted origin: it would let every site send unsafe requests, which is what the check exists to stop"),
                    Some("list the origins you trust, or set `csrf: {mode: off}` on the paths that take requests from anywhere".into()),
                ),
                Some(OriginPattern::Null) => d.error(
                    Code::CsrfTrustedNull,
                    &entry.loc,
                    "`null` cannot be a trusted origin: sandboxed iframes, data: URLs and redirect-tainted requests all send `Origin: null`".into(),
                    Some("remove it".into()),
                ),
                Some(p) => patterns.push(p),
                None => {}
            }
        }
    }
    if mode == CsrfMode::Off {
        return None;
    }
    let listed = cors.is_some_and(|c| !c.origins.is_empty() && !c.any_origin);
    if !listed
        && patterns.is_empty()
        && let Some(m) = &o.csrf_mode
    {
        d.warn(
            Code::CsrfNoTrustedOrigin,
            &m.loc,
            format!("in {rule}, CSRF protection is on and no cross-origin page is trusted (`*` and `null` never are): only same-origin pages may send unsafe requests"),
            Some("list the pages that may send unsafe requests in allow_origins or csrf.trusted_origins, if any".into()),
        );
    }
    Some(CsrfRule {
        enforce: mode == CsrfMode::Enforce,
        trusted: OriginMatcher::new(&patterns),
        trusted_patterns: patterns,
        allow_same_site: o.csrf_allow_same_site.as_ref().is_some_and(|v| v.value),
    })
}
