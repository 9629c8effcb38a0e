//! Hash-consed path attribute sets: one `Arc` per distinct set, shared by every route that
//! carries it (a million routes learned with one set hold one copy).
//!
//! The interner keeps a strong reference to each set; [`Interner::collect`] drops the sets
//! only the interner still holds (strong count 1). The RIB calls it after a batch when the
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

/// The set of live attribute sets.
#[derive(Debug, Default)]
pub struct Interner {
    sets: HashSet<Arc<AttrSet>>,
    next_collect_at: usize,
}

/// Never collect below this many sets: the scan would cost more than the memory it frees.
const MIN_COLLECT: usize = 1024;

impl Interner {
    /// An empty interner.
    pub fn new() -> Self {
        Interner {
            sets: HashSet::new(),
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
        self.sets.retain(|a| Arc::strong_count(a) > 1);
        self.next_collect_at = (2 * self.sets.len()).max(MIN_COLLECT);
        before - self.sets.len()
    }

    /// [`Interner::collect`] if the table doubled since the last collection.
    pub fn maybe_collect(&mut self) {
        if self.sets.len() >= self.next_collect_at {
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
}
