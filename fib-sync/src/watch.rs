//! The node's interfaces and addresses, published once for the whole daemon: a task owns a
//! netlink socket subscribed to link and address notifications, keeps one [`Interfaces`]
//! table up to date, and publishes a new snapshot (an `Arc`, cheap to hold) on a tokio `watch`
//! channel after each burst of changes. Readers (the RIB's next-hop reachability, the kernel
//! path's connected subnets, the control socket's `show interfaces` and `direct1`, the
//! sessions' next-hop checks) borrow the latest snapshot or wait for the next one; none of
//! them makes a system call. Reading links and addresses needs no privilege, so the table is
//! there with kernel writes off too.

use std::sync::Arc;

use netlink_packet_core::NetlinkPayload;
use netlink_packet_route::address::AddressMessage;
use netlink_packet_route::link::LinkMessage;
use netlink_packet_route::route::{RouteAttribute, RouteMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{debug, warn};

use crate::error::FibError;
use crate::interfaces::{Interfaces, MAIN_TABLE};
use crate::socket::{frames, RtSocket};

/// What readers hold: the table as it was at the last change.
pub type InterfaceTable = Arc<Interfaces>;
/// A reader's handle: `borrow()` for the current table, `changed()` to wait for the next.
pub type InterfaceReceiver = watch::Receiver<InterfaceTable>;

/// Receive buffer of the notification socket (a burst of address changes on a busy node, e.g.
/// hundreds of veths created at once, fits; an overrun re-reads the whole table).
const EVENT_BUFFER: usize = 1 << 20;

/// The publisher. Dropping it stops the task; receivers keep the last table.
///
/// Two kinds of reader: [`InterfaceWatch::subscribe`] wakes on link and address changes only
/// (sessions, the kernel path, the control socket: a pod's route coming and going does not
/// wake a thousand sessions), [`InterfaceWatch::subscribe_with_routes`] also on changes of the
/// followed kernel routes (the RIB's next-hop resolution). Either way the snapshot is the whole
/// table as it was when published.
#[derive(Debug)]
pub struct InterfaceWatch {
    rx: InterfaceReceiver,
    rx_routes: InterfaceReceiver,
    task: Option<JoinHandle<()>>,
}

impl InterfaceWatch {
    /// Reads the links and addresses of the calling thread's network namespace and starts
    /// following their changes.
    pub async fn start() -> Result<InterfaceWatch, FibError> {
        Self::start_with(None).await
    }

    /// [`InterfaceWatch::start`], and the table also holds the main routing table's unicast
    /// routes of every protocol but `ours` ([`Interfaces::kernel_routes`]).
    pub async fn start_with_routes(ours: u8) -> Result<InterfaceWatch, FibError> {
        Self::start_with(Some(ours)).await
    }

    async fn start_with(routes_except: Option<u8>) -> Result<InterfaceWatch, FibError> {
        // Subscribe before dumping so that no change falls between the dump and the events.
        let events = RtSocket::interface_events(EVENT_BUFFER, routes_except)?;
        let mut req = RtSocket::request(1 << 16, 1)?;
        let table = dump(&mut req, routes_except).await?;
        debug!(
            links = table.links().count(),
            "interface table read from netlink"
        );
        let (tx, rx) = watch::channel(Arc::new(table.clone()));
        let (tx_routes, rx_routes) = watch::channel(Arc::new(table.clone()));
        let publish = Publish { tx, tx_routes };
        let task = tokio::spawn(follow(events, req, table, publish, routes_except));
        Ok(InterfaceWatch {
            rx,
            rx_routes,
            task: Some(task),
        })
    }

    /// A table that never changes (tests, or no netlink at all).
    pub fn fixed(table: Interfaces) -> InterfaceWatch {
        let (tx, rx) = watch::channel(Arc::new(table));
        // Receivers see the sender gone, not an error: the value stays readable.
        drop(tx);
        InterfaceWatch {
            rx_routes: rx.clone(),
            rx,
            task: None,
        }
    }

    /// A new reader woken by link and address changes (its snapshots' kernel routes may be
    /// older than the kernel's).
    pub fn subscribe(&self) -> InterfaceReceiver {
        self.rx.clone()
    }

    /// A new reader woken by link, address and kernel route changes.
    pub fn subscribe_with_routes(&self) -> InterfaceReceiver {
        self.rx_routes.clone()
    }

    /// The table now.
    pub fn now(&self) -> InterfaceTable {
        self.rx_routes.borrow().clone()
    }
}

impl Drop for InterfaceWatch {
    fn drop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// The next change of the table `rx` follows; never, once its publisher is gone (a fixed
/// table, or the daemon stopping), so that it can sit in a `select!` loop.
pub async fn changed(rx: &mut InterfaceReceiver) {
    if rx.changed().await.is_err() {
        std::future::pending::<()>().await
    }
}

/// The whole table, from a link dump and an address dump (and a route dump of the main table
/// per family when routes are followed).
async fn dump(req: &mut RtSocket, routes_except: Option<u8>) -> Result<Interfaces, FibError> {
    let mut table = Interfaces::default();
    for msg in req
        .dump(RouteNetlinkMessage::GetLink(LinkMessage::default()))
        .await?
    {
        if let RouteNetlinkMessage::NewLink(link) = msg {
            table.on_link(&link, false);
        }
    }
    for msg in req
        .dump(RouteNetlinkMessage::GetAddress(AddressMessage::default()))
        .await?
    {
        if let RouteNetlinkMessage::NewAddress(addr) = msg {
            table.on_address(&addr, false);
        }
    }
    if let Some(ours) = routes_except {
        for family in [AddressFamily::Inet, AddressFamily::Inet6] {
            let mut msg = RouteMessage::default();
            msg.header.address_family = family;
            // With strict checking the kernel returns the main table only.
            msg.header.table = MAIN_TABLE as u8;
            msg.attributes.push(RouteAttribute::Table(MAIN_TABLE));
            for reply in req.dump(RouteNetlinkMessage::GetRoute(msg)).await? {
                if let RouteNetlinkMessage::NewRoute(r) = reply {
                    table.on_route(&r, false, ours);
                }
            }
        }
    }
    Ok(table)
}

/// What changed in a burst of notifications.
#[derive(Debug, Default, Clone, Copy)]
struct Changed {
    interfaces: bool,
    routes: bool,
}

/// The two channels ([`InterfaceWatch`]).
struct Publish {
    tx: watch::Sender<InterfaceTable>,
    tx_routes: watch::Sender<InterfaceTable>,
}

/// Applies one notification.
fn apply(
    table: &mut Interfaces,
    msg: RouteNetlinkMessage,
    routes_except: Option<u8>,
    c: &mut Changed,
) {
    let mut route = |removed: bool, r: &RouteMessage| {
        c.routes |= routes_except.is_some_and(|o| table.on_route(r, removed, o));
    };
    match msg {
        RouteNetlinkMessage::NewRoute(r) => route(false, &r),
        RouteNetlinkMessage::DelRoute(r) => route(true, &r),
        RouteNetlinkMessage::NewLink(l) => c.interfaces |= table.on_link(&l, false).is_some(),
        RouteNetlinkMessage::DelLink(l) => c.interfaces |= table.on_link(&l, true).is_some(),
        RouteNetlinkMessage::NewAddress(a) => c.interfaces |= table.on_address(&a, false).is_some(),
        RouteNetlinkMessage::DelAddress(a) => c.interfaces |= table.on_address(&a, true).is_some(),
        _ => {}
    }
}

/// The task: read every queued notification, then publish once if anything changed. An
/// overrun (notifications lost) reads the whole table again.
async fn follow(
    mut events: RtSocket,
    mut req: RtSocket,
    mut table: Interfaces,
    publish: Publish,
    routes_except: Option<u8>,
) {
    loop {
        tokio::select! {
            () = publish.tx_routes.closed() => return,
            ready = events.readable() => {
                if let Err(e) = ready {
                    warn!(event = "interfaces_unreadable", error = %e, "netlink interface events");
                    return;
                }
            }
        }
        let mut changed = Changed::default();
        let mut overrun = false;
        loop {
            match events.try_recv() {
                Ok(Some(len)) => {
                    for frame in frames(&events.rx[..len]) {
                        match frame.and_then(|f| f.parse()) {
                            Ok(m) => {
                                if let NetlinkPayload::InnerMessage(msg) = m.payload {
                                    apply(&mut table, msg, routes_except, &mut changed);
                                }
                            }
                            Err(e) => debug!(error = %e, "interface event not parsed"),
                        }
                    }
                }
                Ok(None) => break,
                Err(FibError::Overrun) => overrun = true,
                Err(e) => {
                    warn!(event = "interfaces_unreadable", error = %e, "netlink interface events");
                    return;
                }
            }
        }
        if overrun {
            match dump(&mut req, routes_except).await {
                Ok(t) => {
                    changed.interfaces |= !t.same_interfaces(&table);
                    changed.routes |= t != table;
                    table = t;
                }
                Err(e) => warn!(event = "interfaces_dump_failed", error = %e,
                    "interface table may be stale until the next change"),
            }
        }
        if changed.interfaces || changed.routes {
            let snapshot = Arc::new(table.clone());
            if changed.interfaces {
                publish.tx.send_replace(snapshot.clone());
            }
            publish.tx_routes.send_replace(snapshot);
        }
    }
}
