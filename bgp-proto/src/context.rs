//! The negotiated session context: what the FSM learned from the two OPENs and what changes how
//! UPDATEs are read and written. The codec never changes it; the FSM builds a new one.

use crate::capability::{AddPathMode, Capability};
use crate::open::Open;
use crate::types::{Afi, Asn, Family};

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
    /// RFC 8950 §4: both sides announced IPv4 unicast NLRI with IPv6 next hops; without it
    /// such an MP_REACH_NLRI is treat-as-withdraw.
    pub extended_next_hop_v4: bool,
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
            extended_next_hop_v4: false,
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

/// What two OPENs negotiated (see [`SessionContext::negotiate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The wire-format context for the session.
    pub context: SessionContext,
    /// Families both sides announced (RFC 4760 §8; an OPEN without any multiprotocol capability
    /// counts as IPv4 unicast only), in our OPEN's order.
    pub families: Vec<Family>,
    /// The peer's AS (RFC 6793 §4.1: from its 4-octet AS capability when present).
    pub peer_asn: Asn,
    /// RFC 4271 §4.2: the smaller of the two proposed hold times (0 means no keepalives).
    pub hold_time: u16,
    /// Both sides support route refresh (RFC 2918 or the old Cisco code).
    pub route_refresh: bool,
    /// Both sides support enhanced route refresh (RFC 7313 §4).
    pub enhanced_route_refresh: bool,
    /// RFC 8950 §4: both sides announced IPv4 unicast NLRI with IPv6 next hops, so such
    /// UPDATEs may be sent and received.
    pub extended_next_hop_v4: bool,
}

impl SessionContext {
    /// Negotiates the session from our OPEN and the peer's:
    /// - 4-octet AS when both announced it (RFC 6793 §4.1);
    /// - extended message when both announced it (RFC 8654 §3);
    /// - ADD-PATH per family (RFC 7911 §4): we receive path identifiers for a family when we
    ///   announced Receive or Both and the peer announced Send or Both; we send them when we
    ///   announced Send or Both and the peer announced Receive or Both. Only families both
    ///   sides negotiated are considered.
    pub fn negotiate(ours: &Open, theirs: &Open) -> Negotiated {
        let their_families = theirs.families();
        let families: Vec<Family> = ours
            .families()
            .into_iter()
            .filter(|f| their_families.contains(f))
            .collect();
        let mode = |open: &Open, family: Family| -> Option<AddPathMode> {
            // The last entry for a family wins if a speaker repeats it.
            open.add_path()
                .filter(|a| a.family() == Some(family))
                .map(|a| a.mode)
                .last()
        };
        let add_path = |family: Family| -> (bool, bool) {
            if !families.contains(&family) {
                return (false, false);
            }
            match (mode(ours, family), mode(theirs, family)) {
                (Some(o), Some(t)) => (o.receives() && t.sends(), o.sends() && t.receives()),
                _ => (false, false),
            }
        };
        let (add_path_rx_v4, add_path_tx_v4) = add_path(Family::Ipv4Unicast);
        let (add_path_rx_v6, add_path_tx_v6) = add_path(Family::Ipv6Unicast);
        let context = SessionContext {
            four_octet_as: ours.supports_four_octet_as() && theirs.supports_four_octet_as(),
            add_path_rx_v4,
            add_path_rx_v6,
            add_path_tx_v4,
            add_path_tx_v6,
            extended_message: ours.supports_extended_message()
                && theirs.supports_extended_message(),
            extended_next_hop_v4: v4_via_v6(ours) && v4_via_v6(theirs),
        };
        Negotiated {
            context,
            families,
            peer_asn: theirs.four_octet_asn(),
            hold_time: ours.hold_time.min(theirs.hold_time),
            route_refresh: ours.supports_route_refresh() && theirs.supports_route_refresh(),
            enhanced_route_refresh: ours.supports_enhanced_route_refresh()
                && theirs.supports_enhanced_route_refresh(),
            extended_next_hop_v4: context.extended_next_hop_v4,
        }
    }
}

/// Whether `open` announces IPv4 unicast NLRI with IPv6 next hops (RFC 8950 §3).
fn v4_via_v6(open: &Open) -> bool {
    open.capabilities.iter().any(|c| match c {
        Capability::ExtendedNextHop(v) => v
            .iter()
            .any(|e| e.nlri_afi == Afi::Ipv4 && e.nlri_safi == 1 && e.next_hop_afi == Afi::Ipv6),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::AddPath;
    use crate::types::{RouterId, Safi};
    use std::net::Ipv4Addr;

    fn open(asn: u32, hold: u16, caps: Vec<Capability>) -> Open {
        Open::new(Asn(asn), hold, RouterId(Ipv4Addr::new(10, 0, 0, 1)), caps)
    }

    fn mp(afi: Afi) -> Capability {
        Capability::Multiprotocol {
            afi,
            safi: Safi::Unicast,
        }
    }

    fn add_path(afi: Afi, mode: AddPathMode) -> Capability {
        Capability::AddPath(vec![AddPath {
            afi,
            safi: Safi::Unicast,
            mode,
        }])
    }

    #[test]
    fn negotiates_add_path_per_direction_and_family() {
        let ours = open(
            65001,
            90,
            vec![
                mp(Afi::Ipv4),
                mp(Afi::Ipv6),
                add_path(Afi::Ipv4, AddPathMode::Both),
                add_path(Afi::Ipv6, AddPathMode::Receive),
                Capability::ExtendedMessage,
                Capability::RouteRefresh,
            ],
        );
        let theirs = open(
            4_200_000_000,
            30,
            vec![
                mp(Afi::Ipv4),
                mp(Afi::Ipv6),
                add_path(Afi::Ipv4, AddPathMode::Receive),
                add_path(Afi::Ipv6, AddPathMode::Receive),
                Capability::RouteRefreshCisco,
            ],
        );
        let n = SessionContext::negotiate(&ours, &theirs);
        assert_eq!(n.families, vec![Family::Ipv4Unicast, Family::Ipv6Unicast]);
        assert!(n.context.four_octet_as);
        // v4: we do both, they only receive → we send path ids, we do not receive them.
        assert!(n.context.add_path_tx_v4 && !n.context.add_path_rx_v4);
        // v6: both only receive → nothing.
        assert!(!n.context.add_path_tx_v6 && !n.context.add_path_rx_v6);
        assert!(!n.context.extended_message, "only we announced it");
        assert_eq!(n.peer_asn, Asn(4_200_000_000));
        assert_eq!(n.hold_time, 30);
        assert!(n.route_refresh);
        assert!(!n.enhanced_route_refresh);
    }

    #[test]
    fn no_multiprotocol_capability_means_ipv4_unicast() {
        let ours = open(65001, 90, vec![mp(Afi::Ipv4), mp(Afi::Ipv6)]);
        let mut theirs = open(65002, 90, vec![]);
        theirs.capabilities.clear(); // an old speaker: no capabilities at all
        let n = SessionContext::negotiate(&ours, &theirs);
        assert_eq!(n.families, vec![Family::Ipv4Unicast]);
        assert!(!n.context.four_octet_as);
        assert_eq!(n.peer_asn, Asn(65002));
    }

    #[test]
    fn add_path_needs_the_family_negotiated() {
        let ours = open(
            1,
            90,
            vec![mp(Afi::Ipv6), add_path(Afi::Ipv6, AddPathMode::Both)],
        );
        let theirs = open(
            2,
            90,
            vec![mp(Afi::Ipv4), add_path(Afi::Ipv6, AddPathMode::Both)],
        );
        let n = SessionContext::negotiate(&ours, &theirs);
        assert!(n.families.is_empty());
        assert_eq!(
            n.context,
            SessionContext {
                four_octet_as: true,
                ..SessionContext::default()
            }
        );
    }
}
