//! Prefix limits through the facade: counts kept by every way a route comes and goes, and what
//! a blocked limit drops.

use std::net::Ipv4Addr;

use bgp_proto::attribute::{AsPath, Origin, PathAttributes};
use bgp_proto::nlri::NlriEntry;
use bgp_proto::update::Update;
use bgp_proto::{Asn, Family, Prefix, RouterId, SessionContext};

use super::*;
use crate::adj_rib_in::AcceptAll;
use crate::adj_rib_out::ExportAll;
use crate::limit::RouteLimit;

const V4: Family = Family::Ipv4Unicast;

fn rib_with_peer() -> (Rib, PeerId) {
    let local = LocalInfo::new(RouterId(Ipv4Addr::new(10, 99, 0, 1)), Asn(64512));
    let mut rib = Rib::new(local);
    let id = PeerId(2);
    let info = PeerInfo {
        local_v4: Some(Ipv4Addr::new(10, 99, 0, 1)),
        ..PeerInfo::new(id, Ipv4Addr::new(10, 99, 0, 2).into(), Asn(65002))
    };
    rib.add_peer(info).expect("peer");
    up(&mut rib, id);
    (rib, id)
}

fn up(rib: &mut Rib, id: PeerId) {
    let s = SessionInfo {
        router_id: RouterId(Ipv4Addr::new(10, 99, 0, 2)),
        context: SessionContext {
            four_octet_as: true,
            ..SessionContext::default()
        },
        families: vec![V4],
    };
    rib.peer_up(id, s, &mut ExportAll).expect("up");
}

fn prefixes(range: std::ops::Range<u8>) -> Vec<NlriEntry> {
    range
        .map(|i| {
            let p: Prefix = format!("10.64.{i}.0/24").parse().expect("prefix");
            NlriEntry::new(p)
        })
        .collect()
}

fn announce(range: std::ops::Range<u8>, med: u32) -> Update {
    Update {
        attributes: PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence([Asn(65002)])),
            next_hop: Some(Ipv4Addr::new(10, 99, 0, 2)),
            med: Some(med),
            ..PathAttributes::default()
        },
        nlri: prefixes(range),
        ..Update::default()
    }
}

fn limits(receive: Option<u32>, import: Option<u32>, blocks: bool) -> [FamilyLimits; 2] {
    let l = |max| RouteLimit { max, blocks };
    [
        FamilyLimits {
            receive: receive.map(l),
            import: import.map(l),
        },
        FamilyLimits::default(),
    ]
}

#[test]
fn import_limit_that_blocks_keeps_the_first_routes_and_updates_of_them() {
    let (mut rib, id) = rib_with_peer();
    rib.set_limits(id, limits(None, Some(3), true))
        .expect("set");
    let changes = rib
        .apply_update(id, &announce(0..5, 0), &mut AcceptAll)
        .expect("apply");
    assert_eq!(changes.len(), 3, "only three reach the Loc-RIB");
    let c = rib.route_counts(id);
    assert_eq!((c.held[0], c.imported[0]), (5, 3));
    let (hits, ignored) = rib.take_limit_hits(id);
    assert_eq!(hits.len(), 1);
    assert_eq!(
        (hits[0].kind, hits[0].count, ignored),
        (LimitKind::Import, 3, 2)
    );
    assert_eq!(
        rib.limit_state(id, V4, LimitKind::Import),
        LimitState::Blocked
    );
    // An update of a held route passes; the blocked ones stay filtered.
    let changes = rib
        .apply_update(id, &announce(0..5, 7), &mut AcceptAll)
        .expect("apply");
    assert_eq!(changes.len(), 3);
    assert_eq!(rib.route_counts(id).imported[0], 3);
    // Withdraws count down; the peer going down clears everything, and the limit with it.
    let w = Update {
        withdrawn: prefixes(0..2),
        ..Update::default()
    };
    rib.apply_update(id, &w, &mut AcceptAll).expect("withdraw");
    let c = rib.route_counts(id);
    assert_eq!((c.held[0], c.imported[0]), (3, 1));
    rib.peer_down(id, false).expect("down");
    assert_eq!(rib.route_counts(id), RouteCounts::default());
    up(&mut rib, id);
    assert_eq!(
        rib.limit_state(id, V4, LimitKind::Import),
        LimitState::Initial
    );
    rib.apply_update(id, &announce(0..3, 0), &mut AcceptAll)
        .expect("apply");
    assert_eq!(rib.route_counts(id).imported[0], 3);
}

#[test]
fn receive_limit_does_not_store_new_routes_beyond_it() {
    let (mut rib, id) = rib_with_peer();
    rib.set_limits(id, limits(Some(2), None, true))
        .expect("set");
    rib.apply_update(id, &announce(0..4, 0), &mut AcceptAll)
        .expect("apply");
    assert_eq!(rib.stats().paths, 2);
    assert_eq!(rib.route_counts(id).held[0], 2);
    let (hits, filtered) = rib.take_limit_hits(id);
    assert_eq!(
        (hits.len(), filtered),
        (1, 0),
        "dropped, not imported then filtered"
    );
}

#[test]
fn graceful_restart_keeps_counting_stale_routes_until_they_go() {
    let (mut rib, id) = rib_with_peer();
    rib.apply_update(id, &announce(0..4, 0), &mut AcceptAll)
        .expect("apply");
    rib.peer_down(id, true).expect("down");
    assert_eq!(rib.route_counts(id).imported[0], 4);
    rib.sweep_stale(id);
    assert_eq!(rib.route_counts(id), RouteCounts::default());
}

#[test]
fn a_lower_limit_set_by_a_reload_is_hit_at_once_and_reimport_respects_it() {
    let (mut rib, id) = rib_with_peer();
    let reject_all = |_: &PeerInfo, _: &Prefix, _: &crate::AttrSet| ImportVerdict::Reject;
    let mut reject = reject_all;
    rib.apply_update(id, &announce(0..5, 0), &mut reject)
        .expect("apply");
    assert_eq!(rib.route_counts(id).imported[0], 0);
    rib.set_limits(id, limits(Some(4), Some(2), true))
        .expect("set");
    let (hits, _) = rib.take_limit_hits(id);
    assert_eq!(hits.len(), 1, "receive: 5 held, above 4: {hits:?}");
    assert_eq!(hits[0].kind, LimitKind::Receive);
    // The policy now accepts: the import limit lets two through.
    let changes = rib.reimport(id, &mut AcceptAll).expect("reimport");
    assert_eq!(changes.len(), 2);
    assert_eq!(rib.route_counts(id).imported[0], 2);
}
