//! MULTI_EXIT_DISC (type 4, RFC 4271 §5.1.4): optional non-transitive, 4 octets.

use crate::update::Reason;

/// RFC 7606 §7.4: length other than 4 → treat-as-withdraw.
pub(crate) fn decode(v: &[u8]) -> Result<u32, Reason> {
    super::be_u32_exact(v)
}
