//! The policy with a fix applied, built through the engine's public API: every rule's
//! effective options ([`RuleSummary`]) are written back as a policy document, with the edits
//! of the fix applied, and loaded and validated like the user's file.
//!
//! The rebuilt policy is only trusted when, without edits, it summarises exactly like the
//! original ([`faithful`]): a policy whose options the summaries cannot carry (a path matcher
//! the summaries describe in a form this module does not know, say) gets no checked fix rather than a wrong one.

use corsguard::{ConfigErrors, Format, Mode, Policy, RuleSummary};
use serde_json::{Map, Value, json};

use super::change::Edit;

/// Applies `edits` to a copy of one rule's effective options. Enabling CORS on a
/// `cors: false` rule starts from the defaults' options, as the rule then inherits them.
fn edited(s: &RuleSummary, defaults: &RuleSummary, edits: &[&Edit]) -> RuleSummary {
    let mut out = s.clone();
    for edit in edits {
        match edit {
            Edit::EnableCors => {
                out = RuleSummary {
                    name: s.name.clone(),
                    matcher: s.matcher.clone(),
                    hosts: s.hosts.clone(),
                    upstream: s.upstream.clone(),
                    ..defaults.clone()
                };
            }
            Edit::AddOrigin(o) => push_new(&mut out.allow_origins, o),
            Edit::ReplaceAnyOrigin(o) => {
                out.allow_origins.retain(|e| e != "*");
                push_new(&mut out.allow_origins, o);
            }
            Edit::AllowNullOrigin => out.allow_null_origin = true,
            Edit::AddMethod(m) => push_new(&mut out.allow_methods, m),
            Edit::AddHeaders(hs) => {
                for h in hs {
                    push_new(&mut out.allow_headers, &h.to_ascii_lowercase());
                }
            }
            Edit::AllowCredentials => out.allow_credentials = true,
            Edit::RemoveForcedOrigin => out.forced_allow_origin = None,
            Edit::Enforce => out.mode = Mode::Enforce,
            Edit::RemovePreflightPassthrough => out.preflight_passthrough = false,
            Edit::AllowPrivateNetwork => out.allow_private_network = true,
        }
    }
    out
}

fn push_new(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|x| x == item) {
        list.push(item.to_owned());
    }
}

/// Allow-list entries as a policy file writes them (`{regex: …}` for regex entries).
fn origins(list: &[String]) -> Value {
    list.iter()
        .map(|o| match o.strip_prefix("regex ") {
            Some(r) => json!({ "regex": r }),
            None => json!(o),
        })
        .collect()
}

/// The two credential safety overrides (`allow_insecure_origins_with_credentials`,
/// `allow_public_suffix_wildcards_with_credentials`) are not in the summaries: a rule gets
/// one when the policy cannot load without it, so a fix never gets a pass the user's file
/// does not give.
#[derive(Debug, Default)]
struct Overrides {
    insecure: Vec<String>,
    public_suffix: Vec<String>,
}

impl Overrides {
    /// The overrides `policy` must have: the rules whose options fail to load without them.
    fn needed(policy: &Policy) -> Overrides {
        let mut o = Overrides::default();
        if let Err(RebuildError::Invalid(e)) = build(policy, &[], &o) {
            for d in e.diagnostics() {
                let rule = d.location.path.split('.').next().unwrap_or("").to_owned();
                match d.code {
                    corsguard::Code::OriginInsecureCredentials => o.insecure.push(rule),
                    corsguard::Code::OriginPublicSuffixCredentials => o.public_suffix.push(rule),
                    _ => {}
                }
            }
        }
        o
    }
}

/// One rule's options, as a policy file writes them.
fn options(s: &RuleSummary, overrides: &Overrides) -> Map<String, Value> {
    let mut o = Map::new();
    let mut set = |k: &str, v: Value| {
        o.insert(k.to_owned(), v);
    };
    set("allow_origins", origins(&s.allow_origins));
    set("allow_methods", json!(s.allow_methods));
    set("allow_headers", json!(s.allow_headers));
    set("expose_headers", json!(s.expose_headers));
    set("allow_credentials", json!(s.allow_credentials));
    set("allow_null_origin", json!(s.allow_null_origin));
    set("allow_private_network", json!(s.allow_private_network));
    set("skip_same_origin", json!(s.skip_same_origin));
    set(
        "preflight",
        json!({ "status": s.preflight_status, "passthrough": s.preflight_passthrough }),
    );
    set("on_reject", json!(s.on_reject));
    set("mode", json!(s.mode));
    set(
        "allow_insecure_origins_with_credentials",
        json!(overrides.insecure.contains(&s.name)),
    );
    set(
        "allow_public_suffix_wildcards_with_credentials",
        json!(overrides.public_suffix.contains(&s.name)),
    );
    set(
        "csrf",
        match &s.csrf {
            None => json!({ "mode": "off" }),
            Some(c) => json!({
                "mode": c.mode,
                "trusted_origins": origins(&c.trusted_origins),
                "allow_same_site": c.allow_same_site,
            }),
        },
    );
    if let Some(m) = s.max_age {
        set("max_age", json!(m));
    }
    if let Some(f) = &s.forced_allow_origin {
        set("forced_allow_origin", json!(f));
    }
    o
}

/// A path rule's matcher, hosts and upstream, from its summary.
fn matcher(s: &RuleSummary) -> Option<Map<String, Value>> {
    let mut o = Map::new();
    let m = s.matcher.as_str();
    if m != "every path" {
        let (key, value) = [
            ("path prefix ", "path"),
            ("glob ", "glob"),
            ("regex ", "regex"),
        ]
        .into_iter()
        .find_map(|(prefix, key)| m.strip_prefix(prefix).map(|v| (key, v)))?;
        o.insert(key.to_owned(), json!(value));
    }
    if !s.hosts.is_empty() {
        o.insert("hosts".to_owned(), json!(s.hosts));
    }
    if let Some(u) = &s.upstream {
        o.insert("upstream".to_owned(), json!(u));
    }
    Some(o)
}

/// Why a policy cannot be rebuilt.
#[derive(Debug)]
pub(crate) enum RebuildError {
    /// The rebuilt policy does not validate (the fix makes the policy invalid).
    Invalid(ConfigErrors),
    /// The summaries do not carry everything this policy says.
    NotFaithful(String),
}

/// `policy` with `edits` applied (each to the rule it names), written as a policy document
/// (JSON, which is YAML) and loaded with [`Policy::load`], so it is validated exactly
/// like the user's file.
pub(crate) fn rebuild(policy: &Policy, edits: &[(String, Edit)]) -> Result<Policy, RebuildError> {
    build(policy, edits, &Overrides::needed(policy))
}

fn build(
    policy: &Policy,
    edits: &[(String, Edit)],
    overrides: &Overrides,
) -> Result<Policy, RebuildError> {
    let defaults = policy.defaults_summary();
    let for_rule = |name: &str| -> Vec<&Edit> {
        edits
            .iter()
            .filter(|(r, _)| r == name)
            .map(|(_, e)| e)
            .collect()
    };
    let mut doc = Map::new();
    let mut paths = Vec::new();
    for s in policy.summaries() {
        let e = edited(&s, &defaults, &for_rule(&s.name));
        let opts = options(&e, overrides);
        if s.name == "defaults" {
            doc.insert("defaults".to_owned(), Value::Object(opts));
            continue;
        }
        let mut rule = matcher(&s).ok_or_else(|| {
            RebuildError::NotFaithful(format!("{} matches by `{}`", s.name, s.matcher))
        })?;
        if e.cors {
            rule.extend(opts);
        } else {
            rule.insert("cors".to_owned(), json!(false));
        }
        paths.push(Value::Object(rule));
    }
    doc.insert("paths".to_owned(), Value::Array(paths));
    let text = Value::Object(doc).to_string();
    Policy::load()
        .text(&text, "the policy with the fix", Format::Yaml)
        .build()
        .map_err(RebuildError::Invalid)
}

/// Whether `policy`, rebuilt without edits, summarises exactly like itself (the upstreams,
/// which the gateway section may set and decisions never read, aside).
pub(crate) fn faithful(policy: &Policy) -> Result<(), String> {
    let strip = |p: &Policy| -> Vec<RuleSummary> {
        p.summaries()
            .into_iter()
            .map(|s| RuleSummary {
                upstream: None,
                ..s
            })
            .collect()
    };
    let rebuilt = match rebuild(policy, &[]) {
        Ok(p) => p,
        Err(RebuildError::Invalid(e)) => return Err(format!("it does not rebuild: {e}")),
        Err(RebuildError::NotFaithful(why)) => return Err(why),
    };
    let (a, b) = (strip(policy), strip(&rebuilt));
    match a.iter().zip(&b).find(|(x, y)| x != y) {
        Some((x, _)) => Err(format!(
            "the options of {} cannot be written back exactly",
            x.name
        )),
        None if a.len() != b.len() => Err("its rules cannot be written back exactly".into()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    /// Every behaviour table's policy and every policy the docs and tests explain rebuilds to
    /// the same summaries, so a fix is checked against the policy itself.
    #[test]
    fn the_policies_of_the_tables_and_examples_rebuild_faithfully() {
        let mut policies: Vec<(String, Policy)> = corsguard_testkit::load_tables()
            .into_iter()
            .map(|t| (t.name.clone(), Policy::from_yaml_str(&t.policy).unwrap()))
            .collect();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        for f in [
            "examples/corsguard.yaml",
            "examples/corsguard.toml",
            "crates/corsguard-cli/tests/fixtures/explain/api.yaml",
            "crates/corsguard-cli/tests/fixtures/explain/csrf.yaml",
        ] {
            policies.push((f.into(), Policy::from_file(format!("{root}/{f}")).unwrap()));
        }
        assert!(policies.len() >= 14);
        for (name, p) in &policies {
            if let Err(why) = faithful(p) {
                panic!("{name}: {why}");
            }
        }
    }

    #[test]
    fn edits_change_only_the_rule_they_name() {
        let p = Policy::from_yaml_str(
            "defaults: {allow_origins: ['https://a.example'], allow_methods: [GET]}\npaths:\n  - path: /x/\n    cors: false\n",
        )
        .unwrap();
        let q = rebuild(
            &p,
            &[
                ("defaults".into(), Edit::AddMethod("PUT".into())),
                ("paths[0]".into(), Edit::EnableCors),
            ],
        )
        .unwrap();
        let s = q.summaries();
        assert_eq!(s[1].allow_methods, ["GET", "PUT"]);
        assert!(s[0].cors);
        assert_eq!(
            s[0].allow_methods,
            ["GET"],
            "enabled from the original defaults"
        );
        assert_eq!(p.summaries()[1].allow_methods, ["GET"]);
    }

    #[test]
    fn the_credential_overrides_a_policy_needs_are_kept_and_no_others() {
        let p = Policy::from_yaml_str(
            "defaults:\n  allow_origins: ['http://intranet.example']\n  allow_credentials: true\n  allow_insecure_origins_with_credentials: true\npaths:\n  - path: /x/\n    allow_origins: ['https://a.example']\n",
        )
        .unwrap();
        faithful(&p).unwrap();
        let add = |rule: &str| vec![(rule.to_owned(), Edit::AddOrigin("http://b.example".into()))];
        assert!(rebuild(&p, &add("defaults")).is_ok());
        match rebuild(&p, &add("paths[0]")) {
            Err(RebuildError::Invalid(e)) => {
                assert_eq!(e.diagnostics()[0].code, "origin-insecure-credentials");
            }
            other => panic!("{other:?}"),
        }
    }
}
