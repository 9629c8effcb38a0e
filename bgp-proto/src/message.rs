//! The message enum: decode a whole framed message, encode one with its header.

use bytes::{BufMut, BytesMut};

use crate::context::SessionContext;
use crate::error::{DecodeError, EncodeError};
use crate::header::{Header, MessageType, HEADER_LEN};
use crate::keepalive;
use crate::notification::Notification;
use crate::open::Open;
use crate::route_refresh::RouteRefresh;
use crate::update::Update;

/// A BGP message.
///
/// `Update` is much larger than the other variants; it is kept unboxed because nearly every
/// message on an established session is an UPDATE, so a box would cost one allocation per
/// message to save stack space on KEEPALIVEs.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Open(Open),
    Update(Update),
    Notification(Notification),
    Keepalive,
    RouteRefresh(RouteRefresh),
}

impl Message {
    /// The message type octet of this message.
    pub fn msg_type(&self) -> MessageType {
        match self {
            Message::Open(_) => MessageType::Open,
            Message::Update(_) => MessageType::Update,
            Message::Notification(_) => MessageType::Notification,
            Message::Keepalive => MessageType::Keepalive,
            Message::RouteRefresh(_) => MessageType::RouteRefresh,
        }
    }

    /// Decodes one whole message, header included (as cut by the framer). The header is checked
    /// again here (marker, type, length bounds against `ctx.max_message_len()`), and the length
    /// field must equal `frame.len()`.
    pub fn decode(frame: &[u8], ctx: &SessionContext) -> Result<Message, DecodeError> {
        let header = Header::decode(frame, ctx.max_message_len())?;
        if usize::from(header.length) != frame.len() {
            return Err(DecodeError::BadMessageLength {
                length: header.length,
                offset: 16,
            });
        }
        let body = frame.get(HEADER_LEN..).unwrap_or(&[]);
        Ok(match header.msg_type {
            MessageType::Open => Message::Open(Open::decode(body)?),
            MessageType::Update => Message::Update(Update::decode(body, ctx)?),
            MessageType::Notification => Message::Notification(Notification::decode(body)?),
            MessageType::Keepalive => {
                keepalive::decode(body)?;
                Message::Keepalive
            }
            MessageType::RouteRefresh => Message::RouteRefresh(RouteRefresh::decode(frame)?),
        })
    }

    /// Appends the whole message (header and body) to `buf`. A message longer than the session
    /// allows (4096, 65535 with RFC 8654; OPEN and KEEPALIVE never above 4096) is an error and
    /// leaves `buf` as it was: splitting or truncating is the caller's decision.
    pub fn encode(&self, ctx: &SessionContext, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let start = buf.len();
        let msg_type = self.msg_type();
        buf.put_slice(&[0; HEADER_LEN]);
        let body = match self {
            Message::Open(o) => o.encode(buf),
            Message::Update(u) => u.encode(ctx, buf).map_err(EncodeError::from),
            Message::Notification(n) => {
                n.encode(buf);
                Ok(())
            }
            Message::Keepalive => Ok(()),
            Message::RouteRefresh(r) => {
                r.encode(buf);
                Ok(())
            }
        };
        let len = buf.len() - start;
        let max = msg_type.max_len(ctx.max_message_len()).max(HEADER_LEN);
        let checked = match body {
            Ok(()) if len > max => Err(EncodeError::MessageTooLong { len, max }),
            other => other,
        };
        if let Err(e) = checked {
            buf.truncate(start);
            return Err(e);
        }
        let mut header = BytesMut::with_capacity(HEADER_LEN);
        Header {
            // `len <= max <= 65535`, checked above.
            length: len as u16,
            msg_type,
        }
        .encode(&mut header);
        buf[start..start + HEADER_LEN].copy_from_slice(&header);
        Ok(())
    }

    /// Encodes into a fresh buffer.
    pub fn to_bytes(&self, ctx: &SessionContext) -> Result<BytesMut, EncodeError> {
        let mut buf = BytesMut::new();
        self.encode(ctx, &mut buf)?;
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::arb;
    use crate::header::MAX_MESSAGE_LEN;
    use crate::notification::{code, header_subcode};
    use crate::route_refresh::RouteRefreshSubtype;
    use crate::types::{Afi, RouterId, Safi};
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    /// Messages BIRD 2.0.12 sent us (captured 2026-11-24, see open.rs for its config).
    const BIRD_KEEPALIVE: &str = "ffffffffffffffffffffffffffffffff001304";
    const BIRD_END_OF_RIB: &str = "ffffffffffffffffffffffffffffffff00170200000000";
    const BIRD_BORR: &str = "ffffffffffffffffffffffffffffffff00170500010101";
    const BIRD_CEASE: &str =
        "ffffffffffffffffffffffffffffffff0028030602126d61696e74656e616e63652077696e646f77";
    const BIRD_OPEN: &str = "ffffffffffffffffffffffffffffffff00610104fde9005a0a6307014402420104\
        0001000101040002000102000506000100010002060040\
        0a0078000101000002010041040000fde94504000101034600470e00010100000e1000020100000e10";

    fn roundtrip(hex_in: &str) -> Message {
        let ctx = SessionContext::default();
        let frame = hex::decode(hex_in).unwrap();
        let m = Message::decode(&frame, &ctx).unwrap();
        assert_eq!(hex::encode(m.to_bytes(&ctx).unwrap()), hex_in);
        m
    }

    #[test]
    fn bird_messages_roundtrip() {
        assert_eq!(roundtrip(BIRD_KEEPALIVE), Message::Keepalive);
        assert!(matches!(roundtrip(BIRD_OPEN), Message::Open(o) if o.my_as == 65001));
        assert!(matches!(roundtrip(BIRD_END_OF_RIB), Message::Update(_)));
        assert!(matches!(
            roundtrip(BIRD_BORR),
            Message::RouteRefresh(r) if r.subtype == RouteRefreshSubtype::BeginningOfRefresh
        ));
        assert!(matches!(
            roundtrip(BIRD_CEASE),
            Message::Notification(n) if n.code == code::CEASE && n.subcode == 2
        ));
    }

    #[test]
    fn frame_length_must_match_the_length_field() {
        let mut frame = hex::decode(BIRD_KEEPALIVE).unwrap();
        frame.push(0);
        let e = Message::decode(&frame, &SessionContext::default()).unwrap_err();
        let n = e.notification();
        assert_eq!(
            (n.code, n.subcode, n.data),
            (
                code::MESSAGE_HEADER,
                header_subcode::BAD_MESSAGE_LENGTH,
                vec![0, 19]
            )
        );
    }

    #[test]
    fn extended_length_needs_the_negotiated_context() {
        // An UPDATE-sized NOTIFICATION of 5000 octets.
        let m = Message::Notification(Notification::new(6, 2, vec![0; 5000 - 21]));
        let plain = SessionContext::default();
        assert_eq!(
            m.to_bytes(&plain),
            Err(EncodeError::MessageTooLong {
                len: 5000,
                max: MAX_MESSAGE_LEN
            })
        );
        let ext = SessionContext {
            extended_message: true,
            ..SessionContext::default()
        };
        let bytes = m.to_bytes(&ext).unwrap();
        assert_eq!(bytes.len(), 5000);
        assert_eq!(Message::decode(&bytes, &ext).unwrap(), m);
        let e = Message::decode(&bytes, &plain).unwrap_err();
        assert_eq!(e.notification().data, 5000u16.to_be_bytes().to_vec());
    }

    #[test]
    fn too_long_encode_leaves_the_buffer_untouched() {
        let mut buf = BytesMut::from(&b"abc"[..]);
        let m = Message::Notification(Notification::new(6, 2, vec![0; 5000]));
        assert!(m.encode(&SessionContext::default(), &mut buf).is_err());
        assert_eq!(&buf[..], b"abc");
        // OPEN is never extended (RFC 8654 §4), even on an extended session.
        let big = Open {
            my_as: 1,
            hold_time: 90,
            router_id: RouterId(Ipv4Addr::new(1, 1, 1, 1)),
            capabilities: (0..20)
                .map(|_| crate::Capability::Unknown {
                    code: 200,
                    data: vec![0; 250],
                })
                .collect(),
        };
        let ext = SessionContext {
            extended_message: true,
            ..SessionContext::default()
        };
        assert!(matches!(
            Message::Open(big).to_bytes(&ext),
            Err(EncodeError::MessageTooLong { max: 4096, .. })
        ));
    }

    #[test]
    fn update_errors_carry_the_update_notification_and_a_message_offset() {
        // UPDATE whose withdrawn routes length (5) overruns the 4-octet body.
        let frame = hex::decode("ffffffffffffffffffffffffffffffff0017020005000000").unwrap();
        let frame = &frame[..23];
        let e = Message::decode(frame, &SessionContext::default()).unwrap_err();
        assert!(matches!(e, DecodeError::Update(_)));
        assert_eq!(e.notification().code, code::UPDATE_MESSAGE);
        assert!(
            e.offset() >= HEADER_LEN,
            "offset counts the header: {}",
            e.offset()
        );
    }

    #[test]
    fn every_header_error_reaches_the_caller_from_message_decode() {
        let ctx = SessionContext::default();
        let cases: &[(&str, u8, u8, &[u8])] = &[
            // marker octet 0 is 0xfe
            ("feffffffffffffffffffffffffffffff001304", 1, 1, &[]),
            // KEEPALIVE of length 20
            ("ffffffffffffffffffffffffffffffff00140400", 1, 2, &[0, 20]),
            // type 6 does not exist
            ("ffffffffffffffffffffffffffffffff001306", 1, 3, &[6]),
            // OPEN version 3
            (
                "ffffffffffffffffffffffffffffffff001d0103fde9005a0a00000100",
                2,
                1,
                &[0, 4],
            ),
            // ROUTE-REFRESH BoRR with an extra octet
            (
                "ffffffffffffffffffffffffffffffff0018050001010100",
                7,
                1,
                &[],
            ),
        ];
        for (hex_in, c, s, data) in cases {
            let frame = hex::decode(hex_in).unwrap();
            let n = Message::decode(&frame, &ctx).unwrap_err().notification();
            assert_eq!((n.code, n.subcode), (*c, *s), "{hex_in}");
            if *c == 7 {
                assert_eq!(n.data, frame, "RFC 7313: the whole message");
            } else {
                assert_eq!(n.data, *data, "{hex_in}");
            }
        }
    }

    fn arb_message() -> impl Strategy<Value = Message> {
        prop_oneof![
            Just(Message::Keepalive),
            (
                any::<u8>(),
                any::<u8>(),
                prop::collection::vec(any::<u8>(), 0..200)
            )
                .prop_map(|(c, s, d)| Message::Notification(Notification::new(c, s, d))),
            (any::<u16>(), any::<u8>(), 0u8..=2).prop_map(|(a, s, t)| {
                Message::RouteRefresh(RouteRefresh {
                    afi: Afi::from_u16(a),
                    safi: Safi::from_u8(s),
                    subtype: crate::route_refresh::RouteRefreshSubtype::from_u8(t),
                })
            }),
            (
                1u16..,
                prop_oneof![Just(0u16), 3u16..],
                1u32..,
                prop::collection::vec(arb::capability(), 0..20)
            )
                .prop_map(|(my_as, hold_time, id, caps)| {
                    let caps = caps
                        .into_iter()
                        .filter(|c| !matches!(c, crate::Capability::FourOctetAs(_)))
                        .collect();
                    Message::Open(Open {
                        my_as,
                        hold_time,
                        router_id: RouterId(Ipv4Addr::from(id)),
                        capabilities: caps,
                    })
                }),
        ]
    }

    proptest! {
        #[test]
        fn message_roundtrips(m in arb_message()) {
            let ctx = SessionContext::default();
            let bytes = m.to_bytes(&ctx).unwrap();
            prop_assert_eq!(Message::decode(&bytes, &ctx).unwrap(), m);
        }

        #[test]
        fn message_decode_never_panics(
            bytes in prop::collection::vec(any::<u8>(), 0..600), ext in any::<bool>()
        ) {
            let ctx = SessionContext { extended_message: ext, ..SessionContext::default() };
            let _ = Message::decode(&bytes, &ctx);
        }

        #[test]
        fn message_decode_never_panics_with_a_valid_header(
            t in 0u8..8, body in prop::collection::vec(any::<u8>(), 0..600)
        ) {
            // Random bodies behind a correct marker and length reach every body decoder.
            let mut frame = vec![0xff; 16];
            frame.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
            frame.push(t);
            frame.extend_from_slice(&body);
            let _ = Message::decode(&frame, &SessionContext::default());
        }
    }
}
