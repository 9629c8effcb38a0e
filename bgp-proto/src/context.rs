//! The negotiated session context: what the FSM learned from the two OPENs and what changes how
//! UPDATEs are read and written. The codec never changes it; the FSM builds a new one.

use crate::types::Family;

/// Capabilities negotiated on a session that change the wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionContext {
    /// RFC 6793: both sides announced 4-octet AS support; AS_PATH carries 4-octet numbers.
    pub four_octet_as: bool,
    /// RFC 7911: path identifiers are present in NLRI we *receive* for IPv4 unicast.
    pub add_path_rx_v4: bool,
    /// RFC 7911: path identifiers are present in NLRI we *receive* for IPv6 unicast.
    pub add_path_rx_v6: bool,
    /// RFC 7911: path identifiers are present in NLRI we *send* for IPv4 unicast.
    pub add_path_tx_v4: bool,
    /// RFC 7911: path identifiers are present in NLRI we *send* for IPv6 unicast.
    pub add_path_tx_v6: bool,
    /// RFC 8654: messages up to 65535 octets (otherwise 4096).
    pub extended_message: bool,
}

impl Default for SessionContext {
    /// The context before any OPEN was exchanged: 2-octet AS, no ADD-PATH, 4096-octet messages.
    fn default() -> Self {
        SessionContext {
            four_octet_as: false,
            add_path_rx_v4: false,
            add_path_rx_v6: false,
            add_path_tx_v4: false,
            add_path_tx_v6: false,
            extended_message: false,
        }
    }
}

impl SessionContext {
    /// The largest message this session may carry (RFC 4271 §4.1, RFC 8654).
    pub fn max_message_len(&self) -> usize {
        if self.extended_message {
            65535
        } else {
            4096
        }
    }

    /// Whether NLRI of `family` received on this session carry path identifiers.
    pub fn add_path_rx(&self, family: Family) -> bool {
        match family {
            Family::Ipv4Unicast => self.add_path_rx_v4,
            Family::Ipv6Unicast => self.add_path_rx_v6,
        }
    }

    /// Whether NLRI of `family` sent on this session carry path identifiers.
    pub fn add_path_tx(&self, family: Family) -> bool {
        match family {
            Family::Ipv4Unicast => self.add_path_tx_v4,
            Family::Ipv6Unicast => self.add_path_tx_v6,
        }
    }
}
