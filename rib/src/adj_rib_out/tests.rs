//! ADD-PATH transmit bookkeeping of one Adj-RIB-Out: identifiers per prefix, replacement under
//! the same identifier, withdrawal by identifier, reuse of freed identifiers.

use std::net::Ipv4Addr;

use bgp_proto::attribute::{AsPath, Origin, PathAttributes};
use bgp_proto::update::Update;
use bgp_proto::HEADER_LEN;

use super::*;
use crate::intern::Interner;

fn ctx() -> SessionContext {
    SessionContext {
        four_octet_as: true,
        add_path_tx_v4: true,
        ..SessionContext::default()
    }
}

/// How the receiving peer reads what we send.
fn peer_ctx() -> SessionContext {
    SessionContext {
        four_octet_as: true,
        add_path_rx_v4: true,
        ..SessionContext::default()
    }
}

fn pfx(s: &str) -> Prefix {
    s.parse().unwrap()
}

fn set(interner: &mut Interner, nh: u8, med: u32) -> Attrs {
    interner.intern(AttrSet {
        attrs: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::default()),
            next_hop: Some(Ipv4Addr::new(10, 99, 0, nh)),
            med: Some(med),
            ..PathAttributes::default()
        },
        mp_next_hop: None,
    })
}

fn key(source: u32) -> PathKey {
    PathKey { source, path_id: 0 }
}

/// The UPDATEs as the peer decodes them: (path id, prefix, next hop's last octet, MED) per
/// announcement, (path id, prefix) per withdrawal.
#[allow(clippy::type_complexity)]
fn decode(bytes: &[u8]) -> (Vec<(u32, Prefix, u8, u32)>, Vec<(u32, Prefix)>) {
    let (mut ann, mut wd) = (Vec::new(), Vec::new());
    let mut rest = bytes;
    while !rest.is_empty() {
        let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
        let u = Update::decode(&rest[HEADER_LEN..len], &peer_ctx()).unwrap();
        for (_, e) in u.announced() {
            let nh = u.attributes.next_hop.unwrap().octets()[3];
            ann.push((e.path_id.unwrap(), e.prefix, nh, u.attributes.med.unwrap()));
        }
        wd.extend(u.withdrawals().map(|(_, e)| (e.path_id.unwrap(), e.prefix)));
        rest = &rest[len..];
    }
    ann.sort();
    wd.sort();
    (ann, wd)
}

/// No member of the group is a source: everything goes to every member.
fn update(out: &mut AdjRibOut, p: Prefix, paths: Vec<(PathKey, Attrs)>) -> Bytes {
    let mut errors = Vec::new();
    let b = out.update(&ctx(), [(p, Wanted::Paths(paths))], &|_| None, &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    assert!(b.split.is_empty());
    b.all
}

#[test]
fn rfc7911_paths_keep_their_identifier_and_are_withdrawn_by_it() {
    let mut i = Interner::default();
    let (a2, a3, a3b, a4) = (
        set(&mut i, 2, 0),
        set(&mut i, 3, 0),
        set(&mut i, 3, 5),
        set(&mut i, 4, 0),
    );
    let p = pfx("10.96.0.0/12");
    let mut out = AdjRibOut::default();

    let b = update(
        &mut out,
        p,
        vec![(key(2), a2.clone()), (key(3), a3.clone())],
    );
    assert_eq!(decode(&b), (vec![(1, p, 2, 0), (2, p, 3, 0)], vec![]));
    assert_eq!(out.len(), 2);

    // Nothing changed: nothing sent.
    let b = update(
        &mut out,
        p,
        vec![(key(3), a3.clone()), (key(2), a2.clone())],
    );
    assert!(b.is_empty());

    // Peer 2's path goes, peer 3's changes: withdraw id 1, replace id 2 in place.
    let b = update(&mut out, p, vec![(key(3), a3b.clone())]);
    assert_eq!(decode(&b), (vec![(2, p, 3, 5)], vec![(1, p)]));
    assert_eq!(out.paths(&p), vec![(Some(2), &a3b)]);

    // A new path takes the smallest free identifier.
    let b = update(
        &mut out,
        p,
        vec![(key(3), a3b.clone()), (key(4), a4.clone())],
    );
    assert_eq!(decode(&b), (vec![(1, p, 4, 0)], vec![]));

    // All gone: every identifier withdrawn, the prefix leaves the Adj-RIB-Out.
    let b = update(&mut out, p, vec![]);
    assert_eq!(decode(&b), (vec![], vec![(1, p), (2, p)]));
    assert!(out.is_empty() && out.get(&p).is_none());
}

#[test]
fn a_freed_identifier_taken_in_the_same_update_is_replaced_not_withdrawn() {
    let mut i = Interner::default();
    let (a2, a3) = (set(&mut i, 2, 0), set(&mut i, 3, 0));
    let p = pfx("10.64.1.0/26");
    let mut out = AdjRibOut::default();
    update(&mut out, p, vec![(key(2), a2)]);
    let b = update(&mut out, p, vec![(key(3), a3.clone())]);
    // The announcement of id 1 replaces peer 2's path at the receiver (RFC 7911 §3).
    assert_eq!(decode(&b), (vec![(1, p, 3, 0)], vec![]));
    assert_eq!(out.paths(&p), vec![(Some(1), &a3)]);
}

#[test]
fn paths_with_one_source_and_different_received_ids_are_distinct() {
    let mut i = Interner::default();
    let (a, b_) = (set(&mut i, 2, 0), set(&mut i, 5, 0));
    let p = pfx("10.64.1.0/26");
    let mut out = AdjRibOut::default();
    let k = |id| PathKey {
        source: 7,
        path_id: id,
    };
    let b = update(&mut out, p, vec![(k(10), a), (k(20), b_)]);
    assert_eq!(decode(&b).0.len(), 2);
    let b = update(&mut out, p, vec![(k(20), set(&mut i, 5, 0))]);
    assert_eq!(decode(&b), (vec![], vec![(1, p)]));
}

#[test]
fn dump_and_diff_carry_the_identifiers() {
    let mut i = Interner::default();
    let (a2, a3, a4) = (set(&mut i, 2, 0), set(&mut i, 3, 0), set(&mut i, 4, 0));
    let p = pfx("10.96.0.0/12");
    let q = pfx("10.64.1.0/26");
    let mut one = AdjRibOut::default();
    update(
        &mut one,
        p,
        vec![(key(2), a2.clone()), (key(3), a3.clone())],
    );
    let mut errors = Vec::new();
    let dump = one.dump(&ctx(), &[Family::Ipv4Unicast], |_, _| false, &mut errors);
    let (ann, wd) = decode(&dump);
    assert_eq!(ann, vec![(1, p, 2, 0), (2, p, 3, 0)]);
    assert!(wd.is_empty());

    // Another group holding other paths under other identifiers: a peer moving from `one`
    // to `two` gets exactly the difference.
    let mut two = AdjRibOut::default();
    update(&mut two, p, vec![(key(3), a3.clone())]);
    update(&mut two, q, vec![(key(4), a4.clone())]);
    let old = one.snapshot();
    let b = two.diff_from(&old, &ctx(), |_, _| false, &mut errors);
    // In `two` peer 3's path has id 1: id 1 is replaced, id 2 withdrawn, q announced.
    assert_eq!(decode(&b), (vec![(1, q, 4, 0), (1, p, 3, 0)], vec![(2, p)]));
    assert!(errors.is_empty());
}

#[test]
fn free_ids_skip_the_used_ones() {
    let got: Vec<u32> = free_ids(vec![1, 2, 4, 7]).take(4).collect();
    assert_eq!(got, vec![3, 5, 6, 8]);
    assert_eq!(free_ids(vec![]).next(), Some(1));
}

#[test]
fn a_members_path_goes_to_the_others_and_a_withdrawal_replaces_what_it_held() {
    let mut i = Interner::default();
    let (a2, a3) = (set(&mut i, 2, 0), set(&mut i, 3, 0));
    let p = pfx("10.64.1.0/26");
    let mut out = AdjRibOut::default();
    // Peer 2 is not in the group, peer 3 is.
    let member = |s: u32| (s == 3).then_some(PeerId(3));
    let mut errors = Vec::new();
    let b = out.update(
        &ctx(),
        [(p, Wanted::Paths(vec![(key(2), a2)]))],
        &member,
        &mut errors,
    );
    assert_eq!(decode(&b.all), (vec![(1, p, 2, 0)], vec![]));
    // Peer 2's path leaves and peer 3's takes identifier 1: the others get the replacement,
    // peer 3 (which held peer 2's path under id 1) a withdrawal of id 1, once each.
    let b = out.update(
        &ctx(),
        [(p, Wanted::Paths(vec![(key(3), a3)]))],
        &member,
        &mut errors,
    );
    assert!(b.all.is_empty());
    assert_eq!(b.split.len(), 1);
    assert_eq!(b.split[0].peer, PeerId(3));
    assert_eq!(decode(&b.split[0].others), (vec![(1, p, 3, 0)], vec![]));
    assert_eq!(decode(&b.split[0].only), (vec![], vec![(1, p)]));
    // Peer 3's path goes: only the others had it.
    let b = out.update(&ctx(), [(p, Wanted::Paths(vec![]))], &member, &mut errors);
    assert!(b.all.is_empty() && b.split[0].only.is_empty());
    assert_eq!(decode(&b.split[0].others), (vec![], vec![(1, p)]));
    assert!(errors.is_empty());
}
