//! What the RIB actor receives (see the channel rules in [`super`]): peer batches, queries,
//! the FIB channel, reloads; and how senders reach it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use super::Reconfigure;
use bgp_proto::update::Update;
use bgp_proto::{Family, Negotiated, Prefix, RouterId};
use rib::{PeerId, RibStats, SelectedRoute};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

use super::PageQuery;
use crate::fsm::ConnId;
use crate::peer::PeerCommand;
use crate::route_view::{RouteFilter, RouteReply};
use crate::stats::PeerStats;

/// Capacity of the actor's request channel, in batches: room for one batch from each of 100+
/// peers at once (a route reflector's clients all sending together do not queue for slots).
/// With [`BATCH_EVENTS`] it bounds the decoded UPDATEs waiting for the actor: 128 × 4 of
/// ~4 KiB, ~28 KiB each decoded, ~14 MiB (at 64 × 64 one fast sender could queue its whole
/// 1M-route table decoded, a 27 MiB peak). One peer fills at most [`PEER_BATCHES`] of it.
pub const RIB_QUEUE: usize = 128;
/// Most batches of one peer queued for or inside the actor (~0.9 MiB decoded): enough to keep
/// the actor busy while the peer task decodes the next one. Without it, a single fast sender
/// whose actor was descheduled (2 shared cores) filled the whole queue: 1M routes peaked at
/// 47.9 MiB instead of 35.5 in one of 5 runs of `route_bench`.
pub const PEER_BATCHES: usize = 8;
/// Most events a peer task puts in one batch (4 full UPDATEs: ~4k prefixes, enough to spread a
/// batch's fixed costs).
pub const BATCH_EVENTS: usize = 4;

/// A session came up: what the RIB needs to know and where to write.
#[derive(Debug)]
pub struct SessionUp {
    pub conn: ConnId,
    pub peer_router_id: RouterId,
    pub negotiated: Negotiated,
    /// Our end of the connection (its address is our next hop towards this peer).
    pub local: Option<SocketAddr>,
    /// The session's outbox (the peer task forwards it to the connection).
    pub outbox: mpsc::Sender<super::Outgoing>,
    /// The peer's graceful-restart time when both sides negotiated graceful restart.
    pub restart_time: Option<Duration>,
    /// The peer set the Restart State bit (RFC 4724 §3): it restarted too.
    pub peer_restarting: bool,
}

/// What a peer task reports.
#[derive(Debug)]
pub enum PeerEvent {
    Up(Box<SessionUp>),
    /// The session ended; `graceful`: keep its routes as stale (RFC 4724 §4.2).
    Down {
        graceful: bool,
    },
    Update(Box<Update>),
    /// The peer asked for our routes of a family again (RFC 2918 §4).
    RouteRefresh(Family),
    /// Our connection attempt failed (refused, no route to the peer): our graceful-restart
    /// recovery may stop waiting for it ([`crate::recovery::Tracker::connect_failed`]).
    ConnectFailed,
}

/// A question for the actor, answered on a oneshot channel.
#[derive(Debug)]
pub enum RibQuery {
    /// The selected routes (best first, then the rest of the ECMP set) of every prefix, or of
    /// exactly `prefix`, or of the longest prefix containing `addr`.
    Routes {
        prefix: Option<Prefix>,
        addr: Option<IpAddr>,
        reply: oneshot::Sender<Vec<(Prefix, Vec<SelectedRoute>)>>,
    },
    Stats {
        reply: oneshot::Sender<RibStats>,
    },
    /// The Loc-RIB routes `filter` selects as `show route` lists them, built now; only the
    /// counts when `filter.count`.
    Show {
        filter: RouteFilter,
        reply: oneshot::Sender<RouteReply>,
    },
    /// One page of a listing (see [`RoutePage`]): served between peer batches, at a lower
    /// priority (`rib_actor/page.rs`).
    ShowPage(PageQuery),
}

/// Everything the actor receives.
#[derive(Debug)]
pub enum RibRequest {
    Peer {
        id: PeerId,
        events: Vec<PeerEvent>,
        /// The sender's slot ([`PEER_BATCHES`]), given back when the actor drops the request.
        slot: Option<OwnedSemaphorePermit>,
    },
    Query(RibQuery),
    /// Start sending Loc-RIB changes to a FIB task (the whole Loc-RIB first).
    SetFib(crate::fib::FibLink),
    /// Send the FIB task the current selection of every prefix inside these networks again
    /// (what it decides from changed: IP pools, our blocks, connected subnets).
    Refeed(Vec<ipnet::IpNet>),
    /// A reload: the RIB's events with their scope, without resetting sessions.
    Reconfigure(Box<Reconfigure>),
}

/// How peer tasks and the daemon reach the actor.
pub type RibSender = mpsc::Sender<RibRequest>;

/// A peer task's link to the actor.
#[derive(Debug, Clone)]
pub struct RibLink {
    pub id: PeerId,
    pub tx: RibSender,
    /// [`PEER_BATCHES`] slots for this peer's batches.
    slots: Arc<Semaphore>,
}

/// The actor is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the RIB actor stopped")]
pub struct RibGone;

impl RibLink {
    pub fn new(id: PeerId, tx: RibSender) -> Self {
        RibLink {
            id,
            tx,
            slots: Arc::new(Semaphore::new(PEER_BATCHES)),
        }
    }

    /// Sends one batch of this peer's events; waits while [`PEER_BATCHES`] of them are
    /// queued or being applied, or while the actor's queue is full (back-pressure: the peer
    /// task stops reading events, so its readers stop reading TCP).
    pub async fn send(&self, events: Vec<PeerEvent>) -> Result<(), RibGone> {
        let slot = Arc::clone(&self.slots)
            .acquire_owned()
            .await
            .map_err(|_| RibGone)?;
        let req = RibRequest::Peer {
            id: self.id,
            events,
            slot: Some(slot),
        };
        self.tx.send(req).await.map_err(|_| RibGone)
    }
}

/// What the actor knows of each configured peer task.
#[derive(Debug, Clone)]
pub struct RibPeer {
    pub index: usize,
    pub stats: Arc<PeerStats>,
    pub commands: mpsc::Sender<PeerCommand>,
    /// The peer task's status (whether the operator disabled it); `None`: always enabled.
    pub status: Option<tokio::sync::watch::Receiver<crate::status::PeerStatus>>,
}

/// The request channel (create it first: peer tasks need the sender before the actor runs).
pub fn channel() -> (RibSender, mpsc::Receiver<RibRequest>) {
    mpsc::channel(RIB_QUEUE)
}

/// Ask the actor a question.
pub async fn ask<T>(
    tx: &RibSender,
    make: impl FnOnce(oneshot::Sender<T>) -> RibQuery,
) -> Option<T> {
    let (reply, rx) = oneshot::channel();
    tx.send(RibRequest::Query(make(reply))).await.ok()?;
    rx.await.ok()
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::*;

    fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        f.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[tokio::test]
    async fn a_peer_queues_at_most_its_slots_of_batches_and_gets_one_back_per_applied_batch() {
        let (tx, mut rx) = channel();
        let link = RibLink::new(PeerId(1), tx);
        for _ in 0..PEER_BATCHES {
            link.send(Vec::new()).await.expect("room");
        }
        // The actor's queue has room, this peer's slots do not.
        let mut next = pin!(link.send(Vec::new()));
        assert!(poll_once(next.as_mut()).is_pending());
        // A received request still holds its slot until the actor drops it.
        let first = rx.recv().await.expect("a batch");
        assert!(matches!(
            &first,
            RibRequest::Peer {
                id: PeerId(1),
                slot: Some(_),
                ..
            }
        ));
        assert!(poll_once(next.as_mut()).is_pending());
        drop(first);
        assert_eq!(poll_once(next.as_mut()), Poll::Ready(Ok(())));
        drop(rx);
        assert_eq!(link.send(Vec::new()).await, Err(RibGone));
    }
}
