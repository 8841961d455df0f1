//! `corsguard import nelmio`: NelmioCorsBundle's `config/packages/nelmio_cors.yaml`.
//!
//! Nelmio semantics that differ from corsguard, and how they are carried over:
//! - `origin_regex: true` regexes are wrapped as `{<re>}i`: case-insensitive and unanchored
//!   unless they say `^`/`$`. They become anchored `{regex: '^…$'}` entries (warned).
//! - `allow_origin: '*'` always echoes the origin, so with `allow_credentials: true` it lets
//!   every site make credentialed requests. corsguard refuses that: credentials are turned
//!   off (warned).
//! - `paths` keys are case-insensitive, unanchored regexes tried in order → `regex:` rules.
//! - Per-path options pass through PHP's `array_filter`, so falsy values (`false`, `[]`, `0`)
//!   never override the defaults: they are left out (warned).
//! - `%env(…)%` and other container parameters are resolved by Symfony at runtime: they
//!   become placeholders with a TODO comment.

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::out::{Doc, MatcherOut, Options, OriginOut, RuleOut};

/// A YAML value that keeps mapping order (paths are tried in order).
#[derive(Debug, Clone, PartialEq)]
pub enum Y {
    /// `~` / `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Y>),
    /// A mapping, in document order.
    Map(Vec<(String, Y)>),
}

impl<'de> Deserialize<'de> for Y {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Y, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Y;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Y, E> {
                Ok(Y::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Y, E> {
                Ok(Y::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Y, E> {
                Ok(i64::try_from(v).map_or(Y::Float(v as f64), Y::Int))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Y, E> {
                Ok(Y::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Y, E> {
                Ok(Y::Str(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Y, E> {
                Ok(Y::Str(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Y, E> {
                Ok(Y::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Y, E> {
                Ok(Y::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Y, D::Error> {
                Y::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Y, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element::<Y>()? {
                    v.push(x);
                }
                Ok(Y::Seq(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Y, A::Error> {
                let mut v = Vec::new();
                while let Some((k, x)) = a.next_entry::<Y, Y>()? {
                    let key = match k {
                        Y::Str(s) => s,
                        Y::Int(i) => i.to_string(),
                        Y::Bool(b) => b.to_string(),
                        Y::Null => "~".into(),
                        other => format!("{other:?}"),
                    };
                    v.push((key, x));
                }
                Ok(Y::Map(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl Y {
    fn get(&self, key: &str) -> Option<&Y> {
        match self {
            Y::Map(m) => m.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// PHP truthiness, as `array_filter` applies it.
    fn truthy(&self) -> bool {
        match self {
            Y::Null => false,
            Y::Bool(b) => *b,
            Y::Int(i) => *i != 0,
            Y::Float(f) => *f != 0.0,
            Y::Str(s) => !s.is_empty() && s != "0",
            Y::Seq(v) => !v.is_empty(),
            Y::Map(m) => !m.is_empty(),
        }
    }

    /// A list of strings (a scalar becomes a one-element list, as Nelmio normalises `'*'`).
    fn strings(&self) -> Option<Vec<String>> {
        match self {
            Y::Str(s) => Some(vec![s.clone()]),
            Y::Seq(v) => v
                .iter()
                .map(|x| match x {
                    Y::Str(s) => Some(s.clone()),
                    Y::Int(i) => Some(i.to_string()),
                    _ => None,
                })
                .collect(),
            Y::Null => Some(Vec::new()),
            _ => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            Y::Null => "~".into(),
            Y::Bool(b) => b.to_string(),
            Y::Int(i) => i.to_string(),
            Y::Float(f) => f.to_string(),
            Y::Str(s) => format!("'{s}'"),
            Y::Seq(v) => format!(
                "[{}]",
                v.iter().map(Y::describe).collect::<Vec<_>>().join(", ")
            ),
            Y::Map(_) => "{…}".into(),
        }
    }
}

/// A Symfony container parameter (`%env(X)%`, `%kernel.debug%`): resolved at runtime.
fn parameter(s: &str) -> Option<&str> {
    let t = s.trim();
    (t.len() > 2 && t.starts_with('%') && t.ends_with('%') && !t.contains(' '))
        .then(|| &t[1..t.len() - 1])
}

/// The placeholder origin written where Nelmio read the origins from a parameter.
pub const PLACEHOLDER_ORIGIN: &str = "https://replace-me.invalid";

const KNOWN: [&str; 11] = [
    "allow_credentials",
    "allow_origin",
    "allow_headers",
    "allow_methods",
    "allow_private_network",
    "expose_headers",
    "max_age",
    "hosts",
    "origin_regex",
    "forced_allow_origin_value",
    "skip_same_as_origin",
];

struct Ctx<'a> {
    doc: &'a mut Doc,
}

/// Converts a NelmioCorsBundle configuration.
pub fn convert(text: &str, source: &str) -> Result<Doc, String> {
    let root: Y =
        serde_saphyr::from_str(text).map_err(|e| format!("{source}: not valid YAML: {e}"))?;
    let root = match root.get("nelmio_cors") {
        Some(r) => r.clone(),
        None if root.get("defaults").is_some() || root.get("paths").is_some() => root,
        None => return Err(format!("{source}: no `nelmio_cors:` key")),
    };
    let mut doc = Doc::default();
    doc.title.push(format!(
        "Converted by `corsguard import nelmio` from {source}."
    ));
    doc.title
        .push("Review the warnings, then validate with `corsguard check`.".into());
    let defaults = root.get("defaults").cloned().unwrap_or(Y::Null);
    if let Y::Map(m) = &root {
        for (k, _) in m {
            if k != "defaults" && k != "paths" {
                doc.warn(format!(
                    "`nelmio_cors.{k}` is not a NelmioCorsBundle option: ignored"
                ));
            }
        }
    }
    let mut ctx = Ctx { doc: &mut doc };
    let default_regex = defaults.get("origin_regex").is_some_and(Y::truthy);
    let default_credentials = defaults.get("allow_credentials").is_some_and(Y::truthy);
    let mut d = ctx.options(
        &defaults,
        "defaults",
        default_regex,
        default_credentials,
        false,
    );
    if d.allow_origins.is_none() {
        // Nelmio's default is an empty list: nothing allowed unless a path says otherwise.
        d.allow_origins = Some(Vec::new());
    }
    let mut rules = Vec::new();
    if let Some(Y::Map(paths)) = root.get("paths") {
        let n = paths.len();
        for (i, (key, opts)) in paths.iter().enumerate() {
            let scope = format!("paths '{key}'");
            let regex = default_regex || opts.get("origin_regex").is_some_and(Y::truthy);
            let credentials =
                default_credentials || opts.get("allow_credentials").is_some_and(Y::truthy);
            let options = ctx.options(opts, &scope, regex, credentials, true);
            let hosts = match opts.get("hosts") {
                Some(h) if h.truthy() => match ctx.hosts(h, &scope) {
                    Some(h) => h,
                    None => continue,
                },
                _ => Vec::new(),
            };
            let only_defaults = options_empty(&options) && hosts.is_empty();
            if only_defaults && i + 1 == n {
                ctx.doc.title.push(format!(
                    "paths '{key}': ~ only applies the defaults, which corsguard applies to every path: left out."
                ));
                continue;
            }
            if key.chars().any(|c| c.is_ascii_alphabetic()) {
                ctx.doc.warn(format!(
                    "paths '{key}': Nelmio matched path keys case-insensitively; corsguard's `regex:` is case-sensitive"
                ));
            }
            if !key.starts_with('^') {
                ctx.doc.warn(format!(
                    "paths '{key}': the key is not anchored with `^`, so it matches anywhere in the path (as in Nelmio); anchor it if you meant a prefix"
                ));
            }
            rules.push(RuleOut {
                matcher: MatcherOut::Regex(key.clone()),
                hosts,
                cors_off: false,
                options,
                comment: only_defaults.then(|| format!("'{key}': ~ in Nelmio (the defaults)")),
            });
        }
    }
    if d.allow_origins.as_ref().is_some_and(Vec::is_empty)
        && !rules.iter().any(|r| {
            r.options
                .allow_origins
                .as_ref()
                .is_some_and(|o| !o.is_empty())
        })
    {
        ctx.doc.warn(
            "no origin is allowed anywhere: Nelmio then sends no CORS headers at all; add the origins you trust",
        );
    }
    doc.defaults = d;
    doc.paths = rules;
    Ok(doc)
}

fn options_empty(o: &Options) -> bool {
    o.allow_origins.is_none()
        && o.allow_methods.is_none()
        && o.allow_headers.is_none()
        && o.expose_headers.is_none()
        && o.allow_credentials.is_none()
        && o.max_age.is_none()
        && o.allow_private_network.is_none()
        && o.skip_same_origin.is_none()
        && o.forced_allow_origin.is_none()
}

impl Ctx<'_> {
    fn options(
        &mut self,
        y: &Y,
        scope: &str,
        regex: bool,
        credentials: bool,
        is_path: bool,
    ) -> Options {
        let mut o = Options::default();
        let Y::Map(m) = y else {
            if *y != Y::Null {
                self.doc.warn(format!(
                    "{scope}: expected a mapping, found {}: ignored",
                    y.describe()
                ));
            }
            return o;
        };
        for (k, v) in m {
            if !KNOWN.contains(&k.as_str()) {
                let hint = corsguard::did_you_mean(k, &KNOWN)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                self.doc
                    .warn(format!("{scope}: unknown option `{k}`{hint}: ignored"));
                continue;
            }
            if is_path && !v.truthy() && !matches!(k.as_str(), "hosts" | "origin_regex") {
                self.doc.warn(format!(
                    "{scope}: `{k}: {}` has no effect in Nelmio (per-path values go through array_filter, so a falsy value never overrides the defaults): left out",
                    v.describe()
                ));
                continue;
            }
            if let Y::Str(s) = v
                && let Some(p) = parameter(s)
                && k != "allow_origin"
            {
                self.doc.warn(format!(
                    "{scope}: `{k}` comes from the container parameter `%{p}%`, resolved by Symfony at runtime: left out, set it by hand"
                ));
                continue;
            }
            match k.as_str() {
                "allow_credentials" => o.allow_credentials = self.boolean(v, scope, k),
                "allow_private_network" => o.allow_private_network = self.boolean(v, scope, k),
                "skip_same_as_origin" => {
                    // corsguard's default is true, like Nelmio's.
                    if let Some(false) = self.boolean(v, scope, k) {
                        o.skip_same_origin = Some(false);
                    }
                }
                "origin_regex" | "hosts" => {}
                "allow_origin" => {
                    o.allow_origins = self.origins(v, scope, regex, credentials, &mut o.notes)
                }
                "allow_methods" => {
                    if let Some(l) = self.list(v, scope, k) {
                        if l.iter().any(|m| m == "*") {
                            self.doc.warn(format!(
                                "{scope}: Nelmio has no method wildcard (it upper-cases `*` into a method named `*`); corsguard reads `*` as every method"
                            ));
                        }
                        o.allow_methods = Some(l.iter().map(|m| m.to_ascii_uppercase()).collect());
                    }
                }
                "allow_headers" => {
                    if let Some(l) = self.list(v, scope, k) {
                        if l.iter().any(|h| h == "*") && !credentials {
                            self.doc.warn(format!(
                                "{scope}: Nelmio's `allow_headers: '*'` reflects every requested header, Authorization included; corsguard's `*` follows the spec and never covers Authorization: list it if clients send it"
                            ));
                        }
                        o.allow_headers = Some(l.iter().map(|h| h.to_ascii_lowercase()).collect());
                    }
                }
                "expose_headers" => {
                    if let Some(mut l) = self.list(v, scope, k) {
                        if credentials && l.iter().any(|h| h == "*") {
                            self.doc.warn(format!(
                                "{scope}: `expose_headers: '*'` does not work for credentialed requests (browsers read it as a header named `*`): left out, list the headers clients need"
                            ));
                            l.retain(|h| h != "*");
                        }
                        o.expose_headers = Some(l.iter().map(|h| h.to_ascii_lowercase()).collect());
                    }
                }
                "max_age" => match v {
                    Y::Int(0) => {}
                    Y::Int(n) if *n > 0 => {
                        o.max_age = Some((*n).min(86_400));
                        if *n > 86_400 {
                            self.doc.warn(format!("{scope}: max_age {n} is above corsguard's limit of 86400: set to 86400 (browsers cap it at 7200 or 600 anyway)"));
                        } else if *n > 600 {
                            o.note("max_age", format!("Nelmio: max_age {n}. Browsers cap it (Chromium 7200 s, Safari 600 s); 600 is honoured everywhere."));
                        }
                    }
                    Y::Str(s) if s.trim().parse::<i64>().is_ok() => {
                        o.max_age = s.trim().parse::<i64>().ok().map(|n| n.clamp(0, 86_400));
                    }
                    other => self.doc.warn(format!(
                        "{scope}: max_age {} is not a number of seconds: left out",
                        other.describe()
                    )),
                },
                "forced_allow_origin_value" => match v {
                    Y::Str(s) if s == "*" || (s.contains("://") && !s.contains('*')) => {
                        if s == "*" && credentials {
                            self.doc.warn(format!("{scope}: `forced_allow_origin_value: '*'` with credentials is rejected by browsers: left out"));
                        } else {
                            o.forced_allow_origin = Some(s.clone());
                        }
                    }
                    Y::Null => {}
                    other => self.doc.warn(format!(
                        "{scope}: forced_allow_origin_value {} is not `*` or one origin: left out",
                        other.describe()
                    )),
                },
                _ => {}
            }
        }
        if o.allow_origins
            .as_ref()
            .is_some_and(|l| l.contains(&OriginOut::Plain("*".into())))
            && credentials
        {
            self.doc.warn(format!(
                "{scope}: `allow_origin: '*'` with `allow_credentials: true` makes Nelmio echo every origin with credentials: any website can read your users' data. corsguard refuses this combination, so credentials are turned off here; list the origins you trust and set allow_credentials: true again"
            ));
            o.allow_credentials = Some(false);
            o.note(
                "allow_credentials",
                "was true in Nelmio together with allow_origin '*' (unsafe): see the warnings",
            );
        }
        o
    }

    fn boolean(&mut self, v: &Y, scope: &str, k: &str) -> Option<bool> {
        match v {
            Y::Bool(b) => Some(*b),
            Y::Null => None,
            other => {
                self.doc.warn(format!(
                    "{scope}: `{k}` must be a boolean, found {}: left out",
                    other.describe()
                ));
                None
            }
        }
    }

    fn list(&mut self, v: &Y, scope: &str, k: &str) -> Option<Vec<String>> {
        match v.strings() {
            Some(l) => {
                let mut out = Vec::new();
                for s in l {
                    match parameter(&s) {
                        Some(p) => self.doc.warn(format!(
                            "{scope}: `{k}` entry `%{p}%` is a container parameter resolved at runtime: left out, add the values by hand"
                        )),
                        None => out.push(s),
                    }
                }
                Some(out)
            }
            None => {
                self.doc.warn(format!(
                    "{scope}: `{k}` must be a list of strings, found {}: left out",
                    v.describe()
                ));
                None
            }
        }
    }

    fn origins(
        &mut self,
        v: &Y,
        scope: &str,
        regex: bool,
        credentials: bool,
        notes: &mut Vec<(&'static str, String)>,
    ) -> Option<Vec<OriginOut>> {
        let list = self.list_keep_params(v, scope)?;
        let mut out = Vec::new();
        let mut params = Vec::new();
        for s in list {
            if let Some(p) = parameter(&s) {
                params.push(p.to_owned());
                continue;
            }
            if s == "*" {
                out.push(OriginOut::Plain("*".into()));
                continue;
            }
            if regex {
                out.push(OriginOut::Regex(self.anchor(&s, scope)));
            } else {
                out.push(OriginOut::Plain(s));
            }
        }
        let _ = credentials;
        if !params.is_empty() {
            let shown: Vec<String> = params.iter().map(|p| format!("%{p}%")).collect();
            let what = if regex { "a regex" } else { "an origin" };
            self.doc.warn(format!(
                "{scope}: allow_origin reads {} from the environment at runtime ({what}); corsguard cannot know the value: a placeholder origin `{PLACEHOLDER_ORIGIN}` (which matches nothing) stands in for it. Replace it, or set CORS_ALLOWED_ORIGINS when running corsguard with env overrides",
                shown.join(", ")
            ));
            notes.push((
                "allow_origins",
                format!(
                    "TODO: Nelmio read {} here ({what}, e.g. '^https?://(localhost|127\\.0\\.0\\.1)(:[0-9]+)?$' in the Flex recipe's .env). Replace the placeholder with your origins (patterns such as http://localhost:* work), or set CORS_ALLOWED_ORIGINS (comma-separated) and run corsguard with env overrides.",
                    shown.join(", ")
                ),
            ));
            out.push(OriginOut::Plain(PLACEHOLDER_ORIGIN.into()));
        }
        Some(out)
    }

    fn list_keep_params(&mut self, v: &Y, scope: &str) -> Option<Vec<String>> {
        match v.strings() {
            Some(l) => Some(l),
            None => {
                self.doc.warn(format!(
                    "{scope}: `allow_origin` must be a list of strings, found {}: left out",
                    v.describe()
                ));
                None
            }
        }
    }

    /// Nelmio wraps origin regexes as `{<re>}i`; corsguard needs `^…$`.
    fn anchor(&mut self, re: &str, scope: &str) -> String {
        let start = re.starts_with('^');
        let end = re.ends_with('$') && !re.ends_with("\\$");
        let out = match (start, end) {
            (true, true) => re.to_owned(),
            (true, false) => format!("{re}$"),
            (false, true) => format!("^{re}"),
            (false, false) => format!("^(?:{re})$"),
        };
        if out != re {
            self.doc.warn(format!(
                "{scope}: origin regex `{re}` is not anchored at both ends: Nelmio accepted any origin merely containing a match (e.g. `https://example.com.evil.net` for `example\\.com`); converted to `{out}`. Check that it still matches your origins"
            ));
        }
        if re.chars().any(|c| c.is_ascii_uppercase()) {
            self.doc.warn(format!(
                "{scope}: origin regex `{re}` was case-insensitive in Nelmio; corsguard matches origins byte for byte (browsers send them in lower case)"
            ));
        }
        out
    }

    /// Nelmio host regexes (`{<re>}i`, unanchored) → corsguard `hosts:` (exact names or
    /// `*.domain`). `None` when a regex has no equivalent (the rule is then left out).
    fn hosts(&mut self, v: &Y, scope: &str) -> Option<Vec<String>> {
        let Some(list) = v.strings() else {
            self.doc
                .warn(format!("{scope}: `hosts` must be a list: rule left out"));
            return None;
        };
        let mut out = Vec::new();
        for re in list {
            let anchored = re.starts_with('^') && re.ends_with('$');
            let body = re.trim_start_matches('^').trim_end_matches('$');
            let (prefix, rest) = [
                "(.*\\.)?",
                "(.+\\.)?",
                "([^.]+\\.)?",
                ".*\\.",
                ".+\\.",
                "[^.]+\\.",
                "([a-z0-9-]+\\.)+",
            ]
            .iter()
            .find_map(|p| body.strip_prefix(p).map(|r| (Some(*p), r)))
            .unwrap_or((None, body));
            let first = out.len();
            let name = rest.replace("\\.", ".").to_ascii_lowercase();
            let plain = !name.is_empty()
                && name.split('.').all(|l| {
                    !l.is_empty()
                        && l.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                });
            if !plain {
                self.doc.warn(format!(
                    "{scope}: host regex `{re}` has no corsguard equivalent (hosts are exact names or `*.domain`): the rule is left out; rewrite it by hand"
                ));
                return None;
            }
            match prefix {
                Some(p) if p.ends_with(")?") => {
                    out.push(name.clone());
                    out.push(format!("*.{name}"));
                }
                Some(_) => out.push(format!("*.{name}")),
                None => out.push(name.clone()),
            }
            if !anchored {
                self.doc.warn(format!(
                    "{scope}: host regex `{re}` is unanchored in Nelmio (it matched any host containing it); converted to the host pattern(s) {}",
                    out.get(first..)
                        .unwrap_or_default()
                        .iter()
                        .map(|h| format!("`{h}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        Some(out)
    }
}
