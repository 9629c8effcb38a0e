//! Recursive next-hop resolution against the caller's table of connected and kernel routes
//! (RFC 4271 §9.1.2.1: a route whose NEXT_HOP is unreachable is not feasible).

use crate::peer::IdMap;
use std::net::IpAddr;

use ipnet::IpNet;

/// One route of the IGP table (connected subnet, kernel route) with its cost (`None`: unknown,
/// as BIRD has it for a route learned from the kernel; it compares worse than any known cost).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IgpRoute {
    pub prefix: IpNet,
    pub cost: Option<u32>,
}

/// The outcome of resolving one next hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// Reachable; the cost when a table was supplied.
    Resolved { cost: Option<u32> },
    /// No route covers it.
    Unresolved,
}

/// The IGP table and a per-next-hop cache (Calico has few next hops and many prefixes).
#[derive(Debug, Default)]
pub struct NextHopTable {
    /// Longest prefix first; `None` until the caller supplies a table: every next hop then
    /// resolves with unknown cost.
    routes: Option<Vec<IgpRoute>>,
    cache: IdMap<IpAddr, Resolution>,
}

impl NextHopTable {
    /// Replace the table. Returns whether a decision may change: the next hops already
    /// resolved resolve differently now (they are resolved again at once: Calico has few), or
    /// resolution was switched on or off. A new kernel route that changes no next hop's
    /// resolution (a pod's /32) costs no decision run.
    pub fn set(&mut self, routes: Option<Vec<IgpRoute>>) -> bool {
        let routes = routes.map(|mut r| {
            r.sort_by_key(|x| std::cmp::Reverse(x.prefix.prefix_len()));
            r
        });
        if routes.is_none() || self.routes.is_none() {
            let changed = routes.is_some() != self.routes.is_some();
            self.routes = routes;
            self.cache.clear();
            return changed;
        }
        self.routes = routes;
        let mut changed = false;
        let resolved: Vec<(IpAddr, Resolution)> =
            self.cache.iter().map(|(a, r)| (*a, *r)).collect();
        self.cache.clear();
        for (addr, before) in resolved {
            changed |= self.resolve(addr) != before;
        }
        changed
    }

    /// Whether a table was supplied.
    pub fn is_enabled(&self) -> bool {
        self.routes.is_some()
    }

    /// Longest-prefix match of `nh`, cached.
    pub fn resolve(&mut self, nh: IpAddr) -> Resolution {
        let Some(routes) = &self.routes else {
            return Resolution::Resolved { cost: None };
        };
        *self.cache.entry(nh).or_insert_with(|| {
            routes
                .iter()
                .find(|r| r.prefix.contains(&nh))
                .map_or(Resolution::Unresolved, |r| Resolution::Resolved {
                    cost: r.cost,
                })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(p: &str, cost: u32) -> IgpRoute {
        IgpRoute {
            prefix: p.parse().unwrap(),
            cost: Some(cost),
        }
    }

    #[test]
    fn resolves_by_longest_prefix_and_reports_unreachable() {
        let mut t = NextHopTable::default();
        assert_eq!(
            t.resolve("10.0.0.1".parse().unwrap()),
            Resolution::Resolved { cost: None }
        );
        t.set(Some(vec![r("10.0.0.0/8", 20), r("10.99.0.0/24", 0)]));
        assert_eq!(
            t.resolve("10.99.0.7".parse().unwrap()),
            Resolution::Resolved { cost: Some(0) }
        );
        assert_eq!(
            t.resolve("10.1.0.7".parse().unwrap()),
            Resolution::Resolved { cost: Some(20) }
        );
        assert_eq!(
            t.resolve("192.0.2.1".parse().unwrap()),
            Resolution::Unresolved
        );
    }

    #[test]
    fn a_new_table_reports_a_change_only_when_a_resolved_next_hop_resolves_differently() {
        let mut t = NextHopTable::default();
        assert!(
            t.set(Some(vec![r("10.99.0.0/24", 0)])),
            "resolution switched on"
        );
        let nh = "10.99.0.7".parse().unwrap();
        assert_eq!(t.resolve(nh), Resolution::Resolved { cost: Some(0) });
        // A pod's /32 elsewhere: no next hop changes.
        assert!(!t.set(Some(vec![r("10.99.0.0/24", 0), r("10.64.0.5/32", 0)])));
        assert_eq!(t.resolve(nh), Resolution::Resolved { cost: Some(0) });
        // The subnet goes: the next hop no longer resolves.
        assert!(t.set(Some(vec![r("10.64.0.5/32", 0)])));
        assert_eq!(t.resolve(nh), Resolution::Unresolved);
        // A default route with an unknown cost covers it again.
        let unknown = IgpRoute {
            prefix: "0.0.0.0/0".parse().unwrap(),
            cost: None,
        };
        assert!(t.set(Some(vec![unknown])));
        assert_eq!(t.resolve(nh), Resolution::Resolved { cost: None });
        assert!(t.set(None), "resolution switched off");
        assert!(!t.set(None));
    }
}
