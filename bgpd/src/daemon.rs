//! Wiring: one task per neighbor, one accept loop per listen address, and a clean shutdown
//! (Cease / Administrative Shutdown to every peer) when the given future completes.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use conf::Config;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::control;
use crate::error::Error;
use crate::listener;
use crate::neighbor::session_config;
use crate::peer::{self, PeerHandle};
use crate::policy_compile::{self, CompiledPolicy};
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
    let boot = SystemTime::now();
    // Listen first: a port we cannot bind is a startup error, before any session starts.
    let mut listeners = Vec::new();
    for addr in &config.listen.addresses {
        let sa = SocketAddr::new(*addr, config.listen.port);
        listeners.push(crate::socket::listen(sa, &config.neighbors)?);
        info!(event = "listening", addr = %sa, "listening");
    }
    let control_sockets = control::Bound::bind(&config.control)?;
    let policy = CompiledPolicy::new(&config)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let (rib_tx, rib_rx) = rib_actor::channel();
    let mut peers: Vec<PeerHandle> = Vec::new();
    for (i, n) in config.neighbors.iter().enumerate() {
        let sc = session_config(&config, n);
        let link = RibLink {
            id: policy_compile::peer_id(i),
            tx: rib_tx.clone(),
        };
        peers.push(peer::spawn_with_rib(
            n.clone(),
            sc,
            stop_rx.clone(),
            Some(link),
        ));
    }
    // The RIB actor publishes its routes here for `show route`.
    let (route_publisher, route_snapshot) = watch::channel(Arc::new(Vec::new()));
    let rib_peers = peers
        .iter()
        .enumerate()
        .map(|(index, p)| RibPeer {
            index,
            stats: p.stats.clone(),
            commands: p.commands.clone(),
        })
        .collect();
    // The FIB task, when it exists, subscribes with `RibRequest::SetFib` on `rib_tx`.
    let rib_task = rib_actor::spawn(&config, policy, rib_peers, rib_rx, None, route_publisher);
    let (down_tx, mut down_rx) = watch::channel(false);
    let control = control_sockets.serve(Arc::new(control::ControlState {
        router_id: config.router_id,
        local_as: config.local_as,
        boot,
        reconfigured: boot,
        config_path,
        peers: peers
            .iter()
            .map(|p| control::PeerView {
                neighbor: p.neighbor.clone(),
                status: p.status.clone(),
                stats: p.stats.clone(),
                commands: p.commands.clone(),
            })
            .collect(),
        routes: route_snapshot,
        shutdown: down_tx,
    }));
    let routes: listener::Routes = Arc::new(
        peers
            .iter()
            .map(|p| (p.neighbor.address, p.commands.clone()))
            .collect::<HashMap<_, _>>(),
    );
    let accept: Vec<_> = listeners
        .into_iter()
        .map(|l| tokio::spawn(listener::accept_loop(l, routes.clone())))
        .collect();
    info!(
        event = "started",
        router_id = %config.router_id,
        local_as = %config.local_as,
        neighbors = config.neighbors.len(),
        "bgpd started"
    );
    tokio::select! {
        _ = shutdown => {}
        _ = down_rx.wait_for(|down| *down) => {}
    }
    info!(event = "shutting_down", "shutting down");
    control.stop();
    for a in &accept {
        a.abort();
    }
    let _ = stop_tx.send(true);
    let all = async {
        for p in peers {
            let _ = p.task.await;
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
    info!(event = "exit", "bgpd stopped");
    Ok(())
}
