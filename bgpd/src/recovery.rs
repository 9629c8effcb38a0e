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

#[derive(Debug)]
struct Member {
    name: String,
    part: PeerRecovery,
    /// The families of the deferred session, dumped at the end.
    families: Vec<Family>,
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
    /// recovery until it released it.
    pub fn join(&mut self, id: PeerId, name: &str, graceful_restart: bool) {
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

    /// When [`Tracker::poll`] should run next at the latest: the end of the wait timer, and at
    /// least every [`POLL`] (operator actions reach the tracker only through its polls).
    pub fn deadline(&self) -> Instant {
        self.timer_end().min(Instant::now() + POLL)
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
        t.join(PeerId(1), "Mesh_10_99_0_2", true);
        t.join(PeerId(2), "Mesh_10_99_0_3", true);
        t.join(PeerId(3), "Global_10_99_0_9", false);
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
        t.join(PeerId(1), "Mesh_10_99_0_2", false);
        assert_eq!(t.poll(Instant::now()), Some(vec![]));
        assert!(!r.active());
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
