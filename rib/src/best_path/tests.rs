//! One test per decision step, named after the RFC step it checks.

use std::net::{IpAddr, Ipv4Addr};

use bgp_proto::attribute::{AsPath, AsSegment, Origin, PathAttributes, SegmentType};
use bgp_proto::{Asn, RouterId};

use super::*;

const LOCAL_AS: Asn = Asn(64512);

fn attrs(path: &[u32]) -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(path.iter().map(|a| Asn(*a)))),
        ..PathAttributes::default()
    }
}

fn peer(kind: SessionKind, n: u8) -> CandidateSource {
    CandidateSource::Peer {
        kind,
        router_id: RouterId(Ipv4Addr::new(1, 1, 1, n)),
        addr: IpAddr::V4(Ipv4Addr::new(10, 99, 0, n)),
    }
}

fn cand(source: CandidateSource, a: &PathAttributes) -> Candidate<'_> {
    Candidate {
        source,
        path_id: 0,
        attrs: a,
        igp_cost: None,
        ineligible: None,
    }
}

fn run(cands: &[Candidate<'_>]) -> Selection {
    select(cands, LOCAL_AS, &DecisionOptions::default())
}

/// Assert candidate 1 wins over candidate 0 with `reason`, whatever the input order.
fn second_wins(a: Candidate<'_>, b: Candidate<'_>, reason: LossReason) {
    let s = run(&[a, b]);
    assert_eq!(s.best(), Some(1), "{s:?}");
    assert_eq!(s.lost, vec![Some(reason), None]);
    let s = run(&[b, a]);
    assert_eq!(s.best(), Some(0), "{s:?}");
    assert_eq!(s.lost, vec![None, Some(reason)]);
}

#[test]
fn rfc4271_9_1_2_ineligible_routes_never_win() {
    let a = attrs(&[65001]);
    let mut bad = cand(peer(SessionKind::Ebgp, 1), &a);
    bad.ineligible = Some(Ineligible::NextHopUnresolved);
    let s = run(&[bad]);
    assert_eq!(s.best(), None);
    assert_eq!(
        s.lost,
        vec![Some(LossReason::Ineligible(Ineligible::NextHopUnresolved))]
    );
    let longer = attrs(&[65001, 65002, 65003]);
    second_wins(
        bad,
        cand(peer(SessionKind::Ibgp, 2), &longer),
        LossReason::Ineligible(Ineligible::NextHopUnresolved),
    );
}

#[test]
fn locally_originated_route_beats_learned_ones() {
    let a = attrs(&[]);
    let b = PathAttributes {
        local_pref: Some(1000),
        ..attrs(&[])
    };
    second_wins(
        cand(peer(SessionKind::Ibgp, 1), &b),
        cand(CandidateSource::Local, &a),
        LossReason::NotLocal,
    );
}

#[test]
fn rfc4271_9_1_2_1_highest_local_pref_wins() {
    let lo = PathAttributes {
        local_pref: Some(100),
        ..attrs(&[])
    };
    let hi = PathAttributes {
        local_pref: Some(200),
        ..attrs(&[65001, 65002])
    };
    second_wins(
        cand(peer(SessionKind::Ibgp, 1), &lo),
        cand(peer(SessionKind::Ibgp, 2), &hi),
        LossReason::LocalPref,
    );
}

#[test]
fn rfc4271_9_1_1_missing_local_pref_uses_the_default() {
    // eBGP route (no LOCAL_PREF → 100) against an iBGP one with 99.
    let ib = PathAttributes {
        local_pref: Some(99),
        ..attrs(&[])
    };
    let eb = attrs(&[65001, 65002]);
    second_wins(
        cand(peer(SessionKind::Ibgp, 1), &ib),
        cand(peer(SessionKind::Ebgp, 2), &eb),
        LossReason::LocalPref,
    );
}

#[test]
fn rfc4271_9_1_2_2_a_shortest_as_path_wins() {
    let long = attrs(&[65001, 65002]);
    let short = attrs(&[65003]);
    second_wins(
        cand(peer(SessionKind::Ebgp, 1), &long),
        cand(peer(SessionKind::Ebgp, 2), &short),
        LossReason::AsPathLength,
    );
}

#[test]
fn rfc4271_9_1_2_2_a_as_set_counts_one_and_confed_segments_zero() {
    // [65001 {65002 65003 65004}] has length 2; [(65100 65101) 65001 65002 65003] has 3.
    let with_set = PathAttributes {
        as_path: Some(AsPath {
            segments: vec![
                AsSegment {
                    kind: SegmentType::Sequence,
                    asns: vec![Asn(65001)],
                },
                AsSegment {
                    kind: SegmentType::Set,
                    asns: vec![Asn(65002), Asn(65003), Asn(65004)],
                },
            ],
        }),
        ..attrs(&[])
    };
    let with_confed = PathAttributes {
        as_path: Some(AsPath {
            segments: vec![
                AsSegment {
                    kind: SegmentType::ConfedSequence,
                    asns: vec![Asn(65100), Asn(65101)],
                },
                AsSegment {
                    kind: SegmentType::Sequence,
                    asns: vec![Asn(65001), Asn(65002), Asn(65003)],
                },
            ],
        }),
        ..attrs(&[])
    };
    second_wins(
        cand(peer(SessionKind::Ibgp, 1), &with_confed),
        cand(peer(SessionKind::Ibgp, 2), &with_set),
        LossReason::AsPathLength,
    );
    // Three confed ASes count 0: this path (length 2) ties with the AS_SET one on length.
    let confed_only = PathAttributes {
        as_path: Some(AsPath {
            segments: vec![
                AsSegment {
                    kind: SegmentType::ConfedSequence,
                    asns: vec![Asn(65100), Asn(65101), Asn(65102)],
                },
                AsSegment {
                    kind: SegmentType::Sequence,
                    asns: vec![Asn(65001), Asn(65002)],
                },
            ],
        }),
        ..attrs(&[])
    };
    let s = run(&[
        cand(peer(SessionKind::Ibgp, 1), &confed_only),
        cand(peer(SessionKind::Ibgp, 2), &with_set),
    ]);
    assert_ne!(s.lost[1], Some(LossReason::AsPathLength));
    assert_ne!(s.lost[0], Some(LossReason::AsPathLength));
}

#[test]
fn rfc4271_9_1_2_2_b_lowest_origin_wins() {
    let inc = PathAttributes {
        origin: Some(Origin::Incomplete),
        ..attrs(&[65001])
    };
    let egp = PathAttributes {
        origin: Some(Origin::Egp),
        ..attrs(&[65002])
    };
    let igp = attrs(&[65003]);
    second_wins(
        cand(peer(SessionKind::Ebgp, 1), &inc),
        cand(peer(SessionKind::Ebgp, 2), &egp),
        LossReason::Origin,
    );
    second_wins(
        cand(peer(SessionKind::Ebgp, 1), &egp),
        cand(peer(SessionKind::Ebgp, 2), &igp),
        LossReason::Origin,
    );
}

fn with_med(path: &[u32], med: Option<u32>) -> PathAttributes {
    PathAttributes { med, ..attrs(path) }
}

#[test]
fn rfc4271_9_1_2_2_c_lowest_med_wins_within_one_neighbour_as() {
    let hi = with_med(&[65001, 1], Some(50));
    let lo = with_med(&[65001, 2], Some(10));
    second_wins(
        cand(peer(SessionKind::Ebgp, 1), &hi),
        cand(peer(SessionKind::Ebgp, 2), &lo),
        LossReason::Med,
    );
}

#[test]
fn rfc4271_9_1_2_2_c_med_not_compared_across_neighbour_ases() {
    // Different neighbour ASes: MED is ignored, the router id decides (peer 1 < peer 2).
    let hi = with_med(&[65001], Some(50));
    let lo = with_med(&[65002], Some(10));
    let s = run(&[
        cand(peer(SessionKind::Ebgp, 1), &hi),
        cand(peer(SessionKind::Ebgp, 2), &lo),
    ]);
    assert_eq!(s.best(), Some(0));
    assert_eq!(s.lost[1], Some(LossReason::RouterId));
    // With always-compare-med the lower MED wins.
    let opts = DecisionOptions {
        always_compare_med: true,
        ..DecisionOptions::default()
    };
    let s = select(
        &[
            cand(peer(SessionKind::Ebgp, 1), &hi),
            cand(peer(SessionKind::Ebgp, 2), &lo),
        ],
        LOCAL_AS,
        &opts,
    );
    assert_eq!(s.best(), Some(1));
    assert_eq!(s.lost[0], Some(LossReason::Med));
}

#[test]
fn rfc4271_9_1_2_2_c_missing_med_is_zero_unless_configured_worst() {
    let none = with_med(&[65001], None);
    let ten = with_med(&[65001], Some(10));
    second_wins(
        cand(peer(SessionKind::Ebgp, 1), &ten),
        cand(peer(SessionKind::Ebgp, 2), &none),
        LossReason::Med,
    );
    let opts = DecisionOptions {
        missing_med_worst: true,
        ..DecisionOptions::default()
    };
    let s = select(
        &[
            cand(peer(SessionKind::Ebgp, 1), &ten),
            cand(peer(SessionKind::Ebgp, 2), &none),
        ],
        LOCAL_AS,
        &opts,
    );
    assert_eq!(s.best(), Some(0));
    assert_eq!(s.lost[1], Some(LossReason::Med));
}

#[test]
fn rfc4271_9_1_2_2_d_ebgp_beats_ibgp() {
    let a = attrs(&[65001]);
    second_wins(
        cand(peer(SessionKind::Ibgp, 1), &a),
        cand(peer(SessionKind::Ebgp, 2), &a),
        LossReason::IbgpVsEbgp,
    );
}

#[test]
fn rfc4271_9_1_2_2_e_lowest_igp_cost_wins() {
    let a = attrs(&[65001]);
    let mut far = cand(peer(SessionKind::Ibgp, 1), &a);
    far.igp_cost = Some(20);
    let mut near = cand(peer(SessionKind::Ibgp, 2), &a);
    near.igp_cost = Some(10);
    second_wins(far, near, LossReason::IgpCost);
}

#[test]
fn rfc4271_9_1_2_2_f_lowest_router_id_wins() {
    let a = attrs(&[65001]);
    second_wins(
        cand(peer(SessionKind::Ibgp, 2), &a),
        cand(peer(SessionKind::Ibgp, 1), &a),
        LossReason::RouterId,
    );
}

#[test]
fn rfc4456_9_originator_id_replaces_router_id() {
    // Peer 1 has the lower router id but reflects a route originated by 9.9.9.9.
    let reflected = PathAttributes {
        originator_id: Some(Ipv4Addr::new(9, 9, 9, 9)),
        cluster_list: Some(vec![Ipv4Addr::new(1, 1, 1, 1)]),
        ..attrs(&[65001])
    };
    let direct = attrs(&[65001]);
    second_wins(
        cand(peer(SessionKind::Ibgp, 1), &reflected),
        cand(peer(SessionKind::Ibgp, 2), &direct),
        LossReason::RouterId,
    );
}

#[test]
fn rfc4456_9_shortest_cluster_list_wins() {
    let two = PathAttributes {
        originator_id: Some(Ipv4Addr::new(9, 9, 9, 9)),
        cluster_list: Some(vec![Ipv4Addr::new(1, 1, 1, 1), Ipv4Addr::new(2, 2, 2, 2)]),
        ..attrs(&[65001])
    };
    let one = PathAttributes {
        cluster_list: Some(vec![Ipv4Addr::new(3, 3, 3, 3)]),
        ..two.clone()
    };
    second_wins(
        cand(peer(SessionKind::Ibgp, 1), &two),
        cand(peer(SessionKind::Ibgp, 2), &one),
        LossReason::ClusterListLength,
    );
}

#[test]
fn rfc4271_9_1_2_2_g_lowest_peer_address_wins() {
    let a = attrs(&[65001]);
    let rid = RouterId(Ipv4Addr::new(7, 7, 7, 7));
    let src = |n| CandidateSource::Peer {
        kind: SessionKind::Ibgp,
        router_id: rid,
        addr: IpAddr::V4(Ipv4Addr::new(10, 99, 0, n)),
    };
    second_wins(cand(src(5), &a), cand(src(4), &a), LossReason::PeerAddress);
}

#[test]
fn multipath_takes_routes_equal_through_igp_cost_up_to_the_limit() {
    let a = attrs(&[65001]);
    let longer = attrs(&[65001, 65002]);
    let cands = [
        cand(peer(SessionKind::Ebgp, 3), &a),
        cand(peer(SessionKind::Ebgp, 1), &a),
        cand(peer(SessionKind::Ebgp, 4), &longer),
        cand(peer(SessionKind::Ebgp, 2), &a),
    ];
    let opts = DecisionOptions {
        max_paths: 2,
        ..DecisionOptions::default()
    };
    let s = select(&cands, LOCAL_AS, &opts);
    // Best is the lowest router id; the next one joins; the third equal one is over the limit.
    assert_eq!(s.selected, vec![1, 3]);
    assert_eq!(s.lost[2], Some(LossReason::AsPathLength));
    assert_eq!(s.lost[0], Some(LossReason::RouterId));
    assert!(s.lost[3].is_some_and(LossReason::is_multipath_equal));
    // Without multipath only the best is selected.
    assert_eq!(run(&cands).selected, vec![1]);
}

#[test]
fn rank_orders_the_losers_as_the_decision_would_pick_them_next() {
    let long = attrs(&[65001, 65002, 65003]);
    let short = attrs(&[65001]);
    let mid = attrs(&[65001, 65002]);
    let mut bad = cand(peer(SessionKind::Ebgp, 9), &short);
    bad.ineligible = Some(Ineligible::NextHopUnresolved);
    let cands = [
        cand(peer(SessionKind::Ebgp, 1), &long),
        bad,
        cand(peer(SessionKind::Ebgp, 2), &short),
        cand(peer(SessionKind::Ebgp, 3), &mid),
    ];
    let (sel, order) = rank(&cands, LOCAL_AS, &DecisionOptions::default());
    assert_eq!(sel, run(&cands), "the selection is select's");
    assert_eq!(order, [2, 3, 0, 1]);
    // Both losers lost to the best on AS_PATH length; the keys say by how much.
    assert_eq!(sel.lost[3], Some(LossReason::AsPathLength));
    let keys: Vec<_> = cands
        .iter()
        .map(|c| decision_keys(c, LOCAL_AS, &DecisionOptions::default()))
        .collect();
    assert_eq!(
        keys.iter().map(|k| k.as_path_len).collect::<Vec<_>>(),
        [3, 1, 1, 2]
    );
    assert_eq!(keys[2].neighbour_as, Asn(65001));
    assert_eq!((keys[2].local_pref, keys[2].med), (100, 0));
    assert!(keys[2].external && !keys[2].local);
    assert_eq!(keys[2].router_id, Ipv4Addr::new(1, 1, 1, 2));
}
