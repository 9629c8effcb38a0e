//! Next hops a directly connected eBGP peer (FRR 8.4, AS 65002) gives us, set with an outbound
//! route-map (`set ip next-hop`): our own address and an off-link address are treat-as-withdraw
//! with a log line naming the next hop (RFC 4271 §5.1.3, §6.3, as BIRD's direct gateway mode),
//! a third-party next hop on the shared subnet and FRR's own address are accepted.

mod routes_common;

use interop_tests::bgpd::Bgpd;
use interop_tests::{require_root, Fabric, Frr};
use routes_common as rc;

const FRR_AS: u32 = 65002;

/// The route-map FRR applies towards us: one next hop per test prefix.
const ROUTE_MAP: &str = "\
ip prefix-list OWN seq 5 permit 10.77.1.0/24
ip prefix-list OFF seq 5 permit 10.77.2.0/24
ip prefix-list THIRD seq 5 permit 10.77.3.0/24
route-map NH permit 10
 match ip address prefix-list OWN
 set ip next-hop 10.99.0.1
route-map NH permit 20
 match ip address prefix-list OFF
 set ip next-hop 10.55.0.1
route-map NH permit 30
 match ip address prefix-list THIRD
 set ip next-hop 10.99.0.7
route-map NH permit 40
";

#[test]
fn own_and_off_link_next_hops_from_a_direct_ebgp_peer_are_withdrawn_with_a_log_line() {
    if !require_root(
        "own_and_off_link_next_hops_from_a_direct_ebgp_peer_are_withdrawn_with_a_log_line",
    ) {
        return;
    }
    let fabric = Fabric::new(&format!("nh-{}", std::process::id()), 2).expect("fabric");
    let conf = rc::frr_conf(
        FRR_AS,
        "10.99.0.2",
        &[("10.99.0.1", 65001, "route-map NH out")],
        &[
            "10.77.1.0/24",
            "10.77.2.0/24",
            "10.77.3.0/24",
            "10.77.4.0/24",
        ],
    ) + ROUTE_MAP;
    let frr = Frr::start(&fabric.node(2).ns, &conf).expect("frr starts");
    let config = rc::ours(
        "10.99.0.1",
        65001,
        &["10.99.0.1"],
        &[("10.99.0.2", FRR_AS, "")],
    );
    let ours = rc::start_ours(&fabric.node(1).ns, &config, "");
    let state = || {
        format!(
            "ours:\n{}\nfrr:\n{}",
            ours.show(false, "show route").unwrap_or_default(),
            frr.vtysh("show bgp ipv4 unicast neighbors 10.99.0.1 advertised-routes")
                .unwrap_or_default()
        )
    };
    rc::converge(
        "the accepted routes arrive",
        || rc::ours_has(&ours, "10.77.3.0/24") && rc::ours_has(&ours, "10.77.4.0/24"),
        state,
    );
    let third = rc::our_lines(&ours, "10.77.3.0/24").join("\n");
    assert!(third.contains("via 10.99.0.7"), "{third}");
    let direct = rc::our_lines(&ours, "10.77.4.0/24").join("\n");
    assert!(direct.contains("via 10.99.0.2"), "{direct}");
    // FRR sent all four (so the two missing ones were ours to refuse).
    let adv = frr
        .vtysh("show bgp ipv4 unicast neighbors 10.99.0.1 advertised-routes")
        .unwrap_or_default();
    assert!(
        adv.contains("10.77.1.0/24") && adv.contains("10.77.2.0/24"),
        "{adv}"
    );
    assert!(!rc::ours_has(&ours, "10.77.1.0/24"), "{}", state());
    assert!(!rc::ours_has(&ours, "10.77.2.0/24"), "{}", state());
    let taw = ours.events("treat_as_withdraw", Some("10.99.0.2"));
    let find = |prefix: &str| {
        taw.iter()
            .find(|e| e["fields"]["prefixes"].as_str() == Some(prefix))
            .unwrap_or_else(|| panic!("no treat_as_withdraw for {prefix}: {taw:?}"))
            .clone()
    };
    let own = find("10.77.1.0/24");
    assert_eq!(own["fields"]["attr"], "NEXT_HOP", "{own}");
    assert_eq!(
        own["fields"]["reason"],
        "NEXT_HOP: next hop 10.99.0.1 is our own address (treat-as-withdraw)",
        "{own}"
    );
    assert_eq!(own["fields"]["withdrawn_count"], 1, "{own}");
    let off = find("10.77.2.0/24");
    assert!(
        off["fields"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("next hop 10.55.0.1 is not on a directly connected subnet")),
        "{off}"
    );
}

/// RFC 8950 over an IPv6 session, kernel writes on both sides: FRR announces an IPv4 prefix
/// with its IPv6 address as next hop; with `extended_next_hop = true` on both sides we accept it
/// and install it `via inet6 fd99::2 dev eth0`; without the capability on our side the same
/// UPDATE would be treat-as-withdraw (unit tests), and FRR does not even send it. The other way,
/// our IPv4 block goes out with our IPv6 address as next hop (no IPv4 next hop of ours on an
/// IPv6 session with the capability, as BIRD 2) and FRR's zebra installs it `via inet6 fd99::1`.
#[test]
fn ipv4_route_with_ipv6_next_hop_is_accepted_with_extended_next_hop() {
    if !require_root("ipv4_route_with_ipv6_next_hop_is_accepted_with_extended_next_hop") {
        return;
    }
    let fabric = Fabric::new(&format!("enh-{}", std::process::id()), 2).expect("fabric");
    let conf = format!(
        "hostname frr\nlog stdout informational\nrouter bgp {FRR_AS}\n bgp router-id 10.99.0.2\n \
         no bgp ebgp-requires-policy\n no bgp network import-check\n \
         neighbor fd99::1 remote-as 65001\n neighbor fd99::1 timers 3 9\n \
         neighbor fd99::1 timers connect 2\n neighbor fd99::1 capability extended-nexthop\n \
         address-family ipv4 unicast\n  network 10.78.1.0/24\n  neighbor fd99::1 activate\n \
         exit-address-family\n"
    );
    let frr = Frr::start_with_fib(&fabric.node(2).ns, &conf).expect("frr starts");
    let config = rc::ours(
        "10.99.0.1",
        65001,
        &["fd99::1"],
        &[(
            "fd99::2",
            FRR_AS,
            "families = [\"ipv4\", \"ipv6\"]\nextended_next_hop = true\n",
        )],
    );
    let ours = Bgpd::start_with_kernel(
        &fabric.node(1).ns,
        &config,
        "local_blocks = [\"10.64.1.0/26\"]\n",
    )
    .expect("our bgpd starts");
    let kernel = |node: u8, prefix: &str| {
        fabric
            .node(node)
            .ns
            .ip(&["-4", "route", "show", prefix])
            .unwrap_or_default()
            .trim()
            .to_owned()
    };
    let state = || {
        format!(
            "ours:\n{}\nour kernel: {}\nfrr:\n{}\nfrr's bgp table: {:?}\nfrr's kernel: {}\nlog:\n{:?}",
            ours.show(false, "show route all").unwrap_or_default(),
            kernel(1, "10.78.1.0/24"),
            frr.vtysh("show bgp neighbors fd99::1").unwrap_or_default(),
            rc::frr_route(&frr, "10.64.1.0/26"),
            kernel(2, "10.64.1.0/26"),
            ours.events("treat_as_withdraw", None)
        )
    };
    rc::converge(
        "the IPv4 route over IPv6 arrives and is installed",
        || rc::ours_has(&ours, "10.78.1.0/24") && !kernel(1, "10.78.1.0/24").is_empty(),
        state,
    );
    let l = rc::our_lines(&ours, "10.78.1.0/24").join("\n");
    assert!(l.contains("via fd99::2"), "{l}");
    assert_eq!(
        kernel(1, "10.78.1.0/24"),
        "10.78.1.0/24 via inet6 fd99::2 dev eth0 proto bird metric 1024",
        "{}",
        state()
    );
    assert!(
        ours.events("treat_as_withdraw", None).is_empty(),
        "{}",
        state()
    );

    // The other way: our block, with our IPv6 address as next hop, in FRR's kernel.
    rc::converge(
        "our IPv4 block reaches FRR's kernel via inet6",
        || kernel(2, "10.64.1.0/26").contains("via inet6 fd99::1"),
        state,
    );
    let route = rc::frr_route(&frr, "10.64.1.0/26").expect("in FRR's BGP table");
    let hops = route["paths"][0]["nexthops"].to_string();
    assert!(hops.contains("fd99::1"), "{hops}");
    assert!(
        !hops.contains("10.99.0.1"),
        "an IPv4 next hop was sent: {hops}"
    );
    let frr_kernel = kernel(2, "10.64.1.0/26");
    assert!(
        frr_kernel.contains("via inet6 fd99::1 dev eth0 proto bgp"),
        "{}",
        state()
    );
}
