//! Hash-consed path attribute sets: one `Arc` per distinct set, shared by every route that
//! carries it (a million routes learned with one set hold one copy).
//!
//! A path holds its set as received and the set import policy made of it as one interned
//! pair ([`PathAttrs`]): there are few distinct pairs (one per set and import outcome), and one
//! pointer per path instead of two is 8 octets per route.
//!
//! The interner keeps a strong reference to each set and pair; [`Interner::collect`] drops the
//! ones only the interner still holds (strong count 1). The RIB calls it after a batch when the
//! table has grown past twice its size at the last collection, so the cost is amortised.

use std::collections::HashSet;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv6Addr};
use std::ops::Deref;
use std::sync::Arc;

use bgp_proto::attribute::{MpNextHop, PathAttributes};

/// What a route carries besides its prefix: the path attributes, and the MP_REACH_NLRI next
/// hop for routes that did not travel in the classic IPv4 fields (RFC 4760 §3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AttrSet {
    /// The path attributes (for MP routes `attrs.next_hop` is `None`).
    pub attrs: PathAttributes,
    /// The MP_REACH_NLRI next hop (IPv6 routes, IPv4 routes over an IPv6 next hop per RFC
    /// 8950); `None` for IPv4 routes in the classic fields, whose next hop is `attrs.next_hop`.
    pub mp_next_hop: Option<MpNextHop>,
}

impl AttrSet {
    /// The forwarding next hop: the MP next hop's global address, else NEXT_HOP.
    pub fn next_hop(&self) -> Option<IpAddr> {
        match self.mp_next_hop {
            Some(MpNextHop::Ipv4(a)) => Some(IpAddr::V4(a)),
            Some(MpNextHop::Ipv6 { global, .. }) => Some(IpAddr::V6(global)),
            None => self.attrs.next_hop.map(IpAddr::V4),
        }
    }

    /// The IPv6 link-local next hop, when one was sent (RFC 2545 §3).
    pub fn link_local_next_hop(&self) -> Option<Ipv6Addr> {
        match self.mp_next_hop {
            Some(MpNextHop::Ipv6 { link_local, .. }) => link_local,
            _ => None,
        }
    }
}

/// A handle to an interned [`AttrSet`]. Two handles from one interner are equal exactly when
/// they point at the same allocation, which is when the sets are equal.
#[derive(Clone)]
pub struct Attrs(Arc<AttrSet>);

impl Attrs {
    /// Whether both handles share one allocation.
    pub fn ptr_eq(&self, other: &Attrs) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The shared allocation's address (its identity while the interner holds it).
    pub(crate) fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }
}

impl Deref for Attrs {
    type Target = AttrSet;
    fn deref(&self) -> &AttrSet {
        &self.0
    }
}

impl PartialEq for Attrs {
    fn eq(&self, other: &Self) -> bool {
        self.ptr_eq(other)
    }
}

impl Eq for Attrs {}

impl Hash for Attrs {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.addr().hash(state)
    }
}

impl fmt::Debug for Attrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A path's attributes: as received, and as import policy accepted them (`None`: rejected or
/// looped). Equal (and hashed) by the identity of its two handles.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct AttrPair {
    received: Attrs,
    accepted: Option<Attrs>,
}

/// A handle to an interned [`AttrPair`], one pointer.
#[derive(Debug, Clone)]
pub(crate) struct PathAttrs(Arc<AttrPair>);

impl PathAttrs {
    /// The attributes as received.
    pub fn received(&self) -> &Attrs {
        &self.0.received
    }

    /// The attributes after import policy, `None` if rejected or looped.
    pub fn accepted(&self) -> Option<&Attrs> {
        self.0.accepted.as_ref()
    }

    /// Whether both handles share one allocation (equal pairs from one interner do).
    #[cfg(test)]
    pub fn ptr_eq(&self, other: &PathAttrs) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Whether this is the pair of `received` and `accepted`.
    pub fn is(&self, received: &Attrs, accepted: Option<&Attrs>) -> bool {
        self.0.received.ptr_eq(received)
            && match (&self.0.accepted, accepted) {
                (None, None) => true,
                (Some(a), Some(b)) => a.ptr_eq(b),
                _ => false,
            }
    }
}

/// The set of live attribute sets and path pairs.
#[derive(Debug, Default)]
pub struct Interner {
    sets: HashSet<Arc<AttrSet>>,
    pairs: HashSet<Arc<AttrPair>>,
    next_collect_at: usize,
}

/// Never collect below this many sets: the scan would cost more than the memory it frees.
const MIN_COLLECT: usize = 1024;

impl Interner {
    /// An empty interner.
    pub fn new() -> Self {
        Interner {
            sets: HashSet::new(),
            pairs: HashSet::new(),
            next_collect_at: MIN_COLLECT,
        }
    }

    /// The shared handle for `set`, allocating it only if no equal set is live.
    pub fn intern(&mut self, set: AttrSet) -> Attrs {
        if let Some(a) = self.sets.get(&set) {
            return Attrs(Arc::clone(a));
        }
        let a = Arc::new(set);
        self.sets.insert(Arc::clone(&a));
        Attrs(a)
    }

    /// Intern a set given by reference, cloning it only when it is new.
    pub fn intern_ref(&mut self, set: &AttrSet) -> Attrs {
        match self.sets.get(set) {
            Some(a) => Attrs(Arc::clone(a)),
            None => self.intern(set.clone()),
        }
    }

    /// The shared pair of `received` and `accepted` (handles of this interner).
    pub(crate) fn pair(&mut self, received: Attrs, accepted: Option<Attrs>) -> PathAttrs {
        let pair = AttrPair { received, accepted };
        if let Some(a) = self.pairs.get(&pair) {
            return PathAttrs(Arc::clone(a));
        }
        let a = Arc::new(pair);
        self.pairs.insert(Arc::clone(&a));
        PathAttrs(a)
    }

    /// Number of distinct sets held (live or not yet collected).
    pub fn len(&self) -> usize {
        self.sets.len()
    }

    /// Whether no set is held.
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// Free every set no route refers to any more. Returns how many were freed.
    pub fn collect(&mut self) -> usize {
        let before = self.sets.len();
        // Pairs first: a pair no path holds any more still holds its sets.
        self.pairs.retain(|p| Arc::strong_count(p) > 1);
        self.sets.retain(|a| Arc::strong_count(a) > 1);
        self.next_collect_at = (2 * (self.sets.len() + self.pairs.len())).max(MIN_COLLECT);
        before - self.sets.len()
    }

    /// [`Interner::collect`] if the table doubled since the last collection.
    pub fn maybe_collect(&mut self) {
        if self.sets.len() + self.pairs.len() >= self.next_collect_at {
            self.collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn set(med: u32) -> AttrSet {
        AttrSet {
            attrs: PathAttributes {
                med: Some(med),
                next_hop: Some(Ipv4Addr::new(10, 99, 0, 1)),
                ..PathAttributes::default()
            },
            mp_next_hop: None,
        }
    }

    #[test]
    fn equal_sets_share_one_allocation() {
        let mut i = Interner::new();
        let a = i.intern(set(1));
        let b = i.intern_ref(&set(1));
        let c = i.intern(set(2));
        assert!(a.ptr_eq(&b));
        assert_ne!(a, c);
        assert_eq!(i.len(), 2);
        assert_eq!(a.next_hop(), Some(IpAddr::V4(Ipv4Addr::new(10, 99, 0, 1))));
    }

    #[test]
    fn collect_frees_sets_no_route_holds() {
        let mut i = Interner::new();
        let keep = i.intern(set(1));
        drop(i.intern(set(2)));
        assert_eq!(i.len(), 2);
        assert_eq!(i.collect(), 1);
        assert_eq!(i.len(), 1);
        // The survivor is still the shared copy.
        assert!(i.intern(set(1)).ptr_eq(&keep));
    }

    #[test]
    fn equal_pairs_share_one_allocation_and_hold_their_sets() {
        let mut i = Interner::new();
        let (a, b) = (i.intern(set(1)), i.intern(set(2)));
        let same = i.pair(a.clone(), Some(a.clone()));
        let replaced = i.pair(a.clone(), Some(b.clone()));
        let rejected = i.pair(a.clone(), None);
        assert!(i.pair(a.clone(), Some(a.clone())).ptr_eq(&same));
        assert!(!same.ptr_eq(&replaced) && !same.ptr_eq(&rejected));
        assert!(replaced.is(&a, Some(&b)) && rejected.is(&a, None) && !rejected.is(&a, Some(&a)));
        assert_eq!(replaced.accepted(), Some(&b));
        drop((a, b, same, rejected));
        // Only `replaced` is held: it keeps both of its sets.
        assert_eq!(i.collect(), 0);
        assert_eq!(i.len(), 2);
        drop(replaced);
        assert_eq!(i.collect(), 2);
        assert!(i.is_empty());
    }
}
