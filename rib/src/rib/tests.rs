//! The facade driven like `bgpd` drives it: UPDATEs in, Loc-RIB changes and encoded UPDATEs out.

use std::net::{IpAddr, Ipv4Addr};

use bgp_proto::attribute::{AsPath, Community, Origin, PathAttributes};
use bgp_proto::nlri::NlriEntry;
use bgp_proto::update::Update;
use bgp_proto::{Asn, Family, Prefix, RouterId, SessionContext, HEADER_LEN};

use super::*;
use crate::adj_rib_in::AcceptAll;
use crate::adj_rib_out::ExportAll;
use crate::peer::NextHopMode;

const LOCAL_AS: Asn = Asn(64512);

fn local() -> LocalInfo {
    LocalInfo::new(RouterId(Ipv4Addr::new(10, 99, 0, 1)), LOCAL_AS)
}

fn ctx() -> SessionContext {
    SessionContext {
        four_octet_as: true,
        ..SessionContext::default()
    }
}

fn addr(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 99, 0, n))
}

fn peer(n: u8, asn: Asn) -> PeerInfo {
    PeerInfo {
        local_v4: Some(Ipv4Addr::new(10, 99, 0, 1)),
        ..PeerInfo::new(PeerId(u32::from(n)), addr(n), asn)
    }
}

fn session(n: u8) -> SessionInfo {
    SessionInfo {
        router_id: RouterId(Ipv4Addr::new(10, 99, 0, n)),
        context: ctx(),
        families: vec![Family::Ipv4Unicast],
    }
}

fn rib_with(peers: &[PeerInfo]) -> Rib {
    let mut rib = Rib::new(local());
    for p in peers {
        rib.add_peer(p.clone()).unwrap();
        let n = p.id.0 as u8;
        rib.peer_up(p.id, session(n), &mut ExportAll).unwrap();
    }
    rib
}

fn pfx(s: &str) -> Prefix {
    s.parse().unwrap()
}

fn attrs(path: &[u32], nh: u8) -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(path.iter().map(|a| Asn(*a)))),
        next_hop: Some(Ipv4Addr::new(10, 99, 0, nh)),
        ..PathAttributes::default()
    }
}

fn announce(a: PathAttributes, prefixes: &[&str]) -> Update {
    Update {
        attributes: a,
        nlri: prefixes.iter().map(|p| NlriEntry::new(pfx(p))).collect(),
        ..Update::default()
    }
}

fn withdraw(prefixes: &[&str]) -> Update {
    Update {
        withdrawn: prefixes.iter().map(|p| NlriEntry::new(pfx(p))).collect(),
        ..Update::default()
    }
}

/// Everything `peer` is to be written from an export pass.
fn bytes_to(out: &[GroupUpdate], peer: PeerId) -> Vec<u8> {
    out.iter()
        .filter(|g| g.peers.contains(&peer))
        .flat_map(|g| g.bytes_for(peer))
        .flat_map(|b| b.to_vec())
        .collect()
}

/// Decode back-to-back UPDATE messages: (announced prefixes with attributes, withdrawn, EoRs).
fn decode(bytes: &[u8]) -> (Vec<(Prefix, PathAttributes)>, Vec<Prefix>, usize) {
    let (mut ann, mut wd, mut eor) = (Vec::new(), Vec::new(), 0);
    let mut rest = bytes;
    while !rest.is_empty() {
        let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
        let u = Update::decode(&rest[HEADER_LEN..len], &ctx()).unwrap();
        if u.end_of_rib().is_some() {
            eor += 1;
        }
        ann.extend(u.announced().map(|(_, e)| (e.prefix, u.attributes.clone())));
        wd.extend(u.withdrawals().map(|(_, e)| e.prefix));
        rest = &rest[len..];
    }
    (ann, wd, eor)
}

#[test]
fn announce_then_withdraw_changes_loc_rib() {
    let mut rib = rib_with(&[peer(2, Asn(65002))]);
    let c = rib
        .apply_update(
            PeerId(2),
            &announce(attrs(&[65002], 2), &["10.64.0.0/26", "10.64.0.64/26"]),
            &mut AcceptAll,
        )
        .unwrap();
    assert_eq!(c.len(), 2);
    let best = c.loc_rib[0].best().unwrap();
    assert_eq!(best.peer, Some(PeerId(2)));
    assert_eq!(best.next_hop, Some(addr(2)));
    // One attribute set shared by both routes.
    assert!(c.loc_rib[0].routes[0]
        .attrs
        .ptr_eq(&c.loc_rib[1].routes[0].attrs));
    // Re-announcing the same thing changes nothing.
    let c2 = rib
        .apply_update(
            PeerId(2),
            &announce(attrs(&[65002], 2), &["10.64.0.0/26"]),
            &mut AcceptAll,
        )
        .unwrap();
    assert!(c2.is_empty());
    let c3 = rib
        .apply_update(PeerId(2), &withdraw(&["10.64.0.0/26"]), &mut AcceptAll)
        .unwrap();
    assert_eq!(
        c3.loc_rib,
        vec![LocRibChange {
            prefix: pfx("10.64.0.0/26"),
            routes: vec![]
        }]
    );
    assert_eq!(rib.stats().prefixes, 1);
}

#[test]
fn for_each_selected_visits_what_loc_rib_lists() {
    let mut rib = rib_with(&[peer(2, Asn(65002)), peer(3, Asn(65003))]);
    rib.apply_update(
        PeerId(2),
        &announce(attrs(&[65002], 2), &["10.64.0.0/26", "10.64.0.64/26"]),
        &mut AcceptAll,
    )
    .unwrap();
    rib.apply_update(
        PeerId(3),
        &announce(attrs(&[65003], 3), &["10.64.0.64/26", "10.65.0.0/26"]),
        &mut AcceptAll,
    )
    .unwrap();
    rib.apply_update(PeerId(2), &withdraw(&["10.64.0.0/26"]), &mut AcceptAll)
        .unwrap();
    let mut seen = Vec::new();
    rib.for_each_selected(|prefix, routes| seen.push(LocRibChange { prefix, routes }));
    assert_eq!(seen, rib.loc_rib());
    for c in &seen {
        assert_eq!(c.routes, rib.selected(&c.prefix));
    }
    let prefixes: Vec<Prefix> = seen.iter().map(|c| c.prefix).collect();
    assert_eq!(prefixes.len(), 2);
    assert!(prefixes.contains(&pfx("10.64.0.64/26")));
    assert!(prefixes.contains(&pfx("10.65.0.0/26")));
    assert!(seen.iter().all(|c| !c.routes.is_empty()));
}

#[test]
fn better_route_wins_and_explain_says_why() {
    let mut rib = rib_with(&[peer(2, LOCAL_AS), peer(3, LOCAL_AS)]);
    let mut lp = attrs(&[], 2);
    lp.local_pref = Some(200);
    rib.apply_update(
        PeerId(3),
        &announce(attrs(&[], 3), &["10.64.1.0/26"]),
        &mut AcceptAll,
    )
    .unwrap();
    let c = rib
        .apply_update(PeerId(2), &announce(lp, &["10.64.1.0/26"]), &mut AcceptAll)
        .unwrap();
    assert_eq!(c.loc_rib[0].best().unwrap().peer, Some(PeerId(2)));
    let ex = rib.explain(&pfx("10.64.1.0/26"));
    assert_eq!(ex.len(), 2);
    let loser = ex.iter().find(|e| e.peer == Some(PeerId(3))).unwrap();
    assert_eq!(loser.lost, Some(LossReason::LocalPref));
    assert!(ex
        .iter()
        .any(|e| e.peer == Some(PeerId(2)) && e.lost.is_none()));
}

#[test]
fn explain_lists_every_path_in_decision_order_with_the_values_compared() {
    let peers: Vec<PeerInfo> = (2..=5).map(|n| peer(n, LOCAL_AS)).collect();
    let mut rib = rib_with(&peers);
    let p = "10.64.20.0/26";
    // Peer 5: rejected by import; 4: LOCAL_PREF 100, path of 2; 3: LOCAL_PREF 100, path of 1
    // (sent first, so table order is not decision order); 2: LOCAL_PREF 200, path of 3.
    let mut reject5 = |info: &PeerInfo, _: &Prefix, _: &AttrSet| {
        if info.id == PeerId(5) {
            ImportVerdict::Reject
        } else {
            ImportVerdict::Accept
        }
    };
    for (n, path, lp) in [
        (5u8, &[1u32][..], None),
        (4, &[1, 2][..], None),
        (3, &[1][..], Some(100)),
        (2, &[1, 2, 3][..], Some(200)),
    ] {
        let mut a = attrs(path, n);
        a.local_pref = lp;
        rib.apply_update(PeerId(u32::from(n)), &announce(a, &[p]), &mut reject5)
            .unwrap();
    }
    let ex = rib.explain(&pfx(p));
    let order: Vec<_> = ex.iter().map(|e| e.peer).collect();
    assert_eq!(
        order,
        [2, 3, 4, 5].map(|n| Some(PeerId(n))),
        "best, then as the decision ranks the rest, then the ineligible"
    );
    let lost: Vec<_> = ex.iter().map(|e| e.lost).collect();
    assert_eq!(
        lost,
        [
            None,
            Some(LossReason::LocalPref),
            Some(LossReason::LocalPref),
            Some(LossReason::Ineligible(Ineligible::RejectedByImport)),
        ]
    );
    // The values the decision compared, defaults applied (no LOCAL_PREF: 100).
    assert_eq!(
        ex.iter().map(|e| e.keys.local_pref).collect::<Vec<_>>(),
        [200, 100, 100, 100]
    );
    assert_eq!(
        ex.iter().map(|e| e.keys.as_path_len).collect::<Vec<_>>(),
        [3, 1, 2, 1]
    );
    assert_eq!(ex[1].keys.peer_addr, addr(3));
    assert_eq!(ex[1].keys.router_id, Ipv4Addr::new(10, 99, 0, 3));
    assert!(ex[3].accepted.is_none() && ex[0].accepted.is_some());
    // The whole table, one prefix at a time, gives the same.
    let mut seen = Vec::new();
    rib.for_each_explained(|prefix, paths| seen.push((prefix, paths)));
    assert_eq!(seen, vec![(pfx(p), ex)]);
    // The accepted paths, counted as they come and go (the rejected one is not).
    assert_eq!(rib.accepted_counts(), (3, 0));
    rib.apply_update(PeerId(3), &withdraw(&[p]), &mut AcceptAll)
        .unwrap();
    assert_eq!(rib.accepted_counts(), (2, 0));
    let mut replaced = attrs(&[1], 2);
    replaced.local_pref = Some(300);
    rib.apply_update(PeerId(2), &announce(replaced, &[p]), &mut AcceptAll)
        .unwrap();
    assert_eq!(rib.accepted_counts(), (2, 0), "a replaced path counts once");
    rib.remove_peer(PeerId(4)).unwrap();
    rib.remove_peer(PeerId(5)).unwrap();
    assert_eq!(rib.accepted_counts(), (1, 0));
}

#[test]
fn rfc4271_9_1_2_own_as_in_path_is_a_loop_unless_allowed() {
    let mut p = peer(2, Asn(65002));
    let mut rib = rib_with(&[p.clone()]);
    let looped = announce(attrs(&[65002, 64512], 2), &["10.64.2.0/26"]);
    let c = rib
        .apply_update(PeerId(2), &looped, &mut AcceptAll)
        .unwrap();
    assert!(c.is_empty());
    assert_eq!(
        rib.explain(&pfx("10.64.2.0/26"))[0].lost,
        Some(LossReason::Ineligible(Ineligible::AsPathLoop))
    );
    // Calico's per-rack AS design: allow our AS once.
    p.allow_own_as = 1;
    let mut rib = rib_with(&[p]);
    let c = rib
        .apply_update(PeerId(2), &looped, &mut AcceptAll)
        .unwrap();
    assert_eq!(c.len(), 1);
}

#[test]
fn rfc4724_graceful_restart_keeps_stale_routes_until_end_of_rib() {
    let mut rib = rib_with(&[peer(2, Asn(65002))]);
    rib.apply_update(
        PeerId(2),
        &announce(attrs(&[65002], 2), &["10.64.3.0/26", "10.64.3.64/26"]),
        &mut AcceptAll,
    )
    .unwrap();
    let c = rib.peer_down(PeerId(2), true).unwrap();
    assert!(c.is_empty(), "stale routes stay in the Loc-RIB");
    assert!(rib.best(&pfx("10.64.3.0/26")).unwrap().stale);
    rib.peer_up(PeerId(2), session(2), &mut ExportAll).unwrap();
    // The restarted peer re-sends one route, then End-of-RIB: the other is swept.
    rib.apply_update(
        PeerId(2),
        &announce(attrs(&[65002], 2), &["10.64.3.0/26"]),
        &mut AcceptAll,
    )
    .unwrap();
    assert!(!rib.best(&pfx("10.64.3.0/26")).unwrap().stale);
    let eor = Update::default();
    assert_eq!(eor.end_of_rib(), Some(Family::Ipv4Unicast));
    let c = rib.apply_update(PeerId(2), &eor, &mut AcceptAll).unwrap();
    assert_eq!(
        c.loc_rib,
        vec![LocRibChange {
            prefix: pfx("10.64.3.64/26"),
            routes: vec![]
        }]
    );
    // Restart timer case: down again, never back; bgpd calls sweep_stale.
    rib.peer_down(PeerId(2), true).unwrap();
    let c = rib.sweep_stale(PeerId(2));
    assert_eq!(c.len(), 1);
    assert_eq!(rib.stats().prefixes, 0);
}

#[test]
fn non_graceful_peer_down_removes_routes() {
    let mut rib = rib_with(&[peer(2, Asn(65002))]);
    rib.apply_update(
        PeerId(2),
        &announce(attrs(&[65002], 2), &["10.64.4.0/26"]),
        &mut AcceptAll,
    )
    .unwrap();
    let c = rib.peer_down(PeerId(2), false).unwrap();
    assert_eq!(c.len(), 1);
    assert!(c.loc_rib[0].routes.is_empty());
    assert!(matches!(
        rib.apply_update(PeerId(2), &withdraw(&["10.64.4.0/26"]), &mut AcceptAll),
        Err(RibError::PeerNotUp(PeerId(2)))
    ));
}

#[test]
fn unresolved_next_hop_is_not_eligible_until_the_igp_table_covers_it() {
    let mut rib = rib_with(&[peer(2, LOCAL_AS)]);
    rib.set_igp_routes(Some(vec![IgpRoute {
        prefix: pfx("192.0.2.0/24"),
        cost: Some(0),
    }]));
    let c = rib
        .apply_update(
            PeerId(2),
            &announce(attrs(&[], 2), &["10.64.5.0/26"]),
            &mut AcceptAll,
        )
        .unwrap();
    assert!(c.is_empty());
    assert_eq!(
        rib.explain(&pfx("10.64.5.0/26"))[0].lost,
        Some(LossReason::Ineligible(Ineligible::NextHopUnresolved))
    );
    let c = rib.set_igp_routes(Some(vec![IgpRoute {
        prefix: pfx("10.99.0.0/24"),
        cost: Some(5),
    }]));
    assert_eq!(c.len(), 1);
    assert_eq!(c.loc_rib[0].best().unwrap().igp_cost, Some(5));
}

#[test]
fn route_via_a_subnet_that_goes_away_becomes_unresolved_and_comes_back_with_it() {
    let mut rib = rib_with(&[peer(2, LOCAL_AS)]);
    let subnet = |cost| IgpRoute {
        prefix: pfx("10.99.0.0/24"),
        cost,
    };
    let pod = IgpRoute {
        prefix: pfx("10.64.9.3/32"),
        cost: None,
    };
    rib.set_igp_routes(Some(vec![subnet(Some(0))]));
    let c = rib
        .apply_update(
            PeerId(2),
            &announce(attrs(&[], 2), &["10.64.5.0/26"]),
            &mut AcceptAll,
        )
        .unwrap();
    assert_eq!(c.len(), 1, "next hop 10.99.0.2 on the subnet");
    assert_eq!(c.loc_rib[0].best().unwrap().igp_cost, Some(0));
    // Another route that covers no next hop in use: no decision change.
    assert!(rib
        .set_igp_routes(Some(vec![subnet(Some(0)), pod]))
        .is_empty());
    // The subnet's address is removed: the route is withdrawn from the Loc-RIB.
    let c = rib.set_igp_routes(Some(vec![pod]));
    assert_eq!(c.len(), 1);
    assert!(c.loc_rib[0].routes.is_empty());
    assert_eq!(
        rib.explain(&pfx("10.64.5.0/26"))[0].lost,
        Some(LossReason::Ineligible(Ineligible::NextHopUnresolved))
    );
    // Back: selected again.
    let c = rib.set_igp_routes(Some(vec![pod, subnet(Some(0))]));
    assert_eq!(c.len(), 1);
    assert_eq!(c.loc_rib[0].best().unwrap().igp_cost, Some(0));
    assert_eq!(rib.explain(&pfx("10.64.5.0/26"))[0].lost, None);
}

#[test]
fn multipath_set_reported_to_the_fib() {
    let mut l = local();
    l.decision.max_paths = 4;
    let mut rib = Rib::new(l);
    for n in [2u8, 3] {
        rib.add_peer(peer(n, Asn(65000))).unwrap();
        rib.peer_up(PeerId(u32::from(n)), session(n), &mut ExportAll)
            .unwrap();
    }
    rib.apply_update(
        PeerId(3),
        &announce(attrs(&[65000], 3), &["0.0.0.0/0"]),
        &mut AcceptAll,
    )
    .unwrap();
    let c = rib
        .apply_update(
            PeerId(2),
            &announce(attrs(&[65000], 2), &["0.0.0.0/0"]),
            &mut AcceptAll,
        )
        .unwrap();
    let routes = &c.loc_rib[0].routes;
    assert_eq!(routes.len(), 2);
    assert_eq!(routes[0].peer, Some(PeerId(2)), "lowest router id first");
    assert_eq!(routes[1].next_hop, Some(addr(3)));
}

#[test]
fn peers_with_one_key_share_a_group_and_one_encoding() {
    // Two eBGP ToRs with identical settings, one iBGP mesh peer.
    let mut rib = rib_with(&[peer(2, Asn(65100)), peer(3, Asn(65100)), peer(4, LOCAL_AS)]);
    assert_eq!(rib.group_of(PeerId(2)), rib.group_of(PeerId(3)));
    assert_ne!(rib.group_of(PeerId(2)), rib.group_of(PeerId(4)));
    let block = pfx("10.64.6.0/26");
    let c = rib.originate(
        block,
        AttrSet {
            attrs: PathAttributes {
                origin: Some(Origin::Igp),
                ..PathAttributes::default()
            },
            mp_next_hop: None,
        },
    );
    let out = rib.export(&c, &mut ExportAll);
    assert_eq!(out.len(), 2, "one encoding per group");
    let ebgp = out.iter().find(|g| g.peers.len() == 2).unwrap();
    let (ann, wd, _) = decode(&ebgp.bytes);
    assert!(wd.is_empty());
    assert_eq!(ann.len(), 1);
    assert_eq!(ann[0].0, block);
    assert_eq!(ann[0].1.as_path, Some(AsPath::from_sequence([LOCAL_AS])));
    assert_eq!(ann[0].1.next_hop, Some(Ipv4Addr::new(10, 99, 0, 1)));
    let ibgp = out.iter().find(|g| g.peers == vec![PeerId(4)]).unwrap();
    let (ann, _, _) = decode(&ibgp.bytes);
    assert_eq!(ann[0].1.local_pref, Some(100));
    assert_eq!(ann[0].1.as_path, Some(AsPath::default()));
    // A later peer of the same group gets the group's Adj-RIB-Out and End-of-RIB.
    rib.add_peer(peer(5, Asn(65100))).unwrap();
    let up = rib.peer_up(PeerId(5), session(5), &mut ExportAll).unwrap();
    assert_eq!(Some(up.group), rib.group_of(PeerId(2)));
    let (ann, _, eor) = decode(&up.encoded.bytes);
    assert_eq!((ann.len(), eor), (1, 1));
    // Withdrawing the block withdraws it from both groups.
    let c = rib.withdraw_local(block);
    let out = rib.export(&c, &mut ExportAll);
    assert_eq!(out.len(), 2);
    assert!(out.iter().all(|g| decode(&g.bytes).1 == vec![block]));
    // Route refresh re-sends the (now empty) Adj-RIB-Out and End-of-RIB.
    let rr = rib.route_refresh(PeerId(2), Family::Ipv4Unicast).unwrap();
    assert_eq!(decode(&rr.bytes), (vec![], vec![], 1));
}

#[test]
fn rfc4456_route_reflector_reflects_client_routes_and_not_non_client_to_non_client() {
    let mut client = peer(2, LOCAL_AS);
    client.rr_client = true;
    let mut client2 = peer(3, LOCAL_AS);
    client2.rr_client = true;
    let non_client = peer(4, LOCAL_AS);
    let mut rib = rib_with(&[client, client2, non_client]);
    let c = rib
        .apply_update(
            PeerId(2),
            &announce(attrs(&[], 2), &["10.64.7.0/26"]),
            &mut AcceptAll,
        )
        .unwrap();
    let out = rib.export(&c, &mut ExportAll);
    assert_eq!(out.len(), 2, "clients group and non-client group");
    // Split horizon: client 2 is not sent its own route back.
    assert!(bytes_to(&out, PeerId(2)).is_empty());
    for peer in [PeerId(3), PeerId(4)] {
        let (ann, _, _) = decode(&bytes_to(&out, peer));
        assert_eq!(ann.len(), 1);
        // RFC 4456 §8.
        assert_eq!(ann[0].1.originator_id, Some(Ipv4Addr::new(10, 99, 0, 2)));
        assert_eq!(
            ann[0].1.cluster_list,
            Some(vec![Ipv4Addr::new(10, 99, 0, 1)])
        );
        assert_eq!(ann[0].1.next_hop, Some(Ipv4Addr::new(10, 99, 0, 2)));
    }
    // From the non-client: reflected to clients only.
    let c = rib
        .apply_update(
            PeerId(4),
            &announce(attrs(&[], 4), &["10.64.8.0/26"]),
            &mut AcceptAll,
        )
        .unwrap();
    let out = rib.export(&c, &mut ExportAll);
    assert_eq!(out.len(), 1);
    assert!(out[0].peers.contains(&PeerId(2)) && out[0].peers.contains(&PeerId(3)));
    // A route carrying our cluster id comes back: dropped (RFC 4456 §8).
    let mut back = attrs(&[], 2);
    back.cluster_list = Some(vec![Ipv4Addr::new(10, 99, 0, 1)]);
    back.originator_id = Some(Ipv4Addr::new(10, 99, 0, 9));
    let c = rib
        .apply_update(
            PeerId(3),
            &announce(back, &["10.64.9.0/26"]),
            &mut AcceptAll,
        )
        .unwrap();
    assert!(c.is_empty());
}

#[test]
fn export_policy_rejects_and_replaces_per_group() {
    let mut rib = rib_with(&[peer(2, Asn(65100)), peer(3, Asn(65200))]);
    let c = rib.originate(pfx("10.64.10.0/26"), AttrSet::default());
    let mut policy = |_: &GroupKey, p: &Prefix, r: &SelectedRoute| {
        if *p == pfx("10.64.10.0/26") {
            let mut s = (*r.attrs).clone();
            s.attrs.communities = Some(vec![Community::new(65000, 100)]);
            ExportVerdict::Replace(Box::new(s))
        } else {
            ExportVerdict::Reject
        }
    };
    let out = rib.export(&c, &mut policy);
    let (ann, _, _) = decode(&out[0].bytes);
    assert_eq!(ann[0].1.communities, Some(vec![Community::new(65000, 100)]));
    // A policy change that now rejects everything: reexport withdraws.
    let out =
        rib.reexport(&mut |_: &GroupKey, _: &Prefix, _: &SelectedRoute| ExportVerdict::Reject);
    assert_eq!(decode(&out[0].bytes).1, vec![pfx("10.64.10.0/26")]);
}

#[test]
fn reimport_applies_a_new_import_policy_without_refresh() {
    let mut rib = rib_with(&[peer(2, Asn(65002))]);
    rib.apply_update(
        PeerId(2),
        &announce(attrs(&[65002], 2), &["10.64.11.0/26"]),
        &mut AcceptAll,
    )
    .unwrap();
    let mut reject = |_: &PeerInfo, _: &Prefix, _: &AttrSet| ImportVerdict::Reject;
    let c = rib.reimport(PeerId(2), &mut reject).unwrap();
    assert!(c.loc_rib[0].routes.is_empty());
    let c = rib.reimport(PeerId(2), &mut AcceptAll).unwrap();
    assert_eq!(c.loc_rib[0].best().unwrap().peer, Some(PeerId(2)));
}

#[test]
fn attribute_sets_are_freed_when_no_route_uses_them() {
    let mut rib = rib_with(&[peer(2, Asn(65002))]);
    for i in 0..2000u32 {
        let mut a = attrs(&[65002], 2);
        a.med = Some(i);
        let p = format!("10.{}.{}.0/24", i / 256, i % 256);
        rib.apply_update(PeerId(2), &announce(a, &[p.as_str()]), &mut AcceptAll)
            .unwrap();
    }
    assert!(rib.stats().attr_sets >= 1000);
    rib.peer_down(PeerId(2), false).unwrap();
    rib.collect_garbage();
    assert_eq!(rib.stats().attr_sets, 0);
}

#[test]
fn next_hop_self_and_keep_on_ebgp() {
    let mut keep = peer(2, Asn(65100));
    keep.next_hop = NextHopMode::Keep;
    let mesh = peer(3, LOCAL_AS);
    let mut rib = rib_with(&[keep, mesh]);
    let c = rib
        .apply_update(
            PeerId(3),
            &announce(attrs(&[], 3), &["10.64.12.0/26"]),
            &mut AcceptAll,
        )
        .unwrap();
    let out = rib.export(&c, &mut ExportAll);
    assert_eq!(out.len(), 1, "iBGP route not sent back to the mesh");
    let (ann, _, _) = decode(&out[0].bytes);
    assert_eq!(ann[0].1.next_hop, Some(Ipv4Addr::new(10, 99, 0, 3)));
}

#[test]
fn ipv6_routes_travel_in_mp_reach_with_their_next_hop() {
    use bgp_proto::attribute::{MpNextHop, MpReach};
    let mut tor = peer(2, Asn(65100));
    tor.addr = "fd99::2".parse().unwrap();
    let mut mesh = peer(3, LOCAL_AS);
    mesh.local_v6 = Some("fd99::1".parse().unwrap());
    let both = |n: u8| SessionInfo {
        families: vec![Family::Ipv4Unicast, Family::Ipv6Unicast],
        ..session(n)
    };
    let mut rib = Rib::new(local());
    rib.add_peer(tor).unwrap();
    rib.add_peer(mesh).unwrap();
    rib.peer_up(PeerId(2), both(2), &mut ExportAll).unwrap();
    let up = rib.peer_up(PeerId(3), both(3), &mut ExportAll).unwrap();
    assert_eq!(decode(&up.encoded.bytes).2, 2, "End-of-RIB per family");
    let nh = MpNextHop::Ipv6 {
        global: "fd99::2".parse().unwrap(),
        link_local: Some("fe80::2".parse().unwrap()),
    };
    let u = Update {
        attributes: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence([Asn(65100)])),
            ..PathAttributes::default()
        },
        mp_reach: Some(MpReach {
            family: Family::Ipv6Unicast,
            next_hop: nh,
            nlri: vec![
                NlriEntry::new(pfx("fd64::/64")),
                NlriEntry::new(pfx("fd65::/64")),
            ],
        }),
        ..Update::default()
    };
    let c = rib.apply_update(PeerId(2), &u, &mut AcceptAll).unwrap();
    assert_eq!(c.len(), 2);
    assert_eq!(
        c.loc_rib[0].best().unwrap().next_hop,
        Some("fd99::2".parse().unwrap())
    );
    assert_eq!(
        c.loc_rib[0].best().unwrap().attrs.link_local_next_hop(),
        Some("fe80::2".parse().unwrap())
    );
    let out = rib.export(&c, &mut ExportAll);
    let g = out.iter().find(|g| g.peers == vec![PeerId(3)]).unwrap();
    let mut rest = &g.bytes[..];
    let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
    let sent = Update::decode(&rest[HEADER_LEN..len], &ctx()).unwrap();
    rest = &rest[len..];
    assert!(rest.is_empty(), "one UPDATE for both prefixes");
    let m = sent.mp_reach.unwrap();
    assert_eq!(m.nlri.len(), 2);
    // iBGP: next hop unchanged, the link-local one dropped (it is only valid on the ToR link).
    assert_eq!(
        m.next_hop,
        MpNextHop::Ipv6 {
            global: "fd99::2".parse().unwrap(),
            link_local: None
        }
    );
    assert_eq!(sent.attributes.next_hop, None);
    // Withdraw via MP_UNREACH.
    let w = Update {
        mp_unreach: Some(bgp_proto::attribute::MpUnreach {
            family: Family::Ipv6Unicast,
            withdrawn: vec![NlriEntry::new(pfx("fd64::/64"))],
        }),
        ..Update::default()
    };
    let c = rib.apply_update(PeerId(2), &w, &mut AcceptAll).unwrap();
    let out = rib.export(&c, &mut ExportAll);
    let g = out.iter().find(|g| g.peers == vec![PeerId(3)]).unwrap();
    assert_eq!(decode(&g.bytes).1, vec![pfx("fd64::/64")]);
}

#[test]
fn route_without_a_usable_next_hop_is_reported_not_sent() {
    // eBGP group with no local IPv6 address: next-hop-self is impossible for an IPv6 route.
    let mut rib = Rib::new(local());
    rib.add_peer(peer(2, Asn(65100))).unwrap();
    rib.peer_up(
        PeerId(2),
        SessionInfo {
            families: vec![Family::Ipv4Unicast, Family::Ipv6Unicast],
            ..session(2)
        },
        &mut ExportAll,
    )
    .unwrap();
    let c = rib.originate(pfx("fd64::/122"), AttrSet::default());
    let out = rib.export(&c, &mut ExportAll);
    assert_eq!(out.len(), 1);
    assert!(out[0].bytes.is_empty());
    assert_eq!(
        out[0].errors,
        vec![(
            pfx("fd64::/122"),
            RibError::NoLocalAddress {
                family: Family::Ipv6Unicast
            }
        )]
    );
    assert!(rib.adj_rib_out(out[0].group).unwrap().is_empty());
}

#[test]
fn peer_ids_must_fit_24_bits() {
    let mut rib = Rib::new(local());
    let p = PeerInfo::new(PeerId(1 << 24), addr(2), Asn(65100));
    assert_eq!(
        rib.add_peer(p),
        Err(RibError::PeerIdTooLarge(PeerId(1 << 24)))
    );
    rib.add_peer(peer(2, Asn(65100))).unwrap();
    assert_eq!(
        rib.add_peer(peer(2, Asn(65100))),
        Err(RibError::DuplicatePeer(PeerId(2)))
    );
}

#[test]
fn explain_marks_ecmp_members() {
    let mut l = local();
    l.decision.max_paths = 2;
    let mut rib = Rib::new(l);
    for n in [2u8, 3, 4] {
        rib.add_peer(peer(n, LOCAL_AS)).unwrap();
        rib.peer_up(PeerId(u32::from(n)), session(n), &mut ExportAll)
            .unwrap();
        rib.apply_update(
            PeerId(u32::from(n)),
            &announce(attrs(&[], n), &["10.64.13.0/26"]),
            &mut AcceptAll,
        )
        .unwrap();
    }
    let ex = rib.explain(&pfx("10.64.13.0/26"));
    let ecmp: Vec<_> = ex.iter().filter(|e| e.in_ecmp).map(|e| e.peer).collect();
    assert_eq!(ecmp, vec![Some(PeerId(2)), Some(PeerId(3))]);
    let third = ex.iter().find(|e| e.peer == Some(PeerId(4))).unwrap();
    assert_eq!(
        (third.in_ecmp, third.lost),
        (false, Some(LossReason::RouterId))
    );
}

#[test]
fn export_policy_change_moves_a_peer_between_groups_without_reset() {
    let mut rib = rib_with(&[peer(2, Asn(65100)), peer(3, Asn(65100))]);
    for b in ["10.64.14.0/26", "10.64.14.64/26"] {
        let c = rib.originate(pfx(b), AttrSet::default());
        rib.export(&c, &mut ExportAll);
    }
    // Policy id 7 exports only the first block.
    let mut by_id = |g: &GroupKey, p: &Prefix, _: &SelectedRoute| {
        if g.export_policy == 7 && *p != pfx("10.64.14.0/26") {
            ExportVerdict::Reject
        } else {
            ExportVerdict::Accept
        }
    };
    let mut changed = peer(2, Asn(65100));
    changed.export_policy = 7;
    let enc = rib
        .update_peer(changed.clone(), &mut by_id)
        .unwrap()
        .unwrap();
    assert_ne!(rib.group_of(PeerId(2)), rib.group_of(PeerId(3)));
    // Only the difference: the second block withdrawn, nothing re-announced.
    assert_eq!(decode(&enc.bytes), (vec![], vec![pfx("10.64.14.64/26")], 0));
    // Same config again: nothing to do.
    assert_eq!(rib.update_peer(changed, &mut by_id).unwrap(), None);
}

#[test]
fn group_of_one_is_not_sent_its_own_routes_until_a_second_member_joins() {
    // Split horizon, as FRR does for a one-peer subgroup and BIRD per protocol.
    let mut rib = rib_with(&[peer(2, Asn(65100))]);
    let c = rib
        .apply_update(
            PeerId(2),
            &announce(attrs(&[65100], 2), &["10.64.7.0/26", "10.64.7.64/26"]),
            &mut AcceptAll,
        )
        .unwrap();
    assert_eq!(c.len(), 2);
    assert!(
        rib.export(&c, &mut ExportAll).is_empty(),
        "sent back to its only member"
    );
    let g = rib.group_of(PeerId(2)).unwrap();
    assert_eq!(rib.adj_rib_out(g).unwrap().len(), 0);
    // A second peer of the same group gets them with End-of-RIB; the group now carries them.
    rib.add_peer(peer(3, Asn(65100))).unwrap();
    let up = rib.peer_up(PeerId(3), session(3), &mut ExportAll).unwrap();
    assert_eq!(up.group, g);
    let (ann, _, eor) = decode(&up.encoded.bytes);
    assert_eq!((ann.len(), eor), (2, 1));
    assert_eq!(rib.adj_rib_out(g).unwrap().len(), 2);
    // Withdrawn by its source: both members are told.
    let c = rib
        .apply_update(PeerId(2), &withdraw(&["10.64.7.0/26"]), &mut AcceptAll)
        .unwrap();
    let out = rib.export(&c, &mut ExportAll);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].peers, vec![PeerId(2), PeerId(3)]);
    assert_eq!(decode(&out[0].bytes).1, vec![pfx("10.64.7.0/26")]);
}

#[test]
fn counts_and_change_times_follow_the_reported_changes() {
    let mut rib = rib_with(&[peer(2, Asn(65002)), peer(3, Asn(65002))]);
    rib.set_clock(7);
    rib.apply_update(
        PeerId(2),
        &announce(attrs(&[65002], 2), &["10.64.8.0/26", "10.64.8.64/26"]),
        &mut AcceptAll,
    )
    .unwrap();
    assert_eq!(rib.selected_counts(), (2, 0));
    assert_eq!(rib.selected_networks(), (2, 0));
    assert_eq!(rib.changed_at(&pfx("10.64.8.0/26")), Some(7));
    // An equal route from the other ToR joins the ECMP set when multipath is on; here it only
    // replaces nothing (older route wins), so neither count nor time moves.
    rib.set_clock(9);
    rib.apply_update(
        PeerId(3),
        &announce(attrs(&[65002, 65002], 3), &["10.64.8.0/26"]),
        &mut AcceptAll,
    )
    .unwrap();
    assert_eq!(rib.selected_counts(), (2, 0));
    assert_eq!(rib.changed_at(&pfx("10.64.8.0/26")), Some(7));
    // Without detail, changes carry prefixes only; the counts are the same.
    rib.set_detailed_changes(false);
    let c = rib.peer_down(PeerId(2), false).unwrap();
    assert_eq!(c.len(), 2);
    assert!(c.loc_rib.iter().all(|x| x.routes.is_empty()));
    assert_eq!(rib.selected_counts(), (1, 0), "10.64.8.0/26 now via peer 3");
    assert_eq!(rib.selected_networks(), (1, 0));
    assert_eq!(rib.changed_at(&pfx("10.64.8.0/26")), Some(9));
    assert_eq!(rib.changed_at(&pfx("10.64.8.64/26")), None);
}

#[test]
fn joining_a_group_of_one_does_not_swallow_its_members_updates() {
    // Peers 2 and 3 share a group; 3 moves away (export policy 7), then back while the policy
    // now rejects a block. Joining the group of one (2) must not apply that rejection to the
    // group's Adj-RIB-Out without telling 2: the later re-export withdraws it from 2.
    let mut rib = rib_with(&[peer(2, Asn(65100)), peer(3, Asn(65100))]);
    let block = pfx("10.64.15.0/26");
    let c = rib.originate(block, AttrSet::default());
    rib.export(&c, &mut ExportAll);
    let mut moved = peer(3, Asn(65100));
    moved.export_policy = 7;
    rib.update_peer(moved, &mut ExportAll).unwrap();
    assert_ne!(rib.group_of(PeerId(2)), rib.group_of(PeerId(3)));
    let mut reject = |_: &GroupKey, _: &Prefix, _: &SelectedRoute| ExportVerdict::Reject;
    rib.update_peer(peer(3, Asn(65100)), &mut reject).unwrap();
    assert_eq!(rib.group_of(PeerId(2)), rib.group_of(PeerId(3)));
    let out = rib.reexport(&mut reject);
    assert_eq!(out.len(), 1);
    assert!(out[0].peers.contains(&PeerId(2)));
    assert_eq!(
        decode(&out[0].bytes).1,
        vec![block],
        "withdrawn from peer 2"
    );
}

mod add_path;
mod lag;

#[test]
fn new_decision_options_rerun_the_selection_without_touching_the_peers() {
    // Two eBGP neighbours in different ASes: MED is not compared between them (RFC 4271
    // §9.1.2.2 (c)), so the lower router id wins (f); with always_compare_med the lower MED does.
    let mut rib = rib_with(&[peer(2, Asn(65002)), peer(3, Asn(65003))]);
    let mut med = |n: u8, m: u32| {
        let mut a = attrs(&[65000 + u32::from(n)], n);
        a.med = Some(m);
        rib.apply_update(
            PeerId(u32::from(n)),
            &announce(a, &["10.90.0.0/24"]),
            &mut AcceptAll,
        )
        .unwrap();
    };
    med(2, 50);
    med(3, 10);
    assert_eq!(
        rib.best(&pfx("10.90.0.0/24")).unwrap().peer,
        Some(PeerId(2))
    );
    let same = rib.local().decision;
    assert!(rib.set_decision(same).is_empty(), "same options: nothing");
    let compare = DecisionOptions {
        always_compare_med: true,
        ..same
    };
    let c = rib.set_decision(compare);
    assert_eq!(c.len(), 1);
    assert_eq!(c.loc_rib[0].best().unwrap().peer, Some(PeerId(3)));
    assert_eq!(rib.local().decision, compare);
    assert_eq!(
        rib.explain(&pfx("10.90.0.0/24"))
            .iter()
            .find(|e| e.peer == Some(PeerId(2)))
            .and_then(|e| e.lost),
        Some(LossReason::Med)
    );
    // The peers are untouched: still up, their routes still there.
    assert!(rib.peer(PeerId(2)).is_some() && rib.peer(PeerId(3)).is_some());
    assert_eq!(rib.explain(&pfx("10.90.0.0/24")).len(), 2);
    let c = rib.set_decision(same);
    assert_eq!(c.loc_rib[0].best().unwrap().peer, Some(PeerId(2)));
}

#[test]
fn split_horizon_inside_a_group_never_sends_a_member_its_own_route() {
    let clients: Vec<PeerInfo> = [2u8, 3, 4]
        .iter()
        .map(|n| PeerInfo {
            rr_client: true,
            ..peer(*n, LOCAL_AS)
        })
        .collect();
    let mut rib = rib_with(&clients);
    let g = rib.group_of(PeerId(2));
    assert!(g.is_some() && g == rib.group_of(PeerId(3)) && g == rib.group_of(PeerId(4)));
    let p = pfx("10.64.7.0/26");
    let c = rib
        .apply_update(
            PeerId(2),
            &announce(attrs(&[], 2), &["10.64.7.0/26"]),
            &mut AcceptAll,
        )
        .unwrap();
    let out = rib.export(&c, &mut ExportAll);
    // One encoding, kept from its source: 3 and 4 get it, 2 gets nothing.
    assert_eq!(out.len(), 1);
    assert!(out[0].bytes.is_empty() && out[0].split.len() == 1);
    assert!(bytes_to(&out, PeerId(2)).is_empty());
    for n in [3, 4] {
        let (ann, wd, _) = decode(&bytes_to(&out, PeerId(n)));
        assert_eq!((ann.len(), wd.len()), (1, 0));
        assert_eq!(ann[0].1.next_hop, Some(Ipv4Addr::new(10, 99, 0, 2)));
    }
    // Client 3 announces a better route: 2 and 4 get it, 3 loses the copy of 2's it held.
    let mut better = attrs(&[], 3);
    better.local_pref = Some(200);
    let c = rib
        .apply_update(
            PeerId(3),
            &announce(better, &["10.64.7.0/26"]),
            &mut AcceptAll,
        )
        .unwrap();
    let out = rib.export(&c, &mut ExportAll);
    assert_eq!(decode(&bytes_to(&out, PeerId(3))), (vec![], vec![p], 0));
    for n in [2, 4] {
        let (ann, wd, _) = decode(&bytes_to(&out, PeerId(n)));
        assert_eq!(
            (ann[0].1.next_hop, wd.len()),
            (Some(Ipv4Addr::new(10, 99, 0, 3)), 0)
        );
    }
    // A route refresh from 3 answers without 3's own route; a new member gets it.
    let rr = rib.route_refresh(PeerId(3), Family::Ipv4Unicast).unwrap();
    assert_eq!(decode(&rr.bytes), (vec![], vec![], 1));
    rib.add_peer(PeerInfo {
        rr_client: true,
        ..peer(5, LOCAL_AS)
    })
    .unwrap();
    let up = rib.peer_up(PeerId(5), session(5), &mut ExportAll).unwrap();
    assert_eq!(decode(&up.encoded.bytes).0.len(), 1);
    // 3 withdraws: 2's route is best again; 3, 4 and 5 get it, 2 loses the copy of 3's.
    let c = rib
        .apply_update(PeerId(3), &withdraw(&["10.64.7.0/26"]), &mut AcceptAll)
        .unwrap();
    let out = rib.export(&c, &mut ExportAll);
    assert_eq!(decode(&bytes_to(&out, PeerId(2))), (vec![], vec![p], 0));
    for n in [3, 4, 5] {
        let (ann, _, _) = decode(&bytes_to(&out, PeerId(n)));
        assert_eq!(
            ann[0].1.next_hop,
            Some(Ipv4Addr::new(10, 99, 0, 2)),
            "peer {n}"
        );
    }
}

#[test]
fn an_import_policy_that_rewrites_attributes_keeps_the_received_set_and_reimport_undoes_it() {
    let ebgp = peer(2, Asn(64513));
    let mut rib = rib_with(&[ebgp]);
    // Sets LOCAL_PREF 200 on 10.64.0.0/26 only, rejects 10.64.0.128/26, accepts the rest.
    let mut rewrite = |_: &PeerInfo, p: &Prefix, a: &AttrSet| {
        if *p == pfx("10.64.0.0/26") {
            let mut s = a.clone();
            s.attrs.local_pref = Some(200);
            ImportVerdict::Replace(Box::new(s))
        } else if *p == pfx("10.64.0.128/26") {
            ImportVerdict::Reject
        } else {
            ImportVerdict::Accept
        }
    };
    let u = announce(
        attrs(&[64513], 2),
        &["10.64.0.0/26", "10.64.0.64/26", "10.64.0.128/26"],
    );
    rib.apply_update(PeerId(2), &u, &mut rewrite).unwrap();
    // Two sets (as received, rewritten) in three pairs (rewritten, as received, rejected).
    assert_eq!(rib.stats().attr_sets, 2);
    let best = rib.best(&pfx("10.64.0.0/26")).expect("rewritten route");
    assert_eq!(best.attrs.attrs.local_pref, Some(200));
    let ex = rib.explain(&pfx("10.64.0.0/26"));
    assert_eq!(ex[0].received.attrs.local_pref, None);
    assert_eq!(
        ex[0].accepted.as_ref().map(|a| a.attrs.local_pref),
        Some(Some(200))
    );
    let plain = rib.best(&pfx("10.64.0.64/26")).expect("accepted route");
    assert!(plain.attrs.ptr_eq(&ex[0].received));
    assert!(rib.best(&pfx("10.64.0.128/26")).is_none());
    let rejected = rib.explain(&pfx("10.64.0.128/26"));
    assert!(rejected[0].accepted.is_none() && rejected[0].received.ptr_eq(&ex[0].received));
    drop((best, ex, plain, rejected));

    // Re-imported without the rewrite: every route carries the received set, and once
    // collected the interner holds that set alone (the rewritten pair held the other).
    rib.reimport(PeerId(2), &mut AcceptAll).unwrap();
    let again = rib.best(&pfx("10.64.0.0/26")).expect("route");
    assert_eq!(again.attrs.attrs.local_pref, None);
    assert!(rib.best(&pfx("10.64.0.128/26")).is_some());
    rib.interner.collect();
    assert_eq!(rib.stats().attr_sets, 1);
}
