//! Prefix limits per peer and family (BIRD's `receive limit` / `import limit`, FRR's
//! `maximum-prefix`), and the per-peer route counts they are checked against.
//!
//! As BIRD 1.6 does (`rte_recalculate`, `proto_notify_limit`):
//! - the receive limit counts every route the peer sent that we hold (accepted or filtered:
//!   the Adj-RIB-In keeps filtered routes, as BIRD with `import keep filtered`); it is checked
//!   when a route arrives for a prefix (and path id) the peer had no route for;
//! - the import limit counts the routes the import policy accepted; it is checked when a
//!   route becomes accepted that was not (new, or filtered before);
//! - the check happens before the route is counted: the limit is crossed by the route that
//!   would make the count `max + 1`. Then the limit is *hit*; a limit whose action blocks
//!   (every action but warn) is *blocked* from then on, and every later new route is dropped
//!   (receive: not stored at all; import: stored as filtered), while routes already held and
//!   updates of them stay. The state is reset when the session comes up again, on `reload in`
//!   and when the limits are set again by a reload, which then checks the counts at once.
//!
//! The RIB only counts and blocks; what a hit means for the session (log, restart, disable)
//! is the caller's: it takes the [`LimitHit`]s with [`crate::Rib::take_limit_hits`].

use bgp_proto::Family;

/// Which count a limit applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// Every route held from the peer, filtered or not (BIRD's `receive limit`).
    Receive,
    /// Routes the import policy accepted (BIRD's `import limit`, FRR's `maximum-prefix`).
    Import,
}

impl LimitKind {
    /// BIRD's name of the direction (`receive`, `import`).
    pub fn name(self) -> &'static str {
        match self {
            LimitKind::Receive => "receive",
            LimitKind::Import => "import",
        }
    }

    fn index(self) -> usize {
        match self {
            LimitKind::Receive => 0,
            LimitKind::Import => 1,
        }
    }
}

/// One limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteLimit {
    /// Most routes held without crossing the limit.
    pub max: u32,
    /// Once crossed, later new routes are dropped (every action but BIRD's `warn`).
    pub blocks: bool,
}

/// The limits of one family.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FamilyLimits {
    pub receive: Option<RouteLimit>,
    pub import: Option<RouteLimit>,
}

impl FamilyLimits {
    fn get(&self, kind: LimitKind) -> Option<RouteLimit> {
        match kind {
            LimitKind::Receive => self.receive,
            LimitKind::Import => self.import,
        }
    }
}

/// The state of one limit (BIRD's `PLS_*`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum LimitState {
    /// Not crossed since the last reset.
    #[default]
    Initial,
    /// Crossed; routes are still accepted (warn).
    Hit,
    /// Crossed; new routes are dropped.
    Blocked,
}

/// A limit was crossed (see the module comment for when it is reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LimitHit {
    pub family: Family,
    pub kind: LimitKind,
    pub limit: RouteLimit,
    /// The count when it was crossed.
    pub count: u32,
    /// The first crossing since the last reset (for a warn limit, later reports are the
    /// count coming back to `max` and crossing again, which BIRD logs again).
    pub first: bool,
}

/// Routes held from one peer, per family (index 0: IPv4, 1: IPv6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RouteCounts {
    /// Every route held, accepted or filtered (what the receive limit counts).
    pub held: [u32; 2],
    /// Routes the import policy accepted (what the import limit counts).
    pub imported: [u32; 2],
}

impl RouteCounts {
    fn count(&self, kind: LimitKind, f: usize) -> u32 {
        match kind {
            LimitKind::Receive => self.held[f],
            LimitKind::Import => self.imported[f],
        }
    }
}

/// The index of a family in the per-family arrays.
pub fn family_index(f: Family) -> usize {
    match f {
        Family::Ipv4Unicast => 0,
        Family::Ipv6Unicast => 1,
    }
}

const FAMILIES: [Family; 2] = [Family::Ipv4Unicast, Family::Ipv6Unicast];

/// A peer's limits, their states, its route counts and the hits not yet taken.
#[derive(Debug, Clone, Default)]
pub(crate) struct PeerLimits {
    limits: [FamilyLimits; 2],
    state: [[LimitState; 2]; 2],
    pub counts: RouteCounts,
    hits: Vec<LimitHit>,
    /// Accepted routes a blocked import limit kept as filtered since the caller last asked.
    ignored: u64,
}

/// What a limit check decided for one route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    Yes,
    /// Dropped (receive) or kept as filtered (import): the limit is blocked.
    Blocked,
}

impl PeerLimits {
    /// Whether `family` has any limit (the RIB looks up the old route only then).
    pub fn any(&self, family: Family) -> bool {
        let l = &self.limits[family_index(family)];
        l.receive.is_some() || l.import.is_some()
    }

    pub fn state(&self, family: Family, kind: LimitKind) -> LimitState {
        self.state[family_index(family)][kind.index()]
    }

    #[cfg(test)]
    pub fn limits(&self) -> [FamilyLimits; 2] {
        self.limits
    }

    /// New limits (a reload): every state reset, then the counts checked against them
    /// (BIRD's `proto_verify_limits`: a count above a lowered limit crosses it now).
    pub fn set(&mut self, limits: [FamilyLimits; 2]) {
        self.limits = limits;
        self.reset();
        for family in FAMILIES {
            for kind in [LimitKind::Receive, LimitKind::Import] {
                let f = family_index(family);
                if let Some(l) = self.limits[f].get(kind) {
                    let count = self.counts.count(kind, f);
                    if count > l.max {
                        self.notify(family, kind, l, count);
                    }
                }
            }
        }
    }

    /// Every state back to [`LimitState::Initial`] (session up; BIRD also on `reload in`).
    pub fn reset(&mut self) {
        self.state = Default::default();
    }

    /// A route for a prefix (and path id) the peer had none for is about to be stored.
    pub fn admit_new(&mut self, family: Family) -> Admit {
        self.check(family, LimitKind::Receive)
    }

    /// A route the import policy accepted is about to replace a filtered one or none.
    pub fn admit_accepted(&mut self, family: Family) -> Admit {
        self.check(family, LimitKind::Import)
    }

    fn check(&mut self, family: Family, kind: LimitKind) -> Admit {
        let f = family_index(family);
        let Some(l) = self.limits[f].get(kind) else {
            return Admit::Yes;
        };
        let count = self.counts.count(kind, f);
        if count >= l.max {
            self.notify(family, kind, l, count);
        }
        if self.state[f][kind.index()] == LimitState::Blocked {
            if kind == LimitKind::Import {
                self.ignored += 1;
            }
            Admit::Blocked
        } else {
            Admit::Yes
        }
    }

    /// BIRD's `proto_notify_limit`: a blocked limit stays quiet; otherwise the first crossing
    /// is reported, and for a warn limit also each crossing at exactly `max`.
    fn notify(&mut self, family: Family, kind: LimitKind, limit: RouteLimit, count: u32) {
        let st = &mut self.state[family_index(family)][kind.index()];
        if *st == LimitState::Blocked {
            return;
        }
        let first = *st == LimitState::Initial;
        if first || (!limit.blocks && count == limit.max) {
            self.hits.push(LimitHit {
                family,
                kind,
                limit,
                count,
                first,
            });
        }
        *st = if limit.blocks {
            LimitState::Blocked
        } else {
            LimitState::Hit
        };
    }

    /// One route of `family` stored, replaced or removed: `old` and `new` say whether there
    /// was / is a route and whether it is accepted.
    pub fn tally(&mut self, family: Family, old: Option<bool>, new: Option<bool>) {
        let f = family_index(family);
        let c = &mut self.counts;
        match (old, new) {
            (None, Some(_)) => c.held[f] = c.held[f].saturating_add(1),
            (Some(_), None) => c.held[f] = c.held[f].saturating_sub(1),
            _ => {}
        }
        let was = old == Some(true);
        let is = new == Some(true);
        if is && !was {
            c.imported[f] = c.imported[f].saturating_add(1);
        } else if was && !is {
            c.imported[f] = c.imported[f].saturating_sub(1);
        }
    }

    /// `n` routes of `family` removed at once, accepted or not.
    pub fn untally(&mut self, family: Family, accepted: bool, n: u32) {
        let f = family_index(family);
        let c = &mut self.counts;
        c.held[f] = c.held[f].saturating_sub(n);
        if accepted {
            c.imported[f] = c.imported[f].saturating_sub(n);
        }
    }

    pub fn take_hits(&mut self) -> Vec<LimitHit> {
        std::mem::take(&mut self.hits)
    }

    pub fn take_ignored(&mut self) -> u64 {
        std::mem::take(&mut self.ignored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V4: Family = Family::Ipv4Unicast;

    fn with(receive: Option<RouteLimit>, import: Option<RouteLimit>) -> PeerLimits {
        let mut p = PeerLimits::default();
        p.set([FamilyLimits { receive, import }, FamilyLimits::default()]);
        p
    }

    /// Admits `n` new accepted routes as the RIB does; returns how many were stored.
    fn feed(p: &mut PeerLimits, n: u32) -> u32 {
        let mut stored = 0;
        for _ in 0..n {
            if p.admit_new(V4) == Admit::Blocked {
                continue;
            }
            let accepted = p.admit_accepted(V4) == Admit::Yes;
            p.tally(V4, None, Some(accepted));
            stored += 1;
        }
        stored
    }

    #[test]
    fn block_keeps_exactly_max_routes_and_reports_one_hit() {
        let l = RouteLimit {
            max: 3,
            blocks: true,
        };
        let mut p = with(None, Some(l));
        feed(&mut p, 5);
        assert_eq!(p.counts.imported[0], 3);
        // Filtered, not dropped: the import limit keeps them as BIRD's keep filtered does.
        assert_eq!(p.counts.held[0], 5);
        assert_eq!(p.state(V4, LimitKind::Import), LimitState::Blocked);
        let hits = p.take_hits();
        assert_eq!(
            hits,
            [LimitHit {
                family: V4,
                kind: LimitKind::Import,
                limit: l,
                count: 3,
                first: true
            }]
        );
        assert_eq!(p.take_ignored(), 2);
        // Withdrawing one does not unblock (BIRD: blocked until reset).
        p.tally(V4, Some(true), None);
        feed(&mut p, 1);
        assert_eq!(p.counts.imported[0], 2);
        // A session reset clears it.
        p.reset();
        feed(&mut p, 1);
        assert_eq!(p.counts.imported[0], 3);
    }

    #[test]
    fn receive_limit_drops_new_routes_but_not_updates_of_held_ones() {
        let mut p = with(
            Some(RouteLimit {
                max: 2,
                blocks: true,
            }),
            None,
        );
        assert_eq!(feed(&mut p, 4), 2);
        assert_eq!(p.counts.held[0], 2);
        // An update of a held route is no new route: no check (the RIB calls tally only).
        p.tally(V4, Some(true), Some(false));
        assert_eq!(p.counts.held[0], 2);
        assert_eq!(p.counts.imported[0], 1);
    }

    #[test]
    fn warn_keeps_everything_and_reports_the_crossing_once_then_again_at_max() {
        let l = RouteLimit {
            max: 2,
            blocks: false,
        };
        let mut p = with(None, Some(l));
        assert_eq!(feed(&mut p, 4), 4);
        assert_eq!(p.counts.imported[0], 4);
        let hits = p.take_hits();
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert!(hits[0].first);
        assert_eq!(p.state(V4, LimitKind::Import), LimitState::Hit);
        // Back to max, then one more: BIRD logs again.
        p.tally(V4, Some(true), None);
        p.tally(V4, Some(true), None);
        feed(&mut p, 1);
        let again = p.take_hits();
        assert_eq!(again.len(), 1);
        assert!(!again[0].first);
        assert_eq!(again[0].count, 2);
    }

    #[test]
    fn a_lowered_limit_is_crossed_at_once_when_set() {
        let mut p = with(None, None);
        feed(&mut p, 5);
        let l = RouteLimit {
            max: 4,
            blocks: true,
        };
        p.set([
            FamilyLimits {
                receive: None,
                import: Some(l),
            },
            FamilyLimits::default(),
        ]);
        assert_eq!(p.state(V4, LimitKind::Import), LimitState::Blocked);
        assert_eq!(p.take_hits()[0].count, 5);
        // Equal is not above: no hit until a new route comes.
        let mut q = with(None, None);
        feed(&mut q, 4);
        q.set(p.limits());
        assert!(q.take_hits().is_empty());
        assert_eq!(feed(&mut q, 1), 1);
        assert_eq!(q.counts.imported[0], 4, "the fifth is kept filtered");
    }
}
