//! ORIGINATOR_ID (type 9, RFC 4456 §8): optional non-transitive, the route's originator in
//! the reflecting cluster.

use std::net::Ipv4Addr;

use super::bad_length;
use crate::update::Reason;

/// RFC 7606 §7.9: length other than 4 → treat-as-withdraw.
pub(crate) fn decode(v: &[u8]) -> Result<Ipv4Addr, Reason> {
    let a: [u8; 4] = v.try_into().map_err(|_| bad_length(v, "4"))?;
    Ok(Ipv4Addr::from(a))
}
