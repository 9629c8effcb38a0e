//! A connection's writer task, and how a closed connection ends: what was queued is written
//! (the NOTIFICATION last) and the peer's close awaited, both within [`FLUSH_TIMEOUT`]; a peer
//! that does not read by then gets the connection aborted. Found by fault injection: a peer
//! that stopped reading (SIGSTOP) kept our socket ESTABLISHED or in FIN-WAIT-1 with ~1 MB
//! queued after the session had gone Idle, for as long as its kernel answered zero-window
//! probes.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{debug, warn};

use super::{Event, FLUSH_TIMEOUT};
use crate::fsm::ConnId;
use crate::stats::PeerStats;

/// One connection's writer: writes what the session and the RIB queue. Once the session closed
/// the connection (`close` resolves), what is queued is still written, the NOTIFICATION last,
/// but all of it within [`FLUSH_TIMEOUT`]: a peer that stopped reading (zero window) gets the
/// connection aborted then, instead of holding the socket and its queued octets indefinitely.
pub(super) async fn write_loop(
    conn: ConnId,
    mut wr: OwnedWriteHalf,
    mut queue: mpsc::Receiver<Bytes>,
    close: oneshot::Receiver<()>,
    events: mpsc::Sender<Event>,
    stats: Arc<PeerStats>,
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
            // Only what was queued before the close (the RIB may still hold a sender).
            Some(_) => match queue.try_recv() {
                Ok(d) => d,
                Err(_) => break,
            },
        };
        let data = coalesce(data, &mut queue);
        let written = {
            let mut write = std::pin::pin!(wr.write_all(&data));
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
            Some(Ok(())) => stats.record_sent(&data),
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
/// system call instead of one each: with 1,000 reflector clients that is about 1M writes of
/// ~90 octets fewer. Small enough that a thousand connections writing at once hold little.
const COALESCE: usize = 16 * 1024;

/// `first`, or `first` and what else is queued right now (up to [`COALESCE`] octets) as one
/// buffer, in queue order.
fn coalesce(first: Bytes, queue: &mut mpsc::Receiver<Bytes>) -> Bytes {
    if first.len() >= COALESCE {
        return first;
    }
    let Ok(next) = queue.try_recv() else {
        return first;
    };
    let mut buf = BytesMut::with_capacity(COALESCE + bgp_proto::MAX_MESSAGE_LEN);
    buf.extend_from_slice(&first);
    buf.extend_from_slice(&next);
    while buf.len() < COALESCE {
        match queue.try_recv() {
            Ok(d) => buf.extend_from_slice(&d),
            Err(_) => break,
        }
    }
    buf.freeze()
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

    fn msg(tag: u8, len: usize) -> Bytes {
        Bytes::from(vec![tag; len])
    }

    #[tokio::test]
    async fn coalesces_queued_messages_in_order_up_to_the_cap() {
        let (tx, mut rx) = mpsc::channel(64);
        // Alone in the queue: written as it is (no copy).
        let first = msg(1, 100);
        let out = coalesce(first.clone(), &mut rx);
        assert_eq!(out.as_ptr(), first.as_ptr());
        // Back to back: one buffer, in queue order, until the cap is passed.
        for tag in 2..=40u8 {
            tx.send(msg(tag, 1000)).await.expect("queued");
        }
        let out = coalesce(msg(1, 100), &mut rx);
        assert_eq!(out.len(), 100 + 17 * 1000);
        assert_eq!(out[0], 1);
        assert_eq!(out[100], 2);
        assert_eq!(out[out.len() - 1], 18);
        // The rest stays queued for the next write.
        assert_eq!(rx.try_recv().expect("left")[0], 19);
    }
}
