//! An ordered map keyed by prefix, one sorted table per family so IPv4 keys take 5 bytes
//! instead of the 18 of an `IpNet` (it matters at a million routes). The RIB keeps its
//! tables in it (`rib::prefix_map`), and so does the kernel path (`fib-sync`'s per-prefix
//! table): one structure for every per-prefix table of the daemon.
//!
//! Each family's table is a [`Chunked`] map: sorted runs of at most [`CHUNK`] keys and values
//! in flat vectors, found by a binary search over the runs' first keys. A `BTreeMap` fills its
//! nodes about half when keys arrive in order (as a peer sends a table), and carries a parent
//! pointer and edges per node; the runs fill completely in that case, so a route costs its key
//! and its value and little more.

use std::cell::Cell;
use std::fmt;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// The key of a [`PrefixMap`].
pub type Prefix = IpNet;

/// Most entries in one run. A run's vectors are allocated at this capacity at once (never by
/// doubling); inserting in the middle moves at most this many entries.
pub const CHUNK: usize = 256;

/// One sorted run: `keys[i]` maps to `vals[i]`.
#[derive(Clone)]
struct Run<K, V> {
    keys: Vec<K>,
    vals: Vec<V>,
}

impl<K, V> Run<K, V> {
    fn with_room() -> Self {
        Run {
            keys: Vec::with_capacity(CHUNK),
            vals: Vec::with_capacity(CHUNK),
        }
    }

    fn insert_at(&mut self, pos: usize, k: K, v: V) {
        if self.keys.len() == self.keys.capacity() {
            // A clone has capacity = length: grow straight to a full run, not by doubling.
            self.keys.reserve_exact(CHUNK - self.keys.len());
            self.vals.reserve_exact(CHUNK - self.vals.len());
        }
        self.keys.insert(pos, k);
        self.vals.insert(pos, v);
    }
}

/// A sorted map of `K` to `V` in runs of at most [`CHUNK`] entries.
#[derive(Clone)]
pub struct Chunked<K, V> {
    /// The first key of each run (runs are never empty).
    firsts: Vec<K>,
    runs: Vec<Run<K, V>>,
    len: usize,
    /// Where the last lookup ended (run, index): a peer's UPDATEs and the changes they make
    /// visit prefixes in order, so the next key is usually in that run, often next in it.
    hint: Cell<(usize, usize)>,
}

impl<K, V> Default for Chunked<K, V> {
    fn default() -> Self {
        Chunked {
            firsts: Vec::new(),
            runs: Vec::new(),
            len: 0,
            hint: Cell::new((0, 0)),
        }
    }
}

impl<K: Ord + Copy, V> Chunked<K, V> {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The run that holds `k` or would: the last one whose first key is ≤ `k` (the first run
    /// for a key below all).
    fn run_of(&self, k: &K) -> usize {
        self.firsts.partition_point(|f| f <= k).saturating_sub(1)
    }

    /// Whether `k` belongs in run `r` (see [`Chunked::run_of`]).
    fn in_run(&self, r: usize, k: &K) -> bool {
        r < self.runs.len()
            && (r == 0 || self.firsts[r] <= *k)
            && self.firsts.get(r + 1).is_none_or(|next| k < next)
    }

    /// (run, Ok(index) if present / Err(insertion index)).
    fn find(&self, k: &K) -> Option<(usize, Result<usize, usize>)> {
        if self.runs.is_empty() {
            return None;
        }
        let (hr, hi) = self.hint.get();
        let r = if self.in_run(hr, k) {
            hr
        } else {
            self.run_of(k)
        };
        let keys = &self.runs[r].keys;
        let at = if r == hr {
            // The hinted entry, the one after it, or the end of the run (in-order arrival).
            match (keys.get(hi), keys.get(hi + 1), keys.last()) {
                (Some(x), _, _) if x == k => Ok(hi),
                (_, Some(x), _) if x == k => Ok(hi + 1),
                (_, _, Some(last)) if last < k => Err(keys.len()),
                _ => keys.binary_search(k),
            }
        } else {
            keys.binary_search(k)
        };
        self.hint.set((r, at.unwrap_or_else(|e| e)));
        Some((r, at))
    }

    pub fn get(&self, k: &K) -> Option<&V> {
        match self.find(k)? {
            (r, Ok(i)) => Some(&self.runs[r].vals[i]),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, k: &K) -> Option<&mut V> {
        match self.find(k)? {
            (r, Ok(i)) => Some(&mut self.runs[r].vals[i]),
            _ => None,
        }
    }

    /// Insert `k` (absent) at `pos` of run `r`; returns where it went.
    fn insert_new(&mut self, r: usize, pos: usize, k: K, v: V) -> (usize, usize) {
        self.len += 1;
        if self.runs.is_empty() {
            let mut run = Run::with_room();
            run.insert_at(0, k, v);
            self.runs.push(run);
            self.firsts.push(k);
            return (0, 0);
        }
        if self.runs[r].keys.len() < CHUNK {
            self.runs[r].insert_at(pos, k, v);
            if pos == 0 {
                self.firsts[r] = k;
            }
            return (r, pos);
        }
        if pos == CHUNK {
            // Past the end of a full run (keys arriving in order): the next run's front if it
            // has room, else a new run, so in-order inserts leave every run full.
            if self.runs.get(r + 1).is_some_and(|n| n.keys.len() < CHUNK) {
                self.runs[r + 1].insert_at(0, k, v);
                self.firsts[r + 1] = k;
                return (r + 1, 0);
            }
            let mut run = Run::with_room();
            run.insert_at(0, k, v);
            self.runs.insert(r + 1, run);
            self.firsts.insert(r + 1, k);
            return (r + 1, 0);
        }
        // Split the full run in halves, then insert into the half that holds `pos`.
        let half = CHUNK / 2;
        let mut upper = Run::with_room();
        upper.keys.extend(self.runs[r].keys.drain(half..));
        upper.vals.extend(self.runs[r].vals.drain(half..));
        self.firsts.insert(r + 1, upper.keys[0]);
        self.runs.insert(r + 1, upper);
        let (r, pos) = if pos <= half {
            (r, pos)
        } else {
            (r + 1, pos - half)
        };
        self.runs[r].insert_at(pos, k, v);
        if pos == 0 {
            self.firsts[r] = k;
        }
        (r, pos)
    }

    pub fn insert(&mut self, k: K, v: V) -> Option<V> {
        match self.find(&k) {
            Some((r, Ok(i))) => Some(std::mem::replace(&mut self.runs[r].vals[i], v)),
            Some((r, Err(pos))) => {
                let at = self.insert_new(r, pos, k, v);
                self.hint.set(at);
                None
            }
            None => {
                let at = self.insert_new(0, 0, k, v);
                self.hint.set(at);
                None
            }
        }
    }

    pub fn remove(&mut self, k: &K) -> Option<V> {
        let (r, Ok(i)) = self.find(k)? else {
            return None;
        };
        self.len -= 1;
        // The hint stays a valid guess (it is checked before use) unless runs move.
        let run = &mut self.runs[r];
        run.keys.remove(i);
        let v = run.vals.remove(i);
        if run.keys.is_empty() {
            self.runs.remove(r);
            self.firsts.remove(r);
        } else if i == 0 {
            self.firsts[r] = run.keys[0];
        }
        Some(v)
    }

    /// The value of `k`, inserted by `make` if absent.
    pub fn entry_or_insert_with(&mut self, k: K, make: impl FnOnce() -> V) -> &mut V {
        let (r, i) = match self.find(&k) {
            Some((r, Ok(i))) => (r, i),
            Some((r, Err(pos))) => self.insert_new(r, pos, k, make()),
            None => self.insert_new(0, 0, k, make()),
        };
        self.hint.set((r, i));
        &mut self.runs[r].vals[i]
    }

    /// Keeps the entries for which `keep` is true (runs left partly filled, empty ones
    /// dropped).
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        let mut len = 0;
        for run in &mut self.runs {
            let mut kept = 0;
            for i in 0..run.keys.len() {
                if keep(&run.keys[i], &mut run.vals[i]) {
                    run.keys.swap(kept, i);
                    run.vals.swap(kept, i);
                    kept += 1;
                }
            }
            run.keys.truncate(kept);
            run.vals.truncate(kept);
            len += kept;
        }
        self.runs.retain(|r| !r.keys.is_empty());
        self.firsts = self.runs.iter().map(|r| r.keys[0]).collect();
        self.len = len;
        self.hint.set((0, 0));
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> + '_ {
        self.runs.iter().flat_map(|r| r.keys.iter().zip(&r.vals))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> + '_ {
        self.runs
            .iter_mut()
            .flat_map(|r| r.keys.iter().zip(r.vals.iter_mut()))
    }

    /// The entries after `k` (all of them for `None`), in order: a cursor that stays valid
    /// however the map changed since `k` was seen (found again by a binary search).
    pub fn iter_after(&self, k: Option<&K>) -> impl Iterator<Item = (&K, &V)> + '_ {
        let (r, i) = match k {
            None => (0, 0),
            Some(k) => {
                let r = self.run_of(k);
                let i = self
                    .runs
                    .get(r)
                    .map_or(0, |run| run.keys.partition_point(|x| x <= k));
                (r, i)
            }
        };
        self.runs
            .get(r)
            .into_iter()
            .flat_map(move |run| run.keys[i..].iter().zip(&run.vals[i..]))
            .chain(
                self.runs
                    .get(r + 1..)
                    .unwrap_or_default()
                    .iter()
                    .flat_map(|run| run.keys.iter().zip(&run.vals)),
            )
    }
}

impl<K: fmt::Debug + Ord + Copy, V: fmt::Debug> fmt::Debug for Chunked<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Ord + Copy, V: PartialEq> PartialEq for Chunked<K, V> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<K: Ord + Copy, V: Eq> Eq for Chunked<K, V> {}

/// Prefix → `V`, IPv4 entries before IPv6 ones, each in prefix order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixMap<V> {
    v4: Chunked<Ipv4Net, V>,
    v6: Chunked<Ipv6Net, V>,
}

impl<V> Default for PrefixMap<V> {
    fn default() -> Self {
        PrefixMap {
            v4: Chunked::default(),
            v6: Chunked::default(),
        }
    }
}

impl<V> PrefixMap<V> {
    pub fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    pub fn get(&self, p: &Prefix) -> Option<&V> {
        match p {
            IpNet::V4(n) => self.v4.get(n),
            IpNet::V6(n) => self.v6.get(n),
        }
    }

    pub fn get_mut(&mut self, p: &Prefix) -> Option<&mut V> {
        match p {
            IpNet::V4(n) => self.v4.get_mut(n),
            IpNet::V6(n) => self.v6.get_mut(n),
        }
    }

    pub fn insert(&mut self, p: Prefix, v: V) -> Option<V> {
        match p {
            IpNet::V4(n) => self.v4.insert(n, v),
            IpNet::V6(n) => self.v6.insert(n, v),
        }
    }

    pub fn remove(&mut self, p: &Prefix) -> Option<V> {
        match p {
            IpNet::V4(n) => self.v4.remove(n),
            IpNet::V6(n) => self.v6.remove(n),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (Prefix, &V)> + '_ {
        self.v4
            .iter()
            .map(|(k, d)| (IpNet::V4(*k), d))
            .chain(self.v6.iter().map(|(k, d)| (IpNet::V6(*k), d)))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Prefix, &mut V)> + '_ {
        self.v4
            .iter_mut()
            .map(|(k, d)| (IpNet::V4(*k), d))
            .chain(self.v6.iter_mut().map(|(k, d)| (IpNet::V6(*k), d)))
    }

    /// Keeps the entries for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(Prefix, &mut V) -> bool) {
        self.v4.retain(|k, v| keep(IpNet::V4(*k), v));
        self.v6.retain(|k, v| keep(IpNet::V6(*k), v));
    }

    pub fn keys(&self) -> impl Iterator<Item = Prefix> + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// One family's entries after `after` (from the first with `None`; `after` of the other
    /// family counts as `None`), in order.
    pub fn iter_family_after(
        &self,
        v6: bool,
        after: Option<&Prefix>,
    ) -> Box<dyn Iterator<Item = (Prefix, &V)> + '_> {
        if v6 {
            let k = match after {
                Some(IpNet::V6(n)) => Some(n),
                _ => None,
            };
            Box::new(self.v6.iter_after(k).map(|(k, d)| (IpNet::V6(*k), d)))
        } else {
            let k = match after {
                Some(IpNet::V4(n)) => Some(n),
                _ => None,
            };
            Box::new(self.v4.iter_after(k).map(|(k, d)| (IpNet::V4(*k), d)))
        }
    }
}

impl<V: Default> PrefixMap<V> {
    /// The value of `p`, inserted as default if absent.
    pub fn entry(&mut self, p: Prefix) -> &mut V {
        match p {
            IpNet::V4(n) => self.v4.entry_or_insert_with(n, V::default),
            IpNet::V6(n) => self.v6.entry_or_insert_with(n, V::default),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterates_after_a_cursor_in_order_across_runs() {
        let mut m: Chunked<u32, u32> = Chunked::default();
        for k in (0..2000u32).map(|i| i * 2) {
            m.insert(k, k);
        }
        let after =
            |k: Option<u32>| -> Vec<u32> { m.iter_after(k.as_ref()).map(|(k, _)| *k).collect() };
        assert_eq!(after(None).len(), 2000);
        // Present key, absent key, first key, before all, last key, past all.
        assert_eq!(after(Some(1000))[..2], [1002, 1004]);
        assert_eq!(after(Some(1001))[..2], [1002, 1004]);
        assert_eq!(after(Some(0))[0], 2);
        assert_eq!(after(Some(3998)), Vec::<u32>::new());
        assert_eq!(after(Some(9999)), Vec::<u32>::new());
        for k in [510u32, 511, 512, 1022, 1024] {
            let want: Vec<u32> = (0..2000u32).map(|i| i * 2).filter(|x| *x > k).collect();
            assert_eq!(after(Some(k)), want, "{k}");
        }
        let mut p: PrefixMap<u8> = PrefixMap::default();
        for s in ["10.0.0.0/24", "10.0.1.0/24", "fd00::/64"] {
            p.insert(s.parse().unwrap(), 0);
        }
        let first: Prefix = "10.0.0.0/24".parse().unwrap();
        let v4: Vec<Prefix> = p
            .iter_family_after(false, Some(&first))
            .map(|(k, _)| k)
            .collect();
        assert_eq!(v4, vec!["10.0.1.0/24".parse::<Prefix>().unwrap()]);
        let v6: Vec<Prefix> = p
            .iter_family_after(true, Some(&first))
            .map(|(k, _)| k)
            .collect();
        assert_eq!(v6, vec!["fd00::/64".parse::<Prefix>().unwrap()]);
    }

    #[test]
    fn keeps_families_apart_and_in_order() {
        let mut m = PrefixMap::default();
        for (p, v) in [("fd00::/64", 3), ("10.0.1.0/24", 2), ("10.0.0.0/24", 1)] {
            m.insert(p.parse().unwrap(), v);
        }
        let got: Vec<(String, i32)> = m.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        assert_eq!(
            got,
            vec![
                ("10.0.0.0/24".to_string(), 1),
                ("10.0.1.0/24".to_string(), 2),
                ("fd00::/64".to_string(), 3)
            ]
        );
        *m.entry("10.0.0.0/24".parse().unwrap()) += 10;
        assert_eq!(m.get(&"10.0.0.0/24".parse().unwrap()), Some(&11));
        assert_eq!(m.remove(&"fd00::/64".parse().unwrap()), Some(3));
        assert_eq!(m.len(), 2);
    }

    /// A small deterministic generator (no dependency).
    fn next(x: &mut u64) -> u64 {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }

    #[test]
    fn chunked_matches_btreemap_under_random_operations() {
        use std::collections::BTreeMap;
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for round in 0..4u64 {
            let mut c: Chunked<u32, u64> = Chunked::default();
            let mut b: BTreeMap<u32, u64> = BTreeMap::new();
            // Keys from a small range so inserts hit present keys and removes find them.
            let range = [50, 600, 5_000, 20_000][round as usize];
            for i in 0..20_000u64 {
                let k = u32::try_from(next(&mut x) % range).unwrap();
                match next(&mut x) % 5 {
                    0 => assert_eq!(c.remove(&k), b.remove(&k), "remove {k}"),
                    1 => {
                        *c.entry_or_insert_with(k, || 0) += i;
                        *b.entry(k).or_insert(0) += i;
                    }
                    2 => assert_eq!(c.get(&k), b.get(&k)),
                    _ => assert_eq!(c.insert(k, i), b.insert(k, i), "insert {k}"),
                }
                assert_eq!(c.len(), b.len());
            }
            assert!(c
                .iter()
                .map(|(k, v)| (*k, *v))
                .eq(b.iter().map(|(k, v)| (*k, *v))));
            assert!(c
                .runs
                .iter()
                .all(|r| !r.keys.is_empty() && r.keys.len() <= CHUNK));
            assert!(c.runs.iter().zip(&c.firsts).all(|(r, f)| r.keys[0] == *f));
            let copy = c.clone();
            assert_eq!(copy, c);
        }
    }

    #[test]
    fn retain_keeps_order_runs_and_length_consistent() {
        let mut c: Chunked<u32, u32> = Chunked::default();
        for k in 0..5 * CHUNK as u32 {
            c.insert(k, k);
        }
        // Drop every odd key and all of the second run.
        c.retain(|k, v| {
            *v += 1;
            k % 2 == 0 && !(CHUNK as u32..2 * CHUNK as u32).contains(k)
        });
        let want: Vec<u32> = (0..5 * CHUNK as u32)
            .filter(|k| k % 2 == 0 && !(CHUNK as u32..2 * CHUNK as u32).contains(k))
            .collect();
        assert!(c.iter().map(|(k, _)| *k).eq(want.iter().copied()));
        assert!(c.iter().all(|(k, v)| *v == k + 1));
        assert_eq!(c.len(), want.len());
        assert_eq!(c.runs.len(), 4);
        assert!(c.runs.iter().zip(&c.firsts).all(|(r, f)| r.keys[0] == *f));
        // Lookups and inserts still work after it.
        assert_eq!(c.get(&2), Some(&3));
        assert_eq!(c.get(&(CHUNK as u32 + 2)), None);
        c.insert(CHUNK as u32 + 2, 0);
        assert_eq!(c.get(&(CHUNK as u32 + 2)), Some(&0));
        c.retain(|_, _| false);
        assert!(c.is_empty());
        assert_eq!(c.iter().count(), 0);
        let mut p: PrefixMap<u8> = PrefixMap::default();
        for s in ["10.0.0.0/24", "10.0.1.0/24", "fd00::/64"] {
            p.insert(s.parse().unwrap(), 0);
        }
        p.retain(|k, _| k.addr().is_ipv6());
        assert_eq!(
            p.keys().collect::<Vec<_>>(),
            vec!["fd00::/64".parse::<Prefix>().unwrap()]
        );
    }

    #[test]
    fn in_order_inserts_fill_every_run() {
        let mut c: Chunked<u32, u8> = Chunked::default();
        for k in 0..10 * CHUNK as u32 {
            c.insert(k, 0);
        }
        assert_eq!(c.runs.len(), 10);
        assert!(c.runs.iter().all(|r| r.keys.len() == CHUNK));
        // Descending order fills runs too (each new key goes to the front of the first run,
        // splits leave halves that the following keys fill).
        let mut d: Chunked<u32, u8> = Chunked::default();
        for k in (0..10 * CHUNK as u32).rev() {
            d.insert(k, 0);
        }
        assert!(d.iter().map(|(k, _)| *k).eq(0..10 * CHUNK as u32));
    }
}
