//! Route reflection (RFC 4456) through our daemon, AS 64512:
//! - ours as the reflector (cluster id 10.99.0.1) for an FRR 8.4 client and a BIRD 2.0.12
//!   client: each client's block reaches the other with ORIGINATOR_ID (the originating client)
//!   and CLUSTER_LIST (our cluster id), next hop unchanged;
//! - ours as a client of an FRR reflector, next to a BIRD client: BIRD's block reaches us
//!   through FRR, ours reaches BIRD;
//! - split horizon inside an update group: two FRR clients of ours (one group) and a BIRD
//!   client; what each FRR client received from us (`soft-reconfiguration inbound`, before its
//!   ORIGINATOR_ID check) holds the other clients' blocks and none of its own, also for a
//!   block announced once everything is up.

mod routes_common;

use interop_tests::{require_root, Bird, Fabric, Frr};
use routes_common as rc;

const AS: u32 = 64512;

#[test]
fn we_reflect_between_frr_and_bird_clients_with_originator_and_cluster_list() {
    if !require_root("we_reflect_between_frr_and_bird_clients_with_originator_and_cluster_list") {
        return;
    }
    let fabric = Fabric::new(&format!("rr-{}", std::process::id()), 3).expect("fabric");
    let config = rc::ours(
        "10.99.0.1",
        AS,
        &["10.99.0.1"],
        &[
            ("10.99.0.2", AS, "route_reflector_client = true\n"),
            ("10.99.0.3", AS, "route_reflector_client = true\n"),
        ],
    );
    let top = "cluster_id = \"10.99.0.1\"\nlocal_blocks = [\"10.64.1.0/26\"]\n\
               ip_pools = [{ cidr = \"10.64.0.0/16\" }]\n";
    let ours = rc::start_ours(&fabric.node(1).ns, &config, top);
    let frr = Frr::start(
        &fabric.node(2).ns,
        &rc::frr_conf(AS, "10.99.0.2", &[("10.99.0.1", AS, "")], &["10.64.2.0/26"]),
    )
    .expect("frr starts");
    let bird = Bird::start(
        &fabric.node(3).ns,
        &rc::bird_conf(
            "10.99.0.3",
            &["10.64.3.0/26"],
            &[("up", "10.99.0.3", AS, "10.99.0.1", AS)],
        ),
    )
    .expect("bird starts");
    let state = || {
        format!(
            "ours:\n{}\nbird:\n{}\nfrr:\n{}",
            ours.show(false, "show route").unwrap_or_default(),
            bird.birdc("show route all").unwrap_or_default(),
            frr.vtysh("show bgp ipv4 unicast").unwrap_or_default()
        )
    };
    rc::converge(
        "each client has the other's block and ours",
        || {
            rc::bird_has(&bird, "10.64.2.0/26")
                && rc::bird_has(&bird, "10.64.1.0/26")
                && rc::frr_route(&frr, "10.64.3.0/26").is_some()
                && rc::frr_route(&frr, "10.64.1.0/26").is_some()
        },
        state,
    );
    // At BIRD: FRR's block, reflected by us.
    let b = rc::bird_route(&bird, "10.64.2.0/26");
    assert!(b.contains("via 10.99.0.2"), "next hop unchanged: {b}");
    assert!(b.contains("BGP.originator_id: 10.99.0.2"), "{b}");
    assert!(b.contains("BGP.cluster_list: 10.99.0.1"), "{b}");
    // At FRR: BIRD's block, reflected by us.
    let f = rc::frr_route(&frr, "10.64.3.0/26").expect("route");
    let p = &f["paths"][0];
    assert_eq!(p["originatorId"].as_str(), Some("10.99.0.3"), "{f}");
    let cl = p["clusterList"].to_string();
    assert!(cl.contains("10.99.0.1"), "{f}");
    let nh = p["nexthops"][0]["ip"].as_str().unwrap_or_default();
    assert_eq!(nh, "10.99.0.3", "{f}");
    // Our own block has neither (we originate it).
    let o = rc::frr_route(&frr, "10.64.1.0/26").expect("route");
    assert!(o["paths"][0].get("originatorId").is_none(), "{o}");
    println!("{}", state());
}

#[test]
fn we_are_a_client_of_an_frr_reflector_next_to_a_bird_client() {
    if !require_root("we_are_a_client_of_an_frr_reflector_next_to_a_bird_client") {
        return;
    }
    let fabric = Fabric::new(&format!("rc-{}", std::process::id()), 3).expect("fabric");
    let config = rc::ours("10.99.0.1", AS, &["10.99.0.1"], &[("10.99.0.2", AS, "")]);
    let top = "local_blocks = [\"10.64.1.0/26\"]\nip_pools = [{ cidr = \"10.64.0.0/16\" }]\n";
    let ours = rc::start_ours(&fabric.node(1).ns, &config, top);
    let frr = Frr::start(
        &fabric.node(2).ns,
        &rc::frr_conf(
            AS,
            "10.99.0.2",
            &[
                ("10.99.0.1", AS, "route-reflector-client"),
                ("10.99.0.3", AS, "route-reflector-client"),
            ],
            &[],
        ),
    )
    .expect("frr starts");
    let bird = Bird::start(
        &fabric.node(3).ns,
        &rc::bird_conf(
            "10.99.0.3",
            &["10.64.3.0/26"],
            &[("up", "10.99.0.3", AS, "10.99.0.2", AS)],
        ),
    )
    .expect("bird starts");
    let state = || {
        format!(
            "ours:\n{}\nbird:\n{}\nfrr:\n{}",
            ours.show(false, "show route").unwrap_or_default(),
            bird.birdc("show route all").unwrap_or_default(),
            frr.vtysh("show bgp ipv4 unicast").unwrap_or_default()
        )
    };
    rc::converge(
        "blocks reflected by FRR between us and BIRD",
        || rc::ours_has(&ours, "10.64.3.0/26") && rc::bird_has(&bird, "10.64.1.0/26"),
        state,
    );
    let ours_line = rc::our_lines(&ours, "10.64.3.0/26").join("\n");
    assert!(ours_line.contains("via 10.99.0.3"), "{ours_line}");
    let b = rc::bird_route(&bird, "10.64.1.0/26");
    assert!(b.contains("BGP.originator_id: 10.99.0.1"), "{b}");
    assert!(b.contains("via 10.99.0.1"), "{b}");
    // FRR reflects our own block back to us; we must not take it (ORIGINATOR_ID is ours).
    let own = rc::our_lines(&ours, "10.64.1.0/26");
    assert_eq!(own.len(), 1, "{own:?}");
    assert!(own[0].contains("blackhole"), "{own:?}");
}

/// Prefixes FRR received from `peer` before its own checks (`soft-reconfiguration inbound`
/// keeps them, also those it would drop by ORIGINATOR_ID), sorted.
fn frr_received(frr: &Frr, peer: &str) -> Vec<String> {
    let v = frr
        .vtysh_json(&format!(
            "show bgp ipv4 unicast neighbors {peer} received-routes json"
        ))
        .unwrap_or_default();
    let mut out: Vec<String> = v
        .get("receivedRoutes")
        .and_then(|r| r.as_object())
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn we_never_reflect_a_clients_routes_back_to_it_inside_its_update_group() {
    if !require_root("we_never_reflect_a_clients_routes_back_to_it_inside_its_update_group") {
        return;
    }
    let fabric = Fabric::new(&format!("sh-{}", std::process::id()), 4).expect("fabric");
    let client = "route_reflector_client = true\n";
    let config = rc::ours(
        "10.99.0.1",
        AS,
        &["10.99.0.1"],
        &[
            ("10.99.0.2", AS, client),
            ("10.99.0.3", AS, client),
            ("10.99.0.4", AS, client),
        ],
    );
    let top = "cluster_id = \"10.99.0.1\"\nip_pools = [{ cidr = \"10.64.0.0/16\" }]\n";
    let ours = rc::start_ours(&fabric.node(1).ns, &config, top);
    // Two FRR clients with the same capabilities share one update group of ours.
    let frrs: Vec<Frr> = [2u8, 3]
        .iter()
        .map(|n| {
            let conf = rc::frr_conf(
                AS,
                &format!("10.99.0.{n}"),
                &[("10.99.0.1", AS, "soft-reconfiguration inbound")],
                &[&format!("10.64.{n}.0/26")],
            );
            Frr::start(&fabric.node(*n).ns, &conf).expect("frr starts")
        })
        .collect();
    let bird = Bird::start(
        &fabric.node(4).ns,
        &rc::bird_conf(
            "10.99.0.4",
            &["10.64.4.0/26"],
            &[("up", "10.99.0.4", AS, "10.99.0.1", AS)],
        ),
    )
    .expect("bird starts");
    let state = || {
        format!(
            "ours:\n{}\nfrr 2 received: {:?}\nfrr 3 received: {:?}",
            ours.show(false, "show route").unwrap_or_default(),
            frr_received(&frrs[0], "10.99.0.1"),
            frr_received(&frrs[1], "10.99.0.1"),
        )
    };
    let blocks =
        |ns: &[u8]| -> Vec<String> { ns.iter().map(|n| format!("10.64.{n}.0/26")).collect() };
    rc::converge(
        "each FRR client received the other clients' blocks",
        || {
            frr_received(&frrs[0], "10.99.0.1") == blocks(&[3, 4])
                && frr_received(&frrs[1], "10.99.0.1") == blocks(&[2, 4])
                && rc::bird_has(&bird, "10.64.2.0/26")
                && rc::bird_has(&bird, "10.64.3.0/26")
        },
        state,
    );
    // The two FRR clients are in one update group (else a group of one would explain it).
    let group = |peer: &str| {
        ours.events("rib_peer_up", None)
            .iter()
            .filter(|e| e["fields"]["peer"].as_str() == Some(peer))
            .filter_map(|e| e["fields"]["group"].as_u64())
            .next_back()
    };
    assert!(group("10.99.0.2").is_some());
    assert_eq!(group("10.99.0.2"), group("10.99.0.3"), "{}", state());
    // A new route from client 2 while everything is up: the others get it, 2 does not.
    frrs[0]
        .vtysh_lines(&[
            "conf t",
            &format!("router bgp {AS}"),
            "address-family ipv4 unicast",
            "network 10.64.12.0/26",
        ])
        .expect("vtysh");
    rc::converge(
        "client 3 has client 2's new block",
        || frr_received(&frrs[1], "10.99.0.1").contains(&"10.64.12.0/26".to_owned()),
        state,
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    let own = frr_received(&frrs[0], "10.99.0.1");
    assert_eq!(
        own,
        blocks(&[3, 4]),
        "client 2 got its own routes: {}",
        state()
    );
    println!("{}", state());
}
