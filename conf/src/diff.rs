//! Reload as a diff: what changed between two configurations and what each change requires.
//!
//! Neighbors are matched by name (the protocol name). Per field, [`NeighborField::effect`] says
//! whether the session must be reset:
//!
//! | field | effect | why |
//! |---|---|---|
//! | address, port, remote_as, password, source_address, ttl (multihop / GTSM) | reset | the TCP connection or its socket options change |
//! | local_as (BIRD `local as` of one protocol) | reset | it is in the OPEN (RFC 4271 §4.2) |
//! | families, add_path, graceful_restart (enable, times), extended_messages, extended_next_hop | reset | they are OPEN capabilities (RFC 5492): only a new session renegotiates them |
//! | hold_time, keepalive_time | next session | negotiated in OPEN (RFC 4271 §4.2); the running session keeps its values |
//! | description, passive, connect_retry/connect_delay/error_wait | immediate | only local behaviour, read on next use |
//! | bfd (on/off, intervals, multiplier, passive, graceful, multihop) | immediate | the BFD session is added, removed or re-timed (a Poll Sequence, RFC 5880 §6.8.3) beside the BGP session, which stays |
//! | next_hop, route_reflector_client, allow_own_as, filters, bird_filters (compiled `import`/`export` programs) | re-export / re-import | routes are re-evaluated (route refresh, RFC 2918, and re-export) without a reset |
//! | receive_limit, import_limit | re-import | the limit states are reset and the held routes counted against the new limits at once, without a reset (a count above a lowered limit takes the limit's action then, as BIRD's `proto_verify_limits`) |
//!
//! Global: a new router id or local AS resets every session (they are in every OPEN); a new
//! cluster id also resets every session (it is in every reflected route and in loop detection,
//! RFC 4456 §8). Pool changes re-run export and programming policy; block changes add/remove
//! announcements and blackholes; kernel, control and metrics changes restart those parts only.
//!
//! Routing policy never resets a session. A changed `[[filters]]` entry re-evaluates the
//! neighbors that use it; changed prefix advertisements, services, static routes, RR allow-list
//! or `[bgp]` decision options re-evaluate every neighbor (they apply node-wide; the decision
//! options also re-run best-path selection, see [`ConfigDiff::decision_changed`]). Community
//! names are resolved at load time, so renaming one changes nothing; changing its value shows
//! up as a change of every filter or advertisement using it.
//!
//! BIRD front end ([`Config::bird`]): a changed kernel export program (`calico_kernel_programming`)
//! or `merge paths` is a kernel change (the kernel routes are re-programmed; `merge paths` also
//! changes the decision's `max_paths`); changed static routes or direct-protocol interfaces are a
//! node-wide export policy change (originated routes and every neighbor's export re-evaluated).
//! The family and the list of files read are labels (no effect).
//!
//! Start-only: `[graceful_restart] recovery` is read when the daemon starts with `-R`; the
//! recovery it shapes is over or under way, so a reload changes nothing (no event).

use std::collections::{BTreeSet, HashMap, HashSet};

use ipnet::IpNet;

use crate::filter::{Filter, FilterName};
use crate::model::{Config, Neighbor, NeighborName};

/// A neighbor setting that can change on reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NeighborField {
    Address,
    Port,
    RemoteAs,
    Password,
    SourceAddress,
    Ttl,
    Families,
    AddPath,
    GracefulRestart,
    ExtendedMessages,
    ExtendedNextHop,
    HoldTime,
    KeepaliveTime,
    Description,
    Passive,
    Template,
    ConnectTimers,
    ErrorWait,
    NextHop,
    RouteReflectorClient,
    AllowOwnAs,
    /// The neighbor's `filters` list (names or order).
    Filters,
    /// Our AS on this session ([`Neighbor::local_as`], BIRD front end).
    LocalAs,
    /// The compiled BIRD `import`/`export` programs ([`Neighbor::bird_filters`]).
    BirdFilters,
    /// BFD on/off and its timers ([`Neighbor::bfd`]).
    Bfd,
    /// Prefix limits ([`Neighbor::route_limits`]).
    RouteLimits,
}

/// What a changed field requires of a running session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeEffect {
    /// Applies now, nothing to redo (or it is only a label).
    Immediate,
    /// Takes effect when the next session is negotiated; the current one stays.
    NextSession,
    /// Routes to or from this neighbor are re-evaluated, the session stays.
    Reevaluate,
    /// The session must be closed (Cease, RFC 4486 subcode 6 "Other Configuration Change") and
    /// re-established.
    Reset,
}

impl NeighborField {
    pub fn effect(self) -> ChangeEffect {
        use NeighborField::*;
        match self {
            Address | Port | RemoteAs | LocalAs | Password | SourceAddress | Ttl | Families
            | AddPath | GracefulRestart | ExtendedMessages | ExtendedNextHop => ChangeEffect::Reset,
            HoldTime | KeepaliveTime => ChangeEffect::NextSession,
            NextHop | RouteReflectorClient | AllowOwnAs | Filters | BirdFilters | RouteLimits => {
                ChangeEffect::Reevaluate
            }
            Description | Passive | Template | ConnectTimers | ErrorWait | Bfd => {
                ChangeEffect::Immediate
            }
        }
    }
}

/// A global setting whose change resets every session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GlobalField {
    RouterId,
    LocalAs,
    ClusterId,
}

/// One neighbor present in both configurations with different settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighborChange {
    pub name: NeighborName,
    /// Changed fields, sorted.
    pub fields: Vec<NeighborField>,
}

impl NeighborChange {
    pub fn needs_reset(&self) -> bool {
        self.fields
            .iter()
            .any(|f| f.effect() == ChangeEffect::Reset)
    }

    pub fn needs_reevaluation(&self) -> bool {
        self.fields
            .iter()
            .any(|f| f.effect() == ChangeEffect::Reevaluate)
    }
}

/// Everything that differs between two configurations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigDiff {
    /// Non-empty: every session resets.
    pub global: Vec<GlobalField>,
    pub listen_changed: bool,
    pub neighbors_added: Vec<NeighborName>,
    pub neighbors_removed: Vec<NeighborName>,
    pub neighbors_changed: Vec<NeighborChange>,
    pub blocks_added: Vec<IpNet>,
    pub blocks_removed: Vec<IpNet>,
    pub pools_changed: bool,
    /// Filters added, removed or with different rules (sorted by name).
    pub filters_changed: Vec<FilterName>,
    /// Neighbors present in both configurations that use a changed filter, in file order.
    pub filter_users: Vec<NeighborName>,
    /// Prefix advertisements, services, static routes or the RR allow-list changed: the
    /// node-wide export policy (and the originated routes) must be rebuilt.
    pub export_policy_changed: bool,
    /// `[bgp]` decision options changed: best paths are recomputed with the new options.
    pub decision_changed: bool,
    pub kernel_changed: bool,
    pub control_changed: bool,
    pub metrics_changed: bool,
}

/// Which routes a policy change re-evaluates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyScope {
    All,
    Neighbors(Vec<NeighborName>),
}

/// What the daemon does on reload, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigEvent {
    /// Router id, AS or cluster id changed: every session restarts with the new config.
    GlobalReset {
        fields: Vec<GlobalField>,
    },
    /// Rebind the BGP listener(s).
    ListenChanged,
    NeighborRemoved(NeighborName),
    NeighborAdded(NeighborName),
    /// Close and re-establish the session; `fields` says why.
    NeighborReset {
        name: NeighborName,
        fields: Vec<NeighborField>,
    },
    /// Apply in place, no reset.
    NeighborUpdated {
        name: NeighborName,
        fields: Vec<NeighborField>,
    },
    /// Re-run import/export policy (route refresh and re-export), sessions stay.
    PolicyChanged(PolicyScope),
    /// Local blocks to announce and blackhole (added) or withdraw and remove (removed).
    BlocksChanged {
        added: Vec<IpNet>,
        removed: Vec<IpNet>,
    },
    /// Pools changed: programming (encapsulation) decisions are re-run.
    PoolsChanged,
    KernelChanged,
    ControlChanged,
    MetricsChanged,
}

/// Compares `old` with `new`.
pub fn diff(old: &Config, new: &Config) -> ConfigDiff {
    let mut d = ConfigDiff::default();
    if old.router_id != new.router_id {
        d.global.push(GlobalField::RouterId);
    }
    if old.local_as != new.local_as {
        d.global.push(GlobalField::LocalAs);
    }
    if old.cluster_id != new.cluster_id {
        d.global.push(GlobalField::ClusterId);
    }
    d.listen_changed = old.listen != new.listen;
    // Maps by name: a Calico mesh has hundreds of neighbors.
    let old_by_name: HashMap<&NeighborName, &Neighbor> =
        old.neighbors.iter().map(|n| (&n.name, n)).collect();
    let new_names: HashSet<&NeighborName> = new.neighbors.iter().map(|n| &n.name).collect();
    for n in &new.neighbors {
        match old_by_name.get(&n.name) {
            None => d.neighbors_added.push(n.name.clone()),
            Some(o) => {
                let fields = neighbor_fields(o, n);
                if !fields.is_empty() {
                    d.neighbors_changed.push(NeighborChange {
                        name: n.name.clone(),
                        fields,
                    });
                }
            }
        }
    }
    for o in &old.neighbors {
        if !new_names.contains(&o.name) {
            d.neighbors_removed.push(o.name.clone());
        }
    }
    let old_blocks: BTreeSet<IpNet> = old.local_blocks.iter().copied().collect();
    let new_blocks: BTreeSet<IpNet> = new.local_blocks.iter().copied().collect();
    d.blocks_added = new_blocks.difference(&old_blocks).copied().collect();
    d.blocks_removed = old_blocks.difference(&new_blocks).copied().collect();
    d.pools_changed = old.ip_pools != new.ip_pools;
    let old_filters: HashMap<&FilterName, &Filter> =
        old.filters.iter().map(|f| (&f.name, f)).collect();
    let new_filters: HashMap<&FilterName, &Filter> =
        new.filters.iter().map(|f| (&f.name, f)).collect();
    let mut changed: BTreeSet<FilterName> = BTreeSet::new();
    for (name, f) in &new_filters {
        if old_filters.get(name) != Some(f) {
            changed.insert((*name).clone());
        }
    }
    for name in old_filters.keys() {
        if !new_filters.contains_key(name) {
            changed.insert((*name).clone());
        }
    }
    d.filter_users = new
        .neighbors
        .iter()
        .filter(|n| old_by_name.contains_key(&n.name))
        .filter(|n| n.filters.iter().any(|f| changed.contains(f)))
        .map(|n| n.name.clone())
        .collect();
    d.filters_changed = changed.into_iter().collect();
    d.export_policy_changed = old.prefix_advertisements != new.prefix_advertisements
        || old.services != new.services
        || old.static_routes != new.static_routes
        || old.rr_allowlist != new.rr_allowlist;
    d.decision_changed = old.decision != new.decision;
    let (old_bird, new_bird) = (old.bird.as_ref(), new.bird.as_ref());
    let bird_kernel_changed = old_bird.map(|b| (&b.kernel_export, b.merge_paths))
        != new_bird.map(|b| (&b.kernel_export, b.merge_paths));
    let bird_origin_changed = old_bird.map(|b| (&b.static_routes, &b.direct_interfaces))
        != new_bird.map(|b| (&b.static_routes, &b.direct_interfaces));
    d.export_policy_changed |= bird_origin_changed;
    d.kernel_changed = old.kernel != new.kernel || bird_kernel_changed;
    d.control_changed = old.control != new.control;
    d.metrics_changed = old.metrics != new.metrics;
    d
}

fn neighbor_fields(o: &Neighbor, n: &Neighbor) -> Vec<NeighborField> {
    use NeighborField as F;
    let checks = [
        (F::Address, o.address != n.address),
        (F::Port, o.port != n.port),
        (F::RemoteAs, o.remote_as != n.remote_as),
        (F::Password, o.password != n.password),
        (F::SourceAddress, o.source_address != n.source_address),
        (F::Ttl, o.ttl != n.ttl),
        (F::Families, o.families != n.families),
        (F::AddPath, o.add_path != n.add_path),
        (F::GracefulRestart, o.graceful_restart != n.graceful_restart),
        (
            F::ExtendedMessages,
            o.extended_messages != n.extended_messages,
        ),
        (
            F::ExtendedNextHop,
            o.extended_next_hop != n.extended_next_hop,
        ),
        (F::HoldTime, o.timers.hold != n.timers.hold),
        (F::KeepaliveTime, o.timers.keepalive != n.timers.keepalive),
        (F::Description, o.description != n.description),
        (F::Passive, o.passive != n.passive),
        (F::Template, o.template != n.template),
        (
            F::ConnectTimers,
            o.timers.connect_retry != n.timers.connect_retry
                || o.timers.connect_delay != n.timers.connect_delay,
        ),
        (
            F::ErrorWait,
            o.timers.error_wait_min != n.timers.error_wait_min
                || o.timers.error_wait_max != n.timers.error_wait_max,
        ),
        (F::NextHop, o.next_hop != n.next_hop),
        (
            F::RouteReflectorClient,
            o.route_reflector_client != n.route_reflector_client,
        ),
        (F::AllowOwnAs, o.allow_own_as != n.allow_own_as),
        (F::Filters, o.filters != n.filters),
        (F::LocalAs, o.local_as != n.local_as),
        (F::BirdFilters, o.bird_filters != n.bird_filters),
        (F::Bfd, o.bfd != n.bfd),
        (F::RouteLimits, o.route_limits != n.route_limits),
    ];
    let mut fields: Vec<NeighborField> = checks
        .into_iter()
        .filter(|(_, c)| *c)
        .map(|(f, _)| f)
        .collect();
    fields.sort();
    fields
}

impl ConfigDiff {
    /// Nothing differs.
    pub fn is_empty(&self) -> bool {
        *self == ConfigDiff::default()
    }

    /// The reload as an ordered list of events.
    pub fn events(&self) -> Vec<ConfigEvent> {
        let mut ev = Vec::new();
        let global_reset = !self.global.is_empty();
        if global_reset {
            ev.push(ConfigEvent::GlobalReset {
                fields: self.global.clone(),
            });
        }
        if self.listen_changed {
            ev.push(ConfigEvent::ListenChanged);
        }
        ev.extend(
            self.neighbors_removed
                .iter()
                .cloned()
                .map(ConfigEvent::NeighborRemoved),
        );
        ev.extend(
            self.neighbors_added
                .iter()
                .cloned()
                .map(ConfigEvent::NeighborAdded),
        );
        let mut reevaluate = Vec::new();
        let mut reset = HashSet::new();
        if !global_reset {
            for c in &self.neighbors_changed {
                if c.needs_reset() {
                    reset.insert(&c.name);
                    ev.push(ConfigEvent::NeighborReset {
                        name: c.name.clone(),
                        fields: c.fields.clone(),
                    });
                    continue;
                }
                ev.push(ConfigEvent::NeighborUpdated {
                    name: c.name.clone(),
                    fields: c.fields.clone(),
                });
                if c.needs_reevaluation() {
                    reevaluate.push(c.name.clone());
                }
            }
        }
        if !self.blocks_added.is_empty() || !self.blocks_removed.is_empty() {
            ev.push(ConfigEvent::BlocksChanged {
                added: self.blocks_added.clone(),
                removed: self.blocks_removed.clone(),
            });
        }
        if !global_reset {
            // A filter's users re-evaluate unless their session is reset anyway.
            for n in &self.filter_users {
                if !reset.contains(n) && !reevaluate.contains(n) {
                    reevaluate.push(n.clone());
                }
            }
        }
        if self.pools_changed {
            ev.push(ConfigEvent::PoolsChanged);
        }
        // Calico's export rules and kernel programming depend on the pools; advertisements,
        // services, static routes, the allow-list and decision options apply to every neighbor.
        let node_wide = self.pools_changed || self.export_policy_changed || self.decision_changed;
        if !global_reset && node_wide {
            ev.push(ConfigEvent::PolicyChanged(PolicyScope::All));
        } else if !global_reset && !reevaluate.is_empty() {
            ev.push(ConfigEvent::PolicyChanged(PolicyScope::Neighbors(
                reevaluate,
            )));
        }
        if self.kernel_changed {
            ev.push(ConfigEvent::KernelChanged);
        }
        if self.control_changed {
            ev.push(ConfigEvent::ControlChanged);
        }
        if self.metrics_changed {
            ev.push(ConfigEvent::MetricsChanged);
        }
        ev
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
router_id = "10.0.0.1"
local_as = 64512
local_blocks = ["10.64.0.0/26", "10.64.0.64/26"]

[[templates]]
name = "mesh"
remote_as = 64512
hold_time = 90

[[neighbors]]
name = "Mesh_10_0_0_2"
template = "mesh"
address = "10.0.0.2"

[[neighbors]]
name = "Mesh_10_0_0_3"
template = "mesh"
address = "10.0.0.3"

[[ip_pools]]
cidr = "10.64.0.0/16"
ipip_mode = "Always"
"#;

    fn cfg(text: &str) -> Config {
        match Config::from_str(text, "test.toml") {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    fn name(s: &str) -> NeighborName {
        NeighborName::new(s).unwrap()
    }

    fn events(old: &str, new: &str) -> Vec<ConfigEvent> {
        diff(&cfg(old), &cfg(new)).events()
    }

    #[test]
    fn identical_configs_have_no_diff() {
        let d = diff(&cfg(BASE), &cfg(BASE));
        assert!(d.is_empty(), "{d:?}");
        assert!(d.events().is_empty());
    }

    #[test]
    fn added_and_removed_neighbors() {
        let new = BASE
            .replace("Mesh_10_0_0_3", "Mesh_10_0_0_4")
            .replace("10.0.0.3", "10.0.0.4");
        assert_eq!(
            events(BASE, &new),
            vec![
                ConfigEvent::NeighborRemoved(name("Mesh_10_0_0_3")),
                ConfigEvent::NeighborAdded(name("Mesh_10_0_0_4")),
            ]
        );
    }

    #[test]
    fn template_change_resets_every_inheriting_neighbor() {
        let new = BASE.replace("hold_time = 90", "hold_time = 90\nmultihop = 2");
        let d = diff(&cfg(BASE), &cfg(&new));
        assert_eq!(d.neighbors_changed.len(), 2);
        assert!(d
            .neighbors_changed
            .iter()
            .all(|c| c.fields == vec![NeighborField::Ttl] && c.needs_reset()));
    }

    #[test]
    fn hold_time_change_waits_for_the_next_session() {
        let new = BASE.replace("hold_time = 90", "hold_time = 30");
        let d = diff(&cfg(BASE), &cfg(&new));
        let c = &d.neighbors_changed[0];
        // keepalive defaults to hold / 3, so it changes too.
        assert_eq!(
            c.fields,
            vec![NeighborField::HoldTime, NeighborField::KeepaliveTime]
        );
        assert!(!c.needs_reset());
        assert!(matches!(
            &d.events()[0],
            ConfigEvent::NeighborUpdated { .. }
        ));
    }

    #[test]
    fn bfd_on_off_and_timers_update_in_place_without_reset() {
        let on = BASE.replace(
            "address = \"10.0.0.3\"",
            "address = \"10.0.0.3\"\nbfd = true",
        );
        let faster = on.replace("bfd = true", "bfd = true\nbfd_interval_ms = 100");
        for (old, new) in [
            (BASE, on.as_str()),
            (on.as_str(), faster.as_str()),
            (on.as_str(), BASE),
        ] {
            assert_eq!(
                events(old, new),
                vec![ConfigEvent::NeighborUpdated {
                    name: name("Mesh_10_0_0_3"),
                    fields: vec![NeighborField::Bfd],
                }]
            );
        }
    }

    #[test]
    fn password_change_resets_only_that_neighbor() {
        let var = format!("CONF_DIFF_KEY_{}", std::process::id());
        std::env::set_var(&var, "k1");
        let old = cfg(BASE);
        let new_text = BASE.replace(
            "address = \"10.0.0.3\"",
            &format!("address = \"10.0.0.3\"\npassword_env = \"{var}\""),
        );
        let new = cfg(&new_text);
        std::env::remove_var(&var);
        assert_eq!(
            diff(&old, &new).events(),
            vec![ConfigEvent::NeighborReset {
                name: name("Mesh_10_0_0_3"),
                fields: vec![NeighborField::Password],
            }]
        );
    }

    #[test]
    fn next_hop_and_rr_client_reevaluate_without_reset() {
        let new = BASE.replace(
            "address = \"10.0.0.2\"",
            "address = \"10.0.0.2\"\nnext_hop = \"self\"\nroute_reflector_client = true\ndescription = \"x\"",
        );
        assert_eq!(
            events(BASE, &new),
            vec![
                ConfigEvent::NeighborUpdated {
                    name: name("Mesh_10_0_0_2"),
                    fields: vec![
                        NeighborField::Description,
                        NeighborField::NextHop,
                        NeighborField::RouteReflectorClient
                    ],
                },
                ConfigEvent::PolicyChanged(PolicyScope::Neighbors(vec![name("Mesh_10_0_0_2")])),
            ]
        );
    }

    #[test]
    fn router_id_change_resets_everything() {
        let new = BASE
            .replace("router_id = \"10.0.0.1\"", "router_id = \"10.0.0.9\"")
            .replace("hold_time = 90", "hold_time = 30");
        let ev = events(BASE, &new);
        assert_eq!(
            ev,
            vec![ConfigEvent::GlobalReset {
                fields: vec![GlobalField::RouterId]
            }]
        );
    }

    #[test]
    fn blocks_and_pools() {
        let new = BASE
            .replace("\"10.64.0.64/26\"", "\"10.64.0.128/26\"")
            .replace("ipip_mode = \"Always\"", "ipip_mode = \"CrossSubnet\"");
        assert_eq!(
            events(BASE, &new),
            vec![
                ConfigEvent::BlocksChanged {
                    added: vec!["10.64.0.128/26".parse().unwrap()],
                    removed: vec!["10.64.0.64/26".parse().unwrap()],
                },
                ConfigEvent::PoolsChanged,
                ConfigEvent::PolicyChanged(PolicyScope::All),
            ]
        );
    }

    #[test]
    fn kernel_control_metrics_and_listen() {
        let new = format!(
            "{BASE}\n[listen]\nport = 1790\n[kernel]\nenable_writes = true\n[control]\nsocket = \"x.ctl\"\n[metrics]\nlisten = \"127.0.0.1:9179\"\n"
        );
        // Top-level tables after the pool array: valid TOML, the pool table ends at [listen].
        assert_eq!(
            events(BASE, &new),
            vec![
                ConfigEvent::ListenChanged,
                ConfigEvent::KernelChanged,
                ConfigEvent::ControlChanged,
                ConfigEvent::MetricsChanged,
            ]
        );
    }

    /// BASE with two filters, f1 used by Mesh_10_0_0_2, f2 by Mesh_10_0_0_3, and node-wide policy.
    fn policy_base() -> String {
        let text = BASE
            .replace(
                "address = \"10.0.0.2\"",
                "address = \"10.0.0.2\"\nfilters = [\"f1\"]",
            )
            .replace(
                "address = \"10.0.0.3\"",
                "address = \"10.0.0.3\"\nfilters = [\"f2\"]",
            );
        format!(
            "{text}
[[filters]]
name = \"f1\"
[[filters.export_v4]]
cidr = \"10.64.0.0/16\"
match_operator = \"In\"
action = \"Accept\"

[[filters]]
name = \"f2\"
[[filters.import_v4]]
cidr = \"0.0.0.0/0\"
match_operator = \"Equal\"
action = \"Reject\"

[[prefix_advertisements]]
cidr = \"10.64.0.0/16\"
communities = [\"65000:1\"]

[services]
cluster_ips = [\"10.96.0.0/12\"]

[bgp]
max_paths = 8
"
        )
    }

    #[test]
    fn a_changed_filter_reevaluates_only_its_users() {
        let old = policy_base();
        let new = old.replace("match_operator = \"In\"", "match_operator = \"NotIn\"");
        let d = diff(&cfg(&old), &cfg(&new));
        assert_eq!(d.filters_changed, vec![FilterName::new("f1").unwrap()]);
        assert!(d.neighbors_changed.is_empty());
        assert_eq!(
            d.events(),
            vec![ConfigEvent::PolicyChanged(PolicyScope::Neighbors(vec![
                name("Mesh_10_0_0_2")
            ]))]
        );
    }

    #[test]
    fn a_neighbor_filter_list_change_reevaluates_that_neighbor() {
        let old = policy_base();
        let new = old.replace("filters = [\"f2\"]", "filters = [\"f2\", \"f1\"]");
        assert_eq!(
            events(&old, &new),
            vec![
                ConfigEvent::NeighborUpdated {
                    name: name("Mesh_10_0_0_3"),
                    fields: vec![NeighborField::Filters],
                },
                ConfigEvent::PolicyChanged(PolicyScope::Neighbors(vec![name("Mesh_10_0_0_3")])),
            ]
        );
        // Adding an unused filter changes no neighbor's routes.
        let unused = format!(
            "{old}\n[[filters]]\nname = \"f3\"\n[[filters.export_v6]]\naction = \"Reject\"\n"
        );
        let d = diff(&cfg(&old), &cfg(&unused));
        assert_eq!(d.filters_changed, vec![FilterName::new("f3").unwrap()]);
        assert!(d.events().is_empty(), "{:?}", d.events());
    }

    #[test]
    fn a_filter_change_under_a_session_reset_adds_no_policy_event() {
        let old = policy_base();
        let new = old
            .replace(
                "match_operator = \"Equal\"",
                "match_operator = \"NotEqual\"",
            )
            .replace(
                "address = \"10.0.0.3\"",
                "address = \"10.0.0.3\"\nport = 1790",
            );
        assert_eq!(
            events(&old, &new),
            vec![ConfigEvent::NeighborReset {
                name: name("Mesh_10_0_0_3"),
                fields: vec![NeighborField::Port],
            }]
        );
    }

    #[test]
    fn node_wide_policy_changes_reevaluate_every_neighbor_without_reset() {
        let old = policy_base();
        for (what, new) in [
            ("advertisement", old.replace("65000:1", "65000:2")),
            ("services", old.replace("10.96.0.0/12", "10.96.0.0/16")),
            ("decision", old.replace("max_paths = 8", "max_paths = 1")),
            (
                "static routes",
                old.replace(
                    "local_as = 64512\n",
                    "local_as = 64512\nstatic_routes = [\"192.0.2.0/24\"]\n",
                ),
            ),
            (
                "allow-list",
                old.replace(
                    "local_as = 64512\n",
                    "local_as = 64512\nrr_allowlist = [\"192.0.2.0/24\"]\n",
                ),
            ),
        ] {
            let d = diff(&cfg(&old), &cfg(&new));
            assert_eq!(
                d.events(),
                vec![ConfigEvent::PolicyChanged(PolicyScope::All)],
                "{what}"
            );
            assert_eq!(d.decision_changed, what == "decision", "{what}");
        }
    }

    #[test]
    fn every_field_has_a_documented_effect() {
        use NeighborField::*;
        let reset = [
            Address,
            Port,
            RemoteAs,
            LocalAs,
            Password,
            SourceAddress,
            Ttl,
            Families,
            AddPath,
            GracefulRestart,
        ];
        assert!(reset.iter().all(|f| f.effect() == ChangeEffect::Reset));
        assert_eq!(HoldTime.effect(), ChangeEffect::NextSession);
        assert_eq!(NextHop.effect(), ChangeEffect::Reevaluate);
        assert_eq!(Filters.effect(), ChangeEffect::Reevaluate);
        assert_eq!(BirdFilters.effect(), ChangeEffect::Reevaluate);
        assert_eq!(RouteLimits.effect(), ChangeEffect::Reevaluate);
        assert_eq!(Description.effect(), ChangeEffect::Immediate);
        assert_eq!(Bfd.effect(), ChangeEffect::Immediate);
    }

    const BIRD_BASE: &str = r#"
router id 10.0.0.1;
filter kern { if net ~ 10.64.0.0/16 then { krt_tunnel = "tunl0"; accept; } accept; }
protocol kernel { learn; persist; export filter kern; merge paths on; }
protocol static { route 10.64.0.0/26 blackhole; }
protocol direct { interface -"cali*", "*"; }
template bgp t { local as 64512; }
protocol bgp Mesh_10_0_0_2 from t { neighbor 10.0.0.2 as 64512; export filter { accept; }; }
protocol bgp Mesh_10_0_0_3 from t { neighbor 10.0.0.3 as 64512; export filter { accept; }; }
"#;

    fn bird(text: &str, tag: &str) -> Config {
        let dir = std::env::temp_dir().join(format!("bgpd-diff-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bird.cfg");
        std::fs::write(&path, text).unwrap();
        let c = Config::load_bird(&path, crate::BirdFamily::V4);
        let _ = std::fs::remove_dir_all(&dir);
        match c {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    fn bird_events(new: &str, tag: &str) -> Vec<ConfigEvent> {
        diff(&bird(BIRD_BASE, &format!("{tag}-old")), &bird(new, tag)).events()
    }

    #[test]
    fn bird_identical_files_have_no_diff() {
        assert!(bird_events(BIRD_BASE, "same").is_empty());
    }

    #[test]
    fn bird_export_program_change_reevaluates_that_neighbor_only() {
        let new = BIRD_BASE.replacen(
            "neighbor 10.0.0.3 as 64512; export filter { accept; };",
            "neighbor 10.0.0.3 as 64512; export filter { reject; };",
            1,
        );
        assert_eq!(
            bird_events(&new, "export"),
            vec![
                ConfigEvent::NeighborUpdated {
                    name: name("Mesh_10_0_0_3"),
                    fields: vec![NeighborField::BirdFilters],
                },
                ConfigEvent::PolicyChanged(PolicyScope::Neighbors(vec![name("Mesh_10_0_0_3")])),
            ]
        );
    }

    #[test]
    fn bird_import_limit_change_reevaluates_that_neighbor_without_reset() {
        let new = BIRD_BASE.replacen(
            "neighbor 10.0.0.3 as 64512; export filter { accept; };",
            "neighbor 10.0.0.3 as 64512; export filter { accept; }; import limit 10 action block;",
            1,
        );
        assert_eq!(
            bird_events(&new, "limit"),
            vec![
                ConfigEvent::NeighborUpdated {
                    name: name("Mesh_10_0_0_3"),
                    fields: vec![NeighborField::RouteLimits],
                },
                ConfigEvent::PolicyChanged(PolicyScope::Neighbors(vec![name("Mesh_10_0_0_3")])),
            ]
        );
    }

    #[test]
    fn bird_local_as_of_one_protocol_resets_it() {
        let new = BIRD_BASE.replacen(
            "from t { neighbor 10.0.0.3",
            "from t { local as 65001; neighbor 10.0.0.3",
            1,
        );
        assert_eq!(
            bird_events(&new, "localas"),
            vec![ConfigEvent::NeighborReset {
                name: name("Mesh_10_0_0_3"),
                // The session turns eBGP, so BIRD's default TTL turns direct too.
                fields: vec![NeighborField::Ttl, NeighborField::LocalAs],
            }]
        );
    }

    #[test]
    fn bird_kernel_filter_change_is_a_kernel_change() {
        let new = BIRD_BASE.replace("krt_tunnel = \"tunl0\"", "krt_tunnel = \"\"");
        assert_eq!(
            bird_events(&new, "kernel"),
            vec![ConfigEvent::KernelChanged]
        );
    }

    #[test]
    fn bird_static_routes_and_interfaces_are_node_wide_policy() {
        let new = BIRD_BASE.replace(
            "route 10.64.0.0/26 blackhole;",
            "route 10.64.0.0/26 blackhole; route 10.65.0.1/32 via 10.0.0.9;",
        );
        assert_eq!(
            bird_events(&new, "static"),
            vec![ConfigEvent::PolicyChanged(PolicyScope::All)]
        );
        let new = BIRD_BASE.replace("-\"cali*\", \"*\"", "-\"cali*\", -\"kube-ipvs*\", \"*\"");
        assert_eq!(
            bird_events(&new, "direct"),
            vec![ConfigEvent::PolicyChanged(PolicyScope::All)]
        );
    }
}
