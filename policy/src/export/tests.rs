//! Table-driven: one row per Calico export rule.

use bgp_proto::attribute::Community;
use ipnet::IpNet;

use super::*;
use crate::filter::{CidrMatch, FilterName, FilterRule, MatchOperator, Operation};

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn policy() -> ExportPolicy {
    ExportPolicy {
        pools: vec![
            IpPool {
                cidr: net("10.64.0.0/16"),
                disable_bgp_export: false,
            },
            IpPool {
                cidr: net("10.65.0.0/16"),
                disable_bgp_export: true,
            },
            IpPool {
                cidr: net("fd64::/48"),
                disable_bgp_export: false,
            },
        ],
        own_blocks: vec![net("10.64.75.64/26"), net("fd64:0:0:4b00::/122")],
        services: ServiceAdvertisement {
            cluster_ips: vec![net("10.96.0.0/12")],
            external_ips: vec![net("192.0.2.0/24")],
            load_balancer_ips: vec![net("198.51.100.0/24")],
        },
        static_routes: vec![],
        rr_allowlist: vec![net("203.0.113.0/24")],
        prefix_advertisements: vec![PrefixAdvertisement {
            cidr: net("10.64.0.0/16"),
            communities: vec!["65000:100".parse().unwrap(), "65000:1:2".parse().unwrap()],
        }],
    }
}

fn accepted(d: &ExportDecision) -> bool {
    d.is_accept()
}

/// (peer type, prefix, source, interface, Ok or the reject reason)
type Row<'a> = (
    PeerType,
    &'a str,
    RouteSource,
    Option<&'a str>,
    Result<(), ExportReject>,
);

#[test]
fn calico_export_rules_table() {
    use PeerType::{Ebgp, Ibgp};
    use RouteSource::*;
    let p = policy();
    // (peer type, prefix, source, interface, accepted?, reject reason if not)
    let rows: Vec<Row<'_>> = vec![
        // Own block: announced to everyone.
        (Ibgp, "10.64.75.64/26", OwnBlock, None, Ok(())),
        (Ebgp, "10.64.75.64/26", OwnBlock, None, Ok(())),
        (Ebgp, "fd64:0:0:4b00::/122", OwnBlock, None, Ok(())),
        // Pod /32 inside our block: the block is enough.
        (
            Ibgp,
            "10.64.75.70/32",
            Kernel,
            Some("cali1234"),
            Err(ExportReject::InsideOwnBlock(net("10.64.75.64/26"))),
        ),
        // Another node's block learned over iBGP, or a borrowed /32: in the pool → exported
        // (the RIB then decides iBGP-to-iBGP / reflection).
        (Ebgp, "10.64.12.0/26", Peer(Ibgp), None, Ok(())),
        (Ibgp, "10.64.12.0/26", Peer(Ibgp), None, Ok(())),
        (Ebgp, "10.64.80.3/32", Kernel, Some("cali99"), Ok(())),
        // Disabled pool: never.
        (
            Ebgp,
            "10.65.1.0/26",
            Peer(Ibgp),
            None,
            Err(ExportReject::DisabledPool(net("10.65.0.0/16"))),
        ),
        (
            Ebgp,
            "10.65.1.0/26",
            OwnBlock,
            None,
            Err(ExportReject::DisabledPool(net("10.65.0.0/16"))),
        ),
        // Tunnel device routes: not to iBGP peers.
        (
            Ibgp,
            "10.64.99.0/26",
            Kernel,
            Some("vxlan.calico"),
            Err(ExportReject::TunnelRoute),
        ),
        (Ebgp, "10.64.99.0/26", Kernel, Some("vxlan.calico"), Ok(())),
        // Services.
        (Ebgp, "10.96.0.0/12", Static, None, Ok(())),
        (Ebgp, "10.96.0.10/32", Static, None, Ok(())),
        (Ebgp, "192.0.2.0/24", Static, None, Ok(())),
        (Ebgp, "198.51.100.7/32", Static, None, Ok(())),
        // RR allow-list.
        (Ibgp, "203.0.113.0/24", Peer(Ibgp), None, Ok(())),
        // Outside everything: the ToR's default route is not sent back, nor anything else.
        (
            Ibgp,
            "0.0.0.0/0",
            Peer(Ebgp),
            None,
            Err(ExportReject::NotAllowed),
        ),
        (
            Ebgp,
            "172.16.0.0/12",
            Kernel,
            Some("eth0"),
            Err(ExportReject::NotAllowed),
        ),
        (
            Ebgp,
            "fd65::/64",
            Peer(Ibgp),
            None,
            Err(ExportReject::NotAllowed),
        ),
    ];
    for (i, (pt, prefix, source, iface, want)) in rows.into_iter().enumerate() {
        let peer = ExportPeer {
            peer_type: pt,
            filters: &[],
        };
        let route = RouteInfo {
            interface: iface,
            ..RouteInfo::new(net(prefix), source)
        };
        let got = p.decide(&peer, &route);
        match want {
            Ok(()) => assert!(accepted(&got), "row {i} {prefix}: {got:?}"),
            Err(r) => assert_eq!(got, ExportDecision::Reject(r), "row {i} {prefix}"),
        }
    }
}

#[test]
fn prefix_advertisements_add_communities_only_inside_their_cidr() {
    let p = policy();
    let peer = ExportPeer {
        peer_type: PeerType::Ebgp,
        filters: &[],
    };
    let d = p.decide(
        &peer,
        &RouteInfo::new(net("10.64.75.64/26"), RouteSource::OwnBlock),
    );
    let ExportDecision::Accept(m) = d else {
        panic!("{d:?}")
    };
    assert_eq!(m.add_communities.len(), 2);
    assert_eq!(
        m.add_communities[0],
        CommunityValue::Standard(Community::new(65000, 100))
    );
    let d = p.decide(
        &peer,
        &RouteInfo::new(net("10.96.0.0/12"), RouteSource::Static),
    );
    assert_eq!(d, ExportDecision::Accept(Modifications::default()));
}

#[test]
fn filters_run_first_and_can_allow_routes_outside_the_pools() {
    let p = policy();
    let rule = |cidr: &str, op, action| FilterRule {
        cidr: Some(CidrMatch::new(net(cidr), op, None).unwrap()),
        ..FilterRule::new(action)
    };
    let mut accept_default = rule("0.0.0.0/0", MatchOperator::Equal, FilterAction::Accept);
    accept_default.operations = vec![Operation::PrependAsPath(vec![bgp_proto::Asn(65000)])];
    let filters = [Filter {
        export_v4: vec![
            accept_default,
            rule("10.64.75.64/26", MatchOperator::Equal, FilterAction::Reject),
        ],
        ..Filter::new(FilterName::new("tor").unwrap())
    }];
    let peer = ExportPeer {
        peer_type: PeerType::Ebgp,
        filters: &filters,
    };
    let d = p.decide(
        &peer,
        &RouteInfo::new(net("0.0.0.0/0"), RouteSource::Peer(PeerType::Ebgp)),
    );
    assert!(matches!(&d, ExportDecision::Accept(m) if m.prepend == vec![bgp_proto::Asn(65000)]));
    let d = p.decide(
        &peer,
        &RouteInfo::new(net("10.64.75.64/26"), RouteSource::OwnBlock),
    );
    assert_eq!(
        d,
        ExportDecision::Reject(ExportReject::Filter {
            filter: "tor".into(),
            rule: 1
        })
    );
    // Not matched by the filter: the Calico rules apply.
    let d = p.decide(
        &peer,
        &RouteInfo::new(net("10.64.1.0/26"), RouteSource::Peer(PeerType::Ibgp)),
    );
    assert!(d.is_accept());
}

#[test]
fn originated_prefixes_are_blocks_then_services() {
    let p = policy();
    let o = p.originated();
    assert_eq!(o[0], (net("10.64.75.64/26"), RouteSource::OwnBlock));
    assert_eq!(o.len(), 5);
    assert!(o.contains(&(net("198.51.100.0/24"), RouteSource::Static)));
}
