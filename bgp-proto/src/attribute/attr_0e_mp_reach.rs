//! MP_REACH_NLRI (type 14, RFC 4760 §3) for IPv4 and IPv6 unicast, including IPv4 NLRI with an
//! IPv6 next hop (RFC 8950) and the IPv6 global + link-local next hop (RFC 2545 §3).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, BytesMut};
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u8};

use crate::context::SessionContext;
use crate::nlri::{self, NlriEntry};
use crate::types::{Afi, Family, Safi};
use crate::update::Reason;

/// The next hop carried in MP_REACH_NLRI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MpNextHop {
    /// 4 octets (IPv4 AFI only).
    Ipv4(Ipv4Addr),
    /// 16 octets (global) or 32 octets (global followed by link-local).
    Ipv6 {
        global: Ipv6Addr,
        link_local: Option<Ipv6Addr>,
    },
}

impl MpNextHop {
    /// The address routes resolve through: the IPv4 address, the IPv6 global one, or the
    /// link-local one when the global field is empty (as BIRD reads a lone link-local).
    pub fn address(&self) -> IpAddr {
        match *self {
            MpNextHop::Ipv4(a) => IpAddr::V4(a),
            MpNextHop::Ipv6 {
                global,
                link_local: Some(ll),
            } if global.is_unspecified() => IpAddr::V6(ll),
            MpNextHop::Ipv6 { global, .. } => IpAddr::V6(global),
        }
    }

    /// RFC 4760 §3 / RFC 8950 §3 next-hop checks that need no session state beyond the
    /// context: a martian address → treat-as-withdraw (RFC 7606 §7.11 leaves the NLRI
    /// locatable); an IPv6 next hop for IPv4 NLRI without the negotiated extended next hop
    /// capability → treat-as-withdraw, as BIRD does.
    pub(crate) fn check(&self, family: Family, ctx: &SessionContext) -> Result<(), Reason> {
        let a = self.address();
        if family == Family::Ipv4Unicast && a.is_ipv6() && !ctx.extended_next_hop_v4 {
            return Err(Reason::NextHopFamily(a));
        }
        if super::attr_03_next_hop::is_martian(a) {
            return Err(Reason::MartianNextHop(a));
        }
        Ok(())
    }

    /// Octets of the Next Hop field.
    pub fn wire_len(&self) -> usize {
        match self {
            MpNextHop::Ipv4(_) => 4,
            MpNextHop::Ipv6 {
                link_local: None, ..
            } => 16,
            MpNextHop::Ipv6 { .. } => 32,
        }
    }

    pub(crate) fn encode(&self, buf: &mut BytesMut) {
        buf.put_u8(self.wire_len() as u8);
        match self {
            MpNextHop::Ipv4(a) => buf.put_slice(&a.octets()),
            MpNextHop::Ipv6 { global, link_local } => {
                buf.put_slice(&global.octets());
                if let Some(ll) = link_local {
                    buf.put_slice(&ll.octets());
                }
            }
        }
    }
}

/// A decoded MP_REACH_NLRI of a supported family.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MpReach {
    pub family: Family,
    pub next_hop: MpNextHop,
    pub nlri: Vec<NlriEntry>,
}

type R<'a, T> = nom::IResult<&'a [u8], T, ()>;

fn header(i: &[u8]) -> R<'_, (u16, u8, &[u8], u8)> {
    let (i, afi) = be_u16(i)?;
    let (i, safi) = be_u8(i)?;
    let (i, nh_len) = be_u8(i)?;
    let (i, nh) = take(nh_len)(i)?;
    let (i, reserved) = be_u8(i)?;
    Ok((i, (afi, safi, nh, reserved)))
}

/// Decode the value. `Ok(None)`: a family this codec does not carry (ignored, RFC 4760 §7).
/// Errors carry the offset within the value; RFC 7606 §7.11 makes them all session resets
/// (the NLRI cannot be located reliably), with subcode Optional Attribute Error (RFC 4760 §7).
pub(crate) fn decode(v: &[u8], ctx: &SessionContext) -> Result<Option<MpReach>, (Reason, usize)> {
    let (rest, (afi, safi, nh, _reserved)) =
        header(v).map_err(|_| (Reason::MpTruncated, 0usize))?;
    let Some(family) = Family::from_afi_safi(Afi::from_u16(afi), Safi::from_u8(safi)) else {
        return Ok(None);
    };
    let next_hop = match (family, nh.len()) {
        (Family::Ipv4Unicast, 4) => MpNextHop::Ipv4(Ipv4Addr::new(nh[0], nh[1], nh[2], nh[3])),
        (_, 16) | (_, 32) => {
            let mut g = [0u8; 16];
            g.copy_from_slice(&nh[..16]);
            let link_local = (nh.len() == 32).then(|| {
                let mut l = [0u8; 16];
                l.copy_from_slice(&nh[16..]);
                Ipv6Addr::from(l)
            });
            MpNextHop::Ipv6 {
                global: Ipv6Addr::from(g),
                link_local,
            }
        }
        (_, n) => return Err((Reason::MpNextHopLength(n as u8), 3)),
    };
    let nlri_at = v.len() - rest.len();
    let mut out = Vec::new();
    nlri::decode_into(rest, family, ctx.add_path_rx(family), &mut out)
        .map_err(|e| (Reason::MpNlri(e.kind), nlri_at + e.offset))?;
    Ok(Some(MpReach {
        family,
        next_hop,
        nlri: out,
    }))
}

pub(crate) fn encode(m: &MpReach, ctx: &SessionContext, buf: &mut BytesMut) {
    buf.put_u16(m.family.afi().to_u16());
    buf.put_u8(m.family.safi().to_u8());
    m.next_hop.encode(buf);
    buf.put_u8(0); // Reserved (RFC 4760 §3).
    nlri::encode_all(&m.nlri, ctx.add_path_tx(m.family), buf);
}
