//! The actor's per-prefix state, kept small: a million routes share a handful of distinct
//! next-hop sets, so each prefix holds two 4-octet ids (what we want, what the kernel holds)
//! into reference-counted interners, under a compact per-family key (5 octets for IPv4).
//!
//! Measured at 1M IPv4 routes (fib_bench, VmHWM): 270 MiB with a `Route` and a fingerprint per
//! prefix in two `BTreeMap<IpNet, _>`s, 128 MiB with this table, most of it the benchmark's own
//! batch of 1M `RouteDelta`s (about 110 octets each with their next-hop vector).
//!
//! The prefixes live in the RIB's own map structure ([`prefix_map::PrefixMap`]: full sorted
//! runs of 256, 13 octets an IPv4 slot) rather than a `BTreeMap`, whose leaves a table loaded
//! in prefix order leaves about half full (about 28 octets a slot).

use std::collections::HashMap;
use std::hash::Hash;

use ipnet::IpNet;
use prefix_map::PrefixMap;

/// Index into an [`Interner`].
pub(crate) type Id = u32;
/// No value.
pub(crate) const NONE: Id = u32::MAX;
/// `have` only: a route found in a dump, kept whole in the dumped side table until compared.
pub(crate) const DUMPED: Id = u32::MAX - 1;
/// Planning only: a desired route with recursive next hops, resolved after the others.
pub(crate) const LATER: Id = u32::MAX - 2;

/// Distinct values with reference counts; a value nobody uses any more is freed.
#[derive(Debug)]
pub(crate) struct Interner<T> {
    items: Vec<Option<(T, u32)>>,
    index: HashMap<T, Id>,
    free: Vec<Id>,
    /// The value interned last: a table load repeats one route kind for thousands of prefixes
    /// in a row, and comparing with it costs less than hashing.
    last: Id,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Interner {
            items: Vec::new(),
            index: HashMap::new(),
            free: Vec::new(),
            last: NONE,
        }
    }
}

impl<T: Hash + Eq + Clone> Interner<T> {
    /// The id of `value`, with one more reference.
    pub(crate) fn intern(&mut self, value: &T) -> Id {
        if self.get(self.last) == Some(value) {
            self.hold(self.last);
            return self.last;
        }
        if let Some(&id) = self.index.get(value) {
            self.hold(id);
            self.last = id;
            return id;
        }
        let id = match self.free.pop() {
            Some(id) => {
                if let Some(slot) = self.items.get_mut(id as usize) {
                    *slot = Some((value.clone(), 1));
                }
                id
            }
            None => {
                self.items.push(Some((value.clone(), 1)));
                Id::try_from(self.items.len() - 1).unwrap_or(NONE)
            }
        };
        self.index.insert(value.clone(), id);
        self.last = id;
        id
    }

    /// One more reference to `id`.
    pub(crate) fn hold(&mut self, id: Id) {
        if let Some(Some((_, refs))) = self.items.get_mut(id as usize) {
            *refs += 1;
        }
    }

    /// One reference fewer; the value is freed with its last one. Ignores [`NONE`]/[`DUMPED`].
    pub(crate) fn release(&mut self, id: Id) {
        let Some(slot) = self.items.get_mut(id as usize) else {
            return;
        };
        let last = match slot {
            Some((_, refs)) => {
                *refs = refs.saturating_sub(1);
                *refs == 0
            }
            None => false,
        };
        if last {
            if let Some((value, _)) = slot.take() {
                self.index.remove(&value);
            }
            self.free.push(id);
        }
    }

    pub(crate) fn get(&self, id: Id) -> Option<&T> {
        self.items
            .get(id as usize)
            .and_then(Option::as_ref)
            .map(|(v, _)| v)
    }

    /// Every value alive, with its id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Id, &T)> + '_ {
        self.items.iter().enumerate().filter_map(|(i, slot)| {
            let (value, _) = slot.as_ref()?;
            Some((Id::try_from(i).ok()?, value))
        })
    }

    /// Distinct values alive.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }
}

/// One prefix: the desired route's id and the id of what the kernel holds (both may be
/// [`NONE`]; `have` may be [`DUMPED`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot {
    pub(crate) want: Id,
    pub(crate) have: Id,
}

impl Slot {
    const EMPTY: Slot = Slot {
        want: NONE,
        have: NONE,
    };

    fn is_empty(&self) -> bool {
        *self == Slot::EMPTY
    }
}

impl Default for Slot {
    fn default() -> Self {
        Slot::EMPTY
    }
}

/// Every prefix we want or hold, ordered (batches are worked through in prefix order, so
/// successive look-ups touch neighbouring entries of one run).
#[derive(Debug, Default)]
pub(crate) struct Table {
    map: PrefixMap<Slot>,
}

impl Table {
    pub(crate) fn get(&self, prefix: &IpNet) -> Option<Slot> {
        self.map.get(prefix).copied()
    }

    /// The slot of `prefix`, created empty if needed; call [`Table::tidy`] after emptying it.
    pub(crate) fn slot(&mut self, prefix: IpNet) -> &mut Slot {
        self.map.entry(prefix)
    }

    pub(crate) fn get_mut(&mut self, prefix: &IpNet) -> Option<&mut Slot> {
        self.map.get_mut(prefix)
    }

    /// Drops the slot of `prefix` if it holds nothing.
    pub(crate) fn tidy(&mut self, prefix: &IpNet) {
        if self.map.get(prefix).is_some_and(Slot::is_empty) {
            self.map.remove(prefix);
        }
    }

    /// Drops every empty slot.
    pub(crate) fn tidy_all(&mut self) {
        self.map.retain(|_, s| !s.is_empty());
    }

    /// Every slot, IPv4 first, each family in prefix order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (IpNet, Slot)> + '_ {
        self.map.iter().map(|(p, s)| (p, *s))
    }

    /// Every slot, mutably.
    pub(crate) fn for_each_mut(&mut self, mut f: impl FnMut(IpNet, &mut Slot)) {
        for (p, s) in self.map.iter_mut() {
            f(p, s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interner_shares_and_frees() {
        let mut i: Interner<String> = Interner::default();
        let a = i.intern(&"a".to_owned());
        let b = i.intern(&"b".to_owned());
        assert_eq!(i.intern(&"a".to_owned()), a);
        assert_ne!(a, b);
        i.release(a);
        assert_eq!(i.get(a).map(String::as_str), Some("a"));
        i.release(a);
        assert_eq!(i.get(a), None);
        assert_eq!(i.len(), 1);
        // The freed id is reused.
        assert_eq!(i.intern(&"c".to_owned()), a);
        i.release(NONE);
        i.release(DUMPED);
        assert_eq!(i.len(), 2);
        let mut alive: Vec<_> = i.iter().map(|(id, v)| (id, v.clone())).collect();
        alive.sort();
        assert_eq!(alive, vec![(a, "c".to_owned()), (b, "b".to_owned())]);
    }

    #[test]
    fn table_keeps_families_apart_and_tidies() {
        let mut t = Table::default();
        let v4: IpNet = "10.0.0.0/24".parse().unwrap();
        let v6: IpNet = "fd00::/64".parse().unwrap();
        t.slot(v4).want = 1;
        t.slot(v6).have = 2;
        assert_eq!(t.get(&v4).map(|s| s.want), Some(1));
        assert_eq!(t.iter().map(|(p, _)| p).collect::<Vec<_>>(), vec![v4, v6]);
        t.slot(v4).want = NONE;
        t.tidy(&v4);
        assert_eq!(t.get(&v4), None);
        t.for_each_mut(|_, s| s.have = NONE);
        t.tidy_all();
        assert_eq!(t.iter().count(), 0);
    }
}
