//! LARGE_COMMUNITY (type 32, RFC 8092): optional transitive list of 12-octet values.

use std::fmt;

use bytes::{BufMut, BytesMut};

use super::bad_length;
use crate::update::Reason;

/// One large community `global:local1:local2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LargeCommunity {
    pub global: u32,
    pub local1: u32,
    pub local2: u32,
}

impl fmt::Display for LargeCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.global, self.local1, self.local2)
    }
}

/// RFC 8092 §5 (with RFC 7606): zero length or not a multiple of 12 → treat-as-withdraw.
pub(crate) fn decode(v: &[u8]) -> Result<Vec<LargeCommunity>, Reason> {
    if v.is_empty() || v.len() % 12 != 0 {
        return Err(bad_length(v, "a non-zero multiple of 12"));
    }
    let u = |c: &[u8]| u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
    Ok(v.chunks_exact(12)
        .map(|c| LargeCommunity {
            global: u(&c[0..4]),
            local1: u(&c[4..8]),
            local2: u(&c[8..12]),
        })
        .collect())
}

pub(crate) fn encode(v: &[LargeCommunity], buf: &mut BytesMut) {
    for c in v {
        buf.put_u32(c.global);
        buf.put_u32(c.local1);
        buf.put_u32(c.local2);
    }
}
