//! Live reconfiguration (SIGHUP, or `configure` on the control socket), without flaps.
//!
//! A reload loads and validates the file; on any error the running configuration stays and the
//! errors are returned with file and line. Otherwise `conf::diff(old, new)` gives the reload as
//! one set of [`ConfigEvent`]s and [`Reloader::apply`] hands each event to the parts that
//! consume it ([`consumers`]), with no other vocabulary in between:
//! - the peer tasks ([`Consumer::Peers`], BFD included: each task runs its BFD session):
//!   unchanged neighbors get nothing at all (their task, connection and counters stay);
//!   `NeighborUpdated`: the new settings in place (description, timers for the next session,
//!   BFD, ...); `NeighborReset`: Cease / Other Configuration Change (RFC 4486 §4, subcode 6),
//!   then a new session with the new settings; `NeighborRemoved`: Cease / Peer De-configured
//!   (subcode 3), the task ends; `NeighborAdded`: a new task (and a route for its address in
//!   the listener, and its TCP-MD5 key on the listening sockets);
//! - the RIB actor ([`Consumer::Rib`]): [`RibRequest::Reconfigure`] carries its events, the
//!   policy compiled from the new configuration and only the neighbors the events name (never
//!   the whole configuration). Policy events carry their scope: only the named neighbors are
//!   re-imported (from their Adj-RIB-In) or exported to again, and only the differences are
//!   sent, without a session reset;
//! - the kernel path ([`Consumer::Kernel`], with kernel writes on): the FIB task
//!   ([`crate::fib::FibReload`]) re-programs the kernel routes of changed pools, blocks,
//!   static routes and kernel filter, before the RIB's next batch;
//! - the listener, the control socket's view and the metrics endpoint.
//!
//! What cannot change at run time (control socket paths, `[kernel]` settings, the RIB's router
//! id / AS / cluster id) is reported in [`Outcome::needs_restart`] and applies at the next
//! start; listen addresses are bound anew (if that fails, the old ones stay and a restart is
//! reported).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use conf::{Config, ConfigEvent, NeighborName};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::{info, warn};

use crate::control::{ControlState, PeerView};
use crate::listener::Routes;
use crate::neighbor::session_config;
use crate::peer::{self, PeerCommand, PeerHandle};
use crate::rib_actor::{PeerTask, Reconfigure, RibLink, RibRequest, RibSender};
use rib::PeerId;

/// How long a removed peer's task may take to send its Cease and end.
pub const REMOVE_TIMEOUT: Duration = Duration::from_secs(5);

/// A part of the daemon that consumes reload events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Consumer {
    /// The peer tasks: sessions started, stopped, reset or updated in place (each task also
    /// adds, removes or re-times its BFD session).
    Peers,
    /// The BGP listening sockets.
    Listener,
    /// The RIB actor: its peers, policy (with scope), originated routes, best-path options.
    Rib,
    /// The kernel path (the FIB task, with kernel writes on).
    Kernel,
    /// The control socket's view (peers, `direct1`).
    Control,
    /// The metrics endpoint.
    Metrics,
    /// Nothing at run time: it applies at the next start ([`Outcome::needs_restart`]).
    Restart,
}

/// The parts that consume `ev`. Exhaustive: a new kind of event does not compile until it has
/// its consumers, and `reload::tests::every_config_event_has_a_consumer` checks that none is
/// left without one.
pub fn consumers(ev: &ConfigEvent) -> &'static [Consumer] {
    use Consumer::*;
    match ev {
        // Each kept neighbor has its own NeighborReset; the RIB keeps its router id, AS and
        // cluster id for its life.
        ConfigEvent::GlobalReset { .. } => &[Restart],
        ConfigEvent::ListenChanged => &[Listener],
        ConfigEvent::NeighborRemoved(_)
        | ConfigEvent::NeighborAdded(_)
        | ConfigEvent::NeighborReset { .. } => &[Peers, Rib, Control],
        ConfigEvent::NeighborUpdated { fields, .. } => {
            if fields
                .iter()
                .any(|f| f.effect() == conf::ChangeEffect::Reevaluate)
            {
                &[Peers, Rib, Control]
            } else {
                &[Peers, Control]
            }
        }
        ConfigEvent::BlocksChanged { .. } => &[Rib, Kernel],
        // The RIB re-runs its policy through the policy events that come with it.
        ConfigEvent::PoolsChanged | ConfigEvent::StaticRoutesChanged => &[Kernel],
        ConfigEvent::ImportPolicyChanged(_)
        | ConfigEvent::ExportPolicyChanged(_)
        | ConfigEvent::DecisionChanged => &[Rib],
        // The RIB feeds the FIB task its Loc-RIB again (the filter decides from attributes
        // the FIB does not keep).
        ConfigEvent::KernelFilterChanged => &[Rib, Kernel],
        ConfigEvent::KernelChanged | ConfigEvent::ControlChanged => &[Restart],
        ConfigEvent::DirectInterfacesChanged => &[Control],
        ConfigEvent::MetricsChanged => &[Metrics],
    }
}

/// Whether `consumer` takes any of `events`.
fn any_for(events: &[ConfigEvent], consumer: Consumer) -> bool {
    events.iter().any(|e| consumers(e).contains(&consumer))
}

/// The neighbors an event names.
pub fn named(ev: &ConfigEvent) -> &[NeighborName] {
    match ev {
        ConfigEvent::NeighborRemoved(n) | ConfigEvent::NeighborAdded(n) => std::slice::from_ref(n),
        ConfigEvent::NeighborReset { name, .. } | ConfigEvent::NeighborUpdated { name, .. } => {
            std::slice::from_ref(name)
        }
        ConfigEvent::ImportPolicyChanged(conf::PolicyScope::Neighbors(v))
        | ConfigEvent::ExportPolicyChanged(conf::PolicyScope::Neighbors(v)) => v,
        _ => &[],
    }
}

/// Why a reload was not applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The file read (`None`: the embedded default).
    pub path: Option<PathBuf>,
    /// One line per error, BIRD style: `FILE, line N: field: message`.
    pub errors: Vec<String>,
}

/// What an applied reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub path: Option<PathBuf>,
    /// What the reload did (empty: nothing differed).
    pub events: Vec<ConfigEvent>,
    pub needs_restart: Vec<&'static str>,
}

/// The result a reload request gets.
pub type ReloadResult = Result<Outcome, Rejected>;

/// A reload request from the control socket.
#[derive(Debug)]
pub struct ReloadRequest {
    /// The file to read; `None`: the running one.
    pub path: Option<PathBuf>,
    pub reply: oneshot::Sender<ReloadResult>,
}

/// How the control socket asks for reloads.
pub type ReloadSender = mpsc::Sender<ReloadRequest>;

/// One configuration error as BIRD's `cmd_read_config` prints it (`FILE, line N: message`).
pub fn bird_error(e: &conf::ConfigError) -> String {
    let mut s = match &e.location {
        Some(l) => format!("{}, line {}: ", e.file, l.line),
        None => format!("{}: ", e.file),
    };
    push_error_detail(&mut s, e);
    s
}

/// Appends what an error says after its position: `field: message (hint: ...)`.
pub fn push_error_detail(s: &mut String, e: &conf::ConfigError) {
    if !e.path.is_empty() {
        s.push_str(&e.path);
        s.push_str(": ");
    }
    s.push_str(&e.message);
    if let Some(h) = &e.hint {
        s.push_str(" (hint: ");
        s.push_str(h);
        s.push(')');
    }
}

/// How a configuration file is read: the front end the daemon started with is the one every
/// reload (SIGHUP, `configure`) uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// bgpd's TOML (`bgpd -c bgpd.toml`).
    #[default]
    Toml,
    /// BIRD configuration text for one family (`bird -c bird.cfg`, `bird6 -c bird6.cfg`).
    Bird(conf::BirdFamily),
}

impl Format {
    /// The format `config` was read in.
    pub fn of(config: &Config) -> Format {
        config
            .bird
            .as_ref()
            .map_or(Format::Toml, |b| Format::Bird(b.family))
    }
}

/// Loads `path` (or the embedded default) in `format`, as a reload does.
pub fn load(path: Option<&Path>, format: Format) -> Result<Config, Rejected> {
    let r = match (path, format) {
        (Some(p), Format::Toml) => Config::load(p),
        (Some(p), Format::Bird(family)) => Config::load_bird(p, family),
        (None, _) => Config::embedded_default(),
    };
    r.map_err(|errors| Rejected {
        path: path.map(Path::to_path_buf),
        errors: errors.iter().map(bird_error).collect(),
    })
}

/// Keeps what the command line and the first start decided in a newly loaded configuration:
/// the control socket is bound once (`-s` or the file's path at start) and stays; a BIRD
/// configuration has no control socket statement at all, so its whole `[control]` is the command
/// line's (`-s`, one socket, no `socket_v6`).
pub fn keep_overrides(running: &Config, new: &mut Config) {
    new.control.socket = running.control.socket.clone();
    if new.bird.is_some() {
        new.control = running.control.clone();
    }
}

/// How long a reload may spend reading its files (a file on a hung network filesystem).
pub const LOAD_TIMEOUT: Duration = Duration::from_secs(10);

/// A configuration read for a reload, not applied yet.
#[derive(Debug)]
pub struct Loaded {
    pub path: Option<PathBuf>,
    pub result: Result<Config, Rejected>,
}

/// Counters of reloads (for metrics).
#[derive(Debug, Default)]
pub struct ReloadStats {
    pub reloads: std::sync::atomic::AtomicU64,
    pub failures: std::sync::atomic::AtomicU64,
}

/// The running daemon as reloads see it: the configuration, the peer tasks, and what must
/// learn about new peers (listener, control socket).
pub struct Reloader {
    pub config: Arc<Config>,
    pub config_path: Option<PathBuf>,
    /// Peer tasks in configuration order.
    pub peers: Vec<PeerHandle>,
    pub routes: Routes,
    pub listeners: Vec<Arc<TcpListener>>,
    /// The accept loop of each listener (same order).
    pub accept: Vec<tokio::task::JoinHandle<()>>,
    /// The RIB actor, if routes flow: it gets the new policy, originated routes and peers.
    pub rib: Option<RibSender>,
    /// Each peer's id in the RIB (the same in its task's [`RibLink`]), by name.
    pub ids: HashMap<NeighborName, PeerId>,
    /// The next id for a neighbor added by reload.
    pub next_id: u32,
    pub stop: watch::Receiver<bool>,
    /// The control socket's view, replaced after each reload.
    pub control: watch::Sender<Arc<ControlState>>,
    pub stats: Arc<ReloadStats>,
    /// Tasks of removed peers still sending their Cease.
    pub leaving: Vec<tokio::task::JoinHandle<()>>,
    /// The metrics endpoint (restarted when `[metrics]` changes).
    pub metrics: crate::metrics::Server,
    /// The FIB task, with kernel writes on: it gets the new pools and blocks.
    pub fib: Option<crate::fib::FibReload>,
    /// The BFD manager, for neighbors added by a reload.
    pub bfd: Option<crate::bfd::BfdHandle>,
    /// The interface table, for neighbors added by a reload.
    pub interfaces: Option<fib_sync::InterfaceReceiver>,
}

impl Reloader {
    /// Reloads from `path` (default: the running file); on error nothing changes.
    pub async fn reload(&mut self, path: Option<PathBuf>) -> ReloadResult {
        let loaded = self.load(path).await;
        self.finish(loaded).await
    }

    /// The first half of a reload: reads and validates the file off the async workers, at
    /// most [`LOAD_TIMEOUT`]; changes nothing, so the daemon may drop it (SIGTERM meanwhile).
    pub async fn load(&self, path: Option<PathBuf>) -> Loaded {
        let path = path.or_else(|| self.config_path.clone());
        let p = path.clone();
        let format = Format::of(&self.config);
        let task = tokio::task::spawn_blocking(move || load(p.as_deref(), format));
        let result = match tokio::time::timeout(LOAD_TIMEOUT, task).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(Rejected {
                path: path.clone(),
                errors: vec![format!("configuration loader failed: {e}")],
            }),
            // The blocking read goes on in its thread; its result is dropped.
            Err(_) => Err(Rejected {
                path: path.clone(),
                errors: vec![format!(
                    "{}: reading the configuration took more than {} s",
                    path.as_deref()
                        .map_or_else(|| "<embedded default>".into(), |p| p.display().to_string()),
                    LOAD_TIMEOUT.as_secs()
                )],
            }),
        };
        Loaded { path, result }
    }

    /// The second half of a reload: applies what [`Reloader::load`] read, if it is valid.
    pub async fn finish(&mut self, loaded: Loaded) -> ReloadResult {
        use std::sync::atomic::Ordering::Relaxed;
        let Loaded { path, result } = loaded;
        let mut new = match result {
            Ok(c) => c,
            Err(r) => {
                self.stats.failures.fetch_add(1, Relaxed);
                warn!(event = "reload_failed", errors = ?r.errors, "configuration not reloaded");
                return Err(r);
            }
        };
        // The control socket of the running daemon stays (it is not re-bound).
        keep_overrides(&self.config, &mut new);
        let outcome = self.apply(new, path).await;
        self.stats.reloads.fetch_add(1, Relaxed);
        Ok(outcome)
    }

    /// Applies a valid configuration: each event of `conf::diff` to its consumers.
    pub async fn apply(&mut self, mut new: Config, path: Option<PathBuf>) -> Outcome {
        let events = conf::diff(&self.config, &new);
        let mut needs_restart = Vec::new();
        if any_for(&events, Consumer::Listener) && !self.rebind(&new).await {
            // The old sockets are back: keep their settings, so that the next diff reports
            // the change again, and say a restart is needed.
            new.listen = self.config.listen.clone();
            needs_restart.push("listen");
        }
        for ev in events
            .iter()
            .filter(|e| consumers(e).contains(&Consumer::Restart))
        {
            needs_restart.push(match ev {
                ConfigEvent::GlobalReset { .. } => "rib identity",
                ConfigEvent::KernelChanged => "kernel",
                _ => "control",
            });
        }
        let new = Arc::new(new);
        // The RIB's ids of the neighbors its events name (removed ones leave `ids` below).
        let rib_ids: HashMap<NeighborName, PeerId> = events
            .iter()
            .filter(|e| consumers(e).contains(&Consumer::Rib))
            .flat_map(named)
            .filter_map(|n| self.ids.get(n).map(|id| (n.clone(), *id)))
            .collect();
        self.apply_to_peers(&events, &new);
        if any_for(&events, Consumer::Kernel) {
            // Before the RIB: its batches for the blocks must meet the new blocks in the FIB.
            if let Some(fib) = &self.fib {
                if !fib.send(new.clone()).await {
                    warn!(
                        event = "fib_gone",
                        "FIB task stopped; pools and blocks not reloaded"
                    );
                }
            }
        }
        if any_for(&events, Consumer::Rib) {
            // The RIB learns the new peers before their sessions can come up (a connection
            // and an OPEN exchange take longer than this send).
            self.reconfigure_rib(&events, &new, rib_ids).await;
        }
        if any_for(&events, Consumer::Peers) {
            self.publish_routes();
        }
        self.config = new;
        // Always: `show status` tells the time of the last reconfiguration.
        self.publish_control();
        if any_for(&events, Consumer::Metrics) {
            self.metrics.restart(&self.config.metrics);
        }
        info!(
            event = "reconfigured",
            events = events.len(),
            ?needs_restart,
            "configuration reloaded"
        );
        // As BIRD: `configure "FILE"` applies FILE once; SIGHUP and `configure` keep reading
        // the file the daemon started with.
        Outcome {
            path,
            events,
            needs_restart,
        }
    }

    /// The peer tasks' share of the events: stop, start, reset, update in place.
    fn apply_to_peers(&mut self, events: &[ConfigEvent], new: &Arc<Config>) {
        if !any_for(events, Consumer::Peers) {
            return;
        }
        let mut by_name: HashMap<NeighborName, PeerHandle> = std::mem::take(&mut self.peers)
            .into_iter()
            .map(|p| (p.neighbor.name.clone(), p))
            .collect();
        let configured: HashMap<&NeighborName, &conf::Neighbor> =
            new.neighbors.iter().map(|n| (&n.name, n)).collect();
        for ev in events {
            match ev {
                ConfigEvent::NeighborRemoved(name) => {
                    if let Some(p) = by_name.remove(name) {
                        info!(event = "neighbor_removed", neighbor = %name, "neighbor removed");
                        if p.neighbor.password.is_some() {
                            self.clear_listen_key(p.neighbor.address);
                        }
                        self.ids.remove(name);
                        let (tx, task) = (p.commands, p.task);
                        self.leaving.push(tokio::spawn(async move {
                            let _ = tx.send(PeerCommand::Deconfigure).await;
                            let _ = tokio::time::timeout(REMOVE_TIMEOUT, task).await;
                        }));
                    }
                }
                ConfigEvent::NeighborReset { name, fields } => {
                    if let (Some(p), Some(n)) = (by_name.get_mut(name), configured.get(name)) {
                        info!(event = "neighbor_reset", neighbor = %name, ?fields,
                            "neighbor reset by reload");
                        self.send_reconfigure(p, new, n, true);
                    }
                }
                ConfigEvent::NeighborUpdated { name, fields } => {
                    if let (Some(p), Some(n)) = (by_name.get_mut(name), configured.get(name)) {
                        info!(event = "neighbor_updated", neighbor = %name, ?fields,
                            "neighbor updated in place");
                        self.send_reconfigure(p, new, n, false);
                    }
                }
                // Started below, in configuration order.
                ConfigEvent::NeighborAdded(_) => {}
                _ => {}
            }
        }
        // New tasks, and the configuration order for everyone.
        let mut peers = Vec::with_capacity(new.neighbors.len());
        for n in &new.neighbors {
            match by_name.remove(&n.name) {
                Some(p) => peers.push(p),
                None => {
                    info!(event = "neighbor_added", neighbor = %n.name, "neighbor added");
                    self.listen_key(n);
                    let sc = session_config(new, n);
                    let id = PeerId(self.next_id);
                    self.next_id += 1;
                    self.ids.insert(n.name.clone(), id);
                    let link = self.rib.as_ref().map(|tx| RibLink::new(id, tx.clone()));
                    peers.push(peer::spawn_with_rib(
                        n.clone(),
                        sc,
                        self.stop.clone(),
                        link,
                        self.bfd.clone(),
                        self.interfaces.clone(),
                    ));
                }
            }
        }
        self.peers = peers;
        self.leaving.retain(|t| !t.is_finished());
    }

    /// Sends the RIB actor its events with the new policy and the neighbors they name
    /// (`removed`: the ids of neighbors gone from [`Reloader::ids`]).
    async fn reconfigure_rib(
        &self,
        events: &[ConfigEvent],
        config: &Config,
        mut known: HashMap<NeighborName, PeerId>,
    ) {
        let Some(tx) = &self.rib else {
            return;
        };
        let events: Vec<ConfigEvent> = events
            .iter()
            .filter(|e| consumers(e).contains(&Consumer::Rib))
            .cloned()
            .collect();
        let handles: HashMap<&NeighborName, &PeerHandle> =
            self.peers.iter().map(|p| (&p.neighbor.name, p)).collect();
        // Neighbors added by this reload got their ids in `apply_to_peers`.
        for name in events.iter().flat_map(named) {
            if let Some(id) = self.ids.get(name) {
                known.insert(name.clone(), *id);
            }
        }
        let r = Reconfigure::new(events, config, |name| {
            Some(PeerTask {
                id: *known.get(name)?,
                handles: handles
                    .get(name)
                    .map(|p| (p.stats.clone(), p.commands.clone())),
            })
        });
        if tx.send(RibRequest::Reconfigure(Box::new(r))).await.is_err() {
            warn!(
                event = "rib_gone",
                "RIB actor stopped; routes not reconfigured"
            );
        }
    }

    fn send_reconfigure(
        &self,
        p: &mut PeerHandle,
        config: &Config,
        n: &conf::Neighbor,
        reset: bool,
    ) {
        if reset {
            let old = &p.neighbor;
            if old.password.is_some() && (n.password.is_none() || old.address != n.address) {
                self.clear_listen_key(old.address);
            }
            self.listen_key(n);
        }
        p.neighbor = n.clone();
        let mut sc = session_config(config, n);
        if self.control.borrow().recovering().is_some() {
            // Our graceful-restart recovery goes on: the next OPEN still says so.
            crate::recovery::mark_restarting(&mut sc.capabilities);
        }
        let cmd = PeerCommand::Reconfigure {
            neighbor: Box::new(n.clone()),
            config: Box::new(sc),
            reset,
        };
        // The command queue is short; a reload must not be lost because the task is busy.
        let tx = p.commands.clone();
        tokio::spawn(async move {
            let _ = tx.send(cmd).await;
        });
    }

    /// Binds the listening sockets of `new` in place of the running ones (BIRD 1.6 cannot:
    /// "Reconfiguration of BGP listening socket not implemented"). Established sessions are
    /// not touched (their sockets are not the listener's). The old sockets are closed first (a
    /// wildcard and a specific address on one port cannot both listen); if a new one cannot be
    /// bound, the old ones are bound again and `false` is returned. An aborted accept task
    /// drops its socket only when the runtime cancels it (maybe on another worker), so each is
    /// awaited: the old port is closed when this returns.
    async fn rebind(&mut self, new: &Config) -> bool {
        let bind = |listen: &conf::Listen, neighbors: &[conf::Neighbor]| {
            let mut out = Vec::new();
            for addr in &listen.addresses {
                let sa = std::net::SocketAddr::new(*addr, listen.port);
                out.push(Arc::new(crate::socket::listen(sa, neighbors)?));
            }
            Ok::<_, crate::Error>(out)
        };
        let old: Vec<_> = self.accept.drain(..).collect();
        for a in &old {
            a.abort();
        }
        for a in old {
            // Cancelled (or already ended): either way its listener is dropped.
            let _ = a.await;
        }
        self.listeners.clear();
        let ok = match bind(&new.listen, &new.neighbors) {
            Ok(l) => {
                info!(event = "listen_rebound", addresses = ?new.listen.addresses,
                    port = new.listen.port, "listening sockets bound anew");
                self.listeners = l;
                true
            }
            Err(e) => {
                warn!(event = "listen_rebind_failed", error = %e,
                    "new listening sockets not bound; the old ones are kept");
                match bind(&self.config.listen, &new.neighbors) {
                    Ok(l) => self.listeners = l,
                    Err(e) => warn!(event = "listen_lost", error = %e,
                        "the old listening sockets could not be bound again"),
                }
                false
            }
        };
        self.accept = self
            .listeners
            .iter()
            .map(|l| tokio::spawn(crate::listener::accept_loop(l.clone(), self.routes.clone())))
            .collect();
        ok
    }

    /// The TCP-MD5 key of `n` on every listening socket of its family.
    fn listen_key(&self, n: &conf::Neighbor) {
        let Some(key) = &n.password else {
            return;
        };
        for l in &self.listeners {
            let same = l
                .local_addr()
                .is_ok_and(|a| a.is_ipv4() == n.address.is_ipv4());
            if same {
                if let Err(e) = crate::socket::set_md5(l.as_ref(), n.address, key) {
                    warn!(event = "listen_md5_failed", neighbor = %n.name, error = %e,
                        "cannot set TCP-MD5 key on the listener");
                }
            }
        }
    }

    /// Removes the TCP-MD5 key for `addr` from the listening sockets of its family.
    fn clear_listen_key(&self, addr: IpAddr) {
        for l in &self.listeners {
            let same = l.local_addr().is_ok_and(|a| a.is_ipv4() == addr.is_ipv4());
            if same {
                if let Err(e) = crate::socket::clear_md5(l.as_ref(), addr) {
                    warn!(event = "listen_md5_clear_failed", peer = %addr, error = %e,
                        "cannot remove TCP-MD5 key from the listener");
                }
            }
        }
    }

    fn publish_routes(&self) {
        let map = crate::listener::route_map(self.peers.iter().map(|p| (&p.neighbor, &p.commands)));
        crate::listener::replace_routes(&self.routes, map);
    }

    fn publish_control(&self) {
        let old = self.control.borrow().clone();
        let state = ControlState {
            router_id: self.config.router_id,
            local_as: self.config.local_as,
            boot: old.boot,
            reconfigured: SystemTime::now(),
            config_path: self.config_path.clone(),
            peers: self.peers.iter().map(peer_view).collect(),
            routes: old.routes.clone(),
            shutdown: old.shutdown.clone(),
            reload: old.reload.clone(),
            kernel: old.kernel.clone(),
            recovery: old.recovery.clone(),
            config_format: old.config_format,
            direct_interfaces: self
                .config
                .bird
                .as_ref()
                .map(|b| b.direct_interfaces.clone()),
            bfd: old.bfd.clone(),
            interfaces: old.interfaces.clone(),
        };
        self.control.send_replace(Arc::new(state));
    }
}

/// The control socket's view of a peer task.
pub fn peer_view(p: &PeerHandle) -> PeerView {
    PeerView {
        neighbor: p.neighbor.clone(),
        status: p.status.clone(),
        stats: p.stats.clone(),
        commands: p.commands.clone(),
    }
}

#[cfg(test)]
mod tests;
