//! The FIB task: Loc-RIB changes in, kernel routes out (through `fib-sync`).
//!
//! The kernel path keeps no copy of the routing table. The RIB actor sends each prefix whose
//! selection changed ([`FibInput::Changes`]); [`Translator`] decides, from the selection's next
//! hops and configuration-sized facts (the IP pool the prefix falls in, our own blocks, the
//! node's connected subnets, with the BIRD front end its kernel filter), one delta per prefix
//! (`policy::program::program_set`):
//! - `Direct` → a route via the next hop (the kernel resolves the device);
//! - `IpIp` → an `onlink` route via the next hop on `[kernel].tunnel_interface` (`tunl0`);
//! - several next hops → one multipath route (ECMP);
//! - a next hop in a VXLAN mode → Felix owns the prefix: ours is removed if we had one;
//! - no usable next hop → removed if we had installed it.
//!
//! `fib-sync`'s table is the only per-prefix record (what we want, what the kernel holds): an
//! unchanged route is not rewritten, a removal of a prefix we never installed writes nothing.
//! When pools, blocks or connected subnets change, the task asks the RIB to feed the affected
//! networks again ([`RibRequest::Refeed`]) instead of re-reading a table of its own.
//!
//! Our own `local_blocks` are blackholed from the configuration as soon as the task starts
//! (whatever the Loc-RIB says about them).
//!
//! Startup without a gap: `fib-sync` keeps the routes a previous run left in the kernel
//! (persist) until the reconciliation says which are stale. The task applies changes
//! incrementally from the start and, when the kernel held routes of ours at start, reconciles
//! once the RIB has converged, which is the first of:
//! - the RIB actor's [`FibInput::Converged`]: it sees every session and End-of-RIB (RFC 4724
//!   §2), and says so once every enabled peer is Established with an End-of-RIB for each family
//!   it negotiated and our own graceful-restart recovery is over; it comes after every change
//!   it made until then;
//! - [`STARTUP_WAIT`] after the start (a peer that stays down must not keep stale routes for
//!   ever), not before our own graceful-restart recovery (`-R`, [`crate::recovery`]) ends.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use conf::Config;
use fib_sync::{FibConfig, FibError, FibSync, InterfaceReceiver, Pending, RouteDelta};
use ipnet::IpNet;
use rib::LocRibChange;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::rib_actor::{RibRequest, RibSender};
pub use translate::{Reprogram, Translator};

/// Capacity of the RIB → FIB channel, in batches. The RIB actor awaits when it is full, so a
/// slow kernel slows the RIB instead of queueing without bound. Small on purpose: a batch can
/// hold tens of thousands of changes of ~200 octets each (measured with heaptrack while
/// loading 100k routes), and the kernel, not the RIB, is the slow stage.
pub const FIB_QUEUE: usize = 2;
/// Longest wait for the RIB to converge before the startup reconciliation.
pub const STARTUP_WAIT: Duration = Duration::from_secs(15);
/// Loc-RIB changes translated and handed to fib-sync at a time (the RIB sends up to ~50k).
const SLICE: usize = 8192;
/// Batches handed to fib-sync and not yet reported: the next batch is translated while the
/// kernel takes the previous ones, so the kernel (the slow stage) never waits for us.
const IN_FLIGHT: usize = 2;
/// How long [`FibTask::stop`] waits for the kernel clean-up.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// Counters of the FIB task, shared with whoever exports metrics (read with `Relaxed` loads).
#[derive(Debug, Default)]
pub struct FibCounters {
    /// Routes written to the kernel (added or replaced).
    pub installed: AtomicU64,
    /// Routes removed from the kernel.
    pub removed: AtomicU64,
    /// Routes the kernel refused.
    pub failed: AtomicU64,
    /// Routes waiting for an interface or address (fib-sync retries them).
    pub deferred: AtomicU64,
    /// Loc-RIB batches received.
    pub batches: AtomicU64,
    /// Routes we currently want in the kernel (blackholes included), as fib-sync counts them.
    pub desired: AtomicU64,
    /// Enabled peers the RIB still waits for (not Established, or an End-of-RIB missing),
    /// as the RIB actor last counted them; 0 once it converged.
    pub holding: AtomicU64,
    /// The startup reconciliation has run.
    pub converged: AtomicBool,
}

impl FibCounters {
    fn record(&self, report: &fib_sync::ApplyReport) {
        let add = |c: &AtomicU64, n: usize| {
            c.fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
        };
        add(&self.installed, report.installed);
        add(&self.removed, report.removed);
        add(&self.failed, report.failed.len());
        add(&self.deferred, report.deferred.len());
        self.desired.store(
            u64::try_from(report.desired).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        for (prefix, e) in &report.failed {
            warn!(event = "fib_route_failed", %prefix, error = %e, "kernel refused a route");
        }
        for (prefix, e) in &report.deferred {
            debug!(event = "fib_route_deferred", %prefix, error = %e, "route waits for a dependency");
        }
    }
}

/// What the RIB actor sends the FIB task, in order.
#[derive(Debug)]
pub enum FibInput {
    /// Prefixes whose selection changed (or that the task asked to be fed again).
    Changes(Vec<LocRibChange>),
    /// The RIB converged (see the module documentation); sent once.
    Converged,
}

/// The FIB task gone (its channel closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FibGone;

/// The RIB actor's end of the RIB → FIB channel.
#[derive(Debug, Clone)]
pub struct FibLink {
    tx: mpsc::Sender<FibInput>,
    counters: Arc<FibCounters>,
}

impl FibLink {
    /// A link and the receiving end (tests, or a task of one's own).
    pub fn channel(counters: Arc<FibCounters>) -> (FibLink, mpsc::Receiver<FibInput>) {
        let (tx, rx) = mpsc::channel(FIB_QUEUE);
        (FibLink { tx, counters }, rx)
    }

    /// Sends a batch of changes (waits while the task is busy: back-pressure).
    pub async fn changes(&self, changes: Vec<LocRibChange>) -> Result<(), FibGone> {
        if changes.is_empty() {
            return Ok(());
        }
        self.tx
            .send(FibInput::Changes(changes))
            .await
            .map_err(|_| FibGone)
    }

    /// Says the RIB converged.
    pub async fn converged(&self) -> Result<(), FibGone> {
        self.holding(0);
        self.tx.send(FibInput::Converged).await.map_err(|_| FibGone)
    }

    /// Publishes how many peers the RIB still waits for (`show status` reads it).
    pub fn holding(&self, peers: usize) {
        self.counters
            .holding
            .store(u64::try_from(peers).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

/// The `fib-sync` settings for `[kernel]`.
pub fn fib_config(config: &Config) -> FibConfig {
    FibConfig {
        table: config.kernel.table,
        protocol: config.kernel.protocol,
        // BIRD installs a route without `krt_metric` with no metric (0): the kernel filter
        // gives BGP routes theirs.
        metric: if config.bird.is_some() {
            0
        } else {
            config.kernel.metric
        },
        persist: config.kernel.persist_on_stop,
        tunnel_ifname: config.kernel.tunnel_interface.clone(),
        // A daemon started from BIRD text owns only its family's kernel routes (`bird` IPv4,
        // `bird6` IPv6: calico-node runs both, with one protocol number in one table).
        families: match config.bird.as_ref().map(|b| b.family) {
            None => fib_sync::Families::BOTH,
            Some(conf::BirdFamily::V4) => fib_sync::Families::V4,
            Some(conf::BirdFamily::V6) => fib_sync::Families::V6,
        },
        ..FibConfig::default()
    }
}

/// The running FIB task.
pub struct FibTask {
    /// Counters for metrics.
    pub counters: Arc<FibCounters>,
    /// When the task started (the [`STARTUP_WAIT`] runs from here).
    pub started: std::time::Instant,
    reload: FibReload,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// Hands a reloaded configuration to the FIB task (IP pools and own blocks; see
/// [`Translator::reconfigure`]). Cloned by the reloader.
#[derive(Debug, Clone)]
pub struct FibReload(mpsc::Sender<Arc<Config>>);

impl FibReload {
    /// Queues `config`; it is applied before any Loc-RIB batch sent after this returns.
    /// `false` when the task is gone.
    pub async fn send(&self, config: Arc<Config>) -> bool {
        self.0.send(config).await.is_ok()
    }
}

impl FibTask {
    /// Starts `fib-sync` in the calling thread's network namespace, blackholes our blocks and
    /// spawns the task. The returned link is the RIB actor's end of the Loc-RIB channel; `rib`
    /// is where the task asks for networks to be fed again.
    pub async fn spawn(
        config: &Config,
        rib: RibSender,
        recovery: Option<Arc<crate::recovery::Recovery>>,
        interfaces: InterfaceReceiver,
        links: link_local::PeerLinks,
    ) -> Result<(FibLink, FibTask), FibError> {
        let fib = FibSync::start(fib_config(config)).await?;
        // No route of ours in the kernel at start: nothing can be stale, no reconciliation.
        let inherited = fib.stats().await?.installed;
        let mut translator = Translator::new(config);
        translator.set_links(links);
        let counters = Arc::new(FibCounters::default());
        // Connected subnets from the daemon's interface table, now and on every change.
        translator.set_connected(interfaces.borrow().connected());
        let blackholes: Vec<RouteDelta> = translator
            .local_routes()
            .iter()
            .cloned()
            .map(RouteDelta::Install)
            .collect();
        if !blackholes.is_empty() {
            counters.record(&fib.apply(blackholes).await?);
        }
        let (link, rx) = FibLink::channel(counters.clone());
        let (stop_tx, stop_rx) = oneshot::channel();
        let run = Runner {
            fib,
            translator,
            counters: counters.clone(),
            rib,
            recovery,
        };
        if inherited == 0 {
            counters.converged.store(true, Ordering::Relaxed);
        }
        let started = std::time::Instant::now();
        let (reload_tx, reload_rx) = mpsc::channel(1);
        let task = tokio::spawn(run.run(rx, reload_rx, interfaces, stop_rx, inherited > 0));
        Ok((
            link,
            FibTask {
                counters,
                started,
                reload: FibReload(reload_tx),
                stop: stop_tx,
                task,
            },
        ))
    }

    /// The handle the reloader uses to hand this task a new configuration.
    pub fn reload_handle(&self) -> FibReload {
        self.reload.clone()
    }

    /// Stops the task: `fib-sync` removes our routes unless `persist_on_stop` is set.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if tokio::time::timeout(STOP_TIMEOUT, self.task).await.is_err() {
            warn!(
                event = "fib_stop_timeout",
                "the FIB task did not stop in time"
            );
        }
    }
}

struct Runner {
    fib: FibSync,
    translator: Translator,
    counters: Arc<FibCounters>,
    /// Where networks are asked to be fed again.
    rib: RibSender,
    /// Our graceful-restart recovery (`-R`): no reconciliation before it ends.
    recovery: Option<Arc<crate::recovery::Recovery>>,
}

impl Runner {
    async fn apply(&mut self, deltas: Vec<RouteDelta>) {
        if deltas.is_empty() {
            return;
        }
        let result = self.fib.apply(deltas).await;
        self.done(result);
    }

    /// Hands `deltas` to fib-sync without waiting for the kernel, keeping at most
    /// [`IN_FLIGHT`] batches unreported.
    async fn submit(&mut self, deltas: Vec<RouteDelta>, in_flight: &mut VecDeque<Pending>) {
        if deltas.is_empty() {
            return;
        }
        while in_flight.len() >= IN_FLIGHT {
            let Some(oldest) = in_flight.pop_front() else {
                break;
            };
            let result = oldest.await;
            self.done(result);
        }
        match self.fib.submit(deltas).await {
            Ok(pending) => in_flight.push_back(pending),
            Err(e) => self.done(Err(e)),
        }
    }

    /// Records the outcome of one batch.
    fn done(&mut self, result: Result<fib_sync::ApplyReport, FibError>) {
        match result {
            Ok(report) => self.counters.record(&report),
            Err(e) => warn!(event = "fib_apply_failed", error = %e, "kernel batch failed"),
        }
    }

    /// Asks the RIB to feed `nets` again. From a task of its own: the RIB may be waiting for
    /// room in our channel, which we keep draining meanwhile.
    fn refeed(&self, nets: Vec<IpNet>) {
        if nets.is_empty() {
            return;
        }
        let rib = self.rib.clone();
        tokio::spawn(async move {
            if rib.send(RibRequest::Refeed(nets)).await.is_err() {
                debug!(event = "fib_refeed_dropped", "the RIB is gone");
            }
        });
    }

    async fn reconcile(&mut self) {
        match self.fib.reconcile_wanted().await {
            Ok(report) => {
                info!(
                    event = "fib_reconciled",
                    desired = report.desired,
                    installed = report.installed,
                    removed = report.removed,
                    unchanged = report.unchanged,
                    "kernel reconciled with the converged RIB"
                );
                self.counters.record(&report);
            }
            Err(e) => warn!(event = "fib_reconcile_failed", error = %e, "reconciliation failed"),
        }
        self.counters.converged.store(true, Ordering::Relaxed);
    }

    fn refresh_connected(&mut self, connected: Vec<IpNet>) {
        let nets = self.translator.set_connected(connected);
        if !nets.is_empty() {
            info!(
                event = "fib_connected_changed",
                networks = nets.len(),
                "connected subnets changed: cross-subnet pools decided again"
            );
        }
        self.refeed(nets);
    }

    /// Translates a batch in slices: the kernel gets the first routes of a big batch sooner,
    /// and fewer deltas wait in flight.
    async fn changes(&mut self, batch: Vec<LocRibChange>, in_flight: &mut VecDeque<Pending>) {
        self.counters.batches.fetch_add(1, Ordering::Relaxed);
        debug!(event = "fib_batch", changes = batch.len(), "Loc-RIB batch");
        let mut changes = batch.into_iter();
        loop {
            let deltas = self.translator.apply_changes(changes.by_ref().take(SLICE));
            if deltas.is_empty() && changes.len() == 0 {
                break;
            }
            self.submit(deltas, in_flight).await;
        }
    }

    async fn run(
        mut self,
        mut rx: mpsc::Receiver<FibInput>,
        mut reload: mpsc::Receiver<Arc<Config>>,
        mut interfaces: InterfaceReceiver,
        mut stop: oneshot::Receiver<()>,
        reconcile_at_start: bool,
    ) {
        let started = Instant::now();
        let mut converged = !reconcile_at_start;
        let mut rib_converged = false;
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        let mut in_flight: VecDeque<Pending> = VecDeque::with_capacity(IN_FLIGHT);
        loop {
            tokio::select! {
                // In this order: a reload is applied before the Loc-RIB batches the RIB sends
                // after its own reconfiguration (the reloader tells us first).
                biased;
                _ = &mut stop => break,
                Some(config) = reload.recv() => {
                    let Reprogram { deltas, refeed } = self.translator.reconfigure(&config);
                    info!(event = "fib_reconfigured", routes = deltas.len(),
                        networks = refeed.len(), "pools and blocks reloaded");
                    self.apply(deltas).await;
                    self.refeed(refeed);
                }
                Some(result) = async {
                    match in_flight.front_mut() {
                        Some(oldest) => Some(oldest.await),
                        None => None,
                    }
                }, if !in_flight.is_empty() => {
                    in_flight.pop_front();
                    self.done(result);
                }
                input = rx.recv() => match input {
                    None => break,
                    Some(FibInput::Changes(batch)) => self.changes(batch, &mut in_flight).await,
                    Some(FibInput::Converged) => rib_converged = true,
                },
                () = fib_sync::watch::changed(&mut interfaces) => {
                    let connected = interfaces.borrow_and_update().connected();
                    self.refresh_connected(connected);
                }
                _ = tick.tick(), if !converged => {}
            }
            let recovering = self.recovery.as_ref().is_some_and(|r| r.active());
            if !converged && !recovering && (rib_converged || started.elapsed() >= STARTUP_WAIT) {
                converged = true;
                self.reconcile().await;
            }
        }
        for pending in in_flight {
            let result = pending.await;
            self.done(result);
        }
        let persist = self.translator.fib.persist;
        match self.fib.stop().await {
            Ok(removed) => info!(event = "fib_stopped", removed, persist, "FIB task stopped"),
            Err(e) => warn!(event = "fib_stop_failed", error = %e, "FIB clean-up failed"),
        }
    }
}

mod kernel_filter;
pub mod link_local;
mod translate;

#[cfg(test)]
mod bird_tests;
#[cfg(test)]
mod tests;
