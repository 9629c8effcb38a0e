//! Loc-RIB: per prefix, every path (the Adj-RIB-In entries of all peers) with the selected
//! ones (best first, then the ECMP set) kept at the front, and the changes a batch made to the
//! selection, in the form `bgpd` feeds to export policy and to the FIB.

use std::net::IpAddr;

use bgp_proto::{Prefix, RouterId};
use smallvec::SmallVec;

use crate::adj_rib_in::{Path, LOCAL_SOURCE};
use crate::best_path::{self, Candidate, CandidateSource, DecisionKeys, Ineligible, Selection};
use crate::intern::Attrs;
use crate::next_hop::{NextHopTable, Resolution};
use crate::peer::{LocalInfo, PeerId, SessionKind};
use crate::prefix_map::PrefixMap;
use crate::route_reflection::RouteOrigin;

/// All paths of one prefix. `paths[..selected]` is the best route followed by the ECMP set.
/// 24 octets: 16 of paths, then the small fields.
#[derive(Debug, Default)]
pub(crate) struct Dest {
    pub paths: Paths,
    pub selected: u8,
    /// Number of routes in the last change reported for this prefix (for the route counts).
    pub reported: u8,
    /// The RIB clock (caller's seconds) when the selection last changed.
    pub changed: u32,
}

/// All destinations.
pub(crate) type Table = PrefixMap<Dest>;

/// The paths of one prefix: none, one inline (the usual case: a block comes from one peer), or
/// several behind one pointer. 16 octets, the size of one [`Path`]: the two other cases live in
/// values of a path's status byte that a path never has (a `SmallVec<[Path; 1]>` needed a
/// capacity word more, which made every `Dest` 8 octets larger).
#[derive(Debug, Default)]
pub(crate) enum Paths {
    #[default]
    Empty,
    One(Path),
    // A bare `Vec` is 24 octets and would not fit beside the status byte.
    #[allow(clippy::box_collection)]
    Many(Box<Vec<Path>>),
}

const _: () = assert!(std::mem::size_of::<Paths>() == 16);
const _: () = assert!(std::mem::size_of::<Dest>() == 24);

impl std::ops::Deref for Paths {
    type Target = [Path];

    fn deref(&self) -> &[Path] {
        match self {
            Paths::Empty => &[],
            Paths::One(p) => std::slice::from_ref(p),
            Paths::Many(v) => v,
        }
    }
}

impl std::ops::DerefMut for Paths {
    fn deref_mut(&mut self) -> &mut [Path] {
        match self {
            Paths::Empty => &mut [],
            Paths::One(p) => std::slice::from_mut(p),
            Paths::Many(v) => v,
        }
    }
}

impl Paths {
    fn from_vec(mut v: Vec<Path>) -> Paths {
        match v.len() {
            0 => Paths::Empty,
            1 => Paths::One(v.pop().expect("one path")),
            _ => Paths::Many(Box::new(v)),
        }
    }

    fn into_vec(self) -> Vec<Path> {
        match self {
            Paths::Empty => Vec::new(),
            Paths::One(p) => vec![p],
            Paths::Many(v) => *v,
        }
    }

    pub fn push(&mut self, path: Path) {
        match self {
            Paths::Empty => *self = Paths::One(path),
            Paths::Many(v) => v.push(path),
            Paths::One(_) => {
                if let Paths::One(first) = std::mem::take(self) {
                    *self = Paths::Many(Box::new(vec![first, path]));
                }
            }
        }
    }

    /// Removes and returns the path at `i` (panics when out of range, as `Vec::remove`).
    pub fn remove(&mut self, i: usize) -> Path {
        match std::mem::take(self) {
            Paths::Empty => panic!("removing path {i} of none"),
            Paths::One(p) => {
                assert_eq!(i, 0, "removing path {i} of one");
                p
            }
            Paths::Many(mut v) => {
                let p = v.remove(i);
                *self = Paths::from_vec(*v);
                p
            }
        }
    }

    /// Keeps the paths for which `keep` is true, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&Path) -> bool) {
        match self {
            Paths::Empty => {}
            Paths::One(p) => {
                if !keep(p) {
                    *self = Paths::Empty;
                }
            }
            Paths::Many(v) => {
                v.retain(|p| keep(p));
                if v.len() < 2 {
                    *self = Paths::from_vec(std::mem::take(&mut **v));
                }
            }
        }
    }
}

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
    /// Prefixes whose selection did not change but whose other paths did (a path that is
    /// neither best nor in the ECMP set came, went or changed). Only update groups with ADD-PATH
    /// transmit send such paths; the RIB lists these prefixes only while such a group exists.
    /// Not for the FIB.
    pub other_paths: Vec<Prefix>,
}

impl Changes {
    /// No change at all (neither of the selection nor of other paths).
    pub fn is_empty(&self) -> bool {
        self.loc_rib.is_empty() && self.other_paths.is_empty()
    }

    pub fn len(&self) -> usize {
        self.loc_rib.len()
    }

    /// Append `other`, keeping the last change per prefix.
    pub fn extend(&mut self, other: Changes) {
        self.append(other);
        self.dedup();
    }

    /// Append `other` without merging changes of the same prefix; call [`Changes::dedup`]
    /// once after the last append (cheaper than [`Changes::extend`] in a loop).
    pub fn append(&mut self, mut other: Changes) {
        if self.loc_rib.is_empty() {
            self.loc_rib = other.loc_rib;
        } else {
            self.loc_rib.append(&mut other.loc_rib);
        }
        if self.other_paths.is_empty() {
            self.other_paths = other.other_paths;
        } else {
            self.other_paths.append(&mut other.other_paths);
        }
    }

    /// Keep only the last change of each prefix (in the position of its first change).
    ///
    /// Sorts `(prefix, index)` pairs instead of hashing: O(n log n) worst case whatever the
    /// prefixes a peer sends, and no per-element hasher cost.
    pub fn dedup(&mut self) {
        if self.other_paths.len() > 1 {
            self.other_paths.sort_unstable();
            self.other_paths.dedup();
        }
        if self.loc_rib.len() < 2 {
            return;
        }
        // A peer's UPDATEs usually list prefixes in order: then no prefix repeats.
        if self.loc_rib.windows(2).all(|w| w[0].prefix < w[1].prefix) {
            return;
        }
        let mut keys: Vec<(Prefix, usize)> = self
            .loc_rib
            .iter()
            .enumerate()
            .map(|(i, c)| (c.prefix, i))
            .collect();
        keys.sort_unstable();
        if keys.windows(2).all(|w| w[0].0 != w[1].0) {
            return;
        }
        // Per prefix: (index of its first change, index of its last change).
        let mut spans: Vec<(usize, usize)> = Vec::with_capacity(keys.len());
        for run in keys.chunk_by(|a, b| a.0 == b.0) {
            if let (Some(first), Some(last)) = (run.first(), run.last()) {
                spans.push((first.1, last.1));
            }
        }
        drop(keys);
        spans.sort_unstable();
        let mut slots: Vec<Option<LocRibChange>> = std::mem::take(&mut self.loc_rib)
            .into_iter()
            .map(Some)
            .collect();
        self.loc_rib = spans
            .into_iter()
            .filter_map(|(_, last)| slots[last].take())
            .collect();
    }
}

/// The selection's identity, to tell whether a batch changed it: source, path id and the
/// accepted set's address (0: none) of each selected path. Addresses identify sets because the
/// interner keeps every set alive until its collection, which runs between batches, never
/// between taking a signature and comparing it (and no reference count is touched).
pub(crate) type Signature = SmallVec<[(u32, u32, usize); 2]>;

impl Dest {
    pub fn signature(&self) -> Signature {
        self.paths[..usize::from(self.selected)]
            .iter()
            .map(|p| (p.source(), p.path_id, p.accepted().map_or(0, Attrs::addr)))
            .collect()
    }

    /// Whether any path uses `source`.
    pub fn position(&self, source: u32, path_id: u32) -> Option<usize> {
        self.paths
            .iter()
            .position(|p| p.source() == source && p.path_id == path_id)
    }
}

/// How a path's next hop resolves. A link-local next hop (RFC 2545 §3) is on the link the
/// route came over, so it is reachable (cost 0) whatever the global one resolves to.
fn resolve(attrs: &crate::intern::AttrSet, nh: &mut NextHopTable) -> Option<Resolution> {
    if nh.is_enabled() && attrs.link_local_next_hop().is_some() {
        return Some(Resolution::Resolved { cost: Some(0) });
    }
    attrs.next_hop().map(|a| nh.resolve(a))
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
    let Some(acc) = p.accepted() else {
        return (src, None, Some(Ineligible::RejectedByImport));
    };
    match resolve(acc, nh) {
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

/// The selection of `dest` (without the loss details [`rank_paths`] adds).
pub(crate) fn run_selection(
    dest: &Dest,
    local: &LocalInfo,
    nh: &mut NextHopTable,
    facts: &impl Fn(u32) -> Option<PeerFacts>,
) -> Selection {
    with_candidates(dest, nh, facts, |cands| {
        best_path::select(cands, local.asn, &local.decision)
    })
}

/// Every path of `dest` in decision order ([`best_path::rank`]) with the selection and the keys
/// the decision compared, per path (indexed like `dest.paths`): for `show route all`.
pub(crate) fn rank_paths(
    dest: &Dest,
    local: &LocalInfo,
    nh: &mut NextHopTable,
    facts: &impl Fn(u32) -> Option<PeerFacts>,
) -> (Selection, Vec<usize>, Vec<DecisionKeys>) {
    with_candidates(dest, nh, facts, |cands| {
        let (sel, order) = best_path::rank(cands, local.asn, &local.decision);
        let keys = cands
            .iter()
            .map(|c| best_path::decision_keys(c, local.asn, &local.decision))
            .collect();
        (sel, order, keys)
    })
}

/// Runs `f` over the decision's candidates for `dest` (one per path, same order).
fn with_candidates<T>(
    dest: &Dest,
    nh: &mut NextHopTable,
    facts: &impl Fn(u32) -> Option<PeerFacts>,
    f: impl FnOnce(&[Candidate<'_>]) -> T,
) -> T {
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
            attrs: &p.accepted().unwrap_or(p.received()).attrs,
            igp_cost: *igp_cost,
            ineligible: *ineligible,
        })
        .collect();
    f(&cands)
}

/// Move `paths[order[k]]` to position k, keeping the others after them.
fn reorder_front(paths: &mut Paths, order: &[usize]) {
    if order.iter().enumerate().all(|(k, &i)| k == i) {
        return;
    }
    let mut taken: SmallVec<[Option<Path>; 4]> = std::mem::take(paths)
        .into_vec()
        .into_iter()
        .map(Some)
        .collect();
    let mut out: Vec<Path> = Vec::with_capacity(taken.len());
    for &i in order {
        if let Some(p) = taken[i].take() {
            out.push(p);
        }
    }
    out.extend(taken.into_iter().flatten());
    *paths = Paths::from_vec(out);
}

/// How many routes [`selected_routes`] would hand out for `dest`, without building them.
pub(crate) fn selected_count(dest: &Dest, facts: &impl Fn(u32) -> Option<PeerFacts>) -> usize {
    dest.paths[..usize::from(dest.selected)]
        .iter()
        .filter(|p| p.is_accepted() && (p.source() == LOCAL_SOURCE || facts(p.source()).is_some()))
        .count()
}

/// The selected routes of `dest` as handed out.
pub(crate) fn selected_routes(
    dest: &Dest,
    nh: &mut NextHopTable,
    facts: &impl Fn(u32) -> Option<PeerFacts>,
) -> Vec<SelectedRoute> {
    selected_iter(dest, nh, facts).collect()
}

/// The best route of `dest` (the first of [`selected_routes`]), without building the others.
pub(crate) fn best_route(
    dest: &Dest,
    nh: &mut NextHopTable,
    facts: &impl Fn(u32) -> Option<PeerFacts>,
) -> Option<SelectedRoute> {
    selected_iter(dest, nh, facts).next()
}

fn selected_iter<'a>(
    dest: &'a Dest,
    nh: &'a mut NextHopTable,
    facts: &'a impl Fn(u32) -> Option<PeerFacts>,
) -> impl Iterator<Item = SelectedRoute> + 'a {
    dest.paths[..usize::from(dest.selected)]
        .iter()
        .filter_map(move |p| route_of(p, nh, facts))
}

/// Every route of `dest` that ADD-PATH transmit (RFC 7911) advertises: the selected routes
/// (best first, then the ECMP set), then every other feasible path (accepted by import, no
/// loop, next hop resolvable), as BIRD 1.6 does with `add paths tx` (it exports every route of
/// the table that the export filter accepts, not only the best).
pub(crate) fn advertisable_routes<'a>(
    dest: &'a Dest,
    nh: &'a mut NextHopTable,
    facts: &'a impl Fn(u32) -> Option<PeerFacts>,
) -> impl Iterator<Item = SelectedRoute> + 'a {
    let selected = usize::from(dest.selected);
    dest.paths.iter().enumerate().filter_map(move |(i, p)| {
        if i >= selected && candidate_facts(p, nh, facts).2.is_some() {
            return None;
        }
        route_of(p, nh, facts)
    })
}

/// A path as handed out, `None` when it was not accepted or its peer is gone.
fn route_of(
    p: &Path,
    nh: &mut NextHopTable,
    facts: &impl Fn(u32) -> Option<PeerFacts>,
) -> Option<SelectedRoute> {
    let attrs = p.accepted()?.clone();
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
    let igp_cost = match resolve(&attrs, nh) {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pfx(n: u8) -> Prefix {
        Prefix::new(IpAddr::V4(std::net::Ipv4Addr::new(10, n, 0, 0)), 16).unwrap()
    }

    thread_local! {
        static ATTRS: Attrs =
            crate::intern::Interner::default().intern(crate::intern::AttrSet::default());
        static PAIR: crate::intern::PathAttrs = {
            let a = ATTRS.with(Attrs::clone);
            crate::intern::Interner::default().pair(a.clone(), Some(a))
        };
    }

    /// A change told apart from others of its prefix by `routes.len()`.
    fn change(n: u8, tag: usize) -> LocRibChange {
        let route = SelectedRoute {
            peer: None,
            origin: RouteOrigin::Local,
            path_id: 0,
            attrs: ATTRS.with(Attrs::clone),
            next_hop: None,
            igp_cost: None,
            stale: false,
        };
        LocRibChange {
            prefix: pfx(n),
            routes: vec![route; tag],
        }
    }

    /// The obvious quadratic definition of `dedup`.
    fn reference(v: &[LocRibChange]) -> Vec<LocRibChange> {
        let mut out: Vec<LocRibChange> = Vec::new();
        for c in v {
            match out.iter_mut().find(|o| o.prefix == c.prefix) {
                Some(o) => o.routes = c.routes.clone(),
                None => out.push(c.clone()),
            }
        }
        out
    }

    fn path(source: u32) -> Path {
        Path::new(source, 7, PAIR.with(Clone::clone), Path::reason_bits(None))
    }

    fn sources(p: &Paths) -> Vec<u32> {
        p.iter().map(Path::source).collect()
    }

    #[test]
    fn paths_go_from_none_to_one_to_many_and_back_keeping_their_order() {
        let mut p = Paths::default();
        assert!(p.is_empty());
        p.push(path(1));
        assert!(matches!(p, Paths::One(_)));
        p.push(path(2));
        p.push(path(LOCAL_SOURCE));
        assert_eq!(sources(&p), [1, 2, LOCAL_SOURCE]);
        assert_eq!(p.remove(1).source(), 2);
        assert_eq!(sources(&p), [1, LOCAL_SOURCE]);
        p[1].mark_stale();
        assert!(p[1].is_stale() && !p[0].is_stale());
        assert_eq!(p[1].path_id, 7);
        p.retain(|x| !x.is_stale());
        assert!(matches!(p, Paths::One(_)), "{p:?}");
        assert_eq!(sources(&p), [1]);
        assert_eq!(p.remove(0).source(), 1);
        assert!(matches!(p, Paths::Empty));
        for s in [3, 4, 5] {
            p.push(path(s));
        }
        p.retain(|x| x.source() == 4);
        assert!(matches!(p, Paths::One(_)));
        p.retain(|_| false);
        assert!(matches!(p, Paths::Empty));
        // The largest peer id survives the split into 16 + 8 bits.
        assert_eq!(path(0x00ab_cdef).source(), 0x00ab_cdef);
    }

    #[test]
    fn reorder_front_moves_the_selected_paths_first() {
        let mut p = Paths::default();
        for s in [1, 2, 3] {
            p.push(path(s));
        }
        reorder_front(&mut p, &[2, 0]);
        assert_eq!(sources(&p), [3, 1, 2]);
    }

    #[test]
    fn dedup_keeps_last_change_at_first_position() {
        let mut c = Changes {
            loc_rib: vec![
                change(1, 1),
                change(2, 1),
                change(1, 2),
                change(3, 0),
                change(2, 3),
            ],
            ..Changes::default()
        };
        c.dedup();
        assert_eq!(c.loc_rib, vec![change(1, 2), change(2, 3), change(3, 0)]);
    }

    #[test]
    fn dedup_matches_reference_on_pseudo_random_sequences() {
        let mut x: u32 = 12345;
        for len in 0..60usize {
            let v: Vec<LocRibChange> = (0..len)
                .map(|i| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    change(u8::try_from((x >> 16) % 9).unwrap(), i % 4)
                })
                .collect();
            let mut c = Changes {
                loc_rib: v.clone(),
                ..Changes::default()
            };
            c.dedup();
            assert_eq!(c.loc_rib, reference(&v), "len {len}");
        }
    }

    #[test]
    fn append_then_dedup_equals_repeated_extend() {
        let parts = [
            vec![change(1, 1), change(2, 1)],
            vec![],
            vec![change(2, 2), change(3, 1), change(2, 0)],
            vec![change(1, 3)],
        ];
        let mut a = Changes::default();
        let mut b = Changes::default();
        for p in &parts {
            a.extend(Changes {
                loc_rib: p.clone(),
                ..Changes::default()
            });
            b.append(Changes {
                loc_rib: p.clone(),
                ..Changes::default()
            });
        }
        b.dedup();
        assert_eq!(a, b);
        assert_eq!(a.loc_rib, vec![change(1, 3), change(2, 0), change(3, 1)]);
    }
}
