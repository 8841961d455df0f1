//! Building a policy in code. The builder produces the same raw configuration as a file, so
//! it goes through exactly the same validation (and never panics).

use crate::config::gateway::GatewaySettings;
use crate::config::raw::{
    Mode, OnReject, RawConfig, RawOptions, RawOrigin, RawPathMatcher, RawRule, V,
};
use crate::diagnostic::{ConfigErrors, Location, SourceKind};
use crate::policy::Policy;

fn loc(path: String) -> Location {
    Location::new(SourceKind::Builder, path)
}

fn list<T>(
    path: &str,
    items: impl IntoIterator<Item = T>,
    f: impl Fn(T) -> String,
) -> V<Vec<V<String>>> {
    V::new(
        items
            .into_iter()
            .enumerate()
            .map(|(i, x)| V::new(f(x), loc(format!("{path}[{i}]"))))
            .collect(),
        loc(path.to_owned()),
    )
}

/// Option setters shared by [`PolicyBuilder`] (for `defaults`) and [`PathRule`].
macro_rules! option_setters {
    () => {
        /// Adds one allow-list entry (`*`, `null`, an origin, or a `*.`/`:*` pattern).
        pub fn allow_origin(mut self, origin: impl Into<String>) -> Self {
            let path = format!("{}.allow_origins", self.loc_prefix());
            let o = self.opts();
            let entries = o
                .allow_origins
                .get_or_insert_with(|| V::new(Vec::new(), loc(path.clone())));
            let i = entries.value.len();
            entries.value.push(V::new(
                RawOrigin::Text(origin.into()),
                loc(format!("{path}[{i}]")),
            ));
            self
        }
        /// Adds several allow-list entries.
        pub fn allow_origins<S: Into<String>>(
            mut self,
            origins: impl IntoIterator<Item = S>,
        ) -> Self {
            for o in origins {
                self = self.allow_origin(o);
            }
            self
        }
        /// Adds an anchored regex allow-list entry (`^https://[a-z]+\.example\.com$`).
        pub fn allow_origin_regex(mut self, regex: impl Into<String>) -> Self {
            let path = format!("{}.allow_origins", self.loc_prefix());
            let o = self.opts();
            let entries = o
                .allow_origins
                .get_or_insert_with(|| V::new(Vec::new(), loc(path.clone())));
            let i = entries.value.len();
            entries.value.push(V::new(
                RawOrigin::Regex(regex.into()),
                loc(format!("{path}[{i}].regex")),
            ));
            self
        }
        /// Sets the allowed methods (`*` = any).
        pub fn allow_methods<S: Into<String>>(
            mut self,
            methods: impl IntoIterator<Item = S>,
        ) -> Self {
            let p = format!("{}.allow_methods", self.loc_prefix());
            self.opts().allow_methods = Some(list(&p, methods, Into::into));
            self
        }
        /// Sets the allowed request headers (`*` = any but Authorization).
        pub fn allow_headers<S: Into<String>>(
            mut self,
            headers: impl IntoIterator<Item = S>,
        ) -> Self {
            let p = format!("{}.allow_headers", self.loc_prefix());
            self.opts().allow_headers = Some(list(&p, headers, Into::into));
            self
        }
        /// Sets the exposed response headers (`*` = all, without credentials only).
        pub fn expose_headers<S: Into<String>>(
            mut self,
            headers: impl IntoIterator<Item = S>,
        ) -> Self {
            let p = format!("{}.expose_headers", self.loc_prefix());
            self.opts().expose_headers = Some(list(&p, headers, Into::into));
            self
        }
        /// Allows credentialed requests (`Access-Control-Allow-Credentials: true`).
        pub fn allow_credentials(mut self, yes: bool) -> Self {
            let p = format!("{}.allow_credentials", self.loc_prefix());
            self.opts().allow_credentials = Some(V::new(yes, loc(p)));
            self
        }
        /// Sets `Access-Control-Max-Age` in seconds (0..=86400).
        pub fn max_age(mut self, seconds: i64) -> Self {
            let p = format!("{}.max_age", self.loc_prefix());
            self.opts().max_age = Some(V::new(seconds, loc(p)));
            self
        }
        /// Answers legacy Private Network Access preflights.
        pub fn allow_private_network(mut self, yes: bool) -> Self {
            let p = format!("{}.allow_private_network", self.loc_prefix());
            self.opts().allow_private_network = Some(V::new(yes, loc(p)));
            self
        }
        /// Allows `Origin: null` (unsafe; off by default).
        pub fn allow_null_origin(mut self, yes: bool) -> Self {
            let p = format!("{}.allow_null_origin", self.loc_prefix());
            self.opts().allow_null_origin = Some(V::new(yes, loc(p)));
            self
        }
        /// Treats an `Origin` equal to the request's own origin as not cross-origin (default on).
        pub fn skip_same_origin(mut self, yes: bool) -> Self {
            let p = format!("{}.skip_same_origin", self.loc_prefix());
            self.opts().skip_same_origin = Some(V::new(yes, loc(p)));
            self
        }
        /// Sends this constant `Access-Control-Allow-Origin` on every response of the rule.
        pub fn forced_allow_origin(mut self, value: impl Into<String>) -> Self {
            let p = format!("{}.forced_allow_origin", self.loc_prefix());
            self.opts().forced_allow_origin = Some(V::new(value.into(), loc(p)));
            self
        }
        /// Preflight success status: 204 (default) or 200.
        pub fn preflight_status(mut self, status: u16) -> Self {
            let p = format!("{}.preflight.status", self.loc_prefix());
            self.opts().preflight_status = Some(V::new(i64::from(status), loc(p)));
            self
        }
        /// Forwards preflights to the application (headers are added to its answer).
        pub fn preflight_passthrough(mut self, yes: bool) -> Self {
            let p = format!("{}.preflight.passthrough", self.loc_prefix());
            self.opts().preflight_passthrough = Some(V::new(yes, loc(p)));
            self
        }
        /// What to do with refused requests.
        pub fn on_reject(mut self, r: OnReject) -> Self {
            let p = format!("{}.on_reject", self.loc_prefix());
            self.opts().on_reject = Some(V::new(r, loc(p)));
            self
        }
        /// Enforce or shadow.
        pub fn mode(mut self, m: Mode) -> Self {
            let p = format!("{}.mode", self.loc_prefix());
            self.opts().mode = Some(V::new(m, loc(p)));
            self
        }
        /// Accepts non-https, non-loopback origins together with credentials (dangerous).
        pub fn allow_insecure_origins_with_credentials(mut self, yes: bool) -> Self {
            let p = format!(
                "{}.allow_insecure_origins_with_credentials",
                self.loc_prefix()
            );
            self.opts().allow_insecure_origins_with_credentials = Some(V::new(yes, loc(p)));
            self
        }
        /// Accepts `*.<public suffix>` patterns together with credentials (dangerous).
        pub fn allow_public_suffix_wildcards_with_credentials(mut self, yes: bool) -> Self {
            let p = format!(
                "{}.allow_public_suffix_wildcards_with_credentials",
                self.loc_prefix()
            );
            self.opts().allow_public_suffix_wildcards_with_credentials = Some(V::new(yes, loc(p)));
            self
        }
        /// Sets `csrf:` (cross-origin request forgery protection); the fields of `c` that
        /// are set override, the others are inherited, as in a file.
        pub fn csrf(mut self, c: crate::csrf::Csrf) -> Self {
            let p = format!("{}.csrf", self.loc_prefix());
            let o = self.opts();
            if let Some(m) = c.mode {
                o.csrf_mode = Some(V::new(m, loc(format!("{p}.mode"))));
            }
            if let Some(list) = c.trusted_origins {
                let lp = format!("{p}.trusted_origins");
                o.csrf_trusted_origins = Some(V::new(
                    list.into_iter()
                        .enumerate()
                        .map(|(i, s)| V::new(RawOrigin::Text(s), loc(format!("{lp}[{i}]"))))
                        .collect(),
                    loc(lp),
                ));
            }
            if let Some(b) = c.allow_same_site {
                o.csrf_allow_same_site = Some(V::new(b, loc(format!("{p}.allow_same_site"))));
            }
            self
        }
    };
}

/// Builds a [`Policy`] in code; [`PolicyBuilder::build`] validates like a file would.
///
/// ```
/// use corsguard::{Policy, PathRule};
/// let policy = Policy::builder()
///     .allow_origins(["https://app.example.com", "https://*.example.org"])
///     .allow_methods(["GET", "PUT", "DELETE"])
///     .allow_headers(["content-type", "x-trace-id"])
///     .allow_credentials(true)
///     .max_age(600)
///     .path(PathRule::prefix("/public/").allow_origin("*").allow_credentials(false))
///     .build()?;
/// assert_eq!(policy.rule_names(), ["paths[0]", "defaults"]);
///
/// let err = Policy::builder().allow_origin("*").allow_credentials(true).build().unwrap_err();
/// assert_eq!(err.diagnostics()[0].code, "origin-wildcard-credentials");
/// # Ok::<(), corsguard::ConfigErrors>(())
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until .build()"]
pub struct PolicyBuilder {
    cfg: RawConfig,
}

impl PolicyBuilder {
    fn loc_prefix(&self) -> String {
        "defaults".into()
    }
    fn opts(&mut self) -> &mut RawOptions {
        &mut self.cfg.defaults
    }

    option_setters!();

    /// Appends a path rule (rules are tried in order; the first match wins).
    pub fn path(mut self, rule: PathRule) -> Self {
        let i = self.cfg.paths.len();
        self.cfg.paths.push(rule.into_raw(i));
        self
    }

    /// Sets the `gateway:` section.
    pub fn gateway(mut self, g: GatewaySettings) -> Self {
        self.cfg.gateway = Some(g);
        self
    }

    /// Validates and compiles.
    pub fn build(self) -> Result<Policy, ConfigErrors> {
        crate::validate::compile(self.cfg, Vec::new(), None)
    }
}

/// A path rule for [`PolicyBuilder::path`]: a matcher, optional hosts, and option overrides.
///
/// ```
/// let r = corsguard::PathRule::glob("/v*/items/**").hosts(["api.example.com"]).max_age(60);
/// let p = corsguard::Policy::builder().allow_origin("https://a.example").path(r).build()?;
/// # Ok::<(), corsguard::ConfigErrors>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a PathRule does nothing until added with .path(..)"]
pub struct PathRule {
    matcher: RawPathMatcher,
    hosts: Option<Vec<String>>,
    cors: Option<bool>,
    upstream: Option<String>,
    options: RawOptions,
    index: usize,
}

impl PathRule {
    fn new(matcher: RawPathMatcher) -> Self {
        PathRule {
            matcher,
            hosts: None,
            cors: None,
            upstream: None,
            options: RawOptions::default(),
            index: usize::MAX,
        }
    }
    /// Segment-aware path prefix (`/api/`).
    pub fn prefix(p: impl Into<String>) -> Self {
        Self::new(RawPathMatcher::Prefix(p.into()))
    }
    /// Path glob: `*` within a segment, `**` across segments.
    pub fn glob(g: impl Into<String>) -> Self {
        Self::new(RawPathMatcher::Glob(g.into()))
    }
    /// Path regex (anchor it with `^`).
    pub fn regex(r: impl Into<String>) -> Self {
        Self::new(RawPathMatcher::Regex(r.into()))
    }
    /// Every path (use with [`PathRule::hosts`]).
    pub fn any_path() -> Self {
        Self::new(RawPathMatcher::All)
    }
    /// Restricts the rule to these hosts (`api.example.com`, `*.example.com`).
    pub fn hosts<S: Into<String>>(mut self, hosts: impl IntoIterator<Item = S>) -> Self {
        self.hosts = Some(hosts.into_iter().map(Into::into).collect());
        self
    }
    /// `cors(false)` leaves requests on this rule entirely to the application.
    pub fn cors(mut self, enabled: bool) -> Self {
        self.cors = Some(enabled);
        self
    }
    /// The gateway upstream for this rule.
    pub fn upstream(mut self, url: impl Into<String>) -> Self {
        self.upstream = Some(url.into());
        self
    }

    fn loc_prefix(&self) -> String {
        format!("paths[{}]", self.index)
    }
    fn opts(&mut self) -> &mut RawOptions {
        &mut self.options
    }

    option_setters!();

    fn into_raw(self, i: usize) -> RawRule {
        let p = format!("paths[{i}]");
        // Re-key option locations to the final index.
        let mut options = self.options;
        rekey(&mut options, &format!("paths[{}]", self.index), &p);
        RawRule {
            matcher: V::new(self.matcher, loc(format!("{p}.path"))),
            hosts: self.hosts.map(|h| list(&format!("{p}.hosts"), h, |s| s)),
            cors: self.cors.map(|c| V::new(c, loc(format!("{p}.cors")))),
            upstream: self
                .upstream
                .map(|u| V::new(u, loc(format!("{p}.upstream")))),
            options,
        }
    }
}

fn rekey(o: &mut RawOptions, from: &str, to: &str) {
    fn fix(l: &mut Location, from: &str, to: &str) {
        if let Some(rest) = l.path.strip_prefix(from) {
            l.path = format!("{to}{rest}");
        }
    }
    macro_rules! scalar {
        ($($f:ident),*) => { $( if let Some(v) = &mut o.$f { fix(&mut v.loc, from, to); } )* };
    }
    scalar!(
        allow_credentials,
        max_age,
        allow_private_network,
        allow_null_origin,
        skip_same_origin,
        forced_allow_origin,
        preflight_status,
        preflight_passthrough,
        on_reject,
        mode,
        allow_insecure_origins_with_credentials,
        allow_public_suffix_wildcards_with_credentials
    );
    macro_rules! lists {
        ($($f:ident),*) => { $( if let Some(v) = &mut o.$f { fix(&mut v.loc, from, to); for x in &mut v.value { fix(&mut x.loc, from, to); } } )* };
    }
    lists!(allow_origins, allow_methods, allow_headers, expose_headers);
}
