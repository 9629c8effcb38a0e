//! The RIB actor: one task owns the [`rib::Rib`] and the compiled policy; peer tasks send it
//! batches of events, it hands the resulting UPDATEs to the peer tasks, which own the
//! connections.
//!
//! Channel rules:
//! - requests (peer tasks, control socket → actor), capacity [`RIB_QUEUE`] batches: a peer
//!   task awaits when it is full, so it stops reading its events and its TCP reader stops
//!   reading (back-pressure to the peer). A batch carries every event a peer task has at hand
//!   (several UPDATEs), never one route;
//! - UPDATEs (actor → a peer task): the session's outbox, capacity [`OUTBOX_QUEUE`] passes,
//!   each written with a slot reserved first; the UPDATEs of one change are encoded once per
//!   update group and the same `Bytes` go to every member. A peer whose outbox is full lags:
//!   nothing is queued or dropped for it, its group remembers what changed, and it gets the
//!   latest state when it drains ([`outbox`]); the others are not held up;
//! - Loc-RIB changes (actor → FIB task, optional): awaited, so a slow FIB slows the actor;
//! - queries (control socket, daemon → actor): on the request channel, answered on a
//!   oneshot. `show route` is one ([`RibQuery::Show`]): the actor filters by family, network
//!   and protocol and builds only the entries asked for (none for a count); nothing keeps a
//!   copy of the table between queries.
//!
//! Graceful restart (RFC 4724 §4.2): when a session that negotiated it ends without a
//! NOTIFICATION, the peer's routes stay, stale, until its End-of-RIB after the restart or until
//! the restart time it advertised runs out (a timer of the actor).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bgp_proto::{Family, Prefix};
use conf::Config;
use fib_sync::{InterfaceReceiver, InterfaceTable};
use rib::{Changes, PeerId, Rib};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::fib::FibLink;
use crate::fsm::ConnId;
use crate::peer::PeerCommand;
use crate::policy_compile::{self, CompiledPolicy};
use crate::route_view::RouteCounts;
use crate::stats::PeerStats;

pub use messages::*;

struct Session {
    conn: ConnId,
    outbox: mpsc::Sender<Outgoing>,
    /// RFC 7313 negotiated: refresh answers carry BoRR / EoRR.
    enhanced_route_refresh: bool,
    /// Its outbox was full: nothing is written to it until a waiter says it drained.
    lagging: bool,
    /// Families it asked a route refresh for while lagging (answered when it catches up).
    refresh: Vec<Family>,
}

struct PeerSlot {
    name: String,
    addr: IpAddr,
    stats: Arc<PeerStats>,
    commands: mpsc::Sender<PeerCommand>,
    /// Whether the operator disabled it (`None`: a peer added by a reload, taken as enabled).
    status: Option<tokio::sync::watch::Receiver<crate::status::PeerStatus>>,
    session: Option<Session>,
    /// When the stale routes of a graceful restart are swept.
    stale_until: Option<Instant>,
    /// Families whose End-of-RIB has not arrived since the session came up: the one record
    /// of End-of-RIB markers (the recovery and the FIB's convergence read it).
    awaiting_eor: Vec<Family>,
    restart_time: Option<Duration>,
    /// Its prefix limits as configured, and whether the RIB has them ([`limits`]).
    limits: std::collections::BTreeMap<Family, conf::RouteLimits>,
    limits_set: bool,
}

/// The actor's state.
pub struct RibActor {
    rib: Rib,
    policy: CompiledPolicy,
    peers: HashMap<PeerId, PeerSlot>,
    fib: Option<FibLink>,
    /// The FIB task was told that the RIB converged ([`fib_link`]).
    fib_converged: bool,
    /// What the RIB's clock counts seconds from (it stamps each prefix's last change, for
    /// `show route`'s age column).
    epoch: SystemTime,
    /// Routes per family (for metrics).
    counts: Arc<RouteCounts>,
    /// Our own graceful-restart recovery (`-R`) while it lasts: deferred exports.
    recovery: Option<crate::recovery::Tracker>,
    /// `show route` pages waiting for their turn behind route processing.
    pages: page::Pending,
    /// The daemon's interface table: our addresses (next hops of the other family), the
    /// interfaces `show route` names.
    interfaces: Option<InterfaceReceiver>,
    /// The link of each session over a link-local address, for the kernel path and `show
    /// route`.
    links: crate::fib::link_local::PeerLinks,
    /// One per lagging peer: waits for room in its outbox ([`outbox`]).
    waiters: JoinSet<outbox::Drained>,
    /// The configuration's static routes with a gateway (next hops resolve through them).
    static_gateways: Vec<(ipnet::IpNet, IpAddr)>,
}

/// Runs `actor` (see [`RibActor::new`], [`RibActor::set_interfaces`], [`RibActor::recover`]):
/// serves requests until every sender is gone.
pub fn spawn(actor: RibActor, requests: mpsc::Receiver<RibRequest>) -> JoinHandle<()> {
    tokio::spawn(actor.run(requests))
}

impl RibActor {
    /// The actor with its peers added and our routes originated (nothing sent yet).
    pub fn new(
        config: &Config,
        policy: CompiledPolicy,
        peers: Vec<RibPeer>,
        fib: Option<FibLink>,
        counts: Arc<RouteCounts>,
    ) -> Self {
        let mut rib = Rib::new(policy_compile::local_info(config));
        // Changes carry their routes only for the FIB; export looks them up itself.
        rib.set_detailed_changes(fib.is_some());
        let mut slots = HashMap::new();
        let mut limits = Vec::new();
        for p in peers {
            let Some(n) = config.neighbors.get(p.index) else {
                continue;
            };
            let info = policy.peer_info(policy_compile::peer_id(p.index), n);
            let id = info.id;
            if let Err(e) = rib.add_peer(info) {
                warn!(event = "rib_peer_rejected", neighbor = %n.name, error = %e, "peer not added to the RIB");
                continue;
            }
            let mut slot = slot_for(n, p.stats, p.commands);
            slot.status = p.status;
            slots.insert(id, slot);
            limits.push((id, &n.route_limits));
        }
        let mut actor = RibActor {
            rib,
            policy,
            peers: slots,
            fib,
            fib_converged: false,
            epoch: SystemTime::now(),
            counts,
            recovery: None,
            pages: page::Pending::default(),
            interfaces: None,
            links: Default::default(),
            waiters: JoinSet::new(),
            static_gateways: next_hops::static_gateways(config),
        };
        for (id, l) in limits {
            actor.configure_limits(id, l);
        }
        let mut changes = Changes::default();
        for (prefix, attrs) in actor.policy.originated() {
            changes.extend(actor.rib.originate(prefix, attrs));
        }
        info!(
            event = "originated",
            routes = changes.len(),
            "local routes originated"
        );
        actor.note(&changes);
        actor
    }

    /// Reads our addresses and interfaces from `interfaces` (the daemon's interface table).
    pub fn set_interfaces(&mut self, interfaces: Option<InterfaceReceiver>) {
        self.interfaces = interfaces;
    }

    /// The peer links table shared with the kernel path ([`crate::fib::link_local`]).
    pub fn set_links(&mut self, links: crate::fib::link_local::PeerLinks) {
        self.links = links;
    }

    /// The interface table as it is now (`None`: the actor was given none).
    fn interface_table(&self) -> Option<InterfaceTable> {
        self.interfaces.as_ref().map(|rx| rx.borrow().clone())
    }

    /// The FIB task to feed, if any (changes carry routes only when there is one).
    fn set_fib(&mut self, fib: Option<FibLink>) {
        self.rib.set_detailed_changes(fib.is_some());
        self.fib = fib;
    }

    async fn run(mut self, mut requests: mpsc::Receiver<RibRequest>) {
        // Next hops resolve through the interface table from the first route on.
        self.interfaces_changed().await;
        if let Some(fib) = &self.fib {
            let all = self.rib.loc_rib();
            if fib.changes(all).await.is_err() {
                self.set_fib(None);
            }
        }
        loop {
            self.end_recovery();
            // After every request and once the recovery ended (no request may follow soon).
            self.tell_converged().await;
            let wake = self
                .peers
                .values()
                .filter_map(|p| p.stale_until)
                .chain(
                    self.recovery
                        .as_ref()
                        .map(|r| Instant::from_std(r.deadline())),
                )
                .min();
            let sleep = async {
                match wake {
                    Some(t) => tokio::time::sleep_until(t).await,
                    None => std::future::pending().await,
                }
            };
            if self.pages.turn() {
                self.serve_page();
            } else {
                tokio::select! {
                    biased;
                    // A lagging peer drained: first, so that a busy actor does not starve it.
                    Some(Ok(d)) = self.waiters.join_next(), if !self.waiters.is_empty() => {
                        self.drained(d)
                    }
                    // Rare, and it changes what the next UPDATE's routes resolve through.
                    () = crate::next_hop_view::changed(self.interfaces.as_mut()) => {
                        self.interfaces_changed().await
                    }
                    req = requests.recv() => match req {
                        Some(r) => self.request(r).await,
                        None => break,
                    },
                    // No request at hand: a waiting page.
                    _ = std::future::ready(()), if self.pages.waiting() => self.serve_page(),
                    _ = sleep => {}
                }
            }
            self.sweep_expired(Instant::now()).await;
        }
        debug!("RIB actor stopped");
    }

    async fn request(&mut self, r: RibRequest) {
        let secs = SystemTime::now()
            .duration_since(self.epoch)
            .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX));
        self.rib.set_clock(secs);
        match r {
            RibRequest::Peer { id, events, slot } => {
                // The sender's slot is free again once this batch is applied and exported.
                let _slot = slot;
                let mut changes = Changes::default();
                for ev in events {
                    // Export what is pending before the peer's group changes.
                    if matches!(ev, PeerEvent::Up(_) | PeerEvent::Down { .. }) {
                        changes.dedup();
                        self.flush(std::mem::take(&mut changes)).await;
                    }
                    // Merged once below: `extend` per event re-sorts the whole batch each time.
                    changes.append(self.peer_event(id, ev));
                }
                changes.dedup();
                self.flush(changes).await;
                self.pages.worked();
            }
            RibRequest::Query(RibQuery::ShowPage(p)) => self.pages.defer(p),
            RibRequest::Query(q) => self.query(q),
            RibRequest::SetFib(link) => {
                let all = self.rib.loc_rib();
                let fib = link.changes(all).await.is_ok().then_some(link);
                self.fib_converged = false;
                self.set_fib(fib);
            }
            RibRequest::Refeed(nets) => self.refeed(&nets).await,
            RibRequest::Reconfigure(r) => {
                self.reconfigure(*r).await;
            }
        }
    }

    /// One peer event; returns the Loc-RIB changes to export.
    fn peer_event(&mut self, id: PeerId, ev: PeerEvent) -> Changes {
        match ev {
            PeerEvent::Up(up) => {
                self.peer_up(id, *up);
                Changes::default()
            }
            PeerEvent::Down { graceful } => self.peer_down(id, graceful),
            PeerEvent::ConnectFailed => {
                if let Some(r) = &mut self.recovery {
                    r.connect_failed(id);
                }
                Changes::default()
            }
            PeerEvent::Update(u) => {
                // The session (fsm) already applied the eBGP and next-hop rules.
                let mut counting = Counting {
                    inner: &mut self.policy,
                    accepted: 0,
                    rejected: 0,
                };
                let r = self.rib.apply_update(id, &u, &mut counting);
                let (accepted, rejected) = (counting.accepted, counting.rejected);
                let accepted = accepted.saturating_sub(self.limit_hits(id));
                if let Some(p) = self.peers.get_mut(&id) {
                    p.stats
                        .prefixes_accepted
                        .fetch_add(accepted, Ordering::Relaxed);
                    p.stats
                        .prefixes_rejected
                        .fetch_add(rejected, Ordering::Relaxed);
                    if let Some(f) = u.end_of_rib() {
                        // RFC 4724 §4.2: the RIB swept that family's stale routes; once every
                        // family has its End-of-RIB the stale timer has nothing left to do.
                        p.awaiting_eor.retain(|x| *x != f);
                        if let (Some(r), true) = (&mut self.recovery, p.awaiting_eor.is_empty()) {
                            r.end_of_rib(id);
                        }
                        if p.stale_until.is_some() && p.awaiting_eor.is_empty() {
                            info!(event = "stale_cleared", peer = %p.addr,
                                "End-of-RIB after graceful restart");
                            p.stale_until = None;
                        }
                    }
                }
                match r {
                    Ok(c) => c,
                    Err(e) => {
                        warn!(event = "rib_update_failed", %id, error = %e, "UPDATE not applied");
                        Changes::default()
                    }
                }
            }
            PeerEvent::RouteRefresh(family) => {
                self.route_refresh(id, family);
                Changes::default()
            }
        }
    }

    fn peer_up(&mut self, id: PeerId, up: SessionUp) {
        let Some(mut info) = self.rib.peer(id).cloned() else {
            return;
        };
        match up.local.map(|a| a.ip()) {
            Some(IpAddr::V4(a)) => info.local_v4 = Some(a),
            // Link-local peering: our link-local address goes beside a global one of the same
            // interface in our IPv6 next hops (RFC 2545 §3).
            Some(IpAddr::V6(a)) if conf::model::is_link_local(IpAddr::V6(a)) => {
                info.local_link_local = Some(a)
            }
            Some(IpAddr::V6(a)) => info.local_v6 = Some(a),
            None => {}
        }
        // A session carrying the other family too needs a next hop of that family: an address
        // of the same interface (a global IPv6 one, as BIRD picks). An IPv6 session with the
        // extended next hop (RFC 8950) gives IPv4 routes our IPv6 address instead, as BIRD 2.
        let v4_via_v6 = up.negotiated.context.extended_next_hop_v4
            && matches!(up.local, Some(a) if a.is_ipv6());
        let other_family = info.local_link_local.is_some()
            || up.negotiated.families.iter().any(|f| match f {
                Family::Ipv4Unicast => info.local_v4.is_none() && !v4_via_v6,
                Family::Ipv6Unicast => info.local_v6.is_none(),
            });
        if let (true, Some(local)) = (other_family, up.local) {
            let table = self.interface_table();
            let t = table.as_deref();
            // A link-local address may be on several interfaces: the connection's scope
            // names the one.
            let link = match local {
                SocketAddr::V6(a) if a.scope_id() != 0 => t.and_then(|t| t.link(a.scope_id())),
                _ => t.and_then(|t| t.link_with_address(local.ip())),
            };
            if let Some(l) = link.filter(|_| info.local_link_local.is_some()) {
                // Before any of the session's routes: their link-local next hops need it.
                self.links
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(id, std::sync::Arc::from(l.name.as_str()));
            }
            let addrs = link
                .and_then(|l| t.map(|t| t.addresses(l.index)))
                .unwrap_or_default();
            for a in addrs.iter().map(|n| n.addr()) {
                match a {
                    IpAddr::V4(v4) if info.local_v4.is_none() && !v4_via_v6 => {
                        info.local_v4 = Some(v4)
                    }
                    IpAddr::V6(v6)
                        if info.local_v6.is_none()
                            && !v6.is_loopback()
                            && (v6.segments()[0] & 0xffc0) != 0xfe80 =>
                    {
                        info.local_v6 = Some(v6)
                    }
                    _ => {}
                }
            }
        }
        if let Err(e) = self.rib.update_peer(info, &mut self.policy) {
            warn!(%id, error = %e, "peer addresses not updated");
        }
        let session = rib::SessionInfo {
            router_id: up.peer_router_id,
            context: up.negotiated.context,
            families: up.negotiated.families.clone(),
        };
        let result = self.rib.peer_up(id, session, &mut self.policy);
        let Some(slot) = self.peers.get_mut(&id) else {
            return;
        };
        slot.session = Some(Session {
            conn: up.conn,
            outbox: up.outbox,
            enhanced_route_refresh: up.negotiated.enhanced_route_refresh,
            lagging: false,
            refresh: Vec::new(),
        });
        // RFC 4724 §4.2: a restarted peer without the capability has no stale routes to keep;
        // with it, its stale routes wait for its End-of-RIB, bounded by its restart time again.
        if slot.stale_until.is_some() {
            slot.stale_until = Some(Instant::now() + up.restart_time.unwrap_or_default());
        }
        slot.awaiting_eor = up.negotiated.families.clone();
        slot.restart_time = up.restart_time;
        if let Some(r) = &mut self.recovery {
            // Deferred: `write` holds this session's UPDATEs back until the recovery ends.
            r.session_up(
                id,
                up.restart_time.is_some(),
                up.peer_restarting,
                &up.negotiated.families,
            );
        }
        match result {
            Ok(pu) => {
                for (p, e) in &pu.encoded.errors {
                    warn!(event = "export_error", prefix = %p, error = %e, "route not sent");
                }
                info!(event = "rib_peer_up", peer = %slot.addr, group = pu.group.0,
                    bytes = pu.encoded.bytes.len(), "initial routes sent");
                // A new outbox always has room.
                if let Some(p) = self.reserve(id) {
                    p.send(pu.encoded.bytes.into());
                }
                self.count_advertised(pu.group);
            }
            Err(e) => warn!(event = "rib_peer_up_failed", %id, error = %e, "peer not in the RIB"),
        }
        // The RIB reset the limits: publish that.
        self.limit_hits(id);
    }

    fn peer_down(&mut self, id: PeerId, graceful: bool) -> Changes {
        if let Some(r) = &mut self.recovery {
            r.leave(id);
        }
        let restart = self.peers.get(&id).and_then(|p| p.restart_time);
        let graceful = graceful && restart.is_some();
        if let Some(slot) = self.peers.get_mut(&id) {
            slot.session = None;
            slot.stats.prefixes_advertised.store(0, Ordering::Relaxed);
            slot.stale_until = match (graceful, restart) {
                (true, Some(t)) => Some(Instant::now() + t),
                _ => None,
            };
        }
        match self.rib.peer_down(id, graceful) {
            Ok(c) => {
                info!(event = "rib_peer_down", %id, graceful, withdrawn = c.len(), "peer routes withdrawn");
                c
            }
            Err(e) => {
                warn!(%id, error = %e, "peer down not applied");
                Changes::default()
            }
        }
    }

    /// Export `changes`, write the UPDATEs, feed the FIB.
    async fn flush(&mut self, changes: Changes) {
        if changes.is_empty() {
            return;
        }
        self.note(&changes);
        let mut permits = self.reserve_all();
        let out = self.rib.export(&changes, &mut self.policy);
        self.write_groups(&out, &mut permits);
        for g in &out {
            for (p, e) in &g.errors {
                warn!(event = "export_error", prefix = %p, error = %e, "route not sent");
            }
            self.count_advertised(g.group);
        }
        // A change of paths outside the selection only matters to ADD-PATH groups.
        if changes.loc_rib.is_empty() {
            return;
        }
        if let Some(fib) = &self.fib {
            if fib.changes(changes.loc_rib).await.is_err() {
                warn!(
                    event = "fib_gone",
                    "FIB task stopped; no more kernel updates"
                );
                self.set_fib(None);
            }
        }
    }

    /// Publish the route counts after `changes` (the RIB keeps them, with each prefix's
    /// change time).
    fn note(&mut self, changes: &Changes) {
        let (v4, v6) = self.rib.selected_counts();
        self.counts.v4.store(v4, Ordering::Relaxed);
        self.counts.v6.store(v6, Ordering::Relaxed);
        if tracing::enabled!(tracing::Level::DEBUG) {
            for c in &changes.loc_rib {
                debug!(event = "loc_rib", prefix = %c.prefix, "Loc-RIB changed");
            }
        }
    }

    fn count_advertised(&self, group: rib::GroupId) {
        let Some((_, members)) = self.rib.group(group) else {
            return;
        };
        let n = self.rib.adj_rib_out(group).map_or(0, |o| o.len()) as u64;
        for m in members {
            if let Some(p) = self.peers.get(m) {
                p.stats.prefixes_advertised.store(n, Ordering::Relaxed);
            }
        }
    }
}

fn slot_for(
    n: &conf::Neighbor,
    stats: Arc<PeerStats>,
    commands: mpsc::Sender<PeerCommand>,
) -> PeerSlot {
    PeerSlot {
        name: n.name.to_string(),
        addr: n.address,
        stats,
        commands,
        status: None,
        session: None,
        stale_until: None,
        awaiting_eor: Vec::new(),
        restart_time: None,
        limits: Default::default(),
        limits_set: false,
    }
}

/// Counts the import verdicts of a batch for the peer's counters.
struct Counting<'a> {
    inner: &'a mut CompiledPolicy,
    accepted: u64,
    rejected: u64,
}

impl rib::ImportPolicy for Counting<'_> {
    fn import(
        &mut self,
        peer: &rib::PeerInfo,
        prefix: &Prefix,
        attrs: &rib::AttrSet,
    ) -> rib::ImportVerdict {
        let v = self.inner.import(peer, prefix, attrs);
        if v == rib::ImportVerdict::Reject {
            self.rejected += 1;
        } else {
            self.accepted += 1;
        }
        v
    }
}

mod fib_link;
#[cfg(test)]
mod fib_link_tests;
mod graceful;
mod messages;
mod outbox;
pub use outbox::{outbox, Outgoing, OUTBOX_QUEUE};
mod next_hops;
mod page;
mod show;
pub use page::PageQuery;
mod reconfigure;
pub use reconfigure::{PeerTask, Reconfigure, Reconfigured, ReloadPeer};
#[cfg(test)]
mod limit_tests;
mod limits;
#[cfg(test)]
mod reconfigure_tests;
#[cfg(test)]
mod tests;
