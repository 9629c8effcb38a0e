//! A reload as the RIB actor consumes it: its share of `conf::diff`'s events, the policy
//! compiled from the new configuration and the neighbors the events name (see
//! [`crate::reload`]). Policy events carry their scope, so a change for one neighbor re-imports
//! that neighbor's Adj-RIB-In or moves it to its new update group (which sends it only the
//! differences) and touches no other peer; node-wide changes re-run import and export for all.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use bgp_proto::Prefix;
use conf::{Config, ConfigEvent, Neighbor, NeighborName, PolicyScope};
use rib::{Changes, DecisionOptions, PeerId};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::{slot_for, RibActor};
use crate::peer::PeerCommand;
use crate::policy_compile::{self, CompiledPolicy};
use crate::stats::PeerStats;

/// A neighbor an event names, as the RIB knows it.
#[derive(Debug, Clone)]
pub enum ReloadPeer {
    /// In the new configuration: its settings and its task's handles.
    Present {
        id: PeerId,
        neighbor: Box<Neighbor>,
        stats: Arc<PeerStats>,
        commands: mpsc::Sender<PeerCommand>,
    },
    /// Gone from the configuration.
    Removed(PeerId),
}

impl ReloadPeer {
    fn id(&self) -> PeerId {
        match self {
            ReloadPeer::Present { id, .. } | ReloadPeer::Removed(id) => *id,
        }
    }
}

/// What [`super::RibRequest::Reconfigure`] carries: no whole configuration, only what the
/// events need.
#[derive(Debug)]
pub struct Reconfigure {
    /// The events the RIB consumes ([`crate::reload::consumers`]), in the diff's order.
    pub events: Vec<ConfigEvent>,
    /// The policy compiled from the new configuration (its export policy ids are matched to
    /// the running policy's by the actor, [`CompiledPolicy::keep_ids`]).
    pub policy: CompiledPolicy,
    /// The new `[bgp]` decision options (applied with [`ConfigEvent::DecisionChanged`]).
    pub decision: DecisionOptions,
    /// The neighbors the events name.
    pub peers: HashMap<NeighborName, ReloadPeer>,
}

/// The handles of a neighbor's task, as the reloader knows them.
#[derive(Debug, Clone)]
pub struct PeerTask {
    pub id: PeerId,
    /// `None`: the neighbor is gone (its task is ending).
    pub handles: Option<(Arc<PeerStats>, mpsc::Sender<PeerCommand>)>,
}

impl Reconfigure {
    /// The RIB's reload for `events` (already the RIB's share) and the new `config`; `task`
    /// gives the id and task handles of a neighbor the events name.
    pub fn new(
        events: Vec<ConfigEvent>,
        config: &Config,
        mut task: impl FnMut(&NeighborName) -> Option<PeerTask>,
    ) -> Self {
        let named: HashSet<&NeighborName> = events.iter().flat_map(crate::reload::named).collect();
        let mut peers = HashMap::with_capacity(named.len());
        if !named.is_empty() {
            let configured: HashMap<&NeighborName, &Neighbor> =
                config.neighbors.iter().map(|n| (&n.name, n)).collect();
            for name in named {
                let Some(t) = task(name) else { continue };
                let p = match (configured.get(name), t.handles) {
                    (Some(n), Some((stats, commands))) => ReloadPeer::Present {
                        id: t.id,
                        neighbor: Box::new((*n).clone()),
                        stats,
                        commands,
                    },
                    _ => ReloadPeer::Removed(t.id),
                };
                peers.insert(name.clone(), p);
            }
        }
        Reconfigure {
            events,
            policy: CompiledPolicy::new(config),
            decision: policy_compile::local_info(config).decision,
            peers,
        }
    }
}

/// What one reload did in the RIB (logged, and read by tests).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reconfigured {
    /// Events acted on (every event the RIB is sent is one of its own).
    pub applied: usize,
    /// Peers whose Adj-RIB-In went through import policy again.
    pub reimported: usize,
    /// Whether every update group was exported to again (a node-wide change).
    pub reexported_all: bool,
    /// Peers that moved to another update group (their export policy changed).
    pub regrouped: usize,
}

impl RibActor {
    /// See [`Reconfigure`].
    pub(super) async fn reconfigure(&mut self, r: Reconfigure) -> Reconfigured {
        let Reconfigure {
            events,
            mut policy,
            decision,
            peers,
        } = r;
        policy.keep_ids(&self.policy);
        // The BIRD front end's kernel filter decides from each route's attributes, which the
        // FIB task does not keep: when it changed, the FIB gets the whole Loc-RIB again (it
        // already has the new filter; unchanged routes give no kernel write).
        let refeed = self.policy.kernel_filter() != policy.kernel_filter();
        let old_origin: Vec<Prefix> = self
            .policy
            .originated()
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        self.policy = policy;
        let mut done = Reconfigured::default();
        let mut changes = Changes::default();
        let mut updated: HashSet<PeerId> = HashSet::new();
        let mut reimport: HashSet<PeerId> = HashSet::new();
        let mut reimport_all = false;
        for ev in &events {
            let applied = match ev {
                ConfigEvent::NeighborRemoved(name) => {
                    if let Some(p) = peers.get(name) {
                        changes.extend(self.remove_peer(p.id()));
                    }
                    true
                }
                ConfigEvent::NeighborAdded(name) => {
                    if let Some(ReloadPeer::Present {
                        id,
                        neighbor,
                        stats,
                        commands,
                    }) = peers.get(name)
                    {
                        self.add_peer(*id, neighbor, stats, commands);
                        updated.insert(*id);
                    }
                    true
                }
                ConfigEvent::NeighborReset { name, .. }
                | ConfigEvent::NeighborUpdated { name, .. } => {
                    if let Some(id) = self.update_peer(peers.get(name), &mut done) {
                        updated.insert(id);
                    }
                    true
                }
                ConfigEvent::ImportPolicyChanged(PolicyScope::All) => {
                    reimport_all = true;
                    true
                }
                ConfigEvent::ImportPolicyChanged(PolicyScope::Neighbors(names)) => {
                    reimport.extend(names.iter().filter_map(|n| peers.get(n)).map(|p| p.id()));
                    true
                }
                ConfigEvent::ExportPolicyChanged(PolicyScope::All) => {
                    done.reexported_all = true;
                    true
                }
                ConfigEvent::ExportPolicyChanged(PolicyScope::Neighbors(names)) => {
                    // Their new export policy id (or next hop, reflection) is a new update
                    // group key: moving there sends them the differences.
                    for n in names {
                        let p = peers.get(n);
                        if p.is_some_and(|p| !updated.contains(&p.id())) {
                            if let Some(id) = self.update_peer(p, &mut done) {
                                updated.insert(id);
                            }
                        }
                    }
                    true
                }
                ConfigEvent::DecisionChanged => {
                    // `[bgp]` decision options (BIRD front end: `merge paths`): every best
                    // path anew.
                    let c = self.rib.set_decision(decision);
                    info!(
                        event = "decision_changed",
                        ?decision,
                        loc_rib_changes = c.len(),
                        "best-path options changed, selection re-run"
                    );
                    changes.extend(c);
                    true
                }
                // Originated routes are compared below, the refeed decided above.
                ConfigEvent::BlocksChanged { .. } | ConfigEvent::KernelFilterChanged => true,
                ConfigEvent::GlobalReset { .. }
                | ConfigEvent::ListenChanged
                | ConfigEvent::PoolsChanged
                | ConfigEvent::KernelChanged
                | ConfigEvent::StaticRoutesChanged
                | ConfigEvent::DirectInterfacesChanged
                | ConfigEvent::ControlChanged
                | ConfigEvent::MetricsChanged => {
                    debug!(?ev, "not a RIB event");
                    false
                }
            };
            done.applied += usize::from(applied);
        }
        // Our own routes.
        let new_origin = self.policy.originated();
        for old in &old_origin {
            if !new_origin.iter().any(|(p, _)| p == old) {
                changes.extend(self.rib.withdraw_local(*old));
            }
        }
        for (p, attrs) in new_origin {
            if !old_origin.contains(&p) {
                changes.extend(self.rib.originate(p, attrs));
            }
        }
        // Import again from the Adj-RIB-In of the peers in scope (soft reconfiguration).
        let ids: Vec<PeerId> = if reimport_all {
            self.peers.keys().copied().collect()
        } else {
            reimport
                .into_iter()
                .filter(|id| self.peers.contains_key(id))
                .collect()
        };
        for id in ids {
            match self.rib.reimport(id, &mut self.policy) {
                Ok(c) => changes.extend(c),
                Err(e) => warn!(%id, error = %e, "import policy not re-applied"),
            }
            self.limit_hits(id);
            done.reimported += 1;
        }
        let n = changes.len();
        self.flush(changes).await;
        if refeed {
            self.refeed(&super::fib_link::everything()).await;
        }
        if done.reexported_all {
            let mut permits = self.reserve_all();
            let out = self.rib.reexport(&mut self.policy);
            self.write_groups(&out, &mut permits);
            for g in &out {
                self.count_advertised(g.group);
            }
        }
        info!(
            event = "rib_reconfigured",
            peers = self.peers.len(),
            events = done.applied,
            reimported = done.reimported,
            reexported_all = done.reexported_all,
            regrouped = done.regrouped,
            loc_rib_changes = n,
            "routing policy reloaded"
        );
        done
    }

    /// A peer gone from the configuration: its routes withdrawn.
    fn remove_peer(&mut self, id: PeerId) -> Changes {
        self.peers.remove(&id);
        if let Some(r) = &mut self.recovery {
            r.leave(id);
        }
        match self.rib.remove_peer(id) {
            Ok(c) => c,
            Err(e) => {
                warn!(%id, error = %e, "peer not removed from the RIB");
                Changes::default()
            }
        }
    }

    /// A peer new in the configuration (its session comes up later).
    fn add_peer(
        &mut self,
        id: PeerId,
        n: &Neighbor,
        stats: &Arc<PeerStats>,
        commands: &mpsc::Sender<PeerCommand>,
    ) {
        let info = self.policy.peer_info(id, n);
        if let Err(e) = self.rib.add_peer(info) {
            warn!(event = "rib_peer_rejected", neighbor = %n.name, error = %e, "peer not added to the RIB");
            return;
        }
        self.peers
            .insert(id, slot_for(n, stats.clone(), commands.clone()));
        self.configure_limits(id, &n.route_limits);
    }

    /// A kept peer with new settings: a new export policy id, next hop or reflection setting
    /// moves it to another update group, which sends it the differences; its prefix limits
    /// are set again. Returns its id.
    fn update_peer(&mut self, p: Option<&ReloadPeer>, done: &mut Reconfigured) -> Option<PeerId> {
        let Some(ReloadPeer::Present {
            id,
            neighbor: n,
            stats,
            commands,
        }) = p
        else {
            return None;
        };
        let id = *id;
        let mut info = self.policy.peer_info(id, n);
        let slot = self.peers.get_mut(&id)?;
        slot.name = n.name.to_string();
        slot.addr = n.address;
        slot.stats = stats.clone();
        slot.commands = commands.clone();
        // Keep the addresses the running session uses.
        if let Some(old) = self.rib.peer(id) {
            info.local_v4 = info.local_v4.or(old.local_v4);
            info.local_v6 = info.local_v6.or(old.local_v6);
        }
        // Reserved first: without room, the peer lags and moves lagging.
        let permit = self.reserve(id);
        match self.rib.update_peer(info, &mut self.policy) {
            Ok(Some(enc)) => {
                done.regrouped += 1;
                if let Some(permit) = permit.filter(|_| !enc.bytes.is_empty()) {
                    permit.send(enc.bytes.into());
                }
            }
            Ok(None) => {}
            Err(e) => warn!(%id, error = %e, "peer not updated in the RIB"),
        }
        self.configure_limits(id, &n.route_limits);
        Some(id)
    }
}

/// The RIB's share of the reload from `old` to `new`, as the reloader builds it, for tests:
/// neighbor `i` of `old` is [`policy_compile::peer_id`]`(i)`, an added one gets the next free
/// id; every task has `stats` and `commands`.
#[cfg(test)]
pub(super) fn between(
    old: &Config,
    new: &Config,
    stats: Arc<PeerStats>,
    commands: mpsc::Sender<PeerCommand>,
) -> Reconfigure {
    use crate::reload::{consumers, Consumer};
    let mut ids: HashMap<&NeighborName, PeerId> = old
        .neighbors
        .iter()
        .enumerate()
        .map(|(i, n)| (&n.name, policy_compile::peer_id(i)))
        .collect();
    let mut next = old.neighbors.len();
    for n in &new.neighbors {
        ids.entry(&n.name).or_insert_with(|| {
            next += 1;
            policy_compile::peer_id(next - 1)
        });
    }
    let events = conf::diff(old, new)
        .into_iter()
        .filter(|e| consumers(e).contains(&Consumer::Rib))
        .collect();
    Reconfigure::new(events, new, |name| {
        Some(PeerTask {
            id: *ids.get(name)?,
            handles: new
                .neighbors
                .iter()
                .any(|n| &n.name == name)
                .then(|| (stats.clone(), commands.clone())),
        })
    })
}
