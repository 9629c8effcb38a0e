//! A member that fell behind (its connection's queue was full) is left out of its group's
//! writes and, when it can take more, gets the group's current state for what changed
//! meanwhile: once per prefix, its own routes left out, ADD-PATH identifiers it held and lost
//! withdrawn.

use super::add_path::{decode_paths, reflector};
use super::*;

/// Clients 2, 3 and 4 of one update group.
fn clients() -> Rib {
    let clients: Vec<PeerInfo> = [2u8, 3, 4]
        .iter()
        .map(|n| PeerInfo {
            rr_client: true,
            ..peer(*n, LOCAL_AS)
        })
        .collect();
    rib_with(&clients)
}

fn with_lp(nh: u8, lp: u32) -> PathAttributes {
    PathAttributes {
        local_pref: Some(lp),
        ..attrs(&[], nh)
    }
}

#[test]
fn a_lagging_member_is_skipped_then_gets_the_latest_state_once_per_prefix() {
    let mut rib = clients();
    let (a, c) = (pfx("10.64.7.0/26"), pfx("10.64.9.0/26"));
    rib.lag(PeerId(4)).unwrap();
    assert!(rib.is_lagging(PeerId(4)));
    let ch = rib
        .apply_update(
            PeerId(2),
            &announce(attrs(&[], 2), &["10.64.7.0/26", "10.64.8.0/26"]),
            &mut AcceptAll,
        )
        .unwrap();
    let out = rib.export(&ch, &mut ExportAll);
    assert!(
        out.iter().all(|g| !g.peers.contains(&PeerId(4))),
        "4 is not written to"
    );
    assert_eq!(decode(&bytes_to(&out, PeerId(3))).0.len(), 2);
    // More churn while 4 lags: A changes twice, B goes, C comes.
    for lp in [150, 160] {
        let ch = rib
            .apply_update(
                PeerId(2),
                &announce(with_lp(2, lp), &["10.64.7.0/26"]),
                &mut AcceptAll,
            )
            .unwrap();
        rib.export(&ch, &mut ExportAll);
    }
    for u in [
        withdraw(&["10.64.8.0/26"]),
        announce(attrs(&[], 2), &["10.64.9.0/26"]),
    ] {
        let ch = rib.apply_update(PeerId(2), &u, &mut AcceptAll).unwrap();
        rib.export(&ch, &mut ExportAll);
    }
    let up = rib.catch_up(PeerId(4)).unwrap();
    let (mut ann, wd, _) = decode(&up.bytes);
    ann.sort_by_key(|(p, _)| *p);
    // A once, with its latest attributes; C; B never reached 4, so no withdrawal either.
    assert_eq!(ann.len(), 2);
    assert_eq!((ann[0].0, ann[0].1.local_pref), (a, Some(160)));
    assert_eq!(ann[1].0, c);
    assert!(wd.is_empty(), "{wd:?}");
    assert!(!rib.is_lagging(PeerId(4)));
    // Writes reach 4 again.
    let ch = rib
        .apply_update(PeerId(2), &withdraw(&["10.64.9.0/26"]), &mut AcceptAll)
        .unwrap();
    let out = rib.export(&ch, &mut ExportAll);
    assert_eq!(decode(&bytes_to(&out, PeerId(4))), (vec![], vec![c], 0));
}

#[test]
fn a_lagging_member_loses_what_it_held_and_never_gets_its_own_route() {
    let mut rib = clients();
    let (a, b) = (pfx("10.64.7.0/26"), pfx("10.64.8.0/26"));
    let ch = rib
        .apply_update(
            PeerId(2),
            &announce(attrs(&[], 2), &["10.64.7.0/26", "10.64.8.0/26"]),
            &mut AcceptAll,
        )
        .unwrap();
    let out = rib.export(&ch, &mut ExportAll);
    assert_eq!(
        decode(&bytes_to(&out, PeerId(4))).0.len(),
        2,
        "4 holds A and B"
    );
    rib.lag(PeerId(4)).unwrap();
    // 4 itself announces a better A (its own: split horizon), and 2 withdraws B.
    let ch = rib
        .apply_update(
            PeerId(4),
            &announce(with_lp(4, 200), &["10.64.7.0/26"]),
            &mut AcceptAll,
        )
        .unwrap();
    let out = rib.export(&ch, &mut ExportAll);
    assert_eq!(
        decode(&bytes_to(&out, PeerId(3))).0[0].1.local_pref,
        Some(200)
    );
    let ch = rib
        .apply_update(PeerId(2), &withdraw(&["10.64.8.0/26"]), &mut AcceptAll)
        .unwrap();
    rib.export(&ch, &mut ExportAll);
    let up = rib.catch_up(PeerId(4)).unwrap();
    let (ann, mut wd, _) = decode(&up.bytes);
    wd.sort();
    assert!(ann.is_empty(), "its own route is not sent back: {ann:?}");
    assert_eq!(wd, vec![a, b], "2's A and B, which it held, are withdrawn");
}

#[test]
fn rfc7911_a_lagging_add_path_member_gets_current_paths_and_withdrawals_of_lost_ids() {
    let mut rib = reflector();
    let svc = pfx("10.96.0.0/12");
    let nh = |n: u8| Ipv4Addr::new(10, 99, 0, n);
    for n in [2u8, 3] {
        let ch = rib
            .apply_update(
                PeerId(u32::from(n)),
                &announce(attrs(&[], n), &["10.96.0.0/12"]),
                &mut AcceptAll,
            )
            .unwrap();
        rib.export(&ch, &mut ExportAll);
    }
    // 4 holds paths 1 (from 2) and 2 (from 3); it lags; 2's path goes, then 5 adds one.
    rib.lag(PeerId(4)).unwrap();
    let ch = rib
        .apply_update(PeerId(2), &withdraw(&["10.96.0.0/12"]), &mut AcceptAll)
        .unwrap();
    rib.export(&ch, &mut ExportAll);
    let ch = rib
        .apply_update(
            PeerId(5),
            &announce(attrs(&[], 5), &["10.96.0.0/12"]),
            &mut AcceptAll,
        )
        .unwrap();
    rib.export(&ch, &mut ExportAll);
    let up = rib.catch_up(PeerId(4)).unwrap();
    let (ann, wd) = decode_paths(&up.bytes);
    // 5's path took identifier 1 (freed by 2's): announcing it replaces 2's path under that
    // identifier (RFC 7911 §3), so nothing is left to withdraw.
    assert_eq!(ann, vec![(1, svc, nh(5)), (2, svc, nh(3))]);
    assert!(wd.is_empty(), "{wd:?}");
    // Again with a path gone and none taking its identifier: that identifier is withdrawn.
    rib.lag(PeerId(4)).unwrap();
    let ch = rib
        .apply_update(PeerId(3), &withdraw(&["10.96.0.0/12"]), &mut AcceptAll)
        .unwrap();
    rib.export(&ch, &mut ExportAll);
    let up = rib.catch_up(PeerId(4)).unwrap();
    assert_eq!(
        decode_paths(&up.bytes),
        (vec![(1, svc, nh(5))], vec![(2, svc)])
    );
}

#[test]
fn a_lagging_member_moved_to_another_group_catches_up_with_the_new_groups_state() {
    let mut rib = rib_with(&[peer(2, Asn(65100)), peer(3, Asn(65100))]);
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
    rib.export(&c, &mut ExportAll);
    rib.lag(PeerId(3)).unwrap();
    // A reload gives 3 an export policy of its own: it moves to a new group, still lagging.
    let mut info = peer(3, Asn(65100));
    info.export_policy = 7;
    let mut reject = |_: &GroupKey, _: &Prefix, _: &SelectedRoute| ExportVerdict::Reject;
    assert_eq!(rib.update_peer(info, &mut reject).unwrap(), None);
    assert_ne!(rib.group_of(PeerId(3)), rib.group_of(PeerId(2)));
    assert!(rib.is_lagging(PeerId(3)));
    let up = rib.catch_up(PeerId(3)).unwrap();
    assert_eq!(
        decode(&up.bytes),
        (vec![], vec![block], 0),
        "the new group sends nothing"
    );
}
