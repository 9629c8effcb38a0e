//! The read-only view of the routing table: one entry per route as BIRD 1.6 describes it
//! (network, destination, source protocol, age, primary flag, and the protocol-specific info
//! column), every path of a network, best first, with the data `show route all` prints (route
//! type, BGP attributes as typed values, why a path is not the best). The RIB actor builds
//! them on demand for one [`RouteFilter`] (nothing keeps a copy of the table for readers; a
//! whole-table listing comes in [`RoutePage`]s); the control socket (`control/cmd/show_route`)
//! formats them. Plain data: no text, no I/O, so the RIB actor depends on this module and never
//! on the control socket.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::SystemTime;

use rib::{Attrs, DecisionKeys, LossReason};

/// An address with a prefix length (`show route for 10.0.0.1`, `show route 10.0.0.0/24`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    pub addr: IpAddr,
    pub len: u8,
}

impl Net {
    pub fn contains(&self, other: &Net) -> bool {
        if self.len > other.len {
            return false;
        }
        match (self.addr, other.addr) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let m = mask(32, self.len);
                (u128::from(u32::from(a)) & m) == (u128::from(u32::from(b)) & m)
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let m = mask(128, self.len);
                (u128::from(a) & m) == (u128::from(b) & m)
            }
            _ => false,
        }
    }
}

fn mask(bits: u8, len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        (u128::MAX << (bits - len.min(bits))) & (u128::MAX >> (128 - u32::from(bits)))
    }
}

/// Which address family a reader (a control socket) wants.
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

/// Where a route sends packets (`rt_format_via`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `via GW on IF`.
    Router {
        gateway: IpAddr,
        interface: String,
    },
    /// `dev IF`.
    Device {
        interface: String,
    },
    Blackhole,
    Unreachable,
    Prohibited,
    /// `multipath`, then one `\tvia GW on IF weight W` line per next hop.
    Multipath(Vec<NextHop>),
}

/// One ECMP next hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
    pub gateway: IpAddr,
    pub interface: String,
    /// BIRD prints `weight + 1`; this is the printed value.
    pub weight: u32,
}

/// BGP ORIGIN (RFC 4271 §5.1.1) as BIRD abbreviates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Igp,
    Egp,
    Incomplete,
}

impl Origin {
    pub fn letter(self) -> char {
        match self {
            Origin::Igp => 'i',
            Origin::Egp => 'e',
            Origin::Incomplete => '?',
        }
    }
}

/// What BGP adds to the info column (`bgp_get_route_info`): ` (PREF[s]/IGP) [ASnO]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BgpRouteInfo {
    /// IGP metric to the next hop; `None` prints no `/…` (direct next hop).
    pub igp_metric: Option<u32>,
    /// Last AS of the AS_PATH (the originating AS); `None` for an empty path.
    pub origin_as: Option<u32>,
    pub origin: Option<Origin>,
    /// Kept through the peer's graceful restart (BIRD's `s` after the preference).
    pub stale: bool,
    /// The next hop does not resolve (BIRD's `/-`).
    pub unresolved: bool,
}

/// Which kind of route it is: the `Type:` line of `show route all` (BIRD 1.6 `rta_show`'s
/// source names: `BGP`, `static`, `device`, `inherit` for a kernel route).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteSource {
    Bgp,
    Static,
    Device,
    Kernel,
}

/// A BGP path as the table holds it: its attributes after import, and what the decision
/// compared (defaults applied: a path without LOCAL_PREF compares as the default, which is
/// what BIRD 1.6 stores on import and shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BgpPath {
    pub attrs: Attrs,
    pub keys: DecisionKeys,
}

/// Why a route is not the best of its network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotBest {
    /// A route of another protocol is preferred (BIRD's preference, first: a `direct1` device
    /// route (240) over a BGP one (100)).
    Preference {
        this: u32,
        best: u32,
        /// The best route's protocol.
        winner: String,
    },
    /// The BGP decision (RFC 4271 §9.1.2.2 and our ECMP / route-reflection steps) ranked it
    /// below the best path at `reason`.
    Decision {
        reason: LossReason,
        /// The values the decision compared: this path's and the best path's.
        this: DecisionKeys,
        best: DecisionKeys,
        /// The best path's protocol (`static1` for ours) and neighbor address.
        winner: String,
        winner_addr: Option<IpAddr>,
        /// Still forwarded as a member of the ECMP set.
        in_ecmp: bool,
    },
    /// Not a candidate: its next hop does not resolve (RFC 4271 §9.1.2.1).
    Unresolved,
}

/// One route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    pub net: Net,
    pub destination: Destination,
    /// Source protocol name (`Mesh_10_99_0_2`, `static1`, `kernel1`, `direct1`).
    pub protocol: String,
    pub since: SystemTime,
    /// The BGP neighbor it came from when that differs from the gateway (` from X`).
    pub from: Option<IpAddr>,
    /// Best route of its network (` *`).
    pub primary: bool,
    pub preference: u32,
    pub bgp: Option<BgpRouteInfo>,
    pub source: RouteSource,
    /// The BGP attributes `show route all` prints (`None` for static, device, kernel routes).
    pub path: Option<BgpPath>,
    /// `None` for the best route of its network.
    pub not_best: Option<NotBest>,
}

/// Which routes a `show route` wants; the RIB actor applies it before building any entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteFilter {
    /// Only this address family (the socket's); `None`: both.
    pub family: Option<Family>,
    /// Exactly this network.
    pub exact: Option<Net>,
    /// The longest network containing this address among the routes the other conditions
    /// keep (BIRD's `net_route`).
    pub for_addr: Option<IpAddr>,
    /// Only routes from this protocol (`static1` for our own).
    pub protocol: Option<String>,
    /// Only the best route of each network.
    pub primary: bool,
    /// Only the counts, no entries.
    pub count: bool,
}

/// What the RIB actor answers to a [`RouteFilter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteReply {
    /// The selected routes, ordered by network (address, length), best route first.
    Routes(Vec<RouteEntry>),
    /// `count`: routes and networks selected, and all routes of the family.
    Count {
        routes: usize,
        /// Of `routes`, the best routes of their networks.
        primary: usize,
        networks: usize,
        total: usize,
    },
}

/// Networks the RIB actor visits for one page of a `show route` listing (a page is built
/// between two batches of route processing; the control socket writes it before asking for the
/// next, so a listing holds one page at a time, whatever the table's size).
pub const PAGE_NETWORKS: usize = 256;

/// One page of a listing ([`RouteFilter`] without `count`, network or address): the entries of
/// the kept routes among the next [`PAGE_NETWORKS`] networks of the family, in order, and the
/// last network visited, from which the next page resumes (`None`: the listing is complete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePage {
    pub routes: Vec<RouteEntry>,
    pub next: Option<Net>,
}

/// Routes in the table per family, kept current by the RIB actor so that readers (metrics)
/// need not ask it.
#[derive(Debug, Default)]
pub struct RouteCounts {
    pub v4: AtomicUsize,
    pub v6: AtomicUsize,
}

impl RouteCounts {
    /// Adds `added` and removes `removed` routes of `prefix`'s family.
    pub fn change(&self, v4: bool, added: usize, removed: usize) {
        let c = if v4 { &self.v4 } else { &self.v6 };
        c.fetch_add(added, Ordering::Relaxed);
        c.fetch_sub(removed, Ordering::Relaxed);
    }

    /// (IPv4, IPv6) routes.
    pub fn get(&self) -> (usize, usize) {
        (
            self.v4.load(Ordering::Relaxed),
            self.v6.load(Ordering::Relaxed),
        )
    }
}
