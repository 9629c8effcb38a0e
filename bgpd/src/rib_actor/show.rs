//! Queries, and `show route` data: the actor selects the networks a [`RouteFilter`] asks for and builds one
//! [`RouteEntry`] per path, in decision order (the best first), with the typed attributes and
//! the decision's verdict on each path. No text here: `control/cmd/show_route` formats.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, SystemTime};

use bgp_proto::Prefix;
use rib::{Ineligible, LossReason, PathExplanation, PeerId, SelectedRoute};

use super::{PeerSlot, RibActor, RibQuery};
use crate::route_view::{
    BgpPath, BgpRouteInfo, Destination, NotBest, Origin as ShowOrigin, RouteEntry, RouteFilter,
    RouteReply, RouteSource,
};

/// The protocol name of our own routes.
const STATIC: &str = "static1";
/// BIRD's default preferences (Calico's `show route` shows them): static 200, BGP 100.
const STATIC_PREFERENCE: u32 = 200;
const BGP_PREFERENCE: u32 = 100;

/// Whether a path is a route of the table as BIRD lists it: accepted by import and not a loop
/// (those BIRD drops or keeps only as `filtered`), its peer still configured. A path whose next
/// hop does not resolve is listed (BIRD shows it, `/-`), never as the best.
pub(super) fn listed(p: &PathExplanation, peers: &HashMap<PeerId, PeerSlot>) -> bool {
    p.accepted.is_some()
        && p.peer.is_none_or(|id| peers.contains_key(&id))
        && !matches!(
            p.lost,
            Some(LossReason::Ineligible(
                Ineligible::RejectedByImport
                    | Ineligible::AsPathLoop
                    | Ineligible::OriginatorIsUs
                    | Ineligible::ClusterLoop
            ))
        )
}

/// Whether the `index`th route of a network (best first) passes the per-route conditions of
/// `f` (primary only, protocol: its peer's name, or `static1` for ours). `best`: the route is
/// its network's selected best.
pub(super) fn keeps_route(
    peers: &HashMap<PeerId, PeerSlot>,
    f: &RouteFilter,
    index: usize,
    best: bool,
    peer: Option<PeerId>,
) -> bool {
    (!f.primary || (index == 0 && best))
        && f.protocol.as_deref().is_none_or(|p| {
            peer.and_then(|id| peers.get(&id))
                .map_or(STATIC, |s| s.name.as_str())
                == p
        })
}

impl RibActor {
    /// Answers a query (a page waits for its turn).
    pub(super) fn query(&mut self, q: RibQuery) {
        match q {
            RibQuery::Routes {
                prefix,
                addr,
                reply,
            } => {
                let mut all: Vec<(Prefix, Vec<SelectedRoute>)> = Vec::new();
                self.rib.for_each_selected(|p, routes| {
                    if prefix.is_none_or(|q| q == p) && addr.is_none_or(|a| p.contains(&a)) {
                        all.push((p, routes));
                    }
                });
                if addr.is_some() {
                    all.sort_by_key(|(p, _)| std::cmp::Reverse(p.prefix_len()));
                    all.truncate(1);
                }
                let _ = reply.send(all);
            }
            RibQuery::Stats { reply } => {
                let _ = reply.send(self.rib.stats());
            }
            RibQuery::Show { filter, reply } => {
                let _ = reply.send(self.show(&filter));
            }
            RibQuery::ShowPage(p) => self.pages.defer(p),
        }
    }

    /// Whether the `index`th listed path of a network passes the per-route conditions.
    fn keeps(&self, f: &RouteFilter, index: usize, p: &PathExplanation) -> bool {
        keeps_route(&self.peers, f, index, p.lost.is_none(), p.peer)
    }

    /// The listed paths of one network, in decision order.
    fn listed(&self, paths: Vec<PathExplanation>) -> Vec<PathExplanation> {
        paths
            .into_iter()
            .filter(|p| listed(p, &self.peers))
            .collect()
    }

    /// `show route`: the networks `f` selects with their paths, then only counts or the
    /// entries. A network or address query looks its candidates up; only a listing or count
    /// of the whole table walks it. Counts count the listed paths, as a listing shows them.
    pub(super) fn show(&mut self, f: &RouteFilter) -> RouteReply {
        let in_family = |p: &Prefix| f.family.is_none_or(|fam| fam.has(p.addr()));
        if f.count && f.exact.is_none() && f.for_addr.is_none() && f.protocol.is_none() {
            // The whole table's counts, kept by the RIB: no walk (pollers ask this often).
            let (r4, r6) = self.rib.accepted_counts();
            let (n4, n6) = self.rib.selected_networks();
            let v4 = f
                .family
                .is_none_or(|fam| fam.has(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)));
            let v6 = f
                .family
                .is_none_or(|fam| fam.has(IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)));
            let total = if v4 { r4 } else { 0 } + if v6 { r6 } else { 0 };
            let networks = if v4 { n4 } else { 0 } + if v6 { n6 } else { 0 };
            return RouteReply::Count {
                routes: if f.primary { networks } else { total },
                primary: networks,
                networks,
                total,
            };
        }
        if f.count {
            return self.count(f);
        }
        let mut nets: Vec<(Prefix, Vec<PathExplanation>)> = if f.exact.is_some()
            || f.for_addr.is_some()
        {
            let mut candidates: Vec<Prefix> = Vec::new();
            if let Some(n) = f.exact {
                candidates.extend(Prefix::new(n.addr, n.len).ok());
            } else if let Some(a) = f.for_addr {
                let max = if a.is_ipv4() { 32 } else { 128 };
                candidates
                    .extend((0..=max).filter_map(|l| Prefix::new(a, l).ok().map(|p| p.trunc())));
            }
            candidates
                .into_iter()
                .filter(|p| in_family(p))
                .map(|p| {
                    let paths = self.rib.explain(&p);
                    (p, self.listed(paths))
                })
                .collect()
        } else {
            // One network's paths at a time, keeping only the networks shown.
            let mut v = Vec::new();
            let peers = &self.peers;
            self.rib.for_each_explained(|prefix, paths| {
                if !in_family(&prefix) {
                    return;
                }
                let paths: Vec<PathExplanation> =
                    paths.into_iter().filter(|p| listed(p, peers)).collect();
                if paths
                    .iter()
                    .enumerate()
                    .any(|(i, p)| keeps_route(peers, f, i, p.lost.is_none(), p.peer))
                {
                    v.push((prefix, paths));
                }
            });
            v
        };
        nets.retain(|(_, paths)| paths.iter().enumerate().any(|(i, p)| self.keeps(f, i, p)));
        if let Some(a) = f.for_addr {
            // The longest network holding the address among those with a route kept.
            nets.retain(|(p, _)| p.contains(&a));
            let longest = nets.iter().map(|(p, _)| p.prefix_len()).max();
            nets.retain(|(p, _)| Some(p.prefix_len()) == longest);
        }
        nets.sort_by_key(|(p, _)| (p.addr(), p.prefix_len()));
        RouteReply::Routes(self.entries(&nets, f))
    }

    /// `count` with a network, address or protocol condition: over the listed paths.
    fn count(&mut self, f: &RouteFilter) -> RouteReply {
        let in_family = |p: &Prefix| f.family.is_none_or(|fam| fam.has(p.addr()));
        let (mut routes, mut primary, mut networks, mut total) = (0, 0, 0, 0);
        // For `for ADDR`: per prefix length, the counts of the networks holding it.
        let mut by_len: Vec<(u8, usize, usize)> = Vec::new();
        let peers = &self.peers;
        self.rib.for_each_explained(|prefix, paths| {
            if !in_family(&prefix) {
                return;
            }
            let paths = paths.iter().filter(|p| listed(p, peers));
            let (mut all, mut r, mut pr) = (0, 0, 0);
            for (i, p) in paths.enumerate() {
                all += 1;
                if keeps_route(peers, f, i, p.lost.is_none(), p.peer) {
                    r += 1;
                    pr += usize::from(i == 0 && p.lost.is_none());
                }
            }
            total += all;
            if r == 0
                || f.exact
                    .is_some_and(|n| n.addr != prefix.addr() || n.len != prefix.prefix_len())
                || f.for_addr.is_some_and(|a| !prefix.contains(&a))
            {
                return;
            }
            if f.for_addr.is_some() {
                by_len.push((prefix.prefix_len(), r, pr));
            } else {
                routes += r;
                primary += pr;
                networks += 1;
            }
        });
        if let Some(&(longest, _, _)) = by_len.iter().max_by_key(|(l, _, _)| *l) {
            for (_, r, pr) in by_len.iter().filter(|(l, _, _)| *l == longest) {
                routes += r;
                primary += pr;
                networks += 1;
            }
        }
        RouteReply::Count {
            routes,
            primary,
            networks,
            total,
        }
    }

    /// The entries of the kept paths of `nets`, best first within a network.
    pub(super) fn entries(
        &mut self,
        nets: &[(Prefix, Vec<PathExplanation>)],
        f: &RouteFilter,
    ) -> Vec<RouteEntry> {
        // The interface a gateway is reached on: the one whose connected subnet holds it.
        let table = self.interface_table();
        let mut v = Vec::new();
        for (prefix, paths) in nets {
            let since = self
                .rib
                .changed_at(prefix)
                .map_or_else(SystemTime::now, |s| {
                    self.epoch + Duration::from_secs(u64::from(s))
                });
            let best = paths.first().filter(|p| p.lost.is_none());
            for (i, p) in paths.iter().enumerate() {
                if self.keeps(f, i, p) {
                    v.push(self.entry(*prefix, p, best, since, table.as_deref()));
                }
            }
        }
        v
    }

    fn protocol_of(&self, peer: Option<PeerId>) -> String {
        peer.and_then(|id| self.peers.get(&id))
            .map_or_else(|| STATIC.to_string(), |s| s.name.clone())
    }

    fn entry(
        &self,
        prefix: Prefix,
        p: &PathExplanation,
        best: Option<&PathExplanation>,
        since: SystemTime,
        interfaces: Option<&fib_sync::Interfaces>,
    ) -> RouteEntry {
        let peer = p.peer.and_then(|id| self.peers.get(&id));
        let attrs = p.accepted.as_ref().unwrap_or(&p.received);
        let next_hop = attrs.next_hop();
        // A link-local next hop is on the link of the session it came over (every link has
        // fe80::/64).
        let link = p
            .peer
            .filter(|_| {
                attrs.link_local_next_hop().is_some()
                    || next_hop.is_some_and(conf::model::is_link_local)
            })
            .and_then(|id| {
                let links = self.links.read().unwrap_or_else(|e| e.into_inner());
                links.get(&id).map(|d| d.to_string())
            });
        let on_link = link.or_else(|| {
            next_hop
                .and_then(|gw| interfaces.and_then(|t| t.interface_for(gw)))
                .map(|l| l.name.clone())
        });
        let unresolved = p.lost == Some(LossReason::Ineligible(Ineligible::NextHopUnresolved));
        let destination = match (peer, next_hop) {
            (None, _) => Destination::Blackhole,
            (Some(_), Some(_)) if unresolved => Destination::Unreachable,
            (Some(_), Some(gateway)) => Destination::Router {
                gateway,
                interface: on_link.clone().unwrap_or_default(),
            },
            (Some(_), None) => Destination::Unreachable,
        };
        let not_best = match (p.lost, best) {
            (None, _) => None,
            (Some(_), _) if unresolved => Some(NotBest::Unresolved),
            (Some(reason), Some(b)) => Some(NotBest::Decision {
                reason,
                this: p.keys,
                best: b.keys,
                winner: self.protocol_of(b.peer),
                winner_addr: b.peer.map(|_| b.keys.peer_addr),
                in_ecmp: p.in_ecmp,
            }),
            (Some(_), None) => Some(NotBest::Unresolved),
        };
        let a = &attrs.attrs;
        RouteEntry {
            net: crate::route_view::Net {
                addr: prefix.addr(),
                len: prefix.prefix_len(),
            },
            destination,
            protocol: self.protocol_of(p.peer),
            since,
            from: peer.map(|s| s.addr),
            primary: p.lost.is_none(),
            preference: if peer.is_some() {
                BGP_PREFERENCE
            } else {
                STATIC_PREFERENCE
            },
            bgp: peer.map(|_| BgpRouteInfo {
                // A next hop on a connected subnet costs 0, as BIRD prints it (`100/0`).
                igp_metric: p.keys.igp_cost.or(on_link.as_ref().map(|_| 0)),
                origin_as: a
                    .effective_as_path()
                    .and_then(|p| p.origin_asn())
                    .map(|x| x.0),
                origin: a.origin.map(|o| match o {
                    bgp_proto::attribute::Origin::Igp => ShowOrigin::Igp,
                    bgp_proto::attribute::Origin::Egp => ShowOrigin::Egp,
                    bgp_proto::attribute::Origin::Incomplete => ShowOrigin::Incomplete,
                }),
                stale: p.stale,
                unresolved,
            }),
            source: if peer.is_some() {
                RouteSource::Bgp
            } else {
                RouteSource::Static
            },
            path: peer.map(|_| BgpPath {
                attrs: attrs.clone(),
                keys: p.keys,
            }),
            not_best,
        }
    }
}
