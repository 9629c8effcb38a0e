//! The RIB facade: one value owning Adj-RIB-In, Loc-RIB, the update groups' Adj-RIB-Out, the
//! attribute interner and the next-hop table. Every method is synchronous and returns what
//! changed; `bgpd`'s RIB actor owns it and feeds it batches.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::Ipv4Addr;

use bgp_proto::nlri::family_of;
use bgp_proto::update::Update;
use bgp_proto::{Family, Prefix, RouterId};
use bytes::Bytes;

use crate::adj_rib_in::{status, ImportPolicy, ImportVerdict, Path, LOCAL_SOURCE};
use crate::adj_rib_out::{
    AdjRibOut, ExportPolicy, ExportVerdict, GroupBytes, GroupUpdate, PathKey, Wanted,
};
use crate::best_path::{DecisionKeys, Ineligible, LossReason};
use crate::error::RibError;
use crate::intern::{AttrSet, Attrs, Interner, PathAttrs};
use crate::limit::{Admit, FamilyLimits, LimitHit, LimitKind, LimitState, PeerLimits, RouteCounts};
use crate::loc_rib::{self, Changes, LocRibChange, PeerFacts, SelectedRoute, Table};
use crate::next_hop::{IgpRoute, NextHopTable};
use crate::peer::{
    DecisionOptions, GroupId, GroupKey, IdMap, LocalInfo, PeerId, PeerInfo, SessionInfo,
    SessionKind,
};
use crate::route_reflection::{self, RouteOrigin};

/// One received route of a batch: `attrs: None` withdraws it.
#[derive(Debug, Clone)]
pub struct RouteUpdate {
    pub prefix: Prefix,
    /// ADD-PATH path identifier (0 without ADD-PATH).
    pub path_id: u32,
    pub attrs: Option<Attrs>,
}

/// One path of a prefix, explained (for `show route all`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathExplanation {
    /// `None` for a locally originated route.
    pub peer: Option<PeerId>,
    pub path_id: u32,
    pub received: Attrs,
    pub accepted: Option<Attrs>,
    pub stale: bool,
    /// `None` for the best route, else why it lost (ECMP members carry a tie-break reason and
    /// `in_ecmp`).
    pub lost: Option<LossReason>,
    pub in_ecmp: bool,
    /// What the decision compared for this path (for an ineligible path: what it would have).
    pub keys: DecisionKeys,
}

/// Encoded UPDATEs for one peer, and the routes that could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// Whole BGP messages, back to back.
    pub bytes: Bytes,
    pub errors: Vec<(Prefix, RibError)>,
}

/// What [`Rib::peer_up`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerUp {
    /// The update group the peer joined.
    pub group: GroupId,
    /// The initial UPDATEs for this peer: the group's Adj-RIB-Out and End-of-RIB markers.
    pub encoded: Encoded,
}

#[derive(Debug)]
struct PeerState {
    info: PeerInfo,
    kind: SessionKind,
    session: Option<SessionInfo>,
    group: Option<GroupId>,
    /// The last router id seen (kept across a graceful restart for the stale routes).
    router_id: RouterId,
    /// Families in which the peer may have stale paths (End-of-RIB of any other family need
    /// not scan the table).
    stale: Vec<Family>,
    /// Its route counts and prefix limits.
    limits: PeerLimits,
}

#[derive(Debug)]
struct Group {
    key: GroupKey,
    members: BTreeSet<PeerId>,
    out: AdjRibOut,
}

/// Counters for `show memory`-style output and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RibStats {
    pub prefixes: usize,
    pub paths: usize,
    pub attr_sets: usize,
    pub groups: usize,
}

/// The routing information bases of one BGP speaker.
#[derive(Debug)]
pub struct Rib {
    local: LocalInfo,
    peers: IdMap<PeerId, PeerState>,
    table: Table,
    interner: Interner,
    next_hops: NextHopTable,
    groups: BTreeMap<GroupId, Group>,
    group_ids: HashMap<GroupKey, GroupId>,
    next_group: u32,
    /// Whether changes carry their routes ([`Rib::set_detailed_changes`]).
    detailed: bool,
    /// The caller's clock ([`Rib::set_clock`]).
    clock: u32,
    /// Selected routes (IPv4, IPv6), as the changes reported them.
    selected: [usize; 2],
    /// Paths accepted by import (what `show route` lists) of (IPv4, IPv6) prefixes.
    accepted: [usize; 2],
    /// Prefixes with a selected route (IPv4, IPv6), likewise.
    networks: [usize; 2],
}

fn facts_of(peers: &IdMap<PeerId, PeerState>) -> impl Fn(u32) -> Option<PeerFacts> + '_ {
    move |id| {
        peers.get(&PeerId(id)).map(|p| PeerFacts {
            kind: p.kind,
            rr_client: p.info.rr_client,
            router_id: p.router_id,
            addr: p.info.addr,
        })
    }
}

/// Collects the Loc-RIB changes of a batch.
struct Batch {
    changes: Vec<LocRibChange>,
    /// Build each change's routes (else only the prefix; see [`Rib::set_detailed_changes`]).
    detailed: bool,
    clock: u32,
    /// Change of the selected route counts (IPv4, IPv6).
    delta: [isize; 2],
    /// Change of the counts of prefixes with a selected route (IPv4, IPv6).
    delta_nets: [isize; 2],
    /// Whether to list prefixes whose other paths changed ([`Changes::other_paths`]): only
    /// while some update group sends every path (ADD-PATH transmit).
    track_other_paths: bool,
    other_paths: Vec<Prefix>,
}

impl Batch {
    /// A path of `prefix` outside the selection changed (the selection did not).
    fn other_path(&mut self, prefix: Prefix) {
        if self.track_other_paths {
            self.other_paths.push(prefix);
        }
    }

    /// The selection of `d` changed: stamp it, count it, report it.
    fn record(
        &mut self,
        prefix: Prefix,
        d: &mut loc_rib::Dest,
        nh: &mut NextHopTable,
        facts: &impl Fn(u32) -> Option<PeerFacts>,
    ) {
        let routes = if self.detailed {
            loc_rib::selected_routes(d, nh, facts)
        } else {
            Vec::new()
        };
        let n = if self.detailed {
            routes.len()
        } else {
            loc_rib::selected_count(d, facts)
        };
        let fam = usize::from(!prefix.addr().is_ipv4());
        // `n` is at most `d.selected`, a u8.
        self.delta[fam] += n as isize - isize::from(d.reported);
        self.delta_nets[fam] += isize::from(n > 0) - isize::from(d.reported > 0);
        d.reported = u8::try_from(n).unwrap_or(u8::MAX);
        d.changed = self.clock;
        self.changes.push(LocRibChange { prefix, routes });
    }
}

impl Rib {
    /// An empty RIB.
    pub fn new(local: LocalInfo) -> Self {
        Rib {
            local,
            peers: IdMap::default(),
            table: Table::default(),
            interner: Interner::new(),
            next_hops: NextHopTable::default(),
            groups: BTreeMap::new(),
            group_ids: HashMap::new(),
            next_group: 0,
            detailed: true,
            clock: 0,
            selected: [0, 0],
            accepted: [0, 0],
            networks: [0, 0],
        }
    }

    /// Whether [`LocRibChange::routes`] is filled (the default). Without detail each change
    /// carries its prefix only (`routes` empty whatever the new selection): enough for
    /// [`Rib::export`], which looks the routes up itself, and cheaper when no FIB wants them.
    pub fn set_detailed_changes(&mut self, detailed: bool) {
        self.detailed = detailed;
    }

    /// Set the clock that stamps changed prefixes ([`Rib::changed_at`]), in the caller's units
    /// (`bgpd`: seconds since the actor started).
    pub fn set_clock(&mut self, now: u32) {
        self.clock = now;
    }

    /// The clock value when the selection of `prefix` last changed.
    pub fn changed_at(&self, prefix: &Prefix) -> Option<u32> {
        self.table
            .get(prefix)
            .filter(|d| d.selected > 0)
            .map(|d| d.changed)
    }

    /// Selected routes (best and ECMP members) of (IPv4, IPv6) prefixes, counted as the
    /// reported changes listed them.
    pub fn selected_counts(&self) -> (usize, usize) {
        (self.selected[0], self.selected[1])
    }

    /// Prefixes with at least one selected route (IPv4, IPv6), counted likewise: with
    /// [`Rib::selected_counts`], an unfiltered `show route count` without walking the table.
    pub fn selected_networks(&self) -> (usize, usize) {
        (self.networks[0], self.networks[1])
    }

    /// Paths accepted by import, selected or not (IPv4, IPv6): every route `show route` lists
    /// (with those whose next hop does not resolve), without walking the table.
    pub fn accepted_counts(&self) -> (usize, usize) {
        (self.accepted[0], self.accepted[1])
    }

    fn batch(&self) -> Batch {
        Batch {
            changes: Vec::new(),
            detailed: self.detailed,
            clock: self.clock,
            delta: [0, 0],
            delta_nets: [0, 0],
            track_other_paths: self.groups.values().any(|g| g.key.add_path_tx()),
            other_paths: Vec::new(),
        }
    }

    /// Apply a batch's counts and hand its changes out.
    fn finish(&mut self, b: Batch) -> Changes {
        for (c, d) in self.selected.iter_mut().zip(b.delta) {
            *c = c.saturating_add_signed(d);
        }
        for (c, d) in self.networks.iter_mut().zip(b.delta_nets) {
            *c = c.saturating_add_signed(d);
        }
        Changes {
            loc_rib: b.changes,
            other_paths: b.other_paths,
        }
    }

    /// Who we are.
    pub fn local(&self) -> &LocalInfo {
        &self.local
    }

    /// Intern an attribute set (for [`Rib::apply_routes`] and [`Rib::originate`]).
    pub fn intern(&mut self, set: AttrSet) -> Attrs {
        self.interner.intern(set)
    }

    /// Sizes of the tables.
    pub fn stats(&self) -> RibStats {
        RibStats {
            prefixes: self.table.len(),
            paths: self.table.iter().map(|(_, d)| d.paths.len()).sum(),
            attr_sets: self.interner.len(),
            groups: self.groups.len(),
        }
    }

    /// Free attribute sets no route uses any more (also done automatically, amortised).
    pub fn collect_garbage(&mut self) -> usize {
        self.interner.collect()
    }

    /// Configure a peer (its session is down until [`Rib::peer_up`]).
    pub fn add_peer(&mut self, info: PeerInfo) -> Result<(), RibError> {
        if info.id.0 >= LOCAL_SOURCE {
            return Err(RibError::PeerIdTooLarge(info.id));
        }
        if self.peers.contains_key(&info.id) {
            return Err(RibError::DuplicatePeer(info.id));
        }
        let kind = info.kind(&self.local);
        self.peers.insert(
            info.id,
            PeerState {
                info,
                kind,
                session: None,
                group: None,
                router_id: RouterId(Ipv4Addr::UNSPECIFIED),
                stale: Vec::new(),
                limits: PeerLimits::default(),
            },
        );
        Ok(())
    }

    /// Remove a peer and all its routes.
    pub fn remove_peer(&mut self, id: PeerId) -> Result<Changes, RibError> {
        let changes = self.peer_down(id, false)?;
        self.peers.remove(&id);
        Ok(changes)
    }

    /// The peer's configuration.
    pub fn peer(&self, id: PeerId) -> Option<&PeerInfo> {
        self.peers.get(&id).map(|p| &p.info)
    }

    /// The update group a peer is in while its session is up.
    pub fn group_of(&self, id: PeerId) -> Option<GroupId> {
        self.peers.get(&id).and_then(|p| p.group)
    }

    /// A group's key and members.
    pub fn group(&self, id: GroupId) -> Option<(&GroupKey, impl Iterator<Item = &PeerId> + '_)> {
        self.groups.get(&id).map(|g| (&g.key, g.members.iter()))
    }

    /// A group's Adj-RIB-Out.
    pub fn adj_rib_out(&self, id: GroupId) -> Option<&AdjRibOut> {
        self.groups.get(&id).map(|g| &g.out)
    }

    /// The session came up: the peer joins the update group for its key (created and filled
    /// from the Loc-RIB through `export` if new). Returns the initial UPDATEs for this peer
    /// alone: the group's whole Adj-RIB-Out and an End-of-RIB per family (RFC 4724 §2).
    pub fn peer_up(
        &mut self,
        id: PeerId,
        session: SessionInfo,
        export: &mut impl ExportPolicy,
    ) -> Result<PeerUp, RibError> {
        let p = self.peers.get_mut(&id).ok_or(RibError::UnknownPeer(id))?;
        if let Some(g) = p.group.take() {
            leave_group(&mut self.groups, &mut self.group_ids, g, id);
        }
        let key = GroupKey::new(&p.info, p.kind, &session);
        // BIRD resets the limits when the protocol comes up.
        p.limits.reset();
        p.router_id = session.router_id;
        p.session = Some(session);
        let mut errors = Vec::new();
        let gid = self.join_group(id, key, export, &mut errors);
        let group = self.groups.get(&gid).ok_or(RibError::UnknownPeer(id))?;
        let bytes = group.out.dump(
            &group.key.context,
            &group.key.families,
            own_route(&self.table, id),
            &mut errors,
        );
        tracing::info!(peer = %id, group = gid.0, routes = group.out.len(), "peer joined update group");
        Ok(PeerUp {
            group: gid,
            encoded: Encoded { bytes, errors },
        })
    }

    /// Change a peer's configuration (e.g. its export policy id after a reload). If its session
    /// is up and its update group changes, it moves to the new group and the UPDATEs returned
    /// (for this peer alone) take it from what the old group sent to what the new one sends,
    /// without resetting the session. Changes of AS or address need a session reset instead.
    pub fn update_peer(
        &mut self,
        info: PeerInfo,
        export: &mut impl ExportPolicy,
    ) -> Result<Option<Encoded>, RibError> {
        let id = info.id;
        let local = self.local;
        let p = self.peers.get_mut(&id).ok_or(RibError::UnknownPeer(id))?;
        p.kind = info.kind(&local);
        p.info = info;
        let Some(session) = p.session.clone() else {
            return Ok(None);
        };
        let key = GroupKey::new(&p.info, p.kind, &session);
        let old = p.group;
        if old.is_some_and(|g| self.groups.get(&g).is_some_and(|x| x.key == key)) {
            return Ok(None);
        }
        let old_group = old.and_then(|g| self.groups.get(&g));
        // A lagging member moves lagging: it gets the difference when it catches up.
        let lagging = old_group.and_then(|g| g.out.held_by(id));
        let sent = match (&lagging, old_group) {
            (None, Some(g)) => g.out.snapshot(),
            _ => AdjRibOut::default(),
        };
        if let Some(g) = old {
            leave_group(&mut self.groups, &mut self.group_ids, g, id);
        }
        let mut errors = Vec::new();
        let gid = self.join_group(id, key, export, &mut errors);
        if let Some(mut held) = lagging {
            let group = self.groups.get_mut(&gid).ok_or(RibError::UnknownPeer(id))?;
            group.out.widen(&mut held);
            group.out.start_lag_with(id, held);
            tracing::info!(peer = %id, group = gid.0, "lagging peer moved to another update group");
            return Ok(None);
        }
        let group = self.groups.get(&gid).ok_or(RibError::UnknownPeer(id))?;
        let bytes = group.out.diff_from(
            &sent,
            &group.key.context,
            own_route(&self.table, id),
            &mut errors,
        );
        tracing::info!(peer = %id, group = gid.0, "peer moved to another update group");
        Ok(Some(Encoded { bytes, errors }))
    }

    /// Add `id` to the group for `key`, creating and filling it from the Loc-RIB if needed.
    fn join_group(
        &mut self,
        id: PeerId,
        key: GroupKey,
        export: &mut impl ExportPolicy,
        errors: &mut Vec<(Prefix, RibError)>,
    ) -> GroupId {
        // `Some(None)`: a new group, fill it from the whole Loc-RIB; `Some(Some(m))`: a group
        // of one (`m`) that did not carry `m`'s own routes (split horizon, see
        // `export_group`), which the newcomer needs.
        let (gid, fill) = match self.group_ids.get(&key) {
            Some(g) => {
                let alone = self
                    .groups
                    .get(g)
                    .filter(|x| x.members.len() == 1)
                    .and_then(|x| x.members.first().copied());
                (*g, alone.map(Some))
            }
            None => {
                let g = GroupId(self.next_group);
                self.next_group += 1;
                self.group_ids.insert(key.clone(), g);
                self.groups.insert(
                    g,
                    Group {
                        key,
                        members: BTreeSet::new(),
                        out: AdjRibOut::default(),
                    },
                );
                (g, Some(None))
            }
        };
        if let Some(group) = self.groups.get_mut(&gid) {
            group.members.insert(id);
        }
        if let Some(p) = self.peers.get_mut(&id) {
            p.group = Some(gid);
        }
        let prefixes: Vec<Prefix> = match fill {
            None => Vec::new(),
            Some(None) => self.table.keys().collect(),
            Some(Some(m)) => {
                // Only the routes whose best path is `m`'s (with ADD-PATH transmit: with any
                // path of `m`): every other prefix is already as `m` was sent it. `m` is not
                // sent its own routes now; the Adj-RIB-Out then holds a few routes `m` was not
                // sent, which only costs it a no-op withdrawal or re-announcement later.
                let facts = facts_of(&self.peers);
                let ctx = self
                    .groups
                    .get(&gid)
                    .map(|x| x.key.context)
                    .unwrap_or_default();
                let mut v = Vec::new();
                for (p, d) in self.table.iter() {
                    let has_m = if ctx.add_path_tx(family_of(&p)) {
                        d.paths.iter().any(|x| x.source() == m.0)
                    } else {
                        loc_rib::best_route(d, &mut self.next_hops, &facts)
                            .is_some_and(|r| r.peer == Some(m))
                    };
                    if has_m {
                        v.push(p);
                    }
                }
                v
            }
        };
        if !prefixes.is_empty() {
            // The caller dumps the Adj-RIB-Out to the new member, so the encoded difference
            // (new routes for the newcomer, or `m`'s own routes) is not needed.
            let _ = self.export_group(gid, &prefixes, export, errors);
        }
        gid
    }

    /// The session went down. With `graceful` (RFC 4724 §4.2, the peer negotiated graceful
    /// restart) its routes stay, marked stale, until End-of-RIB or [`Rib::sweep_stale`];
    /// otherwise they are removed.
    pub fn peer_down(&mut self, id: PeerId, graceful: bool) -> Result<Changes, RibError> {
        let p = self.peers.get_mut(&id).ok_or(RibError::UnknownPeer(id))?;
        p.session = None;
        if let Some(g) = p.group.take() {
            leave_group(&mut self.groups, &mut self.group_ids, g, id);
        }
        if graceful {
            let mut families = Vec::new();
            for (prefix, d) in self.table.iter_mut() {
                for path in d.paths.iter_mut().filter(|x| x.source() == id.0) {
                    path.mark_stale();
                    let f = family_of(&prefix);
                    if !families.contains(&f) {
                        families.push(f);
                    }
                }
            }
            p.stale = families;
            return Ok(Changes::default());
        }
        p.stale.clear();
        Ok(self.remove_paths(|p| p.source() == id.0))
    }

    /// Remove a peer's stale routes (the restart timer fired, or the session ended for good).
    pub fn sweep_stale(&mut self, id: PeerId) -> Changes {
        match self.peers.get_mut(&id) {
            Some(p) if !p.stale.is_empty() => p.stale.clear(),
            _ => return Changes::default(),
        }
        self.remove_paths(|p| p.source() == id.0 && p.is_stale())
    }

    /// End-of-RIB from a peer (RFC 4724 §4.2): its stale routes of that family are removed.
    pub fn end_of_rib(&mut self, id: PeerId, family: Family) -> Changes {
        match self.peers.get_mut(&id) {
            Some(p) if p.stale.contains(&family) => p.stale.retain(|f| *f != family),
            _ => return Changes::default(),
        }
        let stale = self.remove_paths_in(Some(family), |p| p.source() == id.0 && p.is_stale());
        tracing::debug!(peer = %id, %family, removed = stale.len(), "end of RIB");
        stale
    }

    fn remove_paths(&mut self, pred: impl Fn(&Path) -> bool) -> Changes {
        self.remove_paths_in(None, pred)
    }

    fn remove_paths_in(&mut self, family: Option<Family>, pred: impl Fn(&Path) -> bool) -> Changes {
        let mut batch = self.batch();
        let facts = facts_of(&self.peers);
        let mut empty = Vec::new();
        // Removed routes per source, family and accepted flag, for the counts (few entries:
        // the predicates select one peer).
        let mut removed: Vec<(u32, Family, bool, u32)> = Vec::new();
        for (prefix, d) in self.table.iter_mut() {
            if family.is_some_and(|f| family_of(&prefix) != f) || !d.paths.iter().any(&pred) {
                continue;
            }
            let before = d.signature();
            let fam = usize::from(!prefix.addr().is_ipv4());
            let gone = d
                .paths
                .iter()
                .filter(|p| p.is_accepted() && pred(p))
                .count();
            self.accepted[fam] = self.accepted[fam].saturating_sub(gone);
            let family = family_of(&prefix);
            d.paths.retain(|p| {
                let gone = pred(p);
                if gone {
                    let key = (p.source(), family, p.is_accepted());
                    match removed.iter_mut().find(|r| (r.0, r.1, r.2) == key) {
                        Some(r) => r.3 += 1,
                        None => removed.push((key.0, key.1, key.2, 1)),
                    }
                }
                !gone
            });
            loc_rib::decide(d, &self.local, &mut self.next_hops, &facts);
            if d.signature() != before {
                batch.record(prefix, d, &mut self.next_hops, &facts);
            } else {
                batch.other_path(prefix);
            }
            if d.paths.is_empty() {
                empty.push(prefix);
            }
        }
        drop(facts);
        for p in empty {
            self.table.remove(&p);
        }
        for (source, fam, accepted, n) in removed {
            if let Some(p) = self.peers.get_mut(&PeerId(source)) {
                p.limits.untally(fam, accepted, n);
            }
        }
        self.interner.maybe_collect();
        self.finish(batch)
    }

    /// Apply a decoded UPDATE from `peer` (after `Update::apply_ebgp_rules` on eBGP sessions).
    /// Treat-as-withdraw UPDATEs withdraw their prefixes (RFC 7606 §2); an End-of-RIB sweeps
    /// the peer's stale routes of its family.
    pub fn apply_update(
        &mut self,
        peer: PeerId,
        update: &Update,
        import: &mut impl ImportPolicy,
    ) -> Result<Changes, RibError> {
        self.check_up(peer)?;
        if let Some(f) = update.end_of_rib() {
            return Ok(self.end_of_rib(peer, f));
        }
        let mut routes = Vec::new();
        for (_, e) in update.withdrawals() {
            routes.push(RouteUpdate {
                prefix: e.prefix,
                path_id: e.path_id.unwrap_or(0),
                attrs: None,
            });
        }
        // `announced()` is empty for a treat-as-withdraw UPDATE (its prefixes are among the
        // withdrawals above); otherwise the classic NLRI and the MP_REACH NLRI carry different
        // next hops, hence two attribute sets.
        if update.announced().next().is_some() {
            if !update.nlri.is_empty() {
                let attrs = self.interner.intern(AttrSet {
                    attrs: update.attributes.clone(),
                    mp_next_hop: None,
                });
                routes.extend(update.nlri.iter().map(|e| RouteUpdate {
                    prefix: e.prefix,
                    path_id: e.path_id.unwrap_or(0),
                    attrs: Some(attrs.clone()),
                }));
            }
            if let Some(m) = update.mp_reach.as_ref().filter(|m| !m.nlri.is_empty()) {
                let mut a = update.attributes.clone();
                a.next_hop = None;
                let attrs = self.interner.intern(AttrSet {
                    attrs: a,
                    mp_next_hop: Some(m.next_hop),
                });
                routes.extend(m.nlri.iter().map(|e| RouteUpdate {
                    prefix: e.prefix,
                    path_id: e.path_id.unwrap_or(0),
                    attrs: Some(attrs.clone()),
                }));
            }
        }
        self.apply_routes(peer, routes, import)
    }

    fn check_up(&self, peer: PeerId) -> Result<&PeerState, RibError> {
        let p = self.peers.get(&peer).ok_or(RibError::UnknownPeer(peer))?;
        if p.session.is_none() {
            return Err(RibError::PeerNotUp(peer));
        }
        Ok(p)
    }

    /// Apply a batch of received routes from `peer`.
    pub fn apply_routes(
        &mut self,
        peer: PeerId,
        routes: impl IntoIterator<Item = RouteUpdate>,
        import: &mut impl ImportPolicy,
    ) -> Result<Changes, RibError> {
        let info = self.check_up(peer)?.info.clone();
        let mut batch = self.batch();
        // Receipt checks depend on the attributes only: cache them per set within a batch.
        let mut last_check: Option<(Attrs, Option<Ineligible>)> = None;
        // The pair of the last path made: the next route usually has the same.
        let mut last_pair: Option<PathAttrs> = None;
        for r in routes {
            match r.attrs {
                None => self.withdraw_path(&mut batch, r.prefix, peer.0, r.path_id),
                Some(received) => {
                    let loop_check = match &last_check {
                        Some((a, v)) if a.ptr_eq(&received) => *v,
                        _ => {
                            let v = route_reflection::check_received(
                                &self.local,
                                &info,
                                &received.attrs,
                            );
                            last_check = Some((received.clone(), v));
                            v
                        }
                    };
                    let family = family_of(&r.prefix);
                    // Only with a limit: what the peer held there before (BIRD's `old`).
                    let old = match self.peers.get(&peer) {
                        Some(p) if p.limits.any(family) => {
                            Some(self.held(r.prefix, peer, r.path_id))
                        }
                        _ => None,
                    };
                    if old == Some(None)
                        && self.admit(peer, family, LimitKind::Receive) == Admit::Blocked
                    {
                        continue;
                    }
                    // `Some(None)`: accepted as received (no handle cloned for it).
                    let (mut accepted, mut why) = match loop_check {
                        Some(why) => (None, Some(why)),
                        None => match import.import(&info, &r.prefix, &received) {
                            ImportVerdict::Accept => (Some(None), None),
                            ImportVerdict::Replace(s) => {
                                (Some(Some(self.interner.intern(*s))), None)
                            }
                            ImportVerdict::Reject => (None, Some(Ineligible::RejectedByImport)),
                        },
                    };
                    if let Some(old) = old {
                        if accepted.is_some()
                            && old != Some(true)
                            && self.admit(peer, family, LimitKind::Import) == Admit::Blocked
                        {
                            // Kept as filtered, as BIRD with `import keep filtered`.
                            accepted = None;
                            why = Some(Ineligible::RejectedByImport);
                        }
                    }
                    let pair = match &last_pair {
                        Some(p)
                            if p.is(
                                &received,
                                accepted.as_ref().map(|a| a.as_ref().unwrap_or(&received)),
                            ) =>
                        {
                            p.clone()
                        }
                        _ => {
                            let accepted = accepted.map(|a| a.unwrap_or_else(|| received.clone()));
                            let p = self.interner.pair(received, accepted);
                            last_pair = Some(p.clone());
                            p
                        }
                    };
                    let path = Path::new(peer.0, r.path_id, pair, Path::reason_bits(why));
                    self.upsert_path(&mut batch, r.prefix, path);
                }
            }
        }
        self.interner.maybe_collect();
        let mut c = self.finish(batch);
        c.dedup();
        Ok(c)
    }

    fn upsert_path(&mut self, batch: &mut Batch, prefix: Prefix, path: Path) {
        let facts = facts_of(&self.peers);
        let d = self.table.entry(prefix);
        let before = d.signature();
        let fam = usize::from(!prefix.addr().is_ipv4());
        self.accepted[fam] += usize::from(path.is_accepted());
        let (source, new) = (path.source(), path.is_accepted());
        let old = match d.position(source, path.path_id) {
            Some(i) => {
                let old = std::mem::replace(&mut d.paths[i], path).is_accepted();
                self.accepted[fam] -= usize::from(old);
                Some(old)
            }
            None => {
                d.paths.push(path);
                None
            }
        };
        loc_rib::decide(d, &self.local, &mut self.next_hops, &facts);
        if d.signature() != before {
            batch.record(prefix, d, &mut self.next_hops, &facts);
        } else {
            batch.other_path(prefix);
        }
        drop(facts);
        self.tally(source, family_of(&prefix), old, Some(new));
    }

    /// Keeps the peer's route counts (see [`crate::limit`]).
    fn tally(&mut self, source: u32, family: Family, old: Option<bool>, new: Option<bool>) {
        if let Some(p) = self.peers.get_mut(&PeerId(source)) {
            p.limits.tally(family, old, new);
        }
    }

    /// Whether `peer` holds a route for `prefix` and `path_id`, and whether it is accepted.
    fn held(&self, prefix: Prefix, peer: PeerId, path_id: u32) -> Option<bool> {
        let d = self.table.get(&prefix)?;
        d.position(peer.0, path_id)
            .map(|i| d.paths[i].is_accepted())
    }

    fn admit(&mut self, peer: PeerId, family: Family, kind: LimitKind) -> Admit {
        match self.peers.get_mut(&peer) {
            Some(p) => match kind {
                LimitKind::Receive => p.limits.admit_new(family),
                LimitKind::Import => p.limits.admit_accepted(family),
            },
            None => Admit::Yes,
        }
    }

    /// Sets a peer's prefix limits per family (index 0: IPv4, 1: IPv6): every limit state is
    /// reset and the counts are checked against the new limits at once (a count above a
    /// lowered limit is a hit, see [`Rib::take_limit_hits`]).
    pub fn set_limits(&mut self, peer: PeerId, limits: [FamilyLimits; 2]) -> Result<(), RibError> {
        let p = self
            .peers
            .get_mut(&peer)
            .ok_or(RibError::UnknownPeer(peer))?;
        p.limits.set(limits);
        Ok(())
    }

    /// The limits crossed since the last call, and how many accepted routes a blocked import
    /// limit kept as filtered meanwhile (routes a receive limit dropped were never imported).
    pub fn take_limit_hits(&mut self, peer: PeerId) -> (Vec<LimitHit>, u64) {
        match self.peers.get_mut(&peer) {
            Some(p) => (p.limits.take_hits(), p.limits.take_ignored()),
            None => (Vec::new(), 0),
        }
    }

    /// The state of one of a peer's limits.
    pub fn limit_state(&self, peer: PeerId, family: Family, kind: LimitKind) -> LimitState {
        self.peers
            .get(&peer)
            .map_or(LimitState::Initial, |p| p.limits.state(family, kind))
    }

    /// The routes held from a peer, per family.
    pub fn route_counts(&self, peer: PeerId) -> RouteCounts {
        self.peers
            .get(&peer)
            .map_or(RouteCounts::default(), |p| p.limits.counts)
    }

    fn withdraw_path(&mut self, batch: &mut Batch, prefix: Prefix, source: u32, path_id: u32) {
        let facts = facts_of(&self.peers);
        let Some(d) = self.table.get_mut(&prefix) else {
            return;
        };
        let Some(i) = d.position(source, path_id) else {
            return;
        };
        let before = d.signature();
        let fam = usize::from(!prefix.addr().is_ipv4());
        let old = d.paths.remove(i).is_accepted();
        if old {
            self.accepted[fam] = self.accepted[fam].saturating_sub(1);
        }
        loc_rib::decide(d, &self.local, &mut self.next_hops, &facts);
        if d.signature() != before {
            batch.record(prefix, d, &mut self.next_hops, &facts);
        } else {
            batch.other_path(prefix);
        }
        let empty = d.paths.is_empty();
        drop(facts);
        if empty {
            self.table.remove(&prefix);
        }
        self.tally(source, family_of(&prefix), Some(old), None);
    }

    /// Originate a route of this node (its IPAM blocks, service addresses). `attrs` may omit
    /// the next hop: the session address is used on export.
    pub fn originate(&mut self, prefix: Prefix, attrs: AttrSet) -> Changes {
        let received = self.interner.intern(attrs);
        let pair = self.interner.pair(received.clone(), Some(received));
        let path = Path::new(LOCAL_SOURCE, 0, pair, 0);
        let mut batch = self.batch();
        self.upsert_path(&mut batch, prefix, path);
        self.finish(batch)
    }

    /// Stop originating `prefix`.
    pub fn withdraw_local(&mut self, prefix: Prefix) -> Changes {
        let mut batch = self.batch();
        self.withdraw_path(&mut batch, prefix, LOCAL_SOURCE, 0);
        self.interner.maybe_collect();
        self.finish(batch)
    }

    /// Re-run the import policy over everything `peer` sent (after a policy change; no route
    /// refresh needed since Adj-RIB-In keeps the routes as received).
    pub fn reimport(
        &mut self,
        peer: PeerId,
        import: &mut impl ImportPolicy,
    ) -> Result<Changes, RibError> {
        let info = self
            .peers
            .get(&peer)
            .ok_or(RibError::UnknownPeer(peer))?
            .info
            .clone();
        let mut redo = Vec::new();
        for (prefix, d) in self.table.iter() {
            for p in d.paths.iter().filter(|p| p.source() == peer.0) {
                redo.push((
                    prefix,
                    p.path_id,
                    p.received().clone(),
                    p.is_stale(),
                    p.is_accepted(),
                ));
            }
        }
        let mut batch = self.batch();
        for (prefix, path_id, received, stale, was_accepted) in redo {
            let (mut accepted, mut why) =
                match route_reflection::check_received(&self.local, &info, &received.attrs) {
                    Some(why) => (None, Some(why)),
                    None => match import.import(&info, &prefix, &received) {
                        ImportVerdict::Accept => (Some(received.clone()), None),
                        ImportVerdict::Replace(s) => (Some(self.interner.intern(*s)), None),
                        ImportVerdict::Reject => (None, Some(Ineligible::RejectedByImport)),
                    },
                };
            if accepted.is_some()
                && !was_accepted
                && self.admit(peer, family_of(&prefix), LimitKind::Import) == Admit::Blocked
            {
                accepted = None;
                why = Some(Ineligible::RejectedByImport);
            }
            let mut st = Path::reason_bits(why);
            if stale {
                st |= status::STALE;
            }
            let pair = self.interner.pair(received, accepted);
            let path = Path::new(peer.0, path_id, pair, st);
            self.upsert_path(&mut batch, prefix, path);
        }
        self.interner.maybe_collect();
        Ok(self.finish(batch))
    }

    /// Replace the IGP table used to resolve next hops (`None`: no resolution, every next hop
    /// is reachable with unknown cost) and re-run the decision everywhere when a next hop in
    /// use resolves differently (RFC 4271 §9.1.2.1); otherwise nothing changes.
    pub fn set_igp_routes(&mut self, routes: Option<Vec<IgpRoute>>) -> Changes {
        if !self.next_hops.set(routes) {
            return Changes::default();
        }
        self.redecide()
    }

    /// Replace the decision options (MED comparison, missing MED, ECMP width, default
    /// LOCAL_PREF: a reload's `[bgp]` change) and re-run the decision for every prefix; the
    /// peers and their Adj-RIBs-In stay as they are. Returns the Loc-RIB changes to export and
    /// program (none when the options are the same).
    pub fn set_decision(&mut self, decision: DecisionOptions) -> Changes {
        if self.local.decision == decision {
            return Changes::default();
        }
        self.local.decision = decision;
        self.redecide()
    }

    /// The decision again for every prefix, with what it depends on as it is now.
    fn redecide(&mut self) -> Changes {
        let mut batch = self.batch();
        let facts = facts_of(&self.peers);
        for (prefix, d) in self.table.iter_mut() {
            let before = d.signature();
            loc_rib::decide(d, &self.local, &mut self.next_hops, &facts);
            if d.signature() != before {
                batch.record(prefix, d, &mut self.next_hops, &facts);
            } else if d.paths.len() > usize::from(d.selected) {
                // A path outside the selection may have become feasible or infeasible.
                batch.other_path(prefix);
            }
        }
        drop(facts);
        self.finish(batch)
    }

    /// The best route for `prefix`.
    pub fn best(&mut self, prefix: &Prefix) -> Option<SelectedRoute> {
        self.selected(prefix).into_iter().next()
    }

    /// The best route and the rest of the ECMP set for `prefix`.
    pub fn selected(&mut self, prefix: &Prefix) -> Vec<SelectedRoute> {
        let facts = facts_of(&self.peers);
        match self.table.get(prefix) {
            Some(d) => loc_rib::selected_routes(d, &mut self.next_hops, &facts),
            None => Vec::new(),
        }
    }

    /// The whole Loc-RIB as changes from empty (to sync a FIB at start).
    pub fn loc_rib(&mut self) -> Vec<LocRibChange> {
        let mut all = Vec::new();
        self.for_each_selected(|prefix, routes| all.push(LocRibChange { prefix, routes }));
        all
    }

    /// Visit every prefix with a selection, with what [`Rib::selected`] gives for it (the
    /// entries [`Rib::loc_rib`] would hold, same order), building one prefix's routes at a
    /// time: for counts and filtered listings that must not copy the whole table.
    pub fn for_each_selected(&mut self, mut visit: impl FnMut(Prefix, Vec<SelectedRoute>)) {
        let facts = facts_of(&self.peers);
        for (prefix, d) in self.table.iter().filter(|(_, d)| d.selected > 0) {
            visit(
                prefix,
                loc_rib::selected_routes(d, &mut self.next_hops, &facts),
            );
        }
    }

    /// [`Rib::for_each_selected`] for one family (IPv6 when `v6`), from the prefix after
    /// `after`, until `visit` breaks: a listing in bounded pages, each resuming from the last
    /// prefix the previous one visited.
    pub fn for_each_selected_after(
        &mut self,
        v6: bool,
        after: Option<&Prefix>,
        mut visit: impl FnMut(Prefix, Vec<SelectedRoute>) -> std::ops::ControlFlow<()>,
    ) {
        let facts = facts_of(&self.peers);
        for (prefix, d) in self
            .table
            .iter_family_after(v6, after)
            .filter(|(_, d)| d.selected > 0)
        {
            let routes = loc_rib::selected_routes(d, &mut self.next_hops, &facts);
            if visit(prefix, routes).is_break() {
                return;
            }
        }
    }

    /// Every path of `prefix` with the decision's verdict on it, in decision order: the best
    /// path, the rest of the ECMP set, the other eligible paths as the decision would rank
    /// them, then the ineligible ones (rejected by import, loops, unresolved next hop).
    pub fn explain(&mut self, prefix: &Prefix) -> Vec<PathExplanation> {
        let facts = facts_of(&self.peers);
        match self.table.get(prefix) {
            Some(d) => explain_dest(d, &self.local, &mut self.next_hops, &facts),
            None => Vec::new(),
        }
    }

    /// Visit every prefix with at least one path, with what [`Rib::explain`] gives for it, one
    /// prefix at a time (a listing of the whole table holds one prefix's paths at once).
    pub fn for_each_explained(&mut self, mut visit: impl FnMut(Prefix, Vec<PathExplanation>)) {
        let facts = facts_of(&self.peers);
        for (prefix, d) in self.table.iter() {
            visit(
                prefix,
                explain_dest(d, &self.local, &mut self.next_hops, &facts),
            );
        }
    }

    /// [`Rib::for_each_explained`] for one family (IPv6 when `v6`), from the prefix after
    /// `after`, until `visit` breaks: a listing of every path in bounded pages, each resuming
    /// from the last prefix the previous one visited.
    pub fn for_each_explained_after(
        &mut self,
        v6: bool,
        after: Option<&Prefix>,
        mut visit: impl FnMut(Prefix, Vec<PathExplanation>) -> std::ops::ControlFlow<()>,
    ) {
        let facts = facts_of(&self.peers);
        for (prefix, d) in self.table.iter_family_after(v6, after) {
            let paths = explain_dest(d, &self.local, &mut self.next_hops, &facts);
            if visit(prefix, paths).is_break() {
                return;
            }
        }
    }

    /// Run export for Loc-RIB `changes` on every update group: RFC 4271 §9.2 / RFC 4456 rules,
    /// then `export`, then the mandatory attribute changes; each group's difference is encoded
    /// once and returned with the peers to write it to.
    pub fn export(
        &mut self,
        changes: &Changes,
        export: &mut impl ExportPolicy,
    ) -> Vec<GroupUpdate> {
        let prefixes: Vec<Prefix> = changes.loc_rib.iter().map(|c| c.prefix).collect();
        // ADD-PATH transmit groups also send paths outside the selection.
        let mut all_paths = Vec::new();
        if !changes.other_paths.is_empty() {
            all_paths.extend_from_slice(&prefixes);
            all_paths.extend_from_slice(&changes.other_paths);
            all_paths.sort_unstable();
            all_paths.dedup();
        }
        let ids: Vec<GroupId> = self.groups.keys().copied().collect();
        let mut out = Vec::new();
        for g in ids {
            let mut errors = Vec::new();
            let add_path = self.groups.get(&g).is_some_and(|x| x.key.add_path_tx());
            let list = if add_path && !all_paths.is_empty() {
                &all_paths
            } else {
                &prefixes
            };
            let bytes = self.export_group(g, list, export, &mut errors);
            if bytes.all.is_empty() && bytes.split.is_empty() && errors.is_empty() {
                continue;
            }
            // Lagging members get the current state when they catch up ([`Rib::catch_up`]).
            let peers = self
                .groups
                .get(&g)
                .map(|x| {
                    x.members
                        .iter()
                        .copied()
                        .filter(|m| !x.out.is_lagging(*m))
                        .collect()
                })
                .unwrap_or_default();
            out.push(GroupUpdate {
                group: g,
                peers,
                bytes: bytes.all,
                split: bytes.split,
                errors,
            });
        }
        out
    }

    /// Re-run export for everything (after an export-policy change), without resetting any
    /// session.
    pub fn reexport(&mut self, export: &mut impl ExportPolicy) -> Vec<GroupUpdate> {
        let mut all: BTreeSet<Prefix> = self.table.keys().collect();
        for g in self.groups.values() {
            all.extend(g.out.prefixes());
        }
        let changes = Changes {
            loc_rib: all
                .into_iter()
                .map(|prefix| LocRibChange {
                    prefix,
                    routes: Vec::new(),
                })
                .collect(),
            ..Changes::default()
        };
        self.export(&changes, export)
    }

    /// `peer`'s connection takes no more UPDATEs for now: its update group stops writing to it
    /// ([`GroupUpdate::peers`] leaves it out) and keeps, for each prefix that changes, what the
    /// peer held, until [`Rib::catch_up`]. Memory stays bounded by the table, whatever the
    /// churn (`adj_rib_out::lag`).
    pub fn lag(&mut self, peer: PeerId) -> Result<(), RibError> {
        let gid = self
            .check_up(peer)?
            .group
            .ok_or(RibError::PeerNotUp(peer))?;
        let g = self.groups.get_mut(&gid).ok_or(RibError::PeerNotUp(peer))?;
        g.out.start_lag(peer);
        Ok(())
    }

    /// Whether `peer` lags (see [`Rib::lag`]).
    pub fn is_lagging(&self, peer: PeerId) -> bool {
        self.peers
            .get(&peer)
            .and_then(|p| p.group)
            .and_then(|g| self.groups.get(&g))
            .is_some_and(|g| g.out.is_lagging(peer))
    }

    /// `peer` can take UPDATEs again: what takes it from what it held to the group's current
    /// state, for every prefix changed since [`Rib::lag`]; the group writes to it again.
    pub fn catch_up(&mut self, peer: PeerId) -> Result<Encoded, RibError> {
        let gid = self
            .check_up(peer)?
            .group
            .ok_or(RibError::PeerNotUp(peer))?;
        let g = self.groups.get_mut(&gid).ok_or(RibError::PeerNotUp(peer))?;
        let mut errors = Vec::new();
        let bytes = g.out.catch_up(
            peer,
            &g.key.context,
            own_route(&self.table, peer),
            &mut errors,
        );
        Ok(Encoded { bytes, errors })
    }

    /// The UPDATEs answering a ROUTE-REFRESH for `family` from `peer` (RFC 2918 §4): the
    /// group's Adj-RIB-Out of that family and an End-of-RIB.
    pub fn route_refresh(&self, peer: PeerId, family: Family) -> Result<Encoded, RibError> {
        let gid = self
            .check_up(peer)?
            .group
            .ok_or(RibError::PeerNotUp(peer))?;
        let g = self.groups.get(&gid).ok_or(RibError::PeerNotUp(peer))?;
        let mut errors = Vec::new();
        let bytes = g.out.dump(
            &g.key.context,
            &[family],
            own_route(&self.table, peer),
            &mut errors,
        );
        Ok(Encoded { bytes, errors })
    }

    /// Compute what group `g` should carry for `prefixes` and encode the difference.
    fn export_group(
        &mut self,
        g: GroupId,
        prefixes: &[Prefix],
        export: &mut impl ExportPolicy,
        errors: &mut Vec<(Prefix, RibError)>,
    ) -> GroupBytes {
        let Some(group) = self.groups.get(&g) else {
            return GroupBytes::default();
        };
        let key = group.key.clone();
        // Split horizon: a group of one peer is not sent the routes that peer sent us (it
        // would drop them by AS_PATH or ORIGINATOR_ID anyway, and they cost an Adj-RIB-Out
        // entry each). `join_group` adds them when a second member joins.
        let only = match (group.members.len(), group.members.first()) {
            (1, Some(m)) => Some(*m),
            _ => None,
        };
        // In a larger group the Adj-RIB-Out holds them, and each member's own routes go to the
        // other members only (`adj_rib_out::SplitHorizon`).
        let members: Vec<PeerId> = if only.is_none() {
            group.members.iter().copied().collect()
        } else {
            Vec::new()
        };
        let member = |source: u32| {
            let p = PeerId(source);
            members.binary_search(&p).is_ok().then_some(p)
        };
        let facts = facts_of(&self.peers);
        let mut wanted = Vec::with_capacity(prefixes.len());
        let mut memo = None;
        for p in prefixes {
            let family = family_of(p);
            if !key.families.contains(&family) {
                continue;
            }
            if key.context.add_path_tx(family) {
                // RFC 7911: every path, each under its own identifier (see `adj_rib_out`).
                let mut paths = Vec::new();
                if let Some(d) = self.table.get(p) {
                    for route in loc_rib::advertisable_routes(d, &mut self.next_hops, &facts) {
                        if only.is_some() && route.peer == only {
                            continue;
                        }
                        let path = PathKey {
                            source: route.peer.map_or(LOCAL_SOURCE, |x| x.0),
                            path_id: route.path_id,
                        };
                        let out = outgoing_for(
                            &self.local,
                            &key,
                            p,
                            &route,
                            export,
                            &mut self.interner,
                            &mut memo,
                        );
                        if let Some(a) = exported(out, p, errors) {
                            paths.push((path, a));
                        }
                    }
                }
                wanted.push((*p, Wanted::Paths(paths)));
                continue;
            }
            let mut split = None;
            let best = self.table.get(p).and_then(|d| {
                // The usual split-horizon case without building the route.
                let first = d.paths.first().filter(|_| d.selected > 0);
                if first.is_some_and(|x| x.is_accepted() && only.is_some_and(|m| m.0 == x.source()))
                {
                    return None;
                }
                loc_rib::best_route(d, &mut self.next_hops, &facts)
                    .filter(|r| only.is_none() || r.peer != only)
            });
            let w = match best {
                None => None,
                Some(route) => {
                    split = route.peer.and_then(|x| member(x.0));
                    let out = outgoing_for(
                        &self.local,
                        &key,
                        p,
                        &route,
                        export,
                        &mut self.interner,
                        &mut memo,
                    );
                    exported(out, p, errors)
                }
            };
            wanted.push((*p, Wanted::One(w, split)));
        }
        let Some(group) = self.groups.get_mut(&g) else {
            return GroupBytes::default();
        };
        let bytes = group.out.update(&key.context, wanted, &member, errors);
        self.interner.maybe_collect();
        bytes
    }
}

/// What [`outgoing_for`] gives a group for one path: its attributes, or `None` when it is not
/// advertised; an export error is logged and kept for the caller.
fn exported(
    out: Result<Option<Attrs>, RibError>,
    prefix: &Prefix,
    errors: &mut Vec<(Prefix, RibError)>,
) -> Option<Attrs> {
    out.unwrap_or_else(|e| {
        tracing::warn!(prefix = %prefix, error = %e, "route not exported");
        errors.push((*prefix, e));
        None
    })
}

/// [`Rib::explain`] for one destination.
fn explain_dest(
    d: &loc_rib::Dest,
    local: &LocalInfo,
    nh: &mut NextHopTable,
    facts: &impl Fn(u32) -> Option<PeerFacts>,
) -> Vec<PathExplanation> {
    let (sel, order, keys) = loc_rib::rank_paths(d, local, nh, facts);
    order
        .into_iter()
        .filter_map(|i| {
            let p = d.paths.get(i)?;
            Some(PathExplanation {
                peer: (p.source() != LOCAL_SOURCE).then_some(PeerId(p.source())),
                path_id: p.path_id,
                received: p.received().clone(),
                accepted: p.accepted().cloned(),
                stale: p.is_stale(),
                lost: sel.lost.get(i).copied().flatten(),
                in_ecmp: sel.selected.contains(&i),
                keys: *keys.get(i)?,
            })
        })
        .collect()
}

/// The last outgoing set computed in an export pass, by what it depends on when the export
/// policy accepts a route unchanged: the accepted set (by address), the origin and the family.
/// Routes of one UPDATE arrive together, so consecutive prefixes mostly share it.
type OutgoingMemo = Option<(
    (usize, RouteOrigin, Family),
    Result<Option<Attrs>, RibError>,
)>;

/// Export policy, then the BGP rules, for one route towards one group; the result interned.
fn outgoing_for(
    local: &LocalInfo,
    key: &GroupKey,
    prefix: &Prefix,
    route: &SelectedRoute,
    export: &mut impl ExportPolicy,
    interner: &mut Interner,
    memo: &mut OutgoingMemo,
) -> Result<Option<Attrs>, RibError> {
    if !route_reflection::may_advertise(&route.origin, &route.attrs.attrs, key) {
        return Ok(None);
    }
    let family = family_of(prefix);
    let compute = |set: &AttrSet, interner: &mut Interner| {
        route_reflection::outgoing(local, &route.origin, family, set, key)
            .map(|o| o.map(|s| interner.intern(s)))
    };
    match export.export(key, prefix, route) {
        ExportVerdict::Reject => Ok(None),
        ExportVerdict::Replace(s) => compute(&s, interner),
        ExportVerdict::Accept => {
            let id = (route.attrs.addr(), route.origin, family);
            if let Some((k, v)) = memo.as_ref() {
                if *k == id {
                    return v.clone();
                }
            }
            let v = compute(&route.attrs, interner);
            *memo = Some((id, v.clone()));
            v
        }
    }
}

/// Split horizon for a dump to `peer`: whether an Adj-RIB-Out entry is the peer's own route
/// (its path, with ADD-PATH; else the prefix's best route is the peer's).
fn own_route(table: &Table, peer: PeerId) -> impl FnMut(Prefix, Option<PathKey>) -> bool + '_ {
    move |prefix, key| match key {
        Some(k) => k.source == peer.0,
        None => table.get(&prefix).is_some_and(|d| {
            d.selected > 0 && d.paths.first().is_some_and(|x| x.source() == peer.0)
        }),
    }
}

fn leave_group(
    groups: &mut BTreeMap<GroupId, Group>,
    ids: &mut HashMap<GroupKey, GroupId>,
    g: GroupId,
    peer: PeerId,
) {
    if let Some(group) = groups.get_mut(&g) {
        group.members.remove(&peer);
        group.out.stop_lag(peer);
        if group.members.is_empty() {
            ids.remove(&group.key);
            groups.remove(&g);
        }
    }
}

#[cfg(test)]
mod limit_tests;
#[cfg(test)]
mod tests;
