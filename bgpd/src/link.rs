//! The link a neighbor's session is bound to (`interface`, `fe80::1%eth1`): interface names and
//! indexes as the kernel knows them now, asked at each connection attempt and each accepted
//! connection, so an interface that appears (or is re-created with a new index) later is found.

use std::net::{IpAddr, SocketAddr, SocketAddrV6};

use conf::Neighbor;

use crate::error::Error;

/// The index of interface `name` now (`if_nametoindex(3)`).
pub fn index(name: &str) -> Result<u32, Error> {
    nix::net::if_::if_nametoindex(name).map_err(|e| Error::NoInterface {
        interface: name.to_string(),
        source: std::io::Error::from(e),
    })
}

/// The name of the interface with index `index` now, if there is one.
pub fn name_of(index: u32) -> Option<String> {
    let list = nix::net::if_::if_nameindex().ok()?;
    list.iter()
        .find(|i| i.index() == index)
        .map(|i| i.name().to_string_lossy().into_owned())
}

/// The socket address to connect to for `n`: a link-local address carries its interface's
/// index as scope (RFC 4007 §11); others none.
pub fn peer_socket_addr(n: &Neighbor) -> Result<SocketAddr, Error> {
    match (n.address, &n.interface) {
        (IpAddr::V6(a), Some(ifname)) if n.is_link_local() => Ok(SocketAddr::V6(
            SocketAddrV6::new(a, n.port, 0, index(ifname)?),
        )),
        (a, _) => Ok(SocketAddr::new(a, n.port)),
    }
}

/// Which neighbor an accepted connection from `remote` is for, when several share its address
/// on different links: the interface the connection's scope names, if any.
pub fn remote_interface(remote: &SocketAddr) -> Option<String> {
    match remote {
        SocketAddr::V6(a) if a.scope_id() != 0 => name_of(a.scope_id()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_resolves_both_ways_and_unknown_names_fail() {
        let lo = index("lo").expect("every namespace has lo");
        assert_eq!(name_of(lo).as_deref(), Some("lo"));
        let e = index("no-such-if0").expect_err("absent");
        assert!(
            e.to_string().starts_with("interface no-such-if0 not found"),
            "{e}"
        );
    }

    #[test]
    fn link_local_neighbors_connect_with_the_interface_scope() {
        let c = conf::Config::from_str(
            "router_id = \"10.0.0.1\"\nlocal_as = 1\n\
             [[neighbors]]\nname = \"ll\"\naddress = \"fe80::1%lo\"\nremote_as = 2\n\
             [[neighbors]]\nname = \"g\"\naddress = \"fd99::1\"\ninterface = \"lo\"\nremote_as = 2\n\
             [[neighbors]]\nname = \"gone\"\naddress = \"fe80::1%nosuch0\"\nremote_as = 2\n",
            "t.toml",
        )
        .expect("valid");
        let lo = index("lo").expect("lo");
        match peer_socket_addr(&c.neighbors[0]).expect("resolves") {
            SocketAddr::V6(a) => assert_eq!((a.scope_id(), a.port()), (lo, 179)),
            other => panic!("{other}"),
        }
        match peer_socket_addr(&c.neighbors[1]).expect("resolves") {
            SocketAddr::V6(a) => assert_eq!(a.scope_id(), 0, "a global address has no scope"),
            other => panic!("{other}"),
        }
        assert!(matches!(
            peer_socket_addr(&c.neighbors[2]),
            Err(Error::NoInterface { .. })
        ));
        let remote = SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 179, 0, lo));
        assert_eq!(remote_interface(&remote).as_deref(), Some("lo"));
    }
}
