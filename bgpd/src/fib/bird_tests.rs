//! The kernel path with a configuration read from BIRD text: Calico's rendered fixtures
//! (conf/tests/fixtures/calico), their `calico_kernel_programming` filter deciding metric and
//! tunnel per route, and their static protocol's routes.

use std::net::{IpAddr, Ipv4Addr};

use bgp_proto::attribute::PathAttributes;
use bgp_proto::RouterId;
use fib_sync::{NextHop, Route, RouteDelta};
use rib::{AttrSet, LocRibChange, PeerId, Rib, RouteOrigin, SelectedRoute, SessionKind};

use super::Translator;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> ipnet::IpNet {
    s.parse().unwrap()
}

/// A Loc-RIB change for `prefix` via `hops`, each path from an iBGP peer with `local_pref`.
fn change(rib: &mut Rib, prefix: &str, hops: &[&str], local_pref: Option<u32>) -> LocRibChange {
    let routes = hops
        .iter()
        .map(|h| {
            let attrs = rib.intern(AttrSet {
                attrs: PathAttributes {
                    local_pref,
                    ..PathAttributes::default()
                },
                mp_next_hop: None,
            });
            SelectedRoute {
                peer: Some(PeerId(1)),
                origin: RouteOrigin::Peer {
                    kind: SessionKind::Ibgp,
                    rr_client: false,
                    router_id: RouterId(Ipv4Addr::new(10, 192, 0, 3)),
                    addr: ip(h),
                },
                path_id: 0,
                attrs,
                next_hop: Some(ip(h)),
                igp_cost: None,
                stale: false,
            }
        })
        .collect();
    LocRibChange {
        prefix: net(prefix),
        routes,
    }
}

fn rib(config: &conf::Config) -> Rib {
    Rib::new(crate::policy_compile::local_info(config))
}

#[test]
fn generation_1_cross_subnet_filter_tunnels_only_off_subnet_next_hops() {
    // v3.31: `if net ~ 192.168.0.0/16 { if bgp_next_hop ~ 10.192.0.0/16 then krt_tunnel = "";
    // else krt_tunnel = "tunl0"; accept; }`, no krt_metric.
    let c = crate::fixtures::calico("gen1/mesh/ipip-cross-subnet/bird.cfg");
    let mut t = Translator::new(&c);
    let mut r = rib(&c);
    let same = change(&mut r, "192.168.5.0/26", &["10.192.0.3"], Some(100));
    let other = change(&mut r, "192.168.6.0/26", &["10.193.0.3"], Some(100));
    let outside = change(&mut r, "172.16.0.0/24", &["10.193.0.3"], Some(100));
    let mut d = t.apply_changes(vec![same, other, outside]);
    d.sort_by_key(RouteDelta::prefix);
    assert_eq!(
        d,
        vec![
            RouteDelta::Install(Route::via(
                net("172.16.0.0/24"),
                vec![NextHop::recursive(ip("10.193.0.3"))]
            )),
            RouteDelta::Install(Route::via(
                net("192.168.5.0/26"),
                vec![NextHop::recursive(ip("10.192.0.3"))]
            )),
            RouteDelta::Install(Route::via(
                net("192.168.6.0/26"),
                vec![NextHop::onlink(ip("10.193.0.3"), "tunl0")]
            )),
        ]
    );
}

#[test]
fn generation_2_filter_turns_local_pref_into_the_kernel_metric() {
    // v3.32+: krt_metric = 2147483647 - bgp_local_pref for BGP routes (1024 by default, lower
    // for a BGPFilter priority), nothing for the static blackholes.
    let c = crate::fixtures::calico("gen2/bgpfilter/communities_and_operations/bird.cfg");
    let mut t = Translator::new(&c);
    let mut r = rib(&c);
    let default = change(
        &mut r,
        "10.50.0.0/26",
        &["10.192.0.3"],
        Some(2147483647 - 1024),
    );
    let priority = change(
        &mut r,
        "10.50.1.0/26",
        &["10.192.0.4"],
        Some(2147483647 - 512),
    );
    let mut d = t.apply_changes(vec![default, priority]);
    d.sort_by_key(RouteDelta::prefix);
    assert_eq!(
        d,
        vec![
            RouteDelta::Install(
                Route::via(
                    net("10.50.0.0/26"),
                    vec![NextHop::recursive(ip("10.192.0.3"))]
                )
                .with_metric(Some(1024))
            ),
            RouteDelta::Install(
                Route::via(
                    net("10.50.1.0/26"),
                    vec![NextHop::recursive(ip("10.192.0.4"))]
                )
                .with_metric(Some(512))
            ),
        ]
    );
    // The static protocol's blackholes pass the filter's final `accept` without a metric.
    let mut local = t.local_routes().to_vec();
    local.sort_by_key(|r| r.prefix);
    let mut want: Vec<Route> = [
        "10.0.0.0/30",
        "10.1.0.0/24",
        "192.168.221.192/26",
        "192.168.221.64/26",
    ]
    .iter()
    .map(|p| Route::blackhole(net(p)))
    .collect();
    want.sort_by_key(|r| r.prefix);
    assert_eq!(local, want);
    // Withdrawn: removed.
    let gone = LocRibChange {
        prefix: net("10.50.0.0/26"),
        routes: Vec::new(),
    };
    assert_eq!(
        t.apply_changes(vec![gone]),
        vec![RouteDelta::Remove(net("10.50.0.0/26"))]
    );
}

#[test]
fn merge_paths_installs_every_accepted_path_with_the_best_paths_metric() {
    let c = crate::fixtures::calico("gen2/mesh/ipip-always/bird.cfg");
    assert!(c.bird.as_ref().is_some_and(|b| b.merge_paths));
    let mut t = Translator::new(&c);
    let mut r = rib(&c);
    let ecmp = change(
        &mut r,
        "10.50.0.0/26",
        &["10.192.0.3", "10.192.0.4"],
        Some(2147483647 - 1024),
    );
    assert_eq!(
        t.apply_changes(vec![ecmp]),
        vec![RouteDelta::Install(
            Route::via(
                net("10.50.0.0/26"),
                vec![
                    NextHop::recursive(ip("10.192.0.3")),
                    NextHop::recursive(ip("10.192.0.4"))
                ]
            )
            .with_metric(Some(1024))
        )]
    );
}
