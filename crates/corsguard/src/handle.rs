//! A shared, atomically replaceable policy for hot reload.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;

use crate::diagnostic::ConfigErrors;
use crate::policy::Policy;

/// A cheaply clonable, thread-safe handle to the current [`Policy`]. `load` is lock-free;
/// `replace` swaps atomically, so every request sees either the old or the new policy in
/// full, never a mix. A failed reload keeps the old policy and returns the errors.
///
/// ```
/// use corsguard::{Policy, PolicyHandle};
/// let handle = PolicyHandle::new(Policy::builder().allow_origin("https://a.example").build()?);
/// assert_eq!(handle.version(), 1);
/// let bad = handle.reload_with(|| Policy::from_yaml_str("defaults: {max_age: -3}"));
/// assert!(bad.is_err());
/// assert_eq!(handle.version(), 1); // old policy kept
/// handle.replace(Policy::builder().allow_origin("https://b.example").build()?);
/// assert_eq!(handle.version(), 2);
/// assert!(handle.load().origin_allowed("/", None, b"https://b.example"));
/// # Ok::<(), corsguard::ConfigErrors>(())
/// ```
#[derive(Debug, Clone)]
pub struct PolicyHandle {
    inner: Arc<HandleInner>,
}

#[derive(Debug)]
struct HandleInner {
    current: ArcSwap<Versioned>,
    next_version: AtomicU64,
}

/// A policy with the version number the handle gave it.
#[derive(Debug)]
pub struct Versioned {
    /// The policy.
    pub policy: Policy,
    /// 1 for the first policy, +1 per successful replacement.
    pub version: u64,
}

impl std::ops::Deref for Versioned {
    type Target = Policy;
    fn deref(&self) -> &Policy {
        &self.policy
    }
}

impl PolicyHandle {
    /// A handle holding `policy` as version 1.
    pub fn new(policy: Policy) -> Self {
        PolicyHandle {
            inner: Arc::new(HandleInner {
                current: ArcSwap::from_pointee(Versioned { policy, version: 1 }),
                next_version: AtomicU64::new(2),
            }),
        }
    }

    /// The current policy (an `Arc`; keep it for the duration of one request).
    pub fn load(&self) -> Arc<Versioned> {
        self.inner.current.load_full()
    }

    /// The current version.
    pub fn version(&self) -> u64 {
        self.inner.current.load().version
    }

    /// Replaces the policy atomically; returns the new version.
    pub fn replace(&self, policy: Policy) -> u64 {
        let version = self.inner.next_version.fetch_add(1, Ordering::Relaxed);
        self.inner
            .current
            .store(Arc::new(Versioned { policy, version }));
        version
    }

    /// Runs `load`; on success swaps the result in, on failure keeps the running policy.
    pub fn reload_with(
        &self,
        load: impl FnOnce() -> Result<Policy, ConfigErrors>,
    ) -> Result<u64, ConfigErrors> {
        let p = load()?;
        Ok(self.replace(p))
    }

    /// Reloads from a file (see [`Policy::from_file`]).
    pub fn reload_file(&self, path: impl AsRef<Path>) -> Result<u64, ConfigErrors> {
        self.reload_with(|| Policy::from_file(path))
    }
}

impl From<Policy> for PolicyHandle {
    fn from(p: Policy) -> Self {
        PolicyHandle::new(p)
    }
}

/// Where an adapter reads its policy from: one fixed policy, or a [`PolicyHandle`]'s current
/// one (hot reload). Every adapter (tower, actix-web, the gateway) holds one of these, so they
/// load and decide the same way.
///
/// ```
/// use corsguard::{Policy, PolicyHandle};
/// use corsguard::adapter::{PolicySource, RequestHead};
/// let fixed = PolicySource::new(Policy::builder().allow_origin("https://a.example").build()?);
/// assert!(fixed.handle().is_none());
/// let handle = PolicyHandle::new(Policy::builder().allow_origin("https://a.example").build()?);
/// let live = PolicySource::from(handle.clone());
/// let d = live.decide(&RequestHead::new("GET", "/"));
/// assert_eq!(d.vary_tokens().collect::<Vec<_>>(), ["Origin"]);
/// assert_eq!(live.handle().map(PolicyHandle::version), Some(1));
/// # Ok::<(), corsguard::ConfigErrors>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum PolicySource {
    /// One policy for the life of the adapter.
    Fixed(Policy),
    /// The handle's current policy, loaded once per request.
    Handle(PolicyHandle),
}

impl PolicySource {
    /// A fixed source; the policy's warnings, if any, are logged at `warn` (the policy is
    /// usable, but its author should know).
    pub fn new(policy: Policy) -> Self {
        for w in policy.warnings() {
            tracing::warn!(target: "corsguard", "{w}");
        }
        PolicySource::Fixed(policy)
    }

    /// Decides one request against the current policy. A handle is loaded once, so the whole
    /// decision comes from a single policy version, never a mix.
    pub fn decide(&self, head: &crate::adapter::RequestHead<'_>) -> crate::adapter::Decision {
        match self {
            PolicySource::Fixed(p) => p.decide(head),
            PolicySource::Handle(h) => h.load().decide(head),
        }
    }

    /// The handle, for sources built from one.
    pub fn handle(&self) -> Option<&PolicyHandle> {
        match self {
            PolicySource::Handle(h) => Some(h),
            PolicySource::Fixed(_) => None,
        }
    }
}

impl From<Policy> for PolicySource {
    fn from(p: Policy) -> Self {
        PolicySource::new(p)
    }
}

impl From<PolicyHandle> for PolicySource {
    fn from(h: PolicyHandle) -> Self {
        PolicySource::Handle(h)
    }
}
