//! The FIB task: Loc-RIB changes in, kernel routes out (through `fib-sync`).
//!
//! For every prefix whose selection changed, [`Translator`] gathers the facts `policy::program`
//! needs (the IP pool the prefix falls in, whether it is one of our own blocks, the next hops of
//! the selected ECMP set, the node's connected subnets) and turns the answer into
//! `fib_sync::RouteDelta`s:
//! - `Direct` → a route via the next hop (the kernel resolves the device);
//! - `IpIp` → an `onlink` route via the next hop on `[kernel].tunnel_interface` (`tunl0`);
//! - several next hops → one multipath route (ECMP);
//! - `VxlanSkip` for any next hop → Felix owns the prefix: we remove ours if we had one;
//! - no usable next hop → removed if we had installed it.
//!
//! Our own `local_blocks` are blackholed from the configuration as soon as the task starts
//! (whatever the Loc-RIB says about them). Deltas of one Loc-RIB batch are coalesced per prefix.
//!
//! Startup without a gap: `fib-sync` keeps the routes a previous run left in the kernel
//! (persist) until [`fib_sync::FibSync::reconcile`] says which are stale. The task applies
//! changes incrementally from the start (an unchanged route is not rewritten) and, when the
//! kernel held routes of ours at start, reconciles with the full desired set once the RIB has
//! converged, which is the first of:
//! - every enabled peer is Established and has sent as many End-of-RIB markers as it
//!   negotiated families (RFC 4724 §2), and no Loc-RIB batch arrived for [`QUIET`]; a
//!   configuration without peers converges at once;
//! - [`STARTUP_WAIT`] after the start (a peer that stays down must not keep stale routes for
//!   ever).
//!
//! During our own graceful-restart recovery (`-R`, [`crate::recovery`]) neither applies before
//! the recovery ends.
//!
//! Connected-subnet changes (fib-sync's address events) re-evaluate the routes of pools whose
//! IP-in-IP or VXLAN mode is `CrossSubnet`.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use conf::Config;
use fib_sync::{
    FibConfig, FibError, FibSync, InterfaceReceiver, NextHop, Pending, Route, RouteDelta,
};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use policy::program::{program, EncapMode, PoolEncap, Programming, RouteFacts};
use rib::LocRibChange;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::fsm::State;
use crate::stats::PeerStats;
use crate::status::PeerStatus;
use kernel_filter::{Decided, KernelFilter};

/// Capacity of the RIB → FIB channel, in batches. The RIB actor awaits when it is full, so a
/// slow kernel slows the RIB instead of queueing without bound. Small on purpose: a batch can
/// hold tens of thousands of changes of ~200 octets each (measured with heaptrack while
/// loading 100k routes), and the kernel, not the RIB, is the slow stage.
pub const FIB_QUEUE: usize = 2;
/// Longest wait for the RIB to converge before the startup reconciliation.
pub const STARTUP_WAIT: Duration = Duration::from_secs(15);
/// Quiet time after the last Loc-RIB batch before convergence is declared.
pub const QUIET: Duration = Duration::from_millis(300);
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
    /// Prefixes left to Felix (VXLAN).
    pub vxlan_skipped: AtomicU64,
    /// Prefixes we currently want in the kernel (blackholes included).
    pub desired: AtomicU64,
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
        for (prefix, e) in &report.failed {
            warn!(event = "fib_route_failed", %prefix, error = %e, "kernel refused a route");
        }
        for (prefix, e) in &report.deferred {
            debug!(event = "fib_route_deferred", %prefix, error = %e, "route waits for a dependency");
        }
    }
}

/// One next hop of a prefix's selection and, with the BIRD front end, how its kernel filter
/// decided to install it (`None`: the IP pool's mode decides, `policy::program`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Hop {
    addr: IpAddr,
    decided: Option<Decided>,
    /// A link-local gateway's device ([`link_local`]), by index in [`Translator::devices`].
    link: Option<u16>,
}

/// Index of an interned next-hop set in [`HopSets`].
type HopSetId = u32;

/// The distinct next-hop sets (the selected ECMP set of a prefix), interned: a Calico node sees
/// about as many sets as it has peers, while a prefix only keeps a 4-octet id (24 octets per
/// map slot instead of 48 with the set inline; measured 85 octets per route before).
#[derive(Debug, Default)]
struct HopSets {
    /// Set and how many prefixes use it; a set no prefix uses is on `free`.
    sets: Vec<(Box<[Hop]>, u32)>,
    index: HashMap<Box<[Hop]>, HopSetId>,
    free: Vec<HopSetId>,
    /// The set interned last, plus one: a table load repeats one set for thousands of prefixes
    /// in a row, and comparing with it costs less than hashing (0: none yet).
    last: HopSetId,
}

impl HopSets {
    fn get(&self, id: HopSetId) -> &[Hop] {
        self.sets.get(id as usize).map_or(&[], |(s, _)| s)
    }

    fn intern(&mut self, hops: &[Hop]) -> HopSetId {
        if let Some(id) = self.last.checked_sub(1) {
            if self
                .sets
                .get(id as usize)
                .is_some_and(|(s, refs)| *refs > 0 && **s == *hops)
            {
                self.hold(id);
                return id;
            }
        }
        if let Some(id) = self.index.get(hops).copied() {
            self.hold(id);
            self.last = id.saturating_add(1);
            return id;
        }
        let set: Box<[Hop]> = Box::from(hops);
        let id = match self.free.pop() {
            Some(id) => {
                if let Some(slot) = self.sets.get_mut(id as usize) {
                    *slot = (set.clone(), 1);
                }
                id
            }
            None => {
                self.sets.push((set.clone(), 1));
                HopSetId::try_from(self.sets.len() - 1).unwrap_or(HopSetId::MAX)
            }
        };
        self.index.insert(set, id);
        self.last = id.saturating_add(1);
        id
    }

    /// One more user of `id`.
    fn hold(&mut self, id: HopSetId) {
        if let Some(slot) = self.sets.get_mut(id as usize) {
            slot.1 += 1;
        }
    }

    fn release(&mut self, id: HopSetId) {
        let Some(slot) = self.sets.get_mut(id as usize) else {
            return;
        };
        slot.1 = slot.1.saturating_sub(1);
        if slot.1 == 0 {
            let set = std::mem::take(&mut slot.0);
            self.index.remove(&set);
            self.free.push(id);
        }
    }
}

/// A map keyed by prefix, one B-tree per family under a compact key (5 octets for IPv4
/// instead of `IpNet`'s 18): at 1M IPv4 routes with a 4-octet value about 25 MB (leaves of 112
/// octets, 6 entries each under in-order inserts) where a `HashMap<IpNet, u32>` took about
/// 52 MB (2M slots of 24 octets plus control bytes).
#[derive(Debug)]
struct PrefixMap<V> {
    v4: BTreeMap<Ipv4Net, V>,
    v6: BTreeMap<Ipv6Net, V>,
}

impl<V> Default for PrefixMap<V> {
    fn default() -> Self {
        PrefixMap {
            v4: BTreeMap::new(),
            v6: BTreeMap::new(),
        }
    }
}

impl<V: Copy> PrefixMap<V> {
    fn get(&self, prefix: &IpNet) -> Option<V> {
        match prefix {
            IpNet::V4(p) => self.v4.get(p).copied(),
            IpNet::V6(p) => self.v6.get(p).copied(),
        }
    }

    fn insert(&mut self, prefix: IpNet, value: V) -> Option<V> {
        match prefix {
            IpNet::V4(p) => self.v4.insert(p, value),
            IpNet::V6(p) => self.v6.insert(p, value),
        }
    }

    fn remove(&mut self, prefix: &IpNet) -> Option<V> {
        match prefix {
            IpNet::V4(p) => self.v4.remove(p),
            IpNet::V6(p) => self.v6.remove(p),
        }
    }

    fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    fn iter(&self) -> impl Iterator<Item = (IpNet, V)> + '_ {
        self.v4
            .iter()
            .map(|(p, v)| (IpNet::V4(*p), *v))
            .chain(self.v6.iter().map(|(p, v)| (IpNet::V6(*p), *v)))
    }
}

/// The pure part: Loc-RIB changes and connected-subnet changes → kernel deltas.
#[derive(Debug)]
pub struct Translator {
    /// Pools, longest prefix first.
    pools: Vec<(IpNet, PoolEncap)>,
    local_blocks: Vec<IpNet>,
    /// What we install of our own: the blackholes of `local_blocks` (TOML), or the static
    /// protocol's routes that the kernel filter accepts (BIRD front end).
    local: Vec<Route>,
    /// The BIRD front end's kernel export filter; `None` with TOML (pools decide).
    kernel: Option<KernelFilter>,
    /// The `fib-sync` settings (the tunnel device for IP-in-IP next hops, persist).
    tunnel: FibConfig,
    connected: Vec<IpNet>,
    /// The next hops of every learned prefix (also those we do not program: a connected
    /// subnet change may make them programmable).
    routes: PrefixMap<HopSetId>,
    hop_sets: HopSets,
    vxlan_skipped: usize,
    /// Each linked peer's device, for link-local next hops.
    links: link_local::PeerLinks,
    devices: link_local::Devices,
}

fn encap(mode: conf::EncapMode) -> EncapMode {
    match mode {
        conf::EncapMode::Always => EncapMode::Always,
        conf::EncapMode::CrossSubnet => EncapMode::CrossSubnet,
        conf::EncapMode::Never => EncapMode::Never,
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

impl Translator {
    /// A translator for `config`'s pools, blocks and tunnel device; no connected subnets yet.
    pub fn new(config: &Config) -> Self {
        let mut pools: Vec<(IpNet, PoolEncap)> = config
            .ip_pools
            .iter()
            .map(|p| {
                (
                    p.cidr.trunc(),
                    PoolEncap {
                        ipip: encap(p.ipip_mode),
                        vxlan: encap(p.vxlan_mode),
                    },
                )
            })
            .collect();
        pools.sort_by_key(|p| std::cmp::Reverse(p.0.prefix_len()));
        let local_blocks: Vec<IpNet> = config.local_blocks.iter().map(IpNet::trunc).collect();
        let mut kernel = KernelFilter::new(config);
        let local = match (&mut kernel, &config.bird) {
            (Some(k), Some(b)) => k.static_routes(&b.static_routes),
            _ => local_blocks.iter().map(|b| Route::blackhole(*b)).collect(),
        };
        Translator {
            pools,
            local_blocks,
            local,
            kernel,
            tunnel: fib_config(config),
            connected: Vec::new(),
            routes: PrefixMap::default(),
            hop_sets: HopSets::default(),
            vxlan_skipped: 0,
            links: link_local::PeerLinks::default(),
            devices: link_local::Devices::default(),
        }
    }

    /// The peers' links (shared with the RIB actor, which fills it as sessions come up).
    pub fn set_links(&mut self, links: link_local::PeerLinks) {
        self.links = links;
    }

    /// Next hops of routes learned over a link that are link-local: the gateway becomes the
    /// link-local address, on the peer's device.
    fn link_hops(&mut self, routes: &[rib::SelectedRoute], hops: &mut [Hop]) {
        for r in routes.iter().filter(|r| r.peer.is_some()) {
            let Some((nh, ll, dev)) = link_local::gateway(r, &self.links) else {
                continue;
            };
            let link = self.devices.index(&dev);
            for h in hops.iter_mut().filter(|h| h.addr == nh && h.link.is_none()) {
                h.addr = ll;
                h.link = link;
            }
        }
    }

    /// Prefixes learned from the Loc-RIB (programmed or not).
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// `true` when nothing was learned.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Prefixes currently left to Felix.
    pub fn vxlan_skipped(&self) -> usize {
        self.vxlan_skipped
    }

    /// The blackholes of our own blocks.
    pub fn local_routes(&self) -> Vec<Route> {
        self.local.clone()
    }

    /// Everything we want in the kernel: our blackholes and every programmable learned route.
    pub fn desired(&self) -> Vec<Route> {
        let mut all = self.local_routes();
        all.extend(
            self.routes
                .iter()
                .filter_map(|(prefix, id)| self.route_for(prefix, self.hop_sets.get(id))),
        );
        all
    }

    fn is_local_block(&self, prefix: &IpNet) -> bool {
        self.local_blocks.contains(prefix)
    }

    fn pool_of(&self, prefix: &IpNet) -> Option<PoolEncap> {
        self.pools
            .iter()
            .find(|(cidr, _)| cidr.contains(prefix))
            .map(|(_, e)| *e)
    }

    /// The kernel route for `prefix` via `hops`, or `None` when nothing is to be installed.
    fn route_for(&self, prefix: IpNet, hops: &[Hop]) -> Option<Route> {
        self.route_in(self.pool_of(&prefix), prefix, hops)
    }

    /// [`Translator::route_for`] with the prefix's pool given.
    fn route_in(&self, pool: Option<PoolEncap>, prefix: IpNet, hops: &[Hop]) -> Option<Route> {
        let mut nexthops: Vec<NextHop> = Vec::with_capacity(hops.len());
        let mut metric = None;
        for hop in hops {
            let via = &hop.addr;
            if let Some(i) = hop
                .link
                .filter(|_| hop.decided.is_none_or(|d| d.onlink.is_none()))
            {
                if let Some(d) = hop.decided {
                    metric = d.metric;
                }
                let nh = NextHop::on_device(*via, self.devices.name(i));
                if !nexthops.contains(&nh) {
                    nexthops.push(nh);
                }
                continue;
            }
            if let (Some(d), Some(k)) = (hop.decided, &self.kernel) {
                metric = d.metric;
                let nh = k.next_hop(*via, d);
                if !nexthops.contains(&nh) {
                    nexthops.push(nh);
                }
                continue;
            }
            let facts = RouteFacts {
                prefix,
                next_hop: Some(*via),
                local_block: false,
                pool,
                connected: &self.connected,
            };
            let nh = match program(&facts) {
                Programming::Direct { via } => NextHop::direct(via),
                Programming::IpIp { via } => self.tunnel.tunnel_nexthop(via),
                // Felix programs VXLAN pools: installing part of an ECMP set would fight it.
                Programming::VxlanSkip => return None,
                Programming::Blackhole | Programming::None => continue,
            };
            if !nexthops.contains(&nh) {
                nexthops.push(nh);
            }
        }
        (!nexthops.is_empty()).then(|| Route::via(prefix, nexthops).with_metric(metric))
    }

    /// `route_for(prefix, hops).is_some()`, without building the route.
    fn installable(&self, prefix: IpNet, hops: &[Hop]) -> bool {
        let pool = self.pool_of(&prefix);
        let mut any = false;
        for hop in hops {
            if hop.decided.is_some() {
                any = true;
                continue;
            }
            match program(&RouteFacts {
                prefix,
                next_hop: Some(hop.addr),
                local_block: false,
                pool,
                connected: &self.connected,
            }) {
                Programming::VxlanSkip => return false,
                Programming::Direct { .. } | Programming::IpIp { .. } => any = true,
                Programming::Blackhole | Programming::None => {}
            }
        }
        any
    }

    fn is_vxlan(&self, prefix: IpNet, hops: &[Hop]) -> bool {
        self.is_vxlan_in(self.pool_of(&prefix), prefix, hops)
    }

    fn is_vxlan_in(&self, pool: Option<PoolEncap>, prefix: IpNet, hops: &[Hop]) -> bool {
        hops.iter().filter(|h| h.decided.is_none()).any(|h| {
            program(&RouteFacts {
                prefix,
                next_hop: Some(h.addr),
                local_block: false,
                pool,
                connected: &self.connected,
            }) == Programming::VxlanSkip
        })
    }

    /// The deltas for one Loc-RIB batch, at most one per prefix (the last change wins).
    pub fn apply_changes(
        &mut self,
        changes: impl IntoIterator<Item = LocRibChange>,
    ) -> Vec<RouteDelta> {
        let changes = changes.into_iter();
        // The next-hop set each touched prefix had before the batch, held so that its id stays
        // valid. Within a batch the connected subnets do not change, so a prefix's route is a
        // function of its (interned) set: equal ids mean an unchanged route.
        // A vector, not a map: the RIB sends at most one change per prefix, so duplicates are
        // rare and dropped after a sort (which finds the batch already in prefix order).
        let mut before: Vec<(IpNet, Option<HopSetId>)> = Vec::with_capacity(changes.size_hint().0);
        let mut hops: Vec<Hop> = Vec::new();
        let mut decided: Vec<(IpAddr, Decided)> = Vec::new();
        for change in changes {
            let prefix = change.prefix.trunc();
            // Our own blocks are blackholed from the configuration, whatever the Loc-RIB says.
            if self.is_local_block(&prefix) {
                continue;
            }
            // Routes learned from peers only: what we originate (services, static routes) is
            // not ours to install.
            hops.clear();
            if let Some(k) = &mut self.kernel {
                k.hops(prefix, &change.routes, &mut decided);
                hops.extend(decided.iter().map(|(addr, d)| Hop {
                    addr: *addr,
                    decided: Some(*d),
                    link: None,
                }));
            } else {
                for r in change.routes.iter().filter(|r| r.peer.is_some()) {
                    if let Some(nh) = r.next_hop {
                        if !hops.iter().any(|h| h.addr == nh) {
                            hops.push(Hop {
                                addr: nh,
                                decided: None,
                                link: None,
                            });
                        }
                    }
                }
            }
            self.link_hops(&change.routes, &mut hops);
            let old = self.routes.get(&prefix);
            if let Some(id) = old {
                self.hop_sets.hold(id);
            }
            before.push((prefix, old));
            self.set_hops(prefix, &hops);
        }
        // Keep each prefix's first entry: its state before the batch.
        before.sort_by_key(|(prefix, _)| *prefix);
        let mut deltas = Vec::with_capacity(before.len());
        let mut last: Option<IpNet> = None;
        for (prefix, old) in before {
            if last == Some(prefix) {
                if let Some(id) = old {
                    self.hop_sets.release(id);
                }
                continue;
            }
            last = Some(prefix);
            let new = self.routes.get(&prefix);
            if old != new {
                let was_installed =
                    old.is_some_and(|id| self.installable(prefix, self.hop_sets.get(id)));
                match new.and_then(|id| self.route_for(prefix, self.hop_sets.get(id))) {
                    Some(route) => deltas.push(RouteDelta::Install(route)),
                    None if was_installed => deltas.push(RouteDelta::Remove(prefix)),
                    None => {}
                }
            }
            if let Some(id) = old {
                self.hop_sets.release(id);
            }
        }
        deltas
    }

    /// Sets the next hops of `prefix` (none: the prefix left the Loc-RIB).
    fn set_hops(&mut self, prefix: IpNet, hops: &[Hop]) {
        let old = if hops.is_empty() {
            self.routes.remove(&prefix)
        } else {
            let vx = self.is_vxlan(prefix, hops);
            self.vxlan_skipped += usize::from(vx);
            let id = self.hop_sets.intern(hops);
            self.routes.insert(prefix, id)
        };
        if let Some(id) = old {
            if self.is_vxlan(prefix, self.hop_sets.get(id)) {
                self.vxlan_skipped = self.vxlan_skipped.saturating_sub(1);
            }
            self.hop_sets.release(id);
        }
    }

    /// A reloaded configuration: new IP pools and own blocks (the `[kernel]` settings apply at
    /// the next start). Returns the deltas: blackholes for added blocks, removals for removed
    /// ones (a peer's route for such a prefix comes with the RIB's next batch), and every
    /// learned route whose pool's mode changed, re-programmed.
    pub fn reconfigure(&mut self, config: &Config) -> Vec<RouteDelta> {
        let fresh = Translator::new(config);
        let old_pools = std::mem::replace(&mut self.pools, fresh.pools);
        self.local_blocks = fresh.local_blocks;
        let old_local = std::mem::replace(&mut self.local, fresh.local);
        match (&mut self.kernel, fresh.kernel) {
            (Some(k), Some(new)) if !k.same_program(&new) => {
                // The routes already installed keep their decision until their next change:
                // the Loc-RIB is not re-read here.
                warn!(
                    event = "kernel_filter_changed",
                    "kernel export filter changed: applies to routes as they change"
                );
                k.replace_program(new);
            }
            (Some(_), Some(_)) => {}
            (k, new) => *k = new,
        }
        let mut deltas = Vec::new();
        for r in &old_local {
            if !self.local.iter().any(|n| n.prefix == r.prefix) {
                deltas.push(RouteDelta::Remove(r.prefix));
            }
        }
        for r in self.local.clone() {
            if old_local.contains(&r) {
                continue;
            }
            // Learned before it became ours: our route replaces it.
            if let Some(id) = self.routes.remove(&r.prefix) {
                if self.is_vxlan(r.prefix, self.hop_sets.get(id)) {
                    self.vxlan_skipped = self.vxlan_skipped.saturating_sub(1);
                }
                self.hop_sets.release(id);
            }
            deltas.push(RouteDelta::Install(r));
        }
        if old_pools != self.pools {
            let pool_in = |pools: &[(IpNet, PoolEncap)], prefix: &IpNet| {
                pools
                    .iter()
                    .find(|(cidr, _)| cidr.contains(prefix))
                    .map(|(_, e)| *e)
            };
            let mut vxlan = 0;
            for (prefix, id) in self.routes.iter() {
                let hops = self.hop_sets.get(id);
                let (old, new) = (pool_in(&old_pools, &prefix), self.pool_of(&prefix));
                vxlan += usize::from(self.is_vxlan_in(new, prefix, hops));
                if old != new {
                    let before = self.route_in(old, prefix, hops);
                    let after = self.route_in(new, prefix, hops);
                    push_delta(&mut deltas, prefix, before, after);
                }
            }
            self.vxlan_skipped = vxlan;
        }
        deltas
    }

    /// New connected subnets: the deltas for routes whose programming depends on them (pools
    /// with a `CrossSubnet` mode).
    pub fn set_connected(&mut self, mut connected: Vec<IpNet>) -> Vec<RouteDelta> {
        connected.sort();
        connected.dedup();
        if connected == self.connected {
            return Vec::new();
        }
        let depends =
            |e: &PoolEncap| e.ipip == EncapMode::CrossSubnet || e.vxlan == EncapMode::CrossSubnet;
        let affected: Vec<IpNet> = if self.pools.iter().any(|(_, e)| depends(e)) {
            self.routes
                .iter()
                .map(|(p, _)| p)
                .filter(|p| self.pool_of(p).is_some_and(|e| depends(&e)))
                .collect()
        } else {
            Vec::new()
        };
        let old: Vec<(IpNet, Option<Route>, bool)> = affected
            .iter()
            .filter_map(|p| {
                let h = self.hop_sets.get(self.routes.get(p)?);
                Some((*p, self.route_for(*p, h), self.is_vxlan(*p, h)))
            })
            .collect();
        self.connected = connected;
        let mut deltas = Vec::new();
        for (prefix, before, was_vxlan) in old {
            let Some(h) = self.routes.get(&prefix).map(|id| self.hop_sets.get(id)) else {
                continue;
            };
            let now_vxlan = self.is_vxlan(prefix, h);
            let after = self.route_for(prefix, h);
            if was_vxlan != now_vxlan {
                if now_vxlan {
                    self.vxlan_skipped += 1;
                } else {
                    self.vxlan_skipped = self.vxlan_skipped.saturating_sub(1);
                }
            }
            push_delta(&mut deltas, prefix, before, after);
        }
        deltas
    }
}

fn push_delta(deltas: &mut Vec<RouteDelta>, prefix: IpNet, old: Option<Route>, new: Option<Route>) {
    match (old, new) {
        (Some(_), None) => deltas.push(RouteDelta::Remove(prefix)),
        (old, Some(new)) if old.as_ref() != Some(&new) => deltas.push(RouteDelta::Install(new)),
        _ => {}
    }
}

/// What the startup reconciliation waits for, per configured peer.
#[derive(Debug, Clone)]
pub struct PeerGate {
    pub status: watch::Receiver<PeerStatus>,
    pub stats: Arc<PeerStats>,
}

fn peers_converged(gates: &[PeerGate]) -> bool {
    gates
        .iter()
        .all(|g| peer_converged(&g.status.borrow(), &g.stats))
}

/// One peer no longer holds the startup reconciliation: disabled, or Established with an
/// End-of-RIB marker for every negotiated family (RFC 4724 §2).
pub fn peer_converged(st: &PeerStatus, stats: &PeerStats) -> bool {
    if !st.enabled {
        return true;
    }
    match (&st.established, st.state) {
        (Some(info), State::Established) => {
            let want = u64::try_from(info.negotiated.families.len()).unwrap_or(u64::MAX);
            PeerStats::get(&stats.end_of_rib_received) >= want
        }
        _ => false,
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
    /// spawns the task. The returned sender is the RIB actor's Loc-RIB channel.
    pub async fn spawn(
        config: &Config,
        gates: Vec<PeerGate>,
        recovery: Option<Arc<crate::recovery::Recovery>>,
        interfaces: InterfaceReceiver,
        links: link_local::PeerLinks,
    ) -> Result<(mpsc::Sender<Vec<LocRibChange>>, FibTask), FibError> {
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
            .into_iter()
            .map(RouteDelta::Install)
            .collect();
        if !blackholes.is_empty() {
            counters.record(&fib.apply(blackholes).await?);
        }
        let (tx, rx) = mpsc::channel(FIB_QUEUE);
        let (stop_tx, stop_rx) = oneshot::channel();
        let run = Runner {
            fib,
            translator,
            counters: counters.clone(),
            gates,
            recovery,
        };
        if inherited == 0 {
            counters.converged.store(true, Ordering::Relaxed);
        }
        let started = std::time::Instant::now();
        let (reload_tx, reload_rx) = mpsc::channel(1);
        let task = tokio::spawn(run.run(rx, reload_rx, interfaces, stop_rx, inherited > 0));
        Ok((
            tx,
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
    gates: Vec<PeerGate>,
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
        self.publish();
    }

    /// Records the outcome of one batch.
    fn done(&mut self, result: Result<fib_sync::ApplyReport, FibError>) {
        match result {
            Ok(report) => self.counters.record(&report),
            Err(e) => warn!(event = "fib_apply_failed", error = %e, "kernel batch failed"),
        }
        self.publish();
    }

    fn publish(&self) {
        let desired = self.translator.len() + self.translator.local.len();
        self.counters.desired.store(
            u64::try_from(desired).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.counters.vxlan_skipped.store(
            u64::try_from(self.translator.vxlan_skipped()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    async fn reconcile(&mut self) {
        let desired = self.translator.desired();
        let n = desired.len();
        match self.fib.reconcile(desired).await {
            Ok(report) => {
                info!(
                    event = "fib_reconciled",
                    desired = n,
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

    async fn refresh_connected(&mut self, connected: Vec<IpNet>) {
        let deltas = self.translator.set_connected(connected);
        if !deltas.is_empty() {
            info!(
                event = "fib_connected_changed",
                routes = deltas.len(),
                "connected subnets changed: routes re-evaluated"
            );
        }
        self.apply(deltas).await;
    }

    async fn run(
        mut self,
        mut rx: mpsc::Receiver<Vec<LocRibChange>>,
        mut reload: mpsc::Receiver<Arc<Config>>,
        mut interfaces: InterfaceReceiver,
        mut stop: oneshot::Receiver<()>,
        reconcile_at_start: bool,
    ) {
        let started = Instant::now();
        let mut last_batch = started;
        let mut converged = !reconcile_at_start;
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        let mut in_flight: VecDeque<Pending> = VecDeque::with_capacity(IN_FLIGHT);
        loop {
            tokio::select! {
                // In this order: a reload is applied before the Loc-RIB batches the RIB sends
                // after its own reconfiguration (the reloader tells us first).
                biased;
                _ = &mut stop => break,
                Some(config) = reload.recv() => {
                    let deltas = self.translator.reconfigure(&config);
                    info!(event = "fib_reconfigured", routes = deltas.len(),
                        "pools and blocks reloaded: routes re-programmed");
                    self.apply(deltas).await;
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
                batch = rx.recv() => {
                    let Some(batch) = batch else { break };
                    self.counters.batches.fetch_add(1, Ordering::Relaxed);
                    last_batch = Instant::now();
                    debug!(event = "fib_batch", changes = batch.len(), "Loc-RIB batch");
                    // In slices: the kernel gets the first routes of a big batch sooner, and
                    // fewer deltas wait in flight.
                    let mut changes = batch.into_iter();
                    loop {
                        let deltas = self.translator.apply_changes(changes.by_ref().take(SLICE));
                        if deltas.is_empty() && changes.len() == 0 {
                            break;
                        }
                        self.submit(deltas, &mut in_flight).await;
                    }
                }
                () = fib_sync::watch::changed(&mut interfaces) => {
                    let connected = interfaces.borrow_and_update().connected();
                    self.refresh_connected(connected).await;
                }
                _ = tick.tick(), if !converged => {
                    let now = Instant::now();
                    let quiet = now.duration_since(last_batch) >= QUIET;
                    let recovering = self.recovery.as_ref().is_some_and(|r| r.active());
                    if !recovering
                        && ((quiet && peers_converged(&self.gates))
                            || now.duration_since(started) >= STARTUP_WAIT)
                    {
                        converged = true;
                        self.reconcile().await;
                    }
                }
            }
        }
        for pending in in_flight {
            let result = pending.await;
            self.done(result);
        }
        let persist = self.translator.tunnel.persist;
        match self.fib.stop().await {
            Ok(removed) => info!(event = "fib_stopped", removed, persist, "FIB task stopped"),
            Err(e) => warn!(event = "fib_stop_failed", error = %e, "FIB clean-up failed"),
        }
    }
}

mod kernel_filter;
pub mod link_local;

#[cfg(test)]
mod bird_tests;
#[cfg(test)]
mod tests;
