//! RFC 7606 error classification: what was wrong ([`Reason`]) and what to do about it
//! ([`Action`]). Session resets are returned as [`UpdateError`](super::UpdateError); the milder
//! actions are recorded in [`Update::malformations`](super::Update::malformations).
//!
//! | malformation | action | RFC |
//! |---|---|---|
//! | length fields overrun the message, body < 4 octets | session reset | 4271 §6.3, 7606 §4 |
//! | withdrawn / NLRI field unparsable (length > 32/128, overrun) | session reset | 7606 §5.3 |
//! | attribute overruns the attribute field, < 3 octets left | treat-as-withdraw | 7606 §4 |
//! | ... when that attribute is MP_REACH/MP_UNREACH | session reset | 7606 §5.1 |
//! | Optional/Transitive flags wrong | treat-as-withdraw | 7606 §3 (c) |
//! | duplicate attribute | discard the repeats | 7606 §3 (g) |
//! | duplicate MP_REACH/MP_UNREACH | session reset | 7606 §3 (g) |
//! | unrecognized well-known attribute | session reset | 4271 §6.3 |
//! | missing ORIGIN/AS_PATH (NEXT_HOP with classic NLRI) | treat-as-withdraw | 7606 §3 (d) |
//! | ORIGIN, AS_PATH, NEXT_HOP, MED, LOCAL_PREF, COMMUNITIES, ORIGINATOR_ID, CLUSTER_LIST, EXTENDED_COMMUNITIES, LARGE_COMMUNITY malformed | treat-as-withdraw | 7606 §7, 8092 §5 |
//! | ATOMIC_AGGREGATE, AGGREGATOR, AS4_PATH, AS4_AGGREGATOR, OTC malformed | attribute discard | 7606 §7, 6793 §6, 9234 §5 |
//! | AS 0 in AS_PATH / in AGGREGATOR | treat-as-withdraw / discard | 7607 §2 |
//! | AS4_* from a 4-octet speaker | attribute discard | 6793 §3 |
//! | MP_REACH/MP_UNREACH malformed (next hop length, NLRI) | session reset | 7606 §7.11, 4760 §7 |
//! | MP_REACH/MP_UNREACH of another AFI/SAFI | ignored | 4760 §7 |
//! | NEXT_HOP / MP_REACH next hop 0.0.0.0/8, 127/8, 224/4, 240/4, ::, ::1, ff00::/8 | treat-as-withdraw | 4271 §6.3, 7606 §7.3, §7.11 |
//! | IPv6 next hop for IPv4 NLRI without the extended next hop capability | treat-as-withdraw | 8950 §4 |
//! | confederation segments / LOCAL_PREF / ORIGINATOR_ID / CLUSTER_LIST from an eBGP peer | treat-as-withdraw / discard | 7606 §7.2, §7.5, §7.9, §7.10 ([`Update::apply_ebgp_rules`](super::Update::apply_ebgp_rules)) |
//! | next hop is our own address; not on a connected subnet (single-hop eBGP) | treat-as-withdraw | 4271 §5.1.3, §6.3 ([`Update::apply_next_hop_rules`](super::Update::apply_next_hop_rules)) |
//!
//! When several apply, the strongest wins (§3 h).

use std::fmt;
use std::net::IpAddr;

use crate::attribute::type_name;
use crate::nlri::NlriErrorKind;
use crate::notification::update_subcode as sub;

/// The RFC 7606 §2 approaches, weakest first; when several apply, the strongest wins (§3 h).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Drop the attribute, keep the routes.
    AttributeDiscard,
    /// Treat every NLRI of the UPDATE (classic and MP_REACH) as withdrawn.
    TreatAsWithdraw,
    /// Send a NOTIFICATION and reset the session.
    SessionReset,
}

/// What was malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Reason {
    #[error("message too short for the length fields")]
    Truncated,
    #[error("Withdrawn Routes Length overruns the message")]
    WithdrawnLengthOverrun,
    #[error("Total Path Attribute Length overruns the message")]
    AttributesLengthOverrun,
    #[error("withdrawn routes field malformed: {0}")]
    WithdrawnNlri(NlriErrorKind),
    #[error("NLRI field malformed: {0}")]
    Nlri(NlriErrorKind),
    #[error("attribute header truncated")]
    AttributeHeaderTruncated,
    #[error("attribute length overruns the path attribute field")]
    AttributeOverrun,
    #[error("attribute flags conflict with the attribute type")]
    AttributeFlags,
    #[error("length {len}, expected {expected}")]
    BadLength {
        /// The received value length.
        len: u16,
        /// What the attribute's type allows, e.g. `4` or `a multiple of 4`.
        expected: &'static str,
    },
    #[error("attribute appears more than once")]
    DuplicateAttribute,
    #[error("MP_REACH_NLRI or MP_UNREACH_NLRI appears more than once")]
    DuplicateMpAttribute,
    #[error("unrecognized well-known attribute")]
    UnrecognizedWellKnown,
    #[error("missing well-known attribute")]
    MissingWellKnown,
    #[error("invalid ORIGIN value {0}")]
    InvalidOrigin(u8),
    #[error("next hop {0} is not a unicast host address")]
    MartianNextHop(IpAddr),
    #[error("next hop {0} is our own address")]
    OwnNextHop(IpAddr),
    #[error("next hop {0} is not on a directly connected subnet (single-hop eBGP)")]
    NextHopNotConnected(IpAddr),
    #[error("IPv6 next hop {0} for IPv4 NLRI without the extended next hop capability (RFC 8950)")]
    NextHopFamily(IpAddr),
    #[error("AS path segment type {0} unknown")]
    AsPathSegmentType(u8),
    #[error("AS path segment of length 0")]
    AsPathEmptySegment,
    #[error("AS path segment overruns the attribute")]
    AsPathOverrun,
    #[error("AS number 0 in an AS path (RFC 7607)")]
    AsPathZeroAsn,
    #[error("AS number 0 in an aggregator (RFC 7607)")]
    AggregatorZeroAsn,
    #[error("AS_PATH carries confederation segments from an external peer")]
    ConfedFromExternalPeer,
    #[error("LOCAL_PREF received from an external peer")]
    LocalPrefFromExternalPeer,
    #[error("ORIGINATOR_ID received from an external peer")]
    OriginatorIdFromExternalPeer,
    #[error("CLUSTER_LIST received from an external peer")]
    ClusterListFromExternalPeer,
    #[error("AS4_PATH/AS4_AGGREGATOR received on a 4-octet AS session")]
    As4OnFourOctetSession,
    #[error("MP attribute truncated")]
    MpTruncated,
    #[error("MP_REACH_NLRI next hop length {0} invalid for the family")]
    MpNextHopLength(u8),
    #[error("MP NLRI malformed: {0}")]
    MpNlri(NlriErrorKind),
}

impl Reason {
    /// The UPDATE Message Error subcode RFC 4271 §6.3 / RFC 4760 §7 attach to this error (sent
    /// only on session reset; logged otherwise).
    pub fn subcode(self) -> u8 {
        match self {
            Reason::Truncated
            | Reason::WithdrawnLengthOverrun
            | Reason::AttributesLengthOverrun
            | Reason::AttributeHeaderTruncated
            | Reason::AttributeOverrun
            | Reason::DuplicateAttribute
            | Reason::DuplicateMpAttribute => sub::MALFORMED_ATTRIBUTE_LIST,
            Reason::WithdrawnNlri(_) | Reason::Nlri(_) => sub::INVALID_NETWORK_FIELD,
            Reason::AttributeFlags => sub::ATTRIBUTE_FLAGS,
            Reason::BadLength { .. } => sub::ATTRIBUTE_LENGTH,
            Reason::UnrecognizedWellKnown => sub::UNRECOGNIZED_WELL_KNOWN,
            Reason::MissingWellKnown => sub::MISSING_WELL_KNOWN,
            Reason::InvalidOrigin(_) => sub::INVALID_ORIGIN,
            Reason::MartianNextHop(_)
            | Reason::OwnNextHop(_)
            | Reason::NextHopNotConnected(_)
            | Reason::NextHopFamily(_) => sub::INVALID_NEXT_HOP,
            Reason::AsPathSegmentType(_)
            | Reason::AsPathEmptySegment
            | Reason::AsPathOverrun
            | Reason::AsPathZeroAsn
            | Reason::ConfedFromExternalPeer => sub::MALFORMED_AS_PATH,
            Reason::LocalPrefFromExternalPeer
            | Reason::OriginatorIdFromExternalPeer
            | Reason::ClusterListFromExternalPeer
            | Reason::AggregatorZeroAsn
            | Reason::As4OnFourOctetSession
            | Reason::MpTruncated
            | Reason::MpNextHopLength(_)
            | Reason::MpNlri(_) => sub::OPTIONAL_ATTRIBUTE,
        }
    }
}

/// One non-fatal malformation found in an UPDATE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Malformation {
    /// The attribute type code, when the error is about one attribute.
    pub attr_type: Option<u8>,
    pub action: Action,
    pub reason: Reason,
    /// Offset in the UPDATE body (after the 19-octet header).
    pub offset: usize,
}

impl fmt::Display for Action {
    /// The words an operator reads in a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::AttributeDiscard => "attribute discarded",
            Action::TreatAsWithdraw => "treat-as-withdraw",
            Action::SessionReset => "session reset",
        })
    }
}

/// `NAME` of an attribute type code, or `attribute N` for codes this codec does not know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttrName(pub Option<u8>);

impl fmt::Display for AttrName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("UPDATE"),
            Some(code) => match type_name(code) {
                Some(n) => f.write_str(n),
                None => write!(f, "attribute {code}"),
            },
        }
    }
}

impl Malformation {
    /// The attribute's name for logs (`UPDATE` when the error is not about one attribute).
    pub fn attr_name(&self) -> AttrName {
        AttrName(self.attr_type)
    }
}

impl fmt::Display for Malformation {
    /// `ORIGINATOR_ID: length 3, expected 4 (treat-as-withdraw)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.attr_name(), self.reason, self.action)
    }
}
