//! The RIB actor's side of the kernel path: it feeds the FIB task Loc-RIB changes (in
//! `flush`), feeds networks again when the FIB task asks ([`RibRequest::Refeed`]), and tells it
//! once the RIB converged. The actor sees every session and every End-of-RIB, so this is the
//! one place convergence is decided (`PeerSlot::awaiting_eor` is the one record of End-of-RIB
//! markers).
//!
//! [`RibRequest::Refeed`]: super::RibRequest::Refeed

use std::ops::ControlFlow;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use rib::LocRibChange;
use tracing::{info, warn};

use super::{PeerSlot, RibActor};

/// Prefixes visited per refeed batch: a refeed of a big pool goes to the FIB task in batches
/// of at most this many changes, never as one copy of the table.
const REFEED_PAGE: usize = 8192;

/// Every network of both families (a refeed of the whole Loc-RIB).
pub(super) fn everything() -> [IpNet; 2] {
    [IpNet::V4(Ipv4Net::default()), IpNet::V6(Ipv6Net::default())]
}

/// `true` while `p` keeps the RIB from having converged: enabled, and not Established with an
/// End-of-RIB for every family it negotiated (RFC 4724 §2).
fn holds(p: &PeerSlot) -> bool {
    let enabled = p.status.as_ref().is_none_or(|s| s.borrow().enabled);
    enabled && !(p.session.is_some() && p.awaiting_eor.is_empty())
}

impl RibActor {
    /// Publishes how many peers the RIB waits for and, once none and our own graceful-restart
    /// recovery is over, tells the FIB task (once; in order after every change sent before).
    pub(super) async fn tell_converged(&mut self) {
        if self.fib_converged {
            return;
        }
        let Some(fib) = &self.fib else { return };
        let holding = self.peers.values().filter(|p| holds(p)).count();
        fib.holding(holding);
        if holding > 0 || self.recovery.is_some() {
            return;
        }
        self.fib_converged = true;
        info!(
            event = "rib_converged",
            peers = self.peers.len(),
            "every enabled peer sent its End-of-RIB"
        );
        if fib.converged().await.is_err() {
            self.set_fib(None);
        }
    }

    /// Sends the FIB task the current selection of every prefix inside `nets`, in batches.
    pub(super) async fn refeed(&mut self, nets: &[IpNet]) {
        for v6 in [false, true] {
            if !nets.iter().any(|n| matches!(n, IpNet::V6(_)) == v6) {
                continue;
            }
            let mut after = None;
            loop {
                let Some(fib) = self.fib.clone() else { return };
                let mut batch = Vec::new();
                let mut last = None;
                let mut visited = 0;
                self.rib
                    .for_each_selected_after(v6, after.as_ref(), |prefix, routes| {
                        visited += 1;
                        last = Some(prefix);
                        if nets.iter().any(|n| n.contains(&prefix)) {
                            batch.push(LocRibChange { prefix, routes });
                        }
                        if visited >= REFEED_PAGE {
                            ControlFlow::Break(())
                        } else {
                            ControlFlow::Continue(())
                        }
                    });
                if fib.changes(batch).await.is_err() {
                    warn!(
                        event = "fib_gone",
                        "FIB task stopped; no more kernel updates"
                    );
                    self.set_fib(None);
                    return;
                }
                if visited < REFEED_PAGE {
                    break;
                }
                after = last;
            }
        }
    }
}
