//! BGP-4 wire codec: messages, capabilities, path attributes and NLRI, with RFC 7606 error
//! handling. No I/O, no timers, no state: the session context that changes how bytes are read
//! (4-octet AS, ADD-PATH per family, extended message) is passed in by the caller.
//!
//! Modules:
//! - [`types`]: AS numbers, router ids, address families, prefixes.
//! - [`context`]: the negotiated session context that decode and encode take as input.
//! - [`header`], [`message`]: the 19-octet header and the message enum.
//! - [`open`], [`capability`]: OPEN and its capabilities.
//! - [`notification`]: NOTIFICATION, also the error value of every session-resetting decode error.
//! - [`keepalive`], [`route_refresh`]: the two small messages.
//! - [`update`], [`attribute`], [`nlri`], [`builder`]: UPDATE, path attributes, NLRI, packing.
//! - [`error`]: the crate's error types.
//! - `codec` (feature `codec`): a `tokio_util` framer that cuts a byte stream into messages.

pub mod attribute;
pub mod builder;
pub mod capability;
#[cfg(feature = "codec")]
pub mod codec;
pub mod context;
pub mod error;
pub mod header;
pub mod keepalive;
pub mod message;
pub mod nlri;
pub mod notification;
pub mod open;
pub mod route_refresh;
pub mod types;
pub mod update;

pub use capability::Capability;
#[cfg(feature = "codec")]
pub use codec::{BgpFramer, FrameError};
pub use context::{Negotiated, SessionContext};
pub use error::{DecodeError, EncodeError};
pub use header::{MessageType, HEADER_LEN, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN};
pub use message::Message;
pub use notification::Notification;
pub use open::Open;
pub use route_refresh::RouteRefresh;
pub use types::{Afi, Asn, Family, Prefix, RouterId, Safi};

// UPDATE side: message, attribute set, NLRI, packing.
pub use attribute::PathAttributes;
pub use builder::{Announce, BuildError, EncodedAttributes, Withdraw};
pub use nlri::{NlriEntry, NlriIter};
pub use update::{Update, UpdateEncodeError, UpdateError};
