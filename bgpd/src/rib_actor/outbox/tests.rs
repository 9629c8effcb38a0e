//! A peer whose outbox is full lags: the others go on, it gets the latest state when it drains.

use bgp_proto::Family;
use rib::PeerId;
use tokio::sync::mpsc;

use crate::rib_actor::tests::{decode, harness, send, up, Harness};
use crate::rib_actor::PeerEvent;
use bgp_proto::Prefix;

/// Our own change: a block originated (`up`) or withdrawn.
async fn our_block(h: &mut Harness, block: &str, up: bool) {
    let p: Prefix = block.parse().unwrap();
    let c = if up {
        h.actor.policy.export.own_blocks.push(p);
        h.actor.rib.originate(p, rib::AttrSet::default())
    } else {
        h.actor.rib.withdraw_local(p)
    };
    h.actor.flush(c).await;
}

#[tokio::test]
async fn a_full_outbox_makes_the_peer_lag_without_holding_up_the_others_then_it_gets_the_latest_state(
) {
    let mut h = harness();
    let (w2, mut r2) = mpsc::channel(1);
    let (w3, mut r3) = mpsc::channel(16);
    send(&mut h, 1, vec![up(2, w2)]).await; // fills the one slot
    send(&mut h, 2, vec![up(3, w3)]).await;
    let _ = r3.try_recv();
    our_block(&mut h, "10.64.2.0/26", true).await;
    assert!(h.actor.rib.is_lagging(PeerId(1)), "mesh_2 lags");
    assert_eq!(h.actor.waiters.len(), 1, "a waiter for its room");
    // mesh_3 is not held up; mesh_2 asks for a refresh meanwhile; more churn.
    assert_eq!(decode(&r3.try_recv().expect("live").concat()).0.len(), 1);
    send(
        &mut h,
        1,
        vec![PeerEvent::RouteRefresh(Family::Ipv4Unicast)],
    )
    .await;
    our_block(&mut h, "10.64.3.0/26", true).await;
    our_block(&mut h, "10.64.2.0/26", false).await;
    let (ann, wd, _) = decode(&r3.try_recv().expect("live").concat());
    assert_eq!((ann.len(), wd.len()), (1, 0));
    assert_eq!(decode(&r3.try_recv().expect("live").concat()).1.len(), 1);
    assert_eq!(h.actor.waiters.len(), 1, "one waiter per lag");
    // mesh_2 reads its initial table: the waiter reports room, it catches up.
    let initial = r2.try_recv().expect("initial table");
    assert_eq!(decode(&initial.concat()).0.len(), 1);
    let d = h.actor.waiters.join_next().await.unwrap().unwrap();
    h.actor.drained(d);
    assert!(!h.actor.rib.is_lagging(PeerId(1)));
    let out = r2.try_recv().expect("catch-up");
    assert_eq!(out.0.len(), 2, "the changes, then the refresh answer");
    // 10.64.2.0/26 came and went while it lagged: it never hears of it.
    let block3: Prefix = "10.64.3.0/26".parse().unwrap();
    let (ann, wd, eor) = decode(&out.0[0]);
    assert_eq!(
        (ann.into_iter().map(|(p, _)| p).collect::<Vec<_>>(), wd, eor),
        (vec![block3], vec![], 0)
    );
    let (ann, _, eor) = decode(&out.0[1]);
    assert_eq!((ann.len(), eor), (2, 1), "both blocks and End-of-RIB");
    // Writes reach it again directly.
    our_block(&mut h, "10.64.3.0/26", false).await;
    assert_eq!(
        decode(&r2.try_recv().expect("live").concat()).1,
        vec![block3]
    );
}
