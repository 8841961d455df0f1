//! The state every connection of one gateway shares: the policy, settings, routes, client,
//! metrics and logs, and the connection builders.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use corsguard::PolicyHandle;
use corsguard::gateway::GatewaySettings;
use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::metrics::Metrics;
use crate::path::Normalizer;
use crate::refusals::{LogLimiter, RefusalLog, unix};
use crate::reload::Reloader;
use crate::upstream::{Routes, UpstreamClient};

/// State shared by every connection of one gateway.
pub(crate) struct Shared {
    pub(crate) policy: PolicyHandle,
    pub(crate) settings: GatewaySettings,
    pub(crate) routes: Routes,
    pub(crate) client: UpstreamClient,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) refusals: RefusalLog,
    pub(crate) log_limiter: LogLimiter,
    pub(crate) normalizer: Normalizer,
    pub(crate) scheme: &'static str,
    pub(crate) explain_endpoint: bool,
    pub(crate) started_at: SystemTime,
    /// Version and load time of the policy, as last observed.
    pub(crate) loaded: Arc<Mutex<(u64, SystemTime)>>,
    pub(crate) ready: AtomicBool,
    /// Cancelled when draining starts: closes WebSocket tunnels.
    pub(crate) tunnels: CancellationToken,
    /// WebSocket tunnels.
    pub(crate) tracker: TaskTracker,
    pub(crate) reloader: Option<Arc<Reloader>>,
    pub(crate) builder: auto::Builder<TokioExecutor>,
    pub(crate) overload_builder: auto::Builder<TokioExecutor>,
}

impl Shared {
    /// The active policy's version and when it was loaded (a policy swapped in through the
    /// handle directly is dated when first observed here).
    pub(crate) fn policy_loaded(&self) -> (u64, SystemTime) {
        let v = self.policy.version();
        let mut l = self.loaded.lock().unwrap_or_else(|p| p.into_inner());
        if l.0 != v {
            *l = (v, SystemTime::now());
        }
        self.metrics.set_policy(l.0, unix(l.1));
        *l
    }
}
