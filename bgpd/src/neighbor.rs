//! From a configured neighbor (`conf`) to what the session FSM needs: timers in seconds and the
//! capabilities of our OPEN.

use std::time::Duration;

use bgp_proto::capability::{
    AddPath, AddPathMode, Capability, ExtendedNextHop, GrFamily, LlgrFamily,
};
use bgp_proto::Afi;
use conf::{Config, Neighbor};

use crate::fsm::SessionConfig;

fn secs_u16(d: Duration) -> u16 {
    u16::try_from(d.as_secs()).unwrap_or(u16::MAX)
}

/// The capabilities we announce to `n` (RFC 5492): multiprotocol per family (RFC 4760), route
/// refresh (RFC 2918) and enhanced route refresh (RFC 7313), ADD-PATH per configured family
/// (RFC 7911), graceful restart (RFC 4724) and LLGR when configured. The 4-octet AS capability
/// (RFC 6793) is added by `Open::new`. Extended messages (RFC 8654) when `extended_messages`.
pub fn capabilities(n: &Neighbor) -> Vec<Capability> {
    let mut caps: Vec<Capability> = n
        .families
        .iter()
        .map(|f| Capability::Multiprotocol {
            afi: f.afi(),
            safi: f.safi(),
        })
        .collect();
    caps.push(Capability::RouteRefresh);
    caps.push(Capability::EnhancedRouteRefresh);
    if n.extended_messages {
        caps.push(Capability::ExtendedMessage);
    }
    if n.extended_next_hop {
        // RFC 8950 §3: IPv4 unicast NLRI with IPv6 next hops.
        caps.push(Capability::ExtendedNextHop(vec![ExtendedNextHop {
            nlri_afi: Afi::Ipv4,
            nlri_safi: 1,
            next_hop_afi: Afi::Ipv6,
        }]));
    }
    let add_path: Vec<AddPath> = n
        .add_path
        .iter()
        .map(|(f, m)| AddPath {
            afi: f.afi(),
            safi: f.safi(),
            mode: match m {
                conf::AddPathMode::Receive => AddPathMode::Receive,
                conf::AddPathMode::Send => AddPathMode::Send,
                conf::AddPathMode::Both => AddPathMode::Both,
            },
        })
        .collect();
    if !add_path.is_empty() {
        caps.push(Capability::AddPath(add_path));
    }
    let gr = n.graceful_restart;
    if gr.enabled {
        caps.push(Capability::GracefulRestart(
            bgp_proto::capability::GracefulRestart {
                restart_state: false,
                notification: false,
                restart_time: secs_u16(gr.restart_time).min(4095),
                families: n
                    .families
                    .iter()
                    .map(|f| GrFamily {
                        afi: f.afi(),
                        safi: f.safi(),
                        forwarding_preserved: false,
                    })
                    .collect(),
            },
        ));
        if !gr.long_lived_stale_time.is_zero() {
            let stale = u32::try_from(gr.long_lived_stale_time.as_secs())
                .unwrap_or(u32::MAX)
                .min(0xff_ffff);
            caps.push(Capability::LongLivedGracefulRestart(
                n.families
                    .iter()
                    .map(|f| LlgrFamily {
                        afi: f.afi(),
                        safi: f.safi(),
                        forwarding_preserved: false,
                        stale_time: stale,
                    })
                    .collect(),
            ));
        } else if gr.long_lived_aware {
            // RFC 9494 §3: the capability without families: we understand LLGR (BIRD's
            // `aware`, which its `Neighbor caps` shows as llgr-aware).
            caps.push(Capability::LongLivedGracefulRestart(Vec::new()));
        }
    }
    caps
}

/// The FSM configuration of neighbor `n` under `config`.
pub fn session_config(config: &Config, n: &Neighbor) -> SessionConfig {
    SessionConfig {
        local_as: n.local_as.unwrap_or(config.local_as),
        router_id: config.router_id,
        remote_as: n.remote_as,
        hold_time: secs_u16(n.timers.hold),
        keepalive: secs_u16(n.timers.keepalive),
        connect_retry: n.timers.connect_retry,
        connect_delay: n.timers.connect_delay,
        error_wait_min: n.timers.error_wait_min,
        error_wait_max: n.timers.error_wait_max,
        passive: n.passive,
        capabilities: capabilities(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_neighbor_maps_timers_and_capabilities() {
        let text = "router_id = \"10.0.0.1\"\nlocal_as = 64512\n[[neighbors]]\nname = \"p\"\n\
                    address = \"10.0.0.2\"\nremote_as = 65001\nhold_time = 9\nkeepalive_time = 3\n\
                    families = [\"ipv4\", \"ipv6\"]\ngraceful_restart = true\n";
        let config = Config::from_str(text, "t.toml").expect("valid");
        let s = session_config(&config, &config.neighbors[0]);
        assert!(
            !s.capabilities.contains(&Capability::ExtendedMessage),
            "off by default"
        );
        assert_eq!((s.hold_time, s.keepalive), (9, 3));
        assert_eq!(s.remote_as.0, 65001);
        assert!(s.capabilities.contains(&Capability::RouteRefresh));
        assert_eq!(
            s.capabilities
                .iter()
                .filter(|c| matches!(c, Capability::Multiprotocol { .. }))
                .count(),
            2
        );
        assert!(s
            .capabilities
            .iter()
            .any(|c| matches!(c, Capability::GracefulRestart(g) if g.families.len() == 2)));
        // TOML: no LLGR capability without a stale time.
        assert!(!s
            .capabilities
            .iter()
            .any(|c| matches!(c, Capability::LongLivedGracefulRestart(_))));
        // BIRD's default with GR on: the LLGR capability without families (llgr-aware).
        let mut n = config.neighbors[0].clone();
        n.graceful_restart.long_lived_aware = true;
        assert!(capabilities(&n)
            .iter()
            .any(|c| matches!(c, Capability::LongLivedGracefulRestart(f) if f.is_empty())));
    }

    #[test]
    fn extended_messages_switch_announces_rfc_8654() {
        let text = "router_id = \"10.0.0.1\"\nlocal_as = 64512\n[[neighbors]]\nname = \"p\"\n\
                    address = \"10.0.0.2\"\nremote_as = 65001\nextended_messages = true\n";
        let config = Config::from_str(text, "t.toml").expect("valid");
        let s = session_config(&config, &config.neighbors[0]);
        assert!(s.capabilities.contains(&Capability::ExtendedMessage));
    }

    #[test]
    fn extended_next_hop_switch_announces_rfc_8950_for_ipv4() {
        let text = "router_id = \"10.0.0.1\"\nlocal_as = 64512\n[[neighbors]]\nname = \"p\"\n\
                    address = \"fd99::2\"\nremote_as = 65001\nextended_next_hop = true\n";
        let config = Config::from_str(text, "t.toml").expect("valid");
        let s = session_config(&config, &config.neighbors[0]);
        let want = Capability::ExtendedNextHop(vec![ExtendedNextHop {
            nlri_afi: Afi::Ipv4,
            nlri_safi: 1,
            next_hop_afi: Afi::Ipv6,
        }]);
        assert!(s.capabilities.contains(&want), "{:?}", s.capabilities);
        let mut n = config.neighbors[0].clone();
        n.extended_next_hop = false;
        assert!(!capabilities(&n).contains(&want));
    }
}
