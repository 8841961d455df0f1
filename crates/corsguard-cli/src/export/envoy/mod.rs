//! `corsguard export envoy`: the policy as Envoy configuration, a fragment (HTTP filters, a
//! route configuration and clusters) or, with `--bootstrap`, a complete runnable bootstrap.
//!
//! Envoy's CORS filter decides less than corsguard: it emits no `Vary` (envoy#35873), answers
//! every allowed preflight itself with 200 without checking the method or headers, reflects
//! `Access-Control-Request-Method`/`-Headers` unchecked under `*`, echoes the origin instead of
//! `*`, sends the allowed lists to refused preflights, and never answers 403. So the export
//! splits the work:
//! - RE2 header matchers on `Origin` select, per rule, a route for each origin class (allowed,
//!   listed for CSRF), in corsguard's rule order ([`route`]);
//! - the CORS filter's `CorsPolicy` writes `Access-Control-Allow-Origin`/`-Credentials`/
//!   `-Expose-Headers` on actual requests from allowed origins, where it is exact;
//! - a Lua filter ahead of it (`corsguard.lua`, the engine's `decide_cors` and CSRF check
//!   line by line, reading the rule from the route's metadata) answers preflights and
//!   refusals, reflects methods and headers, writes constant headers and merges `Vary`.
//!
//! What still differs is a [`Warning`](super::Warning).

mod bootstrap;
mod route;

use std::fmt::Write as _;

use corsguard::CsrfRefusal;

use super::model::{OriginEntry, PathMatch, PolicyModel, RuleModel};
use super::{Export, Warnings, proxy_target};

/// Options of the Envoy export.
#[derive(Debug, Clone)]
pub struct EnvoyOptions {
    /// The cluster routes without their own `upstream` send to.
    pub cluster: String,
    /// The default upstream, to generate that cluster (otherwise it must exist).
    pub upstream: Option<String>,
    /// The policy file name, for the header comment.
    pub source_name: String,
    /// `Some`: a complete bootstrap instead of a fragment.
    pub bootstrap: Option<BootstrapOptions>,
}

/// What only a complete bootstrap has.
#[derive(Debug, Clone)]
pub struct BootstrapOptions {
    /// The listener: `PORT`, `ADDR:PORT` or `[V6]:PORT` (`PORT` alone listens on `0.0.0.0`).
    pub listen: String,
    /// The admin interface (`ADDR:PORT`), only when asked for.
    pub admin: Option<String>,
}

/// The Lua filter's source: `corsguard.lua` with the CSRF refusal bodies filled in.
fn lua_source() -> String {
    let bodies: Vec<String> = CsrfRefusal::ALL
        .iter()
        .map(|r| format!("  [\"{}\"] = {},", r.code(), lua_string(r.body())))
        .collect();
    include_str!("corsguard.lua").replace("--CSRF_BODIES--", &bodies.join("\n"))
}

/// A double-quoted Lua string literal.
fn lua_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A single-quoted YAML scalar.
fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// `text` with every non-empty line indented by `n` spaces.
fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    let mut out = String::with_capacity(text.len() + text.lines().count() * n);
    for line in text.lines() {
        if !line.is_empty() {
            out.push_str(&pad);
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The `re2.max_program_size.error_level` the configuration needs: Envoy refuses a regex whose
/// RE2 program is larger than 100 by default, and the `Origin` matchers join a rule's whole
/// allow-list. A program is never larger than twice its regex's length.
fn re2_program_limit(config: &str) -> Option<usize> {
    let longest = config
        .split("regex: '")
        .skip(1)
        .filter_map(|rest| rest.split_once("' }").map(|(re, _)| re.len()))
        .max()?;
    (longest > 50).then(|| (2 * longest).max(1000))
}

/// What Envoy does differently, for every rule.
fn warnings(model: &PolicyModel, bootstrap: bool) -> Warnings {
    let mut w = Warnings::default();
    w.push(
        None,
        "Envoy normalises paths where `corsguard serve` answers 400: a raw `\\` becomes `/`, `..` stops at the root, `..;x` counts as `..`, and a malformed `%` escape passes unchanged; the rules match the path Envoy normalised",
    );
    if model.has_gateway {
        w.push(
            None,
            if bootstrap {
                "the `gateway:` section (listen, TLS, timeouts, limits, trusted proxies, WebSocket origin check) is not exported: the listener is --listen, plain HTTP, with Envoy's defaults"
            } else {
                "the `gateway:` section (listen, TLS, timeouts, limits, trusted proxies, WebSocket origin check) is not exported"
            },
        );
    }
    let joins_acrh = model.rules.iter().any(|r| {
        r.cors
            .as_ref()
            .is_some_and(|c| c.headers_any || c.on_reject == corsguard::OnReject::Forbid)
    });
    if joins_acrh {
        w.push(
            None,
            "Envoy joins repeated Access-Control-Request-Headers lines into one before any filter sees them: more than 16 lines, which corsguard refuses as malformed, are judged as one list",
        );
    }
    for r in &model.rules {
        rule_warnings(r, &mut w);
    }
    w
}

fn rule_warnings(r: &RuleModel, w: &mut Warnings) {
    let name = Some(r.name.as_str());
    if let PathMatch::Regex(re) = &r.path {
        w.push(
            name,
            &format!("path regex `{re}` runs as RE2 (`safe_regex`, full match, wrapped in `.*(?:…).*` to keep corsguard's search semantics)"),
        );
    }
    let mut entries: Vec<&OriginEntry> = Vec::new();
    if let Some(c) = &r.cors {
        entries.extend(&c.origins);
    }
    if let Some(k) = &r.csrf {
        entries.extend(&k.trusted);
    }
    if entries.iter().any(|o| matches!(o, OriginEntry::Regex(_))) {
        w.push(
            name,
            "origin regexes run as RE2 (`safe_regex`, full match); corsguard uses Rust `regex` syntax (same family, no look-around)",
        );
    }
}

/// Renders the Envoy configuration.
pub fn export(model: &PolicyModel, opts: &EnvoyOptions) -> Result<Export, String> {
    let w = warnings(model, opts.bootstrap.is_some());
    let default_upstream = opts
        .upstream
        .clone()
        .or_else(|| model.gateway_upstream.clone());
    let cluster_of = |r: &RuleModel| match &r.upstream {
        Some(_) => format!("{}_{}", opts.cluster, r.id),
        None => opts.cluster.clone(),
    };
    let mut clusters: Vec<(String, String)> = Vec::new();
    if let Some(u) = &default_upstream {
        clusters.push((opts.cluster.clone(), proxy_target(u)?));
    }
    for r in &model.rules {
        if let Some(u) = &r.upstream {
            clusters.push((
                cluster_of(r),
                proxy_target(u).map_err(|e| format!("{}: {e}", r.name))?,
            ));
        }
    }
    let needs_default = model.rules.iter().any(|r| r.upstream.is_none());
    if opts.bootstrap.is_some() && default_upstream.is_none() && needs_default {
        return Err(
            "no upstream to proxy to: pass --upstream URL (or set gateway.upstream); a bootstrap must define every cluster".into(),
        );
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Generated by `corsguard export envoy{}` from {}.",
        if opts.bootstrap.is_some() {
            " --bootstrap"
        } else {
            ""
        },
        opts.source_name
    );
    if opts.bootstrap.is_some() {
        out.push_str("# A complete Envoy bootstrap: `envoy -c FILE`.\n");
    } else {
        out.push_str(
            "# A fragment: put `http_filters` into your HTTP connection manager in this order (the\n\
             # corsguard Lua filter, the CORS filter, the router), use `route_config` (or merge its\n\
             # virtual hosts) and `clusters`. Set the connection manager's `normalize_path: true`,\n\
             # `merge_slashes: true` and `path_with_escaped_slashes_action: REJECT_REQUEST` (rules see\n\
             # the path `corsguard serve` matches) and `http_protocol_options: { allow_custom_methods:\n\
             # true }` (a lower-case `post` is checked, not answered 400); `--bootstrap` does all this.\n",
        );
        if default_upstream.is_none() {
            let _ = writeln!(
                out,
                "# The cluster `{}` is not generated (no --upstream or gateway.upstream): it must exist.",
                opts.cluster
            );
        }
    }
    let filters = http_filters();
    let routes = route::route_config(model, &cluster_of);
    let clusters = bootstrap::clusters(&clusters);
    let re2_limit = re2_program_limit(&routes);
    if let (None, Some(n)) = (&opts.bootstrap, re2_limit) {
        let _ = writeln!(
            out,
            "# The Origin matchers' RE2 programs may exceed Envoy's default limit of 100: set the\n\
             # runtime key `re2.max_program_size.error_level: {n}` (`--bootstrap` does)."
        );
    }
    if w.is_empty() {
        out.push_str("#\n# Envoy runs this policy exactly as corsguard does.\n");
    } else {
        out.push_str("#\n# Warnings (where Envoy differs from corsguard):\n");
        for warning in w.iter() {
            for (i, line) in super::nginx_wrap(&warning.to_string(), 92)
                .iter()
                .enumerate()
            {
                let _ = writeln!(out, "#   {}{line}", if i == 0 { "- " } else { "  " });
            }
        }
    }
    out.push('\n');
    match &opts.bootstrap {
        Some(b) => out.push_str(&bootstrap::render(
            b, &filters, &routes, &clusters, re2_limit,
        )?),
        None => {
            out.push_str("http_filters:\n");
            out.push_str(&indent(&filters, 2));
            out.push_str("\nroute_config:\n");
            out.push_str(&indent(&routes, 2));
            if !clusters.is_empty() {
                out.push_str("\nclusters:\n");
                out.push_str(&indent(&clusters, 2));
            }
        }
    }
    Ok(Export {
        text: out,
        warnings: w,
    })
}

/// The HTTP filter chain: the corsguard Lua filter, the CORS filter, the router (a YAML list).
fn http_filters() -> String {
    let mut out = String::from(
        "- name: corsguard\n  typed_config:\n    '@type': type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua\n    default_source_code:\n      inline_string: |\n",
    );
    out.push_str(&indent(&lua_source(), 8));
    out.push_str("- name: envoy.filters.http.cors\n  typed_config:\n    '@type': type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors\n");
    out.push_str("- name: envoy.filters.http.router\n  typed_config:\n    '@type': type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn lua_strings_and_indentation() {
        assert_eq!(lua_string("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
        assert_eq!(indent("a\n\n b\n", 2), "  a\n\n   b\n");
        let src = lua_source();
        assert!(!src.contains("--CSRF_BODIES--"));
        assert!(src.contains("[\"csrf-cross-site\"] = \"403 Forbidden: cross-origin request refused (csrf-cross-site)"));
    }

    #[test]
    fn re2_limit_follows_the_longest_regex() {
        assert_eq!(re2_program_limit("match: { prefix: '/' }"), None);
        assert_eq!(re2_program_limit("safe_regex: { regex: '^/a$' }"), None);
        let long = format!(
            "safe_regex: {{ regex: '{}' }} x regex: '^b$' }}",
            "a".repeat(600)
        );
        assert_eq!(re2_program_limit(&long), Some(1200));
    }
}
