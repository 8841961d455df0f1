//! Per-connection bookkeeping: the slot under `limits.max_connections`, activity for idle
//! and drain decisions, and the guards that count in-flight requests and streams.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::OwnedSemaphorePermit;

use crate::metrics::Metrics;

/// A connection's place under `limits.max_connections`: while it lives, the connection
/// counts as open (gauge and permit). A WebSocket tunnel takes it over from the connection
/// it was upgraded from, so tunnels stay under the limit.
pub(crate) struct ConnSlot {
    _permit: OwnedSemaphorePermit,
    metrics: Arc<Metrics>,
}

impl ConnSlot {
    pub(crate) fn new(permit: OwnedSemaphorePermit, metrics: Arc<Metrics>) -> Self {
        metrics.connection_opened();
        ConnSlot {
            _permit: permit,
            metrics,
        }
    }
}

impl Drop for ConnSlot {
    fn drop(&mut self) {
        self.metrics.connection_closed();
    }
}

/// Per-connection activity: the idle timeout, the first-request deadline, the send
/// (progress) timeout, and the connection's slot.
pub(crate) struct ConnActivity {
    pub(crate) start: Instant,
    in_flight: AtomicUsize,
    last_ms: AtomicU64,
    /// Set by the first request (until then `client_header_read` bounds the connection).
    pub(crate) requested: AtomicBool,
    /// Response bodies being streamed now.
    streaming: AtomicUsize,
    /// When a response body last moved.
    progress_ms: AtomicU64,
    slot: Mutex<Option<ConnSlot>>,
}

impl ConnActivity {
    pub(crate) fn new(slot: ConnSlot) -> Arc<Self> {
        Arc::new(ConnActivity {
            start: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_ms: AtomicU64::new(0),
            requested: AtomicBool::new(false),
            streaming: AtomicUsize::new(0),
            progress_ms: AtomicU64::new(0),
            slot: Mutex::new(Some(slot)),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    pub(crate) fn idle_for(&self) -> Option<Duration> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        let last = self.last_ms.load(Ordering::Acquire);
        Some(Duration::from_millis(self.now_ms().saturating_sub(last)))
    }

    /// How long the streaming responses have made no progress (`None`: none streams).
    pub(crate) fn stalled_for(&self) -> Option<Duration> {
        if self.streaming.load(Ordering::Acquire) == 0 {
            return None;
        }
        let last = self.progress_ms.load(Ordering::Acquire);
        Some(Duration::from_millis(self.now_ms().saturating_sub(last)))
    }

    /// Takes the connection's slot (for a WebSocket tunnel).
    pub(crate) fn take_slot(&self) -> Option<ConnSlot> {
        self.slot.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// Held while a request (including its response body) is in flight.
pub(crate) struct ActiveGuard(Arc<ConnActivity>);

impl ActiveGuard {
    pub(crate) fn new(a: Arc<ConnActivity>) -> Self {
        a.in_flight.fetch_add(1, Ordering::AcqRel);
        a.requested.store(true, Ordering::Release);
        ActiveGuard(a)
    }

    pub(crate) fn activity(&self) -> &Arc<ConnActivity> {
        &self.0
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.last_ms.store(self.0.now_ms(), Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Held while a response body streams: its frames are the connection's progress.
pub(crate) struct StreamGuard {
    active: ActiveGuard,
    _upstream: Option<OwnedSemaphorePermit>,
}

impl StreamGuard {
    pub(crate) fn new(active: ActiveGuard, upstream: Option<OwnedSemaphorePermit>) -> Self {
        let a = &active.0;
        a.progress_ms.store(a.now_ms(), Ordering::Release);
        a.streaming.fetch_add(1, Ordering::AcqRel);
        StreamGuard {
            active,
            _upstream: upstream,
        }
    }

    /// A frame moved.
    pub(crate) fn progress(&self) {
        let a = &self.active.0;
        a.progress_ms.store(a.now_ms(), Ordering::Release);
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.active.0.streaming.fetch_sub(1, Ordering::AcqRel);
    }
}
