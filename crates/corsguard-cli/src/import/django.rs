//! `corsguard import django`: the `CORS_*` settings of django-cors-headers, read from a
//! `settings.py` without running Python (see [`super::python`]).
//!
//! Semantics that differ, and how they are carried over:
//! - `CORS_ALLOWED_ORIGIN_REGEXES` use `re.match`: anchored at the start only. They get a `$`
//!   (warned: `^https://.*\.example\.com` also accepted `https://a.example.com.evil.net`).
//! - `CORS_ALLOW_ALL_ORIGINS` sends `*`, or echoes every origin when credentials are on; the
//!   latter is refused by corsguard, so credentials are turned off (warned).
//! - `CORS_URLS_REGEX` limits where CORS applies: it becomes a `regex:` rule followed by a
//!   catch-all `cors: false` rule.
//! - Unset settings take django-cors-headers' defaults (methods, headers, max-age 86400),
//!   written out explicitly.

use std::collections::BTreeMap;

use super::out::{Doc, MatcherOut, Options, OriginOut, RuleOut};
use super::python::{self, Assignment, DEFAULT_HEADERS, DEFAULT_METHODS, PyVal};

/// Every setting django-cors-headers reads (current names, aliases, removed ones).
const SETTINGS: [&str; 17] = [
    "CORS_ALLOWED_ORIGINS",
    "CORS_ORIGIN_WHITELIST",
    "CORS_ALLOWED_ORIGIN_REGEXES",
    "CORS_ORIGIN_REGEX_WHITELIST",
    "CORS_ALLOW_ALL_ORIGINS",
    "CORS_ORIGIN_ALLOW_ALL",
    "CORS_URLS_REGEX",
    "CORS_ALLOW_METHODS",
    "CORS_ALLOW_HEADERS",
    "CORS_EXPOSE_HEADERS",
    "CORS_PREFLIGHT_MAX_AGE",
    "CORS_ALLOW_CREDENTIALS",
    "CORS_ALLOW_PRIVATE_NETWORK",
    "CORS_REPLACE_HTTPS_REFERER",
    "CORS_MODEL",
    "CORS_ORIGIN_REGEX",
    "CORS_ALLOWED_ORIGINS_REGEX",
];

struct Settings {
    values: BTreeMap<String, Assignment>,
}

impl Settings {
    fn get(&self, name: &str) -> Option<&Assignment> {
        self.values.get(name)
    }
}

/// Converts the `CORS_*` assignments of a Django settings module.
pub fn convert(text: &str, source: &str) -> Result<Doc, String> {
    let assignments = python::assignments(text).map_err(|e| format!("{source}: {e}"))?;
    let mut values = BTreeMap::new();
    for a in assignments {
        if a.name.starts_with("CORS_") {
            values.insert(a.name.clone(), a);
        }
    }
    let s = Settings { values };
    let mut doc = Doc::default();
    doc.title.push(format!(
        "Converted by `corsguard import django` from {source} (CORS_* settings only)."
    ));
    doc.title
        .push("Review the warnings, then validate with `corsguard check`.".into());
    if s.values.is_empty() {
        doc.warn(format!("{source}: no CORS_* setting found"));
    }
    for name in s.values.keys() {
        if !SETTINGS[..15].contains(&name.as_str()) {
            let hint = corsguard::did_you_mean(name, &SETTINGS[..13])
                .map(|x| format!(" (did you mean `{x}`?)"))
                .unwrap_or_default();
            doc.warn(format!(
                "`{name}` is not a django-cors-headers setting{hint}: ignored"
            ));
        }
    }
    for removed in ["CORS_MODEL", "CORS_REPLACE_HTTPS_REFERER"] {
        if let Some(a) = s.get(removed) {
            doc.warn(format!(
                "line {}: `{removed}` was removed from django-cors-headers and has no corsguard equivalent: ignored",
                a.line
            ));
        }
    }

    let mut o = Options::default();
    let unknown = |doc: &mut Doc, a: &Assignment, what: &str| {
        let src = match &a.value {
            PyVal::Unknown(s) => s.clone(),
            other => other.describe(),
        };
        doc.warn(format!(
            "line {}: `{} = {src}` is computed when Django starts; corsguard cannot evaluate it: {what}",
            a.line, a.name
        ));
    };

    let credentials = match s.get("CORS_ALLOW_CREDENTIALS") {
        Some(a) => match &a.value {
            PyVal::Bool(b) => Some(*b),
            _ => {
                unknown(
                    &mut doc,
                    a,
                    "set allow_credentials by hand (left out: false)",
                );
                None
            }
        },
        None => None,
    };

    // Origins: allow-all, exact list, regexes (new names win over the aliases).
    let pick = |doc: &mut Doc, new: &str, old: &str| -> Option<Assignment> {
        match (s.get(new), s.get(old)) {
            (Some(n), Some(_)) => {
                doc.warn(format!("both `{new}` and its old alias `{old}` are set: `{old}` is ignored, as django-cors-headers does"));
                Some(n.clone())
            }
            (Some(n), None) => Some(n.clone()),
            (None, Some(o)) => Some(o.clone()),
            (None, None) => None,
        }
    };
    let allow_all = pick(&mut doc, "CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL");
    let list = pick(&mut doc, "CORS_ALLOWED_ORIGINS", "CORS_ORIGIN_WHITELIST");
    let regexes = pick(
        &mut doc,
        "CORS_ALLOWED_ORIGIN_REGEXES",
        "CORS_ORIGIN_REGEX_WHITELIST",
    );
    let all = match &allow_all {
        Some(a) => match &a.value {
            PyVal::Bool(b) => *b,
            _ => {
                unknown(
                    &mut doc,
                    a,
                    "treated as False (often `DEBUG`: allow-all in development only)",
                );
                false
            }
        },
        None => false,
    };
    let mut origins: Vec<OriginOut> = Vec::new();
    let mut placeholder = false;
    if all {
        origins.push(OriginOut::Plain("*".into()));
        if list.is_some() || regexes.is_some() {
            doc.warn("CORS_ALLOW_ALL_ORIGINS = True makes django-cors-headers ignore the origin lists: they are left out");
        }
        if credentials == Some(true) {
            doc.warn("CORS_ALLOW_ALL_ORIGINS = True with CORS_ALLOW_CREDENTIALS = True makes django-cors-headers echo every origin with credentials: any website can read your users' data. corsguard refuses this combination, so credentials are turned off; list the origins you trust in allow_origins and turn allow_credentials back on");
            o.note("allow_credentials", "was True in Django together with CORS_ALLOW_ALL_ORIGINS (unsafe): see the warnings");
        } else {
            doc.warn("CORS_ALLOW_ALL_ORIGINS = True: every website may read these responses (without credentials); make sure nothing here is private");
        }
    } else {
        if let Some(a) = &list {
            match &a.value {
                PyVal::List(items) => {
                    for item in items {
                        match item {
                            PyVal::Str(v) if v == "null" => {
                                o.allow_null_origin = Some(true);
                                doc.warn(format!("line {}: `null` is allowed: any sandboxed iframe or data: URL sends `Origin: null`; kept as allow_null_origin: true, remove it unless you really need it", a.line));
                            }
                            PyVal::Str(v) if v.starts_with("file://") => {
                                doc.warn(format!("line {}: `{v}`: file:// pages send `Origin: null`, not a file URL; left out (use allow_null_origin if you must)", a.line));
                            }
                            PyVal::Str(v) => origins.push(OriginOut::Plain(v.clone())),
                            other => doc.warn(format!("line {}: origin {} is not a string: left out", a.line, other.describe())),
                        }
                    }
                }
                PyVal::Str(_) => doc.warn(format!("line {}: `{}` is a string, not a list (django-cors-headers rejects it, check E006): left out", a.line, a.name)),
                _ => {
                    unknown(&mut doc, a, "a placeholder origin stands in for the list");
                    placeholder = true;
                }
            }
        }
        if let Some(a) = &regexes {
            match &a.value {
                PyVal::List(items) => {
                    for item in items {
                        let (re, flags) = match item {
                            PyVal::Str(r) => (r.clone(), false),
                            PyVal::Regex(r, f) => (r.clone(), *f),
                            other => {
                                doc.warn(format!(
                                    "line {}: regex {} is not a string: left out",
                                    a.line,
                                    other.describe()
                                ));
                                continue;
                            }
                        };
                        if flags {
                            doc.warn(format!("line {}: the flags of re.compile(r'{re}', …) are not carried over (corsguard matches origins byte for byte)", a.line));
                        }
                        origins.push(OriginOut::Regex(anchor(&mut doc, &re, a.line)));
                    }
                }
                _ => {
                    unknown(&mut doc, a, "left out; add the regexes by hand");
                }
            }
        }
        if origins.is_empty() && o.allow_null_origin.is_none() {
            placeholder = true;
            if list.is_none() && regexes.is_none() {
                doc.warn("no origin setting (CORS_ALLOWED_ORIGINS, CORS_ALLOWED_ORIGIN_REGEXES, CORS_ALLOW_ALL_ORIGINS): django-cors-headers then allows no origin");
            }
        }
        if placeholder {
            o.note("allow_origins", "TODO: the origins could not be read from the settings. Replace the placeholder (it matches nothing), or set CORS_ALLOWED_ORIGINS (comma-separated, as for django) and run corsguard with env overrides.");
            origins.push(OriginOut::Plain(super::nelmio::PLACEHOLDER_ORIGIN.into()));
        }
    }
    o.allow_origins = Some(origins);

    // Methods and headers (django-cors-headers' defaults when unset).
    o.allow_methods = Some(string_list(
        &mut doc,
        s.get("CORS_ALLOW_METHODS"),
        &DEFAULT_METHODS,
        "CORS_ALLOW_METHODS",
        &mut o.notes,
        "allow_methods",
    ));
    o.allow_headers = Some(string_list(
        &mut doc,
        s.get("CORS_ALLOW_HEADERS"),
        &DEFAULT_HEADERS,
        "CORS_ALLOW_HEADERS",
        &mut o.notes,
        "allow_headers",
    ));
    if let Some(a) = s.get("CORS_EXPOSE_HEADERS") {
        let l = string_list(
            &mut doc,
            Some(a),
            &[],
            "CORS_EXPOSE_HEADERS",
            &mut o.notes,
            "expose_headers",
        );
        if !l.is_empty() {
            o.expose_headers = Some(l);
        }
    }

    // Max-age: 86400 by default; 0 omits the header.
    match s.get("CORS_PREFLIGHT_MAX_AGE") {
        None => {
            o.max_age = Some(86_400);
            o.note("max_age", "django-cors-headers' default (CORS_PREFLIGHT_MAX_AGE unset). Browsers cap it: Chromium at 7200 s, Safari at 600 s; 600 is honoured everywhere.");
            doc.warn("CORS_PREFLIGHT_MAX_AGE is unset: django-cors-headers sends its default 86400, kept as max_age: 86400; browsers cap it (Chromium 7200 s, Safari 600 s), so consider 600");
        }
        Some(a) => match &a.value {
            PyVal::Int(0) => doc.title.push("CORS_PREFLIGHT_MAX_AGE = 0: no max_age, so no Access-Control-Max-Age is sent (browsers cache preflights for 5 s).".into()),
            PyVal::Int(n) if *n > 0 => {
                o.max_age = Some((*n).min(86_400));
                if *n > 86_400 {
                    doc.warn(format!("line {}: CORS_PREFLIGHT_MAX_AGE = {n} is above corsguard's limit of 86400: set to 86400 (browsers cap it at 7200 or 600 anyway)", a.line));
                } else if *n > 600 {
                    o.note("max_age", format!("CORS_PREFLIGHT_MAX_AGE = {n}. Browsers cap it: Chromium at 7200 s, Safari at 600 s."));
                }
            }
            _ => unknown(&mut doc, a, "left out (browsers then cache preflights for 5 s)"),
        },
    }
    if credentials == Some(true) && !all {
        o.allow_credentials = Some(true);
    } else if credentials == Some(true) {
        o.allow_credentials = Some(false);
    }
    if let Some(a) = s.get("CORS_ALLOW_PRIVATE_NETWORK") {
        match &a.value {
            PyVal::Bool(b) => {
                if *b {
                    o.allow_private_network = Some(true);
                }
            }
            _ => unknown(&mut doc, a, "left out"),
        }
    }
    doc.defaults = o;

    // Where CORS applies.
    if let Some(a) = s.get("CORS_URLS_REGEX") {
        let re = match &a.value {
            PyVal::Str(r) | PyVal::Regex(r, _) => Some(r.clone()),
            _ => {
                unknown(&mut doc, a, "CORS is applied to every path");
                None
            }
        };
        if let Some(re) = re.filter(|r| !matches!(r.as_str(), "^.*$" | ".*" | "^.*" | "")) {
            let anchored = if re.starts_with('^') {
                re.clone()
            } else {
                format!("^{re}")
            };
            doc.paths.push(RuleOut {
                matcher: MatcherOut::Regex(anchored.clone()),
                hosts: Vec::new(),
                cors_off: false,
                options: Options::default(),
                comment: Some(format!("CORS_URLS_REGEX = r'{re}' (re.match: anchored at the start): CORS applies here, with the defaults above")),
            });
            doc.paths.push(RuleOut {
                matcher: MatcherOut::Prefix("/".into()),
                hosts: Vec::new(),
                cors_off: true,
                options: Options::default(),
                comment: Some("every other path: django-cors-headers adds no CORS headers".into()),
            });
            if anchored != re {
                doc.warn(format!("line {}: CORS_URLS_REGEX `{re}` is used with re.match (anchored at the start): written as `{anchored}`", a.line));
            }
        }
    }
    Ok(doc)
}

fn string_list(
    doc: &mut Doc,
    a: Option<&Assignment>,
    default: &[&str],
    name: &str,
    notes: &mut Vec<(&'static str, String)>,
    key: &'static str,
) -> Vec<String> {
    let Some(a) = a else {
        if !default.is_empty() {
            notes.push((key, format!("{name} unset: django-cors-headers' default")));
        }
        return default.iter().map(|s| (*s).to_owned()).collect();
    };
    match &a.value {
        PyVal::List(items) => items
            .iter()
            .filter_map(|i| match i {
                PyVal::Str(s) => Some(s.clone()),
                other => {
                    doc.warn(format!(
                        "line {}: {name} entry {} is not a string: left out",
                        a.line,
                        other.describe()
                    ));
                    None
                }
            })
            .collect(),
        PyVal::Str(_) => {
            doc.warn(format!("line {}: {name} is a string, not a sequence (django-cors-headers rejects it): using the default", a.line));
            default.iter().map(|s| (*s).to_owned()).collect()
        }
        PyVal::Unknown(src) => {
            doc.warn(format!("line {}: `{name} = {src}` is computed when Django starts; corsguard cannot evaluate it: using django-cors-headers' default, check it", a.line));
            default.iter().map(|s| (*s).to_owned()).collect()
        }
        other => {
            doc.warn(format!(
                "line {}: {name} = {} is not a sequence of strings: using the default",
                a.line,
                other.describe()
            ));
            default.iter().map(|s| (*s).to_owned()).collect()
        }
    }
}

/// `re.match` anchors at the start only: add `^` (same meaning) and `$` (narrower, warned).
fn anchor(doc: &mut Doc, re: &str, line: usize) -> String {
    let mut out = re.to_owned();
    if let Some(body) = out.strip_suffix("\\Z") {
        out = format!("{body}$");
    }
    if !out.starts_with('^') {
        out = format!("^{out}");
    }
    if !out.ends_with('$') || out.ends_with("\\$") {
        out = if out.contains('|') {
            format!("^(?:{})$", &out[1..])
        } else {
            format!("{out}$")
        };
        doc.warn(format!(
            "line {line}: origin regex `{re}` is used with re.match, which anchors only at the start: it also accepted origins that merely start with a match (such as `https://app.example.com.evil.net`); anchored as `{out}`"
        ));
    }
    out
}
