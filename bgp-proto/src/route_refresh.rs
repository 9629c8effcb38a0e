//! ROUTE-REFRESH message (RFC 2918 §3) with the message subtypes of enhanced route refresh
//! (RFC 7313 §3.2).

use bytes::{BufMut, BytesMut};

use crate::error::DecodeError;
use crate::header::HEADER_LEN;
use crate::types::{Afi, Family, Safi};

/// RFC 7313 §3.2: the octet that RFC 2918 called Reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteRefreshSubtype {
    /// 0: a normal route refresh request.
    Normal,
    /// 1: Beginning of Route Refresh (BoRR).
    BeginningOfRefresh,
    /// 2: End of Route Refresh (EoRR).
    EndOfRefresh,
    /// Any other value. RFC 7313 §5: the receiver MUST ignore such a message.
    Unknown(u8),
}

impl RouteRefreshSubtype {
    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => RouteRefreshSubtype::Normal,
            1 => RouteRefreshSubtype::BeginningOfRefresh,
            2 => RouteRefreshSubtype::EndOfRefresh,
            n => RouteRefreshSubtype::Unknown(n),
        }
    }
    pub fn to_u8(self) -> u8 {
        match self {
            RouteRefreshSubtype::Normal => 0,
            RouteRefreshSubtype::BeginningOfRefresh => 1,
            RouteRefreshSubtype::EndOfRefresh => 2,
            RouteRefreshSubtype::Unknown(n) => n,
        }
    }
}

/// A ROUTE-REFRESH: AFI (2), subtype (1), SAFI (1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteRefresh {
    pub afi: Afi,
    pub safi: Safi,
    pub subtype: RouteRefreshSubtype,
}

impl RouteRefresh {
    /// A normal refresh request for `family`.
    pub fn request(family: Family) -> RouteRefresh {
        RouteRefresh {
            afi: family.afi(),
            safi: family.safi(),
            subtype: RouteRefreshSubtype::Normal,
        }
    }

    /// Beginning of Route Refresh for `family` (RFC 7313 §4: sent before re-advertising).
    pub fn begin(family: Family) -> RouteRefresh {
        RouteRefresh {
            subtype: RouteRefreshSubtype::BeginningOfRefresh,
            ..RouteRefresh::request(family)
        }
    }

    /// End of Route Refresh for `family` (RFC 7313 §4: sent after the last UPDATE).
    pub fn end(family: Family) -> RouteRefresh {
        RouteRefresh {
            subtype: RouteRefreshSubtype::EndOfRefresh,
            ..RouteRefresh::request(family)
        }
    }

    /// The family, if it is one this daemon routes.
    pub fn family(&self) -> Option<Family> {
        Family::from_afi_safi(self.afi, self.safi)
    }

    /// Whether the receiver must ignore this message (RFC 7313 §5: unknown subtype).
    pub fn is_ignorable(&self) -> bool {
        matches!(self.subtype, RouteRefreshSubtype::Unknown(_))
    }

    /// Decodes a ROUTE-REFRESH from the whole message `frame` (header included; the
    /// NOTIFICATION for a bad length carries the complete message, RFC 7313 §5).
    ///
    /// A body shorter than 4 octets, or a BoRR/EoRR body other than exactly 4, is ROUTE-REFRESH
    /// Message Error / Invalid Message Length. A normal request may carry ORF entries after the
    /// first 4 octets (RFC 5291); we negotiate no ORF, so they are ignored. Unknown subtypes
    /// decode to [`RouteRefreshSubtype::Unknown`] whatever their length.
    pub fn decode(frame: &[u8]) -> Result<RouteRefresh, DecodeError> {
        let body = frame.get(HEADER_LEN..).unwrap_or(&[]);
        let bad_len = || DecodeError::RouteRefreshLength {
            message: frame.to_vec(),
            offset: 16,
        };
        let [a0, a1, subtype, safi, rest @ ..] = body else {
            return Err(bad_len());
        };
        let rr = RouteRefresh {
            afi: Afi::from_u16(u16::from_be_bytes([*a0, *a1])),
            safi: Safi::from_u8(*safi),
            subtype: RouteRefreshSubtype::from_u8(*subtype),
        };
        // RFC 7313 §5.
        if matches!(
            rr.subtype,
            RouteRefreshSubtype::BeginningOfRefresh | RouteRefreshSubtype::EndOfRefresh
        ) && !rest.is_empty()
        {
            return Err(bad_len());
        }
        Ok(rr)
    }

    /// Appends the 4-octet body to `buf`.
    pub fn encode(&self, buf: &mut BytesMut) {
        buf.put_u16(self.afi.to_u16());
        buf.put_u8(self.subtype.to_u8());
        buf.put_u8(self.safi.to_u8());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notification::{code, route_refresh_subcode};
    use proptest::prelude::*;

    fn frame(body_hex: &str) -> Vec<u8> {
        let body = hex::decode(body_hex).unwrap();
        let mut v = vec![0xff; 16];
        v.extend_from_slice(&((HEADER_LEN + body.len()) as u16).to_be_bytes());
        v.push(5);
        v.extend_from_slice(&body);
        v
    }

    #[test]
    fn decodes_bird_borr_and_eorr() {
        // BIRD 2.0.12 answering our refresh request with enhanced route refresh (captured
        // 2026-11-24): length 23, type 5; AFI 1, subtype 1 (BoRR) / 2 (EoRR), SAFI 1.
        for (hex_in, subtype) in [
            (
                "ffffffffffffffffffffffffffffffff00170500010101",
                RouteRefreshSubtype::BeginningOfRefresh,
            ),
            (
                "ffffffffffffffffffffffffffffffff00170500010201",
                RouteRefreshSubtype::EndOfRefresh,
            ),
        ] {
            let f = hex::decode(hex_in).unwrap();
            let rr = RouteRefresh::decode(&f).unwrap();
            assert_eq!(rr.subtype, subtype);
            let built = match subtype {
                RouteRefreshSubtype::BeginningOfRefresh => RouteRefresh::begin(Family::Ipv4Unicast),
                _ => RouteRefresh::end(Family::Ipv4Unicast),
            };
            assert_eq!(rr, built);
            assert_eq!(rr.family(), Some(Family::Ipv4Unicast));
            let mut out = BytesMut::new();
            rr.encode(&mut out);
            assert_eq!(&out[..], &f[HEADER_LEN..]);
        }
    }

    #[test]
    fn request_encodes_as_rfc_2918() {
        let mut out = BytesMut::new();
        RouteRefresh::request(Family::Ipv6Unicast).encode(&mut out);
        // AFI 2, reserved/subtype 0, SAFI 1.
        assert_eq!(hex::encode(&out), "00020001");
    }

    #[test]
    fn unknown_subtype_decodes_to_an_ignorable_value() {
        let rr = RouteRefresh::decode(&frame("0001070199")).unwrap();
        assert_eq!(rr.subtype, RouteRefreshSubtype::Unknown(7));
        assert!(rr.is_ignorable());
    }

    #[test]
    fn bad_lengths_are_invalid_message_length_with_the_whole_message() {
        for body in ["000101", "0001010100", "0001020100", ""] {
            let f = frame(body);
            let e = RouteRefresh::decode(&f).unwrap_err();
            let n = e.notification();
            assert_eq!(
                (n.code, n.subcode),
                (
                    code::ROUTE_REFRESH,
                    route_refresh_subcode::INVALID_MESSAGE_LENGTH
                ),
                "{body}"
            );
            assert_eq!(n.data, f);
        }
        // RFC 5291 ORF entries after a normal request are tolerated.
        assert!(RouteRefresh::decode(&frame("000100010102")).is_ok());
    }

    proptest! {
        #[test]
        fn route_refresh_roundtrips(afi in any::<u16>(), safi in any::<u8>(), st in any::<u8>()) {
            let rr = RouteRefresh {
                afi: Afi::from_u16(afi),
                safi: Safi::from_u8(safi),
                subtype: RouteRefreshSubtype::from_u8(st),
            };
            let mut body = BytesMut::new();
            rr.encode(&mut body);
            prop_assert_eq!(RouteRefresh::decode(&frame(&hex::encode(&body))).unwrap(), rr);
        }
    }
}
