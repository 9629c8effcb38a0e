//! The RFC 4271 §9.1 decision process as a pure function over candidate routes for one prefix.
//!
//! [`select`] eliminates candidates step by step, the way §9.1.2.2 describes it, and records
//! for every loser the step that removed it ([`LossReason`]), so `show route all` can say why.
//! Routes still equal after the IGP-cost step form the multipath (ECMP) set, like BIRD's
//! `merge paths` and FRR's `maximum-paths`.

use std::net::{IpAddr, Ipv4Addr};

use bgp_proto::attribute::{Origin, PathAttributes};
use bgp_proto::{Asn, RouterId};
use smallvec::SmallVec;

use crate::peer::{DecisionOptions, SessionKind};

/// Where a candidate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandidateSource {
    /// Originated by this node ([`crate::Rib::originate`]).
    Local,
    /// Learned from a peer.
    Peer {
        kind: SessionKind,
        router_id: RouterId,
        addr: IpAddr,
    },
}

/// Why a route cannot take part in the decision at all (RFC 4271 §9.1.2: "feasible").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ineligible {
    /// The import policy rejected it.
    RejectedByImport,
    /// Our AS appears in AS_PATH more often than allowed (RFC 4271 §9.1.2).
    AsPathLoop,
    /// ORIGINATOR_ID is our router id (RFC 4456 §8).
    OriginatorIsUs,
    /// CLUSTER_LIST contains our cluster id (RFC 4456 §8).
    ClusterLoop,
    /// The next hop does not resolve through the IGP table (RFC 4271 §9.1.2.1).
    NextHopUnresolved,
}

/// The decision step at which a route lost to the best one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LossReason {
    /// Not a candidate (see [`Ineligible`]).
    Ineligible(Ineligible),
    /// A locally originated route is preferred to learned ones (like FRR's weight, BIRD's
    /// preference of static routes).
    NotLocal,
    /// RFC 4271 §9.1.1 / §9.1.2.1: lower degree of preference (LOCAL_PREF).
    LocalPref,
    /// RFC 4271 §9.1.2.2 (a): longer AS_PATH (AS_SET counts 1, confederation segments 0).
    AsPathLength,
    /// RFC 4271 §9.1.2.2 (b): higher ORIGIN.
    Origin,
    /// RFC 4271 §9.1.2.2 (c): higher MED than a route from the same neighbour AS.
    Med,
    /// RFC 4271 §9.1.2.2 (d): learned over iBGP while an eBGP-learned route exists.
    IbgpVsEbgp,
    /// RFC 4271 §9.1.2.2 (e): higher IGP cost to the next hop.
    IgpCost,
    /// RFC 4271 §9.1.2.2 (f), RFC 4456 §9: higher router id (ORIGINATOR_ID when present).
    RouterId,
    /// RFC 4456 §9: longer CLUSTER_LIST.
    ClusterListLength,
    /// RFC 4271 §9.1.2.2 (g): higher peer address.
    PeerAddress,
    /// Same peer, several paths (ADD-PATH): higher path identifier.
    PathId,
}

impl LossReason {
    /// Whether a route that lost for this reason is still equal-cost with the best one.
    pub fn is_multipath_equal(self) -> bool {
        matches!(
            self,
            LossReason::RouterId
                | LossReason::ClusterListLength
                | LossReason::PeerAddress
                | LossReason::PathId
        )
    }
}

/// One route for the prefix, as the decision process sees it.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub source: CandidateSource,
    pub path_id: u32,
    pub attrs: &'a PathAttributes,
    /// IGP cost to the next hop, where known.
    pub igp_cost: Option<u32>,
    /// `Some` if the route is not feasible.
    pub ineligible: Option<Ineligible>,
}

/// The outcome for one prefix.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selection {
    /// Indices into the candidates: the best route first, then the other members of the ECMP
    /// set (at most `max_paths` in all). Empty if no candidate is eligible.
    pub selected: Vec<usize>,
    /// Per candidate: `None` for the best route, else why it lost. ECMP members other than the
    /// best carry the tie-break step that ranked them below it.
    pub lost: Vec<Option<LossReason>>,
}

impl Selection {
    /// The best route's index.
    pub fn best(&self) -> Option<usize> {
        self.selected.first().copied()
    }
}

type Alive = SmallVec<[usize; 8]>;

/// Keep only the candidates with the lowest `key`; the others lose with `reason`.
fn keep_min<K: Ord>(
    alive: &mut Alive,
    lost: &mut [Option<LossReason>],
    reason: LossReason,
    key: impl Fn(usize) -> K,
) {
    let Some(min) = alive.iter().map(|&i| key(i)).min() else {
        return;
    };
    alive.retain(|i| {
        if key(*i) == min {
            true
        } else {
            lost[*i] = Some(reason);
            false
        }
    });
}

fn local_pref(c: &Candidate<'_>, opts: &DecisionOptions) -> u32 {
    c.attrs.local_pref.unwrap_or(opts.default_local_pref)
}

fn path_len(c: &Candidate<'_>) -> usize {
    c.attrs.as_path.as_ref().map_or(0, |p| p.path_len())
}

fn origin(c: &Candidate<'_>) -> u8 {
    c.attrs.origin.unwrap_or(Origin::Incomplete).to_u8()
}

/// RFC 4271 §9.1.2.2 (c): the neighbour AS is the first AS of AS_PATH; a path without one was
/// originated inside our AS.
fn neighbour_as(c: &Candidate<'_>, local_as: Asn) -> Asn {
    c.attrs
        .as_path
        .as_ref()
        .and_then(|p| p.first_asn())
        .unwrap_or(local_as)
}

fn med(c: &Candidate<'_>, opts: &DecisionOptions) -> u32 {
    match c.attrs.med {
        Some(m) => m,
        None if opts.missing_med_worst => u32::MAX,
        None => 0,
    }
}

/// The tie-break keys of steps (f) and later, in order.
fn tie_key(c: &Candidate<'_>) -> (Ipv4Addr, usize, IpAddr, u32) {
    let (rid, addr) = match c.source {
        CandidateSource::Local => (Ipv4Addr::UNSPECIFIED, IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        CandidateSource::Peer {
            router_id, addr, ..
        } => (router_id.0, addr),
    };
    // RFC 4456 §9: ORIGINATOR_ID stands in for the router id.
    let rid = c.attrs.originator_id.unwrap_or(rid);
    let cl = c.attrs.cluster_list.as_ref().map_or(0, Vec::len);
    (rid, cl, addr, c.path_id)
}

/// The values the decision process compares for one candidate, as it compared them (defaults
/// applied): what `show route all` quotes when it says why a path lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionKeys {
    /// Originated by this node.
    pub local: bool,
    /// LOCAL_PREF, or the default for a route without one (RFC 4271 §9.1.1).
    pub local_pref: u32,
    /// AS_PATH length as §9.1.2.2 (a) counts it.
    pub as_path_len: usize,
    pub origin: Origin,
    /// The AS whose MEDs this route is compared with (§9.1.2.2 (c)).
    pub neighbour_as: Asn,
    /// MED, or what a missing MED counts as.
    pub med: u32,
    /// Learned over eBGP (or originated here): preferred by §9.1.2.2 (d).
    pub external: bool,
    /// IGP cost to the next hop, where known.
    pub igp_cost: Option<u32>,
    /// Router id, or ORIGINATOR_ID when present (RFC 4456 §9).
    pub router_id: Ipv4Addr,
    pub cluster_list_len: usize,
    /// The neighbor's address (unspecified for a local route).
    pub peer_addr: IpAddr,
    pub path_id: u32,
}

/// The keys of `c` (the same helpers [`select`] uses, so the two never disagree).
pub fn decision_keys(c: &Candidate<'_>, local_as: Asn, opts: &DecisionOptions) -> DecisionKeys {
    let (router_id, cluster_list_len, peer_addr, path_id) = tie_key(c);
    DecisionKeys {
        local: c.source == CandidateSource::Local,
        local_pref: local_pref(c, opts),
        as_path_len: path_len(c),
        origin: c.attrs.origin.unwrap_or(Origin::Incomplete),
        neighbour_as: neighbour_as(c, local_as),
        med: med(c, opts),
        external: is_external(c),
        igp_cost: c.igp_cost,
        router_id,
        cluster_list_len,
        peer_addr,
        path_id,
    }
}

/// Every candidate in decision order: the selection (best, then the ECMP set) first, then each
/// remaining eligible candidate in the order the decision would pick it if the ones before it
/// were withdrawn, then the ineligible ones in their input order. Quadratic in the number of
/// candidates of one prefix (a handful): for listings, not for the per-UPDATE path.
pub fn rank(
    cands: &[Candidate<'_>],
    local_as: Asn,
    opts: &DecisionOptions,
) -> (Selection, Vec<usize>) {
    let sel = select(cands, local_as, opts);
    let mut order = sel.selected.clone();
    let mut rest: Vec<usize> = (0..cands.len())
        .filter(|i| !order.contains(i) && cands[*i].ineligible.is_none())
        .collect();
    let one = DecisionOptions {
        max_paths: 1,
        ..*opts
    };
    while !rest.is_empty() {
        let sub: Vec<Candidate<'_>> = rest.iter().map(|&i| cands[i]).collect();
        let next = select(&sub, local_as, &one).best().unwrap_or(0);
        order.push(rest.remove(next));
    }
    order.extend((0..cands.len()).filter(|i| cands[*i].ineligible.is_some()));
    (sel, order)
}

fn is_external(c: &Candidate<'_>) -> bool {
    matches!(
        c.source,
        CandidateSource::Peer {
            kind: SessionKind::Ebgp,
            ..
        } | CandidateSource::Local
    )
}

/// Run the decision process over `cands`.
pub fn select(cands: &[Candidate<'_>], local_as: Asn, opts: &DecisionOptions) -> Selection {
    let mut lost: Vec<Option<LossReason>> = vec![None; cands.len()];
    let mut alive: Alive = SmallVec::new();
    for (i, c) in cands.iter().enumerate() {
        match c.ineligible {
            Some(why) => lost[i] = Some(LossReason::Ineligible(why)),
            None => alive.push(i),
        }
    }
    if alive.is_empty() {
        return Selection {
            selected: Vec::new(),
            lost,
        };
    }
    let c = |i: usize| &cands[i];
    keep_min(&mut alive, &mut lost, LossReason::NotLocal, |i| {
        c(i).source != CandidateSource::Local
    });
    // RFC 4271 §9.1.2.1: highest degree of preference.
    keep_min(&mut alive, &mut lost, LossReason::LocalPref, |i| {
        std::cmp::Reverse(local_pref(c(i), opts))
    });
    keep_min(&mut alive, &mut lost, LossReason::AsPathLength, |i| {
        path_len(c(i))
    });
    keep_min(&mut alive, &mut lost, LossReason::Origin, |i| origin(c(i)));
    // RFC 4271 §9.1.2.2 (c): remove a route if another route from the same neighbour AS has
    // a lower MED (any route, with always-compare-med).
    let snapshot = alive.clone();
    alive.retain(|i| {
        let me = c(*i);
        let beaten = snapshot.iter().any(|&j| {
            let other = c(j);
            (opts.always_compare_med || neighbour_as(other, local_as) == neighbour_as(me, local_as))
                && med(other, opts) < med(me, opts)
        });
        if beaten {
            lost[*i] = Some(LossReason::Med);
        }
        !beaten
    });
    keep_min(&mut alive, &mut lost, LossReason::IbgpVsEbgp, |i| {
        !is_external(c(i))
    });
    keep_min(&mut alive, &mut lost, LossReason::IgpCost, |i| {
        c(i).igp_cost.unwrap_or(u32::MAX)
    });
    // What is left is equal-cost; the remaining steps only order it.
    alive.sort_by(|&a, &b| tie_key(c(a)).cmp(&tie_key(c(b))).then(a.cmp(&b)));
    let best = alive[0];
    let bk = tie_key(c(best));
    for &i in &alive[1..] {
        let k = tie_key(c(i));
        lost[i] = Some(match () {
            _ if k.0 != bk.0 => LossReason::RouterId,
            _ if k.1 != bk.1 => LossReason::ClusterListLength,
            _ if k.2 != bk.2 => LossReason::PeerAddress,
            _ => LossReason::PathId,
        });
    }
    let n = opts.max_paths.max(1);
    Selection {
        selected: alive.iter().copied().take(n).collect(),
        lost,
    }
}

#[cfg(test)]
mod tests;
