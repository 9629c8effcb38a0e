//! Loc-RIB changes → kernel deltas, without a copy of the table.
//!
//! The translator holds only configuration-sized state (IP pools, our own routes, the BIRD
//! kernel filter, the connected subnets) and turns each Loc-RIB change into one delta for its
//! prefix: `Install` of the route the selection programs, or `Remove` when it programs
//! nothing. Whether that changes the kernel is `fib-sync`'s business (its table is the only
//! per-prefix record of what we want and what the kernel holds; an unchanged route is not
//! rewritten, a removal of a prefix we never installed writes nothing).
//!
//! When something the decision depends on changes (the pools or our blocks on reload, the
//! connected subnets for `CrossSubnet` pools), the translator names the networks whose routes
//! must be decided again and the FIB task asks the RIB to feed their current selection again
//! ([`crate::rib_actor::RibRequest::Refeed`]).

use std::net::IpAddr;

use conf::Config;
use fib_sync::{FibConfig, NextHop, Route, RouteDelta};
use ipnet::IpNet;
use policy::program::{program_set, EncapMode, PoolEncap, Programming, SetProgramming};
use rib::LocRibChange;
use tracing::warn;

use super::kernel_filter::{Decided, KernelFilter};
use super::link_local::{self, Devices, PeerLinks};

/// What a reload changes on the kernel path.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reprogram {
    /// Our own routes added, changed or gone.
    pub deltas: Vec<RouteDelta>,
    /// Networks whose learned routes must be decided again (the RIB feeds them again).
    pub refeed: Vec<IpNet>,
}

/// The pure part: Loc-RIB changes and configuration → kernel deltas.
#[derive(Debug)]
pub struct Translator {
    /// Pools, longest prefix first.
    pools: Vec<(IpNet, PoolEncap)>,
    /// What we install of our own: the blackholes of `local_blocks` (TOML), or the static
    /// protocol's routes that the kernel filter accepts (BIRD front end).
    local: Vec<Route>,
    /// The prefixes of `local` and of `local_blocks`, sorted: the Loc-RIB's word on them is
    /// not ours to install.
    local_prefixes: Vec<IpNet>,
    /// The BIRD front end's kernel export filter; `None` with TOML (pools decide).
    kernel: Option<KernelFilter>,
    /// The `fib-sync` settings (the tunnel device for IP-in-IP next hops, persist).
    pub(super) fib: FibConfig,
    connected: Vec<IpNet>,
    /// Each linked peer's device, for link-local next hops ([`link_local`]).
    links: PeerLinks,
    devices: Devices,
    /// Scratch space, reused from prefix to prefix.
    hops: Vec<IpAddr>,
    decided: Vec<(IpAddr, Decided)>,
    programmed: Vec<Programming>,
}

fn encap(mode: conf::EncapMode) -> EncapMode {
    match mode {
        conf::EncapMode::Always => EncapMode::Always,
        conf::EncapMode::CrossSubnet => EncapMode::CrossSubnet,
        conf::EncapMode::Never => EncapMode::Never,
    }
}

/// `true` when the pool's programming depends on the connected subnets.
fn cross_subnet(e: &PoolEncap) -> bool {
    e.ipip == EncapMode::CrossSubnet || e.vxlan == EncapMode::CrossSubnet
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
        let local: Vec<Route> = match (&mut kernel, &config.bird) {
            (Some(k), Some(b)) => k.static_routes(&b.static_routes),
            _ => local_blocks.iter().map(|b| Route::blackhole(*b)).collect(),
        };
        let mut local_prefixes: Vec<IpNet> =
            local.iter().map(|r| r.prefix).chain(local_blocks).collect();
        local_prefixes.sort();
        local_prefixes.dedup();
        Translator {
            pools,
            local,
            local_prefixes,
            kernel,
            fib: super::fib_config(config),
            connected: Vec::new(),
            links: PeerLinks::default(),
            devices: Devices::default(),
            hops: Vec::new(),
            decided: Vec::new(),
            programmed: Vec::new(),
        }
    }

    /// The peers' links (shared with the RIB actor, which fills it as sessions come up).
    pub fn set_links(&mut self, links: PeerLinks) {
        self.links = links;
    }

    /// The next hop to install for `addr` when a route of the selection learned over a link
    /// has it with a link-local address (RFC 2545 §3): that address on the peer's device.
    fn on_link(&mut self, change: &LocRibChange, addr: IpAddr) -> Option<NextHop> {
        change
            .routes
            .iter()
            .filter(|r| r.peer.is_some())
            .filter_map(|r| link_local::gateway(r, &self.links))
            .find(|(nh, _, _)| *nh == addr)
            .and_then(|(_, ll, dev)| {
                let i = self.devices.index(&dev)?;
                Some(NextHop::on_device(ll, self.devices.name(i)))
            })
    }

    /// Our own routes (the blackholes of our blocks, or the BIRD static protocol's routes).
    pub fn local_routes(&self) -> &[Route] {
        &self.local
    }

    fn is_local(&self, prefix: &IpNet) -> bool {
        self.local_prefixes.binary_search(prefix).is_ok()
    }

    fn pool_of(&self, prefix: &IpNet) -> Option<PoolEncap> {
        self.pools
            .iter()
            .find(|(cidr, _)| cidr.contains(prefix))
            .map(|(_, e)| *e)
    }

    /// The delta for one Loc-RIB change; `None` for our own prefixes (installed from the
    /// configuration, whatever the Loc-RIB says about them).
    pub fn delta(&mut self, change: &LocRibChange) -> Option<RouteDelta> {
        let prefix = change.prefix.trunc();
        if self.is_local(&prefix) {
            return None;
        }
        Some(match self.route(prefix, change) {
            Some(route) => RouteDelta::Install(route),
            None => RouteDelta::Remove(prefix),
        })
    }

    /// The deltas for a batch of changes, one per change, in order.
    pub fn apply_changes(
        &mut self,
        changes: impl IntoIterator<Item = LocRibChange>,
    ) -> Vec<RouteDelta> {
        let changes = changes.into_iter();
        let mut out = Vec::with_capacity(changes.size_hint().0);
        for c in changes {
            out.extend(self.delta(&c));
        }
        out
    }

    /// The kernel route for `prefix`'s selection, or `None` when nothing is to be installed.
    fn route(&mut self, prefix: IpNet, change: &LocRibChange) -> Option<Route> {
        if let Some(k) = &mut self.kernel {
            k.hops(prefix, &change.routes, &mut self.decided);
            let (_, first) = self.decided.first()?;
            let metric = first.metric;
            let decided = std::mem::take(&mut self.decided);
            let mut nexthops: Vec<NextHop> = Vec::with_capacity(decided.len());
            for (addr, d) in &decided {
                let linked = d.onlink.is_none().then(|| self.on_link(change, *addr));
                let nh = match (linked.flatten(), &self.kernel) {
                    (Some(nh), _) => nh,
                    (None, Some(k)) => k.next_hop(*addr, *d),
                    (None, None) => continue,
                };
                if !nexthops.contains(&nh) {
                    nexthops.push(nh);
                }
            }
            self.decided = decided;
            return Some(Route::via(prefix, nexthops).with_metric(metric));
        }
        // Routes learned from peers only: what we originate (services, static routes) is not
        // ours to install. A next hop learned over a link with a link-local address goes on
        // that link as it is; the others as the pool decides.
        self.hops.clear();
        let mut nexthops: Vec<NextHop> = Vec::new();
        for nh in change
            .routes
            .iter()
            .filter(|r| r.peer.is_some())
            .filter_map(|r| r.next_hop)
        {
            if self.hops.contains(&nh) {
                continue;
            }
            match self.on_link(change, nh) {
                Some(linked) => {
                    if !nexthops.contains(&linked) {
                        nexthops.push(linked);
                    }
                }
                None => self.hops.push(nh),
            }
        }
        let pool = self.pool_of(&prefix);
        match program_set(
            prefix,
            pool,
            &self.hops,
            &self.connected,
            &mut self.programmed,
        ) {
            SetProgramming::Felix => return None,
            SetProgramming::Nothing => {}
            SetProgramming::Install => {
                nexthops.extend(self.programmed.iter().filter_map(|p| match *p {
                    Programming::Direct { via } => Some(NextHop::direct(via)),
                    Programming::IpIp { via } => Some(self.fib.tunnel_nexthop(via)),
                    _ => None,
                }));
            }
        }
        (!nexthops.is_empty()).then(|| Route::via(prefix, nexthops))
    }

    /// A reloaded configuration: new IP pools and own routes (the `[kernel]` settings apply at
    /// the next start). Our routes added or changed are installed, those gone removed; the
    /// networks of pools added, removed or changed and our prefixes given up are to be fed
    /// again (a peer's route for a former block of ours comes back with them).
    pub fn reconfigure(&mut self, config: &Config) -> Reprogram {
        let fresh = Translator::new(config);
        let old_pools = std::mem::replace(&mut self.pools, fresh.pools);
        let old_local = std::mem::replace(&mut self.local, fresh.local);
        self.local_prefixes = fresh.local_prefixes;
        match (&mut self.kernel, fresh.kernel) {
            (Some(k), Some(new)) if !k.same_program(&new) => {
                // The RIB feeds the whole Loc-RIB again when the kernel filter changed.
                warn!(
                    event = "kernel_filter_changed",
                    "kernel export filter changed: every route is decided again"
                );
                k.replace_program(new);
            }
            (Some(_), Some(_)) => {}
            (k, new) => *k = new,
        }
        let mut out = Reprogram::default();
        for r in &old_local {
            if !self.local.iter().any(|n| n.prefix == r.prefix) {
                out.deltas.push(RouteDelta::Remove(r.prefix));
                out.refeed.push(r.prefix);
            }
        }
        for r in &self.local {
            if !old_local.contains(r) {
                out.deltas.push(RouteDelta::Install(r.clone()));
            }
        }
        for (cidr, e) in &old_pools {
            if !self.pools.contains(&(*cidr, *e)) {
                out.refeed.push(*cidr);
            }
        }
        for (cidr, e) in &self.pools {
            if !old_pools.contains(&(*cidr, *e)) {
                out.refeed.push(*cidr);
            }
        }
        out.refeed.sort();
        out.refeed.dedup();
        out
    }

    /// New connected subnets. Returns the networks whose routes must be decided again: the
    /// pools with a `CrossSubnet` mode (none when the set did not change).
    pub fn set_connected(&mut self, mut connected: Vec<IpNet>) -> Vec<IpNet> {
        connected.sort();
        connected.dedup();
        if connected == self.connected {
            return Vec::new();
        }
        self.connected = connected;
        let mut nets: Vec<IpNet> = self
            .pools
            .iter()
            .filter(|(_, e)| cross_subnet(e))
            .map(|(cidr, _)| *cidr)
            .collect();
        nets.sort();
        nets.dedup();
        nets
    }
}
