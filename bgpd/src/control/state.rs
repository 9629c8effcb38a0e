//! What the control socket can see and do: the peers (status snapshots, counters, command
//! channels), the route snapshot, the daemon's times, and the shutdown request. One
//! [`ControlState`] is shared by both sockets; a [`View`] restricts it to one address family
//! (`bird.ctl` shows IPv4 protocols only, `bird6.ctl` IPv6 only).

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use bgp_proto::types::{Asn, RouterId};
use conf::Neighbor;
use tokio::sync::{mpsc, watch};

use super::parse::{pattern_match, Target};
use super::route::RouteEntry;
use crate::peer::PeerCommand;
use crate::stats::PeerStats;
use crate::status::PeerStatus;

/// One peer as the control socket sees it.
#[derive(Debug, Clone)]
pub struct PeerView {
    pub neighbor: Neighbor,
    pub status: watch::Receiver<PeerStatus>,
    pub stats: Arc<PeerStats>,
    pub commands: mpsc::Sender<PeerCommand>,
}

/// The daemon's routes as last published (nothing publishes until the RIB exists: empty).
pub type RouteSnapshot = watch::Receiver<Arc<Vec<RouteEntry>>>;

/// Shared by every control connection.
#[derive(Debug)]
pub struct ControlState {
    pub router_id: RouterId,
    pub local_as: Asn,
    /// When the daemon started (`Last reboot on`).
    pub boot: SystemTime,
    /// When the running configuration was loaded (`Last reconfiguration on`).
    pub reconfigured: SystemTime,
    /// The file the configuration came from; `None`: the embedded default.
    pub config_path: Option<PathBuf>,
    pub peers: Vec<PeerView>,
    pub routes: RouteSnapshot,
    /// Set to true by `down`.
    pub shutdown: watch::Sender<bool>,
    /// Where `configure` sends reload requests; `None`: reloads are not served.
    pub reload: Option<crate::reload::ReloadSender>,
}

/// The control sockets' current state; a reload publishes a new one (new peers, names).
pub type StateWatch = watch::Receiver<Arc<ControlState>>;

/// Which address family a socket serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub fn has(self, a: IpAddr) -> bool {
        match self {
            Family::V4 => a.is_ipv4(),
            Family::V6 => a.is_ipv6(),
        }
    }
}

/// The state seen through one socket.
#[derive(Debug, Clone)]
pub struct View {
    pub state: Arc<ControlState>,
    pub family: Family,
}

/// Which protocols a target names, or why none.
#[derive(Debug)]
pub enum Selection<'a> {
    Peers(Vec<&'a PeerView>),
    /// `9002 X is not a protocol`.
    NotAProtocol(String),
    /// `8003 No protocols match`.
    NoMatch,
}

impl View {
    /// This family's peers, in configuration order.
    pub fn peers(&self) -> impl Iterator<Item = &PeerView> {
        self.state
            .peers
            .iter()
            .filter(move |p| self.family.has(p.neighbor.address))
    }

    pub fn peer(&self, name: &str) -> Option<&PeerView> {
        self.peers().find(|p| p.neighbor.name.as_str() == name)
    }

    /// The peers a command's target selects, with BIRD's two error cases: an unknown name is
    /// "not a protocol", a pattern (or `all`) matching nothing is "no protocols match".
    pub fn select(&self, target: Option<&Target>) -> Selection<'_> {
        let v: Vec<&PeerView> = match target {
            None | Some(Target::All) => self.peers().collect(),
            Some(Target::Name(n)) => match self.peer(n) {
                Some(p) => vec![p],
                None => return Selection::NotAProtocol(n.clone()),
            },
            Some(Target::Pattern(pat)) => self
                .peers()
                .filter(|p| pattern_match(pat, p.neighbor.name.as_str()))
                .collect(),
        };
        if v.is_empty() {
            Selection::NoMatch
        } else {
            Selection::Peers(v)
        }
    }

    /// The routes of this family.
    pub fn routes(&self) -> Vec<RouteEntry> {
        let snap = self.state.routes.borrow().clone();
        snap.iter()
            .filter(|r| self.family.has(r.net.addr))
            .cloned()
            .collect()
    }
}
