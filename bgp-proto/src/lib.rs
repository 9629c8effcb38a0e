//! BGP-4 wire codec: messages, capabilities, path attributes and NLRI, with RFC 7606 error
//! handling. No I/O, no timers, no state: the session context that changes how bytes are read
//! (4-octet AS, ADD-PATH per family, extended message) is passed in by the caller.
//!
//! Modules:
//! - [`types`]: AS numbers, router ids, address families, prefixes.
//! - [`context`]: the negotiated session context that decode and encode take as input.

pub mod context;
pub mod types;

pub use context::SessionContext;
pub use types::{Afi, Asn, Family, Prefix, RouterId, Safi};
