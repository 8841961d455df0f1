//! A running gateway: its addresses, its shutdown handle and the drain report.

use std::net::SocketAddr;
use std::sync::Arc;

use corsguard::PolicyHandle;
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::metrics::Metrics;
use crate::refusals::RefusedRequest;
use crate::state::Shared;

/// Stops a running gateway (cheap to clone, usable from any task).
///
/// ```no_run
/// # async fn f(running: corsguard_gateway::RunningGateway) {
/// let stop = running.shutdown_handle();
/// tokio::spawn(async move { stop.shutdown() });
/// running.wait().await;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    token: CancellationToken,
}

impl ShutdownHandle {
    /// Starts a graceful shutdown: stop accepting, drain in-flight requests up to
    /// `timeouts.shutdown_grace`, then stop.
    pub fn shutdown(&self) {
        self.token.cancel();
    }

    /// `true` once shutdown has started.
    pub fn is_shutting_down(&self) -> bool {
        self.token.is_cancelled()
    }
}

/// How a shutdown went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReport {
    /// `true` if every in-flight request finished within the grace period.
    pub drained: bool,
    /// Connections still open when the grace period ran out (closed forcibly).
    pub forced_connections: u64,
    /// `true` when the gateway stopped because its serving task failed (panicked), not
    /// because a shutdown was asked for: a supervisor should see a failure.
    pub failed: bool,
}

/// A gateway that is serving. Dropping it does not stop it; call
/// [`RunningGateway::shutdown`] (or use the [`ShutdownHandle`]).
pub struct RunningGateway {
    local_addr: SocketAddr,
    admin_addr: Option<SocketAddr>,
    shared: Arc<Shared>,
    handle: ShutdownHandle,
    task: tokio::task::JoinHandle<ShutdownReport>,
}

impl std::fmt::Debug for RunningGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningGateway")
            .field("local_addr", &self.local_addr)
            .field("admin_addr", &self.admin_addr)
            .finish_non_exhaustive()
    }
}

impl RunningGateway {
    /// A gateway whose serving `task` stops when `shutdown` is cancelled.
    pub(crate) fn new(
        local_addr: SocketAddr,
        admin_addr: Option<SocketAddr>,
        shared: Arc<Shared>,
        shutdown: CancellationToken,
        task: tokio::task::JoinHandle<ShutdownReport>,
    ) -> Self {
        RunningGateway {
            local_addr,
            admin_addr,
            shared,
            handle: ShutdownHandle { token: shutdown },
            task,
        }
    }

    /// The address the gateway listens on (the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The admin listener's address, if enabled.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }

    /// `http://addr` or `https://addr`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.shared.scheme, self.local_addr)
    }

    /// `http://admin-addr`, if enabled.
    pub fn admin_url(&self) -> Option<String> {
        self.admin_addr.map(|a| format!("http://{a}"))
    }

    /// The live policy handle (`replace` swaps the policy for new requests).
    pub fn policy(&self) -> &PolicyHandle {
        &self.shared.policy
    }

    /// The gateway's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// The last refused requests with their traces, newest first.
    pub fn refused_requests(&self) -> Vec<RefusedRequest> {
        self.shared.refusals.snapshot()
    }

    /// Re-reads the policy file now (what SIGHUP does). Errors when the gateway was not
    /// configured from a file or when the new file is invalid (the running policy stays).
    pub fn reload(&self) -> Result<u64, Error> {
        match &self.shared.reloader {
            Some(r) => Ok(r.reload("api")?),
            None => Err(Error::Io {
                context: "reload".into(),
                source: std::io::Error::other("the gateway was not started from a policy file"),
            }),
        }
    }

    /// A handle that can stop the gateway from elsewhere.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.handle.clone()
    }

    /// Starts a graceful shutdown and waits for it to finish.
    pub async fn shutdown(self) -> ShutdownReport {
        self.handle.shutdown();
        self.wait().await
    }

    /// Waits until the gateway has stopped (after a shutdown was requested by a signal or
    /// a [`ShutdownHandle`]).
    pub async fn wait(self) -> ShutdownReport {
        report_of(self.task.await)
    }
}

/// The report of the serving task's end: a task that panicked (or was cancelled) is a
/// failure, never an orderly stop.
pub(crate) fn report_of(r: Result<ShutdownReport, tokio::task::JoinError>) -> ShutdownReport {
    match r {
        Ok(report) => report,
        Err(e) => {
            tracing::error!("the gateway's serving task failed: {e}");
            ShutdownReport {
                drained: false,
                forced_connections: 0,
                failed: true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicked_serving_task_is_reported_as_a_failure() {
        let task = tokio::spawn(async {
            if std::hint::black_box(true) {
                panic!("boom");
            }
            ShutdownReport {
                drained: true,
                forced_connections: 0,
                failed: false,
            }
        });
        let report = report_of(task.await);
        assert!(report.failed && !report.drained);
        let ok = report_of(Ok(ShutdownReport {
            drained: true,
            forced_connections: 0,
            failed: false,
        }));
        assert!(!ok.failed);
    }
}
