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
//! | confederation segments / LOCAL_PREF from an eBGP peer | treat-as-withdraw / discard | 7606 §7.2, §7.5 ([`Update::apply_ebgp_rules`](super::Update::apply_ebgp_rules)) |
//!
//! When several apply, the strongest wins (§3 h).

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
    #[error("withdrawn routes field malformed: {0:?}")]
    WithdrawnNlri(NlriErrorKind),
    #[error("NLRI field malformed: {0:?}")]
    Nlri(NlriErrorKind),
    #[error("attribute header truncated")]
    AttributeHeaderTruncated,
    #[error("attribute length overruns the path attribute field")]
    AttributeOverrun,
    #[error("attribute flags conflict with the attribute type")]
    AttributeFlags,
    #[error("attribute length wrong for its type")]
    BadLength,
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
    #[error("invalid NEXT_HOP")]
    InvalidNextHop,
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
    #[error("AS4_PATH/AS4_AGGREGATOR received on a 4-octet AS session")]
    As4OnFourOctetSession,
    #[error("MP attribute truncated")]
    MpTruncated,
    #[error("MP_REACH_NLRI next hop length {0} invalid for the family")]
    MpNextHopLength(u8),
    #[error("MP NLRI malformed: {0:?}")]
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
            Reason::BadLength => sub::ATTRIBUTE_LENGTH,
            Reason::UnrecognizedWellKnown => sub::UNRECOGNIZED_WELL_KNOWN,
            Reason::MissingWellKnown => sub::MISSING_WELL_KNOWN,
            Reason::InvalidOrigin(_) => sub::INVALID_ORIGIN,
            Reason::InvalidNextHop => sub::INVALID_NEXT_HOP,
            Reason::AsPathSegmentType(_)
            | Reason::AsPathEmptySegment
            | Reason::AsPathOverrun
            | Reason::AsPathZeroAsn
            | Reason::ConfedFromExternalPeer => sub::MALFORMED_AS_PATH,
            Reason::LocalPrefFromExternalPeer
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
