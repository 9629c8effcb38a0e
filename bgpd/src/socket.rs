//! TCP socket options for BGP sessions: TCP-MD5 (RFC 2385), TTL for directly connected and
//! multihop peers, GTSM (RFC 5082), the source address and TCP_USER_TIMEOUT.

use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, RawFd};

use conf::{Neighbor, Password, TtlMode};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::error::Error;

/// Linux `struct tcp_md5sig` (include/uapi/linux/tcp.h): a `sockaddr_storage` (128 octets),
/// flags, prefix length, key length, ifindex, then the 80-octet key.
const MD5SIG_LEN: usize = 128 + 8 + 80;
const MD5_MAX_KEY: usize = 80;

/// Sets a socket option from raw bytes.
#[allow(unsafe_code)]
fn setsockopt_bytes(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: &[u8],
) -> std::io::Result<()> {
    let len = libc::socklen_t::try_from(value.len())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: `value` points to `len` initialised octets that live for the whole call; the kernel
    // only reads them (copies them in) and does not keep the pointer. `fd` is an open socket
    // owned by the caller for the duration of the call.
    let r = unsafe { libc::setsockopt(fd, level, name, value.as_ptr().cast(), len) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn setsockopt_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    v: libc::c_int,
) -> std::io::Result<()> {
    setsockopt_bytes(fd, level, name, &v.to_ne_bytes())
}

/// The `tcp_md5sig` value for `peer` with `key` (an empty key removes it).
fn md5sig(peer: IpAddr, key: &[u8]) -> Result<[u8; MD5SIG_LEN], Error> {
    if key.len() > MD5_MAX_KEY {
        return Err(Error::Md5KeyTooLong { peer });
    }
    let mut v = [0u8; MD5SIG_LEN];
    match peer {
        IpAddr::V4(a) => {
            // struct sockaddr_in: family (host order), port (0), address.
            v[0..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
            v[4..8].copy_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            // struct sockaddr_in6: family, port, flowinfo, address, scope id.
            v[0..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
            v[8..24].copy_from_slice(&a.octets());
        }
    }
    // tcpm_flags, tcpm_prefixlen stay 0 (plain TCP_MD5SIG ignores them).
    // `key.len() <= 80`, checked above.
    v[130..132].copy_from_slice(&(key.len() as u16).to_ne_bytes());
    v[136..136 + key.len()].copy_from_slice(key);
    Ok(v)
}

/// RFC 2385: installs the TCP-MD5 key for `peer` on a socket (listening or connecting).
pub fn set_md5(fd: &impl AsRawFd, peer: IpAddr, key: &Password) -> Result<(), Error> {
    let v = md5sig(peer, key.expose())?;
    setsockopt_bytes(fd.as_raw_fd(), libc::IPPROTO_TCP, libc::TCP_MD5SIG, &v).map_err(|source| {
        Error::SocketOption {
            option: "TCP_MD5SIG",
            peer,
            source,
        }
    })
}

/// Removes the TCP-MD5 key for `peer` from a socket (a reload removed the neighbor or its
/// password); ENOENT (no key was set) is not an error.
pub fn clear_md5(fd: &impl AsRawFd, peer: IpAddr) -> Result<(), Error> {
    let v = md5sig(peer, &[])?;
    match setsockopt_bytes(fd.as_raw_fd(), libc::IPPROTO_TCP, libc::TCP_MD5SIG, &v) {
        Ok(()) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        Err(source) => Err(Error::SocketOption {
            option: "TCP_MD5SIG",
            peer,
            source,
        }),
    }
}

/// The TTL we send with and the minimum TTL we accept (GTSM), per the neighbor's mode.
fn ttl_of(mode: TtlMode) -> (u8, Option<u8>) {
    match mode {
        TtlMode::Direct => (1, None),
        TtlMode::Multihop(n) => (n, None),
        // RFC 5082 §3: send 255, accept only 255 (directly connected), or down to 256 - N
        // for a peer N hops away (BIRD's `ttl security on; multihop N`).
        TtlMode::Gtsm { max_hops } => {
            (255, Some(255 - max_hops.map_or(0, |n| n.saturating_sub(1))))
        }
    }
}

/// Sets the outgoing TTL / hop limit and, with GTSM, the minimum accepted one.
pub fn set_ttl(fd: &impl AsRawFd, peer: IpAddr, mode: TtlMode) -> Result<(), Error> {
    let (ttl, min) = ttl_of(mode);
    let fd = fd.as_raw_fd();
    let err = |option| {
        move |source| Error::SocketOption {
            option,
            peer,
            source,
        }
    };
    match peer {
        IpAddr::V4(_) => {
            setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_TTL, ttl.into())
                .map_err(err("IP_TTL"))?;
            if let Some(m) = min {
                setsockopt_int(fd, libc::IPPROTO_IP, libc::IP_MINTTL, m.into())
                    .map_err(err("IP_MINTTL"))?;
            }
        }
        IpAddr::V6(_) => {
            setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, ttl.into())
                .map_err(err("IPV6_UNICAST_HOPS"))?;
            if let Some(m) = min {
                setsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_MINHOPCOUNT, m.into())
                    .map_err(err("IPV6_MINHOPCOUNT"))?;
            }
        }
    }
    Ok(())
}

/// TCP_USER_TIMEOUT (RFC 5482; Linux `tcp(7)`): how long sent data may stay unacknowledged
/// (zero-window probes included) before the kernel drops the connection. Set to the hold time,
/// so that a peer that stops reading cannot hold the socket and its queued data forever after
/// the session gave up on it; a hold time of 0 leaves the kernel's default.
pub fn set_user_timeout(
    fd: &impl std::os::fd::AsFd,
    peer: IpAddr,
    timeout: std::time::Duration,
) -> Result<(), Error> {
    if timeout.is_zero() {
        return Ok(());
    }
    socket2::SockRef::from(fd)
        .set_tcp_user_timeout(Some(timeout))
        .map_err(|source| Error::SocketOption {
            option: "TCP_USER_TIMEOUT",
            peer,
            source,
        })
}

/// Opens a connection to neighbor `n` with its key, TTL and source address; a neighbor with an
/// interface is bound to that device and, at a link-local address, reached with the interface's
/// index as scope (resolved now, so an interface that appeared since the last attempt is found).
pub async fn connect(n: &Neighbor) -> Result<TcpStream, Error> {
    let peer = n.address;
    let target = crate::link::peer_socket_addr(n)?;
    let sock = match peer {
        IpAddr::V4(_) => TcpSocket::new_v4()?,
        IpAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let Some(key) = &n.password {
        set_md5(&sock, peer, key)?;
    }
    set_ttl(&sock, peer, n.ttl)?;
    set_user_timeout(&sock, peer, n.timers.hold)?;
    if let Some(ifname) = &n.interface {
        bind_device(&sock, peer, ifname)?;
    }
    if let Some(src) = n.source_address {
        let local = match (src, target) {
            // Our link-local source address is on the same link as the peer.
            (IpAddr::V6(a), SocketAddr::V6(t)) if conf::model::is_link_local(src) => {
                SocketAddr::V6(std::net::SocketAddrV6::new(a, 0, 0, t.scope_id()))
            }
            _ => SocketAddr::new(src, 0),
        };
        sock.bind(local)?;
    }
    let stream = sock.connect(target).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// SO_BINDTODEVICE: the session's packets leave and arrive through `ifname` only (BIRD's
/// `interface`).
pub fn bind_device(fd: &impl std::os::fd::AsFd, peer: IpAddr, ifname: &str) -> Result<(), Error> {
    socket2::SockRef::from(fd)
        .bind_device(Some(ifname.as_bytes()))
        .map_err(|source| Error::SocketOption {
            option: "SO_BINDTODEVICE",
            peer,
            source,
        })
}

/// Applies the neighbor's TTL settings to a connection it made to us.
pub fn accepted(stream: &TcpStream, n: &Neighbor) -> Result<(), Error> {
    set_ttl(stream, n.address, n.ttl)?;
    set_user_timeout(stream, n.address, n.timers.hold)?;
    stream.set_nodelay(true)?;
    Ok(())
}

/// A listening socket on `addr` (IPv6 sockets are v6-only) with one TCP-MD5 key per neighbor
/// of the same family that has a password.
pub fn listen(addr: SocketAddr, neighbors: &[Neighbor]) -> Result<TcpListener, Error> {
    let wrap = |source| Error::Listen { addr, source };
    let domain = socket2::Domain::for_address(addr);
    let sock = socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))
        .map_err(wrap)?;
    if addr.is_ipv6() {
        sock.set_only_v6(true).map_err(wrap)?;
    }
    sock.set_reuse_address(true).map_err(wrap)?;
    sock.set_nonblocking(true).map_err(wrap)?;
    for n in neighbors {
        if let Some(key) = &n.password {
            if n.address.is_ipv4() == addr.is_ipv4() {
                set_md5(&sock, n.address, key)?;
            }
        }
    }
    sock.bind(&addr.into()).map_err(wrap)?;
    sock.listen(128).map_err(wrap)?;
    TcpListener::from_std(sock.into()).map_err(wrap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn md5sig_layout_matches_linux() {
        let v = md5sig(IpAddr::V4(Ipv4Addr::new(10, 99, 0, 2)), b"secret").expect("fits");
        assert_eq!(&v[0..2], &(libc::AF_INET as u16).to_ne_bytes());
        assert_eq!(&v[4..8], &[10, 99, 0, 2]);
        assert_eq!(&v[130..132], &6u16.to_ne_bytes());
        assert_eq!(&v[136..142], b"secret");
        assert!(md5sig(IpAddr::V4(Ipv4Addr::LOCALHOST), &[0; 81]).is_err());
    }

    #[tokio::test]
    async fn md5_ttl_and_gtsm_options_are_accepted_by_the_kernel() {
        let peer = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let sock = TcpSocket::new_v4().expect("socket");
        // Only this test reads this variable.
        std::env::set_var("BGPD_TEST_MD5_KEY", "secret");
        let c = conf::Config::from_str(
            "router_id = \"10.0.0.1\"\nlocal_as = 1\n[[neighbors]]\nname = \"p\"\n\
             address = \"127.0.0.2\"\nremote_as = 2\npassword_env = \"BGPD_TEST_MD5_KEY\"\n",
            "t.toml",
        )
        .expect("valid");
        let key = c.neighbors[0]
            .password
            .as_ref()
            .expect("key from the environment");
        set_md5(&sock, peer, key).expect("TCP_MD5SIG");
        clear_md5(&sock, peer).expect("TCP_MD5SIG removal");
        clear_md5(&sock, peer).expect("removing an absent key is fine");
        set_ttl(&sock, peer, TtlMode::Gtsm { max_hops: None }).expect("GTSM");
        set_ttl(&sock, peer, TtlMode::Multihop(5)).expect("multihop");
        set_user_timeout(&sock, peer, std::time::Duration::from_secs(90)).expect("user timeout");
        assert_eq!(
            socket2::SockRef::from(&sock)
                .tcp_user_timeout()
                .expect("read back"),
            Some(std::time::Duration::from_secs(90)),
        );
    }
}
