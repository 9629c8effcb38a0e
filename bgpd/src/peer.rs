//! The per-neighbor task: drives one [`Session`] with real sockets and a real clock.
//!
//! Per TCP connection there is a reader task (framing with `BgpFramer`) and a writer task. All
//! of them report to the peer task over one bounded event channel; the peer task alone owns the
//! session. Channel rules:
//! - events (readers, writers, connect attempts → peer task), capacity [`EVENT_QUEUE`]: senders
//!   wait when it is full, which stops reading from TCP (back-pressure to the peer);
//! - commands (listener/daemon → peer task), capacity [`COMMAND_QUEUE`]: the listener uses
//!   `try_send` and drops the new connection when it is full (the peer retries);
//! - the session's outbox (RIB actor → peer task, [`crate::rib_actor::outbox`]): the UPDATEs
//!   the RIB sends, forwarded to the connection's write queue while less than
//!   [`WRITE_BUDGET`] octets wait there; when the peer reads slowly the outbox fills and the
//!   RIB stops writing to it until it drains (the peer lags, nothing is lost or piles up);
//! - per-connection write queue, capacity [`WRITE_QUEUE`]: the session's own messages always
//!   find room ([`FSM_ROOM`] slots are kept for them); when it is full nevertheless, the peer has
//!   stopped reading our messages, so the connection is treated as failed and closed.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bgp_proto::notification::{cease_subcode, code};
use bgp_proto::{BgpFramer, Family, FrameError, Notification, MAX_EXTENDED_MESSAGE_LEN};
use bytes::{Bytes, BytesMut};
use conf::Neighbor;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::codec::Decoder;
use tracing::{debug, info, warn, Instrument};

use crate::bfd::{BfdHandle, BfdStatus};
use fib_sync::InterfaceReceiver;

use crate::fsm::{ConnId, Direction, Input, Jitter, Output, Session, SessionConfig, State, Waits};
use crate::rib_actor::{Outgoing, PeerEvent, RibLink, SessionUp, BATCH_EVENTS};
use crate::socket;
use crate::stats::PeerStats;
use crate::status::{self, AdminCommand, EstablishedInfo, LastError, PeerStatus, StatusTx};

mod bfd;
mod next_hops;
mod route_limit;
mod writer;
use writer::{next_outgoing, write_loop, written, Backlog};

/// Capacity of a peer task's event channel.
pub const EVENT_QUEUE: usize = 256;
/// Capacity of a peer task's command channel.
pub const COMMAND_QUEUE: usize = 8;
/// Messages queued for writing on one connection before it is declared stuck.
pub const WRITE_QUEUE: usize = 1024;
/// Slots of the write queue kept for the session's own messages (KEEPALIVE, NOTIFICATION).
pub const FSM_ROOM: usize = 16;
/// Octets of the RIB's UPDATEs a connection's write queue holds at most (beyond it, they wait
/// in the outbox, then the peer lags): with the kernel's socket buffer, enough to keep a fast
/// peer busy.
pub const WRITE_BUDGET: usize = 64 * 1024;
/// How long a closed connection may take to write what was queued (the NOTIFICATION last); a
/// peer that does not read by then gets the connection aborted (RST, `SO_LINGER` 0), so that
/// neither the socket nor its queued data outlive the session.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// The shutdown communication sent on SIGTERM/SIGINT (RFC 9003).
pub const SHUTDOWN_MESSAGE: &str = "bgpd shutting down";

/// What the outside world tells a peer task.
#[derive(Debug)]
pub enum PeerCommand {
    /// The listener accepted a connection from this neighbor.
    Incoming(TcpStream),
    /// An operator's order from the control socket.
    Admin(AdminCommand),
    /// Removed by a reload: Cease / Peer De-configured (RFC 4486 §4), then the task ends.
    Deconfigure,
    /// A prefix limit's `restart` / `disable` action ([`route_limit`]), from the RIB actor.
    RouteLimit {
        family: Family,
        max: u32,
        disable: bool,
    },
    /// New settings from a reload; `reset`: Cease / Other Configuration Change first, then a
    /// new session with them; otherwise they apply in place (next connection / session).
    Reconfigure {
        neighbor: Box<Neighbor>,
        config: Box<SessionConfig>,
        reset: bool,
    },
}

/// What the daemon keeps of a running peer task.
#[derive(Debug)]
pub struct PeerHandle {
    pub neighbor: Neighbor,
    pub commands: mpsc::Sender<PeerCommand>,
    pub stats: Arc<PeerStats>,
    pub state: watch::Receiver<State>,
    /// Snapshot for the control socket.
    pub status: watch::Receiver<PeerStatus>,
    pub task: JoinHandle<()>,
}

enum Event {
    Frame {
        conn: ConnId,
        frame: Bytes,
    },
    FrameError {
        conn: ConnId,
        error: FrameError,
    },
    Closed {
        conn: ConnId,
    },
    ConnectDone {
        attempt: u64,
        result: Result<TcpStream, crate::Error>,
    },
}

struct ConnIo {
    writer: mpsc::Sender<Outgoing>,
    /// Octets queued for the writer, and its wake-up when it wrote some.
    backlog: Arc<Backlog>,
    /// Dropped (with the rest of this) when the session closes the connection: the writer then
    /// flushes what is queued within [`FLUSH_TIMEOUT`] and aborts the connection otherwise.
    close: oneshot::Sender<()>,
    reader: JoinHandle<()>,
    writer_task: JoinHandle<()>,
    remote: Option<SocketAddr>,
    local: Option<SocketAddr>,
}

struct PeerTask {
    neighbor: Neighbor,
    session: Session,
    stats: Arc<PeerStats>,
    state_tx: watch::Sender<State>,
    status: StatusTx,
    events_tx: mpsc::Sender<Event>,
    conns: HashMap<ConnId, ConnIo>,
    next_conn: u64,
    attempt: u64,
    connect_task: Option<JoinHandle<()>>,
    /// Largest frame the readers accept; the FSM checks the negotiated limit.
    max_frame: usize,
    /// Writer tasks of closed connections still flushing.
    closing: Vec<JoinHandle<()>>,
    /// The RIB actor, when routes flow (without it we send an empty table and End-of-RIB).
    rib: Option<RibLink>,
    /// Events for the RIB not sent yet (sent as one batch per loop turn).
    rib_pending: Vec<PeerEvent>,
    /// The Established session's outbox: the RIB's UPDATEs for the connection.
    outbox: Option<(ConnId, mpsc::Receiver<Outgoing>)>,
    /// The Established session negotiated graceful restart (RFC 4724): the peer's restart time.
    restart_time: Option<Duration>,
    /// The session's waits as last reported to the status channel.
    waits: Waits,
    /// The BFD manager, and this neighbor's BFD session while `neighbor.bfd` is set.
    bfd: Option<BfdHandle>,
    bfd_rx: Option<watch::Receiver<BfdStatus>>,
    /// BFD failures already acted on ([`BfdStatus::failures`]); `None` until the first status
    /// of a subscription, which is the baseline (an existing session's past failures are not
    /// this subscription's to act on, e.g. after a reload re-timed it).
    bfd_failures: Option<u64>,
    /// The daemon's interface table: the next-hop view is rebuilt from it when the session
    /// comes up and whenever it changes while the session is up.
    interfaces: Option<InterfaceReceiver>,
    /// Our end of the Established connection (part of the next-hop view).
    local_of_session: Option<SocketAddr>,
}

/// Starts the task for neighbor `n`; it runs until `shutdown` turns true.
pub fn spawn(n: Neighbor, config: SessionConfig, shutdown: watch::Receiver<bool>) -> PeerHandle {
    spawn_with_rib(n, config, shutdown, None, None, None)
}

/// [`spawn`], with received routes going to the RIB actor and its UPDATEs written to the
/// session's connection.
pub fn spawn_with_rib(
    n: Neighbor,
    config: SessionConfig,
    shutdown: watch::Receiver<bool>,
    rib: Option<RibLink>,
    bfd: Option<BfdHandle>,
    interfaces: Option<InterfaceReceiver>,
) -> PeerHandle {
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
    let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
    let (state_tx, state_rx) = watch::channel(State::Idle);
    let stats = Arc::new(PeerStats::default());
    let (status_tx, status_rx) = status::channel();
    let ext = config
        .capabilities
        .iter()
        .any(|c| matches!(c, bgp_proto::Capability::ExtendedMessage));
    let span = tracing::info_span!("peer", peer = %n.scoped_address(), asn = %n.remote_as, neighbor = %n.name);
    let task = PeerTask {
        neighbor: n.clone(),
        session: Session::new(config, Jitter::new(rand::random())),
        stats: stats.clone(),
        state_tx,
        status: status_tx,
        events_tx,
        conns: HashMap::new(),
        next_conn: 1,
        attempt: 0,
        connect_task: None,
        max_frame: if ext {
            MAX_EXTENDED_MESSAGE_LEN
        } else {
            bgp_proto::MAX_MESSAGE_LEN
        },
        closing: Vec::new(),
        rib,
        rib_pending: Vec::new(),
        outbox: None,
        restart_time: None,
        waits: Waits::default(),
        bfd,
        bfd_rx: None,
        bfd_failures: None,
        interfaces,
        local_of_session: None,
    };
    let join = tokio::spawn(task.run(cmd_rx, events_rx, shutdown).instrument(span));
    PeerHandle {
        neighbor: n,
        commands: cmd_tx,
        stats,
        state: state_rx,
        status: status_rx,
        task: join,
    }
}

impl PeerTask {
    async fn run(
        mut self,
        mut commands: mpsc::Receiver<PeerCommand>,
        mut events: mpsc::Receiver<Event>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        self.bfd_subscribe();
        self.input(Input::Start);
        let mut farewell = cease_subcode::ADMINISTRATIVE_SHUTDOWN;
        loop {
            let deadline = self.session.poll_timeout();
            // The RIB's UPDATEs move on while the connection's queue has room; otherwise the
            // writer's progress wakes us.
            let forward = self.can_forward();
            let backlog = self.outbox_backlog().filter(|_| !forward);
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(Instant::from_std(d)).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = shutdown.changed() => break,
                Some(cmd) = commands.recv() => match cmd {
                    PeerCommand::Incoming(stream) => self.incoming(stream),
                    PeerCommand::Admin(cmd) => self.admin(cmd),
                    PeerCommand::Deconfigure => {
                        farewell = cease_subcode::PEER_DECONFIGURED;
                        break;
                    }
                    PeerCommand::RouteLimit { family, max, disable } => self.route_limit(family, max, disable),
                    PeerCommand::Reconfigure { neighbor, config, reset } => {
                        self.reconfigure(*neighbor, *config, reset)
                    }
                },
                Some(ev) = events.recv() => {
                    self.event(ev);
                    // Batch what else is already queued (several UPDATEs per RIB message).
                    while self.rib.is_some() && self.rib_pending.len() < BATCH_EVENTS {
                        match events.try_recv() {
                            Ok(ev) => self.event(ev),
                            Err(_) => break,
                        }
                    }
                }
                _ = sleep => self.input(Input::Timer),
                Some(out) = next_outgoing(self.outbox.as_mut()), if forward => self.forward(out),
                _ = written(backlog.as_deref()), if backlog.is_some() => {}
                alive = bfd::changed(self.bfd_rx.as_mut()) => self.bfd_changed(alive),
                () = crate::next_hop_view::changed(self.interfaces.as_mut()) => self.interfaces_changed(),
            }
            self.flush_rib().await;
            self.closing.retain(|t| !t.is_finished());
        }
        // RFC 8203 / RFC 9003: Cease / Administrative Shutdown with a short message; a
        // neighbor removed by reload gets Peer De-configured (RFC 4486 §4).
        let n = if farewell == cease_subcode::ADMINISTRATIVE_SHUTDOWN {
            Notification::cease_with_communication(farewell, SHUTDOWN_MESSAGE)
        } else {
            Notification::new(code::CEASE, farewell, Vec::new())
        };
        self.input(Input::Stop(n));
        let flush = futures_join(std::mem::take(&mut self.closing));
        // The writers give up by themselves after FLUSH_TIMEOUT; a little more to see them end.
        let wait = FLUSH_TIMEOUT + Duration::from_millis(500);
        if tokio::time::timeout(wait, flush).await.is_err() {
            warn!(
                event = "shutdown_flush_timeout",
                "NOTIFICATION not flushed in time"
            );
        }
        info!(event = "stopped", "peer stopped");
    }

    /// Send the pending events to the RIB; waits while this peer's batches fill their slots
    /// or the actor's queue is full (back-pressure: we stop reading events, so our readers
    /// stop reading TCP).
    async fn flush_rib(&mut self) {
        if self.rib_pending.is_empty() {
            return;
        }
        let events = std::mem::take(&mut self.rib_pending);
        if let Some(rib) = &self.rib {
            if rib.send(events).await.is_err() {
                warn!(event = "rib_gone", "RIB actor stopped");
                self.rib = None;
            }
        }
    }

    /// Whether the outbox's connection takes more of the RIB's UPDATEs now.
    fn can_forward(&self) -> bool {
        let Some(io) = self.outbox.as_ref().and_then(|(c, _)| self.conns.get(c)) else {
            return false;
        };
        io.backlog.octets() < WRITE_BUDGET && io.writer.capacity() > FSM_ROOM
    }

    fn outbox_backlog(&self) -> Option<Arc<Backlog>> {
        let (c, _) = self.outbox.as_ref()?;
        self.conns.get(c).map(|io| io.backlog.clone())
    }

    /// One of the RIB's passes to the connection's write queue.
    fn forward(&mut self, out: Outgoing) {
        let Some(io) = self.outbox.as_ref().and_then(|(c, _)| self.conns.get(c)) else {
            return;
        };
        let n = out.len();
        io.backlog.queued(n);
        match io.writer.try_send(out) {
            Ok(()) => self.status.tx(),
            // Not reached: `can_forward` saw room, and only this task queues.
            Err(_) => io.backlog.done(n),
        }
    }

    fn queue_for_rib(&mut self, ev: PeerEvent) {
        if self.rib.is_some() {
            self.rib_pending.push(ev);
        }
    }

    /// BIRD's `disable` / `enable` / `restart`: RFC 4271 §8.1.2 ManualStop / ManualStart,
    /// with the Cease subcodes of RFC 4486 §4 (Administrative Shutdown / Reset).
    fn admin(&mut self, cmd: AdminCommand) {
        info!(event = "admin", command = ?cmd, "operator command");
        match cmd {
            AdminCommand::Disable => {
                let n = Notification::new(
                    code::CEASE,
                    cease_subcode::ADMINISTRATIVE_SHUTDOWN,
                    Vec::new(),
                );
                self.input(Input::Stop(n));
                // After the Stop: our own Cease is not an error to show (BIRD's BE_MAN_DOWN).
                self.status.enabled(false);
            }
            AdminCommand::Enable => {
                self.status.enabled(true);
                self.input(Input::Start);
            }
            AdminCommand::Restart => {
                let n =
                    Notification::new(code::CEASE, cease_subcode::ADMINISTRATIVE_RESET, Vec::new());
                self.input(Input::Stop(n));
                self.status.enabled(true);
                self.input(Input::Start);
            }
        }
    }

    /// A reload changed this neighbor (see [`PeerCommand::Reconfigure`]).
    fn reconfigure(&mut self, neighbor: Neighbor, config: SessionConfig, reset: bool) {
        let bfd_changed = neighbor.bfd != self.neighbor.bfd;
        self.neighbor = neighbor;
        if bfd_changed {
            self.bfd_subscribe();
        }
        if reset {
            info!(
                event = "reconfigure_reset",
                "settings changed, session reset"
            );
            let n = Notification::new(
                code::CEASE,
                cease_subcode::OTHER_CONFIGURATION_CHANGE,
                Vec::new(),
            );
            let enabled = self.status.is_enabled();
            self.input(Input::Stop(n));
            self.session = Session::new(config, Jitter::new(rand::random()));
            if enabled {
                self.input(Input::Start);
            }
        } else {
            debug!(event = "reconfigure", "settings updated in place");
            self.session.set_config(config);
        }
    }

    fn incoming(&mut self, stream: TcpStream) {
        if let Err(e) = socket::accepted(&stream, &self.neighbor) {
            warn!(event = "socket_option_failed", error = %e, "cannot set socket options");
        }
        let conn = self.new_conn(stream, Direction::Inbound);
        self.input(Input::Connected {
            conn,
            direction: Direction::Inbound,
        });
    }

    fn new_conn(&mut self, stream: TcpStream, direction: Direction) -> ConnId {
        let conn = ConnId(self.next_conn);
        self.next_conn += 1;
        let remote = stream.peer_addr().ok();
        let local = stream.local_addr().ok();
        info!(event = "tcp_up", conn = %conn, ?direction, ?remote, ?local, "TCP connection up");
        let (mut rd, wr) = stream.into_split();
        let events = self.events_tx.clone();
        let max = self.max_frame;
        let reader = tokio::spawn(
            async move {
                let mut framer = BgpFramer::new();
                framer.set_max_len(max);
                // One largest message (RFC 4271 §4.1); the framer reserves more for an
                // extended one. Per connection, so kept small: 1,000 sessions hold 4 MiB less
                // than with 8 KiB.
                let mut buf = BytesMut::with_capacity(bgp_proto::MAX_MESSAGE_LEN);
                loop {
                    loop {
                        match framer.decode(&mut buf) {
                            Ok(Some(frame)) => {
                                let ev = Event::Frame {
                                    conn,
                                    frame: frame.freeze(),
                                };
                                if events.send(ev).await.is_err() {
                                    return;
                                }
                            }
                            Ok(None) => break,
                            Err(error) => {
                                let _ = events.send(Event::FrameError { conn, error }).await;
                                return;
                            }
                        }
                    }
                    match rd.read_buf(&mut buf).await {
                        Ok(0) | Err(_) => {
                            let _ = events.send(Event::Closed { conn }).await;
                            return;
                        }
                        Ok(_) => {}
                    }
                }
            }
            .in_current_span(),
        );
        let (wtx, wrx) = mpsc::channel::<Outgoing>(WRITE_QUEUE);
        let (close_tx, close_rx) = oneshot::channel();
        let backlog = Arc::new(Backlog::default());
        let writer_task = tokio::spawn(
            write_loop(
                conn,
                wr,
                wrx,
                close_rx,
                self.events_tx.clone(),
                self.stats.clone(),
                backlog.clone(),
            )
            .in_current_span(),
        );
        self.conns.insert(
            conn,
            ConnIo {
                writer: wtx,
                backlog,
                close: close_tx,
                reader,
                writer_task,
                remote,
                local,
            },
        );
        conn
    }

    fn event(&mut self, ev: Event) {
        match ev {
            Event::Frame { conn, frame } => {
                self.status.rx();
                self.input(Input::Received { conn, frame })
            }
            Event::FrameError { conn, error } => match error {
                FrameError::Decode(error) => self.input(Input::FrameError { conn, error }),
                FrameError::Io(_) | FrameError::TooLong { .. } => {
                    self.input(Input::Closed { conn })
                }
            },
            Event::Closed { conn } => self.input(Input::Closed { conn }),
            Event::ConnectDone { attempt, result } => {
                if attempt != self.attempt || self.connect_task.is_none() {
                    // Cancelled meanwhile; a stream, if any, is dropped (closed) here.
                    return;
                }
                self.connect_task = None;
                match result {
                    Ok(stream) => {
                        let conn = self.new_conn(stream, Direction::Outbound);
                        self.input(Input::Connected {
                            conn,
                            direction: Direction::Outbound,
                        });
                    }
                    Err(e) => {
                        debug!(event = "connect_failed", error = %e, "connection attempt failed");
                        self.status.socket_error(&e);
                        self.queue_for_rib(PeerEvent::ConnectFailed);
                        self.input(Input::ConnectFailed);
                    }
                }
            }
        }
    }

    fn input(&mut self, input: Input) {
        let now = Instant::now().into_std();
        let outputs = self.session.handle(input, now);
        for o in outputs {
            self.output(o);
        }
        let waits = self.session.waits();
        if waits != self.waits {
            self.waits = waits;
            self.status.waits(waits);
        }
    }

    fn output(&mut self, o: Output) {
        match o {
            Output::Connect => {
                self.attempt += 1;
                let attempt = self.attempt;
                let n = self.neighbor.clone();
                let events = self.events_tx.clone();
                debug!(event = "connecting", port = n.port, "connecting");
                self.connect_task = Some(tokio::spawn(
                    async move {
                        let result = socket::connect(&n).await;
                        let _ = events.send(Event::ConnectDone { attempt, result }).await;
                    }
                    .in_current_span(),
                ));
            }
            Output::CancelConnect => {
                if let Some(t) = self.connect_task.take() {
                    t.abort();
                }
            }
            Output::Send { conn, data } => {
                let Some(io) = self.conns.get(&conn) else {
                    return;
                };
                let n = data.len();
                io.backlog.queued(n);
                match io.writer.try_send(data.into()) {
                    Ok(()) => self.status.tx(),
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        io.backlog.done(n);
                        warn!(event = "write_queue_full", conn = %conn, "peer not reading, closing");
                        self.input(Input::Closed { conn });
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => io.backlog.done(n),
                }
            }
            Output::Close { conn } => {
                if self.outbox.as_ref().is_some_and(|(c, _)| *c == conn) {
                    self.outbox = None;
                }
                if let Some(io) = self.conns.remove(&conn) {
                    io.reader.abort();
                    // Dropping the senders tells the writer to flush its queue (bounded in
                    // time) and shut down.
                    drop(io.writer);
                    drop(io.close);
                    self.closing.push(io.writer_task);
                    debug!(event = "tcp_close", conn = %conn, remote = ?io.remote, "closing connection");
                }
            }
            Output::StateChanged { from, to } => {
                info!(event = "state", from = %from, to = %to, "state changed");
                self.state_tx.send_replace(to);
                self.status.state(to);
            }
            Output::Established {
                conn,
                negotiated,
                peer_router_id,
            } => {
                self.stats
                    .established_count
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let families: Vec<String> =
                    negotiated.families.iter().map(|f| f.to_string()).collect();
                let remote = self.conns.get(&conn).and_then(|c| c.remote);
                let local = self.conns.get(&conn).and_then(|c| c.local);
                self.local_of_session = local;
                self.refresh_next_hop_view();
                self.session_up(conn, &negotiated, peer_router_id);
                self.status.established(EstablishedInfo {
                    negotiated: (*negotiated).clone(),
                    peer_open: self.session.peer_open().cloned(),
                    peer_router_id,
                    local: self.conns.get(&conn).and_then(|c| c.local),
                    remote,
                });
                info!(
                    event = "established",
                    conn = %conn,
                    remote = ?remote,
                    peer_router_id = %peer_router_id,
                    peer_as = %negotiated.peer_asn,
                    hold_time = negotiated.hold_time,
                    four_octet_as = negotiated.context.four_octet_as,
                    extended_message = negotiated.context.extended_message,
                    route_refresh = negotiated.route_refresh,
                    enhanced_route_refresh = negotiated.enhanced_route_refresh,
                    families = ?families,
                    "session established"
                );
            }
            Output::Down { reason } => {
                // RFC 4724 §4.2: routes are kept (stale) when the session ends without a
                // NOTIFICATION, as the peer may be restarting.
                let graceful = self.restart_time.is_some()
                    && matches!(
                        reason,
                        crate::fsm::DownReason::ConnectionClosed
                            | crate::fsm::DownReason::HoldTimerExpired
                            | crate::fsm::DownReason::BfdDown { graceful: true }
                    );
                self.restart_time = None;
                self.outbox = None;
                self.queue_for_rib(PeerEvent::Down { graceful });
                self.status.down(&reason);
                let s = &self.stats;
                info!(
                    event = "down",
                    reason = %reason,
                    updates_received = PeerStats::get(&s.updates_received),
                    prefixes_received = PeerStats::get(&s.prefixes_received),
                    prefixes_withdrawn = PeerStats::get(&s.prefixes_withdrawn),
                    "session down"
                );
            }
            Output::Update { update } => {
                let c = self.stats.record_update(&update);
                crate::peer_log::malformed_update(&update);
                debug!(
                    event = "update",
                    announced = c.announced,
                    withdrawn = c.withdrawn,
                    end_of_rib = ?update.end_of_rib(),
                    "UPDATE received"
                );
                self.queue_for_rib(PeerEvent::Update(update));
            }
            Output::RouteRefresh { request } => {
                debug!(event = "route_refresh", request = ?request, "ROUTE-REFRESH received");
                // RFC 7313 §4: BoRR / EoRR markers are not requests.
                let normal =
                    request.subtype == bgp_proto::route_refresh::RouteRefreshSubtype::Normal;
                if let (Some(f), true) = (request.family(), normal) {
                    self.queue_for_rib(PeerEvent::RouteRefresh(f));
                }
            }
            Output::MessageError { conn, error } => crate::peer_log::message_error(conn, &error),
            Output::NotificationSent { conn, notification } => {
                self.stats
                    .notifications_sent
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.status.error(LastError::Sent(notification.clone()));
                warn!(
                    event = "notification_sent",
                    conn = %conn,
                    code = notification.code,
                    subcode = notification.subcode,
                    text = %notification,
                    "NOTIFICATION sent"
                );
            }
            Output::NotificationReceived { conn, notification } => {
                self.stats
                    .notifications_received
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.status.error(LastError::Received(notification.clone()));
                warn!(
                    event = "notification_received",
                    conn = %conn,
                    code = notification.code,
                    subcode = notification.subcode,
                    text = %notification,
                    "NOTIFICATION received"
                );
            }
            Output::CollisionResolved { closed, kept } => {
                info!(event = "collision", closed = %closed, kept = %kept,
                    "connection collision resolved (RFC 4271 §6.8)");
            }
        }
    }
}

impl PeerTask {
    /// The session is Established on `conn`: hand the connection's writer to the RIB, which
    /// sends the initial table and End-of-RIB; without a RIB, send End-of-RIB for an empty
    /// table ourselves (RFC 4724 §2).
    fn session_up(
        &mut self,
        conn: ConnId,
        negotiated: &bgp_proto::Negotiated,
        peer_router_id: bgp_proto::RouterId,
    ) {
        let ours = self.neighbor.graceful_restart.enabled;
        self.restart_time = self
            .session
            .peer_open()
            .and_then(|o| o.graceful_restart())
            .filter(|_| ours)
            .map(|g| Duration::from_secs(u64::from(g.restart_time)));
        let Some(io) = self.conns.get(&conn) else {
            return;
        };
        if self.rib.is_none() {
            for f in &negotiated.families {
                let _ = io
                    .writer
                    .try_send(bgp_proto::builder::end_of_rib(*f).into());
            }
            return;
        }
        let (outbox, rx) = crate::rib_actor::outbox();
        self.outbox = Some((conn, rx));
        let up = SessionUp {
            conn,
            peer_router_id,
            negotiated: negotiated.clone(),
            local: io.local,
            outbox,
            restart_time: self.restart_time,
            peer_restarting: self
                .session
                .peer_open()
                .and_then(|o| o.graceful_restart())
                .is_some_and(|g| g.restart_state),
        };
        self.queue_for_rib(PeerEvent::Up(Box::new(up)));
    }
}

/// Waits for every task (their results do not matter: they only write and close).
async fn futures_join(tasks: Vec<JoinHandle<()>>) {
    for t in tasks {
        let _ = t.await;
    }
}
