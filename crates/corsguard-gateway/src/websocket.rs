//! WebSocket (and any HTTP/1.1 upgrade) tunnelling: once both the client and the upstream
//! have switched protocols, bytes are copied both ways until either side closes, the tunnel
//! has been idle for `timeouts.tunnel_idle`, or the gateway shuts down (tunnels are not
//! requests: they are closed when draining starts).
//!
//! A tunnel keeps the slot of the connection it was upgraded from, so tunnels count under
//! `limits.max_connections` and in `corsguard_connections_open`, and it keeps its upstream's
//! slot under `limits.max_upstream_connections`.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::OwnedSemaphorePermit;

use crate::conn::ConnSlot;
use crate::state::Shared;

/// When either side of a tunnel last moved a byte (milliseconds since `start`).
struct Clock {
    start: Instant,
    last_ms: AtomicU64,
}

impl Clock {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn tick(&self) {
        self.last_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        Duration::from_millis(
            self.now_ms()
                .saturating_sub(self.last_ms.load(Ordering::Relaxed)),
        )
    }
}

/// An I/O object that stamps the tunnel's clock on every byte read or written.
struct Stamped<T> {
    io: T,
    clock: Arc<Clock>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Stamped<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.clock.tick();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Stamped<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.clock.tick();
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// What a tunnel holds for its lifetime.
pub(crate) struct TunnelSlots {
    pub(crate) _connection: Option<ConnSlot>,
    pub(crate) _upstream: Option<OwnedSemaphorePermit>,
}

pub(crate) fn spawn_tunnel(
    shared: &Arc<Shared>,
    client: OnUpgrade,
    upstream: OnUpgrade,
    slots: TunnelSlots,
) {
    let metrics = shared.metrics.clone();
    let stop = shared.tunnels.clone();
    let idle = shared.settings.timeouts.tunnel_idle;
    shared.tracker.spawn(async move {
        let _slots = slots;
        let (c, u) = match tokio::try_join!(client, upstream) {
            Ok(x) => x,
            Err(e) => {
                tracing::debug!("upgrade failed: {e}");
                return;
            }
        };
        metrics.tunnel_opened();
        let clock = Arc::new(Clock {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
        });
        let mut c = Stamped {
            io: TokioIo::new(c),
            clock: clock.clone(),
        };
        let mut u = Stamped {
            io: TokioIo::new(u),
            clock: clock.clone(),
        };
        let mut tick = tokio::time::interval(
            (idle / 4).clamp(Duration::from_millis(10), Duration::from_secs(1)),
        );
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let copy = tokio::io::copy_bidirectional(&mut c, &mut u);
        tokio::pin!(copy);
        loop {
            tokio::select! {
                r = &mut copy => {
                    if let Err(e) = r {
                        tracing::debug!("tunnel closed: {e}");
                    }
                    break;
                }
                _ = tick.tick() => {
                    if clock.idle_for() >= idle {
                        tracing::debug!("tunnel idle for {idle:?} (timeouts.tunnel_idle): closing");
                        metrics.tunnel_idle_timeout();
                        break;
                    }
                }
                _ = stop.cancelled() => break,
            }
        }
        metrics.tunnel_closed();
    });
}
