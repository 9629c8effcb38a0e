//! A connection's writer task, and how a closed connection ends: what was queued is written
//! (the NOTIFICATION last) and the peer's close awaited, both within [`FLUSH_TIMEOUT`]; a peer
//! that does not read by then gets the connection aborted. Found by fault injection: a peer
//! that stopped reading (SIGSTOP) kept our socket ESTABLISHED or in FIN-WAIT-1 with ~1 MB
//! queued after the session had gone Idle, for as long as its kernel answered zero-window
//! probes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::time::Instant;
use tracing::{debug, warn};

use super::{Event, FLUSH_TIMEOUT};
use crate::fsm::ConnId;
use crate::rib_actor::Outgoing;
use crate::stats::PeerStats;

/// What the peer task and a connection's writer share: the octets queued and not written yet
/// (the peer task forwards the RIB's UPDATEs only while they stay under
/// [`super::WRITE_BUDGET`]), and a wake-up each time some are written.
#[derive(Debug, Default)]
pub(super) struct Backlog {
    queued: AtomicUsize,
    written: Notify,
}

impl Backlog {
    /// Octets queued, not written yet.
    pub(super) fn octets(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    pub(super) fn queued(&self, n: usize) {
        self.queued.fetch_add(n, Ordering::Relaxed);
    }

    /// `n` octets left the queue (written, or never queued).
    pub(super) fn done(&self, n: usize) {
        self.queued.fetch_sub(n, Ordering::Relaxed);
        self.written.notify_one();
    }

    /// Resolves once octets were written since the last call.
    pub(super) async fn written(&self) {
        self.written.notified().await
    }
}

/// One connection's writer: writes what the session and the RIB queue. Once the session closed
/// the connection (`close` resolves), what is queued is still written, the NOTIFICATION last,
/// but all of it within [`FLUSH_TIMEOUT`]: a peer that stopped reading (zero window) gets the
/// connection aborted then, instead of holding the socket and its queued octets indefinitely.
pub(super) async fn write_loop(
    conn: ConnId,
    mut wr: OwnedWriteHalf,
    mut queue: mpsc::Receiver<Outgoing>,
    close: oneshot::Receiver<()>,
    events: mpsc::Sender<Event>,
    stats: Arc<PeerStats>,
    backlog: Arc<Backlog>,
) {
    let mut close = std::pin::pin!(close);
    // Set when the session closed the connection: the end of the flush.
    let mut deadline: Option<Instant> = None;
    loop {
        let data = match deadline {
            None => tokio::select! {
                biased;
                _ = &mut close => {
                    deadline = Some(Instant::now() + FLUSH_TIMEOUT);
                    continue;
                }
                d = queue.recv() => match d {
                    Some(d) => d,
                    None => break,
                },
            },
            // Only what was queued before the close.
            Some(_) => match queue.try_recv() {
                Ok(d) => d,
                Err(_) => break,
            },
        };
        let mut data = gather(data, &mut queue);
        let octets = data.remaining;
        let sent: Vec<Bytes> = data.parts.iter().cloned().collect();
        let written = {
            let mut write = std::pin::pin!(wr.write_all_buf(&mut data));
            loop {
                match deadline {
                    None => tokio::select! {
                        r = &mut write => break Some(r),
                        _ = &mut close => deadline = Some(Instant::now() + FLUSH_TIMEOUT),
                    },
                    Some(d) => break tokio::time::timeout_at(d, &mut write).await.ok(),
                }
            }
        };
        match written {
            Some(Ok(())) => {
                sent.iter().for_each(|m| stats.record_sent(m));
                backlog.done(octets);
            }
            Some(Err(e)) => {
                debug!(conn = %conn, error = %e, "write failed");
                let _ = events.send(Event::Closed { conn }).await;
                return;
            }
            None => {
                abort(conn, &wr);
                return;
            }
        }
    }
    // Everything queued is in the kernel: a normal close (FIN), then the peer's close, which
    // says it took all of it. Octets it never reads would otherwise stay queued in the kernel
    // (zero-window probes) long after the session ended: bounded by the same deadline.
    let end = deadline.unwrap_or_else(|| Instant::now() + FLUSH_TIMEOUT);
    let closed = async {
        wr.shutdown().await?;
        peer_closed(wr.as_ref()).await
    };
    if !matches!(tokio::time::timeout_at(end, closed).await, Ok(Ok(()))) {
        abort(conn, &wr);
    }
}

/// Waits for the peer's FIN (or reset) on a connection whose reader is gone, discarding what
/// it still sends.
/// Most octets gathered from the queue into one write. Messages queued back to back (a
/// reflector's UPDATEs to one client: one per originator and attribute set) go out in one
/// vectored system call instead of one each: with 1,000 reflector clients that is about 1M
/// writes of ~90 octets fewer. The messages are not copied (they stay shared with the other
/// members of the update group).
const GATHER: usize = 16 * 1024;

/// Messages written by one vectored write, in queue order.
struct Gathered {
    parts: std::collections::VecDeque<Bytes>,
    remaining: usize,
}

impl bytes::Buf for Gathered {
    fn remaining(&self) -> usize {
        self.remaining
    }

    fn chunk(&self) -> &[u8] {
        self.parts.front().map_or(&[], |b| &b[..])
    }

    fn advance(&mut self, mut cnt: usize) {
        self.remaining -= cnt.min(self.remaining);
        while cnt > 0 {
            let Some(front) = self.parts.front_mut() else {
                return;
            };
            if cnt < front.len() {
                front.advance(cnt);
                return;
            }
            cnt -= front.len();
            self.parts.pop_front();
        }
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [std::io::IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (slot, part) in dst.iter_mut().zip(&self.parts) {
            *slot = std::io::IoSlice::new(part);
            n += 1;
        }
        n
    }
}

/// The next pass in the outbox (never, without one).
pub(super) async fn next_outgoing(
    o: Option<&mut (ConnId, mpsc::Receiver<Outgoing>)>,
) -> Option<Outgoing> {
    match o {
        Some((_, rx)) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Resolves when the writer wrote something (never, without a backlog to watch).
pub(super) async fn written(b: Option<&Backlog>) {
    match b {
        Some(b) => b.written().await,
        None => std::future::pending().await,
    }
}

/// `first` and what else is queued right now, up to [`GATHER`] octets, in queue order.
fn gather(first: Outgoing, queue: &mut mpsc::Receiver<Outgoing>) -> Gathered {
    let mut g = Gathered {
        remaining: first.len(),
        parts: first.0.into(),
    };
    while g.remaining < GATHER {
        match queue.try_recv() {
            Ok(d) => {
                g.remaining += d.len();
                g.parts.extend(d.0);
            }
            Err(_) => break,
        }
    }
    g
}

async fn peer_closed(s: &TcpStream) -> std::io::Result<()> {
    let mut buf = [0u8; 4096];
    loop {
        s.readable().await?;
        match s.try_read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            // A reset: closed as well.
            Err(_) => return Ok(()),
        }
    }
}

/// Drops the connection at once: with `SO_LINGER` 0 the close sends RST and discards the
/// octets the peer never took (a plain close would leave them to the kernel's zero-window
/// probes for minutes).
fn abort(conn: ConnId, wr: &OwnedWriteHalf) {
    warn!(
        event = "tcp_abort",
        conn = %conn,
        flush_s = FLUSH_TIMEOUT.as_secs(),
        "peer not reading: queued data not flushed in time, connection aborted"
    );
    if let Err(e) = wr.as_ref().set_zero_linger() {
        debug!(conn = %conn, error = %e, "SO_LINGER not set");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Buf;
    use tokio::io::AsyncWriteExt;

    fn msg(tag: u8, len: usize) -> Outgoing {
        Bytes::from(vec![tag; len]).into()
    }

    fn flat(mut g: Gathered) -> Vec<u8> {
        let mut v = Vec::new();
        while g.has_remaining() {
            let c = g.chunk().len().min(700);
            v.extend_from_slice(&g.chunk()[..c]);
            g.advance(c);
        }
        v
    }

    #[tokio::test]
    async fn gathers_queued_messages_in_order_up_to_the_limit() {
        let (tx, mut rx) = mpsc::channel(64);
        let g = gather(msg(1, 100), &mut rx);
        assert_eq!((g.parts.len(), g.remaining()), (1, 100));
        for tag in 2..=40u8 {
            tx.send(msg(tag, 1000)).await.expect("queued");
        }
        let g = gather(msg(1, 100), &mut rx);
        // 100 + 17 x 1000 passes 16 KiB: 18 messages in one write.
        assert_eq!(g.remaining(), 100 + 17 * 1000);
        let mut slices = [std::io::IoSlice::new(&[]); 64];
        assert_eq!(g.chunks_vectored(&mut slices), 18);
        let bytes = flat(g);
        assert_eq!(bytes.len(), 17_100);
        assert_eq!((bytes[0], bytes[100], bytes[17_099]), (1, 2, 18));
        assert_eq!(rx.try_recv().expect("left").0[0][0], 19);
    }

    #[tokio::test]
    async fn a_partial_write_resumes_inside_a_message() {
        let (tx, mut rx) = mpsc::channel(8);
        tx.send(msg(2, 10)).await.expect("queued");
        let mut g = gather(msg(1, 10), &mut rx);
        g.advance(15);
        assert_eq!(g.remaining(), 5);
        assert_eq!(g.chunk(), &[2u8; 5][..]);
        let mut out = Vec::new();
        out.write_all_buf(&mut g).await.expect("written");
        assert_eq!(out, vec![2u8; 5]);
    }
}
