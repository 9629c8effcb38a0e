//! Losing a connection: closing it (with a NOTIFICATION or not) and what that means for the
//! session (Down, error wait, ConnectRetry).

use std::time::Instant;

use bgp_proto::Notification;

use super::{send_notification, ConnId, ConnState, DownReason, Output, Session};

impl Session {
    /// Sends `n` (if any) on `conn`, closes it, and handles the session consequences as an error.
    pub(super) fn fail_conn(
        &mut self,
        conn: ConnId,
        n: Option<Notification>,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        let reason = match &n {
            Some(n) => DownReason::NotificationSent(n.clone()),
            None => DownReason::ConnectionClosed,
        };
        self.fail_conn_with(conn, n, reason, now, out);
    }

    pub(super) fn fail_conn_with(
        &mut self,
        conn: ConnId,
        n: Option<Notification>,
        reason: DownReason,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        if let Some(state) = self.close_conn(conn, n, out) {
            self.after_loss(state, true, reason, now, out);
        }
    }

    /// Removes `conn` after the peer ended it (NOTIFICATION or TCP close).
    pub(super) fn drop_conn(
        &mut self,
        conn: ConnId,
        reason: DownReason,
        error: bool,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        let Some(i) = self.index(conn) else {
            return;
        };
        let c = self.conns.remove(i);
        out.push(Output::Close { conn });
        self.after_loss(c.state, error, reason, now, out);
    }

    /// Closes `conn`, sending `n` first when given; returns the state it was in.
    pub(super) fn close_conn(
        &mut self,
        conn: ConnId,
        n: Option<Notification>,
        out: &mut Vec<Output>,
    ) -> Option<ConnState> {
        let i = self.index(conn)?;
        let c = self.conns.remove(i);
        if let Some(n) = n {
            send_notification(&c, &n, out);
        }
        out.push(Output::Close { conn });
        Some(c.state)
    }

    /// What losing a connection in `state` means for the session.
    pub(super) fn after_loss(
        &mut self,
        state: ConnState,
        error: bool,
        reason: DownReason,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        if state == ConnState::Established {
            out.push(Output::Down { reason });
        }
        if !self.conns.is_empty() || !self.started {
            // The other connection carries on (collision not yet resolved).
            return;
        }
        if error {
            self.enter_idle_hold(now, out);
        } else if !self.config.passive && self.connect_at.is_none() && !self.connecting {
            self.arm_connect_retry(now);
        }
    }
}
