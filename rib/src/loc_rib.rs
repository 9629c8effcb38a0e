//! Loc-RIB: per prefix, every path (the Adj-RIB-In entries of all peers) with the selected
//! ones (best first, then the ECMP set) kept at the front, and the changes a batch made to the
//! selection, in the form `bgpd` feeds to export policy and to the FIB.

use std::net::IpAddr;

use bgp_proto::{Prefix, RouterId};
use smallvec::SmallVec;

use crate::adj_rib_in::{Path, LOCAL_SOURCE};
use crate::best_path::{self, Candidate, CandidateSource, Ineligible, Selection};
use crate::intern::Attrs;
use crate::next_hop::{NextHopTable, Resolution};
use crate::peer::{LocalInfo, PeerId, SessionKind};
use crate::prefix_map::PrefixMap;
use crate::route_reflection::RouteOrigin;

/// All paths of one prefix. `paths[..selected]` is the best route followed by the ECMP set.
#[derive(Debug, Default)]
pub(crate) struct Dest {
    pub paths: SmallVec<[Path; 1]>,
    pub selected: u8,
}

/// All destinations.
pub(crate) type Table = PrefixMap<Dest>;

/// What the decision needs to know about a path's peer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PeerFacts {
    pub kind: SessionKind,
    pub rr_client: bool,
    pub router_id: RouterId,
    pub addr: IpAddr,
}

/// A selected route as handed to export and to the FIB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedRoute {
    /// `None` for a locally originated route.
    pub peer: Option<PeerId>,
    pub origin: RouteOrigin,
    pub path_id: u32,
    /// The attributes after import policy.
    pub attrs: Attrs,
    pub next_hop: Option<IpAddr>,
    pub igp_cost: Option<u32>,
    /// Kept through the peer's graceful restart.
    pub stale: bool,
}

/// The selection of one prefix changed. `routes` is the new best route followed by the rest of
/// the ECMP set; empty if the prefix left the Loc-RIB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocRibChange {
    pub prefix: Prefix,
    pub routes: Vec<SelectedRoute>,
}

impl LocRibChange {
    /// The new best route, if any.
    pub fn best(&self) -> Option<&SelectedRoute> {
        self.routes.first()
    }
}

/// The Loc-RIB changes of one batch, one entry per prefix whose selection changed, in the order
/// the prefixes were first touched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub loc_rib: Vec<LocRibChange>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.loc_rib.is_empty()
    }

    pub fn len(&self) -> usize {
        self.loc_rib.len()
    }

    /// Append `other`, keeping the last change per prefix.
    pub fn extend(&mut self, other: Changes) {
        self.loc_rib.extend(other.loc_rib);
        self.dedup();
    }

    /// Keep only the last change of each prefix (in the position of its first change).
    pub(crate) fn dedup(&mut self) {
        if self.loc_rib.len() < 2 {
            return;
        }
        let mut last = std::collections::HashMap::with_capacity(self.loc_rib.len());
        for (i, c) in self.loc_rib.iter().enumerate() {
            last.insert(c.prefix, i);
        }
        if last.len() == self.loc_rib.len() {
            return;
        }
        let mut firsts: Vec<(usize, usize)> = Vec::with_capacity(last.len());
        let mut seen = std::collections::HashSet::with_capacity(last.len());
        for (i, c) in self.loc_rib.iter().enumerate() {
            if seen.insert(c.prefix) {
                firsts.push((i, last[&c.prefix]));
            }
        }
        let old = std::mem::take(&mut self.loc_rib);
        let mut slots: Vec<Option<LocRibChange>> = old.into_iter().map(Some).collect();
        self.loc_rib = firsts
            .into_iter()
            .filter_map(|(_, l)| slots[l].take())
            .collect();
    }
}

/// The selection's identity, to tell whether a batch changed it.
pub(crate) type Signature = SmallVec<[(u32, u32, Option<Attrs>); 1]>;

impl Dest {
    pub fn signature(&self) -> Signature {
        self.paths[..usize::from(self.selected)]
            .iter()
            .map(|p| (p.source(), p.path_id, p.accepted.clone()))
            .collect()
    }

    /// Whether any path uses `source`.
    pub fn position(&self, source: u32, path_id: u32) -> Option<usize> {
        self.paths
            .iter()
            .position(|p| p.source() == source && p.path_id == path_id)
    }
}

/// Per-path inputs of the decision: candidate source, IGP cost, infeasibility.
fn candidate_facts(
    p: &Path,
    nh: &mut NextHopTable,
    facts: &impl Fn(u32) -> Option<PeerFacts>,
) -> (CandidateSource, Option<u32>, Option<Ineligible>) {
    if p.source() == LOCAL_SOURCE {
        return (CandidateSource::Local, Some(0), p.rejected());
    }
    let src = match facts(p.source()) {
        Some(f) => CandidateSource::Peer {
            kind: f.kind,
            router_id: f.router_id,
            addr: f.addr,
        },
        None => CandidateSource::Peer {
            kind: SessionKind::Ibgp,
            router_id: RouterId(std::net::Ipv4Addr::BROADCAST),
            addr: IpAddr::V4(std::net::Ipv4Addr::BROADCAST),
        },
    };
    if let Some(why) = p.rejected() {
        return (src, None, Some(why));
    }
    let Some(acc) = &p.accepted else {
        return (src, None, Some(Ineligible::RejectedByImport));
    };
    match acc.next_hop().map(|a| nh.resolve(a)) {
        Some(Resolution::Resolved { cost }) => (src, cost, None),
        // RFC 4271 §9.1.2.1: an unresolvable NEXT_HOP makes the route infeasible.
        Some(Resolution::Unresolved) | None if nh.is_enabled() => {
            (src, None, Some(Ineligible::NextHopUnresolved))
        }
        _ => (src, None, None),
    }
}

/// Run the decision process for `dest` and move the selected paths to the front.
pub(crate) fn decide(
    dest: &mut Dest,
    local: &LocalInfo,
    nh: &mut NextHopTable,
    facts: &impl Fn(u32) -> Option<PeerFacts>,
) {
    // Fast path: one path, nothing to compare.
    if dest.paths.len() == 1 {
        let (_, _, bad) = candidate_facts(&dest.paths[0], nh, facts);
        dest.selected = u8::from(bad.is_none());
        return;
    }
    let sel = run_selection(dest, local, nh, facts);
    let order: SmallVec<[usize; 8]> = sel.selected.iter().copied().collect();
    reorder_front(&mut dest.paths, &order);
    dest.selected = u8::try_from(order.len()).unwrap_or(u8::MAX);
}

/// The full selection with loss reasons (for `show route all`).
pub(crate) fn run_selection(
    dest: &Dest,
    local: &LocalInfo,
    nh: &mut NextHopTable,
    facts: &impl Fn(u32) -> Option<PeerFacts>,
) -> Selection {
    let meta: SmallVec<[_; 4]> = dest
        .paths
        .iter()
        .map(|p| candidate_facts(p, nh, facts))
        .collect();
    let cands: SmallVec<[Candidate<'_>; 4]> = dest
        .paths
        .iter()
        .zip(&meta)
        .map(|(p, (source, igp_cost, ineligible))| Candidate {
            source: *source,
            path_id: p.path_id,
            attrs: &p.accepted.as_ref().unwrap_or(&p.received).attrs,
            igp_cost: *igp_cost,
            ineligible: *ineligible,
        })
        .collect();
    best_path::select(&cands, local.asn, &local.decision)
}

/// Move `paths[order[k]]` to position k, keeping the others after them.
fn reorder_front(paths: &mut SmallVec<[Path; 1]>, order: &[usize]) {
    if order.iter().enumerate().all(|(k, &i)| k == i) {
        return;
    }
    let mut taken: SmallVec<[Option<Path>; 4]> = paths.drain(..).map(Some).collect();
    let mut out: SmallVec<[Path; 1]> = SmallVec::with_capacity(taken.len());
    for &i in order {
        if let Some(p) = taken[i].take() {
            out.push(p);
        }
    }
    out.extend(taken.into_iter().flatten());
    *paths = out;
}

/// The selected routes of `dest` as handed out.
pub(crate) fn selected_routes(
    dest: &Dest,
    nh: &mut NextHopTable,
    facts: &impl Fn(u32) -> Option<PeerFacts>,
) -> Vec<SelectedRoute> {
    dest.paths[..usize::from(dest.selected)]
        .iter()
        .filter_map(|p| {
            let attrs = p.accepted.clone()?;
            let (origin, peer) = if p.source() == LOCAL_SOURCE {
                (RouteOrigin::Local, None)
            } else {
                let f = facts(p.source())?;
                (
                    RouteOrigin::Peer {
                        kind: f.kind,
                        rr_client: f.rr_client,
                        router_id: f.router_id,
                        addr: f.addr,
                    },
                    Some(PeerId(p.source())),
                )
            };
            let next_hop = attrs.next_hop();
            let igp_cost = match next_hop.map(|a| nh.resolve(a)) {
                Some(Resolution::Resolved { cost }) => cost,
                _ => None,
            };
            Some(SelectedRoute {
                peer,
                origin,
                path_id: p.path_id,
                next_hop,
                igp_cost,
                stale: p.is_stale(),
                attrs,
            })
        })
        .collect()
}
