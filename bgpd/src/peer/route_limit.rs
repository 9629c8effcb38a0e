//! A prefix limit's `restart` / `disable` action on the session (BIRD's `bgp_shutdown` for
//! `PDC_RX_LIMIT_HIT` / `PDC_IN_LIMIT_HIT`), ordered by the RIB actor.

use bgp_proto::notification::{cease_subcode, code};
use bgp_proto::{Family, Notification};
use tracing::warn;

use super::PeerTask;
use crate::fsm::{Input, State};
use crate::status::LastError;

impl PeerTask {
    /// See [`super::PeerCommand::RouteLimit`].
    pub(super) fn route_limit(&mut self, family: Family, max: u32, disable: bool) {
        if self.session.state() != State::Established {
            return;
        }
        warn!(
            event = "route_limit_exceeded",
            %family,
            limit = max,
            action = if disable { "disable" } else { "restart" },
            "Route limit exceeded, shutting down"
        );
        let n = Notification::new(
            code::CEASE,
            cease_subcode::MAX_PREFIXES_REACHED,
            route_limit_data(family, max),
        );
        if disable {
            self.input(Input::Stop(n));
            self.status.enabled(false);
        } else {
            self.input(Input::Reset(n));
        }
        // BIRD: "Automatic shutdown: Route limit exceeded" rather than the NOTIFICATION sent.
        self.status.error(LastError::RouteLimit);
    }
}

/// The data of Cease / Maximum Number of Prefixes Reached: AFI (2 octets), SAFI (1) and the
/// upper bound (4) (RFC 4486 §4).
pub fn route_limit_data(family: Family, max: u32) -> Vec<u8> {
    let mut d = Vec::with_capacity(7);
    d.extend_from_slice(&family.afi().to_u16().to_be_bytes());
    d.push(family.safi().to_u8());
    d.extend_from_slice(&max.to_be_bytes());
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4486_max_prefixes_data_is_afi_safi_and_the_limit() {
        assert_eq!(
            route_limit_data(Family::Ipv4Unicast, 5),
            [0, 1, /* AFI IPv4 */ 1, /* SAFI unicast */ 0, 0, 0, 5]
        );
        assert_eq!(
            route_limit_data(Family::Ipv6Unicast, 0x0102_0304),
            [0, 2, 1, 1, 2, 3, 4]
        );
    }
}
