//! Table-driven import decisions.

use ipnet::IpNet;

use super::*;
use crate::filter::{CidrMatch, FilterName, FilterRule, MatchOperator};
use crate::route::RouteSource;

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

#[test]
fn calico_import_rules_table() {
    let mut policy = ImportPolicy {
        pools: vec![IpPool {
            cidr: net("10.64.0.0/16"),
            disable_bgp_export: false,
        }],
        own_blocks: vec![net("10.64.75.64/26")],
        accept_outside_pools: true,
    };
    let filters = [Filter {
        import_v4: vec![FilterRule {
            cidr: Some(CidrMatch::new(net("192.168.0.0/16"), MatchOperator::In, None).unwrap()),
            ..FilterRule::new(FilterAction::Reject)
        }],
        ..Filter::new(FilterName::new("no-bogons").unwrap())
    }];
    let peer = ImportPeer {
        peer_type: PeerType::Ibgp,
        filters: &filters,
    };
    // (prefix, accept_outside_pools, expected)
    let rows: Vec<(&str, bool, Result<(), ImportReject>)> = vec![
        ("10.64.12.0/26", true, Ok(())),  // another node's block
        ("10.64.75.70/32", true, Ok(())), // borrowed IP inside our block
        (
            "10.64.75.64/26",
            true,
            Err(ImportReject::OwnBlock(net("10.64.75.64/26"))),
        ), // reflected back
        ("0.0.0.0/0", true, Ok(())),      // ToR default route
        ("0.0.0.0/0", false, Err(ImportReject::OutsidePools)),
        ("10.64.12.0/26", false, Ok(())),
        (
            "192.168.1.0/24",
            true,
            Err(ImportReject::Filter {
                filter: "no-bogons".into(),
                rule: 0,
            }),
        ),
    ];
    for (i, (prefix, outside, want)) in rows.into_iter().enumerate() {
        policy.accept_outside_pools = outside;
        let got = policy.decide(
            &peer,
            &RouteInfo::new(net(prefix), RouteSource::Peer(PeerType::Ibgp)),
        );
        match want {
            Ok(()) => assert!(got.is_accept(), "row {i} {prefix}: {got:?}"),
            Err(r) => assert_eq!(got, ImportDecision::Reject(r), "row {i} {prefix}"),
        }
    }
}
