//! Prefix limits (BIRD's `receive limit` / `import limit`): the RIB counts and blocks
//! ([`rib::limit`]); the actor sets the configured limits on it, publishes their states for
//! the control socket (`[HIT]`), logs a crossing as BIRD does and asks the peer task to end the
//! session for the `restart` and `disable` actions.

use std::collections::BTreeMap;

use bgp_proto::Family;
use conf::{LimitAction, RouteLimits};
use rib::{FamilyLimits, LimitKind, PeerId, RouteLimit};
use tracing::warn;

use super::RibActor;
use crate::peer::PeerCommand;

const FAMILIES: [Family; 2] = [Family::Ipv4Unicast, Family::Ipv6Unicast];
const KINDS: [LimitKind; 2] = [LimitKind::Receive, LimitKind::Import];

/// The configured limits as the RIB takes them (index 0: IPv4, 1: IPv6).
pub(super) fn rib_limits(limits: &BTreeMap<Family, RouteLimits>) -> [FamilyLimits; 2] {
    let mut out = [FamilyLimits::default(); 2];
    let one = |l: Option<conf::RouteLimit>| {
        l.map(|l| RouteLimit {
            max: l.max,
            blocks: l.action != LimitAction::Warn,
        })
    };
    for (f, l) in limits {
        out[rib::limit::family_index(*f)] = FamilyLimits {
            receive: one(l.receive),
            import: one(l.import),
        };
    }
    out
}

fn action(limits: &BTreeMap<Family, RouteLimits>, f: Family, k: LimitKind) -> Option<LimitAction> {
    let l = limits.get(&f)?;
    match k {
        LimitKind::Receive => l.receive,
        LimitKind::Import => l.import,
    }
    .map(|l| l.action)
}

impl RibActor {
    /// Gives the RIB `limits` for peer `id` unless it has them already: a reload that changes
    /// them resets their states and checks the held routes at once (BIRD's
    /// `proto_verify_limits`); an unrelated reload leaves a blocked limit blocked.
    pub(super) fn configure_limits(&mut self, id: PeerId, limits: &BTreeMap<Family, RouteLimits>) {
        let Some(slot) = self.peers.get_mut(&id) else {
            return;
        };
        if slot.limits == *limits && slot.limits_set {
            return;
        }
        slot.limits = limits.clone();
        slot.limits_set = true;
        if let Err(e) = self.rib.set_limits(id, rib_limits(limits)) {
            warn!(%id, error = %e, "prefix limits not set");
        }
        self.limit_hits(id);
    }

    /// Acts on the limits the RIB found crossed for `id` and publishes every limit state;
    /// returns how many accepted routes a blocked import limit kept out (BIRD counts them as
    /// ignored, not accepted).
    pub(super) fn limit_hits(&mut self, id: PeerId) -> u64 {
        let (hits, blocked) = self.rib.take_limit_hits(id);
        let Some(slot) = self.peers.get(&id) else {
            return blocked;
        };
        if slot.limits.is_empty() {
            return blocked;
        }
        for h in hits {
            let Some(action) = action(&slot.limits, h.family, h.kind) else {
                continue;
            };
            // BIRD: "Protocol NAME hits route import limit (N), action: A".
            warn!(
                event = "route_limit_hit",
                protocol = %slot.name,
                family = %h.family,
                direction = h.kind.name(),
                limit = h.limit.max,
                routes = h.count,
                action = action.name(),
                "protocol hits route limit"
            );
            let ends = matches!(action, LimitAction::Restart | LimitAction::Disable);
            if h.first && ends && slot.session.is_some() {
                let cmd = PeerCommand::RouteLimit {
                    family: h.family,
                    max: h.limit.max,
                    disable: action == LimitAction::Disable,
                };
                // Never wait on a peer task from the actor (it may be waiting on us); the
                // limit stays blocked meanwhile, so nothing grows if this is lost.
                if let Err(e) = slot.commands.try_send(cmd) {
                    warn!(event = "route_limit_action_lost", protocol = %slot.name,
                        error = %e, "session not ended for the route limit");
                }
            }
        }
        for f in FAMILIES {
            for k in KINDS {
                slot.stats
                    .set_limit_state(f, k, self.rib.limit_state(id, f, k));
            }
        }
        blocked
    }
}
