//! Who gets a control connection when every slot is taken. Found by fault injection: 64 idle
//! clients locked every later client out with `8007` for up to [`super::IDLE_TIMEOUT`], which
//! failed calico-node's readiness and liveness checks. Now, when the [`super::MAX_CLIENTS`]
//! slots are full:
//! 1. the client idle the longest (waiting for a command for at least [`MIN_IDLE`]) is dropped
//!    and the newcomer takes its slot;
//! 2. otherwise the newcomer gets one of [`HEALTH_SLOTS`] reserved slots that serve only the
//!    commands Calico's health checks and status reporter send (`show status`,
//!    `show protocols [all] [NAME]`), each dropped after [`HEALTH_IDLE`] of silence;
//! 3. otherwise it is turned away with `8007` as before.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::parse::Command;

/// Connections reserved for health commands, per socket, beyond [`super::MAX_CLIENTS`].
pub const HEALTH_SLOTS: usize = 16;
/// How long a client must have been waiting for a command before a newcomer may take its slot.
pub const MIN_IDLE: Duration = Duration::from_secs(1);
/// How long a newcomer waits for the slot of the client it displaced.
pub const EVICT_WAIT: Duration = Duration::from_millis(500);
/// How long a connection on a reserved slot may stay silent.
pub const HEALTH_IDLE: Duration = Duration::from_secs(10);

/// What a connection may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every command.
    Full,
    /// A reserved slot: health commands only.
    Health,
}

impl Mode {
    /// Whether `cmd` is served in this mode.
    pub fn allows(self, cmd: &Command) -> bool {
        match self {
            Mode::Full => true,
            Mode::Health => matches!(cmd, Command::ShowStatus | Command::ShowProtocols { .. }),
        }
    }

    /// How long the connection may stay silent.
    pub fn idle_timeout(self) -> Duration {
        match self {
            Mode::Full => super::IDLE_TIMEOUT,
            Mode::Health => HEALTH_IDLE,
        }
    }
}

/// The clients of one socket waiting for a command line: since when, and how to tell them to
/// leave.
#[derive(Debug, Default)]
pub struct IdleClients {
    waiting: Mutex<HashMap<u64, (Instant, Arc<Notify>)>>,
}

impl IdleClients {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (Instant, Arc<Notify>)>> {
        // A panic while holding the lock leaves a valid map (inserts and removes only).
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Client `id` starts waiting for a command; `leave` is notified if it must go.
    pub fn enter(&self, id: u64, leave: Arc<Notify>) {
        self.map().insert(id, (Instant::now(), leave));
    }

    /// Client `id` got a command (or ended).
    pub fn leave(&self, id: u64) {
        self.map().remove(&id);
    }

    /// Tells the client waiting the longest, if for at least [`MIN_IDLE`], to go; whether
    /// there was one.
    pub fn evict_oldest(&self) -> bool {
        self.evict_oldest_idle_for(MIN_IDLE)
    }

    fn evict_oldest_idle_for(&self, min: Duration) -> bool {
        let mut m = self.map();
        let now = Instant::now();
        let oldest = m
            .iter()
            .filter(|(_, (since, _))| now.duration_since(*since) >= min)
            .min_by_key(|(_, (since, _))| *since)
            .map(|(id, _)| *id);
        match oldest.and_then(|id| m.remove(&id)) {
            Some((_, leave)) => {
                leave.notify_one();
                true
            }
            None => false,
        }
    }

    /// Clients waiting now.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::control::parse::parse;

    #[test]
    fn reserved_slots_serve_health_commands_only() {
        for ok in [
            "show status",
            "show protocols",
            "show protocols all Mesh_10_0_0_1",
        ] {
            let c = parse(ok).expect("parses");
            assert!(Mode::Health.allows(&c), "{ok}");
        }
        for no in [
            "show route",
            "configure",
            "down",
            "disable all",
            "show memory",
        ] {
            let c = parse(no).expect("parses");
            assert!(!Mode::Health.allows(&c), "{no}");
            assert!(Mode::Full.allows(&c), "{no}");
        }
    }

    #[tokio::test]
    async fn the_longest_idle_client_is_evicted_once_idle_long_enough() {
        let idle = IdleClients::default();
        let (a, b) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let min = Duration::from_millis(100);
        idle.enter(1, a.clone());
        tokio::time::sleep(Duration::from_millis(30)).await;
        idle.enter(2, b.clone());
        assert!(
            !idle.evict_oldest_idle_for(min),
            "nobody idle long enough yet"
        );
        tokio::time::sleep(min).await;
        assert!(idle.evict_oldest_idle_for(min));
        // Client 1 (the older) was told; its notification is stored until it waits.
        tokio::time::timeout(Duration::from_millis(1), a.notified())
            .await
            .expect("client 1 told to leave");
        assert!(
            tokio::time::timeout(Duration::from_millis(1), b.notified())
                .await
                .is_err(),
            "client 2 stays"
        );
        assert_eq!(idle.len(), 1);
        idle.leave(2);
        assert!(idle.is_empty());
        assert!(!idle.evict_oldest());
    }
}
