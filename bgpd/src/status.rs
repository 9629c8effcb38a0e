//! What a peer task publishes about itself for the control socket: a snapshot in a `watch`
//! channel, written only by the peer task, read (never awaited) by control clients. Also the
//! administrative commands (`enable`, `disable`, `restart`) the control socket sends back.

use std::net::SocketAddr;
use std::time::{Instant, SystemTime};

use bgp_proto::types::RouterId;
use bgp_proto::{Negotiated, Notification};
use tokio::sync::watch;

use crate::fsm::{DownReason, State, Waits};

/// An operator's order to one peer task (BIRD's `enable` / `disable` / `restart`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminCommand {
    /// Start the session again after a `Disable`.
    Enable,
    /// Stop the session (Cease / Administrative Shutdown, RFC 8203) and stay down.
    Disable,
    /// Stop (Cease / Administrative Reset) and start again.
    Restart,
}

/// BIRD's protocol state column (`proto_state_name`): `up` when Established, `start` while
/// trying, `down` when disabled by the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtoState {
    Down,
    Start,
    Up,
}

impl ProtoState {
    pub fn name(self) -> &'static str {
        match self {
            ProtoState::Down => "down",
            ProtoState::Start => "start",
            ProtoState::Up => "up",
        }
    }
}

/// The last thing that went wrong with the session, in BIRD's error classes (`bgp_err_classes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastError {
    /// A socket error (connect refused, no route, ...) or the connection closed.
    Socket(String),
    /// The peer sent this NOTIFICATION.
    Received(Notification),
    /// We sent this NOTIFICATION (an error we detected, or hold timer expiry).
    Sent(Notification),
    /// Our hold timer expired (RFC 4271 §6.5).
    HoldTimerExpired,
    /// The neighbor's BFD session went down (BIRD's `BEM_BFD_DOWN`).
    BfdDown,
    /// A prefix limit's `restart` / `disable` action ended the session (BIRD's
    /// `BE_AUTO_DOWN` / `BEA_ROUTE_LIMIT_EXCEEDED`).
    RouteLimit,
}

/// The parameters of the Established session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EstablishedInfo {
    pub negotiated: Negotiated,
    /// The peer's OPEN (its capabilities as sent, for `Neighbor caps`).
    pub peer_open: Option<bgp_proto::Open>,
    pub peer_router_id: RouterId,
    pub local: Option<SocketAddr>,
    pub remote: Option<SocketAddr>,
}

/// One peer's status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerStatus {
    /// The RFC 4271 session state.
    pub state: State,
    /// False after `disable`.
    pub enabled: bool,
    /// When [`PeerStatus::proto_state`] last changed (BIRD's `last_state_change`).
    pub since: SystemTime,
    pub last_error: Option<LastError>,
    /// Set while Established.
    pub established: Option<EstablishedInfo>,
    /// When the last message arrived / was queued on the Established connection (for the
    /// hold and keepalive timer columns).
    pub last_rx: Option<Instant>,
    pub last_tx: Option<Instant>,
    /// The error wait and the next connection attempt, while there is no session.
    pub waits: Waits,
    /// The neighbor's BFD session, when BFD is on.
    pub bfd: Option<crate::bfd::BfdStatus>,
}

impl PeerStatus {
    fn new() -> Self {
        PeerStatus {
            state: State::Idle,
            enabled: true,
            since: SystemTime::now(),
            last_error: None,
            established: None,
            last_rx: None,
            last_tx: None,
            waits: Waits::default(),
            bfd: None,
        }
    }

    pub fn proto_state(&self) -> ProtoState {
        if !self.enabled {
            ProtoState::Down
        } else if self.state == State::Established {
            ProtoState::Up
        } else {
            ProtoState::Start
        }
    }
}

/// The peer task's end of the status channel.
#[derive(Debug)]
pub struct StatusTx(watch::Sender<PeerStatus>);

/// A new status channel (Idle, enabled).
pub fn channel() -> (StatusTx, watch::Receiver<PeerStatus>) {
    let (tx, rx) = watch::channel(PeerStatus::new());
    (StatusTx(tx), rx)
}

impl StatusTx {
    /// Applies `f`, then moves `since` when the protocol state changed.
    fn update(&self, f: impl FnOnce(&mut PeerStatus)) {
        self.0.send_if_modified(|s| {
            let before = s.proto_state();
            f(s);
            if s.proto_state() != before {
                s.since = SystemTime::now();
            }
            // Nobody awaits changes: readers take snapshots.
            false
        });
    }

    pub fn state(&self, to: State) {
        self.update(|s| {
            s.state = to;
            if to != State::Established {
                s.established = None;
            }
        });
    }

    pub fn established(&self, info: EstablishedInfo) {
        self.update(|s| {
            s.established = Some(info);
            // BIRD's `bgp_conn_enter_established_state` forgets the last error: an Established
            // row shows no error from before the session came up.
            s.last_error = None;
            let now = Instant::now();
            s.last_rx = Some(now);
            s.last_tx = Some(now);
        });
    }

    pub fn down(&self, reason: &DownReason) {
        let e = match reason {
            DownReason::HoldTimerExpired => Some(LastError::HoldTimerExpired),
            DownReason::NotificationSent(n) => Some(LastError::Sent(n.clone())),
            DownReason::NotificationReceived(n) => Some(LastError::Received(n.clone())),
            DownReason::ConnectionClosed => Some(LastError::Socket("Connection closed".into())),
            DownReason::Stopped => None,
            DownReason::BfdDown { .. } => Some(LastError::BfdDown),
        };
        if let Some(e) = e {
            self.error(e);
        }
    }

    pub fn error(&self, e: LastError) {
        self.update(|s| {
            // A second connection refused while the session is Established (RFC 4271 §6.8) is
            // not the session's error (BIRD closes it without recording one).
            let refused = matches!(&e, LastError::Sent(n)
                if n.code == bgp_proto::notification::code::CEASE
                    && n.subcode == bgp_proto::notification::cease_subcode::CONNECTION_REJECTED);
            if !(refused && s.state == State::Established) {
                s.last_error = Some(e);
            }
        });
    }

    /// A connection attempt failed with `e` (BIRD: `Socket: <strerror>`).
    pub fn socket_error(&self, e: &crate::Error) {
        let text = match e {
            crate::Error::Io(io) => strerror(io),
            other => other.to_string(),
        };
        self.error(LastError::Socket(text));
    }

    /// False after `disable` (a reload's reset does not re-enable a disabled peer).
    pub fn is_enabled(&self) -> bool {
        self.0.borrow().enabled
    }

    pub fn enabled(&self, enabled: bool) {
        // An operator's action starts a fresh error history (BIRD's BE_MAN_DOWN hides ours).
        self.update(|s| {
            s.enabled = enabled;
            s.last_error = None;
        });
    }

    /// A message arrived.
    pub fn rx(&self) {
        self.update(|s| s.last_rx = Some(Instant::now()));
    }

    /// The session's waits changed (the peer task reports only changes).
    pub fn waits(&self, waits: Waits) {
        self.update(|s| s.waits = waits);
    }

    /// The neighbor's BFD session (`None`: BFD off).
    pub fn bfd(&self, b: Option<crate::bfd::BfdStatus>) {
        self.update(|s| s.bfd = b);
    }

    /// A message was queued for sending.
    pub fn tx(&self) {
        self.update(|s| s.last_tx = Some(Instant::now()));
    }
}

/// The C library's text for an I/O error, without Rust's ` (os error N)` suffix.
pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proto_state_follows_session_and_admin_state() {
        let (tx, rx) = channel();
        assert_eq!(rx.borrow().proto_state(), ProtoState::Start);
        tx.state(State::Established);
        assert_eq!(rx.borrow().proto_state(), ProtoState::Up);
        let up_since = rx.borrow().since;
        tx.rx();
        assert_eq!(rx.borrow().since, up_since, "messages do not move since");
        tx.enabled(false);
        tx.state(State::Idle);
        assert_eq!(rx.borrow().proto_state(), ProtoState::Down);
    }

    #[test]
    fn down_reasons_become_bird_error_classes() {
        let (tx, rx) = channel();
        tx.down(&DownReason::ConnectionClosed);
        assert_eq!(
            rx.borrow().last_error,
            Some(LastError::Socket("Connection closed".into()))
        );
        tx.down(&DownReason::HoldTimerExpired);
        assert_eq!(rx.borrow().last_error, Some(LastError::HoldTimerExpired));
    }

    #[test]
    fn strerror_drops_the_os_error_suffix() {
        let e = std::io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(strerror(&e), "Connection refused");
    }
}
