//! A reload that changes only a `[bgp]` decision option re-runs best-path selection over the
//! routes already learned, without touching a session (conf's diff classifies these options
//! as a node-wide policy change; the RIB actor applies them with `Rib::set_decision`).
//!
//! Our daemon on node 1 (AS 64512, `max_paths = 1`) with two BIRD 2.0.12 eBGP peers announcing
//! the same prefix: node 2 (AS 65002) with MED 50, node 3 (AS 65003) with MED 10. MEDs of
//! different neighbour ASes are not compared (RFC 4271 §9.1.2.2 (c)), so node 2 wins on the
//! lower router id (f). `configure` with `always_compare_med = true` makes node 3's lower MED
//! win: our `show route` shows it, node 2 receives node 3's path from us (the new best
//! exported; the prefix is inside an IP pool, so Calico's export rules pass it), and the TCP
//! connections of both sessions are the same ones as before (no flap).
//! SIGHUP with the option removed brings node 2's path back.

mod routes_common;

use std::time::Duration;

use interop_tests::dropin::{bgp_connections, same_connections};
use interop_tests::{require_root, wait_until, Bird, Fabric};
use routes_common as rc;

const AS: u32 = 64512;
const PREFIX: &str = "10.90.0.0/24";

/// BIRD 2 on node `n` (AS 6500n): announces [`PREFIX`] to us with MED `med`.
fn peer_conf(n: u8, med: u32) -> String {
    let me = format!("10.99.0.{n}");
    rc::bird_conf(
        &me,
        &[PREFIX],
        &[("Mesh_10_99_0_1", &me, 65000 + u32::from(n), "10.99.0.1", AS)],
    )
    .replace(
        "export where source = RTS_STATIC;",
        &format!(
            "export filter {{ if source != RTS_STATIC then reject; bgp_med = {med}; accept; }};"
        ),
    )
}

/// Our best path's line for [`PREFIX`] (`show route` lists every path; the primary one, the
/// only selected with `max_paths = 1`, is marked ` * `).
fn our_best(ours: &interop_tests::bgpd::Bgpd) -> String {
    rc::our_lines(ours, PREFIX)
        .into_iter()
        .filter(|l| l.contains("] * ("))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether BIRD on node 2 has our path for [`PREFIX`] with AS path `64512 65003`.
fn node2_has_node3_path_from_us(bird: &Bird) -> bool {
    bird.birdc(&format!("show route {PREFIX} all"))
        .is_ok_and(|t| t.contains("BGP.as_path: 64512 65003"))
}

#[test]
fn a_decision_option_reload_changes_best_paths_without_a_session_flap() {
    if !require_root("a_decision_option_reload_changes_best_paths_without_a_session_flap") {
        return;
    }
    let fabric = Fabric::new(&format!("rdc-{}", std::process::id()), 3).expect("fabric");
    let b2 = Bird::start(&fabric.node(2).ns, &peer_conf(2, 50)).expect("BIRD on node 2");
    let b3 = Bird::start(&fabric.node(3).ns, &peer_conf(3, 10)).expect("BIRD on node 3");
    let config = rc::ours(
        "10.99.0.1",
        AS,
        &["10.99.0.1"],
        &[("10.99.0.2", 65002, ""), ("10.99.0.3", 65003, "")],
    );
    // The prefix inside a pool: Calico's export rules pass it on.
    let top = "ip_pools = [{ cidr = \"10.90.0.0/16\" }]\nbgp = { max_paths = 1 }\n";
    let mut ours = rc::start_ours(&fabric.node(1).ns, &config, top);
    let state = |o: &interop_tests::bgpd::Bgpd| {
        format!(
            "ours:\n{}\n{}\nnode 2:\n{}",
            o.show(false, "show route all").unwrap_or_default(),
            o.show(false, "show protocols all Mesh_10_99_0_3")
                .unwrap_or_default(),
            b2.birdc(&format!("show route {PREFIX} all"))
                .unwrap_or_default()
        )
    };
    rc::converge(
        "both paths learned, node 2's best",
        || {
            our_best(&ours).contains("via 10.99.0.2")
                && ours
                    .show(false, "show protocols all Mesh_10_99_0_3")
                    .is_ok_and(|t| {
                        // Accepted (the last column), though not selected.
                        t.lines().any(|l| {
                            l.contains("Import updates:")
                                && l.split_whitespace().last() == Some("1")
                        })
                    })
        },
        || state(&ours),
    );
    assert!(!node2_has_node3_path_from_us(&b2), "{}", state(&ours));
    let ns = &fabric.node(1).ns;
    let before = bgp_connections(ns).expect("ss");
    let established = |o: &interop_tests::bgpd::Bgpd| o.events("established", None).len();
    let sessions_before = established(&ours);

    // `configure` with MEDs compared across ASes.
    let conf = ours.dir().join("bgpd.toml");
    let base = std::fs::read_to_string(&conf).expect("config");
    let compare = base.replacen(
        "bgp = { max_paths = 1 }",
        "bgp = { max_paths = 1, always_compare_med = true }",
        1,
    );
    assert_ne!(compare, base);
    std::fs::write(&conf, &compare).expect("write config");
    let reply = ours.show(false, "configure").expect("configure");
    assert!(reply.contains("Reconfigured"), "{reply}");
    rc::converge(
        "node 3's lower MED wins",
        || our_best(&ours).contains("via 10.99.0.3"),
        || state(&ours),
    );
    rc::converge(
        "node 2 gets node 3's path from us",
        || node2_has_node3_path_from_us(&b2),
        || state(&ours),
    );
    let after = bgp_connections(ns).expect("ss");
    assert_eq!(
        same_connections(&before, &after, &["10.99.0.2", "10.99.0.3"]),
        vec![
            "10.99.0.2 same connection".to_string(),
            "10.99.0.3 same connection".to_string()
        ]
    );
    assert_eq!(established(&ours), sessions_before, "no new session");

    // SIGHUP with the option gone: node 2's path again.
    std::fs::write(&conf, &base).expect("write config");
    let pid = ours.proc().pid().to_string();
    interop_tests::command::run("kill", &["-HUP", &pid]).expect("SIGHUP");
    rc::converge(
        "node 2's path is best again",
        || our_best(&ours).contains("via 10.99.0.2"),
        || state(&ours),
    );
    wait_until(
        "node 2 no longer has node 3's path from us",
        Duration::from_secs(10),
        || Ok(!node2_has_node3_path_from_us(&b2)),
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", state(&ours)));
    let last = bgp_connections(ns).expect("ss");
    assert_eq!(
        same_connections(&before, &last, &["10.99.0.2", "10.99.0.3"]),
        vec![
            "10.99.0.2 same connection".to_string(),
            "10.99.0.3 same connection".to_string()
        ]
    );
    assert_eq!(established(&ours), sessions_before, "no new session");
    drop(b3);
}
