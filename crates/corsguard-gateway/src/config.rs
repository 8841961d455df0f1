//! What a gateway is started with: the policy (with its `gateway:` section) plus overrides.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use corsguard::gateway::GatewaySettings;
use corsguard::{Policy, PolicyHandle};

use crate::error::Error;
use crate::upstream::Upstream;

/// Everything [`crate::Gateway::bind`] needs.
///
/// Built from a policy (whose `gateway:` section gives listen address, upstream, timeouts,
/// limits, TLS, trusted proxies and WebSocket settings), then adjusted with the builder
/// methods — which is how `corsguard serve` applies its command-line flags on top of the
/// file.
///
/// ```
/// use corsguard_gateway::GatewayConfig;
/// let policy = corsguard::Policy::from_yaml_str(r#"
/// defaults: { allow_origins: ['https://app.example.com'] }
/// gateway: { listen: 127.0.0.1:8080, upstream: http://127.0.0.1:9000 }
/// "#)?;
/// let config = GatewayConfig::new(policy)
///     .listen("127.0.0.1:0".parse().unwrap())
///     .upstream("http://127.0.0.1:9001")?;
/// assert_eq!(config.settings().listen.port(), 0);
/// assert_eq!(config.default_upstream(), Some("http://127.0.0.1:9001"));
/// # Ok::<(), corsguard_gateway::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub(crate) policy: PolicyHandle,
    pub(crate) settings: GatewaySettings,
    pub(crate) upstream_override: Option<Upstream>,
    pub(crate) config_file: Option<PathBuf>,
    pub(crate) env_overrides: bool,
    pub(crate) watch: bool,
    pub(crate) reload_debounce: Duration,
    pub(crate) explain_endpoint: bool,
    pub(crate) refusal_log_capacity: usize,
    pub(crate) handle_signals: bool,
}

impl GatewayConfig {
    /// A configuration for `policy`; its `gateway:` section (or the defaults) gives the
    /// settings. Without a file, hot reload only happens through
    /// [`crate::RunningGateway::policy`] (`PolicyHandle::replace`).
    pub fn new(policy: Policy) -> Self {
        let settings = policy.gateway().cloned().unwrap_or_default();
        GatewayConfig {
            policy: PolicyHandle::new(policy),
            settings,
            upstream_override: None,
            config_file: None,
            env_overrides: false,
            watch: false,
            reload_debounce: Duration::from_millis(250),
            explain_endpoint: false,
            refusal_log_capacity: 100,
            handle_signals: false,
        }
    }

    /// Reads a YAML or TOML policy file (no environment overrides). The file is watched
    /// and re-read on change and on SIGHUP (see [`GatewayConfig::watch_file`],
    /// [`GatewayConfig::handle_signals`]).
    ///
    /// ```no_run
    /// let config = corsguard_gateway::GatewayConfig::from_file("corsguard.yaml")?;
    /// # Ok::<(), corsguard_gateway::Error>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let policy = Policy::from_file(path)?;
        Ok(Self::with_file(policy, path, false))
    }

    /// Like [`GatewayConfig::from_file`], with `CORS_ALLOWED_ORIGINS` / `CORSGUARD_<OPTION>`
    /// environment overrides applied on top of the file's `defaults:` (also on every
    /// reload). This is what `corsguard serve` uses.
    ///
    /// ```no_run
    /// let config = corsguard_gateway::GatewayConfig::from_file_and_env("corsguard.yaml")?;
    /// # Ok::<(), corsguard_gateway::Error>(())
    /// ```
    pub fn from_file_and_env(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let policy = Policy::load().file(path).env().build()?;
        Ok(Self::with_file(policy, path, true))
    }

    fn with_file(policy: Policy, path: &Path, env: bool) -> Self {
        let mut c = Self::new(policy);
        c.config_file = Some(path.to_path_buf());
        c.env_overrides = env;
        c.watch = true;
        c
    }

    /// Overrides `gateway.listen`.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.settings.listen = addr;
        self
    }

    /// Overrides `gateway.upstream` (the default upstream; path rules with their own
    /// `upstream` keep it). Must be an `http://` or `https://` URL without query.
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
    /// assert!(corsguard_gateway::GatewayConfig::new(p).upstream("ftp://x").is_err());
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn upstream(mut self, url: &str) -> Result<Self, Error> {
        self.upstream_override = Some(Upstream::parse(url)?);
        Ok(self)
    }

    /// Overrides `gateway.admin_listen` (`None` turns the admin listener off).
    pub fn admin_listen(mut self, addr: Option<SocketAddr>) -> Self {
        self.settings.admin_listen = addr;
        self
    }

    /// Mutable access to every other setting (timeouts, limits, TLS, trusted proxies,
    /// WebSocket), e.g. to shorten timeouts in tests.
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
    /// let mut c = corsguard_gateway::GatewayConfig::new(p);
    /// c.settings_mut().timeouts.upstream_response = std::time::Duration::from_millis(300);
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn settings_mut(&mut self) -> &mut GatewaySettings {
        &mut self.settings
    }

    /// The effective settings.
    pub fn settings(&self) -> &GatewaySettings {
        &self.settings
    }

    /// The policy handle the gateway will use (replace the policy through it to reload).
    pub fn policy(&self) -> &PolicyHandle {
        &self.policy
    }

    /// The default upstream: `--upstream`, else the file's `gateway.upstream`.
    pub fn default_upstream(&self) -> Option<&str> {
        match &self.upstream_override {
            Some(u) => Some(u.as_str()),
            None => self.settings.upstream.as_deref(),
        }
    }

    /// Watch the policy file's directory and reload on change (default: on for file
    /// configurations).
    pub fn watch_file(mut self, on: bool) -> Self {
        self.watch = on;
        self
    }

    /// Quiet period before a burst of file events triggers one reload (default 250 ms).
    pub fn reload_debounce(mut self, d: Duration) -> Self {
        self.reload_debounce = d;
        self
    }

    /// Serve [`crate::EXPLAIN_PATH`] (`/__corsguard/explain`) on the gateway listener: the
    /// engine's trace for a described request, as JSON, readable from any origin. Off by
    /// default (it tells anyone how the policy is configured); `corsguard demo` turns it on.
    /// The admin listener always serves the same thing at `/explain`.
    pub fn explain_endpoint(mut self, on: bool) -> Self {
        self.explain_endpoint = on;
        self
    }

    /// How many refused requests (with their traces) the admin page keeps (default 100).
    pub fn refusal_log_capacity(mut self, n: usize) -> Self {
        self.refusal_log_capacity = n;
        self
    }

    /// Install SIGHUP (reload) and SIGTERM/SIGINT (graceful shutdown) handlers (default off;
    /// `corsguard serve` turns it on).
    pub fn handle_signals(mut self, on: bool) -> Self {
        self.handle_signals = on;
        self
    }

    /// Checks what [`crate::Gateway::bind`] would check before binding: an upstream exists
    /// for every request, upstream URLs are usable, TLS files load. Returns notes for the
    /// operator (one line each).
    ///
    /// ```
    /// let p = corsguard::Policy::from_yaml_str("defaults: {allow_origins: ['https://a.example']}")?;
    /// assert!(corsguard_gateway::GatewayConfig::new(p).check().is_err()); // no upstream
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn check(&self) -> Result<Vec<String>, Error> {
        let out = self.settings.out_of_range();
        if !out.is_empty() {
            return Err(Error::Settings(out));
        }
        let policy = self.policy.load();
        let mut notes = Vec::new();
        let default = match &self.upstream_override {
            Some(u) => Some(u.clone()),
            None => self
                .settings
                .upstream
                .as_deref()
                .map(Upstream::parse)
                .transpose()?,
        };
        let summaries = policy.summaries();
        let mut uncovered = Vec::new();
        for s in &summaries {
            match &s.upstream {
                Some(u) => {
                    Upstream::parse(u)?;
                }
                None if default.is_none() => uncovered.push(s.name.clone()),
                None => {}
            }
        }
        if default.is_none() && !uncovered.is_empty() {
            if uncovered.len() == summaries.len() {
                return Err(Error::NoUpstream);
            }
            notes.push(format!(
                "warning: no default upstream; requests matching {} get 502",
                uncovered.join(", ")
            ));
        }
        if let Some(tls) = &self.settings.tls {
            crate::tls::acceptor(tls)?;
        }
        let scheme = if self.settings.tls.is_some() {
            "https"
        } else {
            "http"
        };
        notes.push(format!("listen: {scheme}://{}", self.settings.listen));
        if let Some(d) = &default {
            notes.push(format!("upstream: {}", d.as_str()));
        }
        for s in summaries.iter().filter(|s| s.upstream.is_some()) {
            notes.push(format!(
                "upstream for {} ({}): {}",
                s.name,
                s.matcher,
                s.upstream.as_deref().unwrap_or_default()
            ));
        }
        match self.settings.admin_listen {
            Some(a) => notes.push(format!("admin: http://{a}/")),
            None => notes.push("admin: off (set gateway.admin_listen)".into()),
        }
        Ok(notes)
    }
}
