use std::net::{IpAddr, Ipv4Addr};

use bgp_proto::attribute::{Community, PathAttributes};
use bgp_proto::{Family, RouterId, SessionContext};
use rib::{ExportPolicy as _, ImportPolicy as _, Rib};

use super::*;

const CONFIG: &str = r#"
router_id = "10.99.0.1"
local_as = 64512
local_blocks = ["10.64.1.0/26"]
static_routes = ["10.96.0.0/12"]

[[ip_pools]]
cidr = "10.64.0.0/16"

[[ip_pools]]
cidr = "10.65.0.0/16"
disable_bgp_export = true

[[prefix_advertisements]]
cidr = "10.64.0.0/16"
communities = ["65000:7"]

[[filters]]
name = "no-test-nets"
[[filters.export_v4]]
cidr = "10.64.9.0/24"
match_operator = "In"
action = "Reject"
[[filters.import_v4]]
cidr = "192.0.2.0/24"
match_operator = "In"
action = "Reject"

[bgp]
max_paths = 4
always_compare_med = true

[[neighbors]]
name = "mesh_2"
address = "10.99.0.2"
remote_as = 64512

[[neighbors]]
name = "tor"
address = "10.99.0.3"
remote_as = 65001
filters = ["no-test-nets"]

[[neighbors]]
name = "tor_b"
address = "10.99.0.4"
remote_as = 65001
filters = ["no-test-nets"]
"#;

fn config() -> Config {
    Config::from_str(CONFIG, "t.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn pfx(s: &str) -> Prefix {
    s.parse().unwrap()
}

fn key(kind: SessionKind, export_policy: u64) -> GroupKey {
    GroupKey {
        kind,
        local_as: None,
        policy_prepends_own_as: false,
        rr_client: false,
        next_hop: rib::NextHopMode::Default,
        local_v4: Some(Ipv4Addr::new(10, 99, 0, 1)),
        local_v6: None,
        local_link_local: None,
        export_policy,
        context: SessionContext::default(),
        families: vec![Family::Ipv4Unicast],
    }
}

fn route(rib: &mut Rib, origin: RouteOrigin) -> SelectedRoute {
    let attrs = rib.intern(AttrSet {
        attrs: PathAttributes {
            origin: Some(Origin::Igp),
            next_hop: Some(Ipv4Addr::new(10, 99, 0, 9)),
            ..PathAttributes::default()
        },
        mp_next_hop: None,
    });
    SelectedRoute {
        peer: None,
        origin,
        path_id: 0,
        attrs,
        next_hop: None,
        igp_cost: None,
        stale: false,
    }
}

fn from_peer(kind: SessionKind) -> RouteOrigin {
    RouteOrigin::Peer {
        kind,
        rr_client: false,
        router_id: RouterId(Ipv4Addr::new(10, 99, 0, 9)),
        addr: IpAddr::V4(Ipv4Addr::new(10, 99, 0, 9)),
    }
}

#[test]
fn decision_options_and_local_info_follow_the_bgp_section() {
    let c = config();
    let l = local_info(&c);
    assert_eq!(l.asn, Asn(64512));
    assert_eq!(l.decision.max_paths, 4);
    assert!(l.decision.always_compare_med);
    assert_eq!(l.cluster_id, None);
    let mut d = c.decision;
    d.max_paths = 0;
    assert_eq!(decision_options(&d).max_paths, 1, "0 would select nothing");
}

#[test]
fn peers_with_equal_filter_lists_share_an_export_policy_id() {
    let c = config();
    let p = CompiledPolicy::new(&c);
    let ids: Vec<u64> = c
        .neighbors
        .iter()
        .enumerate()
        .map(|(i, n)| p.peer_info(peer_id(i), n).export_policy)
        .collect();
    assert_eq!(ids[0], 0);
    assert_ne!(ids[1], 0);
    assert_eq!(ids[1], ids[2]);
    let info = p.peer_info(peer_id(1), &c.neighbors[1]);
    assert_eq!(info.id, PeerId(2));
    assert_eq!(info.asn, Asn(65001));
}

#[test]
fn originates_blocks_and_static_routes_with_origin_igp() {
    let p = CompiledPolicy::new(&config());
    let o = p.originated();
    let prefixes: Vec<Prefix> = o.iter().map(|(p, _)| *p).collect();
    assert_eq!(prefixes, vec![pfx("10.64.1.0/26"), pfx("10.96.0.0/12")]);
    assert!(o
        .iter()
        .all(|(_, a)| a.attrs.origin == Some(Origin::Igp) && a.next_hop().is_none()));
    assert_eq!(
        p.source_of(&pfx("10.64.1.0/26"), &RouteOrigin::Local),
        RouteSource::OwnBlock
    );
    assert_eq!(
        p.source_of(&pfx("10.96.0.0/12"), &RouteOrigin::Local),
        RouteSource::Static
    );
}

#[test]
fn export_accepts_blocks_with_advertised_communities_and_rejects_what_calico_rejects() {
    let c = config();
    let mut p = CompiledPolicy::new(&c);
    let mut rib = Rib::new(local_info(&c));
    let tor = p.peer_info(peer_id(1), &c.neighbors[1]).export_policy;
    // Our block: accepted, with the prefixAdvertisements community added.
    let own = route(&mut rib, RouteOrigin::Local);
    match p.export(&key(SessionKind::Ibgp, 0), &pfx("10.64.1.0/26"), &own) {
        ExportVerdict::Replace(set) => {
            assert_eq!(set.attrs.communities, Some(vec![Community::new(65000, 7)]))
        }
        v => panic!("expected a replaced route, got {v:?}"),
    }
    // A service CIDR: accepted unchanged (outside every advertisement).
    assert_eq!(
        p.export(&key(SessionKind::Ebgp, tor), &pfx("10.96.0.0/12"), &own),
        ExportVerdict::Accept
    );
    // A pod /32 inside our block: the block is announced instead.
    assert_eq!(
        p.export(&key(SessionKind::Ibgp, 0), &pfx("10.64.1.5/32"), &own),
        ExportVerdict::Reject
    );
    // Inside a pool with disableBGPExport.
    let learned = route(&mut rib, from_peer(SessionKind::Ibgp));
    assert_eq!(
        p.export(&key(SessionKind::Ibgp, 0), &pfx("10.65.3.0/26"), &learned),
        ExportVerdict::Reject
    );
    // Outside every pool.
    assert_eq!(
        p.export(
            &key(SessionKind::Ebgp, tor),
            &pfx("198.51.100.0/24"),
            &learned
        ),
        ExportVerdict::Reject
    );
    // Another node's block: allowed to the mesh, rejected by the ToR's filter.
    assert!(matches!(
        p.export(&key(SessionKind::Ibgp, 0), &pfx("10.64.9.0/26"), &learned),
        ExportVerdict::Replace(_)
    ));
    assert_eq!(
        p.export(&key(SessionKind::Ebgp, tor), &pfx("10.64.9.0/26"), &learned),
        ExportVerdict::Reject
    );
}

#[test]
fn import_rejects_our_own_block_and_filtered_routes() {
    let c = config();
    let mut p = CompiledPolicy::new(&c);
    let mesh = p.peer_info(peer_id(0), &c.neighbors[0]);
    let tor = p.peer_info(peer_id(1), &c.neighbors[1]);
    let set = AttrSet::default();
    use ImportVerdict::{Accept, Reject};
    // The last four alternate peers: each route meets its own peer's filters (the last
    // lookup is cached).
    let cases = [
        (&mesh, "10.64.1.0/26", Reject),
        (&mesh, "10.64.1.8/32", Accept),
        (&mesh, "192.0.2.0/24", Accept),
        (&tor, "192.0.2.0/25", Reject),
        (&tor, "0.0.0.0/0", Accept),
        (&mesh, "192.0.2.0/25", Accept),
        (&tor, "192.0.2.0/25", Reject),
        (&mesh, "192.0.2.0/25", Accept),
        (&tor, "192.0.2.0/25", Reject),
    ];
    for (peer, prefix, want) in cases {
        assert_eq!(
            p.import(peer, &pfx(prefix), &set),
            want,
            "{prefix} from {}",
            peer.addr
        );
    }
}

#[test]
fn every_filter_of_the_example_compiles() {
    let text = include_str!("../../../conf/examples/bgpd.toml")
        .replace("password_file = \"/etc/calico/bgp-tor1.key\"\n", "");
    let c = Config::from_str(&text, "bgpd.toml").unwrap_or_else(|e| panic!("{e}"));
    let p = CompiledPolicy::new(&c);
    assert_eq!(
        p.filter_sets.iter().flatten().map(Vec::len).sum::<usize>() > 0,
        !c.filters.is_empty()
    );
}

#[test]
fn peer_info_carries_reflection_next_hop_allow_own_as_and_source_address() {
    let text = CONFIG.replace(
        "name = \"tor\"\naddress = \"10.99.0.3\"\nremote_as = 65001\n",
        "name = \"tor\"\naddress = \"10.99.0.3\"\nremote_as = 65001\nallow_own_as = 1\n\
         next_hop = \"keep\"\nsource_address = \"10.99.0.1\"\n",
    );
    let text = text.replace(
        "name = \"mesh_2\"\naddress = \"10.99.0.2\"\nremote_as = 64512\n",
        "name = \"mesh_2\"\naddress = \"10.99.0.2\"\nremote_as = 64512\n\
         route_reflector_client = true\n",
    );
    let c = Config::from_str(&text, "t.toml").unwrap_or_else(|e| panic!("{e}"));
    let p = CompiledPolicy::new(&c);
    let mesh = p.peer_info(peer_id(0), &c.neighbors[0]);
    assert!(mesh.rr_client);
    assert_eq!(mesh.next_hop, rib::NextHopMode::Default);
    let tor = p.peer_info(peer_id(1), &c.neighbors[1]);
    assert_eq!(tor.allow_own_as, 1);
    assert_eq!(tor.next_hop, rib::NextHopMode::Keep);
    assert_eq!(tor.local_v4, Some(Ipv4Addr::new(10, 99, 0, 1)));
    assert!(!tor.rr_client);
}

#[test]
fn a_recompiled_policy_keeps_the_ids_of_unchanged_filter_lists() {
    let text = |a_filters: &str, f1: &str| {
        format!(
            "router_id = \"10.99.0.1\"\nlocal_as = 64512\n\
             filters = [{{ name = \"f1\", export_v4 = [{{ cidr = \"{f1}\", match_operator = \"Equal\", action = \"Reject\" }}] }}, \
             {{ name = \"f2\", export_v4 = [{{ cidr = \"10.2.0.0/16\", match_operator = \"Equal\", action = \"Reject\" }}] }}]\n\
             [[neighbors]]\nname = \"a\"\naddress = \"10.99.0.2\"\nremote_as = 64512\nfilters = {a_filters}\n\
             [[neighbors]]\nname = \"b\"\naddress = \"10.99.0.3\"\nremote_as = 64512\nfilters = [\"f2\"]\n\
             [[neighbors]]\nname = \"c\"\naddress = \"10.99.0.4\"\nremote_as = 64512\n"
        )
    };
    let compile = |text: &str| {
        let c = Config::from_str(text, "t.toml").unwrap_or_else(|e| panic!("{e}"));
        let p = CompiledPolicy::new(&c);
        (p, c)
    };
    let ids = |p: &CompiledPolicy, c: &Config| -> Vec<u64> {
        c.neighbors
            .iter()
            .enumerate()
            .map(|(i, n)| p.peer_info(peer_id(i), n).export_policy)
            .collect()
    };
    let (running, c0) = compile(&text("[\"f1\"]", "10.1.0.0/16"));
    let before = ids(&running, &c0);
    assert_eq!(before, vec![1, 2, 0]);
    // `a` drops its list: a fresh compile numbers b's list 1, which was a's.
    let (mut fresh, c1) = compile(&text("[]", "10.1.0.0/16"));
    assert_eq!(
        ids(&fresh, &c1),
        vec![0, 1, 0],
        "positions alone renumber b"
    );
    fresh.keep_ids(&running);
    assert_eq!(
        ids(&fresh, &c1),
        vec![0, 2, 0],
        "b's unchanged list keeps its id"
    );
    // f1 changes: `a` takes an id the running policy does not use, b and c keep theirs.
    let (mut fresh, c2) = compile(&text("[\"f1\"]", "10.9.0.0/16"));
    fresh.keep_ids(&running);
    let after = ids(&fresh, &c2);
    assert_eq!(after[1..], before[1..]);
    assert!(!before.contains(&after[0]), "{before:?} -> {after:?}");
}

#[test]
fn lists_that_export_alike_share_an_export_id_and_keep_their_own_import_rules() {
    let c = Config::from_str(
        "router_id = \"10.99.0.1\"\nlocal_as = 64512\n\
         filters = [{ name = \"i\", import_v4 = [{ cidr = \"10.2.0.0/16\", match_operator = \"Equal\", action = \"Reject\" }] }]\n\
         [[neighbors]]\nname = \"a\"\naddress = \"10.99.0.2\"\nremote_as = 64512\nfilters = [\"i\"]\n\
         [[neighbors]]\nname = \"b\"\naddress = \"10.99.0.3\"\nremote_as = 64512\n",
        "t.toml",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut p = CompiledPolicy::new(&c);
    let a = p.peer_info(peer_id(0), &c.neighbors[0]);
    let b = p.peer_info(peer_id(1), &c.neighbors[1]);
    assert_eq!(a.export_policy, b.export_policy, "one update group");
    let prefix: Prefix = "10.2.0.0/16".parse().unwrap();
    let attrs = AttrSet::default();
    assert_eq!(p.import(&a, &prefix, &attrs), ImportVerdict::Reject);
    assert_ne!(p.import(&b, &prefix, &attrs), ImportVerdict::Reject);
}
