//! Next hops a directly connected eBGP peer (FRR 8.4, AS 65002) gives us, set with an outbound
//! route-map (`set ip next-hop`): our own address and an off-link address are treat-as-withdraw
//! with a log line naming the next hop (RFC 4271 §5.1.3, §6.3, as BIRD's direct gateway mode),
//! a third-party next hop on the shared subnet and FRR's own address are accepted.

mod routes_common;

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
