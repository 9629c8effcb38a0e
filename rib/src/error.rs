//! The crate's error type.

use bgp_proto::builder::BuildError;
use bgp_proto::update::UpdateEncodeError;
use bgp_proto::Family;

use crate::peer::PeerId;

/// Everything that can go wrong inside the RIB. None of these come from a peer's bytes (those
/// are decode errors in `bgp-proto`); they are caller mistakes or encoding limits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RibError {
    /// The peer id was never added with [`crate::Rib::add_peer`].
    #[error("unknown peer {0}")]
    UnknownPeer(PeerId),
    /// Peer ids must fit in 24 bits (below 0xFFFFFF); the RIB packs them with status bits.
    #[error("peer id {0} too large (must be below 16777215)")]
    PeerIdTooLarge(PeerId),
    /// A peer id given twice to [`crate::Rib::add_peer`].
    #[error("peer {0} already exists")]
    DuplicatePeer(PeerId),
    /// The operation needs an established session (`peer_up` first).
    #[error("peer {0} is not up")]
    PeerNotUp(PeerId),
    /// Next-hop-self (or a locally originated route) needs our address for this family on the
    /// session, and none was configured.
    #[error("no local {family} address to use as next hop towards peer group")]
    NoLocalAddress { family: Family },
    /// The UPDATE builder refused the attributes or prefixes.
    #[error("building an UPDATE: {0}")]
    Build(#[from] BuildError),
    /// An attribute set could not be encoded.
    #[error("encoding attributes: {0}")]
    Encode(#[from] UpdateEncodeError),
}
