//! `bgpd`, the BGP daemon for Calico nodes: one tokio task per configured neighbor driving a
//! sans-IO session state machine, a listener that hands accepted connections to them, and
//! signal handling for a clean shutdown.
//!
//! Modules:
//! - [`fsm`]: the RFC 4271 §8 session state machine, no I/O, time passed in.
//! - [`bfd`]: BFD (RFC 5880/5881/5883): codec, sans-IO session, UDP sockets, session manager.
//! - [`neighbor`]: from a `conf` neighbor to the FSM's [`fsm::SessionConfig`].
//! - [`socket`]: TCP socket options (TCP-MD5, TTL, GTSM, source binding).
//! - [`peer`]: the per-neighbor task: connections, framing, timers, counters.
//! - [`next_hop_view`]: our addresses and connected subnets (from the interface table), which
//!   received next hops are checked against.
//! - [`peer_log`]: log lines for what a peer sent wrong (attribute, problem, prefixes, action).
//! - [`listener`]: accepts connections and hands them to the right peer task.
//! - [`stats`]: per-peer counters (UPDATEs, prefixes received, accepted, advertised).
//! - [`policy_compile`]: configuration → `policy` (Calico export/import, filters) and the
//!   RIB's decision options; the RIB's import/export hooks over them.
//! - [`rib_actor`]: the task owning the RIB: batches from peer tasks in, UPDATEs out (encoded
//!   once per update group), Loc-RIB changes to the FIB task, route queries for `show route`.
//! - [`route_view`]: the read-only view of the routing table the RIB actor answers queries
//!   with (plain data; the control socket formats it).
//! - [`fib`]: the FIB task: Loc-RIB changes → `policy::program` → kernel routes (`fib-sync`).
//! - [`status`]: per-peer status snapshots and operator commands (for the control socket).
//! - [`control`]: the BIRD 1.6-compatible control socket and the `bgpctl` client's parsing.
//! - [`recovery`]: graceful-restart recovery after our own restart (`-R`, RFC 4724 §4.1).
//! - [`reload`]: live reconfiguration (SIGHUP, `configure`): diff → per-peer operations.
//! - [`metrics`]: the Prometheus endpoint (`[metrics] listen`).
//! - [`daemon`]: wiring, reload loop and shutdown.
//! - [`bird_cli`]: BIRD 1.6's command line (`bird`, `bird6`: calico-node runs us so).
//! - [`process`]: what that command line does to the process (PID file, user, detaching).
//! - [`error`]: [`Error`], the crate's error type.

pub mod bfd;
pub mod bird_cli;
pub mod control;
pub mod daemon;
pub mod error;
pub mod fib;
#[cfg(test)]
mod fixtures;
pub mod fsm;
pub mod link;
pub mod listener;
pub mod metrics;
pub mod neighbor;
pub mod next_hop_view;
pub mod peer;
pub mod peer_log;
pub mod policy_compile;
pub mod process;
pub mod recovery;
pub mod reload;
pub mod rib_actor;
pub mod route_view;
pub mod socket;
pub mod stats;
pub mod status;

pub use error::Error;
