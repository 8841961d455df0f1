//! One path rule: its path matcher, hosts and upstream, its effective options (the
//! defaults overlaid with its own), and the rules an earlier one shadows.

use crate::Code;
use crate::config::raw::{RawConfig, RawOptions, RawPathMatcher, RawRule};
use crate::policy::{HostMatcher, PathMatcher, Rule};

use super::Diags;
use super::options::compile_options;

pub(super) fn compile_rule(r: &RawRule, i: usize, raw: &RawConfig, d: &mut Diags) -> Option<Rule> {
    let name = format!("paths[{i}]");
    let matcher = compile_matcher(r, d)?;
    let hosts = compile_hosts(r, d);
    if let Some(u) = &r.upstream
        && let Err(m) = crate::config::gateway::check_upstream(&u.value)
    {
        d.error(
            Code::GatewayInvalidUpstream,
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
                Code::RuleOptionsIgnored,
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

/// The rule's path matcher; `None` when it cannot be compiled (reported).
fn compile_matcher(r: &RawRule, d: &mut Diags) -> Option<PathMatcher> {
    let matcher = match &r.matcher.value {
        RawPathMatcher::All => PathMatcher::All,
        RawPathMatcher::Prefix(p) => {
            if !p.starts_with('/') {
                d.error(
                    Code::PathPrefixInvalid,
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
                    Code::PathGlobInvalid,
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
                    Code::PathRegexUnanchored,
                    &r.matcher.loc,
                    format!("path regex `{s}` is not anchored at the start, so it matches anywhere in the path"),
                    Some(format!("write `^{s}`")),
                );
            }
            match regex::RegexBuilder::new(s).size_limit(1 << 20).build() {
                Ok(re) => PathMatcher::Regex(re),
                Err(e) => {
                    d.error(
                        Code::PathRegexInvalid,
                        &r.matcher.loc,
                        format!("invalid path regex: {e}"),
                        None,
                    );
                    return None;
                }
            }
        }
    };
    Some(matcher)
}

/// The rule's `hosts:` entries; invalid ones are reported and left out.
fn compile_hosts(r: &RawRule, d: &mut Diags) -> Vec<HostMatcher> {
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
                    Code::HostInvalid,
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
    hosts
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
pub(super) fn check_unreachable(paths: &[RawRule], d: &mut Diags) {
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
                    Code::RuleUnreachable,
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
