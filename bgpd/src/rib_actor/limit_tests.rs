//! Prefix limits through the actor: what the peer task is told and what the control socket
//! reads.

use std::net::{Ipv4Addr, SocketAddr};

use bgp_proto::nlri::NlriEntry;
use bgp_proto::{Asn, SessionContext};
use rib::{LimitKind, LimitState};

use super::*;
use bgp_proto::update::Update;
use bgp_proto::{Negotiated, RouterId};

fn config(action: &str) -> Config {
    let text = format!(
        r#"
router_id = "10.99.0.1"
local_as = 64512

[[ip_pools]]
cidr = "10.64.0.0/16"

[[neighbors]]
name = "tor"
address = "10.99.0.2"
remote_as = 64512
import_limit = {{ ipv4 = {{ max = 2, action = "{action}" }} }}
"#
    );
    Config::from_str(&text, "t.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn ctx() -> SessionContext {
    SessionContext {
        four_octet_as: true,
        ..SessionContext::default()
    }
}

struct Harness {
    actor: RibActor,
    stats: Arc<PeerStats>,
    commands: mpsc::Receiver<PeerCommand>,
    _outbox: mpsc::Receiver<Outgoing>,
}

async fn harness(action: &str) -> Harness {
    let config = config(action);
    let policy = CompiledPolicy::new(&config);
    let (cmd_tx, commands) = mpsc::channel(8);
    let stats = Arc::new(PeerStats::default());
    let peers = vec![RibPeer {
        index: 0,
        stats: stats.clone(),
        commands: cmd_tx,
        status: None,
    }];
    let mut actor = RibActor::new(&config, policy, peers, None, Arc::default());
    let (outbox, rx) = outbox();
    let up = PeerEvent::Up(Box::new(SessionUp {
        conn: ConnId(1),
        peer_router_id: RouterId(Ipv4Addr::new(10, 99, 0, 2)),
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
    }));
    let id = policy_compile::peer_id(0);
    actor
        .request(RibRequest::Peer {
            id,
            events: vec![up],
            slot: None,
        })
        .await;
    Harness {
        actor,
        stats,
        commands,
        _outbox: rx,
    }
}

/// ORIGIN IGP, AS_PATH [65002], NEXT_HOP 10.0.0.1; NLRI 10.64.N.0/26 for N in `nets`.
fn update(nets: std::ops::Range<u8>) -> Box<Update> {
    let body = hex::decode("00000014400101004002060201000fde824003040a000001").expect("hex");
    let mut u = Update::decode(&body, &ctx()).expect("decodes");
    u.nlri = nets
        .map(|n| NlriEntry::new(format!("10.64.{n}.0/26").parse().expect("prefix")))
        .collect();
    Box::new(u)
}

async fn send(h: &mut Harness, u: Box<Update>) {
    let id = policy_compile::peer_id(0);
    h.actor
        .request(RibRequest::Peer {
            id,
            events: vec![PeerEvent::Update(u)],
            slot: None,
        })
        .await;
}

#[tokio::test]
async fn restart_limit_tells_the_peer_task_once_and_shows_hit() {
    let mut h = harness("restart").await;
    let v4 = Family::Ipv4Unicast;
    assert!(!h.stats.limit_hit(v4, LimitKind::Import));
    send(&mut h, update(0..3)).await;
    match h.commands.try_recv() {
        Ok(PeerCommand::RouteLimit {
            family,
            max,
            disable,
        }) => assert_eq!((family, max, disable), (v4, 2, false)),
        other => panic!("expected RouteLimit, got {other:?}"),
    }
    assert!(h.stats.limit_hit(v4, LimitKind::Import));
    // The third was kept out: BIRD counts it ignored, not accepted.
    assert_eq!(PeerStats::get(&h.stats.prefixes_accepted), 2);
    // More routes before the session ends: no second command.
    send(&mut h, update(3..5)).await;
    assert!(h.commands.try_recv().is_err());
}

#[tokio::test]
async fn warn_limit_keeps_every_route_and_sends_no_command() {
    let mut h = harness("warn").await;
    send(&mut h, update(0..4)).await;
    assert!(h.commands.try_recv().is_err());
    assert_eq!(PeerStats::get(&h.stats.prefixes_accepted), 4);
    let id = policy_compile::peer_id(0);
    assert_eq!(
        h.actor
            .rib
            .limit_state(id, Family::Ipv4Unicast, LimitKind::Import),
        LimitState::Hit
    );
    assert_eq!(h.actor.rib.route_counts(id).imported[0], 4);
}

#[tokio::test]
async fn a_reload_lowering_the_limit_acts_at_once_without_a_reset() {
    let mut h = harness("block").await;
    send(&mut h, update(0..2)).await;
    let id = policy_compile::peer_id(0);
    assert_eq!(
        h.actor
            .rib
            .limit_state(id, Family::Ipv4Unicast, LimitKind::Import),
        LimitState::Initial
    );
    let mut lowered = config("disable");
    lowered.neighbors[0]
        .route_limits
        .get_mut(&Family::Ipv4Unicast)
        .expect("limit")
        .import
        .as_mut()
        .expect("import")
        .max = 1;
    // The reloaded peer keeps its command channel (the harness holds the receiver).
    let cmd_tx = h
        .actor
        .peers
        .get(&id)
        .map(|s| s.commands.clone())
        .expect("slot");
    let r = super::reconfigure::between(&config("disable"), &lowered, h.stats.clone(), cmd_tx);
    h.actor.request(RibRequest::Reconfigure(Box::new(r))).await;
    match h.commands.try_recv() {
        Ok(PeerCommand::RouteLimit { max, disable, .. }) => assert_eq!((max, disable), (1, true)),
        other => panic!("expected RouteLimit, got {other:?}"),
    }
    // Both routes stay until the session goes: the limit only blocks new ones.
    assert_eq!(h.actor.rib.route_counts(id).imported[0], 2);
}
