//! The route configuration: one virtual host per `hosts:` pattern (plus `*`), and per rule, in
//! corsguard's order, one route per origin class the rule distinguishes. Each route carries
//! the rule in `metadata.filter_metadata.corsguard` for the Lua filter, and, where the CORS
//! filter is exact, a `CorsPolicy` in `typed_per_filter_config`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use corsguard::{Mode, OnReject};

use super::super::model::{
    CorsModel, CsrfModel, HostPattern, OriginEntry, PathMatch, PolicyModel, PortPattern, RuleModel,
    escape_regex,
};
use super::q;

/// The application's CORS headers, removed on enforced rules before the CORS filter writes.
const OWNED: [&str; 7] = [
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
    "access-control-allow-private-network",
    "access-control-expose-headers",
];

/// `[lo-9]` without `x`, as a character class.
fn digits_except(lo: u8, x: u8) -> String {
    let digits: String = (lo..=9)
        .filter(|&d| d != x)
        .map(|d| char::from(b'0' + d))
        .collect();
    format!("[{digits}]")
}

/// `n` more digits.
fn digit_run(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => "[0-9]".into(),
        n => format!("[0-9]{{{n}}}"),
    }
}

/// The ports 1–65535 (no leading zero) except `default` (up to 4 digits): RE2 has no
/// look-ahead, so the excluded number is spelled out digit by digit.
fn ports_except(default: &str) -> String {
    let d = default.as_bytes();
    let mut alts: Vec<String> = Vec::new();
    for len in 1..=4usize {
        if len != d.len() {
            alts.push(format!("[1-9]{}", digit_run(len - 1)));
            continue;
        }
        for (i, &digit) in d.iter().enumerate() {
            let rest = len - 1 - i;
            let tail = digit_run(rest);
            let lo = if i == 0 { 1 } else { 0 };
            alts.push(format!(
                "{}{}{tail}",
                &default[..i],
                digits_except(lo, digit - b'0')
            ));
        }
    }
    alts.push("[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]".into());
    format!("(?:{})", alts.join("|"))
}

/// An allow-list entry as an RE2 full-match regex accepting exactly what corsguard's matcher
/// accepts: like [`OriginEntry::to_re2`], with a `:*` port that never admits the scheme's
/// default port spelled out.
pub(super) fn origin_re2(o: &OriginEntry) -> String {
    if let OriginEntry::Wildcard {
        scheme,
        subdomains,
        host,
        port: PortPattern::Any,
    } = o
    {
        let default = match scheme.as_str() {
            "http" | "ws" => Some("80"),
            "https" | "wss" => Some("443"),
            "ftp" => Some("21"),
            _ => None,
        };
        if let Some(d) = default {
            let labels = if *subdomains {
                "(?:[a-z0-9_-]+\\.)+"
            } else {
                ""
            };
            return format!(
                "^{}://{labels}{}(?::{})?$",
                escape_regex(scheme),
                escape_regex(host),
                ports_except(d)
            );
        }
    }
    o.to_re2()
}

/// Which origins a set admits, as one RE2 full-match regex.
#[derive(Debug, Clone, PartialEq, Eq)]
enum OriginSet {
    /// None: the class never occurs.
    Never,
    /// Every origin (`*`): no matcher needed.
    Always,
    /// Those the regex matches.
    Regex(String),
}

impl OriginSet {
    fn of(entries: &[&OriginEntry], null: bool) -> OriginSet {
        let mut alts: Vec<String> = entries
            .iter()
            .map(|o| format!("(?:{})", origin_re2(o)))
            .collect();
        if null {
            alts.push("(?:^null$)".into());
        }
        if alts.is_empty() {
            OriginSet::Never
        } else {
            OriginSet::Regex(alts.join("|"))
        }
    }
}

/// The origins CORS allows on this rule.
fn allowed_set(c: Option<&CorsModel>) -> OriginSet {
    match c {
        None => OriginSet::Never,
        Some(c) if c.any_origin => OriginSet::Always,
        Some(c) => OriginSet::of(&c.origins.iter().collect::<Vec<_>>(), c.allow_null),
    }
}

/// The origins the CSRF check trusts: listed in allow_origins (never `*` or `null`) or in
/// csrf.trusted_origins.
fn trusted_set(c: Option<&CorsModel>, k: &CsrfModel) -> OriginSet {
    let mut entries: Vec<&OriginEntry> = c.map(|c| c.origins.iter().collect()).unwrap_or_default();
    entries.extend(&k.trusted);
    OriginSet::of(&entries, false)
}

/// One route of a rule: its origin class and the `Origin` regexes that select it.
#[derive(Debug)]
struct Variant<'a> {
    allowed: bool,
    trusted: bool,
    matchers: Vec<&'a str>,
}

impl Variant<'_> {
    /// The route name's suffix: which origins take this route.
    fn class(&self) -> &'static str {
        match (self.allowed, self.trusted) {
            (true, true) => "allowed-trusted",
            (true, false) => "allowed",
            (false, true) => "trusted",
            (false, false) => "other",
        }
    }
}

/// The routes of a rule, most specific first; the last one has no matcher (it takes every
/// request the others did not), so the rule still matches every request on its path.
fn variants<'a>(a: &'a OriginSet, t: Option<&'a OriginSet>) -> Vec<Variant<'a>> {
    let mut out = Vec::new();
    for (allowed, trusted) in [(true, true), (true, false), (false, true), (false, false)] {
        if trusted && t.is_none() {
            continue;
        }
        let mut matchers = Vec::new();
        match (allowed, a) {
            (true, OriginSet::Never) | (false, OriginSet::Always) => continue,
            (true, OriginSet::Regex(re)) => matchers.push(re.as_str()),
            _ => {}
        }
        match (trusted, t) {
            (true, Some(OriginSet::Regex(re))) => matchers.push(re.as_str()),
            (true, _) => continue,
            _ => {}
        }
        out.push(Variant {
            allowed,
            trusted,
            matchers,
        });
    }
    out
}

/// The route configuration (a YAML mapping at indent 0).
pub(super) fn route_config(
    model: &PolicyModel,
    cluster_of: &dyn Fn(&RuleModel) -> String,
) -> String {
    let mut out = String::from(
        "name: corsguard\n# corsguard ignores the Host port when matching `hosts:`.\nignore_port_in_host_matching: true\nvirtual_hosts:\n",
    );
    let mut patterns: Vec<HostPattern> = Vec::new();
    for r in &model.rules {
        for h in &r.hosts {
            if !patterns.contains(h) {
                patterns.push(h.clone());
            }
        }
    }
    let mut anchors = BTreeSet::new();
    for p in &patterns {
        let rules: Vec<&RuleModel> = model
            .rules
            .iter()
            .filter(|r| r.hosts.is_empty() || r.hosts.iter().any(|h| p.within(h)))
            .collect();
        let name = format!(
            "corsguard_{}",
            p.text().replace("*.", "any.").replace('.', "_")
        );
        virtual_host(&mut out, &name, &p.text(), &rules, cluster_of, &mut anchors);
    }
    let rules: Vec<&RuleModel> = model.rules.iter().filter(|r| r.hosts.is_empty()).collect();
    virtual_host(&mut out, "corsguard", "*", &rules, cluster_of, &mut anchors);
    out
}

fn virtual_host(
    out: &mut String,
    name: &str,
    domain: &str,
    rules: &[&RuleModel],
    cluster_of: &dyn Fn(&RuleModel) -> String,
    anchors: &mut BTreeSet<String>,
) {
    let _ = writeln!(
        out,
        "  - name: {}\n    domains: [{}]\n    routes:",
        q(name),
        q(domain)
    );
    for r in rules {
        let hosts = if r.hosts.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = r.hosts.iter().map(HostPattern::text).collect();
            format!(", hosts {}", list.join(", "))
        };
        let _ = writeln!(out, "      # {}: {}{hosts}", r.name, r.path.describe());
        let path = path_match(r);
        let cluster = cluster_of(r);
        if r.cors.is_none() && r.csrf.is_none() {
            let _ = writeln!(
                out,
                "      - name: {}\n        match: {{ {path} }}\n        route: {{ cluster: {} }}",
                q(&r.name),
                q(&cluster)
            );
            out.push_str("        # cors: false: the application's headers pass through\n");
            continue;
        }
        let a = allowed_set(r.cors.as_ref());
        let t = r.csrf.as_ref().map(|k| trusted_set(r.cors.as_ref(), k));
        for v in variants(&a, t.as_ref()) {
            route(out, r, &path, &cluster, &v, anchors);
        }
    }
}

/// The path matcher of a rule.
fn path_match(r: &RuleModel) -> String {
    match &r.path {
        _ if r.name == "defaults" => "prefix: '/'".to_string(),
        PathMatch::All => "prefix: '/'".to_string(),
        PathMatch::Prefix(p) if p.ends_with('/') => format!("prefix: {}", q(p)),
        PathMatch::Prefix(p) => format!("path_separated_prefix: {}", q(p)),
        PathMatch::Glob { .. } => format!("safe_regex: {{ regex: {} }}", q(&r.path.to_regex())),
        PathMatch::Regex(re) => format!("safe_regex: {{ regex: {} }}", q(&format!(".*(?:{re}).*"))),
    }
}

/// Whether the CORS filter's `CorsPolicy` writes the actual-request headers of this rule
/// exactly: an enforced rule that echoes the origin and answers its preflights itself.
fn policy_exact(c: &CorsModel) -> bool {
    c.mode == Mode::Enforce && c.constant_acao.is_none() && !c.passthrough
}

fn route(
    out: &mut String,
    r: &RuleModel,
    path: &str,
    cluster: &str,
    v: &Variant<'_>,
    anchors: &mut BTreeSet<String>,
) {
    let _ = writeln!(
        out,
        "      - name: {}",
        q(&format!("{}/{}", r.name, v.class()))
    );
    if v.matchers.is_empty() {
        let _ = writeln!(out, "        match: {{ {path} }}");
    } else {
        let _ = writeln!(out, "        match:\n          {path}\n          headers:");
        for re in &v.matchers {
            let _ = writeln!(
                out,
                "            - name: origin\n              string_match: {{ safe_regex: {{ regex: {} }} }}",
                q(re)
            );
        }
    }
    let _ = writeln!(out, "        route: {{ cluster: {} }}", q(cluster));
    let policy = v.allowed && r.cors.as_ref().is_some_and(policy_exact);
    out.push_str("        metadata:\n          filter_metadata:\n            corsguard:\n");
    let _ = writeln!(
        out,
        "              allowed: {}\n              trusted: {}\n              policy: {policy}",
        v.allowed, v.trusted
    );
    if let Some(c) = &r.cors {
        let anchor = format!("{}_cors", r.id);
        if anchors.insert(anchor.clone()) {
            let _ = writeln!(out, "              cors: &{anchor}");
            out.push_str(&super::indent(&cors_metadata(c), 16));
        } else {
            let _ = writeln!(out, "              cors: *{anchor}");
        }
    }
    if let Some(k) = &r.csrf {
        let _ = writeln!(
            out,
            "              csrf: {{ enforce: {}, allow_same_site: {} }}",
            k.enforce, k.allow_same_site
        );
    }
    let Some(c) = &r.cors else { return };
    if c.mode == Mode::Shadow {
        cors_policy(out, c, true);
        return;
    }
    if policy {
        cors_policy(out, c, false);
    }
    out.push_str("        response_headers_to_remove:\n");
    for h in OWNED {
        let _ = writeln!(out, "          - {h}");
    }
}

/// The rule's CORS options for the Lua filter (the fields of `CorsModel` it reads).
fn cors_metadata(c: &CorsModel) -> String {
    let mut out = String::new();
    let mut flag = |k: &str, v: bool| {
        let _ = writeln!(out, "{k}: {v}");
    };
    flag("any_origin", c.any_origin);
    flag("credentials", c.credentials);
    flag("methods_any", c.methods_any);
    flag("headers_any", c.headers_any);
    flag("authorization_listed", c.authorization_listed);
    flag("private_network", c.private_network);
    flag("skip_same_origin", c.skip_same_origin);
    flag("passthrough", c.passthrough);
    flag("forbid", c.on_reject == OnReject::Forbid);
    flag("shadow", c.mode == Mode::Shadow);
    let _ = writeln!(out, "preflight_status: '{}'", c.preflight_status);
    for (k, v) in [
        ("constant_acao", &c.constant_acao),
        ("acam", &c.acam),
        ("acah", &c.acah),
        ("aceh", &c.aceh),
        ("acma", &c.acma),
    ] {
        if let Some(v) = v {
            let _ = writeln!(out, "{k}: {}", q(v));
        }
    }
    let set = |names: &[String]| {
        let items: Vec<String> = names.iter().map(|n| format!("{}: true", q(n))).collect();
        format!("{{ {} }}", items.join(", "))
    };
    if !c.methods.is_empty() {
        let _ = writeln!(out, "methods: {}", set(&c.methods));
    }
    if !c.headers.is_empty() {
        let _ = writeln!(out, "headers: {}", set(&c.headers));
    }
    out
}

/// The `CorsPolicy`: the origin list, credentials and exposed headers (what the CORS filter
/// writes on actual requests); in shadow mode only counted (`shadow_enabled`).
fn cors_policy(out: &mut String, c: &CorsModel, shadow: bool) {
    out.push_str("        typed_per_filter_config:\n          envoy.filters.http.cors:\n            '@type': type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy\n            allow_origin_string_match:\n");
    if c.any_origin {
        out.push_str("              - exact: '*'\n");
    }
    if c.allow_null {
        out.push_str("              - exact: 'null'\n");
    }
    for o in &c.origins {
        match o {
            OriginEntry::Exact(s) => {
                let _ = writeln!(out, "              - exact: {}", q(s));
            }
            other => {
                let _ = writeln!(
                    out,
                    "              - safe_regex: {{ regex: {} }}  # {}",
                    q(&origin_re2(other)),
                    other.text()
                );
            }
        }
    }
    if c.origins.is_empty() && !c.any_origin && !c.allow_null {
        out.push_str("              - exact: ''  # no origin is allowed\n");
    }
    if c.credentials {
        out.push_str("            allow_credentials: true\n");
    }
    if let Some(e) = &c.aceh {
        let _ = writeln!(out, "            expose_headers: {}", q(e));
    }
    if shadow {
        out.push_str("            filter_enabled: { default_value: { numerator: 0, denominator: HUNDRED } }\n            shadow_enabled: { default_value: { numerator: 100, denominator: HUNDRED } }\n");
    } else {
        out.push_str("            # preflights never reach the CORS filter: the corsguard Lua filter answers them\n");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn classes(a: &OriginSet, t: Option<&OriginSet>) -> Vec<(bool, bool, usize)> {
        variants(a, t)
            .iter()
            .map(|v| (v.allowed, v.trusted, v.matchers.len()))
            .collect()
    }

    #[test]
    fn any_port_never_admits_the_default_port() {
        for (scheme, default) in [("http", 80u32), ("https", 443), ("ftp", 21)] {
            let entry = OriginEntry::Wildcard {
                scheme: scheme.into(),
                subdomains: true,
                host: "example.org".into(),
                port: PortPattern::Any,
            };
            let re = regex::Regex::new(&origin_re2(&entry)).unwrap();
            assert!(re.is_match(&format!("{scheme}://a.example.org")));
            for port in 1..=65535u32 {
                let origin = format!("{scheme}://a.example.org:{port}");
                assert_eq!(re.is_match(&origin), port != default, "{origin}");
            }
            for bad in [":0", ":65536", ":080", ":99999", ":"] {
                assert!(
                    !re.is_match(&format!("{scheme}://a.example.org{bad}")),
                    "{bad}"
                );
            }
        }
    }

    #[test]
    fn every_rule_ends_with_a_route_without_matchers() {
        let re = OriginSet::Regex("^a$".into());
        assert_eq!(classes(&re, None), [(true, false, 1), (false, false, 0)]);
        assert_eq!(
            classes(&re, Some(&re)),
            [
                (true, true, 2),
                (true, false, 1),
                (false, true, 1),
                (false, false, 0)
            ]
        );
        assert_eq!(classes(&OriginSet::Always, None), [(true, false, 0)]);
        assert_eq!(
            classes(&OriginSet::Always, Some(&OriginSet::Never)),
            [(true, false, 0)]
        );
        assert_eq!(
            classes(&OriginSet::Never, Some(&re)),
            [(false, true, 1), (false, false, 0)]
        );
    }
}
