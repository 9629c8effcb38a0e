//! The BGP session state machine (RFC 4271 §8), sans-IO.
//!
//! A [`Session`] is fed [`Input`]s together with the current time and answers with
//! [`Output`]s: bytes to write, connections to open or close, and events worth logging. It
//! never touches a socket or a clock; the driver ([`crate::peer`]) asks
//! [`Session::poll_timeout`] when to call back with [`Input::Timer`] (the quinn-proto
//! `handle_timeout`/`poll_timeout` split).
//!
//! One session is one configured neighbor. It may hold two TCP connections at once, one we
//! initiated and one the peer initiated, until the collision procedure of RFC 4271 §6.8 leaves
//! exactly one. Each connection carries its own sub-state (OpenSent, OpenConfirm,
//! Established); the session's RFC state ([`State`]) is derived from them.
//!
//! Modules: this one holds the types and the dispatch of inputs; `open` the OPEN exchange and
//! capability negotiation up to Established, `timers` the timers and their jitter, `close` what
//! losing a connection means for the session.

mod close;
mod open;
mod timers;

#[cfg(test)]
mod reset_tests;
#[cfg(test)]
mod tests;

use std::fmt;
use std::time::{Duration, Instant};

use bgp_proto::capability::Capability;
use bgp_proto::notification::{cease_subcode, code, fsm_subcode};
use bgp_proto::update::Update;
use bgp_proto::{
    Asn, DecodeError, Message, Negotiated, Notification, Open, RouteRefresh, RouterId,
    SessionContext,
};
use bytes::Bytes;

pub use timers::Jitter;

/// RFC 4271 §8.2.2: the large hold time used while waiting for the peer's OPEN (4 minutes).
pub const OPEN_HOLD_TIME: Duration = Duration::from_secs(240);

/// Errors older than this are forgotten: the next one waits `error_wait_min` again (BIRD's
/// `error forget time` default).
pub const ERROR_FORGET: Duration = Duration::from_secs(300);

/// Identifies one TCP connection of a session; allocated by the driver, unique per session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Who opened a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// We connected to the peer.
    Outbound,
    /// The peer connected to us.
    Inbound,
}

/// The RFC 4271 §8.2.2 session states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum State {
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Idle => "Idle",
            State::Connect => "Connect",
            State::Active => "Active",
            State::OpenSent => "OpenSent",
            State::OpenConfirm => "OpenConfirm",
            State::Established => "Established",
        })
    }
}

/// What a session needs to know about its neighbor (built from `conf` by [`crate::neighbor`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    pub local_as: Asn,
    pub router_id: RouterId,
    /// The AS the peer must announce (RFC 4271 §6.2, Bad Peer AS otherwise).
    pub remote_as: Asn,
    /// Proposed hold time in seconds: 0 or at least 3.
    pub hold_time: u16,
    /// Keepalive interval in seconds (used as min(this, negotiated hold / 3)).
    pub keepalive: u16,
    pub connect_retry: Duration,
    /// Delay before the first connection attempt after start.
    pub connect_delay: Duration,
    /// Backoff after an error: starts here, doubles per error up to `error_wait_max`.
    pub error_wait_min: Duration,
    pub error_wait_max: Duration,
    /// Never connect, only accept.
    pub passive: bool,
    /// Capabilities in our OPEN (the 4-octet AS capability is added by `Open::new`).
    pub capabilities: Vec<Capability>,
}

/// Something that happened to the session, given to [`Session::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// ManualStart / AutomaticStart (RFC 4271 §8.1.2 events 1, 3).
    Start,
    /// ManualStop (event 2): send this NOTIFICATION (a Cease) on every open connection.
    Stop(Notification),
    /// An error found outside the FSM (a prefix limit, RFC 4486 §4): send this NOTIFICATION on
    /// every open connection, close them, and wait the error wait before connecting again
    /// (BIRD's `restart` limit action). Ignored when stopped.
    Reset(Notification),
    /// A TCP connection is up (events 16/17): ours completed or the peer's was accepted.
    Connected { conn: ConnId, direction: Direction },
    /// Our outgoing connection attempt failed (event 18).
    ConnectFailed,
    /// One whole message as cut by the framer, header included.
    Received { conn: ConnId, frame: Bytes },
    /// The framer rejected a header (RFC 4271 §6.1).
    FrameError { conn: ConnId, error: DecodeError },
    /// The TCP connection ended or failed (event 18).
    Closed { conn: ConnId },
    /// The time returned by [`Session::poll_timeout`] has come.
    Timer,
    /// The neighbor's BFD session went from Up to Down: close every connection, with Cease /
    /// BFD Down (RFC 9384) unless `graceful` (then without a NOTIFICATION, so that a peer
    /// with graceful restart keeps the routes, BIRD's `bfd graceful`), and wait the error
    /// wait before connecting again.
    BfdDown { graceful: bool },
}

/// Why an Established session went down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownReason {
    HoldTimerExpired,
    /// We sent this NOTIFICATION (an error we detected).
    NotificationSent(Notification),
    /// The peer sent this NOTIFICATION.
    NotificationReceived(Notification),
    /// The TCP connection ended without a NOTIFICATION.
    ConnectionClosed,
    /// We were stopped (shutdown).
    Stopped,
    /// The neighbor's BFD session went down ([`Input::BfdDown`]).
    BfdDown {
        graceful: bool,
    },
}

impl fmt::Display for DownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownReason::HoldTimerExpired => f.write_str("hold timer expired"),
            DownReason::NotificationSent(n) => write!(f, "sent NOTIFICATION: {n}"),
            DownReason::NotificationReceived(n) => write!(f, "received NOTIFICATION: {n}"),
            DownReason::ConnectionClosed => f.write_str("connection closed"),
            DownReason::Stopped => f.write_str("stopped"),
            DownReason::BfdDown { .. } => f.write_str("BFD session down"),
        }
    }
}

/// What the driver must do, or may log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Start an outgoing TCP connection; answer with `Connected{Outbound}` or `ConnectFailed`.
    Connect,
    /// Abandon the outgoing attempt in progress (a later `Connected` for it must be dropped).
    CancelConnect,
    /// Write these bytes (one or more whole messages) on `conn`.
    Send {
        conn: ConnId,
        data: Bytes,
    },
    /// Close `conn` after writing what was queued; no more input is expected for it.
    Close {
        conn: ConnId,
    },
    StateChanged {
        from: State,
        to: State,
    },
    /// The session is Established on `conn`.
    Established {
        conn: ConnId,
        negotiated: Box<Negotiated>,
        peer_router_id: RouterId,
    },
    /// The Established session ended.
    Down {
        reason: DownReason,
    },
    /// An UPDATE was received on the Established connection (RFC 7606 outcomes recorded in
    /// `update.malformations`; session-reset cases never get here).
    Update {
        update: Box<Update>,
    },
    RouteRefresh {
        request: RouteRefresh,
    },
    /// A received message could not be decoded: the session resets with its NOTIFICATION
    /// (a `NotificationSent` follows). For the log: which field was wrong and where.
    MessageError {
        conn: ConnId,
        error: Box<DecodeError>,
    },
    NotificationSent {
        conn: ConnId,
        notification: Notification,
    },
    NotificationReceived {
        conn: ConnId,
        notification: Notification,
    },
    /// A connection lost the RFC 4271 §6.8 collision and was closed.
    CollisionResolved {
        closed: ConnId,
        kept: ConnId,
    },
}

/// Sub-state of one TCP connection; before TCP is up there is no connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConnState {
    OpenSent,
    OpenConfirm,
    Established,
}

#[derive(Debug, Clone)]
struct Conn {
    id: ConnId,
    direction: Direction,
    state: ConnState,
    /// The wire context: default until the peer's OPEN, then the negotiated one.
    ctx: SessionContext,
    hold: Option<Duration>,
    hold_at: Option<Instant>,
    keepalive: Option<Duration>,
    keepalive_at: Option<Instant>,
    peer_open: Option<Open>,
    negotiated: Option<Negotiated>,
}

/// Deadlines of a session without a connection, with the interval each was armed with (before
/// jitter): see [`Session::waits`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Waits {
    /// Idle until then after an error (error wait).
    pub error: Option<(Instant, Duration)>,
    /// The next outgoing connection attempt.
    pub connect: Option<(Instant, Duration)>,
}

/// One BGP session (one configured neighbor).
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    jitter: Jitter,
    started: bool,
    conns: Vec<Conn>,
    /// An outgoing connection attempt is in progress.
    connecting: bool,
    /// ConnectRetryTimer (also the delayed first connect).
    connect_at: Option<Instant>,
    /// The interval `connect_at` was armed with (before jitter), for [`Session::waits`].
    connect_interval: Duration,
    /// Idle hold after an error (BIRD's error wait); Idle until then.
    idle_until: Option<Instant>,
    error_wait: Duration,
    last_error: Option<Instant>,
    reported: State,
    /// What received next hops are checked against (see [`Session::set_next_hop_view`]).
    next_hops: NextHopView,
}

/// Our addresses and, for a directly connected eBGP peer, the connected subnets: the driver
/// reads them from the system when the session comes up; the FSM only compares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NextHopView {
    /// Our own addresses (RFC 4271 §6.3: a next hop must not be one of them).
    pub own: Vec<std::net::IpAddr>,
    /// `Some` for a single-hop eBGP peer: a next hop outside these subnets is treat-as-withdraw
    /// (RFC 4271 §5.1.3, BIRD's direct gateway mode); `None` otherwise.
    pub connected: Option<Vec<ipnet::IpNet>>,
}

impl NextHopView {
    fn context(&self) -> bgp_proto::update::NextHopContext<'_> {
        bgp_proto::update::NextHopContext {
            own: &self.own,
            connected: self.connected.as_deref(),
        }
    }
}

impl Session {
    /// A stopped session (Idle); give it [`Input::Start`].
    pub fn new(config: SessionConfig, jitter: Jitter) -> Session {
        let error_wait = config.error_wait_min;
        Session {
            config,
            jitter,
            started: false,
            conns: Vec::new(),
            connecting: false,
            connect_at: None,
            connect_interval: Duration::ZERO,
            idle_until: None,
            error_wait,
            last_error: None,
            reported: State::Idle,
            next_hops: NextHopView::default(),
        }
    }

    /// The addresses received next hops are checked against from now on (the driver sets
    /// them when the session is Established, before the first UPDATE is handled).
    pub fn set_next_hop_view(&mut self, view: NextHopView) {
        self.next_hops = view;
    }

    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// New settings without a reset (reload): the running session keeps what it negotiated;
    /// the next connection attempt, OPEN and session use these.
    pub fn set_config(&mut self, config: SessionConfig) {
        self.config = config;
    }

    /// The RFC 4271 state, derived from the connections.
    pub fn state(&self) -> State {
        if !self.started || self.idle_until.is_some() {
            return State::Idle;
        }
        let best = self.conns.iter().map(|c| c.state).fold(None, |acc, s| {
            Some(match (acc, s) {
                (_, ConnState::Established) | (Some(ConnState::Established), _) => {
                    ConnState::Established
                }
                (_, ConnState::OpenConfirm) | (Some(ConnState::OpenConfirm), _) => {
                    ConnState::OpenConfirm
                }
                _ => ConnState::OpenSent,
            })
        });
        match best {
            Some(ConnState::Established) => State::Established,
            Some(ConnState::OpenConfirm) => State::OpenConfirm,
            Some(ConnState::OpenSent) => State::OpenSent,
            None if self.connecting => State::Connect,
            None => State::Active,
        }
    }

    /// The negotiated parameters of the Established connection.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.established().and_then(|c| c.negotiated.as_ref())
    }

    /// The peer's OPEN on the Established connection (its graceful-restart capability, ...).
    pub fn peer_open(&self) -> Option<&Open> {
        self.established().and_then(|c| c.peer_open.as_ref())
    }

    /// Number of TCP connections the session holds (0, 1, or 2 during a collision).
    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    /// The earliest time at which [`Input::Timer`] must be given.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let conn_timers = self
            .conns
            .iter()
            .flat_map(|c| [c.hold_at, c.keepalive_at])
            .flatten();
        [self.connect_at, self.idle_until]
            .into_iter()
            .flatten()
            .chain(conn_timers)
            .min()
    }

    /// Feeds one input at time `now`.
    pub fn handle(&mut self, input: Input, now: Instant) -> Vec<Output> {
        let mut out = Vec::new();
        match input {
            Input::Start => self.start(now),
            Input::Stop(n) => self.stop(n, &mut out),
            Input::Reset(n) => self.reset(n, now, &mut out),
            Input::Connected { conn, direction } => self.connected(conn, direction, now, &mut out),
            Input::ConnectFailed => {
                self.connecting = false;
                if self.started && self.idle_until.is_none() && self.connect_at.is_none() {
                    self.arm_connect_retry(now);
                }
            }
            Input::Received { conn, frame } => self.received(conn, &frame, now, &mut out),
            Input::FrameError { conn, error } => {
                if self.index(conn).is_some() {
                    let n = error.notification();
                    out.push(Output::MessageError {
                        conn,
                        error: Box::new(error),
                    });
                    self.fail_conn(conn, Some(n), now, &mut out);
                }
            }
            Input::Closed { conn } => self.closed(conn, now, &mut out),
            Input::Timer => self.timers(now, &mut out),
            Input::BfdDown { graceful } => {
                let ids: Vec<ConnId> = self.conns.iter().map(|c| c.id).collect();
                for id in ids {
                    let n = (!graceful).then(|| {
                        Notification::new(code::CEASE, cease_subcode::BFD_DOWN, Vec::new())
                    });
                    let reason = DownReason::BfdDown { graceful };
                    self.fail_conn_with(id, n, reason, now, &mut out);
                }
            }
        }
        let state = self.state();
        if state != self.reported {
            out.push(Output::StateChanged {
                from: self.reported,
                to: state,
            });
            self.reported = state;
        }
        out
    }

    fn start(&mut self, now: Instant) {
        if self.started {
            return;
        }
        self.started = true;
        if !self.config.passive {
            self.connect_at = Some(now + self.config.connect_delay);
            self.connect_interval = self.config.connect_delay;
        }
    }

    fn stop(&mut self, n: Notification, out: &mut Vec<Output>) {
        if self.established().is_some() {
            out.push(Output::Down {
                reason: DownReason::Stopped,
            });
        }
        for c in std::mem::take(&mut self.conns) {
            send_notification(&c, &n, out);
            out.push(Output::Close { conn: c.id });
        }
        if self.connecting {
            out.push(Output::CancelConnect);
            self.connecting = false;
        }
        self.started = false;
        self.connect_at = None;
        self.idle_until = None;
    }

    fn reset(&mut self, n: Notification, now: Instant, out: &mut Vec<Output>) {
        if !self.started {
            return;
        }
        if self.established().is_some() {
            out.push(Output::Down {
                reason: DownReason::NotificationSent(n.clone()),
            });
        }
        for c in std::mem::take(&mut self.conns) {
            send_notification(&c, &n, out);
            out.push(Output::Close { conn: c.id });
        }
        self.enter_idle_hold(now, out);
    }

    fn connected(
        &mut self,
        conn: ConnId,
        direction: Direction,
        now: Instant,
        out: &mut Vec<Output>,
    ) {
        if direction == Direction::Outbound {
            if !self.connecting {
                // A late completion of an attempt we cancelled: nothing was sent on it.
                out.push(Output::Close { conn });
                return;
            }
            self.connecting = false;
            self.connect_at = None;
        }
        // RFC 4271 §8.2.2 Idle: refuse connections; RFC 4271 §6.8: a new connection while one
        // is Established is closed.
        let refuse = !self.started || self.idle_until.is_some() || self.established().is_some();
        if refuse {
            let n = Notification::new(code::CEASE, cease_subcode::CONNECTION_REJECTED, Vec::new());
            if let Ok(data) = Message::Notification(n.clone()).to_bytes(&SessionContext::default())
            {
                out.push(Output::Send {
                    conn,
                    data: data.freeze(),
                });
                out.push(Output::NotificationSent {
                    conn,
                    notification: n,
                });
            }
            out.push(Output::Close { conn });
            return;
        }
        // A second connection in the same direction replaces a stale one (the peer restarted).
        if let Some(i) = self.conns.iter().position(|c| c.direction == direction) {
            let old = self.conns.remove(i);
            out.push(Output::Close { conn: old.id });
        }
        let mut c = Conn {
            id: conn,
            direction,
            state: ConnState::OpenSent,
            ctx: SessionContext::default(),
            hold: None,
            // RFC 4271 §8.2.2 Connect, event 16/17: HoldTimer set to a large value.
            hold_at: Some(now + OPEN_HOLD_TIME),
            keepalive: None,
            keepalive_at: None,
            peer_open: None,
            negotiated: None,
        };
        let open = self.our_open();
        if !send_message(&mut c, &Message::Open(open), out) {
            out.push(Output::Close { conn });
            return;
        }
        self.conns.push(c);
    }

    fn received(&mut self, conn: ConnId, frame: &[u8], now: Instant, out: &mut Vec<Output>) {
        let Some(i) = self.index(conn) else {
            return;
        };
        let msg = match Message::decode(frame, &self.conns[i].ctx) {
            Ok(m) => m,
            Err(e) => {
                let n = e.notification();
                out.push(Output::MessageError {
                    conn,
                    error: Box::new(e),
                });
                self.fail_conn(conn, Some(n), now, out);
                return;
            }
        };
        let state = self.conns[i].state;
        match (state, msg) {
            (_, Message::Notification(n)) => {
                out.push(Output::NotificationReceived {
                    conn,
                    notification: n.clone(),
                });
                let error = state == ConnState::Established || !is_connection_refusal(&n);
                let reason = DownReason::NotificationReceived(n);
                self.drop_conn(conn, reason, error, now, out);
            }
            (ConnState::OpenSent, Message::Open(open)) => self.open_received(i, open, now, out),
            (ConnState::OpenConfirm, Message::Keepalive) => self.keepalive_confirmed(i, now, out),
            (ConnState::Established, Message::Keepalive) => self.restart_hold(i, now),
            (ConnState::Established, Message::Update(mut update)) => {
                self.restart_hold(i, now);
                // The session-dependent RFC 7606 / RFC 4271 §6.3 rules, applied once here (the
                // RIB receives the verdict).
                if self.config.remote_as != self.config.local_as {
                    update.apply_ebgp_rules();
                }
                update.apply_next_hop_rules(&self.next_hops.context());
                out.push(Output::Update {
                    update: Box::new(update),
                });
            }
            (ConnState::Established, Message::RouteRefresh(r)) => {
                self.restart_hold(i, now);
                out.push(Output::RouteRefresh { request: r });
            }
            // RFC 6608 §3: the subcode says in which state the unexpected message came.
            (s, _) => {
                let sub = match s {
                    ConnState::OpenSent => fsm_subcode::UNEXPECTED_IN_OPEN_SENT,
                    ConnState::OpenConfirm => fsm_subcode::UNEXPECTED_IN_OPEN_CONFIRM,
                    ConnState::Established => fsm_subcode::UNEXPECTED_IN_ESTABLISHED,
                };
                let n = Notification::new(code::FSM, sub, Vec::new());
                self.fail_conn(conn, Some(n), now, out);
            }
        }
    }

    fn closed(&mut self, conn: ConnId, now: Instant, out: &mut Vec<Output>) {
        let Some(i) = self.index(conn) else {
            return;
        };
        // RFC 4271 §8.2.2 OpenSent, event 18: back to Active with the ConnectRetryTimer, no
        // error wait (a peer not ready yet closes our connection). Later it is an error.
        let error = self.conns[i].state != ConnState::OpenSent;
        self.drop_conn(conn, DownReason::ConnectionClosed, error, now, out);
    }

    fn index(&self, conn: ConnId) -> Option<usize> {
        self.conns.iter().position(|c| c.id == conn)
    }

    fn established(&self) -> Option<&Conn> {
        self.conns
            .iter()
            .find(|c| c.state == ConnState::Established)
    }
}

/// Whether `n`, received on a connection that was still opening, only says the peer did not want
/// this one TCP connection: it lost the RFC 4271 §6.8 collision (Cease 6/7), or the peer was not
/// ready for it (Cease 6/5, e.g. it was itself in its error wait). Neither is an error of the
/// session: the error wait would make two speakers that both connect refuse each other in turn
/// (the collision's winning connection may reach the loser after the losing one is closed).
fn is_connection_refusal(n: &Notification) -> bool {
    n.code == code::CEASE
        && matches!(
            n.subcode,
            cease_subcode::CONNECTION_COLLISION_RESOLUTION | cease_subcode::CONNECTION_REJECTED
        )
}

/// Encodes `msg` with the connection's context and queues it; false if it cannot be encoded.
fn send_message(c: &mut Conn, msg: &Message, out: &mut Vec<Output>) -> bool {
    match msg.to_bytes(&c.ctx) {
        Ok(b) => {
            out.push(Output::Send {
                conn: c.id,
                data: b.freeze(),
            });
            true
        }
        Err(_) => false,
    }
}

fn send_notification(c: &Conn, n: &Notification, out: &mut Vec<Output>) {
    if let Ok(b) = Message::Notification(n.clone()).to_bytes(&c.ctx) {
        out.push(Output::Send {
            conn: c.id,
            data: b.freeze(),
        });
        out.push(Output::NotificationSent {
            conn: c.id,
            notification: n.clone(),
        });
    }
}
