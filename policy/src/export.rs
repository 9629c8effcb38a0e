//! Export to BGP peers: Calico's `calico_export_to_bgp_peers` (confd's `bird_ipam.cfg.template`
//! and `bird_aggr.cfg.template`) as data and one pure function.
//!
//! Order of evaluation, as in Calico's generated BIRD filter:
//! 1. the peer's BGPFilter export rules (first match accepts or rejects);
//! 2. routes inside an IP pool with `disableBGPExport` are rejected;
//! 3. towards iBGP peers, routes via Felix's tunnel devices (`*.cali`, `*.calico`) are
//!    rejected (Felix programs them on every node);
//! 4. communities of matching `prefixAdvertisements` are added;
//! 5. an own IPAM block is accepted; anything else inside an own block (pod /32s) is rejected;
//! 6. static routes (service cluster / external / load-balancer CIDRs when advertised) and the
//!    route-reflector allow-list are accepted;
//! 7. routes inside an enabled IP pool are accepted (other nodes' blocks, borrowed /32s);
//! 8. everything else is rejected.
//!
//! Which peers may receive a route at all (iBGP-to-iBGP, route reflection) is the RIB's
//! business (RFC 4271 §9.2, RFC 4456), as BIRD's BGP protocol does it below the filter.

use ipnet::IpNet;

use crate::filter::{self, CommunityValue, Direction, Filter, FilterAction};
use crate::modification::Modifications;
use crate::route::{within, PeerType, RouteInfo, RouteSource};

/// A Calico IP pool, as far as BGP export cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpPool {
    pub cidr: IpNet,
    /// Calico `disableBGPExport`.
    pub disable_bgp_export: bool,
}

/// Calico `BGPConfiguration.prefixAdvertisements`: communities added to routes inside `cidr`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrefixAdvertisement {
    pub cidr: IpNet,
    pub communities: Vec<CommunityValue>,
}

/// Service addresses announced when enabled (Calico `serviceClusterIPs`,
/// `serviceExternalIPs`, `serviceLoadBalancerIPs`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ServiceAdvertisement {
    pub cluster_ips: Vec<IpNet>,
    pub external_ips: Vec<IpNet>,
    pub load_balancer_ips: Vec<IpNet>,
}

impl ServiceAdvertisement {
    /// Every CIDR announced.
    pub fn cidrs(&self) -> impl Iterator<Item = &IpNet> + '_ {
        self.cluster_ips
            .iter()
            .chain(&self.external_ips)
            .chain(&self.load_balancer_ips)
    }
}

/// Interfaces whose routes are never exported to iBGP peers (Calico `reject_tunnel_routes`).
pub const TUNNEL_INTERFACES: [&str; 2] = ["*.cali", "*.calico"];

/// The compiled node-wide export policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ExportPolicy {
    pub pools: Vec<IpPool>,
    /// This node's IPAM blocks (affine, confirmed).
    pub own_blocks: Vec<IpNet>,
    pub services: ServiceAdvertisement,
    /// Other static routes Calico exports (its `/staticroutes`).
    pub static_routes: Vec<IpNet>,
    /// Route-reflector allow-list (Calico's `/allowlist`).
    pub rr_allowlist: Vec<IpNet>,
    pub prefix_advertisements: Vec<PrefixAdvertisement>,
}

/// The peer side of an export decision.
#[derive(Debug, Clone, Copy)]
pub struct ExportPeer<'a> {
    pub peer_type: PeerType,
    /// The peer's BGPFilters, in order.
    pub filters: &'a [Filter],
}

/// Why a route is not exported.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExportReject {
    /// A BGPFilter rule rejected it.
    Filter { filter: String, rule: usize },
    /// Inside a pool with `disableBGPExport`.
    DisabledPool(IpNet),
    /// Via a Felix tunnel device, towards an iBGP peer.
    TunnelRoute,
    /// A more specific route inside one of our blocks (the block is announced instead).
    InsideOwnBlock(IpNet),
    /// Outside every pool, block, service CIDR and allow-list.
    NotAllowed,
}

/// The verdict.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExportDecision {
    Accept(Modifications),
    Reject(ExportReject),
}

impl ExportDecision {
    pub fn is_accept(&self) -> bool {
        matches!(self, ExportDecision::Accept(_))
    }
}

impl ExportPolicy {
    /// The prefixes this node originates: its blocks, then advertised service and static CIDRs
    /// (Calico's `bird_aggr` static protocol).
    pub fn originated(&self) -> Vec<(IpNet, RouteSource)> {
        let mut v: Vec<(IpNet, RouteSource)> = self
            .own_blocks
            .iter()
            .map(|b| (*b, RouteSource::OwnBlock))
            .collect();
        for c in self.services.cidrs().chain(&self.static_routes) {
            if !v.iter().any(|(p, _)| p == c) {
                v.push((*c, RouteSource::Static));
            }
        }
        v
    }

    /// Decide whether `route` is exported to `peer`, and with what changes.
    pub fn decide(&self, peer: &ExportPeer<'_>, route: &RouteInfo<'_>) -> ExportDecision {
        let mut m = Modifications::default();
        if let Some(hit) = filter::evaluate(peer.filters, Direction::Export, peer.peer_type, route)
        {
            return match hit.action {
                FilterAction::Accept => {
                    m.push_operations(hit.operations);
                    ExportDecision::Accept(m)
                }
                FilterAction::Reject => ExportDecision::Reject(ExportReject::Filter {
                    filter: hit.filter.to_string(),
                    rule: hit.rule,
                }),
            };
        }
        let p = &route.prefix;
        if let Some(pool) = self
            .pools
            .iter()
            .find(|pool| pool.disable_bgp_export && within(p, &pool.cidr))
        {
            return ExportDecision::Reject(ExportReject::DisabledPool(pool.cidr));
        }
        if peer.peer_type == PeerType::Ibgp
            && route
                .interface
                .is_some_and(|i| TUNNEL_INTERFACES.iter().any(|g| filter::glob(g, i)))
        {
            return ExportDecision::Reject(ExportReject::TunnelRoute);
        }
        for adv in &self.prefix_advertisements {
            if within(p, &adv.cidr) {
                for c in &adv.communities {
                    m.add_community(*c);
                }
            }
        }
        for b in &self.own_blocks {
            if p == b {
                return ExportDecision::Accept(m);
            }
            if within(p, b) {
                return ExportDecision::Reject(ExportReject::InsideOwnBlock(*b));
            }
        }
        let allowed = self
            .services
            .cidrs()
            .chain(&self.static_routes)
            .chain(&self.rr_allowlist)
            .chain(
                self.pools
                    .iter()
                    .filter(|pool| !pool.disable_bgp_export)
                    .map(|pool| &pool.cidr),
            )
            .any(|c| within(p, c));
        if allowed {
            ExportDecision::Accept(m)
        } else {
            ExportDecision::Reject(ExportReject::NotAllowed)
        }
    }
}

#[cfg(test)]
mod tests;
