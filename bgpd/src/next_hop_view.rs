//! What a session checks received next hops against ([`NextHopView`]), built from the daemon's
//! interface table ([`fib_sync::InterfaceWatch`]) when the session comes up and again whenever
//! an address or link changes while it is up: our addresses, and for a single-hop eBGP peer
//! the subnets of every interface (RFC 4271 §5.1.3, §6.3; BIRD's direct gateway mode).

use std::net::{IpAddr, SocketAddr};

use conf::{Neighbor, TtlMode};
use fib_sync::{InterfaceReceiver, Interfaces};
use ipnet::IpNet;

use crate::fsm::{NextHopView, SessionConfig};

/// Our addresses in `table` (and the session's local one, `local`), and, when `n` is a
/// directly connected eBGP peer, the connected subnets. Without a table: the session's address
/// only.
pub fn read(
    n: &Neighbor,
    config: &SessionConfig,
    local: Option<SocketAddr>,
    table: Option<&Interfaces>,
) -> NextHopView {
    let addrs: Vec<(IpAddr, u8)> = table.map_or_else(Vec::new, |t| {
        t.links()
            .flat_map(|l| t.addresses(l.index))
            .map(|a| (a.addr(), a.prefix_len()))
            .collect()
    });
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
        let mut nets: Vec<IpNet> = addrs
            .iter()
            .filter_map(|(a, len)| IpNet::new(*a, *len).ok().map(|n| n.trunc()))
            .collect();
        nets.sort();
        nets.dedup();
        nets
    });
    NextHopView { own, connected }
}

/// The next change of the interface table; never when there is none or its publisher is gone.
pub async fn changed(rx: Option<&mut InterfaceReceiver>) {
    match rx {
        Some(rx) => fib_sync::watch::changed(rx).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fib_sync::InterfaceWatch;

    fn neighbor(ebgp_direct: bool) -> (Neighbor, SessionConfig) {
        let mut config = conf::Config::embedded_default().expect("embedded default");
        let mut n = config.neighbors.remove(0);
        n.ttl = TtlMode::Direct;
        let mut sc = crate::neighbor::session_config(&config, &n);
        if ebgp_direct {
            sc.remote_as = bgp_proto::Asn(65099);
        } else {
            sc.remote_as = sc.local_as;
        }
        (n, sc)
    }

    fn link(name: &str, index: u32) -> fib_sync::Link {
        fib_sync::Link {
            index,
            name: name.into(),
            up: true,
            flags: libc::IFF_UP as u32,
            mtu: 1500,
        }
    }

    fn nets(v: &[&str]) -> Vec<IpNet> {
        v.iter().map(|s| s.parse().expect("net")).collect()
    }

    #[test]
    fn own_addresses_and_connected_subnets_follow_the_interface_table() {
        let (n, sc) = neighbor(true);
        let local: SocketAddr = "10.99.0.1:179".parse().expect("addr");
        let mut t = Interfaces::default();
        t.set_link(link("eth0", 2), nets(&["10.99.0.1/24", "fd99::1/64"]));
        let v = read(&n, &sc, Some(local), Some(&t));
        assert_eq!(
            v.own,
            vec![
                "10.99.0.1".parse::<IpAddr>().expect("ip"),
                "fd99::1".parse().expect("ip")
            ]
        );
        assert_eq!(
            v.connected,
            Some(vec![
                "10.99.0.0/24".parse().expect("net"),
                "fd99::/64".parse().expect("net")
            ])
        );
        // An address added later is ours and its subnet connected from the next view on.
        t.set_link(link("eth1", 3), nets(&["10.98.0.5/24"]));
        let v = read(&n, &sc, Some(local), Some(&t));
        assert!(v.own.contains(&"10.98.0.5".parse().expect("ip")));
        assert!(v
            .connected
            .as_ref()
            .is_some_and(|c| c.contains(&"10.98.0.0/24".parse().expect("net"))));
        // iBGP: no connected-subnet rule; no table: the session's address only.
        let (n, sc) = neighbor(false);
        assert_eq!(read(&n, &sc, Some(local), Some(&t)).connected, None);
        let v = read(&n, &sc, Some(local), None);
        assert_eq!(v.own, vec![local.ip()]);
    }

    #[tokio::test]
    async fn changed_waits_for_a_new_table_and_never_without_a_publisher() {
        let w = InterfaceWatch::fixed(Interfaces::default());
        let mut rx = w.subscribe();
        let wait =
            tokio::time::timeout(std::time::Duration::from_millis(50), changed(Some(&mut rx)));
        assert!(wait.await.is_err(), "a fixed table never changes");
        let wait = tokio::time::timeout(std::time::Duration::from_millis(50), changed(None));
        assert!(wait.await.is_err());
    }
}
