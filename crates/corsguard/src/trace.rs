//! Why a decision was taken: the rule, each check, the headers written, and for refusals the
//! configuration change that would allow the request.
//!
//! The decision code calls a [`Tracer`]; the normal path uses [`NoTrace`], whose methods
//! compile to nothing, so traces cost only when asked for.

use std::fmt;

use crate::config::raw::OnReject;
use crate::decision::{Action, Decision, Refusal, RequestHead, RequestKind};
use crate::policy::{CorsRule, OriginAdmit, Policy, Rule};

/// Receives the facts of a decision as it is taken.
pub(crate) trait Tracer {
    fn rule(&mut self, _rule: &Rule) {}
    fn step(
        &mut self,
        _check: &'static str,
        _passed: Option<bool>,
        _detail: impl FnOnce() -> String,
    ) {
    }
    fn origin(&mut self, _c: &CorsRule, _origin: &[u8], _r: &Result<OriginAdmit, Refusal>) {}
    fn method(&mut self, _c: &CorsRule, _m: &[u8], _r: &Result<(), Refusal>) {}
    fn headers(&mut self, _c: &CorsRule, _lines: &[&[u8]], _r: &Result<(), (Refusal, &[u8])>) {}
    fn refused(&mut self, _r: Refusal, _mode: OnReject) {}
}

/// The tracer of the normal path: does nothing.
pub(crate) struct NoTrace;
impl Tracer for NoTrace {}

/// One check of a decision.
///
/// ```
/// let p = corsguard::Policy::from_yaml_str("defaults: {allow_origins: ['https://a.example']}")?;
/// let req = http::Request::get("/x").header("origin", "https://a.example").body(())?;
/// let (_decision, trace) = p.explain(&corsguard::adapter::RequestHead::from_request(&req));
/// let step = trace.steps.iter().find(|s| s.check == "origin").unwrap();
/// assert_eq!(step.passed, Some(true));
/// assert!(step.to_string().starts_with("[pass] origin: "));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct TraceStep {
    /// What was checked (`classify`, `origin`, `method`, `headers`, …).
    pub check: String,
    /// `Some(true)` passed, `Some(false)` failed, `None` informational.
    pub passed: Option<bool>,
    /// Human-readable detail.
    pub detail: String,
}

impl fmt::Display for TraceStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.passed {
            Some(true) => "pass",
            Some(false) => "FAIL",
            None => "info",
        };
        write!(f, "[{tag}] {}: {}", self.check, self.detail)
    }
}

/// A configuration change that would allow a refused request.
///
/// ```
/// let f = corsguard::Fix::new("add `PUT` to defaults.allow_methods", None);
/// assert_eq!(f.to_string(), "add `PUT` to defaults.allow_methods");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Fix {
    /// The smallest change, in config terms.
    pub change: String,
    /// Set when the change weakens security.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

impl Fix {
    /// A fix: the change, and a warning when it weakens security.
    ///
    /// ```
    /// let f = corsguard::Fix::new("set `allow_origins: ['*']`", Some("every site may read".into()));
    /// assert!(f.to_string().contains("(warning: every site may read)"));
    /// ```
    pub fn new(change: impl Into<String>, warning: Option<String>) -> Self {
        Fix {
            change: change.into(),
            warning,
        }
    }
}

impl fmt::Display for Fix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.change)?;
        if let Some(w) = &self.warning {
            write!(f, " (warning: {w})")?;
        }
        Ok(())
    }
}

/// Why a decision was taken. Serialisable (for `--format json`) and `Display`able.
///
/// ```
/// use corsguard::Policy;
/// use corsguard::adapter::RequestHead;
/// let p = Policy::builder().allow_origin("https://a.example").build()?;
/// let o = http::HeaderValue::from_static("https://evil.example");
/// let mut head = RequestHead::new("GET", "/x");
/// head.push_header(&http::header::ORIGIN, &o);
/// let (_, trace) = p.explain(&head);
/// assert_eq!(trace.verdict, "refused");
/// assert!(trace.reason.contains("https://evil.example"));
/// assert!(trace.fix.unwrap().change.contains("allow_origins"));
/// # Ok::<(), corsguard::ConfigErrors>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Trace {
    /// The rule that applied (`defaults` or `paths[N]`).
    pub rule: String,
    /// How that rule matches.
    pub rule_matcher: String,
    /// The request's method.
    pub method: String,
    /// The request's path.
    pub path: String,
    /// The request's `Origin`, if any (lossy UTF-8).
    pub origin: Option<String>,
    /// The request's kind.
    pub kind: RequestKind,
    /// Every check, in order.
    pub steps: Vec<TraceStep>,
    /// `allowed`, `refused`, `not-cors`, `same-origin` or `passthrough`.
    pub verdict: String,
    /// The refusal code, if refused.
    pub refusal: Option<Refusal>,
    /// One line saying why.
    pub reason: String,
    /// What the adapter does (`respond 204`, `forward to the application`, …).
    pub action: String,
    /// The response headers written (name, value), `Vary` included.
    pub headers: Vec<(String, String)>,
    /// For refusals: what would allow the request.
    pub fix: Option<Fix>,
    /// `true` if the rule is in shadow mode.
    pub shadow: bool,
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} {} from {} → rule {} ({})",
            self.method,
            self.path,
            self.origin.as_deref().unwrap_or("(no Origin)"),
            self.rule,
            self.rule_matcher
        )?;
        for s in &self.steps {
            writeln!(f, "  {s}")?;
        }
        writeln!(f, "  verdict: {}: {}", self.verdict, self.reason)?;
        writeln!(f, "  action: {}", self.action)?;
        for (n, v) in &self.headers {
            writeln!(f, "    {n}: {v}")?;
        }
        if let Some(fix) = &self.fix {
            writeln!(f, "  fix: {fix}")?;
        }
        Ok(())
    }
}

/// Records the facts into a [`Trace`].
pub(crate) struct TraceBuilder {
    rule: String,
    matcher: String,
    steps: Vec<TraceStep>,
    reason: Option<String>,
    fix: Option<Fix>,
}

/// A request value as a trace shows it (cut at [`crate::SHOWN_BYTES`]).
fn lossy(b: &[u8]) -> String {
    crate::clip::clip(b)
}

/// An origin as a trace shows it: whole up to the longest origin the policy accepts, cut
/// beyond.
fn shown_origin(b: &[u8]) -> String {
    crate::Clipped::with_limit(b, crate::origin::MAX_ORIGIN_LEN).to_string()
}

impl TraceBuilder {
    fn push(&mut self, check: &str, passed: Option<bool>, detail: String) {
        self.steps.push(TraceStep {
            check: check.into(),
            passed,
            detail,
        });
    }
}

impl TraceBuilder {
    /// Records why the request is refused, unless an earlier check already failed: the
    /// decision reports the first refusal, so the reason and the fix must describe it.
    fn first_failure(&mut self, reason: String, fix: Option<Fix>) {
        if self.reason.is_none() {
            self.reason = Some(reason);
            self.fix = fix;
        }
    }
}

impl Tracer for TraceBuilder {
    fn rule(&mut self, rule: &Rule) {
        self.rule = rule.name.clone();
        self.matcher = rule.matcher.describe();
        let d = if rule.index.is_some() {
            format!("first matching rule is {} ({})", rule.name, self.matcher)
        } else {
            "no path rule matched: using defaults".into()
        };
        self.push("rule", None, d);
    }

    fn step(&mut self, check: &'static str, passed: Option<bool>, detail: impl FnOnce() -> String) {
        self.push(check, passed, detail());
    }

    fn origin(&mut self, c: &CorsRule, origin: &[u8], r: &Result<OriginAdmit, Refusal>) {
        let o = shown_origin(origin);
        let where_ = format!("{}.allow_origins", self.rule);
        let (ok, detail) = match r {
            Ok(OriginAdmit::Any) => (true, format!("`{o}` allowed by `*`")),
            Ok(OriginAdmit::Null) => (true, "`null` allowed by allow_null_origin".into()),
            Ok(OriginAdmit::Entry(i)) => (
                true,
                format!(
                    "`{o}` matched {where_}[{i}] `{}`",
                    c.origins.get(*i).map(|p| p.canonical()).unwrap_or_default()
                ),
            ),
            Err(Refusal::MultipleOrigins) => (false, "several Origin header lines: refused".into()),
            Err(Refusal::OriginTooLong) => (
                false,
                format!(
                    "Origin is {} bytes, over the 326-byte limit: refused",
                    origin.len()
                ),
            ),
            Err(Refusal::NullOrigin) => (
                false,
                "`null` is refused unless allow_null_origin is set".into(),
            ),
            Err(_) => {
                let near = near_miss(c, &o);
                (
                    false,
                    format!(
                        "`{o}` matches none of the {} entries of {where_}{near}",
                        c.origins.len()
                    ),
                )
            }
        };
        if let Err(refusal) = r {
            self.reason = Some(match refusal {
                Refusal::OriginNotAllowed => format!("origin `{o}` is not allowed by {where_}"),
                other => format!("{} ({})", detail_line(*other), o),
            });
            self.fix = origin_fix(c, &o, &where_, *refusal, &self.rule);
        }
        self.push("origin", Some(ok), detail);
    }

    fn method(&mut self, c: &CorsRule, m: &[u8], r: &Result<(), Refusal>) {
        let m = lossy(m);
        let listed = if c.methods_any {
            "*".to_string()
        } else {
            c.methods.join(", ")
        };
        let (ok, detail) = match r {
            Ok(()) if matches!(m.as_str(), "GET" | "HEAD" | "POST") => {
                (true, format!("`{m}` is a CORS-safelisted method"))
            }
            Ok(()) => (true, format!("`{m}` allowed by allow_methods [{listed}]")),
            Err(Refusal::InvalidRequestMethod) => (
                false,
                format!("Access-Control-Request-Method `{m}` is not a single method token"),
            ),
            Err(_) => (
                false,
                format!("`{m}` is not in allow_methods [{listed}] (methods are case-sensitive)"),
            ),
        };
        if let Err(refusal) = r {
            self.reason = Some(format!("method `{m}` is not allowed"));
            if *refusal == Refusal::MethodNotAllowed {
                let upper = m.to_ascii_uppercase();
                let warning = (upper != m && c.methods.contains(&upper)).then(|| {
                    format!("`{upper}` is allowed, but the page sent `{m}`: methods are case-sensitive; fixing the page's fetch() call is better")
                });
                self.fix = Some(Fix {
                    change: format!("add `{m}` to {}.allow_methods", self.rule),
                    warning,
                });
            }
        }
        self.push("method", Some(ok), detail);
    }

    fn headers(&mut self, c: &CorsRule, lines: &[&[u8]], r: &Result<(), (Refusal, &[u8])>) {
        let requested: Vec<String> = lines.iter().map(|l| lossy(l)).collect();
        let listed = {
            let mut v: Vec<String> = c.headers.names().to_vec();
            if c.headers_any {
                v.insert(0, "*".into());
            }
            v.join(", ")
        };
        let (ok, detail) = match r {
            Ok(()) if requested.iter().all(|l| l.trim().is_empty()) => {
                (true, "no Access-Control-Request-Headers".into())
            }
            Ok(()) => (
                true,
                format!(
                    "[{}] allowed by allow_headers [{listed}]",
                    requested.join(" | ")
                ),
            ),
            Err((Refusal::HeaderNotAllowed, name)) => {
                let n = lossy(name).to_ascii_lowercase();
                let why = if n == "authorization" && c.headers_any {
                    "`*` never covers Authorization (Fetch #cors-non-wildcard-request-header-name); it must be listed".to_string()
                } else {
                    format!("not in allow_headers [{listed}]")
                };
                let fix = Fix {
                    change: format!("add `{n}` to {}.allow_headers", self.rule),
                    warning: None,
                };
                self.first_failure(format!("request header `{n}` is not allowed"), Some(fix));
                (false, format!("`{n}` {why}"))
            }
            Err((_, what)) => {
                self.first_failure(lossy(what), None);
                (false, lossy(what))
            }
        };
        self.push("headers", Some(ok), detail);
    }

    fn refused(&mut self, r: Refusal, mode: OnReject) {
        if r == Refusal::PrivateNetworkNotAllowed {
            let fix = Fix {
                change: format!("set {}.allow_private_network: true", self.rule),
                warning: None,
            };
            self.first_failure(
                "private network access was requested and allow_private_network is off".into(),
                Some(fix),
            );
        }
        let what = match mode {
            OnReject::Omit => {
                "on_reject: omit → no CORS headers for the refused item; the browser will block"
            }
            OnReject::Forbid => "on_reject: forbid → 403 without CORS headers",
        };
        self.push("reject", None, what.into());
    }
}

fn detail_line(r: Refusal) -> &'static str {
    match r {
        Refusal::MultipleOrigins => "several Origin header lines",
        Refusal::OriginTooLong => "Origin over 326 bytes",
        Refusal::NullOrigin => "`null` origin refused",
        _ => "origin refused",
    }
}

/// A hint when the origin is close to an entry (case, trailing slash, scheme, port).
fn near_miss(c: &CorsRule, o: &str) -> String {
    let lower = o.to_ascii_lowercase();
    let trimmed = lower.trim_end_matches('/');
    for p in &c.origins {
        let canon = p.canonical();
        if canon == trimmed && o != canon {
            return format!(" (close to `{canon}`: the browser's Origin must match byte for byte)");
        }
        if let (Some(a), Some(b)) = (canon.split_once("://"), trimmed.split_once("://"))
            && a.1 == b.1
            && a.0 != b.0
        {
            return format!(" (`{canon}` differs only in scheme)");
        }
    }
    String::new()
}

fn origin_fix(c: &CorsRule, o: &str, where_: &str, r: Refusal, rule: &str) -> Option<Fix> {
    match r {
        Refusal::NullOrigin => Some(Fix {
            change: format!("set {rule}.allow_null_origin: true"),
            warning: Some(
                "any sandboxed iframe, data: URL or redirected request sends `Origin: null`; allowing it is almost never safe".into(),
            ),
        }),
        Refusal::OriginNotAllowed => {
            let (pat, problems) = crate::origin::parse_pattern(o);
            let valid = problems.iter().all(|p| p.severity != crate::Severity::Error);
            let canonical = pat.filter(|_| valid).map(|p| p.canonical())?;
            let insecure = c.credentials && !canonical.starts_with("https://") && !crate::origin::is_loopback_host(
                canonical.split_once("://").map_or("", |x| crate::origin::split_host_port(x.1).0),
            );
            Some(Fix {
                change: format!("add `{canonical}` to {where_}"),
                warning: insecure.then(|| {
                    "this origin is not https and the rule allows credentials: it is rejected unless `allow_insecure_origins_with_credentials: true`".into()
                }),
            })
        }
        _ => None,
    }
}

impl Policy {
    /// Decides a request and explains the decision.
    ///
    /// ```
    /// use corsguard::Policy;
    /// use corsguard::adapter::RequestHead;
    /// let p = Policy::builder().allow_origin("https://a.example").allow_methods(["PUT"]).build()?;
    /// let (o, m) = (http::HeaderValue::from_static("https://a.example"), http::HeaderValue::from_static("DELETE"));
    /// let mut head = RequestHead::new("OPTIONS", "/");
    /// head.push_header(&http::header::ORIGIN, &o);
    /// head.push_header(&http::header::ACCESS_CONTROL_REQUEST_METHOD, &m);
    /// let (d, t) = p.explain(&head);
    /// assert_eq!(d.refusal(), Some(corsguard::Refusal::MethodNotAllowed));
    /// assert_eq!(t.fix.unwrap().change, "add `DELETE` to defaults.allow_methods");
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn explain(&self, req: &RequestHead<'_>) -> (Decision, Trace) {
        let mut tb = TraceBuilder {
            rule: String::new(),
            matcher: String::new(),
            steps: Vec::new(),
            reason: None,
            fix: None,
        };
        let d = self.decide_with(req, &mut tb);
        let mut headers: Vec<(String, String)> = d
            .headers()
            .map(|(n, v)| {
                let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (n.as_str().to_owned(), v)
            })
            .collect();
        let vary: Vec<&str> = d.vary_tokens().collect();
        if !vary.is_empty() {
            headers.push(("vary".into(), vary.join(", ")));
        }
        let verdict = if !d.cors_enabled {
            "passthrough"
        } else if d.refusal.is_some() {
            "refused"
        } else {
            match d.kind {
                RequestKind::NonCors => "not-cors",
                RequestKind::SameOrigin => "same-origin",
                _ => "allowed",
            }
        };
        let reason = match (&tb.reason, verdict) {
            (Some(r), _) => r.clone(),
            (None, "allowed") => "every check passed".into(),
            (None, "not-cors") => "no Origin header: CORS does not apply".into(),
            (None, "same-origin") => "same-origin request".into(),
            _ => "CORS disabled for this path (`cors: false`)".into(),
        };
        let action = match d.action {
            Action::Respond(s) if d.shadow => format!("shadow: would respond {}", s.as_u16()),
            Action::Respond(s) => format!("respond {} without calling the application", s.as_u16()),
            Action::Forward => {
                "call the application, then add these headers to its response".into()
            }
            Action::PassThrough if d.shadow => {
                "shadow mode: call the application and change nothing".into()
            }
            Action::PassThrough => "call the application and change nothing".into(),
        };
        let trace = Trace {
            rule: tb.rule,
            rule_matcher: tb.matcher,
            method: req.method().to_owned(),
            path: lossy(req.path().as_bytes()),
            origin: req.origin().map(shown_origin),
            kind: d.kind,
            steps: tb.steps,
            verdict: verdict.into(),
            refusal: d.refusal,
            reason,
            action,
            headers,
            fix: tb.fix.filter(|_| d.refusal.is_some()),
            shadow: d.shadow,
        };
        (d, trace)
    }
}
