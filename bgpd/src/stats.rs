//! Per-peer counters, written by the peer task and readable by anyone holding the `Arc` (the
//! control socket, later). Relaxed atomics: each counter is independent.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use bgp_proto::Family;
use rib::{LimitKind, LimitState};

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
    /// Received routes the import policy accepted (counted per route, written by the RIB).
    pub prefixes_accepted: AtomicU64,
    /// Received routes the import policy rejected.
    pub prefixes_rejected: AtomicU64,
    /// Routes in this peer's Adj-RIB-Out now (its update group's), 0 while down.
    pub prefixes_advertised: AtomicU64,
    /// UPDATEs written to the peer's connections (counted by the writers).
    pub updates_sent: AtomicU64,
    pub notifications_sent: AtomicU64,
    pub notifications_received: AtomicU64,
    /// Prefix limit states per family (IPv4, IPv6) and kind (receive, import): 0 not crossed,
    /// 1 crossed (warn), 2 blocked (BIRD's `PLS_*`); written by the RIB actor.
    pub limit_state: [[AtomicU8; 2]; 2],
}

/// The BGP header: marker (16), length (2), type (1) (RFC 4271 §4.1).
const HEADER_LEN: usize = 19;
/// Message type UPDATE (RFC 4271 §4.1).
const TYPE_UPDATE: u8 = 2;

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
    /// Publishes a limit's state.
    pub fn set_limit_state(&self, family: Family, kind: LimitKind, st: LimitState) {
        let n = match st {
            LimitState::Initial => 0,
            LimitState::Hit => 1,
            LimitState::Blocked => 2,
        };
        self.limit_slot(family, kind).store(n, Ordering::Relaxed);
    }

    /// Whether a limit was crossed since its last reset (BIRD's `[HIT]`).
    pub fn limit_hit(&self, family: Family, kind: LimitKind) -> bool {
        self.limit_slot(family, kind).load(Ordering::Relaxed) != 0
    }

    fn limit_slot(&self, family: Family, kind: LimitKind) -> &AtomicU8 {
        let k = match kind {
            LimitKind::Receive => 0,
            LimitKind::Import => 1,
        };
        &self.limit_state[rib::limit::family_index(family)][k]
    }

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

    /// Counts the UPDATEs in `data`, one or more whole messages as written to a connection.
    pub fn record_sent(&self, data: &[u8]) {
        let mut off = 0;
        let mut updates = 0;
        while data.len() >= off + HEADER_LEN {
            let len = usize::from(u16::from_be_bytes([data[off + 16], data[off + 17]]));
            if data[off + 18] == TYPE_UPDATE {
                updates += 1;
            }
            if len < HEADER_LEN {
                break;
            }
            off += len;
        }
        if updates > 0 {
            self.updates_sent.fetch_add(updates, Ordering::Relaxed);
        }
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgp_proto::SessionContext;

    fn decode(hex_body: &str) -> Update {
        let body = hex::decode(hex_body).expect("hex");
        let ctx = SessionContext {
            four_octet_as: true,
            ..SessionContext::default()
        };
        Update::decode(&body, &ctx).expect("decodes")
    }

    #[test]
    fn counts_announcements_withdrawals_and_treat_as_withdraw() {
        let s = PeerStats::default();
        // ORIGIN IGP, AS_PATH [65002], NEXT_HOP 10.0.0.1; NLRI 10.0.0.0/24 and 10.0.1.0/24.
        let good = decode("00000014400101004002060201000fde824003040a000001180a0000180a0001");
        let c = s.record_update(&good);
        assert_eq!((c.announced, c.withdrawn), (2, 0));
        // Withdraws 10.0.0.0/24.
        let c = s.record_update(&decode("0004180a00000000"));
        assert_eq!((c.announced, c.withdrawn), (0, 1));
        // No AS_PATH: treat-as-withdraw (RFC 7606 §3 d), the NLRI counts as withdrawn.
        let c = s.record_update(&decode("0000000b400101004003040a000001180a0000"));
        assert!(c.treat_as_withdraw);
        assert_eq!((c.announced, c.withdrawn), (0, 1));
        // End-of-RIB.
        assert!(s.record_update(&decode("00000000")).end_of_rib);
        assert_eq!(PeerStats::get(&s.updates_received), 4);
        assert_eq!(PeerStats::get(&s.prefixes_received), 2);
        assert_eq!(PeerStats::get(&s.prefixes_withdrawn), 2);
        assert_eq!(PeerStats::get(&s.treat_as_withdraw), 1);
        assert_eq!(PeerStats::get(&s.end_of_rib_received), 1);
    }

    #[test]
    fn counts_sent_updates_in_concatenated_messages() {
        let s = PeerStats::default();
        let mut data = Vec::new();
        let msg = |t: u8, body: &[u8]| {
            let mut m = vec![0xff; 16];
            m.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
            m.push(t);
            m.extend_from_slice(body);
            m
        };
        data.extend(msg(2, &[0, 0, 0, 0]));
        data.extend(msg(4, &[]));
        data.extend(msg(2, &[0, 0, 0, 0]));
        s.record_sent(&data);
        s.record_sent(&msg(3, &[6, 2]));
        assert_eq!(PeerStats::get(&s.updates_sent), 2);
        // A truncated header is not counted.
        s.record_sent(&data[..10]);
        assert_eq!(PeerStats::get(&s.updates_sent), 2);
    }
}
