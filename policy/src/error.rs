//! The crate's error type.

/// Errors building a compiled policy from configuration values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// A community is neither `aa:nn` (16-bit parts) nor `aa:nn:mm` (32-bit parts).
    #[error("invalid BGP community {0:?} (expected aa:nn or aa:nn:mm)")]
    BadCommunity(String),
    /// A prefix-length range that cannot match anything for its CIDR.
    #[error("prefix length range {min}..={max} is empty or exceeds {limit} for {cidr}")]
    BadPrefixLength {
        cidr: ipnet::IpNet,
        min: u8,
        max: u8,
        limit: u8,
    },
}
