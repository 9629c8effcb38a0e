//! `bgpd`, the BGP daemon for Calico nodes: one tokio task per configured neighbor driving a
//! sans-IO session state machine, a listener that hands accepted connections to them, and
//! signal handling for a clean shutdown.
//!
//! Modules:
//! - [`fsm`]: the RFC 4271 §8 session state machine, no I/O, time passed in.
//! - [`neighbor`]: from a `conf` neighbor to the FSM's [`fsm::SessionConfig`].
//! - [`socket`]: TCP socket options (TCP-MD5, TTL, GTSM, source binding).
//! - [`peer`]: the per-neighbor task: connections, framing, timers, counters.
//! - [`listener`]: accepts connections and hands them to the right peer task.
//! - [`stats`]: per-peer counters (UPDATEs, prefixes received and withdrawn).
//! - [`status`]: per-peer status snapshots and operator commands (for the control socket).
//! - [`control`]: the BIRD 1.6-compatible control socket and the `bgpctl` client's parsing.
//! - [`daemon`]: wiring and shutdown.
//! - [`error`]: [`Error`], the crate's error type.

pub mod control;
pub mod daemon;
pub mod error;
pub mod fsm;
pub mod listener;
pub mod neighbor;
pub mod peer;
pub mod socket;
pub mod stats;
pub mod status;

pub use error::Error;
