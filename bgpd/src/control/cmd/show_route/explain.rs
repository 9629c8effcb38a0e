//! The line `show route all` adds under a route that is not the best of its network: the
//! step of the decision where it lost (RFC 4271 §9.1.2.2, our local-route, ECMP and RFC 4456
//! steps, or BIRD's preference between protocols), the two values compared, and the winner:
//! `\tNot best: lost on LOCAL_PREF (100 < 200) to 10.99.0.2`.
//!
//! Calico's route parser (`node/pkg/status/populators/route.go`) sends only `show route`, never
//! `all`; even so the line carries none of the words it classifies routes by (` via `, ` dev `,
//! ` blackhole `, ` unreachable `), as BIRD's own attribute lines do not.

use bgp_proto::attribute::Origin;
use rib::{DecisionKeys, LossReason};

use crate::route_view::NotBest;

fn origin(o: Origin) -> &'static str {
    match o {
        Origin::Igp => "IGP",
        Origin::Egp => "EGP",
        Origin::Incomplete => "Incomplete",
    }
}

fn cost(c: Option<u32>) -> String {
    c.map_or_else(|| "unknown".into(), |c| c.to_string())
}

/// The step's name and the compared values, this path's first.
fn step(reason: LossReason, this: &DecisionKeys, best: &DecisionKeys) -> (&'static str, String) {
    match reason {
        LossReason::Ineligible(why) => ("eligibility", format!("{why:?}")),
        LossReason::NotLocal => ("origination", "learned < local".into()),
        LossReason::LocalPref => (
            "LOCAL_PREF",
            format!("{} < {}", this.local_pref, best.local_pref),
        ),
        LossReason::AsPathLength => (
            "AS_PATH length",
            format!("{} > {}", this.as_path_len, best.as_path_len),
        ),
        LossReason::Origin => (
            "ORIGIN",
            format!("{} > {}", origin(this.origin), origin(best.origin)),
        ),
        // RFC 4271 §9.1.2.2 (c): beaten by a lower MED from the same neighbour AS, which need
        // not be the best path's.
        LossReason::Med if this.neighbour_as == best.neighbour_as => {
            ("MED", format!("{} > {}", this.med, best.med))
        }
        LossReason::Med => (
            "MED",
            format!("{}, a lower one from AS{}", this.med, this.neighbour_as),
        ),
        LossReason::IbgpVsEbgp => ("eBGP over iBGP", "internal < external".into()),
        LossReason::IgpCost => (
            "IGP metric",
            format!("{} > {}", cost(this.igp_cost), cost(best.igp_cost)),
        ),
        LossReason::RouterId => (
            "router ID",
            format!("{} > {}", this.router_id, best.router_id),
        ),
        LossReason::ClusterListLength => (
            "CLUSTER_LIST length",
            format!("{} > {}", this.cluster_list_len, best.cluster_list_len),
        ),
        LossReason::PeerAddress => (
            "neighbor address",
            format!("{} > {}", this.peer_addr, best.peer_addr),
        ),
        LossReason::PathId => ("path ID", format!("{} > {}", this.path_id, best.path_id)),
    }
}

/// The line (with its leading tab).
pub fn line(n: &NotBest) -> String {
    match n {
        NotBest::Preference { this, best, winner } => {
            format!("\tNot best: lost on preference ({this} < {best}) to {winner}")
        }
        NotBest::Unresolved => "\tNot best: next hop not resolvable".into(),
        NotBest::Decision {
            reason,
            this,
            best,
            winner,
            winner_addr,
            in_ecmp,
        } => {
            let (name, values) = step(*reason, this, best);
            let to = winner_addr.map_or_else(|| winner.clone(), |a| a.to_string());
            if *in_ecmp {
                format!("\tNot best: multipath member, after {to} on {name} ({values})")
            } else {
                format!("\tNot best: lost on {name} ({values}) to {to}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgp_proto::Asn;
    use std::net::{IpAddr, Ipv4Addr};

    fn keys(n: u8) -> DecisionKeys {
        DecisionKeys {
            local: false,
            local_pref: 100,
            as_path_len: 1,
            origin: Origin::Igp,
            neighbour_as: Asn(65000 + u32::from(n)),
            med: 0,
            external: true,
            igp_cost: Some(0),
            router_id: Ipv4Addr::new(10, 99, 0, n),
            cluster_list_len: 0,
            peer_addr: IpAddr::V4(Ipv4Addr::new(10, 99, 0, n)),
            path_id: 0,
        }
    }

    fn decision(reason: LossReason, this: DecisionKeys, best: DecisionKeys) -> String {
        line(&NotBest::Decision {
            reason,
            this,
            best,
            winner: "Mesh_10_99_0_2".into(),
            winner_addr: Some(best.peer_addr),
            in_ecmp: false,
        })
    }

    #[test]
    fn each_step_names_itself_the_values_compared_and_the_winner() {
        let best = DecisionKeys {
            local_pref: 200,
            ..keys(2)
        };
        assert_eq!(
            decision(LossReason::LocalPref, keys(3), best),
            "\tNot best: lost on LOCAL_PREF (100 < 200) to 10.99.0.2"
        );
        let long = DecisionKeys {
            as_path_len: 3,
            ..keys(3)
        };
        assert_eq!(
            decision(LossReason::AsPathLength, long, keys(2)),
            "\tNot best: lost on AS_PATH length (3 > 1) to 10.99.0.2"
        );
        let inc = DecisionKeys {
            origin: Origin::Incomplete,
            ..keys(3)
        };
        assert_eq!(
            decision(LossReason::Origin, inc, keys(2)),
            "\tNot best: lost on ORIGIN (Incomplete > IGP) to 10.99.0.2"
        );
        let same_as = |n, med| DecisionKeys {
            med,
            neighbour_as: Asn(65001),
            ..keys(n)
        };
        assert_eq!(
            decision(LossReason::Med, same_as(3, 20), same_as(2, 5)),
            "\tNot best: lost on MED (20 > 5) to 10.99.0.2"
        );
        assert_eq!(
            decision(LossReason::Med, same_as(3, 20), keys(2)),
            "\tNot best: lost on MED (20, a lower one from AS65001) to 10.99.0.2"
        );
        assert_eq!(
            decision(LossReason::IbgpVsEbgp, keys(3), keys(2)),
            "\tNot best: lost on eBGP over iBGP (internal < external) to 10.99.0.2"
        );
        let far = DecisionKeys {
            igp_cost: Some(20),
            ..keys(3)
        };
        assert_eq!(
            decision(LossReason::IgpCost, far, keys(2)),
            "\tNot best: lost on IGP metric (20 > 0) to 10.99.0.2"
        );
        assert_eq!(
            decision(LossReason::RouterId, keys(3), keys(2)),
            "\tNot best: lost on router ID (10.99.0.3 > 10.99.0.2) to 10.99.0.2"
        );
        // A multipath member: forwarded, ranked after the best by a tie-break.
        assert_eq!(
            line(&NotBest::Decision {
                reason: LossReason::RouterId,
                this: keys(3),
                best: keys(2),
                winner: "Mesh_10_99_0_2".into(),
                winner_addr: Some(keys(2).peer_addr),
                in_ecmp: true,
            }),
            "\tNot best: multipath member, after 10.99.0.2 on router ID (10.99.0.3 > 10.99.0.2)"
        );
        // Our own route wins: named by its protocol.
        assert_eq!(
            line(&NotBest::Decision {
                reason: LossReason::NotLocal,
                this: keys(3),
                best: keys(0),
                winner: "static1".into(),
                winner_addr: None,
                in_ecmp: false,
            }),
            "\tNot best: lost on origination (learned < local) to static1"
        );
        assert_eq!(
            line(&NotBest::Preference {
                this: 100,
                best: 240,
                winner: "direct1".into()
            }),
            "\tNot best: lost on preference (100 < 240) to direct1"
        );
    }

    #[test]
    fn lines_carry_none_of_the_words_calicos_route_parser_classifies_by() {
        let all = [
            decision(LossReason::LocalPref, keys(3), keys(2)),
            line(&NotBest::Unresolved),
            line(&NotBest::Preference {
                this: 100,
                best: 240,
                winner: "direct1".into(),
            }),
        ];
        for l in all {
            for w in [" via ", " dev ", " blackhole ", " unreachable ", "] *"] {
                assert!(!l.contains(w), "{l:?} contains {w:?}");
            }
        }
    }
}
