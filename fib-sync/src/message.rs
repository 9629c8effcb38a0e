//! The pure translation between routes and rtnetlink messages, apart from any socket.
//!
//! [`KernelRoute`] is a route with its devices resolved to interface indexes: the shape the
//! kernel stores. [`route_message`] / [`delete_message`] turn it into `RTM_NEWROUTE` /
//! `RTM_DELROUTE` bodies, [`encode`] frames them, and [`parse_route`] reads a kernel route back
//! (from a dump or an event) so reconciliation can compare like with like.

use std::net::IpAddr;

use ipnet::IpNet;
use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_CREATE, NLM_F_DUMP, NLM_F_REPLACE,
    NLM_F_REQUEST,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteNextHop,
    RouteNextHopFlags, RouteProtocol, RouteScope, RouteType, RouteVia,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::route::FibConfig;

/// `RT_TABLE_COMPAT`: what `rtm_table` says when the table id does not fit in a byte.
const RT_TABLE_COMPAT: u8 = 252;
/// The metric the kernel gives an IPv6 route added with metric 0 (`IP6_RT_PRIO_USER`).
const IPV6_DEFAULT_METRIC: u32 = 1024;

/// Netlink flags of an install: create, or replace what is there (one message, no delete first).
/// No `NLM_F_ACK`: the executor asks for one ack per chunk (errors come anyway).
pub const INSTALL_FLAGS: u16 = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
/// Netlink flags of a delete (no `NLM_F_ACK`, as for installs).
pub const DELETE_FLAGS: u16 = NLM_F_REQUEST;
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
    /// The metric the kernel will report for a route of this family with the configured metric.
    pub fn metric_for(&self, prefix: &IpNet) -> u32 {
        self.kernel_metric(prefix, None)
    }

    /// The metric the kernel will report for a route of `prefix`'s family asking for `metric`
    /// (`None`: the configured one): IPv6 turns 0 into 1024, so `Some(0)` and a dumped 1024
    /// compare equal.
    pub fn kernel_metric(&self, prefix: &IpNet, metric: Option<u32>) -> u32 {
        let metric = metric.unwrap_or(self.metric);
        if prefix.addr().is_ipv6() && metric == 0 {
            IPV6_DEFAULT_METRIC
        } else {
            metric
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
    /// `RTN_UNREACHABLE`: what BIRD installs for a route whose recursive next hop does not
    /// resolve.
    Unreachable,
    /// `RTN_PROHIBIT`: a recursive next hop resolved through a prohibit route.
    Prohibit,
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
        self.prefix == kernel.prefix
            && self.metric == kernel.metric
            && self.kind.satisfied_by(&kernel.kind)
    }
}

impl KernelKind {
    /// `true` when the kernel's route kind `kernel` does what `self` (desired) asks for; the
    /// prefix and metric are compared by the caller ([`KernelRoute::satisfied_by`]).
    pub fn satisfied_by(&self, kernel: &KernelKind) -> bool {
        match (self, kernel) {
            (KernelKind::Blackhole, KernelKind::Blackhole)
            | (KernelKind::Unreachable, KernelKind::Unreachable)
            | (KernelKind::Prohibit, KernelKind::Prohibit) => true,
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
    // `rtm_table` carries tables up to 255: no `RTA_TABLE` then (one attribute less per route).
    if params.table > u32::from(u8::MAX) {
        msg.attributes.push(RouteAttribute::Table(params.table));
    }
    msg.attributes
        .push(RouteAttribute::Destination(route.prefix.network().into()));
    msg.attributes.push(RouteAttribute::Priority(route.metric));
    match &route.kind {
        KernelKind::Blackhole => msg.header.kind = RouteType::BlackHole,
        KernelKind::Unreachable => msg.header.kind = RouteType::Unreachable,
        KernelKind::Prohibit => msg.header.kind = RouteType::Prohibit,
        KernelKind::Unicast(nexthops) => {
            msg.header.kind = RouteType::Unicast;
            match nexthops.as_slice() {
                [nh] => {
                    msg.attributes.push(gateway_attr(&route.prefix, nh.gateway));
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
                            hop.attributes.push(gateway_attr(&route.prefix, nh.gateway));
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

/// `true` when `gateway` is of another family than `prefix` (an IPv4 route via an IPv6 next
/// hop, RFC 8950): the kernel takes it as `RTA_VIA` (family + address), not `RTA_GATEWAY`.
fn is_via(prefix: &IpNet, gateway: &IpAddr) -> bool {
    prefix.addr().is_ipv4() != gateway.is_ipv4()
}

/// The gateway attribute of a next hop: `RTA_GATEWAY` for the route's own family, `RTA_VIA`
/// otherwise (`ip route add 10.0.0.0/24 via inet6 fd99::2`).
fn gateway_attr(prefix: &IpNet, gateway: IpAddr) -> RouteAttribute {
    if is_via(prefix, &gateway) {
        RouteAttribute::Via(RouteVia::from(gateway))
    } else {
        RouteAttribute::Gateway(RouteAddress::from(gateway))
    }
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

/// Appends the framed `RTM_NEWROUTE` installing `kind` for `prefix` with `metric` (as
/// [`TableParams::kernel_metric`] gives it): the same octets as [`encode`] of [`route_message`],
/// written directly (no attribute list is built: this runs once per route on the path to the
/// kernel).
pub fn encode_route(
    prefix: &IpNet,
    kind: &KernelKind,
    metric: u32,
    params: &TableParams,
    seq: u32,
    out: &mut Vec<u8>,
) {
    let start = begin(out, RTM_NEWROUTE, INSTALL_FLAGS, seq);
    let (rtype, flags) = match kind {
        KernelKind::Blackhole => (RTN_BLACKHOLE, 0),
        KernelKind::Unreachable => (RTN_UNREACHABLE, 0),
        KernelKind::Prohibit => (RTN_PROHIBIT, 0),
        KernelKind::Unicast(hops) => match hops.as_slice() {
            [nh] if nh.onlink => (RTN_UNICAST, RTNH_F_ONLINK),
            _ => (RTN_UNICAST, 0),
        },
    };
    rtmsg(out, prefix, params, RT_SCOPE_UNIVERSE, rtype, flags);
    if params.table > u32::from(u8::MAX) {
        attr_u32(out, RTA_TABLE, params.table);
    }
    attr_addr(out, RTA_DST, &prefix.network());
    attr_u32(out, RTA_PRIORITY, metric);
    if let KernelKind::Unicast(hops) = kind {
        match hops.as_slice() {
            [nh] => {
                attr_gateway(out, prefix, &nh.gateway);
                if let Some(index) = nh.ifindex {
                    attr_u32(out, RTA_OIF, index);
                }
            }
            many => {
                let at = out.len();
                out.extend_from_slice(&[0, 0, 0, 0]);
                put_u16(out, at + 2, RTA_MULTIPATH);
                for nh in many {
                    let hop = out.len();
                    out.extend_from_slice(&[0, 0]); // rtnh_len
                    out.push(if nh.onlink { RTNH_F_ONLINK as u8 } else { 0 });
                    out.push(0); // rtnh_hops: weight 1
                    out.extend_from_slice(&nh.ifindex.unwrap_or(0).to_ne_bytes());
                    attr_gateway(out, prefix, &nh.gateway);
                    let len = (out.len() - hop) as u16;
                    put_u16(out, hop, len);
                }
                let len = (out.len() - at) as u16;
                put_u16(out, at, len);
            }
        }
    }
    finish(out, start);
}

/// Appends the framed `RTM_DELROUTE` removing our route for `prefix` with `metric`: the same
/// octets as [`encode`] of [`delete_message`].
pub fn encode_delete(
    prefix: &IpNet,
    metric: u32,
    params: &TableParams,
    seq: u32,
    out: &mut Vec<u8>,
) {
    let start = begin(out, RTM_DELROUTE, DELETE_FLAGS, seq);
    rtmsg(out, prefix, params, RT_SCOPE_NOWHERE, RTN_UNSPEC, 0);
    common_attrs(out, prefix, metric, params);
    finish(out, start);
}

/// Appends the framed `RTM_GETROUTE` asking which route the kernel would use to reach `addr`
/// (`ip route get fibmatch ADDR`): the answer is the matched FIB entry (its prefix, type,
/// protocol, table and next hops), or an error for a reject route or none
/// ([`crate::recursive::Resolution::from_errno`]). Header fields other than the family, the
/// destination length and the flags stay zero, as strict checking requires.
pub fn encode_get_route(addr: &IpAddr, seq: u32, out: &mut Vec<u8>) {
    let start = begin(out, RTM_GETROUTE, NLM_F_REQUEST, seq);
    let (family, len) = match addr {
        IpAddr::V4(_) => (libc_af::INET, 32),
        IpAddr::V6(_) => (libc_af::INET6, 128),
    };
    out.extend_from_slice(&[family, len, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&RTM_F_FIB_MATCH.to_ne_bytes());
    attr_addr(out, RTA_DST, addr);
    finish(out, start);
}

const RTM_NEWROUTE: u16 = 24;
const RTM_DELROUTE: u16 = 25;
const RTN_UNSPEC: u8 = 0;
const RTN_UNICAST: u8 = 1;
const RTN_BLACKHOLE: u8 = 6;
const RTN_UNREACHABLE: u8 = 7;
const RTN_PROHIBIT: u8 = 8;
const RTM_GETROUTE: u16 = 26;
/// `rtm_flags`: answer with the FIB entry the lookup matched, not the resolved destination.
const RTM_F_FIB_MATCH: u32 = 0x2000;
const RT_SCOPE_UNIVERSE: u8 = 0;
const RT_SCOPE_NOWHERE: u8 = 255;
const RTNH_F_ONLINK: u32 = 4;
const RTA_DST: u16 = 1;
const RTA_OIF: u16 = 4;
const RTA_GATEWAY: u16 = 5;
const RTA_PRIORITY: u16 = 6;
const RTA_MULTIPATH: u16 = 9;
const RTA_TABLE: u16 = 15;
const RTA_VIA: u16 = 18;

fn put_u16(out: &mut [u8], at: usize, v: u16) {
    out[at..at + 2].copy_from_slice(&v.to_ne_bytes());
}

/// Starts an `nlmsghdr` (length filled by [`finish`]); returns where it starts.
fn begin(out: &mut Vec<u8>, kind: u16, flags: u16, seq: u32) -> usize {
    let start = out.len();
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    start
}

fn finish(out: &mut [u8], start: usize) {
    let len = (out.len() - start) as u32;
    out[start..start + 4].copy_from_slice(&len.to_ne_bytes());
}

fn rtmsg(
    out: &mut Vec<u8>,
    prefix: &IpNet,
    params: &TableParams,
    scope: u8,
    rtype: u8,
    flags: u32,
) {
    let family = match prefix {
        IpNet::V4(_) => libc_af::INET,
        IpNet::V6(_) => libc_af::INET6,
    };
    out.extend_from_slice(&[
        family,
        prefix.prefix_len(),
        0, // src_len
        0, // tos
        u8::try_from(params.table).unwrap_or(RT_TABLE_COMPAT),
        params.protocol,
        scope,
        rtype,
    ]);
    out.extend_from_slice(&flags.to_ne_bytes());
}

mod libc_af {
    pub(super) const INET: u8 = 2;
    pub(super) const INET6: u8 = 10;
}

fn common_attrs(out: &mut Vec<u8>, prefix: &IpNet, metric: u32, params: &TableParams) {
    attr_u32(out, RTA_TABLE, params.table);
    attr_addr(out, RTA_DST, &prefix.network());
    attr_u32(out, RTA_PRIORITY, metric);
}

fn attr_u32(out: &mut Vec<u8>, kind: u16, v: u32) {
    out.extend_from_slice(&8u16.to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(&v.to_ne_bytes());
}

/// Addresses are 4 or 16 octets: attributes stay 4-aligned without padding.
fn attr_addr(out: &mut Vec<u8>, kind: u16, addr: &IpAddr) {
    match addr {
        IpAddr::V4(a) => {
            out.extend_from_slice(&8u16.to_ne_bytes());
            out.extend_from_slice(&kind.to_ne_bytes());
            out.extend_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            out.extend_from_slice(&20u16.to_ne_bytes());
            out.extend_from_slice(&kind.to_ne_bytes());
            out.extend_from_slice(&a.octets());
        }
    }
}

/// The next hop's gateway as [`gateway_attr`] gives it: `RTA_GATEWAY`, or for a gateway of the
/// other family `RTA_VIA` (`struct rtvia`: a 2-octet family, then the address; 22 octets, padded
/// to 24).
fn attr_gateway(out: &mut Vec<u8>, prefix: &IpNet, gateway: &IpAddr) {
    if !is_via(prefix, gateway) {
        attr_addr(out, RTA_GATEWAY, gateway);
        return;
    }
    let (family, octets): (u8, &[u8]) = match gateway {
        IpAddr::V4(a) => (libc_af::INET, &a.octets()),
        IpAddr::V6(a) => (libc_af::INET6, &a.octets()),
    };
    let len = 4 + 2 + octets.len();
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&RTA_VIA.to_ne_bytes());
    out.extend_from_slice(&u16::from(family).to_ne_bytes());
    out.extend_from_slice(octets);
    out.resize(out.len() + (4 - len % 4) % 4, 0);
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
            RouteAttribute::Via(v) => gateway = via_of(v),
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
        RouteType::Unreachable => KernelKind::Unreachable,
        RouteType::Prohibit => KernelKind::Prohibit,
        RouteType::Unicast => {
            let mut hops: Vec<KernelNextHop> = match multipath {
                Some(hops) => hops
                    .iter()
                    .filter_map(|hop| {
                        let gw = hop.attributes.iter().find_map(|a| match a {
                            RouteAttribute::Gateway(g) => ip_of(g),
                            RouteAttribute::Via(v) => via_of(v),
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

/// The gateway of an `RTA_VIA` (IPv4 or IPv6; MPLS and other families are not ours).
pub(crate) fn via_of(via: &RouteVia) -> Option<IpAddr> {
    match via {
        RouteVia::Inet(a) => Some(IpAddr::V4(*a)),
        RouteVia::Inet6(a) => Some(IpAddr::V6(*a)),
        _ => None,
    }
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
            60, 0, 0, 0,        // nlmsg_len = 16 + 12 + 4 * 8
            24, 0,              // RTM_NEWROUTE
            0x01, 0x05,         // NLM_F_REQUEST | NLM_F_REPLACE | NLM_F_CREATE
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
            // attributes (table 254 is in rtm_table: no RTA_TABLE)
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
            44, 0, 0, 0, 24, 0, 0x01, 0x05, 1, 0, 0, 0, 0, 0, 0, 0, // nlmsghdr, len 16+12+2*8
            2, 26, 0, 0, 254, 12, 0,    // AF_INET /26, table main, proto bird, scope universe
            6,                          // RTN_BLACKHOLE
            0, 0, 0, 0,                 // no flags
            8, 0, 1, 0, 10, 64, 0, 0,   // RTA_DST 10.64.0.0
            8, 0, 6, 0, 0, 0, 0, 0,     // RTA_PRIORITY 0
        ];
        assert_eq!(wire, want);
        assert_eq!(roundtrip(&wire), route);
    }

    #[test]
    fn unreachable_and_prohibit_route_bytes() {
        let route = KernelRoute {
            prefix: "10.64.3.0/26".parse().unwrap(),
            kind: KernelKind::Unreachable,
            metric: 1024,
        };
        let wire = bytes(&route, INSTALL_FLAGS, 2);
        #[rustfmt::skip]
        let want: &[u8] = &[
            44, 0, 0, 0, 24, 0, 0x01, 0x05, 2, 0, 0, 0, 0, 0, 0, 0, // nlmsghdr, len 16+12+2*8
            2, 26, 0, 0, 254, 12, 0,    // AF_INET /26, table main, proto bird, scope universe
            7,                          // RTN_UNREACHABLE
            0, 0, 0, 0,                 // no flags
            8, 0, 1, 0, 10, 64, 3, 0,   // RTA_DST 10.64.3.0
            8, 0, 6, 0, 0, 4, 0, 0,     // RTA_PRIORITY 1024
        ];
        assert_eq!(wire, want);
        assert_eq!(roundtrip(&wire), route);
        let prohibit = KernelRoute {
            kind: KernelKind::Prohibit,
            ..route
        };
        let wire = bytes(&prohibit, INSTALL_FLAGS, 2);
        assert_eq!(wire[16 + 7], 8, "RTN_PROHIBIT");
        assert_eq!(roundtrip(&wire), prohibit);
        assert!(!KernelKind::Unreachable.satisfied_by(&KernelKind::Blackhole));
        assert!(KernelKind::Prohibit.satisfied_by(&KernelKind::Prohibit));
    }

    #[test]
    fn get_route_request_bytes() {
        let mut wire = Vec::new();
        encode_get_route(&"10.99.1.3".parse().unwrap(), 77, &mut wire);
        #[rustfmt::skip]
        let want: &[u8] = &[
            36, 0, 0, 0,        // nlmsg_len = 16 + 12 + 8
            26, 0,              // RTM_GETROUTE
            0x01, 0x00,         // NLM_F_REQUEST only: one answer, no ack
            77, 0, 0, 0,        // sequence number
            0, 0, 0, 0,         // port id
            2,                  // AF_INET
            32,                 // dst_len: a host
            0, 0,               // src_len, tos
            0, 0, 0, 0,         // table, protocol, scope, type: zero (strict checking)
            0, 0x20, 0, 0,      // rtm_flags = RTM_F_FIB_MATCH (0x2000)
            8, 0, 1, 0, 10, 99, 1, 3, // RTA_DST 10.99.1.3
        ];
        assert_eq!(wire, want);
        // The same octets as the library's typed message.
        let mut msg = RouteMessage::default();
        msg.header.address_family = AddressFamily::Inet;
        msg.header.destination_prefix_length = 32;
        msg.header.flags = RouteFlags::from_bits_retain(0x2000);
        msg.attributes
            .push(RouteAttribute::Destination(RouteAddress::Inet(
                "10.99.1.3".parse().unwrap(),
            )));
        let mut lib = Vec::new();
        encode(
            RouteNetlinkMessage::GetRoute(msg),
            NLM_F_REQUEST,
            77,
            &mut lib,
        );
        assert_eq!(wire, lib);
        let mut v6 = Vec::new();
        encode_get_route(&"fd99:1::3".parse().unwrap(), 1, &mut v6);
        assert_eq!((v6.len(), v6[16], v6[17]), (48, 10, 128));
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
        assert_eq!(&wire[0..4], &[80, 0, 0, 0]); // 16 + 12 + 2 * 8 + 36
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
            20, 0, 1, 0, 0xfd, 0, 0, 0x10, 0, 0x64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // RTA_DST
            8, 0, 6, 0, 0, 4, 0, 0,                   // RTA_PRIORITY 1024
            20, 0, 5, 0, 0xfd, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, // RTA_GATEWAY
        ];
        assert_eq!(&wire[16..], want_body);
        assert_eq!(roundtrip(&wire), route);
    }

    #[test]
    fn ipv4_route_via_ipv6_gateway_uses_rta_via() {
        let prefix: IpNet = "10.64.3.0/26".parse().unwrap();
        let route = KernelRoute {
            prefix,
            kind: KernelKind::Unicast(vec![KernelNextHop {
                gateway: "fd99::2".parse().unwrap(),
                ifindex: Some(3),
                onlink: false,
            }]),
            metric: PARAMS.metric_for(&prefix),
        };
        let wire = bytes(&route, INSTALL_FLAGS, 2);
        #[rustfmt::skip]
        let want_body: &[u8] = &[
            2, 26, 0, 0, 254, 12, 0, 1, 0, 0, 0, 0, // AF_INET /26 main bird universe unicast
            8, 0, 1, 0, 10, 64, 3, 0,               // RTA_DST
            8, 0, 6, 0, 0, 0, 0, 0,                 // RTA_PRIORITY 0
            22, 0, 18, 0, 10, 0,                    // RTA_VIA, family AF_INET6
            0xfd, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, // fd99::2, padding
            8, 0, 4, 0, 3, 0, 0, 0,                 // RTA_OIF 3
        ];
        assert_eq!(&wire[16..], want_body);
        assert_eq!(roundtrip(&wire), route);
        let mut direct = Vec::new();
        encode_route(&prefix, &route.kind, route.metric, &PARAMS, 2, &mut direct);
        assert_eq!(direct, wire, "direct encoder writes the same RTA_VIA");
    }

    #[test]
    fn ecmp_ipv4_route_via_ipv6_gateways_reads_back() {
        let prefix: IpNet = "10.64.4.0/26".parse().unwrap();
        let hop = |gw: &str| KernelNextHop {
            gateway: gw.parse().unwrap(),
            ifindex: Some(2),
            onlink: false,
        };
        let route = KernelRoute {
            prefix,
            kind: KernelKind::Unicast(vec![hop("10.99.0.2"), hop("fd99::2"), hop("fd99::3")]),
            metric: 0,
        };
        let wire = bytes(&route, INSTALL_FLAGS, 3);
        let msg = RouteMessage::parse(&wire[16..]).unwrap();
        let Some(RouteAttribute::MultiPath(hops)) = msg
            .attributes
            .iter()
            .find(|a| matches!(a, RouteAttribute::MultiPath(_)))
        else {
            panic!("no RTA_MULTIPATH in {msg:?}");
        };
        let kinds: Vec<&str> = hops
            .iter()
            .flat_map(|h| &h.attributes)
            .map(|a| match a {
                RouteAttribute::Gateway(_) => "gateway",
                RouteAttribute::Via(_) => "via",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["gateway", "via", "via"]);
        assert_eq!(roundtrip(&wire), route);
    }

    #[test]
    fn route_with_its_own_metric_bytes() {
        // Configured metric 0 (PARAMS), the route's own 1024 (BIRD's `krt_metric = 1024`).
        let prefix: IpNet = "10.64.1.0/26".parse().unwrap();
        let kind = KernelKind::Unicast(vec![KernelNextHop {
            gateway: "10.99.0.2".parse().unwrap(),
            ifindex: None,
            onlink: false,
        }]);
        let metric = PARAMS.kernel_metric(&prefix, Some(1024));
        assert_eq!(metric, 1024);
        let mut wire = Vec::new();
        encode_route(&prefix, &kind, metric, &PARAMS, 3, &mut wire);
        #[rustfmt::skip]
        let want: &[u8] = &[
            // nlmsghdr
            52, 0, 0, 0,        // nlmsg_len = 16 + 12 + 3 * 8
            24, 0,              // RTM_NEWROUTE
            0x01, 0x05,         // NLM_F_REQUEST | NLM_F_REPLACE | NLM_F_CREATE
            3, 0, 0, 0,         // sequence number
            0, 0, 0, 0,         // port id
            // rtmsg
            2, 26, 0, 0,        // AF_INET, dst_len 26, src_len, tos
            254, 12,            // table main, protocol bird
            0,                  // scope universe
            1,                  // RTN_UNICAST
            0, 0, 0, 0,         // no flags
            8, 0, 1, 0, 10, 64, 1, 0,   // RTA_DST 10.64.1.0
            8, 0, 6, 0, 0, 4, 0, 0,     // RTA_PRIORITY 1024: the route's own, not the config's 0
            8, 0, 5, 0, 10, 99, 0, 2,   // RTA_GATEWAY 10.99.0.2 (no RTA_OIF: kernel resolves)
        ];
        assert_eq!(wire, want);
        let back = roundtrip(&wire);
        assert_eq!(
            (back.prefix, &back.kind, back.metric),
            (prefix, &kind, 1024)
        );
    }

    #[test]
    fn delete_of_another_metric_bytes() {
        // A metric change deletes the old route by its own metric (the kernel keys routes by
        // prefix and metric).
        let prefix: IpNet = "10.64.1.0/26".parse().unwrap();
        let mut wire = Vec::new();
        encode_delete(&prefix, 512, &PARAMS, 4, &mut wire);
        #[rustfmt::skip]
        let want: &[u8] = &[
            52, 0, 0, 0, 25, 0, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, // RTM_DELROUTE, REQUEST, seq 4
            2, 26, 0, 0, 254, 12,       // AF_INET /26, table main, protocol bird
            255, 0,                     // RT_SCOPE_NOWHERE, RTN_UNSPEC: any scope and type
            0, 0, 0, 0,
            8, 0, 15, 0, 254, 0, 0, 0,  // RTA_TABLE 254
            8, 0, 1, 0, 10, 64, 1, 0,   // RTA_DST 10.64.1.0
            8, 0, 6, 0, 0, 2, 0, 0,     // RTA_PRIORITY 512: only the route of that metric
        ];
        assert_eq!(wire, want);
    }

    #[test]
    fn ipv6_own_metric_zero_is_the_kernels_1024() {
        let v4: IpNet = "10.64.1.0/26".parse().unwrap();
        let v6: IpNet = "fd00:10:64::/122".parse().unwrap();
        let cfg7 = TableParams {
            metric: 7,
            ..PARAMS
        };
        assert_eq!(PARAMS.kernel_metric(&v4, None), 0);
        assert_eq!(PARAMS.kernel_metric(&v4, Some(0)), 0);
        assert_eq!(PARAMS.kernel_metric(&v6, None), 1024);
        assert_eq!(PARAMS.kernel_metric(&v6, Some(0)), 1024);
        assert_eq!(PARAMS.kernel_metric(&v6, Some(512)), 512);
        assert_eq!(cfg7.kernel_metric(&v4, None), 7);
        assert_eq!(
            cfg7.kernel_metric(&v4, Some(0)),
            0,
            "the route's own 0 wins"
        );
        assert_eq!(cfg7.kernel_metric(&v6, Some(0)), 1024);
        assert_eq!(cfg7.metric_for(&v6), 7);
        // A desired IPv6 Some(0) is satisfied by what the kernel dumps (1024).
        let kind = KernelKind::Unicast(vec![KernelNextHop {
            gateway: "fd99::2".parse().unwrap(),
            ifindex: None,
            onlink: false,
        }]);
        let mut wire = Vec::new();
        encode_route(
            &v6,
            &kind,
            PARAMS.kernel_metric(&v6, Some(0)),
            &PARAMS,
            5,
            &mut wire,
        );
        #[rustfmt::skip]
        let want_prio: &[u8] = &[8, 0, 6, 0, 0, 4, 0, 0]; // RTA_PRIORITY 1024, after RTA_DST
        assert_eq!(&wire[48..56], want_prio);
        let dumped = KernelRoute {
            prefix: v6,
            kind: kind.clone(),
            metric: 1024,
        };
        let desired = KernelRoute {
            metric: PARAMS.kernel_metric(&v6, Some(0)),
            ..dumped.clone()
        };
        assert!(desired.satisfied_by(&dumped));
        let other = KernelRoute {
            metric: 512,
            ..dumped.clone()
        };
        assert!(
            !other.satisfied_by(&dumped),
            "another metric is another route"
        );
    }

    #[test]
    fn direct_encoders_match_the_library() {
        let hop = |gw: &str, ifindex, onlink| KernelNextHop {
            gateway: gw.parse().unwrap(),
            ifindex,
            onlink,
        };
        let kinds = [
            ("10.64.0.0/26", KernelKind::Blackhole),
            (
                "10.64.1.0/26",
                KernelKind::Unicast(vec![hop("10.99.0.2", Some(7), true)]),
            ),
            (
                "10.64.1.7/32",
                KernelKind::Unicast(vec![hop("10.99.0.2", None, false)]),
            ),
            (
                "10.64.2.0/26",
                KernelKind::Unicast(vec![
                    hop("10.99.0.2", Some(3), false),
                    hop("10.99.0.3", None, true),
                ]),
            ),
            (
                "fd00:10:64::/122",
                KernelKind::Unicast(vec![hop("fd99::2", None, false)]),
            ),
            (
                "10.64.3.0/26",
                KernelKind::Unicast(vec![hop("fd99::2", Some(2), false)]),
            ),
            (
                "10.64.4.0/26",
                KernelKind::Unicast(vec![
                    hop("fd99::2", Some(2), false),
                    hop("10.99.0.3", None, false),
                ]),
            ),
            (
                "fd00:10:64::/122",
                KernelKind::Unicast(vec![
                    hop("fd99::2", Some(2), false),
                    hop("fd99::3", Some(2), false),
                ]),
            ),
            ("0.0.0.0/0", KernelKind::Blackhole),
        ];
        for params in [
            PARAMS,
            TableParams {
                table: 1000,
                metric: 7,
                ..PARAMS
            },
        ] {
            for ((prefix, kind), own) in kinds
                .iter()
                .flat_map(|k| [None, Some(0), Some(512)].map(|m| (k, m)))
            {
                let prefix: IpNet = prefix.parse().unwrap();
                let route = KernelRoute {
                    prefix,
                    kind: kind.clone(),
                    metric: params.kernel_metric(&prefix, own),
                };
                let mut want = Vec::new();
                encode(
                    RouteNetlinkMessage::NewRoute(route_message(&route, &params)),
                    INSTALL_FLAGS,
                    77,
                    &mut want,
                );
                let mut got = vec![0xaa];
                encode_route(&prefix, kind, route.metric, &params, 77, &mut got);
                assert_eq!(&got[1..], want.as_slice(), "{prefix} {kind:?}");
                let mut want = Vec::new();
                encode(
                    RouteNetlinkMessage::DelRoute(delete_message(&prefix, 5, &params)),
                    DELETE_FLAGS,
                    78,
                    &mut want,
                );
                let mut got = Vec::new();
                encode_delete(&prefix, 5, &params, 78, &mut got);
                assert_eq!(got, want, "delete {prefix}");
            }
        }
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
            52, 0, 0, 0, 25, 0, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, // RTM_DELROUTE, REQUEST, seq 5
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
