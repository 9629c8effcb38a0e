//! The RIB actor's side of the kernel path: convergence told once, after the changes, and
//! networks fed again on request.

use bgp_proto::update::Update;
use bgp_proto::SessionContext;

use super::tests::up;
use super::*;
use crate::fib::{FibCounters, FibInput};
use crate::status::StatusTx;

const CONFIG: &str = r#"
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

fn ctx() -> SessionContext {
    SessionContext {
        four_octet_as: true,
        ..SessionContext::default()
    }
}

/// ORIGIN IGP, AS_PATH [65002], NEXT_HOP 10.0.0.1; NLRI 10.64.7.0/26 (a pool route).
fn route() -> PeerEvent {
    let body = hex::decode("00000014400101004002060201000fde824003040a0000011a0a400700").unwrap();
    PeerEvent::Update(Box::new(Update::decode(&body, &ctx()).unwrap()))
}

fn end_of_rib() -> PeerEvent {
    PeerEvent::Update(Box::new(Update::decode(&[0, 0, 0, 0], &ctx()).unwrap()))
}

struct Harness {
    actor: RibActor,
    fib: mpsc::Receiver<FibInput>,
    counters: Arc<FibCounters>,
    status: Vec<StatusTx>,
    _commands: mpsc::Receiver<PeerCommand>,
}

fn harness() -> Harness {
    let config = Config::from_str(CONFIG, "t.toml").unwrap_or_else(|e| panic!("{e}"));
    let policy = CompiledPolicy::new(&config);
    let (cmd_tx, cmd_rx) = mpsc::channel(8);
    let counters = Arc::new(FibCounters::default());
    let (link, fib) = FibLink::channel(counters.clone());
    let mut status = Vec::new();
    let peers = (0..2)
        .map(|index| {
            let (tx, rx) = crate::status::channel();
            status.push(tx);
            RibPeer {
                index,
                stats: Arc::new(PeerStats::default()),
                commands: cmd_tx.clone(),
                status: Some(rx),
            }
        })
        .collect();
    Harness {
        actor: RibActor::new(&config, policy, peers, Some(link), Arc::default()),
        fib,
        counters,
        status,
        _commands: cmd_rx,
    }
}

impl Harness {
    /// One request, then what the actor's loop does after each.
    async fn send(&mut self, peer: u32, events: Vec<PeerEvent>) {
        self.actor
            .request(RibRequest::Peer {
                id: PeerId(peer),
                events,
                slot: None,
            })
            .await;
        self.actor.tell_converged().await;
    }

    fn holding(&self) -> u64 {
        self.counters.holding.load(Ordering::Relaxed)
    }

    /// The prefixes of the next batch of changes, sorted.
    fn next_changes(&mut self) -> Vec<String> {
        match self.fib.try_recv() {
            Ok(FibInput::Changes(c)) => {
                let mut p: Vec<String> = c.iter().map(|c| c.prefix.to_string()).collect();
                p.sort();
                p
            }
            other => panic!("expected changes, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn converged_is_told_once_after_every_enabled_peer_sent_end_of_rib() {
    let mut h = harness();
    let (w2, _r2) = mpsc::channel(16);
    h.send(1, vec![up(2, w2)]).await;
    assert_eq!(
        h.holding(),
        2,
        "peer 2 waits for its End-of-RIB, peer 3 is down"
    );
    h.send(1, vec![route(), end_of_rib()]).await;
    assert_eq!(h.next_changes(), vec!["10.64.7.0/26"]);
    assert_eq!(h.holding(), 1, "peer 3 is still down");
    assert!(h.fib.try_recv().is_err(), "not converged yet");
    // The operator disables peer 3: it no longer holds the convergence.
    h.status[1].enabled(false);
    h.actor.tell_converged().await;
    assert_eq!(h.holding(), 0);
    assert!(matches!(h.fib.try_recv(), Ok(FibInput::Converged)));
    // Told once.
    h.send(1, vec![end_of_rib()]).await;
    h.actor.tell_converged().await;
    assert!(h.fib.try_recv().is_err());
}

#[tokio::test]
async fn refeed_sends_the_selection_inside_the_networks_only() {
    let mut h = harness();
    let (w2, _r2) = mpsc::channel(16);
    h.send(1, vec![up(2, w2), route()]).await;
    assert_eq!(h.next_changes(), vec!["10.64.7.0/26"]);
    let net = |s: &str| s.parse::<ipnet::IpNet>().unwrap();
    h.actor
        .request(RibRequest::Refeed(vec![net("10.64.0.0/16")]))
        .await;
    // Our own block is in the Loc-RIB too (originated).
    assert_eq!(h.next_changes(), vec!["10.64.1.0/26", "10.64.7.0/26"]);
    h.actor
        .request(RibRequest::Refeed(vec![net("10.64.4.0/22")]))
        .await;
    assert_eq!(h.next_changes(), vec!["10.64.7.0/26"]);
    // Nothing inside: nothing sent.
    h.actor
        .request(RibRequest::Refeed(vec![
            net("192.168.0.0/16"),
            net("fd00::/8"),
        ]))
        .await;
    assert!(h.fib.try_recv().is_err());
}
