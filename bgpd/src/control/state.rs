//! What the control socket can see and do: the peers (status snapshots, counters, command
//! channels), the way to the RIB actor for routes, the daemon's times, and the shutdown
//! request. One
//! [`ControlState`] is shared by both sockets; a [`View`] restricts it to one address family
//! (`bird.ctl` shows IPv4 protocols only, `bird6.ctl` IPv6 only).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bgp_proto::types::{Asn, RouterId};
use conf::Neighbor;
use tokio::sync::{mpsc, watch};

use super::parse::{pattern_match, Target};
use super::reply::{code, Framer};
use crate::peer::PeerCommand;
use crate::rib_actor::{PageQuery, RibQuery, RibRequest, RibSender};
use crate::route_view::{RouteCounts, RouteFilter, RoutePage, RouteReply};
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

/// How long `show route` waits for the RIB actor (queueing included) before answering
/// [`super::reply::code::ROUTES_UNAVAILABLE`].
pub const ROUTE_QUERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the RIB actor gave no routes (answered on the socket, not propagated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteQueryError {
    Timeout,
    Gone,
}

impl RouteQueryError {
    /// The reply text.
    pub fn message(self) -> &'static str {
        match self {
            RouteQueryError::Timeout => "Routing table did not answer in time",
            RouteQueryError::Gone => "Routing table is not running",
        }
    }
}

/// The way to the RIB actor's query channel. Weak: the control sockets do not keep the actor
/// alive at shutdown. Queries block their thread (commands run on the blocking pool).
#[derive(Debug, Clone)]
pub struct RouteSource {
    rib: Option<mpsc::WeakSender<RibRequest>>,
    counts: Arc<RouteCounts>,
    timeout: Duration,
}

impl RouteSource {
    /// Queries go to `rib`; `counts` are the ones that actor keeps.
    pub fn new(rib: &RibSender, counts: Arc<RouteCounts>) -> Self {
        RouteSource {
            rib: Some(rib.downgrade()),
            counts,
            timeout: ROUTE_QUERY_TIMEOUT,
        }
    }

    /// No RIB (tests of other commands): every query fails with [`RouteQueryError::Gone`].
    pub fn none() -> Self {
        RouteSource {
            rib: None,
            counts: Arc::default(),
            timeout: ROUTE_QUERY_TIMEOUT,
        }
    }

    /// Routes in the table (IPv4, IPv6), without asking the actor.
    pub fn counts(&self) -> (usize, usize) {
        self.counts.get()
    }

    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Asks the RIB actor for the routes `filter` selects, waiting at most the timeout for
    /// room in its bounded queue and for the answer. Call it outside async code, on a thread
    /// of a Tokio runtime's blocking pool.
    pub fn query(&self, filter: RouteFilter) -> Result<RouteReply, RouteQueryError> {
        let tx = self
            .rib
            .as_ref()
            .and_then(mpsc::WeakSender::upgrade)
            .ok_or(RouteQueryError::Gone)?;
        let handle = tokio::runtime::Handle::try_current().map_err(|_| RouteQueryError::Gone)?;
        let ask = async move {
            let (reply, rx) = tokio::sync::oneshot::channel();
            tx.send(RibRequest::Query(RibQuery::Show { filter, reply }))
                .await
                .map_err(|_| RouteQueryError::Gone)?;
            rx.await.map_err(|_| RouteQueryError::Gone)
        };
        handle
            .block_on(tokio::time::timeout(self.timeout, ask))
            .unwrap_or(Err(RouteQueryError::Timeout))
    }
}

impl RouteSource {
    /// One page of a listing (`filter.family` set, no count, network or address), asked
    /// from async code: waits at most the timeout for room in the actor's queue and for the
    /// page (the actor serves pages behind route processing).
    pub async fn page(
        &self,
        filter: RouteFilter,
        after: Option<super::parse::Net>,
    ) -> Result<RoutePage, RouteQueryError> {
        let tx = self
            .rib
            .as_ref()
            .and_then(mpsc::WeakSender::upgrade)
            .ok_or(RouteQueryError::Gone)?;
        let ask = async move {
            let (reply, rx) = tokio::sync::oneshot::channel();
            let q = PageQuery {
                filter,
                after,
                reply,
            };
            tx.send(RibRequest::Query(RibQuery::ShowPage(q)))
                .await
                .map_err(|_| RouteQueryError::Gone)?;
            rx.await.map_err(|_| RouteQueryError::Gone)
        };
        tokio::time::timeout(self.timeout, ask)
            .await
            .unwrap_or(Err(RouteQueryError::Timeout))
    }
}

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
    /// Where `show route` asks for routes.
    pub routes: RouteSource,
    /// Set to true by `down`.
    pub shutdown: watch::Sender<bool>,
    /// Where `configure` sends reload requests; `None`: reloads are not served.
    pub reload: Option<crate::reload::ReloadSender>,
    /// The FIB task (`kernel1`, `device1`); `None` when kernel writes are off.
    pub kernel: Option<KernelView>,
    /// Our graceful-restart recovery (`-R`); `None` when started without it.
    pub recovery: Option<Arc<crate::recovery::Recovery>>,
    /// How `configure` reads a file: as the running configuration was read (TOML, or BIRD
    /// text for the same family).
    pub config_format: crate::reload::Format,
    /// The direct protocol's `interface` patterns of a BIRD configuration; `None`: Calico's
    /// (`-"cali*", -"kube-ipvs*", "*"`).
    pub direct_interfaces: Option<Vec<conf::InterfacePattern>>,
    /// The BFD sessions (`show bfd sessions`); `None` when the daemon runs no BFD manager.
    pub bfd: Option<crate::bfd::SessionsView>,
    /// The node's interfaces and addresses (`show interfaces`, `direct1`): the daemon's one
    /// interface table.
    pub interfaces: fib_sync::InterfaceReceiver,
}

impl ControlState {
    /// The recovery, while it lasts.
    pub fn recovering(&self) -> Option<&crate::recovery::Recovery> {
        self.recovery.as_deref().filter(|r| r.active())
    }
}

/// The FIB task as the control socket sees it: BIRD's `kernel1` (routes to the kernel) and
/// `device1` (fib-sync's link and address tracking).
#[derive(Debug, Clone)]
pub struct KernelView {
    pub counters: Arc<crate::fib::FibCounters>,
    /// When the task started (the rows' `since`).
    pub since: SystemTime,
    /// The same moment, for the recovery wait timer.
    pub started: std::time::Instant,
}

impl KernelView {
    /// Graceful-restart recovery (RFC 4724 §4.1, the restarting speaker keeps its forwarding
    /// state): the routes a previous run left in the kernel are kept and the FIB task defers
    /// the reconciliation that removes the stale ones until the RIB has converged.
    pub fn recovering(&self) -> bool {
        !self
            .counters
            .converged
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Enabled peers the RIB still waits for (not Established, or an End-of-RIB missing).
    pub fn holding(&self) -> usize {
        usize::try_from(
            self.counters
                .holding
                .load(std::sync::atomic::Ordering::Relaxed),
        )
        .unwrap_or(usize::MAX)
    }

    /// Seconds left before the FIB task stops waiting, and the whole wait.
    pub fn wait_timer(&self) -> (u64, u64) {
        let total = crate::fib::STARTUP_WAIT;
        let left = total.saturating_sub(self.started.elapsed());
        (left.as_secs(), total.as_secs())
    }
}

/// The control sockets' current state; a reload publishes a new one (new peers, names).
pub type StateWatch = watch::Receiver<Arc<ControlState>>;

pub use crate::route_view::Family;

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

impl<'a> Selection<'a> {
    /// The selected peers, or `None` after answering BIRD's error for an empty selection on `f`
    /// (`9002 X is not a protocol`, `8003 No protocols match`).
    pub fn or_reply(self, f: &mut Framer) -> Option<Vec<&'a PeerView>> {
        match self {
            Selection::Peers(p) => Some(p),
            Selection::NotAProtocol(n) => {
                f.end(code::INVALID_SYMBOL, &format!("{n} is not a protocol"));
                None
            }
            Selection::NoMatch => {
                f.end(code::NO_PROTOCOLS_MATCH, "No protocols match");
                None
            }
        }
    }
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

    /// Asks the RIB actor for this family's routes that `filter` selects.
    pub fn routes(&self, mut filter: RouteFilter) -> Result<RouteReply, RouteQueryError> {
        filter.family = Some(self.family);
        self.state.routes.query(filter)
    }
}
