//! BGP-4 wire codec: messages, capabilities, path attributes and NLRI, with RFC 7606 error
//! handling. No I/O, no timers, no state: the session context that changes how bytes are read
//! (4-octet AS, ADD-PATH per family, extended message) is passed in by the caller.
//!
//! Modules:
//! - [`types`]: AS numbers, router ids, address families, prefixes.
//! - [`context`]: the negotiated session context that decode and encode take as input.
//! - [`notification`]: NOTIFICATION, also the error value of every session-resetting decode error.
//! - [`update`]: UPDATE.

pub mod context;
pub mod notification;
pub mod types;
pub mod update;

pub use context::SessionContext;
pub use notification::Notification;
pub use types::{Afi, Asn, Family, Prefix, RouterId, Safi};
