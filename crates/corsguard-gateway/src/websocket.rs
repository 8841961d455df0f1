//! WebSocket (and any HTTP/1.1 upgrade) tunnelling: once both the client and the upstream
//! have switched protocols, bytes are copied both ways until either side closes, or the
//! gateway shuts down (tunnels are not requests: they are closed when draining starts).

use std::sync::Arc;

use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;

use crate::server::Shared;

pub(crate) fn spawn_tunnel(shared: &Arc<Shared>, client: OnUpgrade, upstream: OnUpgrade) {
    let metrics = shared.metrics.clone();
    let stop = shared.tunnels.clone();
    shared.tracker.spawn(async move {
        let (c, u) = match tokio::try_join!(client, upstream) {
            Ok(x) => x,
            Err(e) => {
                tracing::debug!("upgrade failed: {e}");
                return;
            }
        };
        metrics.tunnel_opened();
        let mut c = TokioIo::new(c);
        let mut u = TokioIo::new(u);
        tokio::select! {
            r = tokio::io::copy_bidirectional(&mut c, &mut u) => {
                if let Err(e) = r {
                    tracing::debug!("tunnel closed: {e}");
                }
            }
            _ = stop.cancelled() => {}
        }
        metrics.tunnel_closed();
    });
}
