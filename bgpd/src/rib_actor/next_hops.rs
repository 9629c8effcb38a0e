//! Next-hop reachability (RFC 4271 §9.1.2.1) from the daemon's interface table: the RIB
//! resolves every BGP next hop through the connected subnets of the interfaces that are up
//! (cost 0, as BIRD's device routes) and the main routing table's routes of other programs
//! (default route, static routes, pods' routes: cost unknown, as BIRD's kernel-learned routes,
//! which `gateway recursive` resolves through in Calico's configuration). A route whose next hop
//! nothing covers is not a candidate: listed `unreachable`, never selected, not exported, not
//! installed, until its subnet or a route to it comes back. The actor makes no system call:
//! the table is published to it ([`fib_sync::InterfaceWatch`]).

use fib_sync::Interfaces;
use rib::IgpRoute;
use tracing::info;

use super::RibActor;

/// The IGP table of `table`; `None` for a table read from nothing (no link at all: no netlink),
/// which leaves every next hop resolved rather than none.
pub fn igp_routes(table: &Interfaces) -> Option<Vec<IgpRoute>> {
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
        let changes = self.rib.set_igp_routes(igp_routes(&table));
        if !changes.is_empty() {
            info!(
                event = "next_hops_resolved_again",
                loc_rib_changes = changes.len(),
                "interfaces or routes changed: next hops resolved again"
            );
        }
        self.flush(changes).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fib_sync::Link;
    use ipnet::IpNet;

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
        assert_eq!(igp_routes(&Interfaces::default()), None);
        let mut t = Interfaces::default();
        t.set_link(link(1, "lo", true), vec![net("127.0.0.1/8")]);
        t.set_link(link(2, "eth0", true), vec![net("10.99.0.1/24")]);
        t.set_link(link(3, "eth1", false), vec![net("10.98.0.1/24")]);
        let v = igp_routes(&t).expect("a table");
        let prefixes: Vec<IpNet> = v.iter().map(|r| r.prefix).collect();
        assert_eq!(prefixes, vec![net("10.99.0.0/24"), net("127.0.0.0/8")]);
        assert!(v.iter().all(|r| r.cost == Some(0)));
    }
}
