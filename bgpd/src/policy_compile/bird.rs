//! The BIRD front end's policy: each neighbor's compiled `import` / `export` programs
//! (`policy::bird`), run on the same route the typed Calico rules would see, their changes
//! applied to the RIB's attribute set.
//!
//! Peers whose export programs are equal share an export policy id (so they can share an update
//! group); a program's id is its position in [`BirdPrograms::exports`], kept across reloads
//! for an unchanged program ([`crate::policy_compile::CompiledPolicy::keep_ids`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use bgp_proto::attribute::Origin;
use bgp_proto::attribute::{AsPath, Community, LargeCommunity, PathAttributes};
use bgp_proto::{Asn, Prefix};
use conf::Config;
use policy::bird::{self, Changes, Program, RouteSourceKind, RouteView, Verdict};
use rib::{
    AttrSet, ExportVerdict, GroupKey, ImportVerdict, RouteOrigin, SelectedRoute, SessionKind,
};

/// BIRD's `default bgp_local_pref` (what its BGP protocol gives a non-BGP route on export).
const DEFAULT_LOCAL_PREF: u32 = 100;

/// The programs of every neighbor, compiled once per configuration.
#[derive(Debug, Clone, Default)]
pub struct BirdPrograms {
    /// Distinct export programs; an export policy id indexes this list (`None`: an id no
    /// neighbor uses after a reload).
    pub exports: Vec<Option<Arc<Program>>>,
    /// Each neighbor's export policy id, by address.
    pub export_ids: HashMap<IpAddr, u64>,
    /// Each neighbor's import program, by address.
    pub imports: HashMap<IpAddr, Arc<Program>>,
}

impl BirdPrograms {
    /// The programs of `config`'s neighbors (those read from BIRD text; others get none).
    pub fn new(config: &Config) -> Self {
        let mut p = BirdPrograms::default();
        for n in &config.neighbors {
            let Some(f) = &n.bird_filters else { continue };
            let id = match p.exports.iter().position(|e| {
                e.as_ref()
                    .is_some_and(|e| Arc::ptr_eq(e, &f.export) || **e == *f.export)
            }) {
                Some(i) => i,
                None => {
                    p.exports.push(Some(f.export.clone()));
                    p.exports.len() - 1
                }
            };
            p.export_ids.insert(n.address, id as u64);
            p.imports.insert(n.address, f.import.clone());
        }
        p
    }

    /// The import verdict of `peer`'s program on a route it sent.
    ///
    /// As BIRD 1.6, a route that arrives without LOCAL_PREF (from an eBGP peer) gets the
    /// default 100 before the filter runs: Calico's kernel filter then computes its metric from
    /// it (2147483647 - 100).
    pub fn import(&self, peer: IpAddr, prefix: &Prefix, attrs: &AttrSet) -> ImportVerdict {
        let prepared = attrs.attrs.local_pref.is_none().then(|| {
            let mut set = attrs.clone();
            set.attrs.local_pref = Some(DEFAULT_LOCAL_PREF);
            set
        });
        let base = prepared.as_ref().unwrap_or(attrs);
        let changes = match self.imports.get(&peer) {
            // BIRD's default import of a BGP protocol is `all`.
            None => Changes::default(),
            Some(program) => {
                let view = RouteView::new(
                    *prefix,
                    RouteSourceKind::Bgp,
                    base.next_hop(),
                    Some(&base.attrs),
                );
                match run(program, &view, prefix, "import") {
                    None => return ImportVerdict::Reject,
                    Some(changes) => changes,
                }
            }
        };
        let changed = modified(&changes, base);
        match (prepared, changed) {
            (_, Some(set)) | (Some(set), None) => ImportVerdict::Replace(Box::new(set)),
            (None, None) => ImportVerdict::Accept,
        }
    }

    /// The export verdict of the group's program on a Loc-RIB route, `own_as` being our AS
    /// towards the group.
    ///
    /// The filter sees the attributes BIRD 1.6 gives it (its BGP protocol prepares them before
    /// the export filter runs): towards an eBGP peer our AS is already in front of the AS_PATH
    /// (so a filter's `bgp_path.prepend` lands before it; the RIB then does not prepend again,
    /// [`rib::PeerInfo::policy_prepends_own_as`]); our own routes (BIRD's static protocol)
    /// carry ORIGIN IGP, an empty AS_PATH (or our AS, eBGP) and the default LOCAL_PREF 100.
    pub fn export(
        &self,
        group: &GroupKey,
        own_as: Asn,
        prefix: &Prefix,
        route: &SelectedRoute,
    ) -> ExportVerdict {
        let Some(program) = usize::try_from(group.export_policy)
            .ok()
            .and_then(|i| self.exports.get(i))
            .and_then(Option::as_ref)
        else {
            // BIRD's default export of a BGP protocol is `none`.
            return ExportVerdict::Reject;
        };
        let ebgp = group.kind == SessionKind::Ebgp;
        let source = match route.origin {
            RouteOrigin::Local => RouteSourceKind::Static,
            RouteOrigin::Peer { .. } => RouteSourceKind::Bgp,
        };
        let prepared: Option<AttrSet> = match route.origin {
            RouteOrigin::Local => {
                let mut set = (*route.attrs).clone();
                let a = &mut set.attrs;
                a.origin.get_or_insert(Origin::Igp);
                let mut path = a.as_path.take().unwrap_or_default();
                if ebgp {
                    path.prepend(own_as);
                }
                a.as_path = Some(path);
                a.local_pref.get_or_insert(DEFAULT_LOCAL_PREF);
                Some(set)
            }
            RouteOrigin::Peer { .. } if ebgp => {
                let mut set = (*route.attrs).clone();
                let mut path = set.attrs.as_path.take().unwrap_or_default();
                path.prepend(own_as);
                set.attrs.as_path = Some(path);
                Some(set)
            }
            RouteOrigin::Peer { .. } => None,
        };
        let base: &AttrSet = prepared.as_ref().unwrap_or(&route.attrs);
        let view = RouteView::new(*prefix, source, route.next_hop, Some(&base.attrs));
        let Some(changes) = run(program, &view, prefix, "export") else {
            return ExportVerdict::Reject;
        };
        let mut set = match prepared {
            Some(set) => set,
            None if !changes.touches_bgp() => return ExportVerdict::Accept,
            None => (*route.attrs).clone(),
        };
        apply(&changes, &mut set.attrs);
        if set == *route.attrs {
            ExportVerdict::Accept
        } else {
            ExportVerdict::Replace(Box::new(set))
        }
    }
}

/// Runs `program`: `Some(changes)` when it accepts, `None` when it rejects or fails (a runtime
/// error is logged, as BIRD does, and the route is dropped).
fn run<'p>(
    program: &'p Program,
    view: &RouteView<'_>,
    prefix: &Prefix,
    direction: &'static str,
) -> Option<Changes<'p>> {
    match bird::run(program, view) {
        Ok(o) if o.verdict == Verdict::Accept => Some(o.changes),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(
                event = "filter_runtime_error",
                filter = program.name.as_deref().unwrap_or("(unnamed)"),
                direction,
                %prefix,
                error = %e,
                "filter runtime error: route rejected"
            );
            None
        }
    }
}

/// The attribute set with the program's BGP changes applied, or `None` when none apply.
fn modified(changes: &Changes<'_>, attrs: &AttrSet) -> Option<AttrSet> {
    if !changes.touches_bgp() {
        return None;
    }
    let mut set = attrs.clone();
    apply(changes, &mut set.attrs);
    (set != *attrs).then_some(set)
}

/// Applies what a filter wrote to BGP attributes (BIRD keeps community lists sorted).
pub fn apply(changes: &Changes<'_>, a: &mut PathAttributes) {
    if let Some(lp) = changes.local_pref {
        a.local_pref = Some(lp);
    }
    if let Some(med) = changes.med {
        a.med = Some(med);
    }
    if !changes.communities_added.is_empty() || !changes.communities_deleted.is_empty() {
        let v = a.communities.get_or_insert_with(Vec::new);
        for (asn, value) in &changes.communities_added {
            let c = Community::new(*asn, *value);
            if !v.contains(&c) {
                v.push(c);
            }
        }
        for (asn, value) in &changes.communities_deleted {
            let c = Community::new(*asn, *value);
            v.retain(|x| *x != c);
        }
        v.sort();
        if v.is_empty() {
            a.communities = None;
        }
    }
    if !changes.large_added.is_empty() || !changes.large_deleted.is_empty() {
        let v = a.large_communities.get_or_insert_with(Vec::new);
        for (global, local1, local2) in &changes.large_added {
            let c = LargeCommunity {
                global: *global,
                local1: *local1,
                local2: *local2,
            };
            if !v.contains(&c) {
                v.push(c);
            }
        }
        for (global, local1, local2) in &changes.large_deleted {
            v.retain(|x| !(x.global == *global && x.local1 == *local1 && x.local2 == *local2));
        }
        v.sort();
        if v.is_empty() {
            a.large_communities = None;
        }
    }
    if !changes.prepended.is_empty() {
        let mut p: AsPath = a.as_path.take().unwrap_or_default();
        for asn in &changes.prepended {
            p.prepend(Asn(*asn));
        }
        a.as_path = Some(p);
    }
}
