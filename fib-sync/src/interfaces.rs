//! Interfaces and their addresses as learned from netlink (a dump at start, then
//! `RTNLGRP_LINK` / `RTNLGRP_IPV{4,6}_IFADDR` events). [`crate::watch`] publishes one such
//! table for the whole daemon.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage, RouteType};
use netlink_packet_route::AddressFamily;

/// The kernel's main routing table (`RT_TABLE_MAIN`).
pub const MAIN_TABLE: u32 = 254;

/// One interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Kernel interface index.
    pub index: u32,
    /// Its name.
    pub name: String,
    /// `IFF_UP` (administratively up).
    pub up: bool,
    /// Every `IFF_*` flag of `ifi_flags` (`IFF_LOWER_UP`, `IFF_LOOPBACK`, `IFF_POINTOPOINT`...).
    pub flags: u32,
    /// `IFLA_MTU`.
    pub mtu: u32,
}

impl Link {
    /// Whether `flag` (an `IFF_*` bit) is set.
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }
}

/// A change worth telling the rest of the daemon about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FibEvent {
    /// An interface appeared or changed.
    LinkUpdated(Link),
    /// An interface went away.
    LinkRemoved(Link),
    /// An address (with its connected subnet) was added to an interface.
    AddressAdded {
        /// Interface index.
        index: u32,
        /// Address and prefix length, e.g. `10.99.0.1/24`.
        addr: IpNet,
    },
    /// An address was removed.
    AddressRemoved {
        /// Interface index.
        index: u32,
        /// Address and prefix length.
        addr: IpNet,
    },
    /// A route of another protocol appeared or changed in any table (pods' /32s, Felix's).
    ForeignRouteAdded {
        /// Destination.
        prefix: IpNet,
        /// Its route protocol number.
        protocol: u8,
    },
    /// A route of another protocol went away.
    ForeignRouteRemoved {
        /// Destination.
        prefix: IpNet,
        /// Its route protocol number.
        protocol: u8,
    },
}

/// How an address relates to the node's interfaces ([`Interfaces::attached`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attached {
    /// It is one of the node's addresses.
    Local,
    /// It is on a connected subnet of an interface that is up.
    Subnet,
    /// Neither.
    No,
}

/// The interface table: links by index, their addresses in the order the kernel reported them
/// (a dump lists IPv4 before IPv6, each in the interface's order).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Interfaces {
    links: BTreeMap<u32, Link>,
    by_name: HashMap<String, u32>,
    addrs: BTreeMap<u32, Vec<IpNet>>,
    /// Unicast routes of the main table written by others (the system, DHCP, an operator,
    /// Felix, the CNI plugin: never ours), by prefix and metric, when the publisher follows
    /// them ([`crate::InterfaceWatch::start_with_routes`]).
    routes: BTreeSet<(IpNet, u32)>,
}

impl Interfaces {
    /// Every interface, by index.
    pub fn links(&self) -> impl Iterator<Item = &Link> {
        self.links.values()
    }

    /// The addresses (with their prefix lengths) of interface `index`.
    pub fn addresses(&self, index: u32) -> &[IpNet] {
        self.addrs.get(&index).map_or(&[], Vec::as_slice)
    }

    /// The interface that has `addr` as one of its own addresses.
    pub fn link_with_address(&self, addr: IpAddr) -> Option<&Link> {
        self.addrs
            .iter()
            .find(|(_, nets)| nets.iter().any(|n| n.addr() == addr))
            .and_then(|(index, _)| self.links.get(index))
    }

    /// Whether `addr` is one of the node's addresses.
    pub fn is_local(&self, addr: IpAddr) -> bool {
        self.addrs.values().flatten().any(|n| n.addr() == addr)
    }

    /// The interface whose connected subnet holds `addr` (the longest such subnet), whether or
    /// not it is up.
    pub fn interface_for(&self, addr: IpAddr) -> Option<&Link> {
        self.addrs
            .iter()
            .flat_map(|(index, nets)| nets.iter().map(move |n| (index, n)))
            .filter(|(_, n)| n.contains(&addr))
            .max_by_key(|(_, n)| n.prefix_len())
            .and_then(|(index, _)| self.links.get(index))
    }

    /// The connected subnets of the interfaces that are up, each with its interface (the
    /// first interface of a subnet two of them share), ordered by subnet.
    pub fn up_subnets(&self) -> Vec<(IpNet, &Link)> {
        let mut v: Vec<(IpNet, &Link)> = Vec::new();
        for (index, nets) in &self.addrs {
            let Some(link) = self.links.get(index).filter(|l| l.up) else {
                continue;
            };
            for n in nets {
                v.push((n.trunc(), link));
            }
        }
        v.sort_by_key(|(n, l)| (*n, l.index));
        v.dedup_by_key(|(n, _)| *n);
        v
    }

    /// The index of the interface called `name`.
    pub fn index_of(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    /// The interface with index `index`.
    pub fn link(&self, index: u32) -> Option<&Link> {
        self.links.get(&index)
    }

    /// The connected subnets (every address's network), for cross-subnet decisions.
    pub fn connected(&self) -> Vec<IpNet> {
        let mut nets: Vec<IpNet> = self.addrs.values().flatten().map(|a| a.trunc()).collect();
        nets.sort();
        nets.dedup();
        nets
    }

    /// How `addr` relates to the node's own addresses: one of them, on a connected subnet of
    /// an interface that is up, or neither. A few addresses per interface: no allocation.
    pub fn attached(&self, addr: IpAddr) -> Attached {
        let mut on_subnet = false;
        for (index, nets) in &self.addrs {
            for net in nets {
                if net.addr() == addr {
                    return Attached::Local;
                }
                if !on_subnet && net.contains(&addr) && self.links.get(index).is_some_and(|l| l.up)
                {
                    on_subnet = true;
                }
            }
        }
        if on_subnet {
            Attached::Subnet
        } else {
            Attached::No
        }
    }

    /// Whether `other` has the same links and addresses (kernel routes aside).
    pub fn same_interfaces(&self, other: &Interfaces) -> bool {
        self.links == other.links && self.addrs == other.addrs
    }

    /// The unicast routes of the main table that other programs wrote (prefix, metric): with
    /// the connected subnets, what a BGP next hop resolves through (BIRD's `gateway recursive`
    /// over the routes its kernel protocol learns).
    pub fn kernel_routes(&self) -> impl Iterator<Item = &(IpNet, u32)> {
        self.routes.iter()
    }

    /// Applies an `RTM_NEWROUTE` / `RTM_DELROUTE`: only unicast routes of the main table whose
    /// protocol is not `ours` are kept. Whether the table changed.
    pub fn on_route(&mut self, msg: &RouteMessage, removed: bool, ours: u8) -> bool {
        if u8::from(msg.header.protocol) == ours || msg.header.kind != RouteType::Unicast {
            return false;
        }
        let mut table = u32::from(msg.header.table);
        let mut dst = None;
        let mut metric = 0;
        for attr in &msg.attributes {
            match attr {
                RouteAttribute::Table(t) => table = *t,
                RouteAttribute::Destination(RouteAddress::Inet(a)) => dst = Some(IpAddr::V4(*a)),
                RouteAttribute::Destination(RouteAddress::Inet6(a)) => dst = Some(IpAddr::V6(*a)),
                RouteAttribute::Priority(p) => metric = *p,
                _ => {}
            }
        }
        if table != MAIN_TABLE {
            return false;
        }
        let dst = match (dst, msg.header.address_family) {
            (Some(a), _) => a,
            (None, AddressFamily::Inet) => IpAddr::from([0u8; 4]),
            (None, AddressFamily::Inet6) => IpAddr::from([0u16; 8]),
            _ => return false,
        };
        let Ok(prefix) = IpNet::new(dst, msg.header.destination_prefix_length) else {
            return false;
        };
        if removed {
            self.routes.remove(&(prefix, metric))
        } else {
            self.routes.insert((prefix, metric))
        }
    }

    /// Sets an interface and its addresses as a whole (a table not read from netlink: tests,
    /// a fixed table).
    pub fn set_link(&mut self, link: Link, addrs: Vec<IpNet>) {
        if let Some(old) = self.links.get(&link.index) {
            if self.by_name.get(&old.name) == Some(&link.index) {
                self.by_name.remove(&old.name);
            }
        }
        self.by_name.insert(link.name.clone(), link.index);
        if addrs.is_empty() {
            self.addrs.remove(&link.index);
        } else {
            self.addrs.insert(link.index, addrs);
        }
        self.links.insert(link.index, link);
    }

    /// Applies an `RTM_NEWLINK` / `RTM_DELLINK`.
    pub fn on_link(&mut self, msg: &LinkMessage, removed: bool) -> Option<FibEvent> {
        let index = msg.header.index;
        let name = msg.attributes.iter().find_map(|a| match a {
            LinkAttribute::IfName(n) => Some(n.clone()),
            _ => None,
        });
        if removed {
            let link = self.links.remove(&index)?;
            if self.by_name.get(&link.name) == Some(&index) {
                self.by_name.remove(&link.name);
            }
            self.addrs.remove(&index);
            return Some(FibEvent::LinkRemoved(link));
        }
        let name = name.or_else(|| self.links.get(&index).map(|l| l.name.clone()))?;
        let mtu = msg
            .attributes
            .iter()
            .find_map(|a| match a {
                LinkAttribute::Mtu(m) => Some(*m),
                _ => None,
            })
            .or_else(|| self.links.get(&index).map(|l| l.mtu))
            .unwrap_or(0);
        let link = Link {
            index,
            name,
            up: msg.header.flags.contains(LinkFlags::Up),
            flags: msg.header.flags.bits(),
            mtu,
        };
        if let Some(old) = self.links.get(&index) {
            if *old == link {
                return None;
            }
            if old.name != link.name {
                self.by_name.remove(&old.name);
            }
        }
        self.by_name.insert(link.name.clone(), index);
        self.links.insert(index, link.clone());
        Some(FibEvent::LinkUpdated(link))
    }

    /// Applies an `RTM_NEWADDR` / `RTM_DELADDR`.
    pub fn on_address(&mut self, msg: &AddressMessage, removed: bool) -> Option<FibEvent> {
        let index = msg.header.index;
        // IFA_LOCAL is the interface's own address on point-to-point links; IFA_ADDRESS otherwise.
        let ip: IpAddr = msg
            .attributes
            .iter()
            .find_map(|a| match a {
                AddressAttribute::Local(ip) => Some(*ip),
                _ => None,
            })
            .or_else(|| {
                msg.attributes.iter().find_map(|a| match a {
                    AddressAttribute::Address(ip) => Some(*ip),
                    _ => None,
                })
            })?;
        let addr = IpNet::new(ip, msg.header.prefix_len).ok()?;
        if removed {
            let list = self.addrs.get_mut(&index)?;
            let before = list.len();
            list.retain(|a| *a != addr);
            let gone = list.len() != before;
            if list.is_empty() {
                self.addrs.remove(&index);
            }
            return gone.then_some(FibEvent::AddressRemoved { index, addr });
        }
        let list = self.addrs.entry(index).or_default();
        if list.contains(&addr) {
            None
        } else {
            list.push(addr);
            Some(FibEvent::AddressAdded { index, addr })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(index: u32, name: &str, up: bool) -> LinkMessage {
        let mut msg = LinkMessage::default();
        msg.header.index = index;
        if up {
            msg.header.flags = LinkFlags::Up;
        }
        msg.attributes.push(LinkAttribute::IfName(name.to_owned()));
        msg
    }

    fn addr(index: u32, ip: &str, len: u8) -> AddressMessage {
        let mut msg = AddressMessage::default();
        msg.header.index = index;
        msg.header.prefix_len = len;
        msg.attributes
            .push(AddressAttribute::Address(ip.parse().unwrap()));
        msg
    }

    #[test]
    fn tracks_links_by_name_and_state() {
        let mut ifaces = Interfaces::default();
        assert_eq!(ifaces.index_of("tunl0"), None);
        let event = ifaces.on_link(&link(5, "tunl0", false), false);
        assert!(matches!(
            event,
            Some(FibEvent::LinkUpdated(Link {
                index: 5,
                up: false,
                ..
            }))
        ));
        assert_eq!(ifaces.index_of("tunl0"), Some(5));
        // The same state again is not news.
        assert_eq!(ifaces.on_link(&link(5, "tunl0", false), false), None);
        let event = ifaces.on_link(&link(5, "tunl0", true), false);
        assert!(matches!(
            event,
            Some(FibEvent::LinkUpdated(Link { up: true, .. }))
        ));
        // Renamed: the old name is forgotten.
        ifaces.on_link(&link(5, "tunl1", true), false);
        assert_eq!(ifaces.index_of("tunl0"), None);
        assert_eq!(ifaces.index_of("tunl1"), Some(5));
        let event = ifaces.on_link(&link(5, "tunl1", true), true);
        assert!(matches!(event, Some(FibEvent::LinkRemoved(_))));
        assert_eq!(ifaces.index_of("tunl1"), None);
    }

    #[test]
    fn connected_subnets_follow_addresses() {
        let mut ifaces = Interfaces::default();
        ifaces.on_link(&link(2, "eth0", true), false);
        ifaces.on_address(&addr(2, "10.99.0.1", 24), false);
        ifaces.on_address(&addr(2, "fd99::1", 64), false);
        assert_eq!(
            ifaces.connected(),
            vec![
                "10.99.0.0/24".parse().unwrap(),
                "fd99::/64".parse().unwrap()
            ]
        );
        let event = ifaces.on_address(&addr(2, "10.99.0.1", 24), true);
        assert!(matches!(
            event,
            Some(FibEvent::AddressRemoved { index: 2, .. })
        ));
        assert_eq!(ifaces.connected(), vec!["fd99::/64".parse().unwrap()]);
        ifaces.on_address(&addr(2, "10.99.0.1", 24), false);
        assert_eq!(
            ifaces.attached("10.99.0.1".parse().unwrap()),
            Attached::Local
        );
        assert_eq!(
            ifaces.attached("10.99.0.7".parse().unwrap()),
            Attached::Subnet
        );
        assert_eq!(ifaces.attached("10.99.1.3".parse().unwrap()), Attached::No);
        ifaces.on_link(&link(2, "eth0", false), false);
        assert_eq!(
            ifaces.attached("10.99.0.7".parse().unwrap()),
            Attached::No,
            "link down"
        );
        ifaces.on_link(&link(2, "eth0", true), false);
        // Removing the link forgets its addresses.
        ifaces.on_link(&link(2, "eth0", true), true);
        assert!(ifaces.connected().is_empty());
    }
}
