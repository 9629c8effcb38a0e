use std::net::{IpAddr, Ipv4Addr};

use bgp_proto::attribute::PathAttributes;
use bgp_proto::RouterId;
use rib::{AttrSet, PeerId, Rib, RouteOrigin, SelectedRoute, SessionKind};

use super::*;

const CONFIG: &str = r#"
router_id = "10.99.0.1"
local_as = 64512
local_blocks = ["10.64.1.0/26", "fd00:64:1::/122"]

[kernel]
enable_writes = true
tunnel_interface = "tunl0"

[[ip_pools]]
cidr = "10.64.0.0/16"
ipip_mode = "Never"
vxlan_mode = "Never"

[[ip_pools]]
cidr = "10.65.0.0/16"
ipip_mode = "Always"
vxlan_mode = "Never"

[[ip_pools]]
cidr = "10.66.0.0/16"
ipip_mode = "CrossSubnet"
vxlan_mode = "Never"

[[ip_pools]]
cidr = "10.67.0.0/16"
ipip_mode = "Never"
vxlan_mode = "Always"

[[ip_pools]]
cidr = "10.68.0.0/16"
ipip_mode = "Never"
vxlan_mode = "CrossSubnet"

[[ip_pools]]
cidr = "fd00:64::/32"
ipip_mode = "Never"
vxlan_mode = "Never"
"#;

fn config() -> Config {
    Config::from_str(CONFIG, "t.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

struct Routes {
    rib: Rib,
}

impl Routes {
    fn new() -> Self {
        Routes {
            rib: Rib::new(crate::policy_compile::local_info(&config())),
        }
    }

    fn selected(&mut self, next_hop: &str, from_peer: bool) -> SelectedRoute {
        let attrs = self.rib.intern(AttrSet {
            attrs: PathAttributes::default(),
            mp_next_hop: None,
        });
        let nh = ip(next_hop);
        SelectedRoute {
            peer: from_peer.then_some(PeerId(1)),
            origin: if from_peer {
                RouteOrigin::Peer {
                    kind: SessionKind::Ibgp,
                    rr_client: false,
                    router_id: RouterId(Ipv4Addr::new(10, 99, 0, 2)),
                    addr: nh,
                }
            } else {
                RouteOrigin::Local
            },
            path_id: 0,
            attrs,
            next_hop: Some(nh),
            igp_cost: None,
            stale: false,
        }
    }

    fn change(&mut self, prefix: &str, hops: &[&str]) -> LocRibChange {
        LocRibChange {
            prefix: net(prefix),
            routes: hops.iter().map(|h| self.selected(h, true)).collect(),
        }
    }
}

fn direct(prefix: &str, hops: &[&str]) -> RouteDelta {
    RouteDelta::Install(Route::via(
        net(prefix),
        hops.iter().map(|h| NextHop::direct(ip(h))).collect(),
    ))
}

fn tunnel(prefix: &str, hops: &[&str]) -> RouteDelta {
    RouteDelta::Install(Route::via(
        net(prefix),
        hops.iter()
            .map(|h| NextHop::onlink(ip(h), "tunl0"))
            .collect(),
    ))
}

fn remove(prefix: &str) -> RouteDelta {
    RouteDelta::Remove(net(prefix))
}

fn sorted(mut d: Vec<RouteDelta>) -> Vec<RouteDelta> {
    d.sort_by_key(|x| x.prefix());
    d
}

const SAME: &str = "10.99.0.2";
const OTHER: &str = "10.98.0.2";

struct Case {
    name: &'static str,
    /// (prefix, next hops) changes applied in earlier batches.
    earlier: &'static [(&'static str, &'static [&'static str])],
    /// The batch under test.
    batch: &'static [(&'static str, &'static [&'static str])],
    want: fn() -> Vec<RouteDelta>,
}

#[test]
fn loc_rib_changes_become_kernel_deltas() {
    #[rustfmt::skip]
    let cases = [
        Case { name: "never pool: direct", earlier: &[], batch: &[("10.64.2.0/26", &[SAME])], want: || vec![direct("10.64.2.0/26", &[SAME])] },
        Case { name: "never pool, other subnet: still direct", earlier: &[], batch: &[("10.64.2.0/26", &[OTHER])], want: || vec![direct("10.64.2.0/26", &[OTHER])] },
        Case { name: "ipip always: onlink via tunl0", earlier: &[], batch: &[("10.65.2.0/26", &[SAME])], want: || vec![tunnel("10.65.2.0/26", &[SAME])] },
        Case { name: "ipip cross-subnet, same subnet: direct", earlier: &[], batch: &[("10.66.2.0/26", &[SAME])], want: || vec![direct("10.66.2.0/26", &[SAME])] },
        Case { name: "ipip cross-subnet, other subnet: tunnel", earlier: &[], batch: &[("10.66.2.0/26", &[OTHER])], want: || vec![tunnel("10.66.2.0/26", &[OTHER])] },
        Case { name: "vxlan always: left to Felix", earlier: &[], batch: &[("10.67.2.0/26", &[SAME])], want: Vec::new },
        Case { name: "vxlan cross-subnet, same subnet: direct", earlier: &[], batch: &[("10.68.2.0/26", &[SAME])], want: || vec![direct("10.68.2.0/26", &[SAME])] },
        Case { name: "vxlan cross-subnet, other subnet: left to Felix", earlier: &[], batch: &[("10.68.2.0/26", &[OTHER])], want: Vec::new },
        Case { name: "outside every pool: direct", earlier: &[], batch: &[("192.0.2.0/24", &[OTHER])], want: || vec![direct("192.0.2.0/24", &[OTHER])] },
        Case { name: "ecmp: one multipath route", earlier: &[], batch: &[("10.64.2.0/26", &[SAME, "10.99.0.3"])], want: || vec![direct("10.64.2.0/26", &[SAME, "10.99.0.3"])] },
        Case { name: "ecmp through the tunnel: onlink per next hop", earlier: &[], batch: &[("10.65.2.0/26", &[SAME, "10.99.0.3"])], want: || vec![tunnel("10.65.2.0/26", &[SAME, "10.99.0.3"])] },
        Case { name: "ecmp duplicate next hops collapse", earlier: &[], batch: &[("10.64.2.0/26", &[SAME, SAME])], want: || vec![direct("10.64.2.0/26", &[SAME])] },
        Case { name: "ecmp across cross-subnet: mixed direct and tunnel", earlier: &[], batch: &[("10.66.2.0/26", &[SAME, OTHER])], want: || vec![RouteDelta::Install(Route::via(net("10.66.2.0/26"), vec![NextHop::direct(ip(SAME)), NextHop::onlink(ip(OTHER), "tunl0")]))] },
        Case { name: "ipv6 pool: direct", earlier: &[], batch: &[("fd00:64:2::/122", &["fd99::2"])], want: || vec![direct("fd00:64:2::/122", &["fd99::2"])] },
        Case { name: "own block from the rib: ignored (blackholed from config)", earlier: &[], batch: &[("10.64.1.0/26", &[SAME])], want: Vec::new },
        Case { name: "borrowed /32 inside our block: installed", earlier: &[], batch: &[("10.64.1.7/32", &[SAME])], want: || vec![direct("10.64.1.7/32", &[SAME])] },
        Case { name: "withdrawal of an installed route: removed", earlier: &[("10.64.2.0/26", &[SAME])], batch: &[("10.64.2.0/26", &[])], want: || vec![remove("10.64.2.0/26")] },
        Case { name: "withdrawal of a vxlan route: nothing", earlier: &[("10.67.2.0/26", &[SAME])], batch: &[("10.67.2.0/26", &[])], want: Vec::new },
        Case { name: "withdrawal of an unknown prefix: nothing", earlier: &[], batch: &[("10.64.9.0/26", &[])], want: Vec::new },
        Case { name: "same next hop again: nothing", earlier: &[("10.64.2.0/26", &[SAME])], batch: &[("10.64.2.0/26", &[SAME])], want: Vec::new },
        Case { name: "next hop moved: replaced", earlier: &[("10.64.2.0/26", &[SAME])], batch: &[("10.64.2.0/26", &["10.99.0.3"])], want: || vec![direct("10.64.2.0/26", &["10.99.0.3"])] },
        Case { name: "coalesced: add then withdraw in one batch: nothing", earlier: &[], batch: &[("10.64.2.0/26", &[SAME]), ("10.64.2.0/26", &[])], want: Vec::new },
        Case { name: "coalesced: withdraw then re-add same in one batch: nothing", earlier: &[("10.64.2.0/26", &[SAME])], batch: &[("10.64.2.0/26", &[]), ("10.64.2.0/26", &[SAME])], want: Vec::new },
        Case { name: "coalesced: two moves in one batch: last wins", earlier: &[], batch: &[("10.64.2.0/26", &[SAME]), ("10.64.2.0/26", &["10.99.0.4"])], want: || vec![direct("10.64.2.0/26", &["10.99.0.4"])] },
        Case { name: "ipv4 route, ipv6 next hop (RFC 8950): direct via inet6", earlier: &[], batch: &[("10.64.2.0/26", &["fd99::2"])], want: || vec![direct("10.64.2.0/26", &["fd99::2"])] },
        Case { name: "ipv4 route, ipv6 next hop, ipip always: not tunnelled", earlier: &[], batch: &[("10.65.2.0/26", &["fd99::2"])], want: || vec![direct("10.65.2.0/26", &["fd99::2"])] },
        Case { name: "ipv4 route, ipv6 next hop, vxlan always: left to Felix", earlier: &[], batch: &[("10.67.2.0/26", &["fd99::2"])], want: Vec::new },
        Case { name: "ipv6 route, ipv4 next hop: nothing", earlier: &[], batch: &[("fd00:64:2::/122", &[SAME])], want: Vec::new },
    ];
    for case in cases {
        let mut t = Translator::new(&config());
        t.set_connected(vec![net("10.99.0.0/24"), net("fd99::/64")]);
        let mut r = Routes::new();
        for (p, h) in case.earlier {
            let c = r.change(p, h);
            t.apply_changes(vec![c]);
        }
        let batch: Vec<LocRibChange> = case.batch.iter().map(|(p, h)| r.change(p, h)).collect();
        assert_eq!(
            sorted(t.apply_changes(batch)),
            sorted((case.want)()),
            "{}",
            case.name
        );
    }
}

#[test]
fn locally_originated_routes_are_not_installed() {
    let mut t = Translator::new(&config());
    let mut r = Routes::new();
    let change = LocRibChange {
        prefix: net("10.96.0.0/12"),
        routes: vec![r.selected(SAME, false)],
    };
    assert!(t.apply_changes(vec![change]).is_empty());
}

#[test]
fn local_blocks_are_blackholed_and_part_of_the_desired_set() {
    let mut t = Translator::new(&config());
    let mut r = Routes::new();
    assert_eq!(
        t.local_routes(),
        vec![
            Route::blackhole(net("10.64.1.0/26")),
            Route::blackhole(net("fd00:64:1::/122"))
        ]
    );
    t.apply_changes(vec![
        r.change("10.64.2.0/26", &[SAME]),
        r.change("10.67.2.0/26", &[SAME]),
    ]);
    let mut desired = t.desired();
    desired.sort_by_key(|r| r.prefix);
    assert_eq!(
        desired,
        vec![
            Route::blackhole(net("10.64.1.0/26")),
            Route::via(net("10.64.2.0/26"), vec![NextHop::direct(ip(SAME))]),
            Route::blackhole(net("fd00:64:1::/122")),
        ]
    );
    assert_eq!(t.vxlan_skipped(), 1);
}

#[test]
fn connected_subnet_change_re_evaluates_cross_subnet_routes_only() {
    let mut t = Translator::new(&config());
    t.set_connected(vec![net("10.99.0.0/24")]);
    let mut r = Routes::new();
    let first = t.apply_changes(vec![
        r.change("10.66.2.0/26", &[OTHER]),
        r.change("10.68.2.0/26", &[OTHER]),
        r.change("10.64.2.0/26", &[OTHER]),
        r.change("10.65.2.0/26", &[OTHER]),
    ]);
    assert_eq!(
        sorted(first),
        sorted(vec![
            direct("10.64.2.0/26", &[OTHER]),
            tunnel("10.65.2.0/26", &[OTHER]),
            tunnel("10.66.2.0/26", &[OTHER]),
        ])
    );
    assert_eq!(t.vxlan_skipped(), 1);
    // The node gains an address on 10.98.0.0/24: the cross-subnet pools go direct.
    let deltas = t.set_connected(vec![net("10.99.0.0/24"), net("10.98.0.0/24")]);
    assert_eq!(
        sorted(deltas),
        sorted(vec![
            direct("10.66.2.0/26", &[OTHER]),
            direct("10.68.2.0/26", &[OTHER]),
        ])
    );
    assert_eq!(t.vxlan_skipped(), 0);
    // Same set again: nothing.
    assert!(t
        .set_connected(vec![net("10.98.0.0/24"), net("10.99.0.0/24")])
        .is_empty());
    // The address goes away: back to the tunnel, and VXLAN's route is Felix's again.
    let deltas = t.set_connected(vec![net("10.99.0.0/24")]);
    assert_eq!(
        sorted(deltas),
        sorted(vec![
            tunnel("10.66.2.0/26", &[OTHER]),
            remove("10.68.2.0/26"),
        ])
    );
    assert_eq!(t.vxlan_skipped(), 1);
}

#[test]
fn fib_config_follows_the_kernel_section() {
    let c = fib_config(&config());
    assert_eq!(c.tunnel_ifname, "tunl0");
    assert_eq!(c.protocol, config().kernel.protocol);
    assert_eq!(c.persist, config().kernel.persist_on_stop);
}

#[test]
fn next_hop_sets_are_shared_and_freed_when_unused() {
    let mut t = Translator::new(&config());
    let mut r = Routes::new();
    t.apply_changes(vec![
        r.change("10.64.2.0/26", &[SAME]),
        r.change("10.64.3.0/26", &[SAME]),
        r.change("10.64.4.0/26", &[SAME, "10.99.0.3"]),
    ]);
    assert_eq!(t.hop_sets.index.len(), 2, "two distinct sets");
    let shared = t.routes.get(&net("10.64.2.0/26")).unwrap();
    assert_eq!(t.routes.get(&net("10.64.3.0/26")), Some(shared));
    // The ECMP set goes; its slot is reused by the next new set.
    t.apply_changes(vec![r.change("10.64.4.0/26", &[])]);
    assert_eq!(t.hop_sets.index.len(), 1);
    t.apply_changes(vec![r.change("10.64.5.0/26", &["10.99.0.7"])]);
    assert_eq!(t.hop_sets.sets.len(), 2, "freed slot reused");
    t.apply_changes(vec![
        r.change("10.64.2.0/26", &[]),
        r.change("10.64.3.0/26", &[]),
        r.change("10.64.5.0/26", &[]),
    ]);
    assert!(t.hop_sets.index.is_empty());
    assert!(t.is_empty());
}

#[test]
fn reload_reprograms_pools_and_blocks() {
    let mut t = Translator::new(&config());
    t.set_connected(vec![net("10.99.0.0/24")]);
    let mut r = Routes::new();
    t.apply_changes(vec![
        r.change("10.64.2.0/26", &[SAME]),
        r.change("10.65.2.0/26", &[SAME]),
        r.change("10.67.2.0/26", &[SAME]),
        r.change("10.64.3.0/26", &[SAME]),
    ]);
    assert_eq!(t.vxlan_skipped(), 1);
    // 10.64/16 turns to IP-in-IP Always, 10.67/16 (VXLAN) to no encapsulation, 10.65/16 is
    // unchanged; block 10.64.1.0/26 goes, 10.64.3.0/26 (learned until now) becomes ours.
    let reloaded = CONFIG
        .replace(
            r#"local_blocks = ["10.64.1.0/26", "fd00:64:1::/122"]"#,
            r#"local_blocks = ["10.64.3.0/26", "fd00:64:1::/122"]"#,
        )
        .replace(
            "cidr = \"10.64.0.0/16\"\nipip_mode = \"Never\"",
            "cidr = \"10.64.0.0/16\"\nipip_mode = \"Always\"",
        )
        .replace(
            "cidr = \"10.67.0.0/16\"\nipip_mode = \"Never\"\nvxlan_mode = \"Always\"",
            "cidr = \"10.67.0.0/16\"\nipip_mode = \"Never\"\nvxlan_mode = \"Never\"",
        );
    let new = Config::from_str(&reloaded, "t.toml").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        sorted(t.reconfigure(&new)),
        sorted(vec![
            remove("10.64.1.0/26"),
            tunnel("10.64.2.0/26", &[SAME]),
            RouteDelta::Install(Route::blackhole(net("10.64.3.0/26"))),
            direct("10.67.2.0/26", &[SAME]),
        ])
    );
    assert_eq!(t.vxlan_skipped(), 0);
    assert_eq!(t.len(), 3, "the new block is no longer a learned route");
    // Nothing changed: nothing to do.
    assert!(t.reconfigure(&new).is_empty());
}
