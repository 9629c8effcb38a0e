//! AGGREGATOR (type 7, RFC 4271 §5.1.7) and AS4_AGGREGATOR (type 18, RFC 6793 §3): the AS and
//! BGP identifier of the speaker that aggregated the route.

use std::net::Ipv4Addr;

use bytes::{BufMut, BytesMut};

use super::bad_length;
use crate::types::Asn;
use crate::update::Reason;

/// AGGREGATOR / AS4_AGGREGATOR value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Aggregator {
    pub asn: Asn,
    pub address: Ipv4Addr,
}

/// AGGREGATOR: 6 octets on a 2-octet session, 8 on a 4-octet one. RFC 7606 §7.7: other
/// lengths → attribute discard.
pub(crate) fn decode(v: &[u8], four_octet: bool) -> Result<Aggregator, Reason> {
    non_zero(match (four_octet, v) {
        (false, [a, b, r @ ..]) if r.len() == 4 => Ok(Aggregator {
            asn: Asn(u32::from(u16::from_be_bytes([*a, *b]))),
            address: Ipv4Addr::new(r[0], r[1], r[2], r[3]),
        }),
        (true, _) => decode_as4(v),
        _ => Err(bad_length(v, "6 (8 with 4-octet AS)")),
    })
}

/// RFC 7607 §2: AS 0 in AGGREGATOR / AS4_AGGREGATOR makes the attribute malformed.
fn non_zero(r: Result<Aggregator, Reason>) -> Result<Aggregator, Reason> {
    match r {
        Ok(a) if a.asn == Asn(0) => Err(Reason::AggregatorZeroAsn),
        r => r,
    }
}

/// AS4_AGGREGATOR: always 8 octets. RFC 6793 §6: malformed → attribute discard.
pub(crate) fn decode_as4(v: &[u8]) -> Result<Aggregator, Reason> {
    let a: [u8; 8] = v.try_into().map_err(|_| bad_length(v, "8"))?;
    non_zero(Ok(Aggregator {
        asn: Asn(u32::from_be_bytes([a[0], a[1], a[2], a[3]])),
        address: Ipv4Addr::new(a[4], a[5], a[6], a[7]),
    }))
}

/// Encode with 4-octet AS or 2-octet AS (AS_TRANS for numbers that do not fit, RFC 6793 §4.2.2).
pub(crate) fn encode(a: &Aggregator, four_octet: bool, buf: &mut BytesMut) {
    if four_octet {
        buf.put_u32(a.asn.0);
    } else {
        let asn = if a.asn.is_two_octet() {
            a.asn
        } else {
            Asn::TRANS
        };
        buf.put_u16(asn.0 as u16);
    }
    buf.put_slice(&a.address.octets());
}
