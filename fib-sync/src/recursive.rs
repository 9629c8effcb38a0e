//! Recursive next hops (BIRD's `gateway recursive`): a gateway that is not on a connected
//! subnet is resolved through the kernel's routing table, the way the kernel would forward to
//! it, and the route is installed via what it resolves to.
//!
//! The kernel answers an `RTM_GETROUTE` with `RTM_F_FIB_MATCH` (`ip route get fibmatch GW`) with
//! the FIB entry its lookup matched: this module turns that answer, or the error that stands for
//! a reject route or no route, into a [`Resolution`], and keeps one per distinct gateway (about
//! as many as peers) in [`Recursion`], with a sorted index that says cheaply whether a changed
//! route can change a resolution. The actor (`sync`) asks the kernel and decides when.
//!
//! What BIRD 1.6 does, and so what this does (`nest/rt-table.c` `rt_update_hostentry`, checked
//! against BIRD 1.6.8 in a namespace): the longest match in the table decides, a default route
//! included (Calico's kernel protocol `learn`s the kernel's other routes); through a device
//! route the gateway itself is used on that device; through a blackhole, unreachable or prohibit
//! route the route becomes one of those; with no route, through a local address or through a
//! route that is itself recursive, the route is installed as `unreachable`.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_route::route::{
    RouteAttribute, RouteFlags, RouteMessage, RouteNextHopFlags, RouteType,
};
use nix::errno::Errno;

use crate::message::{KernelKind, KernelNextHop};

/// What a recursive gateway resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// On a connected subnet of an up interface: installed as given (the kernel picks the
    /// device), no lookup.
    Direct,
    /// Through a route: its next hops (gateway, device, onlink), sorted; a device route's hop
    /// carries the gateway itself.
    Via(Vec<KernelNextHop>),
    /// No forwarding: a route using only such gateways becomes this kind (blackhole,
    /// unreachable or prohibit), for the reason given.
    Reject(KernelKind, Why),
}

/// Why a gateway does not resolve to a forwarding next hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why {
    /// No route to it.
    NoRoute,
    /// It resolves through a blackhole route.
    Blackhole,
    /// It resolves through an unreachable route.
    Unreachable,
    /// It resolves through a prohibit route.
    Prohibit,
    /// It is one of this node's addresses.
    Local,
    /// It resolves through a route of ours that is itself recursive (BIRD refuses that).
    Recursive(IpNet),
    /// The kernel answered with an error we do not expect (errno).
    Kernel(i32),
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::NoRoute => f.write_str("no route to the next hop"),
            Why::Blackhole => f.write_str("next hop resolves through a blackhole route"),
            Why::Unreachable => f.write_str("next hop resolves through an unreachable route"),
            Why::Prohibit => f.write_str("next hop resolves through a prohibit route"),
            Why::Local => f.write_str("next hop is a local address"),
            Why::Recursive(p) => write!(f, "next hop resolves through recursive route {p}"),
            Why::Kernel(e) => write!(f, "route lookup failed (errno {e})"),
        }
    }
}

/// The FIB entry the kernel's lookup matched, as far as resolution needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Matched {
    /// The matched route's destination.
    pub(crate) prefix: IpNet,
    /// `rtm_type`.
    pub(crate) kind: RouteType,
    /// `rtm_protocol`.
    pub(crate) protocol: u8,
    /// Its table.
    pub(crate) table: u32,
    /// Next hops: gateway (`None` for a device route), device, onlink.
    pub(crate) hops: Vec<(Option<IpAddr>, u32, bool)>,
}

impl Matched {
    /// Reads an `RTM_NEWROUTE` answering a `RTM_F_FIB_MATCH` request for `gateway` (`None` when
    /// it lacks what resolution needs).
    pub(crate) fn parse(msg: &RouteMessage, gateway: IpAddr) -> Option<Matched> {
        let mut table = u32::from(msg.header.table);
        let mut dst = None;
        let mut via = None;
        let mut oif = None;
        let mut multipath = None;
        for attr in &msg.attributes {
            match attr {
                RouteAttribute::Table(t) => table = *t,
                RouteAttribute::Destination(a) => dst = ip_of(a),
                RouteAttribute::Gateway(a) => via = ip_of(a),
                RouteAttribute::Via(v) => via = crate::message::via_of(v),
                RouteAttribute::Oif(i) => oif = Some(*i),
                RouteAttribute::MultiPath(hops) => multipath = Some(hops),
                _ => {}
            }
        }
        let len = msg.header.destination_prefix_length;
        let network = dst.unwrap_or(match gateway {
            IpAddr::V4(_) => IpAddr::from([0u8; 4]),
            IpAddr::V6(_) => IpAddr::from([0u16; 8]),
        });
        let prefix = IpNet::new(network, len).ok()?;
        let hops = match multipath {
            Some(hops) => hops
                .iter()
                .map(|hop| {
                    let via = hop.attributes.iter().find_map(|a| match a {
                        RouteAttribute::Gateway(g) => ip_of(g),
                        RouteAttribute::Via(v) => crate::message::via_of(v),
                        _ => None,
                    });
                    (
                        via,
                        hop.interface_index,
                        hop.flags.contains(RouteNextHopFlags::Onlink),
                    )
                })
                .collect(),
            None => oif
                .map(|i| (via, i, msg.header.flags.contains(RouteFlags::Onlink)))
                .into_iter()
                .collect(),
        };
        Some(Matched {
            prefix,
            kind: msg.header.kind,
            protocol: u8::from(msg.header.protocol),
            table,
            hops,
        })
    }
}

fn ip_of(addr: &netlink_packet_route::route::RouteAddress) -> Option<IpAddr> {
    use netlink_packet_route::route::RouteAddress;
    match addr {
        RouteAddress::Inet(a) => Some(IpAddr::V4(*a)),
        RouteAddress::Inet6(a) => Some(IpAddr::V6(*a)),
        _ => None,
    }
}

impl Resolution {
    /// The resolution of `gateway` through the matched route. `recursive_of_ours` says whether
    /// a route of ours (our table and protocol) for that prefix has recursive next hops itself.
    pub(crate) fn from_match(
        gateway: IpAddr,
        m: &Matched,
        ours: (u32, u8),
        recursive_of_ours: impl Fn(&IpNet) -> bool,
    ) -> Resolution {
        match m.kind {
            RouteType::Unicast => {}
            RouteType::BlackHole => {
                return Resolution::Reject(KernelKind::Blackhole, Why::Blackhole)
            }
            RouteType::Unreachable => {
                return Resolution::Reject(KernelKind::Unreachable, Why::Unreachable)
            }
            RouteType::Prohibit => return Resolution::Reject(KernelKind::Prohibit, Why::Prohibit),
            // Local, broadcast, anycast, multicast: one of our own addresses (or nothing to
            // forward to).
            _ => return Resolution::Reject(KernelKind::Unreachable, Why::Local),
        }
        if (m.table, m.protocol) == ours && recursive_of_ours(&m.prefix) {
            return Resolution::Reject(KernelKind::Unreachable, Why::Recursive(m.prefix));
        }
        let mut hops: Vec<KernelNextHop> = m
            .hops
            .iter()
            .filter(|(_, ifindex, _)| *ifindex != 0)
            .map(|&(via, ifindex, onlink)| KernelNextHop {
                gateway: via.unwrap_or(gateway),
                ifindex: Some(ifindex),
                onlink,
            })
            .collect();
        if hops.is_empty() {
            return Resolution::Reject(KernelKind::Unreachable, Why::NoRoute);
        }
        hops.sort();
        hops.dedup();
        Resolution::Via(hops)
    }

    /// The resolution the kernel's refusal to look `gateway` up stands for: a lookup that ends
    /// on a reject route fails with that route's error (`ip route get` says "Invalid argument"
    /// for a blackhole, "No route to host" for unreachable, "Permission denied" for prohibit),
    /// and with `ENETUNREACH` when nothing matches.
    pub(crate) fn from_errno(errno: i32) -> Resolution {
        match Errno::from_raw(errno) {
            Errno::EINVAL => Resolution::Reject(KernelKind::Blackhole, Why::Blackhole),
            Errno::EHOSTUNREACH => Resolution::Reject(KernelKind::Unreachable, Why::Unreachable),
            Errno::EACCES | Errno::EPERM => Resolution::Reject(KernelKind::Prohibit, Why::Prohibit),
            Errno::ENETUNREACH => Resolution::Reject(KernelKind::Unreachable, Why::NoRoute),
            _ => Resolution::Reject(KernelKind::Unreachable, Why::Kernel(errno)),
        }
    }
}

/// The resolution of every recursive gateway in use, and an index of their addresses.
#[derive(Debug, Default)]
pub(crate) struct Recursion {
    resolved: HashMap<IpAddr, Resolution>,
    /// The gateways, sorted, per family: whether a changed route can matter ([`Self::covers`]).
    v4: Vec<u32>,
    v6: Vec<u128>,
    /// Something changed that may change a resolution: every gateway is looked up again.
    pub(crate) dirty: bool,
}

impl Recursion {
    /// `true` when no recursive gateway is in use.
    pub(crate) fn is_empty(&self) -> bool {
        self.resolved.is_empty()
    }

    /// What `gateway` resolves to, if it has been resolved.
    pub(crate) fn get(&self, gateway: &IpAddr) -> Option<&Resolution> {
        self.resolved.get(gateway)
    }

    /// Notes `gateway`'s resolution; `true` when it had another one before.
    pub(crate) fn set(&mut self, gateway: IpAddr, resolution: Resolution) -> bool {
        match self.resolved.insert(gateway, resolution) {
            Some(old) => self.resolved.get(&gateway) != Some(&old),
            None => false,
        }
    }

    /// Forgets the gateways not in `in_use` (sorted) and rebuilds the index.
    pub(crate) fn keep_only(&mut self, in_use: &[IpAddr]) {
        self.resolved.retain(|g, _| in_use.binary_search(g).is_ok());
        self.v4.clear();
        self.v6.clear();
        for g in self.resolved.keys() {
            match g {
                IpAddr::V4(a) => self.v4.push(u32::from(*a)),
                IpAddr::V6(a) => self.v6.push(u128::from(*a)),
            }
        }
        self.v4.sort_unstable();
        self.v6.sort_unstable();
    }

    /// `true` when `prefix` contains a gateway in use: a route for it appearing, changing or
    /// going may change that gateway's resolution (the longest match decides). Two binary
    /// searches' worth of work.
    pub(crate) fn covers(&self, prefix: &IpNet) -> bool {
        match prefix {
            IpNet::V4(p) => {
                let (lo, hi) = (u32::from(p.network()), u32::from(p.broadcast()));
                let i = self.v4.partition_point(|a| *a < lo);
                self.v4.get(i).is_some_and(|a| *a <= hi)
            }
            IpNet::V6(p) => {
                let (lo, hi) = (u128::from(p.network()), u128::from(p.broadcast()));
                let i = self.v6.partition_point(|a| *a < lo);
                self.v6.get(i).is_some_and(|a| *a <= hi)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use netlink_packet_route::route::{RouteAddress, RouteNextHop, RouteProtocol};
    use netlink_packet_route::AddressFamily;

    use super::*;

    const OURS: (u32, u8) = (254, 12);

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    /// A FIB-match answer as the kernel sends it: `dst/len [via gw] dev oif proto P`.
    fn answer(
        dst: &str,
        kind: RouteType,
        protocol: u8,
        via: Option<&str>,
        oif: u32,
    ) -> RouteMessage {
        let dst = net(dst);
        let mut msg = RouteMessage::default();
        msg.header.address_family = AddressFamily::Inet;
        msg.header.destination_prefix_length = dst.prefix_len();
        msg.header.table = 254;
        msg.header.kind = kind;
        msg.header.protocol = RouteProtocol::from(protocol);
        msg.attributes.push(RouteAttribute::Table(254));
        if dst.prefix_len() > 0 {
            msg.attributes
                .push(RouteAttribute::Destination(RouteAddress::from(
                    dst.network(),
                )));
        }
        if let Some(via) = via {
            msg.attributes
                .push(RouteAttribute::Gateway(RouteAddress::from(ip(via))));
        }
        msg.attributes.push(RouteAttribute::Oif(oif));
        msg
    }

    fn resolve(msg: &RouteMessage, gw: &str, recursive: &[&str]) -> Resolution {
        let m = Matched::parse(msg, ip(gw)).unwrap();
        Resolution::from_match(ip(gw), &m, OURS, |p| recursive.iter().any(|r| net(r) == *p))
    }

    fn hop(gw: &str, ifindex: u32) -> KernelNextHop {
        KernelNextHop {
            gateway: ip(gw),
            ifindex: Some(ifindex),
            onlink: false,
        }
    }

    #[test]
    fn resolves_through_a_gateway_route_to_its_gateway_and_device() {
        // mesh3: `10.99.1.0/24 via 10.99.0.254 dev eth0 proto static` (learned by BIRD).
        let msg = answer(
            "10.99.1.0/24",
            RouteType::Unicast,
            4,
            Some("10.99.0.254"),
            2,
        );
        assert_eq!(
            resolve(&msg, "10.99.1.3", &[]),
            Resolution::Via(vec![hop("10.99.0.254", 2)])
        );
        // A default route counts (BIRD learns it and resolves through it).
        let msg = answer("0.0.0.0/0", RouteType::Unicast, 3, Some("10.99.0.253"), 2);
        let m = Matched::parse(&msg, ip("10.99.1.3")).unwrap();
        assert_eq!(m.prefix, net("0.0.0.0/0"));
        assert_eq!(
            resolve(&msg, "10.99.1.3", &[]),
            Resolution::Via(vec![hop("10.99.0.253", 2)])
        );
    }

    #[test]
    fn resolves_through_a_device_route_to_the_gateway_itself() {
        let msg = answer("10.99.8.0/24", RouteType::Unicast, 4, None, 3);
        assert_eq!(
            resolve(&msg, "10.99.8.9", &[]),
            Resolution::Via(vec![hop("10.99.8.9", 3)])
        );
    }

    #[test]
    fn our_static_route_resolves_but_our_recursive_route_does_not() {
        // peeropts: `10.99.9.4/32 via 10.99.0.4`, ours, from the static protocol.
        let msg = answer("10.99.9.4/32", RouteType::Unicast, 12, Some("10.99.0.4"), 2);
        assert_eq!(
            resolve(&msg, "10.99.9.4", &[]),
            Resolution::Via(vec![hop("10.99.0.4", 2)])
        );
        // The same prefix carrying a recursive next hop of ours: BIRD does not recurse twice.
        assert_eq!(
            resolve(&msg, "10.99.9.4", &["10.99.9.4/32"]),
            Resolution::Reject(KernelKind::Unreachable, Why::Recursive(net("10.99.9.4/32")))
        );
        // Another protocol's route for that prefix is not ours, whatever ours want.
        let foreign = answer("10.99.9.4/32", RouteType::Unicast, 4, Some("10.99.0.4"), 2);
        assert!(matches!(
            resolve(&foreign, "10.99.9.4", &["10.99.9.4/32"]),
            Resolution::Via(_)
        ));
    }

    #[test]
    fn local_address_and_reject_routes_do_not_forward() {
        let local = answer("10.99.0.1/32", RouteType::Local, 2, None, 2);
        assert_eq!(
            resolve(&local, "10.99.0.1", &[]),
            Resolution::Reject(KernelKind::Unreachable, Why::Local)
        );
        let blackhole = answer("10.99.7.0/24", RouteType::BlackHole, 4, None, 0);
        assert_eq!(
            resolve(&blackhole, "10.99.7.7", &[]),
            Resolution::Reject(KernelKind::Blackhole, Why::Blackhole)
        );
        for (errno, kind, why) in [
            (Errno::EINVAL, KernelKind::Blackhole, Why::Blackhole),
            (
                Errno::EHOSTUNREACH,
                KernelKind::Unreachable,
                Why::Unreachable,
            ),
            (Errno::EACCES, KernelKind::Prohibit, Why::Prohibit),
            (Errno::ENETUNREACH, KernelKind::Unreachable, Why::NoRoute),
        ] {
            assert_eq!(
                Resolution::from_errno(errno as i32),
                Resolution::Reject(kind, why)
            );
        }
    }

    #[test]
    fn multipath_route_gives_every_hop() {
        let mut msg = answer("10.99.1.0/24", RouteType::Unicast, 4, None, 0);
        msg.attributes
            .retain(|a| !matches!(a, RouteAttribute::Oif(_)));
        let hops = ["10.99.0.254", "10.99.0.253"]
            .iter()
            .map(|g| {
                let mut h = RouteNextHop::default();
                h.interface_index = 2;
                h.attributes
                    .push(RouteAttribute::Gateway(RouteAddress::from(ip(g))));
                h
            })
            .collect();
        msg.attributes.push(RouteAttribute::MultiPath(hops));
        assert_eq!(
            resolve(&msg, "10.99.1.3", &[]),
            Resolution::Via(vec![hop("10.99.0.253", 2), hop("10.99.0.254", 2)])
        );
    }

    #[test]
    fn index_says_which_prefixes_contain_a_gateway() {
        let mut r = Recursion::default();
        r.set(ip("10.99.1.3"), Resolution::Direct);
        r.set(ip("10.99.9.4"), Resolution::Direct);
        r.set(ip("fd99:1::3"), Resolution::Direct);
        r.keep_only(&{
            let mut v = vec![ip("10.99.1.3"), ip("10.99.9.4"), ip("fd99:1::3")];
            v.sort();
            v
        });
        for (prefix, covers) in [
            ("10.99.1.0/24", true),
            ("10.99.9.4/32", true),
            ("0.0.0.0/0", true),
            ("10.99.2.0/24", false),
            ("10.99.9.5/32", false),
            ("10.99.64.0/26", false),
            ("fd99:1::/64", true),
            ("fd99:2::/64", false),
        ] {
            assert_eq!(r.covers(&net(prefix)), covers, "{prefix}");
        }
        // A changed resolution is reported as a change, a first one is not.
        assert!(!r.set(ip("10.99.7.7"), Resolution::Direct));
        assert!(r.set(
            ip("10.99.1.3"),
            Resolution::Reject(KernelKind::Unreachable, Why::NoRoute)
        ));
        assert!(!r.set(
            ip("10.99.1.3"),
            Resolution::Reject(KernelKind::Unreachable, Why::NoRoute)
        ));
        r.keep_only(&[ip("10.99.9.4")]);
        assert!(r.get(&ip("10.99.1.3")).is_none());
        assert!(!r.covers(&net("10.99.1.0/24")));
        assert!(r.covers(&net("10.99.9.0/24")));
    }
}
