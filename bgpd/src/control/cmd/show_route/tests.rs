use super::*;
use crate::route_view::{BgpRouteInfo, Origin};
use std::net::IpAddr;

fn entry(net: &str, len: u8, d: Destination, proto: &str, pref: u32) -> RouteEntry {
    RouteEntry {
        net: Net {
            addr: net.parse::<IpAddr>().unwrap(),
            len,
        },
        destination: d,
        protocol: proto.into(),
        since: SystemTime::now(),
        from: None,
        primary: true,
        preference: pref,
        bgp: None,
        source: RouteSource::Static,
        path: None,
        not_best: None,
    }
}

fn dev(net: &str, len: u8) -> RouteEntry {
    entry(
        net,
        len,
        Destination::Device {
            interface: "eth0".into(),
        },
        "direct1",
        240,
    )
}

fn bgp(net: &str, len: u8) -> RouteEntry {
    entry(
        net,
        len,
        Destination::Router {
            gateway: "10.99.0.2".parse().unwrap(),
            interface: "eth0".into(),
        },
        "Mesh_10_99_0_2",
        100,
    )
}

#[test]
fn device_routes_join_the_ribs_answer_as_the_best_of_their_network() {
    let direct = vec![dev("10.99.0.0", 24), dev("10.64.9.0", 26)];
    let rib = RouteReply::Routes(vec![bgp("10.64.2.0", 26), bgp("10.64.9.0", 26)]);
    let all = RouteQuery::default();
    let RouteReply::Routes(v) = with_direct(rib.clone(), direct.clone(), &all) else {
        panic!()
    };
    let got: Vec<(String, &str, bool)> = v
        .iter()
        .map(|r| {
            (
                format!("{}/{}", r.net.addr, r.net.len),
                r.protocol.as_str(),
                r.primary,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("10.64.2.0/26".to_string(), "Mesh_10_99_0_2", true),
            ("10.64.9.0/26".to_string(), "direct1", true),
            ("10.64.9.0/26".to_string(), "Mesh_10_99_0_2", false),
            ("10.99.0.0/24".to_string(), "direct1", true),
        ]
    );
    assert_eq!(
        v[2].not_best,
        Some(NotBest::Preference {
            this: 100,
            best: 240,
            winner: "direct1".into()
        }),
        "the BGP route lost on BIRD's preference"
    );
    // `for ADDR`: the longest network holding it, wherever it comes from.
    let q = RouteQuery {
        for_net: Some(Net {
            addr: "10.99.0.9".parse().unwrap(),
            len: 32,
        }),
        ..RouteQuery::default()
    };
    let RouteReply::Routes(v) = with_direct(RouteReply::Routes(vec![]), direct.clone(), &q) else {
        panic!()
    };
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].protocol, "direct1");
    // Counts add the device routes.
    let count = RouteReply::Count {
        routes: 2,
        primary: 2,
        networks: 2,
        total: 2,
    };
    assert_eq!(
        with_direct(count, direct, &all),
        RouteReply::Count {
            routes: 4,
            primary: 4,
            networks: 4,
            total: 4
        }
    );
}

#[test]
fn a_listing_in_pages_writes_what_the_whole_reply_did() {
    let direct = vec![
        dev("10.99.0.0", 24),
        dev("10.64.9.0", 26),
        dev("10.0.0.0", 8),
    ];
    let rib = vec![
        bgp("10.64.2.0", 26),
        bgp("10.64.9.0", 26),
        bgp("10.64.9.0", 26),
        bgp("10.64.10.0", 26),
    ];
    let now = SystemTime::now();
    for (primary, all) in [(false, false), (true, false), (false, true), (true, true)] {
        let q = RouteQuery {
            primary,
            all,
            ..RouteQuery::default()
        };
        let mut whole = Framer::new();
        render(
            &with_direct(RouteReply::Routes(rib.clone()), direct.clone(), &q),
            &q,
            now,
            &mut whole,
        );
        // Pages cut anywhere between networks, the device routes merged as they come.
        for cut in [1, 3, 4] {
            let mut f = Framer::new();
            let mut l = Listing::new(direct.clone(), true, primary);
            l.all = all;
            let (a, b) = rib.split_at(cut);
            let n = a.last().map(|r| r.net);
            l.page(a.to_vec(), n.as_ref(), now, &mut f);
            let first = f.take();
            l.page(b.to_vec(), None, now, &mut f);
            l.finish(now, &mut f);
            assert_eq!(
                first + &f.take(),
                whole.take(),
                "cut {cut}, primary {primary}, all {all}"
            );
            render(
                &with_direct(RouteReply::Routes(rib.clone()), direct.clone(), &q),
                &q,
                now,
                &mut whole,
            );
        }
    }
}

#[test]
fn route_lines_match_bird_1_6_shapes() {
    let now = SystemTime::now();
    let t = time::short(now, now);
    let dev = entry(
        "10.99.0.0",
        24,
        Destination::Device {
            interface: "ck1".into(),
        },
        "direct1",
        240,
    );
    assert_eq!(
        lines(&dev, true, now),
        vec![format!("10.99.0.0/24       dev ck1 [direct1 {t}] * (240)")]
    );
    let bh = entry("10.99.64.0", 26, Destination::Blackhole, "static1", 200);
    assert_eq!(
        lines(&bh, true, now),
        vec![format!(
            "10.99.64.0/26      blackhole [static1 {t}] * (200)"
        )]
    );
    let mut bgp = entry(
        "10.99.65.0",
        26,
        Destination::Router {
            gateway: "10.99.0.2".parse().unwrap(),
            interface: "ck1".into(),
        },
        "Mesh_10_99_0_2",
        100,
    );
    bgp.bgp = Some(BgpRouteInfo {
        igp_metric: Some(0),
        origin_as: None,
        origin: Some(Origin::Igp),
        stale: false,
        unresolved: false,
    });
    assert_eq!(
        lines(&bgp, true, now),
        vec![format!(
            "10.99.65.0/26      via 10.99.0.2 on ck1 [Mesh_10_99_0_2 {t}] * (100/0) [i]"
        )]
    );
    bgp.primary = false;
    bgp.bgp = Some(BgpRouteInfo {
        igp_metric: None,
        origin_as: Some(65001),
        origin: Some(Origin::Incomplete),
        stale: false,
        unresolved: false,
    });
    bgp.from = Some("10.99.0.9".parse().unwrap());
    assert_eq!(
        lines(&bgp, false, now),
        vec![format!("                   via 10.99.0.2 on ck1 [Mesh_10_99_0_2 {t} from 10.99.0.9] (100) [AS65001?]")]
    );
}

/// A BGP route of `peer` with `attrs` (and the decision keys of a route with them).
fn bgp_route(net: &str, peer: u8, a: bgp_proto::attribute::PathAttributes) -> RouteEntry {
    use std::net::Ipv4Addr;
    let gw: IpAddr = format!("10.99.0.{peer}").parse().unwrap();
    let mut rib = rib::Rib::new(rib::LocalInfo::new(
        bgp_proto::RouterId(Ipv4Addr::new(10, 99, 0, 1)),
        bgp_proto::Asn(64512),
    ));
    let keys = rib::DecisionKeys {
        local: false,
        local_pref: a.local_pref.unwrap_or(100),
        as_path_len: a.as_path.as_ref().map_or(0, |p| p.path_len()),
        origin: a.origin.unwrap_or(bgp_proto::attribute::Origin::Incomplete),
        neighbour_as: bgp_proto::Asn(64512),
        med: a.med.unwrap_or(0),
        external: false,
        igp_cost: Some(0),
        router_id: Ipv4Addr::new(10, 99, 0, peer),
        cluster_list_len: 0,
        peer_addr: gw,
        path_id: 0,
    };
    let mut e = entry(
        net,
        24,
        Destination::Router {
            gateway: gw,
            interface: "eth0".into(),
        },
        &format!("Mesh_10_99_0_{peer}"),
        100,
    );
    e.source = RouteSource::Bgp;
    e.bgp = Some(BgpRouteInfo {
        igp_metric: Some(0),
        origin_as: None,
        origin: Some(Origin::Igp),
        stale: false,
        unresolved: false,
    });
    e.path = Some(crate::route_view::BgpPath {
        attrs: rib.intern(rib::AttrSet {
            attrs: a,
            mp_next_hop: None,
        }),
        keys,
    });
    e
}

#[test]
fn show_route_all_frames_type_attribute_and_explanation_lines_as_bird_1_6() {
    use bgp_proto::attribute::{AsPath, PathAttributes};
    let attrs = |nh: u8, lp: Option<u32>| PathAttributes {
        origin: Some(bgp_proto::attribute::Origin::Igp),
        as_path: Some(AsPath::default()),
        next_hop: Some(std::net::Ipv4Addr::new(10, 99, 0, nh)),
        local_pref: lp,
        ..PathAttributes::default()
    };
    let best = bgp_route("10.99.5.0", 2, attrs(2, Some(200)));
    let mut other = bgp_route("10.99.5.0", 3, attrs(3, None));
    other.primary = false;
    let (Some(b), Some(o)) = (&best.path, &other.path) else {
        panic!()
    };
    other.not_best = Some(NotBest::Decision {
        reason: rib::LossReason::LocalPref,
        this: o.keys,
        best: b.keys,
        winner: best.protocol.clone(),
        winner_addr: Some(b.keys.peer_addr),
        in_ecmp: false,
    });
    let blackhole = entry("10.99.1.0", 26, Destination::Blackhole, "static1", 200);
    let now = SystemTime::now();
    let t = time::short(now, now);
    let q = RouteQuery {
        all: true,
        ..RouteQuery::default()
    };
    let mut f = Framer::new();
    render(
        &RouteReply::Routes(vec![blackhole, best, other]),
        &q,
        now,
        &mut f,
    );
    let want = format!(
        "1007-10.99.1.0/26       blackhole [static1 {t}] * (200)\n\
         1008-\tType: static unicast univ\n\
         1007-10.99.5.0/24       via 10.99.0.2 on eth0 [Mesh_10_99_0_2 {t}] * (100/0) [i]\n\
         1008-\tType: BGP unicast univ\n\
         1012-\tBGP.origin: IGP\n\
         \x20\tBGP.as_path: \n\
         \x20\tBGP.next_hop: 10.99.0.2\n\
         \x20\tBGP.local_pref: 200\n\
         1007-                   via 10.99.0.3 on eth0 [Mesh_10_99_0_3 {t}] (100/0) [i]\n\
         1008-\tType: BGP unicast univ\n\
         1012-\tBGP.origin: IGP\n\
         \x20\tBGP.as_path: \n\
         \x20\tBGP.next_hop: 10.99.0.3\n\
         \x20\tBGP.local_pref: 100\n\
         \x20\tNot best: lost on LOCAL_PREF (100 < 200) to 10.99.0.2\n\
         0000 \n"
    );
    assert_eq!(f.take(), want);
    // Without `all`: the route lines only, every path.
    let mut f = Framer::new();
    let mut one = bgp_route("10.99.5.0", 2, attrs(2, None));
    one.bgp.as_mut().unwrap().stale = true;
    render(
        &RouteReply::Routes(vec![one]),
        &RouteQuery::default(),
        now,
        &mut f,
    );
    assert_eq!(
        f.take(),
        format!(
            "1007-10.99.5.0/24       via 10.99.0.2 on eth0 [Mesh_10_99_0_2 {t}] * (100s/0) [i]\n0000 \n"
        ),
        "a stale route's preference carries BIRD's `s`"
    );
}

#[test]
fn replies_list_count_and_report_missing_networks() {
    let routes = vec![
        entry("10.99.0.0", 16, Destination::Unreachable, "static1", 200),
        entry("10.99.64.0", 26, Destination::Blackhole, "static1", 200),
    ];
    let now = SystemTime::now();
    let mut f = Framer::new();
    render(
        &RouteReply::Routes(routes.clone()),
        &RouteQuery::default(),
        now,
        &mut f,
    );
    let t = f.take();
    assert_eq!(t.lines().count(), 3, "two routes and 0000: {t}");
    assert!(t.starts_with("1007-10.99.0.0/16 "));
    let count = RouteReply::Count {
        routes: 2,
        primary: 2,
        networks: 2,
        total: 3,
    };
    render(&count, &RouteQuery::default(), now, &mut f);
    assert_eq!(f.take(), "0014 2 of 3 routes for 2 networks\n");
    let q = RouteQuery {
        exact: Some(Net {
            addr: "1.2.3.0".parse().unwrap(),
            len: 24,
        }),
        ..Default::default()
    };
    render(&RouteReply::Routes(Vec::new()), &q, now, &mut f);
    assert_eq!(f.take(), "8001 Network not in table\n");
    render(
        &RouteReply::Routes(Vec::new()),
        &RouteQuery::default(),
        now,
        &mut f,
    );
    assert_eq!(f.take(), "0000 \n", "an empty table is just OK");
}

#[test]
fn unknown_protocol_is_refused_without_asking_the_rib() {
    let (view, _keep) = crate::control::testing::view_with(&[("Mesh_10_99_0_2", "10.99.0.2")]);
    let q = RouteQuery {
        protocol: Some("nosuch".into()),
        ..Default::default()
    };
    let mut f = Framer::new();
    run(&view, &q, SystemTime::now(), &mut f);
    assert_eq!(f.take(), "9002 nosuch is not a protocol\n");
}

/// Runs `show route` the way the socket does: on the blocking pool.
async fn ask(view: &View, q: RouteQuery) -> String {
    let view = view.clone();
    tokio::task::spawn_blocking(move || {
        let mut f = Framer::new();
        run(&view, &q, SystemTime::now(), &mut f);
        f.take()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_goes_to_the_rib_with_the_socket_family_and_filters() {
    let (view, mut keep) = crate::control::testing::view_with(&[("Mesh_10_99_0_2", "10.99.0.2")]);
    let rib = tokio::spawn(async move {
        let Some(crate::rib_actor::RibRequest::Query(crate::rib_actor::RibQuery::Show {
            filter,
            reply,
        })) = keep.rib.recv().await
        else {
            panic!("a show query");
        };
        let _ = reply.send(RouteReply::Count {
            routes: 1,
            primary: 1,
            networks: 1,
            total: 5,
        });
        filter
    });
    let q = RouteQuery {
        protocol: Some("Mesh_10_99_0_2".into()),
        primary: true,
        count: true,
        ..Default::default()
    };
    assert_eq!(ask(&view, q).await, "0014 1 of 5 routes for 1 networks\n");
    let filter = rib.await.unwrap();
    assert_eq!(
        filter,
        RouteFilter {
            family: Some(crate::control::Family::V4),
            protocol: Some("Mesh_10_99_0_2".into()),
            primary: true,
            count: true,
            ..Default::default()
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rib_that_does_not_answer_gets_an_error_code_not_a_hang() {
    let (view, keep) = crate::control::testing::view_with(&[]);
    let started = std::time::Instant::now();
    assert_eq!(
        ask(&view, RouteQuery::default()).await,
        "8010 Routing table did not answer in time\n"
    );
    assert!(started.elapsed() >= crate::control::testing::QUERY_TIMEOUT);
    // The actor gone (every sender dropped): at once.
    drop(keep);
    assert_eq!(
        ask(&view, RouteQuery::default()).await,
        "8010 Routing table is not running\n"
    );
}
