//! The accept loop: connections from configured neighbors go to their peer task; anyone else
//! gets a NOTIFICATION Cease / Connection Rejected (RFC 4486) and is closed.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bgp_proto::notification::{cease_subcode, code};
use bgp_proto::{Message, Notification, SessionContext};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::peer::PeerCommand;

/// How long we try to deliver the rejection NOTIFICATION to an unknown peer.
const REJECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Rejections in flight at most; beyond that, unknown connections are closed without a
/// NOTIFICATION (a flood of strangers must not grow the task count without bound).
const MAX_REJECTING: usize = 64;

static REJECTING: AtomicUsize = AtomicUsize::new(0);

/// Where accepted connections go: the command channel of each neighbor's task, by address and
/// then by interface (one link-local address can be a neighbor on several links).
pub type RouteMap = HashMap<IpAddr, Vec<(Option<String>, mpsc::Sender<PeerCommand>)>>;

/// [`RouteMap`], shared with the accept loops (replaced on reload).
pub type Routes = Arc<RwLock<RouteMap>>;

/// The route map of these neighbors and their tasks' command channels.
pub fn route_map<'a>(
    peers: impl IntoIterator<Item = (&'a conf::Neighbor, &'a mpsc::Sender<PeerCommand>)>,
) -> RouteMap {
    let mut map = RouteMap::new();
    for (n, tx) in peers {
        map.entry(n.address)
            .or_default()
            .push((n.interface.clone(), tx.clone()));
    }
    map
}

/// The neighbor an accepted connection is for: at a link-local address, the one on the link the
/// connection came in on (`remote_if`, from its scope); otherwise the one with that address.
fn pick<'a, T>(entries: &'a [(Option<String>, T)], remote_if: Option<&str>) -> Option<&'a T> {
    entries
        .iter()
        .find(|(i, _)| match (i.as_deref(), remote_if) {
            (Some(i), Some(r)) => i == r,
            _ => true,
        })
        .map(|(_, t)| t)
}

/// New routes for `routes` (after a reload added or removed neighbors).
pub fn replace_routes(routes: &Routes, map: RouteMap) {
    // A poisoned lock only means a panic elsewhere while holding it: the map is still whole.
    let mut g = routes.write().unwrap_or_else(|e| e.into_inner());
    *g = map;
}

/// Accepts connections on `listener` until the task is dropped.
pub async fn accept_loop(listener: Arc<TcpListener>, routes: Routes) {
    let local = listener.local_addr().ok();
    loop {
        let (stream, remote) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors and the like: wait a little instead of spinning.
                warn!(event = "accept_failed", listen = ?local, error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        dispatch(stream, remote, &routes);
    }
}

fn dispatch(stream: TcpStream, remote: SocketAddr, routes: &Routes) {
    let ip = remote.ip().to_canonical();
    let remote_if = conf::model::is_link_local(ip)
        .then(|| crate::link::remote_interface(&remote))
        .flatten();
    let tx = routes
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(&ip)
        .and_then(|entries| pick(entries, remote_if.as_deref()))
        .cloned();
    match tx {
        Some(tx) => match tx.try_send(PeerCommand::Incoming(stream)) {
            Ok(()) => {}
            // On full: the peer task is behind; drop the connection, the peer will retry.
            Err(mpsc::error::TrySendError::Full(_)) => {
                warn!(event = "incoming_dropped", peer = %ip, "peer task busy, connection dropped");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        },
        None => {
            info!(event = "rejected", peer = %remote, "connection from unconfigured address rejected");
            if REJECTING.fetch_add(1, Ordering::Relaxed) < MAX_REJECTING {
                tokio::spawn(async move {
                    reject(stream).await;
                    REJECTING.fetch_sub(1, Ordering::Relaxed);
                });
            } else {
                REJECTING.fetch_sub(1, Ordering::Relaxed);
                drop(stream);
            }
        }
    }
}

/// Sends Cease / Connection Rejected and closes.
async fn reject(mut stream: TcpStream) {
    let n = Notification::new(code::CEASE, cease_subcode::CONNECTION_REJECTED, Vec::new());
    let Ok(bytes) = Message::Notification(n).to_bytes(&SessionContext::default()) else {
        return;
    };
    let _ = tokio::time::timeout(REJECT_TIMEOUT, async {
        let _ = stream.write_all(&bytes).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::pick;

    #[test]
    fn one_link_local_address_on_two_links_goes_to_the_neighbor_of_its_link() {
        let entries = [(Some("eth1".to_string()), 1), (Some("eth2".to_string()), 2)];
        assert_eq!(pick(&entries, Some("eth2")), Some(&2));
        assert_eq!(pick(&entries, Some("eth1")), Some(&1));
        assert_eq!(
            pick(&entries, Some("eth3")),
            None,
            "not a neighbor on that link"
        );
        // A global address: the neighbor, bound to a device or not.
        assert_eq!(pick(&[(Some("eth1".to_string()), 7)], None), Some(&7));
        assert_eq!(pick(&[(None, 8)], None), Some(&8));
    }
}
