//! Link-local next hops in the kernel (RFC 2545 §3): a route learned over a session bound to a
//! link (link-local peering) whose next hop is, or comes with, an IPv6 link-local address is
//! installed `via fe80::1 dev eth1`: a link-local gateway means nothing without its device.
//! IPv4 routes over such a session (RFC 8950) likewise: `via inet6 fe80::1 dev eth1`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};

use rib::{PeerId, SelectedRoute};

/// The link (device name) of each peer whose session runs over one: written by the RIB actor
/// when a session comes up (before any of its routes), read by the kernel path only for routes
/// with a link-local next hop.
pub type PeerLinks = Arc<RwLock<HashMap<PeerId, Arc<str>>>>;

/// For a route from a peer on a link with a link-local next hop: the next hop as the RIB has
/// it, the link-local gateway to install and the device.
pub fn gateway(r: &SelectedRoute, links: &PeerLinks) -> Option<(IpAddr, IpAddr, Arc<str>)> {
    let nh = r.next_hop?;
    let ll = match r.attrs.link_local_next_hop() {
        Some(ll) => IpAddr::V6(ll),
        None if conf::model::is_link_local(nh) => nh,
        None => return None,
    };
    let peer = r.peer?;
    // A poisoned lock only means a panic elsewhere while holding it: the map is still whole.
    let g = links.read().unwrap_or_else(|e| e.into_inner());
    g.get(&peer).map(|dev| (nh, ll, dev.clone()))
}

/// The device names the translator's hops refer to by index (a node has a handful of links).
#[derive(Debug, Default, Clone)]
pub struct Devices(Vec<Arc<str>>);

impl Devices {
    /// The index of `name`, added if new.
    pub fn index(&mut self, name: &Arc<str>) -> Option<u16> {
        if let Some(i) = self.0.iter().position(|d| d == name) {
            return u16::try_from(i).ok();
        }
        self.0.push(name.clone());
        u16::try_from(self.0.len() - 1).ok()
    }

    pub fn name(&self, i: u16) -> &str {
        self.0.get(usize::from(i)).map_or("", |d| d)
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use bgp_proto::attribute::{MpNextHop, PathAttributes};
    use bgp_proto::RouterId;
    use fib_sync::{NextHop, Route, RouteDelta};
    use rib::{AttrSet, LocRibChange, Rib, RouteOrigin, SessionKind};

    use super::*;
    use crate::fib::Translator;

    const CONFIG: &str = "router_id = \"10.99.0.1\"\nlocal_as = 64512\n\
        [kernel]\nenable_writes = true\n";

    fn route(rib: &mut Rib, peer: u32, prefix: &str, nh: MpNextHop) -> LocRibChange {
        let attrs = rib.intern(AttrSet {
            attrs: PathAttributes::default(),
            mp_next_hop: Some(nh),
        });
        let next_hop = attrs.next_hop();
        LocRibChange {
            prefix: prefix.parse().unwrap(),
            routes: vec![SelectedRoute {
                peer: Some(PeerId(peer)),
                origin: RouteOrigin::Peer {
                    kind: SessionKind::Ebgp,
                    rr_client: false,
                    router_id: RouterId(Ipv4Addr::new(10, 99, 0, 2)),
                    addr: "fe80::2".parse().unwrap(),
                },
                path_id: 0,
                attrs,
                next_hop,
                igp_cost: None,
                stale: false,
            }],
        }
    }

    fn v6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    #[test]
    fn link_local_next_hops_are_installed_with_the_peers_device() {
        let config = conf::Config::from_str(CONFIG, "t.toml").unwrap();
        let mut rib = Rib::new(crate::policy_compile::local_info(&config));
        let mut t = Translator::new(&config);
        let links = PeerLinks::default();
        links.write().unwrap().insert(PeerId(1), Arc::from("eth1"));
        t.set_links(links);
        let both = MpNextHop::Ipv6 {
            global: v6("fd99::2"),
            link_local: Some(v6("fe80::2")),
        };
        let lone = MpNextHop::Ipv6 {
            global: v6("fe80::2"),
            link_local: None,
        };
        let changes = vec![
            // RFC 2545 32 octets: the link-local one, on the link.
            route(&mut rib, 1, "fd00:1::/64", both),
            // A lone link-local next hop (unnumbered peering).
            route(&mut rib, 1, "fd00:2::/64", lone),
            // RFC 8950: an IPv4 route via the link-local address.
            route(&mut rib, 1, "10.64.0.0/26", lone),
            // A peer not on a link (global session): the global next hop, as before.
            route(&mut rib, 2, "fd00:3::/64", both),
        ];
        let mut got = t.apply_changes(changes);
        got.sort_by_key(|d| format!("{d:?}"));
        let dev = |p: &str| {
            RouteDelta::Install(Route::via(
                p.parse().unwrap(),
                vec![NextHop::on_device("fe80::2".parse().unwrap(), "eth1")],
            ))
        };
        let mut want = vec![
            dev("fd00:1::/64"),
            dev("fd00:2::/64"),
            dev("10.64.0.0/26"),
            RouteDelta::Install(Route::via(
                "fd00:3::/64".parse().unwrap(),
                vec![NextHop::direct("fd99::2".parse().unwrap())],
            )),
        ];
        want.sort_by_key(|d| format!("{d:?}"));
        assert_eq!(got, want);
    }
}
