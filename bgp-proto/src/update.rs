//! UPDATE message (RFC 4271 §4.3, RFC 4760) with RFC 7606 error handling.
//!
//! [`Update::decode`] returns `Err` only for the "session reset" approach; the other outcomes
//! are listed in [`Update::malformations`], and [`Update::announced`] / [`Update::withdrawals`]
//! already apply them (treat-as-withdraw turns every NLRI into a withdrawal). All offsets are
//! relative to the UPDATE body (the octets after the 19-octet header).

use std::net::IpAddr;

use bytes::{BufMut, BytesMut};
use ipnet::IpNet;

use crate::attribute::{
    self, put_attr, type_code as tc, MpReach, MpUnreach, PathAttributes, RawAttribute,
};
use crate::context::SessionContext;
use crate::nlri::{self, NlriEntry};
use crate::notification::{code, Notification};
use crate::types::Family;

mod rfc7606;

pub use rfc7606::{Action, AttrName, Malformation, Reason};

/// Octets of the BGP message header (RFC 4271 §4.1).
pub const HEADER_LEN: usize = 19;

/// What the receiving speaker knows of itself to judge a next hop
/// ([`Update::apply_next_hop_rules`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct NextHopContext<'a> {
    /// Our own addresses: a next hop equal to one of them is treat-as-withdraw.
    pub own: &'a [IpAddr],
    /// For a directly connected (single-hop) eBGP peer: the connected subnets a next hop
    /// must fall in; `None` for iBGP and multihop peers (their next hops resolve recursively).
    pub connected: Option<&'a [IpNet]>,
}

/// A decoded UPDATE.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Update {
    /// Withdrawn Routes field (IPv4 unicast).
    pub withdrawn: Vec<NlriEntry>,
    /// Path attributes other than MP_REACH_NLRI / MP_UNREACH_NLRI.
    pub attributes: PathAttributes,
    /// MP_REACH_NLRI for IPv4/IPv6 unicast.
    pub mp_reach: Option<MpReach>,
    /// MP_UNREACH_NLRI for IPv4/IPv6 unicast.
    pub mp_unreach: Option<MpUnreach>,
    /// MP_REACH_NLRI / MP_UNREACH_NLRI of families this codec does not carry: ignored (RFC 4760
    /// §7), kept only so the message re-encodes as received.
    pub unsupported_mp: Vec<RawAttribute>,
    /// NLRI field (IPv4 unicast).
    pub nlri: Vec<NlriEntry>,
    /// Wire details of a received message, kept only so it re-encodes byte for byte.
    pub wire: WireDetails,
    /// RFC 7606 outcomes short of a session reset, in the order found.
    pub malformations: Vec<Malformation>,
}

/// How a received UPDATE laid out what the model does not capture. Default (all empty) for
/// messages we originate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct WireDetails {
    /// The received attribute type codes in wire order, kept only when that order is not the
    /// canonical one (MP_REACH/MP_UNREACH first, then ascending): GoBGP puts MP_REACH_NLRI at
    /// its type code or last, FRR writes LARGE_COMMUNITY before EXTENDED_COMMUNITIES.
    pub attr_order: Vec<u8>,
    /// Received flags of MP_REACH/MP_UNREACH where they differ from canonical (e.g. BIRD sets
    /// Extended Length on short values), as `(type code, flags)`.
    pub mp_flags: Vec<(u8, u8)>,
}

/// A malformed UPDATE that resets the session (RFC 7606 §2 "session reset").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {reason} (UPDATE body offset {offset})", AttrName(*attr_type))]
pub struct UpdateError {
    pub reason: Reason,
    /// The attribute concerned, if any.
    pub attr_type: Option<u8>,
    /// NOTIFICATION data (RFC 4271 §6.3: the erroneous attribute, or nothing).
    pub data: Vec<u8>,
    pub offset: usize,
}

impl UpdateError {
    pub(crate) fn new(reason: Reason, attr_type: Option<u8>, data: Vec<u8>, offset: usize) -> Self {
        UpdateError {
            reason,
            attr_type,
            data,
            offset,
        }
    }

    /// The NOTIFICATION to send: UPDATE Message Error with the subcode for the reason.
    pub fn notification(&self) -> Notification {
        Notification::new(
            code::UPDATE_MESSAGE,
            self.reason.subcode(),
            self.data.clone(),
        )
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
    #[error("attribute {type_code} value of {len} octets exceeds 65535")]
    AttributeTooLong { type_code: u8, len: usize },
    #[error("NLRI of {family} in the classic fields (only IPv4 unicast fits there)")]
    WrongFamily { family: Family },
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}

impl Update {
    /// Decode an UPDATE body (the octets after the 19-octet header).
    pub fn decode(body: &[u8], ctx: &SessionContext) -> Result<Update, UpdateError> {
        let reset = |reason, offset| Err(UpdateError::new(reason, None, Vec::new(), offset));
        // RFC 4271 §6.3 / RFC 7606 §4: if the length fields do not fit the message, the NLRI
        // cannot be located: session reset (Malformed Attribute List).
        let Some(wlen) = u16_at(body, 0) else {
            return reset(Reason::Truncated, 0);
        };
        let wend = 2 + wlen;
        if wend > body.len() {
            return reset(Reason::WithdrawnLengthOverrun, 0);
        }
        let Some(alen) = u16_at(body, wend) else {
            return reset(Reason::Truncated, wend);
        };
        let astart = wend + 2;
        let aend = astart + alen;
        if aend > body.len() {
            return reset(Reason::AttributesLengthOverrun, wend);
        }
        let v4 = Family::Ipv4Unicast;
        let mut u = Update::default();
        // RFC 7606 §5.3: an unparsable NLRI field cannot be withdrawn: session reset.
        if let Err(e) = nlri::decode_into(&body[2..wend], v4, ctx.add_path_rx(v4), &mut u.withdrawn)
        {
            return reset(Reason::WithdrawnNlri(e.kind), 2 + e.offset);
        }
        let d = attribute::decode_attributes(&body[astart..aend], astart, ctx)?;
        if let Err(e) = nlri::decode_into(&body[aend..], v4, ctx.add_path_rx(v4), &mut u.nlri) {
            return reset(Reason::Nlri(e.kind), aend + e.offset);
        }
        let seen = |t: u8| d.saw(t);
        let seen_required: [bool; 3] = [seen(tc::ORIGIN), seen(tc::AS_PATH), seen(tc::NEXT_HOP)];
        u.attributes = d.attrs;
        // MP flags describe this message, not the route: keep them out of the interned set.
        u.attributes.wire_flags.retain(|&(t, f)| {
            let mp = t == tc::MP_REACH_NLRI || t == tc::MP_UNREACH_NLRI;
            if mp {
                u.wire.mp_flags.push((t, f));
            }
            !mp
        });
        u.mp_reach = d.mp_reach;
        u.mp_unreach = d.mp_unreach;
        u.unsupported_mp = d.unsupported_mp;
        u.malformations = d.malformations;
        u.wire.attr_order = d.order;
        // RFC 7606 §3 (d): missing well-known mandatory attributes → treat-as-withdraw, only
        // meaningful when the UPDATE announces something. NEXT_HOP is mandatory only with
        // classic NLRI (RFC 4760 §3). An attribute seen but malformed is not reported twice.
        if !u.nlri.is_empty() || u.mp_reach.is_some() {
            let required = [tc::ORIGIN, tc::AS_PATH, tc::NEXT_HOP];
            let n = if u.nlri.is_empty() { 2 } else { 3 };
            for (t, seen) in required.into_iter().zip(seen_required).take(n) {
                if !seen {
                    u.malformations.push(Malformation {
                        attr_type: Some(t),
                        action: Action::TreatAsWithdraw,
                        reason: Reason::MissingWellKnown,
                        offset: astart,
                    });
                }
            }
        }
        Ok(u)
    }

    /// The strongest RFC 7606 action that applied (§3 h), if any.
    pub fn action(&self) -> Option<Action> {
        self.malformations.iter().map(|m| m.action).max()
    }

    /// Whether RFC 7606 treat-as-withdraw applies to this UPDATE.
    pub fn is_treat_as_withdraw(&self) -> bool {
        self.action() == Some(Action::TreatAsWithdraw)
    }

    /// Routes this UPDATE announces with [`Update::attributes`] (none under treat-as-withdraw).
    pub fn announced(&self) -> impl Iterator<Item = (Family, &NlriEntry)> + '_ {
        let on = !self.is_treat_as_withdraw();
        self.reach_entries().filter(move |_| on)
    }

    /// Routes this UPDATE withdraws: the withdrawn fields, plus every announced route under
    /// treat-as-withdraw (RFC 7606 §2).
    pub fn withdrawals(&self) -> impl Iterator<Item = (Family, &NlriEntry)> + '_ {
        let taw = self.is_treat_as_withdraw();
        let mp_fam = self.mp_unreach.as_ref().map(|m| m.family);
        let mp: &[NlriEntry] = self.mp_unreach.as_ref().map_or(&[], |m| &m.withdrawn);
        self.withdrawn
            .iter()
            .map(|e| (Family::Ipv4Unicast, e))
            .chain(
                mp.iter()
                    .map(move |e| (mp_fam.unwrap_or(Family::Ipv4Unicast), e)),
            )
            .chain(self.reach_entries().filter(move |_| taw))
    }

    /// Every NLRI this UPDATE carries in its NLRI field and MP_REACH_NLRI, whatever the verdict
    /// (for logs: the routes a treat-as-withdraw withdrew).
    pub fn reach_entries(&self) -> impl Iterator<Item = (Family, &NlriEntry)> + '_ {
        let fam = self.mp_reach.as_ref().map(|m| m.family);
        let mp: &[NlriEntry] = self.mp_reach.as_ref().map_or(&[], |m| &m.nlri);
        self.nlri.iter().map(|e| (Family::Ipv4Unicast, e)).chain(
            mp.iter()
                .map(move |e| (fam.unwrap_or(Family::Ipv4Unicast), e)),
        )
    }

    /// The family whose End-of-RIB marker this is (RFC 4724 §2): an empty UPDATE for IPv4
    /// unicast, an UPDATE with only an empty MP_UNREACH_NLRI for other families.
    pub fn end_of_rib(&self) -> Option<Family> {
        let bare = self.withdrawn.is_empty()
            && self.nlri.is_empty()
            && self.mp_reach.is_none()
            && self.unsupported_mp.is_empty()
            && self.malformations.is_empty();
        if !bare {
            return None;
        }
        match &self.mp_unreach {
            None if self.attributes == PathAttributes::default() => Some(Family::Ipv4Unicast),
            Some(m) if m.withdrawn.is_empty() && self.attributes == PathAttributes::default() => {
                Some(m.family)
            }
            _ => None,
        }
    }

    /// Rules that need to know the peer is external, which the codec cannot: call this once
    /// for UPDATEs from eBGP peers that are not confederation members. RFC 7606 §7.2:
    /// confederation segments in AS_PATH → treat-as-withdraw; §7.5 LOCAL_PREF, §7.9
    /// ORIGINATOR_ID, §7.10 CLUSTER_LIST → attribute discard (an ORIGINATOR_ID would win the
    /// router-id tie-break, a CLUSTER_LIST holding our cluster id would drop the route).
    /// Idempotent: a second call finds nothing left to discard and records nothing twice.
    pub fn apply_ebgp_rules(&mut self) {
        let confed = self
            .attributes
            .as_path
            .as_ref()
            .is_some_and(|p| p.has_confed());
        if confed
            && !self
                .malformations
                .iter()
                .any(|m| m.reason == Reason::ConfedFromExternalPeer)
        {
            self.malformations.push(Malformation {
                attr_type: Some(tc::AS_PATH),
                action: Action::TreatAsWithdraw,
                reason: Reason::ConfedFromExternalPeer,
                offset: 0,
            });
        }
        let a = &mut self.attributes;
        let discarded = [
            (
                a.local_pref.take().is_some(),
                tc::LOCAL_PREF,
                Reason::LocalPrefFromExternalPeer,
            ),
            (
                a.originator_id.take().is_some(),
                tc::ORIGINATOR_ID,
                Reason::OriginatorIdFromExternalPeer,
            ),
            (
                a.cluster_list.take().is_some(),
                tc::CLUSTER_LIST,
                Reason::ClusterListFromExternalPeer,
            ),
        ];
        for (_, code, reason) in discarded.into_iter().filter(|d| d.0) {
            self.malformations.push(Malformation {
                attr_type: Some(code),
                action: Action::AttributeDiscard,
                reason,
                offset: 0,
            });
        }
    }

    /// The next hops this UPDATE gives its announced routes: NEXT_HOP when the classic NLRI
    /// field is not empty, and MP_REACH_NLRI's (its [`MpNextHop::address`](attribute::MpNextHop::address)).
    pub fn next_hops(&self) -> impl Iterator<Item = (u8, IpAddr)> + '_ {
        let classic = self
            .attributes
            .next_hop
            .filter(|_| !self.nlri.is_empty())
            .map(|a| (tc::NEXT_HOP, IpAddr::V4(a)));
        let mp = self
            .mp_reach
            .as_ref()
            .filter(|m| !m.nlri.is_empty())
            .map(|m| (tc::MP_REACH_NLRI, m.next_hop.address()));
        classic.into_iter().chain(mp)
    }

    /// RFC 4271 §5.1.3 / §6.3 checks that need the receiving speaker's addresses: a next hop
    /// equal to one of ours, or (single-hop eBGP, as BIRD's direct gateway mode) outside every
    /// directly connected subnet, is treat-as-withdraw. Call once per received UPDATE.
    pub fn apply_next_hop_rules(&mut self, cx: &NextHopContext<'_>) {
        let mut found: Vec<Malformation> = Vec::new();
        for (code, nh) in self.next_hops() {
            let reason = if cx.own.contains(&nh) {
                Reason::OwnNextHop(nh)
            } else if cx
                .connected
                .is_some_and(|c| !c.iter().any(|n| n.contains(&nh)))
            {
                Reason::NextHopNotConnected(nh)
            } else {
                continue;
            };
            found.push(Malformation {
                attr_type: Some(code),
                action: Action::TreatAsWithdraw,
                reason,
                offset: 0,
            });
        }
        self.malformations.extend(found);
    }

    /// Encode the UPDATE body (without header). MP_REACH_NLRI and MP_UNREACH_NLRI come first
    /// (RFC 7606 §5.1), then the other attributes (see [`crate::attribute`]).
    pub fn encode(
        &self,
        ctx: &SessionContext,
        buf: &mut BytesMut,
    ) -> Result<(), UpdateEncodeError> {
        let start = buf.len();
        let r = self.encode_inner(ctx, buf);
        if r.is_err() {
            buf.truncate(start);
            return r;
        }
        let len = buf.len() - start;
        let max = ctx.max_message_len() - HEADER_LEN;
        if len > max {
            buf.truncate(start);
            return Err(UpdateEncodeError::TooLong { len, max });
        }
        Ok(())
    }

    fn encode_inner(
        &self,
        ctx: &SessionContext,
        buf: &mut BytesMut,
    ) -> Result<(), UpdateEncodeError> {
        let v4 = Family::Ipv4Unicast;
        for e in self.withdrawn.iter().chain(&self.nlri) {
            if e.family() != v4 {
                return Err(UpdateEncodeError::WrongFamily { family: e.family() });
            }
        }
        let wstart = buf.len();
        buf.put_u16(0);
        nlri::encode_all(&self.withdrawn, ctx.add_path_tx(v4), buf);
        let wlen = buf.len() - wstart - 2;
        let wlen = u16::try_from(wlen).map_err(|_| UpdateEncodeError::TooLong {
            len: wlen,
            max: usize::from(u16::MAX),
        })?;
        buf[wstart..wstart + 2].copy_from_slice(&wlen.to_be_bytes());
        let astart = buf.len();
        buf.put_u16(0);
        let mp_flags = |code: u8| {
            let canon = attribute::flags::OPTIONAL;
            self.wire
                .mp_flags
                .iter()
                .find(|(t, _)| *t == code)
                .map_or(canon, |(_, f)| (f & 0x3f) | canon)
        };
        let mut mp = |code: u8, b: &mut BytesMut| -> Result<(), UpdateEncodeError> {
            match (code, &self.mp_reach, &self.mp_unreach) {
                (tc::MP_REACH_NLRI, Some(m), _) => {
                    put_attr(b, mp_flags(code), code, |b| {
                        attribute::encode_mp_reach(m, ctx, b)
                    })?;
                }
                (tc::MP_UNREACH_NLRI, _, Some(m)) => {
                    put_attr(b, mp_flags(code), code, |b| {
                        attribute::encode_mp_unreach(m, ctx, b)
                    })?;
                }
                _ => {}
            }
            for a in self.unsupported_mp.iter().filter(|a| a.type_code == code) {
                put_attr(b, a.flags, a.type_code, |b| b.put_slice(&a.value))?;
            }
            Ok(())
        };
        self.attributes
            .encode_ordered(ctx, buf, &self.wire.attr_order, Some(&mut mp))?;
        let alen = buf.len() - astart - 2;
        let alen = u16::try_from(alen).map_err(|_| UpdateEncodeError::TooLong {
            len: alen,
            max: usize::from(u16::MAX),
        })?;
        buf[astart..astart + 2].copy_from_slice(&alen.to_be_bytes());
        nlri::encode_all(&self.nlri, ctx.add_path_tx(v4), buf);
        Ok(())
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod context_tests;

#[cfg(test)]
mod proptests;
