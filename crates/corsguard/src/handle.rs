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
