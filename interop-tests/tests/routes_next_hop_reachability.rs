//! Next-hop reachability (RFC 4271 §9.1.2.1) from the daemon's interface table: FRR (iBGP,
//! AS 65001) announces a route whose next hop (set by route-map) is on a second subnet of our
//! node. While our address on that subnet exists the route is selected and installed; when the
//! address is removed (`ip addr del`) the next hop no longer resolves (no connected subnet, no
//! kernel route covers it): the route stays listed `unreachable` (BIRD's `/-`), is not the best,
//! and leaves the kernel; when the address comes back, so does the route.

mod routes_common;

use interop_tests::bgpd::Bgpd;
use interop_tests::{require_root, Fabric, Frr};
use routes_common as rc;

const AS: u32 = 65001;

const ROUTE_MAP: &str = "\
ip prefix-list FAR seq 5 permit 10.77.5.0/24
route-map NH permit 10
 match ip address prefix-list FAR
 set ip next-hop 10.98.0.7
route-map NH permit 20
";

#[test]
fn route_via_a_removed_subnet_becomes_unreachable_and_comes_back_with_it() {
    if !require_root("route_via_a_removed_subnet_becomes_unreachable_and_comes_back_with_it") {
        return;
    }
    let fabric = Fabric::new(&format!("igp-{}", std::process::id()), 2).expect("fabric");
    let ns = &fabric.node(1).ns;
    ns.ip(&["addr", "add", "10.98.0.1/24", "dev", "eth0"])
        .expect("second subnet");
    let conf = rc::frr_conf(
        AS,
        "10.99.0.2",
        &[("10.99.0.1", AS, "route-map NH out")],
        &["10.77.5.0/24", "10.77.6.0/24"],
    ) + ROUTE_MAP;
    let frr = Frr::start(&fabric.node(2).ns, &conf).expect("frr starts");
    let config = rc::ours("10.99.0.1", AS, &["10.99.0.1"], &[("10.99.0.2", AS, "")]);
    let ours = Bgpd::start_with_kernel(ns, &config, "").expect("our bgpd starts");
    let kernel = |prefix: &str| ns.ip(&["route", "show", prefix]).unwrap_or_default();
    let state = || {
        format!(
            "ours:\n{}\nkernel:\n{}\nfrr:\n{}",
            ours.show(false, "show route all").unwrap_or_default(),
            ns.ip(&["route"]).unwrap_or_default(),
            frr.vtysh("show bgp ipv4 unicast neighbors 10.99.0.1 advertised-routes")
                .unwrap_or_default()
        )
    };
    let far = || rc::our_lines(&ours, "10.77.5.0/24").join("\n");
    rc::converge(
        "both routes selected and installed",
        || {
            far().contains("via 10.98.0.7 on eth0")
                && kernel("10.77.5.0/24").contains("via 10.98.0.7")
                && kernel("10.77.6.0/24").contains("via 10.99.0.2")
        },
        state,
    );
    assert!(far().contains(" * "), "selected: {}", state());

    ns.ip(&["addr", "del", "10.98.0.1/24", "dev", "eth0"])
        .expect("address removed");
    rc::converge(
        "the route via the removed subnet is unreachable and leaves the kernel",
        || far().contains("unreachable") && kernel("10.77.5.0/24").is_empty(),
        state,
    );
    let line = far();
    assert!(!line.contains(" * "), "not the best: {line}");
    assert!(line.contains("/-)"), "BIRD's unresolved mark: {line}");
    // The other route, via the subnet that stays, is untouched.
    assert!(
        kernel("10.77.6.0/24").contains("via 10.99.0.2"),
        "{}",
        state()
    );

    ns.ip(&["addr", "add", "10.98.0.1/24", "dev", "eth0"])
        .expect("address back");
    rc::converge(
        "the route is selected and installed again",
        || {
            far().contains("via 10.98.0.7 on eth0")
                && kernel("10.77.5.0/24").contains("via 10.98.0.7")
        },
        state,
    );
    assert!(far().contains(" * "), "{}", state());
}
