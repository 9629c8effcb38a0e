//! Next-hop reachability (RFC 4271 §9.1.2.1) from the daemon's interface table: the RIB
//! resolves every BGP next hop through the connected subnets of the interfaces that are up
//! (cost 0, as BIRD's device routes) and the main routing table's routes of other programs
//! (default route, static routes, pods' routes: cost unknown, as BIRD's kernel-learned routes,
//! which `gateway recursive` resolves through in Calico's configuration), and the BIRD
//! configuration's static routes with a gateway on a connected subnet (`reachableBy`: BIRD
//! resolves through its own static routes; in the kernel they carry our protocol number, which
//! the kernel routes leave out). A route whose next hop
//! nothing covers is not a candidate: listed `unreachable`, never selected, not exported, not
//! installed, until its subnet or a route to it comes back. The actor makes no system call:
//! the table is published to it ([`fib_sync::InterfaceWatch`]).

use std::net::IpAddr;

use conf::{Config, StaticRoute};
use fib_sync::{Attached, Interfaces};
use ipnet::IpNet;
use rib::IgpRoute;
use tracing::info;

use super::RibActor;

/// The static routes of `config` that have a gateway (BIRD front end). Taken from the start
/// configuration: a reload that changes them does not change next-hop resolution until a
/// restart (the reload events carry no routes).
pub fn static_gateways(config: &Config) -> Vec<(IpNet, IpAddr)> {
    config.bird.as_ref().map_or_else(Vec::new, |b| {
        b.static_routes
            .iter()
            .filter_map(|r| match r {
                StaticRoute::Via(net, gw) => Some((*net, *gw)),
                StaticRoute::Blackhole(_) => None,
            })
            .collect()
    })
}

/// The IGP table of `table` and `statics` (a static route counts while its gateway is on an
/// up connected subnet); `None` for a table read from nothing (no link at all: no netlink),
/// which leaves every next hop resolved rather than none.
pub fn igp_routes(table: &Interfaces, statics: &[(IpNet, IpAddr)]) -> Option<Vec<IgpRoute>> {
    table.links().next()?;
    let mut v: Vec<IgpRoute> = table
        .up_subnets()
        .into_iter()
        .map(|(prefix, _)| IgpRoute {
            prefix,
            cost: Some(0),
        })
        .collect();
    v.extend(table.kernel_routes().map(|(prefix, _)| IgpRoute {
        prefix: *prefix,
        cost: None,
    }));
    v.extend(
        statics
            .iter()
            .filter(|(_, gw)| table.attached(*gw) == Attached::Subnet)
            .map(|(prefix, _)| IgpRoute {
                prefix: *prefix,
                cost: None,
            }),
    );
    Some(v)
}

impl RibActor {
    /// The interface table is new (first given, or changed): next hops resolve through it from
    /// now on; the routes whose next hop resolves differently are decided again and exported.
    pub(super) async fn interfaces_changed(&mut self) {
        let Some(rx) = self.interfaces.as_mut() else {
            return;
        };
        let table = rx.borrow_and_update().clone();
        self.resolve_next_hops(&table).await;
    }

    async fn resolve_next_hops(&mut self, table: &Interfaces) {
        let changes = self
            .rib
            .set_igp_routes(igp_routes(table, &self.static_gateways));
        if !changes.is_empty() {
            info!(
                event = "next_hops_resolved_again",
                loc_rib_changes = changes.len(),
                "interfaces, routes or static routes changed: next hops resolved again"
            );
        }
        self.flush(changes).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fib_sync::Link;

    fn link(index: u32, name: &str, up: bool) -> Link {
        Link {
            index,
            name: name.into(),
            up,
            flags: if up { libc::IFF_UP as u32 } else { 0 },
            mtu: 1500,
        }
    }

    fn net(s: &str) -> IpNet {
        s.parse().expect("net")
    }

    #[test]
    fn igp_table_is_the_up_interfaces_subnets_and_none_without_links() {
        assert_eq!(igp_routes(&Interfaces::default(), &[]), None);
        let mut t = Interfaces::default();
        t.set_link(link(1, "lo", true), vec![net("127.0.0.1/8")]);
        t.set_link(link(2, "eth0", true), vec![net("10.99.0.1/24")]);
        t.set_link(link(3, "eth1", false), vec![net("10.98.0.1/24")]);
        let v = igp_routes(&t, &[]).expect("a table");
        let prefixes: Vec<IpNet> = v.iter().map(|r| r.prefix).collect();
        assert_eq!(prefixes, vec![net("10.99.0.0/24"), net("127.0.0.0/8")]);
        assert!(v.iter().all(|r| r.cost == Some(0)));
        // A static route counts while its gateway is on an up subnet (cost unknown).
        let statics = [
            (net("10.99.9.4/32"), "10.99.0.4".parse().expect("ip")),
            (net("10.99.8.0/24"), "10.98.0.4".parse().expect("ip")),
        ];
        let v = igp_routes(&t, &statics).expect("a table");
        assert!(v.contains(&IgpRoute {
            prefix: net("10.99.9.4/32"),
            cost: None
        }));
        assert!(
            v.iter().all(|r| r.prefix != net("10.99.8.0/24")),
            "eth1 is down"
        );
    }
}
