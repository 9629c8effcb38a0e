//! NOTIFICATION message (RFC 4271 §4.5, §6) — the model shared by every error path.
//!
//! Every decode error that resets a session carries one of these, so the FSM can send it as is.
//! Code and subcode names follow the IANA "BGP Error (Notification) Codes" registry; the
//! shutdown communication of RFC 9003 is read and written by
//! [`Notification::shutdown_communication`] and [`Notification::cease_with_communication`].

use std::fmt;

use bytes::{BufMut, BytesMut};

use crate::capability::Capability;
use crate::error::{DecodeError, EncodeError};
use crate::header::HEADER_LEN;

/// A NOTIFICATION: error code, subcode and data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Notification {
    pub code: u8,
    pub subcode: u8,
    pub data: Vec<u8>,
}

/// Error codes (RFC 4271 §4.5, RFC 7313, RFC 9234 uses OPEN subcode 11).
pub mod code {
    pub const MESSAGE_HEADER: u8 = 1;
    pub const OPEN_MESSAGE: u8 = 2;
    pub const UPDATE_MESSAGE: u8 = 3;
    pub const HOLD_TIMER_EXPIRED: u8 = 4;
    pub const FSM: u8 = 5;
    pub const CEASE: u8 = 6;
    pub const ROUTE_REFRESH: u8 = 7;
}

/// Message Header Error subcodes (RFC 4271 §6.1).
pub mod header_subcode {
    pub const CONNECTION_NOT_SYNCHRONIZED: u8 = 1;
    pub const BAD_MESSAGE_LENGTH: u8 = 2;
    pub const BAD_MESSAGE_TYPE: u8 = 3;
}

/// OPEN Message Error subcodes (RFC 4271 §6.2, RFC 5492, RFC 9234).
pub mod open_subcode {
    /// RFC 4271 §4.5: used when no specific subcode applies.
    pub const UNSPECIFIC: u8 = 0;
    pub const UNSUPPORTED_VERSION_NUMBER: u8 = 1;
    pub const BAD_PEER_AS: u8 = 2;
    pub const BAD_BGP_IDENTIFIER: u8 = 3;
    pub const UNSUPPORTED_OPTIONAL_PARAMETER: u8 = 4;
    /// Deprecated (RFC 4271).
    pub const AUTHENTICATION_FAILURE: u8 = 5;
    pub const UNACCEPTABLE_HOLD_TIME: u8 = 6;
    /// RFC 5492 §5.
    pub const UNSUPPORTED_CAPABILITY: u8 = 7;
    /// RFC 9234 §4.2.
    pub const ROLE_MISMATCH: u8 = 11;
}

/// UPDATE message error subcodes (RFC 4271 §6.3).
pub mod update_subcode {
    pub const MALFORMED_ATTRIBUTE_LIST: u8 = 1;
    pub const UNRECOGNIZED_WELL_KNOWN: u8 = 2;
    pub const MISSING_WELL_KNOWN: u8 = 3;
    pub const ATTRIBUTE_FLAGS: u8 = 4;
    pub const ATTRIBUTE_LENGTH: u8 = 5;
    pub const INVALID_ORIGIN: u8 = 6;
    /// Deprecated (RFC 4271).
    pub const AS_ROUTING_LOOP: u8 = 7;
    pub const INVALID_NEXT_HOP: u8 = 8;
    pub const OPTIONAL_ATTRIBUTE: u8 = 9;
    pub const INVALID_NETWORK_FIELD: u8 = 10;
    pub const MALFORMED_AS_PATH: u8 = 11;
}

/// Finite State Machine Error subcodes (RFC 6608 §3).
pub mod fsm_subcode {
    pub const UNSPECIFIED: u8 = 0;
    pub const UNEXPECTED_IN_OPEN_SENT: u8 = 1;
    pub const UNEXPECTED_IN_OPEN_CONFIRM: u8 = 2;
    pub const UNEXPECTED_IN_ESTABLISHED: u8 = 3;
}

/// Cease subcodes (RFC 4486, RFC 8538 for Hard Reset, RFC 9384 for BFD Down).
pub mod cease_subcode {
    pub const MAX_PREFIXES_REACHED: u8 = 1;
    pub const ADMINISTRATIVE_SHUTDOWN: u8 = 2;
    pub const PEER_DECONFIGURED: u8 = 3;
    pub const ADMINISTRATIVE_RESET: u8 = 4;
    pub const CONNECTION_REJECTED: u8 = 5;
    pub const OTHER_CONFIGURATION_CHANGE: u8 = 6;
    pub const CONNECTION_COLLISION_RESOLUTION: u8 = 7;
    pub const OUT_OF_RESOURCES: u8 = 8;
    pub const HARD_RESET: u8 = 9;
    pub const BFD_DOWN: u8 = 10;
}

/// ROUTE-REFRESH Message Error subcodes (RFC 7313 §5).
pub mod route_refresh_subcode {
    pub const INVALID_MESSAGE_LENGTH: u8 = 1;
}

/// RFC 9003 §2: the shutdown communication is at most 255 octets of UTF-8.
pub const MAX_SHUTDOWN_COMMUNICATION: usize = 255;

impl Notification {
    pub fn new(code: u8, subcode: u8, data: impl Into<Vec<u8>>) -> Self {
        Notification {
            code,
            subcode,
            data: data.into(),
        }
    }

    /// A Cease with an RFC 9003 shutdown communication (meant for subcodes 2 and 4). A message
    /// longer than 255 octets is cut at the last character boundary that fits.
    pub fn cease_with_communication(subcode: u8, message: &str) -> Self {
        let mut end = message.len().min(MAX_SHUTDOWN_COMMUNICATION);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let text = &message.as_bytes()[..end];
        let mut data = Vec::with_capacity(1 + text.len());
        // `end` is at most 255, so it fits the length octet.
        data.push(end as u8);
        data.extend_from_slice(text);
        Notification::new(code::CEASE, subcode, data)
    }

    /// OPEN Message Error / Unsupported Capability (RFC 5492 §5): the data lists the
    /// capabilities the peer lacks (or that we refuse), each encoded as in an OPEN.
    pub fn unsupported_capability(caps: &[Capability]) -> Result<Notification, EncodeError> {
        let mut data = BytesMut::new();
        for c in caps {
            c.encode(&mut data)?;
        }
        Ok(Notification::new(
            code::OPEN_MESSAGE,
            open_subcode::UNSUPPORTED_CAPABILITY,
            data.to_vec(),
        ))
    }

    /// OPEN Message Error / Role Mismatch (RFC 9234 §4.2).
    pub fn role_mismatch() -> Notification {
        Notification::new(code::OPEN_MESSAGE, open_subcode::ROLE_MISMATCH, Vec::new())
    }

    /// The RFC 9003 shutdown communication of a Cease / Administrative Shutdown or Reset, if the
    /// data holds a well-formed one. Tolerant: a length that overruns the data or bytes that are
    /// not UTF-8 give `None` (the raw data stays in `data`). Trailing octets after the message
    /// are ignored (RFC 9003 §2 allows them).
    pub fn shutdown_communication(&self) -> Option<&str> {
        if self.code != code::CEASE
            || !matches!(
                self.subcode,
                cease_subcode::ADMINISTRATIVE_SHUTDOWN | cease_subcode::ADMINISTRATIVE_RESET
            )
        {
            return None;
        }
        let (&len, rest) = self.data.split_first()?;
        let text = rest.get(..usize::from(len))?;
        std::str::from_utf8(text).ok()
    }

    /// Decodes a NOTIFICATION body (the octets after the header). The header check guarantees at
    /// least 2 octets; a shorter body is reported as Bad Message Length.
    pub fn decode(body: &[u8]) -> Result<Notification, DecodeError> {
        match body {
            [code, subcode, data @ ..] => Ok(Notification::new(*code, *subcode, data)),
            _ => Err(DecodeError::BadMessageLength {
                length: (HEADER_LEN + body.len()) as u16,
                offset: 16,
            }),
        }
    }

    /// Appends the NOTIFICATION body (code, subcode, data) to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) {
        buf.put_u8(self.code);
        buf.put_u8(self.subcode);
        buf.put_slice(&self.data);
    }

    /// The IANA name of the error code, if known.
    pub fn code_name(&self) -> Option<&'static str> {
        Some(match self.code {
            code::MESSAGE_HEADER => "Message Header Error",
            code::OPEN_MESSAGE => "OPEN Message Error",
            code::UPDATE_MESSAGE => "UPDATE Message Error",
            code::HOLD_TIMER_EXPIRED => "Hold Timer Expired",
            code::FSM => "Finite State Machine Error",
            code::CEASE => "Cease",
            code::ROUTE_REFRESH => "ROUTE-REFRESH Message Error",
            _ => return None,
        })
    }

    /// The IANA name of the subcode within its code, if known.
    pub fn subcode_name(&self) -> Option<&'static str> {
        Some(match (self.code, self.subcode) {
            (code::FSM, fsm_subcode::UNSPECIFIED) => "Unspecified Error",
            (_, 0) => "Unspecific",
            (code::MESSAGE_HEADER, 1) => "Connection Not Synchronized",
            (code::MESSAGE_HEADER, 2) => "Bad Message Length",
            (code::MESSAGE_HEADER, 3) => "Bad Message Type",
            (code::OPEN_MESSAGE, 1) => "Unsupported Version Number",
            (code::OPEN_MESSAGE, 2) => "Bad Peer AS",
            (code::OPEN_MESSAGE, 3) => "Bad BGP Identifier",
            (code::OPEN_MESSAGE, 4) => "Unsupported Optional Parameter",
            (code::OPEN_MESSAGE, 5) => "Authentication Failure (deprecated)",
            (code::OPEN_MESSAGE, 6) => "Unacceptable Hold Time",
            (code::OPEN_MESSAGE, 7) => "Unsupported Capability",
            (code::OPEN_MESSAGE, 8..=10) => "Deprecated",
            (code::OPEN_MESSAGE, 11) => "Role Mismatch",
            (code::UPDATE_MESSAGE, 1) => "Malformed Attribute List",
            (code::UPDATE_MESSAGE, 2) => "Unrecognized Well-known Attribute",
            (code::UPDATE_MESSAGE, 3) => "Missing Well-known Attribute",
            (code::UPDATE_MESSAGE, 4) => "Attribute Flags Error",
            (code::UPDATE_MESSAGE, 5) => "Attribute Length Error",
            (code::UPDATE_MESSAGE, 6) => "Invalid ORIGIN Attribute",
            (code::UPDATE_MESSAGE, 7) => "AS Routing Loop (deprecated)",
            (code::UPDATE_MESSAGE, 8) => "Invalid NEXT_HOP Attribute",
            (code::UPDATE_MESSAGE, 9) => "Optional Attribute Error",
            (code::UPDATE_MESSAGE, 10) => "Invalid Network Field",
            (code::UPDATE_MESSAGE, 11) => "Malformed AS_PATH",
            (code::FSM, 1) => "Receive Unexpected Message in OpenSent State",
            (code::FSM, 2) => "Receive Unexpected Message in OpenConfirm State",
            (code::FSM, 3) => "Receive Unexpected Message in Established State",
            (code::CEASE, 1) => "Maximum Number of Prefixes Reached",
            (code::CEASE, 2) => "Administrative Shutdown",
            (code::CEASE, 3) => "Peer De-configured",
            (code::CEASE, 4) => "Administrative Reset",
            (code::CEASE, 5) => "Connection Rejected",
            (code::CEASE, 6) => "Other Configuration Change",
            (code::CEASE, 7) => "Connection Collision Resolution",
            (code::CEASE, 8) => "Out of Resources",
            (code::CEASE, 9) => "Hard Reset",
            (code::CEASE, 10) => "BFD Down",
            (code::ROUTE_REFRESH, 1) => "Invalid Message Length",
            _ => return None,
        })
    }
}

impl fmt::Display for Notification {
    /// "Cease/Administrative Shutdown", with the shutdown communication appended as
    /// `: "text"` when there is one; unknown numbers print as numbers ("code 9/subcode 3").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code_name() {
            Some(name) => f.write_str(name)?,
            None => write!(f, "code {}", self.code)?,
        }
        match self.subcode_name() {
            // Hold Timer Expired has no subcodes: print just the code.
            Some(_) | None if self.code == code::HOLD_TIMER_EXPIRED && self.subcode == 0 => {}
            Some(name) => write!(f, "/{name}")?,
            None => write!(f, "/subcode {}", self.subcode)?,
        }
        if let Some(text) = self.shutdown_communication() {
            write!(f, ": {text:?}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_bird_unacceptable_hold_time() {
        // BIRD 2.0.12's answer to our OPEN with hold time 1 (captured 2026-11-24):
        // marker, length 23, type 3; code 2, subcode 6, data 0x0001 (BIRD echoes the hold time).
        let frame = hex::decode("ffffffffffffffffffffffffffffffff00170302060001").unwrap();
        let n = Notification::decode(&frame[HEADER_LEN..]).unwrap();
        assert_eq!(n, Notification::new(2, 6, vec![0, 1]));
        assert_eq!(n.to_string(), "OPEN Message Error/Unacceptable Hold Time");
        let mut out = BytesMut::new();
        n.encode(&mut out);
        assert_eq!(&out[..], &frame[HEADER_LEN..]);
    }

    #[test]
    fn decodes_bird_shutdown_communication() {
        // BIRD 2.0.12 after `disable peer1 "maintenance window"` (captured 2026-11-24):
        // length 40, type 3; code 6 (Cease), subcode 2 (Administrative Shutdown),
        // data: length 0x12 = 18, then "maintenance window".
        let frame = hex::decode(concat!(
            "ffffffffffffffffffffffffffffffff",
            "0028",
            "03",
            "06",
            "02",
            "12",
            "6d61696e74656e616e63652077696e646f77"
        ))
        .unwrap();
        let n = Notification::decode(&frame[HEADER_LEN..]).unwrap();
        assert_eq!(n.shutdown_communication(), Some("maintenance window"));
        assert_eq!(
            n.to_string(),
            "Cease/Administrative Shutdown: \"maintenance window\""
        );
        assert_eq!(
            n,
            Notification::cease_with_communication(
                cease_subcode::ADMINISTRATIVE_SHUTDOWN,
                "maintenance window"
            )
        );
    }

    #[test]
    fn shutdown_communication_is_tolerant() {
        // Length overruns the data: no text, raw data kept.
        let n = Notification::new(code::CEASE, 2, vec![10, b'a']);
        assert_eq!(n.shutdown_communication(), None);
        assert_eq!(n.data, vec![10, b'a']);
        assert_eq!(n.to_string(), "Cease/Administrative Shutdown");
        // Not UTF-8.
        let n = Notification::new(code::CEASE, 4, vec![1, 0xff]);
        assert_eq!(n.shutdown_communication(), None);
        // Empty data.
        assert_eq!(
            Notification::new(code::CEASE, 4, vec![]).shutdown_communication(),
            None
        );
        // Only subcodes 2 and 4 carry one.
        let n = Notification::new(code::CEASE, 3, vec![1, b'a']);
        assert_eq!(n.shutdown_communication(), None);
    }

    #[test]
    fn long_shutdown_communication_is_cut_at_a_char_boundary() {
        let text = "é".repeat(200); // 400 octets
        let n = Notification::cease_with_communication(4, &text);
        assert_eq!(n.data[0], 254);
        assert_eq!(n.shutdown_communication().unwrap().len(), 254);
    }

    #[test]
    fn names_every_registered_code() {
        let cases: &[(u8, u8, &str)] = &[
            (1, 1, "Message Header Error/Connection Not Synchronized"),
            (1, 3, "Message Header Error/Bad Message Type"),
            (2, 7, "OPEN Message Error/Unsupported Capability"),
            (2, 11, "OPEN Message Error/Role Mismatch"),
            (2, 0, "OPEN Message Error/Unspecific"),
            (3, 11, "UPDATE Message Error/Malformed AS_PATH"),
            (4, 0, "Hold Timer Expired"),
            (5, 0, "Finite State Machine Error/Unspecified Error"),
            (
                5,
                3,
                "Finite State Machine Error/Receive Unexpected Message in Established State",
            ),
            (6, 9, "Cease/Hard Reset"),
            (6, 10, "Cease/BFD Down"),
            (7, 1, "ROUTE-REFRESH Message Error/Invalid Message Length"),
            (9, 3, "code 9/subcode 3"),
            (6, 42, "Cease/subcode 42"),
        ];
        for (c, s, text) in cases {
            assert_eq!(Notification::new(*c, *s, vec![]).to_string(), *text);
        }
        for s in 1..=11 {
            assert!(Notification::new(3, s, vec![]).subcode_name().is_some());
            assert!(Notification::new(2, s, vec![]).subcode_name().is_some());
        }
        for s in 1..=10 {
            assert!(Notification::new(6, s, vec![]).subcode_name().is_some());
        }
    }

    #[test]
    fn unsupported_capability_lists_the_capabilities_as_in_an_open() {
        let n = Notification::unsupported_capability(&[
            Capability::Multiprotocol {
                afi: crate::types::Afi::Ipv6,
                safi: crate::types::Safi::Unicast,
            },
            Capability::FourOctetAs(crate::types::Asn(65001)),
        ])
        .unwrap();
        assert_eq!((n.code, n.subcode), (2, 7));
        // 01 len 4: AFI 2, reserved, SAFI 1; 41 len 4: AS 65001.
        assert_eq!(hex::encode(&n.data), "01040002000141040000fde9");
        assert_eq!(n.to_string(), "OPEN Message Error/Unsupported Capability");
        assert_eq!(
            Notification::role_mismatch().to_string(),
            "OPEN Message Error/Role Mismatch"
        );
    }

    #[test]
    fn body_shorter_than_two_octets_is_bad_length() {
        let e = Notification::decode(&[6]).unwrap_err();
        assert_eq!(e.notification().data, vec![0, 20]);
    }

    proptest! {
        #[test]
        fn notification_roundtrips(code in any::<u8>(), subcode in any::<u8>(),
                                   data in prop::collection::vec(any::<u8>(), 0..100)) {
            let n = Notification::new(code, subcode, data);
            let mut out = BytesMut::new();
            n.encode(&mut out);
            prop_assert_eq!(Notification::decode(&out).unwrap(), n.clone());
            // Display never panics and always names something.
            prop_assert!(!n.to_string().is_empty());
        }
    }
}
