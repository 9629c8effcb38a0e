//! ADD-PATH transmit (RFC 7911) through the facade: a reflector sends every feasible path to
//! the clients that negotiated it, one identifier per path, and only the best to the others.

use super::*;

/// Clients 2 and 3 announce, 4 negotiated ADD-PATH transmit, 5 did not.
pub(super) fn reflector() -> Rib {
    let mut rib = Rib::new(local());
    for n in [2u8, 3, 4, 5] {
        let mut p = peer(n, LOCAL_AS);
        p.rr_client = true;
        rib.add_peer(p).unwrap();
        let mut s = session(n);
        s.context.add_path_tx_v4 = n == 4;
        rib.peer_up(PeerId(u32::from(n)), s, &mut ExportAll)
            .unwrap();
    }
    rib
}

/// What a peer that negotiated ADD-PATH receive reads: (path id, prefix, next hop) announced,
/// (path id, prefix) withdrawn, sorted.
#[allow(clippy::type_complexity)]
pub(super) fn decode_paths(bytes: &[u8]) -> (Vec<(u32, Prefix, Ipv4Addr)>, Vec<(u32, Prefix)>) {
    let peer_ctx = SessionContext {
        add_path_rx_v4: true,
        ..ctx()
    };
    let (mut ann, mut wd) = (Vec::new(), Vec::new());
    let mut rest = bytes;
    while !rest.is_empty() {
        let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
        let u = Update::decode(&rest[HEADER_LEN..len], &peer_ctx).unwrap();
        for (_, e) in u.announced() {
            ann.push((e.path_id.unwrap(), e.prefix, u.attributes.next_hop.unwrap()));
        }
        wd.extend(u.withdrawals().map(|(_, e)| (e.path_id.unwrap(), e.prefix)));
        rest = &rest[len..];
    }
    ann.sort();
    wd.sort();
    (ann, wd)
}

fn group_bytes(out: &[GroupUpdate], peer: u32) -> Vec<u8> {
    bytes_to(out, PeerId(peer))
}

fn nh(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 99, 0, n)
}

#[test]
fn rfc7911_reflector_sends_every_path_to_add_path_clients_and_the_best_to_others() {
    let mut rib = reflector();
    let svc = pfx("10.96.0.0/12");
    let a = rib
        .apply_update(
            PeerId(2),
            &announce(attrs(&[], 2), &["10.96.0.0/12"]),
            &mut AcceptAll,
        )
        .unwrap();
    let b = rib
        .apply_update(
            PeerId(3),
            &announce(attrs(&[], 3), &["10.96.0.0/12"]),
            &mut AcceptAll,
        )
        .unwrap();
    // max_paths is 1: the second path is not selected, yet it is a change for ADD-PATH.
    assert!(b.loc_rib.is_empty());
    assert_eq!(b.other_paths, vec![svc]);
    let mut c = a;
    c.extend(b);
    let out = rib.export(&c, &mut ExportAll);
    // Client 4: both paths, each under its own identifier, next hops unchanged.
    assert_eq!(
        decode_paths(&group_bytes(&out, 4)),
        (vec![(1, svc, nh(2)), (2, svc, nh(3))], vec![])
    );
    // Client 5: the best only, without identifiers.
    let (ann, wd, _) = decode(&group_bytes(&out, 5));
    assert_eq!((ann.len(), wd.len()), (1, 0));
    assert_eq!(ann[0].1.next_hop, Some(nh(2)));
    assert_eq!(
        rib.adj_rib_out(rib.group_of(PeerId(4)).unwrap())
            .unwrap()
            .len(),
        2
    );

    // Peer 2's path goes: client 4 loses exactly that identifier; client 5 gets peer 3's.
    let c = rib
        .apply_update(PeerId(2), &withdraw(&["10.96.0.0/12"]), &mut AcceptAll)
        .unwrap();
    let out = rib.export(&c, &mut ExportAll);
    assert_eq!(
        decode_paths(&group_bytes(&out, 4)),
        (vec![], vec![(1, svc)])
    );
    let (ann, _, _) = decode(&group_bytes(&out, 5));
    assert_eq!(ann[0].1.next_hop, Some(nh(3)));

    // A joining ADD-PATH peer gets the group's paths in its initial dump.
    let mut p6 = peer(6, LOCAL_AS);
    p6.rr_client = true;
    rib.add_peer(p6).unwrap();
    let mut s = session(6);
    s.context.add_path_tx_v4 = true;
    let up = rib.peer_up(PeerId(6), s, &mut ExportAll).unwrap();
    assert_eq!(Some(up.group), rib.group_of(PeerId(4)));
    assert_eq!(
        decode_paths(&up.encoded.bytes),
        (vec![(2, svc, nh(3))], vec![])
    );
}

#[test]
fn a_change_outside_the_selection_reaches_add_path_groups_only() {
    let mut rib = reflector();
    let svc = pfx("10.96.0.0/12");
    let mut c = rib
        .apply_update(
            PeerId(2),
            &announce(attrs(&[], 2), &["10.96.0.0/12"]),
            &mut AcceptAll,
        )
        .unwrap();
    c.extend(
        rib.apply_update(
            PeerId(3),
            &announce(attrs(&[], 3), &["10.96.0.0/12"]),
            &mut AcceptAll,
        )
        .unwrap(),
    );
    rib.export(&c, &mut ExportAll);
    // Peer 3's (losing) path gets a MED: only client 4 hears of it, under the same identifier.
    let mut changed = attrs(&[], 3);
    changed.med = Some(20);
    let c = rib
        .apply_update(
            PeerId(3),
            &announce(changed, &["10.96.0.0/12"]),
            &mut AcceptAll,
        )
        .unwrap();
    let out = rib.export(&c, &mut ExportAll);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(
        decode_paths(&group_bytes(&out, 4)),
        (vec![(2, svc, nh(3))], vec![])
    );
}

#[test]
fn no_other_paths_are_tracked_without_an_add_path_group() {
    let mut client = peer(2, LOCAL_AS);
    client.rr_client = true;
    let mut client3 = peer(3, LOCAL_AS);
    client3.rr_client = true;
    let mut rib = rib_with(&[client, client3]);
    rib.apply_update(
        PeerId(2),
        &announce(attrs(&[], 2), &["10.96.0.0/12"]),
        &mut AcceptAll,
    )
    .unwrap();
    let c = rib
        .apply_update(
            PeerId(3),
            &announce(attrs(&[], 3), &["10.96.0.0/12"]),
            &mut AcceptAll,
        )
        .unwrap();
    assert!(c.is_empty(), "{c:?}");
}

#[test]
fn infeasible_paths_are_not_sent_and_a_group_of_one_gets_none_of_its_own() {
    let mut rib = reflector();
    // Peer 3's path carries our cluster id: a loop, never sent.
    let mut looped = attrs(&[], 3);
    looped.cluster_list = Some(vec![Ipv4Addr::new(10, 99, 0, 1)]);
    let mut c = rib
        .apply_update(
            PeerId(3),
            &announce(looped, &["10.96.0.0/12"]),
            &mut AcceptAll,
        )
        .unwrap();
    c.extend(
        rib.apply_update(
            PeerId(2),
            &announce(attrs(&[], 2), &["10.96.0.0/12"]),
            &mut AcceptAll,
        )
        .unwrap(),
    );
    c.extend(
        rib.apply_update(
            PeerId(4),
            &announce(attrs(&[], 4), &["10.96.0.0/12"]),
            &mut AcceptAll,
        )
        .unwrap(),
    );
    let out = rib.export(&c, &mut ExportAll);
    // Client 4 is alone in its group: peer 2's path only, not its own, not the loop.
    let svc = pfx("10.96.0.0/12");
    assert_eq!(
        decode_paths(&group_bytes(&out, 4)),
        (vec![(1, svc, nh(2))], vec![])
    );
}

#[test]
fn split_horizon_keeps_each_add_path_members_own_paths_from_it() {
    let mut rib = Rib::new(local());
    for n in [2u8, 3, 4] {
        rib.add_peer(PeerInfo {
            rr_client: true,
            ..peer(n, LOCAL_AS)
        })
        .unwrap();
        let mut s = session(n);
        s.context.add_path_tx_v4 = true;
        rib.peer_up(PeerId(u32::from(n)), s, &mut ExportAll)
            .unwrap();
    }
    let svc = pfx("10.96.0.0/12");
    let mut c = rib
        .apply_update(
            PeerId(2),
            &announce(attrs(&[], 2), &["10.96.0.0/12"]),
            &mut AcceptAll,
        )
        .unwrap();
    c.extend(
        rib.apply_update(
            PeerId(3),
            &announce(attrs(&[], 3), &["10.96.0.0/12"]),
            &mut AcceptAll,
        )
        .unwrap(),
    );
    let out = rib.export(&c, &mut ExportAll);
    assert_eq!(out.len(), 1, "one group");
    assert_eq!(
        decode_paths(&group_bytes(&out, 2)),
        (vec![(2, svc, nh(3))], vec![])
    );
    assert_eq!(
        decode_paths(&group_bytes(&out, 3)),
        (vec![(1, svc, nh(2))], vec![])
    );
    assert_eq!(
        decode_paths(&group_bytes(&out, 4)),
        (vec![(1, svc, nh(2)), (2, svc, nh(3))], vec![])
    );
    // Peer 2's path goes: withdrawn at 3 and 4, nothing for 2.
    let c = rib
        .apply_update(PeerId(2), &withdraw(&["10.96.0.0/12"]), &mut AcceptAll)
        .unwrap();
    let out = rib.export(&c, &mut ExportAll);
    assert!(group_bytes(&out, 2).is_empty());
    for n in [3, 4] {
        assert_eq!(
            decode_paths(&group_bytes(&out, n)),
            (vec![], vec![(1, svc)])
        );
    }
}
