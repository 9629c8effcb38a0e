use bgp_proto::attribute::{AsPath, Community, PathAttributes};
use bgp_proto::Asn;
use ipnet::IpNet;

use super::*;
use crate::route::{RouteInfo, RouteSource};

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

/// (cidr, operator, prefixLength, route, matches)
type Row<'a> = (
    &'a str,
    MatchOperator,
    Option<(Option<u8>, Option<u8>)>,
    &'a str,
    bool,
);

#[test]
fn cidr_match_table() {
    use MatchOperator::*;
    // (cidr, op, prefixLength, route, matches)
    let rows: &[Row<'_>] = &[
        ("10.0.0.0/8", In, None, "10.1.0.0/16", true),
        ("10.0.0.0/8", In, None, "10.0.0.0/8", true),
        ("10.0.0.0/8", In, None, "11.0.0.0/16", false),
        ("10.0.0.0/8", In, None, "10.0.0.0/7", false),
        (
            "10.0.0.0/8",
            In,
            Some((Some(16), Some(24))),
            "10.1.0.0/16",
            true,
        ),
        (
            "10.0.0.0/8",
            In,
            Some((Some(16), Some(24))),
            "10.1.1.0/24",
            true,
        ),
        (
            "10.0.0.0/8",
            In,
            Some((Some(16), Some(24))),
            "10.1.1.0/26",
            false,
        ),
        (
            "10.0.0.0/8",
            In,
            Some((Some(16), Some(24))),
            "10.0.0.0/8",
            false,
        ),
        // A min below the CIDR's length is raised to it (as Calico does).
        ("10.0.0.0/8", In, Some((Some(4), None)), "10.0.0.0/8", true),
        ("10.0.0.0/8", NotIn, None, "11.0.0.0/16", true),
        (
            "10.0.0.0/8",
            NotIn,
            Some((None, Some(24))),
            "10.1.1.0/26",
            true,
        ),
        ("10.0.0.0/8", NotIn, None, "10.1.1.0/26", false),
        ("10.64.0.0/26", Equal, None, "10.64.0.0/26", true),
        ("10.64.0.0/26", Equal, None, "10.64.0.0/27", false),
        ("10.64.0.0/26", NotEqual, None, "10.64.0.0/27", true),
        ("10.64.0.0/26", NotEqual, None, "10.64.0.0/26", false),
        (
            "fd00::/8",
            In,
            Some((Some(48), Some(64))),
            "fd00:1::/64",
            true,
        ),
        (
            "fd00::/8",
            In,
            Some((Some(48), Some(64))),
            "fd00:1::/122",
            false,
        ),
        ("fd00::/8", In, None, "10.0.0.0/8", false),
    ];
    for (i, (cidr, op, pl, route, want)) in rows.iter().enumerate() {
        let m = CidrMatch::new(net(cidr), *op, *pl).unwrap();
        assert_eq!(
            m.matches(&net(route)),
            *want,
            "row {i}: {cidr} {op:?} {pl:?} {route}"
        );
    }
}

#[test]
fn empty_prefix_length_range_is_an_error() {
    let e = CidrMatch::new(net("10.0.0.0/16"), MatchOperator::In, Some((None, Some(8))));
    assert!(matches!(e, Err(PolicyError::BadPrefixLength { .. })));
}

#[test]
fn community_values_parse_like_calico() {
    assert_eq!(
        "65000:100".parse::<CommunityValue>().unwrap(),
        CommunityValue::Standard(Community::new(65000, 100))
    );
    assert!(matches!(
        "4200000000:1:2".parse::<CommunityValue>().unwrap(),
        CommunityValue::Large(l) if l.global == 4_200_000_000 && l.local2 == 2
    ));
    for s in ["65000:100", "4200000000:1:2"] {
        assert_eq!(s.parse::<CommunityValue>().unwrap().to_string(), s);
    }
    for bad in [
        "65536:1",
        "1",
        "a:b",
        "1:2:3:4",
        "-1:2",
        "1:4294967296:0",
        "",
    ] {
        assert!(bad.parse::<CommunityValue>().is_err(), "{bad}");
    }
}

#[test]
fn filter_names_follow_the_kubernetes_rule() {
    assert!(FilterName::new("tor-export.v1").is_ok());
    assert!(FilterName::new("my_filter").is_ok());
    assert_eq!(FilterName::new(""), Err("is empty"));
    assert!(FilterName::new("-x").is_err());
    assert!(FilterName::new("x-").is_err());
    assert!(FilterName::new("x y").is_err());
    assert!(FilterName::new(&"a".repeat(253)).is_ok());
    assert!(FilterName::new(&"a".repeat(254)).is_err());
}

#[test]
fn glob_table() {
    let rows = [
        ("cali*", "cali1234", true),
        ("cali*", "tunl0", false),
        ("*.cali", "vxlan.cali", true),
        ("*.calico", "vxlan.calico", true),
        ("*.cali", "vxlan.calico", false),
        ("eth0", "eth0", true),
        ("e*h*", "eth0h", true),
        ("*", "", true),
        ("a*b", "ab", true),
        ("ab*b", "ab", false),
    ];
    for (p, s, want) in rows {
        assert_eq!(glob(p, s), want, "{p} vs {s}");
    }
}

fn rule(action: FilterAction) -> FilterRule {
    FilterRule::new(action)
}

#[test]
fn rule_conditions_all_must_hold() {
    let attrs = PathAttributes {
        communities: Some(vec![Community::new(65000, 7)]),
        as_path: Some(AsPath::from_sequence([Asn(65001), Asn(65002)])),
        ..PathAttributes::default()
    };
    let learned = RouteInfo {
        prefix: net("10.64.0.0/26"),
        source: RouteSource::Peer(PeerType::Ibgp),
        interface: Some("eth0"),
        attrs: Some(&attrs),
    };
    let local = RouteInfo {
        interface: Some("cali123"),
        attrs: None,
        source: RouteSource::Kernel,
        ..learned
    };
    let mut r = rule(FilterAction::Reject);
    r.remote_peers_only = true;
    assert!(r.matches(PeerType::Ebgp, &learned));
    assert!(!r.matches(PeerType::Ebgp, &local));
    let mut r = rule(FilterAction::Reject);
    r.interface = Some("cali*".into());
    assert!(!r.matches(PeerType::Ebgp, &learned));
    assert!(r.matches(PeerType::Ebgp, &local));
    let mut r = rule(FilterAction::Reject);
    r.peer_type = Some(PeerType::Ibgp);
    assert!(!r.matches(PeerType::Ebgp, &learned));
    assert!(r.matches(PeerType::Ibgp, &learned));
    let mut r = rule(FilterAction::Reject);
    r.community = Some("65000:7".parse().unwrap());
    assert!(r.matches(PeerType::Ebgp, &learned));
    assert!(!r.matches(PeerType::Ebgp, &local));
    let mut r = rule(FilterAction::Reject);
    r.as_path_prefix = vec![Asn(65001)];
    assert!(r.matches(PeerType::Ebgp, &learned));
    r.as_path_prefix = vec![Asn(65002)];
    assert!(!r.matches(PeerType::Ebgp, &learned));
    r.as_path_prefix = vec![Asn(65001), Asn(65002), Asn(65003)];
    assert!(!r.matches(PeerType::Ebgp, &learned));
}

#[test]
fn first_matching_rule_across_filters_wins() {
    let in_ = |c: &str, action| FilterRule {
        cidr: Some(CidrMatch::new(net(c), MatchOperator::In, None).unwrap()),
        ..FilterRule::new(action)
    };
    let name = |s: &str| FilterName::new(s).unwrap();
    let f1 = Filter {
        export_v4: vec![
            in_("77.0.0.0/16", FilterAction::Accept),
            in_("77.0.0.0/8", FilterAction::Reject),
        ],
        ..Filter::new(name("a"))
    };
    let f2 = Filter {
        export_v4: vec![in_("0.0.0.0/0", FilterAction::Accept)],
        import_v4: vec![in_("0.0.0.0/0", FilterAction::Reject)],
        ..Filter::new(name("b"))
    };
    let filters = [f1, f2];
    let r = |p: &str| RouteInfo::new(net(p), RouteSource::Peer(PeerType::Ebgp));
    let hit = |p: &str, d| {
        evaluate(&filters, d, PeerType::Ebgp, &r(p)).map(|m| (m.filter, m.rule, m.action))
    };
    assert_eq!(
        hit("77.0.1.0/24", Direction::Export),
        Some(("a", 0, FilterAction::Accept))
    );
    assert_eq!(
        hit("77.1.0.0/24", Direction::Export),
        Some(("a", 1, FilterAction::Reject))
    );
    assert_eq!(
        hit("78.0.0.0/24", Direction::Export),
        Some(("b", 0, FilterAction::Accept))
    );
    assert_eq!(
        hit("77.0.1.0/24", Direction::Import),
        Some(("b", 0, FilterAction::Reject))
    );
    // IPv6 routes use the v6 rule lists (empty here).
    assert_eq!(hit("fd00::/64", Direction::Export), None);
}
