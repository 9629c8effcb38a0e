//! ATOMIC_AGGREGATE (type 6, RFC 4271 §5.1.6): well-known discretionary, no value.

use super::bad_length;
use crate::update::Reason;

/// RFC 7606 §7.6: length other than 0 → attribute discard.
pub(crate) fn decode(v: &[u8]) -> Result<(), Reason> {
    if v.is_empty() {
        Ok(())
    } else {
        Err(bad_length(v, "0"))
    }
}
