//! Adj-RIB-Out, one per update group: what the group's peers have been sent, and the UPDATE
//! bytes for a change, encoded once for all members (encode once, write N times).

use std::collections::{HashMap, HashSet};

use bgp_proto::builder::{
    announce_into, end_of_rib_into, withdraw_into, Announce, EncodedAttributes, Withdraw,
};
use bgp_proto::nlri::{family_of, NlriEntry};
use bgp_proto::{Family, Prefix, SessionContext};
use bytes::{Bytes, BytesMut};

use crate::error::RibError;
use crate::intern::{AttrSet, Attrs};
use crate::loc_rib::SelectedRoute;
use crate::peer::{GroupId, GroupKey, PeerId};
use crate::prefix_map::PrefixMap;

/// What the export policy decided for one route towards one update group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportVerdict {
    /// Send it (after the mandatory BGP changes: next hop, AS_PATH, reflection attributes).
    Accept,
    /// Send it with these attributes (before the mandatory changes).
    Replace(Box<AttrSet>),
    /// Do not send it (withdraw it if it was sent).
    Reject,
}

/// The export policy, applied per Loc-RIB best route and update group. `bgpd` implements it with
/// `policy::export`.
pub trait ExportPolicy {
    fn export(&mut self, group: &GroupKey, prefix: &Prefix, route: &SelectedRoute)
        -> ExportVerdict;
}

impl<F> ExportPolicy for F
where
    F: FnMut(&GroupKey, &Prefix, &SelectedRoute) -> ExportVerdict,
{
    fn export(
        &mut self,
        group: &GroupKey,
        prefix: &Prefix,
        route: &SelectedRoute,
    ) -> ExportVerdict {
        self(group, prefix, route)
    }
}

/// An export policy that sends every route the BGP rules allow.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportAll;

impl ExportPolicy for ExportAll {
    fn export(&mut self, _: &GroupKey, _: &Prefix, _: &SelectedRoute) -> ExportVerdict {
        ExportVerdict::Accept
    }
}

/// Encoded UPDATEs for every member of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupUpdate {
    pub group: GroupId,
    /// The peers to write `bytes` to.
    pub peers: Vec<PeerId>,
    /// Whole BGP messages, back to back.
    pub bytes: Bytes,
    /// Routes that could not be encoded (left out of the Adj-RIB-Out, so not advertised).
    pub errors: Vec<(Prefix, RibError)>,
}

/// The routes sent to one update group.
#[derive(Debug, Default)]
pub struct AdjRibOut {
    routes: PrefixMap<Attrs>,
}

/// ADD-PATH (RFC 7911) transmit: we send one path per prefix, with this identifier.
const TX_PATH_ID: u32 = 1;

fn entry(ctx: &SessionContext, prefix: Prefix) -> NlriEntry {
    NlriEntry {
        path_id: ctx.add_path_tx(family_of(&prefix)).then_some(TX_PATH_ID),
        prefix,
    }
}

fn announce_how(family: Family, set: &AttrSet) -> Result<Announce, RibError> {
    match (family, set.mp_next_hop) {
        (Family::Ipv4Unicast, None) if set.attrs.next_hop.is_some() => Ok(Announce::Ipv4Classic),
        (family, Some(next_hop)) => Ok(Announce::Mp { family, next_hop }),
        (family, None) => Err(RibError::NoLocalAddress { family }),
    }
}

/// Encode withdrawals then announcements (grouped by attribute set, one builder call each).
fn encode(
    ctx: &SessionContext,
    withdrawn: &[Prefix],
    announced: &[(Prefix, Attrs)],
    out: &mut BytesMut,
    errors: &mut Vec<(Prefix, RibError)>,
) -> HashSet<Prefix> {
    let mut failed = HashSet::new();
    for family in [Family::Ipv4Unicast, Family::Ipv6Unicast] {
        let ws = withdrawn
            .iter()
            .filter(|p| family_of(p) == family)
            .map(|p| entry(ctx, *p));
        let how = match family {
            Family::Ipv4Unicast => Withdraw::Ipv4Classic,
            f => Withdraw::Mp(f),
        };
        if let Err(e) = withdraw_into(ctx, how, ws, out) {
            // Only prefixes of the wrong family or oversize entries can fail: neither exists.
            errors.push((Prefix::default(), e.into()));
        }
    }
    let mut index: HashMap<(&Attrs, Family), usize> = HashMap::new();
    let mut batches: Vec<(&Attrs, Family, Vec<NlriEntry>)> = Vec::new();
    for (p, a) in announced {
        let f = family_of(p);
        let i = *index.entry((a, f)).or_insert_with(|| {
            batches.push((a, f, Vec::new()));
            batches.len() - 1
        });
        batches[i].2.push(entry(ctx, *p));
    }
    for (a, f, entries) in batches {
        let res = announce_how(f, a).and_then(|how| {
            let enc = EncodedAttributes::new(&a.attrs, ctx)?;
            announce_into(ctx, &enc, how, entries.iter().copied(), out)?;
            Ok(())
        });
        if let Err(e) = res {
            tracing::warn!(error = %e, prefixes = entries.len(), "route not advertised");
            for en in &entries {
                errors.push((en.prefix, e.clone()));
                failed.insert(en.prefix);
            }
        }
    }
    failed
}

impl AdjRibOut {
    /// Number of routes sent.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The attributes sent for `prefix`.
    pub fn get(&self, prefix: &Prefix) -> Option<&Attrs> {
        self.routes.get(prefix)
    }

    /// Every prefix sent.
    pub fn prefixes(&self) -> impl Iterator<Item = Prefix> + '_ {
        self.routes.keys()
    }

    /// Bring the given prefixes to the wanted state (`None`: not advertised) and return the
    /// UPDATEs for the difference (empty if nothing changed).
    pub(crate) fn update(
        &mut self,
        ctx: &SessionContext,
        wanted: impl IntoIterator<Item = (Prefix, Option<Attrs>)>,
        errors: &mut Vec<(Prefix, RibError)>,
    ) -> Bytes {
        let mut withdrawn = Vec::new();
        let mut announced = Vec::new();
        for (p, w) in wanted {
            match (self.routes.get(&p), w) {
                (Some(old), Some(new)) if old.ptr_eq(&new) => {}
                (_, Some(new)) => announced.push((p, new)),
                (Some(_), None) => withdrawn.push(p),
                (None, None) => {}
            }
        }
        if withdrawn.is_empty() && announced.is_empty() {
            return Bytes::new();
        }
        let mut out = BytesMut::new();
        let failed = encode(ctx, &withdrawn, &announced, &mut out, errors);
        for p in &withdrawn {
            self.routes.remove(p);
        }
        let mut late_withdraw = Vec::new();
        for (p, a) in announced {
            if failed.contains(&p) {
                // Not sendable: if an older version was sent, take it back.
                if self.routes.remove(&p).is_some() {
                    late_withdraw.push(p);
                }
            } else {
                self.routes.insert(p, a);
            }
        }
        if !late_withdraw.is_empty() {
            encode(ctx, &late_withdraw, &[], &mut out, errors);
        }
        out.freeze()
    }

    /// A copy of what was sent (attribute handles are shared, not copied).
    pub(crate) fn snapshot(&self) -> PrefixMap<Attrs> {
        self.routes.clone()
    }

    /// The UPDATEs that take a peer from having been sent `old` to this Adj-RIB-Out.
    pub(crate) fn diff_from(
        &self,
        old: &PrefixMap<Attrs>,
        ctx: &SessionContext,
        errors: &mut Vec<(Prefix, RibError)>,
    ) -> Bytes {
        let withdrawn: Vec<Prefix> = old
            .keys()
            .filter(|p| self.routes.get(p).is_none())
            .collect();
        let announced: Vec<(Prefix, Attrs)> = self
            .routes
            .iter()
            .filter(|(p, a)| old.get(p).is_none_or(|o| !o.ptr_eq(a)))
            .map(|(p, a)| (p, a.clone()))
            .collect();
        let mut out = BytesMut::new();
        encode(ctx, &withdrawn, &announced, &mut out, errors);
        out.freeze()
    }

    /// Everything sent so far in `families`, each followed by its End-of-RIB (RFC 4724 §2):
    /// for a peer that joins the group, and for route refresh (RFC 2918 §4).
    pub(crate) fn dump(
        &self,
        ctx: &SessionContext,
        families: &[Family],
        errors: &mut Vec<(Prefix, RibError)>,
    ) -> Bytes {
        let mut out = BytesMut::new();
        for &f in families {
            let routes: Vec<(Prefix, Attrs)> = self
                .routes
                .iter()
                .filter(|(p, _)| family_of(p) == f)
                .map(|(p, a)| (p, a.clone()))
                .collect();
            encode(ctx, &[], &routes, &mut out, errors);
            end_of_rib_into(f, &mut out);
        }
        out.freeze()
    }
}
