//! Adj-RIB-In: what each peer sent, kept as received together with the import verdict, so an
//! import-policy change is re-evaluated locally without a route refresh (RFC 2918 is then only
//! needed when the peer's own state is in doubt).

use bgp_proto::Prefix;

use crate::best_path::Ineligible;
use crate::intern::{AttrSet, Attrs, PathAttrs};
use crate::peer::PeerInfo;

/// What the import policy decided for one received route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportVerdict {
    /// Use the route as received.
    Accept,
    /// Use the route with these attributes instead (e.g. communities added, LOCAL_PREF set).
    Replace(Box<AttrSet>),
    /// Keep it in Adj-RIB-In only.
    Reject,
}

/// The import policy, applied per received route. `bgpd` implements it with `policy::import`;
/// the RIB does not know the policy crate.
pub trait ImportPolicy {
    fn import(&mut self, peer: &PeerInfo, prefix: &Prefix, attrs: &AttrSet) -> ImportVerdict;
}

impl<F> ImportPolicy for F
where
    F: FnMut(&PeerInfo, &Prefix, &AttrSet) -> ImportVerdict,
{
    fn import(&mut self, peer: &PeerInfo, prefix: &Prefix, attrs: &AttrSet) -> ImportVerdict {
        self(peer, prefix, attrs)
    }
}

/// An import policy that accepts everything unchanged.
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptAll;

impl ImportPolicy for AcceptAll {
    fn import(&mut self, _: &PeerInfo, _: &Prefix, _: &AttrSet) -> ImportVerdict {
        ImportVerdict::Accept
    }
}

/// The source id of locally originated paths. Peer ids must be below it (24 bits).
pub(crate) const LOCAL_SOURCE: u32 = (1 << 24) - 1;

/// Status bits of a path.
pub(crate) mod status {
    /// Kept through a graceful restart of the peer (RFC 4724 §4.2), until End-of-RIB or the
    /// restart timer.
    pub const STALE: u8 = 0x01;
    /// The low bits above STALE hold an [`super::Ineligible`] code (0: eligible at receipt).
    pub const REASON_SHIFT: u8 = 1;
    pub const REASON_MASK: u8 = 0x0e;
}

/// A path's status bits ([`status`]: STALE and a 3-bit reason code) as one of their 16 values.
/// An enum rather than a `u8` so that the byte has values it never takes: `Paths` keeps its
/// "no path" and "several paths" cases there and stays 16 octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum StatusByte {
    B0,
    B1,
    B2,
    B3,
    B4,
    B5,
    B6,
    B7,
    B8,
    B9,
    B10,
    B11,
    B12,
    B13,
    B14,
    B15,
}

impl StatusByte {
    fn new(bits: u8) -> StatusByte {
        use StatusByte::*;
        debug_assert!(bits <= 0x0f, "status bits {bits:#x}");
        [
            B0, B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15,
        ][usize::from(bits & 0x0f)]
    }

    fn bits(self) -> u8 {
        self as u8
    }
}

/// One path of a prefix: the Adj-RIB-In entry of one peer (and path id), 16 bytes.
#[derive(Debug, Clone)]
pub(crate) struct Path {
    /// The peer id (or [`LOCAL_SOURCE`]), 24 bits: low 16 and high 8.
    source_lo: u16,
    source_hi: u8,
    status: StatusByte,
    /// ADD-PATH path identifier (0 without ADD-PATH).
    pub path_id: u32,
    /// The attributes as received and after import policy (one interned pair).
    attrs: PathAttrs,
}

const _: () = assert!(std::mem::size_of::<Path>() == 16);

impl Path {
    pub fn new(source: u32, path_id: u32, attrs: PathAttrs, status: u8) -> Self {
        debug_assert!(source <= LOCAL_SOURCE);
        Path {
            source_lo: source as u16,
            source_hi: (source >> 16) as u8,
            status: StatusByte::new(status),
            path_id,
            attrs,
        }
    }

    /// The attributes as received.
    pub fn received(&self) -> &Attrs {
        self.attrs.received()
    }

    /// The attributes after import policy, `None` if rejected or looped.
    pub fn accepted(&self) -> Option<&Attrs> {
        self.attrs.accepted()
    }

    /// Whether import policy accepted the path.
    pub fn is_accepted(&self) -> bool {
        self.attrs.accepted().is_some()
    }

    /// The peer id or [`LOCAL_SOURCE`].
    pub fn source(&self) -> u32 {
        u32::from(self.source_lo) | (u32::from(self.source_hi) << 16)
    }

    pub fn status(&self) -> u8 {
        self.status.bits()
    }

    pub fn mark_stale(&mut self) {
        self.status = StatusByte::new(self.status.bits() | status::STALE);
    }

    pub fn is_stale(&self) -> bool {
        self.status() & status::STALE != 0
    }

    /// Why the path is infeasible before next-hop resolution, if it is.
    pub fn rejected(&self) -> Option<Ineligible> {
        match (self.status() & status::REASON_MASK) >> status::REASON_SHIFT {
            0 => None,
            1 => Some(Ineligible::RejectedByImport),
            2 => Some(Ineligible::AsPathLoop),
            3 => Some(Ineligible::OriginatorIsUs),
            4 => Some(Ineligible::ClusterLoop),
            _ => Some(Ineligible::NextHopUnresolved),
        }
    }

    pub fn reason_bits(why: Option<Ineligible>) -> u8 {
        let code = match why {
            None => 0,
            Some(Ineligible::RejectedByImport) => 1,
            Some(Ineligible::AsPathLoop) => 2,
            Some(Ineligible::OriginatorIsUs) => 3,
            Some(Ineligible::ClusterLoop) => 4,
            Some(Ineligible::NextHopUnresolved) => 5,
        };
        code << status::REASON_SHIFT
    }
}
