//! COMMUNITIES (type 8, RFC 1997): optional transitive list of 32-bit values.

use std::fmt;

use super::bad_length;
use crate::update::Reason;

/// One RFC 1997 community, conventionally written `asn:value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Community(pub u32);

impl Community {
    /// RFC 1997 well-known communities.
    pub const NO_EXPORT: Community = Community(0xFFFF_FF01);
    pub const NO_ADVERTISE: Community = Community(0xFFFF_FF02);
    pub const NO_EXPORT_SUBCONFED: Community = Community(0xFFFF_FF03);
    /// RFC 8326.
    pub const GRACEFUL_SHUTDOWN: Community = Community(0xFFFF_0000);
    /// RFC 7999.
    pub const BLACKHOLE: Community = Community(0xFFFF_029A);

    pub fn new(asn: u16, value: u16) -> Self {
        Community((u32::from(asn) << 16) | u32::from(value))
    }
    pub fn asn(self) -> u16 {
        (self.0 >> 16) as u16
    }
    pub fn value(self) -> u16 {
        self.0 as u16
    }
}

impl fmt::Display for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.asn(), self.value())
    }
}

/// RFC 7606 §7.8: length not a multiple of 4 → treat-as-withdraw. (A zero-length attribute
/// is accepted: it is empty, not malformed.)
pub(crate) fn decode(v: &[u8]) -> Result<Vec<Community>, Reason> {
    if v.len() % 4 != 0 {
        return Err(bad_length(v, "a multiple of 4"));
    }
    Ok(v.chunks_exact(4)
        .map(|c| Community(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
        .collect())
}
