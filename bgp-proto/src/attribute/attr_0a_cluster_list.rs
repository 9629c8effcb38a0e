//! CLUSTER_LIST (type 10, RFC 4456 §8): optional non-transitive list of cluster ids.

use std::net::Ipv4Addr;

use super::bad_length;
use crate::update::Reason;

/// RFC 7606 §7.10: length not a multiple of 4 → treat-as-withdraw.
pub(crate) fn decode(v: &[u8]) -> Result<Vec<Ipv4Addr>, Reason> {
    if v.len() % 4 != 0 {
        return Err(bad_length(v, "a multiple of 4"));
    }
    Ok(v.chunks_exact(4)
        .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
        .collect())
}
