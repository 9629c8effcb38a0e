//! LOCAL_PREF (type 5, RFC 4271 §5.1.5): well-known, 4 octets, iBGP only.

use crate::update::Reason;

/// RFC 7606 §7.5: length other than 4 → treat-as-withdraw. (Received on eBGP it is discarded:
/// see [`Update::apply_ebgp_rules`](crate::update::Update::apply_ebgp_rules).)
pub(crate) fn decode(v: &[u8]) -> Result<u32, Reason> {
    super::be_u32_exact(v)
}
