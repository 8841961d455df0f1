//! Validation: raw configuration → compiled [`Policy`], with every problem reported at once.
//!
//! One function per option group, each reporting its own diagnostics: [`rule`] (path and
//! host matchers, upstream, shadowed rules), [`options`] (one effective option set, built
//! from [`origins`], [`methods`], [`headers`] and the scalar options), and the CSRF settings
//! in [`crate::csrf`].

mod headers;
mod methods;
mod options;
mod origins;
mod rule;

use std::collections::HashSet;
use std::sync::Arc;

use http::HeaderValue;

use crate::Code;
use crate::config::raw::RawConfig;
use crate::diagnostic::{ConfigErrors, Diagnostic, Location, Severity};
use crate::origin::PatternProblem;
use crate::policy::{PathMatcher, Policy, PolicyInner, Rule};

use options::compile_options;
use rule::{check_unreachable, compile_rule};

/// Collects diagnostics, de-duplicating those reported once per rule for inherited values.
pub(crate) struct Diags {
    list: Vec<Diagnostic>,
    seen: HashSet<(Code, String, String)>,
}

impl Diags {
    pub(crate) fn new(initial: Vec<Diagnostic>) -> Self {
        let mut d = Diags {
            list: Vec::new(),
            seen: HashSet::new(),
        };
        for x in initial {
            d.push(x);
        }
        d
    }

    pub(crate) fn push(&mut self, d: Diagnostic) {
        let key = (d.code, d.location.path.clone(), d.message.clone());
        if self.seen.insert(key) {
            self.list.push(d);
        }
    }

    fn add(
        &mut self,
        severity: Severity,
        code: Code,
        loc: &Location,
        message: String,
        hint: Option<String>,
    ) {
        self.push(Diagnostic {
            severity,
            code,
            message,
            hint,
            location: loc.clone(),
        });
    }

    pub(crate) fn error(
        &mut self,
        code: Code,
        loc: &Location,
        message: String,
        hint: Option<String>,
    ) {
        self.add(Severity::Error, code, loc, message, hint);
    }

    pub(crate) fn warn(
        &mut self,
        code: Code,
        loc: &Location,
        message: String,
        hint: Option<String>,
    ) {
        self.add(Severity::Warning, code, loc, message, hint);
    }

    fn has_errors(&self) -> bool {
        self.list.iter().any(|d| d.severity == Severity::Error)
    }
}

/// The location written "closest" to the rule: a path rule's own value beats an inherited one.
pub(super) fn closest<'a>(a: &'a Location, b: &'a Location) -> &'a Location {
    if b.path.starts_with("paths") && !a.path.starts_with("paths") {
        b
    } else {
        a
    }
}

pub(super) fn hv(s: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(s).ok()
}

/// Compiles a raw configuration (plus diagnostics from reading it) into a policy.
pub(crate) fn compile(
    raw: RawConfig,
    diags: Vec<Diagnostic>,
    text: Option<Arc<str>>,
) -> Result<Policy, ConfigErrors> {
    let mut d = Diags::new(diags);
    let defaults_cors = compile_options(&raw.defaults, "defaults", &mut d);
    let defaults_csrf =
        crate::csrf::compile(&raw.defaults, defaults_cors.as_ref(), "defaults", &mut d);
    let defaults = Rule {
        name: "defaults".into(),
        index: None,
        matcher: PathMatcher::All,
        hosts: Vec::new(),
        upstream: raw.gateway.as_ref().and_then(|g| g.upstream.clone()),
        cors: defaults_cors,
        csrf: defaults_csrf,
    };
    let mut rules = Vec::with_capacity(raw.paths.len());
    for (i, r) in raw.paths.iter().enumerate() {
        if let Some(rule) = compile_rule(r, i, &raw, &mut d) {
            rules.push(rule);
        }
    }
    check_unreachable(&raw.paths, &mut d);

    let anything_allowed = std::iter::once(&defaults).chain(rules.iter()).any(|r| {
        r.cors.as_ref().is_none_or(|c| {
            c.any_origin || c.allow_null || !c.origins.is_empty() || c.constant_acao.is_some()
        })
    });
    if !anything_allowed && !d.has_errors() {
        // An allow-list written empty (`allow_origins: []`, `CORS_ALLOWED_ORIGINS=`) is a
        // deliberate deny-all policy, as in django-cors-headers, Nelmio and express: the app
        // or gateway must start. No allow-list at all is a mistake.
        let written_empty = std::iter::once(&raw.defaults.allow_origins)
            .chain(raw.paths.iter().map(|r| &r.options.allow_origins))
            .find_map(Option::as_ref);
        match written_empty {
            Some(list) => d.warn(
                Code::OriginsEmpty,
                &list.loc,
                "no origin is allowed; every cross-origin request will be refused".into(),
                Some("list the origins that may call this API, e.g. `allow_origins: ['https://app.example.com']`; keep it empty only to refuse every cross-origin request".into()),
            ),
            None => d.error(
                Code::OriginsMissing,
                &Location::new(source_of(&raw), "defaults.allow_origins"),
                "no rule allows any origin, so every CORS request would be refused".into(),
                Some("add `allow_origins: ['https://app.example.com']` under `defaults:`, or set CORS_ALLOWED_ORIGINS".into()),
            ),
        }
    }

    if d.has_errors() {
        return Err(ConfigErrors::new(d.list, text));
    }
    Ok(Policy {
        inner: Arc::new(PolicyInner {
            rules,
            defaults,
            gateway: raw.gateway,
            warnings: d.list,
        }),
    })
}

pub(super) fn source_of(raw: &RawConfig) -> crate::diagnostic::SourceKind {
    raw.source
        .clone()
        .unwrap_or(crate::diagnostic::SourceKind::Builder)
}

pub(crate) fn report_pattern_problems(problems: &[PatternProblem], loc: &Location, d: &mut Diags) {
    for p in problems {
        d.push(Diagnostic {
            severity: p.severity,
            code: p.code,
            message: p.message.clone(),
            hint: p.hint.clone(),
            location: loc.clone(),
        });
    }
}
