//! A `tokio_util` framer: cuts a TCP byte stream into whole BGP messages. It checks only the
//! header (marker, type, length bounds); decoding the body is [`Message::decode`]'s job, with the
//! session context the FSM holds. The framer keeps no protocol state except the maximum length,
//! which its owner raises with [`BgpFramer::set_max_len`] once RFC 8654 is negotiated.
//!
//! [`Message::decode`]: crate::message::Message::decode

use bytes::{Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::error::DecodeError;
use crate::header::{Header, HEADER_LEN, MAX_MESSAGE_LEN};

/// Errors of the framer: a header the peer must be told about, or the transport failing.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A bad header; send `err.notification()` and close.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// An outgoing frame longer than the current maximum.
    #[error("outgoing frame of {len} octets exceeds the maximum of {max}")]
    TooLong { len: usize, max: usize },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Frames BGP messages. Decoded items are whole messages, header included.
#[derive(Debug, Clone)]
pub struct BgpFramer {
    max_len: usize,
}

impl Default for BgpFramer {
    fn default() -> Self {
        BgpFramer {
            max_len: MAX_MESSAGE_LEN,
        }
    }
}

impl BgpFramer {
    /// A framer for 4096-octet messages.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the maximum message length: 4096, or 65535 after RFC 8654 negotiation. Values are
    /// clamped to 19..=65535.
    pub fn set_max_len(&mut self, max_len: usize) {
        self.max_len = max_len.clamp(HEADER_LEN, u16::MAX as usize);
    }

    pub fn max_len(&self) -> usize {
        self.max_len
    }
}

impl Decoder for BgpFramer {
    type Item = BytesMut;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        if src.len() < HEADER_LEN {
            src.reserve(HEADER_LEN - src.len());
            return Ok(None);
        }
        let header = Header::decode(src, self.max_len)?;
        let len = usize::from(header.length);
        if src.len() < len {
            src.reserve(len - src.len());
            return Ok(None);
        }
        Ok(Some(src.split_to(len)))
    }
}

impl Encoder<Bytes> for BgpFramer {
    type Error = FrameError;

    /// Queues one already encoded message (see `Message::encode`).
    fn encode(&mut self, item: Bytes, dst: &mut BytesMut) -> Result<(), FrameError> {
        if item.len() > self.max_len {
            return Err(FrameError::TooLong {
                len: item.len(),
                max: self.max_len,
            });
        }
        dst.extend_from_slice(&item);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notification::{code, header_subcode};

    const KEEPALIVE: &str = "ffffffffffffffffffffffffffffffff001304";
    const BORR: &str = "ffffffffffffffffffffffffffffffff00170500010101";

    #[test]
    fn cuts_a_stream_into_messages_across_partial_reads() {
        let stream = hex::decode(format!("{KEEPALIVE}{BORR}{KEEPALIVE}")).unwrap();
        let mut f = BgpFramer::new();
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        // Feed 5 octets at a time.
        for chunk in stream.chunks(5) {
            buf.extend_from_slice(chunk);
            while let Some(frame) = f.decode(&mut buf).unwrap() {
                frames.push(hex::encode(frame));
            }
        }
        assert_eq!(frames, vec![KEEPALIVE, BORR, KEEPALIVE]);
        assert!(buf.is_empty());
    }

    #[test]
    fn reports_a_bad_header_before_the_body_arrives() {
        let mut f = BgpFramer::new();
        // An UPDATE claiming 5000 octets: rejected on the header alone.
        let mut buf =
            BytesMut::from(&hex::decode("ffffffffffffffffffffffffffffffff138802").unwrap()[..]);
        let Err(FrameError::Decode(e)) = f.decode(&mut buf) else {
            panic!("expected a decode error");
        };
        let n = e.notification();
        assert_eq!(
            (n.code, n.subcode, n.data),
            (
                code::MESSAGE_HEADER,
                header_subcode::BAD_MESSAGE_LENGTH,
                vec![0x13, 0x88]
            )
        );
        // After RFC 8654 negotiation the same header waits for its body.
        f.set_max_len(65535);
        assert!(f.decode(&mut buf).unwrap().is_none());
    }

    #[test]
    fn stream_ending_inside_a_message_is_an_io_error() {
        let mut f = BgpFramer::new();
        let mut buf = BytesMut::from(&hex::decode(BORR).unwrap()[..20]);
        assert!(f.decode(&mut buf).unwrap().is_none());
        // tokio_util's default decode_eof reports the leftover octets as an io::Error.
        assert!(matches!(f.decode_eof(&mut buf), Err(FrameError::Io(_))));
        // A clean end between messages is not an error.
        let mut empty = BytesMut::new();
        assert!(f.decode_eof(&mut empty).unwrap().is_none());
    }

    #[test]
    fn encoder_refuses_frames_over_the_maximum() {
        let mut f = BgpFramer::new();
        let mut dst = BytesMut::new();
        f.encode(Bytes::from(hex::decode(KEEPALIVE).unwrap()), &mut dst)
            .unwrap();
        assert_eq!(hex::encode(&dst), KEEPALIVE);
        assert!(matches!(
            f.encode(Bytes::from(vec![0; 5000]), &mut dst),
            Err(FrameError::TooLong {
                len: 5000,
                max: 4096
            })
        ));
    }
}
