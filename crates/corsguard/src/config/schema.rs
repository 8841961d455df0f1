//! Walks a parsed [`Node`] tree into a [`RawConfig`], reporting every type error and unknown
//! key (with a did-you-mean) at once.

use std::ops::Range;
use std::sync::Arc;

use super::gateway;
use super::raw::{Mode, OnReject, RawConfig, RawOptions, RawOrigin, RawPathMatcher, RawRule, V};
use super::tree::{Key, Node, NodeKind};
use crate::Code;
use crate::diagnostic::{Diagnostic, LineIndex, Location, Severity, SourceKind, did_you_mean};

/// Keys accepted in an option set (`defaults:` or a path rule).
pub(crate) const OPTION_KEYS: &[&str] = &[
    "allow_origins",
    "allow_methods",
    "allow_headers",
    "expose_headers",
    "allow_credentials",
    "max_age",
    "allow_private_network",
    "allow_null_origin",
    "skip_same_origin",
    "forced_allow_origin",
    "preflight",
    "on_reject",
    "mode",
    "allow_insecure_origins_with_credentials",
    "allow_public_suffix_wildcards_with_credentials",
    "csrf",
];

const RULE_ONLY_KEYS: &[&str] = &["path", "glob", "regex", "hosts", "cors", "upstream"];
const TOP_KEYS: &[&str] = &["defaults", "paths", "gateway"];

/// Names other CORS libraries use, mapped to ours (for better "did you mean" hints).
const ALIASES: &[(&str, &str)] = &[
    ("allow_origin", "allow_origins"),
    ("allowed_origins", "allow_origins"),
    ("origins", "allow_origins"),
    ("cors_allowed_origins", "allow_origins"),
    ("cors_origin_whitelist", "allow_origins"),
    ("allowed_methods", "allow_methods"),
    ("methods", "allow_methods"),
    ("allowed_headers", "allow_headers"),
    ("headers", "allow_headers"),
    ("exposed_headers", "expose_headers"),
    ("credentials", "allow_credentials"),
    ("supports_credentials", "allow_credentials"),
    ("forced_allow_origin_value", "forced_allow_origin"),
    ("skip_same_as_origin", "skip_same_origin"),
    ("origin_regex", "allow_origins"),
    ("max_age_seconds", "max_age"),
];

/// Turns spans into [`Location`]s and collects diagnostics.
pub(crate) struct Walker<'t> {
    pub source: SourceKind,
    pub text: &'t str,
    pub diags: Vec<Diagnostic>,
    /// Built once: every value is located, so a scan from the start of the file per value
    /// would make loading quadratic.
    lines: LineIndex,
}

impl<'t> Walker<'t> {
    pub(crate) fn new(source: SourceKind, text: &'t str) -> Self {
        Walker {
            source,
            text,
            diags: Vec::new(),
            lines: LineIndex::new(text),
        }
    }

    pub(crate) fn loc(&self, path: &str, span: &Range<usize>) -> Location {
        Location {
            source: self.source.clone(),
            path: path.to_owned(),
            span: Some(self.lines.locate(self.text, span.clone())),
        }
    }

    pub(crate) fn error(
        &mut self,
        code: Code,
        path: &str,
        span: &Range<usize>,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        let location = self.loc(path, span);
        self.diags.push(Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            hint,
            location,
        });
    }

    fn type_error(&mut self, path: &str, node: &Node, expected: &str, hint: Option<String>) {
        self.error(
            Code::TypeMismatch,
            path,
            &node.span,
            format!(
                "`{}` must be {expected}, found {}",
                leaf(path),
                node.type_name()
            ),
            hint,
        );
    }

    /// Returns the entries of a mapping, reporting keys not in `allowed`.
    pub(crate) fn entries<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        allowed: &[&[&str]],
    ) -> Vec<&'n (Key, Node)> {
        let NodeKind::Map(entries) = &node.kind else {
            if node.kind != NodeKind::Null {
                self.type_error(path, node, "a mapping", None);
            }
            return Vec::new();
        };
        let all: Vec<&str> = allowed.iter().flat_map(|s| s.iter().copied()).collect();
        let mut out = Vec::with_capacity(entries.len());
        for entry in entries {
            let (key, _) = entry;
            if all.contains(&key.name.as_str()) {
                out.push(entry);
                continue;
            }
            let lower = key.name.to_ascii_lowercase().replace('-', "_");
            let suggestion = ALIASES
                .iter()
                .find(|(a, _)| *a == lower)
                .map(|(_, b)| *b)
                .filter(|b| all.contains(b))
                .or_else(|| did_you_mean(&lower, &all));
            let p = join(path, &key.name);
            let hint = match suggestion {
                Some(s) => Some(format!("did you mean `{s}`?")),
                None => Some(format!("valid keys here: {}", all.join(", "))),
            };
            self.error(
                Code::UnknownKey,
                &p,
                &key.span,
                format!("unknown key `{}`", key.name),
                hint,
            );
        }
        out
    }

    pub(crate) fn bool(&mut self, node: &Node, path: &str) -> Option<V<bool>> {
        match &node.kind {
            NodeKind::Bool(b) => Some(V::new(*b, self.loc(path, &node.span))),
            NodeKind::Str(s) if matches!(s.as_str(), "true" | "false") => {
                self.type_error(
                    path,
                    node,
                    "a boolean",
                    Some(format!("write {s} without quotes")),
                );
                None
            }
            _ => {
                self.type_error(path, node, "a boolean (true or false)", None);
                None
            }
        }
    }

    pub(crate) fn int(&mut self, node: &Node, path: &str) -> Option<V<i64>> {
        match &node.kind {
            NodeKind::Int(i) => Some(V::new(*i, self.loc(path, &node.span))),
            NodeKind::Str(s) if s.trim().parse::<i64>().is_ok() => {
                self.type_error(
                    path,
                    node,
                    "an integer",
                    Some(format!("write {} without quotes", s.trim())),
                );
                None
            }
            _ => {
                self.type_error(path, node, "an integer", None);
                None
            }
        }
    }

    pub(crate) fn string(&mut self, node: &Node, path: &str) -> Option<V<String>> {
        match &node.kind {
            NodeKind::Str(s) => Some(V::new(s.clone(), self.loc(path, &node.span))),
            _ => {
                self.type_error(path, node, "a string", None);
                None
            }
        }
    }

    /// A list of strings; a lone `'*'` scalar is accepted as `['*']`.
    pub(crate) fn string_list(&mut self, node: &Node, path: &str) -> Option<V<Vec<V<String>>>> {
        match &node.kind {
            NodeKind::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    match &item.kind {
                        NodeKind::Str(s) => out.push(V::new(s.clone(), self.loc(&p, &item.span))),
                        _ => self.type_error(&p, item, "a string", None),
                    }
                }
                Some(V::new(out, self.loc(path, &node.span)))
            }
            NodeKind::Str(s) if s == "*" => Some(V::new(
                vec![V::new(
                    s.clone(),
                    self.loc(&format!("{path}[0]"), &node.span),
                )],
                self.loc(path, &node.span),
            )),
            NodeKind::Str(s) => {
                let items: Vec<String> = s
                    .split([',', ' '])
                    .filter(|x| !x.is_empty())
                    .map(|x| format!("'{x}'"))
                    .collect();
                self.type_error(
                    path,
                    node,
                    "a list",
                    Some(format!("write a list: [{}]", items.join(", "))),
                );
                None
            }
            NodeKind::Null => Some(V::new(Vec::new(), self.loc(path, &node.span))),
            _ => {
                self.type_error(path, node, "a list of strings", None);
                None
            }
        }
    }

    fn origins(&mut self, node: &Node, path: &str) -> Option<V<Vec<V<RawOrigin>>>> {
        let items: Vec<&Node> = match &node.kind {
            NodeKind::Seq(items) => items.iter().collect(),
            NodeKind::Str(s) if s == "*" => vec![node],
            NodeKind::Null => Vec::new(),
            _ => {
                let hint = match &node.kind {
                    NodeKind::Str(s) => Some(format!("write a list: ['{s}']")),
                    _ => None,
                };
                self.type_error(path, node, "a list of origins", hint);
                return None;
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let p = format!("{path}[{i}]");
            match &item.kind {
                NodeKind::Str(s) => {
                    out.push(V::new(RawOrigin::Text(s.clone()), self.loc(&p, &item.span)))
                }
                NodeKind::Map(_) => {
                    let entries = self.entries(item, &p, &[&["regex"]]);
                    match entries.iter().find(|(k, _)| k.name == "regex") {
                        Some((_, v)) => {
                            let rp = format!("{p}.regex");
                            if let Some(s) = self.string(v, &rp) {
                                out.push(V::new(RawOrigin::Regex(s.value), s.loc));
                            }
                        }
                        None if entries.is_empty()
                            && matches!(&item.kind, NodeKind::Map(m) if m.is_empty()) =>
                        {
                            self.error(
                                Code::TypeMismatch,
                                &p,
                                &item.span,
                                "an origin entry must be a string or {regex: '...'}",
                                None,
                            );
                        }
                        None => {}
                    }
                }
                _ => self.type_error(&p, item, "an origin string or {regex: '^…$'}", None),
            }
        }
        Some(V::new(out, self.loc(path, &node.span)))
    }

    /// Reads an option set's keys from `entries` into `opts`.
    pub(crate) fn options(&mut self, entries: &[&(Key, Node)], path: &str, opts: &mut RawOptions) {
        for (key, value) in entries.iter().map(|e| (&e.0, &e.1)) {
            let p = join(path, &key.name);
            match key.name.as_str() {
                "allow_origins" => opts.allow_origins = self.origins(value, &p),
                "allow_methods" => opts.allow_methods = self.string_list(value, &p),
                "allow_headers" => opts.allow_headers = self.string_list(value, &p),
                "expose_headers" => opts.expose_headers = self.string_list(value, &p),
                "allow_credentials" => opts.allow_credentials = self.bool(value, &p),
                "max_age" => opts.max_age = self.int(value, &p),
                "allow_private_network" => opts.allow_private_network = self.bool(value, &p),
                "allow_null_origin" => opts.allow_null_origin = self.bool(value, &p),
                "skip_same_origin" => opts.skip_same_origin = self.bool(value, &p),
                "forced_allow_origin" => opts.forced_allow_origin = self.string(value, &p),
                "allow_insecure_origins_with_credentials" => {
                    opts.allow_insecure_origins_with_credentials = self.bool(value, &p)
                }
                "allow_public_suffix_wildcards_with_credentials" => {
                    opts.allow_public_suffix_wildcards_with_credentials = self.bool(value, &p)
                }
                "on_reject" => {
                    opts.on_reject = self.string(value, &p).and_then(|s| match s.value.as_str() {
                        "omit" => Some(V::new(OnReject::Omit, s.loc)),
                        "forbid" => Some(V::new(OnReject::Forbid, s.loc)),
                        other => {
                            self.error(
                                Code::InvalidValue,
                                &p,
                                &value.span,
                                format!("unknown on_reject value `{other}`"),
                                Some("use `omit` or `forbid`".into()),
                            );
                            None
                        }
                    })
                }
                "mode" => {
                    opts.mode = self.string(value, &p).and_then(|s| match s.value.as_str() {
                        "enforce" => Some(V::new(Mode::Enforce, s.loc)),
                        "shadow" => Some(V::new(Mode::Shadow, s.loc)),
                        other => {
                            self.error(
                                Code::InvalidValue,
                                &p,
                                &value.span,
                                format!("unknown mode `{other}`"),
                                Some("use `enforce` or `shadow`".into()),
                            );
                            None
                        }
                    })
                }
                "csrf" => self.csrf(value, &p, opts),
                "preflight" => {
                    let entries = self.entries(value, &p, &[&["status", "passthrough"]]);
                    for (k, v) in entries.iter().map(|e| (&e.0, &e.1)) {
                        let kp = join(&p, &k.name);
                        match k.name.as_str() {
                            "status" => opts.preflight_status = self.int(v, &kp),
                            _ => opts.preflight_passthrough = self.bool(v, &kp),
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// `csrf: {mode, trusted_origins, allow_same_site}`, read into the flat fields so that
    /// a rule overrides `defaults` field by field.
    fn csrf(&mut self, node: &Node, path: &str, opts: &mut RawOptions) {
        let entries = self.entries(
            node,
            path,
            &[&["mode", "trusted_origins", "allow_same_site"]],
        );
        for (k, v) in entries.iter().map(|e| (&e.0, &e.1)) {
            let kp = join(path, &k.name);
            match k.name.as_str() {
                "mode" => {
                    opts.csrf_mode = self.string(v, &kp).and_then(|s| {
                        match crate::csrf::CsrfMode::parse(&s.value) {
                            Some(m) => Some(V::new(m, s.loc)),
                            None => {
                                self.error(
                                    Code::InvalidValue,
                                    &kp,
                                    &v.span,
                                    format!("unknown csrf mode `{}`", s.value),
                                    Some("use `off`, `enforce` or `report`".into()),
                                );
                                None
                            }
                        }
                    })
                }
                "trusted_origins" => opts.csrf_trusted_origins = self.origins(v, &kp),
                _ => opts.csrf_allow_same_site = self.bool(v, &kp),
            }
        }
    }

    fn rule(&mut self, node: &Node, path: &str) -> Option<RawRule> {
        let entries = self.entries(node, path, &[RULE_ONLY_KEYS, OPTION_KEYS]);
        if !matches!(node.kind, NodeKind::Map(_)) {
            return None;
        }
        let mut matchers = Vec::new();
        let mut rule = RawRule {
            matcher: V::new(RawPathMatcher::All, self.loc(path, &node.span)),
            hosts: None,
            cors: None,
            upstream: None,
            options: RawOptions::default(),
        };
        for (key, value) in entries.iter().map(|e| (&e.0, &e.1)) {
            let p = join(path, &key.name);
            match key.name.as_str() {
                "path" | "glob" | "regex" => {
                    if let Some(s) = self.string(value, &p) {
                        let m = match key.name.as_str() {
                            "path" => RawPathMatcher::Prefix(s.value),
                            "glob" => RawPathMatcher::Glob(s.value),
                            _ => RawPathMatcher::Regex(s.value),
                        };
                        matchers.push((V::new(m, s.loc), value.span.clone()));
                    }
                }
                "hosts" => rule.hosts = self.string_list(value, &p),
                "cors" => rule.cors = self.bool(value, &p),
                "upstream" => rule.upstream = self.string(value, &p),
                _ => {}
            }
        }
        self.options(&entries, path, &mut rule.options);
        if matchers.len() > 1 {
            if let Some((_, span)) = matchers.get(1) {
                self.error(
                    Code::RuleMultipleMatchers,
                    path,
                    span,
                    "a path rule takes one matcher: `path`, `glob` or `regex`",
                    Some("split it into two rules".into()),
                );
            }
            // Keep the first matcher so the rule does not silently become "every path" (and
            // shadow the rules after it in the unreachable-rule check).
            matchers.truncate(1);
        }
        if let Some((m, _)) = matchers.pop() {
            rule.matcher = m;
        } else if rule.hosts.is_none() {
            self.error(
                Code::RuleMissingMatcher,
                path,
                &node.span,
                "a path rule needs `path`, `glob`, `regex` or `hosts`",
                Some("add e.g. `path: /api/`".into()),
            );
        }
        Some(rule)
    }

    /// Reads a whole document.
    pub(crate) fn config(&mut self, root: &Node) -> RawConfig {
        let mut cfg = RawConfig::default();
        let entries = self.entries(root, "", &[TOP_KEYS]);
        for (key, value) in entries.iter().map(|e| (&e.0, &e.1)) {
            match key.name.as_str() {
                "defaults" => {
                    let e = self.entries(value, "defaults", &[OPTION_KEYS]);
                    let mut opts = RawOptions::default();
                    self.options(&e, "defaults", &mut opts);
                    cfg.defaults = opts;
                }
                "paths" => match &value.kind {
                    NodeKind::Seq(items) => {
                        for (i, item) in items.iter().enumerate() {
                            if let Some(r) = self.rule(item, &format!("paths[{i}]")) {
                                cfg.paths.push(r);
                            }
                        }
                    }
                    NodeKind::Map(_) => self.type_error(
                        "paths",
                        value,
                        "an ordered list of rules",
                        Some("write `paths:` as a list: `- path: /api/` (order matters: first match wins)".into()),
                    ),
                    NodeKind::Null => {}
                    _ => self.type_error("paths", value, "a list of rules", None),
                },
                _ => cfg.gateway = Some(gateway::read(self, value)),
            }
        }
        cfg
    }
}

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn leaf(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

/// The result of reading text: the raw config plus diagnostics so far.
pub(crate) struct ReadResult {
    pub config: RawConfig,
    pub diags: Vec<Diagnostic>,
    pub text: Arc<str>,
}

/// Reads YAML or TOML text.
pub(crate) fn read_text(text: &str, name: &str, toml: bool) -> ReadResult {
    let source = SourceKind::Text {
        name: name.to_owned(),
    };
    let mut w = Walker::new(source, text);
    let parsed = if toml {
        super::tree::parse_toml(text)
    } else {
        super::tree::parse_yaml(text)
    };
    let mut config = match parsed {
        Ok(root) => w.config(&root),
        Err(e) => {
            let lang = if toml { "TOML" } else { "YAML" };
            w.error(
                Code::Syntax,
                "",
                &e.span,
                format!("{lang} syntax error: {}", e.message),
                None,
            );
            RawConfig::default()
        }
    };
    config.source = Some(w.source.clone());
    ReadResult {
        config,
        diags: w.diags,
        text: Arc::from(text),
    }
}
