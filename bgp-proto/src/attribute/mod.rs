//! Path attributes (RFC 4271 §4.3, §5) as one typed, hashable set, [`PathAttributes`], that the
//! RIB interns. One file per attribute, named by its IANA type code.
//!
//! MP_REACH_NLRI and MP_UNREACH_NLRI carry NLRI, not route properties, so they live in
//! [`Update`](crate::update::Update) rather than in the set.
//!
//! Encoding is deterministic: MP_REACH_NLRI / MP_UNREACH_NLRI first (RFC 7606 §5.1), then the
//! other attributes by ascending type code, unknown ones merged in by their code; flags are the
//! canonical ones for the type (Optional/Transitive), Extended Length set when the value exceeds
//! 255 octets. A received message re-encodes byte for byte: the set remembers in
//! [`PathAttributes::wire_flags`] the flags of known attributes that differ from canonical in
//! the Partial bit, the low four bits, or an Extended Length bit on a short value; unknown
//! attributes keep their flags in [`RawAttribute::flags`]; a non-canonical attribute order is
//! kept per message in [`WireDetails`](crate::update::WireDetails) (outside the interned set).
//! Call [`PathAttributes::prepare_for_readvertisement`] before sending a received set on.

use std::net::Ipv4Addr;

use bytes::{BufMut, BytesMut};

use crate::context::SessionContext;
use crate::types::Asn;
use crate::update::{Action, Malformation, Reason, UpdateEncodeError, UpdateError};

mod attr_01_origin;
mod attr_02_as_path;
mod attr_03_next_hop;
mod attr_04_med;
mod attr_05_local_pref;
mod attr_06_atomic_aggregate;
mod attr_07_aggregator;
mod attr_08_communities;
mod attr_09_originator_id;
mod attr_0a_cluster_list;
mod attr_0e_mp_reach;
mod attr_0f_mp_unreach;
mod attr_10_ext_communities;
mod attr_20_large_communities;
mod attr_23_otc;

pub use attr_01_origin::Origin;
pub use attr_02_as_path::{merge_as4_path, AsPath, AsSegment, SegmentType};
pub use attr_03_next_hop::is_martian as is_martian_next_hop;
pub use attr_07_aggregator::Aggregator;
pub use attr_08_communities::Community;
pub(crate) use attr_0e_mp_reach::encode as encode_mp_reach;
pub use attr_0e_mp_reach::{MpNextHop, MpReach};
pub(crate) use attr_0f_mp_unreach::encode as encode_mp_unreach;
pub use attr_0f_mp_unreach::MpUnreach;
pub use attr_10_ext_communities::{ExtAdmin, ExtCommunity};
pub use attr_20_large_communities::LargeCommunity;

/// Attribute flag bits (RFC 4271 §4.3).
pub mod flags {
    pub const OPTIONAL: u8 = 0x80;
    pub const TRANSITIVE: u8 = 0x40;
    pub const PARTIAL: u8 = 0x20;
    pub const EXTENDED_LENGTH: u8 = 0x10;
}

/// Attribute type codes (IANA "BGP Path Attributes").
pub mod type_code {
    pub const ORIGIN: u8 = 1;
    pub const AS_PATH: u8 = 2;
    pub const NEXT_HOP: u8 = 3;
    pub const MULTI_EXIT_DISC: u8 = 4;
    pub const LOCAL_PREF: u8 = 5;
    pub const ATOMIC_AGGREGATE: u8 = 6;
    pub const AGGREGATOR: u8 = 7;
    pub const COMMUNITIES: u8 = 8;
    pub const ORIGINATOR_ID: u8 = 9;
    pub const CLUSTER_LIST: u8 = 10;
    pub const MP_REACH_NLRI: u8 = 14;
    pub const MP_UNREACH_NLRI: u8 = 15;
    pub const EXTENDED_COMMUNITIES: u8 = 16;
    pub const AS4_PATH: u8 = 17;
    pub const AS4_AGGREGATOR: u8 = 18;
    pub const LARGE_COMMUNITIES: u8 = 32;
    pub const OTC: u8 = 35;
}

use flags::{EXTENDED_LENGTH, OPTIONAL, PARTIAL, TRANSITIVE};
use type_code as tc;

/// The IANA name of a known attribute type code (as RFCs and the peers' logs spell it).
pub fn type_name(type_code: u8) -> Option<&'static str> {
    Some(match type_code {
        tc::ORIGIN => "ORIGIN",
        tc::AS_PATH => "AS_PATH",
        tc::NEXT_HOP => "NEXT_HOP",
        tc::MULTI_EXIT_DISC => "MULTI_EXIT_DISC",
        tc::LOCAL_PREF => "LOCAL_PREF",
        tc::ATOMIC_AGGREGATE => "ATOMIC_AGGREGATE",
        tc::AGGREGATOR => "AGGREGATOR",
        tc::COMMUNITIES => "COMMUNITIES",
        tc::ORIGINATOR_ID => "ORIGINATOR_ID",
        tc::CLUSTER_LIST => "CLUSTER_LIST",
        tc::MP_REACH_NLRI => "MP_REACH_NLRI",
        tc::MP_UNREACH_NLRI => "MP_UNREACH_NLRI",
        tc::EXTENDED_COMMUNITIES => "EXTENDED_COMMUNITIES",
        tc::AS4_PATH => "AS4_PATH",
        tc::AS4_AGGREGATOR => "AS4_AGGREGATOR",
        tc::LARGE_COMMUNITIES => "LARGE_COMMUNITY",
        tc::OTC => "ONLY_TO_CUSTOMER",
        _ => return None,
    })
}

/// `Reason::BadLength` for a value of `v.len()` octets.
pub(crate) fn bad_length(v: &[u8], expected: &'static str) -> Reason {
    Reason::BadLength {
        len: u16::try_from(v.len()).unwrap_or(u16::MAX),
        expected,
    }
}

/// The Optional/Transitive flags a known attribute must carry; `None` for unknown types.
pub fn canonical_flags(type_code: u8) -> Option<u8> {
    Some(match type_code {
        tc::ORIGIN | tc::AS_PATH | tc::NEXT_HOP | tc::LOCAL_PREF | tc::ATOMIC_AGGREGATE => {
            TRANSITIVE
        }
        tc::MULTI_EXIT_DISC
        | tc::ORIGINATOR_ID
        | tc::CLUSTER_LIST
        | tc::MP_REACH_NLRI
        | tc::MP_UNREACH_NLRI => OPTIONAL,
        tc::AGGREGATOR
        | tc::COMMUNITIES
        | tc::EXTENDED_COMMUNITIES
        | tc::AS4_PATH
        | tc::AS4_AGGREGATOR
        | tc::LARGE_COMMUNITIES
        | tc::OTC => OPTIONAL | TRANSITIVE,
        _ => return None,
    })
}

/// What RFC 7606 prescribes when a known attribute's value is malformed (§7, RFC 6793 §6,
/// RFC 8092, RFC 9234 §5).
pub fn malformed_action(type_code: u8) -> Action {
    match type_code {
        tc::ATOMIC_AGGREGATE | tc::AGGREGATOR | tc::AS4_PATH | tc::AS4_AGGREGATOR | tc::OTC => {
            Action::AttributeDiscard
        }
        tc::MP_REACH_NLRI | tc::MP_UNREACH_NLRI => Action::SessionReset,
        _ => Action::TreatAsWithdraw,
    }
}

/// An attribute kept as received: flags, type code and value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RawAttribute {
    pub flags: u8,
    pub type_code: u8,
    pub value: Vec<u8>,
}

impl RawAttribute {
    pub fn is_optional(&self) -> bool {
        self.flags & OPTIONAL != 0
    }
    pub fn is_transitive(&self) -> bool {
        self.flags & TRANSITIVE != 0
    }
}

/// The path attributes of a route, typed. Absent attributes are `None` (or `false`).
/// AS numbers are always 4-octet values; on a 2-octet session AS_PATH holds AS_TRANS where the
/// peer put it and AS4_PATH holds the real numbers until [`PathAttributes::normalize_as4`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PathAttributes {
    pub origin: Option<Origin>,
    pub as_path: Option<AsPath>,
    pub next_hop: Option<Ipv4Addr>,
    pub med: Option<u32>,
    pub local_pref: Option<u32>,
    pub atomic_aggregate: bool,
    pub aggregator: Option<Aggregator>,
    pub communities: Option<Vec<Community>>,
    pub originator_id: Option<Ipv4Addr>,
    pub cluster_list: Option<Vec<Ipv4Addr>>,
    pub ext_communities: Option<Vec<ExtCommunity>>,
    pub as4_path: Option<AsPath>,
    pub as4_aggregator: Option<Aggregator>,
    pub large_communities: Option<Vec<LargeCommunity>>,
    pub otc: Option<Asn>,
    /// Attributes this codec does not know, in ascending type code order.
    pub unknown: Vec<RawAttribute>,
    /// Received flags of known attributes that differ from canonical beyond Optional/Transitive
    /// (`(type code, flags)`), kept so a re-encode is byte-identical. Usually empty.
    pub wire_flags: Vec<(u8, u8)>,
}

impl PathAttributes {
    /// RFC 6793 §4.2.3: the real AS path (AS_PATH merged with AS4_PATH when both are present
    /// and AGGREGATOR does not veto it).
    pub fn effective_as_path(&self) -> Option<AsPath> {
        let p = self.as_path.as_ref()?;
        match (&self.as4_path, self.as4_ignored()) {
            (Some(p4), false) => Some(merge_as4_path(p, p4)),
            _ => Some(p.clone()),
        }
    }

    /// RFC 6793 §4.2.3: the real aggregator (AS4_AGGREGATOR when AGGREGATOR holds AS_TRANS).
    pub fn effective_aggregator(&self) -> Option<Aggregator> {
        match (self.aggregator, self.as4_aggregator) {
            (Some(a), Some(a4)) if a.asn == Asn::TRANS => Some(a4),
            (a, _) => a,
        }
    }

    /// RFC 6793 §4.2.3: AS4_* must be ignored if AGGREGATOR carries a real 2-octet AS and
    /// AS4_AGGREGATOR is present.
    fn as4_ignored(&self) -> bool {
        matches!((self.aggregator, self.as4_aggregator), (Some(a), Some(_)) if a.asn != Asn::TRANS)
    }

    /// Replace AS_PATH/AGGREGATOR by their effective values and drop AS4_PATH/AS4_AGGREGATOR,
    /// giving the set a 2-octet peer's route would have had on a 4-octet session.
    pub fn normalize_as4(&mut self) {
        self.as_path = self.effective_as_path();
        self.aggregator = self.effective_aggregator();
        self.as4_path = None;
        self.as4_aggregator = None;
    }

    /// Prepare a received set to be sent on (RFC 4271 §5, §9.1.3): unknown optional
    /// non-transitive attributes are dropped, unknown optional transitive ones get the Partial
    /// bit, and remembered wire flags other than Partial are forgotten.
    pub fn prepare_for_readvertisement(&mut self) {
        self.unknown
            .retain(|a| a.is_optional() && a.is_transitive());
        for a in &mut self.unknown {
            a.flags |= PARTIAL;
        }
        self.wire_flags.retain_mut(|(_, f)| {
            *f &= OPTIONAL | TRANSITIVE | PARTIAL;
            *f & PARTIAL != 0
        });
    }

    fn wire_flags_for(&self, code: u8) -> Option<u8> {
        self.wire_flags
            .iter()
            .find(|(t, _)| *t == code)
            .map(|(_, f)| *f)
    }

    /// Encode the set (not MP_REACH/MP_UNREACH) for `ctx`, see the module doc for the order and
    /// flags. On a 2-octet session with 4-octet numbers in AS_PATH/AGGREGATOR and no AS4_*
    /// attribute, AS4_PATH/AS4_AGGREGATOR are generated (RFC 6793 §4.2.2); on a 4-octet session
    /// AS4_* are never sent (RFC 6793 §3).
    pub fn encode(
        &self,
        ctx: &SessionContext,
        buf: &mut BytesMut,
    ) -> Result<(), UpdateEncodeError> {
        self.encode_ordered(ctx, buf, &[], None)
    }

    /// Encode the attributes whose type codes are listed in `order` in that order (a received
    /// message's order, see [`WireDetails`](crate::update::WireDetails)), then the remaining ones
    /// canonically: MP_REACH/MP_UNREACH first (written by `mp`, called with the type code),
    /// then by ascending type code.
    pub(crate) fn encode_ordered(
        &self,
        ctx: &SessionContext,
        buf: &mut BytesMut,
        order: &[u8],
        mut mp: Option<MpWriter<'_>>,
    ) -> Result<(), UpdateEncodeError> {
        let mut done = CodeSet::default();
        for &code in order {
            if done.contains(code) {
                continue;
            }
            done.insert(code);
            if code == tc::MP_REACH_NLRI || code == tc::MP_UNREACH_NLRI {
                if let Some(write_mp) = mp.as_mut() {
                    write_mp(code, buf)?;
                }
                continue;
            }
            self.encode_code(code, ctx, buf)?;
        }
        if let Some(write_mp) = mp.as_mut() {
            for code in [tc::MP_REACH_NLRI, tc::MP_UNREACH_NLRI] {
                if !done.contains(code) {
                    done.insert(code);
                    write_mp(code, buf)?;
                }
            }
        }
        let mut present = CodeSet::default();
        for a in &self.unknown {
            present.insert(a.type_code);
        }
        for code in 0..=u8::MAX {
            if !done.contains(code) && (canonical_flags(code).is_some() || present.contains(code)) {
                self.encode_code(code, ctx, buf)?;
            }
        }
        Ok(())
    }

    /// The flags to write for known attribute `code`: canonical Optional/Transitive, other bits
    /// as received.
    fn flags_for(&self, code: u8) -> u8 {
        let canon = canonical_flags(code).unwrap_or(OPTIONAL | TRANSITIVE);
        match self.wire_flags_for(code) {
            Some(f) => (f & !(OPTIONAL | TRANSITIVE)) | canon,
            None => canon,
        }
    }

    /// Write the attribute(s) of type `code` if the set has them.
    fn encode_code(
        &self,
        code: u8,
        ctx: &SessionContext,
        buf: &mut BytesMut,
    ) -> Result<(), UpdateEncodeError> {
        let four = ctx.four_octet_as;
        let f = self.flags_for(code);
        match code {
            tc::ORIGIN => {
                if let Some(o) = self.origin {
                    put_attr(buf, f, code, |b| attr_01_origin::encode(o, b))?;
                }
            }
            tc::AS_PATH => {
                if let Some(p) = &self.as_path {
                    put_attr(buf, f, code, |b| attr_02_as_path::encode(p, four, b))?;
                }
            }
            tc::NEXT_HOP => {
                if let Some(nh) = self.next_hop {
                    put_attr(buf, f, code, |b| b.put_slice(&nh.octets()))?;
                }
            }
            tc::MULTI_EXIT_DISC => {
                if let Some(m) = self.med {
                    put_attr(buf, f, code, |b| b.put_u32(m))?;
                }
            }
            tc::LOCAL_PREF => {
                if let Some(lp) = self.local_pref {
                    put_attr(buf, f, code, |b| b.put_u32(lp))?;
                }
            }
            tc::ATOMIC_AGGREGATE => {
                if self.atomic_aggregate {
                    put_attr(buf, f, code, |_| {})?;
                }
            }
            tc::AGGREGATOR => {
                if let Some(a) = &self.aggregator {
                    put_attr(buf, f, code, |b| attr_07_aggregator::encode(a, four, b))?;
                }
            }
            tc::COMMUNITIES => {
                if let Some(cs) = &self.communities {
                    put_attr(buf, f, code, |b| cs.iter().for_each(|c| b.put_u32(c.0)))?;
                }
            }
            tc::ORIGINATOR_ID => {
                if let Some(id) = self.originator_id {
                    put_attr(buf, f, code, |b| b.put_slice(&id.octets()))?;
                }
            }
            tc::CLUSTER_LIST => {
                if let Some(cl) = &self.cluster_list {
                    put_attr(buf, f, code, |b| {
                        cl.iter().for_each(|c| b.put_slice(&c.octets()))
                    })?;
                }
            }
            // Carried by `Update`, written through the `mp` hook.
            tc::MP_REACH_NLRI | tc::MP_UNREACH_NLRI => {}
            tc::EXTENDED_COMMUNITIES => {
                if let Some(ec) = &self.ext_communities {
                    put_attr(buf, f, code, |b| attr_10_ext_communities::encode(ec, b))?;
                }
            }
            // RFC 6793 §4.2.2: a NEW speaker tells an OLD one the real numbers.
            tc::AS4_PATH if !four => {
                let generated;
                let as4_path = match (&self.as4_path, &self.as_path) {
                    (Some(p), _) => Some(p),
                    (None, Some(p)) if p.has_four_octet_asn() => {
                        generated = AsPath {
                            segments: p
                                .segments
                                .iter()
                                .filter(|s| !s.kind.is_confed())
                                .cloned()
                                .collect(),
                        };
                        Some(&generated)
                    }
                    _ => None,
                };
                if let Some(p) = as4_path {
                    put_attr(buf, f, code, |b| attr_02_as_path::encode(p, true, b))?;
                }
            }
            tc::AS4_AGGREGATOR if !four => {
                let as4_agg = match (self.as4_aggregator, self.aggregator) {
                    (Some(a), _) => Some(a),
                    (None, Some(a)) if !a.asn.is_two_octet() => Some(a),
                    _ => None,
                };
                if let Some(a) = as4_agg {
                    put_attr(buf, f, code, |b| attr_07_aggregator::encode(&a, true, b))?;
                }
            }
            // RFC 6793 §3: never sent to a 4-octet speaker.
            tc::AS4_PATH | tc::AS4_AGGREGATOR => {}
            tc::LARGE_COMMUNITIES => {
                if let Some(lc) = &self.large_communities {
                    put_attr(buf, f, code, |b| attr_20_large_communities::encode(lc, b))?;
                }
            }
            tc::OTC => {
                if let Some(asn) = self.otc {
                    put_attr(buf, f, code, |b| b.put_u32(asn.0))?;
                }
            }
            _ => {
                for a in self.unknown.iter().filter(|a| a.type_code == code) {
                    put_attr(buf, a.flags, a.type_code, |b| b.put_slice(&a.value))?;
                }
            }
        }
        Ok(())
    }
}

/// A set of attribute type codes (256 bits, no allocation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CodeSet([u64; 4]);

impl CodeSet {
    pub(crate) fn contains(&self, code: u8) -> bool {
        self.0[usize::from(code >> 6)] & (1u64 << (code & 63)) != 0
    }
    pub(crate) fn insert(&mut self, code: u8) {
        self.0[usize::from(code >> 6)] |= 1u64 << (code & 63);
    }
}

/// Writes MP_REACH/MP_UNREACH inside [`PathAttributes::encode_ordered`].
pub(crate) type MpWriter<'a> =
    &'a mut dyn FnMut(u8, &mut BytesMut) -> Result<(), UpdateEncodeError>;

/// Write one attribute: flags, type, length (1 octet unless Extended Length is needed or was
/// asked for in `flags`), value.
pub(crate) fn put_attr(
    buf: &mut BytesMut,
    flags: u8,
    code: u8,
    value: impl FnOnce(&mut BytesMut),
) -> Result<(), UpdateEncodeError> {
    let start = buf.len();
    buf.put_u8(flags | EXTENDED_LENGTH);
    buf.put_u8(code);
    buf.put_u16(0);
    value(buf);
    let len = buf.len() - start - 4;
    let len16 = u16::try_from(len).map_err(|_| {
        buf.truncate(start);
        UpdateEncodeError::AttributeTooLong {
            type_code: code,
            len,
        }
    })?;
    if len > 255 || flags & EXTENDED_LENGTH != 0 {
        buf[start + 2..start + 4].copy_from_slice(&len16.to_be_bytes());
    } else {
        buf[start] = flags;
        buf[start + 2] = len as u8;
        buf.copy_within(start + 4.., start + 3);
        buf.truncate(buf.len() - 1);
    }
    Ok(())
}

/// `4 octets, big endian` or a length error.
fn be_u32_exact(v: &[u8]) -> Result<u32, Reason> {
    let a: [u8; 4] = v.try_into().map_err(|_| bad_length(v, "4"))?;
    Ok(u32::from_be_bytes(a))
}

/// What the attribute field decoded to.
#[derive(Debug, Default)]
pub(crate) struct DecodedAttributes {
    pub attrs: PathAttributes,
    pub mp_reach: Option<MpReach>,
    pub mp_unreach: Option<MpUnreach>,
    pub unsupported_mp: Vec<RawAttribute>,
    pub malformations: Vec<Malformation>,
    /// The received type code order, when it is not the canonical one (MP attributes first,
    /// then ascending); empty otherwise.
    pub order: Vec<u8>,
    /// Type codes seen (even if malformed or duplicated).
    pub seen: CodeSet,
}

impl DecodedAttributes {
    pub(crate) fn saw(&self, code: u8) -> bool {
        self.seen.contains(code)
    }
}

/// The type codes of the well-formed attribute headers of `field`, in wire order.
fn wire_order(field: &[u8]) -> Vec<u8> {
    let mut order = Vec::new();
    let mut rest = field;
    while let [flags, code, tail @ ..] = rest {
        let (len, tail) = match (flags & EXTENDED_LENGTH != 0, tail) {
            (true, [a, b, t @ ..]) => (usize::from(u16::from_be_bytes([*a, *b])), t),
            (false, [a, t @ ..]) => (usize::from(*a), t),
            _ => break,
        };
        order.push(*code);
        rest = tail.get(len..).unwrap_or(&[]);
    }
    order
}

/// Decode the Path Attributes field. `base` is the field's offset in the UPDATE body, so that
/// offsets in errors and malformations are body offsets. Session-reset cases return `Err`;
/// the others are recorded as [`Malformation`]s (RFC 7606 §3, §4, §7).
pub(crate) fn decode_attributes(
    field: &[u8],
    base: usize,
    ctx: &SessionContext,
) -> Result<DecodedAttributes, UpdateError> {
    let mut out = DecodedAttributes::default();
    let mut pos = 0;
    // Canonical order: MP_REACH/MP_UNREACH first, then ascending type codes.
    let mut last_mp: Option<u8> = None;
    let mut last_other: Option<u8> = None;
    let mut past_mp = false;
    let mut canonical = true;
    while pos < field.len() {
        let rem = &field[pos..];
        let at = base + pos;
        let ext = rem[0] & EXTENDED_LENGTH != 0;
        let hdr = if ext { 4 } else { 3 };
        if rem.len() < hdr {
            // RFC 7606 §4, second case: too few octets left for an attribute header.
            out.malformations.push(Malformation {
                attr_type: rem.get(1).copied(),
                action: Action::TreatAsWithdraw,
                reason: Reason::AttributeHeaderTruncated,
                offset: at,
            });
            break;
        }
        let flags = rem[0];
        let code = rem[1];
        let len = if ext {
            usize::from(u16::from_be_bytes([rem[2], rem[3]]))
        } else {
            usize::from(rem[2])
        };
        if hdr + len > rem.len() {
            // RFC 7606 §4, first case: the attribute runs past Total Path Attribute Length.
            // If it is MP_REACH/MP_UNREACH its NLRI cannot be located: session reset (§5.1 ff).
            if code == tc::MP_REACH_NLRI || code == tc::MP_UNREACH_NLRI {
                return Err(UpdateError::new(
                    Reason::AttributeOverrun,
                    Some(code),
                    rem.to_vec(),
                    at,
                ));
            }
            out.malformations.push(Malformation {
                attr_type: Some(code),
                action: Action::TreatAsWithdraw,
                reason: Reason::AttributeOverrun,
                offset: at,
            });
            break;
        }
        let raw = &rem[..hdr + len];
        let value = &rem[hdr..hdr + len];
        pos += hdr + len;

        let is_mp = code == tc::MP_REACH_NLRI || code == tc::MP_UNREACH_NLRI;
        let last = if is_mp { &mut last_mp } else { &mut last_other };
        if (is_mp && past_mp) || last.is_some_and(|l| code <= l) {
            canonical = false;
        }
        *last = Some(code);
        past_mp |= !is_mp;
        if out.saw(code) {
            // RFC 7606 §3 (g).
            if code == tc::MP_REACH_NLRI || code == tc::MP_UNREACH_NLRI {
                return Err(UpdateError::new(
                    Reason::DuplicateMpAttribute,
                    Some(code),
                    Vec::new(),
                    at,
                ));
            }
            out.malformations.push(Malformation {
                attr_type: Some(code),
                action: Action::AttributeDiscard,
                reason: Reason::DuplicateAttribute,
                offset: at,
            });
            continue;
        }
        out.seen.insert(code);

        let Some(canon) = canonical_flags(code) else {
            if flags & OPTIONAL == 0 {
                // RFC 4271 §6.3, not revised by RFC 7606.
                return Err(UpdateError::new(
                    Reason::UnrecognizedWellKnown,
                    Some(code),
                    raw.to_vec(),
                    at,
                ));
            }
            let a = RawAttribute {
                flags,
                type_code: code,
                value: value.to_vec(),
            };
            let i = out.attrs.unknown.partition_point(|u| u.type_code < code);
            out.attrs.unknown.insert(i, a);
            continue;
        };
        let flags_ok = (flags ^ canon) & (OPTIONAL | TRANSITIVE) == 0;
        let extra = flags & !(OPTIONAL | TRANSITIVE);
        let expected_extra = if len > 255 { EXTENDED_LENGTH } else { 0 };
        if extra != expected_extra {
            out.attrs.wire_flags.push((code, flags));
        }
        let mut malformed = |reason: Reason, action: Action| {
            out.malformations.push(Malformation {
                attr_type: Some(code),
                action,
                reason,
                offset: at,
            })
        };
        if !flags_ok && code != tc::MP_REACH_NLRI && code != tc::MP_UNREACH_NLRI {
            // RFC 7606 §3 (c): conflicting Optional/Transitive bits → treat-as-withdraw.
            // (For MP_* the NLRI is still parsed below so it can be withdrawn.)
            malformed(Reason::AttributeFlags, Action::TreatAsWithdraw);
            continue;
        }
        if let Err(reason) = decode_one(code, value, ctx, &mut out, at, raw)? {
            let action = malformed_action(code);
            out.malformations.push(Malformation {
                attr_type: Some(code),
                action,
                reason,
                offset: at,
            });
        }
        if !flags_ok {
            out.malformations.push(Malformation {
                attr_type: Some(code),
                action: Action::TreatAsWithdraw,
                reason: Reason::AttributeFlags,
                offset: at,
            });
        }
    }
    if !canonical {
        out.order = wire_order(field);
    }
    Ok(out)
}

/// Decode one known attribute into `out`. Outer `Err`: session reset; inner `Err`: the
/// attribute is malformed and [`malformed_action`] applies.
fn decode_one(
    code: u8,
    v: &[u8],
    ctx: &SessionContext,
    out: &mut DecodedAttributes,
    at: usize,
    raw: &[u8],
) -> Result<Result<(), Reason>, UpdateError> {
    let four = ctx.four_octet_as;
    let a = &mut out.attrs;
    let r = match code {
        tc::ORIGIN => attr_01_origin::decode(v).map(|x| a.origin = Some(x)),
        tc::AS_PATH => attr_02_as_path::decode(v, four).map(|x| a.as_path = Some(x)),
        tc::NEXT_HOP => attr_03_next_hop::decode(v).map(|x| a.next_hop = Some(x)),
        tc::MULTI_EXIT_DISC => attr_04_med::decode(v).map(|x| a.med = Some(x)),
        tc::LOCAL_PREF => attr_05_local_pref::decode(v).map(|x| a.local_pref = Some(x)),
        tc::ATOMIC_AGGREGATE => {
            attr_06_atomic_aggregate::decode(v).map(|()| a.atomic_aggregate = true)
        }
        tc::AGGREGATOR => attr_07_aggregator::decode(v, four).map(|x| a.aggregator = Some(x)),
        tc::COMMUNITIES => attr_08_communities::decode(v).map(|x| a.communities = Some(x)),
        tc::ORIGINATOR_ID => attr_09_originator_id::decode(v).map(|x| a.originator_id = Some(x)),
        tc::CLUSTER_LIST => attr_0a_cluster_list::decode(v).map(|x| a.cluster_list = Some(x)),
        tc::EXTENDED_COMMUNITIES => {
            attr_10_ext_communities::decode(v).map(|x| a.ext_communities = Some(x))
        }
        // RFC 6793 §3: a NEW speaker discards AS4_* received from another NEW speaker.
        tc::AS4_PATH | tc::AS4_AGGREGATOR if four => Err(Reason::As4OnFourOctetSession),
        // RFC 6793 §6: AS4_PATH is malformed like AS_PATH would be; it is discarded.
        tc::AS4_PATH => attr_02_as_path::decode(v, true).map(|x| a.as4_path = Some(x)),
        tc::AS4_AGGREGATOR => attr_07_aggregator::decode_as4(v).map(|x| a.as4_aggregator = Some(x)),
        tc::LARGE_COMMUNITIES => {
            attr_20_large_communities::decode(v).map(|x| a.large_communities = Some(x))
        }
        tc::OTC => attr_23_otc::decode(v).map(|x| a.otc = Some(x)),
        tc::MP_REACH_NLRI => match attr_0e_mp_reach::decode(v, ctx) {
            Ok(Some(m)) => {
                let checked = if m.nlri.is_empty() {
                    Ok(())
                } else {
                    m.next_hop.check(m.family, ctx)
                };
                if let Err(reason) = checked {
                    out.malformations.push(Malformation {
                        attr_type: Some(code),
                        action: Action::TreatAsWithdraw,
                        reason,
                        offset: at,
                    });
                }
                out.mp_reach = Some(m);
                Ok(())
            }
            Ok(None) => {
                out.unsupported_mp.push(raw_of(raw, code, v));
                Ok(())
            }
            Err((reason, off)) => {
                return Err(UpdateError::new(
                    reason,
                    Some(code),
                    raw.to_vec(),
                    at + raw.len() - v.len() + off,
                ))
            }
        },
        tc::MP_UNREACH_NLRI => match attr_0f_mp_unreach::decode(v, ctx) {
            Ok(Some(m)) => {
                out.mp_unreach = Some(m);
                Ok(())
            }
            Ok(None) => {
                out.unsupported_mp.push(raw_of(raw, code, v));
                Ok(())
            }
            Err((reason, off)) => {
                return Err(UpdateError::new(
                    reason,
                    Some(code),
                    raw.to_vec(),
                    at + raw.len() - v.len() + off,
                ))
            }
        },
        // canonical_flags() only knows the codes above.
        _ => Ok(()),
    };
    Ok(r)
}

fn raw_of(raw: &[u8], code: u8, v: &[u8]) -> RawAttribute {
    RawAttribute {
        flags: raw[0],
        type_code: code,
        value: v.to_vec(),
    }
}
