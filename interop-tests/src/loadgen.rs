//! A small BGP load generator on tokio for benchmarks: many sessions from chosen source
//! addresses, pre-encoded UPDATEs, and per-session counts of the IPv4 prefixes received.
//!
//! Sockets are created in the network namespace of the calling process, so a benchmark runs
//! the generator as a child process inside the client namespace (see `bin/route_bench.rs`).
//!
//! A [`Session`] is active only: it binds `local`, connects to `remote:179`, sends OPEN
//! (IPv4 unicast, 4-octet AS, graceful restart with no families so FRR sends End-of-RIB),
//! answers the peer's OPEN with a KEEPALIVE and is Established once the peer's KEEPALIVE comes
//! (RFC 4271 §8.2.2). A reader task then decodes every message with `bgp_proto` and keeps the
//! set of prefixes the peer currently announces (minus an `ignore` set, e.g. the session's
//! own prefixes reflected back); a keepalive task sends a KEEPALIVE every hold/3 seconds.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bgp_proto::attribute::{AsPath, Origin};
use bgp_proto::builder::announce_into;
use bgp_proto::{
    Announce, Asn, EncodedAttributes, Message, NlriEntry, PathAttributes, SessionContext,
};
use bytes::BytesMut;
use ipnet::{IpNet, Ipv4Net};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpSocket;
use tokio::sync::Mutex as AsyncMutex;
use tokio::task::JoinHandle;

/// Why a load generator session failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadgenError {
    #[error("{local} -> {remote}: {source}")]
    Io {
        local: Ipv4Addr,
        remote: Ipv4Addr,
        source: std::io::Error,
    },
    #[error("{local} -> {remote}: no session within {timeout:?}")]
    Timeout {
        local: Ipv4Addr,
        remote: Ipv4Addr,
        timeout: Duration,
    },
    #[error("{local} -> {remote}: NOTIFICATION from the peer: {text}")]
    Notification {
        local: Ipv4Addr,
        remote: Ipv4Addr,
        text: String,
    },
    #[error("{local} -> {remote}: cannot decode a message: {text}")]
    Decode {
        local: Ipv4Addr,
        remote: Ipv4Addr,
        text: String,
    },
    #[error("cannot encode: {0}")]
    Encode(String),
}

/// One session's addresses and parameters.
#[derive(Debug, Clone)]
pub struct PeerSpec {
    pub local: Ipv4Addr,
    pub remote: Ipv4Addr,
    pub local_as: u32,
    pub remote_as: u32,
    pub hold_time: u16,
}

/// What a session's reader has seen, shared with the benchmark.
#[derive(Debug, Default)]
pub struct RxStats {
    held: AtomicUsize,
    updates: AtomicU64,
    last_change: Mutex<Option<Instant>>,
    error: Mutex<Option<String>>,
}

impl RxStats {
    /// Prefixes the peer currently announces to us (not counting the ignore set).
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }

    /// UPDATE messages received.
    pub fn updates(&self) -> u64 {
        self.updates.load(Ordering::Relaxed)
    }

    /// When `held` last changed.
    pub fn last_change(&self) -> Option<Instant> {
        self.last_change.lock().map(|g| *g).unwrap_or(None)
    }

    /// Why the reader stopped, if it did.
    pub fn error(&self) -> Option<String> {
        self.error.lock().ok().and_then(|g| g.clone())
    }
}

/// An Established session; dropping it stops its tasks and closes the connection.
#[derive(Debug)]
pub struct Session {
    pub spec: PeerSpec,
    writer: Arc<AsyncMutex<OwnedWriteHalf>>,
    /// True: the reader stops reading (the peer's receive window closes).
    paused: tokio::sync::watch::Sender<bool>,
    stats: Arc<RxStats>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Session {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// The context both sides use: every daemon benchmarked supports 4-octet AS (RFC 6793); no
/// ADD-PATH, no extended messages.
pub fn context() -> SessionContext {
    SessionContext {
        four_octet_as: true,
        ..SessionContext::default()
    }
}

/// Reads one whole message (header included) from the stream.
async fn read_frame(r: &mut BufReader<OwnedReadHalf>) -> std::io::Result<Vec<u8>> {
    let mut h = [0u8; 19];
    r.read_exact(&mut h).await?;
    let len = usize::from(u16::from_be_bytes([h[16], h[17]]));
    if len < 19 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("message length {len}"),
        ));
    }
    let mut m = Vec::with_capacity(len);
    m.extend_from_slice(&h);
    m.resize(len, 0);
    r.read_exact(&mut m[19..]).await?;
    Ok(m)
}

impl Session {
    /// Connects (retrying every 100 ms until `timeout`) and waits for Established. Prefixes in
    /// `ignore` are never counted as received.
    pub async fn connect(
        spec: PeerSpec,
        ignore: HashSet<Ipv4Net>,
        timeout: Duration,
    ) -> Result<Session, LoadgenError> {
        Self::connect_with(spec, ignore, timeout, None).await
    }

    /// [`Session::connect`] with the socket's receive buffer set to `recv_buffer` octets (a
    /// small one makes a reader that stops reading close its window quickly).
    pub async fn connect_with(
        spec: PeerSpec,
        ignore: HashSet<Ipv4Net>,
        timeout: Duration,
        recv_buffer: Option<u32>,
    ) -> Result<Session, LoadgenError> {
        let deadline = Instant::now() + timeout;
        let (l, r) = (spec.local, spec.remote);
        let io = |source| LoadgenError::Io {
            local: l,
            remote: r,
            source,
        };
        let stream = loop {
            let sock = TcpSocket::new_v4().map_err(io)?;
            if let Some(n) = recv_buffer {
                sock.set_recv_buffer_size(n).map_err(io)?;
            }
            sock.bind(SocketAddr::new(l.into(), 0)).map_err(io)?;
            match sock.connect(SocketAddr::new(r.into(), 179)).await {
                Ok(s) => break s,
                Err(e) if Instant::now() >= deadline => return Err(io(e)),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        stream.set_nodelay(true).map_err(io)?;
        let (rd, mut wr) = stream.into_split();
        let mut rd = BufReader::with_capacity(1 << 16, rd);
        let open = crate::wire::open(spec.local_as, spec.hold_time, spec.local, true)
            .map_err(|e| LoadgenError::Encode(e.to_string()))?;
        wr.write_all(&open).await.map_err(io)?;
        let ctx = context();
        let handshake = async {
            let mut got_open = false;
            loop {
                let m = read_frame(&mut rd).await.map_err(io)?;
                match m[18] {
                    1 => {
                        got_open = true;
                        wr.write_all(&crate::wire::frame(crate::wire::KEEPALIVE, &[]))
                            .await
                            .map_err(io)?;
                    }
                    4 if got_open => return Ok(()),
                    3 => {
                        return Err(LoadgenError::Notification {
                            local: l,
                            remote: r,
                            text: format!("{:02x?}", &m[19..]),
                        })
                    }
                    _ => {}
                }
            }
        };
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::timeout(left, handshake)
            .await
            .map_err(|_| LoadgenError::Timeout {
                local: l,
                remote: r,
                timeout,
            })??;
        let stats = Arc::new(RxStats::default());
        let writer = Arc::new(AsyncMutex::new(wr));
        let (paused, paused_rx) = tokio::sync::watch::channel(false);
        let reader = tokio::spawn(read_loop(
            rd,
            ctx,
            ignore,
            Arc::clone(&stats),
            (l, r),
            paused_rx,
        ));
        let ka_writer = Arc::clone(&writer);
        let every = Duration::from_secs(u64::from(spec.hold_time.max(3) / 3));
        let keepalive = tokio::spawn(async move {
            let ka = crate::wire::frame(crate::wire::KEEPALIVE, &[]);
            loop {
                tokio::time::sleep(every).await;
                if ka_writer.lock().await.write_all(&ka).await.is_err() {
                    return;
                }
            }
        });
        Ok(Session {
            spec,
            writer,
            paused,
            stats,
            tasks: vec![reader, keepalive],
        })
    }

    /// Writes pre-encoded messages.
    pub async fn send(&self, bytes: &[u8]) -> Result<(), LoadgenError> {
        let mut w = self.writer.lock().await;
        w.write_all(bytes).await.map_err(|source| LoadgenError::Io {
            local: self.spec.local,
            remote: self.spec.remote,
            source,
        })
    }

    /// Stop reading (`true`: the peer sees our receive window close, as with a stopped
    /// process; KEEPALIVEs still go out) or start again.
    pub fn pause_reading(&self, paused: bool) {
        self.paused.send_replace(paused);
    }

    /// The reader's counters.
    pub fn stats(&self) -> &Arc<RxStats> {
        &self.stats
    }
}

async fn read_loop(
    mut rd: BufReader<OwnedReadHalf>,
    ctx: SessionContext,
    ignore: HashSet<Ipv4Net>,
    stats: Arc<RxStats>,
    (local, remote): (Ipv4Addr, Ipv4Addr),
    mut paused: tokio::sync::watch::Receiver<bool>,
) {
    let mut held: HashSet<Ipv4Net> = HashSet::new();
    let fail = |text: String| {
        if let Ok(mut g) = stats.error.lock() {
            *g = Some(text);
        }
    };
    loop {
        while *paused.borrow_and_update() {
            if paused.changed().await.is_err() {
                return;
            }
        }
        let m = match read_frame(&mut rd).await {
            Ok(m) => m,
            Err(e) => {
                return fail(
                    LoadgenError::Io {
                        local,
                        remote,
                        source: e,
                    }
                    .to_string(),
                )
            }
        };
        match Message::decode(&m, &ctx) {
            Ok(Message::Update(u)) => {
                stats.updates.fetch_add(1, Ordering::Relaxed);
                let before = held.len();
                let v4 = |e: &NlriEntry| match e.prefix {
                    IpNet::V4(p) => Some(p),
                    IpNet::V6(_) => None,
                };
                let unreach = u.mp_unreach.iter().flat_map(|m| m.withdrawn.iter());
                for p in u.withdrawn.iter().chain(unreach).filter_map(v4) {
                    held.remove(&p);
                }
                let reach = u.mp_reach.iter().flat_map(|m| m.nlri.iter());
                for p in u.nlri.iter().chain(reach).filter_map(v4) {
                    if !ignore.contains(&p) {
                        held.insert(p);
                    }
                }
                if held.len() != before {
                    stats.held.store(held.len(), Ordering::Release);
                    if let Ok(mut g) = stats.last_change.lock() {
                        *g = Some(Instant::now());
                    }
                }
            }
            Ok(Message::Notification(n)) => {
                return fail(
                    LoadgenError::Notification {
                        local,
                        remote,
                        text: format!("{n:?}"),
                    }
                    .to_string(),
                )
            }
            Ok(_) => {}
            Err(e) => {
                return fail(
                    LoadgenError::Decode {
                        local,
                        remote,
                        text: e.to_string(),
                    }
                    .to_string(),
                )
            }
        }
    }
}

/// UPDATEs announcing `prefixes` with one attribute set (ORIGIN IGP, NEXT_HOP `next_hop`,
/// AS_PATH `as_path`, LOCAL_PREF 100 when `ibgp`), packed up to 4096 octets each.
pub fn encode_announce(
    prefixes: impl IntoIterator<Item = Ipv4Net>,
    next_hop: Ipv4Addr,
    as_path: &[u32],
    ibgp: bool,
) -> Result<BytesMut, LoadgenError> {
    let ctx = context();
    let attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(as_path.iter().map(|a| Asn(*a)))),
        next_hop: Some(next_hop),
        // RFC 4271 §5.1.5: LOCAL_PREF in every UPDATE to an internal peer.
        local_pref: ibgp.then_some(100),
        ..PathAttributes::default()
    };
    let enc =
        EncodedAttributes::new(&attrs, &ctx).map_err(|e| LoadgenError::Encode(e.to_string()))?;
    let mut out = BytesMut::new();
    let entries = prefixes.into_iter().map(|p| NlriEntry::new(IpNet::V4(p)));
    announce_into(&ctx, &enc, Announce::Ipv4Classic, entries, &mut out)
        .map_err(|e| LoadgenError::Encode(e.to_string()))?;
    Ok(out)
}

/// The `i`-th /26 counted from `base`.
pub fn slash26(base: Ipv4Addr, i: u32) -> Ipv4Net {
    let a = u32::from(base).wrapping_add(i << 6);
    Ipv4Net::new(Ipv4Addr::from(a), 26).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announce_round_trips_through_the_decoder() {
        let ps: Vec<Ipv4Net> = (0..2000)
            .map(|i| slash26(Ipv4Addr::new(32, 0, 0, 0), i))
            .collect();
        let buf = encode_announce(ps.clone(), Ipv4Addr::new(10, 99, 0, 2), &[64513], false)
            .expect("encodes");
        let ctx = context();
        let mut got = Vec::new();
        let mut rest = &buf[..];
        while !rest.is_empty() {
            let len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
            assert!(len <= 4096);
            match Message::decode(&rest[..len], &ctx).expect("decodes") {
                Message::Update(u) => got.extend(u.nlri.iter().map(|e| e.prefix)),
                m => panic!("not an UPDATE: {m:?}"),
            }
            rest = &rest[len..];
        }
        let want: Vec<IpNet> = ps.into_iter().map(IpNet::V4).collect();
        assert_eq!(got, want);
        assert_eq!(
            slash26(Ipv4Addr::new(32, 0, 0, 0), 5).to_string(),
            "32.0.1.64/26"
        );
    }
}
