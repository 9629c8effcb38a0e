//! What the import/export policy knows about a route: its prefix, where it came from, the
//! interface it leaves by (when known) and its path attributes.

use bgp_proto::attribute::PathAttributes;
use ipnet::IpNet;

/// Internal or external peer (Calico BGPFilter `peerType`: `iBGP` / `eBGP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerType {
    Ibgp,
    Ebgp,
}

/// Where a route comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteSource {
    /// One of this node's IPAM blocks, originated here (Calico's `bird_aggr` static blackhole).
    OwnBlock,
    /// A static route originated here: service cluster/external/load-balancer CIDRs (Calico's
    /// `/staticroutes`).
    Static,
    /// Learned from the kernel (e.g. a borrowed pod /32 on a `cali*` interface).
    Kernel,
    /// Learned from a BGP peer of this type.
    Peer(PeerType),
}

impl RouteSource {
    /// Calico BGPFilter `source: RemotePeers`.
    pub fn is_remote_peer(self) -> bool {
        matches!(self, RouteSource::Peer(_))
    }
}

/// A route as the policy sees it.
#[derive(Debug, Clone, Copy)]
pub struct RouteInfo<'a> {
    pub prefix: IpNet,
    pub source: RouteSource,
    /// The outgoing interface, when known (BIRD's `ifname`).
    pub interface: Option<&'a str>,
    /// The route's path attributes (communities, AS path), when it has any.
    pub attrs: Option<&'a PathAttributes>,
}

impl<'a> RouteInfo<'a> {
    /// A route with no interface and no attributes.
    pub fn new(prefix: IpNet, source: RouteSource) -> Self {
        RouteInfo {
            prefix,
            source,
            interface: None,
            attrs: None,
        }
    }
}

/// Whether `inner` lies within `outer` (equal counts): BIRD's `net ~ prefix`.
pub fn within(inner: &IpNet, outer: &IpNet) -> bool {
    outer.contains(inner)
}
