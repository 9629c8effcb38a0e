//! Graceful restart in the actor: our own recovery after a restart (`-R`, RFC 4724 §4.1:
//! exports deferred until the peers' End-of-RIB or the wait runs out) and the peers' stale
//! routes swept when their restart time runs out (§4.2).

use std::sync::Arc;

use conf::Config;
use rib::PeerId;
use tokio::time::Instant;
use tracing::{debug, info};

use super::RibActor;
use crate::policy_compile;

impl RibActor {
    /// Starts our graceful-restart recovery (see [`crate::recovery`]) over the peers of
    /// `config`, the start configuration.
    pub fn recover(&mut self, config: &Config, shared: Arc<crate::recovery::Recovery>) {
        let mut t = crate::recovery::Tracker::new(shared);
        for (i, n) in config.neighbors.iter().enumerate() {
            let id = policy_compile::peer_id(i);
            if self.peers.contains_key(&id) {
                let first_round = (config.recovery
                    == crate::recovery::RecoveryMode::EstablishedPeers)
                    .then(|| crate::recovery::first_round(n));
                t.join(id, n.name.as_str(), n.graceful_restart.enabled, first_round);
            }
        }
        self.recovery = Some(t);
    }

    /// Ends the recovery when it is due: every deferred peer gets the whole table of its
    /// update group and End-of-RIB per family, as a route refresh answer is built.
    pub(super) fn end_recovery(&mut self) {
        let Some(done) = self
            .recovery
            .as_mut()
            .and_then(|r| r.poll(std::time::Instant::now()))
        else {
            return;
        };
        self.recovery = None;
        for (id, families) in done {
            let Some(permit) = self.reserve(id) else {
                // Lagging (nothing was written to it, so hardly): sent when it drains.
                self.refresh_later(id, &families);
                continue;
            };
            let mut out = bytes::BytesMut::new();
            for f in families {
                match self.rib.route_refresh(id, f) {
                    Ok(enc) => out.extend_from_slice(&enc.bytes),
                    Err(e) => debug!(%id, %f, error = %e, "no table to send after recovery"),
                }
            }
            info!(event = "recovery_export", %id, bytes = out.len(), "deferred routes sent");
            if !out.is_empty() {
                permit.send(out.freeze().into());
            }
        }
    }

    pub(super) async fn sweep_expired(&mut self, now: Instant) {
        let due: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.stale_until.is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            if let Some(p) = self.peers.get_mut(&id) {
                p.stale_until = None;
            }
            let c = self.rib.sweep_stale(id);
            info!(event = "stale_swept", %id, removed = c.len(), "stale routes removed");
            self.flush(c).await;
        }
    }
}
