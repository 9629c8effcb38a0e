//! NEXT_HOP (type 3, RFC 4271 §5.1.3): well-known, an IPv4 address, required with IPv4 NLRI in
//! the classic NLRI field (RFC 4760 §3 makes it unnecessary otherwise).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::bad_length;
use crate::update::Reason;

/// RFC 7606 §7.3: length other than 4 → treat-as-withdraw. Semantic checks (own address,
/// shared subnet on eBGP) need the session's addresses and are left to the caller.
pub(crate) fn decode(v: &[u8]) -> Result<Ipv4Addr, Reason> {
    let a: [u8; 4] = v.try_into().map_err(|_| bad_length(v, "4"))?;
    let addr = Ipv4Addr::from(a);
    if is_martian_v4(addr) {
        return Err(Reason::MartianNextHop(IpAddr::V4(addr)));
    }
    Ok(addr)
}

/// RFC 4271 §6.3: a next hop that cannot be a unicast host address is syntactically wrong:
/// "this network" 0.0.0.0/8, loopback 127/8, multicast 224/4, reserved 240/4 (with the
/// limited broadcast address).
pub(crate) fn is_martian_v4(a: Ipv4Addr) -> bool {
    let first = a.octets()[0];
    first == 0 || first == 127 || first >= 224
}

/// The IPv6 counterpart: the unspecified address, loopback ::1 and multicast ff00::/8.
pub(crate) fn is_martian_v6(a: Ipv6Addr) -> bool {
    a.is_unspecified() || a.is_loopback() || a.is_multicast()
}

/// Whether `a` cannot be a next hop (either family).
pub fn is_martian(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(a) => is_martian_v4(a),
        IpAddr::V6(a) => is_martian_v6(a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_martians_and_keeps_unicast_hosts() {
        for bad in [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "224.0.0.5",
            "239.1.1.1",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            let a: Ipv4Addr = bad.parse().unwrap();
            assert_eq!(
                decode(&a.octets()),
                Err(Reason::MartianNextHop(IpAddr::V4(a))),
                "{bad}"
            );
        }
        for good in ["1.0.0.1", "10.99.0.1", "126.255.255.254", "223.255.255.254"] {
            let a: Ipv4Addr = good.parse().unwrap();
            assert_eq!(decode(&a.octets()), Ok(a), "{good}");
        }
        assert_eq!(
            decode(&[10, 0, 0]),
            Err(Reason::BadLength {
                len: 3,
                expected: "4"
            })
        );
        for bad in ["::", "::1", "ff02::1", "ff05::2"] {
            assert!(is_martian(bad.parse().unwrap()), "{bad}");
        }
        for good in ["fd99::1", "2001:db8::1", "fe80::1", "::ffff:10.0.0.1"] {
            assert!(!is_martian(good.parse().unwrap()), "{good}");
        }
    }
}
