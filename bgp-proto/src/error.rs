//! The crate's error types: [`DecodeError`] (every variant knows the NOTIFICATION to send and the
//! byte offset of the problem) and [`EncodeError`].
//!
//! Offsets count from the first octet of the message, header included, so an offset of 19 is the
//! first octet of the body.

use crate::header::HEADER_LEN;
use crate::notification::{
    code, header_subcode, open_subcode, route_refresh_subcode, Notification,
};
use crate::update::{UpdateEncodeError, UpdateError};

/// A message that could not be decoded. Each variant maps to the NOTIFICATION that RFC 4271 §6
/// (or the RFC that defines the field) says to send, via [`DecodeError::notification`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// RFC 4271 §6.1: the marker is not all ones.
    #[error("connection not synchronized (bad marker) at offset {offset}")]
    ConnectionNotSynchronized { offset: usize },
    /// RFC 4271 §6.1 (and RFC 8654 for the maximum): the length field is out of bounds for the
    /// type, or does not match the bytes given.
    #[error("bad message length {length} at offset {offset}")]
    BadMessageLength { length: u16, offset: usize },
    /// RFC 4271 §6.1: unknown message type.
    #[error("bad message type {msg_type} at offset {offset}")]
    BadMessageType { msg_type: u8, offset: usize },
    /// RFC 4271 §6.2: version is not 4.
    #[error("unsupported BGP version {version} at offset {offset}")]
    UnsupportedVersion { version: u8, offset: usize },
    /// RFC 7607: AS 0 in the OPEN (My Autonomous System or the 4-octet AS capability).
    #[error("bad peer AS (zero) at offset {offset}")]
    BadPeerAs { offset: usize },
    /// RFC 4271 §6.2, RFC 6286: BGP identifier 0.
    #[error("bad BGP identifier at offset {offset}")]
    BadBgpIdentifier { offset: usize },
    /// RFC 4271 §6.2: hold time 1 or 2.
    #[error("unacceptable hold time {hold_time} at offset {offset}")]
    UnacceptableHoldTime { hold_time: u16, offset: usize },
    /// RFC 4271 §6.2: an optional parameter other than Capabilities (RFC 5492).
    #[error("unsupported optional parameter {param_type} at offset {offset}")]
    UnsupportedOptionalParameter { param_type: u8, offset: usize },
    /// The optional parameters or a capability inside them do not parse (overrun, or a known
    /// capability with the wrong length). Sent as OPEN Message Error / Unspecific.
    #[error("malformed OPEN at offset {offset}: {problem}")]
    MalformedOpen { problem: OpenProblem, offset: usize },
    /// RFC 7313 §5: a BoRR/EoRR ROUTE-REFRESH whose body is not 4 octets, or any ROUTE-REFRESH
    /// shorter than 4. `message` is the whole message, which the NOTIFICATION carries as data.
    #[error("ROUTE-REFRESH with invalid length at offset {offset}")]
    RouteRefreshLength { message: Vec<u8>, offset: usize },
    /// A malformed UPDATE that resets the session (RFC 7606); its offset is within the body.
    #[error(transparent)]
    Update(#[from] UpdateError),
}

/// What exactly was wrong with an OPEN's optional parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenProblem {
    #[error("optional parameters overrun the message")]
    ParametersOverrun,
    #[error("optional parameters length does not match the message length")]
    ParametersLengthMismatch,
    #[error("capability {code} overruns its optional parameter")]
    CapabilityOverrun { code: u8 },
    #[error("capability {code} has invalid length {len}")]
    CapabilityLength { code: u8, len: usize },
}

impl DecodeError {
    /// The NOTIFICATION to send to the peer for this error.
    pub fn notification(&self) -> Notification {
        use DecodeError::*;
        match self {
            ConnectionNotSynchronized { .. } => Notification::new(
                code::MESSAGE_HEADER,
                header_subcode::CONNECTION_NOT_SYNCHRONIZED,
                Vec::new(),
            ),
            // RFC 4271 §6.1: data is the erroneous Length field.
            BadMessageLength { length, .. } => Notification::new(
                code::MESSAGE_HEADER,
                header_subcode::BAD_MESSAGE_LENGTH,
                length.to_be_bytes().to_vec(),
            ),
            // RFC 4271 §6.1: data is the erroneous Type field.
            BadMessageType { msg_type, .. } => Notification::new(
                code::MESSAGE_HEADER,
                header_subcode::BAD_MESSAGE_TYPE,
                vec![*msg_type],
            ),
            // RFC 4271 §6.2: data is the largest supported version (2 octets); we only do 4.
            UnsupportedVersion { .. } => Notification::new(
                code::OPEN_MESSAGE,
                open_subcode::UNSUPPORTED_VERSION_NUMBER,
                4u16.to_be_bytes().to_vec(),
            ),
            BadPeerAs { .. } => {
                Notification::new(code::OPEN_MESSAGE, open_subcode::BAD_PEER_AS, Vec::new())
            }
            BadBgpIdentifier { .. } => Notification::new(
                code::OPEN_MESSAGE,
                open_subcode::BAD_BGP_IDENTIFIER,
                Vec::new(),
            ),
            UnacceptableHoldTime { .. } => Notification::new(
                code::OPEN_MESSAGE,
                open_subcode::UNACCEPTABLE_HOLD_TIME,
                Vec::new(),
            ),
            UnsupportedOptionalParameter { .. } => Notification::new(
                code::OPEN_MESSAGE,
                open_subcode::UNSUPPORTED_OPTIONAL_PARAMETER,
                Vec::new(),
            ),
            MalformedOpen { .. } => {
                Notification::new(code::OPEN_MESSAGE, open_subcode::UNSPECIFIC, Vec::new())
            }
            // RFC 7313 §5: data is the complete ROUTE-REFRESH message.
            RouteRefreshLength { message, .. } => Notification::new(
                code::ROUTE_REFRESH,
                route_refresh_subcode::INVALID_MESSAGE_LENGTH,
                message.clone(),
            ),
            Update(e) => e.notification(),
        }
    }

    /// Byte offset of the problem, counted from the first octet of the message.
    pub fn offset(&self) -> usize {
        use DecodeError::*;
        match self {
            ConnectionNotSynchronized { offset }
            | BadMessageLength { offset, .. }
            | BadMessageType { offset, .. }
            | UnsupportedVersion { offset, .. }
            | BadPeerAs { offset }
            | BadBgpIdentifier { offset }
            | UnacceptableHoldTime { offset, .. }
            | UnsupportedOptionalParameter { offset, .. }
            | MalformedOpen { offset, .. }
            | RouteRefreshLength { offset, .. } => *offset,
            Update(e) => HEADER_LEN + e.offset(),
        }
    }
}

/// A message that could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The encoded message is longer than the session allows (RFC 4271 §4.1, RFC 8654).
    #[error("message of {len} octets exceeds the maximum of {max}")]
    MessageTooLong { len: usize, max: usize },
    /// A field does not fit its wire encoding (e.g. a capability longer than 255 octets).
    #[error("{field} of {len} octets does not fit its length field")]
    FieldTooLong { field: &'static str, len: usize },
    /// The UPDATE encoder refused the message.
    #[error(transparent)]
    Update(#[from] UpdateEncodeError),
}

/// Offset of `rest` inside `base` plus the header, for errors found while reading a body.
pub(crate) fn body_offset(body: &[u8], rest: &[u8]) -> usize {
    HEADER_LEN + body.len().saturating_sub(rest.len())
}
