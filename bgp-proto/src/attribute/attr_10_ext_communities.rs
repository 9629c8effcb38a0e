//! EXTENDED_COMMUNITIES (type 16, RFC 4360): optional transitive list of 8-octet values.
//! Route target and route origin of the three transitive types (2-octet AS, IPv4, 4-octet AS,
//! RFC 4360 §4, RFC 5668) are typed; every other value is kept raw and re-encoded as received.

use std::net::Ipv4Addr;

use bytes::{BufMut, BytesMut};

use super::bad_length;
use crate::update::Reason;

/// The administrator / assigned-number pair of a typed extended community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExtAdmin {
    /// Type 0x00: 2-octet AS, 4-octet local value.
    As2 { asn: u16, local: u32 },
    /// Type 0x01: IPv4 address, 2-octet local value.
    Ipv4 { address: Ipv4Addr, local: u16 },
    /// Type 0x02: 4-octet AS, 2-octet local value (RFC 5668).
    As4 { asn: u32, local: u16 },
}

/// One extended community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExtCommunity {
    /// Sub-type 0x02.
    RouteTarget(ExtAdmin),
    /// Sub-type 0x03.
    RouteOrigin(ExtAdmin),
    /// Anything else, as the 8 octets received.
    Raw([u8; 8]),
}

impl ExtCommunity {
    pub fn from_bytes(b: [u8; 8]) -> Self {
        let admin = match b[0] {
            0x00 => ExtAdmin::As2 {
                asn: u16::from_be_bytes([b[2], b[3]]),
                local: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            },
            0x01 => ExtAdmin::Ipv4 {
                address: Ipv4Addr::new(b[2], b[3], b[4], b[5]),
                local: u16::from_be_bytes([b[6], b[7]]),
            },
            0x02 => ExtAdmin::As4 {
                asn: u32::from_be_bytes([b[2], b[3], b[4], b[5]]),
                local: u16::from_be_bytes([b[6], b[7]]),
            },
            _ => return ExtCommunity::Raw(b),
        };
        match b[1] {
            0x02 => ExtCommunity::RouteTarget(admin),
            0x03 => ExtCommunity::RouteOrigin(admin),
            _ => ExtCommunity::Raw(b),
        }
    }

    pub fn to_bytes(&self) -> [u8; 8] {
        let (sub, admin) = match self {
            ExtCommunity::Raw(b) => return *b,
            ExtCommunity::RouteTarget(a) => (0x02, a),
            ExtCommunity::RouteOrigin(a) => (0x03, a),
        };
        let mut b = [0u8; 8];
        b[1] = sub;
        match *admin {
            ExtAdmin::As2 { asn, local } => {
                b[0] = 0x00;
                b[2..4].copy_from_slice(&asn.to_be_bytes());
                b[4..8].copy_from_slice(&local.to_be_bytes());
            }
            ExtAdmin::Ipv4 { address, local } => {
                b[0] = 0x01;
                b[2..6].copy_from_slice(&address.octets());
                b[6..8].copy_from_slice(&local.to_be_bytes());
            }
            ExtAdmin::As4 { asn, local } => {
                b[0] = 0x02;
                b[2..6].copy_from_slice(&asn.to_be_bytes());
                b[6..8].copy_from_slice(&local.to_be_bytes());
            }
        }
        b
    }

    /// RFC 4360 §2: the T bit (0x40 of the type octet) marks a non-transitive community.
    pub fn is_transitive(&self) -> bool {
        self.to_bytes()[0] & 0x40 == 0
    }
}

/// RFC 7606 §7.14: length not a multiple of 8 → treat-as-withdraw.
pub(crate) fn decode(v: &[u8]) -> Result<Vec<ExtCommunity>, Reason> {
    if v.len() % 8 != 0 {
        return Err(bad_length(v, "a multiple of 8"));
    }
    Ok(v.chunks_exact(8)
        .map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            ExtCommunity::from_bytes(b)
        })
        .collect())
}

pub(crate) fn encode(v: &[ExtCommunity], buf: &mut BytesMut) {
    for c in v {
        buf.put_slice(&c.to_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_round_trip() {
        for b in [
            [0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 100], // RT 65000:100
            [0x01, 0x03, 10, 0, 0, 1, 0, 7],        // RO 10.0.0.1:7
            [0x02, 0x02, 0, 1, 0, 0, 0, 9],         // RT 65536:9 (4-octet AS)
            [0x03, 0x0c, 0, 0, 0, 0, 0, 8],         // encapsulation (raw)
            [0x40, 0x02, 1, 2, 3, 4, 5, 6],         // non-transitive 2-octet AS (raw)
        ] {
            assert_eq!(ExtCommunity::from_bytes(b).to_bytes(), b);
        }
        assert_eq!(
            ExtCommunity::from_bytes([0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 100]),
            ExtCommunity::RouteTarget(ExtAdmin::As2 {
                asn: 65000,
                local: 100
            })
        );
        assert!(!ExtCommunity::Raw([0x40, 0x02, 1, 2, 3, 4, 5, 6]).is_transitive());
    }
}
