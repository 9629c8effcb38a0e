//! BFD's UDP sockets (RFC 5881 single hop, RFC 5883 multihop).
//!
//! - One receiving socket per family and kind, bound to the wildcard address on port 3784
//!   (single hop) or 4784 (multihop). The single-hop one drops every datagram whose TTL / hop
//!   limit is not 255 (RFC 5881 §5, GTSM) with a classic BPF filter reading the IP header:
//!   the kernel's `IP_MINTTL` applies to TCP only.
//! - One sending socket per session, bound to a source port in 49152-65535 (RFC 5881 §4),
//!   connected to the peer, TTL / hop limit 255.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tracing::debug;

/// RFC 5881 §4: the single-hop Control packet destination port.
pub const SINGLE_HOP_PORT: u16 = 3784;
/// RFC 5883 §5: the multihop destination port.
pub const MULTIHOP_PORT: u16 = 4784;
/// RFC 5881 §4: source ports of Control packets.
pub const SOURCE_PORTS: std::ops::RangeInclusive<u16> = 49152..=65535;
/// TTL / hop limit we send with, and the only one single hop accepts.
pub const TTL: u8 = 255;

/// The four receiving sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenKind {
    pub v6: bool,
    pub multihop: bool,
}

/// One datagram for the manager.
#[derive(Debug)]
pub struct Datagram {
    pub data: Vec<u8>,
    pub from: SocketAddr,
    pub multihop: bool,
}

/// Classic BPF: accept only packets whose IP TTL (IPv4 header offset 8) or hop limit (IPv6
/// offset 7) is 255. Offsets are relative to the network header (`SKF_NET_OFF`).
fn gtsm_filter(v6: bool) -> [libc::sock_filter; 4] {
    const SKF_NET_OFF: u32 = 0xfff0_0000; // -0x100000 as u32
    const LD_B_ABS: u16 = 0x30; // BPF_LD | BPF_B | BPF_ABS
    const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
    const RET_K: u16 = 0x06; // BPF_RET | BPF_K
    let off = if v6 { 7 } else { 8 };
    [
        libc::sock_filter {
            code: LD_B_ABS,
            jt: 0,
            jf: 0,
            k: SKF_NET_OFF + off,
        },
        libc::sock_filter {
            code: JEQ_K,
            jt: 0,
            jf: 1,
            k: u32::from(TTL),
        },
        libc::sock_filter {
            code: RET_K,
            jt: 0,
            jf: 0,
            k: u32::MAX,
        },
        libc::sock_filter {
            code: RET_K,
            jt: 0,
            jf: 0,
            k: 0,
        },
    ]
}

/// Binds a receiving socket.
pub fn listen(kind: ListenKind) -> io::Result<UdpSocket> {
    let port = if kind.multihop {
        MULTIHOP_PORT
    } else {
        SINGLE_HOP_PORT
    };
    let (domain, addr) = if kind.v6 {
        (Domain::IPV6, IpAddr::V6(Ipv6Addr::UNSPECIFIED))
    } else {
        (Domain::IPV4, IpAddr::V4(Ipv4Addr::UNSPECIFIED))
    };
    let s = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    if kind.v6 {
        s.set_only_v6(true)?;
    }
    s.set_reuse_address(true)?;
    if !kind.multihop {
        s.attach_filter(&gtsm_filter(kind.v6))?;
    }
    s.set_nonblocking(true)?;
    s.bind(&SockAddr::from(SocketAddr::new(addr, port)))?;
    UdpSocket::from_std(s.into())
}

/// A session's sending socket: from `local` (or the kernel's choice) and a port in
/// [`SOURCE_PORTS`], to the peer's BFD port, optionally tied to `interface`.
pub fn sender(
    peer: SocketAddr,
    local: Option<IpAddr>,
    interface: Option<&str>,
    mut port_seed: u64,
) -> io::Result<UdpSocket> {
    let domain = if peer.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let s = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    if peer.is_ipv6() {
        s.set_only_v6(true)?;
        s.set_unicast_hops_v6(u32::from(TTL))?;
    } else {
        s.set_ttl(u32::from(TTL))?;
    }
    if let Some(i) = interface {
        s.bind_device(Some(i.as_bytes()))?;
    }
    s.set_nonblocking(true)?;
    let ip = local.unwrap_or(match peer {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    });
    let span = u64::from(SOURCE_PORTS.end() - SOURCE_PORTS.start()) + 1;
    let mut last = io::Error::from(io::ErrorKind::AddrInUse);
    for _ in 0..64 {
        port_seed = port_seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let port = SOURCE_PORTS.start() + u16::try_from((port_seed >> 33) % span).unwrap_or(0);
        let mut bind_to = SocketAddr::new(ip, port);
        if let (SocketAddr::V6(p), SocketAddr::V6(b)) = (peer, &mut bind_to) {
            // A link-local peer: the source needs the same scope.
            b.set_scope_id(p.scope_id());
        }
        match s.bind(&SockAddr::from(bind_to)) {
            Ok(()) => {
                s.connect(&SockAddr::from(peer))?;
                return UdpSocket::from_std(s.into());
            }
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

/// Reads `socket` until the manager goes away; datagrams are dropped when its queue is full
/// (BFD tolerates loss: a detection time is several packets).
pub fn spawn_reader(
    socket: Arc<UdpSocket>,
    multihop: bool,
    tx: mpsc::Sender<Datagram>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        loop {
            match socket.recv_from(&mut buf).await {
                Ok((n, from)) => {
                    let d = Datagram {
                        data: buf[..n].to_vec(),
                        from,
                        multihop,
                    };
                    match tx.try_send(d) {
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            debug!(event = "bfd_rx_dropped", "BFD receive queue full");
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => return,
                    }
                }
                Err(e) => {
                    debug!(event = "bfd_rx_error", error = %e, "BFD receive failed");
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The filter really drops a datagram sent with TTL 64 and passes one with 255
    /// (loopback, unprivileged: the receiving socket uses an ephemeral port here).
    #[tokio::test]
    async fn single_hop_filter_drops_datagrams_without_ttl_255() {
        for v6 in [false, true] {
            let lo: IpAddr = if v6 {
                Ipv6Addr::LOCALHOST.into()
            } else {
                Ipv4Addr::LOCALHOST.into()
            };
            let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
            let Ok(r) = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)) else {
                return;
            };
            if r.bind(&SockAddr::from(SocketAddr::new(lo, 0))).is_err() {
                eprintln!("skipping: no loopback for v6={v6}");
                continue;
            }
            r.attach_filter(&gtsm_filter(v6)).expect("filter attaches");
            r.set_nonblocking(true).expect("nonblocking");
            let r = UdpSocket::from_std(r.into()).expect("tokio socket");
            let to = r.local_addr().expect("bound");
            let low = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).expect("socket");
            if v6 {
                low.set_unicast_hops_v6(64).expect("hops");
            } else {
                low.set_ttl(64).expect("ttl");
            }
            low.send_to(b"ttl64", &SockAddr::from(to)).expect("send");
            let high = sender(to, Some(lo), None, 7).expect("sender");
            high.send(b"ttl255").await.expect("send");
            let mut buf = [0u8; 16];
            let (n, from) = r.recv_from(&mut buf).await.expect("recv");
            assert_eq!(&buf[..n], b"ttl255");
            assert!(SOURCE_PORTS.contains(&from.port()), "{from}");
            let more =
                tokio::time::timeout(std::time::Duration::from_millis(100), r.recv(&mut buf)).await;
            assert!(more.is_err(), "the TTL 64 datagram must not arrive");
        }
    }
}
