//! MP_UNREACH_NLRI (type 15, RFC 4760 §4) for IPv4 and IPv6 unicast. An empty one is the
//! End-of-RIB marker of its family (RFC 4724 §2).

use bytes::{BufMut, BytesMut};

use crate::context::SessionContext;
use crate::nlri::{self, NlriEntry};
use crate::types::{Afi, Family, Safi};
use crate::update::Reason;

/// A decoded MP_UNREACH_NLRI of a supported family.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MpUnreach {
    pub family: Family,
    pub withdrawn: Vec<NlriEntry>,
}

/// Decode the value; `Ok(None)` for a family this codec does not carry. Errors (offset within
/// the value) reset the session (RFC 7606 §7.11, §5.3).
pub(crate) fn decode(v: &[u8], ctx: &SessionContext) -> Result<Option<MpUnreach>, (Reason, usize)> {
    let [a0, a1, safi, rest @ ..] = v else {
        return Err((Reason::MpTruncated, 0));
    };
    let afi = u16::from_be_bytes([*a0, *a1]);
    let Some(family) = Family::from_afi_safi(Afi::from_u16(afi), Safi::from_u8(*safi)) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    nlri::decode_into(rest, family, ctx.add_path_rx(family), &mut out)
        .map_err(|e| (Reason::MpNlri(e.kind), 3 + e.offset))?;
    Ok(Some(MpUnreach {
        family,
        withdrawn: out,
    }))
}

pub(crate) fn encode(m: &MpUnreach, ctx: &SessionContext, buf: &mut BytesMut) {
    buf.put_u16(m.family.afi().to_u16());
    buf.put_u8(m.family.safi().to_u8());
    nlri::encode_all(&m.withdrawn, ctx.add_path_tx(m.family), buf);
}
