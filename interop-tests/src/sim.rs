//! A lean many-peer BGP simulator for the scale benchmark (`bin/scale_bench.rs`): hundreds or
//! thousands of iBGP sessions in one process on one current-thread tokio runtime, each from its
//! own source address, speaking real BGP (OPEN and KEEPALIVE encoded with `bgp_proto`, UPDATEs
//! pre-encoded with `bgp_proto::builder`, End-of-RIB).
//!
//! It is built to cost far less CPU than the daemon it loads, so that the benchmark measures the
//! daemon and not itself: received UPDATEs are not decoded into owned structures but scanned in
//! place ([`scan_update`]: the withdrawn and NLRI fields through `bgp_proto`'s zero-allocation
//! [`NlriIter`], the attributes only for ORIGINATOR_ID), and every prefix is a bit in a bitset
//! over the benchmark's universe of /26 blocks (index = (address - base) / 64).
//!
//! Each session is two tasks: a reader (frames, counts, End-of-RIB) and a writer (pre-encoded
//! UPDATEs from a channel, KEEPALIVEs every negotiated hold time / 3). Per session the shared
//! [`PeerState`] holds atomics only; the benchmark polls them.

use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bgp_proto::attribute::type_code;
use bgp_proto::{Family, NlriIter};
use bytes::Bytes;
use ipnet::IpNet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpSocket;
use tokio::sync::mpsc;

/// Why a simulated session failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{local}: {source}")]
    Io {
        local: Ipv4Addr,
        source: std::io::Error,
    },
    #[error("{local}: NOTIFICATION from the daemon: {data:02x?}")]
    Notification { local: Ipv4Addr, data: Vec<u8> },
    #[error("{local}: malformed message from the daemon: {what}")]
    Malformed { local: Ipv4Addr, what: String },
    #[error("cannot encode: {0}")]
    Encode(String),
}

/// The prefixes of a benchmark: `count` /26 blocks from `base` upwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Universe {
    pub base: Ipv4Addr,
    pub count: u32,
}

impl Universe {
    /// The `i`-th /26 block.
    pub fn block(&self, i: u32) -> ipnet::Ipv4Net {
        crate::loadgen::slash26(self.base, i)
    }

    /// The index of `p` if it is one of the universe's /26 blocks.
    pub fn index(&self, p: &IpNet) -> Option<u32> {
        let IpNet::V4(p) = p else { return None };
        if p.prefix_len() != 26 {
            return None;
        }
        let off = u32::from(p.network()).checked_sub(u32::from(self.base))?;
        let i = off >> 6;
        (i < self.count).then_some(i)
    }
}

/// One simulated peer: its address (also its router id) and the blocks it announces.
#[derive(Debug, Clone)]
pub struct PeerPlan {
    pub local: Ipv4Addr,
    /// Indices of the blocks it announces (never counted as received; if received they are
    /// reflected back).
    pub own: Range<u32>,
    /// One more block announced later by this peer (also never counted).
    pub extra: Option<u32>,
}

impl PeerPlan {
    fn is_own(&self, i: u32) -> bool {
        self.own.contains(&i) || self.extra == Some(i)
    }
}

/// What one session has seen, shared with the benchmark (atomics only). Times are nanoseconds
/// since the simulator's epoch (`0` = not yet).
#[derive(Debug, Default)]
pub struct PeerState {
    established_ns: AtomicU64,
    eor_ns: AtomicU64,
    last_change_ns: AtomicU64,
    held: AtomicU32,
    reflected: AtomicU64,
    updates: AtomicU64,
    attempts: AtomicU64,
    error: Mutex<Option<String>>,
}

impl PeerState {
    /// When the session reached Established (ns since the epoch), if it did.
    pub fn established(&self) -> Option<u64> {
        nonzero(self.established_ns.load(Ordering::Acquire))
    }
    /// When the daemon's IPv4 End-of-RIB arrived.
    pub fn eor(&self) -> Option<u64> {
        nonzero(self.eor_ns.load(Ordering::Acquire))
    }
    /// When the held set last changed.
    pub fn last_change(&self) -> Option<u64> {
        nonzero(self.last_change_ns.load(Ordering::Acquire))
    }
    /// Blocks of other peers (or of the daemon) currently announced to this peer.
    pub fn held(&self) -> u32 {
        self.held.load(Ordering::Acquire)
    }
    /// Announcements of this peer's own blocks, or carrying ORIGINATOR_ID = this peer,
    /// received from the daemon (routes reflected back to their originator).
    pub fn reflected(&self) -> u64 {
        self.reflected.load(Ordering::Acquire)
    }
    /// UPDATE messages received.
    pub fn updates(&self) -> u64 {
        self.updates.load(Ordering::Acquire)
    }
    /// Connection attempts that failed before Established.
    pub fn failed_attempts(&self) -> u64 {
        self.attempts.load(Ordering::Acquire)
    }
    /// Why the session ended, if it did.
    pub fn error(&self) -> Option<String> {
        self.error.lock().ok().and_then(|g| g.clone())
    }
    fn fail(&self, e: &SimError) {
        if let Ok(mut g) = self.error.lock() {
            g.get_or_insert_with(|| e.to_string());
        }
    }
}

fn nonzero(v: u64) -> Option<u64> {
    (v != 0).then_some(v)
}

/// The simulator's clock: nanoseconds since `epoch`, never 0.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub epoch: Instant,
}

impl Clock {
    pub fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos())
            .unwrap_or(u64::MAX)
            .max(1)
    }
}

/// Session parameters common to every simulated peer.
#[derive(Debug, Clone, Copy)]
pub struct SimParams {
    pub remote: Ipv4Addr,
    pub asn: u32,
    /// Hold time offered in our OPEN (the daemon's own default applies if smaller).
    pub hold_time: u16,
    /// Pause between connection attempts.
    pub retry: Duration,
    /// How long an attempt may stay in OpenSent/OpenConfirm before it is dropped and retried.
    pub open_timeout: Duration,
    pub universe: Universe,
    pub clock: Clock,
}

/// A running simulated peer: its state and the queue of messages to send.
#[derive(Debug)]
pub struct SimPeer {
    pub plan: Arc<PeerPlan>,
    pub state: Arc<PeerState>,
    tx: mpsc::Sender<Bytes>,
}

impl SimPeer {
    /// Starts the peer's task on the current runtime: it connects (retrying every
    /// `params.retry`), opens the session and then reads and writes until the process ends.
    pub fn spawn(plan: PeerPlan, params: SimParams) -> SimPeer {
        let plan = Arc::new(plan);
        let state = Arc::new(PeerState::default());
        let (tx, rx) = mpsc::channel(4);
        let (p, s) = (Arc::clone(&plan), Arc::clone(&state));
        tokio::spawn(async move {
            if let Err(e) = run_peer(&p, &s, params, rx).await {
                s.fail(&e);
            }
        });
        SimPeer { plan, state, tx }
    }

    /// Queues pre-encoded messages for the writer.
    pub async fn send(&self, bytes: Bytes) -> Result<(), SimError> {
        self.tx.send(bytes).await.map_err(|_| SimError::Io {
            local: self.plan.local,
            source: std::io::ErrorKind::BrokenPipe.into(),
        })
    }
}

async fn run_peer(
    plan: &PeerPlan,
    state: &PeerState,
    params: SimParams,
    rx: mpsc::Receiver<Bytes>,
) -> Result<(), SimError> {
    let local = plan.local;
    // Connect retry (RFC 4271 §8.2.2): a connection that fails before Established (refused,
    // reset, closed, NOTIFICATION, or no OPEN/KEEPALIVE within `open_timeout`, the RFC's
    // "large" OpenSent hold time) is closed and tried again after `retry`.
    let (reader, wr, hold) = loop {
        let attempt = tokio::time::timeout(params.open_timeout, open_session(plan, state, &params));
        match attempt.await {
            Ok(Ok(up)) => break up,
            Ok(Err(_)) | Err(_) => {
                state.attempts.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(params.retry).await;
            }
        }
    };
    let mut reader = reader;
    let every = Duration::from_secs(u64::from(hold / 3).max(1));
    tokio::spawn(writer(wr, rx, every));
    let mut seen = vec![0u64; params.universe.count.div_ceil(64) as usize];
    loop {
        let m = reader.next(local).await?;
        match m.get(18) {
            Some(2) => {
                state.updates.fetch_add(1, Ordering::Relaxed);
                let scan = scan_update(&m[19..], plan, &params.universe, &mut seen)
                    .map_err(|what| SimError::Malformed { local, what })?;
                if scan.end_of_rib {
                    state.eor_ns.store(params.clock.now_ns(), Ordering::Release);
                }
                if scan.reflected > 0 {
                    state.reflected.fetch_add(scan.reflected, Ordering::Relaxed);
                }
                if scan.added != 0 || scan.removed != 0 {
                    let held = state.held.load(Ordering::Relaxed) + scan.added - scan.removed;
                    state.held.store(held, Ordering::Release);
                    state
                        .last_change_ns
                        .store(params.clock.now_ns(), Ordering::Release);
                }
            }
            Some(3) => {
                return Err(SimError::Notification {
                    local,
                    data: m[19..].to_vec(),
                })
            }
            _ => {}
        }
    }
}

/// One connection attempt up to Established: the reader, the writer and the negotiated hold
/// time.
async fn open_session(
    plan: &PeerPlan,
    state: &PeerState,
    params: &SimParams,
) -> Result<(Reader, OwnedWriteHalf, u16), SimError> {
    let local = plan.local;
    let io = |source| SimError::Io { local, source };
    let sock = TcpSocket::new_v4().map_err(io)?;
    sock.bind(SocketAddr::new(local.into(), 0)).map_err(io)?;
    let stream = sock
        .connect(SocketAddr::new(params.remote.into(), 179))
        .await
        .map_err(io)?;
    stream.set_nodelay(true).map_err(io)?;
    let (rd, mut wr) = stream.into_split();
    wr.write_all(
        &crate::wire::open(params.asn, params.hold_time, plan.local, true)
            .map_err(|e| SimError::Encode(e.to_string()))?,
    )
    .await
    .map_err(io)?;
    let mut reader = Reader {
        rd,
        buf: Vec::with_capacity(8192),
        start: 0,
    };
    // RFC 4271 §8.2.2: OpenSent -> (OPEN) OpenConfirm -> (KEEPALIVE) Established.
    let mut hold: Option<u16> = None;
    loop {
        let m = reader.next(local).await?;
        match (m.get(18), hold) {
            (Some(1), _) => {
                // OPEN: version(1) AS(2) hold time(2).
                let theirs = m
                    .get(22..24)
                    .map_or(0, |h| u16::from_be_bytes([h[0], h[1]]));
                hold = Some(theirs.min(params.hold_time));
                wr.write_all(&crate::wire::frame(crate::wire::KEEPALIVE, &[]))
                    .await
                    .map_err(io)?;
            }
            (Some(4), Some(h)) => {
                state
                    .established_ns
                    .store(params.clock.now_ns(), Ordering::Release);
                return Ok((reader, wr, h));
            }
            (Some(3), _) => {
                return Err(SimError::Notification {
                    local,
                    data: m[19..].to_vec(),
                })
            }
            _ => {}
        }
    }
}

async fn writer(mut wr: OwnedWriteHalf, mut rx: mpsc::Receiver<Bytes>, every: Duration) {
    let ka = crate::wire::frame(crate::wire::KEEPALIVE, &[]);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        let r = tokio::select! {
            m = rx.recv() => match m {
                Some(b) => wr.write_all(&b).await,
                None => return,
            },
            _ = tick.tick() => wr.write_all(&ka).await,
        };
        if r.is_err() {
            return;
        }
    }
}

/// Whole BGP messages from a stream, through one growing buffer.
struct Reader {
    rd: OwnedReadHalf,
    buf: Vec<u8>,
    start: usize,
}

impl Reader {
    async fn next(&mut self, local: Ipv4Addr) -> Result<Vec<u8>, SimError> {
        loop {
            let avail = &self.buf[self.start..];
            if avail.len() >= 19 {
                let len = usize::from(u16::from_be_bytes([avail[16], avail[17]]));
                if len < 19 {
                    return Err(SimError::Malformed {
                        local,
                        what: format!("message length {len}"),
                    });
                }
                if avail.len() >= len {
                    let m = avail[..len].to_vec();
                    self.start += len;
                    return Ok(m);
                }
            }
            if self.start > 0 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            if self.buf.capacity() - self.buf.len() < 4096 {
                self.buf.reserve(8192);
            }
            let n = self
                .rd
                .read_buf(&mut self.buf)
                .await
                .map_err(|source| SimError::Io { local, source })?;
            if n == 0 {
                return Err(SimError::Io {
                    local,
                    source: std::io::ErrorKind::UnexpectedEof.into(),
                });
            }
        }
    }
}

/// What one UPDATE changed for one peer.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// Blocks newly announced to the peer (not its own).
    pub added: u32,
    /// Blocks withdrawn that it held.
    pub removed: u32,
    /// Announcements of its own blocks or with ORIGINATOR_ID = its address.
    pub reflected: u64,
    /// The UPDATE is the IPv4 unicast End-of-RIB (RFC 4724 §2: no withdrawn routes, no
    /// attributes, no NLRI).
    pub end_of_rib: bool,
}

/// Scans an UPDATE body (after the 19-octet header) in place: IPv4 unicast withdrawn routes
/// and NLRI (classic fields; the daemons benchmarked send IPv4 that way to these peers) against
/// `seen`, a bitset over `universe`; prefixes outside the universe are ignored.
pub fn scan_update(
    body: &[u8],
    plan: &PeerPlan,
    universe: &Universe,
    seen: &mut [u64],
) -> Result<Scan, String> {
    let u16_at = |at: usize| {
        body.get(at..at + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or_else(|| format!("truncated UPDATE at {at}"))
    };
    let wlen = u16_at(0)?;
    let withdrawn = body.get(2..2 + wlen).ok_or("withdrawn overruns")?;
    let alen = u16_at(2 + wlen)?;
    let attrs = body
        .get(4 + wlen..4 + wlen + alen)
        .ok_or("attributes overrun")?;
    let nlri = &body[4 + wlen + alen..];
    let mut scan = Scan {
        end_of_rib: body.len() == 4,
        ..Scan::default()
    };
    for e in NlriIter::new(withdrawn, Family::Ipv4Unicast, false) {
        let e = e.map_err(|e| format!("withdrawn: {e:?}"))?;
        if let Some(i) = universe.index(&e.prefix) {
            let (w, bit) = (i as usize / 64, 1u64 << (i % 64));
            if seen[w] & bit != 0 {
                seen[w] &= !bit;
                scan.removed += 1;
            }
        }
    }
    if nlri.is_empty() {
        return Ok(scan);
    }
    let from_me = originator(attrs)? == Some(plan.local);
    for e in NlriIter::new(nlri, Family::Ipv4Unicast, false) {
        let e = e.map_err(|e| format!("NLRI: {e:?}"))?;
        let Some(i) = universe.index(&e.prefix) else {
            continue;
        };
        if from_me || plan.is_own(i) {
            scan.reflected += 1;
            continue;
        }
        let (w, bit) = (i as usize / 64, 1u64 << (i % 64));
        if seen[w] & bit == 0 {
            seen[w] |= bit;
            scan.added += 1;
        }
    }
    Ok(scan)
}

/// ORIGINATOR_ID (RFC 4456 §8) among the path attributes, if present.
fn originator(mut attrs: &[u8]) -> Result<Option<Ipv4Addr>, String> {
    use bgp_proto::attribute::flags::EXTENDED_LENGTH;
    while !attrs.is_empty() {
        let (flags, code) = match attrs {
            [f, c, ..] => (*f, *c),
            _ => return Err("attribute header truncated".into()),
        };
        let (len, hdr) = if flags & EXTENDED_LENGTH != 0 {
            match attrs.get(2..4) {
                Some(l) => (usize::from(u16::from_be_bytes([l[0], l[1]])), 4),
                None => return Err("attribute length truncated".into()),
            }
        } else {
            match attrs.get(2) {
                Some(l) => (usize::from(*l), 3),
                None => return Err("attribute length truncated".into()),
            }
        };
        let value = attrs
            .get(hdr..hdr + len)
            .ok_or("attribute value overruns")?;
        if code == type_code::ORIGINATOR_ID {
            return match value {
                [a, b, c, d] => Ok(Some(Ipv4Addr::new(*a, *b, *c, *d))),
                _ => Err("ORIGINATOR_ID length".into()),
            };
        }
        attrs = &attrs[hdr + len..];
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loadgen::{context, encode_announce};
    use bgp_proto::attribute::{AsPath, Origin};
    use bgp_proto::builder::{end_of_rib, withdraw_into};
    use bgp_proto::{Announce, EncodedAttributes, NlriEntry, PathAttributes};
    use bytes::BytesMut;

    const U: Universe = Universe {
        base: Ipv4Addr::new(10, 64, 0, 0),
        count: 1000,
    };

    fn plan() -> PeerPlan {
        PeerPlan {
            local: Ipv4Addr::new(10, 99, 16, 2),
            own: 0..10,
            extra: Some(999),
        }
    }

    /// Splits a buffer of whole messages and scans every UPDATE body.
    fn scan_all(buf: &[u8], seen: &mut [u64]) -> Scan {
        let mut total = Scan::default();
        let mut rest = buf;
        while !rest.is_empty() {
            let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
            let s = scan_update(&rest[19..len], &plan(), &U, seen).expect("scans");
            total.added += s.added;
            total.removed += s.removed;
            total.reflected += s.reflected;
            total.end_of_rib |= s.end_of_rib;
            rest = &rest[len..];
        }
        total
    }

    #[test]
    fn counts_other_blocks_and_flags_own_ones_as_reflected() {
        let mut seen = vec![0u64; 16];
        let nh = Ipv4Addr::new(10, 99, 16, 3);
        // Blocks 5..30: 5..10 are the peer's own, 20..30 repeat in a second UPDATE; one
        // prefix outside the universe is ignored.
        let mut buf = encode_announce((5..30).map(|i| U.block(i)), nh, &[], true).expect("enc");
        buf.extend_from_slice(
            &encode_announce((20..30).map(|i| U.block(i)), nh, &[], true).expect("enc"),
        );
        buf.extend_from_slice(
            &encode_announce(["32.0.0.0/26".parse().expect("net")], nh, &[], true).expect("enc"),
        );
        let s = scan_all(&buf, &mut seen);
        assert_eq!(
            (s.added, s.removed, s.reflected, s.end_of_rib),
            (20, 0, 5, false)
        );
        let ctx = context();
        let mut wd = BytesMut::new();
        withdraw_into(
            &ctx,
            bgp_proto::Withdraw::Ipv4Classic,
            (10..12)
                .chain(500..501)
                .map(|i| NlriEntry::new(IpNet::V4(U.block(i)))),
            &mut wd,
        )
        .expect("withdraw");
        let s = scan_all(&wd, &mut seen);
        assert_eq!((s.added, s.removed), (0, 2));
        let s = scan_all(&end_of_rib(Family::Ipv4Unicast), &mut seen);
        assert_eq!(
            s,
            Scan {
                end_of_rib: true,
                ..Scan::default()
            }
        );
    }

    #[test]
    fn originator_id_of_the_peer_marks_routes_reflected_back() {
        let ctx = context();
        let attrs = PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence([])),
            next_hop: Some(Ipv4Addr::new(10, 99, 0, 1)),
            local_pref: Some(100),
            originator_id: Some(plan().local),
            cluster_list: Some(vec![Ipv4Addr::new(10, 99, 0, 1)]),
            ..PathAttributes::default()
        };
        let enc = EncodedAttributes::new(&attrs, &ctx).expect("attrs");
        let mut buf = BytesMut::new();
        bgp_proto::builder::announce_into(
            &ctx,
            &enc,
            Announce::Ipv4Classic,
            (100..103).map(|i| NlriEntry::new(IpNet::V4(U.block(i)))),
            &mut buf,
        )
        .expect("announce");
        let mut seen = vec![0u64; 16];
        let s = scan_all(&buf, &mut seen);
        assert_eq!((s.added, s.reflected), (0, 3));
    }

    #[test]
    fn universe_indexes_only_its_26s() {
        assert_eq!(U.index(&IpNet::V4(U.block(7))), Some(7));
        assert_eq!(U.index(&"10.64.0.0/24".parse().expect("net")), None);
        assert_eq!(U.index(&IpNet::V4(U.block(1000))), None);
        assert_eq!(U.index(&"10.63.255.192/26".parse().expect("net")), None);
    }
}
