//! The corsguard YAML an importer produces: options, path rules, notes (as comments next to
//! what they concern) and the warnings (as a comment block at the top).

use std::fmt::Write as _;

/// One `allow_origins` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginOut {
    /// An origin, a pattern (`https://*.example.com`), `*` or `null`.
    Plain(String),
    /// `{regex: …}`.
    Regex(String),
}

/// An option set (`defaults:` or a path rule). `None` = not written.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `allow_origins`.
    pub allow_origins: Option<Vec<OriginOut>>,
    /// `allow_methods`.
    pub allow_methods: Option<Vec<String>>,
    /// `allow_headers`.
    pub allow_headers: Option<Vec<String>>,
    /// `expose_headers`.
    pub expose_headers: Option<Vec<String>>,
    /// `allow_credentials`.
    pub allow_credentials: Option<bool>,
    /// `max_age`.
    pub max_age: Option<i64>,
    /// `allow_private_network`.
    pub allow_private_network: Option<bool>,
    /// `allow_null_origin`.
    pub allow_null_origin: Option<bool>,
    /// `skip_same_origin`.
    pub skip_same_origin: Option<bool>,
    /// `forced_allow_origin`.
    pub forced_allow_origin: Option<String>,
    /// `allow_insecure_origins_with_credentials`.
    pub allow_insecure_origins_with_credentials: Option<bool>,
    /// Comments written above a key: (key, text).
    pub notes: Vec<(&'static str, String)>,
}

impl Options {
    /// Adds a comment above `key`.
    pub fn note(&mut self, key: &'static str, text: impl Into<String>) {
        self.notes.push((key, text.into()));
    }

    fn is_empty(&self) -> bool {
        self.allow_origins.is_none()
            && self.allow_methods.is_none()
            && self.allow_headers.is_none()
            && self.expose_headers.is_none()
            && self.allow_credentials.is_none()
            && self.max_age.is_none()
            && self.allow_private_network.is_none()
            && self.allow_null_origin.is_none()
            && self.skip_same_origin.is_none()
            && self.forced_allow_origin.is_none()
            && self.allow_insecure_origins_with_credentials.is_none()
    }

    fn write(&self, out: &mut String, indent: &str, first_prefix: &str) {
        let mut prefix = first_prefix.to_owned();
        let mut key = |out: &mut String, k: &'static str, value: String| {
            for (nk, text) in &self.notes {
                if *nk == k {
                    for line in super::super::export::nginx_wrap(text, 88) {
                        let _ = writeln!(out, "{indent}# {line}");
                    }
                }
            }
            let _ = writeln!(out, "{prefix}{k}:{value}");
            prefix = indent.to_owned();
        };
        if let Some(o) = &self.allow_origins {
            let mut v = String::new();
            if o.is_empty() {
                v.push_str(" []");
            }
            for e in o {
                match e {
                    OriginOut::Plain(s) => {
                        let _ = write!(v, "\n{indent}  - {}", q(s));
                    }
                    OriginOut::Regex(r) => {
                        let _ = write!(v, "\n{indent}  - regex: {}", q(r));
                    }
                }
            }
            key(out, "allow_origins", v);
        }
        let list = |l: &[String]| {
            format!(
                " [{}]",
                l.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
            )
        };
        if let Some(l) = &self.allow_methods {
            key(out, "allow_methods", list(l));
        }
        if let Some(l) = &self.allow_headers {
            key(out, "allow_headers", list(l));
        }
        if let Some(l) = &self.expose_headers {
            key(out, "expose_headers", list(l));
        }
        if let Some(b) = self.allow_credentials {
            key(out, "allow_credentials", format!(" {b}"));
        }
        if let Some(b) = self.allow_insecure_origins_with_credentials {
            key(
                out,
                "allow_insecure_origins_with_credentials",
                format!(" {b}"),
            );
        }
        if let Some(m) = self.max_age {
            key(out, "max_age", format!(" {m}"));
        }
        if let Some(b) = self.allow_private_network {
            key(out, "allow_private_network", format!(" {b}"));
        }
        if let Some(b) = self.allow_null_origin {
            key(out, "allow_null_origin", format!(" {b}"));
        }
        if let Some(b) = self.skip_same_origin {
            key(out, "skip_same_origin", format!(" {b}"));
        }
        if let Some(f) = &self.forced_allow_origin {
            key(out, "forced_allow_origin", format!(" {}", q(f)));
        }
    }
}

/// How a path rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatcherOut {
    /// `path: …` (segment-aware prefix).
    Prefix(String),
    /// `regex: …`.
    Regex(String),
}

/// One `paths:` entry.
#[derive(Debug, Clone)]
pub struct RuleOut {
    /// The matcher.
    pub matcher: MatcherOut,
    /// `hosts:`.
    pub hosts: Vec<String>,
    /// `cors: false`.
    pub cors_off: bool,
    /// The rule's options.
    pub options: Options,
    /// A comment above the rule.
    pub comment: Option<String>,
}

/// A whole converted file.
#[derive(Debug, Clone, Default)]
pub struct Doc {
    /// First comment lines (what was converted from where).
    pub title: Vec<String>,
    /// Warnings, also printed on stderr.
    pub warnings: Vec<String>,
    /// `defaults:`.
    pub defaults: Options,
    /// `paths:`.
    pub paths: Vec<RuleOut>,
}

impl Doc {
    /// Adds a warning (once).
    pub fn warn(&mut self, w: impl Into<String>) {
        let w = w.into();
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// Renders the YAML (warnings as a comment block).
    pub fn render(&self) -> String {
        let mut out = String::new();
        for t in &self.title {
            let _ = writeln!(out, "# {t}");
        }
        if !self.warnings.is_empty() {
            out.push_str("#\n# Warnings (where the original semantics were unsafe or differ):\n");
            for w in &self.warnings {
                for (i, line) in super::super::export::nginx_wrap(w, 90).iter().enumerate() {
                    let _ = writeln!(out, "#   {}{line}", if i == 0 { "- " } else { "  " });
                }
            }
        }
        out.push_str("defaults:");
        if self.defaults.is_empty() {
            out.push_str(" {}\n");
        } else {
            out.push('\n');
            self.defaults.write(&mut out, "  ", "  ");
        }
        if !self.paths.is_empty() {
            out.push_str("paths:\n");
            for r in &self.paths {
                if let Some(c) = &r.comment {
                    for line in super::super::export::nginx_wrap(c, 88) {
                        let _ = writeln!(out, "  # {line}");
                    }
                }
                match &r.matcher {
                    MatcherOut::Prefix(p) => {
                        let _ = writeln!(out, "  - path: {}", q(p));
                    }
                    MatcherOut::Regex(re) => {
                        let _ = writeln!(out, "  - regex: {}", q(re));
                    }
                }
                if !r.hosts.is_empty() {
                    let _ = writeln!(
                        out,
                        "    hosts: [{}]",
                        r.hosts.iter().map(|h| q(h)).collect::<Vec<_>>().join(", ")
                    );
                }
                if r.cors_off {
                    out.push_str("    cors: false\n");
                }
                r.options.write(&mut out, "    ", "    ");
            }
        }
        out
    }
}

/// A single-quoted YAML scalar (no escapes other than `''`).
pub fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
