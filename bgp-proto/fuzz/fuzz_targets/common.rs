// Shared by the fuzz targets: a session context drawn from one input octet.
use bgp_proto::SessionContext;

/// Bit 0: 4-octet AS; bit 1: ADD-PATH IPv4 receive; bit 2: ADD-PATH IPv6 receive; bit 3:
/// extended message; bits 4/5: ADD-PATH transmit IPv4/IPv6 (used when re-encoding); bit 6: RFC 8950
/// extended next hop for IPv4.
pub fn context(b: u8) -> SessionContext {
    SessionContext {
        four_octet_as: b & 1 != 0,
        add_path_rx_v4: b & 2 != 0,
        add_path_rx_v6: b & 4 != 0,
        extended_message: b & 8 != 0,
        add_path_tx_v4: b & 2 != 0,
        add_path_tx_v6: b & 4 != 0,
        extended_next_hop_v4: b & 64 != 0,
    }
}
