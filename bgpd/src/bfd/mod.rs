//! BFD (RFC 5880) for BGP neighbors: single hop (RFC 5881) and multihop (RFC 5883),
//! asynchronous mode, no authentication, no echo.
//!
//! - [`packet`]: the Control packet codec.
//! - [`state`]: one session's state machine, sans-IO (time passed in).
//! - [`io`]: the UDP sockets (GTSM on single hop, source ports 49152-65535).
//! - this module: the manager task owning every session, one per [`SessionKey`]; clients
//!   (peer tasks) [`BfdHandle::subscribe`] and watch a [`BfdStatus`]. A session lives as long
//!   as someone watches it: when the last receiver is dropped it says AdminDown to the peer
//!   and goes away.

pub mod io;
pub mod packet;
pub mod state;

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::net::UdpSocket;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use self::io::{Datagram, ListenKind};
use self::packet::{ControlPacket, Diag, Discriminator, SessionState};
use self::state::{Output, Params, Session, Snapshot};
use crate::fsm::Jitter;

/// Requests queued to the manager before senders wait.
const REQUEST_QUEUE: usize = 64;
/// Received datagrams queued to the manager before the readers drop them.
const RX_QUEUE: usize = 1024;
/// How often sessions nobody watches are removed and failed sockets retried.
const HOUSEKEEPING: Duration = Duration::from_secs(1);

/// Which session: the peer's address, single hop or multihop, and for single hop optionally
/// the interface (BIRD's `neighbor ADDR dev "eth0"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionKey {
    pub peer: IpAddr,
    pub multihop: bool,
    pub interface: Option<String>,
}

/// What a client sees of its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BfdStatus {
    pub state: SessionState,
    /// Why it last left Up (our diagnostic).
    pub diag: Diag,
    pub since: SystemTime,
    /// Up → Down transitions that are failures (a peer's AdminDown is not one, RFC 5882
    /// §3.2): a client acts when this grows.
    pub failures: u64,
}

impl Default for BfdStatus {
    fn default() -> Self {
        BfdStatus {
            state: SessionState::Down,
            diag: Diag::NONE,
            since: SystemTime::now(),
            failures: 0,
        }
    }
}

/// One row of `show bfd sessions`.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub key: SessionKey,
    pub local: Option<SocketAddr>,
    pub since: SystemTime,
    pub snapshot: Snapshot,
    pub params: Params,
}

#[derive(Debug)]
enum Request {
    Subscribe {
        key: SessionKey,
        params: Params,
        local: Option<IpAddr>,
        status: watch::Sender<BfdStatus>,
    },
    Show(oneshot::Sender<Vec<SessionView>>),
}

/// Every session, sorted by key: published by the manager on each state change and once a
/// second (for `show bfd sessions`, which reads it without asking the manager).
pub type SessionsView = watch::Receiver<Arc<Vec<SessionView>>>;

/// The way to the manager task; cheap to clone.
#[derive(Debug, Clone)]
pub struct BfdHandle {
    tx: mpsc::Sender<Request>,
    view: SessionsView,
}

impl BfdHandle {
    /// Starts the manager; it binds its sockets only when the first session is asked for,
    /// and ends when every handle is dropped.
    pub fn spawn() -> BfdHandle {
        let (tx, rx) = mpsc::channel(REQUEST_QUEUE);
        let (rx_tx, rx_rx) = mpsc::channel(RX_QUEUE);
        let (view_tx, view) = watch::channel(Arc::new(Vec::new()));
        let m = Manager {
            view: view_tx,
            dirty: false,
            sessions: HashMap::new(),
            by_key: HashMap::new(),
            listeners: HashMap::new(),
            datagrams: rx_tx,
            seed: rand::random(),
        };
        tokio::spawn(m.run(rx, rx_rx));
        BfdHandle { tx, view }
    }

    /// The published list of sessions.
    pub fn view(&self) -> SessionsView {
        self.view.clone()
    }

    /// Watches the session for `key`, creating it with `params` (or giving an existing one
    /// these params). The first status the receiver sees is the session's current one (its
    /// `failures` a baseline). Drop the receiver to let the session go.
    pub fn subscribe(
        &self,
        key: SessionKey,
        params: Params,
        local: Option<IpAddr>,
    ) -> watch::Receiver<BfdStatus> {
        let (status, rx) = watch::channel(BfdStatus::default());
        let req = Request::Subscribe {
            key,
            params,
            local,
            status,
        };
        if let Err(mpsc::error::TrySendError::Full(req)) = self.tx.try_send(req) {
            let tx = self.tx.clone();
            tokio::spawn(async move {
                let _ = tx.send(req).await;
            });
        }
        rx
    }

    /// Every session, sorted by key (for `show bfd sessions`).
    pub async fn sessions(&self) -> Vec<SessionView> {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Request::Show(tx)).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }
}

struct Entry {
    key: SessionKey,
    local: Option<IpAddr>,
    session: Session,
    socket: Option<UdpSocket>,
    subscribers: Vec<watch::Sender<BfdStatus>>,
    status: BfdStatus,
    /// The last socket error, logged once.
    socket_error: Option<String>,
}

struct Manager {
    view: watch::Sender<Arc<Vec<SessionView>>>,
    /// A state changed since the last publication.
    dirty: bool,
    sessions: HashMap<Discriminator, Entry>,
    by_key: HashMap<SessionKey, Discriminator>,
    listeners: HashMap<ListenKind, Result<tokio::task::JoinHandle<()>, String>>,
    datagrams: mpsc::Sender<Datagram>,
    seed: u64,
}

impl Manager {
    async fn run(
        mut self,
        mut requests: mpsc::Receiver<Request>,
        mut rx: mpsc::Receiver<Datagram>,
    ) {
        let mut housekeeping = Instant::now() + HOUSEKEEPING;
        loop {
            let next = self
                .sessions
                .values()
                .filter_map(|e| e.session.poll_timeout())
                .min()
                .map(Instant::from_std)
                .map_or(housekeeping, |t| t.min(housekeeping));
            tokio::select! {
                req = requests.recv() => match req {
                    Some(req) => self.request(req),
                    None => break,
                },
                Some(d) = rx.recv() => self.datagram(d),
                _ = tokio::time::sleep_until(next) => {}
            }
            let now = Instant::now();
            self.timers(now.into_std());
            if now >= housekeeping {
                self.housekeeping();
                housekeeping = now + HOUSEKEEPING;
                self.dirty = true;
            }
            if self.dirty {
                self.dirty = false;
                self.view.send_replace(Arc::new(self.list()));
            }
        }
        for (_, e) in self.sessions.drain() {
            let now = std::time::Instant::now();
            let mut e = e;
            let out = e.session.admin_down(now);
            self.dirty |= Self::apply(&mut e, out);
        }
        for l in self.listeners.values().flatten() {
            l.abort();
        }
    }

    fn next_seed(&mut self) -> u64 {
        self.seed = self
            .seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        self.seed
    }

    fn request(&mut self, req: Request) {
        match req {
            Request::Subscribe {
                key,
                params,
                local,
                status,
            } => self.subscribe(key, params, local, status),
            Request::Show(reply) => {
                let _ = reply.send(self.list());
            }
        }
        self.dirty = true;
    }

    fn list(&self) -> Vec<SessionView> {
        let mut v: Vec<SessionView> = self
            .sessions
            .values()
            .map(|e| SessionView {
                key: e.key.clone(),
                local: e.socket.as_ref().and_then(|s| s.local_addr().ok()),
                since: e.status.since,
                snapshot: e.session.snapshot(),
                params: e.session.params(),
            })
            .collect();
        v.sort_by(|a, b| a.key.cmp(&b.key));
        v
    }

    fn subscribe(
        &mut self,
        key: SessionKey,
        params: Params,
        local: Option<IpAddr>,
        status: watch::Sender<BfdStatus>,
    ) {
        self.ensure_listener(ListenKind {
            v6: key.peer.is_ipv6(),
            multihop: key.multihop,
        });
        let now = std::time::Instant::now();
        if let Some(e) = self.by_key.get(&key).and_then(|d| self.sessions.get_mut(d)) {
            status.send_replace(e.status.clone());
            e.subscribers.push(status);
            let mut out = Vec::new();
            e.session.set_params(params, now, &mut out);
            if local.is_some() && e.local != local {
                e.local = local;
                e.socket = None;
            }
            self.dirty |= Self::apply(e, out);
            return;
        }
        let disc = loop {
            let d = Discriminator(rand::random());
            if d.0 != 0 && !self.sessions.contains_key(&d) {
                break d;
            }
        };
        let session = Session::new(disc, params, Jitter::new(self.next_seed()), now);
        info!(event = "bfd_session_added", peer = %key.peer, multihop = key.multihop,
            discriminator = %disc, "BFD session added");
        let st = BfdStatus::default();
        status.send_replace(st.clone());
        let mut e = Entry {
            key: key.clone(),
            local,
            session,
            socket: None,
            subscribers: vec![status],
            status: st,
            socket_error: None,
        };
        self.open_socket(&mut e);
        self.by_key.insert(key, disc);
        self.sessions.insert(disc, e);
    }

    fn open_socket(&mut self, e: &mut Entry) {
        if e.socket.is_some() {
            return;
        }
        let port = if e.key.multihop {
            io::MULTIHOP_PORT
        } else {
            io::SINGLE_HOP_PORT
        };
        let peer = SocketAddr::new(e.key.peer, port);
        match io::sender(peer, e.local, e.key.interface.as_deref(), self.next_seed()) {
            Ok(s) => {
                e.socket = Some(s);
                e.socket_error = None;
            }
            Err(err) => {
                let text = err.to_string();
                if e.socket_error.as_deref() != Some(text.as_str()) {
                    warn!(event = "bfd_socket_failed", peer = %e.key.peer, error = %text,
                        "cannot open the BFD socket; will retry");
                    e.socket_error = Some(text);
                }
            }
        }
    }

    fn ensure_listener(&mut self, kind: ListenKind) {
        if matches!(self.listeners.get(&kind), Some(Ok(_))) {
            return;
        }
        match io::listen(kind) {
            Ok(s) => {
                let h = io::spawn_reader(Arc::new(s), kind.multihop, self.datagrams.clone());
                info!(
                    event = "bfd_listening",
                    v6 = kind.v6,
                    multihop = kind.multihop,
                    "BFD listening"
                );
                self.listeners.insert(kind, Ok(h));
            }
            Err(err) => {
                let text = err.to_string();
                if !matches!(self.listeners.get(&kind), Some(Err(t)) if *t == text) {
                    warn!(event = "bfd_listen_failed", v6 = kind.v6, multihop = kind.multihop,
                        error = %text, "cannot listen for BFD; will retry");
                }
                self.listeners.insert(kind, Err(text));
            }
        }
    }

    fn datagram(&mut self, d: Datagram) {
        let p = match ControlPacket::decode(&d.data) {
            Ok(p) => p,
            Err(e) => {
                debug!(event = "bfd_bad_packet", from = %d.from, error = %e, "BFD packet discarded");
                return;
            }
        };
        let peer = match d.from.ip() {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
            ip => ip,
        };
        let disc = if p.your_discriminator.0 != 0 {
            Some(p.your_discriminator)
        } else {
            // RFC 5881 §3 / RFC 5883 §3: by addresses while the peer does not know ours.
            self.by_key
                .iter()
                .find(|(k, _)| k.peer == peer && k.multihop == d.multihop)
                .map(|(_, d)| *d)
        };
        let Some(e) = disc.and_then(|disc| self.sessions.get_mut(&disc)) else {
            debug!(event = "bfd_no_session", from = %d.from, "BFD packet for no session");
            return;
        };
        if e.key.peer != peer || e.key.multihop != d.multihop {
            debug!(event = "bfd_wrong_peer", from = %d.from, "BFD packet from the wrong address");
            return;
        }
        let out = e.session.handle_packet(&p, std::time::Instant::now());
        self.dirty |= Self::apply(e, out);
    }

    fn timers(&mut self, now: std::time::Instant) {
        for e in self.sessions.values_mut() {
            if e.session.poll_timeout().is_some_and(|t| t <= now) {
                let out = e.session.handle_timeout(now);
                self.dirty |= Self::apply(e, out);
            }
        }
    }

    fn housekeeping(&mut self) {
        let gone: Vec<Discriminator> = self
            .sessions
            .iter_mut()
            .filter_map(|(d, e)| {
                e.subscribers.retain(|s| !s.is_closed());
                e.subscribers.is_empty().then_some(*d)
            })
            .collect();
        for d in gone {
            if let Some(mut e) = self.sessions.remove(&d) {
                let out = e.session.admin_down(std::time::Instant::now());
                self.dirty |= Self::apply(&mut e, out);
                self.by_key.remove(&e.key);
                info!(event = "bfd_session_removed", peer = %e.key.peer, "BFD session removed");
            }
        }
        let kinds: Vec<ListenKind> = self
            .sessions
            .values()
            .map(|e| ListenKind {
                v6: e.key.peer.is_ipv6(),
                multihop: e.key.multihop,
            })
            .collect();
        for k in kinds {
            self.ensure_listener(k);
        }
        let ds: Vec<Discriminator> = self
            .sessions
            .iter()
            .filter(|(_, e)| e.socket.is_none())
            .map(|(d, _)| *d)
            .collect();
        for d in ds {
            if let Some(mut e) = self.sessions.remove(&d) {
                self.open_socket(&mut e);
                self.sessions.insert(d, e);
            }
        }
    }

    /// Carries out a session's outputs: packets to the socket, state changes to the watchers.
    fn apply(e: &mut Entry, out: Vec<Output>) -> bool {
        let mut changed = false;
        for o in out {
            match o {
                Output::Send(p) => {
                    if let Some(s) = &e.socket {
                        if let Err(err) = s.try_send(&p.encode()) {
                            debug!(event = "bfd_send_failed", peer = %e.key.peer, error = %err,
                                "BFD send failed");
                        }
                    }
                }
                Output::StateChanged { from, to, diag } => {
                    let snap = e.session.snapshot();
                    let failure = from == SessionState::Up
                        && to == SessionState::Down
                        && snap.remote_state != SessionState::AdminDown;
                    e.status.state = to;
                    e.status.diag = diag;
                    e.status.since = SystemTime::now();
                    if failure {
                        e.status.failures += 1;
                    }
                    info!(event = "bfd_state", peer = %e.key.peer, from = %from, to = %to,
                        diag = %diag, "BFD session state changed");
                    for s in &e.subscribers {
                        s.send_replace(e.status.clone());
                    }
                    changed = true;
                }
            }
        }
        changed
    }
}
