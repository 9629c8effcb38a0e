//! A policy reload for one neighbor touches that neighbor only: our daemon on node 1 (AS 64512)
//! with two FRR 8.4 eBGP peers, node 2 (AS 65002) and node 3 (AS 65003), each announcing a
//! prefix inside our IP pool (10.90.N.0/24) and node 3 also one outside it (10.91.3.0/24, which
//! Calico's export rules keep from node 2). We announce our block 10.64.1.0/26.
//!
//! - Export: `configure` with a BGPFilter on node 2 that refuses our block: node 2 gets the
//!   withdrawal (FRR's `updatesRecv` + 1), node 3 receives no UPDATE at all, and our RIB
//!   actor moved one peer to another update group without re-importing or re-exporting
//!   anything else.
//! - Import: `configure` with a BGPFilter on node 3 that refuses 10.91.3.0/24 on import: our
//!   RIB drops it (only node 3's Adj-RIB-In went through import again, without a route
//!   refresh), and neither peer receives an UPDATE.
//!
//! Both sessions keep their TCP connections and FRR's connection counters throughout.

mod routes_common;

use interop_tests::dropin::{bgp_connections, same_connections};
use interop_tests::{require_root, Fabric, Frr};
use routes_common as rc;

const AS: u32 = 64512;
const BLOCK: &str = "10.64.1.0/26";

/// FRR on node `n` (AS 6500n), eBGP to us, announcing `networks`.
fn frr_conf(n: u8, networks: &[&str]) -> String {
    rc::frr_conf(
        65000 + u32::from(n),
        &format!("10.99.0.{n}"),
        &[("10.99.0.1", AS, "")],
        networks,
    )
}

/// FRR's view of its session to us: (UPDATEs received, connections established, dropped).
fn frr_counts(frr: &Frr) -> (u64, u64, u64) {
    let v = frr
        .vtysh_json("show bgp neighbors 10.99.0.1 json")
        .unwrap_or_default();
    let n = &v["10.99.0.1"];
    (
        n["messageStats"]["updatesRecv"].as_u64().unwrap_or(0),
        n["connectionsEstablished"].as_u64().unwrap_or(0),
        n["connectionsDropped"].as_u64().unwrap_or(0),
    )
}

/// The `rib_reconfigured` log line of the last reload: (reimported, reexported_all, regrouped).
fn last_rib_reload(ours: &interop_tests::bgpd::Bgpd) -> Option<(u64, bool, u64)> {
    let v = ours.events("rib_reconfigured", None);
    let f = &v.last()?["fields"];
    Some((
        f["reimported"].as_u64()?,
        f["reexported_all"].as_bool()?,
        f["regrouped"].as_u64()?,
    ))
}

/// Inserts `line` into neighbor `name`'s table of our generated configuration.
fn with_line(text: &str, name: &str, line: &str) -> String {
    let anchor = format!("name = \"{name}\"\n");
    assert!(text.contains(&anchor), "{name} in the configuration");
    text.replacen(&anchor, &format!("{anchor}{line}\n"), 1)
}

#[test]
fn a_policy_reload_for_one_peer_sends_the_other_no_update_and_resets_nobody() {
    if !require_root("a_policy_reload_for_one_peer_sends_the_other_no_update_and_resets_nobody") {
        return;
    }
    let fabric = Fabric::new(&format!("rsc-{}", std::process::id()), 3).expect("fabric");
    let f2 = Frr::start(&fabric.node(2).ns, &frr_conf(2, &["10.90.2.0/24"])).expect("FRR 2");
    let f3 = Frr::start(
        &fabric.node(3).ns,
        &frr_conf(3, &["10.90.3.0/24", "10.91.3.0/24"]),
    )
    .expect("FRR 3");
    let config = rc::ours(
        "10.99.0.1",
        AS,
        &["10.99.0.1"],
        &[("10.99.0.2", 65002, ""), ("10.99.0.3", 65003, "")],
    );
    let top = format!(
        "local_blocks = [\"{BLOCK}\"]\nip_pools = [{{ cidr = \"10.90.0.0/16\" }}, {{ cidr = \"10.64.0.0/16\" }}]\n\
         filters = [\
         {{ name = \"no-block\", export_v4 = [{{ cidr = \"{BLOCK}\", match_operator = \"Equal\", action = \"Reject\" }}] }}, \
         {{ name = \"no-outside\", import_v4 = [{{ cidr = \"10.91.3.0/24\", match_operator = \"Equal\", action = \"Reject\" }}] }}]\n"
    );
    let ours = rc::start_ours(&fabric.node(1).ns, &config, &top);
    let state = || {
        format!(
            "ours:\n{}\nFRR 2:\n{}\nFRR 3:\n{}",
            ours.show(false, "show route").unwrap_or_default(),
            f2.vtysh("show bgp ipv4 unicast").unwrap_or_default(),
            f3.vtysh("show bgp ipv4 unicast").unwrap_or_default()
        )
    };
    rc::converge(
        "every route in place",
        || {
            rc::frr_route(&f2, BLOCK).is_some()
                && rc::frr_route(&f3, BLOCK).is_some()
                && rc::frr_route(&f2, "10.90.3.0/24").is_some()
                && rc::frr_route(&f3, "10.90.2.0/24").is_some()
                && rc::ours_has(&ours, "10.91.3.0/24")
        },
        state,
    );
    assert!(
        rc::frr_route(&f2, "10.91.3.0/24").is_none(),
        "outside the pools: not exported\n{}",
        state()
    );
    // FRR sends its own UPDATEs after a coalesce timer: wait until ours have all arrived and
    // nothing moves any more.
    let mut settled = (frr_counts(&f2), frr_counts(&f3));
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let now = (frr_counts(&f2), frr_counts(&f3));
        if now == settled {
            break;
        }
        settled = now;
    }
    let ns = &fabric.node(1).ns;
    let connections = bgp_connections(ns).expect("ss");
    let conf = ours.dir().join("bgpd.toml");
    let base = std::fs::read_to_string(&conf).expect("config");

    // Export: node 2 no longer gets our block.
    let export = with_line(&base, "Mesh_10_99_0_2", "filters = [\"no-block\"]");
    std::fs::write(&conf, &export).expect("write config");
    let (b2, b3) = (frr_counts(&f2), frr_counts(&f3));
    let reply = ours.show(false, "configure").expect("configure");
    assert!(reply.contains("Reconfigured"), "{reply}");
    rc::converge(
        "node 2 withdrew our block",
        || rc::frr_route(&f2, BLOCK).is_none(),
        state,
    );
    assert_eq!(
        last_rib_reload(&ours),
        Some((0, false, 1)),
        "one peer regrouped, nothing re-imported or re-exported"
    );
    // Time for a stray UPDATE to arrive (our writes are immediate; FRR counts on receipt).
    std::thread::sleep(std::time::Duration::from_secs(2));
    let (a2, a3) = (frr_counts(&f2), frr_counts(&f3));
    assert_eq!(a2.0, b2.0 + 1, "node 2: one UPDATE (the withdrawal)");
    assert_eq!(a3, b3, "node 3: no UPDATE, same session");
    assert!(rc::frr_route(&f3, BLOCK).is_some(), "{}", state());

    // Import: node 3's route outside the pools is refused from now on.
    let import = with_line(&export, "Mesh_10_99_0_3", "filters = [\"no-outside\"]");
    std::fs::write(&conf, &import).expect("write config");
    let reply = ours.show(false, "configure").expect("configure");
    assert!(reply.contains("Reconfigured"), "{reply}");
    rc::converge(
        "10.91.3.0/24 gone from our RIB",
        || !rc::ours_has(&ours, "10.91.3.0/24"),
        state,
    );
    assert_eq!(
        last_rib_reload(&ours),
        Some((1, false, 0)),
        "only node 3 re-imported, nobody regrouped"
    );
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(frr_counts(&f2), a2, "node 2: no UPDATE, same session");
    assert_eq!(frr_counts(&f3), a3, "node 3: no UPDATE, same session");
    assert!(rc::ours_has(&ours, "10.90.3.0/24"), "{}", state());

    let after = bgp_connections(ns).expect("ss");
    assert_eq!(
        same_connections(&connections, &after, &["10.99.0.2", "10.99.0.3"]),
        vec![
            "10.99.0.2 same connection".to_string(),
            "10.99.0.3 same connection".to_string()
        ]
    );
}
