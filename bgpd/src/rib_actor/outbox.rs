//! Outgoing UPDATEs: the actor hands each peer's UPDATEs to the peer task that owns the
//! connection, over the session's outbox, a bounded channel of [`Outgoing`] (one per export
//! pass, its pieces shared by every member of the update group: encoded once).
//!
//! Back-pressure without loss: a write happens only with a slot reserved first. A peer whose
//! outbox has no free slot (its connection does not drain: a slow or stopped reader) is not
//! waited for and nothing is queued or dropped for it: it *lags* ([`rib::Rib::lag`]), its
//! update group leaves it out and remembers what it held of each prefix that changes, and a
//! small task of the actor's waits for half the outbox to be free. Then the peer gets the
//! group's current state for those prefixes ([`rib::Rib::catch_up`]) and the route refresh
//! answers it asked for meanwhile. Other peers are never held up by one that lags, and what a
//! lagging peer costs is bounded by the table, not by the churn.

use std::collections::HashMap;

use bgp_proto::route_refresh::{RouteRefresh, RouteRefreshSubtype};
use bgp_proto::Family;
use bytes::{Bytes, BytesMut};
use rib::PeerId;
use tokio::sync::mpsc::{self, OwnedPermit};
use tracing::{debug, info, warn};

use super::RibActor;
use crate::fsm::ConnId;

/// Passes a session's outbox holds before its peer lags.
pub const OUTBOX_QUEUE: usize = 16;

/// The UPDATEs of one pass for one peer: whole BGP messages, in order; each piece is shared
/// with the other peers it is written to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outgoing(pub Vec<Bytes>);

impl Outgoing {
    /// Octets in all pieces.
    pub fn len(&self) -> usize {
        self.0.iter().map(Bytes::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(Bytes::is_empty)
    }

    /// The pieces back to back (tests read them as one stream).
    pub fn concat(&self) -> Vec<u8> {
        self.0.iter().flat_map(|b| b.iter().copied()).collect()
    }
}

impl From<Bytes> for Outgoing {
    fn from(b: Bytes) -> Self {
        Outgoing(vec![b])
    }
}

/// A session's outbox (the peer task keeps the receiver; [`crate::rib_actor::SessionUp`]
/// carries the sender).
pub fn outbox() -> (mpsc::Sender<Outgoing>, mpsc::Receiver<Outgoing>) {
    mpsc::channel(OUTBOX_QUEUE)
}

/// What a waiter reports: the peer, the connection its outbox belongs to, and whether it has
/// room (false: the session ended).
pub(super) type Drained = (PeerId, ConnId, bool);

impl RibActor {
    /// A slot in `id`'s outbox, or `None` when nothing is to be written to it now: no session,
    /// held back by our graceful-restart recovery, or lagging (made so here when its outbox is
    /// full).
    pub(super) fn reserve(&mut self, id: PeerId) -> Option<OwnedPermit<Outgoing>> {
        if self.recovery.as_ref().is_some_and(|r| r.deferred(id)) {
            return None;
        }
        let s = self.peers.get(&id)?.session.as_ref()?;
        if s.lagging {
            return None;
        }
        match s.outbox.clone().try_reserve_owned() {
            Ok(p) => Some(p),
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.start_lag(id);
                None
            }
            // The session ended; its Down event follows.
            Err(mpsc::error::TrySendError::Closed(_)) => None,
        }
    }

    /// A slot for every peer that can take a pass now (see [`RibActor::reserve`]).
    pub(super) fn reserve_all(&mut self) -> HashMap<PeerId, OwnedPermit<Outgoing>> {
        let ids: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.session.is_some())
            .map(|(id, _)| *id)
            .collect();
        ids.into_iter()
            .filter_map(|id| self.reserve(id).map(|p| (id, p)))
            .collect()
    }

    /// Write each group's pass to its members through their reserved slots (a member without
    /// one lags, and the group left it out).
    pub(super) fn write_groups(
        &self,
        out: &[rib::GroupUpdate],
        permits: &mut HashMap<PeerId, OwnedPermit<Outgoing>>,
    ) {
        for g in out {
            for peer in &g.peers {
                let pieces: Vec<Bytes> = g.bytes_for(*peer).cloned().collect();
                if pieces.is_empty() {
                    continue;
                }
                match permits.remove(peer) {
                    Some(p) => {
                        p.send(Outgoing(pieces));
                    }
                    None => debug!(%peer, "no outbox slot for a group member"),
                }
            }
        }
    }

    /// `id`'s outbox is full: it lags until half of it is free.
    fn start_lag(&mut self, id: PeerId) {
        let Some(slot) = self.peers.get_mut(&id) else {
            return;
        };
        let Some(s) = slot.session.as_mut() else {
            return;
        };
        s.lagging = true;
        if let Err(e) = self.rib.lag(id) {
            warn!(%id, error = %e, "lag not recorded");
        }
        info!(event = "peer_lagging", peer = %slot.addr, conn = %s.conn,
            "peer not taking our UPDATEs: sending the latest state when it drains");
        let (tx, conn) = (s.outbox.clone(), s.conn);
        self.waiters.spawn(async move {
            let half = (tx.max_capacity() / 2).max(1);
            let room = tx.reserve_many(half).await.is_ok();
            (id, conn, room)
        });
    }

    /// A waiter's report: a lagging peer's outbox has room again; it gets what changed, and
    /// the route refresh answers it asked for meanwhile.
    pub(super) fn drained(&mut self, (id, conn, room): Drained) {
        let Some(slot) = self.peers.get_mut(&id) else {
            return;
        };
        let addr = slot.addr;
        let Some(s) = slot
            .session
            .as_mut()
            .filter(|s| s.conn == conn && s.lagging)
        else {
            return;
        };
        if !room {
            return;
        }
        s.lagging = false;
        let refresh = std::mem::take(&mut s.refresh);
        let mut pieces = Vec::new();
        match self.rib.catch_up(id) {
            Ok(enc) => {
                for (p, e) in &enc.errors {
                    warn!(event = "export_error", prefix = %p, error = %e, "route not sent");
                }
                info!(event = "peer_caught_up", peer = %addr, bytes = enc.bytes.len(),
                    "lagging peer sent the latest state");
                pieces.push(enc.bytes);
            }
            Err(e) => debug!(%id, error = %e, "no catch-up"),
        }
        pieces.extend(
            refresh
                .into_iter()
                .filter_map(|f| self.refresh_answer(id, f)),
        );
        let out = Outgoing(pieces);
        if out.is_empty() {
            return;
        }
        if let Some(p) = self.reserve(id) {
            p.send(out);
        }
    }

    /// The peer asked for our routes of `family` again (RFC 2918 §4): answered now, or when it
    /// catches up if it lags.
    pub(super) fn route_refresh(&mut self, id: PeerId, family: Family) {
        match self.reserve(id) {
            Some(p) => {
                if let Some(b) = self.refresh_answer(id, family) {
                    p.send(b.into());
                }
            }
            None => self.refresh_later(id, &[family]),
        }
    }

    /// A lagging peer gets the tables of `families` (route refresh answers) when it catches up.
    pub(super) fn refresh_later(&mut self, id: PeerId, families: &[Family]) {
        let s = self.peers.get_mut(&id).and_then(|p| p.session.as_mut());
        if let Some(s) = s.filter(|s| s.lagging) {
            for f in families {
                if !s.refresh.contains(f) {
                    s.refresh.push(*f);
                }
            }
        }
    }

    /// The group's Adj-RIB-Out of `family` and End-of-RIB, framed by BoRR and EoRR when the
    /// session negotiated enhanced route refresh (RFC 7313 §4).
    fn refresh_answer(&self, id: PeerId, family: Family) -> Option<Bytes> {
        let enc = match self.rib.route_refresh(id, family) {
            Ok(enc) => enc,
            Err(e) => {
                debug!(%id, %family, error = %e, "route refresh not answered");
                return None;
            }
        };
        let enhanced = self
            .peers
            .get(&id)
            .and_then(|p| p.session.as_ref())
            .is_some_and(|s| s.enhanced_route_refresh);
        debug!(%id, %family, enhanced, "route refresh answered");
        if !enhanced {
            return Some(enc.bytes);
        }
        let mut b = BytesMut::new();
        refresh_marker(family, RouteRefreshSubtype::BeginningOfRefresh, &mut b);
        b.extend_from_slice(&enc.bytes);
        refresh_marker(family, RouteRefreshSubtype::EndOfRefresh, &mut b);
        Some(b.freeze())
    }
}

/// Appends a ROUTE-REFRESH message with `subtype` for `family` (RFC 7313 §3.2).
fn refresh_marker(family: Family, subtype: RouteRefreshSubtype, out: &mut BytesMut) {
    let m = bgp_proto::Message::RouteRefresh(RouteRefresh {
        afi: family.afi(),
        safi: family.safi(),
        subtype,
    });
    // A 4-octet body always fits.
    let _ = m.encode(&bgp_proto::SessionContext::default(), out);
}

#[cfg(test)]
mod tests;
