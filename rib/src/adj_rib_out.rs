//! Adj-RIB-Out, one per update group: what the group's peers have been sent, and the UPDATE
//! bytes for a change, encoded once for all members (encode once, write N times).
//!
//! In a family where the group negotiated ADD-PATH transmit (RFC 7911) a prefix carries several
//! paths, each under a path identifier of its own: the identifier is chosen when the path is
//! first sent (the smallest one free for that prefix), kept while the path stays (a new version
//! of the path replaces it under the same identifier), and withdrawn when the path goes. A path
//! is known by its source (peer or local) and the identifier it was received with. The
//! identifiers belong to the group, so every member gets the same bytes, but for split horizon:
//! what came from a member of the group is encoded apart, once, and not written to that member
//! ([`SplitHorizon`]).

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
    /// The peers to write to ([`GroupUpdate::bytes_for`] says what).
    pub peers: Vec<PeerId>,
    /// Whole BGP messages, back to back, for every member.
    pub bytes: Bytes,
    /// Split horizon: the routes that came from members of the group, one entry per such
    /// member.
    pub split: Vec<SplitHorizon>,
    /// Routes that could not be encoded (left out of the Adj-RIB-Out, so not advertised).
    pub errors: Vec<(Prefix, RibError)>,
}

/// Split horizon inside an update group: the routes (or ADD-PATH paths) that came from one
/// member go to every other member and never back to it; that member gets withdrawals instead
/// where it held an older route of ours for the prefix. Each route is still encoded once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitHorizon {
    /// The member the routes came from.
    pub peer: PeerId,
    /// For every member but `peer`.
    pub others: Bytes,
    /// For `peer` alone.
    pub only: Bytes,
}

impl GroupUpdate {
    /// What to write to member `peer`, in order (each piece is whole BGP messages).
    pub fn bytes_for(&self, peer: PeerId) -> impl Iterator<Item = &Bytes> + '_ {
        std::iter::once(&self.bytes)
            .chain(
                self.split
                    .iter()
                    .map(move |s| if s.peer == peer { &s.only } else { &s.others }),
            )
            .filter(|b| !b.is_empty())
    }

    /// Whether nothing is to be written to any member.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
            && self
                .split
                .iter()
                .all(|s| s.others.is_empty() && s.only.is_empty())
    }
}

/// An export pass's UPDATE bytes for a group (see [`GroupUpdate`]).
#[derive(Debug, Default)]
pub(crate) struct GroupBytes {
    pub all: Bytes,
    pub split: Vec<SplitHorizon>,
}

/// Which path of a prefix an ADD-PATH entry carries: its source (a peer id or the local
/// source) and the path identifier it was received with (0 without ADD-PATH receive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct PathKey {
    pub source: u32,
    pub path_id: u32,
}

/// One path sent with ADD-PATH: the identifier it went out with, which path it is, and the
/// attributes sent.
#[derive(Debug, Clone)]
struct SentPath {
    id: u32,
    key: PathKey,
    attrs: Attrs,
}

/// What a group should carry for one prefix.
#[derive(Debug)]
pub(crate) enum Wanted {
    /// A family without ADD-PATH transmit: the one route to send, or none, and the member of
    /// the group it came from (split horizon), if any.
    One(Option<Attrs>, Option<PeerId>),
    /// A family with ADD-PATH transmit: every path to send (none: withdraw every path).
    Paths(Vec<(PathKey, Attrs)>),
}

/// The changes of one update pass, each tagged with the member it must not reach (split
/// horizon; `None`: every member).
#[derive(Debug, Default)]
struct Pending {
    withdrawn: Vec<(NlriEntry, Option<PeerId>)>,
    announced: Vec<(NlriEntry, Attrs, Option<PeerId>)>,
    /// Withdrawals for one member only (it held a route of ours that now came from it).
    only: Vec<(PeerId, NlriEntry)>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.withdrawn.is_empty() && self.announced.is_empty() && self.only.is_empty()
    }

    /// Encode every part once; returns the bytes and the announcements that failed.
    fn encode(
        &self,
        ctx: &SessionContext,
        errors: &mut Vec<(Prefix, RibError)>,
    ) -> (GroupBytes, HashSet<NlriEntry>) {
        let mut parts: Vec<Option<PeerId>> = self
            .withdrawn
            .iter()
            .map(|w| w.1)
            .chain(self.announced.iter().map(|a| a.2))
            .chain(self.only.iter().map(|o| Some(o.0)))
            .collect();
        parts.sort_unstable();
        parts.dedup();
        let mut failed = HashSet::new();
        let mut out = GroupBytes::default();
        for part in parts {
            let ws: Vec<NlriEntry> = self
                .withdrawn
                .iter()
                .filter(|w| w.1 == part)
                .map(|w| w.0)
                .collect();
            let an: Vec<(NlriEntry, Attrs)> = self
                .announced
                .iter()
                .filter(|a| a.2 == part)
                .map(|a| (a.0, a.1.clone()))
                .collect();
            let mut b = BytesMut::new();
            failed.extend(encode(ctx, &ws, &an, &mut b, errors));
            match part {
                None => out.all = b.freeze(),
                Some(peer) => {
                    let only: Vec<NlriEntry> = self
                        .only
                        .iter()
                        .filter(|o| o.0 == peer)
                        .map(|o| o.1)
                        .collect();
                    let mut o = BytesMut::new();
                    encode(ctx, &only, &[], &mut o, errors);
                    out.split.push(SplitHorizon {
                        peer,
                        others: b.freeze(),
                        only: o.freeze(),
                    });
                }
            }
        }
        (out, failed)
    }
}

/// The routes sent to one update group.
#[derive(Debug, Default, Clone)]
pub struct AdjRibOut {
    /// Families without ADD-PATH transmit: one route per prefix.
    routes: PrefixMap<Attrs>,
    /// Families with ADD-PATH transmit: every path sent, sorted by [`PathKey`].
    paths: PrefixMap<Vec<SentPath>>,
    /// Number of paths in `paths`.
    path_count: usize,
    /// Members that fell behind ([`lag`]).
    lagging: Vec<lag::Lag>,
}

fn announce_how(family: Family, set: &AttrSet) -> Result<Announce, RibError> {
    match (family, set.mp_next_hop) {
        (Family::Ipv4Unicast, None) if set.attrs.next_hop.is_some() => Ok(Announce::Ipv4Classic),
        (family, Some(next_hop)) => Ok(Announce::Mp { family, next_hop }),
        (family, None) => Err(RibError::NoLocalAddress { family }),
    }
}

fn with_id(prefix: Prefix, id: u32) -> NlriEntry {
    NlriEntry {
        path_id: Some(id),
        prefix,
    }
}

/// Encode withdrawals then announcements (grouped by attribute set, one builder call each).
/// Entries carry their path identifiers (set exactly in the ADD-PATH transmit families).
/// Returns the announcements that could not be encoded.
fn encode(
    ctx: &SessionContext,
    withdrawn: &[NlriEntry],
    announced: &[(NlriEntry, Attrs)],
    out: &mut BytesMut,
    errors: &mut Vec<(Prefix, RibError)>,
) -> HashSet<NlriEntry> {
    let mut failed = HashSet::new();
    for family in [Family::Ipv4Unicast, Family::Ipv6Unicast] {
        let ws = withdrawn
            .iter()
            .filter(|e| family_of(&e.prefix) == family)
            .copied();
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
    for (e, a) in announced {
        let f = family_of(&e.prefix);
        let i = *index.entry((a, f)).or_insert_with(|| {
            batches.push((a, f, Vec::new()));
            batches.len() - 1
        });
        batches[i].2.push(*e);
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
                failed.insert(*en);
            }
        }
    }
    failed
}

/// The ADD-PATH paths to send for `prefix` instead of `old`: the new list (sorted by key, with
/// identifiers), after adding to `pending` the withdrawals and announcements that get there;
/// `None` when nothing changes. A path keeps its identifier; a new path takes the smallest
/// identifier not in use, possibly one a leaving path frees: the announcement then replaces the
/// leaving path (RFC 7911 §3) and its withdrawal is not sent, except to the member the new path
/// came from when the leaving path came from elsewhere (that member does not get the
/// announcement). A path from a member of the group (`member`) is announced and withdrawn to
/// the other members only (split horizon).
fn plan_paths(
    prefix: Prefix,
    old: &[SentPath],
    mut new: Vec<(PathKey, Attrs)>,
    member: &impl Fn(u32) -> Option<PeerId>,
    pending: &mut Pending,
) -> Option<Vec<SentPath>> {
    new.sort_unstable_by_key(|(k, _)| *k);
    new.dedup_by_key(|(k, _)| *k);
    let mut next: Vec<SentPath> = Vec::with_capacity(new.len());
    let mut fresh = Vec::new();
    let mut changed = false;
    let mut o = old.iter().peekable();
    for (key, attrs) in new {
        // Both lists are sorted by key: paths of `old` before `key` are leaving.
        while o.peek().is_some_and(|s| s.key < key) {
            o.next();
            changed = true;
        }
        match o.peek() {
            Some(s) if s.key == key => {
                if !s.attrs.ptr_eq(&attrs) {
                    changed = true;
                    let e = with_id(prefix, s.id);
                    pending
                        .announced
                        .push((e, attrs.clone(), member(key.source)));
                }
                next.push(SentPath {
                    id: s.id,
                    key,
                    attrs,
                });
                o.next();
            }
            _ => {
                changed = true;
                fresh.push(next.len());
                next.push(SentPath { id: 0, key, attrs });
            }
        }
    }
    if o.next().is_some() {
        changed = true;
    }
    if !changed {
        return None;
    }
    if !fresh.is_empty() {
        let mut used: Vec<u32> = next.iter().map(|s| s.id).filter(|&i| i != 0).collect();
        used.sort_unstable();
        let mut free = free_ids(used);
        for i in fresh {
            let id = free.next().unwrap_or(u32::MAX);
            next[i].id = id;
            let split = member(next[i].key.source);
            let e = with_id(prefix, id);
            pending.announced.push((e, next[i].attrs.clone(), split));
            // The identifier's last holder, from another source, may be at the member this
            // path came from, which does not get the announcement that replaces it.
            if let (Some(m), Some(last)) = (split, old.iter().find(|s| s.id == id)) {
                if last.key.source != next[i].key.source {
                    pending.only.push((m, e));
                }
            }
        }
    }
    for s in old {
        if !next.iter().any(|n| n.id == s.id) {
            pending
                .withdrawn
                .push((with_id(prefix, s.id), member(s.key.source)));
        }
    }
    Some(next)
}

/// Identifiers from 1 up that are not in `used` (sorted), smallest first.
fn free_ids(used: Vec<u32>) -> impl Iterator<Item = u32> {
    let mut used = used.into_iter().peekable();
    (1..=u32::MAX).filter(move |c| {
        while used.peek().is_some_and(|u| u < c) {
            used.next();
        }
        used.peek() != Some(c)
    })
}

impl AdjRibOut {
    /// Number of routes sent (with ADD-PATH, every path counts).
    pub fn len(&self) -> usize {
        self.routes.len() + self.path_count
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The attributes sent for `prefix` (with ADD-PATH, those of its first path).
    pub fn get(&self, prefix: &Prefix) -> Option<&Attrs> {
        self.routes.get(prefix).or_else(|| {
            self.paths
                .get(prefix)
                .and_then(|v| v.first())
                .map(|s| &s.attrs)
        })
    }

    /// Every path sent for `prefix` with the identifier it went out with (`None` in a family
    /// without ADD-PATH transmit).
    pub fn paths(&self, prefix: &Prefix) -> Vec<(Option<u32>, &Attrs)> {
        match self.routes.get(prefix) {
            Some(a) => vec![(None, a)],
            None => self
                .paths
                .get(prefix)
                .map(|v| v.iter().map(|s| (Some(s.id), &s.attrs)).collect())
                .unwrap_or_default(),
        }
    }

    /// Every prefix sent.
    pub fn prefixes(&self) -> impl Iterator<Item = Prefix> + '_ {
        self.routes.keys().chain(self.paths.keys())
    }

    /// Everything sent, as NLRI entries (path identifiers included) with attributes and, for
    /// ADD-PATH paths, which path each is.
    fn entries(&self) -> impl Iterator<Item = (NlriEntry, &Attrs, Option<PathKey>)> + '_ {
        let one = self
            .routes
            .iter()
            .map(|(p, a)| (NlriEntry::new(p), a, None));
        let many = self.paths.iter().flat_map(|(p, v)| {
            v.iter()
                .map(move |s| (with_id(p, s.id), &s.attrs, Some(s.key)))
        });
        one.chain(many)
    }

    /// Whether `e` was sent with exactly `attrs`.
    fn sent(&self, e: &NlriEntry, attrs: Option<&Attrs>) -> bool {
        let found = match e.path_id {
            None => self.routes.get(&e.prefix),
            Some(id) => self
                .paths
                .get(&e.prefix)
                .and_then(|v| v.iter().find(|s| s.id == id))
                .map(|s| &s.attrs),
        };
        match (found, attrs) {
            (Some(f), Some(a)) => f.ptr_eq(a),
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// Bring the given prefixes to the wanted state and return the UPDATEs for the difference
    /// (empty if nothing changed). `member` tells whether a source (peer id or the local
    /// source) is a member of the group, for split horizon.
    pub(crate) fn update(
        &mut self,
        ctx: &SessionContext,
        wanted: impl IntoIterator<Item = (Prefix, Wanted)>,
        member: &impl Fn(u32) -> Option<PeerId>,
        errors: &mut Vec<(Prefix, RibError)>,
    ) -> GroupBytes {
        let mut pending = Pending::default();
        let mut ones = Vec::new();
        let mut many = Vec::new();
        for (p, w) in wanted {
            match w {
                Wanted::One(w, split) => match (self.routes.get(&p), w) {
                    (Some(old), Some(new)) if old.ptr_eq(&new) => {}
                    (old, Some(new)) => {
                        let e = NlriEntry::new(p);
                        if let (Some(m), Some(_)) = (split, old) {
                            // The member may hold an older route of ours for the prefix.
                            pending.only.push((m, e));
                        }
                        pending.announced.push((e, new.clone(), split));
                        ones.push((p, Some(new)));
                    }
                    (Some(_), None) => {
                        pending.withdrawn.push((NlriEntry::new(p), None));
                        ones.push((p, None));
                    }
                    (None, None) => {}
                },
                Wanted::Paths(new) => {
                    let old = self.paths.get(&p).map_or(&[][..], Vec::as_slice);
                    if let Some(next) = plan_paths(p, old, new, member, &mut pending) {
                        many.push((p, next));
                    }
                }
            }
        }
        if pending.is_empty() {
            return GroupBytes::default();
        }
        let (mut out, failed) = pending.encode(ctx, errors);
        let mut late_withdraw = Vec::new();
        for (p, w) in ones {
            self.note_change(p);
            match w {
                None => {
                    self.routes.remove(&p);
                }
                // Not sendable: if an older version was sent, take it back.
                Some(_) if failed.contains(&NlriEntry::new(p)) => {
                    if self.routes.remove(&p).is_some() {
                        late_withdraw.push(NlriEntry::new(p));
                    }
                }
                Some(a) => {
                    self.routes.insert(p, a);
                }
            }
        }
        for (p, mut next) in many {
            self.note_change(p);
            let old = self.paths.remove(&p).unwrap_or_default();
            self.path_count -= old.len();
            next.retain(|s| {
                let e = with_id(p, s.id);
                if !failed.contains(&e) {
                    return true;
                }
                // Whatever went out under this identifier before (this path's older version
                // or a path that left) is still at the peers: take it back.
                if old.iter().any(|o| o.id == s.id) {
                    late_withdraw.push(e);
                }
                false
            });
            self.path_count += next.len();
            if !next.is_empty() {
                self.paths.insert(p, next);
            }
        }
        if !late_withdraw.is_empty() {
            let mut b = BytesMut::from(&out.all[..]);
            encode(ctx, &late_withdraw, &[], &mut b, errors);
            out.all = b.freeze();
        }
        out
    }

    /// A copy of what was sent (attribute handles are shared, not copied).
    pub(crate) fn snapshot(&self) -> AdjRibOut {
        self.clone()
    }

    /// The UPDATEs that take a peer from having been sent `old` to this Adj-RIB-Out, without
    /// the entries `skip` names (the peer's own routes, split horizon).
    pub(crate) fn diff_from(
        &self,
        old: &AdjRibOut,
        ctx: &SessionContext,
        mut skip: impl FnMut(Prefix, Option<PathKey>) -> bool,
        errors: &mut Vec<(Prefix, RibError)>,
    ) -> Bytes {
        let withdrawn: Vec<NlriEntry> = old
            .entries()
            .filter(|(e, _, _)| !self.sent(e, None))
            .map(|(e, _, _)| e)
            .collect();
        let announced: Vec<(NlriEntry, Attrs)> = self
            .entries()
            .filter(|(e, a, k)| !old.sent(e, Some(a)) && !skip(e.prefix, *k))
            .map(|(e, a, _)| (e, a.clone()))
            .collect();
        let mut out = BytesMut::new();
        encode(ctx, &withdrawn, &announced, &mut out, errors);
        out.freeze()
    }

    /// Everything sent so far in `families` but the entries `skip` names (the peer's own
    /// routes, split horizon), each family followed by its End-of-RIB (RFC 4724 §2): for a
    /// peer that joins the group, and for route refresh (RFC 2918 §4).
    pub(crate) fn dump(
        &self,
        ctx: &SessionContext,
        families: &[Family],
        mut skip: impl FnMut(Prefix, Option<PathKey>) -> bool,
        errors: &mut Vec<(Prefix, RibError)>,
    ) -> Bytes {
        let mut out = BytesMut::new();
        for &f in families {
            let routes: Vec<(NlriEntry, Attrs)> = self
                .entries()
                .filter(|(e, _, k)| family_of(&e.prefix) == f && !skip(e.prefix, *k))
                .map(|(e, a, _)| (e, a.clone()))
                .collect();
            encode(ctx, &[], &routes, &mut out, errors);
            end_of_rib_into(f, &mut out);
        }
        out.freeze()
    }
}

pub(crate) mod lag;
#[cfg(test)]
mod tests;
