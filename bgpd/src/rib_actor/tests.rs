//! The actor driven directly (no sockets): real channels stand in for the connections' write
//! queues, as the peer tasks hand them over.

use std::net::{Ipv4Addr, SocketAddr};

use bgp_proto::attribute::PathAttributes;
use bgp_proto::{Asn, SessionContext};

use super::*;
use crate::route_view::{
    BgpPath, Destination, NotBest, RouteEntry, RouteFilter, RouteReply, RouteSource,
};
use bgp_proto::update::Update;
use bgp_proto::{Negotiated, RouterId};
use rib::SelectedRoute;
use tokio::sync::oneshot;

pub(super) const CONFIG: &str = r#"
router_id = "10.99.0.1"
local_as = 64512
local_blocks = ["10.64.1.0/26"]

[[ip_pools]]
cidr = "10.64.0.0/16"

[[neighbors]]
name = "mesh_2"
address = "10.99.0.2"
remote_as = 64512

[[neighbors]]
name = "mesh_3"
address = "10.99.0.3"
remote_as = 64512
"#;

const HEADER_LEN: usize = 19;

pub(super) fn ctx() -> SessionContext {
    SessionContext {
        four_octet_as: true,
        ..SessionContext::default()
    }
}

/// (announced, withdrawn, End-of-RIB count) of back-to-back UPDATE messages.
pub(super) fn decode(bytes: &[u8]) -> (Vec<(Prefix, PathAttributes)>, Vec<Prefix>, usize) {
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

pub(super) struct Harness {
    pub(super) actor: RibActor,
    pub(super) stats: Vec<Arc<PeerStats>>,
    _commands: mpsc::Receiver<PeerCommand>,
}

pub(super) fn base() -> Config {
    Config::from_str(CONFIG, "t.toml").unwrap_or_else(|e| panic!("{e}"))
}

pub(super) fn harness() -> Harness {
    let config = base();
    let policy = CompiledPolicy::new(&config);
    let (cmd_tx, cmd_rx) = mpsc::channel(8);
    let stats: Vec<Arc<PeerStats>> = (0..2).map(|_| Arc::new(PeerStats::default())).collect();
    let peers = stats
        .iter()
        .enumerate()
        .map(|(index, s)| RibPeer {
            index,
            stats: s.clone(),
            commands: cmd_tx.clone(),
            status: None,
        })
        .collect();
    Harness {
        actor: RibActor::new(&config, policy, peers, None, Arc::default()),
        stats,
        _commands: cmd_rx,
    }
}

pub(super) fn up(n: u8, outbox: mpsc::Sender<Outgoing>) -> PeerEvent {
    PeerEvent::Up(Box::new(SessionUp {
        conn: ConnId(1),
        peer_router_id: RouterId(Ipv4Addr::new(10, 99, 0, n)),
        negotiated: Negotiated {
            context: ctx(),
            families: vec![Family::Ipv4Unicast],
            peer_asn: Asn(64512),
            hold_time: 9,
            route_refresh: true,
            enhanced_route_refresh: false,
            extended_next_hop_v4: false,
        },
        local: Some(SocketAddr::from(([10, 99, 0, 1], 179))),
        outbox,
        restart_time: None,
        peer_restarting: false,
    }))
}

/// ORIGIN IGP, AS_PATH [65002], NEXT_HOP 10.0.0.1; NLRI 10.64.7.0/26 (a pool route).
fn update_from_peer() -> Box<Update> {
    let body = hex::decode("00000014400101004002060201000fde824003040a0000011a0a400700").unwrap();
    Box::new(Update::decode(&body, &ctx()).unwrap())
}

pub(super) async fn send(h: &mut Harness, peer: u32, events: Vec<PeerEvent>) {
    h.actor
        .request(RibRequest::Peer {
            id: PeerId(peer),
            events,
            slot: None,
        })
        .await;
}

#[tokio::test]
async fn peer_up_gets_our_block_and_end_of_rib_then_routes_flow_between_peers() {
    let mut h = harness();
    let (w2, mut r2) = mpsc::channel(16);
    let (w3, mut r3) = mpsc::channel(16);
    send(&mut h, 1, vec![up(2, w2)]).await;
    let (ann, wd, eor) = decode(&r2.try_recv().expect("initial table").concat());
    assert_eq!(ann.len(), 1);
    assert_eq!(ann[0].0, "10.64.1.0/26".parse::<Prefix>().unwrap());
    assert_eq!(
        ann[0].1.next_hop,
        Some(Ipv4Addr::new(10, 99, 0, 1)),
        "next hop self"
    );
    assert!(wd.is_empty());
    assert_eq!(eor, 1, "End-of-RIB after the table (RFC 4724 §2)");
    send(&mut h, 2, vec![up(3, w3)]).await;
    assert_eq!(decode(&r3.try_recv().expect("initial table").concat()).2, 1);

    // Peer 2 sends a route (with another UPDATE in the same batch: End-of-RIB).
    let eor_update = Box::new(Update::decode(&[0, 0, 0, 0], &ctx()).unwrap());
    send(
        &mut h,
        1,
        vec![
            PeerEvent::Update(update_from_peer()),
            PeerEvent::Update(eor_update),
        ],
    )
    .await;
    // iBGP to iBGP, not a reflector: peer 3 does not get it (RFC 4271 §9.2), nor peer 2.
    assert!(r3.try_recv().is_err());
    assert!(r2.try_recv().is_err());
    assert_eq!(PeerStats::get(&h.stats[0].prefixes_accepted), 1);
    assert_eq!(PeerStats::get(&h.stats[1].prefixes_advertised), 1);
    let routes = ask_local(&mut h, None).await;
    assert_eq!(routes.len(), 2);
    let (p, sel) = routes
        .iter()
        .find(|(p, _)| p.to_string() == "10.64.7.0/26")
        .expect("learned route in Loc-RIB");
    assert_eq!(sel[0].peer, Some(PeerId(1)), "{p}");

    // `show route` shows both: our block as blackhole, the learned route.
    let snap = show(&mut h, RouteFilter::default()).await;
    assert_eq!(snap.len(), 2);
    assert!(snap
        .iter()
        .any(|e| e.destination == Destination::Blackhole && e.protocol == "static1"));
    assert!(snap.iter().any(|e| e.protocol == "mesh_2"
        && matches!(&e.destination, Destination::Router { gateway, .. }
            if *gateway == "10.0.0.1".parse::<IpAddr>().unwrap())));

    // Peer 2 goes down: its route leaves the Loc-RIB.
    send(&mut h, 1, vec![PeerEvent::Down { graceful: false }]).await;
    assert_eq!(ask_local(&mut h, None).await.len(), 1);
    assert_eq!(h.actor.counts.get(), (1, 0), "the learned route uncounted");
    assert_eq!(PeerStats::get(&h.stats[0].prefixes_advertised), 0);
}

#[tokio::test]
async fn graceful_restart_keeps_routes_until_the_restart_time_runs_out() {
    let mut h = harness();
    let (w2, _r2) = mpsc::channel(16);
    let PeerEvent::Up(mut u) = up(2, w2) else {
        unreachable!()
    };
    u.restart_time = Some(Duration::from_secs(120));
    send(
        &mut h,
        1,
        vec![PeerEvent::Up(u), PeerEvent::Update(update_from_peer())],
    )
    .await;
    send(&mut h, 1, vec![PeerEvent::Down { graceful: true }]).await;
    let routes = ask_local(&mut h, None).await;
    let learned: Vec<_> = routes.iter().filter(|(_, s)| s[0].peer.is_some()).collect();
    assert_eq!(learned.len(), 1, "kept while the peer restarts");
    assert!(learned[0].1[0].stale);
    let due = h.actor.peers[&PeerId(1)]
        .stale_until
        .expect("restart timer");
    h.actor.sweep_expired(due).await;
    assert_eq!(
        ask_local(&mut h, None).await.len(),
        1,
        "swept at the restart time"
    );
}

pub(super) async fn ask_local(
    h: &mut Harness,
    prefix: Option<Prefix>,
) -> Vec<(Prefix, Vec<SelectedRoute>)> {
    let (reply, rx) = oneshot::channel();
    h.actor.query(RibQuery::Routes {
        prefix,
        addr: None,
        reply,
    });
    rx.await.unwrap()
}

#[tokio::test]
async fn end_of_rib_after_a_graceful_restart_sweeps_stale_routes_and_stops_the_timer() {
    let mut h = harness();
    let with_gr = |w| {
        let PeerEvent::Up(mut u) = up(2, w) else {
            unreachable!()
        };
        u.restart_time = Some(Duration::from_secs(120));
        PeerEvent::Up(u)
    };
    let (w2, _r2) = mpsc::channel(16);
    send(
        &mut h,
        1,
        vec![with_gr(w2), PeerEvent::Update(update_from_peer())],
    )
    .await;
    send(&mut h, 1, vec![PeerEvent::Down { graceful: true }]).await;
    // Back; the peer no longer has the route and says so with End-of-RIB only.
    let (w2, _r2) = mpsc::channel(16);
    send(&mut h, 1, vec![with_gr(w2)]).await;
    assert_eq!(
        ask_local(&mut h, None).await.len(),
        2,
        "stale until End-of-RIB"
    );
    let eor = Box::new(Update::decode(&[0, 0, 0, 0], &ctx()).unwrap());
    send(&mut h, 1, vec![PeerEvent::Update(eor)]).await;
    assert_eq!(
        ask_local(&mut h, None).await.len(),
        1,
        "swept by End-of-RIB"
    );
    assert_eq!(h.actor.peers[&PeerId(1)].stale_until, None, "timer stopped");
}

async fn show_reply(h: &mut Harness, filter: RouteFilter) -> RouteReply {
    let (reply, rx) = oneshot::channel();
    h.actor.query(RibQuery::Show { filter, reply });
    rx.await.unwrap()
}

async fn show(h: &mut Harness, filter: RouteFilter) -> Vec<RouteEntry> {
    match show_reply(h, filter).await {
        RouteReply::Routes(v) => v,
        other => panic!("a listing, not {other:?}"),
    }
}

fn net(s: &str) -> crate::route_view::Net {
    let (a, l) = s.split_once('/').unwrap();
    crate::route_view::Net {
        addr: a.parse().unwrap(),
        len: l.parse().unwrap(),
    }
}

#[tokio::test]
async fn a_listing_in_pages_resumes_from_its_cursor_and_matches_the_whole_listing() {
    use crate::route_view::Family as Fam;
    let mut h = harness();
    let (w2, _r2) = mpsc::channel(16);
    send(
        &mut h,
        1,
        vec![up(2, w2), PeerEvent::Update(update_from_peer())],
    )
    .await;
    for protocol in [
        None,
        Some("mesh_2".to_string()),
        Some("static1".to_string()),
    ] {
        let f = RouteFilter {
            family: Some(Fam::V4),
            protocol,
            ..Default::default()
        };
        let whole = show(&mut h, f.clone()).await;
        assert!(!whole.is_empty());
        let (mut after, mut paged, mut pages) = (None, Vec::new(), 0);
        loop {
            let p = h.actor.page(&f, after, 1);
            pages += 1;
            paged.extend(p.routes);
            match p.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(paged, whole, "{f:?}");
        assert_eq!(pages, 3, "one network per page, then an empty last page");
    }
    // IPv6 listing of an IPv4-only table: one empty page.
    let f = RouteFilter {
        family: Some(Fam::V6),
        ..Default::default()
    };
    let p = h.actor.page(&f, None, 1);
    assert!(p.routes.is_empty() && p.next.is_none());
}

#[tokio::test]
async fn pages_wait_behind_peer_batches_but_get_a_turn() {
    let mut h = harness();
    let (reply, mut rx) = oneshot::channel();
    let q = super::page::PageQuery {
        filter: RouteFilter {
            family: Some(crate::route_view::Family::V4),
            ..Default::default()
        },
        after: None,
        reply,
    };
    h.actor
        .request(RibRequest::Query(RibQuery::ShowPage(q)))
        .await;
    assert!(rx.try_recv().is_err(), "deferred, not served on arrival");
    assert!(h.actor.pages.waiting() && !h.actor.pages.turn());
    for _ in 0..super::page::BATCHES_PER_PAGE {
        send(&mut h, 1, vec![]).await;
    }
    assert!(h.actor.pages.turn(), "due after the batches");
    h.actor.serve_page();
    let page = rx.try_recv().expect("served");
    assert_eq!(page.routes.len(), 1);
    assert!(!h.actor.pages.waiting() && !h.actor.pages.turn());
}

#[tokio::test]
async fn show_query_lists_the_loc_rib_on_demand() {
    let mut h = harness();
    let v = show(&mut h, RouteFilter::default()).await;
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].destination, Destination::Blackhole);
    assert_eq!(v[0].preference, 200);
    assert!(v[0].primary);
}

#[tokio::test]
async fn show_query_filters_in_the_actor_and_counts_without_entries() {
    use crate::route_view::Family as Fam;
    let mut h = harness();
    let (w2, _r2) = mpsc::channel(16);
    send(
        &mut h,
        1,
        vec![up(2, w2), PeerEvent::Update(update_from_peer())],
    )
    .await;
    // Sorted by network: 10.64.1.0/26 (ours) before 10.64.7.0/26 (mesh_2).
    let all = show(&mut h, RouteFilter::default()).await;
    let nets: Vec<String> = all
        .iter()
        .map(|e| format!("{}/{}", e.net.addr, e.net.len))
        .collect();
    assert_eq!(nets, ["10.64.1.0/26", "10.64.7.0/26"]);
    assert_eq!(
        h.actor.counts.get(),
        (2, 0),
        "routes per family for metrics"
    );
    let by_peer = RouteFilter {
        protocol: Some("mesh_2".into()),
        ..Default::default()
    };
    let v = show(&mut h, by_peer.clone()).await;
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].protocol, "mesh_2");
    let v = show(
        &mut h,
        RouteFilter {
            exact: Some(net("10.64.1.0/26")),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].protocol, "static1");
    let v = show(
        &mut h,
        RouteFilter {
            for_addr: Some("10.64.7.9".parse().unwrap()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].net, net("10.64.7.0/26"));
    let none = show(
        &mut h,
        RouteFilter {
            for_addr: Some("10.64.7.9".parse().unwrap()),
            protocol: Some("mesh_3".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(none.is_empty(), "no mesh_3 route holds it");
    let v6 = show(
        &mut h,
        RouteFilter {
            family: Some(Fam::V6),
            ..Default::default()
        },
    )
    .await;
    assert!(v6.is_empty(), "IPv4 routes on the IPv6 socket");
    let count = show_reply(
        &mut h,
        RouteFilter {
            count: true,
            family: Some(Fam::V4),
            ..by_peer
        },
    )
    .await;
    assert_eq!(
        count,
        RouteReply::Count {
            routes: 1,
            primary: 1,
            networks: 1,
            total: 2
        }
    );
    let count = show_reply(
        &mut h,
        RouteFilter {
            count: true,
            for_addr: Some("10.64.1.1".parse().unwrap()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        count,
        RouteReply::Count {
            routes: 1,
            primary: 1,
            networks: 1,
            total: 2
        }
    );
    // The unfiltered count comes from the RIB's counters: the same as a walk would give.
    for (family, n) in [(None, 2), (Some(Fam::V4), 2), (Some(Fam::V6), 0)] {
        for primary in [false, true] {
            let count = show_reply(
                &mut h,
                RouteFilter {
                    count: true,
                    family,
                    primary,
                    ..Default::default()
                },
            )
            .await;
            assert_eq!(
                count,
                RouteReply::Count {
                    routes: n,
                    primary: n,
                    networks: n,
                    total: n
                },
                "family {family:?} primary {primary}"
            );
        }
    }
}

/// (type, first body byte after AFI for ROUTE-REFRESH = subtype) of each message.
fn kinds(bytes: &[u8]) -> Vec<(u8, Option<u8>)> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while rest.len() >= HEADER_LEN {
        let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
        let t = rest[18];
        out.push((t, (t == 5).then(|| rest[HEADER_LEN + 2])));
        rest = &rest[len..];
    }
    out
}

#[tokio::test]
async fn route_refresh_is_answered_between_borr_and_eorr_with_enhanced_route_refresh() {
    let mut h = harness();
    let (w2, mut r2) = mpsc::channel(16);
    let PeerEvent::Up(mut u) = up(2, w2) else {
        unreachable!()
    };
    u.negotiated.enhanced_route_refresh = true;
    send(&mut h, 1, vec![PeerEvent::Up(u)]).await;
    let _initial = r2.try_recv().expect("initial table");
    send(
        &mut h,
        1,
        vec![PeerEvent::RouteRefresh(Family::Ipv4Unicast)],
    )
    .await;
    let b = r2.try_recv().expect("refresh answer").concat();
    let k = kinds(&b);
    assert_eq!(k.first(), Some(&(5, Some(1))), "BoRR first: {k:?}");
    assert_eq!(k.last(), Some(&(5, Some(2))), "EoRR last: {k:?}");
    let inner = &b[HEADER_LEN + 4..b.len() - HEADER_LEN - 4];
    assert_eq!(decode(inner).0.len(), 1, "our block in between");
}

#[tokio::test]
async fn show_lists_every_path_best_first_with_attributes_and_why_the_others_lost() {
    let mut h = harness();
    let (w2, _r2) = mpsc::channel(16);
    let (w3, _r3) = mpsc::channel(16);
    // The same route from both peers: the lower router id (mesh_2) wins the tie-break.
    send(
        &mut h,
        2,
        vec![up(3, w3), PeerEvent::Update(update_from_peer())],
    )
    .await;
    send(
        &mut h,
        1,
        vec![up(2, w2), PeerEvent::Update(update_from_peer())],
    )
    .await;
    let v = show(
        &mut h,
        RouteFilter {
            exact: Some(net("10.64.7.0/26")),
            ..Default::default()
        },
    )
    .await;
    let who: Vec<(&str, bool)> = v.iter().map(|e| (e.protocol.as_str(), e.primary)).collect();
    assert_eq!(who, [("mesh_2", true), ("mesh_3", false)]);
    assert_eq!(v[0].source, RouteSource::Bgp);
    assert_eq!(v[0].not_best, None);
    let Some(BgpPath { attrs, keys }) = &v[1].path else {
        panic!("a BGP path: {:?}", v[1]);
    };
    assert_eq!(attrs.attrs.as_path.as_ref().map(|p| p.path_len()), Some(1));
    assert_eq!(keys.local_pref, 100, "the default the decision compared");
    match &v[1].not_best {
        Some(NotBest::Decision {
            reason,
            this,
            best,
            winner,
            winner_addr,
            in_ecmp,
        }) => {
            assert_eq!(*reason, rib::LossReason::RouterId);
            assert_eq!(this.router_id, Ipv4Addr::new(10, 99, 0, 3));
            assert_eq!(best.router_id, Ipv4Addr::new(10, 99, 0, 2));
            assert_eq!(
                (winner.as_str(), *winner_addr),
                ("mesh_2", Some("10.99.0.2".parse().unwrap()))
            );
            // Equal up to the tie-breaks: a member of the ECMP set (max_paths 16 by default).
            assert!(in_ecmp);
        }
        other => panic!("a decision loss, not {other:?}"),
    }
    // Counts count what the listings list: both paths.
    let count = |exact: Option<&str>, primary: bool| RouteFilter {
        count: true,
        exact: exact.map(net),
        primary,
        family: Some(crate::route_view::Family::V4),
        ..Default::default()
    };
    let all = RouteReply::Count {
        routes: 3,
        primary: 2,
        networks: 2,
        total: 3,
    };
    assert_eq!(show_reply(&mut h, count(None, false)).await, all);
    assert_eq!(
        show_reply(&mut h, count(Some("10.64.7.0/26"), false)).await,
        RouteReply::Count {
            routes: 2,
            primary: 1,
            networks: 1,
            total: 3
        }
    );
    assert_eq!(
        show_reply(&mut h, count(None, true)).await,
        RouteReply::Count {
            routes: 2,
            primary: 2,
            networks: 2,
            total: 3
        }
    );
    // A listing's page carries every path as well, in the same order.
    let page = h.actor.page(
        &RouteFilter {
            family: Some(crate::route_view::Family::V4),
            ..Default::default()
        },
        None,
        16,
    );
    let who: Vec<(&str, bool)> = page
        .routes
        .iter()
        .map(|e| (e.protocol.as_str(), e.primary))
        .collect();
    assert_eq!(
        who,
        [("static1", true), ("mesh_2", true), ("mesh_3", false)]
    );
    assert_eq!(page.routes[2].not_best, v[1].not_best);
    // `primary`: the best only; our block is a static route without BGP attributes.
    let primary = show(
        &mut h,
        RouteFilter {
            primary: true,
            ..Default::default()
        },
    )
    .await;
    let who: Vec<&str> = primary.iter().map(|e| e.protocol.as_str()).collect();
    assert_eq!(who, ["static1", "mesh_2"]);
    assert_eq!(primary[0].source, RouteSource::Static);
    assert!(primary[0].path.is_none());
    // `protocol mesh_3`: its path, though not the best.
    let v = show(
        &mut h,
        RouteFilter {
            protocol: Some("mesh_3".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(v.len(), 1);
    assert!(!v[0].primary);
}
