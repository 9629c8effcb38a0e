//! ORIGIN (type 1, RFC 4271 §5.1.1): well-known mandatory, one octet.

use bytes::{BufMut, BytesMut};

use super::bad_length;
use crate::update::Reason;

/// Where the route came from (RFC 4271 §4.3 a).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    Igp,
    Egp,
    Incomplete,
}

impl Origin {
    pub fn to_u8(self) -> u8 {
        match self {
            Origin::Igp => 0,
            Origin::Egp => 1,
            Origin::Incomplete => 2,
        }
    }
}

/// RFC 7606 §7.1: wrong length or undefined value → treat-as-withdraw.
pub(crate) fn decode(v: &[u8]) -> Result<Origin, Reason> {
    match v {
        [0] => Ok(Origin::Igp),
        [1] => Ok(Origin::Egp),
        [2] => Ok(Origin::Incomplete),
        [x] => Err(Reason::InvalidOrigin(*x)),
        _ => Err(bad_length(v, "1")),
    }
}

pub(crate) fn encode(o: Origin, buf: &mut BytesMut) {
    buf.put_u8(o.to_u8());
}
