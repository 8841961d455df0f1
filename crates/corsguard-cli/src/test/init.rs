//! `corsguard test --init`: a starter expectations file from a policy — for every rule, one
//! request it allows and one it refuses, each checked with the browser model before it is
//! written, so the starter passes as written and pins what the policy does today.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use corsguard::{Policy, RuleSummary};
use corsguard_browser::BrowserRequest;

use super::file::{Case, Expect};
use super::run;
use crate::explain::{self, Credentials};

/// The origin the refused cases come from.
const STRANGER: &str = "https://not-allowed.example";
/// The origin that stands for "any site" on a rule that allows `*`.
const ANY_SITE: &str = "https://any-site.example";

/// Paths that a rule's matcher matches, best first.
fn paths(s: &RuleSummary) -> Vec<String> {
    let m = s.matcher.as_str();
    if let Some(p) = m.strip_prefix("path prefix ") {
        return vec![if p.ends_with('/') {
            format!("{p}example")
        } else {
            p.to_owned()
        }];
    }
    if let Some(g) = m.strip_prefix("glob ") {
        return vec![g.replace("**", "a/b").replace(['*', '?'], "x")];
    }
    if let Some(r) = m.strip_prefix("regex ") {
        let plain: String = r
            .trim_start_matches('^')
            .trim_end_matches('$')
            .chars()
            .filter(|c| !"\\()[]{}|+*?.".contains(*c))
            .collect();
        return vec![plain.clone(), format!("{plain}/example")];
    }
    ["/", "/api/example", "/corsguard-test/example"]
        .map(str::to_owned)
        .to_vec()
}

/// The host of the starter's URLs for a rule (its first `hosts:` entry, if any).
fn host(s: &RuleSummary) -> String {
    match s.hosts.first() {
        Some(h) => match h.strip_prefix("*.") {
            Some(base) => format!("api.{base}"),
            None => h.clone(),
        },
        None => "api.example.com".to_owned(),
    }
}

/// An origin an allow-list entry admits (`None` for regex entries).
fn origin_for(entry: &str) -> Option<String> {
    if entry == "*" {
        return Some(ANY_SITE.to_owned());
    }
    if entry.starts_with("regex ") {
        return None;
    }
    let (scheme, rest) = entry.split_once("://")?;
    let rest = rest.replacen("*.", "app.", 1);
    let rest = match rest.strip_suffix(":*") {
        Some(h) => format!("{h}:3000"),
        None => rest,
    };
    Some(format!("{scheme}://{rest}"))
}

/// The rule that answers `url`.
fn rule_of(policy: &Policy, url: &str) -> Option<String> {
    let req = BrowserRequest::new(STRANGER, url);
    let r = explain::simulate_report(policy, &req, 200, &http::HeaderMap::new());
    r.exchanges.first().map(|e| e.policy.rule.clone())
}

fn case(
    name: String,
    origin: &str,
    url: &str,
    method: &str,
    header: Option<&str>,
    credentials: Credentials,
    expect: Expect,
) -> Case {
    Case {
        name,
        origin: origin.to_owned(),
        url: url.to_owned(),
        method: method.to_owned(),
        headers: header
            .map(|h| vec![(h.to_owned(), "1".to_owned())])
            .unwrap_or_default(),
        credentials,
        expect,
        console: None,
    }
}

/// The candidate allowed requests of a rule, most telling first.
fn allowed_candidates(s: &RuleSummary, url: &str) -> Vec<Case> {
    let creds = if s.allow_credentials {
        Credentials::Include
    } else {
        Credentials::Omit
    };
    let method = s
        .allow_methods
        .iter()
        .find(|m| !matches!(m.as_str(), "GET" | "HEAD" | "POST" | "*"))
        .map_or("GET", String::as_str);
    let header = s
        .allow_headers
        .iter()
        .find(|h| !matches!(h.as_str(), "*" | "authorization" | "content-type"))
        .map(String::as_str);
    let mut origins: Vec<String> = s
        .allow_origins
        .iter()
        .filter_map(|o| origin_for(o))
        .collect();
    origins.extend(s.forced_allow_origin.clone());
    let mut out = Vec::new();
    for o in &origins {
        let name = |m: &str| format!("{o} can {m} ({}: {})", s.name, s.matcher);
        for (m, h, c) in [
            (method, header, creds),
            ("GET", None, creds),
            ("GET", None, Credentials::Omit),
        ] {
            out.push(case(name(m), o, url, m, h, c, Expect::Allowed));
        }
    }
    out
}

/// The candidate refused requests of a rule.
fn refused_candidates(s: &RuleSummary, url: &str) -> Vec<Case> {
    let rule = format!("{}: {}", s.name, s.matcher);
    let mut out = vec![case(
        format!("{STRANGER} cannot read ({rule})"),
        STRANGER,
        url,
        "GET",
        None,
        Credentials::Omit,
        Expect::Blocked,
    )];
    if let Some(o) = s.allow_origins.first().and_then(|o| origin_for(o)) {
        for (what, method, creds) in [
            ("send credentials", "GET", Credentials::Include),
            ("PURGE", "PURGE", Credentials::Omit),
        ] {
            out.push(case(
                format!("{o} cannot {what} ({rule})"),
                &o,
                url,
                method,
                None,
                creds,
                Expect::Blocked,
            ));
        }
    }
    out
}

/// The first candidate whose model outcome is what it expects, with the console message
/// Chromium prints for a refused one.
fn first_passing(policy: &Policy, candidates: Vec<Case>) -> Option<Case> {
    candidates.into_iter().find_map(|mut c| {
        let o = run::offline(policy, &c);
        if !o.passed {
            return None;
        }
        c.console = o
            .console_message
            .as_deref()
            .and_then(|m| m.split_once("has been blocked by CORS policy: "))
            .map(|(_, tail)| tail.to_owned());
        Some(c)
    })
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("'{s}'"))
}

fn write_case(out: &mut String, c: &Case) {
    let _ = writeln!(out, "  - name: {}", quoted(&c.name));
    let _ = writeln!(out, "    origin: {}", c.origin);
    let _ = writeln!(out, "    url: {}", c.url);
    if c.method != "GET" {
        let _ = writeln!(out, "    method: {}", c.method);
    }
    for (n, v) in &c.headers {
        let _ = writeln!(out, "    headers: {{{n}: {}}}", quoted(v));
    }
    let creds = match c.credentials {
        Credentials::Omit => "omit",
        Credentials::SameOrigin => "same-origin",
        Credentials::Include => "include",
    };
    let _ = writeln!(out, "    credentials: {creds}");
    let _ = writeln!(out, "    expect: {}", c.expect.as_str());
    if let Some(m) = &c.console {
        let _ = writeln!(out, "    console: {}", quoted(m));
    }
}

/// The starter file for `policy`, which the file names as `policy_ref`.
pub(crate) fn starter(policy: &Policy, policy_ref: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# corsguard test: a starter written by `corsguard test --init` from {policy_ref}.\n\
         # For every rule, one request it allows and one it refuses, as the policy does today.\n\
         # Run it with `corsguard test FILE`; rename the cases and use your own origins and URLs."
    );
    let _ = writeln!(out, "policy: {}", quoted(policy_ref));
    let _ = writeln!(out, "cases:");
    for s in policy.summaries() {
        let host = host(&s);
        let url = paths(&s)
            .into_iter()
            .map(|p| format!("https://{host}{p}"))
            .find(|u| rule_of(policy, u).as_deref() == Some(s.name.as_str()));
        let Some(url) = url else {
            let _ = writeln!(
                out,
                "  # {} ({}): no example URL found for this rule; add its cases by hand",
                s.name, s.matcher
            );
            continue;
        };
        match first_passing(policy, allowed_candidates(&s, &url)) {
            Some(c) => write_case(&mut out, &c),
            None => {
                let _ = writeln!(
                    out,
                    "  # {} ({}): no request is allowed here{}",
                    s.name,
                    s.matcher,
                    if s.cors {
                        ""
                    } else {
                        " (`cors: false`: the application answers CORS itself)"
                    }
                );
            }
        }
        if let Some(c) = first_passing(policy, refused_candidates(&s, &url)) {
            write_case(&mut out, &c);
        }
    }
    out
}

/// `target` relative to the directory `from` (both as the user gave them, resolved against
/// the current directory).
pub(crate) fn relative(target: &Path, from: &Path) -> PathBuf {
    let abs = |p: &Path| {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        p.components()
            .filter(|c| !matches!(c, Component::CurDir))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|c| c.as_os_str().to_owned())
            .collect::<Vec<_>>()
    };
    let (t, f) = (abs(target), abs(from));
    let common = t.iter().zip(&f).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in t.iter().skip(common) {
        out.push(c);
    }
    out
}
