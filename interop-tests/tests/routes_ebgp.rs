//! eBGP to top-of-rack routers (FRR 8.4) with private ASNs, as Calico's per-rack peering:
//! - two racks in the same AS 65001 (two of our daemons) behind one ToR (AS 65100): each rack's
//!   block reaches the other only because `allow_own_as = 1` lets the AS path carry 65001 (a
//!   third rack without it gets the ToR's prefix but not the racks' blocks);
//! - ECMP: two ToRs announce the same prefix, both next hops are selected in our Loc-RIB;
//!   one ToR goes down and its next hop leaves, the other's stays;
//! - a BGPFilter rejects one of our blocks towards the ToR (checked in FRR's table) and one of
//!   the ToR's prefixes on import (checked in ours).

mod routes_common;

use std::time::Duration;

use interop_tests::{require_root, Fabric, Frr};
use routes_common as rc;

const RACK_AS: u32 = 65001;
const TOR_AS: u32 = 65100;

#[test]
fn racks_in_one_as_exchange_blocks_through_an_frr_tor_with_allow_own_as() {
    if !require_root("racks_in_one_as_exchange_blocks_through_an_frr_tor_with_allow_own_as") {
        return;
    }
    let fabric = Fabric::new(&format!("re-{}", std::process::id()), 4).expect("fabric");
    let tor = Frr::start(
        &fabric.node(2).ns,
        &rc::frr_conf(
            TOR_AS,
            "10.99.0.2",
            &[
                ("10.99.0.1", RACK_AS, ""),
                ("10.99.0.3", RACK_AS, ""),
                ("10.99.0.4", RACK_AS, ""),
            ],
            &["10.90.0.0/24"],
        ),
    )
    .expect("frr starts");
    let rack_with = |i: u8, block: &str, allow: &str| {
        let addr = format!("10.99.0.{i}");
        let config = rc::ours(&addr, RACK_AS, &[&addr], &[("10.99.0.2", TOR_AS, allow)]);
        let top =
            format!("local_blocks = [\"{block}\"]\nip_pools = [{{ cidr = \"10.64.0.0/16\" }}]\n");
        rc::start_ours(&fabric.node(i).ns, &config, &top)
    };
    let rack = |i: u8, block: &str| rack_with(i, block, "allow_own_as = 1\n");
    let r1 = rack(1, "10.64.1.0/26");
    let r3 = rack(3, "10.64.3.0/26");
    let state = || {
        format!(
            "rack1:\n{}\nrack3:\n{}\ntor:\n{}",
            r1.show(false, "show route").unwrap_or_default(),
            r3.show(false, "show route").unwrap_or_default(),
            tor.vtysh("show bgp ipv4 unicast").unwrap_or_default()
        )
    };
    rc::converge(
        "each rack has the other's block",
        || rc::ours_has(&r1, "10.64.3.0/26") && rc::ours_has(&r3, "10.64.1.0/26"),
        state,
    );
    // The ToR learned rack 1's block with AS path 65001, next hop rack 1.
    let f = rc::frr_route(&tor, "10.64.1.0/26").expect("route at the ToR");
    let p = &f["paths"][0];
    assert_eq!(p["aspath"]["string"].as_str(), Some("65001"), "{f}");
    assert_eq!(p["nexthops"][0]["ip"].as_str(), Some("10.99.0.1"), "{f}");
    // Rack 1 learned rack 3's block from the ToR, originated in its own AS; the ToR kept
    // rack 3 as next hop (all three share a subnet: RFC 4271 §5.1.3 third-party next hop).
    let l = rc::our_lines(&r1, "10.64.3.0/26").join("\n");
    assert!(l.contains("via 10.99.0.3"), "{l}");
    assert!(l.contains("from 10.99.0.2"), "{l}");
    assert!(l.contains("[AS65001i]"), "{l}");

    // A third rack without allow_own_as: the ToR's own prefix arrives in the same initial
    // table as the other racks' blocks, which AS_PATH loop detection drops (RFC 4271 §9.1.2).
    let r4 = rack_with(4, "10.64.4.0/26", "");
    rc::converge(
        "rack 4 has the ToR's prefix",
        || rc::ours_has(&r4, "10.90.0.0/24"),
        || r4.show(false, "show route").unwrap_or_default(),
    );
    let r4_routes = rc::our_routes(&r4, false);
    assert!(
        !r4_routes
            .iter()
            .any(|(p, _)| p == "10.64.1.0/26" || p == "10.64.3.0/26"),
        "{r4_routes:?}"
    );
}

#[test]
fn two_tors_announcing_one_prefix_give_two_next_hops_and_a_lost_tor_leaves_one() {
    if !require_root("two_tors_announcing_one_prefix_give_two_next_hops_and_a_lost_tor_leaves_one")
    {
        return;
    }
    let fabric = Fabric::new(&format!("rx-{}", std::process::id()), 3).expect("fabric");
    let config = rc::ours(
        "10.99.0.1",
        RACK_AS,
        &["10.99.0.1"],
        &[("10.99.0.2", TOR_AS, ""), ("10.99.0.3", TOR_AS, "")],
    );
    let ours = rc::start_ours(
        &fabric.node(1).ns,
        &config,
        "local_blocks = [\"10.64.1.0/26\"]\nbgp = { max_paths = 4 }\n",
    );
    let tor = |i: u8| {
        Frr::start(
            &fabric.node(i).ns,
            &rc::frr_conf(
                TOR_AS,
                &format!("10.99.0.{i}"),
                &[("10.99.0.1", RACK_AS, "")],
                &["10.70.0.0/24"],
            ),
        )
        .expect("frr starts")
    };
    let t2 = tor(2);
    let mut t3 = Some(tor(3));
    let lines = || rc::our_lines(&ours, "10.70.0.0/24");
    rc::converge(
        "both ToRs' next hops selected",
        || {
            let l = lines();
            l.len() == 2
                && l.iter().any(|x| x.contains("via 10.99.0.2"))
                && l.iter().any(|x| x.contains("via 10.99.0.3"))
        },
        || format!("{:?}", lines()),
    );
    println!("ECMP set: {:?}", lines());
    // Both ToRs have our block.
    assert!(rc::frr_route(&t2, "10.64.1.0/26").is_some());
    assert!(rc::frr_route(t3.as_ref().expect("tor 3"), "10.64.1.0/26").is_some());
    // ToR 3 goes away: its next hop leaves (hold timer 9 s at most), ToR 2's stays.
    t3.take();
    rc::converge_within(
        "ToR 3's next hop withdrawn",
        Duration::from_secs(20),
        || {
            let l = lines();
            l.len() == 1 && l[0].contains("via 10.99.0.2")
        },
        || format!("{:?}", lines()),
    );
}

#[test]
fn a_filter_keeps_a_block_from_the_tor_and_a_tor_prefix_from_us() {
    if !require_root("a_filter_keeps_a_block_from_the_tor_and_a_tor_prefix_from_us") {
        return;
    }
    let fabric = Fabric::new(&format!("rf-{}", std::process::id()), 2).expect("fabric");
    let config = rc::ours(
        "10.99.0.1",
        RACK_AS,
        &["10.99.0.1"],
        &[("10.99.0.2", TOR_AS, "filters = [\"tor\"]\n")],
    );
    let top = "local_blocks = [\"10.64.1.0/26\", \"10.64.9.0/26\"]\n\
               ip_pools = [{ cidr = \"10.64.0.0/16\" }]\n\
               filters = [{ name = \"tor\", \
               export_v4 = [{ cidr = \"10.64.9.0/24\", match_operator = \"In\", action = \"Reject\" }], \
               import_v4 = [{ cidr = \"10.81.0.0/16\", match_operator = \"In\", action = \"Reject\" }] }]\n";
    let ours = rc::start_ours(&fabric.node(1).ns, &config, top);
    let tor = Frr::start(
        &fabric.node(2).ns,
        &rc::frr_conf(
            TOR_AS,
            "10.99.0.2",
            &[("10.99.0.1", RACK_AS, "")],
            &["10.80.0.0/24", "10.81.0.0/24"],
        ),
    )
    .expect("frr starts");
    let state = || {
        format!(
            "ours:\n{}\ntor:\n{}",
            ours.show(false, "show route").unwrap_or_default(),
            tor.vtysh("show bgp ipv4 unicast").unwrap_or_default()
        )
    };
    // Both prefixes of each side travel in one initial table: once one has arrived, the
    // other would have too.
    rc::converge(
        "the unfiltered routes arrived",
        || rc::frr_route(&tor, "10.64.1.0/26").is_some() && rc::ours_has(&ours, "10.80.0.0/24"),
        state,
    );
    // FRR records End-of-RIB from us after the table: the filtered block is not coming.
    assert!(rc::frr_route(&tor, "10.64.9.0/26").is_none(), "{}", state());
    assert!(!rc::ours_has(&ours, "10.81.0.0/24"), "{}", state());

    // FRR asks for our routes again (enhanced route refresh, RFC 7313): our answer between
    // BoRR and EoRR refreshes the block, so FRR keeps it and still lacks the filtered one.
    let stats = || {
        tor.vtysh_json("show bgp neighbors 10.99.0.1 json")
            .ok()
            .map(|v| v["10.99.0.1"]["messageStats"].clone())
            .unwrap_or_default()
    };
    let before = stats()["updatesRecv"].as_u64().unwrap_or(0);
    tor.vtysh("clear bgp ipv4 unicast 10.99.0.1 soft in")
        .expect("soft in");
    rc::converge(
        "our refresh answer at the ToR",
        || stats()["updatesRecv"].as_u64().unwrap_or(0) > before,
        || format!("{}\n{}", stats(), state()),
    );
    rc::converge(
        "the block still at the ToR after EoRR",
        || {
            tor.vtysh("show bgp ipv4 unicast 10.64.1.0/26")
                .is_ok_and(|t| !t.contains("stale") && t.contains("10.99.0.1"))
        },
        state,
    );
    assert!(rc::frr_route(&tor, "10.64.9.0/26").is_none(), "{}", state());
}

#[test]
fn one_ipv4_session_carries_our_ipv6_block_with_a_global_ipv6_next_hop() {
    if !require_root("one_ipv4_session_carries_our_ipv6_block_with_a_global_ipv6_next_hop") {
        return;
    }
    let fabric = Fabric::new(&format!("r46-{}", std::process::id()), 2).expect("fabric");
    let config = rc::ours(
        "10.99.0.1",
        RACK_AS,
        &["10.99.0.1"],
        &[("10.99.0.2", TOR_AS, "families = [\"ipv4\", \"ipv6\"]\n")],
    );
    let ours = rc::start_ours(
        &fabric.node(1).ns,
        &config,
        "local_blocks = [\"10.64.1.0/26\", \"fd64:0:1::/122\"]\n",
    );
    let frr_conf = rc::frr_conf(TOR_AS, "10.99.0.2", &[("10.99.0.1", RACK_AS, "")], &[])
        + " address-family ipv6 unicast\n  neighbor 10.99.0.1 activate\n  \
           network fd70::/64\n exit-address-family\n";
    let tor = Frr::start(&fabric.node(2).ns, &frr_conf).expect("frr starts");
    let state = || {
        format!(
            "ours v6:\n{}\ntor:\n{}",
            ours.show(true, "show route").unwrap_or_default(),
            tor.vtysh("show bgp ipv6 unicast").unwrap_or_default()
        )
    };
    rc::converge(
        "IPv6 routes both ways over the IPv4 session",
        || {
            rc::frr_route(&tor, "fd64:0:1::/122").is_some()
                && rc::frr_route(&tor, "10.64.1.0/26").is_some()
                && rc::ours_has(&ours, "fd70::/64")
        },
        state,
    );
    let f = rc::frr_route(&tor, "fd64:0:1::/122").expect("route");
    let nh = f["paths"][0]["nexthops"][0]["ip"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(nh, "fd99::1", "our eth0's global address: {f}");
}
