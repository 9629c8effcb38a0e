//! NEXT_HOP (type 3, RFC 4271 §5.1.3): well-known, an IPv4 address, required with IPv4 NLRI in
//! the classic NLRI field (RFC 4760 §3 makes it unnecessary otherwise).

use std::net::Ipv4Addr;

use crate::update::Reason;

/// RFC 7606 §7.3: length other than 4 → treat-as-withdraw. Semantic checks (own address,
/// shared subnet on eBGP) need the session's addresses and are left to the caller.
pub(crate) fn decode(v: &[u8]) -> Result<Ipv4Addr, Reason> {
    let a: [u8; 4] = v.try_into().map_err(|_| Reason::BadLength)?;
    let addr = Ipv4Addr::from(a);
    // RFC 4271 §6.3: a next hop that cannot be a host address is syntactically wrong.
    if addr.is_unspecified() || addr.is_broadcast() || addr.is_multicast() {
        return Err(Reason::InvalidNextHop);
    }
    Ok(addr)
}
