//! UPDATE message (RFC 4271 §4.3) with RFC 7606 error handling.

use bytes::{BufMut, BytesMut};

use crate::attribute::PathAttributes;
use crate::context::SessionContext;
use crate::nlri::{self, NlriEntry};
use crate::notification::{code, update_subcode, Notification};
use crate::types::Family;

/// A decoded UPDATE.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    /// Withdrawn Routes field (IPv4 unicast).
    pub withdrawn: Vec<NlriEntry>,
    /// Path attributes.
    pub attributes: PathAttributes,
    /// NLRI field (IPv4 unicast).
    pub nlri: Vec<NlriEntry>,
}

/// A malformed UPDATE that resets the session (RFC 7606 §2 "session reset").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed UPDATE at body offset {offset}: subcode {subcode}")]
pub struct UpdateError {
    pub subcode: u8,
    pub data: Vec<u8>,
    pub offset: usize,
}

impl UpdateError {
    /// The NOTIFICATION to send.
    pub fn notification(&self) -> Notification {
        Notification::new(code::UPDATE_MESSAGE, self.subcode, self.data.clone())
    }
    /// Offset of the error relative to the start of the UPDATE body (after the header).
    pub fn offset(&self) -> usize {
        self.offset
    }
}

/// Why an UPDATE could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateEncodeError {
    #[error("UPDATE body of {len} octets exceeds the session limit of {max}")]
    TooLong { len: usize, max: usize },
}

impl Update {
    /// Decode an UPDATE body (the octets after the 19-octet header).
    pub fn decode(body: &[u8], ctx: &SessionContext) -> Result<Update, UpdateError> {
        let err = |offset| UpdateError {
            subcode: update_subcode::MALFORMED_ATTRIBUTE_LIST,
            data: Vec::new(),
            offset,
        };
        if body.len() < 2 {
            return Err(err(0));
        }
        let wlen = usize::from(u16::from_be_bytes([body[0], body[1]]));
        let wend = 2 + wlen;
        if body.len() < wend + 2 {
            return Err(err(0));
        }
        let mut u = Update::default();
        nlri::decode_into(
            &body[2..wend],
            Family::Ipv4Unicast,
            ctx.add_path_rx(Family::Ipv4Unicast),
            &mut u.withdrawn,
        )
        .map_err(|e| err(2 + e.offset))?;
        let alen = usize::from(u16::from_be_bytes([body[wend], body[wend + 1]]));
        let aend = wend + 2 + alen;
        if body.len() < aend {
            return Err(err(wend));
        }
        nlri::decode_into(
            &body[aend..],
            Family::Ipv4Unicast,
            ctx.add_path_rx(Family::Ipv4Unicast),
            &mut u.nlri,
        )
        .map_err(|e| err(aend + e.offset))?;
        Ok(u)
    }

    /// Encode the UPDATE body (without header).
    pub fn encode(
        &self,
        ctx: &SessionContext,
        buf: &mut BytesMut,
    ) -> Result<(), UpdateEncodeError> {
        let start = buf.len();
        let mut w = BytesMut::new();
        nlri::encode_all(
            &self.withdrawn,
            ctx.add_path_tx(Family::Ipv4Unicast),
            &mut w,
        );
        buf.put_u16(w.len() as u16);
        buf.put_slice(&w);
        buf.put_u16(0);
        nlri::encode_all(&self.nlri, ctx.add_path_tx(Family::Ipv4Unicast), buf);
        let len = buf.len() - start;
        let max = ctx.max_message_len() - 19;
        if len > max {
            buf.truncate(start);
            return Err(UpdateEncodeError::TooLong { len, max });
        }
        Ok(())
    }
}
