//! The OPEN exchange (RFC 4271 §6.2, §8.2.2 OpenSent / OpenConfirm): our OPEN, checking the
//! peer's and negotiating the session's capabilities and timers, and the KEEPALIVE that takes a
//! connection to Established (with the collision rule of §6.8).

use std::time::{Duration, Instant};

use bgp_proto::capability::Capability;
use bgp_proto::notification::{cease_subcode, code, open_subcode};
use bgp_proto::{Message, Notification, Open, SessionContext};

use super::{send_message, ConnId, ConnState, Direction, Output, Session};

impl Session {
    pub(super) fn our_open(&self) -> Open {
        Open::new(
            self.config.local_as,
            self.config.hold_time,
            self.config.router_id,
            self.config.capabilities.clone(),
        )
    }

    pub(super) fn open_received(
        &mut self,
        i: usize,
        open: Open,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        let conn = self.conns[i].id;
        // RFC 4271 §6.2: the peer's AS must be the configured one.
        let peer_as = open.four_octet_asn();
        if peer_as != self.config.remote_as {
            let data = match u16::try_from(peer_as.0) {
                Ok(two) => two.to_be_bytes().to_vec(),
                Err(_) => peer_as.0.to_be_bytes().to_vec(),
            };
            let n = Notification::new(code::OPEN_MESSAGE, open_subcode::BAD_PEER_AS, data);
            self.fail_conn(conn, Some(n), now, out);
            return;
        }
        // RFC 6286 §2.2: within an AS the identifiers must differ.
        let internal = self.config.remote_as == self.config.local_as;
        if internal && open.router_id == self.config.router_id {
            let n = Notification::new(
                code::OPEN_MESSAGE,
                open_subcode::BAD_BGP_IDENTIFIER,
                Vec::new(),
            );
            self.fail_conn(conn, Some(n), now, out);
            return;
        }
        // RFC 4271 §6.8 collision detection against the other connection, whose peer
        // identifier is this OPEN's (same peer).
        if let Some(other) = self.conns.iter().find(|c| c.id != conn).map(|c| c.id) {
            let loser = if self.established().is_some() {
                conn
            } else {
                // RFC 6286 §2.3: equal identifiers (eBGP) are ordered by AS number.
                let local = (u32::from(self.config.router_id.0), self.config.local_as.0);
                let remote = (u32::from(open.router_id.0), peer_as.0);
                let keep_dir = if local > remote {
                    Direction::Outbound
                } else {
                    Direction::Inbound
                };
                if self.conns[i].direction == keep_dir {
                    other
                } else {
                    conn
                }
            };
            let kept = if loser == conn { other } else { conn };
            let n = Notification::new(
                code::CEASE,
                cease_subcode::CONNECTION_COLLISION_RESOLUTION,
                Vec::new(),
            );
            self.close_conn(loser, Some(n), out);
            out.push(Output::CollisionResolved {
                closed: loser,
                kept,
            });
            if loser == conn {
                return;
            }
        }
        let Some(i) = self.index(conn) else {
            return;
        };
        let ours = self.our_open();
        let negotiated = SessionContext::negotiate(&ours, &open);
        // RFC 4760 §8 / RFC 5492 §3: with no family in common the session could carry nothing;
        // refuse it with Unsupported Capability listing our multiprotocol capabilities.
        if negotiated.families.is_empty() {
            let mut data = bytes::BytesMut::new();
            for c in ours
                .capabilities
                .iter()
                .filter(|c| matches!(c, Capability::Multiprotocol { .. }))
            {
                // Our own capabilities always encode; a failure only shortens the data.
                let _ = c.encode(&mut data);
            }
            let n = Notification::new(
                code::OPEN_MESSAGE,
                open_subcode::UNSUPPORTED_CAPABILITY,
                data.to_vec(),
            );
            self.fail_conn(conn, Some(n), now, out);
            return;
        }
        let hold = negotiated.hold_time;
        let c = &mut self.conns[i];
        c.ctx = negotiated.context;
        // RFC 4271 §4.2: hold 0 means no keepalives and no hold timer.
        if hold == 0 {
            c.hold = None;
            c.keepalive = None;
        } else {
            c.hold = Some(Duration::from_secs(u64::from(hold)));
            let ka = u64::from(self.config.keepalive.min(hold / 3).max(1));
            c.keepalive = Some(Duration::from_secs(ka));
        }
        c.peer_open = Some(open);
        c.negotiated = Some(negotiated);
        c.state = ConnState::OpenConfirm;
        if !send_message(c, &Message::Keepalive, out) {
            self.fail_conn(conn, None, now, out);
            return;
        }
        let c = &mut self.conns[i];
        c.hold_at = c.hold.map(|h| now + h);
        c.keepalive_at = c.keepalive.map(|k| now + self.jitter.apply(k));
    }

    pub(super) fn keepalive_confirmed(&mut self, i: usize, now: Instant, out: &mut Vec<Output>) {
        self.restart_hold(i, now);
        let conn = self.conns[i].id;
        self.conns[i].state = ConnState::Established;
        // RFC 4271 §6.8: the other connection (still opening) is closed.
        let others: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|c| c.id != conn)
            .map(|c| c.id)
            .collect();
        for o in others {
            let n = Notification::new(
                code::CEASE,
                cease_subcode::CONNECTION_COLLISION_RESOLUTION,
                Vec::new(),
            );
            self.close_conn(o, Some(n), out);
            out.push(Output::CollisionResolved {
                closed: o,
                kept: conn,
            });
        }
        if self.connecting {
            out.push(Output::CancelConnect);
            self.connecting = false;
        }
        self.connect_at = None;
        let Some(i) = self.index(conn) else {
            return;
        };
        let c = &self.conns[i];
        let (Some(negotiated), Some(peer)) = (c.negotiated.clone(), c.peer_open.as_ref()) else {
            return;
        };
        out.push(Output::Established {
            conn,
            negotiated: Box::new(negotiated.clone()),
            peer_router_id: peer.router_id,
        });
        // The initial table and its End-of-RIB markers (RFC 4724 §2) come from the RIB, which
        // the driver tells about `Established`.
    }

    pub(super) fn restart_hold(&mut self, i: usize, now: Instant) {
        let c = &mut self.conns[i];
        c.hold_at = c.hold.map(|h| now + h);
    }
}
