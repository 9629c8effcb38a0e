//! What a session checks received next hops against ([`NextHopView`]), read from the system
//! when the session comes up: our addresses, and for a single-hop eBGP peer the subnets of
//! every interface (RFC 4271 §5.1.3, §6.3; BIRD's direct gateway mode).

use std::net::{IpAddr, SocketAddr};

use conf::{Neighbor, TtlMode};
use ipnet::IpNet;
use tracing::warn;

use crate::fsm::{NextHopView, SessionConfig};

/// Our addresses now (and the session's local one, `local`), and, when `n` is a directly
/// connected eBGP peer, the connected subnets.
pub fn read(n: &Neighbor, config: &SessionConfig, local: Option<SocketAddr>) -> NextHopView {
    let ifaces = crate::control::cmd::show_interfaces::read().unwrap_or_else(|e| {
        warn!(event = "interfaces_unreadable", error = %e,
            "next hops checked against the session address only");
        Vec::new()
    });
    let addrs: Vec<(IpAddr, u8)> = ifaces
        .iter()
        .flat_map(|i| i.addrs.iter().copied())
        .collect();
    view(n, config, local, &addrs)
}

/// The pure part of [`read`]: `addrs` are the interfaces' (address, prefix length) pairs.
pub fn view(
    n: &Neighbor,
    config: &SessionConfig,
    local: Option<SocketAddr>,
    addrs: &[(IpAddr, u8)],
) -> NextHopView {
    let mut own: Vec<IpAddr> = addrs.iter().map(|(a, _)| *a).collect();
    own.extend(local.map(|l| l.ip()));
    own.sort();
    own.dedup();
    let single_hop = matches!(n.ttl, TtlMode::Direct | TtlMode::Gtsm { max_hops: None });
    let connected = (config.remote_as != config.local_as && single_hop).then(|| {
        addrs
            .iter()
            .filter_map(|(a, len)| IpNet::new(*a, *len).ok().map(|n| n.trunc()))
            .collect()
    });
    NextHopView { own, connected }
}
