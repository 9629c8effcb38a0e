//! UPDATE message (RFC 4271 §4.3): placeholder until the UPDATE codec lands.

/// A decoded UPDATE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {}
