//! Per-peer counters, written by the peer task and readable by anyone holding the `Arc` (the
//! control socket, later). Relaxed atomics: each counter is independent.

use std::sync::atomic::{AtomicU64, Ordering};

use bgp_proto::update::{Action, Update};

/// What one peer sent us since the daemon started (all sessions summed).
#[derive(Debug, Default)]
pub struct PeerStats {
    pub updates_received: AtomicU64,
    /// Prefixes announced in accepted UPDATEs (not counting treat-as-withdraw).
    pub prefixes_received: AtomicU64,
    /// Prefixes withdrawn, including those withdrawn by RFC 7606 treat-as-withdraw.
    pub prefixes_withdrawn: AtomicU64,
    /// UPDATEs handled as treat-as-withdraw (RFC 7606 §2).
    pub treat_as_withdraw: AtomicU64,
    /// UPDATEs in which an attribute was discarded (RFC 7606 §2).
    pub attribute_discard: AtomicU64,
    pub end_of_rib_received: AtomicU64,
    pub established_count: AtomicU64,
}

/// What one UPDATE contributed, for the log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UpdateCounts {
    pub announced: u64,
    pub withdrawn: u64,
    pub treat_as_withdraw: bool,
    pub attribute_discard: bool,
    pub end_of_rib: bool,
}

impl PeerStats {
    /// Counts one received UPDATE and returns what it held.
    pub fn record_update(&self, u: &Update) -> UpdateCounts {
        let c = UpdateCounts {
            announced: u.announced().count() as u64,
            withdrawn: u.withdrawals().count() as u64,
            treat_as_withdraw: u.is_treat_as_withdraw(),
            attribute_discard: u
                .malformations
                .iter()
                .any(|m| m.action == Action::AttributeDiscard),
            end_of_rib: u.end_of_rib().is_some(),
        };
        self.updates_received.fetch_add(1, Ordering::Relaxed);
        self.prefixes_received
            .fetch_add(c.announced, Ordering::Relaxed);
        self.prefixes_withdrawn
            .fetch_add(c.withdrawn, Ordering::Relaxed);
        if c.treat_as_withdraw {
            self.treat_as_withdraw.fetch_add(1, Ordering::Relaxed);
        }
        if c.attribute_discard {
            self.attribute_discard.fetch_add(1, Ordering::Relaxed);
        }
        if c.end_of_rib {
            self.end_of_rib_received.fetch_add(1, Ordering::Relaxed);
        }
        c
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}
