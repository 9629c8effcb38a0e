//! The kernel side of the daemon: route installation over rtnetlink.
//!
//! fib-sync takes plain deltas ("install this prefix via these next hops on this device") and
//! keeps the kernel's routing table in step with them, event-driven and batched. It knows
//! nothing of BGP.
//!
//! Modules:
//! - [`route`]: the input types ([`FibConfig`], [`Route`], [`RouteDelta`]);
//! - [`message`]: the pure translation between routes and rtnetlink messages (tested on bytes);
//! - `socket`: the netlink socket and the pipelined batch executor (acks matched by sequence);
//! - [`interfaces`]: links and addresses learned from netlink, and the [`FibEvent`]s;
//! - `table`: the compact per-prefix state (interned routes, two ids a prefix);
//! - `recursive`: recursive next hops (BIRD's `gateway recursive`) resolved through the
//!   kernel's routing table, one resolution per gateway;
//! - [`watch`]: the node's interface table, read once from netlink and published to every
//!   reader ([`InterfaceWatch`]);
//! - [`sync`]: the actor ([`FibSync`]): desired state, startup reconciliation, retries;
//! - [`error`]: [`FibError`], kernel errno values mapped to our own variants.
pub mod error;
pub mod interfaces;
pub mod message;
mod recursive;
pub mod route;
mod socket;
pub mod sync;
mod table;
pub mod watch;

pub use error::FibError;
pub use interfaces::{Attached, FibEvent, Interfaces, Link};
pub use route::{
    Families, FibConfig, NextHop, Route, RouteDelta, RouteKind, PROTO_BIRD, TABLE_MAIN,
};
pub use sync::{ApplyReport, FibStats, FibSync, Pending};
pub use watch::{InterfaceReceiver, InterfaceTable, InterfaceWatch};
