//! Reload as a diff: [`diff`] compares two configurations and yields the reload as one set of
//! [`ConfigEvent`]s, which each part of the daemon consumes directly (the peer tasks, the RIB
//! actor, the kernel path, the listener, the control socket, the metrics endpoint).
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
//! | next_hop, route_reflector_client, bird export program | re-export | routes sent to this neighbor are exported again, only the differences are sent |
//! | allow_own_as, bird import program | re-import | routes received from this neighbor are imported again from its Adj-RIB-In, without a route refresh |
//! | filters (BGPFilter list) | re-import and/or re-export | the direction whose rules differ |
//! | receive_limit, import_limit | re-import | the limit states are reset and the held routes counted against the new limits at once, without a reset (a count above a lowered limit takes the limit's action then, as BIRD's `proto_verify_limits`) |
//!
//! Global: a new router id or local AS resets every session (they are in every OPEN); a new
//! cluster id also resets every session (it is in every reflected route and in loop detection,
//! RFC 4456 §8): [`ConfigEvent::GlobalReset`], then a [`ConfigEvent::NeighborReset`] for every
//! neighbor kept. Pool changes re-run import, export and programming policy; block changes
//! add/remove announcements and blackholes (and re-run policy: own blocks are refused on import
//! and exported as ours); kernel, control and metrics changes restart those parts only.
//!
//! Routing policy never resets a session. A changed `[[filters]]` entry re-evaluates the
//! neighbors that use it, in the directions whose rules changed ([`PolicyScope::Neighbors`]);
//! changed prefix advertisements, services, static routes or the RR allow-list re-export to
//! every neighbor ([`PolicyScope::All`]). `[bgp]` decision options re-run best-path selection
//! ([`ConfigEvent::DecisionChanged`]), nothing else. Community names are resolved at load
//! time, so renaming one changes nothing; changing its value shows up as a change of every
//! filter or advertisement using it.
//!
//! BIRD front end ([`Config::bird`]): a changed kernel export program (`calico_kernel_programming`)
//! or `merge paths` is [`ConfigEvent::KernelFilterChanged`] (the kernel routes are re-programmed;
//! `merge paths` also changes the decision's `max_paths`); changed static routes are
//! [`ConfigEvent::StaticRoutesChanged`] (the kernel path installs them; their blackholes are the
//! node's blocks, [`ConfigEvent::BlocksChanged`]); changed direct-protocol interfaces are
//! [`ConfigEvent::DirectInterfacesChanged`] (what `direct1` lists). The family and the list of
//! files read are labels (no event).
//!
//! Start-only: `[graceful_restart] recovery` is read when the daemon starts with `-R`; the
//! recovery it shapes is over or under way, so a reload changes nothing (no event).

use std::collections::{BTreeSet, HashMap};

use ipnet::IpNet;

use crate::filter::{Filter, FilterName, FilterRule};
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
    /// The compiled BIRD `import` program ([`Neighbor::bird_filters`]).
    BirdImport,
    /// The compiled BIRD `export` program ([`Neighbor::bird_filters`]).
    BirdExport,
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
            NextHop | RouteReflectorClient | AllowOwnAs | Filters | BirdImport | BirdExport
            | RouteLimits => ChangeEffect::Reevaluate,
            Description | Passive | Template | ConnectTimers | ErrorWait | Bfd => {
                ChangeEffect::Immediate
            }
        }
    }

    /// A `Reevaluate` field that changes what is imported from the neighbor ([`Filters`]:
    /// when an import rule differs, which [`diff`] decides).
    ///
    /// [`Filters`]: NeighborField::Filters
    pub fn reimports(self) -> bool {
        matches!(
            self,
            NeighborField::AllowOwnAs | NeighborField::BirdImport | NeighborField::RouteLimits
        )
    }

    /// A `Reevaluate` field that changes what is exported to the neighbor (see
    /// [`NeighborField::reimports`] for [`NeighborField::Filters`]).
    pub fn reexports(self) -> bool {
        matches!(
            self,
            NeighborField::NextHop
                | NeighborField::RouteReflectorClient
                | NeighborField::BirdExport
        )
    }
}

/// A global setting whose change resets every session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GlobalField {
    RouterId,
    LocalAs,
    ClusterId,
}

/// Which neighbors' routes a policy change re-evaluates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyScope {
    /// Every neighbor (node-wide policy changed).
    All,
    /// These neighbors (present in both configurations), in file order.
    Neighbors(Vec<NeighborName>),
}

/// One thing a reload does. [`diff`] yields them in the order they are applied: sessions first
/// (removed, added, reset or updated), then routes (blocks, policy, decision), then the kernel,
/// control and metrics parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigEvent {
    /// Router id, AS or cluster id changed: every session restarts (each kept neighbor also
    /// has its [`ConfigEvent::NeighborReset`]); the RIB keeps its identity until a restart.
    GlobalReset { fields: Vec<GlobalField> },
    /// Rebind the BGP listener(s).
    ListenChanged,
    /// Gone from the configuration: Cease / Peer De-configured, its routes withdrawn.
    NeighborRemoved(NeighborName),
    /// New in the configuration: a session is started.
    NeighborAdded(NeighborName),
    /// Close and re-establish the session with the new settings; `fields` says why (empty:
    /// only a [`ConfigEvent::GlobalReset`]).
    NeighborReset {
        name: NeighborName,
        fields: Vec<NeighborField>,
    },
    /// New settings in place, no reset.
    NeighborUpdated {
        name: NeighborName,
        fields: Vec<NeighborField>,
    },
    /// Local blocks to announce and blackhole (added) or withdraw and remove (removed).
    BlocksChanged {
        added: Vec<IpNet>,
        removed: Vec<IpNet>,
    },
    /// IP pools changed: programming (encapsulation) decisions are re-run (the policy events
    /// that come with it re-run import and export).
    PoolsChanged,
    /// Import policy changed: the routes received from these neighbors are imported again from
    /// their Adj-RIB-In (soft reconfiguration, RFC 4271 §9.1.1), sessions stay.
    ImportPolicyChanged(PolicyScope),
    /// Export policy changed: the routes sent to these neighbors are exported again and only
    /// the differences are sent, sessions stay.
    ExportPolicyChanged(PolicyScope),
    /// `[bgp]` decision options changed: best-path selection re-runs over the routes held.
    DecisionChanged,
    /// `[kernel]` settings changed (read at start).
    KernelChanged,
    /// The BIRD front end's kernel export program or `merge paths` changed: kernel routes are
    /// programmed again.
    KernelFilterChanged,
    /// The BIRD front end's static routes changed (the kernel path installs them).
    StaticRoutesChanged,
    /// The BIRD front end's direct-protocol interfaces changed (`direct1`).
    DirectInterfacesChanged,
    /// `[control]` changed (bound at start).
    ControlChanged,
    /// `[metrics]` changed: the endpoint restarts.
    MetricsChanged,
}

/// The reload from `old` to `new`, as the events it needs (empty: nothing differs).
pub fn diff(old: &Config, new: &Config) -> Vec<ConfigEvent> {
    let mut ev = Vec::new();
    let mut global = Vec::new();
    if old.router_id != new.router_id {
        global.push(GlobalField::RouterId);
    }
    if old.local_as != new.local_as {
        global.push(GlobalField::LocalAs);
    }
    if old.cluster_id != new.cluster_id {
        global.push(GlobalField::ClusterId);
    }
    let global_reset = !global.is_empty();
    if global_reset {
        ev.push(ConfigEvent::GlobalReset { fields: global });
    }
    if old.listen != new.listen {
        ev.push(ConfigEvent::ListenChanged);
    }

    // Neighbors, matched by name (a Calico mesh has hundreds; the old ones by name once).
    let mut old_by_name: HashMap<&NeighborName, &Neighbor> =
        old.neighbors.iter().map(|n| (&n.name, n)).collect();
    let mut kept: Vec<(&Neighbor, &Neighbor)> = Vec::with_capacity(new.neighbors.len());
    let mut added = Vec::new();
    for n in &new.neighbors {
        match old_by_name.remove(&n.name) {
            Some(o) => kept.push((o, n)),
            None => added.push(ConfigEvent::NeighborAdded(n.name.clone())),
        }
    }
    // What is left was removed (in the old file order).
    ev.extend(
        old.neighbors
            .iter()
            .filter(|o| old_by_name.contains_key(&o.name))
            .map(|o| ConfigEvent::NeighborRemoved(o.name.clone())),
    );
    ev.extend(added);

    // Filters whose import / export rules changed (added and removed ones included).
    let filter_changes = FilterChanges::new(&old.filters, &new.filters);
    let mut reimport = Vec::new();
    let mut reexport = Vec::new();
    for (o, n) in kept {
        let mut fields = neighbor_fields(o, n);
        let reset = global_reset || fields.iter().any(|f| f.effect() == ChangeEffect::Reset);
        if reset {
            // A new session imports and exports everything anyway.
            ev.push(ConfigEvent::NeighborReset {
                name: n.name.clone(),
                fields,
            });
            continue;
        }
        let (mut import, mut export) = (false, false);
        for f in &fields {
            import |= f.reimports();
            export |= f.reexports();
        }
        if fields.contains(&NeighborField::Filters) {
            let (i, e) = lists_differ(old, &o.filters, new, &n.filters);
            import |= i;
            export |= e;
        } else {
            let (i, e) = filter_changes.users(&n.filters);
            import |= i;
            export |= e;
        }
        if import {
            reimport.push(n.name.clone());
        }
        if export {
            reexport.push(n.name.clone());
        }
        if !fields.is_empty() {
            fields.shrink_to_fit();
            ev.push(ConfigEvent::NeighborUpdated {
                name: n.name.clone(),
                fields,
            });
        }
    }

    // Node-wide parts.
    let old_blocks: BTreeSet<IpNet> = old.local_blocks.iter().copied().collect();
    let new_blocks: BTreeSet<IpNet> = new.local_blocks.iter().copied().collect();
    let blocks_changed = old_blocks != new_blocks;
    if blocks_changed {
        ev.push(ConfigEvent::BlocksChanged {
            added: new_blocks.difference(&old_blocks).copied().collect(),
            removed: old_blocks.difference(&new_blocks).copied().collect(),
        });
    }
    let pools_changed = old.ip_pools != new.ip_pools;
    if pools_changed {
        ev.push(ConfigEvent::PoolsChanged);
    }
    // Calico's import and export rules depend on the pools and the node's blocks;
    // advertisements, services, static routes and the allow-list are export rules.
    let import_all = pools_changed || blocks_changed;
    let export_all = import_all
        || old.prefix_advertisements != new.prefix_advertisements
        || old.services != new.services
        || old.static_routes != new.static_routes
        || old.rr_allowlist != new.rr_allowlist;
    if import_all {
        ev.push(ConfigEvent::ImportPolicyChanged(PolicyScope::All));
    } else if !reimport.is_empty() {
        ev.push(ConfigEvent::ImportPolicyChanged(PolicyScope::Neighbors(
            reimport,
        )));
    }
    if export_all {
        ev.push(ConfigEvent::ExportPolicyChanged(PolicyScope::All));
    } else if !reexport.is_empty() {
        ev.push(ConfigEvent::ExportPolicyChanged(PolicyScope::Neighbors(
            reexport,
        )));
    }
    if old.decision != new.decision {
        ev.push(ConfigEvent::DecisionChanged);
    }
    if old.kernel != new.kernel {
        ev.push(ConfigEvent::KernelChanged);
    }
    let (old_bird, new_bird) = (old.bird.as_ref(), new.bird.as_ref());
    if old_bird.map(|b| (&b.kernel_export, b.merge_paths))
        != new_bird.map(|b| (&b.kernel_export, b.merge_paths))
    {
        ev.push(ConfigEvent::KernelFilterChanged);
    }
    if old_bird.map(|b| &b.static_routes) != new_bird.map(|b| &b.static_routes) {
        ev.push(ConfigEvent::StaticRoutesChanged);
    }
    if old_bird.map(|b| &b.direct_interfaces) != new_bird.map(|b| &b.direct_interfaces) {
        ev.push(ConfigEvent::DirectInterfacesChanged);
    }
    if old.control != new.control {
        ev.push(ConfigEvent::ControlChanged);
    }
    if old.metrics != new.metrics {
        ev.push(ConfigEvent::MetricsChanged);
    }
    ev
}

/// The `[[filters]]` entries that differ between two configurations, per direction.
struct FilterChanges<'a> {
    /// By name: (import rules changed, export rules changed).
    changed: HashMap<&'a FilterName, (bool, bool)>,
}

impl<'a> FilterChanges<'a> {
    fn new(old: &'a [Filter], new: &'a [Filter]) -> Self {
        let old_by: HashMap<&FilterName, &Filter> = old.iter().map(|f| (&f.name, f)).collect();
        let new_by: HashMap<&FilterName, &Filter> = new.iter().map(|f| (&f.name, f)).collect();
        let mut changed = HashMap::new();
        for (name, f) in &new_by {
            let (i, e) = match old_by.get(name) {
                Some(o) => (imports(o) != imports(f), exports(o) != exports(f)),
                None => (true, true),
            };
            if i || e {
                changed.insert(*name, (i, e));
            }
        }
        for name in old_by.keys() {
            if !new_by.contains_key(name) {
                changed.insert(*name, (true, true));
            }
        }
        FilterChanges { changed }
    }

    /// Whether a neighbor using `list` (unchanged) sees different import / export rules.
    fn users(&self, list: &[FilterName]) -> (bool, bool) {
        if self.changed.is_empty() {
            return (false, false);
        }
        list.iter()
            .filter_map(|f| self.changed.get(f))
            .fold((false, false), |(i, e), (ci, ce)| (i || *ci, e || *ce))
    }
}

/// Whether a neighbor whose filter list went from `old_list` (in `old`) to `new_list` (in
/// `new`) sees different import / export rules (per family, all rules in order: the first
/// match decides).
fn lists_differ(
    old: &Config,
    old_list: &[FilterName],
    new: &Config,
    new_list: &[FilterName],
) -> (bool, bool) {
    fn rules<'c>(
        c: &'c Config,
        list: &[FilterName],
        side: fn(&'c Filter) -> [&'c [FilterRule]; 2],
    ) -> [Vec<&'c FilterRule>; 2] {
        let mut out = [Vec::new(), Vec::new()];
        for f in list
            .iter()
            .filter_map(|name| c.filters.iter().find(|f| &f.name == name))
        {
            let [v4, v6] = side(f);
            out[0].extend(v4);
            out[1].extend(v6);
        }
        out
    }
    (
        rules(old, old_list, imports) != rules(new, new_list, imports),
        rules(old, old_list, exports) != rules(new, new_list, exports),
    )
}

fn imports(f: &Filter) -> [&[FilterRule]; 2] {
    [&f.import_v4, &f.import_v6]
}

fn exports(f: &Filter) -> [&[FilterRule]; 2] {
    [&f.export_v4, &f.export_v6]
}

fn neighbor_fields(o: &Neighbor, n: &Neighbor) -> Vec<NeighborField> {
    use NeighborField as F;
    let bird = |f: fn(&crate::model::BirdFilters) -> &std::sync::Arc<policy::bird::Program>| match (
        &o.bird_filters,
        &n.bird_filters,
    ) {
        (Some(a), Some(b)) => {
            let (a, b) = (f(a), f(b));
            !std::sync::Arc::ptr_eq(a, b) && a != b
        }
        (None, None) => false,
        _ => true,
    };
    let checks = [
        (
            F::Address,
            o.address != n.address || o.interface != n.interface,
        ),
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
        (F::BirdImport, bird(|b| &b.import)),
        (F::BirdExport, bird(|b| &b.export)),
        (F::Bfd, o.bfd != n.bfd),
        (F::RouteLimits, o.route_limits != n.route_limits),
    ];
    // In declaration order, which is the sort order.
    checks
        .into_iter()
        .filter(|(_, c)| *c)
        .map(|(f, _)| f)
        .collect()
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
        diff(&cfg(old), &cfg(new))
    }

    fn updated(ev: &[ConfigEvent]) -> Vec<(&NeighborName, &[NeighborField])> {
        ev.iter()
            .filter_map(|e| match e {
                ConfigEvent::NeighborUpdated { name, fields }
                | ConfigEvent::NeighborReset { name, fields } => Some((name, fields.as_slice())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn identical_configs_have_no_diff() {
        let d = diff(&cfg(BASE), &cfg(BASE));
        assert!(d.is_empty(), "{d:?}");
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
        let d = events(BASE, &new);
        assert_eq!(d.len(), 2);
        assert!(d.iter().all(|e| matches!(e,
            ConfigEvent::NeighborReset { fields, .. } if fields == &[NeighborField::Ttl])));
    }

    #[test]
    fn hold_time_change_waits_for_the_next_session() {
        let new = BASE.replace("hold_time = 90", "hold_time = 30");
        let d = events(BASE, &new);
        // keepalive defaults to hold / 3, so it changes too.
        assert_eq!(
            updated(&d)[0].1,
            &[NeighborField::HoldTime, NeighborField::KeepaliveTime]
        );
        assert!(matches!(&d[0], ConfigEvent::NeighborUpdated { .. }));
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
            diff(&old, &new),
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
                ConfigEvent::ExportPolicyChanged(PolicyScope::Neighbors(vec![name(
                    "Mesh_10_0_0_2"
                )])),
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
            vec![
                ConfigEvent::GlobalReset {
                    fields: vec![GlobalField::RouterId]
                },
                ConfigEvent::NeighborReset {
                    name: name("Mesh_10_0_0_2"),
                    fields: vec![NeighborField::HoldTime, NeighborField::KeepaliveTime],
                },
                ConfigEvent::NeighborReset {
                    name: name("Mesh_10_0_0_3"),
                    fields: vec![NeighborField::HoldTime, NeighborField::KeepaliveTime],
                },
            ]
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
                ConfigEvent::ImportPolicyChanged(PolicyScope::All),
                ConfigEvent::ExportPolicyChanged(PolicyScope::All),
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
        // f1 has export rules only: its user is exported to again, nothing is re-imported.
        assert_eq!(
            events(&old, &new),
            vec![ConfigEvent::ExportPolicyChanged(PolicyScope::Neighbors(
                vec![name("Mesh_10_0_0_2")]
            ))]
        );
        // f2 has import rules only.
        let new = old.replace(
            "match_operator = \"Equal\"",
            "match_operator = \"NotEqual\"",
        );
        assert_eq!(
            events(&old, &new),
            vec![ConfigEvent::ImportPolicyChanged(PolicyScope::Neighbors(
                vec![name("Mesh_10_0_0_3")]
            ))]
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
                // f1 adds export rules only.
                ConfigEvent::ExportPolicyChanged(PolicyScope::Neighbors(vec![name(
                    "Mesh_10_0_0_3"
                )])),
            ]
        );
        // Adding an unused filter changes no neighbor's routes.
        let unused = format!(
            "{old}\n[[filters]]\nname = \"f3\"\n[[filters.export_v6]]\naction = \"Reject\"\n"
        );
        let d = events(&old, &unused);
        assert!(d.is_empty(), "{d:?}");
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
    fn node_wide_policy_changes_reexport_to_every_neighbor_without_reset() {
        let old = policy_base();
        assert_eq!(
            events(&old, &old.replace("max_paths = 8", "max_paths = 1")),
            vec![ConfigEvent::DecisionChanged],
            "decision options re-run best paths only"
        );
        for (what, new) in [
            ("advertisement", old.replace("65000:1", "65000:2")),
            ("services", old.replace("10.96.0.0/12", "10.96.0.0/16")),
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
            assert_eq!(
                events(&old, &new),
                vec![ConfigEvent::ExportPolicyChanged(PolicyScope::All)],
                "{what}"
            );
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
        assert_eq!(BirdImport.effect(), ChangeEffect::Reevaluate);
        assert_eq!(BirdExport.effect(), ChangeEffect::Reevaluate);
        let directions = |f: NeighborField| (f.reimports(), f.reexports());
        assert_eq!(directions(BirdImport), (true, false));
        assert_eq!(directions(BirdExport), (false, true));
        assert_eq!(directions(AllowOwnAs), (true, false));
        assert_eq!(directions(RouteLimits), (true, false));
        assert_eq!(directions(NextHop), (false, true));
        assert_eq!(directions(RouteReflectorClient), (false, true));
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
        diff(&bird(BIRD_BASE, &format!("{tag}-old")), &bird(new, tag))
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
                    fields: vec![NeighborField::BirdExport],
                },
                ConfigEvent::ExportPolicyChanged(PolicyScope::Neighbors(vec![name(
                    "Mesh_10_0_0_3"
                )])),
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
                ConfigEvent::ImportPolicyChanged(PolicyScope::Neighbors(vec![name(
                    "Mesh_10_0_0_3"
                )])),
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
            vec![ConfigEvent::KernelFilterChanged]
        );
    }

    #[test]
    fn bird_static_routes_and_interfaces_go_to_the_kernel_and_direct1() {
        let new = BIRD_BASE.replace(
            "route 10.64.0.0/26 blackhole;",
            "route 10.64.0.0/26 blackhole; route 10.65.0.1/32 via 10.0.0.9;",
        );
        assert_eq!(
            bird_events(&new, "static"),
            vec![ConfigEvent::StaticRoutesChanged]
        );
        let new = BIRD_BASE.replace("-\"cali*\", \"*\"", "-\"cali*\", -\"kube-ipvs*\", \"*\"");
        assert_eq!(
            bird_events(&new, "direct"),
            vec![ConfigEvent::DirectInterfacesChanged]
        );
    }
}
