//! Wiring: one task per neighbor, one accept loop per listen address, and a clean shutdown
//! (Cease / Administrative Shutdown to every peer) when the given future completes.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use conf::Config;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::control;
use crate::error::Error;
use crate::listener;
use crate::metrics;
use crate::neighbor::session_config;
use crate::peer::{self, PeerCommand, PeerHandle};
use crate::policy_compile::{self, CompiledPolicy};
use crate::recovery::Recovery;
use crate::reload::{self, ReloadRequest, ReloadStats, Reloader};
use crate::rib_actor::{self, RibLink, RibPeer};

/// How long shutdown waits for all peer tasks.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs the daemon until `shutdown` completes, then stops every session and returns.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> Result<(), Error> {
    run_with(config, None, shutdown).await
}

/// [`run`], knowing the configuration file (`configure check` on the control socket re-reads it).
pub async fn run_with(
    config: Config,
    config_path: Option<PathBuf>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    run_with_options(config, config_path, Options::default(), shutdown).await
}

/// How the daemon starts, besides its configuration (command-line switches).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Start in graceful-restart recovery (BIRD's `-R`), waiting at most this long; see
    /// [`crate::recovery`].
    pub graceful_restart_recovery: Option<Duration>,
    /// User and group to switch to once the BGP, control and kernel sockets are open (BIRD's
    /// `-u`/`-g`; see [`crate::process`]).
    pub privileges: crate::process::Privileges,
}

/// The view of `[control].socket`: IPv4, except for a daemon started from a `bird6`
/// configuration, whose one socket is `bird6.ctl` (IPv6 protocols and routes only).
fn control_family(config: &Config) -> control::Family {
    match config.bird.as_ref().map(|b| b.family) {
        Some(conf::BirdFamily::V6) => control::Family::V6,
        _ => control::Family::V4,
    }
}

/// [`run_with`] with start [`Options`].
pub async fn run_with_options(
    config: Config,
    config_path: Option<PathBuf>,
    options: Options,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let boot = SystemTime::now();
    let recovery = options.graceful_restart_recovery.map(Recovery::new);
    if let Some(wait) = options.graceful_restart_recovery {
        info!(
            event = "graceful_restart_recovery",
            wait_s = wait.as_secs(),
            "graceful restart recovery: exports deferred until the peers' End-of-RIB"
        );
    }
    // Listen first: a port we cannot bind is a startup error, before any session starts.
    let mut listeners = Vec::new();
    for addr in &config.listen.addresses {
        let sa = SocketAddr::new(*addr, config.listen.port);
        listeners.push(crate::socket::listen(sa, &config.neighbors)?);
        info!(event = "listening", addr = %sa, "listening");
    }
    let control_sockets = control::Bound::bind(&config.control, control_family(&config))?;
    let policy = CompiledPolicy::new(&config);
    // The node's interfaces and addresses, read once here and followed from netlink events;
    // every reader (RIB, sessions, kernel path, control socket) holds a receiver of it.
    // With the main table's routes of other programs: next hops resolve through them too.
    let interfaces = match fib_sync::InterfaceWatch::start_with_routes(config.kernel.protocol).await
    {
        Ok(w) => w,
        Err(e) => {
            warn!(event = "interfaces_unreadable", error = %e,
                "no interface table: next hops checked against session addresses only");
            fib_sync::InterfaceWatch::fixed(fib_sync::Interfaces::default())
        }
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let (rib_tx, rib_rx) = rib_actor::channel();
    let mut peers: Vec<PeerHandle> = Vec::new();
    // BFD sessions (sockets only once a neighbor has `bfd` on).
    let bfd = crate::bfd::BfdHandle::spawn();
    for (i, n) in config.neighbors.iter().enumerate() {
        let mut sc = session_config(&config, n);
        if recovery.is_some() {
            // RFC 4724 §3: Restart State and Forwarding State until the recovery ends.
            crate::recovery::mark_restarting(&mut sc.capabilities);
        }
        let link = RibLink::new(policy_compile::peer_id(i), rib_tx.clone());
        peers.push(peer::spawn_with_rib(
            n.clone(),
            sc,
            stop_rx.clone(),
            Some(link),
            Some(bfd.clone()),
            Some(interfaces.subscribe()),
        ));
    }
    // Routes per family, kept by the RIB actor (metrics read them without asking it).
    let route_counts = Arc::new(crate::route_view::RouteCounts::default());
    let rib_peers = peers
        .iter()
        .enumerate()
        .map(|(index, p)| RibPeer {
            index,
            stats: p.stats.clone(),
            commands: p.commands.clone(),
            status: Some(p.status.clone()),
        })
        .collect();
    // The link of each link-local session: the RIB actor writes it, the kernel path reads it.
    let links = crate::fib::link_local::PeerLinks::default();
    // The FIB task ([kernel].enable_writes): Loc-RIB changes to the kernel.
    let (fib_tx, fib_task) = if config.kernel.enable_writes {
        let (tx, task) = crate::fib::FibTask::spawn(
            &config,
            rib_tx.clone(),
            recovery.clone(),
            interfaces.subscribe(),
            links.clone(),
        )
        .await?;
        (Some(tx), Some(task))
    } else {
        (None, None)
    };
    if !options.privileges.is_none() {
        options.privileges.apply()?;
    }
    let mut rib =
        rib_actor::RibActor::new(&config, policy, rib_peers, fib_tx, route_counts.clone());
    rib.set_interfaces(Some(interfaces.subscribe_with_routes()));
    rib.set_links(links);
    if let Some(r) = recovery.clone() {
        rib.recover(&config, r);
    }
    let rib_task = rib_actor::spawn(rib, rib_rx);
    let (down_tx, mut down_rx) = watch::channel(false);
    let (reload_tx, mut reload_rx) = tokio::sync::mpsc::channel::<ReloadRequest>(4);
    let (control_tx, control_rx) = watch::channel(Arc::new(control::ControlState {
        router_id: config.router_id,
        local_as: config.local_as,
        boot,
        reconfigured: boot,
        config_path: config_path.clone(),
        peers: peers.iter().map(reload::peer_view).collect(),
        // `show route` asks the RIB actor on demand (no standing copy of the table).
        routes: control::RouteSource::new(&rib_tx, route_counts),
        shutdown: down_tx,
        reload: Some(reload_tx),
        kernel: fib_task.as_ref().map(|t| control::KernelView {
            counters: t.counters.clone(),
            since: boot,
            started: t.started,
        }),
        recovery: recovery.clone(),
        config_format: reload::Format::of(&config),
        direct_interfaces: config.bird.as_ref().map(|b| b.direct_interfaces.clone()),
        bfd: Some(bfd.view()),
        interfaces: interfaces.subscribe(),
    }));
    let control = control_sockets.serve(control_rx);
    let routes: listener::Routes = Arc::new(RwLock::new(listener::route_map(
        peers.iter().map(|p| (&p.neighbor, &p.commands)),
    )));
    let listeners: Vec<Arc<TcpListener>> = listeners.into_iter().map(Arc::new).collect();
    let accept: Vec<_> = listeners
        .iter()
        .map(|l| tokio::spawn(listener::accept_loop(l.clone(), routes.clone())))
        .collect();
    info!(
        event = "started",
        router_id = %config.router_id,
        local_as = %config.local_as,
        neighbors = config.neighbors.len(),
        "bgpd started"
    );
    let stats = Arc::new(ReloadStats::default());
    // The RIB ids of the first configuration's peers: their position + 1.
    let reload_ids = peers
        .iter()
        .enumerate()
        .map(|(i, p)| (p.neighbor.name.clone(), policy_compile::peer_id(i)))
        .collect();
    let reload_next = peers.len() + 1;
    let mut reloader = Reloader {
        config: Arc::new(config),
        config_path,
        peers,
        routes,
        listeners,
        accept,
        rib: Some(rib_tx.clone()),
        ids: reload_ids,
        next_id: u32::try_from(reload_next).unwrap_or(u32::MAX),
        stop: stop_rx,
        control: control_tx,
        stats: stats.clone(),
        leaving: Vec::new(),
        metrics: metrics::Server::default(),
        fib: fib_task.as_ref().map(crate::fib::FibTask::reload_handle),
        bfd: Some(bfd.clone()),
        interfaces: Some(interfaces.subscribe()),
    };
    reloader.metrics = metrics::start(
        &reloader.config.metrics,
        metrics::DaemonCollector {
            states: reloader.control.subscribe(),
            reloads: stats,
            fib: fib_task.as_ref().map(|t| t.counters.clone()),
        },
    );
    // SIGHUP reloads the configuration file, as BIRD does (confd's `sv hup bird`).
    let mut hup = signal(SignalKind::hangup()).map_err(Error::Signal)?;
    // Turns true when our graceful-restart recovery ends (never without one).
    let mut recovered = recovery
        .as_ref()
        .map_or_else(|| watch::channel(false).1, |r| r.subscribe());
    let mut restarting = recovery.is_some();
    tokio::pin!(shutdown);
    let mut down_during_load = down_rx.clone();
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = recovered.wait_for(|done| *done), if restarting => {
                // The next OPENs no longer carry the Restart State bit (sessions are kept).
                restarting = false;
                for p in &reloader.peers {
                    let cmd = PeerCommand::Reconfigure {
                        neighbor: Box::new(p.neighbor.clone()),
                        config: Box::new(session_config(&reloader.config, &p.neighbor)),
                        reset: false,
                    };
                    let tx = p.commands.clone();
                    tokio::spawn(async move {
                        let _ = tx.send(cmd).await;
                    });
                }
            }
            _ = down_rx.wait_for(|down| *down) => break,
            Some(()) = hup.recv() => {
                info!(event = "signal", signal = "SIGHUP", "reloading the configuration");
                // Reading the files (bounded in time) gives way to a stop request.
                let loaded = tokio::select! {
                    l = reloader.load(None) => l,
                    _ = &mut shutdown => break,
                    _ = down_during_load.wait_for(|down| *down) => break,
                };
                let _ = reloader.finish(loaded).await;
            }
            Some(req) = reload_rx.recv() => {
                let loaded = tokio::select! {
                    l = reloader.load(req.path) => l,
                    _ = &mut shutdown => break,
                    _ = down_during_load.wait_for(|down| *down) => break,
                };
                let r = reloader.finish(loaded).await;
                let _ = req.reply.send(r);
            }
        }
    }
    info!(event = "shutting_down", "shutting down");
    reloader.metrics.stop();
    let peers = std::mem::take(&mut reloader.peers);
    let leaving = std::mem::take(&mut reloader.leaving);
    let accept = std::mem::take(&mut reloader.accept);
    drop(reloader);
    control.stop();
    for a in &accept {
        a.abort();
    }
    let _ = stop_tx.send(true);
    let all = async {
        for p in peers {
            let _ = p.task.await;
        }
        for t in leaving {
            let _ = t.await;
        }
    };
    if tokio::time::timeout(SHUTDOWN_TIMEOUT, all).await.is_err() {
        warn!(
            event = "shutdown_timeout",
            "some peers did not stop in time"
        );
    }
    drop(rib_tx);
    rib_task.abort();
    if let Some(fib) = fib_task {
        // Our routes stay in the kernel when [kernel].persist_on_stop is set.
        fib.stop().await;
    }
    info!(event = "exit", "bgpd stopped");
    Ok(())
}
