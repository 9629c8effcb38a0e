//! The pure translation between routes and rtnetlink messages, apart from any socket.
//!
//! [`KernelRoute`] is a route with its devices resolved to interface indexes: the shape the
//! kernel stores. [`route_message`] / [`delete_message`] turn it into `RTM_NEWROUTE` /
//! `RTM_DELROUTE` bodies, [`encode`] frames them, and [`parse_route`] reads a kernel route back
//! (from a dump or an event) so reconciliation can compare like with like.

use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP,
    NLM_F_REPLACE, NLM_F_REQUEST,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteNextHop,
    RouteNextHopFlags, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::route::FibConfig;

/// `RT_TABLE_COMPAT`: what `rtm_table` says when the table id does not fit in a byte.
const RT_TABLE_COMPAT: u8 = 252;
/// The metric the kernel gives an IPv6 route added with metric 0 (`IP6_RT_PRIO_USER`).
const IPV6_DEFAULT_METRIC: u32 = 1024;

/// Netlink flags of an install: create, or replace what is there (one message, no delete first).
pub const INSTALL_FLAGS: u16 = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE;
/// Netlink flags of a delete.
pub const DELETE_FLAGS: u16 = NLM_F_REQUEST | NLM_F_ACK;
/// Netlink flags of a dump request.
pub const DUMP_FLAGS: u16 = NLM_F_REQUEST | NLM_F_DUMP;

/// Where our routes live and how they are stamped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableParams {
    /// Routing table id.
    pub table: u32,
    /// Our route protocol number.
    pub protocol: u8,
    /// Configured metric (see [`TableParams::metric_for`]).
    pub metric: u32,
}

impl From<&FibConfig> for TableParams {
    fn from(cfg: &FibConfig) -> Self {
        TableParams {
            table: cfg.table,
            protocol: cfg.protocol,
            metric: cfg.metric,
        }
    }
}

impl TableParams {
    /// The metric the kernel will report for a route of this family.
    pub fn metric_for(&self, prefix: &IpNet) -> u32 {
        if prefix.addr().is_ipv6() && self.metric == 0 {
            IPV6_DEFAULT_METRIC
        } else {
            self.metric
        }
    }
}

/// One next hop with its device resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KernelNextHop {
    /// The gateway.
    pub gateway: IpAddr,
    /// The output device; `None` lets the kernel pick it (and matches any device when comparing).
    pub ifindex: Option<u32>,
    /// `RTNH_F_ONLINK`.
    pub onlink: bool,
}

/// What a kernel route does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KernelKind {
    /// `RTN_BLACKHOLE`.
    Blackhole,
    /// `RTN_UNICAST` via next hops, kept sorted.
    Unicast(Vec<KernelNextHop>),
}

/// A route as the kernel holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KernelRoute {
    /// The destination.
    pub prefix: IpNet,
    /// What it does.
    pub kind: KernelKind,
    /// Its metric as the kernel reports it.
    pub metric: u32,
}

impl KernelRoute {
    /// `true` when the kernel's route `kernel` already does what `self` (desired) asks for, so
    /// it must not be re-added. A desired next hop without a device matches any device.
    pub fn satisfied_by(&self, kernel: &KernelRoute) -> bool {
        if self.prefix != kernel.prefix || self.metric != kernel.metric {
            return false;
        }
        match (&self.kind, &kernel.kind) {
            (KernelKind::Blackhole, KernelKind::Blackhole) => true,
            (KernelKind::Unicast(want), KernelKind::Unicast(have)) => {
                want.len() == have.len()
                    && want.iter().zip(have).all(|(w, h)| {
                        w.gateway == h.gateway
                            && w.onlink == h.onlink
                            && w.ifindex.is_none_or(|i| Some(i) == h.ifindex)
                    })
            }
            _ => false,
        }
    }
}

fn family_of(prefix: &IpNet) -> AddressFamily {
    match prefix {
        IpNet::V4(_) => AddressFamily::Inet,
        IpNet::V6(_) => AddressFamily::Inet6,
    }
}

fn header_for(prefix: &IpNet, params: &TableParams) -> RouteHeader {
    let mut header = RouteHeader {
        address_family: family_of(prefix),
        destination_prefix_length: prefix.prefix_len(),
        protocol: RouteProtocol::from(params.protocol),
        ..RouteHeader::default()
    };
    header.table = u8::try_from(params.table).unwrap_or(RT_TABLE_COMPAT);
    header
}

/// The `RTM_NEWROUTE` body installing `route`.
pub fn route_message(route: &KernelRoute, params: &TableParams) -> RouteMessage {
    let mut msg = RouteMessage::default();
    msg.header = header_for(&route.prefix, params);
    msg.header.scope = RouteScope::Universe;
    msg.attributes.push(RouteAttribute::Table(params.table));
    msg.attributes
        .push(RouteAttribute::Destination(route.prefix.network().into()));
    msg.attributes.push(RouteAttribute::Priority(route.metric));
    match &route.kind {
        KernelKind::Blackhole => msg.header.kind = RouteType::BlackHole,
        KernelKind::Unicast(nexthops) => {
            msg.header.kind = RouteType::Unicast;
            match nexthops.as_slice() {
                [nh] => {
                    msg.attributes
                        .push(RouteAttribute::Gateway(RouteAddress::from(nh.gateway)));
                    if let Some(index) = nh.ifindex {
                        msg.attributes.push(RouteAttribute::Oif(index));
                    }
                    if nh.onlink {
                        msg.header.flags = RouteFlags::Onlink;
                    }
                }
                many => {
                    let hops = many
                        .iter()
                        .map(|nh| {
                            let mut hop = RouteNextHop::default();
                            hop.interface_index = nh.ifindex.unwrap_or(0);
                            if nh.onlink {
                                hop.flags = RouteNextHopFlags::Onlink;
                            }
                            hop.attributes
                                .push(RouteAttribute::Gateway(RouteAddress::from(nh.gateway)));
                            hop
                        })
                        .collect();
                    msg.attributes.push(RouteAttribute::MultiPath(hops));
                }
            }
        }
    }
    msg
}

/// The `RTM_DELROUTE` body removing our route for `prefix` (any next hop; only our protocol).
pub fn delete_message(prefix: &IpNet, metric: u32, params: &TableParams) -> RouteMessage {
    let mut msg = RouteMessage::default();
    msg.header = header_for(prefix, params);
    // RT_SCOPE_NOWHERE and RTN_UNSPEC: "any scope, any type" for a delete.
    msg.header.scope = RouteScope::NoWhere;
    msg.header.kind = RouteType::Unspec;
    msg.attributes.push(RouteAttribute::Table(params.table));
    msg.attributes
        .push(RouteAttribute::Destination(prefix.network().into()));
    msg.attributes.push(RouteAttribute::Priority(metric));
    msg
}

/// The `RTM_GETROUTE` dump request for one family, filtered (with strict checking) by our table
/// and protocol so the kernel only returns our routes.
pub fn dump_message(ipv6: bool, params: &TableParams) -> RouteMessage {
    let mut msg = RouteMessage::default();
    msg.header.address_family = if ipv6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    msg.header.protocol = RouteProtocol::from(params.protocol);
    msg.header.table = u8::try_from(params.table).unwrap_or(RT_TABLE_COMPAT);
    msg.attributes.push(RouteAttribute::Table(params.table));
    msg
}

/// Appends one framed netlink message to `out`.
pub fn encode(body: RouteNetlinkMessage, flags: u16, seq: u32, out: &mut Vec<u8>) {
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    let mut msg = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(body));
    msg.finalize();
    let start = out.len();
    out.resize(start + msg.buffer_len(), 0);
    msg.serialize(&mut out[start..]);
}

/// Reads a kernel route back. `None` for routes that are not ours (other table or protocol)
/// or of a kind we never install.
pub fn parse_route(msg: &RouteMessage, params: &TableParams) -> Option<KernelRoute> {
    if u8::from(msg.header.protocol) != params.protocol {
        return None;
    }
    let mut table = u32::from(msg.header.table);
    let mut dst = None;
    let mut gateway = None;
    let mut oif = None;
    let mut metric = 0;
    let mut multipath = None;
    for attr in &msg.attributes {
        match attr {
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Destination(a) => dst = ip_of(a),
            RouteAttribute::Gateway(a) => gateway = ip_of(a),
            RouteAttribute::Oif(i) => oif = Some(*i),
            RouteAttribute::Priority(p) => metric = *p,
            RouteAttribute::MultiPath(hops) => multipath = Some(hops),
            _ => {}
        }
    }
    if table != params.table {
        return None;
    }
    let len = msg.header.destination_prefix_length;
    let prefix = match (msg.header.address_family, dst) {
        (_, Some(addr)) => IpNet::new(addr, len).ok()?,
        (AddressFamily::Inet, None) => IpNet::new(IpAddr::from([0u8; 4]), len).ok()?,
        (AddressFamily::Inet6, None) => IpNet::new(IpAddr::from([0u16; 8]), len).ok()?,
        _ => return None,
    };
    let kind = match msg.header.kind {
        RouteType::BlackHole => KernelKind::Blackhole,
        RouteType::Unicast => {
            let mut hops: Vec<KernelNextHop> = match multipath {
                Some(hops) => hops
                    .iter()
                    .filter_map(|hop| {
                        let gw = hop.attributes.iter().find_map(|a| match a {
                            RouteAttribute::Gateway(g) => ip_of(g),
                            _ => None,
                        })?;
                        Some(KernelNextHop {
                            gateway: gw,
                            ifindex: Some(hop.interface_index).filter(|i| *i != 0),
                            onlink: hop.flags.contains(RouteNextHopFlags::Onlink),
                        })
                    })
                    .collect(),
                None => vec![KernelNextHop {
                    gateway: gateway?,
                    ifindex: oif,
                    onlink: msg.header.flags.contains(RouteFlags::Onlink),
                }],
            };
            hops.sort();
            KernelKind::Unicast(hops)
        }
        _ => return None,
    };
    Some(KernelRoute {
        prefix,
        kind,
        metric,
    })
}

fn ip_of(addr: &RouteAddress) -> Option<IpAddr> {
    match addr {
        RouteAddress::Inet(a) => Some(IpAddr::V4(*a)),
        RouteAddress::Inet6(a) => Some(IpAddr::V6(*a)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::Parseable;

    const PARAMS: TableParams = TableParams {
        table: 254,
        protocol: 12,
        metric: 0,
    };

    fn bytes(route: &KernelRoute, flags: u16, seq: u32) -> Vec<u8> {
        let mut out = Vec::new();
        encode(
            RouteNetlinkMessage::NewRoute(route_message(route, &PARAMS)),
            flags,
            seq,
            &mut out,
        );
        out
    }

    fn roundtrip(wire: &[u8]) -> KernelRoute {
        // Skip the 16-byte nlmsghdr and parse the body as the kernel would send it back.
        let msg = RouteMessage::parse(&wire[16..]).unwrap();
        parse_route(&msg, &PARAMS).unwrap()
    }

    #[test]
    fn ipip_onlink_route_bytes() {
        let route = KernelRoute {
            prefix: "10.64.1.0/26".parse().unwrap(),
            kind: KernelKind::Unicast(vec![KernelNextHop {
                gateway: "10.99.0.2".parse().unwrap(),
                ifindex: Some(7),
                onlink: true,
            }]),
            metric: 0,
        };
        let wire = bytes(&route, INSTALL_FLAGS, 42);
        #[rustfmt::skip]
        let want: &[u8] = &[
            // nlmsghdr
            68, 0, 0, 0,        // nlmsg_len = 16 + 12 + 5 * 8
            24, 0,              // RTM_NEWROUTE
            0x05, 0x05,         // NLM_F_REQUEST | NLM_F_ACK | NLM_F_REPLACE | NLM_F_CREATE
            42, 0, 0, 0,        // sequence number
            0, 0, 0, 0,         // port id (kernel fills ours)
            // rtmsg
            2,                  // AF_INET
            26,                 // dst_len
            0, 0,               // src_len, tos
            254,                // table main
            12,                 // protocol bird
            0,                  // scope universe
            1,                  // RTN_UNICAST
            4, 0, 0, 0,         // rtm_flags = RTNH_F_ONLINK
            // attributes
            8, 0, 15, 0, 254, 0, 0, 0,  // RTA_TABLE 254
            8, 0, 1, 0, 10, 64, 1, 0,   // RTA_DST 10.64.1.0
            8, 0, 6, 0, 0, 0, 0, 0,     // RTA_PRIORITY 0
            8, 0, 5, 0, 10, 99, 0, 2,   // RTA_GATEWAY 10.99.0.2
            8, 0, 4, 0, 7, 0, 0, 0,     // RTA_OIF 7
        ];
        assert_eq!(wire, want);
        assert_eq!(roundtrip(&wire), route);
    }

    #[test]
    fn blackhole_route_bytes() {
        let route = KernelRoute {
            prefix: "10.64.0.0/26".parse().unwrap(),
            kind: KernelKind::Blackhole,
            metric: 0,
        };
        let wire = bytes(&route, INSTALL_FLAGS, 1);
        #[rustfmt::skip]
        let want: &[u8] = &[
            52, 0, 0, 0, 24, 0, 0x05, 0x05, 1, 0, 0, 0, 0, 0, 0, 0, // nlmsghdr, len 16+12+3*8
            2, 26, 0, 0, 254, 12, 0,    // AF_INET /26, table main, proto bird, scope universe
            6,                          // RTN_BLACKHOLE
            0, 0, 0, 0,                 // no flags
            8, 0, 15, 0, 254, 0, 0, 0,  // RTA_TABLE
            8, 0, 1, 0, 10, 64, 0, 0,   // RTA_DST 10.64.0.0
            8, 0, 6, 0, 0, 0, 0, 0,     // RTA_PRIORITY 0
        ];
        assert_eq!(wire, want);
        assert_eq!(roundtrip(&wire), route);
    }

    #[test]
    fn ecmp_route_uses_rta_multipath() {
        let route = KernelRoute {
            prefix: "10.64.2.0/26".parse().unwrap(),
            kind: KernelKind::Unicast(vec![
                KernelNextHop {
                    gateway: "10.99.0.2".parse().unwrap(),
                    ifindex: Some(3),
                    onlink: false,
                },
                KernelNextHop {
                    gateway: "10.99.0.3".parse().unwrap(),
                    ifindex: Some(3),
                    onlink: false,
                },
            ]),
            metric: 0,
        };
        let wire = bytes(&route, INSTALL_FLAGS, 9);
        #[rustfmt::skip]
        let want_tail: &[u8] = &[
            36, 0, 9, 0,                // RTA_MULTIPATH, 4 + 2 * 16
            16, 0,                      // rtnh_len
            0,                          // rtnh_flags
            0,                          // rtnh_hops (weight 1)
            3, 0, 0, 0,                 // rtnh_ifindex
            8, 0, 5, 0, 10, 99, 0, 2,   // RTA_GATEWAY 10.99.0.2
            16, 0, 0, 0, 3, 0, 0, 0,
            8, 0, 5, 0, 10, 99, 0, 3,   // RTA_GATEWAY 10.99.0.3
        ];
        assert_eq!(&wire[0..4], &[88, 0, 0, 0]); // 16 + 12 + 3 * 8 + 36
        assert!(wire.ends_with(want_tail));
        assert_eq!(roundtrip(&wire), route);
    }

    #[test]
    fn ipv6_direct_route_bytes_and_metric() {
        let prefix: IpNet = "fd00:10:64::/122".parse().unwrap();
        let route = KernelRoute {
            prefix,
            kind: KernelKind::Unicast(vec![KernelNextHop {
                gateway: "fd99::2".parse().unwrap(),
                ifindex: None,
                onlink: false,
            }]),
            metric: PARAMS.metric_for(&prefix),
        };
        assert_eq!(route.metric, 1024);
        let wire = bytes(&route, INSTALL_FLAGS, 2);
        #[rustfmt::skip]
        let want_body: &[u8] = &[
            10, 122, 0, 0, 254, 12, 0, 1, 0, 0, 0, 0, // AF_INET6 /122 main bird universe unicast
            8, 0, 15, 0, 254, 0, 0, 0,                // RTA_TABLE
            20, 0, 1, 0, 0xfd, 0, 0, 0x10, 0, 0x64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // RTA_DST
            8, 0, 6, 0, 0, 4, 0, 0,                   // RTA_PRIORITY 1024
            20, 0, 5, 0, 0xfd, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, // RTA_GATEWAY
        ];
        assert_eq!(&wire[16..], want_body);
        assert_eq!(roundtrip(&wire), route);
    }

    #[test]
    fn delete_matches_only_our_protocol() {
        let prefix: IpNet = "10.64.1.0/26".parse().unwrap();
        let mut wire = Vec::new();
        encode(
            RouteNetlinkMessage::DelRoute(delete_message(&prefix, 0, &PARAMS)),
            DELETE_FLAGS,
            5,
            &mut wire,
        );
        #[rustfmt::skip]
        let want: &[u8] = &[
            52, 0, 0, 0, 25, 0, 5, 0, 5, 0, 0, 0, 0, 0, 0, 0, // RTM_DELROUTE, REQUEST|ACK, seq 5
            2, 26, 0, 0, 254,
            12,                         // protocol: only routes stamped bird are deleted
            255,                        // RT_SCOPE_NOWHERE: any scope
            0,                          // RTN_UNSPEC: any type
            0, 0, 0, 0,
            8, 0, 15, 0, 254, 0, 0, 0,
            8, 0, 1, 0, 10, 64, 1, 0,
            8, 0, 6, 0, 0, 0, 0, 0,
        ];
        assert_eq!(wire, want);
    }

    #[test]
    fn big_table_ids_go_in_rta_table() {
        let params = TableParams {
            table: 1000,
            ..PARAMS
        };
        let route = KernelRoute {
            prefix: "10.64.0.0/26".parse().unwrap(),
            kind: KernelKind::Blackhole,
            metric: 0,
        };
        let msg = route_message(&route, &params);
        assert_eq!(msg.header.table, RT_TABLE_COMPAT);
        assert!(msg.attributes.contains(&RouteAttribute::Table(1000)));
        assert_eq!(parse_route(&msg, &params), Some(route.clone()));
        assert_eq!(parse_route(&msg, &PARAMS), None, "other table is not ours");
    }

    #[test]
    fn foreign_protocol_is_not_ours() {
        let route = KernelRoute {
            prefix: "10.64.0.0/26".parse().unwrap(),
            kind: KernelKind::Blackhole,
            metric: 0,
        };
        let mut msg = route_message(&route, &PARAMS);
        msg.header.protocol = RouteProtocol::Static;
        assert_eq!(parse_route(&msg, &PARAMS), None);
    }

    #[test]
    fn desired_without_device_matches_any_device() {
        let hop = |ifindex| KernelNextHop {
            gateway: "10.99.0.2".parse().unwrap(),
            ifindex,
            onlink: false,
        };
        let route = |h| KernelRoute {
            prefix: "10.64.1.0/26".parse().unwrap(),
            kind: KernelKind::Unicast(vec![h]),
            metric: 0,
        };
        assert!(route(hop(None)).satisfied_by(&route(hop(Some(2)))));
        assert!(route(hop(Some(2))).satisfied_by(&route(hop(Some(2)))));
        assert!(!route(hop(Some(3))).satisfied_by(&route(hop(Some(2)))));
        let onlink = KernelNextHop {
            onlink: true,
            ..hop(Some(2))
        };
        assert!(!route(onlink).satisfied_by(&route(hop(Some(2)))));
    }
}
