//! Import and export through the BIRD front end's programs, on Calico's rendered fixtures
//! (conf/tests/fixtures/calico): the verdicts and attribute changes BIRD 1.6 would make.

use std::net::{IpAddr, Ipv4Addr};

use bgp_proto::attribute::{AsPath, Community, Origin, PathAttributes};
use bgp_proto::{Asn, Family, Prefix, RouterId, SessionContext};
use rib::{
    AttrSet, ExportPolicy as _, ExportVerdict, GroupKey, ImportPolicy as _, ImportVerdict, Rib,
    RouteOrigin, SelectedRoute, SessionKind,
};

use super::{local_info, peer_id, CompiledPolicy};

fn pfx(s: &str) -> Prefix {
    s.parse().unwrap()
}

fn group(c: &conf::Config, p: &CompiledPolicy, neighbor: usize) -> GroupKey {
    let info = p.peer_info(peer_id(neighbor), &c.neighbors[neighbor]);
    GroupKey {
        kind: SessionKind::Ibgp,
        local_as: None,
        policy_prepends_own_as: false,
        rr_client: false,
        next_hop: rib::NextHopMode::Default,
        local_v4: Some(Ipv4Addr::new(10, 192, 0, 2)),
        local_v6: None,
        local_link_local: None,
        export_policy: info.export_policy,
        context: SessionContext::default(),
        families: vec![Family::Ipv4Unicast],
    }
}

fn selected(rib: &mut Rib, origin: RouteOrigin, attrs: PathAttributes) -> SelectedRoute {
    let from_peer = matches!(origin, RouteOrigin::Peer { .. });
    let attrs = rib.intern(AttrSet {
        attrs,
        mp_next_hop: None,
    });
    SelectedRoute {
        peer: from_peer.then_some(rib::PeerId(1)),
        origin,
        path_id: 0,
        attrs,
        next_hop: from_peer.then_some(IpAddr::V4(Ipv4Addr::new(10, 192, 0, 3))),
        igp_cost: None,
        stale: false,
    }
}

fn local() -> (RouteOrigin, PathAttributes) {
    let attrs = PathAttributes {
        origin: Some(Origin::Igp),
        ..PathAttributes::default()
    };
    (RouteOrigin::Local, attrs)
}

fn peer() -> RouteOrigin {
    RouteOrigin::Peer {
        kind: SessionKind::Ibgp,
        rr_client: false,
        router_id: RouterId(Ipv4Addr::new(10, 192, 0, 3)),
        addr: IpAddr::V4(Ipv4Addr::new(10, 192, 0, 3)),
    }
}

fn replaced(v: ExportVerdict) -> PathAttributes {
    match v {
        ExportVerdict::Replace(set) => set.attrs,
        other => panic!("expected Replace, got {other:?}"),
    }
}

#[test]
fn mesh_exports_own_blocks_with_calicos_local_pref_and_nothing_beneath_them() {
    let c = crate::fixtures::calico("gen2/mesh/ipip-always/bird.cfg");
    let mut p = CompiledPolicy::new(&c);
    let mut rib = Rib::new(local_info(&c));
    // The two mesh peers have the same inline export filter: one export policy id.
    assert_eq!(
        group(&c, &p, 0).export_policy,
        group(&c, &p, 1).export_policy
    );
    let g = group(&c, &p, 0);
    let (o, a) = local();
    let block = selected(&mut rib, o, a.clone());
    // `bgp_local_pref = 2147483647 - krt_metric` with krt_metric defaulted to 1024.
    let out = replaced(p.export(&g, &pfx("192.168.221.64/26"), &block));
    assert_eq!(out.local_pref, Some(2147483647 - 1024));
    // A pod route inside our block (no krt_metric below 1024): calico_aggr rejects it.
    let (o, a) = local();
    let pod = selected(&mut rib, o, a);
    assert_eq!(
        p.export(&g, &pfx("192.168.221.70/32"), &pod),
        ExportVerdict::Reject
    );
    // Outside every block and pool: rejected by the final `reject`.
    let (o, a) = local();
    let other = selected(&mut rib, o, a);
    assert_eq!(
        p.export(&g, &pfx("172.31.0.0/24"), &other),
        ExportVerdict::Reject
    );
    // Another node's block learned over BGP, inside the pool: accepted as it is (its local pref
    // is defined, so the filter only computes krt_metric, which BGP does not carry).
    let learned = selected(
        &mut rib,
        peer(),
        PathAttributes {
            origin: Some(Origin::Igp),
            local_pref: Some(2147483647 - 1024),
            ..PathAttributes::default()
        },
    );
    assert_eq!(
        p.export(&g, &pfx("192.168.5.0/26"), &learned),
        ExportVerdict::Accept
    );
    // Import: `import filter { …; accept; }` keeps everything, except our own block coming
    // back (our static route wins in BIRD).
    let info = p.peer_info(peer_id(0), &c.neighbors[0]);
    let set = AttrSet {
        attrs: PathAttributes {
            local_pref: Some(2147483647 - 1024),
            ..PathAttributes::default()
        },
        mp_next_hop: None,
    };
    assert_eq!(
        p.import(&info, &pfx("192.168.5.0/26"), &set),
        ImportVerdict::Accept
    );
    // Without LOCAL_PREF (as from an eBGP peer), BIRD gives it the default 100 first.
    let bare = AttrSet {
        attrs: PathAttributes::default(),
        mp_next_hop: None,
    };
    match p.import(&info, &pfx("192.168.5.0/26"), &bare) {
        ImportVerdict::Replace(s) => assert_eq!(s.attrs.local_pref, Some(100)),
        other => panic!("expected Replace, got {other:?}"),
    }
    assert_eq!(
        p.import(&info, &pfx("192.168.221.64/26"), &set),
        ImportVerdict::Reject
    );
}

#[test]
fn bgpfilter_functions_match_communities_set_local_pref_add_communities_and_prepend() {
    let c = crate::fixtures::calico("gen2/bgpfilter/communities_and_operations/bird.cfg");
    let mut p = CompiledPolicy::new(&c);
    let mut rib = Rib::new(local_info(&c));
    let info = p.peer_info(peer_id(0), &c.neighbors[0]);
    // Import: only routes with (65000, 100), which get local pref 2147483391.
    let plain = AttrSet {
        attrs: PathAttributes::default(),
        mp_next_hop: None,
    };
    assert_eq!(
        p.import(&info, &pfx("10.50.0.0/24"), &plain),
        ImportVerdict::Reject
    );
    let tagged = AttrSet {
        attrs: PathAttributes {
            communities: Some(vec![Community::new(65000, 100)]),
            ..PathAttributes::default()
        },
        mp_next_hop: None,
    };
    match p.import(&info, &pfx("10.50.0.0/24"), &tagged) {
        ImportVerdict::Replace(set) => assert_eq!(set.attrs.local_pref, Some(2147483391)),
        other => panic!("expected Replace, got {other:?}"),
    }
    // Export: the BGPFilter runs before Calico's rules: without (65000, 42) everything is
    // rejected, even our own block.
    let g = group(&c, &p, 0);
    let (o, a) = local();
    let block = selected(&mut rib, o, a);
    assert_eq!(
        p.export(&g, &pfx("192.168.221.64/26"), &block),
        ExportVerdict::Reject
    );
    // A learned route with it (a static route has no communities in BIRD): (65001, 200)
    // added, 65000 prepended, local pref from the metric line (none was set).
    let (_, mut a) = local();
    a.communities = Some(vec![Community::new(65000, 42)]);
    a.as_path = Some(AsPath::from_sequence([Asn(65100)]));
    let learned = selected(&mut rib, peer(), a);
    let out = replaced(p.export(&g, &pfx("192.168.5.0/26"), &learned));
    assert_eq!(
        out.communities,
        Some(vec![Community::new(65000, 42), Community::new(65001, 200)])
    );
    assert_eq!(
        out.as_path,
        Some(AsPath::from_sequence([Asn(65000), Asn(65100)]))
    );
    assert_eq!(out.local_pref, Some(2147483647 - 1024));
}

#[test]
fn towards_ebgp_our_as_is_on_the_path_before_the_filter_prepends() {
    // BIRD's BGP protocol prepends our AS before the export filter runs, so a BGPFilter's
    // `bgp_path.prepend(65000)` lands in front of it: 65000 64512 65100, not 64512 65000 65100.
    let c = crate::fixtures::calico("gen2/bgpfilter/communities_and_operations/bird.cfg");
    let mut p = CompiledPolicy::new(&c);
    let mut rib = Rib::new(local_info(&c));
    let info = p.peer_info(peer_id(0), &c.neighbors[0]);
    assert!(
        info.policy_prepends_own_as,
        "the RIB must not prepend again"
    );
    let mut g = group(&c, &p, 0);
    g.kind = SessionKind::Ebgp;
    g.policy_prepends_own_as = true;
    let (_, mut a) = local();
    a.communities = Some(vec![Community::new(65000, 42)]);
    a.as_path = Some(AsPath::from_sequence([Asn(65100)]));
    let learned = selected(&mut rib, peer(), a);
    let out = replaced(p.export(&g, &pfx("192.168.5.0/26"), &learned));
    assert_eq!(
        out.as_path,
        Some(AsPath::from_sequence([Asn(65000), Asn(64512), Asn(65100)]))
    );
    // Accepted without changes, a route still gets our AS from the policy.
    let mesh = crate::fixtures::calico("gen2/mesh/ipip-always/bird.cfg");
    let mut p = CompiledPolicy::new(&mesh);
    let mut g = group(&mesh, &p, 0);
    g.kind = SessionKind::Ebgp;
    let (o, a) = local();
    let block = selected(&mut rib, o, a);
    let out = replaced(p.export(&g, &pfx("192.168.221.64/26"), &block));
    assert_eq!(out.as_path, Some(AsPath::from_sequence([Asn(64512)])));
}
