//! Validation: raw configuration → compiled [`Policy`], with every problem reported at once.

use std::collections::HashSet;
use std::sync::Arc;

use http::{HeaderValue, StatusCode};

use crate::config::raw::{
    Mode, OnReject, RawConfig, RawOptions, RawOrigin, RawPathMatcher, RawRule,
};
use crate::diagnostic::{ConfigErrors, Diagnostic, Location, Severity};
use crate::headers::{self, NameSet};
use crate::origin::{self, OriginMatcher, OriginPattern, PatternProblem};
use crate::policy::{CorsRule, HostMatcher, PathMatcher, Policy, PolicyInner, Rule};

/// Collects diagnostics, de-duplicating those reported once per rule for inherited values.
pub(crate) struct Diags {
    list: Vec<Diagnostic>,
    seen: HashSet<(&'static str, String, String)>,
}

impl Diags {
    pub(crate) fn new(initial: Vec<Diagnostic>) -> Self {
        let mut d = Diags {
            list: Vec::new(),
            seen: HashSet::new(),
        };
        for x in initial {
            d.push(x);
        }
        d
    }

    pub(crate) fn push(&mut self, d: Diagnostic) {
        let key = (d.code, d.location.path.clone(), d.message.clone());
        if self.seen.insert(key) {
            self.list.push(d);
        }
    }

    fn add(
        &mut self,
        severity: Severity,
        code: &'static str,
        loc: &Location,
        message: String,
        hint: Option<String>,
    ) {
        self.push(Diagnostic {
            severity,
            code,
            message,
            hint,
            location: loc.clone(),
        });
    }

    pub(crate) fn error(
        &mut self,
        code: &'static str,
        loc: &Location,
        message: String,
        hint: Option<String>,
    ) {
        self.add(Severity::Error, code, loc, message, hint);
    }

    pub(crate) fn warn(
        &mut self,
        code: &'static str,
        loc: &Location,
        message: String,
        hint: Option<String>,
    ) {
        self.add(Severity::Warning, code, loc, message, hint);
    }

    fn has_errors(&self) -> bool {
        self.list.iter().any(|d| d.severity == Severity::Error)
    }
}

/// The location written "closest" to the rule: a path rule's own value beats an inherited one.
fn closest<'a>(a: &'a Location, b: &'a Location) -> &'a Location {
    if b.path.starts_with("paths") && !a.path.starts_with("paths") {
        b
    } else {
        a
    }
}

fn hv(s: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(s).ok()
}

/// Compiles a raw configuration (plus diagnostics from reading it) into a policy.
pub(crate) fn compile(
    raw: RawConfig,
    diags: Vec<Diagnostic>,
    text: Option<Arc<str>>,
) -> Result<Policy, ConfigErrors> {
    let mut d = Diags::new(diags);
    let defaults_cors = compile_options(&raw.defaults, "defaults", &mut d);
    let defaults_csrf =
        crate::csrf::compile(&raw.defaults, defaults_cors.as_ref(), "defaults", &mut d);
    let defaults = Rule {
        name: "defaults".into(),
        index: None,
        matcher: PathMatcher::All,
        hosts: Vec::new(),
        upstream: raw.gateway.as_ref().and_then(|g| g.upstream.clone()),
        cors: defaults_cors,
        csrf: defaults_csrf,
    };
    let mut rules = Vec::with_capacity(raw.paths.len());
    for (i, r) in raw.paths.iter().enumerate() {
        if let Some(rule) = compile_rule(r, i, &raw, &mut d) {
            rules.push(rule);
        }
    }
    check_unreachable(&raw.paths, &mut d);

    let anything_allowed = std::iter::once(&defaults).chain(rules.iter()).any(|r| {
        r.cors.as_ref().is_none_or(|c| {
            c.any_origin || c.allow_null || !c.origins.is_empty() || c.constant_acao.is_some()
        })
    });
    if !anything_allowed && !d.has_errors() {
        // An allow-list written empty (`allow_origins: []`, `CORS_ALLOWED_ORIGINS=`) is a
        // deliberate deny-all policy, as in django-cors-headers, Nelmio and express: the app
        // or gateway must start. No allow-list at all is a mistake.
        let written_empty = std::iter::once(&raw.defaults.allow_origins)
            .chain(raw.paths.iter().map(|r| &r.options.allow_origins))
            .find_map(Option::as_ref);
        match written_empty {
            Some(list) => d.warn(
                "origins-empty",
                &list.loc,
                "no origin is allowed; every cross-origin request will be refused".into(),
                Some("list the origins that may call this API, e.g. `allow_origins: ['https://app.example.com']`; keep it empty only to refuse every cross-origin request".into()),
            ),
            None => d.error(
                "origins-missing",
                &Location::new(source_of(&raw), "defaults.allow_origins"),
                "no rule allows any origin, so every CORS request would be refused".into(),
                Some("add `allow_origins: ['https://app.example.com']` under `defaults:`, or set CORS_ALLOWED_ORIGINS".into()),
            ),
        }
    }

    if d.has_errors() {
        return Err(ConfigErrors::new(d.list, text));
    }
    Ok(Policy {
        inner: Arc::new(PolicyInner {
            rules,
            defaults,
            gateway: raw.gateway,
            warnings: d.list,
        }),
    })
}

fn source_of(raw: &RawConfig) -> crate::diagnostic::SourceKind {
    raw.source
        .clone()
        .unwrap_or(crate::diagnostic::SourceKind::Builder)
}

fn compile_rule(r: &RawRule, i: usize, raw: &RawConfig, d: &mut Diags) -> Option<Rule> {
    let name = format!("paths[{i}]");
    let matcher = match &r.matcher.value {
        RawPathMatcher::All => PathMatcher::All,
        RawPathMatcher::Prefix(p) => {
            if !p.starts_with('/') {
                d.error(
                    "path-prefix-invalid",
                    &r.matcher.loc,
                    format!("path prefix `{p}` must start with `/`"),
                    Some(format!("write `/{}`", p.trim_start_matches('/'))),
                );
            }
            PathMatcher::Prefix(p.clone())
        }
        RawPathMatcher::Glob(g) => match glob_regex(g) {
            Ok(re) => PathMatcher::Glob(g.clone(), re),
            Err(e) => {
                d.error(
                    "path-glob-invalid",
                    &r.matcher.loc,
                    format!("invalid glob `{g}`: {e}"),
                    None,
                );
                return None;
            }
        },
        RawPathMatcher::Regex(s) => {
            if !s.starts_with('^') {
                d.warn(
                    "path-regex-unanchored",
                    &r.matcher.loc,
                    format!("path regex `{s}` is not anchored at the start, so it matches anywhere in the path"),
                    Some(format!("write `^{s}`")),
                );
            }
            match regex::RegexBuilder::new(s).size_limit(1 << 20).build() {
                Ok(re) => PathMatcher::Regex(re),
                Err(e) => {
                    d.error(
                        "path-regex-invalid",
                        &r.matcher.loc,
                        format!("invalid path regex: {e}"),
                        None,
                    );
                    return None;
                }
            }
        }
    };
    let mut hosts = Vec::new();
    if let Some(h) = &r.hosts {
        for entry in &h.value {
            let v = entry.value.trim();
            let (kind, base) = match v.strip_prefix("*.") {
                Some(b) => (true, b),
                None => (false, v),
            };
            let valid = !base.is_empty()
                && base.split('.').all(|l| {
                    !l.is_empty()
                        && l.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                })
                && !base.contains('*');
            if !valid {
                d.error(
                    "host-invalid",
                    &entry.loc,
                    format!("`{v}` is not a host name or `*.domain` pattern"),
                    Some("e.g. `api.example.com` or `*.example.com` (no scheme, no port)".into()),
                );
                continue;
            }
            let base = base.to_ascii_lowercase();
            hosts.push(if kind {
                HostMatcher::Subdomains(base)
            } else {
                HostMatcher::Exact(base)
            });
        }
    }
    if let Some(u) = &r.upstream
        && let Err(m) = crate::config::gateway::check_upstream(&u.value)
    {
        d.error(
            "gateway-invalid-upstream",
            &u.loc,
            m,
            Some("e.g. http://127.0.0.1:9000".into()),
        );
    }
    let enabled = r.cors.as_ref().is_none_or(|c| c.value);
    let merged = raw.defaults.overlay(&r.options);
    let cors = if enabled {
        compile_options(&merged, &name, d)
    } else {
        if let Some(c) = &r.cors
            && has_any_option(&r.options)
        {
            d.warn(
                "rule-options-ignored",
                &c.loc,
                "this rule says `cors: false`, so its other CORS options are ignored".into(),
                None,
            );
        }
        None
    };
    let csrf = crate::csrf::compile(&merged, cors.as_ref(), &name, d);
    Some(Rule {
        name,
        index: Some(i),
        matcher,
        hosts,
        upstream: r.upstream.as_ref().map(|u| u.value.clone()),
        cors,
        csrf,
    })
}

fn has_any_option(o: &RawOptions) -> bool {
    o.allow_origins.is_some()
        || o.allow_methods.is_some()
        || o.allow_headers.is_some()
        || o.expose_headers.is_some()
        || o.allow_credentials.is_some()
        || o.max_age.is_some()
}

/// Translates a path glob: `*` = within one segment, `**` = across segments, `?` = one char.
fn glob_regex(g: &str) -> Result<regex::Regex, String> {
    if !g.starts_with('/') {
        return Err("a glob must start with `/`".into());
    }
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
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).map_err(|e| e.to_string())
}

/// Warns about rules that can never match because an earlier rule always matches first.
fn check_unreachable(paths: &[RawRule], d: &mut Diags) {
    for (j, later) in paths.iter().enumerate() {
        for (i, earlier) in paths.iter().enumerate().take(j) {
            if earlier.hosts.is_some() && !same_hosts(earlier, later) {
                continue;
            }
            let shadowed = match (&earlier.matcher.value, &later.matcher.value) {
                (RawPathMatcher::All, _) => earlier.hosts.is_none() || same_hosts(earlier, later),
                (RawPathMatcher::Prefix(a), RawPathMatcher::Prefix(b)) => {
                    b.starts_with(a.as_str())
                        && (a.ends_with('/')
                            || b.len() == a.len()
                            || b.as_bytes().get(a.len()) == Some(&b'/'))
                }
                (RawPathMatcher::Glob(a), RawPathMatcher::Glob(b))
                | (RawPathMatcher::Regex(a), RawPathMatcher::Regex(b)) => a == b,
                _ => false,
            };
            if shadowed {
                d.warn(
                    "rule-unreachable",
                    &later.matcher.loc,
                    format!("paths[{j}] can never apply: paths[{i}] matches every request it would match (first match wins)"),
                    Some(format!("move paths[{j}] above paths[{i}], or remove it")),
                );
                break;
            }
        }
    }
}

fn same_hosts(a: &RawRule, b: &RawRule) -> bool {
    let key = |r: &RawRule| -> Option<Vec<String>> {
        r.hosts.as_ref().map(|h| {
            let mut v: Vec<String> = h
                .value
                .iter()
                .map(|x| x.value.to_ascii_lowercase())
                .collect();
            v.sort();
            v
        })
    };
    key(a) == key(b)
}

/// Compiles one effective option set. `rule` names the rule for messages.
fn compile_options(o: &RawOptions, rule: &str, d: &mut Diags) -> Option<CorsRule> {
    let credentials = o.allow_credentials.as_ref().is_some_and(|v| v.value);
    let allow_null = o.allow_null_origin.as_ref().is_some_and(|v| v.value);
    let tolerate_insecure = o
        .allow_insecure_origins_with_credentials
        .as_ref()
        .is_some_and(|v| v.value);
    let tolerate_psl = o
        .allow_public_suffix_wildcards_with_credentials
        .as_ref()
        .is_some_and(|v| v.value);

    // --- origins
    let mut patterns: Vec<OriginPattern> = Vec::new();
    let mut canon_seen: HashSet<String> = HashSet::new();
    let mut any_loc: Option<Location> = None;
    if let Some(list) = &o.allow_origins {
        for entry in &list.value {
            let (pat, problems) = match &entry.value {
                RawOrigin::Text(s) => origin::parse_pattern(s),
                RawOrigin::Regex(s) => origin::parse_regex_entry(s),
            };
            report_pattern_problems(&problems, &entry.loc, d);
            let Some(pat) = pat else { continue };
            let canon = pat.canonical();
            if !canon_seen.insert(canon.clone()) {
                d.warn(
                    "origin-duplicate",
                    &entry.loc,
                    format!("`{canon}` is listed more than once"),
                    Some("remove the duplicate (it is ignored)".into()),
                );
                continue;
            }
            match &pat {
                OriginPattern::Any => any_loc = Some(entry.loc.clone()),
                OriginPattern::Null if !allow_null => {
                    d.error(
                        "origin-null",
                        &entry.loc,
                        "`null` is not a safe allow-list entry: sandboxed iframes, data: URLs and redirect-tainted requests all send `Origin: null`".into(),
                        Some("remove it, or if you really need it set `allow_null_origin: true`".into()),
                    );
                    continue;
                }
                OriginPattern::Null => continue,
                _ => {}
            }
            if credentials {
                let cred_loc = o
                    .allow_credentials
                    .as_ref()
                    .map(|v| &v.loc)
                    .unwrap_or(&entry.loc);
                if !pat.is_secure()
                    && !matches!(pat, OriginPattern::Any | OriginPattern::Regex(_))
                    && !tolerate_insecure
                {
                    d.error(
                        "origin-insecure-credentials",
                        closest(&entry.loc, cred_loc),
                        format!("`{canon}` is not https: with credentials, anyone on the network path can impersonate it and read credentialed responses"),
                        Some(format!(
                            "use `{}`, or set `allow_insecure_origins_with_credentials: true` if you accept the risk",
                            canon.replacen("http://", "https://", 1).replacen("ws://", "wss://", 1)
                        )),
                    );
                }
                if let Some(base) = pat.public_suffix_base()
                    && !tolerate_psl
                {
                    d.error(
                            "origin-public-suffix-credentials",
                            closest(&entry.loc, cred_loc),
                            format!("`{canon}` admits every site under the public suffix `{base}` (sites of unrelated owners) with credentials"),
                            Some("list the exact origins you trust, or set `allow_public_suffix_wildcards_with_credentials: true`".into()),
                        );
                }
            }
            patterns.push(pat);
        }
    }
    let any_origin = any_loc.is_some();
    if let Some(loc) = &any_loc {
        if patterns.len() > 1 {
            d.warn(
                "origin-wildcard-absorbs",
                loc,
                "`*` allows every origin, so the other entries of this list have no effect".into(),
                Some("remove `*` or the other entries".into()),
            );
        }
        if credentials {
            let cred_loc = o.allow_credentials.as_ref().map_or(loc, |v| &v.loc);
            d.error(
                "origin-wildcard-credentials",
                closest(loc, cred_loc),
                format!("in {rule}, `allow_origins: ['*']` cannot be combined with `allow_credentials: true`: browsers reject `Access-Control-Allow-Origin: *` on credentialed requests, and reflecting any origin instead would let every site read your users' data"),
                Some("list the origins you trust (patterns like `https://*.example.com` are fine), or turn credentials off".into()),
            );
        }
        patterns.retain(|p| matches!(p, OriginPattern::Any));
    }
    if allow_null
        && credentials
        && let Some(v) = &o.allow_null_origin
    {
        d.warn(
                "origin-null-credentials",
                &v.loc,
                "allowing `null` with credentials lets any sandboxed iframe or data: URL make credentialed requests".into(),
                None,
            );
    }

    // --- methods
    let mut methods_any = false;
    let mut methods: Vec<String> = Vec::new();
    if let Some(list) = &o.allow_methods {
        for m in &list.value {
            let v = m.value.trim();
            if v == "*" {
                methods_any = true;
                continue;
            }
            if !headers::is_token(v.as_bytes()) {
                d.error(
                    "method-invalid",
                    &m.loc,
                    format!("`{v}` is not a valid method name (a token: letters, digits and !#$%&'*+-.^_`|~)"),
                    None,
                );
                continue;
            }
            if headers::is_forbidden_method(v) {
                d.error(
                    "method-forbidden",
                    &m.loc,
                    format!("`{v}` is a forbidden method: browsers never let scripts send it"),
                    Some("remove it".into()),
                );
                continue;
            }
            let v = match headers::normalized_method(v) {
                Some(n) if n != v => {
                    d.warn(
                        "method-normalized",
                        &m.loc,
                        format!(
                            "browsers upper-case `{v}` before sending it, so it is allowed as `{n}`"
                        ),
                        Some(format!("write `{n}`")),
                    );
                    n.to_string()
                }
                _ => {
                    if v.bytes().any(|b| b.is_ascii_lowercase())
                        && v.bytes().all(|b| !b.is_ascii_uppercase())
                    {
                        d.warn(
                            "method-case",
                            &m.loc,
                            format!("methods are case-sensitive: `{v}` allows only requests made with exactly `{v}`; `fetch(url, {{method: '{}'}})` sends `{}`", v.to_ascii_uppercase(), v.to_ascii_uppercase()),
                            Some(format!("did you mean `{}`?", v.to_ascii_uppercase())),
                        );
                    }
                    v.to_string()
                }
            };
            if methods.contains(&v) {
                d.warn(
                    "method-duplicate",
                    &m.loc,
                    format!("`{v}` is listed more than once"),
                    None,
                );
                continue;
            }
            methods.push(v);
        }
        if methods_any && !methods.is_empty() {
            d.warn(
                "method-wildcard-absorbs",
                &list.loc,
                "`*` allows every method, so the other entries have no effect".into(),
                None,
            );
            methods.clear();
        }
    }

    // --- request headers
    let mut headers_any = false;
    let mut header_names: Vec<String> = Vec::new();
    let mut authorization_listed = false;
    if let Some(list) = &o.allow_headers {
        for h in &list.value {
            let v = h.value.trim();
            if v == "*" {
                headers_any = true;
                continue;
            }
            let lower = v.to_ascii_lowercase();
            if !headers::is_token(v.as_bytes()) {
                d.error(
                    "header-invalid",
                    &h.loc,
                    format!("`{v}` is not a valid header name"),
                    None,
                );
                continue;
            }
            if headers::is_forbidden_request_header(&lower) {
                d.error(
                    "header-forbidden",
                    &h.loc,
                    format!("`{v}` is a forbidden request header: browsers set it themselves and never send it in Access-Control-Request-Headers"),
                    Some("remove it".into()),
                );
                continue;
            }
            if headers::is_cors_response_header(&lower) {
                d.error(
                    "header-response-name",
                    &h.loc,
                    format!("`{v}` is a CORS *response* header; listing it as an allowed request header is a mistake"),
                    Some("remove it (the browser does not send it)".into()),
                );
                continue;
            }
            if header_names.contains(&lower) {
                d.warn(
                    "header-duplicate",
                    &h.loc,
                    format!("`{v}` is listed more than once (names are case-insensitive)"),
                    None,
                );
                continue;
            }
            if lower == "authorization" {
                authorization_listed = true;
            }
            header_names.push(lower);
        }
        if headers_any && header_names.iter().any(|h| h != "authorization") {
            d.warn(
                "header-wildcard-absorbs",
                &list.loc,
                "`*` allows every header (except Authorization, which must be listed), so the other entries have no effect".into(),
                None,
            );
            header_names.retain(|h| h == "authorization");
        }
    }

    // --- exposed headers
    let mut expose_any = false;
    let mut expose: Vec<String> = Vec::new();
    if let Some(list) = &o.expose_headers {
        for h in &list.value {
            let v = h.value.trim();
            if v == "*" {
                expose_any = true;
                if credentials {
                    let cred_loc = o.allow_credentials.as_ref().map_or(&h.loc, |c| &c.loc);
                    d.error(
                        "expose-wildcard-credentials",
                        closest(&h.loc, cred_loc),
                        "`expose_headers: ['*']` does not work for credentialed requests: browsers then read `*` as a header literally named `*`".into(),
                        Some("list the response headers the client needs".into()),
                    );
                }
                continue;
            }
            let lower = v.to_ascii_lowercase();
            if !headers::is_token(v.as_bytes()) {
                d.error(
                    "expose-invalid",
                    &h.loc,
                    format!("`{v}` is not a valid header name"),
                    None,
                );
                continue;
            }
            if lower == "set-cookie" || lower == "set-cookie2" {
                d.error(
                    "expose-set-cookie",
                    &h.loc,
                    format!("`{v}` can never be exposed to scripts"),
                    Some("remove it".into()),
                );
                continue;
            }
            if headers::is_safelisted_response_header(&lower) {
                d.warn(
                    "expose-safelisted",
                    &h.loc,
                    format!("`{v}` is always readable by scripts; listing it has no effect"),
                    Some("remove it".into()),
                );
                continue;
            }
            if expose.contains(&lower) {
                d.warn(
                    "expose-duplicate",
                    &h.loc,
                    format!("`{v}` is listed more than once"),
                    None,
                );
                continue;
            }
            expose.push(lower);
        }
        if expose_any && !expose.is_empty() {
            d.warn(
                "expose-wildcard-absorbs",
                &list.loc,
                "`*` exposes every header, so the other entries have no effect".into(),
                None,
            );
            expose.clear();
        }
    }

    // --- max age
    let mut max_age = None;
    if let Some(m) = &o.max_age {
        if !(0..=86_400).contains(&m.value) {
            d.error(
                "max-age-range",
                &m.loc,
                format!("max_age {} is out of range 0..=86400 seconds", m.value),
                Some(if m.value < 0 {
                    "use 0 to disable preflight caching (negative values are not valid)".into()
                } else {
                    "browsers cap it anyway: Chromium at 7200, Safari at 600".into()
                }),
            );
        } else {
            let v = u32::try_from(m.value).unwrap_or(0);
            if v > 7200 {
                d.warn(
                    "max-age-chromium-cap",
                    &m.loc,
                    format!("max_age {v} exceeds Chromium's cap of 7200 s (and Safari's 600 s); browsers will use their cap"),
                    Some("use 7200, or 600 to be honoured everywhere".into()),
                );
            } else if v > 600 {
                d.warn(
                    "max-age-safari-cap",
                    &m.loc,
                    format!("max_age {v} exceeds Safari's cap of 600 s; Safari will re-send preflights after 600 s"),
                    Some("600 is the largest value every browser honours in full".into()),
                );
            }
            max_age = Some(v);
        }
    }

    // --- preflight
    let mut preflight_status = StatusCode::NO_CONTENT;
    if let Some(s) = &o.preflight_status {
        match s.value {
            200 => preflight_status = StatusCode::OK,
            204 => {}
            other => d.error(
                "preflight-status",
                &s.loc,
                format!("preflight status {other} is not supported"),
                Some("use 204 (conventional) or 200 (for old clients)".into()),
            ),
        }
    }

    // --- forced ACAO
    let mut constant_acao = None;
    if let Some(f) = &o.forced_allow_origin {
        let (pat, problems) = origin::parse_pattern(&f.value);
        match pat {
            Some(OriginPattern::Any) if credentials => d.error(
                "forced-origin-wildcard-credentials",
                &f.loc,
                "`forced_allow_origin: '*'` cannot be combined with credentials".into(),
                None,
            ),
            Some(OriginPattern::Any) | Some(OriginPattern::Exact(_)) => {
                constant_acao = hv(&f.value)
            }
            Some(_) => d.error(
                "forced-origin-invalid",
                &f.loc,
                format!(
                    "`{}` must be `*` or one exact origin (no patterns)",
                    f.value
                ),
                None,
            ),
            None => report_pattern_problems(&problems, &f.loc, d),
        }
    } else if any_origin && !credentials {
        constant_acao = Some(HeaderValue::from_static("*"));
    }

    // --- precomputed header values (built once here, cloned per request)
    let acam = if methods_any {
        (!credentials).then(|| HeaderValue::from_static("*"))
    } else if methods.is_empty() {
        None
    } else {
        hv(&methods.join(","))
    };
    let acah = if headers_any {
        if credentials {
            None
        } else if authorization_listed {
            Some(HeaderValue::from_static("*,authorization"))
        } else {
            Some(HeaderValue::from_static("*"))
        }
    } else if header_names.is_empty() {
        None
    } else {
        let mut sorted = header_names.clone();
        sorted.sort();
        hv(&sorted.join(","))
    };
    let aceh = if expose_any {
        (!credentials).then(|| HeaderValue::from_static("*"))
    } else if expose.is_empty() {
        None
    } else {
        hv(&expose.join(","))
    };
    let acma = max_age.and_then(|m| hv(&m.to_string()));
    if expose_any && !credentials {
        expose = vec!["*".into()];
    }

    let matcher = OriginMatcher::new(&patterns);
    Some(CorsRule {
        origins: patterns,
        matcher,
        any_origin,
        allow_null,
        methods_any,
        methods,
        headers_any,
        headers: NameSet::new(header_names),
        authorization_listed,
        credentials,
        private_network: o.allow_private_network.as_ref().is_some_and(|v| v.value),
        skip_same_origin: o.skip_same_origin.as_ref().is_none_or(|v| v.value),
        preflight_status,
        passthrough: o.preflight_passthrough.as_ref().is_some_and(|v| v.value),
        on_reject: o.on_reject.as_ref().map_or(OnReject::Omit, |v| v.value),
        mode: o.mode.as_ref().map_or(Mode::Enforce, |v| v.value),
        forced_acao: o.forced_allow_origin.is_some() && constant_acao.is_some(),
        constant_acao,
        acam,
        acah,
        aceh,
        acma,
        expose,
        max_age,
    })
}

pub(crate) fn report_pattern_problems(problems: &[PatternProblem], loc: &Location, d: &mut Diags) {
    for p in problems {
        d.push(Diagnostic {
            severity: p.severity,
            code: p.code,
            message: p.message.clone(),
            hint: p.hint.clone(),
            location: loc.clone(),
        });
    }
}
