//! The peer task's side of BFD: one subscription to the BFD manager per neighbor with `bfd`
//! on, and a BFD failure turned into [`Input::BfdDown`].

use tokio::sync::watch;
use tracing::warn;

use super::PeerTask;
use crate::bfd::{BfdStatus, SessionKey};
use crate::fsm::Input;

impl PeerTask {
    /// (Re)subscribes to this neighbor's BFD session as its settings say; dropping the old
    /// receiver lets the manager remove a session nobody wants.
    pub(super) fn bfd_subscribe(&mut self) {
        self.bfd_rx = None;
        let (Some(h), Some(b)) = (&self.bfd, self.neighbor.bfd) else {
            self.status.bfd(None);
            return;
        };
        let key = SessionKey {
            peer: self.neighbor.address,
            multihop: b.multihop,
            interface: None,
        };
        let params = crate::bfd::state::Params {
            desired_min_tx: b.min_tx,
            required_min_rx: b.min_rx,
            detect_mult: b.multiplier,
            passive: b.passive,
        };
        let rx = h.subscribe(key, params, self.neighbor.source_address);
        self.bfd_failures = None;
        self.status.bfd(Some(rx.borrow().clone()));
        self.bfd_rx = Some(rx);
    }

    /// The BFD session changed; a new failure takes the BGP session down (RFC 5882 §4.3.1,
    /// as BIRD's `bgp_bfd_notify`).
    pub(super) fn bfd_changed(&mut self, alive: bool) {
        let Some(rx) = &self.bfd_rx else {
            return;
        };
        if !alive {
            warn!(event = "bfd_gone", "BFD manager stopped");
            self.bfd_rx = None;
            return;
        }
        let st = rx.borrow().clone();
        self.status.bfd(Some(st.clone()));
        let seen = self.bfd_failures.replace(st.failures);
        if seen.is_none_or(|seen| st.failures <= seen) {
            return;
        }
        if self.session.connection_count() == 0 {
            return;
        }
        let graceful = self.neighbor.bfd.is_some_and(|b| b.graceful);
        warn!(event = "bfd_down", diag = %st.diag, graceful, "BFD session down, closing the BGP session");
        self.input(Input::BfdDown { graceful });
    }
}

/// The next change of the BFD session (`false`: the manager is gone); never without one.
pub(super) async fn changed(rx: Option<&mut watch::Receiver<BfdStatus>>) -> bool {
    match rx {
        Some(rx) => rx.changed().await.is_ok(),
        None => std::future::pending().await,
    }
}
