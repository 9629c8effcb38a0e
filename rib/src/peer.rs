//! Who we are and who our peers are: the facts the decision process, route reflection and
//! update grouping need.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgp_proto::{Asn, Family, RouterId, SessionContext};

/// A peer's identity inside the RIB, chosen by the caller (`bgpd`); below 2^24 - 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerId(pub u32);

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "peer#{}", self.0)
    }
}

/// Options of the RFC 4271 §9.1 decision process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionOptions {
    /// Compare MED between routes from different neighbour ASes (RFC 4271 §9.1.2.2 (c) only
    /// compares within one neighbour AS).
    pub always_compare_med: bool,
    /// Treat a missing MED as the worst value instead of 0 (RFC 4271 §9.1.2.2 (c) says 0).
    pub missing_med_worst: bool,
    /// Most routes in an ECMP set (1 turns multipath off), like FRR's `maximum-paths`.
    pub max_paths: usize,
    /// LOCAL_PREF assumed for routes without one (eBGP-learned, RFC 4271 §9.1.1).
    pub default_local_pref: u32,
}

impl Default for DecisionOptions {
    fn default() -> Self {
        DecisionOptions {
            always_compare_med: false,
            missing_med_worst: false,
            max_paths: 1,
            default_local_pref: 100,
        }
    }
}

/// This speaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalInfo {
    pub router_id: RouterId,
    pub asn: Asn,
    /// RFC 4456 §7: the cluster id when reflecting; `None` uses the router id.
    pub cluster_id: Option<Ipv4Addr>,
    pub decision: DecisionOptions,
}

impl LocalInfo {
    /// A speaker with default decision options and the router id as cluster id.
    pub fn new(router_id: RouterId, asn: Asn) -> Self {
        LocalInfo {
            router_id,
            asn,
            cluster_id: None,
            decision: DecisionOptions::default(),
        }
    }

    /// The effective cluster id (RFC 4456 §7: defaults to the router id).
    pub fn cluster_id(&self) -> Ipv4Addr {
        self.cluster_id.unwrap_or(self.router_id.0)
    }
}

/// Internal or external session (RFC 4271 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SessionKind {
    Ibgp,
    Ebgp,
}

/// What NEXT_HOP to send to a peer (RFC 4271 §5.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NextHopMode {
    /// eBGP: our address; iBGP: unchanged (our address for our own routes).
    #[default]
    Default,
    /// Always our address (`next hop self`).
    SelfAddress,
    /// Never change it, also on eBGP (`next hop keep`, Calico's keep-original-next-hop).
    Keep,
}

/// A configured peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    pub id: PeerId,
    pub addr: IpAddr,
    pub asn: Asn,
    /// Our AS on this session when it is not [`LocalInfo::asn`] (BIRD's per-protocol
    /// `local as`): it decides iBGP/eBGP and is what we prepend towards the peer.
    pub local_as: Option<Asn>,
    /// RFC 4456: the peer is a route-reflector client of ours.
    pub rr_client: bool,
    /// The export policy already put our AS in front of the AS_PATH for an eBGP peer (BIRD
    /// does it before the export filter runs, so a filter's prepends land in front of it):
    /// the RIB does not prepend it again.
    pub policy_prepends_own_as: bool,
    /// How many times our own AS may appear in a received AS_PATH (BIRD `allow local as`).
    pub allow_own_as: u8,
    pub next_hop: NextHopMode,
    /// Our addresses on this session, used as next hop when we rewrite it.
    pub local_v4: Option<Ipv4Addr>,
    pub local_v6: Option<Ipv6Addr>,
    /// Our IPv6 link-local address on the session's link, when the session runs over one
    /// (link-local peering): sent beside `local_v6` as RFC 2545's 32-octet next hop, or alone
    /// without a global address.
    pub local_link_local: Option<Ipv6Addr>,
    /// An opaque identifier of the export policy applied to this peer; peers with equal ids
    /// (and equal capabilities, see [`GroupKey`]) share one Adj-RIB-Out.
    pub export_policy: u64,
}

impl PeerInfo {
    /// A peer with default options.
    pub fn new(id: PeerId, addr: IpAddr, asn: Asn) -> Self {
        PeerInfo {
            id,
            addr,
            asn,
            local_as: None,
            rr_client: false,
            policy_prepends_own_as: false,
            allow_own_as: 0,
            next_hop: NextHopMode::Default,
            local_v4: None,
            local_v6: None,
            local_link_local: None,
            export_policy: 0,
        }
    }

    /// iBGP if the peer is in our AS.
    pub fn kind(&self, local: &LocalInfo) -> SessionKind {
        if self.asn == self.local_as.unwrap_or(local.asn) {
            SessionKind::Ibgp
        } else {
            SessionKind::Ebgp
        }
    }
}

/// What the session negotiated, given at [`crate::Rib::peer_up`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The peer's BGP identifier from its OPEN.
    pub router_id: RouterId,
    pub context: SessionContext,
    pub families: Vec<Family>,
}

/// Peers with equal keys receive byte-identical UPDATEs: one Adj-RIB-Out, one encode.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupKey {
    pub kind: SessionKind,
    /// Our AS towards the group when it is not the node's (see [`PeerInfo::local_as`]).
    pub local_as: Option<Asn>,
    /// See [`PeerInfo::policy_prepends_own_as`].
    pub policy_prepends_own_as: bool,
    pub rr_client: bool,
    pub next_hop: NextHopMode,
    pub local_v4: Option<Ipv4Addr>,
    pub local_v6: Option<Ipv6Addr>,
    /// See [`PeerInfo::local_link_local`].
    pub local_link_local: Option<Ipv6Addr>,
    pub export_policy: u64,
    pub context: SessionContext,
    pub families: Vec<Family>,
}

impl GroupKey {
    /// Whether the group negotiated ADD-PATH transmit (RFC 7911) in any family: it is sent
    /// every path of a prefix, not only the best.
    pub fn add_path_tx(&self) -> bool {
        self.families.iter().any(|f| self.context.add_path_tx(*f))
    }

    pub(crate) fn new(peer: &PeerInfo, kind: SessionKind, session: &SessionInfo) -> Self {
        let mut families = session.families.clone();
        families.sort();
        families.dedup();
        GroupKey {
            kind,
            local_as: peer.local_as,
            policy_prepends_own_as: peer.policy_prepends_own_as,
            rr_client: peer.rr_client,
            next_hop: peer.next_hop,
            local_v4: peer.local_v4,
            local_v6: peer.local_v6,
            local_link_local: peer.local_link_local,
            export_policy: peer.export_policy,
            context: session.context,
            families,
        }
    }
}

/// An update group's identity (stable while the group has members).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupId(pub u32);

/// A fast hasher for the RIB's small keys (peer ids, next-hop addresses): a multiply-rotate
/// mix per word, as rustc's FxHash. Not DoS-resistant; its keys come from the configuration
/// and from our peers' next hops, which are few, not from the prefixes peers send.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl IdHasher {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(SEED);
    }
}

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with [`IdHasher`].
pub(crate) type IdMap<K, V> =
    std::collections::HashMap<K, V, std::hash::BuildHasherDefault<IdHasher>>;
