//! The FIB actor: owns the desired routes, what the kernel holds, the interface table and the
//! two netlink sockets (requests, events). Callers talk to it through [`FibSync`].

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_core::NetlinkPayload;
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::LinkMessage;
use netlink_packet_route::route::RouteMessage;
use netlink_packet_route::RouteNetlinkMessage;
use nix::errno::Errno;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::error::FibError;
use crate::interfaces::{Attached, FibEvent, Interfaces};
use crate::message::{self, KernelKind, KernelNextHop, KernelRoute, TableParams};
use crate::recursive::{Matched, Recursion, Resolution, Why};
use crate::route::{FibConfig, Route, RouteDelta, RouteKind};
use crate::socket::{frames, Frame, RtSocket};
use crate::table::{Id, Interner, Table, DUMPED, LATER, NONE};

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;
pub(crate) const RTM_NEWROUTE: u16 = 24;
pub(crate) const RTM_DELROUTE: u16 = 25;
/// Offset of `rtm_protocol` in an rtnetlink route message (16-byte nlmsghdr + 5).
const RTM_PROTOCOL_OFFSET: usize = 21;
/// Offset of `rtm_family` (the first octet after the nlmsghdr).
const RTM_FAMILY_OFFSET: usize = 16;
/// Offset of `rtm_table`.
const RTM_TABLE_OFFSET: usize = 20;
const RT_TABLE_LOCAL: u8 = 255;
/// Commands queued towards the actor before callers wait (back-pressure).
const COMMAND_QUEUE: usize = 64;
const EVENT_QUEUE: usize = 1024;
/// Prefixes planned, sent and acknowledged together (see [`Actor::sync_prefixes`]).
const PLAN_CHUNK: usize = 1024;
/// Rounds of "resolve the recursive gateways, sync the routes using them" in one sync: a round's
/// writes can change a resolution (a route of ours covering a gateway). What is still unsettled
/// after them is taken up after the next events.
const RECURSION_ROUNDS: usize = 4;

/// What one `apply` / `reconcile` did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    /// Routes written (added or replaced).
    pub installed: usize,
    /// Routes deleted.
    pub removed: usize,
    /// Routes already right in the kernel, left alone.
    pub unchanged: usize,
    /// Deltas superseded by a later delta for the same prefix in the batch.
    pub coalesced: usize,
    /// Routes waiting for an interface or address; retried when it appears.
    pub deferred: Vec<(IpNet, FibError)>,
    /// Routes the kernel refused for another reason.
    pub failed: Vec<(IpNet, FibError)>,
    /// Routes wanted in the kernel after this call (all of them, not only this batch's).
    pub desired: usize,
}

/// Counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FibStats {
    /// Routes the caller wants.
    pub desired: usize,
    /// Routes we know the kernel holds.
    pub installed: usize,
    /// Routes waiting for a dependency.
    pub pending: usize,
    /// Times a route was deferred for a missing dependency.
    pub deferred_total: u64,
    /// Full resynchronisations (dump and diff) after events.
    pub resyncs: u64,
    /// Event socket overruns (`ENOBUFS`).
    pub event_overruns: u64,
}

enum Command {
    Apply(
        Vec<RouteDelta>,
        oneshot::Sender<Result<ApplyReport, FibError>>,
    ),
    Reconcile(Vec<Route>, oneshot::Sender<Result<ApplyReport, FibError>>),
    ReconcileWanted(oneshot::Sender<Result<ApplyReport, FibError>>),
    Stats(oneshot::Sender<FibStats>),
    Connected(oneshot::Sender<Vec<IpNet>>),
    Stop(oneshot::Sender<Result<usize, FibError>>),
}

/// Handle to the FIB actor.
pub struct FibSync {
    tx: mpsc::Sender<Command>,
    events: broadcast::Sender<FibEvent>,
    task: JoinHandle<()>,
}

impl FibSync {
    /// Opens the netlink sockets in the calling thread's network namespace, learns interfaces,
    /// addresses and the routes already carrying our protocol, and spawns the actor.
    /// Existing routes are kept until [`FibSync::reconcile`] says which are stale.
    pub async fn start(cfg: FibConfig) -> Result<FibSync, FibError> {
        // Subscribe before dumping so nothing falls between the dump and the first event.
        let ev = RtSocket::events(cfg.socket_buffer)?;
        let req = RtSocket::request(cfg.socket_buffer, cfg.window)?;
        if let Err(e) = ev.drop_route_echoes_of(req.port()) {
            debug!(error = %e, "no event filter: our own route echoes are read and dropped");
        }
        let (events, _) = broadcast::channel(EVENT_QUEUE);
        let params_protocol = cfg.protocol;
        let params_families = cfg.families;
        let mut actor = Actor {
            params: TableParams::from(&cfg),
            cfg,
            req,
            ev: EventQueue {
                protocol: params_protocol,
                families: params_families,
                own_port: 0,
                foreign_write: false,
                sock: ev,
                backlog: Vec::new(),
                overrun: false,
            },
            ifaces: Interfaces::default(),
            table: Table::default(),
            kinds: Interner::default(),
            held: Interner::default(),
            dumped: HashMap::new(),
            wanted: 0,
            pending: HashMap::new(),
            logged: HashSet::new(),
            stats: FibStats::default(),
            events: events.clone(),
            retry_pending: false,
            needs_resync: false,
            installed_exact: false,
            rec: Recursion::default(),
        };
        actor.ev.own_port = actor.req.port();
        actor.learn_interfaces().await?;
        let dumped = actor.dump_ours().await?;
        // Two routes of ours for one prefix (another metric): only a fresh dump shows both.
        actor.installed_exact = actor.hold_dumped(dumped).is_empty();
        info!(
            installed = actor.dumped.len(),
            table = actor.params.table,
            protocol = actor.params.protocol,
            "fib-sync started"
        );
        let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
        let task = tokio::spawn(actor.run(rx));
        Ok(FibSync { tx, events, task })
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, FibError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(make(tx))
            .await
            .map_err(|_| FibError::Stopped)?;
        rx.await.map_err(|_| FibError::Stopped)
    }

    /// Applies a batch of deltas (coalesced per prefix, pipelined to the kernel).
    pub async fn apply(&self, batch: Vec<RouteDelta>) -> Result<ApplyReport, FibError> {
        self.submit(batch).await?.await
    }

    /// Hands a batch to the actor without waiting for the kernel: the returned [`Pending`]
    /// resolves to its report. Batches are applied in the order they were submitted, so a
    /// caller can prepare the next batch while the kernel takes this one. Waits only while the
    /// actor's command queue is full.
    pub async fn submit(&self, batch: Vec<RouteDelta>) -> Result<Pending, FibError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Command::Apply(batch, tx))
            .await
            .map_err(|_| FibError::Stopped)?;
        Ok(Pending(rx))
    }

    /// Makes `desired` the whole desired set: routes already right stay untouched, stale routes
    /// of our protocol are removed, missing ones added.
    pub async fn reconcile(&self, desired: Vec<Route>) -> Result<ApplyReport, FibError> {
        self.call(|tx| Command::Reconcile(desired, tx)).await?
    }

    /// Makes the routes wanted so far (by [`FibSync::apply`] and earlier calls) the whole
    /// desired set: stale routes of our protocol (a previous run's, not wanted again) are
    /// removed, missing ones added, routes already right left untouched.
    pub async fn reconcile_wanted(&self) -> Result<ApplyReport, FibError> {
        self.call(Command::ReconcileWanted).await?
    }

    /// Current counters.
    pub async fn stats(&self) -> Result<FibStats, FibError> {
        self.call(Command::Stats).await
    }

    /// The node's connected subnets, as learned from the kernel.
    pub async fn connected_subnets(&self) -> Result<Vec<IpNet>, FibError> {
        self.call(Command::Connected).await
    }

    /// Interface, address and foreign-route events.
    pub fn subscribe(&self) -> broadcast::Receiver<FibEvent> {
        self.events.subscribe()
    }

    /// Stops the actor; unless `persist` is set, removes every route of our protocol from the
    /// table. Returns how many routes were removed.
    pub async fn stop(self) -> Result<usize, FibError> {
        let removed = self.call(Command::Stop).await?;
        let _ = self.task.await;
        removed
    }
}

/// The report of a batch handed over with [`FibSync::submit`], once the kernel has taken it.
#[derive(Debug)]
pub struct Pending(oneshot::Receiver<Result<ApplyReport, FibError>>);

impl std::future::Future for Pending {
    type Output = Result<ApplyReport, FibError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(FibError::Stopped)))
    }
}

/// One kernel write, with what the ack handler needs: the message is encoded from the
/// interned kernel route when it is sent, so a million pending writes stay small.
enum Op {
    /// Install the interned kernel route (one reference held by the op).
    Install(IpNet, Id),
    /// Delete our route of this metric.
    Delete(IpNet, u32),
}

/// A desired route without its prefix, as `kinds` interns it: a million prefixes share a
/// handful of these. The route's own metric is resolved to what the kernel will report for its
/// family ([`TableParams::kernel_metric`]) when it comes in, so comparisons need no prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Wanted {
    kind: RouteKind,
    metric: u32,
}

/// A kernel route without its prefix (devices resolved, metric as the kernel reports it), as
/// `held` interns it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Held {
    kind: KernelKind,
    metric: u32,
}

struct Actor {
    cfg: FibConfig,
    params: TableParams,
    req: RtSocket,
    ev: EventQueue,
    ifaces: Interfaces,
    /// Per prefix: the desired route (an id in `kinds`) and what the kernel holds (an id in
    /// `held`, or [`DUMPED`]: see `dumped`).
    table: Table,
    /// The distinct desired routes (kind and next hops, devices by name, metric).
    kinds: Interner<Wanted>,
    /// The distinct routes we wrote (devices resolved, metric).
    held: Interner<Held>,
    /// Routes found in a dump and not yet compared with a desired route: kept whole, because a
    /// desired next hop without a device matches any device the kernel chose.
    dumped: HashMap<IpNet, KernelRoute>,
    /// Prefixes with a desired route (slots whose `want` is not [`NONE`]).
    wanted: usize,
    pending: HashMap<IpNet, FibError>,
    /// Dependency problems already logged (logged once until they clear).
    logged: HashSet<String>,
    stats: FibStats,
    events: broadcast::Sender<FibEvent>,
    retry_pending: bool,
    needs_resync: bool,
    /// `table` mirrors every route of ours in the kernel (it came from a dump and has been kept
    /// up to date by our acks and by events): a reconcile can skip dumping again.
    installed_exact: bool,
    /// What each recursive gateway in use resolves to ([`crate::recursive`]).
    rec: Recursion,
}

/// Which desired routes [`Actor::plan`] resolves: all but those with recursive next hops
/// (those wait for their gateways to be looked up after the other routes are written), or
/// those too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Direct,
    Recursive,
}

impl Actor {
    async fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        loop {
            tokio::select! {
                biased;
                cmd = rx.recv() => match cmd {
                    Some(Command::Stop(reply)) => {
                        let _ = reply.send(self.shutdown().await);
                        return;
                    }
                    Some(cmd) => {
                        // Whatever the kernel told us before the command counts for it.
                        self.drain_events();
                        self.handle(cmd).await
                    }
                    None => {
                        if let Err(e) = self.shutdown().await {
                            warn!(error = %e, "fib-sync shutdown");
                        }
                        return;
                    }
                },
                ready = self.ev.sock.readable() => {
                    if let Err(e) = ready {
                        warn!(error = %e, "netlink event socket");
                    }
                }
            }
            self.drain_events();
            self.after_events().await;
        }
    }

    async fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Apply(batch, reply) => {
                let result = self.apply(batch).await;
                // Acks may have been lost: what the kernel holds is unknown until a resync.
                if result.is_err() {
                    self.needs_resync = true;
                    self.installed_exact = false;
                }
                let _ = reply.send(self.with_desired(result));
            }
            Command::Reconcile(desired, reply) => {
                self.clear_wants();
                let mut refused = Vec::new();
                for route in desired {
                    let prefix = route.prefix.trunc();
                    if self.cfg.families.has(&prefix) {
                        self.want(prefix, Some(route));
                    } else {
                        refused.push((prefix, FibError::OtherFamily { prefix }));
                    }
                }
                self.table.tidy_all();
                let result = self.reconcile().await.map(|mut report| {
                    report.failed.extend(refused);
                    report
                });
                let _ = reply.send(self.with_desired(result));
            }
            Command::ReconcileWanted(reply) => {
                let result = self.reconcile().await;
                let _ = reply.send(self.with_desired(result));
            }
            Command::Stats(reply) => {
                let mut stats = self.stats;
                for (_, slot) in self.table.iter() {
                    stats.desired += usize::from(slot.want != NONE);
                    stats.installed += usize::from(slot.have != NONE);
                }
                stats.pending = self.pending.len();
                let _ = reply.send(stats);
            }
            Command::Connected(reply) => {
                let _ = reply.send(self.ifaces.connected());
            }
            Command::Stop(_) => {}
        }
    }

    fn with_desired(&self, result: Result<ApplyReport, FibError>) -> Result<ApplyReport, FibError> {
        result.map(|mut r| {
            r.desired = self.wanted;
            r
        })
    }

    async fn learn_interfaces(&mut self) -> Result<(), FibError> {
        let links = self
            .req
            .dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))
            .await?;
        for msg in links {
            if let RouteNetlinkMessage::NewLink(link) = msg {
                self.ifaces.on_link(&link, false);
            }
        }
        let addrs = self
            .req
            .dump(RouteNetlinkMessage::GetAddress(AddressMessage::default()))
            .await?;
        for msg in addrs {
            if let RouteNetlinkMessage::NewAddress(addr) = msg {
                self.ifaces.on_address(&addr, false);
            }
        }
        Ok(())
    }

    /// Our routes in the kernel, one per prefix; routes with another metric for the same prefix
    /// are returned separately in `extra` by [`Actor::reconcile`].
    async fn dump_ours(&mut self) -> Result<Vec<(IpNet, KernelRoute)>, FibError> {
        let mut out = Vec::new();
        let families = self.cfg.families;
        // Only the families we own: the other family's routes (same protocol number, written
        // by the other daemon of the pair) are never dumped, so never found stale.
        for ipv6 in [false, true]
            .into_iter()
            .filter(|v6| if *v6 { families.v6 } else { families.v4 })
        {
            let replies = self
                .req
                .dump(RouteNetlinkMessage::GetRoute(message::dump_message(
                    ipv6,
                    &self.params,
                )))
                .await?;
            for msg in replies {
                if let RouteNetlinkMessage::NewRoute(route) = msg {
                    if let Some(kr) = message::parse_route(&route, &self.params) {
                        out.push((kr.prefix, kr));
                    }
                }
            }
        }
        Ok(out)
    }

    /// Sets what we want for `prefix` (`None`: nothing). The slot may be left empty: callers
    /// tidy. The route is taken by value: its kind moves into the interned key (a clone only
    /// when it is new), so a route costs no copy of its next hops.
    fn want(&mut self, prefix: IpNet, route: Option<Route>) {
        let new = route.map_or(NONE, |r| {
            self.kinds.intern(&Wanted {
                metric: self.params.kernel_metric(&prefix, r.metric),
                kind: r.kind,
            })
        });
        let slot = self.table.slot(prefix);
        let old = std::mem::replace(&mut slot.want, new);
        self.wanted = self.wanted + usize::from(new != NONE) - usize::from(old != NONE);
        self.kinds.release(old);
    }

    /// Forgets every desired route.
    fn clear_wants(&mut self) {
        self.wanted = 0;
        let kinds = &mut self.kinds;
        self.table.for_each_mut(|_, slot| {
            kinds.release(std::mem::replace(&mut slot.want, NONE));
        });
    }

    /// Sets what the kernel holds for `prefix`, releasing what we noted before.
    fn set_have(&mut self, prefix: IpNet, have: Id) {
        let slot = self.table.slot(prefix);
        let old = std::mem::replace(&mut slot.have, have);
        if old == DUMPED {
            self.dumped.remove(&prefix);
        } else {
            self.held.release(old);
        }
        if have == NONE {
            self.table.tidy(&prefix);
        }
    }

    /// The metric of the route we know the kernel holds for `prefix`.
    fn have_metric(&self, prefix: &IpNet, have: Id) -> Option<u32> {
        match have {
            NONE => None,
            DUMPED => self.dumped.get(prefix).map(|r| r.metric),
            id => self.held.get(id).map(|h| h.metric),
        }
    }

    /// Notes dumped routes as held. Returns the extra ones: a second route of ours for a
    /// prefix already noted (another metric).
    fn hold_dumped(&mut self, routes: Vec<(IpNet, KernelRoute)>) -> Vec<(IpNet, KernelRoute)> {
        let mut extra = Vec::new();
        for (prefix, route) in routes {
            let slot = self.table.slot(prefix);
            if slot.have == NONE {
                slot.have = DUMPED;
                self.dumped.insert(prefix, route);
            } else {
                extra.push((prefix, route));
            }
        }
        extra
    }

    async fn apply(&mut self, batch: Vec<RouteDelta>) -> Result<ApplyReport, FibError> {
        let mut report = ApplyReport::default();
        // Coalesce: deltas update the desired table in order, so the last one for a prefix
        // wins; each touched prefix is then synced once.
        let mut prefixes = Vec::with_capacity(batch.len());
        for delta in batch {
            let prefix = delta.prefix();
            if !self.cfg.families.has(&prefix) {
                report
                    .failed
                    .push((prefix, FibError::OtherFamily { prefix }));
                continue;
            }
            match delta {
                RouteDelta::Install(route) => self.want(prefix, Some(route)),
                RouteDelta::Remove(_) => self.want(prefix, None),
            }
            prefixes.push(prefix);
        }
        let touched = prefixes.len();
        prefixes.sort_unstable();
        prefixes.dedup();
        report.coalesced = touched - prefixes.len();
        self.sync_prefixes(Vec::new(), prefixes, &mut report)
            .await?;
        Ok(report)
    }

    /// Diff what the kernel holds with what we want and fix the difference; what is already
    /// right is not touched. The kernel's state is dumped unless the table is known to mirror it.
    async fn reconcile(&mut self) -> Result<ApplyReport, FibError> {
        let mut report = ApplyReport::default();
        let mut ops = Vec::new();
        if self.installed_exact {
            let mut stale = Vec::new();
            for (prefix, slot) in self.table.iter() {
                if slot.want == NONE && slot.have != NONE {
                    stale.push((prefix, slot.have));
                }
            }
            for (prefix, have) in stale {
                if let Some(metric) = self.have_metric(&prefix, have) {
                    ops.push(Op::Delete(prefix, metric));
                }
            }
        } else {
            // Forget our notes: the dump says what the kernel holds.
            let (held, dumped) = (&mut self.held, &mut self.dumped);
            self.table.for_each_mut(|_, slot| {
                held.release(std::mem::replace(&mut slot.have, NONE));
            });
            dumped.clear();
            self.table.tidy_all();
            for (prefix, route) in self.dump_ours().await? {
                let want_metric = self
                    .table
                    .get(&prefix)
                    .and_then(|s| self.kinds.get(s.want))
                    .map(|w| w.metric);
                let Some(want_metric) = want_metric else {
                    ops.push(Op::Delete(prefix, route.metric));
                    continue;
                };
                // One route per wanted prefix is kept, of the wanted metric if there is one,
                // and compared in `plan`. One of another metric is replaced there by the new
                // route first, then deleted: the prefix is never without a route.
                let stale = match self.dumped.entry(prefix) {
                    Entry::Vacant(e) => {
                        e.insert(route);
                        None
                    }
                    Entry::Occupied(mut e) => {
                        if route.metric == want_metric && e.get().metric != want_metric {
                            Some(e.insert(route).metric)
                        } else {
                            Some(route.metric)
                        }
                    }
                };
                match stale {
                    Some(metric) => ops.push(Op::Delete(prefix, metric)),
                    None => {
                        if let Some(s) = self.table.get_mut(&prefix) {
                            s.have = DUMPED;
                        }
                    }
                }
            }
        }
        let prefixes: Vec<IpNet> = self
            .table
            .iter()
            .filter(|(_, s)| s.want != NONE)
            .map(|(p, _)| p)
            .collect();
        let result = self.sync_prefixes(ops, prefixes, &mut report).await;
        // A refused delete leaves a route of ours we no longer track.
        self.installed_exact = result.is_ok() && report.failed.is_empty();
        result?;
        Ok(report)
    }

    /// Brings each of `prefixes` in line with what we want, after running `ops`.
    ///
    /// Prefixes are planned and sent in chunks: the table entries a chunk touches are still in
    /// cache when its messages are encoded and its acks recorded, and the plan stays small.
    async fn sync_prefixes(
        &mut self,
        ops: Vec<Op>,
        prefixes: Vec<IpNet>,
        report: &mut ApplyReport,
    ) -> Result<(), FibError> {
        let failed_before = report.failed.len();
        if !ops.is_empty() {
            self.execute_ops(ops, report).await?;
        }
        // Resolved desired routes of this call (devices do not change between chunks).
        let mut resolved: HashMap<Id, Id> = HashMap::new();
        // Prefixes whose routes have recursive next hops: synced after the others are written
        // (one of those may be what a gateway resolves through).
        let mut later = Vec::new();
        let result = async {
            for chunk in prefixes.chunks(PLAN_CHUNK) {
                let ops = self.plan(chunk, &mut resolved, report, &mut later, Phase::Direct);
                if !ops.is_empty() {
                    self.execute_ops(ops, report).await?;
                }
            }
            Ok(())
        }
        .await;
        for (_, id) in resolved {
            if id != LATER {
                self.held.release(id);
            }
        }
        result?;
        if !later.is_empty() || self.rec.dirty {
            self.sync_recursive(later, report).await?;
        }
        if self.pending.is_empty() {
            self.logged.clear();
        }
        if let Some((prefix, err)) = report.failed.get(failed_before) {
            // One line per batch, not one per route: a million refusals must not flood the log.
            warn!(
                failed = report.failed.len() - failed_before,
                first = %prefix,
                error = %err,
                "kernel refused routes"
            );
        }
        Ok(())
    }

    /// Looks the recursive gateways up (all of them after a change that may matter, else the
    /// new ones), then syncs `later` (routes with recursive next hops not synced yet) and the
    /// routes whose gateways now resolve differently; again while those writes change a
    /// resolution, up to [`RECURSION_ROUNDS`] times.
    async fn sync_recursive(
        &mut self,
        mut later: Vec<IpNet>,
        report: &mut ApplyReport,
    ) -> Result<(), FibError> {
        for _ in 0..RECURSION_ROUNDS {
            let all = std::mem::take(&mut self.rec.dirty);
            let changed = self.resolve_gateways(all).await?;
            if !changed.is_empty() {
                later.extend(self.prefixes_using(&changed));
            }
            if later.is_empty() {
                if self.rec.dirty {
                    continue;
                }
                return Ok(());
            }
            later.sort_unstable();
            later.dedup();
            let mut resolved: HashMap<Id, Id> = HashMap::new();
            let mut none = Vec::new();
            let result = async {
                for chunk in later.chunks(PLAN_CHUNK) {
                    let ops = self.plan(chunk, &mut resolved, report, &mut none, Phase::Recursive);
                    if !ops.is_empty() {
                        self.execute_ops(ops, report).await?;
                    }
                }
                Ok(())
            }
            .await;
            for (_, id) in resolved {
                self.held.release(id);
            }
            result?;
            later.clear();
            if !self.rec.dirty {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Resolves the recursive gateways of the desired routes: each one again when `all`, else
    /// only those never resolved; forgets those no route uses any more. Returns the gateways
    /// whose resolution changed (a first resolution is not a change: no route used it yet).
    async fn resolve_gateways(&mut self, all: bool) -> Result<Vec<IpAddr>, FibError> {
        let mut in_use: Vec<IpAddr> = self
            .kinds
            .iter()
            .flat_map(|(_, w)| w.kind.recursive_gateways())
            .collect();
        in_use.sort_unstable();
        in_use.dedup();
        let mut changed = Vec::new();
        let mut lookup = Vec::new();
        for &gw in &in_use {
            if !all && self.rec.get(&gw).is_some() {
                continue;
            }
            match self.ifaces.attached(gw) {
                Attached::Subnet => self.note_resolution(gw, Resolution::Direct, &mut changed),
                Attached::Local => self.note_resolution(
                    gw,
                    Resolution::Reject(KernelKind::Unreachable, Why::Local),
                    &mut changed,
                ),
                Attached::No => lookup.push(gw),
            }
        }
        if !lookup.is_empty() {
            let ev = &mut self.ev;
            let answers = self
                .req
                .query(
                    lookup.len(),
                    |i, seq, buf| message::encode_get_route(&lookup[i], seq, buf),
                    || ev.pump(),
                )
                .await?;
            let ours = (self.params.table, self.params.protocol);
            for (&gw, answer) in lookup.iter().zip(answers) {
                let resolution = match answer {
                    Ok(RouteNetlinkMessage::NewRoute(msg)) => match Matched::parse(&msg, gw) {
                        Some(m) => Resolution::from_match(gw, &m, ours, |p| self.is_recursive(p)),
                        None => Resolution::Reject(KernelKind::Unreachable, Why::NoRoute),
                    },
                    Ok(_) => Resolution::Reject(KernelKind::Unreachable, Why::NoRoute),
                    Err(errno) => Resolution::from_errno(errno),
                };
                self.note_resolution(gw, resolution, &mut changed);
            }
        }
        self.rec.keep_only(&in_use);
        Ok(changed)
    }

    fn note_resolution(&mut self, gw: IpAddr, resolution: Resolution, changed: &mut Vec<IpAddr>) {
        if self.rec.get(&gw) == Some(&resolution) {
            return;
        }
        match &resolution {
            Resolution::Reject(kind, why) => warn!(
                gateway = %gw, reason = %why, installed_as = ?kind,
                "recursive next hop does not resolve; its routes are installed as reject routes, as BIRD does"
            ),
            other => info!(gateway = %gw, resolution = ?other, "recursive next hop resolved"),
        }
        if self.rec.set(gw, resolution) {
            changed.push(gw);
        }
    }

    /// `true` when our desired route for `prefix` has recursive next hops.
    fn is_recursive(&self, prefix: &IpNet) -> bool {
        self.table
            .get(prefix)
            .and_then(|s| self.kinds.get(s.want))
            .is_some_and(|w| w.kind.recursive_gateways().next().is_some())
    }

    /// The prefixes whose desired routes use one of `gateways` (a pass over the table; only
    /// when a resolution changed).
    fn prefixes_using(&self, gateways: &[IpAddr]) -> Vec<IpNet> {
        let ids: Vec<Id> = self
            .kinds
            .iter()
            .filter(|(_, w)| w.kind.recursive_gateways().any(|g| gateways.contains(&g)))
            .map(|(id, _)| id)
            .collect();
        if ids.is_empty() {
            return Vec::new();
        }
        self.table
            .iter()
            .filter(|(_, s)| ids.contains(&s.want))
            .map(|(p, _)| p)
            .collect()
    }

    /// The kernel route (an id in `held`, one reference kept by `cache`) for desired kind `want`;
    /// in [`Phase::Direct`], [`LATER`] for a kind with recursive next hops.
    fn resolve_cached(
        &mut self,
        prefix: IpNet,
        want: Id,
        cache: &mut HashMap<Id, Id>,
        phase: Phase,
    ) -> Result<Id, FibError> {
        if let Some(&id) = cache.get(&want) {
            return Ok(id);
        }
        let wanted = self.kinds.get(want).ok_or(FibError::Invalid { prefix })?;
        if phase == Phase::Direct && wanted.kind.recursive_gateways().next().is_some() {
            cache.insert(want, LATER);
            return Ok(LATER);
        }
        let kernel = Held {
            kind: resolve_kind(&self.ifaces, &self.rec, &wanted.kind, prefix)?,
            metric: wanted.metric,
        };
        let id = self.held.intern(&kernel);
        cache.insert(want, id);
        Ok(id)
    }

    /// `true` when what the kernel holds (`have`) already is the kernel route `id`.
    fn satisfied(&self, prefix: IpNet, have: Id, id: Id) -> bool {
        match have {
            NONE => false,
            DUMPED => {
                let (Some(kernel), Some(want)) = (self.dumped.get(&prefix), self.held.get(id))
                else {
                    return false;
                };
                want.metric == kernel.metric && want.kind.satisfied_by(&kernel.kind)
            }
            have => have == id,
        }
    }

    /// Decides what each prefix needs: nothing, an install, a delete, or to wait.
    fn plan(
        &mut self,
        prefixes: &[IpNet],
        cache: &mut HashMap<Id, Id>,
        report: &mut ApplyReport,
        later: &mut Vec<IpNet>,
        phase: Phase,
    ) -> Vec<Op> {
        let mut ops = Vec::with_capacity(prefixes.len());
        for &prefix in prefixes {
            let Some(slot) = self.table.get(&prefix) else {
                self.pending.remove(&prefix);
                continue;
            };
            if slot.want == NONE {
                self.pending.remove(&prefix);
                if let Some(metric) = self.have_metric(&prefix, slot.have) {
                    ops.push(Op::Delete(prefix, metric));
                }
                self.table.tidy(&prefix);
                continue;
            }
            match self.resolve_cached(prefix, slot.want, cache, phase) {
                Ok(LATER) => later.push(prefix),
                Ok(id) => {
                    if !self.pending.is_empty() {
                        self.pending.remove(&prefix);
                    }
                    if self.satisfied(prefix, slot.have, id) {
                        if slot.have == DUMPED {
                            // From now on we know exactly what it is.
                            self.held.hold(id);
                            self.set_have(prefix, id);
                        }
                        report.unchanged += 1;
                        continue;
                    }
                    self.held.hold(id);
                    ops.push(Op::Install(prefix, id));
                    // The kernel keys routes by prefix and metric: a new metric is a second
                    // route, so the old one goes, after the new one is in.
                    if let Some(old) = self.have_metric(&prefix, slot.have) {
                        if self.held.get(id).is_some_and(|h| h.metric != old) {
                            ops.push(Op::Delete(prefix, old));
                        }
                    }
                }
                Err(e) => {
                    if let Some(metric) = self.have_metric(&prefix, slot.have) {
                        ops.push(Op::Delete(prefix, metric));
                    }
                    self.defer(prefix, e, report);
                }
            }
        }
        ops
    }

    /// Sends `ops` pipelined and records what the kernel accepted.
    async fn execute_ops(
        &mut self,
        ops: Vec<Op>,
        report: &mut ApplyReport,
    ) -> Result<(), FibError> {
        let params = self.params;
        let held = &self.held;
        let sent = self
            .req
            .execute(
                ops.len(),
                |i, seq, buf| match &ops[i] {
                    Op::Install(prefix, id) => match held.get(*id) {
                        Some(h) => {
                            message::encode_route(prefix, &h.kind, h.metric, &params, seq, buf)
                        }
                        // Unreachable (the op holds a reference); a delete keeps it harmless.
                        None => message::encode_delete(
                            prefix,
                            params.metric_for(prefix),
                            &params,
                            seq,
                            buf,
                        ),
                    },
                    Op::Delete(prefix, metric) => {
                        message::encode_delete(prefix, *metric, &params, seq, buf)
                    }
                },
                || self.ev.pump(),
            )
            .await;
        let nacks = match sent {
            Ok(nacks) => nacks,
            Err(e) => {
                for op in ops {
                    if let Op::Install(_, id) = op {
                        self.held.release(id);
                    }
                }
                return Err(e);
            }
        };
        let nacks: HashMap<usize, i32> = nacks.into_iter().collect();
        // Routes whose replacement was refused but whose old version is still in the kernel.
        let mut leftovers = Vec::new();
        for (i, op) in ops.into_iter().enumerate() {
            match (op, nacks.get(&i).copied()) {
                (Op::Install(prefix, id), None) => {
                    report.installed += 1;
                    self.set_have(prefix, id);
                    self.note_written(&prefix);
                }
                (Op::Install(prefix, id), Some(errno)) => {
                    let metric = self.held.get(id).map(|h| h.metric);
                    self.held.release(id);
                    let have = self.table.get(&prefix).map_or(NONE, |s| s.have);
                    // One of another metric is deleted by the op `plan` queued after this one.
                    if let Some(old) = self
                        .have_metric(&prefix, have)
                        .filter(|m| Some(*m) == metric)
                    {
                        leftovers.push(Op::Delete(prefix, old));
                    }
                    let err = FibError::from_errno(prefix, errno);
                    if err.is_dependency() {
                        self.defer(prefix, err, report);
                    } else {
                        debug!(%prefix, error = %err, "kernel refused route");
                        report.failed.push((prefix, err));
                    }
                }
                (Op::Delete(prefix, metric), nack)
                    if nack.is_none() || nack == Some(Errno::ESRCH as i32) =>
                {
                    if nack.is_none() {
                        report.removed += 1;
                        self.note_written(&prefix);
                    }
                    let have = self.table.get(&prefix).map_or(NONE, |s| s.have);
                    if self.have_metric(&prefix, have) == Some(metric) {
                        self.set_have(prefix, NONE);
                    }
                }
                (Op::Delete(prefix, _), Some(errno)) => {
                    let err = FibError::from_errno(prefix, errno);
                    debug!(%prefix, error = %err, "kernel refused delete");
                    report.failed.push((prefix, err));
                }
                (Op::Delete(..), None) => {}
            }
        }
        if !leftovers.is_empty() {
            // The kernel kept the old route when it refused the new one: it is stale now.
            Box::pin(self.execute_ops(leftovers, report)).await?;
        }
        Ok(())
    }

    /// A route of ours for `prefix` was written or deleted: if it contains a recursive gateway,
    /// that gateway may resolve differently now.
    fn note_written(&mut self, prefix: &IpNet) {
        if !self.rec.is_empty() && self.rec.covers(prefix) {
            self.rec.dirty = true;
        }
    }

    fn defer(&mut self, prefix: IpNet, err: FibError, report: &mut ApplyReport) {
        let reason = match &err {
            FibError::NoSuchInterface(name) => format!("interface {name} not found"),
            FibError::NetworkDown { .. } => "next-hop device down".to_owned(),
            FibError::NoDevice { .. } => "next-hop device gone".to_owned(),
            FibError::GatewayUnreachable { .. } => "gateway not on a connected subnet".to_owned(),
            other => other.to_string(),
        };
        if self.logged.insert(reason.clone()) {
            warn!(%prefix, %reason, "routes deferred until interfaces change");
        } else {
            debug!(%prefix, %reason, "route deferred");
        }
        self.stats.deferred_total += 1;
        report.deferred.push((prefix, err.clone()));
        self.set_have(prefix, NONE);
        self.pending.insert(prefix, err);
    }

    /// Handles every queued notification without blocking.
    fn drain_events(&mut self) {
        self.ev.pump();
        if std::mem::take(&mut self.ev.foreign_write) {
            info!("another process wrote a route with our protocol; the next reconcile dumps");
            self.installed_exact = false;
            // It may be what a recursive gateway resolves through.
            self.rec.dirty |= !self.rec.is_empty();
        }
        if std::mem::take(&mut self.ev.overrun) {
            warn!("netlink event overrun; resynchronising");
            self.stats.event_overruns += 1;
            self.needs_resync = true;
        }
        let backlog = std::mem::take(&mut self.ev.backlog);
        for frame in frames(&backlog) {
            match frame {
                Ok(frame) => self.on_frame(frame),
                Err(e) => warn!(error = %e, "netlink event"),
            }
        }
        let mut backlog = backlog;
        backlog.clear();
        self.ev.backlog = backlog;
    }

    fn on_frame(&mut self, frame: Frame<'_>) {
        let ours = frame.bytes.get(RTM_PROTOCOL_OFFSET) == Some(&self.params.protocol);
        if ours
            && matches!(frame.kind, RTM_NEWROUTE | RTM_DELROUTE)
            && !frame
                .bytes
                .get(RTM_FAMILY_OFFSET)
                .is_some_and(|af| self.cfg.families.has_af(*af))
        {
            // The other family's daemon at work: its routes are none of our business.
            return;
        }
        if matches!(frame.kind, RTM_NEWROUTE | RTM_DELROUTE)
            && frame.bytes.get(RTM_TABLE_OFFSET) == Some(&RT_TABLE_LOCAL)
        {
            return;
        }
        if !matches!(
            frame.kind,
            RTM_NEWLINK | RTM_DELLINK | RTM_NEWADDR | RTM_DELADDR | RTM_NEWROUTE | RTM_DELROUTE
        ) {
            return;
        }
        let msg = match frame.parse() {
            Ok(msg) => msg,
            Err(e) => {
                warn!(error = %e, "unparsable netlink event");
                return;
            }
        };
        let NetlinkPayload::InnerMessage(inner) = msg.payload else {
            return;
        };
        if let RouteNetlinkMessage::NewRoute(r) | RouteNetlinkMessage::DelRoute(r) = &inner {
            // A route covering a recursive gateway can change what it resolves to.
            if !self.rec.is_empty() && route_prefix(r).is_some_and(|p| self.rec.covers(&p)) {
                self.rec.dirty = true;
            }
        }
        let event = match inner {
            RouteNetlinkMessage::NewLink(link) => {
                let was_up = self.ifaces.link(link.header.index).map(|l| l.up);
                let event = self.ifaces.on_link(&link, false);
                if let Some(FibEvent::LinkUpdated(l)) = &event {
                    if l.up {
                        self.retry_pending = true;
                    }
                    if was_up == Some(true) && !l.up {
                        // IPv4 routes over a downed device are flushed without notification.
                        self.needs_resync = true;
                    }
                    if l.up && was_up == Some(false) {
                        self.needs_resync = true;
                    }
                }
                event
            }
            RouteNetlinkMessage::DelLink(link) => {
                let event = self.ifaces.on_link(&link, true);
                if event.is_some() {
                    self.needs_resync = true;
                }
                event
            }
            RouteNetlinkMessage::NewAddress(addr) => {
                let event = self.ifaces.on_address(&addr, false);
                self.retry_pending |= event.is_some();
                event
            }
            RouteNetlinkMessage::DelAddress(addr) => {
                let event = self.ifaces.on_address(&addr, true);
                // IPv4 flushes routes that depended on the address without notifying.
                self.needs_resync |= event.is_some();
                event
            }
            RouteNetlinkMessage::NewRoute(route) => foreign(&route, false),
            RouteNetlinkMessage::DelRoute(route) if ours => {
                self.on_our_route_deleted(&route);
                None
            }
            RouteNetlinkMessage::DelRoute(route) => foreign(&route, true),
            _ => None,
        };
        if let Some(event) = event {
            if !self.rec.is_empty()
                && !matches!(
                    event,
                    FibEvent::ForeignRouteAdded { .. } | FibEvent::ForeignRouteRemoved { .. }
                )
            {
                // A link or address changed: connected subnets and routes through devices too.
                self.rec.dirty = true;
            }
            debug!(?event, "kernel event");
            let _ = self.events.send(event);
        }
    }

    /// A route of ours vanished: if we still want it and did not delete it, put it back.
    fn on_our_route_deleted(&mut self, route: &RouteMessage) {
        let Some(gone) = message::parse_route(route, &self.params) else {
            return;
        };
        let Some(slot) = self.table.get(&gone.prefix) else {
            return;
        };
        let still_ours = self.have_metric(&gone.prefix, slot.have) == Some(gone.metric);
        if still_ours && slot.want != NONE {
            info!(prefix = %gone.prefix, "our route was removed from the kernel; re-checking");
            self.needs_resync = true;
        }
    }

    async fn after_events(&mut self) {
        if self.needs_resync {
            self.needs_resync = false;
            // Something happened behind our back: look at the kernel, not at our notes.
            self.installed_exact = false;
            self.retry_pending = false;
            self.stats.resyncs += 1;
            match self.reconcile().await {
                Ok(report) => info!(
                    installed = report.installed,
                    removed = report.removed,
                    unchanged = report.unchanged,
                    deferred = report.deferred.len(),
                    "resynchronised after kernel events"
                ),
                Err(e) => warn!(error = %e, "resynchronisation failed"),
            }
        } else if self.retry_pending {
            self.retry_pending = false;
            if self.pending.is_empty() {
                return;
            }
            let prefixes: Vec<IpNet> = self.pending.keys().copied().collect();
            let mut report = ApplyReport::default();
            match self.sync_prefixes(Vec::new(), prefixes, &mut report).await {
                Ok(()) => info!(
                    installed = report.installed,
                    still_deferred = report.deferred.len(),
                    "retried deferred routes"
                ),
                Err(e) => warn!(error = %e, "retrying deferred routes"),
            }
        }
        if self.rec.dirty {
            // A route, link or address changed under a recursive gateway: look them up again and
            // re-sync the routes of those that now resolve differently.
            let mut report = ApplyReport::default();
            match self
                .sync_prefixes(Vec::new(), Vec::new(), &mut report)
                .await
            {
                Ok(()) if report.installed + report.removed > 0 => info!(
                    installed = report.installed,
                    removed = report.removed,
                    deferred = report.deferred.len(),
                    "recursive next hops resolved again"
                ),
                Ok(()) => {}
                Err(e) => warn!(error = %e, "resolving recursive next hops"),
            }
        }
    }

    async fn shutdown(&mut self) -> Result<usize, FibError> {
        if self.cfg.persist {
            info!(
                routes = self.table.iter().filter(|(_, s)| s.have != NONE).count(),
                "fib-sync stopped; routes persist"
            );
            return Ok(0);
        }
        self.clear_wants();
        let report = self.reconcile().await?;
        info!(removed = report.removed, "fib-sync stopped; routes removed");
        Ok(report.removed)
    }
}

/// Resolves a route's device names to interface indexes, and its recursive next hops to what
/// their gateways resolve to (`rec`): what the kernel will hold. Recursive hops that resolve to
/// nothing forwarding are left out; a route left with no hop becomes the reject route the first
/// of them resolved to (BIRD: an unresolvable best route is exported as `unreachable`; merged
/// paths leave the unreachable ones out).
fn resolve_kind(
    ifaces: &Interfaces,
    rec: &Recursion,
    kind: &RouteKind,
    prefix: IpNet,
) -> Result<KernelKind, FibError> {
    Ok(match kind {
        RouteKind::Blackhole => KernelKind::Blackhole,
        RouteKind::Via { nexthops } => {
            let mut hops = Vec::with_capacity(nexthops.len());
            let mut reject = None;
            for nh in nexthops {
                if nh.is_recursive() {
                    match rec.get(&nh.addr) {
                        // Not looked up (cannot happen: resolved before planning) or on a
                        // connected subnet: as a direct hop.
                        None | Some(Resolution::Direct) => hops.push(KernelNextHop {
                            gateway: nh.addr,
                            ifindex: None,
                            onlink: false,
                        }),
                        Some(Resolution::Via(via)) => hops.extend_from_slice(via),
                        Some(Resolution::Reject(kind, _)) => {
                            reject.get_or_insert_with(|| kind.clone());
                        }
                    }
                    continue;
                }
                let ifindex = match &nh.ifname {
                    None => None,
                    Some(name) => {
                        let index = ifaces
                            .index_of(name)
                            .ok_or_else(|| FibError::NoSuchInterface(name.clone()))?;
                        if ifaces.link(index).is_some_and(|l| !l.up) {
                            return Err(FibError::NetworkDown { prefix });
                        }
                        Some(index)
                    }
                };
                hops.push(KernelNextHop {
                    gateway: nh.addr,
                    ifindex,
                    onlink: nh.onlink,
                });
            }
            if hops.is_empty() {
                return reject.ok_or(FibError::Invalid { prefix });
            }
            hops.sort();
            hops.dedup();
            KernelKind::Unicast(hops)
        }
    })
}

/// The event socket and the notifications read from it but not handled yet.
struct EventQueue {
    sock: RtSocket,
    protocol: u8,
    /// The families we own: our protocol's routes of another family are the other daemon's.
    families: crate::route::Families,
    /// The request socket's port: notifications carrying it echo our own writes.
    own_port: u32,
    /// A route with our protocol was written by someone else.
    foreign_write: bool,
    /// Frames kept for later, back to back (`NLMSG_ALIGN`ed).
    backlog: Vec<u8>,
    /// The kernel dropped notifications for us.
    overrun: bool,
}

impl EventQueue {
    /// Reads what is queued on the socket. The echoes of our own route writes (by far the most
    /// frequent, one per route) are dropped without parsing; the rest is kept for the actor.
    /// Called between chunks of big batches so the socket never overflows.
    fn pump(&mut self) {
        loop {
            let len = match self.sock.try_recv() {
                Ok(Some(len)) => len,
                Ok(None) => return,
                Err(FibError::Overrun) => {
                    self.overrun = true;
                    continue;
                }
                Err(e) => {
                    warn!(error = %e, "netlink event socket");
                    return;
                }
            };
            for frame in frames(&self.sock.rx[..len]) {
                let Ok(frame) = frame else {
                    warn!("malformed netlink event");
                    break;
                };
                let ours = frame.bytes.get(RTM_PROTOCOL_OFFSET) == Some(&self.protocol);
                if frame.kind == RTM_NEWROUTE && ours {
                    let our_family = frame
                        .bytes
                        .get(RTM_FAMILY_OFFSET)
                        .is_some_and(|af| self.families.has_af(*af));
                    // The other family's daemon writing its routes is not a foreign write.
                    self.foreign_write |= our_family && frame.pid != self.own_port;
                    continue;
                }
                self.backlog.extend_from_slice(frame.bytes);
                self.backlog.resize((self.backlog.len() + 3) & !3, 0);
            }
        }
    }
}

/// A route message's destination (a default route carries no `RTA_DST`).
fn route_prefix(route: &RouteMessage) -> Option<IpNet> {
    use netlink_packet_route::route::{RouteAddress, RouteAttribute};
    use netlink_packet_route::AddressFamily;
    let dst = route.attributes.iter().find_map(|a| match a {
        RouteAttribute::Destination(RouteAddress::Inet(a)) => Some(IpAddr::V4(*a)),
        RouteAttribute::Destination(RouteAddress::Inet6(a)) => Some(IpAddr::V6(*a)),
        _ => None,
    });
    let addr = match (dst, route.header.address_family) {
        (Some(a), _) => a,
        (None, AddressFamily::Inet) => IpAddr::from([0u8; 4]),
        (None, AddressFamily::Inet6) => IpAddr::from([0u16; 8]),
        _ => return None,
    };
    IpNet::new(addr, route.header.destination_prefix_length).ok()
}

fn foreign(route: &RouteMessage, removed: bool) -> Option<FibEvent> {
    use netlink_packet_route::route::RouteAttribute;
    let len = route.header.destination_prefix_length;
    let addr = route.attributes.iter().find_map(|a| match a {
        RouteAttribute::Destination(netlink_packet_route::route::RouteAddress::Inet(a)) => {
            Some(std::net::IpAddr::V4(*a))
        }
        RouteAttribute::Destination(netlink_packet_route::route::RouteAddress::Inet6(a)) => {
            Some(std::net::IpAddr::V6(*a))
        }
        _ => None,
    })?;
    let prefix = IpNet::new(addr, len).ok()?;
    let protocol = u8::from(route.header.protocol);
    Some(if removed {
        FibEvent::ForeignRouteRemoved { prefix, protocol }
    } else {
        FibEvent::ForeignRouteAdded { prefix, protocol }
    })
}
