//! What the Kubernetes importers (`ingress-nginx`, `istio`, `gateway-api`) share: reading a
//! manifest (one or several YAML documents) into JSON values, picking the objects of one
//! kind, and turning the path and origin matchers those APIs have into corsguard's.

use serde_json::Value;

use super::out::{MatcherOut, Options, OriginOut};

/// The documents of a manifest (`---`-separated), empty ones left out.
pub fn documents(text: &str, source: &str) -> Result<Vec<Value>, String> {
    let docs: Vec<Value> =
        serde_saphyr::from_multiple(text).map_err(|e| format!("{source}: not valid YAML: {e}"))?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// The objects of `kind` (a `kind: List` is looked into), with their names for messages.
pub fn objects<'a>(docs: &'a [Value], kind: &str) -> Vec<(String, &'a Value)> {
    let mut out = Vec::new();
    for d in docs {
        let items: Vec<&Value> = match d.get("items").and_then(Value::as_array) {
            Some(items) if d["kind"] == "List" => items.iter().collect(),
            _ => vec![d],
        };
        for o in items {
            if o["kind"] == kind {
                let name = o["metadata"]["name"].as_str().unwrap_or("(unnamed)");
                out.push((format!("{kind} {name}"), o));
            }
        }
    }
    out
}

/// The strings of a JSON array (other items skipped).
pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// Escapes regex metacharacters (RE2 and Rust `regex` share them).
pub fn escape(s: &str) -> String {
    super::super::export::model::escape_regex(s)
}

/// The body of a regex the exports wrote as `.*(?:R).*` (corsguard's search semantics under
/// a full-match dialect), or `None`.
pub fn unwrap_search(re: &str) -> Option<&str> {
    re.strip_prefix(".*(?:")?.strip_suffix(").*")
}

/// A regex matched in full (RE2 full match, as Envoy applies `safe_regex`) as a corsguard
/// path regex (searched): anchored unless it already is; `.*(?:R).*` is unwrapped.
pub fn full_match_path(re: &str) -> MatcherOut {
    if let Some(inner) = unwrap_search(re) {
        return MatcherOut::Regex(inner.to_owned());
    }
    if re.starts_with('^') && re.ends_with('$') {
        MatcherOut::Regex(re.to_owned())
    } else {
        MatcherOut::Regex(format!("^(?:{re})$"))
    }
}

/// An origin regex matched in full, as a corsguard origin: the shapes the exports write for
/// `scheme://[*.]host[:port|:*]` become those patterns again, anything else an anchored
/// `{regex: …}`.
pub fn full_match_origin(re: &str) -> OriginOut {
    pattern_of(re).map_or_else(
        || {
            if re.starts_with('^') && re.ends_with('$') {
                OriginOut::Regex(re.to_owned())
            } else {
                OriginOut::Regex(format!("^(?:{re})$"))
            }
        },
        OriginOut::Plain,
    )
}

/// `^https://(?:[a-z0-9_-]+\.)+example\.org(?::PORT)?$` → `https://*.example.org:*` etc.
fn pattern_of(re: &str) -> Option<String> {
    let body = re.strip_prefix('^')?.strip_suffix('$')?;
    let (scheme, rest) = body.split_once("://")?;
    let (star, rest) = match rest.strip_prefix("(?:[a-z0-9_-]+\\.)+") {
        Some(r) => ("*.", r),
        None => ("", rest),
    };
    let (host, port) = match rest.find("(?::") {
        Some(i) => (rest.get(..i)?, ":*"),
        None => (rest, ""),
    };
    let host = unescape(host)?;
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
    };
    (plain(scheme) && plain(&host) && (star.is_empty() || !host.contains(':')))
        .then(|| format!("{scheme}://{star}{host}{port}"))
}

/// `a\.b` → `a.b`; `None` if anything else is a regex metacharacter.
fn unescape(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            c if "()[]{}|*+?^$".contains(c) => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

/// A `*.example.org` / `api.example.com` host from an authority regex the Istio export
/// writes (`(?:[a-z0-9_-]+\.)+example\.org(?::[0-9]+)?`), or `None`.
pub fn host_of_authority(re: &str) -> Option<String> {
    let body = re.strip_suffix("(?::[0-9]+)?")?;
    match body.strip_prefix("(?:[a-z0-9_-]+\\.)+") {
        Some(b) => unescape(b).map(|h| format!("*.{h}")),
        None => unescape(body),
    }
}

/// Writes out what a proxy's per-route CORS configuration leaves unset (no credentials, no
/// `null` origin, no methods, headers or exposed headers), so that a path rule does not inherit the defaults'
/// values where the proxy's route had none.
pub fn complete(o: &mut Options) {
    o.allow_credentials.get_or_insert(false);
    o.allow_null_origin.get_or_insert(false);
    o.allow_methods.get_or_insert_with(Vec::new);
    o.allow_headers.get_or_insert_with(Vec::new);
    o.expose_headers.get_or_insert_with(Vec::new);
}

/// The trimmed items of a comma-separated list (`GET, PUT`), empty ones skipped.
pub fn comma_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::super::super::export::model::{HostPattern, PathMatch};
    use super::*;

    #[test]
    fn export_regexes_come_back_as_patterns() {
        let re = "^https://(?:[a-z0-9_-]+\\.)+example\\.org$";
        assert_eq!(
            full_match_origin(re),
            OriginOut::Plain("https://*.example.org".into())
        );
        let any_port = "^http://localhost(?::(?:[1-9][0-9]{0,3}|6553[0-5]))?$";
        assert_eq!(
            full_match_origin(any_port),
            OriginOut::Plain("http://localhost:*".into())
        );
        assert_eq!(
            full_match_origin("https://pr-[0-9]+\\.x\\.com"),
            OriginOut::Regex("^(?:https://pr-[0-9]+\\.x\\.com)$".into())
        );
        assert_eq!(
            full_match_path(".*(?:^/admin/).*"),
            MatcherOut::Regex("^/admin/".into())
        );
        let p = PathMatch::Glob {
            glob: "/v*/x".into(),
            regex: "^/v[^/]*/x$".into(),
        }
        .to_regex();
        assert_eq!(full_match_path(&p), MatcherOut::Regex(p.clone()));
    }

    #[test]
    fn authorities_come_back_as_hosts() {
        let export = super::super::super::export::k8s::istio::authority_regex;
        for h in ["*.tenant.test", "api.example.com"] {
            let pattern = match h.strip_prefix("*.") {
                Some(b) => HostPattern::Subdomains(b.into()),
                None => HostPattern::Exact(h.into()),
            };
            assert_eq!(host_of_authority(&export(&pattern)).as_deref(), Some(h));
        }
        assert_eq!(host_of_authority("api.*"), None);
    }
}
