//! Graceful-restart recovery of the restarting speaker (RFC 4724 §4.1), the mode calico-node
//! starts BIRD in (`bird -R`; here `bgpd -R`).
//!
//! The daemon restarted while the kernel kept its routes and the peers (receiving speakers)
//! keep ours as stale. So that neither sees a partial table, the recovery:
//! - announces the graceful-restart capability with the Restart State bit and the Forwarding
//!   State bit of every family set ([`mark_restarting`]) until the recovery ends;
//! - defers our export to every peer that will keep our routes (it negotiated graceful restart
//!   and is not restarting itself) until the recovery ends: our RIB fills from the peers first,
//!   then each such peer gets the whole table and its End-of-RIB at once;
//! - defers the FIB reconciliation (the removal of the kernel routes nobody announced again);
//! - ends when every peer configured with graceful restart released it, or when the wait timer
//!   runs out (BIRD's `graceful restart wait`, 240 s by default). A peer releases it with its
//!   End-of-RIB for every negotiated family, at once when its session comes up without graceful
//!   restart or with the peer restarting too (each would wait for the other), and when its
//!   session goes down again, the operator disables or restarts it, or a reload removes it.
//!
//! What a peer that never comes does depends on [`RecoveryMode`] (`[graceful_restart]
//! recovery`; `BGPD_GRACEFUL_RESTART_RECOVERY` under BIRD's command line):
//! - `established-peers` (the default, also as `bird -R`): the recovery waits for the living.
//!   A peer stops holding it when our connection attempt to it fails (refused, no route to
//!   host, unreachable network: nothing listens there) or when it has not established a session
//!   within its first connection round ([`first_round`]: connect delay plus connect retry time;
//!   for a passive peer, which must connect to us, plus its minimum error wait). A living peer
//!   sees our restart at once (our old connections were closed), so it is back within that
//!   round; after a reboot there are no kernel routes of the previous run left to protect. A
//!   peer released so and coming later is exported as usual when its session comes up.
//! - `all-peers`: BIRD's behaviour, every graceful-restart peer of the start configuration
//!   holds the recovery until its End-of-RIB or the wait timer (calico #7144, #9597: a node
//!   down in the mesh keeps every restarted node in recovery for the full 240 s).
//!
//! Peers added by a reload during the recovery do not take part (as in BIRD, where only the
//! protocols of the start configuration do).
//!
//! [`Tracker`] is the RIB actor's bookkeeping (it sees every session event in order);
//! [`Recovery`] is what everyone else reads: the control socket (`show status` `0024` lines,
//! `wait` rows, `GR recovery:` details), the FIB task and the daemon (which drops the Restart
//! State bit from the next OPENs once it is over).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bgp_proto::{Capability, Family};
pub use conf::RecoveryMode;
use rib::PeerId;
use tokio::sync::watch;
use tracing::info;

/// BIRD's default `graceful restart wait`.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(240);
/// How often the RIB actor looks at the recovery while it lasts (operator actions).
pub const POLL: Duration = Duration::from_secs(1);

/// One protocol's part in the recovery (BIRD's `gr_lock` and `gr_wait`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerRecovery {
    /// The recovery waits for this peer (`pending`).
    pub pending: bool,
    /// Our export to this peer waits for the end of the recovery (`waiting`).
    pub waiting: bool,
}

/// The recovery as the rest of the daemon reads it.
#[derive(Debug)]
pub struct Recovery {
    started: Instant,
    wait: Duration,
    /// By neighbor name.
    peers: Mutex<HashMap<String, PeerRecovery>>,
    /// Peers the operator disabled or restarted, for the tracker to let go at its next poll.
    stopped: Mutex<Vec<String>>,
    done: watch::Sender<bool>,
}

impl Recovery {
    /// A recovery that started now and waits at most `wait`.
    pub fn new(wait: Duration) -> Arc<Recovery> {
        Arc::new(Recovery {
            started: Instant::now(),
            wait,
            peers: Mutex::new(HashMap::new()),
            stopped: Mutex::new(Vec::new()),
            done: watch::channel(false).0,
        })
    }

    fn peers(&self) -> MutexGuard<'_, HashMap<String, PeerRecovery>> {
        // Only plain values are stored: a panicked writer leaves nothing half-done.
        self.peers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Still recovering.
    pub fn active(&self) -> bool {
        !*self.done.borrow()
    }

    /// Turns true when the recovery ends.
    pub fn subscribe(&self) -> watch::Receiver<bool> {
        self.done.subscribe()
    }

    /// How many protocols the recovery still waits for (`Waiting for N protocols`).
    pub fn locks(&self) -> usize {
        if !self.active() {
            return 0;
        }
        self.peers().values().filter(|p| p.pending).count()
    }

    /// The peer's part; nothing once the recovery is over.
    pub fn peer(&self, name: &str) -> PeerRecovery {
        if !self.active() {
            return PeerRecovery::default();
        }
        self.peers().get(name).copied().unwrap_or_default()
    }

    /// Whole seconds left on the wait timer, and the timer's length (`Wait timer is 20/240`).
    pub fn wait_timer(&self) -> (u64, u64) {
        let left = self.wait.saturating_sub(self.started.elapsed());
        (left.as_secs(), self.wait.as_secs())
    }

    /// The operator disabled or restarted `name` (`disable`, `restart` on the control socket):
    /// it leaves the recovery within [`POLL`].
    pub fn operator_stopped(&self, name: &str) {
        if self.active() {
            self.stopped
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(name.to_owned());
        }
    }

    fn take_stopped(&self) -> Vec<String> {
        std::mem::take(&mut *self.stopped.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn set(&self, name: &str, p: PeerRecovery) {
        if p == PeerRecovery::default() {
            self.peers().remove(name);
        } else {
            self.peers().insert(name.to_owned(), p);
        }
    }

    fn finish(&self) {
        self.peers().clear();
        self.done.send_replace(true);
    }
}

/// Sets the Restart State bit and every family's Forwarding State bit of the graceful-restart
/// capabilities in `caps` (RFC 4724 §3; LLGR's F bit too, RFC 9494 §3): what a restarting
/// speaker that kept its routes in the kernel announces.
pub fn mark_restarting(caps: &mut [Capability]) {
    for c in caps {
        match c {
            Capability::GracefulRestart(gr) => {
                gr.restart_state = true;
                for f in &mut gr.families {
                    f.forwarding_preserved = true;
                }
            }
            Capability::LongLivedGracefulRestart(families) => {
                for f in families {
                    f.forwarding_preserved = true;
                }
            }
            _ => {}
        }
    }
}

/// How long `n` may take to establish a session before it stops holding a recovery in
/// [`RecoveryMode::EstablishedPeers`]: our connect delay and one connect retry time (the first
/// attempt either connects, fails or is given up at the retry timer); a passive neighbor
/// connects to us on its own timers (Calico renders the same ones on every node), possibly after
/// one error wait first.
pub fn first_round(n: &conf::Neighbor) -> Duration {
    let t = &n.timers;
    let round = t.connect_delay + t.connect_retry;
    if n.passive {
        round + t.error_wait_min
    } else {
        round
    }
}

#[derive(Debug)]
struct Member {
    name: String,
    part: PeerRecovery,
    /// The families of the deferred session, dumped at the end.
    families: Vec<Family>,
    /// When it stops holding the recovery unless its session is up by then; `None`: it holds
    /// until the wait timer ([`RecoveryMode::AllPeers`]).
    first_round_end: Option<Instant>,
}

impl Member {
    /// Holds the recovery without ever having established a session in it.
    fn never_came(&self) -> bool {
        self.part.pending && !self.part.waiting
    }
}

/// The RIB actor's side: session events in, the end of the recovery out.
#[derive(Debug)]
pub struct Tracker {
    shared: Arc<Recovery>,
    members: HashMap<PeerId, Member>,
}

impl Tracker {
    pub fn new(shared: Arc<Recovery>) -> Tracker {
        Tracker {
            shared,
            members: HashMap::new(),
        }
    }

    /// A peer of the start configuration; with `graceful_restart` configured it holds the
    /// recovery until it released it. `first_round`: in [`RecoveryMode::EstablishedPeers`],
    /// how long it may take to establish a session ([`first_round`]); `None`: it holds until
    /// the wait timer whether it comes or not (BIRD's behaviour).
    pub fn join(
        &mut self,
        id: PeerId,
        name: &str,
        graceful_restart: bool,
        first_round: Option<Duration>,
    ) {
        let part = PeerRecovery {
            pending: graceful_restart,
            waiting: false,
        };
        self.shared.set(name, part);
        self.members.insert(
            id,
            Member {
                name: name.to_owned(),
                part,
                families: Vec::new(),
                first_round_end: first_round.map(|d| self.shared.started + d),
            },
        );
    }

    fn update(&mut self, id: PeerId, f: impl FnOnce(&mut Member)) {
        if !self.shared.active() {
            return;
        }
        if let Some(m) = self.members.get_mut(&id) {
            f(m);
            self.shared.set(&m.name, m.part);
        }
    }

    /// The session of `id` is Established. `graceful_restart`: both sides announced the
    /// capability; `peer_restarting`: the peer set its Restart State bit. Returns whether our
    /// export to it is deferred until the end of the recovery.
    pub fn session_up(
        &mut self,
        id: PeerId,
        graceful_restart: bool,
        peer_restarting: bool,
        families: &[Family],
    ) -> bool {
        let mut deferred = false;
        self.update(id, |m| {
            if !m.part.pending {
                // Not (or no longer) part of the recovery: exported as usual.
                return;
            }
            if graceful_restart && !peer_restarting {
                // It keeps our routes as stale until our End-of-RIB.
                m.part.waiting = true;
                m.families = families.to_vec();
                deferred = true;
            } else {
                // It will not keep our routes, or it waits for ours (RFC 4724 §4.1).
                m.part.pending = false;
            }
        });
        deferred
    }

    /// `id` sent End-of-RIB for every negotiated family: it converged.
    pub fn end_of_rib(&mut self, id: PeerId) {
        self.update(id, |m| m.part.pending = false);
    }

    /// Our connection attempt to `id` failed (refused, no route, unreachable network): in
    /// [`RecoveryMode::EstablishedPeers`] a peer that has not come up in this recovery stops
    /// holding it.
    pub fn connect_failed(&mut self, id: PeerId) {
        self.update(id, |m| {
            if m.first_round_end.is_some() && m.never_came() {
                m.part.pending = false;
                info!(
                    event = "graceful_restart_peer_released",
                    neighbor = %m.name,
                    reason = "connect_failed",
                    "graceful restart recovery no longer waits for this peer: it cannot be reached"
                );
            }
        });
    }

    /// The session of `id` went down, or the peer was removed: it leaves the recovery, and its
    /// next session is exported as usual.
    pub fn leave(&mut self, id: PeerId) {
        self.update(id, |m| m.part = PeerRecovery::default());
        self.members.remove(&id);
    }

    /// Our export to `id` is deferred.
    pub fn deferred(&self, id: PeerId) -> bool {
        self.shared.active() && self.members.get(&id).is_some_and(|m| m.part.waiting)
    }

    /// When the wait timer runs out.
    pub fn timer_end(&self) -> Instant {
        self.shared.started + self.shared.wait
    }

    /// When [`Tracker::poll`] should run next at the latest: the end of the wait timer or of a
    /// waiting peer's first connection round, and at least every [`POLL`] (operator actions
    /// reach the tracker only through its polls).
    pub fn deadline(&self) -> Instant {
        self.members
            .values()
            .filter(|m| m.never_came())
            .filter_map(|m| m.first_round_end)
            .fold(self.timer_end().min(Instant::now() + POLL), Instant::min)
    }

    /// Releases the peers whose first connection round ended without a session.
    fn release_absent(&mut self, now: Instant) {
        for m in self.members.values_mut() {
            if m.never_came() && m.first_round_end.is_some_and(|t| t <= now) {
                m.part.pending = false;
                self.shared.set(&m.name, m.part);
                info!(
                    event = "graceful_restart_peer_released",
                    neighbor = %m.name,
                    reason = "not_connected",
                    "graceful restart recovery no longer waits for this peer: no session within \
                     its first connection round"
                );
            }
        }
    }

    /// Ends the recovery when no peer holds it any more or the wait timer ran out; returns the
    /// peers whose export was deferred, with their session's families (they get the whole
    /// table now). `None` while it goes on (or after it ended).
    pub fn poll(&mut self, now: Instant) -> Option<Vec<(PeerId, Vec<Family>)>> {
        if !self.shared.active() {
            return None;
        }
        for name in self.shared.take_stopped() {
            let ids: Vec<PeerId> = self
                .members
                .iter()
                .filter(|(_, m)| m.name == name)
                .map(|(id, _)| *id)
                .collect();
            for id in ids {
                self.leave(id);
            }
        }
        self.release_absent(now);
        let holding = self.members.values().filter(|m| m.part.pending).count();
        if holding > 0 && now < self.timer_end() {
            return None;
        }
        info!(
            event = "graceful_restart_done",
            waited_ms =
                u64::try_from(self.shared.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            still_waiting_for = holding,
            "graceful restart recovery done"
        );
        let mut deferred: Vec<(PeerId, Vec<Family>)> = self
            .members
            .drain()
            .filter(|(_, m)| m.part.waiting)
            .map(|(id, m)| (id, m.families))
            .collect();
        deferred.sort_by_key(|(id, _)| *id);
        self.shared.finish();
        Some(deferred)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgp_proto::capability::{GrFamily, GracefulRestart, LlgrFamily};
    use bgp_proto::types::{Afi, Safi};

    const V4: &[Family] = &[Family::Ipv4Unicast];

    fn tracker(wait: Duration) -> (Arc<Recovery>, Tracker) {
        let r = Recovery::new(wait);
        let mut t = Tracker::new(r.clone());
        t.join(PeerId(1), "Mesh_10_99_0_2", true, None);
        t.join(PeerId(2), "Mesh_10_99_0_3", true, None);
        t.join(PeerId(3), "Global_10_99_0_9", false, None);
        (r, t)
    }

    #[test]
    fn ends_when_every_graceful_peer_sent_end_of_rib() {
        let (r, mut t) = tracker(DEFAULT_WAIT);
        let now = Instant::now();
        assert_eq!(r.locks(), 2);
        assert!(t.poll(now).is_none());
        // A GR peer: deferred, still pending until its End-of-RIB.
        assert!(t.session_up(PeerId(1), true, false, V4));
        assert!(t.deferred(PeerId(1)));
        assert_eq!(
            r.peer("Mesh_10_99_0_2"),
            PeerRecovery {
                pending: true,
                waiting: true
            }
        );
        // A peer without GR config is exported as usual.
        assert!(!t.session_up(PeerId(3), true, false, V4));
        assert_eq!(r.peer("Global_10_99_0_9"), PeerRecovery::default());
        t.end_of_rib(PeerId(1));
        assert_eq!(r.locks(), 1);
        assert!(!r.peer("Mesh_10_99_0_2").pending);
        // A peer restarting too releases at once and is not deferred (no deadlock).
        assert!(!t.session_up(PeerId(2), true, true, V4));
        assert_eq!(r.locks(), 0);
        let done = t.poll(now).expect("done");
        assert_eq!(done, vec![(PeerId(1), V4.to_vec())]);
        assert!(!r.active());
        assert!(!t.deferred(PeerId(1)));
        assert_eq!(r.peer("Mesh_10_99_0_2"), PeerRecovery::default());
        assert!(t.poll(now).is_none(), "ends once");
        assert!(*r.subscribe().borrow());
    }

    #[test]
    fn the_wait_timer_ends_it_when_a_peer_never_comes() {
        let (r, mut t) = tracker(Duration::from_secs(5));
        assert!(t.session_up(PeerId(1), true, false, V4));
        let (left, total) = r.wait_timer();
        assert_eq!(total, 5);
        assert!(left == 5 || left == 4, "{left}");
        assert!(t.poll(Instant::now()).is_none());
        let done = t.poll(t.timer_end()).expect("timer");
        assert_eq!(done.len(), 1);
        assert_eq!(r.locks(), 0);
    }

    #[test]
    fn a_session_that_goes_down_leaves_the_recovery() {
        let (r, mut t) = tracker(DEFAULT_WAIT);
        assert!(t.session_up(PeerId(1), true, false, V4));
        t.leave(PeerId(1));
        assert!(!t.deferred(PeerId(1)));
        // Its next session is not deferred and holds nothing.
        assert!(!t.session_up(PeerId(1), true, false, V4));
        t.leave(PeerId(2));
        let done = t.poll(Instant::now()).expect("no lock left");
        assert!(done.is_empty());
        assert!(!r.active());
    }

    #[test]
    fn a_peer_the_operator_stops_leaves_the_recovery() {
        let (r, mut t) = tracker(DEFAULT_WAIT);
        assert!(t.session_up(PeerId(1), true, false, V4));
        t.end_of_rib(PeerId(1));
        // Peer 2 never came; the operator disables it.
        r.operator_stopped("Mesh_10_99_0_3");
        let done = t.poll(Instant::now()).expect("nobody holds it any more");
        assert_eq!(done, vec![(PeerId(1), V4.to_vec())]);
        assert!(t.deadline() <= Instant::now() + POLL);
    }

    #[test]
    fn a_start_without_graceful_peers_ends_at_once() {
        let r = Recovery::new(DEFAULT_WAIT);
        let mut t = Tracker::new(r.clone());
        t.join(PeerId(1), "Mesh_10_99_0_2", false, None);
        assert_eq!(t.poll(Instant::now()), Some(vec![]));
        assert!(!r.active());
    }

    /// Peers 1 and 2 with graceful restart, each with a first connection round of `round`
    /// ([`RecoveryMode::EstablishedPeers`]).
    fn established_peers(round: Duration) -> (Arc<Recovery>, Tracker) {
        let r = Recovery::new(DEFAULT_WAIT);
        let mut t = Tracker::new(r.clone());
        t.join(PeerId(1), "Mesh_10_99_0_2", true, Some(round));
        t.join(PeerId(2), "Mesh_10_99_0_3", true, Some(round));
        (r, t)
    }

    #[test]
    fn a_peer_that_cannot_be_reached_stops_holding_the_recovery() {
        let (r, mut t) = established_peers(Duration::from_secs(7));
        assert!(t.session_up(PeerId(1), true, false, V4));
        t.end_of_rib(PeerId(1));
        assert!(t.poll(Instant::now()).is_none(), "peer 2 still holds it");
        assert_eq!(r.locks(), 1);
        // Connection refused / no route to host: nothing listens there.
        t.connect_failed(PeerId(2));
        assert_eq!(r.locks(), 0);
        assert_eq!(r.peer("Mesh_10_99_0_3"), PeerRecovery::default());
        let done = t
            .poll(Instant::now())
            .expect("only the living were waited for");
        assert_eq!(done, vec![(PeerId(1), V4.to_vec())]);
        assert!(!r.active());
    }

    #[test]
    fn a_peer_without_a_session_after_its_first_round_stops_holding_the_recovery() {
        let round = Duration::from_secs(12);
        let (r, mut t) = established_peers(round);
        let end = r.started + round;
        assert!(
            t.deadline() <= end,
            "the tracker wakes up for the round's end"
        );
        assert!(t.session_up(PeerId(1), true, false, V4));
        t.end_of_rib(PeerId(1));
        assert!(t.poll(end - Duration::from_millis(1)).is_none());
        assert_eq!(r.locks(), 1);
        let done = t.poll(end).expect("peer 2 never connected");
        assert_eq!(done, vec![(PeerId(1), V4.to_vec())]);
        assert!(!r.active());
    }

    #[test]
    fn a_peer_that_came_up_holds_the_recovery_until_its_end_of_rib() {
        let round = Duration::from_secs(7);
        let (r, mut t) = established_peers(round);
        t.connect_failed(PeerId(2));
        assert!(t.session_up(PeerId(1), true, false, V4));
        // Neither a later failed attempt nor the round's end lets a living peer go.
        t.connect_failed(PeerId(1));
        assert!(t.poll(r.started + round * 2).is_none());
        assert_eq!(
            r.peer("Mesh_10_99_0_2"),
            PeerRecovery {
                pending: true,
                waiting: true
            }
        );
        t.end_of_rib(PeerId(1));
        assert_eq!(t.poll(Instant::now()), Some(vec![(PeerId(1), V4.to_vec())]));
    }

    #[test]
    fn all_peers_mode_waits_for_a_dead_peer_until_the_timer() {
        let (r, mut t) = tracker(Duration::from_secs(30));
        assert!(t.session_up(PeerId(1), true, false, V4));
        t.end_of_rib(PeerId(1));
        t.connect_failed(PeerId(2));
        assert_eq!(
            r.locks(),
            1,
            "BIRD's behaviour: the dead peer still holds it"
        );
        assert!(t.poll(t.timer_end() - Duration::from_millis(1)).is_none());
        assert!(t.poll(t.timer_end()).is_some());
    }

    #[test]
    fn the_first_round_of_a_calico_mesh_peer() {
        // Calico's bgp_template: connect delay 2, connect retry 5, error wait 5,30.
        let c = crate::fixtures::calico("gen2/mesh/ipip-always/bird.cfg");
        let mut n = c.neighbors[0].clone();
        assert!(n.passive, "{}", n.name);
        assert_eq!(first_round(&n), Duration::from_secs(2 + 5 + 5));
        n.passive = false;
        assert_eq!(first_round(&n), Duration::from_secs(2 + 5));
        assert_eq!(c.recovery, RecoveryMode::EstablishedPeers);
    }

    #[test]
    fn restarting_capabilities_set_the_r_and_f_bits() {
        let mut caps = vec![
            Capability::RouteRefresh,
            Capability::GracefulRestart(GracefulRestart {
                restart_state: false,
                notification: false,
                restart_time: 120,
                families: vec![GrFamily {
                    afi: Afi::Ipv4,
                    safi: Safi::Unicast,
                    forwarding_preserved: false,
                }],
            }),
            Capability::LongLivedGracefulRestart(vec![LlgrFamily {
                afi: Afi::Ipv4,
                safi: Safi::Unicast,
                forwarding_preserved: false,
                stale_time: 10,
            }]),
        ];
        mark_restarting(&mut caps);
        let Capability::GracefulRestart(gr) = &caps[1] else {
            panic!("{caps:?}")
        };
        assert!(gr.restart_state && gr.families[0].forwarding_preserved);
        let Capability::LongLivedGracefulRestart(ll) = &caps[2] else {
            panic!("{caps:?}")
        };
        assert!(ll[0].forwarding_preserved);
    }
}
