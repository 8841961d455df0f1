//! [`CorsLayer`]: where the policy comes from (a fixed policy or a hot-reloadable handle).

use std::path::Path;

use corsguard::adapter::PolicySource;
use corsguard::{ConfigErrors, Policy, PolicyHandle};
use tower_layer::Layer;

use crate::service::Cors;

/// A [`tower_layer::Layer`] that enforces a corsguard [`Policy`] on every request of the
/// service it wraps: preflights are answered here and never reach the inner service,
/// refused requests are handled as the policy says (`on_reject`), and the CORS headers of
/// every other response are written by the policy (the inner service's own
/// `Access-Control-Allow-*` headers are replaced, its `Vary` is merged).
///
/// The layer is cheap to clone (an `Arc` or a [`PolicyHandle`]), `Send + Sync`, and never
/// panics, neither when it is built nor when it serves requests.
///
/// Put it **outside** everything that may answer a browser's preflight or fail before the
/// handler: authentication, routing (404/405), rate limiting, error mapping. With axum,
/// that means `Router::layer(CorsLayer)` added last, after the routes and the other layers.
///
/// ```
/// use axum::{Router, routing::get};
/// use corsguard::Policy;
/// use corsguard_tower::CorsLayer;
///
/// let policy = Policy::builder()
///     .allow_origin("https://app.example.com")
///     .allow_methods(["GET", "PUT"])
///     .allow_credentials(true)
///     .build()?;
/// let app: Router = Router::new()
///     .route("/v1/items", get(|| async { "items" }))
///     .layer(CorsLayer::new(policy));
/// # Ok::<(), corsguard::ConfigErrors>(())
/// ```
#[derive(Debug, Clone)]
pub struct CorsLayer {
    source: PolicySource,
}

impl CorsLayer {
    /// A layer enforcing `policy` (built with [`Policy::builder`], or loaded from text, a
    /// file or the environment). The policy's warnings, if any, are logged at `warn`.
    ///
    /// ```
    /// let policy = corsguard::Policy::from_yaml_str(
    ///     "defaults: {allow_origins: ['https://app.example.com'], max_age: 600}",
    /// )?;
    /// let layer = corsguard_tower::CorsLayer::new(policy);
    /// assert!(layer.handle().is_none());
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn new(policy: Policy) -> Self {
        CorsLayer {
            source: PolicySource::new(policy),
        }
    }

    /// A layer reading the current policy of `handle` once per request, for hot reload:
    /// replace the handle's policy ([`PolicyHandle::replace`], [`PolicyHandle::reload_file`])
    /// and the next request uses the new one. A request is always decided by exactly one
    /// version, never a mix.
    ///
    /// ```
    /// use corsguard::{Policy, PolicyHandle};
    /// let handle = PolicyHandle::new(Policy::builder().allow_origin("https://a.example").build()?);
    /// let layer = corsguard_tower::CorsLayer::from_handle(handle.clone());
    /// // later, e.g. on SIGHUP: a failed reload keeps the running policy
    /// handle.replace(Policy::builder().allow_origin("https://b.example").build()?);
    /// assert_eq!(layer.handle().map(|h| h.version()), Some(2));
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn from_handle(handle: PolicyHandle) -> Self {
        CorsLayer {
            source: PolicySource::Handle(handle),
        }
    }

    /// Loads a `.yaml`/`.yml` or `.toml` policy file (see [`Policy::from_file`]). Every
    /// problem of the file is reported at once in the [`ConfigErrors`].
    ///
    /// ```no_run
    /// let layer = corsguard_tower::CorsLayer::from_file("corsguard.yaml")?;
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigErrors> {
        Policy::from_file(path).map(Self::new)
    }

    /// Builds the policy from environment variables (`CORS_ALLOWED_ORIGINS`,
    /// `CORSGUARD_<OPTION>`; see [`Policy::from_env`]).
    ///
    /// ```no_run
    /// // CORS_ALLOWED_ORIGINS="https://app.example.com" CORSGUARD_MAX_AGE=600
    /// let layer = corsguard_tower::CorsLayer::from_env()?;
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn from_env() -> Result<Self, ConfigErrors> {
        Policy::from_env().map(Self::new)
    }

    /// The policy handle, when the layer was built with [`CorsLayer::from_handle`].
    ///
    /// ```
    /// let p = corsguard::Policy::builder().allow_origin("https://a.example").build()?;
    /// assert!(corsguard_tower::CorsLayer::new(p).handle().is_none());
    /// # Ok::<(), corsguard::ConfigErrors>(())
    /// ```
    pub fn handle(&self) -> Option<&PolicyHandle> {
        self.source.handle()
    }
}

impl From<Policy> for CorsLayer {
    fn from(policy: Policy) -> Self {
        CorsLayer::new(policy)
    }
}

impl From<PolicyHandle> for CorsLayer {
    fn from(handle: PolicyHandle) -> Self {
        CorsLayer::from_handle(handle)
    }
}

impl<S> Layer<S> for CorsLayer {
    type Service = Cors<S>;

    fn layer(&self, inner: S) -> Cors<S> {
        Cors::with_source(inner, self.source.clone())
    }
}
