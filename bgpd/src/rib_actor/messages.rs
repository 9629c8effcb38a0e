//! What the RIB actor receives (see the channel rules in [`super`]): peer batches, queries,
//! the FIB channel, reloads; and how senders reach it.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use super::Reconfigure;
use bgp_proto::update::Update;
use bgp_proto::{Family, Negotiated, Prefix, RouterId};
use bytes::Bytes;
use rib::{LocRibChange, PeerId, RibStats, SelectedRoute};
use tokio::sync::{mpsc, oneshot};

use super::PageQuery;
use crate::fsm::ConnId;
use crate::peer::PeerCommand;
use crate::route_view::{RouteFilter, RouteReply};
use crate::stats::PeerStats;

/// Capacity of the actor's request channel, in batches: room for one batch from each of 100+
/// peers at once (a route reflector's clients all sending together do not queue for slots).
/// With [`BATCH_EVENTS`] it bounds the decoded UPDATEs waiting for the actor: 128 × 4 of
/// ~4 KiB, ~28 KiB each decoded, ~14 MiB (at 64 × 64 one fast sender could queue its whole
/// 1M-route table decoded, a 27 MiB peak).
pub const RIB_QUEUE: usize = 128;
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
    /// The connection's write queue.
    pub writer: mpsc::Sender<Bytes>,
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
    },
    Query(RibQuery),
    /// Start sending Loc-RIB changes to a FIB task (the whole Loc-RIB first).
    SetFib(mpsc::Sender<Vec<LocRibChange>>),
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
}

/// What the actor knows of each configured peer task.
#[derive(Debug, Clone)]
pub struct RibPeer {
    pub index: usize,
    pub stats: Arc<PeerStats>,
    pub commands: mpsc::Sender<PeerCommand>,
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
