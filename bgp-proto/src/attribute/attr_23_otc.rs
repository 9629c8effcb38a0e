//! ONLY_TO_CUSTOMER (type 35, RFC 9234 §5): optional transitive, an AS number.

use crate::types::Asn;
use crate::update::Reason;

/// RFC 9234 §5: length other than 4 → attribute discard.
pub(crate) fn decode(v: &[u8]) -> Result<Asn, Reason> {
    super::be_u32_exact(v).map(Asn)
}
