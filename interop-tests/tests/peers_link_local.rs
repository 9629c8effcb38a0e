//! IPv6 link-local peering with FRR 8.4 (zebra installing into its kernel), kernel writes on
//! our side too. Our node has two links, `eth1` and `eth2`, with nothing but link-local
//! addresses (`fe80::1` on both); behind each is an FRR (AS 65002 and 65003) at the SAME address
//! `fe80::2`. Our neighbors are `fe80::2%eth1` and `fe80::2` + `interface = "eth2"`: both
//! sessions come up (connect with the scope of each link, accepted connections matched by link),
//! each FRR's IPv6 and IPv4 (RFC 8950) routes are in our kernel `via fe80::2 dev ethN`, and our
//! blocks reach FRR's kernel via our link-local address (`via inet6 fe80::1` for IPv4).
//! Both FRRs name us with `neighbor fe80::1 interface eth1` (FRR's unnumbered form, `neighbor
//! eth1 interface`, waits for a router advertisement to learn the peer's address, and we send
//! none: not covered here). A second test does the same with BIRD 2.0.12 (`neighbor fe80::1 %
//! 'eth1'`, kernel protocol on).

mod routes_common;

use interop_tests::bgpd::{Bgpd, BgpdConfig, BgpdNeighbor};
use interop_tests::{require_root, Frr, Netns};
use routes_common as rc;

/// A veth pair `ours_if` (in `ours`) — `eth1` (in `peer`), with only the fixed link-local
/// addresses `fe80::1` (ours) and `fe80::2` (the peer): no address is generated from the MAC
/// and DAD is off, so both are usable at once.
fn link(ours: &Netns, ours_if: &str, peer: &Netns) {
    let tmp = format!("ll{}{}", std::process::id() % 100_000, ours_if);
    ours.ip(&[
        "link",
        "add",
        &tmp,
        "type",
        "veth",
        "peer",
        "name",
        "eth1",
        "netns",
        peer.name(),
    ])
    .expect("veth");
    ours.ip(&["link", "set", &tmp, "name", ours_if])
        .expect("rename");
    for (ns, ifname, addr) in [(ours, ours_if, "fe80::1/64"), (peer, "eth1", "fe80::2/64")] {
        ns.exec(&[
            "sysctl",
            "-qw",
            &format!("net.ipv6.conf.{ifname}.accept_dad=0"),
        ])
        .expect("no DAD");
        ns.ip(&["link", "set", ifname, "addrgenmode", "none"])
            .expect("no generated link-local");
        ns.ip(&["-6", "addr", "add", addr, "dev", ifname, "nodad"])
            .expect("link-local address");
        ns.ip(&["link", "set", ifname, "up"]).expect("up");
    }
}

fn frr_conf(asn: u32, router_id: &str, neighbor: &str, nets: &[&str]) -> String {
    let (v4, v6): (Vec<&str>, Vec<&str>) = nets.iter().partition(|n| !n.contains(':'));
    let net = |v: &[&str]| {
        v.iter()
            .map(|n| format!("  network {n}\n"))
            .collect::<String>()
    };
    format!(
        "hostname frr\nlog stdout informational\nrouter bgp {asn}\n bgp router-id {router_id}\n \
         no bgp ebgp-requires-policy\n no bgp network import-check\n {neighbor}\n \
         neighbor PEER timers 3 9\n neighbor PEER timers connect 2\n \
         neighbor PEER capability extended-nexthop\n \
         address-family ipv4 unicast\n{}  neighbor PEER activate\n exit-address-family\n \
         address-family ipv6 unicast\n{}  neighbor PEER activate\n exit-address-family\n",
        net(&v4),
        net(&v6)
    )
}

#[test]
fn link_local_sessions_with_frr_on_two_links_at_one_address_carry_routes_both_ways() {
    if !require_root(
        "link_local_sessions_with_frr_on_two_links_at_one_address_carry_routes_both_ways",
    ) {
        return;
    }
    let ours_ns = Netns::new("ll-ours").expect("namespace");
    let frr1_ns = Netns::new("ll-frr1").expect("namespace");
    let frr2_ns = Netns::new("ll-frr2").expect("namespace");
    link(&ours_ns, "eth1", &frr1_ns);
    link(&ours_ns, "eth2", &frr2_ns);

    let frr1 = Frr::start_with_fib(
        &frr1_ns,
        &frr_conf(
            65002,
            "10.99.0.2",
            "neighbor PEER peer-group\n neighbor PEER remote-as 65001\n \
             neighbor fe80::1 peer-group PEER\n neighbor fe80::1 interface eth1",
            &["10.78.1.0/24", "fd00:78:1::/64"],
        ),
    )
    .expect("frr 1 starts");
    let frr2 = Frr::start_with_fib(
        &frr2_ns,
        &frr_conf(
            65003,
            "10.99.0.3",
            "neighbor PEER peer-group\n neighbor PEER remote-as 65001\n \
             neighbor fe80::1 peer-group PEER\n neighbor fe80::1 interface eth1",
            &["10.78.2.0/24", "fd00:78:2::/64"],
        ),
    )
    .expect("frr 2 starts");

    let extra = "families = [\"ipv4\", \"ipv6\"]\nextended_next_hop = true\n";
    let mut n1 = BgpdNeighbor::new("Node_fe80__2_eth1", "fe80::2%eth1", 65002);
    n1.extra = extra.to_string();
    let mut n2 = BgpdNeighbor::new("Node_fe80__2_eth2", "fe80::2", 65003);
    n2.extra = format!("interface = \"eth2\"\n{extra}");
    let config = BgpdConfig {
        router_id: "10.99.0.1".into(),
        local_as: 65001,
        listen: vec!["::".into()],
        neighbors: vec![n1, n2],
    };
    let ours = Bgpd::start_with_kernel(
        &ours_ns,
        &config,
        "local_blocks = [\"10.64.1.0/26\", \"fd00:64:1::/122\"]\n",
    )
    .expect("our bgpd starts");

    let route = |ns: &Netns, prefix: &str| {
        let fam = if prefix.contains(':') { "-6" } else { "-4" };
        ns.ip(&[fam, "route", "show", prefix])
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let state = || {
        format!(
            "ours:\n{}\n{}\nour kernel:\n{}\n{}\nfrr 1:\n{}\nfrr 2:\n{}\nfrr 1 kernel: {} / {}\n\
             frr 2 kernel: {} / {}",
            ours.show(true, "show protocols all").unwrap_or_default(),
            ours.show(true, "show route all").unwrap_or_default(),
            ours_ns.ip(&["-6", "route"]).unwrap_or_default(),
            ours_ns.ip(&["-4", "route"]).unwrap_or_default(),
            frr1.vtysh("show bgp summary").unwrap_or_default(),
            frr2.vtysh("show bgp summary").unwrap_or_default(),
            route(&frr1_ns, "10.64.1.0/26"),
            route(&frr1_ns, "fd00:64:1::/122"),
            route(&frr2_ns, "10.64.1.0/26"),
            route(&frr2_ns, "fd00:64:1::/122"),
        )
    };

    // FRR's routes in our kernel, each on the link its session runs over.
    for (prefix, want) in [
        (
            "fd00:78:1::/64",
            "fd00:78:1::/64 via fe80::2 dev eth1 proto bird metric 1024",
        ),
        (
            "10.78.1.0/24",
            "10.78.1.0/24 via inet6 fe80::2 dev eth1 proto bird metric 1024",
        ),
        (
            "fd00:78:2::/64",
            "fd00:78:2::/64 via fe80::2 dev eth2 proto bird metric 1024",
        ),
        (
            "10.78.2.0/24",
            "10.78.2.0/24 via inet6 fe80::2 dev eth2 proto bird metric 1024",
        ),
    ] {
        rc::converge(
            &format!("{prefix} in our kernel"),
            || !route(&ours_ns, prefix).is_empty(),
            state,
        );
        assert!(
            route(&ours_ns, prefix).starts_with(want),
            "{prefix}: {}\n{}",
            route(&ours_ns, prefix),
            state()
        );
    }

    // Our blocks in each FRR's kernel via our link-local address.
    for (ns, frr) in [(&frr1_ns, &frr1), (&frr2_ns, &frr2)] {
        rc::converge(
            "our blocks in FRR's kernel",
            || {
                route(ns, "fd00:64:1::/122").contains("via fe80::1 dev eth1 proto bgp")
                    && route(ns, "10.64.1.0/26").contains("via inet6 fe80::1 dev eth1 proto bgp")
            },
            state,
        );
        let v6 = rc::frr_route(frr, "fd00:64:1::/122").expect("in FRR's BGP table");
        let hops = v6["paths"][0]["nexthops"].to_string();
        assert!(hops.contains("fe80::1"), "{hops}");
    }

    // `show route`: the link-local next hop on the link of its session, not the first link
    // with fe80::/64.
    let lines = rc::our_lines(&ours, "fd00:78:2::/64").join("\n");
    assert!(lines.contains("on eth2"), "{lines}");
    // As BIRD: the neighbor address with its interface.
    let detail = ours
        .show(true, "show protocols all Node_fe80__2_eth2")
        .unwrap_or_default();
    assert!(
        detail.contains("Neighbor address: fe80::2%eth2"),
        "{detail}"
    );
}

/// BIRD 2.0.12 over a link-local session (`neighbor fe80::1%eth1`, IPv4 with `extended next hop
/// on`), its kernel protocol on: its routes in our kernel via its link-local address on the link,
/// ours in its kernel via ours.
#[test]
fn link_local_session_with_bird2_carries_routes_both_ways() {
    if !require_root("link_local_session_with_bird2_carries_routes_both_ways") {
        return;
    }
    let ours_ns = Netns::new("ll-ours").expect("namespace");
    let bird_ns = Netns::new("ll-bird").expect("namespace");
    link(&ours_ns, "eth1", &bird_ns);
    let bird = interop_tests::Bird::start(
        &bird_ns,
        "router id 10.99.0.2;
protocol device {}
protocol kernel { ipv6 { export all; }; }
protocol kernel { ipv4 { export all; }; }
protocol static { ipv6; route fd00:79:1::/64 blackhole; }
protocol static { ipv4; route 10.79.1.0/24 blackhole; }
protocol bgp ours {
  local as 65002;
  neighbor fe80::1 % 'eth1' as 65001;
  hold time 9; connect retry time 2;
  ipv6 { import all; export all; };
  ipv4 { import all; export all; extended next hop on; };
}
",
    )
    .expect("bird starts");
    let mut n = BgpdNeighbor::new("Node_fe80__2", "fe80::2", 65002);
    n.extra = "interface = \"eth1\"\nfamilies = [\"ipv4\", \"ipv6\"]\nextended_next_hop = true\n"
        .to_string();
    let config = BgpdConfig {
        router_id: "10.99.0.1".into(),
        local_as: 65001,
        listen: vec!["::".into()],
        neighbors: vec![n],
    };
    let ours = Bgpd::start_with_kernel(
        &ours_ns,
        &config,
        "local_blocks = [\"10.64.1.0/26\", \"fd00:64:1::/122\"]\n",
    )
    .expect("our bgpd starts");
    let route = |ns: &Netns, prefix: &str| {
        let fam = if prefix.contains(':') { "-6" } else { "-4" };
        ns.ip(&[fam, "route", "show", prefix])
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let state = || {
        format!(
            "ours:\n{}\n{}\nbird:\n{}\n{}",
            ours.show(true, "show protocols all").unwrap_or_default(),
            ours.show(true, "show route all").unwrap_or_default(),
            bird.birdc("show protocols all ours").unwrap_or_default(),
            bird.birdc("show route all").unwrap_or_default(),
        )
    };
    for (ns, prefix, want) in [
        (
            &ours_ns,
            "fd00:79:1::/64",
            "via fe80::2 dev eth1 proto bird",
        ),
        (
            &ours_ns,
            "10.79.1.0/24",
            "via inet6 fe80::2 dev eth1 proto bird",
        ),
        (
            &bird_ns,
            "fd00:64:1::/122",
            "via fe80::1 dev eth1 proto bird",
        ),
        (
            &bird_ns,
            "10.64.1.0/26",
            "via inet6 fe80::1 dev eth1 proto bird",
        ),
    ] {
        rc::converge(
            &format!("{prefix} in the kernel"),
            || route(ns, prefix).contains(want),
            state,
        );
    }
}
