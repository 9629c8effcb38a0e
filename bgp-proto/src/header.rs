//! The 19-octet message header (RFC 4271 §4.1) and its checks (RFC 4271 §6.1, RFC 8654).

use bytes::{BufMut, BytesMut};

use crate::error::DecodeError;

/// Octets in the header: marker (16), length (2), type (1).
pub const HEADER_LEN: usize = 19;
/// RFC 4271 §4.1: the marker is 16 octets of all ones.
pub const MARKER: [u8; 16] = [0xff; 16];
/// RFC 4271 §4.1: the largest message without the extended message capability.
pub const MAX_MESSAGE_LEN: usize = 4096;
/// RFC 8654: the largest message with the extended message capability.
pub const MAX_EXTENDED_MESSAGE_LEN: usize = 65535;

/// Message types (RFC 4271 §4.1, RFC 2918 for ROUTE-REFRESH).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    Open,
    Update,
    Notification,
    Keepalive,
    RouteRefresh,
}

impl MessageType {
    pub fn from_u8(v: u8) -> Option<MessageType> {
        Some(match v {
            1 => MessageType::Open,
            2 => MessageType::Update,
            3 => MessageType::Notification,
            4 => MessageType::Keepalive,
            5 => MessageType::RouteRefresh,
            _ => return None,
        })
    }

    pub fn to_u8(self) -> u8 {
        match self {
            MessageType::Open => 1,
            MessageType::Update => 2,
            MessageType::Notification => 3,
            MessageType::Keepalive => 4,
            MessageType::RouteRefresh => 5,
        }
    }

    /// The smallest valid length of a whole message of this type (RFC 4271 §4.2-4.5).
    /// ROUTE-REFRESH bodies are checked by the ROUTE-REFRESH decoder, which answers with the
    /// error RFC 7313 §5 asks for, so its minimum here is the bare header.
    pub fn min_len(self) -> usize {
        match self {
            MessageType::Open => 29,
            MessageType::Update => 23,
            MessageType::Notification => 21,
            MessageType::Keepalive => HEADER_LEN,
            MessageType::RouteRefresh => HEADER_LEN,
        }
    }

    /// The largest valid length of a whole message of this type when the session allows
    /// `session_max` octets. RFC 8654 §4: the extension never applies to OPEN and KEEPALIVE.
    pub fn max_len(self, session_max: usize) -> usize {
        match self {
            MessageType::Keepalive => HEADER_LEN,
            MessageType::Open => session_max.min(MAX_MESSAGE_LEN),
            _ => session_max,
        }
    }
}

/// A checked header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// Length of the whole message, header included.
    pub length: u16,
    pub msg_type: MessageType,
}

impl Header {
    /// Reads and checks the first 19 octets of `buf` (RFC 4271 §6.1): marker all ones, a known
    /// type, and a length within the bounds of that type, `max_len` being the session maximum
    /// (4096, or 65535 after RFC 8654 negotiation). `buf` may be longer than the header.
    pub fn decode(buf: &[u8], max_len: usize) -> Result<Header, DecodeError> {
        let Some(header) = buf.get(..HEADER_LEN) else {
            return Err(DecodeError::BadMessageLength {
                length: u16::try_from(buf.len()).unwrap_or(u16::MAX),
                offset: 0,
            });
        };
        if header[..16] != MARKER {
            return Err(DecodeError::ConnectionNotSynchronized { offset: 0 });
        }
        let length = u16::from_be_bytes([header[16], header[17]]);
        let type_octet = header[18];
        // RFC 4271 §6.1 checks the length before the type; a length below 19 or above the
        // session maximum is wrong whatever the type.
        let total = usize::from(length);
        if !(HEADER_LEN..=max_len).contains(&total) {
            return Err(DecodeError::BadMessageLength { length, offset: 16 });
        }
        let msg_type = MessageType::from_u8(type_octet).ok_or(DecodeError::BadMessageType {
            msg_type: type_octet,
            offset: 18,
        })?;
        if total < msg_type.min_len() || total > msg_type.max_len(max_len) {
            return Err(DecodeError::BadMessageLength { length, offset: 16 });
        }
        Ok(Header { length, msg_type })
    }

    /// Appends a header for a message of `length` octets (header included) to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) {
        buf.put_slice(&MARKER);
        buf.put_u16(self.length);
        buf.put_u8(self.msg_type.to_u8());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notification::{code, header_subcode};

    fn header(len: u16, t: u8) -> Vec<u8> {
        let mut v = vec![0xff; 16];
        v.extend_from_slice(&len.to_be_bytes());
        v.push(t);
        v
    }

    #[test]
    fn keepalive_header_decodes() {
        // Captured from BIRD 2.0.12: marker, length 0x0013 = 19, type 4.
        let bytes = hex::decode("ffffffffffffffffffffffffffffffff001304").unwrap();
        let h = Header::decode(&bytes, MAX_MESSAGE_LEN).unwrap();
        assert_eq!(h.msg_type, MessageType::Keepalive);
        assert_eq!(h.length, 19);
        let mut out = BytesMut::new();
        h.encode(&mut out);
        assert_eq!(&out[..], &bytes[..]);
    }

    #[test]
    fn rejects_bad_marker_as_connection_not_synchronized() {
        let mut bytes = header(19, 4);
        bytes[3] = 0xfe;
        let e = Header::decode(&bytes, MAX_MESSAGE_LEN).unwrap_err();
        let n = e.notification();
        assert_eq!((n.code, n.subcode), (code::MESSAGE_HEADER, 1));
        assert!(n.data.is_empty());
        assert_eq!(e.offset(), 0);
    }

    #[test]
    fn rejects_bad_type_with_type_octet_as_data() {
        let e = Header::decode(&header(19, 9), MAX_MESSAGE_LEN).unwrap_err();
        let n = e.notification();
        assert_eq!(
            (n.code, n.subcode, n.data.as_slice()),
            (
                code::MESSAGE_HEADER,
                header_subcode::BAD_MESSAGE_TYPE,
                &[9u8][..]
            )
        );
        assert_eq!(e.offset(), 18);
    }

    #[test]
    fn rejects_lengths_out_of_bounds_per_type_with_length_as_data() {
        let cases: &[(u16, u8, usize)] = &[
            (18, 4, MAX_MESSAGE_LEN),   // below the header
            (20, 4, MAX_MESSAGE_LEN),   // KEEPALIVE must be exactly 19
            (28, 1, MAX_MESSAGE_LEN),   // OPEN minimum is 29
            (22, 2, MAX_MESSAGE_LEN),   // UPDATE minimum is 23
            (20, 3, MAX_MESSAGE_LEN),   // NOTIFICATION minimum is 21
            (4097, 2, MAX_MESSAGE_LEN), // over 4096 without RFC 8654
            (4097, 1, 65535),           // OPEN never extended (RFC 8654 §4)
            (20, 4, 65535),             // nor KEEPALIVE
        ];
        for &(len, t, max) in cases {
            let e = Header::decode(&header(len, t), max).unwrap_err();
            let n = e.notification();
            assert_eq!(
                (n.code, n.subcode),
                (code::MESSAGE_HEADER, header_subcode::BAD_MESSAGE_LENGTH),
                "len {len} type {t}"
            );
            assert_eq!(n.data, len.to_be_bytes().to_vec());
            assert_eq!(e.offset(), 16);
        }
    }

    #[test]
    fn accepts_extended_update_only_when_allowed() {
        assert!(Header::decode(&header(65535, 2), MAX_EXTENDED_MESSAGE_LEN).is_ok());
        assert!(Header::decode(&header(4096, 2), MAX_MESSAGE_LEN).is_ok());
        assert!(Header::decode(&header(29, 1), MAX_MESSAGE_LEN).is_ok());
    }

    #[test]
    fn short_buffer_is_an_error_not_a_panic() {
        assert!(Header::decode(&[0xff; 5], MAX_MESSAGE_LEN).is_err());
    }
}
