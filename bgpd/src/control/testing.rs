//! Test fixtures: a [`View`] over peers whose status the test drives directly.

use std::ops::Index;
use std::sync::Arc;
use std::time::SystemTime;

use conf::Config;
use tokio::sync::{mpsc, watch};

use super::state::{ControlState, Family, PeerView, RouteSource, View};
use crate::fsm::State;
use crate::peer::PeerCommand;
use crate::rib_actor::{RibRequest, RibSender};
use crate::status::{self, EstablishedInfo, PeerStatus, StatusTx};

/// The test's ends of the channels.
pub struct Keep {
    pub peers: Vec<(StatusTx, watch::Receiver<PeerStatus>)>,
    pub commands: Vec<mpsc::Receiver<PeerCommand>>,
    /// The RIB end of `show route` queries: nothing answers unless the test does (a query
    /// times out after [`QUERY_TIMEOUT`]); the sender keeps the channel open.
    pub rib: mpsc::Receiver<RibRequest>,
    _rib_tx: RibSender,
}

/// How long the fixture's `show route` waits for an answer.
pub const QUERY_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(200);

impl Index<usize> for Keep {
    type Output = (StatusTx, watch::Receiver<PeerStatus>);
    fn index(&self, i: usize) -> &Self::Output {
        &self.peers[i]
    }
}

/// A configuration (router id 10.99.0.1, AS 64512, iBGP peers with hold 240 / keepalive 80)
/// with these `(name, address)` neighbors, seen through the IPv4 socket.
pub fn view_with(peers: &[(&str, &str)]) -> (View, Keep) {
    let mut text = String::from("router_id = \"10.99.0.1\"\nlocal_as = 64512\n");
    for (name, addr) in peers {
        text += &format!(
            "[[neighbors]]\nname = \"{name}\"\naddress = \"{addr}\"\nremote_as = 64512\n\
             hold_time = 240\nkeepalive_time = 80\n"
        );
    }
    let config = Config::from_str(&text, "test.toml").expect("test config is valid");
    let mut keep_peers = Vec::new();
    let mut commands = Vec::new();
    let mut views = Vec::new();
    for n in &config.neighbors {
        let (tx, rx) = status::channel();
        let (ctx, crx) = mpsc::channel(8);
        views.push(PeerView {
            neighbor: n.clone(),
            status: rx.clone(),
            stats: Arc::default(),
            commands: ctx,
        });
        keep_peers.push((tx, rx));
        commands.push(crx);
    }
    let (rib_tx, rib) = crate::rib_actor::channel();
    let (shutdown, _) = watch::channel(false);
    let now = SystemTime::now();
    let state = ControlState {
        router_id: config.router_id,
        local_as: config.local_as,
        boot: now,
        reconfigured: now,
        config_path: None,
        peers: views,
        routes: RouteSource::new(&rib_tx, Arc::default()).with_timeout(QUERY_TIMEOUT),
        shutdown,
        reload: None,
        kernel: None,
        recovery: None,
        config_format: crate::reload::Format::Toml,
        direct_interfaces: None,
        bfd: None,
        interfaces: fib_sync::InterfaceWatch::fixed(fib_sync::Interfaces::default()).subscribe(),
    };
    let view = View {
        state: Arc::new(state),
        family: Family::V4,
    };
    (
        view,
        Keep {
            peers: keep_peers,
            commands,
            rib,
            _rib_tx: rib_tx,
        },
    )
}

/// Moves a test peer to Established with AS4, route refresh and enhanced route refresh, from
/// 10.99.0.1 to its address, hold time 240.
pub fn established(p: &(StatusTx, watch::Receiver<PeerStatus>)) {
    let mut negotiated = bgp_proto::SessionContext::negotiate(
        &bgp_proto::Open::new(
            bgp_proto::Asn(64512),
            240,
            bgp_proto::RouterId("10.99.0.1".parse().unwrap()),
            vec![
                bgp_proto::Capability::RouteRefresh,
                bgp_proto::Capability::EnhancedRouteRefresh,
            ],
        ),
        &bgp_proto::Open::new(
            bgp_proto::Asn(64512),
            240,
            bgp_proto::RouterId("10.99.0.2".parse().unwrap()),
            vec![
                bgp_proto::Capability::RouteRefresh,
                bgp_proto::Capability::EnhancedRouteRefresh,
            ],
        ),
    );
    negotiated.hold_time = 240;
    p.0.state(State::Established);
    p.0.established(EstablishedInfo {
        negotiated,
        peer_open: None,
        peer_router_id: bgp_proto::RouterId("10.99.0.2".parse().unwrap()),
        local: Some("10.99.0.1:40000".parse().unwrap()),
        remote: Some("10.99.0.2:179".parse().unwrap()),
    });
}

/// Starts a graceful-restart recovery (wait `wait`) in `view` over its peers, all configured
/// with graceful restart (peer ids 1, 2, ... in order); the caller drives it.
pub fn with_recovery(view: &mut View, wait: std::time::Duration) -> crate::recovery::Tracker {
    let shared = crate::recovery::Recovery::new(wait);
    let mut t = crate::recovery::Tracker::new(shared.clone());
    let state = Arc::get_mut(&mut view.state).expect("the test's state is not shared yet");
    for (i, p) in state.peers.iter().enumerate() {
        let id = rib::PeerId(u32::try_from(i + 1).expect("few peers"));
        t.join(id, p.neighbor.name.as_str(), true, None);
    }
    state.recovery = Some(shared);
    t
}

/// Gives `view` a FIB task (`kernel1`, `device1`) whose counters the caller controls.
pub fn with_kernel(view: &mut View) -> Arc<crate::fib::FibCounters> {
    let counters = Arc::new(crate::fib::FibCounters::default());
    let state = Arc::get_mut(&mut view.state).expect("the test's state is not shared yet");
    state.kernel = Some(crate::control::KernelView {
        counters: counters.clone(),
        since: state.boot,
        started: std::time::Instant::now(),
    });
    counters
}

/// Gives `view` an interface table (the fixture's is empty).
pub fn with_interfaces(view: &mut View, interfaces: fib_sync::InterfaceReceiver) {
    let state = Arc::get_mut(&mut view.state).expect("the test's state is not shared yet");
    state.interfaces = interfaces;
}
