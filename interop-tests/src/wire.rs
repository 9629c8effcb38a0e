//! The few raw BGP messages the load generators write themselves (they encode UPDATEs with
//! bgp-proto and need only framing and a plain OPEN around them).

use std::net::Ipv4Addr;

use bgp_proto::capability::GracefulRestart;
use bgp_proto::{Afi, Asn, Capability, EncodeError, Open, RouterId, Safi};
use bytes::BytesMut;

/// Message type codes of RFC 4271 §4.1.
pub const OPEN: u8 = 1;
pub const KEEPALIVE: u8 = 4;

/// A message of `kind` with `body`, behind the all-ones marker and the length.
pub fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xffu8; 16];
    let len = u16::try_from(19 + body.len()).unwrap_or(u16::MAX);
    m.extend_from_slice(&len.to_be_bytes());
    m.push(kind);
    m.extend_from_slice(body);
    m
}

/// A framed OPEN for IPv4 unicast with 4-octet AS; `end_of_rib` adds the graceful-restart
/// capability with no families (RFC 4724 §3), which makes FRR send End-of-RIB too.
pub fn open(
    asn: u32,
    hold_time: u16,
    id: Ipv4Addr,
    end_of_rib: bool,
) -> Result<Vec<u8>, EncodeError> {
    let mut caps = vec![
        Capability::Multiprotocol {
            afi: Afi::Ipv4,
            safi: Safi::Unicast,
        },
        Capability::FourOctetAs(Asn(asn)),
    ];
    if end_of_rib {
        caps.push(Capability::GracefulRestart(GracefulRestart {
            restart_state: false,
            notification: false,
            restart_time: 120,
            families: Vec::new(),
        }));
    }
    let mut body = BytesMut::new();
    Open::new(Asn(asn), hold_time, RouterId(id), caps).encode(&mut body)?;
    Ok(frame(OPEN, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalive_is_the_bare_header_and_open_carries_its_length() {
        let ka = frame(KEEPALIVE, &[]);
        assert_eq!(ka.len(), 19);
        assert_eq!(&ka[16..], &[0, 19, 4]);
        let o = open(64512, 90, Ipv4Addr::new(10, 99, 0, 2), true).expect("encodes");
        assert_eq!(usize::from(u16::from_be_bytes([o[16], o[17]])), o.len());
        assert_eq!(o[18], OPEN);
        // Version 4, AS_TRANS in the 2-octet AS field for 64512 (it fits: the AS itself).
        assert_eq!(o[19], 4);
        assert_eq!(u16::from_be_bytes([o[20], o[21]]), 64512);
    }
}
