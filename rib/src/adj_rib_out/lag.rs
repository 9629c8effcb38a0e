//! Members that fell behind their update group (their connection's queue was full): instead of
//! queueing UPDATEs without bound, or losing them, the group remembers which prefixes changed
//! since the member stopped taking UPDATEs and which path identifiers it held for each; when the
//! member can take more, it gets the group's current state for exactly those prefixes (BIRD's
//! export of the latest state, not a replay of every change). What a lag costs is bounded by
//! the number of prefixes, whatever the churn.

use bgp_proto::nlri::{family_of, NlriEntry};
use bgp_proto::{Prefix, SessionContext};
use bytes::{Bytes, BytesMut};

use super::{encode, with_id, AdjRibOut, PathKey};
use crate::error::RibError;
use crate::intern::Attrs;
use crate::peer::PeerId;
use crate::prefix_map::PrefixMap;

/// What a lagging member held, for every prefix the group changed since it fell behind: the
/// path identifiers (ADD-PATH families) or `[0]` for a route (other families); empty when it
/// held nothing.
pub(crate) type Held = PrefixMap<Ids>;

/// Path identifiers held for one prefix; none or one (every family without ADD-PATH, most
/// ADD-PATH prefixes) without an allocation: a lag over a whole table of 100k prefixes costs
/// 100k small allocations less.
#[derive(Debug, Clone, Default)]
pub(crate) enum Ids {
    #[default]
    None,
    One(u32),
    Many(Box<[u32]>),
}

impl Ids {
    fn as_slice(&self) -> &[u32] {
        match self {
            Ids::None => &[],
            Ids::One(id) => std::slice::from_ref(id),
            Ids::Many(ids) => ids,
        }
    }
}

impl FromIterator<u32> for Ids {
    fn from_iter<I: IntoIterator<Item = u32>>(iter: I) -> Self {
        let v: Vec<u32> = iter.into_iter().collect();
        match v.as_slice() {
            [] => Ids::None,
            [id] => Ids::One(*id),
            _ => Ids::Many(v.into_boxed_slice()),
        }
    }
}

/// One member that fell behind.
#[derive(Debug, Clone)]
pub(crate) struct Lag {
    pub peer: PeerId,
    pub held: Held,
}

impl AdjRibOut {
    /// `peer` stops taking this group's UPDATEs: from now on, what it held of each prefix the
    /// group changes is kept (see [`AdjRibOut::catch_up`]). Nothing happens if it already lags.
    pub(crate) fn start_lag(&mut self, peer: PeerId) {
        self.start_lag_with(peer, Held::default());
    }

    /// [`AdjRibOut::start_lag`] with what `peer` holds already known to differ for `held`
    /// (a member that fell behind in another group and moved here).
    pub(crate) fn start_lag_with(&mut self, peer: PeerId, held: Held) {
        if !self.is_lagging(peer) {
            self.lagging.push(Lag { peer, held });
        }
    }

    pub(crate) fn is_lagging(&self, peer: PeerId) -> bool {
        self.lagging.iter().any(|l| l.peer == peer)
    }

    /// `peer` left the group (or caught up): forget its lag, returning it.
    pub(crate) fn stop_lag(&mut self, peer: PeerId) -> Option<Held> {
        let i = self.lagging.iter().position(|l| l.peer == peer)?;
        Some(self.lagging.swap_remove(i).held)
    }

    /// Called before the group's entry for `prefix` changes: every lagging member that has
    /// not seen a change of it yet holds the current entry.
    pub(super) fn note_change(&mut self, prefix: Prefix) {
        if self.lagging.is_empty() {
            return;
        }
        let current = self.held_ids(&prefix);
        for l in &mut self.lagging {
            if l.held.get(&prefix).is_none() {
                l.held.insert(prefix, current.clone());
            }
        }
    }

    /// The identifiers the group's entry for `prefix` went out with (see [`Held`]).
    fn held_ids(&self, prefix: &Prefix) -> Ids {
        if self.routes.get(prefix).is_some() {
            return Ids::One(0);
        }
        self.paths
            .get(prefix)
            .map(|v| v.iter().map(|s| s.id).collect())
            .unwrap_or_default()
    }

    /// What lagging member `peer` holds, prefix by prefix, where that may differ from what the
    /// group sent (every prefix of the group, and those changed since it fell behind); `None`
    /// when it does not lag. For a member that moves to another group.
    pub(crate) fn held_by(&self, peer: PeerId) -> Option<Held> {
        let lag = self.lagging.iter().find(|l| l.peer == peer)?;
        let mut held = lag.held.clone();
        for p in self.prefixes() {
            if held.get(&p).is_none() {
                held.insert(p, self.held_ids(&p));
            }
        }
        Some(held)
    }

    /// Adds every prefix this group sends to `held` (as held nothing where absent): a member
    /// that moves here lagging then gets all of them when it catches up.
    pub(crate) fn widen(&self, held: &mut Held) {
        for p in self.prefixes() {
            if held.get(&p).is_none() {
                held.insert(p, Ids::None);
            }
        }
    }

    /// The UPDATEs that take lagging member `peer` from what it holds to what the group sends
    /// now, for the prefixes changed since it fell behind, without the entries `skip` names
    /// (its own routes, split horizon: those it is sent a withdrawal for if it held an entry of
    /// the prefix); it no longer lags. Empty when it did not lag or nothing changed.
    pub(crate) fn catch_up(
        &mut self,
        peer: PeerId,
        ctx: &SessionContext,
        mut skip: impl FnMut(Prefix, Option<PathKey>) -> bool,
        errors: &mut Vec<(Prefix, RibError)>,
    ) -> Bytes {
        let Some(held) = self.stop_lag(peer) else {
            return Bytes::new();
        };
        let mut withdrawn: Vec<NlriEntry> = Vec::new();
        let mut announced: Vec<(NlriEntry, Attrs)> = Vec::new();
        for (p, old) in held.iter() {
            if ctx.add_path_tx(family_of(&p)) {
                let now: Vec<(u32, &Attrs, PathKey)> = self
                    .paths
                    .get(&p)
                    .map(|v| v.iter().map(|s| (s.id, &s.attrs, s.key)).collect())
                    .unwrap_or_default();
                let mut sent = Vec::with_capacity(now.len());
                for (id, attrs, key) in now {
                    if !skip(p, Some(key)) {
                        announced.push((with_id(p, id), attrs.clone()));
                        sent.push(id);
                    }
                }
                withdrawn.extend(
                    old.as_slice()
                        .iter()
                        .filter(|id| !sent.contains(id))
                        .map(|id| with_id(p, *id)),
                );
            } else {
                match self.routes.get(&p) {
                    Some(a) if !skip(p, None) => announced.push((NlriEntry::new(p), a.clone())),
                    _ if !old.as_slice().is_empty() => withdrawn.push(NlriEntry::new(p)),
                    _ => {}
                }
            }
        }
        let mut out = BytesMut::new();
        encode(ctx, &withdrawn, &announced, &mut out, errors);
        out.freeze()
    }
}
