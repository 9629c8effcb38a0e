use std::net::{IpAddr, Ipv4Addr};

use bgp_proto::attribute::PathAttributes;
use bgp_proto::RouterId;
use rib::{AttrSet, PeerId, Rib, RouteOrigin, SelectedRoute, SessionKind};

use super::*;
use fib_sync::{NextHop, Route};

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

fn translator() -> Translator {
    let mut t = Translator::new(&config());
    t.set_connected(vec![net("10.99.0.0/24"), net("fd99::/64")]);
    t
}

/// (name, prefix, the selection's next hops, the delta wanted).
type Case = (
    &'static str,
    &'static str,
    &'static [&'static str],
    fn() -> Option<RouteDelta>,
);

#[test]
fn loc_rib_changes_become_kernel_deltas() {
    #[rustfmt::skip]
    let cases: [Case; 25] = [
        ("never pool: direct", "10.64.2.0/26", &[SAME], || Some(direct("10.64.2.0/26", &[SAME]))),
        ("never pool, other subnet: still direct", "10.64.2.0/26", &[OTHER], || Some(direct("10.64.2.0/26", &[OTHER]))),
        ("ipip always: onlink via tunl0", "10.65.2.0/26", &[SAME], || Some(tunnel("10.65.2.0/26", &[SAME]))),
        ("ipip cross-subnet, same subnet: direct", "10.66.2.0/26", &[SAME], || Some(direct("10.66.2.0/26", &[SAME]))),
        ("ipip cross-subnet, other subnet: tunnel", "10.66.2.0/26", &[OTHER], || Some(tunnel("10.66.2.0/26", &[OTHER]))),
        ("vxlan always: left to Felix (ours, if any, removed)", "10.67.2.0/26", &[SAME], || Some(remove("10.67.2.0/26"))),
        ("vxlan cross-subnet, same subnet: direct", "10.68.2.0/26", &[SAME], || Some(direct("10.68.2.0/26", &[SAME]))),
        ("vxlan cross-subnet, other subnet: left to Felix", "10.68.2.0/26", &[OTHER], || Some(remove("10.68.2.0/26"))),
        ("outside every pool: direct", "192.0.2.0/24", &[OTHER], || Some(direct("192.0.2.0/24", &[OTHER]))),
        ("ecmp: one multipath route", "10.64.2.0/26", &[SAME, "10.99.0.3"], || Some(direct("10.64.2.0/26", &[SAME, "10.99.0.3"]))),
        ("ecmp through the tunnel: onlink per next hop", "10.65.2.0/26", &[SAME, "10.99.0.3"], || Some(tunnel("10.65.2.0/26", &[SAME, "10.99.0.3"]))),
        ("ecmp duplicate next hops collapse", "10.64.2.0/26", &[SAME, SAME], || Some(direct("10.64.2.0/26", &[SAME]))),
        ("ecmp across cross-subnet: mixed direct and tunnel", "10.66.2.0/26", &[SAME, OTHER], || Some(RouteDelta::Install(Route::via(net("10.66.2.0/26"), vec![NextHop::direct(ip(SAME)), NextHop::onlink(ip(OTHER), "tunl0")])))),
        ("ecmp with one vxlan hop: Felix's", "10.68.2.0/26", &[SAME, OTHER], || Some(remove("10.68.2.0/26"))),
        ("ipv6 pool: direct", "fd00:64:2::/122", &["fd99::2"], || Some(direct("fd00:64:2::/122", &["fd99::2"]))),
        ("own block from the rib: ignored (blackholed from config)", "10.64.1.0/26", &[SAME], || None),
        ("own ipv6 block from the rib: ignored", "fd00:64:1::/122", &["fd99::2"], || None),
        ("borrowed /32 inside our block: installed", "10.64.1.7/32", &[SAME], || Some(direct("10.64.1.7/32", &[SAME]))),
        ("withdrawal: removed (fib-sync writes nothing if it was not installed)", "10.64.2.0/26", &[], || Some(remove("10.64.2.0/26"))),
        ("withdrawal of our own block: ignored", "10.64.1.0/26", &[], || None),
        ("ipv4 route, ipv6 next hop (RFC 8950): direct via inet6", "10.64.2.0/26", &["fd99::2"], || Some(direct("10.64.2.0/26", &["fd99::2"]))),
        ("ipv4 route, ipv6 next hop, ipip always: not tunnelled", "10.65.2.0/26", &["fd99::2"], || Some(direct("10.65.2.0/26", &["fd99::2"]))),
        ("ipv4 route, ipv6 next hop, vxlan always: left to Felix", "10.67.2.0/26", &["fd99::2"], || Some(remove("10.67.2.0/26"))),
        ("ipv6 route, ipv4 next hop: nothing to install", "fd00:64:2::/122", &[SAME], || Some(remove("fd00:64:2::/122"))),
        ("host bits cleared", "10.64.2.9/26", &[SAME], || Some(direct("10.64.2.0/26", &[SAME]))),
    ];
    let mut r = Routes::new();
    for (name, prefix, hops, want) in cases {
        let mut t = translator();
        let change = r.change(prefix, hops);
        assert_eq!(t.delta(&change), want(), "{name}");
    }
}

#[test]
fn a_batch_gives_one_delta_per_change_in_order() {
    let mut t = translator();
    let mut r = Routes::new();
    let batch = vec![
        r.change("10.64.3.0/26", &[SAME]),
        r.change("10.64.1.0/26", &[SAME]),
        r.change("10.64.2.0/26", &[]),
    ];
    assert_eq!(
        t.apply_changes(batch),
        vec![direct("10.64.3.0/26", &[SAME]), remove("10.64.2.0/26")]
    );
}

#[test]
fn locally_originated_routes_are_not_installed() {
    let mut t = translator();
    let mut r = Routes::new();
    let change = LocRibChange {
        prefix: net("10.96.0.0/12"),
        routes: vec![r.selected(SAME, false)],
    };
    assert_eq!(t.delta(&change), Some(remove("10.96.0.0/12")));
    // Our path first, a peer's after it: the peer's next hop is installed.
    let change = LocRibChange {
        prefix: net("10.96.0.0/12"),
        routes: vec![r.selected(SAME, false), r.selected(OTHER, true)],
    };
    assert_eq!(t.delta(&change), Some(direct("10.96.0.0/12", &[OTHER])));
}

#[test]
fn local_blocks_are_blackholed() {
    let t = translator();
    assert_eq!(
        t.local_routes(),
        &[
            Route::blackhole(net("10.64.1.0/26")),
            Route::blackhole(net("fd00:64:1::/122"))
        ]
    );
}

#[test]
fn connected_subnet_change_refeeds_cross_subnet_pools_only() {
    let mut t = Translator::new(&config());
    assert_eq!(
        t.set_connected(vec![net("10.99.0.0/24")]),
        vec![net("10.66.0.0/16"), net("10.68.0.0/16")]
    );
    let mut r = Routes::new();
    assert_eq!(
        t.delta(&r.change("10.66.2.0/26", &[OTHER])),
        Some(tunnel("10.66.2.0/26", &[OTHER]))
    );
    assert_eq!(
        t.delta(&r.change("10.68.2.0/26", &[OTHER])),
        Some(remove("10.68.2.0/26"))
    );
    // The node gains an address on 10.98.0.0/24: the cross-subnet pools are fed again and
    // their routes go direct.
    let nets = t.set_connected(vec![net("10.99.0.0/24"), net("10.98.0.0/24")]);
    assert_eq!(nets, vec![net("10.66.0.0/16"), net("10.68.0.0/16")]);
    assert_eq!(
        t.delta(&r.change("10.66.2.0/26", &[OTHER])),
        Some(direct("10.66.2.0/26", &[OTHER]))
    );
    assert_eq!(
        t.delta(&r.change("10.68.2.0/26", &[OTHER])),
        Some(direct("10.68.2.0/26", &[OTHER]))
    );
    // Same set again, in another order: nothing to feed again.
    assert!(t
        .set_connected(vec![net("10.98.0.0/24"), net("10.99.0.0/24")])
        .is_empty());
    // Without a cross-subnet pool an address change asks for nothing.
    let plain = CONFIG
        .replace("ipip_mode = \"CrossSubnet\"", "ipip_mode = \"Never\"")
        .replace("vxlan_mode = \"CrossSubnet\"", "vxlan_mode = \"Never\"");
    let plain = Config::from_str(&plain, "t.toml").unwrap_or_else(|e| panic!("{e}"));
    let mut t = Translator::new(&plain);
    assert!(t.set_connected(vec![net("10.99.0.0/24")]).is_empty());
}

#[test]
fn fib_config_follows_the_kernel_section() {
    let c = fib_config(&config());
    assert_eq!(c.tunnel_ifname, "tunl0");
    assert_eq!(c.protocol, config().kernel.protocol);
    assert_eq!(c.persist, config().kernel.persist_on_stop);
}

#[test]
fn reload_reprograms_blocks_and_refeeds_changed_pools() {
    let mut t = translator();
    // 10.64/16 turns to IP-in-IP Always, 10.67/16 (VXLAN) to no encapsulation, 10.65/16 is
    // unchanged, 10.69/16 is new; block 10.64.1.0/26 goes, 10.64.3.0/26 becomes ours.
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
        )
        + "\n[[ip_pools]]\ncidr = \"10.69.0.0/16\"\nipip_mode = \"Always\"\n";
    let new = Config::from_str(&reloaded, "t.toml").unwrap_or_else(|e| panic!("{e}"));
    let mut got = t.reconfigure(&new);
    got.deltas = sorted(got.deltas);
    assert_eq!(
        got,
        Reprogram {
            deltas: vec![
                remove("10.64.1.0/26"),
                RouteDelta::Install(Route::blackhole(net("10.64.3.0/26"))),
            ],
            // The former block is fed again (a peer may announce it), the changed pools too.
            refeed: vec![
                net("10.64.0.0/16"),
                net("10.64.1.0/26"),
                net("10.67.0.0/16"),
                net("10.69.0.0/16"),
            ],
        }
    );
    // The new block is ours now: the Loc-RIB's word on it is ignored; the re-fed routes are
    // decided with the new pools.
    let mut r = Routes::new();
    assert_eq!(t.delta(&r.change("10.64.3.0/26", &[SAME])), None);
    assert_eq!(
        t.delta(&r.change("10.64.2.0/26", &[SAME])),
        Some(tunnel("10.64.2.0/26", &[SAME]))
    );
    assert_eq!(
        t.delta(&r.change("10.67.2.0/26", &[SAME])),
        Some(direct("10.67.2.0/26", &[SAME]))
    );
    assert_eq!(
        t.delta(&r.change("10.64.1.0/26", &[SAME])),
        Some(tunnel("10.64.1.0/26", &[SAME]))
    );
    // Nothing changed: nothing to do.
    assert_eq!(t.reconfigure(&new), Reprogram::default());
}
