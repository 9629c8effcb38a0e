//! From the configuration (`conf`) to the policy the RIB runs: the node-wide Calico export and
//! import policies (`policy`), each neighbor's BGPFilters (already `policy`'s types in the
//! configuration), and the decision options; and the glue that lets the RIB call them
//! ([`rib::ImportPolicy`] / [`rib::ExportPolicy`] on [`CompiledPolicy`]).
//!
//! Peers with the same filter list share an export policy id, so they can share an update group
//! (the RIB groups by id, session kind and capabilities). A reload keeps the id of every
//! unchanged list or program ([`CompiledPolicy::keep_ids`]): the peers whose policy did not
//! change stay in their groups, untouched.

use std::collections::HashMap;
use std::net::IpAddr;

use bgp_proto::attribute::Origin;
use bgp_proto::{Asn, Prefix};
use conf::{Config, Neighbor};
use policy::export::{ExportDecision, ExportPeer, ExportPolicy, IpPool, PrefixAdvertisement};
use policy::filter::{Filter, FilterName};
use policy::import::{ImportDecision, ImportPeer, ImportPolicy};
use policy::modification::Modifications;
use policy::route::{PeerType, RouteInfo, RouteSource};
use rib::{
    AttrSet, DecisionOptions, ExportVerdict, GroupKey, ImportVerdict, LocalInfo, PeerId, PeerInfo,
    RouteOrigin, SelectedRoute, SessionKind,
};

/// Everything policy-related the RIB actor needs, compiled once per configuration.
#[derive(Debug, Clone)]
pub struct CompiledPolicy {
    local_as: Asn,
    pub export: ExportPolicy,
    pub import: ImportPolicy,
    /// Filter lists by export policy id, read for their export rules only: lists that export
    /// alike share an id (id 0: no export rule; `None`: an id no neighbor uses after a reload).
    filter_sets: Vec<Option<Vec<Filter>>>,
    /// Each neighbor's export policy id (an index into `filter_sets`), by address (stable
    /// across reloads, unlike positions).
    peer_policy: HashMap<IpAddr, u64>,
    /// Distinct filter lists, read for their import rules (index 0: none).
    import_sets: Vec<Vec<Filter>>,
    /// Each neighbor's filter list for import (an index into `import_sets`), by address.
    peer_import: HashMap<IpAddr, usize>,
    /// The last `peer_import` lookup of `import` (routes come in runs from one peer: a hashed
    /// lookup per route was ~10 % of the RIB's time at 1M routes).
    last_import_peer: Option<(IpAddr, usize)>,
    /// What this node originates and why (own block or static route).
    originated: HashMap<Prefix, RouteSource>,
    /// The BIRD front end's programs: when set, they decide import and export instead of the
    /// typed rules (own blocks coming back are still refused on import).
    bird: Option<bird::BirdPrograms>,
    /// The BIRD front end's kernel filter and `merge paths` (what the FIB task decides with).
    kernel_filter: Option<(std::sync::Arc<policy::bird::Program>, bool)>,
}

/// The RIB's decision options from `[bgp]`.
pub fn decision_options(d: &conf::Decision) -> DecisionOptions {
    DecisionOptions {
        always_compare_med: d.always_compare_med,
        missing_med_worst: d.missing_med_worst,
        max_paths: usize::from(d.max_paths.max(1)),
        default_local_pref: d.default_local_pref,
    }
}

/// Who we are, for the RIB.
pub fn local_info(config: &Config) -> LocalInfo {
    LocalInfo {
        router_id: config.router_id,
        asn: config.local_as,
        cluster_id: config.cluster_id.map(|c| c.0),
        decision: decision_options(&config.decision),
    }
}

/// The RIB's id of the `i`-th configured neighbor (0 is never used).
pub fn peer_id(index: usize) -> PeerId {
    PeerId(u32::try_from(index + 1).unwrap_or(u32::MAX))
}

impl CompiledPolicy {
    /// Compile the whole configuration; neighbors get ids from [`peer_id`] by position.
    /// Cannot fail: the configuration's filters and communities are already `policy`'s types.
    pub fn new(config: &Config) -> Self {
        let pools: Vec<IpPool> = config
            .ip_pools
            .iter()
            .map(|p| IpPool {
                cidr: p.cidr,
                disable_bgp_export: p.disable_bgp_export,
            })
            .collect();
        let export = ExportPolicy {
            pools: pools.clone(),
            own_blocks: config.local_blocks.clone(),
            services: policy::export::ServiceAdvertisement {
                cluster_ips: config.services.cluster_ips.clone(),
                external_ips: config.services.external_ips.clone(),
                load_balancer_ips: config.services.load_balancer_ips.clone(),
            },
            static_routes: config.static_routes.clone(),
            rr_allowlist: config.rr_allowlist.clone(),
            prefix_advertisements: config
                .prefix_advertisements
                .iter()
                .map(|a| PrefixAdvertisement {
                    cidr: a.cidr,
                    communities: a.communities.clone(),
                })
                .collect(),
        };
        let import = ImportPolicy {
            pools,
            own_blocks: config.local_blocks.clone(),
            accept_outside_pools: true,
        };
        let mut filter_sets: Vec<Option<Vec<Filter>>> = vec![Some(Vec::new())];
        let mut import_sets: Vec<Vec<Filter>> = vec![Vec::new()];
        let mut by_names: HashMap<&[FilterName], (u64, usize)> = HashMap::new();
        by_names.insert(&[], (0, 0));
        let mut peer_policy = HashMap::with_capacity(config.neighbors.len());
        let mut peer_import = HashMap::with_capacity(config.neighbors.len());
        for n in &config.neighbors {
            let (id, import) = match by_names.get(n.filters.as_slice()) {
                Some(ids) => *ids,
                None => {
                    let list: Vec<Filter> = config.neighbor_filters(n).cloned().collect();
                    let same = filter_sets
                        .iter()
                        .position(|s| s.as_ref().is_some_and(|s| same_export_rules(s, &list)));
                    let id = match same {
                        Some(i) => i as u64,
                        None => {
                            filter_sets.push(Some(list.clone()));
                            filter_sets.len() as u64 - 1
                        }
                    };
                    import_sets.push(list);
                    let ids = (id, import_sets.len() - 1);
                    by_names.insert(n.filters.as_slice(), ids);
                    ids
                }
            };
            peer_policy.insert(n.address, id);
            peer_import.insert(n.address, import);
        }
        let originated = export.originated().into_iter().collect();
        let bird = config
            .bird
            .as_ref()
            .map(|_| bird::BirdPrograms::new(config));
        CompiledPolicy {
            local_as: config.local_as,
            export,
            import,
            filter_sets,
            peer_policy,
            import_sets,
            peer_import,
            last_import_peer: None,
            originated,
            bird,
            kernel_filter: config
                .bird
                .as_ref()
                .map(|b| (b.kernel_export.clone(), b.merge_paths)),
        }
    }

    /// The BIRD front end's kernel filter and `merge paths`; `None` with TOML.
    pub fn kernel_filter(&self) -> Option<&(std::sync::Arc<policy::bird::Program>, bool)> {
        self.kernel_filter.as_ref()
    }

    /// The RIB's view of neighbor `n` as peer `id` (local addresses are filled in when its
    /// session comes up).
    pub fn peer_info(&self, id: PeerId, n: &Neighbor) -> PeerInfo {
        let mut info = PeerInfo::new(id, n.address, n.remote_as);
        info.local_as = n.local_as;
        // BIRD puts our AS on the path before the export filter runs (see `bird::export`).
        info.policy_prepends_own_as = self.bird.is_some();
        info.rr_client = n.route_reflector_client;
        info.allow_own_as = n.allow_own_as;
        info.next_hop = match n.next_hop {
            conf::NextHopMode::Auto => rib::NextHopMode::Default,
            conf::NextHopMode::SelfAddress => rib::NextHopMode::SelfAddress,
            conf::NextHopMode::Keep => rib::NextHopMode::Keep,
        };
        if let Some(a) = n.source_address {
            match a {
                std::net::IpAddr::V4(v4) => info.local_v4 = Some(v4),
                std::net::IpAddr::V6(v6) if conf::model::is_link_local(a) => {
                    info.local_link_local = Some(v6)
                }
                std::net::IpAddr::V6(v6) => info.local_v6 = Some(v6),
            }
        }
        info.export_policy = match &self.bird {
            Some(b) => b.export_ids.get(&n.address).copied().unwrap_or(u64::MAX),
            None => self.peer_policy.get(&n.address).copied().unwrap_or(0),
        };
        info
    }

    /// The prefixes this node originates, with the attributes it starts them with (ORIGIN
    /// IGP, no next hop: the RIB puts our session address on export).
    pub fn originated(&self) -> Vec<(Prefix, AttrSet)> {
        self.export
            .originated()
            .into_iter()
            .map(|(p, _)| {
                let mut set = AttrSet::default();
                set.attrs.origin = Some(Origin::Igp);
                (p, set)
            })
            .collect()
    }

    fn filters(&self, id: u64) -> &[Filter] {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.filter_sets.get(i))
            .and_then(Option::as_deref)
            .unwrap_or(&[])
    }

    /// Gives this (newly compiled) policy the export policy ids of `running` wherever the
    /// filter list or BIRD export program is the same, and ids `running` does not use to the
    /// new ones: after a reload, a peer whose export policy did not change keeps its update
    /// group (and is sent nothing), and one whose policy changed moves to another.
    pub fn keep_ids(&mut self, running: &CompiledPolicy) {
        let sets = std::mem::take(&mut self.filter_sets);
        // Export rules only: a list whose import rules changed keeps its group (its users
        // are re-imported, not exported to again).
        let (sets, map) = stable_ids(&running.filter_sets, sets, |a, b| same_export_rules(a, b));
        self.filter_sets = sets;
        for id in self.peer_policy.values_mut() {
            *id = remapped(&map, *id);
        }
        self.last_import_peer = None;
        if let (Some(new), Some(old)) = (&mut self.bird, &running.bird) {
            let exports = std::mem::take(&mut new.exports);
            let (exports, map) = stable_ids(&old.exports, exports, |a, b| a == b);
            new.exports = exports;
            for id in new.export_ids.values_mut() {
                *id = remapped(&map, *id);
            }
        }
    }

    fn source_of(&self, prefix: &Prefix, origin: &RouteOrigin) -> RouteSource {
        match origin {
            RouteOrigin::Local => self
                .originated
                .get(prefix)
                .copied()
                .unwrap_or(RouteSource::Static),
            RouteOrigin::Peer { kind, .. } => RouteSource::Peer(peer_type(*kind)),
        }
    }
}

/// Whether two filter lists export alike (the same export rules in the same order).
fn same_export_rules(a: &[Filter], b: &[Filter]) -> bool {
    fn rules(l: &[Filter], v6: bool) -> impl Iterator<Item = &policy::filter::FilterRule> {
        l.iter()
            .flat_map(move |f| if v6 { &f.export_v6 } else { &f.export_v4 })
    }
    rules(a, false).eq(rules(b, false)) && rules(a, true).eq(rules(b, true))
}

/// `fresh` (ids by position, every entry `Some`) renumbered against `running`: an entry `same`
/// as one of `running` takes its id, the others the lowest ids free in both. Returns the new
/// list and each old position's new id.
fn stable_ids<T>(
    running: &[Option<T>],
    fresh: Vec<Option<T>>,
    same: impl Fn(&T, &T) -> bool,
) -> (Vec<Option<T>>, Vec<u64>) {
    let mut out: Vec<Option<T>> = Vec::with_capacity(running.len().max(fresh.len()));
    let mut map = vec![u64::MAX; fresh.len()];
    let mut pending = Vec::new();
    let put = |out: &mut Vec<Option<T>>, at: usize, t: T| {
        if out.len() <= at {
            out.resize_with(at + 1, || None);
        }
        out[at] = Some(t);
    };
    for (i, t) in fresh.into_iter().enumerate() {
        let Some(t) = t else { continue };
        match running
            .iter()
            .position(|r| r.as_ref().is_some_and(|r| same(r, &t)))
        {
            Some(j) if out.get(j).is_none_or(Option::is_none) => {
                put(&mut out, j, t);
                map[i] = j as u64;
            }
            _ => pending.push((i, t)),
        }
    }
    let mut next = 0;
    for (i, t) in pending {
        while running.get(next).is_some_and(Option::is_some)
            || out.get(next).is_some_and(Option::is_some)
        {
            next += 1;
        }
        put(&mut out, next, t);
        map[i] = next as u64;
        next += 1;
    }
    (out, map)
}

/// `id` through a [`stable_ids`] map (ids outside it, as `u64::MAX` for "no program", stay).
fn remapped(map: &[u64], id: u64) -> u64 {
    usize::try_from(id)
        .ok()
        .and_then(|i| map.get(i))
        .copied()
        .unwrap_or(id)
}

fn peer_type(k: SessionKind) -> PeerType {
    match k {
        SessionKind::Ibgp => PeerType::Ibgp,
        SessionKind::Ebgp => PeerType::Ebgp,
    }
}

/// Accept as is when nothing changes, else a modified copy.
fn modified(m: &Modifications, attrs: &AttrSet) -> Option<AttrSet> {
    let mut set = attrs.clone();
    m.apply(&mut set.attrs);
    (set != *attrs).then_some(set)
}

impl rib::ImportPolicy for CompiledPolicy {
    fn import(&mut self, peer: &PeerInfo, prefix: &Prefix, attrs: &AttrSet) -> ImportVerdict {
        if let Some(b) = &self.bird {
            // Our own block coming back loses to our static route in BIRD (preference 200
            // against 100); the RIB has no preference, so it is refused here.
            if self.import.own_blocks.contains(prefix) {
                return ImportVerdict::Reject;
            }
            return b.import(peer.addr, prefix, attrs);
        }
        let kind = if peer.asn == peer.local_as.unwrap_or(self.local_as) {
            SessionKind::Ibgp
        } else {
            SessionKind::Ebgp
        };
        let list = match self.last_import_peer {
            Some((addr, i)) if addr == peer.addr => i,
            _ => {
                let i = self.peer_import.get(&peer.addr).copied().unwrap_or(0);
                self.last_import_peer = Some((peer.addr, i));
                i
            }
        };
        let filters = self.import_sets.get(list).map_or(&[][..], Vec::as_slice);
        let ip = ImportPeer {
            peer_type: peer_type(kind),
            filters,
        };
        let route = RouteInfo {
            prefix: *prefix,
            source: RouteSource::Peer(peer_type(kind)),
            interface: None,
            attrs: Some(&attrs.attrs),
        };
        match self.import.decide(&ip, &route) {
            ImportDecision::Reject(why) => {
                tracing::trace!(peer = %peer.id, %prefix, ?why, "import rejected");
                ImportVerdict::Reject
            }
            ImportDecision::Accept(m) if m.add_communities.is_empty() && m.prepend.is_empty() => {
                ImportVerdict::Accept
            }
            ImportDecision::Accept(m) => match modified(&m, attrs) {
                Some(set) => ImportVerdict::Replace(Box::new(set)),
                None => ImportVerdict::Accept,
            },
        }
    }
}

impl rib::ExportPolicy for CompiledPolicy {
    fn export(
        &mut self,
        group: &GroupKey,
        prefix: &Prefix,
        route: &SelectedRoute,
    ) -> ExportVerdict {
        if let Some(b) = &self.bird {
            let own_as = group.local_as.unwrap_or(self.local_as);
            return b.export(group, own_as, prefix, route);
        }
        let peer = ExportPeer {
            peer_type: peer_type(group.kind),
            filters: self.filters(group.export_policy),
        };
        let info = RouteInfo {
            prefix: *prefix,
            source: self.source_of(prefix, &route.origin),
            interface: None,
            attrs: Some(&route.attrs.attrs),
        };
        match self.export.decide(&peer, &info) {
            ExportDecision::Reject(why) => {
                tracing::trace!(%prefix, ?why, "export rejected");
                ExportVerdict::Reject
            }
            ExportDecision::Accept(m) => match modified(&m, &route.attrs) {
                Some(set) => ExportVerdict::Replace(Box::new(set)),
                None => ExportVerdict::Accept,
            },
        }
    }
}

mod bird;
#[cfg(test)]
mod bird_tests;

#[cfg(test)]
mod tests;
