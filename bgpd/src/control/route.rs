//! The route snapshot the control socket shows: one entry per route of the routing table as
//! BIRD 1.6 describes it (network, destination, source protocol, age, primary flag, and the
//! protocol-specific info column). Whoever owns the routes publishes a `Vec` of these.

use std::net::IpAddr;
use std::time::SystemTime;

use super::parse::Net;

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

/// What BGP adds to the info column (`bgp_get_route_info`): ` (PREF/IGP) [ASnO]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BgpRouteInfo {
    /// IGP metric to the next hop; `None` prints no `/…` (direct next hop).
    pub igp_metric: Option<u32>,
    /// Last AS of the AS_PATH (the originating AS); `None` for an empty path.
    pub origin_as: Option<u32>,
    pub origin: Option<Origin>,
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
}
