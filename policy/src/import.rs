//! Import from BGP peers: the peer's BGPFilter import rules, then Calico's defaults.
//!
//! Calico's generated BIRD import filter runs the peer's BGPFilter import functions and then
//! accepts. On top of that, a route for exactly one of our own IPAM blocks coming back from a
//! peer (reflected by a route reflector, or looped through a ToR) is rejected: we originate it
//! and blackhole it locally. More specific routes inside our blocks are accepted: they are pod
//! addresses borrowed by other nodes (Calico IPAM borrowing) and must be routed there.

use ipnet::IpNet;

use crate::export::IpPool;
use crate::filter::{self, Direction, Filter, FilterAction};
use crate::modification::Modifications;
use crate::route::{within, PeerType, RouteInfo};

/// The compiled node-wide import policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImportPolicy {
    pub pools: Vec<IpPool>,
    pub own_blocks: Vec<IpNet>,
    /// Accept routes outside every IP pool (Calico imports everything, e.g. a ToR's default
    /// route); `false` keeps only pool routes.
    pub accept_outside_pools: bool,
}

impl Default for ImportPolicy {
    fn default() -> Self {
        ImportPolicy {
            pools: Vec::new(),
            own_blocks: Vec::new(),
            accept_outside_pools: true,
        }
    }
}

/// The peer side of an import decision.
#[derive(Debug, Clone, Copy)]
pub struct ImportPeer<'a> {
    pub peer_type: PeerType,
    pub filters: &'a [Filter],
}

/// Why a route is not imported.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ImportReject {
    /// One of our own blocks, come back.
    OwnBlock(IpNet),
    /// A BGPFilter rule rejected it.
    Filter { filter: String, rule: usize },
    /// Outside every pool while `accept_outside_pools` is off.
    OutsidePools,
}

/// The verdict.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ImportDecision {
    Accept(Modifications),
    Reject(ImportReject),
}

impl ImportDecision {
    pub fn is_accept(&self) -> bool {
        matches!(self, ImportDecision::Accept(_))
    }
}

impl ImportPolicy {
    /// Decide whether `route`, received from `peer`, is used.
    pub fn decide(&self, peer: &ImportPeer<'_>, route: &RouteInfo<'_>) -> ImportDecision {
        let p = &route.prefix;
        if let Some(b) = self.own_blocks.iter().find(|b| *b == p) {
            return ImportDecision::Reject(ImportReject::OwnBlock(*b));
        }
        if let Some(hit) = filter::evaluate(peer.filters, Direction::Import, peer.peer_type, route)
        {
            return match hit.action {
                FilterAction::Accept => {
                    let mut m = Modifications::default();
                    m.push_operations(hit.operations);
                    ImportDecision::Accept(m)
                }
                FilterAction::Reject => ImportDecision::Reject(ImportReject::Filter {
                    filter: hit.filter.to_string(),
                    rule: hit.rule,
                }),
            };
        }
        let in_pool = self.pools.iter().any(|pool| within(p, &pool.cidr));
        if in_pool || self.accept_outside_pools {
            ImportDecision::Accept(Modifications::default())
        } else {
            ImportDecision::Reject(ImportReject::OutsidePools)
        }
    }
}

#[cfg(test)]
mod tests;
