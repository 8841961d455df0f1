//! Hot reload: on SIGHUP and when the policy file changes (debounced), the file is re-read
//! and validated; only a valid policy is swapped in (atomically, through the
//! [`corsguard::PolicyHandle`]), so in-flight requests keep the `Arc` of the policy they
//! started with. An invalid file keeps the running policy, logs every diagnostic and counts
//! a failed reload.
//!
//! The watcher watches the file's *parent directory*, so editors' write-to-temp-and-rename
//! and Kubernetes ConfigMap `..data` symlink swaps are seen; events are filtered by name and
//! a reload only happens when the file's bytes actually changed.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use corsguard::gateway::GatewaySettings;
use corsguard::{ConfigErrors, Policy, PolicyHandle};
use notify_debouncer_full::notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, new_debouncer};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::error::Error;
use crate::metrics::Metrics;
use crate::refusals::unix;

/// Re-reads the policy file.
#[derive(Debug)]
pub(crate) struct Reloader {
    path: PathBuf,
    env: bool,
    policy: PolicyHandle,
    metrics: Arc<Metrics>,
    /// The `gateway:` section of the last file loaded (restart-only settings are compared
    /// with it, so that command-line overrides do not count as changes).
    file_gateway: Mutex<Option<GatewaySettings>>,
    /// Bytes of the file at the last attempt (successful or not).
    last_text: Mutex<Option<Vec<u8>>>,
    /// Version and time of the last successful load.
    pub(crate) loaded: Arc<Mutex<(u64, SystemTime)>>,
}

impl Reloader {
    pub(crate) fn new(
        path: PathBuf,
        env: bool,
        policy: PolicyHandle,
        metrics: Arc<Metrics>,
        file_gateway: Option<GatewaySettings>,
        loaded: Arc<Mutex<(u64, SystemTime)>>,
    ) -> Reloader {
        let text = std::fs::read(&path).ok();
        Reloader {
            path,
            env,
            policy,
            metrics,
            file_gateway: Mutex::new(file_gateway),
            last_text: Mutex::new(text),
            loaded,
        }
    }

    /// Reloads unconditionally (SIGHUP, API).
    pub(crate) fn reload(&self, trigger: &str) -> Result<u64, ConfigErrors> {
        if let Ok(t) = std::fs::read(&self.path) {
            *self.last_text.lock().unwrap_or_else(|p| p.into_inner()) = Some(t);
        }
        let result = if self.env {
            Policy::load().file(&self.path).env().build()
        } else {
            Policy::from_file(&self.path)
        };
        match result {
            Ok(p) => {
                for w in p.warnings() {
                    tracing::warn!(file = %self.path.display(), "{w}");
                }
                self.warn_restart_only(&p);
                let version = self.policy.replace(p);
                let now = SystemTime::now();
                *self.loaded.lock().unwrap_or_else(|p| p.into_inner()) = (version, now);
                self.metrics.record_reload(true);
                self.metrics.set_policy(version, unix(now));
                tracing::info!(file = %self.path.display(), version, trigger, "policy reloaded");
                Ok(version)
            }
            Err(e) => {
                self.metrics.record_reload(false);
                for d in e.diagnostics() {
                    tracing::error!(file = %self.path.display(), trigger, "{d}");
                }
                tracing::error!(
                    file = %self.path.display(),
                    trigger,
                    errors = e.errors().count(),
                    "reload failed: keeping policy version {}",
                    self.policy.version()
                );
                Err(e)
            }
        }
    }

    /// Reloads if the file's bytes differ from the last attempt (file events).
    fn reload_if_changed(&self) {
        let now = std::fs::read(&self.path).ok();
        {
            let last = self.last_text.lock().unwrap_or_else(|p| p.into_inner());
            if now.is_some() && *last == now {
                return;
            }
        }
        let _ = self.reload("file change");
    }

    fn warn_restart_only(&self, p: &Policy) {
        let new = p.gateway().cloned().unwrap_or_default();
        let mut last = self.file_gateway.lock().unwrap_or_else(|p| p.into_inner());
        let old = last.replace(new.clone()).unwrap_or_default();
        let (g, s) = (&new, &old);
        if g.listen != s.listen
            || g.admin_listen != s.admin_listen
            || g.tls != s.tls
            || g.limits != s.limits
            || g.timeouts != s.timeouts
            || g.trusted_proxies != s.trusted_proxies
            || g.websocket != s.websocket
        {
            tracing::warn!(
                file = %self.path.display(),
                "gateway listen/admin_listen/tls/limits/timeouts/trusted_proxies/websocket changed: \
                 they apply after a restart (the CORS rules and upstreams were reloaded)"
            );
        }
    }
}

/// The directory to watch and the file name to look for.
fn watch_target(path: &Path) -> (PathBuf, Option<std::ffi::OsString>) {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = abs
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    (dir, abs.file_name().map(|n| n.to_os_string()))
}

/// Starts the reload task: file events (when `watch`) and SIGHUP (when `sighup`).
pub(crate) fn spawn(
    reloader: Arc<Reloader>,
    watch: bool,
    debounce: Duration,
    sighup: bool,
    stop: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, Error> {
    let (tx, mut rx) = mpsc::unbounded_channel::<()>();
    let debouncer = if watch {
        let (dir, name) = watch_target(&reloader.path);
        let handler = move |res: DebounceEventResult| {
            let Ok(events) = res else { return };
            let relevant = events.iter().any(|e| {
                e.paths.iter().any(|p| {
                    let f = p.file_name();
                    f == name.as_deref()
                        || f.and_then(|f| f.to_str())
                            .is_some_and(|f| f.starts_with(".."))
                })
            });
            if relevant {
                let _ = tx.send(());
            }
        };
        let mut d = new_debouncer(debounce, None, handler).map_err(|e| Error::Watch {
            path: dir.clone(),
            reason: e.to_string(),
        })?;
        d.watch(&dir, RecursiveMode::NonRecursive)
            .map_err(|e| Error::Watch {
                path: dir.clone(),
                reason: e.to_string(),
            })?;
        Some(d)
    } else {
        drop(tx);
        None
    };
    let mut hup = if sighup { hangup()? } else { None };
    Ok(tokio::spawn(async move {
        let _debouncer = debouncer;
        loop {
            let trigger = tokio::select! {
                _ = stop.cancelled() => break,
                Some(()) = rx.recv() => "file change",
                Some(()) = recv_hangup(&mut hup) => "SIGHUP",
            };
            let r = reloader.clone();
            let _ = tokio::task::spawn_blocking(move || {
                if trigger == "SIGHUP" {
                    let _ = r.reload(trigger);
                } else {
                    r.reload_if_changed();
                }
            })
            .await;
        }
    }))
}

#[cfg(unix)]
type Hangup = tokio::signal::unix::Signal;
#[cfg(not(unix))]
type Hangup = ();

#[cfg(unix)]
fn hangup() -> Result<Option<Hangup>, Error> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map(Some)
        .map_err(|source| Error::Signal {
            signal: "SIGHUP",
            source,
        })
}

#[cfg(not(unix))]
fn hangup() -> Result<Option<Hangup>, Error> {
    Ok(None)
}

#[cfg(unix)]
async fn recv_hangup(h: &mut Option<Hangup>) -> Option<()> {
    match h {
        Some(s) => s.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn recv_hangup(_h: &mut Option<Hangup>) -> Option<()> {
    std::future::pending().await
}
