//! How a route is programmed in the kernel: directly, through the IP-in-IP tunnel, left to Felix
//! (VXLAN), blackholed (the node's own block) or not at all.
//!
//! This mirrors what Calico's BIRD template does in its kernel export filter: for a route inside
//! an IP pool, the pool's `ipipMode` / `vxlanMode` decide; `CrossSubnet` means "encapsulate only
//! when the next hop is not on one of this node's connected subnets". IPv6 is never tunnelled.

use std::net::IpAddr;

use ipnet::IpNet;

/// One encapsulation mode of an IP pool (`ipipMode` or `vxlanMode` in Calico's `IPPool`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EncapMode {
    /// Always encapsulate.
    Always,
    /// Encapsulate only when the next hop is on another subnet.
    CrossSubnet,
    /// Never encapsulate.
    #[default]
    Never,
}

/// The encapsulation settings of the IP pool a route's prefix falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PoolEncap {
    /// `ipipMode` (IPv4 only).
    pub ipip: EncapMode,
    /// `vxlanMode` (routes owned by Felix when it applies).
    pub vxlan: EncapMode,
}

/// What the caller knows about one route when deciding how to program it.
#[derive(Debug, Clone, Copy)]
pub struct RouteFacts<'a> {
    /// The destination.
    pub prefix: IpNet,
    /// The BGP next hop, if the route has one.
    pub next_hop: Option<IpAddr>,
    /// `true` for one of this node's own IPAM blocks.
    pub local_block: bool,
    /// The pool the prefix falls in; `None` for routes outside every pool (programmed directly).
    pub pool: Option<PoolEncap>,
    /// The node's connected subnets (its interface addresses with their prefix lengths).
    pub connected: &'a [IpNet],
}

/// How the route is to be programmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Programming {
    /// A plain route via the next hop (the kernel resolves the device).
    Direct {
        /// The gateway.
        via: IpAddr,
    },
    /// An `onlink` route via the next hop on the IP-in-IP device (`tunl0`).
    IpIp {
        /// The gateway (the remote node's address, the tunnel's outer destination).
        via: IpAddr,
    },
    /// The prefix belongs to a VXLAN pool: Felix programs it, we leave it alone.
    VxlanSkip,
    /// The node's own block: a blackhole route so unallocated addresses are not forwarded.
    Blackhole,
    /// Nothing to program (no usable next hop).
    None,
}

/// `true` when `addr` lies inside one of the `connected` subnets.
pub fn on_connected_subnet(addr: IpAddr, connected: &[IpNet]) -> bool {
    connected.iter().any(|net| net.contains(&addr))
}

/// Decides how a route is programmed. Pure: a function of its inputs only.
pub fn program(facts: &RouteFacts<'_>) -> Programming {
    if facts.local_block {
        return Programming::Blackhole;
    }
    let Some(via) = facts.next_hop else {
        return Programming::None;
    };
    // The kernel has no IPv6 route via an IPv4 gateway; an IPv4 route with an IPv6 next hop
    // (RFC 8950) is installed `via inet6`.
    if via.is_ipv4() && !facts.prefix.addr().is_ipv4() {
        return Programming::None;
    }
    let pool = facts.pool.unwrap_or_default();
    let same_subnet = on_connected_subnet(via, facts.connected);
    let applies = |mode: EncapMode| match mode {
        EncapMode::Always => true,
        EncapMode::CrossSubnet => !same_subnet,
        EncapMode::Never => false,
    };
    if applies(pool.vxlan) {
        return Programming::VxlanSkip;
    }
    // IPv6 is never tunnelled through tunl0, nor an IPv4 route to an IPv6 next hop (tunl0
    // carries IPv4 in IPv4 only): that one goes directly `via inet6`.
    if facts.prefix.addr().is_ipv4() && via.is_ipv4() && applies(pool.ipip) {
        return Programming::IpIp { via };
    }
    Programming::Direct { via }
}

/// How a prefix's whole selected next-hop set (best route and the rest of its ECMP set) is
/// programmed: the one decision the kernel path makes per prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SetProgramming {
    /// Install a route via the next hops written to the output (each `Direct` or `IpIp`,
    /// without duplicates, in the set's order).
    Install,
    /// A next hop falls in a VXLAN pool's mode: Felix owns the prefix. Installing part of an
    /// ECMP set would fight it, so nothing is installed.
    Felix,
    /// No usable next hop: nothing to install.
    Nothing,
}

/// Decides how `prefix` is programmed via `next_hops` (its selected set, best first), with
/// the prefix's `pool` and the node's `connected` subnets: [`program`] per next hop, then one
/// verdict for the set. The programmed hops go to `out` (cleared first). Pure.
pub fn program_set(
    prefix: IpNet,
    pool: Option<PoolEncap>,
    next_hops: &[IpAddr],
    connected: &[IpNet],
    out: &mut Vec<Programming>,
) -> SetProgramming {
    out.clear();
    for &via in next_hops {
        let p = program(&RouteFacts {
            prefix,
            next_hop: Some(via),
            local_block: false,
            pool,
            connected,
        });
        match p {
            Programming::Direct { .. } | Programming::IpIp { .. } => {
                if !out.contains(&p) {
                    out.push(p);
                }
            }
            Programming::VxlanSkip => {
                out.clear();
                return SetProgramming::Felix;
            }
            Programming::Blackhole | Programming::None => {}
        }
    }
    if out.is_empty() {
        SetProgramming::Nothing
    } else {
        SetProgramming::Install
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EncapMode::{Always, CrossSubnet, Never};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    struct Case {
        name: &'static str,
        prefix: &'static str,
        next_hop: Option<&'static str>,
        local: bool,
        pool: Option<(EncapMode, EncapMode)>,
        want: Programming,
    }

    #[test]
    fn programming_table() {
        let connected = [net("10.99.0.0/24"), net("fd99::/64")];
        let same = "10.99.0.2";
        let other = "10.98.0.2";
        let d = |s: &str| Programming::Direct { via: ip(s) };
        let t = |s: &str| Programming::IpIp { via: ip(s) };
        #[rustfmt::skip]
        let cases = [
            Case { name: "local block is blackholed whatever the pool", prefix: "10.64.0.0/26", next_hop: None, local: true, pool: Some((Always, Never)), want: Programming::Blackhole },
            Case { name: "local block with a next hop is still blackholed", prefix: "10.64.0.0/26", next_hop: Some(same), local: true, pool: None, want: Programming::Blackhole },
            Case { name: "ipip always, same subnet: tunnel", prefix: "10.64.1.0/26", next_hop: Some(same), local: false, pool: Some((Always, Never)), want: t(same) },
            Case { name: "ipip always, other subnet: tunnel", prefix: "10.64.1.0/26", next_hop: Some(other), local: false, pool: Some((Always, Never)), want: t(other) },
            Case { name: "ipip cross-subnet, same subnet: direct", prefix: "10.64.1.0/26", next_hop: Some(same), local: false, pool: Some((CrossSubnet, Never)), want: d(same) },
            Case { name: "ipip cross-subnet, other subnet: tunnel", prefix: "10.64.1.0/26", next_hop: Some(other), local: false, pool: Some((CrossSubnet, Never)), want: t(other) },
            Case { name: "no encapsulation, same subnet: direct", prefix: "10.64.1.0/26", next_hop: Some(same), local: false, pool: Some((Never, Never)), want: d(same) },
            Case { name: "no encapsulation, other subnet: direct", prefix: "10.64.1.0/26", next_hop: Some(other), local: false, pool: Some((Never, Never)), want: d(other) },
            Case { name: "vxlan always: Felix owns it", prefix: "10.64.1.0/26", next_hop: Some(same), local: false, pool: Some((Never, Always)), want: Programming::VxlanSkip },
            Case { name: "vxlan cross-subnet, same subnet: direct", prefix: "10.64.1.0/26", next_hop: Some(same), local: false, pool: Some((Never, CrossSubnet)), want: d(same) },
            Case { name: "vxlan cross-subnet, other subnet: Felix owns it", prefix: "10.64.1.0/26", next_hop: Some(other), local: false, pool: Some((Never, CrossSubnet)), want: Programming::VxlanSkip },
            Case { name: "outside every pool: direct", prefix: "192.0.2.0/24", next_hop: Some(other), local: false, pool: None, want: d(other) },
            Case { name: "no next hop: nothing", prefix: "10.64.1.0/26", next_hop: None, local: false, pool: Some((Always, Never)), want: Programming::None },
            Case { name: "ipv6 never tunnelled (ipip always)", prefix: "fd00:10:64::/122", next_hop: Some("fd98::2"), local: false, pool: Some((Always, Never)), want: d("fd98::2") },
            Case { name: "ipv6 never tunnelled (ipip cross-subnet)", prefix: "fd00:10:64::/122", next_hop: Some("fd98::2"), local: false, pool: Some((CrossSubnet, Never)), want: d("fd98::2") },
            Case { name: "ipv6 vxlan always: Felix owns it", prefix: "fd00:10:64::/122", next_hop: Some("fd99::2"), local: false, pool: Some((Never, Always)), want: Programming::VxlanSkip },
            Case { name: "ipv6 local block: blackhole", prefix: "fd00:10:64::/122", next_hop: None, local: true, pool: None, want: Programming::Blackhole },
            Case { name: "IPv6 route, IPv4 next hop: nothing", prefix: "fd00:10:64::/122", next_hop: Some(same), local: false, pool: None, want: Programming::None },
            Case { name: "IPv4 route, IPv6 next hop (RFC 8950): direct", prefix: "10.64.1.0/26", next_hop: Some("fd99::2"), local: false, pool: None, want: d("fd99::2") },
            Case { name: "IPv4 route, IPv6 next hop, ipip always: direct, not tunnelled", prefix: "10.64.1.0/26", next_hop: Some("fd99::2"), local: false, pool: Some((Always, Never)), want: d("fd99::2") },
            Case { name: "IPv4 route, IPv6 next hop, vxlan always: Felix owns it", prefix: "10.64.1.0/26", next_hop: Some("fd99::2"), local: false, pool: Some((Never, Always)), want: Programming::VxlanSkip },
        ];
        for c in cases {
            let facts = RouteFacts {
                prefix: net(c.prefix),
                next_hop: c.next_hop.map(ip),
                local_block: c.local,
                pool: c.pool.map(|(ipip, vxlan)| PoolEncap { ipip, vxlan }),
                connected: &connected,
            };
            assert_eq!(program(&facts), c.want, "{}", c.name);
        }
    }

    #[test]
    fn connected_subnet_membership() {
        let connected = [net("10.99.0.0/24")];
        assert!(on_connected_subnet(ip("10.99.0.200"), &connected));
        assert!(!on_connected_subnet(ip("10.99.1.1"), &connected));
        assert!(!on_connected_subnet(ip("fd99::1"), &connected));
    }

    #[test]
    fn a_next_hop_set_is_programmed_as_one() {
        use EncapMode::{Always, CrossSubnet, Never};
        let connected = [net("10.99.0.0/24")];
        let pool = |ipip, vxlan| Some(PoolEncap { ipip, vxlan });
        let (same, other) = (ip("10.99.0.2"), ip("10.98.0.2"));
        let mut out = Vec::new();
        let mut run = |prefix: &str, pool, hops: &[IpAddr]| {
            let verdict = program_set(net(prefix), pool, hops, &connected, &mut out);
            (verdict, out.clone())
        };
        // ECMP across a cross-subnet pool: one hop direct, the other through the tunnel.
        assert_eq!(
            run("10.64.1.0/26", pool(CrossSubnet, Never), &[same, other]),
            (
                SetProgramming::Install,
                vec![
                    Programming::Direct { via: same },
                    Programming::IpIp { via: other }
                ]
            )
        );
        // Duplicates collapse, order is kept.
        assert_eq!(
            run("10.64.1.0/26", None, &[other, same, other]),
            (
                SetProgramming::Install,
                vec![
                    Programming::Direct { via: other },
                    Programming::Direct { via: same }
                ]
            )
        );
        // One hop in VXLAN's cross-subnet mode is enough for Felix to own the whole prefix.
        assert_eq!(
            run("10.64.1.0/26", pool(Never, CrossSubnet), &[same, other]),
            (SetProgramming::Felix, vec![])
        );
        assert_eq!(
            run("10.64.1.0/26", pool(Always, Always), &[same]),
            (SetProgramming::Felix, vec![])
        );
        // Nothing usable: an empty set, or only IPv4 next hops for an IPv6 prefix.
        assert_eq!(
            run("10.64.1.0/26", None, &[]),
            (SetProgramming::Nothing, vec![])
        );
        assert_eq!(
            run("fd00::/64", None, &[same]),
            (SetProgramming::Nothing, vec![])
        );
        // IP-in-IP Always tunnels every IPv4 hop, an IPv6 hop (RFC 8950) goes direct.
        let v6 = ip("fd99::2");
        assert_eq!(
            run("10.64.1.0/26", pool(Always, Never), &[same, v6]),
            (
                SetProgramming::Install,
                vec![
                    Programming::IpIp { via: same },
                    Programming::Direct { via: v6 }
                ]
            )
        );
    }
}
