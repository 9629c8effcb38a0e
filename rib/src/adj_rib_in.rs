//! Adj-RIB-In: what each peer sent, kept as received together with the import verdict, so an
//! import-policy change is re-evaluated locally without a route refresh (RFC 2918 is then only
//! needed when the peer's own state is in doubt).

use bgp_proto::Prefix;

use crate::best_path::Ineligible;
use crate::intern::{AttrSet, Attrs};
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

/// One path of a prefix: the Adj-RIB-In entry of one peer (and path id), 24 bytes.
#[derive(Debug, Clone)]
pub(crate) struct Path {
    /// The peer id (or [`LOCAL_SOURCE`]) in the high 24 bits, the status bits in the low 8.
    tag: u32,
    /// ADD-PATH path identifier (0 without ADD-PATH).
    pub path_id: u32,
    /// The attributes as received.
    pub received: Attrs,
    /// The attributes after import policy, `None` if rejected or looped.
    pub accepted: Option<Attrs>,
}

impl Path {
    pub fn new(
        source: u32,
        path_id: u32,
        received: Attrs,
        accepted: Option<Attrs>,
        status: u8,
    ) -> Self {
        debug_assert!(source <= LOCAL_SOURCE);
        Path {
            tag: (source << 8) | u32::from(status),
            path_id,
            received,
            accepted,
        }
    }

    /// The peer id or [`LOCAL_SOURCE`].
    pub fn source(&self) -> u32 {
        self.tag >> 8
    }

    pub fn status(&self) -> u8 {
        (self.tag & 0xff) as u8
    }

    pub fn mark_stale(&mut self) {
        self.tag |= u32::from(status::STALE);
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
